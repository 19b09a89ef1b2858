/* The link simulator: PRNG, heap, and each impairment of the link model against its definition.
 * Statistical checks use bounds of 5 standard deviations. Every run is seeded from $SIM_SEED
 * (default below); a failure prints the seed so `SIM_SEED=N tests/unit/test_sim` replays it. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_heap.h"

#define TEST_SEED_DEFAULT 20261123u

static uint64_t test_seed(void)
{
	const char *s = getenv("SIM_SEED");

	return s ? strtoull(s, NULL, 0) : TEST_SEED_DEFAULT;
}

/* Assertion for hot loops: Check's ck_assert_* write a mark point to a pipe even on success. */
#define test_check(cond)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg("%s (seed=%" PRIu64 ")", #cond, test_seed());                 \
	} while (0)

/* Asserts |got - want| <= tol, naming the quantity and the seed. */
#define ck_assert_near(what, got, want, tol, seed)                                                 \
	ck_assert_msg(fabs((double)(got) - (double)(want)) <= (double)(tol),                       \
		      "%s: got %.6g, want %.6g +- %.3g (seed=%" PRIu64 ")", (what), (double)(got), \
		      (double)(want), (double)(tol), (uint64_t)(seed))

/* One delivered packet as the tests see it. */
struct rx {
	uint32_t idx;
	uint64_t sent_us, at_us;
	size_t len;
};

#define TEST_HDR_BYTES 12

/* Delivers every packet due at or before until_us into out[*n...], at its delivery time. */
static void drain(struct sim_link *l, uint64_t until_us, struct rx *out, size_t *n, size_t max)
{
	uint8_t buf[2048];

	while (sim_link_next_us(l) <= until_us) {
		uint64_t t = sim_link_next_us(l);
		long len = sim_link_recv(l, t, buf, sizeof(buf));

		test_check(len >= TEST_HDR_BYTES);
		test_check(*n < max);
		memcpy(&out[*n].idx, buf, 4);
		memcpy(&out[*n].sent_us, buf + 4, 8);
		out[*n].at_us = t;
		out[*n].len = (size_t)len;
		(*n)++;
	}
}

/* Sends n packets of len bytes, one every interval_us from t=0, and collects every delivery.
 * Returns the number of deliveries in out (sized max). */
static size_t run(struct sim_link *l, uint32_t n, uint32_t interval_us, size_t len, struct rx *out,
		  size_t max)
{
	uint8_t buf[2048] = {0};
	size_t got = 0;

	ck_assert_uint_ge(len, TEST_HDR_BYTES);
	ck_assert_uint_le(len, sizeof(buf));
	for (uint32_t i = 0; i < n; i++) {
		uint64_t now = (uint64_t)i * interval_us;

		drain(l, now, out, &got, max);
		memcpy(buf, &i, 4);
		memcpy(buf + 4, &now, 8);
		sim_link_send(l, now, buf, len);
	}
	drain(l, UINT64_MAX - 1, out, &got, max);
	ck_assert_uint_eq(sim_link_pending(l), 0);
	return got;
}

static struct rx *rx_alloc(size_t n)
{
	struct rx *r = calloc(n, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	return r;
}

START_TEST(sim_rng_same_seed_repeats_different_seed_differs)
{
	struct sim_rng a, b, c;
	int same_ac = 0;

	sim_rng_seed(&a, 42);
	sim_rng_seed(&b, 42);
	sim_rng_seed(&c, 43);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = sim_rng_next(&a);

		test_check(x == sim_rng_next(&b));
		same_ac += x == sim_rng_next(&c);
	}
	ck_assert_int_eq(same_ac, 0);
}
END_TEST

