/*
 * rr: request/response latency over one TCP connection, for bench/vpn-bench.sh.
 *
 *   rr server [-C cc] [-t timeout_s] ADDR PORT
 *	accepts one connection and echoes every byte back until the client closes.
 *   rr client [-C cc] [-d duration_s] [-i interval_ms] [-s size_bytes] [-w drain_s]
 *	      [-o series_file] ADDR PORT
 *	writes a message of size_bytes every interval_ms for duration_s (open loop: the
 *	schedule does not wait for replies) and times each until its echo is complete.
 *   -C sets the socket's TCP congestion control (TCP_CONGESTION) on either side; without it
 *   the namespace's default applies. -o writes "seq sched_ms completion_ms" for each message
 *   that came back, in order, to series_file.
 *
 * A message's completion time runs from its scheduled send time to the arrival of its
 * last echoed byte, so a late write counts against the path rather than hiding
 * (no coordinated omission). Each message starts with its sequence number (u64,
 * little-endian) and the echo is checked against it. The client prints one line:
 *   rr cc=CC sent=N done=M size_bytes=S interval_ms=I p50_ms=A p90_ms=B p99_ms=C max_ms=D
 *     mean_ms=E
 * (CC as the kernel reports it for the client's socket)
 * and exits 0 when every message came back intact before the drain time ran out, 1 when
 * some did not (the line is printed all the same), 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RR_SIZE_MAX	 65536
#define RR_OUTBUF_BYTES	 (4u << 20)
#define RR_CONNECT_MS	 5000

struct rr_client {
	int fd;
	size_t size_bytes;
	uint64_t count;		/* messages to send */
	uint64_t interval_ns;
	uint64_t start_ns;
	uint64_t sent;		/* messages queued for writing */
	uint64_t done;		/* messages whose echo is complete */
	uint64_t *lat_ns;	/* completion time of each done message */
	unsigned char *out;	/* bytes queued, not yet written */
	size_t out_len;
	unsigned char *in;	/* the echo of the message being received */
	size_t in_len;
	int corrupt;
};

static uint64_t
rr_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
rr_put_u64le(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
rr_get_u64le(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Resolves ADDR PORT for a stream socket into *res. Returns 0 or -1 with a message printed. */
static int
rr_resolve(const char *addr, const char *port, int passive, struct addrinfo **res)
{
	struct addrinfo hints;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	rc = getaddrinfo(addr, port, &hints, res);
	if (rc != 0) {
		fprintf(stderr, "rr: %s port %s: %s\n", addr, port, gai_strerror(rc));
		return -1;
	}
	return 0;
}

static void
rr_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		perror("rr: TCP_NODELAY");
}

/* Sets the congestion control of fd to cc unless cc is NULL. Returns 0 or -1 with a message. */
static int
rr_set_cc(int fd, const char *cc)
{
	if (cc == NULL)
		return 0;
	if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) != 0) {
		fprintf(stderr, "rr: TCP_CONGESTION %s: %s\n", cc, strerror(errno));
		return -1;
	}
	return 0;
}

/* Accepts one connection within timeout_s and echoes it until EOF. Returns the exit status. */
static int
rr_server(const char *addr, const char *port, int timeout_s, const char *cc)
{
	static unsigned char buf[RR_SIZE_MAX];
	struct addrinfo *ai;
	struct pollfd pfd;
	int lfd, fd, one = 1, status = 1;

	if (rr_resolve(addr, port, 1, &ai) != 0)
		return 1;
	lfd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (lfd < 0) {
		perror("rr: socket");
		goto out_ai;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(lfd, 1) != 0) {
		perror("rr: bind/listen");
		goto out_lfd;
	}
	pfd.fd = lfd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout_s * 1000) <= 0) {
		fprintf(stderr, "rr: no client within %d s\n", timeout_s);
		goto out_lfd;
	}
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		perror("rr: accept");
		goto out_lfd;
	}
	rr_nodelay(fd);
	if (rr_set_cc(fd, cc) != 0)
		goto out_fd;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf)), off = 0;

		if (n == 0) {
			status = 0;
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("rr: read");
			break;
		}
		while (off < n) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				perror("rr: write");
				goto out_fd;
			}
			off += w;
		}
	}
out_fd:
	close(fd);
out_lfd:
	close(lfd);
out_ai:
	freeaddrinfo(ai);
	return status;
}

