/* cmd-inspect.c --- esck inspect: load an image's block maps into the cache, check, and report */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "esck.h"
#include "cmd.h"
#include "json.h"

static const char progname[] = "esck inspect";

enum {
	OPT_JSON = 0x100,
	OPT_CACHE_LIMIT,
};

struct inspect_ctx {
	const char *image;
	int map;		/* -m: per-inode extent maps */
	int quiet;		/* -q: problems only */
	int json;		/* --json: JSON Lines */
	struct json_writer jw;

	/* text mode without -q: problems wait until after the summary */
	struct esck_problem *problems;
	size_t nr_problems, alloc_problems;
	int out_of_memory;

	/* progress bar on a terminal */
	int progress;
	int progress_drawn;
	struct timespec progress_last;
};

static void usage(void)
{
	fputs("Usage: " CMD_INSPECT_USAGE "\n"
	      "\n"
	      "Load the block maps of IMAGE's in-use inodes (or only of those given\n"
	      "with -i) into the extent status cache, check the extent trees, the\n"
	      "block maps and the cache against each other, and report what is wrong.\n"
	      "The image is opened read-only and never written.\n"
	      "\n"
	      "Options:\n"
	      "  -f, --force          inspect even if the journal needs recovery\n"
	      "  -i, --inode=INO|PATH inspect only this inode, by number or absolute\n"
	      "                       path in the file system; may be repeated\n"
	      "  -m, --map            print the extent map of every inode\n"
	      "  -q, --quiet          print the problems only\n"
	      "      --json           print JSON Lines instead of text\n"
	      "      --cache-limit=N|SIZE\n"
	      "                       bound the cache to N entries, or to SIZE bytes\n"
	      "                       with a K, M or G suffix (powers of 1024)\n"
	      "  -h, --help           show this help and exit\n"
	      "\n"
	      "Exit status: 0 no problem, 4 problems found, 8 operational error,\n"
	      "16 usage error; esck-inspect(8) describes the output.\n",
	      stdout);
}

/* ---- text output ---- */

