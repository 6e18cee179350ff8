/* fuzz-inspect.c --- libFuzzer target: an image through esck_open() and esck_inspect(), as esck inspect runs them */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "esck.h"

/*
 * The input is the image.  It goes into a memfd that libext2fs's unix_io
 * opens as /proc/self/fd/N, so each run reads a fresh file and nothing is
 * left behind.  Inputs over 4 MiB are refused (returning -1 keeps them out
 * of the corpus).  The path the seed images have (fuzz/mkcorpus.sh) is
 * looked up, then every inode inspected; the callbacks read what esck
 * inspect --map prints, printing nothing: problems are findings.
 */
#define MAX_IMAGE	(UINT64_C(4) << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int image_fd = -1;
static char image_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	image_fd = memfd_create("fuzz-inspect", MFD_CLOEXEC);
	if (image_fd < 0) {
		perror("fuzz-inspect: memfd_create");
		abort();
	}
	snprintf(image_path, sizeof(image_path), "/proc/self/fd/%d", image_fd);
	return 0;
}

static void on_problem(void *arg, const struct esck_problem *p)
{
	uint64_t *sink = arg;

	/* What the text and JSON reports read of a problem. */
	*sink += (uintptr_t)esck_problem_name(p->id) + p->ino + p->lblk +
		 p->len + p->pblk + p->node + p->expected + p->found +
		 p->other_ino + esck_problem_severity(p->id);
	*sink += (uintptr_t)esck_problem_message(p->id);
}

static int on_inode(void *arg, const struct esck_inode_report *r)
{
	uint64_t *sink = arg;
	struct es_iter it;
	struct es_extent es;

	*sink += (uintptr_t)esck_kind_name(r->kind) +
		 (uintptr_t)esck_mapping_name(r->mapping) + r->size + r->blocks;
	if (!r->tree)
		return 0;
	es_iter_start(r->tree, 0, &it);
	while (es_iter_next(&it, &es))
		*sink += es.lblk + es.len + es.pblk + es_type(&es);
	return 0;
}

static int write_image(const uint8_t *data, size_t size)
{
	size_t done = 0;
	ssize_t n;

	if (ftruncate(image_fd, 0))
		return errno;
	while (done < size) {
		n = pwrite(image_fd, data + done, size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		done += (size_t)n;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static volatile uint64_t result;
	struct esck_inspect_ops ops = { 0 };
	struct esck_inspect_opts opts = { 0 };
	struct esck_summary sum = { 0 };
	struct esck_fs *fs = NULL;
	uint64_t sink = 0;
	uint32_t ino = 0;

	if (size > MAX_IMAGE)
		return -1;
	if (write_image(data, size)) {
		perror("fuzz-inspect: writing the image");
		abort();
	}
	/* As "esck inspect --force": images whose journal needs recovery too. */
	if (esck_open(image_path, ESCK_OPEN_FORCE, &fs))
		return 0;
	(void)esck_mount_state(fs);
	/* As "-i /dir/sub/small": a path lookup through the directories. */
	(void)esck_resolve_inode(fs, "/dir/sub/small", &ino);
	ops.problem = on_problem;
	ops.inode = on_inode;
	ops.arg = &sink;
	(void)esck_inspect(fs, &opts, &ops, &sum);
	(void)esck_close(fs);
	result = sink + sum.problems + ino;
	(void)result;
	return 0;
}
