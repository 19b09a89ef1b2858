/* IP packet utilities: addresses of IPv4/IPv6 packets, and TCP MSS clamping on hand-built SYNs.
 * Every clamped checksum is compared with one recomputed from scratch (pseudo-header and all),
 * and every test packet sits in an exact-size heap copy so ASan catches a read past its end. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ippkt.h"

#define PKT_MAX 2048

/* ---- building packets ---- */

struct spec {
	int family;
	const uint8_t *ext; /* IPv4 options, or IPv6 extension headers (their next fields set) */
	size_t ext_len;
	uint8_t next;	     /* IPv6: next header of the fixed header when ext_len > 0 */
	uint8_t proto;	     /* IPv4 protocol; 0 = TCP */
	uint16_t frag;	     /* IPv4 flags and fragment offset */
	const uint8_t *opts; /* TCP options, a multiple of 4 bytes */
	size_t opt_len;
	uint8_t flags; /* TCP flags */
	size_t payload;
};

#define TCP_SYN 0x02
#define TCP_ACK 0x10

static uint64_t rng_state = 1;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* The TCP checksum of the segment pkt[tcp..end), computed from nothing: the pseudo-header and
 * the segment with its checksum field taken as zero, summed as big-endian 16-bit words. */
static unsigned csum_scratch(const uint8_t *pkt, size_t tcp, size_t end)
{
	uint8_t buf[PKT_MAX + 64];
	size_t n = 0, seg = end - tcp;
	uint64_t sum = 0;

	if (pkt[0] >> 4 == 4) {
		memcpy(buf, pkt + 12, 8);
		buf[8] = 0;
		buf[9] = 6;
		put16(buf + 10, (unsigned)seg);
		n = 12;
	} else {
		memcpy(buf, pkt + 8, 32);
		buf[32] = (uint8_t)(seg >> 24);
		buf[33] = (uint8_t)(seg >> 16);
		buf[34] = (uint8_t)(seg >> 8);
		buf[35] = (uint8_t)seg;
		buf[36] = buf[37] = buf[38] = 0;
		buf[39] = 6;
		n = 40;
	}
	memcpy(buf + n, pkt + tcp, seg);
	buf[n + 16] = buf[n + 17] = 0;
	n += seg;
	buf[n] = 0;
	for (size_t i = 0; i < n; i += 2)
		sum += get16(buf + i);
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Builds the packet of s into buf; returns its length and the TCP header offset in *tcp. */
static size_t build(uint8_t *buf, const struct spec *s, size_t *tcp)
{
	size_t ip, seg, len;
	uint8_t *t;

	ck_assert_uint_eq(s->opt_len % 4, 0);
	if (s->family == AF_INET) {
		ck_assert_uint_eq(s->ext_len % 4, 0);
		ip = 20 + s->ext_len;
	} else {
		ip = 40 + s->ext_len;
	}
	seg = 20 + s->opt_len + s->payload;
	len = ip + seg;
	ck_assert_uint_le(len, PKT_MAX);
	memset(buf, 0, ip);
	if (s->family == AF_INET) {
		buf[0] = (uint8_t)(0x40 | ip / 4);
		put16(buf + 2, (unsigned)len);
		put16(buf + 4, rng());
		put16(buf + 6, s->frag);
		buf[8] = 64;
		buf[9] = s->proto != 0 ? s->proto : 6;
		inet_pton(AF_INET, "10.9.0.2", buf + 12);
		inet_pton(AF_INET, "192.168.50.7", buf + 16);
		if (s->ext_len > 0)
			memcpy(buf + 20, s->ext, s->ext_len);
	} else {
		buf[0] = 0x60;
		put16(buf + 4, (unsigned)(len - 40));
		buf[6] = s->ext_len > 0 ? s->next : 6;
		buf[7] = 64;
		inet_pton(AF_INET6, "fd00:9::2", buf + 8);
		inet_pton(AF_INET6, "2001:db8::7", buf + 24);
		if (s->ext_len > 0)
			memcpy(buf + 40, s->ext, s->ext_len);
	}
	t = buf + ip;
	put16(t, 40000 + rng() % 20000);
	put16(t + 2, 443);
	for (int i = 4; i < 12; i++)
		t[i] = (uint8_t)rng();
	t[12] = (uint8_t)((20 + s->opt_len) / 4 << 4);
	t[13] = s->flags;
	put16(t + 14, 64240);
	put16(t + 16, 0);
	put16(t + 18, 0);
	memcpy(t + 20, s->opts, s->opt_len);
	for (size_t i = 0; i < s->payload; i++)
		t[20 + s->opt_len + i] = (uint8_t)rng();
	put16(t + 16, csum_scratch(buf, ip, len));
	*tcp = ip;
	return len;
}

static uint8_t *heap_copy(const uint8_t *p, size_t len)
{
	uint8_t *c = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(c);
	memcpy(c, p, len);
	return c;
}

/* Clamps an exact-size copy of pkt and checks the outcome: the return value, that nothing
 * changed when it returns 0, and when it returns 1, that only the MSS value at tcp + mss_at
 * and the checksum changed, to the new MSS and to the checksum recomputed from scratch over the
 * segment as long as the IP header says. */
static void expect_clamp(const uint8_t *pkt, size_t len, size_t tcp, size_t mss_at, uint16_t mss,
			 int want)
{
	uint8_t *c = heap_copy(pkt, len);
	int rc = ippkt_clamp_mss(c, len, mss);

	ck_assert_int_eq(rc, want);
	if (want == 0) {
		ck_assert_mem_eq(c, pkt, len);
	} else {
		ck_assert_uint_eq(get16(c + tcp + mss_at), mss);
		size_t end = c[0] >> 4 == 4 ? get16(c + 2) : 40 + get16(c + 4);

		ck_assert_uint_eq(get16(c + tcp + 16), csum_scratch(c, tcp, end));
		for (size_t i = 0; i < len; i++) {
			if (i == tcp + 16 || i == tcp + 17 || i == tcp + mss_at ||
			    i == tcp + mss_at + 1)
				continue;
			ck_assert_msg(c[i] == pkt[i], "byte %zu changed", i);
		}
	}
	free(c);
}

/* ---- ippkt_addrs ---- */

START_TEST(ippkt_addrs_gives_family_and_addresses_of_v4_and_v6)
{
	static const uint8_t mss_opt[] = {2, 4, 0x05, 0xb4};
	struct spec s = {.family = AF_INET, .opts = mss_opt, .opt_len = 4, .flags = TCP_SYN};
	uint8_t buf[PKT_MAX], want[16];
	const uint8_t *src, *dst;
	size_t tcp, len = build(buf, &s, &tcp);
	uint8_t *c = heap_copy(buf, 20);
	int family = 0;

	/* IPv4: the fixed header is enough */
	ck_assert_int_eq(ippkt_addrs(c, 20, &family, &src, &dst), 0);
	ck_assert_int_eq(family, AF_INET);
	inet_pton(AF_INET, "10.9.0.2", want);
	ck_assert_ptr_eq(src, c + 12);
	ck_assert_mem_eq(src, want, 4);
	inet_pton(AF_INET, "192.168.50.7", want);
	ck_assert_ptr_eq(dst, c + 16);
	ck_assert_mem_eq(dst, want, 4);
	free(c);
	ck_assert_uint_gt(len, 20);

	s.family = AF_INET6;
	build(buf, &s, &tcp);
	c = heap_copy(buf, 40);
	ck_assert_int_eq(ippkt_addrs(c, 40, &family, &src, &dst), 0);
	ck_assert_int_eq(family, AF_INET6);
	inet_pton(AF_INET6, "fd00:9::2", want);
	ck_assert_ptr_eq(src, c + 8);
	ck_assert_mem_eq(src, want, 16);
	inet_pton(AF_INET6, "2001:db8::7", want);
	ck_assert_ptr_eq(dst, c + 24);
	ck_assert_mem_eq(dst, want, 16);
	free(c);
}
END_TEST

START_TEST(ippkt_addrs_rejects_short_headers_and_other_versions)
{
	uint8_t buf[64] = {0};
	const uint8_t *src = NULL, *dst = NULL;
	int family = 0;

	for (size_t len = 0; len < 20; len++) {
		uint8_t *c;

		buf[0] = 0x45;
		c = heap_copy(buf, len);
		ck_assert_int_eq(ippkt_addrs(c, len, &family, &src, &dst), -EINVAL);
		free(c);
	}
	for (size_t len = 0; len < 40; len++) {
		uint8_t *c;

		buf[0] = 0x60;
		c = heap_copy(buf, len);
		ck_assert_int_eq(ippkt_addrs(c, len, &family, &src, &dst), -EINVAL);
		free(c);
	}
	for (unsigned v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		buf[0] = (uint8_t)(v << 4 | 5);
		ck_assert_int_eq(ippkt_addrs(buf, sizeof(buf), &family, &src, &dst), -EINVAL);
	}
	ck_assert_int_eq(family, 0);
	ck_assert_ptr_null(src);
	ck_assert_ptr_null(dst);
}
END_TEST

/* ---- MSS clamping ---- */

/* TCP option layouts of a SYN, each with its MSS option somewhere else. */
struct layout {
	const char *name;
	uint8_t opts[40];
	size_t len;
	size_t mss_at; /* offset of the MSS value in the TCP header */
};

static const struct layout layouts[] = {
    {"mss only", {2, 4, 0x05, 0xb4}, 4, 22},
    {"linux", {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7}, 20, 22},
    {"nop then mss at an odd offset", {1, 2, 4, 0x23, 0x28, 1, 1, 0}, 8, 23},
    {"mss after timestamps, odd",
     {1, 1, 8, 10, 9, 9, 9, 9, 0, 0, 0, 0, 1, 3, 3, 7, 4, 2, 1, 2, 4, 0x20, 0x00, 0},
     24,
     41},
    {"mss last, after sack-permitted", {4, 2, 1, 1, 1, 1, 1, 1, 2, 4, 0xff, 0xff}, 12, 30},
    {"mss then eol", {2, 4, 0x40, 0x00, 0, 0, 0, 0}, 8, 22},
    {"unknown options before", {30, 6, 1, 2, 3, 4, 253, 2, 2, 4, 0x05, 0xb4}, 12, 30},
};

static void clamp_every_layout(int family, const uint8_t *ext, size_t ext_len, uint8_t next,
			       uint8_t flags)
{
	uint8_t buf[PKT_MAX];

	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		const struct layout *l = &layouts[i];
		struct spec s = {.family = family,
				 .ext = ext,
				 .ext_len = ext_len,
				 .next = next,
				 .opts = l->opts,
				 .opt_len = l->len,
				 .flags = flags};

		for (int round = 0; round < 50; round++) {
			size_t tcp, len;
			unsigned old;

			s.payload = rng() % 64;
			len = build(buf, &s, &tcp);
			old = get16(buf + tcp + l->mss_at);
			expect_clamp(buf, len, tcp, l->mss_at, 1200, old > 1200);
			expect_clamp(buf, len, tcp, l->mss_at, (uint16_t)old, 0);
			expect_clamp(buf, len, tcp, l->mss_at, (uint16_t)(old - 1), 1);
			expect_clamp(buf, len, tcp, l->mss_at, (uint16_t)(rng() % old), 1);
		}
	}
}

