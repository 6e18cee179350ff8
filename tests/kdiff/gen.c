/* gen.c --- seeded random replay scripts in the xfs_io command language, for the kernel-diff tests */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * The output is one script: a header comment, "open -f fileK" for every
 * file, a setup section that builds content (pwrite/falloc, and with
 * --depth a file whose extent tree -- or block map, with --no-falloc --
 * reaches the requested depth), a line "# ops", then the random ops,
 * starting with an "open".  Everything after "# ops" is what
 * tests/kdiff/run.sh replays through both the kernel and esck when the
 * setup is applied by the kernel alone (--only-remove scripts, whose
 * physical mappings are compared).  Comments are esck-only: strip them
 * for xfs_io.  The same arguments always give the same script.
 */

#define MAX_FILES 16
#define EXT_HDR 12	/* struct ext4_extent_header, ext4_extent, ext4_extent_idx */

struct opts {
	uint64_t seed;
	unsigned int ops;
	unsigned int bs;
	unsigned int cluster;	/* bigalloc cluster size, else bs */
	unsigned int files;
	int only_remove;
	int align;		/* -1 mixed, 0 unaligned, 1 aligned */
	int depth;		/* -1: no deep file */
	int no_falloc;
	int no_pwrite;
	uint64_t max_size;
};

struct file {
	uint64_t size;		/* i_size as the kernel will have it */
	uint64_t cap;		/* offsets are drawn up to about this */
};

static uint64_t rng_state;

