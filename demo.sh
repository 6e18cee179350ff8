#!/bin/bash
# demo.sh --- install what esck needs, build it in build/, make a small demo image, inspect it
#
# Safe to run again: it installs only what is missing, configures only once,
# and remakes build/demo.img from scratch each time.  Exits with esck's status.
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
# mke2fs and debugfs live in /sbin, which a normal user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

say() { printf '==> %s\n' "$*"; }

# 1. Dependencies (Debian/Ubuntu).
missing=no
for cmd in cc make autoreconf automake pkg-config compile_et mke2fs debugfs; do
	command -v "$cmd" >/dev/null 2>&1 || missing=yes
done
pkg-config --exists ext2fs com_err 2>/dev/null || missing=yes
if [ "$missing" = yes ]; then
	say "installing build dependencies with apt-get"
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y \
		build-essential autoconf automake libtool pkg-config \
		libext2fs-dev comerr-dev e2fsprogs mandoc groff-base
fi

# 2. Build out of tree, in build/.
if [ ! -x configure ]; then
	say "./autogen.sh"
	./autogen.sh
fi
mkdir -p build
cd build
if [ ! -f Makefile ]; then
	say "../configure"
	../configure
fi
say "make"
make -j"$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"

# 3. A small ext4 image: fixed UUID and hash seed, the tests' mke2fs.conf.
say "making build/demo.img"
export MKE2FS_CONFIG=$top/tests/mke2fs.conf E2FSPROGS_SKIP_PROGRESS=yes
rm -f demo.img
mke2fs -F -q -t ext4 -b 1024 \
	-U 0d6e0a3c-2d4a-4f6e-9a1b-3c5d7e9f1a2b \
	-E hash_seed=3b1c1d2e-4f5a-6b7c-8d9e-0f1a2b3c4d5e \
	demo.img 8M
seq 1 20000 >demo-numbers.txt
# numbers.txt: one written extent; sparse: 256 preallocated (unwritten)
# blocks with three holes punched in them, i.e. a fragmented extent tree.
debugfs -w -f - demo.img >demo-debugfs.log 2>&1 <<'CMDS'
write demo-numbers.txt numbers.txt
write /dev/null sparse
fallocate sparse 0 255
punch sparse 16 31
punch sparse 64 95
punch sparse 200 209
sif sparse size 262144
CMDS
rm -f demo-numbers.txt

# 4. Inspect it.
say "cli/esck inspect demo.img   (in build/)"
exec ./cli/esck inspect demo.img
