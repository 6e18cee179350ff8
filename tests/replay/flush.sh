#!/bin/sh
# flush.sh --- each op writes back the descriptor blocks of the groups it changed and the superblock, not the whole table, and they are right
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs dumpe2fs e2fsck

T=$TEST_TMP

# group_free IMG: "group free-blocks" for every group, from the descriptors.
group_free()
{
	dumpe2fs "$1" 2>/dev/null |
		sed -n 's/^Group \([0-9]*\):.*/\1/p; s/^  \([0-9]*\) free \(blocks\|clusters\),.*/\1/p' |
		paste - -
}

# Many small groups: 1 KiB blocks, 256 to a group, 256 groups whose 64-byte
# descriptors fill 16 blocks (classic and meta_bg tables).  A 24 MiB file spans most of them; punches
# spread over it and a truncate free blocks in groups under many
# descriptor blocks.
cat >"$T/s" <<'EOS'
open f
EOS
# whole 4 KiB clusters under bigalloc
awk 'BEGIN { for (i = 0; i < 37; i++) printf "fpunch %d 4096\n", (i * 157 + 3) * 4096 }' >>"$T/s"
printf 'truncate 20000000\n' >>"$T/s"
rp_data "$T/d" 25165824
# layout groups mke2fs-options: bigalloc with 1 KiB blocks has its table at
# block 2, after the boot block's cluster (a 1.47.0 trap, see
# lib/replay_bitmap.c): 4 KiB clusters, 1024 blocks a group, 64 groups
for spec in "classic 256 -g 256 -O ^meta_bg,^resize_inode" \
	    "meta_bg 256 -g 256 -O meta_bg,^resize_inode" \
	    "bigalloc 64 -g 256 -C 4096 -O bigalloc,^meta_bg,^resize_inode"; do
	set -- $spec
	layout=$1 groups=$2
	shift 2
	rp_mkimg "$T/$layout.img" 64M -b 1024 "$@"
	rp_put "$T/$layout.img" "$T/d" f
	group_free "$T/$layout.img" >"$T/$layout.before"
	test "$(wc -l <"$T/$layout.before")" -eq "$groups" ||
		test_hard_error "$layout: expected $groups groups"
	run_esck replay-truncate "$T/$layout.img" "$T/s"
	test_status 0 "$layout: replay"
	e2fsck -fn "$T/$layout.img" >"$T/fsck" 2>&1 ||
		{ cat "$T/fsck"; test_fail "$layout: e2fsck -fn not clean"; }
	group_free "$T/$layout.img" >"$T/$layout.after"
	# the changed groups lie under more than one descriptor block (16 a block)
	n=$(paste "$T/$layout.before" "$T/$layout.after" |
		awk '$2 != $4 { b[int($1 / 16)] = 1 } END { print length(b) }')
	test "$n" -ge 2 || test_fail "$layout: changed groups under $n descriptor blocks, want >= 2"
done

# A 256 GiB filesystem of 4 KiB blocks has 2048 groups, 128 KiB of
# descriptors: one punch changes one group, and the undo file, which keeps
# every block the replay overwrote, holds a few blocks, not the table.
mke2fs -q -F -t ext4 -O ^has_journal -E lazy_itable_init=1,nodiscard \
	-U "$TEST_UUID" "$T/big.img" 256G >/dev/null 2>&1 ||
	test_skip "mke2fs of a sparse 256 GiB image failed (no room for a sparse file?)"
rp_data "$T/d1" 1048576
rp_put "$T/big.img" "$T/d1" f
printf 'open f\nfpunch 8192 4096\n' >"$T/s1"
run_esck replay-truncate -z "$T/u" "$T/big.img" "$T/s1"
test_status 0 "256 GiB: replay"
size=$(wc -c <"$T/u")
test "$size" -lt 65536 || test_fail "256 GiB: the undo file holds $size bytes, want < 64 KiB"
test "$(debugfs -R "bmap f 2" "$T/big.img" 2>/dev/null)" = 0 || test_fail "256 GiB: block 2 still mapped"
e2fsck -fn "$T/big.img" >"$T/fsck" 2>&1 ||
	{ cat "$T/fsck"; test_fail "256 GiB: e2fsck -fn not clean"; }
test_done
