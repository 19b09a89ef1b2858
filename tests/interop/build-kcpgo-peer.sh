#!/bin/sh
# Builds tests/interop/kcpgo-peer against Debian's kcp-go 5.6.1, offline.
# Usage: build-kcpgo-peer.sh OUTDIR   -> prints the path of OUTDIR/kcpgo-peer
#
# GOPATH mode (GO111MODULE=off) over /usr/share/gocode, where Debian's golang-*-dev packages
# put their sources; there the library is imported as github.com/xtaci/kcp-go (not .../v5).
# shim/zz_kcpgo_peer_shim.go is added to the kcp-go package at build time with -overlay, so
# nothing under /usr is written. The Go cache lives in OUTDIR/gocache. The message format's
# unit tests (kcpgo-peer/main_test.go) run first. Exit 1 names the Debian package that is
# missing, or shows the compiler's or the tests' output.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
gocode=/usr/share/gocode/src

command -v go >/dev/null 2>&1 || {
	echo "build-kcpgo-peer: no go compiler; install the Debian package golang-go" >&2
	exit 1
}
# Every Go package kcp-go 5.6.1 and the peer import, and the Debian package that ships it.
while read -r dir pkg; do
	if [ ! -d "$gocode/$dir" ]; then
		echo "build-kcpgo-peer: $gocode/$dir is missing; install the Debian package $pkg" >&2
		exit 1
	fi
done <<EOF
github.com/xtaci/kcp-go golang-github-xtaci-kcp-dev
github.com/klauspost/reedsolomon golang-github-klauspost-reedsolomon-dev
github.com/klauspost/cpuid golang-github-klauspost-cpuid-dev
github.com/pkg/errors golang-github-pkg-errors-dev
github.com/templexxx/xorsimd golang-github-templexxx-xorsimd-dev
github.com/templexxx/cpu golang-github-templexxx-cpu-dev
github.com/tjfoc/gmsm golang-github-tjfoc-gmsm-dev
golang.org/x/crypto golang-golang-x-crypto-dev
golang.org/x/net golang-golang-x-net-dev
golang.org/x/sys golang-golang-x-sys-dev
EOF

kcpsrc=$gocode/github.com/xtaci/kcp-go
printf '{"Replace":{"%s/zz_kcpgo_peer_shim.go":"%s/kcpgo-peer/shim/zz_kcpgo_peer_shim.go"}}\n' \
	"$kcpsrc" "$here" >"$out/overlay.json"
mkdir -p "$out/gopath" "$out/gocache"
cd "$here/kcpgo-peer"
gorun() {
	GO111MODULE=off GOPATH="$out/gopath:/usr/share/gocode" GOCACHE="$out/gocache" GOFLAGS="" \
		GOPROXY=off CGO_ENABLED=0 go "$@" >"$out/build.log" 2>&1 && return 0
	cat "$out/build.log" >&2
	echo "build-kcpgo-peer: go $1 failed (log above, also in $out/build.log)" >&2
	exit 1
}
# The message format's own tests first (vet cannot follow the overlay, so it is off).
gorun test -vet=off -overlay "$out/overlay.json" main.go main_test.go
gorun build -overlay "$out/overlay.json" -o "$out/kcpgo-peer" main.go
echo "$out/kcpgo-peer"
