/* kcpcore/keys.h: base64 for keys (RFC 4648 section 4, standard alphabet, padded), written
 * without branches or table lookups on key bits, since private keys pass through it. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "crypto_backend.h"
#include "kcpcore/keys.h"

_Static_assert(KC_KEY_LEN == CRYPTO_X25519_LEN, "keys are X25519 keys");
_Static_assert(KC_KEY_BASE64_LEN == (KC_KEY_LEN + 2) / 3 * 4, "32 bytes are 44 characters");

/* -1 (all ones) when lo <= c <= hi, else 0; c, lo and hi in 0..255. Arithmetic right shifts
 * of negative ints, as gcc and clang do them. */
static int keys_in_range(int c, int lo, int hi)
{
	return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

/* The 6-bit value of base64 character c, or -1 when c is not one. */
static int keys_b64_value(unsigned char ch)
{
	int c = ch, v = -1;

	v += keys_in_range(c, 'A', 'Z') & (c - 'A' + 1);
	v += keys_in_range(c, 'a', 'z') & (c - 'a' + 26 + 1);
	v += keys_in_range(c, '0', '9') & (c - '0' + 52 + 1);
	v += keys_in_range(c, '+', '+') & (62 + 1);
	v += keys_in_range(c, '/', '/') & (63 + 1);
	return v;
}

/* The base64 character of 6-bit value v. */
static char keys_b64_char(int v)
{
	int c = v + 'A';

	c += keys_in_range(v, 26, 63) & ('a' - 26 - 'A');
	c += keys_in_range(v, 52, 63) & ('0' - 52 - ('a' - 26));
	c += keys_in_range(v, 62, 63) & ('+' - 62 - ('0' - 52));
	c += keys_in_range(v, 63, 63) & ('/' - '+' - 1);
	return (char)c;
}

int kc_key_from_base64(const char *s, uint8_t key[KC_KEY_LEN])
{
	int bad = 0, v[4];
	size_t o = 0;

	memset(key, 0, KC_KEY_LEN);
	if (s == NULL || strnlen(s, KC_KEY_BASE64_LEN + 1) != KC_KEY_BASE64_LEN ||
	    s[KC_KEY_BASE64_LEN - 1] != '=')
		return -EINVAL;
	/* 10 groups of 4 characters give 30 bytes; the last group, 3 and '=', gives 2 */
	for (size_t i = 0; i < KC_KEY_BASE64_LEN; i += 4) {
		int n = i + 4 < KC_KEY_BASE64_LEN ? 4 : 3;
		unsigned word = 0;

		for (int j = 0; j < n; j++) {
			v[j] = keys_b64_value((unsigned char)s[i + j]);
			bad |= v[j];
			word = word << 6 | (unsigned)(v[j] & 63);
		}
		if (n == 4) {
			key[o++] = (uint8_t)(word >> 16);
			key[o++] = (uint8_t)(word >> 8);
			key[o++] = (uint8_t)word;
		} else {
			bad |= -(v[2] & 3); /* the 2 bits past the last byte must be zero */
			key[o++] = (uint8_t)(word >> 10);
			key[o++] = (uint8_t)(word >> 2);
		}
	}
	if (bad < 0) {
		explicit_bzero(key, KC_KEY_LEN);
		return -EINVAL;
	}
	return 0;
}

void kc_key_to_base64(const uint8_t key[KC_KEY_LEN], char out[KC_KEY_BASE64_LEN + 1])
{
	size_t o = 0;

	for (size_t i = 0; i < KC_KEY_LEN; i += 3) {
		unsigned word = (unsigned)key[i] << 16;

		if (i + 1 < KC_KEY_LEN)
			word |= (unsigned)key[i + 1] << 8;
		if (i + 2 < KC_KEY_LEN)
			word |= key[i + 2];
		out[o++] = keys_b64_char((int)(word >> 18) & 63);
		out[o++] = keys_b64_char((int)(word >> 12) & 63);
		out[o++] = i + 1 < KC_KEY_LEN ? keys_b64_char((int)(word >> 6) & 63) : '=';
		out[o++] = i + 2 < KC_KEY_LEN ? keys_b64_char((int)word & 63) : '=';
	}
	out[o] = '\0';
}

int kc_key_generate(uint8_t priv[KC_KEY_LEN])
{
	return crypto_x25519_keygen(priv);
}

int kc_key_public(const uint8_t priv[KC_KEY_LEN], uint8_t pub[KC_KEY_LEN])
{
	return crypto_x25519_pub(pub, priv);
}

int kc_key_random(uint8_t psk[KC_KEY_LEN])
{
	return crypto_random(psk, KC_KEY_LEN);
}
