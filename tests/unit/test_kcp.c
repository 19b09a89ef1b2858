/* KCP engine: segment format, fragmentation, windows, retransmission, bad input, wraparound.
 * Two engines are joined by hand: every datagram one emits is captured, and each test decides
 * which to deliver, drop, duplicate or reorder. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcpcore/error.h"
#include "kcpcore/kcp.h"
#include "kcpcore/pool.h"
#include "vectors.h"

#define WIRE_MAX 1024
#define POOL_BUFS 4096

struct wire {
	struct pkt *q[WIRE_MAX];
	unsigned n;
};

static struct pool *pool;

static void wire_out(struct pkt *p, void *user)
{
	struct wire *w = user;

	ck_assert_uint_lt(w->n, WIRE_MAX);
	w->q[w->n++] = p;
}

static void wire_drop(struct wire *w)
{
	for (unsigned i = 0; i < w->n; i++)
		pool_put(pool, w->q[i]);
	w->n = 0;
}

/* Delivers every captured datagram to `to` in order; returns how many were rejected. */
static unsigned wire_deliver(struct wire *w, struct kcp *to, uint32_t now)
{
	unsigned rejected = 0;

	for (unsigned i = 0; i < w->n; i++) {
		if (kcp_input(to, pkt_data(w->q[i]), w->q[i]->len, true, now) < 0)
			rejected++;
		pool_put(pool, w->q[i]);
	}
	w->n = 0;
	return rejected;
}

static void setup(void)
{
	int err;

	pool = pool_new(POOL_BUFS, KC_HEADROOM + 1500, &err);
	ck_assert_ptr_nonnull(pool);
}

static void teardown(void)
{
	/* Every buffer came back: no leak through any path of the engine. */
	ck_assert_uint_eq(pool_avail(pool), pool_count(pool));
	pool_free(pool);
}

static struct kcp *mk(uint32_t conv, const char *profile, unsigned wnd, struct wire *w)
{
	struct kcp_params p;
	struct kcp *k;
	int err = 0;

	kcp_params_default(&p);
	ck_assert_int_eq(kcp_params_profile(&p, profile), 0);
	p.snd_wnd = p.rcv_wnd = wnd;
	k = kcp_new(conv, &p, pool, wire_out, w, &err);
	ck_assert_msg(k != NULL, "kcp_new: %s", kc_strerror(err));
	return k;
}

static void put_seg(uint8_t *b, uint32_t conv, uint8_t cmd, uint8_t frg, uint16_t wnd, uint32_t ts,
		    uint32_t sn, uint32_t una, uint32_t len)
{
	b[0] = (uint8_t)conv;
	b[1] = (uint8_t)(conv >> 8);
	b[2] = (uint8_t)(conv >> 16);
	b[3] = (uint8_t)(conv >> 24);
	b[4] = cmd;
	b[5] = frg;
	b[6] = (uint8_t)wnd;
	b[7] = (uint8_t)(wnd >> 8);
	for (int i = 0; i < 4; i++) {
		b[8 + i] = (uint8_t)(ts >> (8 * i));
		b[12 + i] = (uint8_t)(sn >> (8 * i));
		b[16 + i] = (uint8_t)(una >> (8 * i));
		b[20 + i] = (uint8_t)(len >> (8 * i));
	}
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

START_TEST(kcp_push_segment_bytes_match_the_wire_format)
{
	struct wire w = {0};
	struct kcp *k = mk(0x11223344, "fast3", 32, &w);
	const uint8_t *d;

	ck_assert_int_eq(kcp_send(k, "hello", 5), 0);
	kcp_update(k, 1000);
	ck_assert_uint_eq(w.n, 1);
	ck_assert_uint_eq(w.q[0]->len, 24 + 5);
	d = pkt_data(w.q[0]);
	ck_assert_uint_eq(get32(d), 0x11223344);
	ck_assert_uint_eq(d[4], 81);	       /* PUSH */
	ck_assert_uint_eq(d[5], 0);	       /* frg */
	ck_assert_uint_eq(d[6] | d[7] << 8, 32); /* wnd: nothing queued */
	ck_assert_uint_eq(get32(d + 8), 1000); /* ts */
	ck_assert_uint_eq(get32(d + 12), 0);   /* sn */
	ck_assert_uint_eq(get32(d + 16), 0);   /* una */
	ck_assert_uint_eq(get32(d + 20), 5);   /* len */
	ck_assert_mem_eq(d + 24, "hello", 5);
	wire_drop(&w);
	kcp_free(k);
}
END_TEST

/* A real kcp-go 5.6.1 session (no crypto, no FEC): our engine, in the server's place, reads
 * every client message, echoes it as the real server did (so the client's ACKs of the echoes
 * are valid for us too), and acknowledges the first one with the very bytes kcp-go sent. */
START_TEST(kcp_reads_a_real_kcp_go_session_and_acks_it_byte_for_byte)
{
	FILE *f = fopen(vec_path("capture_null_nofec.txt"), "r");
	char line[8192], dir[8], hex[4096];
	struct wire w = {0};
	struct kcp *k = mk(0x11223344, "fast3", 32, &w);
	uint8_t msg[4096];
	unsigned hellos = 0, big = 0, idx;
	double t;
	bool first_ack_checked = false;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len;
		uint8_t *dg;
		int n;

		if (line[0] == '#' || sscanf(line, "%u %lf %7s %4095s", &idx, &t, dir, hex) != 4)
			continue;
		dg = vec_hex(hex, &len);
		if (strcmp(dir, "c2s") == 0) {
			wire_drop(&w);
			ck_assert_int_eq(kcp_input(k, dg, len, true, (uint32_t)(t + 5000)), 0);
			while ((n = kcp_recv(k, msg, sizeof(msg))) >= 0) {
				ck_assert_int_eq(kcp_send(k, msg, (size_t)n), 0);
				if (n == 8) {
					char want[9];

					snprintf(want, sizeof(want), "hello %02u", hellos % 100);
					ck_assert_mem_eq(msg, want, 8);
					hellos++;
				} else {
					for (int i = 0; i < n; i++)
						ck_assert_uint_eq(msg[i], 'A' + (big + i) % 26);
					big += (unsigned)n;
				}
			}
			kcp_update(k, (uint32_t)(t + 5000));
		} else if (!first_ack_checked) {
			/* kcp-go's reply to datagram 0 starts with its ACK segment. */
			ck_assert_uint_ge(w.n, 1);
			ck_assert_uint_ge(w.q[0]->len, 24);
			ck_assert_mem_eq(pkt_data(w.q[0]), dg, 24);
			first_ack_checked = true;
		}
		free(dg);
	}
	fclose(f);
	wire_drop(&w);
	ck_assert(first_ack_checked);
	ck_assert_uint_eq(hellos, 20);
	ck_assert_uint_eq(big, 3000);
	kcp_free(k);
}
END_TEST

