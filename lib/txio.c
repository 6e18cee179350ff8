/* txio.c --- a transactional io_manager over unix_io: before-images in memory, commit or roll back */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "txio.h"

#define TXIO_MAGIC 0x74786f31u /* "txo1": our private data, not a channel */

/* What one write overwrote: len bytes at byte offset off. */
struct txio_image {
	uint64_t off;
	uint32_t len;
	void *buf;
};

struct txio_private {
	unsigned int magic;
	io_channel real;
	int in_tx;
	errcode_t tx_error; /* the first write error of the transaction */
	struct txio_image *img;
	size_t nr, cap;
	uint64_t bytes;
};

static uint64_t fail_nth;
static uint64_t writes_seen;

void txio_set_fail_write(uint64_t nth)
{
	fail_nth = nth;
	writes_seen = 0;
}

uint64_t txio_writes_seen(void)
{
	return writes_seen;
}

/* Counts one write; nonzero if it is the one the test wants to fail. */
static int fault_now(void)
{
	writes_seen++;
	return fail_nth && writes_seen == fail_nth;
}

static struct txio_private *priv_of(io_channel io)
{
	struct txio_private *p;

	if (!io || io->manager != txio_io_manager)
		return NULL;
	p = io->private_data;
	return p && p->magic == TXIO_MAGIC ? p : NULL;
}

int txio_is_txio(io_channel io)
{
	return priv_of(io) != NULL;
}

static void drop_images(struct txio_private *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		free(p->img[i].buf);
	p->nr = 0;
	p->bytes = 0;
}

/*
 * Save the whole blocks (of the backing channel's current size) that cover
 * [off, off + len), before they are overwritten.  Whole blocks because the
 * backing channel reads only at block boundaries; restoring a little more
 * than was written is harmless since the extra bytes are the old ones too.
 */
static errcode_t save_range(struct txio_private *p, uint64_t off, uint64_t len)
{
	uint64_t bs = (uint64_t)p->real->block_size;
	uint64_t first = off / bs, last = (off + len + bs - 1) / bs;
	uint64_t n = (last - first) * bs;
	struct txio_image *im;
	errcode_t retval;
	void *arr, *buf;

	if (!p->in_tx || !len)
		return 0;
	if (n > INT32_MAX)
		return EXT2_ET_UNIMPLEMENTED;
	arr = p->img;
	retval = esck_grow(&arr, &p->cap, p->nr, sizeof(*p->img), 64);
	p->img = arr;
	if (retval)
		return retval;
	buf = malloc(n);
	if (!buf)
		return ENOMEM;
	retval = io_channel_read_blk64(p->real, first, -(int)n, buf);
	if (retval) {
		free(buf);
		return retval;
	}
	im = &p->img[p->nr++];
	im->off = first * bs;
	im->len = (uint32_t)n;
	im->buf = buf;
	p->bytes += n;
	return 0;
}

/*
 * libext2fs ignores some write errors (ext2fs_extent_replace() drops the
 * one from writing the path back), so a transaction remembers its first
 * and txio_commit() refuses to commit over it.
 */
static errcode_t note_error(struct txio_private *p, errcode_t retval)
{
	if (retval && p->in_tx && !p->tx_error)
		p->tx_error = retval;
	return retval;
}

static errcode_t txio_open(const char *name, int flags, io_channel *channel)
{
	struct txio_private *p;
	io_channel io;
	errcode_t retval;

	if (!name || !channel)
		return EXT2_ET_BAD_DEVICE_NAME;
	io = calloc(1, sizeof(*io));
	p = calloc(1, sizeof(*p));
	if (!io || !p) {
		retval = ENOMEM;
		goto out_free;
	}
	io->name = strdup(name);
	if (!io->name) {
		retval = ENOMEM;
		goto out_free;
	}
	retval = unix_io_manager->open(name, flags, &p->real);
	if (retval)
		goto out_free;
	/*
	 * No write-back cache below us: a failing write must fail inside its
	 * transaction, and a commit then needs no flush (nor an fsync per op).
	 */
	retval = io_channel_set_options(p->real, "cache=off");
	if (retval) {
		io_channel_close(p->real);
		goto out_free;
	}
	p->magic = TXIO_MAGIC;
	io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	io->manager = txio_io_manager;
	io->block_size = p->real->block_size;
	io->refcount = 1;
	io->flags = p->real->flags;
	io->private_data = p;
	*channel = io;
	return 0;

out_free:
	if (io)
		free(io->name);
	free(io);
	free(p);
	return retval;
}

static errcode_t txio_close(io_channel io)
{
	struct txio_private *p = priv_of(io);
	errcode_t retval;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (--io->refcount > 0)
		return 0;
	/* An unfinished transaction is rolled back: never leave half an op. */
	if (p->in_tx)
		txio_rollback(io);
	retval = io_channel_close(p->real);
	drop_images(p);
	free(p->img);
	free(p);
	free(io->name);
	free(io);
	return retval;
}

