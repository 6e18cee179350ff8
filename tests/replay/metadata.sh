#!/bin/sh
# metadata.sh --- replay refuses a file whose extents, tree nodes or block map point at the filesystem's metadata (the kernel's system zone), and nothing else
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs dumpe2fs e2fsck cmp

cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"

# q IMG CMD: one debugfs request, read-only.
q()
{
	debugfs -R "$2" "$1" 2>/dev/null
}

# free_blk IMG BLK: the block is free in the bitmap.
free_blk()
{
	q "$1" "testb $2" | grep -q 'not in use'
}

# refused IMG FILE ID WHAT: a script touching only /FILE is refused op by op
# with ID, in JSON and in text, exit 8, and leaves the image byte-identical;
# with /good's ops after it, those still succeed.
refused()
{
	img=$1 f=$2 id=$3 what=$4
	printf '%s\n' "open /$f" "fpunch 0 1024" "truncate 0" "falloc 0 8192" \
		"pwrite 0 2048" "fsync" >only.esck
	cp "$img" r.img
	run_esck replay-truncate --json r.img only.esck
	test_status 8 "$what: replay"
	for line in 2 3 4 5 6; do
		grep "\"type\":\"op\",\"line\":$line," "$TEST_TMP/out" | grep -q "$id" ||
			test_fail "$what: line $line not refused with $id"
	done
	grep -q '"divergences":0' "$TEST_TMP/out" || test_fail "$what: divergences reported"
	cmp -s "$img" r.img || test_fail "$what: the image changed"
	cp "$img" r.img
	run_esck replay-truncate r.img only.esck
	test_status 8 "$what: replay, text"
	for line in 2 3 4 5 6; do
		test_grep "^only.esck:$line: [a-z]*: .*($id: " "$TEST_TMP/err" \
			"$what: line $line, text"
	done
	cmp -s "$img" r.img || test_fail "$what: the image changed (text)"
	# Other files' ops go on.
	printf '%s\n' "open /$f" "fpunch 0 1024" "open /good" "fpunch 0 1024" \
		"truncate 1024" >mixed.esck
	cp "$img" r.img
	run_esck replay-truncate --json r.img mixed.esck
	test_status 8 "$what: replay with /good"
	grep '"type":"op","line":2,' "$TEST_TMP/out" | grep -q "$id" ||
		test_fail "$what: /$f not refused beside /good"
	for line in 4 5; do
		grep "\"type\":\"op\",\"line\":$line," "$TEST_TMP/out" | grep -q '"result":"ok"' ||
			test_fail "$what: /good line $line not ok"
	done
	test "$(q r.img "bmap good 0")" = 0 || test_fail "$what: /good block 0 still mapped"
	# And inspect names the same problem for the file.
	ino=$(q "$img" "stat $f" | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
	if test "$5" != no-inspect; then
		run_esck inspect -q "$img"
		test_grep "^inode $ino: $id: " "$TEST_TMP/out" "$what: inspect"
	fi
}

# ---- extent-mapped: ext4 with flex_bg, 1 KiB blocks, an internal journal ----
rp_mkimg base.img 16M -b 1024 -O ^metadata_csum
rp_data data4 4096
rp_data data200 204800
for f in it bb sb jnl leaf good edge1 edge2; do
	case $f in
	leaf) rp_put base.img data200 $f ;;
	*) rp_put base.img data4 $f ;;
	esac
done
awk 'BEGIN { for (i = 1; i < 200; i += 2) printf "punch leaf %d %d\n", i, i }' |
	test_debugfs base.img
test "$(rp_depth base.img /leaf)" = 1 || test_hard_error "/leaf is not of depth 1"

dumpe2fs base.img 2>/dev/null >dump
itab=$(sed -n 's/^  Inode table at \([0-9]*\)-.*/\1/p' dump | head -n 1)
bb1=$(sed -n 's/^  Block bitmap at \([0-9]*\).*/\1/p' dump | sed -n 2p)
sb1=$(sed -n 's/^  Backup superblock at \([0-9]*\),.*/\1/p' dump | head -n 1)
jfirst=$(q base.img "bmap <8> 0")
jn=$(sed -n 's/^Total journal blocks: *//p' dump)
jlast=$(q base.img "bmap <8> $((jn - 1))")
test -n "$itab" && test -n "$bb1" && test -n "$sb1" && test -n "$jfirst" &&
	test -n "$jlast" || test_hard_error "cannot read the layout"
test "$sb1" -gt 1 || test_hard_error "no backup superblock in group 1"

# i_block words: header 0-2, entry 0 at 3; ee_start_lo is word 5 and an
# index's ei_leaf_lo word 4.
cp base.img bad.img
printf '%s\n' "sif it block[5] $((itab + 20))" \
	"sif bb block[5] $bb1" \
	"sif sb block[5] $((sb1 - 2))" \
	"sif jnl block[5] $((jfirst + 100))" \
	"sif leaf block[4] $((itab + 30))" | test_debugfs bad.img

