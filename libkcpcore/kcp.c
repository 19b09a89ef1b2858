/* The KCP ARQ engine (spec/kcp-wire.md section 4), with kcp-go's behaviour where the two
 * reference implementations differ: kcp-go's RTT estimator, RTO backoff, early retransmit,
 * ACK thinning, fragment limit of 255 and no RTT sample or window update from recovered
 * datagrams.
 *
 * Send side: one ring of segments indexed by sn & snd_mask. [snd_una, snd_nxt) are in flight,
 * [snd_nxt, snd_end) are queued and get their sn when the window lets them go.
 * Receive side: one ring indexed by sn & rcv_mask. [rcv_head, rcv_nxt) is the in-order queue
 * waiting for kcp_recv(), [rcv_nxt, rcv_nxt + rcv_wnd) the reorder buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kcpcore/error.h"
#include "kcpcore/kcp.h"
#include "kcpcore/pool.h"
#include "kcp_wire.h"
#include "wire.h"

struct kcp_sseg {
	struct pkt *data; /* payload; NULL once acknowledged */
	uint32_t ts;       /* time of the last transmission */
	uint32_t resendts; /* retransmission deadline */
	uint32_t rto;
	uint32_t fastack; /* later segments acknowledged since the last transmission */
	uint16_t xmit;    /* transmissions so far; 0 = never sent */
	uint8_t frg;
	uint8_t acked;
	uint8_t fast_done; /* fast or early retransmitted since the last timeout */
};

struct kcp_rseg {
	struct pkt *data; /* NULL = slot empty */
	uint8_t frg;
};

struct kcp_ack {
	uint32_t sn, ts;
};

#define KCP_ASK_SEND 1 /* send WASK */
#define KCP_ASK_TELL 2 /* send WINS */

/* ACKs collected from one datagram for fast-ack counting; a datagram holds at most
 * mtu / KCP_HDR_LEN segments, and the bound below covers the largest MTU we accept. */
#define KCP_DGRAM_ACKS_MAX (65536 / KCP_HDR_LEN)

struct kcp {
	uint32_t conv;
	unsigned mtu, mss;
	unsigned snd_wnd, rcv_wnd, rmt_wnd, cwnd, ssthresh, incr;
	unsigned nodelay, interval, resend, dead_link;
	unsigned rx_minrto;
	bool nc, stream, dead;

	uint32_t snd_una, snd_nxt, snd_end;
	uint32_t rcv_head, rcv_nxt;
	int32_t rx_srtt, rx_rttvar;
	uint32_t rx_rto;

	uint32_t ts_flush;      /* next interval tick while data is in flight */
	bool ts_flush_set;      /* false until the first tick */
	uint32_t ts_probe, probe_wait;
	unsigned probe;         /* KCP_ASK_* */
	bool flush_now;         /* input or send left work that should go out at once */
	bool resend_known;      /* resend_min is meaningful */
	uint32_t resend_min;    /* earliest retransmission deadline after the last flush */

	struct kcp_sseg *snd;
	uint32_t snd_mask;
	struct kcp_rseg *rcv;
	uint32_t rcv_mask;
	struct kcp_ack *acks;
	unsigned ack_count, ack_cap;
	struct kcp_ack *dgram_acks; /* scratch for kcp_input */

	/* Pacing (kcp_set_rate): a token bucket in millibits, so one millisecond adds exactly
	 * rate_bps. Charged for every datagram emitted, checked before each PUSH. */
	uint64_t rate_bps;      /* 0 = unlimited */
	int64_t pace_tokens;    /* as of pace_ts; negative while a datagram is being paid off */
	int64_t pace_depth;     /* most the bucket holds */
	int64_t pace_floor;     /* least: unpaced ACKs above the rate cannot starve data forever */
	uint32_t pace_ts;
	bool pace_full;         /* the bucket is full whatever pace_ts says (idle, or just on) */
	bool pace_wait;         /* the last flush left data waiting for tokens */

	struct pool *pool;
	kcp_output_fn output;
	void *user;
	struct pkt *out;        /* datagram being assembled during a flush */

	struct kcp_stats stats;
};

static unsigned pow2_at_least(unsigned n)
{
	unsigned v = 1;

	while (v < n)
		v <<= 1;
	return v;
}

void kcp_params_default(struct kcp_params *p)
{
	memset(p, 0, sizeof(*p));
	p->mtu = KCP_MTU_DEF;
	p->snd_wnd = KCP_WND_SND_DEF;
	p->rcv_wnd = KCP_WND_RCV_DEF;
	p->interval_ms = KCP_INTERVAL_DEF;
	p->dead_link = KCP_DEADLINK_DEF;
}

static const struct {
	const char *name;
	unsigned nodelay, interval, resend;
	bool nc;
} kcp_profiles[] = {
	{"default", 0, 100, 0, false}, {"normal", 0, 40, 2, true}, {"fast", 0, 30, 2, true},
	{"fast2", 1, 20, 2, true},     {"fast3", 1, 10, 2, true},
};

int kcp_params_profile(struct kcp_params *p, const char *name)
{
	for (size_t i = 0; i < sizeof(kcp_profiles) / sizeof(kcp_profiles[0]); i++) {
		if (strcmp(kcp_profiles[i].name, name) == 0) {
			p->nodelay = kcp_profiles[i].nodelay;
			p->interval_ms = kcp_profiles[i].interval;
			p->resend = kcp_profiles[i].resend;
			p->nc = kcp_profiles[i].nc;
			return 0;
		}
	}
	return -EINVAL;
}

/* Pending ACKs held between flushes; a full list is flushed, never dropped. */
static unsigned kcp_ack_cap(unsigned rcv_wnd)
{
	return 2 * rcv_wnd < 128 ? 128 : 2 * rcv_wnd;
}

static bool kcp_wnd_valid(unsigned snd_wnd, unsigned rcv_wnd)
{
	return snd_wnd >= 1 && snd_wnd <= KCP_WND_MAX && rcv_wnd >= 1 && rcv_wnd <= KCP_WND_MAX;
}

