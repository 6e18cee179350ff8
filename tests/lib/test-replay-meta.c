/* test-replay-meta.c --- TAP tests: replay_meta_overlaps() (lib/replay_meta.c) answers as a scan of every interval, in any order of questions */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay_int.h"
#include "../unit/tap.h"

#define JNL_INO 8
#define OTHER_INO 12

static uint64_t rng_state;

/* xorshift64: the same questions on every run and every libc. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* 0..n-1, n > 0 */
static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

struct list {
	struct replay_span *v;
	size_t nr;
};

static void push(struct list *l, uint64_t start, uint64_t end)
{
	l->v = realloc(l->v, (l->nr + 1) * sizeof(*l->v));
	if (!l->v) {
		diag("out of memory");
		exit(99);
	}
	l->v[l->nr].start = start;
	l->v[l->nr].end = end;
	l->nr++;
}

/* The reference: every interval looked at, nothing remembered. */
static int scan(const struct list *l, uint64_t blk, uint64_t len)
{
	uint64_t end = blk + len < blk ? UINT64_MAX : blk + len;
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < l->nr; i++)
		if (l->v[i].start < end && blk < l->v[i].end)
			return 1;
	return 0;
}

static int cmp_span(const void *a, const void *b)
{
	const struct replay_span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/*
 * sys and jnl as one sorted list, overlapping and touching intervals
 * merged: what replay_meta_build() gives every file but the journal.
 */
static struct list merged(const struct list *sys, const struct list *jnl)
{
	struct list m = { NULL, 0 }, all = { NULL, 0 };
	size_t i;

	for (i = 0; i < sys->nr; i++)
		push(&all, sys->v[i].start, sys->v[i].end);
	for (i = 0; i < jnl->nr; i++)
		push(&all, jnl->v[i].start, jnl->v[i].end);
	if (all.nr)
		qsort(all.v, all.nr, sizeof(*all.v), cmp_span);
	for (i = 0; i < all.nr; i++) {
		if (m.nr && all.v[i].start <= m.v[m.nr - 1].end) {
			if (all.v[i].end > m.v[m.nr - 1].end)
				m.v[m.nr - 1].end = all.v[i].end;
		} else {
			push(&m, all.v[i].start, all.v[i].end);
		}
	}
	free(all.v);
	return m;
}

struct layout {
	const char *name;
	struct list sys, jnl;
};

struct run {
	struct esck_replay *r;
	const struct layout *lay;
	size_t asked, wrong;
};

static void ask(struct run *t, uint32_t ino, uint64_t blk, uint64_t len)
{
	int want = scan(&t->lay->sys, blk, len) ||
		   (ino != JNL_INO && scan(&t->lay->jnl, blk, len));
	int got = replay_meta_overlaps(t->r, ino, blk, len);

	t->asked++;
	if (got != want && t->wrong++ < 5)
		diag("%s: ino %u [%llu, +%llu): got %d, want %d", t->lay->name,
		     (unsigned int)ino, (unsigned long long)blk,
		     (unsigned long long)len, got, want);
}

static uint64_t some_len(void)
{
	static const uint64_t special[] = { 0, 1, 2, 3, UINT64_MAX,
					    UINT64_MAX - 1, 1ull << 32 };

	switch (rnd_below(4)) {
	case 0:
		return special[rnd_below(sizeof(special) / sizeof(special[0]))];
	case 1:
		return rnd();
	default:
		return 1 + rnd_below(80);
	}
}

/* Around every edge of every interval, in order, then in reverse. */
static void edges(struct run *t, const struct list *l, uint32_t ino)
{
	static const int64_t near[] = { -2, -1, 0, 1 };
	size_t i, k, n = 2 * l->nr;

	for (i = 0; i < 2 * n; i++) {
		size_t j = i < n ? i : 2 * n - 1 - i;
		const struct replay_span *s = &l->v[j / 2];
		uint64_t at = j % 2 ? s->end : s->start;

		for (k = 0; k < sizeof(near) / sizeof(near[0]); k++) {
			uint64_t blk = at + (uint64_t)near[k];

			ask(t, ino, blk, 1);
			ask(t, ino, blk, 2);
			ask(t, ino, blk, s->end - s->start);
			ask(t, ino, blk, some_len());
		}
	}
}

/*
 * Runs of questions in block order, as a tree walk asks them, then
 * backwards, broken by jumps anywhere: the hint right, near and wrong.
 */
static void walks(struct run *t, uint64_t lo, uint64_t hi, int nr)
{
	const struct list *sys = &t->lay->sys;
	uint64_t span = hi - lo + 1 ? hi - lo + 1 : UINT64_MAX, blk = lo;
	int i;

	for (i = 0; i < nr; i++) {
		uint32_t ino = rnd_below(8) ? OTHER_INO : JNL_INO;
		uint64_t step = rnd_below(2) ? rnd_below(8)
					     : rnd_below(span / 64 + 2);

		switch (rnd_below(16)) {
		case 0:
			blk = lo + rnd_below(span);
			break;
		case 1:
			if (sys->nr) {
				const struct replay_span *s =
					&sys->v[rnd_below(sys->nr)];

				blk = (rnd_below(2) ? s->start : s->end) - 2 +
				      rnd_below(5);
			}
			break;
		case 2:
		case 3:
			blk -= step;
			break;
		default:
			blk += step;
		}
		ask(t, ino, blk, some_len());
	}
}

static void check(struct layout *lay, uint64_t lo, uint64_t hi)
{
	struct esck_replay *r = calloc(1, sizeof(*r));
	struct list all = merged(&lay->sys, &lay->jnl);
	struct run t = { r, lay, 0, 0 };
	size_t i;

	if (!r) {
		diag("out of memory");
		exit(99);
	}
	r->meta.sys.v = lay->sys.v;
	r->meta.sys.nr = lay->sys.nr;
	r->meta.all.v = all.v;
	r->meta.all.nr = all.nr;
	r->meta.jnl_ino = JNL_INO;
	r->meta.built = 1;
	for (i = 0; i < 2; i++) {
		uint32_t ino = i ? JNL_INO : OTHER_INO;

		edges(&t, &lay->sys, ino);
		edges(&t, &lay->jnl, ino);
	}
	walks(&t, lo, hi, 200000);
	ok(t.wrong == 0, "%s: %zu sys and %zu journal intervals, %zu of %zu answers differ from a scan",
	   lay->name, lay->sys.nr, lay->jnl.nr, t.wrong, t.asked);
	replay_meta_free(r); /* frees sys and all: lay->sys is ours no more */
	free(lay->jnl.v);
	free(r);
}

/* n intervals and gaps of 1..maxlen blocks from first on, into l. */
static uint64_t random_list(struct list *l, uint64_t first, size_t n,
			    uint64_t maxlen)
{
	uint64_t at = first;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t len = 1 + rnd_below(maxlen);

		push(l, at, at + len);
		at += len + 1 + rnd_below(maxlen);
	}
	return at;
}

