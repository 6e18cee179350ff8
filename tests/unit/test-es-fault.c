/* test-es-fault.c --- exhaustive allocation-failure sweep of lib/es under both policies */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es.h"
#include "es-util.h"
#include "tap.h"

/*
 * A fixed workload is generated once from a per-block oracle, so that every
 * es_cache_extent() in it states facts consistent with what the fault-free
 * run holds (the disk never contradicts the cache).  Each faulty run is then
 * compared, operation by operation, with a fault-free run in lockstep:
 * DELAYED blocks must be identical, and every other cached block must be
 * cached identically in the fault-free run (the cache may cover less, never
 * say something wrong).
 */
#define SPACE		1024u
#define NR_OPS		600
#define WORKLOAD_SEED	0x0fa17ed

enum wkind { W_INSERT, W_REMOVE, W_CACHE, W_LOOKUP };

struct wop {
	enum wkind kind;
	uint32_t lblk, len;
	uint64_t pblk;
	unsigned int type;
};

static struct wop workload[NR_OPS];

static int is_mapped(unsigned int type)
{
	return type == ES_WRITTEN || type == ES_UNWRITTEN;
}

/* ---- the workload ---- */

/* A random cached block's entry bounds in the oracle, for inside removes. */
static int pick_entry(const struct tu_blk *o, uint64_t *rng, unsigned int want,
		      uint32_t *first, uint32_t *last)
{
	uint32_t start = (uint32_t)tu_below(rng, SPACE), i, b;

	for (i = 0; i < SPACE; i++) {
		b = (start + i) % SPACE;
		if (o[b].type != want)
			continue;
		*first = *last = b;
		while (*first > 0 && o[*first - 1].type == want &&
		       (!is_mapped(want) || o[*first - 1].pblk + 1 == o[*first].pblk))
			(*first)--;
		while (*last + 1 < SPACE && o[*last + 1].type == want &&
		       (!is_mapped(want) || o[*last].pblk + 1 == o[*last + 1].pblk))
			(*last)++;
		return 1;
	}
	return 0;
}

static void make_workload(void)
{
	static const unsigned int types[] = { ES_WRITTEN, ES_UNWRITTEN, ES_HOLE };
	static struct tu_blk o[SPACE];
	uint64_t rng = WORKLOAD_SEED;
	uint32_t first, last;
	int i;

	for (i = 0; i < NR_OPS; i++) {
		struct wop *w = &workload[i];
		unsigned int r = (unsigned int)tu_below(&rng, 100);

		w->lblk = (uint32_t)tu_below(&rng, SPACE - 40);
		w->len = 1 + (uint32_t)tu_below(&rng, 24);
		w->pblk = 0;
		if (r < 25) {			/* delayed allocation */
			w->kind = W_INSERT;
			w->type = ES_DELAYED;
		} else if (r < 50) {		/* allocation, conversion, punch */
			w->kind = W_INSERT;
			w->type = types[tu_below(&rng, 3)];
			w->pblk = 1000 + tu_below(&rng, 50000);
			if (w->lblk > 0 && is_mapped(o[w->lblk - 1].type) &&
			    tu_below(&rng, 2)) {
				w->type = o[w->lblk - 1].type;
				w->pblk = o[w->lblk - 1].pblk + 1;
			}
		} else if (r < 70 && pick_entry(o, &rng, r < 60 ? ES_DELAYED : ES_WRITTEN,
						&first, &last) && last - first >= 2) {
			w->kind = W_REMOVE;	/* strictly inside: a split */
			w->lblk = first + 1 + (uint32_t)tu_below(&rng, last - first - 1);
			w->len = 1 + (uint32_t)tu_below(&rng, last - w->lblk);
		} else if (r < 78) {
			w->kind = W_REMOVE;
		} else if (r < 96) {
			w->kind = W_CACHE;
			tu_facts(o, &rng, w->lblk, &w->len, &w->type, &w->pblk);
		} else {
			w->kind = W_LOOKUP;
		}
		if (w->kind == W_INSERT)
			tu_blk_set(o, w->lblk, w->len, w->pblk, w->type, 0);
		else if (w->kind == W_REMOVE)
			tu_blk_set(o, w->lblk, w->len, 0, 0, 0);
		else if (w->kind == W_CACHE)
			tu_blk_set(o, w->lblk, w->len, w->pblk, w->type, 1);
	}
}

