/* hsflood: a bounded flood of secure-mode handshake initiations from spoofed IPv4 sources, for
 * the end-to-end test that an established peer keeps its traffic while a responder is under
 * attack (tests/e2e/secure.sh). Test tool only; run it inside a namespace the test created.
 *
 * Each packet is a well-formed initiation (type, sender index, random "Noise" bytes) with a
 * VALID mac1 for the target's public key (an attacker who knows the key can do that), so the
 * responder cannot drop it before the load check: below its load it spends the public-key
 * work, above it answers with a cookie. Sources are random addresses of SRC/PREFIX and random
 * ports, sent on a raw socket with IP_HDRINCL.
 *
 *   hsflood -k PUBKEY_BASE64 -d DST_IPV4:PORT -s SRC_IPV4/PREFIX [-r PPS] [-t SECONDS]
 *
 * Prints "sent=N" at the end. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto_backend.h"
#include "secure_wire.h"
#include "kcpcore/keys.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: hsflood -k PUBKEY_BASE64 -d DST_IPV4:PORT -s SRC_IPV4/PREFIX "
			"[-r PPS] [-t SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *key = NULL, *dst = NULL, *src = NULL;
	double pps = 2000, seconds = 5, t0, next;
	uint8_t pub[32], mac1_key[32], pkt[sizeof(struct iphdr) + sizeof(struct udphdr) +
					  SEC_INITIATION_LEN];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct udphdr *udp = (struct udphdr *)(pkt + sizeof(*ip));
	uint8_t *m = pkt + sizeof(*ip) + sizeof(*udp);
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct in_addr base;
	unsigned prefix, port, one = 1;
	unsigned long sent = 0;
	uint32_t host_mask;
	char buf[64], *colon, *slash;
	int opt, fd;

	while ((opt = getopt(argc, argv, "k:d:s:r:t:")) != -1) {
		switch (opt) {
		case 'k':
			key = optarg;
			break;
		case 'd':
			dst = optarg;
			break;
		case 's':
			src = optarg;
			break;
		case 'r':
			pps = atof(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (key == NULL || dst == NULL || src == NULL || pps <= 0 || seconds <= 0 || seconds > 600)
		usage();
	if (kc_key_from_base64(key, pub) < 0) {
		fprintf(stderr, "hsflood: -k: not a base64 key\n");
		return 2;
	}
	snprintf(buf, sizeof(buf), "%s", dst);
	colon = strrchr(buf, ':');
	if (colon == NULL)
		usage();
	*colon = '\0';
	if (inet_pton(AF_INET, buf, &to.sin_addr) != 1 ||
	    sscanf(colon + 1, "%u", &port) != 1 || port == 0 || port > 65535)
		usage();
	snprintf(buf, sizeof(buf), "%s", src);
	slash = strchr(buf, '/');
	if (slash == NULL)
		usage();
	*slash = '\0';
	if (inet_pton(AF_INET, buf, &base) != 1 || sscanf(slash + 1, "%u", &prefix) != 1 ||
	    prefix < 8 || prefix > 32)
		usage();
	host_mask = prefix == 32 ? 0 : (1u << (32 - prefix)) - 1;

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		perror("hsflood: raw socket");
		return 1;
	}
	{
		struct crypto_part parts[2] = {{SEC_LABEL_MAC1, strlen(SEC_LABEL_MAC1)}, {pub, 32}};

		crypto_blake2s(mac1_key, 32, NULL, 0, parts, 2);
	}
	memset(pkt, 0, sizeof(pkt));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(sizeof(pkt));
	ip->daddr = to.sin_addr.s_addr;
	udp->dest = htons((uint16_t)port);
	udp->len = htons(sizeof(*udp) + SEC_INITIATION_LEN);
	t0 = next = now_s();
	while (now_s() - t0 < seconds) {
		uint32_t r[2];
		struct crypto_part part = {m, SEC_INITIATION_LEN - 2 * SEC_MAC_LEN};

		if (crypto_random((uint8_t *)r, sizeof(r)) < 0)
			return 1;
		ip->saddr = htonl((ntohl(base.s_addr) & ~host_mask) | (r[0] & host_mask));
		udp->source = htons((uint16_t)(1024 + r[1] % 60000));
		crypto_random(m, SEC_INITIATION_LEN);
		memset(m, 0, 4);
		m[0] = SEC_TYPE_INITIATION;
		crypto_blake2s(m + SEC_INITIATION_LEN - 2 * SEC_MAC_LEN, SEC_MAC_LEN, mac1_key, 32,
			       &part, 1);
		memset(m + SEC_INITIATION_LEN - SEC_MAC_LEN, 0, SEC_MAC_LEN);
		if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) > 0)
			sent++;
		next += 1.0 / pps;
		while (now_s() < next) {
			double d = next - now_s();

			if (d > 0.0005)
				usleep((useconds_t)(d * 1e6 / 2));
		}
	}
	printf("sent=%lu\n", sent);
	return 0;
}
