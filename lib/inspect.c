/* inspect.c --- esck inspect: walk the in-use inodes, load each into the cache, check, report */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "esck_int.h"
#include "grow.h"

#ifndef EXT4_VERITY_FL
#define EXT4_VERITY_FL		0x00100000	/* verity metadata lives past EOF */
#endif

/*
 * Inode table blocks per read: 256 KiB at 4 KiB blocks, large enough that
 * reads are few and small enough not to dominate a small run's memory.
 */
#define SCAN_BUFFER_BLOCKS	64

/* 0, or ENOMEM: the caller then reports the problem at once, out of order but not lost. */
static int pbuf_push(struct esck_pbuf *b, const struct esck_problem *p)
{
	void *arr = b->p;
	int rc = esck_grow(&arr, &b->cap, b->nr, sizeof(*b->p), 16);

	b->p = arr;
	if (rc)
		return rc;
	b->p[b->nr++] = *p;
	return 0;
}

void esck_report(struct esck_ctx *ctx, const struct esck_problem *p)
{
	enum esck_severity sev = esck_problem_severity(p->id);

	if (ctx->holding && !pbuf_push(&ctx->held, p))
		return;

	ctx->sum->problems++;
	if ((unsigned int)sev < 3)
		ctx->sum->by_severity[sev]++;
	if (ctx->ops->problem)
		ctx->ops->problem(ctx->ops->arg, p);
}

void esck_report_fn(void *arg, const struct esck_problem *p)
{
	esck_report(arg, p);
}

static void report_held(struct esck_ctx *ctx, struct esck_pbuf *b)
{
	size_t i;

	for (i = 0; i < b->nr; i++)
		esck_report(ctx, &b->p[i]);
	b->nr = 0;
}

static void hold_cache_problem(void *arg, const struct esck_problem *p)
{
	struct esck_ctx *ctx = arg;

	if (pbuf_push(&ctx->cache_held, p))
		esck_report(ctx, p);
}

static int stream_extent(void *arg, const struct esck_raw_extent *e)
{
	/* An unordered tree sets cmp->unordered; it is compared again, sorted. */
	esck_cmp_extent(arg, e);
	return 0;
}

/*
 * Our own reader against the cache loaded through libext2fs.  The walk is
 * streamed into the comparison, so a tree of a million extents costs no
 * memory beyond the cache; only a corrupt, unordered tree is read a second
 * time (quietly) into an array to be sorted.
 */
static errcode_t check_raw(struct esck_ctx *ctx, uint32_t ino,
			   const struct ext2_inode_large *inode, struct es_tree *tree)
{
	struct esck_cmp cmp;
	struct esck_raw_visitor v = { stream_extent, NULL, &cmp };
	struct esck_raw_tree raw;
	errcode_t retval;

	esck_cmp_start(&cmp, tree, ino, hold_cache_problem, ctx);
	retval = esck_raw_walk(&ctx->geo, ino, inode->i_generation, inode->i_block,
			       &v, &raw, esck_report_fn, ctx);
	if (retval)
		return retval;
	report_held(ctx, &ctx->held);
	if (!cmp.unordered) {
		esck_cmp_finish(&cmp);
		report_held(ctx, &ctx->cache_held);
		return 0;
	}
	ctx->cache_held.nr = 0;
	retval = esck_raw_read_tree(&ctx->geo, ino, inode->i_generation, inode->i_block,
				    &raw, NULL, NULL);
	if (!retval)
		esck_compare_cache_raw(tree, &raw, ino, esck_report_fn, ctx);
	esck_raw_tree_free(&raw);
	return retval;
}

static errcode_t read_block(void *arg, uint64_t blk, void *buf)
{
	struct esck_ctx *ctx = arg;

	/* Through the io channel, so that its cache serves the second read of a node. */
	return io_channel_read_blk64(ctx->fs->io, blk, 1, buf);
}

static enum esck_kind inode_kind(const struct esck_ctx *ctx, uint32_t ino,
				 const struct ext2_inode_large *inode)
{
	if (ino < EXT2_FIRST_INO(ctx->fs->super) && ino != EXT2_ROOT_INO)
		return ESCK_KIND_SPECIAL;
	switch (inode->i_mode & LINUX_S_IFMT) {
	case LINUX_S_IFREG:
		return ESCK_KIND_REGULAR;
	case LINUX_S_IFDIR:
		return ESCK_KIND_DIRECTORY;
	case LINUX_S_IFLNK:
		return ESCK_KIND_SYMLINK;
	case LINUX_S_IFCHR:
		return ESCK_KIND_CHARDEV;
	case LINUX_S_IFBLK:
		return ESCK_KIND_BLOCKDEV;
	case LINUX_S_IFIFO:
		return ESCK_KIND_FIFO;
	case LINUX_S_IFSOCK:
		return ESCK_KIND_SOCKET;
	}
	/* A mode that is no file type at all: nothing better to call it. */
	return ESCK_KIND_SPECIAL;
}

