/* replay_bitmap.c --- write back only the block bitmaps and descriptors of the groups an op changed */
/*
 * Why this exists: ext2fs_write_bitmaps() writes the block bitmap of every
 * initialised group whenever any bit changed, so each replayed op rewrote
 * (and, through the transaction layer, first saved) dozens of bitmap blocks
 * on a large filesystem to free one block.  Every change to the in-memory
 * block bitmap that an op makes goes through ext2fs_block_alloc_stats2() or
 * ext2fs_block_alloc_stats_range() -- the extent code's frees and
 * allocations, ours, and the split reservations once used -- so their
 * callbacks name the groups to write, and only those are written, in the
 * on-disk form ext2fs_write_bitmaps() gives them: padding bits of the last
 * group set, bitmap and descriptor checksums updated.  Inode bitmaps, which
 * only orphan releases touch, still go through libext2fs.
 *
 * The same holds for the descriptors: ext2fs_flush2() visits every group
 * and writes the whole descriptor table, 32 MiB on a 16 TiB filesystem of
 * 4 KiB blocks, for each op.  replay_flush() writes the descriptor blocks
 * of those groups and the primary superblock, as ext2fs_flush2() would
 * with EXT2_FLAG_MASTER_SB_ONLY, and leaves anything else to it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay_int.h"

static void mark_group(struct esck_replay *r, dgrp_t g)
{
	if (!r->bb_dirty || g >= r->fs->group_desc_count || r->bb_dirty[g])
		return;
	r->bb_dirty[g] = 1;
	r->bb_list[r->nr_bb++] = g;
}

static void on_alloc_stats(ext2_filsys fs, blk64_t blk, int inuse)
{
	struct esck_replay *r = fs->priv_data;

	(void)inuse;
	if (!r)
		return;
	r->meta_touched = 1;
	mark_group(r, ext2fs_group_of_blk2(fs, blk));
}

static void mark_range(struct esck_replay *r, blk64_t blk, blk_t num)
{
	dgrp_t g, last;

	if (!num)
		return;
	/* A block past the end has no group; dgrp_t must not wrap either. */
	last = ext2fs_group_of_blk2(r->fs, blk + num - 1);
	if (last >= r->fs->group_desc_count)
		last = r->fs->group_desc_count - 1;
	for (g = ext2fs_group_of_blk2(r->fs, blk); g <= last; g++)
		mark_group(r, g);
}

/*
 * 1.47.0 hands this hook the range it has consumed (num 0; fixed in
 * 1.47.4, 520caea1), so a range this replay frees or allocates is noted
 * by replay_stats_range() before the call; any other caller makes every
 * group suspect.
 */
static void on_alloc_stats_range(ext2_filsys fs, blk64_t blk, blk_t num, int inuse)
{
	struct esck_replay *r = fs->priv_data;

	(void)inuse;
	if (!r || r->bb_own)
		return;
	r->meta_touched = 1;
	if (num)
		mark_range(r, blk, num);
	else
		r->bb_all = 1;
}

void replay_stats_range(ext2_filsys fs, blk64_t blk, blk_t num, int inuse)
{
	struct esck_replay *r = fs->priv_data;

	if (r) {
		r->meta_touched = 1;
		if (r->bb_dirty) {
			mark_range(r, blk, num);
			r->bb_own = 1;
		}
	}
	ext2fs_block_alloc_stats_range(fs, blk, num, inuse);
	if (r)
		r->bb_own = 0;
}

errcode_t replay_bitmap_track(struct esck_replay *r)
{
	dgrp_t n = r->fs->group_desc_count;

	replay_bitmap_release(r);
	r->bb_dirty = calloc(n ? n : 1, 1);
	r->bb_list = calloc(n ? n : 1, sizeof(*r->bb_list));
	r->desc_dirty = calloc(r->fs->desc_blocks ? r->fs->desc_blocks : 1, 1);
	r->desc_list = calloc(r->fs->desc_blocks ? r->fs->desc_blocks : 1,
			      sizeof(*r->desc_list));
	if (!r->bb_dirty || !r->bb_list || !r->desc_dirty || !r->desc_list) {
		replay_bitmap_release(r);
		return ENOMEM;
	}
	r->fs->priv_data = r;
	ext2fs_set_block_alloc_stats_callback(r->fs, on_alloc_stats, NULL);
	ext2fs_set_block_alloc_stats_range_callback(r->fs, on_alloc_stats_range, NULL);
	return 0;
}

