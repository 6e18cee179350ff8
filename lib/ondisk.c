/* ondisk.c --- our own bounds-checked reader of ext4 extent trees, independent of libext2fs */
/*
 * Why this exists: the cache is loaded through libext2fs's extent API, and
 * comparing a reader with itself proves nothing.  This file parses the
 * on-disk format directly (even the CRC32C is ours, lib/crc32c.c) so that the
 * two readers check each other, and it checks what neither libext2fs nor
 * e2fsck 1.47.0 checks (a child's depth, the range of every node).
 *
 * The walk is depth first, left to right, with an explicit stack that can
 * never hold more than RAW_MAX_DEPTH + 1 frames: the root's depth is capped
 * and each child must be exactly one level lower, so a corrupt image cannot
 * make it recurse.  A node block is followed at most once (a hash set of the
 * blocks seen), so loops and shared children end the walk of that branch.
 *
 * What goes into out->ext: every leaf extent that is valid on its own
 * (length >= 1, no wrap past the last logical block), in tree order.  Extents
 * that are valid but misplaced (unsorted, overlapping, out of their index's
 * range) are reported and kept, because they are what the disk says and the
 * consumers (mapping checks, cache comparison) cope with them; zero-length
 * and wrapping extents are reported and left out, so no consumer ever sees
 * an extent that the cache would refuse.  out->nodes lists every node block
 * an index entry legitimately points to (inside the filesystem, not on
 * metadata, seen for the first time), even if it then fails to read or to
 * parse: the inode still holds that block.  out->damaged is set whenever a
 * subtree or an extent was skipped, i.e. out->ext may miss something.
 *
 * Problem fields: node is the block of the node concerned (0 for i_block);
 * for a problem with a child node, lblk is the index key that leads to it
 * and pblk the child's block (TREE_NODE_BLOCK is reported on the parent,
 * since the child's number may be 0, the root's);
 * for a problem with an entry, lblk/len/pblk describe the entry (pblk of an
 * index entry is its child).  expected/found: the magic, capacity, maximum,
 * depth, checksum or key compared; for TREE_OUT_OF_RANGE the bound and the
 * extent's end (both exclusive), for TREE_UNSORTED the largest earlier key
 * and the key, for TREE_OVERLAP the end of the furthest earlier extent
 * (exclusive) and the start.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk.h"
#include "grow.h"
#include "crc32c.h"

#define RAW_MAGIC		0xF30Au
#define RAW_HDR_SIZE		12u
#define RAW_ENTRY_SIZE		12u
#define RAW_ROOT_BYTES		60u
#define RAW_ROOT_MAX		((RAW_ROOT_BYTES - RAW_HDR_SIZE) / RAW_ENTRY_SIZE)
#define RAW_MAX_DEPTH		5u		/* EXT4_MAX_EXTENT_DEPTH */
#define RAW_INIT_MAX_LEN	32768u		/* above this, ee_len is unwritten */
#define RAW_TAIL_SIZE		4u		/* le32 et_checksum */
#define LBLK_SPACE		(UINT64_C(1) << 32)	/* exclusive end of the logical space */

_Static_assert(ESCK_RAW_SCRATCH(1) == RAW_MAX_DEPTH,
	       "a walk's scratch holds a block for each level below the root");

struct hdr {
	unsigned int magic, entries, max, depth;
};

/* One node on the way down; level k of the stack holds depth root - k. */
struct frame {
	const unsigned char *buf;
	uint64_t blk;			/* 0 for the root */
	unsigned int depth;
	unsigned int entries;
	unsigned int next;		/* next entry to visit */
	uint64_t hi;			/* keys and extents must end at or below this */
	int have_key;
	uint32_t last_key;		/* largest key accepted so far in this node */
	int peeked;			/* buf is the reader's (peek_block) */
};

