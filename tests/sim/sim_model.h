/* The impairment model of one direction, separate from where packets wait, so the in-process
 * link (sim.c, a simulated clock) and the UDP relay (tests/tools/kcpimpair.c, a real clock)
 * make the same decisions from the same code. */
#ifndef TESTS_SIM_SIM_MODEL_H
#define TESTS_SIM_SIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"

/* Default drop-tail bound of the rate queue when a rate is set and queue_bytes is 0. */
#define SIM_MODEL_QUEUE_DEFAULT_BYTES 65536u
/* Hold-back added to delay_us/2 when reorder_us is 0. */
#define SIM_MODEL_REORDER_DEFAULT_US 1000u

/* State of one direction. Fields are readable by the embedding code; stats.delivered and
 * stats.bytes_delivered are for the embedding code to count, the rest is counted here. */
struct sim_model {
	struct sim_impair im;
	struct sim_rng rng;
	struct sim_stats stats;
	bool ge_bad;		/* Gilbert-Elliott state: in the bad state */
	uint32_t reorder_us;	/* effective hold-back */
	uint32_t queue_bytes;	/* effective drop-tail bound (with a rate) */
	uint64_t busy_until_ns; /* when the rate limiter finishes the last accepted packet */
	uint64_t tx_rem;	/* remainder of the serialisation-time division, carried on */
	uint64_t last_due_us;	/* FIFO floor: latest delivery time handed out in order */
};

/* Initialises `m` with impairment `im` (NULL: none) and PRNG `seed`; nothing to free. */
void sim_model_init(struct sim_model *m, const struct sim_impair *im, uint64_t seed);
/* Replaces the impairment of `m`, keeping the PRNG, counters, Gilbert-Elliott state and backlog. */
void sim_model_set(struct sim_model *m, const struct sim_impair *im);
/* Decides the fate of a `len_bytes` packet offered at now_us: returns how many copies to
 * deliver (0 when lost or dropped by the queue, 2 when duplicated) with their delivery times in
 * due_us[0..copies-1], in the order they should come out. */
unsigned sim_model_offer(struct sim_model *m, uint64_t now_us, size_t len_bytes,
			 uint64_t due_us[2]);

#endif
