# Shared pieces of the benchmark scripts (sourced). The script defines say() and sets top
# (the source tree) first; for the namespace testbed also S, C (namespace names), S_IP and
# C_IP. This file adds die(), the bookkeeping of started processes and namespaces (PIDS, NS)
# with a trap that ends them and removes $tmp at exit, and the helpers below.
PIDS=()
NS=()

die() {
	say "$*"
	exit 1
}

bench_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	for p in "${NS[@]}"; do ip netns del "$p" 2>/dev/null; done
	[ -n "${tmp:-}" ] && rm -rf "$tmp"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# bench_tree BACKEND LOG [DIR]: configures DIR ($top/_build/bench-BACKEND) with -O2 and no
# sanitizers unless it exists, output to LOG, and checks that it is an optimised tree of that
# backend; 1 with a message otherwise. Runs autoreconf first when the source has no configure.
bench_tree() {
	local b=$1 log=$2 dir=${3:-$top/_build/bench-$1}
	mkdir -p "$dir" "$(dirname "$log")"
	if [ ! -x "$top/configure" ]; then
		say "running autoreconf -fi"
		if ! (cd "$top" && autoreconf -fi) >"$log" 2>&1; then
			tail -20 "$log" >&2
			say "autoreconf failed"
			return 1
		fi
	fi
	if [ ! -f "$dir/Makefile" ]; then
		say "configuring $dir (--with-crypto=$b, -O2, no sanitizers)"
		if ! (cd "$dir" && "$top/configure" --with-crypto="$b" CFLAGS="-O2 -g") >"$log" 2>&1
		then
			tail -20 "$log" >&2
			rm -f "$dir/Makefile"
			say "configure failed for $b"
			return 1
		fi
	fi
	if ! grep -q -- "--with-crypto=$b" "$dir/config.log" ||
		grep -Eq "^KC_SAN_FLAGS = .*-fsanitize" "$dir/Makefile"; then
		say "$dir is not an optimised $b tree (see its config.log)"
		return 1
	fi
}

# bg NS LOG CMD...: starts CMD in NS, output to LOG; its PID in $last (ip netns exec execs it).
bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	last=$!
	PIDS+=("$last")
}

# stop PID...: SIGTERM, then SIGKILL after 3 s; reaps them and forgets them.
stop() {
	local p q keep
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for p in "$@"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		keep=()
		for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
		PIDS=("${keep[@]}")
	done
}

# poll SECONDS CMD...: runs CMD every 0.1 s until it succeeds; 1 on timeout.
poll() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# listening NS t|u PORT: something listens on that TCP or UDP port in NS.
listening() { ip netns exec "$1" ss -H -l"$2" "sport = :$3" | grep -q .; }

# cpu_ticks PID...: user + system clock ticks of the processes, all threads.
cpu_ticks() {
	local p sum=0 t
	for p in "$@"; do
		t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
		sum=$((sum + ${t:-0}))
	done
	echo "$sum"
}

# testbed_up VETH: namespaces $S and $C joined by the veth pair VETHs$$ / VETHc$$, with
# $S_IP/24 and $C_IP/24; dies when the link does not carry a ping.
testbed_up() {
	local n va=$1s$$ vb=$1c$$
	for n in "$S" "$C"; do
		ip netns add "$n" || die "ip netns add $n"
		NS+=("$n")
		ip -n "$n" link set lo up
	done
	ip link add "$va" type veth peer name "$vb" || die "veth"
	ip link set "$va" netns "$S"
	ip link set "$vb" netns "$C"
	ip -n "$S" addr add "$S_IP/24" dev "$va"
	ip -n "$C" addr add "$C_IP/24" dev "$vb"
	ip -n "$S" link set "$va" up
	ip -n "$C" link set "$vb" up
	poll 5 ip netns exec "$C" ping -c 1 -W 1 "$S_IP" || die "the veth link does not work"
}
