# replay-lib.sh --- helpers for the replay-truncate tests (sourced after tests/lib.sh)

# rp_mkimg IMG SIZE [MKE2FS-ARGS...]: a fresh ext4 image with fixed identity.
rp_mkimg()
{
	_img=$1 _size=$2
	shift 2
	mke2fs -q -F -t ext4 -U "$TEST_UUID" -E hash_seed="$TEST_HASH_SEED" "$@" \
		"$_img" "$_size" >/dev/null 2>&1 || test_hard_error "mke2fs $_img failed"
}

# rp_data FILE BYTES: bytes with no zero in them, so zeroing shows.
rp_data()
{
	head -c "$2" /dev/urandom | tr '\000' '\001' >"$1"
}

# rp_put IMG SRC NAME: copy a host file into the image root.
rp_put()
{
	debugfs -w -R "write $2 $3" "$1" >/dev/null 2>&1 || test_hard_error "debugfs write $3"
}

# rp_map IMG PATH: the file's leaf extents as "first last flag" runs, logically
# adjacent runs of the same flag merged (physical placement is the allocator's
# business, not the semantics under test).
rp_map()
{
	debugfs -R "ex $2" "$1" 2>/dev/null | awk '
	NR > 1 {
		gsub(/\//, " ")
		n = split($0, f, " ")
		if (f[1] != f[2]) next		# index entries
		s = f[5]; e = f[7]; fl = (n >= 12 && f[12] == "Uninit") ? "U" : "W"
		if (have && s == pe + 1 && fl == pf) { pe = e; next }
		if (have) print ps, pe, pf
		ps = s; pe = e; pf = fl; have = 1
	}
	END { if (have) print ps, pe, pf }'
}

# rp_stat IMG PATH FIELD: "Size", "Blockcount" from debugfs stat.
rp_stat()
{
	debugfs -R "stat $2" "$1" 2>/dev/null |
		sed -n "s/.*$3: *\([0-9][0-9]*\).*/\1/p" | head -n 1
}

# rp_depth IMG PATH: the extent tree depth (eh_depth of the root).
rp_depth()
{
	debugfs -R "ex $2" "$1" 2>/dev/null | awk 'NR == 2 { sub(/\//, " "); print $2; exit } END { if (NR < 2) print 0 }'
}

# rp_data_sectors IMG PATH: i_blocks without the tree's node blocks (whose number
# depends on where the allocator put the extents, not on the semantics).
rp_data_sectors()
{
	_ib=$(rp_stat "$1" "$2" Blockcount)
	_bs=$(dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Block size: *//p')
	_nodes=$(debugfs -R "ex $2" "$1" 2>/dev/null |
		awk 'NR > 1 { gsub(/\//, " "); if ($1 != $2) n++ } END { print n + 0 }')
	echo $((${_ib:-0} - _nodes * _bs / 512))
}

# rp_fsck IMG: e2fsck -fn must be clean.
rp_fsck()
{
	e2fsck -fn "$1" >"$TEST_TMP/fsck.out" 2>&1 ||
		{ cat "$TEST_TMP/fsck.out"; test_fail "e2fsck -fn $1 is not clean"; }
}

# rp_kernel_ok: loop mounts work here (root, loop devices, ext4).
rp_kernel_ok()
{
	test "$(id -u)" = 0 || return 1
	command -v xfs_io >/dev/null 2>&1 || return 1
	mkdir -p "$TEST_TMP/mnt"
	rp_mkimg "$TEST_TMP/probe.img" 4M
	mount -o loop "$TEST_TMP/probe.img" "$TEST_TMP/mnt" 2>/dev/null || return 1
	umount "$TEST_TMP/mnt"
	rm -f "$TEST_TMP/probe.img"
}

# rp_kernel IMG SCRIPT: the same script through xfs_io on a loop mount.  Given
# several -c commands, xfs_io runs each on every open file, so each "open"
# starts its own xfs_io run on that one file: the script's meaning.
rp_kernel()
{
	_mnt=$TEST_TMP/mnt
	mkdir -p "$_mnt"
	sed 's/#.*//' "$2" | awk -v m="$_mnt" '
	function q(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
	NF == 0 { next }
	$1 == "open" {
		if (run != "") print run
		p = $NF; sub(/^\//, "", p)
		run = "xfs_io" ($2 == "-f" ? " -f" : "") " " q(m "/" p)
		next
	}
	{ run = run " -c " q($0) }
	END { if (run != "") print run }' >"$TEST_TMP/xfs_io.sh"
	mount -o loop "$1" "$_mnt" || test_hard_error "mount -o loop $1"
	sh "$TEST_TMP/xfs_io.sh" >"$TEST_TMP/xfs_io.out" 2>&1
	umount "$_mnt" || test_hard_error "umount $_mnt"
}

# rp_read IMG PATH OUT: the file's bytes as the kernel reads them (read-only mount).
rp_read()
{
	_mnt=$TEST_TMP/mnt
	mkdir -p "$_mnt"
	mount -o loop,ro,noload "$1" "$_mnt" || test_hard_error "mount -o loop,ro $1"
	cat "$_mnt/$2" >"$3"
	umount "$_mnt"
}

# rp_long_replay DIR: DIR/orig.img, one block group of 4 KiB blocks (the
# primary superblock is the only copy) with a 16 MiB file f, and DIR/s, a
# script of 2000 punches of every other block of f -- each one splits an
# extent, so the tree grows to 2000 extents and two levels -- with a
# shrinking truncate (through the orphan list) every 250.
rp_long_replay()
{
	rp_mkimg "$1/orig.img" 32M -b 4096
	rp_data "$1/d" 16777216
	rp_put "$1/orig.img" "$1/d" f
	rm -f "$1/d"
	awk 'BEGIN {
		print "open f"; size = 4096
		for (i = 0; i < 4000; i += 2) {
			print "fpunch " i * 4096 " 4096"
			if (++n % 250 == 0) { size -= 16; print "truncate " size * 4096 }
		}
	}' >"$1/s"
}

# rp_undo_valgrind: for tests that use -z under ESCK_VALGRIND=1: libext2fs
# 1.47.0's undo_io leaks a bitmap per channel, which is not ours to fix.
rp_undo_valgrind()
{
	VALGRIND_OPTS="${VALGRIND_OPTS-} --suppressions=$top_srcdir/tests/replay/undo-io.supp"
	export VALGRIND_OPTS
}
