/* libkcpcore/crypt: kcp-go's packet ciphers against the vectors made by kcp-go 5.6.1 (and Go's
 * AES-GCM for the newer layout), round trips, tampering and the cipher names. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypt_wire.h"
#include "crypto_backend.h"
#include "kcpcore/crypt.h"
#include "kcpcore/error.h"
#include "vectors.h"

#define ROUND_TRIP_MAX 400
#define GUARD_LEN      32
#define GUARD_BYTE     0x5c

/* Nonce source for tests: hands out `fixed` (when set) or a counter pattern. */
struct test_nonce {
	const uint8_t *fixed;
	size_t fixed_len;
	unsigned calls;
};

static void test_nonce_fn(void *user, uint8_t *out, size_t len)
{
	struct test_nonce *n = user;

	if (n->fixed != NULL) {
		ck_assert_uint_eq(len, n->fixed_len);
		memcpy(out, n->fixed, len);
	} else {
		for (size_t i = 0; i < len; i++)
			out[i] = (uint8_t)(n->calls * 131 + i * 7 + 1);
	}
	n->calls++;
}

static struct crypt *test_crypt_new(enum crypt_method m, const uint8_t *key)
{
	uint8_t zero[CRYPT_KEY_LEN] = {0};
	int err = 0;
	struct crypt *c = crypt_new(m, key != NULL ? key : zero, &err);

	ck_assert_msg(c != NULL, "crypt_new(%s): %s", crypt_method_name(m), kc_strerror(err));
	return c;
}

/* Buffer of `len` bytes followed by GUARD_LEN guard bytes. */
static uint8_t *test_buf(size_t len)
{
	uint8_t *b = malloc(len + GUARD_LEN);

	ck_assert_ptr_nonnull(b);
	memset(b + len, GUARD_BYTE, GUARD_LEN);
	return b;
}

static void test_guard_intact(const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < GUARD_LEN; i++)
		ck_assert_msg(b[len + i] == GUARD_BYTE, "byte %zu after the datagram written", i);
}

/* Checks one crypt.json cipher in both directions; returns the packets checked. */
static unsigned test_crypt_json_cipher(const json_t *cipher, enum crypt_method m)
{
	size_t key_len, i;
	uint8_t *key = vec_hex_member(cipher, "key_hex", &key_len);
	uint8_t full_key[CRYPT_KEY_LEN] = {0};
	const json_t *pkts = json_object_get(cipher, "packets"), *p;
	unsigned checked = 0;

	/* kcptun slices one 32-byte key; the vector lists the slice, which must be a prefix. */
	ck_assert_uint_le(key_len, CRYPT_KEY_LEN);
	memcpy(full_key, key, key_len);
	json_array_foreach(pkts, i, p)
	{
		size_t plain_len, cipher_len, crc_len;
		uint8_t *plain = vec_hex_member(p, "plaintext_packet_hex", &plain_len);
		uint8_t *ct = vec_hex_member(p, "ciphertext_packet_hex", &cipher_len);
		uint8_t *crc = vec_hex_member(p, "crc32_le_at_16", &crc_len);
		struct test_nonce nonce = {.fixed = plain, .fixed_len = CRYPT_NONCE_LEN};
		struct crypt *c = test_crypt_new(m, full_key);
		uint8_t *buf = test_buf(plain_len), *body = NULL;
		size_t body_len = plain_len - CRYPT_CFB_HEADER_LEN;

		ck_assert_uint_eq(plain_len, cipher_len);
		ck_assert_mem_eq(plain + CRYPT_CRC_OFF, crc, CRYPT_CRC_LEN);

		/* seal: the CRC and the nonce are ours to write, so clear them first */
		memset(buf, 0, CRYPT_CFB_HEADER_LEN);
		memcpy(buf + CRYPT_CFB_HEADER_LEN, plain + CRYPT_CFB_HEADER_LEN, body_len);
		crypt_set_nonce_fn(c, test_nonce_fn, &nonce);
		ck_assert_int_eq(crypt_seal(c, buf, body_len), (int)plain_len);
		ck_assert_msg(memcmp(buf, ct, plain_len) == 0, "%s packet %zu: seal differs",
			      crypt_method_name(m), i);
		test_guard_intact(buf, plain_len);

		/* open: a fresh object, fed kcp-go's bytes */
		crypt_free(c);
		c = test_crypt_new(m, full_key);
		memcpy(buf, ct, plain_len);
		ck_assert_int_eq(crypt_open(c, buf, plain_len, &body), (int)body_len);
		ck_assert_ptr_eq(body, buf + CRYPT_CFB_HEADER_LEN);
		ck_assert_msg(memcmp(buf, plain, plain_len) == 0, "%s packet %zu: open differs",
			      crypt_method_name(m), i);
		test_guard_intact(buf, plain_len);

		crypt_free(c);
		free(buf);
		free(crc);
		free(ct);
		free(plain);
		checked++;
	}
	free(key);
	return checked;
}

