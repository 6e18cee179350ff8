# plant.sh --- base images and one corruption recipe per problem ID, sourced by tests/corrupt/run.sh
#
# POSIX sh, sourced (not run).  The caller sets PL_TMP (a scratch directory)
# and sources tests/lib.sh first (TEST_UUID, TEST_HASH_SEED).
#
# Base images (1 KiB blocks, 16 MiB, fixed UUID, hash seed and time):
#   e4   ext4 without metadata_csum (tree edits need no checksum fix-up)
#   e4c  the same with metadata_csum (for the checksum cases)
#   e2   ext2 (block-mapped files)
#   ba   ext4 with bigalloc, 4 KiB clusters of 1 KiB blocks, no metadata_csum
# Files in e4 / e4c, written in this order:
#   /small   12 KiB, blocks 4 and 8 punched: depth 0, extents [0-3] [5-7] [9-11]
#   /small2  4 KiB, one extent
#   /prealloc  i_size 4096, blocks 0-15 one unwritten extent (12 past EOF: legal)
#   /d1      200 KiB, every odd block punched: depth 1, 100 extents in 3 leaves
#   /d2      4 MiB, every odd block punched: depth 2, 2048 extents in 25 leaves
#   /dir/f, /link (a fast symlink)
#   /xattr   4 KiB, with an extended attribute too big for the inode: an EA block
# Files in e2:
#   /ind     20 KiB: 12 direct blocks and one indirect block
# Files in ba:
#   /small   12 KiB, one extent of three clusters
#
# Raw layouts used below (little endian).  Inode: i_block is at byte 40, 15
# words.  Extent header (12 bytes): magic u16 0xF30A, entries u16, max u16,
# depth u16, generation u32; then 12-byte entries.  Leaf entry: ee_block u32,
# ee_len u16, ee_start_hi u16, ee_start_lo u32.  Index entry: ei_block u32,
# ei_leaf_lo u32, ei_leaf_hi u16, unused u16.  So in i_block, entry k starts
# at word 3 + 3k: a leaf's length is word 4 + 3k (low half) and its start word
# 5 + 3k; an index's child is word 4 + 3k.
#
# The case table.  One line per case: NAME BASE FILE EXPECTED [FORBIDDEN].
# EXPECTED is one problem ID, or several joined by "|" when any of them is a
# right answer (such a line does not count as coverage in ids-covered.sh); it
# must be reported for the inode of FILE (or of one of several joined by
# "|").  FORBIDDEN, IDs joined by ",", must not be reported at all (on a
# metadata_csum base, edits made through debugfs keep checksums valid).  The
# function plant_NAME IMAGE corrupts a copy of the base.

# shellcheck disable=SC2034 # used by run.sh
PL_CASES='
root_header		e4	small	TREE_ROOT_HEADER
node_magic		e4	d1	TREE_NODE_MAGIC
node_entries		e4	d1	TREE_NODE_ENTRIES
node_max		e4	d1	TREE_NODE_MAX
root_max		e4	small	TREE_NODE_MAX|TREE_ROOT_HEADER
depth			e4	d1	TREE_DEPTH
root_depth		e4	d2	TREE_DEPTH
too_deep		e4	small	TREE_TOO_DEEP
empty_index		e4	d2	TREE_EMPTY_INDEX
empty_root_index	e4	d1	TREE_EMPTY_INDEX
unsorted		e4	d1	TREE_UNSORTED
unsorted_root		e4	small	TREE_UNSORTED
overlap			e4	d1	TREE_OVERLAP
overlap_csum		e4c	d1	TREE_OVERLAP	TREE_NODE_CSUM,INODE_CSUM
index_key		e4	d1	TREE_INDEX_KEY
out_of_range		e4	d1	TREE_OUT_OF_RANGE
zero_length		e4	small	TREE_ZERO_LENGTH
wrap			e4	small	TREE_WRAP
node_block_range	e4	d1	TREE_NODE_BLOCK
node_block_meta		e4	d1	TREE_NODE_BLOCK
loop_shared		e4	d1	TREE_LOOP
loop_ancestor		e4	d2	TREE_LOOP|TREE_DEPTH
node_csum		e4c	d1	TREE_NODE_CSUM	INODE_CSUM
node_read		e4	d1	TREE_READ
inode_csum		e4c	small	INODE_CSUM	TREE_NODE_CSUM
map_out_of_range	e4	small	MAP_OUT_OF_RANGE
map_on_metadata		e4	small	MAP_ON_METADATA
map_dup_inode		e4	small	MAP_DUP
map_dup_cross		e4	small|small2	MAP_DUP
map_not_in_bitmap	e4	small	MAP_NOT_IN_BITMAP
written_past_eof	e4	small	MAP_WRITTEN_PAST_EOF
written_past_eof_csum	e4c	small	MAP_WRITTEN_PAST_EOF	INODE_CSUM
unwritten_flag		e4	prealloc	MAP_WRITTEN_PAST_EOF
i_blocks		e4	small	MAP_I_BLOCKS
ind_block_range		e2	ind	MAP_IND_BLOCK
ind_block_meta		e2	ind	MAP_IND_BLOCK
cluster_align		ba	small	MAP_CLUSTER_ALIGN
ea_out_of_range		e4	xattr	MAP_OUT_OF_RANGE
ea_on_metadata		e4	xattr	MAP_ON_METADATA
ea_not_in_bitmap	e4	xattr	MAP_NOT_IN_BITMAP
cache_conflict		e4	small	CACHE_CONFLICT
'

