/* kcpvpnd.conf(5): libinih splits the INI syntax; everything else is checked here.
 *
 * inih is fed through a line reader over the buffer. The reader counts lines (so every message
 * has one), strips comments and leading blanks (no continuation lines), notices section headers
 * (so two [Peer] sections in a row stay two peers), and checks each line's shape itself, so
 * inih only ever sees well-formed lines and never stops at the first error. Keys are checked
 * as they arrive; what depends on several keys (Mode, Profile = manual, MTU, AllowedIPs
 * overlap, Key or KeyFile, the secure mode's keys) once the whole file is read. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "kcpcore/keys.h"
#include "kcpcore/secure.h"
#include "kcpcore/session.h"

#define CONFIG_LINE_MAX	     197	   /* libinih's 200-byte line buffer, minus \r\n\0 */
#define CONFIG_ERRORS_MAX    100	   /* more are counted, not listed */
#define CONFIG_FILE_MAX	     (1024 * 1024) /* config_load() refuses larger files */
#define CONFIG_KEYFILE_MAX   4096	   /* bytes of a KeyFile read to find its first line */
#define CONFIG_WND_MAX	     32768	   /* libkcpcore's window bound */
#define CONFIG_WND_DEFAULT   2048 /* 50 ms at 400 Mbit/s (DESIGN-NOTES: "windows") */
#define CONFIG_UDPMTU_MIN    576
#define CONFIG_UDPMTU_MAX    1500 /* kcp-go refuses more */
#define CONFIG_MTU_MIN_V4    576
#define CONFIG_MTU_MIN_V6    1280
#define CONFIG_KEEPALIVE_DEF 10
#define CONFIG_KEEPALIVE_MAX 3600
#define CONFIG_RESEND_MAX    65535
#define CONFIG_RATE_MAX	     1000000000000ull /* 1000G bits/s */
#define CONFIG_SOCKBUF_MIN   (64u << 10)
#define CONFIG_SOCKBUF_MAX   (256u << 20)
#define CONFIG_SOCKBUF_DEF   (4u << 20)
#define CONFIG_PROFILE_DEF   "fast3"
#define CONFIG_MANUAL	     "manual"
#define CONFIG_SOCKET_DIR    "/run/kcpvpnd"
#define CONFIG_ACCOUNT_MAX   32 /* bytes of a User or Group name (useradd's limit) */

enum config_key {
	K_NAME,
	K_MODE,
	K_LISTENPORT,
	K_ADDRESS,
	K_MTU,
	K_UDPMTU,
	K_CRYPT,
	K_KEY,
	K_KEYFILE,
	K_PRIVATEKEY,
	K_PRIVATEKEYFILE,
	K_CIPHER,
	K_OBFUSCATE,
	K_FEC,
	K_PROFILE,
	K_NODELAY,
	K_INTERVAL,
	K_RESEND,
	K_NOCONGESTION,
	K_SNDWND,
	K_RCVWND,
	K_RATELIMIT,
	K_DSCP,
	K_SOCKETBUFFER,
	K_CONTROLSOCKET,
	K_LOGLEVEL,
	K_FWMARK,
	K_TABLE,
	K_USER,
	K_GROUP,
	K_PUBLICKEY,
	K_PRESHAREDKEY,
	K_PRESHAREDKEYFILE,
	K_ENDPOINT,
	K_ALLOWEDIPS,
	K_KEEPALIVE,
	K_COUNT
};

/* clang-format off */
static const char *const config_key_names[K_COUNT + 1] = {
	[K_NAME] = "Name",
	[K_MODE] = "Mode",
	[K_LISTENPORT] = "ListenPort",
	[K_ADDRESS] = "Address",
	[K_MTU] = "MTU",
	[K_UDPMTU] = "UDPMTU",
	[K_CRYPT] = "Crypt",
	[K_KEY] = "Key",
	[K_KEYFILE] = "KeyFile",
	[K_PRIVATEKEY] = "PrivateKey",
	[K_PRIVATEKEYFILE] = "PrivateKeyFile",
	[K_CIPHER] = "Cipher",
	[K_OBFUSCATE] = "Obfuscate",
	[K_FEC] = "FEC",
	[K_PROFILE] = "Profile",
	[K_NODELAY] = "NoDelay",
	[K_INTERVAL] = "Interval",
	[K_RESEND] = "Resend",
	[K_NOCONGESTION] = "NoCongestion",
	[K_SNDWND] = "SndWnd",
	[K_RCVWND] = "RcvWnd",
	[K_RATELIMIT] = "RateLimit",
	[K_DSCP] = "DSCP",
	[K_SOCKETBUFFER] = "SocketBuffer",
	[K_CONTROLSOCKET] = "ControlSocket",
	[K_LOGLEVEL] = "LogLevel",
	[K_FWMARK] = "FwMark",
	[K_TABLE] = "Table",
	[K_USER] = "User",
	[K_GROUP] = "Group",
	[K_PUBLICKEY] = "PublicKey",
	[K_PRESHAREDKEY] = "PresharedKey",
	[K_PRESHAREDKEYFILE] = "PresharedKeyFile",
	[K_ENDPOINT] = "Endpoint",
	[K_ALLOWEDIPS] = "AllowedIPs",
	[K_KEEPALIVE] = "PersistentKeepalive",
	[K_COUNT] = NULL,
};
/* clang-format on */

_Static_assert(CONFIG_KEY_LEN == KC_KEY_LEN && CONFIG_KEY_LEN == SEC_KEY_LEN,
	       "config keys are the keys of kcpcore/keys.h and kcpcore/secure.h");

/* Keys of one mode only (checked once Mode is known: it may come last). */
static const enum config_key config_compat_keys[] = {K_CRYPT, K_KEY, K_KEYFILE};
/* clang-format off */
static const enum config_key config_secure_keys[] = {
	K_PRIVATEKEY, K_PRIVATEKEYFILE, K_CIPHER, K_OBFUSCATE,
	K_PUBLICKEY, K_PRESHAREDKEY, K_PRESHAREDKEYFILE,
};
/* clang-format on */

/* Keys whose values are secret: never quoted in a message, printed as "(set)". */
static const enum config_key config_secret_keys[] = {K_KEY, K_PRIVATEKEY, K_PRESHAREDKEY};

/* Cipher, by enum sec_aead. */
/* clang-format off */
static const char *const config_cipher_names[] = {
	[SEC_AEAD_CHACHAPOLY] = "chacha20-poly1305",
	[SEC_AEAD_AES256GCM] = "aes-256-gcm",
};
/* clang-format on */

const char *config_cipher_name(const struct config *c)
{
	return c->aead < sizeof(config_cipher_names) / sizeof(config_cipher_names[0])
		   ? config_cipher_names[c->aead]
		   : "?";
}

/* The four knobs Profile = manual asks for. */
static const enum config_key config_knobs[] = {K_NODELAY, K_INTERVAL, K_RESEND, K_NOCONGESTION};

/* clang-format off */
static const char *const config_profiles[] = {"normal", "fast", "fast2", "fast3", "default",
					      CONFIG_MANUAL};
/* clang-format on */

/* clang-format off */
static const char *const config_log_names[] = {
	[CONFIG_LOG_ERROR] = "error",
	[CONFIG_LOG_WARNING] = "warning",
	[CONFIG_LOG_NOTICE] = "notice",
	[CONFIG_LOG_INFO] = "info",
	[CONFIG_LOG_DEBUG] = "debug",
};
/* clang-format on */

/* Settings [Interface] gives and a [Peer] may override, as written (seen[] says which). */
struct config_tune {
	unsigned fec_data, fec_parity;
	const char *profile;
	unsigned nodelay, interval_ms, resend;
	bool nc;
	unsigned snd_wnd, rcv_wnd;
	uint64_t rate_bps;
};

/* One section while parsing: the line each key was first set at (0 = unset), and which
 * values were refused (so whole-file checks do not pile more errors on them). */
struct config_section {
	int line;
	int seen[K_COUNT];
	bool bad[K_COUNT];
	struct config_tune t;
};

enum config_where { SEC_NONE, SEC_INTERFACE, SEC_PEER, SEC_IGNORED };

struct config_error {
	int line;
	unsigned seq;
	char *text;
};

struct config_parser {
	const char *file;
	const char *buf;
	size_t len, pos;
	int lineno;
	enum config_where where;
	struct config *c;
	struct config_section iface;
	struct config_section *psec; /* parallel to c->peers */
	size_t peers_cap;
	size_t addrs_cap;
	size_t *allowed_cap; /* parallel to c->peers */
	enum config_key key; /* the key being handled */
	struct config_error *errs;
	size_t nerrs, errs_cap;
	unsigned dropped;
	bool nomem;
};

/* ---- messages ---- */

struct config_quoted {
	char s[88];
};

/* `v` (n bytes) in double quotes (or bare), non-printable bytes as \xNN, long values cut
 * with "...". */
static struct config_quoted config_escape(const char *v, size_t n, bool quotes)
{
	struct config_quoted q;
	size_t o = 0, i;

	if (quotes)
		q.s[o++] = '"';
	for (i = 0; i < n && o + 9 < sizeof(q.s); i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch == '"' || ch == '\\') {
			q.s[o++] = '\\';
			q.s[o++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			o += (size_t)snprintf(q.s + o, 5, "\\x%02x", ch);
		} else {
			q.s[o++] = (char)ch;
		}
	}
	if (i < n) {
		memcpy(q.s + o, "...", 3);
		o += 3;
	}
	if (quotes)
		q.s[o++] = '"';
	q.s[o] = '\0';
	return q;
}

static struct config_quoted config_quoten(const char *v, size_t n)
{
	return config_escape(v, n, true);
}

static struct config_quoted config_quote(const char *v)
{
	return config_escape(v, strlen(v), true);
}

/* A text of n bytes that may carry a secret and is never quoted: it starts with the name of a
 * secret key (not its "File" twin), whose name is returned, or holds 43 base64 characters in a
 * row (a key; "" is returned). NULL for any other text. A mistyped line ("PrivateKey abc=")
 * reaches messages as a line or as a key name. */
static const char *config_secret_text(const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < sizeof(config_secret_keys) / sizeof(config_secret_keys[0]); i++) {
		const char *name = config_key_names[config_secret_keys[i]];
		size_t k = strlen(name);

		if (n >= k && strncasecmp(s, name, k) == 0 &&
		    !(n >= k + 4 && strncasecmp(s + k, "file", 4) == 0))
			return name;
	}
	for (size_t i = 0; i < n && run < 43; i++) {
		unsigned char ch = (unsigned char)s[i];

		run = (isalnum(ch) && ch < 0x80) || ch == '+' || ch == '/' ? run + 1 : 0;
	}
	return run == 43 ? "" : NULL;
}

/* Key name `name` as messages about it show it (see config_secret_text()). */
static struct config_quoted config_name_shown(const char *name)
{
	size_t n = strlen(name);
	const char *secret = config_secret_text(name, n);
	struct config_quoted q;

	if (secret == NULL || strcasecmp(name, secret) == 0)
		return config_escape(name, n, false);
	if (*secret != '\0')
		snprintf(q.s, sizeof(q.s), "%s... (the rest is not shown)", secret);
	else
		snprintf(q.s, sizeof(q.s), "(not shown: it looks like a base64 key)");
	return q;
}