START_TEST(crypt_json_every_implemented_cipher_seals_and_opens_like_kcp_go)
{
	json_t *root = vec_load("crypt.json");
	const json_t *cipher;
	unsigned accepted = 0, refused = 0, packets = 0;
	size_t i;

	json_array_foreach(json_object_get(root, "ciphers"), i, cipher)
	{
		const char *name = json_string_value(json_object_get(cipher, "name"));
		enum crypt_method m;
		const char *why = NULL;

		ck_assert_ptr_nonnull(name);
		if (crypt_method_parse(name, &m, &why) == 0) {
			ck_assert_str_eq(crypt_method_name(m), name);
			packets += test_crypt_json_cipher(cipher, m);
			accepted++;
		} else {
			/* every 5.6.1 cipher we do not implement is refused for a stated reason */
			ck_assert_ptr_nonnull(why);
			ck_assert_msg(strncmp(why, name, strlen(name)) == 0,
				      "%s refused with a generic message: %s", name, why);
			refused++;
		}
	}
	/* aes, aes-128, aes-192, salsa20 and none, two packets each */
	ck_assert_uint_eq(accepted, 5);
	ck_assert_uint_eq(packets, 10);
	ck_assert_uint_eq(accepted + refused, i);
	json_decref(root);
}
END_TEST

/* CFB's output prefix depends only on the input prefix, so every prefix of a kcp-go packet is a
 * vector of its own: this checks every length 0..289, partial last blocks included, on one
 * context that must not carry anything from one call to the next. */
START_TEST(aes_cfb_matches_kcp_go_on_every_prefix_length)
{
	json_t *root = vec_load("crypt.json");
	static const uint8_t iv[CRYPT_CFB_IV_LEN] = CRYPT_CFB_IV;
	const char *names[] = {"aes", "aes-128", "aes-192"};
	unsigned lengths = 0;
	const json_t *cipher;
	size_t i, j;

	json_array_foreach(json_object_get(root, "ciphers"), i, cipher)
	{
		const char *name = json_string_value(json_object_get(cipher, "name"));
		size_t key_len;
		uint8_t *key;
		struct crypto_aes *aes;
		const json_t *p;
		int err = 0;

		if (strcmp(name, names[0]) != 0 && strcmp(name, names[1]) != 0 &&
		    strcmp(name, names[2]) != 0)
			continue;
		key = vec_hex_member(cipher, "key_hex", &key_len);
		aes = crypto_aes_new(key, key_len, &err);
		ck_assert_ptr_nonnull(aes);
		json_array_foreach(json_object_get(cipher, "packets"), j, p)
		{
			size_t len, ct_len;
			uint8_t *plain = vec_hex_member(p, "plaintext_packet_hex", &len);
			uint8_t *ct = vec_hex_member(p, "ciphertext_packet_hex", &ct_len);
			uint8_t *buf = test_buf(len);

			for (size_t n = 0; n <= len; n++) {
				memcpy(buf, plain, n);
				ck_assert_int_eq(crypto_aes_cfb128_encrypt(aes, iv, buf, n), 0);
				ck_assert_msg(memcmp(buf, ct, n) == 0, "%s enc len %zu", name, n);
				ck_assert_int_eq(crypto_aes_cfb128_decrypt(aes, iv, buf, n), 0);
				ck_assert_msg(memcmp(buf, plain, n) == 0, "%s dec len %zu", name,
					      n);
				test_guard_intact(buf, len);
				lengths++;
			}
			free(buf);
			free(ct);
			free(plain);
		}
		crypto_aes_free(aes);
		free(key);
	}
	ck_assert_uint_eq(lengths, 3 * (50 + 290));
	json_decref(root);
}
END_TEST

