/* test-es.c --- table-driven unit tests of lib/es: merges, splits, cache, bounds, queries */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es.h"
#include "es_int.h"	/* the append test compares cached pointers and pending lists */
#include "es-util.h"
#include "tap.h"

/* ---- steps and expected states ---- */

enum op { END = 0, INS, REM, CACHE, LOOK };

struct step {
	enum op op;
	uint32_t lblk, len;
	uint64_t pblk;
	unsigned int type;
};

#define INS_T(l, n, p, t)	{ INS, (l), (n), (p), (t) }
#define INS_W(l, n, p)		INS_T(l, n, p, ES_WRITTEN)
#define INS_U(l, n, p)		INS_T(l, n, p, ES_UNWRITTEN)
#define INS_D(l, n)		INS_T(l, n, 0, ES_DELAYED)
#define INS_H(l, n)		INS_T(l, n, 0, ES_HOLE)
#define CACHE_T(l, n, p, t)	{ CACHE, (l), (n), (p), (t) }
#define CACHE_W(l, n, p)	CACHE_T(l, n, p, ES_WRITTEN)
#define CACHE_U(l, n, p)	CACHE_T(l, n, p, ES_UNWRITTEN)
#define CACHE_H(l, n)		CACHE_T(l, n, 0, ES_HOLE)
#define REM(l, n)		{ REM, (l), (n), 0, 0 }
#define LOOK(l)			{ LOOK, (l), 0, 0, 0 }

#define MAXSTEP	8
#define MAXENT	8
#define NONE_EXT { 0, 0, 0, 0 }

/* One case: a setup, one operation, its result and the whole tree after. */
struct tcase {
	const char *desc;
	struct step setup[MAXSTEP];	/* ends at the first END */
	struct step op;
	int ret;
	struct es_extent conflict;	/* when ret == EEXIST */
	struct es_extent after[MAXENT];	/* ends at the first len == 0 */
};

static int run_step(struct es_tree *t, const struct step *s,
		    struct es_extent *conflict)
{
	struct es_extent e;

	switch (s->op) {
	case INS:
		return es_insert(t, s->lblk, s->len, s->pblk, s->type);
	case REM:
		return es_remove(t, s->lblk, s->len);
	case CACHE:
		return es_cache_extent(t, s->lblk, s->len, s->pblk, s->type,
				       conflict);
	case LOOK:
		return es_lookup(t, s->lblk, &e, NULL) ? 0 : ENOENT;
	case END:
		break;
	}
	return -1;
}

static size_t count_after(const struct es_extent *after)
{
	size_t n = 0;

	while (n < MAXENT && after[n].len)
		n++;
	return n;
}

/* Run the setup of tc on t; 0 or -1 with why filled. */
static int run_setup(struct es_tree *t, const struct step *setup,
		     char *why, size_t whylen)
{
	int i, err;

	for (i = 0; i < MAXSTEP && setup[i].op != END; i++) {
		err = run_step(t, &setup[i], NULL);
		if (err) {
			snprintf(why, whylen, "setup step %d returned %d", i, err);
			return -1;
		}
		if (tu_check(t, why, whylen))
			return -1;
	}
	return 0;
}

static int same_conflict(const struct es_extent *got, const struct es_extent *want)
{
	unsigned int type = es_type(want);

	if (got->lblk != want->lblk || got->len != want->len ||
	    es_type(got) != type)
		return 0;
	return (type != ES_WRITTEN && type != ES_UNWRITTEN) || got->pblk == want->pblk;
}

static void run_case(const struct tcase *tc)
{
	struct es_cache c;
	struct es_tree t;
	struct es_extent conflict;
	char why[512] = "";
	char b1[128], b2[128];
	int err, good = 0;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	if (run_setup(&t, tc->setup, why, sizeof(why)))
		goto out;
	memset(&conflict, 0xa5, sizeof(conflict));
	err = run_step(&t, &tc->op, &conflict);
	if (err != tc->ret) {
		snprintf(why, sizeof(why), "returned %d, want %d", err, tc->ret);
		goto out;
	}
	if (err == EEXIST && !same_conflict(&conflict, &tc->conflict)) {
		snprintf(why, sizeof(why), "conflict %s, want %s",
			 tu_fmt(&conflict, b1, sizeof(b1)),
			 tu_fmt(&tc->conflict, b2, sizeof(b2)));
		goto out;
	}
	if (tu_check(&t, why, sizeof(why)))
		goto out;
	if (tu_tree_equals(&t, tc->after, count_after(tc->after), 0, why, sizeof(why)))
		goto out;
	good = 1;
out:
	if (!ok(good, "%s", tc->desc)) {
		diag("%s", why);
		tu_diag_tree(&t, "tree");
	}
	es_tree_release(&t);
	es_cache_release(&c);
}

#define MAX	ES_MAX_BLOCKS
#define LMAX	ES_LBLK_MAX
#define PMAX	ES_PBLK_MAX

