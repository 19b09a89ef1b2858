/* libkcpcore/secure: handshakes, keypairs, replay window, cookies, roaming and restarts, on
 * an in-memory link between two devices with an injected clock and seeded randomness. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "secure_wire.h"
#include "kcpcore/error.h"
#include "kcpcore/secure.h"

#define QMAX 64
#define PKT_MAX 2048

struct qpkt {
	int to; /* 0: A, 1: B */
	uint8_t from[8];
	size_t len;
	uint8_t b[PKT_MAX];
};

struct side {
	struct sec_dev *d;
	struct sec_peer *p;
	uint8_t addr[8];  /* our current address */
	uint64_t rng;
	int idx;
};

static struct qpkt queue[QMAX];
static unsigned qlen;
static struct side S[2];
static uint32_t now;
static uint64_t wall = 1700000000ull * 1000000000ull;

static void rnd(void *user, uint8_t *out, size_t len)
{
	uint64_t *x = user;

	for (size_t i = 0; i < len; i++) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		out[i] = (uint8_t)*x;
	}
}

static void out_fn(void *user, struct sec_peer *peer, const void *addr, size_t addr_len,
		   const uint8_t *pkt, size_t len)
{
	struct side *s = user;
	struct qpkt *q;

	(void)peer;
	ck_assert_uint_lt(qlen, QMAX);
	ck_assert_uint_le(len, PKT_MAX);
	q = &queue[qlen++];
	/* addressed to the other side when the address is its own, else to nowhere */
	q->to = addr_len == 8 && memcmp(addr, S[1 - s->idx].addr, 8) == 0 ? 1 - s->idx : -1;
	memcpy(q->from, s->addr, 8);
	q->len = len;
	memcpy(q->b, pkt, len);
}

static void side_init(int i, uint8_t seed, bool obfuscate, unsigned load)
{
	struct sec_dev_params dp;
	int err;

	memset(&dp, 0, sizeof(dp));
	for (int j = 0; j < 32; j++)
		dp.private_key[j] = (uint8_t)(seed * 31 + j);
	dp.obfuscate = obfuscate;
	dp.load_per_sec = load;
	dp.output = out_fn;
	dp.user = &S[i];
	S[i].idx = i;
	S[i].rng = 0x9e3779b97f4a7c15ull * (seed + 1);
	memset(S[i].addr, 0, 8);
	S[i].addr[0] = (uint8_t)('A' + i);
	S[i].d = sec_dev_new(&dp, &err);
	ck_assert_ptr_nonnull(S[i].d);
	sec_dev_set_random(S[i].d, rnd, &S[i].rng);
}

static void local_params(struct sec_peer *p, uint64_t epoch)
{
	struct sec_params lp;

	memset(&lp, 0, sizeof(lp));
	lp.epoch = epoch;
	lp.udp_mtu = 1400;
	lp.fec_data = 10;
	lp.fec_parity = 3;
	lp.nodelay = 1;
	lp.interval_ms = 10;
	lp.resend = 2;
	lp.nc = 1;
	lp.snd_wnd = lp.rcv_wnd = 1024;
	sec_peer_set_local(p, &lp);
}

static const uint8_t psk[32] = {7, 7, 7};

/* A is the client (knows B's endpoint), B the server. */
static void pair_setup(bool obfuscate, unsigned load)
{
	int err;

	qlen = 0;
	now = 1000;
	side_init(0, 1, obfuscate, load);
	side_init(1, 2, obfuscate, load);
	S[0].p = sec_peer_new(S[0].d, sec_dev_public_key(S[1].d), psk, &S[0], &err);
	S[1].p = sec_peer_new(S[1].d, sec_dev_public_key(S[0].d), psk, &S[1], &err);
	ck_assert_ptr_nonnull(S[0].p);
	ck_assert_ptr_nonnull(S[1].p);
	local_params(S[0].p, 0x1111);
	local_params(S[1].p, 0x2222);
	sec_peer_set_endpoint(S[0].p, S[1].addr, 8);
}

static void pair_free(void)
{
	for (int i = 0; i < 2; i++) {
		sec_peer_free(S[i].p);
		sec_dev_free(S[i].d);
		S[i].p = NULL;
		S[i].d = NULL;
	}
}

struct result {
	int rc;
	struct sec_events ev;
	uint8_t body[PKT_MAX];
	size_t blen;
};

