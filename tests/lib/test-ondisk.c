/* test-ondisk.c --- TAP unit tests of the raw extent tree reader (lib/ondisk.c) on synthetic and real trees */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

#include "ondisk.h"
#include "../unit/tap.h"

#define MAGIC		0xF30Au
#define UNWRITTEN	32768u

static const char *pr_name(enum esck_problem_id id)
{
	const char *name = esck_problem_name(id);

	return name ? name : "?";
}

/* ---- an independent crc32c (Castagnoli, reflected, no pre/post inversion) ---- */

static uint32_t t_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return crc;
}

static uint32_t t_crc_le32(uint32_t crc, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	return t_crc32c(crc, b, 4);
}

/* ---- a fake block device ---- */

struct dev {
	unsigned int bs;
	uint64_t nblocks;
	unsigned char *data;
	uint64_t bad_read;		/* this block fails to read (0: none) */
	uint64_t meta_lo, meta_hi;	/* [meta_lo, meta_hi) is metadata */
	int csum;
	uint32_t fs_seed, ino, gen;
	uint64_t reads;
};

static errcode_t dev_read(void *arg, uint64_t blk, void *buf)
{
	struct dev *d = arg;

	d->reads++;
	if (blk >= d->nblocks || blk == d->bad_read)
		return EIO;
	memcpy(buf, d->data + blk * d->bs, d->bs);
	return 0;
}

/*
 * The walks run twice: reading each node into the walk's buffer, then
 * peeking at it in place (every third peek declining, so both ways mix).
 * The results must not change.
 */
static int peek_mode;
static unsigned int peeks_asked, peeks_ended, peeks_held, peeks_held_max;
static int peeks_bad;	/* a release of what was not given */

static int dev_peek(void *arg, uint64_t blk, const void **data)
{
	struct dev *d = arg;

	*data = NULL;
	if (++peeks_asked % 3 == 0)
		return 0;
	d->reads++;
	if (blk >= d->nblocks || blk == d->bad_read)
		return 1;
	*data = d->data + blk * d->bs;
	if (++peeks_held > peeks_held_max)
		peeks_held_max = peeks_held;
	return 0;
}

static void dev_peek_release(void *arg, const void *data)
{
	struct dev *d = arg;
	const unsigned char *p = data;

	if (!data) {
		peeks_ended++;
		peeks_held = 0;
		return;
	}
	if (!peeks_held || p < d->data || p >= d->data + d->nblocks * d->bs)
		peeks_bad = 1;
	else
		peeks_held--;
}

static int dev_meta(void *arg, uint64_t blk)
{
	struct dev *d = arg;

	return blk >= d->meta_lo && blk < d->meta_hi;
}

static void dev_init(struct dev *d, unsigned int bs, uint64_t nblocks, int csum)
{
	memset(d, 0, sizeof(*d));
	d->bs = bs;
	d->nblocks = nblocks;
	d->data = calloc(nblocks, bs);
	if (!d->data) {
		diag("out of memory");
		exit(99);
	}
	d->meta_lo = 1;
	d->meta_hi = 8;
	d->csum = csum;
	d->fs_seed = 0x12345678u;
	d->ino = 12;
	d->gen = 0xdeadbeefu;
}

static void dev_free(struct dev *d)
{
	free(d->data);
}

static void geometry(struct dev *d, struct esck_raw_geometry *g)
{
	memset(g, 0, sizeof(*g));
	g->block_size = d->bs;
	g->blocks_count = d->nblocks;
	g->first_data_block = d->bs == 1024;
	g->has_csum = d->csum;
	g->csum_seed = d->fs_seed;
	g->is_metadata = dev_meta;
	g->read_block = dev_read;
	if (peek_mode) {
		g->peek_block = dev_peek;
		g->peek_release = dev_peek_release;
	}
	g->arg = d;
}

static unsigned char *blk(struct dev *d, uint64_t b)
{
	return d->data + b * d->bs;
}

static unsigned int cap(const struct dev *d)
{
	return (d->bs - 12) / 12;
}

