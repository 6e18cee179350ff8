#!/bin/sh
# json-schema.sh --- every --json record of inspect and replay-truncate matches the fields, types and order their pages document
#
# The schema of each command is read from the JSON OUTPUT section of its
# page (tests/helpers/json-schema.awk); real outputs are checked against it
# by tests/helpers/json-check.awk (a strict JSON parser in awk: no jq, no
# python needed):
#   esck inspect: the golden outputs of tests/img/expected/*.json, and
#     "--json --map" and "-q --json" on every image of tests/img/images.sh
#     and on every planted corruption of tests/corrupt/plant.sh;
#   esck replay-truncate: scripts with every op, kernel refusals, a
#     divergence (a planted tree problem), --verify=end, -n, and the orphan
#     list without a script.
# And statically: every key and record type that cli/cmd-CMD.c writes is
# documented, every documented key is written by the code, and every
# documented record type occurs in the outputs.
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs

helpers="$top_srcdir/tests/helpers"

# schema CMD: $TEST_TMP/CMD.schema from esck-CMD(8).
schema()
{
	page="$top_srcdir/man/esck-$1.8.in"
	test -r "$page" || test_hard_error "cannot read $page"
	awk -f "$helpers/json-schema.awk" "$page" >"$TEST_TMP/$1.schema"
	if grep '^error' "$TEST_TMP/$1.schema"; then
		test_fail "esck-$1(8) JSON OUTPUT: items that do not parse (see above)"
	fi
	grep -q '^key ' "$TEST_TMP/$1.schema" ||
		test_fail "esck-$1(8) JSON OUTPUT documents no key"
	grep -q '^last ' "$TEST_TMP/$1.schema" ||
		test_fail "esck-$1(8) JSON OUTPUT names no last record"
	grep -q '^key ? ' "$TEST_TMP/$1.schema" &&
		test_fail "esck-$1(8) JSON OUTPUT: a list without its record type"
	echo "esck-$1(8): $(awk '$1 == "key" { r[$2] = 1; n++ } END { for (k in r) m++; print m " records, " n " keys" }' "$TEST_TMP/$1.schema")"
}

# check CMD WHAT FILE...: the outputs against CMD's schema.
check()
{
	check_cmd=$1 check_what=$2
	shift 2
	for check_f in "$@"; do
		test -s "$check_f" || test_fail "$check_what: $check_f is empty"
		cat "$check_f" >>"$TEST_TMP/$check_cmd.all"
	done
	if awk -v schema="$TEST_TMP/$check_cmd.schema" -f "$helpers/json-check.awk" \
		"$@" >"$TEST_TMP/check.out" 2>&1; then
		echo "$check_what: $(tail -n 1 "$TEST_TMP/check.out")"
	else
		cat "$TEST_TMP/check.out"
		test_fail "$check_what: records that do not match esck-$check_cmd(8)"
	fi
}

