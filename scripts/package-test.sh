#!/bin/bash
# The packaging test: "make distcheck", then the Debian package built from its tarball
# (dpkg-buildpackage), linted (lintian: no errors), installed, used (kcpvpnd --version and -n on
# the shipped examples, kcpctl --help, man -w, the kcpvpn account, bash completion,
# systemd-analyze verify, and the unit run by a private systemd: packaging/test-unit.sh), purged
# and checked gone; last the RPM (rpmbuild -tb on the same tarball). Root on Debian 12; it
# installs and purges the package kcpvpnd on this machine, so it refuses to run when kcpvpnd is
# already installed. The last line reads "N passed, M failed"; the exit status is non-zero on a
# failure. Under CI=true a check that cannot run (a missing tool) is a failure.
#
#   scripts/package-test.sh [BUILD_DIR]     (default _build/package; logs are kept there)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build/package}
# absolute: apt-get takes a relative path without ./ for a package name
case $build in /*) ;; *) build=$PWD/$build ;; esac
passed=0
failed=0
failures=()
apt_lock=(-o DPkg::Lock::Timeout=300)

note() { printf '=== %s\n' "$*"; }
pass() {
	echo "ok: $*"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
	failures+=("$*")
}
# check DESCRIPTION COMMAND...: one check, its output shown only when it fails
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$what"
	else
		fail "$what"
		[ -n "$out" ] && tail -20 <<<"$out"
	fi
}
summary() {
	note "summary"
	for f in "${failures[@]}"; do echo "FAILED: $f"; done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
# cannot WHAT: a prerequisite is missing; fatal for the run
cannot() {
	fail "$*"
	summary
}

# --- prerequisites
[ "$(id -u)" -eq 0 ] || cannot "package-test needs root (it installs and purges kcpvpnd)"
for t in dpkg-buildpackage dh lintian rpmbuild systemd-analyze apt-get man fakeroot; do
	command -v "$t" >/dev/null || cannot "no $t: run scripts/install-deps.sh"
done
if dpkg-query -W -f='${Status}' kcpvpnd 2>/dev/null | grep -q 'installed'; then
	cannot "the package kcpvpnd is installed already; this test would replace and purge it"
fi

cd "$top" || exit 2
rm -rf "$build" && mkdir -p "$build" || cannot "cannot make $build"
start_s=$SECONDS
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi >"$build/autoreconf.log" 2>&1 ||
		cannot "autoreconf (see $build/autoreconf.log)"
fi
(cd "$build" && "$top/configure" >configure.log 2>&1) ||
	cannot "configure (see $build/configure.log)"
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$build/Makefile")
tarball=$build/kcpvpnd-$version.tar.gz

# --- the package files agree with configure.ac on the version
note "versions"
deb_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
rpm_version=$(sed -n 's/^Version: *//p' packaging/rpm/kcpvpnd.spec)
if [ "${deb_version%-*}" = "$version" ] && [ "$rpm_version" = "$version" ]; then
	pass "debian/changelog ($deb_version) and kcpvpnd.spec ($rpm_version) carry $version"
else
	fail "versions: configure.ac $version, debian/changelog $deb_version, spec $rpm_version"
fi

# --- make distcheck: dist, build and make check from the tarball, install, uninstall
note "make distcheck"
t0=$SECONDS
if make -C "$build" -j"$(nproc)" distcheck >"$build/distcheck.log" 2>&1 && [ -f "$tarball" ]; then
	pass "make distcheck ($((SECONDS - t0)) s)"
else
	fail "make distcheck (see $build/distcheck.log)"
	grep -E '^(FAIL|ERROR):|Error [0-9]|ERROR: files left' "$build/distcheck.log" | head -20
	# the rest needs a tarball
	make -C "$build" dist >"$build/dist.log" 2>&1 || cannot "make dist (see $build/dist.log)"
fi

# --- the Debian package, from the tarball with packaging/debian as debian/
note "dpkg-buildpackage"
debsrc=$build/deb/kcpvpnd-$version
mkdir -p "$build/deb"
tar -C "$build/deb" -xzf "$tarball" && cp -a "$debsrc/packaging/debian" "$debsrc/debian" &&
	ln -sf "$tarball" "$build/deb/kcpvpnd_$version.orig.tar.gz" || cannot "unpacking $tarball"
t0=$SECONDS
# make distcheck ran the test suite on this tarball already
if (cd "$debsrc" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b) \
	>"$build/deb/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b ($((SECONDS - t0)) s)"
else
	fail "dpkg-buildpackage (see $build/deb/build.log)"
	tail -30 "$build/deb/build.log"
	summary