struct walk {
	const struct esck_raw_geometry *g;
	uint32_t ino;
	uint32_t seed;			/* per-inode checksum seed */
	struct esck_raw_tree *out;
	const struct esck_raw_visitor *v;	/* NULL: collect into out */
	esck_problem_fn report;
	void *report_arg;
	uint64_t *seen;			/* open-addressing set of node blocks, 0 = empty */
	size_t seen_cap, seen_nr;
	/* A range walk sees a node per level: no allocation for those. */
	uint64_t seen_inline[16];
	uint64_t max_end;		/* exclusive end of the furthest extent so far */
	int have_end;
	uint32_t lo, hi;		/* only subtrees reaching into [lo, hi] */
	unsigned char root[RAW_ROOT_BYTES];
	unsigned char *bufs[RAW_MAX_DEPTH + 1];
	unsigned char *buf_mem;		/* one allocation for the levels' bufs */
	struct frame stack[RAW_MAX_DEPTH + 1];
};

static uint16_t get_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (unsigned int)p[1] << 8);
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void get_hdr(const unsigned char *p, struct hdr *h)
{
	h->magic = get_le16(p);
	h->entries = get_le16(p + 2);
	h->max = get_le16(p + 4);
	h->depth = get_le16(p + 6);
}

static uint32_t crc_le32(uint32_t crc, uint32_t v)
{
	unsigned char b[4] = {
		(unsigned char)v, (unsigned char)(v >> 8),
		(unsigned char)(v >> 16), (unsigned char)(v >> 24),
	};

	return esck_crc32c(crc, b, sizeof(b));
}

uint32_t esck_raw_inode_seed(uint32_t csum_seed, uint32_t ino,
			     uint32_t generation)
{
	return crc_le32(crc_le32(csum_seed, ino), generation);
}

static void problem(struct walk *w, enum esck_problem_id id, uint64_t node,
		    uint64_t lblk, uint64_t len, uint64_t pblk,
		    uint64_t expected, uint64_t found)
{
	struct esck_problem p;

	if (!w->report)
		return;
	esck_problem_init(&p, id, w->ino);
	p.node = node;
	p.lblk = lblk;
	p.len = len;
	p.pblk = pblk;
	p.expected = expected;
	p.found = found;
	w->report(w->report_arg, &p);
}

static size_t seen_slot(const uint64_t *set, size_t cap, uint64_t blk)
{
	/* Fibonacci hashing; cap is a power of two. */
	size_t i = (size_t)((blk * UINT64_C(0x9E3779B97F4A7C15)) >> 17) & (cap - 1);

	while (set[i] && set[i] != blk)
		i = (i + 1) & (cap - 1);
	return i;
}

/* 1 if blk was seen before; otherwise remembers it.  -1 on ENOMEM. */
static int seen_test_and_set(struct walk *w, uint64_t blk)
{
	size_t i;

	if (w->seen_cap && w->seen[seen_slot(w->seen, w->seen_cap, blk)] == blk)
		return 1;
	if (2 * (w->seen_nr + 1) > w->seen_cap) {
		size_t ncap = w->seen_cap ? 2 * w->seen_cap : 64;
		uint64_t *nset = calloc(ncap, sizeof(*nset));

		if (!nset)
			return -1;
		for (i = 0; i < w->seen_cap; i++)
			if (w->seen[i])
				nset[seen_slot(nset, ncap, w->seen[i])] = w->seen[i];
		if (w->seen != w->seen_inline)
			free(w->seen);
		w->seen = nset;
		w->seen_cap = ncap;
	}
	w->seen[seen_slot(w->seen, w->seen_cap, blk)] = blk;
	w->seen_nr++;
	return 0;
}

static int add_node(struct walk *w, uint64_t blk)
{
	struct esck_raw_tree *out = w->out;
	void *arr = out->nodes;
	int rc;

	if (w->v)
		return w->v->node ? w->v->node(w->v->arg, blk) : 0;
	rc = esck_grow(&arr, &out->cap_nodes, out->nr_nodes, sizeof(*out->nodes), 16);

	out->nodes = arr;
	if (rc)
		return rc;
	out->nodes[out->nr_nodes++] = blk;
	return 0;
}

static int add_extent(struct walk *w, const struct esck_raw_extent *e)
{
	struct esck_raw_tree *out = w->out;
	void *arr = out->ext;
	int rc;

	if (w->v)
		return w->v->extent ? w->v->extent(w->v->arg, e) : 0;
	rc = esck_grow(&arr, &out->cap, out->nr, sizeof(*out->ext), 16);

	out->ext = arr;
	if (rc)
		return rc;
	out->ext[out->nr++] = *e;
	return 0;
}

