/* cache.c --- benchmark of lib/es: bytes per entry, random insert/remove/lookup, bulk load */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es.h"

/*
 * Prints one figure a line as "name value".  Entries are single blocks whose
 * pblk is 3 * lblk, so no two are ever physically contiguous and the tree
 * really holds one entry per insert.  Usage: cache-bench [--10m]
 */
#define NR_ENTRIES	1000000u
#define NR_RANDOM	200000u
#define NR_LOOKUPS	1000000u

static uint64_t rng_state = 0x6a09e667f3bcc908;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "cache-bench: %s\n", what);
	exit(1);
}

static void *xmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p)
		die("out of memory");
	return p;
}

/* Fisher-Yates: a random order of 0 .. n-1. */
static uint32_t *permutation(uint32_t n)
{
	uint32_t *p = xmalloc(n * sizeof(*p)), i, j, x;

	for (i = 0; i < n; i++)
		p[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = (uint32_t)(rnd() % (i + 1));
		x = p[i];
		p[i] = p[j];
		p[j] = x;
	}
	return p;
}

static void check(const struct es_tree *t, uint64_t want)
{
	char msg[256] = "";

	if (es_tree_entries(t) != want)
		die("wrong number of entries");
	if (es_check(t, msg, sizeof(msg))) {
		fprintf(stderr, "cache-bench: %s\n", msg);
		exit(1);
	}
}

/* In-order es_cache_extent of n entries at even blocks; entries per second. */
static double bulk_load(struct es_tree *t, uint32_t n)
{
	double t0 = now(), t1;
	uint32_t i, lblk;

	for (i = 0; i < n; i++) {
		lblk = 2 * i;
		if (es_cache_extent(t, lblk, 1, 3 * (uint64_t)lblk, ES_WRITTEN, NULL))
			die("es_cache_extent failed");
	}
	t1 = now();
	check(t, n);
	return n / (t1 - t0);
}

int main(int argc, char **argv)
{
	struct es_cache c;
	struct es_tree t;
	struct es_stats st;
	struct es_extent e;
	uint32_t *order, i, lblk, hits = 0;
	double t0, rate;
	int ten_million = argc > 1 && !strcmp(argv[1], "--10m");

	if (argc > 2 || (argc == 2 && !ten_million)) {
		fprintf(stderr, "usage: cache-bench [--10m]\n");
		return 2;
	}
	es_cache_init(&c);
	es_tree_init(&c, &t, 1);

	rate = bulk_load(&t, NR_ENTRIES);
	es_cache_stats(&c, &st);
	printf("entries %" PRIu64 "\n", st.entries);
	printf("bytes_per_entry %.1f\n", (double)st.footprint / st.entries);
	printf("bytes_per_entry_logical %.1f\n", (double)st.bytes / st.entries);
	printf("bulk_load_entries_per_sec %.0f\n", rate);

	/* New entries at odd blocks, in random order, into the 1M-entry tree. */
	order = permutation(NR_ENTRIES);
	t0 = now();
	for (i = 0; i < NR_RANDOM; i++) {
		lblk = 2 * order[i] + 1;
		if (es_insert(&t, lblk, 1, 3 * (uint64_t)lblk, ES_WRITTEN))
			die("es_insert failed");
	}
	printf("insert_random_ops_per_sec %.0f\n", NR_RANDOM / (now() - t0));
	check(&t, NR_ENTRIES + NR_RANDOM);

	t0 = now();
	for (i = 0; i < NR_LOOKUPS; i++)
		hits += es_lookup(&t, (uint32_t)(rnd() % (2 * NR_ENTRIES)), &e, NULL);
	printf("lookup_random_ops_per_sec %.0f\n", NR_LOOKUPS / (now() - t0));
	if (hits < NR_LOOKUPS / 2)
		die("too few lookup hits");

	/* Remove them again, in another random order: back to 1M entries. */
	for (i = 0; i < NR_RANDOM; i++) {
		uint32_t j = (uint32_t)(rnd() % NR_RANDOM), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	t0 = now();
	for (i = 0; i < NR_RANDOM; i++)
		if (es_remove(&t, 2 * order[i] + 1, 1))
			die("es_remove failed");
	printf("remove_random_ops_per_sec %.0f\n", NR_RANDOM / (now() - t0));
	check(&t, NR_ENTRIES);
	free(order);
	es_tree_release(&t);

	if (ten_million) {
		es_tree_init(&c, &t, 2);
		printf("bulk_load_10m_entries_per_sec %.0f\n", bulk_load(&t, 10 * NR_ENTRIES));
		es_cache_stats(&c, &st);
		printf("bytes_per_entry_10m %.1f\n", (double)st.footprint / st.entries);
		es_tree_release(&t);
	}
	es_cache_release(&c);
	return 0;
}
