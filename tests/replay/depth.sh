#!/bin/sh
# depth.sh --- deep trees: many punches, truncate to one block keeps depth 2, truncate to 0 resets it
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck

img=$TEST_TMP/d.img
rp_mkimg "$img" 32M -b 1024 -O ^has_journal
rp_data "$TEST_TMP/f.data" $((800 * 1024))
rp_put "$img" "$TEST_TMP/f.data" f
cp "$img" "$TEST_TMP/base.img"

# Every other block punched: 400 extents, more than a depth-1 tree holds.
{
	echo 'open f'
	i=1
	while test $i -lt 800; do
		echo "fpunch $((i * 1024)) 1024"
		i=$((i + 2))
	done
} >"$TEST_TMP/frag.script"
"$ESCK" replay-truncate --verify=full "$img" "$TEST_TMP/frag.script" >"$TEST_TMP/out" 2>&1 ||
	{ tail "$TEST_TMP/out"; test_fail "fragmenting: exit $?"; }
rp_fsck "$img"
test "$(rp_map "$img" f | wc -l)" = 400 || test_fail "fragmenting: not 400 extents"
test "$(rp_depth "$img" f)" = 2 || test_hard_error "the tree is not of depth 2"
cp "$img" "$TEST_TMP/frag.img"

if rp_kernel_ok; then
	cp "$TEST_TMP/base.img" "$TEST_TMP/kern.img"
	rp_kernel "$TEST_TMP/kern.img" "$TEST_TMP/frag.script"
	rp_map "$TEST_TMP/kern.img" f >"$TEST_TMP/map.k"
	rp_map "$img" f >"$TEST_TMP/map.e"
	cmp -s "$TEST_TMP/map.k" "$TEST_TMP/map.e" || test_fail "fragmenting: maps differ from the kernel's"
	test "$(rp_data_sectors "$img" f)" = "$(rp_data_sectors "$TEST_TMP/kern.img" f)" ||
		test_fail "fragmenting: data blocks differ from the kernel's"
fi

# Punches that empty whole leaves, the first one included (index keys move up).
cp "$TEST_TMP/frag.img" "$img"
printf 'open f\nfpunch 0 204800\nfpunch 307200 300000\nfpunch 700000 1000\n' >"$TEST_TMP/s"
"$ESCK" replay-truncate --verify=full "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>&1 ||
	{ cat "$TEST_TMP/out"; test_fail "leaf-emptying punches: exit $?"; }
rp_fsck "$img"
if rp_kernel_ok; then
	cp "$TEST_TMP/frag.img" "$TEST_TMP/kern.img"
	rp_kernel "$TEST_TMP/kern.img" "$TEST_TMP/s"
	rp_map "$TEST_TMP/kern.img" f >"$TEST_TMP/map.k"
	rp_map "$img" f >"$TEST_TMP/map.e"
	cmp -s "$TEST_TMP/map.k" "$TEST_TMP/map.e" ||
		test_fail "leaf-emptying punches: maps differ from the kernel's"
	rp_read "$img" f "$TEST_TMP/read.e"
	rp_read "$TEST_TMP/kern.img" f "$TEST_TMP/read.k"
	cmp -s "$TEST_TMP/read.e" "$TEST_TMP/read.k" ||
		test_fail "leaf-emptying punches: contents differ from the kernel's"
fi

# truncate to one block: the kernel does no tree reduction, depth stays 2.
cp "$TEST_TMP/frag.img" "$img"
printf 'open f\ntruncate 1024\n' >"$TEST_TMP/s"
"$ESCK" replay-truncate "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>&1 || test_fail "truncate 1024: exit $?"
test "$(rp_map "$img" f)" = "0 0 W" || test_fail "truncate 1024: map"
test "$(rp_depth "$img" f)" = 2 || test_fail "truncate 1024: depth $(rp_depth "$img" f), want 2"
rp_fsck "$img"
if rp_kernel_ok; then
	cp "$TEST_TMP/frag.img" "$TEST_TMP/kern.img"
	rp_kernel "$TEST_TMP/kern.img" "$TEST_TMP/s"
	test "$(rp_depth "$TEST_TMP/kern.img" f)" = 2 || test_fail "the kernel reduced the depth?"
	test "$(rp_map "$TEST_TMP/kern.img" f)" = "0 0 W" || test_fail "kernel truncate 1024: map"
fi

# truncate to 0: the root is empty, depth 0, eh_max 4 (header f30a 0000 0400 0000).
cp "$TEST_TMP/frag.img" "$img"
printf 'open f\ntruncate 0\n' >"$TEST_TMP/s"
"$ESCK" replay-truncate "$img" "$TEST_TMP/s" >"$TEST_TMP/out" 2>&1 || test_fail "truncate 0: exit $?"
test -z "$(rp_map "$img" f)" || test_fail "truncate 0: blocks left"
debugfs -R "inode_dump -b f" "$img" 2>/dev/null | head -n 1 | grep -q '^0000  0af3 0000 0400 0000' ||
	{ debugfs -R "inode_dump -b f" "$img"; test_fail "truncate 0: root header"; }
test "$(rp_stat "$img" f Blockcount)" = 0 || test_fail "truncate 0: i_blocks"
rp_fsck "$img"
test_done