# ---- helpers ----

# pl_fail MESSAGE: a recipe could not be applied (the base is not as expected).
pl_fail()
{
	echo "plant: $*" >&2
	return 1
}

# pl_debugfs IMAGE COMMAND...: run debugfs commands (one per argument)
# read-write; fail if debugfs says anything on stderr but its banner.
pl_debugfs()
{
	pl_img=$1
	shift
	printf '%s\n' "$@" | debugfs -w -f - "$pl_img" >"$PL_TMP/debugfs.out" 2>"$PL_TMP/debugfs.err" ||
		{ pl_fail "debugfs failed on $pl_img"; return 1; }
	if grep -v '^debugfs [0-9]' "$PL_TMP/debugfs.err" >"$PL_TMP/debugfs.err2"; then
		cat "$PL_TMP/debugfs.err2" >&2
		pl_fail "debugfs complained on $pl_img: $*"
	fi
}

# pl_query IMAGE COMMAND: debugfs -R COMMAND read-only, output on stdout.
pl_query()
{
	debugfs -R "$2" "$1" 2>/dev/null
}

# pl_rd IMAGE OFFSET NBYTES: the little-endian unsigned number there.
pl_rd()
{
	od -An -v -tu1 -j "$2" -N "$3" "$1" |
		awk '{ for (i = 1; i <= NF; i++) b[n++] = $i }
		     END { v = 0; for (i = n - 1; i >= 0; i--) v = v * 256 + b[i]; printf "%.0f\n", v }'
}

# pl_wr IMAGE OFFSET NBYTES VALUE: store VALUE little endian, in place.
pl_wr()
{
	pl_wr_v=$4 pl_wr_i=0 pl_wr_fmt=
	while test "$pl_wr_i" -lt "$3"; do
		pl_wr_fmt="$pl_wr_fmt$(printf '\\%03o' $((pl_wr_v & 255)))"
		pl_wr_v=$((pl_wr_v >> 8))
		pl_wr_i=$((pl_wr_i + 1))
	done
	# shellcheck disable=SC2059 # the format is the octal escapes built above
	printf "$pl_wr_fmt" | dd of="$1" bs=1 seek="$2" count="$3" conv=notrunc 2>/dev/null ||
		pl_fail "cannot write $1 at $2"
}

# pl_bs IMAGE, pl_blocks IMAGE: block size and blocks count.
pl_bs()
{
	pl_query "$1" stats | sed -n 's/^Block size: *//p'
}
pl_blocks()
{
	pl_query "$1" stats | sed -n 's/^Block count: *//p'
}

# pl_ino_off IMAGE PATH: byte offset of the inode in the image.
pl_ino_off()
{
	pl_io_loc=$(pl_query "$1" "imap $2" |
		sed -n 's/.*located at block \([0-9]*\), offset \(0x[0-9a-fA-F]*\).*/\1 \2/p')
	test -n "$pl_io_loc" || pl_fail "imap $2 on $1" || return 1
	pl_io_bs=$(pl_bs "$1")
	# shellcheck disable=SC2086 # two numbers, split on purpose
	set -- $pl_io_loc
	echo $(($1 * pl_io_bs + $2))
}

