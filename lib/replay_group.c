/* replay_group.c --- group commit: removal ops written to the image together, retried alone if that write fails */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "replay_int.h"
#include "txio.h"

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

errcode_t replay_group_settle(struct esck_replay *r, int *rerun)
{
	struct replay_group *g = &r->grp;
	errcode_t retval;

	*rerun = 0;
	if (!g->active)
		return 0;
	g->active = 0;
	if (!txio_group_end(r->fs->io)) {
		deliver(r);
		return 0;
	}
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
