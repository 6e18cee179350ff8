#!/bin/sh
# kernel-corrupts.sh --- a script after which Linux 6.18's ext4 fails e2fsck (extents past their bounds, a wrapped length): esck's replay of it is consistent
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck od

# kdiff seed 2053 found it (variants 4k, 4k-nocsum, bigalloc): 1,700 punches
# of an fallocated file give a tree of depth 2 with single-block unwritten
# extents, then a truncate, two fallocs, a punch and a 440 KiB pwrite over
# them.  The kernel's result (the whole seed): "Inode 12, end of extent
# exceeds allowed value (logical block 875, physical block 7673, len
# 2917)" and "(logical block 3792, physical block 7679, len 4294964522)",
# i_blocks too high, blocks marked in use that nothing maps; this reduced
# script gives the same two extents.  Not semantics to copy.
T=$TEST_TMP
S=$top_srcdir/tests/replay/kernel-corrupts.esck
rp_mkimg "$T/img0" 256M -b 4096

cp "$T/img0" "$T/img"
"$ESCK" replay-truncate "$T/img" "$S" >"$T/out" 2>&1 ||
	{ tail -3 "$T/out"; test_fail "esck failed"; }
grep -q '^389 ops: 389 ok, 0 failed, 0 divergences$' "$T/out" ||
	{ tail -1 "$T/out"; test_fail "not every op ok and verified"; }
rp_fsck "$T/img"
test "$(rp_stat "$T/img" file0 Size)" = 4169728 || test_fail "i_size"
debugfs -R "dump file0 $T/f0" "$T/img" >/dev/null 2>&1
# The last pwrite: 0x69 from 3719168 to the end.
test "$(od -A n -t x1 -v -j 3719168 -N 450560 "$T/f0" | tr -s ' \n' '\n\n' | sort -u | grep -v '^$')" = 69 ||
	test_fail "the last pwrite's bytes"

# Where the kernel can run it, say what it does today (not a failure
# either way: a fixed kernel should then agree with esck).
if rp_kernel_ok; then
	cp "$T/img0" "$T/kimg"
	rp_kernel "$T/kimg" "$S"
	if e2fsck -fn "$T/kimg" >"$T/kfsck" 2>&1; then
		echo "kernel $(uname -r): e2fsck-clean; the bug is fixed here"
		test "$(rp_map "$T/kimg" file0)" = "$(rp_map "$T/img" file0)" ||
			test_fail "a fixed kernel and esck map file0 differently"
	else
		echo "kernel $(uname -r): e2fsck finds:"
		grep -e 'exceeds' -e 'should be' "$T/kfsck" | head -n 3
	fi
fi
test_done
