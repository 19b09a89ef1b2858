/* Secure mode: per-peer static keys, the Noise IKpsk2 handshake, AEAD data packets with an
 * anti-replay window, cookies under load, roaming (SECURITY.md, DESIGN-NOTES.md).
 *
 * This layer wraps whatever the session emits (FEC + KCP datagrams, sent with crypt "null")
 * in authenticated packets, and unwraps what arrives. It never reads a clock or a socket: the
 * caller passes the time in, hands in received datagrams with their source address (opaque
 * bytes, at most SEC_ADDR_MAX), and gets handshake packets to send through a callback.
 *
 * One struct sec_dev per interface (its static key, the index and key tables, the cookie
 * secret); one struct sec_peer per configured peer. Nothing here allocates per packet: keypairs
 * live inside their peer, and the tables are sized when peers are added. */
#ifndef KCPCORE_SECURE_H
#define KCPCORE_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEC_KEY_LEN 32
#define SEC_ADDR_MAX 32
/* Bytes the layer adds to a datagram: a 16-byte header in front, a 16-byte tag behind. */
#define SEC_HEADER_LEN 16
#define SEC_TAG_LEN 16
#define SEC_OVERHEAD (SEC_HEADER_LEN + SEC_TAG_LEN)

/* Timers (WireGuard's values, except the retry and stale ones: see DESIGN-NOTES.md). */
#define SEC_REKEY_AFTER_MS 120000u     /* the initiator of a keypair renews it after this */
#define SEC_REJECT_AFTER_MS 180000u    /* no keypair is used after this */
#define SEC_REKEY_RETRY_MS 1000u       /* a handshake unanswered is sent again after this */
#define SEC_STALE_MS 2500u             /* sent for this long with nothing authentic back: rekey */
#define SEC_COOKIE_SECRET_MS 120000u   /* the responder's cookie secret changes this often */
#define SEC_REKEY_AFTER_MESSAGES (1ull << 60)
#define SEC_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13))
#define SEC_REPLAY_WINDOW 4096u        /* bits of the anti-replay bitmap (RFC 6479) */

enum sec_aead {
	SEC_AEAD_CHACHAPOLY, /* ChaCha20-Poly1305 (default) */
	SEC_AEAD_AES256GCM   /* AES-256-GCM */
};

/* What each side tells the other in the handshake about the KCP session it runs. */
struct sec_params {
	uint64_t epoch;       /* random per KCP session: a new value means "I restarted" */
	uint16_t udp_mtu;
	uint8_t fec_data, fec_parity;
	uint8_t nodelay, resend, nc;
	uint16_t interval_ms;
	uint16_t snd_wnd, rcv_wnd;
	enum sec_aead aead;   /* the initiator's choice holds for the keypair */
};

struct sec_dev;
struct sec_peer;

/* Receives a handshake packet (initiation, response, cookie reply) for `addr`; the callee
 * copies what it needs. `peer` is NULL for a cookie reply to an unidentified sender. */
typedef void (*sec_output_fn)(void *user, struct sec_peer *peer, const void *addr,
			      size_t addr_len, const uint8_t *pkt, size_t len);

struct sec_dev_params {
	uint8_t private_key[SEC_KEY_LEN];
	bool obfuscate;           /* mask the header with a key both sides know: no fixed bytes */
	unsigned load_per_sec;    /* handshakes per second above which cookies are demanded (256) */
	sec_output_fn output;
	void *user;
};

/* The device of one interface. Returns NULL and sets *err to -EINVAL (bad key) or -ENOMEM. */
struct sec_dev *sec_dev_new(const struct sec_dev_params *p, int *err);

/* Frees the device; its peers must be freed first. Wipes every key. NULL is ignored. */
void sec_dev_free(struct sec_dev *d);

/* Our public key. */
const uint8_t *sec_dev_public_key(const struct sec_dev *d);

/* Peer with static public key `pub` and pre-shared key `psk` (NULL: none); `user` is the
 * caller's. Control plane: allocates. -EEXIST when the key is already a peer or our own. */
struct sec_peer *sec_peer_new(struct sec_dev *d, const uint8_t pub[SEC_KEY_LEN],
			      const uint8_t *psk, void *user, int *err);

/* Removes the peer from its device and wipes its keys. NULL is ignored. */
void sec_peer_free(struct sec_peer *p);

/* Takes the peer out of the public-key table (a reload about to replace it with a peer of the
 * same key; its keypairs still work until freed), and puts it back (-EEXIST when another
 * peer holds the key meanwhile). */
void sec_peer_unlist(struct sec_peer *p);
int sec_peer_relist(struct sec_peer *p);

void *sec_peer_user(const struct sec_peer *p);
const uint8_t *sec_peer_public_key(const struct sec_peer *p);

/* What we advertise in our next handshake messages (epoch, MTU, FEC, KCP settings, AEAD). */
void sec_peer_set_local(struct sec_peer *p, const struct sec_params *local);

