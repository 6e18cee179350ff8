/* replay_ind.c --- block-mapped (ext2, ext3) files: unmap ranges, walk and cache the map, map at writeback */
/*
 * Why our own walk rather than libext2fs's: 1.47.0's ext2fs_punch() turns a
 * one-block punch at the first block of a later IND block under the DIND into
 * a punch of that whole IND range (reference/e2fsprogs.md §1.9, fixed only in
 * 1.47.4), and ext2fs_bmap2(BMAP_ALLOC) writes the inode itself, outside the
 * op's own copy.  Every block freed or allocated here goes through
 * replay_stats_range() (the groups whose bitmaps to write) and every write
 * through the image's transactional channel, so a failed op is rolled back
 * whole like an extent file's.
 *
 * Which indirect blocks go (ext4_ind_truncate, ext4_ind_remove_space): one
 * whose whole range lies in the removed range; one that reaches into the
 * range from before it but not past its end, once nothing is left in it (the
 * kernel's ext4_find_shared climbs such blocks while their pointers before
 * the cut are all zero); never one that holds the range's end, even emptied.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replay_int.h"

#define IND_DEPTHS 4		/* data, IND, DIND, TIND */

/* One inode's block map, and a block buffer per indirect depth. */
struct imap {
	ext2_filsys fs;
	struct ext2_inode *inode;
	uint32_t apb;			/* pointers per block */
	uint64_t span[IND_DEPTHS];	/* logical blocks under a pointer of depth d */
	uint32_t *buf[IND_DEPTHS];	/* [1..3]; [0] unused */
	uint64_t free_start, free_len;	/* a run of blocks to free, gathered */
};

static errcode_t imap_open(struct imap *m, ext2_filsys fs,
			   struct ext2_inode *inode)
{
	int d;

	memset(m, 0, sizeof(*m));
	m->fs = fs;
	m->inode = inode;
	m->apb = fs->blocksize / 4;
	m->span[0] = 1;
	for (d = 1; d < IND_DEPTHS; d++)
		m->span[d] = m->span[d - 1] * m->apb;
	for (d = 1; d < IND_DEPTHS; d++) {
		m->buf[d] = malloc(fs->blocksize);
		if (!m->buf[d])
			return ENOMEM;
	}
	return 0;
}

static void imap_close(struct imap *m)
{
	int d;

	for (d = 1; d < IND_DEPTHS; d++)
		free(m->buf[d]);
}

/* i_block[i]: the first logical block under it, and its depth. */
static uint64_t root_lo(const struct imap *m, int i, int *depth)
{
	if (i < EXT2_NDIR_BLOCKS) {
		*depth = 0;
		return (uint64_t)i;
	}
	*depth = i - EXT2_NDIR_BLOCKS + 1;
	if (*depth == 1)
		return EXT2_NDIR_BLOCKS;
	if (*depth == 2)
		return EXT2_NDIR_BLOCKS + m->span[1];
	return EXT2_NDIR_BLOCKS + m->span[1] + m->span[2];
}

static int valid_blk(const struct imap *m, uint64_t blk)
{
	return blk >= m->fs->super->s_first_data_block &&
	       blk < ext2fs_blocks_count(m->fs->super);
}

static errcode_t read_ind(struct imap *m, uint64_t blk, int depth)
{
	if (!valid_blk(m, blk))
		return ESCK_ET_CORRUPT_TREE;
	return io_channel_read_blk64(m->fs->io, blk, 1, m->buf[depth]);
}

uint64_t replay_ind_max_bytes(ext2_filsys fs)
{
	unsigned int bits = fs->super->s_log_block_size + EXT2_MIN_BLOCK_LOG_SIZE;
	uint64_t ppb = fs->blocksize / 4, res, upper, meta;

	/*
	 * ext4_max_bitmap_size: what the map addresses, unless i_blocks
	 * (2^32 - 1 sectors without huge_file) runs out first, counting the
	 * indirect blocks the data needs.
	 */
	if (ext2fs_has_feature_huge_file(fs->super))
		upper = (1ULL << 48) - 1;
	else
		upper = 0xffffffffULL >> (bits - 9);
	res = EXT2_NDIR_BLOCKS + ppb + ppb * ppb + ppb * ppb * ppb;
	meta = 1 + (1 + ppb) + (1 + ppb + ppb * ppb);
	if (res + meta > upper) {
		res = upper;
		upper -= EXT2_NDIR_BLOCKS + ppb;
		meta = 1;
		if (upper < ppb * ppb) {
			meta += 1 + (upper + ppb - 1) / ppb;
		} else {
			meta += 1 + ppb;
			upper -= ppb * ppb;
			meta += 1 + (upper + ppb - 1) / ppb +
				(upper + ppb * ppb - 1) / (ppb * ppb);
		}
		res -= meta;
	}
	if (res > (uint64_t)INT64_MAX >> bits)
		return (uint64_t)INT64_MAX;
	return res << bits;
}

