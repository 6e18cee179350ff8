/* replay_verify.c --- after an op, compare the cache with a raw re-read of the on-disk tree */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "replay_int.h"

struct verify_ctx {
	struct esck_replay *r;
	struct replay_file *f;
	uint32_t lo, hi;
	uint64_t found;
};

static errcode_t read_block(void *arg, uint64_t blk, void *buf)
{
	struct esck_replay *r = arg;

	return io_channel_read_blk64(r->fs->io, blk, 1, buf);
}

/* The nodes a walk reads, in txio's own memory instead of copied. */
static int peek_block(void *arg, uint64_t blk, const void **data)
{
	struct esck_replay *r = arg;

	return txio_peek(r->fs->io, blk, data) ? 1 : 0;
}

static void peek_release(void *arg, const void *data)
{
	struct esck_replay *r = arg;

	txio_unpin(r->fs->io, data);
}

/*
 * A tree node's checksum is computed once while the node is unchanged in
 * txio's block cache: after each op the path to its range is read again,
 * and the index nodes above a leaf rarely change.
 */
static int csum_known(void *arg, uint64_t blk, uint32_t seed)
{
	struct esck_replay *r = arg;

	return txio_marked(r->fs->io, blk, seed);
}

static void csum_good(void *arg, uint64_t blk, uint32_t seed)
{
	struct esck_replay *r = arg;

	txio_mark(r->fs->io, blk, seed);
}

static void emit(struct verify_ctx *v, const struct esck_problem *p,
		 uint64_t size_cache, uint64_t size_disk)
{
	struct esck_replay_divergence d;
	struct esck_replay *r = v->r;

	memset(&d, 0, sizeof(d));
	d.op = r->op;
	d.ino = v->f->ino;
	d.problem = p;
	d.size_cache = size_cache;
	d.size_disk = size_disk;
	if (!p)
		snprintf(d.what, sizeof(d.what),
			 "inode %u: i_size %llu in the cache, %llu on disk",
			 v->f->ino, (unsigned long long)size_cache,
			 (unsigned long long)size_disk);
	else if (p->lblk != ESCK_NONE && p->len != ESCK_NONE)
		snprintf(d.what, sizeof(d.what),
			 "inode %u: %s: logical blocks %llu-%llu: %s",
			 v->f->ino, esck_problem_name(p->id),
			 (unsigned long long)p->lblk,
			 (unsigned long long)(p->lblk + p->len - 1),
			 esck_problem_message(p->id));
	else
		snprintf(d.what, sizeof(d.what), "inode %u: %s: %s", v->f->ino,
			 esck_problem_name(p->id), esck_problem_message(p->id));
	v->found++;
	if (r->sum)
		r->sum->divergences++;
	replay_report_divergence(r, &d);
}

/*
 * DELAYED entries against the dirty data, the analogue of the kernel's
 * reservation count matching its delayed blocks: a divergence with no
 * problem and equal sizes (a size mismatch has different ones).
 */
static void emit_delayed(struct verify_ctx *v, uint64_t lblk, uint64_t len,
			 const char *why)
{
	struct esck_replay_divergence d;
	struct esck_replay *r = v->r;

	memset(&d, 0, sizeof(d));
	d.op = r->op;
	d.ino = v->f->ino;
	d.size_cache = d.size_disk = v->f->size;
	snprintf(d.what, sizeof(d.what),
		 "inode %u: logical blocks %llu-%llu: %s", v->f->ino,
		 (unsigned long long)lblk, (unsigned long long)(lblk + len - 1),
		 why);
	v->found++;
	if (r->sum)
		r->sum->divergences++;
	replay_report_divergence(r, &d);
}

/*
 * Over [lo, hi]: every DELAYED block is dirty, and every dirty block is
 * DELAYED or mapped on disk (else its must-keep entry was lost).
 */
static errcode_t check_delayed(struct verify_ctx *v, struct ext2_inode *inode)
{
	static const char no_data[] = "delayed in the cache, no pending data";
	static const char no_entry[] = "pending data with no delayed entry";
	struct replay_file *f = v->f;
	struct replay_pending *p = &f->pend;
	struct es_extent es;
	struct es_iter it;
	uint64_t b, run = 0, run_len = 0, pblk;
	unsigned int type;
	size_t i;
	errcode_t retval;

	es_iter_start(&f->tree, v->lo, &it);
	while (es_iter_next(&it, &es) && es.lblk <= v->hi) {
		if (es_type(&es) != ES_DELAYED)
			continue;
		for (b = es.lblk > v->lo ? es.lblk : v->lo;
		     b <= es_end(&es) && b <= v->hi; b++) {
			if (replay_pend_find(p, (uint32_t)b))
				continue;
			if (run_len && run + run_len == b) {
				run_len++;
				continue;
			}
			if (run_len)
				emit_delayed(v, run, run_len, no_data);
			run = b;
			run_len = 1;
		}
	}
	if (run_len)
		emit_delayed(v, run, run_len, no_data);
	run_len = 0;
	for (i = replay_pend_first(p, v->lo);
	     i < p->nr && p->v[i].lblk <= v->hi; i++) {
		b = p->v[i].lblk;
		/* A look that leaves the entries' REFERENCED bits alone. */
		es_iter_start(&f->tree, (uint32_t)b, &it);
		if (es_iter_next(&it, &es) && es.lblk <= b &&
		    es_type(&es) == ES_DELAYED)
			continue;
		retval = replay_disk_lookup(v->r, f->ino, inode, (uint32_t)b,
					    &type, &pblk);
		if (retval)
			return retval;
		if (type != ES_HOLE)
			continue;
		if (run_len && run + run_len == b) {
			run_len++;
			continue;
		}
		if (run_len)
			emit_delayed(v, run, run_len, no_entry);
		run = b;
		run_len = 1;
	}
	if (run_len)
		emit_delayed(v, run, run_len, no_entry);
	return 0;
}

