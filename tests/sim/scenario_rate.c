/* Pacing (kcp_set_rate) over the link simulator. The clock only moves to deliveries and to
 * the endpoints' check() deadlines, so these runs also show that the refill time check()
 * gives is enough to hold a rate: nothing polls.
 *
 * A sender whose queue never runs dry (it refills at every wake-up) is paced to a rate; its
 * session's wire bytes (UDP payloads: KCP segments, crypto and FEC framing, parity) over 10 s
 * of virtual time must be within 0.5% of the rate, and the bytes the link delivered too. The
 * seed is printed on failure; KC_SEED=N replays it. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "duplex.h"
#include "kcp_ep.h"
#include "kcpcore/kcp.h"
#include "kcpcore/pool.h"
#include "kcpcore/session.h"

#define S_US 1000000ull

static uint64_t seed_for(uint64_t dflt)
{
	const char *env = getenv("KC_SEED");

	return env != NULL && *env != '\0' ? strtoull(env, NULL, 0) : dflt;
}

/* A sender (side 0) and a receiver (side 1) joined by links of one-way delay delay_us; side
 * 0's link may be rate-capped (a bottleneck) with a drop-tail queue. */
struct pair {
	struct duplex *d;
	struct pool *pool;
	struct kcp_ep e[2];
	uint64_t seed;
};

static void pair_links(struct pair *p, uint32_t delay_us, uint64_t link_bps, uint32_t queue)
{
	struct sim_impair ab = {0}, ba = {0};

	ab.delay_us = ba.delay_us = delay_us;
	ab.rate_bps = link_bps;
	ab.queue_bytes = queue;
	p->d = duplex_new(&ab, &ba, p->seed, 0);
}

/* Sessions (aes-128 unless crypt says otherwise, fast3, windows wnd) with FEC ds/ps. */
static void pair_sessions(struct pair *p, enum crypt_method crypt, unsigned ds, unsigned ps,
			  unsigned wnd, uint64_t rate_bps)
{
	struct session_params sp;
	int err;

	p->pool = pool_new(4 * wnd + 2048, KC_HEADROOM + 1500, &err);
	ck_assert_ptr_nonnull(p->pool);
	for (int s = 0; s < 2; s++) {
		session_params_default(&sp);
		sp.conv = 0x7a7e;
		sp.crypt = crypt;
		crypt_kdf_kcptun("rate", 4, sp.key);
		sp.fec_data = ds;
		sp.fec_parity = ps;
		ck_assert_int_eq(kcp_params_profile(&sp.kcp, "fast3"), 0);
		sp.kcp.snd_wnd = sp.kcp.rcv_wnd = wnd;
		sp.kcp.rate_bps = s == 0 ? rate_bps : 0;
		kcp_ep_init_session(&p->e[s], p->d, s, p->pool, &sp, p->seed);
		/* IP-packet-like sizes, up to one full segment */
		p->e[s].min_len = 40;
		p->e[s].max_len = (unsigned)session_mss(sp.udp_mtu, crypt, ds > 0);
	}
	p->e[0].to_send = UINT32_MAX;
}

static void pair_free(struct pair *p)
{
	ck_assert_msg(p->e[1].bad == 0, "seed %" PRIu64 ": %u bad messages", p->seed, p->e[1].bad);
	for (int s = 0; s < 2; s++)
		kcp_ep_fini(&p->e[s]);
	ck_assert_uint_eq(pool_avail(p->pool), pool_count(p->pool));
	pool_free(p->pool);
	duplex_free(p->d);
}

/* Bytes the sender's session (or bare engine) has handed to its link so far. */
static uint64_t wire_out(const struct pair *p)
{
	struct session_stats st;

	if (p->e[0].session == NULL)
		return kcp_stats(p->e[0].kcp)->out_bytes;
	session_get_stats(p->e[0].session, &st);
	return st.out_bytes;
}

static uint64_t link_delivered(struct pair *p)
{
	return sim_link_stats(duplex_link(p->d, 0))->bytes_delivered;
}

/* Runs for us and returns the sender's rate over that time in bit/s, the link's delivered
 * rate in *link_bps. */
static double run_rate(struct pair *p, uint64_t us, double *link_bps)
{
	uint64_t w0 = wire_out(p), l0 = link_delivered(p);

	duplex_run(p->d, us, NULL, NULL);
	*link_bps = (double)(link_delivered(p) - l0) * 8e6 / (double)us;
	return (double)(wire_out(p) - w0) * 8e6 / (double)us;
}