# pl_itable IMAGE: a block of the inode table (the one holding inode 2).
pl_itable()
{
	pl_query "$1" "imap <2>" | sed -n 's/.*located at block \([0-9]*\),.*/\1/p'
}

# pl_word IMAGE PATH K: word K (0..14) of the inode's i_block.
pl_word()
{
	pl_word_off=$(pl_ino_off "$1" "$2") || return 1
	pl_rd "$1" $((pl_word_off + 40 + 4 * $3)) 4
}

# pl_set_word IMAGE PATH K VALUE: set word K of i_block with debugfs (which
# recomputes the inode checksum).
pl_set_word()
{
	case $3 in
	12) pl_sw_f='block[IND]' ;;
	13) pl_sw_f='block[DIND]' ;;
	14) pl_sw_f='block[TIND]' ;;
	*) pl_sw_f="block[$3]" ;;
	esac
	pl_debugfs "$1" "sif $2 $pl_sw_f $4"
}

# pl_node IMAGE PATH N: the block of the Nth interior entry (1-based) of the
# tree in walk order, from "ex -n": the children of the root first for a
# depth-1 tree.  pl_node_key: that entry's logical key.
pl_node()
{
	pl_query "$1" "ex -n $2" | awk -v n="$3" 'NR > 1 && ++i == n { print $8 }'
}
pl_node_key()
{
	pl_query "$1" "ex -n $2" | awk -v n="$3" 'NR > 1 && ++i == n { print $5 }'
}

# pl_leaf_blk IMAGE PATH N: the Nth leaf block at the deepest interior level
# (level depth-1 rows of "ex -n").
pl_leaf_blk()
{
	pl_query "$1" "ex -n $2" | awk -v n="$3" '
		NR > 1 { split($0, a, "/"); lvl = a[1] + 0; md = a[2] + 0
			 if (lvl == md - 1 && ++i == n) print $8 }'
}

# ---- base images ----

pl_mkfs()
{
	mke2fs -F -q -b 1024 -U "$TEST_UUID" -E "hash_seed=$TEST_HASH_SEED" \
		"$@" >"$PL_TMP/mke2fs.log" 2>&1 ||
		{ cat "$PL_TMP/mke2fs.log" >&2; pl_fail "mke2fs $*"; }
}

# pl_punch_odd PATH NBLOCKS: debugfs commands punching every odd block.
pl_punch_odd()
{
	awk -v f="$1" -v n="$2" 'BEGIN { for (i = 1; i < n; i += 2) printf "punch %s %d %d\n", f, i, i }'
}

# pl_make_base NAME IMAGE
pl_make_base()
{
	if ! test -f "$PL_TMP/data4m"; then
		yes 'esck corrupt-image test data' | head -c 4194304 >"$PL_TMP/data4m"
		head -c 12288 "$PL_TMP/data4m" >"$PL_TMP/data12k"
		head -c 4096 "$PL_TMP/data4m" >"$PL_TMP/data4k"
		head -c 600 "$PL_TMP/data4m" >"$PL_TMP/data1k"
		head -c 20480 "$PL_TMP/data4m" >"$PL_TMP/data20k"
		head -c 204800 "$PL_TMP/data4m" >"$PL_TMP/data200k"
	fi
	case $1 in
	e4) pl_mkfs -t ext4 -O ^metadata_csum "$2" 16M ;;
	e4c) pl_mkfs -t ext4 "$2" 16M ;;
	e2) pl_mkfs -t ext2 "$2" 8M ;;
	ba) pl_mkfs -t ext4 -O bigalloc,^metadata_csum -C 4096 "$2" 16M ;;
	*) pl_fail "unknown base $1" ;;
	esac || return 1
	case $1 in
	e4 | e4c)
		{
			echo "write $PL_TMP/data12k small"
			echo "punch small 4 4"
			echo "punch small 8 8"
			echo "write $PL_TMP/data4k small2"
			echo "write /dev/null prealloc"
			echo "fallocate prealloc 0 15"
			echo "sif prealloc size 4096"
			echo "write $PL_TMP/data200k d1"
			pl_punch_odd d1 200
			echo "write $PL_TMP/data4m d2"
			pl_punch_odd d2 4096
			echo "mkdir dir"
			echo "write $PL_TMP/data4k dir/f"
			echo "symlink link /dir/f"
			echo "write $PL_TMP/data4k xattr"
			echo "ea_set -f $PL_TMP/data1k xattr user.big"
		} >"$PL_TMP/base.cmds"
		;;
	ba)
		echo "write $PL_TMP/data12k small" >"$PL_TMP/base.cmds"
		;;
	e2)
		echo "write $PL_TMP/data20k ind" >"$PL_TMP/base.cmds"
		;;
	esac
	debugfs -w -f "$PL_TMP/base.cmds" "$2" >"$PL_TMP/debugfs.out" 2>"$PL_TMP/debugfs.err" ||
		{ pl_fail "debugfs on base $1"; return 1; }
	if grep -v '^debugfs [0-9]' "$PL_TMP/debugfs.err" >"$PL_TMP/debugfs.err2"; then
		cat "$PL_TMP/debugfs.err2" >&2
		pl_fail "debugfs complained while building base $1"
		return 1
	fi
	# The recipes rely on these shapes.
	case $1 in
	e4 | e4c)
		pl_check_depth "$2" small 0 && pl_check_depth "$2" d1 1 &&
		pl_check_depth "$2" d2 2 && pl_check_depth "$2" prealloc 0 &&
		pl_check_ea "$2" xattr
		;;
	ba)
		pl_check_depth "$2" small 0
		;;
	esac
}

