#!/bin/sh
# group.sh --- group commit: 600 punches in three groups leave the image per-op replay leaves; a failed group write or read fails exactly one op
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs dumpe2fs e2fsck awk

T=$TEST_TMP
rp_mkimg "$T/img0" 8M -b 1024
rp_data "$T/d" 2000000
rp_put "$T/img0" "$T/d" f
# 600 single-block punches, every third block: three groups of at most
# 256 ops, and a tree of two levels.
awk 'BEGIN {
	print "open f"
	for (i = 0; i < 600; i++) printf "fpunch %d 1024\n", i * 3 * 1024
}' >"$T/s"

# state IMG: what must not depend on how the writes were grouped.
state()
{
	debugfs -R "ex f" "$1" 2>/dev/null
	debugfs -R "cat f" "$1" 2>/dev/null | cksum
	dumpe2fs "$1" 2>/dev/null | grep -e '^ *Free blocks: ' -e '^Free blocks count:'
	rp_stat "$1" f Blockcount
}

# semantics IMG: the same, less where the tree's nodes went (an op done
# last splits leaves in another order).
semantics()
{
	rp_map "$1" f
	debugfs -R "cat f" "$1" 2>/dev/null | cksum
	rp_data_sectors "$1" f
}

# one_failed WHAT: the run ($T/out, $T/err) failed exactly one op, with an
# I/O error; the image is consistent, and that op replayed alone afterwards
# gives the fault-free file.  Nonzero when not exactly one op failed.
one_failed()
{
	line=$(sed -n 's/^\([0-9]*\): .*: error$/\1/p' "$T/out")
	test "$(echo "$line" | wc -w)" -eq 1 ||
		{ test_fail "$1: not exactly one op failed: $line"; return 1; }
	grep -q "s:$line: fpunch: Input/output error\$" "$T/err" ||
		{ cat "$T/err"; test_fail "$1: no Input/output error for line $line"; }
	rp_fsck "$T/img"
	printf 'open f\n%s\n' "$(sed -n "${line}p" "$T/s")" >"$T/one"
	"$ESCK" replay-truncate "$T/img" "$T/one" >/dev/null 2>&1 ||
		test_fail "$1: line $line alone failed"
	semantics "$T/img" >"$T/sem"
	cmp -s "$T/sem" "$T/sem.ref" ||
		test_fail "$1: with line $line done after, the file differs"
	return 0
}

# --verify=full writes each op alone: the reference.
cp "$T/img0" "$T/ref"
"$ESCK" replay-truncate --verify=full "$T/ref" "$T/s" >"$T/out" 2>&1 ||
	{ tail -3 "$T/out"; test_hard_error "the per-op run failed"; }
state "$T/ref" >"$T/state.ref"
semantics "$T/ref" >"$T/sem.ref"
test "$(rp_depth "$T/ref" f)" -ge 1 || test_hard_error "the tree has one level"

cp "$T/img0" "$T/img"
"$ESCK" replay-truncate "$T/img" "$T/s" >"$T/out" 2>"$T/err" ||
	{ cat "$T/err"; test_fail "the grouped run failed"; }
state "$T/img" >"$T/state"
cmp -s "$T/state" "$T/state.ref" ||
	{ diff "$T/state.ref" "$T/state" | head; test_fail "grouped and per-op runs differ"; }
rp_fsck "$T/img"
# Each op told once, in order, after its group reached the image.
awk -F: '$2 ~ /fpunch/ { if ($1 != n + 2) bad = 1; n++ } END { exit bad || n != 600 }' "$T/out" ||
	test_fail "the op lines are not 2..601 in order"

# Fail the nth write for n = 1, 2, ... (every 4th under valgrind) until the
# run needs fewer.  Each
# time exactly one op fails (the one whose write met the fault when its
# group was retried op by op), the image is consistent, and that op
# replayed alone afterwards gives the fault-free result.
n=1 step=1 failed=0
test -n "${ESCK_VALGRIND_LOGS-}" && step=4
while :; do
	cp "$T/img0" "$T/img"
	"$ESCK" replay-truncate --fail-write=$n "$T/img" "$T/s" >"$T/out" 2>"$T/err"
	st=$?
	test $st -eq 0 && break
	what="write $n"
	test $st -eq 8 || { cat "$T/err"; test_fail "$what: exit $st, not 8"; break; }
	one_failed "$what" || break
	failed=$((failed + 1))
	n=$((n + step))
	# Op by op, 600 punches write at least 600 times.
	test $n -le 200 || { test_fail "over 200 writes: not grouped"; break; }
