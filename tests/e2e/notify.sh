#!/bin/bash
# kcpvpnd tells its service manager (sd_notify, as for a Type=notify systemd unit) when the
# tunnel is up, when a SIGHUP reload starts and ends (also a failed one), and when it stops.
#
#   ns N: kcpvpnd (UDP 4000), NOTIFY_SOCKET -> a datagram socket read by socat (outside N)
#
# Checks: nothing before start (negative control); READY=1 once the interface is up and the
# control socket answers; RELOADING=1 (with MONOTONIC_USEC) then READY=1 for a good and for a
# bad file; STOPPING=1 on SIGTERM, and then the daemon exits 0.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
e2e_need_root notify
command -v socat >/dev/null || { echo "SKIP: notify needs socat"; exit 77; }

N=kcpN$$
IF=kn$$
netns_add "$N"
cat >"$E2E_TMP/d.conf" <<CONF
[Interface]
Name = $IF
Mode = compat
ListenPort = 4000
Address = 10.9.0.1/24
Crypt = aes-128
Key = notify test
ControlSocket = $E2E_TMP/d.sock

[Peer]
Name = client
AllowedIPs = 10.9.0.2/32
CONF

# The listener: socat writes each datagram as it comes, without separators. Its socket is
# open to all, as systemd's is: kcpvpnd sends READY=1 after it dropped root.
: >"$E2E_TMP/notify.out"
socat -u "UNIX-RECV:$E2E_TMP/notify.sock,mode=0666" "OPEN:$E2E_TMP/notify.out,append" &
E2E_PIDS+=($!)
wait_for 5 "the notify socket" test -S "$E2E_TMP/notify.sock"

# states: the READY/RELOADING/STOPPING messages received so far, space-separated
states() { grep -o -E 'READY=1|RELOADING=1|STOPPING=1' "$E2E_TMP/notify.out" | tr '\n' ' '; }
states_are() { [ "$(states)" = "$1" ]; }

[ -z "$(states)" ] || fail "messages before the daemon started: $(states)"
pass "nothing on the notify socket before the daemon starts"

NOTIFY_SOCKET=$E2E_TMP/notify.sock start_daemon "$N" "$E2E_TMP/d.conf" d
wait_for 10 "READY=1 after start" states_are "READY=1 "
ip -n "$N" link show "$IF" | grep -q ',UP' || fail "READY=1 before $IF was up"
"$KCPCTL" -s "$E2E_TMP/d.sock" ping >/dev/null || fail "READY=1 before the control socket answered"
grep -q 'started interface=' "$E2E_TMP/d.log" || fail "READY=1 before the started line"
pass "READY=1 once $IF is up and the control socket answers"

kill -HUP "$PID_d"
wait_for 10 "RELOADING=1 then READY=1 after SIGHUP" states_are "READY=1 RELOADING=1 READY=1 "
tr '\n' '|' <"$E2E_TMP/notify.out" | grep -q -E 'RELOADING=1\|MONOTONIC_USEC=[0-9]+READY' ||
	fail "RELOADING=1 without MONOTONIC_USEC: $(cat -v "$E2E_TMP/notify.out")"
pass "a reload is framed by RELOADING=1 (with MONOTONIC_USEC) and READY=1"

echo "Bogus = 1" >>"$E2E_TMP/d.conf"
kill -HUP "$PID_d"
wait_for 10 "READY=1 after a failed reload" \
	states_are "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 "
grep -q 'reload failed' "$E2E_TMP/d.log" || fail "the bad file was not refused"
pass "a refused reload ends with READY=1 too"

kill -TERM "$PID_d"
wait "$PID_d"
rc=$?
[ $rc -eq 0 ] || fail "kcpvpnd exited $rc after SIGTERM"
wait_for 5 "STOPPING=1" states_are "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 STOPPING=1 "
pass "STOPPING=1 on SIGTERM, exit 0"
echo "notify: all checks passed"
