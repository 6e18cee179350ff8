/* replay.h --- esck replay-truncate: apply a script to the extent status cache and the image */
#ifndef ESCK_REPLAY_H
#define ESCK_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "esck.h"
#include "script.h"

/*
 * The replay engine.  Each op of a parsed script runs against one inode's
 * cache and, unless dry-run, the image, with the kernel's semantics
 * (reference/kernel-es.md §5).  On the image every op is all-or-nothing: its
 * writes go through a transactional I/O layer and are rolled back on any
 * failure, and the blocks a split can need are reserved before anything
 * changes.  Like everything in lib/, it never prints: per-op results and
 * divergences go through struct esck_replay_ops.
 */
enum esck_verify {
	ESCK_VERIFY_RANGE, /* after each op: its range, one block each side */
	ESCK_VERIFY_FULL,  /* after each op, the whole inode */
	ESCK_VERIFY_END,   /* once, every inode touched, after the last op */
};

struct esck_replay_opts {
	int dry_run; /* cache only; the image is opened read-only */
	int force;   /* open a mounted image / one needing journal recovery */
	enum esck_verify verify;
	enum es_policy policy;
	struct es_fault *fault; /* cache allocation faults; NULL for none */
	uint64_t fail_write;	/* tests: fail the Nth image write (0: none) */
	uint64_t fail_read;	/* tests: fail the Nth image read (0: none) */
	/*
	 * tests: every removal from an extent tree through libext2fs's
	 * handle, none edited in place by our leaf fast path
	 */
	int general_removal;
	/*
	 * An e2undo(8) undo file to record the image's original blocks in, or
	 * NULL; ignored for a dry run.  As with e2fsck -z, an existing undo
	 * file that matches the image's current state is appended to, one
	 * that does not fails the open (EXT2_ET_UNDO_FILE_WRONG or
	 * EXT2_ET_UNDO_FILE_CORRUPT).  libext2fs's undo manager is
	 * process-wide: every replay of a process must name the same file.
	 */
	const char *undo_file;
};

/* The outcome of one op, handed to esck_replay_ops.op. */
struct esck_replay_result {
	const struct esck_op *op;
	uint32_t ino;	    /* the file it applied to, 0 if none */
	errcode_t err;	    /* 0, or why the op was not applied */
	int noop;	    /* ok, and the kernel would change nothing */
	const char *detail; /* why an EOPNOTSUPP, or NULL */
};

/* A disagreement between the cache and the disk found by verification. */
struct esck_replay_divergence {
	/* The op after which it was found (the last one at --verify=end). */
	const struct esck_op *op;
	uint32_t ino;
	const struct esck_problem *problem; /* NULL for an i_size mismatch */
	uint64_t size_cache, size_disk;	    /* i_size mismatch only */
	char what[160];			    /* one line, no trailing newline */
};

struct esck_replay_ops {
	void (*op)(void *arg, const struct esck_replay_result *r);
	void (*divergence)(void *arg, const struct esck_replay_divergence *d);
	/* Asked between ops; nonzero stops the replay (SIGINT/SIGTERM). */
	int (*stop)(void *arg);
	void *arg;
};

struct esck_replay_summary {
	uint64_t ops, ok, failed, noops;
	uint64_t divergences;
	uint64_t rollbacks; /* ops undone on the image after a failure */
	uint64_t leaf_edits; /* removals done by editing one leaf in place */
	int interrupted;
	struct es_stats cache;
};

struct esck_replay;

/*
 * Open IMAGE for a replay: read-write through the transactional layer (over
 * the undo layer with opts->undo_file), or read-only for a dry run.  Refuses
 * a mounted image (ESCK_ET_MOUNTED) and one whose journal needs recovery
 * (ESCK_ET_JOURNAL_NEEDS_RECOVERY) unless opts->force; EBUSY for an undo
 * file other than the one an earlier replay of this process used.
 */
errcode_t esck_replay_open(const char *image,
			   const struct esck_replay_opts *opts,
			   struct esck_replay **ret);
/*
 * Run every op of s in order.  An op that fails is reported and skipped, as
 * xfs_io does; the return is nonzero only when the replay could not go on
 * (the image could not be reopened after a rollback, out of memory).
 */
errcode_t esck_replay_run(struct esck_replay *r, const struct esck_script *s,
			  const struct esck_replay_ops *ops,
			  struct esck_replay_summary *sum);
/*
 * No script: complete the orphan list (s_last_orphan), then the entries of
 * the orphan file, as the kernel does at mount -- each orphan with links is
 * truncated to its i_size, one without is truncated to 0 and freed -- each
 * orphan all-or-nothing; then clear orphan_present.  Reported through
 * ops->op as a truncate op with line 0, ino set, and noop meaning
 * "released".  ESCK_ET_CORRUPT_ORPHAN_FILE for an unreadable orphan file.
 */
errcode_t esck_replay_orphans(struct esck_replay *r,
			      const struct esck_replay_ops *ops,
			      struct esck_replay_summary *sum);
/* Flush, close and free. */
errcode_t esck_replay_close(struct esck_replay *r);

#endif /* ESCK_REPLAY_H */