START_TEST(sim_rng_range_is_inclusive_and_unbiased)
{
	uint64_t seed = test_seed();
	struct sim_rng r;
	unsigned count[5] = {0};
	const unsigned n = 50000;
	double sum = 0;

	sim_rng_seed(&r, seed);
	for (unsigned i = 0; i < n; i++) {
		uint32_t v = sim_rng_range(&r, 3, 7);

		test_check(v >= 3);
		test_check(v <= 7);
		count[v - 3]++;
	}
	for (int k = 0; k < 5; k++)
		ck_assert_near("count of one value", count[k], n / 5.0, 5 * sqrt(n * 0.2 * 0.8),
			       seed);
	ck_assert_uint_eq(sim_rng_range(&r, 9, 9), 9);
	ck_assert_uint_eq(sim_rng_range(&r, 9, 2), 9);
	for (unsigned i = 0; i < n; i++)
		sum += sim_rng_range(&r, 0, UINT32_MAX);
	/* uniform on [0, 2^32): sd of one draw is 2^32/sqrt(12) */
	ck_assert_near("mean of full range", sum / n, 2147483647.5,
		       5 * 4294967296.0 / sqrt(12.0 * n), seed);
}
END_TEST

START_TEST(sim_rng_unit_is_in_half_open_unit_interval)
{
	uint64_t seed = test_seed();
	struct sim_rng r;
	const unsigned n = 100000;
	double sum = 0;

	sim_rng_seed(&r, seed);
	for (unsigned i = 0; i < n; i++) {
		double u = sim_rng_unit(&r);

		test_check(u >= 0.0 && u < 1.0);
		sum += u;
	}
	ck_assert_near("mean", sum / n, 0.5, 5 / sqrt(12.0 * n), seed);
}
END_TEST

START_TEST(sim_heap_orders_by_time_then_push_order)
{
	uint64_t seed = test_seed();
	struct sim_rng r;
	struct sim_heap h;
	struct sim_event e, prev = {0};
	const unsigned n = 20000;

	sim_rng_seed(&r, seed);
	sim_heap_init(&h);
	for (unsigned i = 0; i < n; i++)
		test_check(sim_heap_push(&h, sim_rng_range(&r, 0, 500), NULL, i, i) == 0);
	for (unsigned i = 0; i < n; i++) {
		test_check(sim_heap_top(&h) != NULL);
		test_check(sim_heap_top(&h)->due_us == h.ev[0].due_us);
		sim_heap_pop(&h, &e);
		test_check(e.len == e.tag);
		if (i > 0)
			ck_assert_msg(prev.due_us < e.due_us ||
					  (prev.due_us == e.due_us && prev.len < e.len),
				      "out of order at %u (seed=%" PRIu64 ")", i, seed);
		prev = e;
	}
	ck_assert_ptr_null(sim_heap_top(&h));
	sim_heap_fini(&h);
}
END_TEST

START_TEST(sim_link_empty_returns_minus_one_and_uint64_max)
{
	struct sim_link *l = sim_link_new(NULL, 1);
	uint8_t buf[16] = {1, 2, 3};

	ck_assert_uint_eq(sim_link_next_us(l), UINT64_MAX);
	ck_assert_int_eq(sim_link_recv(l, UINT64_MAX, buf, sizeof(buf)), -1);
	ck_assert_int_eq(sim_link_send(l, 100, buf, 3), 0);
	ck_assert_uint_eq(sim_link_next_us(l), 100);
	ck_assert_int_eq(sim_link_recv(l, 99, buf, sizeof(buf)), -1);
	ck_assert_int_eq(sim_link_recv(l, 100, buf, sizeof(buf)), 3);
	ck_assert_uint_eq(sim_link_next_us(l), UINT64_MAX);
	ck_assert_int_eq(sim_link_recv(l, UINT64_MAX, buf, sizeof(buf)), -1);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_perfect_delivers_all_in_order_at_exactly_the_delay)
{
	struct sim_impair im = {.delay_us = 5000};
	struct sim_link *l = sim_link_new(&im, test_seed());
	const unsigned n = 1000;
	struct rx *rx = rx_alloc(n);
	size_t got = run(l, n, 700, 100, rx, n);

	ck_assert_uint_eq(got, n);
	for (unsigned i = 0; i < n; i++) {
		test_check(rx[i].idx == i);
		test_check(rx[i].at_us == rx[i].sent_us + 5000);
		test_check(rx[i].len == 100);
	}
	ck_assert_uint_eq(sim_link_stats(l)->sent, n);
	ck_assert_uint_eq(sim_link_stats(l)->delivered, n);
	ck_assert_uint_eq(sim_link_stats(l)->bytes_delivered, 100 * n);
	free(rx);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_independent_loss_rate_within_5_sigma)
{
	uint64_t seed = test_seed();
	struct sim_impair im = {.loss = 0.1, .delay_us = 1000};
	struct sim_link *l = sim_link_new(&im, seed);
	const unsigned n = 100000;
	struct rx *rx = rx_alloc(n);
	size_t got = run(l, n, 10, 20, rx, n);
	const struct sim_stats *st = sim_link_stats(l);

	ck_assert_near("lost", st->lost, n * 0.1, 5 * sqrt(n * 0.1 * 0.9), seed);
	ck_assert_uint_eq(got + st->lost, n);
	ck_assert_uint_eq(st->delivered, got);
	free(rx);
	sim_link_free(l);
}
END_TEST

