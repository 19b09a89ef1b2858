/* FEC: kcp-go 5.6.1's vectors (matrix, groups, recoveries, autotune, a real capture), then our
 * own claims: any 3 of 13, wraparound, duplicates, expiry, bounded memory, malformed input.
 *
 * The allocator is wrapped (-Wl,--wrap=malloc,...) so that tests can prove the packet path
 * allocates nothing after the objects are created. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/erasure_code.h>

#include "kcpcore/error.h"
#include "kcpcore/fec.h"
#include "vectors.h"

/* ---- allocation counter ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t m, size_t n);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t m, size_t n);
void *__wrap_realloc(void *p, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);

/* Allocations made while `watching` (set around library calls only: Check's own assertions
 * allocate too). */
static unsigned long allocs;
static bool watching;

void *__wrap_malloc(size_t n)
{
	allocs += watching;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t m, size_t n)
{
	allocs += watching;
	return __real_calloc(m, n);
}

void *__wrap_realloc(void *p, size_t n)
{
	allocs += watching;
	return __real_realloc(p, n);
}

int __wrap_posix_memalign(void **p, size_t a, size_t n)
{
	allocs += watching;
	return __real_posix_memalign(p, a, n);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
	allocs += watching;
	return __real_aligned_alloc(a, n);
}

/* ---- helpers ---- */

#define SHARD_MAX 1500
#define PKT_MAX	  (FEC_PARITY_HDR + SHARD_MAX)

static uint32_t rng_state = 0x12345678;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One FEC packet of a stream, as the wire carries it. */
struct wpkt {
	uint8_t b[PKT_MAX];
	size_t len;
	uint32_t seqid;
	bool is_data;
	uint8_t kcp[SHARD_MAX]; /* data packets: the KCP bytes */
	size_t kcp_len;
};

/* Encodes payloads of the given lengths (random bytes) with a d/p encoder starting at seqid
 * `start`; fills out[] with data and parity packets in wire order and returns their count. */
static unsigned make_stream(unsigned d, unsigned p, uint32_t start, const size_t *lens,
			    unsigned npayload, struct wpkt *out)
{
	int err = 0;
	struct fec_encoder *enc = fec_encoder_new(d, p, SHARD_MAX, &err);
	unsigned n = 0;

	ck_assert_ptr_nonnull(enc);
	fec_encoder_set_next_seqid(enc, start);
	for (unsigned i = 0; i < npayload; i++) {
		struct wpkt *w = &out[n++];
		int ready;

		for (size_t j = 0; j < lens[i]; j++)
			w->kcp[j] = (uint8_t)rnd();
		w->kcp_len = lens[i];
		memcpy(w->b + FEC_DATA_HDR, w->kcp, lens[i]);
		ready = fec_encoder_encode(enc, w->b, lens[i]);
		ck_assert_int_ge(ready, 0);
		w->len = FEC_DATA_HDR + lens[i];
		w->seqid = le32(w->b);
		w->is_data = true;
		for (int k = 0; k < ready; k++) {
			struct wpkt *q = &out[n++];
			size_t len;
			const uint8_t *par = fec_encoder_parity(enc, (unsigned)k, &len);

			ck_assert_ptr_nonnull(par);
			memcpy(q->b, par, len);
			q->len = len;
			q->seqid = le32(par);
			q->is_data = false;
			q->kcp_len = 0;
		}
	}
	fec_encoder_free(enc);
	return n;
}

static size_t rnd_len(void)
{
	return 1 + rnd() % (SHARD_MAX - 2);
}

/* Feeds one packet; appends what it recovered to got[]/got_len[] (copies). */
static int feed(struct fec_decoder *dec, const struct wpkt *w, uint32_t now_ms,
		uint8_t (*got)[SHARD_MAX], size_t *got_len, unsigned *ngot)
{
	int rc;

	watching = true;
	rc = fec_decoder_input(dec, w->b, w->len, now_ms);
	watching = false;
	for (int i = 0; i < rc; i++) {
		size_t len;
		const uint8_t *r;

		watching = true;
		r = fec_decoder_recovered(dec, (unsigned)i, &len);
		watching = false;
		ck_assert_ptr_nonnull(r);
		if (got != NULL) {
			memcpy(got[*ngot], r, len);
			got_len[*ngot] = len;
		}
		(*ngot)++;
	}
	return rc;
}

/* ---- the code ---- */

START_TEST(isal_field_is_the_klauspost_field_0x11d)
{
	static const uint8_t exp[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20,
				      0x40, 0x80, 0x1d, 0x3a, 0x74, 0xe8};
	uint8_t e = 1;

	for (unsigned i = 0; i < sizeof(exp); i++) {
		ck_assert_uint_eq(e, exp[i]);
		e = gf_mul(e, 2);
	}
	/* 2 generates the whole multiplicative group */
	for (unsigned i = 12; i < 255; i++) {
		ck_assert_uint_ne(e, 1);
		e = gf_mul(e, 2);
	}
	ck_assert_uint_eq(e, 1);
}
END_TEST

START_TEST(rs_parity_rows_match_klauspost_vectors)
{
	json_t *v = vec_load("rs_matrix.json");
	json_t *mats = json_object_get(v, "matrices");
	size_t i;
	json_t *m;

	ck_assert_uint_ge(json_array_size(mats), 4);
	json_array_foreach(mats, i, m)
	{
		unsigned d = (unsigned)json_integer_value(json_object_get(m, "data_shards"));
		unsigned p = (unsigned)json_integer_value(json_object_get(m, "parity_shards"));
		json_t *rows = json_object_get(m, "parity_rows_hex");
		int err = 0;
		struct fec_rs *rs = fec_rs_new(d, p, &err);
		uint8_t got[FEC_MAX_SHARDS * FEC_MAX_SHARDS];

		ck_assert_ptr_nonnull(rs);
		ck_assert_uint_eq(json_array_size(rows), p);
		fec_rs_parity_rows(rs, got);
		for (unsigned r = 0; r < p; r++) {
			size_t len;
			uint8_t *want = vec_hex(json_string_value(json_array_get(rows, r)), &len);

			ck_assert_uint_eq(len, d);
			ck_assert_mem_eq(got + r * d, want, d);
			free(want);
		}
		fec_rs_free(rs);
	}
	json_decref(v);
}
END_TEST

/* The spec's construction, written plainly: V[r][c] = r^c, T = V[0..d), M = V * T^-1. */
static uint8_t naive_v[FEC_MAX_SHARDS][FEC_MAX_SHARDS];
static uint8_t naive_t[FEC_MAX_SHARDS][2 * FEC_MAX_SHARDS];

/* Fills naive_v for n rows and d columns and naive_t[.][d..2d) with T^-1 (Gauss-Jordan). */
static void naive_invert(unsigned d, unsigned n)
{
	for (unsigned r = 0; r < n; r++) {
		uint8_t x = 1;

		for (unsigned c = 0; c < d; c++) {
			naive_v[r][c] = r == 0 ? (c == 0) : x;
			x = gf_mul(x, (uint8_t)r);
		}
	}
	for (unsigned r = 0; r < d; r++)
		for (unsigned c = 0; c < 2 * d; c++)
			naive_t[r][c] = c < d ? naive_v[r][c] : (c - d == r);
	for (unsigned c = 0; c < d; c++) {
		unsigned piv = c;
		uint8_t inv;

		while (piv < d && naive_t[piv][c] == 0)
			piv++;
		ck_assert_uint_lt(piv, d);
		for (unsigned k = 0; k < 2 * d; k++) {
			uint8_t tmp = naive_t[c][k];

			naive_t[c][k] = naive_t[piv][k];
			naive_t[piv][k] = tmp;
		}
		inv = gf_inv(naive_t[c][c]);
		for (unsigned k = 0; k < 2 * d; k++)
			naive_t[c][k] = gf_mul(naive_t[c][k], inv);
		for (unsigned r = 0; r < d; r++) {
			uint8_t f = naive_t[r][c];

			if (r == c || f == 0)
				continue;
			for (unsigned k = 0; k < 2 * d; k++)
				naive_t[r][k] ^= gf_mul(f, naive_t[c][k]);
		}
	}
}

static void naive_parity_rows(unsigned d, unsigned p, uint8_t *rows)
{
	for (unsigned r = 0; r < p; r++)
		for (unsigned c = 0; c < d; c++) {
			uint8_t s = 0;

			for (unsigned k = 0; k < d; k++)
				s ^= gf_mul(naive_v[d + r][k], naive_t[k][d + c]);
			rows[r * d + c] = s;
		}
}