/* Records "file:line: " + the formatted message. */
static void config_error_at(struct config_parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void config_error_at(struct config_parser *p, int line, const char *fmt, ...)
{
	struct config_error *e;
	char msg[512];
	va_list ap;
	int n;

	if (p->nerrs == CONFIG_ERRORS_MAX) {
		p->dropped++;
		return;
	}
	if (p->nerrs == p->errs_cap) {
		size_t cap = p->errs_cap ? 2 * p->errs_cap : 8;

		e = realloc(p->errs, cap * sizeof(*e));
		if (e == NULL) {
			p->nomem = true;
			return;
		}
		p->errs = e;
		p->errs_cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = &p->errs[p->nerrs];
	n = asprintf(&e->text, "%s:%d: %s\n", p->file, line, msg);
	if (n < 0) {
		p->nomem = true;
		return;
	}
	e->line = line;
	e->seq = (unsigned)p->nerrs;
	p->nerrs++;
}

/* An error about the value of the key being handled, on the current line. */
#define config_bad(p, ...) config_error_at(p, (p)->lineno, __VA_ARGS__)

static int config_error_cmp(const void *a, const void *b)
{
	const struct config_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The collected messages as one malloc'ed string, in line order; NULL when out of memory. */
static char *config_error_text(struct config_parser *p)
{
	size_t total = 1, o = 0;
	char *s;

	qsort(p->errs, p->nerrs, sizeof(*p->errs), config_error_cmp);
	for (size_t i = 0; i < p->nerrs; i++)
		total += strlen(p->errs[i].text);
	total += strlen(p->file) + 64;
	s = malloc(total);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < p->nerrs; i++) {
		size_t n = strlen(p->errs[i].text);

		memcpy(s + o, p->errs[i].text, n);
		o += n;
	}
	if (p->dropped > 0)
		o += (size_t)snprintf(s + o, total - o, "%s: %u more errors not shown\n", p->file,
				      p->dropped);
	s[o] = '\0';
	return s;
}

/* ---- values ---- */

/* Decimal (or with hex_ok, 0x hex) without sign or blanks, at most max. */
static bool config_num(const char *s, uint64_t max, bool hex_ok, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (hex_ok && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return false;
		if (v > max / base || d > max - v * base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static bool config_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t v;

	if (!config_num(s, hi, false, &v) || v < lo)
		return false;
	*out = (unsigned)v;
	return true;
}

/* A number with an optional k, M or G suffix worth `unit`, unit^2, unit^3; at most max. */
static bool config_scaled(const char *s, uint64_t unit, uint64_t max, uint64_t *out)
{
	char digits[24];
	size_t n = strlen(s);
	uint64_t mult = 1, v;

	if (n == 0 || n >= sizeof(digits))
		return false;
	switch (s[n - 1]) {
	case 'k':
	case 'K':
		mult = unit;
		break;
	case 'm':
	case 'M':
		mult = unit * unit;
		break;
	case 'g':
	case 'G':
		mult = unit * unit * unit;
		break;
	}
	if (mult > 1)
		n--;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (!config_num(digits, max / mult, false, &v))
		return false;
	*out = v * mult;
	return true;
}

static bool config_word(const char *v, const char *const *words, size_t n, size_t *idx)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(v, words[i]) == 0) {
			*idx = i;
			return true;
		}
	}
	return false;
}

static bool config_bool(const char *v, bool *out)
{
	static const char *const words[] = {"no", "yes", "false", "true", "off", "on", "0", "1"};
	size_t i;

	if (!config_word(v, words, sizeof(words) / sizeof(words[0]), &i))
		return false;
	*out = i % 2 == 1;
	return true;
}

/* One of `ok` (plus letters and digits), 1..max characters, not "." or "..". */
static bool config_name_ok(const char *v, size_t max, const char *ok)
{
	size_t n = strlen(v);

	if (n == 0 || n > max || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) || (unsigned char)v[i] >= 0x80)
			if (strchr(ok, v[i]) == NULL)
				return false;
	return true;
}

/* "addr" or "addr/cidr", IPv4 or IPv6; without /cidr a host prefix. */
static bool config_prefix_parse(const char *s, size_t n, struct config_prefix *out)
{
	char text[INET6_ADDRSTRLEN + 8];
	const char *slash;
	uint64_t cidr;
	unsigned max;

	if (n == 0 || n >= sizeof(text))
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	memset(out, 0, sizeof(*out));
	slash = strchr(text, '/');
	if (slash != NULL)
		text[slash - text] = '\0';
	if (inet_pton(AF_INET, text, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, text, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	cidr = max;
	if (slash != NULL && !config_num(slash + 1, max, false, &cidr))
		return false;
	out->cidr = (uint8_t)cidr;
	return true;
}

/* Clears the host bits of pr into net; true when there were none. */
static bool config_prefix_net(const struct config_prefix *pr, struct config_prefix *net)
{
	*net = *pr;
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = pr->cidr > 8 * i ? pr->cidr - 8 * i : 0;
		uint8_t mask = keep >= 8 ? 0xff : (uint8_t)(0xff00 >> keep);

		net->addr[i] = (uint8_t)(pr->addr[i] & mask);
	}
	return memcmp(net->addr, pr->addr, 16) == 0;
}

/* "addr/cidr" into buf. */
static const char *config_prefix_str(const struct config_prefix *pr, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(pr->family, pr->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, pr->cidr);
	return buf;
}

/* Appends pr to the array *arr of *n entries (capacity *cap). */
static bool config_prefix_push(struct config_parser *p, struct config_prefix **arr, size_t *n,
			       size_t *cap, const struct config_prefix *pr)
{
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 4;
		struct config_prefix *a = realloc(*arr, ncap * sizeof(**arr));

		if (a == NULL) {
			p->nomem = true;
			return false;
		}
		*arr = a;
		*cap = ncap;
	}
	(*arr)[(*n)++] = *pr;
	return true;
}

/* A DNS name: labels of letters, digits and '-' (not at either end), 1..63 each, 253 in all. */
static bool config_hostname_ok(const char *h, size_t n)
{
	size_t label = 0;
	bool digits_dots = true;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)h[i];

		if (ch == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!(isalnum(ch) && ch < 0x80) && ch != '-')
			return false;
		if (ch == '-' && label == 0)
			return false;
		if (!isdigit(ch))
			digits_dots = false;
		if (++label > 63)
			return false;
	}
	/* "300.1.2.3" is a mistyped address, not a name to look up */
	return label > 0 && h[n - 1] != '-' && !digits_dots;
}

/* host:port, [IPv6]:port or name:port with port 1..65535. */
static bool config_endpoint_ok(const char *v)
{
	const char *colon;
	char host[256];
	uint64_t port;
	size_t n;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		struct in6_addr a6;

		if (close == NULL || close[1] != ':')
			return false;
		n = (size_t)(close - v - 1);
		if (n == 0 || n >= sizeof(host))
			return false;
		memcpy(host, v + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return false;
		colon = close + 1;
	} else {
		struct in_addr a4;

		colon = strrchr(v, ':');
		if (colon == NULL || memchr(v, ':', (size_t)(colon - v)) != NULL)
			return false;
		n = (size_t)(colon - v);
		if (n == 0 || n >= sizeof(host))
			return false;
		memcpy(host, v, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, &a4) != 1 && !config_hostname_ok(host, n))
			return false;
	}
	return config_num(colon + 1, 65535, false, &port) && port >= 1;
}

/* ---- keys ---- */

static struct config_section *config_cur(struct config_parser *p)
{
	return p->where == SEC_PEER ? &p->psec[p->c->npeers - 1] : &p->iface;
}

static struct config_peer *config_cur_peer(struct config_parser *p)
{
	return &p->c->peers[p->c->npeers - 1];
}

static char *config_strdup(struct config_parser *p, const char *v)
{
	char *s = strdup(v);

	if (s == NULL)
		p->nomem = true;
	return s;
}

static void config_key_name(struct config_parser *p, const char *v)
{
	if (p->where == SEC_INTERFACE) {
		if (!config_name_ok(v, CONFIG_IFNAME_MAX, "_=+.-")) {
			config_bad(p,
				   "Name: expected an interface name of 1 to 15 characters from "
				   "A-Z a-z 0-9 _ = + . -, got %s",
				   config_quote(v).s);
			return;
		}
		snprintf(p->c->ifname, sizeof(p->c->ifname), "%s", v);
		return;
	}
	if (!config_name_ok(v, CONFIG_PEER_NAME_MAX, "_.-")) {
		config_bad(
		    p,
		    "Name: expected a peer name of 1 to 32 characters from A-Z a-z 0-9 _ . -, "
		    "got %s",
		    config_quote(v).s);
		return;
	}
	snprintf(config_cur_peer(p)->name, sizeof(config_cur_peer(p)->name), "%s", v);
}

static void config_key_mode(struct config_parser *p, const char *v)
{
	if (strcasecmp(v, "secure") == 0)
		p->c->mode = CONFIG_MODE_SECURE;
	else if (strcasecmp(v, "compat") == 0)
		p->c->mode = CONFIG_MODE_COMPAT;
	else
		config_bad(p, "Mode: expected secure or compat, got %s", config_quote(v).s);
}

static void config_key_listenport(struct config_parser *p, const char *v)
{
	unsigned port;

	if (strcasecmp(v, "none") == 0) {
		p->c->listen = false;
	} else if (config_uint(v, 1, 65535, &port)) {
		p->c->listen = true;
		p->c->listen_port = (uint16_t)port;
	} else {
		config_bad(p, "ListenPort: expected a port 1..65535 or none, got %s",
			   config_quote(v).s);
	}
}

/* Calls fn for each comma-separated item of v; an empty item is an error. */
static void config_list(struct config_parser *p, const char *v,
			void (*fn)(struct config_parser *p, const char *item, size_t n))
{
	const char *s = v;

	for (;;) {
		const char *e = strchr(s, ',');
		const char *end = e != NULL ? e : s + strlen(s);
		const char *b = s;

		while (b < end && isblank((unsigned char)*b))
			b++;
		while (end > b && isblank((unsigned char)end[-1]))
			end--;
		if (end == b)
			config_bad(p, "%s: empty item in the list %s", config_key_names[p->key],
				   config_quote(v).s);
		else
			fn(p, b, (size_t)(end - b));
		if (e == NULL)
			break;
		s = e + 1;
	}
}

static void config_address_item(struct config_parser *p, const char *s, size_t n)
{
	struct config *c = p->c;
	struct config_prefix pr;

	if (!config_prefix_parse(s, n, &pr)) {
		config_bad(p, "Address: expected ADDRESS/PREFIX (IPv4 or IPv6), got %s",
			   config_quoten(s, n).s);
		return;
	}
	pr.line = p->lineno;
	for (size_t i = 0; i < c->naddrs; i++) {
		if (c->addrs[i].family == pr.family && c->addrs[i].cidr == pr.cidr &&
		    memcmp(c->addrs[i].addr, pr.addr, 16) == 0) {
			config_bad(p, "Address: %s is listed twice (also at line %d)",
				   config_quoten(s, n).s, c->addrs[i].line);
			return;
		}
	}
	config_prefix_push(p, &c->addrs, &c->naddrs, &p->addrs_cap, &pr);
}

static void config_key_address(struct config_parser *p, const char *v)
{
	config_list(p, v, config_address_item);
}

