#!/bin/bash
# A hub and three spokes, each spoke a router for a LAN: LAN-to-LAN traffic goes spoke -> hub
# -> spoke through two tunnels, and the hub checks every inner source against the sending
# peer's AllowedIPs.
#
#   ns Li (LAN host)              ns Ci (client i, router)           ns H (hub)
#   192.168.10i.2/24 ==veth== 192.168.10i.1/24
#                                 kcpvpnd, TUN 10.11.0.1i/24
#                                 10.210.i.2/24 ================ 10.210.i.1/24  (i = 1, 2, 3)
#                                                                    kcpvpnd ListenPort 4000
#                                                                    TUN 10.11.0.1/24
#
# The hub's [Peer] ci holds 10.11.0.1i/32 + 192.168.10i.0/24; clients 1 and 2 route the tunnel
# /24 and the other two LANs to the hub, client 3 the tunnel /24 and 192.168.0.0/16.
# Checks: no LAN-to-LAN ping before the tunnels; with the hub not forwarding, a LAN reaches the
# hub but not another LAN (negative control); with forwarding on, every LAN pings every other
# one, with TTL 61 (three routers: spoke, hub, spoke) and the hub's counters moving; iperf3 TCP
# between two LANs both ways; packets a spoke forwards from a source outside its AllowedIPs
# (another spoke's LAN, an unknown network) are counted in the hub's drop_src, exactly, and
# never reach the hub's kernel, while legitimate packets do.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root hub

H=kcpHub$$
netns_add "$H"
for i in 1 2 3; do
	netns_add "kcpHubC$i-$$"
	netns_add "kcpHubL$i-$$"
	veth_link "$H" "10.210.$i.1/24" "kcpHubC$i-$$" "10.210.$i.2/24"
	veth_link "kcpHubC$i-$$" "192.168.10$i.1/24" "kcpHubL$i-$$" "192.168.10$i.2/24"
	ip -n "kcpHubL$i-$$" route add default via "192.168.10$i.1" || fail "LAN $i default route"
	ip netns exec "kcpHubC$i-$$" sysctl -qw net.ipv4.ip_forward=1 || fail "client $i forwarding"
done
ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=0 || fail "hub forwarding off"
# The hub forwards out of the interface a packet came in by, so its kernel would send ICMP
# redirects to the LAN hosts (which ignore them); off, to count the hub's packets exactly.
ip netns exec "$H" sysctl -qw net.ipv4.conf.all.send_redirects=0 \
	net.ipv4.conf.default.send_redirects=0 || fail "hub redirects off"

cat >"$E2E_TMP/hub.conf" <<CONF
[Interface]
Name = kh$$
Mode = compat
ListenPort = 4000
Address = 10.11.0.1/24
Crypt = salsa20
Key = hub and spokes test passphrase
FEC = 10:3
ControlSocket = $E2E_TMP/hub.sock
CONF
for i in 1 2 3; do
	cat >>"$E2E_TMP/hub.conf" <<CONF

[Peer]
Name = c$i
AllowedIPs = 10.11.0.1$i/32, 192.168.10$i.0/24
CONF
	case $i in
	1) lans="192.168.102.0/24, 192.168.103.0/24" ;;
	2) lans="192.168.101.0/24, 192.168.103.0/24" ;;
	3) lans="192.168.0.0/16" ;; # holds its own LAN too; the LAN's connected /24 wins locally
	esac
	cat >"$E2E_TMP/c$i.conf" <<CONF
[Interface]
Name = kc$i$$
Mode = compat
Address = 10.11.0.1$i/24
Crypt = salsa20
Key = hub and spokes test passphrase
FEC = 10:3
ControlSocket = $E2E_TMP/c$i.sock

[Peer]
Name = hub
Endpoint = 10.210.$i.1:4000
AllowedIPs = 10.11.0.0/24, $lans
PersistentKeepalive = 2
CONF
done
for f in hub c1 c2 c3; do
	"$KCPVPND" -n -c "$E2E_TMP/$f.conf" | grep "configuration OK" >/dev/null || fail "$f config"
done

