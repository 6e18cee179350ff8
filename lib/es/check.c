/* check.c --- the full invariant check of one tree, cheap enough to run after every test step */
#include <errno.h>
#include <stdio.h>

#include "es_int.h"

static int fail(char *msg, size_t msglen, const struct es_tree *t,
		const struct es_node *n, const char *what)
{
	char st[3];

	snprintf(msg, msglen, "tree %llu: entry [%u/%u) %s: %s",
		 (unsigned long long)t->id, n->lblk, n->len,
		 es_status_letters(node_status(n), st), what);
	return EUCLEAN;
}

int es_check(const struct es_tree *t, char *msg, size_t msglen)
{
	const struct es_node *n, *prev = NULL;
	uint64_t count = 0, keep = 0;
	int cache_es_seen = t->cache_es == NULL;
	unsigned int type;

	/* Pending appends are checked where they are, not settled first. */
	if (t->pending) {
		if (t->root) {
			snprintf(msg, msglen, "tree %llu: pending appends to a built tree",
				 (unsigned long long)t->id);
			return EUCLEAN;
		}
	} else if (es_rb_verify(t->root, msg, msglen)) {
		return EUCLEAN;
	}
	for (n = t->pending ? t->pending : es_node_of(es_rb_first(t->root)); n;
	     prev = n, n = t->pending ? es_node_of(n->rb.right) : node_next(n)) {
		type = node_type(n);
		count++;
		if (n->len == 0)
			return fail(msg, msglen, t, n, "zero length");
		if ((uint64_t)n->lblk + n->len - 1 > ES_LBLK_MAX)
			return fail(msg, msglen, t, n, "wraps past the last logical block");
		if (type != ES_WRITTEN && type != ES_UNWRITTEN &&
		    type != ES_DELAYED && type != ES_HOLE)
			return fail(msg, msglen, t, n, "not exactly one type");
		if (node_status(n) & ~(ES_TYPE_MASK | ES_REFERENCED))
			return fail(msg, msglen, t, n, "unknown status bits");
		if (node_mapped(n) && node_pblk(n) + n->len - 1 > ES_PBLK_MAX)
			return fail(msg, msglen, t, n, "physical blocks past 2^48");
		if (!node_mapped(n) && (n->pblk_status & ES_PBLK_FIELD) != ES_PBLK_FIELD)
			return fail(msg, msglen, t, n, "a physical block on a delayed or hole entry");
		if (prev && node_end(prev) >= n->lblk)
			return fail(msg, msglen, t, n, "overlaps or precedes the entry before it");
		if (prev && nodes_mergeable(prev, n))
			return fail(msg, msglen, t, n, "could merge with the entry before it");
		if (es_type_must_keep(type))
			keep++;
		if (n == t->cache_es)
			cache_es_seen = 1;
	}
	if (t->pending && count != t->pending_nr) {
		snprintf(msg, msglen, "tree %llu: %llu pending appends listed, %llu counted",
			 (unsigned long long)t->id, (unsigned long long)count,
			 (unsigned long long)t->pending_nr);
		return EUCLEAN;
	}
	if (t->rightmost != prev) {
		snprintf(msg, msglen, "tree %llu: the rightmost pointer is stale",
			 (unsigned long long)t->id);
		return EUCLEAN;
	}
	if (!cache_es_seen) {
		snprintf(msg, msglen, "tree %llu: the cached entry is not in the tree",
			 (unsigned long long)t->id);
		return EUCLEAN;
	}
	if (count != t->all_nr || count - keep != t->shk_nr) {
		snprintf(msg, msglen,
			 "tree %llu: %llu entries (%llu must-keep) but counters say %llu (%llu reclaimable)",
			 (unsigned long long)t->id, (unsigned long long)count,
			 (unsigned long long)keep, (unsigned long long)t->all_nr,
			 (unsigned long long)t->shk_nr);
		return EUCLEAN;
	}
	if ((t->shk_nr > 0) != (t->reclaim_link.next != NULL)) {
		snprintf(msg, msglen, "tree %llu: reclaim list membership is wrong",
			 (unsigned long long)t->id);
		return EUCLEAN;
	}
	return 0;
}
