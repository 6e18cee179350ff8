/* replay_extent.c --- unmap ranges of extent trees, reserve split blocks, load and look up extents */
#include <errno.h>
#include <string.h>

#include "replay_int.h"

#include <ext2fs/ext3_extents.h> /* after ext2fs.h: EXT_UNINIT_MAX_LEN */

/*
 * The leaf extent after lblk (the handle is on the one at or before it), or 0.
 */
static int next_extent(ext2_extent_handle_t h, uint32_t lblk,
		       struct ext2fs_extent *n)
{
	struct ext2fs_extent e;

	if (ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e))
		return 0;
	if (e.e_lblk > lblk) {
		*n = e;
		return 1;
	}
	while (!ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &e)) {
		if (!(e.e_flags & EXT2_EXTENT_FLAGS_LEAF) ||
		    (e.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT))
			continue;
		if (e.e_lblk > lblk) {
			*n = e;
			return 1;
		}
	}
	return 0;
}

void replay_free_data(ext2_filsys fs, struct ext2_inode *inode, uint64_t pblk,
		      uint32_t n)
{
	/*
	 * Our own free, not ext2fs_punch(): 1.47.0's punch_extent_blocks
	 * refuses a run that ends at the filesystem's last block, after it
	 * has already shortened the extent (reference/e2fsprogs.md §1.9).
	 * Under bigalloc the run is whole clusters: the range call counts a
	 * group's free clusters as n / ratio, and i_blocks goes by clusters.
	 */
	if (!n)
		return;
	replay_stats_range(fs, pblk, n, -1);
	ext2fs_iblk_sub_blocks(fs, inode, EXT2FS_NUM_B2C(fs, n));
}

/*
 * The kernel's struct partial_cluster (kernel-es.md §5.6): a physical
 * cluster at the edge of what was removed so far, not freed yet (tofree:
 * decided by the next extent to the left) or never to be freed (nofree:
 * still used by a block to the right).
 */
enum pc_state { PC_INITIAL, PC_TOFREE, PC_NOFREE };

struct partial {
	uint64_t pclu;
	enum pc_state state;
};

static void free_cluster(ext2_filsys fs, struct ext2_inode *inode,
			 uint64_t pclu)
{
	replay_free_data(fs, inode, EXT2FS_C2B(fs, pclu), EXT2FS_CLUSTER_RATIO(fs));
}

/*
 * Free the tail [from, to] (logical) of the extent at lblk, pblk, len, as
 * ext4_remove_blocks does: a partial cluster at its end goes unless a
 * block to the right still uses it; one at its start is never freed here
 * but left to the extent to its left (tofree).
 */
static void remove_blocks(ext2_filsys fs, struct ext2_inode *inode,
			  struct partial *p, uint32_t lblk, uint64_t pblk,
			  uint32_t len, uint32_t from, uint32_t to)
{
	uint64_t ratio = EXT2FS_CLUSTER_RATIO(fs), mask = ratio - 1;
	uint64_t last = pblk + len - 1, start, c0, c1;
	uint32_t num = lblk + len - from;

	start = pblk + len - num;
	if (ratio == 1) {
		replay_free_data(fs, inode, start, num);
		return;
	}
	if (p->state != PC_INITIAL && p->pclu != EXT2FS_B2C(fs, last)) {
		if (p->state == PC_TOFREE)
			free_cluster(fs, inode, p->pclu);
		p->state = PC_INITIAL;
	}
	if ((to & mask) != mask && (to & ~mask) >= from &&
	    p->state != PC_NOFREE) {
		free_cluster(fs, inode, EXT2FS_B2C(fs, last));
		p->state = PC_INITIAL;
	}
	/* The clusters wholly inside the run (NOFREE_FIRST/LAST_CLUSTER). */
	c0 = (start + mask) / ratio;
	c1 = (start + num) / ratio;
	if (c1 > c0)
		replay_free_data(fs, inode, c0 * ratio, (uint32_t)((c1 - c0) * ratio));
	if (p->state != PC_INITIAL && p->pclu != EXT2FS_B2C(fs, start))
		p->state = PC_INITIAL;
	if ((from & mask) && num == len) {
		if (p->state == PC_INITIAL) {
			p->pclu = EXT2FS_B2C(fs, start);
			p->state = PC_TOFREE;
		}
	} else {
		p->state = PC_INITIAL;
	}
}

