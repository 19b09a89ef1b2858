/* The data path of one worker: TUN -> route -> session -> UDP and back, and the timers.
 *
 * Egress: up to WORKER_BATCH TUN reads per wake-up, each routed by destination (longest prefix
 * over the peers' AllowedIPs), TCP SYNs clamped, queued into the peer's session; then the
 * touched sessions flush and the datagrams leave in one sendmmsg.
 * Ingress: recvmmsg; each datagram is opened once with the shared compat cipher, matched to a
 * peer by source address (or, for a new address, by the conv it carries), fed to the session;
 * messages out of it are IP packets (source checked against the peer's AllowedIPs, written to
 * the TUN) or in-band control messages (keepalives). When something was written to the TUN,
 * the TUN is read before the sessions flush: the kernel answers a ping or a TCP segment while
 * write() runs, so the answer leaves in the same datagram as the KCP ACK of the question
 * instead of a datagram after it (one send and one receive less each way: see DESIGN-NOTES).
 * A datagram from a new address opens an "unidentified" session; it is adopted by the peer
 * whose AllowedIPs hold the source of its first IP packet or the addresses its keepalive lists
 * (compat mode knows no other identity: the shared key is the only authentication). */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "allowedips.h"
#include "config.h"
#include "daemon.h"
#include "ippkt.h"
#include "log.h"
#include "kcpcore/error.h"
#include "kcpcore/pool.h"

#define ORPHAN_TTL_MS 10000

uint32_t daemon_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

uint64_t daemon_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- timer heap, by due time (wraparound-aware) ---- */

static bool heap_before(const struct peer *a, const struct peer *b)
{
	return (int32_t)(a->due_ms - b->due_ms) < 0;
}

static void heap_swap(struct worker *w, unsigned i, unsigned j)
{
	struct peer *t = w->heap[i];

	w->heap[i] = w->heap[j];
	w->heap[j] = t;
	w->heap[i]->heap_idx = (int)i;
	w->heap[j]->heap_idx = (int)j;
}

