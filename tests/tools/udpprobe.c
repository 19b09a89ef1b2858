/* udpprobe: the UDP ends the kcpimpair test and benchmark need (python3 may be missing).
 *   udpprobe echo  -l ADDR:PORT [-t SEC]        echoes datagrams back; at exit prints peers seen
 *   udpprobe probe -c ADDR:PORT [-n N] [-i US] [-s BYTES] [-w MS] [-T TAG]
 *                                               numbered probes, prints loss/dup/order/RTT
 *   udpprobe sink  -l ADDR:PORT [-t SEC]        counts datagrams and their rate
 *   udpprobe flood -c ADDR:PORT [-s BYTES] [-t SEC]   sends as fast as it can
 * Servers print "listening on ADDR:PORT" first (port 0 picks one); results are key=value lines. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"

#define UDPPROBE_BATCH	   64
#define UDPPROBE_MAX_BYTES 65535
#define UDPPROBE_MAGIC	   0x6b707262u /* "kprb" */
#define UDPPROBE_HDR_BYTES 24	       /* magic u32, seq u32, tag u64, send time u64 */
#define UDPPROBE_MAX_PEERS 64

struct udpprobe_opts {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool have_addr;
	unsigned count, interval_us, size_bytes, wait_ms, seconds;
	uint64_t tag;
};

static volatile sig_atomic_t udpprobe_stop;

static void udpprobe_on_signal(int sig)
{
	udpprobe_stop = 1;
}