/* Connects a non-blocking socket to ADDR PORT within RR_CONNECT_MS. Returns it or -1. */
static int
rr_connect(const char *addr, const char *port, const char *cc)
{
	struct addrinfo *ai;
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t len = sizeof(err);

	if (rr_resolve(addr, port, 0, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0) {
		perror("rr: socket");
		goto fail_ai;
	}
	if (rr_set_cc(fd, cc) != 0)
		goto fail_fd;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		perror("rr: connect");
		goto fail_fd;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, RR_CONNECT_MS) <= 0) {
		fprintf(stderr, "rr: connect to %s port %s timed out\n", addr, port);
		goto fail_fd;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
		fprintf(stderr, "rr: connect to %s port %s: %s\n", addr, port, strerror(err));
		goto fail_fd;
	}
	freeaddrinfo(ai);
	rr_nodelay(fd);
	return fd;
fail_fd:
	close(fd);
fail_ai:
	freeaddrinfo(ai);
	return -1;
}

/* Queues message c->sent for writing. Returns 0, or -1 when the output buffer is full. */
static int
rr_client_queue(struct rr_client *c)
{
	unsigned char *m;

	if (c->out_len + c->size_bytes > RR_OUTBUF_BYTES)
		return -1;
	m = c->out + c->out_len;
	memset(m, 0x5a, c->size_bytes);
	rr_put_u64le(m, c->sent);
	c->out_len += c->size_bytes;
	c->sent++;
	return 0;
}

/* Writes what the socket takes. Returns 0 or -1 on a socket error. */
static int
rr_client_write(struct rr_client *c)
{
	while (c->out_len > 0) {
		ssize_t w = write(c->fd, c->out, c->out_len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			perror("rr: write");
			return -1;
		}
		memmove(c->out, c->out + w, c->out_len - (size_t)w);
		c->out_len -= (size_t)w;
	}
	return 0;
}

/* Reads what has arrived and completes messages. Returns 0, or -1 on EOF or an error. */
static int
rr_client_read(struct rr_client *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->in_len, c->size_bytes - c->in_len);

		if (n == 0) {
			fprintf(stderr, "rr: the server closed the connection\n");
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			perror("rr: read");
			return -1;
		}
		c->in_len += (size_t)n;
		if (c->in_len < c->size_bytes)
			continue;
		if (rr_get_u64le(c->in) != c->done || c->in[c->size_bytes - 1] != 0x5a)
			c->corrupt = 1;
		c->lat_ns[c->done] = rr_now_ns() - (c->start_ns + c->done * c->interval_ns);
		c->done++;
		c->in_len = 0;
	}
}