# static CMD: the keys cli/cmd-CMD.c writes against the page.
static()
{
	src="$top_srcdir/cli/cmd-$1.c"
	sed -n -E 's/.*json_(string|u64|object_begin|array_begin)\([^,]*, *"([a-z_0-9]+)".*/\2 \1/p' \
		"$src" | sort -u >"$TEST_TMP/$1.code"
	test -s "$TEST_TMP/$1.code" || test_hard_error "no JSON keys found in $src"
	# "inline" keys: those of an object written out in the section's
	# text, such as the inode record's {"lblk":N,...}
	awk '/^\.Sh / { on = ($0 == ".Sh JSON OUTPUT"); next } on' \
		"$top_srcdir/man/esck-$1.8.in" | grep -o '"[a-z_0-9]*":' | tr -d '":' |
		sort -u >"$TEST_TMP/$1.inline"
	while read -r key kind; do
		case $kind in
		u64) type=number ;;
		string) type=string ;;
		object_begin) type=object ;;
		array_begin) type=array ;;
		esac
		if awk -v k="$key" -v t="$type" '$1 == "key" && $4 == k && $5 == t { f = 1 } END { exit !f }' \
			"$TEST_TMP/$1.schema"; then
			:
		elif grep -q -x -e "$key" "$TEST_TMP/$1.inline"; then
			:
		else
			test_fail "cli/cmd-$1.c writes \"$key\" ($type), not documented in esck-$1(8) JSON OUTPUT"
		fi
	done <"$TEST_TMP/$1.code"
	cut -d' ' -f1 "$TEST_TMP/$1.code" >"$TEST_TMP/$1.code.keys"
	awk '$1 == "key" { print $4 }' "$TEST_TMP/$1.schema" | sort -u |
		while read -r key; do
			grep -q -x -e "$key" "$TEST_TMP/$1.code.keys" ||
				echo "$key"
		done >"$TEST_TMP/$1.ghosts"
	for key in $(cat "$TEST_TMP/$1.ghosts"); do
		test_fail "esck-$1(8) documents \"$key\", which cli/cmd-$1.c never writes"
	done
	# record types: json_string(..., "type", "NAME")
	sed -n -E 's/.*json_string\([^,]*, *"type", *"([a-z_]+)"\).*/\1/p' "$src" |
		sort -u >"$TEST_TMP/$1.code.records"
	awk '$1 == "key" { print $2 }' "$TEST_TMP/$1.schema" | sort -u >"$TEST_TMP/$1.page.records"
	for r in $(comm -23 "$TEST_TMP/$1.code.records" "$TEST_TMP/$1.page.records"); do
		test_fail "cli/cmd-$1.c writes \"$r\" records, not documented in esck-$1(8)"
	done
	for r in $(comm -13 "$TEST_TMP/$1.code.records" "$TEST_TMP/$1.page.records"); do
		test_fail "esck-$1(8) documents \"$r\" records, which cli/cmd-$1.c never writes"
	done
}

# seen CMD: every documented record type occurred in the checked outputs.
seen()
{
	for r in $(cat "$TEST_TMP/$1.page.records"); do
		grep -q "^{\"type\":\"$r\"" "$TEST_TMP/$1.all" ||
			test_fail "no $r record in the esck $1 outputs checked"
	done
}

schema inspect
schema replay-truncate
static inspect
static replay-truncate

# ---- esck inspect ----