void replay_bitmap_release(struct esck_replay *r)
{
	free(r->bb_dirty);
	free(r->bb_list);
	free(r->desc_dirty);
	free(r->desc_list);
	r->desc_dirty = NULL;
	r->bb_dirty = NULL;
	r->bb_list = NULL;
	r->desc_list = NULL;
	r->nr_bb = 0;
	r->nr_desc = 0;
	r->bb_all = 0;
}

/* Group g's block bitmap block, as ext2fs_write_bitmaps() writes it. */
static errcode_t write_group(ext2_filsys fs, dgrp_t g, char *buf)
{
	unsigned int nbytes = EXT2_CLUSTERS_PER_GROUP(fs->super) / 8;
	__u64 first = EXT2FS_B2C(fs, fs->super->s_first_data_block) +
		      (__u64)g * EXT2_CLUSTERS_PER_GROUP(fs->super);
	blk64_t loc = ext2fs_block_bitmap_loc(fs, g);
	unsigned int nbits, j;
	errcode_t retval;

	/* An uninitialised group's bitmap is implied, not stored. */
	if (ext2fs_has_group_desc_csum(fs) &&
	    ext2fs_bg_flags_test(fs, g, EXT2_BG_BLOCK_UNINIT))
		return 0;
	memset(buf, 0xff, fs->blocksize);
	retval = ext2fs_get_block_bitmap_range2(fs->block_map, first, (size_t)nbytes * 8, buf);
	if (retval)
		return retval;
	if (g == fs->group_desc_count - 1) {
		/* The bits past the filesystem's end read as in use. */
		nbits = EXT2FS_NUM_B2C(fs, (ext2fs_blocks_count(fs->super) -
					    (__u64)fs->super->s_first_data_block) %
					   (__u64)EXT2_BLOCKS_PER_GROUP(fs->super));
		if (nbits)
			for (j = nbits; j < fs->blocksize * 8; j++)
				ext2fs_set_bit(j, buf);
	}
	retval = ext2fs_block_bitmap_csum_set(fs, g, buf, (int)nbytes);
	if (retval)
		return retval;
	ext2fs_group_desc_csum_set(fs, g);
	ext2fs_mark_super_dirty(fs);
	if (!loc)
		return 0;
	return io_channel_write_blk64(fs->io, loc, 1, buf);
}

errcode_t replay_bitmap_flush(struct esck_replay *r)
{
	ext2_filsys fs = r->fs;
	errcode_t retval = 0;
	dgrp_t i;
	char *buf;

	if (r->bb_all) {
		/* a change we could not place: every group, as libext2fs does */
		retval = ext2fs_write_bitmaps(fs);
		if (retval)
			return retval;
		for (i = 0; i < r->nr_bb; i++)
			r->bb_dirty[r->bb_list[i]] = 0;
		r->nr_bb = 0;
		r->bb_all = 0;
		return 0;
	}
	if ((fs->flags & EXT2_FLAG_BB_DIRTY) && r->bb_dirty) {
		buf = malloc(fs->blocksize);
		if (!buf)
			return ENOMEM;
		for (i = 0; i < r->nr_bb && !retval; i++)
			retval = write_group(fs, r->bb_list[i], buf);
		free(buf);
		if (retval)
			return retval;
		for (i = 0; i < r->nr_bb; i++)
			r->bb_dirty[r->bb_list[i]] = 0;
		r->nr_bb = 0;
		fs->flags &= ~EXT2_FLAG_BB_DIRTY;
	}
	/* The inode bitmaps, if an orphan release changed one; else nothing. */
	return ext2fs_write_bitmaps(fs);
}