/* Mean length of runs of consecutive losses among n packets sent, from what was delivered. */
static double mean_loss_burst(const struct rx *rx, size_t got, unsigned n, unsigned *bursts)
{
	unsigned lost = 0, runs = 0;
	uint32_t next = 0;

	for (size_t i = 0; i <= got; i++) {
		uint32_t idx = i < got ? rx[i].idx : n;

		if (idx > next) {
			lost += idx - next;
			runs++;
		}
		next = idx + 1;
	}
	*bursts = runs;
	return runs ? (double)lost / runs : 0;
}

START_TEST(sim_link_gilbert_elliott_rate_and_mean_burst_match_the_chain)
{
	uint64_t seed = test_seed();
	/* bad state loses everything: bursts are the bad sojourns, geometric with mean 1/r */
	struct sim_impair im = {.ge_p = 0.01, .ge_r = 0.25, .ge_loss_bad = 1.0};
	struct sim_link *l = sim_link_new(&im, seed);
	const unsigned n = 400000;
	struct rx *rx = rx_alloc(n);
	size_t got = run(l, n, 10, 20, rx, n);
	double pi_bad = im.ge_p / (im.ge_p + im.ge_r);
	unsigned bursts;
	double burst = mean_loss_burst(rx, got, n, &bursts);
	double want_bursts = n * (1 - pi_bad) * im.ge_p;

	ck_assert_uint_eq(got + sim_link_stats(l)->lost, n);
	ck_assert_near("loss rate", (double)(n - got) / n, pi_bad, 0.12 * pi_bad, seed);
	/* a run's length has variance (1-r)/r^2 */
	ck_assert_near("mean burst", burst, 1 / im.ge_r,
		       5 * sqrt((1 - im.ge_r) / (im.ge_r * im.ge_r) / want_bursts), seed);
	free(rx);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_gilbert_elliott_mixes_state_loss_rates)
{
	uint64_t seed = test_seed();
	struct sim_impair im = {
	    .ge_p = 0.02, .ge_r = 0.1, .ge_loss_good = 0.01, .ge_loss_bad = 0.5};
	struct sim_link *l = sim_link_new(&im, seed);
	const unsigned n = 400000;
	struct rx *rx = rx_alloc(n);
	size_t got = run(l, n, 10, 20, rx, n);
	double pi_bad = im.ge_p / (im.ge_p + im.ge_r);
	double want = (1 - pi_bad) * im.ge_loss_good + pi_bad * im.ge_loss_bad;

	ck_assert_near("loss rate", (double)(n - got) / n, want, 0.1 * want, seed);
	free(rx);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_independent_loss_has_short_bursts)
{
	/* negative control for the burst measure: the same loss rate without memory */
	uint64_t seed = test_seed();
	struct sim_impair im = {.loss = 0.01 / 0.26};
	struct sim_link *l = sim_link_new(&im, seed);
	const unsigned n = 400000;
	struct rx *rx = rx_alloc(n);
	size_t got = run(l, n, 10, 20, rx, n);
	unsigned bursts;
	double burst = mean_loss_burst(rx, got, n, &bursts);

	ck_assert_near("mean burst", burst, 1 / (1 - im.loss), 0.05, seed);
	free(rx);
	sim_link_free(l);
}
END_TEST