/* Long datagrams (a backend may work in chunks): decryption inverts encryption at every length
 * up to 2100 bytes, for each key size, on one context. */
START_TEST(aes_cfb_decrypt_inverts_encrypt_at_every_length_to_2100)
{
	static const uint8_t iv[CRYPT_CFB_IV_LEN] = CRYPT_CFB_IV;
	enum { MAX = 2100 };
	static uint8_t plain[MAX];
	uint8_t key[CRYPT_KEY_LEN];
	uint8_t *buf = test_buf(MAX);

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 17 + 5);
	for (size_t i = 0; i < MAX; i++)
		plain[i] = (uint8_t)(i * 31 + (i >> 7));
	for (size_t key_len = 16; key_len <= 32; key_len += 8) {
		int err = 0;
		struct crypto_aes *aes = crypto_aes_new(key, key_len, &err);

		ck_assert_ptr_nonnull(aes);
		for (size_t n = 0; n <= MAX; n++) {
			memcpy(buf, plain, n);
			ck_assert_int_eq(crypto_aes_cfb128_encrypt(aes, iv, buf, n), 0);
			if (n >= CRYPT_CFB_IV_LEN)
				ck_assert_int_ne(memcmp(buf, plain, CRYPT_CFB_IV_LEN), 0);
			ck_assert_int_eq(crypto_aes_cfb128_decrypt(aes, iv, buf, n), 0);
			ck_assert_msg(memcmp(buf, plain, n) == 0, "key %zu len %zu", key_len, n);
			test_guard_intact(buf, MAX);
		}
		crypto_aes_free(aes);
	}
	free(buf);
}
END_TEST

START_TEST(kdf_kcptun_matches_kcptun_key)
{
	json_t *root = vec_load("kdf.json");
	const char *pass = json_string_value(json_object_get(root, "passphrase"));
	size_t want_len;
	uint8_t *want = vec_hex_member(root, "derived_key_hex", &want_len);
	uint8_t key[CRYPT_KEY_LEN];

	ck_assert_ptr_nonnull(pass);
	ck_assert_str_eq(json_string_value(json_object_get(root, "salt")), CRYPT_KDF_SALT);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "iterations")),
			 CRYPT_KDF_ITERATIONS);
	ck_assert_uint_eq(want_len, CRYPT_KEY_LEN);
	ck_assert_int_eq(crypt_kdf_kcptun(pass, strlen(pass), key), 0);
	ck_assert_mem_eq(key, want, CRYPT_KEY_LEN);
	/* the whole passphrase counts: one byte less is another key */
	ck_assert_int_eq(crypt_kdf_kcptun(pass, strlen(pass) - 1, key), 0);
	ck_assert_int_ne(memcmp(key, want, CRYPT_KEY_LEN), 0);
	free(want);
	json_decref(root);
}
END_TEST

