/* Session: KCP + FEC + crypto framed as kcp-go frames them. Real kcp-go captures replayed into
 * our session, the MTU arithmetic against kcp-go's, every crypt x FEC setting over a lossy
 * simulated link, tolerance of mismatched FEC, live FEC changes, and bad datagrams. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duplex.h"
#include "kcp_ep.h"
#include "kcpcore/error.h"
#include "kcpcore/pool.h"
#include "kcpcore/session.h"
#include "vectors.h"

static struct pool *pool;

static void setup(void)
{
	int err;

	pool = pool_new(8192, KC_HEADROOM + 1500, &err);
	ck_assert_ptr_nonnull(pool);
}

static void teardown(void)
{
	ck_assert_uint_eq(pool_avail(pool), pool_count(pool));
	pool_free(pool);
}

struct outq {
	struct pkt *q[512];
	unsigned n;
};

static void outq_add(struct pkt *p, void *user)
{
	struct outq *o = user;

	ck_assert_uint_lt(o->n, 512);
	o->q[o->n++] = p;
}

static void outq_drop(struct outq *o)
{
	for (unsigned i = 0; i < o->n; i++)
		pool_put(pool, o->q[i]);
	o->n = 0;
}

START_TEST(session_mss_matches_kcp_go_for_every_crypt_fec_and_mtu)
{
	json_t *v = vec_load("mss.json"), *row;
	size_t i, rows = 0;

	json_array_foreach(json_object_get(v, "rows"), i, row)
	{
		const char *c = json_string_value(json_object_get(row, "crypt"));
		bool fec = strcmp(json_string_value(json_object_get(row, "fec")), "off") != 0;
		unsigned mtu = (unsigned)json_integer_value(json_object_get(row, "mtu_setting"));
		int want = (int)json_integer_value(json_object_get(row, "kcp_mss"));
		int hdr = (int)json_integer_value(json_object_get(row, "session_header_bytes"));
		enum crypt_method m = strncmp(c, "nil", 3) == 0 ? CRYPT_NULL
				      : strcmp(c, "none") == 0 ? CRYPT_NONE
							       : CRYPT_AES_256;

		ck_assert_msg(session_mss(mtu, m, fec) == want, "%s fec=%d mtu=%u: %d, kcp-go %d", c,
			      fec, mtu, session_mss(mtu, m, fec), want);
		ck_assert_int_eq((int)session_overhead(m, fec), hdr);
		rows++;
	}
	ck_assert_uint_ge(rows, 9);
	/* AEAD rows of spec 5.4 (kcp-go master): 12-byte nonce and 16-byte tag */
	ck_assert_int_eq(session_mss(1400, CRYPT_AES_128_GCM, false), 1348);
	ck_assert_int_eq(session_mss(1400, CRYPT_AES_128_GCM, true), 1340);
	ck_assert_int_eq(session_mss(40, CRYPT_AES_256, true), -EINVAL);
	json_decref(v);
}
END_TEST

/* Replays the client side of a real kcp-go 5.6.1 capture into our session in the server's
 * place, echoing every message as the real server did; all messages arrive intact. */