int main(void)
{
	/* frag.img's zone: 4 KiB blocks, 128 groups, flex_bg 16, a journal */
	static const struct replay_span frag[] = {
		{ 0, 9251 }, { 32768, 33795 }, { 98304, 99331 },
		{ 163840, 164867 }, { 229376, 230403 }, { 294912, 295939 },
		{ 524288, 532512 }, { 819200, 820227 }, { 884736, 885763 },
		{ 1048576, 1056800 }, { 1572864, 1581088 },
		{ 1605632, 1606659 }, { 2097152, 2105376 },
		{ 2621440, 2629664 }, { 2654208, 2655235 },
		{ 3145728, 3153952 }, { 3670016, 3678240 },
		{ 4096000, 4097027 },
	};
	struct layout lay;
	uint64_t end;
	size_t i;

	rng_state = 0x9e3779b97f4a7c15ull;

	memset(&lay, 0, sizeof(lay));
	lay.name = "no intervals";
	check(&lay, 0, 1000);

	memset(&lay, 0, sizeof(lay));
	lay.name = "one interval";
	push(&lay.sys, 10, 20);
	check(&lay, 0, 40);

	memset(&lay, 0, sizeof(lay));
	lay.name = "frag.img";
	for (i = 0; i < sizeof(frag) / sizeof(frag[0]); i++)
		push(&lay.sys, frag[i].start, frag[i].end);
	push(&lay.jnl, 2129920, 2162688);
	check(&lay, 0, 4194304);

	/* Single blocks one apart: every block is an edge. */
	memset(&lay, 0, sizeof(lay));
	lay.name = "every other block";
	for (i = 0; i < 500; i++)
		push(&lay.sys, 2 * i + 1, 2 * i + 2);
	push(&lay.jnl, 2000, 2001);
	check(&lay, 0, 2100);

	/* Short intervals and gaps, a journal in pieces among them. */
	memset(&lay, 0, sizeof(lay));
	lay.name = "random, dense";
	end = random_list(&lay.sys, rnd_below(3), 2000, 16);
	for (i = 0; i < 100; i++) {
		uint64_t at = rnd_below(end);

		push(&lay.jnl, at, at + 1 + rnd_below(8));
	}
	check(&lay, 0, end + 10);

	memset(&lay, 0, sizeof(lay));
	lay.name = "random, sparse";
	end = random_list(&lay.sys, 1000, 300, 1ull << 20);
	random_list(&lay.jnl, end + 5, 40, 1ull << 12);
	check(&lay, 0, end + (1ull << 25));

	/* The ends of the block numbers: lengths that wrap are clipped. */
	memset(&lay, 0, sizeof(lay));
	lay.name = "block 0 and the last blocks";
	push(&lay.sys, 0, 1);
	push(&lay.sys, 100, 200);
	push(&lay.sys, UINT64_MAX - 100, UINT64_MAX - 50);
	push(&lay.sys, UINT64_MAX - 3, UINT64_MAX);
	push(&lay.jnl, UINT64_MAX - 40, UINT64_MAX - 20);
	check(&lay, 0, UINT64_MAX);
	return done();
}
