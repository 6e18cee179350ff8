# json-schema.awk --- the JSON Lines records a man page documents, read from its JSON OUTPUT section
#
# Usage: awk -f json-schema.awk PAGE.in >SCHEMA
#
# In the section ".Sh JSON OUTPUT", each record is a ".Bl" list whose items
# are
#	.It Li NAME [, NAME]... Pq Vt TYPE [, No optional]
# TYPE being string, number, object, array or boolean; the first item is
# "type", and the ".Qq RECORD" on the line after it names the record.  A
# sentence "The last record, written once, is the" followed by ".Li RECORD"
# marks the record that ends the output.
#
# Prints one line per key, in the order of the page:
#	key RECORD ORDER NAME TYPE required|optional
# one line per key of the elements of an array key whose text gives them as
# ".Li {"a":N,"b":S}" (N a number, S a string):
#	elem RECORD KEY ORDER NAME TYPE
# and one line "last RECORD" for the final record.  Anything in the section
# that looks like an item but does not parse is printed as "error LINE: TEXT"
# (the caller fails on it).

function flush_list()
{
	if (nkeys == 0)
		return
	if (record == "")
		printf "error %d: a list whose first item is not \"type\" and its .Qq\n", list_line
	for (k = 1; k <= nkeys; k++)
		printf "key %s %d %s\n", (record == "" ? "?" : record), k, keys[k]
	nkeys = 0
	for (k = 1; k <= nelems; k++)
		printf "elem %s %s\n", (record == "" ? "?" : record), elems[k]
	nelems = 0
	record = ""
}

/^\.Sh / {
	if (insec)
		flush_list()
	insec = ($0 == ".Sh JSON OUTPUT")
	next
}
!insec { next }

/^\.Bl / {
	depth++
	if (depth == 1) {
		nkeys = 0
		nelems = 0
		array_key = ""
		record = ""
		want_record = 0
		list_line = NR
	}
	next
}
/^\.El/ {
	if (depth == 1)
		flush_list()
	depth--
	next
}

# the ".Qq RECORD" after the "type" item
want_record && /^\.Qq / {
	record = $2
	want_record = 0
	next
}

depth == 1 && /^\.It / {
	want_record = 0
	if ($2 != "Li") {
		printf "error %d: %s\n", NR, $0
		next
	}
	n = 0
	type = ""
	opt = "required"
	for (i = 3; i <= NF; i++) {
		if ($i == "Pq") {
			if ($(i + 1) == "Vt")
				type = $(i + 2)
			for (j = i + 3; j <= NF; j++)
				if ($j == "optional")
					opt = "optional"
			break
		}
		if ($i != ",")
			names[++n] = $i
	}
	if (n == 0 || type !~ /^(string|number|object|array|boolean)$/) {
		printf "error %d: %s\n", NR, $0
		next
	}
	for (i = 1; i <= n; i++)
		keys[++nkeys] = names[i] " " type " " opt
	array_key = (n == 1 && type == "array") ? names[1] : ""
	if (n == 1 && names[1] == "type")
		want_record = 1
	next
}

# In the text of an array item, '.Li {"a":N,"b":S}' gives the keys of its
# elements, in order: N a number, S a string.
depth == 1 && array_key != "" && /^\.Li [{]"/ {
	t = $2
	gsub(/[{}]/, "", t)
	m = split(t, pairs, ",")
	for (i = 1; i <= m; i++) {
		if (split(pairs[i], kv, ":") != 2 || kv[1] !~ /^"[a-z_0-9]+"$/ || kv[2] !~ /^[NS]$/) {
			printf "error %d: %s\n", NR, $0
			next
		}
		gsub(/"/, "", kv[1])
		elems[++nelems] = array_key " " i " " kv[1] " " (kv[2] == "N" ? "number" : "string")
	}
	next
}

/The last record, written once, is the$/ { want_last = 1; next }
want_last && /^\.Li / { print "last", $2; want_last = 0; next }
{ want_last = 0 }
