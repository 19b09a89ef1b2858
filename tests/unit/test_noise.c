/* libkcpcore/noise: the secure mode's primitives (X25519, ChaCha20-Poly1305, BLAKE2s) on
 * either crypto backend against published vectors, HMAC-BLAKE2s and Noise's HKDF, and the
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake.
 *
 * Vectors and where they come from:
 * - X25519: RFC 7748 sections 5.2 (two single vectors, 1 and 1,000 iterations) and 6.1.
 * - ChaCha20-Poly1305: RFC 8439 section 2.8.2.
 * - BLAKE2s: RFC 7693 appendix B ("abc"); keyed BLAKE2s from the BLAKE2 reference KAT
 *   (blake2s-kat.txt: key 00..1f, message 00..len-1).
 * - Values marked "Python" were computed once with CPython 3.11's hashlib and hmac (their own
 *   BLAKE2s) and pyca/cryptography 48's ChaCha20Poly1305 and X25519 (its own bundled OpenSSL,
 *   not the system's libcrypto, and no wolfSSL). */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_backend.h"
#include "kcpcore/error.h"
#include "vectors.h"

/* Decodes `hex` (exactly 2 * len digits) into out[0..len). */
static void test_unhex(const char *hex, uint8_t *out, size_t len)
{
	size_t n;
	uint8_t *b = vec_hex(hex, &n);

	ck_assert_uint_eq(n, len);
	memcpy(out, b, n);
	free(b);
}

/* Asserts out[0..len) equals `hex`, naming `what`. */
static void test_mem_hex(const uint8_t *got, const char *hex, size_t len, const char *what)
{
	uint8_t want[512];

	ck_assert_uint_le(len, sizeof(want));
	test_unhex(hex, want, len);
	ck_assert_msg(memcmp(got, want, len) == 0, "%s differs from its vector", what);
}

/* RFC 7748 5.2: two scalar/u-coordinate pairs; the second u has its top bit set, which
 * X25519 must ignore. */
