/* Session benchmark: two sessions (KCP + FEC + crypto) over the link simulator, one sending
 * MSS-sized messages (IP packets) as fast as its window allows, the other checking them.
 * Prints machine-readable lines; asserts nothing about speed.
 *   sink_speed: kcp-go's BenchmarkSinkSpeed settings (salsa20, FEC 10/3, fast3, windows 1024)
 *     on a clean 100 us link: CPU-bound MB/s of message payload for a fixed number of messages,
 *     wall clock, one core. kcp-go's runs over real loopback UDP, ours in-process: the ratio
 *     compares the protocol stacks' cost.
 *   session_clean, session_loss5_fec10_3: aes-128 at 50 ms RTT, clean and 5% loss each way
 *     with FEC 10/3: goodput in MB/s of virtual (link) time, and the wall-clock cost. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "duplex.h"
#include "kcp_ep.h"
#include "kcpcore/pool.h"
#include "kcpcore/session.h"

struct run {
	const char *name;
	enum crypt_method crypt;
	unsigned ds, ps;
	double loss;
	uint32_t delay_us;
	uint64_t virtual_us; /* 0: move `messages` and time it on the wall clock */
	unsigned messages;
};

static bool received_all(void *user)
{
	const struct kcp_ep *e = user;

	return e[1].received >= e[0].to_send;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_run(const struct run *r)
{
	struct sim_impair im = {0};
	struct session_params p;
	struct kcp_ep e[2];
	struct session_stats st, rx;
	struct duplex *d;
	struct pool *pool;
	double t0, wall;
	uint64_t bytes = 0;
	unsigned mss;
	int err;

	im.loss = r->loss;
	im.delay_us = r->delay_us;
	d = duplex_new(&im, &im, 42, 0);
	pool = pool_new(16384, KC_HEADROOM + 1500, &err);
	for (int s = 0; s < 2; s++) {
		session_params_default(&p);
		p.conv = 7;
		p.crypt = r->crypt;
		crypt_kdf_kcptun("bench", 5, p.key);
		p.fec_data = r->ds;
		p.fec_parity = r->ps;
		kcp_params_profile(&p.kcp, "fast3");
		p.kcp.snd_wnd = p.kcp.rcv_wnd = 1024;
		kcp_ep_init_session(&e[s], d, s, pool, &p, 42);
		mss = (unsigned)session_mss(p.udp_mtu, p.crypt, r->ds > 0);
		e[s].min_len = e[s].max_len = mss;
		e[s].cheap = true;
	}
	e[0].to_send = r->virtual_us != 0 ? UINT32_MAX : r->messages;
	t0 = wall_s();
	if (r->virtual_us != 0)
		duplex_run(d, r->virtual_us, NULL, NULL);
	else
		duplex_run(d, 3600ull * 1000000, received_all, e);
	wall = wall_s() - t0;
	bytes = (uint64_t)e[1].received * mss;
	session_get_stats(e[0].session, &st);
	session_get_stats(e[1].session, &rx);
	if (e[1].bad != 0)
		printf("bench=%s error: %u bad messages\n", r->name, e[1].bad);
	else if (r->virtual_us == 0)
		printf("bench=%s unit=MB/s ours=%.1f transport=simulator crypt=%s fec=%u/%u\n",
		       r->name, (double)bytes / wall / 1e6, crypt_method_name(r->crypt), r->ds,
		       r->ps);
	else
		printf("bench=%s unit=MB/s ours=%.2f rtt_ms=%u loss=%.0f%% crypt=%s fec=%u/%u "
		       "cpu_MB_per_s=%.1f retrans=%llu fec_recovered=%llu\n",
		       r->name, (double)bytes / ((double)r->virtual_us / 1e6) / 1e6,
		       2 * r->delay_us / 1000, r->loss * 100, crypt_method_name(r->crypt), r->ds,
		       r->ps, (double)bytes / wall / 1e6, (unsigned long long)st.kcp.retrans_segs,
		       (unsigned long long)rx.fec_rx.recovered);
	for (int s = 0; s < 2; s++)
		kcp_ep_fini(&e[s]);
	pool_free(pool);
	duplex_free(d);
}

int main(void)
{
	static const struct run runs[] = {
		{"sink_speed", CRYPT_SALSA20, 10, 3, 0, 100, 0, 200000},
		{"session_cpu_aes128", CRYPT_AES_128, 0, 0, 0, 100, 0, 200000},
		{"session_cpu_aes128_fec10_3", CRYPT_AES_128, 10, 3, 0, 100, 0, 200000},
		{"session_rtt50_loss0", CRYPT_AES_128, 0, 0, 0, 25000, 10000000, 0},
		{"session_rtt50_loss5_fec10_3", CRYPT_AES_128, 10, 3, 0.05, 25000, 10000000, 0},
		{"session_rtt50_loss5_nofec", CRYPT_AES_128, 0, 0, 0.05, 25000, 10000000, 0},
	};

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		bench_run(&runs[i]);
	return 0;
}