/*
 * The extent holding the first mapped block after lblk, if any (*found).
 */
static errcode_t extent_after(ext2_extent_handle_t h, uint32_t lblk,
			      struct ext2fs_extent *n, int *found)
{
	errcode_t retval;

	*found = 0;
	if (lblk >= LBLK_LAST)
		return 0;
	retval = ext2fs_extent_goto(h, lblk + 1);
	if (!retval) {
		*found = !ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, n);
		return 0;
	}
	if (retval == EXT2_ET_NO_CURRENT_NODE)
		return 0;
	if (retval != EXT2_ET_EXTENT_NOT_FOUND)
		return retval;
	*found = next_extent(h, lblk, n);
	return 0;
}

/*
 * The kernel's first step of a punch: if end falls strictly inside an
 * extent, split it at end + 1, so that the range ends on an extent end.
 * This is done even when the range covers the extent's head, and the
 * insert may grow the tree although the punch ends with no more extents
 * than it started with: the kernel's tree has that shape too.
 */
static errcode_t split_at_end(ext2_extent_handle_t h, uint32_t end)
{
	struct ext2fs_extent e, right;
	uint64_t es, ee;
	errcode_t retval;

	retval = ext2fs_extent_goto(h, end);
	if (retval == EXT2_ET_EXTENT_NOT_FOUND ||
	    retval == EXT2_ET_NO_CURRENT_NODE)
		return 0;
	if (retval)
		return retval;
	retval = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e);
	if (retval)
		return retval;
	es = e.e_lblk;
	ee = es + e.e_len - 1;
	if (ee <= end)
		return 0;
	right = e;
	right.e_lblk = (blk64_t)end + 1;
	right.e_pblk = e.e_pblk + (end + 1 - es);
	right.e_len = (uint32_t)(ee - end);
	retval = ext2fs_extent_insert(h, EXT2_EXTENT_INSERT_AFTER, &right);
	if (retval)
		return retval;
	retval = ext2fs_extent_fix_parents(h);
	if (retval)
		return retval;
	retval = ext2fs_extent_goto(h, es);
	if (retval)
		return retval;
	retval = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e);
	if (retval)
		return retval;
	e.e_len = (uint32_t)(end - es + 1);
	return ext2fs_extent_replace(h, 0, &e);
}

/*
 * Under bigalloc, a cluster left tofree when the walk ends goes unless the
 * extent to the left of lblk ends in it (the end of ext4_ext_rm_leaf, and
 * of ext4_ext_remove_space when nothing is left of it).
 */
static errcode_t settle_partial(ext2_filsys fs, ext2_extent_handle_t h,
				struct ext2_inode *inode, struct partial *p,
				uint32_t lblk)
{
	struct ext2fs_extent e;
	errcode_t retval;

	if (p->state != PC_TOFREE)
		return 0;
	p->state = PC_INITIAL;
	if (lblk) {
		retval = ext2fs_extent_goto(h, lblk - 1);
		if (retval && retval != EXT2_ET_EXTENT_NOT_FOUND &&
		    retval != EXT2_ET_NO_CURRENT_NODE)
			return retval;
		if (retval != EXT2_ET_NO_CURRENT_NODE &&
		    !ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e) &&
		    (e.e_flags & EXT2_EXTENT_FLAGS_LEAF) && e.e_len &&
		    e.e_lblk < lblk &&
		    EXT2FS_B2C(fs, e.e_pblk + e.e_len - 1) == p->pclu)
			return 0;
	}
	free_cluster(fs, inode, p->pclu);
	return 0;
}

/*
 * Right to left, as the kernel's ext4_ext_remove_space: after the split at
 * the end, each step unmaps the part of one extent that overlaps
 * [start, cur_end] -- all of it, or its tail -- then moves cur_end to just
 * before that extent.  The handle aliases *inode, so node frees and root
 * edits land in the caller's copy.  Under bigalloc a cluster is freed only
 * when no block of the file is left in it (kernel-es.md §5.6).
 */
