/* es.c --- insert, remove, cache, lookup and iteration on one tree of the extent status cache */
/*
 * Why this exists: esck must say exactly what the kernel's extent status tree
 * would hold for an inode, so this file follows fs/ext4/extents_status.c's
 * semantics (not its code) on a tree of our own.
 *
 * Invariants (es_check() verifies them all): entries are sorted by lblk,
 * never overlap, have len >= 1 and end at or before ES_LBLK_MAX, carry
 * exactly one type, and no two neighbours could merge (same type, adjacent,
 * and for WRITTEN/UNWRITTEN physically contiguous).
 *
 * Costs: lookup, insert and remove are O(log n) plus the entries removed;
 * an entry arriving after every other one (an in-order load) is appended
 * through the rightmost pointer in O(1) amortised.  Into an empty tree such
 * appends are only listed (t->pending), and the first look at the tree
 * builds it balanced from the list in O(n): a bulk load of n entries then
 * costs no rotation at all, and the readers below settle the list first.
 *
 * No-fail: removing a range strictly inside one entry is the only step that
 * needs a new entry, and inserting without a merge needs one more.  Each step
 * first tries an allocation that may fail.  A droppable (WRITTEN, UNWRITTEN,
 * HOLE) step that fails just leaves less cached.  A must-keep (DELAYED) step
 * that fails leaves the tree as it was; the operation then preallocates what
 * failed with the retrying allocator and runs again, so the second pass
 * cannot fail.  Each unused preallocation is freed right after the step that
 * could have consumed it: a later step may merge and free the very entry a
 * step consumed (the kernel's use-after-free of commit 768d612f7982).
 */
#include <errno.h>
#include <string.h>

#include "es_int.h"

const char *es_type_name(unsigned int type)
{
	switch (type & ES_TYPE_MASK) {
	case ES_WRITTEN:
		return "written";
	case ES_UNWRITTEN:
		return "unwritten";
	case ES_DELAYED:
		return "delayed";
	case ES_HOLE:
		return "hole";
	default:
		return "?";
	}
}

const char *es_status_letters(unsigned int status, char buf[3])
{
	static const char letters[] = "WUDH";
	unsigned int i;

	buf[0] = '?';
	for (i = 0; i < 4; i++)
		if ((status & ES_TYPE_MASK) == (1u << i))
			buf[0] = letters[i];
	buf[1] = (status & ES_REFERENCED) ? 'R' : '\0';
	buf[2] = '\0';
	return buf;
}

static int valid_type(unsigned int type)
{
	return type == ES_WRITTEN || type == ES_UNWRITTEN ||
	       type == ES_DELAYED || type == ES_HOLE;
}

/* EINVAL unless [lblk, lblk + len) and pblk describe a legal entry; len > 0. */
static inline int validate(uint32_t lblk, uint32_t len, uint64_t pblk, unsigned int type)
{
	if (!valid_type(type))
		return EINVAL;
	if ((uint64_t)lblk + len - 1 > ES_LBLK_MAX)
		return EINVAL;
	if ((type & (ES_WRITTEN | ES_UNWRITTEN)) &&
	    (pblk > ES_PBLK_MAX || pblk + len - 1 > ES_PBLK_MAX))
		return EINVAL;
	return 0;
}

static int validate_range(uint32_t lblk, uint32_t len)
{
	return (uint64_t)lblk + len - 1 > ES_LBLK_MAX ? EINVAL : 0;
}

/* The entry containing lblk, else the first entry after it, else NULL. */
void es_tree_settle_pending(struct es_tree *t)
{
	t->root = es_rb_build(&t->pending->rb, t->pending_nr);
	t->pending = NULL;
	t->pending_nr = 0;
}

struct es_node *es_tree_search(const struct es_tree *t, uint32_t lblk)
{
	struct es_rb_node *rb;
	struct es_node *next = NULL, *n;

	if (!t->rightmost || lblk > node_end(t->rightmost))
		return NULL;	/* before settling: appends stay O(1) */
	tree_settle(t);
	rb = t->root;
	if (t->cache_es && t->cache_es->lblk <= lblk && lblk <= node_end(t->cache_es))
		return t->cache_es;
	while (rb) {
		n = es_node_of(rb);
		if (lblk < n->lblk) {
			next = n;
			rb = rb->left;
		} else if (lblk > node_end(n)) {
			rb = rb->right;
		} else {
			return n;
		}
	}
	return next;
}

static void link_node(struct es_tree *t, struct es_node *n,
		      struct es_rb_node *parent, struct es_rb_node **link)
{
	es_rb_link(&n->rb, parent, link);
	es_rb_insert_color(&n->rb, &t->root);
	if (!t->rightmost || n->lblk > t->rightmost->lblk)
		t->rightmost = n;
	es_account_link(t, n);
}

