/* kcpvpnd.conf(5): the examples parse; every key's good and bad values (table driven) with
 * the exact message; whole-file checks (AllowedIPs overlap, Profile = manual, MTU, Endpoint
 * with ListenPort = none, Key/KeyFile); inheritance; config_print() round trips; KeyFile
 * permissions through config_load(); and the man page documents every key. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"
#include "kcpcore/keys.h"
#include "kcpcore/secure.h"
#include "kcpcore/session.h"

#define FILE_NAME "/etc/kcpvpnd/kcp0.conf"
/* Keys in base64: Alice's and Bob's pairs are RFC 7748's (section 6.1) X25519 examples. */
#define ALICE_PRIV "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define ALICE_PUB  "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define BOB_PRIV   "XasIfmJKikt54X+Lg4AO5m87sSkmGLb9HC+LJ/+I4Os="
#define BOB_PUB	   "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="
#define CAROL_PUB  "Pqjxe70jG2cBysP4mcKObjQtJoK5teMb49N95SwIn6Y="
#define PSK	   "rsKYPTo3Sd1XTkyHqYCAQvvuP37fk/WM91Pjm6wLwq4="
/* Four lines of a compat [Interface] that need nothing else: a key, and a port so peers may
 * lack an Endpoint. */
#define HEAD "[Interface]\nMode = compat\nKey = k\nListenPort = 4000\n"
/* Three lines of a secure [Interface] (the default mode): Alice's key, and a port. */
#define SECURE_HEAD "[Interface]\nPrivateKey = " ALICE_PRIV "\nListenPort = 4000\n"

/* ---- helpers ---- */

static int parse(const char *text, struct config **c, char **errs)
{
	return config_parse(FILE_NAME, text, strlen(text), c, errs);
}

static struct config *parse_ok(const char *text)
{
	struct config *c = NULL;
	char *errs = NULL;
	int rc = parse(text, &c, &errs);

	ck_assert_msg(rc == 0, "config refused (%d):\n%s\n--- config:\n%s", rc,
		      errs ? errs : "(none)", text);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(errs);
	return c;
}

/* The messages for a config of len bytes that must be refused (caller frees). */
static char *parse_err(const char *text, size_t len)
{
	struct config *c = NULL;
	char *errs = NULL;
	int rc = config_parse(FILE_NAME, text, len, &c, &errs);

	ck_assert_msg(rc == -EINVAL, "expected -EINVAL, got %d for:\n%s", rc, text);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(errs);
	return errs;
}

/* The config (len bytes) must be refused with exactly the messages `lines` ("LINE: Key:
 * message\n" each, FILE_NAME and ':' left out). */
static void expect_errors_n(const char *text, size_t len, const char *lines)
{
	char *errs = parse_err(text, len), *want = malloc(strlen(lines) * 2 + 64);
	size_t o = 0;

	ck_assert_ptr_nonnull(want);
	for (const char *l = lines; *l != '\0';) {
		const char *nl = strchr(l, '\n');
		size_t n = nl != NULL ? (size_t)(nl - l) + 1 : strlen(l);

		o += (size_t)sprintf(want + o, "%s:%.*s", FILE_NAME, (int)n, l);
		l += n;
	}
	ck_assert_msg(strcmp(errs, want) == 0, "messages differ\n--- got:\n%s--- want:\n%s", errs,
		      want);
	free(want);
	free(errs);
}

static void expect_errors(const char *text, const char *lines)
{
	expect_errors_n(text, strlen(text), lines);
}

