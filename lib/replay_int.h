/* replay_int.h --- state shared by the replay engine's files (replay*.c) */
#ifndef ESCK_REPLAY_INT_H
#define ESCK_REPLAY_INT_H

#include "esck_int.h"
#include "replay.h"
#include "txio.h"

/*
 * One dirty block of pwrite data not written back yet: the page cache's
 * role.  The block holds fill repeated when buf is NULL, else buf's
 * blocksize bytes.
 */
struct replay_pblock {
	uint32_t lblk;
	uint8_t fill;
	uint8_t *buf;
};

/* A file's dirty blocks, sorted by lblk, no two alike. */
struct replay_pending {
	struct replay_pblock *v;
	size_t nr, cap;
};

/* One file the script has selected, with its own cache tree. */
struct replay_file {
	uint32_t ino;  /* 0: created by a dry run, exists only in the cache */
	uint64_t size; /* i_size as the replay believes it */
	struct es_tree tree;
	/*
	 * The data pwrite left for writeback.  Its blocks that are holes on
	 * disk are exactly the tree's DELAYED entries (the kernel's delalloc);
	 * the others are dirty data over WRITTEN or UNWRITTEN blocks.
	 */
	struct replay_pending pend;
	/*
	 * A tree the raw reader found damaged at the file's first open: its
	 * ops are refused with this, "PROBLEM_ID: message", and nothing of the
	 * file is cached or changed ("" while the tree is sound).
	 */
	char damage[160];
};

/* [start, end) in blocks, one interval of the filesystem's own blocks. */
struct replay_span {
	uint64_t start, end;
};

/* Sorted, disjoint intervals, widened to clusters. */
struct replay_zone {
	struct replay_span *v;
	size_t nr;
	/*
	 * Where the last lookup ended (<= nr): a tree's blocks are asked
	 * about in order, and most fall in the gap the one before did.
	 */
	size_t hint;
};

/*
 * The kernel's "system zone", built when the first file is checked
 * (replay_meta.c), in the two forms the files are checked against.
 */
struct replay_meta {
	struct replay_zone sys; /* superblocks, descriptors, bitmaps, inode tables, MMP */
	struct replay_zone all; /* sys and the internal journal's blocks */
	uint32_t jnl_ino;	/* the journal, the one file checked against sys */
	int built;
};

#define REPLAY_MAX_RESV 8 /* > the deepest extent tree plus one */

/* A group is written out after this many ops, or once it holds this much. */
#define REPLAY_GROUP_OPS 256
#define REPLAY_GROUP_BYTES (8u << 20)

struct replay_event;

/* Ops whose writes are held together in memory (replay_group.c). */
struct replay_group {
	int on;		   /* group commit for this replay (not -n, --verify=full) */
	int active;	   /* a group is open */
	size_t start, end; /* its ops: [start, end) of the script */
	size_t solo_until; /* ops before this one run alone (a retry) */
	/* What a group that fails to reach the image is rolled back to. */
	size_t nr_files;
	struct replay_file *cur;
	struct esck_replay_summary sum;
	/* Results and divergences held until the group is on the image. */
	struct replay_event *ev;
	size_t nr_ev, cap_ev;
	/*
	 * Ops of the group whose bitmap, descriptor and superblock writes
	 * wait for its write-out (written once for all of them then).
	 */
	size_t deferred;
	/* The op in flight: the superblock and the fault counts as it began. */
	struct ext2_super_block sb;
	uint64_t op_reads, op_writes;
	int flushed; /* it wrote the metadata itself */
	/*
	 * A group being redone op by op because op redo_op failed in it
	 * after changing libext2fs's counters: faults are held until that
	 * op, which then begins at the counts it first began at.
	 */
	int redo;
	size_t redo_op;
	uint64_t redo_reads, redo_writes;
};

