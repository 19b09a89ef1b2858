/* rtnetlink through libnl-3: link state, addresses, routes and policy rules of one device.
 *
 * Links and addresses go through libnl-route's objects. Routes and rules are built by hand:
 * libnl's rule object has neither the invert flag nor suppress_prefixlength, and a route
 * delete needs the kernel's wildcards (scope nowhere) that libnl's route object fills in.
 * Every request waits for the kernel's answer; its errno is caught by an error callback, so
 * callers get the kernel's own code rather than libnl's coarser one. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "tunif/tunif.h"

/* Metric of our routes: what ip(8) gives when none is named. */
#define NETLINK_METRIC_V4 0
#define NETLINK_METRIC_V6 1024

enum netlink_kind {
	NETLINK_ITEM_ADDR,
	NETLINK_ITEM_ROUTE,
	NETLINK_ITEM_FULLTUNNEL,
};

/* One thing the object added, kept to undo it in tunif_cleanup(). */
struct netlink_item {
	enum netlink_kind kind;
	int family;
	uint8_t addr[16]; /* address or route destination */
	unsigned prefixlen;
	uint32_t table;	 /* routes and full tunnel, normalised (main is 254) */
	uint32_t fwmark; /* full tunnel */
};

struct tunif {
	struct nl_sock *sk;
	int ifindex;
	int kernel_err; /* -errno of the kernel's answer to the last request, 0 if none */
	struct netlink_item *items;
	size_t n_items;
	size_t cap_items;
};

/* What a route dump found at the place of one route. */
struct netlink_route_query {
	int family;
	const uint8_t *dst;
	unsigned prefixlen;
	uint32_t table;
	uint32_t metric;
	int ifindex;
	bool ours;  /* a route through our device, no gateway */
	bool other; /* anything else with the same key */
};

/* errno for a libnl code when the kernel gave none (socket errors, parsing, memory). */
static int netlink_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
	case NLE_MISSING_ATTR:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
	case NLE_DUMP_INTR:
		return -EINTR;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_MSGSIZE:
	case NLE_MSG_TOOSHORT:
	case NLE_MSG_TRUNC:
		return -EMSGSIZE;
	case NLE_MSG_OVERFLOW:
		return -ENOBUFS;
	case NLE_SEQ_MISMATCH:
	case NLE_MSGTYPE_NOSUPPORT:
	case NLE_PROTO_MISMATCH:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* Records the kernel's errno of an NLMSG_ERROR before libnl folds it into its own code. */
static int netlink_on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct tunif *t = arg;

	t->kernel_err = e->error < 0 ? e->error : -e->error;
	return NL_STOP;
}

/* 0 for a libnl result >= 0, else the kernel's errno if it gave one, else a mapped one. */
static int netlink_result(const struct tunif *t, int nlerr)
{
	if (nlerr >= 0)
		return 0;
	if (t->kernel_err != 0)
		return t->kernel_err;
	return netlink_errno(nlerr);
}

/* Sends `msg` (freed here) and waits for the kernel's answer. */
static int netlink_send(struct tunif *t, struct nl_msg *msg)
{
	t->kernel_err = 0;
	return netlink_result(t, nl_send_sync(t->sk, msg));
}

/* Bytes of an address of `family`, or -EAFNOSUPPORT. */
static int netlink_addr_len(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return -EAFNOSUPPORT;
}

/* Checks family and prefix length; returns the address length or -errno. */
static int netlink_check_prefix(int family, const uint8_t *addr, unsigned prefixlen)
{
	int len = netlink_addr_len(family);

	if (len < 0)
		return len;
	if (addr == NULL || prefixlen > (unsigned)len * 8)
		return -EINVAL;
	return len;
}

/* True when every bit of `addr` after the first `prefixlen` is zero. */
static bool netlink_host_bits_zero(const uint8_t *addr, int len, unsigned prefixlen)
{
	for (int i = 0; i < len; i++) {
		unsigned bit = (unsigned)i * 8;
		uint8_t mask;

		if (bit + 8 <= prefixlen)
			continue;
		mask = bit >= prefixlen ? 0xff : (uint8_t)(0xff >> (prefixlen - bit));
		if (addr[i] & mask)
			return false;
	}
	return true;
}

