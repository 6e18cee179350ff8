#!/bin/sh
# highblocks.sh --- a real 64-bit ext4 of just over 2^32 blocks: extents and tree nodes above block 2^32 inspected, punched and truncated
#
# 1 KiB blocks and a sparse image of 2^32 + a few blocks, so block numbers
# need ee_start_hi / ei_leaf_hi.  Quick setting: bigalloc with 64 KiB
# clusters (8193 groups: mke2fs takes a fraction of a second), inspected
# with a replay that frees clusters above 2^32.  ESCK_THOROUGH=1 (or
# --thorough) adds the plain 1 KiB image (524296 groups: about 20 s of
# mke2fs and 6 s per full inspect), which is also punched and truncated
# above 2^32 by replay-truncate.  The extents are planted with debugfs's
# extent editor (set_bmap), their blocks marked with setb; e2fsck -fy may
# then fix the free counts only, and e2fsck -fn must be clean.
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs e2fsck truncate

thorough=${ESCK_THOROUGH:-0}
test "${1-}" = --thorough && thorough=1

cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"
export E2FSPROGS_FAKE_TIME=1700000000

H=4294967296		# 2^32
# The filesystem holding $TMPDIR must take a sparse file past 4 TiB.
truncate -s $((H * 1024 + 64 * 1048576)) probe 2>probe.err ||
	test_skip "$TEST_TMP cannot hold a sparse file of 4 TiB: $(cat probe.err)"
rm -f probe

# q IMAGE COMMAND: debugfs read-only.
q()
{
	debugfs -R "$2" "$1" 2>/dev/null
}

# Layout, every extent with pblk = lblk (mod 64), one physical cluster per
# logical cluster, so that it is legal under bigalloc too:
#   /leaf  depth 0: [0-2] at H+128, [5] at H+133, [6] unwritten at H+134,
#          [70] at END+6 (END: 64-aligned, near the end of the filesystem)
#   /tree  depth 1: [64k] at H+1024+128k for k = 0..6; its leaf block is
#          allocated by libext2fs next to them (checked below)
# plant IMAGE BLOCKS CLUSTER_BLOCKS
plant()
{
	pl_img=$1 pl_n=$2 pl_c=$3
	END=$(((pl_n - 1024) / 64 * 64))
	{
		echo "write /dev/null leaf"
		echo "eo leaf"
		echo "set_bmap 0 $((H + 128))"
		echo "set_bmap 1 $((H + 129))"
		echo "set_bmap 2 $((H + 130))"
		echo "set_bmap 5 $((H + 133))"
		echo "set_bmap --uninit 6 $((H + 134))"
		echo "set_bmap 70 $((END + 6))"
		echo "extent_close"
		echo "write /dev/null tree"
		echo "eo tree"
		for k in 0 1 2 3 4 5 6; do
			echo "set_bmap $((64 * k)) $((H + 1024 + 128 * k))"
		done
		echo "extent_close"
	} >plant.cmds
	debugfs -w -f plant.cmds "$pl_img" >plant.out 2>&1 ||
		{ cat plant.out; test_hard_error "debugfs: plant on $pl_img"; }
	grep -i -e error -e 'not found' plant.out && test_hard_error "debugfs complained on $pl_img"
	# Mark the data blocks, then take the groups out of BLOCK_UNINIT (in
	# the same session, so the bitmaps are written whole at close).  No
	# inode lives there: INODE_UNINIT stays right.
	{
		echo "setb $((H + 128)) 3"
		echo "setb $((H + 133)) 2"
		echo "setb $((END + 6))"
		for k in 0 1 2 3 4 5 6; do
			echo "setb $((H + 1024 + 128 * k))"
		done
		fdb=$(q "$pl_img" stats | sed -n 's/^First block: *//p')
		bpg=$(q "$pl_img" stats | sed -n 's/^Blocks per group: *//p')
		for b in $((H + 128)) $((H + 1024)) $((H + 1024 + 128 * 6)) $((END + 6)); do
			echo $(((b - fdb) / bpg))
		done | sort -u | while read -r g; do
			echo "set_bg $g flags 1"
			echo "set_bg $g checksum calc"
		done
		# i_blocks in 512-byte sectors: 6 blocks / 2 clusters, 8 / 8
		if test "$pl_c" -gt 1; then
			echo "sif leaf blocks $((2 * pl_c * 2))"
			echo "sif tree blocks $((8 * pl_c * 2))"
		else
			echo "sif leaf blocks 12"
			echo "sif tree blocks 16"
		fi
		echo "sif leaf size $((71 * 1024))"
		echo "sif tree size $((385 * 1024))"
	} >mark.cmds
	debugfs -w -f mark.cmds "$pl_img" >mark.out 2>&1 ||
		{ cat mark.out; test_hard_error "debugfs: mark on $pl_img"; }
	e2fsck -fy "$pl_img" >fsck-y.out 2>&1
	# Only the summary counts may need fixing.
	awk '/Fix\? yes/ { print prev } { prev = $0 }' fsck-y.out |
		grep -v -e 'count wrong' >fsck-y.other
	if test -s fsck-y.other; then
		cat fsck-y.out
		test_hard_error "e2fsck -fy fixed more than the counts on $pl_img"
	fi
	e2fsck -fn "$pl_img" >fsck.out 2>&1 ||
		{ cat fsck.out; test_hard_error "e2fsck -fn on the planted $pl_img"; }
}

