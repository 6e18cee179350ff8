/* test-engine.c --- TAP unit tests of the inspect engine's pure parts: problem catalogue, names, bit array */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "esck_int.h"
#include "../unit/tap.h"

static void test_catalogue(void)
{
	struct esck_problem p;
	int i, j, named = 1, unique = 1, sev = 1;

	for (i = 0; i < ESCK_PR_COUNT; i++) {
		const char *name = esck_problem_name(i);
		const char *msg = esck_problem_message(i);

		if (!name || !msg || !*name || !*msg)
			named = 0;
		if ((unsigned int)esck_problem_severity(i) > ESCK_SEV_ERROR)
			sev = 0;
		for (j = 0; name && j < i; j++)
			if (!strcmp(name, esck_problem_name(j)))
				unique = 0;
	}
	ok(named, "every problem has a name and a message");
	ok(unique, "problem names are unique");
	ok(sev, "every severity is in range");
	ok(!strcmp(esck_problem_name(ESCK_PR_TREE_ROOT_HEADER), "TREE_ROOT_HEADER") &&
	   !strcmp(esck_problem_name(ESCK_PR_MAP_DUP), "MAP_DUP") &&
	   !strcmp(esck_problem_name(ESCK_PR_CACHE_CONFLICT), "CACHE_CONFLICT"),
	   "names follow the X-macro");
	ok(!strcmp(esck_problem_message(ESCK_PR_MAP_DUP), "block is claimed twice"),
	   "messages follow the X-macro");
	ok(esck_problem_name(ESCK_PR_COUNT) == NULL && esck_problem_message(ESCK_PR_COUNT) == NULL,
	   "an unknown id has no name or message");
	ok(esck_problem_severity(ESCK_PR_COUNT) == ESCK_SEV_ERROR,
	   "an unknown id counts as an error");
	ok(!strcmp(esck_severity_name(ESCK_SEV_INFO), "info") &&
	   !strcmp(esck_severity_name(ESCK_SEV_WARNING), "warning") &&
	   !strcmp(esck_severity_name(ESCK_SEV_ERROR), "error"), "severity names");

	memset(&p, 0x5a, sizeof(p));
	esck_problem_init(&p, ESCK_PR_MAP_I_BLOCKS, 42);
	ok(p.id == ESCK_PR_MAP_I_BLOCKS && p.ino == 42 && p.lblk == ESCK_NONE &&
	   p.len == ESCK_NONE && p.pblk == ESCK_NONE && p.node == ESCK_NONE &&
	   p.expected == ESCK_NONE && p.found == ESCK_NONE && p.other_ino == ESCK_NONE,
	   "esck_problem_init sets every field but id and ino to ESCK_NONE");
}

static void test_names(void)
{
	ok(!strcmp(esck_kind_name(ESCK_KIND_REGULAR), "regular") &&
	   !strcmp(esck_kind_name(ESCK_KIND_DIRECTORY), "directory") &&
	   !strcmp(esck_kind_name(ESCK_KIND_SPECIAL), "special"), "kind names");
	ok(!strcmp(esck_kind_name(ESCK_KIND_COUNT), "?"), "unknown kind is ?");
	ok(!strcmp(esck_mapping_name(ESCK_MAPPING_EXTENTS), "extents") &&
	   !strcmp(esck_mapping_name(ESCK_MAPPING_BLOCKS), "blocks") &&
	   !strcmp(esck_mapping_name(ESCK_MAPPING_INLINE), "inline") &&
	   !strcmp(esck_mapping_name(ESCK_MAPPING_NONE), "none"), "mapping names");
	ok(!strcmp(esck_mapping_name(ESCK_MAPPING_COUNT), "?"), "unknown mapping is ?");
}

/* The word-at-a-time bit array against one byte per bit. */
static void test_bmap(void)
{
	const uint64_t nbits = 1000;
	struct esck_bmap b;
	unsigned char *oracle;
	uint64_t seed = 12345;
	int i, good = 1, rgood = 1;

	oracle = calloc(nbits, 1);
	if (!oracle || esck_bmap_init(&b, nbits)) {
		ok(0, "bit array allocation");
		free(oracle);
		return;
	}
	for (i = 0; i < 3000; i++) {
		uint64_t s, n, k, end, want_any = 0, want_all = 1, f1 = 0, f0 = 0;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		s = (seed >> 33) % nbits;
		n = ((seed >> 13) % 150) + 1;
		if (s + n > nbits)
			n = nbits - s;
		end = s + n;
		for (k = s; k < end; k++) {
			want_any |= oracle[k];
			want_all &= oracle[k];
		}
		for (f1 = s; f1 < end && !oracle[f1]; f1++)
			;
		for (f0 = s; f0 < end && oracle[f0]; f0++)
			;
		if (esck_bmap_any_set(&b, s, n) != (int)want_any ||
		    esck_bmap_all_set(&b, s, n) != (int)want_all ||
		    esck_bmap_find(&b, s, end, 1) != f1 || esck_bmap_find(&b, s, end, 0) != f0)
			rgood = 0;
		if ((seed >> 7) % 4 == 0) {
			esck_bmap_set_range(&b, s, n);
			memset(oracle + s, 1, n);
		}
	}
	for (i = 0; i < (int)nbits; i++)
		if (esck_bmap_test(&b, (uint64_t)i) != oracle[i])
			good = 0;
	ok(rgood, "range queries agree with a per-bit oracle");
	ok(good, "set_range agrees with a per-bit oracle");
	esck_bmap_free(&b);
	free(oracle);
}

static void test_open_errors(void)
{
	struct esck_fs *fs = (struct esck_fs *)&fs;
	uint32_t ino;

	ok(esck_open(NULL, 0, &fs) == EINVAL, "esck_open(NULL) is EINVAL");
	ok(esck_open("/nonexistent/esck-engine.img", 0, &fs) == ENOENT && fs == NULL,
	   "a missing image is ENOENT and leaves no handle");
	ok(esck_close(NULL) == 0, "esck_close(NULL) is a no-op");
	ok(esck_mount_state(NULL) == 0, "no handle, no mount state");
	ok(esck_resolve_inode(NULL, "12", &ino) == EINVAL, "resolve without a handle is EINVAL");
	ok(esck_inspect(NULL, NULL, NULL, NULL) == EINVAL, "inspect without a handle is EINVAL");
}

int main(void)
{
	test_catalogue();
	test_names();
	test_bmap();
	test_open_errors();
	return done();
}
