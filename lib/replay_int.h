/* replay_int.h --- state shared by the replay engine's files (replay*.c) */
#ifndef ESCK_REPLAY_INT_H
#define ESCK_REPLAY_INT_H

#include "esck_int.h"
#include "replay.h"
#include "txio.h"

/* One file the script has selected, with its own cache tree. */
struct replay_file {
	uint32_t ino;  /* 0: created by a dry run, exists only in the cache */
	uint64_t size; /* i_size as the replay believes it */
	struct es_tree tree;
};

#define REPLAY_MAX_RESV 8 /* > the deepest extent tree plus one */

struct esck_replay {
	char *image;
	struct esck_replay_opts opts;
	ext2_filsys fs;
	int mount_state;
	struct es_cache cache;
	struct replay_file **files;
	size_t nr_files, cap_files;
	struct replay_file *cur;
	char *buf; /* one block */

	/* Blocks reserved for extent splits, handed out by the alloc hook. */
	blk64_t resv[REPLAY_MAX_RESV];
	unsigned int nr_resv, used_resv;

	/* The op being replayed, for reporting. */
	const struct esck_op *op;
	const struct esck_replay_ops *ops;
	struct esck_replay_summary *sum;
	uint32_t vlo, vhi;  /* verification range, inclusive */
	const char *detail; /* extra words for an op error, or NULL */
};

/* replay_extent.c */
/*
 * Unmap the logical blocks [start, end] (inclusive) of an extent-mapped
 * inode, freeing data blocks and emptied tree nodes, and lowering i_blocks
 * in *inode.  A range strictly inside an extent splits it; the node blocks
 * that may need must have been reserved (replay_reserve_split).
 */
errcode_t replay_remove_space(struct esck_replay *r, uint32_t ino,
			      struct ext2_inode *inode, uint32_t start,
			      uint32_t end);
/*
 * Reserve the node blocks removing [start, end] can need; ENOSPC if it cannot.
 */
errcode_t replay_reserve_split(struct esck_replay *r, uint32_t ino,
			       struct ext2_inode *inode, uint32_t start,
			       uint32_t end);
/* Unwritten extents over the holes of [start, end] (inclusive). */
errcode_t replay_falloc(struct esck_replay *r, uint32_t ino,
			struct ext2_inode *inode, uint32_t start, uint32_t end);
/* Give back the reserved blocks no split took. */
void replay_release_reserve(struct esck_replay *r);
/* The type of lblk on disk: ES_WRITTEN, ES_UNWRITTEN or ES_HOLE, with *pblk. */
errcode_t replay_disk_lookup(struct esck_replay *r, uint32_t ino,
			     struct ext2_inode *inode, uint32_t lblk,
			     unsigned int *type, uint64_t *pblk);
/* Load the inode's extents over what the cache does not already cover. */
errcode_t replay_load_cache(struct esck_replay *r, struct replay_file *f);
/* es_insert() the on-disk state of [start, end] into the cache. */
errcode_t replay_cache_range(struct esck_replay *r, struct replay_file *f,
			     uint32_t start, uint32_t end);

/* replay_orphan.c: the orphan file, walked as the kernel's orphan cleanup does */
struct replay_ofile_pos {
	uint64_t lblk;		/* block of the orphan file */
	unsigned int slot;	/* entry in that block */
	blk64_t pblk;		/* where the block is */
};
/*
 * The entry at or after *pos that holds an inode (*ino 0: none left).
 * ESCK_ET_CORRUPT_ORPHAN_FILE for a block without the orphan block magic or
 * outside the filesystem, ESCK_ET_BAD_INODE for an entry out of range.
 */
errcode_t replay_ofile_next(struct esck_replay *r, struct replay_ofile_pos *pos,
			    uint32_t *ino);
/* Zero the entry at *pos, re-checksum and write its block. */
errcode_t replay_ofile_clear(struct esck_replay *r, const struct replay_ofile_pos *pos);
/* With no entry left, clear the orphan_present flag (superblock dirty). */
errcode_t replay_ofile_done(struct esck_replay *r);

/* replay_verify.c */
/*
 * Compare the cache with the disk over [lo, hi] (inclusive) and check i_size.
 */
errcode_t replay_verify(struct esck_replay *r, struct replay_file *f,
			uint32_t lo, uint32_t hi);

#endif /* ESCK_REPLAY_INT_H */
