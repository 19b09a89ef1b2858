/* Allowed IPs: the trie against a deliberately naive twin (a list scanned for the longest
 * match) on seeded random operations, and the edge cases by hand. The allocator is wrapped to
 * prove lookups allocate nothing, to fail allocations on purpose and to count live nodes. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "allowedips.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t m, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t m, size_t n);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

/* While watching: allocations counted, live = allocated minus freed, and the fail_at-th
 * allocation (1-based, 0 = none) fails. */
static int watching;
static unsigned long allocs, fail_at;
static long live;

static int wrap_fails(void)
{
	if (!watching)
		return 0;
	allocs++;
	return fail_at != 0 && allocs == fail_at;
}

void *__wrap_malloc(size_t n)
{
	void *p;

	if (wrap_fails())
		return NULL;
	p = __real_malloc(n);
	live += watching && p != NULL;
	return p;
}

void *__wrap_calloc(size_t m, size_t n)
{
	void *p;

	if (wrap_fails())
		return NULL;
	p = __real_calloc(m, n);
	live += watching && p != NULL;
	return p;
}

void *__wrap_realloc(void *p, size_t n)
{
	if (wrap_fails())
		return NULL;
	return __real_realloc(p, n);
}

void __wrap_free(void *p)
{
	live -= watching && p != NULL;
	__real_free(p);
}

static void watch(void)
{
	allocs = 0;
	fail_at = 0;
	live = 0;
	watching = 1;
}

static void unwatch(void)
{
	watching = 0;
}

/* ---- the naive twin ---- */

#define TWIN_MAX 4096

struct twin_entry {
	int family;
	uint8_t addr[16];
	unsigned cidr;
	void *peer;
};

struct twin {
	struct twin_entry e[TWIN_MAX];
	size_t n;
};

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Whether the first cidr bits of a and b are equal, compared byte by byte. */
static int twin_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned cidr)
{
	unsigned full = cidr / 8, rest = cidr % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static void twin_insert(struct twin *w, int family, const uint8_t *addr, unsigned cidr, void *peer)
{
	for (size_t i = 0; i < w->n; i++) {
		struct twin_entry *e = &w->e[i];

		if (e->family == family && e->cidr == cidr &&
		    memcmp(e->addr, addr, addr_len(family)) == 0) {
			e->peer = peer;
			return;
		}
	}
	ck_assert_uint_lt(w->n, TWIN_MAX);
	w->e[w->n].family = family;
	memset(w->e[w->n].addr, 0, 16);
	memcpy(w->e[w->n].addr, addr, addr_len(family));
	w->e[w->n].cidr = cidr;
	w->e[w->n].peer = peer;
	w->n++;
}

static int twin_remove_peer(struct twin *w, void *peer)
{
	size_t j = 0;
	int removed = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (w->e[i].peer == peer)
			removed++;
		else
			w->e[j++] = w->e[i];
	}
	w->n = j;
	return removed;
}

static void *twin_lookup(const struct twin *w, int family, const uint8_t *addr)
{
	const struct twin_entry *best = NULL;

	for (size_t i = 0; i < w->n; i++) {
		const struct twin_entry *e = &w->e[i];

		if (e->family == family && twin_prefix_eq(e->addr, addr, e->cidr) &&
		    (best == NULL || e->cidr > best->cidr))
			best = e;
	}
	return best != NULL ? best->peer : NULL;
}

/* ---- helpers ---- */

static uint64_t rng_state;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void a4(uint8_t out[4], const char *s)
{
	ck_assert_int_eq(inet_pton(AF_INET, s, out), 1);
}

static void a6(uint8_t out[16], const char *s)
{
	ck_assert_int_eq(inet_pton(AF_INET6, s, out), 1);
}

