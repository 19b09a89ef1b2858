#!/bin/sh
# Builds kcpgo-tun against Debian's kcp-go 5.6.1, offline, as ../build-kcpgo-peer.sh builds
# kcpgo-peer: GOPATH mode (GO111MODULE=off) over /usr/share/gocode, no network, and the same
# read-only shim (../kcpgo-peer/shim: the session's MSS) added to kcp-go with -overlay, so
# nothing under /usr is written. The Go cache lives in OUTDIR/gocache.
# Usage: build.sh OUTDIR   -> prints the path of OUTDIR/kcpgo-tun
# Exit 1 names the Debian package that is missing, or shows the compiler's output.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
gocode=/usr/share/gocode/src
shim=$here/../kcpgo-peer/shim/zz_kcpgo_peer_shim.go

command -v go >/dev/null 2>&1 || {
	echo "kcpgo-tun/build.sh: no go compiler; install the Debian package golang-go" >&2
	exit 1
}
while read -r dir pkg; do
	if [ ! -d "$gocode/$dir" ]; then
		echo "kcpgo-tun/build.sh: $gocode/$dir is missing;" \
			"install the Debian package $pkg" >&2
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

printf '{"Replace":{"%s/zz_kcpgo_peer_shim.go":"%s"}}\n' "$gocode/github.com/xtaci/kcp-go" \
	"$shim" >"$out/overlay.json"
mkdir -p "$out/gopath" "$out/gocache"
cd "$here"
if ! GO111MODULE=off GOPATH="$out/gopath:/usr/share/gocode" GOCACHE="$out/gocache" GOFLAGS="" \
	GOPROXY=off CGO_ENABLED=0 go build -overlay "$out/overlay.json" -o "$out/kcpgo-tun.tmp" \
	main.go >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	echo "kcpgo-tun/build.sh: go build failed (log above, also in $out/build.log)" >&2
	exit 1
fi
mv -f "$out/kcpgo-tun.tmp" "$out/kcpgo-tun"
echo "$out/kcpgo-tun"