START_TEST(kcp_message_is_fragmented_and_reassembled_whole)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(7, "fast3", 32, &ab), *b = mk(7, "fast3", 32, &ba);
	unsigned mss = kcp_mss(a);
	size_t len = 3 * (size_t)mss + 10;
	uint8_t *m = malloc(len), *r = malloc(len);
	uint8_t frgs[8];
	unsigned nseg = 0;

	for (size_t i = 0; i < len; i++)
		m[i] = (uint8_t)(i * 31 + 7);
	ck_assert_int_eq(kcp_send(a, m, len), 0);
	kcp_update(a, 10);
	/* Four PUSH segments with frg 3, 2, 1, 0 (one per datagram, they don't fit together). */
	for (unsigned i = 0; i < ab.n; i++) {
		const uint8_t *d = pkt_data(ab.q[i]);

		for (size_t off = 0; off < ab.q[i]->len; off += 24 + get32(d + off + 20))
			frgs[nseg++] = d[off + 5];
	}
	ck_assert_uint_eq(nseg, 4);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(frgs[i], 3 - i);
	/* Deliver the last three first: nothing is readable until the first arrives. */
	{
		struct pkt *first = ab.q[0];

		memmove(ab.q, ab.q + 1, (ab.n - 1) * sizeof(ab.q[0]));
		ab.n--;
		ck_assert_uint_eq(wire_deliver(&ab, b, 20), 0);
		ck_assert_int_eq(kcp_peek_size(b), -EAGAIN);
		ab.q[ab.n++] = first;
		ck_assert_uint_eq(wire_deliver(&ab, b, 21), 0);
	}
	ck_assert_int_eq(kcp_peek_size(b), (int)len);
	ck_assert_int_eq(kcp_recv(b, r, len - 1), -EMSGSIZE); /* too small: stays queued */
	ck_assert_int_eq(kcp_recv(b, r, len), (int)len);
	ck_assert_mem_eq(r, m, len);
	ck_assert_int_eq(kcp_recv(b, r, len), -EAGAIN);
	free(m);
	free(r);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

START_TEST(kcp_send_refuses_empty_and_oversized_messages)
{
	struct wire w = {0};
	struct kcp *k = mk(1, "fast3", 32, &w);
	size_t big = (size_t)kcp_mss(k) * 33; /* 33 fragments > snd_wnd 32 */
	uint8_t *m = calloc(1, (size_t)kcp_mss(k) * 256);

	ck_assert_int_eq(kcp_send(k, m, 0), -EINVAL);
	ck_assert_int_eq(kcp_send(k, m, big), KC_EMSGSIZE);
	ck_assert_int_eq(kcp_set_wndsize(k, 1024, 1024), 0);
	ck_assert_int_eq(kcp_send(k, m, (size_t)kcp_mss(k) * 256), KC_EMSGSIZE); /* > 255 frags */
	ck_assert_int_eq(kcp_send(k, m, (size_t)kcp_mss(k) * 255), 0);
	ck_assert_uint_eq(kcp_wait_snd(k), 255);
	free(m);
	kcp_free(k);
	wire_drop(&w);
}
END_TEST

START_TEST(kcp_send_queue_is_bounded_and_a_failed_send_queues_nothing)
{
	struct wire w = {0};
	struct kcp *k = mk(1, "fast3", 4, &w);
	int i;

	for (i = 0; i < 8; i++)
		ck_assert_int_eq(kcp_send(k, "x", 1), 0);
	ck_assert_int_eq(kcp_send(k, "x", 1), KC_EFULL); /* 2 x snd_wnd */
	ck_assert_uint_eq(kcp_wait_snd(k), 8);
	kcp_free(k);
}
END_TEST

START_TEST(kcp_send_reports_pool_exhaustion_without_queueing)
{
	struct wire w = {0};
	struct pool *small;
	struct kcp_params p;
	struct kcp *k;
	int err;
	uint8_t m[3000] = {0};

	small = pool_new(2, KC_HEADROOM + 1500, &err);
	kcp_params_default(&p);
	k = kcp_new(1, &p, small, wire_out, &w, &err);
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(kcp_send(k, m, sizeof(m)), KC_ENOBUF); /* needs 3 buffers */
	ck_assert_uint_eq(kcp_wait_snd(k), 0);
	ck_assert_uint_eq(pool_avail(small), 2);
	ck_assert_uint_eq(kcp_stats(k)->drop_no_buffer, 1);
	kcp_free(k);
	pool_free(small);
}
END_TEST

