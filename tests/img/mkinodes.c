/* mkinodes.c --- put N one-block regular files into a fresh ext4 image fast, writing the inode tables whole, for tests/img/inodes.sh */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

/*
 * Usage: mkinodes IMAGE N EVERY
 * Inodes from the first free one on become regular files of one block,
 * each with one extent; every EVERY-th file has a depth-1 tree instead: an
 * index in the inode and one leaf block holding 5 one-block extents at
 * logical blocks 0, 2, 4, 6, 8 (more than the inode holds), i_size 9 blocks.  The blocks are allocated in
 * order and marked, the counts and checksums set; the data blocks are never
 * written (they read as zeros in a sparse image).  The files are linked
 * into no directory: e2fsck finds them unattached.  Writing each group's
 * inode table in one go instead of one ext2fs_write_inode() per inode is
 * what makes a million inodes take seconds.
 * The on-disk structures are filled in the host's byte order: little
 * endian hosts only.
 */

#define FIXED_TIME 1700000000

static void die(const char *what, errcode_t err)
{
	fprintf(stderr, "mkinodes: %s: %s\n", what, error_message(err));
	exit(1);
}

static blk64_t alloc_block(ext2_filsys fs, blk64_t *goal)
{
	blk64_t blk;
	errcode_t err = ext2fs_new_block2(fs, *goal, NULL, &blk);

	if (err)
		die("ext2fs_new_block2", err);
	ext2fs_block_alloc_stats2(fs, blk, +1);
	*goal = blk + 1;
	return blk;
}

#define DEEP_EXTENTS 5

/* A leaf block of DEEP_EXTENTS extents [2k] -> data[k], its checksum set. */
static void write_leaf(ext2_filsys fs, ext2_ino_t ino, blk64_t leaf, const blk64_t *data,
		       char *buf)
{
	struct ext3_extent_header *eh = (struct ext3_extent_header *)buf;
	struct ext3_extent *ex = (struct ext3_extent *)(eh + 1);
	errcode_t err;
	int k;

	memset(buf, 0, fs->blocksize);
	eh->eh_magic = EXT3_EXT_MAGIC;
	eh->eh_entries = DEEP_EXTENTS;
	eh->eh_max = (fs->blocksize - sizeof(*eh)) / sizeof(*ex);
	eh->eh_depth = 0;
	for (k = 0; k < DEEP_EXTENTS; k++) {
		ex[k].ee_block = 2 * k;
		ex[k].ee_len = 1;
		ex[k].ee_start_hi = (__u16)(data[k] >> 32);
		ex[k].ee_start = (__u32)data[k];
	}
	err = ext2fs_extent_block_csum_set(fs, ino, eh);
	if (err)
		die("ext2fs_extent_block_csum_set", err);
	err = io_channel_write_blk64(fs->io, leaf, 1, buf);
	if (err)
		die("writing a leaf block", err);
}

