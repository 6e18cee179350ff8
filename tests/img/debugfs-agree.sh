#!/bin/sh
# debugfs-agree.sh --- for every inode of every test image, esck's block map equals debugfs's
#
# The inodes are those "esck inspect --json" reports.  For each, the
# (logical, physical) block pairs of "esck inspect --json --map -i INO"
# (written and unwritten extents) must equal those of the EXTENTS or BLOCKS
# section of debugfs "stat <INO>", without its tree blocks ((ETBn), (IND),
# (DIND), (TIND)).  Unwritten-ness is compared too: debugfs marks it [u].
# Prints the first mismatching pair of each inode that differs.  Set
# ESCK_GOLDEN_IMAGES="NAME..." to check only some images of images.sh.
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs

. "$top_srcdir/tests/img/images.sh"
names=${ESCK_GOLDEN_IMAGES:-$IMG_NAMES}

mkdir -p "$TEST_TMP/img"
cd "$TEST_TMP/img" || test_hard_error "cannot cd to $TEST_TMP/img"

# esck_pairs: our JSON inode record on stdin -> "lblk pblk status" lines
esck_pairs()
{
	sed -n 's/.*"extents":\[\(.*\)\]}$/\1/p' | tr -s '{' '\n' |
	sed -n 's/^"lblk":\([0-9]*\),"len":\([0-9]*\),"pblk":\([0-9]*\),"status":"\([a-z]*\)"},*$/\1 \2 \3 \4/p' |
	awk '{
		for (k = 0; k < $2; k++)
			printf "%d %d %s\n", $1 + k, $3 + k, ($4 == "unwritten" ? "u" : "w")
	}'
}

# debugfs_pairs: debugfs stat output on stdin -> "lblk pblk status" lines
debugfs_pairs()
{
	awk '
	/^(EXTENTS|BLOCKS):/ { insec = 1; sub(/^[A-Z]+:/, ""); }
	/^TOTAL:/ { insec = 0 }
	insec {
		n = split($0, items, /, */)
		for (j = 1; j <= n; j++) {
			it = items[j]
			gsub(/^[ \t]+|[ \t]+$/, "", it)
			if (it == "") continue
			# (L):P  (L-M):P-Q  (L-M[u]):P-Q  (ETB0):P  (IND):P
			if (!match(it, /^\([^)]*\):/)) continue
			key = substr(it, 2, RLENGTH - 3)
			phys = substr(it, RLENGTH + 1)
			if (key !~ /^[0-9]/) continue		# tree blocks
			st = "w"
			if (key ~ /\[u\]$/) { st = "u"; sub(/\[u\]$/, "", key) }
			split(key, l, "-"); split(phys, p, "-")
			if (!(2 in l)) l[2] = l[1]
			for (k = 0; k <= l[2] - l[1]; k++)
				printf "%d %d %s\n", l[1] + k, p[1] + k, st
			delete l; delete p
		}
	}'
}

inodes_checked=0
for name in $names; do
	img_build "$name" "$TEST_TMP/img/$name.img"
	img="$name.img"
	"$ESCK" inspect --json "$img" >"$name.all" 2>"$name.err" </dev/null
	status=$?
	test "$status" -eq 0 -o "$status" -eq 4 ||
		{ test_fail "esck inspect --json $img: exit $status"; cat "$name.err"; continue; }
	inos=$(sed -n 's/^{"type":"inode","ino":\([0-9]*\),.*/\1/p' "$name.all")
	test -n "$inos" || { test_fail "$img: no inode records"; continue; }
	# one debugfs run for all the inodes: "debugfs: stat <N>" heads each
	for ino in $inos; do
		echo "stat <$ino>"
	done | debugfs -f - "$img" 2>/dev/null | awk -v pre="$name." '
		/^debugfs: stat </ {
			if (out) close(out)
			ino = $0; sub(/^debugfs: stat </, "", ino); sub(/>.*/, "", ino)
			out = pre ino ".stat"; printf "" >out; next
		}
		out { print >out }'
	bad=0 count=0
	for ino in $inos; do
		count=$((count + 1))
		"$ESCK" inspect --json --map -i "$ino" "$img" >"$name.$ino.json" \
			2>"$name.$ino.err" </dev/null
		status=$?
		if test "$status" -ne 0 -a "$status" -ne 4; then
			test_fail "esck inspect --json --map -i $ino $img: exit $status"
			cat "$name.$ino.err"
			bad=$((bad + 1))
			continue
		fi
		grep '^{"type":"inode"' "$name.$ino.json" | esck_pairs |
			sort -n >"$name.$ino.esck"
		test -f "$name.$ino.stat" ||
			{ test_fail "$img inode $ino: no debugfs stat output"; continue; }
		debugfs_pairs <"$name.$ino.stat" | sort -n >"$name.$ino.debugfs"
		if ! cmp -s "$name.$ino.debugfs" "$name.$ino.esck"; then
			first=$(diff "$name.$ino.debugfs" "$name.$ino.esck" |
				grep '^[<>]' | head -n 2 | tr '\n' ' ')
			test_fail "$img inode $ino: esck and debugfs differ ($(wc -l <"$name.$ino.esck") vs $(wc -l <"$name.$ino.debugfs") blocks; first: $first; < debugfs, > esck)"
			bad=$((bad + 1))
		fi
		inodes_checked=$((inodes_checked + 1))
	done
	echo "$img: $count inodes, $bad differ"
done
echo "$inodes_checked inodes checked"
test_done
