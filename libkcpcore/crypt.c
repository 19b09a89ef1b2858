/* kcp-go's packet ciphers (spec/kcp-wire.md section 2) on the crypto backend chosen at
 * configure time, plus salsa20 from libsodium, which neither backend offers. */
#include "config.h"

#include <errno.h>
#include <isa-l/crc.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypt_wire.h"
#include "crypto_backend.h"
#include "kcpcore/crypt.h"
#include "kcpcore/error.h"
#include "wire.h"

/* Nonce generator: the AES-256 OFB keystream (CFB over zeros) under a key from getrandom().
 * Each refill yields the next key and IV before the nonce bytes and erases them at once, so
 * no syscall happens after set-up and a leaked state does not reveal earlier nonces. */
#define CRYPT_RNG_KEY_LEN  32
#define CRYPT_RNG_SEED_LEN (CRYPT_RNG_KEY_LEN + CRYPTO_AES_BLOCK_LEN)
#define CRYPT_RNG_OUT_LEN  1024 /* nonce bytes per refill: 64 CFB nonces, 85 GCM nonces */

struct crypt_rng {
	struct crypto_aes *aes;
	uint8_t iv[CRYPTO_AES_BLOCK_LEN];
	uint8_t buf[CRYPT_RNG_SEED_LEN + CRYPT_RNG_OUT_LEN];
	size_t pos; /* next unused byte of buf */
};

struct crypt {
	enum crypt_method method;
	struct crypto_aes *aes; /* the CFB methods */
	struct crypto_gcm *gcm; /* aes-128-gcm */
	uint8_t salsa20_key[CRYPT_SALSA20_KEY_LEN];
	struct crypt_rng rng;
	void (*nonce_fn)(void *user, uint8_t *out, size_t len);
	void *nonce_user;
};

/* Tables: one entry a line, which clang-format would fold. */
/* clang-format off */
/* kcptun's names, indexed by enum crypt_method. */
static const char *const crypt_names[CRYPT_METHOD_COUNT] = {
	[CRYPT_NULL] = "null",
	[CRYPT_NONE] = "none",
	[CRYPT_AES_128] = "aes-128",
	[CRYPT_AES_192] = "aes-192",
	[CRYPT_AES_256] = "aes",
	[CRYPT_AES_128_GCM] = "aes-128-gcm",
	[CRYPT_SALSA20] = "salsa20",
};

/* kcptun names we refuse, and why. */
static const struct {
	const char *name;
	const char *why;
} crypt_refused[] = {
	{"xor", "xor is not encryption: every packet is XORed with the same key-derived table, "
		"so any two packets reveal each other; use aes-128"},
	{"tea", "tea is kcp-go's TEA cut to 8 cycles, a weakened 64-bit block cipher; "
		"use aes-128"},
	{"xtea", "xtea has a 64-bit block, so CFB leaks plaintext after a few GB under one key "
		 "(birthday bound); use aes-128"},
	{"blowfish", "blowfish has a 64-bit block, so CFB leaks plaintext after a few GB under "
		     "one key (birthday bound); use aes-128"},
	{"cast5", "cast5 has a 64-bit block, so CFB leaks plaintext after a few GB under one key "
		  "(birthday bound); use aes-128"},
	{"3des", "3des has a 64-bit block (the Sweet32 attacks) and is slow; use aes-128"},
	{"twofish", "twofish is in neither crypto library kcpvpnd builds on, and kcpvpnd carries "
		    "no cipher code of its own; use aes-128"},
	{"sm4", "sm4 is missing from the wolfSSL backend, so one build could not talk to another; "
		"use aes-128"},
};

static const char crypt_unknown_why[] =
	"unknown cipher name (kcptun would silently fall back to aes; kcpvpnd refuses): "
	"use aes, aes-128, aes-192, aes-128-gcm, salsa20, none or null";
/* clang-format on */

int crypt_method_parse(const char *name, enum crypt_method *m, const char **why)
{
	const char *reason = crypt_unknown_why;

	if (name != NULL) {
		for (int i = 0; i < CRYPT_METHOD_COUNT; i++) {
			if (strcmp(name, crypt_names[i]) == 0) {
				*m = (enum crypt_method)i;
				return 0;
			}
		}
		for (size_t i = 0; i < sizeof(crypt_refused) / sizeof(crypt_refused[0]); i++) {
			if (strcmp(name, crypt_refused[i].name) == 0)
				reason = crypt_refused[i].why;
		}
	}
	if (why != NULL)
		*why = reason;
	return KC_ECIPHER;
}

const char *crypt_method_name(enum crypt_method m)
{
	if ((unsigned)m >= CRYPT_METHOD_COUNT)
		return "?";
	return crypt_names[m];
}