static errcode_t txio_set_blksize(io_channel io, int blksize)
{
	struct txio_private *p = priv_of(io);
	errcode_t retval;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	retval = io_channel_set_blksize(p->real, blksize);
	if (!retval)
		io->block_size = blksize;
	return retval;
}

static errcode_t txio_read_blk64(io_channel io, unsigned long long block,
				 int count, void *data)
{
	struct txio_private *p = priv_of(io);

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	return io_channel_read_blk64(p->real, block, count, data);
}

static errcode_t txio_read_blk(io_channel io, unsigned long block, int count,
			       void *data)
{
	return txio_read_blk64(io, block, count, data);
}

static errcode_t txio_write_blk64(io_channel io, unsigned long long block,
				  int count, const void *data)
{
	struct txio_private *p = priv_of(io);
	uint64_t len;
	errcode_t retval;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	len = count < 0 ? (uint64_t) - (int64_t)count
			: (uint64_t)count * (uint64_t)io->block_size;
	retval = save_range(p, (uint64_t)block * (uint64_t)io->block_size, len);
	if (retval)
		return retval;
	if (fault_now())
		retval = EIO;
	else
		retval = io_channel_write_blk64(p->real, block, count, data);
	return note_error(p, retval);
}

static errcode_t txio_write_blk(io_channel io, unsigned long block, int count,
				const void *data)
{
	return txio_write_blk64(io, block, count, data);
}

static errcode_t txio_write_byte(io_channel io, unsigned long offset, int size,
				 const void *data)
{
	struct txio_private *p = priv_of(io);
	errcode_t retval;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (size < 0)
		return EINVAL;
	retval = save_range(p, offset, (uint64_t)size);
	if (retval)
		return retval;
	if (fault_now())
		retval = EIO;
	else
		retval = io_channel_write_byte(p->real, offset, size, data);
	return note_error(p, retval);
}

static errcode_t txio_flush(io_channel io)
{
	struct txio_private *p = priv_of(io);

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	return io_channel_flush(p->real);
}

static errcode_t txio_set_option(io_channel io, const char *option,
				 const char *arg)
{
	struct txio_private *p = priv_of(io);

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (!p->real->manager->set_option)
		return EXT2_ET_INVALID_ARGUMENT;
	return p->real->manager->set_option(p->real, option, arg);
}

/* Discarded contents cannot be restored, so there is no discard. */
static errcode_t txio_discard(io_channel io, unsigned long long block,
			      unsigned long long count)
{
	(void)io;
	(void)block;
	(void)count;
	return EXT2_ET_UNIMPLEMENTED;
}

static errcode_t txio_zeroout(io_channel io, unsigned long long block,
			      unsigned long long count)
{
	struct txio_private *p = priv_of(io);
	errcode_t retval;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	retval = save_range(p, (uint64_t)block * (uint64_t)io->block_size,
			    (uint64_t)count * (uint64_t)io->block_size);
	if (retval)
		return retval;
	if (fault_now())
		retval = EIO;
	else
		retval = io_channel_zeroout(p->real, block, count);
	return note_error(p, retval);
}

errcode_t txio_begin(io_channel io)
{
	struct txio_private *p = priv_of(io);

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (p->in_tx)
		return EBUSY;
	drop_images(p);
	p->in_tx = 1;
	p->tx_error = 0;
	return 0;
}

errcode_t txio_commit(io_channel io)
{
	struct txio_private *p = priv_of(io);
	errcode_t retval;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	retval = p->tx_error;
	if (retval)
		return retval;
	p->in_tx = 0;
	drop_images(p);
	return 0;
}

errcode_t txio_rollback(io_channel io)
{
	struct txio_private *p = priv_of(io);
	errcode_t retval = 0, err;
	size_t i;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	p->in_tx = 0;
	p->tx_error = 0;
	/*
	 * Newest first: a range written twice gets the image saved before
	 * its first write last, which is the state at txio_begin().
	 * write_byte flushes and invalidates the backing cache first, so no
	 * stale cached block can be written over a restored one later.
	 */
	for (i = p->nr; i-- > 0;) {
		err = io_channel_write_byte(p->real,
					    (unsigned long)p->img[i].off,
					    (int)p->img[i].len, p->img[i].buf);
		if (err && !retval)
			retval = err;
	}
	err = io_channel_flush(p->real);
	if (err && !retval)
		retval = err;
	drop_images(p);
	return retval;
}

uint64_t txio_pending_bytes(io_channel io)
{
	struct txio_private *p = priv_of(io);

	return p ? p->bytes : 0;
}

static struct struct_io_manager txio_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "esck transactional I/O manager",
	.open = txio_open,
	.close = txio_close,
	.set_blksize = txio_set_blksize,
	.read_blk = txio_read_blk,
	.write_blk = txio_write_blk,
	.flush = txio_flush,
	.write_byte = txio_write_byte,
	.set_option = txio_set_option,
	.read_blk64 = txio_read_blk64,
	.write_blk64 = txio_write_blk64,
	.discard = txio_discard,
	.zeroout = txio_zeroout,
};

io_manager txio_io_manager = &txio_manager;