START_TEST(ippkt_clamp_lowers_mss_of_v4_syn_wherever_the_option_sits)
{
	rng_state = 11;
	clamp_every_layout(AF_INET, NULL, 0, 0, TCP_SYN);
}
END_TEST

START_TEST(ippkt_clamp_lowers_mss_of_v4_syn_ack)
{
	rng_state = 12;
	clamp_every_layout(AF_INET, NULL, 0, 0, TCP_SYN | TCP_ACK);
}
END_TEST

START_TEST(ippkt_clamp_steps_over_v4_options)
{
	static const uint8_t ipopts[] = {1, 1, 1, 0, 7, 7, 4, 0, 0, 0, 0, 0}; /* NOPs, EOL, RR */

	rng_state = 13;
	clamp_every_layout(AF_INET, ipopts, sizeof(ipopts), 0, TCP_SYN);
}
END_TEST

START_TEST(ippkt_clamp_lowers_mss_of_v6_syn_and_syn_ack)
{
	rng_state = 14;
	clamp_every_layout(AF_INET6, NULL, 0, 0, TCP_SYN);
	clamp_every_layout(AF_INET6, NULL, 0, 0, TCP_SYN | TCP_ACK);
}
END_TEST

START_TEST(ippkt_clamp_steps_over_v6_hop_by_hop_routing_and_destination_options)
{
	/* hop-by-hop (8 bytes: PadN) -> routing (24 bytes, type 4, no segments left)
	 * -> destination options (16 bytes) -> TCP */
	static const uint8_t ext[] = {
	    43, 0, 1, 4, 0, 0, 0, 0, 60, 2, 4, 0,  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0,	0, 0, 0, 0, 0, 0, 0, 6,	 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	static const uint8_t dst_only[] = {6, 0, 1, 4, 0, 0, 0, 0};

	rng_state = 15;
	clamp_every_layout(AF_INET6, ext, sizeof(ext), 0, TCP_SYN);
	clamp_every_layout(AF_INET6, dst_only, sizeof(dst_only), 60, TCP_SYN | TCP_ACK);
}
END_TEST

static const uint8_t mss_1460[] = {2, 4, 0x05, 0xb4};

START_TEST(ippkt_clamp_leaves_non_syn_segments_alone)
{
	static const uint8_t flags[] = {0, TCP_ACK, 0x01 | TCP_ACK, 0x04, 0x08 | TCP_ACK};
	uint8_t buf[PKT_MAX];
	size_t tcp, len;

	for (size_t i = 0; i < sizeof(flags); i++) {
		struct spec s = {.family = AF_INET,
				 .opts = mss_1460,
				 .opt_len = 4,
				 .flags = flags[i],
				 .payload = 10};

		len = build(buf, &s, &tcp);
		expect_clamp(buf, len, tcp, 22, 1000, 0);
		s.family = AF_INET6;
		len = build(buf, &s, &tcp);
		expect_clamp(buf, len, tcp, 22, 1000, 0);
	}
}
END_TEST

START_TEST(ippkt_clamp_leaves_v4_fragments_alone)
{
	static const uint16_t frags[] = {0x2000, 0x0001, 0x2010, 0x1fff};
	uint8_t buf[PKT_MAX];
	size_t tcp, len;

	for (size_t i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		struct spec s = {.family = AF_INET,
				 .frag = frags[i],
				 .opts = mss_1460,
				 .opt_len = 4,
				 .flags = TCP_SYN};

		len = build(buf, &s, &tcp);
		expect_clamp(buf, len, tcp, 22, 1000, 0);
	}
	/* DF alone is no fragment */
	struct spec df = {
	    .family = AF_INET, .frag = 0x4000, .opts = mss_1460, .opt_len = 4, .flags = TCP_SYN};

	len = build(buf, &df, &tcp);
	expect_clamp(buf, len, tcp, 22, 1000, 1);
}
END_TEST

START_TEST(ippkt_clamp_leaves_v6_fragments_and_other_headers_alone)
{
	/* a first fragment (offset 0, M set) holding the whole TCP header */
	static const uint8_t frag[] = {6, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef};
	/* hop-by-hop, then the fragment header */
	static const uint8_t hbh_frag[] = {44, 0, 1, 4, 0, 0, 0, 0, 6, 0, 0, 1, 1, 2, 3, 4};
	/* an authentication header: we step over none but the three option-like headers */
	static const uint8_t ah[] = {6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1};
	uint8_t buf[PKT_MAX];
	size_t tcp, len;
	struct spec s = {.family = AF_INET6, .opts = mss_1460, .opt_len = 4, .flags = TCP_SYN};

	s.ext = frag, s.ext_len = sizeof(frag), s.next = 44;
	len = build(buf, &s, &tcp);
	expect_clamp(buf, len, tcp, 22, 1000, 0);
	s.ext = hbh_frag, s.ext_len = sizeof(hbh_frag), s.next = 0;
	len = build(buf, &s, &tcp);
	expect_clamp(buf, len, tcp, 22, 1000, 0);
	s.ext = ah, s.ext_len = sizeof(ah), s.next = 51;
	len = build(buf, &s, &tcp);
	expect_clamp(buf, len, tcp, 22, 1000, 0);
}
END_TEST

START_TEST(ippkt_clamp_leaves_other_protocols_and_versions_alone)
{
	uint8_t buf[PKT_MAX];
	size_t tcp, len;
	struct spec s = {
	    .family = AF_INET, .proto = 17, .opts = mss_1460, .opt_len = 4, .flags = TCP_SYN};

	len = build(buf, &s, &tcp);
	expect_clamp(buf, len, tcp, 22, 1000, 0);
	s.proto = 0;
	len = build(buf, &s, &tcp);
	buf[0] = 0x55; /* version 5: a control message, say */
	expect_clamp(buf, len, tcp, 22, 1000, 0);
	s.family = AF_INET6;
	s.ext = (const uint8_t[]){6, 0, 0, 0, 0, 0, 0, 0};
	s.ext_len = 8;
	s.next = 59; /* no next header, whatever follows */
	len = build(buf, &s, &tcp);
	expect_clamp(buf, len, tcp, 22, 1000, 0);
}
END_TEST

START_TEST(ippkt_clamp_leaves_malformed_options_alone_without_looping)
{
	static const struct layout bad[] = {
	    {"zero-length option before mss", {5, 0, 2, 4, 0x05, 0xb4, 0, 0}, 8, 0},
	    {"length-one option before mss", {1, 5, 1, 2, 4, 0x05, 0xb4, 0}, 8, 0},
	    {"zero-length option after mss", {2, 4, 0x05, 0xb4, 1, 1, 8, 0}, 8, 0},
	    {"option past the header after mss", {2, 4, 0x05, 0xb4, 1, 1, 8, 10}, 8, 0},
	    {"mss of length 3", {2, 3, 0x05, 0xb4}, 4, 0},
	    {"mss of length 6", {2, 6, 0x05, 0xb4, 0, 0, 0, 0}, 8, 0},
	    {"mss cut by the header end", {1, 1, 1, 1, 1, 1, 2, 4}, 8, 0},
	    {"kind without a length byte", {2, 4, 0x05, 0xb4, 1, 1, 1, 3}, 8, 0},
	    {"mss only after eol", {0, 2, 4, 0x05, 0xb4, 0, 0, 0}, 8, 0},
	    {"no mss", {1, 1, 4, 2, 1, 3, 3, 7}, 8, 0},
	};
	uint8_t buf[PKT_MAX];
	size_t tcp, len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct spec s = {.family = AF_INET,
				 .opts = bad[i].opts,
				 .opt_len = bad[i].len,
				 .flags = TCP_SYN};

		len = build(buf, &s, &tcp);
		expect_clamp(buf, len, tcp, 0, 1000, 0);
		s.family = AF_INET6;
		len = build(buf, &s, &tcp);
		expect_clamp(buf, len, tcp, 0, 1000, 0);
	}
}
END_TEST

