#!/bin/bash
# Runs kcpvpnd@.service, hardening and all, under a real systemd: a private systemd (PID 1 of
# its own PID, mount, network and cgroup namespaces) starts, reloads and stops instances.
#
#   usage: packaging/test-unit.sh [UNIT_FILE KCPVPND KCPCTL]
#
# Without arguments it tests what the package installed (/lib or /usr/lib/systemd/system,
# /usr/sbin/kcpvpnd, /usr/bin/kcpctl). With them, UNIT_FILE (e.g. a build's
# packaging/systemd/kcpvpnd@.service) is tested with its ExecStart pointed at KCPVPND.
#
#   host: this script  --nsenter-->  [pid+mnt+net+cgroup ns: systemd (PID 1)
#                                      +- kcpvpnd@kua (server, UDP 4000)
#                                      +- kcpvpnd@kub (full tunnel, AllowedIPs 0.0.0.0/0)
#                                      +- kcpvpnd@kuc (a bad file)
#                                      +- kcpvpnd@kud (started as root, drops itself)]
# The instances run as the account kcpvpn, which the package creates (the script skips
# without it), their files root's with group kcpvpn and mode 0640. Nothing leaks: /run, /tmp and /etc/kcpvpnd are tmpfs inside the namespace, the cgroup is a
# cgroup2 child made for the run and removed after it (the cgroup v1 hierarchies are not
# touched), the interfaces live in the namespace's network. Needs root, unshare, systemd and a
# cgroup2 hierarchy; exits 77 (skip) without them. Every wait is bounded; about 10 s.
set -uo pipefail

UNIT_SRC=${1:-}
KCPVPND=${2:-/usr/sbin/kcpvpnd}
KCPCTL=${3:-/usr/bin/kcpctl}
SYSTEMD=/lib/systemd/systemd
name=test-unit
passed=0
failed=0

ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
skip() { echo "SKIP: $name: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$SYSTEMD" ] || skip "no $SYSTEMD"
for t in unshare nsenter jq; do command -v $t >/dev/null || skip "needs $t"; done
getent passwd kcpvpn >/dev/null || skip "no kcpvpn account (the package makes it)"
if [ -z "$UNIT_SRC" ]; then
	for d in /lib/systemd/system /usr/lib/systemd/system; do
		[ -f "$d/kcpvpnd@.service" ] && UNIT_SRC=$d/kcpvpnd@.service && break
	done
	[ -n "$UNIT_SRC" ] || { bad "no installed kcpvpnd@.service"; exit 1; }
fi
[ -f "$UNIT_SRC" ] && [ -x "$KCPVPND" ] && [ -x "$KCPCTL" ] ||
	{ bad "missing $UNIT_SRC, $KCPVPND or $KCPCTL"; exit 1; }
# cgroup2: the "unified" hierarchy of a hybrid layout, or /sys/fs/cgroup itself
cg_top=
for d in /sys/fs/cgroup/unified /sys/fs/cgroup; do
	[ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ] && cg_top=$d && break
done
[ -n "$cg_top" ] || skip "no cgroup2 hierarchy"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kcp-unit.$$.XXXX")
cg=$cg_top/kcp-unit.$$
sd_pid=