/*
 * Where a range walk starts in a node: the last entry whose key is at or
 * below lo (the one whose child or extent can reach lo), by bisection.
 * A node sorted wrongly may send it past what it wants; the comparison
 * with the cache then reports what is missing.  A whole walk starts at 0
 * and checks every entry.
 */
static unsigned int range_start(const struct walk *w, const unsigned char *buf,
				unsigned int entries)
{
	unsigned int a = 0, b = entries;

	if (w->lo == 0)
		return 0;
	while (b - a > 1) {
		unsigned int m = a + (b - a) / 2;

		if (get_le32(buf + RAW_HDR_SIZE + RAW_ENTRY_SIZE * (size_t)m) <=
		    w->lo)
			a = m;
		else
			b = m;
	}
	return a;
}

/* Check one leaf entry and collect it if it is valid on its own. */
static int visit_leaf(struct walk *w, struct frame *f, const unsigned char *ent)
{
	struct esck_raw_extent e;
	unsigned int raw_len = get_le16(ent + 4);
	uint64_t end;
	int unsorted = 0;

	e.lblk = get_le32(ent);
	if (e.lblk > w->hi) {
		/* Sorted, the rest of the leaf is past the range too. */
		f->next = f->entries;
		return 0;
	}
	e.pblk = (uint64_t)get_le16(ent + 6) << 32 | get_le32(ent + 8);
	e.unwritten = raw_len > RAW_INIT_MAX_LEN;
	e.len = e.unwritten ? raw_len - RAW_INIT_MAX_LEN : raw_len;
	end = (uint64_t)e.lblk + e.len;

	if (e.len == 0) {
		problem(w, ESCK_PR_TREE_ZERO_LENGTH, f->blk, e.lblk, 0, e.pblk,
			ESCK_NONE, ESCK_NONE);
		w->out->damaged = 1;
		return 0;
	}
	/*
	 * The kernel's check is lblk + len <= lblk in 32 bits, so an extent
	 * covering block 2^32 - 1 wraps too; the cache cannot hold it either.
	 */
	if (end >= LBLK_SPACE) {
		problem(w, ESCK_PR_TREE_WRAP, f->blk, e.lblk, e.len, e.pblk,
			ESCK_NONE, ESCK_NONE);
		w->out->damaged = 1;
		return 0;
	}
	if (f->have_key && e.lblk <= f->last_key) {
		problem(w, ESCK_PR_TREE_UNSORTED, f->blk, e.lblk, e.len, e.pblk,
			f->last_key, e.lblk);
		unsorted = 1;
	} else {
		f->have_key = 1;
		f->last_key = e.lblk;
	}
	if (end > f->hi)
		problem(w, ESCK_PR_TREE_OUT_OF_RANGE, f->blk, e.lblk, e.len,
			e.pblk, f->hi, end);
	/* An unsorted extent overlaps by definition; say it once. */
	if (!unsorted && w->have_end && e.lblk < w->max_end)
		problem(w, ESCK_PR_TREE_OVERLAP, f->blk, e.lblk, e.len, e.pblk,
			w->max_end, e.lblk);
	if (!w->have_end || end > w->max_end)
		w->max_end = end;
	w->have_end = 1;
	/* Checked whole, but a range walk keeps only what it is asked for. */
	if (end <= w->lo || e.lblk > w->hi)
		return 0;
	return add_extent(w, &e);
}

static int take_node(struct walk *w, unsigned int sp, uint64_t child,
		     uint32_t key, uint64_t child_hi, const unsigned char *buf);

/*
 * Check the index entry just taken from the top frame (stack[sp - 1]), then
 * read and check its child.  Returns 0 with *pushed set if the child became
 * the new top of the stack, 0 without if it was skipped, or ENOMEM.
 */
