/* test-es-reclaim.c --- the kernel's reclaim in lib/es: es_shrink, aging, round-robin, limits */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "es.h"
#include "es-util.h"
#include "tap.h"

/* Entries [i * 10, i * 10 + 1) for i in [0, n): never mergeable. */
static void fill_written(struct es_tree *t, unsigned int n, uint64_t pblk_base)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		es_insert(t, i * 10, 1, pblk_base + i * 100, ES_WRITTEN);
}

static struct es_stats stats(const struct es_cache *c)
{
	struct es_stats st;

	es_cache_stats(c, &st);
	return st;
}

/* es_check on every tree given and es_cache_check; 1 if all pass. */
static int all_ok(struct es_tree **trees, int n)
{
	char why[512];
	int i;

	for (i = 0; i < n; i++)
		if (tu_check(trees[i], why, sizeof(why))) {
			diag("tree %" PRIu64 ": %s", trees[i]->id, why);
			return 0;
		}
	return 1;
}

static void test_delayed_never_reclaimed(void)
{
	static const struct es_extent want[] = {
		XD(0, 5), XD(20, 5), XD(40, 5),
	};
	struct es_cache c;
	struct es_tree t, *tp = &t;
	struct es_stats before, after;
	char why[512] = "";
	uint64_t freed;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	es_insert(&t, 0, 5, 0, ES_DELAYED);
	es_insert(&t, 20, 5, 0, ES_DELAYED);
	es_insert(&t, 40, 5, 0, ES_DELAYED);
	freed = es_shrink(&c, 1000);
	if (!ok(freed == 0 && !tu_tree_equals(&t, want, 3, 0, why, sizeof(why)) &&
		stats(&c).trees_on_list == 0 && all_ok(&tp, 1),
		"reclaim: a tree of only DELAYED entries frees nothing (freed %" PRIu64 ")",
		freed))
		diag("%s", why);

	es_insert(&t, 10, 1, 100, ES_WRITTEN);
	es_insert(&t, 30, 2, 200, ES_UNWRITTEN);
	es_insert(&t, 50, 3, 0, ES_HOLE);
	before = stats(&c);
	freed = es_shrink(&c, 1000);
	after = stats(&c);
	if (!ok(freed == 3 && !tu_tree_equals(&t, want, 3, 0, why, sizeof(why)) &&
		all_ok(&tp, 1),
		"reclaim: W, U and H freed, DELAYED kept (freed %" PRIu64 ")", freed))
		diag("%s", why);
	if (!ok(after.shrink_scanned - before.shrink_scanned == 6 &&
		after.shrunk - before.shrunk == 3 &&
		after.shrink_calls - before.shrink_calls == 1 &&
		after.entries == 3 && after.reclaimable == 0 && after.trees_on_list == 0,
		"reclaim: every entry examined once, DELAYED ones included; counters follow"))
		diag("scanned %" PRIu64 " shrunk %" PRIu64 " calls %" PRIu64
		     " entries %" PRIu64 " reclaimable %" PRIu64 " on_list %" PRIu64,
		     after.shrink_scanned - before.shrink_scanned,
		     after.shrunk - before.shrunk,
		     after.shrink_calls - before.shrink_calls, after.entries,
		     after.reclaimable, after.trees_on_list);
	ok(es_shrink(&c, 0) == 0, "reclaim: nr_to_scan 0 frees nothing");
	es_tree_release(&t);
	es_cache_release(&c);
}

static void test_referenced(void)
{
	static const struct es_extent survivor[] = { XW(10, 1, 200) };
	struct es_cache c;
	struct es_tree t, *tp = &t;
	struct es_extent e;
	char why[512] = "";
	uint64_t freed;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	fill_written(&t, 3, 100);
	es_lookup(&t, 10, &e, NULL);
	freed = es_shrink(&c, 3);
	if (!ok(freed == 2 && !tu_tree_equals(&t, survivor, 1, 0, why, sizeof(why)),
		"reclaim: a REFERENCED entry survives one round with the bit cleared "
		"(freed %" PRIu64 ")", freed))
		diag("%s", why);
	freed = es_shrink(&c, 3);
	ok(freed == 1 && es_tree_entries(&t) == 0 && all_ok(&tp, 1),
	   "reclaim: the next round frees it (freed %" PRIu64 ")", freed);

	/* A single call scans each entry at most once, however large nr_to_scan. */
	fill_written(&t, 3, 100);
	es_lookup(&t, 0, &e, NULL);
	es_lookup(&t, 20, &e, NULL);
	freed = es_shrink(&c, 1000000);
	ok(freed == 1 && es_tree_entries(&t) == 2,
	   "reclaim: one call is one round even with a huge nr_to_scan (freed %" PRIu64
	   ")", freed);
	freed = es_shrink(&c, 1000000);
	ok(freed == 2 && es_tree_entries(&t) == 0, "reclaim: second round frees them");
	es_tree_release(&t);
	es_cache_release(&c);
}

