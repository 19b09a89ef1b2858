/* Peers: the session of each, keepalives, state, and what to do when a session dies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "kcpcore/error.h"
#include "kcpcore/pool.h"

/* A peer is "up" while something arrived within this long (or 3 keepalive intervals). */
#define PEER_TIMEOUT_MS 30000
/* An initiator whose session saw nothing for this long starts a new conversation. */
#define PEER_RESTART_MS 15000

const char *peer_state_name(enum peer_state s)
{
	switch (s) {
	case PEER_UP:
		return "up";
	case PEER_CONNECTING:
		return "connecting";
	default:
		return "down";
	}
}

static uint32_t peer_timeout_ms(const struct peer *p)
{
	return p->keepalive_ms != 0 && 3 * p->keepalive_ms < PEER_TIMEOUT_MS ? 3 * p->keepalive_ms
									     : PEER_TIMEOUT_MS;
}

/* Session output: one datagram for this peer's endpoint, into the worker's send batch. */
static void peer_output(struct pkt *pk, void *user)
{
	struct peer *p = user;
	struct worker *w = p->w;
	unsigned i;

	if (!p->has_addr) {
		pool_put(w->pool, pk);
		return;
	}
	if (w->out_n == WORKER_BATCH)
		worker_flush_udp(w);
	i = w->out_n++;
	w->out_pkts[i] = pk;
	w->out_addr[i] = p->addr;
	w->out_iov[i].iov_base = pkt_data(pk);
	w->out_iov[i].iov_len = pk->len;
}

struct peer *peer_new(struct worker *w, const struct config_peer *cfg)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->w = w;
	p->cfg = cfg;
	p->heap_idx = -1;
	p->state = PEER_DOWN;
	if (cfg != NULL) {
		snprintf(p->name, sizeof(p->name), "%s", cfg->name);
		p->keepalive_ms = cfg->keepalive_s * 1000;
		if (cfg->endpoint != NULL) {
			int err = udp_resolve(cfg->endpoint, &p->addr);

			if (err < 0) {
				log_warnx("cannot resolve endpoint peer=%s endpoint=%s", p->name,
					  cfg->endpoint);
			} else {
				p->has_addr = true;
			}
			p->initiator = true;
			p->state = PEER_CONNECTING;
		}
	} else {
		snprintf(p->name, sizeof(p->name), "(unidentified)");
	}
	return p;
}

void peer_get_stats(const struct peer *p, struct session_stats *st)
{
	*st = p->old;
	if (p->s != NULL) {
		struct session_stats cur;
		uint64_t *d = (uint64_t *)st;
		const uint64_t *c = (const uint64_t *)&cur;

		session_get_stats(p->s, &cur);
		for (size_t i = 0; i < sizeof(cur) / sizeof(uint64_t); i++)
			d[i] += c[i];
	}
}

_Static_assert(sizeof(struct session_stats) % sizeof(uint64_t) == 0, "session_stats is all u64");

void peer_end_session(struct peer *p)
{
	if (p->s == NULL)
		return;
	peer_get_stats(p, &p->old);
	session_free(p->s);
	p->s = NULL;
}

void peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	peer_end_session(p);
	free(p);
}

int peer_start_session(struct peer *p, uint32_t conv, uint32_t now)
{
	struct session_params sp;
	int err;

	peer_end_session(p);
	session_params_default(&sp);
	config_peer_session(p->w->d->cfg, p->cfg != NULL ? p->cfg : &p->w->d->cfg->peers[0], &sp);
	memcpy(sp.key, p->w->key, sizeof(sp.key));
	sp.conv = conv;
	sp.one_segment = true; /* one IP packet per segment: kcp-go peers need it, it costs us nothing */
	p->s = session_new(&sp, p->w->pool, peer_output, p, &err);
	if (p->s == NULL) {
		log_warnx("cannot create session peer=%s: %s", p->name, kc_strerror(err));
		return err;
	}
	if (peer_apply_tune(p) < 0)
		log_warnx("cannot apply tuned settings peer=%s", p->name);
	p->conv = conv;
	p->session_start_ms = now;
	p->last_rx_ms = now;
	p->next_keepalive_ms = now;
	p->st.sessions++;
	if (p->initiator)
		p->state = PEER_CONNECTING;
	log_debug("session start peer=%s conv=0x%08x", p->name, conv);
	return 0;
}

