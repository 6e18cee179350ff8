/* ondisk.h --- our own bounds-checked reader of ext4 extent trees, independent of libext2fs */
#ifndef ESCK_ONDISK_H
#define ESCK_ONDISK_H

#include <stddef.h>
#include <stdint.h>

#include <ext2fs/ext2fs.h>

#include "es/es.h"
#include "problem.h"

typedef void (*esck_problem_fn)(void *arg, const struct esck_problem *p);

/* One leaf extent as stored: lengths decoded, unwritten flag split out. */
struct esck_raw_extent {
	uint32_t lblk;
	uint32_t len;
	uint64_t pblk;
	int unwritten;
};

/* Everything the raw reader saw of one inode's tree. */
struct esck_raw_tree {
	struct esck_raw_extent *ext;	/* leaf extents in tree order (left to right) */
	size_t nr, cap;
	uint64_t *nodes;		/* blocks of the non-root nodes, in visit order */
	size_t nr_nodes, cap_nodes;
	unsigned int depth;		/* the root's eh_depth */
	int damaged;			/* a structural problem made it skip something */
};

/* What the reader needs to know of the filesystem; no libext2fs handle. */
struct esck_raw_geometry {
	unsigned int block_size;
	uint64_t blocks_count;
	uint32_t first_data_block;
	int has_csum;			/* metadata_csum: verify extent block tails */
	uint32_t csum_seed;		/* the filesystem's checksum seed */
	/* Nonzero if blk holds superblock, descriptors, bitmaps or inode tables. */
	int (*is_metadata)(void *arg, uint64_t blk);
	/* Read one block of block_size bytes into buf. */
	errcode_t (*read_block)(void *arg, uint64_t blk, void *buf);
	/*
	 * Optional, for a reader that can tell a block is as it was when its
	 * checksum last matched: csum_known() nonzero skips computing it
	 * again; csum_good() hears of each node whose checksum matched.  seed
	 * is the inode's checksum seed the node was checked with.
	 */
	int (*csum_known)(void *arg, uint64_t blk, uint32_t seed);
	void (*csum_good)(void *arg, uint64_t blk, uint32_t seed);
	void *arg;
	/*
	 * Optional: a node's bytes in place instead of read into the walk's
	 * buffer.  *data NULL (with 0) says "read it"; nonzero is a read
	 * error.  The bytes must stay valid until peek_release() of them,
	 * which the walk calls when it leaves the node, so it holds one node
	 * a level at most; and peek_release() of NULL, for all of them,
	 * before it returns.
	 */
	int (*peek_block)(void *arg, uint64_t blk, const void **data);
	void (*peek_release)(void *arg, const void *data);
	/*
	 * Optional: ESCK_RAW_SCRATCH(block_size) bytes for the walk's node
	 * buffers, so that a walk made after every op allocates nothing.  One
	 * walk at a time may use it.
	 */
	void *scratch;
};

/* The node buffers of a walk: one block for each level below the root. */
#define ESCK_RAW_SCRATCH(block_size) ((size_t)5 * (block_size))

/*
 * Walk the tree rooted in i_block (the inode's 60 bytes) depth first, left to
 * right, checking every node as it goes, and collect the leaf extents.  Each
 * structural problem (TREE_*) is reported through report and the offending
 * subtree skipped; the walk never follows a node twice, never reads outside a
 * buffer, and never recurses deeper than ext4 allows.  Returns 0 or ENOMEM
 * (problems are not errors).
 */
errcode_t esck_raw_read_tree(const struct esck_raw_geometry *g, uint32_t ino,
			     uint32_t generation, const void *i_block,
			     struct esck_raw_tree *out, esck_problem_fn report,
			     void *report_arg);
void esck_raw_tree_free(struct esck_raw_tree *t);

/*
 * The seed of an extent block's checksum for ino: the filesystem's seed
 * continued over the inode's number and generation.
 */
uint32_t esck_raw_inode_seed(uint32_t csum_seed, uint32_t ino,
			     uint32_t generation);