static void assert_near(double got, double want, double tol, const char *what, uint64_t seed)
{
	printf("%s: %.0f bit/s against %.0f (%+.2f%%)\n", what, got, want,
	       100.0 * (got - want) / want);
	ck_assert_msg(got >= want * (1 - tol) && got <= want * (1 + tol),
		      "seed %" PRIu64 ": %s: %.0f bit/s, expected %.0f +- %.0f%%", seed, what, got,
		      want, tol * 100);
}

/* 20 Mbit/s, aes-128, FEC off, 10 ms each way: sent and delivered wire bytes within 0.5%. */
START_TEST(rate_20mbit_session_sends_within_2pct_over_10s)
{
	struct pair p = {.seed = seed_for(20)};
	double sent, link;
	struct session_stats st;

	pair_links(&p, 10000, 0, 0);
	pair_sessions(&p, CRYPT_AES_128, 0, 0, 1024, 20000000);
	duplex_run(p.d, S_US, NULL, NULL); /* past the first burst and RTT */
	sent = run_rate(&p, 10 * S_US, &link);
	assert_near(sent, 20e6, 0.005, "20M aes-128 sent", p.seed);
	assert_near(link, 20e6, 0.005, "20M aes-128 delivered", p.seed);
	session_get_stats(p.e[0].session, &st);
	ck_assert_uint_eq(st.kcp.retrans_segs, 0);
	ck_assert_uint_gt(st.kcp.paced_flushes, 1000);
	ck_assert_uint_gt(p.e[1].received, 10000);
	pair_free(&p);
}
END_TEST

/* With FEC 10:3 the parity is on the wire too and counts against the rate: still 20 Mbit/s of
 * wire bytes, of which only about 10/13 are data. */
START_TEST(rate_counts_fec_parity_and_headers)
{
	struct pair p = {.seed = seed_for(21)};
	struct session_stats st0, st1;
	double sent, link;

	pair_links(&p, 10000, 0, 0);
	pair_sessions(&p, CRYPT_AES_128, 10, 3, 1024, 20000000);
	duplex_run(p.d, S_US, NULL, NULL);
	session_get_stats(p.e[0].session, &st0);
	sent = run_rate(&p, 10 * S_US, &link);
	session_get_stats(p.e[0].session, &st1);
	assert_near(sent, 20e6, 0.005, "20M aes-128 FEC 10:3 sent", p.seed);
	assert_near(link, 20e6, 0.005, "20M aes-128 FEC 10:3 delivered", p.seed);
	/* KCP's own bytes are at most 10/13 of that */
	ck_assert_double_le((double)(st1.kcp.out_bytes - st0.kcp.out_bytes) * 8 / 10,
			    20e6 * 10 / 13);
	ck_assert_uint_gt(st1.fec_tx.parity_sent, 1000);
	pair_free(&p);
}
END_TEST

/* A new rate applies live: 20 Mbit/s, then 5, then 0 (the window's rate, far above), then 20
 * again. Each window but the unlimited one within 0.5%. */
START_TEST(rate_change_live_takes_effect)
{
	struct pair p = {.seed = seed_for(22)};
	struct kcp *k;
	double sent, link;

	pair_links(&p, 10000, 0, 0);
	pair_sessions(&p, CRYPT_NULL, 0, 0, 256, 20000000);
	k = session_kcp(p.e[0].session);
	duplex_run(p.d, S_US, NULL, NULL);
	sent = run_rate(&p, 5 * S_US, &link);
	assert_near(sent, 20e6, 0.005, "20M", p.seed);
	ck_assert_int_eq(kcp_set_rate(k, 5000000), 0);
	duplex_run(p.d, S_US / 10, NULL, NULL); /* the packets in flight drain */
	sent = run_rate(&p, 5 * S_US, &link);
	assert_near(sent, 5e6, 0.005, "then 5M", p.seed);
	assert_near(link, 5e6, 0.005, "then 5M delivered", p.seed);
	ck_assert_int_eq(kcp_set_rate(k, 0), 0);
	sent = run_rate(&p, S_US, &link);
	printf("then 0: %.0f bit/s\n", sent);
	/* the window's rate: 256 segments of 700 bytes on average per 20 ms, about 70 Mbit/s */
	ck_assert_msg(sent > 3 * 20e6, "seed %" PRIu64 ": unlimited sent only %.0f bit/s", p.seed,
		      sent);
	ck_assert_int_eq(kcp_set_rate(k, 20000000), 0);
	duplex_run(p.d, S_US / 10, NULL, NULL);
	sent = run_rate(&p, 5 * S_US, &link);
	assert_near(sent, 20e6, 0.005, "then 20M again", p.seed);
	pair_free(&p);
}
END_TEST

