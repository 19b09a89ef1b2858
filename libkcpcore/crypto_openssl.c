/* crypto_backend.h on OpenSSL 3 libcrypto (--with-crypto=openssl). */
#include "config.h"

#include <openssl/evp.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_backend.h"
#include "kcpcore/error.h"

/* Keystream blocks computed per ECB call when decrypting CFB (on the stack). */
#define CRYPTO_CFB_CHUNK_LEN 1024

/* CFB-128 runs on one AES-ECB context (encrypting, no padding), keyed once; OpenSSL's own CFB
 * mode is slower both ways. Decryption makes its keystream from ciphertext alone, so one ECB
 * call covers many blocks, which AES-NI pipelines. Encryption is serial: one ECB call per
 * block into our own buffer still measured about 1.35 times faster than OpenSSL's CFB loop
 * (probably a store-forwarding stall there: it XORs its IV buffer in 8-byte words, then loads
 * it as one 16-byte block). */
struct crypto_aes {
	EVP_CIPHER_CTX *ecb;
	size_t key_len;
};

struct crypto_gcm {
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
};

static const EVP_CIPHER *crypto_aes_ecb_cipher(size_t key_len)
{
	switch (key_len) {
	case 16:
		return EVP_aes_128_ecb();
	case 24:
		return EVP_aes_192_ecb();
	case 32:
		return EVP_aes_256_ecb();
	}
	return NULL;
}

static const EVP_CIPHER *crypto_aes_gcm_cipher(size_t key_len)
{
	switch (key_len) {
	case 16:
		return EVP_aes_128_gcm();
	case 24:
		return EVP_aes_192_gcm();
	case 32:
		return EVP_aes_256_gcm();
	}
	return NULL;
}

/* Keys ctx for `cipher` (NULL keeps the current one) in direction `enc`. */
static int crypto_ctx_key(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, const uint8_t *key,
			  int enc)
{
	return EVP_CipherInit_ex2(ctx, cipher, key, NULL, enc, NULL) == 1 ? 0 : -EIO;
}

struct crypto_aes *crypto_aes_new(const uint8_t *key, size_t key_len, int *err)
{
	struct crypto_aes *a;
	int rc;

