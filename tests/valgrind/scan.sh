#!/bin/sh
# scan.sh --- make check-valgrind: print every valgrind log under DIR that holds an error; exit 1 if any
#
# Usage: scan.sh DIR
# vg.sh gives each run its own DIR/PROGRAM.PID.log, empty when the run was
# clean.  Valgrind's notes about ioctls it cannot describe (libext2fs asks
# every loop device whether it backs the image: LOOP_GET_STATUS64) are no
# errors and are left out; anything else in a log is.  The last line says
# how many runs there were and how many had errors.

dir=$1
[ -d "$dir" ] || { echo "scan.sh: no directory $dir" >&2; exit 99; }
runs=0 bad=0
for log in "$dir"/*.log; do
	[ -f "$log" ] || continue
	runs=$((runs + 1))
	if grep -v -e 'Warning: noted but unhandled ioctl 0x[0-9a-f]* with no size/direction hints' \
		   -e 'This could cause spurious value errors to appear' \
		   -e 'See README_MISSING_SYSCALL_OR_IOCTL for guidance' "$log" |
	   grep -q .; then
		bad=$((bad + 1))
		echo "---- $log"
		head -n 60 "$log"
	fi
done
echo "valgrind: $runs runs, $bad with errors (logs: $dir)"
[ $bad -eq 0 ]
