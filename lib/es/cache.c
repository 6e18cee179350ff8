/* cache.c --- the cache of many trees: allocation, counters, limits and the kernel's reclaim */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "es_int.h"

/* Entries one limit-driven reclaim frees beyond the excess, so it runs rarely. */
#define ES_SHRINK_BATCH	128

void es_cache_init(struct es_cache *c)
{
	memset(c, 0, sizeof(*c));
	es_slab_init(&c->slab);
	c->alloc.alloc = es_slab_alloc;
	c->alloc.free = es_slab_free;
	c->alloc.footprint = es_slab_footprint;
	c->alloc.free_all = es_slab_free_all;
	c->alloc.priv = &c->slab;
	c->policy = ES_POLICY_NOFAIL;
}

void es_cache_release(struct es_cache *c)
{
	while (c->all_head)
		es_tree_release(c->all_head);
	es_slab_release(&c->slab);
}

void es_cache_set_policy(struct es_cache *c, enum es_policy policy)
{
	c->policy = policy;
}

void es_cache_set_fault(struct es_cache *c, struct es_fault *f)
{
	c->fault = f;
}

int es_cache_set_allocator(struct es_cache *c, const struct es_allocator *a)
{
	if (c->st.entries || !a || !a->alloc || !a->free)
		return EINVAL;
	c->alloc = *a;
	return 0;
}

void es_cache_set_limit(struct es_cache *c, uint64_t max_entries, uint64_t max_bytes)
{
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	es_enforce_limit(c, NULL);
}

struct es_node *es_node_alloc(struct es_cache *c)
{
	void *p = NULL;

	c->st.alloc_attempts++;
	if (!c->fault || !es_fault_should_fail(c->fault))
		p = c->alloc.alloc(c->alloc.priv);
	if (!p)
		c->st.alloc_failures++;
	return p;
}

/*
 * The retrying allocator of must-keep paths (GFP_KERNEL|__GFP_NOFAIL): only
 * called outside any half-done change, so waiting here is safe.  A real
 * shortage backs off briefly; an injected failure is simply tried again.
 */
struct es_node *es_node_alloc_nofail(struct es_cache *c)
{
	struct es_node *n;
	int injected;