/* Zeroes the bits of addr after the first cidr. */
static void mask_addr(uint8_t *addr, size_t len, unsigned cidr)
{
	for (size_t i = 0; i < len; i++) {
		unsigned from = (unsigned)i * 8;

		if (cidr <= from)
			addr[i] = 0;
		else if (cidr < from + 8)
			addr[i] &= (uint8_t)(0xff << (from + 8 - cidr));
	}
}

/* A random address near one of a few bases, so that random prefixes nest and part often. */
static void random_addr(int family, uint8_t *addr)
{
	static const uint8_t bases[3][16] = {
	    {10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	    {192, 168, 50, 0, 0xfd, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1},
	    {0x80, 0, 0, 1, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0},
	};
	size_t len = addr_len(family);
	unsigned keep = rng() % (unsigned)(len * 8 + 1); /* leading bits copied from the base */

	memcpy(addr, bases[rng() % 3], len);
	for (size_t i = 0; i < len; i++) {
		uint8_t r = (uint8_t)rng();
		unsigned from = (unsigned)i * 8;

		if (keep <= from)
			addr[i] = r;
		else if (keep < from + 8)
			addr[i] ^= r & (uint8_t)(0xff >> (keep - from));
	}
}

struct collect {
	struct twin_entry e[TWIN_MAX];
	size_t n;
};

static void collect_fn(void *u, int family, const uint8_t *addr, unsigned cidr)
{
	struct collect *c = u;

	ck_assert_uint_lt(c->n, TWIN_MAX);
	c->e[c->n].family = family;
	memset(c->e[c->n].addr, 0, 16);
	memcpy(c->e[c->n].addr, addr, addr_len(family));
	c->e[c->n].cidr = cidr;
	c->n++;
}

/* Whether the walk of peer gave exactly the twin's prefixes of peer. */
static void check_walk(const struct allowedips *t, const struct twin *w, void *peer, uint64_t seed)
{
	static struct collect c;
	size_t want = 0;

	c.n = 0;
	allowedips_walk_peer(t, peer, collect_fn, &c);
	for (size_t i = 0; i < w->n; i++) {
		const struct twin_entry *e = &w->e[i];
		size_t hits = 0;

		if (e->peer != peer)
			continue;
		want++;
		for (size_t j = 0; j < c.n; j++)
			hits += c.e[j].family == e->family && c.e[j].cidr == e->cidr &&
				memcmp(c.e[j].addr, e->addr, 16) == 0;
		ck_assert_msg(hits == 1, "seed %llu: prefix walked %zu times",
			      (unsigned long long)seed, hits);
	}
	ck_assert_msg(c.n == want, "seed %llu: walk gave %zu prefixes, twin has %zu",
		      (unsigned long long)seed, c.n, want);
}

/* ---- tests ---- */

#define PEERS 6
static char peers[PEERS];

START_TEST(allowedips_matches_linear_scan_on_random_operations)
{
	static struct twin w;
	uint64_t seed = 0x5eed0000u + (uint64_t)_i;
	struct allowedips *t = allowedips_new();
	uint8_t addr[16];

	ck_assert_ptr_nonnull(t);
	w.n = 0;
	rng_state = seed;
	for (int op = 0; op < 3000; op++) {
		int family = rng() % 2 ? AF_INET : AF_INET6;
		unsigned r = rng() % 100;

		if (r < 80) {
			unsigned cidr = rng() % (unsigned)(addr_len(family) * 8 + 1);
			void *peer = &peers[rng() % PEERS];

			random_addr(family, addr);
			mask_addr(addr, addr_len(family), cidr);
			ck_assert_int_eq(allowedips_insert(t, family, addr, cidr, peer), 0);
			twin_insert(&w, family, addr, cidr, peer);
		} else if (r < 83) {
			void *peer = &peers[rng() % PEERS];

			ck_assert_int_eq(allowedips_remove_peer(t, peer),
					 twin_remove_peer(&w, peer));
		}
		for (int q = 0; q < 8; q++) {
			int qf = rng() % 2 ? AF_INET : AF_INET6;

			random_addr(qf, addr);
			if (q == 0 && w.n > 0) { /* the first address of a prefix we hold */
				const struct twin_entry *e = &w.e[rng() % w.n];

				memcpy(addr, e->addr, 16);
				qf = e->family;
			}
			ck_assert_msg(allowedips_lookup(t, qf, addr) == twin_lookup(&w, qf, addr),
				      "seed %llu op %d: lookup differs", (unsigned long long)seed,
				      op);
		}
		if (op % 250 == 0)
			check_walk(t, &w, &peers[rng() % PEERS], seed);
	}
	for (int p = 0; p < PEERS; p++)
		check_walk(t, &w, &peers[p], seed);
	allowedips_free(t);
}
END_TEST

START_TEST(allowedips_zero_prefix_holds_every_address_of_its_family_only)
{
	struct allowedips *t = allowedips_new();
	uint8_t any4[4] = {0}, any6[16] = {0}, a[16];

	ck_assert_int_eq(allowedips_insert(t, AF_INET, any4, 0, &peers[0]), 0);
	a4(a, "255.255.255.255");
	ck_assert_ptr_eq(allowedips_lookup(t, AF_INET, a), &peers[0]);
	a4(a, "0.0.0.0");
	ck_assert_ptr_eq(allowedips_lookup(t, AF_INET, a), &peers[0]);
	a6(a, "::");
	ck_assert_ptr_null(allowedips_lookup(t, AF_INET6, a));
	ck_assert_int_eq(allowedips_insert(t, AF_INET6, any6, 0, &peers[1]), 0);
	a6(a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	ck_assert_ptr_eq(allowedips_lookup(t, AF_INET6, a), &peers[1]);
	a4(a, "10.1.2.3");
	ck_assert_ptr_eq(allowedips_lookup(t, AF_INET, a), &peers[0]);
	allowedips_free(t);
}
END_TEST

START_TEST(allowedips_host_prefixes_hold_only_their_address)
{
	struct allowedips *t = allowedips_new();
	uint8_t p[16], a[16];

	a4(p, "10.9.0.2");
	ck_assert_int_eq(allowedips_insert(t, AF_INET, p, 32, &peers[0]), 0);
	a4(p, "10.9.0.0");
	ck_assert_int_eq(allowedips_insert(t, AF_INET, p, 24, &peers[1]), 0);
	a6(p, "fd00:9::2");
	ck_assert_int_eq(allowedips_insert(t, AF_INET6, p, 128, &peers[2]), 0);

	a4(a, "10.9.0.2");
	ck_assert_ptr_eq(allowedips_lookup(t, AF_INET, a), &peers[0]);
	a4(a, "10.9.0.3");
	ck_assert_ptr_eq(allowedips_lookup(t, AF_INET, a), &peers[1]);
	a4(a, "10.9.1.2");
	ck_assert_ptr_null(allowedips_lookup(t, AF_INET, a));
	a6(a, "fd00:9::2");
	ck_assert_ptr_eq(allowedips_lookup(t, AF_INET6, a), &peers[2]);
	a6(a, "fd00:9::3");
	ck_assert_ptr_null(allowedips_lookup(t, AF_INET6, a));
	a6(a, "fd00:9::2:0");
	ck_assert_ptr_null(allowedips_lookup(t, AF_INET6, a));
	allowedips_free(t);
}
END_TEST

START_TEST(allowedips_longer_prefix_wins_whatever_the_insert_order)
{
	static const char *const pfx[] = {"10.0.0.0", "10.128.0.0", "10.128.64.0", "10.128.64.128"};
	static const unsigned cidr[] = {8, 9, 18, 25};
	static const char *const probe[] = {"10.1.1.1", "10.200.0.1", "10.128.100.1",
					    "10.128.64.200", "11.0.0.1"};
	static const int want[] = {0, 1, 2, 3, -1}; /* index of the peer, -1: none */

	for (int order = 0; order < 2; order++) {
		struct allowedips *t = allowedips_new();
		uint8_t a[4];

		for (int k = 0; k < 4; k++) {
			int i = order == 0 ? k : 3 - k;

			a4(a, pfx[i]);
			ck_assert_int_eq(allowedips_insert(t, AF_INET, a, cidr[i], &peers[i]), 0);
		}
		for (int i = 0; i < 5; i++) {
			a4(a, probe[i]);
			ck_assert_ptr_eq(allowedips_lookup(t, AF_INET, a),
					 want[i] < 0 ? NULL : &peers[want[i]]);
		}
		allowedips_free(t);
	}
}
END_TEST

START_TEST(allowedips_insert_of_an_equal_prefix_repoints_it)
{
	struct allowedips *t = allowedips_new();
	struct collect c = {.n = 0};
	uint8_t p[16], a[16];

	a6(p, "fd00:9::");
	ck_assert_int_eq(allowedips_insert(t, AF_INET6, p, 64, &peers[0]), 0);
	ck_assert_int_eq(allowedips_insert(t, AF_INET6, p, 64, &peers[1]), 0);
	a6(a, "fd00:9::77");
	ck_assert_ptr_eq(allowedips_lookup(t, AF_INET6, a), &peers[1]);
	allowedips_walk_peer(t, &peers[0], collect_fn, &c);
	ck_assert_uint_eq(c.n, 0);
	ck_assert_int_eq(allowedips_remove_peer(t, &peers[0]), 0);
	ck_assert_ptr_eq(allowedips_lookup(t, AF_INET6, a), &peers[1]);
	ck_assert_int_eq(allowedips_remove_peer(t, &peers[1]), 1);
	ck_assert_ptr_null(allowedips_lookup(t, AF_INET6, a));
	allowedips_free(t);
}
END_TEST

START_TEST(allowedips_insert_rejects_host_bits_long_cidr_null_peer_and_other_families)
{
	struct allowedips *t = allowedips_new();
	uint8_t p[16], a[16];

	a4(p, "10.9.0.1");
	ck_assert_int_eq(allowedips_insert(t, AF_INET, p, 24, &peers[0]), -EINVAL);
	ck_assert_int_eq(allowedips_insert(t, AF_INET, p, 33, &peers[0]), -EINVAL);
	ck_assert_int_eq(allowedips_insert(t, AF_INET, p, 32, NULL), -EINVAL);
	a6(p, "fd00:9::1");
	ck_assert_int_eq(allowedips_insert(t, AF_INET6, p, 127, &peers[0]), -EINVAL);
	ck_assert_int_eq(allowedips_insert(t, AF_INET6, p, 129, &peers[0]), -EINVAL);
	a6(p, "8000::");
	ck_assert_int_eq(allowedips_insert(t, AF_INET6, p, 0, &peers[0]), -EINVAL);
	ck_assert_int_eq(allowedips_insert(t, AF_UNIX, p, 0, &peers[0]), -EAFNOSUPPORT);
	/* nothing of the above went in */
	a4(a, "10.9.0.1");
	ck_assert_ptr_null(allowedips_lookup(t, AF_INET, a));
	a6(a, "fd00:9::1");
	ck_assert_ptr_null(allowedips_lookup(t, AF_INET6, a));
	ck_assert_ptr_null(allowedips_lookup(t, AF_UNIX, a));
	allowedips_free(t);
}
END_TEST

START_TEST(allowedips_remove_peer_falls_back_to_the_covering_prefix)
{
	struct allowedips *t = allowedips_new();
	uint8_t p[16], a[16];

	a4(p, "192.168.0.0");
	ck_assert_int_eq(allowedips_insert(t, AF_INET, p, 16, &peers[0]), 0);
	a4(p, "192.168.50.0");
	ck_assert_int_eq(allowedips_insert(t, AF_INET, p, 24, &peers[1]), 0);
	a6(p, "fd00::");
	ck_assert_int_eq(allowedips_insert(t, AF_INET6, p, 16, &peers[1]), 0);
	a4(p, "192.168.51.0");
	ck_assert_int_eq(allowedips_insert(t, AF_INET, p, 24, &peers[2]), 0);

	ck_assert_int_eq(allowedips_remove_peer(t, &peers[1]), 2);
	a4(a, "192.168.50.9");
	ck_assert_ptr_eq(allowedips_lookup(t, AF_INET, a), &peers[0]);
	a4(a, "192.168.51.9");
	ck_assert_ptr_eq(allowedips_lookup(t, AF_INET, a), &peers[2]);
	a6(a, "fd00::1");
	ck_assert_ptr_null(allowedips_lookup(t, AF_INET6, a));
	ck_assert_int_eq(allowedips_remove_peer(t, &peers[1]), 0);
	allowedips_free(t);
}
END_TEST

struct walk_log {
	char text[512];
};

static void walk_log_fn(void *u, int family, const uint8_t *addr, unsigned cidr)
{
	struct walk_log *l = u;
	char s[INET6_ADDRSTRLEN];
	size_t n = strlen(l->text);

	inet_ntop(family, addr, s, sizeof(s));
	snprintf(l->text + n, sizeof(l->text) - n, "%s/%u ", s, cidr);
}

START_TEST(allowedips_walk_peer_lists_its_prefixes_in_address_order)
{
	static const char *const v4[] = {"10.2.0.0/16", "10.0.0.0/8", "172.16.0.0/12",
					 "10.1.0.0/16", "0.0.0.0/0"};
	static const char *const v6[] = {"fd00:1::/32", "::/0", "fd00::/16"};
	struct allowedips *t = allowedips_new();
	struct walk_log log = {.text = ""};
	uint8_t p[16];
	char s[64];
	unsigned cidr;

	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(sscanf(v4[i], "%[0-9.]/%u", s, &cidr), 2);
		a4(p, s);
		ck_assert_int_eq(allowedips_insert(t, AF_INET, p, cidr, &peers[i == 2]), 0);
	}
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(sscanf(v6[i], "%[0-9a-f:]/%u", s, &cidr), 2);
		a6(p, s);
		ck_assert_int_eq(allowedips_insert(t, AF_INET6, p, cidr, &peers[0]), 0);
	}
	allowedips_walk_peer(t, &peers[0], walk_log_fn, &log);
	ck_assert_str_eq(log.text, "0.0.0.0/0 10.0.0.0/8 10.1.0.0/16 10.2.0.0/16 "
				   "::/0 fd00::/16 fd00:1::/32 ");
	allowedips_free(t);
}
END_TEST

