/* txio.c --- a transactional io_manager over unix_io or undo_io: before-images in memory, commit or roll back */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "grow.h"
#include "txio.h"

#define TXIO_MAGIC 0x74786f31u /* "txo1": our private data, not a channel */

/*
 * Past this many bytes of pending writes, a transaction writes them out
 * early (still undoable): memory stays bounded, only the crash window grows.
 */
#define TXIO_PENDING_MAX (64u << 20)

/* Blocks txio_peek() keeps in place at once: a path down an extent tree. */
#define TXIO_PINS 8u

/*
 * len bytes at byte offset off: what one write overwrote (a before-image), or
 * what a write of the transaction will put there (a pending write).
 */
struct txio_image {
	uint64_t off;
	uint32_t len;
	void *buf;
	uint64_t mark; /* a pending write's txio_mark(), 0 if none */
};

struct txio_private {
	unsigned int magic;
	io_channel real;
	int in_tx;
	errcode_t tx_error; /* the first I/O error of the transaction */
	/* Before-images, oldest first. */
	struct txio_image *img;
	size_t nr, cap;
	uint64_t bytes;
	/* Pending writes, in the order of their last writes. */
	struct txio_image *pend;
	size_t nr_pend, cap_pend;
	uint64_t pend_bytes;
	int wrote; /* the transaction has written to the image */
	/*
	 * Clean single blocks as the image holds them, direct-mapped: the
	 * backing channel runs uncached, and libext2fs's extent handle reads
	 * the path from the root again for every lookup.  Whatever writes to
	 * the image forgets what it covers.
	 */
	uint64_t *cache_blk;	/* block + 1 in each slot, 0 if empty */
	uint64_t *cache_use;	/* when each slot was last used */
	uint64_t cache_clock;
	char *cache_data;
	/*
	 * Where each slot's block lives in cache_data, + 1, 0 until the slot
	 * is first used: areas are handed out in order, so the memory the
	 * cache touches is what it holds, not the 16 MiB its sets span.
	 */
	uint32_t *cache_area;
	unsigned int cache_areas;
	/*
	 * The tag a reader's check of each slot's block passed with (see
	 * txio_mark()), + 2^32; 0 if none.  New contents clear it.
	 */
	uint64_t *cache_mark;
	unsigned int cache_slots, cache_bs;
	/* Slots txio_peek() handed out, kept from reuse until txio_unpin(). */
	unsigned int pin[TXIO_PINS];
	unsigned int nr_pin;
	/*
	 * Group commit (txio_group_begin): committed transactions whose
	 * writes are still in memory, as whole blocks of gbs bytes, each with
	 * what the image held before the group, found by a hash on the block.
	 */
	int group;
	int group_full; /* a transaction outgrew the group's memory */
	unsigned int gbs;
	struct txio_dirty *dirty;
	size_t nr_dirty, cap_dirty;
	uint32_t *dhash; /* index + 1 into dirty, 0 if empty */
	size_t dhash_cap;
	/*
	 * The write-out's buffer for runs of adjacent blocks, kept: a fresh
	 * 256 KiB each time is a fresh mapping, its pages faulted in again.
	 */
	char *run;
	size_t run_bytes;
	/* txio_group_order(): the write-out's order, by rank then block. */
	int (*rank)(void *arg, uint64_t blk, const void *data,
		    const void *before);
	void *rank_arg;
};

struct txio_dirty {
	uint64_t blk;  /* in gbs units */
	int rank;      /* set for the write-out */
	uint64_t mark; /* txio_mark() of data, 0 if none */
	char *data;   /* the block as the group left it */
	char *before; /* the block as the image held it before the group */
};

/*
 * At most this many bytes of cached blocks (and 4096 blocks), in sets of
 * TXIO_CACHE_WAYS slots, the least recently used of a set replaced: a
 * block mapped to one slot by its number alone kept losing the bitmaps
 * and the tree's upper nodes to the leaves of a large tree.
 */
#define TXIO_CACHE_BYTES (16u << 20)
#define TXIO_CACHE_WAYS 4u

static io_manager backing; /* NULL: unix_io_manager */
static uint64_t fail_nth, fail_read_nth;
static uint64_t writes_seen, reads_seen;
static int faults_held; /* txio_fault_hold(): nothing counted, nothing failed */

/*
 * A group's failed write: the first later write over the same bytes fails
 * too, so the op that meets them when the group is retried op by op fails
 * as the group did.
 */
static uint64_t bad_off, bad_len;

void txio_set_backing_manager(io_manager manager)
{
	backing = manager;
}

void txio_set_fail_write(uint64_t nth)
{
	fail_nth = nth;
	writes_seen = 0;
	bad_off = bad_len = 0;
}

uint64_t txio_writes_seen(void)
{
	return writes_seen;
}

void txio_set_fail_read(uint64_t nth)
{
	fail_read_nth = nth;
	reads_seen = 0;
}

uint64_t txio_reads_seen(void)
{
	return reads_seen;
}

int txio_fault_hold(int hold)
{
	int was = faults_held;

	faults_held = hold;
	return was;
}

void txio_fault_set_seen(uint64_t reads, uint64_t writes)
{
	reads_seen = reads;
	writes_seen = writes;
}