	for (;;) {
		uint64_t before = c->fault ? c->fault->failures : 0;

		n = es_node_alloc(c);
		if (n)
			return n;
		injected = c->fault && c->fault->failures != before;
		if (!injected) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
}

void es_node_free(struct es_cache *c, struct es_node *n)
{
	c->alloc.free(c->alloc.priv, n);
}

/* ---- tree lists: circular, doubly linked, head pointer in the cache ---- */

enum which_list { RECLAIM_LIST, ALL_LIST };

static struct es_tree_link *link_of(struct es_tree *t, enum which_list w)
{
	return w == RECLAIM_LIST ? &t->reclaim_link : &t->all_link;
}

static void list_add_tail(struct es_tree **head, struct es_tree *t, enum which_list w)
{
	struct es_tree_link *l = link_of(t, w);

	if (!*head) {
		l->prev = l->next = t;
		*head = t;
		return;
	}
	l->next = *head;
	l->prev = link_of(*head, w)->prev;
	link_of(l->prev, w)->next = t;
	link_of(*head, w)->prev = t;
}

static void list_del(struct es_tree **head, struct es_tree *t, enum which_list w)
{
	struct es_tree_link *l = link_of(t, w);

	if (l->next == t) {
		*head = NULL;
	} else {
		link_of(l->prev, w)->next = l->next;
		link_of(l->next, w)->prev = l->prev;
		if (*head == t)
			*head = l->next;
	}
	l->prev = l->next = NULL;
}

void es_account_link(struct es_tree *t, const struct es_node *n)
{
	struct es_cache *c = t->cache;

	t->all_nr++;
	c->st.entries++;
	if (es_type_must_keep(node_type(n)))
		return;
	if (t->shk_nr++ == 0) {
		list_add_tail(&c->list_head, t, RECLAIM_LIST);
		c->nr_on_list++;
	}
	c->st.reclaimable++;
}

void es_account_unlink(struct es_tree *t, const struct es_node *n)
{
	struct es_cache *c = t->cache;

	t->all_nr--;
	c->st.entries--;
	if (es_type_must_keep(node_type(n)))
		return;
	c->st.reclaimable--;
	if (--t->shk_nr == 0) {
		list_del(&c->list_head, t, RECLAIM_LIST);
		c->nr_on_list--;
	}
}

/* ---- trees ---- */

void es_tree_init(struct es_cache *c, struct es_tree *t, uint64_t id)
{
	memset(t, 0, sizeof(*t));
	t->cache = c;
	t->id = id;
	list_add_tail(&c->all_head, t, ALL_LIST);
	c->st.trees++;
}

void es_tree_release(struct es_tree *t)
{
	struct es_cache *c = t->cache;
	struct es_rb_node *rb = t->root, *parent;
	struct es_node *n, *next;

	/* The last tree of a cache (inspect's one inode) goes in O(1). */
	if (t->all_nr && c->alloc.free_all &&
	    c->alloc.free_all(c->alloc.priv, t->all_nr))
		rb = NULL;
	else
		for (n = t->pending; n; n = next) {
			next = es_node_of(n->rb.right);
			es_node_free(c, n);
		}
	/* Post-order walk that frees as it climbs: O(n), no rebalancing. */
	while (rb) {
		if (rb->left) {
			rb = rb->left;
		} else if (rb->right) {
			rb = rb->right;
		} else {
			parent = es_rb_parent(rb);
			if (parent) {
				if (parent->left == rb)
					parent->left = NULL;
				else
					parent->right = NULL;
			}
			es_node_free(c, es_node_of(rb));
			rb = parent;
		}
	}
	c->st.entries -= t->all_nr;
	c->st.reclaimable -= t->shk_nr;
	if (t->shk_nr) {
		list_del(&c->list_head, t, RECLAIM_LIST);
		c->nr_on_list--;
	}
	list_del(&c->all_head, t, ALL_LIST);
	c->st.trees--;
	t->root = NULL;
	t->pending = NULL;
	t->pending_nr = 0;
	t->rightmost = t->cache_es = NULL;
	t->all_nr = t->shk_nr = 0;
}

void es_tree_drop_reclaimable(struct es_tree *t)
{
	struct es_node *n = tree_first(t), *next;

	while (n) {
		next = node_next(n);
		if (!es_type_must_keep(node_type(n)))
			es_node_erase(t, n);
		n = next;
	}
	t->shrink_lblk = 0;
}

uint64_t es_tree_entries(const struct es_tree *t)
{
	return t->all_nr;
}

uint64_t es_tree_reclaimable(const struct es_tree *t)
{
	return t->shk_nr;
}

/* ---- reclaim ---- */

/*
 * Scan one tree from its resume point up to end, spending *nr_to_scan; the
 * resume point moves to the first entry not scanned, or wraps to 0.
 */
static uint64_t reclaim_from(struct es_tree *t, uint32_t end, uint64_t *nr_to_scan)
{
	struct es_cache *c = t->cache;
	struct es_node *n = es_tree_search(t, t->shrink_lblk), *next;
	uint64_t freed = 0;

	if (!n) {
		t->shrink_lblk = 0;
		return 0;
	}
	while (*nr_to_scan > 0) {
		if (n->lblk > end) {
			t->shrink_lblk = end + 1;
			return freed;
		}
		(*nr_to_scan)--;
		c->st.shrink_scanned++;
		next = node_next(n);
		if (es_type_must_keep(node_type(n))) {
			/* delayed allocation exists nowhere else */
		} else if (node_status(n) & ES_REFERENCED) {
			node_clear_status(n, ES_REFERENCED);
		} else {
			es_node_erase(t, n);
			freed++;
		}
		if (!next) {
			t->shrink_lblk = 0;
			return freed;
		}
		n = next;
	}
	t->shrink_lblk = n->lblk;
	return freed;
}

static uint64_t reclaim_tree(struct es_tree *t, uint64_t *nr_to_scan)
{
	uint32_t start = t->shrink_lblk;
	uint64_t freed;

	freed = reclaim_from(t, ES_LBLK_MAX, nr_to_scan);
	if (start != 0 && *nr_to_scan > 0)
		freed += reclaim_from(t, start - 1, nr_to_scan);
	t->cache_es = NULL;
	return freed;
}

/* One round-robin pass over the reclaim list; skip is left alone. */
static uint64_t shrink_pass(struct es_cache *c, uint64_t nr_to_scan,
			    const struct es_tree *skip)
{
	uint64_t nr_trees = c->nr_on_list, freed = 0, i;
	struct es_tree *t;

	for (i = 0; i < nr_trees && nr_to_scan > 0 && c->list_head; i++) {
		t = c->list_head;
		/* false: t is list_head, not NULL; only skip may be NULL */
		/* cppcheck-suppress nullPointerRedundantCheck */
		c->list_head = t->reclaim_link.next;	/* to the tail: round robin */
		if (t == skip)
			continue;
		freed += reclaim_tree(t, &nr_to_scan);
	}
	c->st.shrunk += freed;
	return freed;
}

uint64_t es_shrink(struct es_cache *c, uint64_t nr_to_scan)
{
	c->st.shrink_calls++;
	return shrink_pass(c, nr_to_scan, NULL);
}

static uint64_t effective_limit(const struct es_cache *c)
{
	uint64_t lim = c->max_entries;

	if (c->max_bytes) {
		uint64_t by_bytes = c->max_bytes / ES_ENTRY_SIZE;

		if (!lim || by_bytes < lim)
			lim = by_bytes;
	}
	return lim;
}

/*
 * Keep the cache within its limit: reclaim from other trees first (the tree
 * being changed is the one about to be used), then from all.  Gives up when
 * two full rounds free nothing: what is left is must-keep.
 */
void es_enforce_limit(struct es_cache *c, struct es_tree *self)
{
	uint64_t lim = effective_limit(c), idle = 0, scanned, want, freed;
	const struct es_tree *skip = self;

	if (!lim || c->st.entries <= lim)
		return;
	c->st.shrink_calls++;
	while (c->st.entries > lim && c->st.reclaimable > 0) {
		want = c->st.entries - lim + ES_SHRINK_BATCH;
		scanned = c->st.shrink_scanned;
		freed = shrink_pass(c, want, skip);
		scanned = c->st.shrink_scanned - scanned;
		if (freed) {
			idle = 0;
			continue;
		}
		idle += scanned;
		if (scanned == 0 || idle > 2 * c->st.reclaimable + c->nr_on_list) {
			if (!skip)
				break;
			skip = NULL;
			idle = 0;
		}
	}
}

void es_cache_stats(const struct es_cache *c, struct es_stats *st)
{
	const struct es_tree *t = c->all_head;

	*st = c->st;
	st->trees_on_list = c->nr_on_list;
	st->bytes = c->st.entries * ES_ENTRY_SIZE;
	st->footprint = c->alloc.footprint ? c->alloc.footprint(c->alloc.priv) : st->bytes;
	st->max_tree_id = 0;
	st->max_tree_entries = 0;
	if (!t)
		return;
	do {
		if (t->all_nr > st->max_tree_entries ||
		    (t->all_nr == st->max_tree_entries && t->id < st->max_tree_id)) {
			st->max_tree_entries = t->all_nr;
			st->max_tree_id = t->id;
		}
		t = t->all_link.next;
	} while (t != c->all_head);
}

int es_cache_check(const struct es_cache *c, char *msg, size_t msglen)
{
	const struct es_tree *t;
	uint64_t entries = 0, reclaimable = 0, trees = 0, on_list = 0;

	if ((t = c->all_head)) {
		do {
			if (t->cache != c || t->all_link.next->all_link.prev != t) {
				snprintf(msg, msglen, "cache: tree %llu is badly linked",
					 (unsigned long long)t->id);
				return EUCLEAN;
			}
			entries += t->all_nr;
			reclaimable += t->shk_nr;
			trees++;
			t = t->all_link.next;
		} while (t != c->all_head && trees <= c->st.trees);
	}
	if ((t = c->list_head)) {
		do {
			if (!t->shk_nr || t->reclaim_link.next->reclaim_link.prev != t) {
				snprintf(msg, msglen,
					 "cache: tree %llu on the reclaim list with %llu reclaimable",
					 (unsigned long long)t->id, (unsigned long long)t->shk_nr);
				return EUCLEAN;
			}
			on_list++;
			t = t->reclaim_link.next;
		} while (t != c->list_head && on_list <= c->nr_on_list);
	}
	if (entries != c->st.entries || reclaimable != c->st.reclaimable ||
	    trees != c->st.trees || on_list != c->nr_on_list) {
		snprintf(msg, msglen,
			 "cache: counted %llu entries, %llu reclaimable, %llu trees, %llu listed; "
			 "counters say %llu, %llu, %llu, %llu",
			 (unsigned long long)entries, (unsigned long long)reclaimable,
			 (unsigned long long)trees, (unsigned long long)on_list,
			 (unsigned long long)c->st.entries, (unsigned long long)c->st.reclaimable,
			 (unsigned long long)c->st.trees, (unsigned long long)c->nr_on_list);
		return EUCLEAN;
	}
	return 0;
}
