#!/bin/sh
# The kcp-go peer against itself on 127.0.0.1: crypt {none, aes, aes-128, null} x FEC {off,
# 10/3, 3/2}, 300 messages each, 10% loss at the server, plus two cases that must fail. It proves
# the peer, the message format and the runner before a C peer takes one side (run-interop.sh).
# Usage: run-gogo.sh [BUILDDIR]   (default <top>/_build/interop; the Go cache goes there too)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$(cd "$here/../.." && pwd)/_build/interop}
peer=$("$here/build-kcpgo-peer.sh" "$build")
exec "$here/run-interop.sh" "$peer" "$peer"
