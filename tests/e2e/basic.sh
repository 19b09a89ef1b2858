#!/bin/bash
# One server, one client, compat mode (aes-128, FEC 10:3), in two network namespaces:
#
#   ns S (server)                               ns C (client)
#   kcpvpnd ListenPort 4000                     kcpvpnd Endpoint 10.201.0.1:4000
#   TUN 10.9.0.1/24 fd00:9::1/64                TUN 10.9.0.2/24 fd00:9::2/64
#   veth 10.201.0.1/24 ==================== veth 10.201.0.2/24
#
# Checks: no ping before the tunnel (negative control); kcpctl status shows the peer up on
# both sides; ping v4 and v6 through the tunnel; iperf3 TCP both ways with the data checked by
# iperf3's own accounting; counters moved; garbage UDP and a garbage control line leave the
# daemon working; SIGTERM removes the TUN and exits 0.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root basic

S=kcpS$$
C=kcpC$$
netns_add "$S"
netns_add "$C"
veth_link "$S" 10.201.0.1/24 "$C" 10.201.0.2/24

cat >"$E2E_TMP/server.conf" <<CONF
[Interface]
Name = ks$$
Mode = compat
ListenPort = 4000
Address = 10.9.0.1/24, fd00:9::1/64
Crypt = aes-128
Key = e2e shared passphrase
FEC = 10:3
ControlSocket = $E2E_TMP/server.sock

[Peer]
Name = client
AllowedIPs = 10.9.0.2/32, fd00:9::2/128
CONF
cat >"$E2E_TMP/client.conf" <<CONF
[Interface]
Name = kc$$
Mode = compat
Address = 10.9.0.2/24, fd00:9::2/64
Crypt = aes-128
Key = e2e shared passphrase
FEC = 10:3
ControlSocket = $E2E_TMP/client.sock

[Peer]
Name = server
Endpoint = 10.201.0.1:4000
AllowedIPs = 10.9.0.1/32, fd00:9::1/128
PersistentKeepalive = 2
CONF

[ "$("$KCPVPND" -n -c "$E2E_TMP/server.conf")" = "configuration OK" ] || fail "server config"
[ "$("$KCPVPND" -n -c "$E2E_TMP/client.conf")" = "configuration OK" ] || fail "client config"

# negative control: nothing answers on the tunnel address yet
ip netns exec "$C" ping -c 1 -W 1 10.9.0.1 >/dev/null 2>&1 && fail "ping worked before the tunnel"
pass "no ping before the tunnel"

start_daemon "$S" "$E2E_TMP/server.conf" server
wait_for 10 "server control socket" test -S "$E2E_TMP/server.sock"
# the client runs at the configured LogLevel (info by default), not -d debug
start_daemon "$C" "$E2E_TMP/client.conf" client config-loglevel
wait_for 10 "client control socket" test -S "$E2E_TMP/client.sock"
wait_for 10 "client sees the server up" peer_is_up "$E2E_TMP/client.sock" server
wait_for 10 "server sees the client up" peer_is_up "$E2E_TMP/server.sock" client
pass "both peers up (kcpctl status)"
wait_for 5 "info-level log line" grep -q "session up peer=server" "$E2E_TMP/client.log"
pass "LogLevel info logs the session at the default level"

ip netns exec "$C" ping -c 3 -i 0.2 -W 2 10.9.0.1 >"$E2E_TMP/ping4.log" 2>&1 || fail "ping v4"
pass "ping v4 through the tunnel"
wait_for 10 "IPv6 addresses ready" ip netns exec "$C" ping -6 -c 1 -W 1 fd00:9::1
ip netns exec "$C" ping -6 -c 3 -i 0.2 -W 2 fd00:9::1 >"$E2E_TMP/ping6.log" 2>&1 || fail "ping v6"
pass "ping v6 through the tunnel"

