#!/bin/sh
# completion.sh --- contrib/bash-completion/esck offers exactly the commands, options and option values esck accepts
#
# Sources the completion file in a bare bash (no bash-completion package),
# sets COMP_WORDS/COMP_CWORD as bash does and calls its function.  The
# commands come from cli/esck.c's commands[] table; the options of esck and
# of each command from the getopt_long() tables and optstrings of cli/ and
# from "--help"; an option's fixed values from the strcmp(optarg, ...)
# literals of its case in the source.  Every one must be offered, and every
# option offered must exist; every value offered must be accepted by esck.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/man-lib.sh"
test_init
test_need bash

file="$top_srcdir/contrib/bash-completion/esck"
test -r "$file" || test_hard_error "cannot read $file"

# complete WORD...: the completions for the command line WORD... (the last
# word is the one being completed, "" for a new word), one a line, sorted.
try_complete()
{
	bash --norc --noprofile -c '
		. "$1" || exit 99
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_esck esck "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		test ${#COMPREPLY[@]} -eq 0 || printf "%s\n" "${COMPREPLY[@]}"
	' bash "$file" "$@" 2>"$TEST_TMP/complete.err" | sort
	if test -s "$TEST_TMP/complete.err"; then
		test_fail "completing '$*' printed on stderr:"
		cat "$TEST_TMP/complete.err"
	fi
}

# expect_set WHAT EXPECTED_FILE ACTUAL_FILE: the same lines, order aside.
expect_set()
{
	sort -u "$2" >"$TEST_TMP/set.exp"
	sort -u "$3" >"$TEST_TMP/set.act"
	for w in $(comm -23 "$TEST_TMP/set.exp" "$TEST_TMP/set.act"); do
		test_fail "$1: '$w' is not offered"
	done
	for w in $(comm -13 "$TEST_TMP/set.exp" "$TEST_TMP/set.act"); do
		test_fail "$1: '$w' is offered but does not exist"
	done
}

# The file registers its function for esck.
bash --norc --noprofile -c '. "$1" && complete -p esck' bash "$file" \
	>"$TEST_TMP/complete-p" 2>&1 || test_fail "sourcing $file failed"
test_grep '^complete -F _esck esck$' "$TEST_TMP/complete-p" "complete -p esck"

# Commands, after "esck" and after "esck help".
cli_commands >"$TEST_TMP/cmds"
test -s "$TEST_TMP/cmds" || test_hard_error "no commands found in cli/esck.c"
{ cat "$TEST_TMP/cmds"; echo help; } >"$TEST_TMP/cmds+help"
try_complete esck '' >"$TEST_TMP/got"
expect_set "esck <TAB>" "$TEST_TMP/cmds+help" "$TEST_TMP/got"
try_complete esck help '' >"$TEST_TMP/got"
expect_set "esck help <TAB>" "$TEST_TMP/cmds" "$TEST_TMP/got"
try_complete esck --version help '' >"$TEST_TMP/got"
expect_set "esck --version help <TAB>" "$TEST_TMP/cmds" "$TEST_TMP/got"
try_complete esck ins >"$TEST_TMP/got"
printf 'inspect\n' >"$TEST_TMP/exp"
expect_set "esck ins<TAB>" "$TEST_TMP/exp" "$TEST_TMP/got"