static void config_key_mtu(struct config_parser *p, const char *v)
{
	if (strcasecmp(v, "auto") == 0)
		p->c->mtu = 0;
	else if (!config_uint(v, CONFIG_MTU_MIN_V4, 65535, &p->c->mtu))
		config_bad(p, "MTU: expected auto or a number 576..65535, got %s",
			   config_quote(v).s);
}

static void config_key_udpmtu(struct config_parser *p, const char *v)
{
	if (!config_uint(v, CONFIG_UDPMTU_MIN, CONFIG_UDPMTU_MAX, &p->c->udp_mtu))
		config_bad(p, "UDPMTU: expected a number 576..1500, got %s", config_quote(v).s);
}

static void config_key_crypt(struct config_parser *p, const char *v)
{
	const char *why = "unknown cipher name";
	char lower[32];
	size_t n = strlen(v);

	if (n < sizeof(lower)) {
		for (size_t i = 0; i <= n; i++)
			lower[i] = (char)tolower((unsigned char)v[i]);
		if (crypt_method_parse(lower, &p->c->crypt, &why) == 0)
			return;
	}
	config_bad(p, "Crypt: %s, got %s", why, config_quote(v).s);
}

static void config_key_key(struct config_parser *p, const char *v)
{
	if (*v == '\0') {
		config_bad(p, "Key: expected a passphrase, got an empty value");
		return;
	}
	p->c->key = config_strdup(p, v);
	p->c->key_line = p->lineno;
}

/* KeyFile, PrivateKeyFile, PresharedKeyFile: a path (config_load() reads the file). */
static void config_file_key(struct config_parser *p, const char *v, const char *holding,
			    char **path, int *line)
{
	if (*v == '\0') {
		config_bad(p, "%s: expected the path of a file holding %s, got %s",
			   config_key_names[p->key], holding, config_quote(v).s);
		return;
	}
	*path = config_strdup(p, v);
	*line = p->lineno;
}

static void config_key_keyfile(struct config_parser *p, const char *v)
{
	config_file_key(p, v, "the passphrase", &p->c->key_file, &p->c->key_line);
}

/* The command that makes the key of PrivateKey[File], PublicKey or PresharedKey[File]. */
static const char *config_key_maker(enum config_key k)
{
	if (k == K_PUBLICKEY)
		return "kcpctl genkey / kcpctl pubkey";
	return k == K_PRESHAREDKEY || k == K_PRESHAREDKEYFILE ? "kcpctl genpsk" : "kcpctl genkey";
}

/* PrivateKey, PublicKey, PresharedKey: a key in base64 into key, *has and *line set; a
 * secret one is never quoted. */
static void config_key_b64(struct config_parser *p, const char *v, bool secret,
			   uint8_t key[CONFIG_KEY_LEN], bool *has, int *line)
{
	const char *name = config_key_names[p->key];
	const char *how = config_key_maker(p->key);

	if (kc_key_from_base64(v, key) == 0) {
		*has = true;
		*line = p->lineno;
		return;
	}
	explicit_bzero(key, CONFIG_KEY_LEN);
	if (secret)
		config_bad(p,
			   "%s: expected a 44-character base64 key (%s), got %zu characters "
			   "(value hidden)",
			   name, how, strlen(v));
	else
		config_bad(p, "%s: expected a 44-character base64 key (%s), got %s", name, how,
			   config_quote(v).s);
}

static void config_key_privatekey(struct config_parser *p, const char *v)
{
	struct config *c = p->c;

	config_key_b64(p, v, true, c->private_key, &c->has_private_key, &c->private_key_line);
}

static void config_key_privatekeyfile(struct config_parser *p, const char *v)
{
	config_file_key(p, v, "the private key", &p->c->private_key_file, &p->c->private_key_line);
}

static void config_key_cipher(struct config_parser *p, const char *v)
{
	size_t i;

	if (!config_word(v, config_cipher_names,
			 sizeof(config_cipher_names) / sizeof(config_cipher_names[0]), &i)) {
		config_bad(p, "Cipher: expected chacha20-poly1305 or aes-256-gcm, got %s",
			   config_quote(v).s);
		return;
	}
	p->c->aead = (unsigned)i;
}

static void config_key_obfuscate(struct config_parser *p, const char *v)
{
	if (!config_bool(v, &p->c->obfuscate))
		config_bad(p, "Obfuscate: expected yes or no, got %s", config_quote(v).s);
}

static void config_key_fec(struct config_parser *p, const char *v)
{
	struct config_tune *t = &config_cur(p)->t;
	const char *colon = strchr(v, ':');
	char data[8];
	unsigned d, par;

	if (strcasecmp(v, "off") == 0) {
		t->fec_data = t->fec_parity = 0;
		return;
	}
	if (colon != NULL && (size_t)(colon - v) < sizeof(data)) {
		memcpy(data, v, (size_t)(colon - v));
		data[colon - v] = '\0';
		if (config_uint(data, 1, 255, &d) && config_uint(colon + 1, 1, 255, &par) &&
		    d + par <= 255) {
			t->fec_data = d;
			t->fec_parity = par;
			return;
		}
	}
	config_bad(p, "FEC: expected DATA:PARITY with DATA+PARITY <= 255, got %s",
		   config_quote(v).s);
}

static void config_key_profile(struct config_parser *p, const char *v)
{
	size_t i;

	if (!config_word(v, config_profiles, sizeof(config_profiles) / sizeof(config_profiles[0]),
			 &i)) {
		config_bad(
		    p, "Profile: expected normal, fast, fast2, fast3, default or manual, got %s",
		    config_quote(v).s);
		return;
	}
	config_cur(p)->t.profile = config_profiles[i];
}

static void config_key_nodelay(struct config_parser *p, const char *v)
{
	if (!config_uint(v, 0, 1, &config_cur(p)->t.nodelay))
		config_bad(p, "NoDelay: expected 0 or 1, got %s", config_quote(v).s);
}

static void config_key_interval(struct config_parser *p, const char *v)
{
	if (!config_uint(v, 10, 5000, &config_cur(p)->t.interval_ms))
		config_bad(p, "Interval: expected milliseconds 10..5000, got %s",
			   config_quote(v).s);
}

static void config_key_resend(struct config_parser *p, const char *v)
{
	if (!config_uint(v, 0, CONFIG_RESEND_MAX, &config_cur(p)->t.resend))
		config_bad(p, "Resend: expected a count of ACKs 0..65535 (0 = off), got %s",
			   config_quote(v).s);
}

static void config_key_nocongestion(struct config_parser *p, const char *v)
{
	if (!config_bool(v, &config_cur(p)->t.nc))
		config_bad(p, "NoCongestion: expected yes or no, got %s", config_quote(v).s);
}

static void config_key_wnd(struct config_parser *p, const char *v)
{
	struct config_tune *t = &config_cur(p)->t;

	if (!config_uint(v, 1, CONFIG_WND_MAX, p->key == K_SNDWND ? &t->snd_wnd : &t->rcv_wnd))
		config_bad(p, "%s: expected segments 1..32768, got %s", config_key_names[p->key],
			   config_quote(v).s);
}

_Static_assert(CONFIG_RATE_MAX <= KCP_RATE_MAX, "every RateLimit is a rate the engine takes");

bool config_rate_parse(const char *text, uint64_t *rate_bps)
{
	return config_scaled(text, 1000, CONFIG_RATE_MAX, rate_bps);
}

static void config_key_ratelimit(struct config_parser *p, const char *v)
{
	if (!config_rate_parse(v, &config_cur(p)->t.rate_bps))
		config_bad(p, "RateLimit: expected " CONFIG_RATE_SYNTAX ", got %s",
			   config_quote(v).s);
}

static void config_key_dscp(struct config_parser *p, const char *v)
{
	if (!config_uint(v, 0, 63, &p->c->dscp))
		config_bad(p, "DSCP: expected 0..63, got %s", config_quote(v).s);
}

static void config_key_socketbuffer(struct config_parser *p, const char *v)
{
	uint64_t n;

	if (!config_scaled(v, 1024, CONFIG_SOCKBUF_MAX, &n) || n < CONFIG_SOCKBUF_MIN) {
		config_bad(p, "SocketBuffer: expected bytes 64k..256M (k = 1024), got %s",
			   config_quote(v).s);
		return;
	}
	p->c->socket_buffer_bytes = (size_t)n;
}

static void config_key_controlsocket(struct config_parser *p, const char *v)
{
	struct sockaddr_un sun;

	if (v[0] != '/' || strlen(v) >= sizeof(sun.sun_path)) {
		config_bad(p,
			   "ControlSocket: expected an absolute path of at most %zu bytes, got %s",
			   sizeof(sun.sun_path) - 1, config_quote(v).s);
		return;
	}
	free(p->c->control_socket);
	p->c->control_socket = config_strdup(p, v);
}

static void config_key_loglevel(struct config_parser *p, const char *v)
{
	size_t i;

	if (!config_word(v, config_log_names, sizeof(config_log_names) / sizeof(*config_log_names),
			 &i)) {
		config_bad(p, "LogLevel: expected error, warning, notice, info or debug, got %s",
			   config_quote(v).s);
		return;
	}
	p->c->log_level = (enum config_log_level)i;
}

static void config_key_fwmark(struct config_parser *p, const char *v)
{
	uint64_t m;

	if (!config_num(v, UINT32_MAX, true, &m)) {
		config_bad(p, "FwMark: expected a mark 0..0xffffffff, decimal or 0x hex, got %s",
			   config_quote(v).s);
		return;
	}
	p->c->fwmark = (uint32_t)m;
}

static void config_key_table(struct config_parser *p, const char *v)
{
	uint64_t id;

	if (strcasecmp(v, "auto") == 0) {
		p->c->table = CONFIG_TABLE_AUTO;
	} else if (strcasecmp(v, "off") == 0) {
		p->c->table = CONFIG_TABLE_OFF;
	} else if (config_num(v, UINT32_MAX, false, &id) && id != 0 && id != 255) {
		p->c->table = CONFIG_TABLE_NUMBER;
		p->c->table_id = (uint32_t)id;
	} else {
		config_bad(p,
			   "Table: expected auto, off or a table number 1..4294967295 other than "
			   "255 (local), got %s",
			   config_quote(v).s);
	}
}

/* A user or group name as useradd(8) takes it: letters, digits, '.', '_', '-', not first. */
static bool config_account_ok(const char *v)
{
	return v[0] != '-' && config_name_ok(v, CONFIG_ACCOUNT_MAX, "._-");
}

static void config_key_user(struct config_parser *p, const char *v)
{
	if (!config_account_ok(v)) {
		config_bad(p, "User: expected a user name (letters, digits, '.', '_', '-'; at most %d), "
			   "got %s", CONFIG_ACCOUNT_MAX, config_quote(v).s);
		return;
	}
	p->c->user = config_strdup(p, v);
	p->c->user_line = p->lineno;
}

static void config_key_group(struct config_parser *p, const char *v)
{
	if (!config_account_ok(v)) {
		config_bad(p, "Group: expected a group name (letters, digits, '.', '_', '-'; at most "
			   "%d), got %s", CONFIG_ACCOUNT_MAX, config_quote(v).s);
		return;
	}
	p->c->group = config_strdup(p, v);
	p->c->group_line = p->lineno;
}

