/* replay_pending.c --- pwrite's dirty data until writeback: delayed allocation, fsync, the end of a script */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replay_int.h"

#include <ext2fs/ext3_extents.h> /* after ext2fs.h */

/* ---- the store: a sorted array of dirty blocks ---- */

void replay_pend_free(struct replay_pending *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		free(p->v[i].buf);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

errcode_t replay_pend_copy(struct replay_pending *dst,
			   const struct replay_pending *src,
			   unsigned int blocksize)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	if (!src->nr)
		return 0;
	dst->v = malloc(src->nr * sizeof(*dst->v));
	if (!dst->v)
		return ENOMEM;
	dst->cap = src->nr;
	for (i = 0; i < src->nr; i++) {
		dst->v[i] = src->v[i];
		dst->v[i].buf = NULL;
		dst->nr = i + 1;
		if (!src->v[i].buf)
			continue;
		dst->v[i].buf = malloc(blocksize);
		if (!dst->v[i].buf) {
			replay_pend_free(dst);
			return ENOMEM;
		}
		memcpy(dst->v[i].buf, src->v[i].buf, blocksize);
	}
	return 0;
}

/* Room for want entries. */
static errcode_t pend_reserve(struct replay_pending *p, size_t want)
{
	size_t ncap = p->cap ? p->cap : 16;
	void *n;

	if (want <= p->cap)
		return 0;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2 / sizeof(*p->v))
			return ENOMEM;
		ncap *= 2;
	}
	n = realloc(p->v, ncap * sizeof(*p->v));
	if (!n)
		return ENOMEM;
	p->v = n;
	p->cap = ncap;
	return 0;
}

size_t replay_pend_first(const struct replay_pending *p, uint32_t lblk)
{
	size_t lo = 0, hi = p->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->v[mid].lblk < lblk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct replay_pblock *replay_pend_find(const struct replay_pending *p,
				       uint32_t lblk)
{
	size_t i = replay_pend_first(p, lblk);

	return i < p->nr && p->v[i].lblk == lblk ? &p->v[i] : NULL;
}

void replay_pend_drop(struct replay_pending *p, uint32_t lo, uint32_t hi)
{
	size_t i, j, k;

	if (lo > hi || !p->nr)
		return;
	i = replay_pend_first(p, lo);
	for (j = i; j < p->nr && p->v[j].lblk <= hi; j++)
		free(p->v[j].buf);
	if (j == i)
		return;
	for (k = j; k < p->nr; k++)
		p->v[i + k - j] = p->v[k];
	p->nr -= j - i;
}

/* The content of b into buf (blocksize bytes). */
static void pblock_read(const struct replay_pblock *b, uint8_t *buf,
			unsigned int bs)
{
	if (b->buf)
		memcpy(buf, b->buf, bs);
	else
		memset(buf, b->fill, bs);
}

/* Give b a buffer of its own, so that part of it can change. */
static errcode_t pblock_materialize(struct replay_pblock *b, unsigned int bs)
{
	if (b->buf)
		return 0;
	b->buf = malloc(bs);
	if (!b->buf)
		return ENOMEM;
	memset(b->buf, b->fill, bs);
	return 0;
}

errcode_t replay_pend_zero(struct esck_replay *r, struct replay_file *f,
			   uint32_t lblk, unsigned int from, unsigned int to,
			   int *dirty)
{
	struct replay_pblock *b = replay_pend_find(&f->pend, lblk);
	errcode_t retval;

	*dirty = b != NULL;
	if (!b || from >= to)
		return 0;
	if (!b->buf && !b->fill)
		return 0; /* all zeros already */
	if (!b->buf && from == 0 && to == r->fs->blocksize) {
		b->fill = 0;
		return 0;
	}
	retval = pblock_materialize(b, r->fs->blocksize);
	if (retval)
		return retval;
	memset(b->buf + from, 0, to - from);
	return 0;
}

/* ---- pwrite ---- */

/*
 * f's map on disk: an extent handle, or a block map (ind), or neither when
 * f exists in the cache alone.
 */
struct pmap {
	ext2_extent_handle_t h;
	struct esck_replay *ind;
	struct ext2_inode *inode;
};

static errcode_t open_handle(struct esck_replay *r, struct replay_file *f,
			     struct ext2_inode *inode, struct pmap *m)
{
	memset(m, 0, sizeof(*m));
	m->inode = inode;
	if (!f->ino)
		return 0;
	if (!(inode->i_flags & EXT4_EXTENTS_FL)) {
		m->ind = r;
		return 0;
	}
	return ext2fs_extent_open2(r->fs, f->ino, inode, &m->h);
}

static void close_handle(struct pmap *m)
{
	if (m->h)
		ext2fs_extent_free(m->h);
	m->h = NULL;
}

/* As replay_disk_run, everything a hole without a map. */
static errcode_t disk_run(const struct pmap *m, uint32_t lblk, uint32_t end,
			  unsigned int *type, uint64_t *pblk, uint32_t *len)
{
	if (m->h)
		return replay_disk_run(m->h, lblk, end, type, pblk, len);
	if (m->ind)
		return replay_ind_disk_run(m->ind, m->inode, lblk, end, type,
					   pblk, len);
	*type = ES_HOLE;
	*pblk = 0;
	*len = end - lblk + 1;
	return 0;
}

/* Delayed blocks held by every file: the kernel's dirty clusters. */
static uint64_t delayed_total(struct esck_replay *r)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < r->nr_files; i++)
		n += es_count_blocks(&r->files[i]->tree, ES_DELAYED, 0,
				     ES_MAX_BLOCKS);
	return n;
}

