/* tunif: TUN device, link, addresses, routes and rules, read back from the kernel.
 *
 * Needs root. Every test first moves into a network namespace of its own (Check forks one
 * process per test), so nothing on the host changes. The kernel state is read back with
 * `ip -j` (iproute2, independent of the code under test) and parsed with jansson; the data
 * path is proven with real sockets and the TUN fd. Without root the suite exits 77 (skip). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tunif/tunif.h"

#define TABLE  51820u
#define FWMARK 0xca6cu

static void enter_private_netns(void)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
}

/* Runs `ip -j ARGS` and returns its parsed output (never NULL; fails the test instead). */
__attribute__((format(printf, 1, 2))) static json_t *ip_json(const char *fmt, ...)
{
	char args[256], cmd[300];
	json_error_t jerr;
	va_list ap;
	json_t *j;
	FILE *f;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "ip -j %s", args);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	j = json_loadf(f, 0, &jerr);
	status = pclose(f);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed", cmd);
	ck_assert_msg(j != NULL, "%s: bad JSON: %s", cmd, jerr.text);
	return j;
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static bool link_has_flag(const json_t *link, const char *flag)
{
	size_t i;
	json_t *f;

	for (i = 0; (f = json_array_get(json_object_get(link, "flags"), i)) != NULL; i++)
		if (strcmp(json_string_value(f), flag) == 0)
			return true;
	return false;
}

/* The `ip -j link show dev NAME` object of a device (caller json_decref()s). */
static json_t *link_show(const char *name)
{
	json_t *a = ip_json("link show dev %s", name);
	json_t *link;

	ck_assert_uint_eq(json_array_size(a), 1);
	link = json_incref(json_array_get(a, 0));
	json_decref(a);
	return link;
}

/* True when device `name` carries address `local`/`prefixlen`. */
static bool addr_present(const char *name, const char *local, int prefixlen)
{
	json_t *a = ip_json("addr show dev %s", name), *ai;
	json_t *info = json_object_get(json_array_get(a, 0), "addr_info");
	bool found = false;
	size_t i;

	for (i = 0; (ai = json_array_get(info, i)) != NULL; i++)
		if (strcmp(jstr(ai, "local"), local) == 0 &&
		    json_integer_value(json_object_get(ai, "prefixlen")) == prefixlen)
			found = true;
	json_decref(a);
	return found;
}

/* Routes of `family` ("-4"/"-6") in `table` to `dst` (as ip prints it) through `dev` with
 * protocol `proto` ("" = any). */
static int route_count(const char *family, const char *table, const char *dst, const char *dev,
		       const char *proto)
{
	json_t *a = ip_json("%s route show table %s", family, table), *r;
	int n = 0;
	size_t i;

	for (i = 0; (r = json_array_get(a, i)) != NULL; i++)
		if (strcmp(jstr(r, "dst"), dst) == 0 && strcmp(jstr(r, "dev"), dev) == 0 &&
		    (proto[0] == '\0' || strcmp(jstr(r, "protocol"), proto) == 0))
			n++;
	json_decref(a);
	return n;
}

/* Rules at priority `prio`, and of those how many match the full-tunnel rule of that
 * priority exactly (the fwmark one or the suppressing one). */
static int rule_count(const char *family, int prio, int *exact)
{
	json_t *a = ip_json("%s rule", family), *r;
	char mark[16];
	int n = 0;
	size_t i;

	snprintf(mark, sizeof(mark), "0x%x", FWMARK);
	*exact = 0;
	for (i = 0; (r = json_array_get(a, i)) != NULL; i++) {
		if (json_integer_value(json_object_get(r, "priority")) != prio)
			continue;
		n++;
		if (prio == TUNIF_RULE_PRIO_FWMARK && json_object_get(r, "not") != NULL &&
		    strcmp(jstr(r, "fwmark"), mark) == 0 && strcmp(jstr(r, "table"), "51820") == 0)
			(*exact)++;
		if (prio == TUNIF_RULE_PRIO_SUPPRESS && strcmp(jstr(r, "table"), "main") == 0 &&
		    json_object_get(r, "not") == NULL && json_object_get(r, "fwmark") == NULL &&
		    json_is_integer(json_object_get(r, "suppress_prefixlen")) &&
		    json_integer_value(json_object_get(r, "suppress_prefixlen")) == 0)
			(*exact)++;
	}
	json_decref(a);
	return n;
}

/* Waits up to 2 s for the local route of address `local` (IPv6 adds it in a work item after
 * the address); returns whether it came. */