errcode_t replay_remove_space(struct esck_replay *r, uint32_t ino,
			      struct ext2_inode *inode, uint32_t start,
			      uint32_t end, int may_split)
{
	ext2_filsys fs = r->fs;
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	struct partial p = {0, PC_INITIAL};
	uint32_t cur_end = end, es, ee, os, left = start;
	int found;
	errcode_t retval;

	if (start > end)
		return 0;
	if (!(inode->i_flags & EXT4_EXTENTS_FL))
		return replay_ind_remove_space(r, inode, start, end);
	retval = replay_leaf_remove(r, ino, inode, start, end, may_split,
				    &found);
	if (!retval && found && r->sum)
		r->sum->leaf_edits++;
	if (retval || found)
		return retval;
	retval = ext2fs_extent_open2(fs, ino, inode, &h);
	if (retval)
		return retval;
	if (end < LBLK_LAST && EXT2FS_CLUSTER_RATIO(fs) > 1) {
		/* The first block after the range keeps its cluster. */
		retval = extent_after(h, end, &e, &found);
		if (retval)
			goto out_free;
		if (found) {
			es = e.e_lblk > end + 1 ? (uint32_t)e.e_lblk : end + 1;
			p.pclu = EXT2FS_B2C(fs, e.e_pblk + (es - e.e_lblk));
			p.state = PC_NOFREE;
		}
	}
	if (end < LBLK_LAST && may_split) {
		retval = split_at_end(h, end);
		if (retval)
			goto out_free;
	}
	for (;;) {
		retval = ext2fs_extent_goto(h, cur_end);
		if (retval && retval != EXT2_ET_EXTENT_NOT_FOUND)
			goto out_free;
		retval = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e);
		if (retval == EXT2_ET_NO_CURRENT_NODE)
			break; /* the tree is empty; settle_partial sets retval */
		if (retval)
			goto out_free;
		if (!(e.e_flags & EXT2_EXTENT_FLAGS_LEAF) || !e.e_len) {
			retval = ESCK_ET_CORRUPT_TREE;
			goto out_free;
		}
		es = (uint32_t)e.e_lblk;
		ee = es + e.e_len - 1;
		if (es > cur_end || ee < start)
			break; /* nothing left in the range */
		if (ee > cur_end) {
			/*
			 * The split above makes this impossible; the kernel
			 * says the same.
			 */
			retval = ESCK_ET_CORRUPT_TREE;
			goto out_free;
		}
		os = es > start ? es : start;

		if (os == es) {
			struct ext2_extent_info info;
			int first;

			/* curr_entry counts from 1 */
			first = ext2fs_extent_get_info(h, &info) ||
				info.curr_entry <= 1;
			retval = ext2fs_extent_delete(h, 0);
			if (retval)
				goto out_free;
			remove_blocks(fs, inode, &p, es, e.e_pblk, e.e_len, os,
				      ee);
			/*
			 * Only the loss of a leaf's first entry changes a key
			 * above it (the kernel's ext4_ext_rm_leaf corrects the
			 * index in that case alone), and fixing costs a walk
			 * from the root.  fix_parents ends by going back to
			 * where it started; when the delete emptied and freed
			 * the leaf, that place is gone (NOT_FOUND,
			 * NO_CURRENT_NODE) after the keys were fixed: the next
			 * goto repositions anyway.
			 */
			if (first)
				retval = ext2fs_extent_fix_parents(h);
			if (retval == EXT2_ET_NO_CURRENT_NODE ||
			    retval == EXT2_ET_EXTENT_NOT_FOUND)
				retval = 0;
		} else {
			uint64_t pblk = e.e_pblk;

			e.e_len = os - es;
			retval = ext2fs_extent_replace(h, 0, &e);
			if (!retval)
				remove_blocks(fs, inode, &p, es, pblk,
					      ee - es + 1, os, ee);
		}
		if (retval)
			goto out_free;
		left = os;
		if (os <= start)
			break;
		cur_end = os - 1;
	}
	retval = settle_partial(fs, h, inode, &p, left);
out_free:
	ext2fs_extent_free(h);
	return retval;
}