START_TEST(kcp_stream_mode_coalesces_small_writes)
{
	struct wire ab = {0};
	struct kcp_params p;
	struct kcp *a, *b;
	int err;
	char r[64];

	kcp_params_default(&p);
	p.stream = true;
	a = kcp_new(9, &p, pool, wire_out, &ab, &err);
	b = kcp_new(9, &p, pool, wire_out, &ab, &err);
	ck_assert_int_eq(kcp_send(a, "abc", 3), 0);
	ck_assert_int_eq(kcp_send(a, "def", 3), 0);
	ck_assert_uint_eq(kcp_wait_snd(a), 1); /* one segment */
	kcp_update(a, 0);
	ck_assert_uint_eq(ab.n, 1);
	ck_assert_uint_eq(ab.q[0]->len, 24 + 6);
	wire_deliver(&ab, b, 1);
	ck_assert_int_eq(kcp_recv(b, r, sizeof(r)), 6);
	ck_assert_mem_eq(r, "abcdef", 6);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

/* Every class of bad datagram is rejected with its own code and counter and changes nothing:
 * the engine then behaves exactly like a twin that never saw it. */
START_TEST(kcp_input_rejects_bad_datagrams_and_leaves_state_unchanged)
{
	struct wire w = {0}, tw = {0};
	struct kcp *k = mk(0xabc, "fast3", 32, &w), *twin = mk(0xabc, "fast3", 32, &tw);
	uint8_t b[128];
	struct kcp_info i1, i2;
	const struct kcp_stats *st = kcp_stats(k);

	/* Give both an identical history: one message sent, nothing acknowledged. */
	kcp_send(k, "m", 1);
	kcp_send(twin, "m", 1);
	kcp_update(k, 0);
	kcp_update(twin, 0);
	wire_drop(&w);
	wire_drop(&tw);

	/* shorter than a header */
	put_seg(b, 0xabc, 81, 0, 32, 0, 0, 0, 0);
	ck_assert_int_eq(kcp_input(k, b, 23, true, 1), KC_ESHORT);
	/* a valid segment followed by a truncated one */
	put_seg(b, 0xabc, 82, 0, 32, 0, 0, 1, 0);
	put_seg(b + 24, 0xabc, 81, 0, 32, 0, 0, 0, 0);
	ck_assert_int_eq(kcp_input(k, b, 40, true, 1), KC_ESHORT);
	/* length beyond the datagram */
	put_seg(b, 0xabc, 81, 0, 32, 0, 0, 0, 100);
	ck_assert_int_eq(kcp_input(k, b, 24 + 10, true, 1), KC_ELEN);
	/* unknown command after a valid ACK that would have freed our segment */
	put_seg(b, 0xabc, 82, 0, 32, 0, 0, 1, 0);
	put_seg(b + 24, 0xabc, 85, 0, 32, 0, 0, 0, 0);
	ck_assert_int_eq(kcp_input(k, b, 48, true, 1), KC_ECMD);
	/* conversation mismatch in the second segment */
	put_seg(b, 0xabc, 82, 0, 32, 0, 0, 1, 0);
	put_seg(b + 24, 0xabd, 81, 0, 32, 0, 0, 0, 0);
	ck_assert_int_eq(kcp_input(k, b, 48, true, 1), KC_ECONV);
	/* sn far outside the window, ahead and behind */
	put_seg(b, 0xabc, 81, 0, 32, 0, 0x80000000u, 0, 1);
	ck_assert_int_eq(kcp_input(k, b, 25, true, 1), KC_EWINDOW);
	put_seg(b, 0xabc, 81, 0, 32, 0, 0xfff00000u, 0, 1);
	ck_assert_int_eq(kcp_input(k, b, 25, true, 1), KC_EWINDOW);
	/* an ACK or una for data never sent */
	put_seg(b, 0xabc, 82, 0, 32, 0, 5, 0, 0);
	ck_assert_int_eq(kcp_input(k, b, 24, true, 1), KC_EWINDOW);
	put_seg(b, 0xabc, 84, 0, 32, 0, 0, 7, 0);
	ck_assert_int_eq(kcp_input(k, b, 24, true, 1), KC_EWINDOW);
	/* a message of more fragments than the receive window can ever hold */
	put_seg(b, 0xabc, 81, 40, 32, 0, 0, 0, 1);
	ck_assert_int_eq(kcp_input(k, b, 25, true, 1), KC_EWINDOW);
	/* data on an ACK */
	put_seg(b, 0xabc, 82, 0, 32, 0, 0, 0, 4);
	ck_assert_int_eq(kcp_input(k, b, 28, true, 1), KC_ELEN);

	ck_assert_uint_eq(st->err_short, 2);
	ck_assert_uint_eq(st->err_len, 2);
	ck_assert_uint_eq(st->err_cmd, 1);
	ck_assert_uint_eq(st->err_conv, 1);
	ck_assert_uint_eq(st->err_window, 5);
	ck_assert_uint_eq(st->in_pkts, 0);
	ck_assert_uint_eq(st->in_segs, 0);

	kcp_get_info(k, &i1);
	kcp_get_info(twin, &i2);
	ck_assert_mem_eq(&i1, &i2, sizeof(i1));
	ck_assert_uint_eq(kcp_wait_snd(k), 1); /* the segment was not freed by the bad ACKs */
	ck_assert_uint_eq(w.n, 0);
	/* and a good ACK still works */
	put_seg(b, 0xabc, 82, 0, 32, 0, 0, 1, 0);
	ck_assert_int_eq(kcp_input(k, b, 24, true, 5), 0);
	ck_assert_uint_eq(kcp_wait_snd(k), 0);
	kcp_free(k);
	kcp_free(twin);
}
END_TEST

START_TEST(kcp_send_window_limits_segments_in_flight)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(3, "fast3", 4, &ab), *b = mk(3, "fast3", 32, &ba);
	struct kcp_info info;

	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(kcp_send(a, "x", 1), 0);
	kcp_update(a, 0);
	kcp_get_info(a, &info);
	ck_assert_uint_eq(info.snd_inflight, 4);
	ck_assert_uint_eq(info.snd_queue, 4);
	ck_assert_uint_eq(kcp_stats(a)->out_segs, 4);
	wire_deliver(&ab, b, 10);
	kcp_update(b, 10);
	wire_deliver(&ba, a, 20); /* the ACKs open the window */
	kcp_update(a, 20);
	kcp_get_info(a, &info);
	ck_assert_uint_eq(info.snd_inflight, 4);
	ck_assert_uint_eq(info.snd_queue, 0);
	ck_assert_uint_eq(kcp_stats(a)->out_segs, 8);
	wire_drop(&ab);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

/* A receiver that stops reading closes its window; the sender stops, probes after 7 s, and
 * resumes as soon as the reader drains its queue (WINS sent unprompted). */
START_TEST(kcp_closed_receive_window_stops_sender_then_probe_and_reopen)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(4, "fast3", 4, &ab), *b = mk(4, "fast3", 4, &ba);
	uint32_t now = 0, due;
	char r[8];
	int sent = 0, i;
	bool wask = false;

	for (i = 0; i < 8; i++)
		sent += kcp_send(a, "y", 1) == 0;
	ck_assert_int_eq(sent, 8);
	for (i = 0; i < 6; i++, now += 10) {
		kcp_update(a, now);
		wire_deliver(&ab, b, now);
		kcp_update(b, now);
		wire_deliver(&ba, a, now);
	}
	/* b holds 4 unread messages: its window is 0 and a has 4 waiting */
	ck_assert_uint_eq(kcp_wait_snd(a), 4);
	{
		struct kcp_info ia;

		kcp_get_info(a, &ia);
		ck_assert_uint_eq(ia.rmt_wnd, 0);
	}
	/* nothing but a probe for 7 s */
	ck_assert(kcp_check(a, now, &due));
	for (; now < 8000; now += 10) {
		kcp_update(a, now);
		for (unsigned j = 0; j < ab.n; j++)
			wask |= pkt_data(ab.q[j])[4] == 83;
		wire_drop(&ab);
	}
	ck_assert(wask);
	/* reading makes b announce its window */
	ck_assert_int_eq(kcp_recv(b, r, sizeof(r)), 1);
	ck_assert_int_eq(kcp_recv(b, r, sizeof(r)), 1);
	kcp_update(b, now);
	ck_assert_uint_ge(ba.n, 1);
	ck_assert_uint_eq(pkt_data(ba.q[0])[4], 84); /* WINS */
	wire_deliver(&ba, a, now);
	kcp_update(a, now);
	wire_deliver(&ab, b, now);
	/* the two waiting messages went through: b now holds 4 again */
	for (i = 0; kcp_recv(b, r, sizeof(r)) == 1; i++)
		;
	ck_assert_int_eq(i, 4);
	wire_drop(&ba);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

START_TEST(kcp_lost_segment_is_retransmitted_after_rto)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(5, "fast3", 32, &ab), *b = mk(5, "fast3", 32, &ba);
	uint32_t due;
	char r[8];

	kcp_send(a, "z", 1);
	kcp_update(a, 100);
	wire_drop(&ab); /* lost */
	ck_assert(kcp_check(a, 100, &due));
	ck_assert_uint_eq(due, 100 + 200); /* initial RTO */
	kcp_update(a, 299);
	ck_assert_uint_eq(ab.n, 0);
	kcp_update(a, 300);
	ck_assert_uint_eq(ab.n, 1);
	ck_assert_uint_eq(kcp_stats(a)->lost_segs, 1);
	ck_assert_uint_eq(get32(pkt_data(ab.q[0]) + 8), 300); /* ts refreshed */
	wire_deliver(&ab, b, 310);
	ck_assert_int_eq(kcp_recv(b, r, sizeof(r)), 1);
	kcp_update(b, 310);
	wire_deliver(&ba, a, 320);
	ck_assert_uint_eq(kcp_wait_snd(a), 0);
	ck_assert(!kcp_check(a, 320, &due)); /* idle: nothing to do */
	kcp_free(a);
	kcp_free(b);
}
END_TEST