/*
 * Room for n more delayed blocks?  ext4_has_free_clusters for root (xfs_io
 * runs as root): the root-reserved blocks are usable, s_resv_clusters
 * (ext4_calculate_resv_clusters: 2% of the blocks, at most 4096) is not.
 */
static int have_room(struct esck_replay *r, uint64_t n)
{
	uint64_t blocks = ext2fs_blocks_count(r->fs->super);
	uint64_t free_blocks = ext2fs_free_blocks_count(r->fs->super);
	uint64_t resv = blocks / 50, dirty = 0;
	size_t i;

	if (resv > 4096)
		resv = 4096;
	/* Dirty blocks bound the delayed ones: count those only if need be. */
	for (i = 0; i < r->nr_files; i++)
		dirty += r->files[i]->pend.nr;
	if (free_blocks >= n + dirty + resv)
		return 1;
	return free_blocks >= n + delayed_total(r) + resv;
}

/*
 * Count the hole blocks of [b0, b1] that are not dirty yet: the new
 * delayed blocks a write there makes.
 */
static errcode_t count_new_delayed(struct replay_file *f,
				   const struct pmap *h, uint32_t b0,
				   uint32_t b1, uint64_t *n)
{
	uint64_t lblk = b0, pblk;
	unsigned int type;
	uint32_t len;
	size_t i;
	errcode_t retval;

	*n = 0;
	while (lblk <= b1) {
		retval = disk_run(h, (uint32_t)lblk, b1, &type, &pblk, &len);
		if (retval)
			return retval;
		if (type == ES_HOLE) {
			*n += len;
			i = replay_pend_first(&f->pend, (uint32_t)lblk);
			for (; i < f->pend.nr &&
			       f->pend.v[i].lblk <= lblk + len - 1;
			     i++)
				(*n)--;
		}
		lblk += len;
	}
	return 0;
}

/*
 * Without room for all the new delayed blocks of [off, off + len), the
 * kernel's write stops at the page holding the first one that does not
 * fit (ext4_da_write_begin fails that folio; the ones before are written):
 * the bytes that fit, 0 if none.
 */
static errcode_t fit_len(struct esck_replay *r, struct replay_file *f,
			 const struct pmap *h, uint64_t off, uint64_t len,
			 uint64_t *fit)
{
	unsigned int bs = r->fs->blocksize, type;
	uint64_t blocks = ext2fs_blocks_count(r->fs->super);
	uint64_t free_blocks = ext2fs_free_blocks_count(r->fs->super);
	uint64_t resv = blocks / 50, used, avail = 0, lblk, b, pblk, cut;
	uint32_t b1 = (uint32_t)((off + len - 1) / bs), rlen;
	errcode_t retval;

	if (resv > 4096)
		resv = 4096;
	used = delayed_total(r) + resv;
	if (free_blocks > used)
		avail = free_blocks - used;
	*fit = len;
	for (lblk = off / bs; lblk <= b1; lblk += rlen) {
		retval = disk_run(h, (uint32_t)lblk, b1, &type, &pblk, &rlen);
		if (retval)
			return retval;
		if (type != ES_HOLE)
			continue;
		for (b = lblk; b < lblk + rlen; b++) {
			if (replay_pend_find(&f->pend, (uint32_t)b))
				continue;
			if (!avail) {
				cut = b * bs / REPLAY_PAGE_SIZE *
				      REPLAY_PAGE_SIZE;
				*fit = cut > off ? cut - off : 0;
				return 0;
			}
			avail--;
		}
	}
	return 0;
}