# pl_check_depth IMAGE PATH DEPTH: the tree of PATH is DEPTH deep.
pl_check_depth()
{
	pl_cd=$(pl_query "$1" "ex $2" | awk 'NR == 2 { split($0, a, "/"); print a[2] + 0 }')
	test "$pl_cd" = "$3" || pl_fail "base: /$2 has depth '$pl_cd', expected $3"
}

# pl_ea IMAGE PATH: the EA block of PATH (0 if none).
pl_ea()
{
	pl_query "$1" "stat $2" | sed -n 's/.*File ACL: *\([0-9]*\).*/\1/p'
}

# pl_check_ea IMAGE PATH: PATH has an EA block.
pl_check_ea()
{
	pl_ce=$(pl_ea "$1" "$2")
	test -n "$pl_ce" && test "$pl_ce" -gt 0 || pl_fail "base: /$2 has no EA block"
}

# ---- the recipes: plant_NAME IMAGE ----

# i_block word 0 holds the magic: make it 0xF30B.
plant_root_header()
{
	w=$(pl_word "$1" small 0) &&
	pl_set_word "$1" small 0 $(((w & 0xffff0000) | 0xf30b))
}

# First leaf of /d1: magic 0x1234.
plant_node_magic()
{
	b=$(pl_node "$1" d1 1) && bs=$(pl_bs "$1") &&
	pl_wr "$1" $((b * bs)) 2 0x1234
}

# First leaf of /d1: eh_entries = eh_max + 1.
plant_node_entries()
{
	b=$(pl_node "$1" d1 1) && bs=$(pl_bs "$1") &&
	m=$(pl_rd "$1" $((b * bs + 4)) 2) &&
	pl_wr "$1" $((b * bs + 2)) 2 $((m + 1))
}

# First leaf of /d1: eh_max = 200, more than a 1 KiB block holds (84).
plant_node_max()
{
	b=$(pl_node "$1" d1 1) && bs=$(pl_bs "$1") &&
	pl_wr "$1" $((b * bs + 4)) 2 200
}

# Root of /small: eh_max = 5 (i_block holds 4).
plant_root_max()
{
	w=$(pl_word "$1" small 1) &&
	pl_set_word "$1" small 1 $(((w & 0xffff0000) | 5))
}

# First leaf of /d1: eh_depth = 1 under a depth-1 root (expected 0).
plant_depth()
{
	b=$(pl_node "$1" d1 1) && bs=$(pl_bs "$1") &&
	pl_wr "$1" $((b * bs + 6)) 2 1
}

# Root of /d2: eh_depth 2 -> 3, so its children (depth 1) are one short.
plant_root_depth()
{
	w=$(pl_word "$1" d2 1) &&
	pl_set_word "$1" d2 1 $(((w & 0xffff) | (3 << 16)))
}

# Root of /small: eh_depth = 6 (ext4 allows 5).
plant_too_deep()
{
	w=$(pl_word "$1" small 1) &&
	pl_set_word "$1" small 1 $(((w & 0xffff) | (6 << 16)))
}

# First depth-1 index block of /d2: eh_entries = 0.
plant_empty_index()
{
	b=$(pl_node "$1" d2 1) && bs=$(pl_bs "$1") &&
	pl_wr "$1" $((b * bs + 2)) 2 0
}

