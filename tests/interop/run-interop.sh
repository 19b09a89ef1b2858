#!/bin/bash
# Interop matrix between two KCP peer programs on 127.0.0.1.
#
#   run-interop.sh PEER_A PEER_B   A client vs B server, then B client vs A server
#   run-interop.sh PEER_A PEER_A   one direction only (a peer against itself)
#   run-interop.sh PEER_A          PEER_B is the kcp-go peer, built here (build-kcpgo-peer.sh)
#
#   client (-role client -dial)  --- UDP 127.0.0.1:PORT --->  server (-role server -listen)
#        sends N messages, checks the echoes                 checks N messages, echoes them
#
# A peer is any program with kcpgo-peer's flags and message format (see kcpgo-peer/main.go):
# -role -listen -dial -crypt -key -ds -ps -mtu -mode -n -loss -seed -timeout -maxlen.
# A case passes when the server prints "server ok n=N" and exits 0, and the client prints
# "client ok n=N"; the client is then stopped, as it only lingers to repeat lost ACKs.
# Each crypt x FEC case runs with -loss on one side. Two negative controls must fail: a
# wrong key, and peers that disagree on -maxlen. One PASS/FAIL line per case, then
# "N passed, M failed"; exit 0 only if nothing failed.
#
# Environment (defaults in brackets):
#   INTEROP_CRYPTS ["none aes aes-128 null"]  INTEROP_FECS ["0/0 10/3 3/2"]
#   INTEROP_N [300]  INTEROP_LOSS [10]  INTEROP_LOSS_SIDE [server] (server, client or both)
#   INTEROP_MODE [fast]  INTEROP_TIMEOUT [30] seconds per peer  INTEROP_NEGATIVE [1]
#   INTEROP_BUILD [<top>/_build/interop] where the kcp-go peer is built
#   INTEROP_EXTRA [""] more flags for both peers, e.g. "-mtu 1350 -mode fast3"
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

crypts=${INTEROP_CRYPTS:-none aes aes-128 null}
fecs=${INTEROP_FECS:-0/0 10/3 3/2}
n=${INTEROP_N:-300}
loss=${INTEROP_LOSS:-10}
loss_side=${INTEROP_LOSS_SIDE:-server}
mode=${INTEROP_MODE:-fast}
to=${INTEROP_TIMEOUT:-30}
negative=${INTEROP_NEGATIVE:-1}
extra=${INTEROP_EXTRA:-}
neg_to=3

usage() {
	echo "usage: $0 PEER_A [PEER_B]" >&2
	exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
peer_a=$1
if [ $# -eq 2 ]; then
	peer_b=$2
else
	peer_b=$("$here/build-kcpgo-peer.sh" "${INTEROP_BUILD:-$top/_build/interop}") || exit 1
fi
for p in "$peer_a" "$peer_b"; do
	[ -x "$p" ] || { echo "run-interop: $p is not an executable" >&2; exit 2; }
done
case $loss_side in server | client | both) ;; *) usage ;; esac