static void heap_fix(struct worker *w, unsigned i)
{
	while (i > 0 && heap_before(w->heap[i], w->heap[(i - 1) / 2])) {
		heap_swap(w, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;

		if (l < w->heap_len && heap_before(w->heap[l], w->heap[m]))
			m = l;
		if (r < w->heap_len && heap_before(w->heap[r], w->heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(w, i, m);
		i = m;
	}
}

static void heap_remove(struct worker *w, struct peer *p)
{
	unsigned i = (unsigned)p->heap_idx;

	if (p->heap_idx < 0)
		return;
	p->heap_idx = -1;
	if (--w->heap_len == i)
		return;
	w->heap[i] = w->heap[w->heap_len];
	w->heap[i]->heap_idx = (int)i;
	heap_fix(w, i);
}

static void worker_arm(struct worker *w, uint32_t now)
{
	struct timeval tv;
	int32_t ms;

	if (w->heap_len == 0) {
		event_del(w->ev_timer);
		return;
	}
	ms = (int32_t)(w->heap[0]->due_ms - now);
	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_add(w->ev_timer, &tv);
}

void worker_schedule(struct worker *w, struct peer *p, uint32_t now)
{
	uint32_t due;

	if (!peer_due(p, now, &due)) {
		heap_remove(w, p);
		return;
	}
	p->due_ms = due;
	if (p->heap_idx < 0) {
		p->heap_idx = (int)w->heap_len;
		w->heap[w->heap_len++] = p;
	}
	heap_fix(w, (unsigned)p->heap_idx);
}

/* Notes p for the flush at the end of this wake-up. */
static void worker_touch(struct worker *w, struct peer *p, uint32_t now)
{
	if (w->ntouched > 0 && w->touched[w->ntouched - 1] == p)
		return;
	for (unsigned i = 0; i < w->ntouched; i++)
		if (w->touched[i] == p)
			return;
	if (w->ntouched == sizeof(w->touched) / sizeof(w->touched[0])) {
		/* cannot happen (two batches' worth): flush it now rather than lose it */
		if (p->s != NULL)
			session_update(p->s, now);
		worker_schedule(w, p, now);
		return;
	}
	w->touched[w->ntouched++] = p;
}

static void worker_untouch(struct worker *w, const struct peer *p)
{
	for (unsigned i = 0; i < w->ntouched; i++)
		if (w->touched[i] == p) {
			w->touched[i] = w->touched[--w->ntouched];
			return;
		}
}

/* Flushes the touched sessions (ACKs and data together) and re-times them. */
static void worker_flush_touched(struct worker *w, uint32_t now)
{
	for (unsigned i = 0; i < w->ntouched; i++) {
		struct peer *p = w->touched[i];

		if (p->s != NULL)
			session_update(p->s, now);
		worker_schedule(w, p, now);
	}
	w->ntouched = 0;
}

/* ---- UDP out ---- */

void worker_queue_udp(struct worker *w, struct pkt *pk, const struct sockaddr_in6 *to)
{
	unsigned i;

	if (w->out_n == WORKER_BATCH)
		worker_flush_udp(w);
	i = w->out_n++;
	w->out_pkts[i] = pk;
	w->out_addr[i] = *to;
	w->out_iov[i].iov_base = pkt_data(pk);
	w->out_iov[i].iov_len = pk->len;
}

void worker_flush_udp(struct worker *w)
{
	unsigned sent = 0;

	for (unsigned i = 0; i < w->out_n; i++) {
		struct msghdr *h = &w->out_msgs[i].msg_hdr;

		memset(h, 0, sizeof(*h));
		h->msg_name = &w->out_addr[i];
		h->msg_namelen = sizeof(w->out_addr[i]);
		h->msg_iov = &w->out_iov[i];
		h->msg_iovlen = 1;
	}
	while (sent < w->out_n) {
		int n = sendmmsg(w->udp_fd, w->out_msgs + sent, w->out_n - sent, 0);

		if (n > 0) {
			w->st.udp_tx += (unsigned)n;
			sent += (unsigned)n;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			/* socket buffer full: drop the rest of this batch, KCP resends */
			w->st.udp_tx_full += w->out_n - sent;
			break;
		}
		/* this one datagram failed (a firewall's EPERM, an unreachable endpoint):
		 * count it and go on with the next, which may be for another peer */
		w->st.udp_tx_err++;
		sent++;
	}
	for (unsigned i = 0; i < w->out_n; i++)
		pool_put(w->pool, w->out_pkts[i]);
	w->out_n = 0;
}

/* Secure mode: a handshake packet or keepalive to send, copied into the batch. */
static void worker_sec_output(void *user, struct sec_peer *sp, const void *addr, size_t addr_len,
			      const uint8_t *pkt, size_t len)
{
	struct worker *w = user;
	struct sockaddr_in6 to;
	struct pkt *pk;

	(void)sp;
	if (addr_len != sizeof(to))
		return;
	memcpy(&to, addr, sizeof(to)); /* the secure layer keeps it as bytes: maybe unaligned */
	pk = pool_get(w->pool);
	if (pk == NULL) {
		w->st.drop_no_buffer++;
		return;
	}
	if (len > pkt_tailroom(pk)) {
		pool_put(w->pool, pk);
		return;
	}
	memcpy(pkt_data(pk), pkt, len);
	pk->len = (uint16_t)len;
	worker_queue_udp(w, pk, &to);
}

/* ---- peers and orphans ---- */

static struct peer *worker_find_addr(struct worker *w, const struct sockaddr_in6 *a)
{
	/* Linear: fine for the handful of peers of today's configs; a hash on the address comes
	 * with the 10k-peer work. */
	for (unsigned i = 0; i < w->npeers; i++)
		if (w->peers[i]->has_addr && udp_addr_equal(&w->peers[i]->addr, a))
			return w->peers[i];
	for (unsigned i = 0; i < WORKER_ORPHANS; i++)
		if (w->orphans[i] != NULL && udp_addr_equal(&w->orphans[i]->addr, a))
			return w->orphans[i];
	return NULL;
}

static void orphan_drop(struct worker *w, struct peer *o)
{
	for (unsigned i = 0; i < WORKER_ORPHANS; i++)
		if (w->orphans[i] == o)
			w->orphans[i] = NULL;
	heap_remove(w, o);
	worker_untouch(w, o);
	peer_free(o);
}

static struct peer *orphan_new(struct worker *w, const struct sockaddr_in6 *from, uint32_t now)
{
	unsigned slot = 0;

	for (unsigned i = 0; i < WORKER_ORPHANS; i++) {
		if (w->orphans[i] == NULL) {
			slot = i;
			break;
		}
		if ((int32_t)(w->orphans[i]->session_start_ms -
			      w->orphans[slot]->session_start_ms) < 0)
			slot = i;
	}
	if (w->orphans[slot] != NULL)
		orphan_drop(w, w->orphans[slot]); /* the oldest makes room */
	w->orphans[slot] = peer_new(w, NULL);
	if (w->orphans[slot] == NULL)
		return NULL;
	w->orphans[slot]->addr = *from;
	w->orphans[slot]->has_addr = true;
	w->orphans[slot]->session_start_ms = now;
	return w->orphans[slot];
}

/* An unidentified session was made with the interface's settings; the peer's own (per-peer
 * overrides) apply from adoption on. */
static void worker_apply_peer_settings(struct worker *w, struct peer *p)
{
	struct session_params sp;
	struct kcp *k = session_kcp(p->s);

	session_params_default(&sp);
	config_peer_session(w->d->cfg, p->cfg, &sp);
	session_set_fec(p->s, sp.fec_data, sp.fec_parity);
	kcp_set_wndsize(k, sp.kcp.snd_wnd, sp.kcp.rcv_wnd);
	kcp_set_nodelay(k, sp.kcp.nodelay, sp.kcp.interval_ms, sp.kcp.resend, sp.kcp.nc);
	kcp_set_rate(k, sp.kcp.rate_bps);
}

/* Moves an unidentified session to the peer it belongs to; returns that peer. */
static struct peer *orphan_adopt(struct worker *w, struct peer *o, struct peer *p, uint32_t now)
{
	char buf[64];

	peer_end_session(p);
	p->s = o->s;
	p->conv = o->conv;
	p->addr = o->addr;
	p->has_addr = true;
	p->session_start_ms = o->session_start_ms;
	p->last_rx_ms = now;
	p->st.sessions++;
	session_set_user(p->s, p);
	worker_apply_peer_settings(w, p);
	peer_apply_tune(p);
	o->s = NULL;
	orphan_drop(w, o);
	p->state = PEER_UP;
	log_info("session up peer=%s endpoint=%s conv=0x%08x", p->name,
		 udp_addr_str(&p->addr, buf, sizeof(buf)), p->conv);
	return p;
}

/* ---- messages out of a session ---- */

static void worker_tun_write(struct worker *w, struct peer *p, uint8_t *m, size_t len)
{
	if (write(w->tun_fd, m, len) < 0) {
		w->st.tun_tx_err++;
		return;
	}
	w->st.tun_tx++;
	p->st.rx_packets++;
	p->st.rx_bytes += len;
}

static struct peer *worker_keepalive_owner(struct worker *w, const uint8_t *m, size_t len)
{
	for (size_t i = 0; len >= 3 && i < m[2] && 3 + 17 * (i + 1) <= len; i++) {
		int family = m[3 + 17 * i];
		struct peer *p;

		if (family != AF_INET && family != AF_INET6)
			continue;
		p = allowedips_lookup(w->aips, family, &m[4 + 17 * i]);
		if (p != NULL)
			return p;
	}
	return NULL;
}

/* Drains the whole messages of p's session; may turn an orphan into its peer. */
static struct peer *worker_deliver(struct worker *w, struct peer *p, uint32_t now)
{
	int n;

	while (p->s != NULL && (n = session_recv(p->s, w->msg, sizeof(w->msg))) >= 0) {
		const uint8_t *src, *dst;
		int family;

		if (n >= 2 && w->msg[0] == CTRL_MAGIC && w->msg[1] == CTRL_KEEPALIVE) {
			if (p->cfg == NULL) {
				struct peer *owner = worker_keepalive_owner(w, w->msg, (size_t)n);

				if (owner != NULL)
					p = orphan_adopt(w, p, owner, now);
			}
			p->st.keepalives_rx++;
			continue;
		}
		if (ippkt_addrs(w->msg, (size_t)n, &family, &src, &dst) < 0) {
			w->st.drop_not_ip++;
			continue;
		}
		if (p->cfg == NULL) {
			struct peer *owner = allowedips_lookup(w->aips, family, src);

			if (owner == NULL) {
				p->st.drop_src++;
				continue;
			}
			p = orphan_adopt(w, p, owner, now);
		}
		if (allowedips_lookup(w->aips, family, src) != p) {
			p->st.drop_src++;
			continue;
		}
		ippkt_clamp_mss(w->msg, (size_t)n, family == AF_INET ? w->mss_v4 : w->mss_v6);
		worker_tun_write(w, p, w->msg, (size_t)n);
	}
	return p;
}

/* ---- UDP in ---- */

static void worker_tun_drain(struct worker *w, uint32_t now);

/* Secure mode: the peer is whoever's keys open the datagram; it moves to where it came from. */
static void worker_datagram_secure(struct worker *w, uint8_t *buf, size_t len,
				   const struct sockaddr_in6 *from, uint32_t now)
{
	struct sec_peer *sp;
	struct sec_events ev;
	struct peer *p;
	uint8_t *body;
	size_t blen;
	int rc;

	rc = sec_input(w->sec, buf, len, from, sizeof(*from), now, &sp, &body,
		       &blen, &ev);
	if (rc < 0) {
		w->st.drop_secure++; /* counted by cause in the secure layer; no state kept */
		return;
	}
	p = sec_peer_user(sp);
	if (!p->has_addr || !udp_addr_equal(&p->addr, from)) {
		char abuf[64];

		if (p->has_addr)
			log_info("peer=%s roamed to %s", p->name,
				 udp_addr_str(from, abuf, sizeof(abuf)));
		p->addr = *from;
		p->has_addr = true;
	}
	p->last_rx_ms = now;
	if (ev.established)
		peer_established(p, ev.remote_restarted, now);
	if (rc == SEC_IN_DATA && p->s != NULL) {
		if (session_input_opened(p->s, body, blen, len, now) < 0)
			w->st.drop_kcp++;
		else
			p->state = PEER_UP;
	}
	if (p->s != NULL)
		p = worker_deliver(w, p, now);
	worker_touch(w, p, now);
}

static void worker_datagram(struct worker *w, uint8_t *buf, size_t len,
			    const struct sockaddr_in6 *from, uint32_t now)
{
	struct peer *p = worker_find_addr(w, from);
	struct session_peek pk;
	uint8_t *body;
	size_t blen;
	int err;

	if (session_open(w->open_crypt, buf, len, &body, &blen) < 0) {
		w->st.drop_auth++; /* no state for what does not decrypt */
		return;
	}
	err = session_peek(body, blen, &pk);
	if (err < 0) {
		/* parity carries no conv: it belongs to the address's session, if any; what it
		 * recovers is delivered and ACKed now, not when the next datagram comes */
		if (p == NULL || p->s == NULL) {
			w->st.drop_parity_no_session++;
			return;
		}
		if (session_input_opened(p->s, body, blen, len, now) < 0) {
			w->st.drop_kcp++;
			return;
		}
		p = worker_deliver(w, p, now);
		worker_touch(w, p, now);
		return;
	}
	if (p == NULL || p->s == NULL || p->conv != pk.conv) {
		/* A new conversation. From a known address it replaces the old one only when it
		 * starts at sn 0 (kcp-go's rule; a peer that restarted). Otherwise only data
		 * opens a session: it is resynced to the sender's sequence numbers, so a peer
		 * that kept its session across our restart carries on. */
		if (p != NULL && p->s != NULL && !(pk.has_push && pk.push_sn == 0 && pk.una == 0)) {
			w->st.drop_kcp++;
			return;
		}
		if (!pk.has_push) {
			w->st.drop_no_session++;
			return;
		}
		if (p == NULL && (p = orphan_new(w, from, now)) == NULL) {
			w->st.drop_no_buffer++;
			return;
		}
		if (peer_start_session(p, pk.conv, now) < 0)
			return;
		if (pk.una != 0 || pk.push_sn != 0)
			kcp_resync(session_kcp(p->s), pk.una, pk.push_sn);
		if (p->cfg != NULL)
			p->addr = *from;
	}
	if (session_input_opened(p->s, body, blen, len, now) < 0) {
		w->st.drop_kcp++;
		return;
	}
	p->last_rx_ms = now;
	if (p->cfg != NULL && p->state != PEER_UP) {
		char abuf[64];

		p->state = PEER_UP;
		log_info("session up peer=%s endpoint=%s conv=0x%08x", p->name,
			 udp_addr_str(&p->addr, abuf, sizeof(abuf)), p->conv);
	}
	p = worker_deliver(w, p, now);
	worker_touch(w, p, now);
}

static void worker_udp_cb(evutil_socket_t fd, short what, void *arg)
{
	static uint8_t bufs[WORKER_BATCH][2048];
	struct mmsghdr msgs[WORKER_BATCH];
	struct iovec iov[WORKER_BATCH];
	struct sockaddr_in6 from[WORKER_BATCH];
	struct worker *w = arg;
	uint32_t now = daemon_now_ms();
	uint64_t tun_tx0 = w->st.tun_tx;
	int n;

	(void)what;
	for (int i = 0; i < WORKER_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	w->now_ms = now;
	n = recvmmsg(fd, msgs, WORKER_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		w->st.udp_rx++;
		if (msgs[i].msg_hdr.msg_namelen != sizeof(struct sockaddr_in6))
			continue;
		from[i].sin6_flowinfo = 0; /* the address is an identity (cookies, roaming) */
		if (w->sec != NULL)
			worker_datagram_secure(w, bufs[i], msgs[i].msg_len, &from[i], now);
		else
			worker_datagram(w, bufs[i], msgs[i].msg_len, &from[i], now);
	}
	if (w->st.tun_tx != tun_tx0)
		worker_tun_drain(w, now); /* the answers, to ride with the ACKs */
	worker_flush_touched(w, now);
	worker_flush_udp(w);
	worker_arm(w, now);
}

/* ---- TUN in ---- */

/* Reads up to WORKER_BATCH packets from the TUN into their peers' sessions; the sessions are
 * flushed by the caller (worker_flush_touched). */
static void worker_tun_drain(struct worker *w, uint32_t now)
{
	for (int i = 0; i < WORKER_BATCH; i++) {
		ssize_t n = read(w->tun_fd, w->msg, sizeof(w->msg));
		const uint8_t *src, *dst;
		struct peer *p;
		int family;

		if (n <= 0)
			break;
		w->st.tun_rx++;
		if (ippkt_addrs(w->msg, (size_t)n, &family, &src, &dst) < 0) {
			w->st.drop_not_ip++;
			continue;
		}
		p = allowedips_lookup(w->aips, family, dst);
		if (p == NULL) {
			w->st.drop_no_route++;
			continue;
		}
		if (p->s == NULL) {
			w->st.drop_no_session++;
			if (p->sp != NULL && !sec_peer_ready(p->sp, now)) {
				/* traffic for a peer without keys: ask for a handshake */
				sec_peer_want_handshake(p->sp);
				worker_schedule(w, p, now);
			}
			continue;
		}
		ippkt_clamp_mss(w->msg, (size_t)n, family == AF_INET ? w->mss_v4 : w->mss_v6);
		if (session_send(p->s, w->msg, (size_t)n) < 0) {
			p->st.drop_send++;
			continue;
		}
		p->st.tx_packets++;
		p->st.tx_bytes += (uint64_t)n;
		worker_touch(w, p, now);
	}
}

static void worker_tun_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint32_t now = daemon_now_ms();

	(void)fd;
	(void)what;
	w->now_ms = now;
	worker_tun_drain(w, now);
	worker_flush_touched(w, now);
	worker_flush_udp(w);
	worker_arm(w, now);
}

/* ---- timers ---- */

static void worker_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint32_t now = daemon_now_ms();

	(void)fd;
	(void)what;
	w->now_ms = now;
	while (w->heap_len > 0 && (int32_t)(w->heap[0]->due_ms - now) <= 0) {
		struct peer *p = w->heap[0];

		if (p->cfg == NULL && now - p->session_start_ms > ORPHAN_TTL_MS) {
			orphan_drop(w, p); /* never identified */
			continue;
		}
		peer_service(p, now);
		if (p->s != NULL)
			p = worker_deliver(w, p, now);
		worker_schedule(w, p, now);
		if (p->heap_idx >= 0 && (int32_t)(p->due_ms - now) <= 0) {
			/* still due (pool empty?): look again next millisecond, not in a loop */
			p->due_ms = now + 1;
			heap_fix(w, (unsigned)p->heap_idx);
		}
	}
	worker_flush_udp(w);
	worker_arm(w, now);
}

/* ---- set-up ---- */

int worker_init(struct worker *w, struct daemon *d, int tun_fd, int udp_fd)
{
	const struct config *c = d->cfg;
	unsigned pool_bufs;
	int err = 0;

	memset(w, 0, sizeof(*w));
	w->d = d;
	w->base = d->base;
	w->tun_fd = tun_fd;
	w->udp_fd = udp_fd;
	/* Enough for every peer's windows on both sides, plus batches in flight. */
	pool_bufs = 2 * WORKER_BATCH + 256;
	for (size_t i = 0; i < c->npeers; i++)
		pool_bufs += 2 * (c->peers[i].kcp.snd_wnd + c->peers[i].kcp.rcv_wnd) + 64;
	pool_bufs += WORKER_ORPHANS * 128;
	w->pool = pool_new(pool_bufs, KC_HEADROOM + c->udp_mtu + 64, &err);
	if (w->pool == NULL)
		return err;
	if (c->mode == CONFIG_MODE_SECURE) {
		struct sec_dev_params dp;

		memset(&dp, 0, sizeof(dp));
		memcpy(dp.private_key, c->private_key, sizeof(dp.private_key));
		dp.obfuscate = c->obfuscate;
		dp.output = worker_sec_output;
		dp.user = w;
		w->sec = sec_dev_new(&dp, &err);
		explicit_bzero(dp.private_key, sizeof(dp.private_key));
		if (w->sec == NULL)
			return err;
	} else if (c->crypt != CRYPT_NULL) {
		crypt_kdf_kcptun(c->key, strlen(c->key), w->key);
		w->open_crypt = crypt_new(c->crypt, w->key, &err);
		if (w->open_crypt == NULL)
			return err;
	}
	w->aips = allowedips_new();
	w->peers = calloc(c->npeers, sizeof(*w->peers));
	w->heap = calloc(c->npeers + WORKER_ORPHANS, sizeof(*w->heap));
	if (w->aips == NULL || w->peers == NULL || w->heap == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->npeers; i++) {
		struct peer *p = peer_new(w, &c->peers[i]);

		if (p == NULL)
			return -ENOMEM;
		w->peers[w->npeers++] = p;
		for (size_t j = 0; j < c->peers[i].nallowed; j++) {
			const struct config_prefix *a = &c->peers[i].allowed[j];

			err = allowedips_insert(w->aips, a->family, a->addr, a->cidr, p);
			if (err < 0)
				return err;
		}
	}
	w->mss_v4 = ippkt_mss_for_mtu(d->tun_mtu, AF_INET);
	w->mss_v6 = ippkt_mss_for_mtu(d->tun_mtu, AF_INET6);
	w->ev_tun = event_new(w->base, tun_fd, EV_READ | EV_PERSIST, worker_tun_cb, w);
	w->ev_udp = event_new(w->base, udp_fd, EV_READ | EV_PERSIST, worker_udp_cb, w);
	w->ev_timer = event_new(w->base, -1, 0, worker_timer_cb, w);
	if (w->ev_tun == NULL || w->ev_udp == NULL || w->ev_timer == NULL)
		return -ENOMEM;
	event_add(w->ev_tun, NULL);
	event_add(w->ev_udp, NULL);
	for (unsigned i = 0; i < w->npeers; i++)
		worker_schedule(w, w->peers[i], daemon_now_ms());
	worker_arm(w, daemon_now_ms());
	return 0;
}

void worker_fini(struct worker *w)
{
	if (w->ev_tun != NULL)
		event_free(w->ev_tun);
	if (w->ev_udp != NULL)
		event_free(w->ev_udp);
	if (w->ev_timer != NULL)
		event_free(w->ev_timer);
	worker_flush_udp(w);
	for (unsigned i = 0; i < WORKER_ORPHANS; i++)
		if (w->orphans[i] != NULL)
			orphan_drop(w, w->orphans[i]);
	for (unsigned i = 0; i < w->npeers; i++)
		peer_free(w->peers[i]);
	free(w->peers);
	free(w->heap);
	allowedips_free(w->aips);
	crypt_free(w->open_crypt);
	sec_dev_free(w->sec);
	pool_free(w->pool);
}
