/* kcpvpnd's service manager notifications (sd_notify(3)): Type=notify units learn when the
 * tunnel is up, when a reload starts and ends, and when the daemon stops. */
#ifndef DAEMON_NOTIFY_H
#define DAEMON_NOTIFY_H

/* Each sends one message to $NOTIFY_SOCKET and returns 1 when it was sent, 0 when there is
 * no service manager to tell ($NOTIFY_SOCKET unset), a negative errno when sending failed
 * (also logged). */

/* "READY=1": start-up, or a reload, has finished. */
int notify_ready(void);
/* "RELOADING=1" with MONOTONIC_USEC: a reload begins; notify_ready() ends it. */
int notify_reloading(void);
/* "STOPPING=1": the daemon is shutting down. */
int notify_stopping(void);

#endif