START_TEST(kcp_rto_follows_measured_rtt)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(5, "fast3", 32, &ab), *b = mk(5, "fast3", 32, &ba);
	struct kcp_info info;
	char r[8];
	uint32_t now = 0;

	for (int i = 0; i < 50; i++) {
		kcp_send(a, "q", 1);
		kcp_update(a, now);
		wire_deliver(&ab, b, now + 40);
		kcp_recv(b, r, sizeof(r));
		kcp_update(b, now + 40);
		wire_deliver(&ba, a, now + 80); /* RTT 80 ms */
		now += 100;
	}
	kcp_get_info(a, &info);
	ck_assert_int_eq(info.srtt_ms, 80);
	ck_assert_int_ge(info.rto_ms, 80);
	ck_assert_int_le(info.rto_ms, 80 + 30);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

/* With resend = 2, two ACKs for later segments trigger a retransmission at once, long before
 * the RTO. */
START_TEST(kcp_fast_retransmit_after_two_later_acks)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(6, "fast", 32, &ab), *b = mk(6, "fast", 32, &ba);
	char r[8];

	for (int i = 0; i < 4; i++) {
		kcp_send(a, "f", 1);
		kcp_update(a, 1000 + (uint32_t)i); /* one datagram each */
	}
	ck_assert_uint_eq(ab.n, 4);
	pool_put(pool, ab.q[0]); /* sn 0 lost */
	memmove(ab.q, ab.q + 1, 3 * sizeof(ab.q[0]));
	ab.n = 3;
	wire_deliver(&ab, b, 1010);
	kcp_update(b, 1010);
	ck_assert_int_eq(kcp_recv(b, r, sizeof(r)), -EAGAIN); /* sn 0 missing */
	wire_deliver(&ba, a, 1020);
	ck_assert_uint_eq(kcp_stats(a)->fast_retrans_segs, 0);
	kcp_update(a, 1020); /* well before the 200 ms RTO */
	ck_assert_uint_eq(kcp_stats(a)->fast_retrans_segs, 1);
	ck_assert_uint_eq(kcp_stats(a)->lost_segs, 0);
	ck_assert_uint_eq(ab.n, 1);
	ck_assert_uint_eq(get32(pkt_data(ab.q[0]) + 12), 0); /* sn 0 again */
	wire_deliver(&ab, b, 1030);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(kcp_recv(b, r, sizeof(r)), 1);
	kcp_update(b, 1030);
	wire_drop(&ba);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

/* ACKs do not wait for the interval: the receiver answers in the same update as the input. */
START_TEST(kcp_acks_go_out_at_once_not_at_the_next_tick)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(8, "normal", 32, &ab), *b = mk(8, "normal", 32, &ba);
	uint32_t due;

	kcp_update(b, 0); /* b's interval clock starts */
	kcp_send(a, "k", 1);
	kcp_update(a, 1);
	wire_deliver(&ab, b, 2);
	ck_assert(kcp_check(b, 2, &due));
	ck_assert_uint_eq(due, 2);
	kcp_update(b, 2);
	ck_assert_uint_eq(ba.n, 1);
	ck_assert_uint_eq(pkt_data(ba.q[0])[4], 82);
	wire_drop(&ba);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

START_TEST(kcp_duplicates_and_reordering_deliver_each_message_once_in_order)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(10, "fast3", 64, &ab), *b = mk(10, "fast3", 64, &ba);
	struct pkt *held[64];
	unsigned n = 0;
	char r[16];

	for (int i = 0; i < 20; i++) {
		char m[4];

		snprintf(m, sizeof(m), "%02d", i);
		kcp_send(a, m, 2);
		kcp_update(a, (uint32_t)i);
		while (ab.n > 0)
			held[n++] = ab.q[--ab.n];
	}
	/* deliver in reverse, each twice */
	for (unsigned i = n; i-- > 0;) {
		ck_assert_int_eq(kcp_input(b, pkt_data(held[i]), held[i]->len, true, 50), 0);
		ck_assert_int_eq(kcp_input(b, pkt_data(held[i]), held[i]->len, true, 50), 0);
		pool_put(pool, held[i]);
	}
	for (int i = 0; i < 20; i++) {
		char m[4];

		snprintf(m, sizeof(m), "%02d", i);
		ck_assert_int_eq(kcp_recv(b, r, sizeof(r)), 2);
		ck_assert_mem_eq(r, m, 2);
	}
	ck_assert_int_eq(kcp_recv(b, r, sizeof(r)), -EAGAIN);
	ck_assert_uint_eq(kcp_stats(b)->repeat_segs, 20);
	kcp_update(b, 50);
	wire_deliver(&ba, a, 60);
	ck_assert_uint_eq(kcp_wait_snd(a), 0);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

