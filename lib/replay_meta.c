/* replay_meta.c --- the filesystem's own blocks as a few sorted intervals, so replay refuses maps that point into them */
/*
 * The kernel refuses an extent or a node on its "system zone"
 * (ext4_inode_block_valid): freeing such blocks would free metadata in
 * the bitmap.  Inspect marks metadata in a bitmap over every cluster; a
 * replay only asks about the files it opens, and a bitmap of a 2^32-block
 * filesystem is 512 MiB, so the zone is kept as sorted, merged [start, end)
 * intervals instead: a handful per flex group, looked up by binary search.
 * Intervals are widened to whole clusters, as inspect's map: a cluster that
 * holds metadata is in use however little of it the metadata fills.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay_int.h"
#include "grow.h"

struct spans {
	struct replay_span *v;
	size_t nr, cap;
};

struct meta_build {
	ext2_filsys fs;
	uint64_t first, count;	/* [first_data_block, blocks_count) */
	uint64_t cmask;		/* blocks per cluster - 1 */
	struct spans *s;
	errcode_t err;
};

/*
 * Append [blk, blk + n), clipped to the filesystem (descriptors may point
 * anywhere on a damaged image) and widened to clusters.  Runs laid out one
 * after another (flex_bg's bitmaps and tables, a journal's blocks) merge
 * here already, which keeps the array small before the final sort.
 */
static void add(struct meta_build *b, uint64_t blk, uint64_t n)
{
	struct spans *s = b->s;
	struct replay_span *last;
	void *arr;
	uint64_t end;

	if (b->err || !n || blk >= b->count)
		return;
	end = n > b->count - blk ? b->count : blk + n;
	if (end <= b->first)
		return;
	if (blk < b->first)
		blk = b->first;
	blk &= ~b->cmask;
	end = (end + b->cmask) & ~b->cmask;
	last = s->nr ? &s->v[s->nr - 1] : NULL;
	if (last && blk >= last->start && blk <= last->end) {
		if (end > last->end)
			last->end = end;
		return;
	}
	arr = s->v;
	if (esck_grow(&arr, &s->cap, s->nr, sizeof(*s->v), 64)) {
		b->err = ENOMEM;
		return;
	}
	s->v = arr;
	s->v[s->nr].start = blk;
	s->v[s->nr].end = end;
	s->nr++;
}

