/* libFuzzer target: raw packets from the TUN device into ippkt_addrs() and ippkt_clamp_mss().
 * The first two input bytes are the MSS to clamp to (big-endian), the rest is the packet.
 *
 * Claims checked on every input: addresses point inside the packet and match its version;
 * a clamp that reports no change changed nothing; one that reports a change altered at most the
 * four bytes of an MSS value and a checksum, inside the TCP header this target finds on its own,
 * lowered that MSS value to the one asked for, and a TCP checksum that verified before still
 * verifies. Nothing may be read or written outside the packet (an exact-size heap copy). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ippkt.h"

#define FUZZ_PKT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned fuzz_get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* The oracle's own view of where the TCP segment is, as loose as RFC 791/8200 allow: -1 when
 * the packet does not carry one this way. IPv4 fragments count here on purpose; the library must
 * still leave them alone. */
static int fuzz_find_tcp(const uint8_t *pkt, size_t len, size_t *tcp, size_t *end)
{
	size_t off, tot;
	uint8_t next;

	if (len >= 20 && pkt[0] >> 4 == 4) {
		off = (size_t)(pkt[0] & 15) * 4;
		tot = fuzz_get16(pkt + 2);
		if (off < 20 || tot < off || tot > len || pkt[9] != 6)
			return -1;
		*tcp = off;
		*end = tot;
		return 0;
	}
	if (len < 40 || pkt[0] >> 4 != 6)
		return -1;
	tot = 40 + fuzz_get16(pkt + 4);
	if (tot > len)
		return -1;
	next = pkt[6];
	for (off = 40; next == 0 || next == 43 || next == 60 || next == 44;) {
		size_t ext;

		if (tot - off < 8)
			return -1;
		ext = next == 44 ? 8 : ((size_t)pkt[off + 1] + 1) * 8;
		if (tot - off < ext)
			return -1;
		next = pkt[off];
		off += ext;
	}
	if (next != 6)
		return -1;
	*tcp = off;
	*end = tot;
	return 0;
}

/* Whether the TCP checksum of pkt[tcp..end) verifies: the one's complement sum of the
 * pseudo-header and the segment is 0xffff. */
static int fuzz_csum_ok(const uint8_t *pkt, size_t tcp, size_t end)
{
	uint64_t sum = 6 + (uint64_t)(end - tcp);
	const uint8_t *seg = pkt + tcp;
	size_t n = end - tcp;

	if (pkt[0] >> 4 == 4) {
		for (size_t i = 12; i < 20; i += 2)
			sum += fuzz_get16(pkt + i);
	} else {
		for (size_t i = 8; i < 40; i += 2)
			sum += fuzz_get16(pkt + i);
	}
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += fuzz_get16(seg + i);
	if (n & 1)
		sum += (uint64_t)seg[n - 1] << 8;
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t before[FUZZ_PKT_MAX];
	const uint8_t *src, *dst;
	size_t len, tcp = 0, end = 0, changed = 0, first = 0, last = 0;
	uint16_t mss;
	uint8_t *pkt;
	int family, rc, has_tcp, ok_before = 0;

	if (size < 2 || size - 2 > FUZZ_PKT_MAX)
		return 0;
	mss = (uint16_t)fuzz_get16(data);
	len = size - 2;
	pkt = malloc(len > 0 ? len : 1);
	if (pkt == NULL)
		return 0;
	memcpy(pkt, data + 2, len);
	memcpy(before, pkt, len);

	rc = ippkt_addrs(pkt, len, &family, &src, &dst);
	if (rc == 0) {
		size_t alen = family == AF_INET ? 4 : 16;

		if ((family == AF_INET) != (pkt[0] >> 4 == 4) ||
		    (family == AF_INET6) != (pkt[0] >> 4 == 6))
			abort();
		if (src < pkt || dst < pkt || (size_t)(src - pkt) + alen > len ||
		    (size_t)(dst - pkt) + alen > len)
			abort();
	} else if (rc != -EINVAL || (len >= 40 && pkt[0] >> 4 == 6) ||
		   (len >= 20 && pkt[0] >> 4 == 4)) {
		abort();
	}

	has_tcp = fuzz_find_tcp(pkt, len, &tcp, &end) == 0;
	if (has_tcp)
		ok_before = fuzz_csum_ok(pkt, tcp, end);
	rc = ippkt_clamp_mss(pkt, len, mss);
	for (size_t i = 0; i < len; i++) {
		if (pkt[i] != before[i]) {
			if (changed++ == 0)
				first = i;
			last = i;
		}
	}
	if (rc == 0) {
		if (changed != 0)
			abort();
	} else if (rc == 1) {
		size_t hl;
		unsigned old, now;
		int found = 0;

		/* a TCP SYN with a header the segment holds, and its checksum is what changed */
		if (!has_tcp || end - tcp < 20 || (pkt[tcp + 13] & 0x02) == 0)
			abort();
		hl = (size_t)(pkt[tcp + 12] >> 4) * 4;
		if (hl < 20 || hl > end - tcp || changed > 4 || first < tcp + 16 ||
		    last >= tcp + hl)
			abort();
		/* some MSS value position now holds mss and held more before */
		for (size_t at = 22; at + 2 <= hl; at++) {
			old = fuzz_get16(before + tcp + at);
			now = fuzz_get16(pkt + tcp + at);
			if (before[tcp + at - 2] == 2 && before[tcp + at - 1] == 4 && now == mss &&
			    old > mss)
				found = 1;
		}
		if (!found)
			abort();
		if (ok_before && !fuzz_csum_ok(pkt, tcp, end))
			abort();
	} else {
		abort();
	}
	free(pkt);
	return 0;
}
