/* test-compare.c --- TAP unit tests of the cache-against-disk comparison (lib/compare.c) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ondisk.h"
#include "../unit/tap.h"

static const char *pr_name(enum esck_problem_id id)
{
	const char *name = esck_problem_name(id);

	return name ? name : "?";
}

#define W	ES_WRITTEN
#define U	ES_UNWRITTEN
#define D	ES_DELAYED
#define H	ES_HOLE
#define NONE	ESCK_NONE

struct cent {
	uint32_t lblk, len;
	uint64_t pblk;
	unsigned int type;
};

struct dent {
	uint32_t lblk, len;
	uint64_t pblk;
	int unwritten;
};

#define MAX_PROBS 16

struct probs {
	struct esck_problem p[MAX_PROBS];
	int n;
};

static void collect(void *arg, const struct esck_problem *p)
{
	struct probs *pr = arg;

	if (pr->n < MAX_PROBS)
		pr->p[pr->n] = *p;
	pr->n++;
}

static int dump(const struct probs *pr)
{
	int i;

	for (i = 0; i < pr->n && i < MAX_PROBS; i++)
		diag("problem %d: %s lblk %lld len %lld pblk %lld exp %lld found %lld", i,
		     pr_name(pr->p[i].id), (long long)pr->p[i].lblk, (long long)pr->p[i].len,
		     (long long)pr->p[i].pblk, (long long)pr->p[i].expected,
		     (long long)pr->p[i].found);
	return 0;
}

struct fixture {
	struct es_cache cache;
	struct es_tree tree;
	struct esck_raw_tree raw;
	struct probs pr;
	uint64_t ret;
};

/* Build the cache and the raw tree, compare them, collect the problems. */
static void run(struct fixture *f, const struct cent *c, size_t nc,
		const struct dent *d, size_t nd)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	es_cache_init(&f->cache);
	es_tree_init(&f->cache, &f->tree, 1);
	for (i = 0; i < nc; i++)
		if (es_insert(&f->tree, c[i].lblk, c[i].len, c[i].pblk, c[i].type))
			diag("es_insert %u+%u failed", c[i].lblk, c[i].len);
	f->raw.ext = calloc(nd ? nd : 1, sizeof(*f->raw.ext));
	for (i = 0; i < nd; i++) {
		f->raw.ext[i].lblk = d[i].lblk;
		f->raw.ext[i].len = d[i].len;
		f->raw.ext[i].pblk = d[i].pblk;
		f->raw.ext[i].unwritten = d[i].unwritten;
	}
	f->raw.nr = f->raw.cap = nd;
	f->ret = esck_compare_cache_raw(&f->tree, &f->raw, 12, collect, &f->pr);
}

static void release(struct fixture *f)
{
	es_tree_release(&f->tree);
	es_cache_release(&f->cache);
	free(f->raw.ext);
}

static int same(const struct esck_problem *p, enum esck_problem_id id, uint64_t lblk,
		uint64_t len, uint64_t pblk, uint64_t expected)
{
	return p->id == id && p->ino == 12 && p->lblk == lblk && p->len == len &&
	       p->pblk == pblk && p->expected == expected && p->node == NONE;
}

/* Exactly one problem, as described. */
static void expect1(const char *what, struct fixture *f, enum esck_problem_id id,
		    uint64_t lblk, uint64_t len, uint64_t pblk, uint64_t expected)
{
	if (!ok(f->pr.n == 1 && f->ret == 1 && same(&f->pr.p[0], id, lblk, len, pblk, expected),
		"%s: one %s at %lld+%lld", what, pr_name(id), (long long)lblk, (long long)len))
		dump(&f->pr);
}

