/* Single-core handshakes per second of the secure mode's Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s
 * (libkcpcore/noise.c) on the configured crypto backend, for each role:
 *   initiator: noise_hs_init_pub + noise_write_msg1 + noise_read_msg2 + noise_split
 *   responder: noise_hs_init_pub + noise_read_msg1 + noise_write_msg2 + noise_split
 * with the static public keys computed once, as a daemon does, and fixed ephemeral keys, so
 * one precomputed answer serves every round (X25519 takes the same time for any key; drawing
 * the ephemeral key, one getrandom(2), is left out). Each role costs five X25519 operations;
 * the x25519 line says what one costs alone.
 *
 * usage: bench_noise [SECONDS_PER_LINE]   (default 1)
 * One line per figure: bench=handshake role=initiator backend=wolfssl per_sec=N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto_backend.h"
#include "kcpcore/error.h"
#include "noise.h"

#define BENCH_MSG1_PLEN 28 /* about what the secure mode sends: a timestamp and a little */
#define BENCH_MSG2_PLEN 16
#define BENCH_BATCH	16 /* rounds between clock reads */

struct bench {
	uint8_t init_s[32], init_pub[32], init_e[32];
	uint8_t resp_s[32], resp_pub[32], resp_e[32], psk[32];
	uint8_t msg1[NOISE_MSG1_LEN(BENCH_MSG1_PLEN)], msg2[NOISE_MSG2_LEN(BENCH_MSG2_PLEN)];
	uint8_t payload[64];
};

static double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bench_check(const char *what, int rc)
{
	if (rc != 0) {
		fprintf(stderr, "bench_noise: %s: %s\n", what, kc_strerror(rc));
		exit(1);
	}
}

/* The initiator's half: msg1 into b->msg1, and (with msg2_ok) reading b->msg2. */
static void bench_initiator(struct bench *b, int msg2_ok)
{
	struct noise_hs hs;
	uint8_t send[32], recv[32];
	size_t n;

	bench_check("init",
		    noise_hs_init_pub(&hs, true, NULL, 0, b->init_s, b->init_pub, b->resp_pub));
	noise_hs_set_psk(&hs, b->psk);
	bench_check("write_msg1", noise_write_msg1(&hs, b->init_e, b->payload, BENCH_MSG1_PLEN,
						   b->msg1, sizeof(b->msg1), &n));
	if (msg2_ok) {
		bench_check("read_msg2", noise_read_msg2(&hs, b->msg2, sizeof(b->msg2), b->payload,
							 sizeof(b->payload), &n));
		bench_check("split", noise_split(&hs, send, recv));
	}
	noise_hs_wipe(&hs);
}

/* The responder's half: reads b->msg1, answers into b->msg2. */
static void bench_responder(struct bench *b)
{
	struct noise_hs hs;
	uint8_t send[32], recv[32];
	size_t n;

	bench_check("init", noise_hs_init_pub(&hs, false, NULL, 0, b->resp_s, b->resp_pub, NULL));
	bench_check("read_msg1", noise_read_msg1(&hs, b->msg1, sizeof(b->msg1), b->payload,
						 sizeof(b->payload), &n));
	noise_hs_set_psk(&hs, b->psk);
	bench_check("write_msg2", noise_write_msg2(&hs, b->resp_e, b->payload, BENCH_MSG2_PLEN,
						   b->msg2, sizeof(b->msg2), &n));
	bench_check("split", noise_split(&hs, send, recv));
	noise_hs_wipe(&hs);
}

/* Rounds of `role` per second over `seconds`. */
static double bench_rate(struct bench *b, int responder, double seconds)
{
	double start = bench_now_s(), elapsed;
	unsigned long rounds = 0;

	do {
		for (int i = 0; i < BENCH_BATCH; i++) {
			if (responder)
				bench_responder(b);
			else
				bench_initiator(b, 1);
		}
		rounds += BENCH_BATCH;
		elapsed = bench_now_s() - start;
	} while (elapsed < seconds);
	return (double)rounds / elapsed;
}

static double bench_x25519(const struct bench *b, double seconds)
{
	double start = bench_now_s(), elapsed;
	unsigned long ops = 0;
	uint8_t shared[32];

	do {
		for (int i = 0; i < BENCH_BATCH; i++)
			bench_check("x25519", crypto_x25519(shared, b->init_s, b->resp_pub));
		ops += BENCH_BATCH;
		elapsed = bench_now_s() - start;
	} while (elapsed < seconds);
	return (double)ops / elapsed;
}

int main(int argc, char **argv)
{
	struct bench b;
	double seconds = 1;

	if (argc > 1) {
		seconds = strtod(argv[1], NULL);
		if (!(seconds > 0 && seconds < 3600)) {
			fprintf(stderr, "usage: bench_noise [SECONDS_PER_LINE]\n");
			return 2;
		}
	}
	memset(&b, 0, sizeof(b));
	bench_check("keygen", crypto_x25519_keygen(b.init_s));
	bench_check("keygen", crypto_x25519_keygen(b.init_e));
	bench_check("keygen", crypto_x25519_keygen(b.resp_s));
	bench_check("keygen", crypto_x25519_keygen(b.resp_e));
	bench_check("psk", crypto_random(b.psk, sizeof(b.psk)));
	bench_check("pub", crypto_x25519_pub(b.init_pub, b.init_s));
	bench_check("pub", crypto_x25519_pub(b.resp_pub, b.resp_s));
	/* one exchange, to have the msg1 and msg2 every round reuses */
	bench_initiator(&b, 0);
	bench_responder(&b);
	bench_initiator(&b, 1);

	printf("bench=handshake role=initiator backend=%s per_sec=%.0f\n", crypto_backend_name(),
	       bench_rate(&b, 0, seconds));
	printf("bench=handshake role=responder backend=%s per_sec=%.0f\n", crypto_backend_name(),
	       bench_rate(&b, 1, seconds));
	printf("bench=x25519 backend=%s per_sec=%.0f\n", crypto_backend_name(),
	       bench_x25519(&b, seconds));
	return 0;
}
