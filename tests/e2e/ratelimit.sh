#!/bin/bash
# RateLimit paces what a peer's session sends; kcpctl tune ratelimit= changes it live.
#
#   ns S (server)                               ns C (client)
#   kcpvpnd ListenPort 4000                     kcpvpnd Endpoint 10.208.0.1:4000
#   RateLimit = 20M ([Interface])               RateLimit = 100M ([Interface]),
#                                               20M ([Peer] server: the override wins)
#   TUN 10.9.0.1/24                             TUN 10.9.0.2/24
#   veth 10.208.0.1/24 ==================== veth 10.208.0.2/24
#
# Checks: no ping before the tunnel (negative control); status shows the interface's and the
# peer's limits; iperf3 TCP client -> server measures 20 Mbit/s +-25% and the client's session
# waited for the limit (paced_flushes > 0); after `tune ratelimit=8M` on the client, 8 Mbit/s
# +-25%; the server's tuned 8M outlives a new session (the client restarts) and paces
# server -> client; a RateLimit changed by SIGHUP applies to the running session; after
# `tune ratelimit=0` on both sides TCP goes clearly above 20 Mbit/s (the positive control:
# without a limit the link is faster than any limit tested). Every figure is printed.
#
# The limit counts UDP payload (IP packets with KCP and cipher headers, acknowledgements); TCP
# goodput through the tunnel is about 93% of it (1260 of the 1356 bytes of a full datagram),
# well inside the tolerance.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root ratelimit
e2e_need_tools iperf3 jq bc
T0=$(date +%s.%N)

S=kcpS$$
C=kcpC$$
netns_add "$S"
netns_add "$C"
veth_link "$S" 10.208.0.1/24 "$C" 10.208.0.2/24

server_conf() { # server_conf RATE
	cat <<CONF
[Interface]
Name = ks$$
Mode = compat
ListenPort = 4000
Address = 10.9.0.1/24
Crypt = aes-128
Key = rate limit test
RateLimit = $1
ControlSocket = $E2E_TMP/server.sock

[Peer]
Name = client
AllowedIPs = 10.9.0.2/32
CONF
}
server_conf 20M >"$E2E_TMP/server.conf"
cat >"$E2E_TMP/client.conf" <<CONF
[Interface]
Name = kc$$
Mode = compat
Address = 10.9.0.2/24
Crypt = aes-128
Key = rate limit test
RateLimit = 100M
ControlSocket = $E2E_TMP/client.sock

[Peer]
Name = server
Endpoint = 10.208.0.1:4000
AllowedIPs = 10.9.0.1/32
PersistentKeepalive = 2
RateLimit = 20M
CONF
for side in server client; do
	[ "$("$KCPVPND" -n -c "$E2E_TMP/$side.conf")" = "configuration OK" ] || fail "$side config"
done

# status_of SIDE JQ: a figure of SIDE's kcpctl status --json.
status_of() { "$KCPCTL" -s "$E2E_TMP/$1.sock" status --json | jq -r "$2"; }

# iperf_mbit NAME SECONDS [iperf3 options]: iperf3 TCP from C to the server's tunnel address;
# prints the received Mbit/s (one decimal), its JSON in $E2E_TMP/NAME.json.
PORT=5300
iperf_mbit() {
	local name=$1 secs=$2
	shift 2
	PORT=$((PORT + 1))
	ip netns exec "$S" timeout $((secs + 20)) iperf3 -s -1 -p "$PORT" >"$E2E_TMP/$name.server" 2>&1 &
	E2E_PIDS+=("$!")
	wait_for 5 "iperf3 server on $PORT" tcp_listening "$S" "$PORT"
	ip netns exec "$C" timeout $((secs + 15)) iperf3 -c 10.9.0.1 -p "$PORT" -t "$secs" -J "$@" \
		>"$E2E_TMP/$name.json" 2>&1 || fail "iperf3 $name did not complete"
	jq '.end.sum_received.bits_per_second / 1e6 | . * 10 | floor / 10' "$E2E_TMP/$name.json"
}

# tcp_figures NAME: TCP's retransmissions and mean RTT (the sender's) of iperf3 run NAME.
tcp_figures() {
	jq -r '"TCP retransmits \(.end.sum_sent.retransmits // "?"), mean RTT " +
		"\((.end.streams[0].sender.mean_rtt // 0) / 1000 | floor) ms"' "$E2E_TMP/$1.json"
}

# within MBIT LIMIT_MBIT: MBIT is within 25% of LIMIT_MBIT.
within() { [ "$(echo "$1 >= $2 * 0.75 && $1 <= $2 * 1.25" | bc)" = 1 ]; }

ip netns exec "$C" ping -c 1 -W 1 10.9.0.1 >/dev/null 2>&1 && fail "ping worked before the tunnel"
pass "no ping before the tunnel"

start_daemon "$S" "$E2E_TMP/server.conf" server
wait_for 10 "server control socket" test -S "$E2E_TMP/server.sock"
start_daemon "$C" "$E2E_TMP/client.conf" client
wait_for 10 "client control socket" test -S "$E2E_TMP/client.sock"
wait_for 10 "client sees the server up" peer_is_up "$E2E_TMP/client.sock" server
wait_for 10 "server sees the client up" peer_is_up "$E2E_TMP/server.sock" client
grep -q "not enforced" "$E2E_TMP/client.log" "$E2E_TMP/server.log" &&
	fail "a daemon still says RateLimit is not enforced"