static int i_block_used(const struct ext2_inode_large *inode)
{
	unsigned int i;

	for (i = 0; i < EXT2_N_BLOCKS; i++)
		if (inode->i_block[i])
			return 1;
	return 0;
}

static enum esck_mapping inode_mapping(const struct esck_ctx *ctx, enum esck_kind kind,
				       struct ext2_inode_large *inode)
{
	switch (kind) {
	case ESCK_KIND_CHARDEV:
	case ESCK_KIND_BLOCKDEV:
	case ESCK_KIND_FIFO:
	case ESCK_KIND_SOCKET:
		return ESCK_MAPPING_NONE;
	default:
		break;
	}
	if (inode->i_flags & EXT4_INLINE_DATA_FL)
		return ESCK_MAPPING_INLINE;
	if (kind == ESCK_KIND_SYMLINK &&
	    !ext2fs_inode_has_valid_blocks2(ctx->fs, (struct ext2_inode *)inode))
		return ESCK_MAPPING_INLINE;
	if (inode->i_flags & EXT4_EXTENTS_FL)
		return ESCK_MAPPING_EXTENTS;
	return i_block_used(inode) ? ESCK_MAPPING_BLOCKS : ESCK_MAPPING_NONE;
}

/* In use: allocated and linked; reserved inodes only when they own blocks. */
static int inode_in_use(const struct esck_ctx *ctx, uint32_t ino,
			struct ext2_inode_large *inode)
{
	ext2_filsys fs = ctx->fs;

	if (ino < EXT2_FIRST_INO(fs->super) && ino != EXT2_ROOT_INO)
		return ext2fs_inode_i_blocks(fs, (struct ext2_inode *)inode) != 0 ||
		       (!(inode->i_flags & EXT4_EXTENTS_FL) && i_block_used(inode));
	if (!inode->i_links_count)
		return 0;
	return !fs->inode_map || ext2fs_test_inode_bitmap2(fs->inode_map, ino);
}

/* i_blocks in 512-byte units, whatever HUGE_FILE says. */
static uint64_t stat_i_blocks(const struct esck_ctx *ctx, const struct ext2_inode_large *inode)
{
	uint64_t n = inode->i_blocks;

	if (ext2fs_has_feature_huge_file(ctx->fs->super)) {
		n |= (uint64_t)inode->osd2.linux2.l_i_blocks_hi << 32;
		if (inode->i_flags & EXT4_HUGE_FILE_FL)
			n *= ctx->fs->blocksize / 512;
	}
	return n;
}

static void top_insert(struct esck_summary *sum, uint32_t ino, uint64_t extents)
{
	int i, j;

	if (!extents)
		return;
	/* Inodes come in increasing order, so an equal count keeps the earlier one first. */
	for (i = 0; i < ESCK_TOP_FRAGMENTED; i++)
		if (!sum->top[i].ino || extents > sum->top[i].extents)
			break;
	if (i == ESCK_TOP_FRAGMENTED)
		return;
	for (j = ESCK_TOP_FRAGMENTED - 1; j > i; j--)
		sum->top[j] = sum->top[j - 1];
	sum->top[i].ino = ino;
	sum->top[i].extents = extents;
}

static void summarize(struct esck_ctx *ctx, const struct esck_inode_report *r)
{
	struct esck_summary *sum = ctx->sum;
	struct es_stats st;

	sum->inodes++;
	sum->kinds[r->kind]++;
	sum->mappings[r->mapping]++;
	sum->extents += r->extents;
	sum->tree_blocks += r->tree_blocks;
	if (r->mapping == ESCK_MAPPING_EXTENTS) {
		sum->depths[r->depth < 5 ? r->depth : 5]++;
		if (r->depth > sum->max_depth)
			sum->max_depth = r->depth;
	}
	sum->unwritten_blocks += r->unwritten_blocks;
	sum->hole_blocks += r->hole_blocks;
	sum->past_eof_blocks += r->past_eof_blocks;
	/* The resize inode's "extents" are reserved GDT backups, not fragmentation. */
	if (r->ino != EXT2_RESIZE_INO)
		top_insert(sum, r->ino, r->extents);
	es_cache_stats(&ctx->cache, &st);
	if (st.entries > sum->cache_peak_entries)
		sum->cache_peak_entries = st.entries;
}

