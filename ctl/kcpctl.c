/* kcpctl: a thin client of kcpvpnd's control socket (kcpctl(8), daemon/control_proto.h).
 *
 * One request, one reply line, then exit. A table of subcommands, one cmd_<name>() each:
 * tables for people, --json passes the daemon's reply line through untouched. Exit 0 on
 * success, 1 when the daemon refused (its message on stderr), 2 for usage errors or when no
 * daemon answers. No protocol logic of its own beyond the names in control_proto.h.
 *
 * genkey, pubkey and genpsk need no daemon: they make and convert the secure mode's keys with
 * libkcpcore's kcpcore/keys.h (the one part of the library kcpctl links), in wg(8)'s format. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/control_proto.h"
#include "kcpcore/keys.h"

#ifndef KCPCTL_VERSION
#define KCPCTL_VERSION "unknown"
#endif

#define KCPCTL_EXIT_OK	    0
#define KCPCTL_EXIT_REFUSED 1
#define KCPCTL_EXIT_USAGE   2 /* also: no daemon answers */
#define KCPCTL_TIMEOUT_MS   10000
#define KCPCTL_REPLY_MAX    (64 * 1024 * 1024)
#define KCPCTL_IFNAME_MAX   15	/* IFNAMSIZ - 1 */
#define KCPCTL_KEY_IN_MAX   256 /* bytes pubkey reads: a key, a newline, some slack */

struct kcpctl {
	const char *socket;
	bool json;     /* print the reply line as it came */
	double rtt_ms; /* of the last request */
};

struct kcpctl_cmd {
	const char *name;
	int (*fn)(struct kcpctl *k, int argc, char **argv);
	const char *args;
	const char *help;
};

static const struct kcpctl_cmd kcpctl_cmds[];

static void kcpctl_oom(void)
{
	fputs("kcpctl: out of memory\n", stderr);
	exit(KCPCTL_EXIT_USAGE);
}

/* Prints "kcpctl: <message>" and returns KCPCTL_EXIT_USAGE. */
static int kcpctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int kcpctl_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("kcpctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'kcpctl --help'.\n", stderr);
	return KCPCTL_EXIT_USAGE;
}

/* A malloc'ed printf; exits when memory runs out. */
static char *kcpctl_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *kcpctl_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		kcpctl_oom();
	return s;
}

static double kcpctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Connects to k->socket; prints why not and returns -1. */
static int kcpctl_connect(const struct kcpctl *k)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, e;

	if (strlen(k->socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "kcpctl: socket path too long (%zu bytes, at most %zu): %s\n",
			strlen(k->socket), sizeof(sa.sun_path) - 1, k->socket);
		return -1;
	}
	memcpy(sa.sun_path, k->socket, strlen(k->socket) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "kcpctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	close(fd);
	fprintf(stderr, "kcpctl: cannot connect to %s: %s%s\n", k->socket, strerror(e),
		e == ENOENT || e == ECONNREFUSED ? " (is kcpvpnd running?)"
		: e == EACCES || e == EPERM	 ? " (root or the socket's group may connect)"
						 : "");
	return -1;
}