# map_debugfs IMAGE FILE: "lblk len pblk status" of every leaf extent, from debugfs ex.
map_debugfs()
{
	q "$1" "ex $2" | awk 'NR > 1 { split($0, a, "/"); if (a[1] + 0 != a[2] + 0) next
		s = ($0 ~ /Uninit/) ? "unwritten" : "written"
		# left: LOGICAL0 - LOGICAL1 PHYSICAL0 - PHYSICAL1 LENGTH
		sub(/^[^\/]*\/ *[0-9]+ +[0-9]+\/ *[0-9]+ +/, "")
		print $1, $7, $4, s }'
}

# map_esck JSON: the same from esck inspect --json --map.
map_esck()
{
	sed 's/},{/}\n{/g' "$1" |
		sed -n 's/.*"lblk":\([0-9]*\),"len":\([0-9]*\),"pblk":\([0-9]*\),"status":"\([a-z]*\)".*/\1 \2 \3 \4/p'
}

# check_map IMAGE FILE WHAT: esck's map of FILE is debugfs's, every block above 2^32.
check_map()
{
	run_esck inspect --json --map -i "/$2" "$1"
	test_status 0 "$3: inspect /$2"
	map_esck "$TEST_TMP/out" >esck.map
	map_debugfs "$1" "$2" >debugfs.map
	test -s debugfs.map || test_hard_error "$3: no extents from debugfs for /$2"
	test_cmp debugfs.map esck.map "$3: /$2 map, esck against debugfs"
	awk -v h=$H '$3 <= h { exit 1 }' esck.map ||
		test_fail "$3: /$2 has an extent at or below 2^32"
}

# one IMAGE BLOCKS CLUSTER_BLOCKS WHAT [MKE2FS_OPTION...]
one()
{
	img=$1 n=$2 c=$3 what=$4
	shift 4
	t0=$(date +%s)
	mke2fs -F -q -t ext4 -b 1024 -U "$TEST_UUID" -E "hash_seed=$TEST_HASH_SEED" \
		-N 1024 -O ^has_journal,^resize_inode -E lazy_itable_init=1,nodiscard "$@" \
		"$img" "$n" >mke2fs.log 2>&1 || { cat mke2fs.log; test_hard_error "$what: mke2fs"; }
	t1=$(date +%s)
	test "$(q "$img" stats | sed -n 's/^Block count: *//p')" = "$n" ||
		test_hard_error "$what: not $n blocks"
	plant "$img" "$n" "$c"
	t2=$(date +%s)

	check_map "$img" leaf "$what"
	check_map "$img" tree "$what"
	node=$(q "$img" "ex -n tree" | awk 'NR == 2 { print $8 }')
	test -n "$node" && test "$node" -gt "$H" ||
		test_fail "$what: /tree's leaf block '$node' is not above 2^32"
	test_grep '"depth":1,"nr_extents":7,"tree_blocks":1,' "$TEST_TMP/out" "$what: /tree shape"
	# the whole image: bitmaps, metadata and maps agree
	run_esck inspect -q "$img"
	test_status 0 "$what: inspect the whole image"
	test_empty "$TEST_TMP/out" "$what: problems"
	t3=$(date +%s)
	echo "$what: mke2fs $((t1 - t0)) s, planting $((t2 - t1)) s, inspect $((t3 - t2)) s"
}