static void expect0(const char *what, struct fixture *f)
{
	if (!ok(f->pr.n == 0 && f->ret == 0, "%s: no problems", what))
		dump(&f->pr);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_agree(void)
{
	static const struct cent c[] = {
		{ 0, 10, 1000, W }, { 10, 10, 0, H }, { 20, 10, 2000, U },
		{ 30, 10, 2010, W }, { 40, ES_LBLK_MAX - 39, 0, H },
	};
	static const struct dent d[] = {
		{ 0, 10, 1000, 0 }, { 20, 10, 2000, 1 }, { 30, 10, 2010, 0 },
	};
	static const struct cent part[] = { { 20, 5, 2000, U } };
	struct fixture f;

	run(&f, c, N(c), d, N(d));
	expect0("cache equals disk, holes between", &f);
	release(&f);

	run(&f, part, N(part), d, N(d));
	expect0("uncached blocks are fine", &f);
	release(&f);

	run(&f, NULL, 0, d, N(d));
	expect0("an empty cache is fine", &f);
	release(&f);

	run(&f, NULL, 0, NULL, 0);
	expect0("nothing against nothing", &f);
	release(&f);
}

static void test_extra(void)
{
	static const struct cent c1[] = { { 100, 10, 500, W } };
	static const struct cent c2[] = { { 0, 30, 100, W } };
	static const struct dent d2[] = { { 0, 10, 100, 0 }, { 20, 10, 120, 0 } };
	static const struct cent c3[] = { { 0, 10, 500, W }, { 10, 10, 510, U } };
	struct fixture f;

	run(&f, c1, N(c1), NULL, 0);
	expect1("cache maps, disk does not", &f, ESCK_PR_CACHE_EXTRA, 100, 10, 500, NONE);
	release(&f);

	run(&f, c2, N(c2), d2, N(d2));
	expect1("cache maps a gap between disk extents", &f, ESCK_PR_CACHE_EXTRA, 10, 10, 110, NONE);
	release(&f);

	run(&f, c3, N(c3), NULL, 0);
	expect1("written then unwritten, contiguous: one run", &f, ESCK_PR_CACHE_EXTRA, 0, 20, 500,
		NONE);
	release(&f);
}

static void test_missing(void)
{
	static const struct cent hole[] = { { 0, ES_MAX_BLOCKS, 0, H } };
	static const struct dent d1[] = { { 10, 10, 700, 0 } };
	static const struct cent delayed[] = { { 5, 10, 0, D } };
	static const struct dent d2[] = { { 10, 10, 700, 0 }, { 20, 10, 710, 1 },
					  { 0xfffffff0u, 5, 900, 1 } };
	struct fixture f;

	run(&f, hole, N(hole), d1, N(d1));
	expect1("cache says hole, disk maps", &f, ESCK_PR_CACHE_MISSING, 10, 10, NONE, 700);
	release(&f);

	run(&f, delayed, N(delayed), d1, N(d1));
	expect1("cache says delayed, disk maps", &f, ESCK_PR_CACHE_MISSING, 10, 5, NONE, 700);
	release(&f);

	run(&f, hole, N(hole), d2, N(d2));
	if (!ok(f.pr.n == 2 && f.ret == 2 &&
		same(&f.pr.p[0], ESCK_PR_CACHE_MISSING, 10, 20, NONE, 700) &&
		same(&f.pr.p[1], ESCK_PR_CACHE_MISSING, 0xfffffff0u, 5, NONE, 900),
		"one hole over the whole space: a run per contiguous disk range"))
		dump(&f.pr);
	release(&f);
}

static void test_pblk_status(void)
{
	static const struct cent c1[] = { { 0, 10, 500, W } };
	static const struct dent d1[] = { { 0, 10, 600, 0 } };
	static const struct dent d2[] = { { 0, 5, 600, 0 }, { 5, 5, 505, 0 } };
	static const struct cent cu[] = { { 0, 10, 500, U } };
	static const struct dent dw[] = { { 0, 10, 500, 0 } };
	static const struct dent dwp[] = { { 0, 10, 501, 0 } };
	static const struct cent c20[] = { { 0, 20, 500, W } };
	static const struct dent dcont[] = { { 0, 10, 900, 0 }, { 10, 10, 910, 0 } };
	static const struct dent dsplit[] = { { 0, 10, 900, 0 }, { 10, 10, 2000, 0 } };
	struct fixture f;

	run(&f, c1, N(c1), d1, N(d1));
	expect1("different physical block", &f, ESCK_PR_CACHE_PBLK, 0, 10, 500, 600);
	release(&f);

	run(&f, c1, N(c1), d2, N(d2));
	expect1("different physical block, first half only", &f, ESCK_PR_CACHE_PBLK, 0, 5, 500, 600);
	release(&f);

	run(&f, cu, N(cu), dw, N(dw));
	expect1("unwritten in cache, written on disk", &f, ESCK_PR_CACHE_STATUS, 0, 10, 500, W);
	ok(f.pr.n == 1 && f.pr.p[0].found == U, "status: found is the cache's type");
	release(&f);

	run(&f, cu, N(cu), dwp, N(dwp));
	expect1("status and block both differ: the block", &f, ESCK_PR_CACHE_PBLK, 0, 10, 500, 501);
	release(&f);

	run(&f, c20, N(c20), dcont, N(dcont));
	expect1("two disk extents, contiguous on both sides: one run", &f, ESCK_PR_CACHE_PBLK,
		0, 20, 500, 900);
	release(&f);

	run(&f, c20, N(c20), dsplit, N(dsplit));
	if (!ok(f.pr.n == 2 && f.ret == 2 &&
		same(&f.pr.p[0], ESCK_PR_CACHE_PBLK, 0, 10, 500, 900) &&
		same(&f.pr.p[1], ESCK_PR_CACHE_PBLK, 10, 10, 510, 2000),
		"two disk extents apart on disk: two runs"))
		dump(&f.pr);
	release(&f);
}

static void test_corrupt_raw(void)
{
	/* Unsorted, and [5, 15) overlaps [0, 10): the first one wins on [5, 10). */
	static const struct dent d[] = {
		{ 50, 10, 800, 0 }, { 0, 10, 500, 0 }, { 5, 10, 605, 0 },
	};
	static const struct cent c[] = {
		{ 0, 10, 500, W }, { 10, 5, 610, W }, { 15, 35, 0, H }, { 50, 10, 800, W },
	};
	static const struct cent c2[] = { { 5, 10, 605, W } };
	/* Two extents at the same block: the first in tree order wins. */
	static const struct dent dup[] = { { 0, 10, 500, 0 }, { 0, 10, 900, 1 } };
	static const struct cent cdup[] = { { 0, 10, 500, W } };
	static const struct cent cdup2[] = { { 0, 10, 900, U } };
	struct fixture f;

	run(&f, c, N(c), d, N(d));
	expect0("unsorted, overlapping disk extents: sorted, first wins", &f);
	release(&f);

	run(&f, c2, N(c2), d, N(d));
	expect1("the overlapped part belongs to the first extent", &f, ESCK_PR_CACHE_PBLK, 5, 5,
		605, 505);
	release(&f);

	run(&f, cdup, N(cdup), dup, N(dup));
	expect0("same start twice: the first in tree order", &f);
	release(&f);

	run(&f, cdup2, N(cdup2), dup, N(dup));
	expect1("same start twice: the second is ignored", &f, ESCK_PR_CACHE_PBLK, 0, 10, 900, 500);
	release(&f);
}

static void test_no_reporter(void)
{
	static const struct cent c[] = { { 0, 10, 500, W }, { 20, 10, 0, H } };
	struct es_cache cache;
	struct es_tree tree;
	struct esck_raw_tree raw;
	struct esck_raw_extent e = { 20, 10, 700, 0 };
	size_t i;

	es_cache_init(&cache);
	es_tree_init(&cache, &tree, 1);
	for (i = 0; i < N(c); i++)
		es_insert(&tree, c[i].lblk, c[i].len, c[i].pblk, c[i].type);
	memset(&raw, 0, sizeof(raw));
	raw.ext = &e;
	raw.nr = raw.cap = 1;
	ok(esck_compare_cache_raw(&tree, &raw, 12, NULL, NULL) == 2,
	   "without a reporter: the count of problems");
	es_tree_release(&tree);
	es_cache_release(&cache);
}

/* ---- random caches and trees against a block-by-block oracle ---- */

static uint64_t rnd_state = 0x2545F4914F6CDD1Du;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return n ? (uint32_t)(rnd_state % n) : 0;
}

