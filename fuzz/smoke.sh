#!/bin/sh
# smoke.sh --- make fuzz-smoke: replay fuzz/regress/, then run each libFuzzer target for a while on a copy of its seeds
#
# Usage (from make fuzz-smoke, which sets top_srcdir and top_builddir):
#	smoke.sh [TARGET...]        (default: inspect script es)
# Environment:
#	ESCK_FUZZ_SECONDS   -max_total_time of each target (default 60); 0 runs
#	                    the seeds and regressions once, nothing more
#	ESCK_FUZZ_ARGS      more libFuzzer options for every run
# Each TARGET works in $top_builddir/fuzz/work/TARGET/: corpus/ (the seeds
# of fuzz/corpus/TARGET/ plus the test suite's inputs, then what libFuzzer
# adds), artifacts/ (crash-*, leak-*, timeout-*, oom-*: kept until the
# next run moves them to artifacts.old/), log.  The figures of each run
# (execs, execs per second) go to fuzz/work/stats.
# Exit status: 0 nothing found, 1 a crash, leak, timeout or OOM (the
# report, the artifact and the command that reproduces it are printed),
# 99 a target is not built.  The last line is "N passed, N failed", one
# result per target, as make check ends.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-.}
seconds=${ESCK_FUZZ_SECONDS:-60}
case $seconds in
*[!0-9]* | '') echo "smoke.sh: ESCK_FUZZ_SECONDS must be a number of seconds" >&2; exit 99 ;;
esac

# The sanitizers' defaults, unless the caller chose: leaks are failures,
# undefined behaviour stops the run (it is compiled not to recover anyway).
ASAN_OPTIONS=${ASAN_OPTIONS-detect_leaks=1:allocator_may_return_null=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

[ $# -gt 0 ] || set -- inspect script es
targets=$*
ntargets=$#
work_top=$top_builddir/fuzz/work
mkdir -p "$work_top" || exit 99
: >"$work_top/stats"
failed=0

# seeds TARGET DIR: copy the seed corpus of TARGET into DIR.
seeds()
{
	cp "$top_srcdir/fuzz/corpus/$1/"* "$2/" || return 1
	case $1 in
	script)	cp "$top_srcdir"/tests/kdiff/cases/*.esck "$2/" ;;
	es)	cp "$top_srcdir"/tests/es/*.cmds "$2/" ;;
	esac
}

# report TARGET BIN WORK LOG WHAT: print what went wrong and how to reproduce it.
report()
{
	echo "FAIL: fuzz-$1: $5"
	echo "---- last lines of $4:"
	tail -n 60 "$4" | sed 's/^/    /'
	found=
	for a in "$3"/artifacts/crash-* "$3"/artifacts/leak-* \
		 "$3"/artifacts/timeout-* "$3"/artifacts/oom-*; do
		[ -f "$a" ] || continue
		found=1
		echo "artifact: $a"
		echo "  reproduce: $2 $a"
		[ "$1" = es ] &&
			echo "  readable:  $top_builddir/tests/helpers/es-script $a"
		echo "  keep it:   cp $a $top_srcdir/fuzz/regress/$1/"
	done
	[ -n "$found" ] || echo "(no artifact written; see $4)"
}

for t in $targets; do
	bin=$top_builddir/fuzz/fuzz-$t
	work=$work_top/$t
	if [ ! -x "$bin" ]; then
		echo "smoke.sh: $bin not built (configure --enable-fuzzing)" >&2
		exit 99
	fi
	# The last run's artifacts stay in artifacts.old, for one more run.
	rm -rf "$work/corpus" "$work/log" "$work/regress.log" "$work/artifacts.old"
	[ -d "$work/artifacts" ] && mv "$work/artifacts" "$work/artifacts.old"
	mkdir -p "$work/corpus" "$work/artifacts" || exit 99
	seeds "$t" "$work/corpus" || { echo "smoke.sh: no seeds for $t" >&2; exit 99; }

	# Every input that once failed runs first, each once.
	set --
	for r in "$top_srcdir/fuzz/regress/$t/"*; do
		[ -f "$r" ] && set -- "$@" "$r"
	done
	if [ $# -gt 0 ]; then
		echo "fuzz-$t: replaying $# regression input(s) from fuzz/regress/$t"
		if ! "$bin" -timeout=20 $ESCK_FUZZ_ARGS "$@" >"$work/regress.log" 2>&1; then
			report "$t" "$bin" "$work" "$work/regress.log" "a regression input fails again"
			failed=$((failed + 1))
			continue
		fi
	fi

	echo "fuzz-$t: ${seconds}s on $(ls "$work/corpus" | wc -l) seed(s)"
	if [ "$seconds" -eq 0 ]; then
		limit=-runs=0
	else
		limit=-max_total_time=$seconds
	fi
	# -timeout: an input that takes 20 s is a hang (tiny images take well
	# under a second, but a loaded machine and ASan's quarantine stretch
	# that); -rss_limit_mb: bounded memory.
	"$bin" $limit -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" $ESCK_FUZZ_ARGS \
		"$work/corpus" >"$work/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
	echo "fuzz-$t: exit $rc, ${execs:-?} execs, ${rate:-?} execs/s, corpus now $(ls "$work/corpus" | wc -l)"
	echo "$t seconds=$seconds execs=${execs:-0} execs_per_sec=${rate:-0} exit=$rc" >>"$work_top/stats"
	if [ $rc -ne 0 ]; then
		report "$t" "$bin" "$work" "$work/log" "libFuzzer exited $rc"
		failed=$((failed + 1))
	fi
done

# The same last line as make check: one result per target.
echo "$((ntargets - failed)) passed, $failed failed"
[ $failed -eq 0 ]