static char *print_config(const struct config *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	ck_assert_ptr_nonnull(f);
	config_print(c, f);
	ck_assert_int_eq(fclose(f), 0);
	return s;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	s = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static const char *top(void)
{
	const char *t = getenv("KC_TOP");

	return t != NULL ? t : "../..";
}

static char *read_top(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", top(), rel);
	return read_text(path);
}

static bool prefix_eq(const struct config_prefix *a, const struct config_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr && memcmp(a->addr, b->addr, 16) == 0;
}

static bool str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool kcp_eq(const struct kcp_params *a, const struct kcp_params *b)
{
	return a->nodelay == b->nodelay && a->interval_ms == b->interval_ms &&
	       a->resend == b->resend && a->nc == b->nc && a->snd_wnd == b->snd_wnd &&
	       a->rcv_wnd == b->rcv_wnd;
}

static bool key_eq(bool has_a, const uint8_t *a, bool has_b, const uint8_t *b)
{
	return has_a == has_b && memcmp(a, b, CONFIG_KEY_LEN) == 0;
}

/* Everything equal but the passphrase, which only has to be present in both or neither
 * (config_print() writes it as "(set)"). */
static void assert_config_eq(const struct config *a, const struct config *b)
{
	ck_assert_str_eq(a->ifname, b->ifname);
	ck_assert_int_eq(a->mode, b->mode);
	ck_assert_int_eq(a->listen, b->listen);
	ck_assert_uint_eq(a->listen_port, b->listen_port);
	ck_assert_uint_eq(a->naddrs, b->naddrs);
	for (size_t i = 0; i < a->naddrs; i++)
		ck_assert(prefix_eq(&a->addrs[i], &b->addrs[i]));
	ck_assert_uint_eq(a->mtu, b->mtu);
	ck_assert_uint_eq(a->udp_mtu, b->udp_mtu);
	ck_assert_int_eq(a->crypt, b->crypt);
	ck_assert_int_eq(a->key != NULL, b->key != NULL);
	ck_assert(str_eq(a->key_file, b->key_file));
	ck_assert(key_eq(a->has_private_key, a->private_key, b->has_private_key, b->private_key));
	ck_assert(str_eq(a->private_key_file, b->private_key_file));
	ck_assert_uint_eq(a->aead, b->aead);
	ck_assert_int_eq(a->obfuscate, b->obfuscate);
	ck_assert_uint_eq(a->fec_data, b->fec_data);
	ck_assert_uint_eq(a->fec_parity, b->fec_parity);
	ck_assert_str_eq(a->profile, b->profile);
	ck_assert(kcp_eq(&a->kcp, &b->kcp));
	ck_assert_uint_eq(a->rate_bps, b->rate_bps);
	ck_assert_uint_eq(a->dscp, b->dscp);
	ck_assert_uint_eq(a->socket_buffer_bytes, b->socket_buffer_bytes);
	ck_assert_str_eq(a->control_socket, b->control_socket);
	ck_assert_int_eq(a->log_level, b->log_level);
	ck_assert_uint_eq(a->fwmark, b->fwmark);
	ck_assert_int_eq(a->table, b->table);
	ck_assert_uint_eq(a->table_id, b->table_id);
	ck_assert_int_eq(a->full_tunnel, b->full_tunnel);
	ck_assert(str_eq(a->user, b->user));
	ck_assert(str_eq(a->group, b->group));
	ck_assert_uint_eq(config_tun_mtu(a), config_tun_mtu(b));
	ck_assert_uint_eq(a->npeers, b->npeers);
	for (size_t i = 0; i < a->npeers; i++) {
		const struct config_peer *p = &a->peers[i], *q = &b->peers[i];

		ck_assert_str_eq(p->name, q->name);
		ck_assert(
		    key_eq(p->has_public_key, p->public_key, q->has_public_key, q->public_key));
		ck_assert(key_eq(p->has_psk, p->psk, q->has_psk, q->psk));
		ck_assert(str_eq(p->psk_file, q->psk_file));
		ck_assert(str_eq(p->endpoint, q->endpoint));
		ck_assert_uint_eq(p->nallowed, q->nallowed);
		for (size_t j = 0; j < p->nallowed; j++)
			ck_assert(prefix_eq(&p->allowed[j], &q->allowed[j]));
		ck_assert_uint_eq(p->keepalive_s, q->keepalive_s);
		ck_assert_uint_eq(p->fec_data, q->fec_data);
		ck_assert_uint_eq(p->fec_parity, q->fec_parity);
		ck_assert_str_eq(p->profile, q->profile);
		ck_assert(kcp_eq(&p->kcp, &q->kcp));
		ck_assert_uint_eq(p->rate_bps, q->rate_bps);
	}
}

/* The text with the value of its first "\nName = (set)\n" line replaced by the base64 of key. */
static void put_key_back(char **text, const char *name, const uint8_t *key)
{
	char line[64], b64[45], *at, *s;

	snprintf(line, sizeof(line), "\n%s = (set)\n", name);
	at = strstr(*text, line);
	ck_assert_msg(at != NULL, "no %s = (set) in\n%s", name, *text);
	kc_key_to_base64(key, b64);
	ck_assert_int_ge(asprintf(&s, "%.*s\n%s = %s%s", (int)(at - *text), *text, name, b64,
				  at + strlen(line) - 1),
			 0);
	free(*text);
	*text = s;
}

/* The secret keys a config_print() of c writes as "(set)", put back. */
static char *print_with_keys(const struct config *c)
{
	char *text = print_config(c);

	if (c->has_private_key && c->private_key_file == NULL)
		put_key_back(&text, "PrivateKey", c->private_key);
	for (size_t i = 0; i < c->npeers; i++)
		if (c->peers[i].has_psk && c->peers[i].psk_file == NULL)
			put_key_back(&text, "PresharedKey", c->peers[i].psk);
	return text;
}

/* Parses text, prints it, parses the print (with the secret keys put back): the two configs
 * are equal, and printing the second gives the same text. */
static void assert_round_trip(const char *text)
{
	struct config *a = parse_ok(text), *b;
	char *pa = print_config(a), *pb, *keyed = print_with_keys(a);

	b = parse_ok(keyed);
	free(keyed);
	assert_config_eq(a, b);
	/* with the passphrase put back, every peer's session is the same */
	free(b->key);
	b->key = a->key != NULL ? strdup(a->key) : NULL;
	for (size_t i = 0; i < a->npeers; i++)
		ck_assert(config_peer_same(a, &a->peers[i], b, &b->peers[i]));
	pb = print_config(b);
	ck_assert_str_eq(pa, pb);
	free(pa);
	free(pb);
	config_free(a);
	config_free(b);
}

/* ---- the examples ---- */

START_TEST(config_examples_parse)
{
	char *server = read_top("examples/kcp0-server.conf");
	char *client = read_top("examples/kcp0-client.conf");
	char *compat = read_top("examples/kcp0-compat.conf");
	struct config *s = parse_ok(server), *c = parse_ok(client), *k = parse_ok(compat);

	ck_assert_str_eq(s->ifname, "kcp0");
	ck_assert_int_eq(s->mode, CONFIG_MODE_SECURE);
	ck_assert(s->listen);
	ck_assert_uint_eq(s->listen_port, 4000);
	ck_assert_uint_eq(s->naddrs, 2);
	ck_assert_str_eq(s->private_key_file, "/etc/kcpvpnd/kcp0.key");
	ck_assert_uint_eq(s->npeers, 2);
	ck_assert_str_eq(s->peers[0].name, "office");
	ck_assert(s->peers[0].has_public_key && s->peers[1].has_public_key);
	ck_assert_uint_eq(s->peers[0].nallowed, 3);
	ck_assert_uint_eq(s->peers[0].fec_data, 10);
	ck_assert_uint_eq(s->peers[1].fec_data, 0);
	ck_assert_str_eq(s->peers[1].profile, "fast2");
	ck_assert_uint_eq(s->peers[1].rate_bps, 50000000);
	ck_assert(!s->full_tunnel);

	ck_assert_int_eq(c->mode, CONFIG_MODE_SECURE);
	ck_assert(!c->listen);
	ck_assert_str_eq(c->private_key_file, "/etc/kcpvpnd/kcp0.key");
	ck_assert_uint_eq(c->npeers, 1);
	ck_assert(c->peers[0].has_public_key);
	ck_assert_str_eq(c->peers[0].endpoint, "vpn.example.net:4000");
	ck_assert_uint_eq(c->peers[0].keepalive_s, 10);
	ck_assert_str_eq(c->control_socket, "/run/kcpvpnd/kcp0.sock");

	ck_assert_int_eq(k->mode, CONFIG_MODE_COMPAT);
	ck_assert_str_eq(k->key, "correct horse battery staple");
	config_free(s);
	config_free(c);
	config_free(k);
	assert_round_trip(server);
	assert_round_trip(client);
	assert_round_trip(compat);
	free(server);
	free(client);
	free(compat);
}
END_TEST

/* ---- every key, table driven ---- */

/* Template: line 2 and 3 of [Interface], line 7 of the [Peer]:
 *   1 [Interface]
 *   2 <iface>
 *   3 <iface2, default "Key = secret", in secure mode "PrivateKey = " ALICE_PRIV>
 *   4 Mode = compat or secure, unless <iface> sets Mode
 *   5 [Peer]
 *   6 AllowedIPs = 10.0.0.2/32
 *   7 <peer, default a comment>
 *   8 Endpoint = 192.0.2.1:4000, unless <peer> sets one
 *   9 in secure mode PublicKey = BOB_PUB, unless <peer> sets one */
static char *key_config(bool secure, const char *iface, const char *iface2, const char *peer)
{
	const char *key = secure ? "PrivateKey = " ALICE_PRIV : "Key = secret";
	const char *mode = secure ? "Mode = secure" : "Mode = compat";
	const char *endpoint = "Endpoint = 192.0.2.1:4000", *pub = "PublicKey = " BOB_PUB;
	char *s = NULL;

	if (iface != NULL && strstr(iface, "Mode") != NULL)
		mode = "# -";
	if (peer != NULL && strstr(peer, "Endpoint") != NULL)
		endpoint = "# -";
	if (!secure || (peer != NULL && strstr(peer, "PublicKey") != NULL))
		pub = "# -";
	ck_assert_int_ge(
	    asprintf(&s, "[Interface]\n%s\n%s\n%s\n[Peer]\nAllowedIPs = 10.0.0.2/32\n%s\n%s\n%s\n",
		     iface ? iface : "# -", iface2 ? iface2 : key, mode, peer ? peer : "# -",
		     endpoint, pub),
	    0);
	return s;
}

/* A good value and a line config_print() writes for it. */
/* clang-format off */
struct good_value {
	const char *iface, *iface2, *peer, *printed;
};

static const struct good_value good_values[] = {
	{"Name = wg-home_1", NULL, NULL, "Name = wg-home_1"},
	{"name = kcp0", NULL, NULL, "Name = kcp0"},
	{"Mode = compat", NULL, NULL, "Mode = compat"},
	{"Mode = COMPAT", NULL, NULL, "Mode = compat"},
	{"ListenPort = 4000", NULL, NULL, "ListenPort = 4000"},
	{"ListenPort = 65535", NULL, NULL, "ListenPort = 65535"},
	{"ListenPort = none", NULL, NULL, "ListenPort = none"},
	{"Address = 10.9.0.1/24", NULL, NULL, "Address = 10.9.0.1/24"},
	{"Address = 10.9.0.1", NULL, NULL, "Address = 10.9.0.1/32"},
	{"Address = fd00:9::1/64, 10.9.0.1/24", NULL, NULL, "Address = fd00:9::1/64"},
	{"Address = fd00:9:0::1/64", NULL, NULL, "Address = fd00:9::1/64"},
	{"MTU = auto", NULL, NULL, "MTU = auto # 1348"},
	{"MTU = 1300", NULL, NULL, "MTU = 1300"},
	{"MTU = 576", NULL, NULL, "MTU = 576"},
	{"MTU = 1348", NULL, NULL, "MTU = 1348"},
	{"UDPMTU = 1500", NULL, NULL, "MTU = auto # 1448"},
	{"UDPMTU = 1500", NULL, NULL, "UDPMTU = 1500"},
	{"UDPMTU = 628", NULL, NULL, "MTU = auto # 576"},
	{"Crypt = aes-128", NULL, NULL, "Crypt = aes-128"},
	{"Crypt = AES-192", NULL, NULL, "Crypt = aes-192"},
	{"Crypt = salsa20", NULL, NULL, "Crypt = salsa20"},
	{"Crypt = aes-128-gcm", NULL, NULL, "MTU = auto # 1340"},
	{"Crypt = none", "# no key", NULL, "MTU = auto # 1348"},
	{"Crypt = null", "# no key", NULL, "MTU = auto # 1368"},
	{"Crypt = null", NULL, NULL, "Key = (set)"},
	{"Key = a=b;c#d", "Crypt = aes", NULL, "Key = (set)"},
	{"KeyFile = kcp0.key", "Crypt = aes", NULL, "KeyFile = kcp0.key"},
	{"FEC = 10:3", NULL, NULL, "FEC = 10:3"},
	{"FEC = 1:1", NULL, NULL, "FEC = 1:1"},
	{"FEC = 1:254", NULL, NULL, "FEC = 1:254"},
	{"FEC = 200:55", NULL, NULL, "FEC = 200:55"},
	{"FEC = off", NULL, NULL, "FEC = off"},
	{"FEC = OFF", NULL, NULL, "FEC = off"},
	{"Profile = normal", NULL, NULL, "Profile = normal"},
	{"Profile = fast", NULL, NULL, "Profile = fast"},
	{"Profile = Fast2", NULL, NULL, "Profile = fast2"},
	{"Profile = default", NULL, NULL, "Profile = default"},
	{"Profile = manual\nNoDelay = 1\nInterval = 20\nResend = 2\nNoCongestion = yes", NULL,
	 NULL, "Interval = 20"},
	{"Profile = manual\nNoDelay = 1\nInterval = 20\nResend = 2\nNoCongestion = yes", NULL,
	 NULL, "NoDelay = 1"},
	{"Profile = manual\nNoDelay = 0\nInterval = 5000\nResend = 0\nNoCongestion = no", NULL,
	 NULL, "NoCongestion = no"},
	{"Profile = manual\nNoDelay = 1\nInterval = 10\nResend = 65535\nNoCongestion = true", NULL,
	 NULL, "Resend = 65535"},
	{"SndWnd = 1", NULL, NULL, "SndWnd = 1"},
	{"SndWnd = 32768", NULL, NULL, "SndWnd = 32768"},
	{"RcvWnd = 512", NULL, NULL, "RcvWnd = 512"},
	{"RateLimit = 0", NULL, NULL, "RateLimit = 0"},
	{"RateLimit = 1500000", NULL, NULL, "RateLimit = 1500k"},
	{"RateLimit = 20M", NULL, NULL, "RateLimit = 20M"},
	{"RateLimit = 1G", NULL, NULL, "RateLimit = 1G"},
	{"RateLimit = 999", NULL, NULL, "RateLimit = 999"},
	{"DSCP = 46", NULL, NULL, "DSCP = 46"},
	{"DSCP = 63", NULL, NULL, "DSCP = 63"},
	{"SocketBuffer = 64k", NULL, NULL, "SocketBuffer = 64k"},
	{"SocketBuffer = 65537", NULL, NULL, "SocketBuffer = 65537"},
	{"SocketBuffer = 256M", NULL, NULL, "SocketBuffer = 256M"},
	{"SocketBuffer = 1048576", NULL, NULL, "SocketBuffer = 1M"},
	{"ControlSocket = /tmp/k.sock", NULL, NULL, "ControlSocket = /tmp/k.sock"},
	{"LogLevel = debug", NULL, NULL, "LogLevel = debug"},
	{"LogLevel = Warning", NULL, NULL, "LogLevel = warning"},
	{"LogLevel = error", NULL, NULL, "LogLevel = error"},
	{"FwMark = 51820", NULL, NULL, "FwMark = 0xca6c"},
	{"FwMark = 0x51820", NULL, NULL, "FwMark = 0x51820"},
	{"FwMark = 0", NULL, NULL, "FwMark = 0"},
	{"FwMark = 0xFFFFFFFF", NULL, NULL, "FwMark = 0xffffffff"},
	{"User = kcpvpn", NULL, NULL, "User = kcpvpn"},
	{"User = root", NULL, NULL, "User = root"},
	{"User = _svc.vpn-1", NULL, NULL, "User = _svc.vpn-1"},
	{"Group = kcpvpn", NULL, NULL, "Group = kcpvpn"},
	{"User = nobody\nGroup = nogroup", NULL, NULL, "Group = nogroup"},
	{"Table = auto", NULL, NULL, "Table = auto"},
	{"Table = off", NULL, NULL, "Table = off"},
	{"Table = 1000", NULL, NULL, "Table = 1000"},
	{"Table = 254", NULL, NULL, "Table = 254"},
	{NULL, NULL, "Name = lab.1_a-b", "Name = lab.1_a-b"},
	{NULL, NULL, "Endpoint = 198.51.100.7:4000", "Endpoint = 198.51.100.7:4000"},
	{"ListenPort = 4000", NULL, "Endpoint = [2001:db8::7]:4000", "Endpoint = [2001:db8::7]:4000"},
	{"ListenPort = 4000", NULL, "Endpoint = vpn.example.net:1", "Endpoint = vpn.example.net:1"},
	{"ListenPort = 4000", NULL, "Endpoint = a-1.b:65535", "Endpoint = a-1.b:65535"},
	{NULL, NULL, "AllowedIPs = 192.168.50.0/24", "AllowedIPs = 192.168.50.0/24"},
	{NULL, NULL, "AllowedIPs = fd00:9::/64, 10.1.0.0/16", "AllowedIPs = fd00:9::/64"},
	{NULL, NULL, "AllowedIPs = 10.0.0.3", "AllowedIPs = 10.0.0.3/32"},
	{NULL, NULL, "AllowedIPs = 10.0.0.0/24", "AllowedIPs = 10.0.0.0/24"}, /* nested: same peer */
	{NULL, NULL, "PersistentKeepalive = 0", "PersistentKeepalive = 0"},
	{NULL, NULL, "PersistentKeepalive = 3600", "PersistentKeepalive = 3600"},
	{NULL, NULL, "FEC = 4:2", "FEC = 4:2"},
	{NULL, NULL, "Profile = normal", "Profile = normal"},
	{NULL, NULL, "SndWnd = 64", "SndWnd = 64"},
	{NULL, NULL, "RcvWnd = 64", "RcvWnd = 64"},
	{NULL, NULL, "RateLimit = 10M", "RateLimit = 10M"},
	{NULL, NULL, "Profile = manual\nNoDelay = 1\nInterval = 15\nResend = 1\nNoCongestion = on",
	 "Interval = 15"},
};

/* The same in secure mode (the template's line 3 is Alice's PrivateKey, 9 Bob's PublicKey). */
static const struct good_value secure_good_values[] = {
	{"Mode = secure", NULL, NULL, "Mode = secure"},
	{"Mode = Secure", NULL, NULL, "PublicKey = " BOB_PUB},
	{NULL, NULL, NULL, "PrivateKey = (set)"},
	{"# -", "PrivateKeyFile = kcp0.key", NULL, "PrivateKeyFile = kcp0.key"},
	{"# -", "PrivateKeyFile = /etc/kcpvpnd/private key", NULL,
	 "PrivateKeyFile = /etc/kcpvpnd/private key"},
	{NULL, NULL, NULL, "Cipher = chacha20-poly1305"},
	{"Cipher = aes-256-gcm", NULL, NULL, "Cipher = aes-256-gcm"},
	{"Cipher = ChaCha20-Poly1305", NULL, NULL, "Cipher = chacha20-poly1305"},
	{NULL, NULL, NULL, "Obfuscate = no"},
	{"Obfuscate = yes", NULL, NULL, "Obfuscate = yes"},
	{"Obfuscate = on", NULL, NULL, "Obfuscate = yes"},
	{NULL, NULL, NULL, "MTU = auto # 1336"},
	{"UDPMTU = 1500", NULL, NULL, "MTU = auto # 1436"},
	{"UDPMTU = 640", NULL, NULL, "MTU = auto # 576"},
	{"MTU = 1336", NULL, NULL, "MTU = 1336"},
	{NULL, NULL, "PublicKey = " CAROL_PUB, "PublicKey = " CAROL_PUB},
	{NULL, NULL, "PresharedKey = " PSK, "PresharedKey = (set)"},
	{NULL, NULL, "PresharedKeyFile = lab.psk", "PresharedKeyFile = lab.psk"},
};
/* clang-format on */

static void check_good_value(const struct good_value *g, bool secure)
{
	char *text = key_config(secure, g->iface, g->iface2, g->peer);
	struct config *c = parse_ok(text);
	char *printed = print_config(c), want[256];

	snprintf(want, sizeof(want), "\n%s\n", g->printed);
	ck_assert_msg(strstr(printed, want) != NULL, "\"%s\" not in the print of\n%s---\n%s",
		      g->printed, text, printed);
	config_free(c);
	assert_round_trip(text);
	free(printed);
	free(text);
}

START_TEST(config_key_accepts_good_value)
{
	check_good_value(&good_values[_i], false);
}
END_TEST

START_TEST(config_secure_key_accepts_good_value)
{
	check_good_value(&secure_good_values[_i], true);
}
END_TEST

/* A bad value and the whole message it gets. */
/* clang-format off */
struct bad_value {
	const char *iface, *iface2, *peer, *msg;
};

static const struct bad_value bad_values[] = {
	{"Name = kcp0 x", NULL, NULL,
	 "2: Name: expected an interface name of 1 to 15 characters from A-Z a-z 0-9 _ = + . -, "
	 "got \"kcp0 x\""},
	{"Name = 0123456789abcdef", NULL, NULL,
	 "2: Name: expected an interface name of 1 to 15 characters from A-Z a-z 0-9 _ = + . -, "
	 "got \"0123456789abcdef\""},
	{"Name = ..", NULL, NULL,
	 "2: Name: expected an interface name of 1 to 15 characters from A-Z a-z 0-9 _ = + . -, "
	 "got \"..\""},
	{"Name = a/b", NULL, NULL,
	 "2: Name: expected an interface name of 1 to 15 characters from A-Z a-z 0-9 _ = + . -, "
	 "got \"a/b\""},
	{"Mode = fast", NULL, NULL, "2: Mode: expected secure or compat, got \"fast\""},
	{"ListenPort = 0", NULL, NULL, "2: ListenPort: expected a port 1..65535 or none, got \"0\""},
	{"ListenPort = 65536", NULL, NULL,
	 "2: ListenPort: expected a port 1..65535 or none, got \"65536\""},
	{"ListenPort = -1", NULL, NULL,
	 "2: ListenPort: expected a port 1..65535 or none, got \"-1\""},
	{"ListenPort =", NULL, NULL, "2: ListenPort: expected a port 1..65535 or none, got \"\""},
	{"Address = 10.9.0.1/33", NULL, NULL,
	 "2: Address: expected ADDRESS/PREFIX (IPv4 or IPv6), got \"10.9.0.1/33\""},
	{"Address = 10.9.0.256/24", NULL, NULL,
	 "2: Address: expected ADDRESS/PREFIX (IPv4 or IPv6), got \"10.9.0.256/24\""},
	{"Address = fd00::1/129", NULL, NULL,
	 "2: Address: expected ADDRESS/PREFIX (IPv4 or IPv6), got \"fd00::1/129\""},
	{"Address = 10.9.0.1/24,", NULL, NULL,
	 "2: Address: empty item in the list \"10.9.0.1/24,\""},
	{"Address = 10.9.0.1/24, 10.9.0.1/24", NULL, NULL,
	 "2: Address: \"10.9.0.1/24\" is listed twice (also at line 2)"},
	{"MTU = 575", NULL, NULL, "2: MTU: expected auto or a number 576..65535, got \"575\""},
	{"MTU = big", NULL, NULL, "2: MTU: expected auto or a number 576..65535, got \"big\""},
	{"MTU = 1349", NULL, NULL,
	 "2: MTU: expected at most 1348 (UDPMTU 1400 minus 52 bytes of aes, FEC and KCP headers), "
	 "got \"1349\""},
	{"UDPMTU = 575", NULL, NULL, "2: UDPMTU: expected a number 576..1500, got \"575\""},
	{"UDPMTU = 1501", NULL, NULL, "2: UDPMTU: expected a number 576..1500, got \"1501\""},
	{"UDPMTU = 600", NULL, NULL,
	 "2: UDPMTU: 600 leaves IP packets at most 548 bytes after 52 bytes of aes, FEC and KCP "
	 "headers; the TUN needs 576"},
	{"Crypt = xor", NULL, NULL,
	 "2: Crypt: xor is not encryption: every packet is XORed with the same key-derived table, "
	 "so any two packets reveal each other; use aes-128, got \"xor\""},
	{"Crypt = rot13", NULL, NULL,
	 "2: Crypt: unknown cipher name (kcptun would silently fall back to aes; kcpvpnd refuses): "
	 "use aes, aes-128, aes-192, aes-128-gcm, salsa20, none or null, got \"rot13\""},
	{"Key =", "Crypt = aes", NULL, "2: Key: expected a passphrase, got an empty value"},
	{"User =", NULL, NULL,
	 "2: User: expected a user name (letters, digits, '.', '_', '-'; at most 32), got \"\""},
	{"User = -kcp", NULL, NULL,
	 "2: User: expected a user name (letters, digits, '.', '_', '-'; at most 32), got \"-kcp\""},
	{"User = kcp vpn", NULL, NULL,
	 "2: User: expected a user name (letters, digits, '.', '_', '-'; at most 32), "
	 "got \"kcp vpn\""},
	{"User = a23456789012345678901234567890123", NULL, NULL,
	 "2: User: expected a user name (letters, digits, '.', '_', '-'; at most 32), "
	 "got \"a23456789012345678901234567890123\""},
	{"Group = ../etc", NULL, NULL,
	 "2: Group: expected a group name (letters, digits, '.', '_', '-'; at most 32), "
	 "got \"../etc\""},
	{"Group = wheel\nUser = root", NULL, NULL,
	 "2: Group: User = root keeps root's groups (line 3); remove Group"},
	{"KeyFile =", "Crypt = aes", NULL,
	 "2: KeyFile: expected the path of a file holding the passphrase, got \"\""},
	{"FEC = 10:300", NULL, NULL,
	 "2: FEC: expected DATA:PARITY with DATA+PARITY <= 255, got \"10:300\""},
	{"FEC = 200:56", NULL, NULL,
	 "2: FEC: expected DATA:PARITY with DATA+PARITY <= 255, got \"200:56\""},
	{"FEC = 0:3", NULL, NULL, "2: FEC: expected DATA:PARITY with DATA+PARITY <= 255, got \"0:3\""},
	{"FEC = 10:0", NULL, NULL,
	 "2: FEC: expected DATA:PARITY with DATA+PARITY <= 255, got \"10:0\""},
	{"FEC = 10", NULL, NULL, "2: FEC: expected DATA:PARITY with DATA+PARITY <= 255, got \"10\""},
	{"FEC = 10:3:1", NULL, NULL,
	 "2: FEC: expected DATA:PARITY with DATA+PARITY <= 255, got \"10:3:1\""},
	{"Profile = turbo", NULL, NULL,
	 "2: Profile: expected normal, fast, fast2, fast3, default or manual, got \"turbo\""},
	{"Profile = manual\nNoDelay = 2\nInterval = 20\nResend = 2\nNoCongestion = yes", NULL, NULL,
	 "3: NoDelay: expected 0 or 1, got \"2\""},
	{"Profile = manual\nNoDelay = 1\nInterval = 9\nResend = 2\nNoCongestion = yes", NULL, NULL,
	 "4: Interval: expected milliseconds 10..5000, got \"9\""},
	{"Profile = manual\nNoDelay = 1\nInterval = 5001\nResend = 2\nNoCongestion = yes", NULL,
	 NULL, "4: Interval: expected milliseconds 10..5000, got \"5001\""},
	{"Profile = manual\nNoDelay = 1\nInterval = 10\nResend = 65536\nNoCongestion = yes", NULL,
	 NULL, "5: Resend: expected a count of ACKs 0..65535 (0 = off), got \"65536\""},
	{"Profile = manual\nNoDelay = 1\nInterval = 10\nResend = 2\nNoCongestion = maybe", NULL,
	 NULL, "6: NoCongestion: expected yes or no, got \"maybe\""},
	{"SndWnd = 0", NULL, NULL, "2: SndWnd: expected segments 1..32768, got \"0\""},
	{"RcvWnd = 32769", NULL, NULL, "2: RcvWnd: expected segments 1..32768, got \"32769\""},
	{"RateLimit = 10T", NULL, NULL,
	 "2: RateLimit: expected bits per second with an optional k, M or G suffix (0 = no limit), "
	 "got \"10T\""},
	{"RateLimit = 1001G", NULL, NULL,
	 "2: RateLimit: expected bits per second with an optional k, M or G suffix (0 = no limit), "
	 "got \"1001G\""},
	{"RateLimit = M", NULL, NULL,
	 "2: RateLimit: expected bits per second with an optional k, M or G suffix (0 = no limit), "
	 "got \"M\""},
	{"DSCP = 64", NULL, NULL, "2: DSCP: expected 0..63, got \"64\""},
	{"SocketBuffer = 63k", NULL, NULL,
	 "2: SocketBuffer: expected bytes 64k..256M (k = 1024), got \"63k\""},
	{"SocketBuffer = 257M", NULL, NULL,
	 "2: SocketBuffer: expected bytes 64k..256M (k = 1024), got \"257M\""},
	{"SocketBuffer = 1G", NULL, NULL,
	 "2: SocketBuffer: expected bytes 64k..256M (k = 1024), got \"1G\""},
	{"ControlSocket = run/k.sock", NULL, NULL,
	 "2: ControlSocket: expected an absolute path of at most 107 bytes, got \"run/k.sock\""},
	{"LogLevel = verbose", NULL, NULL,
	 "2: LogLevel: expected error, warning, notice, info or debug, got \"verbose\""},
	{"FwMark = 0x100000000", NULL, NULL,
	 "2: FwMark: expected a mark 0..0xffffffff, decimal or 0x hex, got \"0x100000000\""},
	{"FwMark = 0xg", NULL, NULL,
	 "2: FwMark: expected a mark 0..0xffffffff, decimal or 0x hex, got \"0xg\""},
	{"Table = 0", NULL, NULL,
	 "2: Table: expected auto, off or a table number 1..4294967295 other than 255 (local), got "
	 "\"0\""},
	{"Table = 255", NULL, NULL,
	 "2: Table: expected auto, off or a table number 1..4294967295 other than 255 (local), got "
	 "\"255\""},
	{"Table = main", NULL, NULL,
	 "2: Table: expected auto, off or a table number 1..4294967295 other than 255 (local), got "
	 "\"main\""},
	{NULL, NULL, "Name = lab one",
	 "7: Name: expected a peer name of 1 to 32 characters from A-Z a-z 0-9 _ . -, got "
	 "\"lab one\""},
	{NULL, NULL, "Name = abcdefghijklmnopqrstuvwxyz0123456",
	 "7: Name: expected a peer name of 1 to 32 characters from A-Z a-z 0-9 _ . -, got "
	 "\"abcdefghijklmnopqrstuvwxyz0123456\""},
	{"ListenPort = 4000", NULL, "Endpoint = 198.51.100.7",
	 "7: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"198.51.100.7\""},
	{"ListenPort = 4000", NULL, "Endpoint = 2001:db8::7:4000",
	 "7: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"2001:db8::7:4000\""},
	{"ListenPort = 4000", NULL, "Endpoint = [2001:db8::7]",
	 "7: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"[2001:db8::7]\""},
	{"ListenPort = 4000", NULL, "Endpoint = 300.1.2.3:4000",
	 "7: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"300.1.2.3:4000\""},
	{"ListenPort = 4000", NULL, "Endpoint = host:0",
	 "7: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"host:0\""},
	{"ListenPort = 4000", NULL, "Endpoint = -bad.example:4000",
	 "7: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"-bad.example:4000\""},
	{"ListenPort = 4000", NULL, "Endpoint = a..b:4000",
	 "7: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"a..b:4000\""},
	{NULL, NULL, "AllowedIPs = 10.1.0.1/16",
	 "7: AllowedIPs: \"10.1.0.1/16\" has host bits set (the network is 10.1.0.0/16)"},
	{NULL, NULL, "AllowedIPs = fd00:9::1/64",
	 "7: AllowedIPs: \"fd00:9::1/64\" has host bits set (the network is fd00:9::/64)"},
	{NULL, NULL, "AllowedIPs = fd00:9::/64 10.1.0.0/16",
	 "7: AllowedIPs: expected ADDRESS/PREFIX (IPv4 or IPv6), got \"fd00:9::/64 10.1.0.0/16\""},
	{NULL, NULL, "AllowedIPs = 10.0.0.2/32",
	 "7: AllowedIPs: 10.0.0.2/32 of peer peer1 is listed twice (also at line 6)"},
	{NULL, NULL, "PersistentKeepalive = 3601",
	 "7: PersistentKeepalive: expected seconds 0..3600 (0 = off), got \"3601\""},
	{NULL, NULL, "FEC = 0:0", "7: FEC: expected DATA:PARITY with DATA+PARITY <= 255, got \"0:0\""},
	{NULL, NULL, "SndWnd = 99999", "7: SndWnd: expected segments 1..32768, got \"99999\""},
	{NULL, NULL, "Interval = 20", "7: Interval: only with Profile = manual (Profile is fast3)"},
	{"Profile = fast", NULL, "NoCongestion = no",
	 "7: NoCongestion: only with Profile = manual (Profile is fast)"},
	{NULL, NULL, "ListenPort = 4000",
	 "7: ListenPort: not allowed in [Peer]; it belongs in [Interface]"},
	{"Endpoint = 192.0.2.1:4000", NULL, NULL,
	 "2: Endpoint: not allowed in [Interface]; it belongs in [Peer]"},
	{"FEC = 10:3\nfec = 4:2", NULL, NULL, "3: FEC: set twice in one section (first at line 2)"},
	{"Key = other", NULL, NULL, "3: Key: set twice in one section (first at line 2)"},
	{"Key = other", "KeyFile = /k", NULL, "3: KeyFile: Key and KeyFile are both set (lines 2 and "
					      "3); use one"},
	{"Crypt = aes-128", "# no key", NULL, "2: Key: Crypt = aes-128 needs Key or KeyFile"},
	{"Frobnicate = 1", NULL, NULL, "2: Frobnicate: unknown key in [Interface]"},
	{NULL, NULL, "Frobnicate = 1", "7: Frobnicate: unknown key in [Peer]"},
	/* the secure mode's keys */
	{"PrivateKey = " ALICE_PRIV, NULL, NULL, "2: PrivateKey: only for Mode = secure"},
	{"PrivateKeyFile = a.key", NULL, NULL, "2: PrivateKeyFile: only for Mode = secure"},
	{"Cipher = aes-256-gcm", NULL, NULL, "2: Cipher: only for Mode = secure"},
	{"Obfuscate = no", NULL, NULL, "2: Obfuscate: only for Mode = secure"},
	{NULL, NULL, "PublicKey = " BOB_PUB, "7: PublicKey: only for Mode = secure"},
	{NULL, NULL, "PresharedKey = " PSK, "7: PresharedKey: only for Mode = secure"},
	{NULL, NULL, "PresharedKeyFile = a.psk", "7: PresharedKeyFile: only for Mode = secure"},
};

/* The same in secure mode. */
static const struct bad_value secure_bad_values[] = {
	{"Mode = fast", "PrivateKey = " ALICE_PRIV, NULL,
	 "2: Mode: expected secure or compat, got \"fast\""},
	{"PrivateKey = abc", "# -", NULL,
	 "2: PrivateKey: expected a 44-character base64 key (kcpctl genkey), got 3 characters "
	 "(value hidden)"},
	{"PrivateKey = " BOB_PUB "x", "# -", NULL,
	 "2: PrivateKey: expected a 44-character base64 key (kcpctl genkey), got 45 characters "
	 "(value hidden)"},
	{"PrivateKey = " ALICE_PRIV, NULL, NULL,
	 "3: PrivateKey: set twice in one section (first at line 2)"},
	{"PrivateKeyFile = a.key", NULL, NULL,
	 "3: PrivateKey: PrivateKeyFile and PrivateKey are both set (lines 2 and 3); use one"},
	{"PrivateKeyFile =", "# -", NULL,
	 "2: PrivateKeyFile: expected the path of a file holding the private key, got \"\""},
	{"# -", "# no key", NULL,
	 "1: PrivateKey: secure mode needs PrivateKey or PrivateKeyFile (kcpctl genkey makes one)"},
	{"Cipher = aes-128", NULL, NULL,
	 "2: Cipher: expected chacha20-poly1305 or aes-256-gcm, got \"aes-128\""},
	{"Obfuscate = maybe", NULL, NULL, "2: Obfuscate: expected yes or no, got \"maybe\""},
	{"Crypt = aes", NULL, NULL,
	 "2: Crypt: only for Mode = compat; secure mode encrypts with Cipher and per-peer keys"},
	{"Key = k", NULL, NULL,
	 "2: Key: only for Mode = compat; secure mode encrypts with Cipher and per-peer keys"},
	{"KeyFile = k.key", NULL, NULL,
	 "2: KeyFile: only for Mode = compat; secure mode encrypts with Cipher and per-peer keys"},
	{"# no Mode line", "Key = k", NULL,
	 "1: PrivateKey: secure mode needs PrivateKey or PrivateKeyFile (kcpctl genkey makes one)\n"
	 "3: Key: only for Mode = compat; secure mode encrypts with Cipher and per-peer keys (Mode "
	 "is secure when not set)"},
	{"PublicKey = " BOB_PUB, NULL, NULL,
	 "2: PublicKey: not allowed in [Interface]; it belongs in [Peer]"},
	{NULL, NULL, "PrivateKey = " ALICE_PRIV,
	 "7: PrivateKey: not allowed in [Peer]; it belongs in [Interface]"},
	{NULL, NULL, "PublicKey = hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm",
	 "7: PublicKey: expected a 44-character base64 key (kcpctl genkey / kcpctl pubkey), got "
	 "\"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTm\""},
	{NULL, NULL, "PublicKey = hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066Spjqqb-mo=",
	 "7: PublicKey: expected a 44-character base64 key (kcpctl genkey / kcpctl pubkey), got "
	 "\"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066Spjqqb-mo=\""},
	{NULL, NULL, "PublicKey =",
	 "7: PublicKey: expected a 44-character base64 key (kcpctl genkey / kcpctl pubkey), got "
	 "\"\""},
	{NULL, NULL, "# no PublicKey",
	 "5: PublicKey: peer peer1 has none; in secure mode every [Peer] needs one"},
	{NULL, NULL, "PublicKey = " ALICE_PUB,
	 "7: PublicKey: peer peer1 has this interface's own public key (of the PrivateKey at line "
	 "3); a [Peer] takes the public key of the other side"},
	{NULL, NULL, "PresharedKey = hunter2",
	 "7: PresharedKey: expected a 44-character base64 key (kcpctl genpsk), got 7 characters "
	 "(value hidden)"},
	{NULL, NULL, "PresharedKeyFile =",
	 "7: PresharedKeyFile: expected the path of a file holding the pre-shared key, got \"\""},
	{NULL, NULL, "PresharedKey = " PSK "\nPresharedKeyFile = lab.psk",
	 "8: PresharedKeyFile: PresharedKey and PresharedKeyFile are both set (lines 7 and 8); use "
	 "one"},
	{"MTU = 1337", NULL, NULL,
	 "2: MTU: expected at most 1336 (UDPMTU 1400 minus 64 bytes of secure, FEC and KCP "
	 "headers), got \"1337\""},
	{"UDPMTU = 639", NULL, NULL,
	 "2: UDPMTU: 639 leaves IP packets at most 575 bytes after 64 bytes of secure, FEC and KCP "
	 "headers; the TUN needs 576"},
};
/* clang-format on */

static void check_bad_value(const struct bad_value *b, bool secure)
{
	char *text = key_config(secure, b->iface, b->iface2, b->peer);
	char want[512];

	snprintf(want, sizeof(want), "%s\n", b->msg);
	expect_errors(text, want);
	free(text);
}

START_TEST(config_key_refuses_bad_value_with_exact_message)
{
	check_bad_value(&bad_values[_i], false);
}
END_TEST

START_TEST(config_secure_key_refuses_bad_value_with_exact_message)
{
	check_bad_value(&secure_bad_values[_i], true);
}
END_TEST

/* Every key config_keys() names has a good value in the table above. */
START_TEST(config_every_key_has_a_tested_value)
{
	for (const char *const *k = config_keys(); *k != NULL; k++) {
		bool found = false;
		size_t n = strlen(*k);

		for (size_t i = 0; i < sizeof(good_values) / sizeof(good_values[0]) && !found; i++)
			found = strncmp(good_values[i].printed, *k, n) == 0 &&
				good_values[i].printed[n] == ' ';
		for (size_t i = 0;
		     i < sizeof(secure_good_values) / sizeof(secure_good_values[0]) && !found; i++)
			found = strncmp(secure_good_values[i].printed, *k, n) == 0 &&
				secure_good_values[i].printed[n] == ' ';
		ck_assert_msg(found, "no good value tested for %s", *k);
	}
}
END_TEST

/* ---- syntax ---- */

START_TEST(config_reports_all_errors_in_one_pass_in_line_order)
{
	expect_errors("[Interface]\n"
		      "ListenPort = 99999\n"
		      "Frobnicate = 1\n"
		      "Key = k\n"
		      "Mode = compat\n"
		      "[Peer]\n"
		      "AllowedIPs = 10.0.0.1/8\n"
		      "FEC = 10:300\n"
		      "[Peer]\n"
		      "Name = peer1\n"
		      "AllowedIPs = 10.0.0.0/24\n"
		      "[Nonsense]\n"
		      "Whatever = 1\n",
		      "2: ListenPort: expected a port 1..65535 or none, got \"99999\"\n"
		      "3: Frobnicate: unknown key in [Interface]\n"
		      "6: AllowedIPs: peer peer1 has none; every [Peer] needs at least "
		      "one\n"
		      "6: Endpoint: peer peer1 has none, and with ListenPort = none every "
		      "peer needs one\n"
		      "7: AllowedIPs: \"10.0.0.1/8\" has host bits set (the network is "
		      "10.0.0.0/8)\n"
		      "8: FEC: expected DATA:PARITY with DATA+PARITY <= 255, got "
		      "\"10:300\"\n"
		      "9: Endpoint: peer peer1 has none, and with ListenPort = none every "
		      "peer needs one\n"
		      "10: Name: \"peer1\" is also the name of the [Peer] at line 6\n"
		      "12: [Nonsense]: unknown section (expected [Interface] or [Peer])\n");
}
END_TEST

START_TEST(config_syntax_comments_case_and_sections)
{
	struct config *c = parse_ok("\xef\xbb\xbf# leading comment\r\n"
				    "; another\n"
				    "  [ interface ]  # header comment\n"
				    "\tNAME = kcp7 # trailing comment\n"
				    "  key = pass;word ; comment\n"
				    "listenport=4000\n"
				    "mode = Compat\n"
				    "\n"
				    "[PEER]\n"
				    "allowedips = 10.0.0.2/32\r\n"
				    "[Peer]\n"
				    "AllowedIPs = 10.0.0.3/32\n");

	ck_assert_str_eq(c->ifname, "kcp7");
	ck_assert_str_eq(c->key, "pass;word");
	ck_assert_uint_eq(c->listen_port, 4000);
	/* two [Peer] headers in a row are two peers, with default names by position */
	ck_assert_uint_eq(c->npeers, 2);
	ck_assert_str_eq(c->peers[0].name, "peer1");
	ck_assert_int_eq(c->peers[0].line, 9);
	ck_assert_str_eq(c->peers[1].name, "peer2");
	ck_assert_int_eq(c->peers[1].line, 11);
	ck_assert_int_eq(c->peers[1].allowed[0].line, 12);
	config_free(c);
}
END_TEST

START_TEST(config_syntax_errors_name_the_line)
{
	expect_errors("[Interface]\n"
		      "Key = k\n"
		      "Mode = compat\n"
		      "ListenPort 4000\n"
		      "Key super secret\n"
		      "= 3\n"
		      "Name: kcp0\n"
		      "[Peer\n"
		      "AllowedIPs = 10.0.0.2/32\n",
		      "1: [Peer]: none (a config needs at least one [Peer] section)\n"
		      "4: expected [Section] or Key = value, got \"ListenPort 4000\"\n"
		      "5: expected [Section] or Key = value, got a line starting with "
		      "\"Key\" (not shown)\n"
		      "6: expected [Section] or Key = value, got \"= 3\"\n"
		      "7: expected [Section] or Key = value, got \"Name: kcp0\"\n"
		      "8: expected [Interface] or [Peer], got \"[Peer\"\n");
}
END_TEST

START_TEST(config_long_lines_and_nul_bytes_are_errors)
{
	static const char nul[] = "[Interface]\nKey = k\x00x\nListenPort = 1\nMode = compat\n"
				  "[Peer]\nAllowedIPs = 10.0.0.2/32\n";
	char key[200], text[400];
	struct config *c;

	/* "Key = " and 191 characters make 197: the longest line */
	memset(key, 'x', 191);
	key[191] = '\0';
	snprintf(text, sizeof(text),
		 "[Interface]\nListenPort = 1\nKey = %s\nMode = compat\n[Peer]\nAllowedIPs = "
		 "10.0.0.2/32\n",
		 key);
	c = parse_ok(text);
	ck_assert_uint_eq(strlen(c->key), 191);
	config_free(c);
	snprintf(text, sizeof(text),
		 "[Interface]\nListenPort = 1\nKey = %sx\nMode = compat\n[Peer]\nAllowedIPs = "
		 "10.0.0.2/32\n",
		 key);
	expect_errors(text, "1: Key: Crypt = aes needs Key or KeyFile\n"
			    "3: line longer than 197 characters (split a long list over repeated "
			    "keys)\n");

	expect_errors_n(nul, sizeof(nul) - 1,
			"1: Key: Crypt = aes needs Key or KeyFile\n"
			"2: expected [Section] or Key = value, got a line with a NUL byte\n");
}
END_TEST

START_TEST(config_key_outside_sections_and_missing_sections)
{
	expect_errors("Name = kcp0\n", "1: Name: outside any section (put it under "
				       "[Interface] or [Peer])\n"
				       "1: [Interface]: missing (a config needs one "
				       "[Interface] and at least one [Peer] section)\n");
	expect_errors("", "1: [Interface]: missing (a config needs one [Interface] "
			  "and at least one [Peer] section)\n");
	expect_errors(HEAD, "1: [Peer]: none (a config needs at least one [Peer] section)\n");
	expect_errors(HEAD "[Interface]\n[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "5: [Interface]: a second [Interface] section (the first is at line "
		      "1)\n");
}
END_TEST

START_TEST(config_errors_beyond_the_cap_are_counted)
{
	char *text = malloc(200 * 16 + 100), *errs = NULL;
	struct config *c = NULL;
	size_t o = 0, lines = 0;

	o += (size_t)sprintf(text, HEAD);
	for (int i = 0; i < 150; i++)
		o += (size_t)sprintf(text + o, "Bogus%d = 1\n", i);
	sprintf(text + o, "[Peer]\nAllowedIPs = 10.0.0.2/32\n");
	/* nothing else is wrong: 150 errors */
	ck_assert_int_eq(parse(text, &c, &errs), -EINVAL);
	for (const char *s = errs; (s = strchr(s, '\n')) != NULL; s++)
		lines++;
	ck_assert_uint_eq(lines, 101);
	ck_assert_ptr_nonnull(strstr(errs, FILE_NAME ":5: Bogus0: unknown key in [Interface]\n"));
	ck_assert_ptr_nonnull(strstr(errs, FILE_NAME ": 50 more errors not shown\n"));
	free(errs);
	free(text);
}
END_TEST

/* ---- whole-file checks ---- */

START_TEST(config_overlapping_allowedips_refused_naming_both)
{
	/* v4 nested, the outer one later */
	expect_errors(HEAD "[Peer]\nName = a\nAllowedIPs = 10.9.0.2/32\n"
			   "[Peer]\nName = b\nAllowedIPs = 10.9.0.0/24\n",
		      "10: AllowedIPs: 10.9.0.0/24 of peer b overlaps 10.9.0.2/32 of peer "
		      "a at line 7\n");
	/* v4 equal */
	expect_errors(HEAD "[Peer]\nName = a\nAllowedIPs = 192.168.1.0/24\n"
			   "[Peer]\nName = b\nAllowedIPs = 10.0.0.0/8, 192.168.1.0/24\n",
		      "10: AllowedIPs: 192.168.1.0/24 of peer b overlaps 192.168.1.0/24 of "
		      "peer a at line 7\n");
	/* v6 nested, the inner one later */
	expect_errors(HEAD "[Peer]\nName = a\nAllowedIPs = fd00::/8\n"
			   "[Peer]\nName = b\nAllowedIPs = fd00:9::2/128\n",
		      "10: AllowedIPs: fd00:9::2/128 of peer b overlaps fd00::/8 of peer a "
		      "at line 7\n");
	/* v6 equal, and a full tunnel overlapping everything of its family */
	expect_errors(HEAD "[Peer]\nName = a\nAllowedIPs = fd00:9::/64, 0.0.0.0/0\n"
			   "[Peer]\nName = b\nAllowedIPs = fd00:9::/64\nAllowedIPs = 10.1.0.0/16\n",
		      "10: AllowedIPs: fd00:9::/64 of peer b overlaps fd00:9::/64 of peer a "
		      "at line 7\n"
		      "11: AllowedIPs: 10.1.0.0/16 of peer b overlaps 0.0.0.0/0 of peer a "
		      "at line 7\n");
}
END_TEST

START_TEST(config_disjoint_and_same_peer_nested_allowedips_accepted)
{
	struct config *c = parse_ok(HEAD "[Peer]\nAllowedIPs = 10.9.0.0/25, 10.9.0.0/26, ::/1\n"
					 "[Peer]\nAllowedIPs = 10.9.0.128/25, 8000::/1\n"
					 "[Peer]\nAllowedIPs = 10.9.1.0/24, 10.9.1.128/25\n");

	ck_assert_uint_eq(c->npeers, 3);
	ck_assert(!c->full_tunnel);
	config_free(c);
	/* a /16 of a later peer holding the others is an overlap */
	expect_errors(HEAD "[Peer]\nAllowedIPs = 10.9.0.0/25\n"
			   "[Peer]\nAllowedIPs = 10.9.0.0/16\n",
		      "8: AllowedIPs: 10.9.0.0/16 of peer peer2 overlaps 10.9.0.0/25 of "
		      "peer peer1 at line 6\n");
}
END_TEST

START_TEST(config_profile_manual_requires_the_four_knobs)
{
	struct config *c;

	expect_errors(HEAD "Profile = manual\nInterval = 20\n"
			   "[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "5: Profile: manual needs NoDelay, Interval, Resend and NoCongestion "
		      "in the same section; missing NoDelay, Resend, NoCongestion\n");
	expect_errors(HEAD "[Peer]\nAllowedIPs = 10.0.0.2/32\nProfile = manual\nNoDelay = 1\n",
		      "7: Profile: manual needs NoDelay, Interval, Resend and NoCongestion "
		      "in the same section; missing Interval, Resend, NoCongestion\n");
	expect_errors(HEAD "Resend = 3\n[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "5: Resend: only with Profile = manual (Profile is fast3)\n");
	/* a peer under a manual [Interface] may change one knob and inherit the others */
	c = parse_ok(HEAD "Profile = manual\nNoDelay = 1\nInterval = 30\n"
			  "Resend = 3\nNoCongestion = no\n"
			  "[Peer]\nAllowedIPs = 10.0.0.2/32\nInterval = 50\n"
			  "[Peer]\nAllowedIPs = 10.0.0.3/32\nProfile = fast\n");
	ck_assert_str_eq(c->profile, "manual");
	ck_assert_uint_eq(c->kcp.interval_ms, 30);
	ck_assert_str_eq(c->peers[0].profile, "manual");
	ck_assert_uint_eq(c->peers[0].kcp.interval_ms, 50);
	ck_assert_uint_eq(c->peers[0].kcp.nodelay, 1);
	ck_assert_uint_eq(c->peers[0].kcp.resend, 3);
	ck_assert(!c->peers[0].kcp.nc);
	ck_assert_str_eq(c->peers[1].profile, "fast");
	ck_assert_uint_eq(c->peers[1].kcp.interval_ms, 30); /* kcptun's fast: 0, 30, 2, 1 */
	ck_assert_uint_eq(c->peers[1].kcp.nodelay, 0);
	ck_assert_uint_eq(c->peers[1].kcp.resend, 2);
	ck_assert(c->peers[1].kcp.nc);
	config_free(c);
}
END_TEST

START_TEST(config_mtu_checked_against_overheads)
{
	struct config *c;

	/* auto: UDPMTU minus crypt (20), FEC (8, always reserved) and KCP (24) headers */
	c = parse_ok(HEAD "[Peer]\nAllowedIPs = 10.0.0.2/32\n");
	ck_assert_uint_eq(c->mtu, 0);
	ck_assert_uint_eq(config_tun_mtu(c), 1400 - 20 - 8 - 24);
	config_free(c);
	c = parse_ok("[Interface]\nMode = compat\nCrypt = null\nUDPMTU = 1500\nListenPort = 1\n"
		     "[Peer]\nAllowedIPs = 10.0.0.2/32\n");
	ck_assert_uint_eq(config_tun_mtu(c), 1500 - 8 - 24);
	config_free(c);
	c = parse_ok(HEAD "MTU = 1280\nAddress = fd00::1/64\n"
			  "[Peer]\nAllowedIPs = 10.0.0.2/32\n");
	ck_assert_uint_eq(config_tun_mtu(c), 1280);
	config_free(c);
	/* too big for the overheads */
	expect_errors(HEAD "Crypt = aes-128-gcm\nMTU = 1341\n"
			   "[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "6: MTU: expected at most 1340 (UDPMTU 1400 minus 60 bytes of "
		      "aes-128-gcm, FEC and KCP headers), got \"1341\"\n");
	/* the overheads leave too little: IPv4 needs 576, IPv6 1280 */
	expect_errors(HEAD "UDPMTU = 627\n[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "5: UDPMTU: 627 leaves IP packets at most 575 bytes after 52 bytes of "
		      "aes, FEC and KCP headers; the TUN needs 576\n");
	expect_errors(HEAD "Address = 10.9.0.1/24, fd00::1/64\nUDPMTU = 1300\n"
			   "[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "6: UDPMTU: 1300 leaves IP packets at most 1248 bytes after 52 bytes "
		      "of aes, FEC and KCP headers; the TUN needs 1280 with an IPv6 Address "
		      "(line 5)\n");
	expect_errors(HEAD "Address = fd00::1/64\nMTU = 1200\n"
			   "[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "6: MTU: expected at least 1280 with an IPv6 Address (line 5), got "
		      "\"1200\"\n");
}
END_TEST

START_TEST(config_listenport_none_requires_endpoints)
{
	struct config *c;

	expect_errors("[Interface]\nKey = k\nMode = compat\n"
		      "[Peer]\nName = hub\nAllowedIPs = 10.0.0.0/24\nEndpoint = hub.example:4000\n"
		      "[Peer]\nName = lab\nAllowedIPs = 10.1.0.0/24\n",
		      "8: Endpoint: peer lab has none, and with ListenPort = none every "
		      "peer needs one\n");
	c = parse_ok("[Interface]\nMode = compat\nKey = k\nListenPort = 4000\n"
		     "[Peer]\nName = lab\nAllowedIPs = 10.1.0.0/24\n");
	ck_assert_ptr_null(c->peers[0].endpoint);
	ck_assert_uint_eq(c->peers[0].keepalive_s, 0);
	config_free(c);
}
END_TEST

START_TEST(config_peer_overrides_inherit_interface)
{
	struct config *c =
	    parse_ok("[Interface]\nMode = compat\nKey = k\nListenPort = 4000\nFEC = 10:3\n"
		     "Profile = fast2\nSndWnd = 512\nRcvWnd = 256\nRateLimit = 100M\n"
		     "[Peer]\nName = plain\nAllowedIPs = 10.0.0.2/32\n"
		     "[Peer]\nName = custom\nAllowedIPs = 10.0.0.3/32\nFEC = off\n"
		     "Profile = normal\nSndWnd = 64\nRateLimit = 0\n"
		     "Endpoint = 192.0.2.1:4000\n");
	const struct config_peer *plain = &c->peers[0], *custom = &c->peers[1];
	struct session_params sp;

	ck_assert_uint_eq(plain->fec_data, 10);
	ck_assert_uint_eq(plain->fec_parity, 3);
	ck_assert_str_eq(plain->profile, "fast2");
	ck_assert_uint_eq(plain->kcp.nodelay, 1);
	ck_assert_uint_eq(plain->kcp.interval_ms, 20);
	ck_assert_uint_eq(plain->kcp.snd_wnd, 512);
	ck_assert_uint_eq(plain->kcp.rcv_wnd, 256);
	ck_assert_uint_eq(plain->rate_bps, 100000000);
	ck_assert_uint_eq(plain->keepalive_s, 0);

	ck_assert_uint_eq(custom->fec_data, 0);
	ck_assert_uint_eq(custom->fec_parity, 0);
	ck_assert_str_eq(custom->profile, "normal");
	ck_assert_uint_eq(custom->kcp.nodelay, 0);
	ck_assert_uint_eq(custom->kcp.interval_ms, 40);
	ck_assert_uint_eq(custom->kcp.snd_wnd, 64);
	ck_assert_uint_eq(custom->kcp.rcv_wnd, 256); /* inherited */
	ck_assert_uint_eq(custom->rate_bps, 0);
	ck_assert_uint_eq(custom->keepalive_s, 10); /* has an Endpoint */

	session_params_default(&sp);
	config_peer_session(c, custom, &sp);
	ck_assert_uint_eq(sp.udp_mtu, 1400);
	ck_assert_int_eq(sp.crypt, CRYPT_AES_256);
	ck_assert_uint_eq(sp.fec_data, 0);
	ck_assert_uint_eq(sp.kcp.interval_ms, 40);
	ck_assert_uint_eq(sp.kcp.snd_wnd, 64);
	ck_assert_uint_eq(sp.kcp.dead_link, 20); /* untouched default */
	ck_assert_uint_eq(sp.kcp.rate_bps, 0);
	config_peer_session(c, plain, &sp);
	ck_assert_uint_eq(sp.fec_data, 10);
	ck_assert_uint_eq(sp.fec_parity, 3);
	ck_assert(sp.kcp.nc);
	ck_assert_uint_eq(sp.kcp.rate_bps, 100000000); /* the session is paced */
	config_free(c);
	assert_round_trip("[Interface]\nMode = compat\nKey = k\nListenPort = 4000\nFEC = 10:3\n"
			  "Profile = fast2\nSndWnd = 512\nRcvWnd = 256\nRateLimit = 100M\n"
			  "[Peer]\nName = plain\nAllowedIPs = 10.0.0.2/32\n"
			  "[Peer]\nName = custom\nAllowedIPs = 10.0.0.3/32\nFEC = off\n"
			  "Profile = normal\nSndWnd = 64\nRateLimit = 0\n"
			  "Endpoint = 192.0.2.1:4000\n");
}
END_TEST

/* kcpctl tune ratelimit= goes through the parser RateLimit uses. */
START_TEST(config_rate_parse_takes_what_ratelimit_takes)
{
	static const struct {
		const char *text;
		bool ok;
		uint64_t bps;
	} cases[] = {
	    {"0", true, 0},
	    {"999", true, 999},
	    {"1500k", true, 1500000},
	    {"20M", true, 20000000},
	    {"20m", true, 20000000},
	    {"1G", true, 1000000000},
	    {"1000G", true, 1000000000000ull},
	    {"1001G", false, 0},
	    {"10T", false, 0},
	    {"M", false, 0},
	    {"", false, 0},
	    {"-1", false, 0},
	    {"1.5M", false, 0},
	    {"20 M", false, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t bps = 7;

		ck_assert_msg(config_rate_parse(cases[i].text, &bps) == cases[i].ok, "\"%s\"",
			      cases[i].text);
		if (cases[i].ok)
			ck_assert_uint_eq(bps, cases[i].bps);
	}
}
END_TEST

START_TEST(config_defaults_filled_in)
{
	struct config *c = parse_ok("[Interface]\nKey = k\nMode = compat\n[Peer]\n"
				    "Endpoint = 192.0.2.1:4000\nAllowedIPs = 10.0.0.0/24\n");

	ck_assert_str_eq(c->file, FILE_NAME);
	ck_assert_str_eq(c->ifname, "kcp0"); /* from the file name */
	ck_assert_int_eq(c->mode, CONFIG_MODE_COMPAT);
	ck_assert(!c->listen);
	ck_assert_uint_eq(c->udp_mtu, 1400);
	ck_assert_int_eq(c->crypt, CRYPT_AES_256);
	ck_assert_int_eq(c->key_line, 2);
	ck_assert_uint_eq(c->fec_data, 0);
	ck_assert_str_eq(c->profile, "fast3");
	ck_assert_uint_eq(c->kcp.nodelay, 1);
	ck_assert_uint_eq(c->kcp.interval_ms, 10);
	ck_assert_uint_eq(c->kcp.resend, 2);
	ck_assert(c->kcp.nc);
	ck_assert_uint_eq(c->kcp.snd_wnd, 2048);
	ck_assert_uint_eq(c->kcp.rcv_wnd, 2048);
	ck_assert_uint_eq(c->socket_buffer_bytes, 4 << 20);
	ck_assert_str_eq(c->control_socket, "/run/kcpvpnd/kcp0.sock");
	ck_assert_int_eq(c->log_level, CONFIG_LOG_INFO);
	ck_assert_uint_eq(c->fwmark, 0);
	ck_assert_int_eq(c->table, CONFIG_TABLE_AUTO);
	ck_assert_str_eq(c->peers[0].name, "peer1");
	ck_assert_int_eq(c->peers[0].endpoint_line, 5);
	ck_assert_uint_eq(c->peers[0].keepalive_s, 10);
	config_free(c);
}
END_TEST

START_TEST(config_name_defaults_to_the_file_name)
{
	static const char text[] = HEAD "[Peer]\nAllowedIPs = 10.0.0.2/32\n";
	struct config *c = NULL;
	char *errs = NULL;

	ck_assert_int_eq(config_parse("site-a.conf", text, strlen(text), &c, &errs), 0);
	ck_assert_str_eq(c->ifname, "site-a");
	ck_assert_str_eq(c->control_socket, "/run/kcpvpnd/site-a.sock");
	config_free(c);
	ck_assert_int_eq(config_parse("/x/a very long name.conf", text, strlen(text), &c, &errs),
			 -EINVAL);
	ck_assert_str_eq(errs, "/x/a very long name.conf:1: Name: not set, and the file name "
			       "gives \"a very long name\", which is not an interface name (1 to "
			       "15 of A-Z a-z 0-9 _ = + . -); set Name\n");
	free(errs);
}
END_TEST

START_TEST(config_full_tunnel_gets_a_fwmark)
{
	struct config *c = parse_ok("[Interface]\nMode = compat\nKey = k\n[Peer]\n"
				    "Endpoint = 192.0.2.1:4000\nAllowedIPs = 0.0.0.0/0, ::/0\n");

	ck_assert(c->full_tunnel);
	ck_assert_uint_eq(c->fwmark, CONFIG_FWMARK_DEFAULT);
	config_free(c);
	c = parse_ok("[Interface]\nMode = compat\nKey = k\nFwMark = 0x51820\n[Peer]\n"
		     "Endpoint = 192.0.2.1:4000\nAllowedIPs = ::/0\n");
	ck_assert(c->full_tunnel);
	ck_assert_uint_eq(c->fwmark, 0x51820);
	config_free(c);
	c = parse_ok("[Interface]\nMode = compat\nKey = k\nFwMark = 0\nTable = off\n[Peer]\n"
		     "Endpoint = 192.0.2.1:4000\nAllowedIPs = ::/0\n");
	ck_assert_uint_eq(c->fwmark, 0);
	config_free(c);
	expect_errors("[Interface]\nKey = k\nFwMark = 0\nMode = compat\n[Peer]\n"
		      "Endpoint = 192.0.2.1:4000\n"
		      "AllowedIPs = 0.0.0.0/0\n",
		      "3: FwMark: a full tunnel (a peer holds a /0) with Table = auto "
		      "needs a mark, got \"0\"\n");
	assert_round_trip("[Interface]\nMode = compat\nKey = k\n[Peer]\nEndpoint = 192.0.2.1:4000\n"
			  "AllowedIPs = 0.0.0.0/0, ::/0\n");
}
END_TEST

START_TEST(config_key_optional_only_without_cipher)
{
	struct config *c = parse_ok("[Interface]\nMode = compat\nCrypt = none\n[Peer]\n"
				    "AllowedIPs = 10.0.0.2/32\nEndpoint = 192.0.2.1:4000\n");

	ck_assert_ptr_null(c->key);
	ck_assert_ptr_null(c->key_file);
	ck_assert_int_eq(c->key_line, 0);
	config_free(c);
	expect_errors("[Interface]\nMode = compat\n[Peer]\nAllowedIPs = 10.0.0.2/32\n"
		      "Endpoint = 192.0.2.1:4000\n",
		      "1: Key: Crypt = aes needs Key or KeyFile\n");
}
END_TEST

START_TEST(config_peer_names_are_unique)
{
	expect_errors(HEAD "[Peer]\nName = lab\nAllowedIPs = 10.0.0.2/32\n"
			   "[Peer]\nName = lab\nAllowedIPs = 10.0.0.3/32\n",
		      "9: Name: \"lab\" is also the name of the [Peer] at line 5\n");
	/* a default name counts */
	expect_errors(HEAD "[Peer]\nAllowedIPs = 10.0.0.2/32\n"
			   "[Peer]\nName = peer1\nAllowedIPs = 10.0.0.3/32\n",
		      "8: Name: \"peer1\" is also the name of the [Peer] at line 5\n");
}
END_TEST

/* Whether the first peer of each case's config is config_peer_same() as that of base. */
struct same_case {
	const char *text;
	bool same;
};

static void assert_peer_same_cases(const char *base, const struct same_case *cases, size_t n)
{
	struct config *a = parse_ok(base);

	ck_assert(config_peer_same(a, &a->peers[0], a, &a->peers[0]));
	for (size_t i = 0; i < n; i++) {
		struct config *b = parse_ok(cases[i].text);

		ck_assert_msg(config_peer_same(a, &a->peers[0], b, &b->peers[0]) == cases[i].same,
			      "case %zu", i);
		ck_assert_msg(config_peer_same(b, &b->peers[0], a, &a->peers[0]) == cases[i].same,
			      "case %zu reversed", i);
		config_free(b);
	}
	config_free(a);
}

START_TEST(config_peer_same_tells_what_shapes_a_session)
{
	static const char base[] = "[Interface]\nMode = compat\nKey = k\nListenPort = 4000\n"
				   "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n";
	static const struct same_case cases[] = {
	    {"[Interface]\nMode = compat\nKey = k\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32, 10.5.0.0/16\nRateLimit = 1M\n"
	     "PersistentKeepalive = 25\n",
	     true},
	    {"[Interface]\nMode = compat\nKey = k\nListenPort = 4001\nLogLevel = debug\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n",
	     true},
	    {"[Interface]\nMode = compat\nKey = other\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n",
	     false},
	    {"[Interface]\nMode = compat\nKey = k\nCrypt = salsa20\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n",
	     false},
	    {"[Interface]\nMode = compat\nKey = k\nUDPMTU = 1300\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n",
	     false},
	    {"[Interface]\nMode = compat\nKey = k\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\nFEC = 10:3\n",
	     false},
	    {"[Interface]\nMode = compat\nKey = k\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\nProfile = fast\n",
	     false},
	    {"[Interface]\nMode = compat\nKey = k\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\nRcvWnd = 100\n",
	     false},
	    {"[Interface]\nMode = compat\nKey = k\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\nEndpoint = 192.0.2.9:4000\n",
	     false},
	};
	assert_peer_same_cases(base, cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

#define SECURE_PEER_A SECURE_HEAD "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n"

/* Secure mode: the keys, Cipher and Obfuscate shape a session too. */
START_TEST(config_peer_same_compares_the_secure_settings)
{
	static const char base[] = SECURE_PEER_A "PublicKey = " BOB_PUB "\n";
	static const struct same_case cases[] = {
	    {SECURE_PEER_A "PublicKey = " BOB_PUB "\nPersistentKeepalive = 25\n", true},
	    {SECURE_PEER_A "PublicKey = " CAROL_PUB "\n", false},
	    {SECURE_PEER_A "PublicKey = " BOB_PUB "\nPresharedKey = " PSK "\n", false},
	    {SECURE_PEER_A "PublicKey = " BOB_PUB "\nPresharedKeyFile = a.psk\n", true},
	    {"[Interface]\nPrivateKey = " CAROL_PUB "\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\nPublicKey = " BOB_PUB "\n",
	     false},
	    {SECURE_HEAD "Cipher = aes-256-gcm\n[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n"
			 "PublicKey = " BOB_PUB "\n",
	     false},
	    {SECURE_HEAD "Obfuscate = yes\n[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n"
			 "PublicKey = " BOB_PUB "\n",
	     false},
	    {HEAD "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n", false},
	};
	assert_peer_same_cases(base, cases, sizeof(cases) / sizeof(cases[0]));
}
END_TEST

START_TEST(config_print_hides_the_key_and_parses_back)
{
	static const char text[] =
	    "[Interface]\nName = kcp9\nMode = compat\nListenPort = 4000\n"
	    "Address = 10.9.0.1/24, fd00:9::1/64\n"
	    "MTU = 1300\nUDPMTU = 1450\nCrypt = salsa20\nKey = hunter2 is my password\n"
	    "FEC = 20:5\nProfile = manual\nNoDelay = 1\nInterval = 25\nResend = 3\n"
	    "NoCongestion = yes\nSndWnd = 2048\nRcvWnd = 4096\nRateLimit = 2G\nDSCP = 10\n"
	    "SocketBuffer = 8M\nControlSocket = /run/k.sock\nLogLevel = notice\n"
	    "Table = 51820\nFwMark = 0x1234\nUser = kcpvpn\nGroup = adm\n"
	    "[Peer]\nName = a\nAllowedIPs = 10.9.0.2/32\nEndpoint = [2001:db8::1]:4000\n"
	    "PersistentKeepalive = 30\nInterval = 40\nSndWnd = 128\n"
	    "[Peer]\nName = b\nAllowedIPs = 10.9.0.3/32, 192.168.0.0/16\nProfile = fast\n"
	    "FEC = off\nRateLimit = 1500\n"
	    "[Peer]\nName = c\nAllowedIPs = fd00:9::3/128\nProfile = manual\nNoDelay = 0\n"
	    "Interval = 100\nResend = 0\nNoCongestion = no\n";
	struct config *c = parse_ok(text);
	char *printed = print_config(c);

	ck_assert_ptr_null(strstr(printed, "hunter2"));
	ck_assert_ptr_nonnull(strstr(printed, "\nKey = (set)\n"));
	config_free(c);
	free(printed);
	assert_round_trip(text);
}
END_TEST

/* ---- secure mode ---- */

static void b64_key(const char *b64, uint8_t key[CONFIG_KEY_LEN])
{
	ck_assert_int_eq(kc_key_from_base64(b64, key), 0);
}

START_TEST(config_mode_defaults_to_secure)
{
	struct config *c = parse_ok(SECURE_HEAD "[Peer]\nPublicKey = " BOB_PUB "\n"
						"AllowedIPs = 10.0.0.2/32\n");
	uint8_t key[CONFIG_KEY_LEN];
	char *printed;

	ck_assert_int_eq(c->mode, CONFIG_MODE_SECURE);
	ck_assert_uint_eq(c->aead, SEC_AEAD_CHACHAPOLY);
	ck_assert(!c->obfuscate);
	ck_assert_int_eq(c->crypt, CRYPT_NULL); /* the session's, under the secure layer */
	ck_assert_ptr_null(c->key);
	ck_assert(c->has_private_key);
	ck_assert_int_eq(c->private_key_line, 2);
	b64_key(ALICE_PRIV, key);
	ck_assert_mem_eq(c->private_key, key, CONFIG_KEY_LEN);
	ck_assert(c->peers[0].has_public_key);
	ck_assert_int_eq(c->peers[0].public_key_line, 5);
	b64_key(BOB_PUB, key);
	ck_assert_mem_eq(c->peers[0].public_key, key, CONFIG_KEY_LEN);
	ck_assert(!c->peers[0].has_psk);
	printed = print_config(c);
	ck_assert_ptr_nonnull(strstr(printed, "\nMode = secure\n"));
	ck_assert_ptr_null(strstr(printed, "Crypt"));
	free(printed);
	config_free(c);
	/* a compat config of before, without a Mode line, is told why it is refused */
	expect_errors(
	    "[Interface]\nCrypt = aes-128\nKey = k\n[Peer]\nAllowedIPs = 10.0.0.2/32\n"
	    "Endpoint = 192.0.2.1:4000\n",
	    "1: PrivateKey: secure mode needs PrivateKey or PrivateKeyFile (kcpctl genkey "
	    "makes one)\n"
	    "2: Crypt: only for Mode = compat; secure mode encrypts with Cipher and "
	    "per-peer keys (Mode is secure when not set)\n"
	    "3: Key: only for Mode = compat; secure mode encrypts with Cipher and "
	    "per-peer keys (Mode is secure when not set)\n"
	    "4: PublicKey: peer peer1 has none; in secure mode every [Peer] needs one\n");
}
END_TEST

/* The session runs with crypt "null" on what the secure layer's 32 bytes leave of UDPMTU. */
START_TEST(config_secure_session_has_no_crypt_and_32_bytes_less)
{
	struct config *c = parse_ok(SECURE_HEAD "Cipher = aes-256-gcm\nObfuscate = yes\n"
						"UDPMTU = 1420\n"
						"[Peer]\nPublicKey = " BOB_PUB "\n"
						"AllowedIPs = 10.0.0.2/32\nFEC = 10:3\n");
	struct session_params sp;

	ck_assert_uint_eq(c->aead, SEC_AEAD_AES256GCM);
	ck_assert(c->obfuscate);
	ck_assert_int_eq(config_mss(c), 1420 - SEC_OVERHEAD - 8 - 24);
	ck_assert_uint_eq(config_tun_mtu(c), 1420 - SEC_OVERHEAD - 8 - 24);
	session_params_default(&sp);
	config_peer_session(c, &c->peers[0], &sp);
	ck_assert_int_eq(sp.crypt, CRYPT_NULL);
	ck_assert_uint_eq(sp.udp_mtu, 1420 - SEC_OVERHEAD);
	ck_assert_uint_eq(sp.fec_data, 10);
	/* what the session computes from them is what the TUN was given */
	ck_assert_int_eq(session_mss(sp.udp_mtu, sp.crypt, true), config_mss(c));
	config_free(c);
	/* compat mode: the cipher's overhead, the whole UDPMTU */
	c = parse_ok(HEAD "Crypt = aes-128-gcm\nUDPMTU = 1420\n[Peer]\nAllowedIPs = 10.0.0.2/32\n");
	ck_assert_int_eq(config_mss(c), 1420 - 28 - 8 - 24);
	config_peer_session(c, &c->peers[0], &sp);
	ck_assert_int_eq(sp.crypt, CRYPT_AES_128_GCM);
	ck_assert_uint_eq(sp.udp_mtu, 1420);
	config_free(c);
}
END_TEST

START_TEST(config_public_keys_unique_naming_both_lines)
{
	/* the second and third copies are both reported, each with the first */
	expect_errors(SECURE_HEAD
		      "[Peer]\nName = a\nPublicKey = " BOB_PUB "\nAllowedIPs = 10.0.0.2/32\n"
		      "[Peer]\nName = b\nPublicKey = " CAROL_PUB "\nAllowedIPs = 10.0.0.3/32\n"
		      "[Peer]\nName = c\nPublicKey = " BOB_PUB "\nAllowedIPs = 10.0.0.4/32\n"
		      "[Peer]\nName = d\nAllowedIPs = 10.0.0.5/32\nPublicKey = " BOB_PUB "\n",
		      "14: PublicKey: peer c has the same key as peer a (line 6); each [Peer] is "
		      "another key\n"
		      "19: PublicKey: peer d has the same key as peer a (line 6); each [Peer] is "
		      "another key\n");
}
END_TEST

/* Private and pre-shared keys, even mistyped, never reach a message or config_print(). */
START_TEST(config_secrets_never_in_messages_or_print)
{
	static const char *const bad[] = {
	    "[Interface]\nPrivateKey = " ALICE_PRIV "x\n",
	    "[Interface]\nPrivateKey " ALICE_PRIV "\n",
	    "[Interface]\nPrivateKey: " ALICE_PRIV "\n",
	    "[Interface]\nprivatekey" ALICE_PRIV "\n",
	    "[Interface]\n" ALICE_PRIV "\n",
	    "[Interface]\nmy key: " ALICE_PRIV "\n",
	    "[Interface]\nPrivateKey = " ALICE_PRIV "\n[Peer]\nPrivateKey = " ALICE_PRIV "\n",
	    "PrivateKey = " ALICE_PRIV "\n",
	    "[Peer]\nPresharedKey = " ALICE_PRIV " # two\n",
	    "[Peer]\nPresharedKey " ALICE_PRIV "\n",
	    "[Interface]\nMode = compat\nPrivateKey = " ALICE_PRIV "\n",
	};
	struct config *c;
	char *errs, *printed;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errs = parse_err(bad[i], strlen(bad[i]));
		/* nor any long part of it */
		ck_assert_msg(strstr(errs, "dwdtCnMYpX08") == NULL &&
				  strstr(errs, "R25LCo") == NULL,
			      "case %zu shows the key:\n%s", i, errs);
		free(errs);
	}
	expect_errors(
	    "[Interface]\nPrivateKey " ALICE_PRIV "\n[Peer]\nPresharedKey: " PSK "\n",
	    "1: PrivateKey: secure mode needs PrivateKey or PrivateKeyFile (kcpctl genkey "
	    "makes one)\n"
	    "2: PrivateKey... (the rest is not shown): unknown key in [Interface]\n"
	    "3: AllowedIPs: peer peer1 has none; every [Peer] needs at least one\n"
	    "3: Endpoint: peer peer1 has none, and with ListenPort = none every peer "
	    "needs one\n"
	    "3: PublicKey: peer peer1 has none; in secure mode every [Peer] needs one\n"
	    "4: expected [Section] or Key = value, got a line starting with "
	    "\"PresharedKey\" (not shown)\n");
	expect_errors(SECURE_HEAD "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n"
				  "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo\n"
				  "[Peer]\nPublicKey = " BOB_PUB "\nAllowedIPs = 10.0.0.2/32\n",
		      "4: (not shown: it looks like a base64 key): unknown key in [Interface]\n"
		      "5: expected [Section] or Key = value, got a line that looks like a base64 "
		      "key (not shown)\n");

	c = parse_ok(SECURE_HEAD "[Peer]\nPublicKey = " BOB_PUB "\nPresharedKey = " PSK "\n"
				 "AllowedIPs = 10.0.0.2/32\n");
	printed = print_config(c);
	ck_assert_ptr_null(strstr(printed, ALICE_PRIV));
	ck_assert_ptr_null(strstr(printed, PSK));
	ck_assert_ptr_nonnull(strstr(printed, "\nPrivateKey = (set)\n"));
	ck_assert_ptr_nonnull(strstr(printed, "\nPresharedKey = (set)\n"));
	ck_assert_ptr_nonnull(strstr(printed, "\nPublicKey = " BOB_PUB "\n"));
	free(printed);
	config_free(c);
}
END_TEST

START_TEST(config_print_secure_parses_back)
{
	assert_round_trip("[Interface]\nName = kcp9\nMode = secure\nListenPort = 4000\n"
			  "Address = 10.9.0.1/24\nPrivateKey = " ALICE_PRIV "\n"
			  "Cipher = aes-256-gcm\nObfuscate = yes\nUDPMTU = 1452\nFEC = 10:3\n"
			  "[Peer]\nName = a\nPublicKey = " BOB_PUB "\nPresharedKey = " PSK "\n"
			  "AllowedIPs = 10.9.0.2/32\n"
			  "[Peer]\nName = b\nPublicKey = " CAROL_PUB "\nAllowedIPs = 10.9.0.3/32\n"
			  "PresharedKeyFile = psk/b.psk\nFEC = off\n"
			  "[Peer]\nName = c\nPublicKey = " BOB_PRIV "\nPresharedKey = " CAROL_PUB
			  "\n"
			  "AllowedIPs = 10.9.0.4/32\n");
}
END_TEST

/* ---- config_load and KeyFile ---- */

static char tmpdir[64];

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	static const char *const names[] = {"kcp0.conf", "kcp0.key", "abs.conf", "big.conf",
					    "lab.psk"};
	char path[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
}

static int load(const char *name, struct config **c, char **errs)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return config_load(path, c, errs);
}

/* The group of the account kcpvpnd runs as without User: kcpvpn's, else nobody's. */
static const char *default_group(void)
{
	const struct passwd *pw = getpwnam(CONFIG_USER_DEFAULT);
	const struct group *gr;

	if (pw == NULL)
		pw = getpwnam(CONFIG_USER_FALLBACK);
	ck_assert_ptr_nonnull(pw);
	gr = getgrgid(pw->pw_gid);
	ck_assert_ptr_nonnull(gr);
	return gr->gr_name;
}

START_TEST(config_keyfile_0600_accepted_0644_refused)
{
	struct config *c = NULL;
	char *errs = NULL, want[512];

	write_file("kcp0.conf",
		   "[Interface]\nKeyFile = kcp0.key\nMode = compat\n[Peer]\nAllowedIPs = ::/0\n"
		   "Endpoint = [::1]:4000\n",
		   0644);
	write_file("kcp0.key", "s3cret passphrase\r\nsecond line ignored\n", 0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), 0);
	ck_assert_str_eq(c->key, "s3cret passphrase");
	ck_assert_str_eq(c->key_file, "kcp0.key");
	config_free(c);

	write_file("kcp0.key", "s3cret passphrase\n", 0644);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want),
		 "%s/kcp0.conf:2: KeyFile: %s/kcp0.key is open to group or others (mode 0644); "
		 "chmod 600 it, or 640 with group %s (the daemon's)\n",
		 tmpdir, tmpdir, default_group());
	ck_assert_str_eq(errs, want);
	free(errs);

	write_file("kcp0.key", "s3cret passphrase\n", 0640);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	free(errs);

	write_file("kcp0.key", "\nsecond line\n", 0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/kcp0.conf:2: KeyFile: the first line of %s/kcp0.key is empty\n", tmpdir,
		 tmpdir);
	ck_assert_str_eq(errs, want);
	free(errs);

	unlink(strcat(strcpy(want, tmpdir), "/kcp0.key"));
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/kcp0.conf:2: KeyFile: cannot read %s/kcp0.key: No such file or directory\n",
		 tmpdir, tmpdir);
	ck_assert_str_eq(errs, want);
	free(errs);
}
END_TEST

START_TEST(config_keyfile_absolute_path_used_as_is)
{
	struct config *c = NULL;
	char *errs = NULL, text[256];

	write_file("kcp0.key", "abs key", 0400);
	snprintf(
	    text, sizeof(text),
	    "[Interface]\nKeyFile = %s/kcp0.key\nMode = compat\n[Peer]\nAllowedIPs = 10.0.0.0/8\n"
	    "Endpoint = h.example:1\n",
	    tmpdir);
	write_file("abs.conf", text, 0600);
	ck_assert_int_eq(load("abs.conf", &c, &errs), 0);
	ck_assert_str_eq(c->key, "abs key");
	ck_assert_str_eq(c->ifname, "abs");
	config_free(c);
}
END_TEST

/* A KeyFile the daemon's group may read is accepted (SIGHUP reads it again after the
 * privilege drop); one another group may read, or the group may write, is not. */
START_TEST(config_keyfile_readable_by_the_daemons_group_only)
{
	const struct group *gr = getgrgid(getegid());
	struct config *c = NULL;
	char *errs = NULL, text[256], want[512];

	ck_assert_ptr_nonnull(gr);
	snprintf(text, sizeof(text),
		 "[Interface]\nKeyFile = kcp0.key\nUser = nobody\nGroup = %s\nMode = compat\n"
		 "[Peer]\nAllowedIPs = 10.0.0.0/8\nEndpoint = h.example:1\n",
		 gr->gr_name);
	write_file("kcp0.conf", text, 0640);
	write_file("kcp0.key", "group key\n", 0640);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), 0);
	ck_assert_str_eq(c->key, "group key");
	ck_assert_uint_eq(c->gid, getegid());
	config_free(c);

	write_file("kcp0.key", "group key\n", 0660);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	free(errs);
	write_file("kcp0.key", "group key\n", 0604);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	free(errs);

	/* the key's group is not the daemon's */
	write_file("kcp0.conf",
		   "[Interface]\nKeyFile = kcp0.key\nUser = nobody\nMode = compat\n"
		   "[Peer]\nAllowedIPs = 10.0.0.0/8\nEndpoint = h.example:1\n",
		   0640);
	write_file("kcp0.key", "group key\n", 0640);
	if (getpwnam("nobody")->pw_gid != getegid()) {
		ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
		snprintf(want, sizeof(want),
			 "%s/kcp0.conf:2: KeyFile: %s/kcp0.key is open to group or others (mode "
			 "0640); chmod 600 it, or 640 with group %s (the daemon's)\n",
			 tmpdir, tmpdir, getgrgid(getpwnam("nobody")->pw_gid)->gr_name);
		ck_assert_str_eq(errs, want);
		free(errs);
	}
}
END_TEST