/* Delivers queue[i] (without removing it). */
static int deliver_one(unsigned i, struct result *r)
{
	struct qpkt *q = &queue[i];
	struct sec_peer *peer = NULL;
	uint8_t buf[PKT_MAX], *body = NULL;
	size_t blen = 0;
	struct result tmp;

	if (r == NULL)
		r = &tmp;
	if (q->to < 0)
		return KC_ENOKEY;
	memcpy(buf, q->b, q->len);
	r->rc = sec_input(S[q->to].d, buf, q->len, q->from, 8, now, &peer, &body, &blen,
			  &r->ev);
	r->blen = 0;
	if (r->rc == SEC_IN_DATA) {
		ck_assert_ptr_eq(peer, S[q->to].p);
		memcpy(r->body, body, blen);
		r->blen = blen;
	}
	return r->rc;
}

static void queue_drop(unsigned i)
{
	memmove(&queue[i], &queue[i + 1], (qlen - i - 1) * sizeof(queue[0]));
	qlen--;
}

/* Delivers everything (including what delivering emits); returns how many were delivered. */
static unsigned deliver_all(void)
{
	unsigned n = 0;

	while (qlen > 0) {
		deliver_one(0, NULL);
		queue_drop(0);
		n++;
	}
	return n;
}

static void service(int i)
{
	sec_peer_service(S[i].p, now, wall);
}

static void advance(uint32_t ms)
{
	now += ms;
	wall += (uint64_t)ms * 1000000u;
}

/* Seals `len` bytes of pattern `tag` from side i; returns the sealed length (or the code). */
static int seal(int i, uint8_t *pkt, size_t len, uint8_t tag)
{
	memset(pkt + SEC_HEADER_LEN, tag, len);
	return sec_seal(S[i].p, pkt, len, now);
}

/* Seals from side i and queues it to the other side. */
static int send_data(int i, size_t len, uint8_t tag)
{
	struct qpkt *q = &queue[qlen];
	int n = seal(i, q->b, len, tag);

	if (n < 0)
		return n;
	q->to = 1 - i;
	memcpy(q->from, S[i].addr, 8);
	q->len = (size_t)n;
	qlen++;
	return n;
}

static void handshake(void)
{
	service(0);
	ck_assert_uint_eq(qlen, 0); /* nothing wanted yet */
	sec_peer_want_handshake(S[0].p);
	service(0);
	ck_assert_uint_eq(qlen, 1);
	ck_assert_uint_eq(queue[0].len, SEC_INITIATION_LEN);
	deliver_all();
	ck_assert(sec_peer_ready(S[0].p, now));
	ck_assert(sec_peer_ready(S[1].p, now)); /* the keepalive confirmed it */
}

START_TEST(test_handshake_and_data)
{
	struct result r;
	struct sec_params rp;
	uint8_t buf[PKT_MAX];

	pair_setup(false, 0);
	ck_assert_int_eq(sec_seal(S[0].p, buf, 10, now), KC_ENOKEY);
	sec_peer_service(S[0].p, now, wall);
	ck_assert_uint_eq(qlen, 1);
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_CONSUMED);
	ck_assert(r.ev.established && r.ev.remote_restarted);
	queue_drop(0);
	ck_assert(sec_peer_remote(S[1].p, &rp));
	ck_assert_uint_eq(rp.epoch, 0x1111);
	ck_assert_uint_eq(rp.fec_data, 10);
	ck_assert_uint_eq(rp.snd_wnd, 1024);
	ck_assert(!sec_peer_ready(S[1].p, now)); /* unconfirmed until A speaks */
	ck_assert_uint_eq(qlen, 1);
	ck_assert_uint_eq(queue[0].len, SEC_RESPONSE_LEN);
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_CONSUMED);
	ck_assert(r.ev.established);
	queue_drop(0);
	ck_assert(sec_peer_ready(S[0].p, now));
	ck_assert(sec_peer_remote(S[0].p, &rp));
	ck_assert_uint_eq(rp.epoch, 0x2222);
	ck_assert_uint_eq(sec_peer_conv(S[0].p), sec_peer_conv(S[1].p));
	ck_assert_uint_eq(qlen, 1); /* the confirming keepalive */
	ck_assert_uint_eq(queue[0].len, SEC_OVERHEAD);
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_CONSUMED);
	queue_drop(0);
	ck_assert(sec_peer_ready(S[1].p, now));

	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(send_data(i, 1000, (uint8_t)(0x40 + i)), 1000 + SEC_OVERHEAD);
		ck_assert_int_eq(deliver_one(0, &r), SEC_IN_DATA);
		queue_drop(0);
		ck_assert_uint_eq(r.blen, 1000);
		for (size_t j = 0; j < r.blen; j++)
			ck_assert_uint_eq(r.body[j], 0x40 + i);
	}
	pair_free();
}
END_TEST

