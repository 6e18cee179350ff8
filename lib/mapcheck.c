/* mapcheck.c --- mapping checks: range, metadata, double claims, bitmap, EOF, per-run bitmaps */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "esck_int.h"

/* ---- the bit array: word at a time, so an extent costs a few words, not a loop per block ---- */

errcode_t esck_bmap_init(struct esck_bmap *b, uint64_t nbits)
{
	b->nbits = nbits;
	b->w = calloc((size_t)((nbits + 63) / 64) + 1, sizeof(uint64_t));
	return b->w ? 0 : ENOMEM;
}

void esck_bmap_free(struct esck_bmap *b)
{
	free(b->w);
	b->w = NULL;
	b->nbits = 0;
}

/* Bits [lo, hi) of one word, 0 <= lo < hi <= 64. */
static inline uint64_t word_mask(unsigned int lo, unsigned int hi)
{
	uint64_t m = hi == 64 ? ~UINT64_C(0) : (UINT64_C(1) << hi) - 1;

	return m & ~((UINT64_C(1) << lo) - 1);
}

void esck_bmap_set_range(struct esck_bmap *b, uint64_t s, uint64_t n)
{
	uint64_t end = s + n;

	while (s < end) {
		uint64_t wi = s / 64;
		unsigned int lo = s % 64;
		unsigned int hi = end - wi * 64 >= 64 ? 64 : (unsigned int)(end - wi * 64);

		b->w[wi] |= word_mask(lo, hi);
		s = wi * 64 + hi;
	}
}

int esck_bmap_test(const struct esck_bmap *b, uint64_t i)
{
	return (b->w[i / 64] >> (i % 64)) & 1;
}

uint64_t esck_bmap_find(const struct esck_bmap *b, uint64_t s, uint64_t end, int set)
{
	while (s < end) {
		uint64_t wi = s / 64;
		uint64_t x = set ? b->w[wi] : ~b->w[wi];

		x &= ~((UINT64_C(1) << (s % 64)) - 1);
		if (x) {
			uint64_t i = wi * 64 + (uint64_t)__builtin_ctzll(x);

			return i < end ? i : end;
		}
		s = wi * 64 + 64;
	}
	return end;
}

int esck_bmap_any_set(const struct esck_bmap *b, uint64_t s, uint64_t n)
{
	return esck_bmap_find(b, s, s + n, 1) < s + n;
}

int esck_bmap_all_set(const struct esck_bmap *b, uint64_t s, uint64_t n)
{
	return esck_bmap_find(b, s, s + n, 0) == s + n;
}

/* ---- setup ---- */

/* Copy a libext2fs block bitmap (cluster units, from ctx->base) into ours. */
static errcode_t copy_ext2_bitmap(struct esck_ctx *ctx, ext2fs_block_bitmap src,
				  struct esck_bmap *dst)
{
	const uint64_t chunk = UINT64_C(1) << 20;	/* bits per call */
	errcode_t retval;
	unsigned char *buf;
	uint64_t off;

	buf = malloc(chunk / 8);
	if (!buf)
		return ENOMEM;
	for (off = 0; off < dst->nbits; off += chunk) {
		uint64_t n = dst->nbits - off < chunk ? dst->nbits - off : chunk;
		uint64_t i, nbytes = (n + 7) / 8;

		memset(buf, 0, chunk / 8);
		retval = ext2fs_get_block_bitmap_range2(src, ctx->base + off, n, buf);
		if (retval)
			goto out_free;
		/* Bit i of the range is bit i % 8 of byte i / 8; chunk is word aligned. */
		for (i = 0; i < nbytes; i++)
			if (buf[i])
				dst->w[(off + i * 8) / 64] |=
					(uint64_t)buf[i] << ((i * 8) % 64);
	}
	/* The copy may carry padding bits past the end; keep them out. */
	if (dst->nbits % 64)
		dst->w[dst->nbits / 64] &= word_mask(0, dst->nbits % 64);
	retval = 0;
out_free:
	free(buf);
	return retval;
}

/* Mark [blk, blk + n) as metadata, clipped to the filesystem. */
static void mark_meta(struct esck_ctx *ctx, uint64_t blk, uint64_t n)
{
	uint64_t end = blk + n;

	if (!n || blk >= ctx->blocks_count || end <= ctx->first_data_block || end < blk)
		return;
	if (blk < ctx->first_data_block)
		blk = ctx->first_data_block;
	if (end > ctx->blocks_count)
		end = ctx->blocks_count;
	blk >>= ctx->cbits;
	end = ((end - 1) >> ctx->cbits) + 1;
	esck_bmap_set_range(&ctx->meta, blk - ctx->base, end - blk);
}

