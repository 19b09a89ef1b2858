/* The UDP side: one dual-stack socket (IPv4 peers appear as v4-mapped addresses), and address
 * helpers. Batched I/O (recvmmsg/sendmmsg) lives in worker.c, next to the buffers it fills. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"

int udp_open(uint16_t port, int bufsize, int dscp, uint32_t fwmark)
{
	struct sockaddr_in6 sa = {0};
	int fd, off = 0, tos = dscp << 2, err;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0)
		goto fail;
	if (bufsize > 0) {
		/* FORCE variants pass rmem_max when we are root; fall back to the plain ones */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsize, sizeof(bufsize)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	}
	if (dscp > 0) {
		if (setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos)) < 0)
			goto fail;
	}
	if (fwmark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		goto fail;
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_any;
	sa.sin6_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	return fd;

fail:
	err = -errno;
	close(fd);
	return err;
}

const char *udp_addr_str(const struct sockaddr_in6 *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
		inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(a->sin6_port));
	} else {
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(a->sin6_port));
	}
	return buf;
}

int udp_resolve(const char *endpoint, struct sockaddr_in6 *out)
{
	char host[256];
	const char *port, *end;
	struct addrinfo hints = {0}, *res;
	int err;

	if (endpoint[0] == '[') {
		end = strchr(endpoint, ']');
		if (end == NULL || end[1] != ':')
			return -EINVAL;
		if ((size_t)(end - endpoint - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, endpoint + 1, (size_t)(end - endpoint - 1));
		host[end - endpoint - 1] = '\0';
		port = end + 2;
	} else {
		end = strrchr(endpoint, ':');
		if (end == NULL || (size_t)(end - endpoint) >= sizeof(host))
			return -EINVAL;
		memcpy(host, endpoint, (size_t)(end - endpoint));
		host[end - endpoint] = '\0';
		port = end + 1;
	}
	hints.ai_family = AF_INET6;
	hints.ai_flags = AI_V4MAPPED | AI_ALL;
	hints.ai_socktype = SOCK_DGRAM;
	err = getaddrinfo(host, port, &hints, &res);
	if (err != 0)
		return -ENOENT;
	memcpy(out, res->ai_addr, sizeof(*out));
	freeaddrinfo(res);
	return 0;
}

bool udp_addr_equal(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return a->sin6_port == b->sin6_port &&
	       memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}
