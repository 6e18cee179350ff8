#!/bin/sh
# pwrite.sh --- replay-truncate pwrite and fsync: delayed allocation, writeback, partial blocks, truncate/punch over dirty data, rollback
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck dumpe2fs

# Expected results are the kernel's (Linux 6.x, delalloc): the same
# scripts are tests/kdiff/cases/pwrite-*.esck and friends, checked against
# a loop mount there.  Blocks are 1 KiB.
img=$TEST_TMP/a.img
rp_mkimg "$TEST_TMP/base.img" 8M -b 1024 -O ^has_journal

ncase=0
# replay NAME SCRIPT-LINES...: a fresh image, the script run on it; status in
# $st, output in out/err.
replay()
{
	name=$1
	shift
	ncase=$((ncase + 1))
	cp "$TEST_TMP/base.img" "$img"
	printf '%s\n' "$@" >"$TEST_TMP/s"
	"$ESCK" replay-truncate $ESCK_ARGS "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	st=$?
}

ok_status()
{
	test "$st" -eq "${1:-0}" ||
		{ cat "$TEST_TMP/out" "$TEST_TMP/err"; test_fail "$name: exit $st, want ${1:-0}"; }
}

expect_map()
{
	rp_map "$img" f >"$TEST_TMP/map"
	printf '%s\n' "$1" | sed '/^$/d' >"$TEST_TMP/map.exp"
	cmp -s "$TEST_TMP/map" "$TEST_TMP/map.exp" ||
		{ echo "got:"; cat "$TEST_TMP/map"; echo "want:"; cat "$TEST_TMP/map.exp"; test_fail "$name: map"; }
}

