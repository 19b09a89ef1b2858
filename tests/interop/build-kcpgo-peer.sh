#!/bin/sh
# Builds tests/interop/kcpgo-peer against Debian's kcp-go 5.6.1, offline (see go-env.sh).
# Usage: build-kcpgo-peer.sh OUTDIR   -> prints the path of OUTDIR/kcpgo-peer
# The message format's unit tests (kcpgo-peer/main_test.go) run first. Exit 1 names the Debian
# package that is missing, or shows the compiler's or the tests' output.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/go-env.sh"
go_env "$1" build-kcpgo-peer "$here"
cd "$here/kcpgo-peer"
# The message format's own tests first (vet cannot follow the overlay, so it is off).
gorun test -vet=off -overlay "$out/overlay.json" main.go main_test.go
gorun build -overlay "$out/overlay.json" -o "$out/kcpgo-peer" main.go
echo "$out/kcpgo-peer"