/*
 * Under bigalloc delalloc reserves by the logical cluster (kernel-es.md §4,
 * pending reservations): a cluster needs one when it holds a dirty block
 * and no block of it is on disk; a cluster on disk already has its blocks.
 */
static errcode_t cluster_on_disk(struct esck_replay *r, const struct pmap *h,
				 uint32_t c0, int *mapped)
{
	uint32_t last = c0 + EXT2FS_CLUSTER_MASK(r->fs), lb, rlen;
	unsigned int type;
	uint64_t pblk;
	errcode_t retval;

	*mapped = 0;
	if (last > LBLK_LAST || last < c0)
		last = LBLK_LAST;
	for (lb = c0; lb <= last && lb >= c0; lb += rlen) {
		retval = disk_run(h, lb, last, &type, &pblk, &rlen);
		if (retval)
			return retval;
		if (type != ES_HOLE) {
			*mapped = 1;
			return 0;
		}
	}
	return 0;
}

/* Does f hold a dirty block in the logical cluster starting at c0? */
static int cluster_dirty(const struct replay_file *f, uint32_t c0,
			 uint32_t mask)
{
	size_t i = replay_pend_first(&f->pend, c0);

	return i < f->pend.nr && f->pend.v[i].lblk <= c0 + mask;
}

/* The clusters reserved for all files' delayed blocks. */
static errcode_t reserved_clusters(struct esck_replay *r, uint64_t *n)
{
	uint32_t mask = EXT2FS_CLUSTER_MASK(r->fs), c0;
	struct ext2_inode inode;
	struct pmap h;
	struct replay_file *f;
	size_t i, k;
	int mapped;
	errcode_t retval = 0;

	*n = 0;
	for (k = 0; k < r->nr_files && !retval; k++) {
		f = r->files[k];
		if (!f->pend.nr)
			continue;
		memset(&h, 0, sizeof(h));
		memset(&inode, 0, sizeof(inode));
		if (f->ino) {
			retval = ext2fs_read_inode(r->fs, f->ino, &inode);
			if (!retval)
				retval = open_handle(r, f, &inode, &h);
			if (retval)
				break;
		}
		for (i = 0; i < f->pend.nr && !retval;) {
			c0 = f->pend.v[i].lblk & ~mask;
			retval = cluster_on_disk(r, &h, c0, &mapped);
			*n += !mapped;
			while (i < f->pend.nr && f->pend.v[i].lblk <= c0 + mask)
				i++;
		}
		close_handle(&h);
	}
	return retval;
}

/*
 * The bigalloc form of the room check: the clusters of [off, off + len)
 * that need a new reservation must fit in the free clusters, less those
 * reserved already and s_resv_clusters; else the write stops at the page
 * holding the first block of the first cluster that does not fit.
 */
static errcode_t fit_clusters(struct esck_replay *r, struct replay_file *f,
			      const struct pmap *h, uint64_t off,
			      uint64_t *len)
{
	ext2_filsys fs = r->fs;
	uint32_t mask = EXT2FS_CLUSTER_MASK(fs), bs = fs->blocksize;
	uint64_t b0 = off / bs, b1 = (off + *len - 1) / bs, c0, first, cut;
	uint64_t clusters = ext2fs_blocks_count(fs->super) >> fs->cluster_ratio_bits;
	uint64_t free_c = ext2fs_free_blocks_count(fs->super) >> fs->cluster_ratio_bits;
	uint64_t resv = clusters / 50, used, avail = 0, want = 0;
	int pass, mapped;
	errcode_t retval;

	if (resv > 4096)
		resv = 4096;
	retval = reserved_clusters(r, &used);
	if (retval)
		return retval;
	used += resv;
	if (free_c > used)
		avail = free_c - used;
	/* Pass 0 counts; pass 1, when they do not all fit, finds the cut. */
	for (pass = 0; pass < 2; pass++) {
		for (c0 = b0 & ~(uint64_t)mask; c0 <= b1; c0 += mask + 1) {
			if (cluster_dirty(f, (uint32_t)c0, mask))
				continue;
			retval = cluster_on_disk(r, h, (uint32_t)c0, &mapped);
			if (retval)
				return retval;
			if (mapped)
				continue;
			if (!pass) {
				want++;
				continue;
			}
			if (!avail) {
				first = c0 > b0 ? c0 : b0;
				cut = first * bs / REPLAY_PAGE_SIZE *
				      REPLAY_PAGE_SIZE;
				*len = cut > off ? cut - off : 0;
				return 0;
			}
			avail--;
		}
		if (want <= avail)
			return 0;
	}
	return 0;
}

