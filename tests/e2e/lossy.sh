#!/bin/bash
# TCP through the tunnel over lossy and long links: the data arrives intact, FEC rebuilds lost
# datagrams, and each measurement prints one "figure:" line (they go in the closing note).
#
# Part 1, 5% random loss each way on a short link, dropped by nft (numgen random) in the input
# hook of the receiving namespace, so the sender sees nothing, as with a lossy link:
#
#   ns S (server)                               ns C (client)
#   kcpvpnd ListenPort 4000                     kcpvpnd Endpoint 10.205.0.1:4000
#   TUN 10.9.0.1/24                             TUN 10.9.0.2/24
#   veth 10.205.0.1/24 [nft 5%]=========[nft 5%] veth 10.205.0.2/24
#
# Part 2, 50 ms round trip and 5% loss each way, made by kcpimpair in a namespace between them:
#
#   ns S2: kcpvpnd :4000      ns R2: kcpimpair --delay 25 --loss 5         ns C2: kcpvpnd
#   TUN 10.9.0.1/24           -l 10.206.0.1:4000 -u 10.207.0.2:4000        TUN 10.9.0.2/24
#   veth 10.207.0.2/24 ====== 10.207.0.1/24        10.206.0.1/24 ========= veth 10.206.0.2/24
#
# Checks, part 1: no ping before the tunnel; with FEC off (the configuration's) iperf3 TCP
# carries data and FEC recovers nothing; after `kcpctl tune fec=10:3` on both sides, iperf3 TCP
# both ways completes with TCP retransmitting under 1% of its segments (beyond the packets its
# own TUN queue dropped: there TCP meets the tunnel's capacity, as at any bottleneck, and it
# is no loss let through), and a 20 MiB file goes
# client -> server with the same sha256 (the comparison is first shown to catch one flipped
# byte), in the same session; nft dropped 3..7% each way and no sender saw a send error; FEC
# recovered shards on both sides; fec=off is taken live again. Part 2: the RTT is >= 50 ms where
# part 1's was under 45; iperf3 at 50 Mbit/s (below what the window carries at 50 ms) completes
# with TCP retransmitting under 1%; a 20 MiB file goes server -> client at full speed intact;
# status shows fec_recovered > 0 and srtt_ms >= 45 on both sides; the relay lost datagrams both
# ways; every daemon exits 0 on SIGTERM.
#
# FEC starts off and is tuned on live, not the reverse: tune changes only the running session,
# so a session restart puts the configuration's FEC back, and without FEC the client's session
# restarts (reason=dead_link) about once per 3 s of iperf3 at 5% loss, as libkcpcore resends a
# lost segment again for every two ACKs that echo the same millisecond. The restarts are
# printed; one during the FEC 10:3 measurements fails the test, as their figures would be wrong.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root lossy
KCPIMPAIR=${KCPIMPAIR:-$E2E_BUILD/tests/tools/kcpimpair}
[ -x "$KCPIMPAIR" ] || fail "$KCPIMPAIR not built"
e2e_need_tools iperf3 socat nft jq bc sha256sum
T0=$(date +%s.%N)

# figure TEXT: one line of measured figures.
figure() { echo "figure: $*"; }

# status_field SOCKET FIELD: FIELD of the first peer per kcpctl status --json.
status_field() {
	"$KCPCTL" -s "$1" status --json | jq -r --arg f "$2" '.peers[0][$f]'
}

# peer_figures SOCKET WHAT: the RTT, loss, FEC and drop figures of kcpctl status, one line.
peer_figures() {
	"$KCPCTL" -s "$1" status --json | jq -r --arg w "$2" '.interface.drops as $d |
		.peers[0] |
		"figure: \($w): srtt_ms=\(.srtt_ms) loss_pct=\(.loss_pct * 100 | round / 100)" +
		" retrans_segs=\(.retrans_segs) lost_segs=\(.lost_segs) fec=\(.fec)" +
		" fec_recovered=\(.fec_recovered) fec_parity_sent=\(.fec_parity_sent)" +
		" drop_send=\(.drop_send) udp_tx_full=\($d.udp_tx_full)"'
}