static void replay_capture(const char *name, enum crypt_method m, unsigned ds, unsigned ps)
{
	char jname[128], tname[128], line[8192], dir[8], hex[4096];
	json_t *meta;
	struct session_params p;
	struct session *s;
	struct outq out = {0};
	uint8_t msg[4096], *key;
	unsigned hellos = 0, big = 0, idx, dgrams = 0;
	size_t klen;
	double t;
	FILE *f;
	int err;

	snprintf(jname, sizeof(jname), "%s.json", name);
	snprintf(tname, sizeof(tname), "%s.txt", name);
	meta = vec_load(jname);
	session_params_default(&p);
	p.conv = (uint32_t)strtoul(json_string_value(json_object_get(meta, "conv")), NULL, 16);
	p.crypt = m;
	if (m != CRYPT_NULL && m != CRYPT_NONE) {
		key = vec_hex_member(meta, "key_hex", &klen);
		ck_assert_uint_eq(klen, CRYPT_KEY_LEN);
		memcpy(p.key, key, klen);
		free(key);
	}
	p.fec_data = ds;
	p.fec_parity = ps;
	kcp_params_profile(&p.kcp, "fast3");
	s = session_new(&p, pool, outq_add, &out, &err);
	ck_assert_msg(s != NULL, "session_new: %s", kc_strerror(err));
	f = fopen(vec_path(tname), "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		uint8_t *dg;
		size_t len;
		int n;

		if (line[0] == '#' || sscanf(line, "%u %lf %7s %4095s", &idx, &t, dir, hex) != 4 ||
		    strcmp(dir, "c2s") != 0)
			continue;
		dg = vec_hex(hex, &len);
		n = session_input(s, dg, len, (uint32_t)t + 1000);
		ck_assert_msg(n == 0, "%s datagram %u: %s", name, idx, kc_strerror(n));
		dgrams++;
		while ((n = session_recv(s, msg, sizeof(msg))) > 0) {
			ck_assert_int_eq(session_send(s, msg, (size_t)n), 0);
			if (n == 8) {
				char want[9];

				snprintf(want, sizeof(want), "hello %02u", hellos);
				ck_assert_mem_eq(msg, want, 8);
				hellos++;
			} else {
				for (int i = 0; i < n; i++)
					ck_assert_uint_eq(msg[i], 'A' + (big + (unsigned)i) % 26);
				big += (unsigned)n;
			}
		}
		session_update(s, (uint32_t)t + 1000);
		outq_drop(&out);
		free(dg);
	}
	fclose(f);
	ck_assert_uint_gt(dgrams, 20);
	ck_assert_uint_eq(hellos, 20);
	ck_assert_uint_eq(big, 3000);
	session_free(s);
	json_decref(meta);
}

START_TEST(session_reads_real_kcp_go_capture_null_nofec)
{
	replay_capture("capture_null_nofec", CRYPT_NULL, 0, 0);
}
END_TEST

START_TEST(session_reads_real_kcp_go_capture_none_nofec)
{
	replay_capture("capture_none_nofec", CRYPT_NONE, 0, 0);
}
END_TEST

START_TEST(session_reads_real_kcp_go_capture_aes_fec10_3)
{
	replay_capture("capture_aes_fec10_3", CRYPT_AES_256, 10, 3);
}
END_TEST

/* Our own output, decrypted by the capture's cipher settings, is framed like kcp-go's:
 * nonce | crc | FEC data header (seqid 0, type 0xf1, size) | KCP segment. */
START_TEST(session_output_is_framed_like_kcp_go)
{
	struct session_params p;
	struct session *tx, *rx;
	struct outq out = {0};
	uint8_t *body, buf[64];
	int err, n;

	session_params_default(&p);
	p.conv = 0x99aabbcc;
	p.fec_data = 10;
	p.fec_parity = 3;
	crypt_kdf_kcptun("it's a secrect", 14, p.key);
	kcp_params_profile(&p.kcp, "fast3"); /* no congestion window: both messages go at once */
	tx = session_new(&p, pool, outq_add, &out, &err);
	ck_assert_ptr_nonnull(tx);
	ck_assert_int_eq(session_send(tx, "hello 00", 8), 0);
	session_update(tx, 100);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_uint_eq(out.q[0]->len, 20 + 8 + 24 + 8);
	{
		struct crypt *c = crypt_new(CRYPT_AES_256, p.key, &err);

		n = crypt_open(c, pkt_data(out.q[0]), out.q[0]->len, &body);
		ck_assert_int_eq(n, 8 + 24 + 8);
		ck_assert_uint_eq(body[0] | body[1] << 8 | body[2] << 16 | (uint32_t)body[3] << 24, 0);
		ck_assert_uint_eq(body[4] | body[5] << 8, 0xf1);
		ck_assert_uint_eq(body[6] | body[7] << 8, 2 + 24 + 8);
		ck_assert_uint_eq(body[8] | body[9] << 8 | body[10] << 16 | (uint32_t)body[11] << 24,
				  0x99aabbcc);
		ck_assert_uint_eq(body[12], 81);
		ck_assert_mem_eq(body + 32, "hello 00", 8);
		crypt_free(c);
	}
	/* and a session with the same settings reads it back (re-encrypt first: opened in place) */
	outq_drop(&out);
	rx = session_new(&p, pool, outq_add, &out, &err);
	ck_assert_int_eq(session_send(tx, "hello 01", 8), 0);
	session_update(tx, 101);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_int_eq(session_input(rx, pkt_data(out.q[0]), out.q[0]->len, 102), 0);
	ck_assert_int_eq(session_recv(rx, buf, sizeof(buf)), -EAGAIN); /* sn 1 waits for sn 0 */
	outq_drop(&out);
	session_free(tx);
	session_free(rx);
}
END_TEST