START_TEST(allowedips_lookup_allocates_nothing)
{
	struct allowedips *t = allowedips_new();
	uint8_t a[16];

	rng_state = 42;
	for (int i = 0; i < 500; i++) {
		int family = i % 2 ? AF_INET : AF_INET6;
		unsigned cidr = rng() % (unsigned)(addr_len(family) * 8 + 1);

		random_addr(family, a);
		mask_addr(a, addr_len(family), cidr);
		ck_assert_int_eq(allowedips_insert(t, family, a, cidr, &peers[i % PEERS]), 0);
	}
	watch();
	for (int i = 0; i < 10000; i++) {
		random_addr(i % 2 ? AF_INET : AF_INET6, a);
		(void)allowedips_lookup(t, i % 2 ? AF_INET : AF_INET6, a);
	}
	unwatch();
	ck_assert_uint_eq(allocs, 0);
	allowedips_free(t);
}
END_TEST

START_TEST(allowedips_insert_out_of_memory_leaves_the_table_as_it_was)
{
	static struct twin w;
	struct allowedips *t = allowedips_new();
	uint8_t a[16];
	int failures = 0, fork_failures = 0;

	w.n = 0;
	rng_state = 7;
	for (int i = 0; i < 1500; i++) {
		int family = i % 2 ? AF_INET : AF_INET6;
		unsigned cidr = rng() % (unsigned)(addr_len(family) * 8 + 1);
		void *peer = &peers[rng() % PEERS];
		int rc;

		random_addr(family, a);
		mask_addr(a, addr_len(family), cidr);
		watch();
		fail_at = 1 + i % 2; /* the first or the second allocation of this insert fails */
		rc = allowedips_insert(t, family, a, cidr, peer);
		unwatch();
		if (rc == -ENOMEM) {
			ck_assert_int_eq(live, 0); /* a failed insert keeps nothing it allocated */
			failures++;
			fork_failures += fail_at == 2;
		} else {
			ck_assert_int_eq(rc, 0);
			twin_insert(&w, family, a, cidr, peer);
		}
		for (int q = 0; q < 4; q++) {
			random_addr(family, a);
			ck_assert_ptr_eq(allowedips_lookup(t, family, a),
					 twin_lookup(&w, family, a));
		}
	}
	/* the first allocation failed often, and the second one of a fork did too */
	ck_assert_int_gt(failures, 500);
	ck_assert_int_gt(fork_failures, 50);
	allowedips_free(t);
}
END_TEST