int peer_apply_tune(struct peer *p)
{
	const struct peer_tune *t = &p->tune;
	int rc = 0;

	if (p->s == NULL)
		return 0;
	if (t->fec)
		rc = session_set_fec(p->s, t->fec_data, t->fec_parity);
	if (rc == 0 && t->wnd)
		rc = kcp_set_wndsize(session_kcp(p->s), t->snd_wnd, t->rcv_wnd);
	if (rc == 0 && t->nodelay)
		rc = kcp_set_nodelay(session_kcp(p->s), t->nodelay_mode, t->interval_ms, t->resend,
				     t->nc);
	if (rc == 0 && t->rate)
		rc = kcp_set_rate(session_kcp(p->s), t->rate_bps);
	return rc;
}

void peer_send_keepalive(struct peer *p, uint32_t now)
{
	const struct config *c = p->w->d->cfg;
	uint8_t m[3 + 17 * 16];
	unsigned n = 0;

	if (p->s == NULL)
		return;
	m[0] = CTRL_MAGIC;
	m[1] = CTRL_KEEPALIVE;
	for (size_t i = 0; i < c->naddrs && n < 16; i++, n++) {
		m[3 + 17 * n] = (uint8_t)c->addrs[i].family;
		memcpy(&m[4 + 17 * n], c->addrs[i].addr, 16);
	}
	m[2] = (uint8_t)n;
	if (session_send(p->s, m, 3 + 17 * (size_t)n) == 0)
		p->st.keepalives_tx++;
	p->next_keepalive_ms = now + p->keepalive_ms;
}

static uint32_t peer_new_conv(void)
{
	uint32_t conv = 0;

	while (conv == 0)
		if (getrandom(&conv, sizeof(conv), 0) != sizeof(conv))
			conv = (uint32_t)random();
	return conv;
}

void peer_service(struct peer *p, uint32_t now)
{
	if (p->initiator && p->s == NULL && p->has_addr)
		peer_start_session(p, peer_new_conv(), now);
	if (p->s == NULL)
		return;
	if (p->keepalive_ms != 0 && (int32_t)(now - p->next_keepalive_ms) >= 0)
		peer_send_keepalive(p, now);
	session_update(p->s, now);
	if (p->state == PEER_UP && now - p->last_rx_ms > peer_timeout_ms(p)) {
		p->state = p->initiator ? PEER_CONNECTING : PEER_DOWN;
		log_notice("peer down peer=%s silent_ms=%u", p->name, now - p->last_rx_ms);
	}
	/* An initiator whose peer forgot it (restart) or vanished: a new conversation, so the
	 * queue of old packets does not block new ones and the peer sees sn 0. */
	if (p->initiator && (kcp_dead(session_kcp(p->s)) ||
			     (now - p->last_rx_ms > PEER_RESTART_MS && p->keepalive_ms != 0))) {
		log_notice("session restart peer=%s conv=0x%08x reason=%s", p->name, p->conv,
			   kcp_dead(session_kcp(p->s)) ? "dead_link" : "silence");
		peer_start_session(p, peer_new_conv(), now);
	}
}

static void due_min(bool *have, uint32_t *due, uint32_t t)
{
	if (!*have || (int32_t)(t - *due) < 0)
		*due = t;
	*have = true;
}

bool peer_due(const struct peer *p, uint32_t now, uint32_t *due)
{
	bool have = false;
	uint32_t t;

	if (p->initiator && p->s == NULL && p->has_addr) {
		*due = now;
		return true;
	}
	if (p->s == NULL)
		return false; /* idle: nothing until a datagram arrives */
	if (session_check(p->s, now, &t))
		due_min(&have, due, t);
	if (p->keepalive_ms != 0)
		due_min(&have, due, p->next_keepalive_ms);
	if (p->state == PEER_UP)
		due_min(&have, due, p->last_rx_ms + peer_timeout_ms(p) + 1);
	if (p->initiator && p->keepalive_ms != 0)
		due_min(&have, due, p->last_rx_ms + PEER_RESTART_MS + 1);
	return have;
}