/* Sends one packet every interval_us through a jittered link, checks every delay is within
 * [delay - jitter, delay + jitter] and that the top of the interval is reached; returns how
 * many deliveries came out of send order, and the smallest delay seen in *dmin. */
static unsigned check_jitter(const struct sim_impair *im, uint32_t interval_us, uint64_t *dmin)
{
	uint64_t seed = test_seed();
	struct sim_link *l = sim_link_new(im, seed);
	const unsigned n = 20000;
	struct rx *rx = rx_alloc(n);
	size_t got = run(l, n, interval_us, 20, rx, n);
	uint64_t lo = im->delay_us > im->jitter_us ? im->delay_us - im->jitter_us : 0;
	uint64_t hi = (uint64_t)im->delay_us + im->jitter_us;
	uint64_t dmax = 0;
	unsigned out_of_order = 0;

	ck_assert_uint_eq(got, n);
	*dmin = UINT64_MAX;
	for (size_t i = 0; i < got; i++) {
		uint64_t d = rx[i].at_us - rx[i].sent_us;

		if (d < lo || d > hi)
			ck_abort_msg("delay %" PRIu64 " outside [%" PRIu64 ", %" PRIu64
				     "] (seed=%" PRIu64 ")",
				     d, lo, hi, seed);
		*dmin = d < *dmin ? d : *dmin;
		dmax = d > dmax ? d : dmax;
		out_of_order += i > 0 && rx[i].idx < rx[i - 1].idx;
	}
	ck_assert_msg(dmax > hi - im->jitter_us / 10,
		      "largest delay %" PRIu64 " (seed=%" PRIu64 ")", dmax, seed);
	free(rx);
	sim_link_free(l);
	return out_of_order;
}

START_TEST(sim_link_jitter_keeps_fifo_and_delay_within_bounds)
{
	struct sim_impair im = {.delay_us = 20000, .jitter_us = 10000};
	uint64_t dmin;

	/* dense traffic: a packet waits for every earlier one, so jitter moves delays mostly up */
	ck_assert_uint_eq(check_jitter(&im, 200, &dmin), 0);
	/* sparse traffic: packets rarely queue behind each other and early ones show */
	ck_assert_uint_eq(check_jitter(&im, 5000, &dmin), 0);
	ck_assert_uint_lt(dmin, im.delay_us - im.jitter_us / 2);
}
END_TEST

START_TEST(sim_link_jitter_reorders_only_when_asked)
{
	struct sim_impair im = {.delay_us = 20000, .jitter_us = 10000, .jitter_reorders = true};
	uint64_t dmin;

	ck_assert_uint_gt(check_jitter(&im, 200, &dmin), 1000);
	ck_assert_uint_lt(dmin, im.delay_us - im.jitter_us + im.jitter_us / 10);
}
END_TEST

