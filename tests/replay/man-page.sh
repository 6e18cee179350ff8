#!/bin/sh
# man-page.sh --- esck-replay-truncate(8): SYNOPSIS is --help's, every option is documented, the example's output is real
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs

page="$top_srcdir/man/esck-replay-truncate.8.in"
test -r "$page" || test_hard_error "cannot read $page"

# SYNOPSIS, rendered and lower-cased, against the usage lines of --help
if command -v mandoc >/dev/null 2>&1; then
	sed 's/@PACKAGE_VERSION@/0/' "$page" | mandoc -Tascii | col -b |
		awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
		tr -s ' \n\t' '   ' | sed 's/ | /|/g; s/^ *//; s/ *$//' |
		tr '[:upper:]' '[:lower:]' >"$TEST_TMP/synopsis.man"
	"$ESCK" replay-truncate --help | sed -n '1,/^$/p' | sed 's/^Usage: //' |
		tr -s ' \n\t' '   ' | sed 's/^ *//; s/ *$//' |
		tr '[:upper:]' '[:lower:]' >"$TEST_TMP/synopsis.help"
	test_cmp "$TEST_TMP/synopsis.help" "$TEST_TMP/synopsis.man" \
		"esck-replay-truncate(8) SYNOPSIS against --help"
fi

# every long option of --help is in the page, and every one the page
# documents is accepted by the command
for opt in $("$ESCK" replay-truncate --help | grep -o -e '--[a-z][a-z-]*' | sort -u); do
	grep -q -e "Fl -${opt#--}\>" "$page" ||
		test_fail "$opt (--help) is not in esck-replay-truncate(8)"
done
for opt in $(sed -n 's/^\.It Fl [a-z] , Fl -\([a-z-]*\).*/\1/p; s/^\.It Fl -\([a-z-]*\).*/\1/p' "$page" | sort -u); do
	"$ESCK" replay-truncate --help | grep -q -e "--$opt\>" ||
		test_fail "--$opt is in esck-replay-truncate(8) but not in --help"
done

# the example: its command lines (a "$ " line and continuation lines),
# with mdoc escapes undone, run against a fresh disk.img
awk '
	/^\.Sh EXAMPLES/ { ex = 1 }
	ex && /^\.Bd -literal/ { inblock = 1; next }
	inblock && /^\.Ed/ { exit }
	inblock {
		line = $0; gsub(/\\e/, "\\", line)
		if (line ~ /^\$ /) { cmd = substr(line, 3); cont = 1; next }
		if (cont && line ~ /^      /) { sub(/^ +/, " ", line); cmd = cmd line; next }
		cont = 0; print line > out
	}
	END { print cmd > cmdf }' out="$TEST_TMP/example.exp" cmdf="$TEST_TMP/example.cmd" "$page"
test -s "$TEST_TMP/example.cmd" || test_hard_error "no example in $page"
cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"
mke2fs -F -q -t ext4 disk.img 16M >/dev/null 2>&1 || test_hard_error "mke2fs failed"
PATH="$(dirname "$ESCK"):$PATH" sh -c "$(cat example.cmd)" >example.out 2>example.err
echo "example: $(cat example.cmd) -> exit $?"
test_cmp "$TEST_TMP/example.exp" "$TEST_TMP/example.out" "the example's output"
test_empty "$TEST_TMP/example.err" "the example's standard error"
if command -v e2fsck >/dev/null 2>&1; then
	e2fsck -fn disk.img >e2fsck.out 2>&1 || test_fail "e2fsck -fn after the example"
fi
test_done