size_t crypt_header_len(enum crypt_method m)
{
	switch (m) {
	case CRYPT_NONE:
	case CRYPT_AES_128:
	case CRYPT_AES_192:
	case CRYPT_AES_256:
	case CRYPT_SALSA20:
		return CRYPT_CFB_HEADER_LEN;
	case CRYPT_AES_128_GCM:
		return CRYPT_GCM_NONCE_LEN;
	case CRYPT_NULL:
	case CRYPT_METHOD_COUNT:
		break;
	}
	return 0;
}

size_t crypt_trailer_len(enum crypt_method m)
{
	return m == CRYPT_AES_128_GCM ? CRYPT_GCM_TAG_LEN : 0;
}

int crypt_kdf_kcptun(const char *pass, size_t pass_len, uint8_t key[CRYPT_KEY_LEN])
{
	if (pass == NULL && pass_len > 0)
		return -EINVAL;
	return crypto_pbkdf2_sha1((const uint8_t *)pass, pass_len, (const uint8_t *)CRYPT_KDF_SALT,
				  CRYPT_KDF_SALT_LEN, CRYPT_KDF_ITERATIONS, key, CRYPT_KEY_LEN);
}

const char *crypt_backend_name(void)
{
	return crypto_backend_name();
}

/* Seeds the nonce generator from the kernel. */
static int crypt_rng_init(struct crypt_rng *r)
{
	uint8_t seed[CRYPT_RNG_SEED_LEN];
	int err = 0;

	err = crypto_random(seed, sizeof(seed));
	if (err < 0)
		return err;
	r->aes = crypto_aes_new(seed, CRYPT_RNG_KEY_LEN, &err);
	memcpy(r->iv, seed + CRYPT_RNG_KEY_LEN, sizeof(r->iv));
	explicit_bzero(seed, sizeof(seed));
	r->pos = sizeof(r->buf); /* empty: the first nonce refills */
	return r->aes == NULL ? err : 0;
}

static void crypt_rng_fini(struct crypt_rng *r)
{
	crypto_aes_free(r->aes);
	explicit_bzero(r, sizeof(*r));
}

/* Next keystream: the first bytes become the next key and IV and are erased at once. */
static int crypt_rng_refill(struct crypt_rng *r)
{
	int err;

	memset(r->buf, 0, sizeof(r->buf));
	err = crypto_aes_cfb128_encrypt(r->aes, r->iv, r->buf, sizeof(r->buf));
	if (err == 0)
		err = crypto_aes_setkey(r->aes, r->buf, CRYPT_RNG_KEY_LEN);
	memcpy(r->iv, r->buf + CRYPT_RNG_KEY_LEN, sizeof(r->iv));
	explicit_bzero(r->buf, CRYPT_RNG_SEED_LEN);
	r->pos = CRYPT_RNG_SEED_LEN;
	return err;
}

/* Writes a fresh nonce of len bytes (at most CRYPT_RNG_OUT_LEN) to out. */
static int crypt_nonce(struct crypt *c, uint8_t *out, size_t len)
{
	struct crypt_rng *r = &c->rng;
	int err;

	if (c->nonce_fn != NULL) {
		c->nonce_fn(c->nonce_user, out, len);
		return 0;
	}
	if (sizeof(r->buf) - r->pos < len) {
		err = crypt_rng_refill(r);
		if (err < 0)
			return err;
	}
	memcpy(out, r->buf + r->pos, len);
	r->pos += len;
	return 0;
}

static size_t crypt_aes_key_len(enum crypt_method m)
{
	switch (m) {
	case CRYPT_AES_128:
	case CRYPT_AES_128_GCM:
		return CRYPT_AES_128_KEY_LEN;
	case CRYPT_AES_192:
		return CRYPT_AES_192_KEY_LEN;
	case CRYPT_AES_256:
		return CRYPT_AES_256_KEY_LEN;
	default:
		return 0;
	}
}

struct crypt *crypt_new(enum crypt_method m, const uint8_t key[CRYPT_KEY_LEN], int *err)
{
	struct crypt *c;
	int rc = 0;