START_TEST(allowedips_removing_every_peer_frees_every_node)
{
	struct allowedips *t = allowedips_new();
	uint8_t a[16];
	long nodes, left;
	int rc = 0, removed[PEERS];

	/* no Check assertion while watching: Check allocates on its own to report progress */
	rng_state = 99;
	watch();
	for (int i = 0; i < 2000 && rc == 0; i++) {
		int family = i % 3 ? AF_INET6 : AF_INET;
		unsigned cidr = rng() % (unsigned)(addr_len(family) * 8 + 1);

		random_addr(family, a);
		mask_addr(a, addr_len(family), cidr);
		rc = allowedips_insert(t, family, a, cidr, &peers[i % PEERS]);
	}
	nodes = live;
	for (int p = 0; p < PEERS - 1; p++)
		removed[p] = allowedips_remove_peer(t, &peers[p]);
	left = live;
	removed[PEERS - 1] = allowedips_remove_peer(t, &peers[PEERS - 1]);
	unwatch();

	ck_assert_int_eq(rc, 0);
	ck_assert_int_gt(nodes, 1000);
	for (int p = 0; p < PEERS; p++)
		ck_assert_int_gt(removed[p], 0);
	/* with one peer of six left, about a sixth of the prefixes and their forks remain */
	ck_assert_int_lt(left, nodes / 3);
	ck_assert_int_eq(live, 0);
	a4(a, "10.0.0.1");
	ck_assert_ptr_null(allowedips_lookup(t, AF_INET, a));
	allowedips_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("allowedips");
	TCase *tc = tcase_create("allowedips");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, allowedips_matches_linear_scan_on_random_operations, 0, 8);
	tcase_add_test(tc, allowedips_zero_prefix_holds_every_address_of_its_family_only);
	tcase_add_test(tc, allowedips_host_prefixes_hold_only_their_address);
	tcase_add_test(tc, allowedips_longer_prefix_wins_whatever_the_insert_order);
	tcase_add_test(tc, allowedips_insert_of_an_equal_prefix_repoints_it);
	tcase_add_test(tc,
		       allowedips_insert_rejects_host_bits_long_cidr_null_peer_and_other_families);
	tcase_add_test(tc, allowedips_remove_peer_falls_back_to_the_covering_prefix);
	tcase_add_test(tc, allowedips_walk_peer_lists_its_prefixes_in_address_order);
	tcase_add_test(tc, allowedips_lookup_allocates_nothing);
	tcase_add_test(tc, allowedips_insert_out_of_memory_leaves_the_table_as_it_was);
	tcase_add_test(tc, allowedips_removing_every_peer_frees_every_node);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
