# lib.sh --- kernel-diff helpers: make images, run a script through the kernel (xfs_io) and esck, compare (bash, sourced)
# shellcheck disable=SC2034 # KD_* variables are read by the sourcing script
#
# Used by tests/kdiff/run.sh; also handy by hand, as root:
#
#	. tests/kdiff/lib.sh; kd_init /tmp/kd
#	kd_mkimage base.img 4096 ext4
#	cp --sparse=always base.img k.img; cp --sparse=always base.img e.img
#	kd_kernel k.img script.esck; kd_esck e.img script.esck
#	kd_compare k.img e.img
#
# Every function works on the image in place: copy first.  Mounts and loop
# devices are registered and released by kd_cleanup, which kd_init installs
# as the EXIT trap (a caller with its own trap must call kd_cleanup in it).
# Needs root, loop mounts, mke2fs, e2fsck, debugfs and xfs_io.
#
# Environment: ESCK (the esck binary), MKE2FS_CONFIG (defaults to
# tests/mke2fs.conf next to this file), KD_IMAGE_SIZE (default 256M).

KD_UUID=0d6e0a3c-2d4a-4f6e-9a1b-3c5d7e9f1a2b
KD_HASH_SEED=3b1c1d2e-4f5a-6b7c-8d9e-0f1a2b3c4d5e
KD_FAKE_TIME=1700000000
KD_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${MKE2FS_CONFIG:=$KD_LIBDIR/../mke2fs.conf}"
: "${KD_IMAGE_SIZE:=256M}"
export MKE2FS_CONFIG E2FSPROGS_SKIP_PROGRESS=yes DEBUGFS_PAGER=__none__ \
	PAGER=__none__ E2FSCK_CONFIG=/dev/null LC_ALL=C
PATH=$PATH:/usr/sbin:/sbin

KD_MOUNTS=()	# mount points to release, in order of mounting
KD_TMP=
KD_KEEP_TMP=${KD_KEEP_TMP-}	# non-empty: kd_cleanup keeps $KD_TMP
KD_ESCK_STATUS=0		# the exit status of the last kd_esck

# kd_init DIR: scratch directory DIR (made, and removed at exit unless
# KD_KEEP_TMP is set) and the cleanup trap.
kd_init()
{
	KD_TMP=$1
	mkdir -p "$KD_TMP"
	trap 'kd_cleanup' EXIT
	trap 'exit 130' INT TERM HUP
}

# kd_cleanup: unmount whatever is still mounted, detach the loop devices of
# our images, remove the scratch directory.
kd_cleanup()
{
	local pids
	pids=$(jobs -p)
	if [[ -n $pids ]]; then
		# shellcheck disable=SC2086 # one pid per word
		kill $pids 2>/dev/null || true
		wait 2>/dev/null || true
	fi
	kd_release_mounts
	if [[ -n $KD_TMP && -d $KD_TMP ]]; then
		kd_umount_under "$KD_TMP"
		kd_detach_under "$KD_TMP"
		if [[ -z ${KD_KEEP_TMP-} ]]; then
			rm -rf "$KD_TMP"
		else
			echo "kdiff: scratch directory kept: $KD_TMP"
		fi
	fi
}