static uint32_t netlink_table(uint32_t table)
{
	return table == 0 ? RT_TABLE_MAIN : table;
}

static bool netlink_item_eq(const struct netlink_item *a, const struct netlink_item *b)
{
	return a->kind == b->kind && a->family == b->family &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0 && a->prefixlen == b->prefixlen &&
	       a->table == b->table && a->fwmark == b->fwmark;
}

/* Makes room for one more item before the kernel is asked, so success is always recorded. */
static int netlink_log_reserve(struct tunif *t)
{
	struct netlink_item *items;
	size_t cap;

	if (t->n_items < t->cap_items)
		return 0;
	cap = t->cap_items ? t->cap_items * 2 : 8;
	items = realloc(t->items, cap * sizeof(*items));
	if (items == NULL)
		return -ENOMEM;
	t->items = items;
	t->cap_items = cap;
	return 0;
}

static void netlink_log_add(struct tunif *t, const struct netlink_item *it)
{
	for (size_t i = 0; i < t->n_items; i++)
		if (netlink_item_eq(&t->items[i], it))
			return;
	t->items[t->n_items++] = *it;
}

static void netlink_log_remove(struct tunif *t, const struct netlink_item *it)
{
	for (size_t i = 0; i < t->n_items; i++) {
		if (!netlink_item_eq(&t->items[i], it))
			continue;
		memmove(&t->items[i], &t->items[i + 1], (t->n_items - i - 1) * sizeof(*it));
		t->n_items--;
		return;
	}
}

/* Fills an item; `addr` may be NULL (all zero). */
static void netlink_item_init(struct netlink_item *it, enum netlink_kind kind, int family,
			      const uint8_t *addr, unsigned prefixlen, uint32_t table,
			      uint32_t fwmark)
{
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->family = family;
	if (addr != NULL)
		memcpy(it->addr, addr, (size_t)netlink_addr_len(family));
	it->prefixlen = prefixlen;
	it->table = table;
	it->fwmark = fwmark;
}

