/* The impairment decisions of one direction: loss (independent and Gilbert-Elliott), the
 * rate-limited drop-tail queue, delay with jitter, reordering and duplication. Packet storage
 * and the clock belong to the caller (sim.c or tests/tools/kcpimpair.c). */
#include <string.h>

#include "sim_model.h"

#define SIM_MODEL_NS_PER_S 1000000000ull

void sim_model_init(struct sim_model *m, const struct sim_impair *im, uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	sim_rng_seed(&m->rng, seed);
	sim_model_set(m, im);
}

void sim_model_set(struct sim_model *m, const struct sim_impair *im)
{
	static const struct sim_impair none;

	m->im = im ? *im : none;
	m->reorder_us = m->im.reorder_us;
	if (m->reorder_us == 0)
		m->reorder_us = m->im.delay_us / 2 + SIM_MODEL_REORDER_DEFAULT_US;
	m->queue_bytes = m->im.queue_bytes ? m->im.queue_bytes : SIM_MODEL_QUEUE_DEFAULT_BYTES;
	m->tx_rem = 0;
}

/* True with probability p; draws from the PRNG only when 0 < p < 1. */
static bool sim_model_chance(struct sim_model *m, double p)
{
	if (p <= 0)
		return false;
	if (p >= 1)
		return true;
	return sim_rng_unit(&m->rng) < p;
}

/* Steps the Gilbert-Elliott chain by one packet and draws the loss of that packet. */
static bool sim_model_lost(struct sim_model *m)
{
	const struct sim_impair *im = &m->im;
	bool lost = false;

	if (im->ge_p > 0) {
		if (m->ge_bad ? sim_model_chance(m, im->ge_r) : sim_model_chance(m, im->ge_p))
			m->ge_bad = !m->ge_bad;
		lost = sim_model_chance(m, m->ge_bad ? im->ge_loss_bad : im->ge_loss_good);
	}
	/* drawn even after a Gilbert-Elliott loss: the draws per packet depend on the config only
	 */
	if (sim_model_chance(m, im->loss))
		lost = true;
	return lost;
}

/* Serialisation time of len_bytes at the configured rate; the remainder of the division is
 * carried to the next packet so the long-run rate is exact (to the nanosecond up to 18 Gbit/s). */
static uint64_t sim_model_tx_ns(struct sim_model *m, uint64_t len_bytes)
{
	uint64_t rate = m->im.rate_bps;
	uint64_t bits = len_bytes * 8;
	uint64_t ns = bits / rate * SIM_MODEL_NS_PER_S;
	uint64_t r = bits % rate;

	if (rate <= (UINT64_MAX - rate) / SIM_MODEL_NS_PER_S) {
		uint64_t t = r * SIM_MODEL_NS_PER_S + m->tx_rem;

		ns += t / rate;
		m->tx_rem = t % rate;
	} else {
		ns += (uint64_t)((double)r * 1e9 / (double)rate);
	}
	return ns;
}

/* Puts a packet into the rate queue; returns false when the drop-tail bound refuses it, else
 * sets *depart_us to when its last bit leaves the queue. */
static bool sim_model_enqueue(struct sim_model *m, uint64_t now_us, size_t len_bytes,
			      uint64_t *depart_us)
{
	uint64_t now_ns = now_us * 1000;
	uint64_t start_ns = now_ns;
	double backlog_bytes = 0;

	if (m->busy_until_ns > now_ns) {
		start_ns = m->busy_until_ns;
		backlog_bytes = (double)(m->busy_until_ns - now_ns) * (double)m->im.rate_bps / 8e9;
	}
	if (backlog_bytes + (double)len_bytes > (double)m->queue_bytes)
		return false;
	m->busy_until_ns = start_ns + sim_model_tx_ns(m, len_bytes);
	*depart_us = (m->busy_until_ns + 999) / 1000;
	return true;
}

unsigned sim_model_offer(struct sim_model *m, uint64_t now_us, size_t len_bytes, uint64_t due_us[2])
{
	const struct sim_impair *im = &m->im;
	uint64_t t = now_us, delay_us = im->delay_us;

	m->stats.sent++;
	if (sim_model_lost(m)) {
		m->stats.lost++;
		return 0;
	}
	if (im->rate_bps && !sim_model_enqueue(m, now_us, len_bytes, &t)) {
		m->stats.queue_dropped++;
		return 0;
	}
	if (im->jitter_us) {
		uint64_t span = 2 * (uint64_t)im->jitter_us;
		uint64_t d =
		    sim_rng_range(&m->rng, 0, span > UINT32_MAX ? UINT32_MAX : (uint32_t)span);

		/* delay - jitter + d, floored at 0 */
		delay_us = delay_us + d > im->jitter_us ? delay_us + d - im->jitter_us : 0;
	}
	t += delay_us;
	if (sim_model_chance(m, im->reorder)) {
		/* held back outside the FIFO, so the packets after it overtake it */
		t += m->reorder_us;
		m->stats.reordered++;
	} else {
		if (!im->jitter_reorders && t < m->last_due_us)
			t = m->last_due_us;
		if (t > m->last_due_us)
			m->last_due_us = t;
	}
	due_us[0] = t;
	if (sim_model_chance(m, im->dup)) {
		due_us[1] = t;
		m->stats.duplicated++;
		return 2;
	}
	return 1;
}
