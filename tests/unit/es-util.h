/* es-util.h --- shared helpers of the lib/es unit tests: dumps, formatting, a PRNG */
#ifndef ESCK_ES_UTIL_H
#define ESCK_ES_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "es.h"

/* Shorthands for expected entries. */
#define XW(l, n, p)	{ (l), (n), (p), ES_WRITTEN }
#define XU(l, n, p)	{ (l), (n), (p), ES_UNWRITTEN }
#define XD(l, n)	{ (l), (n), ES_PBLK_NONE, ES_DELAYED }
#define XH(l, n)	{ (l), (n), ES_PBLK_NONE, ES_HOLE }
#define XWR(l, n, p)	{ (l), (n), (p), ES_WRITTEN | ES_REFERENCED }
#define XUR(l, n, p)	{ (l), (n), (p), ES_UNWRITTEN | ES_REFERENCED }
#define XDR(l, n)	{ (l), (n), ES_PBLK_NONE, ES_DELAYED | ES_REFERENCED }
#define XHR(l, n)	{ (l), (n), ES_PBLK_NONE, ES_HOLE | ES_REFERENCED }

/* "[lblk/len) pblk STATUS" with pblk "-" for DELAYED and HOLE. */
const char *tu_fmt(const struct es_extent *e, char *buf, size_t len);

/* Copy every entry of t (at most max) into out; returns the number of entries. */
size_t tu_dump(const struct es_tree *t, struct es_extent *out, size_t max);

/* Print the whole tree as TAP diagnostics, prefixed by what. */
void tu_diag_tree(const struct es_tree *t, const char *what);

/*
 * Compare t with the n entries of want, comparing lblk, len, status (with
 * the REFERENCED bit unless ignore_ref) and, for WRITTEN/UNWRITTEN, pblk;
 * DELAYED/HOLE entries must report ES_PBLK_NONE.  0 if equal, otherwise -1
 * with a description in why.
 */
int tu_tree_equals(const struct es_tree *t, const struct es_extent *want,
		   size_t n, int ignore_ref, char *why, size_t whylen);

/* es_check() and es_cache_check(); 0 or -1 with the message in why. */
int tu_check(const struct es_tree *t, char *why, size_t whylen);

/* True if left and right could be merged by the kernel's rules (§2.6). */
int tu_mergeable(const struct es_extent *left, const struct es_extent *right);

/* One block of a per-block oracle: type 0 means nothing is known. */
struct tu_blk {
	unsigned int type;
	uint64_t pblk;
};

/* Set [lblk, lblk + len) of o; with only_gaps, only blocks of type 0. */
void tu_blk_set(struct tu_blk *o, uint32_t lblk, uint32_t len, uint64_t pblk,
		unsigned int type, int only_gaps);

/*
 * Facts (WRITTEN, UNWRITTEN or HOLE) for es_cache_extent over
 * [lblk, lblk + *len) that agree with the oracle o; *len may shrink (to 0).
 */
void tu_facts(const struct tu_blk *o, uint64_t *rng, uint32_t lblk, uint32_t *len,
	      unsigned int *type, uint64_t *pblk);

/* Expand the entries of t below space into out[space]. */
void tu_blocks_of(const struct es_tree *t, struct tu_blk *out, uint32_t space);

/*
 * "The cache may cover less, never say something wrong": the DELAYED blocks
 * of t below space are exactly those of truth, and every other block t
 * covers has the type and pblk truth has.  0, or -1 with why.
 */
int tu_covers_less(const struct tu_blk *truth, const struct es_tree *t,
		   uint32_t space, char *why, size_t whylen);

/* splitmix64. */
uint64_t tu_rand(uint64_t *state);
/* Uniform in [0, n), n > 0. */
uint64_t tu_below(uint64_t *state, uint64_t n);

#endif /* ESCK_ES_UTIL_H */
