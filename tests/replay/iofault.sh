#!/bin/sh
# iofault.sh --- fail each image write, then each read, of every op: the op reports it, the image is as before the op
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
rp_undo_valgrind
test_need mke2fs debugfs e2fsck e2undo

T=$TEST_TMP
rp_mkimg "$T/img0" 4M -b 1024
rp_data "$T/d" 300000
rp_put "$T/img0" "$T/d" f
# Four punches make five extents: the root (four slots) is full, so the
# last punch splits it and the tree grows a level.
cat >"$T/ops" <<EOF
fpunch 5000 20000
fpunch 100000 3000
fpunch 150000 3000
fpunch 200000 3000
falloc 400000 50000
truncate 250000
fpunch 30000 1000
truncate 0
EOF

# The images before each op: img$k is img0 after ops 1..k, fault-free.
k=0
while read -r op; do
	k=$((k + 1))
	cp "$T/img$((k - 1))" "$T/img$k"
	printf 'open f\n%s\n' "$op" >"$T/s$k"
	"$ESCK" replay-truncate "$T/img$k" "$T/s$k" >"$T/out" 2>&1 ||
		{ cat "$T/out"; test_hard_error "op $k ($op) fails without faults"; }
done <"$T/ops"
nops=$k
test "$(rp_depth "$T/img4" f)" = 1 || test_hard_error "op 4 did not grow the tree"

writes=0 reads=0 late=0
k=0
while read -r op; do
	k=$((k + 1))
	before=$T/img$((k - 1))

	# Writes: fail the nth for n = 1, 2, ... until the op needs fewer.
	n=1
	while :; do
		cp "$before" "$T/img"
		"$ESCK" replay-truncate --fail-write=$n "$T/img" "$T/s$k" \
			>"$T/out" 2>"$T/err"
		st=$?
		test $st -eq 0 && break
		writes=$((writes + 1))
		what="op $k ($op), write $n"
		test $st -eq 8 || test_fail "$what: exit $st, not 8"
		grep -q "^2: .*: error\$" "$T/out" || test_fail "$what: the op did not report an error"
		grep -q "s$k:2: [a-z]*: Input/output error\$" "$T/err" ||
			{ cat "$T/err"; test_fail "$what: no 'Input/output error' for line 2"; }
		cmp -s "$T/img" "$before" || test_fail "$what: the image is not as before the op"
		n=$((n + 1))
		test $n -le 100 || { test_fail "op $k: over 100 writes"; break; }
	done
	test $n -gt 1 || test_fail "op $k ($op) writes nothing"
	echo "op $k ($op): $((n - 1)) writes, each failed in turn"
	rp_fsck "$T/img"

	# Reads: fail the nth.  Before or during the op: the op (or the
	# opening) fails and the image is untouched.  After the op, in its
	# verification: the op stands, and the failure is reported.
	n=1
	while :; do
		cp "$before" "$T/img"
		"$ESCK" replay-truncate --fail-read=$n "$T/img" "$T/s$k" \
			>"$T/out" 2>"$T/err"
		st=$?
		test $st -eq 0 && break
		reads=$((reads + 1))
		what="op $k ($op), read $n"
		if cmp -s "$T/img" "$before"; then
			test $st -eq 8 || { cat "$T/err"; test_fail "$what: exit $st, not 8"; }
		else
			# The verifier could not read the tree back: an I/O
			# error (8), or a TREE_READ divergence (4).
			late=$((late + 1))
			grep -q "^2: .*: ok" "$T/out" ||
				test_fail "$what: the image changed but the op failed"
			{ test $st -eq 8 && grep -q "Input/output error while replaying" "$T/err"; } ||
				{ test $st -eq 4 && grep -q "TREE_READ: extent node could not be read" "$T/err"; } ||
				{ cat "$T/err"; test_fail "$what: exit $st, the failed read not reported"; }
			rp_fsck "$T/img"
		fi
		n=$((n + 1))
		test $n -le 300 || { test_fail "op $k: over 300 reads"; break; }
	done
	echo "op $k ($op): $((n - 1)) reads, each failed in turn"
done <"$T/ops"
echo "$writes write faults and $reads read faults ($late in a verification)"

# The whole script in one run, with an undo file: any one failed write or
# read leaves an image that e2fsck passes and e2undo puts back.
{ echo "open f"; cat "$T/ops"; } >"$T/all"
for f in write:3 write:9 write:17 read:7 read:20 read:40; do
	cp "$T/img0" "$T/img"
	rm -f "$T/u"
	"$ESCK" replay-truncate -z "$T/u" --fail-${f%%:*}=${f#*:} "$T/img" "$T/all" \
		>"$T/out" 2>"$T/err"
	st=$?
	test $st -eq 8 || { cat "$T/err"; test_fail "whole script, $f: exit $st"; }
	rp_fsck "$T/img"
	e2undo "$T/u" "$T/img" >/dev/null 2>&1 || test_fail "whole script, $f: e2undo failed"
	cmp -s "$T/img" "$T/img0" || test_fail "whole script, $f: e2undo did not restore the image"
done
test "$nops" -eq 8 || test_fail "ops: $nops"
test_done
