/* TUN device: create or attach with TUNSETIFF, one fd per queue. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "tunif/tunif.h"

_Static_assert(TUNIF_NAMESIZ == IFNAMSIZ, "TUNIF_NAMESIZ is the kernel's IFNAMSIZ");

/* Opens /dev/net/tun and binds it to `name` with `flags`; fills `ifname` if not NULL. */
static int tun_attach(const char *name, short flags, char *ifname)
{
	struct ifreq ifr;
	size_t len = strlen(name);
	int fd;

	if (len >= IFNAMSIZ)
		return -ENAMETOOLONG;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, len);
	ifr.ifr_flags = flags;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;

		close(fd);
		/* The kernel says EINVAL both for a bad name and for a device of that name that
		 * is not a TUN of the same queue mode; the second deserves its own code. */
		if (err == -EINVAL && len > 0 && if_nametoindex(name) != 0)
			err = -EEXIST;
		return err;
	}
	if (ifname != NULL) {
		memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
		ifname[IFNAMSIZ - 1] = '\0';
	}
	return fd;
}

int tun_open(const char *name, bool multi_queue, char ifname[TUNIF_NAMESIZ])
{
	short flags = IFF_TUN | IFF_NO_PI;

	if (multi_queue)
		flags |= IFF_MULTI_QUEUE;
	return tun_attach(name, flags, ifname);
}

int tun_queue_open(const char *ifname)
{
	/* TUNSETIFF would create a fresh device under a free name: attach only. */
	if (ifname[0] == '\0')
		return -EINVAL;
	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	if (if_nametoindex(ifname) == 0)
		return -ENODEV;
	return tun_attach(ifname, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
}