/* Writes each completed message's sequence, scheduled send time and completion time. */
static int
rr_client_series(const struct rr_client *c, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "rr: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (uint64_t i = 0; i < c->done; i++)
		fprintf(f, "%llu %.3f %.3f\n", (unsigned long long)i,
			(double)(i * c->interval_ns) / 1e6, (double)c->lat_ns[i] / 1e6);
	if (fclose(f) != 0) {
		fprintf(stderr, "rr: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
rr_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The q-quantile of sorted v[0..n-1] by nearest rank, in milliseconds. */
static double
rr_quantile_ms(const uint64_t *v, uint64_t n, double q)
{
	uint64_t rank = (uint64_t)(q * (double)n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / 1e6;
}

static void
rr_client_report(struct rr_client *c)
{
	char cc[32] = "?";
	socklen_t len = sizeof(cc) - 1;
	double sum_ms = 0;

	if (getsockopt(c->fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len) != 0)
		strcpy(cc, "?");
	qsort(c->lat_ns, c->done, sizeof(c->lat_ns[0]), rr_cmp_u64);
	for (uint64_t i = 0; i < c->done; i++)
		sum_ms += (double)c->lat_ns[i] / 1e6;
	printf("rr cc=%s sent=%llu done=%llu size_bytes=%zu interval_ms=%.3f", cc,
	       (unsigned long long)c->sent, (unsigned long long)c->done, c->size_bytes,
	       (double)c->interval_ns / 1e6);
	if (c->done > 0)
		printf(" p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f mean_ms=%.2f",
		       rr_quantile_ms(c->lat_ns, c->done, 0.50),
		       rr_quantile_ms(c->lat_ns, c->done, 0.90),
		       rr_quantile_ms(c->lat_ns, c->done, 0.99),
		       rr_quantile_ms(c->lat_ns, c->done, 1.0), sum_ms / (double)c->done);
	printf("%s\n", c->corrupt ? " corrupt=1" : "");
}

/* Runs the open-loop schedule, then waits up to drain_s for the last echoes. */
static int
rr_client_run(struct rr_client *c, double drain_s)
{
	uint64_t deadline_ns = 0;

	c->start_ns = rr_now_ns();
	while (c->done < c->count) {
		uint64_t now_ns = rr_now_ns(), next_ns;
		struct pollfd pfd;
		int wait_ms;

		while (c->sent < c->count && now_ns >= c->start_ns + c->sent * c->interval_ns) {
			if (rr_client_queue(c) != 0) {
				fprintf(stderr, "rr: %u bytes unsent, giving up\n", RR_OUTBUF_BYTES);
				return -1;
			}
		}
		if (rr_client_write(c) != 0)
			return -1;
		if (c->sent == c->count) {
			if (deadline_ns == 0)
				deadline_ns = now_ns + (uint64_t)(drain_s * 1e9);
			if (now_ns >= deadline_ns)
				return -1;
			next_ns = deadline_ns;
		} else {
			next_ns = c->start_ns + c->sent * c->interval_ns;
		}
		wait_ms = (int)((next_ns - now_ns + 999999) / 1000000);
		pfd.fd = c->fd;
		pfd.events = POLLIN | (c->out_len > 0 ? POLLOUT : 0);
		if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
			perror("rr: poll");
			return -1;
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) && rr_client_read(c) != 0)
			return -1;
	}
	return c->corrupt ? -1 : 0;
}

static int
rr_client(const char *addr, const char *port, const char *cc, double duration_s,
	  double interval_ms, size_t size_bytes, double drain_s, const char *series)
{
	struct rr_client c;
	int status = 1;

	memset(&c, 0, sizeof(c));
	c.size_bytes = size_bytes;
	c.interval_ns = (uint64_t)(interval_ms * 1e6);
	c.count = (uint64_t)(duration_s * 1e3 / interval_ms);
	if (c.count == 0)
		c.count = 1;
	c.lat_ns = calloc(c.count, sizeof(*c.lat_ns));
	c.out = malloc(RR_OUTBUF_BYTES);
	c.in = malloc(size_bytes);
	if (c.lat_ns == NULL || c.out == NULL || c.in == NULL) {
		fprintf(stderr, "rr: out of memory\n");
		goto out;
	}
	c.fd = rr_connect(addr, port, cc);
	if (c.fd < 0)
		goto out;
	if (rr_client_run(&c, drain_s) == 0)
		status = 0;
	if (series != NULL && rr_client_series(&c, series) != 0)
		status = 1;
	rr_client_report(&c);
	close(c.fd);
out:
	free(c.in);
	free(c.out);
	free(c.lat_ns);
	return status;
}

static void
rr_usage(void)
{
	fprintf(stderr, "usage: rr server [-C cc] [-t timeout_s] ADDR PORT\n"
			"       rr client [-C cc] [-d duration_s] [-i interval_ms] [-s size_bytes] "
			"[-w drain_s]\n"
			"                 [-o series_file] ADDR PORT\n");
}

/* Parses a positive number within [lo, hi] into *v. Returns 0 or -1. */
static int
rr_number(const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(*v >= lo && *v <= hi)) {
		fprintf(stderr, "rr: expected a number from %g to %g, got \"%s\"\n", lo, hi, s);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	double duration_s = 10, interval_ms = 10, size = 1024, drain_s = 10, timeout_s = 30;
	const char *cc = NULL, *series = NULL;
	int server, opt;

	if (argc < 2 || (strcmp(argv[1], "server") != 0 && strcmp(argv[1], "client") != 0)) {
		rr_usage();
		return 2;
	}
	server = strcmp(argv[1], "server") == 0;
	argv++;
	argc--;
	while ((opt = getopt(argc, argv, server ? "C:t:" : "C:d:i:s:w:o:")) != -1) {
		int rc = 0;

		switch (opt) {
		case 'C':
			cc = optarg;
			break;
		case 'o':
			series = optarg;
			break;
		case 't':
			rc = rr_number(optarg, 1, 3600, &timeout_s);
			break;
		case 'd':
			rc = rr_number(optarg, 0.001, 3600, &duration_s);
			break;
		case 'i':
			rc = rr_number(optarg, 0.1, 60000, &interval_ms);
			break;
		case 's':
			rc = rr_number(optarg, 8, RR_SIZE_MAX, &size);
			break;
		case 'w':
			rc = rr_number(optarg, 0, 3600, &drain_s);
			break;
		default:
			rc = -1;
		}
		if (rc != 0) {
			rr_usage();
			return 2;
		}
	}
	if (argc - optind != 2) {
		rr_usage();
		return 2;
	}
	if (server)
		return rr_server(argv[optind], argv[optind + 1], (int)timeout_s, cc);
	return rr_client(argv[optind], argv[optind + 1], cc, duration_s, interval_ms, (size_t)size,
			 drain_s, series);
}