struct tunif *tunif_new(const char *ifname, int *err)
{
	struct tunif *t;
	struct rtnl_link *link = NULL;
	int rc;

	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	t->sk = nl_socket_alloc();
	if (t->sk == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = nl_connect(t->sk, NETLINK_ROUTE);
	if (rc < 0) {
		rc = netlink_errno(rc);
		goto fail;
	}
	if (fcntl(nl_socket_get_fd(t->sk), F_SETFD, FD_CLOEXEC) < 0) {
		rc = -errno;
		goto fail;
	}
	nl_socket_enable_msg_peek(t->sk);
	rc = nl_socket_modify_err_cb(t->sk, NL_CB_CUSTOM, netlink_on_error, t);
	if (rc < 0) {
		rc = netlink_errno(rc);
		goto fail;
	}
	t->kernel_err = 0;
	rc = rtnl_link_get_kernel(t->sk, 0, ifname, &link);
	if (rc < 0) {
		rc = netlink_result(t, rc);
		goto fail;
	}
	t->ifindex = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	if (t->ifindex <= 0) {
		rc = -ENODEV;
		goto fail;
	}
	return t;
fail:
	tunif_free(t);
	*err = rc;
	return NULL;
}

void tunif_free(struct tunif *t)
{
	if (t == NULL)
		return;
	nl_socket_free(t->sk);
	free(t->items);
	free(t);
}

int tunif_ifindex(const struct tunif *t)
{
	return t->ifindex;
}

/* Applies the attributes set in `change` to our link. */
static int netlink_link_change(struct tunif *t, struct rtnl_link *change)
{
	struct rtnl_link *orig = rtnl_link_alloc();
	int rc;

	if (orig == NULL)
		return -ENOMEM;
	rtnl_link_set_ifindex(orig, t->ifindex);
	t->kernel_err = 0;
	rc = netlink_result(t, rtnl_link_change(t->sk, orig, change, 0));
	rtnl_link_put(orig);
	return rc;
}

int tunif_set_mtu(struct tunif *t, unsigned mtu_bytes)
{
	struct rtnl_link *change = rtnl_link_alloc();
	int rc;

	if (change == NULL)
		return -ENOMEM;
	rtnl_link_set_mtu(change, mtu_bytes);
	rc = netlink_link_change(t, change);
	rtnl_link_put(change);
	return rc;
}

int tunif_set_up(struct tunif *t, bool up)
{
	struct rtnl_link *change = rtnl_link_alloc();
	int rc;

	if (change == NULL)
		return -ENOMEM;
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	else
		rtnl_link_unset_flags(change, IFF_UP);
	rc = netlink_link_change(t, change);
	rtnl_link_put(change);
	return rc;
}

/* Adds (`add`) or deletes one address of the device. */
static int netlink_addr(struct tunif *t, bool add, int family, const uint8_t *addr,
			unsigned prefixlen)
{
	struct nl_addr *local;
	struct rtnl_addr *a;
	int len = netlink_check_prefix(family, addr, prefixlen);
	int rc;

	if (len < 0)
		return len;
	local = nl_addr_build(family, addr, (size_t)len);
	a = rtnl_addr_alloc();
	if (local == NULL || a == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	nl_addr_set_prefixlen(local, (int)prefixlen);
	rtnl_addr_set_ifindex(a, t->ifindex);
	rtnl_addr_set_family(a, family);
	rc = rtnl_addr_set_local(a, local);
	if (rc < 0) {
		rc = netlink_errno(rc);
		goto out;
	}
	rtnl_addr_set_prefixlen(a, (int)prefixlen);
	/* Without it the address is tentative until a DAD work item runs (even on a NOARP
	 * device that skips DAD), and a socket binding it meanwhile gets EADDRNOTAVAIL. */
	if (family == AF_INET6)
		rtnl_addr_set_flags(a, IFA_F_NODAD);
	t->kernel_err = 0;
	if (add)
		rc = netlink_result(t, rtnl_addr_add(t->sk, a, 0));
	else
		rc = netlink_result(t, rtnl_addr_delete(t->sk, a, 0));
out:
	rtnl_addr_put(a);
	nl_addr_put(local);
	return rc;
}

int tunif_addr_add(struct tunif *t, int family, const uint8_t *addr, unsigned prefixlen)
{
	struct netlink_item it;
	int rc = netlink_check_prefix(family, addr, prefixlen);

	if (rc < 0)
		return rc;
	rc = netlink_log_reserve(t);
	if (rc < 0)
		return rc;
	rc = netlink_addr(t, true, family, addr, prefixlen);
	if (rc == -EEXIST)
		rc = 0;
	if (rc == 0) {
		netlink_item_init(&it, NETLINK_ITEM_ADDR, family, addr, prefixlen, 0, 0);
		netlink_log_add(t, &it);
	}
	return rc;
}

int tunif_addr_del(struct tunif *t, int family, const uint8_t *addr, unsigned prefixlen)
{
	struct netlink_item it;
	int rc = netlink_addr(t, false, family, addr, prefixlen);

	if (rc == -EADDRNOTAVAIL || rc == -ENODEV)
		rc = 0; /* gone already, or the device went and took it along */
	if (rc == 0) {
		netlink_item_init(&it, NETLINK_ITEM_ADDR, family, addr, prefixlen, 0, 0);
		netlink_log_remove(t, &it);
	}
	return rc;
}

/* Sends RTM_NEWROUTE or RTM_DELROUTE for a route out of our device, no gateway. */
static int netlink_route_msg(struct tunif *t, int cmd, int flags, int family, const uint8_t *dst,
			     unsigned prefixlen, uint32_t table)
{
	struct rtmsg rtm = {
	    .rtm_family = (unsigned char)family,
	    .rtm_dst_len = (unsigned char)prefixlen,
	    .rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC,
	    .rtm_protocol = RTPROT_STATIC,
	    .rtm_type = RTN_UNICAST,
	};
	struct nl_msg *msg;
	uint32_t metric = family == AF_INET6 ? NETLINK_METRIC_V6 : NETLINK_METRIC_V4;

	/* Scope nowhere is the kernel's "any scope" on delete. */
	if (cmd == RTM_DELROUTE)
		rtm.rtm_scope = RT_SCOPE_NOWHERE;
	else
		rtm.rtm_scope = family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	msg = nlmsg_alloc_simple(cmd, flags);
	if (msg == NULL)
		return -ENOMEM;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, RTA_TABLE, table) < 0 ||
	    (prefixlen > 0 && nla_put(msg, RTA_DST, netlink_addr_len(family), dst) < 0) ||
	    nla_put_u32(msg, RTA_OIF, (uint32_t)t->ifindex) < 0 ||
	    nla_put_u32(msg, RTA_PRIORITY, metric) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return netlink_send(t, msg);
}

/* Dump callback: classifies each route with the query's key as ours or another's. */
static int netlink_route_seen(struct nl_msg *msg, void *arg)
{
	struct netlink_route_query *q = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm;
	uint32_t table, metric;
	int len = netlink_addr_len(q->family);

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlmsg_parse(nlh, sizeof(*rtm), tb, RTA_MAX, NULL) < 0)
		return NL_OK;
	rtm = nlmsg_data(nlh);
	table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	metric = tb[RTA_PRIORITY] ? nla_get_u32(tb[RTA_PRIORITY]) : 0;
	if (rtm->rtm_family != q->family || rtm->rtm_dst_len != q->prefixlen || table != q->table ||
	    metric != q->metric)
		return NL_OK;
	if (q->prefixlen > 0 && (tb[RTA_DST] == NULL || nla_len(tb[RTA_DST]) != len ||
				 memcmp(nla_data(tb[RTA_DST]), q->dst, (size_t)len) != 0))
		return NL_OK;
	if (rtm->rtm_type == RTN_UNICAST && tb[RTA_OIF] != NULL &&
	    nla_get_u32(tb[RTA_OIF]) == (uint32_t)q->ifindex && tb[RTA_GATEWAY] == NULL &&
	    tb[RTA_VIA] == NULL && tb[RTA_MULTIPATH] == NULL)
		q->ours = true;
	else
		q->other = true;
	return NL_OK;
}