#define REPLAY_PAGE_SIZE 4096 /* the kernel's PAGE_SIZE on x86 and most */
#define LBLK_LAST 0xfffffffeU /* the kernel's EXT_MAX_BLOCKS - 1 */

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
	/* The raw walks' node buffers (ESCK_RAW_SCRATCH of walk_bs bytes). */
	void *walk_scratch;
	unsigned int walk_bs;
	/* replay_leaf_remove()'s path buffers (LEAF_MAX_DEPTH of leaf_bs). */
	void *leaf_bufs;
	unsigned int leaf_bs;

	/* Blocks reserved for extent splits, handed out by the alloc hook. */
	blk64_t resv[REPLAY_MAX_RESV];
	unsigned int nr_resv, used_resv;

	/* The truncate op an orphan is reported as (it must outlive the call). */
	struct esck_op orphan_op;
	/* The op being replayed, for reporting. */
	const struct esck_op *op;
	const struct esck_replay_ops *ops;
	struct esck_replay_summary *sum;
	uint32_t vlo, vhi;  /* verification range, inclusive */
	/*
	 * Files are cached a range at a time, before the ops that reach it
	 * (replay_fill), not whole at their first open: set under the
	 * default verification of a replay that writes.
	 */
	int lazy;
	const char *detail; /* extra words for an op error, or NULL */

	/*
	 * The pending data of save_file before the op in flight, restored if
	 * the op is rolled back (save_file NULL: nothing saved).
	 */
	struct replay_pending save;
	struct replay_file *save_file;
	/* Groups whose block bitmap an op changed (replay_bitmap.c). */
	unsigned char *bb_dirty;
	dgrp_t *bb_list;
	dgrp_t nr_bb;
	int bb_own, bb_all;	/* our own range call; a change not placed */
	/* Their descriptor blocks, for replay_flush(). */
	unsigned char *desc_dirty;
	dgrp_t *desc_list;
	dgrp_t nr_desc;
	/*
	 * The op in flight changed the in-memory block bitmap or descriptors
	 * (or reserved blocks): set by the hooks that note the groups.
	 */
	int meta_touched;
	/* An error of an op that was applied all the same (a short write). */
	errcode_t late_err;
	struct replay_meta meta;
	struct replay_group grp;
};

/* replay_extent.c */
/*
 * Unmap the logical blocks [start, end] (inclusive) of an extent-mapped
 * inode, freeing data blocks and emptied tree nodes, and lowering i_blocks
 * in *inode.  A range strictly inside an extent splits it; the node blocks
 * that may need must have been reserved (replay_reserve_split).  may_split
 * 0 says the caller knows no extent holds both end and end + 1.
 */
errcode_t replay_remove_space(struct esck_replay *r, uint32_t ino,
			      struct ext2_inode *inode, uint32_t start,
			      uint32_t end, int may_split);
/* Free n data blocks at pblk and take them off i_blocks. */
void replay_free_data(ext2_filsys fs, struct ext2_inode *inode, uint64_t pblk,
		      uint32_t n);

/* replay_leaf.c */
/*
 * replay_remove_space() for the common case, the range within one leaf
 * that neither empties nor overflows, edited in place: *done set.  Any
 * other case is left as it was for the general path (*done clear).
 */
errcode_t replay_leaf_remove(struct esck_replay *r, uint32_t ino,
			     struct ext2_inode *inode, uint32_t start,
			     uint32_t end, int may_split, int *done);
/*
 * Reserve the node blocks removing [start, end] can need; ENOSPC if it
 * cannot.  *may_split is cleared when no extent holds both end and end + 1
 * (nothing to reserve, and nothing for replay_remove_space to split): as
 * the file's cache t says, if it holds end + 1 as a hole, else as the disk.
 */
errcode_t replay_reserve_split(struct esck_replay *r, uint32_t ino,
			       struct es_tree *t, struct ext2_inode *inode,
			       uint32_t start, uint32_t end, int *may_split);
/* Unwritten extents over the holes of [start, end] (inclusive). */
errcode_t replay_falloc(struct esck_replay *r, uint32_t ino,
			struct ext2_inode *inode, uint32_t start, uint32_t end);
/*
 * Map the hole [lblk, lblk + *len) as ext4_ext_map_blocks allocates it:
 * under bigalloc a logical cluster the file already has a physical cluster
 * for reuses it at the same offset (get_implied_cluster_alloc), else new
 * clusters are taken.  *len is lowered to what this one step maps, at
 * *pblk; new blocks are marked in the bitmap and counted in i_blocks.
 */
