#!/bin/sh
# smoke.sh --- fuzz smoke: seeded byte mutations of three small images must never crash or hang esck inspect
#
# Builds three bases (ext4 4 KiB blocks with metadata_csum and a depth-2
# file; ext4 1 KiB blocks; ext2 with indirect blocks), works out the byte
# ranges worth hitting with debugfs (superblock, group descriptors, block
# bitmap and first inode-table blocks of group 0, extent tree and indirect
# blocks), then runs a sweep of exact superblock and descriptor field values
# and ESCK_FUZZ_CASES (default 1500) randomly mutated images, taking the
# bases in turn, through "esck inspect -q --json" under timeout 10.
# Each run must exit 0, 4 or 8 (never 16, never a signal or timeout) with no
# sanitizer report on stderr.  A failing image is kept in
# $top_builddir/tests/fuzz/crashes/ and its seed or field printed; the run
# goes on.
# ESCK_FUZZ_SEED (default 1) moves the whole run to other seeds;
# ESCK_FUZZ_MAXMUT (default 4) bounds the mutations per image;
# ESCK_FUZZ_JOBS (default 2) is the number of parallel streams.
# shellcheck source-path=SCRIPTDIR
set -eu

: "${top_srcdir:?run through make check}"
# shellcheck source=../lib.sh
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs timeout
test -x "$ESCK" || test_hard_error "$ESCK not built"

MUTATE=$top_builddir/tests/fuzz/mutate
test -x "$MUTATE" || test_hard_error "$MUTATE not built"

E2FSPROGS_FAKE_TIME=1700000000
export E2FSPROGS_FAKE_TIME

cases=${ESCK_FUZZ_CASES:-1500}
seed0=${ESCK_FUZZ_SEED:-1}
maxmut=${ESCK_FUZZ_MAXMUT:-4}
crashdir=$top_builddir/tests/fuzz/crashes
SAN_RE='runtime error|AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer'

q()
{
	debugfs -R "$2" "$1" 2>/dev/null
}

# run_debugfs IMAGE: the commands in $TEST_TMP/cmds, read-write.
run_debugfs()
{
	debugfs -w -f "$TEST_TMP/cmds" "$1" >"$TEST_TMP/debugfs.out" 2>"$TEST_TMP/debugfs.err" ||
		test_hard_error "debugfs failed on $1"
	if grep -v '^debugfs [0-9]' "$TEST_TMP/debugfs.err"; then
		test_hard_error "debugfs complained while building $1"
	fi
}

mkfs()
{
	mke2fs -F -q -U "$TEST_UUID" -E "hash_seed=$TEST_HASH_SEED" "$@" \
		>"$TEST_TMP/mke2fs.log" 2>&1 ||
		{ cat "$TEST_TMP/mke2fs.log"; test_hard_error "mke2fs $*"; }
}

punch_odd()
{
	awk -v f="$1" -v n="$2" 'BEGIN { for (i = 1; i < n; i += 2) printf "punch %s %d %d\n", f, i, i }'
}

yes 'esck fuzz smoke data' | head -c 12582912 >"$TEST_TMP/data"
head -c 12288 "$TEST_TMP/data" >"$TEST_TMP/d12k"
head -c 204800 "$TEST_TMP/data" >"$TEST_TMP/d200k"
head -c 307200 "$TEST_TMP/data" >"$TEST_TMP/d300k"

# A: ext4, 4 KiB blocks, metadata_csum; /deep has a depth-2 tree.
mkfs -t ext4 -b 4096 "$TEST_TMP/a.img" 32M
{
	echo "write $TEST_TMP/d12k small"
	echo "punch small 1 1"
	echo "mkdir dir"
	echo "write $TEST_TMP/d12k dir/f"
	echo "symlink link /dir/f"
	echo "write /dev/null prealloc"
	echo "fallocate prealloc 0 15"
	echo "sif prealloc size 20480"
	echo "write $TEST_TMP/data deep"
	punch_odd deep 3072
} >"$TEST_TMP/cmds"
run_debugfs "$TEST_TMP/a.img"