static const struct tcase cases[] = {
	/* ---- merges (§2.6), hand-picked; every type pair is generated below ---- */
	{ "merge: W+W physically contiguous, new on the right",
	  { INS_W(0, 10, 100) }, INS_W(10, 5, 110), 0, NONE_EXT,
	  { XW(0, 15, 100) } },
	{ "merge: W+W not physically contiguous stay apart",
	  { INS_W(0, 10, 100) }, INS_W(10, 5, 111), 0, NONE_EXT,
	  { XW(0, 10, 100), XW(10, 5, 111) } },
	{ "merge: W+W physically contiguous but a logical gap stay apart",
	  { INS_W(0, 10, 100) }, INS_W(11, 5, 110), 0, NONE_EXT,
	  { XW(0, 10, 100), XW(11, 5, 110) } },
	{ "merge: W+W pblk going backwards stay apart",
	  { INS_W(10, 10, 100) }, INS_W(0, 10, 110), 0, NONE_EXT,
	  { XW(0, 10, 110), XW(10, 10, 100) } },
	{ "merge: U+U contiguous, new on the left",
	  { INS_U(10, 5, 110) }, INS_U(0, 10, 100), 0, NONE_EXT,
	  { XU(0, 15, 100) } },
	{ "merge: U+U not contiguous stay apart",
	  { INS_U(10, 5, 200) }, INS_U(0, 10, 100), 0, NONE_EXT,
	  { XU(0, 10, 100), XU(10, 5, 200) } },
	{ "merge: H+H always, whatever pblk is passed",
	  { INS_T(0, 10, 7, ES_HOLE) }, INS_T(10, 5, 999, ES_HOLE), 0, NONE_EXT,
	  { XH(0, 15) } },
	{ "merge: D+D always, whatever pblk is passed",
	  { INS_T(0, 10, 7, ES_DELAYED) }, INS_T(10, 5, 999, ES_DELAYED), 0, NONE_EXT,
	  { XD(0, 15) } },
	{ "merge: W+U adjacent and contiguous never merge",
	  { INS_W(0, 10, 100) }, INS_U(10, 5, 110), 0, NONE_EXT,
	  { XW(0, 10, 100), XU(10, 5, 110) } },
	{ "merge: W bridging two W on both sides",
	  { INS_W(0, 10, 100), INS_W(20, 10, 120) }, INS_W(10, 10, 110), 0, NONE_EXT,
	  { XW(0, 30, 100) } },
	{ "merge: D bridging two D on both sides",
	  { INS_D(0, 10), INS_D(20, 10) }, INS_D(10, 10), 0, NONE_EXT,
	  { XD(0, 30) } },
	{ "merge: H bridging two H on both sides",
	  { INS_H(0, 10), INS_H(20, 10) }, INS_H(10, 10), 0, NONE_EXT,
	  { XH(0, 30) } },
	{ "merge: W bridging, only the left is contiguous",
	  { INS_W(0, 10, 100), INS_W(20, 10, 500) }, INS_W(10, 10, 110), 0, NONE_EXT,
	  { XW(0, 20, 100), XW(20, 10, 500) } },
	{ "merge: W bridging, only the right is contiguous",
	  { INS_W(0, 10, 50), INS_W(20, 10, 120) }, INS_W(10, 10, 110), 0, NONE_EXT,
	  { XW(0, 10, 50), XW(10, 20, 110) } },
	{ "merge: REFERENCED inherited from the left entry",
	  { INS_W(0, 10, 100), LOOK(5) }, INS_W(10, 5, 110), 0, NONE_EXT,
	  { XWR(0, 15, 100) } },
	{ "merge: REFERENCED inherited from the right entry",
	  { INS_W(10, 5, 110), LOOK(12) }, INS_W(0, 10, 100), 0, NONE_EXT,
	  { XWR(0, 15, 100) } },
	{ "merge: REFERENCED inherited from the absorbed right entry when bridging",
	  { INS_W(0, 10, 100), INS_W(20, 10, 120), LOOK(25) }, INS_W(10, 10, 110), 0,
	  NONE_EXT, { XWR(0, 30, 100) } },
	{ "merge: REFERENCED inherited from the left entry when bridging",
	  { INS_U(0, 10, 100), INS_U(20, 10, 120), LOOK(0) }, INS_U(10, 10, 110), 0,
	  NONE_EXT, { XUR(0, 30, 100) } },
	{ "merge: REFERENCED D merges with plain D",
	  { INS_D(0, 10), LOOK(0) }, INS_D(10, 5), 0, NONE_EXT, { XDR(0, 15) } },
	{ "merge: REFERENCED H merges with plain H on the left",
	  { INS_H(10, 10), LOOK(10) }, INS_H(0, 10), 0, NONE_EXT, { XHR(0, 20) } },
	{ "merge: cache_extent gap fill merges W on both sides",
	  { INS_W(0, 10, 100), INS_W(20, 10, 120) }, CACHE_W(10, 10, 110), 0, NONE_EXT,
	  { XW(0, 30, 100) } },
	{ "merge: cache_extent H next to D does not merge",
	  { INS_D(0, 10) }, CACHE_H(10, 10), 0, NONE_EXT,
	  { XD(0, 10), XH(10, 10) } },
	{ "merge: two halves of the logical space into one H [0, 2^32-1)",
	  { INS_H(0, 0x80000000) }, INS_H(0x80000000, 0x7fffffff), 0, NONE_EXT,
	  { XH(0, MAX) } },
	{ "merge: W appended at ES_LBLK_MAX",
	  { INS_W(0xfffffff0, 14, 1000) }, INS_W(LMAX, 1, 1014), 0, NONE_EXT,
	  { XW(0xfffffff0, 15, 1000) } },

	/* ---- modify over the same type: remove then insert and re-merge ---- */
	{ "modify: W inside W at the same pblk re-merges into one entry",
	  { INS_W(0, 10, 100) }, INS_W(3, 4, 103), 0, NONE_EXT, { XW(0, 10, 100) } },
	{ "modify: W inside REFERENCED W re-merges and stays REFERENCED",
	  { INS_W(0, 10, 100), LOOK(0) }, INS_W(3, 4, 103), 0, NONE_EXT,
	  { XWR(0, 10, 100) } },
	{ "modify: D inside D re-merges into one entry (768d612f7982 shape)",
	  { INS_D(0, 10) }, INS_D(3, 2), 0, NONE_EXT, { XD(0, 10) } },
	{ "modify: H inside H re-merges into one entry",
	  { INS_H(0, 10) }, INS_H(3, 2), 0, NONE_EXT, { XH(0, 10) } },
	{ "modify: W inside W at another pblk makes three entries",
	  { INS_W(0, 10, 100) }, INS_W(3, 4, 500), 0, NONE_EXT,
	  { XW(0, 3, 100), XW(3, 4, 500), XW(7, 3, 107) } },
	{ "modify: W over the head of W at another pblk",
	  { INS_W(10, 10, 100) }, INS_W(5, 10, 500), 0, NONE_EXT,
	  { XW(5, 10, 500), XW(15, 5, 105) } },

	/* ---- modify over other types: the range is replaced ---- */
	{ "modify: W inside H",
	  { INS_H(0, 100) }, INS_W(10, 5, 500), 0, NONE_EXT,
	  { XH(0, 10), XW(10, 5, 500), XH(15, 85) } },
	{ "modify: H inside W keeps the W tail's pblk",
	  { INS_W(0, 10, 100) }, INS_H(3, 4), 0, NONE_EXT,
	  { XW(0, 3, 100), XH(3, 4), XW(7, 3, 107) } },
	{ "modify: W over the tail of D",
	  { INS_D(0, 10) }, INS_W(5, 10, 100), 0, NONE_EXT,
	  { XD(0, 5), XW(5, 10, 100) } },
	{ "modify: D over W, H and U",
	  { INS_W(0, 10, 100), INS_H(10, 10), INS_U(20, 10, 300) }, INS_D(5, 20), 0,
	  NONE_EXT, { XW(0, 5, 100), XD(5, 20), XU(25, 5, 305) } },
	{ "modify: U replaces W exactly",
	  { INS_W(0, 10, 100) }, INS_U(0, 10, 100), 0, NONE_EXT, { XU(0, 10, 100) } },
	{ "modify: W over the head of U merges with the W on its left",
	  { INS_W(0, 10, 100), INS_U(10, 10, 110) }, INS_W(10, 5, 110), 0, NONE_EXT,
	  { XW(0, 15, 100), XU(15, 5, 115) } },
	{ "modify: W replaces U between two W and merges all three",
	  { INS_W(0, 10, 100), INS_U(10, 10, 110), INS_W(20, 10, 120) },
	  INS_W(10, 10, 110), 0, NONE_EXT, { XW(0, 30, 100) } },
	{ "modify: H replaces D (insert is not cache)",
	  { INS_D(0, 10) }, INS_H(0, 20), 0, NONE_EXT, { XH(0, 20) } },
	{ "modify: D over the whole logical space",
	  { INS_W(0, 5, 100), INS_H(100, 5), INS_U(LMAX, 1, 7) }, INS_D(0, MAX), 0,
	  NONE_EXT, { XD(0, MAX) } },
	{ "modify: U over D between two U merges nothing across D's remains",
	  { INS_U(0, 10, 100), INS_D(10, 10), INS_U(20, 10, 120) }, INS_U(12, 5, 112),
	  0, NONE_EXT,
	  { XU(0, 10, 100), XD(10, 2), XU(12, 5, 112), XD(17, 3), XU(20, 10, 120) } },

	/* ---- remove and split (§2.5) ---- */
	{ "remove: strictly inside W, tail pblk = old pblk + old len - len2",
	  { INS_W(0, 10, 100) }, REM(3, 4), 0, NONE_EXT,
	  { XW(0, 3, 100), XW(7, 3, 107) } },
	{ "remove: strictly inside U",
	  { INS_U(10, 10, 200) }, REM(12, 2), 0, NONE_EXT,
	  { XU(10, 2, 200), XU(14, 6, 204) } },
	{ "remove: strictly inside D",
	  { INS_D(0, 10) }, REM(3, 4), 0, NONE_EXT, { XD(0, 3), XD(7, 3) } },
	{ "remove: strictly inside H, one block",
	  { INS_H(0, 10) }, REM(5, 1), 0, NONE_EXT, { XH(0, 5), XH(6, 4) } },
	{ "remove: head kept when the range covers the entry's end",
	  { INS_W(0, 10, 100) }, REM(5, 10), 0, NONE_EXT, { XW(0, 5, 100) } },
	{ "remove: head kept, exactly the entry's end",
	  { INS_U(0, 10, 100) }, REM(5, 5), 0, NONE_EXT, { XU(0, 5, 100) } },
	{ "remove: W start trimmed, pblk advanced",
	  { INS_W(10, 10, 100) }, REM(5, 10), 0, NONE_EXT, { XW(15, 5, 105) } },
	{ "remove: U start trimmed at the entry's start, pblk advanced",
	  { INS_U(10, 10, 100) }, REM(10, 3), 0, NONE_EXT, { XU(13, 7, 103) } },
	{ "remove: D start trimmed",
	  { INS_D(10, 10) }, REM(0, 12), 0, NONE_EXT, { XD(12, 8) } },
	{ "remove: H start trimmed",
	  { INS_H(10, 10) }, REM(10, 9), 0, NONE_EXT, { XH(19, 1) } },
	{ "remove: exactly one entry",
	  { INS_W(0, 10, 100) }, REM(0, 10), 0, NONE_EXT, { NONE_EXT } },
	{ "remove: several entries fully inside",
	  { INS_W(0, 5, 100), INS_H(5, 5), INS_D(10, 5), INS_U(20, 5, 300) },
	  REM(0, 25), 0, NONE_EXT, { NONE_EXT } },
	{ "remove: partial first, full middles, partial last",
	  { INS_W(0, 10, 100), INS_D(10, 5), INS_H(15, 5), INS_U(20, 10, 300) },
	  REM(5, 20), 0, NONE_EXT, { XW(0, 5, 100), XU(25, 5, 305) } },
	{ "remove: a gap only changes nothing",
	  { INS_W(0, 5, 100), INS_W(10, 5, 200) }, REM(5, 5), 0, NONE_EXT,
	  { XW(0, 5, 100), XW(10, 5, 200) } },
	{ "remove: from a gap into an entry",
	  { INS_W(10, 10, 100) }, REM(0, 12), 0, NONE_EXT, { XW(12, 8, 102) } },
	{ "remove: the whole logical space",
	  { INS_W(0, 5, 100), INS_D(50, 5), INS_H(LMAX, 1) }, REM(0, MAX), 0, NONE_EXT,
	  { NONE_EXT } },
	{ "remove: the last block ES_LBLK_MAX",
	  { INS_W(0xfffffff0, 15, 1000) }, REM(LMAX, 1), 0, NONE_EXT,
	  { XW(0xfffffff0, 14, 1000) } },
	{ "remove: split of D just below ES_LBLK_MAX",
	  { INS_D(0xfffffff0, 15) }, REM(0xfffffff5, 1), 0, NONE_EXT,
	  { XD(0xfffffff0, 5), XD(0xfffffff6, 9) } },
	{ "remove: split of [0, 2^32-1)",
	  { INS_H(0, MAX) }, REM(1, 0xfffffffd), 0, NONE_EXT,
	  { XH(0, 1), XH(LMAX, 1) } },
	{ "remove: start trimmed keeps REFERENCED",
	  { INS_W(0, 10, 100), LOOK(0) }, REM(0, 3), 0, NONE_EXT, { XWR(3, 7, 103) } },
	{ "remove: end trimmed keeps REFERENCED",
	  { INS_W(0, 10, 100), LOOK(9) }, REM(5, 5), 0, NONE_EXT, { XWR(0, 5, 100) } },

	/* ---- es_cache_extent (§2.3) ---- */
	{ "cache: W into an empty tree",
	  { { END, 0, 0, 0, 0 } }, CACHE_W(0, 10, 100), 0, NONE_EXT, { XW(0, 10, 100) } },
	{ "cache: W fills around a W at the same pblk and merges",
	  { INS_W(5, 2, 105) }, CACHE_W(0, 10, 100), 0, NONE_EXT, { XW(0, 10, 100) } },
	{ "cache: U fills around two U at the same pblk",
	  { INS_U(2, 2, 102), INS_U(6, 2, 106) }, CACHE_U(0, 10, 100), 0, NONE_EXT,
	  { XU(0, 10, 100) } },
	{ "cache: W fills three gaps, every fill merging, into one entry",
	  { INS_W(5, 2, 105), INS_W(10, 2, 110), INS_W(20, 2, 120) }, CACHE_W(0, 30, 100),
	  0, NONE_EXT, { XW(0, 30, 100) } },
	{ "cache: H fills gaps between D entries without touching them",
	  { INS_D(2, 2), INS_D(6, 2), INS_D(10, 2) }, CACHE_H(0, 14), 0, NONE_EXT,
	  { XH(0, 2), XD(2, 2), XH(4, 2), XD(6, 2), XH(8, 2), XD(10, 2), XH(12, 2) } },
	{ "cache: H fills around D and merges with H on both sides",
	  { INS_H(0, 2), INS_D(4, 2), INS_H(8, 2) }, CACHE_H(2, 6), 0, NONE_EXT,
	  { XH(0, 4), XD(4, 2), XH(6, 4) } },
	{ "cache: H fills around an H",
	  { INS_H(3, 2) }, CACHE_H(0, 10), 0, NONE_EXT, { XH(0, 10) } },
	{ "cache: W inside one W at the same pblk changes nothing",
	  { INS_W(0, 20, 100) }, CACHE_W(5, 5, 105), 0, NONE_EXT, { XW(0, 20, 100) } },
	{ "cache: W overlapping the end of W at the same pblk extends it",
	  { INS_W(0, 10, 100) }, CACHE_W(5, 10, 105), 0, NONE_EXT, { XW(0, 15, 100) } },
	{ "cache: W next to W at a non-contiguous pblk stays apart",
	  { INS_W(0, 5, 100) }, CACHE_W(5, 5, 200), 0, NONE_EXT,
	  { XW(0, 5, 100), XW(5, 5, 200) } },
	{ "cache: H over W is a conflict, tree unchanged",
	  { INS_W(5, 2, 105) }, CACHE_H(0, 10), EEXIST, XW(5, 2, 105),
	  { XW(5, 2, 105) } },
	{ "cache: W over W at another pblk is a conflict",
	  { INS_W(5, 2, 999) }, CACHE_W(0, 10, 100), EEXIST, XW(5, 2, 999),
	  { XW(5, 2, 999) } },
	{ "cache: W over U at the same pblk is a conflict",
	  { INS_U(5, 2, 105) }, CACHE_W(0, 10, 100), EEXIST, XU(5, 2, 105),
	  { XU(5, 2, 105) } },
	{ "cache: U over W is a conflict",
	  { INS_W(5, 2, 105) }, CACHE_U(0, 10, 100), EEXIST, XW(5, 2, 105),
	  { XW(5, 2, 105) } },
	{ "cache: W over H is a conflict",
	  { INS_H(5, 2) }, CACHE_W(0, 10, 100), EEXIST, XH(5, 2), { XH(5, 2) } },
	{ "cache: the first conflicting entry is reported",
	  { INS_H(2, 1), INS_W(5, 2, 999) }, CACHE_U(0, 10, 100), EEXIST, XH(2, 1),
	  { XH(2, 1), XW(5, 2, 999) } },
	{ "cache: a consistent entry before the conflict; nothing filled",
	  { INS_W(2, 2, 102), INS_W(6, 2, 999) }, CACHE_W(0, 10, 100), EEXIST,
	  XW(6, 2, 999), { XW(2, 2, 102), XW(6, 2, 999) } },
	{ "cache: range inside one W at another pblk, whole entry reported",
	  { INS_W(0, 20, 100) }, CACHE_W(5, 5, 999), EEXIST, XW(0, 20, 100),
	  { XW(0, 20, 100) } },
	{ "cache: range inside one H, W is a conflict",
	  { INS_H(0, 20) }, CACHE_W(5, 5, 105), EEXIST, XH(0, 20), { XH(0, 20) } },
	{ "cache: H over D is allowed and the delayed part kept",
	  { INS_D(3, 2) }, CACHE_H(0, 10), 0, NONE_EXT,
	  { XH(0, 3), XD(3, 2), XH(5, 5) } },
	{ "cache: H over D and H merges the holes",
	  { INS_D(3, 2), INS_H(7, 1) }, CACHE_H(0, 10), 0, NONE_EXT,
	  { XH(0, 3), XD(3, 2), XH(5, 5) } },
	{ "cache: H inside D changes nothing",
	  { INS_D(0, 20) }, CACHE_H(5, 5), 0, NONE_EXT, { XD(0, 20) } },
	{ "cache: H over D and W is a conflict with the W",
	  { INS_D(3, 2), INS_W(7, 1, 107) }, CACHE_H(0, 10), EEXIST, XW(7, 1, 107),
	  { XD(3, 2), XW(7, 1, 107) } },
	{ "cache: W over D is a conflict",
	  { INS_D(3, 2) }, CACHE_W(0, 10, 100), EEXIST, XD(3, 2), { XD(3, 2) } },
	{ "cache: U over D is a conflict",
	  { INS_D(3, 2) }, CACHE_U(0, 10, 100), EEXIST, XD(3, 2), { XD(3, 2) } },
	{ "cache: DELAYED is refused",
	  { INS_W(0, 5, 100) }, CACHE_T(10, 5, 0, ES_DELAYED), EINVAL, NONE_EXT,
	  { XW(0, 5, 100) } },
	{ "cache: DELAYED is refused on an empty tree",
	  { { END, 0, 0, 0, 0 } }, CACHE_T(0, 5, 0, ES_DELAYED), EINVAL, NONE_EXT,
	  { NONE_EXT } },
	{ "cache: H over the whole space on an empty tree",
	  { { END, 0, 0, 0, 0 } }, CACHE_H(0, MAX), 0, NONE_EXT, { XH(0, MAX) } },
	{ "cache: H over the whole space around D entries at both ends",
	  { INS_D(10, 5), INS_D(0xfffffff0, 15) }, CACHE_H(0, MAX), 0, NONE_EXT,
	  { XH(0, 10), XD(10, 5), XH(15, 0xfffffff0 - 15), XD(0xfffffff0, 15) } },
	{ "cache: W|U type refused",
	  { { END, 0, 0, 0, 0 } }, CACHE_T(0, 5, 100, ES_WRITTEN | ES_UNWRITTEN),
	  EINVAL, NONE_EXT, { NONE_EXT } },
	{ "cache: type 0 refused",
	  { INS_H(0, 5) }, CACHE_T(10, 5, 100, 0), EINVAL, NONE_EXT, { XH(0, 5) } },
	{ "cache: REFERENCED alone refused",
	  { INS_H(0, 5) }, CACHE_T(10, 5, 100, ES_REFERENCED), EINVAL, NONE_EXT,
	  { XH(0, 5) } },
	{ "cache: pblk beyond ES_PBLK_MAX refused",
	  { { END, 0, 0, 0, 0 } }, CACHE_W(0, 2, PMAX), EINVAL, NONE_EXT, { NONE_EXT } },
	{ "cache: wrapping range refused",
	  { INS_H(0, 5) }, CACHE_H(0xfffffff0, 0x10), EINVAL, NONE_EXT, { XH(0, 5) } },
	{ "cache: zero length is a no-op, even over a conflicting entry",
	  { INS_W(0, 5, 100) }, CACHE_H(2, 0), 0, NONE_EXT, { XW(0, 5, 100) } },

	/* ---- boundaries and argument checks ---- */
	{ "bounds: W at block 0, pblk 0",
	  { { END, 0, 0, 0, 0 } }, INS_W(0, 1, 0), 0, NONE_EXT, { XW(0, 1, 0) } },
	{ "bounds: W at ES_LBLK_MAX",
	  { { END, 0, 0, 0, 0 } }, INS_W(LMAX, 1, 7), 0, NONE_EXT, { XW(LMAX, 1, 7) } },
	{ "bounds: D ending exactly at ES_LBLK_MAX",
	  { { END, 0, 0, 0, 0 } }, INS_D(0xfffffff0, 15), 0, NONE_EXT,
	  { XD(0xfffffff0, 15) } },
	{ "bounds: H [0, 2^32-1)",
	  { { END, 0, 0, 0, 0 } }, INS_H(0, MAX), 0, NONE_EXT, { XH(0, MAX) } },
	{ "bounds: insert past ES_LBLK_MAX refused, tree unchanged",
	  { INS_W(0, 5, 100) }, INS_W(0xfffffff0, 16, 1000), EINVAL, NONE_EXT,
	  { XW(0, 5, 100) } },
	{ "bounds: insert at block 2^32-1 refused",
	  { INS_W(0, 5, 100) }, INS_H(0xffffffff, 1), EINVAL, NONE_EXT,
	  { XW(0, 5, 100) } },
	{ "bounds: insert of ES_MAX_BLOCKS from block 1 refused",
	  { INS_W(0, 5, 100) }, INS_H(1, MAX), EINVAL, NONE_EXT, { XW(0, 5, 100) } },
	{ "bounds: insert wrapping to 0 refused",
	  { INS_D(0, 5) }, INS_D(0xfffffffa, 0x10), EINVAL, NONE_EXT, { XD(0, 5) } },
	{ "bounds: remove past ES_LBLK_MAX refused, tree unchanged",
	  { INS_W(0, 5, 100), INS_W(0xfffffff0, 15, 1000) }, REM(0xfffffff0, 0x20),
	  EINVAL, NONE_EXT, { XW(0, 5, 100), XW(0xfffffff0, 15, 1000) } },
	{ "bounds: remove of block 2^32-1 refused",
	  { INS_H(0, MAX) }, REM(0xffffffff, 1), EINVAL, NONE_EXT, { XH(0, MAX) } },
	{ "bounds: zero-length insert is a no-op",
	  { INS_W(0, 5, 100) }, INS_W(2, 0, 500), 0, NONE_EXT, { XW(0, 5, 100) } },
	{ "bounds: zero-length D insert is a no-op",
	  { INS_W(0, 5, 100) }, INS_D(2, 0), 0, NONE_EXT, { XW(0, 5, 100) } },
	{ "bounds: zero-length remove is a no-op",
	  { INS_W(0, 5, 100) }, REM(2, 0), 0, NONE_EXT, { XW(0, 5, 100) } },
	{ "args: type 0 refused",
	  { INS_W(0, 5, 100) }, INS_T(10, 5, 100, 0), EINVAL, NONE_EXT,
	  { XW(0, 5, 100) } },
	{ "args: W|U refused",
	  { INS_W(0, 5, 100) }, INS_T(2, 5, 100, ES_WRITTEN | ES_UNWRITTEN), EINVAL,
	  NONE_EXT, { XW(0, 5, 100) } },
	{ "args: D|H refused",
	  { INS_W(0, 5, 100) }, INS_T(2, 5, 0, ES_DELAYED | ES_HOLE), EINVAL, NONE_EXT,
	  { XW(0, 5, 100) } },
	{ "args: REFERENCED alone refused",
	  { INS_W(0, 5, 100) }, INS_T(2, 5, 100, ES_REFERENCED), EINVAL, NONE_EXT,
	  { XW(0, 5, 100) } },
	{ "args: unknown bit 0x20 refused",
	  { INS_W(0, 5, 100) }, INS_T(2, 5, 100, 0x20), EINVAL, NONE_EXT,
	  { XW(0, 5, 100) } },
	{ "args: W pblk beyond ES_PBLK_MAX refused",
	  { INS_W(0, 5, 100) }, INS_W(10, 1, PMAX + 1), EINVAL, NONE_EXT,
	  { XW(0, 5, 100) } },
	{ "args: U whose last pblk passes ES_PBLK_MAX refused",
	  { INS_W(0, 5, 100) }, INS_U(10, 2, PMAX), EINVAL, NONE_EXT,
	  { XW(0, 5, 100) } },
	{ "args: W with pblk ES_PBLK_NONE refused",
	  { { END, 0, 0, 0, 0 } }, INS_W(10, 1, ES_PBLK_NONE), EINVAL, NONE_EXT,
	  { NONE_EXT } },
	{ "args: W ending exactly at ES_PBLK_MAX accepted",
	  { { END, 0, 0, 0, 0 } }, INS_W(10, 2, PMAX - 1), 0, NONE_EXT,
	  { XW(10, 2, PMAX - 1) } },
	{ "args: D ignores a huge pblk",
	  { { END, 0, 0, 0, 0 } }, INS_T(0, 5, PMAX + 5, ES_DELAYED), 0, NONE_EXT,
	  { XD(0, 5) } },
	{ "args: H ignores a huge pblk",
	  { { END, 0, 0, 0, 0 } }, INS_T(0, 5, ES_PBLK_NONE, ES_HOLE), 0, NONE_EXT,
	  { XH(0, 5) } },
};

