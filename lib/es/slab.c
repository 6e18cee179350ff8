/* slab.c --- fixed-size object allocator for cache entries: 40 bytes each, no per-object overhead */
#include <stdlib.h>
#include <sys/mman.h>

#include "es_int.h"

/*
 * malloc() would round a 40-byte entry up to 48 and add its own header, so
 * entries are carved out of large chunks, as the kernel's slab cache does.
 * Chunks double from 64 KiB (a small inode costs little) to 256 KiB (the
 * slack stays under 256 KiB however large the cache).  Chunks of 256 KiB
 * are mapped with MAP_POPULATE: a cache of a million entries is 40 MB of new
 * memory, and taking it one page fault at a time costs more than building
 * the tree where faults are expensive (in virtual machines, ten times more
 * than populating the mapping in one call).
 *
 * Under AddressSanitizer every entry is its own allocation instead, so that
 * a use after free (the kernel's 768d612f7982) is caught where a slab's
 * free list would hide it; nr_chunks then counts objects.
 */
#define CHUNK_MIN	(UINT64_C(64) << 10)
#define CHUNK_MAX	(UINT64_C(256) << 10)
#define CHUNK_MAP_MIN	(UINT64_C(256) << 10)	/* from here on: mmap, populated */

#if defined(__SANITIZE_ADDRESS__)
#define ES_SLAB_PER_OBJECT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ES_SLAB_PER_OBJECT 1
#endif
#endif

struct chunk {
	struct chunk *next;
	uint64_t bytes;		/* the whole chunk; also keeps objects 16-byte aligned */
};

void es_slab_init(struct es_slab *s)
{
	s->chunks = NULL;
	s->free_list = NULL;
	s->bump = s->bump_end = NULL;
	s->nr_chunks = 0;
	s->footprint = 0;
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

void *es_slab_alloc(void *priv)
{
	struct es_slab *s = priv;
	void *obj;

	if (s->free_list) {
		obj = s->free_list;
		s->free_list = *(void **)obj;
		return obj;
	}
	if (s->bump == s->bump_end) {
		uint64_t bytes = s->chunks ? ((struct chunk *)s->chunks)->bytes * 2 : CHUNK_MIN;
		struct chunk *c = NULL;
		size_t objs;

		if (bytes > CHUNK_MAX)
			bytes = CHUNK_MAX;
		if (bytes >= CHUNK_MAP_MIN) {
			void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

			if (m != MAP_FAILED)
				c = m;
		} else {
			c = malloc(bytes);
		}
		if (!c)
			return NULL;
		c->next = s->chunks;
		c->bytes = bytes;
		s->chunks = c;
		s->nr_chunks++;
		s->footprint += bytes;
		objs = (bytes - sizeof(*c)) / ES_ENTRY_SIZE;
		s->bump = (char *)(c + 1);
		s->bump_end = s->bump + objs * ES_ENTRY_SIZE;
	}
	obj = s->bump;
	s->bump += ES_ENTRY_SIZE;
	return obj;
}

void es_slab_free(void *priv, void *obj)
{
	struct es_slab *s = priv;

	*(void **)obj = s->free_list;
	s->free_list = obj;
}

uint64_t es_slab_footprint(void *priv)
{
	const struct es_slab *s = priv;

	return s->footprint;
}

#endif /* ES_SLAB_PER_OBJECT */
