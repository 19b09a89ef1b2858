#!/bin/bash
# What arrives is delivered and answered at once: FEC-rebuilt packets are not left waiting for
# the next datagram, and an answer the kernel makes while the question is written to the TUN
# leaves with the question's ACK, in one datagram.
#
#   ns S (server)                               ns C (client)
#   kcpvpnd ListenPort 4000                     kcpvpnd Endpoint 10.208.0.1:4000
#   TUN 10.9.0.1/24                             TUN 10.9.0.2/24
#   veth 10.208.0.1/24 [nft: data shards] ===== veth 10.208.0.2/24
#
# Compat mode with Crypt = none, so the FEC header is readable on the wire: 16 bytes of nonce
# and 4 of CRC32, then the FEC sequence number (4) and its type (2, little-endian: 0x00f1 data,
# 0x00f2 parity) at UDP payload offset 24.
#
# Checks: (1) FEC off: 20 pings cost the server at most 24 datagrams sent (one per reply, the
# ACK of the request inside it, plus keepalive ACKs), where an ACK sent on its own would make
# it 40. (2) after `kcpctl tune fec=1:1` on both sides, nft in S drops every data shard from
# the client (its counter checked), so the server rebuilds each request from its parity alone:
# 20 pings, 0.2 s apart, are all answered within 1 s each and on average within 20 ms, and the
# server counts >= 20 FEC recoveries. A rebuilt packet that waited for the next datagram or
# timer would miss the 1 s (the client's keepalives come every 2 s).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root fecparity
e2e_need_tools nft jq bc

S=kcpFS$$
C=kcpFC$$
netns_add "$S"
netns_add "$C"
veth_link "$S" 10.208.0.1/24 "$C" 10.208.0.2/24

for side in server client; do
	if [ $side = server ]; then
		addr=10.9.0.1/24 peer=client allowed=10.9.0.2/32 extra="ListenPort = 4000"
		pextra=
	else
		addr=10.9.0.2/24 peer=server allowed=10.9.0.1/32 extra=
		pextra="Endpoint = 10.208.0.1:4000
PersistentKeepalive = 2"
	fi
	cat >"$E2E_TMP/$side.conf" <<CONF
[Interface]
Name = kf${side:0:1}$$
Mode = compat
$extra
Address = $addr
Crypt = none
Key = fec parity test
FEC = off
ControlSocket = $E2E_TMP/$side.sock

[Peer]
Name = $peer
$pextra
AllowedIPs = $allowed
CONF
done

start_daemon "$S" "$E2E_TMP/server.conf" server
start_daemon "$C" "$E2E_TMP/client.conf" client
wait_for 10 "client control socket" test -S "$E2E_TMP/client.sock"
wait_for 10 "client sees the server up" peer_is_up "$E2E_TMP/client.sock" server
wait_for 10 "server sees the client up" peer_is_up "$E2E_TMP/server.sock" client
ip netns exec "$C" ping -c 2 -i 0.2 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "ping before the checks"
pass "tunnel up (compat, Crypt = none, FEC off)"

# server_field FIELD: FIELD of the server's peer per kcpctl status --json.
server_field() { "$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq -r ".peers[0].$1"; }

# (1) the reply carries the ACK
tx0=$(server_field wire_tx_packets)
ip netns exec "$C" ping -c 20 -i 0.2 -W 2 10.9.0.1 >"$E2E_TMP/ping-ack.log" 2>&1 ||
	fail "20 pings with FEC off"
tx1=$(server_field wire_tx_packets)
sent=$((tx1 - tx0))
[ "$sent" -ge 20 ] || fail "the server sent $sent datagrams for 20 replies: counter broken?"
[ "$sent" -le 24 ] ||
	fail "the server sent $sent datagrams for 20 pings: ACKs not riding with the replies"
pass "20 pings: the server sent $sent datagrams (ACK and reply together)"

# (2) only parity reaches the server
for side in server client; do
	"$KCPCTL" -s "$E2E_TMP/$side.sock" tune fec=1:1 >/dev/null || fail "tune fec=1:1 ($side)"
done
[ "$(server_field fec)" = 1:1 ] || fail "server FEC is $(server_field fec) after tune"
ip netns exec "$S" nft -f - <<NFT || fail "nft rules in $S"
table inet kcpfec {
	counter data { }
	chain in {
		type filter hook input priority 0;
		udp dport 4000 @th,256,16 0xf100 counter name data drop
	}
}
NFT
rec0=$(server_field fec_recovered)
ip netns exec "$C" ping -c 20 -i 0.2 -W 1 10.9.0.1 >"$E2E_TMP/ping-parity.log" 2>&1
rc=$?
rec1=$(server_field fec_recovered)
dropped=$(ip netns exec "$S" nft -j list counter inet kcpfec data |
	jq '.nftables[] | select(.counter) | .counter.packets')
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$E2E_TMP/ping-parity.log")
avg=$(sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p' "$E2E_TMP/ping-parity.log")
[ "${dropped:-0}" -ge 20 ] || fail "nft dropped ${dropped:-0} data shards: the rule missed them"
[ $((rec1 - rec0)) -ge 20 ] || fail "the server rebuilt $((rec1 - rec0)) packets from parity"
[ $rc -eq 0 ] && [ "${got:-0}" -eq 20 ] ||
	fail "only ${got:-0} of 20 pings answered within 1 s with every data shard dropped"
[ "$(echo "${avg:-1000} < 20" | bc)" = 1 ] || fail "rebuilt pings took $avg ms on average"
pass "every data shard dropped ($dropped): 20/20 pings answered from parity, avg $avg ms," \
	"$((rec1 - rec0)) packets rebuilt"

for side in server client; do
	pid_var=PID_$side
	kill "${!pid_var}"
	wait "${!pid_var}" || fail "$side exited $? on SIGTERM"
done
pass "both daemons exit 0 on SIGTERM"