fi
deb=$(ls "$build"/deb/kcpvpnd_"$deb_version"_*.deb)
changes=$(ls "$build"/deb/kcpvpnd_"$deb_version"_*.changes)
check "the .deb holds the programs, man pages, unit, sysusers entry, completion, examples" \
	bash -c "list=\$(dpkg-deb -c '$deb'); for f in ./usr/sbin/kcpvpnd ./usr/bin/kcpctl \
		./usr/share/man/man8/kcpvpnd.8.gz ./usr/share/man/man8/kcpctl.8.gz \
		./usr/share/man/man5/kcpvpnd.conf.5.gz ./lib/systemd/system/kcpvpnd@.service \
		./usr/lib/sysusers.d/kcpvpnd.conf ./usr/share/bash-completion/completions/kcpctl \
		./usr/share/doc/kcpvpnd/examples/kcp0-server.conf ./etc/kcpvpnd/; do
		grep -q \" \$f\$\" <<<\"\$list\" || { echo \"missing \$f\"; exit 1; }; done"

# --- lintian: no errors; the rest is listed
note "lintian"
lintian --info --display-info --fail-on error "$changes" >"$build/deb/lintian.log" 2>&1
rc=$?
grep -E '^[EWIP]: ' "$build/deb/lintian.log" | cut -d: -f1,3 | sort | uniq -c | sort -rn
if [ $rc -eq 0 ]; then
	pass "lintian: no errors ($(grep -c '^W: ' "$build/deb/lintian.log") warnings)"
else
	fail "lintian (see $build/deb/lintian.log)"
	grep '^E: ' "$build/deb/lintian.log"
fi

# --- install, then use what was installed
note "install"
if apt-get install -y -q "${apt_lock[@]}" --no-install-recommends "$deb" \
	>"$build/deb/install.log" 2>&1; then
	pass "apt-get install ./$(basename "$deb")"
else
	fail "installing the .deb (see $build/deb/install.log)"
	tail -20 "$build/deb/install.log"
	summary
fi
dpkg -L kcpvpnd | sort >"$build/deb/files.txt"

check "kcpvpnd --version prints kcpvpnd $version" \
	bash -c "[ \"\$(/usr/sbin/kcpvpnd --version)\" = 'kcpvpnd $version' ]"
check "kcpctl --help" bash -c "/usr/bin/kcpctl --help | grep -q '^usage: kcpctl'"
for page in kcpvpnd kcpctl "5 kcpvpnd.conf"; do
	# shellcheck disable=SC2086
	check "man -w $page finds the installed page" \
		bash -c "man -w $page | grep -q '^/usr/share/man/man[58]/'"
