#!/bin/bash
# The privilege drop: kcpvpnd started as root runs as its account once set up, keeping
# CAP_NET_ADMIN alone, and what comes after set-up still works.
#
#   ns S: server, no User (kcpvpn, else nobody)        ns C: client, User = root
#   kcpvpnd ListenPort 4000, TUN 10.9.0.1/24           kcpvpnd Endpoint 10.205.0.1:4000
#   veth 10.205.0.1/24 ============================== veth 10.205.0.2/24, TUN 10.9.0.2/24
#
# The server's files are as kcpvpnd.conf(5) asks: the config and its KeyFile root's with the
# daemon's group, mode 0640; the socket's directory the daemon's (as systemd's
# RuntimeDirectory= makes it).
# Checks: /proc/PID/status of the server: Uid and Gid the account's, no supplementary groups,
# CapEff, CapPrm and CapBnd exactly CAP_NET_ADMIN, nothing inheritable or ambient, NoNewPrivs;
# the client (User = root) keeps uid 0 and its capabilities; ping through the tunnel; the
# control socket is root's with the daemon's group (root's for nobody), mode 0660, kcpctl
# works for root and not for others; a reload with the file readable by root alone fails and
# changes nothing (negative control), with the file as documented it adds a peer and its routes;
# SIGTERM removes the TUN, the routes and the socket and exits 0; a root without CAP_SETPCAP,
# CAP_SETUID and CAP_SETGID cannot drop, so the daemon undoes its set-up and exits 1; started
# unprivileged with ambient CAP_NET_ADMIN (as the systemd unit does) it keeps that alone.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root privdrop
command -v setpriv >/dev/null || { echo "SKIP: privdrop needs setpriv (util-linux)"; exit 77; }

read -r DUSER DGROUP DUID DGID <<<"$(daemon_account)"
S=kcpS$$
C=kcpC$$
netns_add "$S"
netns_add "$C"
veth_link "$S" 10.205.0.1/24 "$C" 10.205.0.2/24

mkdir -m 0750 "$E2E_TMP/etc" && chgrp "$DGROUP" "$E2E_TMP/etc" || fail "etc directory"
mkdir -m 0755 "$E2E_TMP/run" && chown "$DUSER:$DGROUP" "$E2E_TMP/run" || fail "run directory"
server_conf() { # server_conf WITH_LAN
	cat <<CONF
[Interface]
Name = ks$$
Mode = compat
ListenPort = 4000
Address = 10.9.0.1/24
Crypt = aes-128
KeyFile = kcp.key
ControlSocket = $E2E_TMP/run/server.sock

[Peer]
Name = client
AllowedIPs = 10.9.0.2/32
CONF
	[ "$1" = yes ] && printf '\n[Peer]\nName = lan\nAllowedIPs = 10.9.0.3/32, 192.168.77.0/24\n'
	return 0
}
SCONF=$E2E_TMP/etc/server.conf
server_conf no >"$SCONF"
echo "privdrop test key" >"$E2E_TMP/etc/kcp.key"
chgrp "$DGROUP" "$SCONF" "$E2E_TMP/etc/kcp.key" && chmod 640 "$SCONF" "$E2E_TMP/etc/kcp.key" ||
	fail "config permissions"
cat >"$E2E_TMP/client.conf" <<CONF
[Interface]
Name = kc$$
Mode = compat
Address = 10.9.0.2/24
Crypt = aes-128
Key = privdrop test key
ControlSocket = $E2E_TMP/client.sock
User = root

[Peer]
Name = server
Endpoint = 10.205.0.1:4000
AllowedIPs = 10.9.0.1/32
PersistentKeepalive = 2
CONF
for f in "$SCONF" "$E2E_TMP/client.conf"; do
	[ "$("$KCPVPND" -n -c "$f")" = "configuration OK" ] || fail "$f: $("$KCPVPND" -n -c "$f" 2>&1)"
done

# field PID NAME: the value(s) of NAME: in /proc/PID/status, blanks squeezed
field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }
# caps_are PID HEX...: CapEff CapPrm CapBnd CapInh CapAmb are the HEX given, in that order
caps_are() {
	local pid=$1 n
	shift
	for n in CapEff CapPrm CapBnd CapInh CapAmb; do
		[ "$(field "$pid" $n)" = "$1" ] || return 1
		shift
	done
}
caps_of() { # for failure messages: each set, decoded by capsh when there is one
	local n v
	for n in CapEff CapPrm CapBnd CapInh CapAmb; do
		v=$(field "$1" $n)
		echo "$n=$v $(command -v capsh >/dev/null && capsh --decode="$v" | cut -d= -f2)"
	done | tr '\n' ' '
}
NET_ADMIN=$(printf '%016x' $((1 << 12)))
NONE=0000000000000000

