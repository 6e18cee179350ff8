/* slab.c --- fixed-size object allocator for cache entries: 40 bytes each, no per-object overhead */
#include <stdlib.h>

#include "es_int.h"

/*
 * malloc() would round a 40-byte entry up to 48 and add its own header, so
 * entries are carved out of large chunks, as the kernel's slab cache does.
 * The chunk size leaves room for malloc's header within 64 KiB.
 *
 * Under AddressSanitizer every entry is its own allocation instead, so that
 * a use after free (the kernel's 768d612f7982) is caught where a slab's
 * free list would hide it; nr_chunks then counts objects.
 */
#define CHUNK_BYTES	(65536 - 32)

#if defined(__SANITIZE_ADDRESS__)
#define ES_SLAB_PER_OBJECT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ES_SLAB_PER_OBJECT 1
#endif
#endif

struct chunk {
	struct chunk *next;
	uint64_t pad;		/* keeps objects 16-byte aligned */
};

void es_slab_init(struct es_slab *s)
{
	s->chunks = NULL;
	s->free_list = NULL;
	s->bump = s->bump_end = NULL;
	s->nr_chunks = 0;
}

void es_slab_release(struct es_slab *s)
{
	struct chunk *c = s->chunks, *next;

	while (c) {
		next = c->next;
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
		struct chunk *c = malloc(CHUNK_BYTES);
		size_t objs = (CHUNK_BYTES - sizeof(*c)) / ES_ENTRY_SIZE;

		if (!c)
			return NULL;
		c->next = s->chunks;
		s->chunks = c;
		s->nr_chunks++;
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

	return s->nr_chunks * (uint64_t)CHUNK_BYTES;
}

#endif /* ES_SLAB_PER_OBJECT */
