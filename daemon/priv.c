/* kcpvpnd's privilege drop (libcap-ng): which account and capabilities the daemon keeps after
 * set-up, and the check that it did. */
#include <config.h>

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "priv.h"

#define PRIV_CAP_MAX 63 /* capabilities checked: 0..63, the two 32-bit words of the sets */

/* Whether kcpvpnd, started as root, will run as a named account: not root, not the fallback. */
static bool priv_named_account(const struct config *c)
{
	return geteuid() == 0 && c->ids_resolved && c->uid != 0 && !c->user_fallback;
}

gid_t priv_socket_gid(const struct config *c)
{
	return priv_named_account(c) ? c->gid : (gid_t)-1;
}

void priv_prepare_socket_dir(const struct config *c)
{
	char *dir, *slash;

	if (!priv_named_account(c) || c->control_socket == NULL)
		return;
	dir = strdup(c->control_socket);
	if (dir == NULL)
		return;
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		/* only a directory made here changes hands, never one that was there */
		if (mkdir(dir, 0755) == 0 && chown(dir, c->uid, c->gid) != 0)
			log_warn("cannot give the control socket's directory to user=%s dir=%s",
				 c->user, dir);
	}
	free(dir);
}

/* The process runs as uid/gid, keeps CAP_NET_ADMIN alone (also in the bounding set when
 * `bounding`), has no ambient capabilities and no_new_privs. Logs what is wrong. */
static int priv_verify(uid_t uid, gid_t gid, bool no_groups, bool bounding)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) != 0 || ru != uid || eu != uid || su != uid) {
		log_warnx("privilege drop did not take: uid=%u euid=%u suid=%u, want %u",
			  (unsigned)ru, (unsigned)eu, (unsigned)su, (unsigned)uid);
		return -1;
	}
	if (getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid || sg != gid) {
		log_warnx("privilege drop did not take: gid=%u egid=%u sgid=%u, want %u",
			  (unsigned)rg, (unsigned)eg, (unsigned)sg, (unsigned)gid);
		return -1;
	}
	if (no_groups && getgroups(0, NULL) != 0) {
		log_warnx("privilege drop did not take: supplementary groups left");
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_warnx("privilege drop did not take: uid 0 can be had back");
		return -1;
	}
	if (capng_get_caps_process() != 0) {
		log_warnx("privilege drop: cannot read the process's capabilities");
		return -1;
	}
	for (unsigned cap = 0; cap <= PRIV_CAP_MAX; cap++) {
		int want = cap == CAP_NET_ADMIN;
		const char *name = capng_capability_to_name(cap), *set = NULL;
		const char *how = want ? "missing from" : "left in";

		if (capng_have_capability(CAPNG_EFFECTIVE, cap) != want) {
			set = "effective";
		} else if (capng_have_capability(CAPNG_PERMITTED, cap) != want) {
			set = "permitted";
		} else if (bounding && capng_have_capability(CAPNG_BOUNDING_SET, cap) != want) {
			set = "bounding";
		} else if (capng_have_capability(CAPNG_INHERITABLE, cap) != 0) {
			set = "inheritable";
			how = "left in";
		} else if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) {
			set = "ambient";
			how = "left in";
		}
		if (set != NULL) {
			log_warnx("privilege drop did not take: capability %s %s the %s set",
				  name != NULL ? name : "(unnamed)", how, set);
			return -1;
		}
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		log_warnx("privilege drop did not take: no_new_privs is not set");
		return -1;
	}
	return 0;
}

/* Started as root: to c->uid and c->gid with CAP_NET_ADMIN, the bounding set narrowed first
 * (that takes CAP_SETPCAP, which goes with the change of user). */