/* ---- walking the mapped runs of a range ---- */

typedef int (*run_fn)(void *arg, uint64_t lblk, uint64_t pblk, uint64_t len);
/*
 * A pointer the walk will not follow: outside the filesystem, or (depth > 0)
 * an indirect block refused by the walk's own test.  Nonzero stops the walk.
 */
typedef int (*bad_fn)(void *arg, uint64_t lblk, uint64_t blk, int depth);

struct iwalk {
	struct imap *m;
	uint64_t lo, hi;	/* inclusive */
	uint64_t rl, rp, rn;	/* the run being gathered */
	run_fn fn;
	bad_fn bad;		/* NULL: a bad pointer is ESCK_ET_CORRUPT_TREE */
	int (*ind_refused)(void *arg, uint64_t blk);	/* or NULL */
	void *arg;
	int stop;
};

static void walk_flush(struct iwalk *w)
{
	if (w->rn && !w->stop)
		w->stop = w->fn(w->arg, w->rl, w->rp, w->rn);
	w->rn = 0;
}

static errcode_t walk_entry(struct iwalk *w, uint64_t blk, uint64_t lo,
			    int depth)
{
	struct imap *m = w->m;
	uint64_t child, i, first, last;
	errcode_t retval;

	if (!blk || w->stop || lo > w->hi || lo + m->span[depth] - 1 < w->lo)
		return 0;
	if (!valid_blk(m, blk) ||
	    (depth && w->ind_refused && w->ind_refused(w->arg, blk))) {
		if (!w->bad)
			return ESCK_ET_CORRUPT_TREE;
		/* the runs before it first, in logical order */
		walk_flush(w);
		if (!w->stop)
			w->stop = w->bad(w->arg, lo, blk, depth);
		return 0;
	}
	if (!depth) {
		if (w->rn && w->rl + w->rn == lo && w->rp + w->rn == blk) {
			w->rn++;
			return 0;
		}
		walk_flush(w);
		w->rl = lo;
		w->rp = blk;
		w->rn = 1;
		return 0;
	}
	retval = read_ind(m, blk, depth);
	if (retval)
		return retval;
	child = m->span[depth - 1];
	first = lo < w->lo ? (w->lo - lo) / child : 0;
	last = (w->hi - lo) / child;
	if (last > m->apb - 1)
		last = m->apb - 1;
	for (i = first; i <= last && !w->stop; i++) {
		retval = walk_entry(w, ext2fs_le32_to_cpu(m->buf[depth][i]),
				    lo + i * child, depth - 1);
		if (retval)
			return retval;
	}
	return 0;
}

static errcode_t walk(struct iwalk *w)
{
	errcode_t retval = 0;
	uint64_t rlo;
	int i, depth;

	for (i = 0; i < EXT2_N_BLOCKS && !retval && !w->stop; i++) {
		rlo = root_lo(w->m, i, &depth);
		retval = walk_entry(w, w->m->inode->i_block[i], rlo, depth);
	}
	if (!retval)
		walk_flush(w);
	return retval;
}

/* fn over the maximal runs of contiguous mapped blocks of [lo, hi], in order. */
static errcode_t walk_runs(struct imap *m, uint64_t lo, uint64_t hi, run_fn fn,
			   void *arg)
{
	struct iwalk w;

	memset(&w, 0, sizeof(w));
	w.m = m;
	w.lo = lo;
	w.hi = hi;
	w.fn = fn;
	w.arg = arg;
	return walk(&w);
}

struct first_run {
	uint64_t lblk, pblk, len;
	int found;
};

static int take_first(void *arg, uint64_t lblk, uint64_t pblk, uint64_t len)
{
	struct first_run *fr = arg;

	fr->lblk = lblk;
	fr->pblk = pblk;
	fr->len = len;
	fr->found = 1;
	return 1;
}

errcode_t replay_ind_disk_run(struct esck_replay *r, struct ext2_inode *inode,
			      uint32_t lblk, uint32_t end, unsigned int *type,
			      uint64_t *pblk, uint32_t *len)
{
	struct first_run fr = { 0, 0, 0, 0 };
	struct imap m;
	errcode_t retval;

	retval = imap_open(&m, r->fs, inode);
	if (!retval)
		retval = walk_runs(&m, lblk, end, take_first, &fr);
	imap_close(&m);
	if (retval)
		return retval;
	if (fr.found && fr.lblk == lblk) {
		*type = ES_WRITTEN;
		*pblk = fr.pblk;
		*len = (uint32_t)fr.len;
	} else {
		*type = ES_HOLE;
		*pblk = 0;
		*len = (uint32_t)((fr.found ? fr.lblk - 1 : end) - lblk + 1);
	}
	return 0;
}

