#!/bin/sh
# kcpimpair on loopback, no root needed: argument errors, delay, loss, duplication, two clients
# with their own replies, idle expiry, periodic counters, IPv6. Bounded: about 8 s, 60 s at most.
#
#   udpprobe probe (client A) --\                 one socket per client
#                                >-- 127.0.0.1:R kcpimpair ---------------> udpprobe echo
#   udpprobe probe (client B) --/                                          127.0.0.1:E
set -u

tools=${TOOLS_DIR:-tests/tools}
work=$(mktemp -d "${TMPDIR:-/tmp}/kcpimpair-test.$$.XXXXXX") || exit 99
pids=
checks=0

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# a watchdog, so a hang fails the test instead of stalling the suite
(
	i=0
	while [ $i -lt 60 ]; do
		sleep 1
		kill -0 $$ 2>/dev/null || exit 0
		i=$((i + 1))
	done
	echo "FAIL: timed out after 60 s"
	kill -TERM $$
) &
pids="$pids $!"

fail() {
	echo "FAIL: $*"
	for f in "$work"/*; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
	exit 1
}
ok() {
	checks=$((checks + 1))
	echo "ok $checks - $*"
}

# wait_line FILE REGEX: waits up to 5 s for a line of FILE matching REGEX and prints it.
wait_line() {
	i=0
	while [ $i -lt 100 ]; do
		line=$(grep -m1 -E "$2" "$1" 2>/dev/null) && { echo "$line"; return 0; }
		sleep 0.05
		i=$((i + 1))
	done
	fail "no line matching /$2/ in $1"
}
# port_of LINE: the port at the end of "... ADDR:PORT" or "... ADDR:PORT, ...".
port_of() {
	echo "$1" | sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\),\{0,1\}\( .*\)\{0,1\}$/\1/p'
}
# val FILE KEY [PREFIX]: the number after KEY= on the last line of FILE starting with PREFIX.
val() {
	v=$(grep -E "^${3:-}" "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=\([0-9][0-9]*\)$/\1/p")
	[ -n "$v" ] || fail "no $2= in $1"
	echo "$v"
}
# between NAME VALUE LO HI
between() {
	if [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		fail "$1 = $2, expected $3..$4"
	fi
}

# echo_start NAME ADDR: an echo server; sets $eport and $pid.
echo_start() {
	"$tools/udpprobe" echo -l "$2:0" -t 60 >"$work/$1.out" 2>&1 &
	pid=$!
	pids="$pids $pid"
	eport=$(port_of "$(wait_line "$work/$1.out" 'listening on')")
}
# relay_start NAME LISTEN_HOST UPSTREAM_ADDR:PORT OPTIONS...: a relay; sets $rport and $pid.
relay_start() {
	name=$1 lhost=$2 up=$3
	shift 3
	"$tools/kcpimpair" -l "$lhost:0" -u "$up" "$@" 2>"$work/$name.err" &
	pid=$!
	pids="$pids $pid"
	rport=$(port_of "$(wait_line "$work/$name.err" 'listening on')")
	[ -n "$rport" ] || fail "$name: no port"
}
# stop PID: SIGTERM, then checks the exit status is 0 within 5 s.
stop() {
	kill -TERM "$1" || fail "process $1 is gone"
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	wait "$1"
	rc=$?
	[ $rc -eq 0 ] || fail "process $1 exited with $rc"
}
probe() {
	"$tools/udpprobe" probe "$@" || fail "udpprobe probe $*"
}

# --- arguments -----------------------------------------------------------------------------
"$tools/kcpimpair" --help >"$work/help.out" 2>&1 || fail "--help exited non-zero"
grep -q '^usage: kcpimpair -l' "$work/help.out" || fail "--help prints no usage"
for args in "" "-l 127.0.0.1:0" "-u 127.0.0.1:9" "-l 127.0.0.1:0 -u 127.0.0.1:9 --loss 101" \
	"-l 127.0.0.1:0 -u 127.0.0.1:9 --up-delay abc" "-l 127.0.0.1:0 -u 127.0.0.1:9 --bogus" \
	"-l 127.0.0.1:0 -u 127.0.0.1:9 --burst-loss 1,2,3" "-l 127.0.0.1 -u 127.0.0.1:9" \
	"-l 127.0.0.1:0 -u 127.0.0.1:0" "-l 127.0.0.1:0 -u 127.0.0.1:9 --rate -1" \
	"-l 127.0.0.1:0 -u 127.0.0.1:9 --down-dup" "-l 127.0.0.1:0 -u 127.0.0.1:9 stray"; do
	# shellcheck disable=SC2086
	"$tools/kcpimpair" $args >"$work/bad.out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "kcpimpair $args: exit $rc, expected 2"
	grep -q 'kcpimpair: ' "$work/bad.out" || fail "kcpimpair $args: no message"
done
ok "--help exits 0; bad arguments exit 2 with a message"

echo_start echo1 127.0.0.1
echo1=127.0.0.1:$eport

# --- delay -------------------------------------------------------------------------------------
probe -c "$echo1" -n 50 -i 1000 -s 100 -w 200 >"$work/direct.out"
[ "$(val "$work/direct.out" received)" -eq 50 ] || fail "echo server answers not all probes"
# The upper bounds below leave room for a loaded machine (make -j2 check runs this beside
# iperf3-heavy e2e tests); "never early" (the minimum) is exact.
[ "$(val "$work/direct.out" rtt_median_us)" -lt 25000 ] || fail "loopback alone is slow"
relay_start delay 127.0.0.1 "$echo1" --up-delay 20 --down-delay 10 --stats-interval 1
delay_pid=$pid
probe -c "127.0.0.1:$rport" -n 200 -i 2000 -s 100 -w 300 >"$work/delay.out"
[ "$(val "$work/delay.out" received)" -eq 200 ] || fail "delay: probes lost"
[ "$(val "$work/delay.out" duplicates)" -eq 0 ] || fail "delay: duplicates without --dup"
# the relay never delivers early; late by scheduling only
between "delay: minimum RTT us" "$(val "$work/delay.out" rtt_min_us)" 30000 45000
between "delay: median RTT us" "$(val "$work/delay.out" rtt_median_us)" 30000 60000
ok "20 ms up + 10 ms down: RTT from 30 ms (direct RTT under 25 ms)"
wait_line "$work/delay.err" 'counters periodic' >/dev/null
kill -USR1 "$delay_pid"
wait_line "$work/delay.err" 'counters on SIGUSR1' >/dev/null
stop "$delay_pid"
wait_line "$work/delay.err" 'counters at exit' >/dev/null
[ "$(val "$work/delay.err" forwarded 'kcpimpair: up ')" -eq 200 ] || fail "up forwarded"
[ "$(val "$work/delay.err" forwarded 'kcpimpair: down ')" -eq 200 ] || fail "down forwarded"
ok "counters: periodic, on SIGUSR1, and at exit after SIGTERM (exit 0)"

# --- loss and duplication ----------------------------------------------------------------------
# 2000 probes, 10% lost up: 1800 +- 5 sigma (67) come back; 10% of those duplicated down:
# 180 +- 5 sigma (64)
relay_start lossdup 127.0.0.1 "$echo1" --up-loss 10 --down-dup 10 --seed 42
lossdup_pid=$pid
probe -c "127.0.0.1:$rport" -n 2000 -i 500 -s 200 -w 300 >"$work/lossdup.out"
stop "$lossdup_pid"
got=$(val "$work/lossdup.out" received)
dups=$(val "$work/lossdup.out" duplicates)
between "loss: echoes received" "$got" 1733 1867
between "dup: duplicates" "$dups" 116 244
[ "$(val "$work/lossdup.out" foreign)" -eq 0 ] || fail "foreign datagrams"
up='kcpimpair: up '
down='kcpimpair: down '
[ "$(val "$work/lossdup.err" received "$up")" -eq 2000 ] || fail "relay did not see 2000"
[ $(($(val "$work/lossdup.err" lost "$up") + $(val "$work/lossdup.err" forwarded "$up"))) \
	-eq 2000 ] || fail "up: lost + forwarded != received"
[ "$(val "$work/lossdup.err" duplicated "$down")" -eq "$dups" ] || fail "dup count differs"
[ "$(val "$work/lossdup.err" lost "$down")" -eq 0 ] || fail "loss leaked into down"
ok "10% loss up: $got of 2000 echoed; 10% dup down: $dups duplicates; counters agree"

# --- two clients -------------------------------------------------------------------------------
echo_start echo2 127.0.0.1
echo2_pid=$pid
relay_start two 127.0.0.1 "127.0.0.1:$eport" --delay 5
two_pid=$pid
"$tools/udpprobe" probe -c "127.0.0.1:$rport" -n 500 -i 1000 -s 80 -w 300 -T 111 \
	>"$work/clientA.out" &
a=$!
"$tools/udpprobe" probe -c "127.0.0.1:$rport" -n 500 -i 1000 -s 120 -w 300 -T 222 \
	>"$work/clientB.out" &
b=$!
wait $a || fail "client A"
wait $b || fail "client B"
stop "$two_pid"
stop "$echo2_pid"
for c in A B; do
	[ "$(val "$work/client$c.out" received)" -eq 500 ] || fail "client $c lost replies"
	[ "$(val "$work/client$c.out" foreign)" -eq 0 ] || fail "client $c got another's replies"
done
[ "$(val "$work/echo2.out" peers)" -eq 2 ] || fail "upstream did not see two addresses"
[ "$(val "$work/two.err" created 'kcpimpair: clients ')" -eq 2 ] || fail "clients created"
ok "two clients: each gets its own 500 replies; upstream sees two source ports"

# --- idle expiry -------------------------------------------------------------------------------
relay_start idle 127.0.0.1 "$echo1" --idle-timeout 1
idle_pid=$pid
probe -c "127.0.0.1:$rport" -n 5 -i 1000 -w 100 >"$work/idle1.out"
sleep 2.2
probe -c "127.0.0.1:$rport" -n 5 -i 1000 -w 100 >"$work/idle2.out"
stop "$idle_pid"
[ "$(val "$work/idle2.out" received)" -eq 5 ] || fail "no replies after expiry"
[ "$(val "$work/idle.err" expired 'kcpimpair: clients ')" -ge 1 ] || fail "mapping not expired"
[ "$(val "$work/idle.err" created 'kcpimpair: clients ')" -eq 2 ] || fail "not re-created"
ok "an idle mapping expires and the client gets a new one"

# --- IPv6 ----------------------------------------------------------------------------------
if grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then
	echo_start echo6 '[::1]'
	relay_start v6 '[::1]' "[::1]:$eport" --delay 1
	v6_pid=$pid
	probe -c "[::1]:$rport" -n 50 -i 1000 -w 200 >"$work/v6.out"
	stop "$v6_pid"
	[ "$(val "$work/v6.out" received)" -eq 50 ] || fail "IPv6 relay lost probes"
	relay_start mixed 127.0.0.1 "[::1]:$eport"
	mixed_pid=$pid
	probe -c "127.0.0.1:$rport" -n 50 -i 1000 -w 200 >"$work/mixed.out"
	stop "$mixed_pid"
	[ "$(val "$work/mixed.out" received)" -eq 50 ] || fail "IPv4 to IPv6 relay lost probes"
	ok "IPv6 on both sides, and IPv4 clients to an IPv6 upstream"
else
	echo "# no IPv6 loopback: IPv6 part skipped"
fi
echo "# $checks checks passed"
exit 0