/* Losing any one handshake message: the retry converges within the retry time. */
START_TEST(test_lost_messages)
{
	for (int lose = 0; lose < 3; lose++) {
		uint32_t t0;

		pair_setup(false, 0);
		t0 = now;
		sec_peer_want_handshake(S[0].p);
		while (!(sec_peer_ready(S[0].p, now) && sec_peer_ready(S[1].p, now)) &&
		       now - t0 < 10000) {
			unsigned step = 0;

			service(0);
			service(1);
			while (qlen > 0) {
				if (step++ == (unsigned)lose && now == t0)
					queue_drop(0); /* the lost one */
				else {
					deliver_one(0, NULL);
					queue_drop(0);
				}
			}
			if (!sec_peer_ready(S[1].p, now) && sec_peer_ready(S[0].p, now)) {
				/* the keepalive was lost: A's next data confirms */
				ck_assert_int_ge(send_data(0, 20, 1), 0);
				deliver_all();
			}
			advance(100);
		}
		ck_assert_msg(sec_peer_ready(S[0].p, now) && sec_peer_ready(S[1].p, now),
			      "lost message %d: no keypair after 10 s", lose);
		ck_assert_uint_le(now - t0, SEC_REKEY_RETRY_MS * 2);
		pair_free();
	}
}
END_TEST

/* Duplicated and replayed initiations and responses are refused and counted. */
START_TEST(test_duplicates)
{
	struct qpkt init, resp;
	struct sec_dev_stats ds;
	struct result r;

	pair_setup(false, 0);
	sec_peer_want_handshake(S[0].p);
	service(0);
	init = queue[0];
	deliver_one(0, NULL);
	queue_drop(0);
	resp = queue[0];
	deliver_all();
	ck_assert(sec_peer_ready(S[1].p, now));
	/* the same initiation again (a replay): refused by its timestamp, nothing changes */
	queue[0] = init;
	qlen = 1;
	ck_assert_int_eq(deliver_one(0, &r), KC_EREPLAY);
	queue_drop(0);
	ck_assert_uint_eq(qlen, 0);
	sec_dev_get_stats(S[1].d, &ds);
	ck_assert_uint_eq(ds.rx_timestamp_replay, 1);
	/* the response again: its index is a keypair's now, not a handshake's */
	queue[0] = resp;
	qlen = 1;
	ck_assert_int_lt(deliver_one(0, &r), 0);
	queue_drop(0);
	/* data still flows both ways */
	ck_assert_int_ge(send_data(0, 5, 9), 0);
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_DATA);
	queue_drop(0);
	ck_assert_int_ge(send_data(1, 5, 9), 0);
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_DATA);
	queue_drop(0);
	pair_free();
}
END_TEST

/* Handshake messages reordered: a retried initiation overtakes the first; the stale one is
 * refused by its timestamp, a late response to it by its index, and the pair converges. */
START_TEST(test_reordered)
{
	struct qpkt first, resp2;
	struct result r;

	pair_setup(false, 0);
	sec_peer_want_handshake(S[0].p);
	service(0);
	first = queue[0];
	qlen = 0;
	advance(SEC_REKEY_RETRY_MS * 2);
	service(0); /* the retry */
	ck_assert_uint_eq(qlen, 1);
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_CONSUMED); /* the second, first */
	queue_drop(0);
	resp2 = queue[0];
	qlen = 0;
	queue[0] = first; /* now the first */
	qlen = 1;
	ck_assert_int_eq(deliver_one(0, &r), KC_EREPLAY);
	queue_drop(0);
	ck_assert_uint_eq(qlen, 0);
	queue[0] = resp2;
	qlen = 1;
	deliver_all();
	ck_assert(sec_peer_ready(S[0].p, now));
	ck_assert(sec_peer_ready(S[1].p, now));
	/* data before the keepalive that confirms: B's next keypair is confirmed by data too */
	ck_assert_int_ge(send_data(0, 10, 1), 0);
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_DATA);
	queue_drop(0);
	pair_free();
}
END_TEST