/* ---- the damage check at open ---- */

struct icheck {
	struct esck_replay *r;
	uint32_t ino;
	esck_problem_fn report;
	void *arg;
};

static int check_report(struct icheck *c, enum esck_problem_id id,
			uint64_t lblk, uint64_t len, uint64_t pblk)
{
	struct esck_problem p;

	esck_problem_init(&p, id, c->ino);
	p.lblk = lblk;
	p.len = len;
	p.pblk = pblk;
	c->report(c->arg, &p);
	return 1; /* the first problem ends the walk */
}

/* Data blocks are looked up a run at a time: one search per run. */
static int check_run(void *arg, uint64_t lblk, uint64_t pblk, uint64_t len)
{
	struct icheck *c = arg;

	if (!replay_meta_overlaps(c->r, c->ino, pblk, len))
		return 0;
	return check_report(c, ESCK_PR_MAP_ON_METADATA, lblk, len, pblk);
}

/* An indirect block's "pointers" would be whatever metadata holds. */
static int check_ind(void *arg, uint64_t blk)
{
	struct icheck *c = arg;

	return replay_meta_overlaps(c->r, c->ino, blk, 1);
}

static int check_bad(void *arg, uint64_t lblk, uint64_t blk, int depth)
{
	struct icheck *c = arg;

	if (depth)
		return check_report(c, ESCK_PR_MAP_IND_BLOCK, ESCK_NONE,
				    ESCK_NONE, blk);
	return check_report(c, ESCK_PR_MAP_OUT_OF_RANGE, lblk, 1, blk);
}

errcode_t replay_ind_check(struct esck_replay *r, uint32_t ino,
			   struct ext2_inode *inode, esck_problem_fn report,
			   void *arg)
{
	struct icheck c = { r, ino, report, arg };
	struct iwalk w;
	struct imap m;
	errcode_t retval;

	retval = imap_open(&m, r->fs, inode);
	if (!retval) {
		memset(&w, 0, sizeof(w));
		w.m = &m;
		w.lo = 0;
		w.hi = UINT64_MAX;
		w.fn = check_run;
		w.bad = check_bad;
		w.ind_refused = check_ind;
		w.arg = &c;
		retval = walk(&w);
	}
	imap_close(&m);
	return retval;
}

/* ---- the cache and its verification ---- */

struct cache_ctx {
	struct replay_file *f;
	uint64_t next;
	int modify;
};

static void cache_put(struct cache_ctx *c, uint64_t lblk, uint64_t len,
		      uint64_t pblk, unsigned int type)
{
	if (c->modify)
		es_insert(&c->f->tree, (uint32_t)lblk, (uint32_t)len, pblk,
			  type);
	else
		es_cache_extent(&c->f->tree, (uint32_t)lblk, (uint32_t)len,
				pblk, type, NULL);
}

static int cache_run(void *arg, uint64_t lblk, uint64_t pblk, uint64_t len)
{
	struct cache_ctx *c = arg;

	if (lblk > c->next)
		cache_put(c, c->next, lblk - c->next, 0, ES_HOLE);
	cache_put(c, lblk, len, pblk, ES_WRITTEN);
	c->next = lblk + len;
	return 0;
}

errcode_t replay_ind_cache(struct esck_replay *r, struct replay_file *f,
			   struct ext2_inode *inode, uint32_t start,
			   uint32_t end, int modify)
{
	struct cache_ctx c = { f, start, modify };
	struct imap m;
	errcode_t retval;

	retval = imap_open(&m, r->fs, inode);
	if (!retval)
		retval = walk_runs(&m, start, end, cache_run, &c);
	imap_close(&m);
	/* A modify says all of the range: what nothing maps is a hole. */
	if (!retval && modify && c.next <= end)
		cache_put(&c, c.next, end - c.next + 1, 0, ES_HOLE);
	return retval;
}

static int compare_run(void *arg, uint64_t lblk, uint64_t pblk, uint64_t len)
{
	struct esck_raw_extent e = { (uint32_t)lblk, (uint32_t)len, pblk, 0 };

	esck_cmp_extent(arg, &e);
	return 0;
}

