/* es-util.c --- shared helpers of the lib/es unit tests: dumps, formatting, a PRNG */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es-util.h"
#include "tap.h"

const char *tu_fmt(const struct es_extent *e, char *buf, size_t len)
{
	char letters[3];
	char pblk[32];
	unsigned int type = es_type(e);

	if (type == ES_WRITTEN || type == ES_UNWRITTEN)
		snprintf(pblk, sizeof(pblk), "%" PRIu64, e->pblk);
	else if (e->pblk == ES_PBLK_NONE)
		snprintf(pblk, sizeof(pblk), "-");
	else
		snprintf(pblk, sizeof(pblk), "-(%#" PRIx64 ")", e->pblk);
	snprintf(buf, len, "[%" PRIu32 "/%" PRIu32 ") %s %s(%#x)", e->lblk,
		 e->len, pblk, es_status_letters(e->status, letters), e->status);
	return buf;
}

size_t tu_dump(const struct es_tree *t, struct es_extent *out, size_t max)
{
	struct es_iter it;
	struct es_extent e;
	size_t n = 0;

	es_iter_start(t, 0, &it);
	while (es_iter_next(&it, &e)) {
		if (n < max)
			out[n] = e;
		n++;
	}
	return n;
}

void tu_diag_tree(const struct es_tree *t, const char *what)
{
	struct es_iter it;
	struct es_extent e;
	char buf[128];
	int n = 0;

	diag("%s:", what);
	es_iter_start(t, 0, &it);
	while (es_iter_next(&it, &e)) {
		if (n++ == 64) {
			diag("  ...");
			break;
		}
		diag("  %s", tu_fmt(&e, buf, sizeof(buf)));
	}
	if (!n)
		diag("  (empty)");
}

static int same_extent(const struct es_extent *a, const struct es_extent *b,
		       int ignore_ref)
{
	unsigned int mask = ignore_ref ? ES_TYPE_MASK : ~0u;
	unsigned int type = es_type(b);

	if (a->lblk != b->lblk || a->len != b->len)
		return 0;
	if ((a->status & mask) != (b->status & mask))
		return 0;
	if (type == ES_WRITTEN || type == ES_UNWRITTEN)
		return a->pblk == b->pblk;
	return a->pblk == ES_PBLK_NONE;
}

int tu_tree_equals(const struct es_tree *t, const struct es_extent *want,
		   size_t n, int ignore_ref, char *why, size_t whylen)
{
	struct es_iter it;
	struct es_extent e;
	char b1[128], b2[128];
	size_t i = 0;

	es_iter_start(t, 0, &it);
	while (es_iter_next(&it, &e)) {
		if (i >= n) {
			snprintf(why, whylen, "unexpected entry #%zu %s", i,
				 tu_fmt(&e, b1, sizeof(b1)));
			return -1;
		}
		if (!same_extent(&e, &want[i], ignore_ref)) {
			snprintf(why, whylen, "entry #%zu is %s, want %s", i,
				 tu_fmt(&e, b1, sizeof(b1)),
				 tu_fmt(&want[i], b2, sizeof(b2)));
			return -1;
		}
		i++;
	}
	if (i != n) {
		snprintf(why, whylen, "missing entry #%zu %s", i,
			 tu_fmt(&want[i], b2, sizeof(b2)));
		return -1;
	}
	if (es_tree_entries(t) != n) {
		snprintf(why, whylen, "es_tree_entries() says %" PRIu64 ", iteration %zu",
			 es_tree_entries(t), n);
		return -1;
	}
	return 0;
}

int tu_check(const struct es_tree *t, char *why, size_t whylen)
{
	char msg[256];
	int err;

	msg[0] = '\0';
	err = es_check(t, msg, sizeof(msg));
	if (err) {
		snprintf(why, whylen, "es_check: %d: %s", err, msg);
		return -1;
	}
	msg[0] = '\0';
	err = es_cache_check(t->cache, msg, sizeof(msg));
	if (err) {
		snprintf(why, whylen, "es_cache_check: %d: %s", err, msg);
		return -1;
	}
	return 0;
}

