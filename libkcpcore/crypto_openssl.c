/* crypto_backend.h on OpenSSL 3 libcrypto (--with-crypto=openssl). */
#include "config.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
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

/* Restarts ctx at `nonce` (and `key`, unless NULL), feeds the additional data and runs it over
 * buf in place. Serves AES-GCM and ChaCha20-Poly1305 alike: both take 12-byte nonces. */
static int crypto_aead_run(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *key, const uint8_t *nonce,
			   const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len)
{
	int out_len;

	if (len > INT_MAX || ad_len > INT_MAX)
		return -EINVAL;
	if (EVP_CipherInit_ex2(ctx, NULL, key, nonce, enc, NULL) != 1)
		return -EIO;
	if (ad_len > 0 && EVP_CipherUpdate(ctx, NULL, &out_len, ad, (int)ad_len) != 1)
		return -EIO;
	if (len > 0 &&
	    (EVP_CipherUpdate(ctx, buf, &out_len, buf, (int)len) != 1 || (size_t)out_len != len))
		return -EIO;
	return 0;
}

/* Seals buf in place and writes the 16-byte tag. */
static int crypto_aead_seal(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t *nonce,
			    const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
			    uint8_t *tag)
{
	int out_len, rc;

	rc = crypto_aead_run(ctx, 1, key, nonce, ad, ad_len, buf, len);
	if (rc < 0)
		return rc;
	/* stream modes: Final writes no bytes, it computes the tag */
	if (EVP_EncryptFinal_ex(ctx, buf + len, &out_len) != 1 || out_len != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, CRYPTO_AEAD_TAG_LEN, tag) != 1)
		return -EIO;
	return 0;
}

/* Opens buf in place against the 16-byte tag: 0, or KC_EAUTH (buf then undefined). */
static int crypto_aead_open(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t *nonce,
			    const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
			    const uint8_t *tag)
{
	int out_len, rc;

	rc = crypto_aead_run(ctx, 0, key, nonce, ad, ad_len, buf, len);
	if (rc < 0)
		return rc;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, CRYPTO_AEAD_TAG_LEN, (void *)tag) != 1)
		return -EIO;
	if (EVP_DecryptFinal_ex(ctx, buf + len, &out_len) != 1)
		return KC_EAUTH;
	return 0;
}

_Static_assert(CRYPTO_GCM_TAG_LEN == CRYPTO_AEAD_TAG_LEN, "one tag length for both AEADs");

int crypto_gcm_seal(struct crypto_gcm *g, const uint8_t nonce[CRYPTO_GCM_NONCE_LEN],
		    const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
		    uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	return crypto_aead_seal(g->enc, NULL, nonce, ad, ad_len, buf, len, tag);
}

