#include <stdlib.h>

#include "duplex.h"

#define DUPLEX_BUF 65536

struct duplex {
	struct sim_link *link[2]; /* link[s] carries what side s sends */
	struct duplex_ep ep[2];
	uint64_t now_us;
	uint32_t base_ms;
	uint8_t buf[DUPLEX_BUF];
};

struct duplex *duplex_new(const struct sim_impair *ab, const struct sim_impair *ba, uint64_t seed,
			  uint32_t base_ms)
{
	struct duplex *d = calloc(1, sizeof(*d));

	if (d == NULL)
		abort();
	d->link[0] = sim_link_new(ab, seed);
	d->link[1] = sim_link_new(ba, seed ^ 0x9e3779b97f4a7c15ull);
	d->base_ms = base_ms;
	return d;
}

void duplex_free(struct duplex *d)
{
	if (d == NULL)
		return;
	sim_link_free(d->link[0]);
	sim_link_free(d->link[1]);
	free(d);
}

void duplex_set_ep(struct duplex *d, int side, const struct duplex_ep *ep)
{
	d->ep[side] = *ep;
}

void duplex_send(struct duplex *d, int side, const void *buf, size_t len)
{
	sim_link_send(d->link[side], d->now_us, buf, len);
}

uint64_t duplex_now_us(const struct duplex *d)
{
	return d->now_us;
}

uint32_t duplex_now_ms(const struct duplex *d)
{
	return d->base_ms + (uint32_t)(d->now_us / 1000);
}

struct sim_link *duplex_link(struct duplex *d, int side)
{
	return d->link[side];
}

/* Microsecond time at which the endpoints' clock first reads due_ms (never before now). */
static uint64_t duplex_due_us(const struct duplex *d, uint32_t due_ms)
{
	int32_t ahead = (int32_t)(due_ms - duplex_now_ms(d));

	if (ahead <= 0)
		return (d->now_us / 1000 + 1) * 1000; /* at the next millisecond */
	return (d->now_us / 1000 + (uint64_t)ahead) * 1000;
}

bool duplex_run(struct duplex *d, uint64_t duration_us, bool (*done)(void *user), void *user)
{
	uint64_t end = d->now_us + duration_us;

	for (;;) {
		uint64_t next = end;
		uint32_t due;

		/* Deliveries due now, then whatever the endpoints have to do. */
		for (int s = 0; s < 2; s++) {
			long n;

			while ((n = sim_link_recv(d->link[s], d->now_us, d->buf, sizeof(d->buf))) >= 0)
				d->ep[!s].input(d->ep[!s].obj, d->buf, (size_t)n, duplex_now_ms(d));
		}
		for (int s = 0; s < 2; s++)
			d->ep[s].update(d->ep[s].obj, duplex_now_ms(d));
		if (done != NULL && done(user))
			return true;
		for (int s = 0; s < 2; s++) {
			uint64_t t = sim_link_next_us(d->link[s]);

			if (t < next)
				next = t;
			if (d->ep[s].check(d->ep[s].obj, duplex_now_ms(d), &due)) {
				t = duplex_due_us(d, due);
				if (t < next)
					next = t;
			}
		}
		if (d->now_us >= end)
			return false;
		d->now_us = next > d->now_us ? next : d->now_us + 1;
	}
}