#define SPACE		200
#define MAX_RUNS	(SPACE + 8)

struct big {
	struct esck_problem p[MAX_RUNS];
	int n;
};

static void collect_big(void *arg, const struct esck_problem *p)
{
	struct big *b = arg;

	if (b->n < MAX_RUNS)
		b->p[b->n] = *p;
	b->n++;
}

static int lin(uint64_t a, uint64_t b, uint64_t off)
{
	return a == NONE ? b == NONE : b != NONE && b == a + off;
}

/* What one block says, judged alone; 0 if it is not a problem. */
static int judge(struct es_tree *t, const struct esck_raw_extent *e, size_t n, uint32_t x,
		 struct esck_problem *p)
{
	struct es_extent es;
	const struct esck_raw_extent *best = NULL;
	unsigned int type, dtype;
	uint64_t cp, dp;
	size_t i;

	if (!es_lookup(t, x, &es, NULL))
		return 0;
	for (i = 0; i < n; i++)
		if (x >= e[i].lblk && x - e[i].lblk < e[i].len && (!best || e[i].lblk < best->lblk))
			best = &e[i];
	type = es_type(&es);
	cp = type == W || type == U ? es.pblk + (x - es.lblk) : NONE;
	esck_problem_init(p, ESCK_PR_CACHE_EXTRA, 12);
	p->lblk = x;
	p->len = 1;
	p->pblk = cp;
	if (!best)
		return cp != NONE;
	dp = best->pblk + (x - best->lblk);
	dtype = best->unwritten ? U : W;
	if (cp == NONE) {
		p->id = ESCK_PR_CACHE_MISSING;
		p->expected = dp;
	} else if (cp != dp) {
		p->id = ESCK_PR_CACHE_PBLK;
		p->expected = dp;
	} else if (type != dtype) {
		p->id = ESCK_PR_CACHE_STATUS;
		p->expected = dtype;
		p->found = type;
	} else {
		return 0;
	}
	return 1;
}