# The options of esck ("" below) and of each command: long ones from the
# getopt_long() table ("--name=" when they require an argument) and from
# --help, short ones from the optstring.
nopts=0
for cmd in '' $(cat "$TEST_TMP/cmds"); do
	label="esck${cmd:+ $cmd}"
	{
		cli_long_opts "$cmd" | awk '{ print "--" $1 ($2 == "required" ? "=" : "") }'
		cli_short_opts "$cmd" | sed 's/:$//; s/^/-/'
	} | sort -u >"$TEST_TMP/opts.code"
	test -s "$TEST_TMP/opts.code" || test_hard_error "no options found for $label"
	# what --help lists must be in the table (and so expected)
	for opt in $(help_long_opts "$cmd"); do
		grep -q -e "^$opt=\{0,1\}\$" "$TEST_TMP/opts.code" ||
			test_fail "$label --help lists $opt, not in the getopt_long() table"
	done
	# shellcheck disable=SC2086 # no command: no word
	try_complete esck $cmd - >"$TEST_TMP/got"
	expect_set "$label -<TAB>" "$TEST_TMP/opts.code" "$TEST_TMP/got"
	grep -e '^--' "$TEST_TMP/opts.code" >"$TEST_TMP/opts.long"
	# shellcheck disable=SC2086
	try_complete esck $cmd -- >"$TEST_TMP/got"
	expect_set "$label --<TAB>" "$TEST_TMP/opts.long" "$TEST_TMP/got"
	nopts=$((nopts + $(wc -l <"$TEST_TMP/opts.code")))
	test -n "$cmd" || continue

	# the options still come after other words (getopt_long() permutes)
	try_complete esck "$cmd" -q some.img -- >"$TEST_TMP/got"
	expect_set "$label -q some.img --<TAB>" "$TEST_TMP/opts.long" "$TEST_TMP/got"

	# Fixed values: the literals compared with optarg in the option's
	# case, found through the OPT_ constant of its table entry.
	src=$(cli_src "$cmd")
	for opt in $(cli_long_opts "$cmd" | awk '$2 == "required" { print $1 }'); do
		awk -v opt="$opt" '
			match($0, /[{][[:space:]]*"[a-z0-9-]+",[^,]*,[^,]*,[[:space:]]*[A-Z_]+/) {
				e = substr($0, RSTART, RLENGTH)
				n = e; sub(/^[{][[:space:]]*"/, "", n); sub(/".*/, "", n)
				k = e; sub(/.*[[:space:],]/, "", k)
				if (n == opt) key = k
			}
			/^[[:space:]]*(case|default)[[:space:]:]/ { incase = key != "" && index($0, "case " key ":") }
			incase {
				s = $0
				while (match(s, /strcmp\(optarg, *"[^"]*"\)/)) {
					v = substr(s, RSTART, RLENGTH)
					sub(/^strcmp\(optarg, *"/, "", v); sub(/"\)$/, "", v)
					print v
					s = substr(s, RSTART + RLENGTH)
				}
			}' "$src" >"$TEST_TMP/values.code"
		try_complete esck "$cmd" "--$opt" = '' >"$TEST_TMP/got"
		if test -s "$TEST_TMP/values.code"; then
			expect_set "$label --$opt=<TAB>" "$TEST_TMP/values.code" "$TEST_TMP/got"
		fi
		# the same as one word (no "=" in COMP_WORDBREAKS): the
		# completions keep "--opt=" in front, since they replace it
		try_complete esck "$cmd" "--$opt=" >"$TEST_TMP/got1"
		sed "s/^/--$opt=/" "$TEST_TMP/got" >"$TEST_TMP/got1.exp"
		test_cmp "$TEST_TMP/got1.exp" "$TEST_TMP/got1" "$label --$opt=<TAB> as one word"
		# every value offered is accepted (a prefix such as "nth:"
		# with a number after it)
		for v in $(cat "$TEST_TMP/got"); do
			ok=
			for suffix in '' 2 0.5; do
				case $v in *:) ;; *) test -z "$suffix" || continue ;; esac
				if "$ESCK" "$cmd" "--$opt=$v$suffix" --help >/dev/null 2>&1; then
					ok=1
					break
				fi
			done
			test -n "$ok" || test_fail "$label --$opt=$v (offered) is refused by esck"
		done
	done
done
echo "$nopts options checked"

# Arguments that are not options: file names.
mkdir "$TEST_TMP/files"
: >"$TEST_TMP/files/demo.img"
: >"$TEST_TMP/files/script.txt"
cd "$TEST_TMP/files" || test_hard_error "cannot cd to $TEST_TMP/files"
printf 'demo.img\n' >"$TEST_TMP/exp"
try_complete esck inspect -m de >"$TEST_TMP/got"
expect_set "esck inspect -m de<TAB>" "$TEST_TMP/exp" "$TEST_TMP/got"
printf 'script.txt\n' >"$TEST_TMP/exp"
try_complete esck replay-truncate demo.img scr >"$TEST_TMP/got"
expect_set "esck replay-truncate demo.img scr<TAB>" "$TEST_TMP/exp" "$TEST_TMP/got"
# the undo file is one
printf 'demo.img\n' >"$TEST_TMP/exp"
try_complete esck replay-truncate -z de >"$TEST_TMP/got"
expect_set "esck replay-truncate -z de<TAB>" "$TEST_TMP/exp" "$TEST_TMP/got"
try_complete esck replay-truncate --undo = de >"$TEST_TMP/got"
expect_set "esck replay-truncate --undo=de<TAB>" "$TEST_TMP/exp" "$TEST_TMP/got"
printf '%s\n' --undo=demo.img >"$TEST_TMP/exp"
try_complete esck replay-truncate --undo=de >"$TEST_TMP/got"
expect_set "esck replay-truncate --undo=de<TAB> (one word)" "$TEST_TMP/exp" "$TEST_TMP/got"
# an inode argument is not a file name of this machine
try_complete esck inspect -i de >"$TEST_TMP/got"
test_empty "$TEST_TMP/got" "esck inspect -i de<TAB>"

test_done
