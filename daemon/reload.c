/* SIGHUP: read the file again, check all of it, then apply the difference to the running
 * daemon. Peers whose sessions would be built the same way (config_peer_same) keep them
 * untouched; changed peers get new sessions; removed peers go with their routes; new peers
 * come. A file that does not parse, or that changes what only a restart can change, leaves
 * everything as it was. */
#include <stdlib.h>
#include <string.h>

#include "allowedips.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "tunif/tunif.h"

/* What a restart alone can change: the interface, the socket and the shared cipher. */
static const char *reload_needs_restart(const struct config *a, const struct config *b)
{
	if (strcmp(a->ifname, b->ifname) != 0)
		return "Name";
	if (a->mode != b->mode)
		return "Mode";
	if (a->listen != b->listen || a->listen_port != b->listen_port)
		return "ListenPort";
	if (a->crypt != b->crypt)
		return "Crypt";
	if ((a->key == NULL) != (b->key == NULL) || (a->key != NULL && strcmp(a->key, b->key) != 0))
		return "Key";
	if (a->udp_mtu != b->udp_mtu || config_tun_mtu(a) != config_tun_mtu(b))
		return "MTU";
	if (a->naddrs != b->naddrs ||
	    memcmp(a->addrs, b->addrs, a->naddrs * sizeof(*a->addrs)) != 0)
		return "Address";
	if (a->table != b->table || a->table_id != b->table_id || a->fwmark != b->fwmark ||
	    a->full_tunnel != b->full_tunnel)
		return "Table/FwMark";
	if (strcmp(a->control_socket, b->control_socket) != 0)
		return "ControlSocket";
	if (a->uid != b->uid || a->gid != b->gid)
		return "User/Group";
	if (a->has_private_key != b->has_private_key ||
	    memcmp(a->private_key, b->private_key, sizeof(a->private_key)) != 0)
		return "PrivateKey";
	if (a->aead != b->aead)
		return "Cipher";
	if (a->obfuscate != b->obfuscate)
		return "Obfuscate";
	return NULL;
}

static const struct config_peer *find_peer(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->npeers; i++)
		if (strcmp(c->peers[i].name, name) == 0)
			return &c->peers[i];
	return NULL;
}

static bool has_prefix(const struct config_peer *p, const struct config_prefix *x)
{
	for (size_t i = 0; p != NULL && i < p->nallowed; i++)
		if (p->allowed[i].family == x->family && p->allowed[i].cidr == x->cidr &&
		    memcmp(p->allowed[i].addr, x->addr, 16) == 0)
			return true;
	return false;
}

/* Kernel routes: delete what the old peer had and the new one lacks, add the reverse. */
static void reload_routes(struct daemon *d, const struct config_peer *old,
			  const struct config_peer *fresh)
{
	if (d->cfg->table == CONFIG_TABLE_OFF)
		return;
	for (size_t i = 0; old != NULL && i < old->nallowed; i++) {
		const struct config_prefix *x = &old->allowed[i];

		if (x->cidr != 0 && !has_prefix(fresh, x))
			tunif_route_del(d->tif, x->family, x->addr, x->cidr, d->route_table);
	}
	for (size_t i = 0; fresh != NULL && i < fresh->nallowed; i++) {
		const struct config_prefix *x = &fresh->allowed[i];
		int err;

		if (x->cidr == 0 || has_prefix(old, x))
			continue;
		err = tunif_route_add(d->tif, x->family, x->addr, x->cidr, d->route_table);
		if (err < 0)
			log_warnx("reload: cannot add route for peer=%s: %s", fresh->name,
				  strerror(-err));
	}
}

static bool reload_kept(struct peer **peers, size_t n, const struct peer *p)
{
	for (size_t i = 0; peers != NULL && i < n; i++)
		if (peers[i] == p)
			return true;
	return false;
}

/* Secure mode: the new entry of a renewed peer starts where the old one last heard from it
 * and handshakes at once, instead of waiting for the peer to notice (SEC_STALE_MS). */
static void reload_keep_endpoint(struct peer **peers, size_t n, const struct peer *old)
{
	for (size_t i = 0; i < n; i++) {
		struct peer *p = peers[i];

		if (p == old || strcmp(p->name, old->name) != 0 || p->sp == NULL || p->has_addr ||
		    !old->has_addr)
			continue;
		p->addr = old->addr;
		p->has_addr = true;
		sec_peer_set_endpoint(p->sp, &p->addr, sizeof(p->addr));
		sec_peer_want_handshake(p->sp);
	}
}