/* ---- live sessions over the simulator ---- */

#define LIVE_MESSAGES 2000

static bool both_done(void *user)
{
	struct kcp_ep *e = user;

	return e[0].received == LIVE_MESSAGES && e[1].received == LIVE_MESSAGES;
}

struct live {
	enum crypt_method crypt[2];
	unsigned ds[2], ps[2];
	double loss;
	unsigned change_fec_at; /* messages received by side 1 before both switch FEC; 0 = never */
};

static bool live_step_done(void *user)
{
	struct kcp_ep *e = user;

	return both_done(e) || (e[1].received >= e[1].user_mark && e[1].user_mark != 0);
}

static void run_live(const struct live *lv, struct session_stats st[2])
{
	uint64_t seed = 0xc0ffee ^ ((uint64_t)lv->crypt[0] << 8) ^ ((uint64_t)lv->ds[0] << 16) ^
			((uint64_t)lv->ds[1] << 24);
	struct sim_impair im = {0};
	struct session_params p;
	struct kcp_ep e[2];
	struct duplex *d;
	unsigned max_len = UINT32_MAX;
	bool done;

	im.loss = lv->loss;
	im.delay_us = 20000;
	im.jitter_us = 5000;
	d = duplex_new(&im, &im, seed, 0);
	for (int s = 0; s < 2; s++) {
		session_params_default(&p);
		p.conv = 0x1234;
		p.crypt = lv->crypt[s];
		crypt_kdf_kcptun("test key", 8, p.key);
		p.fec_data = lv->ds[s];
		p.fec_parity = lv->ps[s];
		kcp_params_profile(&p.kcp, "fast3");
		p.kcp.snd_wnd = p.kcp.rcv_wnd = 256;
		kcp_ep_init_session(&e[s], d, s, pool, &p, seed);
		e[s].to_send = LIVE_MESSAGES;
		if ((unsigned)session_mss(p.udp_mtu, p.crypt, p.fec_data > 0) < max_len)
			max_len = (unsigned)session_mss(p.udp_mtu, p.crypt, p.fec_data > 0);
	}
	/* both sides agree on message sizes: the smaller MSS of the two */
	for (int s = 0; s < 2; s++) {
		e[s].min_len = 8;
		e[s].max_len = max_len;
	}
	if (lv->change_fec_at != 0) {
		e[1].user_mark = lv->change_fec_at;
		duplex_run(d, 600ull * 1000000, live_step_done, e);
		ck_assert_int_eq(session_set_fec(e[0].session, 3, 2), 0);
		ck_assert_int_eq(session_set_fec(e[1].session, 3, 2), 0);
		/* messages already queued were cut for the old MSS; new ones follow the new one */
		for (int s = 0; s < 2; s++)
			e[s].max_len = (unsigned)session_mss(1400, lv->crypt[0], true);
		e[1].user_mark = 0;
	}
	done = duplex_run(d, 600ull * 1000000, both_done, e);
	ck_assert_msg(done, "crypt %s fec %u/%u vs %u/%u seed %" PRIu64 ": %u and %u of %d",
		      crypt_method_name(lv->crypt[0]), lv->ds[0], lv->ps[0], lv->ds[1], lv->ps[1],
		      seed, e[0].received, e[1].received, LIVE_MESSAGES);
	for (int s = 0; s < 2; s++) {
		ck_assert_uint_eq(e[s].bad, 0);
		session_get_stats(e[s].session, &st[s]);
		ck_assert_uint_eq(st[s].in_errs, 0);
		kcp_ep_fini(&e[s]);
	}
	duplex_free(d);
}

START_TEST(session_every_crypt_and_fec_survives_10pct_loss)
{
	static const enum crypt_method crypts[] = {CRYPT_NULL,    CRYPT_NONE,    CRYPT_AES_128,
						   CRYPT_AES_192, CRYPT_AES_256, CRYPT_AES_128_GCM,
						   CRYPT_SALSA20};
	static const unsigned fec[][2] = {{0, 0}, {10, 3}, {3, 2}};
	size_t c = (size_t)_i / 3, f = (size_t)_i % 3;
	struct live lv = {{crypts[c], crypts[c]}, {fec[f][0], fec[f][0]}, {fec[f][1], fec[f][1]},
			  0.10, 0};
	struct session_stats st[2];

	run_live(&lv, st);
	for (int s = 0; s < 2; s++) {
		if (fec[f][0] != 0) {
			ck_assert_uint_gt(st[s].fec_rx.recovered, 0);
			ck_assert_uint_gt(st[s].fec_tx.parity_sent, 0);
		} else {
			ck_assert_uint_eq(st[s].fec_rx.recovered, 0);
		}
		ck_assert_uint_gt(st[s].kcp.retrans_segs, 0);
	}
}
END_TEST

