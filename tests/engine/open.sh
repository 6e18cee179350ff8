#!/bin/sh
# open.sh --- esck_open refuses a journal that needs recovery unless forced; inode lookup
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/engine/lib-engine.sh"
test_init
engine_need

img=$TEST_TMP/fs.img
test_mkfs "$img" 8M
engine_populate "$img"

engine_run -q "$img"
test_status 0 "clean image"
test_grep '^mount-state 0$' "$TEST_TMP/out" "an image file is not mounted"

# debugfs's "feature" sets the incompat RECOVER flag as the kernel leaves it.
echo "feature needs_recovery" | test_debugfs "$img"
dumpe2fs -h "$img" 2>/dev/null | grep -q 'features:.*needs_recovery' ||
	test_hard_error "debugfs did not set needs_recovery"
engine_run -q "$img"
test_status 1 "needs_recovery refused"
test_grep '^open-error .* Filesystem journal needs recovery$' "$TEST_TMP/out"
engine_run -q -f "$img"
test_status 0 "needs_recovery with ESCK_OPEN_FORCE"
test_grep '^summary .* problems=0$' "$TEST_TMP/out"
echo "feature -needs_recovery" | test_debugfs "$img"

engine_run -q "$TEST_TMP/missing.img"
test_status 1 "missing image"
test_grep '^open-error ' "$TEST_TMP/out"

# Lookup by number and by path; the inodes come back sorted.
ino_s=$(debugfs -R "stat /d/s" "$img" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
engine_run -i /d/s -i 12 -i 12 "$img"
test_status 0 "lookup by path and number"
test_grep "^inode $ino_s regular extents size=5000 " "$TEST_TMP/out"
test_grep '^inode 12 regular extents size=300000 ' "$TEST_TMP/out"
test_grep '^summary inodes=2 ' "$TEST_TMP/out"
test "$(grep '^inode ' "$TEST_TMP/out" | head -1 | cut -d' ' -f2)" = 12 ||
	test_fail "inodes are not reported in increasing order"
engine_run -i /nope "$img"
test_grep '^resolve-error /nope No such file or directory in the filesystem$' "$TEST_TMP/out"
engine_run -i 0 "$img"
test_grep '^resolve-error 0 Inode number out of range$' "$TEST_TMP/out"
engine_run -i 99999999 "$img"
test_grep '^resolve-error 99999999 Inode number out of range$' "$TEST_TMP/out"
engine_run -i 12x "$img"
test_grep '^resolve-error 12x ' "$TEST_TMP/out"

test_done
