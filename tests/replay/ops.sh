#!/bin/sh
# ops.sh --- replay-truncate per op: expected maps, errors, dry run, syntax, ENOSPC, the last block
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck dumpe2fs

img=$TEST_TMP/a.img
# /f: 100 blocks of 1 KiB, one extent.
rp_mkimg "$img" 8M -b 1024 -O ^has_journal
rp_data "$TEST_TMP/f.data" 102400
rp_put "$img" "$TEST_TMP/f.data" f
cp "$img" "$TEST_TMP/base.img"

# replay SCRIPT-LINES...: run on $img; status in $st, output in out/err.
replay()
{
	printf '%s\n' "$@" >"$TEST_TMP/s"
	"$ESCK" replay-truncate "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	st=$?
}

expect_map()
{
	rp_map "$img" "$1" >"$TEST_TMP/map"
	printf '%s\n' "$2" | sed '/^$/d' >"$TEST_TMP/map.exp"
	cmp -s "$TEST_TMP/map" "$TEST_TMP/map.exp" ||
		{ echo "got:"; cat "$TEST_TMP/map"; test_fail "$3: map of $1"; }
}

# fpunch inside the extent: [ceil(5000/1024), 25000/1024) = blocks 5..23.
replay 'open f' 'fpunch 5000 20000'
test $st -eq 0 || { cat "$TEST_TMP/err"; test_fail "fpunch: exit $st"; }
expect_map f "0 4 W
24 99 W" fpunch
test "$(rp_stat "$img" f Size)" = 102400 || test_fail "fpunch changed i_size"
test "$(rp_stat "$img" f Blockcount)" = $((81 * 2)) || test_fail "fpunch: i_blocks"
rp_fsck "$img"
grep -q '^2: fpunch 5000 20000: ok$' "$TEST_TMP/out" || test_fail "fpunch: op line"
# The partial head (bytes 5000..5119 of block 4) reads back as zeros.
debugfs -R "dump f $TEST_TMP/f.out" "$img" >/dev/null 2>&1
test "$(dd if="$TEST_TMP/f.out" bs=1 skip=5000 count=120 2>/dev/null | tr -d '\000' | wc -c)" = 0 ||
	test_fail "fpunch: partial head not zeroed"
test "$(dd if="$TEST_TMP/f.out" bs=1 skip=4999 count=1 2>/dev/null | tr -d '\000' | wc -c)" = 1 ||
	test_fail "fpunch: zeroed before the range"

# fpunch at or past EOF: a no-op.
replay 'open f' 'fpunch 102400 4096'
test $st -eq 0 || test_fail "fpunch past EOF: exit $st"
grep -q 'ok (no-op)' "$TEST_TMP/out" || test_fail "fpunch past EOF: not a no-op"

# Kernel refusals: exit bit 8, FILE:LINE: OP: message, the replay goes on.
replay 'open f' 'fpunch 0 0' 'falloc 0 0' 'truncate 0x100000000000000' 'open nosuch' 'fpunch 0 1024'
test $st -eq 8 || test_fail "refusals: exit $st, want 8"
grep -q "s:2: fpunch: Invalid argument" "$TEST_TMP/err" || test_fail "fpunch 0 0: message"
grep -q "s:3: falloc: Invalid argument" "$TEST_TMP/err" || test_fail "falloc 0 0: message"
grep -q "s:4: truncate: File too large" "$TEST_TMP/err" || test_fail "truncate huge: message"
grep -q "s:5: open: No such file or directory" "$TEST_TMP/err" || test_fail "open nosuch: message"
grep -q '^6: fpunch 0 1024: ok$' "$TEST_TMP/out" || test_fail "the replay did not go on after errors"
expect_map f "1 4 W
24 99 W" "fpunch after errors"
replay 'inode 2' 'fpunch 0 1024' 'pwrite 0 10'
test $st -eq 8 || test_fail "fpunch on a directory: exit $st"
grep -q 's:2: fpunch: Is a directory' "$TEST_TMP/err" || test_fail "fpunch on a directory: message"
grep -q 's:3: pwrite: Is a directory' "$TEST_TMP/err" || test_fail "pwrite on a directory: message"

