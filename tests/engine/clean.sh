#!/bin/sh
# clean.sh --- esck_inspect on consistent images of every layout: no problems, counts as debugfs sees them
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/engine/lib-engine.sh"
test_init
engine_need

# check_image NAME SIZE MKE2FS_OPTION...
check_image()
{
	name=$1 size=$2
	shift 2
	img=$TEST_TMP/$name.img
	mke2fs -F -q -U "$TEST_UUID" -E "hash_seed=$TEST_HASH_SEED" "$@" "$img" "$size" \
		>"$TEST_TMP/mke2fs.log" 2>&1 ||
		{ cat "$TEST_TMP/mke2fs.log"; test_hard_error "mke2fs $* failed"; }
	engine_populate "$img"
	e2fsck -fn "$img" >"$TEST_TMP/e2fsck.log" 2>&1 ||
		{ cat "$TEST_TMP/e2fsck.log"; test_hard_error "$name: e2fsck finds the fresh image unclean"; }

	engine_run "$img"
	test_status 0 "$name: exit status"
	if grep '^problem ' "$TEST_TMP/out"; then
		test_fail "$name: problems on a clean image"
	fi
	test_grep '^summary .* problems=0$' "$TEST_TMP/out" "$name: summary"

	# Every in-use inode from s_first_ino on is inspected, and no other.
	used=$(dumpe2fs -h "$img" 2>/dev/null | awk -F: '
		/^Inode count/ { n = $2 } /^Free inodes/ { f = $2 } /^First inode/ { fi = $2 }
		END { print n - f - (fi - 1) }')
	got=$(awk '$1 == "inode" && $2 >= 11' "$TEST_TMP/out" | wc -l)
	test "$got" -eq "$used" ||
		test_fail "$name: $got inodes from s_first_ino on inspected, debugfs says $used in use"

	# Per inode: the kind and the number of extents or block runs debugfs shows.
	awk '$1 == "inode" && $2 >= 11 { print $2, $3, $4, $8 }' "$TEST_TMP/out" |
	while read -r ino kind mapping extents; do
		extents=${extents#extents=}
		debugfs -R "stat <$ino>" "$img" >"$TEST_TMP/stat" 2>/dev/null
		type=$(sed -n 's/^Inode: [0-9]*  *Type: \([a-zA-Z ]*[a-zA-Z]\)  *Mode:.*/\1/p' "$TEST_TMP/stat")
		case $type in
		regular) want=regular ;; directory) want=directory ;; symlink) want=symlink ;;
		FIFO) want=fifo ;; "character special") want=chardev ;;
		"block special") want=blockdev ;; socket) want=socket ;; *) want="?$type" ;;
		esac
		test "$kind" = "$want" || test_fail "$name: inode $ino is $kind, debugfs says $type"
		case $mapping in
		extents)
			n=$(debugfs -R "dump_extents -l <$ino>" "$img" 2>/dev/null |
			    awk 'NR > 1 && NF' | wc -l) ;;
		blocks)
			n=$(awk '/^BLOCKS:/ { getline; print; exit }' "$TEST_TMP/stat" |
			    tr ',' '\n' | grep -c '^ *([0-9]') ;;
		*)
			n=0 ;;
		esac
		test "$extents" -eq "$n" ||
			test_fail "$name: inode $ino ($mapping) has $extents extents, debugfs shows $n"
	done
	cp "$TEST_TMP/out" "$TEST_TMP/$name.out"
}

check_image ext4-4k 32M -t ext4 -b 4096
check_image ext4-1k 16M -t ext4 -b 1024
check_image bigalloc 64M -t ext4 -b 4096 -O bigalloc -C 16384
check_image ext2 8M -t ext2 -b 1024
check_image ext3 8M -t ext3 -b 1024
check_image inline 32M -t ext4 -b 4096 -O inline_data

# Layout-specific expectations.
out=$TEST_TMP/ext2.out
test_grep '^mappings extents=0 blocks=' "$out" "ext2: everything block-mapped"
test_grep '^inode 12 regular blocks size=300000 blocks=592 depth=0 extents=3 tree=3 ' "$out" \
	"ext2: big file with IND and DIND blocks"
out=$TEST_TMP/ext4-1k.out
test_grep '^inode 11 directory extents ' "$out" "ext4: lost+found"
test_grep '^inode 8 special extents ' "$out" "ext4: the journal is a special inode"
grep '^inode [0-9]* regular extents .* depth=1 ' "$out" >/dev/null ||
	test_fail "ext4-1k: the fragmented file has a depth-1 tree"
test_grep '^depths 0=[0-9]* 1=1 ' "$out" "ext4-1k: one depth-1 inode"
test_grep ' fifo none ' "$out" "fifo maps nothing"
test_grep ' chardev none ' "$out" "chardev maps nothing"
test_grep ' symlink inline size=11 ' "$out" "fast symlink is inline"
test_grep ' symlink extents size=101 ' "$out" "slow symlink has a block"
test_grep '^top [0-9]*:31 ' "$out" "the fragmented file (30 holes punched) tops the list"
out=$TEST_TMP/inline.out
test_grep ' directory inline ' "$out" "inline_data: a small directory is inline"
test_grep ' regular inline size=0 ' "$out" "inline_data: an empty file is inline"

# Progress: about every 1%, never backwards, ending at the total.
engine_run -q -p "$TEST_TMP/ext4-1k.img"
total=$(dumpe2fs -h "$TEST_TMP/ext4-1k.img" 2>/dev/null | awk -F: '/^Inode count/ { print $2 + 0 }')
test_grep "^progress calls=[0-9]* last=$total/$total\$" "$TEST_TMP/out" "progress ends at the total"
calls=$(sed -n 's/^progress calls=\([0-9]*\) .*/\1/p' "$TEST_TMP/out")
test "${calls:-0}" -ge 2 && test "${calls:-0}" -le 102 ||
	test_fail "progress called $calls times, want about 100"

test_done
