/* fault.c --- allocation fault injection: fail the Nth attempt, every Nth, or at a seeded rate */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "es.h"

/* splitmix64: tiny, seedable, and the same sequence on every platform. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void es_fault_init(struct es_fault *f, enum es_fault_mode mode, uint64_t n,
		   double rate, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->mode = mode;
	f->n = n;
	f->rate = rate;
	f->seed = seed;
	f->rng = seed;
}

int es_fault_should_fail(struct es_fault *f)
{
	int fail = 0;

	f->attempts++;
	switch (f->mode) {
	case ES_FAULT_NONE:
		break;
	case ES_FAULT_NTH:
		fail = f->attempts == f->n;
		break;
	case ES_FAULT_EVERY:
		fail = f->n && f->attempts % f->n == 0;
		break;
	case ES_FAULT_RATE:
		fail = (double)(next_random(&f->rng) >> 11) * 0x1p-53 < f->rate;
		break;
	}
	if (fail)
		f->failures++;
	return fail;
}

/* A whole decimal or 0x number, nothing else; 0 or EINVAL. */
static int parse_u64(const char *s, const char **end, uint64_t *out)
{
	char *e;

	if (*s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	*out = strtoull(s, &e, 0);
	if (errno || e == s)
		return EINVAL;
	*end = e;
	return 0;
}

int es_fault_parse(struct es_fault *f, const char *spec)
{
	const char *p;
	uint64_t n = 0, seed = 0;
	double rate = 0;
	enum es_fault_mode mode;

	if (!strcmp(spec, "none")) {
		es_fault_init(f, ES_FAULT_NONE, 0, 0, 0);
		return 0;
	}
	if (!strncmp(spec, "nth:", 4)) {
		mode = ES_FAULT_NTH;
		if (parse_u64(spec + 4, &p, &n) || *p || n < 1)
			return EINVAL;
	} else if (!strncmp(spec, "every:", 6)) {
		mode = ES_FAULT_EVERY;
		/* every:1 would fail the retries of must-keep paths forever */
		if (parse_u64(spec + 6, &p, &n) || *p || n < 2)
			return EINVAL;
	} else if (!strncmp(spec, "rate:", 5)) {
		char *e;

		mode = ES_FAULT_RATE;
		p = spec + 5;
		if ((*p < '0' || *p > '9') && *p != '.')
			return EINVAL;
		errno = 0;
		rate = strtod(p, &e);
		if (errno || e == p || !isfinite(rate) || rate < 0 || rate >= 1)
			return EINVAL;
		p = e;
		if (!strncmp(p, ",seed:", 6)) {
			if (parse_u64(p + 6, &p, &seed))
				return EINVAL;
		}
		if (*p)
			return EINVAL;
	} else {
		return EINVAL;
	}
	es_fault_init(f, mode, n, rate, seed);
	return 0;
}
