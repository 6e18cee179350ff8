#!/bin/sh
# enospc.sh --- a punch whose split needs a tree block on a full file system: ENOSPC where the kernel gives it, nothing changed
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs dumpe2fs e2fsck

T=$TEST_TMP
img=$T/full.img
rp_mkimg "$img" 4M -b 1024
rp_data "$T/d" 102400
rp_put "$img" "$T/d" f
# Three one-block holes: four extents, the inode's root is full.
printf 'open f\nfpunch 20480 1024\nfpunch 40960 1024\nfpunch 62464 1024\n' >"$T/s0"
"$ESCK" replay-truncate "$img" "$T/s0" >/dev/null 2>&1 || test_hard_error "making the holes"
test "$(rp_map "$img" f)" = "0 19 W
21 39 W
41 60 W
62 99 W" || test_hard_error "the map is $(rp_map "$img" f)"
test "$(rp_depth "$img" f)" = 0 || test_hard_error "depth $(rp_depth "$img" f)"

free_blocks() { dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Free blocks: *//p'; }

# Fill the file system to the last block: a big file, then one-block files.
big=$(($(free_blocks "$img") - 40))
head -c $((big * 1024)) /dev/zero | tr '\000' x >"$T/big"
rp_put "$img" "$T/big" big
head -c 1024 /dev/zero | tr '\000' x >"$T/one"
i=0
while test "$(free_blocks "$img")" -gt 0; do
	i=$((i + 1))
	test $i -le 100 || test_hard_error "cannot fill the file system"
	rp_put "$img" "$T/one" "one$i"
done
echo "full: $(free_blocks "$img") free blocks, $i one-block files"
rp_fsck "$img"

# Block 30 is inside extent 21-39: punching it needs a fifth extent, so the
# root moves to a new leaf block, and there is none: ENOSPC, nothing changed.
cp "$img" "$T/a.img"
printf 'open f\nfpunch 30720 1024\n' >"$T/split"
run_esck replay-truncate "$T/a.img" "$T/split"
test_status 8 "split on a full file system"
grep -q "split:2: fpunch: No space left on device\$" "$T/err" ||
	{ cat "$T/err"; test_fail "split: no ENOSPC message"; }
grep -q '^2: fpunch 30720 1024: error$' "$T/out" || test_fail "split: the op line"
cmp -s "$T/a.img" "$img" || test_fail "split: the image changed"
rp_fsck "$T/a.img"

# Punches that need no new block go through on the full file system: a
# whole extent, the tail of one, beyond the last one.
cp "$img" "$T/b.img"
printf 'open f\nfpunch 41984 20480\nfpunch 35840 5120\nfpunch 1048576 4096\n' >"$T/nosplit"
run_esck replay-truncate "$T/b.img" "$T/nosplit"
test_status 0 "punches without a split on a full file system"
test "$(rp_map "$T/b.img" f)" = "0 19 W
21 34 W
62 99 W" && test "$(free_blocks "$T/b.img")" = 25 || test_fail "no split: map $(rp_map "$T/b.img" f)"
rp_fsck "$T/b.img"

# One block free: the split takes it, as the kernel's reserved-block rules
# allow (metadata for a punch may use the last free block).
cp "$img" "$T/c.img"
debugfs -w -R "rm one1" "$T/c.img" >/dev/null 2>&1
test "$(free_blocks "$T/c.img")" = 1 || test_hard_error "rm one1: $(free_blocks "$T/c.img") free"
run_esck replay-truncate "$T/c.img" "$T/split"
test_status 0 "split with one free block"
test "$(rp_depth "$T/c.img" f)" = 1 || test_fail "one free block: depth $(rp_depth "$T/c.img" f)"
# The leaf took the free block, the punch freed block 30.
test "$(free_blocks "$T/c.img")" = 1 || test_fail "one free block: $(free_blocks "$T/c.img") left"
rp_fsck "$T/c.img"

# The kernel on the same images, where loop mounts work.
if rp_kernel_ok; then
	mnt=$T/mnt
	cp "$img" "$T/k.img"
	mount -o loop "$T/k.img" "$mnt" || test_hard_error "mount $T/k.img"
	xfs_io -c "fpunch 30720 1024" "$mnt/f" >"$T/kout" 2>&1
	umount "$mnt" || test_hard_error "umount"
	grep -q "No space left on device" "$T/kout" ||
		{ cat "$T/kout"; test_fail "kernel: the split on a full file system did not fail with ENOSPC"; }
	test "$(rp_map "$T/k.img" f)" = "$(rp_map "$img" f)" ||
		test_fail "kernel: the refused punch changed /f"
	rp_fsck "$T/k.img"

	cp "$T/c.img" "$T/ck.img"
	cp "$img" "$T/k.img"
	debugfs -w -R "rm one1" "$T/k.img" >/dev/null 2>&1
	mount -o loop "$T/k.img" "$mnt" || test_hard_error "mount $T/k.img"
	xfs_io -c "fpunch 30720 1024" "$mnt/f" >"$T/kout" 2>&1
	umount "$mnt" || test_hard_error "umount"
	test -s "$T/kout" && { cat "$T/kout"; test_fail "kernel: the split with one free block failed"; }
	test "$(rp_map "$T/k.img" f)" = "$(rp_map "$T/c.img" f)" ||
		test_fail "kernel: /f differs: $(rp_map "$T/k.img" f)"
	test "$(free_blocks "$T/k.img")" = "$(free_blocks "$T/c.img")" ||
		test_fail "kernel: $(free_blocks "$T/k.img") free blocks, esck $(free_blocks "$T/c.img")"
	rp_fsck "$T/k.img"
else
	echo "no loop mounts here: the kernel comparison is skipped"
fi
test_done