# expect: a SIZE-byte file of zeros, then FILL OFFSET LENGTH (FILL in octal)
# triples written over it in order; compared with /f's content.
expect()
{
	_size=$1
	shift
	head -c "$_size" /dev/zero >"$TEST_TMP/exp"
	while [ $# -ge 3 ]; do
		head -c "$3" /dev/zero | tr '\000' "\\$1" |
			dd of="$TEST_TMP/exp" oflag=seek_bytes seek="$2" conv=notrunc 2>/dev/null
		shift 3
	done
	rm -f "$TEST_TMP/got"
	debugfs -R "dump f $TEST_TMP/got" "$img" >/dev/null 2>&1
	cmp "$TEST_TMP/exp" "$TEST_TMP/got" ||
		test_fail "$name: content"
	test "$(rp_stat "$img" f Size)" = "$_size" || test_fail "$name: i_size"
}

# i_blocks in 1 KiB blocks, tree blocks left out.
expect_blocks()
{
	test "$(rp_data_sectors "$img" f)" = $(($1 * 2)) ||
		test_fail "$name: i_blocks $(rp_data_sectors "$img" f), want $(($1 * 2)) sectors"
}

# A write into holes, written back by fsync: blocks 0-3, the rest of the
# last block zero.
replay hole 'open -f f' 'pwrite -S 0x41 100 3000' 'fsync'
ok_status
expect_map "0 3 W"
expect 3100 101 100 3000
expect_blocks 4
rp_fsck "$img"
grep -q '^2: pwrite -S 0x41 100 3000: ok$' "$TEST_TMP/out" || test_fail "hole: op line"
grep -q '^3: fsync: ok$' "$TEST_TMP/out" || test_fail "hole: fsync line"

# No fsync: the end of the script writes back (the unmount would); the
# default fill is 0xcd.
replay end-of-script 'open -f f' 'pwrite 0 5000'
ok_status
expect_map "0 4 W"
expect 5000 315 0 5000
rp_fsck "$img"

# Partial blocks over written data keep the data around them; a partial
# block over dirty data keeps the dirty data (pages in the page cache).
replay partial 'open -f f' 'pwrite -S 0x61 0 8192' 'fsync' \
	'pwrite -S 0x62 1000 10' 'pwrite -S 0x63 1005 10' 'pwrite -S 0x64 9000 100' \
	'pwrite -S 0x65 9050 10' 'fsync'
ok_status
expect_map "0 8 W"
expect 9100 141 0 8192 142 1000 10 143 1005 10 144 9000 100 145 9050 10
expect_blocks 9
rp_fsck "$img"

# Into unwritten extents: only the blocks written are converted (split),
# the rest of a partial block is zeros; a write past a preallocation
# beyond EOF raises i_size.
replay unwritten 'open -f f' 'falloc 0 32k' 'falloc -k 40k 8k' 'fsync' \
	'pwrite -S 0x71 5000 3000' 'pwrite -S 0x72 41000 10' 'fsync'
ok_status
expect_map "0 3 U
4 7 W
8 31 U
40 40 W
41 47 U"
expect 41010 161 5000 3000 162 41000 10
expect_blocks 40
rp_fsck "$img"

# Truncate down over dirty data: the dirty blocks past EOF are dropped
# unwritten, the new last block's tail zeroed; extending again shows zeros.
replay truncate 'open -f f' 'pwrite -S 0x51 0 10000' 'truncate 3000' 'truncate 6000'
ok_status
expect_map "0 2 W"
expect 6000 121 0 3000
expect_blocks 3
rp_fsck "$img"
# Truncate to 0 with dirty data, then a rewrite (auto_da_alloc's pattern).
replay truncate-0 'open -f f' 'pwrite -S 0x51 0 100k' 'fsync' 'pwrite -S 0x52 50000 100000' \
	'truncate 0' 'pwrite -S 0x53 0 3000'
ok_status
expect_map "0 2 W"
expect 3000 123 0 3000
expect_blocks 3
rp_fsck "$img"

# fpunch over dirty blocks: whole blocks [1, 3) go with their dirty data,
# the edges are zeroed in the dirty data.
replay punch 'open -f f' 'pwrite -S 0x31 0 8192' 'fpunch 1000 3000'
ok_status
expect_map "0 0 W
3 7 W"
expect 8192 61 0 1000 61 4000 4192
expect_blocks 6
rp_fsck "$img"
# ... and over dirty data on unwritten blocks.
replay punch-unwritten 'open -f f' 'falloc 0 16k' 'pwrite -S 0x32 2048 4096' 'fpunch 3000 2000' 'fsync'
ok_status
expect_map "0 1 U
2 2 W
4 5 W
6 15 U"
expect 16384 62 2048 952 62 5000 1144
rp_fsck "$img"

# falloc over delayed blocks: they become unwritten, still dirty, and are
# written and converted at writeback.
replay falloc-over-delayed 'open -f f' 'pwrite -S 0x33 2048 2048' 'falloc 0 8k'
ok_status
expect_map "0 1 U
2 3 W
4 7 U"
expect 8192 63 2048 2048
rp_fsck "$img"

# Two files dirty at the end, fsync twice, fsync with nothing dirty.
replay files 'open -f g' 'pwrite -S 0x10 0 3000' 'open -f f' 'fsync' 'pwrite -S 0x11 0 2000' \
	'fsync' 'fsync'
ok_status
grep -q '^4: fsync: ok (no-op)$' "$TEST_TMP/out" || test_fail "files: fsync of a clean file is a no-op"
grep -q '^7: fsync: ok (no-op)$' "$TEST_TMP/out" || test_fail "files: second fsync is a no-op"
expect 2000 21 0 2000
test "$(rp_stat "$img" g Size)" = 3000 || test_fail "files: g's size"
rp_map "$img" g | grep -qx '0 2 W' || test_fail "files: g not written back"
rp_fsck "$img"

# Every verification mode agrees, and the JSON op record has the fill.
for v in range full end; do
	ESCK_ARGS="--verify=$v --json"
	replay "verify=$v" 'open -f f' 'pwrite -S 0x41 100 3000' 'falloc 0 16k' 'pwrite 9000 100' \
		'truncate 9050' 'fpunch 0 1500' 'fsync' 'pwrite -S 7 12000 1'
	ok_status
	grep -q '"op":"pwrite","ino":12,"offset":100,"length":3000,"fill":65,"result":"ok"' \
		"$TEST_TMP/out" || { cat "$TEST_TMP/out"; test_fail "$name: json op record"; }
	grep -q '"divergences":0' "$TEST_TMP/out" || test_fail "$name: divergences"
	rp_fsck "$img"
done
ESCK_ARGS=

# Refusals and no-ops as the kernel: a directory, past the largest file,
# a zero length.
replay refusals 'inode 2' 'pwrite 0 10' 'open -f f' 'pwrite 0x3fffffffc00 1' 'pwrite 0 0'
ok_status 8
grep -q 's:2: pwrite: Is a directory' "$TEST_TMP/err" || test_fail "refusals: directory"
grep -q 's:4: pwrite: File too large' "$TEST_TMP/err" || test_fail "refusals: EFBIG"
grep -q '^5: pwrite -S 0xcd 0 0: ok (no-op)$' "$TEST_TMP/out" || test_fail "refusals: zero length"

# A dry run: the cache only, the image untouched.
cp "$TEST_TMP/base.img" "$img"
printf 'open -f f\npwrite 0 10000\nfsync\nopen -f g\npwrite 5 5\n' >"$TEST_TMP/s"
cp "$img" "$TEST_TMP/before.img"
"$ESCK" replay-truncate -n "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>"$TEST_TMP/err" ||
	{ cat "$TEST_TMP/err"; test_fail "dry run: exit $?"; }
cmp -s "$img" "$TEST_TMP/before.img" || test_fail "dry run: the image changed"
ncase=$((ncase + 1))

# All or nothing: fail the Nth image write.  A failed pwrite changes
# nothing; a failed fsync leaves the data dirty, and the end of the script
# writes it back; a failed writeback at the end leaves the image as before
# it.  The image is always e2fsck clean, its content one of those states.
name=fail-write
n=1
while [ $n -le 40 ]; do
	cp "$TEST_TMP/base.img" "$img"
	printf 'open -f f\npwrite -S 0x44 0 5000\nfsync\npwrite -S 0x45 3000 3000\n' >"$TEST_TMP/s"
	"$ESCK" replay-truncate --fail-write=$n "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	st=$?
	rp_fsck "$img"
	rm -f "$TEST_TMP/got"
	debugfs -R "dump f $TEST_TMP/got" "$img" >/dev/null 2>&1
	sum=$(od -An -tx1 -v "$TEST_TMP/got" | tr -s ' \n' '\n\n' | sed '/^$/d' | uniq -c | tr -s ' ' | tr '\n' ';')
	case $st:$sum in
	0:" 3000 44; 3000 45;") ;;		# no failure (n past the last write)
	8:" 3000 44; 3000 45;") ;;		# fsync failed, the end wrote it back
	8:" 5000 44;") ;;			# the second pwrite failed
	8:" 5000 44; 1000 00;") ;;		# the writeback at the end failed
	8:" 3000 00; 3000 45;") ;;		# the first pwrite failed
	8:*) test -s "$TEST_TMP/got" && test_fail "fail-write $n: content $sum" ;;
	*) cat "$TEST_TMP/err"; test_fail "fail-write $n: exit $st, content $sum" ;;
	esac
	grep -q 'cache and disk disagree' "$TEST_TMP/err" && test_fail "fail-write $n: divergence"
	[ $st -eq 0 ] && break
	n=$((n + 1))
