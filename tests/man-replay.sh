#!/bin/sh
# man-replay.sh --- esck-replay(5): the EXAMPLES script replays cleanly (and as the kernel does it, where loop mounts work), the DIAGNOSTICS are real
#
# - The first EXAMPLES block is a script: it must replay with exit 0 and
#   nothing on stderr on an image with a /data directory, and leave a clean
#   file system with the sizes it says.
# - The second shows how to feed the same script to xfs_io on a loop mount:
#   its sed command, taken from the page, must turn the script into one
#   xfs_io reads (no comments, paths relative to the mount point); as root
#   with loop devices and xfs_io, it is run for real and the kernel's extent
#   map must be esck's.
# - Each DIAGNOSTICS example line "t.esck:N: message" must be exactly what
#   esck prints for a script t.esck whose line N is a matching bad line.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck

page="$top_srcdir/man/esck-replay.5.in"
test -r "$page" || test_hard_error "cannot read $page"
cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"

# block SECTION N: the Nth ".Bd -literal" block of SECTION, mdoc escapes
# undone.
block()
{
	awk -v sec=".Sh $1" -v n="$2" '
		/^\.Sh / { on = ($0 == sec); next }
		on && /^\.Bd -literal/ { k++; inb = (k == n); next }
		inb && /^\.Ed/ { exit }
		inb { line = $0; sub(/^\\&/, "", line); gsub(/\\e/, "\\", line); print line }' "$page"
}

# ---- the script ----
block EXAMPLES 1 >ex.esck
test -s ex.esck || test_hard_error "no script in esck-replay(5) EXAMPLES"
rp_mkimg ex.img 16M
debugfs -w -R 'mkdir data' ex.img >/dev/null 2>&1 || test_hard_error "debugfs mkdir"
cp ex.img kern.img
"$ESCK" replay-truncate ex.img ex.esck >ex.out 2>ex.err
st=$?
cat ex.out
test "$st" -eq 0 || test_fail "the EXAMPLES script: exit $st"
test_empty ex.err "the EXAMPLES script's stderr"
nops=$(grep -c -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' ex.esck)
test_grep "^$nops ops: $nops ok, 0 failed, 0 divergences\$" ex.out "the EXAMPLES script's summary"
rp_fsck ex.img
# the size its last truncate gives
last=$(sed -n 's/^truncate \([0-9]*\)k.*/\1/p' ex.esck | tail -n 1)
if test -n "$last"; then
	test "$(rp_stat ex.img /data/f Size)" = $((last * 1024)) ||
		test_fail "the EXAMPLES script: /data/f is not ${last}k long"
fi

# ---- the same through xfs_io ----
block EXAMPLES 2 >kern.txt
# the sed command: from "sed" to the "|" before the subshell, continuation
# lines joined
cmd=$(awk '{ sub(/^# /, ""); sub(/^ +/, "") }
	{ if (sub(/\\$/, "")) printf "%s", $0; else print }' kern.txt |
	grep '^sed ' | sed 's/[[:space:]]*| *(.*//')
test -n "$cmd" || test_hard_error "no sed command in the second EXAMPLES block"
case $cmd in
*' script') cmd="${cmd% script} ex.esck" ;;
*) test_hard_error "the sed command does not end with 'script': $cmd" ;;
esac
eval "$cmd" >xfs_io.in || test_fail "the EXAMPLES sed command failed: $cmd"
grep -n '#' xfs_io.in && test_fail "the EXAMPLES sed command leaves comments for xfs_io"
grep -n '^open\( -f\)\{0,1\} /' xfs_io.in && test_fail "the EXAMPLES sed command leaves absolute paths"
test "$(grep -c . xfs_io.in)" -eq "$nops" ||
	test_fail "the EXAMPLES sed command does not give one xfs_io command per op"
if rp_kernel_ok; then
	mount -o loop kern.img "$TEST_TMP/mnt" || test_hard_error "mount -o loop"
	(cd "$TEST_TMP/mnt" && xfs_io) <xfs_io.in >xfs_io.out 2>&1
	umount "$TEST_TMP/mnt" || test_hard_error "umount"
	test_empty xfs_io.out "xfs_io's output on the EXAMPLES script"
	rp_map ex.img /data/f >map.esck
	rp_map kern.img /data/f >map.kern
	echo "/data/f through the kernel: $(tr '\n' ' ' <map.kern)"
	test_cmp map.kern map.esck "/data/f after esck, against the kernel"
	test "$(rp_stat kern.img /data/f Size)" = "$(rp_stat ex.img /data/f Size)" ||
		test_fail "/data/f: the kernel's size differs from esck's"
else
	echo "no loop mounts here: the script is not run through the kernel"
fi

# ---- DIAGNOSTICS ----
block DIAGNOSTICS 1 >diag.txt
test -s diag.txt || test_hard_error "no example in esck-replay(5) DIAGNOSTICS"
n=0
while IFS= read -r expected; do
	n=$((n + 1))
	file=${expected%%:*}
	rest=${expected#*:}
	line=${rest%%:*}
	msg=${rest#*: }
	# a bad line that gives this message
	case $msg in
	'command "'*'" not found') bad=${msg#command \"}; bad=${bad%%\"*} ;;
	'bad argument count 0 to '*) bad=${msg#bad argument count 0 to }; bad=${bad%%,*} ;;
	'non-numeric offset argument -- '*) bad="fpunch ${msg##* } 4k" ;;
	'non-numeric length argument -- '*) bad="fpunch 0 ${msg##* }" ;;
	'non-numeric seed -- '*) bad="pwrite -S ${msg##* } 0 1" ;;
	*': invalid option -- '*) bad="${msg%%:*} -$(echo "$msg" | sed "s/.*-- '\(.\)'/\1/") 0 1" ;;
	*': no file is open'*) bad="${msg%%:*} 0" ;;
	*)
		test_fail "DIAGNOSTICS example $n: no bad line known for '$msg'"
		continue
		;;
	esac
	mkdir -p "d$n"
	i=1
	while test "$i" -lt "$line"; do
		echo "open -f /f"
		i=$((i + 1))
	done >"d$n/$file"
	echo "$bad" >>"d$n/$file"
	cp ex.img "d$n/img"
	(cd "d$n" && "$ESCK" replay-truncate img "$file" >out 2>err)
	st=$?
	echo "'$bad' at line $line -> exit $st: $(cat "d$n/err")"
	test "$st" -eq 16 || test_fail "DIAGNOSTICS example $n: exit $st, want 16"
	test_cmp_text "$expected" "d$n/err" "DIAGNOSTICS example $n"
	test_empty "d$n/out" "DIAGNOSTICS example $n stdout"
	cmp -s ex.img "d$n/img" || test_fail "DIAGNOSTICS example $n: the image changed"
done <diag.txt
echo "$n DIAGNOSTICS examples checked"

test_done
