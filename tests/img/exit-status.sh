#!/bin/sh
# exit-status.sh --- esck inspect's exit statuses and error messages: 0, 4, 8, 16, journal refusal
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs

cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"
export E2FSPROGS_FAKE_TIME=1700000000

# clean: a small ext4 image with one 3-block file (inode 12)
test_mkfs clean.img 4M
yes 'esck exit status' | head -c 3000 >data
printf 'write data f\nmkdir d\n' | test_debugfs clean.img

run_esck inspect clean.img
test_status 0 "clean image"
test_grep '^0 problems$' "$TEST_TMP/out" "clean image stdout"
test_empty "$TEST_TMP/err" "clean image stderr"

run_esck inspect -q clean.img
test_status 0 "clean image -q"
test_empty "$TEST_TMP/out" "clean image -q stdout"

run_esck inspect -i 12 -i /f -i /d clean.img
test_status 0 "clean image -i 12 -i /f -i /d"
test_grep '^inodes inspected: *2$' "$TEST_TMP/out" "-i 12 -i /f -i /d: two inodes, deduplicated"

# a planted problem: i_size 1 leaves written blocks 1 and 2 past EOF
cp clean.img bad.img
printf 'sif <12> size 1\n' | test_debugfs bad.img
run_esck inspect bad.img
test_status 4 "written blocks past EOF"
test_grep '^inode 12: MAP_WRITTEN_PAST_EOF: ' "$TEST_TMP/out" "planted problem"
test_empty "$TEST_TMP/err" "planted problem stderr"
run_esck inspect -q --json bad.img
test_status 4 "written blocks past EOF, -q --json"
test_grep '^{"type":"problem","id":"MAP_WRITTEN_PAST_EOF","severity":"error","ino":12,' \
	"$TEST_TMP/out" "planted problem, JSON"
test_grep '^{"type":"summary",' "$TEST_TMP/out" "planted problem, JSON summary"

# JSON strings: quotes, backslashes, control characters and bytes that
# are not UTF-8 are escaped; valid UTF-8 passes through
weird=$(printf 'we"ird\\\001\351\303\251.img')
cp clean.img "$weird"
run_esck inspect -q --json "$weird"
test_status 0 "image with an odd name"
test_grep '"image":"we\\"ird\\\\\\u0001\\u00e9'"$(printf '\303\251')"'\.img",' \
	"$TEST_TMP/out" "JSON escaping of the image name"
rm -f "$weird"

# operational errors: 8, one line on stderr, nothing on stdout
check_operational()
{
	test_status 8 "$1"
	test_empty "$TEST_TMP/out" "$1 stdout"
	test_line_count 1 "$TEST_TMP/err" "$1 stderr"
	test_grep "$2" "$TEST_TMP/err" "$1 stderr"
}

run_esck inspect nosuch.img
check_operational "missing image" \
	"^esck inspect: No such file or directory while opening 'nosuch.img'$"

head -c 1048576 /dev/zero >zero.img
run_esck inspect zero.img
check_operational "not an ext2/3/4 image" "^esck inspect: .* while opening 'zero.img'$"

run_esck inspect -i 99999 clean.img
check_operational "inode out of range" "^esck inspect: .*'99999'"

run_esck inspect -i /nosuch clean.img
check_operational "no such path" "^esck inspect: .*'/nosuch'"

# the journal needs recovery: refused unless --force
cp clean.img journal.img
printf 'feature needs_recovery\n' | test_debugfs journal.img
run_esck inspect journal.img
check_operational "journal needs recovery" \
	"^esck inspect: journal.img: journal needs recovery; run e2fsck -E journal_only journal.img (or mount it) to replay it, or use --force$"
run_esck inspect --force journal.img
test_status 0 "journal needs recovery, --force"
run_esck inspect -f -q journal.img
test_status 0 "journal needs recovery, -f -q"

# usage errors: 16, nothing on stdout, the message and the Try line
check_usage()
{
	test_status 16 "$1"
	test_empty "$TEST_TMP/out" "$1 stdout"
	test_line_count 2 "$TEST_TMP/err" "$1 stderr"
	test_grep "$2" "$TEST_TMP/err" "$1 stderr"
	test_grep "^Try 'esck inspect --help' for more information\.$" \
		"$TEST_TMP/err" "$1 stderr"
}

run_esck inspect --bogus clean.img
check_usage "unknown option" "^esck inspect: unrecognized option '--bogus'$"
run_esck inspect -Z clean.img
check_usage "unknown short option" "^esck inspect: invalid option -- 'Z'$"
run_esck inspect
check_usage "no image" "^esck inspect: no image given$"
run_esck inspect clean.img clean.img
check_usage "two images" "^esck inspect: too many arguments$"
run_esck inspect -i 12x clean.img
check_usage "bad -i" "^esck inspect: bad inode '12x'"
run_esck inspect -i relative/path clean.img
check_usage "relative -i path" "^esck inspect: bad inode 'relative/path'"
run_esck inspect -i
check_usage "-i without argument" "^esck inspect: option requires an argument -- 'i'$"

# help: 0, the usage line first, nothing on stderr
run_esck inspect --help
test_status 0 "--help"
sed -n 1p "$TEST_TMP/out" >"$TEST_TMP/first"
test_cmp_text "Usage: esck inspect [-fmq] [--json] [--cache-limit=N|SIZE] [-i INO|PATH]... IMAGE" \
	"$TEST_TMP/first" "--help first line"
test_empty "$TEST_TMP/err" "--help stderr"
run_esck help inspect
test_status 0 "esck help inspect"
test_grep '^Usage: esck inspect ' "$TEST_TMP/out" "esck help inspect"

test_done
