/* slab.c --- fixed-size object allocator for cache entries: 40 bytes each, no per-object overhead */
#include <stdlib.h>
#include <sys/mman.h>

#include "es_int.h"

/*
 * malloc() would round a 40-byte entry up to 48 and add its own header, so
 * entries are carved out of large chunks, as the kernel's slab cache does.
 * Chunks double from 64 KiB (a small inode costs little) to 2 MiB, so the
 * slack stays under 2 MiB however large the cache.  From 256 KiB on they
 * are mapped and populated up front: a cache of a million entries is 40 MB
 * of new memory, and taking it one page fault at a time costs more than
 * building the tree.  The 2 MiB chunks are aligned and offered to the
 * kernel as transparent huge pages: where faults are expensive (virtual
 * machines with shadow page tables) writing 40 MB into huge pages was
 * measured ten times faster than into populated small ones, and freeing
 * them is one page-table entry each.
 *
 * Under AddressSanitizer every entry is its own allocation instead, so that
 * a use after free (the kernel's 768d612f7982) is caught where a slab's
 * free list would hide it; nr_chunks then counts objects.  configure
 * --enable-valgrind-friendly (-DES_SLAB_PER_OBJECT=1) does the same for
 * valgrind, which cannot tell a freed entry from a live one in a chunk.
 */
#define CHUNK_MIN	(UINT64_C(64) << 10)
#define CHUNK_MAX	(UINT64_C(2) << 20)
#define CHUNK_MAP_MIN	(UINT64_C(256) << 10)	/* from here on: mmap, populated */
#define CHUNK_HUGE	(UINT64_C(2) << 20)	/* aligned, transparent huge pages */

#ifndef ES_SLAB_PER_OBJECT
#if defined(__SANITIZE_ADDRESS__)
#define ES_SLAB_PER_OBJECT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ES_SLAB_PER_OBJECT 1
#endif
#endif
#endif

struct chunk {
	struct chunk *next;
	uint64_t bytes;		/* the whole chunk; also keeps objects 16-byte aligned */
};

void es_slab_init(struct es_slab *s)
{
	s->chunks = s->last = s->cursor = NULL;
	s->free_list = NULL;
	s->bump = s->bump_end = NULL;
	s->nr_chunks = 0;
	s->footprint = 0;
	s->live = 0;
}

void es_slab_release(struct es_slab *s)
{
	struct chunk *c = s->chunks, *next;

	while (c) {
		next = c->next;
		if (c->bytes >= CHUNK_MAP_MIN)
			munmap(c, c->bytes);
		else
			free(c);
		c = next;
	}
	es_slab_init(s);
}

#ifdef ES_SLAB_PER_OBJECT

void *es_slab_alloc(void *priv)
{
	struct es_slab *s = priv;
	void *obj = malloc(ES_ENTRY_SIZE);

	if (obj)
		s->nr_chunks++;
	return obj;
}

/* Every object is its own allocation: each must be freed by name. */
int es_slab_free_all(void *priv, uint64_t n)
{
	(void)priv;
	(void)n;
	return 0;
}

void es_slab_free(void *priv, void *obj)
{
	struct es_slab *s = priv;

	s->nr_chunks--;
	free(obj);
}

uint64_t es_slab_footprint(void *priv)
{
	const struct es_slab *s = priv;

	return s->nr_chunks * (uint64_t)ES_ENTRY_SIZE;
}

#else

/*
 * A chunk of bytes (a multiple of CHUNK_HUGE) at a CHUNK_HUGE boundary, so
 * the kernel can back it with huge pages: map twice the size, trim both
 * ends.  Without transparent huge pages the advice fails harmlessly and the
 * chunk is populated in small pages, as the smaller chunks are.
 */
static void *map_huge(uint64_t bytes)
{
	uint64_t span = bytes + CHUNK_HUGE, head;
	char *m = mmap(NULL, span, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *start;

	if (m == MAP_FAILED)
		return NULL;
	head = (CHUNK_HUGE - (uintptr_t)m % CHUNK_HUGE) % CHUNK_HUGE;
	start = m + head;
	if (head)
		munmap(m, head);
	if (span - head - bytes)
		munmap(start + bytes, span - head - bytes);
#ifdef MADV_HUGEPAGE
	(void)madvise(start, bytes, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
	(void)madvise(start, bytes, MADV_POPULATE_WRITE);
#endif
	return start;
}

/* Carve c from its start. */
static void carve(struct es_slab *s, struct chunk *c)
{
	size_t objs = (c->bytes - sizeof(*c)) / ES_ENTRY_SIZE;

	s->cursor = c;
	s->bump = (char *)(c + 1);
	s->bump_end = s->bump + objs * ES_ENTRY_SIZE;
}

static struct chunk *new_chunk(struct es_slab *s)
{
	const struct chunk *last = s->last;
	uint64_t bytes = last ? last->bytes * 2 : CHUNK_MIN;
	struct chunk *c = NULL;

	if (bytes > CHUNK_MAX)
		bytes = CHUNK_MAX;
	if (bytes >= CHUNK_HUGE) {
		c = map_huge(bytes);
	} else if (bytes >= CHUNK_MAP_MIN) {
		void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (m != MAP_FAILED)
			c = m;
	} else {
		c = malloc(bytes);
	}
	if (!c)
		return NULL;
	c->next = NULL;
	c->bytes = bytes;
	if (s->last)
		((struct chunk *)s->last)->next = c;
	else
		s->chunks = c;
	s->last = c;
	s->nr_chunks++;
	s->footprint += bytes;
	return c;
}

void *es_slab_alloc(void *priv)
{
	struct es_slab *s = priv;
	void *obj;

	if (s->free_list) {
		obj = s->free_list;
		s->free_list = *(void **)obj;
		s->live++;
		return obj;
	}
	if (s->bump == s->bump_end) {
		/* chunks after the cursor are free again after es_slab_free_all() */
		struct chunk *c = s->cursor ? ((struct chunk *)s->cursor)->next : s->chunks;

		if (!c)
			c = new_chunk(s);
		if (!c)
			return NULL;
		carve(s, c);
	}
	obj = s->bump;
	s->bump += ES_ENTRY_SIZE;
	s->live++;
	return obj;
}

void es_slab_free(void *priv, void *obj)
{
	struct es_slab *s = priv;

	*(void **)obj = s->free_list;
	s->free_list = obj;
	s->live--;
}

/* Keep every chunk, carve them again from the first. */
int es_slab_free_all(void *priv, uint64_t n)
{
	struct es_slab *s = priv;

	if (n != s->live || !s->chunks)
		return 0;
	s->free_list = NULL;
	s->live = 0;
	carve(s, s->chunks);
	return 1;
}

uint64_t es_slab_footprint(void *priv)
{
	const struct es_slab *s = priv;

	return s->footprint;
}

#endif /* ES_SLAB_PER_OBJECT */