/* ---- every pair of types, left, right and bridging, by insert and by cache ---- */

static const unsigned int all_types[] = { ES_WRITTEN, ES_UNWRITTEN, ES_DELAYED, ES_HOLE };

static struct es_extent mk(uint32_t lblk, uint32_t len, uint64_t pblk, unsigned int type)
{
	struct es_extent e;

	e.lblk = lblk;
	e.len = len;
	e.pblk = (type == ES_WRITTEN || type == ES_UNWRITTEN) ? pblk : ES_PBLK_NONE;
	e.status = type;
	return e;
}

static struct step mkstep(enum op op, uint32_t lblk, uint32_t len, uint64_t pblk,
			  unsigned int type)
{
	struct step s;

	s.op = op;
	s.lblk = lblk;
	s.len = len;
	s.pblk = pblk;
	s.type = type;
	return s;
}

static const char *letter(unsigned int type)
{
	char buf[3];

	switch (es_status_letters(type, buf)[0]) {
	case 'W': return "W";
	case 'U': return "U";
	case 'D': return "D";
	case 'H': return "H";
	}
	return "?";
}

/*
 * Existing entries of type a, new entry of type b (inserted, or cached when
 * b can be cached).  contig: the new entry's pblk continues the neighbours'.
 */
static void pair_cases(void)
{
	struct tcase tc;
	char text[160];
	size_t i, j;
	int layout, contig, by_cache;

	for (i = 0; i < 4; i++)
	for (j = 0; j < 4; j++)
	for (layout = 0; layout < 3; layout++)
	for (contig = 0; contig < 2; contig++)
	for (by_cache = 0; by_cache < 2; by_cache++) {
		unsigned int a = all_types[i], b = all_types[j];
		int mapped = b == ES_WRITTEN || b == ES_UNWRITTEN;
		uint64_t np = contig ? 110 : 777;
		int merge = a == b && (contig || !mapped);
		enum op op = by_cache ? CACHE : INS;
		static const char *lname[] = { "right of", "left of", "bridging" };

		if (by_cache && b == ES_DELAYED)
			continue;
		if (!contig && !mapped)
			continue;	/* pblk does not matter for D/H */
		memset(&tc, 0, sizeof(tc));
		snprintf(text, sizeof(text), "pairs: %s %s %s %s%s: %s",
			 by_cache ? "cache" : "insert", letter(b), lname[layout],
			 letter(a), mapped ? (contig ? " contiguous" : " not contiguous") : "",
			 merge ? "merged" : "apart");
		tc.desc = text;
		if (layout == 0) {		/* [10,20) exists, new [20,25) */
			tc.setup[0] = mkstep(INS, 10, 10, 100, a);
			tc.op = mkstep(op, 20, 5, np, b);
			if (merge) {
				tc.after[0] = mk(10, 15, 100, a);
			} else {
				tc.after[0] = mk(10, 10, 100, a);
				tc.after[1] = mk(20, 5, np, b);
			}
		} else if (layout == 1) {	/* [20,25) exists, new [10,20) */
			tc.setup[0] = mkstep(INS, 20, 5, 120, a);
			tc.op = mkstep(op, 10, 10, contig ? 110 : 777, b);
			if (merge) {
				tc.after[0] = mk(10, 15, 110, a);
			} else {
				tc.after[0] = mk(10, 10, np, b);
				tc.after[1] = mk(20, 5, 120, a);
			}
		} else {			/* [0,10) and [20,30) exist, new [10,20) */
			tc.setup[0] = mkstep(INS, 0, 10, 100, a);
			tc.setup[1] = mkstep(INS, 20, 10, 120, a);
			tc.op = mkstep(op, 10, 10, np, b);
			if (merge) {
				tc.after[0] = mk(0, 30, 100, a);
			} else {
				tc.after[0] = mk(0, 10, 100, a);
				tc.after[1] = mk(10, 10, np, b);
				tc.after[2] = mk(20, 10, 120, a);
			}
		}
		run_case(&tc);
	}
}

