/* Packet ciphers of kcp-go (kcptun's names): the nonce + CRC32 + CFB family, salsa20, none,
 * null and the AES-128-GCM layout of newer kcp-go (spec/kcp-wire.md section 2).
 *
 * These are compatibility modes: the CRC32 is not a MAC, and none of them resists replay.
 * A struct crypt belongs to one worker; crypt_seal() and crypt_open() allocate nothing. */
#ifndef KCPCORE_CRYPT_H
#define KCPCORE_CRYPT_H

#include <stddef.h>
#include <stdint.h>

/* Length of the key crypt_new() takes (kcptun's PBKDF2 output); each method uses a prefix. */
#define CRYPT_KEY_LEN 32

enum crypt_method {
	CRYPT_NULL,	   /* "null": no crypto layer at all, 0 header bytes */
	CRYPT_NONE,	   /* "none": nonce and CRC32 header, checked, no cipher */
	CRYPT_AES_128,	   /* "aes-128": AES-128-CFB over the whole datagram, key[0..16) */
	CRYPT_AES_192,	   /* "aes-192": AES-192-CFB, key[0..24) */
	CRYPT_AES_256,	   /* "aes" (kcptun's default): AES-256-CFB, key[0..32) */
	CRYPT_AES_128_GCM, /* "aes-128-gcm": nonce12 | GCM ciphertext | tag16, key[0..16) */
	CRYPT_SALSA20,	   /* "salsa20": Salsa20/20 on bytes 8.., nonce bytes 0..8, key[0..32) */
	CRYPT_METHOD_COUNT
};

struct crypt; /* opaque */

/* Parses a kcptun cipher name into *m. On refusal (unknown or insecure legacy name) returns
 * KC_ECIPHER and, when why is not NULL, sets *why to a static sentence saying why. */
int crypt_method_parse(const char *name, enum crypt_method *m, const char **why);

/* kcptun's name of `m` ("aes" for AES-256), or "?" for a value out of range. */
const char *crypt_method_name(enum crypt_method m);

/* Bytes reserved in front of the body: 20 (nonce and CRC32), 12 (GCM nonce) or 0 (null). */
size_t crypt_header_len(enum crypt_method m);

/* Bytes needed after the body: 16 (GCM tag) for aes-128-gcm, else 0. */
size_t crypt_trailer_len(enum crypt_method m);

/* kcptun's key derivation: PBKDF2-HMAC-SHA1(pass, "kcp-go", 4096 iterations) into key.
 * Returns 0, or a negative code when the crypto library fails. */
int crypt_kdf_kcptun(const char *pass, size_t pass_len, uint8_t key[CRYPT_KEY_LEN]);

/* Cipher state for method `m` keyed with the method's prefix of `key` (may be NULL for null
 * and none), and a nonce generator seeded once from getrandom(). Free with crypt_free().
 * Returns NULL and sets *err to -EINVAL (bad method or key), -ENOMEM or another -errno. */
struct crypt *crypt_new(enum crypt_method m, const uint8_t key[CRYPT_KEY_LEN], int *err);

/* Frees `c` and wipes its keys. NULL is ignored. */
void crypt_free(struct crypt *c);

/* Seals one datagram in place. `pkt` holds crypt_header_len() reserved bytes, then body_len
 * body bytes, then room for crypt_trailer_len() bytes. Writes the nonce (and CRC32 or tag)
 * and encrypts. Returns the datagram length, or -EMSGSIZE beyond 65535 bytes. */
int crypt_seal(struct crypt *c, uint8_t *pkt, size_t body_len);

/* Decrypts and checks the datagram pkt[0..len) in place. Returns the body length and points
 * *body into pkt, or KC_ESHORT (shorter than the header and trailer) or KC_EAUTH (CRC32 or
 * tag mismatch); on failure pkt's bytes are undefined and nothing else changes. */
int crypt_open(struct crypt *c, uint8_t *pkt, size_t len, uint8_t **body);

/* Tests only: crypt_seal() takes its nonces from fn(user, out, len) from now on; fn = NULL
 * goes back to the built-in generator. */
void crypt_set_nonce_fn(struct crypt *c, void (*fn)(void *user, uint8_t *out, size_t len),
			void *user);

/* Name of the crypto library this build uses: "wolfssl" or "openssl". */
const char *crypt_backend_name(void);

#endif
