/* Parsing and printing of "HOST:PORT" socket addresses for the test tools. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, const char **why)
{
	char host[256];
	const char *port, *end;
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;
	unsigned long p;
	char *pend;
	size_t hlen;

	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || end[1] != ':') {
			*why = "[IPV6]:PORT";
			return -EINVAL;
		}
		hlen = (size_t)(end - s - 1);
		s++;
		port = end + 2;
		hints.ai_family = AF_INET6;
		hints.ai_flags = AI_NUMERICHOST;
	} else {
		end = strrchr(s, ':');
		if (end == NULL || memchr(s, ':', (size_t)(end - s)) != NULL) {
			*why = "HOST:PORT (an IPv6 address as [ADDR]:PORT)";
			return -EINVAL;
		}
		hlen = (size_t)(end - s);
		port = end + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = "HOST:PORT with a host of 1..255 characters";
		return -EINVAL;
	}
	errno = 0;
	p = strtoul(port, &pend, 10);
	if (*port == '\0' || *pend != '\0' || errno || p > 65535 || port[0] == '-' ||
	    port[0] == '+') {
		*why = "a port number 0..65535";
		return -EINVAL;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
		*why = "a host that resolves";
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)p);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)p);
	else {
		*why = "an IPv4 or IPv6 address";
		return -EINVAL;
	}
	return 0;
}

const char *addr_format(const struct sockaddr *sa, char *buf)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
		snprintf(buf, ADDR_STRLEN, "%s:%u", ip, addr_port(sa));
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
		snprintf(buf, ADDR_STRLEN, "[%s]:%u", ip, addr_port(sa));
	} else {
		snprintf(buf, ADDR_STRLEN, "(family %d)", sa->sa_family);
	}
	return buf;
}

unsigned addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}