# Root of /d1 (depth 1): eh_entries = 0.
plant_empty_root_index()
{
	w=$(pl_word "$1" d1 0) &&
	pl_set_word "$1" d1 0 $((w & 0xffff))
}

# First leaf of /d1: swap entries 2 and 3 (keys 2, 4 -> 4, 2).
plant_unsorted()
{
	b=$(pl_node "$1" d1 1) && bs=$(pl_bs "$1") &&
	o=$((b * bs + 12 + 12)) &&
	dd if="$1" of="$PL_TMP/e2" bs=1 skip="$o" count=12 2>/dev/null &&
	dd if="$1" of="$PL_TMP/e3" bs=1 skip=$((o + 12)) count=12 2>/dev/null &&
	dd if="$PL_TMP/e3" of="$1" bs=1 seek="$o" conv=notrunc 2>/dev/null &&
	dd if="$PL_TMP/e2" of="$1" bs=1 seek=$((o + 12)) conv=notrunc 2>/dev/null
}

# Root of /small: swap the keys of extents 2 and 3 ([5-7] [9-11] -> 9, 5).
plant_unsorted_root()
{
	a=$(pl_word "$1" small 6) && c=$(pl_word "$1" small 9) &&
	pl_set_word "$1" small 6 "$c" && pl_set_word "$1" small 9 "$a"
}

# First leaf of /d1: the first extent (block 0, length 1) gets length 3, over
# the second (block 2).  plant_overlap_csum does it through debugfs's extent
# editor, which rewrites the node's checksum.
plant_overlap()
{
	b=$(pl_node "$1" d1 1) && bs=$(pl_bs "$1") &&
	pl_wr "$1" $((b * bs + 12 + 4)) 2 3
}

plant_overlap_csum()
{
	p=$(pl_query "$1" "ex -l d1" | awk 'NR == 2 { print $8 }') &&
	test -n "$p" &&
	pl_debugfs "$1" "eo d1" root down "replace_node 0 3 $p" extent_close
}

# Second leaf of /d1: its first extent moves up one block (to a hole), so the
# root's key for it no longer matches.
plant_index_key()
{
	b=$(pl_node "$1" d1 2) && bs=$(pl_bs "$1") &&
	k=$(pl_rd "$1" $((b * bs + 12)) 4) &&
	pl_wr "$1" $((b * bs + 12)) 4 $((k + 1))
}

# First leaf of /d1: its last extent moves to the second leaf's key + 1 (a
# hole there), past the first leaf's range.
plant_out_of_range()
{
	b=$(pl_node "$1" d1 1) && bs=$(pl_bs "$1") &&
	k2=$(pl_node_key "$1" d1 2) &&
	n=$(pl_rd "$1" $((b * bs + 2)) 2) &&
	pl_wr "$1" $((b * bs + 12 + 12 * (n - 1))) 4 $((k2 + 1))
}

# Root of /small: the second extent gets length 0.
plant_zero_length()
{
	w=$(pl_word "$1" small 7) &&
	pl_set_word "$1" small 7 $((w & 0xffff0000))
}

# Root of /small: the last extent becomes block 0xFFFFFFFF, length 2.
plant_wrap()
{
	w=$(pl_word "$1" small 10) &&
	pl_set_word "$1" small 9 0xffffffff &&
	pl_set_word "$1" small 10 $(((w & 0xffff0000) | 2))
}

# Root of /d1: the first index points past the end of the filesystem.
plant_node_block_range()
{
	n=$(pl_blocks "$1") &&
	pl_set_word "$1" d1 4 $((n + 100))
}

# Root of /d1: the first index points into the inode table.
plant_node_block_meta()
{
	t=$(pl_itable "$1") &&
	pl_set_word "$1" d1 4 "$t"
}

# Root of /d1: the second index points at the first one's child.
plant_loop_shared()
{
	c=$(pl_word "$1" d1 4) &&
	pl_set_word "$1" d1 7 "$c"
}

# First depth-1 index block of /d2: its first entry points at itself.
plant_loop_ancestor()
{
	b=$(pl_node "$1" d2 1) && bs=$(pl_bs "$1") &&
	pl_wr "$1" $((b * bs + 12 + 4)) 4 "$b"
}

