/* replay_group.c --- group commit: removal ops written to the image together, retried alone if that write fails */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "replay_int.h"
#include "txio.h"

#include <ext2fs/ext3_extents.h> /* after ext2fs.h: it needs its types */

/*
 * One result or divergence of a held op, told once its group has reached
 * the image (a group that fails to is replayed op by op, told again).
 */
struct replay_event {
	int is_divergence;
	struct esck_replay_result res;
	struct esck_replay_divergence div;
	struct esck_problem problem;
	int has_problem;
};

/*
 * The group's write-out, bottom up, so that a process killed inside it
 * leaves bitmaps and counters that lag the trees, not a tree that points
 * at a node not written yet: new extent nodes (nothing on the image points
 * at them), then the others from the leaves up, then the metadata zone
 * (inode tables, bitmaps, descriptors, superblock), then the rest
 * (directory blocks naming an inode).
 */
int replay_write_rank(void *arg, uint64_t blk, const void *data,
		      const void *before)
{
	struct esck_replay *r = arg;
	const struct ext3_extent_header *eh = data, *old = before;
	unsigned int depth;

	if (ext2fs_le16_to_cpu(eh->eh_magic) == EXT3_EXT_MAGIC) {
		if (ext2fs_le16_to_cpu(old->eh_magic) != EXT3_EXT_MAGIC)
			return 0;
		depth = ext2fs_le16_to_cpu(eh->eh_depth);
		return 1 + (int)(depth < 8 ? depth : 8);
	}
	if (r->meta.built && replay_meta_overlaps(r, r->meta.jnl_ino, blk, 1))
		return 100;
	return 200;
}

int replay_groupable(const struct esck_replay *r, size_t i,
		     const struct esck_op *op)
{
	size_t k;

	if (!r->grp.on || i < r->grp.solo_until)
		return 0;
	switch (op->type) {
	case ESCK_OP_OPEN:
	case ESCK_OP_INODE:
	case ESCK_OP_TRUNCATE:
	case ESCK_OP_FPUNCH:
		break;
	default:
		return 0;
	}
	/* Dirty data lives only in memory: a group could not be redone. */
	for (k = 0; k < r->nr_files; k++)
		if (r->files[k]->pend.nr)
			return 0;
	return 1;
}

errcode_t replay_group_start(struct esck_replay *r, size_t i)
{
	struct replay_group *g = &r->grp;
	errcode_t retval;

	retval = txio_group_begin(r->fs->io);
	if (retval)
		return retval;
	g->active = 1;
	g->start = g->end = i;
	g->nr_files = r->nr_files;
	g->cur = r->cur;
	g->sum = *r->sum;
	return 0;
}

void replay_group_op_begin(struct esck_replay *r, size_t i, int grouped)
{
	struct replay_group *g = &r->grp;

	if (g->redo && i >= g->redo_op) {
		txio_fault_set_seen(g->redo_reads, g->redo_writes);
		(void)txio_fault_hold(0);
		g->redo = 0;
	}
	r->meta_touched = 0;
	g->flushed = 0;
	if (!grouped || !g->deferred)
		return;
	/* What replay_group_tainted() compares with, should the op fail. */
	g->op_reads = txio_reads_seen();
	g->op_writes = txio_writes_seen();
	memcpy(&g->sb, r->fs->super, sizeof(g->sb));
}

errcode_t replay_group_op_flush(struct esck_replay *r)
{
	if (replay_flush_deferrable(r))
		return 0;
	r->grp.flushed = 1;
	return replay_flush(r);
}

void replay_group_op_done(struct esck_replay *r)
{
	struct replay_group *g = &r->grp;

	/* A flush of its own wrote what the ops before it left too. */
	if (g->flushed)
		g->deferred = 0;
	else
		g->deferred++;
}

int replay_group_tainted(const struct esck_replay *r)
{
	const struct replay_group *g = &r->grp;

	/*
	 * Nothing held back: the rolled-back op is all there is to forget,
	 * and the reopen after the group's write-out forgets it.
	 */
	if (!g->deferred)
		return 0;
	return r->meta_touched || g->flushed ||
	       memcmp(&g->sb, r->fs->super, sizeof(g->sb)) != 0;
}

static errcode_t reload(struct esck_replay *r);

errcode_t replay_group_redo(struct esck_replay *r, size_t i)
{
	struct replay_group *g = &r->grp;

	(void)txio_group_drop(r->fs->io);
	g->active = 0;
	g->deferred = 0;
	if (!g->redo) {
		g->redo = 1;
		g->redo_op = i;
		g->redo_reads = g->op_reads;
		g->redo_writes = g->op_writes;
	}
	(void)txio_fault_hold(1);
	g->solo_until = i + 1;
	return reload(r);
}