errcode_t replay_disk_run(ext2_extent_handle_t h, uint32_t lblk, uint32_t end,
			  unsigned int *type, uint64_t *pblk, uint32_t *len)
{
	struct ext2fs_extent e;
	uint64_t stop = end;
	errcode_t retval;

	retval = ext2fs_extent_goto(h, lblk);
	if (!retval) {
		retval = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e);
		if (retval)
			return retval;
		*type = (e.e_flags & EXT2_EXTENT_FLAGS_UNINIT) ? ES_UNWRITTEN
							       : ES_WRITTEN;
		*pblk = e.e_pblk + (lblk - e.e_lblk);
		if (e.e_lblk + e.e_len - 1 < stop)
			stop = e.e_lblk + e.e_len - 1;
		*len = (uint32_t)(stop - lblk + 1);
		return 0;
	}
	if (retval != EXT2_ET_EXTENT_NOT_FOUND &&
	    retval != EXT2_ET_NO_CURRENT_NODE)
		return retval;
	*type = ES_HOLE;
	*pblk = 0;
	if (retval == EXT2_ET_EXTENT_NOT_FOUND && next_extent(h, lblk, &e) &&
	    e.e_lblk - 1 < stop)
		stop = e.e_lblk - 1;
	*len = (uint32_t)(stop - lblk + 1);
	return 0;
}

/*
 * Can a and b (a left of b) be one unwritten extent, as
 * ext4_can_extents_be_merged?
 */
static int can_merge(const struct ext2fs_extent *a,
		     const struct ext2fs_extent *b)
{
	return (a->e_flags & EXT2_EXTENT_FLAGS_UNINIT) &&
	       (b->e_flags & EXT2_EXTENT_FLAGS_UNINIT) &&
	       a->e_lblk + a->e_len == b->e_lblk &&
	       a->e_pblk + a->e_len == b->e_pblk &&
	       a->e_len + b->e_len <= EXT_UNINIT_MAX_LEN;
}

/* Map the unwritten run ex (a hole until now), merging with its neighbours. */
static errcode_t insert_unwritten(ext2_extent_handle_t h,
				  struct ext2fs_extent *ex)
{
	struct ext2fs_extent prev, next;
	int have_prev = 0, have_next = 0;
	errcode_t retval;

	retval = ext2fs_extent_goto(h, ex->e_lblk);
	if (!retval)
		return ESCK_ET_CORRUPT_TREE; /* not a hole after all */
	if (retval == EXT2_ET_EXTENT_NOT_FOUND &&
	    !ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &prev))
		have_prev = prev.e_lblk < ex->e_lblk;
	else if (retval != EXT2_ET_EXTENT_NOT_FOUND &&
		 retval != EXT2_ET_NO_CURRENT_NODE)
		return retval;
	if (have_prev || retval == EXT2_ET_EXTENT_NOT_FOUND)
		have_next = next_extent(h, (uint32_t)ex->e_lblk, &next);

	if (have_prev && can_merge(&prev, ex)) {
		prev.e_len += ex->e_len;
		if (have_next && can_merge(&prev, &next)) {
			/*
			 * Both sides: the right one goes, the left one grows
			 * over it.
			 */
			retval = ext2fs_extent_goto(h, next.e_lblk);
			if (!retval)
				retval = ext2fs_extent_delete(h, 0);
			if (!retval) {
				retval = ext2fs_extent_fix_parents(h);
				if (retval == EXT2_ET_NO_CURRENT_NODE ||
				    retval == EXT2_ET_EXTENT_NOT_FOUND)
					retval = 0;
			}
			if (retval)
				return retval;
			prev.e_len += next.e_len;
		}
		retval = ext2fs_extent_goto(h, prev.e_lblk);
		if (!retval)
			retval = ext2fs_extent_replace(h, 0, &prev);
		return retval;
	}
	if (have_next && can_merge(ex, &next)) {
		next.e_lblk = ex->e_lblk;
		next.e_pblk = ex->e_pblk;
		next.e_len += ex->e_len;
		retval = ext2fs_extent_goto(h, ex->e_lblk + ex->e_len);
		if (!retval)
			retval = ext2fs_extent_replace(h, 0, &next);
		if (!retval)
			retval = ext2fs_extent_fix_parents(h);
		return retval;
	}
	/*
	 * Position on the extent before (insert after it), or the first one
	 * (insert before).
	 */
	retval = ext2fs_extent_goto(h, ex->e_lblk);
	if (retval == EXT2_ET_EXTENT_NOT_FOUND && have_prev)
		retval = ext2fs_extent_insert(h, EXT2_EXTENT_INSERT_AFTER, ex);
	else if (retval == EXT2_ET_EXTENT_NOT_FOUND ||
		 retval == EXT2_ET_NO_CURRENT_NODE)
		retval = ext2fs_extent_insert(h, 0, ex);
	if (!retval)
		retval = ext2fs_extent_fix_parents(h);
	return retval;
}

