#!/bin/sh
# damaged.sh --- replay on a damaged inode: its ops are refused with the problem ID, nothing of it changes, the rest of the script goes on
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck dd cmp

cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"
# /d1: 200 KiB with every odd block punched: depth 1, leaves in blocks of
# their own; /d2 the same, left sound
rp_mkimg base.img 16M -b 1024 -O ^metadata_csum
rp_data data 204800
rp_put base.img data d1
rp_put base.img data d2
{
	awk 'BEGIN { for (i = 1; i < 200; i += 2) printf "punch d1 %d %d\n", i, i }'
	awk 'BEGIN { for (i = 1; i < 200; i += 2) printf "punch d2 %d %d\n", i, i }'
} | test_debugfs base.img
leaf=$(debugfs -R "ex d1" base.img 2>/dev/null | awk 'NR == 2 { print $8 }')
test -n "$leaf" && test "$leaf" -gt 0 || test_hard_error "no leaf block for /d1"

# The first leaf of /d1 gets a bad magic number.
cp base.img bad.img
printf '\064\022' | dd of=bad.img bs=1 seek=$((leaf * 1024)) conv=notrunc 2>/dev/null
debugfs -R "stat d1" bad.img 2>/dev/null >d1.before
dd if=bad.img of=leaf.before bs=1024 skip="$leaf" count=1 2>/dev/null

cat >s.esck <<'EOF'
open /d1
fpunch 2048 1024
truncate 1000
pwrite 0 100
fsync
open /d2
fpunch 2048 1024
open /d1
falloc 300000 4096
EOF
cp bad.img r.img
run_esck replay-truncate --json r.img s.esck
test_status 8 "replay with a damaged inode"
for line in 2 3 4 5 9; do
	grep "\"type\":\"op\",\"line\":$line," "$TEST_TMP/out" |
		grep -q 'TREE_NODE_MAGIC' ||
		test_fail "line $line: not refused with TREE_NODE_MAGIC"
done
for line in 1 6 7 8; do
	grep "\"type\":\"op\",\"line\":$line," "$TEST_TMP/out" | grep -q '"result":"ok"' ||
		test_fail "line $line: not ok"
done
grep -q '"divergences":0' "$TEST_TMP/out" || test_fail "divergences reported"
# nothing of /d1 changed: its inode and its damaged leaf
debugfs -R "stat d1" r.img 2>/dev/null >d1.after
test_cmp d1.before d1.after "/d1's inode"
dd if=r.img of=leaf.after bs=1024 skip="$leaf" count=1 2>/dev/null
cmp -s leaf.before leaf.after || test_fail "/d1's damaged leaf changed"
# /d2 was punched: block 2 is a hole now
test "$(debugfs -R "bmap d2 2" r.img 2>/dev/null)" = 0 || test_fail "/d2 block 2 still mapped"

# the text form names the line and the problem
cp bad.img t.img
run_esck replay-truncate t.img s.esck
test_grep '^s.esck:2: fpunch: .*(TREE_NODE_MAGIC: ' "$TEST_TMP/err" "text refusal"

# A bad header in the inode itself fails the open (the kernel's open fails).
cp base.img root.img
printf 'sif d1 block[0] 0x0001f30b\n' | test_debugfs root.img
cp root.img root0.img
printf 'open /d1\nfpunch 2048 1024\n' >r.esck
run_esck replay-truncate root.img r.esck
test_status 8 "replay on a bad root header"
test_grep '^r.esck:1: open: .*TREE_ROOT_HEADER' "$TEST_TMP/err" "open refused"
cmp -s root.img root0.img || test_fail "the image with a bad root header changed"

test_done