static int kcpctl_send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one line (newline dropped) within KCPCTL_TIMEOUT_MS; NULL with a message on failure. */
static char *kcpctl_read_line(const struct kcpctl *k, int fd, double start_ms)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nl;

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int left_ms = KCPCTL_TIMEOUT_MS - (int)(kcpctl_now_ms() - start_ms);
		ssize_t n;

		if (left_ms <= 0 || poll(&pfd, 1, left_ms) == 0) {
			fprintf(stderr, "kcpctl: no reply from %s within %d s\n", k->socket,
				KCPCTL_TIMEOUT_MS / 1000);
			break;
		}
		if (cap - len < 4096) {
			char *grown;

			if (cap >= KCPCTL_REPLY_MAX) {
				fprintf(stderr, "kcpctl: reply longer than %d bytes\n",
					KCPCTL_REPLY_MAX);
				break;
			}
			cap = cap * 2 + 65536;
			grown = realloc(buf, cap);
			if (grown == NULL)
				kcpctl_oom();
			buf = grown;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "kcpctl: %s closed the connection without a reply%s%s\n",
				k->socket, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			break;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl != NULL) {
			*nl = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

/* Sends `req` (taken) and waits for its reply. Returns an exit code: with --json the line was
 * printed as it came; otherwise, on success, *reply holds the parsed reply for the caller. A
 * refusal prints the daemon's message on stderr. */
static int kcpctl_call(struct kcpctl *k, json_t *req, json_t **reply)
{
	char *out = json_dumps(req, JSON_COMPACT), *line;
	json_error_t jerr;
	double start_ms;
	json_t *r;
	int fd;

	*reply = NULL;
	json_decref(req);
	if (out == NULL)
		kcpctl_oom();
	fd = kcpctl_connect(k);
	if (fd < 0) {
		free(out);
		return KCPCTL_EXIT_USAGE;
	}
	start_ms = kcpctl_now_ms();
	line = NULL;
	if (kcpctl_send_all(fd, out, strlen(out)) == 0 && kcpctl_send_all(fd, "\n", 1) == 0)
		line = kcpctl_read_line(k, fd, start_ms);
	else
		fprintf(stderr, "kcpctl: cannot send to %s: %s\n", k->socket, strerror(errno));
	k->rtt_ms = kcpctl_now_ms() - start_ms;
	close(fd);
	free(out);
	if (line == NULL)
		return KCPCTL_EXIT_USAGE;
	if (k->json)
		puts(line);
	r = json_loads(line, 0, &jerr);
	if (!json_is_object(r) || !json_is_boolean(json_object_get(r, "ok"))) {
		fprintf(stderr, "kcpctl: malformed reply from %s: %s\n", k->socket,
			r == NULL ? jerr.text : "no boolean \"ok\"");
		json_decref(r);
		free(line);
		return KCPCTL_EXIT_USAGE;
	}
	free(line);
	if (json_is_false(json_object_get(r, "ok"))) {
		const char *msg = json_string_value(json_object_get(r, "message"));
		const char *code = json_string_value(json_object_get(r, "error"));

		fprintf(stderr, "kcpctl: %s (%s)\n", msg != NULL ? msg : "request refused",
			code != NULL ? code : "no error code");
		json_decref(r);
		return KCPCTL_EXIT_REFUSED;
	}
	if (k->json)
		json_decref(r);
	else
		*reply = r;
	return KCPCTL_EXIT_OK;
}

/* A request {"cmd":name}; exits when memory runs out. */
static json_t *kcpctl_req(const char *name)
{
	json_t *req = json_pack("{s:s}", "cmd", name);

	if (req == NULL)
		kcpctl_oom();
	return req;
}

/* Takes --json out of argv (options end at "--"); moves the rest to the front and returns how
 * many there are, or -1 after a usage message for any other option. */
static int kcpctl_args(struct kcpctl *k, const char *cmd, int argc, char **argv)
{
	int n = 0;
	bool opts = true;

	for (int i = 1; i < argc; i++) {
		if (opts && strcmp(argv[i], "--json") == 0) {
			k->json = true;
		} else if (opts && strcmp(argv[i], "--") == 0) {
			opts = false;
		} else if (opts && argv[i][0] == '-' && argv[i][1] != '\0') {
			kcpctl_usage("%s: unknown option %s", cmd, argv[i]);
			return -1;
		} else {
			argv[n++] = argv[i];
		}
	}
	return n;
}

#define KCPCTL_COLS_MAX 12

/* A table printed with columns aligned; cells are malloc'ed strings the table owns. */
struct kcpctl_table {
	size_t ncols, nrows;
	const char *align; /* 'l' or 'r' per column */
	char **cells;	   /* nrows * ncols */
};

static void kcpctl_table_add(struct kcpctl_table *t, ...)
{
	char **grown = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
	va_list ap;

	if (grown == NULL)
		kcpctl_oom();
	t->cells = grown;
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = va_arg(ap, char *);
	va_end(ap);
	t->nrows++;
}

/* Prints and frees the table; two spaces between columns, the last one not padded. */
static void kcpctl_table_print(struct kcpctl_table *t)
{
	size_t width[KCPCTL_COLS_MAX] = {0};

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols && i < KCPCTL_COLS_MAX; i++) {
			size_t w = strlen(t->cells[r * t->ncols + i]);

			width[i] = w > width[i] ? w : width[i];
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *cell = t->cells[r * t->ncols + i];
			bool last = i + 1 == t->ncols;
			int w = i < KCPCTL_COLS_MAX ? (int)width[i] : 0;

			if (t->align[i] == 'r')
				printf("%*s%s", w, cell, last ? "" : "  ");
			else if (last)
				fputs(cell, stdout);
			else
				printf("%-*s  ", w, cell);
			free(t->cells[r * t->ncols + i]);
		}
		putchar('\n');
	}
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

