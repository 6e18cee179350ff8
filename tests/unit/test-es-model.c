/* test-es-model.c --- randomized test of lib/es against a per-block array oracle */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es.h"
#include "es-util.h"
#include "tap.h"

/*
 * The oracle holds one {type, pblk} per block of two windows of the logical
 * space: [0, 512) and the last 256 blocks up to ES_LBLK_MAX.  Because the
 * cache keeps no two mergeable entries side by side, the oracle also
 * determines the exact list of entries: a maximal run of blocks of one type,
 * physically contiguous for WRITTEN/UNWRITTEN.
 *
 * ESCK_MODEL_OPS=N sets the operations per seed; ESCK_MODEL_SEED=S runs
 * seed S after the fixed ones.
 */
#define WIN_A		512u
#define WIN_B		256u
#define NBLK		(WIN_A + WIN_B)
#define WIN_B_BASE	(ES_LBLK_MAX - WIN_B + 1)
#define DEFAULT_OPS	20000

static const uint64_t fixed_seeds[] = { 1, 2, 3, 0x5eed, 20260101 };

struct blk {
	unsigned int type;	/* 0: nothing cached */
	uint64_t pblk;
};

struct model {
	struct es_cache c;
	struct es_tree t;
	struct blk o[NBLK];
	uint64_t rng;
	uint64_t conflicts, refused, max_entries;	/* what the run exercised */
	char op[160];		/* the current operation, for diagnostics */
	char why[512];
};

static uint32_t lblk_of(unsigned int idx)
{
	return idx < WIN_A ? idx : WIN_B_BASE + (idx - WIN_A);
}

static int is_mapped(unsigned int type)
{
	return type == ES_WRITTEN || type == ES_UNWRITTEN;
}

/* Blocks idx and idx + 1 of the oracle belong to one entry. */
static int joined(const struct model *m, unsigned int idx)
{
	const struct blk *a = &m->o[idx], *b = &m->o[idx + 1];

	if (idx + 1 == WIN_A || idx + 1 >= NBLK || !a->type || a->type != b->type)
		return 0;
	return !is_mapped(a->type) || a->pblk + 1 == b->pblk;
}

/* The entry the oracle says contains block idx (which must be cached). */
static struct es_extent entry_at(const struct model *m, unsigned int idx)
{
	unsigned int first = idx, last = idx;
	struct es_extent e;

	while (first > 0 && joined(m, first - 1))
		first--;
	while (joined(m, last))
		last++;
	e.lblk = lblk_of(first);
	e.len = last - first + 1;
	e.status = m->o[first].type;
	e.pblk = is_mapped(e.status) ? m->o[first].pblk : ES_PBLK_NONE;
	return e;
}

/* A WRITTEN/UNWRITTEN range whose last physical block passes ES_PBLK_MAX. */
static int past_pblk_max(unsigned int type, uint64_t pblk, uint32_t len)
{
	return is_mapped(type) && len && (pblk > ES_PBLK_MAX ||
					  ES_PBLK_MAX - pblk < len - 1);
}

/* Oracle index of lblk, or -1 outside the windows. */
static int idx_of(uint32_t lblk)
{
	if (lblk < WIN_A)
		return (int)lblk;
	if (lblk >= WIN_B_BASE)
		return (int)(WIN_A + (lblk - WIN_B_BASE));
	return -1;
}

/* Start of the first entry that begins after oracle index idx, or 0. */
static uint32_t next_start(const struct model *m, unsigned int idx)
{
	unsigned int i;

	for (i = idx + 1; i < NBLK; i++)
		if (m->o[i].type)
			return lblk_of(i);
	return 0;
}

static int same(const struct es_extent *a, const struct es_extent *b)
{
	return a->lblk == b->lblk && a->len == b->len &&
	       es_type(a) == es_type(b) &&
	       (!is_mapped(es_type(a)) || a->pblk == b->pblk) &&
	       (is_mapped(es_type(a)) || a->pblk == ES_PBLK_NONE);
}

