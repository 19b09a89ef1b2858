/* The KCP ARQ engine: segments byte-compatible with ikcp.c and kcp-go v5.
 *
 * One engine is one conversation. It never reads a clock: every call that needs the time takes
 * now_ms (milliseconds, any origin, wrapping at 2^32). Datagrams leave through the output
 * callback as pool packets; segment data lives in pool packets too, so after kcp_new() the
 * engine allocates nothing. Send and receive windows are rings indexed by sequence number. */
#ifndef KCPCORE_KCP_H
#define KCPCORE_KCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pkt;
struct pool;
struct kcp;

/* Bytes of one segment header on the wire. */
#define KCP_OVERHEAD 24

/* Receives one datagram of whole segments (at most the KCP MTU) with KC_HEADROOM bytes of
 * headroom; the callee owns `p` and must return it to the pool. */
typedef void (*kcp_output_fn)(struct pkt *p, void *user);

struct kcp_params {
	unsigned mtu;         /* bytes of segments per datagram, headers included (default 1400) */
	unsigned snd_wnd;     /* segments in flight at most (default 32) */
	unsigned rcv_wnd;     /* receive window in segments (default 32) */
	unsigned nodelay;     /* 0: RTO floor 100 ms, backoff +rto; 1: floor 30 ms, backoff +rto/2 */
	unsigned interval_ms; /* flush tick while data is in flight, 10..5000 (default 100) */
	unsigned resend;      /* fast retransmit after this many later ACKs; 0 = off */
	bool nc;              /* true: no congestion window (window = min(snd_wnd, remote window)) */
	bool stream;          /* stream mode: no message boundaries, frg always 0 */
	unsigned dead_link;   /* transmissions of one segment that declare the link dead (20) */
	uint32_t sn_base;     /* first sequence number of both directions (0; tests use others) */
	uint64_t rate_bps;    /* pacing, see kcp_set_rate(); 0 = unlimited (default) */
};

/* kcp-go's defaults: mtu 1400, windows 32/32, nodelay 0, interval 100, resend 0, nc off. */
void kcp_params_default(struct kcp_params *p);

/* Applies a named profile's nodelay/interval/resend/nc as kcptun defines them: "normal",
 * "fast", "fast2", "fast3", or "default" (kcp-go's). Returns -EINVAL for other names. */
int kcp_params_profile(struct kcp_params *p, const char *name);

/* Engine for conversation `conv` drawing buffers from `pool` (whose buffers must hold
 * KC_HEADROOM + mtu bytes). Returns NULL and sets *err to -EINVAL or -ENOMEM. */
struct kcp *kcp_new(uint32_t conv, const struct kcp_params *p, struct pool *pool,
		    kcp_output_fn output, void *user, int *err);

/* Frees the engine and returns every buffer it holds to the pool. NULL is ignored. */
void kcp_free(struct kcp *k);

/* Queues message `buf` (a byte run in stream mode). Nothing is sent before kcp_update().
 * Returns 0, -EINVAL for an empty message, KC_EMSGSIZE when it needs more than 255 fragments
 * or more than the send window, KC_EFULL when the send queue (2 x snd_wnd segments in all)
 * has no room, KC_ENOBUF when the pool is empty. A failed send queues nothing. */
int kcp_send(struct kcp *k, const void *buf, size_t len);

/* Copies the next whole message into buf and removes it. Returns its length, -EAGAIN when no
 * message is complete, or -EMSGSIZE when cap is too small (the message stays queued). */
int kcp_recv(struct kcp *k, void *buf, size_t cap);

/* Length of the next whole message, or -EAGAIN. */
int kcp_peek_size(const struct kcp *k);

/* Processes one datagram of segments. `regular` is false for FEC-recovered datagrams: they
 * give no RTT sample and do not update the remote window. The whole datagram is checked
 * before any state changes; on rejection returns KC_ESHORT, KC_ECONV, KC_ECMD, KC_ELEN or
 * KC_EWINDOW, counts it, and leaves the engine as it was. Returns 0 otherwise. */
int kcp_input(struct kcp *k, const void *data, size_t len, bool regular, uint32_t now_ms);

/* Does whatever is due at now_ms: ACKs and fast retransmits at once, new data as the window
 * allows, retransmission on timeout, window probes. Cheap when nothing is due. */
void kcp_update(struct kcp *k, uint32_t now_ms);

/* When kcp_update() is next needed: returns true and sets *due_ms (which may be <= now_ms),
 * or false when nothing is pending until the next kcp_input() or kcp_send(). */
bool kcp_check(const struct kcp *k, uint32_t now_ms, uint32_t *due_ms);

/* Live changes (control plane; may allocate): windows grow the rings, returning -ENOMEM on
 * failure with nothing changed; values out of range give -EINVAL. */