static int visit_index(struct walk *w, unsigned int sp, int *pushed)
{
	const struct esck_raw_geometry *g = w->g;
	struct frame *f = &w->stack[sp - 1];
	unsigned int i = f->next - 1;
	const unsigned char *ent = f->buf + RAW_HDR_SIZE +
				   RAW_ENTRY_SIZE * (size_t)i;
	uint32_t key = get_le32(ent);
	uint64_t child = get_le32(ent + 4) | (uint64_t)get_le16(ent + 8) << 32;
	uint64_t child_hi = f->hi;
	const unsigned char *buf;
	const void *peeked = NULL;
	unsigned int j;
	int rc;

	*pushed = 0;
	if (f->have_key && key <= f->last_key) {
		problem(w, ESCK_PR_TREE_UNSORTED, f->blk, key, ESCK_NONE, child,
			f->last_key, key);
		w->out->damaged = 1;
		return 0;
	}
	if (key >= f->hi) {
		problem(w, ESCK_PR_TREE_OUT_OF_RANGE, f->blk, key, ESCK_NONE,
			child, f->hi, key);
		w->out->damaged = 1;
		return 0;
	}
	f->have_key = 1;
	f->last_key = key;
	/*
	 * The child's range ends at the next key that will be accepted: the
	 * first larger one.  Entries in between are unsorted and will be
	 * skipped, so every entry is scanned here at most once per node.
	 */
	for (j = i + 1; j < f->entries; j++) {
		uint32_t k = get_le32(f->buf + RAW_HDR_SIZE +
				      RAW_ENTRY_SIZE * (size_t)j);

		if (k > key) {
			if (k < child_hi)
				child_hi = k;
			break;
		}
	}
	/* A range walk leaves the other subtrees unread and unchecked. */
	if (key > w->hi)
		f->next = f->entries;
	if (child_hi <= w->lo || key > w->hi)
		return 0;

	if (child == 0 || child < g->first_data_block || child >= g->blocks_count ||
	    (g->is_metadata && g->is_metadata(g->arg, child))) {
		/* node is the parent: the child's number may be 0 itself. */
		problem(w, ESCK_PR_TREE_NODE_BLOCK, f->blk, key, ESCK_NONE, child,
			ESCK_NONE, ESCK_NONE);
		w->out->damaged = 1;
		return 0;
	}
	rc = seen_test_and_set(w, child);
	if (rc < 0)
		return ENOMEM;
	if (rc) {
		problem(w, ESCK_PR_TREE_LOOP, child, key, ESCK_NONE, child,
			ESCK_NONE, ESCK_NONE);
		w->out->damaged = 1;
		return 0;
	}
	rc = add_node(w, child);
	if (rc)
		return rc;

	if (!w->bufs[1]) {
		/* Levels below the root: at most its depth, each reused. */
		unsigned char *mem = g->scratch;

		if (!mem) {
			mem = w->buf_mem = malloc((size_t)w->stack[0].depth *
						  g->block_size);
			if (!mem)
				return ENOMEM;
		}
		for (j = 1; j <= w->stack[0].depth; j++)
			w->bufs[j] = mem + (size_t)(j - 1) * g->block_size;
	}
	/* In place if the reader can, else read into this level's buffer. */
	rc = g->peek_block ? g->peek_block(g->arg, child, &peeked) : 0;
	buf = peeked;
	if (!rc && !buf) {
		buf = w->bufs[sp];
		rc = g->read_block(g->arg, child, w->bufs[sp]) ? 1 : 0;
	}
	if (rc) {
		problem(w, ESCK_PR_TREE_READ, child, key, ESCK_NONE, child,
			ESCK_NONE, ESCK_NONE);
		w->out->damaged = 1;
		return 0;
	}
	*pushed = take_node(w, sp, child, key, child_hi, buf);
	if (*pushed)
		w->stack[sp].peeked = peeked != NULL;
	else if (peeked && g->peek_release)
		g->peek_release(g->arg, peeked);
	return 0;
}

/*
 * Check the node just read at child (key in its parent, child_hi the end
 * of its range) and make it the new top of the stack, stack[sp]: 1, or 0
 * if it is not to be walked.
 */