/* The whole tree against the oracle; 0 or -1 with m->why. */
static int verify(struct model *m)
{
	struct es_iter it;
	struct es_extent e, want, prev;
	char b1[128], b2[128];
	uint64_t nr = 0, reclaimable = 0;
	unsigned int i = 0;
	int have_prev = 0;

	if (tu_check(&m->t, m->why, sizeof(m->why)))
		return -1;
	es_iter_start(&m->t, 0, &it);
	while (es_iter_next(&it, &e)) {
		if (have_prev && tu_mergeable(&prev, &e)) {
			snprintf(m->why, sizeof(m->why), "mergeable neighbours %s %s",
				 tu_fmt(&prev, b1, sizeof(b1)), tu_fmt(&e, b2, sizeof(b2)));
			return -1;
		}
		while (i < NBLK && !m->o[i].type)
			i++;
		if (i == NBLK) {
			snprintf(m->why, sizeof(m->why), "extra entry %s",
				 tu_fmt(&e, b1, sizeof(b1)));
			return -1;
		}
		want = entry_at(m, i);
		if (!same(&e, &want)) {
			snprintf(m->why, sizeof(m->why), "entry %s, oracle says %s",
				 tu_fmt(&e, b1, sizeof(b1)), tu_fmt(&want, b2, sizeof(b2)));
			return -1;
		}
		i += want.len;
		nr++;
		reclaimable += !es_type_must_keep(want.status);
		if (nr > m->max_entries)
			m->max_entries = nr;
		prev = e;
		have_prev = 1;
	}
	while (i < NBLK && !m->o[i].type)
		i++;
	if (i < NBLK) {
		want = entry_at(m, i);
		snprintf(m->why, sizeof(m->why), "missing entry %s",
			 tu_fmt(&want, b1, sizeof(b1)));
		return -1;
	}
	if (es_tree_entries(&m->t) != nr || es_tree_reclaimable(&m->t) != reclaimable) {
		snprintf(m->why, sizeof(m->why), "counters %" PRIu64 "/%" PRIu64
			 ", want %" PRIu64 "/%" PRIu64, es_tree_entries(&m->t),
			 es_tree_reclaimable(&m->t), nr, reclaimable);
		return -1;
	}
	return 0;
}

/* ---- random choices ---- */

static unsigned int rnd(struct model *m, unsigned int n)
{
	return (unsigned int)tu_below(&m->rng, n);
}

/* A range inside one window: *idx and *len (len may be 0). */
static void pick_range(struct model *m, unsigned int *idx, uint32_t *len)
{
	unsigned int lo = 0, size = WIN_A, room, max;

	if (rnd(m, 4) == 0) {
		lo = WIN_A;
		size = WIN_B;
	}
	*idx = lo + rnd(m, size);
	if (rnd(m, 8) == 0)	/* sometimes right up to the window's end */
		*idx = lo + size - 1 - rnd(m, 4);
	room = lo + size - *idx;
	switch (rnd(m, 10)) {
	case 0:
		max = room;
		break;
	case 1: case 2:
		max = 64;
		break;
	default:
		max = 12;
	}
	if (max > room)
		max = room;
	*len = rnd(m, 50) == 0 ? 0 : 1 + rnd(m, max);
}

static unsigned int pick_type(struct model *m, int cacheable)
{
	static const unsigned int types[] = { ES_WRITTEN, ES_UNWRITTEN, ES_DELAYED, ES_HOLE };
	unsigned int t;

	do
		t = types[rnd(m, 4)];
	while (cacheable && t == ES_DELAYED);
	return t;
}

