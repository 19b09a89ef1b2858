#!/bin/sh
# man/kcpimpair.1 documents every long option that `kcpimpair --help` lists (that the page is
# lint-clean is checked with all pages by tests/man/test_man_lint.sh).
set -u
page=${srcdir:-.}/man/kcpimpair.1
tools=${TOOLS_DIR:-tests/tools}

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