START_TEST(aead_json_aes_128_gcm_seals_and_opens_like_go)
{
	json_t *root = vec_load("aead.json");
	size_t key_len, nonce_len, i;
	uint8_t *key = vec_hex_member(root, "key_hex", &key_len);
	uint8_t *nonce_bytes = vec_hex_member(root, "nonce_hex", &nonce_len);
	uint8_t full_key[CRYPT_KEY_LEN] = {0};
	const json_t *p;
	unsigned checked = 0;

	ck_assert_uint_eq(nonce_len, crypt_header_len(CRYPT_AES_128_GCM));
	memcpy(full_key, key, key_len);
	json_array_foreach(json_object_get(root, "packets"), i, p)
	{
		size_t plain_len, pkt_len;
		uint8_t *plain = vec_hex_member(p, "plaintext_hex", &plain_len);
		uint8_t *pkt = vec_hex_member(p, "packet_hex", &pkt_len);
		struct test_nonce nonce = {.fixed = nonce_bytes, .fixed_len = nonce_len};
		struct crypt *c = test_crypt_new(CRYPT_AES_128_GCM, full_key);
		uint8_t *buf = test_buf(pkt_len), *body = NULL;

		ck_assert_uint_eq(pkt_len, nonce_len + plain_len + CRYPT_GCM_TAG_LEN);
		memset(buf, 0, pkt_len);
		memcpy(buf + nonce_len, plain, plain_len);
		crypt_set_nonce_fn(c, test_nonce_fn, &nonce);
		ck_assert_int_eq(crypt_seal(c, buf, plain_len), (int)pkt_len);
		ck_assert_mem_eq(buf, pkt, pkt_len);
		test_guard_intact(buf, pkt_len);

		memcpy(buf, pkt, pkt_len);
		ck_assert_int_eq(crypt_open(c, buf, pkt_len, &body), (int)plain_len);
		ck_assert_ptr_eq(body, buf + nonce_len);
		ck_assert_mem_eq(body, plain, plain_len);
		test_guard_intact(buf, pkt_len);

		crypt_free(c);
		free(buf);
		free(pkt);
		free(plain);
		checked++;
	}
	ck_assert_uint_eq(checked, 2);
	free(nonce_bytes);
	free(key);
	json_decref(root);
}
END_TEST

/* Opens every datagram of a capture and compares it with the decoded companion. */
static void test_capture(const char *name, const char *decoded_name, enum crypt_method m)
{
	json_t *cap = vec_load(name), *dec = vec_load(decoded_name);
	const json_t *dgrams = json_object_get(cap, "datagrams"), *d;
	const json_t *decoded = json_object_get(dec, "datagrams");
	size_t key_len, i;
	uint8_t *key = vec_hex_member(cap, "key_hex", &key_len);
	struct crypt *c;

	ck_assert_uint_eq(key_len, CRYPT_KEY_LEN);
	c = test_crypt_new(m, key);
	ck_assert_uint_gt(json_array_size(dgrams), 0);
	ck_assert_uint_eq(json_array_size(dgrams), json_array_size(decoded));
	json_array_foreach(dgrams, i, d)
	{
		const json_t *want = json_array_get(decoded, i);
		size_t len, plain_len;
		uint8_t *pkt = vec_hex_member(d, "hex", &len);
		uint8_t *plain = vec_hex_member(want, "plaintext_hex", &plain_len);
		uint8_t *body = NULL;
		size_t hdr = crypt_header_len(m);

		ck_assert(json_is_true(json_object_get(want, "crc_ok")));
		ck_assert_uint_eq(len, plain_len);
		ck_assert_msg(crypt_open(c, pkt, len, &body) == (int)(len - hdr),
			      "%s datagram %zu rejected", name, i);
		ck_assert_ptr_eq(body, pkt + hdr);
		ck_assert_msg(memcmp(pkt, plain, len) == 0, "%s datagram %zu differs", name, i);
		free(plain);
		free(pkt);
	}
	crypt_free(c);
	free(key);
	json_decref(dec);
	json_decref(cap);
}

START_TEST(capture_aes_datagrams_open_to_decoded_plaintexts)
{
	test_capture("capture_aes_fec10_3.json", "capture_aes_fec10_3.decoded.json", CRYPT_AES_256);
}
END_TEST

START_TEST(capture_none_datagrams_open_to_decoded_plaintexts)
{
	test_capture("capture_none_nofec.json", "capture_none_nofec.decoded.json", CRYPT_NONE);
}
END_TEST

