#!/bin/sh
# man-examples.sh --- every EXAMPLES block of esck-inspect(8) gives exactly the output it shows; SYNOPSIS is --help's
#
# An example is a ".Bd -literal" block whose first line is "$ esck ...";
# the rest of the block is the expected standard output.  The commands run
# in a directory holding the fixtures that images.sh builds (demo.img,
# demo-bad.img, ...), named as in the page.
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs

page="$top_srcdir/man/esck-inspect.8.in"
test -r "$page" || test_hard_error "cannot read $page"
. "$top_srcdir/tests/img/images.sh"

mkdir -p "$TEST_TMP/img" "$TEST_TMP/ex"
# ex/N.cmd: the command line; ex/N.exp: the output, mdoc escapes undone
awk -v dir="$TEST_TMP/ex" '
	/^\.Bd -literal/ { inblock = 1; n = 0; next }
	/^\.Ed/ { inblock = 0; if (ex) close(outf); ex = 0; next }
	inblock {
		n++
		if (n == 1) {
			if ($0 !~ /^\$ esck /) { inblock = 0; next }
			count++; ex = 1
			outf = dir "/" count ".exp"
			printf "" >outf
			print substr($0, 3) >(dir "/" count ".cmd")
			close(dir "/" count ".cmd")
			next
		}
		line = $0
		sub(/^\\&/, "", line)
		gsub(/\\e/, "\\", line)
		print line >outf
	}' "$page"
nr=0
while test -f "$TEST_TMP/ex/$((nr + 1)).cmd"; do
	nr=$((nr + 1))
done
test "$nr" -gt 0 || test_hard_error "no examples found in $page"

# the SYNOPSIS, rendered, is the --help usage line (case aside: the page
# sets arguments in italics, the usage in capitals)
if command -v mandoc >/dev/null 2>&1; then
	sed 's/@PACKAGE_VERSION@/0/' "$page" | mandoc -Tascii | col -bx |
		awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
		sed 's/^ *//; /^$/d' | tr '\n' ' ' | tr -s ' ' | sed 's/ *$//' |
		tr '[:upper:]' '[:lower:]' >"$TEST_TMP/synopsis.man"
	"$ESCK" inspect --help | sed -n '1s/^Usage: //p' | tr '[:upper:]' '[:lower:]' \
		>"$TEST_TMP/synopsis.help"
	echo >>"$TEST_TMP/synopsis.man"
	test_cmp "$TEST_TMP/synopsis.help" "$TEST_TMP/synopsis.man" \
		"esck-inspect(8) SYNOPSIS against esck inspect --help"
fi

# every long option of --help is documented in the page
for opt in $("$ESCK" inspect --help | grep -o -e '--[a-z][a-z-]*' | sort -u); do
	grep -q -e "Fl -${opt#--}\>" "$page" ||
		test_fail "$opt (esck inspect --help) is not in esck-inspect(8)"
done

cd "$TEST_TMP/img" || test_hard_error "cannot cd to $TEST_TMP/img"
i=1
while test "$i" -le "$nr"; do
	cmd=$(cat "$TEST_TMP/ex/$i.cmd")
	# the images the command names
	for word in $cmd; do
		case $word in
		*.img)
			test -f "$word" || img_build "${word%.img}" "$TEST_TMP/img/$word"
			;;
		esac
	done
	# "esck ARGS" -> "$ESCK ARGS"; the examples use no shell quoting
	# shellcheck disable=SC2086 # split into words on purpose
	set -- $cmd
	shift
	"$ESCK" "$@" >"$TEST_TMP/ex/$i.out" 2>"$TEST_TMP/ex/$i.err" </dev/null
	echo "example $i: $cmd -> exit $?"
	test_cmp "$TEST_TMP/ex/$i.exp" "$TEST_TMP/ex/$i.out" "example $i ($cmd)"
	test_empty "$TEST_TMP/ex/$i.err" "example $i ($cmd) stderr"
	i=$((i + 1))
done
test_done
