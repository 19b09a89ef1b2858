/* KCP engine benchmark; prints numbers, asserts nothing about speed.
 *
 * 1. Latency, modelled on the classic KCP test: two endpoints over the link simulator with 10%
 *    loss per round trip (5% each way) and RTT uniform in 60..125 ms (FIFO), one 8-byte message
 *    every 20 ms, 1000 messages echoed back; average and maximum RTT per profile.
 * 2. Engine throughput on a clean link: send + flush + input + recv on one core, MSS-sized and
 *    64-byte messages, no simulator in between.
 * 3. Memory of an idle engine (no traffic) for a few window sizes. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duplex.h"
#include "kcp_ep.h"
#include "kcpcore/kcp.h"
#include "kcpcore/pool.h"

#define LAT_MESSAGES 1000

struct lat {
	uint64_t sum_ms;
	uint32_t max_ms;
	unsigned n;
};

static void lat_on_message(void *user, const uint8_t *msg, unsigned len, uint32_t now_ms)
{
	struct lat *l = user;
	uint32_t sent_ms, rtt;

	(void)len;
	memcpy(&sent_ms, msg + 4, 4);
	rtt = now_ms - sent_ms;
	l->sum_ms += rtt;
	if (rtt > l->max_ms)
		l->max_ms = rtt;
	l->n++;
}

static bool lat_done(void *user)
{
	return ((struct kcp_ep *)user)->received == LAT_MESSAGES;
}

static void bench_latency(const char *profile, uint64_t seed)
{
	struct sim_impair im = {0};
	struct kcp_params p;
	struct kcp_ep e[2];
	struct lat l = {0};
	struct duplex *d;
	struct pool *pool;
	int err;

	im.loss = 0.05;
	im.delay_us = 46250; /* one way 30..62.5 ms: RTT 60..125 ms */
	im.jitter_us = 16250;
	d = duplex_new(&im, &im, seed, 0);
	pool = pool_new(4096, KC_HEADROOM + 1500, &err);
	kcp_params_default(&p);
	kcp_params_profile(&p, profile);
	p.snd_wnd = p.rcv_wnd = 128;
	for (int s = 0; s < 2; s++) {
		kcp_ep_init(&e[s], d, s, pool, 0x1234, &p, seed);
		e[s].min_len = e[s].max_len = 8;
	}
	e[0].to_send = LAT_MESSAGES;
	e[0].every_ms = 20;
	e[0].verify_seed = e[0].seed;
	e[0].on_message = lat_on_message;
	e[0].user = &l;
	e[1].echo = true;
	if (!duplex_run(d, 3600ull * 1000000, lat_done, &e[0]) || e[0].bad != 0)
		printf("profile=%s error: %u of %d echoes, %u bad\n", profile, e[0].received,
		       LAT_MESSAGES, e[0].bad);
	else
		printf("profile=%s avg_rtt_ms=%llu max_rtt_ms=%u\n", profile,
		       (unsigned long long)(l.sum_ms / l.n), l.max_ms);
	for (int s = 0; s < 2; s++)
		kcp_ep_fini(&e[s]);
	pool_free(pool);
	duplex_free(d);
}

/* ---- throughput on a clean link, no simulator ---- */

struct wire {
	struct pkt *q[4096];
	unsigned n;
};

static void wire_out(struct pkt *p, void *user)
{
	struct wire *w = user;

	if (w->n == sizeof(w->q) / sizeof(w->q[0]))
		abort();
	w->q[w->n++] = p;
}

static void wire_flush(struct wire *w, struct pool *pool, struct kcp *to, uint32_t now)
{
	for (unsigned i = 0; i < w->n; i++) {
		kcp_input(to, pkt_data(w->q[i]), w->q[i]->len, true, now);
		pool_put(pool, w->q[i]);
	}
	w->n = 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_throughput(unsigned msg_len, unsigned long total)
{
	static struct wire ab, ba;
	static uint8_t buf[2048];
	struct kcp_params p;
	struct pool *pool;
	struct kcp *a, *b;
	unsigned long sent = 0, got = 0;
	uint32_t now = 0;
	double t0, dt;
	int err, n;

	pool = pool_new(8192, KC_HEADROOM + 1500, &err);
	kcp_params_default(&p);
	kcp_params_profile(&p, "fast3");
	p.snd_wnd = p.rcv_wnd = 1024;
	a = kcp_new(1, &p, pool, wire_out, &ab, &err);
	b = kcp_new(1, &p, pool, wire_out, &ba, &err);
	memset(buf, 0x5a, sizeof(buf));
	t0 = now_s();
	while (got < total) {
		while (sent < total && kcp_send(a, buf, msg_len) == 0)
			sent++;
		kcp_update(a, now);
		wire_flush(&ab, pool, b, now);
		while ((n = kcp_recv(b, buf, sizeof(buf))) > 0)
			got++;
		kcp_update(b, now);
		wire_flush(&ba, pool, a, now);
		now++;
	}
	dt = now_s() - t0;
	printf("bench=kcp_engine msg_bytes=%u msgs_per_s=%.0f MB_per_s=%.1f\n", msg_len,
	       (double)total / dt, (double)total * msg_len / dt / 1e6);
	kcp_free(a);
	kcp_free(b);
	pool_free(pool);
}

static void bench_idle_memory(unsigned wnd)
{
	enum { N = 1000 };
	static struct kcp *k[N];
	struct kcp_params p;
	struct pool *pool;
	struct wire w;
	size_t before, after;
	int err;

	pool = pool_new(16, KC_HEADROOM + 1500, &err);
	kcp_params_default(&p);
	p.snd_wnd = p.rcv_wnd = wnd;
	before = mallinfo2().uordblks;
	for (int i = 0; i < N; i++)
		k[i] = kcp_new((uint32_t)i, &p, pool, wire_out, &w, &err);
	after = mallinfo2().uordblks;
	printf("bench=kcp_idle_memory snd_wnd=%u rcv_wnd=%u bytes_per_session=%zu\n", wnd, wnd,
	       (after - before) / N);
	for (int i = 0; i < N; i++)
		kcp_free(k[i]);
	pool_free(pool);
}

int main(int argc, char **argv)
{
	static const char *profiles[] = {"default", "normal", "fast", "fast2", "fast3"};
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261123;

	printf("# latency: 1000 x 8-byte echoes every 20 ms, RTT 60..125 ms, 10%% loss per round "
	       "trip, seed %llu\n",
	       (unsigned long long)seed);
	printf("# ikcp.c reference: default 740/1507, normal 156/571, fast 138/392 ms avg/max\n");
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		bench_latency(profiles[i], seed);
	printf("# engine throughput on a clean link, one core, fast3, windows 1024\n");
	bench_throughput(1376, 2000000);
	bench_throughput(64, 4000000);
	printf("# idle engine memory (segment buffers come from the shared pool)\n");
	bench_idle_memory(32);
	bench_idle_memory(256);
	bench_idle_memory(1024);
	return 0;
}