int daemon_reload(struct daemon *d)
{
	struct worker *w = d->w;
	struct config *fresh = NULL;
	struct allowedips *aips;
	struct peer **peers, **heap;
	unsigned kept = 0, renewed = 0, added = 0, removed = 0;
	const char *why;
	char *errs = NULL;
	uint32_t now = daemon_now_ms();

	if (config_load(d->config_path, &fresh, &errs) < 0) {
		/* the same messages as kcpvpnd -n, one log line each */
		for (char *line = strtok(errs != NULL ? errs : "", "\n"); line != NULL;
		     line = strtok(NULL, "\n"))
			log_warnx("%s", line);
		log_warnx("reload failed, nothing changed file=%s", d->config_path);
		free(errs);
		return -1;
	}
	free(errs);
	why = reload_needs_restart(d->cfg, fresh);
	if (why != NULL) {
		log_warnx("reload refused, nothing changed: %s changed and needs a restart", why);
		config_free(fresh);
		return -1;
	}

	/* Phase 1, nothing touched yet: peers[i] serves fresh->peers[i], either an old peer
	 * whose session is built the same way (kept) or a new object. */
	aips = allowedips_new();
	peers = calloc(fresh->npeers, sizeof(*peers));
	heap = calloc(fresh->npeers + WORKER_ORPHANS, sizeof(*heap));
	if (aips == NULL || peers == NULL || heap == NULL)
		goto fail;
	for (size_t i = 0; i < fresh->npeers; i++)
		for (unsigned j = 0; j < w->npeers && peers[i] == NULL; j++)
			if (strcmp(w->peers[j]->name, fresh->peers[i].name) == 0 &&
			    config_peer_same(d->cfg, w->peers[j]->cfg, fresh, &fresh->peers[i]))
				peers[i] = w->peers[j];
	/* secure mode: the public keys of peers on their way out are free for the new ones */
	for (unsigned j = 0; j < w->npeers; j++)
		if (w->peers[j]->sp != NULL && !reload_kept(peers, fresh->npeers, w->peers[j]))
			sec_peer_unlist(w->peers[j]->sp);
	for (size_t i = 0; i < fresh->npeers; i++) {
		const struct config_peer *np = &fresh->peers[i];

		if (peers[i] == NULL && (peers[i] = peer_new(w, np)) == NULL)
			goto fail;
		for (size_t k = 0; k < np->nallowed; k++)
			if (allowedips_insert(aips, np->allowed[k].family, np->allowed[k].addr,
					      np->allowed[k].cidr, peers[i]) < 0)
				goto fail;
	}

	/* Phase 2, no allocation that can fail: routes, old peers out, swap. */
	for (unsigned j = 0; j < w->npeers; j++) {
		struct peer *p = w->peers[j];
		const struct config_peer *np = find_peer(fresh, p->name);

		reload_routes(d, p->cfg, np);
		if (reload_kept(peers, fresh->npeers, p)) {
			/* A new RateLimit applies to the running session, over kcpctl tune's. */
			if (np->rate_bps != p->cfg->rate_bps) {
				p->tune.rate = false;
				if (p->s != NULL)
					kcp_set_rate(session_kcp(p->s), np->rate_bps);
			}
			p->cfg = np;
			p->keepalive_ms = np->keepalive_s * 1000;
			kept++;
			continue;
		}
		if (np != NULL) {
			log_info("peer changed, new session peer=%s", p->name);
			renewed++;
			reload_keep_endpoint(peers, fresh->npeers, p);
		} else {
			log_info("peer removed peer=%s", p->name);
			removed++;
		}
		peer_free(p);
	}
	for (size_t i = 0; i < fresh->npeers; i++) {
		/* by the old config's names: the old peers renewed or removed are freed by now */
		if (find_peer(d->cfg, fresh->peers[i].name) == NULL) {
			reload_routes(d, NULL, &fresh->peers[i]);
			log_info("peer added peer=%s", fresh->peers[i].name);
			added++;
		}
	}
	allowedips_free(w->aips);
	w->aips = aips;
	free(w->peers);
	w->peers = peers;
	w->npeers = (unsigned)fresh->npeers;
	free(w->heap);
	w->heap = heap;
	w->heap_len = 0;
	for (unsigned i = 0; i < w->npeers; i++)
		peers[i]->heap_idx = -1;
	for (unsigned i = 0; i < WORKER_ORPHANS; i++)
		if (w->orphans[i] != NULL)
			w->orphans[i]->heap_idx = -1;
	config_free(d->cfg);
	d->cfg = fresh;
	for (unsigned i = 0; i < w->npeers; i++)
		worker_schedule(w, peers[i], now);
	for (unsigned i = 0; i < WORKER_ORPHANS; i++)
		if (w->orphans[i] != NULL)
			worker_schedule(w, w->orphans[i], now);
	log_notice("reloaded file=%s peers=%u kept=%u renewed=%u added=%u removed=%u",
		   d->config_path, w->npeers, kept, renewed, added, removed);
	return 0;

fail:
	log_warnx("reload failed, nothing changed: out of memory");
	for (size_t i = 0; peers != NULL && i < fresh->npeers; i++) {
		bool old = false;

		for (unsigned j = 0; j < w->npeers && !old; j++)
			old = w->peers[j] == peers[i];
		if (!old)
			peer_free(peers[i]);
	}
	for (unsigned j = 0; j < w->npeers; j++)
		if (w->peers[j]->sp != NULL && sec_peer_relist(w->peers[j]->sp) < 0)
			log_warnx("peer=%s: its key is taken (a bug)", w->peers[j]->name);
	allowedips_free(aips);
	free(peers);
	free(heap);
	config_free(fresh);
	return -1;
}
