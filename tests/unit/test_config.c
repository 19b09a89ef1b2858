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
#include "kcpcore/session.h"

#define FILE_NAME "/etc/kcpvpnd/kcp0.conf"
/* Three lines of [Interface] that need nothing else: a key, and a port so peers may lack an
 * Endpoint. */
#define HEAD "[Interface]\nKey = k\nListenPort = 4000\n"

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

/* Parses text, prints it, parses the print: the two configs are equal, and printing the
 * second gives the same text. */
static void assert_round_trip(const char *text)
{
	struct config *a = parse_ok(text), *b;
	char *pa = print_config(a), *pb;

	b = parse_ok(pa);
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
	struct config *s = parse_ok(server), *c = parse_ok(client);

	ck_assert_str_eq(s->ifname, "kcp0");
	ck_assert(s->listen);
	ck_assert_uint_eq(s->listen_port, 4000);
	ck_assert_uint_eq(s->naddrs, 2);
	ck_assert_str_eq(s->key_file, "/etc/kcpvpnd/kcp0.key");
	ck_assert_uint_eq(s->npeers, 2);
	ck_assert_str_eq(s->peers[0].name, "office");
	ck_assert_uint_eq(s->peers[0].nallowed, 3);
	ck_assert_uint_eq(s->peers[0].fec_data, 10);
	ck_assert_uint_eq(s->peers[1].fec_data, 0);
	ck_assert_str_eq(s->peers[1].profile, "fast2");
	ck_assert_uint_eq(s->peers[1].rate_bps, 50000000);
	ck_assert(!s->full_tunnel);

	ck_assert(!c->listen);
	ck_assert_str_eq(c->key, "correct horse battery staple");
	ck_assert_uint_eq(c->npeers, 1);
	ck_assert_str_eq(c->peers[0].endpoint, "vpn.example.net:4000");
	ck_assert_uint_eq(c->peers[0].keepalive_s, 10);
	ck_assert_str_eq(c->control_socket, "/run/kcpvpnd/kcp0.sock");
	config_free(s);
	config_free(c);
	assert_round_trip(server);
	assert_round_trip(client);
	free(server);
	free(client);
}
END_TEST

/* ---- every key, table driven ---- */

/* Template: line 2 and 3 of [Interface], line 6 of the [Peer]:
 *   1 [Interface]
 *   2 <iface>
 *   3 <iface2, default "Key = secret">
 *   4 [Peer]
 *   5 AllowedIPs = 10.0.0.2/32
 *   6 <peer, default a comment>
 *   7 Endpoint = 192.0.2.1:4000, unless <peer> sets one */
static char *key_config(const char *iface, const char *iface2, const char *peer)
{
	char *s = NULL;

	ck_assert_int_ge(
	    asprintf(&s, "[Interface]\n%s\n%s\n[Peer]\nAllowedIPs = 10.0.0.2/32\n%s\n%s\n",
		     iface ? iface : "# -", iface2 ? iface2 : "Key = secret", peer ? peer : "# -",
		     peer && strstr(peer, "Endpoint") ? "# -" : "Endpoint = 192.0.2.1:4000"),
	    0);
	return s;
}