/* After -EEXIST on add: 0 if the route in the way goes out of our device, else -EEXIST. */
static int netlink_route_check_existing(struct tunif *t, int family, const uint8_t *dst,
					unsigned prefixlen, uint32_t table)
{
	struct netlink_route_query q = {
	    .family = family,
	    .dst = dst,
	    .prefixlen = prefixlen,
	    .table = table,
	    .metric = family == AF_INET6 ? NETLINK_METRIC_V6 : NETLINK_METRIC_V4,
	    .ifindex = t->ifindex,
	};
	struct rtmsg rtm = {.rtm_family = (unsigned char)family};
	struct nl_cb *cb, *clone;
	int rc;

	t->kernel_err = 0;
	rc = nl_send_simple(t->sk, RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof(rtm));
	if (rc < 0)
		return netlink_result(t, rc);
	cb = nl_socket_get_cb(t->sk); /* a reference */
	clone = nl_cb_clone(cb);
	nl_cb_put(cb);
	if (clone == NULL)
		return -ENOMEM;
	cb = clone;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, netlink_route_seen, &q);
	rc = netlink_result(t, nl_recvmsgs(t->sk, cb));
	nl_cb_put(cb);
	if (rc < 0)
		return rc;
	return q.ours && !q.other ? 0 : -EEXIST;
}

/* Adds a route out of our device, or finds it there already. `table` is normalised. */
static int netlink_route_ensure(struct tunif *t, int family, const uint8_t *dst, unsigned prefixlen,
				uint32_t table)
{
	int rc = netlink_route_msg(t, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, family, dst,
				   prefixlen, table);

	if (rc == -EEXIST)
		rc = netlink_route_check_existing(t, family, dst, prefixlen, table);
	return rc;
}

