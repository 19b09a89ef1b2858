/* Single-core throughput of crypt_seal() and crypt_open() for every method on 1400-byte
 * datagrams, and of raw AES-128-CFB on kcp-go's BenchmarkAES128 workload (crypt_test.go: a
 * 1500-byte buffer encrypted then decrypted per iteration, counted as 3000 bytes).
 *
 * usage: bench_crypt [SECONDS_PER_LINE]   (default 0.5)
 * One line per figure: bench=crypt_<method>_seal unit=MB/s ours=X backend=wolfssl */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypt_wire.h"
#include "crypto_backend.h"
#include "kcpcore/crypt.h"
#include "kcpcore/error.h"

#define BENCH_DATAGRAM_LEN 1400
#define BENCH_KCPGO_MTU	   1500 /* kcp-go's mtuLimit, the buffer of its cipher benchmarks */
#define BENCH_BATCH	   256	/* operations between clock reads */

static double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* kcptun's method names with '-' made '_' for the bench key. */
static void bench_key_name(enum crypt_method m, char *out, size_t out_len)
{
	snprintf(out, out_len, "%s", crypt_method_name(m));
	for (char *p = out; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
}

static void bench_fail(const char *what, int err)
{
	fprintf(stderr, "bench_crypt: %s: %s\n", what, kc_strerror(err));
	exit(1);
}

/* Seals 1400-byte datagrams in place for `seconds`; returns MB/s of datagram bytes. */
static double bench_seal(struct crypt *c, uint8_t *pkt, size_t body_len, double seconds)
{
	double start = bench_now_s(), elapsed;
	unsigned long ops = 0;

	do {
		for (int i = 0; i < BENCH_BATCH; i++) {
			int n = crypt_seal(c, pkt, body_len);

			if (n != BENCH_DATAGRAM_LEN)
				bench_fail("crypt_seal", n);
		}
		ops += BENCH_BATCH;
		elapsed = bench_now_s() - start;
	} while (elapsed < seconds);
	return (double)ops * BENCH_DATAGRAM_LEN / elapsed / 1e6;
}

/* Opens a sealed datagram for `seconds`; each round first restores the ciphertext from
 * `sealed` (a 1400-byte memcpy, counted in the time). Returns MB/s of datagram bytes. */
static double bench_open(struct crypt *c, const uint8_t *sealed, uint8_t *pkt, double seconds)
{
	double start = bench_now_s(), elapsed;
	unsigned long ops = 0;
	uint8_t *body;

	do {
		for (int i = 0; i < BENCH_BATCH; i++) {
			int n;

			memcpy(pkt, sealed, BENCH_DATAGRAM_LEN);
			n = crypt_open(c, pkt, BENCH_DATAGRAM_LEN, &body);
			if (n < 0)
				bench_fail("crypt_open", n);
		}
		ops += BENCH_BATCH;
		elapsed = bench_now_s() - start;
	} while (elapsed < seconds);
	return (double)ops * BENCH_DATAGRAM_LEN / elapsed / 1e6;
}

static void bench_method(enum crypt_method m, const uint8_t *key, double seconds)
{
	static uint8_t pkt[BENCH_DATAGRAM_LEN], sealed[BENCH_DATAGRAM_LEN];
	size_t body_len = BENCH_DATAGRAM_LEN - crypt_header_len(m) - crypt_trailer_len(m);
	char name[32];
	struct crypt *c;
	int err = 0, n;

	c = crypt_new(m, key, &err);
	if (c == NULL)
		bench_fail("crypt_new", err);
	bench_key_name(m, name, sizeof(name));
	for (size_t i = 0; i < body_len; i++)
		pkt[crypt_header_len(m) + i] = (uint8_t)(i * 7);
	n = crypt_seal(c, pkt, body_len);
	if (n != BENCH_DATAGRAM_LEN)
		bench_fail("crypt_seal", n);
	memcpy(sealed, pkt, sizeof(sealed));
	printf("bench=crypt_%s_seal unit=MB/s ours=%.1f backend=%s\n", name,
	       bench_seal(c, pkt, body_len, seconds), crypt_backend_name());
	printf("bench=crypt_%s_open unit=MB/s ours=%.1f backend=%s\n", name,
	       bench_open(c, sealed, pkt, seconds), crypt_backend_name());
	fflush(stdout);
	crypt_free(c);
}

/* kcp-go's BenchmarkAES128: CFB encrypt then decrypt of 1500 bytes with the fixed IV, 3000
 * bytes counted per iteration. Ours works in place; the round trip is checked at the end. */
static void bench_aes128_cfb(const uint8_t *key, double seconds)
{
	static const uint8_t iv[CRYPT_CFB_IV_LEN] = CRYPT_CFB_IV;
	static uint8_t data[BENCH_KCPGO_MTU], buf[BENCH_KCPGO_MTU];
	struct crypto_aes *aes;
	double start, elapsed;
	unsigned long ops = 0;
	int err = 0;

	aes = crypto_aes_new(key, CRYPT_AES_128_KEY_LEN, &err);
	if (aes == NULL)
		bench_fail("crypto_aes_new", err);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	memcpy(buf, data, sizeof(buf));
	start = bench_now_s();
	do {
		for (int i = 0; i < BENCH_BATCH; i++) {
			err = crypto_aes_cfb128_encrypt(aes, iv, buf, sizeof(buf));
			if (err == 0)
				err = crypto_aes_cfb128_decrypt(aes, iv, buf, sizeof(buf));
			if (err < 0)
				bench_fail("aes-128-cfb", err);
		}
		ops += BENCH_BATCH;
		elapsed = bench_now_s() - start;
	} while (elapsed < seconds);
	if (memcmp(buf, data, sizeof(buf)) != 0)
		bench_fail("aes-128-cfb round trip", -EIO);
	printf("bench=aes128_cfb unit=MB/s ours=%.1f backend=%s\n",
	       (double)ops * 2 * BENCH_KCPGO_MTU / elapsed / 1e6, crypto_backend_name());
	crypto_aes_free(aes);
}

int main(int argc, char **argv)
{
	double seconds = 0.5;
	uint8_t key[CRYPT_KEY_LEN];

	if (argc > 1) {
		seconds = strtod(argv[1], NULL);
		if (!(seconds > 0 && seconds < 3600)) {
			fprintf(stderr, "usage: bench_crypt [SECONDS_PER_LINE]\n");
			return 2;
		}
	}
	if (crypt_kdf_kcptun("it's a secrect", 14, key) < 0)
		bench_fail("crypt_kdf_kcptun", -EIO);
	for (int m = 0; m < CRYPT_METHOD_COUNT; m++)
		bench_method((enum crypt_method)m, key, seconds);
	bench_aes128_cfb(key, seconds);
	return 0;
}