/*
 * The physical cluster (its first block) backing lblk's logical cluster, 0
 * if no block of that cluster is mapped.
 */
static errcode_t cluster_backing(ext2_filsys fs, ext2_extent_handle_t h,
				 uint32_t lblk, blk64_t *base)
{
	uint32_t mask = EXT2FS_CLUSTER_MASK(fs), lb = lblk & ~mask;
	uint32_t last = lb + mask, rlen;
	unsigned int type;
	uint64_t pblk;
	errcode_t retval;

	*base = 0;
	for (; lb <= last && lb <= LBLK_LAST; lb += rlen) {
		retval = replay_disk_run(h, lb, last, &type, &pblk, &rlen);
		if (retval)
			return retval;
		if (type != ES_HOLE) {
			*base = pblk & ~(uint64_t)mask;
			return 0;
		}
	}
	return 0;
}

errcode_t replay_alloc_run(struct esck_replay *r, ext2_extent_handle_t h,
			   uint32_t ino, struct ext2_inode *inode,
			   uint32_t lblk, uint32_t *len, blk64_t *pblk)
{
	ext2_filsys fs = r->fs;
	uint32_t ratio = EXT2FS_CLUSTER_RATIO(fs), off = lblk & (ratio - 1);
	uint64_t n = *len, next;
	blk64_t goal, base, p, plen;
	struct ext2fs_extent e;
	int found;
	errcode_t retval;

	if (ratio > 1) {
		retval = cluster_backing(fs, h, lblk, &base);
		if (retval)
			return retval;
		if (base) {
			if (n > ratio - off)
				n = ratio - off;
			*len = (uint32_t)n;
			*pblk = base + off;
			return 0;
		}
		/*
		 * New clusters stop before the cluster of the next mapped
		 * block (ext4_ext_check_overlap): that one has its own.
		 */
		retval = extent_after(h, lblk, &e, &found);
		if (retval)
			return retval;
		next = found ? (e.e_lblk & ~(uint64_t)(ratio - 1)) : 0;
		if (found && next > lblk && next - lblk < n)
			n = next - lblk;
	}
	goal = ext2fs_find_inode_goal(fs, ino, inode, (blk64_t)lblk);
	goal -= goal % ratio;
	retval = ext2fs_new_range(fs, 0, goal,
				  (n + off + ratio - 1) / ratio * ratio, NULL,
				  &p, &plen);
	if (retval == EXT2_ET_BLOCK_ALLOC_FAIL)
		retval = ENOSPC;
	if (retval)
		return retval;
	/* Whole clusters, as the cluster bitmap gives them. */
	plen -= plen % ratio;
	if (!plen || p % ratio)
		return EXT2_ET_BLOCK_ALLOC_FAIL;
	replay_stats_range(fs, p, (blk_t)plen, +1);
	retval = ext2fs_iblk_add_blocks(fs, inode, plen / ratio);
	if (retval)
		return retval;
	if (n > plen - off)
		n = plen - off;
	*len = (uint32_t)n;
	*pblk = p + off;
	return 0;
}

