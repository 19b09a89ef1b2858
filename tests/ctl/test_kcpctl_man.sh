#!/bin/sh
# man/kcpctl.8 documents every command `kcpctl --help` lists, every error code and every tune
# key of daemon/control_proto.h, and keeps the sections STYLE.md asks for (that it is
# lint-clean is checked with all pages by tests/man/test_man_lint.sh).
set -u
top=${srcdir:-.}
page=$top/man/kcpctl.8
proto=$top/daemon/control_proto.h
ctl=${CTL_DIR:-ctl}/kcpctl

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