logs=$(mktemp -d "${TMPDIR:-/tmp}/kc-interop.$$.XXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
seq_no=0

# free_port: prints a UDP port nobody on this host is bound to.
free_port() {
	local port
	for _ in $(seq 1 50); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! command -v ss >/dev/null || [ -z "$(ss -Hnuln "sport = :$port" 2>/dev/null)" ]; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# wait_bound PORT PID: waits until PORT is bound (up to 5 s) or PID has died.
wait_bound() {
	local _
	command -v ss >/dev/null || { sleep 0.3; return 0; }
	for _ in $(seq 1 100); do
		[ -n "$(ss -Hnuln "sport = :$1" 2>/dev/null)" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# stat_of LOG KEY: the value of KEY in the peer's "kcpgo-peer: stats" line, if it printed one.
stat_of() {
	sed -n "s/^[^ ]*: stats .*[ ]$2=\([0-9]*\).*/\1/p" "$1" | tail -1
}

# check_drops ROLE LOG FLAGS: a peer that prints its stats and was given a non-zero -loss must
# have dropped datagrams. Adds the drop and FEC counts to info; sets verdict and why if not.
check_drops() {
	local din dout rec
	din=$(stat_of "$2" dropped_in)
	dout=$(stat_of "$2" dropped_out)
	rec=$(stat_of "$2" fec_recovered)
	[ -n "$din" ] || return 0
	info="$info ${1}_drops=$din/$dout ${1}_fec_recovered=$rec"
	if [[ " $3 " == *" -loss "* ]] && [[ " $3 " != *" -loss 0 "* ]] && [ $((din + dout)) -eq 0 ]; then
		verdict=FAIL
		why="the $1 was given -loss but dropped nothing"
	fi
}

# run_case EXPECT N LABEL CLIENT SERVER TIMEOUT "COMMON FLAGS" "SERVER FLAGS" "CLIENT FLAGS"
# EXPECT is ok or fail; N the -n in the flags. Prints one PASS or FAIL line and counts it.
run_case() {
	local expect=$1 nmsg=$2 label=$3 client=$4 server=$5 t=$6 common=$7 sflags=$8 cflags=$9
	local port slog clog spid cpid src crc t0 t1 verdict why="" info="" d
	seq_no=$((seq_no + 1))
	slog=$logs/$seq_no.server
	clog=$logs/$seq_no.client
	port=$(free_port) || { echo "FAIL $label: no free port"; failed=$((failed + 1)); return; }
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086 # the flag strings are lists of words
	timeout -k 2 $((t + 10)) "$server" -role server -listen 127.0.0.1:"$port" $common $sflags \
		-timeout "$t" >"$slog" 2>&1 &
	spid=$!
	pids+=("$spid")
	cpid=
	if wait_bound "$port" "$spid"; then
		# shellcheck disable=SC2086
		timeout -k 2 $((t + 10)) "$client" -role client -dial 127.0.0.1:"$port" $common \
			$cflags -timeout "$t" >"$clog" 2>&1 &
		cpid=$!
		pids+=("$cpid")
	else
		why="server did not bind 127.0.0.1:$port"
		kill "$spid" 2>/dev/null
		: >"$clog"
	fi
	# A client that ended without its ok line has failed: the server need not wait it out.
	while [ -n "$cpid" ] && kill -0 "$spid" 2>/dev/null; do
		if ! kill -0 "$cpid" 2>/dev/null && ! grep -q ': client ok n=' "$clog"; then
			kill "$spid" 2>/dev/null
			break
		fi
		sleep 0.05
	done
	wait "$spid"
	src=$?
	crc=none
	if [ -n "$cpid" ]; then
		# After a good server run the client only has to read what its KCP already holds.
		while kill -0 "$cpid" 2>/dev/null; do
			[ $src -ne 0 ] && break
			grep -q ': client ok n=' "$clog" && break
			sleep 0.05
		done
		if kill -0 "$cpid" 2>/dev/null; then
			kill "$cpid" 2>/dev/null
			wait "$cpid" 2>/dev/null
			crc=stopped
		else
			wait "$cpid"
			crc=$?
		fi
	fi
	t1=$(date +%s.%N)
	d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

	local sok=0 cok=0
	[ $src -eq 0 ] && grep -qE "server ok n=$nmsg( |\$)" "$slog" && sok=1
	grep -q "client ok n=$nmsg " "$clog" && { [ "$crc" = 0 ] || [ "$crc" = stopped ]; } && cok=1
	if [ "$expect" = fail ]; then
		if [ $sok -eq 1 ] && [ $cok -eq 1 ]; then
			verdict=FAIL
			why="both peers reported success on a case that must fail"
		else
			verdict=PASS
			info=" (failed as it must: server rc=$src client rc=$crc)"
		fi
	elif [ $sok -eq 1 ] && [ $cok -eq 1 ]; then
		verdict=PASS
		info=" $(sed -n 's/^[^ ]*: client ok n=[0-9]* //p' "$clog")"
		check_drops server "$slog" "$sflags"
		check_drops client "$clog" "$cflags"
	else
		verdict=FAIL
		why="server rc=$src client rc=$crc"
	fi
	echo "$verdict $label time=${d}s$info${why:+ -- $why}"
	if [ "$verdict" = PASS ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "    server: $server -role server -listen 127.0.0.1:$port $common $sflags -timeout $t"
		echo "    client: $client -role client -dial 127.0.0.1:$port $common $cflags -timeout $t"
		tail -5 "$slog" | sed 's/^/    server| /'
		tail -5 "$clog" | sed 's/^/    client| /'
	fi
}

# One direction of the whole matrix: CLIENT binary against SERVER binary.
run_direction() {
	local client=$1 server=$2 crypt fec ds ps common sflags cflags seed label names
	names="client=$(basename "$client") server=$(basename "$server")"
	for crypt in $crypts; do
		for fec in $fecs; do
			ds=${fec%/*}
			ps=${fec#*/}
			seed=$((seq_no + 1))
			common="-crypt $crypt -key kcpvpnd-interop -ds $ds -ps $ps -mode $mode -n $n $extra"
			sflags=
			cflags=
			case $loss_side in
			server) sflags="-loss $loss -seed $seed" ;;
			client) cflags="-loss $loss -seed $seed" ;;
			both) sflags="-loss $loss -seed $seed" cflags="-loss $loss -seed $((seed + 1000))" ;;
			esac
			label="crypt=$crypt fec=$fec $names loss=$loss_side:$loss seed=$seed"
			run_case ok "$n" "$label" "$client" "$server" "$to" "$common" "$sflags" "$cflags"
		done
	done
	[ "$negative" = 1 ] || return 0
	common="-crypt aes -ds 10 -ps 3 -mode $mode -n 50 $extra"
	run_case fail 50 "negative=wrong_key $names" "$client" "$server" "$neg_to" \
		"$common" "-key kcpvpnd-interop" "-key another-key"
	run_case fail 50 "negative=maxlen_mismatch $names" "$client" "$server" "$neg_to" \
		"$common -key kcpvpnd-interop" "-maxlen 1000" ""
}

run_direction "$peer_a" "$peer_b"
if [ "$(readlink -f "$peer_a")" != "$(readlink -f "$peer_b")" ]; then
	run_direction "$peer_b" "$peer_a"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
