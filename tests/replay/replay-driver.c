/* replay-driver.c --- replay a script through the library with test-only options, for tests that compare two paths */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esck.h"

static void on_op(void *arg, const struct esck_replay_result *res)
{
	(void)arg;
	if (res->err)
		printf("%u: %s\n", res->op->line, error_message(res->err));
}

static void on_divergence(void *arg, const struct esck_replay_divergence *d)
{
	(void)arg;
	printf("%u: divergence: %s\n", d->op->line, d->what);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		size_t n;

		if (*len == cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 65536);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + *len, 1, cap - *len, f);
		if (!n)
			break;
		*len += n;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	struct esck_replay_opts opts;
	struct esck_replay_summary sum;
	struct esck_replay_ops ops;
	struct esck_script script;
	struct esck_replay *r;
	char errbuf[256], *text;
	size_t len;
	errcode_t retval;
	int a = 1;

	memset(&opts, 0, sizeof(opts));
	opts.verify = ESCK_VERIFY_RANGE;
	opts.policy = ES_POLICY_NOFAIL;
	if (a < argc && !strcmp(argv[a], "--general")) {
		opts.general_removal = 1;
		a++;
	}
	if (argc - a != 2) {
		fprintf(stderr, "usage: replay-driver [--general] IMAGE SCRIPT\n");
		return 2;
	}
	text = slurp(argv[a + 1], &len);
	if (!text) {
		perror(argv[a + 1]);
		return 2;
	}
	retval = esck_script_parse(argv[a + 1], text, len, &script, errbuf,
				   sizeof(errbuf));
	free(text);
	if (retval) {
		fprintf(stderr, "%s\n", retval == ESCK_ET_SCRIPT_SYNTAX ?
						errbuf : error_message(retval));
		return 2;
	}
	retval = esck_replay_open(argv[a], &opts, &r);
	if (retval) {
		fprintf(stderr, "%s: %s\n", argv[a], error_message(retval));
		esck_script_free(&script);
		return 2;
	}
	memset(&ops, 0, sizeof(ops));
	ops.op = on_op;
	ops.divergence = on_divergence;
	memset(&sum, 0, sizeof(sum));
	retval = esck_replay_run(r, &script, &ops, &sum);
	if (!retval)
		retval = esck_replay_close(r);
	else
		esck_replay_close(r);
	esck_script_free(&script);
	if (retval) {
		fprintf(stderr, "replay: %s\n", error_message(retval));
		return 2;
	}
	printf("%" PRIu64 " ops: %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64
	       " divergences, %" PRIu64 " leaf edits\n", sum.ops, sum.ok,
	       sum.failed, sum.divergences, sum.leaf_edits);
	return sum.divergences ? 1 : 0;
}
