#!/bin/sh
# run.sh --- plant each corruption of plant.sh and check that "esck inspect" reports its problem ID
#
# For every case of the table in tests/corrupt/plant.sh: copy a clean base
# image, plant the corruption, run "esck inspect -q --json" (under timeout)
# and "e2fsck -fn" on it, and check that esck
#   - exits 4 and reports the expected ID for the corrupted file's inode
#     (jq over the JSON Lines), and none of the case's forbidden IDs,
#   - does not crash (exit < 124, nothing from a sanitizer on stderr),
#   - exits 4 whenever e2fsck -fn exits non-zero,
#   - ends its output with one summary record.
# The clean bases must give exit 0 and no problem from both tools.
# Prints "ok ID (case) ..." or "FAIL ID (case): why" per case.
# ESCK_CORRUPT_CASES="name ..." runs only those cases.
# shellcheck source-path=SCRIPTDIR
set -eu

: "${top_srcdir:?run through make check}"
# shellcheck source=../lib.sh
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs e2fsck jq timeout od dd truncate
test -x "$ESCK" || test_hard_error "$ESCK not built"

PL_TMP=$TEST_TMP
# shellcheck source=plant.sh
. "$top_srcdir/tests/corrupt/plant.sh"

E2FSPROGS_FAKE_TIME=1700000000
export E2FSPROGS_FAKE_TIME

SAN_RE='runtime error|AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer'
fails=0
cases=0

fail()
{
	echo "FAIL $*"
	fails=$((fails + 1))
}

# inspect IMAGE: esck's exit status in $st, output in $TEST_TMP/out, err.
inspect()
{
	st=0
	timeout 10 "$ESCK" inspect -q --json "$1" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null ||
		st=$?
}

# fsck IMAGE: e2fsck -fn's exit status in $fst, output in $TEST_TMP/fsck.
fsck()
{
	fst=0
	e2fsck -fn "$1" >"$TEST_TMP/fsck" 2>&1 </dev/null || fst=$?
}

# common_checks LABEL: what must hold for any image; prints and returns 1 on
# the first violation.
common_checks()
{
	if test "$st" -eq 124; then
		fail "$1: esck timed out (10 s)"
		return 1
	fi
	if test "$st" -ge 124; then
		fail "$1: esck crashed or was killed (exit $st)"
		sed 's/^/	stderr: /' "$TEST_TMP/err" | head -20
		return 1
	fi
	if grep -E -q "$SAN_RE" "$TEST_TMP/err"; then
		fail "$1: sanitizer report on stderr (exit $st)"
		sed 's/^/	stderr: /' "$TEST_TMP/err" | head -20
		return 1
	fi
	if ! jq -e -s 'length > 0 and (.[-1].type == "summary")
			and ([.[] | select(.type == "summary")] | length == 1)
			and ([.[] | select(.type == "problem")] | length) == .[-1].problems' \
			"$TEST_TMP/out" >/dev/null 2>&1; then
		fail "$1: stdout is not JSON Lines of problems then one summary counting them (exit $st)"
		sed 's/^/	stdout: /' "$TEST_TMP/out" | head -5
		sed 's/^/	stderr: /' "$TEST_TMP/err" | head -5
		return 1
	fi
	return 0
}

# ---- the clean bases ----

for base in e4 e4c e2 ba; do
	pl_make_base "$base" "$TEST_TMP/$base.img" ||
		test_hard_error "cannot build base image $base"
	cases=$((cases + 1))
	fsck "$TEST_TMP/$base.img"
	if test "$fst" -ne 0; then
		# The recipe, not esck, is wrong: a hard error.
		cat "$TEST_TMP/fsck"
		test_hard_error "e2fsck -fn is not clean on base $base (exit $fst)"
	fi
	inspect "$TEST_TMP/$base.img"
	common_checks "clean-$base" || continue
	n=$(jq -s '[.[] | select(.type == "problem")] | length' "$TEST_TMP/out")
	if test "$st" -ne 0 || test "$n" -ne 0; then
		fail "clean-$base: esck exit $st with $n problem(s), expected 0 and none"
		jq -c 'select(.type == "problem")' "$TEST_TMP/out" | head -5 | sed 's/^/	/'
		sed 's/^/	stderr: /' "$TEST_TMP/err" | head -5
		continue
	fi
	echo "ok clean-$base esck=$st e2fsck=$fst"
done

# ---- the planted cases ----

img=$TEST_TMP/case.img
while read -r name base file expect forbidden; do
	test -n "$name" || continue
	if test -n "${ESCK_CORRUPT_CASES-}"; then
		case " $ESCK_CORRUPT_CASES " in
		*" $name "*) ;;
		*) continue ;;
		esac
	fi
	cases=$((cases + 1))
	label="$expect ($name)"
	cp "$TEST_TMP/$base.img" "$img"
	# A subshell, so that the recipe's variables stay its own.
	if ! ("plant_$name" "$img") 2>"$TEST_TMP/plant.err"; then
		fail "$label: could not plant the corruption"
		sed 's/^/	/' "$TEST_TMP/plant.err"
		continue
	fi
	if cmp -s "$TEST_TMP/$base.img" "$img"; then
		fail "$label: planting changed nothing"
		continue
	fi
	fsck "$img"
	inspect "$img"
	common_checks "$label" || continue
	ids=$(jq -r 'select(.type == "problem") | .id' "$TEST_TMP/out" | sort -u | tr '\n' ' ')
	# The expected ID must come with the inode of (one of) the file(s).
	inos=
	for f in $(echo "$file" | tr '|' ' '); do
		inos="$inos $(pl_query "$TEST_TMP/$base.img" "imap /$f" |
			sed -n 's/^Inode \([0-9]*\) is part.*/\1/p')"
	done
	found=no
	for pair in $(jq -r 'select(.type == "problem") | "\(.id):\(.ino)"' "$TEST_TMP/out"); do
		case "|$expect|" in
		*"|${pair%%:*}|"*)
			case " $inos " in
			*" ${pair#*:} "*) found=yes ;;
			esac
			;;
		esac
	done
	why=
	if test "$st" -ne 4; then
		why="esck exit $st, expected 4"
	fi
	if test "$found" = no; then
		why="${why:+$why; }$expect not reported for inode(s)$inos (/$file)"
	fi
	for id in $(echo "$forbidden" | tr ',' ' '); do
		case " $ids " in
		*" $id "*) why="${why:+$why; }$id reported, but must not be" ;;
		esac
	done
	if test "$fst" -ne 0 && test "$st" -ne 4; then
		why="$why; e2fsck -fn exits $fst but esck does not exit 4"
	fi
	if test -n "$why"; then
		fail "$label: $why (esck=$st e2fsck=$fst; reported: ${ids:-none})"
		sed 's/^/	stderr: /' "$TEST_TMP/err" | head -5
		continue
	fi
	echo "ok $label esck=$st e2fsck=$fst reported: $ids"
done <<EOF
$PL_CASES
EOF

echo "corrupt: $cases case(s), $fails failed"
test "$fails" -eq 0 || exit 1
exit 0
