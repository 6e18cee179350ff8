/* compare.c --- the cache against the raw on-disk tree: the kernel's ES_AGGRESSIVE_TEST classes */
/*
 * Why this exists: the cache is loaded through libext2fs and the raw tree by
 * our own parser; where they disagree, one reader (or the loader) is wrong.
 *
 * Both sides are walked in logical order at the same time, one range at a
 * time, so the cost is O(m log m) for sorting the disk's extents plus
 * O(n + m) for the walk, however large the holes: nothing ever loops over
 * blocks.  The disk side is first made into sorted, disjoint pieces; on a
 * corrupt tree where extents overlap, the one that starts first (then the
 * first in tree order) wins, as a lookup from the left would find it.
 *
 * Each maximal run of one class is reported once.  A run stays one run only
 * while its numbers keep describing it exactly (the physical blocks on both
 * sides continue one by one), so lblk/len/pblk/expected of a report are
 * always true for every block of it.  Fields: pblk is the cache's physical
 * block at lblk (CACHE_EXTRA, CACHE_PBLK, CACHE_STATUS), expected the disk's
 * (CACHE_MISSING, CACHE_PBLK); for CACHE_STATUS expected/found are the disk's
 * and the cache's types (ES_WRITTEN or ES_UNWRITTEN), pblk being the same on
 * both sides.  A block whose physical block and status both differ is a
 * CACHE_PBLK: the status of the wrong block says nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "ondisk.h"

struct piece {
	uint64_t lblk, end;		/* [lblk, end) */
	uint64_t pblk;
	int unwritten;
	size_t order;			/* position in tree order, for ties */
};


static void flush(struct esck_cmp *c)
{
	struct esck_problem p;

	if (!c->run.active)
		return;
	c->run.active = 0;
	c->count++;
	if (!c->report)
		return;
	esck_problem_init(&p, c->run.id, c->ino);
	p.lblk = c->run.lblk;
	p.len = c->run.len;
	p.pblk = c->run.pblk;
	p.expected = c->run.expected;
	p.found = c->run.found;
	c->report(c->report_arg, &p);
}

/* b continues a at distance off: both absent, or both present and b = a + off. */
static int continues(uint64_t a, uint64_t b, uint64_t off)
{
	if (a == ESCK_NONE || b == ESCK_NONE)
		return a == b;
	return b == a + off;
}

static void disagree(struct esck_cmp *c, enum esck_problem_id id, uint64_t lblk,
		     uint64_t len, uint64_t pblk, uint64_t expected, uint64_t found)
{
	struct esck_cmp_run *r = &c->run;

	if (r->active && r->id == id && r->lblk + r->len == lblk &&
	    continues(r->pblk, pblk, r->len)) {
		/* expected is a physical block except for CACHE_STATUS. */
		int same = id == ESCK_PR_CACHE_STATUS ?
			   r->expected == expected && r->found == found :
			   continues(r->expected, expected, r->len);

		if (same) {
			r->len += len;
			return;
		}
	}
	flush(c);
	r->active = 1;
	r->id = id;
	r->lblk = lblk;
	r->len = len;
	r->pblk = pblk;
	r->expected = expected;
	r->found = found;
}

/* [x, x + len) where the cache entry es says type and the disk maps d (or NULL). */
static void classify(struct esck_cmp *c, const struct es_extent *es, uint64_t x,
		     uint64_t len, const struct piece *d)
{
	unsigned int type = es_type(es);
	int mapped_in_cache = type == ES_WRITTEN || type == ES_UNWRITTEN;
	uint64_t cp = mapped_in_cache ? es->pblk + (x - es->lblk) : ESCK_NONE;
	uint64_t dp;
	unsigned int dtype;

	if (!d) {
		if (mapped_in_cache)
			disagree(c, ESCK_PR_CACHE_EXTRA, x, len, cp, ESCK_NONE,
				 ESCK_NONE);
		return;
	}
	dp = d->pblk + (x - d->lblk);
	dtype = d->unwritten ? ES_UNWRITTEN : ES_WRITTEN;
	if (!mapped_in_cache)
		disagree(c, ESCK_PR_CACHE_MISSING, x, len, ESCK_NONE, dp,
			 ESCK_NONE);
	else if (cp != dp)
		disagree(c, ESCK_PR_CACHE_PBLK, x, len, cp, dp, ESCK_NONE);
	else if (type != dtype)
		disagree(c, ESCK_PR_CACHE_STATUS, x, len, cp, dtype, type);
}

/* ---- the streaming core: disk extents arrive in logical order ---- */