/* Member `key` of `o` as a malloc'ed string for a table cell: strings as they are, numbers
 * in decimal, null or absent as "-". */
static char *kcpctl_cell(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return kcpctl_fmt("%s", json_string_value(v));
	if (json_is_integer(v))
		return kcpctl_fmt("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v))
		return kcpctl_fmt("%.1f", json_real_value(v));
	if (json_is_boolean(v))
		return kcpctl_fmt("%s", json_is_true(v) ? "yes" : "no");
	return kcpctl_fmt("-");
}

/* Member `key` as a number in *v; false when absent or not a number. */
static bool kcpctl_num(const json_t *o, const char *key, double *v)
{
	const json_t *j = json_object_get(o, key);

	*v = json_number_value(j);
	return json_is_number(j);
}

/* A number with `decimals` and a unit ("48 ms", "1.2%"), or "-" when absent. */
static char *kcpctl_num_cell(const json_t *o, const char *key, int decimals, const char *unit)
{
	double v;

	return kcpctl_num(o, key, &v) ? kcpctl_fmt("%.*f%s", decimals, v, unit) : kcpctl_fmt("-");
}

/* Bytes for people: 1023 B, 1.0 KiB, 12.3 MiB... */
static char *kcpctl_bytes_cell(const json_t *o, const char *key)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v;
	size_t u = 0;

	if (!kcpctl_num(o, key, &v))
		return kcpctl_fmt("-");
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	return u == 0 ? kcpctl_fmt("%.0f B", v) : kcpctl_fmt("%.1f %s", v, units[u]);
}

/* A rate limit for people: off, 999 bit/s, 1.5 Mbit/s, 20 Mbit/s (powers of 1000, as the
 * configuration writes them), or "-" when absent. */
static char *kcpctl_rate_cell(const json_t *o, const char *key)
{
	static const char *const units[] = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"};
	double v;
	size_t u = 0;

	if (!kcpctl_num(o, key, &v))
		return kcpctl_fmt("-");
	if (v <= 0)
		return kcpctl_fmt("off");
	while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		u++;
	}
	return kcpctl_fmt("%.3g %s", v, units[u]);
}

/* Seconds for people: 45s, 5m03s, 2h04m, 3d04h. */
static char *kcpctl_age_cell(const json_t *o, const char *key)
{
	double v;
	long s;

	if (!kcpctl_num(o, key, &v) || v < 0)
		return kcpctl_fmt("-");
	s = (long)v;
	if (s < 60)
		return kcpctl_fmt("%lds", s);
	if (s < 3600)
		return kcpctl_fmt("%ldm%02lds", s / 60, s % 60);
	if (s < 86400)
		return kcpctl_fmt("%ldh%02ldm", s / 3600, s % 3600 / 60);
	return kcpctl_fmt("%ldd%02ldh", s / 86400, s % 86400 / 3600);
}

/* The strings of array member `key` joined with ", ", or "-". */
static char *kcpctl_list_cell(const json_t *o, const char *key)
{
	const json_t *a = json_object_get(o, key), *v;
	char *s = NULL, *t;
	size_t i;

	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			continue;
		t = s == NULL ? kcpctl_fmt("%s", json_string_value(v))
			      : kcpctl_fmt("%s, %s", s, json_string_value(v));
		free(s);
		s = t;
	}
	return s != NULL ? s : kcpctl_fmt("-");
}

/* "10:3 (5 rec)": the FEC setting and the shards it recovered. */
static char *kcpctl_fec_cell(const json_t *p)
{
	const char *fec = json_string_value(json_object_get(p, "fec"));
	double rec;

	if (fec == NULL)
		return kcpctl_fmt("-");
	if (strcmp(fec, "off") == 0 || !kcpctl_num(p, "fec_recovered", &rec))
		return kcpctl_fmt("%s", fec);
	return kcpctl_fmt("%s (%.0f rec)", fec, rec);
}

