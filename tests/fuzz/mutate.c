/* mutate.c --- deterministic image mutator for tests/fuzz/smoke.sh: restore a copy from its base, then corrupt a few bytes */

/*
 * Usage: mutate [-v] BASE COPY SEED MAXMUT [START:LEN ...]
 *        mutate -s BASE COPY OFFSET:WIDTH:VALUE ...
 *
 * Makes COPY equal to BASE, then applies 1..MAXMUT mutations chosen by a
 * PRNG seeded from SEED (decimal), so that the same arguments always give
 * the same image.  Mutations land in the byte ranges START:LEN (decimal byte
 * offsets: superblock, descriptors, inode table, tree blocks...) seven times
 * out of eight, the range picked uniformly whatever its length, and anywhere
 * in the image otherwise.
 *
 * Each case must cost milliseconds, so COPY is not copied afresh: the
 * offsets changed last time are kept in COPY.undo and only those bytes are
 * restored from BASE.  Without a valid COPY.undo (first run, or a COPY of
 * another size) the whole image is copied.  -v prints each mutation.
 *
 * -s sets exact fields instead: VALUE (decimal or 0x hex) stored little
 * endian in WIDTH (1, 2, 4 or 8) bytes at OFFSET, for regression cases.
 *
 * Exit status: 0, 1 on an I/O error, 2 on bad arguments.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_RANGES	256
#define MAX_MUT		64
#define MAX_UNDO	(MAX_MUT * 8)	/* a mutation writes at most 8 bytes */

struct range {
	uint64_t start, len;
};

static uint64_t rng_state;

/* splitmix64: tiny, good enough, and the same on every platform. */
static uint64_t rng(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t n)
{
	return n ? rng() % n : 0;
}

static const char *prog = "mutate";

static void die(const char *what, const char *name)
{
	fprintf(stderr, "%s: %s %s: %s\n", prog, what, name, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "Usage: %s [-v] BASE COPY SEED MAXMUT [START:LEN ...]\n"
		"       %s -s BASE COPY OFFSET:WIDTH:VALUE ...\n", prog, prog);
	exit(2);
}

static int parse_num(const char *s, uint64_t *v, int base, char stop, const char **rest)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, base);
	if (errno || end == s || *end != stop || *s == '-')
		return -1;
	*v = x;
	if (rest)
		*rest = *end ? end + 1 : end;
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*v = x;
	return 0;
}

static void pread_all(int fd, void *buf, size_t n, uint64_t off, const char *name)
{
	ssize_t r = pread(fd, buf, n, (off_t)off);

	if (r < 0)
		die("cannot read", name);
	if ((size_t)r != n) {
		errno = EIO;
		die("short read from", name);
	}
}

static void pwrite_all(int fd, const void *buf, size_t n, uint64_t off, const char *name)
{
	ssize_t r = pwrite(fd, buf, n, (off_t)off);

	if (r < 0)
		die("cannot write", name);
	if ((size_t)r != n) {
		errno = EIO;
		die("short write to", name);
	}
}

/* Copy the whole of BASE over COPY. */
static void full_copy(int in, int out, uint64_t size, const char *copy)
{
	static char buf[1 << 20];
	uint64_t off = 0;

	if (ftruncate(out, (off_t)size) < 0)
		die("cannot resize", copy);
	while (off < size) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);

		pread_all(in, buf, n, off, "base image");
		pwrite_all(out, buf, n, off, copy);
		off += n;
	}
}