static void test_oracle(void)
{
	unsigned int iter, bad = 0;
	uint64_t total = 0;

	for (iter = 0; iter < 3000 && !bad; iter++) {
		struct es_cache cache;
		struct es_tree tree;
		struct esck_raw_tree raw;
		struct esck_raw_extent e[12];
		static struct big got, want;
		size_t n = rnd(13), i;
		uint32_t x;
		uint64_t ret;

		es_cache_init(&cache);
		es_tree_init(&cache, &tree, 1);
		for (x = 0; x < SPACE; ) {
			static const unsigned int types[] = { W, U, D, H, W, U };
			uint32_t len = 1 + rnd(15);

			if (rnd(5))
				es_insert(&tree, x, len, 100 + rnd(60), types[rnd(6)]);
			x += len;
		}
		for (i = 0; i < n; i++) {
			e[i].lblk = rnd(SPACE);
			e[i].len = 1 + rnd(20);
			e[i].pblk = 100 + rnd(60);
			e[i].unwritten = (int)rnd(2);
		}
		/* The oracle, block by block, merged into runs the same way. */
		memset(&want, 0, sizeof(want));
		for (x = 0; x < SPACE + 20; x++) {
			struct esck_problem p, *r = want.n ? &want.p[want.n - 1] : NULL;

			if (!judge(&tree, e, n, x, &p))
				continue;
			if (r && r->id == p.id && r->lblk + r->len == x && lin(r->pblk, p.pblk, r->len) &&
			    (p.id == ESCK_PR_CACHE_STATUS ?
			     r->expected == p.expected && r->found == p.found :
			     lin(r->expected, p.expected, r->len)))
				r->len++;
			else
				want.p[want.n++] = p;
		}
		memset(&raw, 0, sizeof(raw));
		raw.ext = e;
		raw.nr = raw.cap = n;
		memset(&got, 0, sizeof(got));
		ret = esck_compare_cache_raw(&tree, &raw, 12, collect_big, &got);
		if (ret != (uint64_t)want.n || got.n != want.n ||
		    memcmp(got.p, want.p, sizeof(got.p[0]) * (size_t)want.n)) {
			bad = 1;
			diag("iteration %u: %d problems, the oracle says %d", iter, got.n, want.n);
		}
		total += ret;
		es_tree_release(&tree);
		es_cache_release(&cache);
	}
	ok(!bad && total > 1000, "3000 random cases agree with a block-by-block oracle (%llu runs)",
	   (unsigned long long)total);
}

