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

/* Session output: one datagram for this peer's endpoint, into the worker's send batch. In
 * secure mode it is sealed here, in place (the session left the room); without a keypair it
 * is dropped (KCP sends it again) and the secure layer asks for a handshake. */
static void peer_output(struct pkt *pk, void *user)
{
	struct peer *p = user;
	struct worker *w = p->w;

	if (!p->has_addr) {
		pool_put(w->pool, pk);
		return;
	}
	if (p->sp != NULL) {
		int n;

		pk->off = (uint16_t)(pk->off - SEC_HEADER_LEN);
		if (pkt_tailroom(pk) < SEC_TAG_LEN ||
		    (n = sec_seal(p->sp, pkt_data(pk), pk->len, w->now_ms)) < 0) {
			p->st.drop_no_key++;
			pool_put(w->pool, pk);
			return;
		}
		pk->len = (uint16_t)n;
		if (p->s != NULL) /* RateLimit counts what the secure layer adds too */
			kcp_rate_charge(session_kcp(p->s), SEC_OVERHEAD);
	}
	worker_queue_udp(w, pk, &p->addr);
}

static uint64_t peer_random64(void)
{
	uint64_t x = 0;

	while (x == 0)
		if (getrandom(&x, sizeof(x), 0) != sizeof(x))
			x = ((uint64_t)random() << 32) ^ (uint64_t)random();
	return x;
}

/* What we tell the peer about our side in the handshake: the configuration's settings with
 * kcpctl tune's on top, as the session runs them. */
static void peer_secure_local(struct peer *p, uint64_t epoch)
{
	const struct config *c = p->w->d->cfg;
	const struct config_peer *cp = p->cfg;
	const struct peer_tune *t = &p->tune;
	struct sec_params lp;

	memset(&lp, 0, sizeof(lp));
	lp.epoch = epoch;
	lp.udp_mtu = (uint16_t)c->udp_mtu;
	lp.fec_data = (uint8_t)(t->fec ? t->fec_data : cp->fec_data);
	lp.fec_parity = (uint8_t)(t->fec ? t->fec_parity : cp->fec_parity);
	lp.nodelay = (uint8_t)(t->nodelay ? t->nodelay_mode : cp->kcp.nodelay);
	lp.interval_ms = (uint16_t)(t->nodelay ? t->interval_ms : cp->kcp.interval_ms);
	lp.resend = (uint8_t)(t->nodelay ? t->resend : cp->kcp.resend);
	lp.nc = t->nodelay ? t->nc : cp->kcp.nc;
	lp.snd_wnd = (uint16_t)(t->wnd ? t->snd_wnd : cp->kcp.snd_wnd);
	lp.rcv_wnd = (uint16_t)(t->wnd ? t->rcv_wnd : cp->kcp.rcv_wnd);
	lp.aead = (enum sec_aead)c->aead;
	sec_peer_set_local(p->sp, &lp);
}

static int peer_secure_init(struct peer *p)
{
	const struct config_peer *cp = p->cfg;
	int err;

	p->sp = sec_peer_new(p->w->sec, cp->public_key, cp->has_psk ? cp->psk : NULL, p, &err);
	if (p->sp == NULL) {
		log_warnx("cannot add peer=%s: %s", p->name, kc_strerror(err));
		return err;
	}
	peer_secure_local(p, peer_random64());
	if (p->has_addr) {
		sec_peer_set_endpoint(p->sp, &p->addr, sizeof(p->addr));
		sec_peer_want_handshake(p->sp); /* a client brings its tunnel up at once */
	}
	return 0;
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
		if (w->sec != NULL && peer_secure_init(p) < 0) {
			free(p);
			return NULL;
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
	sec_peer_free(p->sp);
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

void peer_established(struct peer *p, bool remote_restarted, uint32_t now)
{
	uint32_t conv = sec_peer_conv(p->sp);
	struct sec_params rp;
	char abuf[64];

	if (p->s != NULL && p->conv == conv)
		return; /* a new keypair for the same KCP session: nothing else changes */
	if (peer_start_session(p, conv, now) < 0)
		return;
	p->state = PEER_UP;
	if (sec_peer_remote(p->sp, &rp) && rp.udp_mtu != p->w->d->cfg->udp_mtu)
		log_notice("peer=%s has UDPMTU %u, we have %u", p->name, rp.udp_mtu,
			   p->w->d->cfg->udp_mtu);
	log_info("session up peer=%s endpoint=%s conv=0x%08x%s", p->name,
		 udp_addr_str(&p->addr, abuf, sizeof(abuf)), conv,
		 remote_restarted && p->st.sessions > 1 ? " (peer restarted)" : "");
}

int peer_apply_tune(struct peer *p)
{
	const struct peer_tune *t = &p->tune;
	int rc = 0;

	if (p->sp != NULL && p->cfg != NULL) {
		struct sec_params lp;

		sec_peer_local(p->sp, &lp);
		peer_secure_local(p, lp.epoch); /* the next handshake announces the tuned values */
	}
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
		conv = (uint32_t)peer_random64();
	return conv;
}

void peer_service(struct peer *p, uint32_t now)
{
	if (p->sp != NULL)
		sec_peer_service(p->sp, now, daemon_wall_ns()); /* handshakes and keys first */
	else if (p->initiator && p->s == NULL && p->has_addr)
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
	if (p->sp != NULL) {
		/* secure mode: a dead session restarts through a new epoch and a handshake (a
		 * silent peer is the secure layer's to notice: it rekeys when nothing comes back) */
		if (kcp_dead(session_kcp(p->s))) {
			log_notice("session restart peer=%s conv=0x%08x reason=dead_link", p->name,
				   p->conv);
			peer_end_session(p);
			sec_peer_new_epoch(p->sp, peer_random64());
			sec_peer_service(p->sp, now, daemon_wall_ns());
		}
		return;
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

	if (p->sp != NULL && sec_peer_check(p->sp, now, &t)) {
		due_min(&have, due, t);
	} else if (p->sp == NULL && p->initiator && p->s == NULL && p->has_addr) {
		*due = now;
		return true;
	}
	if (p->s == NULL)
		return have; /* idle: nothing until a datagram arrives (or a handshake is due) */
	if (session_check(p->s, now, &t))
		due_min(&have, due, t);
	if (p->keepalive_ms != 0)
		due_min(&have, due, p->next_keepalive_ms);
	if (p->state == PEER_UP)
		due_min(&have, due, p->last_rx_ms + peer_timeout_ms(p) + 1);
	if (p->sp == NULL && p->initiator && p->keepalive_ms != 0)
		due_min(&have, due, p->last_rx_ms + PEER_RESTART_MS + 1);
	return have;
}
