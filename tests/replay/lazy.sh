#!/bin/sh
# lazy.sh --- under --verify=range a file is cached a range at a time, before the ops that reach it: what is cached, and the same results as the whole tree cached
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck

T=$TEST_TMP
# /f: 400 blocks of 1 KiB with every odd one punched: 200 one-block
# extents and 199 holes between them, in a tree of depth 1.
rp_mkimg "$T/base.img" 8M -b 1024 -O ^has_journal
rp_data "$T/f.data" 409600
rp_put "$T/base.img" "$T/f.data" f
awk 'BEGIN { for (b = 1; b < 400; b += 2) printf "punch f %d %d\n", b, b }' |
	debugfs -w -f - "$T/base.img" >/dev/null 2>&1 ||
	test_hard_error "cannot punch /f"
test "$(rp_map "$T/base.img" f | wc -l)" = 200 || test_hard_error "/f is not 200 extents"

# entries OPTIONS... -- SCRIPT-LINES...: the summary's cache_entries.
entries()
{
	_opts=
	while [ "$1" != -- ]; do _opts="$_opts $1"; shift; done
	shift
	printf '%s\n' "$@" >"$T/s"
	cp "$T/base.img" "$T/e.img"
	# shellcheck disable=SC2086 # the options are words
	"$ESCK" replay-truncate --json $_opts "$T/e.img" "$T/s" >"$T/e.out" 2>"$T/e.err" ||
		{ cat "$T/e.err"; test_fail "replay-truncate$_opts failed"; }
	sed -n 's/.*"type":"summary".*"cache_entries":\([0-9]*\).*/\1/p' "$T/e.out"
}

# Opening caches nothing lazily, the whole tree otherwise (and in a dry
# run, whose disk never changes: nothing could be read later).
test "$(entries -- 'open f')" = 0 || test_fail "open: entries cached lazily"
test "$(entries --verify=full -- 'open f')" = 399 || test_fail "open, full: not the whole tree"
test "$(entries --verify=end -- 'open f')" = 399 || test_fail "open, end: not the whole tree"
test "$(entries -n -- 'open f')" = 399 || test_fail "open, dry run: not the whole tree"

# A punch of block 100 caches blocks 99-101 (hole, extent, hole), then
# removes 100 and caches it as a hole: one hole entry over 99-101.  With
# the whole tree, those three entries become that one.
test "$(entries -- 'open f' 'fpunch 100k 1k')" = 1 || test_fail "fpunch: lazily cached"
test "$(entries --verify=full -- 'open f' 'fpunch 100k 1k')" = 397 ||
	test_fail "fpunch, full: entries"
# Block 99 is a hole between two extents: all three stay cached.
test "$(entries -- 'open f' 'fpunch 99k 1k')" = 3 || test_fail "fpunch of a hole: lazily cached"
# Two blocks apart, the second punch caches 101-103 where nothing is:
# 102 and 103, then one hole over 99-103.
test "$(entries -- 'open f' 'fpunch 100k 1k' 'fpunch 102k 1k')" = 1 ||
	test_fail "two punches: lazily cached"
# A truncate reads only its new last block and the one before (198, an
# extent, and 199, a hole): what lies past them leaves the cache.
test "$(entries -- 'open f' 'truncate 200k')" = 2 || test_fail "truncate: lazily cached"
# A write caches its range and a block on each side, then the holes in it
# become delayed: 49 W 50 D 51 W 52 D 53 W.
test "$(entries -- 'open f' 'pwrite -q 50k 3k')" = 5 || test_fail "pwrite: lazily cached"

# The same scripts, cached lazily and whole, give the same results: the
# ops decide from the disk, and the cache is only compared.  Seeded
# random mixes of every op, aligned and not, on /f and on a new file.
n=${LAZY_SCRIPTS:-12}
i=1
while [ "$i" -le "$n" ]; do
	awk -v seed="$i" 'BEGIN {
		srand(seed)
		print "open f"
		for (k = 0; k < 60; k++) {
			if (k == 30) print "open -f g"
			r = rand()
			off = int(rand() * 420) * 1024 + (rand() < 0.3 ? int(rand() * 1024) : 0)
			len = (int(rand() * 12) + 1) * 1024 + (rand() < 0.3 ? int(rand() * 1024) : 0)
			if (r < 0.35) printf "fpunch %d %d\n", off, len
			else if (r < 0.5) printf "falloc %s%d %d\n", (rand() < 0.5 ? "-k " : ""), off, len
			else if (r < 0.7) printf "pwrite -q -S 0x%02x %d %d\n", int(rand() * 255) + 1, off, len
			else if (r < 0.8) printf "truncate %d\n", int(rand() * 440) * 1024 + int(rand() * 1024)
			else if (r < 0.9) print "fsync"
			else printf "fpunch %d %d\n", off, int(rand() * 3000) + 1
		}
	}' >"$T/r.s"
	for mode in range full; do
		cp "$T/base.img" "$T/$mode.img"
		"$ESCK" replay-truncate --verify=$mode "$T/$mode.img" "$T/r.s" \
			>"$T/$mode.out" 2>"$T/$mode.err"
		echo $? >"$T/$mode.st"
		rp_fsck "$T/$mode.img"
	done
	tail -n 1 "$T/range.out" | grep -q ' 0 divergences$' ||
		{ tail -n 3 "$T/range.out"; test_fail "seed $i: divergences, cached lazily"; }
	cmp -s "$T/range.st" "$T/full.st" && cmp -s "$T/range.out" "$T/full.out" &&
		cmp -s "$T/range.err" "$T/full.err" ||
		test_fail "seed $i: output or exit status differ, lazily and whole"
	for file in f g; do
		for mode in range full; do
			rp_map "$T/$mode.img" $file >"$T/$mode.map"
			rp_stat "$T/$mode.img" $file Size >>"$T/$mode.map"
			debugfs -R "dump $file $T/$mode.data" "$T/$mode.img" >/dev/null 2>&1
		done
		cmp -s "$T/range.map" "$T/full.map" && cmp -s "$T/range.data" "$T/full.data" ||
			test_fail "seed $i: /$file differs, lazily and whole"
	done
	i=$((i + 1))
done

test_done
