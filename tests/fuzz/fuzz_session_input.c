/* libFuzzer target: arbitrary datagrams into a session, for every crypt method and several FEC
 * settings (the decoder's autotune included), interleaved with sends and clock steps.
 * Input: [setting u8] then records of [len u16 LE][len bytes]; a record of length 0 advances
 * the clock by 37 ms and sends a message. setting % 7 picks the crypt method, setting / 7 % 5
 * the FEC setting. Checks: no crash or sanitizer report, every pool buffer returned. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcpcore/crypt.h"
#include "kcpcore/pool.h"
#include "kcpcore/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void out_drop(struct pkt *p, void *user)
{
	pool_put(user, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned fec[5][2] = {{0, 0}, {10, 3}, {3, 2}, {1, 1}, {20, 10}};
	static uint8_t dg[2048], msg[65536], key[CRYPT_KEY_LEN];
	static int have_key;
	struct session_params p;
	struct session *s;
	struct pool *pool;
	uint32_t now = 0xffffff00u;
	uint8_t setting;
	int err;

	if (size < 1)
		return 0;
	setting = data[0];
	data++;
	size--;
	if (!have_key) /* PBKDF2 is slow: derive once */
		have_key = crypt_kdf_kcptun("it's a secrect", 14, key) == 0;
	pool = pool_new(256, KC_HEADROOM + 1500, &err);
	if (pool == NULL)
		abort();
	session_params_default(&p);
	p.conv = 0x99aabbcc; /* the captures' conv, so seeds get past the KCP check */
	p.crypt = (enum crypt_method)(setting % 7);
	memcpy(p.key, key, sizeof(key));
	p.fec_data = fec[setting / 7 % 5][0];
	p.fec_parity = fec[setting / 7 % 5][1];
	kcp_params_profile(&p.kcp, "fast3");
	s = session_new(&p, pool, out_drop, pool, &err);
	if (s == NULL)
		abort();
	while (size >= 2) {
		size_t len = (size_t)(data[0] | data[1] << 8);

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (len > sizeof(dg))
			len = sizeof(dg);
		if (len == 0) {
			now += 37;
			session_send(s, "ping", 4);
		} else {
			memcpy(dg, data, len); /* opened in place: keep the input intact */
			session_input(s, dg, len, now);
		}
		while (session_recv(s, msg, sizeof(msg)) >= 0)
			;
		session_update(s, now);
		data += len;
		size -= len;
	}
	session_free(s);
	if (pool_avail(pool) != pool_count(pool))
		abort();
	pool_free(pool);
	return 0;
}