static void config_key_publickey(struct config_parser *p, const char *v)
{
	struct config_peer *peer = config_cur_peer(p);

	config_key_b64(p, v, false, peer->public_key, &peer->has_public_key,
		       &peer->public_key_line);
}

static void config_key_presharedkey(struct config_parser *p, const char *v)
{
	struct config_peer *peer = config_cur_peer(p);

	config_key_b64(p, v, true, peer->psk, &peer->has_psk, &peer->psk_line);
}

static void config_key_presharedkeyfile(struct config_parser *p, const char *v)
{
	struct config_peer *peer = config_cur_peer(p);

	config_file_key(p, v, "the pre-shared key", &peer->psk_file, &peer->psk_line);
}

static void config_key_endpoint(struct config_parser *p, const char *v)
{
	struct config_peer *peer = config_cur_peer(p);

	if (!config_endpoint_ok(v)) {
		config_bad(p,
			   "Endpoint: expected HOST:PORT, [IPV6]:PORT or NAME:PORT with a port "
			   "1..65535, got %s",
			   config_quote(v).s);
		return;
	}
	peer->endpoint = config_strdup(p, v);
	peer->endpoint_line = p->lineno;
}

static void config_allowed_item(struct config_parser *p, const char *s, size_t n)
{
	struct config_peer *peer = config_cur_peer(p);
	struct config_prefix pr, net;
	char buf[INET6_ADDRSTRLEN + 8];

	if (!config_prefix_parse(s, n, &pr)) {
		config_bad(p, "AllowedIPs: expected ADDRESS/PREFIX (IPv4 or IPv6), got %s",
			   config_quoten(s, n).s);
		return;
	}
	pr.line = p->lineno;
	if (!config_prefix_net(&pr, &net)) {
		config_bad(p, "AllowedIPs: %s has host bits set (the network is %s)",
			   config_quoten(s, n).s, config_prefix_str(&net, buf, sizeof(buf)));
		return;
	}
	config_prefix_push(p, &peer->allowed, &peer->nallowed, &p->allowed_cap[p->c->npeers - 1],
			   &pr);
}

static void config_key_allowedips(struct config_parser *p, const char *v)
{
	config_list(p, v, config_allowed_item);
}

static void config_key_keepalive(struct config_parser *p, const char *v)
{
	if (!config_uint(v, 0, CONFIG_KEEPALIVE_MAX, &config_cur_peer(p)->keepalive_s))
		config_bad(p, "PersistentKeepalive: expected seconds 0..3600 (0 = off), got %s",
			   config_quote(v).s);
}

#define IN_IFACE 1u
#define IN_PEER	 2u
#define IN_BOTH	 (IN_IFACE | IN_PEER)
#define IS_LIST	 4u

/* clang-format off */
static const struct config_key_def {
	unsigned flags;
	void (*fn)(struct config_parser *p, const char *v);
} config_key_defs[K_COUNT] = {
	[K_NAME] = {IN_BOTH, config_key_name},
	[K_MODE] = {IN_IFACE, config_key_mode},
	[K_LISTENPORT] = {IN_IFACE, config_key_listenport},
	[K_ADDRESS] = {IN_IFACE | IS_LIST, config_key_address},
	[K_MTU] = {IN_IFACE, config_key_mtu},
	[K_UDPMTU] = {IN_IFACE, config_key_udpmtu},
	[K_CRYPT] = {IN_IFACE, config_key_crypt},
	[K_KEY] = {IN_IFACE, config_key_key},
	[K_KEYFILE] = {IN_IFACE, config_key_keyfile},
	[K_PRIVATEKEY] = {IN_IFACE, config_key_privatekey},
	[K_PRIVATEKEYFILE] = {IN_IFACE, config_key_privatekeyfile},
	[K_CIPHER] = {IN_IFACE, config_key_cipher},
	[K_OBFUSCATE] = {IN_IFACE, config_key_obfuscate},
	[K_FEC] = {IN_BOTH, config_key_fec},
	[K_PROFILE] = {IN_BOTH, config_key_profile},
	[K_NODELAY] = {IN_BOTH, config_key_nodelay},
	[K_INTERVAL] = {IN_BOTH, config_key_interval},
	[K_RESEND] = {IN_BOTH, config_key_resend},
	[K_NOCONGESTION] = {IN_BOTH, config_key_nocongestion},
	[K_SNDWND] = {IN_BOTH, config_key_wnd},
	[K_RCVWND] = {IN_BOTH, config_key_wnd},
	[K_RATELIMIT] = {IN_BOTH, config_key_ratelimit},
	[K_DSCP] = {IN_IFACE, config_key_dscp},
	[K_SOCKETBUFFER] = {IN_IFACE, config_key_socketbuffer},
	[K_CONTROLSOCKET] = {IN_IFACE, config_key_controlsocket},
	[K_LOGLEVEL] = {IN_IFACE, config_key_loglevel},
	[K_FWMARK] = {IN_IFACE, config_key_fwmark},
	[K_TABLE] = {IN_IFACE, config_key_table},
	[K_USER] = {IN_IFACE, config_key_user},
	[K_GROUP] = {IN_IFACE, config_key_group},
	[K_PUBLICKEY] = {IN_PEER, config_key_publickey},
	[K_PRESHAREDKEY] = {IN_PEER, config_key_presharedkey},
	[K_PRESHAREDKEYFILE] = {IN_PEER, config_key_presharedkeyfile},
	[K_ENDPOINT] = {IN_PEER, config_key_endpoint},
	[K_ALLOWEDIPS] = {IN_PEER | IS_LIST, config_key_allowedips},
	[K_KEEPALIVE] = {IN_PEER, config_key_keepalive},
};
/* clang-format on */

const char *const *config_keys(void)
{
	return config_key_names;
}

/* libinih's handler: one Key = value of a well-formed line (the reader saw to that). */
static int config_on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct config_parser *p = user;
	struct config_section *sec;
	size_t n;
	unsigned i;

	(void)section; /* the reader tracks sections: two [Peer] in a row are two peers */
	if (p->where == SEC_IGNORED)
		return 1;
	for (i = 0; i < K_COUNT; i++)
		if (strcasecmp(name, config_key_names[i]) == 0)
			break;
	if (p->where == SEC_NONE) {
		config_bad(p, "%s: outside any section (put it under [Interface] or [Peer])",
			   config_name_shown(name).s);
		return 1;
	}
	if (i == K_COUNT) {
		config_bad(p, "%s: unknown key in [%s]", config_name_shown(name).s,
			   p->where == SEC_PEER ? "Peer" : "Interface");
		return 1;
	}
	if (!(config_key_defs[i].flags & (p->where == SEC_PEER ? IN_PEER : IN_IFACE))) {
		config_bad(p, "%s: not allowed in [%s]; it belongs in [%s]", config_key_names[i],
			   p->where == SEC_PEER ? "Peer" : "Interface",
			   p->where == SEC_PEER ? "Interface" : "Peer");
		return 1;
	}
	sec = config_cur(p);
	if (sec->seen[i] != 0 && !(config_key_defs[i].flags & IS_LIST)) {
		config_bad(p, "%s: set twice in one section (first at line %d)",
			   config_key_names[i], sec->seen[i]);
		return 1;
	}
	if (sec->seen[i] == 0)
		sec->seen[i] = p->lineno;
	p->key = (enum config_key)i;
	n = p->nerrs + p->dropped;
	config_key_defs[i].fn(p, value);
	if (p->nerrs + p->dropped != n)
		sec->bad[i] = true;
	return 1;
}

/* ---- lines ---- */

static bool config_new_peer(struct config_parser *p)
{
	struct config *c = p->c;

	if (c->npeers == p->peers_cap) {
		size_t cap = p->peers_cap ? 2 * p->peers_cap : 4;
		struct config_peer *peers = realloc(c->peers, cap * sizeof(*peers));
		struct config_section *psec;
		size_t *acap;

		if (peers == NULL) {
			p->nomem = true;
			return false;
		}
		c->peers = peers;
		psec = realloc(p->psec, cap * sizeof(*psec));
		if (psec == NULL) {
			p->nomem = true;
			return false;
		}
		p->psec = psec;
		acap = realloc(p->allowed_cap, cap * sizeof(*acap));
		if (acap == NULL) {
			p->nomem = true;
			return false;
		}
		p->allowed_cap = acap;
		p->peers_cap = cap;
	}
	memset(&c->peers[c->npeers], 0, sizeof(c->peers[0]));
	memset(&p->psec[c->npeers], 0, sizeof(p->psec[0]));
	p->allowed_cap[c->npeers] = 0;
	c->peers[c->npeers].line = p->lineno;
	p->psec[c->npeers].line = p->lineno;
	c->npeers++;
	return true;
}

/* A section header [name] (already trimmed, brackets included). */
static void config_section_line(struct config_parser *p, const char *s, size_t n)
{
	const char *b = s + 1, *e = s + n - 1;

	while (b < e && isblank((unsigned char)*b))
		b++;
	while (e > b && isblank((unsigned char)e[-1]))
		e--;
	if ((size_t)(e - b) == 9 && strncasecmp(b, "Interface", 9) == 0) {
		if (p->iface.line != 0)
			config_bad(p,
				   "[Interface]: a second [Interface] section (the first is at "
				   "line %d)",
				   p->iface.line);
		else
			p->iface.line = p->lineno;
		p->where = SEC_INTERFACE;
	} else if ((size_t)(e - b) == 4 && strncasecmp(b, "Peer", 4) == 0) {
		p->where = config_new_peer(p) ? SEC_PEER : SEC_IGNORED;
	} else {
		config_bad(p, "[%s]: unknown section (expected [Interface] or [Peer])",
			   config_escape(b, (size_t)(e - b), false).s);
		p->where = SEC_IGNORED;
	}
}

static bool config_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* libinih's reader: hands over the next line, cleaned up, or "" when the line is blank, a
 * comment, or an error already reported; NULL at the end of the buffer. */