/* No User: kcpvpn when the account exists, else nobody; Group: the user's primary group. */
START_TEST(config_user_defaults_to_kcpvpn_else_nobody)
{
	const struct passwd *pw = getpwnam(CONFIG_USER_DEFAULT);
	bool fallback = pw == NULL;
	struct config *c = NULL;
	char *errs = NULL, *printed;
	uid_t uid;
	gid_t gid;

	if (fallback)
		pw = getpwnam(CONFIG_USER_FALLBACK);
	ck_assert_ptr_nonnull(pw);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	write_file(
	    "kcp0.conf",
	    "[Interface]\nKey = k\nListenPort = 4000\nMode = compat\n[Peer]\nAllowedIPs = ::/0\n",
	    0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), 0);
	ck_assert(c->ids_resolved);
	ck_assert_int_eq(c->user_fallback, fallback);
	ck_assert_str_eq(c->user, fallback ? CONFIG_USER_FALLBACK : CONFIG_USER_DEFAULT);
	ck_assert_int_eq(c->user_line, 0);
	ck_assert_uint_eq(c->uid, uid);
	ck_assert_uint_eq(c->gid, gid);
	ck_assert_str_eq(c->group, default_group());
	/* kcpvpnd -n -v shows them */
	printed = print_config(c);
	ck_assert_ptr_nonnull(strstr(printed, fallback ? "\nUser = nobody\n" : "\nUser = kcpvpn\n"));
	free(printed);
	config_free(c);
}
END_TEST

