#!/bin/bash
# What the secure mode costs: TCP throughput and tunnel CPU through kcpvpnd in secure mode
# (Cipher = chacha20-poly1305, Cipher = aes-256-gcm) against compat mode (Crypt = aes-128), on
# both crypto backends, in one run on one testbed:
#
#   ns sbS$$ (server)                              ns sbC$$ (client)
#   kcpvpnd (ListenPort 4000), iperf3 -s           kcpvpnd, iperf3 -c
#   veth 10.234.0.1/24 ========================== veth 10.234.0.2/24      (clean link)
#
# Builds (or reuses) optimised trees (-O2 -g, no sanitizers) in <top>/_build/bench-wolfssl and
# <top>/_build/bench-openssl, the trees of packet-bench.sh and vpn-bench.sh, and makes kcpvpnd
# and kcpctl in each. Every tunnel uses Profile = fast3, the default windows (2048), FEC = off,
# MTU auto (1336 in secure mode, 1348 in compat mode with aes-128); secure mode with fresh keys
# from kcpctl genkey/pubkey/genpsk (a PresharedKey too). Each of the six tunnels (2 backends x
# 3 modes) is started afresh for each repetition; the repetitions run the six in opposite
# orders, so slow drift on a shared machine does not favour one of them.
#
# Measurements, per backend and mode:
#   mbit   iperf3 single TCP stream client -> server through the tunnel, SECBENCH_SECONDS (8) s,
#          SECBENCH_REPS (2) repetitions: the median of the received Mbit/s (of two: the mean)
#   cpu_s  CPU seconds (user + system, /proc/PID/stat) of the two kcpvpnd processes, client and
#          server, during one iperf3 run: the median over the repetitions
#   cpu_s_per_gbit  cpu_s / Gbit carried in one run, from the medians (the efficiency: the CPU
#          is what limits a clean link)
#   ratio_compat_aes128  mbit / mbit of compat aes-128 on the same backend, in this run
# and, where the tree defines bench/bench_noise, its handshakes per second (bench=handshake
# lines, passed through with the tree's backend; a note when it is not there yet or fails).
#
# Output on stdout: a table for people, then one line per measurement:
#   bench=secure-tcp backend=B mode=M mbit=X cpu_s=Y ratio_compat_aes128=R cpu_s_per_gbit=Z
#     mbit_runs=X1,X2 cpu_s_runs=Y1,Y2 retrans=N1,N2
# with mode secure-chacha, secure-aes256gcm or compat-aes128, "-" where a figure is missing.
# Files in SECBENCH_DIR (<top>/_build/secure-bench): results.txt (that output), raw.txt, logs/.
# Progress goes to stderr.
#
# Needs root, iperf3 and jq. About 2 minutes on a 2-core VM once the trees are built; the
# measurements stop (and the run is flagged) past SECBENCH_BUDGET (300) seconds.
# Exit 1 when a tree does not build, a tunnel does not come up or a measurement fails.
#
# usage: secure-bench.sh     environment: SECBENCH_BACKENDS ["wolfssl openssl"],
#   SECBENCH_MODES ["secure-chacha secure-aes256gcm compat-aes128"], SECBENCH_SECONDS [8],
#   SECBENCH_REPS [2], SECBENCH_BUDGET [300], SECBENCH_DIR
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=${SECBENCH_DIR:-$top/_build/secure-bench}
backends=${SECBENCH_BACKENDS:-wolfssl openssl}
modes=${SECBENCH_MODES:-secure-chacha secure-aes256gcm compat-aes128}
secs=${SECBENCH_SECONDS:-8}
reps=${SECBENCH_REPS:-2}
budget=${SECBENCH_BUDGET:-300}
jobs=$(nproc 2>/dev/null || echo 2)
hz=$(getconf CLK_TCK)

S=sbS$$
C=sbC$$
S_IP=10.234.0.1
C_IP=10.234.0.2
PORT=4000
TUN_S=10.9.34.1
TUN_C=10.9.34.2
status=0

say() { echo "secure-bench: $*" >&2; }
. "$top/bench/lib.sh"

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, TUN)"
for t in iperf3 jq; do
	command -v "$t" >/dev/null || die "$t missing (scripts/install-deps.sh installs it)"
done
for m in $modes; do
	case $m in secure-chacha | secure-aes256gcm | compat-aes128) ;;
	*) die "unknown mode $m in SECBENCH_MODES" ;; esac
done
for b in $backends; do
	case $b in wolfssl | openssl) ;; *) die "unknown backend $b in SECBENCH_BACKENDS" ;; esac
done

