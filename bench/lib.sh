# bench/lib.sh --- shared helpers for the bench/ scripts (sourced, not run)
# shellcheck shell=bash
#
# Conventions (DESIGN.md §7): results go to stdout as "name value" lines,
# one figure per line; progress and diagnostics go to stderr.  Nothing here
# is run by "make check".

# Exit status that automake's test driver (and our callers) read as "skipped".
BENCH_SKIP=77

bench_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Images live outside the source tree: $ESCK_BENCH_DIR, else bench/images.
bench_default_dir() {
	printf '%s\n' "${ESCK_BENCH_DIR:-$bench_srcdir/images}"
}

bench_prog=${0##*/}

# log MSG... : progress line on stderr, prefixed with the script name.
log() {
	printf '%s: %s\n' "$bench_prog" "$*" >&2
}

die() {
	log "error: $*"
	exit 1
}

skip() {
	log "SKIP: $*"
	exit "$BENCH_SKIP"
}

# result NAME VALUE : one result line on stdout.
result() {
	printf '%s %s\n' "$1" "$2"
}

need_cmd() {
	local c
	for c; do
		command -v "$c" >/dev/null 2>&1 ||
			PATH=$PATH:/sbin:/usr/sbin command -v "$c" >/dev/null 2>&1 ||
			die "required command '$c' not found"
	done
}

# now : wall clock in seconds with microseconds (bash 5 EPOCHREALTIME).
now() {
	printf '%s\n' "${EPOCHREALTIME/,/.}"
}

# elapsed START : seconds since START (from now), 3 decimals.
elapsed() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f\n", b - a }'
}

# median NUM... : median of the arguments (mean of the two middle ones).
median() {
	printf '%s\n' "$@" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) exit 1
			if (NR % 2) printf "%.10g\n", v[(NR + 1) / 2]
			else printf "%.10g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

# ratio A B [DECIMALS] : A / B, or "nan" when B is zero.
ratio() {
	awk -v a="$1" -v b="$2" -v d="${3:-3}" 'BEGIN {
		if (b + 0 == 0) print "nan"; else printf "%.*f\n", d, a / b }'
}

# info_get FILE KEY : value of "KEY VALUE" in an image's .info sidecar.
info_get() {
	awk -v k="$2" '$1 == k { print $2; found = 1 } END { exit !found }' "$1"
}

# --- punching ----------------------------------------------------------------

# A tiny C helper that punches every other block in one process: one
# fallocate(PUNCH_HOLE|KEEP_SIZE) per hole, no fork per operation.  Built on
# first use into $BENCH_TOOLDIR; if there is no C compiler we fall back to
# xfs_io reading "fpunch" commands on stdin.
bench_punch_src() {
	cat <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* punch FILE BLOCKSIZE COUNT: punch blocks 1, 3, 5, ... (COUNT holes), so
 * blocks 0, 2, 4, ... remain, each its own extent. */
int main(int argc, char **argv)
{
	long long bs, n, i;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s FILE BLOCKSIZE COUNT\n", argv[0]);
		return 2;
	}
	bs = atoll(argv[2]);
	n = atoll(argv[3]);
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (2 * i + 1) * bs, bs) < 0) {
			fprintf(stderr, "%s: fallocate at block %lld: %s\n",
				argv[0], 2 * i + 1, strerror(errno));
			return 1;
		}
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fprintf(stderr, "%s: fsync: %s\n", argv[0], strerror(errno));
		return 1;
	}
	return 0;
}
EOF
}

# punch_alternate FILE COUNT : punch COUNT alternate 4 KiB blocks of FILE.
punch_alternate() {
	local file=$1 count=$2 helper cc
	helper=${BENCH_TOOLDIR:?}/punch-alternate
	if [ ! -x "$helper" ]; then
		cc=${CC:-cc}
		if command -v "$cc" >/dev/null 2>&1; then
			mkdir -p "$BENCH_TOOLDIR"
			bench_punch_src >"$helper.c"
			"$cc" -O2 -o "$helper" "$helper.c" ||
				die "cannot compile $helper.c"
		fi
	fi
	if [ -x "$helper" ]; then
		"$helper" "$file" 4096 "$count"
	else
		log "no C compiler; punching through xfs_io (slower)"
		need_cmd xfs_io
		awk -v n="$count" 'BEGIN {
			for (i = 0; i < n; i++)
				printf "fpunch %d 4096\n", (2 * i + 1) * 4096 }' |
			xfs_io "$file" >/dev/null
	fi
}

# --- inspecting a built image ------------------------------------------------

# extent_depth IMAGE PATH : eh_depth of the inode's extent root (0 = the
# root holds the extents; the tree has depth+1 levels).  Uses debugfs
# "ex -n", whose first column is "LEVEL/ MAXLEVEL".
extent_depth() {
	debugfs -R "ex -n $2" "$1" 2>/dev/null |
		awk 'NR > 1 && $1 ~ /^[0-9]+\/$/ { d = $2 + 0; if (d > m) m = d }
		     NR > 1 && $1 ~ /^[0-9]+\/[0-9]+$/ { split($1, a, "/"); if (a[2] + 0 > m) m = a[2] + 0 }
		     END { print m + 0 }'
}

# extent_count IMAGE PATH : number of leaf extents (debugfs "ex -l").
extent_count() {
	debugfs -R "ex -l $2" "$1" 2>/dev/null | awk 'NR > 1 && NF { n++ } END { print n + 0 }'
}

# used_inodes IMAGE : inode count minus free inodes, from the superblock.
used_inodes() {
	dumpe2fs -h "$1" 2>/dev/null | awk -F: '
		/^Inode count/ { t = $2 + 0 }
		/^Free inodes/ { f = $2 + 0 }
		END { print t - f }'
}
