/* Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s over the crypto backend (noise.h). Each step is named
 * for the Noise specification's (revision 34, section 5) function it performs. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "crypto_backend.h"
#include "kcpcore/error.h"
#include "noise.h"

#define NOISE_PROTOCOL_NAME "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define NOISE_HASH_LEN	    CRYPTO_BLAKE2S_LEN
#define NOISE_BLOCK_LEN	    CRYPTO_BLAKE2S_BLOCK_LEN

_Static_assert(NOISE_KEY_LEN == CRYPTO_X25519_LEN && NOISE_KEY_LEN == CRYPTO_CHACHA_KEY_LEN &&
		   NOISE_KEY_LEN == NOISE_HASH_LEN && NOISE_TAG_LEN == CRYPTO_AEAD_TAG_LEN,
	       "Noise's 25519/ChaChaPoly/BLAKE2s lengths are all 32 bytes, tags 16");

/* A key, a hash or a DH output dies here. */
static void noise_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}

/* HASH(parts[0] || ... || parts[n-1]). */
static int noise_hash(uint8_t out[NOISE_HASH_LEN], const struct crypto_part *parts, size_t n)
{
	return crypto_blake2s(out, NOISE_HASH_LEN, NULL, 0, parts, n);
}

int noise_hmac(uint8_t out[32], const uint8_t *key, size_t key_len, const uint8_t *data, size_t len)
{
	uint8_t block[NOISE_BLOCK_LEN] = {0}, inner[NOISE_HASH_LEN];
	struct crypto_part parts[2];
	int rc;

	/* K0: the key padded with zeros to a block, hashed first when longer than one */
	if (key_len > NOISE_BLOCK_LEN) {
		parts[0] = (struct crypto_part){key, key_len};
		rc = noise_hash(block, parts, 1);
		if (rc < 0)
			goto out;
	} else if (key_len > 0) {
		memcpy(block, key, key_len);
	}
	for (size_t i = 0; i < NOISE_BLOCK_LEN; i++)
		block[i] ^= 0x36;
	parts[0] = (struct crypto_part){block, sizeof(block)};
	parts[1] = (struct crypto_part){data, len};
	rc = noise_hash(inner, parts, 2);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < NOISE_BLOCK_LEN; i++)
		block[i] ^= 0x36 ^ 0x5c;
	parts[1] = (struct crypto_part){inner, sizeof(inner)};
	rc = noise_hash(out, parts, 2);
out:
	if (rc < 0)
		noise_wipe(out, NOISE_HASH_LEN);
	noise_wipe(block, sizeof(block));
	noise_wipe(inner, sizeof(inner));
	return rc;
}

int noise_hkdf(const uint8_t ck[32], const uint8_t *ikm, size_t ikm_len, uint8_t *out1,
	       uint8_t *out2, uint8_t *out3)
{
	uint8_t temp_key[NOISE_HASH_LEN], prev[NOISE_HASH_LEN + 1];
	uint8_t *outs[3] = {out1, out2, out3};
	size_t prev_len = 0;
	int rc;

	rc = noise_hmac(temp_key, ck, NOISE_HASH_LEN, ikm, ikm_len);
	/* output i = HMAC(temp_key, output i-1 || i), output 0 being empty */
	for (int i = 0; i < 3 && rc == 0 && outs[i] != NULL; i++) {
		prev[prev_len] = (uint8_t)(i + 1);
		rc = noise_hmac(prev, temp_key, sizeof(temp_key), prev, prev_len + 1);
		prev_len = NOISE_HASH_LEN;
		if (rc == 0)
			memcpy(outs[i], prev, NOISE_HASH_LEN);
	}
	if (rc < 0)
		for (int i = 0; i < 3 && outs[i] != NULL; i++)
			noise_wipe(outs[i], NOISE_HASH_LEN);
	noise_wipe(temp_key, sizeof(temp_key));
	noise_wipe(prev, sizeof(prev));
	return rc;
}

/* SymmetricState.MixHash(data): h = HASH(h || data). */
static int noise_mix_hash(struct noise_hs *hs, const uint8_t *data, size_t len)
{
	struct crypto_part parts[2] = {{hs->h, NOISE_HASH_LEN}, {data, len}};

	return noise_hash(hs->h, parts, 2);
}