int crypto_gcm_open(struct crypto_gcm *g, const uint8_t nonce[CRYPTO_GCM_NONCE_LEN],
		    const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
		    const uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	return crypto_aead_open(g->dec, NULL, nonce, ad, ad_len, buf, len, tag);
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

/* The one-shot calls (the handshake's AEAD with a new key per message, BLAKE2s) need OpenSSL
 * contexts, which cost an allocation each: every thread makes its own on first use and frees
 * them when it exits. What they run is fetched once for the process. These are the backend's
 * only globals; after set-up nothing in them changes but the contexts' own state, and each
 * context belongs to one thread. */
struct crypto_thread {
	EVP_CIPHER_CTX *aead; /* ChaCha20-Poly1305, re-keyed per call and wiped after */
	EVP_MD_CTX *md;	      /* unkeyed BLAKE2s-256 */
	EVP_MAC_CTX *mac;     /* keyed BLAKE2s */
	EVP_PKEY_CTX *x25519; /* makes the X25519 key objects of crypto_x25519() */
};

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static int crypto_once_err;
static pthread_key_t crypto_thread_key; /* frees a thread's contexts when it exits */
static EVP_CIPHER *crypto_fetched_chacha;
static EVP_MD *crypto_fetched_blake2s;
static EVP_MAC *crypto_fetched_blake2smac;
static __thread struct crypto_thread *crypto_thread;

static void crypto_thread_free(void *p)
{
	struct crypto_thread *t = p;

	if (t == NULL)
		return;
	EVP_CIPHER_CTX_free(t->aead);
	EVP_MD_CTX_free(t->md);
	EVP_MAC_CTX_free(t->mac);
	EVP_PKEY_CTX_free(t->x25519);
	free(t);
}

static void crypto_once_init(void)
{
	crypto_fetched_chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	crypto_fetched_blake2s = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
	crypto_fetched_blake2smac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	if (crypto_fetched_chacha == NULL || crypto_fetched_blake2s == NULL ||
	    crypto_fetched_blake2smac == NULL)
		crypto_once_err = -EIO;
	else if (pthread_key_create(&crypto_thread_key, crypto_thread_free) != 0)
		crypto_once_err = -EAGAIN;
}

/* This thread's contexts, made on first use; NULL with *err set when they cannot be. */
static struct crypto_thread *crypto_thread_get(int *err)
{
	struct crypto_thread *t = crypto_thread;

	if (t != NULL)
		return t;
	pthread_once(&crypto_once, crypto_once_init);
	if (crypto_once_err < 0) {
		*err = crypto_once_err;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	t->aead = EVP_CIPHER_CTX_new();
	t->md = EVP_MD_CTX_new();
	t->mac = EVP_MAC_CTX_new(crypto_fetched_blake2smac);
	t->x25519 = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
	if (t->aead == NULL || t->md == NULL || t->mac == NULL || t->x25519 == NULL) {
		crypto_thread_free(t);
		*err = -ENOMEM;
		return NULL;
	}
	if (EVP_CipherInit_ex2(t->aead, crypto_fetched_chacha, NULL, NULL, 1, NULL) != 1) {
		crypto_thread_free(t);
		*err = -EIO;
		return NULL;
	}
	if (pthread_setspecific(crypto_thread_key, t) != 0) {
		crypto_thread_free(t);
		*err = -ENOMEM;
		return NULL;
	}
	crypto_thread = t;
	return t;
}

/* X25519 key object for priv, clamped on a copy. */
static EVP_PKEY *crypto_x25519_key(const uint8_t priv[CRYPTO_X25519_LEN])
{
	uint8_t k[CRYPTO_X25519_LEN];
	EVP_PKEY *pk;

	memcpy(k, priv, sizeof(k));
	crypto_x25519_clamp(k); /* OpenSSL clamps too; this keeps both backends' rule visible */
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, k, sizeof(k));
	explicit_bzero(k, sizeof(k));
	return pk;
}

int crypto_x25519_pub(uint8_t pub[CRYPTO_X25519_LEN], const uint8_t priv[CRYPTO_X25519_LEN])
{
	EVP_PKEY *pk = crypto_x25519_key(priv);
	size_t len = CRYPTO_X25519_LEN;
	int rc;

	if (pk == NULL)
		return -EIO;
	rc = EVP_PKEY_get_raw_public_key(pk, pub, &len) == 1 && len == CRYPTO_X25519_LEN ? 0 : -EIO;
	EVP_PKEY_free(pk); /* wipes the private key */
	return rc;
}

/* X25519 key object for priv to derive with, made by ctx. EVP_PKEY_new_raw_private_key()
 * would compute the public key, a scalar multiplication as costly as the derivation (it halved
 * the handshake rate); a derivation reads the private key alone, so this object, which lives
 * for one derivation, is given a placeholder public key. Nothing checks the pair. */
static EVP_PKEY *crypto_x25519_derive_key(EVP_PKEY_CTX *ctx, const uint8_t priv[CRYPTO_X25519_LEN])
{
	static const uint8_t unused_pub[CRYPTO_X25519_LEN];
	uint8_t k[CRYPTO_X25519_LEN];
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, k, sizeof(k)),
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)unused_pub,
					      sizeof(unused_pub)),
	    OSSL_PARAM_construct_end()};
	EVP_PKEY *pk = NULL;

	memcpy(k, priv, sizeof(k));
	crypto_x25519_clamp(k);
	if (EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) != 1)
		pk = NULL;
	explicit_bzero(k, sizeof(k));
	return pk;
}