/* Load, check and report one inode; 1 if the caller asked to stop. */
static int inspect_one(struct esck_ctx *ctx, uint32_t ino, struct ext2_inode_large *inode)
{
	ext2_filsys fs = ctx->fs;
	struct esck_inode_report r;
	struct esck_inode st;
	struct esck_problem p;
	struct es_tree tree;
	uint64_t size, stored, counted;
	int stop = 0;

	memset(&r, 0, sizeof(r));
	memset(&st, 0, sizeof(st));
	r.ino = ino;
	r.kind = inode_kind(ctx, ino, inode);
	r.mapping = inode_mapping(ctx, r.kind, inode);
	r.size = size = EXT2_I_SIZE(inode);
	r.blocks = stored = stat_i_blocks(ctx, inode);
	r.tree = &tree;

	st.ino = ino;
	st.inode = inode;
	st.r = &r;
	st.tree = &tree;
	st.eof_blocks = size / fs->blocksize + (size % fs->blocksize != 0);
	st.check_eof = (r.kind == ESCK_KIND_REGULAR || r.kind == ESCK_KIND_DIRECTORY ||
			r.kind == ESCK_KIND_SYMLINK) && !(inode->i_flags & EXT4_VERITY_FL);
	st.resize = ino == EXT2_RESIZE_INO;
	st.last_cluster = st.last_claimed = ESCK_NONE;

	if (!ext2fs_inode_csum_verify(fs, ino, inode)) {
		esck_problem_init(&p, ESCK_PR_INODE_CSUM, ino);
		esck_report(ctx, &p);
	}

	es_tree_init(&ctx->cache, &tree, ino);
	if (r.mapping == ESCK_MAPPING_EXTENTS) {
		ctx->holding = 1;
		ctx->fatal = esck_load_extents(ctx, &st);
		ctx->holding = 0;
		if (!ctx->fatal)
			ctx->fatal = check_raw(ctx, ino, inode, &tree);
		ctx->held.nr = ctx->cache_held.nr = 0;
	} else if (r.mapping == ESCK_MAPPING_BLOCKS) {
		ctx->fatal = esck_load_blocks(ctx, &st);
	}
	if (ctx->fatal)
		goto out_release;

	/* Holes only mean something for files: the resize inode's size is a formality. */
	if (r.kind != ESCK_KIND_SPECIAL && r.mapping != ESCK_MAPPING_INLINE &&
	    st.eof_blocks > st.mapped_below_eof)
		r.hole_blocks = st.eof_blocks - st.mapped_below_eof;

	/* The EA block is the inode's too (shared ones are counted by each user). */
	if (ext2fs_file_acl_block(fs, (struct ext2_inode *)inode)) {
		esck_map_ea(ctx, &st, ext2fs_file_acl_block(fs, (struct ext2_inode *)inode));
		st.clusters++;
	}
	counted = (st.clusters << ctx->cbits) * (fs->blocksize / 512);
	if (!st.incomplete && counted != stored) {
		esck_problem_init(&p, ESCK_PR_MAP_I_BLOCKS, ino);
		p.expected = counted;
		p.found = stored;
		esck_report(ctx, &p);
	}

	summarize(ctx, &r);
	if (ctx->ops->inode)
		stop = ctx->ops->inode(ctx->ops->arg, &r);
out_release:
	/* Memory stays bounded by the largest inode, not the filesystem. */
	es_tree_release(&tree);
	free(st.seen);
	return stop;
}

static void progress(struct esck_ctx *ctx, uint64_t done, uint64_t total, uint64_t *next)
{
	if (!ctx->ops->progress || done < *next)
		return;
	ctx->ops->progress(ctx->ops->arg, done, total);
	*next = done + (total / 100 ? total / 100 : 1);
}

static errcode_t inspect_listed(struct esck_ctx *ctx, const struct esck_inspect_opts *opts)
{
	struct ext2_inode_large *inode = ctx->inode_buf;
	uint64_t next = 0;
	errcode_t retval;
	size_t i;

	for (i = 0; i < opts->nr_inos; i++) {
		uint32_t ino = opts->inos[i];

		if (!ino || ino > ctx->fs->super->s_inodes_count)
			return ESCK_ET_BAD_INODE;
		progress(ctx, i, opts->nr_inos, &next);
		memset(inode, 0, ctx->inode_size);
		retval = ext2fs_read_inode_full(ctx->fs, ino, (struct ext2_inode *)inode,
						(int)ctx->inode_size);
		if (retval && retval != EXT2_ET_INODE_CSUM_INVALID &&
		    retval != EXT2_ET_INODE_IS_GARBAGE)
			return retval;
		/* Asked for by name: inspected even when not in use. */
		if (inspect_one(ctx, ino, inode))
			return ESCK_ET_INTERRUPTED;
		if (ctx->fatal)
			return ctx->fatal;
	}
	progress(ctx, opts->nr_inos, opts->nr_inos, &next);
	return 0;
}

