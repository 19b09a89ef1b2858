#!/bin/sh
# Every page in man/ is mdoc that `mandoc -Tlint -W all` passes without a message, and
# kcpvpnd(8) documents every option `kcpvpnd --help` lists. Two messages depend on the machine,
# not the pages, and are ignored: cross-references to pages not installed here and a stale
# mandoc.db. What each other page must document is checked next to its program
# (tests/ctl/test_kcpctl_man.sh, tests/tools/test_kcpimpair_man.sh, tests/unit/test_config).
set -u
top=${srcdir:-.}
daemon=${DAEMON_DIR:-daemon}/kcpvpnd

if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc not installed (apt-get install mandoc)"
	exit 77
fi
rc=0
n=0
for page in "$top"/man/*.[1-8]; do
	n=$((n + 1))
	out=$(mandoc -Tlint -W all "$page" 2>&1 |
		grep -v -e 'referenced manual not found' -e 'outdated mandoc.db')
	if [ -n "$out" ]; then
		echo "FAIL: mandoc -Tlint $page:"
		echo "$out"
		rc=1
	fi
done
[ "$n" -ge 4 ] || { echo "FAIL: only $n man pages found in $top/man"; rc=1; }
for opt in $("$daemon" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "^\.It Fl .*Fl \\\\$opt" "$top/man/kcpvpnd.8" ||
		grep -q -- "Fl \\\\-${opt#--}" "$top/man/kcpvpnd.8" ||
		{ echo "FAIL: kcpvpnd(8) does not document $opt"; rc=1; }
done
[ $rc -eq 0 ] && echo "ok - $n man pages lint-clean; kcpvpnd(8) documents every option"
exit $rc