static bool local_route_appears(const char *family, const char *local)
{
	for (int waited_ms = 0; waited_ms < 2000; waited_ms += 10) {
		json_t *a = ip_json("%s route show table local", family), *r;
		bool found = false;
		size_t i;

		for (i = 0; (r = json_array_get(a, i)) != NULL; i++)
			if (strcmp(jstr(r, "type"), "local") == 0 &&
			    strcmp(jstr(r, "dst"), local) == 0)
				found = true;
		json_decref(a);
		if (found)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

/* The device `ip route get ARGS` picks. */
static char *route_get_dev(const char *args)
{
	json_t *a = ip_json("route get %s", args);
	char *dev = strdup(jstr(json_array_get(a, 0), "dev"));

	json_decref(a);
	return dev;
}

static void pton(int family, const char *s, uint8_t *out)
{
	ck_assert_int_eq(inet_pton(family, s, out), 1);
}

/* Brings the device of `t` up with 10.9.0.1/24 and fd00:9::1/64. */
static void up_with_addresses(struct tunif *t)
{
	uint8_t a4[4], a6[16];

	ck_assert_int_eq(tunif_set_up(t, true), 0);
	pton(AF_INET, "10.9.0.1", a4);
	pton(AF_INET6, "fd00:9::1", a6);
	ck_assert_int_eq(tunif_addr_add(t, AF_INET, a4, 24), 0);
	ck_assert_int_eq(tunif_addr_add(t, AF_INET6, a6, 64), 0);
}

/* A TUN named `name` (fd in *fd) after up_with_addresses(); returns its tunif. */
static struct tunif *tun_with_addresses(const char *name, int *fd)
{
	char ifname[TUNIF_NAMESIZ];
	struct tunif *t;
	int err = 0;

	*fd = tun_open(name, false, ifname);
	ck_assert_int_ge(*fd, 0);
	t = tunif_new(ifname, &err);
	ck_assert_msg(t != NULL, "tunif_new: %s", strerror(-err));
	up_with_addresses(t);
	return t;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Builds an IPv4 or IPv6 UDP packet; returns its length. */
static size_t udp_packet(int family, uint8_t *pkt, const char *src, const char *dst, uint16_t sport,
			 uint16_t dport, const char *payload)
{
	size_t plen = strlen(payload), ulen = 8 + plen, hlen = family == AF_INET ? 20 : 40;
	uint8_t *udp = pkt + hlen;
	uint32_t sum;
	uint16_t c;

	memset(pkt, 0, hlen + ulen);
	if (family == AF_INET) {
		pkt[0] = 0x45;
		pkt[2] = (uint8_t)((hlen + ulen) >> 8);
		pkt[3] = (uint8_t)(hlen + ulen);
		pkt[8] = 64;
		pkt[9] = IPPROTO_UDP;
		pton(AF_INET, src, pkt + 12);
		pton(AF_INET, dst, pkt + 16);
		c = csum_fold(csum_add(0, pkt, 20));
		pkt[10] = (uint8_t)(c >> 8);
		pkt[11] = (uint8_t)c;
	} else {
		pkt[0] = 0x60;
		pkt[4] = (uint8_t)(ulen >> 8);
		pkt[5] = (uint8_t)ulen;
		pkt[6] = IPPROTO_UDP;
		pkt[7] = 64;
		pton(AF_INET6, src, pkt + 8);
		pton(AF_INET6, dst, pkt + 24);
	}
	udp[0] = (uint8_t)(sport >> 8);
	udp[1] = (uint8_t)sport;
	udp[2] = (uint8_t)(dport >> 8);
	udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	memcpy(udp + 8, payload, plen);
	if (family == AF_INET6) {
		/* pseudo-header: addresses, length, next header */
		uint8_t ph[8] = {0, 0, (uint8_t)(ulen >> 8), (uint8_t)ulen, 0, 0, 0, IPPROTO_UDP};

		sum = csum_add(0, pkt + 8, 32);
		sum = csum_add(sum, ph, sizeof(ph));
		sum = csum_add(sum, udp, ulen);
		c = csum_fold(sum);
		udp[6] = (uint8_t)(c >> 8);
		udp[7] = (uint8_t)c;
	}
	return hlen + ulen;
}

/* Reads packets from `fd` for up to 2 s until one is UDP to port `dport`; returns its
 * length (0 if none came) with the packet in `buf`. Other traffic (MLD, RS) is skipped. */
static size_t tun_read_udp(int fd, uint8_t *buf, size_t cap, uint16_t dport)
{
	for (int waited_ms = 0; waited_ms < 2000; waited_ms += 50) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		while ((n = read(fd, buf, cap)) > 0) {
			size_t hlen = (buf[0] >> 4) == 4 ? (size_t)(buf[0] & 15) * 4 : 40;
			uint8_t proto = (buf[0] >> 4) == 4 ? buf[9] : buf[6];

			if ((size_t)n >= hlen + 8 && proto == IPPROTO_UDP &&
			    (buf[hlen + 2] << 8 | buf[hlen + 3]) == dport)
				return (size_t)n;
		}
	}
	return 0;
}

START_TEST(tun_open_creates_a_nonblocking_tun_device)
{
	char ifname[TUNIF_NAMESIZ];
	int fd = tun_open("kt0", false, ifname);
	json_t *link;

	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(ifname, "kt0");
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	link = link_show("kt0");
	/* a TUN (not a TAP) is point-to-point without a link-layer address */
	ck_assert_str_eq(jstr(link, "link_type"), "none");
	ck_assert(link_has_flag(link, "POINTOPOINT"));
	json_decref(link);
	close(fd);
}
END_TEST

START_TEST(tun_open_lets_the_kernel_choose_an_empty_name)
{
	char ifname[TUNIF_NAMESIZ];
	int fd = tun_open("", false, ifname);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(strncmp(ifname, "tun", 3), 0);
	ck_assert_uint_ne(if_nametoindex(ifname), 0);
	close(fd);
}
END_TEST

START_TEST(tun_device_vanishes_when_its_last_fd_closes)
{
	char ifname[TUNIF_NAMESIZ];
	int fd = tun_open("kt0", false, ifname);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_ne(if_nametoindex("kt0"), 0);
	close(fd);
	ck_assert_uint_eq(if_nametoindex("kt0"), 0);
}
END_TEST

START_TEST(tun_open_rejects_bad_and_busy_names)
{
	char ifname[TUNIF_NAMESIZ];
	int fd;

	ck_assert_int_eq(tun_open("sixteen-chars-xx", false, ifname), -ENAMETOOLONG);
	ck_assert_int_eq(tun_open("a/b", false, ifname), -EINVAL);
	fd = tun_open("kt0", false, ifname);
	ck_assert_int_ge(fd, 0);
	/* a single-queue TUN takes one fd */
	ck_assert_int_eq(tun_open("kt0", false, ifname), -EBUSY);
	/* the loopback device is not a TUN */
	ck_assert_int_eq(tun_open("lo", false, ifname), -EEXIST);
	close(fd);
}
END_TEST

START_TEST(tun_queue_open_attaches_only_to_multi_queue_tuns)
{
	char ifname[TUNIF_NAMESIZ];
	int single = tun_open("kt0", false, ifname);
	int multi = tun_open("kq0", true, ifname);
	int q2, q3;

	ck_assert_int_ge(single, 0);
	ck_assert_int_ge(multi, 0);
	q2 = tun_queue_open("kq0");
	q3 = tun_queue_open("kq0");
	ck_assert_int_ge(q2, 0);
	ck_assert_int_ge(q3, 0);
	ck_assert(fcntl(q2, F_GETFL) & O_NONBLOCK);
	ck_assert_int_eq(tun_queue_open("kt0"), -EEXIST);
	/* no device is created under a free name */
	ck_assert_int_eq(tun_queue_open("kq9"), -ENODEV);
	ck_assert_uint_eq(if_nametoindex("kq9"), 0);
	ck_assert_int_eq(tun_queue_open(""), -EINVAL);
	/* the device lives while any queue is open */
	close(multi);
	close(q2);
	ck_assert_uint_ne(if_nametoindex("kq0"), 0);
	close(q3);
	ck_assert_uint_eq(if_nametoindex("kq0"), 0);
	close(single);
}
END_TEST

START_TEST(tun_queues_share_the_flows_routed_to_the_device)
{
	char ifname[TUNIF_NAMESIZ];
	int fds[2], got[2] = {0, 0}, s, err = 0;
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct tunif *t;
	uint8_t a4[4], buf[2048];

	fds[0] = tun_open("kq0", true, ifname);
	ck_assert_int_ge(fds[0], 0);
	fds[1] = tun_queue_open("kq0");
	ck_assert_int_ge(fds[1], 0);
	t = tunif_new("kq0", &err);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(tunif_set_up(t, true), 0);
	pton(AF_INET, "10.9.0.1", a4);
	ck_assert_int_eq(tunif_addr_add(t, AF_INET, a4, 24), 0);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_ge(s, 0);
	pton(AF_INET, "10.9.0.2", (uint8_t *)&to.sin_addr);
	/* 64 flows (ports 7000..7063): the chance that all hash to one queue is 2^-63 */
	for (int i = 0; i < 64; i++) {
		to.sin_port = htons((uint16_t)(7000 + i));
		ck_assert_int_eq(sendto(s, "flow", 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
	}
	for (int waited_ms = 0; got[0] + got[1] < 64 && waited_ms < 2000; waited_ms += 20) {
		struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN},
				      {.fd = fds[1], .events = POLLIN}};

		poll(p, 2, 20);
		for (int q = 0; q < 2; q++) {
			ssize_t n;

			while ((n = read(fds[q], buf, sizeof(buf))) > 0) {
				unsigned dport = (unsigned)(buf[22] << 8 | buf[23]);

				if (n >= 28 && buf[0] == 0x45 && buf[9] == IPPROTO_UDP &&
				    dport >= 7000 && dport < 7064)
					got[q]++;
			}
		}
	}
	ck_assert_int_eq(got[0] + got[1], 64);
	ck_assert_int_gt(got[0], 0);
	ck_assert_int_gt(got[1], 0);
	close(s);
	tunif_free(t);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(tunif_new_fails_with_enodev_for_a_missing_device)
{
	int err = 0;

	ck_assert_ptr_null(tunif_new("nope0", &err));
	ck_assert_int_eq(err, -ENODEV);
}
END_TEST

START_TEST(tunif_sets_mtu_and_link_state)
{
	char ifname[TUNIF_NAMESIZ];
	int fd = tun_open("kt0", false, ifname), err = 0;
	struct tunif *t = tunif_new("kt0", &err);
	json_t *link;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(tunif_ifindex(t), (int)if_nametoindex("kt0"));
	link = link_show("kt0");
	ck_assert(!link_has_flag(link, "UP"));
	json_decref(link);

	ck_assert_int_eq(tunif_set_mtu(t, 1372), 0);
	ck_assert_int_eq(tunif_set_up(t, true), 0);
	link = link_show("kt0");
	ck_assert_int_eq(json_integer_value(json_object_get(link, "mtu")), 1372);
	ck_assert(link_has_flag(link, "UP"));
	json_decref(link);

	ck_assert_int_eq(tunif_set_mtu(t, 65535), 0);
	ck_assert_int_eq(tunif_set_up(t, false), 0);
	link = link_show("kt0");
	ck_assert_int_eq(json_integer_value(json_object_get(link, "mtu")), 65535);
	ck_assert(!link_has_flag(link, "UP"));
	json_decref(link);

	/* the kernel's own refusal comes back as its errno */
	ck_assert_int_eq(tunif_set_mtu(t, 67), -EINVAL);
	ck_assert_int_eq(tunif_set_mtu(t, 65536), -EINVAL);
	tunif_free(t);
	close(fd);
}
END_TEST

START_TEST(tunif_addr_add_puts_v4_and_v6_addresses_on_the_device)
{
	int fd;
	struct tunif *t = tun_with_addresses("kt0", &fd);
	uint8_t a4[4], a6[16];

	ck_assert(addr_present("kt0", "10.9.0.1", 24));
	ck_assert(addr_present("kt0", "fd00:9::1", 64));
	/* the kernel adds the prefix routes */
	ck_assert_int_eq(route_count("-4", "main", "10.9.0.0/24", "kt0", "kernel"), 1);
	ck_assert_int_eq(route_count("-6", "main", "fd00:9::/64", "kt0", "kernel"), 1);
	/* again is success (a restart after a crash) */
	pton(AF_INET, "10.9.0.1", a4);
	pton(AF_INET6, "fd00:9::1", a6);
	ck_assert_int_eq(tunif_addr_add(t, AF_INET, a4, 24), 0);
	ck_assert_int_eq(tunif_addr_add(t, AF_INET6, a6, 64), 0);

	ck_assert_int_eq(tunif_addr_del(t, AF_INET, a4, 24), 0);
	ck_assert(!addr_present("kt0", "10.9.0.1", 24));
	ck_assert(addr_present("kt0", "fd00:9::1", 64));
	ck_assert_int_eq(tunif_addr_del(t, AF_INET6, a6, 64), 0);
	ck_assert(!addr_present("kt0", "fd00:9::1", 64));
	/* absent already is success */
	ck_assert_int_eq(tunif_addr_del(t, AF_INET, a4, 24), 0);
	ck_assert_int_eq(tunif_addr_del(t, AF_INET6, a6, 64), 0);
	tunif_free(t);
	close(fd);
}
END_TEST

START_TEST(tunif_refuses_bad_families_and_prefixes)
{
	int fd;
	struct tunif *t = tun_with_addresses("kt0", &fd);
	uint8_t a[16];

	pton(AF_INET, "10.9.1.1", a);
	ck_assert_int_eq(tunif_addr_add(t, AF_PACKET, a, 24), -EAFNOSUPPORT);
	ck_assert_int_eq(tunif_addr_add(t, AF_INET, a, 33), -EINVAL);
	ck_assert_int_eq(tunif_route_add(t, AF_INET, a, 33, 0), -EINVAL);
	ck_assert_int_eq(tunif_route_add(t, AF_UNIX, a, 8, 0), -EAFNOSUPPORT);
	/* host bits set */
	ck_assert_int_eq(tunif_route_add(t, AF_INET, a, 24, 0), -EINVAL);
	ck_assert_int_eq(tunif_route_del(t, AF_INET, a, 24, 0), -EINVAL);
	pton(AF_INET6, "fd00:77::1", a);
	ck_assert_int_eq(tunif_route_add(t, AF_INET6, a, 127, 0), -EINVAL);
	ck_assert_int_eq(tunif_route_add(t, AF_INET6, a, 129, 0), -EINVAL);
	/* a full tunnel needs a table of its own and a mark */
	ck_assert_int_eq(tunif_fulltunnel_add(t, AF_INET, 0, FWMARK), -EINVAL);
	ck_assert_int_eq(tunif_fulltunnel_add(t, AF_INET, 254, FWMARK), -EINVAL);
	ck_assert_int_eq(tunif_fulltunnel_add(t, AF_INET6, TABLE, 0), -EINVAL);
	ck_assert_int_eq(rule_count("-4", TUNIF_RULE_PRIO_FWMARK, &(int){0}), 0);
	tunif_free(t);
	close(fd);
}
END_TEST

START_TEST(tunif_route_add_routes_out_of_the_device_in_main_and_custom_tables)
{
	int fd;
	struct tunif *t = tun_with_addresses("kt0", &fd);
	uint8_t r4[4], h4[4], r6[16];

	pton(AF_INET, "192.168.50.0", r4);
	pton(AF_INET, "10.9.7.3", h4);
	pton(AF_INET6, "fd00:50::", r6);
	ck_assert_int_eq(tunif_route_add(t, AF_INET, r4, 24, 0), 0);
	ck_assert_int_eq(tunif_route_add(t, AF_INET, h4, 32, 0), 0);
	ck_assert_int_eq(tunif_route_add(t, AF_INET6, r6, 48, 0), 0);
	ck_assert_int_eq(tunif_route_add(t, AF_INET, r4, 24, 100), 0);
	ck_assert_int_eq(tunif_route_add(t, AF_INET6, r6, 48, 70000), 0);
	ck_assert_int_eq(route_count("-4", "main", "192.168.50.0/24", "kt0", "static"), 1);
	ck_assert_int_eq(route_count("-4", "main", "10.9.7.3", "kt0", "static"), 1);
	ck_assert_int_eq(route_count("-6", "main", "fd00:50::/48", "kt0", "static"), 1);
	ck_assert_int_eq(route_count("-4", "100", "192.168.50.0/24", "kt0", "static"), 1);
	ck_assert_int_eq(route_count("-6", "70000", "fd00:50::/48", "kt0", "static"), 1);
	ck_assert_int_eq(route_count("-4", "100", "10.9.7.3", "kt0", ""), 0);

	/* again is success and adds no second route */
	ck_assert_int_eq(tunif_route_add(t, AF_INET, r4, 24, 0), 0);
	ck_assert_int_eq(tunif_route_add(t, AF_INET6, r6, 48, 70000), 0);
	ck_assert_int_eq(route_count("-4", "main", "192.168.50.0/24", "kt0", ""), 1);
	ck_assert_int_eq(route_count("-6", "70000", "fd00:50::/48", "kt0", ""), 1);

	ck_assert_int_eq(tunif_route_del(t, AF_INET, r4, 24, 0), 0);
	ck_assert_int_eq(tunif_route_del(t, AF_INET6, r6, 48, 70000), 0);
	ck_assert_int_eq(route_count("-4", "main", "192.168.50.0/24", "kt0", ""), 0);
	ck_assert_int_eq(route_count("-6", "70000", "fd00:50::/48", "kt0", ""), 0);
	ck_assert_int_eq(route_count("-4", "100", "192.168.50.0/24", "kt0", "static"), 1);
	/* absent already is success */
	ck_assert_int_eq(tunif_route_del(t, AF_INET, r4, 24, 0), 0);
	ck_assert_int_eq(tunif_route_del(t, AF_INET6, r6, 48, 70000), 0);
	tunif_free(t);
	close(fd);
}
END_TEST

START_TEST(tunif_route_add_needs_the_device_up)
{
	char ifname[TUNIF_NAMESIZ];
	int fd = tun_open("kt0", false, ifname), err = 0;
	struct tunif *t = tunif_new("kt0", &err);
	uint8_t r4[4], r6[16];

	ck_assert_ptr_nonnull(t);
	pton(AF_INET, "10.50.0.0", r4);
	pton(AF_INET6, "fd00:50::", r6);
	ck_assert_int_eq(tunif_route_add(t, AF_INET, r4, 16, 0), -ENETDOWN);
	ck_assert_int_eq(tunif_route_add(t, AF_INET6, r6, 48, 0), -ENETDOWN);
	ck_assert_int_eq(tunif_set_up(t, true), 0);
	ck_assert_int_eq(tunif_route_add(t, AF_INET, r4, 16, 0), 0);
	ck_assert_int_eq(tunif_route_add(t, AF_INET6, r6, 48, 0), 0);
	/* down takes the routes along */
	ck_assert_int_eq(tunif_set_up(t, false), 0);
	ck_assert_int_eq(route_count("-4", "main", "10.50.0.0/16", "kt0", ""), 0);
	tunif_free(t);
	close(fd);
}
END_TEST

START_TEST(tunif_route_add_refuses_a_prefix_routed_through_another_device)
{
	int fd0, fd1;
	struct tunif *t0 = tun_with_addresses("kt0", &fd0);
	struct tunif *t1 = tun_with_addresses("kt1", &fd1);
	uint8_t r4[4], r6[16];

	pton(AF_INET, "10.50.0.0", r4);
	pton(AF_INET6, "fd00:50::", r6);
	ck_assert_int_eq(tunif_route_add(t1, AF_INET, r4, 24, 0), 0);
	ck_assert_int_eq(tunif_route_add(t1, AF_INET6, r6, 48, 0), 0);
	ck_assert_int_eq(tunif_route_add(t0, AF_INET, r4, 24, 0), -EEXIST);
	ck_assert_int_eq(tunif_route_add(t0, AF_INET6, r6, 48, 0), -EEXIST);
	ck_assert_int_eq(route_count("-4", "main", "10.50.0.0/24", "kt1", ""), 1);
	ck_assert_int_eq(route_count("-4", "main", "10.50.0.0/24", "kt0", ""), 0);
	ck_assert_int_eq(route_count("-6", "main", "fd00:50::/48", "kt0", ""), 0);
	/* deleting through kt0 leaves kt1's route alone */
	ck_assert_int_eq(tunif_route_del(t0, AF_INET, r4, 24, 0), 0);
	ck_assert_int_eq(tunif_route_del(t0, AF_INET6, r6, 48, 0), 0);
	ck_assert_int_eq(route_count("-4", "main", "10.50.0.0/24", "kt1", ""), 1);
	ck_assert_int_eq(route_count("-6", "main", "fd00:50::/48", "kt1", ""), 1);
	tunif_free(t0);
	tunif_free(t1);
	close(fd0);
	close(fd1);
}
END_TEST

START_TEST(tunif_route_del_leaves_the_kernel_prefix_route)
{
	int fd;
	struct tunif *t = tun_with_addresses("kt0", &fd);
	uint8_t p4[4];

	/* AllowedIPs equal to the address's subnet: the kernel's route already does it */
	pton(AF_INET, "10.9.0.0", p4);
	ck_assert_int_eq(tunif_route_add(t, AF_INET, p4, 24, 0), 0);
	ck_assert_int_eq(route_count("-4", "main", "10.9.0.0/24", "kt0", ""), 1);
	ck_assert_int_eq(tunif_route_del(t, AF_INET, p4, 24, 0), 0);
	ck_assert_int_eq(route_count("-4", "main", "10.9.0.0/24", "kt0", "kernel"), 1);
	tunif_free(t);
	close(fd);
}
END_TEST

START_TEST(tunif_fulltunnel_installs_route_and_rules_like_wg_quick)
{
	int fd, exact;
	struct tunif *t = tun_with_addresses("kt0", &fd);
	char buf[8] = "";
	FILE *f;

	ck_assert_int_eq(rule_count("-4", TUNIF_RULE_PRIO_FWMARK, &exact), 0);
	ck_assert_int_eq(tunif_fulltunnel_add(t, AF_INET, TABLE, FWMARK), 0);
	ck_assert_int_eq(tunif_fulltunnel_add(t, AF_INET6, TABLE, FWMARK), 0);
	for (int i = 0; i < 2; i++) {
		const char *fam = i == 0 ? "-4" : "-6";

		ck_assert_int_eq(route_count(fam, "51820", "default", "kt0", "static"), 1);
		ck_assert_int_eq(rule_count(fam, TUNIF_RULE_PRIO_FWMARK, &exact), 1);
		ck_assert_int_eq(exact, 1);
		ck_assert_int_eq(rule_count(fam, TUNIF_RULE_PRIO_SUPPRESS, &exact), 1);
		ck_assert_int_eq(exact, 1);
	}
	f = fopen("/proc/sys/net/ipv4/conf/all/src_valid_mark", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_str_eq(buf, "1\n");

	/* again is success and duplicates nothing */
	ck_assert_int_eq(tunif_fulltunnel_add(t, AF_INET, TABLE, FWMARK), 0);
	ck_assert_int_eq(rule_count("-4", TUNIF_RULE_PRIO_FWMARK, &exact), 1);
	ck_assert_int_eq(rule_count("-4", TUNIF_RULE_PRIO_SUPPRESS, &exact), 1);
	ck_assert_int_eq(route_count("-4", "51820", "default", "kt0", ""), 1);

	ck_assert_int_eq(tunif_fulltunnel_del(t, AF_INET, TABLE, FWMARK), 0);
	ck_assert_int_eq(rule_count("-4", TUNIF_RULE_PRIO_FWMARK, &exact), 0);
	ck_assert_int_eq(rule_count("-4", TUNIF_RULE_PRIO_SUPPRESS, &exact), 0);
	ck_assert_int_eq(route_count("-4", "51820", "default", "kt0", ""), 0);
	ck_assert_int_eq(rule_count("-6", TUNIF_RULE_PRIO_FWMARK, &exact), 1);
	ck_assert_int_eq(tunif_fulltunnel_del(t, AF_INET, TABLE, FWMARK), 0);
	/* the kernel's own rules stay */
	ck_assert_int_eq(rule_count("-4", 32766, &exact), 1);
	ck_assert_int_eq(rule_count("-4", 0, &exact), 1);
	tunif_free(t);
	close(fd);
}
END_TEST

START_TEST(tunif_fulltunnel_sends_all_but_marked_traffic_through_the_device)
{
	int fd0, fd1;
	struct tunif *t0 = tun_with_addresses("kt0", &fd0);
	struct tunif *t1 = tun_with_addresses("kt1", &fd1);
	static const uint8_t any[4];
	uint8_t lan[4];
	char *dev;

	/* kt1 plays the uplink: the default route of main and a LAN behind it */
	pton(AF_INET, "192.0.2.0", lan);
	ck_assert_int_eq(tunif_route_add(t1, AF_INET, any, 0, 0), 0);
	ck_assert_int_eq(tunif_route_add(t1, AF_INET, lan, 24, 0), 0);
	dev = route_get_dev("198.51.100.7");
	ck_assert_str_eq(dev, "kt1");
	free(dev);

	ck_assert_int_eq(tunif_fulltunnel_add(t0, AF_INET, TABLE, FWMARK), 0);
	dev = route_get_dev("198.51.100.7");
	ck_assert_str_eq(dev, "kt0");
	free(dev);
	/* the tunnel's own marked packets still take the uplink */
	dev = route_get_dev("198.51.100.7 mark 0xca6c");
	ck_assert_str_eq(dev, "kt1");
	free(dev);
	/* more specific routes of main still win */
	dev = route_get_dev("192.0.2.9");
	ck_assert_str_eq(dev, "kt1");
	free(dev);

	tunif_cleanup(t0);
	dev = route_get_dev("198.51.100.7");
	ck_assert_str_eq(dev, "kt1");
	free(dev);
	tunif_free(t0);
	tunif_free(t1);
	close(fd0);
	close(fd1);
}
END_TEST

/* Everything a daemon sets up on its TUN. */
static void add_everything(struct tunif *t)
{
	uint8_t r4[4], r6[16];

	pton(AF_INET, "192.168.50.0", r4);
	pton(AF_INET6, "fd00:50::", r6);
	ck_assert_int_eq(tunif_route_add(t, AF_INET, r4, 24, 0), 0);
	ck_assert_int_eq(tunif_route_add(t, AF_INET6, r6, 48, 0), 0);
	ck_assert_int_eq(tunif_route_add(t, AF_INET, r4, 24, 100), 0);
	ck_assert_int_eq(tunif_fulltunnel_add(t, AF_INET, TABLE, FWMARK), 0);
	ck_assert_int_eq(tunif_fulltunnel_add(t, AF_INET6, TABLE, FWMARK), 0);
}

/* Asserts that the state of add_everything() and tun_with_addresses() is all there or gone. */
static void assert_everything(bool present)
{
	int n = present ? 1 : 0, exact;

	ck_assert_int_eq(addr_present("kt0", "10.9.0.1", 24), present);
	ck_assert_int_eq(addr_present("kt0", "fd00:9::1", 64), present);
	ck_assert_int_eq(route_count("-4", "main", "192.168.50.0/24", "kt0", ""), n);
	ck_assert_int_eq(route_count("-6", "main", "fd00:50::/48", "kt0", ""), n);
	ck_assert_int_eq(route_count("-4", "100", "192.168.50.0/24", "kt0", ""), n);
	ck_assert_int_eq(route_count("-4", "51820", "default", "kt0", ""), n);
	ck_assert_int_eq(route_count("-6", "51820", "default", "kt0", ""), n);
	ck_assert_int_eq(rule_count("-4", TUNIF_RULE_PRIO_FWMARK, &exact), n);
	ck_assert_int_eq(rule_count("-4", TUNIF_RULE_PRIO_SUPPRESS, &exact), n);
	ck_assert_int_eq(rule_count("-6", TUNIF_RULE_PRIO_FWMARK, &exact), n);
	ck_assert_int_eq(rule_count("-6", TUNIF_RULE_PRIO_SUPPRESS, &exact), n);
}

START_TEST(tunif_cleanup_removes_routes_rules_and_addresses_and_is_idempotent)
{
	int fd, exact;
	struct tunif *t = tun_with_addresses("kt0", &fd);

	add_everything(t);
	assert_everything(true);
	tunif_cleanup(t);
	assert_everything(false);
	ck_assert_int_eq(rule_count("-4", 32766, &exact), 1);
	ck_assert_int_eq(rule_count("-6", 32766, &exact), 1);
	tunif_cleanup(t);
	assert_everything(false);
	/* the device itself is still there and up */
	ck_assert_uint_ne(if_nametoindex("kt0"), 0);
	tunif_free(t);
	close(fd);
}
END_TEST

START_TEST(tunif_cleanup_removes_the_rules_after_the_device_is_gone)
{
	int fd, exact;
	struct tunif *t = tun_with_addresses("kt0", &fd);
	uint8_t a4[4];

	add_everything(t);
	close(fd);
	ck_assert_uint_eq(if_nametoindex("kt0"), 0);
	/* rules outlive the device; addresses and routes went with it */
	ck_assert_int_eq(rule_count("-4", TUNIF_RULE_PRIO_FWMARK, &exact), 1);
	pton(AF_INET, "10.9.0.1", a4);
	ck_assert_int_eq(tunif_set_up(t, true), -ENODEV);
	ck_assert_int_eq(tunif_addr_add(t, AF_INET, a4, 24), -ENODEV);
	tunif_cleanup(t);
	ck_assert_int_eq(rule_count("-4", TUNIF_RULE_PRIO_FWMARK, &exact), 0);
	ck_assert_int_eq(rule_count("-4", TUNIF_RULE_PRIO_SUPPRESS, &exact), 0);
	ck_assert_int_eq(rule_count("-6", TUNIF_RULE_PRIO_FWMARK, &exact), 0);
	ck_assert_int_eq(rule_count("-6", TUNIF_RULE_PRIO_SUPPRESS, &exact), 0);
	tunif_free(t);
}
END_TEST

START_TEST(tunif_cleanup_skips_what_was_deleted_since)
{
	int fd;
	struct tunif *t = tun_with_addresses("kt0", &fd);
	uint8_t a6[16];

	add_everything(t);
	pton(AF_INET6, "fd00:9::1", a6);
	ck_assert_int_eq(tunif_addr_del(t, AF_INET6, a6, 64), 0);
	ck_assert_int_eq(tunif_fulltunnel_del(t, AF_INET6, TABLE, FWMARK), 0);
	/* re-added by someone else: not ours any more, cleanup leaves it */
	ck_assert_int_eq(system("ip -6 addr add fd00:9::1/64 dev kt0"), 0);
	tunif_cleanup(t);
	ck_assert(addr_present("kt0", "fd00:9::1", 64));
	ck_assert(!addr_present("kt0", "10.9.0.1", 24));
	tunif_free(t);
	close(fd);
}
END_TEST

START_TEST(tunif_readds_after_a_crash_and_cleans_up_the_leftovers)
{
	int fd, err = 0;
	struct tunif *crashed = tun_with_addresses("kt0", &fd);
	struct tunif *t;

	add_everything(crashed);
	tunif_free(crashed); /* no cleanup: the kernel state stays */
	assert_everything(true);

	/* the restarted daemon sets up the same again, all of it success, nothing doubled */
	t = tunif_new("kt0", &err);
	ck_assert_ptr_nonnull(t);
	up_with_addresses(t);
	add_everything(t);
	assert_everything(true);
	/* and its cleanup removes the leftovers too */
	tunif_cleanup(t);
	assert_everything(false);
	tunif_free(t);
	close(fd);
}
END_TEST

START_TEST(tun_fd_reads_the_packets_routed_to_the_device)
{
	static const struct {
		int family;
		const char *prefix, *dst, *src;
		unsigned prefixlen;
	} cases[] = {
	    {AF_INET, "10.77.0.0", "10.77.1.2", "10.9.0.1", 16},
	    {AF_INET6, "fd00:77::", "fd00:77::2", "fd00:9::1", 64},
	};
	int fd;
	struct tunif *t = tun_with_addresses("kt0", &fd);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fam = cases[i].family;
		struct sockaddr_storage to = {.ss_family = (sa_family_t)fam};
		socklen_t tolen =
		    fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		uint8_t prefix[16], want[16], buf[2048];
		size_t n, hlen = fam == AF_INET ? 20 : 40, alen = fam == AF_INET ? 4 : 16;
		int s = socket(fam, SOCK_DGRAM, 0);

		ck_assert_int_ge(s, 0);
		pton(fam, cases[i].prefix, prefix);
		ck_assert_int_eq(tunif_route_add(t, fam, prefix, cases[i].prefixlen, 0), 0);
		if (fam == AF_INET) {
			((struct sockaddr_in *)&to)->sin_port = htons(4444);
			pton(fam, cases[i].dst, (uint8_t *)&((struct sockaddr_in *)&to)->sin_addr);
		} else {
			((struct sockaddr_in6 *)&to)->sin6_port = htons(4444);
			pton(fam, cases[i].dst,
			     (uint8_t *)&((struct sockaddr_in6 *)&to)->sin6_addr);
		}
		ck_assert_msg(sendto(s, "through", 7, 0, (struct sockaddr *)&to, tolen) == 7,
			      "case %zu: sendto: %s", i, strerror(errno));
		n = tun_read_udp(fd, buf, sizeof(buf), 4444);
		ck_assert_msg(n == hlen + 8 + 7, "case %zu: read %zu bytes", i, n);
		ck_assert_int_eq(buf[0] >> 4, fam == AF_INET ? 4 : 6);
		pton(fam, cases[i].dst, want);
		ck_assert_mem_eq(buf + (fam == AF_INET ? 16 : 24), want, alen);
		pton(fam, cases[i].src, want);
		ck_assert_mem_eq(buf + (fam == AF_INET ? 12 : 8), want, alen);
		ck_assert_mem_eq(buf + hlen + 8, "through", 7);
		close(s);
	}
	tunif_free(t);
	close(fd);
}
END_TEST

START_TEST(tun_fd_write_delivers_packets_to_local_sockets)
{
	static const struct {
		int family;
		const char *local, *peer;
	} cases[] = {
	    {AF_INET, "10.9.0.1", "10.9.0.2"},
	    {AF_INET6, "fd00:9::1", "fd00:9::2"},
	};
	int fd;
	struct tunif *t = tun_with_addresses("kt0", &fd);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fam = cases[i].family, s = socket(fam, SOCK_DGRAM, 0);
		struct sockaddr_storage me = {.ss_family = (sa_family_t)fam}, from;
		socklen_t len =
		    fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		struct pollfd p = {.fd = s, .events = POLLIN};
		uint8_t pkt[128], want[16];
		char got[32];
		size_t n;

		ck_assert_int_ge(s, 0);
		if (fam == AF_INET) {
			((struct sockaddr_in *)&me)->sin_port = htons(5555);
			pton(fam, cases[i].local,
			     (uint8_t *)&((struct sockaddr_in *)&me)->sin_addr);
		} else {
			((struct sockaddr_in6 *)&me)->sin6_port = htons(5555);
			pton(fam, cases[i].local,
			     (uint8_t *)&((struct sockaddr_in6 *)&me)->sin6_addr);
		}
		ck_assert_int_eq(bind(s, (struct sockaddr *)&me, len), 0);
		ck_assert(local_route_appears(fam == AF_INET ? "-4" : "-6", cases[i].local));
		n = udp_packet(fam, pkt, cases[i].peer, cases[i].local, 6666, 5555, "inbound");
		ck_assert_int_eq(write(fd, pkt, n), (ssize_t)n);
		ck_assert_msg(poll(&p, 1, 2000) == 1, "case %zu: nothing arrived", i);
		ck_assert_int_eq(recvfrom(s, got, sizeof(got), 0, (struct sockaddr *)&from, &len),
				 7);
		ck_assert_mem_eq(got, "inbound", 7);
		pton(fam, cases[i].peer, want);
		if (fam == AF_INET)
			ck_assert_mem_eq(&((struct sockaddr_in *)&from)->sin_addr, want, 4);
		else
			ck_assert_mem_eq(&((struct sockaddr_in6 *)&from)->sin6_addr, want, 16);
		close(s);
	}
	tunif_free(t);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;
	SRunner *sr;
	int failed;

	/* Root, and a private network namespace, or skip: nothing here may touch the host. */
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "test_tunif: needs root and network namespaces; skipped\n");
		return 77;
	}
	s = suite_create("tunif");
	tc = tcase_create("tunif");
	tcase_add_checked_fixture(tc, enter_private_netns, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, tun_open_creates_a_nonblocking_tun_device);
	tcase_add_test(tc, tun_open_lets_the_kernel_choose_an_empty_name);
	tcase_add_test(tc, tun_device_vanishes_when_its_last_fd_closes);
	tcase_add_test(tc, tun_open_rejects_bad_and_busy_names);
	tcase_add_test(tc, tun_queue_open_attaches_only_to_multi_queue_tuns);
	tcase_add_test(tc, tun_queues_share_the_flows_routed_to_the_device);
	tcase_add_test(tc, tunif_new_fails_with_enodev_for_a_missing_device);
	tcase_add_test(tc, tunif_sets_mtu_and_link_state);
	tcase_add_test(tc, tunif_addr_add_puts_v4_and_v6_addresses_on_the_device);
	tcase_add_test(tc, tunif_refuses_bad_families_and_prefixes);
	tcase_add_test(tc, tunif_route_add_routes_out_of_the_device_in_main_and_custom_tables);
	tcase_add_test(tc, tunif_route_add_needs_the_device_up);
	tcase_add_test(tc, tunif_route_add_refuses_a_prefix_routed_through_another_device);
	tcase_add_test(tc, tunif_route_del_leaves_the_kernel_prefix_route);
	tcase_add_test(tc, tunif_fulltunnel_installs_route_and_rules_like_wg_quick);
	tcase_add_test(tc, tunif_fulltunnel_sends_all_but_marked_traffic_through_the_device);
	tcase_add_test(tc, tunif_cleanup_removes_routes_rules_and_addresses_and_is_idempotent);
	tcase_add_test(tc, tunif_cleanup_removes_the_rules_after_the_device_is_gone);
	tcase_add_test(tc, tunif_cleanup_skips_what_was_deleted_since);
	tcase_add_test(tc, tunif_readds_after_a_crash_and_cleans_up_the_leftovers);
	tcase_add_test(tc, tun_fd_reads_the_packets_routed_to_the_device);
	tcase_add_test(tc, tun_fd_write_delivers_packets_to_local_sockets);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