START_TEST(config_user_root_and_group_resolve_to_their_ids)
{
	struct config *c = NULL;
	char *errs = NULL;

	write_file("kcp0.conf",
		   "[Interface]\nKey = k\nListenPort = 4000\nUser = root\nMode = compat\n[Peer]\n"
		   "AllowedIPs = ::/0\n",
		   0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), 0);
	ck_assert_uint_eq(c->uid, 0);
	ck_assert_uint_eq(c->gid, 0);
	ck_assert_int_eq(c->user_line, 4);
	ck_assert(!c->user_fallback);
	config_free(c);

	write_file(
	    "kcp0.conf",
	    "[Interface]\nKey = k\nListenPort = 4000\nUser = nobody\nGroup = root\nMode = compat\n"
	    "[Peer]\nAllowedIPs = ::/0\n",
	    0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), 0);
	ck_assert_uint_eq(c->uid, getpwnam("nobody")->pw_uid);
	ck_assert_uint_eq(c->gid, 0);
	ck_assert_str_eq(c->group, "root");
	config_free(c);
}
END_TEST

/* An account that does not exist: file, line and key, both errors in one pass. */
START_TEST(config_unknown_user_and_group_name_file_line_and_key)
{
	struct config *c = NULL;
	char *errs = NULL, want[512];

	write_file("kcp0.conf",
		   "[Interface]\nKey = k\nListenPort = 4000\nUser = no-such-user-kcp\n"
		   "Group = no-such-group-kcp\nMode = compat\n[Peer]\nAllowedIPs = ::/0\n",
		   0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want),
		 "%s/kcp0.conf:4: User: no user \"no-such-user-kcp\" on this system\n"
		 "%s/kcp0.conf:5: Group: no group \"no-such-group-kcp\" on this system\n",
		 tmpdir, tmpdir);
	ck_assert_str_eq(errs, want);
	free(errs);

	/* parsing alone looks nothing up (the fuzzer calls it) */
	ck_assert_ptr_nonnull(
	    c = parse_ok("[Interface]\nMode = compat\nKey = k\nListenPort = 4000\n"
			 "User = no-such-user-kcp\n[Peer]\nAllowedIPs = ::/0\n"));
	ck_assert(!c->ids_resolved);
	config_free(c);
}
END_TEST