static void kcpctl_print_interface(const json_t *ifc)
{
	struct kcpctl_table t = {.ncols = 2, .align = "ll"};
	const json_t *port = json_object_get(ifc, "listen_port");
	double mtu, udp;

	kcpctl_table_add(&t, kcpctl_fmt("interface"), kcpctl_cell(ifc, "name"));
	kcpctl_table_add(&t, kcpctl_fmt("mode"), kcpctl_cell(ifc, "mode"));
	kcpctl_table_add(&t, kcpctl_fmt("listen port"),
			 json_is_integer(port) && json_integer_value(port) != 0
			     ? kcpctl_cell(ifc, "listen_port")
			     : kcpctl_fmt("none"));
	kcpctl_table_add(&t, kcpctl_fmt("mtu"),
			 kcpctl_num(ifc, "mtu", &mtu) && kcpctl_num(ifc, "udp_mtu", &udp)
			     ? kcpctl_fmt("%.0f (udp %.0f)", mtu, udp)
			     : kcpctl_cell(ifc, "mtu"));
	if (json_is_string(json_object_get(ifc, "public_key"))) {
		kcpctl_table_add(&t, kcpctl_fmt("public key"), kcpctl_cell(ifc, "public_key"));
		kcpctl_table_add(&t, kcpctl_fmt("cipher"),
				 json_is_true(json_object_get(ifc, "obfuscate"))
				     ? kcpctl_fmt("%s, obfuscated",
						  json_string_value(json_object_get(ifc, "cipher")))
				     : kcpctl_cell(ifc, "cipher"));
	} else {
		kcpctl_table_add(&t, kcpctl_fmt("crypt"), kcpctl_cell(ifc, "crypt"));
	}
	kcpctl_table_add(&t, kcpctl_fmt("fec"), kcpctl_cell(ifc, "fec"));
	kcpctl_table_add(&t, kcpctl_fmt("profile"), kcpctl_cell(ifc, "profile"));
	kcpctl_table_add(&t, kcpctl_fmt("rate limit"), kcpctl_rate_cell(ifc, "rate_limit_bps"));
	kcpctl_table_add(&t, kcpctl_fmt("addresses"), kcpctl_list_cell(ifc, "addresses"));
	kcpctl_table_add(&t, kcpctl_fmt("uptime"), kcpctl_age_cell(ifc, "uptime_s"));
	kcpctl_table_print(&t);
}

/* Secure mode: each peer's key and how fresh its keys are, as wg show tells it. */
static void kcpctl_print_secure(const json_t *peers)
{
	struct kcpctl_table t = {.ncols = 5, .align = "llrrr"};
	const json_t *p, *sec;
	size_t i;

	json_array_foreach(peers, i, p)
	{
		char *ago, *hs;

		sec = json_object_get(p, "secure");
		if (!json_is_object(sec))
			continue;
		if (t.nrows == 0)
			kcpctl_table_add(&t, kcpctl_fmt("PEER"), kcpctl_fmt("PUBLIC KEY"),
					 kcpctl_fmt("HANDSHAKE"), kcpctl_fmt("KEYS"),
					 kcpctl_fmt("HANDSHAKES"));
		if (json_is_integer(json_object_get(sec, "handshake_s_ago"))) {
			ago = kcpctl_age_cell(sec, "handshake_s_ago");
			hs = kcpctl_fmt("%s ago", ago);
			free(ago);
		} else {
			hs = kcpctl_fmt("never");
		}
		kcpctl_table_add(&t, kcpctl_cell(p, "name"), kcpctl_cell(sec, "public_key"), hs,
				 json_is_true(json_object_get(sec, "keypair"))
				     ? kcpctl_age_cell(sec, "keypair_age_s")
				     : kcpctl_fmt("none"),
				 kcpctl_cell(sec, "handshakes_done"));
	}
	if (t.nrows > 0) {
		putchar('\n');
		kcpctl_table_print(&t);
	}
}

