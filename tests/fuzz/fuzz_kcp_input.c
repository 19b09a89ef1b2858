/* libFuzzer target: arbitrary datagrams into the KCP engine, interleaved with sends, clock
 * jumps and reads, so the fuzzer reaches states with data in flight and queued.
 * Input: records of [op u8][len u16 LE][len bytes]; op % 5: 0 input (regular), 1 input
 * (recovered), 2 send len bytes, 3 advance the clock by len ms and update, 4 read all.
 * Checks: no crash or sanitizer report, every pool buffer returned at the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcpcore/kcp.h"
#include "kcpcore/pool.h"

static void out_drop(struct pkt *p, void *user)
{
	pool_put(user, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[65536];
	struct kcp_params p;
	struct pool *pool;
	struct kcp *k;
	uint32_t now = 0xfffff000u;
	int err;

	pool = pool_new(512, KC_HEADROOM + 1500, &err);
	if (pool == NULL)
		abort();
	kcp_params_default(&p);
	kcp_params_profile(&p, size > 0 && (data[0] & 1) ? "fast3" : "default");
	p.stream = size > 0 && (data[0] & 2);
	p.snd_wnd = p.rcv_wnd = 64;
	p.sn_base = size > 0 && (data[0] & 4) ? 0xfffffff8u : 0;
	k = kcp_new(0x11223344, &p, pool, out_drop, pool, &err);
	if (k == NULL)
		abort();
	if (size > 0) {
		data++;
		size--;
	}
	while (size >= 3) {
		uint8_t op = data[0];
		size_t len = (size_t)(data[1] | data[2] << 8);

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		switch (op % 5) {
		case 0:
		case 1:
			kcp_input(k, data, len, op % 5 == 0, now);
			break;
		case 2:
			kcp_send(k, data, len);
			break;
		case 3:
			now += (uint32_t)len;
			kcp_update(k, now);
			break;
		default:
			while (kcp_recv(k, buf, sizeof(buf)) >= 0)
				;
			break;
		}
		data += len;
		size -= len;
		kcp_update(k, now);
	}
	kcp_free(k);
	if (pool_avail(pool) != pool_count(pool))
		abort(); /* a buffer leaked */
	pool_free(pool);
	return 0;
}
