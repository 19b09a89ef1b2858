/* kcpvpnd's core objects (private to daemon/).
 *
 * One worker owns a TUN fd, a UDP socket, a packet pool and a set of peers; nothing on its
 * packet path takes a lock. Today there is one worker; the layout is the one N workers (one per
 * core, SO_REUSEPORT sockets, multi-queue TUN) will share. */
#ifndef DAEMON_DAEMON_H
#define DAEMON_DAEMON_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "kcpcore/secure.h"
#include "kcpcore/session.h"

struct config;
struct config_peer;
struct control;
struct event;
struct event_base;
struct tunif;
struct allowedips;
struct worker;

enum peer_state { PEER_DOWN, PEER_CONNECTING, PEER_UP };

/* In-band control messages travel as KCP messages whose first byte cannot start an IP packet
 * (whose first nibble is 4 or 6). A plain kcp-go peer writes them to its TUN, which drops
 * them: they are ignorable. */
#define CTRL_MAGIC 0x01
#define CTRL_KEEPALIVE 0x01 /* [magic][type][n][n x (family u8, addr 16)]: our addresses */

struct peer_stats {
	uint64_t tx_packets, tx_bytes;     /* IP packets into the session */
	uint64_t rx_packets, rx_bytes;     /* IP packets out to the TUN */
	uint64_t drop_src;                 /* inner source outside this peer's AllowedIPs */
	uint64_t drop_send;                /* session refused the packet (queue full) */
	uint64_t keepalives_tx, keepalives_rx;
	uint64_t sessions;                 /* sessions created for this peer */
	uint64_t drop_no_key;              /* secure: datagrams with no keypair to leave with */
};

/* Live settings from kcpctl tune, kept so that every new session of the peer gets them too. */
struct peer_tune {
	bool fec, wnd, nodelay, rate;
	unsigned fec_data, fec_parity, snd_wnd, rcv_wnd;
	unsigned nodelay_mode, interval_ms, resend;
	bool nc;
	uint64_t rate_bps; /* 0 = no limit */
};

struct peer {
	struct worker *w;
	const struct config_peer *cfg; /* the current config's entry */
	char name[40];
	struct session *s;             /* NULL until a session exists */
	struct sec_peer *sp;           /* secure mode: keys and handshakes (NULL in compat) */
	uint32_t conv;
	struct sockaddr_in6 addr;      /* endpoint: configured, or learned from the last datagram */
	bool has_addr;
	bool initiator;                /* we have an Endpoint: we open sessions */
	enum peer_state state;
	uint32_t session_start_ms, last_rx_ms, last_tx_ms, next_keepalive_ms;
	uint32_t keepalive_ms;         /* 0 = off */
	uint32_t due_ms;               /* in the timer heap when heap_idx >= 0 */
	int heap_idx;
	struct peer_stats st;
	struct session_stats old;      /* counters of sessions already replaced */
	struct peer_tune tune;         /* survives session restarts; a reload that renews resets it */
};

#define WORKER_BATCH 64
#define WORKER_ORPHANS 16 /* sessions from new addresses not yet tied to a [Peer] */

struct worker {
	struct daemon *d;
	struct event_base *base;
	struct pool *pool;
	int tun_fd, udp_fd;
	struct event *ev_tun, *ev_udp, *ev_timer;
	struct crypt *open_crypt;       /* compat: every peer shares the cipher and key */
	struct sec_dev *sec;            /* secure mode: our static key, indices, cookies */
	uint32_t now_ms;                /* of the callback running (sealing needs it) */
	uint8_t key[CRYPT_KEY_LEN];
	struct peer **peers;
	unsigned npeers;
	struct allowedips *aips;        /* inner address -> peer */
	struct peer *orphans[WORKER_ORPHANS];
	struct peer **heap;             /* timer heap by due_ms */
	unsigned heap_len;
	uint16_t mss_v4, mss_v6;        /* TCP MSS clamp for the TUN MTU */
	/* UDP send batch */
	struct mmsghdr out_msgs[WORKER_BATCH];
	struct iovec out_iov[WORKER_BATCH];
	struct sockaddr_in6 out_addr[WORKER_BATCH];
	struct pkt *out_pkts[WORKER_BATCH];
	unsigned out_n;
	struct peer *out_peer;          /* whose session is emitting right now */
	/* peers fed in this wake-up, flushed once at its end (ACKs ride with the answers) */
	struct peer *touched[2 * WORKER_BATCH];
	unsigned ntouched;
	uint8_t msg[65536];
	struct {
		uint64_t udp_rx, udp_tx, udp_tx_err, udp_tx_full, tun_rx, tun_tx, tun_tx_err;
		uint64_t drop_no_route, drop_no_session, drop_not_ip, drop_no_buffer;
		uint64_t drop_unknown_sender, drop_auth, drop_parity_no_session, drop_kcp;
		uint64_t drop_secure; /* refused by the secure layer (see sec_dev_stats) */
	} st;
};

