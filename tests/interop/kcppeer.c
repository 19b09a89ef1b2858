/* kcppeer: libkcpcore's session on a real UDP socket, the C side of the kcp-go interop tests.
 *
 * It takes kcpgo-peer's flags and speaks its message format (see kcpgo-peer/main.go):
 *   message i: bytes 0..3 = i (u32 LE), 4..5 = L (u16 LE), byte j = (uint8)(i*131 + j*7) ^ 0x5a,
 *   L = 6 + (i*7919) % (MAXLEN-5).
 * server: learns the conv from the first datagram (as a kcp-go Listener does), checks every
 *   message and echoes it; after -n it waits until every echo is acknowledged, prints
 *   "kcppeer: server ok n=N" and exits 0.
 * client: random conv, sends -n messages, checks the echoes, prints
 *   "kcppeer: client ok n=N rtt_avg_ms=X", then keeps acknowledging until 3 s pass quietly.
 * Both exit 1 with a line naming the first mismatch, or when -timeout expires. -loss drops that
 * share of datagrams in both directions at this peer. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kcpcore/crypt.h"
#include "kcpcore/error.h"
#include "kcpcore/pool.h"
#include "kcpcore/session.h"

#define LINGER_QUIET_MS 3000

struct peer {
	const char *role, *listen, *dial, *crypt_name, *key, *mode;
	unsigned ds, ps, mtu, sndwnd, rcvwnd, n, maxlen;
	double loss_pct, timeout_s;
	uint64_t rng;
	int fd;
	struct sockaddr_in remote;
	bool have_remote;
	struct pool *pool;
	struct session *s;
	struct session_params sp;
	struct crypt *peek; /* server: opens the first datagram to learn the conv */
	unsigned checked, sent;
	uint32_t *sent_ms;
	uint64_t rtt_sum;
	unsigned long dropped_in, dropped_out;
	uint8_t msg[65536];
};

/* One line of counters on stderr, in the form run-interop.sh reads (it checks that a peer given
 * -loss really dropped datagrams). */
static void print_stats(const struct peer *p)
{
	struct session_stats st = {0};

	if (p->s != NULL)
		session_get_stats(p->s, &st);
	fprintf(stderr,
		"kcppeer: stats role=%s in=%llu out=%llu retrans=%llu fec_recovered=%llu "
		"csum_errs=%llu kcp_errs=%llu dropped_in=%lu dropped_out=%lu\n",
		p->role, (unsigned long long)st.in_pkts, (unsigned long long)st.out_pkts,
		(unsigned long long)st.kcp.retrans_segs, (unsigned long long)st.fec_rx.recovered,
		(unsigned long long)st.in_csum_errs, (unsigned long long)st.kcp_in_errs,
		p->dropped_in, p->dropped_out);
}

static void die(struct peer *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kcppeer: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (p != NULL)
		print_stats(p);
	exit(1);
}

static uint32_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static bool lose(struct peer *p)
{
	if (p->loss_pct <= 0)
		return false;
	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 7;
	p->rng ^= p->rng << 17;
	return (double)(p->rng >> 11) / 9007199254740992.0 * 100.0 < p->loss_pct;
}

static unsigned msg_len(const struct peer *p, unsigned i)
{
	return 6 + (unsigned)(((uint64_t)i * 7919) % (p->maxlen - 5));
}

static void msg_make(const struct peer *p, unsigned i, uint8_t *m)
{
	unsigned len = msg_len(p, i);

	m[0] = (uint8_t)i;
	m[1] = (uint8_t)(i >> 8);
	m[2] = (uint8_t)(i >> 16);
	m[3] = (uint8_t)(i >> 24);
	m[4] = (uint8_t)len;
	m[5] = (uint8_t)(len >> 8);
	for (unsigned j = 6; j < len; j++)
		m[j] = (uint8_t)(i * 131 + j * 7) ^ 0x5a;
}

static void msg_check(struct peer *p, const uint8_t *m, int n)
{
	unsigned i = p->checked;
	unsigned want = msg_len(p, i);

	if (n < 6)
		die(p, "message %u: %d bytes, too short", i, n);
	if ((uint32_t)(m[0] | m[1] << 8 | m[2] << 16 | (uint32_t)m[3] << 24) != i)
		die(p, "message %u: carries index %u", i,
		    (unsigned)(m[0] | m[1] << 8 | m[2] << 16 | (uint32_t)m[3] << 24));
	if ((unsigned)n != want || (unsigned)(m[4] | m[5] << 8) != want)
		die(p, "message %u: length %d, header %u, expected %u", i, n, m[4] | m[5] << 8,
		    want);
	for (unsigned j = 6; j < want; j++)
		if (m[j] != ((uint8_t)(i * 131 + j * 7) ^ 0x5a))
			die(p, "message %u: byte %u is %02x", i, j, m[j]);
	p->checked++;
}