static int cmd_status(struct kcpctl *k, int argc, char **argv)
{
	struct kcpctl_table t = {.ncols = 11, .align = "lllrrlrrrrr"};
	const json_t *peers, *p;
	json_t *r;
	size_t i;
	int rc, n = kcpctl_args(k, argv[0], argc, argv);

	if (n != 0)
		return n < 0 ? KCPCTL_EXIT_USAGE : kcpctl_usage("status takes no arguments");
	rc = kcpctl_call(k, kcpctl_req(CONTROL_CMD_STATUS), &r);
	if (r == NULL)
		return rc;
	kcpctl_print_interface(json_object_get(r, "interface"));
	peers = json_object_get(r, "peers");
	putchar('\n');
	if (json_array_size(peers) == 0) {
		puts("no peers");
		json_decref(r);
		return KCPCTL_EXIT_OK;
	}
	kcpctl_table_add(&t, kcpctl_fmt("PEER"), kcpctl_fmt("STATE"), kcpctl_fmt("ENDPOINT"),
			 kcpctl_fmt("RTT"), kcpctl_fmt("LOSS"), kcpctl_fmt("FEC"), kcpctl_fmt("RX"),
			 kcpctl_fmt("TX"), kcpctl_fmt("RETRANS"), kcpctl_fmt("OVERHEAD"),
			 kcpctl_fmt("LIMIT"));
	json_array_foreach(peers, i, p)
	{
		kcpctl_table_add(
		    &t, kcpctl_cell(p, "name"), kcpctl_cell(p, "state"), kcpctl_cell(p, "endpoint"),
		    kcpctl_num_cell(p, "srtt_ms", 0, " ms"), kcpctl_num_cell(p, "loss_pct", 1, "%"),
		    kcpctl_fec_cell(p), kcpctl_bytes_cell(p, "rx_bytes"),
		    kcpctl_bytes_cell(p, "tx_bytes"), kcpctl_cell(p, "retrans_segs"),
		    kcpctl_num_cell(p, "overhead_pct", 1, "%"),
		    kcpctl_rate_cell(p, "rate_limit_bps"));
	}
	kcpctl_table_print(&t);
	kcpctl_print_secure(peers);
	json_decref(r);
	return KCPCTL_EXIT_OK;
}

static int cmd_peers(struct kcpctl *k, int argc, char **argv)
{
	struct kcpctl_table t = {.ncols = 4, .align = "llll"};
	const json_t *p;
	json_t *r;
	size_t i;
	int rc, n = kcpctl_args(k, argv[0], argc, argv);

	if (n != 0)
		return n < 0 ? KCPCTL_EXIT_USAGE : kcpctl_usage("peers takes no arguments");
	rc = kcpctl_call(k, kcpctl_req(CONTROL_CMD_PEERS), &r);
	if (r == NULL)
		return rc;
	if (json_array_size(json_object_get(r, "peers")) == 0) {
		puts("no peers");
		json_decref(r);
		return KCPCTL_EXIT_OK;
	}
	kcpctl_table_add(&t, kcpctl_fmt("PEER"), kcpctl_fmt("STATE"), kcpctl_fmt("ENDPOINT"),
			 kcpctl_fmt("ALLOWED IPS"));
	json_array_foreach(json_object_get(r, "peers"), i, p)
	{
		kcpctl_table_add(&t, kcpctl_cell(p, "name"), kcpctl_cell(p, "state"),
				 kcpctl_cell(p, "endpoint"), kcpctl_list_cell(p, "allowed_ips"));
	}
	kcpctl_table_print(&t);
	json_decref(r);
	return KCPCTL_EXIT_OK;
}

/* The JSON value of tune's `key`=`text`, typed by CONTROL_TUNE_KEYS; NULL after a usage
 * message when the key is unknown or the text does not fit its type. */
static json_t *kcpctl_tune_value(const char *key, const char *text)
{
	static const struct {
		const char *name;
		enum control_type type;
	} keys[] = {
#define KCPCTL_TUNE_KEY(name, type) {name, type},
	    CONTROL_TUNE_KEYS(KCPCTL_TUNE_KEY)
#undef KCPCTL_TUNE_KEY
	};
	static const char *const yes[] = {"1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};
	json_t *str;
	char *end;
	long long v;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(keys[i].name, key) != 0)
			continue;
		switch (keys[i].type) {
		case CONTROL_T_INT:
			errno = 0;
			v = strtoll(text, &end, 10);
			if (text[0] == '\0' || *end != '\0' || errno != 0)
				break;
			return json_integer(v);
		case CONTROL_T_BOOL:
			for (size_t j = 0; j < sizeof(yes) / sizeof(yes[0]); j++) {
				if (strcasecmp(text, yes[j]) == 0)
					return json_true();
				if (strcasecmp(text, no[j]) == 0)
					return json_false();
			}
			break;
		case CONTROL_T_STRING:
			str = json_string(text); /* NULL when not UTF-8 */
			if (str != NULL)
				return str;
			break;
		}
		kcpctl_usage("tune: %s: expected %s, got \"%s\"", key,
			     keys[i].type == CONTROL_T_INT    ? "an integer"
			     : keys[i].type == CONTROL_T_BOOL ? "yes or no"
							      : "UTF-8 text",
			     text);
		return NULL;
	}
	{
		char known[256] = "";

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
				 i > 0 ? ", " : "", keys[i].name);
		kcpctl_usage("tune: unknown key \"%s\" (known: %s)", key, known);
	}
	return NULL;
}