START_TEST(rs_parity_rows_equal_vandermonde_made_systematic)
{
	static const unsigned big[][2] = {{127, 128}, {128, 127}, {200, 55},
					  {1, 254},   {254, 1},	  {100, 50}};
	static uint8_t want[FEC_MAX_SHARDS * FEC_MAX_SHARDS], got[FEC_MAX_SHARDS * FEC_MAX_SHARDS];
	unsigned checked = 0;

	for (unsigned d = 1; d <= 48; d++) {
		naive_invert(d, d + 16);
		for (unsigned p = 1; p <= 16; p++) {
			int err = 0;
			struct fec_rs *rs = fec_rs_new(d, p, &err);

			ck_assert_ptr_nonnull(rs);
			naive_parity_rows(d, p, want);
			fec_rs_parity_rows(rs, got);
			ck_assert_msg(memcmp(want, got, (size_t)d * p) == 0,
				      "rows differ for %u/%u", d, p);
			fec_rs_free(rs);
			checked++;
		}
	}
	for (unsigned i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		unsigned d = big[i][0], p = big[i][1];
		int err = 0;
		struct fec_rs *rs = fec_rs_new(d, p, &err);

		ck_assert_ptr_nonnull(rs);
		naive_invert(d, d + p);
		naive_parity_rows(d, p, want);
		fec_rs_parity_rows(rs, got);
		ck_assert_msg(memcmp(want, got, (size_t)d * p) == 0, "rows differ for %u/%u", d, p);
		fec_rs_free(rs);
		checked++;
	}
	ck_assert_uint_eq(checked, 48 * 16 + 6);
}
END_TEST

/* Parity computed byte by byte from the rows, for any length (ISA-L's short-length paths). */
START_TEST(rs_encode_equals_naive_dot_products_at_every_length)
{
	static const unsigned cfg[][2] = {{1, 1}, {3, 2}, {10, 3}, {20, 10}, {5, 17}};

	for (unsigned c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		unsigned d = cfg[c][0], p = cfg[c][1];
		int err = 0;
		struct fec_rs *rs = fec_rs_new(d, p, &err);
		uint8_t rows[FEC_MAX_SHARDS * 32];
		static uint8_t buf[40][300];
		uint8_t *sh[40];

		ck_assert_ptr_nonnull(rs);
		fec_rs_parity_rows(rs, rows);
		for (unsigned i = 0; i < d + p; i++)
			sh[i] = buf[i];
		for (size_t len = 1; len <= 300; len += (len < 80 ? 1 : 37)) {
			for (unsigned i = 0; i < d; i++)
				for (size_t b = 0; b < len; b++)
					buf[i][b] = (uint8_t)rnd();
			ck_assert_int_eq(fec_rs_encode(rs, sh, len), 0);
			for (unsigned r = 0; r < p; r++)
				for (size_t b = 0; b < len; b++) {
					uint8_t s = 0;

					for (unsigned i = 0; i < d; i++)
						s ^= gf_mul(rows[r * d + i], buf[i][b]);
					ck_assert_uint_eq(buf[d + r][b], s);
				}
		}
		fec_rs_free(rs);
	}
}
END_TEST

START_TEST(rs_reconstruct_rebuilds_lost_data_of_large_codes)
{
	static const unsigned cfg[][2] = {{20, 10}, {100, 50}, {128, 127}, {3, 40}, {60, 4}};
	enum { LEN = 97 };

	for (unsigned c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		unsigned d = cfg[c][0], p = cfg[c][1], n = d + p;
		int err = 0;
		struct fec_rs *rs = fec_rs_new(d, p, &err);
		static uint8_t buf[FEC_MAX_SHARDS][LEN], keep[FEC_MAX_SHARDS][LEN];
		uint8_t *sh[FEC_MAX_SHARDS], present[FEC_MAX_SHARDS];

		ck_assert_ptr_nonnull(rs);
		for (unsigned i = 0; i < n; i++)
			sh[i] = buf[i];
		for (unsigned round = 0; round < 20; round++) {
			unsigned lose = round == 0 ? (p < d ? p : d) : 1 + rnd() % (p < d ? p : d);
			unsigned lost = 0, lost_data = 0;

			for (unsigned i = 0; i < d; i++)
				for (unsigned b = 0; b < LEN; b++)
					buf[i][b] = (uint8_t)rnd();
			ck_assert_int_eq(fec_rs_encode(rs, sh, LEN), 0);
			memcpy(keep, buf, sizeof(buf));
			memset(present, 1, n);
			while (lost < lose) {
				unsigned k = rnd() % n;

				if (!present[k])
					continue;
				present[k] = 0;
				memset(buf[k], 0xee, LEN);
				lost++;
				lost_data += k < d;
			}
			ck_assert_int_eq(fec_rs_reconstruct(rs, sh, present, LEN), (int)lost_data);
			for (unsigned i = 0; i < d; i++)
				ck_assert_mem_eq(buf[i], keep[i], LEN);
		}
		/* one more loss than parity: refused */
		memset(present, 1, n);
		for (unsigned i = 0; i <= p && i < n; i++)
			present[i] = 0;
		if (p + 1 <= d)
			ck_assert_int_eq(fec_rs_reconstruct(rs, sh, present, LEN), -EINVAL);
		fec_rs_free(rs);
	}
}
END_TEST

/* ---- kcp-go's groups (fec.json) ---- */

struct vgroup {
	unsigned d, p, offset;
	uint32_t start;
	unsigned npay;
	json_t *g;
};

static void vgroup_get(json_t *g, struct vgroup *vg)
{
	vg->g = g;
	vg->d = (unsigned)json_integer_value(json_object_get(g, "data_shards"));
	vg->p = (unsigned)json_integer_value(json_object_get(g, "parity_shards"));
	vg->offset = (unsigned)json_integer_value(json_object_get(g, "offset"));
	vg->start = (uint32_t)json_integer_value(json_object_get(g, "start_seqid"));
	vg->npay = (unsigned)json_array_size(json_object_get(g, "payloads_hex"));
}

static uint8_t *vhex_at(json_t *g, const char *array, size_t i, const char *member, size_t *len)
{
	json_t *a = json_array_get(json_object_get(g, array), i);

	ck_assert_ptr_nonnull(a);
	if (member != NULL)
		return vec_hex_member(a, member, len);
	return vec_hex(json_string_value(a), len);
}

START_TEST(encoder_reproduces_kcp_go_groups_byte_for_byte)
{
	json_t *v = vec_load("fec.json");
	json_t *groups = json_object_get(v, "groups");
	size_t gi;
	json_t *g;

	ck_assert_uint_eq(json_array_size(groups), 7);
	json_array_foreach(groups, gi, g)
	{
		struct vgroup vg;
		int err = 0;
		struct fec_encoder *enc;
		unsigned npar = 0;

		vgroup_get(g, &vg);
		enc = fec_encoder_new(vg.d, vg.p, SHARD_MAX, &err);
		ck_assert_ptr_nonnull(enc);
		fec_encoder_set_next_seqid(enc, vg.start);
		for (unsigned i = 0; i < vg.npay; i++) {
			size_t plen, wlen;
			uint8_t *pay = vhex_at(g, "payloads_hex", i, NULL, &plen);
			uint8_t *want = vhex_at(g, "data_packets", i, "hex", &wlen);
			uint8_t buf[20 + PKT_MAX] = {0};
			int ready;

			memcpy(buf + vg.offset + FEC_DATA_HDR, pay, plen);
			ready = fec_encoder_encode(enc, buf + vg.offset, plen);
			ck_assert_uint_eq(wlen, vg.offset + FEC_DATA_HDR + plen);
			ck_assert_mem_eq(buf, want, wlen);
			ck_assert_int_eq(ready, (i + 1) % vg.d == 0 ? (int)vg.p : 0);
			for (int k = 0; k < ready; k++) {
				size_t len, plen2;
				const uint8_t *par = fec_encoder_parity(enc, (unsigned)k, &len);
				uint8_t *wp = vhex_at(g, "parity_packets", npar++, "hex", &plen2);

				ck_assert_ptr_nonnull(par);
				ck_assert_uint_eq(len + vg.offset, plen2);
				ck_assert_mem_eq(par, wp + vg.offset, len);
				free(wp);
			}
			ck_assert_ptr_null(fec_encoder_parity(enc, (unsigned)ready, &wlen));
			free(pay);
			free(want);
		}
		ck_assert_uint_eq(npar, json_array_size(json_object_get(g, "parity_packets")));
		ck_assert_uint_eq(fec_encoder_stats(enc)->data_sent, vg.npay);
		ck_assert_uint_eq(fec_encoder_stats(enc)->parity_sent, npar);
		fec_encoder_free(enc);
	}
	json_decref(v);
}
END_TEST

