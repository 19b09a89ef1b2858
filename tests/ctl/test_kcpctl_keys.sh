#!/bin/sh
# kcpctl genkey, pubkey and genpsk (no daemon involved): the format (44 base64 characters and a
# newline), genkey | pubkey, RFC 7748's example key, agreement with wg(8) both ways when it is
# installed, the umask warning, and exit 2 with a clear message for anything that is not a key.
set -u

ctl=${CTL_DIR:-ctl}/kcpctl
umask 077 # the keys this writes are secrets; one check loosens it
work=$(mktemp -d "${TMPDIR:-/tmp}/kcpctl-keys.$$.XXXXXX") || exit 99
checks=0
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*"
	for f in "$work"/out "$work"/err; do
		[ -f "$f" ] && { echo "--- $f"; tail -5 "$f"; }
	done
	exit 1
}
ok() {
	checks=$((checks + 1))
	echo "ok $checks - $*"
}

# run WANT_RC [--in FILE] ARGS...: kcpctl with stdout in $work/out, stderr in $work/err.
run() {
	want=$1
	shift
	in=/dev/null
	if [ "$1" = --in ]; then
		in=$2
		shift 2
	fi
	"$ctl" "$@" <"$in" >"$work/out" 2>"$work/err"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "kcpctl $* exited $rc, expected $want"
}
is_key() { grep -qx '[A-Za-z0-9+/]\{42\}[AEIMQUYcgkosw048]=' "$1"; }
lines() { wc -l <"$1" | tr -d ' '; }

run 0 genkey
is_key "$work/out" || fail "genkey printed no key"
[ "$(lines "$work/out")" = 1 ] || fail "genkey printed more than one line"
[ ! -s "$work/err" ] || fail "genkey wrote to stderr"
cp "$work/out" "$work/priv1"
run 0 genkey
cmp -s "$work/out" "$work/priv1" && fail "two genkeys gave the same key"
ok "genkey prints one new 44-character key"

run 0 --in "$work/priv1" pubkey
is_key "$work/out" || fail "pubkey printed no key"
[ "$(lines "$work/out")" = 1 ] || fail "pubkey printed more than one line"
cmp -s "$work/out" "$work/priv1" && fail "the public key is the private one"
cp "$work/out" "$work/pub1"
"$ctl" genkey | "$ctl" pubkey >"$work/out" 2>"$work/err" || fail "genkey | pubkey failed"
is_key "$work/out" || fail "genkey | pubkey printed no key"
ok "genkey | pubkey gives a public key"

# RFC 7748 section 6.1: Alice's private key and its public key, in base64; CRLF is whitespace
printf 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\r\n' >"$work/alice"
run 0 --in "$work/alice" pubkey
[ "$(cat "$work/out")" = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=" ] ||
	fail "pubkey of RFC 7748's Alice: $(cat "$work/out")"
ok "pubkey of RFC 7748's example key is the RFC's public key"

if command -v wg >/dev/null 2>&1; then
	wg pubkey <"$work/priv1" >"$work/wgpub" || fail "wg pubkey failed"
	cmp -s "$work/wgpub" "$work/pub1" || fail "wg pubkey and kcpctl pubkey disagree"
	wg genkey >"$work/wgpriv" || fail "wg genkey failed"
	run 0 --in "$work/wgpriv" pubkey
	wg pubkey <"$work/wgpriv" | cmp -s - "$work/out" || fail "kcpctl pubkey of a wg key differs"
	ok "wg and kcpctl agree on public keys both ways"
else
	echo "# wg(8) not installed: no cross-check with it"
fi

run 0 genpsk
is_key "$work/out" || fail "genpsk printed no key"
cp "$work/out" "$work/psk1"
run 0 genpsk
cmp -s "$work/out" "$work/psk1" && fail "two genpsks gave the same key"
ok "genpsk prints a new 44-character key"

# a secret going to a file others can read gets a warning; with umask 077 none
(umask 022 && "$ctl" genkey >"$work/loose.key" 2>"$work/err") || fail "genkey to a file failed"
grep -q "umask 077" "$work/err" || fail "no warning for a world-readable key file"
is_key "$work/loose.key" || fail "the key file holds no key"
(umask 077 && "$ctl" genpsk >"$work/tight.key" 2>"$work/err") || fail "genpsk to a file failed"
[ ! -s "$work/err" ] || fail "a warning for a private file: $(cat "$work/err")"
ok "a key written to a world-readable file is warned about"

# not keys: exit 2, a message saying what was expected, never the input itself
printf 'not a key at all' >"$work/garbage"
printf 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo' >"$work/short"
printf 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=' >"$work/noncanon"
for f in garbage short noncanon; do
	run 2 --in "$work/$f" pubkey
	grep -q "not a private key" "$work/err" || fail "pubkey <$f: no clear message"
	grep -q "dwdtCnMY\|not a key at" "$work/err" && fail "pubkey <$f: the input was echoed"
	[ ! -s "$work/out" ] || fail "pubkey <$f printed something"
done
run 2 pubkey
grep -q "nothing on stdin" "$work/err" || fail "pubkey with empty stdin: no clear message"
head -c 4096 /dev/zero | tr '\0' A >"$work/long"
run 2 --in "$work/long" pubkey
grep -q "more than a key" "$work/err" || fail "pubkey of 4096 bytes: no clear message"
run 2 genkey extra
run 2 pubkey extra
run 2 genpsk --json
ok "input that is not a key, and extra arguments, exit 2 with a message"

echo "ok - $checks checks"