# write_configs DIR ENDPOINT FEC: DIR/server.conf and DIR/client.conf (aes-128, fast3, FEC as
# given), the client reaching the server at ENDPOINT.
write_configs() {
	cat >"$1/server.conf" <<CONF
[Interface]
Name = ks$$
Mode = compat
ListenPort = 4000
Address = 10.9.0.1/24
Crypt = aes-128
Key = lossy link test
FEC = $3
ControlSocket = $1/server.sock

[Peer]
Name = client
AllowedIPs = 10.9.0.2/32
CONF
	cat >"$1/client.conf" <<CONF
[Interface]
Name = kc$$
Mode = compat
Address = 10.9.0.2/24
Crypt = aes-128
Key = lossy link test
FEC = $3
ControlSocket = $1/client.sock

[Peer]
Name = server
Endpoint = $2
AllowedIPs = 10.9.0.1/32
PersistentKeepalive = 2
CONF
}

# tunnel_up NS_S NS_C DIR NAME: starts both daemons on DIR's configs (logs NAME_server.log and
# NAME_client.log, PIDs in PID_NAME_server and PID_NAME_client) and waits until both are up.
tunnel_up() {
	start_daemon "$1" "$3/server.conf" "$4_server"
	wait_for 10 "$4 server control socket" test -S "$3/server.sock"
	start_daemon "$2" "$3/client.conf" "$4_client"
	wait_for 10 "$4 client control socket" test -S "$3/client.sock"
	wait_for 15 "$4 client sees the server up" peer_is_up "$3/client.sock" server
	wait_for 15 "$4 server sees the client up" peer_is_up "$3/server.sock" client
}

# stop_daemon PID NAME: SIGTERM, then the exit status must be 0 within 5 s.
stop_daemon() {
	local rc
	kill -TERM "$1"
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$1" 2>/dev/null && fail "$2 still runs 5 s after SIGTERM"
	wait "$1"
	rc=$?
	[ $rc -eq 0 ] || fail "$2 exited $rc on SIGTERM"
}

# tx_dropped NS: packets the links of NS dropped on transmit: the TUN's queue, when the TCP
# sender outruns the tunnel.
tx_dropped() { ip -n "$1" -s -j link show | jq '[.[].stats64.tx.dropped] | add'; }

# iperf NS_S NS_C PORT OUT SECONDS [iperf3 options]: iperf3 TCP from NS_C to the server's tunnel
# address for SECONDS (from NS_S with -R), its JSON in OUT and the packets the sending side's
# TUN queue dropped meanwhile in TUNDROP[OUT]; fails unless iperf3 completes in time.
declare -A TUNDROP
iperf() {
	local ns_s=$1 ns_c=$2 port=$3 out=$4 secs=$5 snd=$2 d0
	shift 5
	case " $* " in *" -R "*) snd=$ns_s ;; esac
	d0=$(tx_dropped "$snd")
	ip netns exec "$ns_s" timeout $((secs + 20)) iperf3 -s -1 -p "$port" >"$out.server" 2>&1 &
	E2E_PIDS+=("$!")
	wait_for 5 "iperf3 server on $port" \
		bash -c "ip netns exec $ns_s ss -Hltn sport = :$port | grep -q ."
	ip netns exec "$ns_c" timeout $((secs + 15)) iperf3 -c 10.9.0.1 -p "$port" -t "$secs" -J \
		"$@" >"$out" 2>&1 ||
		fail "iperf3 $* did not complete: $(jq -r .error "$out" 2>/dev/null)"
	TUNDROP[$out]=$(($(tx_dropped "$snd") - d0))
}

# iperf_check OUT WHAT NAME PCT: iperf3 received data, and TCP retransmitted at most PCT% of the
# segments it sent beyond those its own TUN queue dropped (where TCP meets the tunnel's
# capacity, as at any bottleneck: not loss let through); prints the figures and keeps the
# Mbit/s in MBIT[NAME].
declare -A MBIT
iperf_check() {
	local mbit bytes retr segs drop=${TUNDROP[$1]:-0}
	mbit=$(jq '.end.sum_received.bits_per_second / 1e6 | . * 10 | floor / 10' "$1")
	bytes=$(jq '.end.sum_received.bytes' "$1")
	retr=$(jq '.end.sum_sent.retransmits' "$1")
	segs=$(jq '.end.sum_sent.bytes / 1300 | floor' "$1") # MSS in the tunnel: about 1300
	figure "$2: $mbit Mbit/s, received $bytes bytes, TCP retransmits $retr of ~$segs segments," \
		"$drop dropped by the sender's TUN queue"
	[ "${bytes:-0}" -gt 0 ] || fail "$2: iperf3 received no data"
	[ "$retr" != null ] && [ $((retr - drop)) -le $((segs * $4 / 100)) ] ||
		fail "$2: TCP retransmitted more than $4% of its segments inside the tunnel" \
			"(beyond the $drop its TUN queue dropped)"
	MBIT[$3]=$mbit
}