int kcp_set_wndsize(struct kcp *k, unsigned snd_wnd, unsigned rcv_wnd);
int kcp_set_nodelay(struct kcp *k, unsigned nodelay, unsigned interval_ms, unsigned resend,
		    bool nc);
/* New KCP MTU (>= 50 + KCP_OVERHEAD and fitting the pool's buffers); -EINVAL otherwise.
 * Affects messages queued afterwards. */
int kcp_set_mtu(struct kcp *k, unsigned mtu);

/* Highest rate kcp_set_rate() takes, in bits per second. */
#define KCP_RATE_MAX 1000000000000ull
/* The bucket holds this many milliseconds of the rate (at least two datagrams). */
#define KCP_RATE_BURST_MS 5

/* Paces what the engine sends to rate_bps bits per second (0 = unlimited): a token bucket
 * counts the bytes of every datagram emitted, plus what kcp_rate_charge() adds. New and
 * retransmitted data leave only while it holds tokens; ACKs and window probes always leave
 * (and are counted). What waits stays queued, nothing is dropped, and kcp_check() gives the
 * time the bucket has refilled. The bucket holds max(2 x mtu, KCP_RATE_BURST_MS of the rate)
 * and starts full when pacing is turned on; a new rate keeps what was already spent.
 * Returns -EINVAL above KCP_RATE_MAX. */
int kcp_set_rate(struct kcp *k, uint64_t rate_bps);

/* Counts `bytes` more against the rate: what a lower layer adds to a datagram the engine just
 * handed to the output callback (headers, FEC parity), so the rate covers the wire. A no-op
 * without a rate. */
void kcp_rate_charge(struct kcp *k, size_t bytes);

/* Joins a conversation already under way (a peer that kept its state across our restart):
 * our next sn becomes snd_nxt, the next sn we expect rcv_nxt. Only on an engine that has sent
 * and received nothing: -EBUSY otherwise. */
int kcp_resync(struct kcp *k, uint32_t snd_nxt, uint32_t rcv_nxt);

/* Largest payload of one segment: mtu - KCP_OVERHEAD. */
unsigned kcp_mss(const struct kcp *k);

/* Segments queued or in flight (not yet acknowledged). */
unsigned kcp_wait_snd(const struct kcp *k);

/* True once a segment was sent dead_link times without an acknowledgement. */
bool kcp_dead(const struct kcp *k);

/* Reads the conversation id of a datagram of KCP segments; -1 if it is too short. */
int kcp_peek_conv(const void *data, size_t len, uint32_t *conv);

struct kcp_stats {
	uint64_t in_pkts, in_bytes;       /* datagrams accepted by kcp_input */
	uint64_t out_pkts, out_bytes;     /* datagrams handed to the output callback */
	uint64_t in_segs, out_segs;       /* segments of any command */
	uint64_t msgs_sent, msgs_recv;    /* whole messages through kcp_send / kcp_recv */
	uint64_t retrans_segs;            /* every retransmission, whatever the trigger */
	uint64_t fast_retrans_segs;       /* after `resend` later ACKs */
	uint64_t early_retrans_segs;      /* an ACK for a later segment and nothing new to send */
	uint64_t lost_segs;               /* retransmitted on timeout */
	uint64_t repeat_segs;             /* duplicate PUSH received */
	uint64_t drop_window_segs;        /* PUSH beyond the receive window, not acknowledged */
	uint64_t drop_no_buffer;          /* segments or datagrams dropped: pool empty */
	uint64_t drop_bad_msg_segs;       /* fragments that could never form a message */
	uint64_t paced_flushes;           /* flushes that left data waiting for the rate limit */
	uint64_t err_short, err_conv, err_cmd, err_len, err_window; /* rejected datagrams */
};

/* Counters since creation; plain reads, no locks (the engine has a single owner). */
const struct kcp_stats *kcp_stats(const struct kcp *k);

/* A snapshot of the engine's state for status reports. */
struct kcp_info {
	uint32_t conv;
	int32_t srtt_ms, rttvar_ms, rto_ms;
	unsigned snd_wnd, rcv_wnd, rmt_wnd, cwnd;
	unsigned snd_queue;    /* segments waiting for the window */
	unsigned snd_inflight; /* segments sent and not yet acknowledged */
	unsigned rcv_queue;    /* in-order segments waiting for kcp_recv */
	unsigned rcv_buf;      /* out-of-order segments held */
	unsigned mtu, mss, nodelay, interval_ms, resend;
	bool nc, stream, dead;
	uint64_t rate_bps; /* kcp_set_rate(); 0 = unlimited */
};
void kcp_get_info(const struct kcp *k, struct kcp_info *info);

/* Wraparound-safe comparison of 32-bit millisecond times and sequence numbers. */
static inline int32_t kc_time_diff(uint32_t later, uint32_t earlier)
{
	return (int32_t)(later - earlier);
}

static inline bool kc_time_before(uint32_t a, uint32_t b)
{
	return kc_time_diff(a, b) < 0;
}

#endif
