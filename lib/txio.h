/* txio.h --- a transactional io_manager: in-memory before-images, commit or roll back */
#ifndef ESCK_TXIO_H
#define ESCK_TXIO_H

#include <stdint.h>

#include <ext2fs/ext2fs.h>

/*
 * txio stacks over unix_io, or over the manager txio_set_backing_manager()
 * names (undo_io_manager for an undo file).  Between txio_begin() and
 * txio_commit() every write (blocks, zeroout) saves what it overwrites and is
 * held in memory, where reads see it; txio_commit() writes the held writes out,
 * each range once, in the order of their last writes (so an extent node
 * rewritten several times reaches the disk once, in its final state, and a
 * process killed outside that short write-out leaves the image as it was before
 * the transaction).  More than 64 MiB held are written out early.
 * txio_rollback() drops what is held and, if anything reached the image,
 * writes the saved images back newest first, so the image returns to its
 * state at txio_begin().  Outside a transaction writes go straight through.
 * There is no write_byte (libext2fs then writes the superblock whole, in one
 * write, not field by field) and no discard, whose effect cannot be undone.
 */
extern io_manager txio_io_manager;

/*
 * The manager the channels opened after this call stack over; NULL (the
 * default) for unix_io_manager.  Like undo_io's, a process-wide setting.
 * txio turns the backing channel's cache off ("cache=off"); undo_io passes
 * that down to its own unix_io channel.  A rollback writes the before-images
 * back through the backing manager, so an undo layer there, which keeps only
 * the first contents of each block, still holds the original ones.
 */
void txio_set_backing_manager(io_manager manager);

/* The txio channel of an fs opened with txio_io_manager, or NULL. */
int txio_is_txio(io_channel io);
errcode_t txio_begin(io_channel io);
/*
 * Single-block reads are served from a small cache of what the image held
 * when last read; every write through the channel forgets the blocks it
 * covers.  This forgets everything, so the next reads see the image as it
 * is now, whoever changed it.
 */
void txio_forget_cache(io_channel io);
/*
 * Write out the held writes and drop the before-images (the backing channel
 * runs uncached, so every write has then reached the file; no fsync is done
 * per transaction).  Refuses (returns the error, the transaction still open
 * for txio_rollback()) if a write-out fails or any read or write of the
 * transaction failed before, even one its caller ignored.
 */
errcode_t txio_commit(io_channel io);
/* Drop the held writes; write every before-image back if needed; flush. */
errcode_t txio_rollback(io_channel io);
/*
 * Outside a transaction: rewrite the whole blocks covering [off, off + len)
 * with their own contents, straight to the backing channel (no fault
 * counted).  The image does not change; an undo layer below records the
 * blocks, which makes it write its header.
 */
errcode_t txio_rewrite(io_channel io, uint64_t off, uint32_t len);
/*
 * Group commit.  After txio_group_begin(), txio_commit() writes nothing:
 * the transaction's writes join the group, held in memory as whole blocks
 * (of the channel's block size at txio_group_begin()) that reads see, each
 * with the block as the image held it before.  txio_group_flush() writes
 * the group out in block order, adjacent blocks in one write; if a write
 * fails, the before-images of all the group's blocks written so far are
 * written back, so the image is as it was before the group's first
 * transaction, and the group is dropped (its error returned).  A write
 * outside a transaction, a flush or a close writes the group out first.
 * A transaction of a group that holds over 64 MiB is not written early:
 * its write fails with EFBIG and txio_group_full() says so, for the
 * caller to roll it back, flush the group and retry it alone.
 * txio_group_end() flushes and leaves group commit.
 */
errcode_t txio_group_begin(io_channel io);
errcode_t txio_group_flush(io_channel io);
errcode_t txio_group_end(io_channel io);
/*
 * The order of a group's write-out, for a process killed inside it: the
 * blocks by rank, lowest first, and by number within a rank (adjacent
 * blocks of one rank in one write).  rank() is given each block's number
 * (of the group's block size), what the group leaves in it and what the
 * image holds.  NULL, the default, ranks every block alike: block order.
 */
void txio_group_order(io_channel io,
		      int (*rank)(void *arg, uint64_t blk, const void *data,
				  const void *before),
		      void *arg);
/*
 * Leave group commit without writing anything: the group's held writes
 * are dropped, and reads see the image as it was before its first
 * transaction (the group reaches the image only at its write-out).
 */
errcode_t txio_group_drop(io_channel io);
/* Bytes the group holds (not counting the before-images). */
uint64_t txio_group_bytes(io_channel io);
int txio_group_full(io_channel io);
/* Bytes the open transaction holds: before-images and held writes. */
uint64_t txio_pending_bytes(io_channel io);

/*
 * A note on a block (of the channel's block size) as a read returns it now,
 * for example "its checksum matches for inode seed tag", by a reader that
 * checked it or the writer that just wrote it: txio_marked() is true while
 * the block reads the same as when marked -- no write, pending, grouped or
 * done since, nor a forgotten cache, has touched it, and it is still held
 * -- so the check need not be repeated.  Only a block held as one whole
 * block can be marked (a pending write of exactly that block, the group's
 * copy, or the cached block); a mark on anything else is ignored.  A rolled
 * back write takes its mark with it.
 */
void txio_mark(io_channel io, uint64_t blk, uint32_t tag);
int txio_marked(io_channel io, uint64_t blk, uint32_t tag);

/*
 * Block blk (of the channel's block size) as a read would return it, in
 * place instead of copied: *data points at txio's own copy, or is NULL
 * where there is none to point at (the block is pieced together from
 * parts, say) and a read must copy it.  A read for fault injection.  The
 * bytes stay valid until the next write, commit, rollback or txio_unpin()
 * of them: a cached block is pinned (kept from reuse) until then, eight at
 * most (a peek past that many gives none), so a walk down a tree can hold
 * a block for each level.
 */
errcode_t txio_peek(io_channel io, uint64_t blk, const void **data);
/* Let the block txio_peek() gave at data be reused; NULL: all of them. */
void txio_unpin(io_channel io, const void *data);

/*
 * Fault injection for tests: make the nth write to the image (1-based,
 * counted over the whole life of the channels opened after this call) fail
 * with EIO, 0 for none.  If that write was a group's, the first later
 * write over any of its bytes fails too: the one the retry of the group's
 * op that wrote them makes.  Inside a transaction the counted
 * writes are those of the write-out, one per range (one per run of
 * adjacent blocks for a group's).  Writes done by a rollback or txio_rewrite()
 * are never failed and not counted.
 */
void txio_set_fail_write(uint64_t nth);
/* Writes counted so far under the fault schedule. */
uint64_t txio_writes_seen(void);
/*
 * The same for reads: the nth read through a txio channel (the superblock
 * read of ext2fs_open2() is the first) fails with EIO.  The reads a
 * transaction makes of its own before-images are not counted.  A read error
 * inside a transaction, even one its caller ignored, makes txio_commit()
 * refuse, as a write error does.
 */
void txio_set_fail_read(uint64_t nth);
uint64_t txio_reads_seen(void);
/*
 * While held, no read or write is counted and none fails.  For a group
 * redone op by op after one of its ops failed: the ops before that one
 * are redone held, then the counts are set back to where they stood when
 * it first began, so that it meets the same fault again.  Returns whether
 * they were held.
 */
int txio_fault_hold(int hold);
void txio_fault_set_seen(uint64_t reads, uint64_t writes);

#endif /* ESCK_TXIO_H */