int crypto_x25519(uint8_t shared[CRYPTO_X25519_LEN], const uint8_t priv[CRYPTO_X25519_LEN],
		  const uint8_t peer_pub[CRYPTO_X25519_LEN])
{
	EVP_PKEY *pk = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = CRYPTO_X25519_LEN;
	struct crypto_thread *t;
	int rc = 0;

	t = crypto_thread_get(&rc);
	if (t == NULL)
		goto out;
	rc = -EIO;
	pk = crypto_x25519_derive_key(t->x25519, priv);
	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, CRYPTO_X25519_LEN);
	if (pk == NULL || peer == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	/* no peer "validation": for X25519 it checks nothing the derivation does not */
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) != 1)
		goto out;
	/* OpenSSL's X25519 derivation fails exactly when the result is all zeros */
	if (EVP_PKEY_derive(ctx, shared, &len) != 1)
		rc = -EINVAL;
	else if (len == CRYPTO_X25519_LEN)
		rc = crypto_is_zero(shared, CRYPTO_X25519_LEN) ? -EINVAL : 0;
out:
	if (rc < 0)
		explicit_bzero(shared, CRYPTO_X25519_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(pk);
	return rc;
}

/* Keyed like crypto_gcm: one context per direction, so a call only sets the nonce. */
struct crypto_chachapoly {
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
};

struct crypto_chachapoly *crypto_chachapoly_new(const uint8_t key[CRYPTO_CHACHA_KEY_LEN], int *err)
{
	struct crypto_chachapoly *c;

	if (key == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	c->enc = EVP_CIPHER_CTX_new();
	c->dec = EVP_CIPHER_CTX_new();
	if (c->enc == NULL || c->dec == NULL) {
		crypto_chachapoly_free(c);
		*err = -ENOMEM;
		return NULL;
	}
	/* 12 bytes is the cipher's default nonce length */
	if (crypto_ctx_key(c->enc, EVP_chacha20_poly1305(), key, 1) < 0 ||
	    crypto_ctx_key(c->dec, EVP_chacha20_poly1305(), key, 0) < 0) {
		crypto_chachapoly_free(c);
		*err = -EIO;
		return NULL;
	}
	return c;
}

void crypto_chachapoly_free(struct crypto_chachapoly *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->enc); /* wipes the key */
	EVP_CIPHER_CTX_free(c->dec);
	free(c);
}

int crypto_chachapoly_seal(struct crypto_chachapoly *c, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
			   const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
			   uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	return crypto_aead_seal(c->enc, NULL, nonce, ad, ad_len, buf, len, tag);
}

int crypto_chachapoly_open(struct crypto_chachapoly *c, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
			   const uint8_t *ad, size_t ad_len, uint8_t *buf, size_t len,
			   const uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	int rc = crypto_aead_open(c->dec, NULL, nonce, ad, ad_len, buf, len, tag);

	if (rc == KC_EAUTH && len > 0)
		explicit_bzero(buf, len);
	return rc;
}

/* Replaces the one-shot context's key with zeros, so no handshake key outlives its call. */
static void crypto_chachapoly_forget(EVP_CIPHER_CTX *ctx)
{
	static const uint8_t zero[CRYPTO_CHACHA_KEY_LEN];

	(void)EVP_CipherInit_ex2(ctx, NULL, zero, NULL, -1, NULL);
}

