#!/bin/sh
# run.sh --- run every tests/es/*.cmds through es-script and diff against its .exp
#
# Usage: run.sh [CASE.cmds...]   (default: all cases)
# Environment: top_srcdir and top_builddir (set by make check; default: the
# source tree this script is in, and the current directory), ES_SCRIPT (the
# helper; default $top_builddir/tests/helpers/es-script).
# Exit status: 0 all passed, 1 any case failed, 99 a hard error.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
es_script=${ES_SCRIPT:-$top_builddir/tests/helpers/es-script}
dir=$top_srcdir/tests/es

if [ ! -x "$es_script" ]; then
	echo "run.sh: $es_script not built" >&2
	exit 99
fi
tmp=${TMPDIR:-/tmp}/es-script.$$
trap 'rm -f "$tmp.out" "$tmp.err"' EXIT INT TERM

if [ $# -eq 0 ]; then
	set -- "$dir"/*.cmds
fi
pass=0
fail=0
for cmds in "$@"; do
	name=$(basename "$cmds" .cmds)
	exp=${cmds%.cmds}.exp
	if [ ! -f "$exp" ]; then
		echo "FAIL: $name: no $exp"
		fail=$((fail + 1))
		continue
	fi
	"$es_script" "$cmds" >"$tmp.out" 2>"$tmp.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL: $name: es-script exited $rc"
		cat "$tmp.err"
	fi
	if [ $rc -eq 0 ] && cmp -s "$exp" "$tmp.out"; then
		echo "PASS: $name"
		pass=$((pass + 1))
	else
		[ $rc -eq 0 ] && echo "FAIL: $name"
		diff -u "$exp" "$tmp.out" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "es-script cases: $pass passed, $fail failed"
[ $fail -eq 0 ]
