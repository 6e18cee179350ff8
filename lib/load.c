/* load.c --- load an inode's mapping into the cache the kernel's way, feeding the mapping checks */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "esck_int.h"

/* Consecutive libext2fs errors after which a damaged tree is given up. */
#define WALK_ERRORS_MAX	1024

/* ---- node blocks seen in this inode's tree (open addressing; 0 is empty, so store blk + 1) ---- */

static size_t seen_slot(uint64_t key, size_t cap)
{
	key *= UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(key >> 32) & (cap - 1);
}

/* 1 if blk is new (and is now recorded), 0 if seen before, -1 out of memory. */
static int seen_add(struct esck_inode *st, uint64_t blk)
{
	uint64_t key = blk + 1;
	size_t i;

	if ((st->seen_nr + 1) * 2 > st->seen_cap) {
		size_t cap = st->seen_cap ? st->seen_cap * 2 : 64;
		uint64_t *n = calloc(cap, sizeof(*n));

		if (!n)
			return -1;
		for (i = 0; i < st->seen_cap; i++) {
			size_t j;

			if (!st->seen[i])
				continue;
			for (j = seen_slot(st->seen[i], cap); n[j]; j = (j + 1) & (cap - 1))
				;
			n[j] = st->seen[i];
		}
		free(st->seen);
		st->seen = n;
		st->seen_cap = cap;
	}
	for (i = seen_slot(key, st->seen_cap); st->seen[i]; i = (i + 1) & (st->seen_cap - 1))
		if (st->seen[i] == key)
			return 0;
	st->seen[i] = key;
	st->seen_nr++;
	return 1;
}

/* Cache a hole for the gap in front of a mapped run, as lookups in the kernel would. */
static void cache_gap(struct esck_inode *st, uint64_t lblk)
{
	if (lblk > st->next_lblk)
		es_cache_extent(st->tree, (uint32_t)st->next_lblk,
				(uint32_t)(lblk - st->next_lblk), 0, ES_HOLE, NULL);
}

/*
 * The holes between leaves are inferred from the order of the leaves; on an
 * unsorted tree (TREE_UNSORTED, from the raw reader) a later leaf lands in
 * one.  That is the tree's fault, already reported, not a second finding:
 * drop the inferred holes over the leaf and cache what the leaf says.
 */
static void drop_inferred_holes(struct es_tree *t, uint32_t lblk, uint32_t end)
{
	struct es_extent es;

	while (es_find_range(t, ES_HOLE, lblk, end, &es)) {
		uint32_t s = es.lblk > lblk ? es.lblk : lblk;
		uint32_t e = es_end(&es) < end ? es_end(&es) : end;

		if (es_remove(t, s, e - s + 1))
			break;
	}
}

static void cache_run(struct esck_ctx *ctx, struct esck_inode *st, uint64_t lblk,
		      uint64_t len, uint64_t pblk, unsigned int type)
{
	struct es_extent conflict;
	struct esck_problem p;
	int err;

	cache_gap(st, lblk);
	err = es_cache_extent(st->tree, (uint32_t)lblk, (uint32_t)len, pblk, type, &conflict);
	if (err == EEXIST && es_type(&conflict) == ES_HOLE) {
		drop_inferred_holes(st->tree, (uint32_t)lblk, (uint32_t)(lblk + len - 1));
		err = es_cache_extent(st->tree, (uint32_t)lblk, (uint32_t)len, pblk, type,
				      &conflict);
	}
	if (err == EEXIST) {
		esck_problem_init(&p, ESCK_PR_CACHE_CONFLICT, st->ino);
		p.lblk = lblk;
		p.len = len;
		p.pblk = pblk;
		/* expected/found: the cache's and the disk's block at the first clash. */
		if (conflict.lblk >= lblk) {
			p.expected = conflict.pblk;
			p.found = pblk + (conflict.lblk - lblk);
		} else {
			p.expected = conflict.pblk + (lblk - conflict.lblk);
			p.found = pblk;
		}
		if (conflict.pblk == ES_PBLK_NONE)
			p.expected = ESCK_NONE;
		esck_report(ctx, &p);
	} else if (err) {
		/* Validated before: anything else is our bug. */
		ctx->fatal = ESCK_ET_INTERNAL;
	}
}

