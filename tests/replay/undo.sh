#!/bin/sh
# undo.sh --- -z FILE writes an e2undo(8) file: e2undo puts the image back byte for byte, rollbacks included
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
rp_undo_valgrind
test_need mke2fs debugfs e2fsck e2undo

T=$TEST_TMP
rp_mkimg "$T/orig.img" 4M -b 1024
rp_data "$T/d" 300000
rp_put "$T/orig.img" "$T/d" f
rp_put "$T/orig.img" "$T/d" g
cat >"$T/s" <<EOF
open f
fpunch 5000 20000
fpunch 100000 3000
truncate 150000
falloc 400000 50000
open g
truncate 0
open -f new
falloc 0 64k
EOF

# undo_check WHAT: e2undo $T/u restores $T/img to $T/orig.img exactly.
undo_check()
{
	e2undo "$T/u" "$T/img" >"$T/e2undo.out" 2>&1 ||
		{ cat "$T/e2undo.out"; test_fail "$1: e2undo failed"; return; }
	cmp -s "$T/img" "$T/orig.img" ||
		test_fail "$1: e2undo did not restore the image byte for byte"
}

# A clean replay: the image changes, e2fsck passes, e2undo undoes it all.
cp "$T/orig.img" "$T/img"
run_esck replay-truncate -z "$T/u" "$T/img" "$T/s"
test_status 0 "clean replay"
grep -q "e2undo $T/u $T/img" "$T/err" || test_fail "no e2undo hint on stderr"
cmp -s "$T/img" "$T/orig.img" && test_fail "clean replay: the image did not change"
rp_fsck "$T/img"
undo_check "clean replay"

# The same with --undo=FILE, the long form.
cp "$T/orig.img" "$T/img"
rm -f "$T/u"
run_esck replay-truncate --undo="$T/u" "$T/img" "$T/s"
test_status 0 "--undo="
undo_check "--undo="

# Rollbacks: a failed write makes an op roll back, through the undo layer.
# The undo file must still hold the blocks' first contents.  Count the
# writes of a fault-free run first, then fail some across the whole run.
cp "$T/orig.img" "$T/img"
rm -f "$T/u"
total=0
n=1
while test $n -lt 400; do
	cp "$T/orig.img" "$T/img"
	rm -f "$T/u"
	"$ESCK" replay-truncate -z "$T/u" --fail-write=$n "$T/img" "$T/s" \
		>"$T/out" 2>"$T/err"
	st=$?
	if test $st -eq 0; then
		total=$((n - 1))
		break
	fi
	test $((st & 8)) -eq 8 || test_fail "fail-write $n: exit $st without bit 8"
	grep -q ": error" "$T/out" || test_fail "fail-write $n: no op reported an error"
	grep -q '^9 ops: 8 ok, 1 failed' "$T/out" ||
		{ cat "$T/out"; test_fail "fail-write $n: not exactly one op failed"; }
	rp_fsck "$T/img"
	undo_check "fail-write $n"
	n=$((n + 1))
done
echo "a fault-free run makes $total writes; each one failed in turn"
test "$total" -gt 10 || test_fail "only $total writes (or never succeeded)"

# Two runs with the same file: the second appends, one e2undo undoes both.
cp "$T/orig.img" "$T/img"
rm -f "$T/u"
"$ESCK" replay-truncate -z "$T/u" "$T/img" "$T/s" >/dev/null 2>&1 || test_fail "first of two runs"
printf 'open f\nfpunch 0 4096\ntruncate 1000\n' >"$T/s2"
run_esck replay-truncate -z "$T/u" "$T/img" "$T/s2"
test_status 0 "second run, same undo file"
undo_check "two runs"

# No script, an empty orphan list: nothing changes, the undo file is still
# complete and e2undo leaves the image as it is.
cp "$T/orig.img" "$T/img"
rm -f "$T/u"
run_esck replay-truncate -z "$T/u" "$T/img"
test_status 0 "orphans, none"
undo_check "no orphans"

# An undo file from another image, or one that is not an undo file, is
# refused as e2fsck -z refuses it: exit 8, neither file changed.
cp "$T/orig.img" "$T/img"
echo "not an undo file" >"$T/junk"
cp "$T/junk" "$T/junk.0"
run_esck replay-truncate -z "$T/junk" "$T/img" "$T/s"
test_status 8 "junk undo file"
grep -q "Undo file corrupt while opening undo file '$T/junk'" "$T/err" ||
	{ cat "$T/err"; test_fail "junk undo file: message"; }
cmp -s "$T/junk" "$T/junk.0" || test_fail "junk undo file: changed"
cmp -s "$T/img" "$T/orig.img" || test_fail "junk undo file: image changed"
rp_mkimg "$T/other.img" 8M
rm -f "$T/u"
"$ESCK" replay-truncate -z "$T/u" "$T/other.img" "$T/s" >/dev/null 2>&1
cp "$T/u" "$T/u.0"
run_esck replay-truncate -z "$T/u" "$T/img" "$T/s"
test_status 8 "another image's undo file"
cmp -s "$T/u" "$T/u.0" || test_fail "another image's undo file: changed"
cmp -s "$T/img" "$T/orig.img" || test_fail "another image's undo file: image changed"

# -n -z: accepted as e2fsck accepts it, and nothing is written anywhere.
rm -f "$T/u"
run_esck replay-truncate -n -z "$T/u" "$T/img" "$T/s"
test_status 0 "-n -z"
test -e "$T/u" && test_fail "-n -z created the undo file"
cmp -s "$T/img" "$T/orig.img" || test_fail "-n -z: image changed"

# An empty name is a usage error.
run_esck replay-truncate -z "" "$T/img" "$T/s"
test_status 16 "-z ''"
test_done
