#!/bin/sh
# leaf.sh --- removals edited in place in one leaf leave exactly the tree, blocks and data of the general path through libext2fs
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs dumpe2fs e2fsck awk

T=$TEST_TMP
driver=$top_builddir/tests/replay/replay-driver
test -x "$driver" || test_hard_error "no $driver"

# state IMG: every node of every tree (levels, keys, entries, where),
# the data, i_blocks and i_size, and the free blocks of every group.
state()
{
	for f in frag long unw small; do
		echo "== $f"
		debugfs -R "ex $f" "$1" 2>/dev/null
		debugfs -R "cat $f" "$1" 2>/dev/null | cksum
		rp_stat "$1" $f Blockcount
		rp_stat "$1" $f Size
	done
	dumpe2fs "$1" 2>/dev/null | grep -e '^ *Free blocks: ' -e '^Free blocks count:'
}

# base IMG BS [MKE2FS-ARGS...]: four files.  frag: every other block of
# 1600 punched away, 800 one-block extents in a tree of depth 2 (depth 1
# with 4 KiB blocks); long: 512 blocks in long extents; unw: 300 blocks
# fallocated (unwritten); small: three extents in the inode itself.
base()
{
	_img=$1 _bs=$2
	shift 2
	rp_mkimg "$_img" 64M -b "$_bs" -O ^has_journal "$@"
	rp_data "$T/d" $((1600 * _bs))
	rp_put "$_img" "$T/d" frag
	head -c $((512 * _bs)) "$T/d" >"$T/d2"
	rp_put "$_img" "$T/d2" long
	head -c $((6 * _bs)) "$T/d" >"$T/d3"
	rp_put "$_img" "$T/d3" small
	awk -v bs="$_bs" 'BEGIN {
		print "open frag"
		for (i = 1; i < 1600; i += 2) printf "fpunch %d %d\n", i * bs, bs
		print "open -f unw"
		printf "falloc 0 %d\n", 300 * bs
		print "open small"
		printf "fpunch %d %d\nfpunch %d %d\n", bs, bs, 3 * bs, bs
	}' >"$T/setup"
	"$driver" --general "$_img" "$T/setup" >"$T/out" 2>&1 ||
		{ tail -3 "$T/out"; test_hard_error "setting up $_img"; }
	rp_fsck "$_img"
}

# same NAME IMG SCRIPT MIN: esck (leaf edits) and the driver (--general)
# on copies of IMG give the same state, every op ok and verified; the
# driver without --general counts at least MIN leaf edits for the script,
# so the comparison is of two paths, not one path twice.
same()
{
	cp "$2" "$T/a.img"
	cp "$2" "$T/b.img"
	cp "$2" "$T/c.img"
	"$ESCK" replay-truncate "$T/a.img" "$3" >"$T/out.a" 2>&1
	st=$?
	test $st = 0 || { grep -v ': ok' "$T/out.a" | head -5; test_fail "$1: esck exit $st"; }
	"$driver" --general "$T/b.img" "$3" >"$T/out.b" 2>&1 ||
		{ head -5 "$T/out.b"; test_fail "$1: the general path's run failed"; }
	grep -q ' 0 failed, 0 divergences, 0 leaf edits$' "$T/out.b" ||
		{ head -5 "$T/out.b"; test_fail "$1: the general path's run failed an op or edited a leaf"; }
	"$driver" "$T/c.img" "$3" >"$T/out.c" 2>&1 ||
		{ head -5 "$T/out.c"; test_fail "$1: the driver's leaf-edit run failed"; }
	edits=$(sed -n 's/.* 0 failed, 0 divergences, \([0-9]*\) leaf edits$/\1/p' "$T/out.c")
	test "${edits:-0}" -ge "$4" ||
		{ tail -1 "$T/out.c"; test_fail "$1: ${edits:-no} leaf edits, want at least $4"; }
	rp_fsck "$T/a.img"
	state "$T/a.img" >"$T/state.a"
	state "$T/b.img" >"$T/state.b"
	cmp -s "$T/state.a" "$T/state.b" ||
		{ diff "$T/state.b" "$T/state.a" | head -20; test_fail "$1: leaf edits and the general path differ"; }
	n=$((n + 1))
}

