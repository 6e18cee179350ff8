/* es-script.c --- run a small command language against lib/es, for the tests/es golden cases and fuzz/fuzz-es */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es.h"
#include "es-script.h"

/*
 * One command a line, '#' starts a comment.  Each command is echoed as
 * "> command" and followed by its result; after every command the invariant
 * checks of every tree and of the cache run, and a failure ends the script
 * with "FATAL: ..." and exit status 1.  A malformed line is exit status 2.
 * (The interpreter itself, es_script_line(), returns these codes; main(),
 * compiled out with -DES_SCRIPT_NO_MAIN for the fuzzer, exits with them.)
 *
 *   tree ID                      select tree ID, creating it (tree 1 at the start)
 *   release                      release the selected tree
 *   insert LBLK LEN PBLK w|u     es_insert()
 *   insert LBLK LEN d|h
 *   cache LBLK LEN PBLK w|u      es_cache_extent(); "conflict [...]" on EEXIST
 *   cache LBLK LEN h
 *   remove LBLK LEN              es_remove()
 *   lookup LBLK                  "[lblk/len) pblk STATUS next N" or "miss next N"
 *   find TYPES LBLK END          es_find_range(): the entry or "none"
 *   blocks TYPES LBLK LEN        es_count_blocks()
 *   dump                         "[lblk/len) pblk STATUS" per entry, or "(empty)"
 *   count                        entries and reclaimable of the selected tree
 *   drop                         es_tree_drop_reclaimable()
 *   shrink N                     es_shrink(): "freed K"
 *   limit ENTRIES BYTES          es_cache_set_limit()
 *   fail SPEC                    es_fault_parse() and install; "fail none" stops
 *   policy nofail|legacy
 *   stats                        entries reclaimable trees_on_list shrunk
 *   faults                       failures dropped lost of the allocator
 *   check                        "ok" (every command is checked anyway)
 *
 * TYPES is "any" or letters from "wudh".  Numbers are decimal or 0x hex.
 */

#define MAX_TREES	64
#define MAX_ARGS	8

struct es_script {
	struct es_cache cache;
	struct es_fault fault;
	struct es_tree *trees[MAX_TREES];
	struct es_tree *cur;
	const char *file;
	unsigned long line;
	FILE *out, *err;
	jmp_buf syntax_error;	/* es_script_line()'s, while it runs */
};

/* A malformed line: message to err, and back to es_script_line(). */
__attribute__((format(printf, 2, 3), noreturn))
static void syntax(struct es_script *s, const char *fmt, ...)
{
	va_list ap;

	fflush(s->out);
	fprintf(s->err, "%s:%lu: ", s->file, s->line);
	va_start(ap, fmt);
	vfprintf(s->err, fmt, ap);
	va_end(ap);
	fputc('\n', s->err);
	longjmp(s->syntax_error, ES_SCRIPT_SYNTAX);
}

static uint64_t number(struct es_script *s, const char *str, uint64_t max)
{
	const char *digits = str;
	uint64_t v;
	char *end;
	int base = 10;

	if (str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
		base = 16;
		digits = str + 2;
	}
	if (!*digits || strspn(digits, base == 16 ? "0123456789abcdefABCDEF" :
			       "0123456789") != strlen(digits))
		syntax(s, "bad number \"%s\"", str);
	errno = 0;
	v = strtoull(digits, &end, base);
	if (errno || *end || v > max)
		syntax(s, "bad number \"%s\"", str);
	return v;
}

static uint32_t u32(struct es_script *s, const char *str)
{
	return (uint32_t)number(s, str, UINT32_MAX);
}

static unsigned int one_type(struct es_script *s, const char *str)
{
	if (!strcmp(str, "w"))
		return ES_WRITTEN;
	if (!strcmp(str, "u"))
		return ES_UNWRITTEN;
	if (!strcmp(str, "d"))
		return ES_DELAYED;
	if (!strcmp(str, "h"))
		return ES_HOLE;
	syntax(s, "bad type \"%s\" (w, u, d or h)", str);
}