/* ---- lookups ---- */

struct lcase {
	const char *desc;
	struct step setup[MAXSTEP];
	uint32_t lblk;
	int found;
	struct es_extent want;		/* status: type from before the lookup */
	uint32_t next;
	struct es_extent after[MAXENT];
};

#define LSETUP { INS_W(0, 10, 100), INS_H(20, 5), INS_D(30, 5) }

static const struct lcase lcases[] = {
	{ "lookup: hit in the middle returns the whole entry, next is the next start",
	  LSETUP, 5, 1, XW(0, 10, 100), 20, { XWR(0, 10, 100), XH(20, 5), XD(30, 5) } },
	{ "lookup: hit on the first block of an H",
	  LSETUP, 20, 1, XH(20, 5), 30, { XW(0, 10, 100), XHR(20, 5), XD(30, 5) } },
	{ "lookup: hit on the last entry, next is 0",
	  LSETUP, 34, 1, XD(30, 5), 0, { XW(0, 10, 100), XH(20, 5), XDR(30, 5) } },
	{ "lookup: miss in a gap, next is the following entry",
	  LSETUP, 15, 0, NONE_EXT, 20, { XW(0, 10, 100), XH(20, 5), XD(30, 5) } },
	{ "lookup: miss right after an entry",
	  LSETUP, 10, 0, NONE_EXT, 20, { XW(0, 10, 100), XH(20, 5), XD(30, 5) } },
	{ "lookup: miss after every entry, next is 0",
	  LSETUP, 35, 0, NONE_EXT, 0, { XW(0, 10, 100), XH(20, 5), XD(30, 5) } },
	{ "lookup: miss at ES_LBLK_MAX, next is 0",
	  LSETUP, LMAX, 0, NONE_EXT, 0, { XW(0, 10, 100), XH(20, 5), XD(30, 5) } },
	{ "lookup: miss on an empty tree",
	  { { END, 0, 0, 0, 0 } }, 7, 0, NONE_EXT, 0, { NONE_EXT } },
	{ "lookup: miss before the first entry",
	  { INS_W(10, 5, 100) }, 0, 0, NONE_EXT, 10, { XW(10, 5, 100) } },
	{ "lookup: hit at ES_LBLK_MAX",
	  { INS_W(0, 5, 100), INS_H(0xfffffff0, 15) }, LMAX, 1, XH(0xfffffff0, 15), 0,
	  { XW(0, 5, 100), XHR(0xfffffff0, 15) } },
	{ "lookup: hit at block 0 of [0, 2^32-1)",
	  { INS_H(0, MAX) }, 0, 1, XH(0, MAX), 0, { XHR(0, MAX) } },
	{ "lookup: second lookup of a REFERENCED entry reports it",
	  { INS_U(0, 10, 100), LOOK(3) }, 4, 1, XUR(0, 10, 100), 0, { XUR(0, 10, 100) } },
};

static void run_lcase(const struct lcase *lc)
{
	struct es_cache c;
	struct es_tree t;
	struct es_extent e;
	uint32_t next = 0xdeadbeef;
	char why[512] = "";
	char b1[128], b2[128];
	int found, good = 0;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	if (run_setup(&t, lc->setup, why, sizeof(why)))
		goto out;
	memset(&e, 0, sizeof(e));
	found = es_lookup(&t, lc->lblk, &e, &next);
	if (found != lc->found) {
		snprintf(why, sizeof(why), "returned %d, want %d", found, lc->found);
		goto out;
	}
	if (found && (e.lblk != lc->want.lblk || e.len != lc->want.len ||
		      e.status != lc->want.status || e.pblk != lc->want.pblk)) {
		snprintf(why, sizeof(why), "found %s, want %s",
			 tu_fmt(&e, b1, sizeof(b1)), tu_fmt(&lc->want, b2, sizeof(b2)));
		goto out;
	}
	if (next != lc->next) {
		snprintf(why, sizeof(why), "next_lblk %" PRIu32 ", want %" PRIu32,
			 next, lc->next);
		goto out;
	}
	if (tu_check(&t, why, sizeof(why)))
		goto out;
	if (tu_tree_equals(&t, lc->after, count_after(lc->after), 0, why, sizeof(why)))
		goto out;
	good = 1;
out:
	if (!ok(good, "%s", lc->desc)) {
		diag("%s", why);
		tu_diag_tree(&t, "tree");
	}
	es_tree_release(&t);
	es_cache_release(&c);
}

