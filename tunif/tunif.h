/* tunif: the Linux TUN device of a tunnel, its MTU, addresses, routes and policy rules.
 *
 * tun.c opens the device (ioctl TUNSETIFF on /dev/net/tun); netlink.c changes the kernel's
 * network state through one rtnetlink socket (libnl-3). Nothing here knows about KCP.
 * Functions return 0 (or a file descriptor) on success and -errno on failure, the kernel's own
 * errno where it gave one; they never print. Addresses are raw network-order bytes, 4 for
 * AF_INET and 16 for AF_INET6. Errors worth knowing: -ENODEV (the device is gone),
 * -EEXIST (a conflicting object, not ours, holds the place), -EPERM (no CAP_NET_ADMIN). */
#ifndef TUNIF_TUNIF_H
#define TUNIF_TUNIF_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes of an interface name buffer, NUL included (the kernel's IFNAMSIZ). */
#define TUNIF_NAMESIZ 16

/* Priorities of the two full-tunnel rules: both sit before the "lookup main" rule (32766),
 * the suppressing one first, as wg-quick's do when added to a fresh system. */
#define TUNIF_RULE_PRIO_SUPPRESS 32764
#define TUNIF_RULE_PRIO_FWMARK	 32765

/* Creates (or attaches to) TUN `name` ("" lets the kernel choose tunN) with IFF_TUN|IFF_NO_PI,
 * plus IFF_MULTI_QUEUE if asked; the fd is non-blocking and close-on-exec, and each read or
 * write is one bare IP packet. Writes the actual name to `ifname`. Returns the fd, -EBUSY when
 * a single-queue TUN of that name is already open, -EEXIST when the name belongs to a device
 * that is not a TUN of the same queue mode, -EINVAL or -ENAMETOOLONG for a bad name. */
int tun_open(const char *name, bool multi_queue, char ifname[TUNIF_NAMESIZ]);

/* Opens one more queue of the multi-queue TUN `ifname` (one per worker); the kernel spreads
 * flows over the open queues. Returns the fd (non-blocking, close-on-exec), -ENODEV if no
 * device has that name (none is created), -EEXIST if it is not a multi-queue TUN. */
int tun_queue_open(const char *ifname);

struct tunif; /* one rtnetlink socket, the cached ifindex of one device, what it added */

/* Binds to the existing device `ifname` (any kind; usually the TUN from tun_open()).
 * Free with tunif_free(). Returns NULL and sets *err to -ENODEV, -ENOMEM, ... on failure. */
struct tunif *tunif_new(const char *ifname, int *err);

/* Frees `t` and closes its socket; NULL is a no-op. Leaves the kernel state as it is: call
 * tunif_cleanup() first to remove what `t` added. */
void tunif_free(struct tunif *t);

/* Interface index the object was bound to at tunif_new(). */
int tunif_ifindex(const struct tunif *t);

/* Sets the device MTU in bytes. Returns 0, or -EINVAL when the device refuses the value
 * (a TUN takes 68..65535; IPv6 leaves a device below 1280). */
int tunif_set_mtu(struct tunif *t, unsigned mtu_bytes);

/* Sets the device administratively up or down. Returns 0 or -errno. */
int tunif_set_up(struct tunif *t, bool up);

/* Adds address `addr`/`prefixlen` of `family` to the device (the kernel then adds the prefix
 * route); an IPv6 one skips duplicate address detection, so it is usable at once. Already
 * present is success. -EAFNOSUPPORT for another family, -EINVAL for a prefix too long. */
int tunif_addr_add(struct tunif *t, int family, const uint8_t *addr, unsigned prefixlen);

/* Removes an address added to the device; absent already is success. */
int tunif_addr_del(struct tunif *t, int family, const uint8_t *addr, unsigned prefixlen);

/* Routes `dst`/`prefixlen` out of this device (no gateway) in routing table `table` (0 = main),
 * protocol static, metric 0 (IPv4) or 1024 (IPv6). The device must be up (-ENETDOWN), and
 * the kernel drops its routes when it goes down. A route already there through this device
 * is success (a restart after a crash, or the kernel's prefix route of an address); one
 * through another device is -EEXIST. Host bits beyond the prefix are -EINVAL. */
int tunif_route_add(struct tunif *t, int family, const uint8_t *dst, unsigned prefixlen,
		    uint32_t table);

/* Removes a route added with tunif_route_add(); absent already is success. Never removes the
 * kernel's own prefix routes (their protocol is not static). */
int tunif_route_del(struct tunif *t, int family, const uint8_t *dst, unsigned prefixlen,
		    uint32_t table);

/* Full tunnel for one family, as wg-quick does it: route 0/0 (or ::/0) via this device in
 * `table`, and the rules "lookup main suppress_prefixlength 0" (priority 32764) and
 * "not fwmark `fwmark` lookup `table`" (32765), so everything but the tunnel's own marked UDP
 * leaves through the device while more specific routes of main still apply. For AF_INET it
 * also sets net.ipv4.conf.all.src_valid_mark=1 (left set by cleanup, as wg-quick leaves it).
 * Present already is success. `table` 0 or 252..255 and `fwmark` 0 are -EINVAL. */
int tunif_fulltunnel_add(struct tunif *t, int family, uint32_t table, uint32_t fwmark);

/* Removes the rules and the route of tunif_fulltunnel_add(); absent already is success. */
int tunif_fulltunnel_del(struct tunif *t, int family, uint32_t table, uint32_t fwmark);

/* Removes what this object added and did not delete since, newest first (so the full-tunnel
 * rules go before the routes they point to, routes before addresses). Best effort: keeps going
 * past errors. Idempotent. The TUN itself goes away when its last fd closes. */
void tunif_cleanup(struct tunif *t);

#endif