#define RR_TREES	4
#define RR_ENTRIES	10

static void test_round_robin(void)
{
	struct es_cache c;
	struct es_tree trees[RR_TREES], *tp[RR_TREES];
	uint64_t left[RR_TREES], freed;
	int i, j, bad = -1;

	es_cache_init(&c);
	for (i = 0; i < RR_TREES; i++) {
		tp[i] = &trees[i];
		es_tree_init(&c, &trees[i], i + 1);
		fill_written(&trees[i], RR_ENTRIES, 1000 * (i + 1));
		left[i] = RR_ENTRIES;
	}
	/* Call j takes 5 entries from tree j % 4, in the order they joined the list. */
	for (j = 0; j < 8 && bad < 0; j++) {
		freed = es_shrink(&c, 5);
		left[j % RR_TREES] -= 5;
		for (i = 0; i < RR_TREES; i++)
			if (es_tree_entries(&trees[i]) != left[i])
				bad = j;
		if (freed != 5 || !all_ok(tp, RR_TREES))
			bad = j;
	}
	if (!ok(bad < 0 && all_ok(tp, RR_TREES),
		"round-robin: eight calls of 5 take 5 from each tree in turn, twice"))
		diag("call %d: tree sizes %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
		     bad, es_tree_entries(&trees[0]), es_tree_entries(&trees[1]),
		     es_tree_entries(&trees[2]), es_tree_entries(&trees[3]));
	ok(stats(&c).entries == 0 && stats(&c).trees_on_list == 0,
	   "round-robin: everything freed, no tree left on the list");

	/* A large call walks on to the next trees once the first is exhausted. */
	for (i = 0; i < RR_TREES; i++)
		fill_written(&trees[i], 3, 1000 * (i + 1));
	freed = es_shrink(&c, 5);
	ok(freed == 5 && es_tree_entries(&trees[0]) == 0 &&
	   es_tree_entries(&trees[1]) == 1 && es_tree_entries(&trees[2]) == 3 &&
	   es_tree_entries(&trees[3]) == 3,
	   "round-robin: 5 entries from trees of 3: all of the first, 2 of the second");
	/* Releasing a listed tree keeps the list sound. */
	es_tree_release(&trees[2]);
	freed = es_shrink(&c, 100);
	ok(freed == 4 && all_ok(tp, 2) && all_ok(&tp[3], 1) && stats(&c).entries == 0,
	   "round-robin: a released tree leaves the list (freed %" PRIu64 ")", freed);
	es_tree_release(&trees[0]);
	es_tree_release(&trees[1]);
	es_tree_release(&trees[3]);
	es_cache_release(&c);
}

/* lblk of every entry of t, as "a b c". */
static const char *lblks(const struct es_tree *t, char *buf, size_t len)
{
	struct es_iter it;
	struct es_extent e;
	size_t off = 0;

	buf[0] = '\0';
	es_iter_start(t, 0, &it);
	while (es_iter_next(&it, &e) && off < len)
		off += snprintf(buf + off, len - off, "%s%" PRIu32, off ? " " : "", e.lblk);
	return buf;
}

