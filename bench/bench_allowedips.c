/* Lookups per second of the allowed-IPs table, single core.
 *
 *   lookup_v4   10k random IPv4 prefixes (/16../32), lookups of random addresses of which half
 *               fall inside a prefix (its first address with random host bits)
 *   lookup_v6   the same with 10k random IPv6 prefixes (/16../128)
 *   peers_v4    a server's table: 10k peers of one /32 each inside 10.0.0.0/8 plus a /0,
 *               lookups of the peers' addresses
 *
 * usage: bench_allowedips [SECONDS_PER_LINE]   (default 0.5)
 * One line per figure: bench=NAME unit=Mlookups/s ours=X hits=FRACTION_FINDING_A_PEER */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "allowedips.h"

#define BENCH_PREFIXES 10000
#define BENCH_PEERS    64
#define BENCH_QUERIES  65536 /* addresses cycled through; a power of two */
#define BENCH_BATCH    4096  /* lookups between clock reads */

static char bench_peer[BENCH_PEERS];
static uint8_t bench_query[BENCH_QUERIES][16];

static double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t bench_rng = 0x9e3779b97f4a7c15u;

static uint32_t bench_rand(void)
{
	bench_rng ^= bench_rng << 13;
	bench_rng ^= bench_rng >> 7;
	bench_rng ^= bench_rng << 17;
	return (uint32_t)(bench_rng >> 16);
}

static void bench_random_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)bench_rand();
}

/* Zeroes (host = 0) or randomises (host = 1) the bits of addr after the first cidr. */
static void bench_host_bits(uint8_t *addr, size_t len, unsigned cidr, int host)
{
	for (size_t i = 0; i < len; i++) {
		unsigned from = (unsigned)i * 8;
		uint8_t keep = cidr <= from	  ? 0
			       : cidr >= from + 8 ? 0xff
						  : (uint8_t)(0xff << (from + 8 - cidr));

		addr[i] = (uint8_t)((addr[i] & keep) | (host ? (uint8_t)bench_rand() & ~keep : 0));
	}
}

static void bench_fail(const char *what, int err)
{
	fprintf(stderr, "bench_allowedips: %s failed (%d)\n", what, err);
	exit(1);
}

static void bench_run(const char *name, const struct allowedips *t, int family, double seconds)
{
	double start = bench_now_s(), now;
	unsigned long n = 0, hits = 0;

	do {
		for (int i = 0; i < BENCH_BATCH; i++) {
			void *p = allowedips_lookup(t, family,
						    bench_query[(n + i) & (BENCH_QUERIES - 1)]);

			hits += p != NULL;
		}
		n += BENCH_BATCH;
		now = bench_now_s();
	} while (now - start < seconds);
	printf("bench=%s unit=Mlookups/s ours=%.1f hits=%.2f\n", name,
	       (double)n / (now - start) / 1e6, (double)hits / (double)n);
	fflush(stdout);
}

/* 10k random prefixes of family, and queries half inside them. */
static void bench_random(const char *name, int family, unsigned min_cidr, double seconds)
{
	static uint8_t pfx[BENCH_PREFIXES][16];
	static unsigned cidr[BENCH_PREFIXES];
	size_t len = family == AF_INET ? 4 : 16;
	unsigned max_cidr = (unsigned)len * 8;
	struct allowedips *t = allowedips_new();
	int rc;

	if (t == NULL)
		bench_fail("allowedips_new", -1);
	for (int i = 0; i < BENCH_PREFIXES; i++) {
		cidr[i] = min_cidr + bench_rand() % (max_cidr - min_cidr + 1);
		bench_random_bytes(pfx[i], len);
		bench_host_bits(pfx[i], len, cidr[i], 0);
		rc = allowedips_insert(t, family, pfx[i], cidr[i], &bench_peer[i % BENCH_PEERS]);
		if (rc < 0)
			bench_fail("allowedips_insert", rc);
	}
	for (int i = 0; i < BENCH_QUERIES; i++) {
		if (i % 2) {
			bench_random_bytes(bench_query[i], len);
		} else {
			int k = (int)(bench_rand() % BENCH_PREFIXES);

			memcpy(bench_query[i], pfx[k], len);
			bench_host_bits(bench_query[i], len, cidr[k], 1);
		}
	}
	bench_run(name, t, family, seconds);
	allowedips_free(t);
}

static void bench_peers_v4(double seconds)
{
	static char peers[BENCH_PREFIXES];
	struct allowedips *t = allowedips_new();
	uint8_t a[4] = {0};
	int rc;

	if (t == NULL)
		bench_fail("allowedips_new", -1);
	rc = allowedips_insert(t, AF_INET, a, 0, &bench_peer[0]);
	for (int i = 0; i < BENCH_PREFIXES && rc == 0; i++) {
		a[0] = 10;
		a[1] = (uint8_t)(i >> 16);
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		rc = allowedips_insert(t, AF_INET, a, 32, &peers[i]);
	}
	if (rc < 0)
		bench_fail("allowedips_insert", rc);
	for (int i = 0; i < BENCH_QUERIES; i++) {
		unsigned k = bench_rand() % BENCH_PREFIXES;

		bench_query[i][0] = 10;
		bench_query[i][1] = (uint8_t)(k >> 16);
		bench_query[i][2] = (uint8_t)(k >> 8);
		bench_query[i][3] = (uint8_t)k;
	}
	bench_run("peers_v4", t, AF_INET, seconds);
	allowedips_free(t);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 0.5;

	if (seconds <= 0) {
		fprintf(stderr, "usage: bench_allowedips [SECONDS_PER_LINE]\n");
		return 2;
	}
	bench_random("lookup_v4", AF_INET, 16, seconds);
	bench_random("lookup_v6", AF_INET6, 16, seconds);
	bench_peers_v4(seconds);
	return 0;
}