START_TEST(crypt_round_trips_every_length_0_to_400)
{
	uint8_t key[CRYPT_KEY_LEN], plain[ROUND_TRIP_MAX];
	enum crypt_method m = (enum crypt_method)_i;
	size_t hdr = crypt_header_len(m), trailer = crypt_trailer_len(m);
	struct crypt *c;
	uint8_t *buf = test_buf(hdr + ROUND_TRIP_MAX + trailer), *body;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 29 + 3);
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 13 + 7);
	c = test_crypt_new(m, key);
	for (size_t len = 0; len <= ROUND_TRIP_MAX; len++) {
		size_t dgram = hdr + len + trailer;

		memcpy(buf + hdr, plain, len);
		memset(buf + dgram, GUARD_BYTE, GUARD_LEN);
		ck_assert_int_eq(crypt_seal(c, buf, len), (int)dgram);
		test_guard_intact(buf, dgram);
		if (m != CRYPT_NULL && m != CRYPT_NONE && len >= 8)
			ck_assert_msg(memcmp(buf + hdr, plain, len) != 0, "%s len %zu: clear",
				      crypt_method_name(m), len);
		body = NULL;
		ck_assert_msg(crypt_open(c, buf, dgram, &body) == (int)len, "%s len %zu",
			      crypt_method_name(m), len);
		ck_assert_ptr_eq(body, buf + hdr);
		ck_assert_msg(memcmp(body, plain, len) == 0, "%s len %zu: body differs",
			      crypt_method_name(m), len);
		test_guard_intact(buf, dgram);
	}
	crypt_free(c);
	free(buf);
}
END_TEST

/* The naive twin of the CRC: CRC-32/IEEE bit by bit, as spec section 2.1 defines it. */
static uint32_t test_crc32_bitwise(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffff;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xedb88320 & (0u - (crc & 1)));
	}
	return crc ^ 0xffffffff;
}

/* "none" leaves the header in clear, so the CRC crypt_seal() writes can be read back. */
START_TEST(crypt_seal_crc32_matches_bitwise_crc32_for_every_length)
{
	uint8_t buf[CRYPT_CFB_HEADER_LEN + 1500];
	struct crypt *c = test_crypt_new(CRYPT_NONE, NULL);

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 151 + (i >> 8));
	for (size_t len = 0; len <= sizeof(buf) - CRYPT_CFB_HEADER_LEN; len++) {
		uint32_t want = test_crc32_bitwise(buf + CRYPT_CFB_HEADER_LEN, len);
		uint32_t got;

		ck_assert_int_eq(crypt_seal(c, buf, len), (int)(CRYPT_CFB_HEADER_LEN + len));
		got = (uint32_t)buf[16] | (uint32_t)buf[17] << 8 | (uint32_t)buf[18] << 16 |
		      (uint32_t)buf[19] << 24;
		ck_assert_msg(got == want, "len %zu: crc %08x, want %08x", len, got, want);
	}
	crypt_free(c);
}
END_TEST

/* First byte of each method's datagram that a flip must be caught in: the nonce is not covered
 * by the CRC, so in the clear (none) or under a stream cipher (salsa20 bytes 8..16) a flipped
 * nonce bit goes unnoticed, as in kcp-go; under CFB it garbles the next block. */
static int test_checked_byte(enum crypt_method m, size_t i)
{
	switch (m) {
	case CRYPT_NONE:
		return i >= CRYPT_NONCE_LEN;
	case CRYPT_SALSA20:
		return i < CRYPT_SALSA20_NONCE_LEN || i >= CRYPT_NONCE_LEN;
	default:
		return 1;
	}
}

START_TEST(crypt_open_rejects_any_flipped_bit_in_checked_bytes)
{
	enum crypt_method m = (enum crypt_method)_i;
	size_t hdr = crypt_header_len(m), body_len = 100;
	size_t dgram = hdr + body_len + crypt_trailer_len(m);
	struct test_nonce nonce = {0};
	uint8_t *sealed = test_buf(dgram), *buf = test_buf(dgram), *body;
	struct crypt *c = test_crypt_new(m, NULL);
	unsigned flips = 0;

	for (size_t i = 0; i < body_len; i++)
		sealed[hdr + i] = (uint8_t)i;
	crypt_set_nonce_fn(c, test_nonce_fn, &nonce);
	ck_assert_int_eq(crypt_seal(c, sealed, body_len), (int)dgram);
	for (size_t i = 0; i < dgram; i++) {
		if (!test_checked_byte(m, i))
			continue;
		for (int bit = 0; bit < 8; bit++) {
			memcpy(buf, sealed, dgram);
			buf[i] ^= (uint8_t)(1u << bit);
			ck_assert_msg(crypt_open(c, buf, dgram, &body) == KC_EAUTH,
				      "%s: flip of byte %zu bit %d accepted", crypt_method_name(m),
				      i, bit);
			flips++;
		}
	}
	ck_assert_uint_ge(flips, 8 * body_len);
	/* and the untouched datagram still opens */
	memcpy(buf, sealed, dgram);
	ck_assert_int_eq(crypt_open(c, buf, dgram, &body), (int)body_len);
	crypt_free(c);
	free(buf);
	free(sealed);
}
END_TEST