struct daemon {
	struct config *cfg;
	const char *config_path;
	struct event_base *base;
	struct worker *w;
	struct tunif *tif;
	struct control *ctl;
	struct event *ev_sigterm, *ev_sigint, *ev_sighup;
	uint32_t start_ms;
	unsigned tun_mtu;
	char ifname[16];
	bool full_tunnel_v4, full_tunnel_v6;
	uint32_t table;       /* full-tunnel table (fwmark rules point there) */
	uint32_t route_table; /* peer routes (0 = main) */
	int exit_code;
};

/* Milliseconds of a monotonic clock, wrapping at 2^32 (what libkcpcore expects). */
uint32_t daemon_now_ms(void);
/* Nanoseconds of the real-time clock (handshake timestamps). */
uint64_t daemon_wall_ns(void);

/* worker.c */
int worker_init(struct worker *w, struct daemon *d, int tun_fd, int udp_fd);
void worker_fini(struct worker *w);
void worker_schedule(struct worker *w, struct peer *p, uint32_t now);
void worker_flush_udp(struct worker *w);
/* Appends pk (the worker owns it now) for `to` to the send batch, flushing a full one. */
void worker_queue_udp(struct worker *w, struct pkt *pk, const struct sockaddr_in6 *to);

/* peer.c */
struct peer *peer_new(struct worker *w, const struct config_peer *cfg);
void peer_free(struct peer *p);
int peer_start_session(struct peer *p, uint32_t conv, uint32_t now);
/* Secure mode: a handshake completed; starts the KCP session its epochs name if needed. */
void peer_established(struct peer *p, bool remote_restarted, uint32_t now);
void peer_end_session(struct peer *p);
/* Does the peer's timed work (session update, keepalive, dead-session handling). */
void peer_service(struct peer *p, uint32_t now);
/* When peer_service is next needed; false when the peer is idle (nothing until input). */
bool peer_due(const struct peer *p, uint32_t now, uint32_t *due);
void peer_send_keepalive(struct peer *p, uint32_t now);
/* Applies p->tune to the current session (no-op without one); 0 or a negative code. */
int peer_apply_tune(struct peer *p);
void peer_get_stats(const struct peer *p, struct session_stats *st);
const char *peer_state_name(enum peer_state s);

/* udp.c */
/* Dual-stack UDP socket bound to `port` (0: ephemeral), non-blocking, with the buffer size,
 * DSCP and fwmark given (0 = leave). Returns the fd or -errno. */
int udp_open(uint16_t port, int bufsize, int dscp, uint32_t fwmark);
/* host:port text of an address (v4-mapped shown as IPv4). */
const char *udp_addr_str(const struct sockaddr_in6 *a, char *buf, size_t len);
/* Resolves "host:port" / "[v6]:port" / "name:port" into a v6 or v4-mapped address. */
int udp_resolve(const char *endpoint, struct sockaddr_in6 *out);
bool udp_addr_equal(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b);

/* reload.c: SIGHUP. Returns 0 when the new file was applied, -1 when nothing changed. */
int daemon_reload(struct daemon *d);

/* control_cmds.c */
int daemon_control_start(struct daemon *d);

#endif
