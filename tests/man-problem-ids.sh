#!/bin/sh
# man-problem-ids.sh --- esck(8) PROBLEM IDS lists exactly the IDs of lib/problem.h, with their severities
#
# lib/problem.h is the catalogue (X(ID, SEVERITY, "message") lines);
# man/esck.8.in lists each as ".It Li ID Pq severity" in its PROBLEM IDS
# section.  Fails on an ID missing from the page, an ID the page lists that
# does not exist, or a severity that differs.
. "$top_srcdir/tests/lib.sh"
test_init

header="$top_srcdir/lib/problem.h"
page="$top_srcdir/man/esck.8.in"
test -r "$header" || test_hard_error "cannot read $header"
test -r "$page" || test_hard_error "cannot read $page"

# "ID severity" from the header, in lower case severity
sed -n 's/^[[:space:]]*X(\([A-Z0-9_]*\),[[:space:]]*\([A-Z]*\),.*/\1 \2/p' "$header" |
	awk '{ print $1, tolower($2) }' | sort >"$TEST_TMP/header"
test -s "$TEST_TMP/header" || test_hard_error "no problem IDs found in $header"

# "ID severity" from the page's PROBLEM IDS section
awk '
	/^\.Sh / { insec = ($0 == ".Sh PROBLEM IDS"); next }
	insec && /^\.It Li [A-Z0-9_]+/ {
		sev = ""
		for (i = 4; i < NF; i++)
			if ($i == "Pq") sev = $(i + 1)
		print $3, sev
	}' "$page" | sort >"$TEST_TMP/page"
test -s "$TEST_TMP/page" || test_fail "esck.8.in has no PROBLEM IDS entries"

cut -d' ' -f1 "$TEST_TMP/header" >"$TEST_TMP/header.ids"
cut -d' ' -f1 "$TEST_TMP/page" >"$TEST_TMP/page.ids"
for id in $(comm -23 "$TEST_TMP/header.ids" "$TEST_TMP/page.ids"); do
	test_fail "$id is in lib/problem.h but not in esck(8) PROBLEM IDS"
done
for id in $(comm -13 "$TEST_TMP/header.ids" "$TEST_TMP/page.ids"); do
	test_fail "$id is in esck(8) PROBLEM IDS but not in lib/problem.h"
done
dups=$(uniq -d "$TEST_TMP/page.ids")
test -z "$dups" || test_fail "listed twice in esck(8): $dups"
join "$TEST_TMP/header" "$TEST_TMP/page" | while read -r id hsev psev; do
	test "$hsev" = "$psev" ||
		echo "FAIL: $id: severity $hsev in lib/problem.h, '$psev' in esck(8)"
done >"$TEST_TMP/sev"
if test -s "$TEST_TMP/sev"; then
	cat "$TEST_TMP/sev"
	test_failures=$((test_failures + 1))
fi

echo "$(wc -l <"$TEST_TMP/header.ids") problem IDs checked"
test_done
