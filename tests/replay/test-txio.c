/* test-txio.c --- txio holds writes until commit; replay ops are all-or-nothing (fail the Nth write); divergences are caught */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay.h"
#include "txio.h"
#include "../unit/tap.h"

static char dir[] = "/tmp/esck-test-txio.XXXXXX";

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca, cb, same = fa && fb;

	while (same) {
		ca = getc(fa);
		cb = getc(fb);
		if (ca != cb)
			same = 0;
		if (ca == EOF || cb == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static void count_failed(void *arg, const struct esck_replay_result *r)
{
	if (r->err)
		(*(int *)arg)++;
}

/*
 * Run "open f" + one op on a copy of base, failing write n.  Returns 1 if
 * some write failed (the op must then have failed and the image be
 * unchanged), 0 if the op ran with fewer than n writes.
 */
static int sweep_one(const char *base, const char *name, const char *text,
		     uint64_t n)
{
	char img[512], errbuf[256];
	struct esck_replay_opts opts;
	struct esck_replay_summary sum;
	struct esck_replay_ops ops;
	struct esck_script s;
	struct esck_replay *r;
	int failed = 0, hit;
	errcode_t err;

	snprintf(img, sizeof(img), "%s/work.img", dir);
	if (sh("cp %s %s", base, img))
		return ok(0, "%s: copy the image", name), 0;
	memset(&s, 0, sizeof(s));
	err = esck_script_parse(name, text, strlen(text), &s, errbuf,
				sizeof(errbuf));
	if (err)
		return ok(0, "%s: parse: %s", name, errbuf), 0;
	memset(&opts, 0, sizeof(opts));
	opts.fail_write = n;
	memset(&ops, 0, sizeof(ops));
	ops.op = count_failed;
	ops.arg = &failed;
	err = esck_replay_open(img, &opts, &r);
	if (err) {
		esck_script_free(&s);
		return ok(0, "%s: open: %ld", name, (long)err), 0;
	}
	err = esck_replay_run(r, &s, &ops, &sum);
	esck_replay_close(r);
	esck_script_free(&s);
	hit = txio_writes_seen() >= n;
	txio_set_fail_write(0);
	if (err)
		return ok(0, "%s: write %llu: run failed: %ld", name,
			  (unsigned long long)n, (long)err),
		       0;
	if (!hit) {
		ok(failed == 0, "%s: succeeds with %llu writes", name,
		   (unsigned long long)n - 1);
		ok(sh("e2fsck -fn %s >/dev/null 2>&1", img) == 0,
		   "%s: e2fsck clean", name);
		return 0;
	}
	ok(failed == 1 && same_file(img, base),
	   "%s: write %llu fails: op failed (%d) and the image is unchanged",
	   name, (unsigned long long)n, failed);
	return 1;
}

static void sweep(const char *base, const char *name, const char *text)
{
	uint64_t n;

	for (n = 1; n < 200; n++)
		if (!sweep_one(base, name, text, n))
			return;
	ok(0, "%s: still writing after 200 writes", name);
}

struct div_seen {
	int n, extra;
	uint64_t lo, hi;
};

static void on_div(void *arg, const struct esck_replay_divergence *d)
{
	struct div_seen *ds = arg;

	ds->n++;
	if (d->problem && d->problem->id == ESCK_PR_CACHE_EXTRA) {
		ds->extra++;
		ds->lo = d->problem->lblk;
		ds->hi = d->problem->lblk + d->problem->len - 1;
	}
}

/*
 * The verifier must see a disk that changed behind the cache: load /f's
 * cache, punch blocks 50-59 with debugfs, verify (--verify=end).
 */
static void divergence(const char *base)
{
	const char *t1 = "open f\n", *t2 = "inode 12\n";
	struct esck_replay_opts opts;
	struct esck_replay_summary sum;
	struct esck_replay_ops ops;
	struct esck_script s1, s2;
	struct esck_replay *r;
	struct div_seen ds;
	char img[512], errbuf[256];

	snprintf(img, sizeof(img), "%s/div.img", dir);
	memset(&opts, 0, sizeof(opts));
	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	memset(&ds, 0, sizeof(ds));
	memset(&ops, 0, sizeof(ops));
	ops.divergence = on_div;
	ops.arg = &ds;
	opts.verify = ESCK_VERIFY_END;
	if (sh("cp %s %s", base, img) ||
	    esck_script_parse("s1", t1, strlen(t1), &s1, errbuf,
			      sizeof(errbuf)) ||
	    esck_script_parse("s2", t2, strlen(t2), &s2, errbuf,
			      sizeof(errbuf)) ||
	    esck_replay_open(img, &opts, &r)) {
		ok(0, "divergence: setup");
		goto out;
	}
	ok(!esck_replay_run(r, &s1, &ops, &sum) && ds.n == 0,
	   "divergence: none before");
	sh("debugfs -w -R 'punch f 50 59' %s >/dev/null 2>&1", img);
	ok(!esck_replay_run(r, &s2, &ops, &sum) && sum.divergences >= 1,
	   "divergence: found after the disk changed");
	ok(ds.extra == 1 && ds.lo == 50 && ds.hi == 59,
	   "divergence: CACHE_EXTRA over blocks 50-59 (%d, %llu-%llu)",
	   ds.extra, (unsigned long long)ds.lo, (unsigned long long)ds.hi);
	esck_replay_close(r);
out:
	esck_script_free(&s1);
	esck_script_free(&s2);
}

/* Block b (1 KiB) of the file, read behind txio's back. */
static int file_block_is(const char *path, unsigned int b, int c)
{
	unsigned char buf[1024];
	FILE *f = fopen(path, "rb");
	size_t i, got;

	if (!f)
		return 0;
	got = fseek(f, (long)b * 1024, SEEK_SET) ? 0 : fread(buf, 1, 1024, f);
	fclose(f);
	for (i = 0; i < got; i++)
		if (buf[i] != c)
			return 0;
	return got == 1024;
}

/*
 * txio itself, on a plain 16 KiB file: writes held until commit, read back
 * from memory, written out once per range; rollback; faults.
 */
static void channel(void)
{
	unsigned char blk[1024], got[1024];
	char path[512];
	io_channel io;
	uint64_t w0;
	errcode_t err;

	snprintf(path, sizeof(path), "%s/chan", dir);
	if (sh("head -c 16384 /dev/zero >%s", path) ||
	    txio_io_manager->open(path, IO_FLAG_RW, &io)) {
		ok(0, "channel: open");
		return;
	}
	io_channel_set_blksize(io, 1024);
	txio_set_fail_write(0);
	txio_set_fail_read(0);

	ok(!txio_begin(io), "channel: begin");
	memset(blk, 'A', sizeof(blk));
	io_channel_write_blk64(io, 2, 1, blk);
	memset(got, 0, sizeof(got));
	ok(!io_channel_read_blk64(io, 2, 1, got) && got[0] == 'A' &&
		   got[1023] == 'A',
	   "channel: a held write is read back");
	ok(file_block_is(path, 2, 0), "channel: ... but not on the disk yet");
	ok(txio_rewrite(io, 1024, 1024) == EBUSY,
	   "channel: no rewrite inside a transaction");
	memset(blk, 'B', sizeof(blk));
	io_channel_write_blk64(io, 2, 1, blk);
	memset(blk, 'C', sizeof(blk));
	io_channel_write_blk64(io, 3, 1, blk);
	memset(blk, 'D', sizeof(blk));
	io_channel_write_blk64(io, 2, 1, blk);
	ok(txio_pending_bytes(io) > 0, "channel: bytes held");
	w0 = txio_writes_seen();
	err = txio_commit(io);
	w0 = txio_writes_seen() - w0;
	ok(!err && w0 == 2, "channel: commit writes each range once (%llu)",
	   (unsigned long long)w0);
	ok(file_block_is(path, 2, 'D') && file_block_is(path, 3, 'C'),
	   "channel: the last writes are on the disk");

	txio_begin(io);
	memset(blk, 'E', sizeof(blk));
	io_channel_write_blk64(io, 4, 1, blk);
	w0 = txio_writes_seen();
	ok(!txio_rollback(io) && txio_writes_seen() == w0 &&
		   file_block_is(path, 4, 0),
	   "channel: a rollback before any write-out writes nothing");

	txio_begin(io);
	memset(blk, 'F', sizeof(blk));
	io_channel_write_blk64(io, 5, 1, blk);
	memset(blk, 'G', sizeof(blk));
	io_channel_write_blk64(io, 6, 1, blk);
	txio_set_fail_write(2);
	err = txio_commit(io);
	ok(err == EIO && file_block_is(path, 5, 'F'),
	   "channel: the second write-out fails, the first is on the disk");
	ok(!txio_rollback(io) && file_block_is(path, 5, 0) &&
		   file_block_is(path, 6, 0) && file_block_is(path, 2, 'D'),
	   "channel: the rollback restores what the transaction wrote");
	txio_set_fail_write(0);

	txio_begin(io);
	txio_set_fail_read(1);
	ok(io_channel_read_blk64(io, 2, 1, got) == EIO,
	   "channel: the first read fails");
	memset(blk, 'H', sizeof(blk));
	io_channel_write_blk64(io, 7, 1, blk);
	ok(txio_commit(io) == EIO,
	   "channel: commit refuses after a read error");
	ok(!txio_rollback(io) && file_block_is(path, 7, 0),
	   "channel: rolled back");
	txio_set_fail_read(0);

	ok(!txio_rewrite(io, 1024, 1024) && file_block_is(path, 1, 0) &&
		   file_block_is(path, 2, 'D'),
	   "channel: a rewrite changes nothing");

	/*
	 * The block cache: what a read kept must never hide a write of ours,
	 * committed or rolled back; an outside change shows after a forget.
	 */
	memset(got, 0, sizeof(got));
	io_channel_read_blk64(io, 8, 1, got);	/* cached: zeros */
	txio_begin(io);
	memset(blk, 'I', sizeof(blk));
	io_channel_write_blk64(io, 8, 1, blk);
	txio_commit(io);
	memset(got, 0, sizeof(got));
	ok(!io_channel_read_blk64(io, 8, 1, got) && got[0] == 'I' && got[1023] == 'I',
	   "cache: a committed write replaces the cached block");
	io_channel_read_blk64(io, 9, 1, got);	/* cached: zeros */
	txio_begin(io);
	memset(blk, 'J', sizeof(blk));
	io_channel_write_blk64(io, 9, 1, blk);
	txio_set_fail_write(1);
	err = txio_commit(io);	/* fails: nothing written */
	txio_set_fail_write(0);
	txio_rollback(io);
	memset(got, 0xff, sizeof(got));
	ok(err == EIO && !io_channel_read_blk64(io, 9, 1, got) && got[0] == 0 &&
		   file_block_is(path, 9, 0),
	   "cache: a rolled-back write is not read back");
	io_channel_read_blk64(io, 10, 1, got);	/* cached: zeros */
	io_channel_read_blk64(io, 10, 1, got);
	sh("printf KKKK | dd of=%s bs=1 seek=%d conv=notrunc 2>/dev/null", path,
	   10 * 1024);
	txio_forget_cache(io);
	memset(got, 0, sizeof(got));
	ok(!io_channel_read_blk64(io, 10, 1, got) && got[0] == 'K' && got[4] == 0,
	   "cache: after a forget, a change made behind the channel is seen");
	ok(!io_channel_close(io), "channel: close");
}

/* One whole-block write of c at block b of a 1 KiB channel. */
static void put(io_channel io, unsigned long long b, int c)
{
	unsigned char blk[1024];

	memset(blk, c, sizeof(blk));
	io_channel_write_blk64(io, b, 1, blk);
}

/* A transaction of whole-block writes: pairs of block and byte, then -1. */
static errcode_t tx(io_channel io, ...)
{
	va_list ap;
	int b;

	txio_begin(io);
	va_start(ap, io);
	while ((b = va_arg(ap, int)) >= 0)
		put(io, (unsigned long long)b, va_arg(ap, int));
	va_end(ap);
	return txio_commit(io);
}

static int reads(io_channel io, unsigned long long b, int c)
{
	unsigned char got[1024];
	size_t i;

	memset(got, c ^ 0xff, sizeof(got));
	if (io_channel_read_blk64(io, b, 1, got))
		return 0;
	for (i = 0; i < sizeof(got); i++)
		if (got[i] != c)
			return 0;
	return 1;
}

/*
 * Group commit: committed transactions held together and read back,
 * written out in block order, adjacent blocks in one write; a failed
 * write-out puts the image back as before the group, and the retry of the
 * write meets the same fault once.
 */
static void group(void)
{
	unsigned char part[100], got[1024];
	char path[512];
	io_channel io;
	uint64_t w0;
	errcode_t err;

	snprintf(path, sizeof(path), "%s/group", dir);
	if (sh("head -c 16384 /dev/zero >%s", path) ||
	    txio_io_manager->open(path, IO_FLAG_RW, &io)) {
		ok(0, "group: open");
		return;
	}
	io_channel_set_blksize(io, 1024);
	txio_set_fail_write(0);
	txio_set_fail_read(0);
	ok(!txio_group_begin(io), "group: begin");
	w0 = txio_writes_seen();
	tx(io, 3, 'A', -1);
	tx(io, 4, 'B', 9, 'C', -1);
	txio_begin(io);
	put(io, 4, 'D');
	memset(part, 'E', sizeof(part));
	io_channel_write_blk64(io, 10, -(int)sizeof(part), part);
	err = txio_commit(io);
	ok(!err && txio_writes_seen() == w0 && file_block_is(path, 3, 0) &&
		   file_block_is(path, 4, 0) && file_block_is(path, 10, 0),
	   "group: three commits write nothing");
	memset(got, 0, sizeof(got));
	io_channel_read_blk64(io, 10, 1, got);
	ok(reads(io, 3, 'A') && reads(io, 4, 'D') && reads(io, 9, 'C') &&
		   got[0] == 'E' && got[99] == 'E' && got[100] == 0,
	   "group: reads see the group, a part of a block included");
	ok(txio_group_bytes(io) == 4 * 1024, "group: holds 4 blocks (%llu bytes)",
	   (unsigned long long)txio_group_bytes(io));
	txio_begin(io);
	put(io, 5, 'X');
	put(io, 4, 'X');
	txio_rollback(io);
	ok(reads(io, 5, 0) && reads(io, 4, 'D') && file_block_is(path, 5, 0),
	   "group: a rolled-back transaction leaves the group as it was");
	w0 = txio_writes_seen();
	err = txio_group_flush(io);
	w0 = txio_writes_seen() - w0;
	ok(!err && w0 == 2 && file_block_is(path, 3, 'A') &&
		   file_block_is(path, 4, 'D') && file_block_is(path, 9, 'C') &&
		   !file_block_is(path, 10, 0) && txio_group_bytes(io) == 0,
	   "group: written out in %llu writes (3-4, 9-10)",
	   (unsigned long long)w0);

	tx(io, 1, 'F', 2, 'G', -1);
	tx(io, 12, 'H', 3, 'I', -1);
	/* Runs 1-3 and 12: the second write fails. */
	txio_set_fail_write(2);
	err = txio_group_flush(io);
	ok(err == EIO && file_block_is(path, 1, 0) && file_block_is(path, 2, 0) &&
		   file_block_is(path, 3, 'A') && file_block_is(path, 12, 0) &&
		   txio_group_bytes(io) == 0,
	   "group: a failed write-out puts back what it wrote before");
	ok(reads(io, 1, 0) && reads(io, 3, 'A') && reads(io, 12, 0),
	   "group: ... and reads see the image as it is");
	tx(io, 12, 'H', -1);
	ok(txio_group_flush(io) == EIO && file_block_is(path, 12, 0),
	   "group: the retry of the failed write fails too");
	tx(io, 12, 'H', -1);
	ok(!txio_group_flush(io) && file_block_is(path, 12, 'H'),
	   "group: ... once");
	txio_set_fail_write(0);

	tx(io, 13, 'J', -1);
	put(io, 14, 'K'); /* outside a transaction */
	ok(file_block_is(path, 13, 'J') && file_block_is(path, 14, 'K'),
	   "group: a write outside a transaction writes the group out first");
	ok(!txio_group_end(io), "group: end");
	tx(io, 15, 'L', -1);
	ok(file_block_is(path, 15, 'L'),
	   "group: after the end, a commit writes at once");
	tx(io, 0, 'M', -1);
	ok(!txio_group_begin(io) && !tx(io, 0, 'N', -1) &&
		   file_block_is(path, 0, 'M') && !io_channel_close(io) &&
		   file_block_is(path, 0, 'N'),
	   "group: a close writes the group out");
}

/* A block's first byte, the larger first. */
static int rank_desc(void *arg, uint64_t blk, const void *data,
		     const void *before)
{
	(void)arg;
	(void)blk;
	(void)before;
	return -(int)((const unsigned char *)data)[0];
}

/*
 * The write-out's order by rank (told by which write a fault falls on:
 * the retry of that one fails too), a group dropped unwritten, and faults
 * held and wound back.
 */
static void group_order(void)
{
	char path[512];
	io_channel io;
	uint64_t w0;
	errcode_t err;

	snprintf(path, sizeof(path), "%s/order", dir);
	if (sh("head -c 16384 /dev/zero >%s", path) ||
	    txio_io_manager->open(path, IO_FLAG_RW, &io)) {
		ok(0, "order: open");
		return;
	}
	io_channel_set_blksize(io, 1024);
	txio_set_fail_write(0);
	txio_set_fail_read(0);
	txio_group_begin(io);
	txio_group_order(io, rank_desc, NULL);
	tx(io, 1, 'A', 2, 'B', 3, 'Z', -1);
	w0 = txio_writes_seen();
	err = txio_group_flush(io);
	w0 = txio_writes_seen() - w0;
	ok(!err && w0 == 3 && file_block_is(path, 1, 'A') &&
		   file_block_is(path, 2, 'B') && file_block_is(path, 3, 'Z'),
	   "order: adjacent blocks of three ranks in %llu writes",
	   (unsigned long long)w0);
	tx(io, 5, 'A', 9, 'Z', -1);
	txio_set_fail_write(1);
	err = txio_group_flush(io);
	ok(err == EIO && file_block_is(path, 5, 0) && file_block_is(path, 9, 0),
	   "order: the first write fails, nothing is left written");
	tx(io, 5, 'A', -1);
	ok(!txio_group_flush(io) && file_block_is(path, 5, 'A'),
	   "order: the lower rank's block was not that write");
	tx(io, 9, 'Z', -1);
	err = txio_group_flush(io);
	tx(io, 9, 'Z', -1);
	ok(err == EIO && !txio_group_flush(io) && file_block_is(path, 9, 'Z'),
	   "order: the higher rank's block, 9, was: its retry failed once");
	txio_set_fail_write(0);

	tx(io, 7, 'Q', 8, 'R', -1);
	ok(!txio_group_drop(io) && txio_group_bytes(io) == 0 &&
		   reads(io, 7, 0) && reads(io, 8, 0) && file_block_is(path, 7, 0),
	   "order: a dropped group writes nothing, and reads see the image");
	tx(io, 7, 'Q', -1);
	ok(file_block_is(path, 7, 'Q'),
	   "order: after a drop, a commit writes at once");

	txio_set_fail_read(2);
	txio_fault_hold(1);
	ok(reads(io, 7, 'Q') && reads(io, 7, 'Q') && txio_reads_seen() == 0,
	   "order: held faults count no read and fail none");
	ok(txio_fault_hold(0) == 1 && reads(io, 7, 'Q') && !reads(io, 7, 'Q'),
	   "order: released, the second read fails");
	txio_fault_set_seen(1, 0);
	ok(!reads(io, 7, 'Q') && reads(io, 7, 'Q'),
	   "order: wound back a read, it fails again, once");
	txio_set_fail_read(0);
	io_channel_close(io);
}

/*
 * Five blocks of one cache set (4096 slots of 1 KiB, 4 ways: blocks 1024
 * apart), read in turn so that each read evicts: every read returns the
 * block's own contents, before and after a committed write to one.
 */
/*
 * A 5 MiB file NAME with 1 KiB blocks 0, 1024, 2048, 3072 and 4096, which
 * share a set of the cache's four ways, all 'a' to 'e', opened through
 * txio with 1 KiB blocks and no faults; 0 if that failed.
 */
static int open_one_set(const char *name, char *path, size_t len,
			io_channel *io)
{
	int i;

	snprintf(path, len, "%s/%s", dir, name);
	if (sh("head -c %d /dev/zero >%s", 5 * 1024 * 1024, path) ||
	    txio_io_manager->open(path, IO_FLAG_RW, io))
		return 0;
	io_channel_set_blksize(*io, 1024);
	txio_set_fail_write(0);
	txio_set_fail_read(0);
	for (i = 0; i < 5; i++)
		sh("head -c 1024 /dev/zero | tr '\\000' '%c' | dd of=%s bs=1024 "
		   "seek=%d conv=notrunc 2>/dev/null",
		   'a' + i, path, i * 1024);
	return 1;
}

static void cache_ways(void)
{
	char path[512];
	io_channel io;
	int i, round, good = 1;

	if (!open_one_set("ways", path, sizeof(path), &io)) {
		ok(0, "ways: open");
		return;
	}
	for (round = 0; round < 3; round++)
		for (i = 0; i < 5; i++)
			good &= reads(io, (unsigned long long)((i + round) % 5) * 1024,
				      'a' + (i + round) % 5);
	ok(good, "ways: five blocks of one set read back, each evicting");
	tx(io, 2 * 1024, 'Z', -1);
	good = file_block_is(path, 2 * 1024, 'Z');
	for (round = 0; round < 2; round++)
		for (i = 4; i >= 0; i--)
			good &= reads(io, (unsigned long long)i * 1024,
				      i == 2 ? 'Z' : 'a' + i);
	ok(good, "ways: ... and after a committed write to one of them");
	io_channel_close(io);
}

/*
 * A mark on a block holds while a read returns what was marked: a write
 * held in a transaction or staged in a group hides it, the group's
 * write-out, a write outside a transaction and a forgotten cache end it;
 * a block not read from the cache cannot be marked.
 */
static void marks(void)
{
	char path[512];
	io_channel io;

	snprintf(path, sizeof(path), "%s/marks", dir);
	if (sh("head -c 65536 /dev/zero >%s", path) ||
	    txio_io_manager->open(path, IO_FLAG_RW, &io)) {
		ok(0, "marks: open");
		return;
	}
	io_channel_set_blksize(io, 1024);
	txio_set_fail_write(0);
	txio_set_fail_read(0);
	txio_mark(io, 3, 7);
	ok(!txio_marked(io, 3, 7), "marks: a block never read is not marked");
	reads(io, 3, 0);
	txio_mark(io, 3, 7);
	ok(txio_marked(io, 3, 7) && !txio_marked(io, 3, 8) &&
	   !txio_marked(io, 4, 7), "marks: a read block is, with its tag only");
	reads(io, 4, 0);
	txio_mark(io, 4, 7);
	txio_begin(io);
	put(io, 3, 'A');
	ok(!txio_marked(io, 3, 7) && txio_marked(io, 4, 7),
	   "marks: a held write hides the mark of its block only");
	txio_mark(io, 3, 8);
	ok(txio_marked(io, 3, 8) && !txio_marked(io, 3, 7),
	   "marks: a held write of the whole block takes one of its own");
	txio_rollback(io);
	ok(txio_marked(io, 3, 7) && !txio_marked(io, 3, 8) && reads(io, 3, 0),
	   "marks: a rollback takes it away and brings back the block and its mark");
	txio_begin(io);
	put(io, 3, 'A');
	io_channel_write_blk64(io, 3, -10, "0123456789");
	txio_mark(io, 3, 9);
	ok(!txio_marked(io, 3, 9) && !txio_marked(io, 3, 7),
	   "marks: one on a block two held writes cover is refused");
	txio_rollback(io);
	txio_group_begin(io);
	txio_begin(io);
	put(io, 3, 'B');
	txio_mark(io, 3, 5);
	txio_commit(io);
	ok(txio_marked(io, 3, 5) && !txio_marked(io, 3, 7) && txio_marked(io, 4, 7),
	   "marks: a marked whole write committed to the group keeps its mark there");
	txio_begin(io);
	io_channel_write_blk64(io, 3, -10, "0123456789");
	ok(!txio_marked(io, 3, 5), "marks: a held part-write over the group's block hides it");
	txio_rollback(io);
	ok(txio_marked(io, 3, 5), "marks: ... and its rollback brings it back");
	tx(io, 3, 'B', -1);
	ok(!txio_marked(io, 3, 5), "marks: an unmarked write committed over it ends it");
	txio_mark(io, 3, 7);
	ok(txio_marked(io, 3, 7) && txio_marked(io, 4, 7),
	   "marks: a block the group holds is marked like any other");
	txio_group_flush(io);
	ok(!txio_marked(io, 3, 7) && reads(io, 3, 'B'),
	   "marks: the write-out's copy in the cache is new contents, unmarked");
	txio_mark(io, 3, 7);
	ok(txio_marked(io, 3, 7), "marks: ... until it is marked again");
	txio_group_end(io);
	put(io, 4, 'C');
	ok(!txio_marked(io, 4, 7) && txio_marked(io, 3, 7),
	   "marks: a write outside a transaction ends its block's mark");
	txio_forget_cache(io);
	ok(!txio_marked(io, 3, 7), "marks: a forgotten cache ends every mark");
	io_channel_close(io);
}

/* Whether txio_peek() gives block b in place and it is all c. */
static int peeks(io_channel io, unsigned long long b, int c)
{
	const unsigned char *got;
	const void *at;
	int i;

	if (txio_peek(io, b, &at) || !at)
		return 0;
	got = at;
	for (i = 0; i < 1024; i++)
		if (got[i] != c)
			return 0;
	return 1;
}

/*
 * txio_peek(): a block in place wherever txio holds it whole (the cache,
 * loaded on a miss; a held write; the group's copy), none where a read
 * pieces it together; pinned blocks are not evicted, and a read past a
 * set of pinned ones still reads right; a peek is a read to fault
 * injection.
 */
static void peek(void)
{
	const void *at, *held[4];
	char path[512];
	io_channel io;
	int i, good = 1;

	if (!open_one_set("peek", path, sizeof(path), &io)) {
		ok(0, "peek: open");
		return;
	}
	ok(peeks(io, 1024, 'b') && reads(io, 1024, 'b'),
	   "peek: a block never read is loaded and given in place");
	txio_unpin(io, NULL);
	txio_begin(io);
	put(io, 7, 'A');
	io_channel_write_blk64(io, 8, -10, "0123456789");
	ok(peeks(io, 7, 'A'), "peek: a held write of the whole block is given");
	ok(!txio_peek(io, 8, &at) && !at && reads(io, 7, 'A'),
	   "peek: a block a held part-write covers is not: a read copies it");
	txio_rollback(io);
	txio_unpin(io, NULL);
	txio_group_begin(io);
	tx(io, 7, 'B', -1);
	ok(peeks(io, 7, 'B'), "peek: the group's copy is given");
	txio_group_end(io);
	txio_unpin(io, NULL);
	/* Blocks 0, 1024, 2048, 3072 and 4096 share a set of four slots. */
	for (i = 0; i < 4; i++) {
		good &= !txio_peek(io, (unsigned long long)i * 1024, &held[i]) &&
			held[i] != NULL;
	}
	good &= reads(io, 4096, 'e');
	for (i = 0; i < 4; i++)
		good &= held[i] && ((const char *)held[i])[0] == 'a' + i &&
			((const char *)held[i])[1023] == 'a' + i;
	ok(good, "peek: four pinned blocks of one set stay while a fifth is read");
	txio_unpin(io, held[1]);
	good = reads(io, 4096, 'e') && peeks(io, 4096, 'e') &&
	       ((const char *)held[0])[0] == 'a' && ((const char *)held[2])[0] == 'c' &&
	       ((const char *)held[3])[0] == 'd';
	ok(good, "peek: one unpinned, the fifth takes its slot and the others stay");
	txio_unpin(io, NULL);
	good = reads(io, 4096, 'e') && peeks(io, 4096, 'e');
	txio_unpin(io, NULL);
	ok(good, "peek: ... and once unpinned, the fifth is cached in their place");
	txio_set_fail_read(1);
	ok(txio_peek(io, 1024, &at) == EIO && !at,
	   "peek: the read fault injection counts a peek as a read");
	txio_set_fail_read(0);
	txio_unpin(io, NULL);
	io_channel_close(io);
}

/*
 * txio's block cache against a model of the file: seeded transactions of
 * writes of whole blocks and of parts of blocks, under 4 KiB and 1 KiB
 * channel sizes (libext2fs switches to 1 KiB for every superblock write),
 * committed, rolled back or failed at write-out.  After each, reads
 * through the channel at both sizes and the file itself must equal the
 * model: a cached block never outlives a change of the disk.
 */
#define MODEL_BYTES (64u * 1024)
static unsigned int model_seed = 12345;

static unsigned int model_rand(unsigned int n)
{
	model_seed = model_seed * 1103515245u + 12345u;
	return (model_seed >> 16) % n;
}

static int model_matches(io_channel io, const char *path,
			 const unsigned char *model)
{
	static unsigned char got[MODEL_BYTES];
	FILE *f = fopen(path, "rb");
	int same, i;

	same = f && fread(got, 1, MODEL_BYTES, f) == MODEL_BYTES &&
	       !memcmp(got, model, MODEL_BYTES);
	if (f)
		fclose(f);
	for (i = 0; i < 8 && same; i++) {
		unsigned int bs = model_rand(2) ? 4096 : 1024;
		unsigned int nb = 1 + model_rand(3);
		unsigned int b = model_rand(MODEL_BYTES / bs - nb + 1);

		io_channel_set_blksize(io, (int)bs);
		same = !io_channel_read_blk64(io, b, (int)nb, got) &&
		       !memcmp(got, model + (size_t)b * bs, (size_t)nb * bs);
		if (same && nb == 1) {
			/* in place, where txio can give it so */
			const void *at;

			same = !txio_peek(io, b, &at) &&
			       (!at || !memcmp(at, model + (size_t)b * bs, bs));
			txio_unpin(io, NULL);
		}
		if (same && bs == 1024) {
			/* the superblock's way: bytes, not blocks */
			same = !io_channel_read_blk64(io, b, -512, got) &&
			       !memcmp(got, model + (size_t)b * bs, 512);
		}
	}
	io_channel_set_blksize(io, 4096);
	return same;
}

static void cache_model(void)
{
	static unsigned char model[MODEL_BYTES], next[MODEL_BYTES],
		buf[3 * 4096];
	char path[512];
	io_channel io;
	int step, bad = -1, i, n, fails = 0, rollbacks = 0;

	snprintf(path, sizeof(path), "%s/model.bin", dir);
	memset(model, 0, sizeof(model));
	if (sh("head -c %u /dev/zero >%s", MODEL_BYTES, path) ||
	    txio_io_manager->open(path, IO_FLAG_RW, &io)) {
		ok(0, "cache model: open");
		return;
	}
	io_channel_set_blksize(io, 1024);
	io_channel_set_blksize(io, 4096);
	for (step = 0; step < 400 && bad < 0; step++) {
		int what = (int)model_rand(4);

		memcpy(next, model, sizeof(next));
		txio_begin(io);
		n = 1 + (int)model_rand(4);
		for (i = 0; i < n; i++) {
			unsigned int bs = model_rand(2) ? 4096 : 1024;
			unsigned int nb = 1 + model_rand(3);
			unsigned int b = model_rand(MODEL_BYTES / bs - nb + 1);
			int part = model_rand(3) == 0;
			size_t len = part ? 1024 : (size_t)nb * bs;

			memset(buf, 'a' + (int)model_rand(26), len);
			io_channel_set_blksize(io, (int)bs);
			io_channel_write_blk64(io, b, part ? -1024 : (int)nb,
					       buf);
			memcpy(next + (size_t)b * bs, buf, len);
			io_channel_set_blksize(io, 4096);
		}
		if (what == 0) {
			txio_rollback(io);
			rollbacks++;
		} else if (what == 1) {
			/* the last write-out fails: all of it goes back */
			txio_set_fail_write(txio_writes_seen() + 1 +
					    model_rand((unsigned int)n));
			if (txio_commit(io)) {
				txio_rollback(io);
				fails++;
			} else {
				memcpy(model, next, sizeof(model));
			}
			txio_set_fail_write(0);
		} else {
			if (txio_commit(io))
				bad = step;
			memcpy(model, next, sizeof(model));
		}
		if (bad < 0 && !model_matches(io, path, model))
			bad = step;
	}
	ok(bad < 0 && fails > 0 && rollbacks > 0,
	   "cache model: 400 transactions (%d failed, %d rolled back), "
	   "reads equal the file and the model (first bad step %d)",
	   fails, rollbacks, bad);
	io_channel_close(io);
}

int main(void)
{
	char base[512], deep[512], data[512];

	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP cannot make a scratch directory\n");
		return 0;
	}
	snprintf(base, sizeof(base), "%s/base.img", dir);
	snprintf(deep, sizeof(deep), "%s/deep.img", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	if (sh("head -c 409600 /dev/urandom | tr '\\000' '\\001' >%s", data) ||
	    sh("mke2fs -q -F -t ext4 -b 1024 -O ^has_journal %s 8M >/dev/null "
	       "2>&1",
	       base) ||
	    sh("debugfs -w -R 'write %s f' %s >/dev/null 2>&1", data, base)) {
		printf("1..0 # SKIP mke2fs or debugfs failed\n");
		sh("rm -rf %s", dir);
		return 0;
	}
	channel();
	group();
	group_order();
	cache_ways();
	marks();
	peek();
	cache_model();
	divergence(base);
	sweep(base, "fpunch-middle", "open f\nfpunch 5000 20000\n");
	sweep(base, "truncate", "open f\ntruncate 100000\n");
	sweep(base, "falloc", "open f\nfalloc 500000 100000\n");
	sweep(base, "open-create", "open -f new\n");

	/*
	 * A fuller root: three punches make four extents; the fourth splits it.
	 */
	if (!sh("cp %s %s", base, deep)) {
		char img[512];
		struct esck_replay_opts opts;
		struct esck_replay_summary sum;
		struct esck_script s;
		struct esck_replay *r;
		char errbuf[256];
		const char *t = "open f\nfpunch 10240 1024\nfpunch 20480 "
				"1024\nfpunch 30720 1024\n";

		memset(&opts, 0, sizeof(opts));
		memset(&s, 0, sizeof(s));
		snprintf(img, sizeof(img), "%s", deep);
		if (!esck_script_parse("prep", t, strlen(t), &s, errbuf,
				       sizeof(errbuf)) &&
		    !esck_replay_open(img, &opts, &r)) {
			esck_replay_run(r, &s, NULL, &sum);
			esck_replay_close(r);
		}
		esck_script_free(&s);
		sweep(deep, "split-root", "open f\nfpunch 102400 1024\n");
		sweep(deep, "truncate-deep", "open f\ntruncate 0\n");
	}
	sh("rm -rf %s", dir);
	return done();
}