static char *config_read_line(char *str, int num, void *stream)
{
	struct config_parser *p = stream;
	const char *s, *nl, *b, *e, *sep;
	size_t limit = num > 3 ? (size_t)num - 3 : 0;

	if (limit > CONFIG_LINE_MAX)
		limit = CONFIG_LINE_MAX;
	if (p->pos >= p->len || num < 1)
		return NULL;
	s = p->buf + p->pos;
	nl = memchr(s, '\n', p->len - p->pos);
	e = nl != NULL ? nl : p->buf + p->len;
	p->pos = (size_t)(e - p->buf) + (nl != NULL);
	p->lineno++;
	str[0] = '\0';
	b = s;
	if (p->lineno == 1 && e - b >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
		b += 3;
	if (memchr(b, '\0', (size_t)(e - b)) != NULL) {
		config_bad(p, "expected [Section] or Key = value, got a line with a NUL byte");
		return str;
	}
	while (b < e && config_blank(*b))
		b++;
	/* a comment starts at # or ; at the start of a line or after a blank */
	for (const char *q = b; q < e; q++) {
		if ((*q == '#' || *q == ';') && (q == b || config_blank(q[-1]))) {
			e = q;
			break;
		}
	}
	while (e > b && config_blank(e[-1]))
		e--;
	if (e == b)
		return str;
	if ((size_t)(e - b) > limit) {
		config_bad(p,
			   "line longer than %zu characters (split a long list over repeated keys)",
			   limit);
		return str;
	}
	if (*b == '[') {
		if (e[-1] != ']' || e - b < 2) {
			config_bad(p, "expected [Interface] or [Peer], got %s",
				   config_quoten(b, (size_t)(e - b)).s);
			p->where = SEC_IGNORED;
			return str;
		}
		config_section_line(p, b, (size_t)(e - b));
	} else {
		sep = b;
		while (sep < e && *sep != '=' && *sep != ':')
			sep++;
		if (sep == e || *sep == ':' || sep == b) {
			/* maybe a mistyped Key or PrivateKey line: never quote a secret */
			const char *secret = config_secret_text(b, (size_t)(e - b));

			if (secret == NULL)
				config_bad(p, "expected [Section] or Key = value, got %s",
					   config_quoten(b, (size_t)(e - b)).s);
			else if (*secret != '\0')
				config_bad(p,
					   "expected [Section] or Key = value, got a line starting "
					   "with \"%s\" (not shown)",
					   secret);
			else
				config_bad(p, "expected [Section] or Key = value, got a line that "
					      "looks like a base64 key (not shown)");
			return str;
		}
	}
	memcpy(str, b, (size_t)(e - b));
	str[e - b] = '\0';
	return str;
}

/* ---- whole-file checks ---- */

/* The Name when none is given: the file's basename without ".conf". */
static void config_default_ifname(struct config_parser *p)
{
	const char *base = strrchr(p->file, '/');
	char name[64];
	size_t n;

	base = base != NULL ? base + 1 : p->file;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".conf") == 0)
		n -= 5;
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, base, n);
	name[n] = '\0';
	if (!config_name_ok(name, CONFIG_IFNAME_MAX, "_=+.-")) {
		config_error_at(p, p->iface.line,
				"Name: not set, and the file name gives %s, which is not an "
				"interface name (1 to 15 of A-Z a-z 0-9 _ = + . -); set Name",
				config_quote(name).s);
		return;
	}
	memcpy(p->c->ifname, name, n + 1);
}

static bool config_is_manual(const char *profile)
{
	return strcmp(profile, CONFIG_MANUAL) == 0;
}

/* Profile = manual in sec needs all four knobs there; reports the missing ones. */
static void config_check_manual(struct config_parser *p, const struct config_section *sec)
{
	char missing[80] = "";
	size_t o = 0;

	for (size_t i = 0; i < 4; i++)
		if (sec->seen[config_knobs[i]] == 0)
			o += (size_t)snprintf(missing + o, sizeof(missing) - o, "%s%s",
					      o ? ", " : "", config_key_names[config_knobs[i]]);
	if (o > 0)
		config_error_at(p, sec->seen[K_PROFILE],
				"Profile: manual needs NoDelay, Interval, Resend and NoCongestion "
				"in the same section; missing %s",
				missing);
}

/* Applies sec's knobs onto kp; each knob set while profile is not manual is an error (unless
 * the profile was refused: then which one was meant is unknown). */
static void config_apply_knobs(struct config_parser *p, const struct config_section *sec,
			       const char *profile, bool profile_bad, struct kcp_params *kp)
{
	for (size_t i = 0; i < 4; i++) {
		int line = sec->seen[config_knobs[i]];

		if (line != 0 && !config_is_manual(profile) && !profile_bad)
			config_error_at(p, line, "%s: only with Profile = manual (Profile is %s)",
					config_key_names[config_knobs[i]], profile);
	}
	if (!config_is_manual(profile))
		return;
	if (sec->seen[K_NODELAY])
		kp->nodelay = sec->t.nodelay;
	if (sec->seen[K_INTERVAL])
		kp->interval_ms = sec->t.interval_ms;
	if (sec->seen[K_RESEND])
		kp->resend = sec->t.resend;
	if (sec->seen[K_NOCONGESTION])
		kp->nc = sec->t.nc;
}

/* [Interface]'s effective settings: defaults, then what it sets. */
static void config_resolve_iface(struct config_parser *p)
{
	const struct config_section *sec = &p->iface;
	struct config *c = p->c;

	kcp_params_default(&c->kcp);
	c->profile =
	    sec->seen[K_PROFILE] && !sec->bad[K_PROFILE] ? sec->t.profile : CONFIG_PROFILE_DEF;
	if (!config_is_manual(c->profile))
		kcp_params_profile(&c->kcp, c->profile);
	else
		config_check_manual(p, sec);
	config_apply_knobs(p, sec, c->profile, sec->bad[K_PROFILE], &c->kcp);
	c->kcp.snd_wnd = sec->seen[K_SNDWND] ? sec->t.snd_wnd : CONFIG_WND_DEFAULT;
	c->kcp.rcv_wnd = sec->seen[K_RCVWND] ? sec->t.rcv_wnd : CONFIG_WND_DEFAULT;
	if (sec->seen[K_FEC]) {
		c->fec_data = sec->t.fec_data;
		c->fec_parity = sec->t.fec_parity;
	}
	if (sec->seen[K_RATELIMIT])
		c->rate_bps = sec->t.rate_bps;
}

/* Peer i's effective settings: [Interface]'s, then what the peer overrides. */
static void config_resolve_peer(struct config_parser *p, size_t i)
{
	const struct config_section *sec = &p->psec[i];
	struct config *c = p->c;
	struct config_peer *peer = &c->peers[i];

	if (peer->name[0] == '\0')
		snprintf(peer->name, sizeof(peer->name), "peer%zu", i + 1);
	if (!sec->seen[K_KEEPALIVE])
		peer->keepalive_s = peer->endpoint != NULL ? CONFIG_KEEPALIVE_DEF : 0;
	peer->kcp = c->kcp;
	peer->profile = c->profile;
	if (sec->seen[K_PROFILE] && !sec->bad[K_PROFILE]) {
		peer->profile = sec->t.profile;
		if (!config_is_manual(peer->profile))
			kcp_params_profile(&peer->kcp, peer->profile);
		else
			config_check_manual(p, sec);
	}
	config_apply_knobs(p, sec, peer->profile, sec->bad[K_PROFILE], &peer->kcp);
	if (sec->seen[K_SNDWND])
		peer->kcp.snd_wnd = sec->t.snd_wnd;
	if (sec->seen[K_RCVWND])
		peer->kcp.rcv_wnd = sec->t.rcv_wnd;
	peer->fec_data = sec->seen[K_FEC] ? sec->t.fec_data : c->fec_data;
	peer->fec_parity = sec->seen[K_FEC] ? sec->t.fec_parity : c->fec_parity;
	peer->rate_bps = sec->seen[K_RATELIMIT] ? sec->t.rate_bps : c->rate_bps;
	if (peer->nallowed == 0)
		config_error_at(p, peer->line,
				"AllowedIPs: peer %s has none; every [Peer] needs at least one",
				peer->name);
	if (!c->listen && peer->endpoint == NULL)
		config_error_at(p, peer->line,
				"Endpoint: peer %s has none, and with ListenPort = none every peer "
				"needs one",
				peer->name);
}

static int config_name_cmp(const void *a, const void *b, void *ctx)
{
	const struct config_peer *peers = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = strcmp(peers[x].name, peers[y].name);

	return r != 0 ? r : (x < y ? -1 : x > y);
}

/* Peer names are unique; the later of two equal names is reported. */
static void config_check_names(struct config_parser *p)
{
	struct config *c = p->c;
	size_t *idx = malloc(c->npeers * sizeof(*idx));

	if (idx == NULL) {
		p->nomem = true;
		return;
	}
	for (size_t i = 0; i < c->npeers; i++)
		idx[i] = i;
	qsort_r(idx, c->npeers, sizeof(*idx), config_name_cmp, c->peers);
	for (size_t i = 1; i < c->npeers; i++) {
		const struct config_peer *a = &c->peers[idx[i - 1]], *b = &c->peers[idx[i]];

		if (strcmp(a->name, b->name) == 0) {
			int line = p->psec[idx[i]].seen[K_NAME];

			config_error_at(p, line ? line : b->line,
					"Name: %s is also the name of the [Peer] at line %d",
					config_quote(b->name).s, a->line);
		}
	}
	free(idx);
}

struct config_ref {
	const struct config_prefix *pr;
	size_t peer;
};

static int config_ref_cmp(const void *a, const void *b)
{
	const struct config_ref *x = a, *y = b;
	int r;

	if (x->pr->family != y->pr->family)
		return x->pr->family < y->pr->family ? -1 : 1;
	r = memcmp(x->pr->addr, y->pr->addr, 16);
	if (r != 0)
		return r;
	if (x->pr->cidr != y->pr->cidr)
		return x->pr->cidr < y->pr->cidr ? -1 : 1;
	if (x->peer != y->peer)
		return x->peer < y->peer ? -1 : 1;
	return x->pr->line < y->pr->line ? -1 : x->pr->line > y->pr->line;
}

/* True when prefix a holds all of b. */
static bool config_prefix_holds(const struct config_prefix *a, const struct config_prefix *b)
{
	struct config_prefix cut = *b, net;

	if (a->family != b->family || a->cidr > b->cidr)
		return false;
	cut.cidr = a->cidr;
	config_prefix_net(&cut, &net);
	return memcmp(net.addr, a->addr, 16) == 0;
}

static void config_overlap(struct config_parser *p, const struct config_ref *outer,
			   const struct config_ref *inner)
{
	const struct config_peer *peers = p->c->peers;
	const struct config_ref *late = outer->pr->line >= inner->pr->line ? outer : inner;
	const struct config_ref *early = late == outer ? inner : outer;
	char a[INET6_ADDRSTRLEN + 8], b[INET6_ADDRSTRLEN + 8];

	config_prefix_str(late->pr, a, sizeof(a));
	config_prefix_str(early->pr, b, sizeof(b));
	if (late->peer == early->peer)
		config_error_at(p, late->pr->line,
				"AllowedIPs: %s of peer %s is listed twice (also at line %d)", a,
				peers[late->peer].name, early->pr->line);
	else
		config_error_at(p, late->pr->line,
				"AllowedIPs: %s of peer %s overlaps %s of peer %s at line %d", a,
				peers[late->peer].name, b, peers[early->peer].name,
				early->pr->line);
}

/* No prefix of one peer may overlap one of another (two prefixes overlap when one holds the
 * other); a peer may list nested prefixes but not the same one twice. Sorted by address then
 * length, a prefix's holders are on the stack of the prefixes before it that hold it. */
static void config_check_allowed(struct config_parser *p)
{
	struct config *c = p->c;
	struct config_ref *refs, *stack[129];
	size_t n = 0, depth = 0;

	for (size_t i = 0; i < c->npeers; i++)
		n += c->peers[i].nallowed;
	refs = malloc((n ? n : 1) * sizeof(*refs));
	if (refs == NULL) {
		p->nomem = true;
		return;
	}
	n = 0;
	for (size_t i = 0; i < c->npeers; i++) {
		for (size_t j = 0; j < c->peers[i].nallowed; j++) {
			refs[n].pr = &c->peers[i].allowed[j];
			refs[n++].peer = i;
			if (c->peers[i].allowed[j].cidr == 0)
				c->full_tunnel = true;
		}
	}
	qsort(refs, n, sizeof(*refs), config_ref_cmp);
	for (size_t i = 0; i < n; i++) {
		struct config_ref *r = &refs[i];

		while (depth > 0 && !config_prefix_holds(stack[depth - 1]->pr, r->pr))
			depth--;
		for (size_t k = depth; k-- > 0;) {
			const struct config_ref *s = stack[k];

			if (s->peer != r->peer || s->pr->cidr == r->pr->cidr) {
				config_overlap(p, s, r);
				break;
			}
		}
		/* an equal prefix is represented by the first: the stack holds <= 129 */
		if (depth == 0 || stack[depth - 1]->pr->cidr != r->pr->cidr)
			stack[depth++] = r;
	}
	free(refs);
}