/* A good value and a line config_print() writes for it. */
/* clang-format off */
static const struct {
	const char *iface, *iface2, *peer, *printed;
} good_values[] = {
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
/* clang-format on */

START_TEST(config_key_accepts_good_value)
{
	char *text =
	    key_config(good_values[_i].iface, good_values[_i].iface2, good_values[_i].peer);
	struct config *c = parse_ok(text);
	char *printed = print_config(c), want[256];

	snprintf(want, sizeof(want), "\n%s\n", good_values[_i].printed);
	ck_assert_msg(strstr(printed, want) != NULL, "\"%s\" not in the print of\n%s---\n%s",
		      good_values[_i].printed, text, printed);
	config_free(c);
	assert_round_trip(text);
	free(printed);
	free(text);
}
END_TEST

/* A bad value and the whole message it gets. */
/* clang-format off */
static const struct {
	const char *iface, *iface2, *peer, *msg;
} bad_values[] = {
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
	{"Mode = secure", NULL, NULL, "2: Mode: secure mode is not implemented yet"},
	{"Mode = fast", NULL, NULL, "2: Mode: expected compat, got \"fast\""},
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
	 "6: Name: expected a peer name of 1 to 32 characters from A-Z a-z 0-9 _ . -, got "
	 "\"lab one\""},
	{NULL, NULL, "Name = abcdefghijklmnopqrstuvwxyz0123456",
	 "6: Name: expected a peer name of 1 to 32 characters from A-Z a-z 0-9 _ . -, got "
	 "\"abcdefghijklmnopqrstuvwxyz0123456\""},
	{"ListenPort = 4000", NULL, "Endpoint = 198.51.100.7",
	 "6: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"198.51.100.7\""},
	{"ListenPort = 4000", NULL, "Endpoint = 2001:db8::7:4000",
	 "6: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"2001:db8::7:4000\""},
	{"ListenPort = 4000", NULL, "Endpoint = [2001:db8::7]",
	 "6: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"[2001:db8::7]\""},
	{"ListenPort = 4000", NULL, "Endpoint = 300.1.2.3:4000",
	 "6: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"300.1.2.3:4000\""},
	{"ListenPort = 4000", NULL, "Endpoint = host:0",
	 "6: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"host:0\""},
	{"ListenPort = 4000", NULL, "Endpoint = -bad.example:4000",
	 "6: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"-bad.example:4000\""},
	{"ListenPort = 4000", NULL, "Endpoint = a..b:4000",
	 "6: Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port 1..65535, got "
	 "\"a..b:4000\""},
	{NULL, NULL, "AllowedIPs = 10.1.0.1/16",
	 "6: AllowedIPs: \"10.1.0.1/16\" has host bits set (the network is 10.1.0.0/16)"},
	{NULL, NULL, "AllowedIPs = fd00:9::1/64",
	 "6: AllowedIPs: \"fd00:9::1/64\" has host bits set (the network is fd00:9::/64)"},
	{NULL, NULL, "AllowedIPs = fd00:9::/64 10.1.0.0/16",
	 "6: AllowedIPs: expected ADDRESS/PREFIX (IPv4 or IPv6), got \"fd00:9::/64 10.1.0.0/16\""},
	{NULL, NULL, "AllowedIPs = 10.0.0.2/32",
	 "6: AllowedIPs: 10.0.0.2/32 of peer peer1 is listed twice (also at line 5)"},
	{NULL, NULL, "PersistentKeepalive = 3601",
	 "6: PersistentKeepalive: expected seconds 0..3600 (0 = off), got \"3601\""},
	{NULL, NULL, "FEC = 0:0", "6: FEC: expected DATA:PARITY with DATA+PARITY <= 255, got \"0:0\""},
	{NULL, NULL, "SndWnd = 99999", "6: SndWnd: expected segments 1..32768, got \"99999\""},
	{NULL, NULL, "Interval = 20", "6: Interval: only with Profile = manual (Profile is fast3)"},
	{"Profile = fast", NULL, "NoCongestion = no",
	 "6: NoCongestion: only with Profile = manual (Profile is fast)"},
	{NULL, NULL, "ListenPort = 4000",
	 "6: ListenPort: not allowed in [Peer]; it belongs in [Interface]"},
	{"Endpoint = 192.0.2.1:4000", NULL, NULL,
	 "2: Endpoint: not allowed in [Interface]; it belongs in [Peer]"},
	{"FEC = 10:3\nfec = 4:2", NULL, NULL, "3: FEC: set twice in one section (first at line 2)"},
	{"Key = other", NULL, NULL, "3: Key: set twice in one section (first at line 2)"},
	{"Key = other", "KeyFile = /k", NULL, "3: KeyFile: Key and KeyFile are both set (lines 2 and "
					      "3); use one"},
	{"Crypt = aes-128", "# no key", NULL, "2: Key: Crypt = aes-128 needs Key or KeyFile"},
	{"Frobnicate = 1", NULL, NULL, "2: Frobnicate: unknown key in [Interface]"},
	{NULL, NULL, "Frobnicate = 1", "6: Frobnicate: unknown key in [Peer]"},
};
/* clang-format on */