/* CipherState.InitializeKey(k). */
static void noise_initialize_key(struct noise_hs *hs, const uint8_t k[NOISE_KEY_LEN])
{
	memcpy(hs->k, k, NOISE_KEY_LEN);
	hs->has_k = true;
	hs->n = 0;
}

/* SymmetricState.MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k). */
static int noise_mix_key(struct noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[NOISE_KEY_LEN];
	int rc = noise_hkdf(hs->ck, ikm, len, hs->ck, temp_k, NULL);

	if (rc == 0)
		noise_initialize_key(hs, temp_k);
	noise_wipe(temp_k, sizeof(temp_k));
	return rc;
}

/* SymmetricState.MixKeyAndHash(ikm): ck, temp_h, temp_k = HKDF(ck, ikm, 3); MixHash(temp_h);
 * InitializeKey(temp_k). */
static int noise_mix_key_and_hash(struct noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t temp_h[NOISE_HASH_LEN], temp_k[NOISE_KEY_LEN];
	int rc = noise_hkdf(hs->ck, ikm, len, hs->ck, temp_h, temp_k);

	if (rc == 0)
		rc = noise_mix_hash(hs, temp_h, sizeof(temp_h));
	if (rc == 0)
		noise_initialize_key(hs, temp_k);
	noise_wipe(temp_h, sizeof(temp_h));
	noise_wipe(temp_k, sizeof(temp_k));
	return rc;
}

/* MixKey(DH(priv, pub)). A result of all zeros (pub of small order) is `bad`: KC_EAUTH when
 * pub came from the peer's message, -EINVAL when it is the caller's. */
static int noise_mix_dh(struct noise_hs *hs, const uint8_t priv[NOISE_KEY_LEN],
			const uint8_t pub[NOISE_KEY_LEN], int bad)
{
	uint8_t shared[CRYPTO_X25519_LEN];
	int rc = crypto_x25519(shared, priv, pub);

	if (rc == -EINVAL)
		rc = bad;
	if (rc == 0)
		rc = noise_mix_key(hs, shared, sizeof(shared));
	noise_wipe(shared, sizeof(shared));
	return rc;
}

/* ChaChaPoly's nonce: 32 bits of zeros, then the 64-bit counter n little-endian. */
static int noise_nonce(struct noise_hs *hs, uint8_t nonce[CRYPTO_AEAD_NONCE_LEN])
{
	uint64_t n = hs->n;

	if (n == UINT64_MAX) /* reserved by the spec; a handshake never comes close */
		return -EINVAL;
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
	hs->n++;
	return 0;
}

/* SymmetricState.EncryptAndHash: the len plaintext bytes at out, in place, followed by the tag
 * (a key is always set where IKpsk2 encrypts); then MixHash(ciphertext). */
static int noise_encrypt_and_hash(struct noise_hs *hs, uint8_t *out, size_t len)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];
	int rc;

	assert(hs->has_k);
	rc = noise_nonce(hs, nonce);
	if (rc == 0)
		rc = crypto_chachapoly_seal_key(hs->k, nonce, hs->h, NOISE_HASH_LEN, out, len,
						out + len);
	if (rc == 0)
		rc = noise_mix_hash(hs, out, len + NOISE_TAG_LEN);
	return rc;
}

/* SymmetricState.DecryptAndHash of ct[0..len + 16) (ciphertext and tag) into plain[0..len),
 * which may overlap ct. */
static int noise_decrypt_and_hash(struct noise_hs *hs, const uint8_t *ct, size_t len,
				  uint8_t *plain)
{
	uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], ad[NOISE_HASH_LEN], tag[NOISE_TAG_LEN];
	int rc;

	assert(hs->has_k);
	rc = noise_nonce(hs, nonce);
	if (rc < 0)
		return rc;
	/* the AD is h before; MixHash takes the ciphertext, before plain can overwrite it */
	memcpy(ad, hs->h, sizeof(ad));
	memcpy(tag, ct + len, sizeof(tag));
	rc = noise_mix_hash(hs, ct, len + NOISE_TAG_LEN);
	if (rc == 0) {
		if (len > 0)
			memmove(plain, ct, len);
		rc = crypto_chachapoly_open_key(hs->k, nonce, ad, sizeof(ad), plain, len, tag);
	}
	return rc;
}