/* Whether an [Interface] Address is IPv6 (the TUN then needs an MTU of 1280 or more). */
static const struct config_prefix *config_v6_addr(const struct config *c)
{
	for (size_t i = 0; i < c->naddrs; i++)
		if (c->addrs[i].family == AF_INET6)
			return &c->addrs[i];
	return NULL;
}

/* The UDP payload the session may fill: secure mode's layer takes SEC_OVERHEAD of each
 * datagram, and the session under it runs with crypt "null" (c->crypt is CRYPT_NULL). */
static unsigned config_session_udp_mtu(const struct config *c)
{
	return c->mode == CONFIG_MODE_SECURE ? c->udp_mtu - SEC_OVERHEAD : c->udp_mtu;
}

static void config_check_mtu(struct config_parser *p)
{
	struct config *c = p->c;
	const struct config_prefix *v6 = config_v6_addr(c);
	unsigned min = v6 != NULL ? CONFIG_MTU_MIN_V6 : CONFIG_MTU_MIN_V4;
	int mss = config_mss(c);
	unsigned over = c->udp_mtu - config_session_udp_mtu(c) + session_overhead(c->crypt, true) +
			KCP_OVERHEAD;
	const char *layer = c->mode == CONFIG_MODE_SECURE ? "secure" : crypt_method_name(c->crypt);
	char why[64] = "";

	if (v6 != NULL)
		snprintf(why, sizeof(why), " with an IPv6 Address (line %d)", v6->line);
	if (mss < (int)min) {
		int line = p->iface.seen[K_UDPMTU] ? p->iface.seen[K_UDPMTU] : p->iface.line;

		config_error_at(p, line,
				"UDPMTU: %u leaves IP packets at most %d bytes after %u bytes of "
				"%s, FEC and KCP headers; the TUN needs %u%s",
				c->udp_mtu, mss > 0 ? mss : 0, over, layer, min, why);
		return;
	}
	if (c->mtu == 0)
		return;
	if (c->mtu < min)
		config_error_at(p, p->iface.seen[K_MTU], "MTU: expected at least %u%s, got \"%u\"",
				min, why, c->mtu);
	else if (c->mtu > (unsigned)mss)
		config_error_at(p, p->iface.seen[K_MTU],
				"MTU: expected at most %d (UDPMTU %u minus %u bytes of %s, FEC and "
				"KCP headers), got \"%u\"",
				mss, c->udp_mtu, over, layer, c->mtu);
}

/* Of two keys that say the same thing in two ways (Key and KeyFile, ...), sec sets at most
 * one; the later one is reported. */
static void config_check_one_of(struct config_parser *p, const struct config_section *sec,
				enum config_key a, enum config_key b)
{
	enum config_key first = sec->seen[a] < sec->seen[b] ? a : b, later = first == a ? b : a;

	if (sec->seen[a] != 0 && sec->seen[b] != 0)
		config_error_at(p, sec->seen[later],
				"%s: %s and %s are both set (lines %d and %d); use one",
				config_key_names[later], config_key_names[first],
				config_key_names[later], sec->seen[first], sec->seen[later]);
}

/* Each key of the other mode is an error at its line. */
static void config_check_mode_keys(struct config_parser *p)
{
	const struct config *c = p->c;
	bool secure = c->mode == CONFIG_MODE_SECURE;
	const enum config_key *keys = secure ? config_compat_keys : config_secure_keys;
	size_t n = secure ? sizeof(config_compat_keys) / sizeof(config_compat_keys[0])
			  : sizeof(config_secure_keys) / sizeof(config_secure_keys[0]);

	for (size_t s = 0; s <= c->npeers; s++) {
		const struct config_section *sec = s == 0 ? &p->iface : &p->psec[s - 1];

		for (size_t i = 0; i < n; i++) {
			int line = sec->seen[keys[i]];

			if (line == 0)
				continue;
			if (secure)
				config_error_at(
				    p, line,
				    "%s: only for Mode = compat; secure mode encrypts "
				    "with Cipher and per-peer keys%s",
				    config_key_names[keys[i]],
				    p->iface.seen[K_MODE] ? "" : " (Mode is secure when not set)");
			else
				config_error_at(p, line, "%s: only for Mode = secure",
						config_key_names[keys[i]]);
		}
	}
}

/* Compat mode: one of Key and KeyFile, unless Crypt is none or null. */
static void config_check_compat(struct config_parser *p)
{
	const struct config *c = p->c;
	const struct config_section *sec = &p->iface;

	config_check_one_of(p, sec, K_KEY, K_KEYFILE);
	if (!sec->seen[K_KEY] && !sec->seen[K_KEYFILE] && !sec->bad[K_CRYPT] &&
	    c->crypt != CRYPT_NONE && c->crypt != CRYPT_NULL)
		config_error_at(p, sec->seen[K_CRYPT] ? sec->seen[K_CRYPT] : sec->line,
				"Key: Crypt = %s needs Key or KeyFile",
				crypt_method_name(c->crypt));
}

/* The index of the first peer from `from` on whose PublicKey is `key`, or c->npeers. */
static size_t config_peer_with_key(const struct config *c, const uint8_t key[CONFIG_KEY_LEN],
				   size_t from)
{
	for (size_t i = from; i < c->npeers; i++)
		if (c->peers[i].has_public_key &&
		    memcmp(c->peers[i].public_key, key, CONFIG_KEY_LEN) == 0)
			return i;
	return c->npeers;
}

/* What is said about a PublicKey that is our own (peer name, our key's key and line). */
#define CONFIG_MSG_OWN_KEY                                                                         \
	"peer %s has this interface's own public key (of the %s at line %d); a [Peer] takes "      \
	"the public key of the other side"

static int config_pubkey_cmp(const void *a, const void *b, void *ctx)
{
	const struct config_peer *peers = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = memcmp(peers[x].public_key, peers[y].public_key, CONFIG_KEY_LEN);

	return r != 0 ? r : (x < y ? -1 : x > y);
}

/* No two peers have one PublicKey; each later one is reported with the first. */
static void config_check_public_keys(struct config_parser *p)
{
	struct config *c = p->c;
	size_t *idx = malloc((c->npeers ? c->npeers : 1) * sizeof(*idx)), n = 0, first = 0;

	if (idx == NULL) {
		p->nomem = true;
		return;
	}
	for (size_t i = 0; i < c->npeers; i++)
		if (c->peers[i].has_public_key)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), config_pubkey_cmp, c->peers);
	for (size_t i = 1; i < n; i++) {
		const struct config_peer *a = &c->peers[idx[first]], *b = &c->peers[idx[i]];

		if (memcmp(a->public_key, b->public_key, CONFIG_KEY_LEN) != 0) {
			first = i;
			continue;
		}
		config_error_at(p, b->public_key_line,
				"PublicKey: peer %s has the same key as peer %s (line %d); each "
				"[Peer] is another key",
				b->name, a->name, a->public_key_line);
	}
	free(idx);
}

/* Secure mode: our private key (PrivateKey or PrivateKeyFile), a PublicKey for every peer, at
 * most one of PresharedKey and PresharedKeyFile, no two peers with one key, and none with ours
 * (checked here for PrivateKey; config_load() checks it for PrivateKeyFile). */
static void config_check_secure(struct config_parser *p)
{
	struct config *c = p->c;
	const struct config_section *sec = &p->iface;
	uint8_t pub[CONFIG_KEY_LEN];

	c->crypt = CRYPT_NULL; /* the session runs under the secure layer, without a crypt */
	config_check_one_of(p, sec, K_PRIVATEKEY, K_PRIVATEKEYFILE);
	if (!sec->seen[K_PRIVATEKEY] && !sec->seen[K_PRIVATEKEYFILE])
		config_error_at(
		    p, sec->line,
		    "PrivateKey: secure mode needs PrivateKey or PrivateKeyFile (kcpctl "
		    "genkey makes one)");
	for (size_t i = 0; i < c->npeers; i++) {
		config_check_one_of(p, &p->psec[i], K_PRESHAREDKEY, K_PRESHAREDKEYFILE);
		if (!p->psec[i].seen[K_PUBLICKEY])
			config_error_at(p, c->peers[i].line,
					"PublicKey: peer %s has none; in secure mode every [Peer] "
					"needs one",
					c->peers[i].name);
	}
	config_check_public_keys(p);
	if (!c->has_private_key)
		return;
	if (kc_key_public(c->private_key, pub) < 0) {
		config_error_at(p, sec->seen[K_PRIVATEKEY],
				"PrivateKey: not a usable X25519 private key (value hidden)");
		return;
	}
	for (size_t i = 0; (i = config_peer_with_key(c, pub, i)) < c->npeers; i++)
		config_error_at(p, c->peers[i].public_key_line, "PublicKey: " CONFIG_MSG_OWN_KEY,
				c->peers[i].name, "PrivateKey", sec->seen[K_PRIVATEKEY]);
}

static void config_finish(struct config_parser *p)
{
	struct config *c = p->c;
	const struct config_section *sec = &p->iface;

	if (sec->line == 0) {
		config_error_at(p, 1,
				"[Interface]: missing (a config needs one [Interface] and "
				"at least one [Peer] section)");
		return;
	}
	if (c->npeers == 0)
		config_error_at(p, sec->line,
				"[Peer]: none (a config needs at least one [Peer] section)");
	if (c->ifname[0] == '\0')
		config_default_ifname(p);
	if (c->control_socket == NULL && c->ifname[0] != '\0') {
		if (asprintf(&c->control_socket, CONFIG_SOCKET_DIR "/%s.sock", c->ifname) < 0) {
			c->control_socket = NULL;
			p->nomem = true;
		}
	}
	config_resolve_iface(p);
	for (size_t i = 0; i < c->npeers; i++)
		config_resolve_peer(p, i);
	config_check_names(p);
	config_check_allowed(p);
	/* when Mode was refused, which keys belong is unknown: no more is said about them */
	if (!sec->bad[K_MODE]) {
		config_check_mode_keys(p);
		if (c->mode == CONFIG_MODE_SECURE)
			config_check_secure(p);
		else
			config_check_compat(p);
	}
	if (!sec->bad[K_MODE] && !sec->bad[K_MTU] && !sec->bad[K_UDPMTU] &&
	    !(c->mode == CONFIG_MODE_COMPAT && sec->bad[K_CRYPT]) && !sec->bad[K_ADDRESS])
		config_check_mtu(p);
	if (c->group != NULL && c->user != NULL && strcmp(c->user, "root") == 0)
		config_error_at(p, c->group_line,
				"Group: User = root keeps root's groups (line %d); remove Group",
				c->user_line);
	if (c->full_tunnel && !sec->seen[K_FWMARK])
		c->fwmark = CONFIG_FWMARK_DEFAULT;
	else if (c->full_tunnel && c->table == CONFIG_TABLE_AUTO && c->fwmark == 0)
		config_error_at(
		    p, sec->seen[K_FWMARK],
		    "FwMark: a full tunnel (a peer holds a /0) with Table = auto needs a "
		    "mark, got \"0\"");
}