errcode_t replay_alloc_run(struct esck_replay *r, ext2_extent_handle_t h,
			   uint32_t ino, struct ext2_inode *inode,
			   uint32_t lblk, uint32_t *len, blk64_t *pblk);
/*
 * Merge the extent holding lblk with the next one of its leaf when they
 * continue each other, as ext4_ext_try_to_merge_right.
 */
errcode_t replay_merge_right(ext2_extent_handle_t h, uint32_t lblk);
/* Give back the reserved blocks no split took. */
void replay_release_reserve(struct esck_replay *r);
/* replay.c: open the image (again), bitmaps read and tracked. */
errcode_t replay_fs_open(struct esck_replay *r);

/* replay_group.c */
/* txio_group_order()'s rank of a block of the group (r is arg). */
int replay_write_rank(void *arg, uint64_t blk, const void *data,
		      const void *before);
/* Op i may join a group: a removal, and no file has dirty data. */
int replay_groupable(const struct esck_replay *r, size_t i,
		     const struct esck_op *op);
errcode_t replay_group_start(struct esck_replay *r, size_t i);
/* Before op i runs (grouped or not): the redo's faults, the op's snapshot. */
void replay_group_op_begin(struct esck_replay *r, size_t i, int grouped);
/*
 * After a grouped op's changes: its metadata writes are left to the
 * group's write-out when replay_flush() can write them then, else done
 * now.
 */
errcode_t replay_group_op_flush(struct esck_replay *r);
/* After a grouped op committed. */
void replay_group_op_done(struct esck_replay *r);
/*
 * A grouped op failed and was rolled back: nonzero if its half is mixed,
 * in libext2fs's memory, with metadata the group still has to write.
 */
int replay_group_tainted(const struct esck_replay *r);
/*
 * Drop the open group unwritten and reload, to redo it op by op from
 * r->grp.start up to op i, which failed in it (faults held until then).
 */
errcode_t replay_group_redo(struct esck_replay *r, size_t i);
/* The group is due to be written: REPLAY_GROUP_OPS ops or _BYTES held. */
int replay_group_due(const struct esck_replay *r);
/*
 * Write the open group to the image and tell its ops' results.  If that
 * fails, the image is as before the group and so is the replay (reopened,
 * reloaded): *rerun is set, and the caller replays the group's ops from
 * r->grp.start, each alone.  Returns an error only if that reload fails.
 */
errcode_t replay_group_settle(struct esck_replay *r, int *rerun);
/* An op's result, a divergence: told now, or held with the open group. */
void replay_report_op(struct esck_replay *r,
		      const struct esck_replay_result *res);
void replay_report_divergence(struct esck_replay *r,
			      const struct esck_replay_divergence *d);
void replay_group_free(struct esck_replay *r);
/* The type of lblk on disk: ES_WRITTEN, ES_UNWRITTEN or ES_HOLE, with *pblk. */
errcode_t replay_disk_lookup(struct esck_replay *r, uint32_t ino,
			     struct ext2_inode *inode, uint32_t lblk,
			     unsigned int *type, uint64_t *pblk);
/* Load the inode's extents over what the cache does not already cover. */
errcode_t replay_load_cache(struct esck_replay *r, struct replay_file *f);
/* es_insert() the on-disk state of [start, end] into the cache. */
errcode_t replay_cache_range(struct esck_replay *r, struct replay_file *f,
			     uint32_t start, uint32_t end);

/*
 * At lblk on disk: *type (ES_WRITTEN, ES_UNWRITTEN or ES_HOLE), *pblk (0 for
 * a hole) and *len, the blocks from lblk to at most end that continue it
 * (one extent's piece, or the hole up to the next extent).
 */
errcode_t replay_disk_run(ext2_extent_handle_t h, uint32_t lblk, uint32_t end,
			  unsigned int *type, uint64_t *pblk, uint32_t *len);

/* replay_pending.c: pwrite's data until writeback */
void replay_pend_free(struct replay_pending *p);
/* dst (empty) becomes a deep copy of src. */
errcode_t replay_pend_copy(struct replay_pending *dst,
			   const struct replay_pending *src,
			   unsigned int blocksize);