/* kcp-go accepts FEC packets with FEC off and plain ones with FEC on; so do we. */
START_TEST(session_fec_mismatch_is_tolerated_both_ways)
{
	struct live lv = {{CRYPT_AES_128, CRYPT_AES_128}, {10, 0}, {3, 0}, 0.0, 0};
	struct session_stats st[2];

	run_live(&lv, st);
	ck_assert_uint_gt(st[1].fec_parity_ignored, 0); /* side 1 has FEC off */
	ck_assert_uint_gt(st[0].fec_tx.parity_sent, 0);
	ck_assert_uint_eq(st[1].fec_tx.parity_sent, 0);
}
END_TEST

START_TEST(session_fec_changes_live_without_losing_messages)
{
	struct live lv = {{CRYPT_AES_256, CRYPT_AES_256}, {10, 10}, {3, 3}, 0.05, 500};
	struct session_stats st[2];

	run_live(&lv, st);
	ck_assert_uint_gt(st[0].fec_rx.recovered, 0);
}
END_TEST

START_TEST(session_rejects_short_and_tampered_datagrams_and_counts_them)
{
	struct session_params p;
	struct session *tx, *rx;
	struct outq out = {0};
	struct session_stats st;
	uint8_t junk[100];
	int err;

	session_params_default(&p);
	p.fec_data = 10;
	p.fec_parity = 3;
	tx = session_new(&p, pool, outq_add, &out, &err);
	rx = session_new(&p, pool, outq_add, &out, &err);
	memset(junk, 0x41, sizeof(junk));
	ck_assert_int_eq(session_input(rx, junk, 10, 0), KC_ESHORT);
	ck_assert_int_eq(session_input(rx, junk, sizeof(junk), 0), KC_EAUTH);
	session_send(tx, "payload!", 8);
	session_update(tx, 0);
	ck_assert_uint_eq(out.n, 1);
	pkt_data(out.q[0])[30] ^= 1; /* one flipped bit */
	ck_assert_int_eq(session_input(rx, pkt_data(out.q[0]), out.q[0]->len, 1), KC_EAUTH);
	outq_drop(&out);
	session_get_stats(rx, &st);
	ck_assert_uint_eq(st.in_pkts, 3);
	ck_assert_uint_eq(st.in_errs, 3);
	ck_assert_uint_eq(st.in_csum_errs, 3);
	ck_assert_uint_eq(st.kcp.in_pkts, 0);
	ck_assert_uint_eq(st.fec_rx.data_received, 0);
	session_free(tx);
	session_free(rx);
}
END_TEST

START_TEST(session_one_segment_refuses_messages_longer_than_mss)
{
	struct session_params p;
	struct session *s;
	struct outq out = {0};
	uint8_t m[1500] = {0};
	int err, mss;

	session_params_default(&p);
	s = session_new(&p, pool, outq_add, &out, &err);
	mss = session_mss(1400, CRYPT_AES_256, false);
	ck_assert_int_eq(mss, 1356);
	ck_assert_int_eq(session_send(s, m, (size_t)mss + 1), KC_EMSGSIZE);
	ck_assert_int_eq(session_send(s, m, (size_t)mss), 0);
	session_free(s);
	p.one_segment = false;
	s = session_new(&p, pool, outq_add, &out, &err);
	ck_assert_int_eq(session_send(s, m, (size_t)mss + 1), 0);
	session_free(s);
}
END_TEST

START_TEST(session_new_rejects_impossible_settings)
{
	struct session_params p;
	struct outq out = {0};
	int err = 0;

	session_params_default(&p);
	p.fec_data = 10; /* parity 0 */
	ck_assert_ptr_null(session_new(&p, pool, outq_add, &out, &err));
	ck_assert_int_eq(err, -EINVAL);
	session_params_default(&p);
	p.udp_mtu = 40;
	ck_assert_ptr_null(session_new(&p, pool, outq_add, &out, &err));
	session_params_default(&p);
	p.udp_mtu = 9000; /* larger than the pool's buffers */
	ck_assert_ptr_null(session_new(&p, pool, outq_add, &out, &err));
	session_params_default(&p);
	p.fec_data = 200;
	p.fec_parity = 100; /* more than 255 shards */
	ck_assert_ptr_null(session_new(&p, pool, outq_add, &out, &err));
}
END_TEST