int noise_hs_init_pub(struct noise_hs *hs, bool initiator, const uint8_t *prologue,
		      size_t prologue_len, const uint8_t s_priv[32], const uint8_t s_pub[32],
		      const uint8_t *rs_pub)
{
	struct crypto_part name = {NOISE_PROTOCOL_NAME, strlen(NOISE_PROTOCOL_NAME)};
	int rc;

	memset(hs, 0, sizeof(*hs));
	if (s_priv == NULL || s_pub == NULL || initiator != (rs_pub != NULL) ||
	    (prologue == NULL && prologue_len > 0))
		return -EINVAL;
	hs->initiator = initiator;
	memcpy(hs->s_priv, s_priv, NOISE_KEY_LEN);
	memcpy(hs->s_pub, s_pub, NOISE_KEY_LEN);
	if (rs_pub != NULL)
		memcpy(hs->rs, rs_pub, NOISE_KEY_LEN);
	/* InitializeSymmetric: the name is longer than HASHLEN, so h = HASH(name); ck = h */
	rc = noise_hash(hs->h, &name, 1);
	if (rc == 0) {
		memcpy(hs->ck, hs->h, NOISE_HASH_LEN);
		rc = noise_mix_hash(hs, prologue, prologue_len);
	}
	/* the pre-message "<- s": the responder's static key, on both sides */
	if (rc == 0)
		rc = noise_mix_hash(hs, initiator ? hs->rs : hs->s_pub, NOISE_KEY_LEN);
	if (rc < 0)
		noise_hs_wipe(hs);
	return rc;
}

int noise_hs_init(struct noise_hs *hs, bool initiator, const uint8_t *prologue, size_t prologue_len,
		  const uint8_t s_priv[32], const uint8_t *rs_pub)
{
	uint8_t s_pub[NOISE_KEY_LEN];
	int rc;

	if (s_priv == NULL) {
		memset(hs, 0, sizeof(*hs));
		return -EINVAL;
	}
	rc = crypto_x25519_pub(s_pub, s_priv);
	if (rc == 0)
		rc =
		    noise_hs_init_pub(hs, initiator, prologue, prologue_len, s_priv, s_pub, rs_pub);
	else
		memset(hs, 0, sizeof(*hs));
	return rc;
}

void noise_hs_set_psk(struct noise_hs *hs, const uint8_t psk[32])
{
	memcpy(hs->psk, psk, NOISE_KEY_LEN);
}

/* The "e" token when writing: e from e_priv, written to out and mixed (with the psk
 * modifier's MixKey(e.public_key)). */
static int noise_write_e(struct noise_hs *hs, const uint8_t e_priv[32], uint8_t *out)
{
	int rc;

	memcpy(hs->e_priv, e_priv, NOISE_KEY_LEN);
	rc = crypto_x25519_pub(hs->e_pub, hs->e_priv);
	if (rc == 0) {
		memcpy(out, hs->e_pub, NOISE_KEY_LEN);
		rc = noise_mix_hash(hs, hs->e_pub, NOISE_KEY_LEN);
	}
	if (rc == 0)
		rc = noise_mix_key(hs, hs->e_pub, NOISE_KEY_LEN);
	return rc;
}

/* The "e" token when reading: re from the message, mixed the same way. */
static int noise_read_e(struct noise_hs *hs, const uint8_t *msg)
{
	int rc;

	memcpy(hs->re, msg, NOISE_KEY_LEN);
	rc = noise_mix_hash(hs, hs->re, NOISE_KEY_LEN);
	if (rc == 0)
		rc = noise_mix_key(hs, hs->re, NOISE_KEY_LEN);
	return rc;
}

/* Ends a message worked on the copy c of *hs: kept when rc is 0 (one more message done),
 * dropped otherwise, so a message that fails leaves the handshake as it was. */
