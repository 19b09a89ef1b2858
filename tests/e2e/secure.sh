#!/bin/bash
# Secure mode end to end (the default mode): keys from kcpctl genkey/pubkey, a handshake,
# traffic; a wrong key gets nothing; the client changes its address under iperf3 (roaming);
# the server is SIGKILLed and restarted; a flood of spoofed handshake initiations with valid
# mac1 while the established client keeps pinging.
#
#   ns C: client  ==veth 10.204.0.0/24==  ns S: server (UDP 4100)  ==veth 10.205.0.0/24==  ns A
#   ns A floods from spoofed sources 10.250.0.0/16 (routed back to A, rp_filter off in S)
#
# Also: SIGHUP renewing the client's entry with its key kept; settings tuned live are what the
# next handshake announces (seen by the restarted server). Needs root. Numbers printed:
# roam_gap_s, flood ping replies, hup_gap_s, restart_resume_s.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root secure
HSFLOOD=${HSFLOOD:-$E2E_BUILD/tests/tools/hsflood}
[ -x "$HSFLOOD" ] || fail "$HSFLOOD not built"
e2e_need_tools iperf3

S=kcpS$$
C=kcpC$$
A=kcpA$$
netns_add "$S"
netns_add "$C"
netns_add "$A"
veth_link "$S" 10.204.0.1/24 "$C" 10.204.0.2/24
veth_link "$S" 10.205.0.1/24 "$A" 10.205.0.2/24
ip -n "$S" route add 10.250.0.0/16 via 10.205.0.2
ip netns exec "$S" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
for dev in $(ip -n "$S" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
	ip netns exec "$S" sysctl -qw "net.ipv4.conf.$dev.rp_filter=0" 2>/dev/null
done

umask 077
"$KCPCTL" genkey >"$E2E_TMP/server.key" || fail "kcpctl genkey"
"$KCPCTL" genkey >"$E2E_TMP/client.key" || fail "kcpctl genkey"
spub=$("$KCPCTL" pubkey <"$E2E_TMP/server.key") || fail "kcpctl pubkey"
cpub=$("$KCPCTL" pubkey <"$E2E_TMP/client.key") || fail "kcpctl pubkey"
psk=$("$KCPCTL" genpsk) || fail "kcpctl genpsk"
[ ${#spub} -eq 44 ] && [ ${#cpub} -eq 44 ] && [ "$spub" != "$cpub" ] || fail "bad keys"

cat >"$E2E_TMP/server.conf" <<CONF
[Interface]
Name = ks$$
ListenPort = 4100
Address = 10.9.4.1/24, fd00:9:4::1/64
PrivateKeyFile = server.key
FEC = 10:3
ControlSocket = $E2E_TMP/server.sock

[Peer]
Name = client
PublicKey = $cpub
PresharedKey = $psk
AllowedIPs = 10.9.4.2/32, fd00:9:4::2/128
CONF
client_conf() { # client_conf SERVER_PUBKEY
	cat <<CONF
[Interface]
Name = kc$$
Address = 10.9.4.2/24, fd00:9:4::2/64
PrivateKeyFile = client.key
FEC = 10:3
ControlSocket = $E2E_TMP/client.sock

[Peer]
Name = server
PublicKey = $1
PresharedKey = $psk
Endpoint = 10.204.0.1:4100
AllowedIPs = 10.9.4.1/32, fd00:9:4::1/128
PersistentKeepalive = 1
CONF
}

# --- a client with the wrong server key gets nothing, and the server spends nothing on it
wrong=$("$KCPCTL" genkey | "$KCPCTL" pubkey)
client_conf "$wrong" >"$E2E_TMP/client.conf"
start_daemon "$S" "$E2E_TMP/server.conf" server
wait_for 10 "server socket" test -S "$E2E_TMP/server.sock"
mode=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq -r .interface.mode)
[ "$mode" = secure ] || fail "default mode is $mode, not secure"
start_daemon "$C" "$E2E_TMP/client.conf" client
wait_for 10 "client socket" test -S "$E2E_TMP/client.sock"
sleep 2
ip netns exec "$C" ping -c 1 -W 1 10.9.4.1 >/dev/null 2>&1 && fail "traffic with a wrong server key"
bad=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.interface.secure_drops.bad_mac1')
[ "${bad:-0}" -ge 1 ] || fail "server did not count the wrong-key initiations (bad_mac1=$bad)"
pass "wrong server key: no session, server counted bad_mac1=$bad"
kill "$PID_client"
wait "$PID_client" 2>/dev/null

# --- the right keys: handshake, v4 and v6, iperf3 both ways
client_conf "$spub" >"$E2E_TMP/client.conf"
rm -f "$E2E_TMP/client.sock"
start_daemon "$C" "$E2E_TMP/client.conf" client
wait_for 10 "client sees the server up" peer_is_up "$E2E_TMP/client.sock" server
ip netns exec "$C" ping -c 3 -i 0.2 -W 2 10.9.4.1 >/dev/null || fail "ping v4"
ip netns exec "$C" ping -6 -c 3 -i 0.2 -W 2 fd00:9:4::1 >/dev/null || fail "ping v6"
hs=$("$KCPCTL" -s "$E2E_TMP/client.sock" status --json |
	jq -r '.peers[0].secure | "\(.handshakes_done) \(.keypair) \(.public_key)"')
read -r done haskey key <<<"$hs"
[ "$done" -ge 1 ] && [ "$haskey" = true ] && [ "$key" = "$spub" ] ||
	fail "client status: handshakes_done=$done keypair=$haskey key=$key"
pass "handshake, ping v4 and v6 (status: handshakes_done=$done, key matches)"
ip netns exec "$S" iperf3 -s -D -1 -p 5301 >/dev/null 2>&1
wait_for 5 "iperf3 server" tcp_listening "$S" 5301
ip netns exec "$C" timeout 20 iperf3 -c 10.9.4.1 -p 5301 -t 2 -J >"$E2E_TMP/iperf-up.json" 2>&1 ||
	fail "iperf3 client to server"
up=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$E2E_TMP/iperf-up.json")
[ "${up:-0}" -gt 0 ] || fail "iperf3 measured nothing"
pass "iperf3 through the secure tunnel: $up Mbit/s"

# --- roaming: the client's address changes under iperf3; the gap in replies stays < 1 s
ip netns exec "$S" iperf3 -s -D -1 -p 5302 >/dev/null 2>&1
wait_for 5 "iperf3 server" tcp_listening "$S" 5302
ip netns exec "$C" timeout 20 iperf3 -c 10.9.4.1 -p 5302 -t 6 -b 20M -J >"$E2E_TMP/iperf-roam.json" 2>&1 &
iperf_pid=$!
E2E_PIDS+=($iperf_pid)
ip netns exec "$C" ping -D -i 0.05 -W 1 -w 5 10.9.4.1 >"$E2E_TMP/ping-roam.txt" 2>&1 &
ping_pid=$!
E2E_PIDS+=($ping_pid)
sleep 2
cdev=$(ip -n "$C" -o addr show to 10.204.0.2 | awk '{print $2}')
# the new address must survive the old primary's removal
ip netns exec "$C" sysctl -qw "net.ipv4.conf.$cdev.promote_secondaries=1"
ip -n "$C" addr add 10.204.0.3/24 dev "$cdev"
ip -n "$C" addr del 10.204.0.2/24 dev "$cdev"
wait "$ping_pid"
wait "$iperf_pid" || fail "iperf3 failed across the address change"
gap=$(awk '/bytes from/ { t = substr($1, 2, length($1) - 2); if (p && t - p > g) g = t - p; p = t }
	END { printf "%.2f", g }' "$E2E_TMP/ping-roam.txt")
awk -v g="$gap" 'BEGIN { exit !(g < 1.0) }' || fail "roaming: replies stopped for $gap s"
ep=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq -r '.peers[0].endpoint')
case $ep in 10.204.0.3:*) ;; *) fail "server still sends to $ep after the client moved" ;; esac
roam=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$E2E_TMP/iperf-roam.json")
pass "roaming: the client moved to 10.204.0.3, longest gap in replies $gap s, iperf3 $roam Mbit/s, server endpoint $ep"