/* Sequence numbers and timestamps starting just below 2^32 wrap without a hitch, with loss. */
START_TEST(kcp_sn_and_ts_wrap_around_2_pow_32)
{
	struct wire ab = {0}, ba = {0};
	struct kcp_params p;
	struct kcp *a, *b;
	int err, got = 0;
	uint32_t now = 0xffffff00u;
	unsigned drop = 0;
	char r[16];

	kcp_params_default(&p);
	kcp_params_profile(&p, "fast3");
	p.sn_base = 0xfffffff0u;
	p.snd_wnd = p.rcv_wnd = 128;
	a = kcp_new(11, &p, pool, wire_out, &ab, &err);
	b = kcp_new(11, &p, pool, wire_out, &ba, &err);
	for (int i = 0; i < 200; i++) {
		char m[8];

		snprintf(m, sizeof(m), "w%03d", i);
		ck_assert_int_eq(kcp_send(a, m, 4), 0);
	}
	for (int step = 0; step < 2000 && got < 200; step++, now += 10) {
		kcp_update(a, now);
		for (unsigned i = 0; i < ab.n; i++) {
			if (++drop % 5 != 0)
				kcp_input(b, pkt_data(ab.q[i]), ab.q[i]->len, true, now);
			pool_put(pool, ab.q[i]);
		}
		ab.n = 0;
		while (kcp_recv(b, r, sizeof(r)) == 4) {
			char m[8];

			snprintf(m, sizeof(m), "w%03d", got);
			ck_assert_mem_eq(r, m, 4);
			got++;
		}
		kcp_update(b, now);
		wire_deliver(&ba, a, now);
	}
	ck_assert_int_eq(got, 200);
	ck_assert_uint_eq(kcp_wait_snd(a), 0);
	ck_assert_uint_gt(kcp_stats(a)->retrans_segs, 0);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

START_TEST(kcp_link_is_dead_after_dead_link_transmissions)
{
	struct wire w = {0};
	struct kcp *k = mk(12, "fast3", 32, &w);
	uint32_t now = 0, due;

	kcp_send(k, "d", 1);
	for (int i = 0; i < 100000 && !kcp_dead(k); i++) {
		kcp_update(k, now);
		wire_drop(&w);
		ck_assert(kcp_check(k, now, &due));
		now = due;
	}
	ck_assert(kcp_dead(k));
	ck_assert_uint_eq(kcp_stats(k)->lost_segs, 19);
	kcp_free(k);
}
END_TEST

START_TEST(kcp_check_is_idle_without_work)
{
	struct wire w = {0};
	struct kcp *k = mk(13, "fast3", 32, &w);
	uint32_t due = 0;

	ck_assert(!kcp_check(k, 0, &due));
	kcp_send(k, "i", 1);
	ck_assert(kcp_check(k, 5, &due));
	ck_assert_uint_eq(due, 5);
	kcp_free(k);
}
END_TEST

START_TEST(kcp_profiles_match_kcptun)
{
	static const struct {
		const char *name;
		unsigned nodelay, interval, resend;
		bool nc;
	} t[] = {{"normal", 0, 40, 2, true},
		 {"fast", 0, 30, 2, true},
		 {"fast2", 1, 20, 2, true},
		 {"fast3", 1, 10, 2, true},
		 {"default", 0, 100, 0, false}};
	struct kcp_params p;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		kcp_params_default(&p);
		ck_assert_int_eq(kcp_params_profile(&p, t[i].name), 0);
		ck_assert_uint_eq(p.nodelay, t[i].nodelay);
		ck_assert_uint_eq(p.interval_ms, t[i].interval);
		ck_assert_uint_eq(p.resend, t[i].resend);
		ck_assert_int_eq(p.nc, t[i].nc);
	}
	ck_assert_int_eq(kcp_params_profile(&p, "turbo"), -EINVAL);
}
END_TEST

START_TEST(kcp_fragments_that_never_end_are_discarded_not_jamming)
{
	struct wire w = {0};
	struct kcp *k = mk(14, "fast3", 4, &w);
	uint8_t b[32];
	char r[8];

	/* four segments all claiming frg 2: the third should have been frg 0 */
	for (uint32_t sn = 0; sn < 4; sn++) {
		put_seg(b, 14, 81, 2, 32, 0, sn, 0, 1);
		b[24] = 'x';
		ck_assert_int_eq(kcp_input(k, b, 25, true, 0), 0);
	}
	ck_assert_uint_ge(kcp_stats(k)->drop_bad_msg_segs, 1);
	/* a good message still gets through afterwards */
	put_seg(b, 14, 81, 0, 32, 0, 4, 0, 1);
	b[24] = 'g';
	ck_assert_int_eq(kcp_input(k, b, 25, true, 0), 0);
	while (kcp_recv(k, r, sizeof(r)) > 0 && r[0] != 'g')
		;
	ck_assert_int_eq(r[0], 'g');
	kcp_update(k, 0);
	wire_drop(&w);
	kcp_free(k);
}
END_TEST

START_TEST(kcp_window_can_grow_live_without_losing_data)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(15, "fast3", 4, &ab), *b = mk(15, "fast3", 4, &ba);
	char r[8];
	int got = 0;

	for (int i = 0; i < 8; i++)
		kcp_send(a, "g", 1);
	kcp_update(a, 0);
	ck_assert_int_eq(kcp_set_wndsize(a, 64, 64), 0);
	ck_assert_int_eq(kcp_set_wndsize(b, 64, 64), 0);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(kcp_send(a, "h", 1), 0);
	for (uint32_t now = 1; now < 50; now++) {
		kcp_update(a, now);
		wire_deliver(&ab, b, now);
		while (kcp_recv(b, r, sizeof(r)) == 1)
			got++;
		kcp_update(b, now);
		wire_deliver(&ba, a, now);
	}
	ck_assert_int_eq(got, 48);
	ck_assert_int_eq(kcp_set_wndsize(a, 0, 4), -EINVAL);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

/* A peer restarted: the survivor keeps its sn and una; a fresh engine resynced from the
 * survivor's first datagram carries on without a new conversation. */