static errcode_t build_meta(struct esck_ctx *ctx)
{
	ext2_filsys fs = ctx->fs;
	ext2fs_block_bitmap sb_map;
	errcode_t retval;
	dgrp_t g;

	/* Superblocks and descriptor copies (with reserved GDT blocks) the library's way. */
	retval = ext2fs_allocate_block_bitmap(fs, "esck metadata", &sb_map);
	if (retval)
		return retval;
	for (g = 0; g < fs->group_desc_count; g++)
		ext2fs_reserve_super_and_bgd(fs, g, sb_map);
	retval = copy_ext2_bitmap(ctx, sb_map, &ctx->meta);
	ext2fs_free_block_bitmap(sb_map);
	if (retval)
		return retval;

	/* Descriptors may point anywhere on a damaged image: mark_meta clips. */
	for (g = 0; g < fs->group_desc_count; g++) {
		mark_meta(ctx, ext2fs_block_bitmap_loc(fs, g), 1);
		mark_meta(ctx, ext2fs_inode_bitmap_loc(fs, g), 1);
		mark_meta(ctx, ext2fs_inode_table_loc(fs, g), fs->inode_blocks_per_group);
	}
	if (ext2fs_has_feature_mmp(fs->super))
		mark_meta(ctx, fs->super->s_mmp_block, 1);
	return 0;
}

errcode_t esck_mapcheck_setup(struct esck_ctx *ctx)
{
	ext2_filsys fs = ctx->fs;
	errcode_t retval;
	uint64_t nbits;

	ctx->first_data_block = fs->super->s_first_data_block;
	ctx->blocks_count = ext2fs_blocks_count(fs->super);
	ctx->cbits = (unsigned int)fs->cluster_ratio_bits;
	ctx->base = ctx->first_data_block >> ctx->cbits;
	if (ctx->blocks_count <= ctx->first_data_block)
		return EXT2_ET_CORRUPT_SUPERBLOCK;
	nbits = ((ctx->blocks_count - 1) >> ctx->cbits) - ctx->base + 1;

	retval = esck_bmap_init(&ctx->meta, nbits);
	if (retval)
		return retval;
	retval = esck_bmap_init(&ctx->claimed, nbits);
	if (retval)
		goto out_meta;
	retval = build_meta(ctx);
	if (retval)
		goto out_claimed;

	/*
	 * A bitmap that cannot be read (bad location, I/O error) only turns
	 * off the bitmap check: the rest of the inspection still stands.
	 */
	if (!fs->block_map && ext2fs_read_block_bitmap(fs))
		return 0;
	retval = esck_bmap_init(&ctx->ondisk, nbits);
	if (retval)
		goto out_claimed;
	retval = copy_ext2_bitmap(ctx, fs->block_map, &ctx->ondisk);
	if (retval)
		goto out_ondisk;
	return 0;

out_ondisk:
	esck_bmap_free(&ctx->ondisk);
out_claimed:
	esck_bmap_free(&ctx->claimed);
out_meta:
	esck_bmap_free(&ctx->meta);
	return retval;
}

void esck_mapcheck_cleanup(struct esck_ctx *ctx)
{
	esck_bmap_free(&ctx->meta);
	esck_bmap_free(&ctx->claimed);
	esck_bmap_free(&ctx->ondisk);
	free(ctx->claims);
	ctx->claims = NULL;
	ctx->nr_claims = ctx->cap_claims = 0;
}

int esck_is_metadata(void *arg, uint64_t blk)
{
	const struct esck_ctx *ctx = arg;

	if (blk < ctx->first_data_block || blk >= ctx->blocks_count)
		return 0;
	return esck_bmap_test(&ctx->meta, (blk >> ctx->cbits) - ctx->base);
}

/* ---- who claimed what: only consulted when a block turns out to be claimed twice ---- */

/*
 * Beyond this the log is dropped and freed: other_ino is a courtesy, not a
 * check, and must not cost a fragmented filesystem megabytes.
 */
#define CLAIMS_MAX	(UINT64_C(1) << 14)
/* Each lookup is a linear scan; many duplicates give up naming the other. */
#define DUP_LOOKUPS_MAX	4096

static void log_claim(struct esck_ctx *ctx, uint32_t ino, uint64_t pblk, uint64_t len)
{
	while (len && !ctx->claims_off) {
		uint32_t n = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;

		if (ctx->nr_claims == ctx->cap_claims) {
			size_t cap = ctx->cap_claims ? ctx->cap_claims * 2 : 4096;
			struct esck_claim *c;

			if (cap > CLAIMS_MAX) {
				free(ctx->claims);
				ctx->claims = NULL;
				ctx->nr_claims = ctx->cap_claims = 0;
				ctx->claims_off = 1;
				break;
			}
			c = realloc(ctx->claims, cap * sizeof(*c));
			if (!c) {
				ctx->claims_off = 1;
				break;
			}
			ctx->claims = c;
			ctx->cap_claims = cap;
		}
		ctx->claims[ctx->nr_claims].pblk = pblk;
		ctx->claims[ctx->nr_claims].len = n;
		ctx->claims[ctx->nr_claims].ino = ino;
		ctx->nr_claims++;
		pblk += n;
		len -= n;
	}
}

