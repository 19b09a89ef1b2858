/* The secure mode's handshake: Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s, written from the Noise
 * Protocol Framework, revision 34 (HandshakeState, SymmetricState, CipherState; the psk
 * modifier: with a psk in the pattern, the "e" token also does MixKey(e.public_key) and the
 * "psk" token does MixKeyAndHash(psk)). Private to libkcpcore.
 *
 *   IKpsk2:
 *     <- s
 *     ...
 *     -> e, es, s, ss
 *     <- e, ee, se, psk
 *
 * Messages are the Noise bytes alone (no type, index or MACs around them): msg1 is
 * e (32) | s encrypted (32 + 16) | payload encrypted (plen + 16); msg2 is
 * e (32) | payload encrypted (plen + 16). Each call checks the whole message before it
 * changes `hs`: a message that fails leaves the handshake as it was. Functions return 0 or a
 * negative code: KC_ESHORT for a message too short, KC_EAUTH for a decryption that fails or a
 * DH with a point of small order, -EINVAL for bad arguments or a call out of order, -EIO (or
 * -ENOMEM, OpenSSL at a thread's first use) when the crypto library fails. */
#ifndef KCPCORE_NOISE_H
#define KCPCORE_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOISE_KEY_LEN	     32 /* DH keys, hashes, symmetric keys and the psk alike */
#define NOISE_TAG_LEN	     16
#define NOISE_MSG1_LEN(plen) (32 + 32 + 16 + (plen) + 16)
#define NOISE_MSG2_LEN(plen) (32 + (plen) + 16)

/* A handshake in progress: a plain struct the caller owns (nothing is allocated), wiped by
 * noise_hs_wipe(). The caller may read rs (after noise_read_msg1, the initiator's static
 * key) and h; it changes nothing itself except through the functions below. */
struct noise_hs {
	uint8_t ck[32], h[32], k[32];
	bool has_k;
	uint64_t n;
	bool initiator;
	uint8_t s_priv[32], s_pub[32], e_priv[32], e_pub[32], rs[32], re[32], psk[32];
	uint8_t msgs; /* handshake messages written or read so far: 0, 1 or 2 */
};

/* Initialises `hs` for the initiator (rs_pub: the responder's static public key) or the
 * responder (rs_pub NULL): mixes the protocol name, the prologue (prologue_len bytes, may be
 * 0) and the pre-message (the responder's static key). The psk starts all zeros. */
int noise_hs_init(struct noise_hs *hs, bool initiator, const uint8_t *prologue, size_t prologue_len,
		  const uint8_t s_priv[32], const uint8_t *rs_pub);

/* noise_hs_init() with the static public key of s_priv already computed by the caller
 * (crypto_x25519_pub), which saves one of the handshake's six X25519 operations. */
int noise_hs_init_pub(struct noise_hs *hs, bool initiator, const uint8_t *prologue,
		      size_t prologue_len, const uint8_t s_priv[32], const uint8_t s_pub[32],
		      const uint8_t *rs_pub);

/* Sets the psk mixed by msg2's "psk" token: all zeros when the peer has none. The responder
 * sets it after noise_read_msg1() has told it who the peer is. */
void noise_hs_set_psk(struct noise_hs *hs, const uint8_t psk[32]);

/* Initiator: -> e, es, s, ss, then the payload (plen bytes) encrypted, into
 * out[0..NOISE_MSG1_LEN(plen)) (cap bytes available, -EINVAL when too few); *out_len gets the
 * length. e_priv is the ephemeral private key (crypto_x25519_keygen(); tests inject theirs). */
int noise_write_msg1(struct noise_hs *hs, const uint8_t e_priv[32], const uint8_t *payload,
		     size_t plen, uint8_t *out, size_t cap, size_t *out_len);

/* Responder: reads msg1 (len bytes), decrypting its payload into payload[0..cap) (-EINVAL when
 * cap is too small) with *plen its length. Afterwards hs->rs is the initiator's static key:
 * the caller looks the peer up by it and sets its psk before noise_write_msg2(). */
int noise_read_msg1(struct noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload,
		    size_t cap, size_t *plen);

/* Responder: <- e, ee, se, psk, then the payload encrypted, into out[0..NOISE_MSG2_LEN(plen)).
 * The handshake is then complete: noise_split(). */
int noise_write_msg2(struct noise_hs *hs, const uint8_t e_priv[32], const uint8_t *payload,
		     size_t plen, uint8_t *out, size_t cap, size_t *out_len);

/* Initiator: reads msg2, its payload into payload[0..cap). The handshake is then complete. */
int noise_read_msg2(struct noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload,
		    size_t cap, size_t *plen);

/* Split() of a complete handshake: the transport keys, already oriented (the initiator sends
 * with k1, the responder with k2). Wipes ck, k and the ephemeral private key, which die here;
 * h stays for noise_hs_hash(). Call it once. On failure (-EIO/-ENOMEM from the library, -EINVAL
 * for an incomplete handshake) both keys are filled with random bytes that match nothing. */
int noise_split(struct noise_hs *hs, uint8_t send_key[32], uint8_t recv_key[32]);

/* The handshake hash h: equal on both sides once the handshake is complete (channel binding,
 * tests). */
void noise_hs_hash(const struct noise_hs *hs, uint8_t h[32]);

/* Wipes everything in `hs` (a memset the compiler cannot drop). */
void noise_hs_wipe(struct noise_hs *hs);

/* HMAC-BLAKE2s (RFC 2104, 64-byte blocks) of data under key, into out. Exported for the cookie
 * code and the tests, as is HKDF. Returns 0, or a negative code with out zeroed. */
int noise_hmac(uint8_t out[32], const uint8_t *key, size_t key_len, const uint8_t *data,
	       size_t len);

/* Noise's HKDF(ck, ikm) with HMAC-BLAKE2s: out1, and out2 and out3 unless NULL. Outputs may
 * alias ck. Returns 0, or a negative code with the outputs zeroed. */
int noise_hkdf(const uint8_t ck[32], const uint8_t *ikm, size_t ikm_len, uint8_t *out1,
	       uint8_t *out2, uint8_t *out3);

#endif