done
[ $st -eq 0 ] || test_fail "fail-write: still failing at write $n"
ncase=$((ncase + 1))

# Out of space: the kernel's write stops short at the page holding the
# first block its delalloc reservation refuses (root may use the reserved
# blocks, not s_resv_clusters), xfs_io reports ENOSPC; what was written
# stays.  Compared with the kernel where loop mounts work.
name=enospc
ncase=$((ncase + 1))
rp_mkimg "$TEST_TMP/small.img" 8M -b 1024
cp "$TEST_TMP/small.img" "$img"
printf 'open -f f\npwrite -S 0x41 0 20m\n' >"$TEST_TMP/s"
"$ESCK" replay-truncate "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
st=$?
ok_status 8
grep -q 's:2: pwrite: No space left on device' "$TEST_TMP/err" || test_fail "enospc: message"
size=$(rp_stat "$img" f Size)
test $((size % 4096)) -eq 0 && test "$size" -gt 6000000 || test_fail "enospc: size $size"
rp_fsck "$img"
if rp_kernel_ok; then
	cp "$TEST_TMP/small.img" "$TEST_TMP/kern.img"
	rp_kernel "$TEST_TMP/kern.img" "$TEST_TMP/s"
	test "$(rp_stat "$TEST_TMP/kern.img" f Size)" = "$size" ||
		test_fail "enospc: size $size, kernel $(rp_stat "$TEST_TMP/kern.img" f Size)"
	grep -q 'No space left on device' "$TEST_TMP/xfs_io.out" || test_fail "enospc: the kernel did not refuse"
fi

echo "pwrite.sh: $ncase cases"
test_done
