#!/bin/bash
# The test command: installs what is missing, builds with ASan+UBSan and -Werror against
# both crypto backends, and runs every test (unit and simulator suites, libFuzzer runs,
# interop with the real kcp-go, end-to-end). Run as root on Debian 12. Under CI=true a
# skipped test counts as a failure. The last line reads "N passed, M failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${FUZZ_SECONDS:-20}
passed=0
failed=0
failures=()

note() { printf '=== %s\n' "$*"; }

# count NAME RC: records one check's result.
count() {
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$1")
	fi
}

# automake_summary DIR: adds the automake test-suite counts of DIR, prints Check's lines.
automake_summary() {
	local log=$1/test-suite.log n
	[ -f "$log" ] || { count "$1: no test-suite.log" 1; return; }
	grep -h -E '^[0-9]+%: Checks:' "$1"/tests/*/*.log 2>/dev/null | sort | uniq -c || true
	n=$(sed -n 's/^# PASS: *//p' "$log"); passed=$((passed + ${n:-0}))
	for kind in FAIL ERROR XPASS; do
		n=$(sed -n "s/^# $kind: *//p" "$log")
		if [ "${n:-0}" -gt 0 ]; then
			failed=$((failed + n))
			failures+=("$1: $n $kind")
		fi
	done
	n=$(sed -n 's/^# SKIP: *//p' "$log")
	if [ "${n:-0}" -gt 0 ]; then
		if [ "${CI:-}" = true ]; then
			failed=$((failed + n))
			failures+=("$1: $n skipped under CI")
		else
			echo "note: $n tests skipped (they need root or a tool); under CI=true that fails"
		fi
	fi
}

# build_and_check BACKEND: a fresh sanitizer build against BACKEND, then make check.
build_and_check() {
	local dir=_build/test-$1
	note "build and unit tests, crypto backend $1"
	rm -rf "$dir" && mkdir -p "$dir"
	if ! (cd "$dir" && ../../configure --enable-sanitizers --enable-werror \
		--with-crypto="$1" >configure.out 2>&1); then
		tail -20 "$dir/configure.out"
		count "configure ($1)" 1
		return 1
	fi
	if ! make -C "$dir" -j"$jobs" >"$dir/make.out" 2>&1; then
		grep -E 'error|Error' "$dir/make.out" | head -40
		count "build ($1)" 1
		return 1
	fi
	count "build ($1)" 0
	make -C "$dir" -j"$jobs" check >"$dir/check.out" 2>&1
	automake_summary "$dir"
	grep -E '^(FAIL|ERROR|XPASS):' "$dir/check.out" || true
	for f in "$dir"/tests/*/*.log; do
		grep -q -E '^(FAIL|ERROR)' "${f%.log}.trs" 2>/dev/null && { echo "--- $f"; tail -40 "$f"; }
	done
	return 0
}

note "dependencies"
if ! "$top/scripts/install-deps.sh"; then
	echo "test: installing dependencies failed"
	echo "0 passed, 1 failed"
	exit 1
fi
note "autoreconf"
if ! autoreconf -fi >/dev/null 2>&1; then
	autoreconf -fi
	echo "0 passed, 1 failed"
	exit 1
fi

build_and_check wolfssl
build_and_check openssl

if [ -f _build/test-wolfssl/Makefile ]; then
	note "libFuzzer targets, ${fuzz_seconds}s each"
	make -C _build/test-wolfssl fuzz-run FUZZ_SECONDS="$fuzz_seconds" >_build/fuzz.out 2>&1
	rc=$?
	grep -E '^(fuzz|FUZZ)' _build/fuzz.out || true
	[ $rc -eq 0 ] || tail -40 _build/fuzz.out
	count "fuzzers" $rc
fi

# interop: our C peer against the real kcp-go 5.6.1 (built offline from Debian's packages),
# the whole crypt x FEC matrix with the wolfSSL build, a subset with the OpenSSL build.
if [ -x _build/test-wolfssl/tests/interop/kcppeer ]; then
	note "interop with kcp-go: the kcp-go peer against itself"
	tests/interop/run-gogo.sh _build/interop 2>&1 | tail -3
	count "interop kcp-go self-check" "${PIPESTATUS[0]}"
	note "interop with kcp-go: C (wolfSSL) vs Go, both directions"
	INTEROP_BUILD=_build/interop tests/interop/run-interop.sh \
		_build/test-wolfssl/tests/interop/kcppeer >_build/interop-wolfssl.out 2>&1
	rc=$?
	grep -E '^(PASS|FAIL)|passed' _build/interop-wolfssl.out
	count "interop wolfssl" $rc
fi
if [ -x _build/test-openssl/tests/interop/kcppeer ]; then
	note "interop with kcp-go: C (OpenSSL) vs Go, both directions"
	INTEROP_BUILD=_build/interop INTEROP_CRYPTS="aes aes-128" INTEROP_FECS="0/0 10/3" \
		INTEROP_NEGATIVE=0 tests/interop/run-interop.sh \
		_build/test-openssl/tests/interop/kcppeer >_build/interop-openssl.out 2>&1
	rc=$?
	grep -E '^(PASS|FAIL)|passed' _build/interop-openssl.out
	count "interop openssl" $rc
fi

# packaging: make distcheck, then the .deb built, linted, installed, run under a private
# systemd and purged, and the RPM built (scripts/package-test.sh, about 2 minutes)
note "packaging"
scripts/package-test.sh _build/package >_build/package-test.out 2>&1
rc=$?
grep -E '^(FAIL|SKIP|note)|passed, ' _build/package-test.out
count "packaging" $rc

note "summary"
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