static void test_resume(void)
{
	static const struct {
		uint64_t scan, freed;
		int lookup;		/* lblk to look up before the call, or -1 */
		int insert;		/* lblk to insert before the call, or -1 */
		const char *left;
	} steps[] = {
		{ 3, 3, -1, -1, "30 40 50 60 70 80 90" },
		{ 1, 1, -1, 5, "5 40 50 60 70 80 90" },	/* not 5: behind the cursor */
		{ 4, 3, 70, -1, "5 70 80 90" },		/* 70 gets another round */
		{ 3, 3, -1, -1, "70" },			/* 80 90, wrap to 5 */
		{ 1, 1, -1, -1, "" },
	};
	struct es_cache c;
	struct es_tree t, *tp = &t;
	struct es_extent e;
	char buf[256];
	uint64_t freed;
	size_t i;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	fill_written(&t, 10, 100);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i].lookup >= 0)
			es_lookup(&t, steps[i].lookup, &e, NULL);
		if (steps[i].insert >= 0)
			es_insert(&t, steps[i].insert, 1, 999, ES_WRITTEN);
		freed = es_shrink(&c, steps[i].scan);
		if (!ok(freed == steps[i].freed && !strcmp(lblks(&t, buf, sizeof(buf)),
							   steps[i].left) && all_ok(&tp, 1),
			"resume: shrink %" PRIu64 " leaves {%s}", steps[i].scan,
			steps[i].left))
			diag("freed %" PRIu64 ", left {%s}", freed, buf);
	}
	es_tree_release(&t);
	es_cache_release(&c);
}

#define LIM_TREES	4

/*
 * Insert many non-mergeable written entries (with lookups and removes mixed
 * in) into several trees; after every operation the cache must be within
 * limit, unless only must-keep entries are left.
 */
static void test_limit(const char *what, uint64_t max_entries, uint64_t max_bytes,
		       uint64_t bound)
{
	struct es_cache c;
	struct es_tree trees[LIM_TREES], *tp[LIM_TREES];
	struct es_stats st;
	struct es_extent e;
	uint64_t rng = 42, peak = 0;
	int i, op, bad = -1, delayed_bad = -1;

	es_cache_init(&c);
	es_cache_set_limit(&c, max_entries, max_bytes);
	for (i = 0; i < LIM_TREES; i++) {
		tp[i] = &trees[i];
		es_tree_init(&c, &trees[i], i + 1);
	}
	for (op = 0; op < 4000 && bad < 0; op++) {
		struct es_tree *t = &trees[op % LIM_TREES];
		uint32_t lblk = (uint32_t)tu_below(&rng, 5000) * 2;

		switch (tu_below(&rng, 8)) {
		case 0:
			es_lookup(t, lblk, &e, NULL);
			break;
		case 1:
			es_remove(t, lblk, 7);
			break;
		case 2:
			es_cache_extent(t, lblk, 1, 7 * (uint64_t)lblk, ES_WRITTEN, NULL);
			break;
		default:
			es_insert(t, lblk, 1, 7 * (uint64_t)lblk, ES_WRITTEN);
		}
		st = stats(&c);
		if (st.entries > peak)
			peak = st.entries;
		if (st.entries > bound || !all_ok(&t, 1))
			bad = op;
	}
	if (!ok(bad < 0 && peak == bound, "limit %s: %" PRIu64 " entries at most "
		"through 4000 operations (peak %" PRIu64 ")", what, bound, peak))
		diag("operation %d: %" PRIu64 " entries", bad, stats(&c).entries);

	/* Now more DELAYED entries than the limit, in one tree. */
	for (op = 0; op < (int)bound + 50; op++) {
		es_insert(&trees[0], 20000 + op * 2, 1, 0, ES_DELAYED);
		es_insert(&trees[1 + op % 3], (uint32_t)op * 2, 1, 3 * (uint64_t)op,
			  ES_WRITTEN);
		st = stats(&c);
		if (st.entries > bound && st.reclaimable)
			delayed_bad = op;
		if (es_count_blocks(&trees[0], ES_DELAYED, 0, ES_MAX_BLOCKS) !=
		    (uint64_t)op + 1)
			delayed_bad = op;
	}
	st = stats(&c);
	if (!ok(delayed_bad < 0 && st.entries == bound + 50 && st.reclaimable == 0 &&
		all_ok(tp, LIM_TREES),
		"limit %s: DELAYED entries alone exceed it and are all kept", what))
		diag("operation %d; at the end %" PRIu64 " entries, %" PRIu64
		     " reclaimable", delayed_bad, st.entries, st.reclaimable);
	ok(st.shrunk > 0 && st.shrink_scanned >= st.shrunk,
	   "limit %s: reclaim counted (%" PRIu64 " shrunk, %" PRIu64 " scanned)", what,
	   st.shrunk, st.shrink_scanned);
	for (i = 0; i < LIM_TREES; i++)
		es_tree_release(&trees[i]);
	es_cache_release(&c);
}