/* Only what falls in the range counts; the tree's own damage always does. */
static void on_problem(void *arg, const struct esck_problem *p)
{
	struct verify_ctx *v = arg;

	if (p->lblk != ESCK_NONE && p->len != ESCK_NONE && p->len &&
	    (p->lblk > v->hi || p->lblk + p->len - 1 < v->lo))
		return;
	emit(v, p, 0, 0);
}

#define LOAD_BATCH 256

struct damage_ctx {
	struct esck_replay *r;
	char *buf;
	size_t len;
	uint32_t ino;
	uint64_t first_data_block, blocks_count;
	struct es_tree *load;	/* cached into while no damage is seen */
	uint64_t next;		/* the first block not cached yet */
	/* Entries for load, cached a batch at a time (es_cache_extents()). */
	size_t nr_batch;
	struct es_extent batch[LOAD_BATCH];
};

static void load_flush(struct damage_ctx *d)
{
	if (d->nr_batch)
		(void)es_cache_extents(d->load, d->batch, d->nr_batch);
	d->nr_batch = 0;
}

static void load_add(struct damage_ctx *d, uint32_t lblk, uint32_t len,
		     uint64_t pblk, unsigned int type)
{
	struct es_extent *e;

	if (d->nr_batch == LOAD_BATCH)
		load_flush(d);
	e = &d->batch[d->nr_batch++];
	e->lblk = lblk;
	e->len = len;
	e->pblk = pblk;
	e->status = type;
}

static void first_problem(void *arg, const struct esck_problem *p)
{
	struct damage_ctx *d = arg;

	if (!d->buf[0])
		snprintf(d->buf, d->len, "%s: %s", esck_problem_name(p->id),
			 esck_problem_message(p->id));
}

/*
 * What replay_load_cache() caches, from the walk that checks: the extents
 * as the tree has them, and the holes between.  Damage found later throws
 * it all away.
 */
static int load_extent(struct damage_ctx *d, const struct esck_raw_extent *e)
{
	uint64_t last = (uint64_t)e->lblk + e->len - 1;

	if (!d->load || e->lblk > LBLK_LAST)
		return 0;
	if (last > LBLK_LAST)
		last = LBLK_LAST;
	if (e->lblk > d->next)
		load_add(d, (uint32_t)d->next, (uint32_t)(e->lblk - d->next), 0,
			 ES_HOLE);
	load_add(d, e->lblk, (uint32_t)(last - e->lblk + 1), e->pblk,
		 e->unwritten ? ES_UNWRITTEN : ES_WRITTEN);
	d->next = last + 1;
	return 0;
}

/*
 * Leaves are walked, not collected: memory stays flat on huge trees.  An
 * extent reaching outside the filesystem (up to 2^48 + 2^15 on disk) or
 * onto its metadata is damage too: the kernel's ext4_valid_extent()
 * refuses both, and freeing or moving such blocks would touch bitmaps that
 * do not exist, or free the superblock, a bitmap or an inode table.
 */
static int check_extent(void *arg, const struct esck_raw_extent *e)
{
	struct damage_ctx *d = arg;
	struct esck_problem p;
	enum esck_problem_id id;

	if (d->buf[0] || !e->len)
		return 0;
	if (e->pblk < d->first_data_block || e->pblk + e->len > d->blocks_count)
		id = ESCK_PR_MAP_OUT_OF_RANGE;
	else if (replay_meta_overlaps(d->r, d->ino, e->pblk, e->len))
		id = ESCK_PR_MAP_ON_METADATA;
	else
		return load_extent(d, e);
	esck_problem_init(&p, id, d->ino);
	p.lblk = e->lblk;
	p.len = e->len;
	p.pblk = e->pblk;
	first_problem(d, &p);
	return 0;
}

/*
 * The walker has refused a node outside the filesystem already; one on
 * metadata is the same problem (TREE_NODE_BLOCK, as inspect reports it),
 * and is found before anything under it is.
 */
