#!/bin/sh
# kcpctl against tests/ctl/fakectld (canned replies served by the real daemon/control.c):
# tables for people, --json passed through byte for byte, what tune sends, exit codes 0/1/2,
# the messages for a missing socket and for permissions. No root needed; as root, kcpctl also
# runs as nobody to check the permission of mutating commands. Bounded: about 1 s, 60 s at most.
set -u

ctl=${CTL_DIR:-ctl}/kcpctl
fake=${CTL_TEST_DIR:-tests/ctl}/fakectld
work=$(mktemp -d "${TMPDIR:-/tmp}/kcpctl-test.$$.XXXXXX") || exit 99
sock=$work/kcp0.sock
pids=
checks=0

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
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
	for f in "$work"/out "$work"/err "$work"/fake.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }
	done
	exit 1
}
ok() {
	checks=$((checks + 1))
	echo "ok $checks - $*"
}

# run WANT_RC ARGS...: runs kcpctl with stdout in $work/out and stderr in $work/err.
run() {
	want=$1
	shift
	"$ctl" "$@" >"$work/out" 2>"$work/err"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "kcpctl $* exited $rc, expected $want"
}
out_has() { grep -q -e "$1" "$work/out" || fail "stdout lacks /$1/"; }
err_has() { grep -q -F -e "$1" "$work/err" || fail "stderr lacks \"$1\""; }

# start_fake [OPTIONS]: starts fakectld on $sock and waits until it listens.
start_fake() {
	# empty the log here: the redirection below truncates it in the child, which may run
	# after our first look, and the previous fakectld's "listening" line would fool us
	: >"$work/fake.log"
	"$fake" "$sock" "$@" >>"$work/fake.log" 2>&1 &
	fake_pid=$!
	pids="$pids $fake_pid"
	i=0
	until grep -q '^listening on' "$work/fake.log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "fakectld did not start"
		kill -0 "$fake_pid" 2>/dev/null || fail "fakectld died"
		sleep 0.05
	done
}
stop_fake() {
	kill "$fake_pid"
	wait "$fake_pid" 2>/dev/null
}

[ -x "$ctl" ] && [ -x "$fake" ] || fail "build $ctl and $fake first"

# --- usage and no daemon (exit 2), before any daemon exists
run 2 -s "$sock" status
err_has "kcpctl: cannot connect to $sock: No such file or directory (is kcpvpnd running?)"
ok "missing socket: exit 2 with the message naming it"
KCPCTL_SOCKET=$sock run 2 ping
err_has "cannot connect to $sock"
ok "\$KCPCTL_SOCKET picks the socket"
run 2 -i kcp9 ping
err_has "cannot connect to /run/kcpvpnd/kcp9.sock"
ok "-i IFNAME picks /run/kcpvpnd/IFNAME.sock"
run 2 -s "$sock" -i kcp0 ping
run 2 -i "../etc" ping
run 2 -s "$sock"
run 2 -s "$sock" frobnicate
err_has 'unknown command "frobnicate"'
run 2 -s "$sock" status extra
run 2 -s "$sock" status --bogus
run 2 -s "$sock" show
run 2 -s "$sock" show peers
run 2 --bogus ping
ok "usage errors exit 2"
run 0 --help
for c in status peers tune show ping; do out_has "^  $c"; done
run 0 --version
out_has '^kcpctl [0-9]'
ok "--help lists every command, --version prints one"

start_fake

# --- read-only commands
run 0 -s "$sock" ping
out_has "^pong from $sock in [0-9.]* ms$"
ok "ping"