/* PrivateKeyFile and PresharedKeyFile are read as KeyFile is: the first line, relative to the
 * config, the same permission rule; then no peer may hold our own public key. */
START_TEST(config_key_files_read_like_keyfile_and_checked)
{
	static const char conf[] = "[Interface]\nPrivateKeyFile = kcp0.key\nListenPort = 4000\n"
				   "[Peer]\nName = lab\nPublicKey = " BOB_PUB "\n"
				   "PresharedKeyFile = lab.psk\nAllowedIPs = ::/0\n";
	uint8_t key[CONFIG_KEY_LEN];
	struct config *c = NULL;
	char *errs = NULL, *printed, want[1024];

	write_file("kcp0.conf", conf, 0600);
	write_file("kcp0.key", ALICE_PRIV "\n", 0600);
	write_file("lab.psk", PSK "\r\n", 0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), 0);
	ck_assert(c->has_private_key);
	b64_key(ALICE_PRIV, key);
	ck_assert_mem_eq(c->private_key, key, CONFIG_KEY_LEN);
	ck_assert(c->peers[0].has_psk);
	b64_key(PSK, key);
	ck_assert_mem_eq(c->peers[0].psk, key, CONFIG_KEY_LEN);
	printed = print_config(c);
	ck_assert_ptr_nonnull(strstr(printed, "\nPrivateKeyFile = kcp0.key\n"));
	ck_assert_ptr_nonnull(strstr(printed, "\nPresharedKeyFile = lab.psk\n"));
	ck_assert_ptr_null(strstr(printed, ALICE_PRIV));
	ck_assert_ptr_null(strstr(printed, PSK));
	free(printed);
	config_free(c);

	/* every file's error in one pass; what a file holds is never shown */
	write_file("kcp0.key", ALICE_PRIV "\n", 0644);
	write_file("lab.psk", "hunter2hunter2\n", 0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want),
		 "%s/kcp0.conf:2: PrivateKeyFile: %s/kcp0.key is open to group or others (mode "
		 "0644); chmod 600 it, or 640 with group %s (the daemon's)\n"
		 "%s/kcp0.conf:7: PresharedKeyFile: the first line of %s/lab.psk is not a "
		 "44-character base64 key (kcpctl genpsk), got 14 characters (value hidden)\n",
		 tmpdir, tmpdir, default_group(), tmpdir, tmpdir);
	ck_assert_str_eq(errs, want);
	free(errs);
	write_file("kcp0.key", "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo\n", 0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	ck_assert_ptr_null(strstr(errs, "dwdtCnMY"));
	ck_assert_ptr_null(strstr(errs, "hunter2"));
	free(errs);

	/* the file holds the private key of the peer's PublicKey: our own */
	write_file("kcp0.key", ALICE_PRIV "\n", 0600);
	write_file("lab.psk", PSK "\n", 0600);
	write_file("kcp0.conf",
		   "[Interface]\nPrivateKeyFile = kcp0.key\nListenPort = 4000\n"
		   "[Peer]\nName = lab\nPublicKey = " ALICE_PUB "\nAllowedIPs = ::/0\n",
		   0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/kcp0.conf:6: PublicKey: peer lab has this interface's own public key (of the "
		 "PrivateKeyFile at line 2); a [Peer] takes the public key of the other side\n",
		 tmpdir);
	ck_assert_str_eq(errs, want);
	free(errs);

	unlink(strcat(strcpy(want, tmpdir), "/kcp0.key"));
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/kcp0.conf:2: PrivateKeyFile: cannot read %s/kcp0.key: No such file or "
		 "directory\n",
		 tmpdir, tmpdir);
	ck_assert_str_eq(errs, want);
	free(errs);
}
END_TEST