static uint64_t udpprobe_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void udpprobe_die(const char *what)
{
	fprintf(stderr, "udpprobe: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A UDP socket bound to the -l address, announced on stdout. */
static int udpprobe_listen(const struct udpprobe_opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char a[ADDR_STRLEN];
	int fd = socket(o->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int buf = 4 << 20;

	if (fd < 0 || bind(fd, (const struct sockaddr *)&o->addr, o->addr_len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		udpprobe_die("listen");
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	printf("listening on %s\n", addr_format((struct sockaddr *)&ss, a));
	fflush(stdout);
	return fd;
}

/* A UDP socket connected to the -c address. */
static int udpprobe_connect(const struct udpprobe_opts *o)
{
	int fd = socket(o->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int buf = 4 << 20;

	if (fd < 0 || connect(fd, (const struct sockaddr *)&o->addr, o->addr_len) < 0)
		udpprobe_die("connect");
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	return fd;
}

/* Waits up to timeout_ms for fd to be readable; false on timeout or a stop signal. */
static bool udpprobe_wait(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return !udpprobe_stop && poll(&p, 1, timeout_ms) > 0;
}

static bool udpprobe_deadline_passed(uint64_t deadline_ns)
{
	return deadline_ns && udpprobe_now_ns() >= deadline_ns;
}

static int udpprobe_echo(const struct udpprobe_opts *o)
{
	static uint8_t bufs[UDPPROBE_BATCH][UDPPROBE_MAX_BYTES];
	struct sockaddr_storage from[UDPPROBE_BATCH], peers[UDPPROBE_MAX_PEERS];
	struct mmsghdr msgs[UDPPROBE_BATCH];
	struct iovec iov[UDPPROBE_BATCH];
	unsigned npeers = 0;
	uint64_t received = 0;
	uint64_t deadline = o->seconds ? udpprobe_now_ns() + o->seconds * 1000000000ull : 0;
	int fd = udpprobe_listen(o);

	while (!udpprobe_deadline_passed(deadline)) {
		int n;

		if (!udpprobe_wait(fd, 100)) {
			if (udpprobe_stop)
				break;
			continue;
		}
		for (int i = 0; i < UDPPROBE_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(fd, msgs, UDPPROBE_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		received += (unsigned)n;
		for (int i = 0; i < n; i++) {
			unsigned k;

			iov[i].iov_len = msgs[i].msg_len;
			for (k = 0; k < npeers; k++)
				if (memcmp(&peers[k], &from[i], msgs[i].msg_hdr.msg_namelen) == 0)
					break;
			if (k == npeers && npeers < UDPPROBE_MAX_PEERS)
				peers[npeers++] = from[i];
		}
		(void)sendmmsg(fd, msgs, (unsigned)n, 0);
	}
	printf("peers=%u received=%llu\n", npeers, (unsigned long long)received);
	return 0;
}

static int udpprobe_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int udpprobe_probe(const struct udpprobe_opts *o)
{
	static uint8_t buf[UDPPROBE_MAX_BYTES];
	uint64_t *rtt = calloc(o->count, sizeof(*rtt));
	uint8_t *seen = calloc(o->count, 1);
	uint64_t start = udpprobe_now_ns(), end_ns = 0;
	uint64_t received = 0, dups = 0, reordered = 0, foreign = 0, sent = 0;
	uint32_t max_seq = 0;
	bool any = false;
	int fd = udpprobe_connect(o);

	if (rtt == NULL || seen == NULL)
		udpprobe_die("calloc");
	memset(buf, 0x5a, o->size_bytes);
	while (!udpprobe_stop) {
		uint64_t now = udpprobe_now_ns();
		uint64_t next = start + sent * (uint64_t)o->interval_us * 1000;
		int timeout_ms;
		ssize_t n;

		if (sent < o->count && now >= next) {
			uint32_t magic = UDPPROBE_MAGIC, seq = (uint32_t)sent;

			memcpy(buf, &magic, 4);
			memcpy(buf + 4, &seq, 4);
			memcpy(buf + 8, &o->tag, 8);
			memcpy(buf + 16, &now, 8);
			if (send(fd, buf, o->size_bytes, 0) < 0 && errno != ECONNREFUSED)
				udpprobe_die("send");
			sent++;
			if (sent == o->count)
				end_ns = udpprobe_now_ns() + (uint64_t)o->wait_ms * 1000000;
			continue;
		}
		if (sent == o->count && now >= end_ns)
			break;
		timeout_ms = (int)(((sent < o->count ? next : end_ns) - now) / 1000000);
		if (!udpprobe_wait(fd, timeout_ms))
			continue;
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
			uint64_t tag, t;
			uint32_t magic, seq;

			now = udpprobe_now_ns();
			if (n < UDPPROBE_HDR_BYTES) {
				foreign++;
				continue;
			}
			memcpy(&magic, buf, 4);
			memcpy(&seq, buf + 4, 4);
			memcpy(&tag, buf + 8, 8);
			memcpy(&t, buf + 16, 8);
			if (magic != UDPPROBE_MAGIC || tag != o->tag || seq >= sent) {
				foreign++;
				continue;
			}
			if (seen[seq]) {
				dups++;
				continue;
			}
			seen[seq] = 1;
			rtt[received++] = now - t;
			if (any && seq < max_seq)
				reordered++;
			if (!any || seq > max_seq)
				max_seq = seq;
			any = true;
		}
		memset(buf, 0x5a, o->size_bytes);
	}
	qsort(rtt, received, sizeof(*rtt), udpprobe_u64_cmp);
	printf("sent=%llu received=%llu duplicates=%llu reordered=%llu foreign=%llu "
	       "rtt_min_us=%llu rtt_median_us=%llu rtt_max_us=%llu\n",
	       (unsigned long long)sent, (unsigned long long)received, (unsigned long long)dups,
	       (unsigned long long)reordered, (unsigned long long)foreign,
	       (unsigned long long)(received ? rtt[0] / 1000 : 0),
	       (unsigned long long)(received ? rtt[received / 2] / 1000 : 0),
	       (unsigned long long)(received ? rtt[received - 1] / 1000 : 0));
	free(rtt);
	free(seen);
	return 0;
}

static int udpprobe_sink(const struct udpprobe_opts *o)
{
	static uint8_t bufs[UDPPROBE_BATCH][2048];
	struct mmsghdr msgs[UDPPROBE_BATCH];
	struct iovec iov[UDPPROBE_BATCH];
	uint64_t received = 0, bytes = 0, first = 0, last = 0;
	uint64_t deadline = udpprobe_now_ns() + (o->seconds ? o->seconds : 10) * 1000000000ull;
	int fd = udpprobe_listen(o);

	for (int i = 0; i < UDPPROBE_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!udpprobe_deadline_passed(deadline) && !udpprobe_stop) {
		int n;

		if (!udpprobe_wait(fd, 100))
			continue;
		while ((n = recvmmsg(fd, msgs, UDPPROBE_BATCH, MSG_DONTWAIT, NULL)) > 0) {
			last = udpprobe_now_ns();
			if (received == 0)
				first = last;
			received += (unsigned)n;
			for (int i = 0; i < n; i++)
				bytes += msgs[i].msg_len;
		}
	}
	printf("received=%llu bytes=%llu seconds=%.3f pps=%.0f mbit_s=%.1f\n",
	       (unsigned long long)received, (unsigned long long)bytes,
	       (double)(last - first) / 1e9,
	       last > first ? (double)received * 1e9 / (double)(last - first) : 0.0,
	       last > first ? (double)bytes * 8e3 / (double)(last - first) : 0.0);
	return 0;
}

static int udpprobe_flood(const struct udpprobe_opts *o)
{
	static uint8_t buf[UDPPROBE_MAX_BYTES];
	struct mmsghdr msgs[UDPPROBE_BATCH];
	struct iovec iov = {.iov_base = buf, .iov_len = o->size_bytes};
	uint64_t sent = 0, start = udpprobe_now_ns();
	uint64_t deadline = start + (o->seconds ? o->seconds : 3) * 1000000000ull;
	int fd = udpprobe_connect(o);

	for (int i = 0; i < UDPPROBE_BATCH; i++) {
		memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!udpprobe_deadline_passed(deadline) && !udpprobe_stop) {
		int n = sendmmsg(fd, msgs, UDPPROBE_BATCH, 0);

		if (n > 0)
			sent += (unsigned)n;
	}
	printf("sent=%llu pps=%.0f\n", (unsigned long long)sent,
	       (double)sent * 1e9 / (double)(udpprobe_now_ns() - start));
	return 0;
}

static void udpprobe_usage(FILE *f)
{
	fputs(
	    "usage: udpprobe echo  -l ADDR:PORT [-t SEC]\n"
	    "       udpprobe probe -c ADDR:PORT [-n COUNT] [-i INTERVAL_US] [-s BYTES] [-w WAIT_MS]"
	    " [-T TAG]\n"
	    "       udpprobe sink  -l ADDR:PORT [-t SEC]\n"
	    "       udpprobe flood -c ADDR:PORT [-s BYTES] [-t SEC]\n",
	    f);
}

static unsigned udpprobe_uint(const char *s, unsigned lo, unsigned hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (*s == '\0' || *end != '\0' || errno || v < lo || v > hi || s[0] == '-') {
		fprintf(stderr, "udpprobe: expected a number %u..%u, got \"%s\"\n", lo, hi, s);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	struct udpprobe_opts o = {.count = 100,
				  .interval_us = 1000,
				  .size_bytes = 64,
				  .wait_ms = 500,
				  .tag = (uint64_t)getpid() << 32 | (uint64_t)time(NULL)};
	struct sigaction sa = {.sa_handler = udpprobe_on_signal};
	const char *mode, *why;
	int c;

	if (argc < 2) {
		udpprobe_usage(stderr);
		return 2;
	}
	mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "l:c:n:i:s:w:t:T:")) != -1) {
		switch (c) {
		case 'l':
		case 'c':
			if (addr_parse(optarg, &o.addr, &o.addr_len, &why) < 0) {
				fprintf(stderr, "udpprobe: -%c \"%s\": %s\n", c, optarg, why);
				return 2;
			}
			o.have_addr = true;
			break;
		case 'n':
			o.count = udpprobe_uint(optarg, 1, 10000000);
			break;
		case 'i':
			o.interval_us = udpprobe_uint(optarg, 0, 10000000);
			break;
		case 's':
			o.size_bytes =
			    udpprobe_uint(optarg, UDPPROBE_HDR_BYTES, UDPPROBE_MAX_BYTES);
			break;
		case 'w':
			o.wait_ms = udpprobe_uint(optarg, 0, 600000);
			break;
		case 't':
			o.seconds = udpprobe_uint(optarg, 0, 3600);
			break;
		case 'T':
			o.tag = udpprobe_uint(optarg, 1, UINT32_MAX);
			break;
		default:
			udpprobe_usage(stderr);
			return 2;
		}
	}
	if (!o.have_addr || optind != argc) {
		udpprobe_usage(stderr);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (strcmp(mode, "echo") == 0)
		return udpprobe_echo(&o);
	if (strcmp(mode, "probe") == 0)
		return udpprobe_probe(&o);
	if (strcmp(mode, "sink") == 0)
		return udpprobe_sink(&o);
	if (strcmp(mode, "flood") == 0)
		return udpprobe_flood(&o);
	udpprobe_usage(stderr);
	return 2;
}