START_TEST(ippkt_clamp_leaves_truncated_and_inconsistent_packets_alone)
{
	static const uint8_t opts[] = {1, 1, 4, 2, 2, 4, 0x05, 0xb4};
	static const uint8_t hbh[] = {6, 0, 1, 4, 0, 0, 0, 0};
	uint8_t buf[PKT_MAX];
	size_t tcp, len;

	for (int family = 0; family < 3; family++) {
		struct spec s = {.family = family == 0 ? AF_INET : AF_INET6,
				 .opts = opts,
				 .opt_len = sizeof(opts),
				 .flags = TCP_SYN};

		if (family == 2)
			s.ext = hbh, s.ext_len = sizeof(hbh);
		len = build(buf, &s, &tcp);
		expect_clamp(buf, len, tcp, 26, 1000, 1);
		/* every prefix of the packet: its length fields now point past the end */
		for (size_t cut = 0; cut < len; cut++)
			expect_clamp(buf, cut, tcp, 26, 1000, 0);
		/* length fields that end the datagram inside the TCP header or its options */
		for (size_t end = tcp; end < len; end++) {
			uint8_t copy[PKT_MAX];

			memcpy(copy, buf, len);
			if (s.family == AF_INET)
				put16(copy + 2, (unsigned)end);
			else
				put16(copy + 4, (unsigned)(end - 40));
			expect_clamp(copy, len, tcp, 26, 1000, 0);
		}
		/* a data offset below 5 words, and one past the segment */
		buf[tcp + 12] = 4 << 4;
		expect_clamp(buf, len, tcp, 26, 1000, 0);
		buf[tcp + 12] = 15 << 4;
		expect_clamp(buf, len, tcp, 26, 1000, 0);
	}
	/* IPv4 header length below 20 bytes, and past the datagram */
	struct spec v4 = {
	    .family = AF_INET, .opts = opts, .opt_len = sizeof(opts), .flags = TCP_SYN};

	len = build(buf, &v4, &tcp);
	buf[0] = 0x44;
	expect_clamp(buf, len, tcp, 26, 1000, 0);
	buf[0] = 0x4f;
	expect_clamp(buf, 56, tcp, 26, 1000, 0);
	/* an IPv6 jumbogram (payload length 0) is not ours to parse */
	struct spec v6 = {
	    .family = AF_INET6, .opts = opts, .opt_len = sizeof(opts), .flags = TCP_SYN};

	len = build(buf, &v6, &tcp);
	put16(buf + 4, 0);
	expect_clamp(buf, len, tcp, 26, 1000, 0);
}
END_TEST