/* Is every byte of buf (bs bytes) buf[0]? */
static int uniform(const uint8_t *buf, unsigned int bs)
{
	return buf[0] == buf[bs - 1] && !memcmp(buf, buf + 1, bs - 1);
}

/*
 * The new content of a partly written block lblk: what the page cache would
 * hold before the copy -- the dirty data, else the disk's data of a WRITTEN
 * block, else zeros (a new buffer over a hole or an unwritten block is
 * zeroed, ext4_da_get_block_prep's set_buffer_new) -- then fill over
 * [from, to).
 */
static errcode_t partial_block(struct esck_replay *r, struct replay_file *f,
			       const struct pmap *h, uint32_t lblk,
			       unsigned int from, unsigned int to, uint8_t fill,
			       struct replay_pblock *nb)
{
	unsigned int bs = r->fs->blocksize, type;
	struct replay_pblock *old = replay_pend_find(&f->pend, lblk);
	uint64_t pblk;
	uint32_t len;
	uint8_t *buf;
	errcode_t retval;

	buf = malloc(bs);
	if (!buf)
		return ENOMEM;
	if (old) {
		pblock_read(old, buf, bs);
	} else {
		retval = disk_run(h, lblk, lblk, &type, &pblk, &len);
		if (!retval && type == ES_WRITTEN)
			retval = io_channel_read_blk64(r->fs->io, pblk, 1, buf);
		else
			memset(buf, 0, bs);
		if (retval) {
			free(buf);
			return retval;
		}
	}
	memset(buf + from, fill, to - from);
	nb->lblk = lblk;
	if (uniform(buf, bs)) {
		nb->fill = buf[0];
		nb->buf = NULL;
		free(buf);
	} else {
		nb->fill = 0;
		nb->buf = buf;
	}
	return 0;
}

errcode_t replay_pwrite(struct esck_replay *r, struct replay_file *f,
			struct ext2_inode *inode, uint64_t off, uint64_t *lenp,
			uint8_t fill)
{
	unsigned int bs = r->fs->blocksize, type;
	uint64_t len = *lenp;
	uint32_t b0 = (uint32_t)(off / bs),
		 b1 = (uint32_t)((off + len - 1) / bs);
	uint32_t from, to;
	struct replay_pblock head = {0, 0, NULL}, tail = {0, 0, NULL};
	struct replay_pending *p = &f->pend;
	struct pmap map;
	const struct pmap *h = &map;
	uint64_t n, lblk, pblk, k;
	size_t i, j, m;
	uint32_t rlen;
	errcode_t retval;

	retval = open_handle(r, f, inode, &map);
	if (retval)
		return retval;
	if (EXT2FS_CLUSTER_RATIO(r->fs) > 1) {
		retval = fit_clusters(r, f, h, off, &len);
		if (!retval && !len)
			retval = ENOSPC;
		if (retval)
			goto out_free;
		*lenp = len;
		b1 = (uint32_t)((off + len - 1) / bs);
		n = 0;
	} else {
		retval = count_new_delayed(f, h, b0, b1, &n);
	}
	if (retval)
		goto out_free;
	if (n && !have_room(r, n)) {
		retval = fit_len(r, f, h, off, len, &len);
		if (!retval && !len)
			retval = ENOSPC;
		if (retval)
			goto out_free;
		*lenp = len;
		b1 = (uint32_t)((off + len - 1) / bs);
	}
	from = (uint32_t)(off % bs);
	to = (uint32_t)((off + len - 1) % bs + 1);
	k = (uint64_t)b1 - b0 + 1;
	/* The partial blocks at the ends, before anything changes. */
	if (from || (b0 == b1 && to < bs))
		retval = partial_block(r, f, h, b0, from, b0 == b1 ? to : bs,
				       fill, &head);
	if (!retval && b1 != b0 && to < bs)
		retval = partial_block(r, f, h, b1, 0, to, fill, &tail);
	if (retval)
		goto out_bufs;

	/* Splice: the dirty blocks of [b0, b1] give way to k new ones. */
	i = replay_pend_first(p, b0);
	for (j = i; j < p->nr && p->v[j].lblk <= b1; j++)
		;
	retval = pend_reserve(p, p->nr - (j - i) + (size_t)k);
	if (retval)
		goto out_bufs;
	for (m = i; m < j; m++)
		free(p->v[m].buf);
	memmove(p->v + i + k, p->v + j, (p->nr - j) * sizeof(*p->v));
	p->nr = p->nr - (j - i) + (size_t)k;
	for (m = 0; m < k; m++) {
		p->v[i + m].lblk = b0 + (uint32_t)m;
		p->v[i + m].fill = fill;
		p->v[i + m].buf = NULL;
	}
	if (from || (b0 == b1 && to < bs))
		p->v[i] = head;
	if (b1 != b0 && to < bs)
		p->v[i + k - 1] = tail;
	/*
	 * Both are in p->v now, under the conditions that filled them (false:
	 * clang-analyzer-unix.Malloc sees a leak of tail.buf here).
	 */
	head.buf = tail.buf = NULL;	/* NOLINT(clang-analyzer-unix.Malloc) */

	/* The holes among them are delayed allocations: must-keep entries. */
	lblk = b0;
	while (lblk <= b1) {
		retval = disk_run(h, (uint32_t)lblk, b1, &type, &pblk, &rlen);
		if (retval)
			goto out_free; /* a read error: the op is rolled back */
		if (type == ES_HOLE)
			es_insert(&f->tree, (uint32_t)lblk, rlen, 0,
				  ES_DELAYED);
		lblk += rlen;
	}
out_bufs:
	free(head.buf);
	free(tail.buf);
out_free:
	close_handle(&map);
	return retval;
}

