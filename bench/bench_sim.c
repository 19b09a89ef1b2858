/* Link simulator benchmark; prints numbers, asserts nothing about speed.
 * Packets per second through one sim_link (send + recv, 1400-byte packets, a packet every
 * 10 us of virtual time) for a clean link, each impairment alone and all of them together,
 * so a protocol benchmark can tell how much of its time the simulator takes. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define BENCH_PACKETS 2000000u
#define BENCH_BYTES   1400

static double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs BENCH_PACKETS through a link with `im`; prints the rate and the in-flight peak. */
static void bench_run(const char *name, const struct sim_impair *im)
{
	static unsigned char buf[BENCH_BYTES];
	struct sim_link *l = sim_link_new(im, 1);
	size_t peak = 0;
	double t0 = bench_now_s(), secs;
	uint64_t now_us = 0;

	for (uint32_t i = 0; i < BENCH_PACKETS; i++, now_us += 10) {
		memcpy(buf, &i, sizeof(i));
		sim_link_send(l, now_us, buf, sizeof(buf));
		while (sim_link_recv(l, now_us, buf, sizeof(buf)) >= 0)
			;
		if (sim_link_pending(l) > peak)
			peak = sim_link_pending(l);
	}
	while (sim_link_recv(l, UINT64_MAX - 1, buf, sizeof(buf)) >= 0)
		;
	secs = bench_now_s() - t0;
	printf("%-28s %6.2f Mpkt/s  %7.1f ns/pkt  delivered %7llu  peak in flight %zu\n", name,
	       BENCH_PACKETS / secs / 1e6, secs * 1e9 / BENCH_PACKETS,
	       (unsigned long long)sim_link_stats(l)->delivered, peak);
	sim_link_free(l);
}

int main(void)
{
	const struct {
		const char *name;
		struct sim_impair im;
	} cases[] = {
	    {"clean, no delay", {.delay_us = 0}},
	    {"delay 50 ms", {.delay_us = 50000}},
	    {"delay 50 +- 20 ms (FIFO)", {.delay_us = 50000, .jitter_us = 20000}},
	    {"delay 50 +- 20 ms (reorder)",
	     {.delay_us = 50000, .jitter_us = 20000, .jitter_reorders = true}},
	    {"loss 10%", {.delay_us = 50000, .loss = 0.1}},
	    {"Gilbert-Elliott", {.delay_us = 50000, .ge_p = 0.01, .ge_r = 0.25, .ge_loss_bad = 1}},
	    {"rate 1 Gbit/s", {.delay_us = 50000, .rate_bps = 1000000000}},
	    {"everything",
	     {.delay_us = 50000,
	      .jitter_us = 10000,
	      .loss = 0.02,
	      .ge_p = 0.01,
	      .ge_r = 0.3,
	      .ge_loss_bad = 0.5,
	      .reorder = 0.01,
	      .dup = 0.01,
	      .rate_bps = 1000000000,
	      .queue_bytes = 1 << 20}},
	};

	printf("sim_link: %u packets of %d bytes, one every 10 us of virtual time\n", BENCH_PACKETS,
	       BENCH_BYTES);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bench_run(cases[i].name, &cases[i].im);
	return 0;
}