void es_node_erase(struct es_tree *t, struct es_node *n)
{
	if (t->rightmost == n)
		t->rightmost = node_prev(n);
	if (t->cache_es == n)
		t->cache_es = NULL;
	es_rb_erase(&n->rb, &t->root);
	es_account_unlink(t, n);
	es_node_free(t->cache, n);
}

static struct es_node *take_node(struct es_cache *c, struct es_node **prealloc)
{
	struct es_node *n;

	if (prealloc && *prealloc) {
		n = *prealloc;
		*prealloc = NULL;
		return n;
	}
	return es_node_alloc(c);
}

/*
 * Insert [lblk, lblk + len) into a tree where nothing overlaps it, merging
 * with the neighbours where the kernel would.  0, ENOMEM when a new entry
 * was needed and none could be had, EUCLEAN if something did overlap.
 */
static int insert_merge(struct es_tree *t, uint32_t lblk, uint32_t len,
			uint64_t pblk, unsigned int type, struct es_node **prealloc)
{
	struct es_rb_node **link = &t->root, *parent = NULL;
	struct es_node *pred = NULL, *succ = NULL, *n, probe;

	if (t->rightmost && lblk > node_end(t->rightmost)) {
		/* in-order loads land here: no descent */
		pred = t->rightmost;
		parent = &pred->rb;
		link = &pred->rb.right;
	} else {
		tree_settle(t);
		while (*link) {
			parent = *link;
			n = es_node_of(parent);
			if (lblk + len - 1 < n->lblk) {
				succ = n;
				link = &parent->left;
			} else if (lblk > node_end(n)) {
				pred = n;
				link = &parent->right;
			} else {
				return EUCLEAN;
			}
		}
	}

	node_set(&probe, lblk, len, pblk, type);
	if (pred && nodes_mergeable(pred, &probe)) {
		pred->len += len;
		if (succ && nodes_mergeable(pred, succ)) {
			unsigned int ref = node_status(succ) & ES_REFERENCED;

			pred->len += succ->len;
			es_node_erase(t, succ);
			node_or_status(pred, ref);
		}
		t->cache_es = pred;
		return 0;
	}
	if (succ && nodes_mergeable(&probe, succ)) {
		succ->lblk = lblk;
		succ->len += len;
		if (node_mapped(succ))
			node_set_pblk(succ, pblk);
		t->cache_es = succ;
		return 0;
	}

	n = take_node(t->cache, prealloc);
	if (!n)
		return ENOMEM;
	node_set(n, lblk, len, pblk, type);
	if (!t->root && !succ) {
		/* an append to a tree not built yet: list it */
		n->rb.parent_color = 0;
		n->rb.left = n->rb.right = NULL;
		if (t->pending)
			t->rightmost->rb.right = &n->rb;
		else
			t->pending = n;
		t->pending_nr++;
		t->rightmost = n;
		es_account_link(t, n);
	} else {
		link_node(t, n, parent, link);
	}
	t->cache_es = n;
	return 0;
}

/*
 * Remove the inclusive range [lblk, end].  Only a range strictly inside one
 * entry needs a new entry (the tail); if none can be had, a droppable tail is
 * lost (the tree covers less), and a must-keep one makes this return ENOMEM
 * with nothing changed -- unless lose_must_keep, where it is lost too and
 * ENOMEM reports the loss.
 */
static int remove_range(struct es_tree *t, uint32_t lblk, uint32_t end,
			struct es_node **prealloc, int lose_must_keep)
{
	struct es_node *n = es_tree_search(t, lblk), *next;
	uint32_t orig_end;

	if (!n || n->lblk > end)
		return 0;
	t->cache_es = NULL;
	orig_end = node_end(n);

	if (n->lblk < lblk && orig_end > end) {
		unsigned int status = node_status(n);
		struct es_node *tail = take_node(t->cache, prealloc);
		uint64_t tail_pblk = ES_PBLK_NONE;

		if (node_mapped(n))
			tail_pblk = node_pblk(n) + (end + 1 - n->lblk);
		if (!tail) {
			if (es_type_must_keep(status) && !lose_must_keep)
				return ENOMEM;
			n->len = lblk - n->lblk;
			if (es_type_must_keep(status)) {
				t->cache->st.lost++;
				return ENOMEM;
			}
			t->cache->st.dropped++;
			return 0;
		}
		n->len = lblk - n->lblk;
		node_set(tail, end + 1, orig_end - end, tail_pblk, status);
		es_rb_insert_after(&n->rb, &tail->rb, &t->root);
		if (t->rightmost == n)
			t->rightmost = tail;
		es_account_link(t, tail);
		return 0;
	}