/* splitmix64: small, good enough, and the same everywhere. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [0, n); 0 when n is 0. */
static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static int chance(unsigned int pct)
{
	return below(100) < pct;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Print a number in one of the spellings xfs_io's cvtnum() reads. */
static void put_num(uint64_t v)
{
	unsigned int r = (unsigned int)below(100);

	if (r < 8 && v && v % (1024 * 1024) == 0)
		printf(" %" PRIu64 "m", v / (1024 * 1024));
	else if (r < 16 && v && v % 1024 == 0)
		printf(" %" PRIu64 "%c", v / 1024, chance(50) ? 'k' : 'K');
	else if (r < 24)
		printf(" 0x%" PRIx64, v);
	else
		printf(" %" PRIu64, v);
}

static void emit_open(unsigned int k, int create)
{
	printf("open %sfile%u\n", create ? "-f " : "", k);
}

static void emit_range(const char *cmd, uint64_t off, uint64_t len)
{
	fputs(cmd, stdout);
	put_num(off);
	put_num(len);
	putchar('\n');
}

static void emit_pwrite(uint64_t off, uint64_t len)
{
	fputs("pwrite", stdout);
	if (chance(80))
		fputs(" -q", stdout);
	if (chance(60))
		printf(" -S 0x%02x", (unsigned int)below(256));
	put_num(off);
	put_num(len);
	putchar('\n');
}

static int op_aligned(const struct opts *o)
{
	return o->align < 0 ? chance(50) : o->align;
}

static uint64_t round_down(uint64_t v, uint64_t bs)
{
	return v - v % bs;
}

static uint64_t round_up(uint64_t v, uint64_t bs)
{
	return round_down(v + bs - 1, bs);
}

/* An offset: anywhere, near EOF, near a block boundary, or 0. */
static uint64_t pick_off(const struct opts *o, const struct file *f,
			 int aligned)
{
	uint64_t bs = o->bs, lim = max_u64(f->cap, f->size), off;
	unsigned int r = (unsigned int)below(100);

	if (r < 30) {
		off = below(f->size ? f->size + 1 : lim);
	} else if (r < 50) {
		uint64_t d = below(6 * bs + 1);

		off = f->size + d >= 3 * bs ? f->size + d - 3 * bs : 0;
	} else if (r < 70) {
		/* next to a block boundary, or a cluster boundary */
		uint64_t unit = chance(50) ? o->cluster : bs;
		uint64_t k = below(lim / unit + 2);
		uint64_t d = below(5);

		off = k * unit + d >= 2 ? k * unit + d - 2 : 0;
	} else if (r < 80) {
		off = 0;
	} else {
		off = below(lim + lim / 4 + 1);
	}
	return aligned ? round_down(off, bs) : off;
}

/*
 * A length: a few blocks, a few dozen, exactly to EOF, past EOF, or large.
 * An allocating op (falloc, pwrite) is bounded by *budget, the bytes still
 * allowed to be allocated, so that the file system never fills up.
 */
static uint64_t pick_len(const struct opts *o, const struct file *f,
			 uint64_t off, int aligned, uint64_t *budget)
{
	uint64_t bs = o->bs, len;
	unsigned int r = (unsigned int)below(100);

	if (r < 45) {
		len = 1 + below(8 * bs);
	} else if (r < 70) {
		len = 1 + below(64 * bs);
	} else if (r < 80) {
		len = f->size > off ? f->size - off : 1 + below(2 * bs);
	} else if (r < 90) {
		len = (f->size > off ? f->size - off : 0) + 1 + below(4 * bs);
	} else {
		len = 1 + below(budget ? o->max_size / 2 : max_u64(f->cap, o->max_size));
	}
	if (aligned)
		len = round_up(len, bs);
	if (budget) {
		uint64_t small = (aligned ? bs : 1) * (1 + below(2));

		if (len > *budget)
			len = min_u64(len, small);
		*budget -= min_u64(*budget, len);
	}
	return len ? len : 1;
}

/* Blocks a file needs to reach depth d: an extent tree, or a block map. */
static uint64_t depth_blocks(const struct opts *o, int d)
{
	uint64_t cap = (o->bs - EXT_HDR) / 12, ptrs = o->bs / 4, n;

	if (o->no_falloc) {
		/* past the direct / indirect / double indirect blocks */
		if (d == 0)
			return 4;
		n = 12;
		if (d >= 2)
			n += ptrs;
		if (d >= 3)
			n += ptrs * ptrs;
		return n + 1 + 8;
	}
	/* extents: the root holds 4, each tree block cap entries */
	switch (d) {
	case 0:
		return 4;
	case 1:
		return 5 + 3;
	case 2:
		return 4 * cap + 1 + cap / 8;
	default:
		return 4 * cap * cap + 1 + cap * cap / 8;
	}
}

/*
 * The deep file: with extents, one fallocated range punched every other
 * block (or so) into single-block unwritten extents, some then written;
 * block-mapped, single blocks written far enough out to need the indirect
 * levels.
 */
static void setup_deep(const struct opts *o, struct file *f)
{
	uint64_t bs = o->bs, n = depth_blocks(o, o->depth), b, region;

	if (o->no_falloc) {
		region = n;
		emit_pwrite(0, bs);
		for (b = 0; b < 24; b++)
			emit_pwrite(below(region) * bs, bs * (1 + below(3)));
		emit_pwrite((region - 1) * bs, bs);
		f->size = region * bs;
		f->cap = f->size;
		puts("fsync");
		return;
	}
	/* n extents of 1-2 blocks with 1-block gaps: about 2.5 n blocks */
	region = n * 5 / 2 + 2;
	emit_range("falloc", 0, region * bs);
	b = 1 + below(2);
	while (b < region) {
		emit_range("fpunch", b * bs, bs);
		b += 2 + below(2);
	}
	for (b = 0; b < region && !o->no_pwrite; b += 1 + below(6))
		if (chance(30))
			emit_pwrite(b * bs, bs);
	f->size = region * bs;
	f->cap = f->size;
	if (!o->no_pwrite)
		puts("fsync");
}

/* Ordinary content: a few written or preallocated ranges, maybe some past EOF. */
static void setup_plain(const struct opts *o, struct file *f)
{
	unsigned int i, n = 1 + (unsigned int)below(6);
	uint64_t lim = o->max_size / 2;

	f->cap = o->max_size;
	for (i = 0; i < n; i++) {
		int aligned = op_aligned(o);
		uint64_t off = below(lim), len = 1 + below(lim / 4);

		if (aligned) {
			off = round_down(off, o->bs);
			len = round_up(len, o->bs);
		}
		if (!o->no_falloc && (o->no_pwrite || chance(40))) {
			int keep = chance(30);

			emit_range(keep ? "falloc -k" : "falloc", off, len);
			if (!keep)
				f->size = max_u64(f->size, off + len);
		} else {
			emit_pwrite(off, len);
			f->size = max_u64(f->size, off + len);
		}
	}
	if (!o->no_pwrite && chance(50))
		puts("fsync");
}

static void gen_truncate(const struct opts *o, struct file *f)
{
	int aligned = op_aligned(o);
	unsigned int r = (unsigned int)below(100);
	uint64_t bs = o->bs, s = f->size;

	if (r < 35 && s) {
		s = below(s);
		if (chance(30))	/* next to a block boundary */
			s = round_down(s, bs) + (chance(50) ? 0 : 1);
	} else if (r < 45) {
		s = 0;
	} else if (r < 65) {
		/* same size */
	} else if (r < 85) {
		s += 1 + below(o->max_size / 4);
	} else {
		s = pick_off(o, f, aligned);
	}
	if (aligned)
		s = round_down(s, bs);
	printf("truncate");
	put_num(s);
	putchar('\n');
	f->size = s;
}

static void gen_ops(const struct opts *o, struct file *files, uint64_t *budget)
{
	unsigned int i, cur = (unsigned int)below(o->files);
	/* weights: truncate, fpunch, falloc, pwrite, fsync */
	unsigned int w[5] = { 20, 25, 20, 25, 10 };
	unsigned int total = 0, k;

	if (o->only_remove) {
		w[0] = 40; w[1] = 60; w[2] = 0; w[3] = 0; w[4] = 0;
	} else if (o->no_falloc) {
		w[2] = 0;
	} else if (o->no_pwrite) {
		w[3] = 0;
		w[4] = 0;
	}
	for (k = 0; k < 5; k++)
		total += w[k];
	emit_open(cur, 0);
	for (i = 0; i < o->ops; i++) {
		struct file *f;
		unsigned int r;
		int aligned;
		uint64_t off, len;

		if (o->files > 1 && chance(15)) {
			cur = (unsigned int)below(o->files);
			emit_open(cur, 0);
		}
		f = &files[cur];
		aligned = op_aligned(o);
		r = (unsigned int)below(total);
		for (k = 0; r >= w[k]; k++)
			r -= w[k];
		switch (k) {
		case 0:
			gen_truncate(o, f);
			break;
		case 1:
			off = pick_off(o, f, aligned);
			len = pick_len(o, f, off, aligned, NULL);
			emit_range("fpunch", off, len);
			break;
		case 2: {
			int keep = chance(50);

			off = pick_off(o, f, aligned);
			len = pick_len(o, f, off, aligned, budget);
			emit_range(keep ? "falloc -k" : "falloc", off, len);
			if (!keep)
				f->size = max_u64(f->size, off + len);
			break;
		}
		case 3:
			off = pick_off(o, f, aligned);
			len = pick_len(o, f, off, aligned, budget);
			emit_pwrite(off, len);
			f->size = max_u64(f->size, off + len);
			break;
		default:
			puts("fsync");
			break;
		}
	}
}

static void usage(FILE *out)
{
	fputs("Usage: gen SEED [--ops N] [--bs 1024|4096] [--cluster C] [--files K]\n"
	      "           [--only-remove] [--aligned|--unaligned] [--depth D|--deep]\n"
	      "           [--no-falloc] [--no-pwrite] [--max-size BYTES]\n"
	      "Print a random replay script (xfs_io commands) for SEED.\n"
	      "  --ops N         random ops after the setup (default 40)\n"
	      "  --bs B          the file system block size (default 4096)\n"
	      "  --cluster C     bigalloc cluster size: offsets near its boundaries too\n"
	      "  --files K       files file0..fileK-1 (default 2, at most 16)\n"
	      "  --only-remove   after the setup, only truncate and fpunch\n"
	      "  --aligned       offsets and lengths in whole blocks\n"
	      "  --unaligned     offsets and lengths in bytes (default: a mix)\n"
	      "  --depth D       make file0's extent tree (block map) depth D, 0-3\n"
	      "  --deep          the same as --depth 2\n"
	      "  --no-falloc     block-mapped files: no falloc anywhere\n"
	      "  --no-pwrite     no pwrite nor fsync anywhere (falloc builds content)\n"
	      "  --max-size B    bound for ordinary file sizes (default 4m)\n", out);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ops", required_argument, NULL, 'o' },
		{ "bs", required_argument, NULL, 'b' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "files", required_argument, NULL, 'f' },
		{ "only-remove", no_argument, NULL, 'r' },
		{ "aligned", no_argument, NULL, 'a' },
		{ "unaligned", no_argument, NULL, 'u' },
		{ "depth", required_argument, NULL, 'd' },
		{ "deep", no_argument, NULL, 'D' },
		{ "no-falloc", no_argument, NULL, 'n' },
		{ "no-pwrite", no_argument, NULL, 'p' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0, 40, 4096, 0, 2, 0, -1, -1, 0, 0, 4 << 20 };
	struct file files[MAX_FILES];
	uint64_t v, budget;
	unsigned int k;
	int c, i;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		v = 0;
		if (optarg && parse_u64(optarg, &v)) {
			fprintf(stderr, "gen: bad number '%s'\n", optarg);
			return 2;
		}
		switch (c) {
		case 'o':
			o.ops = (unsigned int)min_u64(v, 1000000);
			break;
		case 'b':
			if (v != 1024 && v != 2048 && v != 4096 && v != 65536) {
				fprintf(stderr, "gen: --bs must be 1024, 2048, 4096 or 65536\n");
				return 2;
			}
			o.bs = (unsigned int)v;
			break;
		case 'c':
			if (v < 1024 || v > (1U << 28) || (v & (v - 1))) {
				fprintf(stderr, "gen: --cluster must be a power of 2, 1k..256m\n");
				return 2;
			}
			o.cluster = (unsigned int)v;
			break;
		case 'f':
			if (v < 1 || v > MAX_FILES) {
				fprintf(stderr, "gen: --files must be 1..%d\n", MAX_FILES);
				return 2;
			}
			o.files = (unsigned int)v;
			break;
		case 'r':
			o.only_remove = 1;
			break;
		case 'a':
			o.align = 1;
			break;
		case 'u':
			o.align = 0;
			break;
		case 'd':
			if (v > 3) {
				fprintf(stderr, "gen: --depth must be 0..3\n");
				return 2;
			}
			o.depth = (int)v;
			break;
		case 'D':
			o.depth = 2;
			break;
		case 'n':
			o.no_falloc = 1;
			break;
		case 'p':
			o.no_pwrite = 1;
			break;
		case 'm':
			if (v < 65536 || v > (1ULL << 40)) {
				fprintf(stderr, "gen: --max-size must be 64k..1t\n");
				return 2;
			}
			o.max_size = v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || parse_u64(argv[optind], &o.seed)) {
		usage(stderr);
		return 2;
	}
	if (!o.cluster)
		o.cluster = o.bs;
	if (o.cluster < o.bs) {
		fprintf(stderr, "gen: --cluster must not be below --bs\n");
		return 2;
	}
	if (o.no_falloc && o.no_pwrite) {
		fprintf(stderr, "gen: --no-falloc and --no-pwrite leave no way to allocate\n");
		return 2;
	}
	if (o.depth == 3 && !o.no_falloc && o.bs > 1024) {
		fprintf(stderr, "gen: --depth 3 needs --bs 1024 (or --no-falloc): "
			"too many extents otherwise\n");
		return 2;
	}
	rng_state = o.seed * 0x2545f4914f6cdd1dULL + 1;
	budget = (uint64_t)o.files * o.max_size * 2;

	printf("# gen %" PRIu64 " --ops %u --bs %u --cluster %u --files %u%s%s%s",
	       o.seed, o.ops, o.bs, o.cluster, o.files, o.only_remove ? " --only-remove" : "",
	       o.align > 0 ? " --aligned" : o.align == 0 ? " --unaligned" : "",
	       o.no_falloc ? " --no-falloc" : "");
	if (o.no_pwrite)
		printf(" --no-pwrite");
	if (o.depth >= 0)
		printf(" --depth %d", o.depth);
	printf(" --max-size %" PRIu64 "\n", o.max_size);
	for (k = 0; k < o.files; k++) {
		emit_open(k, 1);
		files[k].size = 0;
		files[k].cap = o.max_size;
	}
	puts("# setup");
	for (i = 0; i < (int)o.files; i++) {
		emit_open((unsigned int)i, 0);
		if (i == 0 && o.depth >= 0)
			setup_deep(&o, &files[i]);
		else
			setup_plain(&o, &files[i]);
	}
	if (!o.no_pwrite)
		puts("fsync");
	puts("# ops");
	gen_ops(&o, files, &budget);
	if (fflush(stdout) || ferror(stdout)) {
		perror("gen: stdout");
		return 1;
	}
	return 0;
}
