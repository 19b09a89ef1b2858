#!/bin/sh
# Installs the Debian 12 packages that kcpvpnd needs to build and to run every test.
# Idempotent: it asks apt only for what is missing. Run as root.
set -eu

PKGS="build-essential autoconf automake pkg-config
libevent-dev libwolfssl-dev libssl-dev libisal-dev libnl-3-dev libnl-route-3-dev
check libsubunit-dev libjansson-dev libinih-dev libsodium-dev libsystemd-dev libcap-ng-dev
clang libclang-rt-14-dev
golang-go golang-github-xtaci-kcp-dev golang-github-stretchr-testify-dev
iproute2 nftables iperf3 iputils-ping mandoc procps psmisc jq socat bc
debhelper devscripts fakeroot lintian rpm systemd bash-completion"

missing=
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing; run this script as root" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