/* ---- find_range, scan_range, count_blocks ---- */

#define QSETUP { INS_W(0, 10, 100), INS_D(20, 5), INS_H(30, 5), INS_D(40, 5), \
		 INS_U(50, 5, 500), INS_H(0xfffffff0, 15) }
static const struct es_extent qafter[] = {
	XW(0, 10, 100), XD(20, 5), XH(30, 5), XD(40, 5), XU(50, 5, 500),
	XH(0xfffffff0, 15),
};

struct fcase {
	const char *desc;
	unsigned int types;
	uint32_t lblk, end;
	int found;
	struct es_extent want;
};

static const struct fcase fcases[] = {
	{ "find D over [0, 100]", ES_DELAYED, 0, 100, 1, XD(20, 5) },
	{ "find D: the entry containing lblk counts", ES_DELAYED, 22, 22, 1, XD(20, 5) },
	{ "find D: an entry starting after end is not returned", ES_DELAYED, 25, 39, 0,
	  NONE_EXT },
	{ "find D: an entry starting at end is returned", ES_DELAYED, 25, 40, 1,
	  XD(40, 5) },
	{ "find W|U after the W", ES_WRITTEN | ES_UNWRITTEN, 11, 100, 1,
	  XU(50, 5, 500) },
	{ "find any type in a gap", ES_ANY_TYPE, 11, 19, 0, NONE_EXT },
	{ "find any type at the last block of the first entry", ES_ANY_TYPE, 9, 9, 1,
	  XW(0, 10, 100) },
	{ "find H over everything", ES_HOLE, 0, LMAX, 1, XH(30, 5) },
	{ "find H at ES_LBLK_MAX", ES_HOLE, LMAX, LMAX, 1, XH(0xfffffff0, 15) },
	{ "find W after the last W", ES_WRITTEN, 10, LMAX, 0, NONE_EXT },
};

struct ccase {
	const char *desc;
	unsigned int types;
	uint32_t lblk, len;
	uint64_t want;
};

static const struct ccase ccases[] = {
	{ "count D over [0, 100)", ES_DELAYED, 0, 100, 10 },
	{ "count D over [22, 42), clipped at both ends", ES_DELAYED, 22, 20, 5 },
	{ "count every type over the whole space", ES_ANY_TYPE, 0, MAX, 45 },
	{ "count W|U over [5, 55)", ES_WRITTEN | ES_UNWRITTEN, 5, 50, 10 },
	{ "count H over [0, 30)", ES_HOLE, 0, 30, 0 },
	{ "count with zero length", ES_ANY_TYPE, 0, 0, 0 },
	{ "count H near ES_LBLK_MAX", ES_HOLE, 0xfffffff8, 7, 7 },
	{ "count nothing for an empty type mask", 0, 0, MAX, 0 },
};

static void test_queries(void)
{
	static const struct step setup[MAXSTEP] = QSETUP;
	size_t nq = sizeof(qafter) / sizeof(qafter[0]);
	struct es_cache c;
	struct es_tree t;
	struct es_extent e, zero;
	char why[512] = "";
	char b1[128], b2[128];
	size_t i;
	int r, s, good;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	if (!ok(!run_setup(&t, setup, why, sizeof(why)), "queries: setup"))
		diag("%s", why);
	memset(&zero, 0, sizeof(zero));
	for (i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
		const struct fcase *fc = &fcases[i];

		memset(&e, 0x5a, sizeof(e));
		r = es_find_range(&t, fc->types, fc->lblk, fc->end, &e);
		if (fc->found)
			good = r == 1 && e.lblk == fc->want.lblk &&
			       e.len == fc->want.len && e.status == fc->want.status &&
			       e.pblk == fc->want.pblk;
		else
			good = r == 0 && !memcmp(&e, &zero, sizeof(e));
		if (!ok(good, "find_range: %s", fc->desc))
			diag("returned %d, %s, want %s%s", r, tu_fmt(&e, b1, sizeof(b1)),
			     tu_fmt(&fc->want, b2, sizeof(b2)),
			     fc->found ? "" : " (and *es zeroed)");
		s = es_scan_range(&t, fc->types, fc->lblk, fc->end);
		if (!ok(!!s == fc->found, "scan_range: %s", fc->desc))
			diag("returned %d", s);
	}
	for (i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		const struct ccase *cc = &ccases[i];
		uint64_t n = es_count_blocks(&t, cc->types, cc->lblk, cc->len);

		if (!ok(n == cc->want, "count_blocks: %s", cc->desc))
			diag("counted %" PRIu64 ", want %" PRIu64, n, cc->want);
	}
	/* None of the queries above marks anything REFERENCED. */
	r = tu_tree_equals(&t, qafter, nq, 0, why, sizeof(why));
	if (!r)
		r = tu_check(&t, why, sizeof(why));
	if (!ok(!r, "queries: find_range/scan_range/count_blocks leave the tree unchanged"))
		diag("%s", why);
	es_tree_release(&t);
	es_cache_release(&c);
}

/* ---- iteration, lookups without next, names ---- */

static void test_iter_and_names(void)
{
	static const struct step setup[MAXSTEP] = QSETUP;
	struct es_cache c;
	struct es_tree t;
	struct es_iter it;
	struct es_extent e;
	char why[512] = "", buf[3];
	int n;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	run_setup(&t, setup, why, sizeof(why));
	es_iter_start(&t, 22, &it);
	ok(es_iter_next(&it, &e) && e.lblk == 20 && e.len == 5,
	   "iter: starts at the entry containing lblk");
	es_iter_start(&t, 26, &it);
	ok(es_iter_next(&it, &e) && e.lblk == 30, "iter: or at the first entry after it");
	for (n = 1; es_iter_next(&it, &e); n++)
		;
	ok(n == 4, "iter: then walks to the end (%d entries from 30)", n);
	es_iter_start(&t, LMAX, &it);
	ok(es_iter_next(&it, &e) && e.lblk == 0xfffffff0 && !es_iter_next(&it, &e),
	   "iter: from ES_LBLK_MAX");
	ok(es_lookup(&t, 50, &e, NULL) == 1 && e.pblk == 500,
	   "lookup: next_lblk may be NULL");
	es_tree_release(&t);
	es_tree_init(&c, &t, 2);
	es_iter_start(&t, 0, &it);
	ok(!es_iter_next(&it, &e), "iter: empty tree yields nothing");
	es_tree_release(&t);
	es_cache_release(&c);

	ok(!strcmp(es_type_name(ES_WRITTEN), "written") &&
	   !strcmp(es_type_name(ES_UNWRITTEN), "unwritten") &&
	   !strcmp(es_type_name(ES_DELAYED), "delayed") &&
	   !strcmp(es_type_name(ES_HOLE), "hole") &&
	   !strcmp(es_type_name(0), "?") &&
	   !strcmp(es_type_name(ES_WRITTEN | ES_HOLE), "?"),
	   "es_type_name");
	ok(!strcmp(es_status_letters(ES_WRITTEN, buf), "W") &&
	   !strcmp(es_status_letters(ES_UNWRITTEN, buf), "U") &&
	   !strcmp(es_status_letters(ES_DELAYED, buf), "D") &&
	   !strcmp(es_status_letters(ES_HOLE | ES_REFERENCED, buf), "HR") &&
	   !strcmp(es_status_letters(ES_WRITTEN | ES_REFERENCED, buf), "WR"),
	   "es_status_letters");
}

/* ---- counters, many trees, drop_reclaimable ---- */

static int stats_are(const struct es_cache *c, uint64_t entries, uint64_t reclaimable,
		     uint64_t trees, uint64_t on_list)
{
	struct es_stats st;
	char msg[256] = "";
	int err;

	es_cache_stats(c, &st);
	err = es_cache_check(c, msg, sizeof(msg));
	if (st.entries == entries && st.reclaimable == reclaimable &&
	    st.trees == trees && st.trees_on_list == on_list &&
	    st.bytes == entries * ES_ENTRY_SIZE && st.footprint >= st.bytes && !err)
		return 1;
	diag("stats: entries %" PRIu64 " reclaimable %" PRIu64 " trees %" PRIu64
	     " on_list %" PRIu64 " bytes %" PRIu64 " footprint %" PRIu64,
	     st.entries, st.reclaimable, st.trees, st.trees_on_list, st.bytes,
	     st.footprint);
	diag("want entries %" PRIu64 " reclaimable %" PRIu64 " trees %" PRIu64
	     " on_list %" PRIu64 "; es_cache_check %d %s", entries, reclaimable,
	     trees, on_list, err, msg);
	return 0;
}