/* Restore the bytes listed in UNDO from BASE; 0 if done, -1 if a full copy is needed. */
static int restore(int in, int out, uint64_t size, const char *undo, const char *copy)
{
	uint64_t offs[MAX_UNDO];
	struct stat st;
	size_t n, i;
	FILE *f;

	if (fstat(out, &st) < 0 || (uint64_t)st.st_size != size)
		return -1;
	f = fopen(undo, "rb");
	if (!f)
		return -1;
	n = fread(offs, sizeof(offs[0]), MAX_UNDO, f);
	if (ferror(f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	for (i = 0; i < n; i++) {
		unsigned char c;

		if (offs[i] >= size)
			return -1;
		pread_all(in, &c, 1, offs[i], "base image");
		pwrite_all(out, &c, 1, offs[i], copy);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct range ranges[MAX_RANGES];
	uint64_t undo_offs[MAX_UNDO];
	size_t nr_ranges = 0, nr_undo = 0;
	uint64_t seed, maxmut, size, nmut, m;
	const char *base, *copy;
	char undo[4096];
	struct stat st;
	int verbose = 0, set = 0;
	int in, out, i;
	FILE *f;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argv++;
		argc--;
	} else if (argc > 1 && strcmp(argv[1], "-s") == 0) {
		set = 1;
		argv++;
		argc--;
	}
	if (argc < (set ? 4 : 5))
		usage();
	base = argv[1];
	copy = argv[2];
	seed = maxmut = 0;
	if (set) {
		if (argc - 3 > MAX_MUT)
			usage();
		for (i = 3; i < argc; i++) {
			const char *p = argv[i];
			uint64_t off, width, val;

			if (parse_num(p, &off, 10, ':', &p) || parse_num(p, &width, 10, ':', &p) ||
			    parse_num(p, &val, 0, '\0', NULL) ||
			    (width != 1 && width != 2 && width != 4 && width != 8))
				usage();
		}
	} else if (parse_u64(argv[3], &seed) || parse_u64(argv[4], &maxmut) ||
		   maxmut == 0 || maxmut > MAX_MUT) {
		usage();
	}
	for (i = 5; !set && i < argc; i++) {
		char *colon = strchr(argv[i], ':');
		struct range r;

		if (!colon || nr_ranges == MAX_RANGES)
			usage();
		*colon = '\0';
		if (parse_u64(argv[i], &r.start) || parse_u64(colon + 1, &r.len))
			usage();
		if (r.len)
			ranges[nr_ranges++] = r;
	}
	if ((size_t)snprintf(undo, sizeof(undo), "%s.undo", copy) >= sizeof(undo))
		usage();

	in = open(base, O_RDONLY);
	if (in < 0)
		die("cannot open", base);
	if (fstat(in, &st) < 0)
		die("cannot stat", base);
	size = (uint64_t)st.st_size;
	if (size == 0) {
		errno = EINVAL;
		die("empty image", base);
	}
	out = open(copy, O_RDWR | O_CREAT, 0644);
	if (out < 0)
		die("cannot open", copy);

	/* Forget the undo list before touching COPY: a crash leaves no stale list. */
	if (restore(in, out, size, undo, copy) < 0)
		full_copy(in, out, size, copy);
	if (unlink(undo) < 0 && errno != ENOENT)
		die("cannot remove", undo);

	for (i = 3; set && i < argc; i++) {
		const char *p = argv[i];
		uint64_t off = 0, width = 0, val = 0, k;
		unsigned char bytes[8];

		parse_num(p, &off, 10, ':', &p);
		parse_num(p, &width, 10, ':', &p);
		parse_num(p, &val, 0, '\0', NULL);
		if (off + width > size) {
			errno = EINVAL;
			die("offset past the end of", base);
		}
		for (k = 0; k < width; k++) {
			bytes[k] = (unsigned char)(val >> (8 * k));
			undo_offs[nr_undo++] = off + k;
		}
		pwrite_all(out, bytes, (size_t)width, off, copy);
	}

	rng_state = seed * UINT64_C(0x2545f4914f6cdd1d) + 1;
	nmut = set ? 0 : 1 + rng_below(maxmut);
	for (m = 0; m < nmut; m++) {
		static const uint32_t special[] = {
			0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
			0x7fffffff, 0x80000000, 0xffffffff, 0xf30a,
		};
		unsigned char bytes[8];
		uint64_t off, v;
		unsigned int width = 1, op, k;

		if (nr_ranges && rng_below(8) != 0) {
			const struct range *r = &ranges[rng_below(nr_ranges)];

			off = r->start + rng_below(r->len);
		} else {
			off = rng_below(size);
		}
		if (off >= size)
			off = rng_below(size);

		op = (unsigned int)rng_below(6);
		switch (op) {
		case 0:		/* flip one bit */
		case 1:		/* set a random byte */
			break;
		case 2:		/* a special value, 16 bits */
			width = 2;
			break;
		case 3:		/* a special value, 32 bits */
			width = 4;
			break;
		case 4:		/* add or subtract a little from a 16-bit field */
			width = 2;
			break;
		default:	/* a random 64-bit value (pblk hi+lo, say) */
			width = 8;
			break;
		}
		if (width > 1)
			off &= ~(uint64_t)(width - 1);	/* fields are aligned */
		if (off + width > size)
			off = size - width;
		pread_all(out, bytes, width, off, copy);
		v = 0;
		for (k = 0; k < width; k++)
			v |= (uint64_t)bytes[k] << (8 * k);
		switch (op) {
		case 0:
			v ^= UINT64_C(1) << rng_below(8);
			break;
		case 1:
			v = rng() & 0xff;
			break;
		case 2:
		case 3:
			v = special[rng_below(sizeof(special) / sizeof(special[0]))];
			break;
		case 4:
			v += rng_below(2) ? 1 + rng_below(16) : (uint64_t)0 - (1 + rng_below(16));
			break;
		default:
			v = rng();
			break;
		}
		if (width < 8)
			v &= (UINT64_C(1) << (8 * width)) - 1;
		for (k = 0; k < width; k++) {
			bytes[k] = (unsigned char)(v >> (8 * k));
			undo_offs[nr_undo++] = off + k;
		}
		pwrite_all(out, bytes, width, off, copy);
		if (verbose)
			printf("mutation %" PRIu64 ": op %u at %" PRIu64 " width %u value 0x%" PRIx64 "\n",
			       m, op, off, width, v);
	}

	f = fopen(undo, "wb");
	if (!f || fwrite(undo_offs, sizeof(undo_offs[0]), nr_undo, f) != nr_undo ||
	    fclose(f) != 0)
		die("cannot write", undo);
	if (close(out) < 0)
		die("cannot close", copy);
	close(in);
	return 0;
}
