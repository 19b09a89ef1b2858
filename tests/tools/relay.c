/* The relay's event loop: epoll over the listening socket, one connected upstream socket per
 * client, a timerfd armed at the next delivery (or housekeeping) time, and a signalfd. Each
 * direction runs the link model of tests/sim/sim_model.c on CLOCK_MONOTONIC; packets wait in a
 * fixed slab of slots ordered by a sim_heap, so nothing is allocated after start-up. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "relay.h"
#include "sim_heap.h"
#include "sim_model.h"

#define RELAY_BATCH	      64      /* datagrams per recvmmsg/sendmmsg */
#define RELAY_ROUNDS	      16      /* batches read per readiness before others get a turn */
#define RELAY_HOUSEKEEPING_US 1000000 /* how often idle mappings are looked for */
/* epoll tags of the fixed descriptors; a mapping's tag is (generation << 32) | index */
#define RELAY_EV_LISTEN UINT32_MAX
#define RELAY_EV_TIMER	(UINT32_MAX - 1)
#define RELAY_EV_SIGNAL (UINT32_MAX - 2)

enum { RELAY_UP, RELAY_DOWN };

/* One direction: its model, the packets it holds and what went wrong on the way out. */
struct relay_dir {
	const char *name;
	struct sim_model model;
	struct sim_heap heap; /* event tag: mapping tag of the client the packet belongs to */
	uint8_t *slab;	      /* limit_pkts slots of max_size_bytes */
	uint32_t *free_slots;
	uint32_t nfree;
	uint64_t oversize;    /* datagrams longer than max_size_bytes, dropped on arrival */
	uint64_t send_errors; /* deliveries the kernel refused (buffer full, unreachable) */
	uint64_t orphaned;    /* deliveries whose client mapping expired meanwhile */
};

/* A client seen on the listening socket and the upstream socket that speaks for it. */
struct relay_map {
	struct sockaddr_storage client;
	socklen_t client_len;
	int fd;	      /* connected to upstream; -1 while the entry is free */
	uint32_t gen; /* bumped when the entry is freed, so stale tags are noticed */
	uint32_t hash;
	int32_t next; /* hash chain while in use, free list otherwise */
	uint64_t last_us;
};

struct relay {
	const struct relay_config *cfg;
	int ep, lfd, tfd, sfd;
	struct relay_dir dir[2];
	struct relay_map *maps;
	int32_t free_map;
	int32_t *buckets;
	uint32_t nbuckets; /* a power of two */
	unsigned active;
	uint64_t created, expired, refused;
	uint64_t start_us, armed_us, next_house_us, next_stats_us;
	bool stop, warned_upstream;
	uint8_t *rbuf; /* RELAY_BATCH receive buffers of max_size_bytes */
	struct mmsghdr rmsg[RELAY_BATCH];
	struct iovec riov[RELAY_BATCH];
	struct sockaddr_storage raddr[RELAY_BATCH];
	struct mmsghdr smsg[RELAY_BATCH];
	struct iovec siov[RELAY_BATCH];
	struct sim_event sev[RELAY_BATCH];
};

static uint64_t relay_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t relay_tag(uint32_t idx, uint32_t gen)
{
	return (uint64_t)gen << 32 | idx;
}

/* The mapping a tag names, or NULL when it has been freed since the tag was taken. */
static struct relay_map *relay_map_of(struct relay *r, uint64_t tag)
{
	uint32_t idx = (uint32_t)tag;
	struct relay_map *m;

	if (idx >= r->cfg->max_clients)
		return NULL;
	m = &r->maps[idx];
	return m->fd >= 0 && m->gen == (uint32_t)(tag >> 32) ? m : NULL;
}

