/* cmd-replay-truncate.c --- esck replay-truncate: apply an xfs_io-style script to cache and image */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "esck.h"
#include "cmd.h"
#include "json.h"

static const char progname[] = "esck replay-truncate";

enum {
	OPT_VERIFY = 0x100,
	OPT_JSON,
	OPT_FAIL_ALLOC,
	OPT_ES_POLICY,
	OPT_FAIL_WRITE,
	OPT_FAIL_READ,
};

struct replay_ctx {
	const char *script_name; /* as in messages: "<stdin>" for "-" */
	int json;
	struct json_writer jw;
	int status;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(void)
{
	fputs("Usage: " CMD_REPLAY_TRUNCATE_USAGE "\n"
	      "\n"
	      "Apply SCRIPT (standard input if '-') to IMAGE: each op changes "
	      "the\n"
	      "extent status cache and the image as the Linux kernel would, "
	      "all or\n"
	      "nothing, and the cache is verified against the disk after it.  "
	      "SCRIPT\n"
	      "uses xfs_io's commands: open [-f] PATH, inode N, truncate "
	      "SIZE,\n"
	      "fpunch OFFSET LENGTH, falloc [-k] OFFSET LENGTH,\n"
	      "pwrite [-q] [-S FILL] OFFSET LENGTH, fsync; writes wait in "
	      "memory until\n"
	      "fsync or the end of the script.  Without SCRIPT, complete the "
	      "pending\n"
	      "truncates of the orphan list, as a mount would.\n"
	      "\n"
	      "Options:\n"
	      "  -n, --dry-run        change the cache only; open IMAGE "
	      "read-only\n"
	      "      --verify=WHEN    range (default), full or end\n"
	      "      --json           print JSON Lines instead of text\n"
	      "      --fail-alloc=SPEC  fail cache allocations: nth:N, "
	      "every:N,\n"
	      "                       rate:P[,seed:S]\n"
	      "      --es-policy=P    nofail (default) or legacy\n"
	      "  -f, --force          replay even if IMAGE is mounted or its "
	      "journal\n"
	      "                       needs recovery\n"
	      "  -z, --undo=FILE      save the blocks overwritten in FILE, "
	      "for e2undo(8)\n"
	      "      --fail-write=N   fail the Nth image write (testing)\n"
	      "      --fail-read=N    fail the Nth image read (testing)\n"
	      "  -h, --help           show this help and exit\n"
	      "\n"
	      "Exit status: 0 all ops applied and verified, 4 cache and disk "
	      "disagree,\n"
	      "8 an op failed or operational error, 16 usage or script syntax "
	      "error,\n"
	      "32 interrupted.\n",
	      stdout);
}

/*
 * A line put together in a buffer and written whole: printf and snprintf
 * parsing their formats were most of what an op's line cost, on scripts
 * of many small ops.  As with snprintf, what does not fit is cut off and
 * buf stays NUL-terminated.
 */
struct text {
	char *buf;
	size_t len, size; /* size > 0 */
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (n > t->size - 1 - t->len)
		n = t->size - 1 - t->len;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

/* As "%" PRIu64 prints it. */
static void text_u64(struct text *t, uint64_t v)
{
	char digits[20], *p = digits + sizeof(digits); /* UINT64_MAX's 20 */

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	text_add(t, p, (size_t)(digits + sizeof(digits) - p));
}

/* As "0x%02x" prints a byte. */
static void text_hex8(struct text *t, uint8_t v)
{
	static const char hex[] = "0123456789abcdef";
	char s[4] = { '0', 'x', hex[v >> 4], hex[v & 0xf] };

	text_add(t, s, sizeof(s));
}

/* "fpunch 4096 8192" and friends, for the per-op line. */
static void format_op(const struct esck_op *op, struct text *t)
{
	switch (op->type) {
	case ESCK_OP_OPEN:
		text_str(t, (op->flags & ESCK_OPF_CREATE) ? "open -f " : "open ");
		text_str(t, op->path);
		break;
	case ESCK_OP_INODE:
		text_str(t, "inode ");
		text_u64(t, op->ino);
		break;
	case ESCK_OP_TRUNCATE:
		text_str(t, "truncate ");
		text_u64(t, op->offset);
		break;
	case ESCK_OP_FPUNCH:
		text_str(t, "fpunch ");
		text_u64(t, op->offset);
		text_str(t, " ");
		text_u64(t, op->length);
		break;
	case ESCK_OP_FALLOC:
		text_str(t, (op->flags & ESCK_OPF_KEEP_SIZE) ? "falloc -k "
							     : "falloc ");
		text_u64(t, op->offset);
		text_str(t, " ");
		text_u64(t, op->length);
		break;
	case ESCK_OP_PWRITE:
		text_str(t, "pwrite -S ");
		text_hex8(t, op->fill);
		text_str(t, " ");
		text_u64(t, op->offset);
		text_str(t, " ");
		text_u64(t, op->length);
		break;
	case ESCK_OP_FSYNC:
		text_str(t, "fsync");
		break;
	}
}

static void error_text(const struct esck_replay_result *res, char *buf,
		       size_t len)
{
	if (res->detail)
		snprintf(buf, len, "%s (%s)", error_message(res->err),
			 res->detail);
	else
		snprintf(buf, len, "%s", error_message(res->err));
}

/*
 * No script: one orphan completed (res->noop: released rather than truncated).
 */
static void on_orphan(struct replay_ctx *ctx,
		      const struct esck_replay_result *res, const char *err)
{
	const char *action = res->noop ? "release" : "truncate";

	if (res->err) {
		fprintf(stderr, "%s: orphan inode %" PRIu32 ": %s\n", progname,
			res->ino, err);
		ctx->status |= ESCK_EXIT_OPERATIONAL;
	}
	if (ctx->json) {
		json_object_begin(&ctx->jw, NULL);
		json_string(&ctx->jw, "type", "orphan");
		json_u64(&ctx->jw, "ino", res->ino);
		json_string(&ctx->jw, "action", action);
		if (!res->noop)
			json_u64(&ctx->jw, "size", res->op->offset);
		json_string(&ctx->jw, "result", res->err ? "error" : "ok");
		if (res->err)
			json_string(&ctx->jw, "error", err);
		json_object_end(&ctx->jw);
		json_newline(&ctx->jw);
		return;
	}
	if (res->noop)
		printf("orphan inode %" PRIu32 ": released: %s\n", res->ino,
		       res->err ? "error" : "ok");
	else
		printf("orphan inode %" PRIu32 ": truncate %" PRIu64 ": %s\n",
		       res->ino, res->op->offset, res->err ? "error" : "ok");
}

static void on_op(void *arg, const struct esck_replay_result *res)
{
	struct replay_ctx *ctx = arg;
	const struct esck_op *op = res->op;
	char desc[512], line[600], err[256];
	struct text d = { desc, 0, sizeof(desc) };
	struct text l = { line, 0, sizeof(line) };

	if (res->err)
		error_text(res, err, sizeof(err));
	if (!op->line) {
		on_orphan(ctx, res, err);
		return;
	}
	if (res->err) {
		fprintf(stderr, "%s:%u: %s: %s\n", ctx->script_name, op->line,
			esck_op_name(op->type), err);
		ctx->status |= ESCK_EXIT_OPERATIONAL;
	}
	if (ctx->json) {
		json_object_begin(&ctx->jw, NULL);
		json_string(&ctx->jw, "type", "op");
		json_u64(&ctx->jw, "line", op->line);
		json_string(&ctx->jw, "op", esck_op_name(op->type));
		json_u64(&ctx->jw, "ino", res->ino);
		if (op->type == ESCK_OP_OPEN)
			json_string(&ctx->jw, "path", op->path);
		if (op->type == ESCK_OP_TRUNCATE)
			json_u64(&ctx->jw, "size", op->offset);
		if (op->type == ESCK_OP_FPUNCH || op->type == ESCK_OP_FALLOC ||
		    op->type == ESCK_OP_PWRITE) {
			json_u64(&ctx->jw, "offset", op->offset);
			json_u64(&ctx->jw, "length", op->length);
		}
		if (op->type == ESCK_OP_PWRITE)
			json_u64(&ctx->jw, "fill", op->fill);
		json_string(&ctx->jw, "result", res->err ? "error" : "ok");
		if (res->err)
			json_string(&ctx->jw, "error", err);
		json_object_end(&ctx->jw);
		json_newline(&ctx->jw);
		return;
	}
	/* desc cuts a long open path at 511 bytes, as it always did. */
	format_op(op, &d);
	text_u64(&l, op->line);
	text_str(&l, ": ");
	text_add(&l, desc, d.len);
	text_str(&l, res->err ? ": error" : ": ok");
	text_str(&l, res->noop ? " (no-op)\n" : "\n");
	fwrite(line, 1, l.len, stdout);
}

static void on_divergence(void *arg, const struct esck_replay_divergence *d)
{
	struct replay_ctx *ctx = arg;
	unsigned int line = d->op ? d->op->line : 0;

	ctx->status |= ESCK_EXIT_PROBLEMS;
	fprintf(stderr, "%s:%u: cache and disk disagree: %s\n",
		ctx->script_name, line, d->what);
	if (!ctx->json)
		return;
	json_object_begin(&ctx->jw, NULL);
	json_string(&ctx->jw, "type", "divergence");
	json_u64(&ctx->jw, "line", line);
	json_u64(&ctx->jw, "ino", d->ino);
	if (d->problem) {
		json_string(&ctx->jw, "id", esck_problem_name(d->problem->id));
		if (d->problem->lblk != ESCK_NONE)
			json_u64(&ctx->jw, "lblk", d->problem->lblk);
		if (d->problem->len != ESCK_NONE)
			json_u64(&ctx->jw, "len", d->problem->len);
	} else if (d->size_cache == d->size_disk) {
		/* DELAYED entries and pending pwrite data disagree. */
		json_string(&ctx->jw, "id", "DELAYED");
	} else {
		json_string(&ctx->jw, "id", "SIZE");
		json_u64(&ctx->jw, "size_cache", d->size_cache);
		json_u64(&ctx->jw, "size_disk", d->size_disk);
	}
	json_string(&ctx->jw, "message", d->what);
	json_object_end(&ctx->jw);
	json_newline(&ctx->jw);
}

static int should_stop(void *arg)
{
	(void)arg;
	return stop_requested != 0;
}

/* The size of the image file, 0 if unknown (a device, say). */
static uint64_t image_bytes(const char *image)
{
	struct stat st;

	return stat(image, &st) || !S_ISREG(st.st_mode) || st.st_size < 0 ?
		       0 :
		       (uint64_t)st.st_size;
}

/*
 * A regular file's script, mapped rather than read: a long script is then
 * neither copied nor grown by doublings, and its pages are the page
 * cache's.  *mapped is 0 when it was not (then read_all()).
 */
static void map_script(FILE *in, char **text, size_t *len, int *mapped)
{
	struct stat st;
	void *m;

	*mapped = 0;
	if (fstat(fileno(in), &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > SIZE_MAX)
		return;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fileno(in), 0);
	if (m == MAP_FAILED)
		return;
	*text = m;
	*len = (size_t)st.st_size;
	*mapped = 1;
}

/* The whole script, from a file or standard input, NUL-terminated. */
static int read_all(FILE *in, char **text, size_t *len)
{
	size_t cap = 4096, n = 0, got;
	char *buf = malloc(cap), *nb;

	if (!buf)
		return ENOMEM;
	while ((got = fread(buf + n, 1, cap - n - 1, in)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (ferror(in)) {
		free(buf);
		return errno ? errno : EIO;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static void print_summary(struct replay_ctx *ctx,
			  const struct esck_replay_summary *sum)
{
	if (ctx->json) {
		json_object_begin(&ctx->jw, NULL);
		json_string(&ctx->jw, "type", "summary");
		json_u64(&ctx->jw, "ops", sum->ops);
		json_u64(&ctx->jw, "ok", sum->ok);
		json_u64(&ctx->jw, "failed", sum->failed);
		json_u64(&ctx->jw, "divergences", sum->divergences);
		json_u64(&ctx->jw, "rollbacks", sum->rollbacks);
		json_u64(&ctx->jw, "interrupted", (uint64_t)sum->interrupted);
		json_u64(&ctx->jw, "cache_entries", sum->cache.entries);
		json_u64(&ctx->jw, "cache_allocs", sum->cache.alloc_attempts);
		json_u64(&ctx->jw, "exit", (uint64_t)ctx->status);
		json_object_end(&ctx->jw);
		json_newline(&ctx->jw);
		return;
	}
	printf("%" PRIu64 " ops: %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64
	       " divergences%s\n",
	       sum->ops, sum->ok, sum->failed, sum->divergences,
	       sum->interrupted ? ", interrupted" : "");
}

int cmd_replay_truncate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{"verify", required_argument, NULL, OPT_VERIFY},
		{"json", no_argument, NULL, OPT_JSON},
		{"fail-alloc", required_argument, NULL, OPT_FAIL_ALLOC},
		{"es-policy", required_argument, NULL, OPT_ES_POLICY},
		{"undo", required_argument, NULL, 'z'},
		{"fail-write", required_argument, NULL, OPT_FAIL_WRITE},
		{"fail-read", required_argument, NULL, OPT_FAIL_READ},
		{NULL, 0, NULL, 0},
	};
	struct esck_replay_opts opts;
	struct esck_replay_summary sum;
	struct esck_replay_ops ops;
	struct esck_script script;
	struct replay_ctx ctx;
	struct esck_replay *r = NULL;
	struct es_fault fault;
	struct sigaction sa;
	const char *image, *sname = NULL;
	char *text = NULL, errbuf[512];
	size_t len = 0;
	int mapped = 0;
	FILE *in;
	errcode_t retval;
	int c, have_fault = 0;

	memset(&opts, 0, sizeof(opts));
	memset(&ctx, 0, sizeof(ctx));
	memset(&script, 0, sizeof(script));
	opts.verify = ESCK_VERIFY_RANGE;
	opts.policy = ES_POLICY_NOFAIL;
	while ((c = getopt_long(argc, argv, "fhnz:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			opts.force = 1;
			break;
		case 'h':
			usage();
			return ESCK_EXIT_OK;
		case 'n':
			opts.dry_run = 1;
			break;
		case 'z':
			if (!*optarg)
				return cmd_usage_error(argv[0],
						       "empty undo file name");
			opts.undo_file = optarg;
			break;
		case OPT_VERIFY:
			if (!strcmp(optarg, "range"))
				opts.verify = ESCK_VERIFY_RANGE;
			else if (!strcmp(optarg, "full"))
				opts.verify = ESCK_VERIFY_FULL;
			else if (!strcmp(optarg, "end"))
				opts.verify = ESCK_VERIFY_END;
			else
				return cmd_usage_error(argv[0],
						       "invalid --verify '%s'",
						       optarg);
			break;
		case OPT_JSON:
			ctx.json = 1;
			break;
		case OPT_FAIL_ALLOC:
			if (es_fault_parse(&fault, optarg))
				return cmd_usage_error(
					argv[0], "invalid --fail-alloc '%s'",
					optarg);
			have_fault = 1;
			break;
		case OPT_ES_POLICY:
			if (!strcmp(optarg, "nofail"))
				opts.policy = ES_POLICY_NOFAIL;
			else if (!strcmp(optarg, "legacy"))
				opts.policy = ES_POLICY_LEGACY;
			else
				return cmd_usage_error(
					argv[0], "invalid --es-policy '%s'",
					optarg);
			break;
		case OPT_FAIL_WRITE: {
			uint64_t n;

			if (esck_parse_xfs_number(optarg, &n))
				return cmd_usage_error(
					argv[0], "invalid --fail-write '%s'",
					optarg);
			opts.fail_write = n;
			break;
		}
		case OPT_FAIL_READ: {
			uint64_t n;

			if (esck_parse_xfs_number(optarg, &n))
				return cmd_usage_error(
					argv[0], "invalid --fail-read '%s'",
					optarg);
			opts.fail_read = n;
			break;
		}
		default: /* getopt_long() printed the first line */
			fprintf(stderr,
				"Try '%s --help' for more information.\n",
				argv[0]);
			return ESCK_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cmd_usage_error(argv[0], "missing IMAGE");
	image = argv[optind++];
	if (optind < argc)
		sname = argv[optind++];
	if (optind < argc)
		return cmd_usage_error(argv[0], "too many arguments");
	if (have_fault)
		opts.fault = &fault;
	/* As e2fsck -n -z: accepted; a dry run writes nothing to undo. */
	if (opts.dry_run)
		opts.undo_file = NULL;

	/* The whole script is parsed before the image is opened. */
	if (!sname) {
		ctx.script_name = "orphans"; /* no script: the orphan list */
	} else if (!strcmp(sname, "-")) {
		in = stdin;
		ctx.script_name = "<stdin>";
	} else {
		in = fopen(sname, "r");
		if (!in) {
			com_err(progname, errno, "while opening script '%s'",
				sname);
			return ESCK_EXIT_OPERATIONAL;
		}
		ctx.script_name = sname;
	}
	if (sname) {
		map_script(in, &text, &len, &mapped);
		retval = mapped ? 0 : read_all(in, &text, &len);
		/*
		 * What the replay allocates grows with the script (48 bytes
		 * an op, lines of 6 bytes and more) and the image (its
		 * bitmaps, a bit a block and an inode).
		 */
		if (!retval)
			cmd_heap_reserve(4 * (uint64_t)len +
					 image_bytes(image) / 8192 + (1u << 20));
		if (in != stdin)
			fclose(in);
		if (retval) {
			com_err(progname, retval, "while reading script '%s'",
				ctx.script_name);
			return ESCK_EXIT_OPERATIONAL;
		}
		retval = esck_script_parse(ctx.script_name, text, len, &script,
					   errbuf, sizeof(errbuf));
		if (mapped)
			munmap(text, len);
		else
			free(text);
		if (retval == ESCK_ET_SCRIPT_SYNTAX) {
			fprintf(stderr, "%s\n", errbuf);
			return ESCK_EXIT_USAGE;
		}
		if (retval) {
			com_err(progname, retval, "while parsing script '%s'",
				ctx.script_name);
			return ESCK_EXIT_OPERATIONAL;
		}
	} else if (opts.dry_run) {
		return cmd_usage_error(
			argv[0],
			"-n needs a script: orphans are replayed on disk");
	}

	retval = esck_replay_open(image, &opts, &r);
	if (retval == ESCK_ET_MOUNTED) {
		fprintf(stderr,
			"%s: '%s' is mounted; use -f to replay anyway\n",
			progname, image);
		ctx.status = ESCK_EXIT_OPERATIONAL;
		goto out_script;
	}
	if (retval == ESCK_ET_JOURNAL_NEEDS_RECOVERY) {
		fprintf(stderr,
			"%s: '%s': the journal needs recovery; run e2fsck "
			"first "
			"or use -f\n",
			progname, image);
		ctx.status = ESCK_EXIT_OPERATIONAL;
		goto out_script;
	}
	if (opts.undo_file &&
	    (retval == EBUSY || retval == EXT2_ET_UNDO_FILE_CORRUPT ||
	     retval == EXT2_ET_UNDO_FILE_WRONG)) {
		com_err(progname, retval, "while opening undo file '%s'",
			opts.undo_file);
		ctx.status = ESCK_EXIT_OPERATIONAL;
		goto out_script;
	}
	if (retval) {
		com_err(progname, retval, "while opening '%s'", image);
		ctx.status = ESCK_EXIT_OPERATIONAL;
		goto out_script;
	}
	if (opts.undo_file)
		fprintf(stderr,
			"Overwriting existing filesystem; this can be undone "
			"using the command:\n"
			"    e2undo %s %s\n\n",
			opts.undo_file, image);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (ctx.json)
		json_init(&ctx.jw, stdout);
	memset(&ops, 0, sizeof(ops));
	ops.op = on_op;
	ops.divergence = on_divergence;
	ops.stop = should_stop;
	ops.arg = &ctx;
	if (sname)
		retval = esck_replay_run(r, &script, &ops, &sum);
	else
		retval = esck_replay_orphans(r, &ops, &sum);
	if (retval) {
		com_err(progname, retval, "while replaying '%s' on '%s'",
			ctx.script_name, image);
		ctx.status |= ESCK_EXIT_OPERATIONAL;
	}
	if (sum.interrupted)
		ctx.status |= ESCK_EXIT_INTERRUPTED;
	retval = esck_replay_close(r);
	if (retval) {
		com_err(progname, retval, "while closing '%s'", image);
		ctx.status |= ESCK_EXIT_OPERATIONAL;
	}
	print_summary(&ctx, &sum);
out_script:
	esck_script_free(&script);
	return ctx.status;
}
