#!/bin/bash
# run.sh --- kernel-diff tests: seeded random scripts and tests/kdiff/cases/*.esck through the kernel (xfs_io) and esck, compared
#
# Usage: run.sh [--thorough] [--scripts N] [--first N] [--seed N]
#               [--variant V]... [--case NAME]... [--no-cases] [--cases-only]
#               [--self-test] [--keep] [-j N]
#
# For each seed and image variant, tests/kdiff/gen writes a script; the
# kernel runs it (xfs_io in a loop mount of one copy of the image), esck
# replay-truncate runs it on another copy, and kd_compare (lib.sh) checks
# that both are e2fsck -fn clean with the same files, sizes, contents and
# block maps.  The seed picks the kind of script:
#   seed % 4 == 0, 2   --only-remove: the setup is done by the kernel alone,
#                      then both replay the truncates and punches; physical
#                      blocks and extent tree depth are compared too;
#   seed % 4 == 1      everything (setup included) replayed by both;
#   seed % 4 == 3      the kernel does the setup, both replay mixed ops.
# Then every case in tests/kdiff/cases/ the same way (directives: see below).
#
# Environment: ESCK_KDIFF_SCRIPTS (seeds per variant; default 3, 500 with
# --thorough), ESCK_KDIFF_VARIANTS (default "4k 1k 4k-nocsum bigalloc ext3
# ext3-1k", every variant esck replays; ext3 and ext3-1k are block-mapped
# files, with --no-falloc), ESCK_KDIFF_GEN_ARGS (gen options, e.g. --no-pwrite; default
# none: pwrite and fsync are generated), ESCK_KDIFF_JOBS
# (scripts run at once; default nproc, also -j), ESCK (esck),
# top_srcdir, top_builddir (as make check sets them).
# --self-test replays through the kernel twice instead of esck: it checks the
# harness itself, and needs no esck.
# Exit: 0 all agree, 1 some differ (kept in $top_builddir/tests/kdiff/failures
# with a REPRODUCE line), 77 skipped (not root, no loop mounts, no xfs_io, no
# esck replay-truncate), 99 harness error.

# make check runs tests with /bin/sh: come back as bash.
if [ -z "${BASH_VERSION-}" ]; then
	exec bash "$0" "$@"
fi
set -euo pipefail

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$PWD}
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
ESCK=${ESCK:-$top_builddir/cli/esck}
GEN=${KD_GEN:-$top_builddir/tests/kdiff/gen}
CASEDIR=$top_srcdir/tests/kdiff/cases
FAILDIR=$top_builddir/tests/kdiff/failures

# shellcheck source=tests/kdiff/lib.sh
. "$top_srcdir/tests/kdiff/lib.sh"

thorough=0 self_test=0 keep=0 cases=1 seeds=1 first=1 only_seed=
njobs=${ESCK_KDIFF_JOBS:-$(nproc 2>/dev/null || echo 2)}
variants=() only_cases=() explicit_variants=0
nscripts=${ESCK_KDIFF_SCRIPTS-}
while (($#)); do
	case $1 in
	--thorough) thorough=1 ;;
	--scripts) nscripts=$2; shift ;;
	--first) first=$2; shift ;;
	--seed) only_seed=$2; shift ;;
	--variant) variants+=("$2") explicit_variants=1; shift ;;
	--case) only_cases+=("$2"); seeds=0; shift ;;
	--no-cases) cases=0 ;;
	--cases-only) seeds=0 ;;
	--self-test) self_test=1 ;;
	--keep) keep=1 ;;
	-j) njobs=$2; shift ;;
	-h | --help) sed -n '3,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; exit 99 ;;
	esac
	shift
done
if [[ -z $nscripts ]]; then
	nscripts=3
	((thorough)) && nscripts=500
fi
if [[ -n $only_seed ]]; then
	first=$only_seed nscripts=1 cases=0