# kd_release_mounts: unmount what this shell mounted and has not unmounted.
kd_release_mounts()
{
	local i mnt
	for ((i = ${#KD_MOUNTS[@]} - 1; i >= 0; i--)); do
		mnt=${KD_MOUNTS[i]}
		if mountpoint -q "$mnt" 2>/dev/null; then
			umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
		fi
	done
	KD_MOUNTS=()
}

# kd_umount_under DIR: unmount every mount point below DIR, deepest first.
kd_umount_under()
{
	local mnt
	awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
	while read -r mnt; do
		umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
	done
}

# kd_detach_under DIR: detach loop devices whose backing file is under DIR.
kd_detach_under()
{
	local dev file
	while IFS=: read -r dev _ file; do
		[[ $file == *"$1"/* ]] || continue
		losetup -d "$dev" 2>/dev/null || true
	done < <(losetup -a 2>/dev/null | sed 's/: (\(.*\))$/::\1/; s/: \[[^]]*\]:[0-9]* (\(.*\))$/::\1/')
}

# kd_mount IMG DIR [ro]: loop-mount IMG on DIR (read-only with "ro").
kd_mount()
{
	local opts=loop
	[[ ${3-} == ro ]] && opts=loop,ro
	mkdir -p "$2"
	KD_MOUNTS+=("$2")
	mount -t ext4 -o "$opts" "$1" "$2"
}

# kd_umount DIR: unmount DIR (mount detaches its own loop device).
kd_umount()
{
	local i
	umount "$1"
	for i in "${!KD_MOUNTS[@]}"; do
		[[ ${KD_MOUNTS[i]} == "$1" ]] && unset 'KD_MOUNTS[i]'
	done
	KD_MOUNTS=("${KD_MOUNTS[@]}")
	return 0
}

# kd_mkimage IMG BS FEATURES [SIZE]: a fresh, deterministic file system.
# FEATURES: ext4 (the pinned ext4 features: extents, metadata_csum, 64bit),
# ext3 (block-mapped files, journal), or a mke2fs -O list applied to ext4,
# e.g. ^metadata_csum or bigalloc (16-block clusters).
kd_mkimage()
{
	local img=$1 bs=$2 feat=$3 size=${4:-$KD_IMAGE_SIZE}
	local args=(-F -q -b "$bs" -U "$KD_UUID" -E "hash_seed=$KD_HASH_SEED")
	case $feat in
	ext3)	args+=(-t ext3) ;;
	ext4)	args+=(-t ext4) ;;
	*bigalloc*) args+=(-t ext4 -O "$feat" -C $((bs * 16))) ;;
	*)	args+=(-t ext4 -O "$feat") ;;
	esac
	rm -f "$img"
	E2FSPROGS_FAKE_TIME=$KD_FAKE_TIME mke2fs "${args[@]}" "$img" "$size" \
		>"$img.mke2fs" 2>&1 || { cat "$img.mke2fs" >&2; return 1; }
	rm -f "$img.mke2fs"
}

# kd_xfs_io_input SCRIPT: the script as xfs_io reads it, on stdout.  Comments
# and blank lines go; each command is preceded by a marker "@kd:LINE", an
# unknown command whose "not found" message on stderr tells which script
# line the following error messages belong to; "open /p" becomes "open p"
# (xfs_io runs in the mount point).  Fails on "inode N", which xfs_io lacks.
kd_xfs_io_input()
{
	awk '
	{
		line = $0
		sub(/#.*/, "", line)
		if (line ~ /^[ \t]*$/)
			next
		n = split(line, w, /[ \t]+/)
		first = (w[1] == "") ? 2 : 1
		if (w[first] == "inode") {
			print "kd_xfs_io_input: line " NR ": \"inode\" is esck-only" > "/dev/stderr"
			bad = 1
			exit 1
		}
		if (w[first] == "open")
			gsub(/[ \t]\/+/, " ", line)
		print "@kd:" NR
		print line
	}
	END { exit bad }' "$1"
}

# kd_kernel IMG SCRIPT: replay SCRIPT through xfs_io on IMG, loop-mounted.
# The errors xfs_io printed go to IMG.kerr as "LINE: message" (empty when
# every command succeeded); xfs_io's other output to IMG.kout.
kd_kernel()
{
	local img=$1 script=$2 mnt=$1.mnt
	kd_xfs_io_input "$script" >"$img.kin" || return 1
	kd_mount "$img" "$mnt" || return 1
	(cd "$mnt" && xfs_io <"$img.kin" >"$img.kout" 2>"$img.kraw") || true
	kd_umount "$mnt"
	awk '
	/^command "@kd:[0-9]+" not found$/ {
		line = $2; gsub(/[^0-9]/, "", line); next
	}
	{ print (line == "" ? "?" : line) ": " $0 }' "$img.kraw" >"$img.kerr"
	rm -rf "$img.kin" "$img.kraw" "$mnt"
}

# kd_esck IMG SCRIPT: replay SCRIPT through esck replay-truncate on IMG;
# output in IMG.eout and IMG.eerr, the exit status in KD_ESCK_STATUS.
kd_esck()
{
	local img=$1 script=$2
	KD_ESCK_STATUS=0
	"${ESCK:?set ESCK to the esck binary}" replay-truncate "$img" "$script" >"$img.eout" 2>"$img.eerr" </dev/null ||
		KD_ESCK_STATUS=$?
	return 0
}

# kd_fsck IMG WHO: e2fsck -fn must exit 0; prints why not.
kd_fsck()
{
	local st=0
	e2fsck -fn "$1" >"$1.fsck" 2>&1 || st=$?
	if ((st != 0)); then
		echo "  $2: e2fsck -fn exit $st:"
		grep -v '^e2fsck [0-9]' "$1.fsck" | head -20 | sed 's/^/    /'
		return 1
	fi
	rm -f "$1.fsck"
}

# KD_AWK_HEX: an awk function hex("0x1f") for mawk, which has no strtonum.
KD_AWK_HEX='function hex(s,   i, v) {
	s = tolower(s); sub(/^0x/, "", s); v = 0
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}'

# kd_image_info MNT BS PHYSICAL OUT: facts about every regular file under
# the mount point MNT, in a few processes whatever the number of files:
# OUT.files (sorted paths, "./name"), OUT.sums (md5sum of each), OUT.info
# with "size PATH BYTES", "map PATH LOGICAL LENGTH TYPE [PHYSICAL]" and,
# with PHYSICAL=1, "blocks PATH I_BLOCKS" (512-byte units) lines.  A map is what fiemap reports, in blocks, as maximal runs; TYPE is
# W (written), U (unwritten) or D (delayed); holes are left out.  Runs that
# touch and have the same type (and contiguous physical blocks, with
# PHYSICAL=1) are merged, so the shape of the extent tree does not matter.
kd_image_info()
{
	local mnt=$1 bs=$2 phys=$3 out=$4
	local -a files
	(cd "$mnt" && find . -xdev -path ./lost+found -prune -o -type f -print) |
		sort >"$out.files"
	mapfile -t files <"$out.files"
	: >"$out.info"
	: >"$out.sums"
	((${#files[@]})) || return 0
	(cd "$mnt" && md5sum -- "${files[@]}") >"$out.sums"
	printf 'open -r %s\nstat\nfiemap -v\n' "${files[@]}" |
		(cd "$mnt" && xfs_io) | awk -v bs="$bs" -v phys="$phys" "$KD_AWK_HEX"'
	function flush() {
		if (n)
			print "map", path, l0, n, t0 (phys ? " " p0 : "")
		n = 0
	}
	$1 == "fd.path" { flush(); path = $3; gsub(/"/, "", path); next }
	$1 == "stat.size" { print "size", path, $3; next }
	$1 == "stat.blocks" && phys { print "blocks", path, $3; next }
	$1 ~ /^[0-9]+:$/ && $3 != "hole" {
		r = $2; gsub(/[\[\]:]/, "", r); split(r, a, /\.\./)
		split($3, b, /\.\./)
		spb = bs / 512
		l = a[1] / spb; len = (a[2] - a[1] + 1) / spb; p = b[1] / spb
		f = hex($5)
		t = int(f / 2048) % 2 ? "U" : int(f / 4) % 2 ? "D" : "W"
		if (n && t == t0 && l == l0 + n && (!phys || p == p0 + n)) {
			n += len
			next
		}
		flush()
		l0 = l; n = len; t0 = t; p0 = p
	}
	END { flush() }' >"$out.info"
}

# kd_map INFO PATH: PATH's map out of kd_image_info's OUT.info, as
# "LOGICAL LENGTH TYPE [PHYSICAL]" lines.
kd_map()
{
	awk -v p="$2" '$1 == "map" && $2 == p { $1 = $2 = ""; sub(/^  /, ""); print }' "$1"
}

# kd_map_diff KMAP EMAP: the first block range where two kd_map outputs
# differ, as "blocks A-B: kernel X, esck Y" (X, Y: hole, W, U, D, with
# @PHYSICAL when mapped physically); nothing when they agree.
kd_map_diff()
{
	awk '{ print $1; print $1 + $2 }' "$1" "$2" | sort -n -u |
	awk '
	function at(m, b) {
		while (I[m] <= nr[m] && L[m, I[m]] + N[m, I[m]] <= b)
			I[m]++
		if (I[m] > nr[m] || L[m, I[m]] > b)
			return "hole"
		return T[m, I[m]] (P[m, I[m]] == "" ? "" : "@" (P[m, I[m]] + b - L[m, I[m]]))
	}
	FILENAME == "-" { pt[++np] = $1; next }
	{ m = (FILENAME == ARGV[2]) ? 1 : 2; i = ++nr[m]
	  L[m, i] = $1; N[m, i] = $2; T[m, i] = $3; P[m, i] = $4 }
	END {
		I[1] = I[2] = 1
		for (k = 1; k < np; k++) {
			a = at(1, pt[k]); b = at(2, pt[k])
			if (a == b)
				continue
			for (j = k + 1; j < np; j++)
				if (at(1, pt[j]) == at(2, pt[j]))
					break
			printf "blocks %d-%d: kernel %s, esck %s\n", pt[k], pt[j] - 1, a, b
			exit
		}
	}' - "$1" "$2"
}

# kd_root_headers IMG FILES: "root PATH ENTRIES MAX DEPTH" for each path of
# FILES ("./name" lines) from the root node of its extent tree (debugfs
# inode_dump -b), or "root PATH -" when the inode has no extent header.
kd_root_headers()
{
	sed 's|^\./|inode_dump -b /|' "$2" >"$1.dbgcmd"
	debugfs -f "$1.dbgcmd" "$1" 2>/dev/null | awk "$KD_AWK_HEX"'
	function le16(w) { return hex(substr(w, 3, 2) substr(w, 1, 2)) }
	/^debugfs: inode_dump/ { path = "." $NF; want = 1; next }
	want && $1 == "0000" {
		if ($2 != "0af3")
			print "root", path, "-"
		else
			print "root", path, le16($3), le16($4), le16($5)
		want = 0
	}'
	rm -f "$1.dbgcmd"
}

# kd_compare [--physical] KIMG EIMG: the kernel's image against esck's.
# Both must be e2fsck -fn clean and hold the same regular files with the
# same i_size, content, allocated blocks and written/unwritten state; with
# --physical also the same physical blocks, i_blocks and extent root
# (entries, max, depth).  Prints
# every difference (indented) and returns 1 on any.
kd_compare()
{
	local phys=0
	if [[ $1 == --physical ]]; then phys=1; shift; fi
	local kimg=$1 eimg=$2 bad=0 dir km em f ks es bs d byte cols="LOGICAL LENGTH TYPE"
	((phys)) && cols+=" PHYSICAL"
	kd_fsck "$kimg" kernel || bad=1
	kd_fsck "$eimg" esck || bad=1
	dir=$kimg.cmp
	rm -rf "$dir"; mkdir -p "$dir"
	km=$dir/k em=$dir/e
	if ! kd_mount "$kimg" "$km" ro; then
		echo "  kernel image does not mount"; rm -rf "$dir"; return 1
	fi
	if ! kd_mount "$eimg" "$em" ro; then
		echo "  esck image does not mount"; kd_umount "$km"; rm -rf "$dir"; return 1
	fi
	bs=$(stat -f -c %S "$km")
	kd_image_info "$km" "$bs" "$phys" "$dir/kernel"
	kd_image_info "$em" "$bs" "$phys" "$dir/esck"
	if ! cmp -s "$dir/kernel.files" "$dir/esck.files"; then
		echo "  the sets of files differ (< kernel, > esck):"
		diff "$dir/kernel.files" "$dir/esck.files" | grep '^[<>]' | sed 's/^/    /'
		bad=1
	fi
	if ! cmp -s "$dir/kernel.info" "$dir/esck.info" ||
	   ! cmp -s "$dir/kernel.sums" "$dir/esck.sums"; then
		while read -r f; do
			[[ -f $em/$f ]] || continue
			ks=$(awk -v p="$f" '$1 == "size" && $2 == p { print $3 }' "$dir/kernel.info")
			es=$(awk -v p="$f" '$1 == "size" && $2 == p { print $3 }' "$dir/esck.info")
			if [[ $ks != "$es" ]]; then
				echo "  ${f#.}: i_size kernel $ks, esck $es"
				bad=1
			fi
			if ((phys)); then
				ks=$(awk -v p="$f" '$1 == "blocks" && $2 == p { print $3 }' "$dir/kernel.info")
				es=$(awk -v p="$f" '$1 == "blocks" && $2 == p { print $3 }' "$dir/esck.info")
				if [[ $ks != "$es" ]]; then
					echo "  ${f#.}: i_blocks kernel $ks, esck $es (512-byte units, tree blocks included)"
					bad=1
				fi
			fi
			if ! d=$(cmp "$km/$f" "$em/$f" 2>&1); then
				byte=$(sed -n 's/.*differ: \(byte\|char\) \([0-9]*\).*/\2/p' <<<"$d")
				if [[ -n $byte ]]; then
					echo "  ${f#.}: content differs from byte $((byte - 1)) (block $(((byte - 1) / bs))):"
					cmp -l "$km/$f" "$em/$f" 2>/dev/null | head -3 |
						awk '{ printf "    offset %d: kernel 0%s, esck 0%s\n", $1 - 1, $2, $3 }'
				else
					d=${d//$km\/.\//kernel:\/}
					echo "  ${f#.}: content: ${d//$em\/.\//esck:\/}"
				fi
				bad=1
			fi
			kd_map "$dir/kernel.info" "$f" >"$dir/kmap"
			kd_map "$dir/esck.info" "$f" >"$dir/emap"
			if ! cmp -s "$dir/kmap" "$dir/emap"; then
				echo "  ${f#.}: block map differs ($cols, in $bs-byte blocks):"
				kd_map_diff "$dir/kmap" "$dir/emap" | sed 's/^/    /'
				kd_show_maps "$dir/kmap" "$dir/emap"
				bad=1
			fi
		done <"$dir/kernel.files"
	fi
	kd_umount "$em"
	kd_umount "$km"
	if ((phys)); then
		kd_root_headers "$kimg" "$dir/kernel.files" >"$dir/kroot"
		kd_root_headers "$eimg" "$dir/kernel.files" >"$dir/eroot"
		if ! cmp -s "$dir/kroot" "$dir/eroot"; then
			awk '{ r = $0; sub(/^root [^ ]* /, "", r) }
			NR == FNR { k[$2] = r; next }
			k[$2] != r {
				printf "  %s: extent root (entries max depth): kernel %s, esck %s\n",
					substr($2, 2), k[$2], r
			}' "$dir/kroot" "$dir/eroot"
			bad=1
		fi
	fi
	rm -rf "$dir"
	return $bad
}

# kd_show_maps KMAP EMAP: both maps side by side, the first 40 lines that differ.
kd_show_maps()
{
	diff --side-by-side --width=90 "$1" "$2" | awk '
	/[|<>]/ { if (shown++ < 40) print "    " $0; next }
	END { if (shown > 40) print "    ... " shown - 40 " more differing lines" }
	{ if (shown < 40 && ctx++ < 5) print "    " $0 }'
	echo "    (left: kernel, right: esck; $(wc -l <"$1") and $(wc -l <"$2") runs)"
}
