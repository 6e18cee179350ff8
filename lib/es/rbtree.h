/* rbtree.h --- an intrusive red-black tree with the colour packed into the parent pointer */
#ifndef ESCK_RBTREE_H
#define ESCK_RBTREE_H

#include <stddef.h>
#include <stdint.h>

/*
 * 24 bytes on 64-bit: the parent pointer's low bit holds the colour (nodes
 * are at least 2-byte aligned), which is what keeps a cache entry at 40.
 */
struct es_rb_node {
	uintptr_t parent_color;
	struct es_rb_node *left, *right;
};

#define ES_RB_RED	0u
#define ES_RB_BLACK	1u

static inline struct es_rb_node *es_rb_parent(const struct es_rb_node *n)
{
	return (struct es_rb_node *)(n->parent_color & ~(uintptr_t)1);
}

static inline unsigned int es_rb_color(const struct es_rb_node *n)
{
	return n ? (unsigned int)(n->parent_color & 1) : ES_RB_BLACK;
}

/* Attach n as a red leaf at *link under parent; then call es_rb_insert_color(). */
static inline void es_rb_link(struct es_rb_node *n, struct es_rb_node *parent,
			      struct es_rb_node **link)
{
	n->parent_color = (uintptr_t)parent;
	n->left = n->right = NULL;
	*link = n;
}

void es_rb_insert_color(struct es_rb_node *n, struct es_rb_node **root);
void es_rb_erase(struct es_rb_node *n, struct es_rb_node **root);
struct es_rb_node *es_rb_first(struct es_rb_node *root);
struct es_rb_node *es_rb_last(struct es_rb_node *root);
struct es_rb_node *es_rb_next(const struct es_rb_node *n);
struct es_rb_node *es_rb_prev(const struct es_rb_node *n);
/* Link n as the in-order successor of pos (which must be in the tree). */
void es_rb_insert_after(struct es_rb_node *pos, struct es_rb_node *n,
			struct es_rb_node **root);
/*
 * A valid red-black tree of the n nodes of a list linked in order through
 * ->right (the list's own links are overwritten): O(n), no rotation.
 * Returns the root.
 */
struct es_rb_node *es_rb_build(struct es_rb_node *first, size_t n);
/* 0 if the red-black rules and parent links hold, else EUCLEAN and a message. */
int es_rb_verify(const struct es_rb_node *root, char *msg, size_t msglen);

#endif /* ESCK_RBTREE_H */
