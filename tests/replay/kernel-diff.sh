#!/bin/sh
# kernel-diff.sh --- the same scripts through esck and through the kernel (xfs_io on a loop mount)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck
rp_kernel_ok || test_skip "loop mounts or xfs_io not available"

# Each case: NAME, block size, then the script.  The image holds /f (400
# blocks of data, written by debugfs) and /g (3 blocks and 100 bytes).
run_case()
{
	name=$1 bs=$2
	shift 2
	printf '%s\n' "$@" >"$TEST_TMP/$name.script"
	rp_mkimg "$TEST_TMP/base.img" 32M -b "$bs"
	rp_data "$TEST_TMP/f.data" $((400 * bs))
	rp_data "$TEST_TMP/g.data" $((3 * bs + 100))
	rp_put "$TEST_TMP/base.img" "$TEST_TMP/f.data" f
	rp_put "$TEST_TMP/base.img" "$TEST_TMP/g.data" g
	cp "$TEST_TMP/base.img" "$TEST_TMP/esck.img"
	cp "$TEST_TMP/base.img" "$TEST_TMP/kern.img"
	"$ESCK" replay-truncate "$TEST_TMP/esck.img" "$TEST_TMP/$name.script" \
		>"$TEST_TMP/esck.out" 2>&1
	st=$?
	test $st -eq 0 || { cat "$TEST_TMP/esck.out"; test_fail "$name: esck exit $st"; }
	rp_kernel "$TEST_TMP/kern.img" "$TEST_TMP/$name.script"
	rp_fsck "$TEST_TMP/esck.img"
	for p in f g new; do
		rp_map "$TEST_TMP/esck.img" $p >"$TEST_TMP/map.e"
		rp_map "$TEST_TMP/kern.img" $p >"$TEST_TMP/map.k"
		cmp -s "$TEST_TMP/map.e" "$TEST_TMP/map.k" || {
			echo "--- kernel"; cat "$TEST_TMP/map.k"; echo "--- esck"; cat "$TEST_TMP/map.e"
			test_fail "$name: /$p: extent maps differ"
		}
		a=$(rp_stat "$TEST_TMP/esck.img" $p Size)
		b=$(rp_stat "$TEST_TMP/kern.img" $p Size)
		test "$a" = "$b" || test_fail "$name: /$p: Size $a, kernel $b"
		a=$(rp_data_sectors "$TEST_TMP/esck.img" $p)
		b=$(rp_data_sectors "$TEST_TMP/kern.img" $p)
		test "$a" = "$b" || test_fail "$name: /$p: data sectors $a, kernel $b"
		rp_read "$TEST_TMP/esck.img" $p "$TEST_TMP/read.e" 2>/dev/null
		rp_read "$TEST_TMP/kern.img" $p "$TEST_TMP/read.k" 2>/dev/null
		cmp -s "$TEST_TMP/read.e" "$TEST_TMP/read.k" || test_fail "$name: /$p: contents differ"
	done
}

run_case punch-middle 4096 'open f' 'fpunch 40960 16384'
run_case punch-unaligned 4096 'open f' 'fpunch 5000 20000' 'fpunch 100 10'
run_case punch-same-block 1024 'open f' 'fpunch 2000 30'
run_case punch-head-tail 4096 'open f' 'fpunch 0 8192' 'fpunch 1630000 100000'
run_case punch-past-eof 4096 'open g' 'fpunch 8192 100000' 'fpunch 20000 4096'
run_case punch-many 1024 'open f' 'fpunch 1024 1024' 'fpunch 3072 1024' \
	'fpunch 5120 1024' 'fpunch 7168 1024' 'fpunch 9216 1024' 'fpunch 100000 3'
run_case truncate-shrink 4096 'open f' 'truncate 100001' 'open g' 'truncate 5000'
run_case truncate-zero 1024 'open f' 'truncate 0'
run_case truncate-extend 4096 'open g' 'truncate 1000000' 'truncate 20000'
run_case truncate-same 4096 'open g' 'falloc -k 20000 40000' 'truncate 12388'
run_case falloc 4096 'open g' 'falloc 100000 50000' 'falloc -k 300000 4096' \
	'open f' 'fpunch 40960 16384' 'falloc 36000 30000'
run_case create 4096 'open -f new' 'falloc 0 40960' 'truncate 10000' 'fpunch 0 4096'
run_case mixed 1024 'open f' 'fpunch 5000 20000' 'truncate 300000' \
	'falloc 400000 50000' 'falloc -k 600000 8192' 'truncate 500000' 'truncate 250000'
# Past EOF a punch ends with the page holding i_size (Linux 6.18), not its block.
run_case punch-eof-page 1024 'open -f new' 'falloc -k 0 20k' 'truncate 5000' \
	'fpunch 2048 2952' 'fpunch 1024 100k'
run_case punch-eof-aligned 1024 'open -f new' 'falloc -k 0 20k' 'truncate 8192' \
	'fpunch 2048 100k'
test_done