	if (n->lblk < lblk) {
		n->len = lblk - n->lblk;
		n = node_next(n);
	}
	while (n && node_end(n) <= end) {
		next = node_next(n);
		es_node_erase(t, n);
		n = next;
	}
	if (n && n->lblk <= end) {
		uint32_t cut = end + 1 - n->lblk;

		if (node_mapped(n))
			node_set_pblk(n, node_pblk(n) + cut);
		n->lblk = end + 1;
		n->len -= cut;
	}
	return 0;
}

static void free_unused(struct es_cache *c, struct es_node **prealloc)
{
	if (*prealloc) {
		es_node_free(c, *prealloc);
		*prealloc = NULL;
	}
}

int es_insert(struct es_tree *t, uint32_t lblk, uint32_t len, uint64_t pblk,
	      unsigned int type)
{
	struct es_cache *c = t->cache;
	int legacy = c->policy == ES_POLICY_LEGACY;
	struct es_node *pre1 = NULL, *pre2 = NULL;
	int err1 = 0, err2 = 0, lost = 0;
	uint32_t end;

	if (len == 0)
		return valid_type(type) ? 0 : EINVAL;
	if (validate(lblk, len, pblk, type))
		return EINVAL;
	end = lblk + len - 1;

	for (;;) {
		if (err1 && !pre1)
			pre1 = es_node_alloc_nofail(c);
		if ((err1 || err2) && !pre2)
			pre2 = es_node_alloc_nofail(c);

		err1 = remove_range(t, lblk, end, &pre1, legacy);
		free_unused(c, &pre1);
		if (err1 == ENOMEM && legacy) {
			lost = 1;
			err1 = 0;
		}
		if (err1) {
			free_unused(c, &pre2);
			if (err1 != ENOMEM)
				return err1;
			c->st.alloc_retries++;
			continue;
		}

		err2 = insert_merge(t, lblk, len, pblk, type, &pre2);
		free_unused(c, &pre2);
		if (err2 == ENOMEM) {
			if (!es_type_must_keep(type)) {
				c->st.dropped++;
				err2 = 0;
			} else if (legacy) {
				c->st.lost++;
				lost = 1;
				err2 = 0;
			} else {
				c->st.alloc_retries++;
				continue;
			}
		}
		break;
	}
	if (err2)
		return err2;
	es_enforce_limit(c, t);
	return lost ? ENOMEM : 0;
}

int es_remove(struct es_tree *t, uint32_t lblk, uint32_t len)
{
	struct es_cache *c = t->cache;
	int legacy = c->policy == ES_POLICY_LEGACY;
	struct es_node *pre = NULL;
	int err;

	if (len == 0)
		return 0;
	if (validate_range(lblk, len))
		return EINVAL;
	for (;;) {
		err = remove_range(t, lblk, lblk + len - 1, &pre, legacy);
		free_unused(c, &pre);
		if (err != ENOMEM || legacy)
			break;
		c->st.alloc_retries++;
		pre = es_node_alloc_nofail(c);
	}
	/* a split adds an entry, so even a removal can cross the limit */
	es_enforce_limit(c, t);
	return err;
}

/* Would caching [lblk, end] as type at pblk contradict existing entry n? */
static int cache_conflicts(const struct es_node *n, uint32_t lblk, uint64_t pblk,
			   unsigned int type)
{
	if (node_type(n) != type)
		return !(type == ES_HOLE && node_type(n) == ES_DELAYED);
	if (node_mapped(n))
		return node_pblk(n) + lblk != pblk + n->lblk;
	return 0;
}

/*
 * es_cache_extent() where the range may meet entries: no conflict in it,
 * then fill its gaps.  Out of line, so that the append in es_cache_extent()
 * does not pay for the registers this needs.
 */
static __attribute__((noinline)) int cache_fill(struct es_tree *t, uint32_t lblk,
						uint32_t end, uint64_t pblk,
						unsigned int type,
						struct es_extent *conflict)
{
	struct es_node *n;
	uint32_t cur, gap_end;

	for (n = es_tree_search(t, lblk); n && n->lblk <= end; n = node_next(n)) {
		if (cache_conflicts(n, lblk, pblk, type)) {
			if (conflict)
				node_copy_out(n, conflict);
			t->cache->st.conflicts++;
			return EEXIST;
		}
	}