refused bad.img it MAP_ON_METADATA "extent on the inode table"
refused bad.img bb MAP_ON_METADATA "extent on group 1's block bitmap"
# [sb1 - 2, sb1 + 1]: only its last two blocks are the backup superblock and GDT.
refused bad.img sb MAP_ON_METADATA "extent reaching into group 1's backup superblock"
# Inspect calls it MAP_DUP: the journal is inode 8's, which inspect walks.
refused bad.img jnl MAP_ON_METADATA "extent on the journal" no-inspect
refused bad.img leaf TREE_NODE_BLOCK "leaf block on the inode table"
# The inode table's leaf block itself is unchanged too (cmp covers it), and
# the file's own leaf, now unreferenced, was not freed.
leaf0=$(q base.img "ex leaf" | awk 'NR == 2 { print $8 }')
q bad.img "testb $leaf0" | grep -q 'marked in use' || test_fail "/leaf's old leaf block freed"

# An orphan on metadata, to be released: it stays, untouched, on the list.
cp bad.img orphan.img
ino=$(q orphan.img "stat it" | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
printf '%s\n' "unlink it" "sif <$ino> links_count 0" "ssv last_orphan $ino" |
	test_debugfs orphan.img
cp orphan.img r.img
run_esck replay-truncate r.img
test_status 8 "a damaged orphan"
test_grep "orphan inode $ino: .*(MAP_ON_METADATA: " "$TEST_TMP/err" "a damaged orphan refused"
cmp -s orphan.img r.img || test_fail "the damaged orphan's image changed"

# Right next to metadata is not on it: /edge1 ends just before the backup
# superblock, /edge2 starts just after the journal.
cp base.img edge.img
e1=$((sb1 - 4)) e2=$((jlast + 1))
free_blk edge.img $e1 && free_blk edge.img $((sb1 - 1)) && free_blk edge.img $e2 &&
	free_blk edge.img $((e2 + 3)) || test_hard_error "the blocks next to metadata are not free"
o1=$(q base.img "bmap edge1 0") o2=$(q base.img "bmap edge2 0")
printf '%s\n' "dump edge1 edge1.data" "dump edge2 edge2.data" | test_debugfs edge.img
printf '%s\n' "freeb $o1 4" "freeb $o2 4" "setb $e1 4" "setb $e2 4" \
	"sif edge1 block[5] $e1" "sif edge2 block[5] $e2" | test_debugfs edge.img
dd if=edge1.data of=edge.img bs=1024 seek=$e1 conv=notrunc 2>/dev/null
dd if=edge2.data of=edge.img bs=1024 seek=$e2 conv=notrunc 2>/dev/null
# setb and freeb leave the groups' free counts alone.
e2fsck -fy edge.img >/dev/null 2>&1
rp_fsck edge.img
printf '%s\n' "open /edge1" "fpunch 1024 2048" "truncate 3072" \
	"open /edge2" "fpunch 0 1024" "truncate 2048" >edge.esck
run_esck replay-truncate --json edge.img edge.esck
test_status 0 "extents next to metadata: replay"
test "$(rp_map edge.img /edge1)" = "0 0 W" || test_fail "/edge1 not punched"
test "$(rp_map edge.img /edge2)" = "1 1 W" || test_fail "/edge2 not punched"
free_blk edge.img $((e1 + 1)) && free_blk edge.img $e2 || test_fail "punched blocks not freed"
free_blk edge.img $sb1 && test_fail "the backup superblock was freed"
rp_fsck edge.img

# ---- block-mapped: ext3, no flex_bg, a block-mapped journal ----
mke2fs -q -F -t ext3 -b 1024 -U "$TEST_UUID" -E hash_seed="$TEST_HASH_SEED" \
	base3.img 16M >/dev/null 2>&1 || test_hard_error "mke2fs base3.img failed"
rp_data data20 20480
for f in dat ind jd far indfar good; do
	case $f in
	ind|indfar) rp_put base3.img data20 $f ;;
	*) rp_put base3.img data4 $f ;;
	esac
done
dumpe2fs base3.img 2>/dev/null >dump3
itab3=$(sed -n 's/^  Inode table at \([0-9]*\)-.*/\1/p' dump3 | head -n 1)
j3=$(q base3.img "bmap <8> 50")
nblocks=$(sed -n 's/^Block count: *//p' dump3)
test -n "$itab3" && test -n "$j3" && test -n "$nblocks" || test_hard_error "cannot read the ext3 layout"
q base3.img "stat ind" | grep -q '(IND):' || test_hard_error "/ind has no indirect block"
cp base3.img bad3.img
printf '%s\n' "sif dat block[1] $((itab3 + 5))" \
	"sif ind block[IND] $((itab3 + 7))" \
	"sif jd block[2] $j3" \
	"sif far block[3] $((nblocks + 10))" \
	"sif indfar block[IND] $((nblocks + 10))" | test_debugfs bad3.img
refused bad3.img dat MAP_ON_METADATA "ext3 data block on the inode table"
refused bad3.img ind MAP_IND_BLOCK "ext3 indirect block on the inode table"
refused bad3.img jd MAP_ON_METADATA "ext3 data block on the journal" no-inspect
refused bad3.img far MAP_OUT_OF_RANGE "ext3 data block past the end"
refused bad3.img indfar MAP_IND_BLOCK "ext3 indirect block past the end"
# The sound base: the same script on /dat is applied.
cp base3.img r.img
printf '%s\n' "open /dat" "fpunch 0 1024" "truncate 2048" >ok.esck
run_esck replay-truncate r.img ok.esck
test_status 0 "ext3: a sound block map"
rp_fsck r.img

test_done
