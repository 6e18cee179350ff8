#!/bin/sh
# mkcorpus.sh --- make the seed images of fuzz/corpus/inspect/ (tiny, deterministic; run by hand, output checked in)
#
# Usage: fuzz/mkcorpus.sh [DIR]     (default: fuzz/corpus/inspect next to this script)
# The images are named NAME.image: .gitignore leaves out *.img.
# Needs mke2fs and debugfs (e2fsprogs 1.47).  Every image is at most 256 KiB
# and uncompressed, made with the fixed UUID, hash seed and clock of the test
# suite and the pinned tests/mke2fs.conf, so a rerun gives the same bytes.
# The layouts: ext4 with 1 KiB blocks (with and without metadata_csum), 4 KiB
# blocks, bigalloc, inline_data, and block-mapped ext2; between them small,
# sparse, empty, fallocated (unwritten) and fragmented files (a depth-1
# extent tree), directories, fast and slow symlinks, devices and a fifo.
set -eu

top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top_srcdir/fuzz/corpus/inspect}
PATH=$PATH:/usr/sbin:/sbin
MKE2FS_CONFIG=$top_srcdir/tests/mke2fs.conf
E2FSPROGS_FAKE_TIME=1700000000
E2FSPROGS_SKIP_PROGRESS=yes
export PATH MKE2FS_CONFIG E2FSPROGS_FAKE_TIME E2FSPROGS_SKIP_PROGRESS
uuid=0d6e0a3c-2d4a-4f6e-9a1b-3c5d7e9f1a2b
seed=3b1c1d2e-4f5a-6b7c-8d9e-0f1a2b3c4d5e

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkcorpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

data() { yes 'esck fuzz seed, not zeros.' | head -c "$2" >"$1"; }
data "$tmp/small" 3000
data "$tmp/d8k" 8192
head -c 8192 /dev/zero >"$tmp/z8k"
cat "$tmp/d8k" "$tmp/z8k" "$tmp/d8k" "$tmp/z8k" >"$tmp/sparse"
data "$tmp/frag" 24576
data "$tmp/ind" 20480
: >"$tmp/empty"

# mkimg NAME SIZE MKE2FS_ARGS... (debugfs commands on stdin)
mkimg()
{
	name=$1 size=$2
	shift 2
	rm -f "$tmp/$name.img"
	mke2fs -F -q -U "$uuid" -E "hash_seed=$seed" "$@" "$tmp/$name.img" "$size" \
		>"$tmp/mke2fs.log" 2>&1 || { cat "$tmp/mke2fs.log"; exit 1; }
	debugfs -w -f - "$tmp/$name.img" >"$tmp/debugfs.log" 2>&1 ||
		{ cat "$tmp/debugfs.log"; exit 1; }
	if grep -v -e '^debugfs' -e '^Allocated inode: ' "$tmp/debugfs.log" | grep -q .; then
		echo "$name: debugfs complained:"
		cat "$tmp/debugfs.log"
		exit 1
	fi
	[ "$(wc -c <"$tmp/$name.img")" -le 262144 ] || { echo "$name: too big"; exit 1; }
	cp "$tmp/$name.img" "$out/$name.image"
	echo "$out/$name.image"
}

# The extent images' files: frag has every other block punched.
extent_cmds()
{
	cat <<EOF
mkdir dir
mkdir dir/sub
write $tmp/small dir/sub/small
write $tmp/empty empty
write $tmp/sparse sparse
write $tmp/frag frag
punch frag 1 1
punch frag 3 3
punch frag 5 5
punch frag 7 7
punch frag 9 9
punch frag 11 11
write $tmp/empty prealloc
fallocate prealloc 0 15
sif prealloc size 32768
symlink fast dir/sub/small
symlink slow /dir/sub/this/is/a/slow/symlink/whose/target/is/longer/than/sixty/bytes
mknod null c 1 3
mknod fifo p
EOF
}

extent_cmds | mkimg ext4-1k 256k -t ext4 -b 1024 -O ^has_journal
extent_cmds | mkimg ext4-1k-nocsum 192k -t ext4 -b 1024 -O ^has_journal,^metadata_csum
extent_cmds | mkimg ext4-4k 256k -t ext4 -b 4096 -O ^has_journal,^metadata_csum -N 32
extent_cmds | mkimg bigalloc 256k -t ext4 -b 1024 -C 4096 -O ^has_journal,bigalloc,^metadata_csum
mkimg inline 128k -t ext4 -b 1024 -O ^has_journal,inline_data,^metadata_csum <<EOF
mkdir dir
write $tmp/empty dir/tiny
write $tmp/small small
symlink fast small
EOF
mkimg ext2 128k -t ext2 -b 1024 -N 32 <<EOF
mkdir dir
write $tmp/small dir/small
write $tmp/ind indirect
write $tmp/sparse sparse
symlink fast dir/small
mknod null c 1 3
EOF