# B: ext4, 1 KiB blocks, no metadata_csum; /d1 has a depth-1 tree.
mkfs -t ext4 -b 1024 -O ^metadata_csum "$TEST_TMP/b.img" 8M
{
	echo "write $TEST_TMP/d12k small"
	echo "punch small 4 4"
	echo "write /dev/null prealloc"
	echo "fallocate prealloc 2 9"
	echo "write $TEST_TMP/d200k d1"
	punch_odd d1 200
} >"$TEST_TMP/cmds"
run_debugfs "$TEST_TMP/b.img"

# C: ext2, 1 KiB blocks; /big uses an indirect and a double indirect block.
mkfs -t ext2 -b 1024 "$TEST_TMP/c.img" 8M
{
	echo "write $TEST_TMP/d12k small"
	echo "write $TEST_TMP/d300k big"
	echo "mkdir dir"
} >"$TEST_TMP/cmds"
run_debugfs "$TEST_TMP/c.img"

# ranges IMAGE: the START:LEN byte ranges to aim at, on one line.
ranges()
{
	q "$1" stats >"$TEST_TMP/stats"
	bs=$(sed -n 's/^Block size: *//p' "$TEST_TMP/stats")
	first=$(sed -n 's/^First block: *//p' "$TEST_TMP/stats")
	isz=$(sed -n 's/^Inode size:[[:space:]]*//p' "$TEST_TMP/stats")
	bbm=$(sed -n 's/^ Group  0: block bitmap at \([0-9]*\),.*/\1/p' "$TEST_TMP/stats")
	itb=$(sed -n 's/^ Group  0: .*inode table at \([0-9]*\).*/\1/p' "$TEST_TMP/stats")
	if test -z "$bs" || test -z "$first" || test -z "$isz" || test -z "$bbm" ||
	   test -z "$itb"; then
		test_hard_error "cannot read the geometry of $1"
	fi
	r="1024:1024 $(((first + 1) * bs)):$bs $((bbm * bs)):$bs $((itb * bs)):$((32 * isz))"
	for f in small deep d1 prealloc dir/f; do
		for b in $(q "$1" "ex -n $f" | awk 'NR > 1 { print $8 }'); do
			r="$r $((b * bs)):$bs"
		done
	done
	for b in $(q "$1" "stat big" | grep -o '([DT]*IND):[0-9]*' | sed 's/.*://'); do
		r="$r $((b * bs)):$bs"
	done
	echo "$r"
}

ranges_a=$(ranges "$TEST_TMP/a.img")
ranges_b=$(ranges "$TEST_TMP/b.img")
ranges_c=$(ranges "$TEST_TMP/c.img")
echo "ranges a: $ranges_a"
echo "ranges b: $ranges_b"
echo "ranges c: $ranges_c"

# The bases themselves must be clean.
for base in a b c; do
	st=0
	timeout 10 "$ESCK" inspect -q --json "$TEST_TMP/$base.img" >/dev/null 2>"$TEST_TMP/err" ||
		st=$?
	test "$st" -eq 0 || test_fail "base $base: esck exit $st, expected 0"
	if grep -E -q "$SAN_RE" "$TEST_TMP/err"; then
		test_fail "base $base: sanitizer report on stderr"
		head -20 "$TEST_TMP/err"
	fi
done

# The cases, one a line: "BASE r SEED" (random mutations) or "BASE s
# OFFSET:WIDTH:VALUE" (an exact field, for the sweep).  First a sweep of the
# superblock and group 0's descriptor fields that size everything else
# (plus known crashers), then ESCK_FUZZ_CASES random ones.
sweep_fields='0:4 4:4 12:4 20:4 24:4 28:4 32:4 36:4 40:4 56:2 76:4 84:4 88:2
92:4 96:4 100:4 206:2 254:2 260:4 336:4 348:2 350:2 372:1 373:1 624:4'
gd_fields='0:4 4:4 8:4 12:2 14:2 16:2 18:2 28:2 32:4 40:4'
# (s_first_data_block = 127, offset 1044, found by the random run: heap
# overflow in libext2fs 1.47.0's ext2fs_rw_bitmaps unless esck checks the
# geometry before reading the bitmaps, as e2fsck does.)
{
	for base in a b c; do
		case $base in
		a) gdt=4096 ;;
		*) gdt=2048 ;;
		esac
		for f in $sweep_fields; do
			for v in 0 1 127 0xffffffff; do
				echo "$base s $((1024 + ${f%:*})):${f#*:}:$v"
			done
		done
		for f in $gd_fields; do
			for v in 0 1 0xffffffff; do
				echo "$base s $((gdt + ${f%:*})):${f#*:}:$v"
			done
		done
	done
	awk -v n="$cases" -v s0="$seed0" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "%s r %d\n", substr("abc", i % 3 + 1, 1), s0 * 1000003 + i }'
} >"$TEST_TMP/cases"
total=$(wc -l <"$TEST_TMP/cases")
total=$((total + 0))

