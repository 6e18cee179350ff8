#!/bin/sh
# install.sh --- "make install DESTDIR=..." puts esck, its four pages and the bash completion where man and bash find them
#
# Runs "make install" of the build tree into a scratch DESTDIR (nothing is
# built: make check has built everything already; the jobserver and the
# variables of the calling make are not passed on), then checks that
#   - sbin/esck runs and prints the version of the pages;
#   - man8/esck.8, man8/esck-inspect.8, man8/esck-replay-truncate.8 and
#     man5/esck-replay.5 are under one man directory, with configure's
#     substitutions done, render with mandoc (and man -l), and that
#     "man -M DIR -w PAGE" finds each;
#   - the completion is where esck(8) FILES says, is named after the
#     command (bash-completion loads completions/NAME), and completes.
. "$top_srcdir/tests/lib.sh"
test_init
test_need make

dest=$TEST_TMP/dest
unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS MAKEOVERRIDES
make -C "$top_builddir" install DESTDIR="$dest" >"$TEST_TMP/install.log" 2>&1 || {
	cat "$TEST_TMP/install.log"
	test_fail "make install DESTDIR=$dest failed"
	test_done
}
(cd "$dest" && find . -type f | sort) >"$TEST_TMP/files"
echo "installed:"
sed 's/^/	/' "$TEST_TMP/files"

# the program
esck=$(grep '/sbin/esck$' "$TEST_TMP/files" | head -n 1)
if test -z "$esck"; then
	test_fail "no sbin/esck installed"
else
	"$dest/$esck" --version >"$TEST_TMP/version" 2>&1 ||
		test_fail "the installed esck --version failed"
	version=$(sed -n 's/^esck //p' "$TEST_TMP/version")
	test -n "$version" || test_fail "the installed esck prints no version"
fi

command -v man >/dev/null 2>&1 ||
	echo "no man(1) here: the pages are rendered by mandoc only, man -w is not tried"
# the pages
mandir=
for page in man8/esck.8 man8/esck-inspect.8 man8/esck-replay-truncate.8 man5/esck-replay.5; do
	f=$(grep "/$page\$" "$TEST_TMP/files" | head -n 1)
	if test -z "$f"; then
		test_fail "$page is not installed"
		continue
	fi
	f=$dest/${f#./}
	dir=$(dirname "$(dirname "$f")")
	test -z "$mandir" && mandir=$dir
	test "$dir" = "$mandir" || test_fail "$page is in $dir, not with the others in $mandir"
	if grep -n '@[A-Za-z_]*@' "$f"; then
		test_fail "$page: configure's substitutions not done"
	fi
	if test -n "${version-}"; then
		grep -q "^\.Os esck $version\$" "$f" ||
			test_fail "$page does not carry the version $version (.Os)"
	fi
	if command -v mandoc >/dev/null 2>&1; then
		mandoc -Tascii "$f" >"$TEST_TMP/render" 2>&1 ||
			test_fail "mandoc cannot render the installed $page"
		test -s "$TEST_TMP/render" || test_fail "mandoc renders the installed $page empty"
	fi
	if command -v man >/dev/null 2>&1; then
		MANPAGER=cat PAGER=cat MANWIDTH=80 man -l "$f" >"$TEST_TMP/render" 2>"$TEST_TMP/render.err" ||
			{ cat "$TEST_TMP/render.err"; test_fail "man -l cannot render the installed $page"; }
		test -s "$TEST_TMP/render" || test_fail "man -l renders the installed $page empty"
		name=$(basename "$page")
		section=${name##*.}
		found=$(env MANPAGER=cat man -M "$mandir" -w "$section" "${name%.*}" 2>/dev/null)
		test "$found" = "$f" ||
			test_fail "man -M $mandir -w $section ${name%.*} finds '$found', not $f"
	fi
	echo "$page: ok"
done

# the completion: at the path esck(8) FILES gives (under DESTDIR)
path=$(sed -n 's|^\.It Pa \(/.*/bash-completion/completions/esck\)$|\1|p' \
	"$top_builddir/man/esck.8")
if test -z "$path"; then
	test_fail "esck(8) FILES gives no bash-completion path"
elif ! test -f "$dest$path"; then
	test_fail "the completion is not installed at $path, where esck(8) FILES says"
else
	echo "completion: $path"
	if command -v bash >/dev/null 2>&1; then
		bash --norc --noprofile -c '
			. "$1" || exit 1
			COMP_WORDS=(esck ins); COMP_CWORD=1
			_esck esck ins esck
			echo "${COMPREPLY[*]}"' bash "$dest$path" >"$TEST_TMP/complete" 2>&1
		test_cmp_text inspect "$TEST_TMP/complete" "the installed completion of 'esck ins'"
	fi
fi
grep -q '/bash-completion/completions/esck$' "$TEST_TMP/files" ||
	test_fail "no bash-completion/completions/esck installed"

test_done