/* What we advertise now (as last set, with the current epoch). */
void sec_peer_local(const struct sec_peer *p, struct sec_params *local);

/* Picks a new local epoch (our KCP session restarts) and asks for a handshake. */
void sec_peer_new_epoch(struct sec_peer *p, uint64_t epoch);

/* Sets or forgets the endpoint handshakes go to (roaming updates it from authentic packets). */
void sec_peer_set_endpoint(struct sec_peer *p, const void *addr, size_t addr_len);

/* The endpoint, or 0 when unknown; copies at most cap bytes into addr. */
size_t sec_peer_endpoint(const struct sec_peer *p, void *addr, size_t cap);

/* The remote's advertised parameters from the last completed handshake; false before one. */
bool sec_peer_remote(const struct sec_peer *p, struct sec_params *remote);

/* The KCP conv both sides derive from the two epochs of the last handshake. */
uint32_t sec_peer_conv(const struct sec_peer *p);

/* True when a keypair to send with exists. */
bool sec_peer_ready(const struct sec_peer *p, uint32_t now_ms);

/* Asks for a handshake as soon as sec_peer_service() runs (e.g. traffic and no keypair). */
void sec_peer_want_handshake(struct sec_peer *p);

/* Timed work: handshake (re)transmission, rekeying, expiry of old keypairs. `wall_ns` is the
 * real time (for the initiation's timestamp). Emits through the device's output. */
void sec_peer_service(struct sec_peer *p, uint32_t now_ms, uint64_t wall_ns);

/* When sec_peer_service() is next needed; false when nothing is pending. */
bool sec_peer_check(const struct sec_peer *p, uint32_t now_ms, uint32_t *due_ms);

/* Seals the datagram buf[SEC_HEADER_LEN .. SEC_HEADER_LEN + body_len) in place: writes the
 * header in front and the tag behind (buf holds SEC_OVERHEAD + body_len bytes). Returns the
 * datagram length, or KC_ENOKEY when there is no usable keypair (a handshake is then wanted;
 * the caller drops the datagram and KCP sends it again). body_len 0 makes a keepalive. */
int sec_seal(struct sec_peer *p, uint8_t *buf, size_t body_len, uint32_t now_ms);


/* The outcome of sec_input(). */
enum sec_input_result {
	SEC_IN_DATA = 1,      /* *body, *blen: a datagram for the peer's session */
	SEC_IN_CONSUMED = 0   /* a handshake or keepalive, processed; nothing for the session */
};

/* Events the caller sees after sec_input() or sec_peer_service(). */
struct sec_events {
	bool established;      /* a handshake completed (a new keypair) */
	bool remote_restarted; /* ...and the peer's epoch differs from the last one seen */
};

/* Takes one received datagram from `addr`, decrypting in place. Returns SEC_IN_DATA or
 * SEC_IN_CONSUMED with *peer set, or a negative code (KC_ESHORT, KC_EAUTH, KC_EREPLAY,
 * KC_ENOKEY for an unknown index, KC_EUNKNOWN for an unknown peer key, KC_ELOAD when a cookie
 * was demanded); each rejection is counted, creates no state and changes nothing else. An
 * authentic packet moves the peer's endpoint to `addr` (roaming). */
int sec_input(struct sec_dev *d, uint8_t *dgram, size_t len, const void *addr, size_t addr_len,
	      uint32_t now_ms, struct sec_peer **peer, uint8_t **body,
	      size_t *blen, struct sec_events *ev);

/* Per-peer counters and state for status. */
struct sec_peer_stats {
	uint64_t handshakes_tx, handshakes_rx, handshakes_done;
	uint64_t data_tx, data_rx, keepalive_tx, keepalive_rx;
	uint64_t drop_no_key;     /* datagrams that found no keypair to leave with */
	uint64_t replayed;        /* data packets refused by the replay window */
	uint64_t rekeys;
	uint64_t cookies_rx;
	bool has_keypair;
	uint32_t keypair_age_ms;  /* of the current keypair */
	uint32_t last_handshake_age_ms; /* since the last completed handshake (if any) */
	bool handshake_done;
	uint64_t send_counter;
};
void sec_peer_get_stats(const struct sec_peer *p, uint32_t now_ms, struct sec_peer_stats *st);

/* Device counters: what was refused before a peer was known. */
struct sec_dev_stats {
	uint64_t rx_short, rx_bad_type, rx_bad_mac1, rx_cookie_sent, rx_bad_mac2;
	uint64_t rx_unknown_index, rx_unknown_peer, rx_auth, rx_replay, rx_timestamp_replay;
	uint64_t rx_ratelimited, under_load_sec;
};
void sec_dev_get_stats(const struct sec_dev *d, struct sec_dev_stats *st);

/* Tests only: the device takes random bytes (ephemeral keys, indices, cookie secret) from
 * fn(user, out, len); NULL goes back to getrandom(). */
void sec_dev_set_random(struct sec_dev *d, void (*fn)(void *user, uint8_t *out, size_t len),
			void *user);

#endif
