#!/bin/sh
# man-options.sh --- esck(8), esck-inspect(8), esck-replay-truncate(8): OPTIONS are exactly the code's options, SYNOPSIS is --help's
#
# For esck's global options and each command: the long options of the
# getopt_long() table and the short ones of the optstring (cli/), the
# options of "--help", and the ".It Fl" items of the page's OPTIONS must be
# the same sets, with the same short/long pairs; and the page's SYNOPSIS,
# rendered by mandoc, must read as the "Usage:" lines of --help (case and
# spacing aside).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/man-lib.sh"
test_init

# same WHAT A B FILE_A FILE_B: the sets of lines are equal.
same()
{
	sort -u "$4" >"$TEST_TMP/same.a"
	sort -u "$5" >"$TEST_TMP/same.b"
	for w in $(comm -23 "$TEST_TMP/same.a" "$TEST_TMP/same.b"); do
		test_fail "$1: $w is in $2 but not in $3"
	done
	for w in $(comm -13 "$TEST_TMP/same.a" "$TEST_TMP/same.b"); do
		test_fail "$1: $w is in $3 but not in $2"
	done
}

cli_commands >"$TEST_TMP/cmds"
test -s "$TEST_TMP/cmds" || test_hard_error "no commands in cli/esck.c"

for cmd in '' $(cat "$TEST_TMP/cmds"); do
	label="esck${cmd:+ $cmd}"
	page="$top_srcdir/man/esck${cmd:+-$cmd}.8.in"
	name=$(basename "$page" .8.in)"(8)"
	test -r "$page" || { test_fail "$label has no page $page"; continue; }
	src=$(cli_src "$cmd")

	cli_long_opts "$cmd" | cut -d' ' -f1 | sed 's/^/--/' >"$TEST_TMP/code.long"
	cli_short_opts "$cmd" | sed 's/:$//; s/^/-/' >"$TEST_TMP/code.short"
	test -s "$TEST_TMP/code.long" || test_hard_error "no long options in $src"
	page_long_opts "$page" | sed 's/^/--/' >"$TEST_TMP/page.long"
	page_short_opts "$page" | sed 's/^/-/' >"$TEST_TMP/page.short"
	help_long_opts "$cmd" >"$TEST_TMP/help.long"
	# shellcheck disable=SC2086 # no command: no word
	"$ESCK" $cmd --help | sed -n 's/^  \(-[A-Za-z]\),.*/\1/p' >"$TEST_TMP/help.short"

	same "$label long options" "the code" "$name OPTIONS" \
		"$TEST_TMP/code.long" "$TEST_TMP/page.long"
	same "$label long options" "the code" "--help" \
		"$TEST_TMP/code.long" "$TEST_TMP/help.long"
	same "$label short options" "the code" "$name OPTIONS" \
		"$TEST_TMP/code.short" "$TEST_TMP/page.short"
	same "$label short options" "the code" "--help" \
		"$TEST_TMP/code.short" "$TEST_TMP/help.short"

	# short/long pairs: 'x' in the table, ".It Fl x , Fl -long" in the page
	sed -n -E "s/.*[{][[:space:]]*\"([a-z0-9-]+)\",[^,]*,[^,]*,[[:space:]]*'(.)'.*/-\\2=--\\1/p" \
		"$src" >"$TEST_TMP/code.pairs"
	awk '/^\.Sh / { on = ($0 == ".Sh OPTIONS"); next }
	     on && /^\.It / {
		s = l = ""
		for (i = 2; i < NF; i++)
			if ($i == "Fl") {
				o = $(i + 1)
				if (o ~ /^[A-Za-z]$/ && s == "") s = "-" o
				else if (o ~ /^-[a-z]/ && l == "") { sub(/[^a-z0-9-].*/, "", o); l = "-" o }
			}
		if (s != "" && l != "") print s "=" l
	     }' "$page" >"$TEST_TMP/page.pairs"
	same "$label option pairs" "the code" "$name OPTIONS" \
		"$TEST_TMP/code.pairs" "$TEST_TMP/page.pairs"
	echo "$label: $(wc -l <"$TEST_TMP/code.long") long, $(wc -l <"$TEST_TMP/code.short") short options checked"

	# SYNOPSIS against the usage lines of --help
	if command -v mandoc >/dev/null 2>&1; then
		sed 's/@[A-Z_]*@/X/g' "$page" | mandoc -Tascii | col -b |
			awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
			tr -s ' \n\t' '   ' | sed 's/ | /|/g; s/ \.\.\./.../g; s/^ *//; s/ *$//' \
			>"$TEST_TMP/synopsis.man"
		echo >>"$TEST_TMP/synopsis.man"
		# shellcheck disable=SC2086
		"$ESCK" $cmd --help | sed -n '1,/^$/p' | sed 's/^Usage: //' |
			tr -s ' \n\t' '   ' | sed 's/ \.\.\./.../g; s/^ *//; s/ *$//' |
			awk '{ # IMAGE, N...: the page'\''s arguments are in lower case;
				# option letters (-hV) are kept
				out = ""
				while (match($0, /[A-Z]+/)) {
					w = substr($0, RSTART, RLENGTH)
					if (RSTART == 1 || substr($0, RSTART - 1, 1) !~ /[A-Za-z-]/)
						w = tolower(w)
					out = out substr($0, 1, RSTART - 1) w
					$0 = substr($0, RSTART + RLENGTH)
				}
				print out $0 }' >"$TEST_TMP/synopsis.help"
		test_cmp "$TEST_TMP/synopsis.help" "$TEST_TMP/synopsis.man" \
			"$name SYNOPSIS against $label --help"
	fi
done

# esck(8) COMMANDS lists exactly the commands of commands[], each with its
# page; SEE ALSO names every page of esck; every ".Xr esck..." of every
# page names a page that exists.
page="$top_srcdir/man/esck.8.in"
awk '/^\.Sh / { on = ($0 == ".Sh COMMANDS"); next }
     on && /^\.It Cm / { print $3 }' "$page" >"$TEST_TMP/page.cmds"
same "commands" "cli/esck.c" "esck(8) COMMANDS" "$TEST_TMP/cmds" "$TEST_TMP/page.cmds"
ls "$top_srcdir"/man/*.[1-8].in | sed 's|.*/||; s|\.in$||' | sort >"$TEST_TMP/pages"
for cmd in $(cat "$TEST_TMP/cmds"); do
	grep -q -x -e "esck-$cmd.8" "$TEST_TMP/pages" || test_fail "esck $cmd has no page man/esck-$cmd.8.in"
done
awk '/^\.Sh / { on = ($0 == ".Sh SEE ALSO"); next }
     on && /^\.Xr / { print $2 "." $3 }' "$page" | sort >"$TEST_TMP/seealso"
grep -v -x -e 'esck.8' "$TEST_TMP/pages" >"$TEST_TMP/others"
for p in $(comm -23 "$TEST_TMP/others" "$TEST_TMP/seealso"); do
	test_fail "esck(8) SEE ALSO does not name $p"
done
cat "$top_srcdir"/man/*.[1-8].in | awk '$1 == ".Xr" && $2 ~ /^esck/ { print $2 "." $3 }' |
	tr -d ',' | sort -u >"$TEST_TMP/xrefs"
for p in $(comm -23 "$TEST_TMP/xrefs" "$TEST_TMP/pages"); do
	test_fail "a page refers to $p, which does not exist"
done
echo "$(wc -l <"$TEST_TMP/pages") pages, $(wc -l <"$TEST_TMP/xrefs") cross references checked"

test_done
