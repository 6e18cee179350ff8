#!/bin/sh
# exit-coverage.sh --- every exit status the pages document is produced by a real invocation, and nothing undocumented is
#
# The statuses are read from the EXIT STATUS sections (".It N" items) of
# esck(8), esck-inspect(8) and esck-replay-truncate(8), not listed here.
# Then a fixed set of real invocations runs -- clean and damaged images,
# unreadable files, bad options, refused operations, a divergence, signals --
# and records each exit status.  It fails when
#   - a status a command's page documents is produced by none of that
#     command's invocations (0 by an exit status of 0, any other bit by a
#     status that has it set);
#   - an invocation sets a bit its page does not document;
#   - a command page documents a bit that esck(8) does not;
#   - a bit of esck(8) is produced by no invocation at all, unless its entry
#     says no command sets it ("Reserved").
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs

# ---- the documented statuses ----

# page_statuses PAGE: "N<TAB>text of the entry" for each EXIT STATUS item.
page_statuses()
{
	awk '/^\.Sh / { on = ($0 == ".Sh EXIT STATUS"); next }
	     !on { next }
	     /^\.It / { if (n != "") print n "\t" t; n = $2; t = ""; next }
	     /^\.El/ { if (n != "") print n "\t" t; n = ""; next }
	     n != "" { t = t " " $0 }' "$1"
}

for page in esck esck-inspect esck-replay-truncate; do
	f="$top_srcdir/man/$page.8.in"
	test -r "$f" || test_hard_error "cannot read $f"
	page_statuses "$f" >"$TEST_TMP/$page.entries"
	cut -f1 "$TEST_TMP/$page.entries" >"$TEST_TMP/$page.bits"
	test -s "$TEST_TMP/$page.bits" || test_fail "$page(8) documents no exit status"
	for b in $(cat "$TEST_TMP/$page.bits"); do
		case $b in
		0 | 1 | 2 | 4 | 8 | 16 | 32 | 64 | 128) ;;
		*) test_fail "$page(8) EXIT STATUS: '$b' is not 0 or one bit" ;;
		esac
	done
	echo "$page(8) documents: $(tr '\n' ' ' <"$TEST_TMP/$page.bits")"
done

# ---- real invocations ----

# produced CMD STATUS WHAT: record that an invocation of CMD gave STATUS.
produced()
{
	echo "$1 $2 $3" >>"$TEST_TMP/produced"
}

# run CMD WHAT ARG...: esck ARG... (through run_esck), recorded for CMD.
run()
{
	run_cmd=$1 run_what=$2
	shift 2
	run_esck "$@"
	produced "$run_cmd" "$status" "$run_what"
}

cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"
export E2FSPROGS_FAKE_TIME=1700000000

# esck itself
run esck "--version" --version
run esck "--help" --help
run esck "help" help
run esck "an unknown command" nosuch
run esck "an unknown option" --bogus
if test -w /dev/full; then
	"$ESCK" --version >/dev/full 2>/dev/null
	produced esck $? "--version >/dev/full"
fi

# esck inspect
test_mkfs clean.img 4M
yes "esck exit coverage" | head -c 3000 >data
printf 'write data f\n' | test_debugfs clean.img
run inspect "a clean image" inspect clean.img
run inspect "--help" inspect --help
run inspect "esck help inspect" help inspect
cp clean.img bad.img
printf 'sif /f size 1\n' | test_debugfs bad.img
run inspect "a planted problem" inspect -q bad.img
run inspect "a missing image" inspect nosuch.img
head -c 65536 /dev/zero >zero.img
run inspect "not a file system" inspect zero.img
cp clean.img noperm.img
chmod 000 noperm.img
if ! test -r noperm.img; then
	run inspect "an unreadable image" inspect noperm.img
fi
run inspect "no such inode" inspect -i 99999 clean.img
cp clean.img journal.img
printf 'feature needs_recovery\n' | test_debugfs journal.img
run inspect "the journal needs recovery" inspect journal.img
run inspect "an unknown option" inspect --bogus clean.img
run inspect "no image" inspect
run inspect "a bad -i" inspect -i 12x clean.img
if test -w /dev/full; then
	"$ESCK" inspect clean.img >/dev/full 2>/dev/null
	produced inspect $? "inspect >/dev/full"
fi

# esck replay-truncate
cp clean.img rp.img
printf 'open /f\nfpunch 0 1k\ntruncate 2000\n' >ok.s
run replay-truncate "a clean replay" replay-truncate rp.img ok.s
run replay-truncate "--help" replay-truncate --help
printf 'open /f\nfpunch 0 0\nopen nosuch\n' >refused.s
run replay-truncate "refused ops" replay-truncate rp.img refused.s
printf 'open /f\nfpunch 0\n' >syntax.s
run replay-truncate "a syntax error" replay-truncate rp.img syntax.s
run replay-truncate "an unknown option" replay-truncate --bogus rp.img ok.s
run replay-truncate "a bad --verify" replay-truncate --verify=never rp.img ok.s
run replay-truncate "no image" replay-truncate
run replay-truncate "a missing image" replay-truncate nosuch.img ok.s
run replay-truncate "a missing script" replay-truncate rp.img nosuch.s
# libext2fs (see esck(8) ENVIRONMENT) takes the image for a mounted one
EXT2FS_PRETEND_RW_MOUNT=1
export EXT2FS_PRETEND_RW_MOUNT
run replay-truncate "a mounted image" replay-truncate rp.img ok.s
unset EXT2FS_PRETEND_RW_MOUNT

