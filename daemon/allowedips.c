/* Allowed IPs as one path-compressed binary trie per family.
 *
 * Addresses of both families are held as 128-bit keys (two host-order 64-bit halves, an IPv4
 * address in the top 32 bits), so one set of bit operations serves both. Every node holds a
 * prefix key/cidr with its host bits zero; a child's prefix is longer than its parent's and
 * extends it, the child index being the first bit after the parent's prefix. A node with a peer
 * is an allowed prefix; a node without one is a fork where two prefixes part, and exists only
 * while it has two children. The depth is therefore at most 33 (IPv4) or 129 (IPv6) nodes. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "allowedips.h"

#define ALLOWEDIPS_V4_BITS 32
#define ALLOWEDIPS_V6_BITS 128

struct allowedips_key {
	uint64_t hi;
	uint64_t lo;
};

struct allowedips_node {
	struct allowedips_node *child[2];
	void *peer;		    /* NULL: a fork, not a prefix of its own */
	struct allowedips_key key;  /* host bits zero */
	struct allowedips_key mask; /* cidr leading ones, kept for the lookup's match test */
	unsigned cidr;
};

struct allowedips {
	struct allowedips_node *root4;
	struct allowedips_node *root6;
};

static unsigned allowedips_bits(int family)
{
	return family == AF_INET ? ALLOWEDIPS_V4_BITS : ALLOWEDIPS_V6_BITS;
}

static uint64_t allowedips_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static struct allowedips_key allowedips_key_load(int family, const uint8_t *addr)
{
	struct allowedips_key k;

	if (family == AF_INET) {
		k.hi = (uint64_t)addr[0] << 56 | (uint64_t)addr[1] << 48 | (uint64_t)addr[2] << 40 |
		       (uint64_t)addr[3] << 32;
		k.lo = 0;
	} else {
		k.hi = allowedips_be64(addr);
		k.lo = allowedips_be64(addr + 8);
	}
	return k;
}

static void allowedips_key_store(int family, struct allowedips_key k, uint8_t *addr)
{
	unsigned n = family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < n; i++)
		addr[i] = (uint8_t)(i < 8 ? k.hi >> (56 - 8 * i) : k.lo >> (56 - 8 * (i - 8)));
}

/* cidr (0..128) leading one bits. */
static struct allowedips_key allowedips_mask(unsigned cidr)
{
	struct allowedips_key m;

	m.hi = cidr == 0 ? 0 : cidr >= 64 ? UINT64_MAX : UINT64_MAX << (64 - cidr);
	m.lo = cidr <= 64 ? 0 : cidr == 128 ? UINT64_MAX : UINT64_MAX << (128 - cidr);
	return m;
}

/* Bit i (0 = most significant, i < 128) of k. */
static unsigned allowedips_bit(struct allowedips_key k, unsigned i)
{
	return (unsigned)(i < 64 ? k.hi >> (63 - i) : k.lo >> (127 - i)) & 1;
}

/* Whether the first bits of k match the prefix of n. */
static int allowedips_node_holds(const struct allowedips_node *n, struct allowedips_key k)
{
	return (((k.hi ^ n->key.hi) & n->mask.hi) | ((k.lo ^ n->key.lo) & n->mask.lo)) == 0;
}

/* Number of leading bits a and b share, at most limit. */
static unsigned allowedips_common(struct allowedips_key a, struct allowedips_key b, unsigned limit)
{
	uint64_t hi = a.hi ^ b.hi, lo = a.lo ^ b.lo;
	unsigned n;

	if (hi != 0)
		n = (unsigned)__builtin_clzll(hi);
	else if (lo != 0)
		n = 64 + (unsigned)__builtin_clzll(lo);
	else
		n = 128;
	return n < limit ? n : limit;
}

static struct allowedips_node *allowedips_node_new(struct allowedips_key k, unsigned cidr,
						   void *peer)
{
	struct allowedips_node *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->mask = allowedips_mask(cidr);
	n->key.hi = k.hi & n->mask.hi;
	n->key.lo = k.lo & n->mask.lo;
	n->cidr = cidr;
	n->peer = peer;
	return n;
}

static void allowedips_node_free(struct allowedips_node *n)
{
	if (n == NULL)
		return;
	allowedips_node_free(n->child[0]);
	allowedips_node_free(n->child[1]);
	free(n);
}

struct allowedips *allowedips_new(void)
{
	return calloc(1, sizeof(struct allowedips));
}