# --- a flood of spoofed initiations (valid mac1) while the client pings
ip netns exec "$C" ping -i 0.1 -W 1 -c 50 10.9.4.1 >"$E2E_TMP/ping-flood.txt" 2>&1 &
ping_pid=$!
E2E_PIDS+=($ping_pid)
ip netns exec "$A" "$HSFLOOD" -k "$spub" -d 10.205.0.1:4100 -s 10.250.0.0/16 -r 5000 -t 5 \
	>"$E2E_TMP/flood.txt" 2>&1 || fail "hsflood: $(cat "$E2E_TMP/flood.txt")"
wait "$ping_pid"
got=$(grep -c 'bytes from' "$E2E_TMP/ping-flood.txt")
drops=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq -c '.interface.secure_drops')
cookies=$(jq '.cookies_sent' <<<"$drops")
[ "$got" -ge 45 ] || fail "flood: only $got of 50 pings answered ($drops)"
[ "${cookies:-0}" -gt 0 ] || fail "flood: the server never demanded cookies ($drops)"
pass "flood of $(cat "$E2E_TMP/flood.txt"): $got/50 pings answered; server $drops"

# --- SIGHUP renewing the client's peer entry (same key, a new per-peer FEC): the old
# keypairs go with the old entry, the client notices within the stale time and handshakes
# again; the daemon (unprivileged now) must be able to read its files: group-readable
grp=$(id -gn kcpvpn 2>/dev/null || id -gn nobody)
chgrp "$grp" "$E2E_TMP/server.conf" "$E2E_TMP/server.key"
chmod 0640 "$E2E_TMP/server.conf" "$E2E_TMP/server.key"
sed -i 's|^AllowedIPs = 10.9.4.2/32, fd00:9:4::2/128$|&\nFEC = 3:2|' "$E2E_TMP/server.conf"
grep -q '^FEC = 3:2$' "$E2E_TMP/server.conf" || fail "could not edit the server config"
ip netns exec "$C" ping -D -i 0.1 -W 1 -w 8 10.9.4.1 >"$E2E_TMP/ping-hup.txt" 2>&1 &
ping_pid=$!
E2E_PIDS+=($ping_pid)
sleep 1
kill -HUP "$PID_server"
wait_for 5 "the server's reload" grep -q 'reloaded file=.*renewed=1' "$E2E_TMP/server.log"
wait "$ping_pid"
hupgap=$(awk '/bytes from/ { t = substr($1, 2, length($1) - 2); if (p && t - p > g) g = t - p; p = t }
	END { printf "%.2f", g }' "$E2E_TMP/ping-hup.txt")
last=$(awk '/bytes from/ { t = substr($1, 2, length($1) - 2) } END { print t }' "$E2E_TMP/ping-hup.txt")
first=$(awk '/bytes from/ { print substr($1, 2, length($1) - 2); exit }' "$E2E_TMP/ping-hup.txt")
awk -v g="$hupgap" 'BEGIN { exit !(g < 1.0) }' || fail "renewed peer: replies stopped for $hupgap s"
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b - a > 6.0) }' || fail "renewed peer: no replies at the end"
fec=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq -r '.peers[0].fec')
[ "$fec" = 3:2 ] || fail "renewed peer runs FEC $fec, not 3:2"
pass "SIGHUP renewed the peer (same key, FEC 3:2): longest gap in replies $hupgap s"

