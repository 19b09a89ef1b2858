/* libFuzzer target: Noise handshake messages as anyone on the network can send them. The first
 * input byte picks the reader, the rest is the message:
 *   even: noise_read_msg1() at a responder (fixed static key);
 *   odd:  noise_read_msg2() at an initiator that has written a fixed msg1.
 * A message either fails with KC_EAUTH or KC_ESHORT and leaves the state exactly as it was,
 * or succeeds with the payload length the message implies. When msg1 succeeds the responder
 * answers it; if it was the fixed msg1, the initiator must accept the answer and both must
 * derive the same keys. Nothing may read or write outside the message (an exact-size copy).
 * Seeds in tests/fuzz/corpus/noise_read: the genuine msg1 and msg2 of these keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcpcore/error.h"
#include "../../libkcpcore/noise.h" /* private; fuzz.am adds no -I for it */

#define FUZZ_MSG_MAX   1024
#define FUZZ_MSG1_PLEN 16 /* the fixed msg1's payload */
#define FUZZ_MSG2_PLEN 8  /* the answer's */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed keys: any valid ones do (X25519 clamps), but the seeds depend on them. */
static const uint8_t fuzz_init_s[32] = "fuzz: the initiator's static k.";
static const uint8_t fuzz_init_e[32] = "fuzz: the initiator's ephemeral";
static const uint8_t fuzz_resp_s[32] = "fuzz: the responder's static k.";
static const uint8_t fuzz_resp_e[32] = "fuzz: the responder's ephemeral";
static const uint8_t fuzz_psk[32] = "fuzz: the pre-shared key 012345";
static const uint8_t fuzz_prologue[] = "kcpvpnd fuzz";

/* The responder before any message, the initiator after writing the fixed msg1. */
static struct noise_hs fuzz_resp0, fuzz_init1;
static uint8_t fuzz_msg1[NOISE_MSG1_LEN(FUZZ_MSG1_PLEN)];

static void fuzz_setup(void)
{
	static int done;
	uint8_t resp_pub[32];
	size_t n;

	if (done)
		return;
	done = 1;
	if (noise_hs_init(&fuzz_resp0, false, fuzz_prologue, sizeof(fuzz_prologue), fuzz_resp_s,
			  NULL) < 0 ||
	    noise_hs_init(&fuzz_init1, true, fuzz_prologue, sizeof(fuzz_prologue), fuzz_init_s,
			  fuzz_resp0.s_pub) < 0)
		abort();
	memcpy(resp_pub, fuzz_resp0.s_pub, sizeof(resp_pub));
	noise_hs_set_psk(&fuzz_init1, fuzz_psk);
	if (noise_write_msg1(&fuzz_init1, fuzz_init_e, (const uint8_t *)"sixteen bytes ok",
			     FUZZ_MSG1_PLEN, fuzz_msg1, sizeof(fuzz_msg1), &n) < 0 ||
	    n != sizeof(fuzz_msg1))
		abort();
}

/* A msg1 that read well: the responder answers; for the fixed msg1 the initiator must agree. */
static void fuzz_answer(struct noise_hs *resp, const uint8_t *msg, size_t len)
{
	uint8_t out[NOISE_MSG2_LEN(FUZZ_MSG2_PLEN)], payload[FUZZ_MSG2_PLEN];
	uint8_t is[32], ir[32], rs[32], rr[32];
	struct noise_hs init = fuzz_init1;
	size_t n;

	noise_hs_set_psk(resp, fuzz_psk);
	if (noise_write_msg2(resp, fuzz_resp_e, (const uint8_t *)"answer!!", FUZZ_MSG2_PLEN, out,
			     sizeof(out), &n) < 0 ||
	    n != sizeof(out))
		abort();
	if (len != sizeof(fuzz_msg1) || memcmp(msg, fuzz_msg1, len) != 0)
		return; /* some other initiator's msg1 (only a key holder can make one) */
	if (noise_read_msg2(&init, out, n, payload, sizeof(payload), &n) != 0 ||
	    n != FUZZ_MSG2_PLEN || memcmp(payload, "answer!!", n) != 0)
		abort();
	if (noise_split(&init, is, ir) != 0 || noise_split(resp, rs, rr) != 0 ||
	    memcmp(is, rr, 32) != 0 || memcmp(ir, rs, 32) != 0)
		abort();
	noise_hs_wipe(&init);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct noise_hs hs, before;
	size_t len, overhead, plen = 1;
	uint8_t *msg, *payload;
	int second, rc;

	if (size < 1 || size - 1 > FUZZ_MSG_MAX)
		return 0;
	fuzz_setup();
	second = data[0] & 1;
	hs = second ? fuzz_init1 : fuzz_resp0;
	before = hs;
	overhead = second ? NOISE_MSG2_LEN(0) : NOISE_MSG1_LEN(0);
	/* exact-size heap copies, so ASan sees any access past the message or the payload */
	len = size - 1;
	msg = malloc(len > 0 ? len : 1);
	payload = malloc(len > overhead ? len - overhead : 1);
	if (msg == NULL || payload == NULL)
		abort();
	memcpy(msg, data + 1, len);
	rc = second ? noise_read_msg2(&hs, msg, len, payload, len > overhead ? len - overhead : 0,
				      &plen)
		    : noise_read_msg1(&hs, msg, len, payload, len > overhead ? len - overhead : 0,
				      &plen);
	if (rc == 0) {
		if (plen != len - overhead || hs.msgs != before.msgs + 1)
			abort();
		if (!second)
			fuzz_answer(&hs, msg, len);
	} else if ((rc != KC_EAUTH && rc != KC_ESHORT) || plen != 0 ||
		   memcmp(&hs, &before, sizeof(hs)) != 0 || (rc == KC_ESHORT) != (len < overhead)) {
		abort();
	}
	noise_hs_wipe(&hs);
	free(payload);
	free(msg);
	return 0;
}
