/* The thin interface between libkcpcore and its crypto library, chosen at configure time:
 * crypto_wolfssl.c (default) or crypto_openssl.c (--with-crypto=openssl). Private.
 *
 * Primitives only, never a wrapper per cipher name: keyed contexts are made once (per crypt
 * object) and the per-packet calls work in place and allocate nothing. Functions return 0 or
 * a negative code: -EINVAL for bad arguments, -ENOMEM, -EIO when the library fails. */
#ifndef KCPCORE_CRYPTO_BACKEND_H
#define KCPCORE_CRYPTO_BACKEND_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>

#define CRYPTO_AES_BLOCK_LEN 16
#define CRYPTO_GCM_NONCE_LEN 12
#define CRYPTO_GCM_TAG_LEN   16

#define CRYPTO_X25519_LEN	 32
#define CRYPTO_CHACHA_KEY_LEN	 32
#define CRYPTO_AEAD_NONCE_LEN	 12
#define CRYPTO_AEAD_TAG_LEN	 16
#define CRYPTO_BLAKE2S_LEN	 32 /* the longest output and the longest key */
#define CRYPTO_BLAKE2S_BLOCK_LEN 64 /* what HMAC pads its key to */

/* AES keyed for the forward direction, which is all CFB needs. */
struct crypto_aes;

/* AES context keyed with key_len (16, 24 or 32) bytes. Returns NULL and sets *err on failure.
 * Free with crypto_aes_free(). */
struct crypto_aes *crypto_aes_new(const uint8_t *key, size_t key_len, int *err);

/* Replaces the key of `a` (same rules for key_len); allocates nothing when key_len is the
 * length `a` was made with. */
int crypto_aes_setkey(struct crypto_aes *a, const uint8_t *key, size_t key_len);

/* Wipes and frees `a`. NULL is ignored. */
void crypto_aes_free(struct crypto_aes *a);

/* CFB-128 (full-block feedback) from `iv` over buf[0..len), in place. Each call starts afresh
 * at `iv`: nothing carries over from the previous call. */
int crypto_aes_cfb128_encrypt(struct crypto_aes *a, const uint8_t iv[CRYPTO_AES_BLOCK_LEN],
			      uint8_t *buf, size_t len);
int crypto_aes_cfb128_decrypt(struct crypto_aes *a, const uint8_t iv[CRYPTO_AES_BLOCK_LEN],
			      uint8_t *buf, size_t len);

/* AES-GCM with 12-byte nonces and 16-byte tags. */
struct crypto_gcm;

/* GCM context keyed with key_len (16, 24 or 32) bytes. Returns NULL and sets *err on failure.
 * Free with crypto_gcm_free(). */
struct crypto_gcm *crypto_gcm_new(const uint8_t *key, size_t key_len, int *err);

/* Wipes and frees `g`. NULL is ignored. */
void crypto_gcm_free(struct crypto_gcm *g);

/* Encrypts buf[0..len) in place and writes the tag; `ad` (ad_len bytes) is authenticated. */
int crypto_gcm_seal(struct crypto_gcm *g, const uint8_t nonce[CRYPTO_GCM_NONCE_LEN],
		    const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
		    uint8_t tag[CRYPTO_GCM_TAG_LEN]);

/* Checks `tag` and decrypts buf[0..len) in place. Returns 0, or KC_EAUTH when the tag does
 * not verify (buf's bytes are then undefined). */
int crypto_gcm_open(struct crypto_gcm *g, const uint8_t nonce[CRYPTO_GCM_NONCE_LEN],
		    const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
		    const uint8_t tag[CRYPTO_GCM_TAG_LEN]);

/* PBKDF2-HMAC-SHA1 of pass and salt with `iterations` rounds into out[0..out_len). */
int crypto_pbkdf2_sha1(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
		       unsigned iterations, uint8_t *out, size_t out_len);

/* X25519 (RFC 7748). Private keys are clamped as RFC 7748 says on a copy: the caller's bytes
 * are used as they are. */

/* pub = X25519(priv, 9). */
int crypto_x25519_pub(uint8_t pub[CRYPTO_X25519_LEN], const uint8_t priv[CRYPTO_X25519_LEN]);

/* shared = X25519(priv, peer_pub); the top bit of peer_pub is ignored. Returns -EINVAL, with
 * `shared` zeroed, when the result is all zeros (peer_pub is a point of small order); with
 * OpenSSL, -ENOMEM when a thread's first call cannot make its contexts (see below). */