# --- server SIGKILL and restart: traffic resumes within 5 s
# (the client tuned live first: its next handshake must announce what it now runs)
"$KCPCTL" -s "$E2E_TMP/client.sock" tune fec=2:1 sndwnd=512 rcvwnd=768 >/dev/null ||
	fail "kcpctl tune on the client"
ip netns exec "$C" ping -D -i 0.1 -W 1 10.9.4.1 >"$E2E_TMP/ping-restart.txt" 2>&1 &
E2E_PIDS+=($!)
sleep 1
kill -KILL "$PID_server"
wait "$PID_server" 2>/dev/null
sleep 1.5
n1=$(grep -c 'bytes from' "$E2E_TMP/ping-restart.txt")
rm -f "$E2E_TMP/server.sock"
t0=$(date +%s.%N)
start_daemon "$S" "$E2E_TMP/server.conf" server2
wait_for 5 "traffic within 5 s of the restart" \
	bash -c "[ \$(grep -c 'bytes from' $E2E_TMP/ping-restart.txt) -gt $((n1 + 2)) ]"
t1=$(date +%s.%N)
resume=$(echo "$t1 - $t0" | bc)
pass "server restarted: traffic resumed after $(printf %.2f "$resume") s"
announced=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json |
	jq -r '.peers[0].secure.remote | "\(.fec) \(.snd_wnd) \(.rcv_wnd)"')
[ "$announced" = "2:1 512 768" ] ||
	fail "the client announced \"$announced\" in its handshake, not its tuned 2:1 512 768"
pass "the handshake announced the client's tuned settings ($announced)"
echo "secure: all checks passed (iperf_mbit=$up roam_gap_s=$gap flood_replies=$got/50 hup_gap_s=$hupgap restart_resume_s=$(printf %.2f "$resume"))"
