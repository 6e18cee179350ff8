/* script.c --- parse replay scripts (xfs_io commands) whole, with FILE:LINE: errors */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esck_err.h"
#include "grow.h"
#include "script.h"

#define MAX_ARGS 16

const char *esck_op_name(enum esck_op_type type)
{
	static const char *const names[] = {
		[ESCK_OP_OPEN] = "open",
		[ESCK_OP_INODE] = "inode",
		[ESCK_OP_TRUNCATE] = "truncate",
		[ESCK_OP_FPUNCH] = "fpunch",
		[ESCK_OP_FALLOC] = "falloc",
		[ESCK_OP_PWRITE] = "pwrite",
		[ESCK_OP_FSYNC] = "fsync",
	};

	if ((unsigned int)type >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[type];
}

int esck_parse_xfs_number(const char *s, uint64_t *out)
{
	static const char suffixes[] = "kmgtpe";
	unsigned long long v, mult = 1;
	const char *p;
	char *end;

	/* strtoll would take a sign or leading blanks; a negative is refused anyway */
	if (*s == '+')
		s++;
	if (*s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || v > INT64_MAX)
		return EINVAL;
	if (*end) {
		int c = end[0] | 0x20;	/* ASCII lower case */

		if (end[1])
			return EINVAL;
		if (c == 'b')
			mult = 4096;
		else if (c == 's')
			mult = 512;
		else if ((p = strchr(suffixes, c)))
			mult = 1ULL << (10 * (p - suffixes + 1));
		else
			return EINVAL;
		if (v && mult > INT64_MAX / v)
			return EINVAL;
	}
	*out = v * mult;
	return 0;
}

struct parser {
	struct esck_script *s;
	unsigned int line;
	char *errbuf;
	size_t errlen;
};

static void syntax_message(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void syntax_message(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->errbuf, p->errlen, "%s:%u: ", p->s->name, p->line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->errbuf + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
}

/*
 * Sets the message and evaluates to ESCK_ET_SCRIPT_SYNTAX.  A macro, so that
 * the nonzero result is visible where it is tested: static analyzers do not
 * follow variadic functions, and would assume a syntax error could be 0.
 */
#define syntax(p, ...) (syntax_message((p), __VA_ARGS__), ESCK_ET_SCRIPT_SYNTAX)

static errcode_t number(struct parser *p, const char *what, const char *arg,
			uint64_t *out)
{
	if (esck_parse_xfs_number(arg, out))
		return syntax(p, "non-numeric %s argument -- %s", what, arg);
	return 0;
}

/*
 * The options of one command, getopt-style ("-k", "-qS 7", "-S7"), up to the
 * first non-option or "--".  opts lists the letters; a letter followed by ':'
 * takes a value.  Returns the index of the first operand.
 */
static errcode_t options(struct parser *p, int argc, char **argv, const char *opts,
			 int *first, unsigned int *flags, const char **seed)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *c;

		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		for (c = argv[i] + 1; *c; c++) {
			const char *spec = strchr(opts, *c);

			if (!spec || *c == ':')
				return syntax(p, "%s: invalid option -- '%c'", argv[0], *c);
			if (spec[1] == ':') {
				if (c[1]) {
					*seed = c + 1;
				} else if (i + 1 < argc) {
					*seed = argv[++i];
				} else {
					return syntax(p, "%s: option requires an argument -- '%c'",
						      argv[0], *c);
				}
				break;
			}
			if (*c == 'f')
				*flags |= ESCK_OPF_CREATE;
			else if (*c == 'k')
				*flags |= ESCK_OPF_KEEP_SIZE;
			else if (*c == 'q')
				*flags |= ESCK_OPF_QUIET;
		}
	}
	*first = i;
	return 0;
}

static errcode_t argcount(struct parser *p, const char *cmd, int got, int want)
{
	if (got == want)
		return 0;
	return syntax(p, "bad argument count %d to %s, expected %d arguments",
		      got, cmd, want);
}

static errcode_t parse_seed(struct parser *p, const char *arg, uint8_t *fill)
{
	unsigned long v;
	char *end;

	/* xfs_io takes strtoul(seed, 0): any integer, only its low byte fills */
	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end)
		return syntax(p, "non-numeric seed -- %s", arg);
	*fill = (uint8_t)v;
	return 0;
}

static errcode_t parse_command(struct parser *p, int argc, char **argv,
			       struct esck_op *op, int *have_file)
{
	const char *cmd = argv[0], *seed = NULL;
	unsigned int flags = 0;
	errcode_t retval;
	uint64_t v;
	int i;