fi
if ((${#variants[@]} == 0)); then
	[[ -n ${ESCK_KDIFF_VARIANTS-} ]] && explicit_variants=1
	# The default scope is every variant esck replays.
	read -r -a variants <<<"${ESCK_KDIFF_VARIANTS:-4k 1k 4k-nocsum bigalloc ext3 ext3-1k}"
	((thorough)) && [[ -z ${ESCK_KDIFF_VARIANTS-} ]] && variants+=(1k-nocsum)
fi
export ESCK_KDIFF_GEN_ARGS=${ESCK_KDIFF_GEN_ARGS-}
echo "kdiff: scope: variants ${variants[*]}; generator options '${ESCK_KDIFF_GEN_ARGS}'"

# variant NAME: sets v_bs, v_feat, v_gen (extra generator options)
variant()
{
	v_gen=()
	case $1 in
	4k) v_bs=4096 v_feat=ext4 ;;
	1k) v_bs=1024 v_feat=ext4 ;;
	4k-nocsum) v_bs=4096 v_feat=^metadata_csum ;;
	1k-nocsum) v_bs=1024 v_feat=^metadata_csum ;;
	bigalloc) v_bs=4096 v_feat=bigalloc v_gen=(--cluster 65536) ;;
	ext3) v_bs=4096 v_feat=ext3 v_gen=(--no-falloc) ;;
	ext3-1k) v_bs=1024 v_feat=ext3 v_gen=(--no-falloc) ;;
	*) echo "run.sh: unknown variant '$1'" >&2; exit 99 ;;
	esac
}
for v in "${variants[@]}"; do variant "$v"; done

skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "kernel-diff tests need root (loop mounts)"
for c in xfs_io mke2fs e2fsck debugfs losetup mount umount; do
	command -v "$c" >/dev/null 2>&1 || skip "$c not found"
done
[[ -x $GEN ]] || { echo "ERROR: $GEN not built" >&2; exit 99; }
if ((!self_test)); then
	"$ESCK" replay-truncate --help >/dev/null 2>&1 ||
		skip "'$ESCK replay-truncate --help' fails: esck replay-truncate not available"
fi

kd_init "$(mktemp -d "${TMPDIR:-/tmp}/esck-kdiff.XXXXXX")"
((keep)) && KD_KEEP_TMP=1
kd_mkimage "$KD_TMP/probe.img" 4096 ext4 8M || { echo "ERROR: mke2fs fails" >&2; exit 99; }
if ! kd_mount "$KD_TMP/probe.img" "$KD_TMP/probe" 2>"$KD_TMP/probe.err"; then
	skip "mount -o loop fails here: $(head -1 "$KD_TMP/probe.err")"
fi
kd_umount "$KD_TMP/probe"
rm -f "$KD_TMP/probe.img"

agree=0 differ=0 unsupported=0

# split SCRIPT SETUP OPS: the lines before "# ops" into SETUP, the rest into
# OPS; with no "# ops" line SETUP is empty.
split_script()
{
	if grep -q '^# ops$' "$1"; then
		sed '/^# ops$/,$d' "$1" >"$2"
		sed -n '/^# ops$/,$p' "$1" >"$3"
	else
		: >"$2"
		cp "$1" "$3"
	fi
}