static void fill_inode(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *in,
		       blk64_t *goal, int deep, char *leafbuf)
{
	struct ext3_extent_header *eh = (struct ext3_extent_header *)in->i_block;
	unsigned int isize = EXT2_INODE_SIZE(fs->super);
	unsigned int sectors = fs->blocksize / 512;
	blk64_t data = alloc_block(fs, goal), leaf = 0;
	errcode_t err;
	int k;

	memset(in, 0, isize);
	in->i_mode = LINUX_S_IFREG | 0644;
	in->i_links_count = 1;
	in->i_size = fs->blocksize;
	in->i_atime = in->i_ctime = in->i_mtime = FIXED_TIME;
	in->i_flags = EXT4_EXTENTS_FL;
	if (isize > EXT2_GOOD_OLD_INODE_SIZE) {
		in->i_extra_isize = sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
		if (in->i_extra_isize > isize - EXT2_GOOD_OLD_INODE_SIZE)
			in->i_extra_isize = isize - EXT2_GOOD_OLD_INODE_SIZE;
		in->i_crtime = FIXED_TIME;
	}
	eh->eh_magic = EXT3_EXT_MAGIC;
	eh->eh_entries = 1;
	eh->eh_max = 4;
	if (deep) {
		struct ext3_extent_idx *ix = (struct ext3_extent_idx *)(eh + 1);
		blk64_t more[DEEP_EXTENTS];

		more[0] = data;
		for (k = 1; k < DEEP_EXTENTS; k++)
			more[k] = alloc_block(fs, goal);
		leaf = alloc_block(fs, goal);
		write_leaf(fs, ino, leaf, more, leafbuf);
		eh->eh_depth = 1;
		ix->ei_block = 0;
		ix->ei_leaf = (__u32)leaf;
		ix->ei_leaf_hi = (__u16)(leaf >> 32);
		in->i_size = (2 * DEEP_EXTENTS - 1) * fs->blocksize;
		in->i_blocks = (DEEP_EXTENTS + 1) * sectors;
	} else {
		struct ext3_extent *ex = (struct ext3_extent *)(eh + 1);

		eh->eh_depth = 0;
		ex->ee_block = 0;
		ex->ee_len = 1;
		ex->ee_start_hi = (__u16)(data >> 32);
		ex->ee_start = (__u32)data;
		in->i_blocks = sectors;
	}
	err = ext2fs_inode_csum_set(fs, ino, in);
	if (err)
		die("ext2fs_inode_csum_set", err);
	ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
}

int main(int argc, char **argv)
{
	ext2_filsys fs;
	unsigned long n, every, done = 0;
	unsigned int isize, ipg, ipb;
	char *table, *leafbuf;
	blk64_t goal;
	ext2_ino_t ino;
	errcode_t err;
	dgrp_t g;

	if (argc != 4) {
		fprintf(stderr, "usage: mkinodes IMAGE N EVERY\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	every = strtoul(argv[3], NULL, 10);
	err = ext2fs_open(argv[1], EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
	if (err)
		die(argv[1], err);
	err = ext2fs_read_bitmaps(fs);
	if (err)
		die("ext2fs_read_bitmaps", err);
	isize = EXT2_INODE_SIZE(fs->super);
	ipg = fs->super->s_inodes_per_group;
	ipb = fs->blocksize / isize;
	if (n > fs->super->s_free_inodes_count)
		die("not enough free inodes", EXT2_ET_INODE_ALLOC_FAIL);
	table = malloc((size_t)ipg * isize);
	leafbuf = malloc(fs->blocksize);
	if (!table || !leafbuf)
		die("malloc", EXT2_ET_NO_MEMORY);
	goal = ext2fs_group_first_block2(fs, 0);

	ino = EXT2_FIRST_INODE(fs->super);
	while (ext2fs_test_inode_bitmap2(fs->inode_map, ino))
		ino++;
	/* Group by group: read the part of the table to fill, fill, write it. */
	for (g = (ino - 1) / ipg; done < n && g < fs->group_desc_count; g++) {
		ext2_ino_t first = g * ipg + 1, i;
		unsigned int used = 0, blocks;

		if (ino < first)
			ino = first;
		for (i = ino; i < first + ipg && done + used < n; i++)
			used++;
		blocks = (i - first + ipb - 1) / ipb;
		err = io_channel_read_blk64(fs->io, ext2fs_inode_table_loc(fs, g), blocks, table);
		if (err)
			die("reading an inode table", err);
		for (i = ino; i < ino + used; i++) {
			unsigned long k = done + (i - ino);

			fill_inode(fs, i, (struct ext2_inode_large *)(table + (size_t)(i - first) * isize),
				   &goal, every && k % every == every - 1, leafbuf);
		}
		err = io_channel_write_blk64(fs->io, ext2fs_inode_table_loc(fs, g), blocks, table);
		if (err)
			die("writing an inode table", err);
		done += used;
		ino += used;
	}
	if (done < n)
		die("ran out of groups", EXT2_ET_INODE_ALLOC_FAIL);
	free(table);
	free(leafbuf);
	err = ext2fs_close_free(&fs);
	if (err)
		die("ext2fs_close", err);
	return 0;
}
