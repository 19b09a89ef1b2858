#!/bin/bash
# A full tunnel (AllowedIPs = 0.0.0.0/0, ::/0): the client sends everything to the server,
# which forwards and masquerades into a "world" that only the server can reach. The client's
# own UDP to the server must keep using its ISP router, thanks to FwMark and the rules the
# daemon adds as wg-quick does.
#
#   ns C (client)              ns R (ISP router)             ns S (server)            ns W (world)
#   default via 10.220.0.1
#   10.220.0.2/24 ======== 10.220.0.1/24
#                              10.230.0.2/24 ============ 10.230.0.1/24
#   kcpvpnd, TUN 10.12.0.2/24                             kcpvpnd ListenPort 4000
#     fd00:12::2/64                                       TUN 10.12.0.1/24 fd00:12::1/64
#                                                         198.51.100.1/24 ====== 198.51.100.2/24
#                                                         2001:db8:100::1/64     2001:db8:100::2/64
#
# The server's endpoint is off the client's link, so without the fwmark the tunnel's own
# datagrams would follow the tunnel's default route. R has no route to the world and W no
# route back but its link: the world is reached through the server, with its NAT.
# Checks: the world unreachable before the tunnel (negative control); while the client runs
# its rules (not fwmark -> table 51820, main with suppress_prefixlength 0) and table 51820's
# default route exist for IPv4 and IPv6; an unmarked packet to the server would take the
# tunnel, a marked one the ISP router, and the daemon's socket carries the mark; ping v4/v6
# and iperf3 TCP reach the world, which sees the server's address; the client's UDP to the
# server leaves by the underlay and none enters the TUN; the session keeps its conv over
# more than three keepalive intervals; after a SIGKILL a new client takes over the rules left
# behind without doubling them; SIGTERM: exit 0, the TUN, rules and routes gone (rules and main
# table exactly as before), the underlay default route kept, the world unreachable.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root fulltunnel

C=kcpFtC$$
R=kcpFtR$$
S=kcpFtS$$
W=kcpFtW$$
TUNC=kc$$
TUNS=ks$$
MARK=0xca6c # the default FwMark of a full tunnel (kcpvpnd.conf(5))
TABLE=51820 # the table of Table = auto in a full tunnel
for n in "$C" "$R" "$S" "$W"; do
	netns_add "$n"
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 || fail "accept_dad in $n"
done
veth_link "$C" 10.220.0.2/24 "$R" 10.220.0.1/24
veth_link "$R" 10.230.0.2/24 "$S" 10.230.0.1/24
veth_link "$S" 198.51.100.1/24 "$W" 198.51.100.2/24
# the world's link carries IPv6 too: the veth of W is its only one
wdev=$(ip -n "$W" -o link show type veth | awk -F'[ :@]+' '{ print $2 }')
sdev=$(ip -n "$S" -o addr show to 198.51.100.1 | awk '{ print $2 }')
[ -n "$wdev" ] && [ -n "$sdev" ] || fail "world veth names"
ip -n "$W" addr add 2001:db8:100::2/64 dev "$wdev" nodad || fail "world v6 address"
ip -n "$S" addr add 2001:db8:100::1/64 dev "$sdev" nodad || fail "server world v6 address"
ip -n "$C" route add default via 10.220.0.1 || fail "client default route"
ip -n "$S" route add 10.220.0.0/24 via 10.230.0.2 || fail "server route to the client"
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 || fail "router forwarding"
ip netns exec "$S" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
	fail "server forwarding"
ip netns exec "$S" nft -f - <<NFT || fail "server NAT"
table inet e2e$$ {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "$sdev" ip saddr 10.12.0.0/24 masquerade
		oifname "$sdev" ip6 saddr fd00:12::/64 masquerade
	}
}
NFT
# What the world receives, by source: the server's addresses (NAT) or the tunnel's.
ip netns exec "$W" nft -f - <<NFT || fail "world counters"
table inet e2e$$ {
	chain in {
		type filter hook input priority 0;
		ip saddr 198.51.100.1 icmp type echo-request counter
		ip6 saddr 2001:db8:100::1 icmpv6 type echo-request counter
		ip saddr 10.12.0.0/24 counter
	}
}
NFT
# What the client sends to the server's UDP port, by the interface it leaves by.
ip netns exec "$C" nft -f - <<NFT || fail "client counters"
table inet e2e$$ {
	chain out {
		type filter hook output priority 0;
		oifname "$TUNC" udp dport 4000 counter
		oifname != "$TUNC" meta mark $MARK ip daddr 10.230.0.1 udp dport 4000 counter
	}
}
NFT
# nft_count NS CHAIN PATTERN: the packets counted by the rule of CHAIN matching PATTERN.
nft_count() {
	ip netns exec "$1" nft list chain inet e2e$$ "$2" | grep -F -- "$3" |
		sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}