# lan_ping FROM_LAN TO_ADDR [ping options]: pings from LAN host FROM_LAN.
lan_ping() {
	local from=$1 to=$2
	shift 2
	ip netns exec "kcpHubL$from-$$" ping -n -c 2 -i 0.2 -W 2 "$@" "$to"
}
# hub_peer PEER FIELD: a field of the hub's status of PEER.
hub_peer() {
	"$KCPCTL" -s "$E2E_TMP/hub.sock" status --json |
		jq -r --arg p "$1" ".peers[] | select(.name == \$p) | .$2"
}

# negative control: no LAN reaches another before the tunnels
lan_ping 1 192.168.102.2 -c 1 >/dev/null 2>&1 && fail "LAN 1 reached LAN 2 before the tunnels"
pass "no LAN-to-LAN ping before the tunnels"

t0=$(date +%s.%N)
start_daemon "$H" "$E2E_TMP/hub.conf" hub
wait_for 10 "hub control socket" test -S "$E2E_TMP/hub.sock"
for i in 1 2 3; do
	start_daemon "kcpHubC$i-$$" "$E2E_TMP/c$i.conf" "c$i"
done
for i in 1 2 3; do
	wait_for 10 "client $i sees the hub up" peer_is_up "$E2E_TMP/c$i.sock" hub
	wait_for 10 "hub sees client $i up" peer_is_up "$E2E_TMP/hub.sock" "c$i"
done
t1=$(date +%s.%N)
pass "three spokes up at the hub in $(printf %.1f "$(echo "$t1 - $t0" | bc)") s"

# negative control: the hub does not forward yet, so a LAN reaches the hub and no other LAN
for i in 1 2 3; do
	lan_ping "$i" 10.11.0.1 >/dev/null 2>&1 ||
		fail "LAN $i cannot reach the hub's tunnel address"
done
lan_ping 1 192.168.102.2 -c 1 >/dev/null 2>&1 &&
	fail "LAN 1 reached LAN 2 with the hub not forwarding"
pass "each LAN reaches the hub; LAN to LAN fails while the hub does not forward"

ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1 || fail "hub forwarding on"
tx2_before=$(hub_peer c2 tx_packets)
for i in 1 2 3; do
	for j in 1 2 3; do
		[ "$i" = "$j" ] && continue
		lan_ping "$i" "192.168.10$j.2" >"$E2E_TMP/ping-$i-$j.log" 2>&1 ||
			fail "LAN $i cannot ping LAN $j through the hub"
		# the reply crossed spoke j, the hub and spoke i: 64 - 3
		grep -q "ttl=61 " "$E2E_TMP/ping-$i-$j.log" ||
			fail "LAN $j's reply to LAN $i did not come through three routers: $(
				grep -m1 ttl= "$E2E_TMP/ping-$i-$j.log")"
	done
done
tx2_after=$(hub_peer c2 tx_packets)
# LAN 1 and LAN 3 each sent 2 requests to LAN 2, and LAN 2 got 2 replies from each of them
[ $((tx2_after - tx2_before)) -eq 8 ] ||
	fail "the hub sent $((tx2_after - tx2_before)) packets to c2 for 8 requests and replies"
pass "all 6 LAN-to-LAN pings through the hub, TTL 61; hub tx to c2 +$((tx2_after - tx2_before))"

ip netns exec kcpHubL3-$$ iperf3 -s -1 -p 5201 >"$E2E_TMP/iperf-s1.log" 2>&1 &
E2E_PIDS+=($!)
wait_for 5 "iperf3 server" bash -c "ip netns exec kcpHubL3-$$ ss -ltn sport = :5201 | grep -q 5201"
ip netns exec kcpHubL1-$$ timeout 20 iperf3 -c 192.168.103.2 -p 5201 -t 3 -J \
	>"$E2E_TMP/iperf-13.json" 2>&1 || fail "iperf3 LAN 1 -> LAN 3"
ip netns exec kcpHubL3-$$ iperf3 -s -1 -p 5202 >"$E2E_TMP/iperf-s2.log" 2>&1 &
E2E_PIDS+=($!)
wait_for 5 "iperf3 server" bash -c "ip netns exec kcpHubL3-$$ ss -ltn sport = :5202 | grep -q 5202"
ip netns exec kcpHubL1-$$ timeout 20 iperf3 -c 192.168.103.2 -p 5202 -t 3 -R -J \
	>"$E2E_TMP/iperf-31.json" 2>&1 || fail "iperf3 LAN 3 -> LAN 1"
