/* A KCP engine, bare or inside a session (KCP + FEC + crypto), as a duplex endpoint that sends
 * numbered, self-checking messages and verifies what it receives. Shared by the simulator
 * scenarios and the benchmarks. */
#ifndef TESTS_SIM_KCP_EP_H
#define TESTS_SIM_KCP_EP_H

#include <stdbool.h>
#include <stdint.h>

#include "duplex.h"
#include "kcpcore/kcp.h"
#include "kcpcore/pool.h"
#include "kcpcore/session.h"

struct kcp_ep {
	struct kcp *kcp;          /* the engine (the session's own when there is one) */
	struct session *session;  /* NULL for a bare engine */
	struct pool *pool;
	struct duplex *d;
	int side;
	unsigned to_send;  /* messages this side sends in all */
	unsigned sent;     /* queued so far */
	unsigned received; /* verified so far */
	unsigned expect;   /* messages to expect from the peer */
	unsigned min_len, max_len;
	uint32_t every_ms; /* 0: send as fast as the queue takes them; else one per interval */
	uint32_t next_send_ms;
	bool echo;         /* echo each received message back instead of verifying */
	bool cheap;        /* benchmarks: payload bytes all equal the index's low byte */
	unsigned bad;      /* messages that failed verification (wrong index, length or bytes) */
	uint64_t seed;        /* this side's messages */
	uint64_t verify_seed; /* the messages it expects: the peer's seed, or its own when echoed */
	uint8_t *buf;
	/* optional: called with each verified message and the arrival time */
	void (*on_message)(void *user, const uint8_t *msg, unsigned len, uint32_t now_ms);
	void *user;
	unsigned user_mark; /* free for the test driving this endpoint */
};

/* Creates side `side` of `d` with a KCP engine of `params` on conversation `conv`. */
void kcp_ep_init(struct kcp_ep *e, struct duplex *d, int side, struct pool *pool, uint32_t conv,
		 const struct kcp_params *params, uint64_t seed);
/* The same with a whole session of `params` instead of a bare engine. */
void kcp_ep_init_session(struct kcp_ep *e, struct duplex *d, int side, struct pool *pool,
			 const struct session_params *params, uint64_t seed);
void kcp_ep_fini(struct kcp_ep *e);

/* Length and content of message `index` of a sender with `seed`: bytes 0..3 carry the index,
 * bytes 4..7 the send time, the rest a pattern of (seed, index, offset). */
unsigned kcp_ep_msg_len(const struct kcp_ep *e, uint64_t seed, unsigned index);

#endif