START_TEST(kcp_resync_joins_a_conversation_under_way)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(16, "fast3", 32, &ab), *b = mk(16, "fast3", 32, &ba), *b2;
	char r[8];

	/* 40 messages each way establish sn 40 on both sides */
	for (int i = 0; i < 40; i++) {
		kcp_send(a, "a", 1);
		kcp_send(b, "b", 1);
		kcp_update(a, (uint32_t)i);
		kcp_update(b, (uint32_t)i);
		wire_deliver(&ab, b, (uint32_t)i);
		wire_deliver(&ba, a, (uint32_t)i);
		while (kcp_recv(a, r, sizeof(r)) > 0 || kcp_recv(b, r, sizeof(r)) > 0)
			;
	}
	kcp_update(a, 50);
	kcp_update(b, 50);
	wire_deliver(&ab, b, 50);
	wire_deliver(&ba, a, 50);
	kcp_free(b); /* b restarts */
	b2 = mk(16, "fast3", 32, &ba);
	kcp_send(a, "x", 1);
	kcp_update(a, 60);
	ck_assert_uint_eq(ab.n, 1);
	/* a fresh engine would buffer sn 40 while waiting for sn 0 forever; resync instead */
	ck_assert_int_eq(kcp_resync(b2, 40, 40), 0);
	ck_assert_int_eq(kcp_resync(b2, 40, 40), 0); /* still fresh */
	wire_deliver(&ab, b2, 61);
	ck_assert_int_eq(kcp_recv(b2, r, sizeof(r)), 1);
	ck_assert_int_eq(r[0], 'x');
	ck_assert_int_eq(kcp_resync(b2, 0, 0), -EBUSY);
	kcp_send(b2, "y", 1);
	kcp_update(b2, 62);
	wire_deliver(&ba, a, 63);
	ck_assert_int_eq(kcp_recv(a, r, sizeof(r)), 1);
	ck_assert_int_eq(r[0], 'y');
	ck_assert_uint_eq(kcp_wait_snd(a), 0);
	kcp_free(a);
	kcp_free(b2);
}
END_TEST

/* Found by fuzz_kcp_input: an ACK echoing a timestamp 2^31 ms old overflowed 4 * rttvar. Under
 * UBSan this test fails on the overflow; the RTO must stay at its ceiling, not wrap. */
START_TEST(kcp_absurd_ack_timestamp_is_clamped_not_overflowed)
{
	struct wire w = {0};
	struct kcp *k = mk(17, "fast3", 32, &w);
	struct kcp_info info;
	uint8_t b[24];

	kcp_send(k, "t", 1);
	kcp_update(k, 0x80000000u);
	wire_drop(&w);
	for (int i = 0; i < 3; i++) {
		put_seg(b, 17, 82, 0, 32, 1, 0, 0, 0); /* ts = 1: 2^31 - 1 ms before now */
		ck_assert_int_eq(kcp_input(k, b, 24, true, 0x80000000u), 0);
	}
	kcp_get_info(k, &info);
	ck_assert_int_eq(info.rto_ms, 60000);
	ck_assert_int_le(info.srtt_ms, 60000);
	kcp_free(k);
}
END_TEST

/* Found in the lossy e2e test: ACKs for segments sent in the same millisecond as a fast
 * retransmission counted as "later" again and again, resending the lost segment once per two
 * ACKs until the link was declared dead. A segment is fast-retransmitted at most once until
 * its next timeout (kcp-go master's rule). */
START_TEST(kcp_fast_retransmit_fires_once_per_timeout_not_per_ack_pair)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(18, "fast3", 128, &ab), *b = mk(18, "fast3", 128, &ba);
	struct pkt *orig[30];
	char r[8];
	unsigned sn1_sent = 0;

	/* 30: the peer's window is 32 until its first datagram says otherwise */
	for (int i = 0; i < 30; i++) {
		kcp_send(a, "s", 1);
		kcp_update(a, 1000); /* all in the same millisecond, one datagram each */
	}
	ck_assert_uint_eq(ab.n, 30);
	memcpy(orig, ab.q, sizeof(orig));
	ab.n = 0;
	pool_put(pool, orig[1]); /* sn 1 lost */
	orig[1] = NULL;
	for (unsigned i = 0; i < 30; i++) {
		if (orig[i] == NULL)
			continue;
		/* each delivered datagram is acknowledged in its own datagram, same ms */
		kcp_input(b, pkt_data(orig[i]), orig[i]->len, true, 1000);
		pool_put(pool, orig[i]);
		kcp_update(b, 1000);
		for (unsigned j = 0; j < ba.n; j++) {
			kcp_input(a, pkt_data(ba.q[j]), ba.q[j]->len, true, 1000);
			pool_put(pool, ba.q[j]);
		}
		ba.n = 0;
		kcp_update(a, 1000);
		for (unsigned j = 0; j < ab.n; j++) {
			sn1_sent += get32(pkt_data(ab.q[j]) + 12) == 1;
			pool_put(pool, ab.q[j]); /* the retransmissions are lost too */
		}
		ab.n = 0;
	}
	ck_assert_uint_eq(sn1_sent, 1);
	ck_assert_uint_eq(kcp_stats(a)->fast_retrans_segs, 1);
	ck_assert(!kcp_dead(a));
	while (kcp_recv(b, r, sizeof(r)) > 0)
		;
	kcp_free(a);
	kcp_free(b);
}
END_TEST

/* ---- pacing (kcp_set_rate) ---- */

#define RATE_8M 8000000u /* 1000 bytes per ms */
#define DGRAM 1400u       /* one MSS-sized message per datagram at the default MTU */

/* Queues n messages of one full segment each. */
static void send_full(struct kcp *k, unsigned n)
{
	static uint8_t m[1376];

	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(kcp_send(k, m, kcp_mss(k)), 0);
}

/* Updates k at every millisecond of [from, to) and returns the first one at which it sent a
 * datagram, or `to`. */
static uint32_t first_send_ms(struct kcp *k, uint32_t from, uint32_t to)
{
	uint64_t before = kcp_stats(k)->out_pkts;

	for (uint32_t t = from; t != to; t++) {
		kcp_update(k, t);
		if (kcp_stats(k)->out_pkts != before)
			return t;
	}
	return to;
}

/* 8 Mbit/s is 1000 bytes per ms and the bucket holds 5 ms (5000 bytes): the first flush sends
 * four 1400-byte datagrams (5000 -> -600), then one more whenever the bucket is positive
 * again. kcp_check() names exactly the millisecond at which update sends the next one: never
 * later, and no earlier wake-up that sends nothing. */
