/* libFuzzer target: arbitrary datagrams into FEC decoders of several configurations, autotune
 * (0/0) among them.
 * Input: records of [dt u8][len u16 LE][len bytes]; dt advances the clock (ms, or seconds when
 * its top bit is set), then the datagram goes to every decoder.
 * Checks: no crash or sanitizer report; every recovered payload readable and within shard_max;
 * the cache within its capacity; shard counts 0/0 or valid; no per-packet allocation is
 * checked by the unit suite instead. */
#include <stdint.h>
#include <stdlib.h>

#include "kcpcore/error.h"
#include "kcpcore/fec.h"

static const struct {
	unsigned data, parity, groups;
	size_t shard_max;
} fuzz_cfg[] = {
    {0, 0, 3, 1500}, {1, 1, 3, 1500},	{10, 3, 3, 1500},
    {3, 2, 1, 200},  {20, 10, 2, 1500}, {2, 40, 1, 64},
};

#define FUZZ_NCFG (sizeof(fuzz_cfg) / sizeof(fuzz_cfg[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fec_decoder *dec[FUZZ_NCFG];
	uint32_t now_ms = 0xffff0000u;
	volatile uint8_t sink = 0;
	int err;

	for (size_t c = 0; c < FUZZ_NCFG; c++) {
		dec[c] = fec_decoder_new(fuzz_cfg[c].data, fuzz_cfg[c].parity,
					 fuzz_cfg[c].shard_max, fuzz_cfg[c].groups, &err);
		if (dec[c] == NULL)
			abort();
	}
	while (size >= 3) {
		uint8_t dt = data[0];
		size_t len = (size_t)(data[1] | data[2] << 8);

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		now_ms += dt & 0x80 ? (dt & 0x7fu) * 1000u : dt;
		for (size_t c = 0; c < FUZZ_NCFG; c++) {
			int n = fec_decoder_input(dec[c], data, len, now_ms);
			unsigned d, p;
			size_t past;

			if (n < 0 && n != KC_ESHORT && n != KC_ELEN && n != KC_EFEC)
				abort();
			for (int i = 0; i < n; i++) {
				size_t rlen;
				const uint8_t *r =
				    fec_decoder_recovered(dec[c], (unsigned)i, &rlen);

				if (r == NULL || rlen + 2 > fuzz_cfg[c].shard_max)
					abort();
				for (size_t b = 0; b < rlen; b++)
					sink ^= r[b];
			}
			if (fec_decoder_recovered(dec[c], n > 0 ? (unsigned)n : 0, &past) != NULL)
				abort();
			if (fec_decoder_cached(dec[c]) > fec_decoder_capacity(dec[c]))
				abort();
			fec_decoder_shards(dec[c], &d, &p);
			if ((d == 0) != (p == 0) || d + p > FEC_MAX_SHARDS)
				abort();
		}
		data += len;
		size -= len;
	}
	for (size_t c = 0; c < FUZZ_NCFG; c++)
		fec_decoder_free(dec[c]);
	(void)sink;
	return 0;
}
