/* crypto_backend.h on wolfSSL's wolfCrypt (the default backend). */
#include "config.h"

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/blake2.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/curve25519.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/pwdbased.h>
#include <wolfssl/wolfcrypt/sha.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_backend.h"
#include "kcpcore/error.h"

struct crypto_aes {
	Aes aes;
};

struct crypto_gcm {
	Aes aes;
};

static int crypto_key_len_ok(size_t key_len)
{
	return key_len == 16 || key_len == 24 || key_len == 32;
}

struct crypto_aes *crypto_aes_new(const uint8_t *key, size_t key_len, int *err)
{
	struct crypto_aes *a;
	int rc;

	if (key == NULL || !crypto_key_len_ok(key_len)) {
		*err = -EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	if (wc_AesInit(&a->aes, NULL, INVALID_DEVID) != 0) {
		free(a);
		*err = -EIO;
		return NULL;
	}
	rc = crypto_aes_setkey(a, key, key_len);
	if (rc < 0) {
		crypto_aes_free(a);
		*err = rc;
		return NULL;
	}
	return a;
}

int crypto_aes_setkey(struct crypto_aes *a, const uint8_t *key, size_t key_len)
{
	if (!crypto_key_len_ok(key_len))
		return -EINVAL;
	/* CFB only ever runs the block cipher forwards, whichever way the data goes. */
	if (wc_AesSetKey(&a->aes, key, (word32)key_len, NULL, AES_ENCRYPTION) != 0)
		return -EIO;
	return 0;
}

void crypto_aes_free(struct crypto_aes *a)
{
	if (a == NULL)
		return;
	wc_AesFree(&a->aes);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

int crypto_aes_cfb128_encrypt(struct crypto_aes *a, const uint8_t iv[CRYPTO_AES_BLOCK_LEN],
			      uint8_t *buf, size_t len)
{
	if (len > UINT32_MAX)
		return -EINVAL;
	/* wc_AesSetIV also drops any keystream left over from a partial last block. */
	if (wc_AesSetIV(&a->aes, iv) != 0 || wc_AesCfbEncrypt(&a->aes, buf, buf, (word32)len) != 0)
		return -EIO;
	return 0;
}

int crypto_aes_cfb128_decrypt(struct crypto_aes *a, const uint8_t iv[CRYPTO_AES_BLOCK_LEN],
			      uint8_t *buf, size_t len)
{
	if (len > UINT32_MAX)
		return -EINVAL;
	if (wc_AesSetIV(&a->aes, iv) != 0 || wc_AesCfbDecrypt(&a->aes, buf, buf, (word32)len) != 0)
		return -EIO;
	return 0;
}

struct crypto_gcm *crypto_gcm_new(const uint8_t *key, size_t key_len, int *err)
{
	struct crypto_gcm *g;

	if (key == NULL || !crypto_key_len_ok(key_len)) {
		*err = -EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	if (wc_AesInit(&g->aes, NULL, INVALID_DEVID) != 0) {
		free(g);
		*err = -EIO;
		return NULL;
	}
	if (wc_AesGcmSetKey(&g->aes, key, (word32)key_len) != 0) {
		crypto_gcm_free(g);
		*err = -EIO;
		return NULL;
	}
	return g;
}

void crypto_gcm_free(struct crypto_gcm *g)
{
	if (g == NULL)
		return;
	wc_AesFree(&g->aes);
	explicit_bzero(g, sizeof(*g));
	free(g);
}

int crypto_gcm_seal(struct crypto_gcm *g, const uint8_t nonce[CRYPTO_GCM_NONCE_LEN],
		    const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
		    uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	if (len > UINT32_MAX || ad_len > UINT32_MAX)
		return -EINVAL;
	if (wc_AesGcmEncrypt(&g->aes, buf, buf, (word32)len, nonce, CRYPTO_GCM_NONCE_LEN, tag,
			     CRYPTO_GCM_TAG_LEN, ad, (word32)ad_len) != 0)
		return -EIO;
	return 0;
}

int crypto_gcm_open(struct crypto_gcm *g, const uint8_t nonce[CRYPTO_GCM_NONCE_LEN],
		    const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
		    const uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	int rc;

	if (len > UINT32_MAX || ad_len > UINT32_MAX)
		return -EINVAL;
	rc = wc_AesGcmDecrypt(&g->aes, buf, buf, (word32)len, nonce, CRYPTO_GCM_NONCE_LEN, tag,
			      CRYPTO_GCM_TAG_LEN, ad, (word32)ad_len);
	if (rc == AES_GCM_AUTH_E)
		return KC_EAUTH;
	return rc == 0 ? 0 : -EIO;
}

int crypto_pbkdf2_sha1(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
		       unsigned iterations, uint8_t *out, size_t out_len)
{
	static const uint8_t empty[1];

	if (pass_len > INT_MAX || salt_len > INT_MAX || out_len > INT_MAX || iterations == 0 ||
	    iterations > INT_MAX)
		return -EINVAL;
	if (wc_PBKDF2(out, pass_len > 0 ? pass : empty, (int)pass_len, salt, (int)salt_len,
		      (int)iterations, (int)out_len, WC_SHA) != 0)
		return -EIO;
	return 0;
}

int crypto_x25519_pub(uint8_t pub[CRYPTO_X25519_LEN], const uint8_t priv[CRYPTO_X25519_LEN])
{
	uint8_t k[CRYPTO_X25519_LEN];
	int rc;

	memcpy(k, priv, sizeof(k));
	crypto_x25519_clamp(k); /* wolfSSL refuses unclamped keys */
	rc = wc_curve25519_make_pub(CRYPTO_X25519_LEN, pub, CRYPTO_X25519_LEN, k);
	explicit_bzero(k, sizeof(k));
	return rc == 0 ? 0 : -EIO;
}

int crypto_x25519(uint8_t shared[CRYPTO_X25519_LEN], const uint8_t priv[CRYPTO_X25519_LEN],
		  const uint8_t peer_pub[CRYPTO_X25519_LEN])
{
	uint8_t k[CRYPTO_X25519_LEN];
	int rc;

	memcpy(k, priv, sizeof(k));
	crypto_x25519_clamp(k);
	/* wc_curve25519_generic: the raw little-endian ladder of RFC 7748, no key objects */
	rc = wc_curve25519_generic(CRYPTO_X25519_LEN, shared, CRYPTO_X25519_LEN, k,
				   CRYPTO_X25519_LEN, peer_pub);
	explicit_bzero(k, sizeof(k));
	if (rc != 0) {
		explicit_bzero(shared, CRYPTO_X25519_LEN);
		return -EIO;
	}
	return crypto_is_zero(shared, CRYPTO_X25519_LEN) ? -EINVAL : 0;
}

/* A ChaCha20-Poly1305 context is just its key: wolfSSL's AEAD state is made on the stack per
 * call (a ChaCha block for the Poly1305 key either way), so nothing is allocated after _new. */
struct crypto_chachapoly {
	uint8_t key[CRYPTO_CHACHA_KEY_LEN];
};

/* Runs the AEAD over buf in place (enc 1 seals, 0 opens) and writes the tag it computes. */
static int crypto_chachapoly_run(const uint8_t *key, int enc, const uint8_t *nonce,
				 const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
				 uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	ChaChaPoly_Aead aead;
	uint8_t none;
	int rc = -EIO;

	if (len > UINT32_MAX || ad_len > UINT32_MAX)
		return -EINVAL;
	if (wc_ChaCha20Poly1305_Init(&aead, key, nonce, enc) != 0)
		goto out;
	if (ad_len > 0 && wc_ChaCha20Poly1305_UpdateAad(&aead, ad, (word32)ad_len) != 0)
		goto out;
	/* called even for no data: Final refuses a state that saw neither AD nor data, and an
	 * empty AD leaves the state as it was (wolfSSL 5.5.4) */
	if (len == 0)
		buf = &none;
	if (wc_ChaCha20Poly1305_UpdateData(&aead, buf, buf, (word32)len) != 0)
		goto out;
	if (wc_ChaCha20Poly1305_Final(&aead, tag) != 0)
		goto out;
	rc = 0;
out:
	explicit_bzero(&aead, sizeof(aead));
	return rc;
}

static int crypto_chachapoly_open_run(const uint8_t *key, const uint8_t *nonce, const uint8_t *ad,
				      size_t ad_len, uint8_t *buf, size_t len,
				      const uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	uint8_t want[CRYPTO_AEAD_TAG_LEN];
	int rc = crypto_chachapoly_run(key, 0, nonce, ad, ad_len, buf, len, want);

	if (rc == 0 && wc_ChaCha20Poly1305_CheckTag(tag, want) != 0)
		rc = KC_EAUTH;
	if (rc == KC_EAUTH && len > 0)
		explicit_bzero(buf, len);
	return rc;
}

struct crypto_chachapoly *crypto_chachapoly_new(const uint8_t key[CRYPTO_CHACHA_KEY_LEN], int *err)
{
	struct crypto_chachapoly *c;

	if (key == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	c = malloc(sizeof(*c));
	if (c == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(c->key, key, sizeof(c->key));
	return c;
}

void crypto_chachapoly_free(struct crypto_chachapoly *c)
{
	if (c == NULL)
		return;
	explicit_bzero(c, sizeof(*c));
	free(c);
}

int crypto_chachapoly_seal(struct crypto_chachapoly *c, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
			   const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
			   uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	return crypto_chachapoly_run(c->key, 1, nonce, ad, ad_len, buf, len, tag);
}

int crypto_chachapoly_open(struct crypto_chachapoly *c, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
			   const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
			   const uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	return crypto_chachapoly_open_run(c->key, nonce, ad, ad_len, buf, len, tag);
}

int crypto_chachapoly_seal_key(const uint8_t key[CRYPTO_CHACHA_KEY_LEN],
			       const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const uint8_t *ad,
			       size_t ad_len, uint8_t *buf, size_t len,
			       uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	return crypto_chachapoly_run(key, 1, nonce, ad, ad_len, buf, len, tag);
}

int crypto_chachapoly_open_key(const uint8_t key[CRYPTO_CHACHA_KEY_LEN],
			       const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const uint8_t *ad,
			       size_t ad_len, uint8_t *buf, size_t len,
			       const uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	return crypto_chachapoly_open_run(key, nonce, ad, ad_len, buf, len, tag);
}

int crypto_blake2s(uint8_t *out, size_t out_len, const uint8_t *key, size_t key_len,
		   const struct crypto_part *parts, size_t n)
{
	Blake2s b;
	int rc = -EIO;

	if (out_len == 0 || out_len > CRYPTO_BLAKE2S_LEN || key_len > CRYPTO_BLAKE2S_LEN ||
	    (key_len > 0 && key == NULL))
		return -EINVAL;
	if (key_len == 0 && out_len != CRYPTO_BLAKE2S_LEN)
		return -EOPNOTSUPP; /* as the OpenSSL backend must */
	if ((key_len > 0 ? wc_InitBlake2s_WithKey(&b, (word32)out_len, key, (word32)key_len)
			 : wc_InitBlake2s(&b, (word32)out_len)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (parts[i].len > UINT32_MAX) {
			rc = -EINVAL;
			goto out;
		}
		if (parts[i].len > 0 && wc_Blake2sUpdate(&b, parts[i].p, (word32)parts[i].len) != 0)
			goto out;
	}
	if (wc_Blake2sFinal(&b, out, (word32)out_len) != 0)
		goto out;
	rc = 0;
out:
	explicit_bzero(&b, sizeof(b));
	return rc;
}

const char *crypto_backend_name(void)
{
	return "wolfssl";
}
