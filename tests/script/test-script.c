/* test-script.c --- the replay script parser: xfs_io numbers, every command, FILE:LINE: errors */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esck_err.h"
#include "script.h"
#include "../unit/tap.h"

/* Each expectation checked against xfs_io 6.1 by hand ("truncate N" + "stat"). */
static const struct {
	const char *in;
	int ok;
	unsigned long long val;
} numbers[] = {
	{ "0", 1, 0 },		{ "5", 1, 5 },		{ "+5", 1, 5 },
	{ "010", 1, 8 },	{ "07777", 1, 4095 },	{ "0x10", 1, 16 },
	{ "0X10", 1, 16 },	{ "4k", 1, 4096 },	{ "4K", 1, 4096 },
	{ "1b", 1, 4096 },	{ "1B", 1, 4096 },	{ "0b", 1, 0 },
	{ "1s", 1, 512 },	{ "0x1k", 1, 1024 },	{ "1m", 1, 1048576 },
	{ "1g", 1, 1073741824ULL }, { "1t", 1, 1099511627776ULL },
	{ "1p", 1, 1125899906842624ULL }, { "1e", 1, 1152921504606846976ULL },
	{ "9223372036854775807", 1, 9223372036854775807ULL },
	{ "08", 0, 0 },		{ "0x", 0, 0 },		{ "-1", 0, 0 },
	{ "1.5k", 0, 0 },	{ "1kb", 0, 0 },	{ "3ki", 0, 0 },
	{ "5_", 0, 0 },		{ "1,5", 0, 0 },	{ "", 0, 0 },
	{ "k", 0, 0 },		{ "8e", 0, 0 },		{ "9223372036854775808", 0, 0 },
	{ "99999999999999999999", 0, 0 }, { "4611686018427387904k", 0, 0 },
	{ "1 ", 0, 0 },		{ "1x", 0, 0 },
};

static void test_numbers(void)
{
	size_t i;

	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		uint64_t v = 12345;
		int ret = esck_parse_xfs_number(numbers[i].in, &v);

		if (numbers[i].ok)
			(void)(ok(ret == 0 && v == numbers[i].val, "number '%s' is %llu",
				  numbers[i].in, numbers[i].val) ||
			       diag("got ret %d value %llu", ret, (unsigned long long)v));
		else
			ok(ret != 0, "number '%s' is refused", numbers[i].in);
	}
}

static int parse(const char *text, struct esck_script *s, char *err, size_t errlen)
{
	return (int)esck_script_parse("t.esck", text, strlen(text), s, err, errlen);
}

static void test_all_commands(void)
{
	const char *text =
		"# a comment line\n"
		"open -f /a/b\n"
		"  pwrite -q -S 0x41 0 4k   # trailing comment\n"
		"pwrite -qS300 4k 1\n"
		"pwrite 1m 10\n"
		"falloc -k 0 1m\n"
		"falloc 2m 4096\n"
		"\n"
		"fpunch 0x1000 8192\n"
		"truncate 5000\n"
		"fsync\n"
		"inode 12\n"
		"open relative/path\n"
		"truncate 0";
	struct esck_script s;
	char err[256];
	int ret = parse(text, &s, err, sizeof(err));

	(void)(ok(ret == 0, "a script using every command parses") || diag("%s", err));
	if (ret)
		return;
	(void)(ok(s.nr == 12, "12 operations (comments and blank lines skipped)") ||
	       diag("got %zu", s.nr));
	if (s.nr != 12) {
		esck_script_free(&s);
		return;
	}
	ok(s.ops[0].type == ESCK_OP_OPEN && s.ops[0].flags == ESCK_OPF_CREATE &&
	   !strcmp(s.ops[0].path, "/a/b") && s.ops[0].line == 2, "open -f /a/b on line 2");
	ok(s.ops[1].type == ESCK_OP_PWRITE && s.ops[1].fill == 0x41 &&
	   s.ops[1].flags == ESCK_OPF_QUIET && s.ops[1].offset == 0 &&
	   s.ops[1].length == 4096 && s.ops[1].line == 3, "pwrite -q -S 0x41 0 4k");
	ok(s.ops[2].fill == 44 && s.ops[2].flags == ESCK_OPF_QUIET &&
	   s.ops[2].offset == 4096 && s.ops[2].length == 1,
	   "pwrite -qS300: bundled options, the seed's low byte (300 & 0xff = 44)");
	ok(s.ops[3].fill == ESCK_PWRITE_DEFAULT_FILL && s.ops[3].flags == 0 &&
	   s.ops[3].offset == 1048576, "pwrite without -S fills with 0xcd");
	ok(s.ops[4].type == ESCK_OP_FALLOC && s.ops[4].flags == ESCK_OPF_KEEP_SIZE &&
	   s.ops[4].length == 1048576, "falloc -k");
	ok(s.ops[5].type == ESCK_OP_FALLOC && s.ops[5].flags == 0 &&
	   s.ops[5].offset == 2097152, "falloc without -k");
	ok(s.ops[6].type == ESCK_OP_FPUNCH && s.ops[6].offset == 4096 &&
	   s.ops[6].length == 8192 && s.ops[6].line == 9, "fpunch on line 9");
	ok(s.ops[7].type == ESCK_OP_TRUNCATE && s.ops[7].offset == 5000, "truncate 5000");
	ok(s.ops[8].type == ESCK_OP_FSYNC, "fsync");
	ok(s.ops[9].type == ESCK_OP_INODE && s.ops[9].ino == 12, "inode 12");
	ok(s.ops[10].type == ESCK_OP_OPEN && s.ops[10].flags == 0 &&
	   !strcmp(s.ops[10].path, "relative/path"), "open without -f");
	ok(s.ops[11].type == ESCK_OP_TRUNCATE && s.ops[11].line == 14,
	   "a last line without a newline counts");
	ok(!strcmp(s.name, "t.esck"), "the script keeps its name");
	esck_script_free(&s);
}