static void config_parser_fini(struct config_parser *p)
{
	for (size_t i = 0; i < p->nerrs; i++)
		free(p->errs[i].text);
	free(p->errs);
	free(p->psec);
	free(p->allowed_cap);
}

int config_parse(const char *file, const char *buf, size_t len, struct config **out, char **errs)
{
	struct config_parser p = {.file = file, .buf = buf, .len = len};
	struct config *c;
	int rc;

	*out = NULL;
	*errs = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	p.c = c;
	c->file = strdup(file);
	c->mode = CONFIG_MODE_SECURE;
	c->aead = SEC_AEAD_CHACHAPOLY;
	c->udp_mtu = 1400;
	c->crypt = CRYPT_AES_256;
	c->socket_buffer_bytes = CONFIG_SOCKBUF_DEF;
	c->log_level = CONFIG_LOG_INFO;
	c->table = CONFIG_TABLE_AUTO;
	if (c->file == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = ini_parse_stream(config_read_line, &p, config_on_pair, &p);
	if (rc == -2 || p.nomem) {
		rc = -ENOMEM;
		goto fail;
	}
	if (rc != 0) /* cannot happen: the reader hands over well-formed lines only */
		config_error_at(&p, rc, "libinih refused this line");
	config_finish(&p);
	if (p.nomem) {
		rc = -ENOMEM;
		goto fail;
	}
	if (p.nerrs > 0) {
		*errs = config_error_text(&p);
		rc = *errs != NULL ? -EINVAL : -ENOMEM;
		goto fail;
	}
	config_parser_fini(&p);
	*out = c;
	return 0;
fail:
	config_parser_fini(&p);
	config_free(c);
	return rc;
}

/* ---- loading ---- */

/* Appends "path:line: key: " and the formatted message to *errs (malloc'ed or NULL). Returns
 * -EINVAL, or -ENOMEM with *errs freed and NULL. */
static int config_load_error(char **errs, const char *path, int line, const char *key,
			     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int config_load_error(char **errs, const char *path, int line, const char *key,
			     const char *fmt, ...)
{
	char *msg, *all;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto nomem;
	n = asprintf(&all, "%s%s:%d: %s: %s\n", *errs != NULL ? *errs : "", path, line, key, msg);
	free(msg);
	if (n < 0)
		goto nomem;
	free(*errs);
	*errs = all;
	return -EINVAL;
nomem:
	free(*errs);
	*errs = NULL;
	return -ENOMEM;
}

/* File `name` of a config at `path`: relative names are in the config's directory. NULL when
 * out of memory. */
static char *config_file_path(const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');
	char *full;
	int rc;

	if (name[0] == '/' || slash == NULL)
		rc = asprintf(&full, "%s", name);
	else
		rc = asprintf(&full, "%.*s/%s", (int)(slash - path), path, name);
	return rc < 0 ? NULL : full;
}

/* Reads the first line of file `full`, given by `key` at `line` of the config at `path`, into
 * a new string *out. The file must be a regular file that only its owner, and the daemon's
 * group (c->gid) without writing, may access: kcpvpnd reads it again on SIGHUP, unprivileged.
 * 0, or -EINVAL with a message added to *errs, or -ENOMEM. */
static int config_read_line1(const struct config *c, const char *path, const char *key, int line,
			     const char *full, char **out, char **errs)
{
	char buf[CONFIG_KEYFILE_MAX], *nl;
	struct stat st;
	ssize_t n = 0, r;
	int fd, rc;

	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = config_load_error(errs, path, line, key, "cannot read %s: %s", full,
				       strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = config_load_error(errs, path, line, key, "%s is not a regular file", full);
		goto out;
	}
	if ((st.st_mode & 007) != 0 ||
	    ((st.st_mode & 070) != 0 && ((st.st_mode & 030) != 0 || st.st_gid != c->gid))) {
		char gname[16];

		snprintf(gname, sizeof(gname), "%u", (unsigned)c->gid);
		rc = config_load_error(errs, path, line, key,
				       "%s is open to group or others (mode %04o); chmod 600 it, "
				       "or 640 with group %s (the daemon's)",
				       full, (unsigned)(st.st_mode & 07777),
				       c->group != NULL ? c->group : gname);
		goto out;
	}
	while ((size_t)n < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) - (size_t)n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = config_load_error(errs, path, line, key, "cannot read %s: %s", full,
					       strerror(errno));
			goto out;
		}
		n += r;
	}
	nl = memchr(buf, '\n', (size_t)n);
	if (nl == NULL && (size_t)n == sizeof(buf)) {
		rc = config_load_error(errs, path, line, key,
				       "the first line of %s is longer than %zu bytes", full,
				       sizeof(buf) - 1);
		goto out;
	}
	if (nl == NULL)
		nl = buf + n;
	if (nl > buf && nl[-1] == '\r')
		nl--;
	if (nl == buf || memchr(buf, '\0', (size_t)(nl - buf)) != NULL) {
		rc = config_load_error(errs, path, line, key, "the first line of %s is %s", full,
				       nl == buf ? "empty" : "not text (a NUL byte)");
		goto out;
	}
	*out = strndup(buf, (size_t)(nl - buf));
	rc = *out != NULL ? 0 : -ENOMEM;
out:
	explicit_bzero(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Reads the first line of file `name`, given by key k at `line` of the config at `path` (as
 * config_read_line1()), into *text, or with key32 != NULL a base64 key from it into key32. */
static int config_read_file(const struct config *c, const char *path, enum config_key k, int line,
			    const char *name, char **text, uint8_t key32[CONFIG_KEY_LEN],
			    char **errs)
{
	const char *key = config_key_names[k];
	char *full = config_file_path(path, name), *s = NULL;
	int rc;

	if (full == NULL)
		return -ENOMEM;
	rc = config_read_line1(c, path, key, line, full, &s, errs);
	if (rc == 0 && key32 == NULL) {
		*text = s;
		s = NULL;
	} else if (rc == 0 && kc_key_from_base64(s, key32) < 0) {
		explicit_bzero(key32, CONFIG_KEY_LEN);
		rc = config_load_error(errs, path, line, key,
				       "the first line of %s is not a 44-character base64 key "
				       "(%s), got %zu characters (value hidden)",
				       full, config_key_maker(k), strlen(s));
	}
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
	free(full);
	return rc;
}

/* Reads KeyFile, PrivateKeyFile and every PresharedKeyFile, reporting all their errors, then
 * checks that no peer holds the public key of the PrivateKeyFile. */
static int config_read_files(struct config *c, const char *path, char **errs)
{
	uint8_t pub[CONFIG_KEY_LEN];
	int rc = 0, r;

	if (c->key_file != NULL)
		rc = config_read_file(c, path, K_KEYFILE, c->key_line, c->key_file, &c->key, NULL,
				      errs);
	if (rc != -ENOMEM && c->private_key_file != NULL) {
		r = config_read_file(c, path, K_PRIVATEKEYFILE, c->private_key_line,
				     c->private_key_file, NULL, c->private_key, errs);
		c->has_private_key = r == 0;
		rc = r < 0 ? r : rc;
	}
	for (size_t i = 0; i < c->npeers && rc != -ENOMEM; i++) {
		struct config_peer *peer = &c->peers[i];

		if (peer->psk_file == NULL)
			continue;
		r = config_read_file(c, path, K_PRESHAREDKEYFILE, peer->psk_line, peer->psk_file,
				     NULL, peer->psk, errs);
		peer->has_psk = r == 0;
		rc = r < 0 ? r : rc;
	}
	if (rc < 0 || c->private_key_file == NULL)
		return rc;
	if (kc_key_public(c->private_key, pub) < 0)
		return config_load_error(errs, path, c->private_key_line, "PrivateKeyFile",
					 "%s holds no usable X25519 private key (value hidden)",
					 c->private_key_file);
	for (size_t i = 0; (i = config_peer_with_key(c, pub, i)) < c->npeers; i++) {
		rc = config_load_error(errs, path, c->peers[i].public_key_line, "PublicKey",
				       CONFIG_MSG_OWN_KEY, c->peers[i].name, "PrivateKeyFile",
				       c->private_key_line);
		if (rc == -ENOMEM)
			break;
	}
	return rc;
}

/* The "file:line: Key: no ... on this system" message, or NULL when out of memory. */
static char *config_account_unknown(const char *path, int line, const char *key, const char *what,
				    const char *name)
{
	char *m;

	if (asprintf(&m, "%s:%d: %s: no %s %s on this system\n", path, line, key, what,
		     config_quote(name).s) < 0)
		return NULL;
	return m;
}

/* Fills in User and Group where not written and resolves them into c->uid and c->gid (see
 * struct config). 0, or -EINVAL with the messages in *errs, or -ENOMEM. */
static int config_resolve_account(struct config *c, const char *path, char **errs)
{
	const struct passwd *pw;
	const struct group *gr = NULL;
	char *eu = NULL, *eg = NULL;
	int rc = 0;

	if (c->user == NULL) {
		pw = getpwnam(CONFIG_USER_DEFAULT);
		if (pw == NULL) {
			pw = getpwnam(CONFIG_USER_FALLBACK);
			c->user_fallback = true;
		}
		if (pw == NULL) {
			if (asprintf(errs,
				     "%s: User: neither %s nor %s exists on this system; set User "
				     "(User = root keeps root)\n",
				     path, CONFIG_USER_DEFAULT, CONFIG_USER_FALLBACK) < 0) {
				*errs = NULL;
				return -ENOMEM;
			}
			return -EINVAL;
		}
		c->user = strdup(pw->pw_name);
		if (c->user == NULL)
			return -ENOMEM;
	} else if ((pw = getpwnam(c->user)) == NULL) {
		eu = config_account_unknown(path, c->user_line, "User", "user", c->user);
		rc = eu != NULL ? -EINVAL : -ENOMEM;
	}
	if (pw != NULL) {
		c->uid = pw->pw_uid;
		c->gid = pw->pw_gid;
	}
	if (c->group != NULL && (gr = getgrnam(c->group)) == NULL) {
		eg = config_account_unknown(path, c->group_line, "Group", "group", c->group);
		rc = rc == -ENOMEM || eg == NULL ? -ENOMEM : -EINVAL;
	}
	if (rc == -EINVAL && asprintf(errs, "%s%s", eu != NULL ? eu : "", eg != NULL ? eg : "") < 0)
		rc = -ENOMEM;
	free(eu);
	free(eg);
	if (rc < 0) {
		if (rc == -ENOMEM)
			*errs = NULL;
		return rc;
	}
	if (gr != NULL) {
		c->gid = gr->gr_gid;
	} else if (c->group == NULL && (gr = getgrgid(c->gid)) != NULL) {
		c->group = strdup(gr->gr_name);
		if (c->group == NULL)
			return -ENOMEM;
	}
	c->ids_resolved = true;
	return 0;
}

int config_load(const char *path, struct config **out, char **errs)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd, rc;

	*out = NULL;
	*errs = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail_io;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		rc = !S_ISREG(st.st_mode) ? -EINVAL : -EFBIG;
		if (asprintf(errs, "%s: %s\n", path,
			     rc == -EINVAL ? "not a regular file" : "larger than 1 MiB") < 0)
			*errs = NULL;
		close(fd);
		return rc;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto fail_io;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	fd = -1;
	rc = config_parse(path, buf, n, out, errs);
	explicit_bzero(buf, n);
	free(buf);
	if (rc == 0)
		rc = config_resolve_account(*out, path, errs);
	if (rc == 0)
		rc = config_read_files(*out, path, errs);
	if (rc < 0 && *out != NULL) {
		config_free(*out);
		*out = NULL;
	}
	return rc;
fail_io:
	if (asprintf(errs, "%s: cannot read: %s\n", path, strerror(-rc)) < 0)
		*errs = NULL;
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->npeers; i++) {
		free(c->peers[i].endpoint);
		free(c->peers[i].allowed);
		free(c->peers[i].psk_file);
		explicit_bzero(c->peers[i].psk, sizeof(c->peers[i].psk));
	}
	free(c->peers);
	free(c->addrs);
	if (c->key != NULL) {
		explicit_bzero(c->key, strlen(c->key));
		free(c->key);
	}
	free(c->key_file);
	explicit_bzero(c->private_key, sizeof(c->private_key));
	free(c->private_key_file);
	free(c->user);
	free(c->group);
	free(c->control_socket);
	free(c->file);
	free(c);
}