ip netns exec "$S" iperf3 -s -1 -p 5201 >"$E2E_TMP/iperf-s1.log" 2>&1 &
E2E_PIDS+=($!)
wait_for 5 "iperf3 server" tcp_listening "$S" 5201
ip netns exec "$C" timeout 30 iperf3 -c 10.9.0.1 -p 5201 -t 3 -J >"$E2E_TMP/iperf-up.json" 2>&1 ||
	fail "iperf3 client -> server"
up=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$E2E_TMP/iperf-up.json")
ip netns exec "$S" iperf3 -s -1 -p 5202 >"$E2E_TMP/iperf-s2.log" 2>&1 &
E2E_PIDS+=($!)
wait_for 5 "iperf3 server" tcp_listening "$S" 5202
ip netns exec "$C" timeout 30 iperf3 -c 10.9.0.1 -p 5202 -t 3 -R -J >"$E2E_TMP/iperf-down.json" 2>&1 ||
	fail "iperf3 server -> client"
down=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$E2E_TMP/iperf-down.json")
[ "${up:-0}" -gt 0 ] && [ "${down:-0}" -gt 0 ] || fail "iperf3 moved no data ($up / $down Mbit/s)"
pass "iperf3 TCP both ways: up $up Mbit/s, down $down Mbit/s"

rx=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.peers[0].rx_packets')
[ "${rx:-0}" -gt 100 ] || fail "server counted $rx packets from the client"
wire=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.peers[0].wire_rx_bytes')
payload=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.peers[0].rx_bytes')
ovh=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.peers[0].overhead_pct | floor')
[ "$wire" -ge "$payload" ] && [ "$ovh" -ge 0 ] ||
	fail "wire bytes in ($wire) below payload ($payload), overhead $ovh%"
pass "counters moved (server rx_packets $rx, wire_rx_bytes $wire >= rx_bytes $payload)"

# a firewall dropping 10% of the server's datagrams: a refused datagram costs one send error
# at most (sendmmsg reports an error only for a batch's first message; the daemon retries from
# the failed one, which the random rule may pass the second time), so the daemon's count can
# never exceed the firewall's (a batch dropped whole on the first error gave about 3x as many)
ip netns exec "$S" nft -f - <<NFT || fail "nft"
table inet kcpe2e {
	chain out {
		type filter hook output priority 0;
		udp sport 4000 numgen random mod 100 < 10 counter drop
	}
}
NFT
err0=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.interface.drops.udp_tx_err')
ip netns exec "$S" iperf3 -s -1 -p 5203 >/dev/null 2>&1 &
E2E_PIDS+=($!)
wait_for 5 "iperf3 server" tcp_listening "$S" 5203
ip netns exec "$C" timeout 20 iperf3 -c 10.9.0.1 -p 5203 -t 2 -R >/dev/null 2>&1 ||
	fail "iperf3 with 10% firewall drops"
err1=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.interface.drops.udp_tx_err')
nftdrops=$(ip netns exec "$S" nft -j list table inet kcpe2e | jq '[.. | .packets? // empty] | add')
ip netns exec "$S" nft delete table inet kcpe2e
[ "$nftdrops" -gt 50 ] || fail "the firewall dropped only $nftdrops datagrams"
[ $((err1 - err0)) -gt 0 ] && [ $((err1 - err0)) -le "$nftdrops" ] ||
	fail "daemon counted $((err1 - err0)) send errors for $nftdrops firewall drops"
pass "at most one send error per refused datagram ($nftdrops dropped by nft, $((err1 - err0)) counted)"

# live tuning: FEC 10:3 -> 3:2 on both sides, visible in status, traffic unaffected
"$KCPCTL" -s "$E2E_TMP/server.sock" tune client fec=3:2 >/dev/null || fail "tune server fec"
"$KCPCTL" -s "$E2E_TMP/client.sock" tune server fec=3:2 >/dev/null || fail "tune client fec"
[ "$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq -r '.peers[0].fec')" = 3:2 ] ||
	fail "status does not show fec 3:2 after tune"