ip netns exec "$C" ping -c 1 -W 1 10.9.0.1 >/dev/null 2>&1 && fail "ping worked before the tunnel"
pass "no ping before the tunnel"

start_daemon "$S" "$SCONF" server
wait_for 10 "server control socket" test -S "$E2E_TMP/run/server.sock"
start_daemon "$C" "$E2E_TMP/client.conf" client
wait_for 10 "client sees the server up" peer_is_up "$E2E_TMP/client.sock" server
wait_for 10 "server sees the client up" peer_is_up "$E2E_TMP/run/server.sock" client

want="$DUID $DUID $DUID $DUID"
[ "$(field "$PID_server" Uid)" = "$want" ] || fail "server Uid: $(field "$PID_server" Uid), want $want"
want="$DGID $DGID $DGID $DGID"
[ "$(field "$PID_server" Gid)" = "$want" ] || fail "server Gid: $(field "$PID_server" Gid), want $want"
[ -z "$(field "$PID_server" Groups)" ] || fail "server Groups: $(field "$PID_server" Groups)"
caps_are "$PID_server" "$NET_ADMIN" "$NET_ADMIN" "$NET_ADMIN" "$NONE" "$NONE" ||
	fail "server capabilities: $(caps_of "$PID_server")"
[ "$(field "$PID_server" NoNewPrivs)" = 1 ] || fail "server NoNewPrivs not set"
grep -q "privileges dropped user=$DUSER uid=$DUID group=$DGROUP gid=$DGID" "$E2E_TMP/server.log" ||
	fail "no 'privileges dropped' line"
grep -q "SIGHUP will fail" "$E2E_TMP/server.log" && fail "warned about reload with readable files"
pass "server runs as $DUSER:$DGROUP ($DUID:$DGID), no groups, CapEff=CapPrm=CapBnd=cap_net_admin, NoNewPrivs"

[ "$(field "$PID_client" Uid)" = "0 0 0 0" ] || fail "client Uid: $(field "$PID_client" Uid)"
[ "$(field "$PID_client" CapEff)" = "$(field $$ CapEff)" ] || fail "client lost capabilities: $(caps_of "$PID_client")"
grep -q "running as root, no privileges dropped (User = root)" "$E2E_TMP/client.log" ||
	fail "no notice that the client keeps root"
pass "User = root keeps uid 0 and root's capabilities, with a notice"

ip netns exec "$C" ping -c 3 -i 0.2 -W 2 10.9.0.1 >"$E2E_TMP/ping.log" 2>&1 || fail "ping v4"
pass "ping through the tunnel"

# the control socket: made before the drop, root's, the daemon's group unless that is nobody's
sgroup=$DGROUP
[ "$DUSER" = nobody ] && sgroup=$(id -gn root)
[ "$(stat -c '%U %G %a' "$E2E_TMP/run/server.sock")" = "root $sgroup 660" ] ||
	fail "socket: $(stat -c '%U %G %a' "$E2E_TMP/run/server.sock"), want root $sgroup 660"
"$KCPCTL" -s "$E2E_TMP/run/server.sock" status >/dev/null || fail "kcpctl status as root"
setpriv --reuid=65534 --regid=65533 --clear-groups "$KCPCTL" -s "$E2E_TMP/run/server.sock" \
	status >/dev/null 2>&1 && fail "kcpctl status worked for uid 65534 outside the group"
sgid=$(stat -c %g "$E2E_TMP/run/server.sock")
setpriv --reuid=65534 --regid="$sgid" --clear-groups "$KCPCTL" -s "$E2E_TMP/run/server.sock" \
	tune client fec=off >/dev/null 2>&1 || fail "kcpctl tune for a member of group $sgroup"
pass "socket root:$sgroup 0660; kcpctl works for root and the group, not for others"

# reload: a file only root may read cannot be read any more (negative control) ...
has_route "$S" 192.168.77.0/24 && fail "route for the lan peer before it is configured"
chmod 600 "$SCONF"
server_conf yes >"$SCONF"
kill -HUP "$PID_server"
wait_for 5 "the refused reload" grep -q "reload failed, nothing changed" "$E2E_TMP/server.log"
grep -q "server.conf: cannot read: Permission denied" "$E2E_TMP/server.log" ||
	fail "the refused reload does not say why"