START_TEST(rs_encode_reproduces_kcp_go_rs_parity)
{
	json_t *v = vec_load("fec.json");
	size_t gi;
	json_t *g;

	json_array_foreach(json_object_get(v, "groups"), gi, g)
	{
		struct vgroup vg;
		int err = 0;
		struct fec_rs *rs;
		json_t *shards = json_object_get(g, "rs_shards");
		json_t *parity = json_object_get(g, "rs_parity");

		vgroup_get(g, &vg);
		rs = fec_rs_new(vg.d, vg.p, &err);
		ck_assert_ptr_nonnull(rs);
		for (size_t k = 0; k < json_array_size(shards); k++) {
			uint8_t *sh[FEC_MAX_SHARDS];
			size_t len = 0;

			for (unsigned i = 0; i < vg.d; i++) {
				size_t l;

				sh[i] = vec_hex(
				    json_string_value(json_array_get(json_array_get(shards, k), i)),
				    &l);
				len = l;
			}
			for (unsigned r = 0; r < vg.p; r++)
				sh[vg.d + r] = malloc(len);
			ck_assert_int_eq(fec_rs_encode(rs, sh, len), 0);
			for (unsigned r = 0; r < vg.p; r++) {
				size_t l;
				uint8_t *want = vec_hex(
				    json_string_value(json_array_get(json_array_get(parity, k), r)),
				    &l);

				ck_assert_uint_eq(l, len);
				ck_assert_mem_eq(sh[vg.d + r], want, len);
				free(want);
			}
			for (unsigned i = 0; i < vg.d + vg.p; i++)
				free(sh[i]);
		}
		fec_rs_free(rs);
	}
	json_decref(v);
}
END_TEST

START_TEST(decoder_recovers_kcp_go_listed_losses_as_soon_as_d_shards_arrive)
{
	json_t *v = vec_load("fec.json");
	size_t gi;
	json_t *g;

	json_array_foreach(json_object_get(v, "groups"), gi, g)
	{
		struct vgroup vg;
		json_t *dec_v = json_object_get(g, "decode");
		json_t *dropped = json_object_get(dec_v, "dropped_data_index");
		json_t *recovered = json_object_get(dec_v, "recovered_hex");
		unsigned grp = (unsigned)json_integer_value(json_object_get(dec_v, "group"));
		bool drop[FEC_MAX_SHARDS] = {false};
		int err = 0;
		struct fec_decoder *dec;
		unsigned fed = 0, got = 0;

		vgroup_get(g, &vg);
		dec = fec_decoder_new(vg.d, vg.p, SHARD_MAX, 3, &err);
		ck_assert_ptr_nonnull(dec);
		for (size_t i = 0; i < json_array_size(dropped); i++)
			drop[json_integer_value(json_array_get(dropped, i))] = true;
		for (unsigned k = 0; k < vg.d + vg.p; k++) {
			bool is_data = k < vg.d;
			size_t len;
			uint8_t *pkt =
			    is_data
				? vhex_at(g, "data_packets", grp * vg.d + k, "hex", &len)
				: vhex_at(g, "parity_packets", grp * vg.p + k - vg.d, "hex", &len);
			int rc;

			if (is_data && drop[k]) {
				free(pkt);
				continue;
			}
			rc = fec_decoder_input(dec, pkt + vg.offset, len - vg.offset, 1000);
			fed++;
			/* nothing until the d-th shard, everything then */
			ck_assert_int_eq(rc, fed == vg.d ? (int)json_array_size(recovered) : 0);
			for (int i = 0; i < rc; i++) {
				size_t rlen, wlen, plen;
				const uint8_t *r = fec_decoder_recovered(dec, (unsigned)i, &rlen);
				uint8_t *want =
				    vec_hex(json_string_value(json_array_get(recovered, i)), &wlen);
				unsigned idx = 0;
				uint8_t *pay;

				ck_assert_ptr_nonnull(r);
				ck_assert_uint_ge(wlen, 2);
				ck_assert_uint_eq(rlen, le16(want) - 2u);
				ck_assert_mem_eq(r, want + 2, rlen);
				/* and it is the payload that was dropped, in slot order */
				for (unsigned k2 = 0, seen = 0; k2 < vg.d; k2++)
					if (drop[k2] && seen++ == (unsigned)i)
						idx = k2;
				pay = vhex_at(g, "payloads_hex", grp * vg.d + idx, NULL, &plen);
				ck_assert_uint_eq(plen, rlen);
				ck_assert_mem_eq(pay, r, rlen);
				free(pay);
				free(want);
				got++;
			}
			free(pkt);
		}
		ck_assert_uint_eq(got, json_array_size(dropped));
		ck_assert_uint_eq(fec_decoder_stats(dec)->recovered, got);
		/* the parity arriving after the rebuild is not kept */
		ck_assert_uint_eq(fec_decoder_cached(dec), 0);
		fec_decoder_free(dec);
	}
	json_decref(v);
}
END_TEST

/* ---- autotune (autotune.json) ---- */

START_TEST(autotune_switches_to_10_3_at_seqid_24_after_two_garbage_recoveries)
{
	json_t *v = vec_load("autotune.json");
	json_t *steps = json_object_get(v, "steps");
	static struct wpkt s[64];
	size_t lens[40];
	int err = 0;
	struct fec_decoder *dec = fec_decoder_new(1, 1, SHARD_MAX, 3, &err);
	unsigned n, garbage = 0;
	size_t i;
	json_t *st;

	ck_assert_ptr_nonnull(dec);
	for (i = 0; i < 40; i++)
		lens[i] = 30 + rnd() % 300;
	n = make_stream(10, 3, 0, lens, 40, s);
	ck_assert_uint_ge(n, json_array_size(steps));
	json_array_foreach(steps, i, st)
	{
		uint64_t errs = fec_decoder_stats(dec)->recover_errors;
		unsigned dd, pp;
		int rc;

		ck_assert_uint_eq(s[i].seqid, json_integer_value(json_object_get(st, "seqid")));
		ck_assert_str_eq(s[i].is_data ? "data" : "parity",
				 json_string_value(json_object_get(st, "type")));
		rc = fec_decoder_input(dec, s[i].b, s[i].len, 0);
		ck_assert_int_ge(rc, 0);
		/* kcp-go counts shards returned; we hand back those whose size field is sane */
		ck_assert_uint_eq((uint64_t)rc + fec_decoder_stats(dec)->recover_errors - errs,
				  (uint64_t)json_integer_value(json_object_get(st, "recovered")));
		garbage += (unsigned)json_integer_value(json_object_get(st, "recovered"));
		fec_decoder_shards(dec, &dd, &pp);
		ck_assert_uint_eq(dd,
				  json_integer_value(json_object_get(st, "dec_data_shards_after")));
		ck_assert_uint_eq(
		    pp, json_integer_value(json_object_get(st, "dec_parity_shards_after")));
	}
	ck_assert_uint_eq(garbage, 2);
	ck_assert_uint_eq(fec_decoder_stats(dec)->retunes, 1);
	fec_decoder_free(dec);
	json_decref(v);
}
END_TEST

START_TEST(decoder_0_0_decodes_nothing_until_it_detects_the_counts)
{
	static struct wpkt s[13 * 8];
	size_t lens[80];
	int err = 0;
	struct fec_decoder *dec = fec_decoder_new(0, 0, SHARD_MAX, 3, &err);
	unsigned n, dd = 9, pp = 9, ngot = 0;
	static uint8_t got[4][SHARD_MAX];
	size_t got_len[4];

	ck_assert_ptr_nonnull(dec);
	fec_decoder_shards(dec, &dd, &pp);
	ck_assert_uint_eq(dd, 0);
	ck_assert_uint_eq(pp, 0);
	for (unsigned i = 0; i < 80; i++)
		lens[i] = rnd_len();
	n = make_stream(10, 3, 0, lens, 80, s);
	ck_assert_uint_eq(n, 104);
	/* group 0 loses data 0: unknown counts, so no recovery */
	for (unsigned i = 1; i < 13; i++) {
		ck_assert_int_eq(feed(dec, &s[i], 0, NULL, NULL, &ngot), 0);
		fec_decoder_shards(dec, &dd, &pp);
		ck_assert_uint_eq(dd, 0);
	}
	/* detection needs a data run and a parity run each framed by the other kind: seqid 23 */
	for (unsigned i = 13; i < 24; i++) {
		ck_assert_int_eq(feed(dec, &s[i], 0, NULL, NULL, &ngot), 0);
		fec_decoder_shards(dec, &dd, &pp);
		ck_assert_uint_eq(dd, i < 23 ? 0 : 10);
		ck_assert_uint_eq(pp, i < 23 ? 0 : 3);
	}
	/* from now on it decodes: group 3 loses data 40 and 45 */
	for (unsigned i = 24; i < 52; i++)
		if (i != 40 && i != 45)
			feed(dec, &s[i], 0, got, got_len, &ngot);
	ck_assert_uint_eq(ngot, 2);
	ck_assert_uint_eq(got_len[0], s[40].kcp_len);
	ck_assert_mem_eq(got[0], s[40].kcp, got_len[0]);
	ck_assert_uint_eq(got_len[1], s[45].kcp_len);
	ck_assert_mem_eq(got[1], s[45].kcp, got_len[1]);
	ck_assert_uint_eq(fec_decoder_stats(dec)->retunes, 1);
	fec_decoder_free(dec);
}
END_TEST