cleanup() {
	if [ -n "$sd_pid" ]; then
		kill -KILL "$sd_pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$sd_pid" 2>/dev/null || break; sleep 0.1; done
	fi
	# the cgroups systemd made below ours, deepest first, once their processes are gone
	if [ -d "$cg" ]; then
		for _ in $(seq 50); do
			find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$cg" ] || break
			sleep 0.1
		done
		[ -d "$cg" ] && echo "warning: could not remove $cg"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# The unit as systemd will see it: the installed one is used in place; a build's copy goes to
# /run/systemd/system with ExecStart pointed at the build's binary.
unit_copy=
if [[ $UNIT_SRC != /lib/systemd/system/* && $UNIT_SRC != /usr/lib/systemd/system/* ]]; then
	unit_copy=$tmp/kcpvpnd@.service
	sed -E "s|^(ExecStart=)[^ ]*kcpvpnd |\1$KCPVPND |" "$UNIT_SRC" >"$unit_copy"
fi

# The namespace side: private /run, /tmp, /etc/kcpvpnd and cgroup2, then systemd as PID 1.
cat >"$tmp/inner.sh" <<'INNER'
#!/bin/bash
set -e
tmp=$1 unit_copy=$2
# $tmp is under /tmp and /run may hold it too: copy what is needed before covering them
mkdir -p /etc/kcpvpnd
mount -t tmpfs -o mode=0755 tmpfs /etc/kcpvpnd
cp -a "$tmp"/etc/. /etc/kcpvpnd/
[ -n "$unit_copy" ] && cp "$unit_copy" /etc/kcpvpnd/.unit
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
ip link set lo up
mkdir -p /run/systemd/system /run/kcp-logs
printf '[Unit]\nDescription=kcpvpnd unit test\n' >/run/systemd/system/kcptest.target
if [ -n "$unit_copy" ]; then
	mv /etc/kcpvpnd/.unit /run/systemd/system/kcpvpnd@.service
fi
# test only: each instance's output to a file (no journald here)
mkdir -p /run/systemd/system/kcpvpnd@.service.d
printf '[Service]\nStandardOutput=append:/run/kcp-logs/%%i.log\nStandardError=inherit\n' \
	>/run/systemd/system/kcpvpnd@.service.d/log.conf
mkdir -p /run/systemd/system/kcpvpnd@kud.service.d
printf '[Service]\nUser=root\nGroup=root\nCapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_SETPCAP CAP_CHOWN CAP_KILL\nSystemCallFilter=@setuid @chown\n' \
	>/run/systemd/system/kcpvpnd@kud.service.d/root.conf
export container=kcpvpnd-test
exec /lib/systemd/systemd --system --unit=kcptest.target --log-target=console \
	--log-level=notice --show-status=no </dev/null
INNER
chmod +x "$tmp/inner.sh"

# Configurations: a server with its key in a KeyFile (root's, group kcpvpn, mode 0640: the
# daemon checks, and reads it as kcpvpn), a full tunnel client, a file with an error, and a
# server started as root.
mkdir -p "$tmp/etc"
echo "unit test key" >"$tmp/etc/kua.key"
cat >"$tmp/etc/kua.conf" <<CONF
[Interface]
Name = kua
Mode = compat
ListenPort = 4000
Address = 10.91.0.1/24
Crypt = aes-128
KeyFile = /etc/kcpvpnd/kua.key

[Peer]
Name = b
AllowedIPs = 10.91.0.2/32
CONF
cat >"$tmp/etc/kub.conf" <<CONF
[Interface]
Name = kub
Mode = compat
Address = 10.91.0.2/24
Crypt = aes-128
Key = unit test key

[Peer]
Name = a
Endpoint = 127.0.0.1:4000
AllowedIPs = 0.0.0.0/0
PersistentKeepalive = 1
CONF
printf '[Interface]\nName = kuc\nBogus = 1\n' >"$tmp/etc/kuc.conf"
sed -e 's/kua/kud/g' -e 's/4000/4001/' -e 's/10\.91\./10.92./' "$tmp/etc/kua.conf" \
	>"$tmp/etc/kud.conf"
cp "$tmp/etc/kua.key" "$tmp/etc/kud.key"
chgrp kcpvpn "$tmp"/etc/*.conf "$tmp"/etc/*.key && chmod 640 "$tmp"/etc/*.conf "$tmp"/etc/*.key

mkdir "$cg" || { bad "cannot make $cg"; exit 1; }
(
	echo "$BASHPID" >"$cg/cgroup.procs" &&
		exec unshare --pid --mount --net --cgroup --fork --kill-child \
			--propagation private --mount-proc "$tmp/inner.sh" "$tmp" "$unit_copy"
) >"$tmp/systemd.log" 2>&1 &
outer=$!

# unshare forks the namespace's PID 1, which execs inner.sh, which execs systemd
for _ in $(seq 100); do
	sd_pid=$(pgrep -P "$outer" | head -1)
	[ -n "$sd_pid" ] && [ "$(cat "/proc/$sd_pid/comm" 2>/dev/null)" = systemd ] && break
	sleep 0.1
done
[ "$(cat "/proc/${sd_pid:-0}/comm" 2>/dev/null)" = systemd ] ||
	{ bad "systemd did not start"; cat "$tmp/systemd.log"; exit 1; }

in_ns() { nsenter -t "$sd_pid" -m -p -n -C "$@"; }
sctl() { in_ns timeout 30 systemctl "$@"; }
booted() { [[ $(sctl is-system-running 2>/dev/null) =~ ^(running|degraded)$ ]]; }
for _ in $(seq 200); do booted && break; sleep 0.1; done
booted || { bad "systemd did not finish booting"; tail -20 "$tmp/systemd.log"; exit 1; }
ok "a private systemd runs (PID $sd_pid on the host)"

# logs NAME: the instance's output, for failure messages
logs() { in_ns cat "/run/kcp-logs/$1.log" 2>/dev/null | tail -15; }

in_ns systemd-analyze verify --man=no kcpvpnd@kua.service >"$tmp/verify.log" 2>&1 &&
	! grep -q . "$tmp/verify.log" && ok "systemd-analyze verify kcpvpnd@kua.service is clean" ||
	{ bad "systemd-analyze verify:"; cat "$tmp/verify.log"; }

# negative control: no interface, no socket before the start
if in_ns ip link show kua >/dev/null 2>&1 || in_ns test -e /run/kcpvpnd/kua.sock; then
	bad "kua exists before kcpvpnd@kua started"
fi
if sctl start kcpvpnd@kua.service && [ "$(sctl is-active kcpvpnd@kua.service)" = active ]; then
	ok "systemctl start kcpvpnd@kua: active (Type=notify, READY=1 received)"
else
	bad "kcpvpnd@kua did not start: $(sctl status --no-pager kcpvpnd@kua.service | head -5)"
	logs kua
fi
in_ns ip link show kua 2>/dev/null | grep -q ',UP' && in_ns "$KCPCTL" -i kua ping >/dev/null &&
	ok "kua is up and kcpctl -i kua answers through /run/kcpvpnd" ||
	{ bad "kua not up or its socket not answering"; logs kua; }

pid=$(sctl show -P MainPID kcpvpnd@kua.service)
st=$(in_ns cat "/proc/$pid/status" 2>/dev/null)
admin=$(printf '%016x' $((1 << 12)))                # CAP_NET_ADMIN
unit=$(printf '%016x' $(((1 << 12) | (1 << 10)))) # and CAP_NET_BIND_SERVICE, the unit's set
eff=$(awk '/^CapEff/ { print $2 }' <<<"$st")
prm=$(awk '/^CapPrm/ { print $2 }' <<<"$st")
amb=$(awk '/^CapAmb/ { print $2 }' <<<"$st")
bnd=$(awk '/^CapBnd/ { print $2 }' <<<"$st")
nnp=$(awk '/^NoNewPrivs/ { print $2 }' <<<"$st")
sec=$(awk '/^Seccomp:/ { print $2 }' <<<"$st")
uid=$(awk '/^Uid/ { print $2 }' <<<"$st")
kuid=$(id -u kcpvpn)
if [ "$uid" = "$kuid" ] && [ "$eff" = "$admin" ] && [ "$prm" = "$admin" ] &&
	[ "$amb" = 0000000000000000 ] && [ "$bnd" = "$unit" ] && [ "$nnp" = 1 ] && [ "$sec" = 2 ]; then
	ok "kcpvpnd runs as kcpvpn, keeps NET_ADMIN alone (bounding: the unit's), NoNewPrivs, seccomp"
else
	bad "privileges: uid=$uid (want $kuid) CapEff=$eff CapPrm=$prm CapAmb=$amb (want $admin)" \
		"CapBnd=$bnd (want $unit) NoNewPrivs=$nnp Seccomp=$sec"
fi
# hardening in effect: / read-only, /run/kcpvpnd writable, /home hidden
root_ro=$(in_ns nsenter -t "$pid" -m sh -c 'touch /usr/kcp-unit-test 2>&1 || echo ro')
run_rw=$(in_ns nsenter -t "$pid" -m sh -c 'touch /run/kcpvpnd/.t && rm /run/kcpvpnd/.t && echo rw')
if [[ $root_ro == *ro ]] && [ "$run_rw" = rw ]; then
	ok "the service sees / read-only and /run/kcpvpnd writable"
else
	bad "file system protection: /usr: '$root_ro', /run/kcpvpnd: '$run_rw'"
	in_ns rm -f /usr/kcp-unit-test
fi

# reload: SIGHUP through ExecReload, the daemon checks the file and stays active
if sctl reload kcpvpnd@kua.service && sleep 0.3 &&
	[ "$(sctl is-active kcpvpnd@kua.service)" = active ] &&
	in_ns grep -q 'reloaded file=' /run/kcp-logs/kua.log; then
	ok "systemctl reload kcpvpnd@kua: the daemon reloaded and stays active"
else
	bad "reload: $(sctl is-active kcpvpnd@kua.service)"
	logs kua
fi

# a second instance, a full tunnel: it writes net.ipv4.conf.all.src_valid_mark under
# ProtectKernelTunables and shares /run/kcpvpnd
if sctl start kcpvpnd@kub.service && [ "$(sctl is-active kcpvpnd@kub.service)" = active ]; then
	ok "a second instance, a full tunnel (src_valid_mark through ProtectKernelTunables), starts"
else
	bad "kcpvpnd@kub (full tunnel) did not start"
	logs kub
fi
# peer_up IF PEER: the instance IF sees PEER up
peer_up() {
	[ "$(in_ns "$KCPCTL" -i "$1" status --json 2>/dev/null |
		jq -r --arg p "$2" '.peers[] | select(.name == $p) | .state')" = up ]
}
for _ in $(seq 100); do peer_up kub a && break; sleep 0.1; done
peer_up kub a &&
	ok "the two instances reach each other (kub sees peer a up)" ||
	{ bad "kub never saw its peer up"; logs kub; logs kua; }

sctl stop kcpvpnd@kub.service
if [ "$(sctl is-active kcpvpnd@kub.service)" = inactive ] &&
	! in_ns ip link show kub >/dev/null 2>&1 && in_ns "$KCPCTL" -i kua ping >/dev/null; then
	ok "stopping kub removes its interface and leaves kua's socket in /run/kcpvpnd"
else
	bad "after stopping kub: $(sctl is-active kcpvpnd@kub.service), kua socket answers? no"
fi

# a bad file: start fails, the unit is failed, not active
if sctl start kcpvpnd@kuc.service 2>/dev/null; then
	bad "kcpvpnd@kuc started with a bad file"
elif [ "$(sctl show -P Result kcpvpnd@kuc.service)" = exit-code ] &&
	[ "$(sctl is-active kcpvpnd@kuc.service)" != active ]; then
	ok "a bad file: systemctl start fails (exit-code), the unit never becomes active"
else
	bad "kcpvpnd@kuc: $(sctl is-active kcpvpnd@kuc.service)," \
		"result $(sctl show -P Result kcpvpnd@kuc.service)"
fi
sctl stop kcpvpnd@kuc.service

# started as root (the unit's comments give the drop-in): the daemon drops to kcpvpn itself
if sctl start kcpvpnd@kud.service && [ "$(sctl is-active kcpvpnd@kud.service)" = active ] &&
	in_ns "$KCPCTL" -i kud ping >/dev/null; then
	pid=$(sctl show -P MainPID kcpvpnd@kud.service)
	st=$(in_ns cat "/proc/$pid/status" 2>/dev/null)
	uid=$(awk '/^Uid/ { print $2 }' <<<"$st")
	eff=$(awk '/^CapEff/ { print $2 }' <<<"$st")
	bnd=$(awk '/^CapBnd/ { print $2 }' <<<"$st")
	if [ "$uid" = "$kuid" ] && [ "$eff" = "$admin" ] && [ "$bnd" = "$admin" ] &&
		sctl reload kcpvpnd@kud.service && sleep 0.3 &&
		in_ns grep -q 'reloaded file=' /run/kcp-logs/kud.log; then
		ok "started as root (a drop-in), it drops to kcpvpn with NET_ADMIN alone and reloads"
	else
		bad "root-started instance: uid=$uid CapEff=$eff CapBnd=$bnd (want $kuid, $admin)"
		logs kud
	fi
else
	bad "kcpvpnd@kud (started as root) did not start"
	logs kud
fi
sctl stop kcpvpnd@kud.service

sctl stop kcpvpnd@kua.service
if [ "$(sctl is-active kcpvpnd@kua.service)" = inactive ] &&
	! in_ns ip link show kua >/dev/null 2>&1; then
	ok "systemctl stop kcpvpnd@kua: inactive, interface gone"
else
	bad "kua after stop: $(sctl is-active kcpvpnd@kua.service)"
fi

echo "$name: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