/* The earliest inode that claimed a block of [pblk, pblk + len), or ESCK_NONE. */
static uint64_t find_owner(struct esck_ctx *ctx, uint64_t pblk, uint64_t len)
{
	size_t i;

	if (ctx->claims_off || ctx->dup_lookups >= DUP_LOOKUPS_MAX)
		return ESCK_NONE;
	ctx->dup_lookups++;
	for (i = 0; i < ctx->nr_claims; i++) {
		const struct esck_claim *c = &ctx->claims[i];

		if (c->pblk < pblk + len && pblk < c->pblk + c->len)
			return c->ino;
	}
	return ESCK_NONE;
}

/* ---- per run ---- */

/* [at, at + n) of the run that starts at lblk/pblk. */
static void report_run(struct esck_ctx *ctx, struct esck_inode *st, enum esck_problem_id id,
		       uint64_t lblk, uint64_t pblk, uint64_t at, uint64_t n)
{
	struct esck_problem p;

	esck_problem_init(&p, id, st->ino);
	if (lblk != ESCK_NONE)
		p.lblk = lblk + (at - pblk);
	p.pblk = at;
	p.len = n;
	if (id == ESCK_PR_MAP_DUP)
		p.other_ino = find_owner(ctx, at, n);
	esck_report(ctx, &p);
}

/*
 * Report each run of clusters in [c0, c1) whose bit in b is "set", as the
 * blocks of [pblk, pblk + len) it covers.
 */
static void report_bits(struct esck_ctx *ctx, struct esck_inode *st, enum esck_problem_id id,
			const struct esck_bmap *b, int set, uint64_t c0, uint64_t c1,
			uint64_t lblk, uint64_t pblk, uint64_t len)
{
	uint64_t c = c0;

	for (;;) {
		uint64_t s = esck_bmap_find(b, c - ctx->base, c1 - ctx->base, set) + ctx->base;
		uint64_t e, bs, be;

		if (s >= c1)
			break;
		e = esck_bmap_find(b, s - ctx->base, c1 - ctx->base, !set) + ctx->base;
		bs = s << ctx->cbits;
		be = e << ctx->cbits;
		if (bs < pblk)
			bs = pblk;
		if (be > pblk + len)
			be = pblk + len;
		report_run(ctx, st, id, lblk, pblk, bs, be - bs);
		c = e;
	}
}

/* Count a run for i_blocks: clusters, of which consecutive runs may share one under bigalloc. */
void esck_map_count(struct esck_ctx *ctx, struct esck_inode *st, uint64_t pblk, uint64_t len)
{
	uint64_t c0 = pblk >> ctx->cbits;
	uint64_t c1 = ((pblk + len - 1) >> ctx->cbits) + 1;

	if (!len)
		return;
	/* e2fsck counts each of the resize inode's blocks as a cluster of its own. */
	if (st->resize) {
		st->clusters += len;
		return;
	}
	st->clusters += c1 - c0 - (ctx->cbits && c0 == st->last_cluster);
	st->last_cluster = c1 - 1;
}

/*
 * Account and check one physically contiguous run of an inode's blocks:
 * i_blocks counting (distinct clusters), range, metadata, double claims and
 * the on-disk bitmap, each as one range test, with a per-run slow path only
 * when the range test says there is something to report.  Returns nonzero
 * if the run lies outside the filesystem or on its metadata.
 */