/* A pblk for [idx, idx + len): often contiguous with a neighbour. */
static uint64_t pick_pblk(struct model *m, unsigned int idx, uint32_t len,
			  unsigned int *type)
{
	const struct blk *left = idx > 0 && idx != WIN_A ? &m->o[idx - 1] : NULL;
	unsigned int end = idx + len;
	const struct blk *right = end < NBLK && end != WIN_A ? &m->o[end] : NULL;

	switch (rnd(m, 8)) {
	case 0: case 1: case 2:
		if (left && is_mapped(left->type)) {
			if (rnd(m, 4))
				*type = left->type;
			return left->pblk + 1;
		}
		break;
	case 3: case 4:
		if (right && is_mapped(right->type) && right->pblk >= len) {
			if (rnd(m, 4))
				*type = right->type;
			return right->pblk - len;
		}
		break;
	case 5:
		return ES_PBLK_MAX - len + 1 - rnd(m, 3);
	}
	return rnd(m, 1u << 20);
}

/* ---- operations: each applies to the cache and to the oracle ---- */

static int op_insert(struct model *m)
{
	unsigned int idx, i, type = pick_type(m, 0);
	uint32_t len;
	uint64_t pblk;
	int err;

	pick_range(m, &idx, &len);
	pblk = pick_pblk(m, idx, len, &type);
	snprintf(m->op, sizeof(m->op), "insert %" PRIu32 " %" PRIu32 " %" PRIu64 " %s",
		 lblk_of(idx), len, pblk, es_type_name(type));
	err = es_insert(&m->t, lblk_of(idx), len, pblk, type);
	if (past_pblk_max(type, pblk, len)) {
		if (err == EINVAL) {
			m->refused++;
			return 0;
		}
		snprintf(m->why, sizeof(m->why), "returned %d, want EINVAL", err);
		return -1;
	}
	if (err) {
		snprintf(m->why, sizeof(m->why), "returned %d", err);
		return -1;
	}
	for (i = 0; i < len; i++) {
		m->o[idx + i].type = type;
		m->o[idx + i].pblk = is_mapped(type) ? pblk + i : 0;
	}
	return 0;
}

static int op_remove(struct model *m)
{
	unsigned int idx, i;
	uint32_t len;
	int err;

	pick_range(m, &idx, &len);
	snprintf(m->op, sizeof(m->op), "remove %" PRIu32 " %" PRIu32, lblk_of(idx), len);
	err = es_remove(&m->t, lblk_of(idx), len);
	if (err) {
		snprintf(m->why, sizeof(m->why), "returned %d", err);
		return -1;
	}
	for (i = 0; i < len; i++)
		m->o[idx + i].type = 0;
	return 0;
}

/* Facts for a cache call: half the time consistent with what is cached. */
static uint64_t cache_facts(struct model *m, unsigned int idx, uint32_t len,
			    unsigned int *type)
{
	const struct blk *b = &m->o[idx];

	if (rnd(m, 2)) {
		if (is_mapped(b->type)) {
			*type = b->type;
			return b->pblk;
		}
		if (b->type) {
			*type = ES_HOLE;
			return 0;
		}
	}
	return pick_pblk(m, idx, len, type);
}