static unsigned int type_set(struct es_script *s, const char *str)
{
	unsigned int types = 0;
	const char *p;

	if (!strcmp(str, "any"))
		return ES_ANY_TYPE;
	for (p = str; *p; p++) {
		char one[2] = { *p, 0 };

		types |= one_type(s, one);
	}
	if (!types)
		syntax(s, "empty type set");
	return types;
}

static const char *errname(int err)
{
	static char buf[32];

	switch (err) {
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EEXIST: return "EEXIST";
	case EUCLEAN: return "EUCLEAN";
	}
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}

static void print_extent(struct es_script *s, const struct es_extent *e)
{
	unsigned int type = es_type(e);
	char letters[3];

	if (type == ES_WRITTEN || type == ES_UNWRITTEN)
		fprintf(s->out, "[%" PRIu32 "/%" PRIu32 ") %" PRIu64 " %s",
			e->lblk, e->len, e->pblk,
			es_status_letters(e->status, letters));
	else
		fprintf(s->out, "[%" PRIu32 "/%" PRIu32 ") - %s", e->lblk,
			e->len, es_status_letters(e->status, letters));
}

static void print_result(struct es_script *s, int err)
{
	if (err)
		fprintf(s->out, "error %s\n", errname(err));
	else
		fprintf(s->out, "ok\n");
}

static struct es_tree *need_tree(struct es_script *s)
{
	if (!s->cur)
		syntax(s, "no tree selected");
	return s->cur;
}

static void need_args(struct es_script *s, int argc, int min, int max)
{
	if (argc < min || argc > max)
		syntax(s, "wrong number of arguments");
}