static void put16(unsigned char *p, unsigned int v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

static void hdr(unsigned char *p, unsigned int magic, unsigned int entries,
		unsigned int max, unsigned int depth)
{
	put16(p, magic);
	put16(p + 2, entries);
	put16(p + 4, max);
	put16(p + 6, depth);
	put32(p + 8, 0);
}

static void leaf(unsigned char *node, unsigned int i, uint32_t lblk,
		 unsigned int raw_len, uint64_t pblk)
{
	unsigned char *e = node + 12 + 12 * i;

	put32(e, lblk);
	put16(e + 4, raw_len);
	put16(e + 6, (unsigned int)(pblk >> 32));
	put32(e + 8, (uint32_t)pblk);
}

static void idx(unsigned char *node, unsigned int i, uint32_t lblk, uint64_t child)
{
	unsigned char *e = node + 12 + 12 * i;

	put32(e, lblk);
	put32(e + 4, (uint32_t)child);
	put16(e + 8, (unsigned int)(child >> 32));
	put16(e + 10, 0);
}

static uint32_t node_csum(const struct dev *d, const unsigned char *node)
{
	unsigned int max = node[4] | node[5] << 8;
	uint32_t seed = t_crc_le32(t_crc_le32(d->fs_seed, d->ino), d->gen);

	return t_crc32c(seed, node, 12 + 12 * max);
}

/* Write the checksum tail of a node block (a no-op without metadata_csum). */
static void seal(struct dev *d, uint64_t b)
{
	unsigned char *p = blk(d, b);
	unsigned int max = p[4] | p[5] << 8;

	if (d->csum)
		put32(p + 12 + 12 * max, node_csum(d, p));
}

/*
 * A full tree: every node has fan entries (the root at most 4), blocks are
 * numbered from 100 in creation order (depth first), and extent k is
 * [10k, 10k + 5) at 100000 + 10k, unwritten when k is odd.
 */
struct builder {
	struct dev *d;
	uint64_t next_blk;
	uint32_t next_ext;
	unsigned int fan;
};

static uint32_t fill(struct builder *b, unsigned char *p, unsigned int max,
		     unsigned int depth, unsigned int n)
{
	uint32_t first = 0, key;
	unsigned int i;

	hdr(p, MAGIC, n, max, depth);
	for (i = 0; i < n; i++) {
		if (depth == 0) {
			uint32_t k = b->next_ext++;

			key = 10 * k;
			leaf(p, i, key, 5 + (k & 1) * UNWRITTEN, 100000 + 10 * k);
		} else {
			uint64_t child = b->next_blk++;

			key = fill(b, blk(b->d, child), cap(b->d), depth - 1, b->fan);
			seal(b->d, child);
			idx(p, i, key, child);
		}
		if (i == 0)
			first = key;
	}
	return first;
}

static void build(struct dev *d, unsigned char root[60], unsigned int depth,
		  unsigned int fan, struct builder *b)
{
	b->d = d;
	b->next_blk = 100;
	b->next_ext = 0;
	b->fan = fan;
	memset(root, 0, 60);
	fill(b, root, 4, depth, fan < 4 ? fan : 4);
}

/* ---- collecting problems ---- */

#define MAX_PROBS 64

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

static errcode_t read_tree(struct dev *d, const unsigned char *root,
			   struct esck_raw_tree *t, struct probs *pr)
{
	struct esck_raw_geometry g;

	geometry(d, &g);
	memset(pr, 0, sizeof(*pr));
	return esck_raw_read_tree(&g, d->ino, d->gen, root, t, collect, pr);
}

/* Always 0, for "ok(...) || dump(...)". */
static int dump(const struct probs *pr)
{
	int i;

	for (i = 0; i < pr->n && i < MAX_PROBS; i++)
		diag("problem %d: %s node %lld lblk %lld len %lld pblk %lld exp %lld found %lld",
		     i, pr_name(pr->p[i].id), (long long)pr->p[i].node,
		     (long long)pr->p[i].lblk, (long long)pr->p[i].len,
		     (long long)pr->p[i].pblk, (long long)pr->p[i].expected,
		     (long long)pr->p[i].found);
	return 0;
}

/* The first problem with id, or NULL. */
static const struct esck_problem *find(const struct probs *pr, enum esck_problem_id id)
{
	int i;

	for (i = 0; i < pr->n && i < MAX_PROBS; i++)
		if (pr->p[i].id == id)
			return &pr->p[i];
	return NULL;
}

/* Exactly one problem, with this id, node and lblk (ESCK_NONE matches anything for lblk). */
static int only(const char *what, const struct probs *pr, enum esck_problem_id id,
		uint64_t node, uint64_t lblk)
{
	int good = pr->n == 1 && pr->p[0].id == id && pr->p[0].node == node &&
		   (lblk == ESCK_NONE || pr->p[0].lblk == lblk) &&
		   pr->p[0].ino == 12;

	if (!ok(good, "%s: exactly %s at node %llu lblk %lld", what,
		pr_name(id), (unsigned long long)node, (long long)lblk))
		dump(pr);
	return good;
}

/* The extents are those of the builder, k in [from, to) without skip_from..skip_to. */
static int extents_are(const struct esck_raw_tree *t, uint32_t from, uint32_t to,
		       uint32_t skip_from, uint32_t skip_to)
{
	size_t i = 0;
	uint32_t k;

	for (k = from; k < to; k++) {
		const struct esck_raw_extent *e;

		if (k >= skip_from && k < skip_to)
			continue;
		if (i >= t->nr)
			return diag("only %zu extents", t->nr);
		e = &t->ext[i++];
		if (e->lblk != 10 * k || e->len != 5 || e->pblk != 100000 + 10 * k ||
		    e->unwritten != (int)(k & 1))
			return diag("extent %zu is %u+%u@%llu u%d, want k=%u", i - 1,
				    e->lblk, e->len, (unsigned long long)e->pblk,
				    e->unwritten, k);
	}
	if (i != t->nr)
		return diag("%zu extents, want %zu", t->nr, i);
	return 1;
}

/*
 * The depth-2, fan-2 tree used below:
 *   root: 0 -> 100, 40 -> 103
 *   100: 0 -> 101 (k0, k1: 0, 10), 20 -> 102 (k2, k3: 20, 30)
 *   103: 40 -> 104 (k4, k5: 40, 50), 60 -> 105 (k6, k7: 60, 70)
 * and the depth-3 one: root 0 -> 100, 80 -> 107; 100: 0 -> 101, 40 -> 104;
 * 101: 0 -> 102 (k0, k1), 20 -> 103 (k2, k3); 104: 40 -> 105, 60 -> 106.
 */

/* ---- clean trees ---- */

static void test_clean(unsigned int depth, unsigned int fan, unsigned int bs, int csum)
{
	struct dev d;
	struct builder b;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;
	errcode_t rc;
	size_t i, nodes_ok = 1;

	dev_init(&d, bs, 100 + 2000, csum);
	build(&d, root, depth, fan, &b);
	rc = read_tree(&d, root, &t, &pr);
	if (!ok(rc == 0 && pr.n == 0, "clean depth %u fan %u bs %u csum %d: no problems",
	    depth, fan, bs, csum))
		dump(&pr);
	ok(extents_are(&t, 0, b.next_ext, 0, 0), "clean depth %u: %u extents exact",
	   depth, b.next_ext);
	for (i = 0; i < t.nr_nodes; i++)
		nodes_ok &= t.nodes[i] == 100 + i;
	ok(t.depth == depth && !t.damaged && t.nr_nodes == b.next_blk - 100 && nodes_ok,
	   "clean depth %u: depth, not damaged, %zu node blocks in visit order",
	   depth, t.nr_nodes);
	esck_raw_tree_free(&t);
	dev_free(&d);
}

/* Ext4's encoding limits: 32768 is a written length, 32769 unwritten 1. */
static void test_lengths(void)
{
	struct dev d;
	unsigned char root[60] = { 0 };
	struct esck_raw_tree t;
	struct probs pr;

	dev_init(&d, 4096, 16, 0);
	hdr(root, MAGIC, 3, 4, 0);
	leaf(root, 0, 0, 32768, 1000);
	leaf(root, 1, 40000, 32769, UINT64_C(0xffff00000000));
	leaf(root, 2, 0xfffffffeu - 9, 10, 5000);	/* ends at ES_LBLK_MAX */
	read_tree(&d, root, &t, &pr);
	if (!ok(pr.n == 0 && t.nr == 3 &&
	    t.ext[0].len == 32768 && !t.ext[0].unwritten &&
	    t.ext[1].len == 1 && t.ext[1].unwritten &&
	    t.ext[1].pblk == UINT64_C(0xffff00000000) &&
	    t.ext[2].lblk == 0xfffffffeu - 9 && t.ext[2].len == 10,
	    "length encoding: 32768 written, 32769 unwritten 1, 48-bit pblk, last block"))
		dump(&pr);
	esck_raw_tree_free(&t);
	dev_free(&d);
}

/* ---- one failing case per problem ---- */

/* The standard corrupt-me tree: depth 1, root keys 0/30/60 -> leaves 100/101/102. */
static void std_tree(struct dev *d, unsigned char root[60], int csum)
{
	struct builder b;

	dev_init(d, 1024, 400, csum);
	build(d, root, 1, 3, &b);
}

static void test_root_header(void)
{
	static const struct {
		const char *what;
		unsigned int magic, entries, max;
		uint64_t expected, found;
	} c[] = {
		{ "root magic", 0xF30B, 3, 4, 0xF30A, 0xF30B },
		{ "root max 0", MAGIC, 0, 0, 4, 0 },
		{ "root max 5", MAGIC, 3, 5, 4, 5 },
		{ "root entries > max", MAGIC, 4, 3, 3, 4 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct dev d;
		unsigned char root[60];
		struct esck_raw_tree t;
		struct probs pr;

		std_tree(&d, root, 0);
		hdr(root, c[i].magic, c[i].entries, c[i].max, 1);
		read_tree(&d, root, &t, &pr);
		if (only(c[i].what, &pr, ESCK_PR_TREE_ROOT_HEADER, 0, ESCK_NONE)) {
			if (!ok(pr.p[0].expected == c[i].expected && pr.p[0].found == c[i].found &&
			    t.nr == 0 && t.damaged && d.reads == 0,
			    "%s: expected/found, nothing read, damaged", c[i].what))
				dump(&pr);
		} else {
			ok(0, "%s: details", c[i].what);
		}
		esck_raw_tree_free(&t);
		dev_free(&d);
	}
}

static void test_too_deep(void)
{
	struct dev d;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;

	std_tree(&d, root, 0);
	hdr(root, MAGIC, 3, 4, 6);
	read_tree(&d, root, &t, &pr);
	only("root depth 6", &pr, ESCK_PR_TREE_TOO_DEEP, 0, ESCK_NONE);
	ok(pr.n && pr.p[0].found == 6 && pr.p[0].expected == 5 && d.reads == 0 &&
	   t.depth == 6 && t.damaged, "root depth 6: nothing read");
	esck_raw_tree_free(&t);
	dev_free(&d);
}

static void test_empty_index(void)
{
	struct dev d;
	struct builder b;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;

	std_tree(&d, root, 0);
	hdr(root, MAGIC, 0, 4, 1);
	read_tree(&d, root, &t, &pr);
	only("root index with 0 entries", &pr, ESCK_PR_TREE_EMPTY_INDEX, 0, ESCK_NONE);
	esck_raw_tree_free(&t);
	dev_free(&d);

	dev_init(&d, 1024, 400, 0);
	build(&d, root, 2, 2, &b);
	put16(blk(&d, 103) + 2, 0);
	read_tree(&d, root, &t, &pr);
	only("interior node with 0 entries", &pr, ESCK_PR_TREE_EMPTY_INDEX, 103, 40);
	ok(extents_are(&t, 0, 4, 4, 8), "empty interior node: the rest is read");
	esck_raw_tree_free(&t);
	dev_free(&d);

	/* An empty leaf is legal (the kernel's check is for depth > 0 only). */
	dev_init(&d, 1024, 400, 0);
	build(&d, root, 1, 3, &b);
	put16(blk(&d, 101) + 2, 0);
	read_tree(&d, root, &t, &pr);
	if (!ok(pr.n == 0 && extents_are(&t, 0, 9, 3, 6), "empty leaf: no problem"))
		dump(&pr);
	esck_raw_tree_free(&t);
	dev_free(&d);
}

/* Corrupt the middle leaf (block 101, key 30) of the standard tree with fn. */
static void middle_leaf_case(const char *what, void (*fn)(unsigned char *node, struct dev *d),
			     enum esck_problem_id id, uint64_t expected, uint64_t found)
{
	struct dev d;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;

	std_tree(&d, root, 0);
	fn(blk(&d, 101), &d);
	read_tree(&d, root, &t, &pr);
	only(what, &pr, id, 101, 30);
	if (!ok(pr.n == 1 && pr.p[0].expected == expected && pr.p[0].found == found &&
	    pr.p[0].pblk == 101, "%s: expected %llu found %llu, pblk 101", what,
	    (unsigned long long)expected, (unsigned long long)found))
		dump(&pr);
	ok(extents_are(&t, 0, 9, 3, 6) && t.damaged, "%s: subtree skipped, damaged", what);
	esck_raw_tree_free(&t);
	dev_free(&d);
}

static void c_magic(unsigned char *n, struct dev *d) { (void)d; put16(n, 0x1234); }
static void c_entries(unsigned char *n, struct dev *d) { put16(n + 2, cap(d) + 1); put16(n + 4, cap(d)); }
static void c_max0(unsigned char *n, struct dev *d) { (void)d; put16(n + 4, 0); }
static void c_maxbig(unsigned char *n, struct dev *d) { put16(n + 4, cap(d) + 1); }
static void c_depth(unsigned char *n, struct dev *d) { (void)d; put16(n + 6, 1); }

static void test_node_headers(void)
{
	struct dev d;

	dev_init(&d, 1024, 1, 0);
	middle_leaf_case("bad node magic", c_magic, ESCK_PR_TREE_NODE_MAGIC, 0xF30A, 0x1234);
	middle_leaf_case("entries > max", c_entries, ESCK_PR_TREE_NODE_ENTRIES, cap(&d), cap(&d) + 1);
	middle_leaf_case("max 0", c_max0, ESCK_PR_TREE_NODE_MAX, cap(&d), 0);
	middle_leaf_case("max > capacity", c_maxbig, ESCK_PR_TREE_NODE_MAX, cap(&d), cap(&d) + 1);
	middle_leaf_case("child depth", c_depth, ESCK_PR_TREE_DEPTH, 0, 1);
	dev_free(&d);
}

static void test_read_error(void)
{
	struct dev d;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;

	std_tree(&d, root, 0);
	d.bad_read = 101;
	read_tree(&d, root, &t, &pr);
	only("read error", &pr, ESCK_PR_TREE_READ, 101, 30);
	ok(extents_are(&t, 0, 9, 3, 6) && t.damaged && t.nr_nodes == 3,
	   "read error: the rest is read, the block still counted as a node");
	esck_raw_tree_free(&t);
	dev_free(&d);
}

static void test_unsorted(void)
{
	struct dev d;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;

	/* Leaf 101 holds 30, 50, 40: 40 is unsorted but kept. */
	std_tree(&d, root, 0);
	leaf(blk(&d, 101), 1, 50, 5 + UNWRITTEN, 100050);
	leaf(blk(&d, 101), 2, 40, 5, 100040);
	read_tree(&d, root, &t, &pr);
	only("unsorted leaf", &pr, ESCK_PR_TREE_UNSORTED, 101, 40);
	if (!ok(pr.n == 1 && pr.p[0].expected == 50 && pr.p[0].found == 40 && pr.p[0].len == 5 &&
	    pr.p[0].pblk == 100040 && t.nr == 9 && t.ext[4].lblk == 50 && t.ext[5].lblk == 40,
	    "unsorted leaf: fields, extent kept in tree order"))
		dump(&pr);
	esck_raw_tree_free(&t);
	dev_free(&d);

	/* Root keys 0, 60, 30: the entry for 30 (leaf 101) is skipped. */
	std_tree(&d, root, 0);
	idx(root, 1, 60, 102);
	idx(root, 2, 30, 101);
	read_tree(&d, root, &t, &pr);
	only("unsorted index", &pr, ESCK_PR_TREE_UNSORTED, 0, 30);
	ok(pr.n == 1 && pr.p[0].pblk == 101 && extents_are(&t, 0, 9, 3, 6) && t.damaged,
	   "unsorted index: its subtree skipped");
	esck_raw_tree_free(&t);
	dev_free(&d);

	/* Equal keys are not strictly increasing either. */
	std_tree(&d, root, 0);
	leaf(blk(&d, 100), 2, 10, 1, 100020);
	read_tree(&d, root, &t, &pr);
	only("duplicate leaf key", &pr, ESCK_PR_TREE_UNSORTED, 100, 10);
	esck_raw_tree_free(&t);
	dev_free(&d);
}

static void test_overlap(void)
{
	struct dev d;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;
	const struct esck_problem *p;

	/* Within a leaf: 10+15 reaches into 20. */
	std_tree(&d, root, 0);
	leaf(blk(&d, 100), 1, 10, 15 + UNWRITTEN, 100010);
	read_tree(&d, root, &t, &pr);
	only("overlap within a leaf", &pr, ESCK_PR_TREE_OVERLAP, 100, 20);
	if (!ok(pr.n == 1 && pr.p[0].expected == 25 && pr.p[0].found == 20 && t.nr == 9 && !t.damaged,
	    "overlap within a leaf: fields, kept, not damaged"))
		dump(&pr);
	esck_raw_tree_free(&t);
	dev_free(&d);

	/* Across leaves: leaf 101 starts at 22, before leaf 100's end 25. */
	std_tree(&d, root, 0);
	leaf(blk(&d, 101), 0, 22, 5, 100030);
	read_tree(&d, root, &t, &pr);
	p = find(&pr, ESCK_PR_TREE_OVERLAP);
	if (!ok(pr.n == 2 && p && p->node == 101 && p->lblk == 22 && find(&pr, ESCK_PR_TREE_INDEX_KEY),
	    "overlap across leaves (and the index key it breaks)"))
		dump(&pr);
	esck_raw_tree_free(&t);
	dev_free(&d);
}

static void test_index_key(void)
{
	struct dev d;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;

	std_tree(&d, root, 0);
	idx(root, 1, 28, 101);
	read_tree(&d, root, &t, &pr);
	only("index key differs from child", &pr, ESCK_PR_TREE_INDEX_KEY, 101, 28);
	ok(pr.n == 1 && pr.p[0].expected == 28 && pr.p[0].found == 30 &&
	   extents_are(&t, 0, 9, 0, 0) && !t.damaged, "index key: fields, child still read");
	esck_raw_tree_free(&t);
	dev_free(&d);
}

static void test_out_of_range(void)
{
	struct dev d;
	struct builder b;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;
	const struct esck_problem *p;

	/* Index 100's second key 45 reaches the root's next key 40: skipped. */
	dev_init(&d, 1024, 400, 0);
	build(&d, root, 2, 2, &b);
	idx(blk(&d, 100), 1, 45, 102);
	read_tree(&d, root, &t, &pr);
	only("index key past the ancestor's next key", &pr, ESCK_PR_TREE_OUT_OF_RANGE, 100, 45);
	if (!ok(pr.n == 1 && pr.p[0].expected == 40 && pr.p[0].found == 45 && pr.p[0].pblk == 102 &&
	    t.damaged && extents_are(&t, 0, 8, 2, 4), "out-of-range index: fields, skipped"))
		dump(&pr);
	esck_raw_tree_free(&t);
	dev_free(&d);

	/*
	 * Leaf 102 (k3 at 30) reaching 41, past the root's next key 40 (its
	 * grandparent's); an unwritten extent far past the end of the last
	 * leaf is fine: its bound is the end of the logical space, not i_size.
	 */
	dev_init(&d, 1024, 400, 0);
	build(&d, root, 2, 2, &b);
	leaf(blk(&d, 105), 1, 70, 30000 + UNWRITTEN, 100070);
	leaf(blk(&d, 102), 1, 30, 11, 100030);
	read_tree(&d, root, &t, &pr);
	p = find(&pr, ESCK_PR_TREE_OUT_OF_RANGE);
	if (!ok(p && p->node == 102 && p->lblk == 30 && p->len == 11 && p->expected == 40 &&
	    p->found == 41 && pr.n == 2 && find(&pr, ESCK_PR_TREE_OVERLAP) && t.nr == 8,
	    "extent past its range: reported, kept; unwritten past the end of the last leaf is fine"))
		dump(&pr);
	esck_raw_tree_free(&t);
	dev_free(&d);
}

static void test_zero_and_wrap(void)
{
	struct dev d;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;

	std_tree(&d, root, 0);
	leaf(blk(&d, 101), 1, 40, 0, 100040);
	read_tree(&d, root, &t, &pr);
	only("zero length", &pr, ESCK_PR_TREE_ZERO_LENGTH, 101, 40);
	ok(extents_are(&t, 0, 9, 4, 5) && t.damaged, "zero length: left out");
	esck_raw_tree_free(&t);
	dev_free(&d);

	std_tree(&d, root, 0);
	leaf(blk(&d, 102), 2, 0xffffffffu - 9, 10 + UNWRITTEN, 100080);
	read_tree(&d, root, &t, &pr);
	only("extent covering block 2^32-1", &pr, ESCK_PR_TREE_WRAP, 102, 0xffffffffu - 9);
	ok(extents_are(&t, 0, 8, 0, 0) && t.damaged, "wrap: left out");
	esck_raw_tree_free(&t);
	dev_free(&d);

	std_tree(&d, root, 0);
	leaf(blk(&d, 102), 2, 0xfffffff0u, 32768, 100080);
	read_tree(&d, root, &t, &pr);
	only("extent wrapping past 2^32", &pr, ESCK_PR_TREE_WRAP, 102, 0xfffffff0u);
	esck_raw_tree_free(&t);
	dev_free(&d);
}

static void test_node_block(void)
{
	static const struct {
		const char *what;
		uint64_t child;
	} c[] = {
		{ "child block 0", 0 },
		{ "child on metadata", 5 },
		{ "child past the end", 400 },
		{ "child far past the end", UINT64_C(0xffffffffffff) },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct dev d;
		unsigned char root[60];
		struct esck_raw_tree t;
		struct probs pr;

		std_tree(&d, root, 0);
		idx(root, 1, 30, c[i].child);
		read_tree(&d, root, &t, &pr);
		only(c[i].what, &pr, ESCK_PR_TREE_NODE_BLOCK, 0, 30);
		ok(pr.n == 1 && pr.p[0].pblk == c[i].child && extents_are(&t, 0, 9, 3, 6) &&
		   t.damaged && t.nr_nodes == 2, "%s: pblk, skipped, not a node", c[i].what);
		esck_raw_tree_free(&t);
		dev_free(&d);
	}
}

static void test_loops(void)
{
	struct dev d;
	struct builder b;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;

	/* Two root indexes share leaf 101. */
	std_tree(&d, root, 0);
	idx(root, 2, 60, 101);
	read_tree(&d, root, &t, &pr);
	only("two indexes share a child", &pr, ESCK_PR_TREE_LOOP, 101, 60);
	ok(pr.n == 1 && pr.p[0].pblk == 101 && extents_are(&t, 0, 6, 0, 0) && t.damaged &&
	   t.nr_nodes == 2, "shared child: read once");
	esck_raw_tree_free(&t);
	dev_free(&d);

	/* Depth 2: interior 100's second entry points back at 100 itself. */
	dev_init(&d, 1024, 400, 0);
	build(&d, root, 2, 2, &b);
	idx(blk(&d, 100), 1, 20, 100);
	read_tree(&d, root, &t, &pr);
	only("child points at its parent", &pr, ESCK_PR_TREE_LOOP, 100, 20);
	ok(extents_are(&t, 0, 8, 2, 4) && t.damaged, "self loop: terminates, the rest is read");
	esck_raw_tree_free(&t);
	dev_free(&d);

	/* Depth 3: node 101 (depth 1) points at its parent 100 (depth 2). */
	dev_init(&d, 1024, 400, 0);
	build(&d, root, 3, 2, &b);
	idx(blk(&d, 101), 1, 20, 100);
	read_tree(&d, root, &t, &pr);
	only("grandchild points at its grandparent", &pr, ESCK_PR_TREE_LOOP, 100, 20);
	ok(extents_are(&t, 0, 16, 2, 4) && t.damaged, "loop to an ancestor: terminates");
	esck_raw_tree_free(&t);
	dev_free(&d);
}

static void test_csum(void)
{
	struct dev d;
	unsigned char root[60];
	struct esck_raw_tree t;
	struct probs pr;
	uint32_t want, stored;

	std_tree(&d, root, 1);
	read_tree(&d, root, &t, &pr);
	if (!ok(pr.n == 0 && extents_are(&t, 0, 9, 0, 0),
	    "checksums computed independently in the test are accepted"))
		dump(&pr);
	esck_raw_tree_free(&t);

	/* Store a wrong checksum; the node itself is fine. */
	want = node_csum(&d, blk(&d, 101));
	stored = want ^ 1;
	put32(blk(&d, 101) + 12 + 12 * cap(&d), stored);
	read_tree(&d, root, &t, &pr);
	only("bad checksum", &pr, ESCK_PR_TREE_NODE_CSUM, 101, 30);
	ok(pr.n == 1 && pr.p[0].expected == want && pr.p[0].found == stored && t.nr == 9 &&
	   !t.damaged, "bad checksum: expected/found, data still read");
	esck_raw_tree_free(&t);

	/* Another inode's generation changes every node's checksum. */
	seal(&d, 101);
	d.gen++;
	read_tree(&d, root, &t, &pr);
	ok(pr.n == 3 && pr.p[0].id == ESCK_PR_TREE_NODE_CSUM, "the seed covers the generation");
	esck_raw_tree_free(&t);
	dev_free(&d);
}

static void test_big_block(void)
{
	struct dev d;
	unsigned char root[60] = { 0 };
	struct esck_raw_tree t;
	struct probs pr;
	unsigned int i, n;

	/* 64 KiB blocks: a full leaf of 5460 entries, checksummed. */
	dev_init(&d, 65536, 64, 1);
	n = cap(&d);
	hdr(root, MAGIC, 1, 4, 1);
	idx(root, 0, 0, 10);
	hdr(blk(&d, 10), MAGIC, n, n, 0);
	for (i = 0; i < n; i++)
		leaf(blk(&d, 10), i, 3 * i, 2, 1000 + 2 * i);
	seal(&d, 10);
	read_tree(&d, root, &t, &pr);
	if (!ok(n == 5460 && pr.n == 0 && t.nr == n && t.ext[n - 1].lblk == 3 * (n - 1) &&
	    t.ext[n - 1].pblk == 1000 + 2 * (n - 1), "64 KiB node: %u extents", n))
		dump(&pr);
	esck_raw_tree_free(&t);

	put16(blk(&d, 10) + 4, n + 1);
	read_tree(&d, root, &t, &pr);
	only("64 KiB node, max past capacity", &pr, ESCK_PR_TREE_NODE_MAX, 10, 0);
	esck_raw_tree_free(&t);
	dev_free(&d);
}

static void test_bad_args(void)
{
	struct dev d;
	struct esck_raw_geometry g;
	unsigned char root[60] = { 0 };
	struct esck_raw_tree t;

	dev_init(&d, 1024, 4, 0);
	geometry(&d, &g);
	g.block_size = 512;
	ok(esck_raw_read_tree(&g, 12, 0, root, &t, NULL, NULL) == EINVAL && t.nr == 0,
	   "block size 512 is EINVAL");
	hdr(root, MAGIC, 0, 4, 0);
	geometry(&d, &g);
	ok(esck_raw_read_tree(&g, 12, 0, root, &t, NULL, NULL) == 0 && t.nr == 0 && !t.damaged,
	   "an empty depth-0 tree, no reporter");
	esck_raw_tree_free(&t);
	esck_raw_tree_free(&t);
	dev_free(&d);
}

/* ---- random trees: the walk ends, reads each block once, emits only valid extents ---- */

static uint64_t rnd_state = 0x9E3779B97F4A7C15u;

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return n ? (uint32_t)(rnd_state % n) : 0;
}

/* A node that is plausible most of the time, so that the walk goes deep. */
static void random_node(struct dev *d, unsigned char *p, unsigned int cap_, unsigned int depth)
{
	unsigned int n = rnd(7), max = rnd(10) ? cap_ : rnd(cap_ + 3), i;
	uint32_t key = rnd(4) ? 0 : rnd(1000);

	if (n > cap_)
		n = cap_;
	hdr(p, rnd(20) ? MAGIC : rnd(0x10000), rnd(15) ? n : rnd(cap_ + 3), max, depth);
	for (i = 0; i < n; i++) {
		if (depth > 0)
			idx(p, i, key, rnd(8) ? 8 + rnd((uint32_t)d->nblocks - 6) : rnd(10));
		else if (rnd(30))
			leaf(p, i, key, rnd(3) ? 1 + rnd(8) : rnd(65536), 1000 + rnd(100000));
		else
			leaf(p, i, 0xffffffffu - rnd(100), rnd(65536), rnd(1000));
		key += rnd(6) ? 1 + rnd(20) : 0u - rnd(30);
	}
}

static void test_random(void)
{
	unsigned int iter, bad = 0, problems = 0, reads_max = 0;

	for (iter = 0; iter < 3000 && !bad; iter++) {
		struct dev d;
		unsigned char root[60];
		struct esck_raw_tree t;
		struct probs pr;
		unsigned int depth = rnd(5), b, i, j;
		errcode_t rc;

		dev_init(&d, 1024, 40, (int)rnd(2));
		for (b = 8; b < d.nblocks; b++) {
			unsigned char *p = blk(&d, b);

			random_node(&d, p, cap(&d), rnd(5) ? rnd(depth + 1) : rnd(7));
			if (rnd(4) && (unsigned int)(p[4] | p[5] << 8) <= cap(&d))
				seal(&d, b);
		}
		random_node(&d, root, 4, rnd(20) ? depth : rnd(8));
		d.bad_read = rnd(4) ? 0 : 8 + rnd(32);
		rc = read_tree(&d, root, &t, &pr);
		if (rc)
			bad |= !diag("iteration %u: rc %ld", iter, (long)rc);
		for (i = 0; i < t.nr; i++)
			if (t.ext[i].len == 0 || (uint64_t)t.ext[i].lblk + t.ext[i].len > 0xffffffffu)
				bad |= !diag("iteration %u: invalid extent %u+%u", iter,
					     t.ext[i].lblk, t.ext[i].len);
		/* Every read is of a distinct node block, and every node is read once. */
		if (d.reads != t.nr_nodes || t.nr_nodes > d.nblocks)
			bad |= !diag("iteration %u: %llu reads, %zu nodes", iter,
				     (unsigned long long)d.reads, t.nr_nodes);
		for (i = 0; i < t.nr_nodes; i++)
			for (j = 0; j < i; j++)
				if (t.nodes[i] == t.nodes[j])
					bad |= !diag("iteration %u: node %llu twice", iter,
						     (unsigned long long)t.nodes[i]);
		for (i = 0; i < (unsigned int)pr.n && i < MAX_PROBS; i++)
			if ((unsigned int)pr.p[i].id >= ESCK_PR_COUNT || pr.p[i].ino != 12)
				bad |= !diag("iteration %u: bad problem", iter);
		problems += pr.n;
		if (d.reads > reads_max)
			reads_max = (unsigned int)d.reads;
		esck_raw_tree_free(&t);
		dev_free(&d);
	}
	diag("random trees: %u problems, up to %u node reads per tree", problems, reads_max);
	ok(!bad && problems > 0 && reads_max > 3,
	   "3000 random trees: terminate, read each node once, emit only valid extents");
}

/* ---- a real metadata_csum image made by mke2fs and debugfs ---- */

struct real {
	ext2_filsys fs;
};

static errcode_t real_read(void *arg, uint64_t blk, void *buf)
{
	struct real *r = arg;

	return io_channel_read_blk64(r->fs->io, blk, 1, buf);
}

static int real_meta(void *arg, uint64_t blk)
{
	struct real *r = arg;
	dgrp_t i;

	for (i = 0; i < r->fs->group_desc_count; i++) {
		blk64_t it = ext2fs_inode_table_loc(r->fs, i);

		if (blk == ext2fs_block_bitmap_loc(r->fs, i) ||
		    blk == ext2fs_inode_bitmap_loc(r->fs, i) ||
		    (blk >= it && blk < it + r->fs->inode_blocks_per_group))
			return 1;
	}
	return blk < r->fs->super->s_first_data_block + 1;
}

static int run(const char *cmd)
{
	int rc = system(cmd);

	return rc == 0;
}

static void test_real_image(unsigned int bs, unsigned int nr_data, unsigned int min_depth)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], src[300], img[300], cmd[1024];
	struct real r;
	struct esck_raw_geometry g;
	struct ext2_inode inode;
	ext2_ino_t ino;
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	struct esck_raw_tree t;
	struct probs pr;
	unsigned char *buf;
	unsigned int i;
	size_t k = 0;
	int fd, same = 1;
	errcode_t rc;

	snprintf(dir, sizeof(dir), "%s/esck-test-ondisk.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(src, sizeof(src), "%s/src", dir);
	snprintf(img, sizeof(img), "%s/img", dir);
	/* Every other block written: debugfs keeps the holes, one extent each. */
	buf = malloc(bs);
	fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	memset(buf, 0x5a, bs);
	for (i = 0; fd >= 0 && i < nr_data; i++)
		if (pwrite(fd, buf, bs, (off_t)2 * i * bs) != (ssize_t)bs)
			break;
	if (fd >= 0)
		close(fd);
	free(buf);
	snprintf(cmd, sizeof(cmd),
		 "mke2fs -F -q -t ext4 -O metadata_csum,extent,64bit -b %u %s 16M >/dev/null 2>&1 && "
		 "debugfs -w -R 'write %s f' %s >/dev/null 2>&1", bs, img, src, img);
	if (!run(cmd)) {
		printf("ok %d # SKIP mke2fs/debugfs not usable\n", ++tap_state()->run);
		goto out;
	}
	memset(&r, 0, sizeof(r));
	rc = ext2fs_open(img, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &r.fs);
	if (rc || ext2fs_namei(r.fs, EXT2_ROOT_INO, EXT2_ROOT_INO, "f", &ino) ||
	    ext2fs_read_inode(r.fs, ino, &inode)) {
		ok(0, "open the %u-byte-block image", bs);
		goto out;
	}
	memset(&g, 0, sizeof(g));
	g.block_size = r.fs->blocksize;
	g.blocks_count = ext2fs_blocks_count(r.fs->super);
	g.first_data_block = r.fs->super->s_first_data_block;
	g.has_csum = ext2fs_has_feature_metadata_csum(r.fs->super);
	g.csum_seed = r.fs->csum_seed;
	g.is_metadata = real_meta;
	g.read_block = real_read;
	g.arg = &r;
	memset(&pr, 0, sizeof(pr));
	rc = esck_raw_read_tree(&g, ino, inode.i_generation, inode.i_block, &t, collect, &pr);
	if (!ok(rc == 0 && g.has_csum && pr.n == 0 && t.depth >= min_depth && !t.damaged,
	    "real %u-byte-block metadata_csum image: depth %u, %zu nodes, no problems",
	    bs, t.depth, t.nr_nodes))
		dump(&pr);

	/* The same leaves, in the same order, as libext2fs's own walk. */
	if (ext2fs_extent_open2(r.fs, ino, &inode, &h) == 0) {
		rc = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &e);
		while (rc == 0) {
			if ((e.e_flags & EXT2_EXTENT_FLAGS_LEAF) &&
			    !(e.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT)) {
				if (k >= t.nr || t.ext[k].lblk != e.e_lblk ||
				    t.ext[k].len != e.e_len || t.ext[k].pblk != e.e_pblk ||
				    t.ext[k].unwritten != !!(e.e_flags & EXT2_EXTENT_FLAGS_UNINIT))
					same = 0;
				k++;
			}
			rc = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &e);
		}
		ext2fs_extent_free(h);
	} else {
		same = 0;
	}
	ok(same && k == t.nr && k == nr_data, "real image: %zu extents, as libext2fs reads them", k);

	/*
	 * Flip a bit of the last node's eh_generation, which nothing but the
	 * checksum covers: exactly one problem.
	 */
	if (t.nr_nodes) {
		uint64_t bad = t.nodes[t.nr_nodes - 1];
		off_t off = (off_t)bad * r.fs->blocksize + 8;
		struct esck_raw_tree t2;
		unsigned char byte = 0;

		ext2fs_close_free(&r.fs);
		fd = open(img, O_RDWR);
		if (fd < 0 || pread(fd, &byte, 1, off) != 1)
			diag("cannot read back %s", img);
		byte ^= 1;
		if (fd < 0 || pwrite(fd, &byte, 1, off) != 1)
			diag("cannot write %s", img);
		if (fd >= 0)
			close(fd);
		if (ext2fs_open(img, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &r.fs) == 0) {
			memset(&pr, 0, sizeof(pr));
			esck_raw_read_tree(&g, ino, inode.i_generation, inode.i_block, &t2,
					   collect, &pr);
			only("real image, one node modified", &pr, ESCK_PR_TREE_NODE_CSUM, bad,
			     ESCK_NONE);
			esck_raw_tree_free(&t2);
		} else {
			ok(0, "reopen the modified image");
		}
	}
	esck_raw_tree_free(&t);
	if (r.fs)
		ext2fs_close_free(&r.fs);
