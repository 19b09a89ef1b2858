/* Socket addresses as people write them: "192.0.2.1:4000", "[2001:db8::1]:4000", "host:4000". */
#ifndef TESTS_TOOLS_ADDR_H
#define TESTS_TOOLS_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

/* Room for the longest string addr_format() writes, with its terminating NUL. */
#define ADDR_STRLEN (INET6_ADDRSTRLEN + 9)

/* Parses "HOST:PORT" or "[IPV6]:PORT" (HOST numeric or a name, resolved to its first address;
 * PORT 0..65535) into *ss and *len. Returns 0, or -EINVAL with what was expected in *why. */
int addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, const char **why);
/* Writes "a.b.c.d:port" or "[v6]:port" of `sa` into buf (ADDR_STRLEN bytes) and returns buf. */
const char *addr_format(const struct sockaddr *sa, char *buf);
/* Port of an AF_INET or AF_INET6 address, in host order. */
unsigned addr_port(const struct sockaddr *sa);

#endif