START_TEST(sim_link_jitter_floors_delay_at_zero)
{
	uint64_t seed = test_seed();
	struct sim_impair im = {.delay_us = 1000, .jitter_us = 5000, .jitter_reorders = true};
	struct sim_link *l = sim_link_new(&im, seed);
	const unsigned n = 20000;
	struct rx *rx = rx_alloc(n);
	size_t got = run(l, n, 200, 20, rx, n);
	unsigned zero = 0;

	ck_assert_uint_eq(got, n);
	for (size_t i = 0; i < got; i++) {
		test_check(rx[i].at_us >= rx[i].sent_us);
		zero += rx[i].at_us == rx[i].sent_us;
	}
	/* delay - jitter + U[0, 2 jitter] <= 0 for 4001 of the 10001 values */
	ck_assert_near("share at zero delay", (double)zero / n, 4001.0 / 10001,
		       5 * sqrt(0.4 * 0.6 / n), seed);
	free(rx);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_reorder_holds_back_the_chosen_share)
{
	uint64_t seed = test_seed();
	/* hold-back defaults to delay/2 + 1 ms = 6 ms, far longer than the 100 us between sends */
	struct sim_impair im = {.delay_us = 10000, .reorder = 0.05};
	struct sim_link *l = sim_link_new(&im, seed);
	const unsigned n = 100000;
	struct rx *rx = rx_alloc(n);
	size_t got = run(l, n, 100, 20, rx, n);
	unsigned held = 0, held_early = 0, overtaken = 0;
	uint32_t max_idx = 0;

	ck_assert_uint_eq(got, n);
	for (size_t i = 0; i < got; i++) {
		uint64_t d = rx[i].at_us - rx[i].sent_us;

		if (d != 10000 && d != 16000)
			ck_abort_msg("delay %" PRIu64 " (seed=%" PRIu64 ")", d, seed);
		held += d == 16000;
		/* the last packets have too few successors to be overtaken for sure */
		if (rx[i].idx < n - 1000) {
			held_early += d == 16000;
			overtaken += i > 0 && rx[i].idx < max_idx;
		}
		max_idx = rx[i].idx > max_idx ? rx[i].idx : max_idx;
	}
	ck_assert_near("held back", held, n * 0.05, 5 * sqrt(n * 0.05 * 0.95), seed);
	ck_assert_uint_eq(held, sim_link_stats(l)->reordered);
	ck_assert_uint_eq(overtaken, held_early);
	free(rx);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_reorder_uses_the_given_hold_back)
{
	struct sim_impair im = {.delay_us = 1000, .reorder = 1.0, .reorder_us = 300};
	struct sim_link *l = sim_link_new(&im, test_seed());
	struct rx rx[10];
	size_t got = run(l, 10, 50, 20, rx, 10);

	ck_assert_uint_eq(got, 10);
	for (size_t i = 0; i < got; i++)
		test_check(rx[i].at_us - rx[i].sent_us == 1300);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_dup_delivers_the_chosen_share_twice_back_to_back)
{
	uint64_t seed = test_seed();
	struct sim_impair im = {.delay_us = 2000, .dup = 0.03};
	struct sim_link *l = sim_link_new(&im, seed);
	const unsigned n = 100000;
	struct rx *rx = rx_alloc(2 * n);
	size_t got = run(l, n, 10, 20, rx, 2 * n);
	const struct sim_stats *st = sim_link_stats(l);
	unsigned twice = 0;

	for (size_t i = 1; i < got; i++) {
		test_check(rx[i].idx >= rx[i - 1].idx);
		if (rx[i].idx == rx[i - 1].idx) {
			twice++;
			test_check(rx[i].at_us == rx[i - 1].at_us);
		}
	}
	ck_assert_near("duplicated", twice, n * 0.03, 5 * sqrt(n * 0.03 * 0.97), seed);
	ck_assert_uint_eq(twice, st->duplicated);
	ck_assert_uint_eq(got, n + twice);
	ck_assert_uint_eq(st->delivered, got);
	free(rx);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_rate_cap_paces_a_saturated_queue_at_the_rate)
{
	/* 1000-byte packets offered at 20 Mbit/s into 10 Mbit/s: 800 us each on the wire */
	struct sim_impair im = {.delay_us = 5000, .rate_bps = 10000000};
	struct sim_link *l = sim_link_new(&im, test_seed());
	const unsigned n = 5000;
	struct rx *rx = rx_alloc(n);
	size_t got = run(l, n, 400, 1000, rx, n);
	const struct sim_stats *st = sim_link_stats(l);
	double secs, mbps;

	ck_assert_uint_gt(st->queue_dropped, 0);
	ck_assert_uint_eq(got + st->queue_dropped, n);
	ck_assert_uint_eq(rx[0].at_us, 800 + 5000);
	for (size_t i = 1; i < got; i++)
		test_check(rx[i].at_us - rx[i - 1].at_us == 800);
	secs = (double)(rx[got - 1].at_us - rx[0].at_us + 800) / 1e6;
	mbps = (double)got * 1000 * 8 / secs / 1e6;
	ck_assert_near("throughput Mbit/s", mbps, 10.0, 0.01, 0);
	/* accepted: what the wire carried while sending, plus a full 64 KiB queue at the end */
	ck_assert_near("accepted", got, (n - 1) * 400 / 800 + 65536 / 1000, 3, 0);
	free(rx);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_rate_cap_below_capacity_adds_only_serialisation)
{
	struct sim_impair im = {.delay_us = 3000, .rate_bps = 10000000};
	struct sim_link *l = sim_link_new(&im, test_seed());
	const unsigned n = 2000;
	struct rx *rx = rx_alloc(n);
	size_t got = run(l, n, 1600, 1000, rx, n);

	ck_assert_uint_eq(got, n);
	for (size_t i = 0; i < got; i++)
		test_check(rx[i].at_us - rx[i].sent_us == 3000 + 800);
	free(rx);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_rate_keeps_fractional_bit_times)
{
	/* one byte at 3 Mbit/s takes 2.667 us: rounding each down to 2.666 would end 2 us early */
	struct sim_impair im = {.rate_bps = 3000000, .queue_bytes = 1 << 20};
	struct sim_link *l = sim_link_new(&im, 1);
	uint8_t b = 0;

	for (int i = 0; i < 3000; i++)
		test_check(sim_link_send(l, 0, &b, 1) == 0);
	for (int i = 0; i < 2999; i++)
		test_check(sim_link_recv(l, 7999, &b, 1) == 1);
	ck_assert_uint_eq(sim_link_next_us(l), 8000);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_queue_bound_drops_the_tail_of_a_burst)
{
	struct sim_impair im = {.delay_us = 100, .rate_bps = 1000000, .queue_bytes = 10000};
	struct sim_link *l = sim_link_new(&im, test_seed());
	uint8_t buf[1000] = {0};
	int accepted = 0;

	/* 10 x 1000 bytes fill the queue exactly; the 11th and later do not fit */
	for (int i = 0; i < 100; i++) {
		int rc = sim_link_send(l, 0, buf, sizeof(buf));

		ck_assert_int_eq(rc, i < 10 ? 0 : 1);
		accepted += rc == 0;
	}
	ck_assert_int_eq(accepted, 10);
	ck_assert_uint_eq(sim_link_stats(l)->queue_dropped, 90);
	for (int i = 0; i < 10; i++) {
		ck_assert_uint_eq(sim_link_next_us(l), 8000 * (i + 1) + 100);
		ck_assert_int_eq(sim_link_recv(l, UINT64_MAX - 1, buf, sizeof(buf)), 1000);
	}
	/* one packet time later there is room for exactly one more */
	ck_assert_int_eq(sim_link_send(l, 8000, buf, sizeof(buf)), 0);
	ck_assert_int_eq(sim_link_send(l, 8000, buf, sizeof(buf)), 1);
	ck_assert_uint_eq(sim_link_stats(l)->queue_dropped, 91);
	sim_link_free(l);
}
END_TEST