START_TEST(ippkt_clamp_ignores_bytes_after_the_v4_total_length)
{
	uint8_t buf[PKT_MAX];
	size_t tcp, len;
	struct spec s = {
	    .family = AF_INET, .opts = mss_1460, .opt_len = 4, .flags = TCP_SYN, .payload = 6};

	len = build(buf, &s, &tcp);
	memset(buf + len, 0xee, 10); /* link-layer padding, say */
	expect_clamp(buf, len + 10, tcp, 22, 1000, 1);
}
END_TEST

START_TEST(ippkt_clamp_checksum_matches_a_recomputation_on_random_syns)
{
	uint8_t buf[PKT_MAX], opts[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
	size_t tcp, len;

	rng_state = 0xc0ffee;
	for (int i = 0; i < 20000; i++) {
		unsigned pos = rng() % 9; /* MSS option at any byte offset of the NOPs */
		struct spec s = {.family = rng() % 2 ? AF_INET : AF_INET6,
				 .opts = opts,
				 .opt_len = sizeof(opts),
				 .flags = TCP_SYN,
				 .payload = rng() % 100};
		unsigned old = 1 + rng() % 0xffff, mss = rng() % old;

		memset(opts, 1, sizeof(opts));
		opts[pos] = 2;
		opts[pos + 1] = 4;
		put16(opts + pos + 2, old);
		len = build(buf, &s, &tcp);
		expect_clamp(buf, len, tcp, 20 + pos + 2, (uint16_t)mss, 1);
	}
}
END_TEST

START_TEST(ippkt_mss_for_mtu_leaves_room_for_ip_and_tcp_headers)
{
	static const struct {
		unsigned mtu;
		int family;
		unsigned want;
	} cases[] = {
	    {1400, AF_INET, 1360},   {1400, AF_INET6, 1340}, {576, AF_INET, 536},
	    {1280, AF_INET6, 1220},  {41, AF_INET, 1},	     {40, AF_INET, 0},
	    {60, AF_INET6, 0},	     {0, AF_INET6, 0},	     {65535, AF_INET, 65495},
	    {70000, AF_INET, 65535}, {1400, AF_UNIX, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_uint_eq(ippkt_mss_for_mtu(cases[i].mtu, cases[i].family), cases[i].want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ippkt");
	TCase *tc = tcase_create("ippkt");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ippkt_addrs_gives_family_and_addresses_of_v4_and_v6);
	tcase_add_test(tc, ippkt_addrs_rejects_short_headers_and_other_versions);
	tcase_add_test(tc, ippkt_clamp_lowers_mss_of_v4_syn_wherever_the_option_sits);
	tcase_add_test(tc, ippkt_clamp_lowers_mss_of_v4_syn_ack);
	tcase_add_test(tc, ippkt_clamp_steps_over_v4_options);
	tcase_add_test(tc, ippkt_clamp_lowers_mss_of_v6_syn_and_syn_ack);
	tcase_add_test(tc, ippkt_clamp_steps_over_v6_hop_by_hop_routing_and_destination_options);
	tcase_add_test(tc, ippkt_clamp_leaves_non_syn_segments_alone);
	tcase_add_test(tc, ippkt_clamp_leaves_v4_fragments_alone);
	tcase_add_test(tc, ippkt_clamp_leaves_v6_fragments_and_other_headers_alone);
	tcase_add_test(tc, ippkt_clamp_leaves_other_protocols_and_versions_alone);
	tcase_add_test(tc, ippkt_clamp_leaves_malformed_options_alone_without_looping);
	tcase_add_test(tc, ippkt_clamp_leaves_truncated_and_inconsistent_packets_alone);
	tcase_add_test(tc, ippkt_clamp_ignores_bytes_after_the_v4_total_length);
	tcase_add_test(tc, ippkt_clamp_checksum_matches_a_recomputation_on_random_syns);
	tcase_add_test(tc, ippkt_mss_for_mtu_leaves_room_for_ip_and_tcp_headers);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