static errcode_t inspect_all(struct esck_ctx *ctx)
{
	ext2_filsys fs = ctx->fs;
	uint64_t total = fs->super->s_inodes_count, next = 0;
	struct ext2_inode_large *inode = ctx->inode_buf;
	ext2_inode_scan scan;
	errcode_t retval;
	ext2_ino_t ino;
	int blocks = SCAN_BUFFER_BLOCKS;

	if ((unsigned int)blocks > fs->inode_blocks_per_group)
		blocks = (int)fs->inode_blocks_per_group;
	retval = ext2fs_open_inode_scan(fs, blocks, &scan);
	if (retval)
		return retval;
	ext2fs_inode_scan_flags(scan, EXT2_SF_SKIP_MISSING_ITABLE, 0);
	memset(inode, 0, ctx->inode_size);
	for (;;) {
		/* Only the on-disk size is copied: zero the rest of a small inode. */
		if (EXT2_INODE_SIZE(fs->super) < sizeof(*inode))
			memset(inode, 0, ctx->inode_size);
		retval = ext2fs_get_next_inode_full(scan, &ino, (struct ext2_inode *)inode,
						    (int)ctx->inode_size);
		/* Soft errors: the inode is returned and the scan moves on. */
		if (retval && retval != EXT2_ET_INODE_CSUM_INVALID &&
		    retval != EXT2_ET_INODE_IS_GARBAGE &&
		    retval != EXT2_ET_BAD_BLOCK_IN_INODE_TABLE)
			goto out_close;
		if (!ino)
			break;
		progress(ctx, ino, total, &next);
		if (!inode_in_use(ctx, ino, inode))
			continue;
		if (inspect_one(ctx, ino, inode)) {
			retval = ESCK_ET_INTERRUPTED;
			goto out_close;
		}
		retval = ctx->fatal;
		if (retval)
			goto out_close;
	}
	progress(ctx, total, total, &next);
	retval = 0;
out_close:
	ext2fs_close_inode_scan(scan);
	return retval;
}

errcode_t esck_inspect(struct esck_fs *efs, const struct esck_inspect_opts *opts,
		       const struct esck_inspect_ops *ops, struct esck_summary *sum)
{
	static const struct esck_inspect_opts no_opts;
	struct esck_ctx ctx;
	ext2_filsys fs;
	errcode_t retval;

	if (!efs || !ops || !sum)
		return EINVAL;
	if (!opts)
		opts = &no_opts;
	if (opts->nr_inos && !opts->inos)
		return EINVAL;
	fs = efs->fs;
	memset(sum, 0, sizeof(*sum));
	sum->block_size = fs->blocksize;
	sum->blocks_count = ext2fs_blocks_count(fs->super);

	memset(&ctx, 0, sizeof(ctx));
	ctx.efs = efs;
	ctx.fs = fs;
	ctx.ops = ops;
	ctx.sum = sum;
	es_cache_init(&ctx.cache);
	es_cache_set_limit(&ctx.cache, opts->cache_max_entries, opts->cache_max_bytes);

	/* Without a readable inode bitmap, links_count alone says what is in use. */
	if (!fs->inode_map)
		(void)ext2fs_read_inode_bitmap(fs);
	retval = esck_mapcheck_setup(&ctx);
	if (retval)
		goto out_cache;
	ctx.block_buf = malloc(3 * (size_t)fs->blocksize);
	if (!ctx.block_buf) {
		retval = ENOMEM;
		goto out_mapcheck;
	}
	/* The whole on-disk inode: its checksum covers the extra space too. */
	ctx.inode_size = EXT2_INODE_SIZE(fs->super);
	if (ctx.inode_size < sizeof(struct ext2_inode_large))
		ctx.inode_size = sizeof(struct ext2_inode_large);
	ctx.inode_buf = calloc(1, ctx.inode_size);
	if (!ctx.inode_buf) {
		retval = ENOMEM;
		goto out_block_buf;
	}

	ctx.geo.block_size = fs->blocksize;
	ctx.geo.blocks_count = ctx.blocks_count;
	ctx.geo.first_data_block = (uint32_t)ctx.first_data_block;
	ctx.geo.has_csum = ext2fs_has_feature_metadata_csum(fs->super);
	ctx.geo.csum_seed = fs->csum_seed;
	ctx.geo.is_metadata = esck_is_metadata;
	ctx.geo.read_block = read_block;
	ctx.geo.arg = &ctx;

	if (opts->inos)
		retval = inspect_listed(&ctx, opts);
	else
		retval = inspect_all(&ctx);

	es_cache_stats(&ctx.cache, &sum->cache);
	free(ctx.held.p);
	free(ctx.cache_held.p);
	free(ctx.inode_buf);
out_block_buf:
	free(ctx.block_buf);
out_mapcheck:
	esck_mapcheck_cleanup(&ctx);
out_cache:
	es_cache_release(&ctx.cache);
	return retval;
}