static bool kcp_mtu_valid(const struct pool *pool, unsigned mtu)
{
	return mtu >= KCP_MTU_MIN + KCP_HDR_LEN && KC_HEADROOM + (size_t)mtu <= pool_buf_size(pool);
}

static void kcp_apply_nodelay(struct kcp *k, unsigned nodelay, unsigned interval, unsigned resend,
			      bool nc)
{
	if (interval < KCP_INTERVAL_MIN)
		interval = KCP_INTERVAL_MIN;
	if (interval > KCP_INTERVAL_MAX)
		interval = KCP_INTERVAL_MAX;
	k->nodelay = nodelay;
	k->rx_minrto = nodelay ? KCP_RTO_NODELAY : KCP_RTO_MIN;
	if (k->rx_rto < k->rx_minrto)
		k->rx_rto = k->rx_minrto;
	k->interval = interval;
	k->resend = resend;
	k->nc = nc;
}

/* ---- pacing ---- */

#define KCP_PACE_PER_BYTE 8000 /* tokens are millibits */
#define KCP_PACE_DEBT_MS  1000 /* the bucket owes at most this much of the rate beyond its depth */

/* Bucket bounds for the current rate and MTU; the tokens are clamped into them. */
static void kcp_pace_size(struct kcp *k)
{
	int64_t two_dgrams = 2 * (int64_t)k->mtu * KCP_PACE_PER_BYTE;
	int64_t rate = (int64_t)k->rate_bps; /* <= KCP_RATE_MAX: every product below fits */

	k->pace_depth =
	    rate * KCP_RATE_BURST_MS > two_dgrams ? rate * KCP_RATE_BURST_MS : two_dgrams;
	k->pace_floor = -(k->pace_depth + rate * KCP_PACE_DEBT_MS);
	if (k->pace_tokens > k->pace_depth)
		k->pace_tokens = k->pace_depth;
	if (k->pace_tokens < k->pace_floor)
		k->pace_tokens = k->pace_floor;
}

/* Tokens the bucket holds at now (rate_bps != 0). A time before pace_ts (a caller whose clock
 * stepped back, or 2^31 ms of silence) adds nothing rather than stalling. */
static int64_t kcp_pace_tokens(const struct kcp *k, uint32_t now)
{
	int32_t el = kc_time_diff(now, k->pace_ts);
	uint64_t room;

	if (k->pace_full || k->pace_tokens >= k->pace_depth)
		return k->pace_depth;
	if (el <= 0)
		return k->pace_tokens;
	room = (uint64_t)(k->pace_depth - k->pace_tokens);
	if ((uint64_t)el > room / k->rate_bps)
		return k->pace_depth;
	return k->pace_tokens + (int64_t)((uint64_t)el * k->rate_bps); /* <= depth */
}

/* Brings the bucket up to now; every charge follows one of these in the same flush. */
static void kcp_pace_refill(struct kcp *k, uint32_t now)
{
	if (k->rate_bps == 0)
		return;
	k->pace_tokens = kcp_pace_tokens(k, now);
	k->pace_ts = now;
	k->pace_full = k->pace_tokens >= k->pace_depth;
}

static void kcp_pace_charge(struct kcp *k, size_t bytes)
{
	if (k->rate_bps == 0)
		return;
	if (k->pace_full)
		k->pace_tokens = k->pace_depth;
	k->pace_full = false;
	k->pace_tokens -= (int64_t)bytes * KCP_PACE_PER_BYTE;
	if (k->pace_tokens < k->pace_floor)
		k->pace_tokens = k->pace_floor;
}

/* May another PUSH go out: tokens left beyond the datagram being assembled? */
static bool kcp_pace_open(const struct kcp *k)
{
	int64_t pending = k->out != NULL ? (int64_t)k->out->len * KCP_PACE_PER_BYTE : 0;

	return k->rate_bps == 0 || k->pace_tokens - pending > 0;
}

/* The first millisecond at which the bucket holds tokens (now if it does). */
static uint32_t kcp_pace_due(const struct kcp *k, uint32_t now)
{
	int64_t t;

	if (k->rate_bps == 0)
		return now;
	t = kcp_pace_tokens(k, now);
	if (t > 0)
		return now;
	return now + (uint32_t)((uint64_t)-t / k->rate_bps + 1);
}

int kcp_set_rate(struct kcp *k, uint64_t rate_bps)
{
	if (rate_bps > KCP_RATE_MAX)
		return -EINVAL;
	if (k->rate_bps == 0)
		k->pace_full = true; /* pacing starts with a full bucket */
	k->rate_bps = rate_bps;
	kcp_pace_size(k);
	return 0;
}

void kcp_rate_charge(struct kcp *k, size_t bytes)
{
	kcp_pace_charge(k, bytes);
}

