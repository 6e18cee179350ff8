/* fuzz-script.c --- libFuzzer target: the replay script parser (lib/script.c) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esck.h"
#include "script.h"

/*
 * The input is a script: esck_script_parse() must accept it or refuse it
 * with a message, never crash, and a parsed script must be well formed.
 * The first line also goes through esck_parse_xfs_number(), which option
 * parsing uses on its own.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ops(const struct esck_script *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++) {
		const struct esck_op *op = &s->ops[i];

		if (!esck_op_name(op->type) || op->line == 0)
			abort();
		if (op->type == ESCK_OP_OPEN && !op->path)
			abort();
		/* Offsets and lengths fit off_t, as xfs_io reads them. */
		if (op->offset > INT64_MAX || op->length > INT64_MAX)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct esck_script s;
	char errbuf[256];
	char number[64];
	const char *nl;
	size_t n;
	uint64_t v;
	errcode_t retval;

	if (size > (1 << 16))
		return -1;
	memset(&s, 0, sizeof(s));
	retval = esck_script_parse("fuzz", (const char *)data, size, &s, errbuf,
				   sizeof(errbuf));
	if (retval == 0)
		check_ops(&s);
	else if (retval == ESCK_ET_SCRIPT_SYNTAX && (s.nr || !memchr(errbuf, 0, sizeof(errbuf))))
		abort();	/* a refused script is left empty, its message terminated */
	esck_script_free(&s);

	nl = memchr(data, '\n', size);
	n = nl ? (size_t)(nl - (const char *)data) : size;
	if (n < sizeof(number)) {
		memcpy(number, data, n);
		number[n] = '\0';
		if (esck_parse_xfs_number(number, &v) == 0 && v > INT64_MAX)
			abort();
	}
	return 0;
}