START_TEST(crypt_open_rejects_datagrams_shorter_than_header_and_trailer)
{
	enum crypt_method m = (enum crypt_method)_i;
	size_t min = crypt_header_len(m) + crypt_trailer_len(m);
	struct crypt *c = test_crypt_new(m, NULL);
	uint8_t buf[64] = {0}, *body = NULL;

	for (size_t len = 0; len < min; len++)
		ck_assert_int_eq(crypt_open(c, buf, len, &body), KC_ESHORT);
	ck_assert_ptr_null(body);
	if (m == CRYPT_NULL)
		ck_assert_int_eq(crypt_open(c, buf, 0, &body), 0);
	crypt_free(c);
}
END_TEST

START_TEST(crypt_open_rejects_packets_sealed_under_another_key)
{
	enum crypt_method m = (enum crypt_method)_i;
	uint8_t key_a[CRYPT_KEY_LEN] = {1}, key_b[CRYPT_KEY_LEN] = {1}, buf[128], *body;
	size_t hdr = crypt_header_len(m);
	struct crypt *a, *b;
	int len;

	if (m == CRYPT_NULL || m == CRYPT_NONE)
		return; /* no key */
	key_b[0] = 2;	/* byte 0 is in every method's key prefix */
	a = test_crypt_new(m, key_a);
	b = test_crypt_new(m, key_b);
	memset(buf + hdr, 0x42, 64);
	len = crypt_seal(a, buf, 64);
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(crypt_open(b, buf, (size_t)len, &body), KC_EAUTH);
	crypt_free(b);
	crypt_free(a);
}
END_TEST

/* A rejected datagram leaves nothing behind: a twin that never saw it seals and opens the
 * same bytes afterwards. */
START_TEST(crypt_open_failure_leaves_state_unchanged)
{
	enum crypt_method m = (enum crypt_method)_i;
	size_t hdr = crypt_header_len(m), dgram = hdr + 48 + crypt_trailer_len(m);
	struct test_nonce na = {0}, nb = {0};
	struct crypt *a = test_crypt_new(m, NULL), *b = test_crypt_new(m, NULL);
	uint8_t pa[128] = {0}, pb[128] = {0}, junk[128], *body;

	if (m == CRYPT_NULL)
		goto out; /* nothing to reject */
	crypt_set_nonce_fn(a, test_nonce_fn, &na);
	crypt_set_nonce_fn(b, test_nonce_fn, &nb);
	memset(junk, 0xee, sizeof(junk));
	ck_assert_int_eq(crypt_open(a, junk, dgram, &body), KC_EAUTH);
	ck_assert_int_eq(crypt_open(a, junk, hdr / 2, &body), KC_ESHORT);
	ck_assert_int_eq(crypt_seal(a, pa, 48), (int)dgram);
	ck_assert_int_eq(crypt_seal(b, pb, 48), (int)dgram);
	ck_assert_mem_eq(pa, pb, dgram);
	ck_assert_int_eq(crypt_open(a, pb, dgram, &body), 48);
out:
	crypt_free(b);
	crypt_free(a);
}
END_TEST