START_TEST(x25519_matches_rfc7748_section_5_2)
{
	static const char *const v[][3] = {
	    {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
	    {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
	};
	uint8_t k[32], u[32], k_copy[32], out[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		test_unhex(v[i][0], k, 32);
		test_unhex(v[i][1], u, 32);
		memcpy(k_copy, k, 32);
		ck_assert_int_eq(crypto_x25519(out, k, u), 0);
		test_mem_hex(out, v[i][2], 32, "X25519 5.2");
		ck_assert_mem_eq(k, k_copy, 32); /* clamped on a copy */
	}
}
END_TEST

/* RFC 7748 5.2, iterated: k = u = 9; then k, u = X25519(k, u), k. After 1 and 1,000 rounds. */
START_TEST(x25519_matches_rfc7748_iterations_1_and_1000)
{
	uint8_t k[32] = {9}, u[32] = {9}, next[32];

	for (int i = 1; i <= 1000; i++) {
		ck_assert_int_eq(crypto_x25519(next, k, u), 0);
		memcpy(u, k, 32);
		memcpy(k, next, 32);
		if (i == 1)
			test_mem_hex(k, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
				     32, "X25519 after 1 iteration");
	}
	test_mem_hex(k, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", 32,
		     "X25519 after 1000 iterations");
}
END_TEST

/* RFC 7748 6.1: Alice's and Bob's public keys and the secret both compute. */
START_TEST(x25519_matches_rfc7748_section_6_1_alice_and_bob)
{
	uint8_t a[32], b[32], pub_a[32], pub_b[32], s_ab[32], s_ba[32];

	test_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
	test_unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
	ck_assert_int_eq(crypto_x25519_pub(pub_a, a), 0);
	ck_assert_int_eq(crypto_x25519_pub(pub_b, b), 0);
	test_mem_hex(pub_a, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", 32,
		     "Alice's public key");
	test_mem_hex(pub_b, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", 32,
		     "Bob's public key");
	ck_assert_int_eq(crypto_x25519(s_ab, a, pub_b), 0);
	ck_assert_int_eq(crypto_x25519(s_ba, b, pub_a), 0);
	test_mem_hex(s_ab, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", 32,
		     "Alice's shared secret");
	ck_assert_mem_eq(s_ab, s_ba, 32);
}
END_TEST

/* Points of small order (0, 1, the two of order 8, and p - 1, p, p + 1, which reduce to
 * small-order ones), with and without the ignored top bit: the result is all zeros, which
 * must be refused. The list is the usual one (libsodium's); Python's X25519 refuses all 14. */
START_TEST(x25519_refuses_every_small_order_point)
{
	static const char *const low[] = {
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "0100000000000000000000000000000000000000000000000000000000000000",
	    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t priv[32], u[32], out[32];

	test_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", priv, 32);
	for (size_t i = 0; i < sizeof(low) / sizeof(low[0]); i++) {
		for (int top = 0; top < 2; top++) {
			test_unhex(low[i], u, 32);
			u[31] |= (uint8_t)(top << 7);
			memset(out, 0xaa, sizeof(out));
			ck_assert_msg(crypto_x25519(out, priv, u) == -EINVAL, "point %zu top %d", i,
				      top);
			ck_assert(crypto_is_zero(out, sizeof(out)));
		}
	}
}
END_TEST

START_TEST(x25519_keygen_draws_clamped_keys_that_agree)
{
	uint8_t a[32], b[32], pa[32], pb[32], sa[32], sb[32];

	ck_assert_int_eq(crypto_x25519_keygen(a), 0);
	ck_assert_int_eq(crypto_x25519_keygen(b), 0);
	ck_assert(memcmp(a, b, 32) != 0);
	ck_assert_uint_eq(a[0] & 7, 0);
	ck_assert_uint_eq(a[31] & 0xc0, 0x40);
	ck_assert_int_eq(crypto_x25519_pub(pa, a), 0);
	ck_assert_int_eq(crypto_x25519_pub(pb, b), 0);
	ck_assert_int_eq(crypto_x25519(sa, a, pb), 0);
	ck_assert_int_eq(crypto_x25519(sb, b, pa), 0);
	ck_assert_mem_eq(sa, sb, 32);
}
END_TEST

/* RFC 8439 2.8.2: the sunscreen text under key 80..9f. */
#define TEST_SUNSCREEN                                                                             \
	"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "     \
	"future, sunscreen would be it."
#define TEST_SUNSCREEN_CT                                                                          \
	"d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"                         \
	"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"                         \
	"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"                         \
	"3ff4def08e4b7a9de576d26586cec64b6116"
#define TEST_SUNSCREEN_TAG "1ae10b594f09e26a7e902ecbd0600691"

struct test_rfc8439 {
	uint8_t key[32], nonce[12], ad[12], buf[114], tag[16];
};

static void test_rfc8439_load(struct test_rfc8439 *v)
{
	for (int i = 0; i < 32; i++)
		v->key[i] = (uint8_t)(0x80 + i);
	test_unhex("070000004041424344454647", v->nonce, sizeof(v->nonce));
	test_unhex("50515253c0c1c2c3c4c5c6c7", v->ad, sizeof(v->ad));
	ck_assert_uint_eq(strlen(TEST_SUNSCREEN), sizeof(v->buf));
	memcpy(v->buf, TEST_SUNSCREEN, sizeof(v->buf));
}

START_TEST(chachapoly_matches_rfc8439_section_2_8_2)
{
	struct test_rfc8439 v;
	struct crypto_chachapoly *c;
	int err = 0;

	test_rfc8439_load(&v);
	c = crypto_chachapoly_new(v.key, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(crypto_chachapoly_seal(c, v.nonce, v.ad, 12, v.buf, 114, v.tag), 0);
	test_mem_hex(v.buf, TEST_SUNSCREEN_CT, 114, "RFC 8439 ciphertext (keyed)");
	test_mem_hex(v.tag, TEST_SUNSCREEN_TAG, 16, "RFC 8439 tag (keyed)");
	ck_assert_int_eq(crypto_chachapoly_open(c, v.nonce, v.ad, 12, v.buf, 114, v.tag), 0);
	ck_assert_mem_eq(v.buf, TEST_SUNSCREEN, 114);
	crypto_chachapoly_free(c);
	crypto_chachapoly_free(NULL);

	test_rfc8439_load(&v);
	ck_assert_int_eq(crypto_chachapoly_seal_key(v.key, v.nonce, v.ad, 12, v.buf, 114, v.tag), 0);
	test_mem_hex(v.buf, TEST_SUNSCREEN_CT, 114, "RFC 8439 ciphertext (one-shot)");
	test_mem_hex(v.tag, TEST_SUNSCREEN_TAG, 16, "RFC 8439 tag (one-shot)");
	ck_assert_int_eq(crypto_chachapoly_open_key(v.key, v.nonce, v.ad, 12, v.buf, 114, v.tag),
			 0);
	ck_assert_mem_eq(v.buf, TEST_SUNSCREEN, 114);
}
END_TEST

/* A flipped bit anywhere (ciphertext, tag, AD, nonce) fails with KC_EAUTH, and the buffer is
 * zeroed rather than left holding unauthenticated plaintext. Both forms. */
START_TEST(chachapoly_open_refuses_any_flipped_bit_and_zeroes_the_buffer)
{
	struct test_rfc8439 v, w;
	struct crypto_chachapoly *c;
	uint8_t *fields[] = {w.buf, w.tag, w.ad, w.nonce};
	size_t lens[] = {114, 16, 12, 12};
	int err = 0;

	test_rfc8439_load(&v);
	ck_assert_int_eq(crypto_chachapoly_seal_key(v.key, v.nonce, v.ad, 12, v.buf, 114, v.tag), 0);
	c = crypto_chachapoly_new(v.key, &err);
	ck_assert_ptr_nonnull(c);
	for (size_t f = 0; f < 4; f++) {
		for (size_t byte = 0; byte < lens[f]; byte++) {
			int bit = (int)(byte % 8), rc;

			w = v;
			fields[f][byte] ^= (uint8_t)(1 << bit);
			rc = byte % 2 ? crypto_chachapoly_open(c, w.nonce, w.ad, 12, w.buf, 114,
							       w.tag)
				      : crypto_chachapoly_open_key(w.key, w.nonce, w.ad, 12, w.buf,
								   114, w.tag);
			ck_assert_msg(rc == KC_EAUTH, "field %zu byte %zu: %d", f, byte, rc);
			ck_assert(crypto_is_zero(w.buf, 114));
		}
	}
	crypto_chachapoly_free(c);
}
END_TEST

/* Every length 0..256 (AD 0..22 bytes, Noise-style nonces) against Python's
 * ChaCha20Poly1305: BLAKE2s over all ciphertexts and tags. Catches a backend that mishandles
 * empty input or partial blocks; the keyed and one-shot forms must agree byte for byte. */
START_TEST(chachapoly_every_length_to_256_matches_python_and_round_trips)
{
	uint8_t key[32], buf[256 + 16], copy[256], ad[23], nonce[12] = {0}, tag[16], digest[32];
	struct crypto_chachapoly *c;
	struct crypto_part part;
	uint8_t all[(256 * 257 / 2) + 257 * 16];
	size_t off = 0;
	int err = 0;

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x40 + i);
	for (int i = 0; i < 23; i++)
		ad[i] = (uint8_t)i;
	c = crypto_chachapoly_new(key, &err);
	ck_assert_ptr_nonnull(c);
	for (size_t n = 0; n <= 256; n++) {
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(i * 13 + n);
		memcpy(copy, buf, n);
		nonce[4] = (uint8_t)n;
		nonce[5] = (uint8_t)(n >> 8);
		ck_assert_int_eq(crypto_chachapoly_seal(c, nonce, ad, n % 23, buf, n, tag), 0);
		memcpy(all + off, buf, n);
		memcpy(all + off + n, tag, 16);
		/* the one-shot form seals the same bytes */
		memcpy(buf, copy, n);
		ck_assert_int_eq(crypto_chachapoly_seal_key(key, nonce, ad, n % 23, buf, n, tag), 0);
		ck_assert_mem_eq(all + off, buf, n);
		ck_assert_mem_eq(all + off + n, tag, 16);
		ck_assert_int_eq(crypto_chachapoly_open(c, nonce, ad, n % 23, buf, n, tag), 0);
		ck_assert_mem_eq(buf, copy, n);
		off += n + 16;
	}
	ck_assert_uint_eq(off, sizeof(all));
	part = (struct crypto_part){all, off};
	ck_assert_int_eq(crypto_blake2s(digest, 32, NULL, 0, &part, 1), 0);
	test_mem_hex(digest, "8286d6ea1ff65de95f9dc65b9eca634356a9acf480c0727afce318f98caa9938", 32,
		     "digest of 257 seals (Python)");
	crypto_chachapoly_free(c);
}
END_TEST

/* Nothing to seal and no AD (NULL pointers): the tag alone, as Python computes it for key and
 * nonce all zeros. wolfSSL 5.5.4's streaming API needs help there. */
START_TEST(chachapoly_seals_and_opens_nothing_at_all)
{
	static const uint8_t key[32], nonce[12];
	struct crypto_chachapoly *c;
	uint8_t tag[16];
	int err = 0;

	c = crypto_chachapoly_new(key, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(crypto_chachapoly_seal(c, nonce, NULL, 0, NULL, 0, tag), 0);
	test_mem_hex(tag, "4eb972c9a8fb3a1b382bb4d36f5ffad1", 16, "tag of nothing (keyed)");
	ck_assert_int_eq(crypto_chachapoly_open(c, nonce, NULL, 0, NULL, 0, tag), 0);
	memset(tag, 0, sizeof(tag));
	ck_assert_int_eq(crypto_chachapoly_seal_key(key, nonce, NULL, 0, NULL, 0, tag), 0);
	test_mem_hex(tag, "4eb972c9a8fb3a1b382bb4d36f5ffad1", 16, "tag of nothing (one-shot)");
	ck_assert_int_eq(crypto_chachapoly_open_key(key, nonce, NULL, 0, NULL, 0, tag), 0);
	tag[15] ^= 1;
	ck_assert_int_eq(crypto_chachapoly_open_key(key, nonce, NULL, 0, NULL, 0, tag), KC_EAUTH);
	ck_assert_int_eq(crypto_chachapoly_open(c, nonce, NULL, 0, NULL, 0, tag), KC_EAUTH);
	crypto_chachapoly_free(c);
}
END_TEST

START_TEST(blake2s_matches_rfc7693_abc_and_the_empty_message)
{
	struct crypto_part abc = {"abc", 3};
	uint8_t out[32];

	ck_assert_int_eq(crypto_blake2s(out, 32, NULL, 0, &abc, 1), 0);
	test_mem_hex(out, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982", 32,
		     "BLAKE2s(abc)");
	ck_assert_int_eq(crypto_blake2s(out, 32, NULL, 0, NULL, 0), 0);
	test_mem_hex(out, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9", 32,
		     "BLAKE2s of nothing");
}
END_TEST

/* blake2s-kat.txt: key 00..1f, message 00..len-1, around the 64-byte block edge. */
START_TEST(blake2s_keyed_matches_the_reference_kat)
{
	static const struct {
		size_t len;
		const char *hash;
	} kat[] = {
	    {0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"},
	    {1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1"},
	    {2, "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803"},
	    {63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd"},
	    {64, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4"},
	    {65, "21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8"},
	    {78, "172ffc67153d12e0ca76a8b6cd5d4731885b39ce0cac93a8972a18006c8b8baf"},
	};
	uint8_t key[32], msg[80], out[32];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 80; i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		struct crypto_part whole = {msg, kat[i].len};
		/* the same message in three parts, one of them empty, gives the same hash */
		struct crypto_part split[] = {{msg, kat[i].len / 3},
					      {NULL, 0},
					      {msg + kat[i].len / 3, kat[i].len - kat[i].len / 3}};

		ck_assert_int_eq(crypto_blake2s(out, 32, key, 32, &whole, 1), 0);
		test_mem_hex(out, kat[i].hash, 32, "keyed BLAKE2s KAT");
		memset(out, 0, sizeof(out));
		ck_assert_int_eq(crypto_blake2s(out, 32, key, 32, split, 3), 0);
		test_mem_hex(out, kat[i].hash, 32, "keyed BLAKE2s KAT in parts");
	}
}
END_TEST

/* A shorter output is another hash (the length is in the parameter block), not a prefix;
 * Python: blake2s(b"", key=bytes(range(32)), digest_size=16). */
START_TEST(blake2s_keyed_16_byte_output_is_its_own_hash)
{
	uint8_t key[32], out[32];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	memset(out, 0xee, sizeof(out));
	ck_assert_int_eq(crypto_blake2s(out, 16, key, 32, NULL, 0), 0);
	test_mem_hex(out, "9536f9b267655743dee97b8a670f9f53", 16, "16-byte keyed BLAKE2s");
	for (int i = 16; i < 32; i++)
		ck_assert_uint_eq(out[i], 0xee); /* nothing written past out_len */
}
END_TEST

START_TEST(blake2s_refuses_bad_lengths_the_same_on_both_backends)
{
	uint8_t key[33] = {0}, out[33];

	ck_assert_int_eq(crypto_blake2s(out, 0, key, 32, NULL, 0), -EINVAL);
	ck_assert_int_eq(crypto_blake2s(out, 33, key, 32, NULL, 0), -EINVAL);
	ck_assert_int_eq(crypto_blake2s(out, 32, key, 33, NULL, 0), -EINVAL);
	ck_assert_int_eq(crypto_blake2s(out, 32, NULL, 16, NULL, 0), -EINVAL);
	ck_assert_int_eq(crypto_blake2s(out, 16, NULL, 0, NULL, 0), -EOPNOTSUPP);
	ck_assert_int_eq(crypto_blake2s(out, 1, key, 1, NULL, 0), 0);
}
END_TEST

static Suite *noise_suite(void)
{
	Suite *s = suite_create("noise");
	TCase *tc = tcase_create("primitives");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, x25519_matches_rfc7748_section_5_2);
	tcase_add_test(tc, x25519_matches_rfc7748_iterations_1_and_1000);
	tcase_add_test(tc, x25519_matches_rfc7748_section_6_1_alice_and_bob);
	tcase_add_test(tc, x25519_refuses_every_small_order_point);
	tcase_add_test(tc, x25519_keygen_draws_clamped_keys_that_agree);
	tcase_add_test(tc, chachapoly_matches_rfc8439_section_2_8_2);
	tcase_add_test(tc, chachapoly_open_refuses_any_flipped_bit_and_zeroes_the_buffer);
	tcase_add_test(tc, chachapoly_every_length_to_256_matches_python_and_round_trips);
	tcase_add_test(tc, chachapoly_seals_and_opens_nothing_at_all);
	tcase_add_test(tc, blake2s_matches_rfc7693_abc_and_the_empty_message);
	tcase_add_test(tc, blake2s_keyed_matches_the_reference_kat);
	tcase_add_test(tc, blake2s_keyed_16_byte_output_is_its_own_hash);
	tcase_add_test(tc, blake2s_refuses_bad_lengths_the_same_on_both_backends);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(noise_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