static int take_node(struct walk *w, unsigned int sp, uint64_t child,
		     uint32_t key, uint64_t child_hi, const unsigned char *buf)
{
	const struct esck_raw_geometry *g = w->g;
	const struct frame *f = &w->stack[sp - 1];
	unsigned int cap = (g->block_size - RAW_HDR_SIZE) / RAW_ENTRY_SIZE;
	struct frame *c;
	struct hdr h;

	get_hdr(buf, &h);
	if (h.magic != RAW_MAGIC) {
		problem(w, ESCK_PR_TREE_NODE_MAGIC, child, key, ESCK_NONE, child,
			RAW_MAGIC, h.magic);
		w->out->damaged = 1;
		return 0;
	}
	if (h.max == 0 || h.max > cap) {
		problem(w, ESCK_PR_TREE_NODE_MAX, child, key, ESCK_NONE, child,
			cap, h.max);
		w->out->damaged = 1;
		return 0;
	}
	if (h.entries > h.max) {
		problem(w, ESCK_PR_TREE_NODE_ENTRIES, child, key, ESCK_NONE, child,
			h.max, h.entries);
		w->out->damaged = 1;
		return 0;
	}
	if (h.depth != f->depth - 1) {
		problem(w, ESCK_PR_TREE_DEPTH, child, key, ESCK_NONE, child,
			f->depth - 1, h.depth);
		w->out->damaged = 1;
		return 0;
	}
	if (g->has_csum) {
		size_t off = RAW_HDR_SIZE + (size_t)RAW_ENTRY_SIZE * h.max;

		/* Always true for the block sizes ext4 has; cheap to keep. */
		if (off + RAW_TAIL_SIZE <= g->block_size &&
		    !(g->csum_known && g->csum_known(g->arg, child, w->seed))) {
			uint32_t calc = esck_crc32c(w->seed, buf, off);
			uint32_t stored = get_le32(buf + off);

			/* The data may still be right: report and go on. */
			if (calc != stored)
				problem(w, ESCK_PR_TREE_NODE_CSUM, child, key,
					ESCK_NONE, child, calc, stored);
			else if (g->csum_good)
				g->csum_good(g->arg, child, w->seed);
		}
	}
	if (h.entries == 0) {
		if (h.depth > 0)
			problem(w, ESCK_PR_TREE_EMPTY_INDEX, child, key,
				ESCK_NONE, child, ESCK_NONE, ESCK_NONE);
		return 0;
	}
	if (get_le32(buf + RAW_HDR_SIZE) != key)
		problem(w, ESCK_PR_TREE_INDEX_KEY, child, key, ESCK_NONE, child,
			key, get_le32(buf + RAW_HDR_SIZE));

	c = &w->stack[sp];
	c->buf = buf;
	c->blk = child;
	c->depth = h.depth;
	c->entries = h.entries;
	c->next = range_start(w, buf, h.entries);
	c->hi = child_hi;
	c->have_key = 0;
	c->last_key = 0;
	return 1;
}

/* Check the inode's own header; 1 if the walk can start from it. */
static int check_root(struct walk *w, struct hdr *h)
{
	get_hdr(w->root, h);
	if (h->magic != RAW_MAGIC) {
		problem(w, ESCK_PR_TREE_ROOT_HEADER, 0, ESCK_NONE, ESCK_NONE,
			ESCK_NONE, RAW_MAGIC, h->magic);
		w->out->damaged = 1;
		return 0;
	}
	if (h->max == 0 || h->max > RAW_ROOT_MAX) {
		problem(w, ESCK_PR_TREE_ROOT_HEADER, 0, ESCK_NONE, ESCK_NONE,
			ESCK_NONE, RAW_ROOT_MAX, h->max);
		w->out->damaged = 1;
		return 0;
	}
	if (h->entries > h->max) {
		problem(w, ESCK_PR_TREE_ROOT_HEADER, 0, ESCK_NONE, ESCK_NONE,
			ESCK_NONE, h->max, h->entries);
		w->out->damaged = 1;
		return 0;
	}
	w->out->depth = h->depth;
	if (h->depth > RAW_MAX_DEPTH) {
		problem(w, ESCK_PR_TREE_TOO_DEEP, 0, ESCK_NONE, ESCK_NONE,
			ESCK_NONE, RAW_MAX_DEPTH, h->depth);
		w->out->damaged = 1;
		return 0;
	}
	if (h->depth > 0 && h->entries == 0) {
		/* Nothing is skipped: the tree is just empty. */
		problem(w, ESCK_PR_TREE_EMPTY_INDEX, 0, ESCK_NONE, ESCK_NONE,
			ESCK_NONE, ESCK_NONE, ESCK_NONE);
		return 0;
	}
	return 1;
}

