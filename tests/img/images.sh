# images.sh --- build the small, deterministic test images of tests/img (sourced, not run)
#
# After ". tests/lib.sh" and test_init:
#	. "$top_srcdir/tests/img/images.sh"
#	img_build ext4 "$TEST_TMP/ext4.img"
#	for name in $IMG_NAMES; do ...; done
#
# Every image is made by mke2fs with the fixed UUID and hash seed of
# tests/lib.sh, the pinned tests/mke2fs.conf (MKE2FS_CONFIG, set by make
# check) and a fixed clock (E2FSPROGS_FAKE_TIME), then filled by debugfs
# from generated content, so two builds are byte-for-byte identical.
# debugfs "write" turns all-zero blocks of the source into holes, which is
# how the sparse files get their holes.
#
# The images, one per layout:
#   demo          demo.sh's image (1 KiB blocks, numbers.txt and a punched
#                 preallocated file): the fixture of esck-inspect(8) EXAMPLES
#   demo-bad      demo with three planted problems: /numbers.txt's i_size cut
#                 to 10000 (written blocks past EOF), block 1730 of /sparse
#                 freed in the bitmap, /sparse's i_blocks set to 10
#   ext4          4 KiB blocks, metadata_csum, 64bit: the full set below,
#                 with depth-1 and depth-2 extent trees (the man page's fixture)
#   ext4-1k       the same with 1 KiB blocks
#   ext4-nocsum   4 KiB, without metadata_csum
#   ext4-32bit    4 KiB, without 64bit
#   ext4-64k      64 KiB blocks
#   bigalloc      4 KiB blocks in 16 KiB clusters
#   inline        inline_data: inline files, directories and symlinks
#   ext3          block-mapped with a journal, a double-indirect file
#   ext2          1 KiB blocks, block-mapped, double- and triple-indirect files
#
# The full set (extent images): /small (2 blocks at 4 KiB), /big (100
# blocks at 4 KiB), /sparse (data, hole, data, hole to EOF), /empty,
# /prealloc (size 256 KiB, the first 128 KiB fallocated, unwritten), /frag1
# (every other block punched: a depth-1 tree), /frag2 (depth 2, only where
# it fits), /dir/a, /dir/sub/b, /dir/sub/c, /fast and /slow symlinks, the
# devices /null (char 1,3) and /sda (block 8,0), and /fifo.

IMG_NAMES='demo demo-bad ext4 ext4-1k ext4-nocsum ext4-32bit ext4-64k bigalloc inline ext3 ext2'
IMG_FAKE_TIME=1700000000

# img_data FILE BYTES: BYTES of non-zero text (never a hole for debugfs).
img_data()
{
	yes 'esck test data, not zeros.' | head -c "$2" >"$1"
}

# img_sources DIR: the files debugfs copies in.
img_sources()
{
	img_src=$1
	test -f "$img_src/.done" && return 0
	mkdir -p "$img_src"
	img_data "$img_src/small" 5000
	img_data "$img_src/big" 409600
	img_data "$img_src/tiny" 5
	img_data "$img_src/hundred" 100
	# sparse: 64 KiB data, 64 KiB zeros, 64 KiB data, 64 KiB zeros
	img_data "$img_src/d64" 65536
	head -c 65536 /dev/zero >"$img_src/z64"
	cat "$img_src/d64" "$img_src/z64" "$img_src/d64" "$img_src/z64" \
		>"$img_src/sparse"
	: >"$img_src/empty"
	touch "$img_src/.done"
}

# img_punch_cmds FILE BLOCKS: debugfs commands writing FILE of BLOCKS blocks
# (source "$img_src/FILE.src") and punching every other block.
img_punch_cmds()
{
	echo "write $img_src/$1.src $1"
	awk -v n="$2" -v f="$1" 'BEGIN { for (i = 1; i < n; i += 2) print "punch " f " " i " " i }'
}

# img_common_cmds: directories, symlinks and devices.
img_common_cmds()
{
	cat <<EOF
mkdir dir
mkdir dir/sub
write $img_src/small dir/a
write $img_src/tiny dir/sub/b
write $img_src/empty dir/sub/c
symlink fast big
symlink slow /dir/sub/a-target-name-long-enough-not-to-fit-in-the-inode-itself-0123456789
mknod null c 1 3
mknod sda b 8 0
mknod fifo p
EOF
}

# img_extent_cmds BLOCK_SIZE FRAG2_BLOCKS: the full set for extent images.
img_extent_cmds()
{
	img_bs=$1
	cat <<EOF
write $img_src/small small
write $img_src/big big
write $img_src/sparse sparse
write $img_src/empty empty
write $img_src/empty prealloc
sif prealloc size 262144
fallocate prealloc 0 $((131072 / img_bs - 1))
EOF
	img_punch_cmds frag1 40
	test "$2" -gt 0 && img_punch_cmds frag2 "$2"
	img_common_cmds
}

# img_blockmap_cmds BLOCK_SIZE: the set for ext2/ext3 (no fallocate, no punch).
img_blockmap_cmds()
{
	cat <<EOF
write $img_src/small small
write $img_src/big big
write $img_src/sparse sparse
write $img_src/empty empty
write $img_src/dind.src dind
EOF
	test -f "$img_src/tind.src" && echo "write $img_src/tind.src tind"
	img_common_cmds
}

