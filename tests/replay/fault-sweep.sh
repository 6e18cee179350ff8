#!/bin/sh
# fault-sweep.sh --- fail cache allocation n for every n of a script: nofail ends exactly as the fault-free run, legacy is caught
#
# The script keeps DELAYED (must-keep) entries in the cache across punches
# and truncates that split them, then writes them back.  For each n from 1
# to the number of allocation attempts of the fault-free run (its JSON
# summary's cache_allocs), --fail-alloc=nth:n must leave, under the nofail
# policy, the same op records, no divergence, and the same files (size,
# map, bytes) as the fault-free run.  Under the legacy policy, which drops a
# must-keep entry when an allocation fails (kernels before 6.5), the
# verification must catch at least one n, and no n may crash.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/replay/replay-lib.sh"
test_init
test_need mke2fs debugfs e2fsck md5sum

cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"
rp_mkimg base.img 8M -b 1024
cat >s.esck <<'EOF'
open -f /a
pwrite -S 0x41 0 40000
fpunch 3000 5000
fpunch 20000 1024
pwrite -S 0x42 30000 9000
truncate 35000
pwrite -S 0x43 60000 20000
fpunch 61000 3000
fsync
pwrite -S 0x44 1000 10000
fpunch 4096 1024
open -f /b
pwrite 0 7000
falloc 20000 10000
pwrite -S 0x45 22000 3000
fpunch 23000 100
truncate 24000
EOF

# fingerprint IMG: e2fsck's verdict, then each file's size, map and bytes.
fingerprint()
{
	if e2fsck -fn "$1" >/dev/null 2>&1; then echo "fsck clean"; else echo "fsck NOT clean"; fi
	for f in a b; do
		echo "$f size $(rp_stat "$1" "$f" Size) map $(rp_map "$1" "$f" | tr '\n' ' ')"
		debugfs -R "cat $f" "$1" 2>/dev/null | md5sum
	done
}

# records FILE: the JSON records, without the allocation count (a nofail
# retry makes more attempts) and the final entry count (a failed droppable
# allocation may leave the cache covering less, which the kernel allows:
# only must-keep entries must survive, and the files show whether they did).
records()
{
	sed 's/,"cache_entries":[0-9]*//; s/,"cache_allocs":[0-9]*//' "$1"
}

cp base.img f0.img
run_esck replay-truncate --json f0.img s.esck
test_status 0 "fault-free run"
cp "$TEST_TMP/out" out0
records out0 >rec0
fingerprint f0.img >fp0
grep -q "fsck clean" fp0 || test_fail "fault-free run: e2fsck -fn is not clean"
n_allocs=$(sed -n 's/.*"cache_allocs":\([0-9]*\).*/\1/p' out0)
test -n "$n_allocs" && test "$n_allocs" -ge 10 ||
	test_hard_error "the fault-free run made '$n_allocs' allocations: too few to sweep"
echo "sweeping $n_allocs allocations"

n=1 bad=0 caught=0
while test "$n" -le "$n_allocs"; do
	cp base.img fn.img
	"$ESCK" replay-truncate --json --fail-alloc=nth:$n fn.img s.esck >outn 2>errn
	st=$?
	if test $st -ne 0 || ! records outn | cmp -s rec0 -; then
		test_fail "nofail nth:$n: exit $st or op records differ"
		records outn | diff rec0 - | head -5
		bad=$((bad + 1))
	elif ! fingerprint fn.img | cmp -s fp0 -; then
		test_fail "nofail nth:$n: the files differ from the fault-free run"
		fingerprint fn.img | diff fp0 - | head -5
		bad=$((bad + 1))
	fi
	cp base.img ln.img
	"$ESCK" replay-truncate --json --es-policy=legacy --fail-alloc=nth:$n ln.img s.esck \
		>outl 2>errl
	st=$?
	case $st in
	0) ;;
	4) caught=$((caught + 1)) ;;
	*) test_fail "legacy nth:$n: exit $st (0, or 4 for a divergence)"; cat errl ;;
	esac
	test $bad -lt 5 || test_hard_error "stopping after 5 failing n"
	n=$((n + 1))
done
echo "legacy: $caught of $n_allocs faults caught as divergences"
test "$caught" -ge 1 || test_fail "legacy: no fault of $n_allocs was caught"

test_done