	if (key == NULL || crypto_aes_ecb_cipher(key_len) == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	a->ecb = EVP_CIPHER_CTX_new();
	if (a->ecb == NULL) {
		crypto_aes_free(a);
		*err = -ENOMEM;
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
	const EVP_CIPHER *ecb = crypto_aes_ecb_cipher(key_len);

	if (ecb == NULL)
		return -EINVAL;
	/* Same length: keep the cipher, so OpenSSL keeps its context instead of making one. */
	if (key_len == a->key_len)
		ecb = NULL;
	if (crypto_ctx_key(a->ecb, ecb, key, 1) < 0 || EVP_CIPHER_CTX_set_padding(a->ecb, 0) != 1)
		return -EIO;
	a->key_len = key_len;
	return 0;
}

void crypto_aes_free(struct crypto_aes *a)
{
	if (a == NULL)
		return;
	EVP_CIPHER_CTX_free(a->ecb); /* wipes the key schedule */
	free(a);
}

/* E(in) into out, one block. */
static int crypto_aes_block(struct crypto_aes *a, const uint8_t *in, uint8_t *out)
{
	int out_len;

	if (EVP_EncryptUpdate(a->ecb, out, &out_len, in, CRYPTO_AES_BLOCK_LEN) != 1 ||
	    out_len != CRYPTO_AES_BLOCK_LEN)
		return -EIO;
	return 0;
}

/* Ciphertext block i is P[i] ^ E(C[i-1]), with C[-1] = iv. */
int crypto_aes_cfb128_encrypt(struct crypto_aes *a, const uint8_t iv[CRYPTO_AES_BLOCK_LEN],
			      uint8_t *buf, size_t len)
{
	uint8_t ks[CRYPTO_AES_BLOCK_LEN];
	const uint8_t *prev = iv;
	size_t off = 0;

	if (len > INT_MAX)
		return -EINVAL;
	for (; len - off >= CRYPTO_AES_BLOCK_LEN; off += CRYPTO_AES_BLOCK_LEN) {
		if (crypto_aes_block(a, prev, ks) < 0)
			return -EIO;
		for (size_t i = 0; i < CRYPTO_AES_BLOCK_LEN; i++)
			buf[off + i] ^= ks[i];
		prev = buf + off;
	}
	if (off < len) {
		if (crypto_aes_block(a, prev, ks) < 0)
			return -EIO;
		for (size_t i = 0; off + i < len; i++)
			buf[off + i] ^= ks[i];
	}
	return 0;
}

/* Plaintext block i is C[i] ^ E(C[i-1]), with C[-1] = iv: the keystream of a chunk is one ECB
 * call over the ciphertext block before it and all its blocks but the last. */
int crypto_aes_cfb128_decrypt(struct crypto_aes *a, const uint8_t iv[CRYPTO_AES_BLOCK_LEN],
			      uint8_t *buf, size_t len)
{
	uint8_t ks[CRYPTO_CFB_CHUNK_LEN];
	uint8_t prev[CRYPTO_AES_BLOCK_LEN];
	size_t off = 0;

	if (len > INT_MAX)
		return -EINVAL;
	memcpy(prev, iv, sizeof(prev));
	while (off < len) {
		size_t n = len - off < sizeof(ks) ? len - off : sizeof(ks);
		size_t blocks = (n + CRYPTO_AES_BLOCK_LEN - 1) / CRYPTO_AES_BLOCK_LEN;
		size_t ks_len = blocks * CRYPTO_AES_BLOCK_LEN;
		int out_len;

		memcpy(ks, prev, CRYPTO_AES_BLOCK_LEN);
		memcpy(ks + CRYPTO_AES_BLOCK_LEN, buf + off, ks_len - CRYPTO_AES_BLOCK_LEN);
		if (n == sizeof(ks)) /* the next chunk's feedback, before it turns to plaintext */
			memcpy(prev, buf + off + n - CRYPTO_AES_BLOCK_LEN, sizeof(prev));
		if (EVP_EncryptUpdate(a->ecb, ks, &out_len, ks, (int)ks_len) != 1 ||
		    (size_t)out_len != ks_len)
			return -EIO;
		for (size_t i = 0; i < n; i++)
			buf[off + i] ^= ks[i];
		off += n;
	}
	return 0;
}

struct crypto_gcm *crypto_gcm_new(const uint8_t *key, size_t key_len, int *err)
{
	const EVP_CIPHER *cipher = crypto_aes_gcm_cipher(key_len);
	struct crypto_gcm *g;

	if (key == NULL || cipher == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	g->enc = EVP_CIPHER_CTX_new();
	g->dec = EVP_CIPHER_CTX_new();
	if (g->enc == NULL || g->dec == NULL) {
		crypto_gcm_free(g);
		*err = -ENOMEM;
		return NULL;
	}
	/* 12 bytes is GCM's default nonce length, so no EVP_CTRL_AEAD_SET_IVLEN is needed. */
	if (crypto_ctx_key(g->enc, cipher, key, 1) < 0 ||
	    crypto_ctx_key(g->dec, cipher, key, 0) < 0) {
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
	EVP_CIPHER_CTX_free(g->enc);
	EVP_CIPHER_CTX_free(g->dec);
	free(g);
}

/* Restarts ctx at `nonce`, feeds the additional data and runs it over buf in place. */
static int crypto_gcm_run(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *nonce, const uint8_t *ad,
			  size_t ad_len, uint8_t *buf, size_t len)
{
	int out_len;

	if (len > INT_MAX || ad_len > INT_MAX)
		return -EINVAL;
	if (EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, enc, NULL) != 1)
		return -EIO;
	if (ad_len > 0 && EVP_CipherUpdate(ctx, NULL, &out_len, ad, (int)ad_len) != 1)
		return -EIO;
	if (len > 0 &&
	    (EVP_CipherUpdate(ctx, buf, &out_len, buf, (int)len) != 1 || (size_t)out_len != len))
		return -EIO;
	return 0;
}

int crypto_gcm_seal(struct crypto_gcm *g, const uint8_t nonce[CRYPTO_GCM_NONCE_LEN],
		    const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
		    uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	int out_len, rc;

	rc = crypto_gcm_run(g->enc, 1, nonce, ad, ad_len, buf, len);
	if (rc < 0)
		return rc;
	/* GCM is a stream mode: Final writes no bytes, it computes the tag. */
	if (EVP_EncryptFinal_ex(g->enc, buf + len, &out_len) != 1 || out_len != 0 ||
	    EVP_CIPHER_CTX_ctrl(g->enc, EVP_CTRL_AEAD_GET_TAG, CRYPTO_GCM_TAG_LEN, tag) != 1)
		return -EIO;
	return 0;
}

int crypto_gcm_open(struct crypto_gcm *g, const uint8_t nonce[CRYPTO_GCM_NONCE_LEN],
		    const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
		    const uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	int out_len, rc;

	rc = crypto_gcm_run(g->dec, 0, nonce, ad, ad_len, buf, len);
	if (rc < 0)
		return rc;
	if (EVP_CIPHER_CTX_ctrl(g->dec, EVP_CTRL_AEAD_SET_TAG, CRYPTO_GCM_TAG_LEN, (void *)tag) !=
	    1)
		return -EIO;
	if (EVP_DecryptFinal_ex(g->dec, buf + len, &out_len) != 1)
		return KC_EAUTH;
	return 0;
}

int crypto_pbkdf2_sha1(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
		       unsigned iterations, uint8_t *out, size_t out_len)
{
	if (pass_len > INT_MAX || salt_len > INT_MAX || out_len > INT_MAX || iterations == 0 ||
	    iterations > INT_MAX)
		return -EINVAL;
	if (PKCS5_PBKDF2_HMAC((const char *)pass, (int)pass_len, salt, (int)salt_len,
			      (int)iterations, EVP_sha1(), (int)out_len, out) != 1)
		return -EIO;
	return 0;
}

const char *crypto_backend_name(void)
{
	return "openssl";
}
