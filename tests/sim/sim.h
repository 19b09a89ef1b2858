/* The in-process link simulator: a seeded, one-direction link model on a simulated clock.
 *
 * A link takes packets with sim_link_send() at a time the caller chooses and hands them back
 * with sim_link_recv() once their delivery time has come. Loss (independent and
 * Gilbert-Elliott), delay with jitter, reordering, duplication and a rate-limited drop-tail
 * queue are drawn from the link's own PRNG, so the same seed and the same calls give the same
 * deliveries. The decisions live in sim_model.h, which the UDP relay (tests/tools/kcpimpair)
 * drives with a real clock. */
#ifndef TESTS_SIM_SIM_H
#define TESTS_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* xoshiro256** state; seed it with sim_rng_seed(). */
struct sim_rng {
	uint64_t s[4];
};

/* Seeds `r` from any 64-bit value (expanded through splitmix64; 0 is a fine seed). */
void sim_rng_seed(struct sim_rng *r, uint64_t seed);
/* Next 64 uniformly distributed bits. */
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform double in [0, 1) with 53 bits of precision. */
double sim_rng_unit(struct sim_rng *r);
/* Uniform integer in [lo, hi], both included, without modulo bias; lo > hi returns lo. */
uint32_t sim_rng_range(struct sim_rng *r, uint32_t lo, uint32_t hi);

/* The impairment of one direction; zero means off for every field. */
struct sim_impair {
	double loss; /* independent loss probability 0..1 */
	/* Gilbert-Elliott: P(good->bad), P(bad->good) per packet; off if ge_p == 0 */
	double ge_p, ge_r;
	double ge_loss_good, ge_loss_bad; /* loss probability in each state */
	uint32_t delay_us;		  /* one-way base delay */
	/* delay uniform in [delay - jitter, delay + jitter] (floored at 0) */
	uint32_t jitter_us;
	/* false (default): delivery stays FIFO despite jitter, like a real queue */
	bool jitter_reorders;
	/* probability a packet is held back by reorder_us so later ones pass it */
	double reorder;
	uint32_t reorder_us; /* 0 means delay_us/2 + 1 ms */
	/* probability a packet is delivered twice (the copy right after the original) */
	double dup;
	uint64_t rate_bps;    /* serialisation rate cap in bits/s; 0 = unlimited */
	uint32_t queue_bytes; /* drop-tail bound of the rate queue (0 with a rate = 64 KiB) */
};

/* Counters of one link. sent counts offers; delivered and bytes_delivered count copies handed
 * out (duplicates included); lost counts loss decisions, queue_dropped drop-tail decisions;
 * duplicated and reordered count packets chosen for a second copy or a hold-back. */
struct sim_stats {
	uint64_t sent, delivered, lost, queue_dropped, duplicated, reordered, bytes_delivered;
};

struct sim_link; /* opaque */

/* New link with impairment `im` (copied; NULL means a perfect link) and PRNG `seed`.
 * Free with sim_link_free(). Aborts on allocation failure (a test tool). */
struct sim_link *sim_link_new(const struct sim_impair *im, uint64_t seed);
/* Frees `l` and every packet still queued in it; NULL is a no-op. */
void sim_link_free(struct sim_link *l);
/* Offers a copy of `buf` at now_us. Returns 0 if it will be delivered (once or twice), 1 if it
 * was dropped (lost or queue full). */
int sim_link_send(struct sim_link *l, uint64_t now_us, const void *buf, size_t len);
/* Earliest delivery time of a queued packet, or UINT64_MAX when empty. */
uint64_t sim_link_next_us(const struct sim_link *l);
/* Moves the next packet due at or before now_us into buf; returns its length, or -1 if none is
 * due (a packet longer than cap is a caller bug: abort()). */
long sim_link_recv(struct sim_link *l, uint64_t now_us, void *buf, size_t cap);
/* Number of packets (copies) queued in `l`. */
size_t sim_link_pending(const struct sim_link *l);
/* Counters of `l`, valid until sim_link_free(). */
const struct sim_stats *sim_link_stats(const struct sim_link *l);
/* Changes the impairment of a live link (benchmarks switch conditions). Packets already queued
 * keep their delivery times; the Gilbert-Elliott state and the rate queue's backlog carry over. */
void sim_link_set(struct sim_link *l, const struct sim_impair *im);

#endif
