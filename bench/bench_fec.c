/* Single-core throughput of the FEC encoder and decoder on kcp-go's own benchmark workloads
 * (fec_test.go), and of the raw Reed-Solomon codec.
 *
 *   fec_encode   BenchmarkFECEncode: a 10/3 encoder fed 1500-byte packets (8-byte header and
 *                1492 KCP bytes); each packet counts 1500 bytes, parity work included.
 *   fec_decode   BenchmarkFECDecode: a 10/3 decoder fed seqids 0, 1, 2, ... as 1500-byte
 *                packets (data or parity by seqid mod 13), each dropped with probability 1/13;
 *                every seqid counts 1500 bytes, dropped ones too. Unlike kcp-go's all-zero
 *                packets, ours are a real encoded group, so the rebuilt payloads are valid.
 *   rs_encode_10_3, rs_reconstruct_10_3_loss{1,2,3}: fec_rs on 10 data shards of 1500 bytes,
 *                counting the 15000 data bytes per call (as klauspost/reedsolomon's benchmarks);
 *                the lost data shards rotate.
 *
 * usage: bench_fec [SECONDS_PER_LINE]   (default 0.5)
 * One line per figure: bench=NAME unit=MB/s ours=X */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kcpcore/fec.h"

#define BENCH_PKT_LEN 1500 /* kcp-go's payLoad */
#define BENCH_DATA    10
#define BENCH_PARITY  3
#define BENCH_N	      (BENCH_DATA + BENCH_PARITY)
#define BENCH_BATCH   1024 /* operations between clock reads */

static double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint32_t bench_rng = 0x9e3779b9u;

static uint32_t bench_rand(void)
{
	bench_rng ^= bench_rng << 13;
	bench_rng ^= bench_rng >> 17;
	bench_rng ^= bench_rng << 5;
	return bench_rng;
}

static void bench_fail(const char *what, int err)
{
	fprintf(stderr, "bench_fec: %s failed (%d)\n", what, err);
	exit(1);
}

static void bench_print(const char *name, double bytes, double seconds)
{
	printf("bench=%s unit=MB/s ours=%.1f\n", name, bytes / seconds / 1e6);
	fflush(stdout);
}

static void bench_fec_encode(double seconds)
{
	static uint8_t pkt[BENCH_PKT_LEN];
	int err = 0;
	struct fec_encoder *enc = fec_encoder_new(BENCH_DATA, BENCH_PARITY, BENCH_PKT_LEN, &err);
	double start, elapsed;
	unsigned long ops = 0;

	if (enc == NULL)
		bench_fail("fec_encoder_new", err);
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)bench_rand();
	start = bench_now_s();
	do {
		for (int i = 0; i < BENCH_BATCH; i++) {
			int n = fec_encoder_encode(enc, pkt, BENCH_PKT_LEN - FEC_DATA_HDR);

			if (n < 0)
				bench_fail("fec_encoder_encode", n);
		}
		ops += BENCH_BATCH;
		elapsed = bench_now_s() - start;
	} while (elapsed < seconds);
	bench_print("fec_encode", (double)ops * BENCH_PKT_LEN, elapsed);
	fec_encoder_free(enc);
}

