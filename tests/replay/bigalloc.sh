#!/bin/sh
# bigalloc.sh --- replay-truncate on bigalloc: clusters freed only when unused, reused when backed, reserved per cluster (TAP)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck dumpe2fs

# Every expected map, i_blocks and free count below is what Linux 6.x gave
# for the same script through xfs_io on a loop mount of the same image.
T=$TEST_TMP
ntap=0
# tap OK DESCRIPTION: one TAP line; a failed one also fails the test.
tap()
{
	ntap=$((ntap + 1))
	if test "$1" = 1; then
		echo "ok $ntap - $2"
	else
		echo "not ok $ntap - $2"
		test_fail "$2"
	fi
}

# free_clusters IMG: the superblock's free count, in clusters.
free_clusters()
{
	_fb=$(dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Free blocks: *//p')
	_cs=$(dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Cluster size: *//p')
	_bs=$(dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Block size: *//p')
	echo $((_fb / (_cs / _bs)))
}

# pblk IMG LBLK: the physical block of f's logical block.
pblk()
{
	debugfs -R "bmap f $2" "$1" 2>/dev/null | sed 's/ .*//'
}

# leaves IMG: the number of leaf extents of f.
leaves()
{
	debugfs -R "ex f" "$1" 2>/dev/null |
		awk 'NR > 1 { gsub(/\//, " "); if ($1 == $2) n++ } END { print n + 0 }'
}

# case NAME BASE MAP BLOCKCOUNT FREED SCRIPT-LINES...: run the script on a
# copy of BASE; the map of f, its i_blocks (512-byte units) and the
# clusters freed (negative: taken) must be as given, and e2fsck clean.
case_()
{
	name=$1 base=$2 map=$3 count=$4 freed=$5
	shift 5
	cp "$base" "$img"
	{ echo 'open f'; printf '%s\n' "$@"; } >"$T/s"
	"$ESCK" replay-truncate "$img" "$T/s" >"$T/out" 2>"$T/err"
	st=$?
	test $st -eq 0 || cat "$T/out" "$T/err"
	tap "$((st == 0))" "$name: exit $st"
	got=$(rp_map "$img" f)
	want=$(printf '%s\n' "$map" | sed '/^$/d')
	test "$got" = "$want" || printf 'got:\n%s\nwant:\n%s\n' "$got" "$want"
	tap "$(test "$got" = "$want" && echo 1)" "$name: extents"
	got=$(rp_stat "$img" f Blockcount)
	tap "$(test "$got" = "$count" && echo 1)" "$name: i_blocks $got, want $count"
	got=$(($(free_clusters "$img") - $(free_clusters "$base")))
	tap "$(test "$got" = "$freed" && echo 1)" "$name: clusters freed $got, want $freed"
	e2fsck -fn "$img" >"$T/fsck" 2>&1 || cat "$T/fsck"
	tap "$(e2fsck -fn "$img" >/dev/null 2>&1 && echo 1)" "$name: e2fsck -fn clean"
}

img=$T/a.img
# 4 KiB blocks in 64 KiB clusters; /f: 64 blocks, four clusters, one extent.
A=$T/base64k.img
rp_mkimg "$A" 64M -O ^has_journal,bigalloc -b 4096 -C 65536
rp_data "$T/f.data" 262144
rp_put "$A" "$T/f.data" f

# A block inside a cluster the rest of its extent still uses: kept.
case_ "punch a block in a cluster" "$A" "0 4 W
6 63 W" 512 0 'fpunch 20k 4k'

# Whole clusters: freed.
case_ "punch whole clusters" "$A" "0 15 W
48 63 W" 256 2 'fpunch 64k 128k'

# kernel-es.md §7: two extents share cluster 1 (blocks 16-31) once block 20
# is gone.  Punching the head of the right one, or the tail of the left
# one, must keep the cluster the other still uses; punching both frees it.
case_ "punch the head of an extent sharing its cluster" "$A" "0 19 W
33 63 W" 512 0 'fpunch 80k 4k' 'fpunch 84k 48k'
case_ "punch the tail of an extent sharing its cluster" "$A" "0 15 W
21 63 W" 512 0 'fpunch 80k 4k' 'fpunch 64k 16k'
case_ "punch both extents of a shared cluster" "$A" "0 15 W
32 63 W" 384 1 'fpunch 80k 4k' 'fpunch 64k 64k'

# Truncate into the middle of a cluster: it stays, the ones past it go.
case_ "truncate into a cluster" "$A" "0 22 W" 256 2 'truncate 90k'
case_ "truncate to 0" "$A" "" 0 4 'truncate 0'

# falloc into a partly mapped cluster reuses its physical cluster at the
# same offsets; past it, a new cluster.
case_ "falloc into a mapped cluster" "$A" "0 22 W
25 33 U" 384 1 'truncate 90k' 'falloc 100k 20k' 'falloc 120k 16k'
tap "$(test $(($(pblk "$img" 25) - $(pblk "$img" 0))) = 25 && echo 1)" \
	"falloc: block 25 in the physical cluster of block 0, same offset"
tap "$(test $(($(pblk "$img" 32) % 16)) = 0 && echo 1)" \
	"falloc: block 32 at the start of a new cluster"

# pwrite + fsync into a hole of a mapped cluster: the block goes back to
# its place in the cluster, and the extents on both sides join again.
case_ "pwrite and fsync into a hole of a cluster" "$A" "0 63 W" 512 0 \
	'fpunch 20k 4k' 'pwrite 20k 4k' 'fsync'
tap "$(test $(($(pblk "$img" 5) - $(pblk "$img" 0))) = 5 && echo 1)" \
	"pwrite: block 5 written back into its own cluster"
tap "$(test "$(leaves "$img")" = 1 && echo 1)" "pwrite: one extent again"

# Four one-block holes: five extents, the root splits and a tree block
# takes a cluster of its own (64 KiB = 128 sectors in i_blocks).
case_ "a split takes a cluster" "$A" "0 4 W
6 9 W
11 19 W
21 29 W
31 63 W" 640 -1 'fpunch 20k 4k' 'fpunch 40k 4k' 'fpunch 80k 4k' 'fpunch 120k 4k'
tap "$(test "$(rp_depth "$img" f)" = 1 && echo 1)" "split: the tree grew a level"
truncate_depth=$img.d1
cp "$img" "$truncate_depth"
case_ "truncate to 0 frees the tree block" "$truncate_depth" "" 0 5 'truncate 0'

# 1 KiB blocks in 4 KiB clusters.
B=$T/base1k.img
rp_mkimg "$B" 64M -O ^has_journal,bigalloc -b 1024 -C 4096
rp_data "$T/g.data" 102400
rp_put "$B" "$T/g.data" f
case_ "1 KiB blocks: unaligned punches" "$B" "0 4 W
24 48 W
51 68 W
73 99 W" 168 4 'fpunch 5000 20000' 'fpunch 30000 1000' 'fpunch 50000 3000' \
	'fpunch 70000 5000' 'fpunch 90000 1000'
case_ "1 KiB blocks: truncate, pwrite, falloc" "$B" "0 9 W
11 14 W
19 28 U" 64 17 'truncate 10000' 'pwrite 12000 3000' 'fsync' 'falloc 20000 9000'

# An orphan whose size was cut to 90000 bytes: completed as a mount does,
# the clusters past its last block freed, the one it ends in kept.
cp "$A" "$img"
ino=$(debugfs -R "stat f" "$img" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
printf 'sif f size 90000\nsif f dtime 0\nssv last_orphan %s\n' "$ino" >"$T/dbg"
debugfs -w -f "$T/dbg" "$img" >/dev/null 2>&1
"$ESCK" replay-truncate "$img" >"$T/out" 2>"$T/err"
st=$?
tap "$((st == 0))" "orphan: exit $st"
tap "$(test "$(rp_map "$img" f)" = "0 21 W" && echo 1)" "orphan: extents $(rp_map "$img" f)"
tap "$(test "$(rp_stat "$img" f Blockcount)" = 256 && echo 1)" "orphan: i_blocks"
tap "$(test $(($(free_clusters "$img") - $(free_clusters "$A"))) = 2 && echo 1)" \
	"orphan: two clusters freed"
rp_fsck "$img"

# A dry run changes nothing on the image.
cp "$A" "$img"
printf 'open f\nfpunch 64k 128k\ntruncate 0\n' >"$T/s"
"$ESCK" replay-truncate -n "$img" "$T/s" >"$T/out" 2>"$T/err"
st=$?
tap "$((st == 0))" "dry run: exit $st"
tap "$(grep -q '^3: truncate 0: ok$' "$T/out" && echo 1)" "dry run: the ops report ok"
tap "$(cmp -s "$img" "$A" && echo 1)" "dry run: the image is unchanged"

# The split of the fifth extent on a file system with no free cluster:
# ENOSPC, and the image exactly as before.
C=$T/full.img
rp_mkimg "$C" 16M -O ^has_journal,bigalloc -b 4096 -C 65536
rp_put "$C" "$T/f.data" f
printf 'open f\nfpunch 20k 4k\nfpunch 40k 4k\nfpunch 80k 4k\n' >"$T/s"
"$ESCK" replay-truncate "$C" "$T/s" >/dev/null 2>&1 || test_hard_error "holes on the full image"
nfree=$(free_clusters "$C")
head -c $((nfree * 65536)) /dev/zero | tr '\000' x >"$T/fill"
rp_put "$C" "$T/fill" fill
test "$(free_clusters "$C")" = 0 || test_hard_error "the image is not full"
cp "$C" "$img"
printf 'open f\nfpunch 120k 4k\n' >"$T/s"
"$ESCK" replay-truncate "$img" "$T/s" >"$T/out" 2>"$T/err"
st=$?
tap "$((st == 8))" "split on a full file system: exit $st, want 8"
tap "$(grep -q 's:2: fpunch: No space left on device$' "$T/err" && echo 1)" \
	"split on a full file system: ENOSPC"
tap "$(cmp -s "$img" "$C" && echo 1)" "split on a full file system: image unchanged"

# A failed write in the middle of that split (the tree block, the bitmap,
# the inode...): the op is rolled back, the image exactly as before.
n=1
while :; do
	cp "$A" "$img"
	printf 'open f\nfpunch 20k 4k\nfpunch 40k 4k\nfpunch 80k 4k\n' >"$T/s"
	"$ESCK" replay-truncate "$img" "$T/s" >/dev/null 2>&1 || test_hard_error "holes"
	cp "$img" "$T/before.img"
	printf 'open f\nfpunch 120k 4k\n' >"$T/s"
	"$ESCK" replay-truncate --fail-write=$n "$img" "$T/s" >"$T/out" 2>"$T/err"
	st=$?
	test $st -eq 0 && break
	tap "$(test $st -eq 8 && cmp -s "$img" "$T/before.img" && echo 1)" \
		"split, write $n failed: exit $st, image unchanged"
	n=$((n + 1))
	test $n -le 50 || { tap 0 "split: over 50 writes"; break; }
done
tap "$((n > 2))" "split: $((n - 1)) writes failed in turn"
tap "$(test "$(rp_depth "$img" f)" = 1 && echo 1)" "split: done without a fault"

# Cache allocations failing (--fail-alloc) under the nofail policy: the
# op completes, cache and disk agree.
cp "$A" "$img"
printf 'open f\nfpunch 80k 4k\nfpunch 64k 64k\npwrite 70k 4k\nfsync\n' >"$T/s"
"$ESCK" replay-truncate --fail-alloc=every:2 --verify=full "$img" "$T/s" >"$T/out" 2>"$T/err"
st=$?
tap "$((st == 0))" "fail-alloc every:2: exit $st"
tap "$(grep -q ' 0 divergences' "$T/out" && echo 1)" "fail-alloc every:2: no divergence"
rp_fsck "$img"

# Delayed allocation reserves per cluster: with 9 free clusters, 5 of them
# s_resv_clusters (2% of 256), one-block writes in four new clusters fit,
# a fifth does not; a write into a cluster already reserved still does.
D=$T/res.img
rp_mkimg "$D" 16M -O ^has_journal,bigalloc -b 4096 -C 65536
nfree=$(free_clusters "$D")
head -c $(((nfree - 9) * 65536)) /dev/zero | tr '\000' x >"$T/fill"
rp_put "$D" "$T/fill" fill
test "$(free_clusters "$D")" = 9 || test_hard_error "want 9 free clusters"
cp "$D" "$img"
{
	echo 'open -f g'
	for i in 0 1 2 3 4 5; do echo "pwrite $((i * 65536)) 4096"; done
	echo 'pwrite 4096 8192'
} >"$T/s"
"$ESCK" replay-truncate "$img" "$T/s" >"$T/out" 2>"$T/err"
tap "$(test "$(grep -c 'pwrite.*: ok$' "$T/out")" = 5 && echo 1)" \
	"reservation: 4 new clusters and a reserved one written, $(grep -c 'pwrite.*: ok$' "$T/out") in all"
tap "$(grep -q '^6: pwrite -S 0xcd 262144 4096: error$' "$T/out" && echo 1)" \
	"reservation: the fifth new cluster is refused"
tap "$(grep -q 's:6: pwrite: No space left on device$' "$T/err" && echo 1)" \
	"reservation: ENOSPC"
rp_fsck "$img"

echo "1..$ntap"
test_done
