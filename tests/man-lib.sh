# man-lib.sh --- read commands and options from cli/'s sources and --help, for the man page and completion tests (sourced)
#
# After ". tests/lib.sh":
#	. "$top_srcdir/tests/man-lib.sh"
#	cli_commands                 inspect, replay-truncate (cli/esck.c)
#	cli_long_opts inspect        "force no", "inode required", ...
#	cli_short_opts inspect       "f", "h", "i:", ...
#	help_long_opts inspect       --force, --inode, ... from esck inspect --help
#	page_long_opts PAGE          the long options an OPTIONS section documents
# COMMAND "" means esck's global options (cli/esck.c).

# cli_src COMMAND: the source file that parses COMMAND's options.
cli_src()
{
	if test -z "$1"; then
		echo "$top_srcdir/cli/esck.c"
	else
		echo "$top_srcdir/cli/cmd-$1.c"
	fi
}

# cli_commands: the names of esck's commands[] table, one a line.
cli_commands()
{
	sed -n 's/.*\.name = "\([a-z][a-z-]*\)".*/\1/p' "$top_srcdir/cli/esck.c"
}

# cli_long_opts COMMAND: "NAME no|required|optional" for each entry of the
# getopt_long() table(s) of COMMAND's source.
cli_long_opts()
{
	sed -n -E 's/.*[{][[:space:]]*"([a-z][a-z0-9-]*)",[[:space:]]*(no|required|optional)_argument.*/\1 \2/p' \
		"$(cli_src "$1")"
}

# cli_short_opts COMMAND: the letters of the optstring given to
# getopt_long(), one a line, followed by ":" when they take an argument.
cli_short_opts()
{
	sed -n -E 's/.*getopt_long[(][^,]*,[^,]*,[[:space:]]*"([^"]*)".*/\1/p' "$(cli_src "$1")" |
		sed 's/^[+-]//' | fold -w1 |
		awk '/^:$/ { if (n) list[n] = list[n] ":"; next }
		     NF { list[++n] = $0 }
		     END { for (i = 1; i <= n; i++) print list[i] }'
}

# help_long_opts COMMAND: the long options "esck [COMMAND] --help" lists.
help_long_opts()
{
	# shellcheck disable=SC2086 # no command: no word
	"$ESCK" $1 --help | grep -o -e '--[a-z][a-z0-9-]*' | sort -u
}

# page_long_opts PAGE: the long options (without "--") that PAGE's OPTIONS
# section documents in its ".It Fl ..." items.
page_long_opts()
{
	awk '/^\.Sh / { on = ($0 == ".Sh OPTIONS"); next }
	     on && /^\.It / {
		for (i = 2; i < NF; i++)
			if ($i == "Fl" && $(i + 1) ~ /^-[a-z]/) {
				o = substr($(i + 1), 2)
				sub(/[^a-z0-9-].*/, "", o)
				print o
			}
	     }' "$1" | sort -u
}

# page_short_opts PAGE: the short options of PAGE's OPTIONS items.
page_short_opts()
{
	awk '/^\.Sh / { on = ($0 == ".Sh OPTIONS"); next }
	     on && /^\.It / {
		for (i = 2; i < NF; i++)
			if ($i == "Fl" && $(i + 1) ~ /^[A-Za-z]$/)
				print $(i + 1)
	     }' "$1" | sort -u
}