static int apply(struct es_tree *t, const struct wop *w)
{
	struct es_extent e;

	switch (w->kind) {
	case W_INSERT:
		return es_insert(t, w->lblk, w->len, w->pblk, w->type);
	case W_REMOVE:
		return es_remove(t, w->lblk, w->len);
	case W_CACHE:
		return es_cache_extent(t, w->lblk, w->len, w->pblk, w->type, NULL);
	case W_LOOKUP:
		es_lookup(t, w->lblk, &e, NULL);
		return 0;
	}
	return -1;
}

static const char *wop_fmt(const struct wop *w, char *buf, size_t len)
{
	static const char *const kinds[] = { "insert", "remove", "cache", "lookup" };

	snprintf(buf, len, "%s %" PRIu32 " %" PRIu32 " %" PRIu64 " %s", kinds[w->kind],
		 w->lblk, w->len, w->pblk, w->kind == W_INSERT || w->kind == W_CACHE ?
		 es_type_name(w->type) : "");
	return buf;
}

/* ---- lockstep comparison ---- */

/* 0 if the faulty tree says nothing the reference does not, -1 with why. */
static int compare(const struct es_tree *ref, const struct es_tree *bad,
		   char *why, size_t whylen)
{
	static struct tu_blk truth[SPACE];
	uint64_t da, db;

	da = es_count_blocks(ref, ES_DELAYED, 0, ES_MAX_BLOCKS);
	db = es_count_blocks(bad, ES_DELAYED, 0, ES_MAX_BLOCKS);
	if (da != db) {
		snprintf(why, whylen, "%" PRIu64 " delayed blocks, fault-free run has %"
			 PRIu64, db, da);
		return -1;
	}
	tu_blocks_of(ref, truth, SPACE);
	return tu_covers_less(truth, bad, SPACE, why, whylen);
}

/* The DELAYED entries of both trees, entry by entry. */
static int same_delayed_entries(const struct es_tree *ref, const struct es_tree *bad,
				char *why, size_t whylen)
{
	struct es_iter ia, ib;
	struct es_extent a, b;
	int ha, hb;

	es_iter_start(ref, 0, &ia);
	es_iter_start(bad, 0, &ib);
	for (;;) {
		while ((ha = es_iter_next(&ia, &a)) && es_type(&a) != ES_DELAYED)
			;
		while ((hb = es_iter_next(&ib, &b)) && es_type(&b) != ES_DELAYED)
			;
		if (!ha && !hb)
			return 0;
		if (ha != hb || a.lblk != b.lblk || a.len != b.len) {
			snprintf(why, whylen, "delayed entries differ at [%" PRIu32 "/%" PRIu32
				 ") vs [%" PRIu32 "/%" PRIu32 ")", ha ? a.lblk : 0,
				 ha ? a.len : 0, hb ? b.lblk : 0, hb ? b.len : 0);
			return -1;
		}
	}
}

struct run {
	int diverged_at;	/* first op whose delayed blocks differ, or -1 */
	int enomem_at;		/* first op that returned ENOMEM, or -1 */
	uint64_t failures;	/* injected failures */
	uint64_t alloc_failures;	/* es_stats.alloc_failures of the faulty cache */
	char why[512];		/* first violation, empty if none */
};

/*
 * Run the workload under policy and fault f, in lockstep with a fault-free
 * run.  Under nofail every violation is recorded in r->why; under legacy
 * only the invariant checks are, and the divergence is reported.
 */