int crypto_x25519(uint8_t shared[CRYPTO_X25519_LEN], const uint8_t priv[CRYPTO_X25519_LEN],
		  const uint8_t peer_pub[CRYPTO_X25519_LEN]);

/* ChaCha20-Poly1305 (RFC 8439) with 12-byte nonces and 16-byte tags, keyed once for a data
 * path: the per-packet calls work in place and allocate nothing. */
struct crypto_chachapoly;

/* Context keyed with a 32-byte key. Returns NULL and sets *err on failure. Free with
 * crypto_chachapoly_free(). */
struct crypto_chachapoly *crypto_chachapoly_new(const uint8_t key[CRYPTO_CHACHA_KEY_LEN], int *err);

/* Wipes and frees `c`. NULL is ignored. */
void crypto_chachapoly_free(struct crypto_chachapoly *c);

/* Encrypts buf[0..len) in place and writes the tag; `ad` (ad_len bytes) is authenticated. */
int crypto_chachapoly_seal(struct crypto_chachapoly *c, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
			   const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
			   uint8_t tag[CRYPTO_AEAD_TAG_LEN]);

/* Checks `tag` and decrypts buf[0..len) in place. Returns 0, or KC_EAUTH when the tag does
 * not verify: buf[0..len) is then zeroed, so no unauthenticated plaintext is left behind. */
int crypto_chachapoly_open(struct crypto_chachapoly *c, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
			   const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
			   const uint8_t tag[CRYPTO_AEAD_TAG_LEN]);

/* One-shot forms with the key given per call (the handshake's keys change with every
 * message). Same results as above; they allocate nothing per call either, except that the
 * OpenSSL backend makes one context per thread on first use (-ENOMEM if it cannot). */
int crypto_chachapoly_seal_key(const uint8_t key[CRYPTO_CHACHA_KEY_LEN],
			       const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const uint8_t *ad,
			       size_t ad_len, uint8_t *buf, size_t len,
			       uint8_t tag[CRYPTO_AEAD_TAG_LEN]);
int crypto_chachapoly_open_key(const uint8_t key[CRYPTO_CHACHA_KEY_LEN],
			       const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const uint8_t *ad,
			       size_t ad_len, uint8_t *buf, size_t len,
			       const uint8_t tag[CRYPTO_AEAD_TAG_LEN]);

/* One input of crypto_blake2s(): len bytes at p (p may be NULL when len is 0). */
struct crypto_part {
	const void *p;
	size_t len;
};

/* BLAKE2s (RFC 7693) of the concatenation of parts[0..n) into out[0..out_len).
 * Keyed (a MAC) when key_len > 0: key_len 1..32 and out_len 1..32. Unkeyed, out_len must be
 * 32: OpenSSL 3.0 has no shorter unkeyed BLAKE2s, and both backends refuse the same inputs
 * (-EOPNOTSUPP). -EINVAL for other bad lengths. */
int crypto_blake2s(uint8_t *out, size_t out_len, const uint8_t *key, size_t key_len,
		   const struct crypto_part *parts, size_t n);

/* "wolfssl" or "openssl". */
const char *crypto_backend_name(void);

/* Fills out[0..len) from the kernel's CSPRNG (getrandom), the same for both backends: used
 * to seed generators at set-up, never per packet. Returns 0 or -errno. */
static inline int crypto_random(uint8_t *out, size_t len)
{
	while (len > 0) {
		ssize_t n = getrandom(out, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

/* RFC 7748's decodeScalar25519 on k, in place. */
static inline void crypto_x25519_clamp(uint8_t k[CRYPTO_X25519_LEN])
{
	k[0] &= 248;
	k[CRYPTO_X25519_LEN - 1] &= 127;
	k[CRYPTO_X25519_LEN - 1] |= 64;
}

/* Draws a new X25519 private key (crypto_random, clamped). Returns 0 or -errno. */
static inline int crypto_x25519_keygen(uint8_t priv[CRYPTO_X25519_LEN])
{
	int rc = crypto_random(priv, CRYPTO_X25519_LEN);

	if (rc < 0)
		return rc;
	crypto_x25519_clamp(priv);
	return 0;
}

/* 1 when p[0..len) are all zero, 0 otherwise, in time that depends on len only. */
static inline int crypto_is_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return (int)((acc - 1u) >> 8) & 1;
}

#endif
