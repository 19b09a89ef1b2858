# Sourced by the offline builds of the kcp-go programs (build-kcpgo-peer.sh, kcpgo-tun/build.sh):
# GOPATH mode (GO111MODULE=off) over /usr/share/gocode, where Debian's golang-*-dev packages
# put their sources (kcp-go is imported there as github.com/xtaci/kcp-go, not .../v5), no
# network, and kcpgo-peer/shim/zz_kcpgo_peer_shim.go added to kcp-go with -overlay so that
# nothing under /usr is written. The Go cache lives in OUTDIR/gocache.

# go_env OUTDIR TAG INTEROP_DIR: checks the toolchain and every Go package kcp-go 5.6.1 and our programs
# import (naming the Debian package of a missing one), writes OUTDIR/overlay.json and sets
# $out to OUTDIR made absolute. TAG starts every message. Exits 1 on a missing piece.
go_env() {
	go_tag=$2
	mkdir -p "$1"
	out=$(cd "$1" && pwd)
	go_src=/usr/share/gocode/src
	command -v go >/dev/null 2>&1 || {
		echo "$go_tag: no go compiler; install the Debian package golang-go" >&2
		exit 1
	}
	while read -r dir pkg; do
		if [ ! -d "$go_src/$dir" ]; then
			echo "$go_tag: $go_src/$dir is missing; install the Debian package $pkg" >&2
			exit 1
		fi
	done <<GOPKGS
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
GOPKGS
	go_interop=$3
	printf '{"Replace":{"%s/zz_kcpgo_peer_shim.go":"%s/kcpgo-peer/shim/zz_kcpgo_peer_shim.go"}}\n' \
		"$go_src/github.com/xtaci/kcp-go" "$go_interop" >"$out/overlay.json"
	mkdir -p "$out/gopath" "$out/gocache"
}

# gorun ARGS...: `go ARGS` offline in that environment, the overlay given by the caller; on
# failure shows the log and exits 1.
gorun() {
	GO111MODULE=off GOPATH="$out/gopath:/usr/share/gocode" GOCACHE="$out/gocache" GOFLAGS="" \
		GOPROXY=off CGO_ENABLED=0 go "$@" >"$out/build.log" 2>&1 && return 0
	cat "$out/build.log" >&2
	echo "$go_tag: go $1 failed (log above, also in $out/build.log)" >&2
	exit 1
}
