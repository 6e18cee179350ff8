/* esck.h --- libesck: the library interface cli/ is allowed to use */
#ifndef ESCK_ESCK_H
#define ESCK_ESCK_H

/*
 * cli/ includes this header and no other header from lib/ or from
 * e2fsprogs (tests/layering.sh enforces it).  Functions here return an
 * errcode_t: 0, a libext2fs code (EXT2_ET_*), a positive errno, or one of
 * our own ESCK_ET_* codes (lib/esck_err.et); they never print and never exit.
 */

#include <stddef.h>
#include <stdint.h>

#include <et/com_err.h>
#include <ext2fs/ext2fs.h>

#include "esck_err.h"
#include "es/es.h"
#include "problem.h"

/* ---- an open image ---- */

struct esck_fs;

#define ESCK_OPEN_RW		0x1	/* open for writing (replay); default read-only */
#define ESCK_OPEN_FORCE		0x2	/* open even if the journal needs recovery */

/* Mount state, for the caller to warn about or refuse. */
#define ESCK_MOUNTED		0x1
#define ESCK_MOUNTED_RO		0x2

/*
 * Open an image or device.  Read-only opens use 64-bit block numbers, skip
 * MMP, and treat checksum errors as findings rather than failures.  Returns
 * ESCK_ET_JOURNAL_NEEDS_RECOVERY (unless ESCK_OPEN_FORCE) for an image whose
 * journal needs recovery.
 */
errcode_t esck_open(const char *image, int flags, struct esck_fs **ret);
/* Closes and frees; for a read-write open, flushes first. */
errcode_t esck_close(struct esck_fs *fs);
/* ESCK_MOUNTED and/or ESCK_MOUNTED_RO, or 0 (also 0 if it cannot tell). */
int esck_mount_state(const struct esck_fs *fs);
/* An inode number ("12") or an absolute path in the filesystem ("/a/b"). */
errcode_t esck_resolve_inode(struct esck_fs *fs, const char *spec, uint32_t *ino);

/* ---- esck inspect ---- */

/* What an inode is; names as in JSON: esck_kind_name(). */
enum esck_kind {
	ESCK_KIND_REGULAR,
	ESCK_KIND_DIRECTORY,
	ESCK_KIND_SYMLINK,
	ESCK_KIND_CHARDEV,
	ESCK_KIND_BLOCKDEV,
	ESCK_KIND_FIFO,
	ESCK_KIND_SOCKET,
	ESCK_KIND_SPECIAL,	/* reserved inodes below s_first_ino that own blocks */
	ESCK_KIND_COUNT
};

/* How the inode maps its data; names: esck_mapping_name(). */
enum esck_mapping {
	ESCK_MAPPING_EXTENTS,
	ESCK_MAPPING_BLOCKS,	/* ext2/ext3 direct and indirect blocks */
	ESCK_MAPPING_INLINE,	/* inline data, fast symlinks */
	ESCK_MAPPING_NONE,	/* devices, fifos, sockets, empty files */
	ESCK_MAPPING_COUNT
};

const char *esck_kind_name(enum esck_kind kind);	/* "regular", "directory", ... */
const char *esck_mapping_name(enum esck_mapping m);	/* "extents", "blocks", ... */

/* One inspected inode, handed to esck_inspect_ops.inode. */
struct esck_inode_report {
	uint32_t ino;
	enum esck_kind kind;
	enum esck_mapping mapping;
	uint64_t size;			/* i_size in bytes */
	uint64_t blocks;		/* i_blocks in 512-byte units, as stat(2) */
	unsigned int depth;		/* extent tree depth, 0 otherwise */
	uint64_t extents;		/* leaf extents on disk (block runs if block-mapped) */
	uint64_t tree_blocks;		/* extent tree or indirect blocks */
	uint64_t unwritten_blocks;
	uint64_t hole_blocks;		/* unmapped blocks below EOF */
	uint64_t past_eof_blocks;	/* mapped blocks at or past EOF */
	/* The inode's cache (WRITTEN, UNWRITTEN and HOLE entries); valid during the call. */
	struct es_tree *tree;
};

struct esck_inspect_ops {
	void (*problem)(void *arg, const struct esck_problem *p);
	/* Called for every inspected inode in increasing inode order; nonzero stops. */
	int (*inode)(void *arg, const struct esck_inode_report *r);
	/* done of total inodes scanned; may be NULL. */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *arg;
};

struct esck_inspect_opts {
	const uint32_t *inos;		/* only these inodes (sorted, unique); NULL: all in use */
	size_t nr_inos;
	uint64_t cache_max_entries;	/* bound on the cache; 0: none */
	uint64_t cache_max_bytes;
};

#define ESCK_TOP_FRAGMENTED 5

struct esck_summary {
	uint32_t block_size;
	uint64_t blocks_count;
	uint64_t inodes;			/* inodes inspected */
	uint64_t kinds[ESCK_KIND_COUNT];
	uint64_t mappings[ESCK_MAPPING_COUNT];
	uint64_t extents;
	uint64_t tree_blocks;
	unsigned int max_depth;
	uint64_t depths[6];			/* extent inodes by depth; 5 means 5 or more */
	uint64_t unwritten_blocks;
	uint64_t hole_blocks;
	uint64_t past_eof_blocks;
	struct {
		uint32_t ino;
		uint64_t extents;
	} top[ESCK_TOP_FRAGMENTED];		/* most extents first; ino 0 = unused slot */
	uint64_t problems;
	uint64_t by_severity[3];		/* indexed by enum esck_severity */
	struct es_stats cache;			/* at the end of the run */
	uint64_t cache_peak_entries;
};

/*
 * Load every selected inode into the cache, check trees, mappings and the
 * cache against our own raw read of the disk, and report through ops.
 * Problems are findings, not errors: the return is nonzero only when the
 * inspection itself could not go on (I/O, out of memory, bad arguments).
 */
errcode_t esck_inspect(struct esck_fs *fs, const struct esck_inspect_opts *opts,
		       const struct esck_inspect_ops *ops, struct esck_summary *sum);

/* ---- esck replay-truncate: scripts (script.h) applied to cache and image ---- */

#include "replay.h"

#endif /* ESCK_ESCK_H */