	memset(op, 0, sizeof(*op));
	op->line = p->line;
	if (!strcmp(cmd, "open")) {
		op->type = ESCK_OP_OPEN;
		if ((retval = options(p, argc, argv, "f", &i, &flags, &seed)))
			return retval;
		if ((retval = argcount(p, cmd, argc - i, 1)))
			return retval;
		op->path = strdup(argv[i]);
		if (!op->path)
			return ENOMEM;
	} else if (!strcmp(cmd, "inode")) {
		op->type = ESCK_OP_INODE;
		if ((retval = argcount(p, cmd, argc - 1, 1)))
			return retval;
		if (esck_parse_xfs_number(argv[1], &v) || v == 0 || v > UINT32_MAX ||
		    strpbrk(argv[1], "bBsSkKmMgGtTpPeE"))
			return syntax(p, "bad inode number -- %s", argv[1]);
		op->ino = (uint32_t)v;
	} else if (!strcmp(cmd, "truncate")) {
		op->type = ESCK_OP_TRUNCATE;
		if ((retval = argcount(p, cmd, argc - 1, 1)) ||
		    (retval = number(p, "truncate", argv[1], &op->offset)))
			return retval;
	} else if (!strcmp(cmd, "fpunch") || !strcmp(cmd, "falloc") ||
		   !strcmp(cmd, "pwrite")) {
		const char *opts = "";

		if (!strcmp(cmd, "fpunch")) {
			op->type = ESCK_OP_FPUNCH;
		} else if (!strcmp(cmd, "falloc")) {
			op->type = ESCK_OP_FALLOC;
			opts = "k";
		} else {
			op->type = ESCK_OP_PWRITE;
			opts = "qS:";
			op->fill = ESCK_PWRITE_DEFAULT_FILL;
		}
		if ((retval = options(p, argc, argv, opts, &i, &flags, &seed)))
			return retval;
		if (seed && (retval = parse_seed(p, seed, &op->fill)))
			return retval;
		if ((retval = argcount(p, cmd, argc - i, 2)) ||
		    (retval = number(p, "offset", argv[i], &op->offset)) ||
		    (retval = number(p, "length", argv[i + 1], &op->length)))
			return retval;
	} else if (!strcmp(cmd, "fsync")) {
		op->type = ESCK_OP_FSYNC;
		if ((retval = argcount(p, cmd, argc - 1, 0)))
			return retval;
	} else {
		return syntax(p, "command \"%s\" not found", cmd);
	}
	op->flags = flags;

	if (op->type == ESCK_OP_OPEN || op->type == ESCK_OP_INODE)
		*have_file = 1;
	else if (!*have_file)
		return syntax(p, "%s: no file is open (use open or inode first)", cmd);
	return 0;
}

static errcode_t push(struct esck_script *s, const struct esck_op *op)
{
	void *arr = s->ops;
	int rc = esck_grow(&arr, &s->cap, s->nr, sizeof(*s->ops), 16);

	s->ops = arr;
	if (rc)
		return rc;
	s->ops[s->nr++] = *op;
	return 0;
}

void esck_script_free(struct esck_script *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		free(s->ops[i].path);
	free(s->ops);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

#define SCRIPT_PRESIZE_MAX ((size_t)1 << 20)

errcode_t esck_script_parse(const char *name, const char *text, size_t len,
			    struct esck_script *s, char *errbuf, size_t errlen)
{
	struct parser p = { s, 0, errbuf, errlen };
	const char *pos = text, *end = text + len;
	errcode_t retval = 0;
	int have_file = 0;
	char *line = NULL;

	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	if (!s->name)
		return ENOMEM;
	if (errlen)
		errbuf[0] = '\0';
	/*
	 * At most one op a line: one allocation, not a dozen doublings each
	 * copying (and, for a long script, first touching) the last.  Only
	 * what is written is touched; a million lines at most, so that a
	 * script of blank lines does not ask for gigabytes up front (past
	 * that the array grows as before).
	 */
	if (len) {
		size_t lines = 1;
		const char *q = text;

		while (lines < SCRIPT_PRESIZE_MAX &&
		       (q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
			lines++;
			q++;
		}
		s->ops = calloc(lines, sizeof(*s->ops));
		if (!s->ops) {
			free(s->name);
			memset(s, 0, sizeof(*s));
			return ENOMEM;
		}
		s->cap = lines;
	}

	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = nl ? (size_t)(nl - pos) : (size_t)(end - pos);
		char *argv[MAX_ARGS + 1], *tok, *save = NULL;
		struct esck_op op;
		int argc = 0;

		p.line++;
		if (memchr(pos, '\0', n)) {
			retval = syntax(&p, "NUL byte in line");
			goto out_fail;
		}
		free(line);
		line = strndup(pos, n);
		if (!line) {
			retval = ENOMEM;
			goto out_fail;
		}
		pos += n + (nl != NULL);

		tok = strchr(line, '#');
		if (tok)
			*tok = '\0';
		for (tok = strtok_r(line, " \t\r\v\f", &save); tok;
		     tok = strtok_r(NULL, " \t\r\v\f", &save)) {
			if (argc == MAX_ARGS) {
				retval = syntax(&p, "too many arguments");
				goto out_fail;
			}
			argv[argc++] = tok;
		}
		if (!argc)
			continue;
		argv[argc] = NULL;
		retval = parse_command(&p, argc, argv, &op, &have_file);
		if (!retval)
			retval = push(s, &op);
		if (retval) {
			free(op.path);
			goto out_fail;
		}
	}
	free(line);
	return 0;

out_fail:
	free(line);
	esck_script_free(s);
	return retval;
}
