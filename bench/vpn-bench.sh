#!/bin/bash
# kcpvpnd against wireguard-go and OpenVPN 2.6 in the same run, on the same testbed:
#
#   ns vbS$$ (server)                              ns vbC$$ (client)
#   tunnel server, iperf3 -s, rr server            tunnel client, iperf3 -c, ping, rr client
#   veth 10.233.0.1/24 ========================== veth 10.233.0.2/24
#                                                  kcpimpair 127.0.0.1:7000 -> 10.233.0.1:PORT
#
# "clean": the client's tunnel talks to the server's veth address directly. "rtt50-lossN": it
# talks to the relay tests/tools/kcpimpair in the client's namespace, which adds 25 ms each way
# (50 ms RTT) and drops N% of the datagrams independently in each direction. The relay is
# started afresh for every tunnel and condition, and its counters at exit are checked: no drop
# at 0%, and between half and twice N% at N% (a run that fails the check is flagged, and the
# script exits 1).
#
# Tunnels (each started afresh per condition, one at a time, default settings otherwise):
#   kcpvpnd          compat mode, Crypt = aes-128, optimised OpenSSL build (_build/bench-openssl)
#   kcpvpnd_salsa20  the same binary, Crypt = salsa20
#   kcpvpnd_secure   the same binary in secure mode (the default mode), default Cipher
#                    (chacha20-poly1305), keys made by kcpctl genkey/pubkey/genpsk
#     all three: Profile = fast3, the default windows (SndWnd = RcvWnd = 2048; VPNBENCH_WND sets
#     others), FEC = 10:3 on the lossy conditions
#     (loss 1% and 5%), FEC off on clean and rtt50-loss0; MTU auto (1348 compat, 1336 secure)
#   wireguard_go     Debian's wireguard-go, keys made by wg genkey, MTU 1420
#   openvpn          OpenVPN 2.6 userspace (--disable-dco), UDP, TLS peer-to-peer with
#                    self-signed EC certificates made on the fly and --peer-fingerprint, data
#                    channel AES-256-GCM (checked in its log), MTU 1500 with its default mssfix
#
# Measurements, per tunnel and condition:
#   ping  VPNBENCH_PINGS (20) pings 0.2 s apart through the tunnel: average RTT (ms) and loss (%)
#   tcp   iperf3 single TCP stream client -> server, VPNBENCH_SECONDS (10) s, the inner TCP
#         on CUBIC and on BBR (iperf3 -C, checked in its JSON): received Mbit/s
#   cpu   CPU seconds (user + system, from /proc/PID/stat) the tunnel's two processes, client
#         and server, used during each tcp run
#   rr    on rtt50-loss5 (VPNBENCH_RR_CONDS): bench/vpn/rr.c sends 1 KiB every 10 ms over one
#         TCP connection for 10 s, CUBIC then BBR on both ends, the server echoes; completion
#         time from the scheduled send to the last echoed byte: p50, p99, max (ms). Before
#         it, kcpvpnd's tunnels are tuned live to FEC 3:2 (kcpctl tune fec=, VPNBENCH_RR_FEC):
#         1 KiB every 10 ms fills a 10:3 group in 100 ms, so its parity would come later than
#         a retransmission (measured: p99 61.6 ms with 3:2 against 91.7-103.9 with 10:3)
#
# Output on stdout: a table for people, then one line per measurement:
#   bench=B cond=C cc=CC [stat=S] kcpvpnd=X kcpvpnd_salsa20=X2 kcpvpnd_secure=X3
#     wireguard_go=Y openvpn=Z unit=U ratio_wg=X/Y ratio_wg_salsa20=X2/Y ratio_wg_secure=X3/Y
# (one line; cc=- for ping; "-" where a figure is missing). Files in VPNBENCH_DIR
# (<top>/_build/vpnbench): results.txt (that output), vpn-bench.png (the plot, gnuplot),
# raw.txt, logs/. Progress and the relay counters go to stderr.
#
# Needs root. Installs wireguard-go, wireguard-tools, openvpn, gnuplot-nox, iperf3 and jq with
# apt-get when missing. Takes about 11 minutes on a 2-core VM (9 before kcpvpnd_secure).
# Not part of the test suite.
#
# Environment: VPNBENCH_DIR, VPNBENCH_BUILD (an optimised OpenSSL build tree, configured here
# when missing), VPNBENCH_TUNNELS ["kcpvpnd kcpvpnd_salsa20 kcpvpnd_secure wireguard_go openvpn"],
# VPNBENCH_CONDS ["clean rtt50-loss0 rtt50-loss1 rtt50-loss5"], VPNBENCH_CCS ["cubic bbr"; empty:
# no tcp runs], VPNBENCH_PINGS [20],
# VPNBENCH_SECONDS [10], VPNBENCH_RR_CONDS ["rtt50-loss5"], VPNBENCH_RR_FEC ["3:2"],
# VPNBENCH_WND [unset: the default, 2048] (kcpvpnd's SndWnd and RcvWnd),
# VPNBENCH_SEED [20261123].
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=${VPNBENCH_DIR:-$top/_build/vpnbench}
build=${VPNBENCH_BUILD:-$top/_build/bench-openssl}
tunnels=${VPNBENCH_TUNNELS:-kcpvpnd kcpvpnd_salsa20 kcpvpnd_secure wireguard_go openvpn}
conds=${VPNBENCH_CONDS:-clean rtt50-loss0 rtt50-loss1 rtt50-loss5}
ccs=${VPNBENCH_CCS-cubic bbr}
secs=${VPNBENCH_SECONDS:-10}
pings=${VPNBENCH_PINGS:-20}
rr_conds=${VPNBENCH_RR_CONDS:-rtt50-loss5}
rr_fec=${VPNBENCH_RR_FEC:-3:2}
wnd=${VPNBENCH_WND:-}
seed=${VPNBENCH_SEED:-20261123}
jobs=$(nproc 2>/dev/null || echo 2)
hz=$(getconf CLK_TCK)

