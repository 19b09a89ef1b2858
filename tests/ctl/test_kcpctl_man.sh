#!/bin/sh
# man/kcpctl.8 is mdoc that `mandoc -Tlint` passes, documents every command `kcpctl --help`
# lists, every error code and every tune key of daemon/control_proto.h, and keeps the sections
# STYLE.md asks for. Cross-references to pages not installed here and a stale mandoc.db are
# the machine's business, not the page's, and are ignored.
set -u
top=${srcdir:-.}
page=$top/man/kcpctl.8
proto=$top/daemon/control_proto.h
ctl=${CTL_DIR:-ctl}/kcpctl

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
for c in $("$ctl" --help | sed -n 's/^  \([a-z][a-z_]*\) .*/\1/p'); do
	grep -q "^\.It Cm $c\\>" "$page" || missing="$missing command:$c"
done
for e in $(sed -n 's/^#define CONTROL_E_[A-Z_]* *"\([a-z_]*\)".*/\1/p' "$proto"); do
	grep -q "^\.It Li $e\$" "$page" || missing="$missing error:$e"
done
for k in $(sed -n 's/^[[:space:]]*X("\([a-z]*\)".*/\1/p' "$proto"); do
	grep -q "^\.It Cm .*\\<$k\\>" "$page" || missing="$missing tune-key:$k"
done
for s in COMMANDS "EXIT STATUS" FILES EXAMPLES; do
	grep -q "^\.Sh $s\$" "$page" || missing="$missing section:$s"
done
if [ -n "$missing" ]; then
	echo "FAIL: $page lacks:$missing"
	exit 1
fi
echo "ok - $page is lint-clean and documents every command, error code and tune key"
