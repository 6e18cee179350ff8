#!/bin/sh
# cli-basic.sh --- esck's global options, dispatch errors and exit statuses
. "$top_srcdir/tests/lib.sh"
test_init

version=$(sed -n 's/^AC_INIT(\[esck\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
test -n "$version" || test_hard_error "cannot read the version from configure.ac"

for opt in --version -V; do
	run_esck $opt
	test_status 0 "esck $opt"
	test_cmp_text "esck $version" "$TEST_TMP/out" "esck $opt stdout"
	test_empty "$TEST_TMP/err" "esck $opt stderr"
done

for opt in --help -h; do
	run_esck $opt
	test_status 0 "esck $opt"
	test_grep '^Usage: esck ' "$TEST_TMP/out" "esck $opt stdout"
	test_empty "$TEST_TMP/err" "esck $opt stderr"
done

run_esck help
test_status 0 "esck help"
cp "$TEST_TMP/out" "$TEST_TMP/help.out"
run_esck --help
test_cmp "$TEST_TMP/help.out" "$TEST_TMP/out" "esck --help vs esck help"

# the version of the built pages is configure's too
for page in "$top_builddir"/man/*.[1-8]; do
	grep -q "^\.Os esck $version\$" "$page" ||
		test_fail "$(basename "$page"): no '.Os esck $version'"
done

# every command: "esck help CMD", "esck CMD --help" and "esck CMD -h" print
# the same usage, on stdout, exit 0; "esck --help" lists the command
. "$top_srcdir/tests/man-lib.sh"
cmds=$(cli_commands)
test -n "$cmds" || test_hard_error "no commands found in cli/esck.c"
for cmd in $cmds; do
	test_grep "^  $cmd  " "$TEST_TMP/help.out" "esck --help lists $cmd"
	run_esck help "$cmd"
	test_status 0 "esck help $cmd"
	test_empty "$TEST_TMP/err" "esck help $cmd stderr"
	sed -n 1p "$TEST_TMP/out" >"$TEST_TMP/first"
	test_grep "^Usage: esck $cmd " "$TEST_TMP/first" "esck help $cmd first line"
	cp "$TEST_TMP/out" "$TEST_TMP/cmd-help.out"
	for opt in --help -h; do
		run_esck "$cmd" "$opt"
		test_status 0 "esck $cmd $opt"
		test_empty "$TEST_TMP/err" "esck $cmd $opt stderr"
		test_cmp "$TEST_TMP/cmd-help.out" "$TEST_TMP/out" "esck $cmd $opt vs esck help $cmd"
	done
	run_esck help "$cmd" extra
	test_status 16 "esck help $cmd extra"
	test_empty "$TEST_TMP/out" "esck help $cmd extra stdout"
done

# usage errors: exit 16, nothing on stdout, "esck: ..." then the Try line
check_usage_error()
{
	test_status 16 "esck $*"
	test_empty "$TEST_TMP/out" "esck $* stdout"
	test_line_count 2 "$TEST_TMP/err" "esck $* stderr"
	sed -n 1p "$TEST_TMP/err" >"$TEST_TMP/err1"
	test_grep "^esck: $1" "$TEST_TMP/err1" "esck $* stderr line 1"
	sed -n 2p "$TEST_TMP/err" >"$TEST_TMP/err2"
	test_cmp_text "Try 'esck --help' for more information." \
		"$TEST_TMP/err2" "esck $* stderr line 2"
}

run_esck nosuch
check_usage_error "unknown command 'nosuch'"

run_esck help nosuch
check_usage_error "unknown command 'nosuch'"

run_esck --bogus
check_usage_error "unrecognized option '--bogus'"

run_esck -Z
check_usage_error "invalid option -- 'Z'"

run_esck
check_usage_error "no command given"

# a write error on stdout is an operational error (8), reported on stderr
if test -w /dev/full; then
	"$ESCK" --version >/dev/full 2>"$TEST_TMP/err"
	status=$?
	test_status 8 "esck --version >/dev/full"
	test_grep "^esck: .*while writing to standard output" "$TEST_TMP/err"
fi

test_done