# sha_same A B: the two files have the same sha256.
sha_same() { [ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ]; }

# file_copy NS_FROM NS_TO TO_ADDR SRC DST WHAT: sends SRC from NS_FROM over TCP (socat, port
# 6000 of TO_ADDR) into DST in NS_TO and compares the sha256; prints the throughput.
file_copy() {
	local t0 t1 spid secs size
	ip netns exec "$2" timeout 40 socat -u TCP-LISTEN:6000,reuseaddr OPEN:"$5",creat,trunc \
		2>"$E2E_TMP/socat-recv.log" &
	spid=$!
	E2E_PIDS+=("$spid")
	wait_for 5 "socat listening" bash -c "ip netns exec $2 ss -Hltn sport = :6000 | grep -q ."
	t0=$(date +%s.%N)
	ip netns exec "$1" timeout 30 socat -u OPEN:"$4" TCP:"$3":6000 \
		2>"$E2E_TMP/socat-send.log" ||
		fail "$6: socat sender failed: $(cat "$E2E_TMP/socat-send.log")"
	wait "$spid" || fail "$6: socat receiver failed: $(cat "$E2E_TMP/socat-recv.log")"
	t1=$(date +%s.%N)
	secs=$(echo "$t1 - $t0" | bc)
	size=$(stat -c %s "$5")
	figure "$6: $size bytes in $(printf %.2f "$secs") s," \
		"$(echo "scale=1; $size * 8 / $secs / 1000000" | bc) Mbit/s"
	sha_same "$4" "$5" || fail "$6: sha256 differs ($size of $(stat -c %s "$4") bytes arrived)"
}

head -c 20M /dev/urandom >"$E2E_TMP/data.bin" || fail "making the test file"
# negative control of the file check: one flipped byte is caught
cp "$E2E_TMP/data.bin" "$E2E_TMP/flipped.bin"
printf '\x5a' | dd of="$E2E_TMP/flipped.bin" bs=1 seek=12345678 conv=notrunc status=none
sha_same "$E2E_TMP/data.bin" "$E2E_TMP/flipped.bin" && fail "sha256 misses a flipped byte"
pass "the sha256 comparison catches one flipped byte"

#### Part 1: nft drops 5% each way
S=kcpS$$
C=kcpC$$
netns_add "$S"
netns_add "$C"
veth_link "$S" 10.205.0.1/24 "$C" 10.205.0.2/24
P1=$E2E_TMP/p1
mkdir "$P1"
write_configs "$P1" 10.205.0.1:4000 off

ip netns exec "$C" ping -c 1 -W 1 10.9.0.1 >/dev/null 2>&1 && fail "ping worked before the tunnel"
pass "part 1: no ping before the tunnel"
tunnel_up "$S" "$C" "$P1" p1
# the clean link's RTT, the negative control of part 2's
ip netns exec "$C" ping -c 5 -i 0.2 -W 2 10.9.0.1 >"$E2E_TMP/p1-ping.log" 2>&1
rtt1=$(sed -n 's|.* = [0-9.]*/\([0-9.]*\)/.*|\1|p' "$E2E_TMP/p1-ping.log")
srtt1=$(status_field "$P1/client.sock" srtt_ms)
figure "part 1 clean link: ping avg ${rtt1:-none} ms, srtt_ms $srtt1"
pass "part 1: both peers up, ping through the tunnel"

for ns in "$S" "$C"; do
	ip netns exec "$ns" nft -f - <<NFT || fail "nft rules in $ns"
table inet kcplossy {
	counter seen { }
	counter dropped { }
	chain in {
		type filter hook input priority 0;
		udp dport 4000 counter name seen numgen random mod 100 < 5 counter name dropped drop
		udp sport 4000 counter name seen numgen random mod 100 < 5 counter name dropped drop
	}
}
NFT
done
# nft_count NS NAME: packets the counter NAME counted in NS.
nft_count() {
	ip netns exec "$1" nft -j list counter inet kcplossy "$2" |
		jq '.nftables[] | select(.counter) | .counter.packets'
}

