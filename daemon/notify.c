/* kcpvpnd: tells systemd (or any sd_notify(3) listener) about start-up, reloads and stops. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "log.h"
#include "notify.h"

/* Sends `msg`; a failure is logged here, since nobody above can do more about it. */
static int notify_send(const char *msg, const char *what)
{
	int rc = sd_notify(0, msg);

	if (rc < 0)
		log_warnx("cannot notify the service manager state=%s error=\"%s\"", what,
			  strerror(-rc));
	return rc;
}

int notify_ready(void)
{
	return notify_send("READY=1", "ready");
}

int notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	/* systemd >= 253 (Type=notify-reload) wants the time the reload began */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	return notify_send(msg, "reloading");
}

int notify_stopping(void)
{
	return notify_send("STOPPING=1", "stopping");
}