START_TEST(test_replay_window)
{
	static struct qpkt saved[SEC_REPLAY_WINDOW + 200];
	struct sec_peer_stats ps;
	struct result r;
	unsigned n = SEC_REPLAY_WINDOW + 100;

	pair_setup(false, 0);
	handshake();
	for (unsigned i = 0; i < n; i++) {
		ck_assert_int_ge(send_data(0, 4, (uint8_t)i), 0);
		saved[i] = queue[0];
		queue_drop(0);
	}
	/* the newest first, then backwards within the window: all accepted once */
	for (int k = (int)n - 1; k >= 0; k--) {
		int rc;

		queue[0] = saved[k];
		qlen = 1;
		rc = deliver_one(0, &r);
		queue_drop(0);
		if ((unsigned)(n - 1 - k) <= SEC_REPLAY_WINDOW - 64 - 1)
			ck_assert_msg(rc == SEC_IN_DATA, "counter %d refused (%d)", k, rc);
		else
			ck_assert_msg(rc == KC_EREPLAY, "counter %d beyond the window accepted", k);
	}
	/* and each again: replays */
	for (unsigned k = n - 10; k < n; k++) {
		queue[0] = saved[k];
		qlen = 1;
		ck_assert_int_eq(deliver_one(0, &r), KC_EREPLAY);
		queue_drop(0);
	}
	sec_peer_get_stats(S[1].p, now, &ps);
	ck_assert_uint_eq(ps.replayed, 10 + (n - (SEC_REPLAY_WINDOW - 64)));
	pair_free();
}
END_TEST

/* A jump of more than the window clears it: old counters are refused, new ones accepted. */
START_TEST(test_replay_jump)
{
	static struct qpkt saved[3 * SEC_REPLAY_WINDOW];
	struct result r;
	unsigned n = 3 * SEC_REPLAY_WINDOW;

	pair_setup(false, 0);
	handshake();
	for (unsigned i = 0; i < n; i++) {
		ck_assert_int_ge(send_data(0, 1, 1), 0);
		saved[i] = queue[0];
		queue_drop(0);
	}
	queue[0] = saved[5];
	qlen = 1;
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_DATA);
	queue_drop(0);
	queue[0] = saved[n - 1];
	qlen = 1;
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_DATA);
	queue_drop(0);
	for (unsigned k = 6; k < n - SEC_REPLAY_WINDOW + 64; k += 97) {
		queue[0] = saved[k];
		qlen = 1;
		ck_assert_int_eq(deliver_one(0, &r), KC_EREPLAY);
		queue_drop(0);
	}
	/* counters in the window that were never seen (the bitmap words were cleared) */
	for (unsigned k = n - SEC_REPLAY_WINDOW + 64; k < n - 1; k += 61) {
		queue[0] = saved[k];
		qlen = 1;
		ck_assert_int_eq(deliver_one(0, &r), SEC_IN_DATA);
		queue_drop(0);
	}
	pair_free();
}
END_TEST

/* Any changed byte of a data packet, an initiation or a response is refused; nothing changes. */
START_TEST(test_tamper)
{
	struct qpkt orig;
	struct result r;

	pair_setup(false, 0);
	handshake();
	ck_assert_int_ge(send_data(0, 100, 3), 0);
	orig = queue[0];
	for (size_t i = 0; i < orig.len; i++) {
		queue[0] = orig;
		queue[0].b[i] ^= 0x20;
		ck_assert_msg(deliver_one(0, &r) < 0, "byte %zu changed, accepted", i);
	}
	queue[0] = orig;
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_DATA);
	qlen = 0;
	pair_free();

	pair_setup(false, 0);
	sec_peer_want_handshake(S[0].p);
	service(0);
	orig = queue[0];
	/* (mac2 is only checked under load: see test_cookie_under_load) */
	for (size_t i = 0; i < orig.len - SEC_MAC_LEN; i++) {
		queue[0] = orig;
		qlen = 1;
		queue[0].b[i] ^= 0x01;
		ck_assert_msg(deliver_one(0, &r) < 0, "initiation byte %zu changed, accepted", i);
		ck_assert_uint_eq(qlen, 1); /* no response */
		qlen = 0;
	}
	ck_assert(!sec_peer_ready(S[1].p, now));
	queue[0] = orig;
	qlen = 1;
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_CONSUMED);
	queue_drop(0);
	ck_assert_uint_eq(qlen, 1);
	orig = queue[0];
	for (size_t i = 0; i < orig.len - SEC_MAC_LEN; i++) {
		queue[0] = orig;
		qlen = 1;
		queue[0].b[i] ^= 0x01;
		ck_assert_msg(deliver_one(0, &r) < 0, "response byte %zu changed, accepted", i);
		qlen = 0;
	}
	ck_assert(!sec_peer_ready(S[0].p, now));
	queue[0] = orig;
	qlen = 1;
	deliver_all();
	ck_assert(sec_peer_ready(S[0].p, now));
	pair_free();
}
END_TEST