int crypto_chachapoly_seal_key(const uint8_t key[CRYPTO_CHACHA_KEY_LEN],
			       const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const uint8_t *ad,
			       size_t ad_len, uint8_t *buf, size_t len,
			       uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	int rc = 0;
	struct crypto_thread *t = crypto_thread_get(&rc);

	if (t == NULL)
		return rc;
	rc = crypto_aead_seal(t->aead, key, nonce, ad, ad_len, buf, len, tag);
	crypto_chachapoly_forget(t->aead);
	return rc;
}

int crypto_chachapoly_open_key(const uint8_t key[CRYPTO_CHACHA_KEY_LEN],
			       const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], const uint8_t *ad,
			       size_t ad_len, uint8_t *buf, size_t len,
			       const uint8_t tag[CRYPTO_AEAD_TAG_LEN])
{
	int rc = 0;
	struct crypto_thread *t = crypto_thread_get(&rc);

	if (t == NULL)
		return rc;
	rc = crypto_aead_open(t->aead, key, nonce, ad, ad_len, buf, len, tag);
	crypto_chachapoly_forget(t->aead);
	if (rc == KC_EAUTH && len > 0)
		explicit_bzero(buf, len);
	return rc;
}

/* Unkeyed BLAKE2s-256 of the parts; EVP_DigestFinal_ex wipes the state. */
static int crypto_blake2s_md(EVP_MD_CTX *md, uint8_t *out, const struct crypto_part *parts,
			     size_t n)
{
	unsigned int len = 0;

	if (EVP_DigestInit_ex2(md, crypto_fetched_blake2s, NULL) != 1)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		if (parts[i].len > 0 && EVP_DigestUpdate(md, parts[i].p, parts[i].len) != 1)
			return -EIO;
	if (EVP_DigestFinal_ex(md, out, &len) != 1 || len != CRYPTO_BLAKE2S_LEN)
		return -EIO;
	return 0;
}

/* Keyed BLAKE2s (BLAKE2SMAC, its "size" parameter set to out_len) of the parts. */
static int crypto_blake2s_mac(EVP_MAC_CTX *mac, uint8_t *out, size_t out_len, const uint8_t *key,
			      size_t key_len, const struct crypto_part *parts, size_t n)
{
	static const uint8_t zero[CRYPTO_BLAKE2S_LEN];
	OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &out_len),
			       OSSL_PARAM_construct_end()};
	size_t done = 0;
	int rc = -EIO;

	if (EVP_MAC_init(mac, key, key_len, params) != 1)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (parts[i].len > 0 && EVP_MAC_update(mac, parts[i].p, parts[i].len) != 1)
			goto out;
	if (EVP_MAC_final(mac, out, &done, out_len) == 1 && done == out_len)
		rc = 0;
out:
	/* the context keeps its key for the next init: overwrite it */
	(void)EVP_MAC_init(mac, zero, sizeof(zero), NULL);
	return rc;
}

/* OpenSSL 3.0 has BLAKE2s unkeyed at 32 bytes only (BLAKE2S-256); keyed at any length. */
int crypto_blake2s(uint8_t *out, size_t out_len, const uint8_t *key, size_t key_len,
		   const struct crypto_part *parts, size_t n)
{
	struct crypto_thread *t;
	int rc = 0;

	if (out_len == 0 || out_len > CRYPTO_BLAKE2S_LEN || key_len > CRYPTO_BLAKE2S_LEN ||
	    (key_len > 0 && key == NULL))
		return -EINVAL;
	if (key_len == 0 && out_len != CRYPTO_BLAKE2S_LEN)
		return -EOPNOTSUPP;
	t = crypto_thread_get(&rc);
	if (t == NULL)
		return rc;
	if (key_len == 0)
		return crypto_blake2s_md(t->md, out, parts, n);
	return crypto_blake2s_mac(t->mac, out, out_len, key, key_len, parts, n);
}

const char *crypto_backend_name(void)
{
	return "openssl";
}