/* A delivery trace of a run with every impairment on and irregular sends; returns its length. */
static size_t trace(uint64_t seed, uint64_t *out, size_t max)
{
	struct sim_impair im = {.loss = 0.02,
				.ge_p = 0.01,
				.ge_r = 0.3,
				.ge_loss_bad = 0.7,
				.delay_us = 8000,
				.jitter_us = 3000,
				.reorder = 0.02,
				.dup = 0.02,
				.rate_bps = 50000000,
				.queue_bytes = 30000};
	struct sim_link *l = sim_link_new(&im, seed);
	struct sim_rng load;
	uint8_t buf[1500] = {0};
	uint64_t now = 0;
	size_t n = 0;

	sim_rng_seed(&load, 7); /* the offered load is the same for every seed */
	for (uint32_t i = 0; i < 20000; i++) {
		now += sim_rng_range(&load, 0, 300);
		while (sim_link_next_us(l) <= now && n + 2 <= max) {
			uint64_t t = sim_link_next_us(l);
			long len = sim_link_recv(l, t, buf, sizeof(buf));
			uint32_t idx;

			memcpy(&idx, buf, 4);
			out[n++] = t;
			out[n++] = (uint64_t)len << 32 | idx;
		}
		memcpy(buf, &i, 4);
		sim_link_send(l, now, buf, sim_rng_range(&load, 4, sizeof(buf)));
	}
	sim_link_free(l);
	return n;
}