# fuzz_job J: the cases of line number N with N % jobs == J, each job on its
# own copy files; failures go to $TEST_TMP/job-J.log, counts to job-J.failed.
fuzz_job()
{
	failed=0 n0=0 n4=0 n8=0 n=0
	err=$TEST_TMP/err-$1
	while read -r base kind arg; do
		n=$((n + 1))
		test $((n % jobs)) -eq "$1" || continue
		case $base in
		a) ranges=$ranges_a ;;
		b) ranges=$ranges_b ;;
		*) ranges=$ranges_c ;;
		esac
		copy=$TEST_TMP/copy-$base-$1.img
		if test "$kind" = s; then
			what="base $base, field $arg (offset:width:value)"
			"$MUTATE" -s "$TEST_TMP/$base.img" "$copy" "$arg" ||
				test_hard_error "mutate failed ($what)"
		else
			what="base $base, seed $arg, max $maxmut mutations"
			# shellcheck disable=SC2086 # the ranges are separate arguments
			"$MUTATE" "$TEST_TMP/$base.img" "$copy" "$arg" "$maxmut" $ranges ||
				test_hard_error "mutate failed ($what)"
		fi
		st=0
		timeout 10 "$ESCK" inspect -q --json "$copy" >/dev/null 2>"$err" </dev/null ||
			st=$?
		why=
		case $st in
		0) n0=$((n0 + 1)) ;;
		4) n4=$((n4 + 1)) ;;
		8) n8=$((n8 + 1)) ;;
		124) why="timed out (10 s)" ;;
		*) why="exit $st" ;;
		esac
		# grep only a non-empty stderr: a process per case counts here.
		if test -s "$err" && grep -E -q "$SAN_RE" "$err"; then
			why="${why:+$why, }sanitizer report"
		fi
		if test -n "$why"; then
			failed=$((failed + 1))
			mkdir -p "$crashdir"
			saved=$crashdir/$base-$kind$(echo "$arg" | tr ':' '-').img
			cp "$copy" "$saved"
			echo "FAIL case $n ($what): $why"
			echo "	image: $saved"
			echo "	reproduce: $ESCK inspect -q --json $saved"
			if test "$kind" = s; then
				echo "	remake: mutate -s BASE-$base COPY $arg"
			else
				echo "	remake: mutate BASE-$base COPY $arg $maxmut <ranges $base above>"
			fi
			sed 's/^/	stderr: /' "$err" | head -20
		fi
	done <"$TEST_TMP/cases"
	echo "$failed $n0 $n4 $n8" >"$TEST_TMP/job-$1.failed"
}

# Two streams keep both CPUs of a small machine busy.
jobs=${ESCK_FUZZ_JOBS:-2}
j=0
while test "$j" -lt "$jobs"; do
	fuzz_job "$j" >"$TEST_TMP/job-$j.log" 2>&1 &
	j=$((j + 1))
done
wait
failed=0 n0=0 n4=0 n8=0
j=0
while test "$j" -lt "$jobs"; do
	cat "$TEST_TMP/job-$j.log"
	test -f "$TEST_TMP/job-$j.failed" ||
		test_hard_error "fuzz job $j did not finish"
	read -r f c0 c4 c8 <"$TEST_TMP/job-$j.failed"
	failed=$((failed + f)) n0=$((n0 + c0)) n4=$((n4 + c4)) n8=$((n8 + c8))
	j=$((j + 1))
done

echo "fuzz smoke: $total case(s) run ($cases random, $((total - cases)) field sweep), $failed failed (esck exit 0: $n0, 4: $n4, 8: $n8)"
test "$failed" -eq 0 || exit 1
test_done