# truncate: the tail of the new last block zeroed, everything past it freed.
replay 'open f' 'falloc -k 200000 10000' 'truncate 50000'
test $st -eq 0 || test_fail "truncate: exit $st"
expect_map f "1 4 W
24 48 W" truncate
test "$(rp_stat "$img" f Size)" = 50000 || test_fail "truncate: i_size"
rp_fsck "$img"
debugfs -R "dump f $TEST_TMP/f.out" "$img" >/dev/null 2>&1
test "$(dd if="$TEST_TMP/f.out" bs=1 skip=48 count=976 2>/dev/null | wc -c)" = 976 || true
test "$(debugfs -R stats "$img" 2>/dev/null | sed -n 's/^Last orphan inode: *//p')" = "" ||
	test_fail "truncate left the inode on the orphan list"
# falloc past EOF, then truncate to the same size frees it (the kernel does).
replay 'open f' 'falloc -k 60000 5000' 'truncate 50000'
expect_map f "1 4 W
24 48 W" "truncate to the same size"
# extend: i_size only.
replay 'open f' 'truncate 200000'
expect_map f "1 4 W
24 48 W" "truncate extend"
test "$(rp_stat "$img" f Size)" = 200000 || test_fail "truncate extend: i_size"
# falloc: unwritten over the holes only, i_size raised; -k keeps it.
replay 'open f' 'falloc 0 30720' 'falloc -k 300000 1024'
expect_map f "0 0 U
1 4 W
5 23 U
24 48 W
292 293 U" falloc
test "$(rp_stat "$img" f Size)" = 200000 || test_fail "falloc: i_size"
replay 'open f' 'falloc 199000 2000'
test "$(rp_stat "$img" f Size)" = 201000 || test_fail "falloc: i_size not raised"
rp_fsck "$img"
# open -f creates an empty extent-mapped file.
replay 'open -f dir-less' 'falloc 0 4096' 'truncate 100'
test $st -eq 0 || test_fail "open -f: exit $st"
expect_map dir-less "0 0 U" "open -f"
test "$(rp_stat "$img" dir-less Size)" = 100 || test_fail "open -f: i_size"
rp_fsck "$img"

# JSON Lines.
printf 'open f\nfpunch 0 1\n' >"$TEST_TMP/s"
"$ESCK" replay-truncate --json "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>&1 || test_fail "json: exit $?"
grep -q '^{"type":"op","line":2,"op":"fpunch","ino":12,"offset":0,"length":1,"result":"ok"}$' \
	"$TEST_TMP/out" || { cat "$TEST_TMP/out"; test_fail "json: op record"; }
tail -n 1 "$TEST_TMP/out" | grep -q '^{"type":"summary","ops":2,"ok":2,"failed":0,"divergences":0' ||
	test_fail "json: summary record"

# A syntax error: exit 16 before the image is opened; nothing changes.
cp "$img" "$TEST_TMP/before.img"
printf 'open f\nfpunch 0\n' | "$ESCK" replay-truncate "$img" - >"$TEST_TMP/out" 2>"$TEST_TMP/err"
st=$?
test $st -eq 16 || test_fail "syntax error: exit $st"
grep -q '^<stdin>:2: ' "$TEST_TMP/err" || { cat "$TEST_TMP/err"; test_fail "syntax error: message"; }
cmp -s "$img" "$TEST_TMP/before.img" || test_fail "syntax error: the image changed"

# -n: the cache only, the image untouched.
printf 'open f\nfpunch 0 50000\ntruncate 0\nfalloc 0 100000\nopen -f new\ntruncate 10\n' >"$TEST_TMP/s"
"$ESCK" replay-truncate -n "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>&1
st=$?
test $st -eq 0 || { cat "$TEST_TMP/out"; test_fail "dry run: exit $st"; }
cmp -s "$img" "$TEST_TMP/before.img" || test_fail "dry run: the image changed"

# --verify=full and =end on a fresh image agree too.
cp "$TEST_TMP/base.img" "$img"
for v in full end; do
	printf 'open f\nfpunch 3000 9000\ntruncate 70000\n' >"$TEST_TMP/s"
	"$ESCK" replay-truncate --verify=$v "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>&1 ||
		{ cat "$TEST_TMP/out"; test_fail "--verify=$v: exit $?"; }
done