S=vbS$$
C=vbC$$
S_IP=10.233.0.1
C_IP=10.233.0.2
RELAY=127.0.0.1:7000
status=0

say() { echo "vpn-bench: $*" >&2; }
. "$top/bench/lib.sh"

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, TUN)"
for t in $tunnels; do
	case $t in kcpvpnd | kcpvpnd_salsa20 | kcpvpnd_secure | wireguard_go | openvpn) ;;
	*) die "unknown tunnel $t in VPNBENCH_TUNNELS" ;; esac
done
for c in $conds $rr_conds; do
	case $c in clean | rtt50-loss[0-9] | rtt50-loss[0-9][0-9]) ;;
	*) die "unknown condition $c" ;; esac
done
for c in $ccs; do
	grep -qw "$c" /proc/sys/net/ipv4/tcp_available_congestion_control ||
		die "congestion control $c is not available in this kernel"
done

# --- tools -------------------------------------------------------------------------------------
need=
for pair in wireguard-go:wireguard-go wg:wireguard-tools openvpn:openvpn gnuplot:gnuplot-nox \
	iperf3:iperf3 jq:jq; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || need="$need ${pair#*:}"
done
if [ -n "$need" ]; then
	say "installing$need"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $need; } >&2 ||
		die "apt-get install$need failed"
fi

