#!/bin/sh
# summary.sh --- print "N passed, N failed[, N skipped]" over automake .trs files
#
# usage: summary.sh FILE.trs...
# Counts every ":test-result:" line, so each TAP case is one result.  PASS
# and XFAIL pass; FAIL, XPASS and ERROR fail; SKIP is skipped.  A .trs that
# is missing counts as one failure.  Exits 1 if anything failed.

passed=0 failed=0 skipped=0
for trs in "$@"; do
	if ! test -r "$trs"; then
		echo "summary: ${trs%.trs}: no result (test did not run)"
		failed=$((failed + 1))
		continue
	fi
	counts=$(awk '
		$1 == ":test-result:" {
			if ($2 == "PASS" || $2 == "XFAIL") p++
			else if ($2 == "SKIP") s++
			else f++
		}
		END { printf "%d %d %d\n", p, f, s }' "$trs")
	read -r p f s <<-EOF
	$counts
	EOF
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

line="$passed passed, $failed failed"
test "$skipped" -eq 0 || line="$line, $skipped skipped"
echo "$line"
test "$failed" -eq 0
