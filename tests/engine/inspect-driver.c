/* inspect-driver.c --- run esck_inspect on an image and print every record, one a line, for the engine tests */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esck.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void field(const char *name, uint64_t v)
{
	if (v != ESCK_NONE)
		printf(" %s=%" PRIu64, name, v);
}

static void on_problem(void *arg, const struct esck_problem *p)
{
	(void)arg;
	printf("problem %s ino=%" PRIu32, esck_problem_name(p->id), p->ino);
	field("lblk", p->lblk);
	field("len", p->len);
	field("pblk", p->pblk);
	field("node", p->node);
	field("expected", p->expected);
	field("found", p->found);
	field("other", p->other_ino);
	printf("\n");
}

struct driver {
	int quiet;
	uint64_t progress_calls, last_done, last_total;
	int progress_backwards;
};

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct driver *d = arg;

	if (done < d->last_done || done > total)
		d->progress_backwards = 1;
	d->progress_calls++;
	d->last_done = done;
	d->last_total = total;
}

static int on_inode(void *arg, const struct esck_inode_report *r)
{
	struct driver *d = arg;

	if (d->quiet)
		return 0;
	printf("inode %" PRIu32 " %s %s size=%" PRIu64 " blocks=%" PRIu64 " depth=%u"
	       " extents=%" PRIu64 " tree=%" PRIu64 " unwritten=%" PRIu64
	       " holes=%" PRIu64 " past_eof=%" PRIu64 " entries=%" PRIu64 "\n",
	       r->ino, esck_kind_name(r->kind), esck_mapping_name(r->mapping), r->size,
	       r->blocks, r->depth, r->extents, r->tree_blocks, r->unwritten_blocks,
	       r->hole_blocks, r->past_eof_blocks, es_tree_entries(r->tree));
	return 0;
}

static void print_summary(const struct esck_summary *s)
{
	int i;

	printf("summary inodes=%" PRIu64 " extents=%" PRIu64 " tree_blocks=%" PRIu64
	       " max_depth=%u unwritten=%" PRIu64 " holes=%" PRIu64 " past_eof=%" PRIu64
	       " problems=%" PRIu64 "\n", s->inodes, s->extents, s->tree_blocks,
	       s->max_depth, s->unwritten_blocks, s->hole_blocks, s->past_eof_blocks,
	       s->problems);
	printf("kinds");
	for (i = 0; i < ESCK_KIND_COUNT; i++)
		printf(" %s=%" PRIu64, esck_kind_name(i), s->kinds[i]);
	printf("\nmappings");
	for (i = 0; i < ESCK_MAPPING_COUNT; i++)
		printf(" %s=%" PRIu64, esck_mapping_name(i), s->mappings[i]);
	printf("\ndepths");
	for (i = 0; i < 6; i++)
		printf(" %d=%" PRIu64, i, s->depths[i]);
	printf("\ntop");
	for (i = 0; i < ESCK_TOP_FRAGMENTED && s->top[i].ino; i++)
		printf(" %" PRIu32 ":%" PRIu64, s->top[i].ino, s->top[i].extents);
	printf("\ncache entries=%" PRIu64 " peak=%" PRIu64 " conflicts=%" PRIu64 "\n",
	       s->cache.entries, s->cache_peak_entries, s->cache.conflicts);
}

int main(int argc, char **argv)
{
	struct esck_inspect_opts opts;
	struct esck_inspect_ops ops;
	struct esck_summary sum;
	struct esck_fs *fs;
	uint32_t *inos = NULL;
	char **specs;
	size_t nr_specs = 0, i;
	errcode_t retval;
	struct driver d;
	int c, flags = 0, progress = 0, status = 0;

	add_error_table(&et_ext2_error_table);
	add_error_table(&et_esck_error_table);
	memset(&opts, 0, sizeof(opts));
	memset(&d, 0, sizeof(d));
	specs = calloc((size_t)argc, sizeof(*specs));
	if (!specs)
		return 2;
	while ((c = getopt(argc, argv, "fpqi:c:")) != -1) {
		switch (c) {
		case 'f':
			flags |= ESCK_OPEN_FORCE;
			break;
		case 'p':
			progress = 1;
			break;
		case 'q':
			d.quiet = 1;
			break;
		case 'i':
			specs[nr_specs++] = optarg;
			break;
		case 'c':
			opts.cache_max_entries = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: inspect-driver [-fpq] [-c N] [-i INODE]... IMAGE\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: inspect-driver [-fpq] [-c N] [-i INODE]... IMAGE\n");
		return 2;
	}
	retval = esck_open(argv[optind], flags, &fs);
	if (retval) {
		printf("open-error %ld %s\n", (long)retval, error_message(retval));
		free(specs);
		return 1;
	}
	printf("mount-state %d\n", esck_mount_state(fs));
	if (nr_specs) {
		inos = calloc(nr_specs, sizeof(*inos));
		if (!inos)
			return 2;
		for (i = 0; i < nr_specs; i++) {
			retval = esck_resolve_inode(fs, specs[i], &inos[i]);
			if (retval) {
				printf("resolve-error %s %s\n", specs[i], error_message(retval));
				status = 1;
				goto out;
			}
		}
		/* esck_inspect wants them sorted and unique. */
		qsort(inos, nr_specs, sizeof(*inos), cmp_u32);
		for (i = 1, opts.nr_inos = 1; i < nr_specs; i++)
			if (inos[i] != inos[opts.nr_inos - 1])
				inos[opts.nr_inos++] = inos[i];
		opts.inos = inos;
	}
	memset(&ops, 0, sizeof(ops));
	ops.problem = on_problem;
	ops.inode = on_inode;
	if (progress)
		ops.progress = on_progress;
	ops.arg = &d;
	retval = esck_inspect(fs, &opts, &ops, &sum);
	if (retval) {
		printf("inspect-error %s\n", error_message(retval));
		status = 1;
	}
	print_summary(&sum);
	if (progress)
		printf("progress calls=%" PRIu64 " last=%" PRIu64 "/%" PRIu64 "%s\n",
		       d.progress_calls, d.last_done, d.last_total,
		       d.progress_backwards ? " backwards" : "");
out:
	retval = esck_close(fs);
	if (retval) {
		printf("close-error %s\n", error_message(retval));
		status = 1;
	}
	free(inos);
	free(specs);
	return status;
}