START_TEST(kcp_rate_check_due_is_the_first_ms_data_may_leave)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(20, "fast3", 32, &ab), *b = mk(20, "fast3", 32, &ba);
	struct kcp_info info;
	uint32_t due, t = 100, last = 0;
	uint8_t r[2000];

	ck_assert_int_eq(kcp_set_rate(a, RATE_8M), 0);
	kcp_get_info(a, &info);
	ck_assert_uint_eq(info.rate_bps, RATE_8M);
	send_full(a, 20);
	kcp_update(a, t);
	ck_assert_uint_eq(ab.n, 4);
	ck_assert(kcp_check(a, t, &due));
	ck_assert_uint_eq(due, t + 1); /* -600 bytes + 1000 per ms */
	kcp_get_info(a, &info);
	ck_assert_uint_eq(info.snd_queue, 16); /* waiting, not dropped */
	ck_assert_uint_eq(kcp_stats(a)->paced_flushes, 1);
	while (kcp_stats(a)->out_pkts < 20) {
		uint64_t before = kcp_stats(a)->out_pkts;

		ck_assert(kcp_check(a, t, &due));
		ck_assert(kc_time_diff(due, t) > 0);
		while (t != due) {
			kcp_update(a, t);
			ck_assert_uint_eq(kcp_stats(a)->out_pkts, before); /* nothing before due */
			ck_assert(kcp_check(a, t, &due));
			t++;
		}
		kcp_update(a, t);
		ck_assert_uint_eq(kcp_stats(a)->out_pkts, before + 1);
		/* never ahead of the rate: burst + elapsed ms + the datagram that went negative */
		ck_assert_uint_le(kcp_stats(a)->out_bytes, 5000 + 1000 * (t - 100) + DGRAM);
		last = t;
	}
	/* the 20th leaves once the 19 before it are paid for: 5000 + 1000 x 22 > 19 x 1400 */
	ck_assert_uint_eq(last, 100 + 22);
	ck_assert_uint_eq(kcp_stats(a)->out_bytes, 20 * DGRAM);
	ck_assert_uint_eq(kcp_stats(a)->retrans_segs, 0);

	/* Everything acknowledged: idle, though the bucket is still paying off. */
	wire_deliver(&ab, b, t);
	kcp_update(b, t);
	wire_deliver(&ba, a, t);
	kcp_update(a, t);
	ck_assert(!kcp_check(a, t, &due));
	while (kcp_recv(b, r, sizeof(r)) > 0)
		;
	ck_assert_int_eq(kcp_set_rate(a, KCP_RATE_MAX + 1), -EINVAL);
	kcp_get_info(a, &info);
	ck_assert_uint_eq(info.rate_bps, RATE_8M);
	wire_drop(&ab);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

/* Negative control of the test above: without a rate the whole window leaves at once. */
START_TEST(kcp_rate_0_is_unlimited)
{
	struct wire w = {0};
	struct kcp *k = mk(21, "fast3", 32, &w);

	ck_assert_int_eq(kcp_set_rate(k, 0), 0);
	send_full(k, 20);
	kcp_update(k, 0);
	ck_assert_uint_eq(w.n, 20);
	ck_assert_uint_eq(kcp_stats(k)->paced_flushes, 0);
	wire_drop(&w);
	kcp_free(k);
}
END_TEST

/* ACKs (and window reports) are never paced: with data waiting for tokens, a PUSH from the
 * peer is acknowledged in the same millisecond, in a datagram of ACKs only. */
START_TEST(kcp_rate_acks_leave_while_data_waits_for_tokens)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(22, "fast3", 32, &ab), *b = mk(22, "fast3", 32, &ba);
	uint32_t due;

	ck_assert_int_eq(kcp_set_rate(a, RATE_8M), 0);
	send_full(a, 20);
	kcp_update(a, 0);
	ck_assert_uint_eq(ab.n, 4);
	wire_drop(&ab);
	kcp_send(b, "ping", 4);
	kcp_update(b, 0);
	wire_deliver(&ba, a, 0);
	ck_assert(kcp_check(a, 0, &due));
	ck_assert_uint_eq(due, 0);
	kcp_update(a, 0);
	ck_assert_uint_eq(ab.n, 1);
	ck_assert_uint_eq(ab.q[0]->len, 24); /* one ACK, no data */
	ck_assert_uint_eq(pkt_data(ab.q[0])[4], 82);
	/* the ACK was counted too: data now waits until 2 ms */
	ck_assert(kcp_check(a, 0, &due));
	ck_assert_uint_eq(due, 1);
	ck_assert_uint_eq(first_send_ms(a, 0, 10), 1);
	wire_drop(&ab);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

/* A new rate applies at the next check: slower pushes the deadline out, faster pulls it in,
 * 0 lets the rest of the window go at once, and turning pacing on again starts full. */
START_TEST(kcp_rate_change_takes_effect_at_the_next_check)
{
	struct wire w = {0};
	struct kcp *k = mk(23, "fast3", 32, &w);
	uint32_t due;

	ck_assert_int_eq(kcp_set_rate(k, RATE_8M), 0);
	send_full(k, 20);
	kcp_update(k, 0);
	ck_assert_uint_eq(w.n, 4); /* 600 bytes owed */
	ck_assert(kcp_check(k, 0, &due));
	ck_assert_uint_eq(due, 1);
	ck_assert_int_eq(kcp_set_rate(k, 1000000), 0); /* 125 bytes per ms: 5 ms */
	ck_assert(kcp_check(k, 0, &due));
	ck_assert_uint_eq(due, 5);
	ck_assert_uint_eq(first_send_ms(k, 0, 100), 5);
	ck_assert_uint_eq(w.n, 5);
	ck_assert_int_eq(kcp_set_rate(k, 80000000), 0); /* 10000 bytes per ms */
	ck_assert(kcp_check(k, 5, &due));
	ck_assert_uint_eq(due, 6);
	ck_assert_int_eq(kcp_set_rate(k, 0), 0);
	ck_assert(kcp_check(k, 5, &due));
	ck_assert_uint_eq(due, 5);
	kcp_update(k, 5);
	ck_assert_uint_eq(w.n, 20); /* the other 15 at once */
	wire_drop(&w);
	ck_assert_int_eq(kcp_set_rate(k, RATE_8M), 0);
	send_full(k, 6);
	kcp_update(k, 6);
	ck_assert_uint_eq(w.n, 4); /* a full bucket again */
	wire_drop(&w);
	kcp_free(k);
}
END_TEST