# replay IMAGE WHAT: a punch inside /leaf's first extent, truncates of both
# files, all freeing blocks above 2^32.
replay()
{
	img=$1 what=$2
	t0=$(date +%s)
	cat >s.esck <<EOF
open /leaf
fpunch 1024 1024
truncate 7168
open /tree
truncate 196608
EOF
	run_esck replay-truncate "$img" s.esck
	test_status 0 "$what: replay above 2^32"
	e2fsck -fn "$img" >fsck.out 2>&1 || { cat fsck.out; test_fail "$what: e2fsck -fn after the replay"; }
	for b in $((H + 129)) $((END + 6)) $((H + 1024 + 128 * 3)) $((H + 1024 + 128 * 6)); do
		q "$img" "testb $b" | grep -q "^Block $b not in use" ||
			test_fail "$what: block $b is still in use after the replay"
	done
	for b in $((H + 128)) $((H + 130)) $((H + 134)) $((H + 1024 + 128 * 2)) "$node"; do
		q "$img" "testb $b" | grep -q "^Block $b marked in use" ||
			test_fail "$what: block $b was freed by the replay"
	done
	check_map "$img" leaf "$what, after the replay"
	printf '%s\n' "0 1 $((H + 128)) written" "2 1 $((H + 130)) written" \
		"5 1 $((H + 133)) written" "6 1 $((H + 134)) unwritten" >expected.map
	test_cmp expected.map esck.map "$what: /leaf after the replay"
	test_grep '"size":7168,' "$TEST_TMP/out" "$what: /leaf's size after the replay"
	check_map "$img" tree "$what, after the replay"
	test_grep '"nr_extents":3,' "$TEST_TMP/out" "$what: /tree after the replay"
	t1=$(date +%s)
	echo "$what: replay and checks $((t1 - t0)) s"
}

# ---- near 2^48, on a small image: ext4's on-disk block numbers end at
# 2^48 - 1.  An extent crossing 2^48 (or just past the end) is
# MAP_OUT_OF_RANGE, an index entry with ei_leaf_hi 0xffff TREE_NODE_BLOCK:
# one line per inode, exit 4, and replay refuses the file's ops and writes
# nothing.  timeout turns a hang into a failure.
printf '#!/bin/sh\nexec timeout 300 %s "$@"\n' "$ESCK" >esck-timeout
chmod +x esck-timeout
ESCK_REAL=$ESCK ESCK=$TEST_TMP/esck-timeout
PL_TMP=$TEST_TMP
. "$top_srcdir/tests/corrupt/plant.sh"
test_mkfs n48.img 16M -O ^metadata_csum
yes 'near 2^48' | head -c 204800 >data
{
	echo "write data cross"
	echo "write data last"
	echo "write data idx"
	echo "write data leaf"
	pl_punch_odd idx 200
	pl_punch_odd leaf 200
	echo "write data sound"
} | test_debugfs n48.img
# i_block words: entry 0 at word 3; a leaf's ee_len | ee_start_hi << 16 is
# word 4, ee_start_lo word 5; an index's ei_leaf_lo word 4, ei_leaf_hi the
# low half of word 5.
pl_set_word n48.img cross 4 $(((0xffff << 16) | 32)) &&
	pl_set_word n48.img cross 5 0xfffffff0 &&		# 2^48 - 16, 32 blocks
	pl_set_word n48.img last 4 $(((0xffff << 16) | 1)) &&
	pl_set_word n48.img last 5 0xffffffff &&		# 2^48 - 1 itself
	pl_set_word n48.img idx 4 0xffffffff &&
	pl_set_word n48.img idx 5 0xffff &&			# child 2^48 - 1
	lb=$(pl_node n48.img leaf 1) &&
	pl_wr n48.img $((lb * 1024 + 16)) 2 2 &&		# [0-1] at 2^48 - 1
	pl_wr n48.img $((lb * 1024 + 18)) 2 0xffff &&
	pl_wr n48.img $((lb * 1024 + 20)) 4 0xffffffff ||
	test_hard_error "cannot plant the 2^48 cases"