	/* Fill the gaps; a merge may free the entry we stood on, so search again. */
	cur = lblk;
	for (;;) {
		n = es_tree_search(t, cur);
		if (n && n->lblk <= cur) {
			if (node_end(n) >= end)
				break;
			cur = node_end(n) + 1;
			continue;
		}
		gap_end = (n && n->lblk <= end) ? n->lblk - 1 : end;
		if (insert_merge(t, cur, gap_end - cur + 1, pblk + (cur - lblk), type,
				 NULL) == ENOMEM)
			t->cache->st.dropped++;
		if (gap_end >= end)
			break;
		cur = gap_end + 1;
	}
	es_enforce_limit(t->cache, t);
	return 0;
}

/*
 * es_cache_extent() past the last entry when the append below cannot do it:
 * es_tree_search() would find nothing, so this is all the general path does.
 * probe is the entry to cache; a HOLE's pblk is ignored by insert_merge().
 */
static __attribute__((noinline)) int cache_insert(struct es_tree *t,
						  const struct es_node *probe)
{
	if (insert_merge(t, probe->lblk, probe->len, node_pblk(probe),
			 node_type(probe), NULL) == ENOMEM)
		t->cache->st.dropped++;
	es_enforce_limit(t->cache, t);
	return 0;
}

/* es_enforce_limit() where it is the last call: a jump, not a call to return from. */
static __attribute__((noinline)) int cache_limit(struct es_cache *c, struct es_tree *t)
{
	es_enforce_limit(c, t);
	return 0;
}

/*
 * An in-order load calls this a million times for one file, always past the
 * last entry, where nothing can conflict and the range is one gap: that is
 * insert_merge()'s rightmost case, done here without the searches and the
 * calls around it.  It only merges, or appends to a pending list whose tree
 * is already on the reclaim list; it calls nothing on its way, so that it
 * saves no registers, and every other case goes the general way.  test-es.c
 * replays loads through es_insert(), which never comes here, and wants the
 * same entries, cached entry and counters.
 */
int es_cache_extent(struct es_tree *t, uint32_t lblk, uint32_t len,
		    uint64_t pblk, unsigned int type, struct es_extent *conflict)
{
	struct es_node *last, *n, probe;
	struct es_cache *c;

	/* DELAYED is never on disk: EINVAL whatever len says */
	if (type != ES_WRITTEN && type != ES_UNWRITTEN && type != ES_HOLE)
		return EINVAL;
	if (len == 0)
		return 0;
	if (validate(lblk, len, pblk, type))
		return EINVAL;
	last = t->rightmost;
	c = t->cache;
	if (last && lblk <= node_end(last))
		return cache_fill(t, lblk, lblk + len - 1, pblk, type, conflict);

	node_set(&probe, lblk, len, pblk, type);
	if (last && nodes_mergeable(last, &probe)) {
		last->len += len;
		t->cache_es = last;
	} else if (last && t->pending && t->shk_nr &&
		   (n = es_node_alloc_bump(c))) {
		n->rb.parent_color = 0;
		n->rb.left = n->rb.right = NULL;
		n->lblk = lblk;
		n->len = len;
		n->pblk_status = probe.pblk_status;
		last->rb.right = &n->rb;
		t->pending_nr++;
		t->rightmost = n;
		/* es_account_link() of a droppable entry, the tree already listed */
		t->all_nr++;
		t->shk_nr++;
		c->st.entries++;
		c->st.reclaimable++;
		t->cache_es = n;
	} else {
		return cache_insert(t, &probe);
	}
	/* without a limit es_enforce_limit() returns at once */
	if (c->max_entries || c->max_bytes)
		return cache_limit(c, t);
	return 0;
}

/*
 * es_cache_extent() of each entry in turn, with the append's bookkeeping
 * kept in locals over a run of entries and written back once: the loop
 * below takes what the append in es_cache_extent() takes, and hands
 * anything else to it, one entry at a time.
 */
