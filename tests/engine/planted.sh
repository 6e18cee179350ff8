#!/bin/sh
# planted.sh --- each MAP_* problem planted with debugfs is found, exactly once, with its numbers
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/engine/lib-engine.sh"
test_init
engine_need

# plant BASE WHAT DEBUGFS_COMMAND EXPECTED_PROBLEM_LINE...: the problems, in order, and nothing else.
plant()
{
	base=$1 what=$2 cmd=$3
	shift 3
	cp "$base" "$TEST_TMP/p.img"
	echo "$cmd" | test_debugfs "$TEST_TMP/p.img"
	engine_run -q "$TEST_TMP/p.img"
	test_status 0 "$what: exit status"
	: >"$TEST_TMP/want"
	for line in "$@"; do
		printf '%s\n' "$line" >>"$TEST_TMP/want"
	done
	grep '^problem ' "$TEST_TMP/out" >"$TEST_TMP/got"
	test_cmp "$TEST_TMP/want" "$TEST_TMP/got" "$what"
	test_grep "^summary .* problems=$#\$" "$TEST_TMP/out" "$what: summary count"
}

# ---- ext2: block-mapped files (12 big, 13 small, 14 small2) ----
e2=$TEST_TMP/ext2.img
mke2fs -F -q -t ext2 -b 1024 -U "$TEST_UUID" "$e2" 8M >/dev/null 2>&1 ||
	test_hard_error "mke2fs ext2 failed"
engine_populate "$e2"
sb=$(debugfs -R "bmap small 0" "$e2" 2>/dev/null)
itb=$(dumpe2fs "$e2" 2>/dev/null | sed -n 's/.*Inode table at \([0-9]*\)-.*/\1/p' | head -1)
test -n "$sb" && test -n "$itb" || test_hard_error "cannot find the planted blocks"

plant "$e2" "ext2 MAP_DUP" "sif small2 block[0] $sb" \
	"problem MAP_DUP ino=14 lblk=0 len=1 pblk=$sb other=13"
plant "$e2" "ext2 MAP_NOT_IN_BITMAP" "freeb $((sb + 1)) 3" \
	"problem MAP_NOT_IN_BITMAP ino=13 lblk=1 len=3 pblk=$((sb + 1))"
plant "$e2" "ext2 MAP_I_BLOCKS" "sif small blocks 1234" \
	"problem MAP_I_BLOCKS ino=13 expected=10 found=1234"
plant "$e2" "ext2 MAP_WRITTEN_PAST_EOF" "sif small size 1" \
	"problem MAP_WRITTEN_PAST_EOF ino=13 lblk=1 len=4 pblk=$((sb + 1)) expected=1 found=5"
plant "$e2" "ext2 MAP_OUT_OF_RANGE" "sif small block[0] 99999999" \
	"problem MAP_OUT_OF_RANGE ino=13 lblk=0 len=1 pblk=99999999"
plant "$e2" "ext2 MAP_ON_METADATA" "sif small block[1] $itb" \
	"problem MAP_ON_METADATA ino=13 lblk=1 len=1 pblk=$itb"
plant "$e2" "ext2 MAP_IND_BLOCK out of range" "sif big block[IND] 99999999" \
	"problem MAP_IND_BLOCK ino=12 len=1 pblk=99999999"
# What an indirect block on metadata "points to" is not followed.
plant "$e2" "ext2 MAP_IND_BLOCK on metadata" "sif big block[IND] $itb" \
	"problem MAP_IND_BLOCK ino=12 len=1 pblk=$itb"
plant "$e2" "ext2 MAP_IND_BLOCK DIND on metadata" "sif big block[DIND] $itb" \
	"problem MAP_IND_BLOCK ino=12 len=1 pblk=$itb"

# ---- ext4, 1 KiB blocks: extent-mapped, same inode numbers ----
e4=$TEST_TMP/ext4.img
test_mkfs "$e4" 16M
engine_populate "$e4"
sb=$(debugfs -R "bmap small 0" "$e4" 2>/dev/null)
itb=$(dumpe2fs "$e4" 2>/dev/null | sed -n 's/.*Inode table at \([0-9]*\)-.*/\1/p' | head -1)
test -n "$sb" && test -n "$itb" || test_hard_error "cannot find the planted blocks"

# i_block[5] is ee_start_lo of the root's only extent.
plant "$e4" "ext4 MAP_DUP" "sif small2 block[5] $sb" \
	"problem MAP_DUP ino=14 lblk=0 len=5 pblk=$sb other=13"
plant "$e4" "ext4 MAP_NOT_IN_BITMAP" "freeb $sb" \
	"problem MAP_NOT_IN_BITMAP ino=13 lblk=0 len=1 pblk=$sb"
plant "$e4" "ext4 MAP_I_BLOCKS" "sif small blocks 1234" \
	"problem MAP_I_BLOCKS ino=13 expected=10 found=1234"
plant "$e4" "ext4 MAP_WRITTEN_PAST_EOF" "sif small size 1" \
	"problem MAP_WRITTEN_PAST_EOF ino=13 lblk=1 len=4 pblk=$((sb + 1)) expected=1 found=5"
plant "$e4" "ext4 MAP_ON_METADATA" "sif small block[5] $itb" \
	"problem MAP_ON_METADATA ino=13 lblk=0 len=5 pblk=$itb"
plant "$e4" "ext4 MAP_OUT_OF_RANGE" "sif small block[5] 99999999" \
	"problem MAP_OUT_OF_RANGE ino=13 lblk=0 len=5 pblk=99999999"

# Unwritten blocks past EOF are preallocation, not a problem.
plant "$e4" "ext4 unwritten past EOF" "fallocate small 10 19"
test_grep '^summary .* unwritten=10 .* past_eof=10 problems=0$' "$TEST_TMP/out" \
	"unwritten past EOF counted"

# A tiny cache bound drops entries but never invents a disagreement.
engine_run -q -c 4 "$e4"
test_status 0 "cache bound"
test_grep '^summary .* problems=0$' "$TEST_TMP/out" "cache bound: no problems"

test_done
