/* Raw IP packets from the TUN device: addresses, and TCP MSS clamping on SYNs.
 *
 * Field offsets are those of RFC 791 (IPv4), RFC 8200 (IPv6) and RFC 9293 (TCP); everything is
 * read byte by byte in network order after checking it lies inside the packet. */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ippkt.h"

/* IPv4 header */
#define IPPKT_V4_HDR_LEN  20	 /* without options */
#define IPPKT_V4_TOTLEN	  2	 /* u16 total length */
#define IPPKT_V4_FRAG	  6	 /* u16 flags and fragment offset */
#define IPPKT_V4_FRAG_MF  0x2000 /* more fragments */
#define IPPKT_V4_FRAG_OFF 0x1fff /* fragment offset, 8-byte units */
#define IPPKT_V4_PROTO	  9
#define IPPKT_V4_SRC	  12
#define IPPKT_V4_DST	  16

/* IPv6 fixed header and the extension headers we step over */
#define IPPKT_V6_HDR_LEN 40
#define IPPKT_V6_PLEN	 4 /* u16 payload length; 0 with a jumbo payload option */
#define IPPKT_V6_NEXT	 6
#define IPPKT_V6_SRC	 8
#define IPPKT_V6_DST	 24
#define IPPKT_V6_EXT_MIN 8 /* next header, length in 8-byte units not counting the first 8 */

/* TCP header and options */
#define IPPKT_TCP_HDR_LEN    20 /* without options */
#define IPPKT_TCP_DOFF	     12 /* high nibble: header length in 32-bit words */
#define IPPKT_TCP_FLAGS	     13
#define IPPKT_TCP_FLAG_SYN   0x02
#define IPPKT_TCP_CSUM	     16
#define IPPKT_TCPOPT_EOL     0
#define IPPKT_TCPOPT_NOP     1
#define IPPKT_TCPOPT_MSS     2
#define IPPKT_TCPOPT_MSS_LEN 4

static uint16_t ippkt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void ippkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int ippkt_addrs(const uint8_t *pkt, size_t len, int *family, const uint8_t **src,
		const uint8_t **dst)
{
	if (len < 1)
		return -EINVAL;
	switch (pkt[0] >> 4) {
	case 4:
		if (len < IPPKT_V4_HDR_LEN)
			return -EINVAL;
		*family = AF_INET;
		*src = pkt + IPPKT_V4_SRC;
		*dst = pkt + IPPKT_V4_DST;
		return 0;
	case 6:
		if (len < IPPKT_V6_HDR_LEN)
			return -EINVAL;
		*family = AF_INET6;
		*src = pkt + IPPKT_V6_SRC;
		*dst = pkt + IPPKT_V6_DST;
		return 0;
	default:
		return -EINVAL;
	}
}

/* The TCP segment of an unfragmented IPv4 packet: offset of its header and its end (from the
 * total length, so trailing bytes after the datagram are not part of it). -EINVAL otherwise. */
static int ippkt_v4_tcp(const uint8_t *pkt, size_t len, size_t *tcp, size_t *end)
{
	size_t hl, tot;

	if (len < IPPKT_V4_HDR_LEN)
		return -EINVAL;
	hl = (size_t)(pkt[0] & 0x0f) * 4;
	tot = ippkt_get16(pkt + IPPKT_V4_TOTLEN);
	if (hl < IPPKT_V4_HDR_LEN || tot < hl || tot > len)
		return -EINVAL;
	if ((ippkt_get16(pkt + IPPKT_V4_FRAG) & (IPPKT_V4_FRAG_MF | IPPKT_V4_FRAG_OFF)) != 0)
		return -EINVAL;
	if (pkt[IPPKT_V4_PROTO] != IPPROTO_TCP)
		return -EINVAL;
	*tcp = hl;
	*end = tot;
	return 0;
}

/* The same for IPv6, stepping over hop-by-hop, routing and destination options headers. A
 * fragment header, any other header, or a jumbogram ends the search with -EINVAL. */