static struct replay_event *event_new(struct esck_replay *r)
{
	struct replay_group *g = &r->grp;
	void *arr = g->ev;

	if (esck_grow(&arr, &g->cap_ev, g->nr_ev, sizeof(*g->ev), 64))
		return NULL;
	g->ev = arr;
	memset(&g->ev[g->nr_ev], 0, sizeof(*g->ev));
	return &g->ev[g->nr_ev++];
}

void replay_report_op(struct esck_replay *r,
		      const struct esck_replay_result *res)
{
	struct replay_event *e = r->grp.active ? event_new(r) : NULL;

	if (e)
		e->res = *res;
	else if (r->ops && r->ops->op)
		r->ops->op(r->ops->arg, res);
}

void replay_report_divergence(struct esck_replay *r,
			      const struct esck_replay_divergence *d)
{
	struct replay_event *e = r->grp.active ? event_new(r) : NULL;

	if (e) {
		e->is_divergence = 1;
		e->div = *d;
		if (d->problem) {
			e->problem = *d->problem;
			e->has_problem = 1;
		}
	} else if (r->ops && r->ops->divergence) {
		r->ops->divergence(r->ops->arg, d);
	}
}

static void deliver(struct esck_replay *r)
{
	struct replay_group *g = &r->grp;
	struct replay_event *e;
	size_t k;

	for (k = 0; k < g->nr_ev; k++) {
		e = &g->ev[k];
		if (!e->is_divergence) {
			if (r->ops && r->ops->op)
				r->ops->op(r->ops->arg, &e->res);
			continue;
		}
		e->div.problem = e->has_problem ? &e->problem : NULL;
		if (r->ops && r->ops->divergence)
			r->ops->divergence(r->ops->arg, &e->div);
	}
	g->nr_ev = 0;
}

/*
 * The image is back as it was when the group began: so is everything
 * else.  The files the group opened go (their opens are replayed), the
 * others are read again from the disk, which holds all of them (a group
 * starts only while no file has dirty data).
 */
static errcode_t reload(struct esck_replay *r)
{
	struct replay_group *g = &r->grp;
	struct replay_file *f;
	struct ext2_inode inode;
	errcode_t retval;
	size_t k;

	replay_pend_free(&r->save);
	r->save_file = NULL;
	while (r->nr_files > g->nr_files) {
		f = r->files[--r->nr_files];
		es_tree_release(&f->tree);
		replay_pend_free(&f->pend);
		free(f);
	}
	r->cur = g->cur;
	replay_release_reserve(r);
	ext2fs_free(r->fs);
	r->fs = NULL;
	retval = replay_fs_open(r);
	for (k = 0; !retval && k < r->nr_files; k++) {
		f = r->files[k];
		if (!f->ino || f->damage[0])
			continue;
		retval = ext2fs_read_inode(r->fs, f->ino, &inode);
		if (!retval) {
			f->size = EXT2_I_SIZE(&inode);
			retval = replay_pend_rebuild(r, f);
		}
	}
	*r->sum = g->sum;
	g->nr_ev = 0;
	return retval;
}

/*
 * The held ops' bitmaps, descriptors and superblock, joined to the group
 * before its write-out.  Not where a test's read fault can fall: these
 * reads were each op's own before, and the op is long told.
 */
static errcode_t flush_deferred(struct esck_replay *r)
{
	io_channel io = r->fs->io;
	int held = txio_fault_hold(1);
	errcode_t retval;

	r->grp.deferred = 0;
	retval = txio_begin(io);
	if (!retval) {
		retval = replay_flush(r);
		if (!retval)
			retval = txio_commit(io);
		if (retval)
			(void)txio_rollback(io);
	}
	(void)txio_fault_hold(held);
	return retval;
}

errcode_t replay_group_settle(struct esck_replay *r, int *rerun)
{
	struct replay_group *g = &r->grp;
	errcode_t retval;

	*rerun = 0;
	if (!g->active)
		return 0;
	g->active = 0;
	retval = g->deferred ? flush_deferred(r) : 0;
	if (!retval && !txio_group_end(r->fs->io)) {
		deliver(r);
		return 0;
	}
	if (retval)
		(void)txio_group_drop(r->fs->io);
	retval = reload(r);
	if (retval)
		return retval;
	/* Each op of the group again, alone, to find the one that fails. */
	g->solo_until = g->end;
	*rerun = 1;
	return 0;
}

int replay_group_due(const struct esck_replay *r)
{
	const struct replay_group *g = &r->grp;

	return g->active && (g->end - g->start >= REPLAY_GROUP_OPS ||
			     txio_group_bytes(r->fs->io) >= REPLAY_GROUP_BYTES);
}

void replay_group_free(struct esck_replay *r)
{
	free(r->grp.ev);
	memset(&r->grp, 0, sizeof(r->grp));
}