static int check_node(void *arg, uint64_t blk)
{
	struct damage_ctx *d = arg;
	struct esck_problem p;

	if (d->buf[0] || !replay_meta_overlaps(d->r, d->ino, blk, 1))
		return 0;
	esck_problem_init(&p, ESCK_PR_TREE_NODE_BLOCK, d->ino);
	p.pblk = blk;
	first_problem(d, &p);
	return 0;
}

void replay_geometry(struct esck_replay *r, struct esck_raw_geometry *geo)
{
	memset(geo, 0, sizeof(*geo));
	geo->block_size = r->fs->blocksize;
	geo->blocks_count = ext2fs_blocks_count(r->fs->super);
	geo->first_data_block = r->fs->super->s_first_data_block;
	geo->has_csum = ext2fs_has_feature_metadata_csum(r->fs->super);
	geo->csum_seed = r->fs->csum_seed;
	geo->read_block = read_block;
	if (txio_is_txio(r->fs->io)) {
		geo->csum_known = csum_known;
		geo->csum_good = csum_good;
		geo->peek_block = peek_block;
		geo->peek_release = peek_release;
	}
	geo->arg = r;
	/* Without it, each walk allocates its own. */
	geo->scratch = replay_kept_buffer(&r->walk_scratch, &r->walk_bs,
					  geo->block_size,
					  ESCK_RAW_SCRATCH(geo->block_size));
}

errcode_t replay_check_tree(struct esck_replay *r, uint32_t ino,
			    struct ext2_inode *inode, char *damage, size_t len,
			    struct es_tree *load)
{
	struct esck_raw_geometry geo;
	struct esck_raw_tree raw;
	struct damage_ctx d;
	struct esck_raw_visitor vis = { check_extent, check_node, &d };
	errcode_t retval;

	memset(&d, 0, offsetof(struct damage_ctx, batch));
	d.r = r;
	d.buf = damage;
	d.len = len;
	d.ino = ino;
	d.load = load;
	damage[0] = '\0';
	retval = replay_meta_build(r);
	if (retval)
		return retval;
	if (!(inode->i_flags & EXT4_EXTENTS_FL))
		return replay_ind_check(r, ino, inode, first_problem, &d);
	replay_geometry(r, &geo);
	d.first_data_block = geo.first_data_block;
	d.blocks_count = geo.blocks_count;
	retval = esck_raw_walk(&geo, ino, inode->i_generation, inode->i_block,
			       &vis, &raw, first_problem, &d);
	if (load && !retval && !damage[0])
		load_flush(&d);
	if (load && (retval || damage[0]))
		es_tree_drop_reclaimable(load);
	return retval;
}

errcode_t replay_verify(struct esck_replay *r, struct replay_file *f,
			uint32_t lo, uint32_t hi)
{
	struct esck_raw_geometry geo;
	struct esck_raw_tree raw;
	struct ext2_inode inode;
	struct verify_ctx v;
	errcode_t retval;

	if (!f || !f->ino || r->opts.dry_run || f->damage[0])
		return 0;
	memset(&v, 0, sizeof(v));
	v.r = r;
	v.f = f;
	v.lo = lo;
	v.hi = hi;
	/*
	 * Bypass libext2fs's inode cache: the question is what the disk
	 * holds.  txio's block cache holds what the image held when read or
	 * what was written to it since, so it answers that question for the
	 * verification after each op; full and end verification read every
	 * block from the image again, and so see a change made behind us.
	 */
	ext2fs_flush_icache(r->fs);
	if (txio_is_txio(r->fs->io) && r->opts.verify != ESCK_VERIFY_RANGE)
		txio_forget_cache(r->fs->io);
	retval = ext2fs_read_inode(r->fs, f->ino, &inode);
	if (retval)
		return retval;
	if (EXT2_I_SIZE(&inode) != f->size)
		emit(&v, NULL, f->size, EXT2_I_SIZE(&inode));
	if (!LINUX_S_ISREG(inode.i_mode) ||
	    (inode.i_flags & EXT4_INLINE_DATA_FL))
		return 0;
	retval = check_delayed(&v, &inode);
	if (retval)
		return retval;
	if (!(inode.i_flags & EXT4_EXTENTS_FL))
		return replay_ind_compare(r, f, &inode, lo, hi, on_problem, &v);

	replay_geometry(r, &geo);
	memset(&raw, 0, sizeof(raw));
	/* Only the subtrees reaching into the range: O(depth) reads per op. */
	retval = esck_raw_walk_range(&geo, f->ino, inode.i_generation,
				     inode.i_block, lo, hi, NULL, &raw, on_problem, &v);
	if (!retval)
		esck_compare_cache_raw_range(&f->tree, &raw, f->ino, lo, hi,
					     on_problem, &v);
	esck_raw_tree_free(&raw);
	return retval;
}