/* One leaf extent from libext2fs: validate, cache, check. */
static void load_leaf(struct esck_ctx *ctx, struct esck_inode *st, const struct ext2fs_extent *e)
{
	int unwritten = !!(e->e_flags & EXT2_EXTENT_FLAGS_UNINIT);
	uint64_t lblk = e->e_lblk, len = e->e_len, pblk = e->e_pblk;

	st->r->extents++;
	/*
	 * Zero-length and wrapping extents are TREE_* findings of the raw
	 * reader; the cache must never see them, and they map nothing.
	 */
	if (!len || lblk + len - 1 > ES_LBLK_MAX) {
		st->incomplete = 1;
		return;
	}
	if (pblk + len - 1 > ES_PBLK_MAX) {
		struct esck_problem p;

		esck_problem_init(&p, ESCK_PR_MAP_OUT_OF_RANGE, st->ino);
		p.lblk = lblk;
		p.len = len;
		p.pblk = pblk;
		esck_report(ctx, &p);
		st->incomplete = 1;
		/* Left out of the cache, not cached as a hole by the next leaf. */
		if (lblk + len > st->next_lblk)
			st->next_lblk = lblk + len;
		return;
	}
	/*
	 * Under bigalloc a block sits at the same offset in its logical and
	 * its physical cluster (the kernel's EXT4_LBLK_COFF/EXT4_PBLK_COFF
	 * rule, e2fsck's "violates cluster allocation rules").
	 */
	if (ctx->cbits && ((lblk ^ pblk) & ((UINT64_C(1) << ctx->cbits) - 1))) {
		struct esck_problem p;

		esck_problem_init(&p, ESCK_PR_MAP_CLUSTER_ALIGN, st->ino);
		p.lblk = lblk;
		p.len = len;
		p.pblk = pblk;
		esck_report(ctx, &p);
	}
	cache_run(ctx, st, lblk, len, pblk, unwritten ? ES_UNWRITTEN : ES_WRITTEN);
	esck_map_extent_stats(ctx, st, lblk, pblk, len, unwritten);
	esck_map_run(ctx, st, ESCK_RUN_DATA, lblk, pblk, len);
}

/*
 * Walk with ROOT then NEXT: leaves once, index entries on the way down and
 * again (SECOND_VISIT) on the way up.  A failed DOWN leaves the handle on the
 * index entry with its visit recorded, so the next NEXT moves on past the
 * broken subtree; the raw reader reports what was wrong with it.
 */
errcode_t esck_load_extents(struct esck_ctx *ctx, struct esck_inode *st)
{
	/* extent_open2 may write a header into an all-zero i_block: give it a copy. */
	struct ext2_inode_large copy = *st->inode;
	struct ext2_extent_info info;
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	errcode_t retval;
	int op = EXT2_EXTENT_ROOT, errors = 0;

	retval = ext2fs_extent_open2(ctx->fs, st->ino, (struct ext2_inode *)&copy, &h);
	if (retval == EXT2_ET_NO_MEMORY || retval == ENOMEM)
		return ENOMEM;
	if (retval) {
		st->incomplete = 1;
		return 0;
	}
	if (!ext2fs_extent_get_info(h, &info))
		st->r->depth = (unsigned int)info.max_depth;

	while (!ctx->fatal) {
		retval = ext2fs_extent_get(h, op, &e);
		op = EXT2_EXTENT_NEXT;
		if (retval == EXT2_ET_EXTENT_NO_NEXT || retval == EXT2_ET_NO_CURRENT_NODE)
			break;
		if (retval == EXT2_ET_NO_MEMORY || retval == ENOMEM) {
			retval = ENOMEM;
			goto out_free;
		}
		if (retval && retval != EXT2_ET_EXTENT_CSUM_INVALID) {
			st->incomplete = 1;
			if (++errors > WALK_ERRORS_MAX)
				break;
			continue;
		}
		errors = 0;
		if (e.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT)
			continue;
		if (e.e_flags & EXT2_EXTENT_FLAGS_LEAF) {
			load_leaf(ctx, st, &e);
			continue;
		}

		/* An index entry: its child is a tree block of this inode. */
		switch (seen_add(st, e.e_pblk)) {
		case -1:
			retval = ENOMEM;
			goto out_free;
		case 1:
			st->r->tree_blocks++;
			esck_map_run(ctx, st, ESCK_RUN_NODE, ESCK_NONE, e.e_pblk, 1);
			continue;
		}
		/*
		 * A node reached twice (TREE_LOOP for the raw reader): step
		 * over it instead of descending, or a shared subtree would be
		 * walked once per reference.
		 */
		st->incomplete = 1;
		if (ext2fs_extent_get_info(h, &info))
			break;
		if (info.curr_entry < info.num_entries)
			op = EXT2_EXTENT_NEXT_SIB;
		else if (info.curr_level > 0)
			op = EXT2_EXTENT_UP;
		else
			break;
	}
	retval = ctx->fatal;
out_free:
	ext2fs_extent_free(h);
	return retval;
}