errcode_t replay_merge_right(ext2_extent_handle_t h, uint32_t lblk)
{
	struct ext2fs_extent e, n;
	unsigned int max;
	errcode_t retval;

	retval = ext2fs_extent_goto(h, lblk);
	if (retval == EXT2_ET_EXTENT_NOT_FOUND)
		return 0;
	if (!retval)
		retval = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e);
	if (retval)
		return retval;
	retval = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_SIB, &n);
	if (retval == EXT2_ET_EXTENT_NO_NEXT)
		return 0;
	if (retval)
		return retval;
	max = (e.e_flags & EXT2_EXTENT_FLAGS_UNINIT) ? EXT_UNINIT_MAX_LEN
						      : EXT_INIT_MAX_LEN;
	if (((e.e_flags ^ n.e_flags) & EXT2_EXTENT_FLAGS_UNINIT) ||
	    e.e_lblk + e.e_len != n.e_lblk || e.e_pblk + e.e_len != n.e_pblk ||
	    e.e_len + n.e_len > max)
		return 0;
	/* n is not the first of its leaf: no key above changes. */
	retval = ext2fs_extent_delete(h, 0);
	if (!retval)
		retval = ext2fs_extent_goto(h, (blk64_t)e.e_lblk);
	if (retval)
		return retval;
	e.e_len += n.e_len;
	return ext2fs_extent_replace(h, 0, &e);
}

/*
 * fallocate(2) mode 0 / KEEP_SIZE on an extent file: unwritten extents over
 * the holes of [start, end], existing blocks untouched.  Our own, not
 * ext2fs_fallocate(): 1.47.0's fills the whole gap up to the next extent
 * (149805bf), mapping blocks the kernel never would.
 */
errcode_t replay_falloc(struct esck_replay *r, uint32_t ino,
			struct ext2_inode *inode, uint32_t start, uint32_t end)
{
	ext2_filsys fs = r->fs;
	ext2_extent_handle_t h;
	struct ext2fs_extent e, n, ex;
	uint64_t lblk = start, hole_end, want;
	blk64_t pblk;
	uint32_t plen;
	errcode_t retval;

	retval = ext2fs_extent_open2(fs, ino, inode, &h);
	if (retval)
		return retval;
	while (lblk <= end) {
		retval = ext2fs_extent_goto(h, lblk);
		if (!retval) {
			retval = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e);
			if (retval)
				break;
			lblk = e.e_lblk + e.e_len; /* mapped: skip it */
			continue;
		}
		if (retval != EXT2_ET_EXTENT_NOT_FOUND &&
		    retval != EXT2_ET_NO_CURRENT_NODE)
			break;
		hole_end = end;
		if (retval == EXT2_ET_EXTENT_NOT_FOUND &&
		    next_extent(h, (uint32_t)lblk, &n) &&
		    n.e_lblk - 1 < hole_end)
			hole_end = n.e_lblk - 1;
		want = hole_end - lblk + 1;
		if (want > EXT_UNINIT_MAX_LEN)
			want = EXT_UNINIT_MAX_LEN;
		plen = (uint32_t)want;
		retval = replay_alloc_run(r, h, ino, inode, (uint32_t)lblk,
					  &plen, &pblk);
		if (retval)
			break;
		memset(&ex, 0, sizeof(ex));
		ex.e_lblk = lblk;
		ex.e_pblk = pblk;
		ex.e_len = plen;
		ex.e_flags = EXT2_EXTENT_FLAGS_UNINIT;
		retval = insert_unwritten(h, &ex);
		if (retval)
			break;
		lblk += plen;
	}
	ext2fs_extent_free(h);
	return retval;
}

/* fs->get_alloc_block while a reservation is active: reserved blocks only. */
static struct esck_replay *resv_owner;

static errcode_t resv_alloc(ext2_filsys fs, blk64_t goal, blk64_t *ret)
{
	struct esck_replay *r = resv_owner;

	(void)goal;
	if (!r || r->fs != fs || r->used_resv >= r->nr_resv)
		return EXT2_ET_BLOCK_ALLOC_FAIL;
	/*
	 * Still marked in the bitmap; ext2fs_alloc_block3 does the accounting.
	 */
	*ret = r->resv[r->used_resv++];
	return 0;
}