/*
 * What esck_raw_walk() hands over instead of collecting: each extent that
 * esck_raw_read_tree() would put in out->ext and each block it would put in
 * out->nodes, in the same order.  A nonzero return ends the walk with it.
 */
struct esck_raw_visitor {
	int (*extent)(void *arg, const struct esck_raw_extent *e);
	int (*node)(void *arg, uint64_t blk);
	void *arg;
};

/*
 * esck_raw_read_tree() without the arrays: memory stays constant however
 * large the tree.  out->ext and out->nodes stay empty; depth and damaged are
 * set.  With v NULL it is esck_raw_read_tree().
 */
errcode_t esck_raw_walk(const struct esck_raw_geometry *g, uint32_t ino,
			uint32_t generation, const void *i_block,
			const struct esck_raw_visitor *v, struct esck_raw_tree *out,
			esck_problem_fn report, void *report_arg);

/*
 * esck_raw_walk() restricted to the subtrees whose key ranges reach into
 * [lo, hi]: O(depth) node reads for a small range, however large the
 * tree.  Only the nodes read are checked; the leaves read are visited
 * whole, extents outside [lo, hi] included.
 */
errcode_t esck_raw_walk_range(const struct esck_raw_geometry *g, uint32_t ino,
			      uint32_t generation, const void *i_block,
			      uint32_t lo, uint32_t hi,
			      const struct esck_raw_visitor *v, struct esck_raw_tree *out,
			      esck_problem_fn report, void *report_arg);

/*
 * Compare a cache loaded for ino with the raw tree, block by block, over the
 * whole logical space, and report each disagreeing run once:
 * CACHE_EXTRA (cache WRITTEN/UNWRITTEN, disk unmapped), CACHE_MISSING (disk
 * mapped, cache HOLE or DELAYED), CACHE_PBLK, CACHE_STATUS.  Blocks the cache
 * has no entry for are not problems (the cache may cover less).  Returns the
 * number of problems reported.
 */
uint64_t esck_compare_cache_raw(const struct es_tree *t, const struct esck_raw_tree *raw,
				uint32_t ino, esck_problem_fn report, void *report_arg);
/* The same over [lo, hi] only. */
uint64_t esck_compare_cache_raw_range(const struct es_tree *t,
				      const struct esck_raw_tree *raw, uint32_t ino,
				      uint32_t lo, uint32_t hi, esck_problem_fn report,
				      void *report_arg);

/*
 * The same comparison, streamed: start, then the disk's extents in logical
 * order (as a healthy tree yields them), then finish, which reports the last
 * run and returns the count.  An extent starting before the previous one
 * sets unordered and returns EINVAL: the caller must then compare the whole
 * tree with esck_compare_cache_raw(), which sorts.  Overlapping extents are
 * fine (the earlier keeps what it covers).  The tree must not change meanwhile.
 */
struct esck_cmp_run {
	int active;
	enum esck_problem_id id;
	uint64_t lblk, len, pblk, expected, found;
};

struct esck_cmp {
	uint32_t ino;
	esck_problem_fn report;
	void *report_arg;
	uint64_t count;
	struct esck_cmp_run run;
	struct es_iter it;
	struct es_extent es;		/* the cache entry under the cursor */
	int have_es;
	uint64_t x;			/* blocks below x are classified */
	uint64_t end;			/* classify below end only */
	int started, unordered;
	uint32_t last_lblk;
};

void esck_cmp_start(struct esck_cmp *c, const struct es_tree *t, uint32_t ino,
		    esck_problem_fn report, void *report_arg);
/* The comparison over [lo, hi] only: extents outside it may be passed too. */
void esck_cmp_start_range(struct esck_cmp *c, const struct es_tree *t, uint32_t ino,
			  uint32_t lo, uint32_t hi, esck_problem_fn report,
			  void *report_arg);
int esck_cmp_extent(struct esck_cmp *c, const struct esck_raw_extent *e);
uint64_t esck_cmp_finish(struct esck_cmp *c);

#endif /* ESCK_ONDISK_H */