START_TEST(config_key_refuses_bad_value_with_exact_message)
{
	char *text = key_config(bad_values[_i].iface, bad_values[_i].iface2, bad_values[_i].peer);
	char want[512];

	snprintf(want, sizeof(want), "%s\n", bad_values[_i].msg);
	expect_errors(text, want);
	free(text);
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
		      "5: AllowedIPs: peer peer1 has none; every [Peer] needs at least "
		      "one\n"
		      "5: Endpoint: peer peer1 has none, and with ListenPort = none every "
		      "peer needs one\n"
		      "6: AllowedIPs: \"10.0.0.1/8\" has host bits set (the network is "
		      "10.0.0.0/8)\n"
		      "7: FEC: expected DATA:PARITY with DATA+PARITY <= 255, got "
		      "\"10:300\"\n"
		      "8: Endpoint: peer peer1 has none, and with ListenPort = none every "
		      "peer needs one\n"
		      "9: Name: \"peer1\" is also the name of the [Peer] at line 5\n"
		      "11: [Nonsense]: unknown section (expected [Interface] or [Peer])\n");
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
	ck_assert_int_eq(c->peers[0].line, 8);
	ck_assert_str_eq(c->peers[1].name, "peer2");
	ck_assert_int_eq(c->peers[1].line, 10);
	ck_assert_int_eq(c->peers[1].allowed[0].line, 11);
	config_free(c);
}
END_TEST

START_TEST(config_syntax_errors_name_the_line)
{
	expect_errors("[Interface]\n"
		      "Key = k\n"
		      "ListenPort 4000\n"
		      "Key super secret\n"
		      "= 3\n"
		      "Name: kcp0\n"
		      "[Peer\n"
		      "AllowedIPs = 10.0.0.2/32\n",
		      "1: [Peer]: none (a config needs at least one [Peer] section)\n"
		      "3: expected [Section] or Key = value, got \"ListenPort 4000\"\n"
		      "4: expected [Section] or Key = value, got a line starting with "
		      "\"Key\" (not shown)\n"
		      "5: expected [Section] or Key = value, got \"= 3\"\n"
		      "6: expected [Section] or Key = value, got \"Name: kcp0\"\n"
		      "7: expected [Interface] or [Peer], got \"[Peer\"\n");
}
END_TEST

START_TEST(config_long_lines_and_nul_bytes_are_errors)
{
	static const char nul[] = "[Interface]\nKey = k\x00x\nListenPort = 1\n"
				  "[Peer]\nAllowedIPs = 10.0.0.2/32\n";
	char key[200], text[400];
	struct config *c;

	/* "Key = " and 191 characters make 197: the longest line */
	memset(key, 'x', 191);
	key[191] = '\0';
	snprintf(text, sizeof(text),
		 "[Interface]\nListenPort = 1\nKey = %s\n[Peer]\nAllowedIPs = 10.0.0.2/32\n", key);
	c = parse_ok(text);
	ck_assert_uint_eq(strlen(c->key), 191);
	config_free(c);
	snprintf(text, sizeof(text),
		 "[Interface]\nListenPort = 1\nKey = %sx\n[Peer]\nAllowedIPs = 10.0.0.2/32\n", key);
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
		      "4: [Interface]: a second [Interface] section (the first is at line "
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
	ck_assert_ptr_nonnull(strstr(errs, FILE_NAME ":4: Bogus0: unknown key in [Interface]\n"));
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
		      "9: AllowedIPs: 10.9.0.0/24 of peer b overlaps 10.9.0.2/32 of peer "
		      "a at line 6\n");
	/* v4 equal */
	expect_errors(HEAD "[Peer]\nName = a\nAllowedIPs = 192.168.1.0/24\n"
			   "[Peer]\nName = b\nAllowedIPs = 10.0.0.0/8, 192.168.1.0/24\n",
		      "9: AllowedIPs: 192.168.1.0/24 of peer b overlaps 192.168.1.0/24 of "
		      "peer a at line 6\n");
	/* v6 nested, the inner one later */
	expect_errors(HEAD "[Peer]\nName = a\nAllowedIPs = fd00::/8\n"
			   "[Peer]\nName = b\nAllowedIPs = fd00:9::2/128\n",
		      "9: AllowedIPs: fd00:9::2/128 of peer b overlaps fd00::/8 of peer a "
		      "at line 6\n");
	/* v6 equal, and a full tunnel overlapping everything of its family */
	expect_errors(HEAD "[Peer]\nName = a\nAllowedIPs = fd00:9::/64, 0.0.0.0/0\n"
			   "[Peer]\nName = b\nAllowedIPs = fd00:9::/64\nAllowedIPs = 10.1.0.0/16\n",
		      "9: AllowedIPs: fd00:9::/64 of peer b overlaps fd00:9::/64 of peer a "
		      "at line 6\n"
		      "10: AllowedIPs: 10.1.0.0/16 of peer b overlaps 0.0.0.0/0 of peer a "
		      "at line 6\n");
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
		      "7: AllowedIPs: 10.9.0.0/16 of peer peer2 overlaps 10.9.0.0/25 of "
		      "peer peer1 at line 5\n");
}
END_TEST