static int cmd_tune(struct kcpctl *k, int argc, char **argv)
{
	int n = kcpctl_args(k, argv[0], argc, argv), first = 0, rc;
	json_t *req, *set, *r;

	if (n < 0)
		return KCPCTL_EXIT_USAGE;
	req = kcpctl_req(CONTROL_CMD_TUNE);
	if (n > 0 && strchr(argv[0], '=') == NULL) {
		first = 1;
		if (strcmp(argv[0], "all") != 0 &&
		    json_object_set_new(req, "peer", json_string(argv[0])) != 0) {
			json_decref(req);
			return kcpctl_usage("tune: bad peer name \"%s\"", argv[0]);
		}
	}
	if (first == n) {
		json_decref(req);
		return kcpctl_usage("tune: expected KEY=VALUE ...");
	}
	set = json_object();
	if (set == NULL || json_object_set_new(req, "set", set) != 0)
		kcpctl_oom();
	for (int i = first; i < n; i++) {
		char *eq = strchr(argv[i], '=');
		json_t *v;

		if (eq == NULL || eq == argv[i]) {
			json_decref(req);
			return kcpctl_usage("tune: expected KEY=VALUE, got \"%s\"", argv[i]);
		}
		*eq = '\0';
		if (json_object_get(set, argv[i]) != NULL) {
			json_decref(req);
			return kcpctl_usage("tune: %s given twice", argv[i]);
		}
		v = kcpctl_tune_value(argv[i], eq + 1);
		if (v == NULL || json_object_set_new(set, argv[i], v) != 0) {
			json_decref(req);
			return KCPCTL_EXIT_USAGE;
		}
	}
	rc = kcpctl_call(k, req, &r);
	json_decref(r);
	return rc;
}

static int cmd_show(struct kcpctl *k, int argc, char **argv)
{
	int n = kcpctl_args(k, argv[0], argc, argv), rc;
	const char *text;
	json_t *r;

	if (n < 0)
		return KCPCTL_EXIT_USAGE;
	if (n != 1 || strcmp(argv[0], "config") != 0)
		return kcpctl_usage("show: expected \"show config\"");
	rc = kcpctl_call(k, kcpctl_req(CONTROL_CMD_SHOW_CONFIG), &r);
	if (r == NULL)
		return rc;
	text = json_string_value(json_object_get(r, "config"));
	if (text == NULL) {
		fprintf(stderr, "kcpctl: malformed reply from %s: no \"config\" string\n",
			k->socket);
		json_decref(r);
		return KCPCTL_EXIT_USAGE;
	}
	fputs(text, stdout);
	if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
		putchar('\n');
	json_decref(r);
	return KCPCTL_EXIT_OK;
}

static int cmd_ping(struct kcpctl *k, int argc, char **argv)
{
	int n = kcpctl_args(k, argv[0], argc, argv), rc;
	json_t *r;

	if (n != 0)
		return n < 0 ? KCPCTL_EXIT_USAGE : kcpctl_usage("ping takes no arguments");
	rc = kcpctl_call(k, kcpctl_req(CONTROL_CMD_PING), &r);
	if (r == NULL)
		return rc;
	printf("pong from %s in %.2f ms\n", k->socket, k->rtt_ms);
	json_decref(r);
	return KCPCTL_EXIT_OK;
}

/* Writes all of buf[0..len) to fd; -1 with errno on failure. */
static int kcpctl_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Prints key in base64 and a newline, straight to fd 1 (no stdio buffer keeps a copy), and
 * wipes key. A secret written to a regular file that others may read gets a warning first. */
