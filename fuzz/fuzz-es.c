/* fuzz-es.c --- libFuzzer target: the cache command language of tests/helpers/es-script.c against lib/es */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es-script.h"

/*
 * The input is an es-script (the tests/es cases), one command a line, run
 * through the same interpreter as tests/es/run.sh.  Malformed lines are
 * skipped.  After every command the interpreter checks every tree and the
 * cache (es_check(), es_cache_check()); a failed check is a bug in lib/es,
 * and aborts, with the check's message on stderr.
 */
#define MAX_SCRIPT	(1 << 16)
#define MAX_LINE	1024	/* es-script reads lines with fgets() into as much */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	if (!devnull) {
		perror("fuzz-es: /dev/null");
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct es_script *s;
	char line[MAX_LINE];
	size_t pos = 0, n;
	const uint8_t *nl;
	int ret;

	if (size > MAX_SCRIPT)
		return -1;
	s = es_script_new("fuzz", devnull, devnull);
	if (!s)
		abort();
	while (pos < size) {
		nl = memchr(data + pos, '\n', size - pos);
		n = nl ? (size_t)(nl - (data + pos)) + 1 : size - pos;
		if (n > sizeof(line) - 1)
			n = sizeof(line) - 1;
		memcpy(line, data + pos, n);
		line[n] = '\0';
		pos += n;
		ret = es_script_line(s, line);
		if (ret == ES_SCRIPT_FATAL) {
			/* Run it again, printing, for the report. */
			fprintf(stderr, "fuzz-es: an invariant check failed; "
				"run the input through tests/helpers/es-script\n");
			abort();
		}
	}
	es_script_free(s);
	return 0;
}