/* Deletes our static route; absent already (or gone with the device) is success. */
static int netlink_route_remove(struct tunif *t, int family, const uint8_t *dst, unsigned prefixlen,
				uint32_t table)
{
	int rc = netlink_route_msg(t, RTM_DELROUTE, 0, family, dst, prefixlen, table);

	if (rc == -ESRCH || rc == -ENOENT || rc == -ENODEV)
		rc = 0;
	return rc;
}

/* Checks a route's arguments and fills the log item it makes; 0 or -errno. */
static int netlink_route_item(struct netlink_item *it, int family, const uint8_t *dst,
			      unsigned prefixlen, uint32_t table)
{
	int len = netlink_check_prefix(family, dst, prefixlen);

	if (len < 0)
		return len;
	if (!netlink_host_bits_zero(dst, len, prefixlen))
		return -EINVAL;
	netlink_item_init(it, NETLINK_ITEM_ROUTE, family, dst, prefixlen, netlink_table(table), 0);
	return 0;
}

int tunif_route_add(struct tunif *t, int family, const uint8_t *dst, unsigned prefixlen,
		    uint32_t table)
{
	struct netlink_item it;
	int rc = netlink_route_item(&it, family, dst, prefixlen, table);

	if (rc == 0)
		rc = netlink_log_reserve(t);
	if (rc == 0)
		rc = netlink_route_ensure(t, family, dst, prefixlen, it.table);
	if (rc == 0)
		netlink_log_add(t, &it);
	return rc;
}

int tunif_route_del(struct tunif *t, int family, const uint8_t *dst, unsigned prefixlen,
		    uint32_t table)
{
	struct netlink_item it;
	int rc = netlink_route_item(&it, family, dst, prefixlen, table);

	if (rc == 0)
		rc = netlink_route_remove(t, family, dst, prefixlen, it.table);
	if (rc == 0)
		netlink_log_remove(t, &it);
	return rc;
}

/* Sends RTM_NEWRULE or RTM_DELRULE: "[not] [fwmark M] lookup TABLE [suppress_prefixlength 0]"
 * at priority `prio`; `fwmark` 0 leaves the mark out. */