static int kcpctl_print_key(const char *cmd, uint8_t key[KC_KEY_LEN], bool secret)
{
	char line[KC_KEY_BASE64_LEN + 2];
	struct stat st;
	int rc = KCPCTL_EXIT_OK;

	if (secret && fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & S_IRWXO) != 0)
		fprintf(stderr,
			"kcpctl: %s: warning: others may read the file this key goes to "
			"(set umask 077 first)\n",
			cmd);
	kc_key_to_base64(key, line);
	explicit_bzero(key, KC_KEY_LEN);
	line[KC_KEY_BASE64_LEN] = '\n';
	line[KC_KEY_BASE64_LEN + 1] = '\0';
	if (kcpctl_write_all(STDOUT_FILENO, line, KC_KEY_BASE64_LEN + 1) < 0) {
		fprintf(stderr, "kcpctl: %s: cannot write the key: %s\n", cmd, strerror(errno));
		rc = KCPCTL_EXIT_USAGE;
	}
	explicit_bzero(line, sizeof(line));
	return rc;
}

/* genkey and genpsk: 32 new bytes from `draw`, printed. */
static int kcpctl_new_key(struct kcpctl *k, int argc, char **argv, int (*draw)(uint8_t *))
{
	uint8_t key[KC_KEY_LEN];
	int rc;

	(void)k;
	if (argc > 1)
		return kcpctl_usage("%s takes no arguments", argv[0]);
	rc = draw(key);
	if (rc < 0) {
		fprintf(stderr, "kcpctl: %s: no random bytes: %s\n", argv[0], strerror(-rc));
		return KCPCTL_EXIT_USAGE;
	}
	return kcpctl_print_key(argv[0], key, true);
}

static int cmd_genkey(struct kcpctl *k, int argc, char **argv)
{
	return kcpctl_new_key(k, argc, argv, kc_key_generate);
}

static int cmd_genpsk(struct kcpctl *k, int argc, char **argv)
{
	return kcpctl_new_key(k, argc, argv, kc_key_random);
}

/* Reads a private key from stdin (trailing whitespace allowed: "kcpctl genkey | kcpctl pubkey",
 * a file with a newline) and prints its public key. The input is a secret: messages give its
 * length, never its bytes. */
