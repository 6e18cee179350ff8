#!/bin/sh
# kill9.sh --- kill -9 at random points of a long replay with -z: e2undo restores the image, the orphans complete
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
rp_undo_valgrind
test_need mke2fs debugfs dumpe2fs e2fsck e2undo awk

# Kill points: 5 by default, THOROUGH=1 for 25; SEED picks them.
points=5
test -n "${THOROUGH-}" && points=25
seed=${SEED:-4242}

T=$TEST_TMP
rp_long_replay "$T"

now() { date +%s.%N; }

# The length of a whole run, to spread the kill points over.
cp "$T/orig.img" "$T/img"
t0=$(now)
"$ESCK" replay-truncate -z "$T/u" "$T/img" "$T/s" >"$T/out" 2>&1 ||
	test_hard_error "the fault-free run failed: $(tail -n 3 "$T/out")"
t1=$(now)
dur=$(echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }')
echo "a whole run takes ${dur}s"
rp_fsck "$T/img"
rm -f "$T/u"

# sb_fields IMG: the superblock as dumpe2fs shows it, less what e2undo sets
# itself after replaying an unfinished undo file (it marks the file system
# not clean, so that it is checked, and rewrites the superblock).
sb_fields()
{
	dumpe2fs -h "$1" 2>/dev/null | grep -v -e '^Filesystem state:' \
		-e '^Last write time:' -e '^Lifetime writes:' -e '^Checksum:'
}
sb_fields "$T/orig.img" >"$T/sb.orig"

# The damage a kill inside an operation's write-out can leave (no journal):
# block bitmaps and counters that lag the extent tree, i_blocks.  Anything
# else -- extents out of order, blocks claimed twice, a bad tree -- is a bug.
benign()
{
	grep -v -e '^Pass [1-5]' -e '^e2fsck ' -e '^$' -e 'Fix? no' \
		-e 'Ignore error? no' -e 'IGNORED' -e 'WARNING: Filesystem still has errors' \
		-e '^Block bitmap differences:' -e 'block bitmap does not match checksum' \
		-e '^Free blocks count wrong' -e 'i_blocks is [0-9]*, should be' \
		-e "$1: [0-9]*/[0-9]* files" "$2"
}

awk -v s="$seed" -v n="$points" -v d="$dur" 'BEGIN {
	srand(s); for (i = 0; i < n; i++) printf "%.3f\n", 0.05 + rand() * d * 0.9
}' >"$T/points"
clean=0
k=0
while read -r delay; do
	k=$((k + 1))
	cp "$T/orig.img" "$T/img"
	rm -f "$T/u"
	"$ESCK" replay-truncate -z "$T/u" "$T/img" "$T/s" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid"
	st=$?
	echo "kill point $k: after ${delay}s, exit $st"
	test $st -eq 137 || test $st -eq 0 ||
		test_fail "kill point $k: esck ended with $st before the kill"

	# 0. Killed before the undo file got its header (a slow start, as
	#    under valgrind): then nothing may have been written at all.
	if ! test -s "$T/u"; then
		cmp -s "$T/img" "$T/orig.img" ||
			test_fail "kill point $k: no undo file, yet the image changed"
		echo "kill point $k: before the undo file existed; image unchanged"
		continue
	fi

	# 1. e2undo restores the original: every byte outside the superblock,
	#    and every superblock field but those e2undo sets.
	cp "$T/img" "$T/a.img"
	e2undo -f "$T/u" "$T/a.img" >"$T/e2undo.out" 2>&1 ||
		{ cat "$T/e2undo.out"; test_fail "kill point $k: e2undo failed"; }
	cmp -l "$T/a.img" "$T/orig.img" 2>/dev/null |
		awk '$1 <= 1024 || $1 > 2048' >"$T/diff"
	test -s "$T/diff" &&
		test_fail "kill point $k: e2undo left $(wc -l <"$T/diff") bytes outside the superblock changed"
	sb_fields "$T/a.img" >"$T/sb.a"
	cmp -s "$T/sb.orig" "$T/sb.a" ||
		{ diff "$T/sb.orig" "$T/sb.a"; test_fail "kill point $k: superblock not restored"; }

	# 2. Without the undo file: complete the orphans, then e2fsck -fn.
	cp "$T/img" "$T/b.img"
	"$ESCK" replay-truncate "$T/b.img" >"$T/orph.out" 2>&1
	st=$?
	test $st -eq 0 || test $st -eq 8 ||
		{ cat "$T/orph.out"; test_fail "kill point $k: orphan completion exit $st"; }
	test $st -eq 0 &&
		test -n "$(debugfs -R stats "$T/b.img" 2>/dev/null | sed -n 's/^Last orphan inode: *//p')" &&
		test_fail "kill point $k: orphans completed, but the list is not empty"
	if e2fsck -fn "$T/b.img" >"$T/fsck.out" 2>&1 && test $st -eq 0; then
		clean=$((clean + 1))
	else
		echo "kill point $k: killed inside a write-out:"
		sed -n '/^Pass 1/,$p' "$T/fsck.out" | grep -v '^Pass' | head -n 8
		benign b.img "$T/fsck.out" >"$T/bad"
		test -s "$T/bad" &&
			{ cat "$T/bad"; test_fail "kill point $k: e2fsck finds more than lagging bitmaps"; }
	fi
done <"$T/points"
echo "$clean of $points kill points: orphans completed and e2fsck -fn clean"
test "$clean" -gt 0 || test_fail "no kill point left a clean image"
test_done
