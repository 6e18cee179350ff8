# lib-engine.sh --- helpers for the inspect engine's image tests (sourced after tests/lib.sh)

DRIVER=$top_builddir/tests/engine/inspect-driver

# engine_need: skip unless the driver and the e2fsprogs tools are here.
engine_need()
{
	test -x "$DRIVER" || test_hard_error "$DRIVER not built"
	test_need mke2fs debugfs dumpe2fs e2fsck awk
	# Deterministic file contents without /dev/urandom.
	awk 'BEGIN { for (i = 0; i < 40000; i++) printf "%08d line of test data\n", i }' \
		>"$TEST_TMP/data" || test_hard_error "cannot write test data"
	head -c 300000 "$TEST_TMP/data" >"$TEST_TMP/big"
	head -c 5000 "$TEST_TMP/data" >"$TEST_TMP/small"
}

# engine_populate IMAGE: a few files of every kind, written by debugfs.
engine_populate()
{
	{
		echo "write $TEST_TMP/big big"
		echo "write $TEST_TMP/small small"
		echo "write $TEST_TMP/small small2"
		echo "write /dev/null empty"
		echo "mkdir d"
		echo "write $TEST_TMP/small d/s"
		echo "symlink fast /etc/passwd"
		echo "symlink slow /$(printf '%0100d' 0)"
		echo "mknod fifo p"
		echo "mknod cdev c 1 3"
		echo "mknod bdev b 7 0"
		# A fragmented file: every other block of "frag" punched.
		echo "write $TEST_TMP/big frag"
		i=1
		while test $i -lt 60; do
			echo "punch frag $i $i"
			i=$((i + 2))
		done
	} | test_debugfs "$1"
}

# engine_run ARG...: the driver's output in $TEST_TMP/out, its status in $status.
engine_run()
{
	"$DRIVER" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	status=$?
	echo "inspect-driver $* -> exit $status"
}

# engine_value KEY LINE_PREFIX: the value of KEY=... on the first line starting with LINE_PREFIX.
engine_value()
{
	awk -v k="$1" -v p="$2" 'index($0, p) == 1 {
		for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit }
	}' "$TEST_TMP/out"
}
