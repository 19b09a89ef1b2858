/* Allowed IPs: longest-prefix match from IPv4/IPv6 prefixes to an opaque peer pointer.
 *
 * One path-compressed binary trie per family. Inserting and removing allocate and free (control
 * plane); lookups allocate nothing and only read the table, so the data path of one worker can
 * call them without locks as long as nothing changes the table at the same time. The peer pointer
 * is the key of the entry and is never dereferenced here. */
#ifndef DAEMON_ALLOWEDIPS_H
#define DAEMON_ALLOWEDIPS_H

#include <stdint.h>

struct allowedips; /* opaque */

/* An empty table, or NULL when out of memory. Free with allowedips_free(). */
struct allowedips *allowedips_new(void);

/* Frees the table and its prefixes (not the peers they point to). NULL is a no-op. */
void allowedips_free(struct allowedips *t);

/* Adds prefix addr/cidr -> peer; addr is 4 (AF_INET) or 16 (AF_INET6) bytes in network order.
 * An equal prefix already present is re-pointed to peer. Returns 0, -EINVAL when cidr is too long,
 * host bits are set or peer is NULL, -EAFNOSUPPORT for another family, -ENOMEM. */
int allowedips_insert(struct allowedips *t, int family, const uint8_t *addr, unsigned cidr,
		      void *peer);

/* Removes every prefix (both families) that points to peer; returns how many it removed. */
int allowedips_remove_peer(struct allowedips *t, void *peer);

/* The peer of the longest prefix holding addr (4 or 16 bytes as for family), or NULL when no
 * prefix holds it or the family is neither AF_INET nor AF_INET6. Allocates nothing. */
void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr);

/* Calls fn(u, family, addr, cidr) for each prefix of peer, IPv4 first, each family in address
 * order (a shorter prefix before the longer ones inside it). addr is valid during the call only;
 * fn must not change the table. */
void allowedips_walk_peer(const struct allowedips *t, void *peer,
			  void (*fn)(void *u, int family, const uint8_t *addr, unsigned cidr),
			  void *u);

#endif
