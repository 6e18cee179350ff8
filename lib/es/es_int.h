/* es_int.h --- private layout and helpers shared by the extent status cache's files */
#ifndef ESCK_ES_INT_H
#define ESCK_ES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "es.h"
#include "rbtree.h"

/*
 * One entry: the tree link (24 bytes) and 16 bytes of payload.  As in the
 * kernel, the five status bits live in the top of the 64-bit physical field
 * and the low 59 bits hold the block; DELAYED and HOLE store all ones there.
 */
struct es_node {
	struct es_rb_node rb;
	uint32_t lblk;
	uint32_t len;
	uint64_t pblk_status;
};

#define ES_STATUS_SHIFT	59
#define ES_PBLK_FIELD	((UINT64_C(1) << ES_STATUS_SHIFT) - 1)

_Static_assert(sizeof(struct es_node) <= ES_ENTRY_SIZE,
	       "an extent status entry must fit the kernel's 40 bytes");

static inline struct es_node *es_node_of(struct es_rb_node *rb)
{
	return (struct es_node *)rb;	/* rb is the first member */
}

static inline unsigned int node_status(const struct es_node *n)
{
	return (unsigned int)(n->pblk_status >> ES_STATUS_SHIFT);
}

static inline unsigned int node_type(const struct es_node *n)
{
	return node_status(n) & ES_TYPE_MASK;
}

static inline int node_mapped(const struct es_node *n)
{
	return node_type(n) & (ES_WRITTEN | ES_UNWRITTEN);
}

static inline uint64_t node_pblk(const struct es_node *n)
{
	return node_mapped(n) ? (n->pblk_status & ES_PBLK_FIELD) : ES_PBLK_NONE;
}

static inline uint32_t node_end(const struct es_node *n)
{
	return n->lblk + n->len - 1;
}

static inline void node_set(struct es_node *n, uint32_t lblk, uint32_t len,
			    uint64_t pblk, unsigned int status)
{
	n->lblk = lblk;
	n->len = len;
	if (!(status & (ES_WRITTEN | ES_UNWRITTEN)))
		pblk = ES_PBLK_FIELD;
	n->pblk_status = (pblk & ES_PBLK_FIELD) | ((uint64_t)status << ES_STATUS_SHIFT);
}

static inline void node_set_pblk(struct es_node *n, uint64_t pblk)
{
	n->pblk_status = (n->pblk_status & ~ES_PBLK_FIELD) | (pblk & ES_PBLK_FIELD);
}

static inline void node_or_status(struct es_node *n, unsigned int bits)
{
	n->pblk_status |= (uint64_t)bits << ES_STATUS_SHIFT;
}

static inline void node_clear_status(struct es_node *n, unsigned int bits)
{
	n->pblk_status &= ~((uint64_t)bits << ES_STATUS_SHIFT);
}

static inline struct es_node *node_next(const struct es_node *n)
{
	return es_node_of(es_rb_next(&n->rb));
}

static inline struct es_node *node_prev(const struct es_node *n)
{
	return es_node_of(es_rb_prev(&n->rb));
}

void es_tree_settle_pending(struct es_tree *t);

/*
 * Link the pending appends into the tree.  Readers take a const tree:
 * settling changes its shape, never what it holds.
 */
static inline void tree_settle(const struct es_tree *t)
{
	if (t->pending)
		es_tree_settle_pending((struct es_tree *)(uintptr_t)t);
}

static inline struct es_node *tree_first(const struct es_tree *t)
{
	tree_settle(t);
	return es_node_of(es_rb_first(t->root));
}

static inline void node_copy_out(const struct es_node *n, struct es_extent *es)
{
	es->lblk = n->lblk;
	es->len = n->len;
	es->pblk = node_pblk(n);
	es->status = node_status(n);
}

/* Could left and right (left before right) be one entry?  The kernel's rule. */
static inline int nodes_mergeable(const struct es_node *l, const struct es_node *r)
{
	if (node_type(l) != node_type(r))
		return 0;
	if ((uint64_t)l->lblk + l->len != r->lblk)
		return 0;
	if (node_mapped(l))
		return node_pblk(l) + l->len == node_pblk(r);
	return 1;
}

/* es.c */
struct es_node *es_tree_search(const struct es_tree *t, uint32_t lblk);
/* Unlink n from its tree, keep every counter right, and free it. */
void es_node_erase(struct es_tree *t, struct es_node *n);

/* cache.c: allocation, accounting, reclaim */
struct es_node *es_node_alloc(struct es_cache *c);
struct es_node *es_node_alloc_nofail(struct es_cache *c);
void es_node_free(struct es_cache *c, struct es_node *n);
void es_account_link(struct es_tree *t, const struct es_node *n);
void es_account_unlink(struct es_tree *t, const struct es_node *n);
void es_enforce_limit(struct es_cache *c, struct es_tree *self);

/* slab.c */
void es_slab_init(struct es_slab *s);
void es_slab_release(struct es_slab *s);
void *es_slab_alloc(void *priv);
void es_slab_free(void *priv, void *obj);
uint64_t es_slab_footprint(void *priv);
int es_slab_free_all(void *priv, uint64_t n);

/*
 * What es_node_alloc() would return when that is the next object of the
 * chunk the cache's own slab is carving (no fault injection, no freed object
 * to reuse first), counted as it counts it; otherwise NULL and nothing done.
 * In line, for the loads that take a million entries one after the other.
 */
static inline struct es_node *es_node_alloc_bump(struct es_cache *c)
{
	struct es_slab *s = &c->slab;
	char *obj = s->bump;

	if (c->fault || c->alloc.alloc != es_slab_alloc || c->alloc.priv != s ||
	    s->free_list || obj == s->bump_end)
		return NULL;
	c->st.alloc_attempts++;
	s->bump = obj + ES_ENTRY_SIZE;
	s->live++;
	return (struct es_node *)(void *)obj;
}

#endif /* ESCK_ES_INT_H */
