#!/bin/bash
# bisect.sh --- the first script line after which the kernel and esck disagree, for a failure kept by run.sh
#
# Usage: bisect.sh FAILURE_DIR   (as root; ESCK as for run.sh)
# FAILURE_DIR is one of $top_builddir/tests/kdiff/failures/*: it holds
# start.img and ops.esck (or script.esck).  Replays ever shorter prefixes of
# the script through both and prints the first line whose prefix makes the
# resulting images differ (kd_compare; lines refused by one side only are not
# looked at), with the differences.  Assumes that once they differ they stay so.
if [ -z "${BASH_VERSION-}" ]; then
	exec bash "$0" "$@"
fi
set -euo pipefail

top_builddir=${top_builddir:-$PWD}
ESCK=${ESCK:-$top_builddir/cli/esck}
dir=${1:?usage: bisect.sh FAILURE_DIR}
# shellcheck source=tests/kdiff/lib.sh
. "$(dirname "$0")/lib.sh"

script=$dir/ops.esck
[[ -f $script ]] || script=$dir/script.esck
[[ -f $dir/start.img && -f $script ]] || { echo "bisect.sh: no start.img or script in $dir" >&2; exit 2; }
phys=()
grep -q 'PHYSICAL' "$dir/compare.txt" 2>/dev/null && phys=(--physical)

kd_init "$(mktemp -d "${TMPDIR:-/tmp}/esck-kdiff-bisect.XXXXXX")"

# agree N: do the first N lines give the same result?  The differences go
# to $KD_TMP/cmp.txt.
agree()
{
	head -n "$1" "$script" >"$KD_TMP/prefix.esck"
	cp --sparse=always "$dir/start.img" "$KD_TMP/k.img"
	cp --sparse=always "$dir/start.img" "$KD_TMP/e.img"
	kd_kernel "$KD_TMP/k.img" "$KD_TMP/prefix.esck"
	kd_esck "$KD_TMP/e.img" "$KD_TMP/prefix.esck"
	kd_compare "${phys[@]}" "$KD_TMP/k.img" "$KD_TMP/e.img" >"$KD_TMP/cmp.txt" 2>&1
}

lo=1 hi=$(wc -l <"$script")
if agree "$hi"; then
	echo "bisect.sh: the whole script agrees now"
	exit 0
fi
while ((lo < hi)); do
	mid=$(((lo + hi) / 2))
	if agree "$mid"; then lo=$((mid + 1)); else hi=$mid; fi
done
agree "$lo" || true
file=$(awk -v n="$lo" 'NR <= n && $1 == "open" { f = $NF } END { print f }' "$script")
echo "$script:$lo: $(sed -n "${lo}p" "$script")   (file ${file:-?})"
cat "$KD_TMP/cmp.txt"
