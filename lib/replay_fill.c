/* replay_fill.c --- cache from the disk, before an op, the range its verification will compare */
/*
 * Why not the whole tree at open: the kernel never does that either (a
 * leaf is cached when a lookup reads it, and punch and truncate read with
 * EXT4_EX_NOCACHE), and the verification after an op compares only its
 * range and one block on each side.  On a tree of a million extents the
 * whole load is 40 MB of entries that no comparison ever looks at.  The
 * ops themselves decide from the disk (the cache only spares a split's
 * reservation its walk where it already knows the block after the range
 * is a hole, which the disk says too), so what the cache holds changes
 * what is compared, not what is done.
 *
 * Filling from the disk is right only while the disk holds every change
 * the cache holds: so never in a dry run, and only where nothing is
 * cached (a DELAYED entry, or what an earlier op left, stays).
 */
#include <string.h>

#include "replay_int.h"

struct fill_ctx {
	struct es_tree *tree;
	uint64_t hi;		/* the range's last block */
	uint64_t next;		/* the first block of it not cached yet */
	int stop;		/* damage: cache nothing more */
};

static void put(struct fill_ctx *c, uint64_t lblk, uint64_t last,
		uint64_t pblk, unsigned int type)
{
	(void)es_cache_extent(c->tree, (uint32_t)lblk,
			      (uint32_t)(last - lblk + 1), pblk, type, NULL);
}

static int fill_extent(void *arg, const struct esck_raw_extent *e)
{
	struct fill_ctx *c = arg;
	uint64_t last = (uint64_t)e->lblk + e->len - 1, s, t;

	if (c->stop || !e->len)
		return 0;
	if (last < c->next || e->lblk > c->hi)
		return 0;
	s = e->lblk > c->next ? e->lblk : c->next;
	t = last < c->hi ? last : c->hi;
	if (s > c->next)
		put(c, c->next, s - 1, 0, ES_HOLE);
	put(c, s, t, e->pblk + (s - e->lblk),
	    e->unwritten ? ES_UNWRITTEN : ES_WRITTEN);
	c->next = t + 1;
	return 0;
}

/*
 * Damage, out-of-order or overlapping extents included, is reported before
 * the extent is visited: nothing more is cached, the verification says it.
 */
static void fill_problem(void *arg, const struct esck_problem *p)
{
	struct fill_ctx *c = arg;

	(void)p;
	c->stop = 1;
}

errcode_t replay_fill(struct esck_replay *r, struct replay_file *f,
		      struct ext2_inode *inode, uint32_t lo, uint32_t hi)
{
	struct esck_raw_geometry geo;
	struct esck_raw_tree raw;
	struct esck_raw_visitor vis = { fill_extent, NULL, NULL };
	struct fill_ctx c;
	errcode_t retval;

	if (!r->lazy || !f || !f->ino || f->damage[0] || lo > hi)
		return 0;
	if (hi > LBLK_LAST)
		hi = LBLK_LAST;
	if (lo > hi || es_count_blocks(&f->tree, ES_ANY_TYPE, lo,
				       hi - lo + 1) == (uint64_t)hi - lo + 1)
		return 0;
	if (!LINUX_S_ISREG(inode->i_mode) ||
	    (inode->i_flags & EXT4_INLINE_DATA_FL))
		return 0;
	if (!(inode->i_flags & EXT4_EXTENTS_FL))
		return replay_ind_cache(r, f, inode, lo, hi, 0);
	memset(&c, 0, sizeof(c));
	c.tree = &f->tree;
	c.next = lo;
	c.hi = hi;
	vis.arg = &c;
	replay_geometry(r, &geo);
	retval = esck_raw_walk_range(&geo, f->ino, inode->i_generation,
				     inode->i_block, lo, hi, &vis, &raw,
				     fill_problem, &c);
	esck_raw_tree_free(&raw);
	/* Past the last extent in the range, a hole: what a lookup caches. */
	if (!retval && !c.stop && c.next <= hi)
		put(&c, c.next, hi, 0, ES_HOLE);
	return retval;
}