# img_mkfs IMAGE SIZE OPTION...
img_mkfs()
{
	img_file=$1 img_size=$2
	shift 2
	rm -f "$img_file"
	E2FSPROGS_FAKE_TIME=$IMG_FAKE_TIME \
	mke2fs -F -q -U "$TEST_UUID" -E "hash_seed=$TEST_HASH_SEED" "$@" \
		"$img_file" "$img_size" >"$img_file.log" 2>&1 ||
		{ cat "$img_file.log"; test_hard_error "mke2fs $* failed"; }
}

# img_debugfs IMAGE: debugfs -w with the commands on stdin.
img_debugfs()
{
	E2FSPROGS_FAKE_TIME=$IMG_FAKE_TIME \
	debugfs -w -f - "$1" >"$1.debugfs.log" 2>&1 ||
		{ cat "$1.debugfs.log"; test_hard_error "debugfs on $1 failed"; }
	# debugfs reports command errors but exits 0: refuse them here
	if grep -v '^debugfs' "$1.debugfs.log" | grep -q -v '^Allocated inode'; then
		cat "$1.debugfs.log"
		test_hard_error "debugfs complained while building $1"
	fi
}

# img_build NAME IMAGE: build the image NAME (one of $IMG_NAMES) as IMAGE.
img_build()
{
	img_name=$1 img_out=$2
	img_sources "$(dirname "$img_out")/src"
	case $img_name in
	demo|demo-bad)
		# keep in step with demo.sh
		seq 1 20000 >"$img_src/numbers.txt"
		img_mkfs "$img_out" 8M -t ext4 -b 1024
		img_debugfs "$img_out" <<EOF
write $img_src/numbers.txt numbers.txt
write /dev/null sparse
fallocate sparse 0 255
punch sparse 16 31
punch sparse 64 95
punch sparse 200 209
sif sparse size 262144
EOF
		test "$img_name" = demo || img_debugfs "$img_out" <<EOF
sif /numbers.txt size 10000
freeb 1730
sif /sparse blocks 10
EOF
		;;
	ext4)
		img_data "$img_src/frag1.src" $((40 * 4096))
		img_data "$img_src/frag2.src" $((2800 * 4096))
		img_mkfs "$img_out" 32M -t ext4 -b 4096
		img_extent_cmds 4096 2800 | img_debugfs "$img_out"
		;;
	ext4-1k)
		img_data "$img_src/frag1.src" $((40 * 1024))
		img_data "$img_src/frag2.src" $((800 * 1024))
		img_mkfs "$img_out" 8M -t ext4 -b 1024
		img_extent_cmds 1024 800 | img_debugfs "$img_out"
		;;
	ext4-nocsum|ext4-32bit)
		img_data "$img_src/frag1.src" $((40 * 4096))
		if test "$img_name" = ext4-nocsum; then
			img_mkfs "$img_out" 16M -t ext4 -b 4096 -O ^metadata_csum
		else
			img_mkfs "$img_out" 16M -t ext4 -b 4096 -O ^64bit
		fi
		img_extent_cmds 4096 0 | img_debugfs "$img_out"
		;;
	ext4-64k)
		img_data "$img_src/frag1.src" $((40 * 65536))
		img_mkfs "$img_out" 64M -t ext4 -b 65536
		img_extent_cmds 65536 0 | img_debugfs "$img_out"
		;;
	bigalloc)
		img_data "$img_src/frag1.src" $((40 * 4096))
		img_mkfs "$img_out" 16M -t ext4 -b 4096 -O bigalloc -C 16384
		img_extent_cmds 4096 0 | img_debugfs "$img_out"
		;;
	inline)
		img_mkfs "$img_out" 8M -t ext4 -b 4096 -O inline_data
		{
			echo "write $img_src/tiny tiny"
			echo "write $img_src/hundred hundred"
			echo "write $img_src/big big"
			echo "write $img_src/empty empty"
			img_common_cmds
		} | img_debugfs "$img_out"
		;;
	ext3)
		# 12 direct + 1024 indirect blocks, then the double-indirect tree
		img_data "$img_src/dind.src" $((1100 * 4096))
		rm -f "$img_src/tind.src"
		img_mkfs "$img_out" 16M -t ext3 -b 4096
		img_blockmap_cmds 4096 | img_debugfs "$img_out"
		;;
	ext2)
		# 12 + 256 + 65536 blocks come before the triple-indirect tree:
		# one data block at 70000, the rest a hole (debugfs keeps it one)
		img_data "$img_src/dind.src" $((300 * 1024))
		rm -f "$img_src/tind.src"
		head -c 1024 "$img_src/dind.src" |
			dd of="$img_src/tind.src" bs=1024 seek=70000 2>/dev/null
		img_mkfs "$img_out" 8M -t ext2 -b 1024
		img_blockmap_cmds 1024 | img_debugfs "$img_out"
		;;
	*)
		test_hard_error "img_build: unknown image '$img_name'"
		;;
	esac
}