START_TEST(test_wrong_keys)
{
	struct sec_dev_stats ds;
	struct result r;
	uint8_t other[32];
	int err;

	/* B does not know A */
	pair_setup(false, 0);
	sec_peer_free(S[1].p);
	memset(other, 0x33, sizeof(other));
	S[1].p = sec_peer_new(S[1].d, other, psk, &S[1], &err);
	ck_assert_ptr_nonnull(S[1].p);
	sec_peer_want_handshake(S[0].p);
	service(0);
	ck_assert_int_eq(deliver_one(0, &r), KC_EUNKNOWN);
	queue_drop(0);
	ck_assert_uint_eq(qlen, 0);
	sec_dev_get_stats(S[1].d, &ds);
	ck_assert_uint_eq(ds.rx_unknown_peer, 1);
	pair_free();

	/* different pre-shared keys: the response does not verify */
	pair_setup(false, 0);
	sec_peer_free(S[1].p);
	S[1].p = sec_peer_new(S[1].d, sec_dev_public_key(S[0].d), other, &S[1], &err);
	sec_peer_want_handshake(S[0].p);
	service(0);
	deliver_one(0, NULL);
	queue_drop(0);
	ck_assert_uint_eq(qlen, 1);
	ck_assert_int_eq(deliver_one(0, &r), KC_EAUTH);
	ck_assert(!sec_peer_ready(S[0].p, now));
	queue_drop(0);
	pair_free();

	/* A thinks B has another key: mac1 does not match, B spends nothing */
	pair_setup(false, 0);
	sec_peer_free(S[0].p);
	S[0].p = sec_peer_new(S[0].d, other, psk, &S[0], &err);
	sec_peer_set_endpoint(S[0].p, S[1].addr, 8);
	sec_peer_want_handshake(S[0].p);
	service(0);
	ck_assert_int_eq(deliver_one(0, &r), KC_EAUTH);
	sec_dev_get_stats(S[1].d, &ds);
	ck_assert_uint_eq(ds.rx_bad_mac1, 1);
	queue_drop(0);
	/* a peer with our own key or twice the same key is refused */
	ck_assert_ptr_null(sec_peer_new(S[0].d, sec_dev_public_key(S[0].d), NULL, NULL, &err));
	ck_assert_int_eq(err, -EEXIST);
	ck_assert_ptr_null(sec_peer_new(S[0].d, other, NULL, NULL, &err));
	ck_assert_int_eq(err, -EEXIST);
	/* a reload replacing a peer: unlisted, its key is free; relisted only once free again */
	{
		struct sec_peer *n;

		sec_peer_unlist(S[0].p);
		n = sec_peer_new(S[0].d, other, NULL, NULL, &err);
		ck_assert_ptr_nonnull(n);
		ck_assert_int_eq(sec_peer_relist(S[0].p), -EEXIST);
		sec_peer_free(n);
		ck_assert_int_eq(sec_peer_relist(S[0].p), 0);
		ck_assert_ptr_null(sec_peer_new(S[0].d, other, NULL, NULL, &err));
	}
	pair_free();
}
END_TEST