run 0 -s "$sock" status
out_has '^interface  *kcp0$'
out_has '^listen port  *4000$'
out_has '^mtu  *1312 (udp 1400)$'
out_has '^addresses  *10.9.0.1/24, fd00:9::1/64$'
out_has '^uptime  *1h02m$'
out_has '^rate limit  *off$'
out_has '^PEER  *STATE  *ENDPOINT  *RTT  *LOSS  *FEC  *RX  *TX  *RETRANS  *OVERHEAD  *LIMIT$'
out_has '^lab  *up  *198\.51\.100\.7:4000  *48 ms  *1\.2%  *10:3 (5 rec)  *1\.4 GiB  *123 B  *10  *12\.5%  *20 Mbit/s$'
out_has '^roadwarrior-with-a-long-name  *connecting  *-  *0 ms  *0\.0%  *off  *2\.0 KiB  *0 B  *0  *0\.0%  *1\.5 Mbit/s$'
ok "status: the interface block and one row per peer"
# the columns line up: STATE starts at the same offset in the header and both rows
offs=$(awk '/^PEER /{print index($0, "STATE")} /^lab /{print index($0, "up")}
	/^roadwarrior/{print index($0, "connecting")}' "$work/out" | sort -u | wc -l)
[ "$offs" -eq 1 ] || fail "STATE column not aligned"
ok "status: columns aligned"

run 0 -s "$sock" peers
out_has '^PEER  *STATE  *ENDPOINT  *ALLOWED IPS$'
out_has '^lab  *up  *198\.51\.100\.7:4000  *10\.9\.0\.2/32, 192\.168\.50\.0/24$'
out_has '^roadwarrior-with-a-long-name  *connecting  *-  *10\.9\.0\.3/32$'
ok "peers: one row per peer with its allowed IPs"

run 0 -s "$sock" show config
printf '[Interface]\nName = kcp0\nMode = compat\nListenPort = 4000\nAddress = 10.9.0.1/24\nCrypt = aes\nFEC = 10:3\n\n[Peer]\nName = lab\nAllowedIPs = 10.9.0.2/32, 192.168.50.0/24\n' >"$work/want"
cmp -s "$work/out" "$work/want" || fail "show config does not print the text as served"
ok "show config prints the daemon's text"

# --- --json passes the reply line through untouched
if command -v socat >/dev/null 2>&1; then
	for c in status peers show_config ping; do
		printf '{"cmd":"%s"}\n' "$c" | socat -t 5 - "UNIX-CONNECT:$sock" >"$work/raw.$c" ||
			fail "socat $c"
	done
	for args in "--json status" "status --json" "--json peers" "peers --json" \
		"show config --json" "--json ping"; do
		set -- $args
		c=$1
		[ "$c" = --json ] && c=$2
		[ "$c" = show ] && c=show_config
		run 0 -s "$sock" "$@"
		cmp -s "$work/out" "$work/raw.$c" || fail "kcpctl $args differs from the raw reply"
	done
	ok "--json output is the daemon's reply, byte for byte"
else
	echo "note: socat missing, --json compared by parsing only"
fi
run 0 -s "$sock" --json peers
[ "$(wc -l <"$work/out")" -eq 1 ] || fail "--json printed more than one line"
if command -v jq >/dev/null 2>&1; then
	[ "$(jq -r '.peers[0].allowed_ips[1]' "$work/out")" = 192.168.50.0/24 ] ||
		fail "--json peers is not the reply"
fi
ok "--json prints one JSON line"

# --- tune: what kcpctl sends, and the daemon's refusals (exit 1)
run 0 -s "$sock" tune lab fec=10:3 sndwnd=512 nc=yes ratelimit=10M
grep -q -F 'tune {"cmd":"tune","peer":"lab","set":{"fec":"10:3","sndwnd":512,"nc":true,"ratelimit":"10M"}}' "$work/fake.log" ||
	fail "tune request not as expected: $(grep '^tune' "$work/fake.log" | tail -1)"
ok "tune PEER: typed values (integer, boolean, strings) under \"set\""
run 0 -s "$sock" tune fec=off
run 0 -s "$sock" tune all mode=fast2 interval=20 nodelay=1 resend=2 rcvwnd=256 nc=no
[ "$(grep -c '^tune ' "$work/fake.log")" -eq 3 ] || fail "expected 3 tune requests"
grep '^tune ' "$work/fake.log" | tail -2 | grep -q '"peer"' && fail "tune without PEER or with all sent a peer"
grep -q -F '"set":{"mode":"fast2","interval":20,"nodelay":1,"resend":2,"rcvwnd":256,"nc":false}' "$work/fake.log" ||
	fail "tune all: set not as expected"
ok "tune without PEER and tune all address every peer"
run 1 -s "$sock" tune nope fec=off
err_has 'kcpctl: no peer named "nope" (unknown_peer)'
ok "a refusal exits 1 with the daemon's message and code"
run 1 -s "$sock" --json tune nope fec=off
out_has '"error":"unknown_peer"'
ok "a refusal with --json still prints the reply and exits 1"
run 2 -s "$sock" tune lab
run 2 -s "$sock" tune
run 2 -s "$sock" tune lab sndwnd=abc
err_has 'sndwnd: expected an integer, got "abc"'
run 2 -s "$sock" tune lab nc=maybe
run 2 -s "$sock" tune lab bogus=1
err_has 'unknown key "bogus"'
run 2 -s "$sock" tune lab fec=off fec=10:3
run 2 -s "$sock" tune lab =3
[ "$(grep -c '^tune ' "$work/fake.log")" -eq 3 ] || fail "a usage error reached the daemon"
ok "tune usage errors exit 2 and send nothing"

# --- permissions, as nobody (root only)
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	chmod 0755 "$work"
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	nobody "$ctl" -s "$sock" status >"$work/out" 2>"$work/err"
	[ $? -eq 2 ] || fail "nobody connected to a 0660 root socket"
	err_has "cannot connect to $sock: Permission denied"
	ok "no access to the socket: exit 2, named as permission denied"
	stop_fake
	start_fake --world
	nobody "$ctl" -s "$sock" status >"$work/out" 2>"$work/err" || fail "nobody: status refused"
	nobody "$ctl" -s "$sock" tune lab fec=off >"$work/out" 2>"$work/err"
	[ $? -eq 1 ] || fail "nobody: tune not refused with exit 1"
	err_has "(permission_denied)"
	ok "read-only commands open to any client, mutating ones refused with permission_denied"
else
	echo "note: not root, permission checks as another user skipped"
fi

# --- no peers, then no daemon
stop_fake
start_fake --no-peers
run 0 -s "$sock" status
out_has '^no peers$'
run 0 -s "$sock" peers
out_has '^no peers$'
ok "status and peers say when there are no peers"
stop_fake
[ -e "$sock" ] && fail "the socket outlived its daemon"
run 2 -s "$sock" ping
err_has "(is kcpvpnd running?)"
ok "after the daemon stops: socket gone, exit 2"
echo "all $checks checks passed"
