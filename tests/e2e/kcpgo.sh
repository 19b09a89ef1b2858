#!/bin/bash
# A plain kcp-go endpoint as a kcpvpnd peer: tests/interop/kcpgo-tun (Debian's kcp-go 5.6.1,
# a TUN, one KCP message per IP packet, kcptun's key derivation, aes, FEC 10:3, fast3) dials a
# kcpvpnd server that knows it only by its AllowedIPs.
#
#   ns S (server)                               ns G (kcp-go)
#   kcpvpnd ListenPort 4000                     kcpgo-tun -dial 10.203.0.1:4000
#   TUN 10.9.0.1/24 fd00:9::1/64                TUN 10.9.0.2/24 fd00:9::2/64 (MTU = kcp-go's MSS)
#   veth 10.203.0.1/24 ==================== veth 10.203.0.2/24
#
# Checks, each after its negative control: the peer is down and unreachable before kcpgo-tun
# runs; kcp-go's MSS equals the server's TUN MTU; ping v4 and v6 both ways; iperf3 TCP both
# ways with full-size packets, none of them cut in two (the server's not_ip drops stay 0);
# kcpctl status shows the peer up with rx/tx packets; the server's keepalives (PersistentKeepalive
# = 1, KCP messages starting with 0x01) reach the kcp-go side, which writes them to its TUN
# where the kernel refuses them, and which acknowledges them, so the server keeps the idle peer
# up; a restarted kcpgo-tun (new port, new conv) is adopted again; SIGTERM ends it cleanly.
# KCPGO_CRYPT (aes) and KCPGO_FEC (10:3, or off) run it with another cipher or FEC.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root kcpgo

# kcpgo-tun is built (offline, cached in the build directory) unless KCPGO_TUN names one.
if [ -z "${KCPGO_TUN:-}" ]; then
	KCPGO_TUN=$("$E2E_TOP/tests/interop/kcpgo-tun/build.sh" \
		"$E2E_BUILD/tests/interop/kcpgo-tun.build") || fail "building kcpgo-tun"
fi
[ -x "$KCPGO_TUN" ] || fail "$KCPGO_TUN not built"

CRYPT=${KCPGO_CRYPT:-aes}
FEC=${KCPGO_FEC:-10:3}
if [ "$FEC" = off ]; then DS=0 PS=0; else DS=${FEC%:*} PS=${FEC#*:}; fi

S=kcpS$$
G=kcpG$$
TUN_G=kg$$
KEY="kcp-go e2e passphrase"
netns_add "$S"
netns_add "$G"
veth_link "$S" 10.203.0.1/24 "$G" 10.203.0.2/24
# no router solicitations from the kcp-go side's TUN: in the idle phase below, nothing but
# kcp-go's own KCP traffic may reach the server
ip netns exec "$G" sysctl -qw net.ipv6.conf.default.router_solicitations=0 ||
	fail "sysctl router_solicitations"

cat >"$E2E_TMP/server.conf" <<CONF
[Interface]
Name = ks$$
Mode = compat
ListenPort = 4000
Address = 10.9.0.1/24, fd00:9::1/64
Crypt = $CRYPT
Key = $KEY
FEC = $FEC
Profile = fast3
ControlSocket = $E2E_TMP/server.sock

[Peer]
Name = kcpgo
AllowedIPs = 10.9.0.2/32, fd00:9::2/128
PersistentKeepalive = 1
CONF
"$KCPVPND" -n -c "$E2E_TMP/server.conf" | grep -q "configuration OK" || fail "server config"

SOCK=$E2E_TMP/server.sock
status() { "$KCPCTL" -s "$SOCK" status --json; }
peer() { status | jq -r ".peers[0].$1"; }
peer_is_down() { [ "$(peer state)" = down ]; }
# listening NS PORT: a TCP socket listens on PORT in NS.
listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; }
# stats_lines: how many stats lines kcpgo-tun wrote so far.
stats_lines() { grep -c "^kcpgo-tun: stats " "$E2E_TMP/kcpgo.log"; }
stats_more_than() { [ "$(stats_lines)" -gt "$1" ]; }

# start_kcpgo LOGNAME: kcpgo-tun in G, waits for its "up" line.
start_kcpgo() {
	ip netns exec "$G" "$KCPGO_TUN" -dial 10.203.0.1:4000 -crypt "$CRYPT" -key "$KEY" \
		-ds "$DS" -ps "$PS" -mode fast3 -ifname "$TUN_G" -addr 10.9.0.2/24,fd00:9::2/64 \
		-timeout 55 >"$E2E_TMP/$1.log" 2>&1 &
	E2E_PIDS+=($!)
	PID_kcpgo=$!
	wait_for 10 "kcpgo-tun up" grep -q "^kcpgo-tun: up " "$E2E_TMP/$1.log"
}