static int ippkt_v6_tcp(const uint8_t *pkt, size_t len, size_t *tcp, size_t *end)
{
	size_t off = IPPKT_V6_HDR_LEN, tot, ext;
	uint8_t next;

	if (len < IPPKT_V6_HDR_LEN)
		return -EINVAL;
	tot = IPPKT_V6_HDR_LEN + (size_t)ippkt_get16(pkt + IPPKT_V6_PLEN);
	if (tot == IPPKT_V6_HDR_LEN || tot > len)
		return -EINVAL;
	next = pkt[IPPKT_V6_NEXT];
	for (;;) {
		switch (next) {
		case IPPROTO_TCP:
			*tcp = off;
			*end = tot;
			return 0;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (tot - off < IPPKT_V6_EXT_MIN)
				return -EINVAL;
			ext = ((size_t)pkt[off + 1] + 1) * 8;
			if (tot - off < ext)
				return -EINVAL;
			next = pkt[off];
			off += ext; /* at least 8 bytes further: the loop ends */
			break;
		default:
			return -EINVAL;
		}
	}
}

/* Offset of the first MSS option's value in TCP header seg (hl bytes of it), 0 when there is
 * none, -EINVAL when the option list is malformed: a missing length byte, a length below 2 or
 * past the header, or an MSS option whose length is not 4. */
static int ippkt_tcp_find_mss(const uint8_t *seg, size_t hl)
{
	size_t i = IPPKT_TCP_HDR_LEN, olen;
	int at = 0;

	while (i < hl) {
		if (seg[i] == IPPKT_TCPOPT_EOL)
			break;
		if (seg[i] == IPPKT_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (hl - i < 2)
			return -EINVAL;
		olen = seg[i + 1];
		if (olen < 2 || olen > hl - i)
			return -EINVAL;
		if (seg[i] == IPPKT_TCPOPT_MSS) {
			if (olen != IPPKT_TCPOPT_MSS_LEN)
				return -EINVAL;
			if (at == 0)
				at = (int)i + 2;
		}
		i += olen;
	}
	return at;
}

/* RFC 1624 eqn. 3: the checksum after 16-bit word m of the summed data became m_new. */
static uint16_t ippkt_csum_update(uint16_t csum, uint16_t m, uint16_t m_new)
{
	uint32_t sum = (uint32_t)(uint16_t)~csum + (uint16_t)~m + m_new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t ippkt_swap16(uint16_t v)
{
	return (uint16_t)(v << 8 | v >> 8);
}

int ippkt_clamp_mss(uint8_t *pkt, size_t len, uint16_t mss)
{
	size_t tcp, end, hl;
	uint16_t old, csum, w_old, w_new;
	uint8_t *seg;
	int at, rc;

	if (len < 1)
		return 0;
	if (pkt[0] >> 4 == 4)
		rc = ippkt_v4_tcp(pkt, len, &tcp, &end);
	else if (pkt[0] >> 4 == 6)
		rc = ippkt_v6_tcp(pkt, len, &tcp, &end);
	else
		return 0;
	if (rc < 0 || end - tcp < IPPKT_TCP_HDR_LEN)
		return 0;
	seg = pkt + tcp;
	if ((seg[IPPKT_TCP_FLAGS] & IPPKT_TCP_FLAG_SYN) == 0)
		return 0;
	hl = (size_t)(seg[IPPKT_TCP_DOFF] >> 4) * 4;
	if (hl < IPPKT_TCP_HDR_LEN || hl > end - tcp)
		return 0;
	at = ippkt_tcp_find_mss(seg, hl);
	if (at <= 0)
		return 0;
	old = ippkt_get16(seg + at);
	if (old <= mss)
		return 0;
	/* The segment is summed in 16-bit words from its first byte: a value at an odd offset
	 * straddles two words, its bytes landing in them swapped (RFC 1071, byte order
	 * independence). */
	w_old = (at & 1) ? ippkt_swap16(old) : old;
	w_new = (at & 1) ? ippkt_swap16(mss) : mss;
	csum = ippkt_get16(seg + IPPKT_TCP_CSUM);
	ippkt_put16(seg + at, mss);
	ippkt_put16(seg + IPPKT_TCP_CSUM, ippkt_csum_update(csum, w_old, w_new));
	return 1;
}

uint16_t ippkt_mss_for_mtu(unsigned mtu, int family)
{
	unsigned hdrs;

	if (family == AF_INET)
		hdrs = IPPKT_V4_HDR_LEN + IPPKT_TCP_HDR_LEN;
	else if (family == AF_INET6)
		hdrs = IPPKT_V6_HDR_LEN + IPPKT_TCP_HDR_LEN;
	else
		return 0;
	if (mtu <= hdrs)
		return 0;
	return mtu - hdrs > UINT16_MAX ? UINT16_MAX : (uint16_t)(mtu - hdrs);
}
