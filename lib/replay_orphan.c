/* replay_orphan.c --- the orphan file (orphan_file feature): find its entries, clear them, clear orphan_present */
/*
 * Why this exists: with the orphan_file feature the kernel records orphans
 * as inode numbers in the blocks of a special file rather than (or besides)
 * the s_last_orphan list, so a crash leaves entries there to complete.  Each
 * block holds ext2fs_inodes_per_orphan_block() little-endian slots, 0 for
 * free, then a tail with EXT4_ORPHAN_BLOCK_MAGIC and, under metadata_csum,
 * a checksum.  The kernel's orphan cleanup walks the list first, then the
 * file's blocks in order and their slots in order (fs/ext4/orphan.c), and
 * the RO_COMPAT orphan_present flag goes once no entry is left.
 */
#include <errno.h>
#include <string.h>

#include "replay_int.h"

/* The orphan file's inode and its number of blocks, or an error. */
static errcode_t ofile_inode(struct esck_replay *r, struct ext2_inode *inode,
			     uint64_t *nblocks)
{
	ext2_filsys fs = r->fs;
	uint32_t ino = fs->super->s_orphan_file_inum;
	errcode_t retval;

	if (!ino || ino > fs->super->s_inodes_count)
		return ESCK_ET_CORRUPT_ORPHAN_FILE;
	retval = ext2fs_read_inode(fs, ino, inode);
	if (retval)
		return retval;
	*nblocks = EXT2_I_SIZE(inode) / fs->blocksize;
	return 0;
}

/* Read block lblk of the orphan file into r->buf; *pblk is where it is. */
static errcode_t ofile_read(struct esck_replay *r, struct ext2_inode *inode,
			    uint64_t lblk, blk64_t *pblk)
{
	ext2_filsys fs = r->fs;
	uint32_t ino = fs->super->s_orphan_file_inum;
	struct ext4_orphan_block_tail *tail;
	errcode_t retval;

	retval = ext2fs_bmap2(fs, ino, inode, NULL, 0, lblk, NULL, pblk);
	if (retval)
		return retval;
	/* A hole or a block outside the filesystem: not an orphan file. */
	if (*pblk < fs->super->s_first_data_block ||
	    *pblk >= ext2fs_blocks_count(fs->super))
		return ESCK_ET_CORRUPT_ORPHAN_FILE;
	retval = io_channel_read_blk64(fs->io, *pblk, 1, r->buf);
	if (retval)
		return retval;
	tail = ext2fs_orphan_block_tail(fs, r->buf);
	if (ext2fs_le32_to_cpu(tail->ob_magic) != EXT4_ORPHAN_BLOCK_MAGIC)
		return ESCK_ET_CORRUPT_ORPHAN_FILE;
	return 0;
}

errcode_t replay_ofile_next(struct esck_replay *r, struct replay_ofile_pos *pos,
			    uint32_t *ino)
{
	int per_block = ext2fs_inodes_per_orphan_block(r->fs);
	struct ext2_inode inode;
	uint64_t nblocks;
	errcode_t retval;

	*ino = 0;
	retval = ofile_inode(r, &inode, &nblocks);
	if (retval)
		return retval;
	for (; pos->lblk < nblocks; pos->lblk++, pos->slot = 0) {
		const uint32_t *slots = (const uint32_t *)(void *)r->buf;

		retval = ofile_read(r, &inode, pos->lblk, &pos->pblk);
		if (retval)
			return retval;
		for (; pos->slot < (unsigned int)per_block; pos->slot++) {
			uint32_t v = ext2fs_le32_to_cpu(slots[pos->slot]);

			if (!v)
				continue;
			if (v > r->fs->super->s_inodes_count)
				return ESCK_ET_BAD_INODE;
			*ino = v;
			return 0;
		}
	}
	return 0;
}

errcode_t replay_ofile_clear(struct esck_replay *r, const struct replay_ofile_pos *pos)
{
	ext2_filsys fs = r->fs;
	uint32_t *slots = (uint32_t *)(void *)r->buf;
	struct ext2_inode inode;
	uint64_t nblocks;
	blk64_t pblk;
	errcode_t retval;

	retval = ofile_inode(r, &inode, &nblocks);
	if (retval)
		return retval;
	if (pos->lblk >= nblocks)
		return EINVAL;
	retval = ofile_read(r, &inode, pos->lblk, &pblk);
	if (retval)
		return retval;
	slots[pos->slot] = 0;
	retval = ext2fs_orphan_file_block_csum_set(fs, fs->super->s_orphan_file_inum,
						   pblk, r->buf);
	if (retval)
		return retval;
	return io_channel_write_blk64(fs->io, pblk, 1, r->buf);
}

errcode_t replay_ofile_done(struct esck_replay *r)
{
	struct replay_ofile_pos pos;
	uint32_t ino;
	errcode_t retval;

	memset(&pos, 0, sizeof(pos));
	retval = replay_ofile_next(r, &pos, &ino);
	if (retval || ino)
		return retval;
	if (ext2fs_has_feature_orphan_present(r->fs->super)) {
		ext2fs_clear_feature_orphan_present(r->fs->super);
		ext2fs_mark_super_dirty(r->fs);
	}
	return 0;
}