START_TEST(decoder_retunes_when_the_stream_contradicts_its_counts)
{
	static struct wpkt s[5 * 40];
	size_t lens[120];
	int err = 0;
	struct fec_decoder *dec = fec_decoder_new(10, 3, SHARD_MAX, 3, &err);
	unsigned n, dd, pp, ngot = 0, lost = 0;
	static uint8_t got[64][SHARD_MAX];
	size_t got_len[64];
	unsigned lost_idx[64];

	ck_assert_ptr_nonnull(dec);
	for (unsigned i = 0; i < 120; i++)
		lens[i] = rnd_len();
	n = make_stream(3, 2, 0, lens, 120, s);
	ck_assert_uint_eq(n, 200);
	/* three clean groups are enough to see runs of 3 data and 2 parity */
	for (unsigned i = 0; i < 15; i++)
		feed(dec, &s[i], 0, NULL, NULL, &ngot);
	fec_decoder_shards(dec, &dd, &pp);
	ck_assert_uint_eq(dd, 3);
	ck_assert_uint_eq(pp, 2);
	/* then every later group loses one data packet and is rebuilt */
	ngot = 0;
	for (unsigned i = 15; i < n; i++) {
		if (s[i].is_data && s[i].seqid % 5 == (s[i].seqid / 5) % 3) {
			lost_idx[lost++] = i;
			continue;
		}
		feed(dec, &s[i], 0, got, got_len, &ngot);
	}
	ck_assert_uint_eq(ngot, lost);
	for (unsigned k = 0; k < lost; k++) {
		ck_assert_uint_eq(got_len[k], s[lost_idx[k]].kcp_len);
		ck_assert_mem_eq(got[k], s[lost_idx[k]].kcp, got_len[k]);
	}
	ck_assert_uint_eq(fec_decoder_stats(dec)->retunes, 1);
	/* the groups cached before the retune were complete under 3/2: freed, not lost */
	ck_assert_uint_eq(fec_decoder_stats(dec)->unrecoverable, 0);
	fec_decoder_free(dec);
}
END_TEST

/* ---- the real capture (capture_aes_fec10_3.decoded.json) ---- */

struct cap_group {
	struct wpkt pkt[13];
};

/* Complete 10/3 groups of one direction of the capture, FEC packets only. */
static unsigned capture_groups(json_t *v, const char *dir, struct cap_group *out, unsigned max)
{
	static struct wpkt all[128];
	unsigned nall = 0, ng = 0;
	size_t i;
	json_t *dg;

	json_array_foreach(json_object_get(v, "datagrams"), i, dg)
	{
		size_t len;
		uint8_t *pt;
		struct wpkt *w;

		if (strcmp(json_string_value(json_object_get(dg, "dir")), dir) != 0 ||
		    json_object_get(dg, "fec") == NULL)
			continue;
		pt = vec_hex_member(dg, "plaintext_hex", &len);
		ck_assert_uint_gt(len, 20 + FEC_PARITY_HDR);
		ck_assert_uint_lt(nall, 128);
		w = &all[nall++];
		w->len = len - 20;
		memcpy(w->b, pt + 20, w->len);
		w->seqid = le32(w->b);
		w->is_data = fec_packet_type(w->b, w->len) == FEC_TYPE_DATA;
		w->kcp_len = w->is_data ? w->len - FEC_DATA_HDR : 0;
		memcpy(w->kcp, w->b + FEC_DATA_HDR, w->kcp_len);
		free(pt);
	}
	for (unsigned a = 0; a < nall; a++) {
		uint32_t base = all[a].seqid;
		unsigned have = 0;

		if (base % 13 != 0)
			continue;
		if (ng == max)
			break;
		for (unsigned b = 0; b < nall; b++) {
			if (all[b].seqid - base < 13) {
				out[ng].pkt[all[b].seqid - base] = all[b];
				have++;
			}
		}
		if (have == 13)
			ng++;
	}
	return ng;
}

START_TEST(capture_groups_recover_every_pattern_of_up_to_3_lost_data_packets)
{
	json_t *v = vec_load("capture_aes_fec10_3.decoded.json");
	static struct cap_group groups[16];
	static const char *dirs[] = {"c2s", "s2c"};
	unsigned total_groups = 0, patterns = 0;

	for (unsigned di = 0; di < 2; di++) {
		unsigned ng = capture_groups(v, dirs[di], groups, 16);

		total_groups += ng;
		for (unsigned g = 0; g < ng; g++) {
			struct cap_group *cg = &groups[g];
			int err = 0;
			struct fec_encoder *enc = fec_encoder_new(10, 3, SHARD_MAX, &err);
			int ready = 0;

			/* our encoder makes the same parity from the captured data */
			fec_encoder_set_next_seqid(enc, cg->pkt[0].seqid);
			for (unsigned k = 0; k < 10; k++) {
				uint8_t b[PKT_MAX];

				ck_assert(cg->pkt[k].is_data);
				memcpy(b + FEC_DATA_HDR, cg->pkt[k].kcp, cg->pkt[k].kcp_len);
				ready = fec_encoder_encode(enc, b, cg->pkt[k].kcp_len);
				ck_assert_mem_eq(b, cg->pkt[k].b, cg->pkt[k].len);
			}
			ck_assert_int_eq(ready, 3);
			for (unsigned r = 0; r < 3; r++) {
				size_t len;
				const uint8_t *par = fec_encoder_parity(enc, r, &len);

				ck_assert_uint_eq(len, cg->pkt[10 + r].len);
				ck_assert_mem_eq(par, cg->pkt[10 + r].b, len);
			}
			fec_encoder_free(enc);

			/* every set of 1..3 lost data packets */
			for (unsigned mask = 1; mask < 1u << 10; mask++) {
				unsigned lost = (unsigned)__builtin_popcount(mask), ngot = 0, w = 0;
				struct fec_decoder *dec;
				static uint8_t got[3][SHARD_MAX];
				size_t got_len[3];

				if (lost > 3)
					continue;
				dec = fec_decoder_new(10, 3, SHARD_MAX, 3, &err);
				for (unsigned k = 0; k < 13; k++)
					if (k >= 10 || !(mask & 1u << k))
						feed(dec, &cg->pkt[k], 0, got, got_len, &ngot);
				ck_assert_uint_eq(ngot, lost);
				for (unsigned k = 0; k < 10; k++) {
					if (!(mask & 1u << k))
						continue;
					ck_assert_uint_eq(got_len[w], cg->pkt[k].kcp_len);
					ck_assert_mem_eq(got[w], cg->pkt[k].kcp, got_len[w]);
					w++;
				}
				fec_decoder_free(dec);
				patterns++;
			}
		}
	}
	/* the capture's summary: 4 complete groups c2s, 2 s2c */
	ck_assert_uint_eq(total_groups, 6);
	ck_assert_uint_eq(patterns, 6 * 175);
	json_decref(v);
}
END_TEST

/* ---- our own claims ---- */

START_TEST(fec_recovers_any_3_of_13)
{
	static struct wpkt s[13];
	size_t lens[10];
	unsigned patterns = 0;

	for (unsigned i = 0; i < 10; i++)
		lens[i] = i == 3 ? 1 : rnd_len(); /* one tiny shard among long ones */
	ck_assert_uint_eq(make_stream(10, 3, 0, lens, 10, s), 13);
	for (unsigned mask = 0; mask < 1u << 13; mask++) {
		unsigned lost = (unsigned)__builtin_popcount(mask), lost_data = 0, ngot = 0, w = 0;
		int err = 0;
		struct fec_decoder *dec;
		static uint8_t got[3][SHARD_MAX];
		size_t got_len[3];

		if (lost > 3)
			continue;
		for (unsigned k = 0; k < 10; k++)
			lost_data += !!(mask & 1u << k);
		dec = fec_decoder_new(10, 3, SHARD_MAX, 3, &err);
		for (unsigned k = 0; k < 13; k++)
			if (!(mask & 1u << k))
				feed(dec, &s[k], 0, got, got_len, &ngot);
		ck_assert_uint_eq(ngot, lost_data);
		for (unsigned k = 0; k < 10; k++) {
			if (!(mask & 1u << k))
				continue;
			ck_assert_uint_eq(got_len[w], s[k].kcp_len);
			ck_assert_mem_eq(got[w], s[k].kcp, got_len[w]);
			w++;
		}
		ck_assert_uint_eq(fec_decoder_stats(dec)->unrecoverable, 0);
		fec_decoder_free(dec);
		patterns++;
	}
	ck_assert_uint_eq(patterns, 1 + 13 + 78 + 286);
}
END_TEST

