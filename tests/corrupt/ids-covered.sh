#!/bin/sh
# ids-covered.sh --- fail if a problem ID of lib/problem.h has no case of its own in tests/corrupt/plant.sh
#
# The CACHE_EXTRA, CACHE_MISSING, CACHE_PBLK and CACHE_STATUS classes need
# the libext2fs reader and our raw reader to disagree on the same bytes, which
# no on-disk corruption can arrange: they are exempt.  A case line counts for
# an ID only when the ID alone is its expected column; every case line must
# also have its plant_NAME function.
set -eu

: "${top_srcdir:?run through make check}"
problem_h=$top_srcdir/lib/problem.h
plant=$top_srcdir/tests/corrupt/plant.sh
exempt=' CACHE_EXTRA CACHE_MISSING CACHE_PBLK CACHE_STATUS '

ids=$(sed -n 's/^[[:space:]]*X(\([A-Z0-9_]*\),.*/\1/p' "$problem_h")
test -n "$ids" || { echo "ERROR: no IDs found in $problem_h" >&2; exit 99; }

# The case table: the lines between "PL_CASES='" and the closing "'".
table=$(sed -n "/^PL_CASES='/,/^'/p" "$plant" | sed '1d;$d')
test -n "$table" || { echo "ERROR: no case table in $plant" >&2; exit 99; }

missing=0
for id in $ids; do
	case $exempt in
	*" $id "*) continue ;;
	esac
	if ! printf '%s\n' "$table" | awk -v id="$id" '$4 == id { f = 1 } END { exit !f }'; then
		echo "FAIL: $id has no case in tests/corrupt/plant.sh"
		missing=$((missing + 1))
	fi
done

for name in $(printf '%s\n' "$table" | awk 'NF { print $1 }'); do
	if ! grep -q "^plant_$name()" "$plant"; then
		echo "FAIL: case $name has no plant_$name function"
		missing=$((missing + 1))
	fi
done

# Every expected ID must exist (a typo would otherwise never match).
for want in $(printf '%s\n' "$table" | awk 'NF { gsub(/\|/, " ", $4); print $4 }'); do
	if ! printf '%s\n' "$ids" | grep -qx "$want"; then
		echo "FAIL: the case table names $want, which lib/problem.h does not define"
		missing=$((missing + 1))
	fi
done

if test "$missing" -ne 0; then
	echo "ids-covered: $missing problem(s)"
	exit 1
fi
echo "ids-covered: every plantable ID has a case"
