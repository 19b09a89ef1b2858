#!/bin/bash
# SIGHUP applies a changed file without disturbing unchanged peers.
#
#   ns A (client a, 10.9.0.2) ==veth== ns S (server, 10.9.0.1) ==veth== ns B (client b, 10.9.0.3)
#
# Checks: b cannot reach the server before it is configured (negative control); adding peer b
# by SIGHUP while iperf3 runs over a's tunnel: b comes up, a keeps its conversation (same conv)
# and iperf3 sees no empty interval; a bad file changes nothing and is logged with file:line;
# a file changing ListenPort is refused; removing b removes its route and its status entry.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root reload

S=kcpS$$
A=kcpA$$
B=kcpB$$
for ns in "$S" "$A" "$B"; do netns_add "$ns"; done
veth_link "$S" 10.203.0.1/24 "$A" 10.203.0.2/24
veth_link "$S" 10.204.0.1/24 "$B" 10.204.0.2/24

server_conf() { # server_conf WITH_B [LISTEN_PORT]
	cat <<CONF
[Interface]
Name = ks$$
Mode = compat
ListenPort = ${2:-4000}
Address = 10.9.0.1/24
Crypt = aes-128
Key = reload test
ControlSocket = $E2E_TMP/server.sock

[Peer]
Name = a
AllowedIPs = 10.9.0.2/32
CONF
	[ "$1" = yes ] && printf '\n[Peer]\nName = b\nAllowedIPs = 10.9.0.3/32\n'
	return 0
}
client_conf() { # client_conf NAME ADDR ENDPOINT
	cat <<CONF
[Interface]
Name = kc$1$$
Mode = compat
Address = $2/24
Crypt = aes-128
Key = reload test
ControlSocket = $E2E_TMP/$1.sock

[Peer]
Name = server
Endpoint = $3:4000
AllowedIPs = 10.9.0.1/32
PersistentKeepalive = 2
CONF
}
server_conf no >"$E2E_TMP/server.conf"
client_conf a 10.9.0.2 10.203.0.1 >"$E2E_TMP/a.conf"
client_conf b 10.9.0.3 10.204.0.1 >"$E2E_TMP/b.conf"

start_daemon "$S" "$E2E_TMP/server.conf" server
wait_for 10 "server socket" test -S "$E2E_TMP/server.sock"
start_daemon "$A" "$E2E_TMP/a.conf" a
start_daemon "$B" "$E2E_TMP/b.conf" b
wait_for 10 "a up" peer_is_up "$E2E_TMP/a.sock" server
wait_for 10 "b's daemon" test -S "$E2E_TMP/b.sock"
ip netns exec "$B" ping -c 2 -W 1 10.9.0.1 >/dev/null 2>&1 && fail "b reached the server unconfigured"
pass "b cannot reach the server before it is configured"

conv_a=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq -r '.peers[] | select(.name=="a") | .conv')
ip netns exec "$S" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
E2E_PIDS+=($!)
wait_for 5 "iperf3 server" tcp_listening "$S" 5201
ip netns exec "$A" timeout 30 iperf3 -c 10.9.0.1 -p 5201 -t 6 -i 0.5 -J >"$E2E_TMP/iperf.json" 2>&1 &
iperf_pid=$!
sleep 2
server_conf yes >"$E2E_TMP/server.conf"
kill -HUP "$PID_server"
wait_for 10 "b up after SIGHUP" peer_is_up "$E2E_TMP/b.sock" server
ip netns exec "$B" ping -c 2 -i 0.2 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "b cannot ping after SIGHUP"
wait $iperf_pid || fail "iperf3 over a failed during the reload"
empty=$(jq '[.intervals[].sum.bytes | select(. == 0)] | length' "$E2E_TMP/iperf.json")
[ "$empty" -eq 0 ] || fail "iperf3 over a had $empty empty intervals during the reload"
conv_a2=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq -r '.peers[] | select(.name=="a") | .conv')
[ "$conv_a" = "$conv_a2" ] || fail "a's session was replaced ($conv_a -> $conv_a2)"
grep -q "reloaded .*kept=1 renewed=0 added=1 removed=0" "$E2E_TMP/server.log" || fail "no reload line"
pass "SIGHUP added b; a kept conv $conv_a and iperf3 had no empty interval"

# a bad file: nothing changes, the error names file and line
printf '[Interface]\nListenPort = 4000\nFrobnicate = 1\n' >>"$E2E_TMP/server.conf"
kill -HUP "$PID_server"
wait_for 5 "error logged" grep -q "server.conf:[0-9]*: Frobnicate" "$E2E_TMP/server.log"
ip netns exec "$B" ping -c 1 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "b lost after a bad reload"
pass "a bad file is reported with file:line and changes nothing"

server_conf yes 4001 >"$E2E_TMP/server.conf"
kill -HUP "$PID_server"
wait_for 5 "restart-only change refused" grep -q "ListenPort changed and needs a restart" "$E2E_TMP/server.log"
pass "a ListenPort change is refused (needs a restart)"

# removing b: its route and its status entry go
has_route "$S" "10.9.0.3" || fail "no route for b before removal"
server_conf no >"$E2E_TMP/server.conf"
kill -HUP "$PID_server"
wait_for 5 "b's route removed" bash -c "! ip -n $S route show | grep -q 10.9.0.3"
n=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.peers | length')
[ "$n" -eq 1 ] || fail "status still lists $n peers"
ip netns exec "$A" ping -c 1 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "a lost after removing b"
pass "removing b removed its route and its status entry; a unaffected"
echo "reload: all checks passed"
