#!/bin/sh
# inodes.sh --- a million inodes in use: esck inspect counts them all, with peak memory that does not grow with their number
#
# tests/img/mkinodes fills the inode tables of a fresh image with N
# one-block files (every 1000th with a depth-1 tree of 5 extents) in a
# second or two.  They are linked into no directory, so e2fsck -fn must
# find exactly N unattached inodes and nothing else.  ESCK_INODES sets N
# (default 1000000; 20000 under make check-valgrind).  Peak RSS is measured
# with /usr/bin/time (package time); the bounds are checked in plain builds
# only, since ASan and valgrind add memory of their own.
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs e2fsck /usr/bin/time

MKINODES=$top_builddir/tests/img/mkinodes
test -x "$MKINODES" || test_hard_error "$MKINODES not built"
cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"
export E2FSPROGS_FAKE_TIME=1700000000

if test -n "${ESCK_VALGRIND_LOGS-}${ESCK_VALGRIND-}"; then
	n=${ESCK_INODES:-20000} plain=0
else
	n=${ESCK_INODES:-1000000} plain=1
fi
# sanitizer builds link libasan/libubsan: memory figures are theirs
ldd "$ESCK" 2>/dev/null | grep -q -e libasan -e libubsan && plain=0
every=1000

# summary JSON NAME: a number of the summary record.
summary()
{
	sed -n 's/.*"type":"summary".*"'"$2"'":\([0-9]*\).*/\1/p' "$1"
}

# build IMAGE N [fsck]: mke2fs and mkinodes; with fsck, e2fsck finds N
# unattached inodes and nothing else (30 s for a million: the tenfold
# smaller image is checked, the big one with ESCK_THOROUGH=1).
build()
{
	b_n=$2
	b_blocks=$((b_n + b_n / 8 + 65536))
	mke2fs -F -q -t ext4 -b 4096 -U "$TEST_UUID" -E "hash_seed=$TEST_HASH_SEED" \
		-N $((b_n + 100)) -O ^has_journal,^resize_inode "$1" "$b_blocks" \
		>mke2fs.log 2>&1 || { cat mke2fs.log; test_hard_error "mke2fs -N $((b_n + 100))"; }
	"$MKINODES" "$1" "$b_n" "$every" || test_hard_error "mkinodes $1 $b_n"
	test -n "${3-}" || return 0
	e2fsck -fn "$1" >fsck.out 2>&1
	test "$(grep -c '^Unattached inode [0-9]*$' fsck.out)" -eq "$b_n" ||
		test_fail "$1: e2fsck -fn does not find $b_n unattached inodes"
	grep -v -e '^Unattached inode [0-9]*$' -e '^Connect to /lost+found? no$' -e '^$' \
		-e '^Pass [1-5]' -e '^e2fsck 1\.' -e 'WARNING: Filesystem still has errors' \
		-e "^$1: [0-9]*/[0-9]* files" fsck.out >fsck.other
	test -s fsck.other && { cat fsck.other; test_fail "$1: e2fsck -fn finds more than unattached inodes"; }
	:
}

# rss ARG...: esck ARG... under /usr/bin/time; $status, $rss (KiB).
rss()
{
	/usr/bin/time -o rss.out -f '%M' "$ESCK" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	status=$?
	rss=$(tail -n 1 rss.out)
	echo "esck $* -> exit $status, peak RSS $rss KiB"
}

t0=$(date +%s)
fsck=
test "${ESCK_THOROUGH:-0}" = 1 && fsck=fsck
build big.img "$n" $fsck
t1=$(date +%s)
deep=$((n / every))
rss inspect --json -q big.img
test_status 0 "inspect $n inodes"
t2=$(date +%s)
test "$(summary "$TEST_TMP/out" inodes)" = $((n + 2)) ||
	test_fail "inodes inspected: $(summary "$TEST_TMP/out" inodes), expected $n + 2 (/, lost+found)"
test "$(summary "$TEST_TMP/out" extents)" = $((n - deep + 5 * deep + 2)) ||
	test_fail "extents: $(summary "$TEST_TMP/out" extents), expected $((n - deep + 5 * deep + 2))"
test "$(summary "$TEST_TMP/out" tree_blocks)" = "$deep" ||
	test_fail "tree blocks: $(summary "$TEST_TMP/out" tree_blocks), expected $deep"
test "$(summary "$TEST_TMP/out" problems)" = 0 || test_fail "problems on a sound image"
big=$rss
peak=$(summary "$TEST_TMP/out" cache_entries)
test "$peak" -le 16 || test_fail "peak cache entries $peak: the cache keeps inodes it is done with"

rss inspect --json -q --cache-limit=4 big.img
test_status 0 "inspect $n inodes, --cache-limit=4"
limited=$rss
test "$(summary "$TEST_TMP/out" cache_entries)" -le 5 ||
	test_fail "--cache-limit=4: peak cache entries $(summary "$TEST_TMP/out" cache_entries)"
test "$(summary "$TEST_TMP/out" inodes)" = $((n + 2)) || test_fail "--cache-limit=4: inodes inspected"

# the same tenfold smaller: memory must not follow the number of inodes
build small.img $((n / 10)) fsck
rss inspect --json -q small.img
test_status 0 "inspect $((n / 10)) inodes"
small=$rss
t3=$(date +%s)
echo "$n inodes: build $((t1 - t0)) s, inspect $((t2 - t1)) s; peak RSS $big KiB," \
	"$limited KiB with --cache-limit=4, $small KiB for $((n / 10)) inodes"
if test "$plain" = 1; then
	test "$big" -le 32768 || test_fail "peak RSS $big KiB for $n inodes, more than 32 MiB"
	test "$big" -le $((small + 4096)) ||
		test_fail "peak RSS grows with the inodes: $small KiB for $((n / 10)), $big KiB for $n"
else
	echo "sanitizer or valgrind build: RSS bounds not checked"
fi

test_done