int esck_map_run(struct esck_ctx *ctx, struct esck_inode *st, enum esck_run_kind kind,
		  uint64_t lblk, uint64_t pblk, uint64_t len)
{
	uint64_t s, e, c0, c1, cl0;
	int bad = 0;

	if (!len)
		return 0;

	esck_map_count(ctx, st, pblk, len);

	s = pblk < ctx->first_data_block ? ctx->first_data_block : pblk;
	e = pblk + len > ctx->blocks_count ? ctx->blocks_count : pblk + len;
	if (s >= e || s != pblk || e != pblk + len) {
		uint64_t lo_end = pblk + len < ctx->first_data_block ?
				  pblk + len : ctx->first_data_block;
		uint64_t hi_start = pblk > ctx->blocks_count ? pblk : ctx->blocks_count;

		bad = 1;

		if (kind == ESCK_RUN_DATA) {
			/* One problem per side that sticks out. */
			if (pblk < ctx->first_data_block)
				report_run(ctx, st, ESCK_PR_MAP_OUT_OF_RANGE, lblk, pblk,
					   pblk, lo_end - pblk);
			if (pblk + len > ctx->blocks_count)
				report_run(ctx, st, ESCK_PR_MAP_OUT_OF_RANGE, lblk, pblk,
					   hi_start, pblk + len - hi_start);
		} else if (kind == ESCK_RUN_IND) {
			report_run(ctx, st, ESCK_PR_MAP_IND_BLOCK, ESCK_NONE, pblk, pblk, len);
			/* libext2fs cannot follow it: what it counts is not all there is. */
			st->incomplete = 1;
		}
		/* Node blocks outside the filesystem are TREE_NODE_BLOCK, from the raw reader. */
		if (s >= e)
			return bad;
	}

	c0 = s >> ctx->cbits;
	c1 = ((e - 1) >> ctx->cbits) + 1;

	if (kind != ESCK_RUN_NODE &&
	    esck_bmap_any_set(&ctx->meta, c0 - ctx->base, c1 - c0)) {
		bad = 1;
		if (kind == ESCK_RUN_DATA)
			report_bits(ctx, st, ESCK_PR_MAP_ON_METADATA, &ctx->meta, 1, c0, c1,
				    lblk, pblk, len);
		else {
			report_run(ctx, st, ESCK_PR_MAP_IND_BLOCK, ESCK_NONE, pblk, pblk, len);
			/* Its "pointers" are metadata: nothing counted below it means much. */
			st->incomplete = 1;
		}
	}

	/* A cluster this inode claimed with its previous run is not a duplicate. */
	cl0 = ctx->cbits && c0 == st->last_claimed ? c0 + 1 : c0;
	if (cl0 < c1) {
		if (esck_bmap_any_set(&ctx->claimed, cl0 - ctx->base, c1 - cl0))
			report_bits(ctx, st, ESCK_PR_MAP_DUP, &ctx->claimed, 1, cl0, c1,
				    kind == ESCK_RUN_DATA ? lblk : ESCK_NONE, pblk, len);
		esck_bmap_set_range(&ctx->claimed, cl0 - ctx->base, c1 - cl0);
		log_claim(ctx, st->ino, s, e - s);
	}
	st->last_claimed = c1 - 1;

	if (ctx->ondisk.w && !esck_bmap_all_set(&ctx->ondisk, c0 - ctx->base, c1 - c0))
		report_bits(ctx, st, ESCK_PR_MAP_NOT_IN_BITMAP, &ctx->ondisk, 0, c0, c1,
			    kind == ESCK_RUN_DATA ? lblk : ESCK_NONE, pblk, len);
	return bad;
}

/*
 * The extended-attribute block: inside the filesystem, off its metadata,
 * in use in the bitmap.  Not claimed: one EA block may be shared by every
 * inode with the same attributes (h_refcount), so its users are not
 * duplicates of each other.
 */
void esck_map_ea(struct esck_ctx *ctx, struct esck_inode *st, uint64_t blk)
{
	uint64_t c;

	if (blk < ctx->first_data_block || blk >= ctx->blocks_count) {
		report_run(ctx, st, ESCK_PR_MAP_OUT_OF_RANGE, ESCK_NONE, blk, blk, 1);
		return;
	}
	c = blk >> ctx->cbits;
	if (esck_bmap_any_set(&ctx->meta, c - ctx->base, 1))
		report_run(ctx, st, ESCK_PR_MAP_ON_METADATA, ESCK_NONE, blk, blk, 1);
	else if (ctx->ondisk.w && !esck_bmap_all_set(&ctx->ondisk, c - ctx->base, 1))
		report_run(ctx, st, ESCK_PR_MAP_NOT_IN_BITMAP, ESCK_NONE, blk, blk, 1);
}

/* Logical accounting of one mapped run: holes, unwritten, past EOF. */
void esck_map_extent_stats(struct esck_ctx *ctx, struct esck_inode *st, uint64_t lblk,
			   uint64_t pblk, uint64_t len, int unwritten)
{
	uint64_t end = lblk + len;
	struct esck_inode_report *r = st->r;

	if (unwritten)
		r->unwritten_blocks += len;
	if (lblk < st->eof_blocks)
		st->mapped_below_eof += (end < st->eof_blocks ? end : st->eof_blocks) - lblk;
	if (end > st->eof_blocks) {
		uint64_t from = lblk > st->eof_blocks ? lblk : st->eof_blocks;

		r->past_eof_blocks += end - from;
		/* Unwritten blocks past EOF are preallocation (KEEP_SIZE): legal. */
		if (!unwritten && st->check_eof) {
			struct esck_problem p;

			esck_problem_init(&p, ESCK_PR_MAP_WRITTEN_PAST_EOF, st->ino);
			p.lblk = from;
			p.len = end - from;
			p.pblk = pblk + (from - lblk);
			p.expected = st->eof_blocks;
			p.found = end;
			esck_report(ctx, &p);
		}
	}
	if (end > st->next_lblk)
		st->next_lblk = end;
}