n=0
for variant in 1k 4k-nocsum; do
	case $variant in
	1k) bs=1024; set -- ;;
	4k-nocsum) bs=4096; set -- -O ^metadata_csum ;;
	esac
	base "$T/base.img" $bs "$@"
	test "$(rp_depth "$T/base.img" frag)" -ge 1 || test_hard_error "frag's tree has one level"

	# The cases by name.  Leaves of frag hold 84 extents at 1 KiB (340
	# at 4 KiB), one every other block.
	leaf=$((84 * 2))
	test $bs = 1024 || leaf=$((340 * 2))
	awk -v bs=$bs -v leaf=$leaf 'BEGIN {
		print "open frag"
		print "# the first extent of a leaf that is not the first: keys move"
		printf "fpunch %d %d\n", 2 * leaf * bs, bs
		print "# two extents and the hole between, in one leaf"
		printf "fpunch %d %d\n", (leaf + 10) * bs, 3 * bs
		print "# a hole only; unaligned bytes of a written block"
		printf "fpunch %d %d\n", (leaf + 21) * bs, bs
		printf "fpunch %d %d\n", (leaf + 30) * bs + 100, 200
		print "# across a leaf boundary; a whole leaf"
		printf "fpunch %d %d\n", (3 * leaf - 4) * bs, 8 * bs
		printf "fpunch %d %d\n", (4 * leaf - 2) * bs, (leaf + 4) * bs
		print "# the first extent of the file"
		printf "fpunch 0 %d\n", bs
		print "open long"
		print "# inside an extent: a split, head kept"
		printf "fpunch %d %d\n", 100 * bs, 2 * bs
		print "# its head: split then removal"
		printf "fpunch 0 %d\n", 3 * bs
		printf "fpunch %d %d\n", 200 * bs + 7, 3 * bs
		print "open unw"
		printf "fpunch %d %d\n", 10 * bs, 5 * bs
		printf "fpunch %d %d\n", 0, 2 * bs
		printf "truncate %d\n", 250 * bs + 1
		print "open small"
		print "# a full root: the split grows the tree, the kernel'\''s too"
		printf "fpunch %d %d\n", 4 * bs, bs
		printf "fpunch %d %d\n", 0, bs
		printf "truncate %d\n", 3 * bs
	}' >"$T/named"
	same "$variant named" "$T/base.img" "$T/named" 10

	# Seeded random punches, truncates, fallocs and writes on all four.
	for seed in 1 2 3; do
		awk -v bs=$bs -v seed=$seed 'BEGIN {
			srand(seed)
			split("frag long unw small", name, " ")
			size["frag"] = 1600 * bs; size["long"] = 512 * bs
			size["unw"] = 0; size["small"] = 6 * bs
			for (i = 0; i < 300; i++) {
				if (i % 25 == 0) {
					f = name[1 + int(rand() * 4)]
					print "open " f
				}
				x = rand()
				lim = f == "unw" ? 300 * bs : size[f] + 4 * bs
				off = int(rand() * lim)
				if (rand() < 0.6) off -= off % bs
				if (x < 0.55) {
					len = rand() < 0.7 ? bs * (1 + int(rand() * 3)) : \
						1 + int(rand() * 40 * bs)
					printf "fpunch %d %d\n", off, len
				} else if (x < 0.65) {
					sz = int(size[f] * (0.9 + rand() * 0.12))
					printf "truncate %d\n", sz
					size[f] = sz
				} else if (x < 0.85) {
					printf "falloc %s%d %d\n", rand() < 0.5 ? "-k " : "", off, \
						bs * (1 + int(rand() * 8))
				} else {
					len = 1 + int(rand() * 3 * bs)
					printf "pwrite -S 0x%02x %d %d\n", 1 + int(rand() * 254), off, len
					if (off + len > size[f]) size[f] = off + len
					if (rand() < 0.5) print "fsync"
				}
			}
		}' >"$T/random.$seed"
		same "$variant seed $seed" "$T/base.img" "$T/random.$seed" 100
	done
done
echo "$n scripts: the same trees, blocks and data both ways"
test_done
