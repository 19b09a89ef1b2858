/* crypto_backend.h on wolfSSL's wolfCrypt (the default backend). */
#include "config.h"

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
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

const char *crypto_backend_name(void)
{
	return "wolfssl";
}