up=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$E2E_TMP/iperf-13.json")
down=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$E2E_TMP/iperf-31.json")
[ "${up:-0}" -gt 0 ] && [ "${down:-0}" -gt 0 ] ||
	fail "iperf3 LAN to LAN moved no data ($up / $down)"
pass "iperf3 TCP LAN 1 -> LAN 3 $up Mbit/s, LAN 3 -> LAN 1 $down Mbit/s, through the hub"

# Spoofing: LAN host 1 sends with a source in LAN 2 (held by c2) and with one of no peer's.
# Spoke 1 forwards them into its tunnel; the hub must drop them before its kernel sees them.
# The hub's nft counts what its TUN delivers, by source; the legitimate source is the
# positive control of that counter.
ip netns exec "$H" nft -f - <<NFT || fail "nft in the hub"
table ip e2e$$ {
	chain pre {
		type filter hook prerouting priority -300;
		iifname "kh$$" ip saddr 192.168.101.2 counter
		iifname "kh$$" ip saddr 192.168.102.77 counter
		iifname "kh$$" ip saddr 172.31.0.9 counter
	}
}
NFT
# hub_seen SOURCE: packets from SOURCE that the hub's TUN delivered to its kernel.
hub_seen() {
	ip netns exec "$H" nft list chain ip e2e$$ pre |
		sed -n "s/.*saddr $1 counter packets \([0-9]*\) .*/\1/p"
}
ip -n kcpHubL1-$$ addr add 192.168.102.77/32 dev lo || fail "spoofed address"
ip -n kcpHubL1-$$ addr add 172.31.0.9/32 dev lo || fail "unknown address"
drop0=$(hub_peer c1 drop_src)
rx0=$(hub_peer c1 rx_packets)
lan_ping 1 192.168.102.2 -c 3 >/dev/null 2>&1 || fail "legitimate ping LAN 1 -> LAN 2"
[ "$(hub_seen 192.168.101.2)" -ge 3 ] || fail "the hub's counter missed legitimate packets"
[ "$(hub_peer c1 drop_src)" = "$drop0" ] || fail "legitimate packets counted in drop_src"
pass "legitimate packets of LAN 1 reach the hub's kernel ($(hub_seen 192.168.101.2) counted)"
rx1=$(hub_peer c1 rx_packets)
[ $((rx1 - rx0)) -eq 3 ] || fail "hub rx from c1 grew by $((rx1 - rx0)) for 3 requests"

lan_ping 1 192.168.102.2 -c 5 -I 192.168.102.77 >"$E2E_TMP/spoof.log" 2>&1 &&
	fail "a ping from a spoofed LAN 2 source was answered"
lan_ping 1 192.168.102.2 -c 3 -I 172.31.0.9 >>"$E2E_TMP/spoof.log" 2>&1 &&
	fail "a ping from an unknown source was answered"
wait_for 5 "drop_src of c1 to count 8" bash -c "[ \$('$KCPCTL' -s '$E2E_TMP/hub.sock' \
	status --json | jq '.peers[] | select(.name == \"c1\") | .drop_src') -ge $((drop0 + 8)) ]"
sleep 0.3
drop1=$(hub_peer c1 drop_src)
[ $((drop1 - drop0)) -eq 8 ] ||
	fail "drop_src of c1 grew by $((drop1 - drop0)) for 8 spoofed packets"
[ "$(hub_seen 192.168.102.77)" = 0 ] && [ "$(hub_seen 172.31.0.9)" = 0 ] ||
	fail "spoofed packets reached the hub's kernel:" \
		"$(hub_seen 192.168.102.77) and $(hub_seen 172.31.0.9)"
[ "$(hub_peer c1 rx_packets)" = "$rx1" ] || fail "spoofed packets counted as received from c1"
for p in c2 c3; do
	[ "$(hub_peer $p drop_src)" = 0 ] || fail "drop_src of $p is $(hub_peer $p drop_src)"
done
lan_ping 1 192.168.102.2 >/dev/null 2>&1 || fail "LAN 1 -> LAN 2 after the spoofing"
pass "8 spoofed packets from c1 dropped by the hub: drop_src +8, none delivered, c2/c3 at 0"
echo "hub: all checks passed (up_s=$(printf %.2f "$(echo "$t1 - $t0" | bc)") iperf_mbit=$up/$down)"
