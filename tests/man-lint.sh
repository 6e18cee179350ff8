#!/bin/sh
# man-lint.sh --- every built manual page passes mandoc -Tlint and groff -ww cleanly
. "$top_srcdir/tests/lib.sh"
test_init
test_need mandoc

pages=$(ls "$top_builddir"/man/*.[1-8] 2>/dev/null)
test -n "$pages" || test_hard_error "no built manual pages in $top_builddir/man"

for page in $pages; do
	name=$(basename "$page")
	# -Tlint exits non-zero for messages at or above -W's level
	mandoc -Tlint -Wwarning "$page" >"$TEST_TMP/mandoc" 2>&1 ||
		test_fail "mandoc -Tlint $name"
	test_empty "$TEST_TMP/mandoc" "mandoc -Tlint -Wwarning $name"
	if command -v groff >/dev/null 2>&1; then
		# -Wbreak: the FILES section names paths under the configured
		# prefix, which no line breaking can fit when it is long (make
		# distcheck's is); every other warning still fails
		groff -mandoc -ww -Wbreak -z "$page" >"$TEST_TMP/groff" 2>&1 ||
			test_fail "groff $name"
		test_empty "$TEST_TMP/groff" "groff -mandoc -ww -Wbreak -z $name"
	fi
	echo "$name: checked"
done
test_done