/* 0, or ENOMEM with no tree selected. */
static int cmd_tree(struct es_script *s, uint64_t id)
{
	int i, free_slot = -1;

	for (i = 0; i < MAX_TREES; i++) {
		if (s->trees[i] && s->trees[i]->id == id) {
			s->cur = s->trees[i];
			return 0;
		}
		if (!s->trees[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		syntax(s, "too many trees");
	s->cur = NULL;
	s->trees[free_slot] = malloc(sizeof(struct es_tree));
	if (!s->trees[free_slot])
		return ENOMEM;
	es_tree_init(&s->cache, s->trees[free_slot], id);
	s->cur = s->trees[free_slot];
	return 0;
}

static void cmd_release(struct es_script *s)
{
	struct es_tree *t = need_tree(s);
	int i;

	for (i = 0; i < MAX_TREES; i++)
		if (s->trees[i] == t)
			s->trees[i] = NULL;
	es_tree_release(t);
	free(t);
	s->cur = NULL;
}

static void cmd_dump(struct es_script *s)
{
	struct es_iter it;
	struct es_extent e;
	int n = 0;

	es_iter_start(need_tree(s), 0, &it);
	while (es_iter_next(&it, &e)) {
		print_extent(s, &e);
		fputc('\n', s->out);
		n++;
	}
	if (!n)
		fprintf(s->out, "(empty)\n");
}

static void cmd_insert_or_cache(struct es_script *s, int cache, int argc, char **argv)
{
	struct es_tree *t = need_tree(s);
	struct es_extent conflict;
	unsigned int type;
	uint64_t pblk = 0;
	uint32_t lblk, len;
	int err;

	need_args(s, argc, 4, 5);
	lblk = u32(s, argv[1]);
	len = u32(s, argv[2]);
	type = one_type(s, argv[argc - 1]);
	if (argc == 5)
		pblk = number(s, argv[3], UINT64_MAX);
	else if (type == ES_WRITTEN || type == ES_UNWRITTEN)
		syntax(s, "w and u need a pblk");
	if (!cache) {
		print_result(s, es_insert(t, lblk, len, pblk, type));
		return;
	}
	err = es_cache_extent(t, lblk, len, pblk, type, &conflict);
	if (err == EEXIST) {
		fprintf(s->out, "conflict ");
		print_extent(s, &conflict);
		fputc('\n', s->out);
	} else {
		print_result(s, err);
	}
}

static void cmd_lookup(struct es_script *s, uint32_t lblk)
{
	struct es_extent e;
	uint32_t next = 0xdeadbeef;

	if (es_lookup(need_tree(s), lblk, &e, &next)) {
		print_extent(s, &e);
		fprintf(s->out, " next %" PRIu32 "\n", next);
	} else {
		fprintf(s->out, "miss next %" PRIu32 "\n", next);
	}
}

static void cmd_find(struct es_script *s, int argc, char **argv)
{
	struct es_extent e;

	need_args(s, argc, 4, 4);
	if (es_find_range(need_tree(s), type_set(s, argv[1]), u32(s, argv[2]),
			  u32(s, argv[3]), &e)) {
		print_extent(s, &e);
		fputc('\n', s->out);
	} else {
		fprintf(s->out, "none\n");
	}
}

static void cmd_fail(struct es_script *s, const char *spec)
{
	int err = es_fault_parse(&s->fault, spec);

	if (!err)
		es_cache_set_fault(&s->cache, s->fault.mode == ES_FAULT_NONE ?
				   NULL : &s->fault);
	print_result(s, err);
}

static void cmd_policy(struct es_script *s, const char *name)
{
	if (!strcmp(name, "nofail"))
		es_cache_set_policy(&s->cache, ES_POLICY_NOFAIL);
	else if (!strcmp(name, "legacy"))
		es_cache_set_policy(&s->cache, ES_POLICY_LEGACY);
	else
		syntax(s, "bad policy \"%s\"", name);
	fprintf(s->out, "ok\n");
}

static void run(struct es_script *s, int argc, char **argv)
{
	const char *cmd = argv[0];
	struct es_stats st;

	if (!strcmp(cmd, "tree")) {
		need_args(s, argc, 2, 2);
		print_result(s, cmd_tree(s, number(s, argv[1], UINT64_MAX)));
	} else if (!strcmp(cmd, "release")) {
		need_args(s, argc, 1, 1);
		cmd_release(s);
		fprintf(s->out, "ok\n");
	} else if (!strcmp(cmd, "insert") || !strcmp(cmd, "cache")) {
		cmd_insert_or_cache(s, cmd[0] == 'c', argc, argv);
	} else if (!strcmp(cmd, "remove")) {
		need_args(s, argc, 3, 3);
		print_result(s, es_remove(need_tree(s), u32(s, argv[1]), u32(s, argv[2])));
	} else if (!strcmp(cmd, "lookup")) {
		need_args(s, argc, 2, 2);
		cmd_lookup(s, u32(s, argv[1]));
	} else if (!strcmp(cmd, "find")) {
		cmd_find(s, argc, argv);
	} else if (!strcmp(cmd, "blocks")) {
		need_args(s, argc, 4, 4);
		fprintf(s->out, "%" PRIu64 "\n",
			es_count_blocks(need_tree(s), type_set(s, argv[1]),
					u32(s, argv[2]), u32(s, argv[3])));
	} else if (!strcmp(cmd, "dump")) {
		need_args(s, argc, 1, 1);
		cmd_dump(s);
	} else if (!strcmp(cmd, "count")) {
		need_args(s, argc, 1, 1);
		fprintf(s->out, "entries %" PRIu64 " reclaimable %" PRIu64 "\n",
			es_tree_entries(need_tree(s)),
			es_tree_reclaimable(need_tree(s)));
	} else if (!strcmp(cmd, "drop")) {
		need_args(s, argc, 1, 1);
		es_tree_drop_reclaimable(need_tree(s));
		fprintf(s->out, "ok\n");
	} else if (!strcmp(cmd, "shrink")) {
		need_args(s, argc, 2, 2);
		fprintf(s->out, "freed %" PRIu64 "\n",
			es_shrink(&s->cache, number(s, argv[1], UINT64_MAX)));
	} else if (!strcmp(cmd, "limit")) {
		need_args(s, argc, 3, 3);
		es_cache_set_limit(&s->cache, number(s, argv[1], UINT64_MAX),
				   number(s, argv[2], UINT64_MAX));
		fprintf(s->out, "ok\n");
	} else if (!strcmp(cmd, "fail")) {
		need_args(s, argc, 2, 2);
		cmd_fail(s, argv[1]);
	} else if (!strcmp(cmd, "policy")) {
		need_args(s, argc, 2, 2);
		cmd_policy(s, argv[1]);
	} else if (!strcmp(cmd, "stats")) {
		need_args(s, argc, 1, 1);
		es_cache_stats(&s->cache, &st);
		fprintf(s->out, "entries %" PRIu64 " reclaimable %" PRIu64
			" trees_on_list %" PRIu64 " shrunk %" PRIu64 "\n",
			st.entries, st.reclaimable, st.trees_on_list, st.shrunk);
	} else if (!strcmp(cmd, "faults")) {
		need_args(s, argc, 1, 1);
		es_cache_stats(&s->cache, &st);
		fprintf(s->out, "failures %" PRIu64 " dropped %" PRIu64
			" lost %" PRIu64 "\n",
			st.alloc_failures, st.dropped, st.lost);
	} else if (!strcmp(cmd, "check")) {
		need_args(s, argc, 1, 1);
		fprintf(s->out, "ok\n");
	} else {
		syntax(s, "unknown command \"%s\"", cmd);
	}
}

/* Every tree and the cache must pass their checks after every command. */
static int check_all(struct es_script *s)
{
	char msg[512] = "";
	int i, err;

	for (i = 0; i < MAX_TREES; i++) {
		if (!s->trees[i])
			continue;
		err = es_check(s->trees[i], msg, sizeof(msg));
		if (err) {
			fprintf(s->out, "FATAL: line %lu: es_check(tree %" PRIu64
				"): %s: %s\n", s->line, s->trees[i]->id,
				errname(err), msg);
			return ES_SCRIPT_FATAL;
		}
	}
	err = es_cache_check(&s->cache, msg, sizeof(msg));
	if (err) {
		fprintf(s->out, "FATAL: line %lu: es_cache_check: %s: %s\n", s->line,
			errname(err), msg);
		return ES_SCRIPT_FATAL;
	}
	return ES_SCRIPT_OK;
}

struct es_script *es_script_new(const char *file, FILE *out, FILE *err)
{
	struct es_script *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->file = file;
	s->out = out;
	s->err = err;
	es_cache_init(&s->cache);
	s->trees[0] = malloc(sizeof(struct es_tree));
	if (!s->trees[0]) {
		es_cache_release(&s->cache);
		free(s);
		return NULL;
	}
	es_tree_init(&s->cache, s->trees[0], 1);
	s->cur = s->trees[0];
	return s;
}

int es_script_line(struct es_script *s, char *line)
{
	char *args[MAX_ARGS + 1];
	char *p, *tok, *save = NULL;
	volatile int n = 0;
	int i, ret;

	s->line++;
	ret = setjmp(s->syntax_error);
	if (ret)
		return ret;
	if ((p = strchr(line, '#')))
		*p = '\0';
	for (tok = strtok_r(line, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == MAX_ARGS)
			syntax(s, "too many words");
		args[n++] = tok;
	}
	if (!n)
		return ES_SCRIPT_OK;
	fprintf(s->out, ">");
	for (i = 0; i < n; i++)
		fprintf(s->out, " %s", args[i]);
	fputc('\n', s->out);
	run(s, n, args);
	return check_all(s);
}

void es_script_free(struct es_script *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < MAX_TREES; i++)
		if (s->trees[i]) {
			es_tree_release(s->trees[i]);
			free(s->trees[i]);
		}
	es_cache_set_fault(&s->cache, NULL);
	es_cache_release(&s->cache);
	free(s);
}

#ifndef ES_SCRIPT_NO_MAIN
int main(int argc, char **argv)
{
	struct es_script *s;
	const char *file = "<stdin>";
	char buf[1024];
	FILE *in = stdin;
	int ret = ES_SCRIPT_OK;

	if (argc > 2 || (argc == 2 && !strcmp(argv[1], "--help"))) {
		fprintf(stderr, "usage: es-script [FILE]\n");
		return 2;
	}
	if (argc == 2) {
		file = argv[1];
		in = fopen(argv[1], "r");
		if (!in) {
			perror(argv[1]);
			return 2;
		}
	}
	s = es_script_new(file, stdout, stderr);
	if (!s) {
		perror("es-script");
		return 1;
	}
	while (ret == ES_SCRIPT_OK && fgets(buf, sizeof(buf), in))
		ret = es_script_line(s, buf);
	if (in != stdin)
		fclose(in);
	es_script_free(s);
	return ret;
}
#endif /* ES_SCRIPT_NO_MAIN */