/* Each bad script, and the exact one-line message it must give. */
static const struct {
	const char *text;
	const char *msg;
} errors[] = {
	{ "truncate 0\n", "t.esck:1: truncate: no file is open (use open or inode first)" },
	{ "open f\nbogus 1\n", "t.esck:2: command \"bogus\" not found" },
	{ "open f\n\n\ntruncate\n", "t.esck:4: bad argument count 0 to truncate, expected 1 arguments" },
	{ "open f\ntruncate 5 # c\ntruncate 1 2\n", "t.esck:3: bad argument count 2 to truncate, expected 1 arguments" },
	{ "open f\nfpunch 0\n", "t.esck:2: bad argument count 1 to fpunch, expected 2 arguments" },
	{ "open f\nfsync extra\n", "t.esck:2: bad argument count 1 to fsync, expected 0 arguments" },
	{ "open f\ntruncate 1.5k\n", "t.esck:2: non-numeric truncate argument -- 1.5k" },
	{ "open f\nfpunch x 1\n", "t.esck:2: non-numeric offset argument -- x" },
	{ "open f\nfalloc 0 -1\n", "t.esck:2: non-numeric length argument -- -1" },
	{ "open f\npwrite -S abc 0 1\n", "t.esck:2: non-numeric seed -- abc" },
	{ "open f\npwrite -S\n", "t.esck:2: pwrite: option requires an argument -- 'S'" },
	{ "open f\nfalloc -z 0 1\n", "t.esck:2: falloc: invalid option -- 'z'" },
	{ "open -r f\n", "t.esck:1: open: invalid option -- 'r'" },
	{ "open\n", "t.esck:1: bad argument count 0 to open, expected 1 arguments" },
	{ "open a b\n", "t.esck:1: bad argument count 2 to open, expected 1 arguments" },
	{ "inode 0\n", "t.esck:1: bad inode number -- 0" },
	{ "inode 4294967296\n", "t.esck:1: bad inode number -- 4294967296" },
	{ "inode 1k\n", "t.esck:1: bad inode number -- 1k" },
	{ "open f\ntruncate 1\0\n", "t.esck:2: NUL byte in line" },
	{ "open f\na 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", "t.esck:2: too many arguments" },
};

static void test_errors(void)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		struct esck_script s;
		char err[256];
		/* the NUL case needs its true length */
		size_t len = strlen(errors[i].text);
		errcode_t ret;

		if (strstr(errors[i].msg, "NUL byte"))
			len = sizeof("open f\ntruncate 1\0\n") - 1;
		ret = esck_script_parse("t.esck", errors[i].text, len, &s, err, sizeof(err));
		(void)(ok(ret == ESCK_ET_SCRIPT_SYNTAX && !strcmp(err, errors[i].msg),
			  "error: %s", errors[i].msg) ||
		       diag("got %ld '%s'", (long)ret, err));
		ok(s.nr == 0 && s.ops == NULL, "a failed parse leaves no operations");
	}
}

static void test_truncated_errbuf(void)
{
	struct esck_script s;
	char err[8];

	ok(parse("bogus\n", &s, err, sizeof(err)) == (int)ESCK_ET_SCRIPT_SYNTAX &&
	   strlen(err) == sizeof(err) - 1, "a small error buffer is filled, not overrun");
}

static void test_empty(void)
{
	struct esck_script s;
	char err[64];

	ok(parse("", &s, err, sizeof(err)) == 0 && s.nr == 0, "an empty script is valid");
	esck_script_free(&s);
	ok(parse("# only\n\n   \n", &s, err, sizeof(err)) == 0 && s.nr == 0,
	   "a script of comments is valid");
	esck_script_free(&s);
}

/*
 * The ops array is sized from the line count up to a million lines, and
 * grows past that: ops on both sides of the bound, with a million blank
 * lines between, all parsed, in order, with their line numbers.
 */
static void test_long(void)
{
	static const char head[] = "open f\nfpunch 0 4096\n";
	const size_t blanks = (size_t)1 << 20;
	size_t i, n, len = sizeof(head) - 1 + blanks + 3 * 20;
	struct esck_script s;
	char err[64], *text = malloc(len + 1), *p;
	int r;

	if (!text) {
		ok(0, "a long script: no memory");
		return;
	}
	memcpy(text, head, sizeof(head) - 1);
	p = text + sizeof(head) - 1;
	memset(p, '\n', blanks);
	p += blanks;
	for (i = 0; i < 3; i++)
		p += sprintf(p, "fpunch %zu 4096\n", (i + 1) * 8192);
	n = (size_t)(p - text);
	r = (int)esck_script_parse("t.esck", text, n, &s, err, sizeof(err));
	ok(r == 0 && s.nr == 5 && s.ops[1].line == 2 &&
		   s.ops[2].line == 2 + blanks + 1 && s.ops[4].line == 2 + blanks + 3 &&
		   s.ops[4].offset == 3 * 8192,
	   "a script of %zu lines: its 5 ops, the last at line %u", 2 + blanks + 3,
	   r == 0 && s.nr == 5 ? s.ops[4].line : 0);
	if (!r)
		esck_script_free(&s);
	free(text);
}

int main(void)
{
	test_numbers();
	test_all_commands();
	test_errors();
	test_truncated_errbuf();
	test_empty();
	test_long();
	return done();
}