has_route "$S" 192.168.77.0/24 && fail "a refused reload added a route"
pass "a file only root may read: SIGHUP fails (Permission denied), nothing changes"
# ... as documented (root, the daemon's group, 0640) it is applied
chmod 640 "$SCONF"
kill -HUP "$PID_server"
wait_for 5 "the lan peer's route after SIGHUP" has_route "$S" 192.168.77.0/24
has_route "$S" "10.9.0.3 " || fail "no route for 10.9.0.3 after SIGHUP"
grep -q "reloaded .*kept=1 renewed=0 added=1 removed=0" "$E2E_TMP/server.log" || fail "no reload line"
ip netns exec "$C" ping -c 1 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "ping after the reload"
pass "SIGHUP as $DUSER re-reads config and KeyFile, adds a peer and its routes"

kill -TERM "$PID_server"
for _ in $(seq 50); do kill -0 "$PID_server" 2>/dev/null || break; sleep 0.1; done
wait "$PID_server"
rc=$?
[ $rc -eq 0 ] || fail "server exited $rc on SIGTERM"
ip -n "$S" link show "ks$$" >/dev/null 2>&1 && fail "server TUN still there after SIGTERM"
has_route "$S" 192.168.77.0/24 && fail "route still there after SIGTERM"
[ -e "$E2E_TMP/run/server.sock" ] && fail "control socket left after SIGTERM"
pass "SIGTERM as $DUSER: exit 0, TUN, routes and socket removed"

# root without the capabilities to change user: the drop cannot take, the set-up is undone
ip netns exec "$S" setpriv --bounding-set=-setpcap,-setuid,-setgid "$KCPVPND" -f -c "$SCONF" \
	>"$E2E_TMP/nodrop.log" 2>&1 &
nodrop=$!
E2E_PIDS+=($nodrop)
wait_for 10 "the daemon that cannot drop to exit" bash -c "! kill -0 $nodrop 2>/dev/null"
wait "$nodrop"
rc=$?
[ $rc -eq 1 ] || fail "exited $rc, not 1, when the drop could not take"
grep -q "cannot change to user=$DUSER" "$E2E_TMP/nodrop.log" || fail "no reason logged"
grep -q "set-up undone" "$E2E_TMP/nodrop.log" || fail "no 'set-up undone' line"
ip -n "$S" link show "ks$$" >/dev/null 2>&1 && fail "TUN left after a failed drop"
has_route "$S" 192.168.77.0/24 && fail "route left after a failed drop"
[ -e "$E2E_TMP/run/server.sock" ] && fail "socket left after a failed drop"
pass "root without CAP_SETPCAP/SETUID/SETGID: exit 1, TUN, routes and socket removed"

# started unprivileged with ambient CAP_NET_ADMIN (and one more), as kcpvpnd@.service does
ip netns exec "$S" setpriv --reuid="$DUID" --regid="$DGID" --clear-groups \
	--inh-caps=+net_admin,+net_bind_service --ambient-caps=+net_admin,+net_bind_service \
	"$KCPVPND" -f -d debug -c "$SCONF" >"$E2E_TMP/ambient.log" 2>&1 &
PID_amb=$!
E2E_PIDS+=($PID_amb)
wait_for 10 "the unprivileged server's socket" test -S "$E2E_TMP/run/server.sock"
wait_for 10 "client back up" peer_is_up "$E2E_TMP/client.sock" server
caps_are "$PID_amb" "$NET_ADMIN" "$NET_ADMIN" "$(field $$ CapBnd)" "$NONE" "$NONE" ||
	fail "unprivileged start: $(caps_of "$PID_amb")"
[ "$(field "$PID_amb" Uid)" = "$DUID $DUID $DUID $DUID" ] || fail "unprivileged start: Uid changed"
ip netns exec "$C" ping -c 2 -i 0.2 -W 2 10.9.0.1 >/dev/null 2>&1 || fail "ping (unprivileged start)"
kill -TERM "$PID_amb"
wait "$PID_amb"
rc=$?
[ $rc -eq 0 ] && ! ip -n "$S" link show "ks$$" >/dev/null 2>&1 || fail "unprivileged stop: exit $rc"
pass "started as $DUSER with ambient caps: keeps cap_net_admin alone, works, stops cleanly"
echo "privdrop: all checks passed"
