# lib.sh --- helpers for esck's shell tests (POSIX sh; sourced, not run)
#
# A test script looks like
#
#	. "$top_srcdir/tests/lib.sh"
#	test_init
#	test_need mke2fs debugfs
#	run_esck --version
#	test_status 0
#	test_cmp_text "esck 0.1.0" "$TEST_TMP/out"
#	test_done
#
# make check sets top_srcdir, top_builddir, ESCK and a fixed environment
# (LC_ALL=C, TZ=GMT0, MKE2FS_CONFIG=tests/mke2fs.conf, ...): see
# AM_TESTS_ENVIRONMENT in tests/Makemodule.am.  To run one test by hand:
#	make check TESTS=tests/cli-basic.sh
# Set ESCK_VALGRIND=1 to run esck under valgrind, ESCK_KEEP_TMP=1 to keep
# the scratch directory.  Exit codes: 0 pass, 77 skip, 99 hard error.

# Fixed identity for test images, so that output is byte-for-byte stable.
TEST_UUID=0d6e0a3c-2d4a-4f6e-9a1b-3c5d7e9f1a2b
TEST_HASH_SEED=3b1c1d2e-4f5a-6b7c-8d9e-0f1a2b3c4d5e

test_failures=0

# test_init: check the environment and make $TEST_TMP, removed at exit.
test_init()
{
	if test -z "${top_srcdir-}" || test -z "${top_builddir-}" ||
	   test -z "${ESCK-}"; then
		echo "ERROR: run through 'make check' (top_srcdir, top_builddir, ESCK unset)" >&2
		exit 99
	fi
	TEST_NAME=$(basename "$0" .sh)
	TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/esck-$TEST_NAME.XXXXXX") ||
		test_hard_error "cannot create a scratch directory"
	trap 'test_cleanup' EXIT
	trap 'exit 130' INT TERM HUP
}

test_cleanup()
{
	if test -n "${ESCK_KEEP_TMP-}"; then
		echo "scratch directory kept: $TEST_TMP"
	else
		rm -rf "$TEST_TMP"
	fi
}

# test_skip MESSAGE: the test cannot run here (exit 77).
test_skip()
{
	echo "SKIP: $*"
	exit 77
}

# test_hard_error MESSAGE: the harness itself is broken (exit 99).
test_hard_error()
{
	echo "ERROR: $*" >&2
	exit 99
}

# test_fail MESSAGE: record a failure and carry on; test_done reports it.
test_fail()
{
	echo "FAIL: $*"
	test_failures=$((test_failures + 1))
}

# test_done: exit 1 if any check failed, else 0.
test_done()
{
	if test "$test_failures" -ne 0; then
		echo "$TEST_NAME: $test_failures check(s) failed"
		exit 1
	fi
	exit 0
}

# test_need COMMAND...: skip unless every COMMAND is on $PATH.
test_need()
{
	for test_need_cmd in "$@"; do
		command -v "$test_need_cmd" >/dev/null 2>&1 ||
			test_skip "$test_need_cmd not found"
	done
}

# run_esck ARG...: run esck; stdout to $TEST_TMP/out, stderr to
# $TEST_TMP/err, exit status in $status.  Never fails itself.
run_esck()
{
	if test -n "${ESCK_VALGRIND-}"; then
		valgrind -q --leak-check=full --error-exitcode=125 \
			--errors-for-leak-kinds=definite \
			"$ESCK" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	else
		"$ESCK" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	fi
	status=$?
	echo "esck $* -> exit $status"
	return 0
}

# test_status EXPECTED [WHAT]: check the $status of the last run_esck.
test_status()
{
	test "$status" -eq "$1" ||
		test_fail "${2:-exit status}: expected $1, got $status"
}

# test_cmp EXPECTED_FILE ACTUAL_FILE [WHAT]: byte-for-byte equal.
test_cmp()
{
	if ! cmp -s "$1" "$2"; then
		test_fail "${3:-$2} differs from ${1}:"
		diff -u "$1" "$2"
	fi
}

# test_cmp_text TEXT ACTUAL_FILE [WHAT]: the file holds TEXT and a newline.
test_cmp_text()
{
	printf '%s\n' "$1" >"$TEST_TMP/expected"
	test_cmp "$TEST_TMP/expected" "$2" "${3:-$2}"
}

# test_empty FILE [WHAT]
test_empty()
{
	if test -s "$1"; then
		test_fail "${2:-$1} is not empty:"
		cat "$1"
	fi
}

# test_grep PATTERN FILE [WHAT]: FILE has a line matching the basic regex.
test_grep()
{
	grep -q -e "$1" "$2" ||
		test_fail "${3:-$2} has no line matching '$1'"
}

# test_line_count N FILE [WHAT]
test_line_count()
{
	test_line_count_n=$(wc -l <"$2")
	test "$test_line_count_n" -eq "$1" ||
		test_fail "${3:-$2}: expected $1 line(s), got $test_line_count_n"
}

# test_mkfs IMAGE SIZE [MKE2FS_OPTION...]: a small ext4 image (1 KiB blocks
# unless overridden) with the fixed UUID and hash seed.
test_mkfs()
{
	test_mkfs_img=$1 test_mkfs_size=$2
	shift 2
	mke2fs -F -q -t ext4 -b 1024 -U "$TEST_UUID" \
		-E "hash_seed=$TEST_HASH_SEED" "$@" \
		"$test_mkfs_img" "$test_mkfs_size" >"$TEST_TMP/mke2fs.log" 2>&1 ||
		{ cat "$TEST_TMP/mke2fs.log"; test_hard_error "mke2fs failed"; }
}

# test_debugfs IMAGE: run the debugfs commands on stdin read-write.
test_debugfs()
{
	debugfs -w -f - "$1" >"$TEST_TMP/debugfs.log" 2>&1 ||
		{ cat "$TEST_TMP/debugfs.log"; test_hard_error "debugfs failed"; }
}
