#!/bin/bash
# Server killed with SIGKILL and started again: the client resumes carrying traffic with no
# action, because the new server resyncs to the client's session (see DESIGN-NOTES.md).
#
#   ns S: kcpvpnd server (UDP 4000)  ==veth==  ns C: kcpvpnd client, ping 10.9.0.1 every 0.1 s
#
# Checks: traffic before; no traffic while the server is down (negative control); after the
# restart replies come back within 10 s; prints the measured outage after the restart.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root restart

S=kcpS$$
C=kcpC$$
netns_add "$S"
netns_add "$C"
veth_link "$S" 10.202.0.1/24 "$C" 10.202.0.2/24
for side in server client; do
	if [ $side = server ]; then
		peer="[Peer]
Name = client
AllowedIPs = 10.9.0.2/32"
		extra="ListenPort = 4000"
		addr=10.9.0.1/24
	else
		peer="[Peer]
Name = server
Endpoint = 10.202.0.1:4000
AllowedIPs = 10.9.0.1/32
PersistentKeepalive = 2"
		extra=""
		addr=10.9.0.2/24
	fi
	cat >"$E2E_TMP/$side.conf" <<CONF
[Interface]
Name = k${side:0:1}$$
Mode = compat
$extra
Address = $addr
Crypt = aes-128
Key = restart test
FEC = 10:3
ControlSocket = $E2E_TMP/$side.sock

$peer
CONF
done

start_daemon "$S" "$E2E_TMP/server.conf" server
wait_for 10 "server socket" test -S "$E2E_TMP/server.sock"
start_daemon "$C" "$E2E_TMP/client.conf" client
wait_for 10 "client sees the server up" peer_is_up "$E2E_TMP/client.sock" server
ip netns exec "$C" ping -c 2 -W 2 10.9.0.1 >/dev/null || fail "no traffic before the restart"
pass "traffic before the restart"

# a steady ping: one line per reply, with a timestamp
ip netns exec "$C" ping -D -i 0.1 -W 1 10.9.0.1 >"$E2E_TMP/ping.log" 2>&1 &
E2E_PIDS+=($!)
sleep 1
kill -KILL "$PID_server"
wait "$PID_server" 2>/dev/null
# negative control: while the server is down, nothing answers
n0=$(grep -c 'bytes from' "$E2E_TMP/ping.log")
sleep 1.5
n1=$(grep -c 'bytes from' "$E2E_TMP/ping.log")
[ "$n1" -le $((n0 + 1)) ] || fail "replies while the server was down ($n0 -> $n1)"
pass "no replies while the server is down"

rm -f "$E2E_TMP/server.sock"
t0=$(date +%s.%N)
start_daemon "$S" "$E2E_TMP/server.conf" server
wait_for 10 "traffic after the restart" \
	bash -c "[ \$(grep -c 'bytes from' $E2E_TMP/ping.log) -gt $((n1 + 3)) ]"
t1=$(date +%s.%N)
outage=$(echo "$t1 - $t0" | bc)
pass "traffic resumed $(printf %.1f "$outage") s after the server started again"
echo "restart: all checks passed (resume_s=$(printf %.2f "$outage"))"