void allowedips_free(struct allowedips *t)
{
	if (t == NULL)
		return;
	allowedips_node_free(t->root4);
	allowedips_node_free(t->root6);
	free(t);
}

static struct allowedips_node **allowedips_root(struct allowedips *t, int family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

int allowedips_insert(struct allowedips *t, int family, const uint8_t *addr, unsigned cidr,
		      void *peer)
{
	struct allowedips_node **slot, *n, *leaf, *fork;
	struct allowedips_key k, m;
	unsigned common;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (peer == NULL || cidr > allowedips_bits(family))
		return -EINVAL;
	k = allowedips_key_load(family, addr);
	m = allowedips_mask(cidr);
	if ((k.hi & ~m.hi) != 0 || (k.lo & ~m.lo) != 0)
		return -EINVAL;

	slot = allowedips_root(t, family);
	while ((n = *slot) != NULL) {
		common = allowedips_common(n->key, k, n->cidr < cidr ? n->cidr : cidr);
		if (common == n->cidr) {
			if (n->cidr == cidr) {
				n->peer = peer; /* the same prefix (or a fork turning into one) */
				return 0;
			}
			/* n's prefix holds the new one: go down on the bit after it */
			slot = &n->child[allowedips_bit(k, n->cidr)];
			continue;
		}
		/* the paths part at bit `common`, before n's prefix ends */
		leaf = allowedips_node_new(k, cidr, peer);
		if (leaf == NULL)
			return -ENOMEM;
		if (common == cidr) {
			/* the new prefix holds n's: it takes n's place, n below it */
			leaf->child[allowedips_bit(n->key, cidr)] = n;
			*slot = leaf;
			return 0;
		}
		fork = allowedips_node_new(k, common, NULL);
		if (fork == NULL) {
			free(leaf);
			return -ENOMEM;
		}
		fork->child[allowedips_bit(k, common)] = leaf;
		fork->child[allowedips_bit(n->key, common)] = n;
		*slot = fork;
		return 0;
	}
	leaf = allowedips_node_new(k, cidr, peer);
	if (leaf == NULL)
		return -ENOMEM;
	*slot = leaf;
	return 0;
}

/* Clears peer below *slot and drops the nodes that are left without a reason to exist: a prefix-
 * less node with one child gives way to that child, with none it goes. Returns how many cleared. */
static int allowedips_prune(struct allowedips_node **slot, void *peer)
{
	struct allowedips_node *n = *slot;
	int removed;

	if (n == NULL)
		return 0;
	removed = allowedips_prune(&n->child[0], peer) + allowedips_prune(&n->child[1], peer);
	if (n->peer == peer) {
		n->peer = NULL;
		removed++;
	}
	if (n->peer == NULL && (n->child[0] == NULL || n->child[1] == NULL)) {
		*slot = n->child[0] != NULL ? n->child[0] : n->child[1];
		free(n);
	}
	return removed;
}

int allowedips_remove_peer(struct allowedips *t, void *peer)
{
	if (peer == NULL)
		return 0;
	return allowedips_prune(&t->root4, peer) + allowedips_prune(&t->root6, peer);
}

void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr)
{
	const struct allowedips_node *n;
	struct allowedips_key k;
	unsigned bits;
	void *best = NULL;

	if (family == AF_INET)
		n = t->root4;
	else if (family == AF_INET6)
		n = t->root6;
	else
		return NULL;
	bits = allowedips_bits(family);
	k = allowedips_key_load(family, addr);
	while (n != NULL && allowedips_node_holds(n, k)) {
		if (n->peer != NULL)
			best = n->peer;
		if (n->cidr == bits)
			break;
		n = n->child[allowedips_bit(k, n->cidr)];
	}
	return best;
}

static void allowedips_walk(const struct allowedips_node *n, int family, void *peer,
			    void (*fn)(void *u, int family, const uint8_t *addr, unsigned cidr),
			    void *u)
{
	uint8_t addr[16];

	for (; n != NULL; n = n->child[1]) {
		if (n->peer == peer) {
			allowedips_key_store(family, n->key, addr);
			fn(u, family, addr, n->cidr);
		}
		allowedips_walk(n->child[0], family, peer, fn, u);
	}
}

void allowedips_walk_peer(const struct allowedips *t, void *peer,
			  void (*fn)(void *u, int family, const uint8_t *addr, unsigned cidr),
			  void *u)
{
	if (peer == NULL)
		return;
	allowedips_walk(t->root4, AF_INET, peer, fn, u);
	allowedips_walk(t->root6, AF_INET6, peer, fn, u);
}