/* The built-in generator: no repeats over many refills, and two objects differ. */
START_TEST(crypt_seal_draws_a_fresh_nonce_per_datagram)
{
	enum { N = 1000 };
	static uint8_t nonces[2 * N][CRYPT_NONCE_LEN];
	struct crypt *a = test_crypt_new(CRYPT_NONE, NULL), *b = test_crypt_new(CRYPT_NONE, NULL);
	struct test_nonce fixed = {0};
	uint8_t pkt[CRYPT_CFB_HEADER_LEN];

	for (int i = 0; i < 2 * N; i++) {
		ck_assert_int_eq(crypt_seal(i < N ? a : b, pkt, 0), CRYPT_CFB_HEADER_LEN);
		memcpy(nonces[i], pkt, CRYPT_NONCE_LEN); /* none leaves the nonce in clear */
	}
	for (int i = 0; i < 2 * N; i++)
		for (int j = 0; j < i; j++)
			ck_assert_msg(memcmp(nonces[i], nonces[j], CRYPT_NONCE_LEN) != 0,
				      "nonce %d repeats nonce %d", i, j);
	/* an injected source takes over, and NULL hands back to the generator */
	crypt_set_nonce_fn(a, test_nonce_fn, &fixed);
	crypt_seal(a, pkt, 0);
	ck_assert_uint_eq(fixed.calls, 1);
	crypt_set_nonce_fn(a, NULL, NULL);
	crypt_seal(a, pkt, 0);
	ck_assert_uint_eq(fixed.calls, 1);
	crypt_free(b);
	crypt_free(a);
}
END_TEST

START_TEST(crypt_method_parse_accepts_each_name_it_prints)
{
	for (int i = 0; i < CRYPT_METHOD_COUNT; i++) {
		enum crypt_method m = CRYPT_METHOD_COUNT;
		const char *why = NULL;

		ck_assert_int_eq(
		    crypt_method_parse(crypt_method_name((enum crypt_method)i), &m, &why), 0);
		ck_assert_int_eq(m, i);
		ck_assert_ptr_null(why);
	}
	ck_assert_str_eq(crypt_method_name(CRYPT_AES_256), "aes");
	ck_assert_str_eq(crypt_method_name(CRYPT_METHOD_COUNT), "?");
}
END_TEST

START_TEST(crypt_method_parse_refuses_legacy_names_saying_why)
{
	static const char *const legacy[] = {"xor",   "tea",  "xtea",	 "blowfish",
					     "cast5", "3des", "twofish", "sm4"};

	for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
		enum crypt_method m = CRYPT_METHOD_COUNT;
		const char *why = NULL;

		ck_assert_int_eq(crypt_method_parse(legacy[i], &m, &why), KC_ECIPHER);
		ck_assert_int_eq(m, CRYPT_METHOD_COUNT);
		ck_assert_ptr_nonnull(why);
		ck_assert_msg(strncmp(why, legacy[i], strlen(legacy[i])) == 0 &&
				  why[strlen(legacy[i])] == ' ',
			      "%s: message does not name it: %s", legacy[i], why);
		ck_assert_msg(strstr(why, "use aes-128") != NULL, "%s: no suggestion: %s",
			      legacy[i], why);
	}
}
END_TEST

START_TEST(crypt_method_parse_refuses_unknown_names_without_fallback)
{
	static const char *const unknown[] = {"",	  "AES",  "aes-256",   "aes128",
					      "chacha20", "aes ", "salsa20\n", "nul"};
	const char *why = NULL;
	enum crypt_method m = CRYPT_METHOD_COUNT;

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		why = NULL;
		ck_assert_int_eq(crypt_method_parse(unknown[i], &m, &why), KC_ECIPHER);
		ck_assert_int_eq(m, CRYPT_METHOD_COUNT);
		ck_assert_ptr_nonnull(strstr(why, "fall back"));
	}
	ck_assert_int_eq(crypt_method_parse(NULL, &m, &why), KC_ECIPHER);
	ck_assert_int_eq(crypt_method_parse("xor", &m, NULL), KC_ECIPHER);
}
END_TEST