/* Retransmissions are paced like new data, and go first: at 999 bit/s one datagram costs
 * 11.2 s; the two first segments time out after 200 ms, but the resend of sn 0 leaves only
 * when the bucket is positive again, before the new segment that waited longer. */
START_TEST(kcp_rate_retransmission_waits_for_tokens_and_goes_first)
{
	struct wire w = {0};
	struct kcp *k = mk(24, "fast3", 32, &w);
	uint32_t due, t;

	ck_assert_int_eq(kcp_set_rate(k, 999), 0);
	send_full(k, 4);
	kcp_update(k, 0); /* the bucket holds two datagrams: 2800 bytes */
	ck_assert_uint_eq(w.n, 2);
	ck_assert_uint_eq(first_send_ms(k, 0, 10), 1); /* 0 tokens -> positive after 1 ms */
	ck_assert_uint_eq(w.n, 3);
	ck_assert(kcp_check(k, 300, &due));
	/* at 1 ms: 999 millibits - 1400 x 8000 = -11199001, positive again 11210 + 1 ms later */
	ck_assert_uint_eq(due, 1 + 11210 + 1);
	t = first_send_ms(k, 2, 20000);
	ck_assert_uint_eq(t, due);
	ck_assert_uint_eq(w.n, 4);
	ck_assert_uint_eq(get32(pkt_data(w.q[3]) + 12), 0); /* sn 0 again, not sn 3 */
	ck_assert_uint_eq(kcp_stats(k)->lost_segs, 1);
	wire_drop(&w);
	kcp_free(k);
}
END_TEST

/* A fast retransmit that finds the bucket empty in a flush made for an ACK waits for the
 * refill, not for the segment's RTO: the window is full (nothing new to send), so only the
 * engine's memory that data waits for tokens can bring the wake-up forward. */
START_TEST(kcp_rate_blocked_fast_retransmit_wakes_at_the_refill_not_the_rto)
{
	struct wire ab = {0}, ba = {0};
	struct kcp *a = mk(25, "fast3", 4, &ab), *b = mk(25, "fast3", 32, &ba);
	uint32_t due;

	ck_assert_int_eq(kcp_set_rate(a, RATE_8M), 0);
	send_full(a, 4);
	kcp_update(a, 0); /* all four: 600 bytes owed, window full */
	ck_assert_uint_eq(ab.n, 4);
	pool_put(pool, ab.q[0]); /* sn 0 is lost */
	ab.q[0] = ab.q[--ab.n];
	wire_deliver(&ab, b, 0);
	kcp_send(b, "data", 4);
	kcp_update(b, 0); /* ACKs of sn 1..3 and data for a */
	wire_deliver(&ba, a, 0);
	kcp_update(a, 0); /* the ACK leaves, the fast retransmit of sn 0 cannot */
	ck_assert_uint_eq(ab.n, 1);
	ck_assert_uint_eq(ab.q[0]->len, 24);
	wire_drop(&ab);
	ck_assert(kcp_check(a, 0, &due));
	ck_assert_uint_eq(due, 1); /* -624 bytes + 1000 per ms, not the RTO of 200 ms */
	ck_assert_uint_eq(first_send_ms(a, 0, 300), 1);
	ck_assert_uint_eq(get32(pkt_data(ab.q[0]) + 12), 0);
	ck_assert_uint_eq(kcp_stats(a)->fast_retrans_segs, 1);
	wire_drop(&ab);
	kcp_free(a);
	kcp_free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kcp");
	TCase *tc = tcase_create("kcp");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kcp_push_segment_bytes_match_the_wire_format);
	tcase_add_test(tc, kcp_reads_a_real_kcp_go_session_and_acks_it_byte_for_byte);
	tcase_add_test(tc, kcp_message_is_fragmented_and_reassembled_whole);
	tcase_add_test(tc, kcp_send_refuses_empty_and_oversized_messages);
	tcase_add_test(tc, kcp_send_queue_is_bounded_and_a_failed_send_queues_nothing);
	tcase_add_test(tc, kcp_send_reports_pool_exhaustion_without_queueing);
	tcase_add_test(tc, kcp_stream_mode_coalesces_small_writes);
	tcase_add_test(tc, kcp_input_rejects_bad_datagrams_and_leaves_state_unchanged);
	tcase_add_test(tc, kcp_send_window_limits_segments_in_flight);
	tcase_add_test(tc, kcp_closed_receive_window_stops_sender_then_probe_and_reopen);
	tcase_add_test(tc, kcp_lost_segment_is_retransmitted_after_rto);
	tcase_add_test(tc, kcp_rto_follows_measured_rtt);
	tcase_add_test(tc, kcp_fast_retransmit_after_two_later_acks);
	tcase_add_test(tc, kcp_acks_go_out_at_once_not_at_the_next_tick);
	tcase_add_test(tc, kcp_duplicates_and_reordering_deliver_each_message_once_in_order);
	tcase_add_test(tc, kcp_sn_and_ts_wrap_around_2_pow_32);
	tcase_add_test(tc, kcp_link_is_dead_after_dead_link_transmissions);
	tcase_add_test(tc, kcp_check_is_idle_without_work);
	tcase_add_test(tc, kcp_profiles_match_kcptun);
	tcase_add_test(tc, kcp_fragments_that_never_end_are_discarded_not_jamming);
	tcase_add_test(tc, kcp_window_can_grow_live_without_losing_data);
	tcase_add_test(tc, kcp_resync_joins_a_conversation_under_way);
	tcase_add_test(tc, kcp_absurd_ack_timestamp_is_clamped_not_overflowed);
	tcase_add_test(tc, kcp_fast_retransmit_fires_once_per_timeout_not_per_ack_pair);
	tcase_add_test(tc, kcp_rate_check_due_is_the_first_ms_data_may_leave);
	tcase_add_test(tc, kcp_rate_0_is_unlimited);
	tcase_add_test(tc, kcp_rate_acks_leave_while_data_waits_for_tokens);
	tcase_add_test(tc, kcp_rate_change_takes_effect_at_the_next_check);
	tcase_add_test(tc, kcp_rate_retransmission_waits_for_tokens_and_goes_first);
	tcase_add_test(tc, kcp_rate_blocked_fast_retransmit_wakes_at_the_refill_not_the_rto);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