static int netlink_rule_msg(struct tunif *t, int cmd, int flags, int family, uint32_t table,
			    uint32_t prio, uint32_t fwmark, bool invert, bool suppress)
{
	struct fib_rule_hdr frh = {
	    .family = (uint8_t)family,
	    .table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC,
	    .action = FR_ACT_TO_TBL,
	    .flags = invert ? FIB_RULE_INVERT : 0,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(cmd, flags);

	if (msg == NULL)
		return -ENOMEM;
	if (nlmsg_append(msg, &frh, sizeof(frh), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, FRA_TABLE, table) < 0 || nla_put_u32(msg, FRA_PRIORITY, prio) < 0 ||
	    (fwmark != 0 && (nla_put_u32(msg, FRA_FWMARK, fwmark) < 0 ||
			     nla_put_u32(msg, FRA_FWMASK, UINT32_MAX) < 0)) ||
	    (suppress && nla_put_u32(msg, FRA_SUPPRESS_PREFIXLEN, 0) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return netlink_send(t, msg);
}

static int netlink_rule_add(struct tunif *t, int family, uint32_t table, uint32_t prio,
			    uint32_t fwmark, bool invert, bool suppress)
{
	int rc = netlink_rule_msg(t, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, family, table, prio,
				  fwmark, invert, suppress);

	/* With NLM_F_EXCL the kernel says EEXIST only for an identical rule. */
	return rc == -EEXIST ? 0 : rc;
}

static int netlink_rule_del(struct tunif *t, int family, uint32_t table, uint32_t prio,
			    uint32_t fwmark, bool invert, bool suppress)
{
	int rc = netlink_rule_msg(t, RTM_DELRULE, 0, family, table, prio, fwmark, invert, suppress);

	return rc == -ENOENT ? 0 : rc;
}

/* Lets IPv4 reverse-path filtering see the tunnel's fwmark, as wg-quick does. */
static int netlink_src_valid_mark(void)
{
	int fd = open("/proc/sys/net/ipv4/conf/all/src_valid_mark", O_WRONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "1\n", 2) != 2)
		rc = errno ? -errno : -EIO;
	close(fd);
	return rc;
}

/* Removes the full tunnel's pieces, newest first; absent pieces are fine. */
static int netlink_fulltunnel_remove(struct tunif *t, int family, uint32_t table, uint32_t fwmark)
{
	static const uint8_t any[16];
	int rc, first = 0;

	rc = netlink_rule_del(t, family, table, TUNIF_RULE_PRIO_FWMARK, fwmark, true, false);
	if (rc < 0)
		first = rc;
	rc = netlink_rule_del(t, family, RT_TABLE_MAIN, TUNIF_RULE_PRIO_SUPPRESS, 0, false, true);
	if (rc < 0 && first == 0)
		first = rc;
	rc = netlink_route_remove(t, family, any, 0, table);
	if (rc < 0 && first == 0)
		first = rc;
	return first;
}

static int netlink_fulltunnel_check(int family, uint32_t table, uint32_t fwmark)
{
	int rc = netlink_addr_len(family);

	if (rc < 0)
		return rc;
	if (table == 0 || (table >= RT_TABLE_COMPAT && table <= RT_TABLE_LOCAL) || fwmark == 0)
		return -EINVAL;
	return 0;
}

int tunif_fulltunnel_add(struct tunif *t, int family, uint32_t table, uint32_t fwmark)
{
	static const uint8_t any[16];
	struct netlink_item it;
	int rc = netlink_fulltunnel_check(family, table, fwmark);

	if (rc < 0)
		return rc;
	rc = netlink_log_reserve(t);
	if (rc < 0)
		return rc;
	if (family == AF_INET) {
		rc = netlink_src_valid_mark();
		if (rc < 0)
			return rc;
	}
	/* Route first, the fwmark rule last: until that rule exists nothing changes. */
	rc = netlink_route_ensure(t, family, any, 0, table);
	if (rc < 0)
		return rc;
	rc = netlink_rule_add(t, family, RT_TABLE_MAIN, TUNIF_RULE_PRIO_SUPPRESS, 0, false, true);
	if (rc < 0)
		goto undo_route;
	rc = netlink_rule_add(t, family, table, TUNIF_RULE_PRIO_FWMARK, fwmark, true, false);
	if (rc < 0)
		goto undo_suppress;
	netlink_item_init(&it, NETLINK_ITEM_FULLTUNNEL, family, NULL, 0, table, fwmark);
	netlink_log_add(t, &it);
	return 0;
undo_suppress:
	netlink_rule_del(t, family, RT_TABLE_MAIN, TUNIF_RULE_PRIO_SUPPRESS, 0, false, true);
undo_route:
	netlink_route_remove(t, family, any, 0, table);
	return rc;
}

int tunif_fulltunnel_del(struct tunif *t, int family, uint32_t table, uint32_t fwmark)
{
	struct netlink_item it;
	int rc = netlink_fulltunnel_check(family, table, fwmark);

	if (rc < 0)
		return rc;
	rc = netlink_fulltunnel_remove(t, family, table, fwmark);
	if (rc == 0) {
		netlink_item_init(&it, NETLINK_ITEM_FULLTUNNEL, family, NULL, 0, table, fwmark);
		netlink_log_remove(t, &it);
	}
	return rc;
}

void tunif_cleanup(struct tunif *t)
{
	while (t->n_items > 0) {
		const struct netlink_item *it = &t->items[--t->n_items];

		switch (it->kind) {
		case NETLINK_ITEM_ADDR:
			netlink_addr(t, false, it->family, it->addr, it->prefixlen);
			break;
		case NETLINK_ITEM_ROUTE:
			netlink_route_remove(t, it->family, it->addr, it->prefixlen, it->table);
			break;
		case NETLINK_ITEM_FULLTUNNEL:
			netlink_fulltunnel_remove(t, it->family, it->table, it->fwmark);
			break;
		}
	}
}