static void noise_commit(struct noise_hs *hs, struct noise_hs *c, int rc)
{
	if (rc == 0) {
		c->msgs++;
		*hs = *c;
	}
	noise_hs_wipe(c);
}

/* -> e, es, s, ss, payload */
static int noise_msg1_write(struct noise_hs *c, const uint8_t e_priv[32], const uint8_t *payload,
			    size_t plen, uint8_t *out)
{
	int rc = noise_write_e(c, e_priv, out);

	if (rc == 0)
		rc = noise_mix_dh(c, c->e_priv, c->rs, -EINVAL);
	if (rc == 0) {
		memcpy(out + 32, c->s_pub, NOISE_KEY_LEN);
		rc = noise_encrypt_and_hash(c, out + 32, NOISE_KEY_LEN);
	}
	if (rc == 0)
		rc = noise_mix_dh(c, c->s_priv, c->rs, -EINVAL);
	if (rc == 0) {
		if (plen > 0)
			memmove(out + 80, payload, plen);
		rc = noise_encrypt_and_hash(c, out + 80, plen);
	}
	return rc;
}

static int noise_msg1_read(struct noise_hs *c, const uint8_t *msg, size_t plen, uint8_t *payload)
{
	int rc = noise_read_e(c, msg);

	if (rc == 0)
		rc = noise_mix_dh(c, c->s_priv, c->re, KC_EAUTH);
	if (rc == 0)
		rc = noise_decrypt_and_hash(c, msg + 32, NOISE_KEY_LEN, c->rs);
	if (rc == 0)
		rc = noise_mix_dh(c, c->s_priv, c->rs, KC_EAUTH);
	if (rc == 0)
		rc = noise_decrypt_and_hash(c, msg + 80, plen, payload);
	return rc;
}

/* <- e, ee, se, psk, payload. re and rs passed the DH checks of msg1 already; still theirs. */
static int noise_msg2_write(struct noise_hs *c, const uint8_t e_priv[32], const uint8_t *payload,
			    size_t plen, uint8_t *out)
{
	int rc = noise_write_e(c, e_priv, out);

	if (rc == 0)
		rc = noise_mix_dh(c, c->e_priv, c->re, KC_EAUTH);
	if (rc == 0)
		rc = noise_mix_dh(c, c->e_priv, c->rs, KC_EAUTH);
	if (rc == 0)
		rc = noise_mix_key_and_hash(c, c->psk, NOISE_KEY_LEN);
	if (rc == 0) {
		if (plen > 0)
			memmove(out + 32, payload, plen);
		rc = noise_encrypt_and_hash(c, out + 32, plen);
	}
	return rc;
}

static int noise_msg2_read(struct noise_hs *c, const uint8_t *msg, size_t plen, uint8_t *payload)
{
	int rc = noise_read_e(c, msg);

	if (rc == 0)
		rc = noise_mix_dh(c, c->e_priv, c->re, KC_EAUTH);
	if (rc == 0)
		rc = noise_mix_dh(c, c->s_priv, c->re, KC_EAUTH);
	if (rc == 0)
		rc = noise_mix_key_and_hash(c, c->psk, NOISE_KEY_LEN);
	if (rc == 0)
		rc = noise_decrypt_and_hash(c, msg + 32, plen, payload);
	return rc;
}

/* Writes the message `step` makes at step `msgs` of `initiator`: `overhead` + plen bytes into
 * out, on a copy of the state kept only on success. */
static int noise_write(struct noise_hs *hs, bool initiator, uint8_t msgs, size_t overhead,
		       int (*step)(struct noise_hs *c, const uint8_t *e_priv,
				   const uint8_t *payload, size_t plen, uint8_t *out),
		       const uint8_t *e_priv, const uint8_t *payload, size_t plen, uint8_t *out,
		       size_t cap, size_t *out_len)
{
	struct noise_hs c;
	int rc;

	*out_len = 0;
	if (hs->initiator != initiator || hs->msgs != msgs || e_priv == NULL || out == NULL ||
	    (payload == NULL && plen > 0) || plen > SIZE_MAX - overhead || cap < overhead + plen)
		return -EINVAL;
	c = *hs;
	rc = step(&c, e_priv, payload, plen, out);
	noise_commit(hs, &c, rc);
	if (rc == 0)
		*out_len = overhead + plen;
	return rc;
}