static int walk_tree(struct walk *w)
{
	struct hdr h;
	unsigned int sp;
	int rc;

	if (!check_root(w, &h))
		return 0;
	w->stack[0].buf = w->root;
	w->stack[0].blk = 0;
	w->stack[0].depth = h.depth;
	w->stack[0].entries = h.entries;
	w->stack[0].next = range_start(w, w->root, h.entries);
	w->stack[0].hi = LBLK_SPACE;
	w->stack[0].have_key = 0;
	sp = 1;

	while (sp > 0) {
		struct frame *f = &w->stack[sp - 1];
		const unsigned char *ent;
		int pushed;

		if (f->next >= f->entries) {
			if (f->peeked && w->g->peek_release)
				w->g->peek_release(w->g->arg, f->buf);
			sp--;
			continue;
		}
		ent = f->buf + RAW_HDR_SIZE + RAW_ENTRY_SIZE * (size_t)f->next++;
		if (f->depth == 0) {
			rc = visit_leaf(w, f, ent);
			if (rc)
				return rc;
			continue;
		}
		/* Depth strictly decreases, so sp never passes the root's depth. */
		rc = visit_index(w, sp, &pushed);
		if (rc)
			return rc;
		if (pushed)
			sp++;
	}
	return 0;
}

errcode_t esck_raw_read_tree(const struct esck_raw_geometry *g, uint32_t ino,
			     uint32_t generation, const void *i_block,
			     struct esck_raw_tree *out, esck_problem_fn report,
			     void *report_arg)
{
	return esck_raw_walk(g, ino, generation, i_block, NULL, out, report, report_arg);
}

errcode_t esck_raw_walk(const struct esck_raw_geometry *g, uint32_t ino,
			uint32_t generation, const void *i_block,
			const struct esck_raw_visitor *v, struct esck_raw_tree *out,
			esck_problem_fn report, void *report_arg)
{
	return esck_raw_walk_range(g, ino, generation, i_block, 0, UINT32_MAX, v, out,
				   report, report_arg);
}

errcode_t esck_raw_walk_range(const struct esck_raw_geometry *g, uint32_t ino,
			      uint32_t generation, const void *i_block,
			      uint32_t lo, uint32_t hi,
			      const struct esck_raw_visitor *v, struct esck_raw_tree *out,
			      esck_problem_fn report, void *report_arg)
{
	struct walk walk, *w = &walk;
	int rc;

	memset(out, 0, sizeof(*out));
	/* A node must hold its header and one entry; ext4 has 1 KiB..64 KiB. */
	if (!g || !g->read_block || !i_block || g->block_size < 1024 ||
	    g->block_size > 65536)
		return EINVAL;
	memset(w, 0, sizeof(*w));
	w->seen = w->seen_inline;
	w->seen_cap = sizeof(w->seen_inline) / sizeof(w->seen_inline[0]);
	w->g = g;
	w->ino = ino;
	w->lo = lo;
	w->hi = hi;
	w->out = out;
	w->v = v;
	w->report = report;
	w->report_arg = report_arg;
	w->seed = esck_raw_inode_seed(g->csum_seed, ino, generation);
	memcpy(w->root, i_block, RAW_ROOT_BYTES);

	rc = walk_tree(w);

	/* An early end leaves frames on the stack: let go of all of them. */
	if (g->peek_release)
		g->peek_release(g->arg, NULL);
	free(w->buf_mem);
	if (w->seen != w->seen_inline)
		free(w->seen);
	if (rc) {
		esck_raw_tree_free(out);
		return rc;
	}
	return 0;
}

void esck_raw_tree_free(struct esck_raw_tree *t)
{
	if (!t)
		return;
	free(t->ext);
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}