/* FNV-1a over the bytes that identify a client: address and port. */
static uint32_t relay_hash(const struct sockaddr_storage *ss)
{
	const uint8_t *p;
	size_t n;
	uint32_t h = 2166136261u;
	uint16_t port;

	if (ss->ss_family == AF_INET6) {
		p = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		n = 16;
		port = ((const struct sockaddr_in6 *)ss)->sin6_port;
	} else {
		p = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
		n = 4;
		port = ((const struct sockaddr_in *)ss)->sin_port;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	return (h ^ (port >> 8)) * 16777619u;
}

static bool relay_same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

	return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

static void relay_sockbuf(const struct relay *r, int fd)
{
	int n = (int)r->cfg->sockbuf_bytes;

	if (n > 0) {
		/* best effort: the kernel caps both at net.core.[rw]mem_max */
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n));
	}
}

/* A new socket connected to upstream, registered with epoll under `tag`; -errno on failure. */
static int relay_upstream_socket(struct relay *r, uint64_t tag)
{
	const struct relay_config *cfg = r->cfg;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
	int fd = socket(cfg->upstream.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -errno;
	relay_sockbuf(r, fd);
	if (connect(fd, (const struct sockaddr *)&cfg->upstream, cfg->upstream_len) < 0 ||
	    epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Index of the mapping of client `ss`, made on first sight; -1 when refused (table full or no
 * upstream socket). */
static int32_t relay_map_get(struct relay *r, const struct sockaddr_storage *ss, socklen_t len)
{
	uint32_t h = relay_hash(ss);
	int32_t *head = &r->buckets[h & (r->nbuckets - 1)];
	struct relay_map *m;
	int32_t i;
	int fd;

	for (i = *head; i >= 0; i = r->maps[i].next)
		if (r->maps[i].hash == h && relay_same_client(&r->maps[i].client, ss))
			return i;
	i = r->free_map;
	if (i < 0) {
		r->refused++;
		return -1;
	}
	m = &r->maps[i];
	fd = relay_upstream_socket(r, relay_tag((uint32_t)i, m->gen));
	if (fd < 0) {
		if (!r->warned_upstream)
			fprintf(stderr, "kcpimpair: no upstream socket for a new client: %s\n",
				strerror(-fd));
		r->warned_upstream = true;
		r->refused++;
		return -1;
	}
	r->free_map = m->next;
	m->fd = fd;
	m->client = *ss;
	m->client_len = len;
	m->hash = h;
	m->next = *head;
	*head = i;
	r->active++;
	r->created++;
	return i;
}

static void relay_map_free(struct relay *r, int32_t i)
{
	struct relay_map *m = &r->maps[i];
	int32_t *p = &r->buckets[m->hash & (r->nbuckets - 1)];

	while (*p != i)
		p = &r->maps[*p].next;
	*p = m->next;
	close(m->fd); /* also leaves the epoll set */
	m->fd = -1;
	m->gen++;
	m->next = r->free_map;
	r->free_map = i;
	r->active--;
	r->expired++;
}

/* Closes the mappings idle for longer than the timeout. */
static void relay_expire(struct relay *r, uint64_t now_us)
{
	uint64_t idle_us = (uint64_t)r->cfg->idle_timeout_s * 1000000;

	for (uint32_t i = 0; i < r->cfg->max_clients; i++)
		if (r->maps[i].fd >= 0 && now_us - r->maps[i].last_us > idle_us)
			relay_map_free(r, (int32_t)i);
}

/* Hands a received datagram to direction `d`: the model decides, the copies wait in slots. */
static void relay_offer(struct relay_dir *d, size_t slot_bytes, uint64_t now_us, const void *buf,
			size_t len, uint64_t tag)
{
	uint64_t due_us[2];
	unsigned copies;

	if (d->nfree == 0) {
		/* every slot is taken: the same fate as a full queue */
		d->model.stats.sent++;
		d->model.stats.queue_dropped++;
		return;
	}
	copies = sim_model_offer(&d->model, now_us, len, due_us);
	if (copies == 2 && d->nfree < 2) {
		copies = 1;
		d->model.stats.duplicated--;
	}
	for (unsigned i = 0; i < copies; i++) {
		uint8_t *p = d->slab + (size_t)d->free_slots[--d->nfree] * slot_bytes;

		memcpy(p, buf, len);
		/* cannot fail: the heap was reserved for every slot */
		(void)sim_heap_push(&d->heap, due_us[i], p, (uint32_t)len, tag);
	}
}

/* Receives up to RELAY_BATCH datagrams from fd into rbuf; returns the count, or -1. */
static int relay_recv_batch(struct relay *r, int fd, bool names)
{
	int n;

	for (int i = 0; i < RELAY_BATCH; i++) {
		struct msghdr *h = &r->rmsg[i].msg_hdr;

		h->msg_name = names ? &r->raddr[i] : NULL;
		h->msg_namelen = names ? sizeof(r->raddr[i]) : 0;
		h->msg_flags = 0;
	}
	do
		n = recvmmsg(fd, r->rmsg, RELAY_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Datagrams from clients, on the listening socket: up direction. */
static void relay_recv_clients(struct relay *r)
{
	struct relay_dir *d = &r->dir[RELAY_UP];

	for (int round = 0; round < RELAY_ROUNDS; round++) {
		int n = relay_recv_batch(r, r->lfd, true);
		uint64_t now_us = relay_now_us();

		for (int i = 0; i < n; i++) {
			struct msghdr *h = &r->rmsg[i].msg_hdr;
			int32_t idx;

			if (h->msg_flags & MSG_TRUNC) {
				d->oversize++;
				continue;
			}
			idx = relay_map_get(r, &r->raddr[i], h->msg_namelen);
			if (idx < 0)
				continue;
			r->maps[idx].last_us = now_us;
			relay_offer(d, r->cfg->max_size_bytes, now_us, h->msg_iov->iov_base,
				    r->rmsg[i].msg_len, relay_tag((uint32_t)idx, r->maps[idx].gen));
		}
		if (n < RELAY_BATCH)
			return;
	}
}

/* Datagrams from upstream on a client's socket: down direction. */
static void relay_recv_upstream(struct relay *r, uint64_t tag)
{
	struct relay_dir *d = &r->dir[RELAY_DOWN];
	struct relay_map *m = relay_map_of(r, tag);

	if (m == NULL)
		return; /* the mapping went away earlier in this round of events */
	for (int round = 0; round < RELAY_ROUNDS; round++) {
		int n = relay_recv_batch(r, m->fd, false);
		uint64_t now_us = relay_now_us();

		for (int i = 0; i < n; i++) {
			struct msghdr *h = &r->rmsg[i].msg_hdr;

			if (h->msg_flags & MSG_TRUNC) {
				d->oversize++;
				continue;
			}
			m->last_us = now_us;
			relay_offer(d, r->cfg->max_size_bytes, now_us, h->msg_iov->iov_base,
				    r->rmsg[i].msg_len, tag);
		}
		/* n < 0 also covers ECONNREFUSED: an ICMP error about an earlier send */
		if (n < RELAY_BATCH)
			return;
	}
}

/* Sends msgs[0..count) on fd, counting each datagram as forwarded or as a send error. */
static void relay_send(struct relay_dir *d, int fd, struct mmsghdr *msgs, int count)
{
	int off = 0;

	while (off < count) {
		int n = sendmmsg(fd, msgs + off, (unsigned)(count - off), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == ENOBUFS) {
				d->send_errors += (uint64_t)(count - off);
				return;
			}
			/* this one datagram is refused (unreachable, too big): skip it */
			d->send_errors++;
			off++;
			continue;
		}
		for (int i = off; i < off + n; i++) {
			d->model.stats.delivered++;
			d->model.stats.bytes_delivered += msgs[i].msg_hdr.msg_iov->iov_len;
		}
		off += n;
	}
}

/* Sends sev[0..n) of direction `which`, grouping the up direction by client socket. */
static void relay_send_events(struct relay *r, int which, int n)
{
	struct relay_dir *d = &r->dir[which];
	int fd = -1, count = 0;

	for (int i = 0; i <= n; i++) {
		struct relay_map *m = i < n ? relay_map_of(r, r->sev[i].tag) : NULL;
		struct msghdr *h;

		if (i < n && m == NULL) {
			d->orphaned++;
			continue;
		}
		/* the up direction sends on the client's own socket: flush when it changes */
		if (count && (i == n || (which == RELAY_UP && m->fd != fd))) {
			relay_send(d, fd, r->smsg, count);
			count = 0;
		}
		if (i == n)
			break;
		fd = which == RELAY_UP ? m->fd : r->lfd;
		r->siov[count].iov_base = r->sev[i].ptr;
		r->siov[count].iov_len = r->sev[i].len;
		h = &r->smsg[count].msg_hdr;
		memset(h, 0, sizeof(*h));
		h->msg_iov = &r->siov[count];
		h->msg_iovlen = 1;
		if (which == RELAY_DOWN) {
			h->msg_name = &m->client;
			h->msg_namelen = m->client_len;
		}
		count++;
	}
}

/* Sends every packet of direction `which` that is due at now_us, a batch at a time. */
static void relay_deliver(struct relay *r, int which, uint64_t now_us)
{
	struct relay_dir *d = &r->dir[which];
	size_t slot_bytes = r->cfg->max_size_bytes;

	for (;;) {
		const struct sim_event *top = sim_heap_top(&d->heap);
		int n = 0;

		while (n < RELAY_BATCH && top != NULL && top->due_us <= now_us) {
			sim_heap_pop(&d->heap, &r->sev[n++]);
			top = sim_heap_top(&d->heap);
		}
		if (n == 0)
			return;
		relay_send_events(r, which, n);
		for (int i = 0; i < n; i++)
			d->free_slots[d->nfree++] =
			    (uint32_t)(((uint8_t *)r->sev[i].ptr - d->slab) / slot_bytes);
	}
}

static void relay_print_stats(const struct relay *r, const char *when, uint64_t now_us)
{
	fprintf(stderr, "kcpimpair: counters %s after %.1f s\n", when,
		(double)(now_us - r->start_us) / 1e6);
	for (int i = 0; i < 2; i++) {
		const struct relay_dir *d = &r->dir[i];
		const struct sim_stats *st = &d->model.stats;

		fprintf(stderr,
			"kcpimpair: %s received=%llu forwarded=%llu lost=%llu queue_dropped=%llu "
			"duplicated=%llu reordered=%llu oversize=%llu send_errors=%llu "
			"orphaned=%llu queued=%zu\n",
			d->name, (unsigned long long)st->sent, (unsigned long long)st->delivered,
			(unsigned long long)st->lost, (unsigned long long)st->queue_dropped,
			(unsigned long long)st->duplicated, (unsigned long long)st->reordered,
			(unsigned long long)d->oversize, (unsigned long long)d->send_errors,
			(unsigned long long)d->orphaned, d->heap.n);
	}
	fprintf(stderr, "kcpimpair: clients active=%u created=%llu expired=%llu refused=%llu\n",
		r->active, (unsigned long long)r->created, (unsigned long long)r->expired,
		(unsigned long long)r->refused);
	fflush(stderr);
}

/* Arms the timer at the earliest delivery, housekeeping or statistics time. */
static void relay_arm(struct relay *r)
{
	uint64_t t = r->next_house_us;
	struct itimerspec its = {{0, 0}, {0, 0}};

	for (int i = 0; i < 2; i++) {
		const struct sim_event *e = sim_heap_top(&r->dir[i].heap);

		if (e != NULL && e->due_us < t)
			t = e->due_us;
	}
	if (r->next_stats_us < t)
		t = r->next_stats_us;
	if (t == r->armed_us)
		return;
	its.it_value.tv_sec = (time_t)(t / 1000000);
	its.it_value.tv_nsec = (long)(t % 1000000) * 1000;
	if (timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		r->armed_us = t;
}

static void relay_signal(struct relay *r)
{
	struct signalfd_siginfo si;

	while (read(r->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			relay_print_stats(r, "on SIGUSR1", relay_now_us());
		else
			r->stop = true;
	}
}

/* Runs timed work that is due: deliveries, idle expiry, periodic counters. */
static void relay_tick(struct relay *r)
{
	uint64_t now_us = relay_now_us();

	relay_deliver(r, RELAY_UP, now_us);
	relay_deliver(r, RELAY_DOWN, now_us);
	if (now_us >= r->next_house_us) {
		relay_expire(r, now_us);
		r->next_house_us = now_us + RELAY_HOUSEKEEPING_US;
	}
	if (now_us >= r->next_stats_us) {
		relay_print_stats(r, "periodic", now_us);
		r->next_stats_us += (uint64_t)r->cfg->stats_interval_s * 1000000;
		if (r->next_stats_us <= now_us)
			r->next_stats_us = now_us + (uint64_t)r->cfg->stats_interval_s * 1000000;
	}
}

static int relay_loop(struct relay *r)
{
	struct epoll_event evs[64];

	while (!r->stop) {
		int n;

		relay_arm(r);
		n = epoll_wait(r->ep, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "kcpimpair: epoll_wait: %s\n", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			uint64_t expirations;

			if ((uint32_t)tag == RELAY_EV_LISTEN)
				relay_recv_clients(r);
			else if ((uint32_t)tag == RELAY_EV_TIMER)
				(void)!read(r->tfd, &expirations, sizeof(expirations));
			else if ((uint32_t)tag == RELAY_EV_SIGNAL)
				relay_signal(r);
			else
				relay_recv_upstream(r, tag);
		}
		relay_tick(r);
	}
	return 0;
}

static int relay_dir_init(struct relay_dir *d, const char *name, const struct relay_config *cfg,
			  const struct sim_impair *im, uint64_t seed)
{
	d->name = name;
	sim_model_init(&d->model, im, seed);
	sim_heap_init(&d->heap);
	d->slab = malloc((size_t)cfg->limit_pkts * cfg->max_size_bytes);
	d->free_slots = malloc((size_t)cfg->limit_pkts * sizeof(*d->free_slots));
	if (d->slab == NULL || d->free_slots == NULL || sim_heap_reserve(&d->heap, cfg->limit_pkts))
		return -ENOMEM;
	/* lowest slots on top: a light load keeps touching the same few pages */
	for (uint32_t i = 0; i < cfg->limit_pkts; i++)
		d->free_slots[i] = cfg->limit_pkts - 1 - i;
	d->nfree = cfg->limit_pkts;
	return 0;
}

static void relay_dir_fini(struct relay_dir *d)
{
	sim_heap_fini(&d->heap);
	free(d->slab);
	free(d->free_slots);
}

static int relay_epoll_add(struct relay *r, int fd, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};

	return epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Opens every descriptor and allocates every table; prints what failed. */
static int relay_setup(struct relay *r)
{
	const struct relay_config *cfg = r->cfg;
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	sigset_t sigs;
	int fd, err;

	r->maps = calloc(cfg->max_clients, sizeof(*r->maps));
	if (r->maps != NULL)
		for (uint32_t i = 0; i < cfg->max_clients; i++)
			r->maps[i].fd = -1;
	for (r->nbuckets = 16; r->nbuckets < 2 * cfg->max_clients; r->nbuckets *= 2)
		;
	r->buckets = malloc(r->nbuckets * sizeof(*r->buckets));
	r->rbuf = malloc((size_t)RELAY_BATCH * cfg->max_size_bytes);
	if (r->maps == NULL || r->buckets == NULL || r->rbuf == NULL ||
	    relay_dir_init(&r->dir[RELAY_UP], "up", cfg, &cfg->up, cfg->seed) < 0 ||
	    relay_dir_init(&r->dir[RELAY_DOWN], "down", cfg, &cfg->down,
			   cfg->seed ^ 0x646f776e646f776eull) < 0) {
		fprintf(stderr, "kcpimpair: out of memory (lower --limit or --max-size)\n");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < r->nbuckets; i++)
		r->buckets[i] = -1;
	for (uint32_t i = 0; i < cfg->max_clients; i++) {
		r->maps[i].next = i + 1 < cfg->max_clients ? (int32_t)i + 1 : -1;
	}
	r->free_map = 0;
	for (int i = 0; i < RELAY_BATCH; i++) {
		r->riov[i].iov_base = r->rbuf + (size_t)i * cfg->max_size_bytes;
		r->riov[i].iov_len = cfg->max_size_bytes;
		r->rmsg[i].msg_hdr.msg_iov = &r->riov[i];
		r->rmsg[i].msg_hdr.msg_iovlen = 1;
	}

	/* finer timers than the default 50 us slack: delays are set in fractions of a ms */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0 ||
	    (r->sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    (r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0 ||
	    (r->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		err = -errno;
		fprintf(stderr, "kcpimpair: set-up: %s\n", strerror(errno));
		return err;
	}
	r->lfd = socket(cfg->listen.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->lfd < 0 ||
	    bind(r->lfd, (const struct sockaddr *)&cfg->listen, cfg->listen_len) < 0 ||
	    getsockname(r->lfd, (struct sockaddr *)&bound, &blen) < 0) {
		err = -errno;
		fprintf(stderr, "kcpimpair: cannot listen on %s: %s\n",
			addr_format((const struct sockaddr *)&cfg->listen, a), strerror(errno));
		return err;
	}
	relay_sockbuf(r, r->lfd);
	/* a trial socket, so an unreachable upstream is reported now rather than per client */
	fd = relay_upstream_socket(r, relay_tag(RELAY_EV_LISTEN, 0));
	if (fd < 0) {
		fprintf(stderr, "kcpimpair: cannot reach upstream %s: %s\n",
			addr_format((const struct sockaddr *)&cfg->upstream, a), strerror(-fd));
		return fd;
	}
	close(fd);
	if ((err = relay_epoll_add(r, r->lfd, RELAY_EV_LISTEN)) < 0 ||
	    (err = relay_epoll_add(r, r->tfd, RELAY_EV_TIMER)) < 0 ||
	    (err = relay_epoll_add(r, r->sfd, RELAY_EV_SIGNAL)) < 0) {
		fprintf(stderr, "kcpimpair: epoll: %s\n", strerror(-err));
		return err;
	}
	if (!cfg->quiet)
		fprintf(stderr, "kcpimpair: listening on %s, upstream %s, seed %llu\n",
			addr_format((const struct sockaddr *)&bound, a),
			addr_format((const struct sockaddr *)&cfg->upstream, b),
			(unsigned long long)cfg->seed);
	fflush(stderr);
	return 0;
}

static void relay_teardown(struct relay *r)
{
	if (r->maps != NULL)
		for (uint32_t i = 0; i < r->cfg->max_clients; i++)
			if (r->maps[i].fd >= 0)
				close(r->maps[i].fd);
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->tfd >= 0)
		close(r->tfd);
	if (r->sfd >= 0)
		close(r->sfd);
	if (r->ep >= 0)
		close(r->ep);
	relay_dir_fini(&r->dir[RELAY_UP]);
	relay_dir_fini(&r->dir[RELAY_DOWN]);
	free(r->maps);
	free(r->buckets);
	free(r->rbuf);
}

int relay_run(const struct relay_config *cfg)
{
	struct relay *r = calloc(1, sizeof(*r));
	int err;

	if (r == NULL) {
		fprintf(stderr, "kcpimpair: out of memory\n");
		return -ENOMEM;
	}
	r->cfg = cfg;
	r->ep = r->lfd = r->tfd = r->sfd = -1;
	r->start_us = relay_now_us();
	r->armed_us = UINT64_MAX;
	r->next_house_us = r->start_us + RELAY_HOUSEKEEPING_US;
	r->next_stats_us = cfg->stats_interval_s
			       ? r->start_us + (uint64_t)cfg->stats_interval_s * 1000000
			       : UINT64_MAX;
	err = relay_setup(r);
	if (err == 0) {
		err = relay_loop(r);
		relay_print_stats(r, "at exit", relay_now_us());
	}
	relay_teardown(r);
	free(r);
	return err;
}