# First leaf of /d1 (metadata_csum): flip a byte of the tail checksum, which
# follows eh_max entries.
plant_node_csum()
{
	b=$(pl_node "$1" d1 1) && bs=$(pl_bs "$1") &&
	m=$(pl_rd "$1" $((b * bs + 4)) 2) &&
	o=$((b * bs + 12 + 12 * m)) &&
	v=$(pl_rd "$1" "$o" 1) &&
	pl_wr "$1" "$o" 1 $((v ^ 0x5a))
}

# Root of /d1: the second index points at the last block, then the image is
# cut 8 blocks short, so that block cannot be read.
plant_node_read()
{
	n=$(pl_blocks "$1") && bs=$(pl_bs "$1") &&
	pl_set_word "$1" d1 7 $((n - 1)) &&
	truncate -s $(((n - 8) * bs)) "$1"
}

# /small (metadata_csum): flip a byte of i_atime behind debugfs's back.
plant_inode_csum()
{
	o=$(pl_ino_off "$1" small) &&
	v=$(pl_rd "$1" $((o + 8)) 1) &&
	pl_wr "$1" $((o + 8)) 1 $((v ^ 0x5a))
}

# Root of /small: the first extent starts past the end of the filesystem.
plant_map_out_of_range()
{
	n=$(pl_blocks "$1") &&
	pl_set_word "$1" small 5 $((n + 10))
}

# bigalloc: /small's extent starts one block into its physical cluster.
plant_cluster_align()
{
	p=$(pl_word "$1" small 5) &&
	pl_set_word "$1" small 5 $((p + 1))
}

# /xattr's EA block: past the end, on the inode table, free in the bitmap.
plant_ea_out_of_range()
{
	n=$(pl_blocks "$1") &&
	pl_debugfs "$1" "sif xattr file_acl $((n + 10))"
}
plant_ea_on_metadata()
{
	t=$(pl_itable "$1") &&
	pl_debugfs "$1" "sif xattr file_acl $t"
}
plant_ea_not_in_bitmap()
{
	a=$(pl_ea "$1" xattr) &&
	pl_debugfs "$1" "freeb $a"
}

# Root of /small: the first extent starts in the inode table.
plant_map_on_metadata()
{
	t=$(pl_itable "$1") &&
	pl_set_word "$1" small 5 "$t"
}

# Root of /small: the second extent starts where the first does.
plant_map_dup_inode()
{
	p=$(pl_word "$1" small 5) &&
	pl_set_word "$1" small 8 "$p"
}

# /small2's extent starts where /small's first does.
plant_map_dup_cross()
{
	p=$(pl_word "$1" small 5) &&
	pl_set_word "$1" small2 5 "$p"
}

# The first block of /small is freed in the bitmap.
plant_map_not_in_bitmap()
{
	p=$(pl_word "$1" small 5) &&
	pl_debugfs "$1" "freeb $p"
}

# /small: i_size 1024 while 10 written blocks are mapped.
plant_written_past_eof()
{
	pl_debugfs "$1" "sif small size 1024"
}
plant_written_past_eof_csum()
{
	plant_written_past_eof "$1"
}

# /prealloc: its unwritten extent (16 blocks, 12 past EOF) loses the
# unwritten flag (ee_len 32768 + 16 -> 16).
plant_unwritten_flag()
{
	w=$(pl_word "$1" prealloc 4) &&
	test $((w & 0xffff)) -eq $((32768 + 16)) &&
	pl_set_word "$1" prealloc 4 $(((w & 0xffff0000) | 16))
}

# /small: i_blocks two sectors too many.
plant_i_blocks()
{
	c=$(pl_query "$1" "stat small" | sed -n 's/.*Blockcount: *\([0-9]*\).*/\1/p') &&
	test -n "$c" && pl_debugfs "$1" "sif small blocks $((c + 2))"
}

# /ind (ext2): the indirect block pointer points past the end.
plant_ind_block_range()
{
	n=$(pl_blocks "$1") &&
	pl_set_word "$1" ind 12 $((n + 100))
}

# /ind (ext2): the indirect block pointer points into the inode table.
plant_ind_block_meta()
{
	t=$(pl_itable "$1") &&
	pl_set_word "$1" ind 12 "$t"
}

# Root of /small: the second extent moves from block 5 to block 2, inside
# the first ([0-3]) with other physical blocks: keys stay sorted.
plant_cache_conflict()
{
	pl_set_word "$1" small 6 2
}