done
echo "600 ops write under $n times; $failed of those writes failed in turn"
test $failed -ge 3 || test_fail "only $failed writes failed"

# Fail the nth read, n spread over the whole run, until the run needs
# fewer.  A read an op makes meets the fault: mostly after ops of its group
# whose bitmap and descriptor writes wait for the group's write-out, and
# often after its own frees, so the group is redone op by op up to it.
# Exactly that op fails, the image is consistent, and that op replayed
# alone afterwards gives the fault-free result.  A read of the
# verification after an op meets it instead: the run stops there, with the
# image consistent.
n=1 step=97 opfail=0 vfail=0
test -n "${ESCK_VALGRIND_LOGS-}" && step=997
while :; do
	cp "$T/img0" "$T/img"
	"$ESCK" replay-truncate --fail-read=$n "$T/img" "$T/s" >"$T/out" 2>"$T/err"
	st=$?
	test $st -eq 0 && break
	what="read $n"
	if ! grep -q ': error$' "$T/out"; then
		{ test $st -eq 8 || test $st -eq 4; } ||
			{ cat "$T/err"; test_fail "$what: exit $st in a verification"; }
		rp_fsck "$T/img"
		vfail=$((vfail + 1))
	else
		test $st -eq 8 || { cat "$T/err"; test_fail "$what: exit $st, not 8"; break; }
		one_failed "$what" || break
		opfail=$((opfail + 1))
	fi
	n=$((n + step))
	test $n -le 100000 || { test_fail "over 100000 reads"; break; }
done
echo "600 ops read under $n times; $opfail reads failed an op, $vfail a verification"
test $opfail -ge 2 || test_fail "only $opfail reads failed an op"
# Each op reads its inode and its leaf at least: a sweep that ended sooner
# stopped on a fault that was not met again.
test $n -gt 1200 || test_fail "the sweep ended at read $n"
# Several files in a group: one created inside it (dropped and created
# again when the group is retried), truncates, an open that fails (the
# current file stays), back to the first file.  Grouped equals op by op;
# with each write failed in turn, one op meets the fault, the image is
# whole.
rp_put "$T/img0" "$T/d" g
cat >"$T/m" <<'EOS'
open f
fpunch 0 1024
fpunch 10240 2048
open -f new
truncate 5000
truncate 0
open g
fpunch 4096 8192
truncate 100000
open missing
fpunch 20480 1024
open f
truncate 500000
EOS
files()
{
	for x in f g; do
		debugfs -R "ex $x" "$1" 2>/dev/null
		debugfs -R "cat $x" "$1" 2>/dev/null | cksum
	done
	rp_stat "$1" new Size
	dumpe2fs -h "$1" 2>/dev/null | grep '^Free blocks count:'
}
cp "$T/img0" "$T/ref"
"$ESCK" replay-truncate --verify=full "$T/ref" "$T/m" >"$T/out.ref" 2>&1
test $? -eq 8 || { cat "$T/out.ref"; test_hard_error "per-op: open missing not refused"; }
files "$T/ref" >"$T/files.ref"
cp "$T/img0" "$T/img"
"$ESCK" replay-truncate "$T/img" "$T/m" >"$T/out" 2>&1
st=$?; test $st -eq 8 || test_fail "grouped: exit $st"
files "$T/img" >"$T/files"
cmp -s "$T/files" "$T/files.ref" ||
	{ diff "$T/files.ref" "$T/files" | head; test_fail "several files: grouped and per-op differ"; }
cmp -s "$T/out" "$T/out.ref" ||
	{ diff "$T/out.ref" "$T/out"; test_fail "several files: the output differs"; }
n=1 eio=0
while :; do
	cp "$T/img0" "$T/img"
	"$ESCK" replay-truncate --fail-write=$n "$T/img" "$T/m" >"$T/out" 2>"$T/err"
	st=$?
	k=$(grep -c 'Input/output error$' "$T/err")
	test "$k" -eq 0 && break
	eio=$((eio + 1))
	test $st -eq 8 || test_fail "several files, write $n: exit $st"
	test "$k" -eq 1 || test_fail "several files, write $n: $k ops failed with EIO"
	test "$(grep -c ': error$' "$T/out")" -eq 2 ||
		test_fail "several files, write $n: not exactly the EIO op and open missing failed"
	rp_fsck "$T/img"
	n=$((n + 1))
	test $n -le 100 || { test_fail "several files: over 100 writes"; break; }
done
echo "several files: $eio writes, each failed in turn"
test $eio -ge 3 || test_fail "several files: only $eio writes"
test_done