int tu_mergeable(const struct es_extent *left, const struct es_extent *right)
{
	unsigned int type = es_type(left);

	if (type != es_type(right))
		return 0;
	if ((uint64_t)left->lblk + left->len != right->lblk)
		return 0;
	if ((uint64_t)left->len + right->len > ES_MAX_BLOCKS)
		return 0;
	if (type == ES_WRITTEN || type == ES_UNWRITTEN)
		return left->pblk + left->len == right->pblk;
	return 1;
}

uint64_t tu_rand(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t tu_below(uint64_t *state, uint64_t n)
{
	return tu_rand(state) % n;
}

static int mapped(unsigned int type)
{
	return type == ES_WRITTEN || type == ES_UNWRITTEN;
}

void tu_blk_set(struct tu_blk *o, uint32_t lblk, uint32_t len, uint64_t pblk,
		unsigned int type, int only_gaps)
{
	uint32_t i;

	for (i = 0; i < len; i++) {
		if (only_gaps && o[lblk + i].type)
			continue;
		o[lblk + i].type = type;
		o[lblk + i].pblk = mapped(type) ? pblk + i : 0;
	}
}

void tu_facts(const struct tu_blk *o, uint64_t *rng, uint32_t lblk, uint32_t *len,
	      unsigned int *type, uint64_t *pblk)
{
	static const unsigned int cacheable[] = { ES_WRITTEN, ES_UNWRITTEN, ES_HOLE };
	uint32_t i;

	*type = cacheable[tu_below(rng, 3)];
	*pblk = 10000 + tu_below(rng, 100000);
	for (i = 0; i < *len; i++) {
		const struct tu_blk *b = &o[lblk + i];

		if (b->type && b->type != ES_DELAYED) {
			*type = b->type;
			*pblk = mapped(b->type) ? b->pblk - i : 0;
			break;
		}
	}
	for (i = 0; i < *len; i++) {
		const struct tu_blk *b = &o[lblk + i];

		if (!b->type || (b->type == ES_DELAYED && *type == ES_HOLE))
			continue;
		if (b->type != *type || (mapped(b->type) && b->pblk != *pblk + i))
			break;
	}
	*len = i;
}

void tu_blocks_of(const struct es_tree *t, struct tu_blk *out, uint32_t space)
{
	struct es_iter it;
	struct es_extent e;
	uint32_t i;

	memset(out, 0, space * sizeof(*out));
	es_iter_start(t, 0, &it);
	while (es_iter_next(&it, &e))
		for (i = 0; i < e.len && e.lblk + i < space; i++) {
			out[e.lblk + i].type = es_type(&e);
			out[e.lblk + i].pblk = mapped(es_type(&e)) ? e.pblk + i : 0;
		}
}

int tu_covers_less(const struct tu_blk *truth, const struct es_tree *t,
		   uint32_t space, char *why, size_t whylen)
{
	struct tu_blk *b = calloc(space, sizeof(*b));
	uint32_t i;
	int ret = 0;

	if (!b) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	tu_blocks_of(t, b, space);
	for (i = 0; i < space && !ret; i++) {
		if ((truth[i].type == ES_DELAYED) != (b[i].type == ES_DELAYED)) {
			snprintf(why, whylen, "block %" PRIu32 ": delayed in %s only", i,
				 b[i].type == ES_DELAYED ? "the cache" : "the truth");
			ret = -1;
		} else if (b[i].type && (b[i].type != truth[i].type ||
					 b[i].pblk != truth[i].pblk)) {
			snprintf(why, whylen, "block %" PRIu32 ": type %#x pblk %" PRIu64
				 ", the truth is type %#x pblk %" PRIu64, i, b[i].type,
				 b[i].pblk, truth[i].type, truth[i].pblk);
			ret = -1;
		}
	}
	free(b);
	return ret;
}
