/* Keys as people handle them: X25519 private and public keys and pre-shared keys are 32 bytes,
 * written as standard base64 with padding (44 characters), the format of WireGuard's wg(8):
 * "kcpctl pubkey" and "wg pubkey" give the same public key for the same private key. These are
 * what the config parser and "kcpctl genkey|pubkey|genpsk" use. */
#ifndef KCPCORE_KEYS_H
#define KCPCORE_KEYS_H

#include <stdint.h>

#define KC_KEY_LEN	  32
#define KC_KEY_BASE64_LEN 44 /* without the terminating NUL */

/* Decodes s, which must be exactly KC_KEY_BASE64_LEN characters of the standard alphabet
 * ending in one '=', with the unused bits of the last character zero (so each key has one
 * text form), into key. Nothing may come before or after: callers strip whitespace and
 * newlines. Runs in time that depends on the length of s only. Returns 0, or -EINVAL with
 * key zeroed. */
int kc_key_from_base64(const char *s, uint8_t key[KC_KEY_LEN]);

/* Writes key as KC_KEY_BASE64_LEN base64 characters and a NUL into out, in constant time. */
void kc_key_to_base64(const uint8_t key[KC_KEY_LEN], char out[KC_KEY_BASE64_LEN + 1]);

/* Draws a new X25519 private key (getrandom, clamped). Returns 0 or -errno. */
int kc_key_generate(uint8_t priv[KC_KEY_LEN]);

/* The X25519 public key of priv (clamped on a copy, as RFC 7748 says). Returns 0 or -EIO. */
int kc_key_public(const uint8_t priv[KC_KEY_LEN], uint8_t pub[KC_KEY_LEN]);

/* Draws 32 random bytes, a pre-shared key. Returns 0 or -errno. */
int kc_key_random(uint8_t psk[KC_KEY_LEN]);

#endif