static void test_counters(void)
{
	static const struct step s1[MAXSTEP] = {
		INS_W(0, 5, 100), INS_U(10, 5, 200), INS_D(20, 5), INS_H(30, 5)
	};
	static const struct step s2[MAXSTEP] = { INS_D(0, 5), INS_D(10, 5), INS_D(20, 5) };
	static const struct es_extent d1[] = { XD(20, 5) };
	struct es_cache c;
	struct es_tree t1, t2, t3;
	struct es_stats st;
	struct es_extent e;
	char why[512] = "";

	es_cache_init(&c);
	ok(stats_are(&c, 0, 0, 0, 0), "counters: a new cache is empty");
	es_tree_init(&c, &t1, 1);
	es_tree_init(&c, &t2, 2);
	es_tree_init(&c, &t3, 3);
	run_setup(&t1, s1, why, sizeof(why));
	run_setup(&t2, s2, why, sizeof(why));
	es_insert(&t3, 0, MAX, 0, ES_HOLE);
	ok(es_tree_entries(&t1) == 4 && es_tree_reclaimable(&t1) == 3,
	   "counters: mixed tree has 4 entries, 3 reclaimable");
	ok(es_tree_entries(&t2) == 3 && es_tree_reclaimable(&t2) == 0,
	   "counters: DELAYED entries are not reclaimable");
	ok(es_tree_entries(&t3) == 1 && es_tree_reclaimable(&t3) == 1,
	   "counters: one H entry");
	ok(stats_are(&c, 8, 4, 3, 2), "counters: cache totals, bytes = entries * 40");
	es_cache_stats(&c, &st);
	if (!ok(st.max_tree_id == 1 && st.max_tree_entries == 4,
	   "counters: the largest tree is reported"))
		diag("max_tree_id %" PRIu64 " entries %" PRIu64, st.max_tree_id,
		     st.max_tree_entries);

	es_lookup(&t1, 0, &e, NULL);
	es_lookup(&t1, 12, &e, NULL);
	es_lookup(&t2, 0, &e, NULL);
	es_lookup(&t1, 7, &e, NULL);
	es_lookup(&t3, 7, &e, NULL);
	es_lookup(&t2, 7, &e, NULL);
	es_cache_extent(&t1, 0, 10, 0, ES_HOLE, NULL);
	es_cache_stats(&c, &st);
	if (!ok(st.hits == 4 && st.misses == 2, "counters: lookup hits and misses"))
		diag("hits %" PRIu64 " misses %" PRIu64, st.hits, st.misses);
	if (!ok(st.conflicts == 1, "counters: cache conflicts"))
		diag("conflicts %" PRIu64, st.conflicts);

	es_tree_drop_reclaimable(&t1);
	if (!ok(!tu_tree_equals(&t1, d1, 1, 1, why, sizeof(why)) &&
	   !tu_check(&t1, why, sizeof(why)) && es_tree_reclaimable(&t1) == 0,
	   "drop_reclaimable: keeps only the DELAYED entry"))
		diag("%s", why);
	ok(stats_are(&c, 5, 1, 3, 1), "drop_reclaimable: cache totals follow");
	es_tree_drop_reclaimable(&t2);
	ok(es_tree_entries(&t2) == 3, "drop_reclaimable: a DELAYED-only tree is untouched");
	es_tree_release(&t3);
	ok(stats_are(&c, 4, 0, 2, 0), "release: the tree's entries leave the cache");
	es_tree_release(&t1);
	es_tree_release(&t2);
	ok(stats_are(&c, 0, 0, 0, 0), "release: all trees released");
	es_cache_release(&c);
}

#define NTREES 40

/* Many trees in one cache: each holds exactly what was put into it. */
static void test_many_trees(void)
{
	static struct es_tree trees[NTREES];
	struct es_extent want[16];
	struct es_cache c;
	struct es_stats st;
	char why[512] = "";
	uint64_t total = 0, reclaimable = 0, odd_total = 0, odd_reclaimable = 0;
	int i, k, bad = -1;

	es_cache_init(&c);
	for (i = 0; i < NTREES; i++)
		es_tree_init(&c, &trees[i], 1000 + i);
	/* Interleave: round k inserts entry k into every tree that wants it. */
	for (k = 0; k < 8; k++)
		for (i = 0; i < NTREES; i++) {
			if (k > i % 8)
				continue;
			if (k % 2)
				es_insert(&trees[i], 10 * k, 5, 0, ES_DELAYED);
			else
				es_insert(&trees[i], 10 * k, 5, 1000 * i + 10 * k + 3, ES_WRITTEN);
		}
	for (i = 0; i < NTREES && bad < 0; i++) {
		int n = i % 8 + 1;

		for (k = 0; k < n; k++) {
			struct es_extent x = k % 2 ? (struct es_extent)XD(10 * k, 5) :
				(struct es_extent)XW(10 * k, 5, 1000 * i + 10 * k + 3);
			want[k] = x;
			if (!(k % 2)) {
				reclaimable++;
				odd_reclaimable += i % 2;
			}
		}
		total += n;
		odd_total += i % 2 ? n : 0;
		if (tu_tree_equals(&trees[i], want, n, 0, why, sizeof(why)) ||
		    tu_check(&trees[i], why, sizeof(why)))
			bad = i;
	}
	if (!ok(bad < 0, "many trees: each tree holds exactly its own entries"))
		diag("tree %d: %s", bad, why);
	ok(stats_are(&c, total, reclaimable, NTREES, NTREES),
	   "many trees: cache totals are the sums");
	es_cache_stats(&c, &st);
	if (!ok(st.max_tree_id == 1007 && st.max_tree_entries == 8,
	   "many trees: largest tree, lowest id on a tie"))
		diag("max_tree_id %" PRIu64 " entries %" PRIu64, st.max_tree_id,
		     st.max_tree_entries);
	for (i = 0; i < NTREES; i += 2)
		es_tree_release(&trees[i]);
	ok(stats_are(&c, odd_total, odd_reclaimable, NTREES / 2, NTREES / 2),
	   "many trees: releasing half of them");
	for (i = 1; i < NTREES; i += 2)
		es_tree_release(&trees[i]);
	ok(stats_are(&c, 0, 0, 0, 0), "many trees: all released");
	es_cache_release(&c);
}

/* ---- bulk loads: in-order appends to an empty tree, settled on first look ---- */

/* Append n entries in order, alternating WRITTEN (never mergeable) and HOLE. */
static void append_n(struct es_tree *t, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		es_cache_extent(t, 10 * i, 10, i % 2 ? 0 : 100000 + 20 * i,
				i % 2 ? ES_HOLE : ES_WRITTEN, NULL);
}

static int check_appended(struct es_tree *t, uint32_t n, uint32_t skip_every,
			  char *why, size_t whylen)
{
	struct es_extent es;
	uint32_t i;

	if (tu_check(t, why, whylen))
		return -1;
	for (i = 0; i < n; i++) {
		int found = es_lookup(t, 10 * i + 3, &es, NULL);

		if (skip_every && i % skip_every == 0) {
			if (found) {
				snprintf(why, whylen, "entry %u still there", i);
				return -1;
			}
			continue;
		}
		if (!found || es.lblk != 10 * i || es.len != 10 ||
		    es_type(&es) != (i % 2 ? ES_HOLE : ES_WRITTEN) ||
		    (!(i % 2) && es.pblk != 100000 + 20 * i)) {
			snprintf(why, whylen, "entry %u wrong or missing", i);
			return -1;
		}
	}
	return tu_check(t, why, whylen);
}

static void test_bulk_load(void)
{
	static const uint32_t sizes[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17,
					  31, 32, 33, 100, 1023, 1024, 4097 };
	struct es_tree t, other;
	struct es_extent es;
	struct es_cache c;
	char why[512] = "";
	uint64_t footprint;
	size_t i;
	uint32_t k;
	int bad = -1;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && bad < 0; i++) {
		es_cache_init(&c);
		es_tree_init(&c, &t, 1);
		append_n(&t, sizes[i]);
		/* es_check walks the pending list as it is, then lookups settle it */
		if (check_appended(&t, sizes[i], 0, why, sizeof(why)))
			bad = (int)i;
		for (k = 0; k < sizes[i] && bad < 0; k += 3)
			es_remove(&t, 10 * k, 10);
		if (bad < 0 && check_appended(&t, sizes[i], 3, why, sizeof(why)))
			bad = (int)i;
		es_tree_release(&t);
		es_cache_release(&c);
	}
	if (!ok(bad < 0, "bulk load: appends, settle, lookups and removes on 19 sizes"))
		diag("%u entries: %s", sizes[bad], why);

	/*
	 * Iterating a bulk load walks the pending list; a settle in the middle
	 * of the walk (a lookup) must not derail it.
	 */
	for (k = 0; k < 2 && bad < 0; k++) {
		struct es_iter it;
		uint32_t n = 0;

		es_cache_init(&c);
		es_tree_init(&c, &t, 1);
		append_n(&t, 1000);
		es_iter_start(&t, 0, &it);
		while (es_iter_next(&it, &es)) {
			if (es.lblk != 10 * n || es.len != 10 ||
			    es_type(&es) != (n % 2 ? ES_HOLE : ES_WRITTEN))
				break;
			if (k && n == 500)
				es_lookup(&t, 3, &es, NULL);
			n++;
		}
		if (n != 1000 || tu_check(&t, why, sizeof(why)))
			bad = (int)k;
		es_tree_release(&t);
		es_cache_release(&c);
	}
	(void)(ok(bad < 0, "bulk load: iteration over pending appends, settled midway or not") ||
	       diag("pass %d: %s", bad, why));
	bad = -1;

	/* Mergeable appends stay one pending entry. */
	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	for (k = 0; k < 100; k++)
		es_cache_extent(&t, 4 * k, 4, 500 + 4 * k, ES_WRITTEN, NULL);
	(void)(ok(es_tree_entries(&t) == 1 && tu_check(&t, why, sizeof(why)) == 0 &&
		  es_lookup(&t, 399, &es, NULL) && es.lblk == 0 && es.len == 400 &&
		  es.pblk == 500, "bulk load: mergeable appends merge into one entry") ||
	       diag("%s", why));
	/* An insert in front of pending appends settles them first. */
	es_remove(&t, 0, 400);
	append_n(&t, 50);
	es_insert(&t, 1000000, 1, 0, ES_DELAYED);
	es_insert(&t, 5, 1, 7, ES_WRITTEN);
	(void)(ok(tu_check(&t, why, sizeof(why)) == 0 && es_tree_entries(&t) == 53,
		  "bulk load: an insert among pending appends") || diag("%s", why));
	es_tree_release(&t);

	/*
	 * Releasing the only tree hands the whole slab back at once; the next
	 * load carves the same chunks.  With another tree alive, entries go
	 * back one by one and the other tree is untouched.
	 */
	es_tree_init(&c, &t, 1);
	append_n(&t, 5000);
	footprint = es_cache_check(&c, why, sizeof(why)) ? 0 : c.alloc.footprint(c.alloc.priv);
	es_tree_release(&t);
	es_tree_init(&c, &t, 1);
	append_n(&t, 5000);
	(void)(ok(check_appended(&t, 5000, 0, why, sizeof(why)) == 0 &&
		  c.alloc.footprint(c.alloc.priv) == footprint,
		  "bulk load: a reload after releasing the last tree reuses the slab") ||
	       diag("%s", why));
	es_tree_init(&c, &other, 2);
	append_n(&other, 3000);
	es_tree_release(&t);
	(void)(ok(check_appended(&other, 3000, 0, why, sizeof(why)) == 0 &&
		  es_cache_check(&c, why, sizeof(why)) == 0,
		  "bulk load: releasing one of two trees leaves the other intact") ||
	       diag("%s", why));
	es_tree_init(&c, &t, 1);
	append_n(&t, 9000);	/* more than t freed: carves past other's entries */
	(void)(ok(check_appended(&t, 9000, 0, why, sizeof(why)) == 0 &&
		  check_appended(&other, 3000, 0, why, sizeof(why)) == 0,
		  "bulk load: both trees right after reuse of freed entries") ||
	       diag("%s", why));
	es_tree_release(&other);
	es_tree_release(&t);
	es_cache_release(&c);
}

