# Shared helpers of the end-to-end tests (sourced). Each test makes its own namespaces, names
# carry $$, everything it started is stopped by PID and everything it made is removed by the
# trap, and each wait is bounded. Needs root; without root a test exits 77 (skip), which the
# test command turns into a failure under CI=true.

E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_BUILD=${E2E_BUILD:-$E2E_TOP/_build/test-wolfssl}
KCPVPND=${KCPVPND:-$E2E_BUILD/daemon/kcpvpnd}
KCPCTL=${KCPCTL:-$E2E_BUILD/ctl/kcpctl}
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kcp-e2e.$$.XXXX")
# kcpvpnd runs as kcpvpn or nobody once set up, and reads its file again on SIGHUP
chmod 755 "$E2E_TMP"
E2E_NS=()
E2E_PIDS=()

e2e_cleanup() {
	local p n
	for p in "${E2E_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${E2E_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	for n in "${E2E_NS[@]}"; do ip netns del "$n" 2>/dev/null; done
	[ -n "${E2E_KEEP:-}" ] || rm -rf "$E2E_TMP"
}
trap e2e_cleanup EXIT

e2e_need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: $1 needs root (network namespaces, TUN)"
		exit 77
	fi
	for t in "$KCPVPND" "$KCPCTL"; do
		[ -x "$t" ] || { echo "FAIL: $t not built"; exit 1; }
	done
}

# e2e_need_tools TOOL...: fails the test when a tool it uses is missing
# (scripts/install-deps.sh installs them all).
e2e_need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || fail "$t not installed (scripts/install-deps.sh installs it)"
	done
}

fail() {
	echo "FAIL: $*"
	for f in "$E2E_TMP"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
	exit 1
}

pass() { echo "ok: $*"; }

# netns_add NAME: a fresh namespace with loopback up.
netns_add() {
	ip netns add "$1" || fail "ip netns add $1"
	E2E_NS+=("$1")
	ip -n "$1" link set lo up
}

# veth_link NS_A ADDR_A NS_B ADDR_B: a veth pair between two namespaces (ADDR with /prefix).
veth_link() {
	local a=v$$a$RANDOM b=v$$b$RANDOM
	a=${a:0:15}
	b=${b:0:15}
	ip link add "$a" type veth peer name "$b" || fail "veth"
	ip link set "$a" netns "$1"
	ip link set "$b" netns "$3"
	ip -n "$1" addr add "$2" dev "$a"
	ip -n "$3" addr add "$4" dev "$b"
	ip -n "$1" link set "$a" up
	ip -n "$3" link set "$b" up
}

# start_daemon NS CONFIG NAME [config-loglevel]: runs kcpvpnd -f in NS, its log in
# $E2E_TMP/NAME.log, at -d debug unless "config-loglevel" asks for the config's LogLevel.
start_daemon() {
	local args=(-d debug)
	[ "${4:-}" = config-loglevel ] && args=()
	ip netns exec "$1" "$KCPVPND" -f "${args[@]}" -c "$2" >"$E2E_TMP/$3.log" 2>&1 &
	E2E_PIDS+=($!)
	eval "PID_$3=$!"
}

# daemon_account: "USER GROUP UID GID", the account kcpvpnd runs as without User
# (kcpvpnd.conf(5)): kcpvpn, else nobody, with its primary group.
daemon_account() {
	local u g
	u=$(getent passwd kcpvpn || getent passwd nobody) || fail "neither kcpvpn nor nobody exists"
	g=$(getent group "$(cut -d: -f4 <<<"$u")") || fail "no group $(cut -d: -f4 <<<"$u")"
	echo "$(cut -d: -f1 <<<"$u") $(cut -d: -f1 <<<"$g") $(cut -d: -f3 <<<"$u")" \
		"$(cut -d: -f3 <<<"$g")"
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_for() {
	local t=$1 what=$2 i
	shift 2
	for i in $(seq $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "timed out after ${t}s waiting for $what"
}

# peer_state SOCKET PEER: the peer's state per kcpctl status --json.
peer_state() {
	"$KCPCTL" -s "$1" status --json | jq -r --arg p "$2" '.peers[] | select(.name == $p) | .state'
}

peer_is_up() { [ "$(peer_state "$1" "$2")" = up ]; }

# tcp_listening NS PORT: something listens on TCP PORT in NS (for wait_for).
tcp_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; }

# has_route NS PATTERN: `ip route show` in NS has a line matching PATTERN. The output is read
# whole first: under pipefail, `ip ... | grep -q` fails when grep exits before ip is done.
has_route() {
	local routes
	routes=$(ip -n "$1" route show) && grep -q "$2" <<<"$routes"
}