cat >"$E2E_TMP/server.conf" <<CONF
[Interface]
Name = $TUNS
Mode = compat
ListenPort = 4000
Address = 10.12.0.1/24, fd00:12::1/64
Key = full tunnel test passphrase
FEC = 10:3
ControlSocket = $E2E_TMP/server.sock

[Peer]
Name = client
AllowedIPs = 10.12.0.2/32, fd00:12::2/128
CONF
cat >"$E2E_TMP/client.conf" <<CONF
[Interface]
Name = $TUNC
Mode = compat
Address = 10.12.0.2/24, fd00:12::2/64
Key = full tunnel test passphrase
FEC = 10:3
ControlSocket = $E2E_TMP/client.sock

[Peer]
Name = server
Endpoint = 10.230.0.1:4000
AllowedIPs = 0.0.0.0/0, ::/0
PersistentKeepalive = 2
CONF
for f in server client; do
	"$KCPVPND" -n -c "$E2E_TMP/$f.conf" | grep "configuration OK" >/dev/null || fail "$f config"
done

# the client's routing as it was before the tunnel, to compare with after
snapshot() {
	for fam in -4 -6; do
		echo "rules $fam:"
		ip -n "$C" $fam rule show
		echo "main $fam:"
		ip -n "$C" $fam route show table main
	done
}
snapshot >"$E2E_TMP/routing-before.txt"

# negative controls: the underlay works, the world is out of reach
ip netns exec "$C" ping -c 1 -W 1 10.230.0.1 >/dev/null 2>&1 ||
	fail "underlay: no ping to the server"
ip netns exec "$C" ping -c 1 -W 1 198.51.100.2 >/dev/null 2>&1 &&
	fail "world reached without the tunnel"
ip netns exec "$C" ping -6 -c 1 -W 1 2001:db8:100::2 >/dev/null 2>&1 &&
	fail "world reached over IPv6 without tunnel"
pass "underlay reaches the server; the world is unreachable without the tunnel"

start_daemon "$S" "$E2E_TMP/server.conf" server
wait_for 10 "server control socket" test -S "$E2E_TMP/server.sock"
t0=$(date +%s.%N)
start_daemon "$C" "$E2E_TMP/client.conf" client
wait_for 10 "client sees the server up" peer_is_up "$E2E_TMP/client.sock" server
wait_for 10 "server sees the client up" peer_is_up "$E2E_TMP/server.sock" client
t1=$(date +%s.%N)
up_s=$(printf %.2f "$(echo "$t1 - $t0" | bc)")
conv0=$("$KCPCTL" -s "$E2E_TMP/client.sock" status --json | jq -r '.peers[0].conv')
pass "full tunnel up in $up_s s (conv $conv0)"

for fam in -4 -6; do
	rules=$(ip -n "$C" $fam rule show)
	echo "$rules" | grep -Eq "not from all fwmark $MARK lookup $TABLE\b" ||
		fail "no 'not fwmark' rule ($fam): $rules"
	echo "$rules" | grep -Eq "from all lookup main suppress_prefixlength 0\b" ||
		fail "no suppress_prefixlength rule ($fam): $rules"
	ip -n "$C" $fam route show table $TABLE | grep -E "^default dev $TUNC\b" >/dev/null ||
		fail "no default route in table $TABLE ($fam)"
done
pass "rules and table $TABLE's default routes installed for IPv4 and IPv6"

# the policy: unmarked, the server's address would be routed into the tunnel; marked, it
# goes to the ISP router; and the daemon's UDP socket carries the mark
ip -n "$C" route get 10.230.0.1 | grep "dev $TUNC" >/dev/null ||
	fail "an unmarked packet to the server does not take the tunnel:" \
		"$(ip -n "$C" route get 10.230.0.1)"
ip -n "$C" route get 10.230.0.1 mark $MARK | grep "via 10.220.0.1" >/dev/null ||
	fail "a marked packet to the server does not take the underlay"
sock=$(ip netns exec "$C" ss -uanpe 2>/dev/null | grep "pid=$PID_client,")
[[ "$sock" =~ fwmark:$MARK( |$) ]] ||
	fail "the client's UDP socket has no fwmark $MARK:" \
		"$(ip netns exec "$C" ss -uanpe 2>/dev/null)"
pass "unmarked traffic to the server would take the tunnel, the daemon's marked socket does not"

rx0=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.peers[0].rx_packets')
ip netns exec "$C" ping -c 3 -i 0.2 -W 2 198.51.100.2 >"$E2E_TMP/ping4.log" 2>&1 ||
	fail "ping to the world (v4) through the tunnel"
ip netns exec "$C" ping -6 -c 3 -i 0.2 -W 2 2001:db8:100::2 >"$E2E_TMP/ping6.log" 2>&1 ||
	fail "ping to the world (v6) through the tunnel"
rx1=$("$KCPCTL" -s "$E2E_TMP/server.sock" status --json | jq '.peers[0].rx_packets')
[ $((rx1 - rx0)) -ge 6 ] || fail "the server received $((rx1 - rx0)) packets for 6 pings"
[ "$(nft_count "$W" in "ip saddr 198.51.100.1")" -ge 3 ] &&
	[ "$(nft_count "$W" in "ip6 saddr 2001:db8:100::1")" -ge 3 ] ||
	fail "the world did not see the pings from the server's addresses"