# FEC off, as configured
iperf "$S" "$C" 5201 "$E2E_TMP/p1-nofec.json" 3
iperf_check "$E2E_TMP/p1-nofec.json" "part 1 iperf3 up, FEC off" nofec_up 5
figure "part 1 session restarts with FEC off:" \
	"$(grep -c 'session restart.*dead_link' "$E2E_TMP/p1_client.log") (reason=dead_link)"
peer_figures "$P1/client.sock" "part 1 client status, FEC off"
# negative control of the FEC assertions: without FEC nothing is recovered
for side in client server; do
	rec=$(status_field "$P1/$side.sock" fec_recovered)
	[ "$rec" -eq 0 ] || fail "part 1: the $side recovered $rec shards with FEC off"
done
pass "part 1: FEC off: TCP through 5% loss each way, nothing recovered by FEC"

"$KCPCTL" -s "$P1/server.sock" tune client fec=10:3 >/dev/null || fail "tune server fec=10:3"
"$KCPCTL" -s "$P1/client.sock" tune server fec=10:3 >/dev/null || fail "tune client fec=10:3"
conv=$(status_field "$P1/client.sock" conv)
for side in client server; do
	[ "$(status_field "$P1/$side.sock" fec)" = 10:3 ] || fail "$side status shows no fec 10:3"
done
iperf "$S" "$C" 5202 "$E2E_TMP/p1-up.json" 5
iperf_check "$E2E_TMP/p1-up.json" "part 1 iperf3 up, FEC 10:3" fec_up 1
iperf "$S" "$C" 5203 "$E2E_TMP/p1-down.json" 5 -R
iperf_check "$E2E_TMP/p1-down.json" "part 1 iperf3 down, FEC 10:3" fec_down 1
file_copy "$C" "$S" 10.9.0.1 "$E2E_TMP/data.bin" "$E2E_TMP/p1-recv.bin" \
	"part 1 file client -> server, FEC 10:3"
# all of it ran in the tuned session: no restart took the tuning away
[ "$(status_field "$P1/client.sock" conv)" = "$conv" ] ||
	fail "part 1: the session restarted during the FEC 10:3 measurements"
for side in client server; do
	[ "$(status_field "$P1/$side.sock" fec)" = 10:3 ] || fail "$side lost its fec 10:3 tuning"
done
pass "part 1: FEC 10:3 tuned live: iperf3 both ways, and a 20 MiB file intact"
figure "part 1 throughput up: FEC off ${MBIT[nofec_up]} Mbit/s, FEC 10:3 ${MBIT[fec_up]} Mbit/s"

for ns in "$S" "$C"; do
	seen=$(nft_count "$ns" seen)
	dropped=$(nft_count "$ns" dropped)
	pct=$(echo "scale=2; 100 * $dropped / $seen" | bc)
	figure "part 1 nft in $ns: dropped $dropped of $seen datagrams ($pct%)"
	[ "$(echo "$pct >= 3 && $pct <= 7" | bc)" = 1 ] || fail "nft dropped $pct% in $ns, not ~5%"
done
for side in client server; do
	err=$("$KCPCTL" -s "$P1/$side.sock" status --json | jq .interface.drops.udp_tx_err)
	[ "$err" -eq 0 ] || fail "part 1: the $side failed to send $err datagrams"
done
pass "part 1: nft dropped ~5% each way; the senders saw no send errors"
peer_figures "$P1/client.sock" "part 1 client status, FEC 10:3"
peer_figures "$P1/server.sock" "part 1 server status, FEC 10:3"
for side in client server; do
	rec=$(status_field "$P1/$side.sock" fec_recovered)
	[ "$rec" -gt 0 ] || fail "part 1: the $side's FEC recovered nothing through 5% loss"
done
pass "part 1: FEC 10:3 recovered shards on both sides"

"$KCPCTL" -s "$P1/server.sock" tune client fec=off >/dev/null || fail "tune server fec=off"
"$KCPCTL" -s "$P1/client.sock" tune server fec=off >/dev/null || fail "tune client fec=off"
for side in client server; do
	[ "$(status_field "$P1/$side.sock" fec)" = off ] || fail "$side status shows no fec off"
done
ip netns exec "$C" ping -c 3 -i 0.2 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "ping after fec=off"
pass "part 1: fec=off tuned live again, the tunnel still answers"
stop_daemon "$PID_p1_client" "part 1 client"
stop_daemon "$PID_p1_server" "part 1 server"