int es_cache_extents(struct es_tree *t, const struct es_extent *v, size_t n)
{
	struct es_cache *c = t->cache;
	struct es_slab *s = &c->slab;
	struct es_node *last, *seen, *nn, probe;
	char *bump, *bump_end;
	uint64_t added;
	size_t i = 0;
	int rc;

	while (i < n) {
		last = t->rightmost;
		/*
		 * The conditions of the append and of es_node_alloc_bump(),
		 * which hold for a whole run: no limit to enforce after each
		 * entry, a pending list on the reclaim list, the slab carving.
		 */
		if (!last || !t->pending || !t->shk_nr || c->max_entries ||
		    c->max_bytes || c->fault || c->alloc.alloc != es_slab_alloc ||
		    c->alloc.priv != s || s->free_list) {
			rc = es_cache_extent(t, v[i].lblk, v[i].len, v[i].pblk,
					     v[i].status, NULL);
			if (rc == EINVAL)
				return rc;
			i++;
			continue;
		}
		seen = NULL;
		bump = s->bump;
		bump_end = s->bump_end;
		added = 0;
		for (; i < n; i++) {
			const struct es_extent *e = &v[i];

			if ((e->status != ES_WRITTEN && e->status != ES_UNWRITTEN &&
			     e->status != ES_HOLE) ||
			    !e->len || validate(e->lblk, e->len, e->pblk, e->status) ||
			    e->lblk <= node_end(last))
				break;
			node_set(&probe, e->lblk, e->len, e->pblk, e->status);
			if (nodes_mergeable(last, &probe)) {
				last->len += e->len;
				seen = last;
				continue;
			}
			if (bump == bump_end)
				break;
			nn = (struct es_node *)(void *)bump;
			bump += ES_ENTRY_SIZE;
			nn->rb.parent_color = 0;
			nn->rb.left = nn->rb.right = NULL;
			nn->lblk = e->lblk;
			nn->len = e->len;
			nn->pblk_status = probe.pblk_status;
			last->rb.right = &nn->rb;
			last = seen = nn;
			added++;
		}
		/* What es_node_alloc_bump() and the append count, per entry. */
		s->bump = bump;
		s->live += added;
		c->st.alloc_attempts += added;
		t->pending_nr += added;
		t->all_nr += added;
		t->shk_nr += added;
		c->st.entries += added;
		c->st.reclaimable += added;
		t->rightmost = last;
		if (seen)
			t->cache_es = seen;
		if (i < n) {
			/* The entry the loop could not take: the general way. */
			rc = es_cache_extent(t, v[i].lblk, v[i].len, v[i].pblk,
					     v[i].status, NULL);
			if (rc == EINVAL)
				return rc;
			i++;
		}
	}
	return 0;
}

int es_lookup(struct es_tree *t, uint32_t lblk, struct es_extent *es,
	      uint32_t *next_lblk)
{
	struct es_node *n = es_tree_search(t, lblk), *next;

	if (!n || n->lblk > lblk) {
		t->cache->st.misses++;
		if (next_lblk)
			*next_lblk = n ? n->lblk : 0;
		return 0;
	}
	t->cache->st.hits++;
	node_copy_out(n, es);
	node_or_status(n, ES_REFERENCED);
	if (next_lblk) {
		next = node_next(n);
		*next_lblk = next ? next->lblk : 0;
	}
	return 1;
}

int es_find_range(struct es_tree *t, unsigned int types, uint32_t lblk,
		  uint32_t end, struct es_extent *es)
{
	struct es_node *n;

	memset(es, 0, sizeof(*es));
	if (end < lblk)
		return 0;
	for (n = es_tree_search(t, lblk); n && n->lblk <= end; n = node_next(n)) {
		if (node_type(n) & types) {
			node_copy_out(n, es);
			t->cache_es = n;
			return 1;
		}
	}
	return 0;
}

int es_scan_range(struct es_tree *t, unsigned int types, uint32_t lblk, uint32_t end)
{
	struct es_extent es;

	return es_find_range(t, types, lblk, end, &es);
}

uint64_t es_count_blocks(const struct es_tree *t, unsigned int types,
			 uint32_t lblk, uint32_t len)
{
	const struct es_node *n;
	uint64_t total = 0, end;

	if (len == 0)
		return 0;
	end = (uint64_t)lblk + len - 1;
	for (n = es_tree_search(t, lblk); n && n->lblk <= end; n = node_next(n)) {
		uint64_t from = n->lblk > lblk ? n->lblk : lblk;
		uint64_t to = node_end(n) < end ? node_end(n) : end;

		if (node_type(n) & types)
			total += to - from + 1;
	}
	return total;
}

/*
 * An iteration from the start of a bulk-loaded tree walks the pending list
 * as it is: a load that is compared and released (inspect) never needs the
 * tree built.  Should the tree be settled meanwhile, the nodes stay and
 * the walk goes on through the tree.
 */
void es_iter_start(const struct es_tree *t, uint32_t lblk, struct es_iter *it)
{
	it->tree = t;
	if (t->pending && lblk <= node_end(t->pending))
		it->node = t->pending;
	else
		it->node = es_tree_search(t, lblk);
}

int es_iter_next(struct es_iter *it, struct es_extent *es)
{
	if (!it->node)
		return 0;
	node_copy_out(it->node, es);
	it->node = it->tree->pending ? es_node_of(it->node->rb.right) : node_next(it->node);
	return 1;
}
