/* replay_leaf.c --- unmap a range that lies within one leaf by editing the leaf itself */
#include <stdlib.h>
#include <string.h>

#include "replay_int.h"
#include "crc32c.h"
#include "ondisk.h"

#include <ext2fs/ext3_extents.h> /* after ext2fs.h */

/*
 * Most punches touch one leaf and leave it neither empty nor overfull.
 * libext2fs's handle pays for such an op with a walk from the root that
 * steps through every entry of every node on the path (a third of a
 * replay's time); here the path is found by bisection and the leaf edited
 * in place.  Whatever is not that simple case -- a leaf emptied or
 * overfull, a range reaching into the leaf before, bigalloc, anything odd
 * in a node -- is left untouched for replay_remove_space()'s general
 * path, which is the reference: the result here must be the one it gives,
 * byte for byte in every entry.
 */

#define LEAF_MAX_DEPTH 5 /* the kernel's EXT4_MAX_EXTENT_DEPTH */
#define HDR_SIZE sizeof(struct ext3_extent_header)
#define ENT_SIZE sizeof(struct ext3_extent)
#define INIT_MAX_LEN 32768U /* EXT_INIT_MAX_LEN: longer is unwritten */

struct node {
	unsigned char *buf;	/* the node: i_block for the root */
	uint64_t blk;		/* 0 for the root */
	unsigned int idx;	/* entry followed down (index nodes) */
	/*
	 * buf is txio's own copy (txio_peek()), to read only and only until
	 * the first write: own() copies it first.
	 */
	int peeked;
};

struct ext {
	uint32_t lblk, len;
	uint64_t pblk;
	int unwritten;
};

static struct ext3_extent_header *header(unsigned char *buf)
{
	return (struct ext3_extent_header *)buf;
}

static uint32_t key_at(const unsigned char *buf, unsigned int i)
{
	const struct ext3_extent_idx *ix =
		(const struct ext3_extent_idx *)(buf + HDR_SIZE) + i;

	return ext2fs_le32_to_cpu(ix->ei_block);
}

static struct ext get_ext(const unsigned char *buf, unsigned int i)
{
	const struct ext3_extent *x =
		(const struct ext3_extent *)(buf + HDR_SIZE) + i;
	unsigned int len = ext2fs_le16_to_cpu(x->ee_len);
	struct ext e;

	e.lblk = ext2fs_le32_to_cpu(x->ee_block);
	e.unwritten = len > INIT_MAX_LEN;
	e.len = e.unwritten ? len - INIT_MAX_LEN : len;
	e.pblk = (uint64_t)ext2fs_le16_to_cpu(x->ee_start_hi) << 32 |
		 ext2fs_le32_to_cpu(x->ee_start);
	return e;
}

static void put_ext(unsigned char *buf, unsigned int i, const struct ext *e)
{
	struct ext3_extent *x = (struct ext3_extent *)(buf + HDR_SIZE) + i;

	x->ee_block = ext2fs_cpu_to_le32(e->lblk);
	x->ee_len = ext2fs_cpu_to_le16(
		(uint16_t)(e->unwritten ? e->len + INIT_MAX_LEN : e->len));
	x->ee_start_hi = ext2fs_cpu_to_le16((uint16_t)(e->pblk >> 32));
	x->ee_start = ext2fs_cpu_to_le32((uint32_t)e->pblk);
}

/*
 * A node fit to edit: libext2fs's own header checks, the depth it must
 * have, and at least one entry.
 */
static int node_ok(unsigned char *buf, size_t size, unsigned int depth)
{
	struct ext3_extent_header *eh = header(buf);
	unsigned int max = ext2fs_le16_to_cpu(eh->eh_max);
	unsigned int want = (unsigned int)((size - HDR_SIZE) / ENT_SIZE);

	return ext2fs_le16_to_cpu(eh->eh_magic) == EXT3_EXT_MAGIC &&
	       ext2fs_le16_to_cpu(eh->eh_depth) == depth && max <= want &&
	       max + 2 >= want && ext2fs_le16_to_cpu(eh->eh_entries) >= 1 &&
	       ext2fs_le16_to_cpu(eh->eh_entries) <= max;
}

/* The last entry whose first block is at or before lblk, or -1. */
static int bisect(const unsigned char *buf, uint32_t lblk)
{
	int lo = 0,
	    hi = ext2fs_le16_to_cpu(((const struct ext3_extent_header *)buf)
					    ->eh_entries) - 1;

	/* Index and leaf entries both begin with their first block. */
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (key_at(buf, (unsigned int)mid) <= lblk)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return hi;
}