errcode_t replay_ind_compare(struct esck_replay *r, struct replay_file *f,
			     struct ext2_inode *inode, uint32_t lo,
			     uint32_t hi, esck_problem_fn report, void *arg)
{
	struct esck_cmp c;
	struct imap m;
	errcode_t retval;

	esck_cmp_start_range(&c, &f->tree, f->ino, lo, hi, report, arg);
	retval = imap_open(&m, r->fs, inode);
	if (!retval)
		retval = walk_runs(&m, lo, hi, compare_run, &c);
	imap_close(&m);
	if (!retval)
		esck_cmp_finish(&c);
	return retval;
}

/* ---- removing a range ---- */

static void free_flush(struct imap *m)
{
	if (!m->free_len)
		return;
	replay_stats_range(m->fs, m->free_start, (blk_t)m->free_len, -1);
	ext2fs_iblk_sub_blocks(m->fs, m->inode, m->free_len);
	m->free_len = 0;
}

static void free_blk(struct imap *m, uint64_t blk)
{
	if (m->free_len && m->free_start + m->free_len == blk) {
		m->free_len++;
		return;
	}
	free_flush(m);
	m->free_start = blk;
	m->free_len = 1;
}

/* blk and everything under it (depth levels of indirect blocks). */
static errcode_t free_tree(struct imap *m, uint64_t blk, int depth)
{
	uint32_t i, c;
	errcode_t retval;

	if (!valid_blk(m, blk))
		return ESCK_ET_CORRUPT_TREE;
	if (depth) {
		retval = read_ind(m, blk, depth);
		if (retval)
			return retval;
		for (i = 0; i < m->apb; i++) {
			c = ext2fs_le32_to_cpu(m->buf[depth][i]);
			if (!c)
				continue;
			retval = free_tree(m, c, depth - 1);
			if (retval)
				return retval;
		}
	}
	free_blk(m, blk);
	return 0;
}

static int all_zero(const uint32_t *v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (v[i])
			return 0;
	return 1;
}

/*
 * Remove [start, end) under the pointer *ent, whose subtree starts at lo
 * and has depth levels of indirect blocks; *ent becomes 0 when it goes.
 */
static errcode_t rm_entry(struct imap *m, uint32_t *ent, uint64_t lo, int depth,
			  uint64_t start, uint64_t end)
{
	uint64_t hi = lo + m->span[depth], child, i, first, last;
	uint32_t c, was;
	int dirty = 0;
	errcode_t retval;

	if (!*ent || hi <= start || lo >= end)
		return 0;
	if (lo >= start && hi <= end) {
		retval = free_tree(m, *ent, depth);
		if (!retval)
			*ent = 0;
		return retval;
	}
	/* Partly in the range: an indirect block (a data pointer is one block). */
	retval = read_ind(m, *ent, depth);
	if (retval)
		return retval;
	child = m->span[depth - 1];
	first = lo < start ? (start - lo) / child : 0;
	last = (end - 1 - lo) / child;
	if (last > m->apb - 1)
		last = m->apb - 1;
	for (i = first; i <= last; i++) {
		c = was = ext2fs_le32_to_cpu(m->buf[depth][i]);
		retval = rm_entry(m, &c, lo + i * child, depth - 1, start, end);
		if (retval)
			return retval;
		if (c != was) {
			m->buf[depth][i] = ext2fs_cpu_to_le32(c);
			dirty = 1;
		}
	}
	/*
	 * An emptied block that does not reach past the range goes; the one
	 * holding the range's end stays, even empty, as the kernel's.
	 */
	if (hi <= end && all_zero(m->buf[depth], m->apb)) {
		free_blk(m, *ent);
		*ent = 0;
		return 0;
	}
	if (!dirty)
		return 0;
	return io_channel_write_blk64(m->fs->io, *ent, 1, m->buf[depth]);
}

errcode_t replay_ind_remove_space(struct esck_replay *r,
				  struct ext2_inode *inode, uint32_t start,
				  uint32_t end)
{
	struct imap m;
	uint64_t lo, e = end >= LBLK_LAST ? UINT64_MAX : (uint64_t)end + 1;
	uint32_t ent;
	errcode_t retval;
	int i, depth;

	if (start > end)
		return 0;
	retval = imap_open(&m, r->fs, inode);
	for (i = 0; i < EXT2_N_BLOCKS && !retval; i++) {
		lo = root_lo(&m, i, &depth);
		ent = inode->i_block[i];
		retval = rm_entry(&m, &ent, lo, depth, start, e);
		if (!retval)
			inode->i_block[i] = ent;
	}
	if (!retval)
		free_flush(&m);
	imap_close(&m);
	return retval;
}