/* How many nodes on the path to lblk are full, from the leaf up. */
static errcode_t full_nodes_on_path(ext2_extent_handle_t h, uint32_t lblk,
				    unsigned int *full)
{
	struct ext2_extent_info info;
	struct ext2fs_extent e;
	errcode_t retval;

	*full = 0;
	retval = ext2fs_extent_goto(h, lblk);
	if (retval)
		return retval;
	for (;;) {
		retval = ext2fs_extent_get_info(h, &info);
		if (retval)
			return retval;
		if (info.num_entries < info.max_entries)
			return 0;
		(*full)++;
		if (info.curr_level == 0)
			return 0;
		retval = ext2fs_extent_get(h, EXT2_EXTENT_UP, &e);
		if (retval)
			return retval;
	}
}

errcode_t replay_reserve_split(struct esck_replay *r, uint32_t ino,
			       struct es_tree *t, struct ext2_inode *inode,
			       uint32_t start, uint32_t end, int *may_split)
{
	ext2_filsys fs = r->fs;
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	unsigned int need = 0, i;
	blk64_t goal, b;
	errcode_t retval;

	r->nr_resv = r->used_resv = 0;
	/* Removing from a block map never allocates. */
	if (start > end || end == LBLK_LAST ||
	    !(inode->i_flags & EXT4_EXTENTS_FL))
		return 0;
	/*
	 * The cache knows end + 1 is a hole on disk (a hole, or delayed):
	 * nothing to split, and no walk down the tree to learn it.  Were
	 * the cache wrong, the removal would meet an extent past end and
	 * fail as a corrupt tree, rolled back; the verification after
	 * every op compares the cache with the disk one block beyond.
	 */
	if (t && es_scan_range(t, ES_HOLE | ES_DELAYED, end + 1, end + 1)) {
		*may_split = 0;
		return 0;
	}
	retval = ext2fs_extent_open2(fs, ino, inode, &h);
	if (retval)
		return retval;
	/* Only an extent holding both end and end + 1 is split. */
	retval = ext2fs_extent_goto(h, end);
	if (retval == EXT2_ET_EXTENT_NOT_FOUND) {
		*may_split = 0;
		retval = 0;
		goto out_free;
	}
	if (retval)
		goto out_free;
	retval = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e);
	if (retval)
		goto out_free;
	if (e.e_lblk + e.e_len - 1 <= end) {
		*may_split = 0;
		goto out_free;
	}
	/* Each full node from the leaf up splits, the root included. */
	retval = full_nodes_on_path(h, end, &need);
	if (retval)
		goto out_free;
	if (need > REPLAY_MAX_RESV)
		need = REPLAY_MAX_RESV;
	goal = ext2fs_find_inode_goal(fs, ino, inode, 0);
	/* ext2fs_new_block2() may initialise a group's bitmap too */
	if (need)
		r->meta_touched = 1;
	for (i = 0; i < need; i++) {
		retval = ext2fs_new_block2(fs, goal, NULL, &b);
		if (retval) {
			replay_release_reserve(r);
			retval = retval == EXT2_ET_BLOCK_ALLOC_FAIL ? ENOSPC
								    : retval;
			goto out_free;
		}
		/*
		 * A node takes a cluster of its own under bigalloc, the
		 * kernel's at its first block; marking b marks that cluster.
		 */
		b -= b % EXT2FS_CLUSTER_RATIO(fs);
		ext2fs_mark_block_bitmap2(fs->block_map, b);
		r->resv[r->nr_resv++] = b;
		goal = b;
	}
	if (need) {
		resv_owner = r;
		ext2fs_set_alloc_block_callback(fs, resv_alloc, NULL);
	}
out_free:
	ext2fs_extent_free(h);
	return retval;
}

void replay_release_reserve(struct esck_replay *r)
{
	unsigned int i;

	if (r->fs && resv_owner == r)
		ext2fs_set_alloc_block_callback(r->fs, NULL, NULL);
	if (resv_owner == r)
		resv_owner = NULL;
	for (i = r->used_resv; i < r->nr_resv && r->fs; i++)
		ext2fs_unmark_block_bitmap2(r->fs->block_map, r->resv[i]);
	r->nr_resv = r->used_resv = 0;
}

