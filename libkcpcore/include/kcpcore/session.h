/* A session: KCP + FEC + crypto for one peer, framed exactly as kcp-go v5 frames them.
 *
 * The only object the daemon talks to per peer. Like the engine it never reads a clock (time
 * is passed in) and never allocates on the packet path: outgoing datagrams are pool packets
 * handed to the output callback, incoming ones are decrypted in place. */
#ifndef KCPCORE_SESSION_H
#define KCPCORE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kcpcore/crypt.h"
#include "kcpcore/fec.h"
#include "kcpcore/kcp.h"

struct pkt;
struct pool;
struct session;

/* Receives one UDP datagram, ready to send; the callee owns `p`. */
typedef void (*session_output_fn)(struct pkt *p, void *user);

struct session_params {
	uint32_t conv;
	unsigned udp_mtu;             /* largest UDP payload, all headers included (1400) */
	enum crypt_method crypt;      /* CRYPT_AES_256 by default */
	uint8_t key[CRYPT_KEY_LEN];   /* crypt_kdf_kcptun() of the passphrase */
	unsigned fec_data, fec_parity; /* 0 and 0: FEC off (FEC packets are still accepted) */
	unsigned fec_groups;          /* FEC groups the decoder keeps (3) */
	bool one_segment;             /* refuse messages longer than one segment (kcp-go peers) */
	/* kcp.mtu is derived from udp_mtu and the overheads. kcp.rate_bps (live:
	 * kcp_set_rate(session_kcp(s), ...)) paces the whole UDP payloads the session sends:
	 * KCP segments with their FEC and crypto framing, and parity. */
	struct kcp_params kcp;
};

/* Defaults: udp_mtu 1400, aes, FEC off, kcp-go's KCP defaults, one_segment. */
void session_params_default(struct session_params *p);

/* Bytes each datagram spends on crypto and FEC headers (and the AEAD tag), not KCP's 24. */
unsigned session_overhead(enum crypt_method crypt, bool fec);

/* Largest message that travels in one KCP segment (spec 5.4), or -EINVAL when udp_mtu
 * leaves no room. With a kcp-go peer every message must fit in this. */
int session_mss(unsigned udp_mtu, enum crypt_method crypt, bool fec);

/* New session drawing buffers from `pool` (buffers of at least KC_HEADROOM + udp_mtu bytes).
 * Returns NULL and sets *err to -EINVAL (bad parameters) or -ENOMEM. */
struct session *session_new(const struct session_params *p, struct pool *pool,
			    session_output_fn output, void *user, int *err);

/* Frees the session and returns every buffer it holds. NULL is ignored. */
void session_free(struct session *s);

/* Queues one message (one IP packet); see kcp_send() for the codes. With one_segment,
 * messages longer than session_mss() give KC_EMSGSIZE. */
int session_send(struct session *s, const void *msg, size_t len);

/* Takes one received UDP datagram, decrypting it in place. Returns 0, or the code of the layer
 * that rejected it (KC_ESHORT, KC_EAUTH from crypto; KC_EFEC, KC_ELEN from FEC; the KCP codes);
 * every rejection is counted and changes nothing else. */
int session_input(struct session *s, uint8_t *dgram, size_t len, uint32_t now_ms);

/* The same in two steps, for a listener that must see the conv before it has a session:
 * session_open() decrypts `dgram` in place with `c` (NULL for "null") and points *body at what
 * is inside (*blen bytes); session_input_opened() then takes that body, counting a datagram of
 * wire_len bytes as session_input() would. */
int session_open(struct crypt *c, uint8_t *dgram, size_t len, uint8_t **body, size_t *blen);
int session_input_opened(struct session *s, uint8_t *body, size_t blen, size_t wire_len,
			 uint32_t now_ms);

/* What a listener needs from an opened body before it has a session (spec 5.2). */
struct session_peek {
	uint32_t conv;
	uint32_t una;     /* the next sn the sender expects from us */
	uint32_t sn;      /* the first segment's sn (kcp-go's "sn == 0" rule looks at it) */
	bool has_push;    /* some segment carries data... */
	uint32_t push_sn; /* ...and the first such has this sn */
};

/* Reads an opened body's segments (inside an FEC data packet if it is one) without checking
 * them further. Returns 0, KC_ESHORT, or KC_EFEC for a parity packet (it has no conv). */
int session_peek(const uint8_t *body, size_t blen, struct session_peek *pk);

/* Next whole message, as kcp_recv(). */
int session_recv(struct session *s, void *buf, size_t cap);

/* Does what is due (see kcp_update()), and says when it is next needed (see kcp_check()). */
void session_update(struct session *s, uint32_t now_ms);
bool session_check(const struct session *s, uint32_t now_ms, uint32_t *due_ms);

/* Changes FEC live (0, 0 turns it off). Control plane: allocates; -ENOMEM or -EINVAL leave the
 * old setting. The KCP MTU follows, so the largest message may change. */
int session_set_fec(struct session *s, unsigned data, unsigned parity);

/* Changes the `user` pointer handed to the output callback (a listener that learns later whom
 * a session belongs to). */
void session_set_user(struct session *s, void *user);

/* The KCP engine, for windows, profiles, status and the like. */
struct kcp *session_kcp(struct session *s);

/* Current settings. */
void session_fec(const struct session *s, unsigned *data, unsigned *parity);
enum crypt_method session_crypt(const struct session *s);

/* Counters: kcp-go's SNMP set and ours. */
struct session_stats {
	uint64_t in_pkts, in_bytes;   /* UDP datagrams received, any outcome */
	uint64_t out_pkts, out_bytes; /* UDP datagrams sent, parity included */
	uint64_t bytes_sent, bytes_received; /* message bytes through send/recv */
	uint64_t in_errs;             /* datagrams rejected by any layer */
	uint64_t in_csum_errs;        /* failed the CRC or AEAD tag, or too short to check */
	uint64_t kcp_in_errs;         /* rejected by KCP (after crypto and FEC) */
	uint64_t fec_errs;            /* malformed FEC headers and bad recovered shards */
	uint64_t fec_parity_ignored;  /* parity received while FEC is off */
	uint64_t out_drop_no_buffer;  /* parity not sent: pool empty */
	struct kcp_stats kcp;
	struct fec_stats fec_tx, fec_rx;
};
void session_get_stats(const struct session *s, struct session_stats *st);

#endif