/*
 * Whether the descriptors that changed are those of the noted groups: no
 * inode bitmap changed (an inode allocation or release changes its group's
 * counters), no change went unplaced, and the table is the classic one
 * (meta_bg spreads its copies over the disk).  Little-endian only, where
 * the table in memory is the one on disk.
 */
int replay_flush_deferrable(const struct esck_replay *r)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	(void)r;
	return 0;
#else
	return r->bb_dirty && !r->bb_all &&
	       !(r->fs->flags & EXT2_FLAG_IB_DIRTY) &&
	       !ext2fs_has_feature_meta_bg(r->fs->super);
#endif
}

/*
 * The primary superblock, as part of the block that holds it: switching
 * the channel to 1 KiB blocks and back, as libext2fs does, makes unix_io
 * free and allocate its cache twice (6 k instructions and four mallocs
 * an op on frag).
 */
static errcode_t write_super(ext2_filsys fs, char *buf)
{
	blk64_t blk = SUPERBLOCK_OFFSET / fs->blocksize;
	unsigned int off = SUPERBLOCK_OFFSET % fs->blocksize;
	errcode_t retval;

	fs->super->s_wtime = (__u32)(fs->now ? fs->now : time(NULL));
	fs->super->s_block_group_nr = 0;
	retval = ext2fs_superblock_csum_set(fs, fs->super);
	if (retval)
		return retval;
	retval = io_channel_read_blk64(fs->io, blk, 1, buf);
	if (retval)
		return retval;
	memcpy(buf + off, fs->super, SUPERBLOCK_SIZE);
	return io_channel_write_blk64(fs->io, blk, 1, buf);
}

errcode_t replay_flush(struct esck_replay *r)
{
	ext2_filsys fs = r->fs;
	unsigned int per = EXT2_DESC_PER_BLOCK(fs->super);
	blk64_t super_blk, desc_blk, new_desc_blk;
	errcode_t retval;
	dgrp_t i, d;

	if (!replay_flush_deferrable(r)) {
		retval = r->bb_dirty ? replay_bitmap_flush(r)
				     : ext2fs_write_bitmaps(fs);
		if (!retval && (fs->flags & EXT2_FLAG_DIRTY))
			retval = ext2fs_flush2(fs, EXT2_FLAG_FLUSH_NO_SYNC);
		return retval;
	}
	/* replay_bitmap_flush() forgets the groups: their blocks first */
	for (i = 0; i < r->nr_bb; i++) {
		d = r->bb_list[i] / per;
		if (!r->desc_dirty[d]) {
			r->desc_dirty[d] = 1;
			r->desc_list[r->nr_desc++] = d;
		}
	}
	retval = replay_bitmap_flush(r);
	/*
	 * Where ext2fs_flush2() writes the table: after group 0's superblock.
	 * (Not ext2fs_descriptor_block_loc2(): in 1.47.0 it adds the 1 KiB
	 * bigalloc offset of block 0 to the table's first block only.)
	 */
	ext2fs_super_and_bgd_loc2(fs, 0, &super_blk, &desc_blk, &new_desc_blk,
				  NULL);
	for (i = 0; i < r->nr_desc; i++) {
		d = r->desc_list[i];
		r->desc_dirty[d] = 0;
		if (retval || !(fs->flags & EXT2_FLAG_DIRTY))
			continue;
		retval = desc_blk ? io_channel_write_blk64(
			fs->io, desc_blk + d, 1,
			(char *)fs->group_desc + (size_t)d * fs->blocksize)
				  : EXT2_ET_GDESC_WRITE;
	}
	r->nr_desc = 0;
	if (!retval && (fs->flags & EXT2_FLAG_DIRTY))
		retval = write_super(fs, r->buf);
	if (!retval)
		fs->flags &= ~EXT2_FLAG_DIRTY;
	return retval;
}
