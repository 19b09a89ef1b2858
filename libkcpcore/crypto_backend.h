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

#endif