printf '%s\n' "sif cross size 32768" "sif cross blocks 64" "sif last size 1024" \
	"sif last blocks 2" | test_debugfs n48.img

P48=281474976710656	# 2^48
run_esck inspect -q n48.img
test_status 4 "2^48: inspect"
test_empty "$TEST_TMP/err" "2^48: inspect stderr"
for c in "cross MAP_OUT_OF_RANGE 0, len 32, pblk $((P48 - 16))" \
	 "last MAP_OUT_OF_RANGE 0, len 1, pblk $((P48 - 1))" \
	 "idx TREE_NODE_BLOCK 0, pblk $((P48 - 1))," \
	 "leaf MAP_OUT_OF_RANGE 0, len 2, pblk $((P48 - 1))"; do
	set -- $c
	f=$1 id=$2
	shift 2
	ino=$(q n48.img "stat $f" | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
	grep "^inode $ino: " "$TEST_TMP/out" >lines
	test "$(wc -l <lines)" -eq 1 ||
		{ cat lines; test_fail "2^48: /$f: $(wc -l <lines) problem lines, expected one"; }
	test_grep "^inode $ino: $id: .* (lblk $*" lines "2^48: /$f"
done
grep -q "^inode $(q n48.img "stat sound" | sed -n 's/^Inode: \([0-9]*\).*/\1/p'): " "$TEST_TMP/out" &&
	test_fail "2^48: a problem on the sound file"

for c in cross:MAP_OUT_OF_RANGE last:MAP_OUT_OF_RANGE idx:TREE_NODE_BLOCK leaf:MAP_OUT_OF_RANGE; do
	f=${c%%:*} id=${c#*:}
	printf '%s\n' "open /$f" "fpunch 1024 1024" "truncate 1024" "falloc 0 4096" >r.esck
	cp n48.img r.img
	run_esck replay-truncate r.img r.esck
	test_status 8 "2^48: replay on /$f"
	for line in 2 3 4; do
		test_grep "^r.esck:$line: [a-z]*: Extent tree is corrupt ($id: " "$TEST_TMP/err" \
			"2^48: /$f line $line refused"
	done
	test "$(grep -c -v '^r.esck:[234]: ' "$TEST_TMP/err")" -eq 0 ||
		{ cat "$TEST_TMP/err"; test_fail "2^48: /$f: more on stderr than the refusals"; }
	cmp -s n48.img r.img || test_fail "2^48: replay on /$f changed the image"
done
ESCK=$ESCK_REAL
rm -f n48.img r.img

# replay_clusters IMAGE WHAT: the same script on the bigalloc image, where
# whole clusters above 2^32 must come free and the rest stay consistent.
replay_clusters()
{
	img=$1 what=$2
	free0=$(dumpe2fs -h "$img" 2>/dev/null | sed -n 's/^Free blocks: *//p')
	printf '%s\n' "open /leaf" "fpunch 1024 1024" "truncate 7168" \
		"open /tree" "truncate 196608" >s.esck
	run_esck replay-truncate "$img" s.esck
	test_status 0 "$what: replay above 2^32"
	e2fsck -fn "$img" >fsck.out 2>&1 || { cat fsck.out; test_fail "$what: e2fsck -fn after the replay"; }
	run_esck inspect -q "$img"
	test_status 0 "$what: inspect after the replay"
	free1=$(dumpe2fs -h "$img" 2>/dev/null | sed -n 's/^Free blocks: *//p')
	test "$free1" -gt "$free0" ||
		test_fail "$what: the replay freed no cluster ($free0 -> $free1 free blocks)"
	echo "$what: free blocks $free0 -> $free1"
}

one ba.img $((H + 524288)) 64 "bigalloc" -O bigalloc -C 65536
replay_clusters ba.img "bigalloc"
rm -f ba.img

if test "$thorough" = 1; then
	one plain.img $((H + 65536)) 1 "1 KiB blocks"
	replay plain.img "1 KiB blocks"
else
	echo "the plain 1 KiB image (and the replay above 2^32) runs with ESCK_THOROUGH=1"
fi

test_done