START_TEST(sim_link_same_seed_same_trace_different_seed_differs)
{
	uint64_t seed = test_seed();
	const size_t max = 100000;
	uint64_t *a = calloc(max, 8), *b = calloc(max, 8), *c = calloc(max, 8);
	size_t na = trace(seed, a, max), nb = trace(seed, b, max), nc = trace(seed + 1, c, max);

	ck_assert_uint_gt(na, 10000);
	ck_assert_uint_eq(na, nb);
	ck_assert_msg(memcmp(a, b, na * 8) == 0, "same seed, different trace (seed=%" PRIu64 ")",
		      seed);
	ck_assert_msg(na != nc || memcmp(a, c, na * 8) != 0,
		      "seeds %" PRIu64 " and %" PRIu64 " gave the same trace", seed, seed + 1);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(sim_link_set_changes_impairment_of_a_live_link)
{
	struct sim_impair clean = {.delay_us = 1000}, cut = {.loss = 1.0};
	struct sim_link *l = sim_link_new(&clean, test_seed());
	uint8_t buf[20] = {0};

	ck_assert_int_eq(sim_link_send(l, 0, buf, sizeof(buf)), 0);
	sim_link_set(l, &cut);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(sim_link_send(l, 10, buf, sizeof(buf)), 1);
	/* what was queued before the change keeps its delivery time */
	ck_assert_uint_eq(sim_link_next_us(l), 1000);
	sim_link_set(l, &clean);
	ck_assert_int_eq(sim_link_send(l, 20, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(sim_link_pending(l), 2);
	ck_assert_uint_eq(sim_link_stats(l)->lost, 100);
	sim_link_free(l);
}
END_TEST

START_TEST(sim_link_recv_aborts_when_the_packet_exceeds_cap)
{
	struct sim_link *l = sim_link_new(NULL, 1);
	uint8_t buf[100] = {0};

	sim_link_send(l, 0, buf, sizeof(buf));
	sim_link_recv(l, 0, buf, sizeof(buf) - 1);
	sim_link_free(l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("sim");
	SRunner *sr;
	int failed;

	fprintf(stderr, "test_sim: seed=%" PRIu64 " (set SIM_SEED to change it)\n", test_seed());
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sim_rng_same_seed_repeats_different_seed_differs);
	tcase_add_test(tc, sim_rng_range_is_inclusive_and_unbiased);
	tcase_add_test(tc, sim_rng_unit_is_in_half_open_unit_interval);
	tcase_add_test(tc, sim_heap_orders_by_time_then_push_order);
	tcase_add_test(tc, sim_link_empty_returns_minus_one_and_uint64_max);
	tcase_add_test(tc, sim_link_perfect_delivers_all_in_order_at_exactly_the_delay);
	tcase_add_test(tc, sim_link_independent_loss_rate_within_5_sigma);
	tcase_add_test(tc, sim_link_gilbert_elliott_rate_and_mean_burst_match_the_chain);
	tcase_add_test(tc, sim_link_gilbert_elliott_mixes_state_loss_rates);
	tcase_add_test(tc, sim_link_independent_loss_has_short_bursts);
	tcase_add_test(tc, sim_link_jitter_keeps_fifo_and_delay_within_bounds);
	tcase_add_test(tc, sim_link_jitter_reorders_only_when_asked);
	tcase_add_test(tc, sim_link_jitter_floors_delay_at_zero);
	tcase_add_test(tc, sim_link_reorder_holds_back_the_chosen_share);
	tcase_add_test(tc, sim_link_reorder_uses_the_given_hold_back);
	tcase_add_test(tc, sim_link_dup_delivers_the_chosen_share_twice_back_to_back);
	tcase_add_test(tc, sim_link_rate_cap_paces_a_saturated_queue_at_the_rate);
	tcase_add_test(tc, sim_link_rate_cap_below_capacity_adds_only_serialisation);
	tcase_add_test(tc, sim_link_rate_keeps_fractional_bit_times);
	tcase_add_test(tc, sim_link_queue_bound_drops_the_tail_of_a_burst);
	tcase_add_test(tc, sim_link_same_seed_same_trace_different_seed_differs);
	tcase_add_test(tc, sim_link_set_changes_impairment_of_a_live_link);
	tcase_add_test_raise_signal(tc, sim_link_recv_aborts_when_the_packet_exceeds_cap, SIGABRT);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
