/* KCP over the link simulator: for every profile, 10,000 messages of random size each way
 * through 10% loss, 30 ms +- 20 ms one-way delay, 1% reordering and 1% duplication arrive
 * complete, in order and uncorrupted. The seed is printed on failure; KC_SEED=N replays it. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "duplex.h"
#include "kcp_ep.h"
#include "kcpcore/kcp.h"
#include "kcpcore/pool.h"

#define MESSAGES 10000

static uint64_t seed_for(const char *profile)
{
	const char *env = getenv("KC_SEED");
	uint64_t h = 1469598103934665603ull;

	if (env != NULL && *env != '\0')
		return strtoull(env, NULL, 0);
	for (const char *c = profile; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ull;
	return h;
}

static bool both_done(void *user)
{
	struct kcp_ep *e = user;

	return e[0].received == MESSAGES && e[1].received == MESSAGES;
}

static void lossy(struct sim_impair *im)
{
	*im = (struct sim_impair){0};
	im->loss = 0.10;
	im->delay_us = 30000;
	im->jitter_us = 20000;
	im->reorder = 0.01;
	im->dup = 0.01;
}

static void run_profile(const char *profile, uint32_t base_ms, uint32_t sn_base)
{
	uint64_t seed = seed_for(profile);
	struct sim_impair im;
	struct kcp_params p;
	struct kcp_ep e[2];
	struct duplex *d;
	struct pool *pool;
	int err;
	bool done;

	lossy(&im);
	d = duplex_new(&im, &im, seed, base_ms);
	pool = pool_new(8192, KC_HEADROOM + 1500, &err);
	ck_assert_ptr_nonnull(pool);
	kcp_params_default(&p);
	ck_assert_int_eq(kcp_params_profile(&p, profile), 0);
	p.snd_wnd = p.rcv_wnd = 256;
	p.sn_base = sn_base;
	for (int s = 0; s < 2; s++) {
		kcp_ep_init(&e[s], d, s, pool, 0x5eed, &p, seed);
		e[s].to_send = MESSAGES;
		e[s].min_len = 8;
		e[s].max_len = 3 * (p.mtu - KCP_OVERHEAD); /* up to 3 fragments */
	}
	done = duplex_run(d, 4ull * 3600 * 1000000, both_done, e);
	for (int s = 0; s < 2; s++) {
		const struct sim_stats *ls = sim_link_stats(duplex_link(d, s));

		ck_assert_msg(done, "profile %s seed %" PRIu64 ": side %d received %u of %u", profile,
			      seed, !s, e[!s].received, MESSAGES);
		ck_assert_msg(e[s].bad == 0, "profile %s seed %" PRIu64 ": %u bad messages", profile,
			      seed, e[s].bad);
		/* the impairments really happened */
		ck_assert_uint_gt(ls->lost, ls->sent / 20);
		ck_assert_uint_gt(ls->duplicated, 0);
		ck_assert_uint_gt(ls->reordered, 0);
		ck_assert_uint_gt(kcp_stats(e[s].kcp)->retrans_segs, 0);
		ck_assert_uint_gt(kcp_stats(e[s].kcp)->repeat_segs, 0);
	}
	printf("profile=%s seed=%" PRIu64 " virtual_s=%.1f retrans=%" PRIu64 "/%" PRIu64 "\n",
	       profile, seed, (double)duplex_now_us(d) / 1e6,
	       kcp_stats(e[0].kcp)->retrans_segs + kcp_stats(e[1].kcp)->retrans_segs,
	       kcp_stats(e[0].kcp)->out_segs + kcp_stats(e[1].kcp)->out_segs);
	for (int s = 0; s < 2; s++)
		kcp_ep_fini(&e[s]);
	ck_assert_uint_eq(pool_avail(pool), pool_count(pool));
	pool_free(pool);
	duplex_free(d);
}

START_TEST(kcp_10k_messages_survive_lossy_link_profile_normal)
{
	run_profile("normal", 0, 0);
}
END_TEST

START_TEST(kcp_10k_messages_survive_lossy_link_profile_fast)
{
	run_profile("fast", 0, 0);
}
END_TEST

START_TEST(kcp_10k_messages_survive_lossy_link_profile_fast2)
{
	run_profile("fast2", 0, 0);
}
END_TEST

START_TEST(kcp_10k_messages_survive_lossy_link_profile_fast3)
{
	run_profile("fast3", 0, 0);
}
END_TEST

START_TEST(kcp_10k_messages_survive_lossy_link_profile_default)
{
	run_profile("default", 0, 0);
}
END_TEST

/* The same through a clock and sequence numbers that wrap at 2^32 early in the run. */
START_TEST(kcp_10k_messages_survive_lossy_link_across_wraparound)
{
	run_profile("fast3", 0xfffff000u, 0xfffffc00u);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kcp_sim");
	TCase *tc = tcase_create("kcp_sim");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, kcp_10k_messages_survive_lossy_link_profile_normal);
	tcase_add_test(tc, kcp_10k_messages_survive_lossy_link_profile_fast);
	tcase_add_test(tc, kcp_10k_messages_survive_lossy_link_profile_fast2);
	tcase_add_test(tc, kcp_10k_messages_survive_lossy_link_profile_fast3);
	tcase_add_test(tc, kcp_10k_messages_survive_lossy_link_profile_default);
	tcase_add_test(tc, kcp_10k_messages_survive_lossy_link_across_wraparound);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