# kcpgo_stats: asks kcpgo-tun for a stats line (SIGUSR1) and keeps it in STATS.
kcpgo_stats() {
	local n
	n=$(stats_lines)
	kill -USR1 "$PID_kcpgo"
	wait_for 5 "kcpgo-tun stats" stats_more_than "$n"
	STATS=$(grep "^kcpgo-tun: stats " "$E2E_TMP/kcpgo.log" | tail -1)
}
# kstat NAME: NAME's value in STATS.
kstat() { echo "$STATS" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

start_daemon "$S" "$E2E_TMP/server.conf" server
wait_for 10 "server control socket" test -S "$SOCK"

# negative controls: no session, no route to the kcp-go side
[ "$(peer state)" != up ] || fail "peer up before kcpgo-tun runs"
ip netns exec "$S" ping -c 1 -W 1 10.9.0.2 >/dev/null 2>&1 && fail "ping worked before kcpgo-tun"
pass "peer down and unreachable before kcpgo-tun runs"

start_kcpgo kcpgo
mss=$(sed -n 's/^kcpgo-tun: up .* mtu=\([0-9]*\) .*/\1/p' "$E2E_TMP/kcpgo.log")
smtu=$(status | jq '.interface.mtu')
# kcpvpnd leaves room for the FEC header even with FEC off (kcpvpnd.conf(5), MTU); kcp-go not
[ "$FEC" = off ] && smtu=$((smtu + 8))
[ "$mss" = "$smtu" ] || fail "kcp-go's MSS $mss does not match the server's TUN MTU ($smtu)"
pass "kcp-go's MSS for $CRYPT and FEC $FEC at UDP MTU 1400 fits the server's TUN MTU ($mss)"

# The server learns the peer from the source of its first IP packet: ping from the kcp-go side.
ip netns exec "$G" ping -c 3 -i 0.2 -W 2 10.9.0.1 >"$E2E_TMP/ping4-g.log" 2>&1 ||
	fail "ping v4 kcp-go -> server"
wait_for 5 "server sees the kcp-go peer up" peer_is_up "$SOCK" kcpgo
pass "ping v4 kcp-go -> server; kcpctl status shows peer kcpgo up"
ip netns exec "$S" ping -c 3 -i 0.2 -W 2 10.9.0.2 >"$E2E_TMP/ping4-s.log" 2>&1 ||
	fail "ping v4 server -> kcp-go"
pass "ping v4 server -> kcp-go"
wait_for 10 "IPv6 through the tunnel" ip netns exec "$G" ping -6 -c 1 -W 1 fd00:9::1
ip netns exec "$G" ping -6 -c 3 -i 0.2 -W 2 fd00:9::1 >"$E2E_TMP/ping6-g.log" 2>&1 ||
	fail "ping v6 kcp-go -> server"
ip netns exec "$S" ping -6 -c 3 -i 0.2 -W 2 fd00:9::2 >"$E2E_TMP/ping6-s.log" 2>&1 ||
	fail "ping v6 server -> kcp-go"
pass "ping v6 both ways"

ip netns exec "$S" iperf3 -s -1 -p 5201 >"$E2E_TMP/iperf-s1.log" 2>&1 &
E2E_PIDS+=($!)
wait_for 5 "iperf3 server" listening "$S" 5201
ip netns exec "$G" timeout 20 iperf3 -c 10.9.0.1 -p 5201 -t 2 -J >"$E2E_TMP/iperf-up.json" \
	2>&1 || fail "iperf3 kcp-go -> server"
ip netns exec "$S" iperf3 -s -1 -p 5202 >"$E2E_TMP/iperf-s2.log" 2>&1 &
E2E_PIDS+=($!)
wait_for 5 "iperf3 server" listening "$S" 5202
ip netns exec "$G" timeout 20 iperf3 -c 10.9.0.1 -p 5202 -t 2 -R -J \
	>"$E2E_TMP/iperf-down.json" 2>&1 || fail "iperf3 server -> kcp-go"
up=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$E2E_TMP/iperf-up.json")
down=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$E2E_TMP/iperf-down.json")
[ "${up:-0}" -gt 0 ] && [ "${down:-0}" -gt 0 ] || fail "iperf3 moved no data ($up / $down Mbit/s)"
pass "iperf3 TCP both ways: kcp-go -> server $up Mbit/s, server -> kcp-go $down Mbit/s"

rx=$(peer rx_packets)
tx=$(peer tx_packets)
notip=$(status | jq '.interface.drops.not_ip')
[ "${rx:-0}" -gt 100 ] && [ "${tx:-0}" -gt 100 ] || fail "server counted rx $rx tx $tx packets"
[ "$notip" -eq 0 ] || fail "server dropped $notip non-IP messages: kcp-go split a packet"
kcpgo_stats
toolong=$(kstat tun_rx_toolong)
[ "$toolong" -eq 0 ] || fail "kcpgo-tun read $toolong packets longer than its MSS"
pass "kcpctl status: peer rx_packets $rx, tx_packets $tx; no packet cut in two (not_ip 0)"

# Keepalives: idle for longer than the server's 3 s peer timeout (3 x PersistentKeepalive).
kcpgo_stats
ka0=$(kstat msg_rx_nonip)
ip0=$(kstat tun_rx)
drop0=$(ip -n "$G" -s -j link show "$TUN_G" | jq '.[0].stats64.rx.dropped')
sleep 4.5
kcpgo_stats
ka1=$(kstat msg_rx_nonip)
ip1=$(kstat tun_rx)
err1=$(kstat tun_tx_err)
drop1=$(ip -n "$G" -s -j link show "$TUN_G" | jq '.[0].stats64.rx.dropped')
first=$(kstat first_nonip)
tunerr=$(kstat last_tun_err)
[ $((ka1 - ka0)) -ge 3 ] || fail "kcp-go got $((ka1 - ka0)) keepalives in 4.5 s ($ka0 -> $ka1)"
[ "${first:0:4}" = 0101 ] || fail "first non-IP message kcp-go got starts $first, not 0101"
[ "$err1" -eq "$ka1" ] && [ "$tunerr" = EINVAL ] ||
	fail "TUN refused $err1 writes ($tunerr), kcp-go got $ka1 non-IP messages"
[ $((drop1 - drop0)) -ge $((ka1 - ka0)) ] ||
	fail "TUN rx_dropped grew by $((drop1 - drop0)), kcp-go got $((ka1 - ka0)) keepalives"
pass "kcp-go got $((ka1 - ka0)) keepalives (0x01...) in 4.5 s idle; its TUN refused each (EINVAL)"
[ "$ip1" -eq "$ip0" ] || fail "kcp-go sent $((ip1 - ip0)) IP packets while idle"
[ "$(peer state)" = up ] || fail "idle peer went $(peer state) despite kcp-go's ACKs"
ago=$(peer last_rx_ms_ago)
[ "$ago" -lt 3000 ] || fail "server heard nothing for $ago ms while sending keepalives"
ip netns exec "$G" ping -c 2 -i 0.2 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "ping after idle"
pass "idle peer stays up on kcp-go's ACKs of the keepalives (last_rx_ms_ago $ago); tunnel works"

# kcpgo-tun restarted: a new port and a new conv, adopted again by the first IP packet.
conv0=$(peer conv)
kill -TERM "$PID_kcpgo"
wait "$PID_kcpgo"
rc=$?
[ $rc -eq 0 ] || fail "kcpgo-tun exited $rc on SIGTERM"
ip -n "$G" link show "$TUN_G" >/dev/null 2>&1 && fail "kcp-go TUN still there after SIGTERM"
pass "SIGTERM: kcpgo-tun exits 0, its TUN is gone"
# negative control of the keepalive check above: without kcp-go's ACKs the peer goes down
wait_for 6 "server sees the silent peer down" peer_is_down
ip netns exec "$S" ping -c 1 -W 1 10.9.0.2 >/dev/null 2>&1 && fail "ping worked with kcpgo-tun gone"
pass "with kcpgo-tun gone the peer goes down after 3 s of silence; ping fails"
start_kcpgo kcpgo2
ip netns exec "$G" ping -c 3 -i 0.2 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "ping after restart"
conv1=$(peer conv)
[ "$conv1" != "$conv0" ] && [ "$(peer state)" = up ] ||
	fail "after the restart the peer is $(peer state) with conv $conv1 (was $conv0)"
ip netns exec "$S" ping -c 2 -i 0.2 -W 2 10.9.0.2 >/dev/null 2>&1 ||
	fail "server ping after restart"
pass "restarted kcpgo-tun adopted (conv $conv0 -> $conv1), ping both ways"
echo "kcpgo: all checks passed (up_mbps=$up down_mbps=$down)"