static void run_workload(enum es_policy policy, struct es_fault *f,
			 const struct es_allocator *a, struct run *r)
{
	struct es_cache rc, fc;
	struct es_tree rt, ft;
	char why[400], buf[128];
	int i, err;

	memset(r, 0, sizeof(*r));
	r->diverged_at = r->enomem_at = -1;
	es_cache_init(&rc);
	es_cache_init(&fc);
	es_cache_set_policy(&fc, policy);
	if (a && es_cache_set_allocator(&fc, a))
		snprintf(r->why, sizeof(r->why), "es_cache_set_allocator failed");
	es_cache_set_fault(&fc, f);
	es_tree_init(&rc, &rt, 1);
	es_tree_init(&fc, &ft, 1);
	for (i = 0; i < NR_OPS && !r->why[0]; i++) {
		const struct wop *w = &workload[i];

		if (apply(&rt, w)) {
			snprintf(r->why, sizeof(r->why), "op %d (%s): fault-free run failed", i,
				 wop_fmt(w, buf, sizeof(buf)));
			break;
		}
		err = apply(&ft, w);
		if (err == ENOMEM && policy == ES_POLICY_LEGACY) {
			if (r->enomem_at < 0)
				r->enomem_at = i;
		} else if (err == EEXIST && r->diverged_at >= 0) {
			/* legacy lost delayed blocks; the disk's facts now clash */
		} else if (err) {
			snprintf(r->why, sizeof(r->why), "op %d (%s) returned %d", i,
				 wop_fmt(w, buf, sizeof(buf)), err);
			break;
		}
		if (tu_check(&ft, why, sizeof(why))) {
			snprintf(r->why, sizeof(r->why), "op %d (%s): %s", i,
				 wop_fmt(w, buf, sizeof(buf)), why);
			break;
		}
		if (compare(&rt, &ft, why, sizeof(why))) {
			if (policy == ES_POLICY_LEGACY) {
				if (r->diverged_at < 0)
					r->diverged_at = i;
				continue;
			}
			snprintf(r->why, sizeof(r->why), "op %d (%s): %s", i,
				 wop_fmt(w, buf, sizeof(buf)), why);
		}
	}
	if (!r->why[0] && policy == ES_POLICY_NOFAIL &&
	    same_delayed_entries(&rt, &ft, why, sizeof(why)))
		snprintf(r->why, sizeof(r->why), "final state: %s", why);
	r->failures = f ? f->failures : 0;
	{
		struct es_stats st;

		es_cache_stats(&fc, &st);
		r->alloc_failures = st.alloc_failures;
	}
	es_cache_set_fault(&fc, NULL);
	es_tree_release(&rt);
	es_tree_release(&ft);
	es_cache_release(&rc);
	es_cache_release(&fc);
}

/* ---- the tests ---- */

static uint64_t count_attempts(void)
{
	struct es_cache c;
	struct es_tree t;
	struct es_stats st;
	int i;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	for (i = 0; i < NR_OPS; i++)
		apply(&t, &workload[i]);
	es_cache_stats(&c, &st);
	es_tree_release(&t);
	es_cache_release(&c);
	return st.alloc_attempts;
}

static void test_workload_shape(uint64_t k)
{
	struct es_cache c;
	struct es_tree t;
	struct es_stats st;
	unsigned int kinds[4] = { 0, 0, 0, 0 };
	uint64_t delayed = 0;
	int i;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	for (i = 0; i < NR_OPS; i++) {
		kinds[workload[i].kind]++;
		apply(&t, &workload[i]);
	}
	delayed = es_count_blocks(&t, ES_DELAYED, 0, ES_MAX_BLOCKS);
	es_cache_stats(&c, &st);
	diag("workload: %u inserts, %u removes, %u caches, %u lookups; %" PRIu64
	     " allocation attempts, %" PRIu64 " conflicts, %" PRIu64
	     " entries and %" PRIu64 " delayed blocks at the end", kinds[W_INSERT],
	     kinds[W_REMOVE], kinds[W_CACHE], kinds[W_LOOKUP], k, st.conflicts,
	     st.entries, delayed);
	ok(k >= 200 && st.conflicts == 0 && delayed > 0 && st.entries >= 20,
	   "workload: fault-free run allocates %" PRIu64 " times, caches without conflict",
	   k);
	es_tree_release(&t);
	es_cache_release(&c);
}

static void sweep_nth(uint64_t k)
{
	struct es_fault f;
	struct run r;
	uint64_t n, bad = 0;

	for (n = 1; n <= k; n++) {
		es_fault_init(&f, ES_FAULT_NTH, n, 0, 0);
		run_workload(ES_POLICY_NOFAIL, &f, NULL, &r);
		if (!r.why[0] && r.failures != 1)
			snprintf(r.why, sizeof(r.why), "%" PRIu64 " failures injected, want 1",
				 r.failures);
		if (r.why[0] && bad++ < 5)
			diag("nth:%" PRIu64 ": %s", n, r.why);
	}
	ok(!bad, "nofail: nth:N for every N in 1..%" PRIu64 ": ops succeed, delayed blocks "
	   "identical, nothing wrong cached (%" PRIu64 " bad)", k, bad);
}

