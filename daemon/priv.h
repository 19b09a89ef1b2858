/* kcpvpnd's privileges: once the TUN, its addresses and routes, the UDP socket and the control
 * socket exist, the daemon runs as the account of User and Group keeping only CAP_NET_ADMIN,
 * which SIGHUP (routes), kcpctl and SIGTERM (routes, full-tunnel rules) still need. See
 * kcpvpnd(8), PRIVILEGES. */
#ifndef DAEMON_PRIV_H
#define DAEMON_PRIV_H

#include <sys/types.h>

struct config;

/* The group the control socket gets: the daemon's when kcpvpnd, started as root, will run as
 * a named account (User, or kcpvpn by default); else (gid_t)-1, the process's own group. */
gid_t priv_socket_gid(const struct config *c);

/* Makes the control socket's directory if it is missing, owned by that same account, so that
 * the daemon can remove its socket at stop. Does nothing otherwise; a failure is left for the
 * socket's bind to report. */
void priv_prepare_socket_dir(const struct config *c);

/* Drops to c->uid and c->gid without supplementary groups, keeping CAP_NET_ADMIN alone
 * (permitted and effective; the bounding set too when kcpvpnd may narrow it), clears ambient
 * capabilities, sets no_new_privs, and checks that all of it took. User = root keeps root;
 * started by another user, only the capabilities are narrowed. Returns 0, or -1 after logging
 * why: the caller undoes the set-up and exits non-zero. */
int priv_drop(const struct config *c);

/* Reads `path` again as SIGHUP will, now unprivileged, and warns when that fails. */
void priv_check_reload(const char *path);

#endif