mkdir -p "$work/logs"
work=$(cd "$work" && pwd)
tmp=$work/tmp.$$
mkdir -p "$tmp"
chmod 700 "$tmp"
rm -f "$work"/logs/*
raw=$work/raw.txt
: >"$raw"

bench_tree openssl "$work/logs/configure.log" "$build" || die "no optimised OpenSSL tree"
say "building kcpvpnd, kcpctl and kcpimpair in $build"
make -C "$build" -j"$jobs" daemon/kcpvpnd ctl/kcpctl tests/tools/kcpimpair \
	>"$work/logs/make.log" 2>&1 || { tail -20 "$work/logs/make.log" >&2; die "build failed"; }
KCPVPND=$build/daemon/kcpvpnd
KCPCTL=$build/ctl/kcpctl
KCPIMPAIR=$build/tests/tools/kcpimpair
RR=$work/rr
cc -O2 -g -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-o "$RR" "$top/bench/vpn/rr.c" 2>"$work/logs/rr-build.log" ||
	{ cat "$work/logs/rr-build.log" >&2; die "bench/vpn/rr.c failed to build"; }

# --- helpers -----------------------------------------------------------------------------------
# rec TUNNEL BENCH COND CC STAT UNIT VALUE: one raw measurement.
rec() { echo "tunnel=$1 bench=$2 cond=$3 cc=$4 stat=$5 unit=$6 value=$7" >>"$raw"; }

loss_of() { case $1 in rtt50-loss*) echo "${1#rtt50-loss}" ;; *) echo "" ;; esac; }

# --- testbed -----------------------------------------------------------------------------------
testbed_up vb

# relay_start COND PORT TAG: kcpimpair in front of the server's PORT; sets relay_pid.
relay_start() {
	local loss
	loss=$(loss_of "$1")
	relay_pid=
	[ -n "$loss" ] || return 0
	bg "$C" "$work/logs/$3.relay.log" "$KCPIMPAIR" -l "$RELAY" -u "$S_IP:$2" -s "$seed" \
		--delay 25 --loss "$loss"
	relay_pid=$last
	poll 5 listening "$C" u "${RELAY##*:}" || { say "kcpimpair did not start"; return 1; }
}

# relay_check COND TAG: stops the relay and checks its counters against the asked loss.
relay_check() {
	local loss log=$work/logs/$2.relay.log verdict
	[ -n "$relay_pid" ] || return 0
	loss=$(loss_of "$1")
	stop "$relay_pid"
	relay_pid=
	verdict=$(awk -v want="$loss" '
		/kcpimpair: (up|down) / {
			for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			dir = $2; rcv[dir] = v["received"]; lost[dir] = v["lost"]
			qd[dir] = v["queue_dropped"]; se[dir] = v["send_errors"]
		}
		END {
			ok = ("up" in rcv) && ("down" in rcv)
			out = ""
			for (d in rcv) {
				pct = rcv[d] > 0 ? 100 * lost[d] / rcv[d] : 0
				out = out sprintf(" %s: received=%d lost=%d (%.2f%%) queue_dropped=%d " \
					"send_errors=%d;", d, rcv[d], lost[d], pct, qd[d], se[d])
				if (rcv[d] == 0)
					ok = 0
				else if (want == 0 && lost[d] != 0)
					ok = 0
				else if (want > 0 && rcv[d] >= 1000 && (pct < want / 2 || pct > want * 2))
					ok = 0
				else if (want > 0 && lost[d] == 0)
					ok = 0
			}
			print (ok ? "ok" : "FAILED") out
		}' "$log")
	say "relay $2 (asked ${loss}% each way):$(echo "$verdict" | cut -d' ' -f2-) -> ${verdict%% *}"
	echo "relay tag=$2 asked_loss_pct=$loss ${verdict}" >>"$work/relay.txt"
	if [ "${verdict%% *}" != ok ]; then
		relay_failed=$((relay_failed + 1))
		status=1
	fi
}

# --- tunnels: each tun_start_X COND TAG sets tun_pids, tun_ip, tun_port --------------------------
umask 077
for n in s c; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$tmp/ovpn-$n.key" -out "$tmp/ovpn-$n.crt" -subj "/CN=vpnbench-$n" -days 2 \
		>/dev/null 2>&1 || die "openssl req failed"
	wg genkey >"$tmp/wg-$n.key"
	wg pubkey <"$tmp/wg-$n.key" >"$tmp/wg-$n.pub"
done
fp_s=$(openssl x509 -fingerprint -sha256 -noout -in "$tmp/ovpn-s.crt" | cut -d= -f2)
fp_c=$(openssl x509 -fingerprint -sha256 -noout -in "$tmp/ovpn-c.crt" | cut -d= -f2)
echo "vpn bench passphrase $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$tmp/kcp.key"
for n in s c; do
	"$KCPCTL" genkey >"$tmp/kcp-$n.priv" || die "kcpctl genkey failed"
	"$KCPCTL" pubkey <"$tmp/kcp-$n.priv" >"$tmp/kcp-$n.pub" || die "kcpctl pubkey failed"
done
"$KCPCTL" genpsk >"$tmp/kcp.psk" || die "kcpctl genpsk failed"

endpoint_of() { if [ -n "$(loss_of "$1")" ]; then echo "$RELAY"; else echo "$S_IP:$tun_port"; fi; }

kcp_up() { [ "$("$KCPCTL" -s "$1" status --json | jq -r '.peers[0].state')" = up ]; }

# kcp_keys MODE CRYPT SIDE PEER_SIDE: the key lines of SIDE's [Interface] (PEER_SIDE empty) or
# [Peer] section (PEER_SIDE the other side) for compat mode with CRYPT or for secure mode.
kcp_keys() {
	case $1.${4:-} in
	compat.) printf 'Mode = compat\nCrypt = %s\nKeyFile = %s\n' "$2" "$tmp/kcp.key" ;;
	secure.) printf 'Mode = secure\nPrivateKeyFile = %s\n' "$tmp/kcp-$3.priv" ;;
	secure.?) printf 'PublicKey = %s\nPresharedKey = %s\n' "$(cat "$tmp/kcp-$4.pub")" \
		"$(cat "$tmp/kcp.psk")" ;;
	esac
}

# tun_start_kcp COND TAG MODE CRYPT (CRYPT for compat mode; secure mode takes the default Cipher)
tun_start_kcp() {
	local cond=$1 tag=$2 mode=$3 crypt=$4 fec=off
	tun_port=4000
	tun_ip=10.9.0.1
	case $cond in rtt50-loss0 | clean) ;; *) fec=10:3 ;; esac
	cat >"$tmp/kcp-s.conf" <<CONF
[Interface]
Name = vbks$$
$(kcp_keys "$mode" "$crypt" s)
ListenPort = $tun_port
Address = 10.9.0.1/24
FEC = $fec
Profile = fast3
$([ -z "$wnd" ] || printf 'SndWnd = %s\nRcvWnd = %s\n' "$wnd" "$wnd")
ControlSocket = $tmp/kcp-s.sock

[Peer]
Name = client
$(kcp_keys "$mode" "$crypt" s c)
AllowedIPs = 10.9.0.2/32
CONF
	cat >"$tmp/kcp-c.conf" <<CONF
[Interface]
Name = vbkc$$
$(kcp_keys "$mode" "$crypt" c)
Address = 10.9.0.2/24
FEC = $fec
Profile = fast3
$([ -z "$wnd" ] || printf 'SndWnd = %s\nRcvWnd = %s\n' "$wnd" "$wnd")
ControlSocket = $tmp/kcp-c.sock

[Peer]
Name = server
$(kcp_keys "$mode" "$crypt" c s)
Endpoint = $(endpoint_of "$cond")
AllowedIPs = 10.9.0.1/32
PersistentKeepalive = 2
CONF
	"$KCPVPND" -n -c "$tmp/kcp-s.conf" >"$work/logs/$tag.check.log" 2>&1 &&
		"$KCPVPND" -n -c "$tmp/kcp-c.conf" >>"$work/logs/$tag.check.log" 2>&1 ||
		{ cat "$work/logs/$tag.check.log" >&2; return 1; }
	rm -f "$tmp/kcp-s.sock" "$tmp/kcp-c.sock"
	bg "$S" "$work/logs/$tag.server.log" "$KCPVPND" -f -c "$tmp/kcp-s.conf"
	tun_pids=("$last")
	bg "$C" "$work/logs/$tag.client.log" "$KCPVPND" -f -c "$tmp/kcp-c.conf"
	tun_pids+=("$last")
	poll 20 kcp_up "$tmp/kcp-c.sock"
}

tun_start_wg() {
	local cond=$1 tag=$2
	tun_port=51820
	tun_ip=10.10.0.1
	bg "$S" "$work/logs/$tag.server.log" wireguard-go -f "vbws$$"
	tun_pids=("$last")
	bg "$C" "$work/logs/$tag.client.log" wireguard-go -f "vbwc$$"
	tun_pids+=("$last")
	poll 10 test -S "/var/run/wireguard/vbws$$.sock" || return 1
	poll 10 test -S "/var/run/wireguard/vbwc$$.sock" || return 1
	ip netns exec "$S" wg set "vbws$$" listen-port "$tun_port" private-key "$tmp/wg-s.key" \
		peer "$(cat "$tmp/wg-c.pub")" allowed-ips 10.10.0.2/32 || return 1
	ip netns exec "$C" wg set "vbwc$$" private-key "$tmp/wg-c.key" \
		peer "$(cat "$tmp/wg-s.pub")" allowed-ips 10.10.0.1/32 \
		endpoint "$(endpoint_of "$cond")" || return 1
	ip -n "$S" addr add 10.10.0.1/24 dev "vbws$$" && ip -n "$S" link set "vbws$$" up &&
		ip -n "$C" addr add 10.10.0.2/24 dev "vbwc$$" && ip -n "$C" link set "vbwc$$" up
}

tun_start_ovpn() {
	local cond=$1 tag=$2 ep common
	tun_port=1194
	tun_ip=10.11.0.1
	ep=$(endpoint_of "$cond")
	common=(--dev-type tun --proto udp --data-ciphers AES-256-GCM --disable-dco --verb 3
		--connect-retry 1 --hand-window 30)
	bg "$S" "$work/logs/$tag.server.log" openvpn "${common[@]}" --dev "vbos$$" \
		--local "$S_IP" --lport "$tun_port" --ifconfig 10.11.0.1 10.11.0.2 --tls-server \
		--dh none --cert "$tmp/ovpn-s.crt" --key "$tmp/ovpn-s.key" --peer-fingerprint "$fp_c"
	tun_pids=("$last")
	poll 10 listening "$S" u "$tun_port" || return 1
	bg "$C" "$work/logs/$tag.client.log" openvpn "${common[@]}" --dev "vboc$$" \
		--remote "${ep%:*}" "${ep##*:}" --nobind --ifconfig 10.11.0.2 10.11.0.1 \
		--tls-client --cert "$tmp/ovpn-c.crt" --key "$tmp/ovpn-c.key" --peer-fingerprint "$fp_s"
	tun_pids+=("$last")
	poll 30 grep -q "Data Channel: cipher 'AES-256-GCM'" "$work/logs/$tag.client.log"
}

# tun_start TUNNEL COND TAG
tun_start() {
	case $1 in
	kcpvpnd) tun_start_kcp "$2" "$3" compat aes-128 ;;
	kcpvpnd_salsa20) tun_start_kcp "$2" "$3" compat salsa20 ;;
	kcpvpnd_secure) tun_start_kcp "$2" "$3" secure - ;;
	wireguard_go) tun_start_wg "$2" "$3" ;;
	openvpn) tun_start_ovpn "$2" "$3" ;;
	esac
}

tun_port_of() {
	case $1 in kcpvpnd*) echo 4000 ;; wireguard_go) echo 51820 ;; openvpn) echo 1194 ;; esac
}

# --- measurements ------------------------------------------------------------------------------
measure_ping() {
	local t=$1 cond=$2 tag=$3 out avg loss
	out=$(ip netns exec "$C" ping -c "$pings" -i 0.2 -W 2 -q "$tun_ip" 2>&1)
	echo "$out" >"$work/logs/$tag.ping.log"
	loss=$(echo "$out" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
	avg=$(echo "$out" | sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
	rec "$t" ping "$cond" - avg ms "${avg:--}"
	rec "$t" ping "$cond" - loss % "${loss:--}"
	say "$tag ping: avg ${avg:--} ms, loss ${loss:--}%"
}

measure_tcp() {
	local t=$1 cond=$2 cc=$3 tag=$4 json=$work/logs/$4.iperf.json srv c0 c1 mbps got cpu
	bg "$S" "$work/logs/$tag.iperf-s.log" iperf3 -s -1 -p 5201
	srv=$last
	poll 5 listening "$S" t 5201 || { say "iperf3 server did not start"; stop "$srv"; return; }
	c0=$(cpu_ticks "${tun_pids[@]}")
	ip netns exec "$C" timeout $((secs + 40)) iperf3 -c "$tun_ip" -p 5201 -t "$secs" -C "$cc" \
		-J >"$json" 2>&1
	c1=$(cpu_ticks "${tun_pids[@]}")
	stop "$srv"
	mbps=$(jq -r '.end.sum_received.bits_per_second / 1e6 * 100 | floor / 100' "$json" \
		2>/dev/null)
	got=$(jq -r '.end.sender_tcp_congestion // empty' "$json" 2>/dev/null)
	if [ -z "$mbps" ] || [ "$mbps" = null ] || [ "$got" != "$cc" ]; then
		say "$tag: iperf3 failed or ran on \"$got\" (see $json)"
		mbps=-
		cpu=-
		status=1
	else
		cpu=$(awk -v d=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.2f", d / hz }')
	fi
	rec "$t" tcp "$cond" "$cc" - Mbit/s "$mbps"
	rec "$t" cpu "$cond" "$cc" - cpu_s "$cpu"
	say "$tag tcp $cc: $mbps Mbit/s, tunnel CPU $cpu s," \
		"retransmits $(jq -r '.end.sum_sent.retransmits // "-"' "$json" 2>/dev/null)"
}

measure_rr() {
	local t=$1 cond=$2 cc=$3 tag=$4 srv out rc k v
	bg "$S" "$work/logs/$tag.rr-s.log" "$RR" server -C "$cc" -t 30 "$tun_ip" 5300
	srv=$last
	poll 5 listening "$S" t 5300 || { say "rr server did not start"; stop "$srv"; return; }
	out=$(ip netns exec "$C" timeout 40 "$RR" client -C "$cc" -d 10 -i 10 -s 1024 -w 15 \
		-o "$work/logs/$tag.rr-series.txt" \
		"$tun_ip" 5300 2>"$work/logs/$tag.rr-c.log")
	rc=$?
	stop "$srv"
	echo "$out" >>"$work/logs/$tag.rr-c.log"
	say "$tag rr: $out"
	if [ $rc -ne 0 ] || ! echo "$out" | grep -q "^rr cc=$cc "; then
		say "$tag rr: failed (exit $rc) or not on $cc; figures dropped"
		out=
		status=1
	fi
	for k in p50 p99 max; do
		v=$(echo "$out" | tr ' ' '\n' | sed -n "s/^${k}_ms=//p")
		rec "$t" rr "$cond" "$cc" "$k" ms "${v:--}"
	done
}

# --- the run -----------------------------------------------------------------------------------
load0=$(cut -d' ' -f1-3 /proc/loadavg)
say "machine: $(nproc) cores, shared with other jobs; load average $load0"
# the bare link, for "idle ping within 0.3 ms of the raw link": the same pings, no tunnel
raw_out=$(ip netns exec "$C" ping -c "$pings" -i 0.2 -W 2 -q "$S_IP" 2>&1)
raw_ping=$(echo "$raw_out" | sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
say "raw veth ping: avg ${raw_ping:--} ms"
: >"$work/relay.txt"
relay_failed=0
mkdir -p "$work/plot"
rm -f "$work"/plot/*.dat
t_start=$(date +%s)
for cond in $conds; do
	for t in $tunnels; do
		tag=$cond.$t
		say "== $t, $cond"
		tun_port=$(tun_port_of "$t")
		if ! relay_start "$cond" "$tun_port" "$tag"; then
			status=1
			continue
		fi
		if ! tun_start "$t" "$cond" "$tag" || ! poll 20 ip netns exec "$C" ping -c 1 -W 1 "$tun_ip"
		then
			say "$t did not come up on $cond (logs: $work/logs/$tag.*.log)"
			tail -n 5 "$work/logs/$tag.client.log" "$work/logs/$tag.server.log" >&2 2>/dev/null
			status=1
			stop "${tun_pids[@]}"
			relay_check "$cond" "$tag"
			continue
		fi
		measure_ping "$t" "$cond" "$tag"
		for cc in $ccs; do
			measure_tcp "$t" "$cond" "$cc" "$tag.$cc"
		done
		case " $rr_conds " in *" $cond "*)
			case $t in kcpvpnd*)
				# small messages fill a 10-shard FEC group in 100 ms: parity would
				# come later than a retransmission, so interactive traffic gets
				# small groups, set live as a user would (VPNBENCH_RR_FEC)
				"$KCPCTL" -s "$tmp/kcp-c.sock" tune fec="$rr_fec" >/dev/null &&
					"$KCPCTL" -s "$tmp/kcp-s.sock" tune fec="$rr_fec" >/dev/null ||
					say "kcpctl tune fec=$rr_fec failed"
				;;
			esac
			for cc in $ccs; do
				measure_rr "$t" "$cond" "$cc" "$tag.$cc"
			done
			;;
		esac
		case $t in kcpvpnd*)
			"$KCPCTL" -s "$tmp/kcp-c.sock" status --json >"$work/logs/$tag.status-c.json" 2>&1
			"$KCPCTL" -s "$tmp/kcp-s.sock" status --json >"$work/logs/$tag.status-s.json" 2>&1
			;;
		esac
		stop "${tun_pids[@]}"
		relay_check "$cond" "$tag"
	done
done
say "measured in $(($(date +%s) - t_start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"

{
	echo "# vpn-bench $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores of a VM shared with other jobs"
	echo "# (load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end):" \
		"figures move between runs, tails most."
	echo "# raw veth ping (no tunnel): avg ${raw_ping:--} ms"
	echo "bench=ping cond=raw-veth cc=- stat=avg link=${raw_ping:--} unit=ms"
	echo "# kcpvpnd: $(git -C "$top" rev-parse --short HEAD 2>/dev/null), OpenSSL build;" \
		"$(wireguard-go --version 2>&1 | head -1); $(openvpn --version | head -1 | cut -d' ' -f1-2)"
	echo "# ratio_wg = kcpvpnd / wireguard_go (ratio_wg_salsa20, ratio_wg_secure alike): above 1" \
		"is better for tcp, worse for cpu, ping, rr;" \
		"cpu = CPU s of both tunnel processes during the ${secs} s tcp run"
	echo "# relay checks: $(grep -c ' ok ' "$work/relay.txt") ok, $relay_failed failed" \
		"(counters in relay.txt)"
	awk -f "$top/bench/vpn/report.awk" -v plotdata="$work/plot" "$raw"
} >"$work/results.txt"
cat "$work/results.txt"

if [ -z "$ccs" ]; then
	say "no tcp runs (VPNBENCH_CCS empty): no plot"
elif gnuplot -e "datadir='$work/plot'; out='$work/vpn-bench.png'" "$top/bench/vpn/plot.gp" \
	>"$work/logs/gnuplot.log" 2>&1; then
	say "plot: $work/vpn-bench.png"
else
	cat "$work/logs/gnuplot.log" >&2
	say "gnuplot failed"
	status=1
fi
[ $status -eq 0 ] || say "some runs failed or were flagged (see above and $work/logs)"
exit $status
