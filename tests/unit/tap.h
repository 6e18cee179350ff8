/* tap.h --- a tiny TAP producer for the C unit tests (plan, ok, diag, done) */
#ifndef ESCK_TAP_H
#define ESCK_TAP_H

#include <stdarg.h>
#include <stdio.h>

/*
 * Everything is static inline so that each test program gets its own copy
 * and no unused-function warnings.  Diagnostics go to stdout as TAP comment
 * lines ("# ..."), which every TAP consumer ignores; nothing else may be
 * printed to stdout by a test program.
 */
struct tap_state {
	int planned;	/* -1: no plan printed yet, printed at the end */
	int run;
	int failed;
};

static inline struct tap_state *tap_state(void)
{
	static struct tap_state st = { -1, 0, 0 };

	return &st;
}

/* Print the plan first; without a call to plan(), done() prints it last. */
static inline void plan(int n)
{
	tap_state()->planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void vdiag(const char *fmt, va_list ap)
{
	char buf[4096];
	const char *p, *nl;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (p = buf; ; p = nl + 1) {
		nl = p;
		while (*nl && *nl != '\n')
			nl++;
		printf("# %.*s\n", (int)(nl - p), p);
		if (!*nl || !nl[1])
			break;
	}
	fflush(stdout);
}

/* Always 0, so that "ok(...) || diag(...)" reads naturally. */
__attribute__((format(printf, 1, 2)))
static inline int diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(fmt, ap);
	va_end(ap);
	return 0;
}

/* Report one test; returns cond so that callers can add diagnostics. */
__attribute__((format(printf, 2, 3)))
static inline int ok(int cond, const char *fmt, ...)
{
	struct tap_state *st = tap_state();
	char buf[1024];
	va_list ap;
	char *p;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (p = buf; *p; p++)		/* a description is one line, no '#' */
		if (*p == '\n' || *p == '#')
			*p = ' ';
	st->run++;
	if (!cond)
		st->failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", st->run, buf);
	fflush(stdout);
	return cond;
}

/* Finish: print the plan if none was given; the exit status for main(). */
static inline int done(void)
{
	struct tap_state *st = tap_state();

	if (st->planned < 0)
		printf("1..%d\n", st->run);
	else if (st->planned != st->run)
		diag("planned %d tests but ran %d", st->planned, st->run);
	if (st->failed)
		diag("%d of %d tests failed", st->failed, st->run);
	fflush(stdout);
	return st->failed || (st->planned >= 0 && st->planned != st->run);
}

#endif /* ESCK_TAP_H */