START_TEST(config_load_names_the_path_on_io_errors)
{
	struct config *c = NULL;
	char *errs = NULL, want[1024];

	ck_assert_int_eq(load("missing.conf", &c, &errs), -ENOENT);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "%s/missing.conf: cannot read: No such file or directory\n",
		 tmpdir);
	ck_assert_str_eq(errs, want);
	free(errs);
	ck_assert_int_eq(config_load(tmpdir, &c, &errs), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file\n", tmpdir);
	ck_assert_str_eq(errs, want);
	free(errs);
	/* errors of the file itself come back as from config_parse() */
	write_file("kcp0.conf", "[Interface]\nMode = secret\nListenPort = 0\n", 0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/kcp0.conf:1: [Peer]: none (a config needs at least one [Peer] section)\n"
		 "%s/kcp0.conf:2: Mode: expected secure or compat, got \"secret\"\n"
		 "%s/kcp0.conf:3: ListenPort: expected a port 1..65535 or none, got \"0\"\n",
		 tmpdir, tmpdir, tmpdir);
	ck_assert_str_eq(errs, want);
	free(errs);
}
END_TEST

/* ---- the man page ---- */

START_TEST(config_man_page_documents_every_key)
{
	char *page = read_top("man/kcpvpnd.conf.5");
	char want[64];

	for (const char *const *k = config_keys(); *k != NULL; k++) {
		snprintf(want, sizeof(want), "\n.It Cm %s ", *k);
		ck_assert_msg(strstr(page, want) != NULL, "man/kcpvpnd.conf.5 has no \".It Cm %s\"",
			      *k);
	}
	ck_assert_ptr_nonnull(strstr(page, "\n.Sh EXAMPLES\n"));
	ck_assert_ptr_nonnull(strstr(page, "\n.Sh FILES\n"));
	free(page);
}
END_TEST