out:
	unlink(src);
	unlink(img);
	rmdir(dir);
}

/*
 * A range walk reads only the nodes whose subtrees reach into [lo, hi] and
 * yields every extent of the leaves it reads: those are all the extents the
 * full walk yields that touch the range, and a small range costs one node
 * per level.
 */
/* diag() and 1, for "bad = range_fail(...)". */
static int range_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int range_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(fmt, ap);
	va_end(ap);
	return 1;
}

static void test_range(void)
{
	static const struct { uint32_t lo, hi; } ranges[] = {
		{ 0, 0 }, { 3, 3 }, { 5, 9 }, { 1234, 1240 }, { 995, 1005 },
		{ 0, UINT32_MAX }, { 3000, 3500 }, { 4000000, UINT32_MAX },
	};
	struct esck_raw_geometry g;
	struct esck_raw_tree full, part;
	struct builder b;
	struct probs pr;
	struct dev d;
	unsigned char root[60];
	size_t i, j, k, r;
	int bad = 0;

	dev_init(&d, 1024, 100 + 2000, 1);
	build(&d, root, 3, 5, &b);	/* 500 extents [10k, 10k + 5) */
	geometry(&d, &g);
	memset(&pr, 0, sizeof(pr));
	if (esck_raw_read_tree(&g, d.ino, d.gen, root, &full, collect, &pr) || pr.n)
		bad = range_fail("the full walk failed");
	for (r = 0; r < sizeof(ranges) / sizeof(ranges[0]) && !bad; r++) {
		uint32_t lo = ranges[r].lo, hi = ranges[r].hi;
		size_t want = 0;

		d.reads = 0;
		if (esck_raw_walk_range(&g, d.ino, d.gen, root, lo, hi, NULL, &part,
					collect, &pr) || pr.n) {
			bad = range_fail("range %u-%u: walk failed", lo, hi);
			break;
		}
		/* every extent touching the range is there, in order */
		for (i = 0, j = 0; i < full.nr; i++) {
			const struct esck_raw_extent *e = &full.ext[i];

			if (e->lblk > hi || e->lblk + e->len - 1 < lo)
				continue;
			want++;
			while (j < part.nr && part.ext[j].lblk != e->lblk)
				j++;
			if (j == part.nr) {
				bad = range_fail("range %u-%u: extent at %u missing", lo, hi, e->lblk);
				break;
			}
		}
		for (k = 1; k < part.nr; k++)
			if (part.ext[k].lblk <= part.ext[k - 1].lblk)
				bad = range_fail("range %u-%u: extents out of order", lo, hi);
		/* each leaf's keys span 50 blocks: inside one, one node per level */
		if (hi - lo < 20 && lo / 50 == hi / 50 && d.reads != 3)
			bad = range_fail("range %u-%u: %llu node reads, want one per level",
				   lo, hi, (unsigned long long)d.reads);
		if (lo == 0 && hi == UINT32_MAX && part.nr != full.nr)
			bad = range_fail("the whole range: %zu extents, want %zu", part.nr, full.nr);
		/* the last child's range runs to the end of the logical space */
		if (lo >= 4000000 && (want || d.reads != 3))
			bad = range_fail("past the last key: %zu touching, %llu reads", want,
				   (unsigned long long)d.reads);
		esck_raw_tree_free(&part);
	}
	ok(!bad, "range walks: the extents touching each of 8 ranges, one node per level");
	esck_raw_tree_free(&full);
	dev_free(&d);
}

static void run_all(void)
{
	unsigned int depth;

	for (depth = 0; depth <= 3; depth++)
		test_clean(depth, 3, 1024, 0);
	test_clean(2, 4, 4096, 1);
	test_clean(3, 5, 1024, 1);
	test_clean(2, 340, 4096, 1);	/* full 4 KiB nodes: 462400 extents */
	test_lengths();
	test_root_header();
	test_too_deep();
	test_empty_index();
	test_node_headers();
	test_read_error();
	test_unsorted();
	test_overlap();
	test_index_key();
	test_out_of_range();
	test_zero_and_wrap();
	test_node_block();
	test_loops();
	test_csum();
	test_big_block();
	test_bad_args();
	test_random();
	test_real_image(4096, 40, 1);
	test_real_image(1024, 600, 2);
	test_range();
}

int main(void)
{
	run_all();
	peek_mode = 1;
	run_all();
	ok(peeks_ended > 0 && peeks_asked > peeks_ended && !peeks_bad &&
	   peeks_held_max >= 2 && peeks_held_max <= 5,
	   "peeks: %u walks, %u peeks; at most %u held at once (a node a level)",
	   peeks_ended, peeks_asked, peeks_held_max);
	return done();
}