mkdir -p "$work/logs"
work=$(cd "$work" && pwd)
rm -f "$work"/logs/*
raw=$work/raw.txt
hsout=$work/handshake.txt
: >"$raw"
: >"$hsout"
tmp=$(mktemp -d "$work/tmp.$$.XXXX")
chmod 700 "$tmp"

# --- build -------------------------------------------------------------------------------------
built=
notes=
for b in $backends; do
	dir=$top/_build/bench-$b
	if ! bench_tree "$b" "$work/logs/configure-$b.log"; then
		say "skipping $b"
		status=1
		continue
	fi
	say "building kcpvpnd and kcpctl in $dir"
	if ! make -C "$dir" -j"$jobs" daemon/kcpvpnd ctl/kcpctl >"$work/logs/make-$b.log" 2>&1; then
		grep -E 'error|\*\*\*' "$work/logs/make-$b.log" | head -20 >&2
		say "build failed for $b (log: $work/logs/make-$b.log); skipping it"
		status=1
		continue
	fi
	built="$built $b"
	# bench_noise is optional: measured at the end, when the tree has it and it builds
	if ! grep -q '^bench/bench_noise$(EXEEXT):' "$dir/Makefile"; then
		notes="$notes; $b: bench/bench_noise not in the build yet, handshakes skipped"
	elif ! make -C "$dir" -j"$jobs" bench/bench_noise >"$work/logs/make-noise-$b.log" 2>&1; then
		notes="$notes; $b: bench/bench_noise failed to build (logs/make-noise-$b.log), handshakes skipped"
	fi
done
[ -n "$built" ] || die "nothing built"
backends=${built# }

# --- testbed -----------------------------------------------------------------------------------
testbed_up sb

# --- keys and configs --------------------------------------------------------------------------
umask 077
b0=${backends%% *}
KCPCTL0=$top/_build/bench-$b0/ctl/kcpctl
"$KCPCTL0" genkey >"$tmp/s.key" && "$KCPCTL0" genkey >"$tmp/c.key" || die "kcpctl genkey"
spub=$("$KCPCTL0" pubkey <"$tmp/s.key") && cpub=$("$KCPCTL0" pubkey <"$tmp/c.key") ||
	die "kcpctl pubkey"
psk=$("$KCPCTL0" genpsk) || die "kcpctl genpsk"
echo "secure bench passphrase $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
	>"$tmp/compat.key"

# conf MODE SIDE: the config of SIDE (s or c) for MODE on stdout.
conf() {
	local mode=$1 side=$2
	echo "[Interface]"
	echo "Name = sbt$side$$"
	case $mode in
	compat-aes128)
		echo "Mode = compat"
		echo "Crypt = aes-128"
		echo "KeyFile = $tmp/compat.key"
		;;
	secure-*)
		echo "Mode = secure"
		echo "PrivateKeyFile = $tmp/$side.key"
		case $mode in
		secure-chacha) echo "Cipher = chacha20-poly1305" ;;
		secure-aes256gcm) echo "Cipher = aes-256-gcm" ;;
		esac
		;;
	esac
	if [ "$side" = s ]; then
		echo "ListenPort = $PORT"
		echo "Address = $TUN_S/24"
	else
		echo "Address = $TUN_C/24"
	fi
	cat <<CONF
FEC = off
Profile = fast3
ControlSocket = $tmp/$side.sock

[Peer]
CONF
	if [ "$side" = s ]; then
		echo "Name = client"
		echo "AllowedIPs = $TUN_C/32"
		[ "${mode%%-*}" = secure ] && echo "PublicKey = $cpub"
	else
		echo "Name = server"
		echo "Endpoint = $S_IP:$PORT"
		echo "AllowedIPs = $TUN_S/32"
		echo "PersistentKeepalive = 2"
		[ "${mode%%-*}" = secure ] && echo "PublicKey = $spub"
	fi
	[ "${mode%%-*}" = secure ] && echo "PresharedKey = $psk"
	return 0
}

kcp_up() { [ "$("$1" -s "$2" status --json | jq -r '.peers[0].state')" = up ]; }

# tun_start BACKEND MODE TAG: both daemons, up and passing pings; sets tun_pids.
tun_start() {
	local b=$1 mode=$2 tag=$3 d=$top/_build/bench-$1 side want got
	local kcpvpnd=$d/daemon/kcpvpnd kcpctl=$d/ctl/kcpctl
	tun_pids=()
	for side in s c; do
		conf "$mode" "$side" >"$tmp/$side.conf"
		"$kcpvpnd" -n -c "$tmp/$side.conf" >>"$work/logs/$tag.check.log" 2>&1 ||
			{ cat "$work/logs/$tag.check.log" >&2; return 1; }
		rm -f "$tmp/$side.sock"
	done
	bg "$S" "$work/logs/$tag.server.log" "$kcpvpnd" -f -c "$tmp/s.conf"
	tun_pids+=("$last")
	poll 10 listening "$S" u "$PORT" || return 1
	bg "$C" "$work/logs/$tag.client.log" "$kcpvpnd" -f -c "$tmp/c.conf"
	tun_pids+=("$last")
	poll 15 kcp_up "$kcpctl" "$tmp/c.sock" || return 1
	poll 10 ip netns exec "$C" ping -c 1 -W 1 "$TUN_S" || return 1
	# the tunnel runs what was asked for
	case $mode in
	secure-chacha) want="secure chacha20-poly1305" ;;
	secure-aes256gcm) want="secure aes-256-gcm" ;;
	compat-aes128) want="compat aes-128" ;;
	esac
	"$kcpctl" -s "$tmp/c.sock" status --json >"$work/logs/$tag.status-c.json" 2>&1
	got=$(jq -r '.interface | "\(.mode) \(.cipher // .crypt)"' "$work/logs/$tag.status-c.json")
	[ "$got" = "$want" ] || { say "$tag: the client runs \"$got\", not \"$want\""; return 1; }
	say "$tag up: $got"
}

# rec BACKEND MODE REP KEY VALUE: one raw measurement.
rec() { echo "backend=$1 mode=$2 rep=$3 $4=$5" >>"$raw"; }

# measure BACKEND MODE REP TAG: one iperf3 run through the running tunnel.
measure() {
	local b=$1 mode=$2 rep=$3 tag=$4 json=$work/logs/$4.iperf.json srv c0 c1 mbps cpu rt
	bg "$S" "$work/logs/$tag.iperf-s.log" iperf3 -s -1 -p 5201
	srv=$last
	poll 5 listening "$S" t 5201 || { say "iperf3 server did not start"; stop "$srv"; return 1; }
	c0=$(cpu_ticks "${tun_pids[@]}")
	ip netns exec "$C" timeout $((secs + 20)) iperf3 -c "$TUN_S" -p 5201 -t "$secs" -J \
		>"$json" 2>&1
	c1=$(cpu_ticks "${tun_pids[@]}")
	stop "$srv"
	mbps=$(jq -r '.end.sum_received.bits_per_second / 1e6 * 100 | floor / 100' "$json" \
		2>/dev/null)
	if [ -z "$mbps" ] || [ "$mbps" = null ]; then
		say "$tag: iperf3 failed (see $json)"
		return 1
	fi
	cpu=$(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.2f", d / hz }')
	rt=$(jq -r '.end.sum_sent.retransmits // "-"' "$json" 2>/dev/null)
	rec "$b" "$mode" "$rep" mbit "$mbps"
	rec "$b" "$mode" "$rep" cpu_s "$cpu"
	rec "$b" "$mode" "$rep" retrans "$rt"
	say "$tag: $mbps Mbit/s, kcpvpnd CPU $cpu s, retransmits $rt"
}

# --- the run -----------------------------------------------------------------------------------
load0=$(cut -d' ' -f1-3 /proc/loadavg)
say "machine: $(nproc) cores, shared with other jobs; load average $load0"
t_start=$SECONDS
order=
for b in $backends; do
	for m in $modes; do order="$order $b:$m"; done
done
reversed=$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' ')
for ((rep = 1; rep <= reps; rep++)); do
	list=$order
	[ $((rep % 2)) -eq 0 ] && list=$reversed
	for bm in $list; do
		b=${bm%%:*}
		m=${bm#*:}
		tag=$b.$m.$rep
		if [ $((SECONDS - t_start)) -gt "$budget" ]; then
			say "past the budget of $budget s: $tag not measured"
			status=1
			continue
		fi
		if ! tun_start "$b" "$m" "$tag"; then
			say "$b $m did not come up (logs: $work/logs/$tag.*.log)"
			tail -n 5 "$work/logs/$tag.client.log" "$work/logs/$tag.server.log" >&2 2>/dev/null
			status=1
		elif ! measure "$b" "$m" "$rep" "$tag"; then
			status=1
		fi
		stop "${tun_pids[@]}"
	done
done

for b in $backends; do
	prog=$top/_build/bench-$b/bench/bench_noise
	[ -x "$prog" ] || continue
	case $notes in *"$b: bench/bench_noise"*) continue ;; esac
	say "running bench/bench_noise ($b)"
	if ! timeout 60 "$prog" >"$work/logs/bench_noise-$b.out" 2>"$work/logs/bench_noise-$b.err"; then
		notes="$notes; $b: bench/bench_noise failed ($(tail -1 "$work/logs/bench_noise-$b.err"))"
		continue
	fi
	grep -E '^bench=' "$work/logs/bench_noise-$b.out" >>"$hsout"
done
say "measured in $((SECONDS - t_start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
grep -q . "$raw" || status=1

# --- report ------------------------------------------------------------------------------------
{
	rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null)
	git -C "$top" diff --quiet HEAD 2>/dev/null || rev="$rev with uncommitted changes"
	echo "# secure-bench $(date -u +%Y-%m-%dT%H:%MZ), kcpvpnd $rev, on $(nproc) cores of a" \
		"machine shared with other jobs"
	echo "# (load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end);" \
		"clean veth, iperf3 1 TCP stream ${secs} s x $reps, fast3, default windows, FEC off"
	echo "# mbit and cpu_s: medians over the repetitions; cpu_s = CPU s of both kcpvpnd in one run"
	[ -z "$notes" ] || echo "# note: ${notes#; }"
	awk -v modes="$modes" -v backends="$backends" -v secs="$secs" -v rawfile="$raw" '
	function median(s,    a, n, i, j, t) {
		n = split(s, a, ",")
		if (n == 0)
			return "-"
		for (i = 1; i <= n; i++)
			for (j = i + 1; j <= n; j++)
				if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		if (n % 2)
			return a[(n + 1) / 2]
		return sprintf("%.2f", (a[n / 2] + a[n / 2 + 1]) / 2)
	}
	function get(k) { return (k in v) ? v[k] : "" }
	FILENAME == rawfile {
		delete f
		for (i = 1; i <= NF; i++) {
			eq = index($i, "=")
			f[substr($i, 1, eq - 1)] = substr($i, eq + 1)
		}
		for (k in f)
			if (k != "backend" && k != "mode" && k != "rep") {
				key = f["backend"] SUBSEP f["mode"] SUBSEP k
				if (key in v)
					v[key] = v[key] "," f[k]
				else
					v[key] = f[k]
			}
		next
	}
	{ hs[++nh] = $0 }
	END {
		nb = split(backends, B, " ")
		nm = split(modes, M, " ")
		printf "%-8s %-17s %9s %9s %7s %9s %8s  %s\n", "backend", "mode", "Mbit/s",
			"kcp CPU s", "CPU s/Gb", "vs compat", "retrans", "runs (Mbit/s; CPU s)"
		for (i = 1; i <= nb; i++) {
			base = median(get(B[i] SUBSEP "compat-aes128" SUBSEP "mbit"))
			for (j = 1; j <= nm; j++) {
				k = B[i] SUBSEP M[j]
				runs = get(k SUBSEP "mbit")
				cpus = get(k SUBSEP "cpu_s")
				rts = get(k SUBSEP "retrans")
				mb = median(runs)
				cpu = median(cpus)
				r = (mb != "-" && base != "-" && base + 0 > 0) ? sprintf("%.2f", mb / base) : "-"
				pg = (mb != "-" && cpu != "-" && mb + 0 > 0) ? \
					sprintf("%.2f", cpu / (mb * secs / 1000)) : "-"
				printf "%-8s %-17s %9s %9s %7s %9s %8s  %s; %s\n", B[i], M[j], mb, cpu, pg, r,
					rts == "" ? "-" : rts, runs == "" ? "-" : runs, cpus == "" ? "-" : cpus
				line[++nl] = sprintf("bench=secure-tcp backend=%s mode=%s mbit=%s cpu_s=%s " \
					"ratio_compat_aes128=%s cpu_s_per_gbit=%s mbit_runs=%s cpu_s_runs=%s " \
					"retrans=%s", B[i], M[j], mb, cpu, r, pg, runs == "" ? "-" : runs,
					cpus == "" ? "-" : cpus, rts == "" ? "-" : rts)
			}
		}
		if (nh) {
			print ""
			printf "%-8s %-10s %12s\n", "backend", "handshake", "per second"
			for (i = 1; i <= nh; i++) {
				delete f
				n = split(hs[i], a, " ")
				for (j = 1; j <= n; j++) {
					eq = index(a[j], "=")
					f[substr(a[j], 1, eq - 1)] = substr(a[j], eq + 1)
				}
				printf "%-8s %-10s %12s\n", f["backend"],
					f["bench"] == "handshake" ? f["role"] : f["bench"], f["per_sec"]
			}
		}
		print ""
		for (i = 1; i <= nl; i++)
			print line[i]
		for (i = 1; i <= nh; i++)
			print hs[i]
	}' "$raw" "$hsout"
} >"$work/results.txt"
cat "$work/results.txt"
[ $status -eq 0 ] || say "some runs failed or were flagged (see above and $work/logs)"
exit $status