/* ---- es_cache_extent()'s own append against the general insert ---- */

/*
 * es_cache_extent() past the last entry (an in-order load) takes a path of
 * its own; es_insert() of the same facts there takes the general one, and
 * is what es_cache_extent() did before.  Both must leave the same entries,
 * cached entry, pending list and every counter, whatever the allocator,
 * faults, limits and the neighbours do in between.
 */
enum {
	AP_FAULT_EVERY	= 0x001,	/* every:7 */
	AP_FAULT_RATE	= 0x002,	/* rate:0.2 */
	AP_LIMIT	= 0x004,	/* 1500 entries */
	AP_BYTES	= 0x008,	/* about 1200 entries' worth of bytes */
	AP_LOOKUP	= 0x010,	/* lookups now and then: settles, REFERENCED */
	AP_DELAYED	= 0x020,	/* must-keep entries among the appends */
	AP_EMPTY	= 0x040,	/* the tree emptied now and then */
	AP_FREED	= 0x080,	/* removals in the other tree: a free list */
	AP_HEAP		= 0x100,	/* not the cache's own slab */
	AP_BULK		= 0x200,	/* side a loads through es_cache_extents() */
};

/* The entries side a has not loaded yet (AP_BULK). */
struct ap_batch {
	struct es_extent v[64];
	size_t n, want;
};

/* Load the batch through es_cache_extents(); its return, or 0 if empty. */
static int ap_flush(struct es_tree *t, struct ap_batch *b, uint64_t *rng)
{
	int r = b->n ? es_cache_extents(t, b->v, b->n) : 0;

	b->n = 0;
	b->want = 1 + (size_t)tu_below(rng, 64);
	return r;
}

struct ap_side {
	struct es_cache c;
	struct es_fault f;
	struct es_tree t, other;
};

static void *ap_heap_alloc(void *priv)
{
	(void)priv;
	return malloc(ES_ENTRY_SIZE);
}

static void ap_heap_free(void *priv, void *obj)
{
	(void)priv;
	free(obj);
}

static void ap_init(struct ap_side *s, unsigned int flags)
{
	static const struct es_allocator heap = {
		.alloc = ap_heap_alloc, .free = ap_heap_free,
	};
	uint32_t i;

	memset(s, 0, sizeof(*s));
	es_cache_init(&s->c);
	if (flags & AP_HEAP) {
		/* the slab keeps a chunk to carve: the heap must still be used */
		es_tree_init(&s->c, &s->t, 1);
		for (i = 0; i < 100; i++)
			es_insert(&s->t, 2 * i, 1, 0, ES_HOLE);
		es_tree_release(&s->t);
		es_cache_set_allocator(&s->c, &heap);
	}
	if (flags & AP_FAULT_EVERY)
		es_fault_init(&s->f, ES_FAULT_EVERY, 7, 0, 0);
	if (flags & AP_FAULT_RATE)
		es_fault_init(&s->f, ES_FAULT_RATE, 0, 0.2, 11);
	if (flags & (AP_FAULT_EVERY | AP_FAULT_RATE))
		es_cache_set_fault(&s->c, &s->f);
	es_tree_init(&s->c, &s->other, 2);
	for (i = 0; i < 500; i++)
		es_insert(&s->other, 3 * i, 2, 9000 + 3 * i, ES_WRITTEN);
	es_tree_init(&s->c, &s->t, 1);
	if (flags & AP_LIMIT)
		es_cache_set_limit(&s->c, 1500, 0);
	if (flags & AP_BYTES)
		es_cache_set_limit(&s->c, 0, 1200 * ES_ENTRY_SIZE + 39);
}

static void ap_release(struct ap_side *s)
{
	es_tree_release(&s->t);
	es_tree_release(&s->other);
	es_cache_release(&s->c);
}

static int64_t ap_lblk(const struct es_node *n)
{
	return n ? (int64_t)n->lblk : -1;
}

#define AP_STATS(X) X(entries) X(reclaimable) X(trees) X(trees_on_list) X(bytes) \
	X(footprint) X(hits) X(misses) X(alloc_attempts) X(alloc_failures) \
	X(alloc_retries) X(dropped) X(lost) X(conflicts) X(shrink_calls) \
	X(shrink_scanned) X(shrunk) X(max_tree_id) X(max_tree_entries)

/* 0 if a (appended) and b (inserted) are the same; with dump, entry for entry. */
static int ap_same(const struct ap_side *a, const struct ap_side *b, int dump,
		   char *why, size_t whylen)
{
	static struct es_extent ea[16384], eb[16384];
	struct es_stats sa, sb;
	size_t na, nb, i;
	char x[128], y[128];

	es_cache_stats(&a->c, &sa);
	es_cache_stats(&b->c, &sb);
#define AP_CMP(f) \
	if (sa.f != sb.f) { \
		snprintf(why, whylen, "stats." #f ": %" PRIu64 " appended, %" PRIu64 " inserted", \
			 sa.f, sb.f); \
		return -1; \
	}
	AP_STATS(AP_CMP)
#undef AP_CMP
	if (a->f.attempts != b->f.attempts || a->f.failures != b->f.failures) {
		snprintf(why, whylen, "fault attempts/failures %" PRIu64 "/%" PRIu64
			 " appended, %" PRIu64 "/%" PRIu64 " inserted", a->f.attempts,
			 a->f.failures, b->f.attempts, b->f.failures);
		return -1;
	}
	if (ap_lblk(a->t.cache_es) != ap_lblk(b->t.cache_es) ||
	    ap_lblk(a->t.rightmost) != ap_lblk(b->t.rightmost)) {
		snprintf(why, whylen, "cached/rightmost entry at %" PRId64 "/%" PRId64
			 " appended, %" PRId64 "/%" PRId64 " inserted",
			 ap_lblk(a->t.cache_es), ap_lblk(a->t.rightmost),
			 ap_lblk(b->t.cache_es), ap_lblk(b->t.rightmost));
		return -1;
	}
	if (!a->t.pending != !b->t.pending || !a->t.root != !b->t.root ||
	    a->t.pending_nr != b->t.pending_nr || a->t.all_nr != b->t.all_nr ||
	    a->t.shk_nr != b->t.shk_nr || a->t.shrink_lblk != b->t.shrink_lblk ||
	    a->other.shrink_lblk != b->other.shrink_lblk) {
		snprintf(why, whylen, "tree state: pending %" PRIu64 " built %d entries %" PRIu64
			 "/%" PRIu64 " appended, pending %" PRIu64 " built %d entries %" PRIu64
			 "/%" PRIu64 " inserted", a->t.pending_nr, !!a->t.root, a->t.all_nr,
			 a->t.shk_nr, b->t.pending_nr, !!b->t.root, b->t.all_nr, b->t.shk_nr);
		return -1;
	}
	if (!dump)
		return 0;
	na = tu_dump(&a->t, ea, sizeof(ea) / sizeof(ea[0]));
	nb = tu_dump(&b->t, eb, sizeof(eb) / sizeof(eb[0]));
	for (i = 0; i < na && i < nb && i < sizeof(ea) / sizeof(ea[0]); i++)
		if (ea[i].lblk != eb[i].lblk || ea[i].len != eb[i].len ||
		    ea[i].pblk != eb[i].pblk || ea[i].status != eb[i].status) {
			snprintf(why, whylen, "entry %zu: %s appended, %s inserted", i,
				 tu_fmt(&ea[i], x, sizeof(x)), tu_fmt(&eb[i], y, sizeof(y)));
			return -1;
		}
	if (na != nb) {
		snprintf(why, whylen, "%zu entries appended, %zu inserted", na, nb);
		return -1;
	}
	if (tu_check(&a->t, why, whylen) || tu_check(&b->t, why, whylen) ||
	    tu_check(&a->other, why, whylen) || tu_check(&b->other, why, whylen))
		return -1;
	return 0;
}