/* Rekeying under steady traffic both ways: nothing fails to leave, nothing is lost. */
START_TEST(test_rekey_under_traffic)
{
	struct sec_peer_stats ps0, ps1;
	struct result r;
	unsigned got[2] = {0, 0}, sent = 0;

	pair_setup(false, 0);
	handshake();
	for (uint32_t t = 0; t < 400000; t += 50) {
		for (int i = 0; i < 2; i++) {
			ck_assert_msg(send_data(i, 64, (uint8_t)t) > 0, "side %d no key at %u ms", i, t);
			service(i);
		}
		sent++;
		while (qlen > 0) {
			int to = queue[0].to;

			if (deliver_one(0, &r) == SEC_IN_DATA)
				got[to]++;
			queue_drop(0);
		}
		advance(50);
	}
	ck_assert_uint_eq(got[0], sent);
	ck_assert_uint_eq(got[1], sent);
	sec_peer_get_stats(S[0].p, now, &ps0);
	sec_peer_get_stats(S[1].p, now, &ps1);
	ck_assert_uint_ge(ps0.handshakes_done + ps1.handshakes_done, 4); /* 400 s: >= 3 rekeys */
	ck_assert_uint_lt(ps0.keypair_age_ms, SEC_REJECT_AFTER_MS);
	ck_assert_uint_eq(ps0.drop_no_key + ps1.drop_no_key, 0);
	pair_free();
}
END_TEST

/* B restarts (new device, same keys, new epoch): A notices within the stale time and one
 * handshake, sees the new epoch, and the conv changes. */
START_TEST(test_restart)
{
	struct sec_dev_params dp;
	struct result r;
	uint32_t conv0, t0;
	bool restarted = false;
	int err;

	pair_setup(false, 0);
	handshake();
	conv0 = sec_peer_conv(S[0].p);
	sec_peer_free(S[1].p);
	sec_dev_free(S[1].d);
	memset(&dp, 0, sizeof(dp));
	for (int j = 0; j < 32; j++)
		dp.private_key[j] = (uint8_t)(2 * 31 + j);
	dp.output = out_fn;
	dp.user = &S[1];
	S[1].d = sec_dev_new(&dp, &err);
	S[1].p = sec_peer_new(S[1].d, sec_dev_public_key(S[0].d), psk, &S[1], &err);
	local_params(S[1].p, 0x3333);
	t0 = now;
	while (!restarted && now - t0 < 10000) {
		if (sec_peer_ready(S[0].p, now))
			send_data(0, 100, 1);
		service(0);
		service(1);
		while (qlen > 0) {
			deliver_one(0, &r);
			if (r.rc >= 0 && r.ev.remote_restarted && queue[0].to == 0)
				restarted = true;
			queue_drop(0);
		}
		advance(20);
	}
	ck_assert(restarted);
	ck_assert_uint_le(now - t0, SEC_STALE_MS + 200);
	ck_assert_uint_ne(sec_peer_conv(S[0].p), conv0);
	ck_assert_uint_eq(sec_peer_conv(S[0].p), sec_peer_conv(S[1].p));
	pair_free();
}
END_TEST

/* A client that changes address keeps its keypair; the server answers the new address. */
START_TEST(test_roaming)
{
	uint8_t ep[SEC_ADDR_MAX];
	struct result r;

	pair_setup(false, 0);
	handshake();
	S[0].addr[1] = 9; /* A moved */
	ck_assert_int_ge(send_data(0, 50, 1), 0);
	ck_assert_int_eq(deliver_one(0, &r), SEC_IN_DATA);
	queue_drop(0);
	ck_assert_uint_eq(sec_peer_endpoint(S[1].p, ep, sizeof(ep)), 8);
	ck_assert_mem_eq(ep, S[0].addr, 8);
	/* a forged packet from elsewhere does not move it */
	ck_assert_int_ge(send_data(0, 50, 1), 0);
	queue[0].from[1] = 77;
	queue[0].b[20] ^= 1;
	ck_assert_int_lt(deliver_one(0, &r), 0);
	queue_drop(0);
	ck_assert_uint_eq(sec_peer_endpoint(S[1].p, ep, sizeof(ep)), 8);
	ck_assert_mem_eq(ep, S[0].addr, 8);
	pair_free();
}
END_TEST

/* Under load B answers initiations without a valid mac2 with a cookie; A's next attempt
 * carries it and succeeds; a flood from other addresses gets cookies, never a response. */
