/* kcpvpnd: start-up, signals and shutdown. */
#include <config.h>

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "priv.h"
#include "tunif/tunif.h"
#include "kcpcore/error.h"

_Static_assert((int)CONFIG_LOG_ERROR == (int)LOG_LEVEL_ERROR &&
		       (int)CONFIG_LOG_DEBUG == (int)LOG_LEVEL_DEBUG,
	       "config and log levels share one order");

#define KCPVPND_TABLE_DEFAULT 51820 /* routing table for full-tunnel routes (Table = auto) */

static void usage(FILE *f)
{
	fprintf(f, "usage: kcpvpnd -c FILE [-f] [-v] [-d LEVEL]\n"
		   "       kcpvpnd -n -c FILE [-v]\n"
		   "  -c, --config FILE    configuration (kcpvpnd.conf(5)), e.g. /etc/kcpvpnd/kcp0.conf\n"
		   "  -f, --foreground     stay in the foreground and log to stderr\n"
		   "  -n, --check-config   check the configuration, print \"configuration OK\", exit\n"
		   "  -v, --verbose        with -n: print the configuration as understood\n"
		   "  -d, --debug LEVEL    log level: error, warning, notice, info, debug\n"
		   "  -h, --help           this text\n"
		   "  -V, --version        the version\n");
}

static int load_config(const char *path, struct config **cfg)
{
	char *errs = NULL;
	int rc = config_load(path, cfg, &errs);

	if (rc < 0) {
		fputs(errs != NULL ? errs : "kcpvpnd: cannot load the configuration\n", stderr);
		if (errs != NULL && errs[0] != '\0' && errs[strlen(errs) - 1] != '\n')
			fputc('\n', stderr);
		free(errs);
		return rc;
	}
	free(errs);
	return 0;
}

static void route_one(struct daemon *d, int family, const uint8_t *addr, unsigned cidr)
{
	int err;

	if (cidr == 0) {
		err = tunif_fulltunnel_add(d->tif, family, d->table, d->cfg->fwmark);
		if (family == AF_INET)
			d->full_tunnel_v4 = true;
		else
			d->full_tunnel_v6 = true;
	} else {
		err = tunif_route_add(d->tif, family, addr, cidr, d->route_table);
	}
	if (err < 0 && cidr == 0)
		fatalx("cannot set up the full tunnel (table %u, fwmark 0x%x rules, src_valid_mark): %s",
		       d->table, d->cfg->fwmark, strerror(-err));
	if (err < 0)
		fatalx("cannot add route for a peer's AllowedIPs: %s", strerror(-err));
}