/* ---- writeback ---- */

/* Write dirty block b to pblk, zeroing what lies at or past i_size. */
static errcode_t write_block(struct esck_replay *r, struct replay_file *f,
			     const struct replay_pblock *b, uint64_t pblk)
{
	unsigned int bs = r->fs->blocksize;
	uint64_t start = (uint64_t)b->lblk * bs;

	pblock_read(b, (uint8_t *)r->buf, bs);
	if (f->size < start + bs)
		memset(r->buf + (f->size - start), 0, start + bs - f->size);
	return io_channel_write_blk64(r->fs->io, pblk, 1, r->buf);
}

/*
 * The delayed run v[0..n) (consecutive blocks, a hole on disk): allocate,
 * as mballoc would try, near the file's blocks before it (under bigalloc
 * into the file's own cluster where one backs the block); write; map.
 */
static errcode_t write_delayed(struct esck_replay *r, struct replay_file *f,
			       const struct pmap *m, struct ext2_inode *inode,
			       const struct replay_pblock *v, size_t n)
{
	blk64_t pblk, k;
	uint32_t plen;
	size_t done = 0;
	errcode_t retval;

	while (done < n) {
		if (m->ind) {
			uint64_t p;
			uint32_t got;

			/* Mapped there, with the indirect blocks it needs. */
			retval = replay_ind_alloc(r, f->ino, inode,
						  v[done].lblk,
						  (uint32_t)(n - done), &p,
						  &got);
			if (retval)
				return retval;
			for (k = 0; k < got && !retval; k++)
				retval = write_block(r, f, &v[done + k], p + k);
			if (retval)
				return retval;
			done += got;
			continue;
		}
		plen = (uint32_t)(n - done);
		retval = replay_alloc_run(r, m->h, f->ino, inode, v[done].lblk,
					  &plen, &pblk);
		if (retval)
			return retval;
		for (k = 0; k < plen; k++) {
			retval = write_block(r, f, &v[done + k], pblk + k);
			if (!retval)
				retval = ext2fs_extent_set_bmap(
					m->h, v[done + k].lblk, pblk + k, 0);
			if (retval)
				return retval;
		}
		/*
		 * set_bmap joins one neighbour; the kernel's insert joins
		 * both (ext4_ext_try_to_merge), as a block written into a
		 * hole of its own cluster under bigalloc shows.
		 */
		retval = replay_merge_right(m->h, v[done + plen - 1].lblk);
		if (!retval && v[done].lblk)
			retval = replay_merge_right(m->h, v[done].lblk - 1);
		if (retval)
			return retval;
		done += plen;
	}
	return 0;
}

