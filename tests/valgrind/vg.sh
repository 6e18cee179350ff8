#!/bin/sh
# vg.sh --- run a program under valgrind memcheck for make check-valgrind; errors to a log of their own
#
# Usage: vg.sh PROGRAM [ARG...]
# Definite leaks and memory errors make the exit status 125 and are written
# to $ESCK_VALGRIND_LOGS/PROGRAM.PID.log (default: the current directory),
# never to the program's stderr, which tests compare; check-valgrind fails
# if any log is not empty, even where a test ignored the exit status.
# ESCK_VALGRIND_ARGS adds valgrind options.

logs=${ESCK_VALGRIND_LOGS:-.}
name=$(basename "$1")
supp=$(dirname "$0")/esck.supp
exec valgrind -q --tool=memcheck --error-exitcode=125 \
	--leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --num-callers=30 \
	--suppressions="$supp" --child-silent-after-fork=yes \
	--log-file="$logs/$name.%p.log" ${ESCK_VALGRIND_ARGS-} "$@"