static void peer_output(struct pkt *pk, void *user)
{
	struct peer *p = user;

	if (lose(p))
		p->dropped_out++;
	else if (p->have_remote)
		sendto(p->fd, pkt_data(pk), pk->len, 0, (struct sockaddr *)&p->remote,
		       sizeof(p->remote));
	pool_put(p->pool, pk);
}

static void parse_addr(struct peer *p, const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		die(NULL, "bad address \"%s\": expected IPv4:PORT", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		die(p, "bad address \"%s\"", s);
}

static void usage(void)
{
	fprintf(stderr, "usage: kcppeer -role server|client (-listen|-dial) IPv4:PORT [-crypt NAME] "
			"[-key PASS] [-ds N -ps N] [-mtu N] [-mode normal|fast|fast2|fast3] "
			"[-sndwnd N] [-rcvwnd N] [-n N] [-maxlen N] [-loss PCT] [-seed N] "
			"[-timeout S]\n");
	exit(2);
}

static void parse_args(struct peer *p, int argc, char **argv)
{
	p->crypt_name = "aes";
	p->key = "it's a secrect";
	p->mode = "fast";
	p->mtu = 1400;
	p->sndwnd = p->rcvwnd = 1024;
	p->n = 100;
	p->timeout_s = 30;
	p->rng = 1;
	for (int i = 1; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (f[0] == '-' && f[1] == '-')
			f++;
		if (v == NULL)
			usage();
		i++;
		if (strcmp(f, "-role") == 0)
			p->role = v;
		else if (strcmp(f, "-listen") == 0)
			p->listen = v;
		else if (strcmp(f, "-dial") == 0)
			p->dial = v;
		else if (strcmp(f, "-crypt") == 0)
			p->crypt_name = v;
		else if (strcmp(f, "-key") == 0)
			p->key = v;
		else if (strcmp(f, "-mode") == 0)
			p->mode = v;
		else if (strcmp(f, "-ds") == 0)
			p->ds = (unsigned)atoi(v);
		else if (strcmp(f, "-ps") == 0)
			p->ps = (unsigned)atoi(v);
		else if (strcmp(f, "-mtu") == 0)
			p->mtu = (unsigned)atoi(v);
		else if (strcmp(f, "-sndwnd") == 0)
			p->sndwnd = (unsigned)atoi(v);
		else if (strcmp(f, "-rcvwnd") == 0)
			p->rcvwnd = (unsigned)atoi(v);
		else if (strcmp(f, "-n") == 0)
			p->n = (unsigned)atoi(v);
		else if (strcmp(f, "-maxlen") == 0)
			p->maxlen = (unsigned)atoi(v);
		else if (strcmp(f, "-loss") == 0)
			p->loss_pct = atof(v);
		else if (strcmp(f, "-seed") == 0)
			p->rng = strtoull(v, NULL, 0) * 0x9e3779b97f4a7c15ull | 1;
		else if (strcmp(f, "-timeout") == 0)
			p->timeout_s = atof(v);
		else
			usage();
	}
	if (p->role == NULL || (strcmp(p->role, "server") == 0 ? p->listen : p->dial) == NULL)
		usage();
}

static void setup(struct peer *p)
{
	enum crypt_method m;
	const char *why;
	int err, mss;

	session_params_default(&p->sp);
	if (crypt_method_parse(p->crypt_name, &m, &why) < 0)
		die(p, "-crypt %s: %s", p->crypt_name, why);
	p->sp.crypt = m;
	crypt_kdf_kcptun(p->key, strlen(p->key), p->sp.key);
	p->sp.fec_data = p->ds;
	p->sp.fec_parity = p->ps;
	p->sp.udp_mtu = p->mtu;
	if (kcp_params_profile(&p->sp.kcp, p->mode) < 0)
		die(p, "-mode %s: expected normal, fast, fast2 or fast3", p->mode);
	p->sp.kcp.snd_wnd = p->sndwnd;
	p->sp.kcp.rcv_wnd = p->rcvwnd;
	mss = session_mss(p->mtu, m, p->ds > 0);
	if (mss < 6)
		die(p, "-mtu %u leaves no room for messages", p->mtu);
	if (p->maxlen == 0)
		p->maxlen = (unsigned)mss;
	if (p->maxlen < 6 || p->maxlen > (unsigned)mss)
		die(p, "-maxlen %u: must be 6..%d (one segment)", p->maxlen, mss);
	p->pool = pool_new(8192, KC_HEADROOM + 1500 + 64, &err);
	if (p->pool == NULL)
		die(p, "pool: %s", kc_strerror(err));
	p->sent_ms = calloc(p->n + 1, sizeof(*p->sent_ms));
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (p->fd < 0 || p->sent_ms == NULL)
		die(p, "socket: %s", strerror(errno));
	if (strcmp(p->role, "server") == 0) {
		struct sockaddr_in sa;

		parse_addr(p, p->listen, &sa);
		if (bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die(p, "bind %s: %s", p->listen, strerror(errno));
		if (m != CRYPT_NULL) {
			p->peek = crypt_new(m, p->sp.key, &err);
			if (p->peek == NULL)
				die(p, "crypt: %s", kc_strerror(err));
		}
	} else {
		parse_addr(p, p->dial, &p->remote);
		p->have_remote = true;
		if (getrandom(&p->sp.conv, sizeof(p->sp.conv), 0) != sizeof(p->sp.conv))
			die(p, "getrandom: %s", strerror(errno));
		p->s = session_new(&p->sp, p->pool, peer_output, p, &err);
		if (p->s == NULL)
			die(p, "session: %s", kc_strerror(err));
	}
}

/* Server: the first datagram that opens with a conv creates the session, as in kcp-go. */
static void server_accept(struct peer *p, uint8_t *dg, size_t len, struct sockaddr_in *from,
			  uint32_t now)
{
	uint8_t *body;
	size_t blen;
	struct session_peek pk;
	int err;

	if (session_open(p->peek, dg, len, &body, &blen) < 0 || session_peek(body, blen, &pk) < 0)
		return;
	p->sp.conv = pk.conv;
	p->s = session_new(&p->sp, p->pool, peer_output, p, &err);
	if (p->s == NULL)
		die(p, "session: %s", kc_strerror(err));
	p->remote = *from;
	p->have_remote = true;
	session_input_opened(p->s, body, blen, len, now);
}

static void handle_messages(struct peer *p, uint32_t now)
{
	int n;

	while (p->s != NULL && (n = session_recv(p->s, p->msg, sizeof(p->msg))) >= 0) {
		unsigned i = p->checked;

		msg_check(p, p->msg, n);
		if (strcmp(p->role, "server") == 0) {
			int err = session_send(p->s, p->msg, (size_t)n);

			if (err < 0) /* the client's window bounds what it sends: cannot be full */
				die(p, "echo %u: %s", i, kc_strerror(err));
		} else {
			p->rtt_sum += now - p->sent_ms[i];
		}
	}
}

int main(int argc, char **argv)
{
	struct peer *p = calloc(1, sizeof(*p));
	uint32_t start, last_rx, now;
	bool server, done = false;

	if (p == NULL)
		return 1;
	parse_args(p, argc, argv);
	setup(p);
	server = strcmp(p->role, "server") == 0;
	start = last_rx = now_ms();
	for (;;) {
		struct pollfd pfd = {p->fd, POLLIN, 0};
		uint32_t due;
		int wait = 10;

		now = now_ms();
		if (now - start > (uint32_t)(p->timeout_s * 1000))
			die(p, "%s: timeout after %u of %u messages", p->role, p->checked, p->n);
		if (p->s != NULL && session_check(p->s, now, &due))
			wait = (int32_t)(due - now) < 0 ? 0 : (int)(due - now) > 10 ? 10 : (int)(due - now);
		poll(&pfd, 1, wait);
		now = now_ms();
		for (;;) {
			struct sockaddr_in from;
			socklen_t flen = sizeof(from);
			ssize_t len = recvfrom(p->fd, p->msg, sizeof(p->msg), 0,
					       (struct sockaddr *)&from, &flen);

			if (len < 0)
				break;
			if (lose(p)) {
				p->dropped_in++;
				continue;
			}
			last_rx = now;
			if (p->s == NULL)
				server_accept(p, p->msg, (size_t)len, &from, now);
			else
				session_input(p->s, p->msg, (size_t)len, now);
			handle_messages(p, now);
		}
		if (!server) {
			while (p->sent < p->n) {
				msg_make(p, p->sent, p->msg);
				if (session_send(p->s, p->msg, msg_len(p, p->sent)) < 0)
					break; /* window full: later */
				p->sent_ms[p->sent++] = now;
			}
		}
		if (p->s != NULL)
			session_update(p->s, now);
		if (!done && p->checked == p->n && p->s != NULL &&
		    (!server || kcp_wait_snd(session_kcp(p->s)) == 0)) {
			done = true;
			if (server) {
				printf("kcppeer: server ok n=%u\n", p->n);
				fflush(stdout);
				break;
			}
			printf("kcppeer: client ok n=%u rtt_avg_ms=%.1f\n", p->n,
			       (double)p->rtt_sum / p->n);
			fflush(stdout);
			print_stats(p);
		}
		if (done && now - last_rx > LINGER_QUIET_MS)
			break;
	}
	print_stats(p);
	session_free(p->s);
	crypt_free(p->peek);
	pool_free(p->pool);
	free(p->sent_ms);
	close(p->fd);
	free(p);
	return 0;
}
