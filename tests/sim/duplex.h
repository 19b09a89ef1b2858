/* Two protocol endpoints joined by two simulated links (tests/sim/sim.h), driven by events on
 * a virtual clock: packet deliveries and the endpoints' own wake-up times (check()), so a run
 * costs nothing for idle time. Reused by the protocol scenarios and the benchmarks. */
#ifndef TESTS_SIM_DUPLEX_H
#define TESTS_SIM_DUPLEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"

struct duplex;

/* One endpoint: `obj` is passed back to every callback. input() takes a delivered datagram
 * (the buffer may be modified); update() is called after deliveries and at due times; check()
 * says when update() is next needed (false: idle). */
struct duplex_ep {
	void *obj;
	void (*input)(void *obj, uint8_t *buf, size_t len, uint32_t now_ms);
	void (*update)(void *obj, uint32_t now_ms);
	bool (*check)(void *obj, uint32_t now_ms, uint32_t *due_ms);
};

/* Links ab (side 0 to side 1) and ba with their impairments and a seed; the endpoints' clock
 * reads base_ms at the start (set it near 2^32 to test wraparound). */
struct duplex *duplex_new(const struct sim_impair *ab, const struct sim_impair *ba, uint64_t seed,
			  uint32_t base_ms);
void duplex_free(struct duplex *d);

/* Installs endpoint `side` (0 or 1). */
void duplex_set_ep(struct duplex *d, int side, const struct duplex_ep *ep);

/* An endpoint's output: offers a datagram from `side` to the other side at the current time. */
void duplex_send(struct duplex *d, int side, const void *buf, size_t len);

/* Runs events until the clock reaches now + duration_us, or until done(user) turns true
 * (checked after every event). Returns true if done() ended the run. */
bool duplex_run(struct duplex *d, uint64_t duration_us, bool (*done)(void *user), void *user);

/* The clock: microseconds since the start, and the endpoints' milliseconds. */
uint64_t duplex_now_us(const struct duplex *d);
uint32_t duplex_now_ms(const struct duplex *d);

/* The link from `side` to the other side. */
struct sim_link *duplex_link(struct duplex *d, int side);

#endif