/* 10 Gbit/s, a bare engine over a 1 ms link: the millisecond clock refills 1.25 MB at a time
 * and the bucket holds 5 ms, so the rate holds within 0.5% there too, without overflow. */
START_TEST(rate_10gbit_holds_on_a_millisecond_clock)
{
	struct pair p = {.seed = seed_for(23)};
	struct kcp_params kp;
	int err;
	double sent, link;

	pair_links(&p, 1000, 0, 0);
	p.pool = pool_new(24576, KC_HEADROOM + 1500, &err);
	ck_assert_ptr_nonnull(p.pool);
	kcp_params_default(&kp);
	ck_assert_int_eq(kcp_params_profile(&kp, "fast3"), 0);
	kp.snd_wnd = kp.rcv_wnd = 4096;
	for (int s = 0; s < 2; s++) {
		kcp_ep_init(&p.e[s], p.d, s, p.pool, 0x10, &kp, p.seed);
		p.e[s].min_len = p.e[s].max_len = kp.mtu - KCP_OVERHEAD;
		p.e[s].cheap = true;
	}
	p.e[0].to_send = UINT32_MAX;
	ck_assert_int_eq(kcp_set_rate(p.e[0].kcp, 10000000000ull), 0);
	duplex_run(p.d, 20000, NULL, NULL);
	sent = run_rate(&p, 200000, &link);
	assert_near(sent, 10e9, 0.005, "10G bare KCP sent", p.seed);
	pair_free(&p);
}
END_TEST

/* What the limit is for: a 20 Mbit/s bottleneck with a 64 KiB drop-tail queue. Unpaced, KCP
 * (no congestion window) sends at the window's rate and the queue overflows; paced at 19
 * Mbit/s nothing is dropped, nothing retransmitted, and 19 Mbit/s arrive. */
START_TEST(rate_below_a_bottleneck_keeps_its_queue_from_overflowing)
{
	for (int paced = 0; paced < 2; paced++) {
		struct pair p = {.seed = seed_for(24)};
		const struct sim_stats *ls;
		struct session_stats st;
		double sent, link;

		pair_links(&p, 10000, 20000000, 65536);
		pair_sessions(&p, CRYPT_AES_128, 0, 0, 1024, paced ? 19000000 : 0);
		duplex_run(p.d, S_US, NULL, NULL);
		sent = run_rate(&p, 10 * S_US, &link);
		ls = sim_link_stats(duplex_link(p.d, 0));
		session_get_stats(p.e[0].session, &st);
		printf("bottleneck 20M, %s: sent %.0f bit/s, delivered %.0f, queue drops %" PRIu64
		       ", retransmitted %" PRIu64 " of %" PRIu64 " segments\n",
		       paced ? "paced at 19M" : "unpaced", sent, link, ls->queue_dropped,
		       st.kcp.retrans_segs, st.kcp.out_segs);
		if (!paced) {
			ck_assert_uint_gt(ls->queue_dropped, 100);
			ck_assert_uint_gt(st.kcp.retrans_segs, 100);
		} else {
			ck_assert_uint_eq(ls->queue_dropped, 0);
			ck_assert_uint_eq(st.kcp.retrans_segs, 0);
			assert_near(link, 19e6, 0.005, "19M through the 20M bottleneck", p.seed);
		}
		pair_free(&p);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rate_sim");
	TCase *tc = tcase_create("rate_sim");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, rate_20mbit_session_sends_within_2pct_over_10s);
	tcase_add_test(tc, rate_counts_fec_parity_and_headers);
	tcase_add_test(tc, rate_change_live_takes_effect);
	tcase_add_test(tc, rate_10gbit_holds_on_a_millisecond_clock);
	tcase_add_test(tc, rate_below_a_bottleneck_keeps_its_queue_from_overflowing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