START_TEST(fec_cannot_recover_4_of_13_and_counts_the_group_lost)
{
	static struct wpkt s[13 * 20];
	size_t lens[200];
	int err = 0;
	struct fec_decoder *dec = fec_decoder_new(10, 3, SHARD_MAX, 3, &err);
	unsigned ngot = 0;

	for (unsigned i = 0; i < 200; i++)
		lens[i] = rnd_len();
	ck_assert_uint_eq(make_stream(10, 3, 0, lens, 200, s), 260);
	/* group 0 loses 4 data packets; groups 1..19 are whole */
	for (unsigned i = 4; i < 26; i++)
		feed(dec, &s[i], 0, NULL, NULL, &ngot);
	ck_assert_uint_eq(fec_decoder_stats(dec)->unrecoverable, 0);
	for (unsigned i = 26; i < 260; i++)
		feed(dec, &s[i], 0, NULL, NULL, &ngot);
	ck_assert_uint_eq(ngot, 0);
	/* its 6 data + 3 parity were pushed out by newer traffic: one group lost, once */
	ck_assert_uint_eq(fec_decoder_stats(dec)->unrecoverable, 1);
	ck_assert_uint_eq(fec_decoder_stats(dec)->recovered, 0);
	fec_decoder_free(dec);
}
END_TEST

START_TEST(encoder_seqids_wrap_at_paws)
{
	static const struct {
		unsigned d, p;
		uint32_t paws;
	} t[] = {{10, 3, 4294967287u},
		 {3, 2, 4294967295u},
		 {1, 1, 4294967294u},
		 {20, 10, 4294967280u},
		 {128, 127, 4294967295u / 255 * 255}};

	for (unsigned c = 0; c < sizeof(t) / sizeof(t[0]); c++) {
		unsigned n = t[c].d + t[c].p;
		int err = 0;
		struct fec_encoder *enc = fec_encoder_new(t[c].d, t[c].p, 64, &err);
		uint32_t want = t[c].paws - n;

		ck_assert_ptr_nonnull(enc);
		fec_encoder_set_next_seqid(enc, want);
		for (unsigned round = 0; round < 2; round++) {
			for (unsigned i = 0; i < t[c].d; i++) {
				uint8_t b[FEC_DATA_HDR + 4];
				int ready = fec_encoder_encode(enc, b, 4);

				ck_assert_uint_eq(le32(b), want);
				want = want + 1 == t[c].paws ? 0 : want + 1;
				for (int k = 0; k < ready; k++) {
					size_t len;
					const uint8_t *par =
					    fec_encoder_parity(enc, (unsigned)k, &len);

					ck_assert_uint_eq(le32(par), want);
					ck_assert_uint_eq(le16(par + 4), FEC_TYPE_PARITY);
					ck_assert_uint_lt(le32(par), t[c].paws);
					want = want + 1 == t[c].paws ? 0 : want + 1;
				}
			}
			/* after the first round the last parity took paws - 1 */
			if (round == 0)
				ck_assert_uint_eq(want, 0);
		}
		fec_encoder_free(enc);
	}
}
END_TEST

START_TEST(decoder_recovers_across_seqid_wraparound)
{
	static const unsigned cfg[][2] = {{10, 3}, {3, 2}, {1, 1}};

	for (unsigned c = 0; c < 3; c++) {
		unsigned d = cfg[c][0], p = cfg[c][1], n = d + p;
		uint32_t paws = 0xFFFFFFFFu / n * n;
		static struct wpkt s[13 * 6];
		size_t lens[60];
		int err = 0;
		struct fec_decoder *dec = fec_decoder_new(d, p, SHARD_MAX, 3, &err);
		unsigned total, ngot = 0, lost = 0, lost_idx[8];
		static uint8_t got[8][SHARD_MAX];
		size_t got_len[8];

		for (unsigned i = 0; i < 6 * d; i++)
			lens[i] = rnd_len();
		/* three groups before the wrap, three after */
		total = make_stream(d, p, paws - 3 * n, lens, 6 * d, s);
		ck_assert_uint_eq(total, 6 * n);
		ck_assert_uint_eq(s[3 * n - 1].seqid, paws - 1);
		ck_assert_uint_eq(s[3 * n].seqid, 0);
		for (unsigned i = 0; i < total; i++) {
			/* the last data packet before the wrap and the first after it are lost */
			if (i == 2 * n + d - 1 || i == 3 * n) {
				lost_idx[lost++] = i;
				continue;
			}
			feed(dec, &s[i], 10u * i, got, got_len, &ngot);
		}
		ck_assert_uint_eq(ngot, 2);
		for (unsigned k = 0; k < 2; k++) {
			ck_assert_uint_eq(got_len[k], s[lost_idx[k]].kcp_len);
			ck_assert_mem_eq(got[k], s[lost_idx[k]].kcp, got_len[k]);
		}
		ck_assert_uint_eq(fec_decoder_stats(dec)->unrecoverable, 0);
		fec_decoder_free(dec);
	}
}
END_TEST

START_TEST(decoder_ignores_duplicates)
{
	static struct wpkt s[13];
	size_t lens[10];
	int err = 0;
	struct fec_decoder *dec = fec_decoder_new(10, 3, SHARD_MAX, 3, &err);
	unsigned ngot = 0;
	static uint8_t got[2][SHARD_MAX];
	size_t got_len[2];

	for (unsigned i = 0; i < 10; i++)
		lens[i] = rnd_len();
	make_stream(10, 3, 0, lens, 10, s);
	/* data 0..7 (8 and 9 lost), data 7 again, parity 10 again: still 9 distinct shards */
	for (unsigned i = 0; i < 8; i++)
		ck_assert_int_eq(feed(dec, &s[i], 0, NULL, NULL, &ngot), 0);
	ck_assert_int_eq(feed(dec, &s[7], 0, NULL, NULL, &ngot), 0);
	ck_assert_int_eq(feed(dec, &s[10], 0, NULL, NULL, &ngot), 0);
	ck_assert_int_eq(feed(dec, &s[10], 0, NULL, NULL, &ngot), 0);
	ck_assert_uint_eq(fec_decoder_cached(dec), 9);
	ck_assert_uint_eq(fec_decoder_stats(dec)->duplicates, 2);
	/* the 10th distinct shard rebuilds both */
	ck_assert_int_eq(feed(dec, &s[11], 0, got, got_len, &ngot), 2);
	ck_assert_mem_eq(got[0], s[8].kcp, s[8].kcp_len);
	ck_assert_mem_eq(got[1], s[9].kcp, s[9].kcp_len);
	fec_decoder_free(dec);
}
END_TEST

START_TEST(decoder_expires_packets_older_than_60s_with_clock_wraparound)
{
	static const uint32_t t0s[] = {0, 0xFFFFF000u};

	for (unsigned c = 0; c < 2; c++) {
		uint32_t t0 = t0s[c];
		static struct wpkt s[26];
		size_t lens[20];
		int err = 0;
		struct fec_decoder *dec = fec_decoder_new(10, 3, SHARD_MAX, 3, &err);
		unsigned ngot = 0;

		for (unsigned i = 0; i < 20; i++)
			lens[i] = rnd_len();
		make_stream(10, 3, 0, lens, 20, s);
		/* group 0: data 0..4 at t0, 5..8 at t0 + 1 (data 9 lost) */
		for (unsigned i = 0; i < 9; i++)
			feed(dec, &s[i], t0 + (i >= 5), NULL, NULL, &ngot);
		/* a packet of group 1 exactly 60 s later: nothing expires yet */
		feed(dec, &s[13], t0 + 60000, NULL, NULL, &ngot);
		ck_assert_uint_eq(fec_decoder_cached(dec), 10);
		/* 1 ms later the first five are gone, the group counted lost; the others are
		 * exactly 60 s old and stay */
		feed(dec, &s[14], t0 + 60001, NULL, NULL, &ngot);
		ck_assert_uint_eq(fec_decoder_cached(dec), 6);
		ck_assert_uint_eq(fec_decoder_stats(dec)->unrecoverable, 1);
		/* then they go too, and the group is not counted twice */
		feed(dec, &s[15], t0 + 60002, NULL, NULL, &ngot);
		ck_assert_uint_eq(fec_decoder_cached(dec), 3);
		ck_assert_uint_eq(fec_decoder_stats(dec)->unrecoverable, 1);
		/* its parity now finds nothing to rebuild from */
		ck_assert_int_eq(feed(dec, &s[10], t0 + 60003, NULL, NULL, &ngot), 0);
		ck_assert_uint_eq(ngot, 0);
		fec_decoder_free(dec);
	}
}
END_TEST