static void sweep_legacy(uint64_t k)
{
	struct es_fault f;
	struct run r;
	uint64_t n, diverged = 0, bad = 0;

	for (n = 1; n <= k; n++) {
		es_fault_init(&f, ES_FAULT_NTH, n, 0, 0);
		run_workload(ES_POLICY_LEGACY, &f, NULL, &r);
		if (!r.why[0] && r.diverged_at >= 0 && r.enomem_at != r.diverged_at)
			snprintf(r.why, sizeof(r.why), "delayed blocks diverged at op %d, "
				 "ENOMEM first returned at op %d", r.diverged_at, r.enomem_at);
		if (!r.why[0] && r.enomem_at >= 0 && r.diverged_at != r.enomem_at)
			snprintf(r.why, sizeof(r.why), "ENOMEM at op %d without losing "
				 "delayed blocks there", r.enomem_at);
		if (r.why[0] && bad++ < 5)
			diag("legacy nth:%" PRIu64 ": %s", n, r.why);
		diverged += r.diverged_at >= 0;
	}
	ok(!bad, "legacy: invariants hold and ENOMEM is returned exactly where delayed "
	   "blocks are lost");
	ok(diverged > 0, "legacy: %" PRIu64 " of %" PRIu64 " nth:N schedules lose delayed "
	   "blocks", diverged, k);
}

static void schedules(void)
{
	static const uint64_t every[] = { 2, 3, 5, 7, 16 };
	static const struct { double rate; uint64_t seed; } rates[] = {
		{ 0.1, 1 }, { 0.1, 2 }, { 0.1, 3 }, { 0.3, 7 }, { 0.5, 9 }, { 0.9, 11 },
	};
	struct es_fault f;
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(every) / sizeof(every[0]); i++) {
		es_fault_init(&f, ES_FAULT_EVERY, every[i], 0, 0);
		run_workload(ES_POLICY_NOFAIL, &f, NULL, &r);
		if (!r.why[0] && !r.failures)
			snprintf(r.why, sizeof(r.why), "no failure injected");
		if (!ok(!r.why[0], "nofail: every:%" PRIu64 " (%" PRIu64 " failures)",
			every[i], r.failures))
			diag("%s", r.why);
	}
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		es_fault_init(&f, ES_FAULT_RATE, 0, rates[i].rate, rates[i].seed);
		run_workload(ES_POLICY_NOFAIL, &f, NULL, &r);
		if (!r.why[0] && !r.failures)
			snprintf(r.why, sizeof(r.why), "no failure injected");
		if (!ok(!r.why[0], "nofail: rate:%g,seed:%" PRIu64 " (%" PRIu64 " failures)",
			rates[i].rate, rates[i].seed, r.failures))
			diag("%s", r.why);
	}
}

/* A malloc-backed allocator: ASan and valgrind see every entry on its own. */
static void *heap_alloc(void *priv)
{
	(void)priv;
	return malloc(ES_ENTRY_SIZE);
}

static void heap_free(void *priv, void *obj)
{
	(void)priv;
	free(obj);
}

static const struct es_allocator heap_allocator = {
	.alloc = heap_alloc, .free = heap_free,
};

/* An allocator that really fails: every n-th call returns NULL. */
struct flaky {
	uint64_t calls, every, failed;
};

static void *flaky_alloc(void *priv)
{
	struct flaky *fl = priv;

	if (++fl->calls % fl->every == 0) {
		fl->failed++;
		return NULL;
	}
	return malloc(ES_ENTRY_SIZE);
}