static int op_cache(struct model *m)
{
	unsigned int idx, i, type = pick_type(m, 1), first_bad = NBLK;
	struct es_extent conflict, want;
	char b1[128], b2[128];
	uint32_t len;
	uint64_t pblk;
	int err;

	pick_range(m, &idx, &len);
	pblk = cache_facts(m, idx, len, &type);
	if (type == ES_DELAYED)
		type = ES_HOLE;
	snprintf(m->op, sizeof(m->op), "cache %" PRIu32 " %" PRIu32 " %" PRIu64 " %s",
		 lblk_of(idx), len, pblk, es_type_name(type));
	for (i = 0; i < len && first_bad == NBLK; i++) {
		const struct blk *b = &m->o[idx + i];

		if (!b->type || (type == ES_HOLE && b->type == ES_DELAYED))
			continue;
		if (b->type != type || (is_mapped(type) && b->pblk != pblk + i))
			first_bad = idx + i;
	}
	memset(&conflict, 0, sizeof(conflict));
	err = es_cache_extent(&m->t, lblk_of(idx), len, pblk, type, &conflict);
	if (past_pblk_max(type, pblk, len)) {
		if (err == EINVAL) {
			m->refused++;
			return 0;
		}
		snprintf(m->why, sizeof(m->why), "returned %d, want EINVAL", err);
		return -1;
	}
	if (first_bad != NBLK) {
		want = entry_at(m, first_bad);
		if (err != EEXIST || !same(&conflict, &want)) {
			snprintf(m->why, sizeof(m->why),
				 "returned %d with %s, want EEXIST with %s", err,
				 tu_fmt(&conflict, b1, sizeof(b1)),
				 tu_fmt(&want, b2, sizeof(b2)));
			return -1;
		}
		m->conflicts++;
		return 0;
	}
	if (err) {
		snprintf(m->why, sizeof(m->why), "returned %d, no conflict expected", err);
		return -1;
	}
	for (i = 0; i < len; i++)
		if (!m->o[idx + i].type) {
			m->o[idx + i].type = type;
			m->o[idx + i].pblk = is_mapped(type) ? pblk + i : 0;
		}
	return 0;
}

static int op_lookup(struct model *m)
{
	unsigned int idx = rnd(m, NBLK);
	struct es_extent e, want;
	char b1[128], b2[128];
	uint32_t next = 0xdeadbeef, want_next;
	int found;

	snprintf(m->op, sizeof(m->op), "lookup %" PRIu32, lblk_of(idx));
	memset(&e, 0, sizeof(e));
	found = es_lookup(&m->t, lblk_of(idx), &e, &next);
	if (!m->o[idx].type) {
		want_next = next_start(m, idx);
		if (found || next != want_next) {
			snprintf(m->why, sizeof(m->why), "returned %d next %" PRIu32
				 ", want a miss with next %" PRIu32, found, next, want_next);
			return -1;
		}
		return 0;
	}
	want = entry_at(m, idx);
	want_next = next_start(m, (unsigned int)idx_of(es_end(&want)));
	if (found != 1 || !same(&e, &want) || next != want_next) {
		snprintf(m->why, sizeof(m->why), "returned %d %s next %" PRIu32
			 ", want %s next %" PRIu32, found, tu_fmt(&e, b1, sizeof(b1)),
			 next, tu_fmt(&want, b2, sizeof(b2)), want_next);
		return -1;
	}
	return 0;
}

static int op_find(struct model *m)
{
	unsigned int idx, i, types = 1 + rnd(m, ES_TYPE_MASK);
	struct es_extent e, want, zero;
	char b1[128], b2[128];
	uint64_t count = 0, got_count;
	uint32_t len;
	int found = 0, r, scan;

	pick_range(m, &idx, &len);
	if (!len)
		len = 1;
	snprintf(m->op, sizeof(m->op), "find %#x [%" PRIu32 ", %" PRIu32 "]", types,
		 lblk_of(idx), lblk_of(idx) + len - 1);
	memset(&want, 0, sizeof(want));
	for (i = idx; i < idx + len; i++) {
		if (!(m->o[i].type & types))
			continue;
		if (!found)
			want = entry_at(m, i);
		found = 1;
		count++;
	}
	memset(&e, 0x5a, sizeof(e));
	memset(&zero, 0, sizeof(zero));
	r = es_find_range(&m->t, types, lblk_of(idx), lblk_of(idx) + len - 1, &e);
	if (r != found || (found ? !same(&e, &want) : !!memcmp(&e, &zero, sizeof(e)))) {
		snprintf(m->why, sizeof(m->why), "find_range returned %d %s, want %d %s",
			 r, tu_fmt(&e, b1, sizeof(b1)), found, tu_fmt(&want, b2, sizeof(b2)));
		return -1;
	}
	scan = es_scan_range(&m->t, types, lblk_of(idx), lblk_of(idx) + len - 1);
	got_count = es_count_blocks(&m->t, types, lblk_of(idx), len);
	if (!!scan != found || got_count != count) {
		snprintf(m->why, sizeof(m->why), "scan_range %d count_blocks %" PRIu64
			 ", want %d %" PRIu64, scan, got_count, found, count);
		return -1;
	}
	return 0;
}