START_TEST(decoder_expiry_is_configurable)
{
	static struct wpkt s[26];
	size_t lens[20];
	int err = 0;
	struct fec_decoder *dec = fec_decoder_new(10, 3, SHARD_MAX, 3, &err);
	unsigned ngot = 0;

	for (unsigned i = 0; i < 20; i++)
		lens[i] = rnd_len();
	make_stream(10, 3, 0, lens, 20, s);
	fec_decoder_set_expire(dec, 500);
	for (unsigned i = 0; i < 9; i++)
		feed(dec, &s[i], 100, NULL, NULL, &ngot);
	feed(dec, &s[13], 600, NULL, NULL, &ngot);
	ck_assert_uint_eq(fec_decoder_cached(dec), 10);
	feed(dec, &s[14], 601, NULL, NULL, &ngot);
	ck_assert_uint_eq(fec_decoder_cached(dec), 2);
	fec_decoder_free(dec);
}
END_TEST

/* Delivers packet w to dec unless the link loses it; sometimes also a packet far ahead or far
 * behind (a confused sender) and sometimes a long silence. */
static void lossy_deliver(struct fec_decoder *dec, const struct wpkt *w, uint32_t *now,
			  unsigned *ngot)
{
	unsigned r = rnd() % 1000;

	*now += rnd() % 5;
	if (r < 150)
		return;
	if (r < 160) {
		struct wpkt far = *w;
		uint32_t jump = 0x100000u + rnd() % 0x40000000u;
		uint32_t seqid = r & 1 ? w->seqid + jump : w->seqid - jump;

		far.b[0] = (uint8_t)seqid;
		far.b[1] = (uint8_t)(seqid >> 8);
		far.b[2] = (uint8_t)(seqid >> 16);
		far.b[3] = (uint8_t)(seqid >> 24);
		feed(dec, &far, *now, NULL, NULL, ngot);
	}
	if (r == 999)
		*now += 70000;
	feed(dec, w, *now, NULL, NULL, ngot);
}

START_TEST(decoder_memory_is_bounded_and_fixed_under_a_long_stream_with_gaps)
{
	enum { PAYLOADS = 40000 };
	int err = 0;
	struct fec_encoder *enc = fec_encoder_new(10, 3, SHARD_MAX, &err);
	struct fec_decoder *dec = fec_decoder_new(10, 3, SHARD_MAX, 3, &err);
	unsigned ngot = 0, cap = fec_decoder_capacity(dec), maxc = 0;
	unsigned long before;
	uint32_t now = 0;
	static struct wpkt w, q;

	ck_assert_uint_eq(cap, 39);
	before = allocs;
	for (unsigned i = 0; i < PAYLOADS; i++) {
		size_t len = rnd_len();
		int ready;

		memset(w.b + FEC_DATA_HDR, (int)i, len);
		watching = true;
		ready = fec_encoder_encode(enc, w.b, len);
		watching = false;
		w.len = FEC_DATA_HDR + len;
		w.seqid = le32(w.b);
		lossy_deliver(dec, &w, &now, &ngot);
		for (int k = 0; k < ready; k++) {
			const uint8_t *par;

			watching = true;
			par = fec_encoder_parity(enc, (unsigned)k, &q.len);
			watching = false;
			memcpy(q.b, par, q.len);
			q.seqid = le32(q.b);
			lossy_deliver(dec, &q, &now, &ngot);
		}
		if (fec_decoder_cached(dec) > maxc)
			maxc = fec_decoder_cached(dec);
		ck_assert_uint_le(fec_decoder_cached(dec), cap);
	}
	ck_assert_uint_eq(allocs, before);
	ck_assert_uint_gt(maxc, 13);
	/* 15 % loss: most lossy groups are rebuilt, some are not */
	ck_assert_uint_gt(ngot, PAYLOADS / 20);
	ck_assert_uint_gt(fec_decoder_stats(dec)->unrecoverable, 0);
	ck_assert_uint_eq(fec_decoder_stats(dec)->recovered, ngot);
	fec_encoder_free(enc);
	fec_decoder_free(dec);
}
END_TEST

START_TEST(decoder_follows_a_sender_that_restarts_its_seqids)
{
	static struct wpkt a[13 * 4], b[13 * 4];
	size_t lens[40];
	int err = 0;
	struct fec_decoder *dec = fec_decoder_new(10, 3, SHARD_MAX, 3, &err);
	unsigned ngot = 0;
	static uint8_t got[4][SHARD_MAX];
	size_t got_len[4];

	for (unsigned i = 0; i < 40; i++)
		lens[i] = rnd_len();
	make_stream(10, 3, 5000000 * 13, lens, 40, a);
	make_stream(10, 3, 0, lens, 40, b);
	/* the old stream: four groups that lost two data packets and all parity */
	for (unsigned i = 0; i < 52; i++)
		if (i % 13 != 1 && i % 13 != 2 && i % 13 < 10)
			feed(dec, &a[i], 0, NULL, NULL, &ngot);
	/* the cache keeps the last 3 groups */
	ck_assert_uint_eq(fec_decoder_cached(dec), 24);
	ck_assert_uint_eq(fec_decoder_stats(dec)->unrecoverable, 1);
	/* the restarted stream: three packets are taken for stragglers, the fourth restarts */
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(feed(dec, &b[i], 1, NULL, NULL, &ngot), 0);
		ck_assert_uint_eq(fec_decoder_cached(dec), 24);
	}
	feed(dec, &b[3], 1, NULL, NULL, &ngot);
	ck_assert_uint_eq(fec_decoder_cached(dec), 1);
	ck_assert_uint_eq(fec_decoder_stats(dec)->unrecoverable, 4);
	/* its first group rebuilds the three packets taken for stragglers, the second one the
	 * packet lost on the way */
	for (unsigned i = 4; i < 26; i++)
		if (i != 18)
			feed(dec, &b[i], 1, got, got_len, &ngot);
	ck_assert_uint_eq(ngot, 4);
	for (unsigned k = 0; k < 4; k++) {
		unsigned want = k < 3 ? k : 18;

		ck_assert_uint_eq(got_len[k], b[want].kcp_len);
		ck_assert_mem_eq(got[k], b[want].kcp, got_len[k]);
	}
	fec_decoder_free(dec);
}
END_TEST

START_TEST(decoder_ignores_a_straggler_from_beyond_its_horizon)
{
	static struct wpkt s[13 * 6];
	size_t lens[60];
	int err = 0;
	struct fec_decoder *dec = fec_decoder_new(10, 3, SHARD_MAX, 3, &err);
	unsigned ngot = 0;
	static uint8_t got[1][SHARD_MAX];
	size_t got_len[1];

	for (unsigned i = 0; i < 60; i++)
		lens[i] = rnd_len();
	make_stream(10, 3, 0, lens, 60, s);
	/* group 5 waits for parity (data 65 lost) */
	for (unsigned i = 66; i < 75; i++)
		feed(dec, &s[i], 0, NULL, NULL, &ngot);
	ck_assert_uint_eq(fec_decoder_cached(dec), 9);
	/* packets of groups 0..2 are 3 or more groups behind: ignored, nothing else happens */
	for (unsigned i = 0; i < 39; i += 13) {
		ck_assert_int_eq(feed(dec, &s[i + 10], 0, NULL, NULL, &ngot), 0);
		ck_assert_uint_eq(fec_decoder_cached(dec), 9);
	}
	/* a packet of group 3 is within the horizon: kept */
	feed(dec, &s[39], 0, NULL, NULL, &ngot);
	ck_assert_uint_eq(fec_decoder_cached(dec), 10);
	ck_assert_int_eq(feed(dec, &s[75], 0, got, got_len, &ngot), 1);
	ck_assert_mem_eq(got[0], s[65].kcp, s[65].kcp_len);
	ck_assert_uint_eq(fec_decoder_stats(dec)->unrecoverable, 0);
	fec_decoder_free(dec);
}
END_TEST