/* Counts one write; nonzero if it is the one the test wants to fail. */
static int fault_now(void)
{
	if (faults_held)
		return 0;
	writes_seen++;
	return fail_nth && writes_seen == fail_nth;
}

/* Counts one write of [off, off + len); nonzero if it must fail. */
static int write_fails(uint64_t off, uint64_t len, int group)
{
	if (faults_held)
		return 0;
	if (fault_now()) {
		bad_off = off;
		bad_len = group ? len : 0;
		return 1;
	}
	if (bad_len && off < bad_off + bad_len && bad_off < off + len) {
		bad_len = 0;
		return 1;
	}
	return 0;
}

/* The same for reads. */
static int read_fault_now(void)
{
	if (faults_held)
		return 0;
	reads_seen++;
	return fail_read_nth && reads_seen == fail_read_nth;
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

/*
 * The cached blocks in memory of their own, offered to the kernel as
 * transparent huge pages: otherwise the first read of each block takes a
 * page fault of its own, and on a virtual machine the 1,500 of opening a
 * large tree were a fifth of the opening.
 */
static char *data_map(size_t bytes)
{
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(m, bytes, MADV_HUGEPAGE);
#endif
	return m;
}

static void cache_free(struct txio_private *p)
{
	free(p->cache_blk);
	free(p->cache_use);
	free(p->cache_area);
	free(p->cache_mark);
	p->cache_area = NULL;
	p->cache_mark = NULL;
	p->cache_areas = 0;
	p->nr_pin = 0;
	if (p->cache_data)
		munmap(p->cache_data, (size_t)p->cache_slots * p->cache_bs);
	p->cache_blk = NULL;
	p->cache_use = NULL;
	p->cache_data = NULL;
	p->cache_slots = 0;
}

/* The first slot of block b's set. */
static unsigned int cache_set(const struct txio_private *p, uint64_t b)
{
	return (unsigned int)(b % (p->cache_slots / TXIO_CACHE_WAYS)) *
	       TXIO_CACHE_WAYS;
}

/* The slot holding block b (now the most recently used), or -1. */
static int cache_find(struct txio_private *p, uint64_t b)
{
	unsigned int s = cache_set(p, b), i;

	for (i = s; i < s + TXIO_CACHE_WAYS; i++)
		if (p->cache_blk[i] == b + 1) {
			p->cache_use[i] = ++p->cache_clock;
			return (int)i;
		}
	return -1;
}

/* Slot k's block. */
static char *slot_data(struct txio_private *p, unsigned int k)
{
	if (!p->cache_area[k])
		p->cache_area[k] = ++p->cache_areas;
	return p->cache_data + (size_t)(p->cache_area[k] - 1) * p->cache_bs;
}

static int pinned(const struct txio_private *p, unsigned int k)
{
	unsigned int i;

	for (i = 0; i < p->nr_pin; i++)
		if (p->pin[i] == k)
			return 1;
	return 0;
}

/*
 * A slot for block b, which it is then said to hold: empty, or the least
 * recently used of its set that is not pinned; -1 if all of them are.
 */
static int cache_claim(struct txio_private *p, uint64_t b)
{
	unsigned int s = cache_set(p, b), i;
	int v = -1;

	for (i = s; i < s + TXIO_CACHE_WAYS; i++) {
		if (p->nr_pin && pinned(p, i))
			continue;
		if (!p->cache_blk[i]) {
			v = (int)i;
			break;
		}
		if (v < 0 || p->cache_use[i] < p->cache_use[v])
			v = (int)i;
	}
	if (v < 0)
		return -1;
	p->cache_blk[v] = b + 1;
	p->cache_use[v] = ++p->cache_clock;
	p->cache_mark[v] = 0;
	return v;
}

/* Empty cache slots for blocks of bs bytes; no cache if memory is short. */
static void cache_setup(struct txio_private *p, unsigned int bs)
{
	unsigned int slots = bs ? TXIO_CACHE_BYTES / bs : 0;

	cache_free(p);
	if (slots > 4096)
		slots = 4096;
	slots -= slots % TXIO_CACHE_WAYS;
	if (!slots)
		return;
	p->cache_blk = calloc(slots, sizeof(*p->cache_blk));
	p->cache_use = calloc(slots, sizeof(*p->cache_use));
	p->cache_area = calloc(slots, sizeof(*p->cache_area));
	p->cache_mark = calloc(slots, sizeof(*p->cache_mark));
	p->cache_data = data_map((size_t)slots * bs);
	p->cache_slots = slots;
	p->cache_bs = bs;
	if (!p->cache_blk || !p->cache_use || !p->cache_area || !p->cache_mark ||
	    !p->cache_data)
		cache_free(p);
}

/* Forget every cached block that [off, off + len) touches. */
static void cache_forget(struct txio_private *p, uint64_t off, uint64_t len)
{
	uint64_t b, first, last;

	if (!p->cache_slots || !len)
		return;
	first = off / p->cache_bs;
	last = (off + len - 1) / p->cache_bs;
	if (last - first >= p->cache_slots) {
		memset(p->cache_blk, 0, p->cache_slots * sizeof(*p->cache_blk));
		return;
	}
	for (b = first; b <= last; b++) {
		int k = cache_find(p, b);

		if (k >= 0)
			p->cache_blk[k] = 0;
	}
}

static void drop_images(struct txio_private *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		free(p->img[i].buf);
	p->nr = 0;
	p->bytes = 0;
}

static void drop_pending(struct txio_private *p)
{
	size_t i;

	for (i = 0; i < p->nr_pend; i++)
		free(p->pend[i].buf);
	p->nr_pend = 0;
	p->pend_bytes = 0;
}

/*
 * [off, off + len) of the image as the disk holds it, off a multiple of the
 * backing channel's block size.  Ranges of up to 8 cache blocks go through
 * the cache, whole cache blocks at a time: libext2fs writes the primary
 * superblock with the channel's block size set to 1 KiB, and that read is
 * served by the cached block 0 like any other.  A cache block that cannot
 * be read whole (past the end of a short image) is read as asked, uncached.
 */
static errcode_t read_real(struct txio_private *p, uint64_t off, uint64_t len,
			   void *buf)
{
	uint64_t rbs = (uint64_t)p->real->block_size;

	return io_channel_read_blk64(p->real, off / rbs, -(int)len, buf);
}

/*
 * The slot holding cache block b, read from the image into one on a miss;
 * -1 without one (no cache, a block size the cache cannot hold, every
 * slot of its set pinned) or if the read failed.
 */
static int load_slot(struct txio_private *p, uint64_t b)
{
	uint64_t rbs = (uint64_t)p->real->block_size, cbs = p->cache_bs;
	int k;

	if (!p->cache_slots || rbs > cbs)
		return -1;
	k = cache_find(p, b);
	if (k >= 0)
		return k;
	k = cache_claim(p, b);
	if (k >= 0 && io_channel_read_blk64(p->real, b * (cbs / rbs), -(int)cbs,
					    slot_data(p, (unsigned int)k))) {
		p->cache_blk[k] = 0;
		k = -1;
	}
	return k;
}

static errcode_t read_disk(struct txio_private *p, uint64_t off, uint64_t len,
			   void *buf)
{
	uint64_t rbs = (uint64_t)p->real->block_size, cbs = p->cache_bs;
	uint64_t b, lo, hi;

	if (!p->cache_slots || !len || rbs > cbs || len > 8 * cbs)
		return read_real(p, off, len, buf);
	for (b = off / cbs; b * cbs < off + len; b++) {
		int k = load_slot(p, b);
		const char *c;

		/*
		 * Every slot of its set pinned, or a read error: past the
		 * cache, which reports the error.
		 */
		if (k < 0)
			return read_real(p, off, len, buf);
		c = slot_data(p, (unsigned int)k);
		lo = b * cbs > off ? b * cbs : off;
		hi = (b + 1) * cbs < off + len ? (b + 1) * cbs : off + len;
		memcpy((char *)buf + (lo - off), c + (lo - b * cbs), hi - lo);
	}
	return 0;
}

/*
 * After [off, off + len) was written to the image: the cache learns the
 * blocks the write covered whole and patches the cached ones it covered in
 * part, so the reads that follow (the next op's path, the verification)
 * see what was written without reading it back.
 */
static void cache_store(struct txio_private *p, uint64_t off, uint64_t len,
			const void *data)
{
	uint64_t cbs = p->cache_bs, b, lo, hi;

	if (!p->cache_slots || !len)
		return;
	if ((off + len - 1) / cbs - off / cbs >= p->cache_slots) {
		cache_forget(p, off, len);
		return;
	}
	for (b = off / cbs; b * cbs < off + len; b++) {
		int k = cache_find(p, b);

		lo = b * cbs > off ? b * cbs : off;
		hi = (b + 1) * cbs < off + len ? (b + 1) * cbs : off + len;
		if (k < 0 && hi - lo == cbs)
			k = cache_claim(p, b);
		if (k < 0)
			continue;
		p->cache_mark[k] = 0;
		memcpy(slot_data(p, (unsigned int)k) + (lo - b * cbs),
		       (const char *)data + (lo - off), hi - lo);
	}
}

/*
 * One pending write to the image.  Whole blocks go as whole blocks
 * (unix_io's pwrite); a part of a block whose whole is cached (the
 * superblock) goes as that whole block, patched; anything else byte-wise
 * (unix_io's lseek and write).
 */
static errcode_t write_real(struct txio_private *p, uint64_t off, uint64_t len,
			    const void *data)
{
	uint64_t rbs = (uint64_t)p->real->block_size, first, n, b;
	errcode_t retval;
	char *buf;

	if (off % rbs == 0 && len % rbs == 0)
		return io_channel_write_blk64(p->real, off / rbs,
					      (int)(len / rbs), data);
	first = off / rbs;
	n = (off + len + rbs - 1) / rbs - first;
	if (!p->cache_slots || p->cache_bs != rbs || n > 8)
		goto bytewise;
	for (b = first; b < first + n; b++)
		if (cache_find(p, b) < 0)
			goto bytewise;
	buf = malloc(n * rbs);
	if (!buf)
		goto bytewise;
	for (b = first; b < first + n; b++)
		memcpy(buf + (b - first) * rbs,
		       slot_data(p, (unsigned int)cache_find(p, b)), rbs);
	memcpy(buf + (off - first * rbs), data, len);
	retval = io_channel_write_blk64(p->real, first, (int)n, buf);
	free(buf);
	return retval;
bytewise:
	return io_channel_write_byte(p->real, (unsigned long)off, (int)len,
				     data);
}

/*
 * Write the pending writes to the image, oldest first; each one is a write
 * the fault schedule counts.  Stops at the first error: the transaction is
 * then rolled back, which restores every range whatever was written.
 */
static errcode_t write_out(struct txio_private *p)
{
	struct txio_image *w;
	errcode_t retval = 0;
	size_t i;

	for (i = 0; i < p->nr_pend && !retval; i++) {
		w = &p->pend[i];
		p->wrote = 1;
		if (write_fails(w->off, w->len, 0))
			retval = EIO;
		else
			retval = write_real(p, w->off, w->len, w->buf);
		if (retval)
			cache_forget(p, w->off, w->len);
		else
			cache_store(p, w->off, w->len, w->buf);
	}
	if (!retval)
		drop_pending(p);
	return retval;
}

/* Copy what the pending writes put into [off, off + len) over data. */
static void overlay(const struct txio_private *p, uint64_t off, uint64_t len,
		    void *data)
{
	const struct txio_image *w;
	uint64_t lo, hi;
	size_t i;

	for (i = 0; i < p->nr_pend; i++) {
		w = &p->pend[i];
		lo = w->off > off ? w->off : off;
		hi = w->off + w->len < off + len ? w->off + w->len : off + len;
		if (lo < hi)
			memcpy((char *)data + (lo - off),
			       (const char *)w->buf + (lo - w->off), hi - lo);
	}
}

/* ---- group commit: committed transactions held in memory ---- */

static size_t dhash_slot(const struct txio_private *p, uint64_t blk)
{
	return (size_t)((blk * 0x9e3779b97f4a7c15ull) >> 32) &
	       (p->dhash_cap - 1);
}

static struct txio_dirty *dirty_find(const struct txio_private *p,
				     uint64_t blk)
{
	size_t i;

	if (!p->nr_dirty)
		return NULL;
	for (i = dhash_slot(p, blk); p->dhash[i];
	     i = (i + 1) & (p->dhash_cap - 1))
		if (p->dirty[p->dhash[i] - 1].blk == blk)
			return &p->dirty[p->dhash[i] - 1];
	return NULL;
}

/* Room in the hash for one more block, at most half full. */
static errcode_t dhash_room(struct txio_private *p)
{
	size_t cap = p->dhash_cap ? p->dhash_cap : 64, i, j;
	uint32_t *h;

	if (2 * (p->nr_dirty + 1) <= p->dhash_cap)
		return 0;
	while (2 * (p->nr_dirty + 1) > cap)
		cap *= 2;
	h = calloc(cap, sizeof(*h));
	if (!h)
		return ENOMEM;
	free(p->dhash);
	p->dhash = h;
	p->dhash_cap = cap;
	for (i = 0; i < p->nr_dirty; i++) {
		for (j = dhash_slot(p, p->dirty[i].blk); h[j];
		     j = (j + 1) & (cap - 1))
			;
		h[j] = (uint32_t)(i + 1);
	}
	return 0;
}

static void dirty_drop(struct txio_private *p)
{
	size_t i;

	for (i = 0; i < p->nr_dirty; i++) {
		free(p->dirty[i].data);
		free(p->dirty[i].before);
	}
	if (p->nr_dirty)
		memset(p->dhash, 0, p->dhash_cap * sizeof(*p->dhash));
	p->nr_dirty = 0;
}

/* The group's block blk, made with its before-image if it is new. */
static errcode_t dirty_get(struct txio_private *p, uint64_t blk)
{
	uint64_t rbs = (uint64_t)p->real->block_size;
	struct txio_dirty *d;
	errcode_t retval;
	void *arr;
	size_t j;

	if (dirty_find(p, blk))
		return 0;
	if (p->gbs % rbs || p->nr_dirty >= UINT32_MAX - 1)
		return EXT2_ET_UNIMPLEMENTED;
	retval = dhash_room(p);
	if (retval)
		return retval;
	arr = p->dirty;
	retval = esck_grow(&arr, &p->cap_dirty, p->nr_dirty, sizeof(*p->dirty),
			   64);
	p->dirty = arr;
	if (retval)
		return retval;
	d = &p->dirty[p->nr_dirty];
	d->blk = blk;
	d->mark = 0;
	d->before = malloc(p->gbs);
	d->data = malloc(p->gbs);
	retval = d->before && d->data ? 0 : ENOMEM;
	if (!retval)
		retval = read_disk(p, blk * p->gbs, p->gbs, d->before);
	if (retval) {
		free(d->before);
		free(d->data);
		return retval;
	}
	memcpy(d->data, d->before, p->gbs);
	for (j = dhash_slot(p, blk); p->dhash[j];
	     j = (j + 1) & (p->dhash_cap - 1))
		;
	p->dhash[j] = (uint32_t)++p->nr_dirty;
	return 0;
}

/*
 * Commit in a group: the transaction's writes join the group's blocks.
 * Every block is made first (what can fail), then patched (what cannot),
 * so a failure leaves the group as it was, plus blocks equal to the image.
 */
static errcode_t group_stage(struct txio_private *p)
{
	const uint64_t g = p->gbs;
	struct txio_image *w;
	struct txio_dirty *d;
	uint64_t b, lo, hi;
	errcode_t retval;
	size_t i;

	for (i = 0; i < p->nr_pend; i++)
		for (w = &p->pend[i], b = w->off / g; b * g < w->off + w->len;
		     b++) {
			retval = dirty_get(p, b);
			if (retval)
				return retval;
		}
	for (i = 0; i < p->nr_pend; i++)
		for (w = &p->pend[i], b = w->off / g; b * g < w->off + w->len;
		     b++) {
			d = dirty_find(p, b);
			if (w->off == b * g && w->len == g) {
				/* A whole block: take the write's copy, not a second one. */
				free(d->data);
				d->data = w->buf;
				d->mark = w->mark;
				w->buf = NULL;
				break;
			}
			d->mark = 0;
			lo = b * g > w->off ? b * g : w->off;
			hi = (b + 1) * g < w->off + w->len ? (b + 1) * g
							   : w->off + w->len;
			memcpy(d->data + (lo - b * g),
			       (const char *)w->buf + (lo - w->off), hi - lo);
		}
	drop_pending(p);
	return 0;
}

/* Copy what the group holds of [off, off + len) over data. */
static void overlay_dirty(const struct txio_private *p, uint64_t off,
			  uint64_t len, void *data)
{
	const uint64_t g = p->gbs;
	const struct txio_dirty *d;
	uint64_t b, lo, hi;
	size_t i;

	if (!p->nr_dirty || !len)
		return;
	for (i = 0, b = off / g; b * g < off + len; b++, i++) {
		if (len / g > p->nr_dirty) {
			/* A long read: look the group's blocks up instead. */
			if (i >= p->nr_dirty)
				break;
			d = &p->dirty[i];
			b = d->blk;
			if ((b + 1) * g <= off || b * g >= off + len)
				continue;
		} else if (!(d = dirty_find(p, b))) {
			continue;
		}
		lo = b * g > off ? b * g : off;
		hi = (b + 1) * g < off + len ? (b + 1) * g : off + len;
		memcpy((char *)data + (lo - off), d->data + (lo - b * g),
		       hi - lo);
	}
}

static int dirty_cmp(const void *a, const void *b)
{
	const struct txio_dirty *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->blk < y->blk ? -1 : x->blk > y->blk;
}

/* Blocks written by one write of a group's write-out, at most. */
#define TXIO_RUN_BLOCKS 64u

/*
 * Write the group out in block order, adjacent blocks in one write.  A
 * failed write puts back the before-images of everything written so far,
 * so the image is as it was when the group began, and the group is gone.
 */
static errcode_t group_flush(struct txio_private *p)
{
	const uint64_t g = p->gbs;
	errcode_t retval = 0, err;
	size_t i, j, done = 0;
	uint64_t off, len;
	char *run;

	if (!p->nr_dirty)
		return 0;
	for (i = 0; i < p->nr_dirty; i++)
		p->dirty[i].rank = p->rank ? p->rank(p->rank_arg, p->dirty[i].blk,
						     p->dirty[i].data,
						     p->dirty[i].before)
					   : 0;
	qsort(p->dirty, p->nr_dirty, sizeof(*p->dirty), dirty_cmp);
	if (p->run_bytes < TXIO_RUN_BLOCKS * (size_t)g) {
		free(p->run);
		p->run = malloc(TXIO_RUN_BLOCKS * (size_t)g);
		p->run_bytes = p->run ? TXIO_RUN_BLOCKS * (size_t)g : 0;
	}
	run = p->run;
	for (i = 0; i < p->nr_dirty && !retval; i = j) {
		for (j = i + 1; run && j < p->nr_dirty &&
				j - i < TXIO_RUN_BLOCKS &&
				p->dirty[j].rank == p->dirty[j - 1].rank &&
				p->dirty[j].blk == p->dirty[j - 1].blk + 1;
		     j++)
			memcpy(run + (j - i) * g, p->dirty[j].data, g);
		off = p->dirty[i].blk * g;
		len = (j - i) * g;
		if (j - i > 1)
			memcpy(run, p->dirty[i].data, g);
		done = j;
		if (write_fails(off, len, 1))
			retval = EIO;
		else
			retval = write_real(p, off, len,
					    j - i > 1 ? run : p->dirty[i].data);
	}
	if (retval) {
		for (i = 0; i < done; i++) {
			err = write_real(p, p->dirty[i].blk * g, g,
					 p->dirty[i].before);
			(void)err; /* the write-out's error is the one to tell */
		}
		(void)io_channel_flush(p->real);
		if (p->cache_slots)
			memset(p->cache_blk, 0,
			       p->cache_slots * sizeof(*p->cache_blk));
	} else {
		for (i = 0; i < p->nr_dirty; i++)
			cache_store(p, p->dirty[i].blk * g, g,
				    p->dirty[i].data);
	}
	/* Sorted, the hash is stale: drop both. */
	dirty_drop(p);
	return retval;
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

	/* A group's transactions never reach the image before they commit. */
	if (!p->in_tx || !len || p->group)
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
	retval = read_disk(p, first * bs, n, buf);
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
 * libext2fs ignores some I/O errors (ext2fs_extent_replace() drops the one
 * from writing the path back), so a transaction remembers its first read or
 * write error and txio_commit() refuses to commit over it.
 */
static errcode_t note_error(struct txio_private *p, errcode_t retval)
{
	if (retval && p->in_tx && !p->tx_error)
		p->tx_error = retval;
	return retval;
}

/*
 * A write inside a transaction: save what it overwrites, then hold it.  A
 * second write of the same range replaces the first and moves to the end,
 * so the image sees each range once, in the order of the last writes.
 */
static errcode_t buffer_write(struct txio_private *p, uint64_t off,
			      uint64_t len, const void *data)
{
	struct txio_image *w;
	errcode_t retval;
	void *arr, *buf;
	size_t i;

	if (!len)
		return 0;
	if (len > INT32_MAX || off + len > ULONG_MAX)
		return EXT2_ET_UNIMPLEMENTED;
	retval = save_range(p, off, len);
	if (retval)
		return retval;
	buf = malloc(len);
	if (!buf)
		return ENOMEM;
	memcpy(buf, data, len);
	for (i = 0; i < p->nr_pend; i++) {
		if (p->pend[i].off == off && p->pend[i].len == len) {
			free(p->pend[i].buf);
			p->pend_bytes -= len;
			memmove(&p->pend[i], &p->pend[i + 1],
				(p->nr_pend - i - 1) * sizeof(*p->pend));
			p->nr_pend--;
			break;
		}
	}
	arr = p->pend;
	retval =
		esck_grow(&arr, &p->cap_pend, p->nr_pend, sizeof(*p->pend), 64);
	p->pend = arr;
	if (retval) {
		free(buf);
		return retval;
	}
	w = &p->pend[p->nr_pend++];
	w->off = off;
	w->len = (uint32_t)len;
	w->buf = buf;
	w->mark = 0;
	p->pend_bytes += len;
	if (p->pend_bytes > TXIO_PENDING_MAX && p->group) {
		/* Not written early behind the group: the caller retries alone. */
		p->group_full = 1;
		retval = EFBIG;
	} else if (p->pend_bytes > TXIO_PENDING_MAX) {
		retval = write_out(p);
	}
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
	retval = (backing ? backing : unix_io_manager)
			 ->open(name, flags, &p->real);
	if (retval)
		goto out_free;
	/*
	 * No write-back cache below us: a failing write must fail inside its
	 * transaction, and a commit then needs no flush (nor an fsync per op).
	 * undo_io passes the option down to its own unix_io channel.
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
	cache_setup(p, (unsigned int)io->block_size);
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
	errcode_t retval, err;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (--io->refcount > 0)
		return 0;
	/* An unfinished transaction is rolled back: never leave half an op. */
	if (p->in_tx)
		txio_rollback(io);
	retval = group_flush(p);
	err = io_channel_close(p->real);
	if (!retval)
		retval = err;
	drop_images(p);
	drop_pending(p);
	free(p->dirty);
	free(p->dhash);
	free(p->run);
	cache_free(p);
	free(p->img);
	free(p->pend);
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
	if (!retval) {
		io->block_size = blksize;
		/*
		 * Kept across a switch to a smaller size: libext2fs goes to
		 * 1 KiB and back for every superblock write.
		 */
		if ((unsigned int)blksize > p->cache_bs)
			cache_setup(p, (unsigned int)blksize);
	}
	return retval;
}

static errcode_t txio_read_blk64(io_channel io, unsigned long long block,
				 int count, void *data)
{
	struct txio_private *p = priv_of(io);
	const struct txio_dirty *d;
	uint64_t len;
	errcode_t retval;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (read_fault_now())
		return note_error(p, EIO);
	len = count < 0 ? (uint64_t) - (int64_t)count
			: (uint64_t)count * (uint64_t)io->block_size;
	if (p->nr_dirty && len == p->gbs &&
	    (uint64_t)block * io->block_size % p->gbs == 0 &&
	    (d = dirty_find(p, (uint64_t)block * io->block_size / p->gbs))) {
		/* The group holds all of it: the image's copy would be overlaid whole. */
		memcpy(data, d->data, len);
		retval = 0;
		goto pending;
	}
	if (io->block_size == p->real->block_size)
		retval = read_disk(p, (uint64_t)block * io->block_size, len,
				   data);
	else
		retval = io_channel_read_blk64(p->real, block, count, data);
	if (!retval && p->nr_dirty)
		overlay_dirty(p, (uint64_t)block * (uint64_t)io->block_size,
			      len, data);
pending:
	if (!retval && p->nr_pend) {
		overlay(p, (uint64_t)block * (uint64_t)io->block_size, len,
			data);
	}
	return note_error(p, retval);
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
	if (p->in_tx)
		retval = buffer_write(
			p, (uint64_t)block * (uint64_t)io->block_size, len,
			data);
	else if ((retval = group_flush(p)) != 0)
		;
	else if (write_fails((uint64_t)block * io->block_size, len, 0))
		retval = EIO;
	else
		retval = io_channel_write_blk64(p->real, block, count, data);
	if (!p->in_tx)
		cache_forget(p, (uint64_t)block * (uint64_t)io->block_size, len);
	return note_error(p, retval);
}

static errcode_t txio_write_blk(io_channel io, unsigned long block, int count,
				const void *data)
{
	return txio_write_blk64(io, block, count, data);
}

static errcode_t txio_flush(io_channel io)
{
	struct txio_private *p = priv_of(io);

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	/* Inside a transaction the group stays: the op may yet roll back. */
	if (!p->in_tx && p->nr_dirty) {
		errcode_t retval = group_flush(p);

		if (retval)
			return retval;
	}
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
	uint64_t len;
	errcode_t retval;
	void *zero;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	len = (uint64_t)count * (uint64_t)io->block_size;
	if (p->in_tx) {
		/* A pending write of zeros, in order with the others. */
		if (len > INT32_MAX)
			return note_error(p, EXT2_ET_UNIMPLEMENTED);
		zero = calloc(1, len ? len : 1);
		if (!zero)
			return note_error(p, ENOMEM);
		retval = buffer_write(p, (uint64_t)block * io->block_size, len,
				      zero);
		free(zero);
	} else if ((retval = group_flush(p)) != 0) {
		;
	} else if (write_fails((uint64_t)block * io->block_size, len, 0)) {
		retval = EIO;
	} else {
		retval = io_channel_zeroout(p->real, block, count);
		cache_forget(p, (uint64_t)block * io->block_size, len);
	}
	return note_error(p, retval);
}

void txio_forget_cache(io_channel io)
{
	struct txio_private *p = priv_of(io);
	size_t i;

	if (!p)
		return;
	if (p->cache_slots)
		memset(p->cache_blk, 0, p->cache_slots * sizeof(*p->cache_blk));
	for (i = 0; i < p->nr_dirty; i++)
		p->dirty[i].mark = 0;
	for (i = 0; i < p->nr_pend; i++)
		p->pend[i].mark = 0;
}

errcode_t txio_begin(io_channel io)
{
	struct txio_private *p = priv_of(io);

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (p->in_tx)
		return EBUSY;
	drop_images(p);
	drop_pending(p);
	p->in_tx = 1;
	p->wrote = 0;
	p->tx_error = 0;
	p->group_full = 0;
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
	retval = p->group ? group_stage(p) : write_out(p);
	if (retval)
		return note_error(p, retval);
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
	drop_pending(p);
	/* Nothing reached the image: it is as it was at txio_begin(). */
	if (!p->wrote)
		drop_images(p);
	p->wrote = 0;
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
		cache_forget(p, p->img[i].off, p->img[i].len);
		if (err && !retval)
			retval = err;
	}
	err = io_channel_flush(p->real);
	if (err && !retval)
		retval = err;
	drop_images(p);
	return retval;
}

errcode_t txio_rewrite(io_channel io, uint64_t off, uint32_t len)
{
	struct txio_private *p = priv_of(io);
	uint64_t bs, first, n;
	errcode_t retval;
	void *buf;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (p->in_tx)
		return EBUSY;
	if (!len)
		return 0;
	/* Whole blocks, as save_range(): the backing channel reads no less. */
	bs = (uint64_t)p->real->block_size;
	first = off / bs;
	n = ((off + len + bs - 1) / bs - first) * bs;
	if (n > INT32_MAX || first * bs > ULONG_MAX)
		return EINVAL;
	buf = malloc(n);
	if (!buf)
		return ENOMEM;
	retval = io_channel_read_blk64(p->real, first, -(int)n, buf);
	if (!retval)
		retval = io_channel_write_byte(
			p->real, (unsigned long)(first * bs), (int)n, buf);
	cache_forget(p, first * bs, n);
	free(buf);
	return retval;
}

errcode_t txio_group_begin(io_channel io)
{
	struct txio_private *p = priv_of(io);

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (p->in_tx)
		return EBUSY;
	if (!p->group) {
		p->group = 1;
		p->gbs = (unsigned int)io->block_size;
	}
	return 0;
}

errcode_t txio_group_flush(io_channel io)
{
	struct txio_private *p = priv_of(io);

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (p->in_tx)
		return EBUSY;
	return group_flush(p);
}

errcode_t txio_group_end(io_channel io)
{
	struct txio_private *p = priv_of(io);
	errcode_t retval;

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (p->in_tx)
		return EBUSY;
	retval = group_flush(p);
	p->group = 0;
	return retval;
}

void txio_group_order(io_channel io,
		      int (*rank)(void *arg, uint64_t blk, const void *data,
				  const void *before),
		      void *arg)
{
	struct txio_private *p = priv_of(io);

	if (p) {
		p->rank = rank;
		p->rank_arg = arg;
	}
}

errcode_t txio_group_drop(io_channel io)
{
	struct txio_private *p = priv_of(io);

	if (!p)
		return EXT2_ET_BAD_MAGIC;
	if (p->in_tx)
		return EBUSY;
	/* Nothing of a group reaches the image before its write-out. */
	dirty_drop(p);
	p->group = 0;
	return 0;
}

uint64_t txio_group_bytes(io_channel io)
{
	struct txio_private *p = priv_of(io);

	return p ? (uint64_t)p->nr_dirty * p->gbs : 0;
}

int txio_group_full(io_channel io)
{
	struct txio_private *p = priv_of(io);

	return p ? p->group_full : 0;
}

uint64_t txio_pending_bytes(io_channel io)
{
	struct txio_private *p = priv_of(io);

	return p ? p->bytes + p->pend_bytes : 0;
}

/*
 * The slot of block blk (of the channel's block size) if what a read of
 * it returns now is the cached copy: no write of the group or of the open
 * transaction covers it.
 */
static int visible_slot(struct txio_private *p, io_channel io, uint64_t blk)
{
	uint64_t off = blk * (uint64_t)io->block_size;
	size_t i;

	if (!p->cache_slots || (uint64_t)io->block_size != p->cache_bs)
		return -1;
	/* A group of another block size: its blocks cannot be looked up. */
	if (p->nr_dirty && (p->gbs != p->cache_bs || dirty_find(p, blk)))
		return -1;
	for (i = 0; i < p->nr_pend; i++)
		if (p->pend[i].off < off + p->cache_bs &&
		    off < p->pend[i].off + p->pend[i].len)
			return -1;
	return cache_find(p, blk);
}

/*
 * Whether block blk's contents as a read returns them now are held whole
 * ahead of the cache: 1 with *w the one pending write over it, or *d the
 * group's copy (the other NULL); 0 if neither holds any of it; -1 if a
 * read pieces it together (it is partly written).
 */
static inline int held_whole(struct txio_private *p, io_channel io,
			     uint64_t blk, struct txio_image **w,
			     struct txio_dirty **d)
{
	uint64_t bs = (uint64_t)io->block_size, off = blk * bs;
	size_t i;

	*w = NULL;
	*d = NULL;
	for (i = 0; i < p->nr_pend; i++) {
		if (p->pend[i].off >= off + bs || off >= p->pend[i].off + p->pend[i].len)
			continue;
		if (*w || p->pend[i].off != off || p->pend[i].len != bs)
			return -1;
		*w = &p->pend[i];
	}
	if (*w)
		return 1;
	if (p->nr_dirty && p->gbs == bs && (*d = dirty_find(p, blk)) != NULL)
		return 1;
	return 0;
}

/*
 * Where the mark of block blk's contents as a read returns them now is
 * kept, if they are held as one whole block: the one pending write over
 * it, else the group's copy, else the cached slot.  NULL if there is no
 * such place (the block is partly written, or of another size).
 */
static uint64_t *mark_of(struct txio_private *p, io_channel io, uint64_t blk)
{
	struct txio_image *w;
	struct txio_dirty *d;
	int k, held = held_whole(p, io, blk, &w, &d);

	if (held)
		return held < 0 ? NULL : w ? &w->mark : &d->mark;
	k = visible_slot(p, io, blk);
	return k >= 0 ? &p->cache_mark[k] : NULL;
}

void txio_mark(io_channel io, uint64_t blk, uint32_t tag)
{
	struct txio_private *p = priv_of(io);
	uint64_t *m = p ? mark_of(p, io, blk) : NULL;

	if (m)
		*m = (UINT64_C(1) << 32) | tag;
}

int txio_marked(io_channel io, uint64_t blk, uint32_t tag)
{
	struct txio_private *p = priv_of(io);
	uint64_t *m = p ? mark_of(p, io, blk) : NULL;

	return m && *m == ((UINT64_C(1) << 32) | tag);
}

errcode_t txio_peek(io_channel io, uint64_t blk, const void **data)
{
	struct txio_private *p = priv_of(io);
	const void *found = NULL;
	struct txio_image *w;
	struct txio_dirty *d;
	uint64_t bs;
	int k, held;

	*data = NULL;
	if (!p)
		return EXT2_ET_BAD_MAGIC;
	bs = (uint64_t)io->block_size;
	held = held_whole(p, io, blk, &w, &d);
	if (held < 0)
		return 0; /* pieced together: a read copies it */
	if (held) {
		found = w ? w->buf : d->data;
	} else if (p->nr_pin < TXIO_PINS && bs == p->cache_bs &&
		   (!p->nr_dirty || p->gbs == bs)) {
		/* A read that fails here fails again, reported, in the read. */
		k = load_slot(p, blk);
		if (k < 0)
			return 0;
		p->pin[p->nr_pin++] = (unsigned int)k;
		found = slot_data(p, (unsigned int)k);
	}
	if (!found)
		return 0;
	/* A read like any other for fault injection. */
	if (read_fault_now())
		return note_error(p, EIO);
	*data = found;
	return 0;
}

void txio_unpin(io_channel io, const void *data)
{
	struct txio_private *p = priv_of(io);
	unsigned int i;

	if (!p)
		return;
	if (!data) {
		p->nr_pin = 0;
		return;
	}
	/* Only cached blocks are pinned: a held write's bytes are not. */
	for (i = 0; i < p->nr_pin; i++)
		if ((const void *)slot_data(p, p->pin[i]) == data) {
			p->pin[i] = p->pin[--p->nr_pin];
			return;
		}
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
	.set_option = txio_set_option,
	.read_blk64 = txio_read_blk64,
	.write_blk64 = txio_write_blk64,
	.discard = txio_discard,
	.zeroout = txio_zeroout,
};

io_manager txio_io_manager = &txio_manager;