/* A range that passes ES_LBLK_MAX: refused, nothing changes. */
static int op_wrap(struct model *m)
{
	uint32_t back = rnd(m, WIN_B), len = back + 2 + rnd(m, 8);
	uint32_t lblk = ES_LBLK_MAX - back;
	int err;

	snprintf(m->op, sizeof(m->op), "wrapping ops at %" PRIu32 " len %" PRIu32, lblk, len);
	err = es_insert(&m->t, lblk, len, 5, pick_type(m, 0));
	if (err == EINVAL)
		err = es_remove(&m->t, lblk, len);
	if (err == EINVAL)
		err = es_cache_extent(&m->t, lblk, len, 5, pick_type(m, 1), NULL);
	if (err != EINVAL) {
		snprintf(m->why, sizeof(m->why), "returned %d, want EINVAL", err);
		return -1;
	}
	return 0;
}

static int op_drop(struct model *m)
{
	unsigned int i;

	snprintf(m->op, sizeof(m->op), "drop_reclaimable");
	es_tree_drop_reclaimable(&m->t);
	for (i = 0; i < NBLK; i++)
		if (m->o[i].type != ES_DELAYED)
			m->o[i].type = 0;
	return 0;
}

static int one_op(struct model *m)
{
	unsigned int r = rnd(m, 1000);

	if (r < 350)
		return op_insert(m);
	if (r < 550)
		return op_remove(m);
	if (r < 800)
		return op_cache(m);
	if (r < 900)
		return op_lookup(m);
	if (r < 980)
		return op_find(m);
	if (r < 995)
		return op_wrap(m);
	return op_drop(m);
}

static void run_seed(uint64_t seed, unsigned long ops)
{
	struct model *m = calloc(1, sizeof(*m));
	unsigned long i;
	int bad = 0;

	if (!m) {
		ok(0, "seed %" PRIu64 ": out of memory", seed);
		return;
	}
	m->rng = seed;
	es_cache_init(&m->c);
	es_tree_init(&m->c, &m->t, seed);
	for (i = 0; i < ops && !bad; i++) {
		m->op[0] = m->why[0] = '\0';
		bad = one_op(m) || verify(m);
	}
	if (!ok(!bad, "seed %" PRIu64 ": %lu random operations match the oracle", seed,
		bad ? i : ops)) {
		diag("seed %" PRIu64 ", operation #%lu: %s", seed, i - 1, m->op);
		diag("%s", m->why);
		tu_diag_tree(&m->t, "tree");
	} else {
		diag("seed %" PRIu64 ": %" PRIu64 " cache conflicts, %" PRIu64
		     " pblk ranges refused, at most %" PRIu64 " entries", seed,
		     m->conflicts, m->refused, m->max_entries);
	}
	es_tree_release(&m->t);
	es_cache_release(&m->c);
	free(m);
}

int main(void)
{
	const char *env_ops = getenv("ESCK_MODEL_OPS");
	const char *env_seed = getenv("ESCK_MODEL_SEED");
	unsigned long ops = DEFAULT_OPS;
	size_t i;

	if (env_ops && *env_ops)
		ops = strtoul(env_ops, NULL, 0);
	for (i = 0; i < sizeof(fixed_seeds) / sizeof(fixed_seeds[0]); i++)
		run_seed(fixed_seeds[i], ops);
	if (env_seed && *env_seed)
		run_seed(strtoull(env_seed, NULL, 0), ops);
	return done();
}