/* Reads the message `step` takes at step `msgs` of `initiator`: `overhead` bytes and a payload,
 * on a copy of the state kept only on success. */
static int noise_read(struct noise_hs *hs, bool initiator, uint8_t msgs, size_t overhead,
		      int (*step)(struct noise_hs *c, const uint8_t *msg, size_t plen,
				  uint8_t *payload),
		      const uint8_t *msg, size_t len, uint8_t *payload, size_t cap, size_t *plen)
{
	struct noise_hs c;
	int rc;

	*plen = 0;
	if (hs->initiator != initiator || hs->msgs != msgs || (msg == NULL && len > 0))
		return -EINVAL;
	if (len < overhead)
		return KC_ESHORT;
	if (cap < len - overhead || (payload == NULL && len > overhead))
		return -EINVAL;
	c = *hs;
	rc = step(&c, msg, len - overhead, payload);
	noise_commit(hs, &c, rc);
	if (rc == 0)
		*plen = len - overhead;
	return rc;
}

int noise_write_msg1(struct noise_hs *hs, const uint8_t e_priv[32], const uint8_t *payload,
		     size_t plen, uint8_t *out, size_t cap, size_t *out_len)
{
	return noise_write(hs, true, 0, NOISE_MSG1_LEN(0), noise_msg1_write, e_priv, payload, plen,
			   out, cap, out_len);
}

int noise_read_msg1(struct noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload,
		    size_t cap, size_t *plen)
{
	return noise_read(hs, false, 0, NOISE_MSG1_LEN(0), noise_msg1_read, msg, len, payload, cap,
			  plen);
}

int noise_write_msg2(struct noise_hs *hs, const uint8_t e_priv[32], const uint8_t *payload,
		     size_t plen, uint8_t *out, size_t cap, size_t *out_len)
{
	return noise_write(hs, false, 1, NOISE_MSG2_LEN(0), noise_msg2_write, e_priv, payload, plen,
			   out, cap, out_len);
}

int noise_read_msg2(struct noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload,
		    size_t cap, size_t *plen)
{
	return noise_read(hs, true, 1, NOISE_MSG2_LEN(0), noise_msg2_read, msg, len, payload, cap,
			  plen);
}

int noise_split(struct noise_hs *hs, uint8_t send_key[32], uint8_t recv_key[32])
{
	uint8_t k1[NOISE_KEY_LEN], k2[NOISE_KEY_LEN];
	int rc = -EINVAL;

	if (hs->msgs != 2) /* a programmer's error: the state stays as it was */
		goto out;
	rc = noise_hkdf(hs->ck, NULL, 0, k1, k2, NULL);
	if (rc == 0) {
		memcpy(send_key, hs->initiator ? k1 : k2, NOISE_KEY_LEN);
		memcpy(recv_key, hs->initiator ? k2 : k1, NOISE_KEY_LEN);
		hs->msgs++; /* no second split */
	}
	noise_wipe(hs->ck, sizeof(hs->ck));
	noise_wipe(hs->k, sizeof(hs->k));
	noise_wipe(hs->e_priv, sizeof(hs->e_priv));
	hs->has_k = false;
	noise_wipe(k1, sizeof(k1));
	noise_wipe(k2, sizeof(k2));
out:
	if (rc < 0 && (crypto_random(send_key, NOISE_KEY_LEN) < 0 ||
		       crypto_random(recv_key, NOISE_KEY_LEN) < 0)) {
		/* keys that match nothing, for a caller that ignores rc; zeros if even that fails
		 */
		noise_wipe(send_key, NOISE_KEY_LEN);
		noise_wipe(recv_key, NOISE_KEY_LEN);
	}
	return rc;
}

void noise_hs_hash(const struct noise_hs *hs, uint8_t h[32])
{
	memcpy(h, hs->h, NOISE_HASH_LEN);
}

void noise_hs_wipe(struct noise_hs *hs)
{
	noise_wipe(hs, sizeof(*hs));
}
