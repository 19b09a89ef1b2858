#!/bin/sh
# Builds kcpgo-tun against Debian's kcp-go 5.6.1, offline, as ../build-kcpgo-peer.sh builds
# kcpgo-peer (see ../go-env.sh), with the same read-only shim (the session's MSS).
# Usage: build.sh OUTDIR   -> prints the path of OUTDIR/kcpgo-tun
# Exit 1 names the Debian package that is missing, or shows the compiler's output.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../go-env.sh"
go_env "$1" kcpgo-tun/build.sh "$here/.."
cd "$here"
gorun build -overlay "$out/overlay.json" -o "$out/kcpgo-tun.tmp" main.go
mv -f "$out/kcpgo-tun.tmp" "$out/kcpgo-tun"
echo "$out/kcpgo-tun"