static void setup_interface(struct daemon *d, int *tun_fd)
{
	const struct config *c = d->cfg;
	int err = 0;

	*tun_fd = tun_open(c->ifname, false, d->ifname);
	if (*tun_fd < 0)
		fatalx("cannot create TUN %s: %s", c->ifname, strerror(-*tun_fd));
	d->tif = tunif_new(d->ifname, &err);
	if (d->tif == NULL)
		fatalx("cannot open netlink for %s: %s", d->ifname, strerror(-err));
	d->tun_mtu = config_tun_mtu(c);
	err = tunif_set_mtu(d->tif, d->tun_mtu);
	if (err < 0)
		fatalx("cannot set MTU %u on %s: %s", d->tun_mtu, d->ifname, strerror(-err));
	for (size_t i = 0; i < c->naddrs; i++) {
		err = tunif_addr_add(d->tif, c->addrs[i].family, c->addrs[i].addr,
				     c->addrs[i].cidr);
		if (err < 0)
			fatalx("cannot add address to %s: %s", d->ifname, strerror(-err));
	}
	err = tunif_set_up(d->tif, true);
	if (err < 0)
		fatalx("cannot bring %s up: %s", d->ifname, strerror(-err));
	if (c->table == CONFIG_TABLE_OFF)
		return;
	/* auto: peer routes in main, a full tunnel's default route in a table of its own */
	d->route_table = c->table == CONFIG_TABLE_AUTO ? 0 : c->table_id;
	d->table = c->table == CONFIG_TABLE_AUTO ? KCPVPND_TABLE_DEFAULT : c->table_id;
	for (size_t i = 0; i < c->npeers; i++)
		for (size_t j = 0; j < c->peers[i].nallowed; j++)
			route_one(d, c->peers[i].allowed[j].family, c->peers[i].allowed[j].addr,
				  c->peers[i].allowed[j].cidr);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	log_notice("stopping signal=%d", (int)sig);
	event_base_loopbreak(d->base);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	notify_reloading();
	daemon_reload(arg);
	notify_ready();
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
		{"check-config", no_argument, NULL, 'n'}, {"verbose", no_argument, NULL, 'v'},
		{"debug", required_argument, NULL, 'd'},  {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0}};
	struct daemon d = {0};
	struct worker w;
	bool foreground = false, check = false, verbose = false;
	int opt, level = -1, tun_fd, udp_fd, err;

	while ((opt = getopt_long(argc, argv, "c:fnvd:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'd':
			level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "kcpvpnd: -d %s: expected error, warning, notice, "
						"info or debug\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("kcpvpnd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (d.config_path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (load_config(d.config_path, &d.cfg) < 0)
		return 1;
	if (check) {
		if (verbose)
			config_print(d.cfg, stdout);
		printf("configuration OK\n");
		config_free(d.cfg);
		return 0;
	}
	/* enum config_log_level runs error..debug in enum log_level's order */
	log_init("kcpvpnd", foreground, level >= 0 ? (enum log_level)level
						    : (enum log_level)d.cfg->log_level);
	signal(SIGPIPE, SIG_IGN);
	d.base = event_base_new();
	if (d.base == NULL)
		fatalx("cannot create the event loop");
	d.start_ms = daemon_now_ms();
	setup_interface(&d, &tun_fd);
	udp_fd = udp_open(d.cfg->listen ? d.cfg->listen_port : 0, (int)d.cfg->socket_buffer_bytes,
			  (int)d.cfg->dscp, d.cfg->full_tunnel ? d.cfg->fwmark : 0);
	if (udp_fd < 0)
		fatalx("cannot open UDP port %u: %s", d.cfg->listen_port, strerror(-udp_fd));
	err = worker_init(&w, &d, tun_fd, udp_fd);
	if (err < 0)
		fatalx("cannot start: %s", kc_strerror(err));
	d.w = &w;
	priv_prepare_socket_dir(d.cfg);
	err = daemon_control_start(&d);
	if (err < 0)
		fatalx("cannot listen on %s: %s", d.cfg->control_socket, strerror(-err));
	d.ev_sigterm = evsignal_new(d.base, SIGTERM, on_stop, &d);
	d.ev_sigint = evsignal_new(d.base, SIGINT, on_stop, &d);
	d.ev_sighup = evsignal_new(d.base, SIGHUP, on_hup, &d);
	event_add(d.ev_sigterm, NULL);
	event_add(d.ev_sigint, NULL);
	event_add(d.ev_sighup, NULL);
	/* everything that needs root exists: from here on CAP_NET_ADMIN alone (kcpvpnd(8)) */
	if (priv_drop(d.cfg) < 0) {
		d.exit_code = 1;
		goto teardown;
	}
	priv_check_reload(d.config_path);
	if (!foreground && daemon(0, 0) < 0)
		fatal("cannot detach");
	log_notice("started interface=%s mtu=%u udp_port=%u peers=%zu crypt=%s mode=%s",
		   d.ifname, d.tun_mtu, d.cfg->listen ? d.cfg->listen_port : 0, d.cfg->npeers,
		   d.cfg->mode == CONFIG_MODE_SECURE
			   ? config_cipher_name(d.cfg)
			   : crypt_method_name(d.cfg->crypt),
		   d.cfg->mode == CONFIG_MODE_SECURE ? "secure" : "compat");
	notify_ready();
	event_base_dispatch(d.base);
	notify_stopping();

teardown:
	control_free(d.ctl);
	worker_fini(&w);
	tunif_cleanup(d.tif);
	tunif_free(d.tif);
	close(tun_fd);
	close(udp_fd);
	event_free(d.ev_sigterm);
	event_free(d.ev_sigint);
	event_free(d.ev_sighup);
	event_base_free(d.base);
	config_free(d.cfg);
	if (d.exit_code != 0)
		log_warnx("set-up undone, exiting status=%d", d.exit_code);
	else
		log_notice("stopped");
	return d.exit_code;
}
