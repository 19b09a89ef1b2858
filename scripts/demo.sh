#!/bin/bash
# The main job: on a fresh Debian 12 machine, as root, installs what is missing, builds
# kcpvpnd and brings up a tunnel between two network namespaces with the example settings
# (secure mode with keys made by kcpctl genkey, FEC 10:3, profile fast3), then shows kcpctl status and traffic through
# the tunnel: ping, and TCP (iperf3) with 5% packet loss on the underlying link.
#
#   ns kcpdemo-srv                               ns kcpdemo-cli
#   kcpvpnd (server, UDP 4000)                   kcpvpnd (client)
#   kcp0 10.9.0.1/24 fd00:9::1/64                kcp0 10.9.0.2/24 fd00:9::2/64
#   veth 10.77.0.1/24 ======================= veth 10.77.0.2/24   (nft drops 5% later on)
#
# Everything is removed on exit. KCPDEMO_KEEP=1 leaves it running (stop with Ctrl-C).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (namespaces, TUN)" >&2; exit 2; }
./scripts/install-deps.sh
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p _build/release
if [ ! -f _build/release/Makefile ]; then
	(cd _build/release && ../../configure CFLAGS="-O2 -g" >/dev/null)
fi
echo "== building"
make -C _build/release -j"$(nproc)" daemon/kcpvpnd ctl/kcpctl >"$top/_build/release/demo-make.log" 2>&1 ||
	{ tail -30 "$top/_build/release/demo-make.log"; echo "demo: build failed" >&2; exit 1; }
kcpvpnd=$top/_build/release/daemon/kcpvpnd
kcpctl=$top/_build/release/ctl/kcpctl

S=kcpdemo-srv
C=kcpdemo-cli
tmp=$(mktemp -d /tmp/kcpdemo.XXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	ip netns del "$S" 2>/dev/null || true
	ip netns del "$C" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns del "$S" 2>/dev/null || true
ip netns del "$C" 2>/dev/null || true
ip netns add "$S"
ip netns add "$C"
ip link add kcpdemo0 type veth peer name kcpdemo1
ip link set kcpdemo0 netns "$S"
ip link set kcpdemo1 netns "$C"
ip -n "$S" addr add 10.77.0.1/24 dev kcpdemo0
ip -n "$C" addr add 10.77.0.2/24 dev kcpdemo1
for ns in "$S" "$C"; do
	ip -n "$ns" link set lo up
done
ip -n "$S" link set kcpdemo0 up
ip -n "$C" link set kcpdemo1 up

umask 077
# secure mode (the default): a key pair for each side and a pre-shared key, made by kcpctl
"$kcpctl" genkey >"$tmp/server.key"
"$kcpctl" genkey >"$tmp/client.key"
"$kcpctl" genpsk >"$tmp/kcp0.psk"
server_pub=$("$kcpctl" pubkey <"$tmp/server.key")
client_pub=$("$kcpctl" pubkey <"$tmp/client.key")
cat >"$tmp/server.conf" <<CONF
[Interface]
Name = kcp0
ListenPort = 4000
Address = 10.9.0.1/24, fd00:9::1/64
PrivateKeyFile = server.key
FEC = 10:3
Profile = fast3
ControlSocket = $tmp/server.sock

[Peer]
Name = client
PublicKey = $client_pub
PresharedKeyFile = kcp0.psk
AllowedIPs = 10.9.0.2/32, fd00:9::2/128
CONF
cat >"$tmp/client.conf" <<CONF
[Interface]
Name = kcp0
Address = 10.9.0.2/24, fd00:9::2/64
PrivateKeyFile = client.key
FEC = 10:3
Profile = fast3
ControlSocket = $tmp/client.sock

[Peer]
Name = server
PublicKey = $server_pub
PresharedKeyFile = kcp0.psk
Endpoint = 10.77.0.1:4000
AllowedIPs = 10.9.0.0/24, fd00:9::/64
PersistentKeepalive = 10
CONF
echo "== kcpvpnd -n: checking both configurations"
"$kcpvpnd" -n -c "$tmp/server.conf"
"$kcpvpnd" -n -c "$tmp/client.conf"
ip netns exec "$S" "$kcpvpnd" -f -c "$tmp/server.conf" >"$tmp/server.log" 2>&1 &
pids+=($!)
ip netns exec "$C" "$kcpvpnd" -f -c "$tmp/client.conf" >"$tmp/client.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	state=$("$kcpctl" -s "$tmp/client.sock" status --json 2>/dev/null | jq -r '.peers[0].state' || true)
	[ "$state" = up ] && break
	sleep 0.1
done
[ "$state" = up ] || { cat "$tmp"/*.log; echo "demo: the tunnel did not come up" >&2; exit 1; }

echo
echo "== ping through the tunnel (IPv4, then IPv6)"
ip netns exec "$C" ping -c 3 -i 0.2 10.9.0.1 | tail -2
sleep 1
ip netns exec "$C" ping -6 -c 3 -i 0.2 fd00:9::1 | tail -2
echo
echo "== TCP through the tunnel, clean link (iperf3, 3 s)"
ip netns exec "$S" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
sleep 0.5
ip netns exec "$C" iperf3 -c 10.9.0.1 -p 5201 -t 3 | grep -E 'sender|receiver'
echo
echo "== the same with 5% of packets dropped in each direction on the link (nft numgen random)"
for ns in "$S" "$C"; do
	ip netns exec "$ns" nft -f - <<NFT
table inet kcpdemo {
	chain out { type filter hook output priority 0; udp dport 4000 numgen random mod 100 < 5 drop; udp sport 4000 numgen random mod 100 < 5 drop; }
}
NFT
done
ip netns exec "$S" iperf3 -s -1 -p 5202 >/dev/null 2>&1 &
sleep 0.5
ip netns exec "$C" iperf3 -c 10.9.0.1 -p 5202 -t 3 | grep -E 'sender|receiver'
echo
echo "== kcpctl status (client)"
"$kcpctl" -s "$tmp/client.sock" status
echo
echo "== kcpctl status (server)"
"$kcpctl" -s "$tmp/server.sock" status
if [ "${KCPDEMO_KEEP:-0}" = 1 ]; then
	echo "demo: running; kcpctl -s $tmp/client.sock status; Ctrl-C stops it"
	wait
fi
