#!/bin/sh
# Forwarding rate of kcpimpair on loopback: udpprobe flood -> kcpimpair -> udpprobe sink.
# Prints what the sink received per second, which is what the relay forwarded (the flood
# offers more than it can take). Not a test: run it by hand from a build directory,
#   sh ../../tests/tools/bench_kcpimpair.sh [SECONDS] [BYTES] [kcpimpair options...]
# e.g. `... 4 1400` (no impairment) or `... 4 1400 --delay 20 --limit 65536`.
# Numbers from a sanitizer build say little; configure without --enable-sanitizers.
set -eu

tools=${TOOLS_DIR:-tests/tools}
secs=${1:-4}
size=${2:-1400}
if [ $# -ge 2 ]; then shift 2; else shift $#; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/kcpimpair-bench.$$.XXXXXX")
pids=
# shellcheck disable=SC2317
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

# port_of FILE: waits for the "listening on ADDR:PORT" line of FILE and prints the port.
port_of() {
	i=0
	while [ $i -lt 100 ]; do
		p=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\),\{0,1\}\( .*\)\{0,1\}$/\1/p' \
			"$1" 2>/dev/null || true)
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.05
		i=$((i + 1))
	done
	echo "bench: no listening line in $1" >&2
	exit 1
}

"$tools/udpprobe" sink -l 127.0.0.1:0 -t $((secs + 3)) >"$work/sink.out" &
sink=$!
pids="$pids $sink"
"$tools/kcpimpair" -l 127.0.0.1:0 -u "127.0.0.1:$(port_of "$work/sink.out")" -s 1 "$@" \
	2>"$work/relay.err" &
relay=$!
pids="$pids $relay"
"$tools/udpprobe" flood -c "127.0.0.1:$(port_of "$work/relay.err")" -s "$size" -t "$secs" \
	>"$work/flood.out"
sleep 1
kill -TERM "$relay"
wait "$relay" || true
wait "$sink" || true
echo "offered:   $(cat "$work/flood.out")"
echo "forwarded: $(grep received= "$work/sink.out")"
grep -E 'kcpimpair: (up|clients)' "$work/relay.err" | tail -2