static errcode_t write_node(struct esck_replay *r, uint32_t ino,
			    const struct ext2_inode *inode, struct node *n)
{
	ext2_filsys fs = r->fs;
	uint32_t seed = 0, crc;
	int csum = ext2fs_has_feature_metadata_csum(fs->super);
	errcode_t retval;

	if (!n->blk)
		return 0; /* the root: the caller writes the inode */
	if (csum) {
		struct ext3_extent_header *eh = header(n->buf);
		size_t off = HDR_SIZE + ENT_SIZE * ext2fs_le16_to_cpu(eh->eh_max);

		seed = esck_raw_inode_seed(fs->csum_seed, ino, inode->i_generation);
		crc = esck_crc32c(seed, n->buf, off);
		((struct ext3_extent_tail *)(n->buf + off))->et_checksum =
			ext2fs_cpu_to_le32(crc);
	}
	retval = io_channel_write_blk64(fs->io, n->blk, 1, n->buf);
	/*
	 * The checksum was just computed over exactly what was written: the
	 * verification after the op reads the node back and need not compute
	 * it again (the raw walker's csum_known()).
	 */
	if (!retval && csum && txio_is_txio(fs->io))
		txio_mark(fs->io, n->blk, seed);
	return retval;
}

/*
 * Read the path to the leaf holding end.  0 with *ok clear when the tree is
 * not one to edit here.
 */
static errcode_t read_path(struct esck_replay *r, struct ext2_inode *inode,
			   uint32_t end, struct node *path, unsigned char *bufs,
			   unsigned int *depth, int *ok)
{
	ext2_filsys fs = r->fs;
	unsigned int d, l;
	errcode_t retval;

	*ok = 0;
	path[0].buf = (unsigned char *)inode->i_block;
	path[0].blk = 0;
	d = ext2fs_le16_to_cpu(header(path[0].buf)->eh_depth);
	if (d > LEAF_MAX_DEPTH || !node_ok(path[0].buf, sizeof(inode->i_block), d))
		return 0;
	for (l = 0; l < d; l++) {
		const struct ext3_extent_idx *ix;
		int i = bisect(path[l].buf, end);
		uint64_t child;

		if (i < 0)
			return 0;
		path[l].idx = (unsigned int)i;
		ix = (const struct ext3_extent_idx *)(path[l].buf + HDR_SIZE) + i;
		child = ext2fs_le32_to_cpu(ix->ei_leaf) |
			(uint64_t)ext2fs_le16_to_cpu(ix->ei_leaf_hi) << 32;
		if (child < fs->super->s_first_data_block ||
		    child >= ext2fs_blocks_count(fs->super))
			return 0;
		path[l + 1].blk = child;
		path[l + 1].peeked = 0;
		/* Index nodes in place: only the leaf is certain to change. */
		if (l + 1 < d && txio_is_txio(fs->io)) {
			const void *in_place;

			retval = txio_peek(fs->io, child, &in_place);
			if (retval)
				return retval;
			path[l + 1].buf = (unsigned char *)(uintptr_t)in_place;
			path[l + 1].peeked = in_place != NULL;
		}
		if (!path[l + 1].peeked) {
			path[l + 1].buf = bufs + (size_t)l * fs->blocksize;
			retval = io_channel_read_blk64(fs->io, child, 1,
						       path[l + 1].buf);
			if (retval)
				return retval;
		}
		if (!node_ok(path[l + 1].buf, fs->blocksize, d - l - 1))
			return 0;
	}
	*depth = d;
	*ok = 1;
	return 0;
}

/* The index nodes of the path in bufs, to be changed and written. */
static void own(struct node *path, unsigned int depth, unsigned char *bufs,
		unsigned int bs)
{
	unsigned int l;

	for (l = 1; l < depth; l++) {
		if (!path[l].peeked)
			continue;
		memcpy(bufs + (size_t)(l - 1) * bs, path[l].buf, bs);
		path[l].buf = bufs + (size_t)(l - 1) * bs;
		path[l].peeked = 0;
	}
}

/*
 * What replay_remove_space() does to the leaf, worked out before anything
 * changes: entries [lo, hi] are touched; lo keeps its head when cut,
 * hi's tail past end stays when split.
 */
struct plan {
	int hi, lo;
	int cut;	/* entry lo keeps [lblk, start) */
	int split;	/* entry hi keeps (end, its last block] */
	int before;	/* the range goes on before the leaf's first entry */
};

static int make_plan(const unsigned char *leaf, uint32_t start, uint32_t end,
		     int may_split, struct plan *p)
{
	int j = bisect(leaf, end);
	uint32_t cur_end = end;

	memset(p, 0, sizeof(*p));
	p->hi = j;
	p->lo = j + 1; /* nothing touched */
	if (j < 0) {
		p->before = 1;
		return 1;
	}
	if (may_split && end < LBLK_LAST) {
		struct ext e = get_ext(leaf, (unsigned int)j);

		p->split = e.lblk + (uint64_t)e.len - 1 > end;
	}
	for (; j >= 0; j--) {
		struct ext e = get_ext(leaf, (unsigned int)j);
		uint64_t ee = e.lblk + (uint64_t)e.len - 1;

		if (!e.len)
			return 0;
		if (e.lblk > cur_end || ee < start)
			return 1;
		if (ee > cur_end && !(p->split && j == p->hi))
			return 0; /* the general path calls it corrupt */
		p->lo = j;
		if (e.lblk < start) {
			p->cut = 1;
			return 1;
		}
		if (e.lblk == start)
			return 1;
		cur_end = e.lblk - 1;
	}
	p->before = 1;
	return 1;
}