/* One "label:   value" line of the summary, values aligned. */
static void print_field(const char *label, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void print_field(const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("%s:%*s", label, (int)(20 - strlen(label)), "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void print_u64(const char *label, uint64_t v)
{
	print_field(label, "%" PRIu64, v);
}

static void print_problem_text(const struct esck_problem *p)
{
	static const char *const names[] = {
		"lblk", "len", "pblk", "node", "expected", "found", "other inode",
	};
	uint64_t vals[7];
	const char *sep = " (";
	unsigned int i;
	int any = 0;

	vals[0] = p->lblk;
	vals[1] = p->len;
	vals[2] = p->pblk;
	vals[3] = p->node;
	vals[4] = p->expected;
	vals[5] = p->found;
	vals[6] = p->other_ino;

	if (p->ino)
		printf("inode %" PRIu32 ": ", p->ino);
	else
		fputs("filesystem: ", stdout);
	printf("%s: %s", esck_problem_name(p->id), esck_problem_message(p->id));
	for (i = 0; i < 7; i++) {
		if (vals[i] == ESCK_NONE)
			continue;
		printf("%s%s %" PRIu64, sep, names[i], vals[i]);
		sep = ", ";
		any = 1;
	}
	if (any)
		putchar(')');
	putchar('\n');
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void print_map_text(const struct esck_inode_report *r)
{
	struct es_iter it;
	struct es_extent es;

	printf("inode %" PRIu32 " (%s, %s, size %" PRIu64 ", depth %u):\n",
	       r->ino, esck_kind_name(r->kind), esck_mapping_name(r->mapping),
	       r->size, r->depth);
	if (!r->tree)
		return;
	es_iter_start(r->tree, 0, &it);
	while (es_iter_next(&it, &es)) {
		unsigned int type = es_type(&es);

		if (type != ES_WRITTEN && type != ES_UNWRITTEN)
			continue;
		printf("  %" PRIu32 "..%" PRIu32 " -> %" PRIu64 "..%" PRIu64
		       " (%" PRIu32 " %s) %s\n",
		       es.lblk, es_end(&es), es.pblk, es.pblk + es.len - 1,
		       es.len, plural(es.len, "block", "blocks"),
		       type == ES_WRITTEN ? "written" : "unwritten");
	}
}

static void print_summary_text(const struct inspect_ctx *ctx,
			       const struct esck_summary *sum)
{
	char label[32];
	unsigned int i;

	print_field("image", "%s", ctx->image);
	print_u64("block size", sum->block_size);
	print_u64("blocks", sum->blocks_count);
	print_u64("inodes inspected", sum->inodes);
	for (i = 0; i < ESCK_KIND_COUNT; i++) {
		if (!sum->kinds[i])
			continue;
		snprintf(label, sizeof(label), "  %s", esck_kind_name(i));
		print_u64(label, sum->kinds[i]);
	}
	for (i = 0; i < ESCK_MAPPING_COUNT; i++) {
		if (!sum->mappings[i])
			continue;
		snprintf(label, sizeof(label), "  mapped by %s", esck_mapping_name(i));
		print_u64(label, sum->mappings[i]);
	}
	print_u64("extents", sum->extents);
	print_u64("tree blocks", sum->tree_blocks);
	print_u64("max depth", sum->max_depth);
	for (i = 0; i < 6; i++) {
		if (!sum->depths[i])
			continue;
		snprintf(label, sizeof(label), "  depth %u%s", i, i == 5 ? "+" : "");
		print_u64(label, sum->depths[i]);
	}
	print_u64("unwritten blocks", sum->unwritten_blocks);
	print_u64("hole blocks", sum->hole_blocks);
	print_u64("blocks past EOF", sum->past_eof_blocks);
	for (i = 0; i < ESCK_TOP_FRAGMENTED; i++) {
		if (!sum->top[i].ino)
			continue;
		print_field("most fragmented", "ino %" PRIu32 ": %" PRIu64 " %s",
			    sum->top[i].ino, sum->top[i].extents,
			    plural(sum->top[i].extents, "extent", "extents"));
	}
	print_u64("peak cache entries", sum->cache_peak_entries);
	print_u64("peak cache bytes", sum->cache_peak_entries * ES_ENTRY_SIZE);
}

/* ---- JSON output ---- */

static void print_problem_json(struct inspect_ctx *ctx, const struct esck_problem *p)
{
	struct json_writer *w = &ctx->jw;

	json_object_begin(w, NULL);
	json_string(w, "type", "problem");
	json_string(w, "id", esck_problem_name(p->id));
	json_string(w, "severity",
		    esck_severity_name(esck_problem_severity(p->id)));
	json_u64(w, "ino", p->ino);
	if (p->lblk != ESCK_NONE)
		json_u64(w, "lblk", p->lblk);
	if (p->len != ESCK_NONE)
		json_u64(w, "len", p->len);
	if (p->pblk != ESCK_NONE)
		json_u64(w, "pblk", p->pblk);
	if (p->node != ESCK_NONE)
		json_u64(w, "node", p->node);
	if (p->expected != ESCK_NONE)
		json_u64(w, "expected", p->expected);
	if (p->found != ESCK_NONE)
		json_u64(w, "found", p->found);
	if (p->other_ino != ESCK_NONE)
		json_u64(w, "other_ino", p->other_ino);
	json_string(w, "message", esck_problem_message(p->id));
	json_object_end(w);
	json_newline(w);
}

static void print_inode_json(struct inspect_ctx *ctx, const struct esck_inode_report *r)
{
	struct json_writer *w = &ctx->jw;
	struct es_iter it;
	struct es_extent es;

	json_object_begin(w, NULL);
	json_string(w, "type", "inode");
	json_u64(w, "ino", r->ino);
	json_string(w, "kind", esck_kind_name(r->kind));
	json_string(w, "mapping", esck_mapping_name(r->mapping));
	json_u64(w, "size", r->size);
	json_u64(w, "blocks", r->blocks);
	json_u64(w, "depth", r->depth);
	json_u64(w, "nr_extents", r->extents);
	json_u64(w, "tree_blocks", r->tree_blocks);
	json_u64(w, "unwritten_blocks", r->unwritten_blocks);
	json_u64(w, "hole_blocks", r->hole_blocks);
	json_u64(w, "past_eof_blocks", r->past_eof_blocks);
	if (ctx->map) {
		json_array_begin(w, "extents");
		if (r->tree)
			es_iter_start(r->tree, 0, &it);
		while (r->tree && es_iter_next(&it, &es)) {
			unsigned int type = es_type(&es);

			if (type != ES_WRITTEN && type != ES_UNWRITTEN)
				continue;
			json_object_begin(w, NULL);
			json_u64(w, "lblk", es.lblk);
			json_u64(w, "len", es.len);
			json_u64(w, "pblk", es.pblk);
			json_string(w, "status", es_type_name(type));
			json_object_end(w);
		}
		json_array_end(w);
	}
	json_object_end(w);
	json_newline(w);
}

static void print_summary_json(struct inspect_ctx *ctx, const struct esck_summary *sum)
{
	struct json_writer *w = &ctx->jw;
	unsigned int i;

	json_object_begin(w, NULL);
	json_string(w, "type", "summary");
	json_string(w, "image", ctx->image);
	json_u64(w, "block_size", sum->block_size);
	json_u64(w, "blocks", sum->blocks_count);
	json_u64(w, "inodes", sum->inodes);
	json_object_begin(w, "kinds");
	for (i = 0; i < ESCK_KIND_COUNT; i++)
		json_u64(w, esck_kind_name(i), sum->kinds[i]);
	json_object_end(w);
	json_object_begin(w, "mappings");
	for (i = 0; i < ESCK_MAPPING_COUNT; i++)
		json_u64(w, esck_mapping_name(i), sum->mappings[i]);
	json_object_end(w);
	json_u64(w, "extents", sum->extents);
	json_u64(w, "tree_blocks", sum->tree_blocks);
	json_u64(w, "max_depth", sum->max_depth);
	json_u64(w, "unwritten_blocks", sum->unwritten_blocks);
	json_u64(w, "hole_blocks", sum->hole_blocks);
	json_u64(w, "past_eof_blocks", sum->past_eof_blocks);
	json_u64(w, "cache_entries", sum->cache_peak_entries);
	json_u64(w, "cache_bytes", sum->cache_peak_entries * ES_ENTRY_SIZE);
	json_u64(w, "problems", sum->problems);
	json_u64(w, "errors", sum->by_severity[ESCK_SEV_ERROR]);
	json_u64(w, "warnings", sum->by_severity[ESCK_SEV_WARNING]);
	json_object_end(w);
	json_newline(w);
}

/* ---- progress bar (stderr, terminals only) ---- */

#define PROGRESS_WIDTH 40

static void progress_clear(struct inspect_ctx *ctx)
{
	if (!ctx->progress_drawn)
		return;
	fprintf(stderr, "\r%*s\r", PROGRESS_WIDTH + 40, "");
	fflush(stderr);
	ctx->progress_drawn = 0;
}

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct inspect_ctx *ctx = arg;
	struct timespec now;
	long long ms;
	unsigned int fill, pct;

	if (!ctx->progress || total == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - ctx->progress_last.tv_sec) * 1000LL +
	     (now.tv_nsec - ctx->progress_last.tv_nsec) / 1000000;
	if (ctx->progress_drawn && ms < 100 && done < total)
		return;
	ctx->progress_last = now;
	if (done > total)
		done = total;
	pct = (unsigned int)(done * 100 / total);
	fill = (unsigned int)(done * PROGRESS_WIDTH / total);
	fprintf(stderr, "\r%s: [%.*s%*s] %3u%%", progname, (int)fill,
		"########################################",
		(int)(PROGRESS_WIDTH - fill), "", pct);
	fflush(stderr);
	ctx->progress_drawn = 1;
}

/* ---- callbacks ---- */

static void on_problem(void *arg, const struct esck_problem *p)
{
	struct inspect_ctx *ctx = arg;
	struct esck_problem *n;
	size_t alloc;

	if (ctx->json || ctx->quiet)
		progress_clear(ctx);	/* stdout may be the same terminal */
	if (ctx->json) {
		print_problem_json(ctx, p);
		return;
	}
	if (ctx->quiet) {
		print_problem_text(p);
		return;
	}
	if (ctx->nr_problems == ctx->alloc_problems) {
		alloc = ctx->alloc_problems ? 2 * ctx->alloc_problems : 64;
		n = realloc(ctx->problems, alloc * sizeof(*n));
		if (!n) {
			ctx->out_of_memory = 1;
			return;
		}
		ctx->problems = n;
		ctx->alloc_problems = alloc;
	}
	ctx->problems[ctx->nr_problems++] = *p;
}

static int on_inode(void *arg, const struct esck_inode_report *r)
{
	struct inspect_ctx *ctx = arg;

	if (ctx->json) {
		if (!ctx->quiet) {
			progress_clear(ctx);
			print_inode_json(ctx, r);
		}
	} else if (ctx->map && !ctx->quiet) {
		progress_clear(ctx);
		print_map_text(r);
	}
	return 0;
}

/* ---- arguments ---- */

/* An -i argument is a decimal inode number or an absolute path. */
static int inode_spec_ok(const char *spec)
{
	const char *p;

	if (spec[0] == '/')
		return 1;
	if (spec[0] < '1' || spec[0] > '9')
		return 0;
	for (p = spec; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return strlen(spec) <= 10 && strtoull(spec, NULL, 10) <= UINT32_MAX;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Resolve the -i arguments into a sorted set of inode numbers. */
static int resolve_inodes(struct esck_fs *fs, const char *image, char **specs,
			  size_t nr_specs, uint32_t *inos, size_t *nr_inos)
{
	errcode_t retval;
	size_t i, n = 0;

	for (i = 0; i < nr_specs; i++) {
		retval = esck_resolve_inode(fs, specs[i], &inos[i]);
		if (retval) {
			com_err(progname, retval, "while looking up '%s' in '%s'",
				specs[i], image);
			return ESCK_EXIT_OPERATIONAL;
		}
	}
	qsort(inos, nr_specs, sizeof(*inos), cmp_u32);
	for (i = 0; i < nr_specs; i++)
		if (n == 0 || inos[n - 1] != inos[i])
			inos[n++] = inos[i];
	*nr_inos = n;
	return ESCK_EXIT_OK;
}

static int report_open_error(const char *image, errcode_t retval)
{
	if (retval == ESCK_ET_JOURNAL_NEEDS_RECOVERY)
		fprintf(stderr, "%s: %s: journal needs recovery; run e2fsck -E "
			"journal_only %s (or mount it) to replay it, or use --force\n",
			progname, image, image);
	else
		com_err(progname, retval, "while opening '%s'", image);
	return ESCK_EXIT_OPERATIONAL;
}

/*
 * --cache-limit: decimal entries, or a size with K, M or G (powers of 1024,
 * an optional trailing "B" or "iB").  At least one entry's worth: a limit
 * of nothing would make every entry reclaimable at once.
 */
static int parse_cache_limit(const char *arg, uint64_t *entries, uint64_t *bytes)
{
	unsigned int shift = 0;
	uint64_t v;
	char *end;

	if (!isdigit((unsigned char)*arg))
		return -1;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || !v)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (shift && (!strcmp(end, "B") || !strcmp(end, "iB")))
		end += strlen(end);
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	if (!shift) {
		*entries = v;
		*bytes = 0;
		return 0;
	}
	v <<= shift;
	if (v < ES_ENTRY_SIZE)
		return -1;
	*entries = 0;
	*bytes = v;
	return 0;
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force",	no_argument,		NULL,	'f' },
		{ "help",	no_argument,		NULL,	'h' },
		{ "inode",	required_argument,	NULL,	'i' },
		{ "json",	no_argument,		NULL,	OPT_JSON },
		{ "cache-limit", required_argument,	NULL,	OPT_CACHE_LIMIT },
		{ "map",	no_argument,		NULL,	'm' },
		{ "quiet",	no_argument,		NULL,	'q' },
		{ NULL,		0,			NULL,	0 },
	};
	struct inspect_ctx ctx;
	struct esck_inspect_ops ops;
	struct esck_inspect_opts opts;
	struct esck_summary sum;
	struct esck_fs *fs = NULL;
	char **specs = NULL;
	uint32_t *inos = NULL;
	size_t nr_specs = 0, nr_inos = 0, i;
	uint64_t max_entries = 0, max_bytes = 0;
	int open_flags = 0;
	int status = ESCK_EXIT_OK;
	errcode_t retval;
	int c;

	memset(&ctx, 0, sizeof(ctx));
	specs = calloc((size_t)argc, sizeof(*specs));
	if (!specs) {
		com_err(progname, ENOMEM, "while parsing arguments");
		return ESCK_EXIT_OPERATIONAL;
	}

	while ((c = getopt_long(argc, argv, "fhi:mq", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			open_flags |= ESCK_OPEN_FORCE;
			break;
		case 'h':
			usage();
			goto out_free_specs;
		case 'i':
			if (!inode_spec_ok(optarg)) {
				status = cmd_usage_error(progname,
					"bad inode '%s': give an inode number or an absolute path",
					optarg);
				goto out_free_specs;
			}
			specs[nr_specs++] = optarg;
			break;
		case 'm':
			ctx.map = 1;
			break;
		case 'q':
			ctx.quiet = 1;
			break;
		case OPT_JSON:
			ctx.json = 1;
			break;
		case OPT_CACHE_LIMIT:
			if (parse_cache_limit(optarg, &max_entries, &max_bytes)) {
				status = cmd_usage_error(progname,
					"bad cache limit '%s': give a number of entries, "
					"or a size with K, M or G", optarg);
				goto out_free_specs;
			}
			break;
		default:	/* getopt_long() printed the first line */
			fprintf(stderr, "Try '%s --help' for more information.\n",
				progname);
			status = ESCK_EXIT_USAGE;
			goto out_free_specs;
		}
	}
	if (optind >= argc) {
		status = cmd_usage_error(progname, "no image given");
		goto out_free_specs;
	}
	if (argc - optind > 1) {
		status = cmd_usage_error(progname, "too many arguments");
		goto out_free_specs;
	}
	ctx.image = argv[optind];
	json_init(&ctx.jw, stdout);
	ctx.progress = isatty(STDERR_FILENO);

	retval = esck_open(ctx.image, open_flags, &fs);
	if (retval) {
		status = report_open_error(ctx.image, retval);
		goto out_free_specs;
	}
	if (esck_mount_state(fs) & ESCK_MOUNTED)
		fprintf(stderr, "%s: warning: '%s' is mounted%s; the results may "
			"be inconsistent\n", progname, ctx.image,
			(esck_mount_state(fs) & ESCK_MOUNTED_RO) ? " read-only" : "");

	memset(&opts, 0, sizeof(opts));
	opts.cache_max_entries = max_entries;
	opts.cache_max_bytes = max_bytes;
	if (nr_specs) {
		inos = calloc(nr_specs, sizeof(*inos));
		if (!inos) {
			com_err(progname, ENOMEM, "while parsing arguments");
			status = ESCK_EXIT_OPERATIONAL;
			goto out_close_fs;
		}
		status = resolve_inodes(fs, ctx.image, specs, nr_specs, inos, &nr_inos);
		if (status)
			goto out_close_fs;
		opts.inos = inos;
		opts.nr_inos = nr_inos;
	}

	memset(&ops, 0, sizeof(ops));
	ops.problem = on_problem;
	ops.inode = on_inode;
	ops.progress = on_progress;
	ops.arg = &ctx;
	memset(&sum, 0, sizeof(sum));
	retval = esck_inspect(fs, &opts, &ops, &sum);
	progress_clear(&ctx);
	if (retval) {
		fflush(stdout);
		com_err(progname, retval, "while inspecting '%s'", ctx.image);
		status |= ESCK_EXIT_OPERATIONAL;
	}
	if (ctx.out_of_memory) {
		com_err(progname, ENOMEM, "while collecting problems");
		status |= ESCK_EXIT_OPERATIONAL;
	}

	if (ctx.json) {
		print_summary_json(&ctx, &sum);
	} else if (!ctx.quiet) {
		if (ctx.map && sum.inodes)
			putchar('\n');	/* the maps, an empty line, the summary */
		print_summary_text(&ctx, &sum);
		printf("%" PRIu64 " %s\n", sum.problems,
		       plural(sum.problems, "problem", "problems"));
		for (i = 0; i < ctx.nr_problems; i++)
			print_problem_text(&ctx.problems[i]);
	}
	if (sum.problems)
		status |= ESCK_EXIT_PROBLEMS;

out_close_fs:
	retval = esck_close(fs);
	if (retval) {
		com_err(progname, retval, "while closing '%s'", ctx.image);
		status |= ESCK_EXIT_OPERATIONAL;
	}
out_free_specs:
	free(ctx.problems);
	free(inos);
	free(specs);
	return status;
}