errcode_t replay_writeback(struct esck_replay *r, struct replay_file *f,
			   uint32_t *lo, uint32_t *hi)
{
	struct replay_pending *p = &f->pend;
	unsigned int bs, type;
	struct ext2_inode inode;
	struct pmap m;
	uint64_t last, pblk;
	uint32_t rlen, first, end;
	size_t i, n, k;
	errcode_t retval;

	*lo = 1;
	*hi = 0;
	if (!p->nr || r->opts.dry_run || !f->ino)
		return 0;
	bs = r->fs->blocksize;
	retval = ext2fs_read_inode(r->fs, f->ino, &inode);
	if (retval)
		return retval;
	/*
	 * The range written is cached from the disk afterwards; its
	 * neighbours, which the verification compares too, before.
	 */
	if (p->v[0].lblk)
		retval = replay_fill(r, f, &inode, p->v[0].lblk - 1,
				     p->v[0].lblk - 1);
	if (!retval && p->v[p->nr - 1].lblk < LBLK_LAST)
		retval = replay_fill(r, f, &inode, p->v[p->nr - 1].lblk + 1,
				     p->v[p->nr - 1].lblk + 1);
	if (retval)
		return retval;
	retval = open_handle(r, f, &inode, &m);
	if (retval)
		return retval;
	/* Pages past EOF are not written back (truncate drops them anyway). */
	last = (f->size + bs - 1) / bs;
	for (i = 0; i < p->nr && p->v[i].lblk < last; i += n) {
		first = p->v[i].lblk;
		end = last - 1 < LBLK_LAST ? (uint32_t)(last - 1) : LBLK_LAST;
		retval = disk_run(&m, first, end, &type, &pblk, &rlen);
		if (retval)
			goto out_free;
		/* The dirty blocks that follow on, within the run. */
		for (n = 1;
		     i + n < p->nr && p->v[i + n].lblk == first + n && n < rlen;
		     n++)
			;
		if (type == ES_HOLE) {
			retval = write_delayed(r, f, &m, &inode, p->v + i, n);
			if (retval)
				goto out_free;
			continue;
		}
		for (k = 0; k < n && !retval; k++) {
			/*
			 * Over an unwritten extent the written blocks are
			 * converted, splitting it (the kernel's end_io
			 * conversion of exactly the range written).
			 */
			retval = write_block(r, f, &p->v[i + k], pblk + k);
			if (!retval && type == ES_UNWRITTEN)
				retval = ext2fs_extent_set_bmap(
					m.h, p->v[i + k].lblk, pblk + k, 0);
		}
		if (retval)
			goto out_free;
	}
	close_handle(&m);
	retval = ext2fs_write_inode(r->fs, f->ino, &inode);
	if (retval)
		return retval;
	*lo = p->v[0].lblk;
	*hi = p->v[p->nr - 1].lblk;
	/* What writeback mapped, into the cache: the DELAYED entries go. */
	retval = replay_cache_range(r, f, *lo, *hi);
	if (retval)
		return retval;
	replay_pend_free(p);
	return 0;

out_free:
	close_handle(&m);
	return retval;
}

errcode_t replay_pend_rebuild(struct esck_replay *r, struct replay_file *f)
{
	struct ext2_inode inode;
	struct pmap m;
	unsigned int type;
	uint64_t pblk;
	uint32_t rlen, s;
	size_t i, n;
	errcode_t retval;

	es_remove(&f->tree, 0, ES_MAX_BLOCKS);
	if (!f->ino)
		return 0;
	/* Lazily cached, the ops to come read what they reach again. */
	retval = r->lazy ? 0 : replay_load_cache(r, f);
	if (retval || !f->pend.nr)
		return retval;
	retval = ext2fs_read_inode(r->fs, f->ino, &inode);
	if (retval)
		return retval;
	retval = open_handle(r, f, &inode, &m);
	if (retval)
		return retval;
	for (i = 0; i < f->pend.nr; i += n) {
		s = f->pend.v[i].lblk;
		retval = disk_run(&m, s, LBLK_LAST, &type, &pblk, &rlen);
		if (retval)
			break;
		for (n = 1; i + n < f->pend.nr &&
			    f->pend.v[i + n].lblk == s + n && n < rlen;
		     n++)
			;
		if (type == ES_HOLE)
			es_insert(&f->tree, s, (uint32_t)n, 0, ES_DELAYED);
	}
	close_handle(&m);
	return retval;
}