/* The same seeded in-order load through both paths; -1, or the step they part. */
static long ap_run(unsigned int flags, uint64_t seed, uint32_t steps,
		   char *why, size_t whylen)
{
	static const unsigned int types[] = { ES_WRITTEN, ES_UNWRITTEN, ES_HOLE };
	static struct ap_side a, b;
	static struct ap_batch batch;
	uint64_t rng = seed, pblk = 1000, brng = seed ^ 0x5eed;
	unsigned int type = ES_WRITTEN;
	uint32_t lblk = 0, len, i;
	long bad = -1;
	int ra, rb, bulk = !!(flags & AP_BULK), acts;

	ap_init(&a, flags);
	ap_init(&b, flags);
	batch.n = 0;
	batch.want = 1;
	for (i = 0; i < steps && bad < 0; i++) {
		/* mostly adjacent and contiguous, so that about half merge */
		if (tu_below(&rng, 3) == 0)
			lblk += 1 + (uint32_t)tu_below(&rng, 4);
		if (tu_below(&rng, 3) == 0)
			type = types[tu_below(&rng, 3)];
		if (tu_below(&rng, 4) == 0)
			pblk += 1 + tu_below(&rng, 100);
		len = 1 + (uint32_t)tu_below(&rng, 8);
		if (bulk) {
			batch.v[batch.n].lblk = lblk;
			batch.v[batch.n].len = len;
			batch.v[batch.n].pblk = pblk;
			batch.v[batch.n].status = type;
			batch.n++;
			ra = 0;
		} else {
			ra = es_cache_extent(&a.t, lblk, len, pblk, type, NULL);
		}
		rb = es_insert(&b.t, lblk, len, pblk, type);
		lblk += len;
		pblk += len;
		/* Whatever else is done to the trees, side a loads first. */
		acts = ((flags & AP_DELAYED) && i % 400 == 3) ||
		       ((flags & AP_LOOKUP) && i % 700 == 699) ||
		       ((flags & AP_EMPTY) && i % 900 == 899) ||
		       ((flags & AP_FREED) && i % 300 == 150);
		if (bulk && (acts || batch.n >= batch.want || i + 1 == steps))
			ra = ap_flush(&a.t, &batch, &brng);
		if (ra || rb) {
			snprintf(why, whylen, "returned %d appended, %d inserted", ra, rb);
			bad = i;
			break;
		}
		if ((flags & AP_DELAYED) && i % 400 == 3) {
			es_insert(&a.t, lblk, 2, 0, ES_DELAYED);
			es_insert(&b.t, lblk, 2, 0, ES_DELAYED);
			lblk += 2 + (uint32_t)tu_below(&rng, 2);
		}
		if ((flags & AP_LOOKUP) && i % 700 == 699) {
			struct es_extent e;
			uint32_t at = (uint32_t)tu_below(&rng, lblk);

			es_lookup(&a.t, at, &e, NULL);
			es_lookup(&b.t, at, &e, NULL);
		}
		if ((flags & AP_EMPTY) && i % 900 == 899) {
			es_remove(&a.t, 0, lblk);
			es_remove(&b.t, 0, lblk);
		}
		if ((flags & AP_FREED) && i % 300 == 150) {
			/* now and then a third of the other tree, else a few entries */
			uint32_t at = (uint32_t)tu_below(&rng, 1500);
			uint32_t n = i % 3000 == 150 ? 500 : 4;

			es_remove(&a.other, at, n);
			es_remove(&b.other, at, n);
		}
		if (bulk && batch.n)
			continue; /* side a has not loaded them yet */
		if (ap_same(&a, &b, i % 250 == 0 || i + 1 == steps, why, whylen))
			bad = i;
	}
	ap_release(&a);
	ap_release(&b);
	return bad;
}

static void test_append_matches_insert(void)
{
	static const struct {
		unsigned int flags;
		const char *what;
	} runs[] = {
		{ 0, "a plain load" },
		{ AP_DELAYED, "DELAYED entries among the appends" },
		{ AP_LOOKUP, "lookups settle the tree midway" },
		{ AP_EMPTY, "the tree emptied and loaded again" },
		{ AP_FREED, "freed entries to reuse first" },
		{ AP_FAULT_EVERY, "fault every:7" },
		{ AP_FAULT_RATE | AP_FREED, "fault rate:0.2, freed entries" },
		{ AP_LIMIT, "an entry limit" },
		{ AP_BYTES, "a byte limit" },
		{ AP_HEAP, "another allocator" },
		{ AP_LIMIT | AP_DELAYED | AP_EMPTY | AP_FAULT_RATE, "all of it" },
	};
	char why[512];
	size_t i;
	long bad;

	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		why[0] = '\0';
		bad = ap_run(runs[i].flags, 1000 + i, 8000, why, sizeof(why));
		if (!ok(bad < 0, "append vs insert: %s", runs[i].what))
			diag("step %ld: %s", bad, why);
	}
	/* The same through es_cache_extents(), in batches of 1 to 64. */
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		why[0] = '\0';
		bad = ap_run(runs[i].flags | AP_BULK, 2000 + i, 8000, why,
			     sizeof(why));
		if (!ok(bad < 0, "bulk vs insert: %s", runs[i].what))
			diag("step %ld: %s", bad, why);
	}
}

/*
 * es_cache_extents() at an entry es_cache_extent() refuses: EINVAL, the
 * entries before it cached, none after; a zero length and a conflict
 * (counted) are passed over.
 */
static void test_bulk_refused(void)
{
	struct es_extent v[6] = {
		{ 0, 4, 100, ES_WRITTEN },
		{ 4, 0, 0, ES_HOLE },		/* nothing */
		{ 2, 4, 900, ES_WRITTEN },	/* a conflict: counted */
		{ 10, 2, 0, ES_HOLE },
		{ 12, 2, 0, ES_DELAYED },	/* EINVAL */
		{ 20, 2, 300, ES_UNWRITTEN },
	};
	struct es_extent es;
	struct es_stats st;
	struct es_cache c;
	struct es_tree t;
	int r;

	es_cache_init(&c);
	es_tree_init(&c, &t, 1);
	r = es_cache_extents(&t, v, 6);
	es_cache_stats(&c, &st);
	ok(r == EINVAL && st.entries == 2 && st.conflicts == 1 &&
		   es_lookup(&t, 3, &es, NULL) && es.pblk == 100 &&
		   es_lookup(&t, 11, &es, NULL) && es_type(&es) == ES_HOLE &&
		   !es_lookup(&t, 12, &es, NULL) && !es_lookup(&t, 20, &es, NULL),
	   "bulk: EINVAL at a DELAYED entry, two cached before it, one conflict counted (r %d, %" PRIu64 " entries)",
	   r, st.entries);
	es_tree_release(&t);
	es_cache_release(&c);
}

/* ---- fault specs ---- */

static void test_fault_parse(void)
{
	static const char *const bad[] = {
		"", "garbage", "nth", "nth:", "nth:0", "nth:abc", "nth:5x", "nth:-1",
		"every:", "every:0", "every:1", "every:x",
		"rate:", "rate:1", "rate:1.0", "rate:1.5", "rate:-0.1", "rate:abc",
		"rate:0.5,seed:", "rate:0.5,seed:x", "rate:0.5,", "none:1", "nth:3 ",
	};
	struct es_fault f;
	size_t i;
	int r, seq[9], fails;

	r = es_fault_parse(&f, "none");
	ok(!r && f.mode == ES_FAULT_NONE, "fault_parse: none");
	r = es_fault_parse(&f, "nth:5");
	ok(!r && f.mode == ES_FAULT_NTH && f.n == 5, "fault_parse: nth:5");
	r = es_fault_parse(&f, "every:3");
	ok(!r && f.mode == ES_FAULT_EVERY && f.n == 3, "fault_parse: every:3");
	r = es_fault_parse(&f, "every:2");
	ok(!r && f.mode == ES_FAULT_EVERY && f.n == 2, "fault_parse: every:2");
	r = es_fault_parse(&f, "rate:0.25");
	ok(!r && f.mode == ES_FAULT_RATE && f.rate == 0.25, "fault_parse: rate:0.25");
	r = es_fault_parse(&f, "rate:0.5,seed:42");
	ok(!r && f.mode == ES_FAULT_RATE && f.rate == 0.5 && f.seed == 42,
	   "fault_parse: rate:0.5,seed:42");
	r = es_fault_parse(&f, "rate:0");
	ok(!r && f.mode == ES_FAULT_RATE && f.rate == 0, "fault_parse: rate:0");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = es_fault_parse(&f, bad[i]);
		if (!ok(r == EINVAL, "fault_parse: rejects \"%s\"", bad[i]))
			diag("returned %d", r);
	}

	es_fault_init(&f, ES_FAULT_NTH, 3, 0, 0);
	for (i = 0; i < 9; i++)
		seq[i] = !!es_fault_should_fail(&f);
	ok(!seq[0] && !seq[1] && seq[2] && !seq[3] && !seq[4] && !seq[5] && !seq[8] &&
	   f.attempts == 9 && f.failures == 1, "fault: nth:3 fails the third attempt only");
	es_fault_init(&f, ES_FAULT_EVERY, 3, 0, 0);
	for (i = 0; i < 9; i++)
		seq[i] = !!es_fault_should_fail(&f);
	ok(!seq[0] && !seq[1] && seq[2] && !seq[3] && !seq[4] && seq[5] && seq[8] &&
	   !seq[7] && f.failures == 3, "fault: every:3 fails attempts 3, 6, 9");
	es_fault_init(&f, ES_FAULT_NONE, 0, 0, 0);
	for (i = 0, fails = 0; i < 1000; i++)
		fails += !!es_fault_should_fail(&f);
	ok(fails == 0 && f.attempts == 1000, "fault: none never fails, counts attempts");
	{
		struct es_fault a, b, d;
		int same = 1, differ = 0;

		es_fault_init(&a, ES_FAULT_RATE, 0, 0.3, 7);
		es_fault_init(&b, ES_FAULT_RATE, 0, 0.3, 7);
		es_fault_init(&d, ES_FAULT_RATE, 0, 0.3, 8);
		for (i = 0, fails = 0; i < 10000; i++) {
			int x = !!es_fault_should_fail(&a);

			same &= x == !!es_fault_should_fail(&b);
			differ |= x != !!es_fault_should_fail(&d);
			fails += x;
		}
		ok(same, "fault: rate with the same seed repeats");
		ok(differ, "fault: rate with another seed differs");
		ok(fails > 2700 && fails < 3300 && a.failures == (uint64_t)fails,
		   "fault: rate:0.3 fails about 30%% (%d of 10000)", fails);
	}
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	pair_cases();
	for (i = 0; i < sizeof(lcases) / sizeof(lcases[0]); i++)
		run_lcase(&lcases[i]);
	test_queries();
	test_iter_and_names();
	test_counters();
	test_many_trees();
	test_bulk_load();
	test_append_matches_insert();
	test_bulk_refused();
	test_fault_parse();
	return done();
}