# An extent ending at the filesystem's last block (libext2fs 1.47.0's
# punch_extent_blocks refuses it after editing the tree): /big fills a
# 4096-block filesystem to its last block.
full=$TEST_TMP/full.img
rp_mkimg "$full" 4M -b 1024 -O ^has_journal
free=$(dumpe2fs -h "$full" 2>/dev/null | sed -n 's/^Free blocks: *//p')
rp_data "$TEST_TMP/big.data" $((free * 1024))
rp_put "$full" "$TEST_TMP/big.data" big
last=$(debugfs -R "ex big" "$full" 2>/dev/null | awk 'END { print $10 }')
test "$last" = 4095 || test_hard_error "/big does not reach the last block ($last)"
nblk=$free
img=$full
replay 'open big' "fpunch $(((nblk - 10) * 1024 - 300)) 100000"
test $st -eq 0 || { cat "$TEST_TMP/err"; test_fail "last block: exit $st"; }
rp_map "$full" big | tail -n 1 | cut -d' ' -f2- >"$TEST_TMP/map"
test "$(cat "$TEST_TMP/map")" = "$((nblk - 11)) W" || { cat "$TEST_TMP/map"; test_fail "last block: map"; }
rp_fsck "$full"
replay 'open big' "truncate $(((nblk - 20) * 1024))"
test "$(rp_map "$full" big | tail -n 1 | cut -d' ' -f2-)" = "$((nblk - 21)) W" ||
	test_fail "last block: truncate"
rp_fsck "$full"

# A punch strictly inside an extent on a full filesystem whose root is full:
# the split needs a block; it either gets one or fails with ENOSPC, the image
# untouched.
rp_mkimg "$full" 4M -b 1024 -O ^has_journal
# Where the fresh filesystem's free space is broken, a punch falls: four
# one-level extents, the last three blocks long.
replay 'open -f small' 'falloc 0 9216' 'fpunch 1024 1024' 'fpunch 3072 1024' 'fpunch 5120 1024'
test "$(rp_depth "$full" small)" = 0 &&
	test "$(debugfs -R "ex small" "$full" 2>/dev/null | awk 'NR == 2 { print $4 }')" = 4 ||
	test_hard_error "could not build a full root"
free=$(dumpe2fs -h "$full" 2>/dev/null | sed -n 's/^Free blocks: *//p')
rp_data "$TEST_TMP/big.data" $((free * 1024))
rp_put "$full" "$TEST_TMP/big.data" big
test "$(dumpe2fs -h "$full" 2>/dev/null | sed -n 's/^Free blocks: *//p')" = 0 ||
	test_hard_error "could not fill the filesystem"
cp "$full" "$TEST_TMP/before.img"
replay 'open small' 'fpunch 7168 1024'
if test $st -eq 0; then
	expect_map small "0 0 U
2 2 U
4 4 U
6 6 U
8 8 U" "full fs punch"
	rp_fsck "$full"
else
	test $st -eq 8 || test_fail "full fs: exit $st"
	grep -q 'No space left on device' "$TEST_TMP/err" || { cat "$TEST_TMP/err"; test_fail "full fs: message"; }
	cmp -s "$full" "$TEST_TMP/before.img" || test_fail "full fs: failed op changed the image"
fi
# Some free blocks: the reservation takes one and the root splits (depth 1).
bigsize=$(rp_stat "$full" big Size)
replay 'open big' "truncate $((bigsize - 10240))"
free=$(dumpe2fs -h "$full" 2>/dev/null | sed -n 's/^Free blocks: *//p')
test "$free" -gt 0 || test_hard_error "truncating /big freed nothing"
replay 'open small' 'fpunch 7168 1024'
test $st -eq 0 || { cat "$TEST_TMP/err"; test_fail "split punch: exit $st"; }
expect_map small "0 0 U
2 2 U
4 4 U
6 6 U
8 8 U" "punch with one reserved block"
test "$(rp_depth "$full" small)" = 1 || test_fail "split punch: the root did not split"
test "$(dumpe2fs -h "$full" 2>/dev/null | sed -n 's/^Free blocks: *//p')" = "$free" ||
	test_fail "split punch: free count (one block freed, one leaf taken)"
rp_fsck "$full"

# A mounted image is refused (exit 8) unless -f.
if rp_kernel_ok; then
	mount -o loop "$full" "$TEST_TMP/mnt"
	printf 'open small\ntruncate 0\n' >"$TEST_TMP/s"
	"$ESCK" replay-truncate "$full" "$TEST_TMP/s" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	st=$?
	umount "$TEST_TMP/mnt"
	test $st -eq 8 || test_fail "mounted: exit $st"
	grep -q 'is mounted' "$TEST_TMP/err" || test_fail "mounted: message"
fi
test_done
