#!/bin/sh
# signals.sh --- SIGINT and SIGTERM mid-replay: the op in flight finishes, exit 32, the image is the reported ops' result
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs dumpe2fs e2fsck awk

T=$TEST_TMP
rp_long_replay "$T"
total=$(wc -l <"$T/s")

now() { date +%s.%N; }
cp "$T/orig.img" "$T/img"
t0=$(now)
"$ESCK" replay-truncate "$T/img" "$T/s" >/dev/null 2>&1 || test_hard_error "the fault-free run failed"
t1=$(now)
dur=$(echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }')
echo "a whole run takes ${dur}s"

# state IMG: what the replay decides about /f and the free space.
state()
{
	rp_map "$1" f
	echo "size $(rp_stat "$1" f Size) blocks $(rp_stat "$1" f Blockcount)"
	dumpe2fs -h "$1" 2>/dev/null | grep -e '^Free blocks:' -e '^Last orphan inode:'
}

# The signal goes once the first ops are told (their lines reach the
# output file), so that it falls inside the run however loaded the machine
# is: a delay taken from the whole run's time fell after the end on a busy
# machine once the run took a few tens of milliseconds.
for sig in INT TERM; do
	tries=0
	while :; do
		cp "$T/orig.img" "$T/img"
		: >"$T/out"
		"$ESCK" replay-truncate "$T/img" "$T/s" >"$T/out" 2>"$T/err" &
		pid=$!
		while ! test -s "$T/out" && kill -0 "$pid" 2>/dev/null; do
			sleep 0.002
		done
		kill -"$sig" "$pid" 2>/dev/null
		wait "$pid"
		st=$?
		done_ops=$(grep -c -e ': ok$' -e ': ok (no-op)$' "$T/out")
		echo "SIG$sig once ops were told: exit $st, $done_ops of $total ops done"
		# Finished before the signal came: try again.
		test "$st" -eq 0 && test $tries -lt 5 && {
			tries=$((tries + 1))
			continue
		}
		break
	done
	test "$st" -eq 32 || { cat "$T/err"; test_fail "SIG$sig: exit $st, not 32"; continue; }
	grep -q ' divergences, interrupted$' "$T/out" ||
		test_fail "SIG$sig: the summary does not say interrupted"
	test -s "$T/err" && { cat "$T/err"; test_fail "SIG$sig: messages on stderr"; }
	test "$done_ops" -gt 0 && test "$done_ops" -lt "$total" ||
		test_fail "SIG$sig: $done_ops ops done, not an interruption"
	# The reported ops, and only them, are on the disk: their lines form a
	# prefix of the script; replay that prefix on a fresh copy.
	last=$(grep -e ': ok$' -e ': ok (no-op)$' "$T/out" | tail -n 1 | sed 's/:.*//')
	test "$last" -eq "$done_ops" ||
		test_fail "SIG$sig: the ops done are not the first $done_ops lines"
	rp_fsck "$T/img"
	head -n "$last" "$T/s" >"$T/prefix"
	cp "$T/orig.img" "$T/ref.img"
	"$ESCK" replay-truncate "$T/ref.img" "$T/prefix" >/dev/null 2>&1 ||
		test_fail "SIG$sig: replaying the prefix failed"
	state "$T/img" >"$T/state.got"
	state "$T/ref.img" >"$T/state.ref"
	test_cmp "$T/state.ref" "$T/state.got" "SIG$sig: the image against the first $last ops"
done
test_done