# the golden outputs, as checked in (without golden.sh's exit status line)
mkdir "$TEST_TMP/golden"
for f in "$top_srcdir"/tests/img/expected/*.json; do
	sed '$d' "$f" >"$TEST_TMP/golden/$(basename "$f")"
done
check inspect "golden tests/img/expected/*.json" "$TEST_TMP"/golden/*.json

# every test image, with maps, and quiet
. "$top_srcdir/tests/img/images.sh"
mkdir -p "$TEST_TMP/img"
cd "$TEST_TMP/img" || test_hard_error "cannot cd to $TEST_TMP/img"
for name in $IMG_NAMES; do
	img_build "$name" "$TEST_TMP/img/$name.img"
	"$ESCK" inspect --json --map "$name.img" >"$name.map.json" 2>"$name.err" </dev/null
	"$ESCK" inspect -q --json "$name.img" >"$name.quiet.json" 2>>"$name.err" </dev/null
	test_empty "$name.err" "esck inspect $name.img stderr"
done
check inspect "esck inspect --json --map on the test images" "$TEST_TMP"/img/*.map.json
check inspect "esck inspect -q --json on the test images" "$TEST_TMP"/img/*.quiet.json

# every planted corruption (problems with every optional key)
mkdir "$TEST_TMP/pl"
PL_TMP=$TEST_TMP/pl
. "$top_srcdir/tests/corrupt/plant.sh"
E2FSPROGS_FAKE_TIME=1700000000
export E2FSPROGS_FAKE_TIME
echo "$PL_CASES" >"$PL_TMP/cases"
while read -r case base rest; do
	test -n "$case" || continue
	test -f "$PL_TMP/$base.img" ||
		pl_make_base "$base" "$PL_TMP/$base.img" ||
		test_hard_error "cannot build the base image $base"
	cp "$PL_TMP/$base.img" "$PL_TMP/$case.img"
	"plant_$case" "$PL_TMP/$case.img" >/dev/null 2>&1 ||
		{ echo "cannot plant $case"; continue; }
	"$ESCK" inspect --json --map "$PL_TMP/$case.img" >"$PL_TMP/$case.json" \
		2>/dev/null </dev/null
	echo "$case" >>"$PL_TMP/planted"
done <"$PL_TMP/cases"
test -s "$PL_TMP/planted" || test_hard_error "no corruption could be planted"
check inspect "esck inspect --json --map on $(wc -l <"$PL_TMP/planted") planted corruptions" \
	"$PL_TMP"/*.json
seen inspect

# ---- esck replay-truncate ----

mkdir "$TEST_TMP/rp"
cd "$TEST_TMP/rp" || test_hard_error "cannot cd to $TEST_TMP/rp"
test_mkfs a.img 8M
img_data f.data 102400
printf 'write f.data f\nmkdir d\n' | test_debugfs a.img
cp a.img base.img

# run_replay NAME ARG...: esck replay-truncate --json ARG... >NAME.json
run_replay()
{
	run_replay_name=$1
	shift
	"$ESCK" replay-truncate --json "$@" >"$run_replay_name.json" 2>"$run_replay_name.err" </dev/null
	echo "esck replay-truncate --json $* -> exit $?"
}

cat >all.s <<EOF
open nosuch
open /f
fpunch 5000 20000
fpunch 0 0
falloc -k 200000 10000
falloc 0 4096
truncate 50000
truncate 0x100000000000000
open -f /new
falloc 0 64k
pwrite 100k 5000
pwrite -S 0x41 0 10
fsync
inode 2
fpunch 0 1k
inode 12
truncate 0
EOF
run_replay ops a.img all.s
cp base.img a.img
run_replay end --verify=end a.img all.s
cp base.img a.img
run_replay dry -n a.img all.s
# with an undo file, whose notice goes to stderr: stdout stays JSON
cp base.img a.img
run_replay undo -z undo.e2undo a.img all.s

# a divergence: the legacy policy loses DELAYED entries when allocations
# fail, and the verification catches it
cp base.img dv.img
printf 'open -f /dv\npwrite 0 40000\nfpunch 3000 5000\nfpunch 20000 1024\npwrite 30000 9000\n' >dv.s
run_replay diverge --es-policy=legacy --fail-alloc=every:2 dv.img dv.s
grep -q '"type":"divergence"' diverge.json ||
	test_fail "no divergence record from the legacy policy under failing allocations"
# a damaged inode: its ops are refused, with the problem in the error
cp "$PL_TMP/zero_length.img" zl.img ||
	test_hard_error "no zero_length image from plant.sh"
printf 'open /small\nfpunch 0 1k\n' >zl.s
run_replay damaged zl.img zl.s
grep -q 'TREE_ZERO_LENGTH' damaged.json ||
	test_fail "no refusal naming TREE_ZERO_LENGTH on a damaged inode"
# and one from the legacy policy losing a delayed entry (the write's
# second allocation: its first caches the hole written into)
cp base.img a.img
printf 'open -f /g\npwrite 0 40k\nfpunch 4k 1k\nfsync\n' >legacy.s
run_replay legacy --es-policy=legacy --fail-alloc=nth:2 a.img legacy.s

# the orphan list, without a script: /f cut short, /g unlinked while open
cp base.img o.img
printf 'write f.data g\n' | test_debugfs o.img
f=$(debugfs -R 'stat /f' o.img 2>/dev/null | sed -n 's/^Inode: *\([0-9]*\).*/\1/p')
g=$(debugfs -R 'stat /g' o.img 2>/dev/null | sed -n 's/^Inode: *\([0-9]*\).*/\1/p')
test -n "$f" && test -n "$g" || test_hard_error "cannot find the inodes of /f and /g"
test_debugfs o.img <<EOF
sif /f size 50000
sif /f dtime $g
unlink /g
sif <$g> links_count 0
sif <$g> dtime 0
ssv last_orphan $f
EOF
run_replay orphans o.img
grep -q '"type":"orphan","ino":'"$f"',"action":"truncate"' orphans.json ||
	test_fail "no orphan truncate record"
grep -q '"type":"orphan","ino":'"$g"',"action":"release"' orphans.json ||
	test_fail "no orphan release record"

check replay-truncate "esck replay-truncate --json" ops.json end.json dry.json \
	undo.json diverge.json legacy.json orphans.json
seen replay-truncate

test_done