static void test_limit_other_trees_first(void)
{
	struct es_cache c;
	struct es_tree a, b;
	struct es_extent e;
	uint64_t i;

	es_cache_init(&c);
	es_tree_init(&c, &a, 1);
	es_tree_init(&c, &b, 2);
	fill_written(&a, 10, 100);
	fill_written(&b, 10, 5000);
	es_cache_set_limit(&c, 20, 0);
	es_insert(&a, 500, 1, 77, ES_WRITTEN);
	ok(es_tree_entries(&a) == 11 && es_tree_entries(&b) < 10 &&
	   stats(&c).entries <= 20,
	   "limit: other trees are reclaimed first (%" PRIu64 " + %" PRIu64 ")",
	   es_tree_entries(&a), es_tree_entries(&b));

	/* Everything REFERENCED: the limit still holds. */
	es_tree_release(&b);
	es_tree_init(&c, &b, 2);
	for (i = 0; i < 9; i++)
		es_lookup(&a, (uint32_t)(i * 10), &e, NULL);
	for (i = 0; i < 30; i++) {
		es_insert(&b, (uint32_t)(i * 10), 1, 5000 + i * 100, ES_WRITTEN);
		es_lookup(&b, (uint32_t)(i * 10), &e, NULL);
	}
	ok(stats(&c).entries <= 20,
	   "limit: REFERENCED entries do not keep the cache over its limit (%" PRIu64 ")",
	   stats(&c).entries);
	es_tree_release(&a);
	es_tree_release(&b);
	es_cache_release(&c);
}

/* A remove strictly inside an entry adds one (the tail): the limit still holds. */
static void test_limit_split(void)
{
	struct es_cache c;
	struct es_tree t;
	struct es_stats st;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	es_cache_set_limit(&c, 2, 0);
	es_insert(&t, 0, 10, 100, ES_WRITTEN);
	es_insert(&t, 20, 1, 500, ES_WRITTEN);
	es_remove(&t, 3, 2);
	st = stats(&c);
	if (!ok(st.entries <= 2, "limit: a remove that splits an entry stays within it"))
		diag("%" PRIu64 " entries (%" PRIu64 " reclaimable) over a limit of 2",
		     st.entries, st.reclaimable);
	es_tree_release(&t);
	es_cache_release(&c);
}

static void test_drop(void)
{
	struct es_cache c;
	struct es_tree a, b;

	es_cache_init(&c);
	es_tree_init(&c, &a, 1);
	es_tree_init(&c, &b, 2);
	fill_written(&a, 5, 100);
	es_insert(&a, 100, 10, 0, ES_DELAYED);
	fill_written(&b, 5, 900);
	es_tree_drop_reclaimable(&a);
	ok(es_tree_entries(&a) == 1 && stats(&c).trees_on_list == 1 &&
	   es_shrink(&c, 100) == 5 && es_tree_entries(&a) == 1,
	   "drop_reclaimable: takes the tree off the reclaim list");
	es_tree_release(&a);
	es_tree_release(&b);
	es_cache_release(&c);
}

#define RND_TREES	3
#define RND_SPACE	256u
#define RND_OPS		8000

/*
 * Random operations on three trees of a cache that reclaims (by es_shrink
 * and by its limit), against the truth: the per-block state a cache that
 * never reclaims would hold.  After every operation each tree may cover
 * less than the truth but never disagree with it, DELAYED blocks are
 * exactly the truth's, and the cache is within its limit unless only
 * must-keep entries are left.  es_cache_extent only states facts that
 * agree with the truth, so it must never report a conflict.
 */