/* mss.json: kcp-go's session header is 20 bytes for any BlockCrypt and 0 without one. */
START_TEST(crypt_header_len_matches_kcp_go_session_header)
{
	json_t *root = vec_load("mss.json");
	const json_t *row;
	unsigned checked = 0;
	size_t i;

	json_array_foreach(json_object_get(root, "rows"), i, row)
	{
		const char *crypt = json_string_value(json_object_get(row, "crypt"));
		const char *fec = json_string_value(json_object_get(row, "fec"));
		json_int_t hdr = json_integer_value(json_object_get(row, "session_header_bytes"));
		enum crypt_method m;

		if (strncmp(crypt, "nil", 3) == 0)
			m = CRYPT_NULL;
		else
			ck_assert_int_eq(crypt_method_parse(crypt, &m, NULL), 0);
		ck_assert_int_eq((json_int_t)crypt_header_len(m) + (strcmp(fec, "off") ? 8 : 0),
				 hdr);
		ck_assert_uint_eq(crypt_trailer_len(m), 0);
		checked++;
	}
	ck_assert_uint_gt(checked, 0);
	ck_assert_uint_eq(crypt_header_len(CRYPT_AES_128_GCM), CRYPT_GCM_NONCE_LEN);
	ck_assert_uint_eq(crypt_trailer_len(CRYPT_AES_128_GCM), CRYPT_GCM_TAG_LEN);
	json_decref(root);
}
END_TEST

START_TEST(crypt_new_and_seal_reject_bad_arguments)
{
	uint8_t key[CRYPT_KEY_LEN] = {0};
	static uint8_t big[CRYPT_DATAGRAM_MAX + 64];
	struct crypt *c;
	int err = 0;

	ck_assert_ptr_null(crypt_new(CRYPT_METHOD_COUNT, key, &err));
	ck_assert_int_eq(err, -EINVAL);
	err = 0;
	ck_assert_ptr_null(crypt_new(CRYPT_AES_128, NULL, &err));
	ck_assert_int_eq(err, -EINVAL);
	c = crypt_new(CRYPT_NONE, NULL, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(crypt_seal(c, big, CRYPT_DATAGRAM_MAX - CRYPT_CFB_HEADER_LEN + 1),
			 -EMSGSIZE);
	ck_assert_int_eq(crypt_seal(c, big, CRYPT_DATAGRAM_MAX - CRYPT_CFB_HEADER_LEN),
			 CRYPT_DATAGRAM_MAX);
	crypt_free(c);
	crypt_free(NULL);
	ck_assert(strcmp(crypt_backend_name(), "wolfssl") == 0 ||
		  strcmp(crypt_backend_name(), "openssl") == 0);
}
END_TEST

static Suite *crypt_suite(void)
{
	Suite *s = suite_create("crypt");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, crypt_json_every_implemented_cipher_seals_and_opens_like_kcp_go);
	tcase_add_test(tc, aes_cfb_matches_kcp_go_on_every_prefix_length);
	tcase_add_test(tc, aes_cfb_decrypt_inverts_encrypt_at_every_length_to_2100);
	tcase_add_test(tc, kdf_kcptun_matches_kcptun_key);
	tcase_add_test(tc, aead_json_aes_128_gcm_seals_and_opens_like_go);
	tcase_add_test(tc, capture_aes_datagrams_open_to_decoded_plaintexts);
	tcase_add_test(tc, capture_none_datagrams_open_to_decoded_plaintexts);
	tcase_add_test(tc, crypt_seal_crc32_matches_bitwise_crc32_for_every_length);
	tcase_add_loop_test(tc, crypt_round_trips_every_length_0_to_400, 0, CRYPT_METHOD_COUNT);
	tcase_add_loop_test(tc, crypt_open_rejects_any_flipped_bit_in_checked_bytes, 1,
			    CRYPT_METHOD_COUNT);
	tcase_add_loop_test(tc, crypt_open_rejects_datagrams_shorter_than_header_and_trailer, 0,
			    CRYPT_METHOD_COUNT);
	tcase_add_loop_test(tc, crypt_open_rejects_packets_sealed_under_another_key, 0,
			    CRYPT_METHOD_COUNT);
	tcase_add_loop_test(tc, crypt_open_failure_leaves_state_unchanged, 0, CRYPT_METHOD_COUNT);
	tcase_add_test(tc, crypt_seal_draws_a_fresh_nonce_per_datagram);
	tcase_add_test(tc, crypt_method_parse_accepts_each_name_it_prints);
	tcase_add_test(tc, crypt_method_parse_refuses_legacy_names_saying_why);
	tcase_add_test(tc, crypt_method_parse_refuses_unknown_names_without_fallback);
	tcase_add_test(tc, crypt_header_len_matches_kcp_go_session_header);
	tcase_add_test(tc, crypt_new_and_seal_reject_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(crypt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