static void bench_fec_decode(double seconds)
{
	static uint8_t group[BENCH_N][BENCH_PKT_LEN];
	int err = 0;
	struct fec_encoder *enc = fec_encoder_new(BENCH_DATA, BENCH_PARITY, BENCH_PKT_LEN, &err);
	struct fec_decoder *dec = fec_decoder_new(BENCH_DATA, BENCH_PARITY, BENCH_PKT_LEN, 3, &err);
	double start, elapsed;
	unsigned long ops = 0, recovered = 0;
	uint32_t seqid = 0;

	if (enc == NULL || dec == NULL)
		bench_fail("fec_*_new", err);
	/* one real group; the seqid is rewritten per packet (RS does not cover it) */
	for (int i = 0; i < BENCH_DATA; i++) {
		int n;

		for (size_t b = FEC_DATA_HDR; b < BENCH_PKT_LEN; b++)
			group[i][b] = (uint8_t)bench_rand();
		n = fec_encoder_encode(enc, group[i], BENCH_PKT_LEN - FEC_DATA_HDR);
		for (int k = 0; k < n; k++) {
			size_t len;

			memcpy(group[BENCH_DATA + k], fec_encoder_parity(enc, (unsigned)k, &len),
			       len);
		}
	}
	start = bench_now_s();
	do {
		for (int i = 0; i < BENCH_BATCH; i++, seqid++) {
			uint8_t *p = group[seqid % BENCH_N];
			int n;

			if (bench_rand() % BENCH_N == 0)
				continue; /* random loss */
			p[0] = (uint8_t)seqid;
			p[1] = (uint8_t)(seqid >> 8);
			p[2] = (uint8_t)(seqid >> 16);
			p[3] = (uint8_t)(seqid >> 24);
			n = fec_decoder_input(dec, p, BENCH_PKT_LEN, (uint32_t)ops);
			if (n < 0)
				bench_fail("fec_decoder_input", n);
			recovered += (unsigned long)n;
		}
		ops += BENCH_BATCH;
		elapsed = bench_now_s() - start;
	} while (elapsed < seconds);
	if (recovered == 0)
		bench_fail("fec_decode recovered nothing", 0);
	bench_print("fec_decode", (double)ops * BENCH_PKT_LEN, elapsed);
	fec_encoder_free(enc);
	fec_decoder_free(dec);
}

static void bench_rs(double seconds, unsigned loss)
{
	static uint8_t buf[BENCH_N][BENCH_PKT_LEN];
	uint8_t *sh[BENCH_N], present[BENCH_N];
	int err = 0;
	struct fec_rs *rs = fec_rs_new(BENCH_DATA, BENCH_PARITY, &err);
	double start, elapsed;
	unsigned long ops = 0;
	unsigned first = 0;
	char name[64];

	if (rs == NULL)
		bench_fail("fec_rs_new", err);
	for (int i = 0; i < BENCH_N; i++) {
		sh[i] = buf[i];
		for (size_t b = 0; b < BENCH_PKT_LEN; b++)
			buf[i][b] = (uint8_t)bench_rand();
	}
	fec_rs_encode(rs, sh, BENCH_PKT_LEN);
	start = bench_now_s();
	do {
		for (int i = 0; i < BENCH_BATCH; i++) {
			int n;

			if (loss == 0) {
				n = fec_rs_encode(rs, sh, BENCH_PKT_LEN);
			} else {
				memset(present, 1, sizeof(present));
				for (unsigned k = 0; k < loss; k++)
					present[(first + k * 3) % BENCH_DATA] = 0;
				first = (first + 1) % BENCH_DATA;
				n = fec_rs_reconstruct(rs, sh, present, BENCH_PKT_LEN);
				if (n != (int)loss)
					bench_fail("fec_rs_reconstruct", n);
			}
			if (n < 0)
				bench_fail("fec_rs", n);
		}
		ops += BENCH_BATCH;
		elapsed = bench_now_s() - start;
	} while (elapsed < seconds);
	if (loss == 0)
		snprintf(name, sizeof(name), "rs_encode_%d_%d", BENCH_DATA, BENCH_PARITY);
	else
		snprintf(name, sizeof(name), "rs_reconstruct_%d_%d_loss%u", BENCH_DATA,
			 BENCH_PARITY, loss);
	bench_print(name, (double)ops * BENCH_DATA * BENCH_PKT_LEN, elapsed);
	fec_rs_free(rs);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 0.5;

	if (seconds <= 0) {
		fprintf(stderr, "usage: bench_fec [SECONDS_PER_LINE]\n");
		return 2;
	}
	bench_fec_encode(seconds);
	bench_fec_decode(seconds);
	for (unsigned loss = 0; loss <= BENCH_PARITY; loss++)
		bench_rs(seconds, loss);
	return 0;
}
