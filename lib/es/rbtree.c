/* rbtree.c --- red-black balancing, erase and in-order walks for the extent status cache */
#include <errno.h>
#include <stdio.h>

#include "rbtree.h"

static inline void set_parent(struct es_rb_node *n, struct es_rb_node *p)
{
	n->parent_color = (uintptr_t)p | (n->parent_color & 1);
}

static inline void set_color(struct es_rb_node *n, unsigned int color)
{
	n->parent_color = (n->parent_color & ~(uintptr_t)1) | color;
}

static inline int is_red(const struct es_rb_node *n)
{
	return es_rb_color(n) == ES_RB_RED;
}

/* Make whatever pointed at old (its parent's slot, or the root) point at new. */
static void replace_child(struct es_rb_node **root, struct es_rb_node *parent,
			  struct es_rb_node *old, struct es_rb_node *new)
{
	if (!parent)
		*root = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

static void rotate_left(struct es_rb_node **root, struct es_rb_node *x)
{
	struct es_rb_node *y = x->right, *p = es_rb_parent(x);

	x->right = y->left;
	if (y->left)
		set_parent(y->left, x);
	set_parent(y, p);
	replace_child(root, p, x, y);
	y->left = x;
	set_parent(x, y);
}

static void rotate_right(struct es_rb_node **root, struct es_rb_node *x)
{
	struct es_rb_node *y = x->left, *p = es_rb_parent(x);

	x->left = y->right;
	if (y->right)
		set_parent(y->right, x);
	set_parent(y, p);
	replace_child(root, p, x, y);
	y->right = x;
	set_parent(x, y);
}

void es_rb_insert_color(struct es_rb_node *n, struct es_rb_node **root)
{
	struct es_rb_node *p, *g, *u;

	while ((p = es_rb_parent(n)) && is_red(p)) {
		g = es_rb_parent(p);	/* a red node is never the root */
		if (p == g->left) {
			u = g->right;
			if (is_red(u)) {
				set_color(p, ES_RB_BLACK);
				set_color(u, ES_RB_BLACK);
				set_color(g, ES_RB_RED);
				n = g;
				continue;
			}
			if (n == p->right) {
				rotate_left(root, p);
				n = p;
				p = es_rb_parent(n);
			}
			set_color(p, ES_RB_BLACK);
			set_color(g, ES_RB_RED);
			rotate_right(root, g);
		} else {
			u = g->left;
			if (is_red(u)) {
				set_color(p, ES_RB_BLACK);
				set_color(u, ES_RB_BLACK);
				set_color(g, ES_RB_RED);
				n = g;
				continue;
			}
			if (n == p->left) {
				rotate_right(root, p);
				n = p;
				p = es_rb_parent(n);
			}
			set_color(p, ES_RB_BLACK);
			set_color(g, ES_RB_RED);
			rotate_left(root, g);
		}
	}
	set_color(*root, ES_RB_BLACK);
}

/* Restore the black height after a black node left the subtree at x (maybe NULL). */
static void erase_fixup(struct es_rb_node *x, struct es_rb_node *parent,
			struct es_rb_node **root)
{
	struct es_rb_node *w;

	while (x != *root && !is_red(x)) {
		if (x == parent->left) {
			w = parent->right;
			if (is_red(w)) {
				set_color(w, ES_RB_BLACK);
				set_color(parent, ES_RB_RED);
				rotate_left(root, parent);
				w = parent->right;
			}
			/* x is one black short, so its sibling w is not NULL */
			/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
			if (!is_red(w->left) && !is_red(w->right)) {
				set_color(w, ES_RB_RED);
				x = parent;
				parent = es_rb_parent(x);
				continue;
			}
			if (!is_red(w->right)) {
				set_color(w->left, ES_RB_BLACK);
				set_color(w, ES_RB_RED);
				rotate_right(root, w);
				w = parent->right;
			}
			set_color(w, es_rb_color(parent));
			set_color(parent, ES_RB_BLACK);
			set_color(w->right, ES_RB_BLACK);
			rotate_left(root, parent);
		} else {
			w = parent->left;
			if (is_red(w)) {
				set_color(w, ES_RB_BLACK);
				set_color(parent, ES_RB_RED);
				rotate_right(root, parent);
				w = parent->left;
			}
			if (!is_red(w->left) && !is_red(w->right)) {
				set_color(w, ES_RB_RED);
				x = parent;
				parent = es_rb_parent(x);
				continue;
			}
			if (!is_red(w->left)) {
				set_color(w->right, ES_RB_BLACK);
				set_color(w, ES_RB_RED);
				rotate_left(root, w);
				w = parent->left;
			}
			set_color(w, es_rb_color(parent));
			set_color(parent, ES_RB_BLACK);
			set_color(w->left, ES_RB_BLACK);
			rotate_right(root, parent);
		}
		x = *root;
		break;
	}
	if (x)
		set_color(x, ES_RB_BLACK);
}

void es_rb_erase(struct es_rb_node *z, struct es_rb_node **root)
{
	struct es_rb_node *child, *parent;
	unsigned int removed_color;

	if (!z->left || !z->right) {
		child = z->left ? z->left : z->right;
		parent = es_rb_parent(z);
		removed_color = es_rb_color(z);
		if (child)
			set_parent(child, parent);
		replace_child(root, parent, z, child);
	} else {
		/* The successor y has no left child; it takes z's place and colour. */
		struct es_rb_node *y = z->right;

		while (y->left)
			y = y->left;
		removed_color = es_rb_color(y);
		child = y->right;
		parent = es_rb_parent(y);
		if (parent == z) {
			parent = y;
		} else {
			if (child)
				set_parent(child, parent);
			parent->left = child;
			y->right = z->right;
			set_parent(z->right, y);
		}
		y->left = z->left;
		set_parent(z->left, y);
		replace_child(root, es_rb_parent(z), z, y);
		y->parent_color = z->parent_color;
	}
	if (removed_color == ES_RB_BLACK)
		erase_fixup(child, parent, root);
}

struct es_rb_node *es_rb_first(struct es_rb_node *n)
{
	if (!n)
		return NULL;
	while (n->left)
		n = n->left;
	return n;
}

struct es_rb_node *es_rb_last(struct es_rb_node *n)
{
	if (!n)
		return NULL;
	while (n->right)
		n = n->right;
	return n;
}

struct es_rb_node *es_rb_next(const struct es_rb_node *n)
{
	struct es_rb_node *p;