/* ---- block-mapped inodes ---- */

struct blocks_walk {
	struct esck_ctx *ctx;
	struct esck_inode *st;
};

static void flush_run(struct esck_ctx *ctx, struct esck_inode *st)
{
	if (!st->run_len)
		return;
	st->r->extents++;
	cache_run(ctx, st, st->run_lblk, st->run_len, st->run_pblk, ES_WRITTEN);
	esck_map_extent_stats(ctx, st, st->run_lblk, st->run_pblk, st->run_len, 0);
	/* The resize inode's data blocks are the reserved GDT: counted, not checked. */
	if (st->resize)
		esck_map_count(ctx, st, st->run_pblk, st->run_len);
	else
		esck_map_run(ctx, st, ESCK_RUN_DATA, st->run_lblk, st->run_pblk, st->run_len);
	st->run_len = 0;
}

static int bad_ind(const struct esck_inode *st, uint64_t blk)
{
	unsigned int i;

	for (i = 0; i < st->nr_bad_ind; i++)
		if (st->bad_ind[i] == blk)
			return 1;
	return 0;
}

/* A full list only lets some noise through: it is never wrong. */
static void add_bad_ind(struct esck_inode *st, uint64_t blk)
{
	if (st->nr_bad_ind < sizeof(st->bad_ind) / sizeof(st->bad_ind[0]))
		st->bad_ind[st->nr_bad_ind++] = blk;
}

static int walk_block(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt,
		      blk64_t ref_blk, int ref_offset, void *priv)
{
	struct blocks_walk *w = priv;
	struct esck_inode *st = w->st;
	uint64_t blk = *blocknr;

	(void)fs;
	(void)ref_offset;
	/*
	 * Below an indirect block that is metadata, the "pointers" are bytes
	 * of a bitmap or an inode table: one MAP_IND_BLOCK says it all.
	 */
	if (st->nr_bad_ind && ref_blk && bad_ind(st, ref_blk)) {
		if (blockcnt < 0)
			add_bad_ind(st, blk);
		return 0;
	}
	if (blockcnt < 0) {
		st->r->tree_blocks++;
		/* The resize inode's indirect blocks are the reserved GDT, all but its DIND. */
		if (st->resize && blockcnt != BLOCK_COUNT_DIND)
			esck_map_count(w->ctx, st, blk, 1);
		else if (esck_map_run(w->ctx, st, ESCK_RUN_IND, ESCK_NONE, blk, 1))
			add_bad_ind(st, blk);
		return w->ctx->fatal ? BLOCK_ABORT : 0;
	}
	/* Coalesce physically contiguous data blocks into one run, as an extent. */
	if (st->run_len && (uint64_t)blockcnt == st->run_lblk + st->run_len &&
	    blk == st->run_pblk + st->run_len && st->run_len < ES_MAX_BLOCKS) {
		st->run_len++;
		return 0;
	}
	flush_run(w->ctx, st);
	st->run_lblk = (uint64_t)blockcnt;
	st->run_pblk = blk;
	st->run_len = 1;
	return w->ctx->fatal ? BLOCK_ABORT : 0;
}

errcode_t esck_load_blocks(struct esck_ctx *ctx, struct esck_inode *st)
{
	struct blocks_walk w = { ctx, st };
	errcode_t retval;

	retval = ext2fs_block_iterate3(ctx->fs, st->ino, BLOCK_FLAG_READ_ONLY, ctx->block_buf,
				       walk_block, &w);
	flush_run(ctx, st);
	if (retval == EXT2_ET_NO_MEMORY || retval == ENOMEM)
		return ENOMEM;
	/* A bad indirect block ends libext2fs's walk; it was reported as MAP_IND_BLOCK. */
	if (retval)
		st->incomplete = 1;
	return ctx->fatal;
}
