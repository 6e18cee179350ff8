# json-check.awk --- check JSON Lines output against the records a man page documents (json-schema.awk's output)
#
# Usage: awk -v schema=SCHEMA -f json-check.awk OUTPUT...
#
# Each line of each OUTPUT must be one JSON object (parsed strictly here:
# no jq needed) whose first key is "type", naming a record of SCHEMA, and
#   - every key is documented for that record, with the JSON type given;
#   - numbers are non-negative integers, as the pages promise;
#   - keys come in the documented order, none twice;
#   - every key not marked optional is present;
#   - the record SCHEMA marks "last" is the last line, and the only one;
#   - the elements of an array with a template (SCHEMA's elem lines) are
#     objects with exactly its keys, in order, of its types.
# Other nested objects and arrays are checked for JSON syntax only.
# Prints "FILE:LINE: problem" for each violation, then "N records, M keys"
# on the last line; exits 1 if anything was wrong.

BEGIN {
	if (schema == "") {
		print "json-check.awk: no schema given" >"/dev/stderr"
		fatal = 1
		exit 2
	}
	while ((getline l < schema) > 0) {
		split(l, f, " ")
		if (f[1] == "key") {
			k = f[2] SUBSEP f[4]
			ktype[k] = f[5]
			korder[k] = f[3] + 0
			kreq[k] = (f[6] == "required")
			nk[f[2]]++
			kname[f[2], f[3] + 0] = f[4]
			known[f[2]] = 1
			nschema++
		} else if (f[1] == "elem") {
			k = f[2] SUBSEP f[3]
			elemcount[k]++
			elemname[k, f[4] + 0] = f[5]
			elemtype[k, f[4] + 0] = f[6]
		} else if (f[1] == "last") {
			last = f[2]
		}
	}
	close(schema)
	if (!nschema) {
		print "json-check.awk: no record in " schema >"/dev/stderr"
		fatal = 1
		exit 2
	}
	for (i = 1; i < 32; i++)
		ctl = ctl sprintf("%c", i)
	hex = "0123456789abcdefABCDEF"
	bad = 0
	nrec = 0
	nkeys = 0
}

function complain(msg)
{
	printf "%s:%d: %s\n", FILENAME, FNR, msg
	bad++
}

# The parser works on c[1..n], the characters of the line, from pos.
function ws()
{
	while (pos <= n && (c[pos] == " " || c[pos] == "\t"))
		pos++
}

# A string at pos; returns its raw text (escapes kept) or sets err.
function pstring(   start, ch)
{
	if (c[pos] != "\"") {
		err = "string expected at column " pos
		return ""
	}
	start = ++pos
	while (pos <= n) {
		ch = c[pos]
		if (ch == "\"") {
			pos++
			return substr(line, start, pos - 1 - start)
		}
		if (ch == "\\") {
			pos++
			ch = c[pos]
			if (ch == "u") {
				if (!index(hex, c[pos + 1]) || !index(hex, c[pos + 2]) ||
				    !index(hex, c[pos + 3]) || !index(hex, c[pos + 4])) {
					err = "bad \\u escape at column " pos
					return ""
				}
				pos += 5
				continue
			}
			if (index("\"\\/bfnrt", ch) == 0 || ch == "") {
				err = "bad escape at column " pos
				return ""
			}
			pos++
			continue
		}
		if (index(ctl, ch)) {
			err = "raw control character in a string at column " pos
			return ""
		}
		pos++
	}
	err = "unterminated string"
	return ""
}

# A value at pos; returns its JSON type ("number-" for a number that is not
# a non-negative integer) or sets err.
function pvalue(lvl, tmpl,   ch, start, t, num)
{
	ws()
	ch = c[pos]
	if (ch == "\"") {
		pstring()
		return "string"
	}
	if (ch == "{")
		return pcontainer("}", lvl, tmpl)
	if (ch == "[")
		return pcontainer("]", lvl, tmpl)
	if (ch == "-" || index("0123456789", ch)) {
		start = pos
		while (pos <= n && index("+-0123456789.eE", c[pos]))
			pos++
		num = substr(line, start, pos - start)
		if (num ~ /^(0|[1-9][0-9]*)$/)
			return "number"
		if (num ~ /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/)
			return "number-"
		err = "bad number '" num "'"
		return ""
	}
	if (substr(line, pos, 4) == "true") {
		pos += 4
		return "boolean"
	}
	if (substr(line, pos, 5) == "false") {
		pos += 5
		return "boolean"
	}
	if (substr(line, pos, 4) == "null") {
		pos += 4
		return "null"
	}
	err = "value expected at column " pos
	return ""
}