errcode_t replay_disk_lookup(struct esck_replay *r, uint32_t ino,
			     struct ext2_inode *inode, uint32_t lblk,
			     unsigned int *type, uint64_t *pblk)
{
	int ret_flags = 0;
	blk64_t phys = 0;
	errcode_t retval;

	retval = ext2fs_bmap2(r->fs, ino, inode, NULL, 0, lblk, &ret_flags,
			      &phys);
	if (retval)
		return retval;
	*pblk = phys;
	if (!phys)
		*type = ES_HOLE;
	else
		*type = (ret_flags & BMAP_RET_UNINIT) ? ES_UNWRITTEN
						      : ES_WRITTEN;
	return 0;
}

/*
 * Walk the leaves overlapping [start, end]; cache each piece and the holes
 * between.
 */
static errcode_t walk_into_cache(struct esck_replay *r, struct replay_file *f,
				 uint32_t start, uint32_t end, int modify)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	struct ext2_inode inode;
	uint64_t next = start, s, t;
	unsigned int type;
	errcode_t retval;
	int op = EXT2_EXTENT_ROOT;

	retval = ext2fs_read_inode(r->fs, f->ino, &inode);
	if (retval)
		return retval;
	if (!(inode.i_flags & EXT4_EXTENTS_FL))
		return LINUX_S_ISREG(inode.i_mode) &&
				       !(inode.i_flags & EXT4_INLINE_DATA_FL) ?
			       replay_ind_cache(r, f, &inode, start, end, modify) :
			       0;
	retval = ext2fs_extent_open2(r->fs, f->ino, &inode, &h);
	if (retval)
		return retval;
	/*
	 * Start at the leaf holding start, not at the root: a range is O(its
	 * extents).
	 */
	if (start) {
		retval = ext2fs_extent_goto(h, start);
		if (!retval || retval == EXT2_ET_EXTENT_NOT_FOUND)
			op = EXT2_EXTENT_CURRENT;
	}
	for (;;) {
		retval = ext2fs_extent_get(h, op, &e);
		op = EXT2_EXTENT_NEXT;
		if (retval == EXT2_ET_EXTENT_NO_NEXT ||
		    retval == EXT2_ET_NO_CURRENT_NODE) {
			retval = 0;
			break;
		}
		if (retval && retval != EXT2_ET_EXTENT_CSUM_INVALID)
			break;
		retval = 0;
		if (!(e.e_flags & EXT2_EXTENT_FLAGS_LEAF) ||
		    (e.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT) || !e.e_len)
			continue;
		if (e.e_lblk > end)
			break;
		if (e.e_lblk + e.e_len - 1 < start)
			continue;
		s = e.e_lblk > start ? e.e_lblk : start;
		t = e.e_lblk + e.e_len - 1 < end ? e.e_lblk + e.e_len - 1 : end;
		if (s > next) {
			if (modify)
				es_insert(&f->tree, (uint32_t)next,
					  (uint32_t)(s - next), 0, ES_HOLE);
			else
				es_cache_extent(&f->tree, (uint32_t)next,
						(uint32_t)(s - next), 0,
						ES_HOLE, NULL);
		}
		type = (e.e_flags & EXT2_EXTENT_FLAGS_UNINIT) ? ES_UNWRITTEN
							      : ES_WRITTEN;
		if (modify)
			es_insert(&f->tree, (uint32_t)s, (uint32_t)(t - s + 1),
				  e.e_pblk + (s - e.e_lblk), type);
		else
			es_cache_extent(&f->tree, (uint32_t)s,
					(uint32_t)(t - s + 1),
					e.e_pblk + (s - e.e_lblk), type, NULL);
		next = t + 1;
	}
	/* A modify of a range says all of it: what no extent maps is a hole. */
	if (!retval && modify && next <= end)
		es_insert(&f->tree, (uint32_t)next, (uint32_t)(end - next + 1),
			  0, ES_HOLE);
	ext2fs_extent_free(h);
	return retval;
}

errcode_t replay_load_cache(struct esck_replay *r, struct replay_file *f)
{
	if (!f->ino)
		return 0;
	return walk_into_cache(r, f, 0, LBLK_LAST, 0);
}

errcode_t replay_cache_range(struct esck_replay *r, struct replay_file *f,
			     uint32_t start, uint32_t end)
{
	if (!f->ino || start > end)
		return 0;
	return walk_into_cache(r, f, start, end, 1);
}