/* The configs in the page's EXAMPLES parse (KeyFile is not read by config_parse()). */
START_TEST(config_man_page_examples_parse)
{
	static const char start[] = ".Bd -literal -offset indent\n[Interface]\n";
	char *page = read_top("man/kcpvpnd.conf.5");
	const char *s = page;
	unsigned n = 0;

	while ((s = strstr(s, start)) != NULL) {
		const char *b = s + sizeof(start) - 1 - strlen("[Interface]\n");
		const char *e = strstr(b, "\n.Ed\n");
		char *text;
		struct config *c;

		ck_assert_ptr_nonnull(e);
		text = strndup(b, (size_t)(e - b) + 1);
		c = parse_ok(text);
		ck_assert_uint_ge(c->npeers, 1);
		config_free(c);
		free(text);
		s = e;
		n++;
	}
	ck_assert_uint_eq(n, 5);
	free(page);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");
	TCase *tf = tcase_create("load");

	tcase_add_test(tc, config_examples_parse);
	tcase_add_loop_test(tc, config_key_accepts_good_value, 0,
			    sizeof(good_values) / sizeof(good_values[0]));
	tcase_add_loop_test(tc, config_key_refuses_bad_value_with_exact_message, 0,
			    sizeof(bad_values) / sizeof(bad_values[0]));
	tcase_add_loop_test(tc, config_secure_key_accepts_good_value, 0,
			    sizeof(secure_good_values) / sizeof(secure_good_values[0]));
	tcase_add_loop_test(tc, config_secure_key_refuses_bad_value_with_exact_message, 0,
			    sizeof(secure_bad_values) / sizeof(secure_bad_values[0]));
	tcase_add_test(tc, config_every_key_has_a_tested_value);
	tcase_add_test(tc, config_reports_all_errors_in_one_pass_in_line_order);
	tcase_add_test(tc, config_syntax_comments_case_and_sections);
	tcase_add_test(tc, config_syntax_errors_name_the_line);
	tcase_add_test(tc, config_long_lines_and_nul_bytes_are_errors);
	tcase_add_test(tc, config_key_outside_sections_and_missing_sections);
	tcase_add_test(tc, config_errors_beyond_the_cap_are_counted);
	tcase_add_test(tc, config_overlapping_allowedips_refused_naming_both);
	tcase_add_test(tc, config_disjoint_and_same_peer_nested_allowedips_accepted);
	tcase_add_test(tc, config_profile_manual_requires_the_four_knobs);
	tcase_add_test(tc, config_mtu_checked_against_overheads);
	tcase_add_test(tc, config_listenport_none_requires_endpoints);
	tcase_add_test(tc, config_peer_overrides_inherit_interface);
	tcase_add_test(tc, config_rate_parse_takes_what_ratelimit_takes);
	tcase_add_test(tc, config_defaults_filled_in);
	tcase_add_test(tc, config_name_defaults_to_the_file_name);
	tcase_add_test(tc, config_full_tunnel_gets_a_fwmark);
	tcase_add_test(tc, config_key_optional_only_without_cipher);
	tcase_add_test(tc, config_peer_names_are_unique);
	tcase_add_test(tc, config_peer_same_tells_what_shapes_a_session);
	tcase_add_test(tc, config_peer_same_compares_the_secure_settings);
	tcase_add_test(tc, config_print_hides_the_key_and_parses_back);
	tcase_add_test(tc, config_mode_defaults_to_secure);
	tcase_add_test(tc, config_secure_session_has_no_crypt_and_32_bytes_less);
	tcase_add_test(tc, config_public_keys_unique_naming_both_lines);
	tcase_add_test(tc, config_secrets_never_in_messages_or_print);
	tcase_add_test(tc, config_print_secure_parses_back);
	tcase_add_test(tc, config_man_page_documents_every_key);
	tcase_add_test(tc, config_man_page_examples_parse);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tf, tmp_setup, tmp_teardown);
	tcase_add_test(tf, config_keyfile_0600_accepted_0644_refused);
	tcase_add_test(tf, config_keyfile_absolute_path_used_as_is);
	tcase_add_test(tf, config_load_names_the_path_on_io_errors);
	tcase_add_test(tf, config_key_files_read_like_keyfile_and_checked);
	tcase_add_test(tf, config_keyfile_readable_by_the_daemons_group_only);
	tcase_add_test(tf, config_user_defaults_to_kcpvpn_else_nobody);
	tcase_add_test(tf, config_user_root_and_group_resolve_to_their_ids);
	tcase_add_test(tf, config_unknown_user_and_group_name_file_line_and_key);
	suite_add_tcase(s, tf);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
