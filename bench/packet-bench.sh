#!/bin/bash
# Our packet-path benchmarks against kcp-go's own, side by side.
#
# Builds optimised trees (-O2, no sanitizers) in <top>/_build/bench-wolfssl and
# <top>/_build/bench-openssl, makes whichever of bench/bench_crypt, bench/bench_fec and
# bench/bench_session the build defines (it names the missing ones), runs each, runs
# kcpgo-bench.sh once, and pairs the figures by name. Our programs print
#   bench=NAME unit=MB/s ours=X [key=value ...]
# and kcpgo-bench.sh prints "kcpgo bench=NAME unit=MB/s value=Y". Output: a table for people,
# then one line per figure of ours:
#   bench=NAME backend=B unit=MB/s ours=X kcpgo=Y ratio=Z [the line's other key=value pairs]
# ratio = ours / kcp-go (above 1: we are faster). kcpgo= and ratio= are left out where kcp-go
# has no such benchmark. fec_* figures do not depend on the crypto backend and are printed
# once, with backend=-. A line's own backend= key wins over the tree it came from.
#
# usage: packet-bench.sh            environment: PACKET_BENCH_BACKENDS ["wolfssl openssl"],
#                                   KCPGO_BENCH_COUNT (see kcpgo-bench.sh)
# Exit 1 if nothing of ours could be built and run, or kcpgo-bench.sh failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
backends=${PACKET_BENCH_BACKENDS:-wolfssl openssl}
programs="bench_crypt bench_fec bench_session"
jobs=$(nproc 2>/dev/null || echo 2)
work=$top/_build/packet-bench
mkdir -p "$work"
ours=$work/ours.txt
kcpgo=$work/kcpgo.txt
: >"$ours"
: >"$kcpgo"
status=0

say() { echo "packet-bench: $*" >&2; }
. "$top/bench/lib.sh"

missing=
for b in $backends; do
	dir=$top/_build/bench-$b
	if ! bench_tree "$b" "$dir/configure.out"; then
		say "skipping $b"
		status=1
		continue
	fi
	for p in $programs; do
		if ! grep -q "^bench/$p\$(EXEEXT):" "$dir/Makefile"; then
			case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac
			continue
		fi
		say "building bench/$p ($b)"
		if ! make -C "$dir" -j"$jobs" "bench/$p" >"$dir/$p.build.log" 2>&1; then
			grep -E 'error|Error|\*\*\*' "$dir/$p.build.log" | head -20 >&2
			say "bench/$p failed to build against $b (log: $dir/$p.build.log)"
			status=1
			continue
		fi
		say "running bench/$p ($b)"
		if ! timeout 600 "$dir/bench/$p" >"$dir/$p.out" 2>"$dir/$p.err"; then
			tail -5 "$dir/$p.err" >&2
			say "bench/$p ($b) failed"
			status=1
		fi
		grep -E '(^| )bench=[^ ]+' "$dir/$p.out" | grep -E '(^| )ours=' |
			sed "s|^|$b $p |" >>"$ours"
	done
done
[ -z "$missing" ] || say "not in the build yet:$missing"

say "running kcpgo-bench.sh"
if ! "$top/bench/kcpgo-bench.sh" "$top/_build/kcpgo-bench" >"$kcpgo"; then
	say "kcpgo-bench.sh failed; printing ours alone"
	status=1
fi

if [ ! -s "$ours" ]; then
	say "no figures of ours"
	status=1
fi

# Pair the figures: first the table, then the machine-readable lines.
awk '
function kv(line, out,    n, i, f, k, eq) {
	n = split(line, f, " ")
	delete out
	out["_extra"] = ""
	for (i = 1; i <= n; i++) {
		eq = index(f[i], "=")
		if (eq == 0)
			continue
		k = substr(f[i], 1, eq - 1)
		out[k] = substr(f[i], eq + 1)
		if (k != "bench" && k != "unit" && k != "ours" && k != "backend")
			out["_extra"] = out["_extra"] " " f[i]
	}
}
FNR == NR {
	kv($0, g)
	if (g["bench"] != "" && g["value"] != "") {
		if (!(g["bench"] in kg))
			korder[++nk] = g["bench"]
		kg[g["bench"]] = g["value"]
		kunit[g["bench"]] = g["unit"]
	}
	next
}
{
	build = $1
	prog = $2
	sub(/^[^ ]+ [^ ]+ /, "")
	kv($0, o)
	name = o["bench"]
	if (name == "" || o["ours"] == "")
		next
	be = ("backend" in o) ? o["backend"] : build
	if (prog == "bench_fec" || name ~ /^fec_/)
		be = "-"
	key = name "|" be "|" o["_extra"]
	if (key in seen)
		next
	seen[key] = 1
	used[name] = 1
	unit = o["unit"]
	line = "bench=" name " backend=" be " unit=" unit " ours=" o["ours"]
	y = "-"
	r = "-"
	if ((name in kg) && kunit[name] == unit && kg[name] + 0 > 0) {
		y = kg[name]
		r = sprintf("%.2f", o["ours"] / kg[name])
		line = line " kcpgo=" y " ratio=" r
	}
	lines[++nl] = line o["_extra"]
	rows[++nr] = sprintf("%-26s %-8s %-6s %12s %12s %7s  %s", name, be, unit, o["ours"], y, r,
		substr(o["_extra"], 2))
}
END {
	printf "%-26s %-8s %-6s %12s %12s %7s  %s\n", "bench", "backend", "unit", "ours", "kcp-go",
		"ratio", "details"
	for (i = 1; i <= nr; i++)
		print rows[i]
	for (i = 1; i <= nk; i++)
		if (!((k = korder[i]) in used))
			printf "%-26s %-8s %-6s %12s %12s %7s  %s\n", k, "-", kunit[k], "-", kg[k], "-",
				"kcp-go only"
	print ""
	for (i = 1; i <= nl; i++)
		print lines[i]
}
' "$kcpgo" "$ours"
exit $status