# short_list "N N N ...": at most 8 numbers, then "(+K more)".
short_list()
{
	local -a words
	read -r -a words <<<"$1"
	if ((${#words[@]} > 8)); then
		echo "${words[*]:0:8} (+$((${#words[@]} - 8)) more) "
	else
		echo "$1"
	fi
}

# rejections KIMG EIMG SCRIPT: compare what the kernel refused (KIMG.kerr)
# with esck's exit status; prints the reasons, returns 1 on a mismatch.
rejections()
{
	local kerr=$1.kerr eerr=$2.eerr st=$KD_ESCK_STATUS
	if ((self_test)); then
		if ! cmp -s "$kerr" "$2.kerr"; then
			echo "  the two kernel runs failed differently:"
			diff "$kerr" "$2.kerr" | sed 's/^/    /'
			return 1
		fi
		return 0
	fi
	# the script lines each side refused: "LINE: message" from kd_kernel,
	# "SCRIPT:LINE: message" from esck
	local klines elines
	klines=$(cut -d: -f1 "$kerr" | sort -un | tr '\n' ' ')
	elines=$(sed -n "s|^$3:\([0-9]*\):.*|\1|p" "$eerr" | sort -un | tr '\n' ' ')
	if [[ -n $klines || -n $elines ]] && [[ $klines != "$elines" ]]; then
		klines=$(short_list "$klines") elines=$(short_list "$elines")
		if [[ -z $klines ]]; then
			echo "  esck refused line(s) ${elines% } (exit $st), the kernel ran every line:"
		elif [[ -z $elines ]]; then
			echo "  the kernel refused line(s) ${klines% }, esck none (exit $st):"
		else
			echo "  the kernel refused line(s) ${klines% }, esck ${elines% } (exit $st):"
		fi
		sed 's/^/    kernel: /' "$kerr" | head -5
		sed 's/^/    esck: /' "$eerr" | head -5
		return 1
	fi
	if [[ -s $kerr ]]; then
		((st & 8)) && ! ((st & ~12)) && return 0
		echo "  the kernel refused line(s) ${klines% }, esck exit $st"
		sed 's/^/    esck: /' "$eerr" | head -5
		return 1
	fi
	if ((st != 0)); then
		echo "  esck exit $st, the kernel ran every line:"
		sed 's/^/    esck: /' "$eerr" | head -10
		return 1
	fi
}

# run_one ID VARIANT SCRIPT SPLIT PHYS REPRO WORKDIR: one script through
# both, in WORKDIR; prints "ok ..." or "FAIL ..." and the details.  Returns
# 1 when they differ (the evidence is then kept in $FAILDIR).
run_one()
{
	local id=$1 var=$2 script=$3 split=$4 phys=$5 repro=$6 w=$7
	local base start ops why st
	rm -rf "$w"; mkdir -p "$w"
	variant "$var"
	base=$KD_TMP/base-$var.img
	cp "$script" "$w/script.esck"
	start=$w/start.img
	cp --sparse=always "$base" "$start"
	if ((split)); then
		split_script "$script" "$w/setup.esck" "$w/ops.esck"
		ops=$w/ops.esck
		if [[ -s $w/setup.esck ]]; then
			kd_kernel "$start" "$w/setup.esck"
			if [[ -s $start.kerr ]]; then
				echo "FAIL $id $var: the kernel rejected the setup: $(head -1 "$start.kerr")"
				save_failure "$id" "$var" "$w" "$repro"
				return 1
			fi
		fi
	else
		ops=$w/script.esck
	fi
	cp --sparse=always "$start" "$w/kernel.img"
	cp --sparse=always "$start" "$w/esck.img"
	kd_kernel "$w/kernel.img" "$ops"
	if ((self_test)); then
		kd_kernel "$w/esck.img" "$ops"
		KD_ESCK_STATUS=0
	else
		kd_esck "$w/esck.img" "$ops"
	fi
	st=0
	{
		rejections "$w/kernel.img" "$w/esck.img" "$ops" || st=1
		if ((phys)); then
			kd_compare --physical "$w/kernel.img" "$w/esck.img" || st=1
		else
			kd_compare "$w/kernel.img" "$w/esck.img" || st=1
		fi
	} >"$w/compare.txt" 2>&1
	if ((st == 0)); then
		if [[ -s $w/kernel.img.kerr ]]; then
			echo "ok $id $var (both refused line(s)" \
				"$(cut -d: -f1 "$w/kernel.img.kerr" | sort -un | tr '\n' ' '| sed 's/ $//'))"
		else
			echo "ok $id $var"
		fi
		rm -rf "$w"
		return 0
	fi
	why=$(grep -m1 . "$w/compare.txt" | sed 's/^ *//')
	echo "FAIL $id $var: $why"
	sed 's/^/  /' "$w/compare.txt"
	save_failure "$id" "$var" "$w" "$repro"
	# esck said "not supported": counted apart in the summary
	grep -q 'not supported' "$FAILDIR/${id//:/-}-$var/esck.img.eerr" 2>/dev/null && return 2
	return 1
}

# save_failure ID VARIANT WORKDIR REPRO: keep the evidence: the script
# (and its setup/ops halves), start.img (the image both replays started
# from, for bisect.sh), kernel.img, esck.img, their outputs, compare.txt.
save_failure()
{
	local d=$FAILDIR/${1//:/-}-$2
	rm -rf "$d"; mkdir -p "$d"
	mv "$3"/* "$d"/
	[[ -f $d/setup.esck ]] && ! [[ -s $d/setup.esck ]] && rm -f "$d/setup.esck"
	printf '%s\n' "$4" >"$d/REPRODUCE"
	echo "  kept in $d; reproduce: $4"
}

# The job list: queue ID VARIANT SCRIPT SPLIT PHYS REPRO; the scripts are
# written first, then run_jobs runs them $njobs at a time and prints the
# results in order.
J_ID=() J_VAR=() J_SPLIT=() J_PHYS=() J_REPRO=()
queue()
{
	local n=${#J_ID[@]}
	mkdir -p "$KD_TMP/jobs"
	cp "$3" "$KD_TMP/jobs/$n.esck"
	J_ID+=("$1") J_VAR+=("$2") J_SPLIT+=("$4") J_PHYS+=("$5") J_REPRO+=("$6")
}

run_jobs()
{
	local n=${#J_ID[@]} i next=0 running=0 v
	for v in "${variants[@]}"; do
		variant "$v"
		kd_mkimage "$KD_TMP/base-$v.img" "$v_bs" "$v_feat"
	done
	print_done()
	{
		while ((next < n)) && [[ -f $KD_TMP/jobs/$next.st ]]; do
			cat "$KD_TMP/jobs/$next.out"
			[[ $(cat "$KD_TMP/jobs/$next.st") == 99 ]] &&
				echo "FAIL ${J_ID[next]} ${J_VAR[next]}: the harness broke (see above)"
			case $(cat "$KD_TMP/jobs/$next.st") in
			0) agree=$((agree + 1)) ;;
			2) differ=$((differ + 1)) unsupported=$((unsupported + 1)) ;;
			*) differ=$((differ + 1)) ;;
			esac
			next=$((next + 1))
		done
	}
	for ((i = 0; i < n; i++)); do
		if ((running >= njobs)); then
			wait -n || true
			running=$((running - 1))
			print_done
		fi
		(
			# shellcheck disable=SC2064 # expand $i now
			trap "[[ -f '$KD_TMP/jobs/$i.st' ]] || echo 99 >'$KD_TMP/jobs/$i.st'; kd_release_mounts" EXIT
			st=0
			run_one "${J_ID[i]}" "${J_VAR[i]}" "$KD_TMP/jobs/$i.esck" \
				"${J_SPLIT[i]}" "${J_PHYS[i]}" "${J_REPRO[i]}" \
				"$KD_TMP/jobs/$i.d" >"$KD_TMP/jobs/$i.out" 2>&1 || st=$?
			echo "$st" >"$KD_TMP/jobs/$i.st"
		) &
		running=$((running + 1))
	done
	while ((running > 0)); do
		wait -n || true
		running=$((running - 1))
		print_done
	done
	print_done
}

repro_cmd()
{
	local env="top_srcdir='$top_srcdir' top_builddir='$top_builddir' ESCK='$ESCK'" opts=
	[[ -n ${ESCK_KDIFF_GEN_ARGS-} ]] && env+=" ESCK_KDIFF_GEN_ARGS='$ESCK_KDIFF_GEN_ARGS'"
	((thorough)) && opts+=" --thorough"
	((self_test)) && opts+=" --self-test"
	echo "$env bash '$top_srcdir/tests/kdiff/run.sh' $*$opts"
}

# Random scripts.
if ((seeds)); then
	ops=40
	((thorough)) && ops=80
	for ((seed = first; seed < first + nscripts; seed++)); do
		for var in "${variants[@]}"; do
			variant "$var"
			args=(--bs "$v_bs" --ops "$ops" --files $((1 + seed % 3)) "${v_gen[@]}")
			case $((seed % 3)) in
			1) args+=(--aligned) ;;
			2) args+=(--unaligned) ;;
			esac
			case $((seed % 5)) in
			1) args+=(--depth 0) ;;
			2) args+=(--depth 1) ;;
			3) args+=(--depth 2) ;;
			4) if ((thorough && (seed % 20 == 4 || seed % 20 == 9))) &&
				      [[ $v_bs == 1024 || $v_feat == ext3 ]]; then
					args+=(--depth 3)
				else
					args+=(--depth 1)
				fi ;;
			esac
			split=1 phys=0
			case $((seed % 4)) in
			0 | 2) args+=(--only-remove) phys=1 ;;
			1) split=0 ;;
			esac
			# shellcheck disable=SC2086 # extra options, split on spaces
			"$GEN" "$seed" "${args[@]}" ${ESCK_KDIFF_GEN_ARGS-} >"$KD_TMP/gen.esck"
			queue "$seed" "$var" "$KD_TMP/gen.esck" "$split" "$phys" \
				"$(repro_cmd --seed "$seed" --variant "$var")"
		done
	done
fi

# Hand-written cases.  Directives in a case's comments:
#   # kdiff: gen=ARGS       prepend the setup of "gen 0 ARGS --ops 0" (with
#                           the variant's --bs and --no-falloc)
#   # kdiff: physical       compare physical blocks and tree depth too
#   # kdiff: variants=V...  only these variants (default: 4k, 1k, and ext3
#                           and ext3-1k for a case with no falloc, which
#                           block-mapped files refuse; with --thorough,
#                           --variant or ESCK_KDIFF_VARIANTS, every variant
#                           asked for, ext3* still only without falloc)
# Lines before "# ops" are done by the kernel alone; the rest by both.
if ((cases)) || ((${#only_cases[@]})); then
	if ((${#only_cases[@]} == 0)); then
		for c in "$CASEDIR"/*.esck; do
			only_cases+=("$(basename "$c" .esck)")
		done
	fi
	for name in "${only_cases[@]}"; do
		c=$CASEDIR/$name.esck
		[[ -f $c ]] || { echo "ERROR: no case $c" >&2; exit 99; }
		genargs=$(sed -n 's/^# kdiff: gen=//p' "$c")
		cphys=0
		grep -q '^# kdiff: physical' "$c" && cphys=1
		cvars=$(sed -n 's/^# kdiff: variants=//p' "$c")
		if [[ -z $cvars ]]; then
			cvars=
			for v in "${variants[@]}"; do
				[[ $v == ext3* ]] &&
					grep -q '^[[:space:]]*falloc' "$c" && continue
				((thorough || explicit_variants)) ||
					[[ $v == 4k || $v == 1k || $v == ext3* ]] ||
					continue
				cvars+="$v "
			done
		fi
		for var in "${variants[@]}"; do
			[[ " $cvars " == *" $var "* ]] || continue
			variant "$var"
			{
				if [[ -n $genargs ]]; then
					# shellcheck disable=SC2086 # word splitting wanted
					"$GEN" 0 $genargs --bs "$v_bs" "${v_gen[@]}" --ops 0 |
						sed '/^# ops$/,$d'
				fi
				cat "$c"
			} >"$KD_TMP/case.esck"
			queue "case:$name" "$var" "$KD_TMP/case.esck" 1 "$cphys" \
				"$(repro_cmd --case "$name" --variant "$var")"
		done
	done
fi

run_jobs
((unsupported)) &&
	echo "kdiff: in $unsupported of the differing scripts esck reported an op as not supported"
echo "kdiff: $agree scripts agree, $differ differ"
((differ == 0))
