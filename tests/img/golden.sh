#!/bin/sh
# golden.sh --- esck inspect's text, --json, --map and -q output on every test image against tests/img/expected
#
# For each image NAME of images.sh, runs (in the image's directory, so that
# the image is named "NAME.img" in the output)
#	esck inspect NAME.img             -> expected/NAME.text
#	esck inspect --json NAME.img      -> expected/NAME.json
#	esck inspect --map NAME.img       -> expected/NAME.map
#	esck inspect -q NAME.img          -> expected/NAME.quiet
# Each expected file is the standard output followed by "Exit status is N";
# the standard error must be empty.  With jq installed, every --json line
# must also be one valid, compact JSON object.
#
# To regenerate the expected files after a deliberate change of the output
# (review the diff before committing it!):
#	make check TESTS=tests/img/golden.sh ESCK_GOLDEN_REGEN=1
# or, with the environment of make check set by hand, "golden.sh --regen".
# Give image names as arguments (or in ESCK_GOLDEN_IMAGES) to run only those.
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs

regen=${ESCK_GOLDEN_REGEN-}
names=${ESCK_GOLDEN_IMAGES-}
for arg in "$@"; do
	case $arg in
	--regen) regen=1 ;;
	-*) test_hard_error "golden.sh: unknown option '$arg'" ;;
	*) names="$names $arg" ;;
	esac
done

. "$top_srcdir/tests/img/images.sh"
test -n "$names" || names=$IMG_NAMES
expected_dir="$top_srcdir/tests/img/expected"
test -z "$regen" || mkdir -p "$expected_dir"

mkdir -p "$TEST_TMP/img"
cd "$TEST_TMP/img" || test_hard_error "cannot cd to $TEST_TMP/img"

# golden NAME SUFFIX ARG...: run esck inspect ARG... NAME.img, compare.
golden()
{
	golden_name=$1 golden_suffix=$2
	shift 2
	"$ESCK" inspect "$@" "$golden_name.img" >"$golden_name.$golden_suffix" \
		2>"$golden_name.$golden_suffix.err" </dev/null
	echo "Exit status is $?" >>"$golden_name.$golden_suffix"
	echo "esck inspect ${*:+$* }$golden_name.img: $(tail -n 1 "$golden_name.$golden_suffix")"
	test_empty "$golden_name.$golden_suffix.err" \
		"stderr of esck inspect $* $golden_name.img"
	if test -n "$regen"; then
		cp "$golden_name.$golden_suffix" "$expected_dir/"
	elif ! test -f "$expected_dir/$golden_name.$golden_suffix"; then
		test_fail "no expected/$golden_name.$golden_suffix (see --regen)"
	else
		test_cmp "$expected_dir/$golden_name.$golden_suffix" \
			"$golden_name.$golden_suffix" \
			"esck inspect $* $golden_name.img"
	fi
}

for name in $names; do
	img_build "$name" "$TEST_TMP/img/$name.img"
	golden "$name" text
	golden "$name" json --json
	golden "$name" map --map
	golden "$name" quiet -q
	if command -v jq >/dev/null 2>&1; then
		sed '$d' "$name.json" >"$name.json.lines"
		if ! jq -c . <"$name.json.lines" >"$name.json.jq" 2>&1; then
			test_fail "$name.json is not valid JSON Lines"
			cat "$name.json.jq"
		else
			test_cmp "$name.json.lines" "$name.json.jq" \
				"$name.json (compact JSON, one object a line)"
		fi
	fi
done

test -z "$regen" || echo "expected files written to $expected_dir"
test_done