/* ---- use ---- */

int config_mss(const struct config *c)
{
	return session_mss(config_session_udp_mtu(c), c->crypt, true);
}

unsigned config_tun_mtu(const struct config *c)
{
	int mss;

	if (c->mtu != 0)
		return c->mtu;
	mss = config_mss(c);
	return mss > 0 ? (unsigned)mss : 0;
}

void config_peer_session(const struct config *c, const struct config_peer *p,
			 struct session_params *sp)
{
	sp->udp_mtu = config_session_udp_mtu(c);
	sp->crypt = c->crypt; /* CRYPT_NULL in secure mode */
	sp->fec_data = p->fec_data;
	sp->fec_parity = p->fec_parity;
	sp->kcp.nodelay = p->kcp.nodelay;
	sp->kcp.interval_ms = p->kcp.interval_ms;
	sp->kcp.resend = p->kcp.resend;
	sp->kcp.nc = p->kcp.nc;
	sp->kcp.snd_wnd = p->kcp.snd_wnd;
	sp->kcp.rcv_wnd = p->kcp.rcv_wnd;
	sp->kcp.rate_bps = p->rate_bps;
}

static bool config_str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Two optional keys are both absent, or present and equal. */
static bool config_key_same(bool has_a, const uint8_t *a, bool has_b, const uint8_t *b)
{
	return has_a == has_b && (!has_a || memcmp(a, b, CONFIG_KEY_LEN) == 0);
}

bool config_peer_same(const struct config *a, const struct config_peer *pa, const struct config *b,
		      const struct config_peer *pb)
{
	return strcmp(pa->name, pb->name) == 0 && a->mode == b->mode && a->crypt == b->crypt &&
	       config_str_same(a->key, b->key) &&
	       config_key_same(a->has_private_key, a->private_key, b->has_private_key,
			       b->private_key) &&
	       config_key_same(pa->has_public_key, pa->public_key, pb->has_public_key,
			       pb->public_key) &&
	       config_key_same(pa->has_psk, pa->psk, pb->has_psk, pb->psk) && a->aead == b->aead &&
	       a->obfuscate == b->obfuscate && a->udp_mtu == b->udp_mtu &&
	       pa->fec_data == pb->fec_data && pa->fec_parity == pb->fec_parity &&
	       pa->kcp.nodelay == pb->kcp.nodelay && pa->kcp.interval_ms == pb->kcp.interval_ms &&
	       pa->kcp.resend == pb->kcp.resend && pa->kcp.nc == pb->kcp.nc &&
	       pa->kcp.snd_wnd == pb->kcp.snd_wnd && pa->kcp.rcv_wnd == pb->kcp.rcv_wnd &&
	       config_str_same(pa->endpoint, pb->endpoint);
}

/* ---- printing ---- */

/* "Key = value", or "Key=value" when the spaces would make the line too long to read back. */
static void config_print_kv(FILE *f, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void config_print_kv(FILE *f, const char *key, const char *fmt, ...)
{
	char v[CONFIG_LINE_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (strlen(key) + 3 + strlen(v) > CONFIG_LINE_MAX)
		fprintf(f, "%s=%s\n", key, v);
	else
		fprintf(f, "%s = %s\n", key, v);
}

/* n with the largest suffix of unit that divides it. */
static const char *config_scaled_str(uint64_t n, uint64_t unit, char *buf, size_t len)
{
	static const char suffix[] = "kMG";
	int s = -1;

	while (s < 2 && n != 0 && n % unit == 0) {
		n /= unit;
		s++;
	}
	if (s < 0)
		snprintf(buf, len, "%llu", (unsigned long long)n);
	else
		snprintf(buf, len, "%llu%c", (unsigned long long)n, suffix[s]);
	return buf;
}

static void config_print_fec(FILE *f, unsigned data, unsigned parity)
{
	if (data == 0)
		config_print_kv(f, "FEC", "off");
	else
		config_print_kv(f, "FEC", "%u:%u", data, parity);
}

static void config_print_knobs(FILE *f, const struct kcp_params *k, const struct kcp_params *base)
{
	if (base == NULL || k->nodelay != base->nodelay)
		config_print_kv(f, "NoDelay", "%u", k->nodelay);
	if (base == NULL || k->interval_ms != base->interval_ms)
		config_print_kv(f, "Interval", "%u", k->interval_ms);
	if (base == NULL || k->resend != base->resend)
		config_print_kv(f, "Resend", "%u", k->resend);
	if (base == NULL || k->nc != base->nc)
		config_print_kv(f, "NoCongestion", "%s", k->nc ? "yes" : "no");
}

/* A peer's settings that differ from [Interface]'s. */
static void config_print_overrides(FILE *f, const struct config *c, const struct config_peer *p)
{
	char b[32];

	if (p->fec_data != c->fec_data || p->fec_parity != c->fec_parity)
		config_print_fec(f, p->fec_data, p->fec_parity);
	if (strcmp(p->profile, c->profile) != 0) {
		config_print_kv(f, "Profile", "%s", p->profile);
		if (config_is_manual(p->profile))
			config_print_knobs(f, &p->kcp, NULL);
	} else if (config_is_manual(p->profile)) {
		config_print_knobs(f, &p->kcp, &c->kcp);
	}
	if (p->kcp.snd_wnd != c->kcp.snd_wnd)
		config_print_kv(f, "SndWnd", "%u", p->kcp.snd_wnd);
	if (p->kcp.rcv_wnd != c->kcp.rcv_wnd)
		config_print_kv(f, "RcvWnd", "%u", p->kcp.rcv_wnd);
	if (p->rate_bps != c->rate_bps)
		config_print_kv(f, "RateLimit", "%s", config_scaled_str(p->rate_bps, 1000, b, 32));
}

void config_print(const struct config *c, FILE *f)
{
	char b[INET6_ADDRSTRLEN + 8];

	fprintf(f, "# %s as understood, defaults filled in\n[Interface]\n", c->file);
	config_print_kv(f, "Name", "%s", c->ifname);
	config_print_kv(f, "Mode", "%s", c->mode == CONFIG_MODE_SECURE ? "secure" : "compat");
	if (c->listen)
		config_print_kv(f, "ListenPort", "%u", c->listen_port);
	else
		config_print_kv(f, "ListenPort", "none");
	for (size_t i = 0; i < c->naddrs; i++)
		config_print_kv(f, "Address", "%s", config_prefix_str(&c->addrs[i], b, sizeof(b)));
	if (c->mtu == 0)
		config_print_kv(f, "MTU", "auto # %u", config_tun_mtu(c));
	else
		config_print_kv(f, "MTU", "%u", c->mtu);
	config_print_kv(f, "UDPMTU", "%u", c->udp_mtu);
	if (c->mode == CONFIG_MODE_SECURE) {
		if (c->private_key_file != NULL)
			config_print_kv(f, "PrivateKeyFile", "%s", c->private_key_file);
		else if (c->has_private_key)
			config_print_kv(f, "PrivateKey", "(set)");
		config_print_kv(f, "Cipher", "%s", config_cipher_names[c->aead]);
		config_print_kv(f, "Obfuscate", "%s", c->obfuscate ? "yes" : "no");
	} else {
		config_print_kv(f, "Crypt", "%s", crypt_method_name(c->crypt));
		if (c->key_file != NULL)
			config_print_kv(f, "KeyFile", "%s", c->key_file);
		else if (c->key != NULL)
			config_print_kv(f, "Key", "(set)");
	}
	config_print_fec(f, c->fec_data, c->fec_parity);
	config_print_kv(f, "Profile", "%s", c->profile);
	if (config_is_manual(c->profile))
		config_print_knobs(f, &c->kcp, NULL);
	config_print_kv(f, "SndWnd", "%u", c->kcp.snd_wnd);
	config_print_kv(f, "RcvWnd", "%u", c->kcp.rcv_wnd);
	config_print_kv(f, "RateLimit", "%s", config_scaled_str(c->rate_bps, 1000, b, sizeof(b)));
	config_print_kv(f, "DSCP", "%u", c->dscp);
	config_print_kv(f, "SocketBuffer", "%s",
			config_scaled_str(c->socket_buffer_bytes, 1024, b, sizeof(b)));
	config_print_kv(f, "ControlSocket", "%s", c->control_socket);
	config_print_kv(f, "LogLevel", "%s", config_log_names[c->log_level]);
	if (c->fwmark == 0)
		config_print_kv(f, "FwMark", "0");
	else
		config_print_kv(f, "FwMark", "0x%x", c->fwmark);
	if (c->table == CONFIG_TABLE_NUMBER)
		config_print_kv(f, "Table", "%u", c->table_id);
	else
		config_print_kv(f, "Table", "%s", c->table == CONFIG_TABLE_OFF ? "off" : "auto");
	if (c->user != NULL)
		config_print_kv(f, "User", "%s", c->user);
	if (c->group != NULL)
		config_print_kv(f, "Group", "%s", c->group);
	for (size_t i = 0; i < c->npeers; i++) {
		const struct config_peer *p = &c->peers[i];

		fprintf(f, "\n[Peer]\n");
		config_print_kv(f, "Name", "%s", p->name);
		if (p->has_public_key) {
			char b64[KC_KEY_BASE64_LEN + 1];

			kc_key_to_base64(p->public_key, b64);
			config_print_kv(f, "PublicKey", "%s", b64);
		}
		if (p->psk_file != NULL)
			config_print_kv(f, "PresharedKeyFile", "%s", p->psk_file);
		else if (p->has_psk)
			config_print_kv(f, "PresharedKey", "(set)");
		if (p->endpoint != NULL)
			config_print_kv(f, "Endpoint", "%s", p->endpoint);
		for (size_t j = 0; j < p->nallowed; j++)
			config_print_kv(f, "AllowedIPs", "%s",
					config_prefix_str(&p->allowed[j], b, sizeof(b)));
		config_print_kv(f, "PersistentKeepalive", "%u", p->keepalive_s);
		config_print_overrides(f, c, p);
	}
}