	if (n->right)
		return es_rb_first(n->right);
	while ((p = es_rb_parent(n)) && n == p->right)
		n = p;
	return p;
}

struct es_rb_node *es_rb_prev(const struct es_rb_node *n)
{
	struct es_rb_node *p;

	if (n->left)
		return es_rb_last(n->left);
	while ((p = es_rb_parent(n)) && n == p->left)
		n = p;
	return p;
}

void es_rb_insert_after(struct es_rb_node *pos, struct es_rb_node *n,
			struct es_rb_node **root)
{
	if (!pos->right) {
		es_rb_link(n, pos, &pos->right);
	} else {
		struct es_rb_node *p = es_rb_first(pos->right);

		es_rb_link(n, p, &p->left);
	}
	es_rb_insert_color(n, root);
}

/*
 * Halving sizes leaves every empty link at depth floor(log2(n + 1)) or one
 * more, so the levels above red_depth are full: those nodes are black, and
 * the partial bottom level, if any, red.  Each path then counts red_depth
 * black nodes and no red node has a red child.
 *
 * n >= 1.  Only left subtrees recurse: a right subtree is the next turn of
 * the loop, and an empty one is no call at all, which more than halves the
 * cost of settling a bulk load.
 */
static struct es_rb_node *build(struct es_rb_node **cursor, size_t n,
				unsigned int depth, unsigned int red_depth)
{
	struct es_rb_node *root = NULL, *parent = NULL, *left, *node;
	size_t nleft;

	for (;;) {
		nleft = (n - 1) / 2;
		if (nleft > 1) {
			left = build(cursor, nleft, depth + 1, red_depth);
		} else if (nleft) {
			/* a leaf, a quarter of all nodes: no call */
			left = *cursor;
			*cursor = left->right;
			left->parent_color = depth + 1 == red_depth ? ES_RB_RED : ES_RB_BLACK;
			left->left = left->right = NULL;
		} else {
			left = NULL;
		}
		node = *cursor;
		*cursor = node->right;
		node->parent_color = (uintptr_t)parent |
				     (depth == red_depth ? ES_RB_RED : ES_RB_BLACK);
		node->left = left;
		if (left)
			left->parent_color |= (uintptr_t)node;
		if (parent)
			parent->right = node;
		else
			root = node;
		n -= nleft + 1;
		if (!n) {
			node->right = NULL;
			return root;
		}
		parent = node;
		depth++;
	}
}

struct es_rb_node *es_rb_build(struct es_rb_node *first, size_t n)
{
	unsigned int full = 0;

	while (((size_t)2 << full) - 1 <= n)
		full++;
	/* full: the number of complete levels; nodes below them are red. */
	return n ? build(&first, n, 0, full) : NULL;
}

/* Black height of the subtree, or -1 after writing the first violation found. */
static int verify_subtree(const struct es_rb_node *n, const struct es_rb_node *parent,
			  char *msg, size_t msglen)
{
	int lh, rh;

	if (!n)
		return 1;
	if (es_rb_parent(n) != parent) {
		snprintf(msg, msglen, "rbtree: node %p has a wrong parent link", (const void *)n);
		return -1;
	}
	if (is_red(n) && (is_red(n->left) || is_red(n->right))) {
		snprintf(msg, msglen, "rbtree: red node %p has a red child", (const void *)n);
		return -1;
	}
	lh = verify_subtree(n->left, n, msg, msglen);
	if (lh < 0)
		return -1;
	rh = verify_subtree(n->right, n, msg, msglen);
	if (rh < 0)
		return -1;
	if (lh != rh) {
		snprintf(msg, msglen, "rbtree: unequal black heights %d and %d under %p",
			 lh, rh, (const void *)n);
		return -1;
	}
	return lh + (is_red(n) ? 0 : 1);
}

int es_rb_verify(const struct es_rb_node *root, char *msg, size_t msglen)
{
	if (root && is_red(root)) {
		snprintf(msg, msglen, "rbtree: the root is red");
		return EUCLEAN;
	}
	return verify_subtree(root, NULL, msg, msglen) < 0 ? EUCLEAN : 0;
}