START_TEST(encoder_and_decoder_allocate_nothing_per_packet)
{
	static struct wpkt s[13 * 20];
	size_t lens[200];
	int err = 0;
	struct fec_encoder *enc = fec_encoder_new(10, 3, SHARD_MAX, &err);
	struct fec_decoder *dec = fec_decoder_new(0, 0, SHARD_MAX, 3, &err);
	unsigned long before;
	unsigned ngot = 0;

	for (unsigned i = 0; i < 200; i++)
		lens[i] = rnd_len();
	make_stream(10, 3, 0, lens, 200, s);
	before = allocs;
	for (unsigned i = 0; i < 200; i++) {
		uint8_t b[PKT_MAX];
		size_t len;

		watching = true;
		if (fec_encoder_encode(enc, b, lens[i]) > 0)
			fec_encoder_parity(enc, 0, &len);
		watching = false;
	}
	/* autotune, retune and rebuilding included */
	for (unsigned i = 0; i < 260; i++)
		if (i < 30 || i % 7 != 0)
			feed(dec, &s[i], 0, NULL, NULL, &ngot);
	ck_assert_uint_eq(allocs, before);
	ck_assert_uint_gt(ngot, 0);
	fec_encoder_free(enc);
	fec_decoder_free(dec);
}
END_TEST

START_TEST(encoder_parity_is_as_long_as_the_longest_data_packet_of_its_group)
{
	int err = 0;
	struct fec_encoder *enc = fec_encoder_new(3, 2, SHARD_MAX, &err);
	static const size_t lens[] = {10, 700, 20, 5, 6, 4};
	static const size_t want[] = {702, 8};

	for (unsigned i = 0; i < 6; i++) {
		uint8_t b[PKT_MAX] = {0};
		int ready = fec_encoder_encode(enc, b, lens[i]);

		ck_assert_uint_eq(le16(b + 6), lens[i] + 2);
		for (int k = 0; k < ready; k++) {
			size_t len;

			ck_assert_ptr_nonnull(fec_encoder_parity(enc, (unsigned)k, &len));
			ck_assert_uint_eq(len, FEC_PARITY_HDR + want[i / 3]);
		}
	}
	fec_encoder_free(enc);
}
END_TEST

START_TEST(encoder_rejects_payloads_beyond_shard_max_and_changes_nothing)
{
	int err = 0;
	struct fec_encoder *enc = fec_encoder_new(2, 1, 100, &err);
	uint8_t b[FEC_DATA_HDR + 100];

	ck_assert_int_eq(fec_encoder_encode(enc, b, 99), -EMSGSIZE);
	ck_assert_uint_eq(fec_encoder_stats(enc)->data_sent, 0);
	ck_assert_int_eq(fec_encoder_encode(enc, b, 98), 0);
	ck_assert_uint_eq(le32(b), 0);
	ck_assert_int_eq(fec_encoder_encode(enc, b, 0), 1);
	ck_assert_uint_eq(le32(b), 1);
	ck_assert_uint_eq(le16(b + 6), 2);
	fec_encoder_free(enc);
}
END_TEST

START_TEST(constructors_reject_bad_shard_counts_and_sizes)
{
	static const unsigned bad[][2] = {{0, 1}, {1, 0}, {200, 56}, {255, 1}, {256, 0}};
	int err;

	for (unsigned i = 0; i < 5; i++) {
		err = 0;
		ck_assert_ptr_null(fec_encoder_new(bad[i][0], bad[i][1], 1500, &err));
		ck_assert_int_eq(err, -EINVAL);
		err = 0;
		ck_assert_ptr_null(fec_decoder_new(bad[i][0], bad[i][1], 1500, 3, &err));
		ck_assert_int_eq(err, -EINVAL);
		err = 0;
		ck_assert_ptr_null(fec_rs_new(bad[i][0], bad[i][1], &err));
		ck_assert_int_eq(err, -EINVAL);
	}
	err = 0;
	ck_assert_ptr_null(fec_encoder_new(10, 3, 1, &err));
	ck_assert_int_eq(err, -EINVAL);
	ck_assert_ptr_null(fec_encoder_new(10, 3, 65536, &err));
	ck_assert_ptr_null(fec_decoder_new(10, 3, 1500, 0, &err));
	ck_assert_ptr_null(fec_decoder_new(10, 3, 1500, 1025, &err));
	ck_assert_ptr_null(fec_decoder_new(10, 3, 1, 3, &err));
	ck_assert_int_eq(err, -EINVAL);
	/* the extremes that are allowed */
	{
		struct fec_encoder *e = fec_encoder_new(1, 254, 2, &err);
		struct fec_decoder *d = fec_decoder_new(254, 1, 65535, 1, &err);

		ck_assert_ptr_nonnull(e);
		ck_assert_ptr_nonnull(d);
		fec_encoder_free(e);
		fec_decoder_free(d);
	}
}
END_TEST

START_TEST(packet_type_and_kcp_bytes_are_read_from_the_header)
{
	uint8_t data[] = {5, 0, 0, 0, 0xf1, 0, 5, 0, 'a', 'b', 'c'};
	uint8_t parity[] = {9, 0, 0, 0, 0xf2, 0, 1, 2};
	/* a plain KCP segment: byte 4 is the command, byte 5 the fragment count */
	uint8_t kcp[24] = {0xcc, 0xbb, 0xaa, 0x99, 81, 0xf1};
	const uint8_t *k;
	size_t klen;

	ck_assert_int_eq(fec_packet_type(data, sizeof(data)), FEC_TYPE_DATA);
	ck_assert_int_eq(fec_packet_type(parity, sizeof(parity)), FEC_TYPE_PARITY);
	ck_assert_int_eq(fec_packet_type(kcp, sizeof(kcp)), 0);
	ck_assert_int_eq(fec_packet_type(data, 5), 0);
	ck_assert_int_eq(fec_packet_kcp(data, sizeof(data), &k, &klen), 0);
	ck_assert_ptr_eq(k, data + 8);
	ck_assert_uint_eq(klen, 3);
	ck_assert_int_eq(fec_packet_kcp(parity, sizeof(parity), &k, &klen), KC_EFEC);
	ck_assert_int_eq(fec_packet_kcp(data, sizeof(data) - 1, &k, &klen), KC_ELEN);
	ck_assert_int_eq(fec_packet_kcp(data, 7, &k, &klen), KC_ESHORT);
	ck_assert_int_eq(fec_packet_kcp(kcp, sizeof(kcp), &k, &klen), KC_EFEC);
}
END_TEST

/* Feeds a 10/3 stream to two decoders, one of them with malformed packets in between; they
 * must agree on everything but the rejection counters. */
