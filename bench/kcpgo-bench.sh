#!/bin/bash
# Runs kcp-go 5.6.1's own Go benchmarks (Debian's golang-github-xtaci-kcp-dev sources), offline,
# for comparison with ours. Prints one line per benchmark on stdout:
#   kcpgo bench=NAME unit=MB/s value=X go=BENCHMARK runs=K
# X is the median of K runs (KCPGO_BENCH_COUNT, default 5) of a fixed iteration count, each
# about one second on one core of a 2-core VM; the whole script takes under a minute there.
#
#   NAME        kcp-go benchmark          what one MB/s counts
#   aes128_cfb  BenchmarkAES128           a 1500-byte buffer encrypted then decrypted, counted
#                                         as 3000 bytes (crypt_test.go benchCrypt)
#   fec_encode  BenchmarkFECEncode        10/3 encoder fed 1500-byte packets, data bytes
#   fec_decode  BenchmarkFECDecode        10/3 decoder fed 1500-byte packets, 1 in 13 dropped
#   sink_speed  BenchmarkSinkSpeed256K    one-way Write of 524288 bytes per op (the name says
#                                         256K, the code writes 512 KiB), no crypto, no FEC,
#                                         stream mode, 127.0.0.1; ends when the writes return
#   echo_speed  BenchmarkEchoSpeed64K     64 KiB written and read back per op, salsa20,
#                                         client FEC 10/3, server FEC off, stream mode, 127.0.0.1
#
# usage: kcpgo-bench.sh [SCRATCH]   (default <top>/_build/kcpgo-bench)
# The package is copied into SCRATCH/gopath so that go test can build there. Two edits to
# the copy of sess_test.go keep it on loopback and off other runs' ports: its pprof server
# listens on 127.0.0.1:0 instead of 0.0.0.0:6060, and its first test port is random.
# Progress and errors go to stderr. Exit 1 if a benchmark could not run.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
scratch=${1:-$top/_build/kcpgo-bench}
count=${KCPGO_BENCH_COUNT:-5}
gocode=/usr/share/gocode/src
kcpsrc=$gocode/github.com/xtaci/kcp-go

say() { echo "kcpgo-bench: $*" >&2; }

command -v go >/dev/null 2>&1 || { say "no go compiler; install the Debian package golang-go"; exit 1; }
while read -r dir pkg; do
	[ -d "$gocode/$dir" ] || { say "$gocode/$dir is missing; install the Debian package $pkg"; exit 1; }
done <<EOF
github.com/xtaci/kcp-go golang-github-xtaci-kcp-dev
github.com/klauspost/reedsolomon golang-github-klauspost-reedsolomon-dev
github.com/pkg/errors golang-github-pkg-errors-dev
github.com/templexxx/xorsimd golang-github-templexxx-xorsimd-dev
github.com/tjfoc/gmsm golang-github-tjfoc-gmsm-dev
golang.org/x/crypto golang-golang-x-crypto-dev
golang.org/x/net golang-golang-x-net-dev
github.com/stretchr/testify golang-github-stretchr-testify-dev
github.com/davecgh/go-spew golang-github-davecgh-go-spew-dev
github.com/pmezard/go-difflib golang-github-pmezard-go-difflib-dev
gopkg.in/yaml.v3 golang-gopkg-yaml.v3-dev
EOF

mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)
pkg=$scratch/gopath/src/github.com/xtaci/kcp-go
rm -rf "$pkg"
mkdir -p "$(dirname "$pkg")"
if ! cp -r "$kcpsrc" "$pkg" || ! chmod -R u+w "$pkg"; then
	say "cannot copy $kcpsrc"
	exit 1
fi
port=$((20000 + (RANDOM * 32768 + RANDOM) % 30000))
sed -i -e 's/"0\.0\.0\.0:6060"/"127.0.0.1:0"/' \
	-e "s/^var baseport = uint32(10000)\$/var baseport = uint32($port)/" "$pkg/sess_test.go"
if ! grep -q '"127.0.0.1:0"' "$pkg/sess_test.go" || ! grep -q "uint32($port)" "$pkg/sess_test.go"
then
	say "sess_test.go is not the 5.6.1 file this script knows; refusing to open 0.0.0.0:6060"
	exit 1
fi

say "building the kcp-go test binary in $scratch"
if ! (cd "$pkg" && GO111MODULE=off GOPATH="$scratch/gopath:/usr/share/gocode" \
	GOCACHE="$scratch/gocache" GOFLAGS="" GOPROXY=off go test -c -o "$scratch/kcp.test" .) \
	>"$scratch/build.log" 2>&1; then
	cat "$scratch/build.log" >&2
	say "go test -c failed (log above)"
	exit 1
fi

status=0
# NAME GO_BENCHMARK ITERATIONS
while read -r name bench iters; do
	say "$bench: $count x ${iters} iterations"
	out=$(cd "$scratch" && timeout 300 ./kcp.test -test.run '^$' -test.bench "^$bench\$" \
		-test.benchtime "${iters}x" -test.count "$count" -test.timeout 280s 2>&1)
	vals=$(printf '%s\n' "$out" | awk -v b="$bench" \
		'$1 ~ "^" b "(-[0-9]+)?$" { for (i = 2; i < NF; i++) if ($(i + 1) == "MB/s") print $i }')
	k=$(printf '%s' "$vals" | grep -c .)
	if [ "$k" -eq 0 ]; then
		printf '%s\n' "$out" | tail -20 >&2
		say "$bench produced no MB/s figure"
		status=1
		continue
	fi
	say "$bench runs (MB/s): $(printf '%s' "$vals" | tr '\n' ' ')"
	median=$(printf '%s\n' "$vals" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	echo "kcpgo bench=$name unit=MB/s value=$median go=$bench runs=$k"
done <<EOF
aes128_cfb BenchmarkAES128 400000
fec_encode BenchmarkFECEncode 2000000
fec_decode BenchmarkFECDecode 2500000
sink_speed BenchmarkSinkSpeed256K 250
echo_speed BenchmarkEchoSpeed64K 1000
EOF
exit $status