/* ---- mapping blocks at writeback ---- */

/*
 * Where to allocate next to the pointer at slots[off] (ext4_find_near): the
 * nearest mapped block before it in the same array, else the indirect
 * block holding the array, else the inode's goal.
 */
static blk64_t find_near(struct imap *m, uint32_t ino, const uint32_t *slots,
			 uint32_t off, int le, uint64_t container, uint64_t lblk)
{
	uint32_t v;

	while (off--) {
		v = le ? ext2fs_le32_to_cpu(slots[off]) : slots[off];
		if (v)
			return v;
	}
	if (container)
		return container;
	return ext2fs_find_inode_goal(m->fs, ino, m->inode, lblk);
}

static errcode_t new_block(struct imap *m, blk64_t *goal, blk64_t *ret)
{
	errcode_t retval;

	retval = ext2fs_new_block2(m->fs, *goal, NULL, ret);
	if (retval == EXT2_ET_BLOCK_ALLOC_FAIL)
		retval = ENOSPC;
	if (retval)
		return retval;
	replay_stats_range(m->fs, *ret, 1, +1);
	*goal = *ret + 1;
	return ext2fs_iblk_add_blocks(m->fs, m->inode, 1);
}

errcode_t replay_ind_alloc(struct esck_replay *r, uint32_t ino,
			   struct ext2_inode *inode, uint32_t lblk,
			   uint32_t want, uint64_t *pblk, uint32_t *got)
{
	struct imap m;
	uint64_t lo, container = 0, off;
	uint32_t *slots, n, k;
	blk64_t goal = 0, b, p, plen;
	int i, depth, le = 0, have_goal = 0;
	errcode_t retval;

	retval = imap_open(&m, r->fs, inode);
	if (retval)
		goto out;
	for (i = EXT2_N_BLOCKS - 1; i > 0; i--)
		if (root_lo(&m, i, &depth) <= lblk)
			break;
	lo = root_lo(&m, i, &depth);
	if (lblk - lo >= m.span[depth]) {
		retval = EXT2_ET_FILE_TOO_BIG;
		goto out;
	}
	/* Down the path: the missing indirect blocks first, as ext4_alloc_branch. */
	slots = inode->i_block;
	off = (uint64_t)i;
	for (; depth > 0; depth--) {
		b = le ? ext2fs_le32_to_cpu(slots[off]) : slots[off];
		if (!b) {
			if (!have_goal)
				goal = find_near(&m, ino, slots, (uint32_t)off,
						 le, container, lblk);
			have_goal = 1;
			retval = new_block(&m, &goal, &b);
			if (retval)
				goto out;
			memset(m.buf[depth], 0, r->fs->blocksize);
			retval = io_channel_write_blk64(r->fs->io, b, 1,
							m.buf[depth]);
			if (retval)
				goto out;
			if (le) {
				slots[off] = ext2fs_cpu_to_le32((uint32_t)b);
				retval = io_channel_write_blk64(
					r->fs->io, container, 1, slots);
				if (retval)
					goto out;
			} else {
				slots[off] = (uint32_t)b;
			}
		}
		retval = read_ind(&m, b, depth);
		if (retval)
			goto out;
		slots = m.buf[depth];
		le = 1;
		container = b;
		off = (lblk - lo) / m.span[depth - 1];
		lo += off * m.span[depth - 1];
	}
	/*
	 * The data: as many blocks as asked that this array still holds, just
	 * after the new indirect blocks, else after the nearest mapped block.
	 */
	n = (le ? m.apb : EXT2_NDIR_BLOCKS) - (uint32_t)off;
	if (n > want)
		n = want;
	if (!have_goal)
		goal = find_near(&m, ino, slots, (uint32_t)off, le, container,
				 lblk) + 1;
	retval = ext2fs_new_range(r->fs, 0, goal, n, NULL, &p, &plen);
	if (retval == EXT2_ET_BLOCK_ALLOC_FAIL)
		retval = ENOSPC;
	if (retval)
		goto out;
	replay_stats_range(r->fs, p, (blk_t)plen, +1);
	retval = ext2fs_iblk_add_blocks(r->fs, inode, plen);
	if (retval)
		goto out;
	for (k = 0; k < plen; k++) {
		if (le)
			slots[off + k] = ext2fs_cpu_to_le32((uint32_t)(p + k));
		else
			slots[off + k] = (uint32_t)(p + k);
	}
	if (le)
		retval = io_channel_write_blk64(r->fs->io, container, 1, slots);
	if (!retval) {
		*pblk = p;
		*got = (uint32_t)plen;
	}
out:
	imap_close(&m);
	return retval;
}