ip netns exec "$C" ping -c 3 -i 0.2 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "ping after tune"
"$KCPCTL" -s "$E2E_TMP/server.sock" tune client ratelimit=10T >"$E2E_TMP/tune.out" 2>&1
[ $? -eq 1 ] && grep -q "ratelimit: expected bits per second" "$E2E_TMP/tune.out" ||
	fail "tune ratelimit=10T not refused"
"$KCPCTL" -s "$E2E_TMP/server.sock" tune client ratelimit=50M >/dev/null || fail "tune ratelimit"
"$KCPCTL" -s "$E2E_TMP/server.sock" tune client fec=10:300 >"$E2E_TMP/tune.out" 2>&1
[ $? -eq 1 ] || fail "tune fec=10:300 accepted"
"$KCPCTL" -s "$E2E_TMP/server.sock" tune nosuchpeer fec=3:2 >"$E2E_TMP/tune.out" 2>&1
[ $? -eq 1 ] || fail "tune of an unknown peer accepted"
pass "kcpctl tune fec changes FEC live; bad values and unknown peers refused"

# tuning outlives the session: the client restarts (new port, new conversation), and the
# server's new session for it keeps fec 3:2, not the config's 10:3
conv0=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq -r '.peers[0].conv')
kill -TERM "$PID_client"
wait "$PID_client"
start_daemon "$C" "$E2E_TMP/client.conf" client config-loglevel
wait_for 10 "client back up" peer_is_up "$E2E_TMP/client.sock" server
ip netns exec "$C" ping -c 2 -i 0.2 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "ping after client restart"
st=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json)
[ "$(jq -r '.peers[0].conv' <<<"$st")" != "$conv0" ] || fail "the server kept the old session"
[ "$(jq -r '.peers[0].fec' <<<"$st")" = 3:2 ] || fail "tuning lost with the session: $(jq -r '.peers[0].fec' <<<"$st")"
[ "$(jq -r '.peers[0].rate_limit_bps' <<<"$st")" = 50000000 ] ||
	fail "tuned rate limit lost with the session: $(jq -r '.peers[0].rate_limit_bps' <<<"$st")"
pass "tuning survives a new session (fec still 3:2, ratelimit 50M after the client restarted)"

# garbage: random UDP at the server's port, and bad lines on the control socket
auth_before=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.interface.drops.auth')
for i in $(seq 50); do
	head -c $((RANDOM % 1400 + 1)) /dev/urandom |
		ip netns exec "$C" socat -u - UDP-SENDTO:10.201.0.1:4000 2>/dev/null
done
auth_after=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.interface.drops.auth')
[ "$auth_after" -gt "$auth_before" ] || fail "garbage UDP not counted ($auth_before -> $auth_after)"
reply=$(printf '{"cmd":\n[1,2]\n{"cmd":"frobnicate"}\n' |
	timeout 5 socat -t 2 - UNIX-CONNECT:"$E2E_TMP/server.sock")
[ "$(echo "$reply" | jq -r .error | tr '\n' ' ')" = "bad_request bad_request unknown_command " ] ||
	fail "control garbage replies: $reply"
ip netns exec "$C" ping -c 2 -i 0.2 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "ping after garbage"
pass "garbage UDP counted ($auth_before -> $auth_after), bad control lines answered, tunnel works"

# SIGTERM: exit 0, TUN gone
kill -TERM "$PID_client"
for _ in $(seq 50); do kill -0 "$PID_client" 2>/dev/null || break; sleep 0.1; done
wait "$PID_client"
rc=$?
[ $rc -eq 0 ] || fail "client exited $rc on SIGTERM"
ip -n "$C" link show "kc$$" >/dev/null 2>&1 && fail "client TUN still there after SIGTERM"
pass "SIGTERM: exit 0, TUN removed"
echo "basic: all checks passed"
