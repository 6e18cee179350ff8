#!/bin/sh
# orphans-kernel.sh --- orphans the kernel leaves (files unlinked while open, image copied frozen), on the list and in the orphan file: esck completes them as a mount does
#
# For each variant (the s_last_orphan list; the orphan_file feature): make
# files through a loop mount, hold three open, unlink them, freeze the file
# system and copy its image (ext4 flushes the journal on freeze, so the copy
# is clean but for the orphans), then let go.  On one copy "esck
# replay-truncate IMG" completes the orphans; on another the kernel does, at
# mount.  Both must pass e2fsck -fn and agree on free blocks and inodes and
# on the orphans being released.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck dumpe2fs fsfreeze xfs_io
rp_kernel_ok || test_skip "loop mounts are not permitted here"

mnt=$TEST_TMP/mnt
mkdir -p "$mnt"
cleanup_mount()
{
	exec 3<&- 4<&- 5<&-
	fsfreeze -u "$mnt" 2>/dev/null
	mountpoint -q "$mnt" && umount "$mnt"
}
trap 'cleanup_mount; test_cleanup' EXIT

# sb_field IMG NAME: a dumpe2fs -h field.
sb_field()
{
	dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^$2: *//p"
}

for variant in list orphan_file; do
	img=$TEST_TMP/$variant.img
	if test "$variant" = orphan_file; then
		rp_mkimg "$img" 64M -b 4096 -O orphan_file
	else
		rp_mkimg "$img" 64M -b 4096 -O ^orphan_file
	fi
	mount -o loop "$img" "$mnt" || test_hard_error "mount $img"
	# a: written; b: preallocated with holes punched (several extents);
	# c: one block; d stays
	xfs_io -f -c "pwrite -q -S 0x61 0 800k" -c fsync "$mnt/a" ||
		test_hard_error "xfs_io a"
	xfs_io -f -c "falloc 0 2m" -c "fpunch 64k 64k" -c "fpunch 512k 4k" \
		-c "pwrite -q 1m 8k" -c fsync "$mnt/b" || test_hard_error "xfs_io b"
	xfs_io -f -c "pwrite -q 0 4k" -c fsync "$mnt/c" || test_hard_error "xfs_io c"
	xfs_io -f -c "pwrite -q 0 100k" -c fsync "$mnt/d" || test_hard_error "xfs_io d"
	ino_a=$(stat -c %i "$mnt/a") ino_b=$(stat -c %i "$mnt/b") ino_c=$(stat -c %i "$mnt/c")
	exec 3<"$mnt/a" 4<"$mnt/b" 5<"$mnt/c"
	rm "$mnt/a" "$mnt/b" "$mnt/c"
	sync
	fsfreeze -f "$mnt" || test_hard_error "fsfreeze -f"
	cp --sparse=always "$img" "$TEST_TMP/esck.img"
	cp --sparse=always "$img" "$TEST_TMP/kern.img"
	fsfreeze -u "$mnt"
	exec 3<&- 4<&- 5<&-
	umount "$mnt"

	# the copy really has the orphans, and nothing else to recover
	if test "$variant" = orphan_file; then
		sb_field "$TEST_TMP/esck.img" "Filesystem features" | grep -q orphan_present ||
			test_fail "$variant: the frozen copy has no orphan_present flag"
	else
		test -n "$(sb_field "$TEST_TMP/esck.img" "First orphan inode")" ||
			test_fail "$variant: the frozen copy has an empty orphan list"
	fi
	sb_field "$TEST_TMP/esck.img" "Filesystem features" | grep -q needs_recovery &&
		test_fail "$variant: the frozen copy needs journal recovery"

	"$ESCK" replay-truncate "$TEST_TMP/esck.img" >"$TEST_TMP/out" 2>&1
	st=$?
	test $st -eq 0 || { cat "$TEST_TMP/out"; test_fail "$variant: esck exit $st"; }
	for ino in $ino_a $ino_b $ino_c; do
		grep -q "^orphan inode $ino: released: ok\$" "$TEST_TMP/out" ||
			{ cat "$TEST_TMP/out"; test_fail "$variant: inode $ino not released"; }
	done
	rp_fsck "$TEST_TMP/esck.img"
	# done: a second run finds nothing and writes nothing
	cp "$TEST_TMP/esck.img" "$TEST_TMP/again.img"
	"$ESCK" replay-truncate "$TEST_TMP/esck.img" >"$TEST_TMP/out2" 2>&1 ||
		test_fail "$variant: second run exit $?"
	cmp -s "$TEST_TMP/esck.img" "$TEST_TMP/again.img" ||
		test_fail "$variant: the second run changed the image"
	test -s "$TEST_TMP/out2" && grep -q "^orphan" "$TEST_TMP/out2" &&
		test_fail "$variant: the second run found orphans"

	# the kernel's own cleanup of the same copy
	mount -o loop "$TEST_TMP/kern.img" "$mnt" || test_hard_error "mount kern.img"
	umount "$mnt"
	rp_fsck "$TEST_TMP/kern.img"
	for f in "Free blocks" "Free inodes" "First orphan inode"; do
		a=$(sb_field "$TEST_TMP/esck.img" "$f")
		b=$(sb_field "$TEST_TMP/kern.img" "$f")
		test "$a" = "$b" || test_fail "$variant: $f: esck '$a', kernel '$b'"
	done
	for img2 in esck kern; do
		sb_field "$TEST_TMP/$img2.img" "Filesystem features" | grep -q orphan_present &&
			test_fail "$variant: $img2 left the orphan_present flag"
		for ino in $ino_a $ino_b $ino_c; do
			debugfs -R "testi <$ino>" "$TEST_TMP/$img2.img" 2>/dev/null |
				grep -q "is not in use" ||
				test_fail "$variant: $img2: inode $ino is still in use"
		done
	done
	test "$(rp_map "$TEST_TMP/esck.img" d)" = "$(rp_map "$TEST_TMP/kern.img" d)" ||
		test_fail "$variant: /d differs"
done

test_done