/* Whether the path runs down the left edge: no leaf before this one. */
static int leftmost(const struct node *path, unsigned int depth)
{
	unsigned int l;

	for (l = 0; l < depth; l++)
		if (path[l].idx)
			return 0;
	return 1;
}

errcode_t replay_leaf_remove(struct esck_replay *r, uint32_t ino,
			     struct ext2_inode *inode, uint32_t start,
			     uint32_t end, int may_split, int *done)
{
	ext2_filsys fs = r->fs;
	struct node path[LEAF_MAX_DEPTH + 1];
	unsigned char *bufs, *leaf;
	unsigned int depth = 0, n, max, m, i;
	struct plan p;
	struct ext e;
	uint32_t first;
	errcode_t retval;
	int ok, l;

	*done = 0;
	if (EXT2FS_CLUSTER_RATIO(fs) != 1 || start > end ||
	    r->opts.general_removal)
		return 0;
	bufs = replay_kept_buffer(&r->leaf_bufs, &r->leaf_bs, fs->blocksize,
				  (size_t)LEAF_MAX_DEPTH * fs->blocksize);
	if (!bufs)
		return EXT2_ET_NO_MEMORY;
	retval = read_path(r, inode, end, path, bufs, &depth, &ok);
	if (retval || !ok)
		goto out;
	leaf = path[depth].buf;
	n = ext2fs_le16_to_cpu(header(leaf)->eh_entries);
	max = ext2fs_le16_to_cpu(header(leaf)->eh_max);
	if (!make_plan(leaf, start, end, may_split, &p) ||
	    (p.before && !leftmost(path, depth)))
		goto out;
	/*
	 * The split comes first and needs its room even when the removal
	 * then frees an entry: where it does not fit, the tree grows (the
	 * kernel's too), which is the general path's work.
	 */
	if (p.split && n >= max)
		goto out;
	/* Entries left: those before lo, lo cut, hi's split tail, after hi. */
	m = n - (unsigned int)(p.hi + 1 - p.lo) + (unsigned int)p.cut +
	    (unsigned int)p.split;
	if (!m && depth)
		goto out;
	first = key_at(leaf, 0);

	/* Free right to left as the general path does; the order is moot. */
	for (l = p.hi; l >= p.lo; l--) {
		uint64_t os, oe;

		e = get_ext(leaf, (unsigned int)l);
		os = e.lblk > start ? e.lblk : start;
		oe = e.lblk + (uint64_t)e.len - 1;
		if (oe > end)
			oe = end;
		replay_free_data(fs, inode, e.pblk + (os - e.lblk),
				 (uint32_t)(oe - os + 1));
	}
	if (p.lo <= p.hi) {
		struct ext keep[2];
		unsigned int k = 0, tail = n - (unsigned int)p.hi - 1;

		if (p.cut) {
			keep[k] = get_ext(leaf, (unsigned int)p.lo);
			keep[k++].len = start - keep[0].lblk;
		}
		if (p.split) {
			e = get_ext(leaf, (unsigned int)p.hi);
			keep[k].lblk = end + 1;
			keep[k].len = e.lblk + e.len - 1 - end;
			keep[k].pblk = e.pblk + (end + 1 - e.lblk);
			keep[k++].unwritten = e.unwritten;
		}
		memmove(leaf + HDR_SIZE + ENT_SIZE * (p.lo + k),
			leaf + HDR_SIZE + ENT_SIZE * (unsigned int)(p.hi + 1),
			ENT_SIZE * tail);
		for (i = 0; i < k; i++)
			put_ext(leaf, (unsigned int)p.lo + i, &keep[i]);
		header(leaf)->eh_entries = ext2fs_cpu_to_le16((uint16_t)m);
		/* The keys above change too (below): before the first write. */
		if (m && key_at(leaf, 0) != first)
			own(path, depth, bufs, fs->blocksize);
		retval = write_node(r, ino, inode, &path[depth]);
		if (retval)
			goto out;
	}
	/*
	 * A new first entry moves the keys above it, up to the first node
	 * where the path does not run through entry 0 (ext2fs_extent_fix_parents).
	 */
	if (m && key_at(leaf, 0) != first) {
		first = key_at(leaf, 0);
		for (l = (int)depth - 1; l >= 0; l--) {
			struct ext3_extent_idx *ix =
				(struct ext3_extent_idx *)(path[l].buf + HDR_SIZE) +
				path[l].idx;

			if (ext2fs_le32_to_cpu(ix->ei_block) == first)
				break;
			ix->ei_block = ext2fs_cpu_to_le32(first);
			retval = write_node(r, ino, inode, &path[l]);
			if (retval || path[l].idx)
				break;
		}
	}
	*done = 1;
out:
	if (txio_is_txio(fs->io))
		txio_unpin(fs->io, NULL);
	return retval;
}
