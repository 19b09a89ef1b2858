#include <stdlib.h>
#include <string.h>

#include "kcp_ep.h"

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

unsigned kcp_ep_msg_len(const struct kcp_ep *e, uint64_t seed, unsigned index)
{
	unsigned span = e->max_len - e->min_len + 1;

	return e->min_len + (unsigned)(mix(seed * 0x100000001b3ull + index) % span);
}

static uint8_t msg_byte(uint64_t seed, unsigned index, unsigned off)
{
	return (uint8_t)mix(seed ^ ((uint64_t)index << 20) ^ off);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void ep_output(struct pkt *p, void *user)
{
	struct kcp_ep *e = user;

	duplex_send(e->d, e->side, pkt_data(p), p->len);
	pool_put(e->pool, p);
}

static void ep_verify(struct kcp_ep *e, const uint8_t *m, unsigned n, uint32_t now_ms)
{
	uint64_t peer_seed = e->verify_seed;
	unsigned idx = n >= 4 ? get32(m) : UINT32_MAX;

	if (idx != e->received || n != kcp_ep_msg_len(e, peer_seed, idx)) {
		e->bad++;
		e->received++;
		return;
	}
	for (unsigned j = 8; j < n; j++) {
		if (m[j] != (e->cheap ? (uint8_t)idx : msg_byte(peer_seed, idx, j))) {
			e->bad++;
			break;
		}
	}
	if (e->on_message != NULL)
		e->on_message(e->user, m, n, now_ms);
	e->received++;
}

static void ep_input(void *obj, uint8_t *buf, size_t len, uint32_t now_ms)
{
	struct kcp_ep *e = obj;
	int n;

	if (e->session != NULL)
		session_input(e->session, buf, len, now_ms);
	else
		kcp_input(e->kcp, buf, len, true, now_ms);
	while ((n = kcp_recv(e->kcp, e->buf, e->max_len + 64)) >= 0) {
		if (e->echo)
			kcp_send(e->kcp, e->buf, (size_t)n);
		else
			ep_verify(e, e->buf, (unsigned)n, now_ms);
	}
}

static void ep_fill(struct kcp_ep *e, uint32_t now_ms)
{
	while (e->sent < e->to_send) {
		unsigned n = kcp_ep_msg_len(e, e->seed, e->sent);

		if (e->every_ms != 0 && (int32_t)(now_ms - e->next_send_ms) < 0)
			return;
		put32(e->buf, e->sent);
		put32(e->buf + 4, now_ms);
		if (e->cheap)
			memset(e->buf + 8, (uint8_t)e->sent, n > 8 ? n - 8 : 0);
		else
			for (unsigned j = 8; j < n; j++)
				e->buf[j] = msg_byte(e->seed, e->sent, j);
		if ((e->session != NULL ? session_send(e->session, e->buf, n)
					: kcp_send(e->kcp, e->buf, n)) < 0)
			return; /* queue full: try again later */
		e->sent++;
		e->next_send_ms += e->every_ms;
	}
}

static void ep_update(void *obj, uint32_t now_ms)
{
	struct kcp_ep *e = obj;

	ep_fill(e, now_ms);
	kcp_update(e->kcp, now_ms);
}

static bool ep_check(void *obj, uint32_t now_ms, uint32_t *due_ms)
{
	struct kcp_ep *e = obj;
	bool have = kcp_check(e->kcp, now_ms, due_ms);

	if (e->every_ms != 0 && e->sent < e->to_send &&
	    (!have || (int32_t)(e->next_send_ms - *due_ms) < 0)) {
		*due_ms = e->next_send_ms;
		have = true;
	}
	return have;
}

static void ep_setup(struct kcp_ep *e, struct duplex *d, int side, struct pool *pool,
		     uint64_t seed)
{
	memset(e, 0, sizeof(*e));
	e->d = d;
	e->side = side;
	e->pool = pool;
	e->seed = seed ^ (uint64_t)side;
	e->verify_seed = seed ^ (uint64_t)!side;
	e->min_len = 8;
	e->max_len = 3000;
	e->buf = malloc(65536);
	if (e->buf == NULL)
		abort();
	e->next_send_ms = duplex_now_ms(d);
}

void kcp_ep_init(struct kcp_ep *e, struct duplex *d, int side, struct pool *pool, uint32_t conv,
		 const struct kcp_params *params, uint64_t seed)
{
	struct duplex_ep ep = {e, ep_input, ep_update, ep_check};
	int err;

	ep_setup(e, d, side, pool, seed);
	e->kcp = kcp_new(conv, params, pool, ep_output, e, &err);
	if (e->kcp == NULL)
		abort();
	duplex_set_ep(d, side, &ep);
}

void kcp_ep_init_session(struct kcp_ep *e, struct duplex *d, int side, struct pool *pool,
			 const struct session_params *params, uint64_t seed)
{
	struct duplex_ep ep = {e, ep_input, ep_update, ep_check};
	int err;

	ep_setup(e, d, side, pool, seed);
	e->session = session_new(params, pool, ep_output, e, &err);
	if (e->session == NULL)
		abort();
	e->kcp = session_kcp(e->session);
	duplex_set_ep(d, side, &ep);
}

void kcp_ep_fini(struct kcp_ep *e)
{
	if (e->session != NULL)
		session_free(e->session);
	else
		kcp_free(e->kcp);
	free(e->buf);
}
