#!/bin/sh
# cache-limit.sh --- esck inspect --cache-limit: the cache stays within the bound, no false problem, bad values refused
. "$top_srcdir/tests/lib.sh"
test_init
test_need mke2fs debugfs

cd "$TEST_TMP" || test_hard_error "cannot cd to $TEST_TMP"
export E2FSPROGS_FAKE_TIME=1700000000

# /frag: 4 MiB with every odd block punched: 2048 extents, 4095 cache
# entries (written and hole); /small: a second inode for the reclaim to visit.
test_mkfs img 16M
yes 'cache limit' | head -c 4194304 >data
{
	echo "write data frag"
	awk 'BEGIN { for (i = 1; i < 4096; i += 2) printf "punch frag %d %d\n", i, i }'
	echo "write data small"
} | test_debugfs img

# summary_field FILE NAME: a number of the summary record.
summary_field()
{
	sed -n 's/.*"type":"summary".*"'"$2"'":\([0-9]*\).*/\1/p' "$1"
}

run_esck inspect --json -q img
test_status 0 "no limit"
cp "$TEST_TMP/out" unlimited.json
peak=$(summary_field unlimited.json cache_entries)
test -n "$peak" && test "$peak" -ge 4095 ||
	test_fail "no limit: peak cache entries '$peak', expected at least 4095"

for limit in 100:100 1000:1000 8K:204 64KiB:1638; do
	arg=${limit%%:*} bound=${limit#*:}
	run_esck inspect --json -q --cache-limit="$arg" img
	test_status 0 "--cache-limit=$arg"
	grep -q '"type":"problem"' "$TEST_TMP/out" &&
		test_fail "--cache-limit=$arg: a problem reported on a clean image"
	peak=$(summary_field "$TEST_TMP/out" cache_entries)
	test -n "$peak" && test "$peak" -le $((bound + 1)) ||
		test_fail "--cache-limit=$arg: peak cache entries '$peak', bound $bound"
	test "$peak" -ge $((bound / 2)) ||
		test_fail "--cache-limit=$arg: peak '$peak' far below the bound: is the cache used?"
	# everything but the cache figures is the same as without a limit
	sed 's/"cache_[a-z]*":[0-9]*//g' unlimited.json >a
	sed 's/"cache_[a-z]*":[0-9]*//g' "$TEST_TMP/out" >b
	test_cmp a b "--cache-limit=$arg: output apart from the cache figures"
done

# A problem outside the cache is still found under a tight limit: /small
# loses its blocks from the bitmap.
blk=$(debugfs -R "bmap small 0" img 2>/dev/null)
printf 'freeb %s\n' "$blk" | test_debugfs img
run_esck inspect --json -q --cache-limit=50 img
test_status 4 "--cache-limit=50 on a corrupted image"
test_grep '"id":"MAP_NOT_IN_BITMAP"' "$TEST_TMP/out" "--cache-limit=50 problems"

# Bad values: a usage error naming the value, nothing on stdout.
for bad in 0 x 10Q 1B 5KB2 -3 0K 18446744073709551616 16G99; do
	run_esck inspect --cache-limit="$bad" img
	test_status 16 "--cache-limit=$bad"
	test_grep "bad cache limit '$bad'" "$TEST_TMP/err" "--cache-limit=$bad stderr"
	test_empty "$TEST_TMP/out" "--cache-limit=$bad stdout"
done

test_done
