#!/bin/sh
# orphans.sh --- no script: complete the orphan list as the kernel does at mount (and e2fsck)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck

img=$TEST_TMP/o.img
rp_mkimg "$img" 16M -b 1024
rp_data "$TEST_TMP/d" 102400
rp_put "$img" "$TEST_TMP/d" keep
rp_put "$img" "$TEST_TMP/d" gone
rp_put "$img" "$TEST_TMP/d" other
keep=$(debugfs -R "stat keep" "$img" 2>/dev/null | sed -n 's/^Inode: *\([0-9]*\).*/\1/p')
gone=$(debugfs -R "stat gone" "$img" 2>/dev/null | sed -n 's/^Inode: *\([0-9]*\).*/\1/p')
# The state a crash leaves: /keep cut to 50000 bytes with its blocks still
# mapped, /gone unlinked while open; both on the list keep -> gone.
debugfs -w -f - "$img" >/dev/null 2>&1 <<EOC
sif keep size 50000
sif keep dtime $gone
unlink gone
sif <$gone> links_count 0
sif <$gone> dtime 0
ssv last_orphan $keep
EOC
cp "$img" "$TEST_TMP/before.img"

"$ESCK" replay-truncate "$img" >"$TEST_TMP/out" 2>&1
st=$?
test $st -eq 0 || { cat "$TEST_TMP/out"; test_fail "orphans: exit $st"; }
grep -q "^orphan inode $keep: truncate 50000: ok\$" "$TEST_TMP/out" || { cat "$TEST_TMP/out"; test_fail "orphans: keep line"; }
grep -q "^orphan inode $gone: released: ok\$" "$TEST_TMP/out" || test_fail "orphans: gone line"
rp_fsck "$img"
test "$(rp_map "$img" keep)" = "0 48 W" || test_fail "orphans: /keep map $(rp_map "$img" keep)"
test "$(debugfs -R stats "$img" 2>/dev/null | sed -n 's/^First orphan inode: *//p')" = "" ||
	test_fail "orphans: the list is not empty"
debugfs -R "stat <$gone>" "$img" 2>/dev/null | grep -q 'Links: 0' || test_fail "orphans: gone has links"

# The kernel completes the same list at mount: same maps and free counts.
if rp_kernel_ok; then
	cp "$TEST_TMP/before.img" "$TEST_TMP/kern.img"
	mount -o loop "$TEST_TMP/kern.img" "$TEST_TMP/mnt" || test_hard_error "mount"
	umount "$TEST_TMP/mnt"
	test "$(rp_map "$TEST_TMP/kern.img" keep)" = "$(rp_map "$img" keep)" ||
		test_fail "orphans: /keep differs from the kernel's"
	a=$(dumpe2fs -h "$img" 2>/dev/null | sed -n 's/^Free blocks: *//p')
	b=$(dumpe2fs -h "$TEST_TMP/kern.img" 2>/dev/null | sed -n 's/^Free blocks: *//p')
	test "$a" = "$b" || test_fail "orphans: free blocks $a, kernel $b"
	a=$(dumpe2fs -h "$img" 2>/dev/null | sed -n 's/^Free inodes: *//p')
	b=$(dumpe2fs -h "$TEST_TMP/kern.img" 2>/dev/null | sed -n 's/^Free inodes: *//p')
	test "$a" = "$b" || test_fail "orphans: free inodes $a, kernel $b"
fi

# An empty list: nothing to do, exit 0, nothing written.
cp "$img" "$TEST_TMP/again.img"
"$ESCK" replay-truncate "$img" >"$TEST_TMP/out" 2>&1 || test_fail "empty list: exit $?"
cmp -s "$img" "$TEST_TMP/again.img" || test_fail "empty list: the image changed"
test_done
