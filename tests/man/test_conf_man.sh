#!/bin/sh
# man/kcpvpnd.conf.5 is mdoc that `mandoc -Tlint` passes without a message. Two messages depend
# on the machine, not the page, and are ignored: cross-references to pages not installed here
# (kcpvpnd(8) ships with the project) and a stale mandoc.db. That the page documents every key
# the parser knows is checked by tests/unit/test_config.
set -u
page=${KC_TOP:-${srcdir:-.}}/man/kcpvpnd.conf.5

if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc not installed (apt-get install mandoc)"
	exit 77
fi
if [ ! -r "$page" ]; then
	echo "FAIL: cannot read $page"
	exit 1
fi
out=$(mandoc -Tlint -W all "$page" 2>&1 |
	grep -v -e 'referenced manual not found' -e 'outdated mandoc.db')
if [ -n "$out" ]; then
	echo "FAIL: mandoc -Tlint $page:"
	echo "$out"
	exit 1
fi
echo "ok - $page is lint-clean"
