#!/bin/bash
# The main job, until the daemon lands: installs what is missing, builds an optimised tree and
# shows the protocol core at work: the classic KCP latency test per profile, then one live
# session between our C peer and the real kcp-go 5.6.1 over UDP on 127.0.0.1 with 10% loss
# and FEC 10/3, every message checked byte for byte. Run as root on Debian 12.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/install-deps.sh
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p _build/release
if [ ! -f _build/release/Makefile ]; then
	(cd _build/release && ../../configure CFLAGS="-O2 -g" >/dev/null)
fi
make -C _build/release -j"$(nproc)" bench/bench_kcp tests/interop/kcppeer >/dev/null

echo "== KCP latency over the link simulator (RTT 60-125 ms, 10% loss per round trip)"
_build/release/bench/bench_kcp | grep -E '^(#|profile=)'

echo
echo "== a live session: kcppeer (C, libkcpcore) vs kcpgo-peer (Go, kcp-go 5.6.1)"
echo "   aes, FEC 10/3, 10% loss at the server, 500 messages echoed and checked"
INTEROP_BUILD=_build/interop INTEROP_CRYPTS=aes INTEROP_FECS=10/3 INTEROP_N=500 \
	INTEROP_NEGATIVE=0 tests/interop/run-interop.sh _build/release/tests/interop/kcppeer