/* The index of the first dirty block at or after lblk (p->nr if none). */
size_t replay_pend_first(const struct replay_pending *p, uint32_t lblk);
/* The dirty block lblk, or NULL. */
struct replay_pblock *replay_pend_find(const struct replay_pending *p,
				       uint32_t lblk);
/* Forget the dirty blocks of [lo, hi] (inclusive), as truncate/punch do. */
void replay_pend_drop(struct replay_pending *p, uint32_t lo, uint32_t hi);
/*
 * Zero bytes [from, to) of dirty block lblk, if it is dirty; *dirty says
 * whether it was.
 */
errcode_t replay_pend_zero(struct esck_replay *r, struct replay_file *f,
			   uint32_t lblk, unsigned int from, unsigned int to,
			   int *dirty);
/*
 * A buffered write of *len bytes of fill at off (*len > 0, off + *len
 * within the largest file): the blocks become dirty, the holes among them
 * DELAYED.  Where the new delayed blocks do not all fit in the free space
 * (the kernel's delalloc reservation), the write stops short, as the
 * kernel's, at the page holding the first that does not: *len is then
 * lowered, and ENOSPC, with nothing changed, when nothing fits.  i_size is
 * the caller's.
 */
errcode_t replay_pwrite(struct esck_replay *r, struct replay_file *f,
			struct ext2_inode *inode, uint64_t off, uint64_t *len,
			uint8_t fill);
/*
 * Write f's dirty blocks back as the kernel's writeback does: allocate the
 * delayed runs, write every dirty block (zeroing past i_size), convert dirty
 * UNWRITTEN blocks to WRITTEN, update i_blocks and the cache.  *lo and *hi
 * receive the range written ([1, 0] if none).  Nothing on disk for a dry run.
 */
errcode_t replay_writeback(struct esck_replay *r, struct replay_file *f,
			   uint32_t *lo, uint32_t *hi);
/*
 * After a rollback: the cache of f from the disk again (under r->lazy
 * emptied instead, for the ops to come to fill), and a DELAYED entry over
 * every dirty block that is a hole there.
 */
errcode_t replay_pend_rebuild(struct esck_replay *r, struct replay_file *f);

/*
 * The raw reader over ino's whole tree, or the whole block map of a
 * block-mapped inode: the first structural problem it reports, a block
 * outside the filesystem or on its metadata included, written as
 * "ID: message" into damage (left "" when none).  With load, the extents
 * of a tree found whole are cached there as replay_load_cache() would
 * (the same walk: one read of every node, not two); a damaged tree leaves
 * nothing there.  Block maps ignore load.
 */
errcode_t replay_check_tree(struct esck_replay *r, uint32_t ino,
			    struct ext2_inode *inode, char *damage, size_t len,
			    struct es_tree *load);

/*
 * A buffer of bytes kept in *buf from op to op, made again only when the
 * block size it was made for (*made_for) changes; NULL without memory.
 */
void *replay_kept_buffer(void **buf, unsigned int *made_for, unsigned int bs,
			 size_t bytes);

/*
 * The raw reader's view of r's filesystem: txio's block cache, and its
 * marks for node checksums already verified.
 */
void replay_geometry(struct esck_replay *r, struct esck_raw_geometry *geo);

/* replay_fill.c */
/*
 * When files are cached lazily (r->lazy): what the disk maps in [lo, hi],
 * cached where nothing is (es_cache_extent()), holes included, so that
 * the verification after the op compares all of that range.  inode is
 * f's, as on the disk now.
 */
errcode_t replay_fill(struct esck_replay *r, struct replay_file *f,
		      struct ext2_inode *inode, uint32_t lo, uint32_t hi);

/* replay_meta.c */
/* Build r->meta if it is not yet: ENOMEM is the only error. */
errcode_t replay_meta_build(struct esck_replay *r);
void replay_meta_free(struct esck_replay *r);
/*
 * Whether [blk, blk + len) meets the zone built: metadata, or the journal's
 * blocks unless ino is the journal inode itself.  r is not const: where
 * the answer was found is kept for the next question (replay_zone.hint).
 */
