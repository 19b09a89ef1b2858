/* libFuzzer target: crypt_open() on untrusted datagrams. The first input byte picks the method,
 * the rest is the datagram. Whatever opens must seal again into a datagram that opens to the
 * same body, and nothing may read or write outside the datagram. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcpcore/crypt.h"
#include "kcpcore/error.h"

#define FUZZ_DATAGRAM_MAX 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_nonce(void *user, uint8_t *out, size_t len)
{
	memset(out, 0xa5, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct crypt *crypts[CRYPT_METHOD_COUNT];
	static uint8_t copy[FUZZ_DATAGRAM_MAX];
	enum crypt_method m;
	uint8_t *pkt, *body = NULL, *body2 = NULL;
	size_t len;
	int n, n2, sealed;

	if (size < 1 || size - 1 > FUZZ_DATAGRAM_MAX)
		return 0;
	m = (enum crypt_method)(data[0] % CRYPT_METHOD_COUNT);
	if (crypts[m] == NULL) {
		static const uint8_t key[CRYPT_KEY_LEN] = "fuzzing key for crypt_open 0123";
		int err = 0;

		crypts[m] = crypt_new(m, key, &err);
		if (crypts[m] == NULL)
			abort();
		crypt_set_nonce_fn(crypts[m], fuzz_nonce, NULL);
	}
	/* an exact-size heap copy, so ASan sees any access past the datagram */
	len = size - 1;
	pkt = malloc(len > 0 ? len : 1);
	if (pkt == NULL)
		return 0;
	memcpy(pkt, data + 1, len);
	n = crypt_open(crypts[m], pkt, len, &body);
	if (n >= 0) {
		if (body < pkt || (size_t)n > len || (size_t)(body - pkt) + (size_t)n > len ||
		    (size_t)(body - pkt) != crypt_header_len(m))
			abort();
		memcpy(copy, body, (size_t)n);
		sealed = crypt_seal(crypts[m], pkt, (size_t)n);
		if (sealed != (int)len)
			abort();
		n2 = crypt_open(crypts[m], pkt, len, &body2);
		if (n2 != n || body2 != body || memcmp(body2, copy, (size_t)n) != 0)
			abort();
	} else if (n != KC_ESHORT && n != KC_EAUTH) {
		abort();
	}
	free(pkt);
	return 0;
}