static int cmp_span(const void *a, const void *b)
{
	const struct replay_span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* Sort, merge overlapping and touching intervals, give back the slack. */
static void normalize(struct spans *s)
{
	struct replay_span *v;
	size_t i, n = 0;

	if (!s->nr)
		return;
	qsort(s->v, s->nr, sizeof(*s->v), cmp_span);
	for (i = 1; i < s->nr; i++) {
		if (s->v[i].start <= s->v[n].end) {
			if (s->v[i].end > s->v[n].end)
				s->v[n].end = s->v[i].end;
		} else {
			s->v[++n] = s->v[i];
		}
	}
	s->nr = n + 1;
	v = realloc(s->v, s->nr * sizeof(*s->v));
	if (v) {
		s->v = v;
		s->cap = s->nr;
	}
}

/*
 * Superblock and descriptor copies with the reserved GDT blocks, as
 * ext2fs_reserve_super_and_bgd() marks them (and inspect with it).
 */
static void add_super_and_bgd(struct meta_build *b, dgrp_t g)
{
	ext2_filsys fs = b->fs;
	blk64_t super_blk, old_desc, new_desc;
	blk_t used;
	uint64_t old_n;

	ext2fs_super_and_bgd_loc2(fs, g, &super_blk, &old_desc, &new_desc, &used);
	if (ext2fs_has_feature_meta_bg(fs->super))
		old_n = fs->super->s_first_meta_bg;
	else
		old_n = fs->desc_blocks + fs->super->s_reserved_gdt_blocks;
	/* Group 0's superblock may be block 0 of a 4 KiB filesystem. */
	if (super_blk || !g)
		add(b, super_blk, 1);
	if (old_desc)
		add(b, old_desc, old_n);
	if (new_desc)
		add(b, new_desc, 1);
}

static void build_sys(struct meta_build *b)
{
	ext2_filsys fs = b->fs;
	dgrp_t g, n = fs->group_desc_count;

	/* One kind at a time: flex_bg lays each kind out in a row. */
	for (g = 0; g < n; g++)
		add(b, ext2fs_block_bitmap_loc(fs, g), 1);
	for (g = 0; g < n; g++)
		add(b, ext2fs_inode_bitmap_loc(fs, g), 1);
	for (g = 0; g < n; g++)
		add(b, ext2fs_inode_table_loc(fs, g), fs->inode_blocks_per_group);
	for (g = 0; g < n; g++)
		add_super_and_bgd(b, g);
	if (ext2fs_has_feature_mmp(fs->super))
		add(b, fs->super->s_mmp_block, 1);
}

static int journal_block(ext2_filsys fs, blk64_t *blocknr,
			 e2_blkcnt_t blockcnt, blk64_t ref_blk, int ref_offset,
			 void *priv)
{
	struct meta_build *b = priv;

	(void)fs;
	(void)blockcnt;
	(void)ref_blk;
	(void)ref_offset;
	add(b, *blocknr, 1);
	return b->err ? BLOCK_ABORT : 0;
}

/*
 * The internal journal's data and map blocks, as the kernel protects them
 * (ext4_protect_reserved_inode), into *js.  A journal whose map cannot be
 * walked is left out: the rest of the zone still guards the replay.
 */
static void build_journal(struct meta_build *b, struct replay_meta *m,
			  struct spans *js)
{
	ext2_filsys fs = b->fs;
	uint32_t ino = fs->super->s_journal_inum;
	struct meta_build jb = *b; /* the same bounds, its own list */
	struct ext2_inode inode;
	errcode_t retval;

	if (!ext2fs_has_feature_journal(fs->super) || !ino ||
	    ino > fs->super->s_inodes_count ||
	    ext2fs_read_inode(fs, ino, &inode) ||
	    !ext2fs_inode_has_valid_blocks2(fs, &inode))
		return;
	jb.s = js;
	jb.err = 0;
	retval = ext2fs_block_iterate3(fs, ino, BLOCK_FLAG_READ_ONLY, NULL,
				       journal_block, &jb);
	if (retval || jb.err) {
		free(js->v);
		js->v = NULL;
		js->nr = js->cap = 0;
		return;
	}
	m->jnl_ino = ino;
}

/*
 * Every file but the journal is checked against the metadata and the
 * journal both: one list of the two makes that one lookup, not two.
 */
static errcode_t build_all(struct spans *all, const struct spans *ss,
			   const struct spans *js)
{
	all->nr = all->cap = ss->nr + js->nr;
	if (!all->nr)
		return 0;
	all->v = malloc(all->nr * sizeof(*all->v));
	if (!all->v)
		return ENOMEM;
	if (ss->nr)
		memcpy(all->v, ss->v, ss->nr * sizeof(*all->v));
	if (js->nr)
		memcpy(all->v + ss->nr, js->v, js->nr * sizeof(*all->v));
	normalize(all);
	return 0;
}

errcode_t replay_meta_build(struct esck_replay *r)
{
	struct replay_meta *m = &r->meta;
	struct spans ss = { NULL, 0, 0 }, js = { NULL, 0, 0 };
	struct spans all = { NULL, 0, 0 };
	struct meta_build b;
	errcode_t retval;

	if (m->built)
		return 0;
	memset(&b, 0, sizeof(b));
	b.fs = r->fs;
	b.first = r->fs->super->s_first_data_block;
	b.count = ext2fs_blocks_count(r->fs->super);
	b.cmask = EXT2FS_CLUSTER_RATIO(r->fs) - 1;
	b.s = &ss;
	build_sys(&b);
	if (b.err) {
		free(ss.v);
		return b.err;
	}
	normalize(&ss);
	build_journal(&b, m, &js);
	retval = build_all(&all, &ss, &js);
	free(js.v);
	if (retval) {
		free(ss.v);
		m->jnl_ino = 0;
		return retval;
	}
	m->sys.v = ss.v;
	m->sys.nr = ss.nr;
	m->sys.hint = 0;
	m->all.v = all.v;
	m->all.nr = all.nr;
	m->all.hint = 0;
	m->built = 1;
	return 0;
}

void replay_meta_free(struct esck_replay *r)
{
	free(r->meta.sys.v);
	free(r->meta.all.v);
	memset(&r->meta, 0, sizeof(r->meta));
}

/*
 * Whether [blk, end) meets one of z's intervals.  Only the first interval
 * ending after blk can: the lo with v[lo - 1].end <= blk < v[lo].end, ends
 * increasing.  The last answer, z->hint, brackets the search on either
 * side of it, and closes it at once when blk is in the same gap again.
 */
static int overlaps(struct replay_zone *z, uint64_t blk, uint64_t end)
{
	const struct replay_span *v = z->v;
	size_t h = z->hint, lo = 0, hi = z->nr;

	if (h && v[h - 1].end > blk) {
		hi = h - 1;
	} else {
		lo = h;
		if (h < z->nr && v[h].end <= blk)
			lo = h + 1;
		else
			hi = h;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].end <= blk)
			lo = mid + 1;
		else
			hi = mid;
	}
	z->hint = lo;
	return lo < z->nr && v[lo].start < end;
}

int replay_meta_overlaps(struct esck_replay *r, uint32_t ino, uint64_t blk,
			 uint64_t len)
{
	struct replay_meta *m = &r->meta;
	uint64_t end = blk + len < blk ? UINT64_MAX : blk + len;

	if (!len)
		return 0;
	/* The journal's blocks are its own, as in the kernel's check. */
	return overlaps(ino == m->jnl_ino ? &m->sys : &m->all, blk, end);
}