static int priv_switch(const struct config *c)
{
	int rc;

	/* root whose capabilities were narrowed already (a unit's CapabilityBoundingSet=) */
	if (capng_get_caps_process() != 0 ||
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) != 1 ||
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) != 1 ||
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID) != 1) {
		log_warnx("cannot change to user=%s: root without CAP_SETPCAP, CAP_SETUID and "
			  "CAP_SETGID cannot drop privileges; start kcpvpnd with them, or as that "
			  "user with CAP_NET_ADMIN, or set User = root",
			  c->user);
		return -1;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
			 CAP_NET_ADMIN) != 0) {
		log_warnx("privilege drop: libcap-ng does not know CAP_NET_ADMIN");
		return -1;
	}
	rc = capng_apply(CAPNG_SELECT_BOUNDS);
	if (rc != 0) {
		log_warn("cannot narrow the capability bounding set (libcap-ng error %d)", rc);
		return -1;
	}
	rc = capng_change_id((int)c->uid, (int)c->gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_AMBIENT);
	if (rc != 0) {
		log_warn("cannot change to user=%s uid=%u group=%s gid=%u (libcap-ng error %d)",
			 c->user, (unsigned)c->uid, c->group != NULL ? c->group : "-",
			 (unsigned)c->gid, rc);
		return -1;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
		log_warn("cannot clear the ambient capabilities");
		return -1;
	}
	if (priv_verify(c->uid, c->gid, true, true) < 0)
		return -1;
	log_info("privileges dropped user=%s uid=%u group=%s gid=%u keep=cap_net_admin", c->user,
		 (unsigned)c->uid, c->group != NULL ? c->group : "-", (unsigned)c->gid);
	if (c->user_fallback)
		log_notice("running as %s: there is no %s account (User sets one)", c->user,
			   CONFIG_USER_DEFAULT);
	return 0;
}

/* Started by another user (a systemd unit with User= and AmbientCapabilities=): no change of
 * account is possible, only capabilities go. */
static int priv_narrow(const struct config *c)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	bool setpcap;
	int rc;

	if ((c->user_line != 0 && uid != c->uid) || (c->group_line != 0 && gid != c->gid)) {
		log_warnx("started as uid=%u gid=%u, cannot change to User = %s%s%s: start kcpvpnd "
			  "as root, or leave User and Group out",
			  (unsigned)uid, (unsigned)gid, c->user,
			  c->group_line != 0 ? ", Group = " : "",
			  c->group_line != 0 ? c->group : "");
		return -1;
	}
	if (capng_get_caps_process() != 0) {
		log_warnx("privilege drop: cannot read the process's capabilities");
		return -1;
	}
	setpcap = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) == 1;
	capng_clear(setpcap ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS);
	if (capng_update(CAPNG_ADD,
			 CAPNG_EFFECTIVE | CAPNG_PERMITTED | (setpcap ? CAPNG_BOUNDING_SET : 0),
			 CAP_NET_ADMIN) != 0) {
		log_warnx("privilege drop: libcap-ng does not know CAP_NET_ADMIN");
		return -1;
	}
	rc = capng_apply(setpcap ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS);
	if (rc != 0) {
		log_warn("cannot keep CAP_NET_ADMIN alone (libcap-ng error %d; was kcpvpnd started "
			 "without it?)",
			 rc);
		return -1;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
		log_warn("cannot clear the ambient capabilities");
		return -1;
	}
	if (priv_verify(uid, gid, false, setpcap) < 0)
		return -1;
	log_info("capabilities narrowed uid=%u gid=%u keep=cap_net_admin bounding=%s",
		 (unsigned)uid, (unsigned)gid, setpcap ? "narrowed" : "unchanged");
	return 0;
}

int priv_drop(const struct config *c)
{
	/* the daemon never executes anything: nothing it runs may gain privileges */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_warn("cannot set no_new_privs");
		return -1;
	}
	if (geteuid() != 0)
		return priv_narrow(c);
	if (c->uid == 0) {
		log_notice("running as root, no privileges dropped (User = root)");
		return 0;
	}
	return priv_switch(c);
}

void priv_check_reload(const char *path)
{
	struct config *c = NULL;
	char *errs = NULL, *nl;

	if (config_load(path, &c, &errs) == 0) {
		config_free(c);
		return;
	}
	nl = errs != NULL ? strchr(errs, '\n') : NULL;
	if (nl != NULL)
		*nl = '\0';
	log_warnx("SIGHUP will fail: reading the configuration again as the daemon's user fails "
		  "(%s); it and its KeyFile need to be readable by the daemon's group (chgrp, "
		  "chmod 640)",
		  errs != NULL ? errs : "out of memory");
	free(errs);
}