#### Part 2: 50 ms RTT, 5% loss each way through kcpimpair
S2=kcpS2$$
R2=kcpR2$$
C2=kcpC2$$
netns_add "$S2"
netns_add "$R2"
netns_add "$C2"
veth_link "$R2" 10.207.0.1/24 "$S2" 10.207.0.2/24
veth_link "$R2" 10.206.0.1/24 "$C2" 10.206.0.2/24
ip netns exec "$R2" "$KCPIMPAIR" -l 10.206.0.1:4000 -u 10.207.0.2:4000 --delay 25 --loss 5 \
	>"$E2E_TMP/relay.log" 2>&1 &
PID_relay=$!
E2E_PIDS+=("$PID_relay")
wait_for 5 "kcpimpair listening" bash -c "ip netns exec $R2 ss -Hlun sport = :4000 | grep -q ."
P2=$E2E_TMP/p2
mkdir "$P2"
write_configs "$P2" 10.206.0.1:4000 10:3
tunnel_up "$S2" "$C2" "$P2" p2
pass "part 2: both peers up through the relay"

ip netns exec "$C2" ping -c 5 -i 0.2 -W 2 10.9.0.1 >"$E2E_TMP/p2-ping.log" 2>&1
rtt2=$(sed -n 's|.* = [0-9.]*/\([0-9.]*\)/.*|\1|p' "$E2E_TMP/p2-ping.log")
figure "part 2 ping through the tunnel: avg ${rtt2:-none} ms"
# negative control: part 1's link had no such delay
[ -n "$rtt1" ] && [ "$(echo "$rtt1 < 45" | bc)" = 1 ] && [ "$srtt1" -lt 45 ] ||
	fail "part 1's RTT was already ${rtt1:-?} ms, srtt $srtt1 ms"
[ -n "$rtt2" ] && [ "$(echo "$rtt2 >= 50" | bc)" = 1 ] || fail "part 2 ping RTT ${rtt2:-?} ms"
pass "part 2: RTT through the tunnel $rtt2 ms (part 1: $rtt1 ms)"

# At full speed TCP fills the session's queue (2 x SndWnd) and retransmits what it drops, as
# at any bottleneck; at 50 Mbit/s a retransmission could only come from loss let through.
iperf "$S2" "$C2" 5204 "$E2E_TMP/p2-up.json" 5 -b 50M
iperf_check "$E2E_TMP/p2-up.json" "part 2 iperf3 up at 50 Mbit/s, FEC 10:3" p2_up 1
file_copy "$S2" "$C2" 10.9.0.2 "$E2E_TMP/data.bin" "$E2E_TMP/p2-recv.bin" \
	"part 2 file server -> client, FEC 10:3"
pass "part 2: iperf3 and a 20 MiB file intact over 50 ms and 5% loss"

peer_figures "$P2/client.sock" "part 2 client status"
peer_figures "$P2/server.sock" "part 2 server status"
for side in client server; do
	rec=$(status_field "$P2/$side.sock" fec_recovered)
	srtt=$(status_field "$P2/$side.sock" srtt_ms)
	[ "$rec" -gt 0 ] || fail "part 2: the $side's FEC recovered nothing"
	[ "$srtt" -ge 45 ] || fail "part 2: the $side's srtt_ms is $srtt"
done
pass "part 2: fec_recovered > 0 and srtt_ms >= 45 on both sides"

kill -TERM "$PID_relay"
wait "$PID_relay" || fail "kcpimpair exited $?"
for dir in up down; do
	line=$(grep "kcpimpair: $dir " "$E2E_TMP/relay.log")
	figure "part 2 relay $dir:" \
		"$(echo "$line" | grep -o 'received=[0-9]* forwarded=[0-9]* lost=[0-9]*')"
	lost=$(echo "$line" | sed -n 's/.* lost=\([0-9]*\).*/\1/p')
	[ "${lost:-0}" -gt 0 ] || fail "the relay lost nothing $dir"
done
pass "part 2: the relay dropped datagrams both ways"
stop_daemon "$PID_p2_client" "part 2 client"
stop_daemon "$PID_p2_server" "part 2 server"
echo "lossy: all checks passed in $(printf %.0f "$(echo "$(date +%s.%N) - $T0" | bc)") s"