/* CPU time, so that a loaded machine does not fail the test. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 10^6 disk extents and 2 * 10^6 cache entries, two disagreements. */
static void test_million(void)
{
	const uint32_t n = 1000000;
	struct es_cache cache;
	struct es_tree tree;
	struct esck_raw_tree raw;
	struct probs pr;
	uint64_t ret;
	double t0, dt;
	uint32_t i;
	int bad = 0;

	es_cache_init(&cache);
	es_tree_init(&cache, &tree, 1);
	memset(&raw, 0, sizeof(raw));
	raw.ext = calloc(n, sizeof(*raw.ext));
	if (!raw.ext) {
		ok(0, "10^6 extents: out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		uint64_t pblk = 10 + 3 * (uint64_t)i;
		int unwritten = i % 7 == 0;

		raw.ext[i].lblk = 2 * i;
		raw.ext[i].len = 1;
		raw.ext[i].pblk = pblk;
		raw.ext[i].unwritten = unwritten;
		if (i == 500000)
			pblk++;
		if (i == n - 1)
			bad |= es_insert(&tree, 2 * i, 1, 0, H);
		else
			bad |= es_insert(&tree, 2 * i, 1, pblk, unwritten ? U : W);
		bad |= es_insert(&tree, 2 * i + 1, 1, 0, H);
	}
	/* A hole from the end of the file to the end of the logical space. */
	bad |= es_insert(&tree, 2 * n, ES_LBLK_MAX - 2 * n + 1, 0, H);
	raw.nr = raw.cap = n;
	memset(&pr, 0, sizeof(pr));
	t0 = now();
	ret = esck_compare_cache_raw(&tree, &raw, 12, collect, &pr);
	dt = now() - t0;
	if (!ok(!bad && ret == 2 && pr.n == 2 &&
		same(&pr.p[0], ESCK_PR_CACHE_PBLK, 1000000, 1, 1500011, 1500010) &&
		same(&pr.p[1], ESCK_PR_CACHE_MISSING, 2 * (n - 1), 1, NONE, 10 + 3 * (uint64_t)(n - 1)),
		"10^6 extents, 2 * 10^6 cache entries: the two disagreements"))
		dump(&pr);
	diag("compare of 10^6 extents took %.3f s of CPU", dt);
	ok(dt < 5.0, "10^6 extents compared in %.3f s of CPU (limit 5 s, sanitizers included)", dt);
	free(raw.ext);
	es_tree_release(&tree);
	es_cache_release(&cache);
}

/*
 * The range comparison sees only [lo, hi]: a disagreement outside is not
 * reported, one across an edge is reported clipped to the range, and the
 * disk's extents may start anywhere (a range walk hands over whole leaves).
 */
static void test_range(void)
{
	/* cache: W 0-9 @1000, W 10-19 @5000 (disk: @1010), W 20-29 @1020 */
	static const struct cent c[] = {
		{ 0, 10, 1000, W }, { 10, 10, 5000, W }, { 20, 10, 1020, W },
	};
	static const struct dent d[] = { { 0, 30, 1000, 0 } };
	struct fixture f;
	struct probs pr;
	uint64_t n;

	run(&f, c, N(c), d, N(d));
	if (!ok(f.pr.n == 1 && same(&f.pr.p[0], ESCK_PR_CACHE_PBLK, 10, 10, 5000, 1010),
		"range: the whole space finds the one disagreement"))
		dump(&f.pr);

	memset(&pr, 0, sizeof(pr));
	n = esck_compare_cache_raw_range(&f.tree, &f.raw, 12, 0, 9, collect, &pr);
	(void)(ok(n == 0 && pr.n == 0, "range: [0, 9] sees none of it") || dump(&pr));
	memset(&pr, 0, sizeof(pr));
	n = esck_compare_cache_raw_range(&f.tree, &f.raw, 12, 20, 25, collect, &pr);
	(void)(ok(n == 0 && pr.n == 0, "range: [20, 25] sees none of it") || dump(&pr));
	memset(&pr, 0, sizeof(pr));
	n = esck_compare_cache_raw_range(&f.tree, &f.raw, 12, 15, 22, collect, &pr);
	if (!ok(n == 1 && pr.n == 1 && same(&pr.p[0], ESCK_PR_CACHE_PBLK, 15, 5, 5005, 1015),
		"range: [15, 22] sees blocks 15-19 of it"))
		dump(&pr);
	memset(&pr, 0, sizeof(pr));
	n = esck_compare_cache_raw_range(&f.tree, &f.raw, 12, 12, 12, collect, &pr);
	if (!ok(n == 1 && pr.n == 1 && same(&pr.p[0], ESCK_PR_CACHE_PBLK, 12, 1, 5002, 1012),
		"range: [12, 12] sees block 12"))
		dump(&pr);
	release(&f);
}

int main(void)
{
	test_agree();
	test_extra();
	test_missing();
	test_pblk_status();
	test_corrupt_raw();
	test_no_reporter();
	test_oracle();
	test_million();
	test_range();
	return done();
}
