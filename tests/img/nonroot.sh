#!/bin/sh
# nonroot.sh --- esck inspect needs no root: a readable image file inspects the same for an unprivileged user
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs

export E2FSPROGS_FAKE_TIME=1700000000

# Run as an unprivileged user: ourselves if we are one, else nobody.
if test "$(id -u)" -eq 0; then
	command -v setpriv >/dev/null 2>&1 || test_skip "setpriv not found"
	as_user()
	{
		setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
	}
	# nobody must reach the files: a world-readable directory of our own
	dir=$(mktemp -d /tmp/esck-nonroot.XXXXXX) || test_hard_error "mktemp failed"
	trap 'rm -rf "$dir"; test_cleanup' EXIT
	chmod 755 "$dir"
	# a build under /root is out of nobody's reach: run a copy
	if ! as_user test -x "$ESCK"; then
		head -c 4 "$ESCK" | grep -q ELF ||
			test_skip "$ESCK is a script out of an unprivileged user's reach"
		cp "$ESCK" "$dir/esck" && chmod 755 "$dir/esck" ||
			test_hard_error "cannot copy $ESCK"
		ESCK=$dir/esck
	fi
else
	as_user()
	{
		"$@"
	}
	dir=$TEST_TMP
fi

cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"
test_mkfs "$dir/img" 8M
yes 'no root needed' | head -c 70000 >data
printf 'write data f\nfallocate f 100 120\npunch f 20 30\nmkdir d\n' |
	test_debugfs "$dir/img"
chmod 644 "$dir/img"

"$ESCK" inspect --json --map "$dir/img" >root.out 2>root.err
root_status=$?
test "$root_status" -eq 0 || test_fail "inspect as the invoking user: exit $root_status"

as_user "$ESCK" inspect --json --map "$dir/img" >user.out 2>user.err
user_status=$?
echo "unprivileged esck inspect -> exit $user_status"
test "$user_status" -eq 0 || test_fail "inspect as an unprivileged user: exit $user_status"
test_cmp root.out user.out "unprivileged --json --map output"
test_empty user.err "unprivileged stderr"
grep -q '"type":"inode","ino":12,' user.out ||
	test_fail "the unprivileged output has no record for inode 12"

# Read-only means read-only: the image is not even opened for writing.
if test "$(id -u)" -eq 0; then
	chmod 444 "$dir/img"
	as_user "$ESCK" inspect -q "$dir/img" >ro.out 2>ro.err
	test $? -eq 0 || test_fail "inspect of a read-only image file"
	test_empty ro.err "stderr on a read-only image file"
fi

# An unreadable image: exit 8, one line naming the file.
chmod 600 "$dir/img"
if test "$(id -u)" -eq 0; then
	as_user "$ESCK" inspect "$dir/img" >noread.out 2>noread.err
	s=$?
	echo "unreadable image -> exit $s"
	test "$s" -eq 8 || test_fail "unreadable image: expected exit 8, got $s"
	test_line_count 1 noread.err "unreadable image stderr"
	grep -q "$dir/img" noread.err || test_fail "the error does not name the image"
	test_empty noread.out "unreadable image stdout"
fi

test_done