START_TEST(test_cookie_under_load)
{
	struct sec_dev_stats ds;
	struct sec_peer_stats ps;
	struct qpkt init;
	struct result r;
	uint32_t t0;

	pair_setup(false, 2);
	sec_peer_want_handshake(S[0].p);
	service(0);
	init = queue[0];
	qlen = 0;
	/* a flood: the same (valid-mac1) initiation from 50 spoofed addresses */
	for (int i = 0; i < 50; i++) {
		queue[0] = init;
		queue[0].from[0] = 'Z';
		queue[0].from[2] = (uint8_t)i;
		qlen = 1;
		deliver_one(0, &r);
		qlen = 0;
	}
	sec_dev_get_stats(S[1].d, &ds);
	ck_assert_msg(ds.rx_cookie_sent >= 47, "cookies %llu replay %llu rl %llu",
		      (unsigned long long)ds.rx_cookie_sent,
		      (unsigned long long)ds.rx_timestamp_replay,
		      (unsigned long long)ds.rx_ratelimited);
	ck_assert_uint_le(ds.rx_cookie_sent + ds.rx_timestamp_replay + ds.rx_ratelimited, 50);
	/* A's own tries: first a cookie, then success with mac2, while the flood goes on */
	t0 = now;
	while (!sec_peer_ready(S[0].p, now) && now - t0 < 5000) {
		advance(SEC_REKEY_RETRY_MS / 2);
		for (int i = 0; i < 5; i++) {
			queue[0] = init;
			queue[0].from[0] = 'Z';
			queue[0].from[2] = (uint8_t)(100 + i);
			qlen = 1;
			deliver_one(0, &r);
			qlen = 0;
		}
		service(0);
		deliver_all();
	}
	ck_assert(sec_peer_ready(S[0].p, now));
	sec_peer_get_stats(S[0].p, now, &ps);
	ck_assert_uint_ge(ps.cookies_rx, 1);
	pair_free();
}
END_TEST

/* With obfuscation the handshake and data work, and no header byte is constant. */
START_TEST(test_obfuscate)
{
	uint8_t first[4][256];
	unsigned n = 0;
	struct result r;

	memset(first, 0, sizeof(first));
	pair_setup(true, 0);
	handshake();
	for (int i = 0; i < 200; i++) {
		ck_assert_int_ge(send_data(i & 1, (size_t)(i % 7), 5), 0);
		for (int b = 0; b < 4; b++)
			first[b][queue[0].b[b]] = 1;
		ck_assert_int_ge(deliver_one(0, &r), 0);
		queue_drop(0);
		n++;
	}
	for (int b = 0; b < 4; b++) {
		unsigned distinct = 0;

		for (int v = 0; v < 256; v++)
			distinct += first[b][v];
		ck_assert_msg(distinct > 100, "byte %d takes only %u values", b, distinct);
	}
	pair_free();
	/* one side obfuscating, the other not: nothing gets through */
	pair_setup(false, 0);
	sec_peer_free(S[1].p);
	sec_dev_free(S[1].d);
	side_init(1, 2, true, 0);
	{
		int err;

		S[1].p = sec_peer_new(S[1].d, sec_dev_public_key(S[0].d), psk, &S[1], &err);
	}
	sec_peer_want_handshake(S[0].p);
	service(0);
	ck_assert_int_lt(deliver_one(0, &r), 0);
	qlen = 0;
	pair_free();
}
END_TEST

/* Cookie replies find their way when obfuscated too. */
START_TEST(test_obfuscate_cookie)
{
	struct sec_peer_stats ps;
	struct qpkt flood;
	bool have_flood = false;
	uint32_t t0;

	pair_setup(true, 1);
	sec_peer_want_handshake(S[0].p);
	t0 = now;
	while (!sec_peer_ready(S[0].p, now) && now - t0 < 5000) {
		service(0);
		if (qlen > 0 && !have_flood) {
			flood = queue[0]; /* A's first initiation, replayed from elsewhere */
			flood.from[3] = 1;
			have_flood = true;
			qlen = 0;
		}
		if (qlen > 0) {
			/* two flood copies ahead of A's packet put B over its load of 1/s */
			memmove(&queue[2], &queue[0], qlen * sizeof(queue[0]));
			queue[0] = flood;
			queue[1] = flood;
			qlen += 2;
		}
		deliver_all();
		advance(SEC_REKEY_RETRY_MS / 2);
	}
	ck_assert(sec_peer_ready(S[0].p, now));
	sec_peer_get_stats(S[0].p, now, &ps);
	ck_assert_uint_ge(ps.cookies_rx, 1);
	pair_free();
}
END_TEST