START_TEST(config_profile_manual_requires_the_four_knobs)
{
	struct config *c;

	expect_errors(HEAD "Profile = manual\nInterval = 20\n"
			   "[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "4: Profile: manual needs NoDelay, Interval, Resend and NoCongestion "
		      "in the same section; missing NoDelay, Resend, NoCongestion\n");
	expect_errors(HEAD "[Peer]\nAllowedIPs = 10.0.0.2/32\nProfile = manual\nNoDelay = 1\n",
		      "6: Profile: manual needs NoDelay, Interval, Resend and NoCongestion "
		      "in the same section; missing Interval, Resend, NoCongestion\n");
	expect_errors(HEAD "Resend = 3\n[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "4: Resend: only with Profile = manual (Profile is fast3)\n");
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
	c = parse_ok("[Interface]\nCrypt = null\nUDPMTU = 1500\nListenPort = 1\n"
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
		      "5: MTU: expected at most 1340 (UDPMTU 1400 minus 60 bytes of "
		      "aes-128-gcm, FEC and KCP headers), got \"1341\"\n");
	/* the overheads leave too little: IPv4 needs 576, IPv6 1280 */
	expect_errors(HEAD "UDPMTU = 627\n[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "4: UDPMTU: 627 leaves IP packets at most 575 bytes after 52 bytes of "
		      "aes, FEC and KCP headers; the TUN needs 576\n");
	expect_errors(HEAD "Address = 10.9.0.1/24, fd00::1/64\nUDPMTU = 1300\n"
			   "[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "5: UDPMTU: 1300 leaves IP packets at most 1248 bytes after 52 bytes "
		      "of aes, FEC and KCP headers; the TUN needs 1280 with an IPv6 Address "
		      "(line 4)\n");
	expect_errors(HEAD "Address = fd00::1/64\nMTU = 1200\n"
			   "[Peer]\nAllowedIPs = 10.0.0.2/32\n",
		      "5: MTU: expected at least 1280 with an IPv6 Address (line 4), got "
		      "\"1200\"\n");
}
END_TEST

START_TEST(config_listenport_none_requires_endpoints)
{
	struct config *c;

	expect_errors("[Interface]\nKey = k\n"
		      "[Peer]\nName = hub\nAllowedIPs = 10.0.0.0/24\nEndpoint = hub.example:4000\n"
		      "[Peer]\nName = lab\nAllowedIPs = 10.1.0.0/24\n",
		      "7: Endpoint: peer lab has none, and with ListenPort = none every "
		      "peer needs one\n");
	c = parse_ok("[Interface]\nKey = k\nListenPort = 4000\n"
		     "[Peer]\nName = lab\nAllowedIPs = 10.1.0.0/24\n");
	ck_assert_ptr_null(c->peers[0].endpoint);
	ck_assert_uint_eq(c->peers[0].keepalive_s, 0);
	config_free(c);
}
END_TEST

START_TEST(config_peer_overrides_inherit_interface)
{
	struct config *c =
	    parse_ok("[Interface]\nKey = k\nListenPort = 4000\nFEC = 10:3\n"
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
	assert_round_trip("[Interface]\nKey = k\nListenPort = 4000\nFEC = 10:3\n"
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
	struct config *c = parse_ok("[Interface]\nKey = k\n[Peer]\nEndpoint = 192.0.2.1:4000\n"
				    "AllowedIPs = 10.0.0.0/24\n");

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
	ck_assert_uint_eq(c->kcp.snd_wnd, 1024);
	ck_assert_uint_eq(c->kcp.rcv_wnd, 1024);
	ck_assert_uint_eq(c->socket_buffer_bytes, 4 << 20);
	ck_assert_str_eq(c->control_socket, "/run/kcpvpnd/kcp0.sock");
	ck_assert_int_eq(c->log_level, CONFIG_LOG_INFO);
	ck_assert_uint_eq(c->fwmark, 0);
	ck_assert_int_eq(c->table, CONFIG_TABLE_AUTO);
	ck_assert_str_eq(c->peers[0].name, "peer1");
	ck_assert_int_eq(c->peers[0].endpoint_line, 4);
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
	struct config *c = parse_ok("[Interface]\nKey = k\n[Peer]\nEndpoint = 192.0.2.1:4000\n"
				    "AllowedIPs = 0.0.0.0/0, ::/0\n");

	ck_assert(c->full_tunnel);
	ck_assert_uint_eq(c->fwmark, CONFIG_FWMARK_DEFAULT);
	config_free(c);
	c = parse_ok("[Interface]\nKey = k\nFwMark = 0x51820\n[Peer]\n"
		     "Endpoint = 192.0.2.1:4000\nAllowedIPs = ::/0\n");
	ck_assert(c->full_tunnel);
	ck_assert_uint_eq(c->fwmark, 0x51820);
	config_free(c);
	c = parse_ok("[Interface]\nKey = k\nFwMark = 0\nTable = off\n[Peer]\n"
		     "Endpoint = 192.0.2.1:4000\nAllowedIPs = ::/0\n");
	ck_assert_uint_eq(c->fwmark, 0);
	config_free(c);
	expect_errors("[Interface]\nKey = k\nFwMark = 0\n[Peer]\nEndpoint = 192.0.2.1:4000\n"
		      "AllowedIPs = 0.0.0.0/0\n",
		      "3: FwMark: a full tunnel (a peer holds a /0) with Table = auto "
		      "needs a mark, got \"0\"\n");
	assert_round_trip("[Interface]\nKey = k\n[Peer]\nEndpoint = 192.0.2.1:4000\n"
			  "AllowedIPs = 0.0.0.0/0, ::/0\n");
}
END_TEST

START_TEST(config_key_optional_only_without_cipher)
{
	struct config *c = parse_ok("[Interface]\nCrypt = none\n[Peer]\nAllowedIPs = 10.0.0.2/32\n"
				    "Endpoint = 192.0.2.1:4000\n");

	ck_assert_ptr_null(c->key);
	ck_assert_ptr_null(c->key_file);
	ck_assert_int_eq(c->key_line, 0);
	config_free(c);
	expect_errors("[Interface]\n[Peer]\nAllowedIPs = 10.0.0.2/32\nEndpoint = 192.0.2.1:4000\n",
		      "1: Key: Crypt = aes needs Key or KeyFile\n");
}
END_TEST

START_TEST(config_peer_names_are_unique)
{
	expect_errors(HEAD "[Peer]\nName = lab\nAllowedIPs = 10.0.0.2/32\n"
			   "[Peer]\nName = lab\nAllowedIPs = 10.0.0.3/32\n",
		      "8: Name: \"lab\" is also the name of the [Peer] at line 4\n");
	/* a default name counts */
	expect_errors(HEAD "[Peer]\nAllowedIPs = 10.0.0.2/32\n"
			   "[Peer]\nName = peer1\nAllowedIPs = 10.0.0.3/32\n",
		      "7: Name: \"peer1\" is also the name of the [Peer] at line 4\n");
}
END_TEST

START_TEST(config_peer_same_tells_what_shapes_a_session)
{
	static const char base[] = "[Interface]\nKey = k\nListenPort = 4000\n"
				   "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n";
	static const struct {
		const char *text;
		bool same;
	} cases[] = {
	    {"[Interface]\nKey = k\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32, 10.5.0.0/16\nRateLimit = 1M\n"
	     "PersistentKeepalive = 25\n",
	     true},
	    {"[Interface]\nKey = k\nListenPort = 4001\nLogLevel = debug\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n",
	     true},
	    {"[Interface]\nKey = other\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n",
	     false},
	    {"[Interface]\nKey = k\nCrypt = salsa20\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n",
	     false},
	    {"[Interface]\nKey = k\nUDPMTU = 1300\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\n",
	     false},
	    {"[Interface]\nKey = k\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\nFEC = 10:3\n",
	     false},
	    {"[Interface]\nKey = k\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\nProfile = fast\n",
	     false},
	    {"[Interface]\nKey = k\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\nRcvWnd = 100\n",
	     false},
	    {"[Interface]\nKey = k\nListenPort = 4000\n"
	     "[Peer]\nName = a\nAllowedIPs = 10.0.0.2/32\nEndpoint = 192.0.2.9:4000\n",
	     false},
	};
	struct config *a = parse_ok(base);

	ck_assert(config_peer_same(a, &a->peers[0], a, &a->peers[0]));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config *b = parse_ok(cases[i].text);

		ck_assert_msg(config_peer_same(a, &a->peers[0], b, &b->peers[0]) == cases[i].same,
			      "case %zu", i);
		ck_assert_msg(config_peer_same(b, &b->peers[0], a, &a->peers[0]) == cases[i].same,
			      "case %zu reversed", i);
		config_free(b);
	}
	config_free(a);
}
END_TEST

START_TEST(config_print_hides_the_key_and_parses_back)
{
	static const char text[] =
	    "[Interface]\nName = kcp9\nListenPort = 4000\nAddress = 10.9.0.1/24, fd00:9::1/64\n"
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
	static const char *const names[] = {"kcp0.conf", "kcp0.key", "abs.conf", "big.conf"};
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
		   "[Interface]\nKeyFile = kcp0.key\n[Peer]\nAllowedIPs = ::/0\n"
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
	snprintf(text, sizeof(text),
		 "[Interface]\nKeyFile = %s/kcp0.key\n[Peer]\nAllowedIPs = 10.0.0.0/8\n"
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
		 "[Interface]\nKeyFile = kcp0.key\nUser = nobody\nGroup = %s\n"
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
		   "[Interface]\nKeyFile = kcp0.key\nUser = nobody\n"
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
	write_file("kcp0.conf", "[Interface]\nKey = k\nListenPort = 4000\n[Peer]\nAllowedIPs = ::/0\n",
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
		   "[Interface]\nKey = k\nListenPort = 4000\nUser = root\n[Peer]\nAllowedIPs = ::/0\n",
		   0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), 0);
	ck_assert_uint_eq(c->uid, 0);
	ck_assert_uint_eq(c->gid, 0);
	ck_assert_int_eq(c->user_line, 4);
	ck_assert(!c->user_fallback);
	config_free(c);

	write_file("kcp0.conf",
		   "[Interface]\nKey = k\nListenPort = 4000\nUser = nobody\nGroup = root\n"
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
		   "Group = no-such-group-kcp\n[Peer]\nAllowedIPs = ::/0\n",
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
	ck_assert_ptr_nonnull(c = parse_ok("[Interface]\nKey = k\nListenPort = 4000\n"
					   "User = no-such-user-kcp\n[Peer]\nAllowedIPs = ::/0\n"));
	ck_assert(!c->ids_resolved);
	config_free(c);
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
	write_file("kcp0.conf", "[Interface]\nMode = secure\n", 0600);
	ck_assert_int_eq(load("kcp0.conf", &c, &errs), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/kcp0.conf:1: [Peer]: none (a config needs at least one [Peer] section)\n"
		 "%s/kcp0.conf:1: Key: Crypt = aes needs Key or KeyFile\n"
		 "%s/kcp0.conf:2: Mode: secure mode is not implemented yet\n",
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
	ck_assert_uint_eq(n, 4);
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
	tcase_add_test(tc, config_print_hides_the_key_and_parses_back);
	tcase_add_test(tc, config_man_page_documents_every_key);
	tcase_add_test(tc, config_man_page_examples_parse);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tf, tmp_setup, tmp_teardown);
	tcase_add_test(tf, config_keyfile_0600_accepted_0644_refused);
	tcase_add_test(tf, config_keyfile_absolute_path_used_as_is);
	tcase_add_test(tf, config_load_names_the_path_on_io_errors);
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
