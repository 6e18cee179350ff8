#!/bin/sh
# man-environment.sh --- esck(8) ENVIRONMENT is true: no variable of esck's own, and each one listed does what the page says
#
# esck(8) says that esck reads no environment variable of its own: no
# getenv() in lib/ or cli/.  Every ".It Ev NAME" of its ENVIRONMENT section
# needs a check below that shows the documented effect (an unknown name
# fails), and the output must be the same in another locale.
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs dumpe2fs

page="$top_srcdir/man/esck.8.in"
test -r "$page" || test_hard_error "cannot read $page"

grep -n -E '\b(secure_)?getenv[[:space:]]*\(' "$top_srcdir"/lib/*.c "$top_srcdir"/lib/*/*.c \
	"$top_srcdir"/cli/*.c >"$TEST_TMP/getenv" 2>/dev/null
if test -s "$TEST_TMP/getenv"; then
	cat "$TEST_TMP/getenv"
	test_fail "esck(8) says esck reads no variable of its own, but the code calls getenv()"
fi

awk '/^\.Sh / { on = ($0 == ".Sh ENVIRONMENT"); next }
     on && /^\.It / { for (i = 2; i < NF; i++) if ($i == "Ev") print $(i + 1) }' \
	"$page" >"$TEST_TMP/vars"
echo "esck(8) ENVIRONMENT: $(tr '\n' ' ' <"$TEST_TMP/vars")"

cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"
test_mkfs a.img 4M
printf 'open -f /new\nfalloc 0 4k\n' >s

# mounted VAR WORD: with VAR set, inspect warns (mounted WORD) and
# replay-truncate refuses (exit 8) unless -f.
mounted()
{
	cp a.img m.img
	env "$1=1" "$ESCK" inspect -q m.img >out 2>err
	st=$?
	test "$st" -eq 0 || test_fail "$1: inspect exit $st"
	grep -q "warning: 'm.img' is mounted$2" err ||
		{ cat err; test_fail "$1: inspect does not warn that the image is mounted$2"; }
	env "$1=1" "$ESCK" replay-truncate m.img s >out 2>err
	st=$?
	test "$st" -eq 8 || test_fail "$1: replay-truncate exit $st, want 8"
	grep -q "is mounted; use -f" err || { cat err; test_fail "$1: replay-truncate message"; }
	cmp -s a.img m.img || test_fail "$1: replay-truncate changed a 'mounted' image"
	env "$1=1" "$ESCK" replay-truncate -f m.img s >out 2>err
	st=$?
	test "$st" -eq 0 || { cat err; test_fail "$1: replay-truncate -f exit $st"; }
	# and without the variable, none of it
	"$ESCK" inspect -q a.img >out 2>err
	test_empty err "inspect without $1: stderr"
}

for var in $(cat "$TEST_TMP/vars"); do
	case $var in
	EXT2FS_PRETEND_RO_MOUNT)
		mounted "$var" " read-only"
		;;
	EXT2FS_PRETEND_RW_MOUNT)
		mounted "$var" ";"
		;;
	E2FSPROGS_FAKE_TIME)
		# the superblock's write time and a created file's crtime
		cp a.img t.img
		E2FSPROGS_FAKE_TIME=1000000 "$ESCK" replay-truncate t.img s >out 2>err ||
			{ cat err; test_fail "$var: replay-truncate failed"; }
		dumpe2fs -h t.img 2>/dev/null | grep -q '^Last write time: .*Jan 12 13:46:40 1970$' ||
			test_fail "$var: the superblock's last write time is not the fake one"
		debugfs -R 'stat /new' t.img 2>/dev/null | grep -q 'crtime: 0x000f4240:' ||
			test_fail "$var: the created file's crtime is not the fake one"
		# without it, the clock
		cp a.img t.img
		(unset E2FSPROGS_FAKE_TIME; "$ESCK" replay-truncate t.img s >out 2>err)
		debugfs -R 'stat /new' t.img 2>/dev/null | grep -q 'crtime: 0x000f4240:' &&
			test_fail "$var unset: the crtime is still the fake one"
		;;
	*)
		test_fail "esck(8) ENVIRONMENT lists $var, which this test does not check"
		;;
	esac
	echo "$var: checked"
done

# the same output in another locale, if one is installed
other=$(locale -a 2>/dev/null | grep -v -x -E 'C|POSIX|C\.(utf8|UTF-8)' | head -n 1)
if test -n "$other"; then
	for args in "inspect a.img" "inspect nosuch.img" "replay-truncate a.img nosuch.s" "--bogus"; do
		# shellcheck disable=SC2086 # words on purpose
		"$ESCK" $args >c.out 2>c.err
		# shellcheck disable=SC2086
		LC_ALL=$other LANG=$other LANGUAGE=$other "$ESCK" $args >l.out 2>l.err
		test_cmp c.out l.out "esck $args stdout in $other"
		test_cmp c.err l.err "esck $args stderr in $other"
	done
	echo "locale $other: same output"
else
	echo "no locale but C installed: the locale check is not run"
fi

test_done