# An object or array at pos (closer is its closing character).  lvl is its
# depth: 2 for the value of a record's key, 3 for an element of that value.
# The elements of an array whose key has a template (elem lines) are
# checked against it: tmpl is "RECORD SUBSEP KEY", or "".
function pcontainer(closer, lvl, tmpl,   first, key, t, i, nel)
{
	pos++
	first = 1
	nel = 0
	if (lvl == 3)
		enk = 0
	for (;;) {
		ws()
		if (c[pos] == closer && first) {
			pos++
			break
		}
		key = ""
		if (closer == "}") {
			key = pstring()
			if (err != "")
				return ""
			ws()
			if (c[pos] != ":") {
				err = "':' expected at column " pos
				return ""
			}
			pos++
		}
		t = pvalue(lvl + 1, lvl == 2 ? tmpl : "")
		if (err != "")
			return ""
		if (lvl == 3 && tmpl != "") {
			ek[++enk] = key
			et[enk] = t
		}
		if (lvl == 2 && closer == "]" && tmpl != "") {
			nel++
			if (t != "object")
				complain(tmpl_name(tmpl) " element " nel ": " t ", not an object")
		}
		ws()
		first = 0
		if (c[pos] == ",") {
			pos++
			continue
		}
		if (c[pos] == closer) {
			pos++
			break
		}
		err = "',' or '" closer "' expected at column " pos
		return ""
	}
	if (lvl == 3 && tmpl != "")
		check_elem(tmpl)
	return closer == "}" ? "object" : "array"
}

function tmpl_name(tmpl,   p)
{
	split(tmpl, p, SUBSEP)
	return p[1] " \"" p[2] "\""
}

# The keys ek[1..enk] (types et[]) of one element against the template.
function check_elem(tmpl,   i, n)
{
	n = elemcount[tmpl]
	if (enk != n)
		complain(tmpl_name(tmpl) ": an element with " enk " keys, documented with " n)
	for (i = 1; i <= n && i <= enk; i++) {
		if (ek[i] != elemname[tmpl, i])
			complain(tmpl_name(tmpl) ": element key " i " is \"" ek[i] "\", documented \"" elemname[tmpl, i] "\"")
		else if (et[i] != elemtype[tmpl, i] && !(et[i] == "number-" && elemtype[tmpl, i] == "number"))
			complain(tmpl_name(tmpl) " \"" ek[i] "\": " et[i] ", documented as " elemtype[tmpl, i])
		else if (et[i] == "number-")
			complain(tmpl_name(tmpl) " \"" ek[i] "\": not a non-negative integer")
	}
}

{
	if (FNR == 1) {
		if (prevfile != "" && last != "" && !seen_last) {
			printf "%s: does not end with a %s record\n", prevfile, last
			bad++
		}
		seen_last = 0
		prevfile = FILENAME
	}
	line = $0
	n = split(line, c, "")
	pos = 1
	err = ""
	nrec++
	if (seen_last)
		complain("a record after the " last " record")
	ws()
	if (c[pos] != "{") {
		complain("not a JSON object")
		next
	}
	pos++
	rec = ""
	prev = 0
	split("", have)
	nfield = 0
	for (;;) {
		ws()
		if (c[pos] == "}" && nfield == 0) {
			pos++
			break
		}
		key = pstring()
		if (err != "")
			break
		ws()
		if (c[pos] != ":") {
			err = "':' expected at column " pos
			break
		}
		pos++
		vstart = pos
		t = pvalue(2, rec != "" && rec != "?" && ((rec SUBSEP key) in elemcount) ? rec SUBSEP key : "")
		if (err != "")
			break
		nfield++
		nkeys++
		if (nfield == 1) {
			if (key != "type" || t != "string") {
				complain("the first key is not \"type\" with a string")
				rec = "?"
			} else {
				rec = substr(line, vstart + 1, pos - vstart - 2)
				if (!(rec in known)) {
					complain("record type \"" rec "\" is not documented")
					rec = "?"
				}
			}
		}
		if (rec != "?") {
			k = rec SUBSEP key
			if (!(k in ktype)) {
				complain("key \"" key "\" is not documented for " rec " records")
			} else {
				if (t == "number-" && ktype[k] == "number")
					complain(rec " \"" key "\": not a non-negative integer")
				else if (t != ktype[k] && !(t == "number-" && ktype[k] == "number"))
					complain(rec " \"" key "\": " t ", documented as " ktype[k])
				if (key in have)
					complain(rec " \"" key "\" given twice")
				else if (korder[k] < prev)
					complain(rec " \"" key "\" out of the documented order")
				have[key] = 1
				prev = korder[k]
			}
		}
		ws()
		if (c[pos] == ",") {
			pos++
			continue
		}
		if (c[pos] == "}") {
			pos++
			break
		}
		err = "',' or '}' expected at column " pos
		break
	}
	if (err != "") {
		complain("not JSON: " err)
		next
	}
	ws()
	if (pos <= n)
		complain("text after the object at column " pos)
	if (rec == "") {
		complain("an empty object")
		next
	}
	if (rec == "?")
		next
	for (i = 1; i <= nk[rec]; i++) {
		key = kname[rec, i]
		if (kreq[rec SUBSEP key] && !(key in have))
			complain(rec " record without \"" key "\"")
	}
	if (rec == last)
		seen_last = 1
}

END {
	if (fatal)
		exit 2
	if (prevfile != "" && last != "" && !seen_last) {
		printf "%s: does not end with a %s record\n", prevfile, last
		bad++
	}
	printf "%d records, %d keys\n", nrec, nkeys
	exit bad ? 1 : 0
}
