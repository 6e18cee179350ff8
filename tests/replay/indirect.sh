#!/bin/sh
# indirect.sh --- replay-truncate on block-mapped (ext3) files: punch, truncate, pwrite through direct, IND, DIND, TIND
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck cmp dd

# The expected maps are the kernel's (ext4_ind_remove_space,
# ext4_ind_truncate; tests/kdiff checks the same against a loop mount).
# With 1 KiB blocks: direct 0-11, IND 12-267, DIND 268-65803 (an IND per
# 256 blocks: 268-523, 524-779, 780-1035, ...), TIND from 65804.

# ind_mkimg IMG BS: an ext3 image, block-mapped files.
ind_mkimg()
{
	mke2fs -q -F -t ext3 -b "$2" -U "$TEST_UUID" -E hash_seed="$TEST_HASH_SEED" \
		"$1" 64M >/dev/null 2>&1 || test_hard_error "mke2fs $1 failed"
}

# ind_map IMG PATH: the data as "first last" runs (logically adjacent ones
# merged), then "ind I dind D tind T", the indirect blocks by level.
ind_map()
{
	debugfs -R "stat $2" "$1" 2>/dev/null | sed -n '/^BLOCKS:/,/^TOTAL/p' |
	tr ',' '\n' | awk '
	/\(IND\)/ { i++; next }
	/\(DIND\)/ { d++; next }
	/\(TIND\)/ { t++; next }
	/\([0-9]/ {
		r = $0; sub(/^[^(]*\(/, "", r); sub(/\).*/, "", r)
		n = split(r, a, "-"); s = a[1]; e = (n > 1) ? a[2] : a[1]
		if (have && s == pe + 1) { pe = e; next }
		if (have) print ps, pe
		ps = s; pe = e; have = 1
	}
	END { if (have) print ps, pe; print "ind", i + 0, "dind", d + 0, "tind", t + 0 }'
}

ncase=0
# replay NAME SCRIPT-LINES...: a fresh copy of $base, the script run on it.
replay()
{
	name=$1
	shift
	ncase=$((ncase + 1))
	cp "$base" "$img"
	printf '%s\n' "$@" >"$TEST_TMP/s"
	"$ESCK" replay-truncate --verify=full $ESCK_ARGS "$img" "$TEST_TMP/s" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err"
	st=$?
}

ok_status()
{
	test "$st" -eq "${1:-0}" ||
		{ cat "$TEST_TMP/out" "$TEST_TMP/err"; test_fail "$name: exit $st, want ${1:-0}"; }
	grep -q ' 0 divergences' "$TEST_TMP/out" ||
		{ cat "$TEST_TMP/out"; test_fail "$name: cache and disk diverge"; }
}

# expect FILE MAP BLOCKCOUNT: the map, i_blocks (512-byte units), e2fsck.
expect()
{
	ind_map "$img" "$1" >"$TEST_TMP/map"
	printf '%s\n' "$2" >"$TEST_TMP/map.exp"
	cmp -s "$TEST_TMP/map" "$TEST_TMP/map.exp" ||
		{ echo "got:"; cat "$TEST_TMP/map"; echo "want:"; cat "$TEST_TMP/map.exp"; test_fail "$name: map"; }
	got=$(rp_stat "$img" "$1" Blockcount)
	test "$got" = "$3" || test_fail "$name: i_blocks $got, want $3"
	rp_fsck "$img"
}

# expect_data FILE BYTES: the file's content is $TEST_TMP/want, cut to BYTES.
expect_data()
{
	debugfs -R "dump $1 $TEST_TMP/got" "$img" >/dev/null 2>&1
	head -c "$2" "$TEST_TMP/want" >"$TEST_TMP/want.cut"
	cmp -s "$TEST_TMP/got" "$TEST_TMP/want.cut" || test_fail "$name: content of $1"
}

# want_zero OFF LEN: $TEST_TMP/want with LEN zero bytes at OFF.
want_zero()
{
	dd if=/dev/zero of="$TEST_TMP/want" bs=1 seek="$1" count="$2" conv=notrunc 2>/dev/null
}

# ---- 1 KiB blocks: /f, 1005 blocks, its DIND holding three IND blocks ----
img=$TEST_TMP/a.img
base=$TEST_TMP/base1k.img
ind_mkimg "$base" 1024
rp_data "$TEST_TMP/f.data" $((1005 * 1024))
rp_put "$base" "$TEST_TMP/f.data" f
full='0 1004
ind 4 dind 1 tind 0'
name=setup
cp "$base" "$img"
expect f "$full" $((1010 * 2))

replay punch-direct 'open f' 'fpunch 2048 3072'
ok_status
expect f '0 1
5 1004
ind 4 dind 1 tind 0' $((1007 * 2))
cp "$TEST_TMP/f.data" "$TEST_TMP/want"
want_zero 2048 3072
expect_data f $((1005 * 1024))

# Across the direct/IND boundary, unaligned: blocks 10-13 go, the partial
# head of block 9 and tail of block 14 are zeroed.
replay punch-ind-boundary 'open f' 'fpunch 10000 5000'
ok_status
expect f '0 9
14 1004
ind 4 dind 1 tind 0' $((1006 * 2))
cp "$TEST_TMP/f.data" "$TEST_TMP/want"
want_zero 10000 5000
expect_data f $((1005 * 1024))

# libext2fs 1.47.0's over-punch: one block, the first of the second IND
# under the DIND; only that block goes (ext2fs_punch took 524-779).
replay over-punch-524 'open f' 'fpunch 536576 1024'
ok_status
expect f '0 523
525 1004
ind 4 dind 1 tind 0' $((1009 * 2))
cp "$TEST_TMP/f.data" "$TEST_TMP/want"
want_zero 536576 1024
expect_data f $((1005 * 1024))

# A whole IND range under the DIND: its IND block goes too.
replay punch-whole-ind 'open f' 'fpunch 536576 262144'
ok_status
expect f '0 523
780 1004
ind 3 dind 1 tind 0' $(((1010 - 257) * 2))

# All but the last block of the inode's IND: the IND stays.
replay punch-ind-but-one 'open f' 'fpunch 12288 261120'
ok_status
expect f '0 11
267 1004
ind 4 dind 1 tind 0' $(((1010 - 255) * 2))

# From inside the IND range to inside the DIND's first IND.
replay punch-ind-to-dind 'open f' 'fpunch 204800 204800'
ok_status
expect f '0 199
400 1004
ind 4 dind 1 tind 0' $(((1010 - 200) * 2))

# Truncate down into each level.
replay truncate-dind 'open f' 'truncate 614400'
ok_status
expect f '0 599
ind 3 dind 1 tind 0' $(((600 + 4) * 2))
replay truncate-dind-boundary 'open f' 'truncate 536576'
ok_status
expect f '0 523
ind 2 dind 1 tind 0' $(((524 + 3) * 2))
replay truncate-ind 'open f' 'truncate 204801'
ok_status
expect f '0 200
ind 1 dind 0 tind 0' $(((201 + 1) * 2))
cp "$TEST_TMP/f.data" "$TEST_TMP/want"
expect_data f 204801
replay truncate-direct 'open f' 'truncate 5000'
ok_status
expect f '0 4
ind 0 dind 0 tind 0' 10
replay truncate-0 'open f' 'truncate 0'
ok_status
expect f 'ind 0 dind 0 tind 0' 0

# Extension: the size alone.
replay extend 'open f' 'truncate 100000000'
ok_status
expect f "$full" $((1010 * 2))
test "$(rp_stat "$img" f Size)" = 100000000 || test_fail "$name: i_size"

# pwrite into the holes: the punched block back (its IND is still there),
# then a new file with one block under the TIND, which needs a TIND, a
# DIND and an IND block.
replay pwrite-refill 'open f' 'fpunch 536576 262144' 'pwrite -S 0x41 536576 1024' 'fsync'
ok_status
expect f '0 524
780 1004
ind 4 dind 1 tind 0' $(((1010 - 257 + 2) * 2))
replay pwrite-tind 'open -f g' 'pwrite -S 0x42 71680000 1024'
ok_status
expect g '70000 70000
ind 1 dind 1 tind 1' 8
test "$(rp_stat "$img" g Size)" = 71681024 || test_fail "$name: i_size"
debugfs -R "dump g $TEST_TMP/got" "$img" >/dev/null 2>&1
test "$(dd if="$TEST_TMP/got" bs=1024 skip=70000 count=1 2>/dev/null | tr -d 'B' | wc -c)" = 0 ||
	test_fail "$name: the block's content"
test "$(dd if="$TEST_TMP/got" bs=1024 count=70000 2>/dev/null | tr -d '\000' | wc -c)" = 0 ||
	test_fail "$name: the hole reads as zeros"
# Then punched out again: the indirect blocks holding the punch's end stay,
# emptied, as the kernel's (ext4_ind_remove_space frees only those whose
# whole range is punched, or that reach into it from before its end).
replay pwrite-tind-punch 'open -f g' 'pwrite -S 0x42 71680000 1024' 'fsync' 'fpunch 71680000 1024'
ok_status
expect g 'ind 1 dind 1 tind 1' 6
replay pwrite-tind-punch-all 'open -f g' 'pwrite -S 0x42 71680000 1024' 'fsync' 'fpunch 0 71681024'
ok_status
expect g 'ind 1 dind 1 tind 1' 6
# A truncate has no end to keep: everything goes.
replay pwrite-tind-truncate 'open -f g' 'pwrite -S 0x42 71680000 1024' 'fsync' 'truncate 71680000'
ok_status
expect g 'ind 0 dind 0 tind 0' 0

# Past the largest block-mapped file (s_bitmap_maxbytes: 16843020 blocks
# of 1 KiB): EFBIG, as the kernel's write and truncate.
replay too-big 'open f' 'pwrite 17247252480 1' 'truncate 17247252481' 'truncate 17247252480'
ok_status 8
grep -q 's:2: pwrite: File too large' "$TEST_TMP/err" || test_fail "$name: pwrite message"
grep -q 's:3: truncate: File too large' "$TEST_TMP/err" || test_fail "$name: truncate message"
grep -q '^4: truncate 17247252480: ok$' "$TEST_TMP/out" || test_fail "$name: truncate to the limit"

# falloc: the kernel's refusal (ext4_do_fallocate), not ours.
replay falloc 'open f' 'falloc 0 4096' 'falloc -k 2000000 4096'
ok_status 8
grep -q 's:2: falloc: Operation not supported$' "$TEST_TMP/err" || test_fail "$name: message"
grep -q 'not supported yet' "$TEST_TMP/err" && test_fail "$name: refused as unsupported by esck"
cmp -s "$img" "$base" || test_fail "$name: the image changed"

# Dry run: the cache follows, the image does not change.
ESCK_ARGS=-n
replay dry-run 'open f' 'fpunch 536576 262144' 'truncate 5000' 'pwrite 0 10' 'open -f h' 'pwrite 0 1'
test "$st" -eq 0 || { cat "$TEST_TMP/err"; test_fail "$name: exit $st"; }
cmp -s "$img" "$base" || test_fail "$name: the image changed"
ESCK_ARGS=

# An undo file: e2undo puts the image back byte for byte.
if command -v e2undo >/dev/null 2>&1; then
	rm -f "$TEST_TMP/u"
	ESCK_ARGS="-z $TEST_TMP/u"
	replay undo 'open f' 'fpunch 536576 262144' 'truncate 614400' 'open -f g' 'pwrite 71680000 1024'
	ESCK_ARGS=
	ok_status
	e2undo "$TEST_TMP/u" "$img" >"$TEST_TMP/e2undo.out" 2>&1 ||
		{ cat "$TEST_TMP/e2undo.out"; test_fail "$name: e2undo failed"; }
	cmp -s "$img" "$base" || test_fail "$name: e2undo did not restore the image"
fi

# A write failing at writeback that needs a new IND block: nothing changes.
replay fault-write 'open f' 'truncate 4096' 'fsync'
ok_status
cp "$img" "$TEST_TMP/before.img"
printf '%s\n' 'open f' 'pwrite -S 0x43 20480 1024' 'fsync' >"$TEST_TMP/s"
"$ESCK" replay-truncate --fail-write=1 "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
st=$?
test "$st" -ne 0 || test_fail "$name: a failed write reported success"
cmp -s "$img" "$TEST_TMP/before.img" || test_fail "$name: the image changed"
rp_fsck "$img"
# ... and without the fault, the same script maps the block and its IND.
"$ESCK" replay-truncate "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>"$TEST_TMP/err" ||
	test_fail "$name: the same script without the fault fails"
expect f '0 3
20 20
ind 1 dind 0 tind 0' $((6 * 2))

# An orphan: a crash between i_size and the blocks, finished as at mount.
name=orphan
cp "$base" "$img"
ino=$(debugfs -R "stat f" "$img" 2>/dev/null | sed -n 's/^Inode: *\([0-9]*\).*/\1/p')
debugfs -w -f - "$img" >/dev/null 2>&1 <<EOC
sif f size 300000
ssv last_orphan $ino
EOC
"$ESCK" replay-truncate "$img" >"$TEST_TMP/out" 2>&1
st=$?
test $st -eq 0 || { cat "$TEST_TMP/out"; test_fail "$name: exit $st"; }
grep -q "^orphan inode $ino: truncate 300000: ok\$" "$TEST_TMP/out" || { cat "$TEST_TMP/out"; test_fail "$name: line"; }
expect f '0 292
ind 2 dind 1 tind 0' $(((293 + 3) * 2))
test "$(debugfs -R stats "$img" 2>/dev/null | sed -n 's/^First orphan inode: *//p')" = "" ||
	test_fail "$name: the list is not empty"

# ---- 4 KiB blocks: IND 12-1035, DIND 1036-1049611, TIND from 1049612 ----
base=$TEST_TMP/base4k.img
ind_mkimg "$base" 4096
rp_data "$TEST_TMP/f.data" $((1100 * 4096))
rp_put "$base" "$TEST_TMP/f.data" f

replay 4k-punch-ind-boundary 'open f' 'fpunch 40960 16384'
ok_status
expect f '0 9
14 1099
ind 2 dind 1 tind 0' $(((1103 - 4) * 8))
replay 4k-truncate-dind-boundary 'open f' 'truncate 4243456'
ok_status
expect f '0 1035
ind 1 dind 0 tind 0' $(((1036 + 1) * 8))
replay 4k-pwrite-tind 'open -f g' 'pwrite -S 0x44 4299210752 4096'
ok_status
expect g '1049612 1049612
ind 1 dind 1 tind 1' 32
replay 4k-truncate-0-tind 'open -f g' 'pwrite 4299210752 4096' 'pwrite 0 4096' 'fsync' 'truncate 4096'
ok_status
expect g '0 0
ind 0 dind 0 tind 0' 8

echo "indirect: $ncase cases"
test_done
