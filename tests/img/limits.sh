#!/bin/sh
# limits.sh --- the ends of the logical space: extents up to block 2^32 - 2, files of 16 TiB (4 KiB blocks) and 256 TiB (64 KiB), inspected and replayed
#
# ext4's last usable logical block is 2^32 - 2: the kernel's
# ext4_valid_extent() rejects an extent whose end wraps a 32-bit block
# number (lblock + len <= lblock), so one covering 2^32 - 1 is TREE_WRAP.
# e2fsck 1.47.0 accepts it; where loop mounts work, the kernel is asked
# and must refuse to read the file.
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs e2fsck

cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"
export E2FSPROGS_FAKE_TIME=1700000000

last=4294967294		# 2^32 - 2
for bs in 4096 65536; do
	img=l$bs.img
	mke2fs -F -q -t ext4 -b "$bs" -U "$TEST_UUID" -E "hash_seed=$TEST_HASH_SEED" \
		"$img" 256M >mke2fs.log 2>&1 || { cat mke2fs.log; test_hard_error "mke2fs -b $bs"; }
	# /f: unwritten blocks last-14..last, i_size just past them; /small: block 0
	size=$(((last + 1) * bs))
	printf '%s\n' "write /dev/null f" "fallocate f $((last - 14)) $last" \
		"sif f size $size" "write /dev/null small" "fallocate small 0 0" \
		"sif small size $bs" | test_debugfs "$img"

	run_esck inspect --json --map -i /f "$img"
	test_status 0 "-b $bs: inspect a file ending at block 2^32 - 2"
	test_grep "\"size\":$size," "$TEST_TMP/out" "-b $bs: i_size $size"
	test_grep "\"extents\":\[{\"lblk\":$((last - 14)),\"len\":15,\"pblk\":[0-9]*,\"status\":\"unwritten\"}\]" \
		"$TEST_TMP/out" "-b $bs: the extent at the end of the logical space"
	test_grep "\"hole_blocks\":$((last - 14))," "$TEST_TMP/out" "-b $bs: the hole below the extent"

	# replay at the end of the space: punch one block, preallocate the
	# last one, cut the file just below it
	cat >s.esck <<EOF
open /f
fpunch $(((last - 13) * bs)) $bs
falloc $((last * bs)) $bs
truncate $((last * bs))
EOF
	cp "$img" r.img
	run_esck replay-truncate r.img s.esck
	test_status 0 "-b $bs: replay at the end of the logical space"
	run_esck inspect --json --map -i /f r.img
	test_status 0 "-b $bs: inspect after the replay"
	test_grep "\"extents\":\[{\"lblk\":$((last - 14)),\"len\":1,[^]]*},{\"lblk\":$((last - 12)),\"len\":12," \
		"$TEST_TMP/out" "-b $bs: map after the replay"
	test_grep "\"size\":$((last * bs))," "$TEST_TMP/out" "-b $bs: size after the replay"
	e2fsck -fn r.img >fsck.out 2>&1 || { cat fsck.out; test_fail "-b $bs: e2fsck -fn after the replay"; }

	# an extent covering block 2^32 - 1 wraps: TREE_WRAP, as e2fsck finds a problem
	cp "$img" w.img
	printf '%s\n' "write /dev/null w" "fallocate w $((last - 2)) $((last + 1))" |
		test_debugfs w.img
	run_esck inspect --json -q w.img
	test_status 4 "-b $bs: an extent through block 2^32 - 1"
	test_grep '"id":"TREE_WRAP"' "$TEST_TMP/out" "-b $bs: TREE_WRAP"
	if test "$bs" -le "$(getconf PAGESIZE)" && test "$(id -u)" -eq 0; then
		mkdir -p mnt
		if mount -o loop,ro w.img mnt 2>/dev/null; then
			head -c 1 mnt/w >/dev/null 2>kernel.err &&
				test_fail "-b $bs: the kernel reads a file whose extent wraps"
			echo "kernel on the wrapping extent: $(cat kernel.err)"
			umount mnt
		fi
	fi
done

test_done