[ "$(status_of client .interface.rate_limit_bps)" = 100000000 ] &&
	[ "$(status_of client '.peers[0].rate_limit_bps')" = 20000000 ] &&
	[ "$(status_of server '.peers[0].rate_limit_bps')" = 20000000 ] ||
	fail "status does not show the configured limits"
"$KCPCTL" -s "$E2E_TMP/client.sock" status | grep -q '^server .* 20 Mbit/s$' ||
	fail "kcpctl status does not show 20 Mbit/s for the server"
pass "both up; status shows 100M on the client's interface, 20M for each peer"

up20=$(iperf_mbit up20 5)
echo "figure: RateLimit 20M, iperf3 client -> server: $up20 Mbit/s, $(tcp_figures up20)"
within "$up20" 20 || fail "20M limit: iperf3 measured $up20 Mbit/s"
paced=$(status_of client '.peers[0].paced_flushes')
[ "$paced" -gt 0 ] || fail "the client's session never waited for the limit"
pass "20M: $up20 Mbit/s, the client's data waited for the limit $paced times"

"$KCPCTL" -s "$E2E_TMP/client.sock" tune server ratelimit=8M >/dev/null || fail "tune ratelimit=8M"
[ "$(status_of client '.peers[0].rate_limit_bps')" = 8000000 ] || fail "status does not show 8M"
"$KCPCTL" -s "$E2E_TMP/client.sock" tune server ratelimit=8X >"$E2E_TMP/tune.out" 2>&1
[ $? -eq 1 ] && grep -q "ratelimit: expected bits per second" "$E2E_TMP/tune.out" ||
	fail "tune ratelimit=8X not refused: $(cat "$E2E_TMP/tune.out")"
up8=$(iperf_mbit up8 5)
echo "figure: tuned 8M, iperf3 client -> server: $up8 Mbit/s, $(tcp_figures up8)"
within "$up8" 8 || fail "tuned 8M: iperf3 measured $up8 Mbit/s"
pass "tune ratelimit=8M applies live: $up8 Mbit/s (a malformed value is refused)"

# The server's tuning outlives the session: the client restarts (new conversation), and the
# server's new session for it keeps 8M, which paces server -> client.
"$KCPCTL" -s "$E2E_TMP/server.sock" tune client ratelimit=8M >/dev/null || fail "tune server side"
conv0=$(status_of server '.peers[0].conv')
kill -TERM "$PID_client"
wait "$PID_client"
start_daemon "$C" "$E2E_TMP/client.conf" client
wait_for 10 "client back up" peer_is_up "$E2E_TMP/client.sock" server
new_conv() { [ "$(status_of server '.peers[0].conv')" != "$conv0" ]; }
wait_for 10 "the server's new session" new_conv
[ "$(status_of server '.peers[0].rate_limit_bps')" = 8000000 ] ||
	fail "the server's tuned limit was lost with the session"
down8=$(iperf_mbit down8 5 -R)
echo "figure: server's tuned 8M after a new session, iperf3 server -> client: $down8 Mbit/s"
within "$down8" 8 || fail "tuned 8M after a new session: iperf3 -R measured $down8 Mbit/s"
pass "tuning survives a new session: server -> client $down8 Mbit/s"

# A RateLimit changed by SIGHUP applies to the running session, over the tuning.
conv1=$(status_of server '.peers[0].conv')
server_conf 12M >"$E2E_TMP/server.conf"
kill -HUP "$PID_server"
wait_for 10 "reload" grep -q "reloaded file=" "$E2E_TMP/server.log"
[ "$(status_of server '.peers[0].rate_limit_bps')" = 12000000 ] &&
	[ "$(status_of server .interface.rate_limit_bps)" = 12000000 ] ||
	fail "SIGHUP did not apply RateLimit = 12M"
[ "$(status_of server '.peers[0].conv')" = "$conv1" ] || fail "SIGHUP renewed the session"
pass "SIGHUP applies a new RateLimit to the running session (conv $conv1 kept)"

"$KCPCTL" -s "$E2E_TMP/client.sock" tune ratelimit=0 >/dev/null || fail "tune client ratelimit=0"
"$KCPCTL" -s "$E2E_TMP/server.sock" tune ratelimit=0 >/dev/null || fail "tune server ratelimit=0"
[ "$(status_of client '.peers[0].rate_limit_bps')" = 0 ] || fail "status does not show 0"
"$KCPCTL" -s "$E2E_TMP/client.sock" status | grep -q '^server .* off$' ||
	fail "kcpctl status does not show the limit off"
up0=$(iperf_mbit up0 5)
echo "figure: ratelimit=0, iperf3 client -> server: $up0 Mbit/s, $(tcp_figures up0)"
[ "$(echo "$up0 > 20 * 1.5" | bc)" = 1 ] || fail "unlimited: only $up0 Mbit/s"
pass "ratelimit=0 lifts the limit: $up0 Mbit/s (20M gave $up20)"
echo "ratelimit: all checks passed in $(printf %.0f "$(echo "$(date +%s.%N) - $T0" | bc)") s"
