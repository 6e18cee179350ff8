/* esck_int.h --- libesck internals: the open image and the inspect engine's shared state */
#ifndef ESCK_ESCK_INT_H
#define ESCK_ESCK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "esck.h"
#include "ondisk.h"

/* What esck_open() hands out; every lib/ file may look inside. */
struct esck_fs {
	ext2_filsys fs;
	int flags;		/* ESCK_OPEN_* */
	int mount_state;	/* ESCK_MOUNTED* */
};

/*
 * A plain bit array, one bit per cluster from "base" on.  libext2fs's own
 * bitmaps mark ranges one bit at a time (bitarray) or cost a tree node per
 * run (rbtree); the inspect engine marks and tests one range per extent, so
 * it keeps its own with word-at-a-time range operations.
 */
struct esck_bmap {
	uint64_t *w;
	uint64_t nbits;
};

errcode_t esck_bmap_init(struct esck_bmap *b, uint64_t nbits);
void esck_bmap_free(struct esck_bmap *b);
void esck_bmap_set_range(struct esck_bmap *b, uint64_t s, uint64_t n);
int esck_bmap_test(const struct esck_bmap *b, uint64_t i);
int esck_bmap_any_set(const struct esck_bmap *b, uint64_t s, uint64_t n);
int esck_bmap_all_set(const struct esck_bmap *b, uint64_t s, uint64_t n);
/* The first bit in [s, end) whose value is "set", or end. */
uint64_t esck_bmap_find(const struct esck_bmap *b, uint64_t s, uint64_t end, int set);

/* What a mapped run is, for the checks it gets. */
enum esck_run_kind {
	ESCK_RUN_DATA,		/* file data: MAP_* problems */
	ESCK_RUN_NODE,		/* extent tree node: the raw reader reports placement */
	ESCK_RUN_IND,		/* indirect block: MAP_IND_BLOCK */
};

/* Who claimed a run of blocks, kept to name the other inode of a MAP_DUP. */
struct esck_claim {
	uint64_t pblk;
	uint32_t len;
	uint32_t ino;
};

/* A list of problems waiting to be reported. */
struct esck_pbuf {
	struct esck_problem *p;
	size_t nr, cap;
};

/* The state of one esck_inspect() run. */
struct esck_ctx {
	struct esck_fs *efs;
	ext2_filsys fs;
	const struct esck_inspect_ops *ops;
	struct esck_summary *sum;

	uint64_t first_data_block, blocks_count;
	unsigned int cbits;		/* log2 of the cluster ratio */
	uint64_t base;			/* cluster of bit 0 in the bitmaps */
	struct esck_bmap meta;		/* superblocks, descriptors, bitmaps, tables */
	struct esck_bmap claimed;	/* claimed by an inode inspected so far */
	struct esck_bmap ondisk;	/* the block bitmap as read from the image */

	struct esck_claim *claims;	/* every claimed run, in claim order */
	size_t nr_claims, cap_claims;
	int claims_off;			/* log dropped (too big or out of memory) */
	uint64_t dup_lookups;

	struct es_cache cache;
	struct esck_raw_geometry geo;
	char *block_buf;		/* 3 blocks for ext2fs_block_iterate3 */
	struct ext2_inode_large *inode_buf;	/* one whole on-disk inode */
	size_t inode_size;
	errcode_t fatal;		/* an error that stops the run */

	/*
	 * Problems held back so that an inode's report reads structure first
	 * (the raw reader's TREE_*), then mapping (found while loading, before
	 * the raw walk), then cache against disk (found during the walk).
	 */
	int holding;			/* esck_report() appends to held */
	struct esck_pbuf held, cache_held;
};

/* One inode being inspected. */
struct esck_inode {
	uint32_t ino;
	struct ext2_inode_large *inode;
	struct esck_inode_report *r;
	struct es_tree *tree;
	uint64_t eof_blocks;		/* ceil(i_size / block size) */
	int check_eof;			/* written blocks past EOF are a problem */
	int incomplete;			/* the map could not be walked entirely */
	int resize;			/* the resize inode: its blocks are the reserved GDT */
	uint64_t clusters;		/* distinct clusters counted for i_blocks */
	uint64_t last_cluster;		/* the last counted cluster, or ESCK_NONE */
	uint64_t last_claimed;		/* the last claimed cluster, or ESCK_NONE */
	uint64_t mapped_below_eof;
	uint64_t next_lblk;		/* end of the furthest mapped run so far */
	/* block-mapped: the run being coalesced */
	uint64_t run_lblk, run_pblk, run_len;
	/* block-mapped: indirect blocks whose pointers are not to be believed */
	uint64_t bad_ind[16];
	unsigned int nr_bad_ind;
	/* extent-mapped: node blocks seen, to walk a shared node only once */
	uint64_t *seen;
	size_t seen_cap, seen_nr;
};

void esck_report(struct esck_ctx *ctx, const struct esck_problem *p);
void esck_report_fn(void *arg, const struct esck_problem *p);

/* mapcheck.c */
errcode_t esck_mapcheck_setup(struct esck_ctx *ctx);
void esck_mapcheck_cleanup(struct esck_ctx *ctx);
int esck_is_metadata(void *arg, uint64_t blk);
void esck_map_count(struct esck_ctx *ctx, struct esck_inode *st, uint64_t pblk, uint64_t len);
int esck_map_run(struct esck_ctx *ctx, struct esck_inode *st, enum esck_run_kind kind,
		 uint64_t lblk, uint64_t pblk, uint64_t len);
void esck_map_ea(struct esck_ctx *ctx, struct esck_inode *st, uint64_t blk);
void esck_map_extent_stats(struct esck_ctx *ctx, struct esck_inode *st, uint64_t lblk,
			   uint64_t pblk, uint64_t len, int unwritten);

/* load.c */
errcode_t esck_load_extents(struct esck_ctx *ctx, struct esck_inode *st);
errcode_t esck_load_blocks(struct esck_ctx *ctx, struct esck_inode *st);

#endif /* ESCK_ESCK_INT_H */