	if ((unsigned)m >= CRYPT_METHOD_COUNT ||
	    (key == NULL && m != CRYPT_NULL && m != CRYPT_NONE)) {
		*err = -EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	c->method = m;
	switch (m) {
	case CRYPT_AES_128:
	case CRYPT_AES_192:
	case CRYPT_AES_256:
		c->aes = crypto_aes_new(key, crypt_aes_key_len(m), &rc);
		break;
	case CRYPT_AES_128_GCM:
		c->gcm = crypto_gcm_new(key, crypt_aes_key_len(m), &rc);
		break;
	case CRYPT_SALSA20:
		/* picks libsodium's fastest implementation; safe to call more than once */
		if (sodium_init() < 0)
			rc = -EIO;
		memcpy(c->salsa20_key, key, sizeof(c->salsa20_key));
		break;
	case CRYPT_NULL:
	case CRYPT_NONE:
	case CRYPT_METHOD_COUNT:
		break;
	}
	if (rc == 0 && m != CRYPT_NULL)
		rc = crypt_rng_init(&c->rng);
	if (rc < 0) {
		crypt_free(c);
		*err = rc;
		return NULL;
	}
	return c;
}

void crypt_free(struct crypt *c)
{
	if (c == NULL)
		return;
	crypto_aes_free(c->aes);
	crypto_gcm_free(c->gcm);
	crypt_rng_fini(&c->rng);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

void crypt_set_nonce_fn(struct crypt *c, void (*fn)(void *user, uint8_t *out, size_t len),
			void *user)
{
	c->nonce_fn = fn;
	c->nonce_user = user;
}

/* CRC-32/IEEE (zlib's): ISA-L's gzip CRC applies the initial value and final XOR itself. */
static uint32_t crypt_crc32(const uint8_t *p, size_t len)
{
	return crc32_gzip_refl(0, p, len);
}

/* Runs the method's cipher over the whole datagram pkt[0..len), in place. */
static int crypt_cipher(struct crypt *c, uint8_t *pkt, size_t len, int encrypt)
{
	static const uint8_t iv[CRYPT_CFB_IV_LEN] = CRYPT_CFB_IV;

	switch (c->method) {
	case CRYPT_AES_128:
	case CRYPT_AES_192:
	case CRYPT_AES_256:
		if (encrypt)
			return crypto_aes_cfb128_encrypt(c->aes, iv, pkt, len);
		return crypto_aes_cfb128_decrypt(c->aes, iv, pkt, len);
	case CRYPT_SALSA20:
		/* bytes 0..8 stay in clear as the nonce; XOR is its own inverse */
		crypto_stream_salsa20_xor(pkt + CRYPT_SALSA20_NONCE_LEN,
					  pkt + CRYPT_SALSA20_NONCE_LEN,
					  len - CRYPT_SALSA20_NONCE_LEN, pkt, c->salsa20_key);
		return 0;
	default:
		return 0;
	}
}

int crypt_seal(struct crypt *c, uint8_t *pkt, size_t body_len)
{
	size_t hdr = crypt_header_len(c->method);
	size_t len = hdr + body_len + crypt_trailer_len(c->method);
	int err;

	if (body_len > CRYPT_DATAGRAM_MAX || len > CRYPT_DATAGRAM_MAX)
		return -EMSGSIZE;
	switch (c->method) {
	case CRYPT_NULL:
		break;
	case CRYPT_AES_128_GCM:
		err = crypt_nonce(c, pkt, CRYPT_GCM_NONCE_LEN);
		if (err == 0)
			err = crypto_gcm_seal(c->gcm, pkt, NULL, 0, pkt + hdr, body_len,
					      pkt + hdr + body_len);
		if (err < 0)
			return err;
		break;
	default:
		err = crypt_nonce(c, pkt, CRYPT_NONCE_LEN);
		if (err < 0)
			return err;
		wire_put_u32le(pkt + CRYPT_CRC_OFF, crypt_crc32(pkt + hdr, body_len));
		err = crypt_cipher(c, pkt, len, 1);
		if (err < 0)
			return err;
		break;
	}
	return (int)len;
}

int crypt_open(struct crypt *c, uint8_t *pkt, size_t len, uint8_t **body)
{
	size_t hdr = crypt_header_len(c->method);
	size_t body_len;
	struct wire_cur cur;
	const uint8_t *nonce;
	uint32_t crc;
	int err;

	if (len > CRYPT_DATAGRAM_MAX)
		return -EMSGSIZE;
	if (len < hdr + crypt_trailer_len(c->method))
		return KC_ESHORT;
	body_len = len - hdr - crypt_trailer_len(c->method);
	switch (c->method) {
	case CRYPT_NULL:
		break;
	case CRYPT_AES_128_GCM:
		err = crypto_gcm_open(c->gcm, pkt, NULL, 0, pkt + hdr, body_len,
				      pkt + hdr + body_len);
		if (err < 0)
			return err;
		break;
	default:
		err = crypt_cipher(c, pkt, len, 0);
		if (err < 0)
			return err;
		wire_cur_init(&cur, pkt, len);
		if (wire_get_bytes(&cur, CRYPT_NONCE_LEN, &nonce) < 0 ||
		    wire_get_u32le(&cur, &crc) < 0)
			return KC_ESHORT;
		if (crc != crypt_crc32(cur.p, cur.left))
			return KC_EAUTH;
		break;
	}
	*body = pkt + hdr;
	return (int)body_len;
}