/* A listener learns conv, una and the first PUSH's sn from an opened body, inside FEC too. */
START_TEST(session_peek_reads_conv_una_and_first_push)
{
	struct session_params p;
	struct session *tx;
	struct outq out = {0};
	struct session_peek pk;
	uint8_t *body;
	size_t blen;
	struct crypt *c;
	int err;

	session_params_default(&p);
	p.conv = 0xabcdef01;
	p.fec_data = 1;
	p.fec_parity = 1; /* every data packet is followed by a parity packet */
	kcp_params_profile(&p.kcp, "fast3");
	tx = session_new(&p, pool, outq_add, &out, &err);
	c = crypt_new(p.crypt, p.key, &err);
	ck_assert_int_eq(session_send(tx, "abc", 3), 0);
	session_update(tx, 5);
	ck_assert_uint_eq(out.n, 2);
	ck_assert_int_eq(session_open(c, pkt_data(out.q[0]), out.q[0]->len, &body, &blen), 0);
	ck_assert_int_eq(session_peek(body, blen, &pk), 0);
	ck_assert_uint_eq(pk.conv, 0xabcdef01);
	ck_assert_uint_eq(pk.una, 0);
	ck_assert(pk.has_push);
	ck_assert_uint_eq(pk.push_sn, 0);
	ck_assert_int_eq(session_open(c, pkt_data(out.q[1]), out.q[1]->len, &body, &blen), 0);
	ck_assert_int_eq(session_peek(body, blen, &pk), KC_EFEC); /* parity has no conv */
	ck_assert_int_eq(session_peek(body, 3, &pk), KC_ESHORT);
	{
		/* the opened path counts the datagram's wire bytes like session_input() */
		struct session *rx = session_new(&p, pool, outq_add, &out, &err);
		struct session_stats st;

		/* body is the parity packet opened above */
		session_get_stats(rx, &st);
		ck_assert_uint_eq(st.in_bytes, 0);
		session_input_opened(rx, body, blen, 1234, 6);
		session_get_stats(rx, &st);
		ck_assert_uint_eq(st.in_pkts, 1);
		ck_assert_uint_eq(st.in_bytes, 1234);
		session_free(rx);
	}
	outq_drop(&out);
	crypt_free(c);
	session_free(tx);
}
END_TEST

/* A listener adopts a session for another owner: later output reaches the new user pointer. */
START_TEST(session_set_user_redirects_output)
{
	struct session_params p;
	struct session *s;
	struct outq first = {0}, second = {0};
	int err;

	session_params_default(&p);
	kcp_params_profile(&p.kcp, "fast3");
	s = session_new(&p, pool, outq_add, &first, &err);
	session_send(s, "one", 3);
	session_update(s, 1);
	session_set_user(s, &second);
	session_send(s, "two", 3);
	session_update(s, 2);
	ck_assert_uint_eq(first.n, 1);
	ck_assert_uint_eq(second.n, 1);
	outq_drop(&first);
	outq_drop(&second);
	session_free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("session");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, session_mss_matches_kcp_go_for_every_crypt_fec_and_mtu);
	tcase_add_test(tc, session_reads_real_kcp_go_capture_null_nofec);
	tcase_add_test(tc, session_reads_real_kcp_go_capture_none_nofec);
	tcase_add_test(tc, session_reads_real_kcp_go_capture_aes_fec10_3);
	tcase_add_test(tc, session_output_is_framed_like_kcp_go);
	tcase_add_loop_test(tc, session_every_crypt_and_fec_survives_10pct_loss, 0, 7 * 3);
	tcase_add_test(tc, session_fec_mismatch_is_tolerated_both_ways);
	tcase_add_test(tc, session_fec_changes_live_without_losing_messages);
	tcase_add_test(tc, session_rejects_short_and_tampered_datagrams_and_counts_them);
	tcase_add_test(tc, session_one_segment_refuses_messages_longer_than_mss);
	tcase_add_test(tc, session_new_rejects_impossible_settings);
	tcase_add_test(tc, session_peek_reads_conv_una_and_first_push);
	tcase_add_test(tc, session_set_user_redirects_output);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
