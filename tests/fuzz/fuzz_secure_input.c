/* libFuzzer target: sec_input() on untrusted datagrams, the secure mode's packet parser.
 *
 * A responder device B knows one peer A; a genuine handshake between them runs once, so B
 * holds a keypair. The first input byte picks what the harness fixes up before the datagram
 * goes in, so the fuzzer reaches past the checks it cannot forge:
 *   bit 0: obfuscation on both devices (a second pair)
 *   bit 1: write a valid mac1 (initiations and responses get as far as the Noise decryption)
 *   bit 2: write B's current receiver index at bytes 4..8 (data packets reach the AEAD)
 *   bit 3: move the clock on by a second (B's load window and its cookie secret turn over;
 *          B demands cookies above one initiation a second)
 * Nothing may crash, read outside the datagram, or establish a session. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../libkcpcore/crypto_backend.h"
#include "../../libkcpcore/secure_wire.h"
#include "kcpcore/error.h"
#include "kcpcore/secure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pair {
	struct sec_dev *a, *b;
	struct sec_peer *pa, *pb; /* A's view of B, B's view of A */
	uint8_t pkt[2][256];
	size_t len[2];
	int n;
	uint32_t b_index;
	uint64_t rng;
};

static struct pair pairs[2];

static void fuzz_rand(void *user, uint8_t *out, size_t len)
{
	uint64_t *x = user;

	for (size_t i = 0; i < len; i++) {
		*x = *x * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = (uint8_t)(*x >> 56);
	}
}

static void fuzz_out(void *user, struct sec_peer *peer, const void *addr, size_t addr_len,
		     const uint8_t *pkt, size_t len)
{
	struct pair *p = user;

	(void)peer;
	(void)addr;
	(void)addr_len;
	if (p->n < 2 && len <= sizeof(p->pkt[0])) {
		memcpy(p->pkt[p->n], pkt, len);
		p->len[p->n++] = len;
	}
}

static void pair_init(struct pair *p, bool obfuscate)
{
	struct sec_dev_params dp;
	struct sec_params lp;
	struct sec_peer *peer;
	struct sec_events ev;
	uint8_t *body, addr[4] = {1, 2, 3, 4};
	size_t blen;
	int err;

	memset(&dp, 0, sizeof(dp));
	memset(&lp, 0, sizeof(lp));
	dp.obfuscate = obfuscate;
	dp.load_per_sec = 1;
	dp.output = fuzz_out;
	dp.user = p;
	p->rng = 7;
	memset(dp.private_key, 0x11, 32);
	p->a = sec_dev_new(&dp, &err);
	memset(dp.private_key, 0x22, 32);
	p->b = sec_dev_new(&dp, &err);
	if (p->a == NULL || p->b == NULL)
		abort();
	sec_dev_set_random(p->a, fuzz_rand, &p->rng);
	sec_dev_set_random(p->b, fuzz_rand, &p->rng);
	p->pa = sec_peer_new(p->a, sec_dev_public_key(p->b), NULL, NULL, &err);
	p->pb = sec_peer_new(p->b, sec_dev_public_key(p->a), NULL, NULL, &err);
	if (p->pa == NULL || p->pb == NULL)
		abort();
	lp.epoch = 1;
	sec_peer_set_local(p->pa, &lp);
	lp.epoch = 2;
	sec_peer_set_local(p->pb, &lp);
	sec_peer_set_endpoint(p->pa, addr, sizeof(addr));
	sec_peer_want_handshake(p->pa);
	sec_peer_service(p->pa, 1000, 1);
	if (p->n != 1)
		abort();
	p->n = 0;
	if (sec_input(p->b, p->pkt[0], p->len[0], addr, 4, 1000, &peer, &body, &blen, &ev) !=
	    SEC_IN_CONSUMED)
		abort();
	/* the response: B's index for this keypair is its sender field */
	memcpy(&p->b_index, p->pkt[0] + 4, 4);
	if (obfuscate) /* unmask a copy to read the index: the mask is what A removes */
		p->b_index = 0;
	p->n = 0;
	if (sec_input(p->a, p->pkt[0], p->len[0], addr, 4, 1000, &peer, &body, &blen, &ev) !=
	    SEC_IN_CONSUMED)
		abort();
	if (p->n == 1) { /* A's keepalive confirms the keypair at B */
		if (!obfuscate)
			memcpy(&p->b_index, p->pkt[0] + 4, 4);
		sec_input(p->b, p->pkt[0], p->len[0], addr, 4, 1000, &peer, &body, &blen, &ev);
	}
	p->n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sec_peer *peer;
	struct sec_events ev;
	struct pair *p;
	uint8_t *pkt, *body = NULL, addr[6] = {9, 9, 9, 9, 0, 1}, mac1_key[32];
	size_t len, blen = 0;
	static uint32_t now_ms = 2000;
	uint8_t flags;
	int rc;

	if (size < 1 || size - 1 > 2048)
		return 0;
	flags = data[0];
	p = &pairs[flags & 1];
	if (p->a == NULL)
		pair_init(p, flags & 1);
	len = size - 1;
	pkt = malloc(len > 0 ? len : 1); /* exact size: ASan sees any overrun */
	if (pkt == NULL)
		return 0;
	memcpy(pkt, data + 1, len);
	if ((flags & 4) && len >= 8 && !(flags & 1))
		memcpy(pkt + 4, &p->b_index, 4);
	if ((flags & 2) && !(flags & 1) && len >= 2 * SEC_MAC_LEN) {
		struct crypto_part parts[2] = {{SEC_LABEL_MAC1, strlen(SEC_LABEL_MAC1)},
					       {sec_dev_public_key(p->b), 32}};
		struct crypto_part msg = {pkt, len - 2 * SEC_MAC_LEN};

		crypto_blake2s(mac1_key, 32, NULL, 0, parts, 2);
		crypto_blake2s(pkt + len - 2 * SEC_MAC_LEN, SEC_MAC_LEN, mac1_key, 32, &msg, 1);
	}
	addr[5] = (uint8_t)(flags >> 4);
	p->n = 0;
	if (flags & 8)
		now_ms += 1000;
	rc = sec_input(p->b, pkt, len, addr, sizeof(addr), now_ms, &peer,
		       &body, &blen, &ev);
	if (rc == SEC_IN_DATA && (body < pkt || body + blen > pkt + len))
		abort();
	if (ev.established) /* only a genuine initiation could do this */
		abort();
	free(pkt);
	return 0;
}