START_TEST(malformed_input_returns_a_code_and_changes_no_state)
{
	static struct wpkt s[13 * 4];
	size_t lens[40];
	int err = 0;
	struct fec_decoder *ref = fec_decoder_new(10, 3, 1000, 3, &err);
	struct fec_decoder *dec = fec_decoder_new(10, 3, 1000, 3, &err);
	unsigned nref = 0, ndec = 0;
	static uint8_t gref[16][SHARD_MAX], gdec[16][SHARD_MAX];
	size_t lref[16], ldec[16];
	struct {
		uint8_t b[1100];
		size_t len;
		int rc;
	} bad[16];
	unsigned nbad = 0;

	for (unsigned i = 0; i < 40; i++)
		lens[i] = 1 + rnd() % 900;
	make_stream(10, 3, 0, lens, 40, s);

	/* short headers */
	for (size_t len = 0; len < 6; len++) {
		memcpy(bad[nbad].b, s[0].b, 6);
		bad[nbad].len = len;
		bad[nbad++].rc = KC_ESHORT;
	}
	/* a data packet without its size field, a parity packet of one byte */
	memcpy(bad[nbad].b, s[0].b, 7);
	bad[nbad].len = 7;
	bad[nbad++].rc = KC_ESHORT;
	memcpy(bad[nbad].b, s[10].b, 7);
	bad[nbad].len = 7;
	bad[nbad++].rc = KC_ESHORT;
	/* unknown types (0xF3 is master's OOB) */
	memcpy(bad[nbad].b, s[1].b, s[1].len);
	bad[nbad].b[4] = 0xf3;
	bad[nbad].len = s[1].len;
	bad[nbad++].rc = KC_EFEC;
	memcpy(bad[nbad].b, s[1].b, s[1].len);
	bad[nbad].b[5] = 0x01;
	bad[nbad].len = s[1].len;
	bad[nbad++].rc = KC_EFEC;
	/* size field one too long, one too short, 0 */
	for (int delta = -1; delta <= 1; delta += 2) {
		memcpy(bad[nbad].b, s[2].b, s[2].len);
		bad[nbad].b[6] = (uint8_t)(s[2].len - 6 + (size_t)delta);
		bad[nbad].b[7] = (uint8_t)((s[2].len - 6 + (size_t)delta) >> 8);
		bad[nbad].len = s[2].len;
		bad[nbad++].rc = KC_ELEN;
	}
	memcpy(bad[nbad].b, s[2].b, s[2].len);
	bad[nbad].b[6] = bad[nbad].b[7] = 0;
	bad[nbad].len = s[2].len;
	bad[nbad++].rc = KC_ELEN;
	/* shards beyond shard_max (1000): data and parity */
	memset(bad[nbad].b, 0, sizeof(bad[nbad].b));
	memcpy(bad[nbad].b, s[3].b, 6);
	bad[nbad].b[6] = (uint8_t)1001;
	bad[nbad].b[7] = (uint8_t)(1001 >> 8);
	bad[nbad].len = 6 + 1001;
	bad[nbad++].rc = KC_EFEC;
	memset(bad[nbad].b, 0, sizeof(bad[nbad].b));
	memcpy(bad[nbad].b, s[11].b, 6);
	bad[nbad].len = 6 + 1001;
	bad[nbad++].rc = KC_EFEC;
	/* a contradicting type must not retune either: data type at a parity seqid, bad size */
	memcpy(bad[nbad].b, s[12].b, 6);
	bad[nbad].b[4] = 0xf1;
	bad[nbad].b[6] = 0xff;
	bad[nbad].b[7] = 0xff;
	bad[nbad].len = 30;
	bad[nbad++].rc = KC_ELEN;

	for (unsigned i = 0; i < 52; i++) {
		unsigned ndec0 = ndec;
		int r1, r2;

		if (i % 13 == 4 || i % 13 == 7)
			continue; /* two losses per group, so there is rebuilding to compare */
		r1 = feed(ref, &s[i], i, gref, lref, &nref);
		for (unsigned b = 0; b < nbad; b++) {
			struct fec_stats st = *fec_decoder_stats(dec);
			const struct fec_stats *after;
			unsigned cached = fec_decoder_cached(dec), dd, pp;
			int rc = fec_decoder_input(dec, bad[b].b, bad[b].len, i);

			ck_assert_msg(rc == bad[b].rc, "bad packet %u: rc %d, want %d", b, rc,
				      bad[b].rc);
			after = fec_decoder_stats(dec);
			ck_assert_uint_eq(after->short_packets + after->bad_size + after->malformed,
					  st.short_packets + st.bad_size + st.malformed + 1);
			ck_assert_uint_eq(after->short_packets - st.short_packets,
					  bad[b].rc == KC_ESHORT);
			ck_assert_uint_eq(after->bad_size - st.bad_size, bad[b].rc == KC_ELEN);
			ck_assert_uint_eq(after->malformed - st.malformed, bad[b].rc == KC_EFEC);
			ck_assert_uint_eq(after->data_received, st.data_received);
			ck_assert_uint_eq(after->parity_received, st.parity_received);
			ck_assert_uint_eq(fec_decoder_cached(dec), cached);
			fec_decoder_shards(dec, &dd, &pp);
			ck_assert_uint_eq(dd, 10);
			ck_assert_uint_eq(pp, 3);
		}
		r2 = feed(dec, &s[i], i, gdec, ldec, &ndec);
		ck_assert_int_eq(r1, r2);
		for (unsigned k = ndec0; k < ndec; k++) {
			ck_assert_uint_eq(lref[k], ldec[k]);
			ck_assert_mem_eq(gref[k], gdec[k], ldec[k]);
		}
		ck_assert_uint_eq(fec_decoder_cached(ref), fec_decoder_cached(dec));
	}
	ck_assert_uint_eq(nref, 8);
	ck_assert_uint_eq(ndec, 8);
	ck_assert_uint_eq(fec_decoder_stats(ref)->recovered, fec_decoder_stats(dec)->recovered);
	fec_decoder_free(ref);
	fec_decoder_free(dec);
}
END_TEST

START_TEST(recovered_size_field_out_of_range_counts_an_error)
{
	/* 1/1: parity is a copy of the data shard, so it dictates the rebuilt size field */
	static const struct {
		uint16_t size;
		size_t shard;
		int payloads;
	} t[] = {{0, 10, 0}, {1, 10, 0}, {11, 10, 0}, {0xffff, 10, 0}, {2, 10, 1}, {10, 10, 1}};

	for (unsigned c = 0; c < sizeof(t) / sizeof(t[0]); c++) {
		int err = 0;
		struct fec_decoder *dec = fec_decoder_new(1, 1, SHARD_MAX, 3, &err);
		uint8_t par[FEC_PARITY_HDR + 10] = {1, 0, 0, 0, 0xf2, 0};
		size_t len;
		const uint8_t *r;

		par[6] = (uint8_t)t[c].size;
		par[7] = (uint8_t)(t[c].size >> 8);
		memset(par + 8, 'x', sizeof(par) - 8);
		ck_assert_int_eq(fec_decoder_input(dec, par, FEC_PARITY_HDR + t[c].shard, 5),
				 t[c].payloads);
		ck_assert_uint_eq(fec_decoder_stats(dec)->recover_errors, !t[c].payloads);
		r = fec_decoder_recovered(dec, 0, &len);
		if (t[c].payloads) {
			ck_assert_ptr_nonnull(r);
			ck_assert_uint_eq(len, t[c].size - 2u);
		} else {
			ck_assert_ptr_null(r);
		}
		fec_decoder_free(dec);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fec");
	TCase *code = tcase_create("code");
	TCase *vec = tcase_create("kcp-go vectors");
	TCase *own = tcase_create("decoder and encoder");
	SRunner *sr;
	int failed;

	tcase_add_test(code, isal_field_is_the_klauspost_field_0x11d);
	tcase_add_test(code, rs_parity_rows_match_klauspost_vectors);
	tcase_add_test(code, rs_parity_rows_equal_vandermonde_made_systematic);
	tcase_add_test(code, rs_encode_equals_naive_dot_products_at_every_length);
	tcase_add_test(code, rs_reconstruct_rebuilds_lost_data_of_large_codes);
	tcase_set_timeout(code, 60);
	suite_add_tcase(s, code);

	tcase_add_test(vec, encoder_reproduces_kcp_go_groups_byte_for_byte);
	tcase_add_test(vec, rs_encode_reproduces_kcp_go_rs_parity);
	tcase_add_test(vec, decoder_recovers_kcp_go_listed_losses_as_soon_as_d_shards_arrive);
	tcase_add_test(vec, autotune_switches_to_10_3_at_seqid_24_after_two_garbage_recoveries);
	tcase_add_test(vec, capture_groups_recover_every_pattern_of_up_to_3_lost_data_packets);
	tcase_set_timeout(vec, 60);
	suite_add_tcase(s, vec);

	tcase_add_test(own, fec_recovers_any_3_of_13);
	tcase_add_test(own, fec_cannot_recover_4_of_13_and_counts_the_group_lost);
	tcase_add_test(own, decoder_0_0_decodes_nothing_until_it_detects_the_counts);
	tcase_add_test(own, decoder_retunes_when_the_stream_contradicts_its_counts);
	tcase_add_test(own, encoder_seqids_wrap_at_paws);
	tcase_add_test(own, decoder_recovers_across_seqid_wraparound);
	tcase_add_test(own, decoder_ignores_duplicates);
	tcase_add_test(own, decoder_expires_packets_older_than_60s_with_clock_wraparound);
	tcase_add_test(own, decoder_expiry_is_configurable);
	tcase_add_test(own, decoder_memory_is_bounded_and_fixed_under_a_long_stream_with_gaps);
	tcase_add_test(own, decoder_follows_a_sender_that_restarts_its_seqids);
	tcase_add_test(own, decoder_ignores_a_straggler_from_beyond_its_horizon);
	tcase_add_test(own, encoder_and_decoder_allocate_nothing_per_packet);
	tcase_add_test(own, encoder_parity_is_as_long_as_the_longest_data_packet_of_its_group);
	tcase_add_test(own, encoder_rejects_payloads_beyond_shard_max_and_changes_nothing);
	tcase_add_test(own, constructors_reject_bad_shard_counts_and_sizes);
	tcase_add_test(own, packet_type_and_kcp_bytes_are_read_from_the_header);
	tcase_add_test(own, malformed_input_returns_a_code_and_changes_no_state);
	tcase_add_test(own, recovered_size_field_out_of_range_counts_an_error);
	tcase_set_timeout(own, 60);
	suite_add_tcase(s, own);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