int replay_meta_overlaps(struct esck_replay *r, uint32_t ino, uint64_t blk,
			 uint64_t len);

/* replay_bitmap.c */
/* Note the groups whose block bitmaps change from now on (fs->priv_data). */
errcode_t replay_bitmap_track(struct esck_replay *r);
void replay_bitmap_release(struct esck_replay *r);
/* ext2fs_block_alloc_stats_range(), noting the groups (a 1.47.0 bug). */
void replay_stats_range(ext2_filsys fs, blk64_t blk, blk_t num, int inuse);
/* Write those groups' block bitmaps, and inode bitmaps if dirty. */
errcode_t replay_bitmap_flush(struct esck_replay *r);
/*
 * Whether replay_flush() knows every change since it last ran -- the
 * noted groups' bitmaps and descriptors, the superblock -- and so can
 * write them itself (else it leaves them to libext2fs), later and all at
 * once if need be.
 */
int replay_flush_deferrable(const struct esck_replay *r);
/*
 * What an op changed in the filesystem's own metadata, to the image: the
 * bitmaps, then the descriptor blocks of the noted groups and the primary
 * superblock, or ext2fs_flush2() when other groups may have changed.
 */
errcode_t replay_flush(struct esck_replay *r);

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

/* replay_ind.c: block-mapped (ext2, ext3) files, beside the extent code */
/* s_bitmap_maxbytes, the largest block-mapped file (ext4_max_bitmap_size). */
uint64_t replay_ind_max_bytes(ext2_filsys fs);
/*
 * Unmap [start, end] (inclusive; end LBLK_LAST: truncate) as
 * ext4_ind_remove_space and ext4_ind_truncate: data blocks and the indirect
 * blocks left empty, i_blocks lowered in *inode.  Never allocates.
 */
errcode_t replay_ind_remove_space(struct esck_replay *r,
				  struct ext2_inode *inode, uint32_t start,
				  uint32_t end);
/* As replay_disk_run, for a block-mapped inode (ES_WRITTEN or ES_HOLE). */
errcode_t replay_ind_disk_run(struct esck_replay *r, struct ext2_inode *inode,
			      uint32_t lblk, uint32_t end, unsigned int *type,
			      uint64_t *pblk, uint32_t *len);
/*
 * The runs of [start, end] into f's cache: cached (holes between runs only)
 * or, with modify, es_insert()ed (the whole range).
 */
errcode_t replay_ind_cache(struct esck_replay *r, struct replay_file *f,
			   struct ext2_inode *inode, uint32_t start,
			   uint32_t end, int modify);
/*
 * The whole map, walked, not collected: the first pointer outside the
 * filesystem or on its metadata reported (MAP_OUT_OF_RANGE, MAP_ON_METADATA
 * for data, MAP_IND_BLOCK for an indirect block, as inspect), the walk
 * ending there.  Needs r->meta built.
 */
errcode_t replay_ind_check(struct esck_replay *r, uint32_t ino,
			   struct ext2_inode *inode, esck_problem_fn report,
			   void *arg);
/* Compare f's cache with the map over [lo, hi], reporting through report. */
errcode_t replay_ind_compare(struct esck_replay *r, struct replay_file *f,
			     struct ext2_inode *inode, uint32_t lo,
			     uint32_t hi, esck_problem_fn report, void *arg);
/*
 * Map blocks from lblk on, holes until now: the indirect blocks the path
 * lacks first, then *got (1 to want, within one pointer array) data blocks
 * from *pblk; i_blocks raised in *inode, which the caller writes.
 */
errcode_t replay_ind_alloc(struct esck_replay *r, uint32_t ino,
			   struct ext2_inode *inode, uint32_t lblk,
			   uint32_t want, uint64_t *pblk, uint32_t *got);

/* replay_verify.c */
/*
 * Compare the cache with the disk over [lo, hi] (inclusive) and check i_size.
 */
errcode_t replay_verify(struct esck_replay *r, struct replay_file *f,
			uint32_t lo, uint32_t hi);

#endif /* ESCK_REPLAY_INT_H */