static void flaky_allocators(void)
{
	static const uint64_t every[] = { 2, 3, 11 };
	struct es_allocator a = { .alloc = flaky_alloc, .free = heap_free };
	struct flaky fl;
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(every) / sizeof(every[0]); i++) {
		memset(&fl, 0, sizeof(fl));
		fl.every = every[i];
		a.priv = &fl;
		run_workload(ES_POLICY_NOFAIL, NULL, &a, &r);
		if (!r.why[0] && (!fl.failed || r.alloc_failures != fl.failed))
			snprintf(r.why, sizeof(r.why), "allocator failed %" PRIu64
				 " times, alloc_failures says %" PRIu64, fl.failed,
				 r.alloc_failures);
		if (!ok(!r.why[0], "nofail: an allocator failing every %" PRIu64
			" calls for real (%" PRIu64 " failures)", every[i], fl.failed))
			diag("%s", r.why);
	}
}

static void set_allocator_rules(void)
{
	struct es_cache c;
	struct es_tree t;
	int busy, idle;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	es_insert(&t, 0, 1, 5, ES_WRITTEN);
	busy = es_cache_set_allocator(&c, &heap_allocator);
	es_remove(&t, 0, 1);
	idle = es_cache_set_allocator(&c, &heap_allocator);
	ok(busy != 0 && idle == 0 && !es_insert(&t, 0, 1, 5, ES_WRITTEN) &&
	   es_tree_entries(&t) == 1,
	   "set_allocator: refused while entries exist, accepted on an empty cache");
	es_tree_release(&t);
	es_cache_release(&c);
}

/*
 * 768d612f7982: the remove step splits a DELAYED entry into a preallocated
 * tail, then the insert step merges the new entry with the head and with
 * that tail, freeing it.  The kernel then looked at the freed tail.  Here
 * the preallocation path is forced; ASan/valgrind catch a use after free.
 */
static void uaf_768d612f7982(const char *how, int fault_before_setup, uint64_t nth,
			     int referenced, int heap)
{
	static const struct es_extent want[] = { XD(0, 10) };
	struct es_cache c;
	struct es_tree t;
	struct es_fault f;
	struct es_stats st;
	struct es_extent e;
	char why[512] = "";
	int err, good = 0;

	es_cache_init(&c);
	if (heap && es_cache_set_allocator(&c, &heap_allocator))
		snprintf(why, sizeof(why), "es_cache_set_allocator failed");
	es_tree_init(&c, &t, 1);
	es_fault_init(&f, ES_FAULT_NTH, nth, 0, 0);
	if (fault_before_setup)
		es_cache_set_fault(&c, &f);
	err = es_insert(&t, 0, 10, 0, ES_DELAYED);
	if (referenced)
		es_lookup(&t, 9, &e, NULL);
	if (!fault_before_setup)
		es_cache_set_fault(&c, &f);
	if (!err)
		err = es_insert(&t, 3, 2, 0, ES_DELAYED);
	es_cache_stats(&c, &st);
	if (why[0])
		;
	else if (err)
		snprintf(why, sizeof(why), "es_insert returned %d", err);
	else if (f.failures != 1)
		snprintf(why, sizeof(why), "%" PRIu64 " failures injected, want 1",
			 f.failures);
	else if (!st.alloc_retries)
		snprintf(why, sizeof(why), "the preallocation path was not taken");
	else if (!tu_check(&t, why, sizeof(why)) &&
		 !tu_tree_equals(&t, want, 1, 1, why, sizeof(why)) &&
		 st.entries == 1)
		good = 1;
	if (!ok(good, "768d612f7982: delayed split then merged on both sides, %s%s", how,
		heap ? ", malloc allocator" : "")) {
		diag("%s", why);
		tu_diag_tree(&t, "tree");
	}
	es_cache_set_fault(&c, NULL);
	es_tree_release(&t);
	es_cache_release(&c);
}

int main(void)
{
	uint64_t k;
	int heap;

	make_workload();
	k = count_attempts();
	test_workload_shape(k);
	for (heap = 0; heap < 2; heap++) {
		uaf_768d612f7982("nth:1 after the setup", 0, 1, 0, heap);
		uaf_768d612f7982("nth:2 from the start", 1, 2, 0, heap);
		uaf_768d612f7982("nth:1 after the setup, tail REFERENCED", 0, 1, 1, heap);
	}
	set_allocator_rules();
	flaky_allocators();
	sweep_nth(k);
	sweep_legacy(k);
	schedules();
	return done();
}
