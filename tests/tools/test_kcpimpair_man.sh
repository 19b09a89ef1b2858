#!/bin/sh
# man/kcpimpair.1 is mdoc that `mandoc -Tlint` passes without a message, and it documents every
# long option that `kcpimpair --help` lists. Two messages depend on the machine, not the page,
# and are ignored: cross-references to pages not installed here (kcpvpnd(8) ships with the
# project) and a stale mandoc.db.
set -u
page=${srcdir:-.}/man/kcpimpair.1
tools=${TOOLS_DIR:-tests/tools}

if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc not installed (apt-get install mandoc)"
	exit 77
fi
out=$(mandoc -Tlint -W all "$page" 2>&1 |
	grep -v -e 'referenced manual not found' -e 'outdated mandoc.db')
if [ -n "$out" ]; then
	echo "FAIL: mandoc -Tlint $page:"
	echo "$out"
	exit 1
fi
missing=
for opt in $("$tools/kcpimpair" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	# --up-NAME and --down-NAME are documented once, with NAME
	name=${opt#--}
	name=${name#up-}
	name=${name#down-}
	case $name in "" | *-) continue ;; esac
	grep -q -e "^\.It Fl \\\\-$name\\>" -e "^\.It Fl -$name\\>" "$page" ||
		grep -q -e "Fl \\\\-$name\\>" -e "Fl -$name\\>" "$page" || missing="$missing $opt"
done
if [ -n "$missing" ]; then
	echo "FAIL: options in --help but not in $page:$missing"
	exit 1
fi
echo "ok - $page is lint-clean and documents every option of --help"