void esck_cmp_start_range(struct esck_cmp *c, const struct es_tree *t, uint32_t ino,
			  uint32_t lo, uint32_t hi, esck_problem_fn report,
			  void *report_arg)
{
	memset(c, 0, sizeof(*c));
	c->ino = ino;
	c->report = report;
	c->report_arg = report_arg;
	c->x = lo;
	c->end = (uint64_t)hi + 1;
	es_iter_start(t, lo, &c->it);
	c->have_es = es_iter_next(&c->it, &c->es);
}

void esck_cmp_start(struct esck_cmp *c, const struct es_tree *t, uint32_t ino,
		    esck_problem_fn report, void *report_arg)
{
	esck_cmp_start_range(c, t, ino, 0, UINT32_MAX, report, report_arg);
}

/* Classify the cache over [c->x, upto) against disk piece d (NULL: unmapped). */
static void cmp_upto(struct esck_cmp *c, uint64_t upto, const struct piece *d)
{
	while (c->have_es && c->es.lblk < upto) {
		uint64_t es_end = (uint64_t)c->es.lblk + c->es.len;
		uint64_t from = c->x > c->es.lblk ? c->x : c->es.lblk;
		uint64_t to = es_end < upto ? es_end : upto;

		if (from < to)
			classify(c, &c->es, from, to - from, d);
		if (es_end > upto)
			break;
		c->have_es = es_iter_next(&c->it, &c->es);
	}
	if (upto > c->x)
		c->x = upto;
}

int esck_cmp_extent(struct esck_cmp *c, const struct esck_raw_extent *e)
{
	struct piece d;

	if (!e->len)
		return 0;
	if (c->started && e->lblk < c->last_lblk) {
		c->unordered = 1;
		return EINVAL;
	}
	c->started = 1;
	c->last_lblk = e->lblk;
	d.lblk = e->lblk;
	d.end = (uint64_t)e->lblk + e->len;
	d.pblk = e->pblk;
	d.unwritten = e->unwritten;
	d.order = 0;
	if (d.lblk >= c->end)
		return 0;
	if (d.end > c->end)
		d.end = c->end;
	/* Overlaps: what an earlier extent covers stays the earlier one's. */
	if (d.end <= c->x)
		return 0;
	if (d.lblk < c->x) {
		d.pblk += c->x - d.lblk;
		d.lblk = c->x;
	}
	cmp_upto(c, d.lblk, NULL);
	cmp_upto(c, d.end, &d);
	return 0;
}

uint64_t esck_cmp_finish(struct esck_cmp *c)
{
	cmp_upto(c, c->end, NULL);
	flush(c);
	return c->count;
}

/* ---- the whole tree at once, in any order (corrupt trees are unsorted) ---- */

static int raw_order_cmp(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	if (x->lblk != y->lblk)
		return x->lblk < y->lblk ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

uint64_t esck_compare_cache_raw(const struct es_tree *t, const struct esck_raw_tree *raw,
				uint32_t ino, esck_problem_fn report, void *report_arg)
{
	return esck_compare_cache_raw_range(t, raw, ino, 0, UINT32_MAX, report, report_arg);
}

uint64_t esck_compare_cache_raw_range(const struct es_tree *t,
				      const struct esck_raw_tree *raw, uint32_t ino,
				      uint32_t lo, uint32_t hi, esck_problem_fn report,
				      void *report_arg)
{
	struct esck_cmp c;
	struct piece *d;
	size_t i;

	for (i = 1; i < raw->nr; i++)
		if (raw->ext[i].lblk < raw->ext[i - 1].lblk)
			break;
	if (i >= raw->nr) {
		esck_cmp_start_range(&c, t, ino, lo, hi, report, report_arg);
		for (i = 0; i < raw->nr; i++)
			esck_cmp_extent(&c, &raw->ext[i]);
		return esck_cmp_finish(&c);
	}

	/* Out of order: sort a copy (ties keep tree order) and stream that. */
	d = malloc((raw->nr ? raw->nr : 1) * sizeof(*d));
	/*
	 * The interface has no error return; without memory for the copy,
	 * compare nothing rather than report false problems.
	 */
	if (!d)
		return 0;
	for (i = 0; i < raw->nr; i++) {
		d[i].lblk = raw->ext[i].lblk;
		d[i].end = (uint64_t)raw->ext[i].lblk + raw->ext[i].len;
		d[i].pblk = raw->ext[i].pblk;
		d[i].unwritten = raw->ext[i].unwritten;
		d[i].order = i;
	}
	qsort(d, raw->nr, sizeof(*d), raw_order_cmp);
	esck_cmp_start_range(&c, t, ino, lo, hi, report, report_arg);
	for (i = 0; i < raw->nr; i++) {
		struct esck_raw_extent e = {
			(uint32_t)d[i].lblk, (uint32_t)(d[i].end - d[i].lblk),
			d[i].pblk, d[i].unwritten
		};

		esck_cmp_extent(&c, &e);
	}
	free(d);
	return esck_cmp_finish(&c);
}