static int cmd_pubkey(struct kcpctl *k, int argc, char **argv)
{
	char in[KCPCTL_KEY_IN_MAX + 1];
	uint8_t priv[KC_KEY_LEN], pub[KC_KEY_LEN];
	size_t len = 0;
	int rc = KCPCTL_EXIT_USAGE;

	(void)k;
	if (argc > 1)
		return kcpctl_usage("pubkey takes no arguments; it reads the private key on stdin");
	while (len < sizeof(in)) {
		ssize_t n = read(STDIN_FILENO, in + len, sizeof(in) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "kcpctl: pubkey: cannot read stdin: %s\n", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > KCPCTL_KEY_IN_MAX) {
		fprintf(stderr,
			"kcpctl: pubkey: stdin holds more than a key (over %d bytes); expected one "
			"private key in base64, as kcpctl genkey prints it\n",
			KCPCTL_KEY_IN_MAX);
		goto out;
	}
	while (len > 0 && strchr(" \t\r\n", in[len - 1]) != NULL)
		len--;
	in[len] = '\0';
	if (len == 0) {
		fprintf(stderr, "kcpctl: pubkey: nothing on stdin; expected a private key, as in "
				"\"kcpctl genkey | kcpctl pubkey\"\n");
		goto out;
	}
	if (strlen(in) != len || kc_key_from_base64(in, priv) < 0) {
		fprintf(stderr,
			"kcpctl: pubkey: stdin is not a private key: expected %d base64 characters "
			"ending in '=', as kcpctl genkey prints them, got %zu bytes (not shown)\n",
			KC_KEY_BASE64_LEN, len);
		goto out;
	}
	if (kc_key_public(priv, pub) < 0) {
		fprintf(stderr, "kcpctl: pubkey: the crypto library failed\n");
		goto out;
	}
	rc = kcpctl_print_key("pubkey", pub, false);
out:
	explicit_bzero(in, sizeof(in));
	explicit_bzero(priv, sizeof(priv));
	return rc;
}

static const struct kcpctl_cmd kcpctl_cmds[] = {
    {"status", cmd_status, "[--json]", "the interface and every peer's figures"},
    {"peers", cmd_peers, "[--json]", "peers with their state, endpoint and allowed IPs"},
    {"tune", cmd_tune, "[PEER|all] KEY=VALUE ...", "change FEC, windows, profile, rate limit"},
    {"show", cmd_show, "config [--json]", "the configuration as the daemon understood it"},
    {"ping", cmd_ping, "", "check that the daemon answers"},
    {"genkey", cmd_genkey, "", "print a new private key (no daemon needed)"},
    {"pubkey", cmd_pubkey, "< PRIVATE_KEY", "print the public key of the private key on stdin"},
    {"genpsk", cmd_genpsk, "", "print a new pre-shared key"},
    {NULL, NULL, NULL, NULL},
};

static void kcpctl_help(void)
{
	printf("usage: kcpctl [-s SOCKET | -i IFNAME] [--json] COMMAND [ARGS]\n"
	       "Queries and tunes a running kcpvpnd over its control socket, and makes the\n"
	       "secure mode's keys.\n\n"
	       "  -s, --socket PATH   control socket (default $KCPCTL_SOCKET, else %s)\n"
	       "  -i, --interface IF  the socket of interface IF: %s/IF%s\n"
	       "      --json          print the daemon's reply as it came (one JSON line)\n"
	       "  -h, --help          this text\n"
	       "  -V, --version       the version\n\n"
	       "commands:\n",
	       CONTROL_SOCKET_DEFAULT, CONTROL_SOCKET_DIR, CONTROL_SOCKET_SUFFIX);
	for (const struct kcpctl_cmd *c = kcpctl_cmds; c->name != NULL; c++) {
		char head[64];

		snprintf(head, sizeof(head), "%s %s", c->name, c->args);
		printf("  %-34s %s\n", head, c->help);
	}
	printf("\ntune keys: fec=D:P|off mode=normal|fast|fast2|fast3|default|manual sndwnd=N\n"
	       "  rcvwnd=N ratelimit=BITS[k|M|G] nodelay=0|1 interval=MS resend=N nc=yes|no\n"
	       "exit status: 0 success, 1 the daemon refused, 2 usage error, no daemon or not a "
	       "key\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'}, {"interface", required_argument, NULL, 'i'},
	    {"json", no_argument, NULL, 'j'},	      {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};
	struct kcpctl k = {.socket = NULL};
	char ifpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *env = getenv("KCPCTL_SOCKET"), *ifname = NULL;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+s:i:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			k.socket = optarg;
			break;
		case 'i':
			ifname = optarg;
			break;
		case 'j':
			k.json = true;
			break;
		case 'h':
			kcpctl_help();
			return KCPCTL_EXIT_OK;
		case 'V':
			puts("kcpctl " KCPCTL_VERSION);
			return KCPCTL_EXIT_OK;
		case ':':
			return kcpctl_usage("option %s needs an argument", argv[optind - 1]);
		default:
			return kcpctl_usage("unknown option %s", argv[optind - 1]);
		}
	}
	if (k.socket != NULL && ifname != NULL)
		return kcpctl_usage("-s and -i exclude each other");
	if (ifname != NULL) {
		if (ifname[0] == '\0' || strlen(ifname) > KCPCTL_IFNAME_MAX ||
		    strchr(ifname, '/') != NULL || strcmp(ifname, ".") == 0 ||
		    strcmp(ifname, "..") == 0)
			return kcpctl_usage("-i: not an interface name: \"%s\"", ifname);
		snprintf(ifpath, sizeof(ifpath), "%s/%s%s", CONTROL_SOCKET_DIR, ifname,
			 CONTROL_SOCKET_SUFFIX);
		k.socket = ifpath;
	}
	if (k.socket == NULL)
		k.socket = env != NULL && env[0] != '\0' ? env : CONTROL_SOCKET_DEFAULT;
	if (optind >= argc)
		return kcpctl_usage("no command given");
	for (const struct kcpctl_cmd *c = kcpctl_cmds; c->name != NULL; c++)
		if (strcmp(c->name, argv[optind]) == 0)
			return c->fn(&k, argc - optind, argv + optind);
	return kcpctl_usage("unknown command \"%s\"", argv[optind]);
}