[ "$(nft_count "$W" in "ip saddr 10.12.0.0/24")" = 0 ] || fail "tunnel addresses reached the world"
pass "ping v4 and v6 reach the world through the server (server rx +$((rx1 - rx0)), NAT seen)"

ip netns exec "$W" iperf3 -s -1 -p 5201 >"$E2E_TMP/iperf-s.log" 2>&1 &
E2E_PIDS+=($!)
wait_for 5 "iperf3 server" bash -c "ip netns exec $W ss -ltn sport = :5201 | grep -q 5201"
ip netns exec "$C" timeout 20 iperf3 -c 198.51.100.2 -p 5201 -t 3 -J >"$E2E_TMP/iperf.json" 2>&1 ||
	fail "iperf3 client -> world"
mbit=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$E2E_TMP/iperf.json")
[ "${mbit:-0}" -gt 0 ] || fail "iperf3 to the world moved no data"
pass "iperf3 TCP to the world through the tunnel: $mbit Mbit/s"

# the tunnel's own datagrams: out by the underlay, marked, never into the TUN
under=$(nft_count "$C" out "meta mark")
[ "$(nft_count "$C" out "oifname \"$TUNC\"")" = 0 ] || fail "UDP to the server went into the TUN"
[ "${under:-0}" -gt 1000 ] || fail "only ${under:-0} marked datagrams left by the underlay"
# more than three keepalive intervals (the peer timeout) since the session came up
now=$(date +%s.%N)
rest=$(echo "$t1 + 7 - $now" | bc)
[ "$(echo "$rest > 0" | bc)" = 1 ] && sleep "$rest"
peer_is_up "$E2E_TMP/client.sock" server || fail "the server is not up at the client any more"
conv1=$("$KCPCTL" -s "$E2E_TMP/client.sock" status --json | jq -r '.peers[0].conv')
[ "$conv1" = "$conv0" ] || fail "the session restarted ($conv0 -> $conv1)"
ip netns exec "$C" ping -c 2 -i 0.2 -W 2 198.51.100.2 >/dev/null 2>&1 || fail "world after 7 s"
pass "$under marked datagrams by the underlay, none into the TUN; same session after 7 s"

# A crash leaves the rules behind (nothing runs at SIGKILL; the TUN and table 51820's route go
# with the process). A new daemon takes them over, and its SIGTERM must remove them too.
kill -KILL "$PID_client"
wait "$PID_client" 2>/dev/null
ip -n "$C" rule show | grep "not from all fwmark $MARK lookup $TABLE" >/dev/null ||
	fail "precondition: SIGKILL left no rule to take over"
rm -f "$E2E_TMP/client.sock"
t2=$(date +%s.%N)
start_daemon "$C" "$E2E_TMP/client.conf" client
wait_for 10 "restarted client sees the server up" peer_is_up "$E2E_TMP/client.sock" server
wait_for 10 "world after the client's restart" \
	ip netns exec "$C" ping -c 1 -W 1 198.51.100.2
t3=$(date +%s.%N)
restart_s=$(printf %.2f "$(echo "$t3 - $t2" | bc)")
for fam in -4 -6; do
	n=$(ip -n "$C" $fam rule show | grep -c "fwmark $MARK")
	[ "$n" -eq 1 ] || fail "$n fwmark rules ($fam) after the restart"
done
pass "restart over the rules a SIGKILL left: world reached in $restart_s s, rules not doubled"

kill -TERM "$PID_client"
for _ in $(seq 50); do kill -0 "$PID_client" 2>/dev/null || break; sleep 0.1; done
wait "$PID_client"
rc=$?
[ $rc -eq 0 ] || fail "client exited $rc on SIGTERM"
ip -n "$C" link show "$TUNC" >/dev/null 2>&1 && fail "client TUN still there after SIGTERM"
snapshot >"$E2E_TMP/routing-after.txt"
diff -u "$E2E_TMP/routing-before.txt" "$E2E_TMP/routing-after.txt" >"$E2E_TMP/routing.diff" ||
	fail "rules or main routes differ after SIGTERM: $(cat "$E2E_TMP/routing.diff")"
for fam in -4 -6; do
	left=$(ip -n "$C" $fam route show table $TABLE 2>&1)
	[ -z "$left" ] || fail "table $TABLE not empty after SIGTERM ($fam): $left"
done
grep -q "^default via 10.220.0.1" "$E2E_TMP/routing-after.txt" || fail "underlay default route lost"
ip netns exec "$C" ping -c 1 -W 1 198.51.100.2 >/dev/null 2>&1 && fail "world reached after SIGTERM"
pass "SIGTERM: exit 0, TUN, rules and table $TABLE gone, main table as before"
echo "fulltunnel: all checks passed (up_s=$up_s restart_s=$restart_s iperf_mbit=$mbit)"