START_TEST(test_garbage)
{
	uint8_t buf[300];
	struct sec_peer *peer;
	struct sec_events ev;
	uint8_t *body;
	size_t blen;
	uint64_t x = 42;

	pair_setup(false, 0);
	handshake();
	for (int i = 0; i < 2000; i++) {
		size_t len = (size_t)(i % 300);

		rnd(&x, buf, len);
		if (len > 0 && i % 3 == 0)
			buf[0] = (uint8_t)(1 + i % 4);
		if (len > 3 && i % 5 == 0)
			buf[1] = buf[2] = buf[3] = 0;
		ck_assert_int_lt(sec_input(S[1].d, buf, len, "x", 1, now, &peer, &body, &blen,
					   &ev),
				 0);
		ck_assert(!ev.established);
	}
	ck_assert_int_ge(send_data(0, 5, 1), 0);
	ck_assert_int_eq(deliver_one(0, NULL), SEC_IN_DATA);
	qlen = 0;
	pair_free();
}
END_TEST

/* Many peers in both tables (public keys, and receiver indices of their handshakes), keys
 * crowded onto 7 hash homes so clusters form; half removed (backward-shift deletion), then
 * every key is looked up again and a handshake and data still work among them. */
START_TEST(test_many_peers)
{
	enum { N = 600 };
	static struct sec_peer *extra[N];
	static uint8_t pub[N][32];
	uint64_t r = 0x5eed;
	uint8_t pkt[PKT_MAX], *body;
	struct sec_peer *from, *again;
	struct sec_events ev;
	size_t blen;
	int err, n;

	pair_setup(false, 0);
	for (int i = 0; i < N; i++) {
		uint8_t addr[8] = {'Z', (uint8_t)i, (uint8_t)(i >> 8)};

		rnd(&r, pub[i], 32);
		memset(pub[i], 0, 4);
		pub[i][0] = (uint8_t)(i % 7); /* the table's hash is the first 4 bytes */
		extra[i] = sec_peer_new(S[0].d, pub[i], NULL, NULL, &err);
		ck_assert_msg(extra[i] != NULL, "peer %d: %d", i, err);
		local_params(extra[i], 100 + (uint64_t)i);
		sec_peer_set_endpoint(extra[i], addr, 8);
		sec_peer_want_handshake(extra[i]);
		sec_peer_service(extra[i], now, wall); /* an initiation: a slot for its index */
		ck_assert_uint_eq(qlen, 1);
		qlen = 0;
	}
	for (int i = 0; i < N; i += 2) {
		sec_peer_free(extra[i]);
		extra[i] = NULL;
	}
	for (int i = 0; i < N; i++) {
		again = sec_peer_new(S[0].d, pub[i], NULL, NULL, &err);
		if (extra[i] != NULL) {
			ck_assert_msg(again == NULL && err == -EEXIST, "kept key %d not found", i);
		} else {
			ck_assert_msg(again != NULL, "removed key %d still found (%d)", i, err);
			sec_peer_free(again);
		}
	}
	handshake(); /* its index among hundreds of others, some moved by deletions */
	n = send_data(0, 100, 0x42);
	ck_assert_int_gt(n, 0);
	memcpy(pkt, queue[0].b, queue[0].len);
	ck_assert_int_eq(sec_input(S[1].d, pkt, queue[0].len, S[0].addr, 8, now, &from, &body,
				   &blen, &ev), SEC_IN_DATA);
	ck_assert_uint_eq(blen, 100);
	qlen = 0;
	n = send_data(1, 100, 0x43);
	ck_assert_int_gt(n, 0);
	memcpy(pkt, queue[0].b, queue[0].len);
	ck_assert_int_eq(sec_input(S[0].d, pkt, queue[0].len, S[1].addr, 8, now, &from, &body,
				   &blen, &ev), SEC_IN_DATA);
	ck_assert_ptr_eq(from, S[0].p);
	qlen = 0;
	for (int i = 1; i < N; i += 2)
		sec_peer_free(extra[i]);
	pair_free();
}
END_TEST

static Suite *secure_suite(void)
{
	Suite *s = suite_create("secure");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_handshake_and_data);
	tcase_add_test(tc, test_lost_messages);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_reordered);
	tcase_add_test(tc, test_replay_window);
	tcase_add_test(tc, test_replay_jump);
	tcase_add_test(tc, test_tamper);
	tcase_add_test(tc, test_wrong_keys);
	tcase_add_test(tc, test_rekey_under_traffic);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_roaming);
	tcase_add_test(tc, test_cookie_under_load);
	tcase_add_test(tc, test_obfuscate);
	tcase_add_test(tc, test_obfuscate_cookie);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_many_peers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(secure_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