# A divergence: /small of tests/corrupt/plant.sh's base with a zero-length
# extent planted (the verification reports the tree's own damage).
mkdir pl
PL_TMP=$TEST_TMP/pl
. "$top_srcdir/tests/corrupt/plant.sh"
pl_make_base e4 pl/e4.img || test_hard_error "cannot build plant.sh's base image"
cp pl/e4.img zl.img
plant_zero_length zl.img || test_hard_error "cannot plant a zero-length extent"
printf 'open /small\nfpunch 0 1k\n' >zl.s
run replay-truncate "a divergence" replay-truncate zl.img zl.s
# and, where pwrite leaves delayed entries, the legacy policy losing one:
# the write's first allocation caches the hole it writes into, its second
# is the delayed entry
printf 'open -f /g\npwrite 0 40k\nfpunch 4k 1k\nfsync\n' >legacy.s
cp clean.img legacy.img
run replay-truncate "--es-policy=legacy" \
	replay-truncate --es-policy=legacy --fail-alloc=nth:2 legacy.img legacy.s

# Interrupted: SIGTERM and SIGINT to a long replay, once it has printed
# (its handlers are installed before the first op); if it finishes first,
# again with a longer script.
test_mkfs long.img 64M -O ^has_journal
# A background job of a script starts with SIGINT ignored; start it with the
# default disposition, as from a terminal, where env(1) can.
launch=
env --default-signal=INT true 2>/dev/null && launch="env --default-signal=INT"
# interrupt SIGNAL: send it to a replay of $nops op pairs.
interrupt()
{
	nops=20000
	for try in 1 2 3; do
		cp long.img sig.img
		awk -v n="$nops" 'BEGIN {
			print "open -f /f"; print "falloc 0 32m"
			for (i = 0; i < n; i++)
				printf "fpunch %d 1k\nfalloc %d 1k\n", (i % 30000) * 1024, (i % 30000) * 1024
		}' >long.s
		# the child creates them: an old one must not look like output
		rm -f sig.out sig.err
		# shellcheck disable=SC2086 # none or three words
		$launch "$ESCK" replay-truncate sig.img long.s >sig.out 2>sig.err </dev/null &
		pid=$!
		waited=0
		while ! test -s sig.out && kill -0 "$pid" 2>/dev/null && test "$waited" -lt 600; do
			sleep 0.1 2>/dev/null || sleep 1
			waited=$((waited + 1))
		done
		kill "-$1" "$pid" 2>/dev/null
		wait "$pid"
		st=$?
		if test "$st" -ne 0 || ! grep -q ' ops: ' sig.out; then
			break
		fi
		echo "the replay ended before SIG$1 (try $try); a longer one"
		nops=$((nops * 4))
	done
	echo "esck replay-truncate (SIG$1 after $(grep -c ': ok$' sig.out) ops) -> exit $st"
	produced replay-truncate "$st" "SIG$1"
	tail -n 1 sig.out | grep -q ', interrupted$' ||
		test_fail "SIG$1: the summary does not say interrupted: $(tail -n 1 sig.out)"
	test_empty sig.err "SIG$1: stderr"
}
interrupt TERM
interrupt INT

# ---- coverage ----

echo "produced:"
sed 's/^/	/' "$TEST_TMP/produced"

# covered CMD BIT: an invocation of CMD ("" for any) produced BIT.
covered()
{
	awk -v cmd="$1" -v bit="$2" '
		cmd != "" && $1 != cmd { next }
		{ s = $2 + 0 }
		bit == 0 && s == 0 { f = 1 }
		bit > 0 && int(s / bit) % 2 == 1 { f = 1 }
		END { exit !f }' "$TEST_TMP/produced"
}

# undocumented CMD PAGE: bits of CMD's statuses that PAGE does not list.
undocumented()
{
	awk -v cmd="$1" -v bits="$(tr '\n' ' ' <"$TEST_TMP/$2.bits")" '
		BEGIN { n = split(bits, b, " "); for (i = 1; i <= n; i++) doc[b[i] + 0] = 1 }
		$1 != cmd { next }
		{
			s = $2 + 0
			if (s == 0 && !(0 in doc))
				print "0 (" $0 ")"
			for (bit = 1; bit <= 128; bit *= 2)
				if (int(s / bit) % 2 == 1 && !(bit in doc))
					print bit " (" $0 ")"
		}' "$TEST_TMP/produced"
}

for cmd in inspect replay-truncate; do
	page=esck-$cmd
	for b in $(cat "$TEST_TMP/$page.bits"); do
		covered "$cmd" "$b" ||
			test_fail "$page(8) documents exit status $b; no invocation of esck $cmd produced it"
		grep -q -x -e "$b" "$TEST_TMP/esck.bits" ||
			test_fail "$page(8) documents exit status $b, which esck(8) does not"
	done
	undocumented "$cmd" "$page" >"$TEST_TMP/undoc"
	while read -r line; do
		test_fail "esck $cmd exit status bit $line is not in $page(8)"
	done <"$TEST_TMP/undoc"
done
undocumented esck esck >"$TEST_TMP/undoc"
while read -r line; do
	test_fail "esck exit status bit $line is not in esck(8)"
done <"$TEST_TMP/undoc"

while read -r b text; do
	case $text in
	*Reserved*)
		covered "" "$b" &&
			test_fail "esck(8) says exit status $b is reserved, yet an invocation produced it"
		for page in esck-inspect esck-replay-truncate; do
			grep -q -x -e "$b" "$TEST_TMP/$page.bits" &&
				test_fail "esck(8) says exit status $b is reserved, $page(8) documents it"
		done
		;;
	esac
	if covered "" "$b"; then
		continue
	fi
	case $text in
	*Reserved*) echo "esck(8) exit status $b: reserved, produced by no command" ;;
	*) test_fail "esck(8) documents exit status $b; no invocation produced it" ;;
	esac
done <"$TEST_TMP/esck.entries"

test_done