static void test_random(const char *what, uint64_t max_entries, uint64_t max_bytes,
			uint64_t bound, uint64_t seed)
{
	static struct tu_blk truth[RND_TREES][RND_SPACE];
	static const unsigned int types[] = {
		ES_WRITTEN, ES_UNWRITTEN, ES_DELAYED, ES_HOLE
	};
	struct es_cache c;
	struct es_tree trees[RND_TREES];
	struct es_extent e;
	struct es_stats st;
	char why[512] = "", op[128] = "";
	uint64_t rng = seed, freed = 0;
	int i, n, bad = -1;

	memset(truth, 0, sizeof(truth));
	es_cache_init(&c);
	es_cache_set_limit(&c, max_entries, max_bytes);
	for (i = 0; i < RND_TREES; i++)
		es_tree_init(&c, &trees[i], i + 1);
	for (n = 0; n < RND_OPS && bad < 0; n++) {
		int k = (int)tu_below(&rng, RND_TREES);
		struct es_tree *t = &trees[k];
		struct tu_blk *o = truth[k];
		uint32_t lblk = (uint32_t)tu_below(&rng, RND_SPACE - 16);
		uint32_t len = 1 + (uint32_t)tu_below(&rng, 16);
		unsigned int r = (unsigned int)tu_below(&rng, 100), type;
		uint64_t pblk = 1000 + tu_below(&rng, 4) * 1000 + lblk;
		int err = 0;

		if (r < 40) {
			type = types[tu_below(&rng, 4)];
			snprintf(op, sizeof(op), "tree %d: insert %u %u %" PRIu64 " %s", k,
				 lblk, len, pblk, es_type_name(type));
			err = es_insert(t, lblk, len, pblk, type);
			tu_blk_set(o, lblk, len, pblk, type, 0);
		} else if (r < 55) {
			snprintf(op, sizeof(op), "tree %d: remove %u %u", k, lblk, len);
			err = es_remove(t, lblk, len);
			tu_blk_set(o, lblk, len, 0, 0, 0);
		} else if (r < 80) {
			tu_facts(o, &rng, lblk, &len, &type, &pblk);
			snprintf(op, sizeof(op), "tree %d: cache %u %u %" PRIu64 " %s", k,
				 lblk, len, pblk, es_type_name(type));
			err = es_cache_extent(t, lblk, len, pblk, type, NULL);
			tu_blk_set(o, lblk, len, pblk, type, 1);
		} else if (r < 92) {
			snprintf(op, sizeof(op), "tree %d: lookup %u", k, lblk);
			es_lookup(t, lblk, &e, NULL);
		} else if (r < 99) {
			snprintf(op, sizeof(op), "shrink %u", len);
			freed += es_shrink(&c, len);
		} else {
			snprintf(op, sizeof(op), "tree %d: drop_reclaimable", k);
			es_tree_drop_reclaimable(t);
		}
		if (err)
			snprintf(why, sizeof(why), "returned %d", err);
		for (i = 0; i < RND_TREES && !why[0]; i++)
			if (!tu_check(&trees[i], why, sizeof(why)))
				tu_covers_less(truth[i], &trees[i], RND_SPACE, why, sizeof(why));
		st = stats(&c);
		if (!why[0] && bound && st.entries > bound && st.reclaimable)
			snprintf(why, sizeof(why), "%" PRIu64 " entries, %" PRIu64
				 " reclaimable, over the limit", st.entries, st.reclaimable);
		if (why[0])
			bad = n;
	}
	st = stats(&c);
	if (!ok(bad < 0 && st.shrunk >= freed && freed > 0 && st.conflicts == 0,
		"random reclaim, %s: %d operations, the cache covers less, never wrong "
		"(%" PRIu64 " shrunk)", what, RND_OPS, st.shrunk)) {
		diag("operation %d: %s: %s", bad, op, why);
		diag("%" PRIu64 " shrunk, %" PRIu64 " freed by es_shrink, %" PRIu64
		     " conflicts", st.shrunk, freed, st.conflicts);
	}
	for (i = 0; i < RND_TREES; i++)
		es_tree_release(&trees[i]);
	es_cache_release(&c);
}

int main(void)
{
	test_delayed_never_reclaimed();
	test_referenced();
	test_round_robin();
	test_resume();
	test_limit("of 100 entries", 100, 0, 100);
	test_limit("of 64 entries' bytes", 0, 64 * ES_ENTRY_SIZE, 64);
	test_limit("of both, bytes tighter", 100, 50 * ES_ENTRY_SIZE + 39, 50);
	test_limit_other_trees_first();
	test_limit_split();
	test_drop();
	test_random("no limit", 0, 0, 0, 1);
	test_random("at most 40 entries", 40, 0, 40, 2);
	test_random("at most 25 entries' bytes", 0, 25 * ES_ENTRY_SIZE, 25, 3);
	test_random("at most 8 entries", 8, 0, 8, 4);
	return done();
}
