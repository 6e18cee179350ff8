/* txio.h --- a transactional io_manager: in-memory before-images, commit or roll back */
#ifndef ESCK_TXIO_H
#define ESCK_TXIO_H

#include <stdint.h>

#include <ext2fs/ext2fs.h>

/*
 * txio stacks over unix_io.  Between txio_begin() and txio_commit() every
 * write (blocks, bytes, zeroout) first saves what it overwrites, in memory;
 * txio_rollback() writes the saved images back newest first, so the image
 * returns to its state at txio_begin() whatever was written in between.
 * Outside a transaction writes go straight through.  Discard is refused:
 * its effect cannot be undone.
 */
extern io_manager txio_io_manager;

/* The txio channel of an fs opened with txio_io_manager, or NULL. */
int txio_is_txio(io_channel io);
errcode_t txio_begin(io_channel io);
/*
 * Drop the before-images (the backing channel runs uncached, so every write
 * has reached the file; no fsync is done per transaction).  Refuses (returns
 * the error, the transaction still open for txio_rollback()) if any write
 * of the transaction failed, even one its caller ignored.
 */
errcode_t txio_commit(io_channel io);
/* Write every before-image back (newest first) and flush. */
errcode_t txio_rollback(io_channel io);
/* Bytes of before-images held by the open transaction. */
uint64_t txio_pending_bytes(io_channel io);

/*
 * Fault injection for tests: make the nth write (1-based, counted over the
 * whole life of the channels opened after this call) fail with EIO, 0 for
 * none.  Writes done by a rollback are never failed and not counted.
 */
void txio_set_fail_write(uint64_t nth);
/* Writes counted so far under the fault schedule. */
uint64_t txio_writes_seen(void);

#endif /* ESCK_TXIO_H */