done
check "the kcpvpn system account exists, without a login shell" \
	bash -c "ent=\$(getent passwd kcpvpn) && [ \"\$(cut -d: -f3 <<<\"\$ent\")\" -lt 1000 ] &&
		[[ \$(cut -d: -f7 <<<\"\$ent\") == */nologin ]]"
check "/etc/kcpvpnd exists" test -d /etc/kcpvpnd

# The shipped examples: the compat one has its passphrase inline; the secure ones name a
# PrivateKeyFile, which the test makes with the packaged kcpctl beside a copy of each (after a
# negative control without it).
ex=/usr/share/doc/kcpvpnd/examples
check "kcpvpnd -n on the shipped kcp0-compat.conf" \
	bash -c "/usr/sbin/kcpvpnd -n -c $ex/kcp0-compat.conf | grep -qx 'configuration OK'"
work=$(mktemp -d "${TMPDIR:-/tmp}/kcp-pkg.$$.XXXX")
for name in kcp0-server kcp0-client; do
	sed "s|^PrivateKeyFile = .*|PrivateKeyFile = kcp0.key|" "$ex/$name.conf" >"$work/$name.conf"
done
if /usr/sbin/kcpvpnd -n -c "$work/kcp0-server.conf" >"$work/nokey.out" 2>&1; then
	fail "kcpvpnd -n accepted the server example without its key file"
else
	(umask 077 && /usr/bin/kcpctl genkey >"$work/kcp0.key")
	for name in kcp0-server kcp0-client; do
		check "kcpvpnd -n on the shipped $name.conf with a key from kcpctl genkey" \
			bash -c "/usr/sbin/kcpvpnd -n -c '$work/$name.conf' | grep -qx 'configuration OK'"
	done
fi
rm -rf "$work"

check "bash completion: kcpctl st<TAB> completes status, tune <TAB> offers fec=" bash -c '
	. /usr/share/bash-completion/bash_completion
	_completion_loader kcpctl
	COMP_WORDS=(kcpctl st); COMP_CWORD=1; COMP_LINE="kcpctl st"; COMP_POINT=${#COMP_LINE}
	_kcpctl kcpctl st kcpctl
	[ "${COMPREPLY[*]}" = status ] || { echo "got: ${COMPREPLY[*]}"; exit 1; }
	COMP_WORDS=(kcpctl tune lab f); COMP_CWORD=3; COMP_LINE="kcpctl tune lab f"
	COMP_POINT=${#COMP_LINE}
	_kcpctl kcpctl f lab
	[ "${COMPREPLY[*]}" = fec= ] || { echo "got: ${COMPREPLY[*]}"; exit 1; }'

unit=/lib/systemd/system/kcpvpnd@.service
check "systemd-analyze verify $unit: no output" \
	bash -c "out=\$(systemd-analyze verify '$unit' 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"

note "the unit under a private systemd (packaging/test-unit.sh)"
bash "$top/packaging/test-unit.sh" >"$build/deb/test-unit.log" 2>&1
rc=$?
grep -E '^(ok|FAIL|SKIP)' "$build/deb/test-unit.log"
if [ $rc -eq 0 ]; then
	pass "the installed kcpvpnd@.service starts, reloads and stops under systemd"
elif [ $rc -eq 77 ] && [ "${CI:-}" != true ]; then
	echo "note: the live unit test skipped (under CI=true that fails)"
else
	fail "the installed kcpvpnd@.service under systemd (see $build/deb/test-unit.log)"
fi

# --- purge: everything the package installed is gone, the account too
note "purge"
if apt-get purge -y -q "${apt_lock[@]}" kcpvpnd >"$build/deb/purge.log" 2>&1; then
	pass "apt-get purge kcpvpnd"
else
	fail "apt-get purge kcpvpnd (see $build/deb/purge.log)"
fi
left=
while read -r f; do
	# directories the package shares with others stay; its own files and /etc/kcpvpnd go
	if [ -e "$f" ] && { [ ! -d "$f" ] || [[ $f == */kcpvpnd || $f == */kcpvpnd/* ]]; }; then
		left="$left $f"
	fi
done <"$build/deb/files.txt"
check "after the purge nothing of the package is left" \
	bash -c "[ -z '$left' ] || { echo 'left:$left'; exit 1; }"
check "after the purge dpkg knows no kcpvpnd" \
	bash -c "! dpkg-query -W -f='\${Status}' kcpvpnd 2>/dev/null | grep -q installed"
check "after the purge the kcpvpn account is gone" \
	bash -c "! getent passwd kcpvpn && ! getent group kcpvpn"

# --- the RPM, from the same tarball (the spec travels in it)
note "rpmbuild -tb"
t0=$SECONDS
mkdir -p "$build/rpm"
if rpmbuild -tb --nodeps --without check --define "_topdir $build/rpm" \
	--define 'debug_package %{nil}' "$tarball" >"$build/rpm/build.log" 2>&1; then
	pass "rpmbuild -tb ($((SECONDS - t0)) s)"
	rpm=$(ls "$build"/rpm/RPMS/*/kcpvpnd-"$version"-*.rpm)
	check "the RPM holds the programs, man pages, unit, sysusers entry, completion, examples" \
		bash -c "list=\$(rpm -qlp '$rpm'); for f in /usr/sbin/kcpvpnd /usr/bin/kcpctl \
			/usr/share/man/man8/kcpvpnd.8 /usr/share/man/man5/kcpvpnd.conf.5 \
			/usr/lib/systemd/system/kcpvpnd@.service /usr/lib/sysusers.d/kcpvpnd.conf \
			/usr/share/bash-completion/completions/kcpctl \
			/usr/share/doc/kcpvpnd/examples/kcp0-server.conf /etc/kcpvpnd; do
			grep -qx \"\$f\" <<<\"\$list\" || { echo \"missing \$f\"; exit 1; }; done"
	check "the RPM requires the libraries it links (libevent, libsystemd, libcrypto)" \
		bash -c "req=\$(rpm -qpR '$rpm')
			for l in libevent-2.1.so.7 libsystemd.so.0 libcrypto.so.3; do
			grep -q \"^\$l\" <<<\"\$req\" || { echo \"no \$l\"; exit 1; }; done"
else
	fail "rpmbuild -tb (see $build/rpm/build.log)"
	tail -30 "$build/rpm/build.log"
fi

echo "package-test: $((SECONDS - start_s)) s"
summary