struct kcp *kcp_new(uint32_t conv, const struct kcp_params *p, struct pool *pool,
		    kcp_output_fn output, void *user, int *err)
{
	struct kcp *k;
	unsigned scap, rcap;

	if (output == NULL || pool == NULL || !kcp_wnd_valid(p->snd_wnd, p->rcv_wnd) ||
	    !kcp_mtu_valid(pool, p->mtu) || p->rate_bps > KCP_RATE_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		goto fail;
	scap = pow2_at_least(2 * p->snd_wnd);
	rcap = pow2_at_least(2 * p->rcv_wnd);
	k->snd = calloc(scap, sizeof(*k->snd));
	k->rcv = calloc(rcap, sizeof(*k->rcv));
	k->ack_cap = kcp_ack_cap(p->rcv_wnd);
	k->acks = calloc(k->ack_cap, sizeof(*k->acks));
	k->dgram_acks = calloc(KCP_DGRAM_ACKS_MAX, sizeof(*k->dgram_acks));
	if (k->snd == NULL || k->rcv == NULL || k->acks == NULL || k->dgram_acks == NULL)
		goto fail_k;
	k->snd_mask = scap - 1;
	k->rcv_mask = rcap - 1;
	k->conv = conv;
	k->mtu = p->mtu;
	k->mss = p->mtu - KCP_HDR_LEN;
	k->snd_wnd = p->snd_wnd;
	k->rcv_wnd = p->rcv_wnd;
	k->rmt_wnd = KCP_WND_RCV_DEF;
	k->ssthresh = KCP_THRESH_INIT;
	k->cwnd = 0;
	k->stream = p->stream;
	k->dead_link = p->dead_link ? p->dead_link : KCP_DEADLINK_DEF;
	k->snd_una = k->snd_nxt = k->snd_end = p->sn_base;
	k->rcv_head = k->rcv_nxt = p->sn_base;
	k->rx_rto = KCP_RTO_DEF;
	kcp_apply_nodelay(k, p->nodelay, p->interval_ms, p->resend, p->nc);
	(void)kcp_set_rate(k, p->rate_bps);
	k->pool = pool;
	k->output = output;
	k->user = user;
	return k;

fail_k:
	free(k->snd);
	free(k->rcv);
	free(k->acks);
	free(k->dgram_acks);
	free(k);
fail:
	*err = -ENOMEM;
	return NULL;
}

void kcp_free(struct kcp *k)
{
	if (k == NULL)
		return;
	for (uint32_t sn = k->snd_una; sn != k->snd_end; sn++)
		pool_put(k->pool, k->snd[sn & k->snd_mask].data);
	for (uint32_t i = 0; i <= k->rcv_mask; i++)
		pool_put(k->pool, k->rcv[i].data);
	pool_put(k->pool, k->out);
	free(k->snd);
	free(k->rcv);
	free(k->acks);
	free(k->dgram_acks);
	free(k);
}

/* ---- sending ---- */

static unsigned kcp_snd_used(const struct kcp *k)
{
	return k->snd_end - k->snd_una;
}

int kcp_send(struct kcp *k, const void *buf, size_t len)
{
	const uint8_t *src = buf;
	unsigned count, room;

	if (len == 0)
		return -EINVAL;
	if (k->stream && k->snd_end != k->snd_nxt) {
		/* Fill the last queued segment before cutting new ones. */
		struct kcp_sseg *last = &k->snd[(k->snd_end - 1) & k->snd_mask];
		size_t take = k->mss - last->data->len;

		if (take > len)
			take = len;
		memcpy(pkt_data(last->data) + last->data->len, src, take);
		last->data->len = (uint16_t)(last->data->len + take);
		src += take;
		len -= take;
		if (len == 0)
			return 0;
	}
	count = (unsigned)((len + k->mss - 1) / k->mss);
	if (len > (size_t)k->mss * KCP_FRG_MAX || count > KCP_FRG_MAX ||
	    (!k->stream && count > k->snd_wnd))
		return KC_EMSGSIZE;
	/* The queue holds 2 x snd_wnd segments in all; the ring is at least that large. */
	room = kcp_snd_used(k) < 2 * k->snd_wnd ? 2 * k->snd_wnd - kcp_snd_used(k) : 0;
	if (count > room)
		return KC_EFULL;
	for (unsigned i = 0; i < count; i++) {
		struct kcp_sseg *seg = &k->snd[(k->snd_end + i) & k->snd_mask];
		size_t n = len > k->mss ? k->mss : len;

		seg->data = pool_get(k->pool);
		if (seg->data == NULL) {
			while (i-- > 0) {
				seg = &k->snd[(k->snd_end + i) & k->snd_mask];
				pool_put(k->pool, seg->data);
				seg->data = NULL;
			}
			k->stats.drop_no_buffer++;
			return KC_ENOBUF;
		}
		memcpy(pkt_data(seg->data), src, n);
		seg->data->len = (uint16_t)n;
		seg->frg = k->stream ? 0 : (uint8_t)(count - 1 - i);
		seg->xmit = 0;
		seg->acked = 0;
		seg->fastack = 0;
		seg->fast_done = 0;
		src += n;
		len -= n;
	}
	k->snd_end += count;
	k->stats.msgs_sent++;
	k->flush_now = true;
	return 0;
}

/* ---- receiving ---- */

static unsigned kcp_rcv_queued(const struct kcp *k)
{
	return k->rcv_nxt - k->rcv_head;
}

static unsigned kcp_wnd_unused(const struct kcp *k)
{
	unsigned q = kcp_rcv_queued(k);

	return q < k->rcv_wnd ? k->rcv_wnd - q : 0;
}

/* Moves in-order segments from the reorder buffer to the receive queue. */
static void kcp_rcv_advance(struct kcp *k)
{
	while (kcp_rcv_queued(k) < k->rcv_wnd && k->rcv[k->rcv_nxt & k->rcv_mask].data != NULL)
		k->rcv_nxt++;
}

/* Length of the next whole message (>= 0) and its segments in *nseg; -EAGAIN while it is
 * incomplete; -EBADMSG when the head segments can never form one (fragment counts that do not
 * count down, or a full queue without a message end), with *nseg segments to discard. */
static int kcp_next_message(const struct kcp *k, unsigned *nseg)
{
	unsigned n = kcp_rcv_queued(k);
	const struct kcp_rseg *first;
	size_t len = 0;

	if (n == 0)
		return -EAGAIN;
	first = &k->rcv[k->rcv_head & k->rcv_mask];
	for (unsigned i = 0; i < n; i++) {
		const struct kcp_rseg *r = &k->rcv[(k->rcv_head + i) & k->rcv_mask];

		if (!k->stream && r->frg + i != first->frg) {
			*nseg = i;
			return -EBADMSG;
		}
		len += r->data->len;
		if (r->frg == 0 || k->stream) {
			*nseg = i + 1;
			return (int)len;
		}
	}
	if (n >= k->rcv_wnd) {
		*nseg = n;
		return -EBADMSG;
	}
	return -EAGAIN;
}

static void kcp_rcv_pop(struct kcp *k, uint8_t *dst, unsigned nseg)
{
	for (unsigned i = 0; i < nseg; i++) {
		struct kcp_rseg *r = &k->rcv[k->rcv_head & k->rcv_mask];

		if (dst != NULL) {
			memcpy(dst, pkt_data(r->data), r->data->len);
			dst += r->data->len;
		}
		pool_put(k->pool, r->data);
		r->data = NULL;
		k->rcv_head++;
	}
}

/* Discards head segments that can never be delivered, so a broken peer cannot jam the queue. */
static void kcp_rcv_discard_bad(struct kcp *k)
{
	unsigned nseg;

	while (kcp_next_message(k, &nseg) == -EBADMSG) {
		kcp_rcv_pop(k, NULL, nseg);
		k->stats.drop_bad_msg_segs += nseg;
		kcp_rcv_advance(k);
	}
}

int kcp_peek_size(const struct kcp *k)
{
	unsigned nseg;
	int len = kcp_next_message(k, &nseg);

	return len == -EBADMSG ? -EAGAIN : len;
}

int kcp_recv(struct kcp *k, void *buf, size_t cap)
{
	bool was_full = kcp_rcv_queued(k) >= k->rcv_wnd;
	unsigned nseg;
	int len = kcp_next_message(k, &nseg);

	if (len < 0)
		return len == -EBADMSG ? -EAGAIN : len;
	if ((size_t)len > cap)
		return -EMSGSIZE;
	kcp_rcv_pop(k, buf, nseg);
	kcp_rcv_advance(k);
	if (was_full && kcp_rcv_queued(k) < k->rcv_wnd) {
		/* The peer saw a closed window: tell it at once that it opened. */
		k->probe |= KCP_ASK_TELL;
		k->flush_now = true;
	}
	k->stats.msgs_recv++;
	return len;
}

/* ---- input ---- */

struct kcp_seghdr {
	uint32_t conv, ts, sn, una, len;
	uint16_t wnd;
	uint8_t cmd, frg;
	const uint8_t *data;
};

static int kcp_parse_seg(struct wire_cur *c, struct kcp_seghdr *h)
{
	if (wire_get_u32le(c, &h->conv) < 0 || wire_get_u8(c, &h->cmd) < 0 ||
	    wire_get_u8(c, &h->frg) < 0 || wire_get_u16le(c, &h->wnd) < 0 ||
	    wire_get_u32le(c, &h->ts) < 0 || wire_get_u32le(c, &h->sn) < 0 ||
	    wire_get_u32le(c, &h->una) < 0 || wire_get_u32le(c, &h->len) < 0)
		return KC_ESHORT;
	if (wire_get_bytes(c, h->len, &h->data) < 0)
		return KC_ELEN;
	return 0;
}

/* Checks one segment against the engine's state without changing it. */
static int kcp_check_seg(const struct kcp *k, const struct kcp_seghdr *h)
{
	if (h->conv != k->conv)
		return KC_ECONV;
	if (h->cmd < KCP_CMD_PUSH || h->cmd > KCP_CMD_WINS)
		return KC_ECMD;
	if (h->cmd != KCP_CMD_PUSH && h->len != 0)
		return KC_ELEN;
	if (kc_time_diff(h->una, k->snd_nxt) > 0)
		return KC_EWINDOW; /* acknowledges data never sent */
	if (h->cmd == KCP_CMD_PUSH) {
		int32_t d = kc_time_diff(h->sn, k->rcv_nxt);

		if (d >= KCP_SN_FAR || d <= -KCP_SN_FAR)
			return KC_EWINDOW;
		if (!k->stream && h->frg >= k->rcv_wnd)
			return KC_EWINDOW; /* a message that could never be reassembled */
		if (KC_HEADROOM + (size_t)h->len > pool_buf_size(k->pool))
			return KC_ELEN;
	} else if (h->cmd == KCP_CMD_ACK) {
		if (kc_time_diff(h->sn, k->snd_nxt) >= 0 ||
		    kc_time_diff(k->snd_una, h->sn) >= KCP_SN_FAR)
			return KC_EWINDOW;
	}
	return 0;
}

static void kcp_count_reject(struct kcp *k, int err)
{
	switch (err) {
	case KC_ESHORT:
		k->stats.err_short++;
		break;
	case KC_ECONV:
		k->stats.err_conv++;
		break;
	case KC_ECMD:
		k->stats.err_cmd++;
		break;
	case KC_ELEN:
		k->stats.err_len++;
		break;
	default:
		k->stats.err_window++;
		break;
	}
}

/* Frees acknowledged segments at the head of the send window and advances snd_una. */
static void kcp_shrink_snd(struct kcp *k)
{
	while (k->snd_una != k->snd_nxt && k->snd[k->snd_una & k->snd_mask].acked)
		k->snd_una++;
}

static void kcp_ack_seg(struct kcp *k, struct kcp_sseg *seg)
{
	if (seg->acked)
		return;
	seg->acked = 1;
	pool_put(k->pool, seg->data);
	seg->data = NULL;
}

/* Cumulative acknowledgement: everything before una was received. */
static void kcp_parse_una(struct kcp *k, uint32_t una)
{
	while (kc_time_before(k->snd_una, una) && k->snd_una != k->snd_nxt) {
		kcp_ack_seg(k, &k->snd[k->snd_una & k->snd_mask]);
		k->snd_una++;
	}
	kcp_shrink_snd(k);
}

/* kcp-go's RTT estimator (RFC 6298 style with asymmetric rttvar gain). */
static void kcp_update_rtt(struct kcp *k, int32_t rtt)
{
	int32_t rto;

	/* A peer echoes whatever ts it likes: a sample beyond the RTO ceiling is clamped, which
	 * also keeps 4 * rttvar far from overflowing. */
	if (rtt > KCP_RTO_MAX)
		rtt = KCP_RTO_MAX;
	if (k->rx_srtt == 0) {
		k->rx_srtt = rtt;
		k->rx_rttvar = rtt / 2;
	} else {
		int32_t delta = rtt - k->rx_srtt;

		k->rx_srtt += delta >> 3;
		if (delta < 0)
			delta = -delta;
		if (rtt < k->rx_srtt - k->rx_rttvar)
			k->rx_rttvar += (delta - k->rx_rttvar) >> 5;
		else
			k->rx_rttvar += (delta - k->rx_rttvar) >> 2;
	}
	if (k->rx_srtt < 1)
		k->rx_srtt = 1;
	rto = k->rx_srtt + ((int32_t)k->interval > 4 * k->rx_rttvar ? (int32_t)k->interval
								     : 4 * k->rx_rttvar);
	if (rto < (int32_t)k->rx_minrto)
		rto = (int32_t)k->rx_minrto;
	if (rto > KCP_RTO_MAX)
		rto = KCP_RTO_MAX;
	k->rx_rto = (uint32_t)rto;
}

/* Queues an ACK; when the list is full it is flushed first, so no ACK is lost. */
static void kcp_flush(struct kcp *k, uint32_t now);

static void kcp_queue_ack(struct kcp *k, uint32_t sn, uint32_t ts, uint32_t now)
{
	if (k->ack_count == k->ack_cap)
		kcp_flush(k, now);
	k->acks[k->ack_count].sn = sn;
	k->acks[k->ack_count].ts = ts;
	k->ack_count++;
}

static void kcp_sort_acks(struct kcp_ack *a, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct kcp_ack v = a[i];
		unsigned j = i;

		while (j > 0 && kc_time_before(v.sn, a[j - 1].sn)) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

/* Fast-ack counting: each unacknowledged segment gains one count per ACK in this datagram for
 * a later sn whose transmission was no earlier than the segment's (kcp-go counts per ACK; one
 * walk over the window per datagram instead of one per ACK). */
static void kcp_count_fastacks(struct kcp *k, struct kcp_ack *acks, unsigned n)
{
	uint32_t span, suffix_ts = 0;
	unsigned above = n;

	if (n == 0)
		return;
	kcp_sort_acks(acks, n);
	if (kc_time_diff(acks[n - 1].sn, k->snd_una) <= 0)
		return;
	span = acks[n - 1].sn - k->snd_una;
	/* Walk down from the highest ACKed sn; acks[above..n) are the ACKs for later sns and
	 * suffix_ts the latest transmission time they echo. */
	for (uint32_t off = span; off-- > 0;) {
		uint32_t sn = k->snd_una + off;
		struct kcp_sseg *seg = &k->snd[sn & k->snd_mask];

		while (above > 0 && kc_time_before(sn, acks[above - 1].sn)) {
			above--;
			if (above == n - 1 || kc_time_before(suffix_ts, acks[above].ts))
				suffix_ts = acks[above].ts;
		}
		if (seg->acked || seg->xmit == 0 || kc_time_before(suffix_ts, seg->ts))
			continue;
		seg->fastack += n - above;
		if (k->resend != 0 && seg->fastack >= k->resend && !seg->fast_done)
			k->flush_now = true; /* fast retransmit goes out at once */
	}
}

static void kcp_grow_cwnd(struct kcp *k)
{
	unsigned mss = k->mss;

	if (k->nc || k->cwnd >= k->rmt_wnd)
		return;
	if (k->cwnd < k->ssthresh) {
		k->cwnd++;
		k->incr += mss;
	} else {
		if (k->incr < mss)
			k->incr = mss;
		k->incr += (mss * mss) / k->incr + mss / 16;
		if ((k->cwnd + 1) * mss <= k->incr)
			k->cwnd = (k->incr + mss - 1) / mss;
	}
	if (k->cwnd > k->rmt_wnd) {
		k->cwnd = k->rmt_wnd;
		k->incr = k->rmt_wnd * mss;
	}
}

int kcp_input(struct kcp *k, const void *data, size_t len, bool regular, uint32_t now_ms)
{
	struct wire_cur c;
	struct kcp_seghdr h;
	uint32_t prev_una = k->snd_una;
	uint32_t latest_ts = 0;
	bool have_ack = false;
	unsigned nacks = 0;
	int err;

	/* First pass: the whole datagram must be valid before anything changes. */
	if (len < KCP_HDR_LEN) {
		err = KC_ESHORT;
		goto reject;
	}
	wire_cur_init(&c, data, len);
	while (c.left > 0) {
		err = kcp_parse_seg(&c, &h);
		if (err == 0)
			err = kcp_check_seg(k, &h);
		if (err < 0)
			goto reject;
	}

	k->stats.in_pkts++;
	k->stats.in_bytes += len;
	wire_cur_init(&c, data, len);
	while (c.left > 0) {
		(void)kcp_parse_seg(&c, &h);
		k->stats.in_segs++;
		if (regular)
			k->rmt_wnd = h.wnd;
		kcp_parse_una(k, h.una);
		switch (h.cmd) {
		case KCP_CMD_ACK:
			if (kc_time_diff(h.sn, k->snd_una) >= 0) {
				kcp_ack_seg(k, &k->snd[h.sn & k->snd_mask]);
				kcp_shrink_snd(k);
				k->dgram_acks[nacks].sn = h.sn;
				k->dgram_acks[nacks].ts = h.ts;
				nacks++;
			}
			latest_ts = h.ts;
			have_ack = true;
			break;
		case KCP_CMD_PUSH: {
			int32_t d = kc_time_diff(h.sn, k->rcv_nxt);
			struct kcp_rseg *r;

			if (d >= (int32_t)k->rcv_wnd) {
				k->stats.drop_window_segs++;
				break;
			}
			if (d < 0) {
				k->stats.repeat_segs++;
				kcp_queue_ack(k, h.sn, h.ts, now_ms);
				break;
			}
			r = &k->rcv[h.sn & k->rcv_mask];
			if (r->data != NULL) {
				k->stats.repeat_segs++;
				kcp_queue_ack(k, h.sn, h.ts, now_ms);
				break;
			}
			r->data = pool_get(k->pool);
			if (r->data == NULL) {
				k->stats.drop_no_buffer++; /* not acknowledged: it comes again */
				break;
			}
			memcpy(pkt_data(r->data), h.data, h.len);
			r->data->len = (uint16_t)h.len;
			r->frg = h.frg;
			kcp_queue_ack(k, h.sn, h.ts, now_ms);
			break;
		}
		case KCP_CMD_WASK:
			k->probe |= KCP_ASK_TELL;
			break;
		default: /* KCP_CMD_WINS: its wnd was taken above */
			break;
		}
	}
	kcp_rcv_advance(k);
	kcp_rcv_discard_bad(k);
	kcp_count_fastacks(k, k->dgram_acks, nacks);
	if (have_ack && regular && kc_time_diff(now_ms, latest_ts) >= 0)
		kcp_update_rtt(k, kc_time_diff(now_ms, latest_ts));
	if (k->snd_una != prev_una) {
		kcp_grow_cwnd(k);
		if (k->snd_end != k->snd_nxt)
			k->flush_now = true;
	}
	if (k->ack_count > 0 || k->probe)
		k->flush_now = true;
	return 0;

reject:
	kcp_count_reject(k, err);
	return err;
}

/* ---- output ---- */

static void kcp_emit(struct kcp *k)
{
	struct pkt *p = k->out;

	if (p == NULL || p->len == 0)
		return;
	k->out = NULL;
	k->stats.out_pkts++;
	k->stats.out_bytes += p->len;
	kcp_pace_charge(k, p->len);
	k->output(p, k->user);
}

/* Room for a segment of `len` data bytes in the datagram being built; false if the pool is
 * empty (the segment stays unsent and is retried at the next flush). */
static bool kcp_make_room(struct kcp *k, size_t len)
{
	if (k->out != NULL && k->out->len + KCP_HDR_LEN + len > k->mtu)
		kcp_emit(k);
	if (k->out == NULL) {
		k->out = pool_get(k->pool);
		if (k->out == NULL) {
			k->stats.drop_no_buffer++;
			return false;
		}
	}
	return true;
}

static bool kcp_write_seg(struct kcp *k, uint8_t cmd, uint8_t frg, uint32_t ts, uint32_t sn,
			  const struct pkt *data)
{
	size_t len = data != NULL ? data->len : 0;
	unsigned wnd = kcp_wnd_unused(k);
	uint8_t *p;

	if (!kcp_make_room(k, len))
		return false;
	p = pkt_data(k->out) + k->out->len;
	p = wire_put_u32le(p, k->conv);
	p = wire_put_u8(p, cmd);
	p = wire_put_u8(p, frg);
	p = wire_put_u16le(p, (uint16_t)(wnd > UINT16_MAX ? UINT16_MAX : wnd));
	p = wire_put_u32le(p, ts);
	p = wire_put_u32le(p, sn);
	p = wire_put_u32le(p, k->rcv_nxt);
	p = wire_put_u32le(p, (uint32_t)len);
	if (len > 0)
		memcpy(p, pkt_data((struct pkt *)data), len);
	k->out->len = (uint16_t)(k->out->len + KCP_HDR_LEN + len);
	k->stats.out_segs++;
	return true;
}

static void kcp_flush_acks(struct kcp *k)
{
	unsigned n = k->ack_count;

	for (unsigned i = 0; i < n; i++) {
		const struct kcp_ack *a = &k->acks[i];

		/* ACK thinning: una covers acknowledgements below rcv_nxt, but the last is kept
		 * so the peer still gets an RTT sample. */
		if (i + 1 < n && kc_time_before(a->sn, k->rcv_nxt))
			continue;
		if (!kcp_write_seg(k, KCP_CMD_ACK, 0, a->ts, a->sn, NULL))
			break;
	}
	k->ack_count = 0;
}

static bool kcp_data_waiting(const struct kcp *k)
{
	return k->snd_end != k->snd_una;
}

static void kcp_flush_probe(struct kcp *k, uint32_t now)
{
	if (k->rmt_wnd == 0 && kcp_data_waiting(k)) {
		if (k->probe_wait == 0) {
			k->probe_wait = KCP_PROBE_INIT;
			k->ts_probe = now + k->probe_wait;
		} else if (kc_time_diff(now, k->ts_probe) >= 0) {
			if (k->probe_wait < KCP_PROBE_INIT)
				k->probe_wait = KCP_PROBE_INIT;
			k->probe_wait += k->probe_wait / 2;
			if (k->probe_wait > KCP_PROBE_LIMIT)
				k->probe_wait = KCP_PROBE_LIMIT;
			k->ts_probe = now + k->probe_wait;
			k->probe |= KCP_ASK_SEND;
		}
	} else {
		k->ts_probe = 0;
		k->probe_wait = 0;
	}
	if ((k->probe & KCP_ASK_SEND) && !kcp_write_seg(k, KCP_CMD_WASK, 0, 0, 0, NULL))
		return;
	if ((k->probe & KCP_ASK_TELL) && !kcp_write_seg(k, KCP_CMD_WINS, 0, 0, 0, NULL))
		return;
	k->probe = 0;
}

static unsigned kcp_cwnd_eff(const struct kcp *k)
{
	unsigned w = k->snd_wnd < k->rmt_wnd ? k->snd_wnd : k->rmt_wnd;

	if (!k->nc && k->cwnd < w)
		w = k->cwnd < 1 ? 1 : k->cwnd;
	return w;
}

static void kcp_flush(struct kcp *k, uint32_t now)
{
	unsigned cwnd = kcp_cwnd_eff(k);
	uint32_t resent = k->resend ? k->resend : UINT32_MAX;
	unsigned new_segs = 0;
	bool change = false, lost = false;
	/* Early retransmits wait for the interval tick, as kcp-go's timer does; fast retransmits
	 * and ACKs go out on any flush. */
	bool tick = !k->ts_flush_set || kc_time_diff(now, k->ts_flush) >= 0;

	k->flush_now = false;
	k->pace_wait = false;
	kcp_pace_refill(k, now);
	kcp_flush_acks(k);
	kcp_flush_probe(k, now);

	while (k->snd_nxt != k->snd_end && k->snd_nxt - k->snd_una < cwnd) {
		k->snd_nxt++;
		new_segs++;
	}

	/* In sn order, so retransmissions take the rate's tokens before new data. */
	k->resend_known = false;
	for (uint32_t sn = k->snd_una; sn != k->snd_nxt; sn++) {
		struct kcp_sseg *seg = &k->snd[sn & k->snd_mask];
		enum { KEEP, NEW, LOST, FAST, EARLY } why = KEEP;

		if (seg->acked)
			continue;
		if (seg->xmit == 0)
			why = NEW;
		else if (kc_time_diff(now, seg->resendts) >= 0)
			why = LOST;
		else if (seg->fastack >= resent && !seg->fast_done)
			why = FAST;
		else if (seg->fastack > 0 && new_segs == 0 && tick && !seg->fast_done)
			why = EARLY;
		if (why != KEEP && !kcp_pace_open(k)) {
			/* Out of tokens: it waits, unchanged, for kcp_pace_due(). */
			k->pace_wait = true;
			if (why == NEW) {
				k->snd_nxt = sn; /* it and the new ones after it stay queued */
				break;
			}
			why = KEEP;
		}
		switch (why) {
		case NEW:
			seg->rto = k->rx_rto;
			seg->resendts = now + seg->rto;
			break;
		case LOST:
			seg->fast_done = 0;
			seg->rto += k->nodelay == 0 ? k->rx_rto : k->rx_rto / 2;
			if (seg->rto > KCP_RTO_MAX)
				seg->rto = KCP_RTO_MAX;
			seg->resendts = now + seg->rto;
			lost = true;
			k->stats.lost_segs++;
			k->stats.retrans_segs++;
			break;
		case FAST:
		case EARLY:
			seg->fast_done = 1;
			seg->rto = k->rx_rto;
			seg->resendts = now + seg->rto;
			change = true;
			if (why == FAST)
				k->stats.fast_retrans_segs++;
			else
				k->stats.early_retrans_segs++;
			k->stats.retrans_segs++;
			break;
		case KEEP:
			break;
		}
		if (why != KEEP) {
			seg->ts = now;
			seg->fastack = 0;
			if (!kcp_write_seg(k, KCP_CMD_PUSH, seg->frg, now, sn, seg->data)) {
				/* Pool empty: counted; it goes out at the next flush. */
				seg->resendts = now;
			}
			if (seg->xmit < UINT16_MAX)
				seg->xmit++;
			if (seg->xmit >= k->dead_link)
				k->dead = true;
		}
		if (!k->resend_known || kc_time_before(seg->resendts, k->resend_min)) {
			k->resend_min = seg->resendts;
			k->resend_known = true;
		}
	}
	if (k->pace_wait)
		k->stats.paced_flushes++;
	kcp_emit(k);

	if (!k->nc) {
		if (change) {
			unsigned inflight = k->snd_nxt - k->snd_una;

			k->ssthresh = inflight / 2 < KCP_THRESH_MIN ? KCP_THRESH_MIN : inflight / 2;
			k->cwnd = k->ssthresh + k->resend;
			k->incr = k->cwnd * k->mss;
		}
		if (lost) {
			k->ssthresh = cwnd / 2 < KCP_THRESH_MIN ? KCP_THRESH_MIN : cwnd / 2;
			k->cwnd = 1;
			k->incr = k->mss;
		}
		if (k->cwnd < 1) {
			k->cwnd = 1;
			k->incr = k->mss;
		}
	}
	if (tick) {
		k->ts_flush = now + k->interval;
		k->ts_flush_set = true;
	}
}

static bool kcp_has_fastack(const struct kcp *k)
{
	for (uint32_t sn = k->snd_una; sn != k->snd_nxt; sn++) {
		const struct kcp_sseg *seg = &k->snd[sn & k->snd_mask];

		if (!seg->acked && seg->fastack > 0)
			return true;
	}
	return false;
}

bool kcp_check(const struct kcp *k, uint32_t now_ms, uint32_t *due_ms)
{
	bool have = false;
	uint32_t due = 0;

	if (k->ack_count > 0 || k->probe) {
		*due_ms = now_ms; /* never paced */
		return true;
	}
	if (k->flush_now || k->pace_wait ||
	    (k->snd_nxt != k->snd_end && k->snd_nxt - k->snd_una < kcp_cwnd_eff(k))) {
		due = now_ms;
		have = true;
	} else if (k->snd_una != k->snd_nxt) {
		/* Retransmission deadline, or the next tick when an early retransmit waits. */
		due = k->resend_known ? k->resend_min : now_ms;
		have = true;
		if (kc_time_before(k->ts_flush, due) && kcp_has_fastack(k))
			due = k->ts_flush;
	}
	if (have) {
		/* Data goes out no sooner than the rate allows. */
		uint32_t t = kcp_pace_due(k, now_ms);

		if (kc_time_before(due, t))
			due = t;
	}
	if (k->rmt_wnd == 0 && kcp_data_waiting(k)) {
		uint32_t t = k->probe_wait ? k->ts_probe : now_ms;

		if (!have || kc_time_before(t, due))
			due = t;
		have = true;
	}
	if (have)
		*due_ms = due;
	return have;
}

void kcp_update(struct kcp *k, uint32_t now_ms)
{
	uint32_t due;

	if (kcp_check(k, now_ms, &due) && kc_time_diff(now_ms, due) >= 0)
		kcp_flush(k, now_ms);
}

/* ---- settings and state ---- */

/* Moves the rings into arrays of the given capacities (powers of two, large enough). */
static int kcp_regrow(struct kcp *k, unsigned scap, unsigned rcap, unsigned ack_cap)
{
	struct kcp_sseg *snd = k->snd;
	struct kcp_rseg *rcv = k->rcv;
	struct kcp_ack *acks;

	if (scap != k->snd_mask + 1) {
		snd = calloc(scap, sizeof(*snd));
		if (snd == NULL)
			return -ENOMEM;
	}
	if (rcap != k->rcv_mask + 1) {
		rcv = calloc(rcap, sizeof(*rcv));
		if (rcv == NULL)
			goto fail_snd;
	}
	if (ack_cap > k->ack_cap) {
		acks = realloc(k->acks, ack_cap * sizeof(*acks));
		if (acks == NULL)
			goto fail_rcv;
		k->acks = acks;
		k->ack_cap = ack_cap;
	}
	if (snd != k->snd) {
		for (uint32_t sn = k->snd_una; sn != k->snd_end; sn++)
			snd[sn & (scap - 1)] = k->snd[sn & k->snd_mask];
		free(k->snd);
		k->snd = snd;
		k->snd_mask = scap - 1;
	}
	if (rcv != k->rcv) {
		/* Every held segment lies in [rcv_head, rcv_head + old capacity). */
		for (uint32_t sn = k->rcv_head; sn != k->rcv_head + k->rcv_mask + 1; sn++)
			rcv[sn & (rcap - 1)] = k->rcv[sn & k->rcv_mask];
		free(k->rcv);
		k->rcv = rcv;
		k->rcv_mask = rcap - 1;
	}
	return 0;

fail_rcv:
	if (rcv != k->rcv)
		free(rcv);
fail_snd:
	if (snd != k->snd)
		free(snd);
	return -ENOMEM;
}

int kcp_set_wndsize(struct kcp *k, unsigned snd_wnd, unsigned rcv_wnd)
{
	unsigned scap, rcap;
	int err;

	if (!kcp_wnd_valid(snd_wnd, rcv_wnd))
		return -EINVAL;
	/* Rings only grow: they must keep holding what is queued and buffered now. */
	scap = pow2_at_least(2 * snd_wnd);
	if (scap < k->snd_mask + 1)
		scap = k->snd_mask + 1;
	rcap = pow2_at_least(2 * rcv_wnd);
	if (rcap < k->rcv_mask + 1)
		rcap = k->rcv_mask + 1;
	err = kcp_regrow(k, scap, rcap, kcp_ack_cap(rcv_wnd));
	if (err < 0)
		return err;
	k->snd_wnd = snd_wnd;
	k->rcv_wnd = rcv_wnd;
	kcp_rcv_advance(k);
	k->probe |= KCP_ASK_TELL; /* let the peer learn the new window */
	k->flush_now = true;
	return 0;
}

int kcp_set_nodelay(struct kcp *k, unsigned nodelay, unsigned interval_ms, unsigned resend,
		    bool nc)
{
	kcp_apply_nodelay(k, nodelay, interval_ms, resend, nc);
	return 0;
}

int kcp_set_mtu(struct kcp *k, unsigned mtu)
{
	if (!kcp_mtu_valid(k->pool, mtu))
		return -EINVAL;
	k->mtu = mtu;
	k->mss = mtu - KCP_HDR_LEN;
	kcp_pace_size(k);
	return 0;
}

int kcp_resync(struct kcp *k, uint32_t snd_nxt, uint32_t rcv_nxt)
{
	if (k->snd_end != k->snd_una || k->rcv_nxt != k->rcv_head || k->stats.in_pkts != 0 ||
	    k->stats.out_pkts != 0)
		return -EBUSY;
	for (uint32_t i = 0; i <= k->rcv_mask; i++)
		if (k->rcv[i].data != NULL)
			return -EBUSY;
	k->snd_una = k->snd_nxt = k->snd_end = snd_nxt;
	k->rcv_head = k->rcv_nxt = rcv_nxt;
	return 0;
}

unsigned kcp_mss(const struct kcp *k)
{
	return k->mss;
}

unsigned kcp_wait_snd(const struct kcp *k)
{
	return kcp_snd_used(k);
}

bool kcp_dead(const struct kcp *k)
{
	return k->dead;
}

int kcp_peek_conv(const void *data, size_t len, uint32_t *conv)
{
	struct wire_cur c;

	wire_cur_init(&c, data, len);
	if (len < KCP_HDR_LEN)
		return -1;
	return wire_get_u32le(&c, conv);
}

const struct kcp_stats *kcp_stats(const struct kcp *k)
{
	return &k->stats;
}

void kcp_get_info(const struct kcp *k, struct kcp_info *info)
{
	unsigned rbuf = 0;

	for (uint32_t sn = k->rcv_nxt; sn != k->rcv_nxt + k->rcv_wnd; sn++)
		rbuf += k->rcv[sn & k->rcv_mask].data != NULL;
	memset(info, 0, sizeof(*info));
	info->conv = k->conv;
	info->srtt_ms = k->rx_srtt;
	info->rttvar_ms = k->rx_rttvar;
	info->rto_ms = (int32_t)k->rx_rto;
	info->snd_wnd = k->snd_wnd;
	info->rcv_wnd = k->rcv_wnd;
	info->rmt_wnd = k->rmt_wnd;
	info->cwnd = k->cwnd;
	info->snd_queue = k->snd_end - k->snd_nxt;
	info->snd_inflight = 0;
	for (uint32_t sn = k->snd_una; sn != k->snd_nxt; sn++)
		info->snd_inflight += !k->snd[sn & k->snd_mask].acked;
	info->rcv_queue = kcp_rcv_queued(k);
	info->rcv_buf = rbuf;
	info->mtu = k->mtu;
	info->mss = k->mss;
	info->nodelay = k->nodelay;
	info->interval_ms = k->interval;
	info->resend = k->resend;
	info->nc = k->nc;
	info->stream = k->stream;
	info->dead = k->dead;
	info->rate_bps = k->rate_bps;
}
