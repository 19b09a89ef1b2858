/* Secure mode: handshakes (Noise IKpsk2), keypairs, data packets, cookies (secure_wire.h).
 *
 * Roles follow WireGuard's: whoever has something to send and no keypair initiates; the
 * responder's keypair waits as "next" until the first data packet under it confirms it; the
 * initiator of the current keypair renews it after two minutes. What differs (faster retries,
 * stale detection, the epoch in the payload) is in DESIGN-NOTES.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto_backend.h"
#include "noise.h"
#include "secure_wire.h"
#include "wire.h"
#include "kcpcore/error.h"
#include "kcpcore/secure.h"

#define SEC_INIT_MIN_GAP_MS 20u         /* initiations from one peer closer than this: dropped */
#define SEC_REKEY_ATTEMPT_MS 90000u     /* give up a handshake nobody answers after this */
#define SEC_RESPONDER_REKEY_MS (SEC_REKEY_AFTER_MS + 10000u)
#define SEC_RL_SLOTS 4096u              /* per-address token buckets under load */
#define SEC_RL_PER_SEC 20u
#define SEC_RL_BURST 5u
#define SEC_REPLAY_WORDS (SEC_REPLAY_WINDOW / 64)

enum sec_slot_kind { SLOT_EMPTY, SLOT_HANDSHAKE, SLOT_KEYPAIR };

struct sec_keypair {
	bool valid, initiator;
	uint32_t local_idx, remote_idx;
	uint32_t created_ms;
	enum sec_aead aead;
	struct crypto_chachapoly *send_cp, *recv_cp;
	struct crypto_gcm *send_gcm, *recv_gcm;
	uint64_t send_counter;
	uint64_t replay_next; /* highest counter accepted + 1 */
	uint64_t replay[SEC_REPLAY_WORDS];
};

struct sec_slot {
	uint32_t idx;
	uint8_t kind;
	struct sec_peer *peer;
	struct sec_keypair *kp;
};

/* An open-addressing hash table of fixed-size entries (linear probing, backward-shift
 * deletion), at most half full. */
struct sec_table {
	void *e;                             /* mask + 1 entries of size bytes, NULL before growth */
	uint32_t mask;
	size_t size;
	uint32_t (*home)(const void *entry); /* hash of the entry's key */
	bool (*used)(const void *entry);     /* a zeroed entry is free */
};

struct sec_peer {
	struct sec_dev *d;
	void *user;
	uint8_t pub[SEC_KEY_LEN], psk[SEC_KEY_LEN];
	uint8_t mac1_key[32], cookie_key[32], obf_key[32]; /* keyed by the peer's public key */
	uint8_t endpoint[SEC_ADDR_MAX];
	size_t endpoint_len;
	struct sec_params local, remote;
	bool has_remote;

	/* our handshake in flight */
	bool hs_pending;
	struct sec_peer *pend_prev, *pend_next; /* the device's list of peers with one */
	struct noise_hs hs;
	uint32_t hs_idx, hs_sent_ms, hs_first_ms, hs_retry_ms;
	uint8_t hs_mac1[SEC_MAC_LEN];
	bool want_hs;

	/* what the responder side remembers */
	uint8_t last_ts[SEC_TAI64N_LEN];
	bool has_ts;
	uint32_t last_init_rx_ms;
	bool init_rx_seen;

	uint8_t cookie[SEC_MAC_LEN];
	uint32_t cookie_ms;
	bool has_cookie;

	struct sec_keypair kps[3];
	struct sec_keypair *cur, *prev, *next;

	uint32_t last_rx_ms, sent_since_rx_ms, last_hs_done_ms;
	bool sent_since_rx, hs_done;
	bool listed; /* in the public key table (handshakes find it) */
	struct sec_peer_stats st;
};

struct sec_dev {
	uint8_t priv[SEC_KEY_LEN], pub[SEC_KEY_LEN];
	uint8_t mac1_key[32], cookie_key[32], obf_key[32]; /* keyed by our public key */
	bool obfuscate;
	unsigned load_per_sec;
	sec_output_fn output;
	void *user;
	void (*rand)(void *user, uint8_t *out, size_t len);
	void *rand_user;

	struct sec_table slots; /* receiver index -> struct sec_slot: handshake or keypair */
	unsigned slots_used;
	struct sec_peer *pending; /* peers with a handshake in flight (cookie replies find them) */
	struct sec_table keys; /* static public key -> struct sec_peer * */
	unsigned npeers;

	uint8_t secret[32];     /* cookie secret */
	uint32_t secret_ms;
	bool has_secret;
	uint32_t load_window_ms;
	unsigned load_count;
	bool load_window_set;
	uint8_t rl_key[32];
	struct {
		uint32_t tag, last_ms;
		uint32_t tokens_milli;
	} rl[SEC_RL_SLOTS];

	uint8_t scratch[SEC_INITIATION_LEN + SEC_RESPONSE_LEN]; /* built messages */
	struct sec_dev_stats st;
};

/* ---- small helpers ---- */

static void sec_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

static bool sec_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static bool sec_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static void sec_random(struct sec_dev *d, uint8_t *out, size_t len)
{
	if (d->rand != NULL) {
		d->rand(d->rand_user, out, len);
		return;
	}
	if (crypto_random(out, len) < 0)
		abort(); /* no randomness: nothing here can be done safely */
}

static void sec_hash_label(uint8_t out[32], const char *label, const uint8_t key[32])
{
	struct crypto_part parts[2] = {{label, strlen(label)}, {key, 32}};

	crypto_blake2s(out, 32, NULL, 0, parts, 2);
}

static void sec_mac(uint8_t out[SEC_MAC_LEN], const uint8_t *key, size_t key_len,
		    const uint8_t *msg, size_t len)
{
	struct crypto_part part = {msg, len};

	crypto_blake2s(out, SEC_MAC_LEN, key, key_len, &part, 1);
}

/* XORs bytes 0..16 with the mask keyed by `key` from the last 16 bytes (its own inverse). */
static void sec_obfuscate(const uint8_t key[32], uint8_t *pkt, size_t len)
{
	uint8_t mask[16];

	sec_mac(mask, key, 32, pkt + len - 16, 16);
	for (int i = 0; i < 16; i++)
		pkt[i] ^= mask[i];
}

/* ---- tables: receiver index -> slot, public key -> peer ---- */

static void *tab_at(const struct sec_table *t, uint32_t i)
{
	return (uint8_t *)t->e + (size_t)i * t->size;
}

/* Copies entry into the first free place from its home (the table is never full). */
static void tab_put(struct sec_table *t, const void *entry)
{
	uint32_t i = t->home(entry) & t->mask;

	while (t->used(tab_at(t, i)))
		i = (i + 1) & t->mask;
	memcpy(tab_at(t, i), entry, t->size);
}

/* Room for `want` entries, at most half full; the first allocation has first_cap places.
 * 0, or -ENOMEM with the table unchanged. */
static int tab_grow(struct sec_table *t, unsigned want, uint32_t first_cap)
{
	struct sec_table n = *t;
	uint32_t cap = t->e != NULL ? t->mask + 1 : first_cap;

	if (t->e != NULL && want * 2 <= cap)
		return 0;
	while (want * 2 > cap)
		cap *= 2;
	n.e = calloc(cap, t->size);
	if (n.e == NULL)
		return -ENOMEM;
	n.mask = cap - 1;
	for (uint32_t i = 0; t->e != NULL && i <= t->mask; i++)
		if (t->used(tab_at(t, i)))
			tab_put(&n, tab_at(t, i));
	free(t->e);
	*t = n;
	return 0;
}

/* Frees place i: later members of its cluster move back into the hole when allowed. */
static void tab_del_at(struct sec_table *t, uint32_t i)
{
	for (uint32_t j = (i + 1) & t->mask; t->used(tab_at(t, j)); j = (j + 1) & t->mask) {
		uint32_t home = t->home(tab_at(t, j)) & t->mask;

		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			memcpy(tab_at(t, i), tab_at(t, j), t->size);
			i = j;
		}
	}
	memset(tab_at(t, i), 0, t->size);
}

static uint32_t slot_home(const void *e)
{
	return ((const struct sec_slot *)e)->idx;
}

static bool slot_used(const void *e)
{
	return ((const struct sec_slot *)e)->kind != SLOT_EMPTY;
}

static struct sec_slot *slot_find(struct sec_dev *d, uint32_t idx)
{
	struct sec_slot *tab = d->slots.e;

	for (uint32_t i = idx & d->slots.mask;; i = (i + 1) & d->slots.mask) {
		if (tab[i].kind == SLOT_EMPTY)
			return NULL;
		if (tab[i].idx == idx)
			return &tab[i];
	}
}

/* A fresh random index for p (kind, kp), never 0 and never in use. */
static uint32_t slot_add(struct sec_dev *d, uint8_t kind, struct sec_peer *p,
			 struct sec_keypair *kp)
{
	struct sec_slot s = {0, kind, p, kp};

	do
		sec_random(d, (uint8_t *)&s.idx, sizeof(s.idx));
	while (s.idx == 0 || slot_find(d, s.idx) != NULL);
	tab_put(&d->slots, &s);
	d->slots_used++;
	return s.idx;
}

static void slot_del(struct sec_dev *d, uint32_t idx)
{
	struct sec_slot *s;

	if (idx == 0 || (s = slot_find(d, idx)) == NULL)
		return;
	d->slots_used--;
	tab_del_at(&d->slots, (uint32_t)(s - (struct sec_slot *)d->slots.e));
}

static uint32_t key_hash(const uint8_t pub[32])
{
	return wire_peek_u32le(pub);
}

static uint32_t key_home(const void *e)
{
	return key_hash((*(struct sec_peer *const *)e)->pub);
}

static bool key_used(const void *e)
{
	return *(struct sec_peer *const *)e != NULL;
}

/* The place of the peer with this public key, or of the free entry ending its search. */
static uint32_t key_place(const struct sec_dev *d, const uint8_t pub[32])
{
	struct sec_peer *const *tab = d->keys.e;
	uint32_t i = key_hash(pub) & d->keys.mask;

	while (tab[i] != NULL && memcmp(tab[i]->pub, pub, 32) != 0)
		i = (i + 1) & d->keys.mask;
	return i;
}

static struct sec_peer *key_find(const struct sec_dev *d, const uint8_t pub[32])
{
	return ((struct sec_peer *const *)d->keys.e)[key_place(d, pub)];
}

static void key_del(struct sec_dev *d, struct sec_peer *p)
{
	uint32_t i = key_place(d, p->pub);

	if (((struct sec_peer **)d->keys.e)[i] == p)
		tab_del_at(&d->keys, i);
}

/* ---- keypairs ---- */

/* Frees the AEAD contexts of kp (made or half made) and wipes it. */
static void kp_wipe(struct sec_keypair *kp)
{
	crypto_chachapoly_free(kp->send_cp);
	crypto_chachapoly_free(kp->recv_cp);
	crypto_gcm_free(kp->send_gcm);
	crypto_gcm_free(kp->recv_gcm);
	sec_wipe(kp, sizeof(*kp));
}

static void kp_clear(struct sec_dev *d, struct sec_keypair *kp)
{
	if (!kp->valid)
		return;
	slot_del(d, kp->local_idx);
	kp_wipe(kp);
}

/* A free keypair slot of p (none of cur, prev, next). */
static struct sec_keypair *kp_spare(struct sec_peer *p)
{
	for (int i = 0; i < 3; i++) {
		struct sec_keypair *kp = &p->kps[i];

		if (kp != p->cur && kp != p->prev && kp != p->next)
			return kp;
	}
	return NULL;
}

static int kp_init(struct sec_keypair *kp, enum sec_aead aead, const uint8_t send[32],
		   const uint8_t recv[32])
{
	int err = 0;

	kp->aead = aead;
	if (aead == SEC_AEAD_AES256GCM) {
		kp->send_gcm = crypto_gcm_new(send, 32, &err);
		if (kp->send_gcm != NULL)
			kp->recv_gcm = crypto_gcm_new(recv, 32, &err);
		return kp->recv_gcm != NULL ? 0 : err;
	}
	kp->send_cp = crypto_chachapoly_new(send, &err);
	if (kp->send_cp != NULL)
		kp->recv_cp = crypto_chachapoly_new(recv, &err);
	return kp->recv_cp != NULL ? 0 : err;
}

static bool kp_usable(const struct sec_keypair *kp, uint32_t now_ms)
{
	return kp != NULL && kp->valid && now_ms - kp->created_ms < SEC_REJECT_AFTER_MS &&
	       kp->send_counter < SEC_REJECT_AFTER_MESSAGES;
}

static void sec_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

/* RFC 6479: may `c` be accepted? (No change.) */
static bool replay_ok(const struct sec_keypair *kp, uint64_t c)
{
	if (c >= SEC_REJECT_AFTER_MESSAGES)
		return false;
	if (c >= kp->replay_next)
		return true;
	if (kp->replay_next - c > SEC_REPLAY_WINDOW - 64)
		return false;
	return !(kp->replay[(c >> 6) & (SEC_REPLAY_WORDS - 1)] & (1ull << (c & 63)));
}

/* Records `c` (already checked by replay_ok and authenticated). */
static void replay_mark(struct sec_keypair *kp, uint64_t c)
{
	if (c >= kp->replay_next) {
		/* words that enter the window are cleared (at most the whole bitmap) */
		uint64_t from = kp->replay_next == 0 ? 0 : ((kp->replay_next - 1) >> 6) + 1;
		uint64_t to = c >> 6;

		for (uint64_t w = from, n = 0; w <= to && n < SEC_REPLAY_WORDS; w++, n++)
			kp->replay[w & (SEC_REPLAY_WORDS - 1)] = 0;
		kp->replay_next = c + 1;
	}
	kp->replay[(c >> 6) & (SEC_REPLAY_WORDS - 1)] |= 1ull << (c & 63);
}

/* ---- handshake payload ---- */

static void payload_put(uint8_t out[SEC_PAYLOAD_LEN], const struct sec_params *sp,
			const uint8_t *ts)
{
	memset(out, 0, SEC_PAYLOAD_LEN);
	out[0] = SEC_VERSION;
	out[1] = (uint8_t)sp->aead;
	for (int i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(sp->epoch >> (8 * i));
	if (ts != NULL)
		memcpy(out + 12, ts, SEC_TAI64N_LEN);
	wire_put_u16le(out + 24, sp->udp_mtu);
	out[26] = sp->fec_data;
	out[27] = sp->fec_parity;
	out[28] = sp->nodelay;
	out[29] = sp->resend;
	out[30] = sp->nc;
	wire_put_u16le(out + 32, sp->interval_ms);
	wire_put_u16le(out + 34, sp->snd_wnd);
	wire_put_u16le(out + 36, sp->rcv_wnd);
}

static int payload_get(const uint8_t in[SEC_PAYLOAD_LEN], struct sec_params *sp)
{
	if (in[0] != SEC_VERSION || in[1] > SEC_AEAD_AES256GCM)
		return -EPROTO;
	memset(sp, 0, sizeof(*sp));
	sp->aead = (enum sec_aead)in[1];
	for (int i = 0; i < 8; i++)
		sp->epoch |= (uint64_t)in[4 + i] << (8 * i);
	sp->udp_mtu = wire_peek_u16le(in + 24);
	sp->fec_data = in[26];
	sp->fec_parity = in[27];
	sp->nodelay = in[28];
	sp->resend = in[29];
	sp->nc = in[30];
	sp->interval_ms = wire_peek_u16le(in + 32);
	sp->snd_wnd = wire_peek_u16le(in + 34);
	sp->rcv_wnd = wire_peek_u16le(in + 36);
	return 0;
}

/* TAI64N of wall_ns, its fraction rounded down to 2^24 ns so it does not fingerprint the clock. */
static void sec_tai64n(uint8_t out[SEC_TAI64N_LEN], uint64_t wall_ns)
{
	uint64_t sec = (1ull << 62) + 10 + wall_ns / 1000000000u;
	uint32_t ns = (uint32_t)(wall_ns % 1000000000u) & ~0xffffffu;

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(sec >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}

/* ---- device and peers ---- */

struct sec_dev *sec_dev_new(const struct sec_dev_params *p, int *err)
{
	struct sec_dev *d;
	int e;

	if (p == NULL || p->output == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(d->priv, p->private_key, SEC_KEY_LEN);
	e = crypto_x25519_pub(d->pub, d->priv);
	if (e < 0) {
		*err = e;
		sec_dev_free(d);
		return NULL;
	}
	sec_hash_label(d->mac1_key, SEC_LABEL_MAC1, d->pub);
	sec_hash_label(d->cookie_key, SEC_LABEL_COOKIE, d->pub);
	sec_hash_label(d->obf_key, SEC_LABEL_OBFUSCATE, d->pub);
	d->obfuscate = p->obfuscate;
	d->load_per_sec = p->load_per_sec != 0 ? p->load_per_sec : 256;
	d->output = p->output;
	d->user = p->user;
	d->slots = (struct sec_table){NULL, 0, sizeof(struct sec_slot), slot_home, slot_used};
	d->keys = (struct sec_table){NULL, 0, sizeof(struct sec_peer *), key_home, key_used};
	if (tab_grow(&d->slots, 16, 64) < 0 || tab_grow(&d->keys, 4, 16) < 0) {
		*err = -ENOMEM;
		sec_dev_free(d);
		return NULL;
	}
	return d;
}

void sec_dev_free(struct sec_dev *d)
{
	if (d == NULL)
		return;
	free(d->slots.e);
	free(d->keys.e);
	sec_wipe(d, sizeof(*d));
	free(d);
}

const uint8_t *sec_dev_public_key(const struct sec_dev *d)
{
	return d->pub;
}

void sec_dev_set_random(struct sec_dev *d, void (*fn)(void *user, uint8_t *out, size_t len),
			void *user)
{
	d->rand = fn;
	d->rand_user = user;
	if (fn == NULL)
		d->has_secret = false;
}

void sec_dev_get_stats(const struct sec_dev *d, struct sec_dev_stats *st)
{
	*st = d->st;
}

struct sec_peer *sec_peer_new(struct sec_dev *d, const uint8_t pub[SEC_KEY_LEN],
			      const uint8_t *psk, void *user, int *err)
{
	struct sec_peer *p;

	if (memcmp(pub, d->pub, SEC_KEY_LEN) == 0 || key_find(d, pub) != NULL) {
		*err = -EEXIST;
		return NULL;
	}
	if (tab_grow(&d->keys, d->npeers + 1, 16) < 0 ||
	    tab_grow(&d->slots, 4 * (d->npeers + 1) + 16, 64) < 0) {
		*err = -ENOMEM;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	p->d = d;
	p->user = user;
	memcpy(p->pub, pub, SEC_KEY_LEN);
	if (psk != NULL)
		memcpy(p->psk, psk, SEC_KEY_LEN);
	sec_hash_label(p->mac1_key, SEC_LABEL_MAC1, p->pub);
	sec_hash_label(p->cookie_key, SEC_LABEL_COOKIE, p->pub);
	sec_hash_label(p->obf_key, SEC_LABEL_OBFUSCATE, p->pub);
	tab_put(&d->keys, &p);
	p->listed = true;
	d->npeers++;
	return p;
}

static void pending_add(struct sec_peer *p)
{
	p->pend_prev = NULL;
	p->pend_next = p->d->pending;
	if (p->d->pending != NULL)
		p->d->pending->pend_prev = p;
	p->d->pending = p;
}

static void pending_del(struct sec_peer *p)
{
	if (p->pend_prev != NULL)
		p->pend_prev->pend_next = p->pend_next;
	else
		p->d->pending = p->pend_next;
	if (p->pend_next != NULL)
		p->pend_next->pend_prev = p->pend_prev;
	p->pend_prev = p->pend_next = NULL;
}

static void sec_hs_clear(struct sec_peer *p)
{
	if (p->hs_pending) {
		slot_del(p->d, p->hs_idx);
		pending_del(p);
	}
	p->hs_pending = false;
	p->hs_idx = 0;
	noise_hs_wipe(&p->hs);
}

void sec_peer_free(struct sec_peer *p)
{
	if (p == NULL)
		return;
	sec_hs_clear(p);
	for (int i = 0; i < 3; i++)
		kp_clear(p->d, &p->kps[i]);
	if (p->listed)
		key_del(p->d, p);
	p->d->npeers--;
	sec_wipe(p, sizeof(*p));
	free(p);
}

void sec_peer_unlist(struct sec_peer *p)
{
	if (p->listed)
		key_del(p->d, p);
	p->listed = false;
}

int sec_peer_relist(struct sec_peer *p)
{
	if (p->listed)
		return 0;
	if (key_find(p->d, p->pub) != NULL)
		return -EEXIST;
	tab_put(&p->d->keys, &p); /* room was made when p was added */
	p->listed = true;
	return 0;
}

void *sec_peer_user(const struct sec_peer *p)
{
	return p->user;
}

const uint8_t *sec_peer_public_key(const struct sec_peer *p)
{
	return p->pub;
}

void sec_peer_set_local(struct sec_peer *p, const struct sec_params *local)
{
	p->local = *local;
}

void sec_peer_local(const struct sec_peer *p, struct sec_params *local)
{
	*local = p->local;
}

void sec_peer_new_epoch(struct sec_peer *p, uint64_t epoch)
{
	p->local.epoch = epoch;
	p->want_hs = true;
}

void sec_peer_set_endpoint(struct sec_peer *p, const void *addr, size_t addr_len)
{
	if (addr_len > SEC_ADDR_MAX)
		addr_len = 0;
	if (addr_len > 0)
		memcpy(p->endpoint, addr, addr_len);
	p->endpoint_len = addr_len;
}

size_t sec_peer_endpoint(const struct sec_peer *p, void *addr, size_t cap)
{
	if (p->endpoint_len == 0 || cap < p->endpoint_len)
		return 0;
	memcpy(addr, p->endpoint, p->endpoint_len);
	return p->endpoint_len;
}

bool sec_peer_remote(const struct sec_peer *p, struct sec_params *remote)
{
	if (p->has_remote)
		*remote = p->remote;
	return p->has_remote;
}

uint32_t sec_peer_conv(const struct sec_peer *p)
{
	uint64_t x = p->local.epoch ^ p->remote.epoch;
	uint32_t conv = (uint32_t)(x ^ (x >> 32));

	return conv != 0 ? conv : 1;
}

bool sec_peer_ready(const struct sec_peer *p, uint32_t now_ms)
{
	return kp_usable(p->cur, now_ms);
}

void sec_peer_want_handshake(struct sec_peer *p)
{
	p->want_hs = true;
}

void sec_peer_get_stats(const struct sec_peer *p, uint32_t now_ms, struct sec_peer_stats *st)
{
	*st = p->st;
	st->has_keypair = kp_usable(p->cur, now_ms);
	st->keypair_age_ms = p->cur != NULL ? now_ms - p->cur->created_ms : 0;
	st->send_counter = p->cur != NULL ? p->cur->send_counter : 0;
	st->handshake_done = p->hs_done;
	st->last_handshake_age_ms = p->hs_done ? now_ms - p->last_hs_done_ms : 0;
}

/* ---- sending handshakes ---- */

/* Fills mac1 and mac2 of a handshake message of `len` bytes for a receiver whose mac1 key is
 * `mac1_key`, with `cookie` (NULL: none). */
static void sec_macs(struct sec_dev *d, uint8_t *msg, size_t len, const uint8_t *mac1_key,
		     const uint8_t *cookie)
{
	uint8_t *mac1 = msg + len - 2 * SEC_MAC_LEN, *mac2 = msg + len - SEC_MAC_LEN;

	sec_mac(mac1, mac1_key, 32, msg, len - 2 * SEC_MAC_LEN);
	if (cookie != NULL)
		sec_mac(mac2, cookie, SEC_MAC_LEN, msg, len - SEC_MAC_LEN);
	else if (d->obfuscate)
		sec_random(d, mac2, SEC_MAC_LEN);
	else
		memset(mac2, 0, SEC_MAC_LEN);
}

static void sec_send_initiation(struct sec_peer *p, uint32_t now_ms, uint64_t wall_ns)
{
	struct sec_dev *d = p->d;
	uint8_t *m = d->scratch, e[32], payload[SEC_PAYLOAD_LEN], ts[SEC_TAI64N_LEN];
	size_t n;
	uint32_t jitter;

	sec_hs_clear(p);
	if (noise_hs_init_pub(&p->hs, true, (const uint8_t *)SEC_PROLOGUE, strlen(SEC_PROLOGUE),
			      d->priv, d->pub, p->pub) < 0)
		return;
	noise_hs_set_psk(&p->hs, p->psk);
	sec_random(d, e, sizeof(e));
	sec_tai64n(ts, wall_ns);
	payload_put(payload, &p->local, ts);
	memset(m, 0, 8);
	m[0] = SEC_TYPE_INITIATION;
	if (noise_write_msg1(&p->hs, e, payload, sizeof(payload), m + 8, SEC_MSG1_LEN, &n) < 0 ||
	    n != SEC_MSG1_LEN) {
		sec_wipe(e, sizeof(e));
		noise_hs_wipe(&p->hs);
		return;
	}
	sec_wipe(e, sizeof(e));
	p->hs_idx = slot_add(d, SLOT_HANDSHAKE, p, NULL);
	p->hs_pending = true;
	pending_add(p);
	wire_put_u32le(m + 4, p->hs_idx);
	sec_macs(d, m, SEC_INITIATION_LEN,  p->mac1_key,
		 p->has_cookie && now_ms - p->cookie_ms < SEC_COOKIE_SECRET_MS ? p->cookie : NULL);
	memcpy(p->hs_mac1, m + SEC_INITIATION_LEN - 2 * SEC_MAC_LEN, SEC_MAC_LEN);
	if (p->hs_first_ms == 0)
		p->hs_first_ms = now_ms | 1;
	p->hs_sent_ms = now_ms;
	sec_random(d, (uint8_t *)&jitter, sizeof(jitter));
	p->hs_retry_ms = SEC_REKEY_RETRY_MS + jitter % (SEC_REKEY_RETRY_MS / 3);
	p->st.handshakes_tx++;
	if (d->obfuscate)
		sec_obfuscate(p->obf_key, m, SEC_INITIATION_LEN);
	d->output(d->user, p, p->endpoint, p->endpoint_len, m, SEC_INITIATION_LEN);
}


/* ---- timers ---- */

static bool kp_wants_rekey(const struct sec_peer *p, uint32_t now_ms)
{
	const struct sec_keypair *kp = p->cur;
	uint32_t age;

	if (kp == NULL || !kp->valid)
		return false;
	age = now_ms - kp->created_ms;
	if (kp->send_counter >= SEC_REKEY_AFTER_MESSAGES)
		return true;
	/* only while the keypair carries traffic: an idle tunnel renews when it is used again */
	if (!sec_before(kp->created_ms, p->last_rx_ms) && !p->sent_since_rx)
		return false;
	return age >= (kp->initiator ? SEC_REKEY_AFTER_MS : SEC_RESPONDER_REKEY_MS);
}

void sec_peer_service(struct sec_peer *p, uint32_t now_ms, uint64_t wall_ns)
{
	for (int i = 0; i < 3; i++) {
		struct sec_keypair *kp = &p->kps[i];

		if (kp->valid && now_ms - kp->created_ms >= SEC_REJECT_AFTER_MS) {
			kp_clear(p->d, kp);
			if (p->cur == kp)
				p->cur = NULL;
			if (p->prev == kp)
				p->prev = NULL;
			if (p->next == kp)
				p->next = NULL;
		}
	}
	if (kp_wants_rekey(p, now_ms) && !p->want_hs) {
		p->want_hs = true;
		p->st.rekeys++;
	}
	if (p->sent_since_rx && now_ms - p->sent_since_rx_ms >= SEC_STALE_MS) {
		/* we keep sending and nothing authentic comes back: the peer may have lost its
		 * keys (a restart); a handshake tells within one round trip */
		p->want_hs = true;
		p->sent_since_rx = false;
	}
	if (!p->want_hs)
		return;
	if (p->hs_first_ms != 0 && now_ms - p->hs_first_ms >= SEC_REKEY_ATTEMPT_MS) {
		p->want_hs = false; /* nobody answers; traffic will ask again */
		p->hs_first_ms = 0;
		sec_hs_clear(p);
		return;
	}
	if (p->endpoint_len == 0)
		return;
	if (p->hs_pending && now_ms - p->hs_sent_ms < p->hs_retry_ms)
		return;
	sec_send_initiation(p, now_ms, wall_ns);
}

static void due_min(bool *have, uint32_t *due, uint32_t t)
{
	if (!*have || sec_before(t, *due))
		*due = t;
	*have = true;
}

bool sec_peer_check(const struct sec_peer *p, uint32_t now_ms, uint32_t *due_ms)
{
	bool have = false;

	for (int i = 0; i < 3; i++)
		if (p->kps[i].valid)
			due_min(&have, due_ms, p->kps[i].created_ms + SEC_REJECT_AFTER_MS);
	if (p->want_hs && p->endpoint_len != 0)
		due_min(&have, due_ms, p->hs_pending ? p->hs_sent_ms + p->hs_retry_ms : now_ms);
	if (p->want_hs && p->hs_first_ms != 0)
		due_min(&have, due_ms, p->hs_first_ms + SEC_REKEY_ATTEMPT_MS);
	if (p->sent_since_rx)
		due_min(&have, due_ms, p->sent_since_rx_ms + SEC_STALE_MS);
	if (p->cur != NULL && p->cur->valid) {
		uint32_t t = p->cur->created_ms +
			     (p->cur->initiator ? SEC_REKEY_AFTER_MS : SEC_RESPONDER_REKEY_MS);

		if (sec_before(now_ms, t)) /* once past, sec_seal() asks when traffic comes */
			due_min(&have, due_ms, t);
	}
	return have;
}

/* ---- data ---- */


int sec_seal(struct sec_peer *p, uint8_t *buf, size_t body_len, uint32_t now_ms)
{
	struct sec_keypair *kp = p->cur;
	uint8_t nonce[12];
	int err;

	if (!kp_usable(kp, now_ms)) {
		p->st.drop_no_key++;
		p->want_hs = true;
		return KC_ENOKEY;
	}
	memset(buf, 0, 4);
	buf[0] = SEC_TYPE_DATA;
	wire_put_u32le(buf + 4, kp->remote_idx);
	for (int i = 0; i < 8; i++)
		buf[8 + i] = (uint8_t)(kp->send_counter >> (8 * i));
	sec_nonce(nonce, kp->send_counter);
	if (kp->aead == SEC_AEAD_AES256GCM)
		err = crypto_gcm_seal(kp->send_gcm, nonce, buf, SEC_HEADER_LEN, buf + SEC_HEADER_LEN,
				      body_len, buf + SEC_HEADER_LEN + body_len);
	else
		err = crypto_chachapoly_seal(kp->send_cp, nonce, buf, SEC_HEADER_LEN,
					     buf + SEC_HEADER_LEN, body_len,
					     buf + SEC_HEADER_LEN + body_len);
	if (err < 0)
		return err;
	kp->send_counter++;
	if (body_len == 0) {
		p->st.keepalive_tx++;
	} else {
		p->st.data_tx++;
		if (!p->sent_since_rx) {
			p->sent_since_rx = true;
			p->sent_since_rx_ms = now_ms;
		}
	}
	if (!p->want_hs && kp_wants_rekey(p, now_ms)) {
		p->want_hs = true;
		p->st.rekeys++;
	}
	if (p->d->obfuscate)
		sec_obfuscate(p->obf_key, buf, SEC_OVERHEAD + body_len);
	return (int)(SEC_OVERHEAD + body_len);
}

static void sec_send_keepalive(struct sec_peer *p, uint32_t now_ms)
{
	uint8_t buf[SEC_OVERHEAD];

	if (p->endpoint_len == 0 || sec_seal(p, buf, 0, now_ms) < 0)
		return;
	p->d->output(p->d->user, p, p->endpoint, p->endpoint_len, buf, sizeof(buf));
}

/* The peer proved itself with a packet from addr: roaming, liveness. */
static void sec_authentic(struct sec_peer *p, const void *addr, size_t addr_len, uint32_t now_ms)
{
	sec_peer_set_endpoint(p, addr, addr_len);
	p->last_rx_ms = now_ms;
	p->sent_since_rx = false;
}

static int sec_input_data(struct sec_dev *d, uint8_t *pkt, size_t len, const void *addr,
			  size_t addr_len, uint32_t now_ms, struct sec_peer **peer, uint8_t **body,
			  size_t *blen)
{
	struct sec_slot *s = slot_find(d, wire_peek_u32le(pkt + 4));
	struct sec_keypair *kp;
	struct sec_peer *p;
	uint8_t nonce[12];
	uint64_t c = 0;
	size_t n = len - SEC_OVERHEAD;
	int err;

	if (s == NULL || s->kind != SLOT_KEYPAIR) {
		d->st.rx_unknown_index++;
		return KC_ENOKEY;
	}
	kp = s->kp;
	p = s->peer;
	for (int i = 0; i < 8; i++)
		c |= (uint64_t)pkt[8 + i] << (8 * i);
	if (now_ms - kp->created_ms >= SEC_REJECT_AFTER_MS) {
		d->st.rx_unknown_index++;
		return KC_ENOKEY;
	}
	if (!replay_ok(kp, c)) {
		d->st.rx_replay++;
		p->st.replayed++;
		return KC_EREPLAY;
	}
	sec_nonce(nonce, c);
	if (kp->aead == SEC_AEAD_AES256GCM)
		err = crypto_gcm_open(kp->recv_gcm, nonce, pkt, SEC_HEADER_LEN, pkt + SEC_HEADER_LEN,
				      n, pkt + SEC_HEADER_LEN + n);
	else
		err = crypto_chachapoly_open(kp->recv_cp, nonce, pkt, SEC_HEADER_LEN,
					     pkt + SEC_HEADER_LEN, n, pkt + SEC_HEADER_LEN + n);
	if (err < 0) {
		d->st.rx_auth++;
		return KC_EAUTH;
	}
	replay_mark(kp, c);
	if (kp == p->next) {
		/* the initiator used the keypair we answered with: it is confirmed */
		if (p->prev != NULL)
			kp_clear(d, p->prev);
		p->prev = p->cur;
		p->cur = kp;
		p->next = NULL;
	}
	sec_authentic(p, addr, addr_len, now_ms);
	*peer = p;
	if (n == 0) {
		p->st.keepalive_rx++;
		return SEC_IN_CONSUMED;
	}
	p->st.data_rx++;
	*body = pkt + SEC_HEADER_LEN;
	*blen = n;
	return SEC_IN_DATA;
}

/* ---- receiving handshakes ---- */

static void sec_cookie_of(struct sec_dev *d, uint8_t out[SEC_MAC_LEN], const void *addr,
			  size_t addr_len, uint32_t now_ms)
{
	if (!d->has_secret || now_ms - d->secret_ms >= SEC_COOKIE_SECRET_MS) {
		sec_random(d, d->secret, sizeof(d->secret));
		sec_random(d, d->rl_key, sizeof(d->rl_key));
		d->secret_ms = now_ms;
		d->has_secret = true;
	}
	sec_mac(out, d->secret, sizeof(d->secret), addr, addr_len);
}

static void sec_send_cookie(struct sec_dev *d, const uint8_t *init, const void *addr,
			    size_t addr_len, uint32_t now_ms)
{
	uint8_t m[SEC_COOKIE_LEN], key[32];
	struct crypto_part part;
	uint8_t zero[12] = {0};

	memset(m, 0, 4);
	m[0] = SEC_TYPE_COOKIE;
	memcpy(m + 4, init + 4, 4); /* the initiation's sender index */
	sec_random(d, m + 8, SEC_COOKIE_NONCE_LEN);
	sec_cookie_of(d, m + 32, addr, addr_len, now_ms);
	part.p = m + 8;
	part.len = SEC_COOKIE_NONCE_LEN;
	crypto_blake2s(key, 32, d->cookie_key, 32, &part, 1);
	crypto_chachapoly_seal_key(key, zero, init + SEC_INITIATION_LEN - 2 * SEC_MAC_LEN,
				   SEC_MAC_LEN, m + 32, SEC_MAC_LEN, m + 48);
	sec_wipe(key, sizeof(key));
	d->st.rx_cookie_sent++;
	/* the cookie reply goes to whoever the initiation claimed to be: masked with the key of
	 * the peer it names is impossible (unknown yet), so it is masked with ours, which the
	 * initiator knows (it addressed us) */
	if (d->obfuscate)
		sec_obfuscate(d->obf_key, m, sizeof(m));
	d->output(d->user, NULL, addr, addr_len, m, sizeof(m));
}

/* Under load: one token bucket per address hash (shared on collision), SEC_RL_PER_SEC. */
static bool sec_ratelimit_ok(struct sec_dev *d, const void *addr, size_t addr_len,
			     uint32_t now_ms)
{
	struct crypto_part part = {addr, addr_len};
	uint8_t h[8];
	uint32_t slot, tag, tokens;

	crypto_blake2s(h, sizeof(h), d->rl_key, sizeof(d->rl_key), &part, 1);
	slot = wire_peek_u32le(h) % SEC_RL_SLOTS;
	tag = wire_peek_u32le(h + 4);
	if (d->rl[slot].tag != tag || d->rl[slot].last_ms == 0) {
		d->rl[slot].tag = tag;
		d->rl[slot].tokens_milli = SEC_RL_BURST * 1000;
	} else {
		uint64_t t = d->rl[slot].tokens_milli +
			     (uint64_t)(now_ms - d->rl[slot].last_ms) * SEC_RL_PER_SEC;

		d->rl[slot].tokens_milli = t > SEC_RL_BURST * 1000 ? SEC_RL_BURST * 1000 : (uint32_t)t;
	}
	d->rl[slot].last_ms = now_ms | 1;
	tokens = d->rl[slot].tokens_milli;
	if (tokens < 1000)
		return false;
	d->rl[slot].tokens_milli = tokens - 1000;
	return true;
}

static bool sec_under_load(struct sec_dev *d, uint32_t now_ms)
{
	if (!d->load_window_set || now_ms - d->load_window_ms >= 1000) {
		if (d->load_window_set && d->load_count > d->load_per_sec)
			d->st.under_load_sec++;
		d->load_window_ms = now_ms;
		d->load_window_set = true;
		d->load_count = 0;
	}
	return ++d->load_count > d->load_per_sec;
}

static void sec_note_handshake(struct sec_peer *p, const struct sec_params *remote,
			       uint32_t now_ms, struct sec_events *ev)
{
	ev->established = true;
	ev->remote_restarted = !p->has_remote || p->remote.epoch != remote->epoch;
	p->remote = *remote;
	p->has_remote = true;
	p->hs_done = true;
	p->last_hs_done_ms = now_ms;
	p->st.handshakes_done++;
}

static int sec_input_initiation(struct sec_dev *d, uint8_t *m, const void *addr,
				size_t addr_len, uint32_t now_ms, struct sec_peer **peer,
				struct sec_events *ev)
{
	uint8_t mac[SEC_MAC_LEN], payload[SEC_PAYLOAD_LEN], e[32], send[32], recv[32];
	uint8_t *r = d->scratch + SEC_INITIATION_LEN;
	struct noise_hs hs;
	struct sec_params remote;
	struct sec_keypair *kp;
	struct sec_peer *p;
	size_t n;
	int err;

	sec_mac(mac, d->mac1_key, 32, m, SEC_INITIATION_LEN - 2 * SEC_MAC_LEN);
	if (!sec_equal(mac, m + SEC_INITIATION_LEN - 2 * SEC_MAC_LEN, SEC_MAC_LEN)) {
		d->st.rx_bad_mac1++;
		return KC_EAUTH;
	}
	if (sec_under_load(d, now_ms)) {
		uint8_t cookie[SEC_MAC_LEN];

		sec_cookie_of(d, cookie, addr, addr_len, now_ms);
		sec_mac(mac, cookie, sizeof(cookie), m, SEC_INITIATION_LEN - SEC_MAC_LEN);
		if (!sec_equal(mac, m + SEC_INITIATION_LEN - SEC_MAC_LEN, SEC_MAC_LEN)) {
			d->st.rx_bad_mac2++;
			sec_send_cookie(d, m, addr, addr_len, now_ms);
			return KC_ELOAD;
		}
		if (!sec_ratelimit_ok(d, addr, addr_len, now_ms)) {
			d->st.rx_ratelimited++;
			return KC_ELOAD;
		}
	}
	if (noise_hs_init_pub(&hs, false, (const uint8_t *)SEC_PROLOGUE, strlen(SEC_PROLOGUE),
			      d->priv, d->pub, NULL) < 0)
		return -EIO;
	err = noise_read_msg1(&hs, m + 8, SEC_MSG1_LEN, payload, sizeof(payload), &n);
	if (err < 0 || n != SEC_PAYLOAD_LEN || payload_get(payload, &remote) < 0) {
		d->st.rx_auth++;
		err = KC_EAUTH;
		goto out;
	}
	p = key_find(d, hs.rs);
	if (p == NULL) {
		d->st.rx_unknown_peer++;
		err = KC_EUNKNOWN;
		goto out;
	}
	if (p->has_ts && memcmp(payload + 12, p->last_ts, SEC_TAI64N_LEN) <= 0) {
		d->st.rx_timestamp_replay++;
		err = KC_EREPLAY;
		goto out;
	}
	if (p->init_rx_seen && now_ms - p->last_init_rx_ms < SEC_INIT_MIN_GAP_MS) {
		d->st.rx_ratelimited++;
		err = KC_ELOAD;
		goto out;
	}
	/* authentic and fresh: from here on the peer's state changes */
	memcpy(p->last_ts, payload + 12, SEC_TAI64N_LEN);
	p->has_ts = true;
	p->last_init_rx_ms = now_ms;
	p->init_rx_seen = true;
	p->st.handshakes_rx++;

	noise_hs_set_psk(&hs, p->psk);
	sec_random(d, e, sizeof(e));
	payload_put(payload, &p->local, NULL);
	memset(r, 0, 12);
	r[0] = SEC_TYPE_RESPONSE;
	memcpy(r + 8, m + 4, 4);
	err = noise_write_msg2(&hs, e, payload, sizeof(payload), r + 12, SEC_MSG2_LEN, &n);
	sec_wipe(e, sizeof(e));
	if (err < 0 || n != SEC_MSG2_LEN) {
		err = err < 0 ? err : -EIO;
		goto out;
	}
	if (noise_split(&hs, send, recv) < 0) {
		err = -EIO;
		goto out;
	}
	if (p->next != NULL) {
		kp_clear(d, p->next);
		p->next = NULL;
	}
	kp = kp_spare(p);
	memset(kp, 0, sizeof(*kp));
	err = kp_init(kp, remote.aead, send, recv);
	sec_wipe(send, sizeof(send));
	sec_wipe(recv, sizeof(recv));
	if (err < 0) {
		kp_wipe(kp);
		goto out;
	}
	kp->valid = true;
	kp->initiator = false;
	kp->created_ms = now_ms;
	kp->remote_idx = wire_peek_u32le(m + 4);
	kp->local_idx = slot_add(d, SLOT_KEYPAIR, p, kp);
	p->next = kp;
	wire_put_u32le(r + 4, kp->local_idx);
	sec_macs(d, r, SEC_RESPONSE_LEN, p->mac1_key,
		 p->has_cookie && now_ms - p->cookie_ms < SEC_COOKIE_SECRET_MS ? p->cookie : NULL);
	sec_authentic(p, addr, addr_len, now_ms);
	sec_note_handshake(p, &remote, now_ms, ev);
	p->want_hs = false; /* the peer's handshake serves; sec_seal() asks again if needed */
	p->hs_first_ms = 0;
	p->st.handshakes_tx++;
	*peer = p;
	if (d->obfuscate)
		sec_obfuscate(p->obf_key, r, SEC_RESPONSE_LEN);
	d->output(d->user, p, addr, addr_len, r, SEC_RESPONSE_LEN);
	err = SEC_IN_CONSUMED;
out:
	noise_hs_wipe(&hs);
	return err;
}

static int sec_input_response(struct sec_dev *d, uint8_t *m, const void *addr, size_t addr_len,
			      uint32_t now_ms, struct sec_peer **peer, struct sec_events *ev)
{
	struct sec_slot *s = slot_find(d, wire_peek_u32le(m + 8));
	uint8_t mac[SEC_MAC_LEN], payload[SEC_PAYLOAD_LEN], send[32], recv[32];
	struct sec_params remote;
	struct sec_keypair *kp;
	struct sec_peer *p;
	struct noise_hs hs;
	size_t n;
	int err;

	if (s == NULL || s->kind != SLOT_HANDSHAKE) {
		d->st.rx_unknown_index++;
		return KC_ENOKEY;
	}
	p = s->peer;
	sec_mac(mac, d->mac1_key, 32, m, SEC_RESPONSE_LEN - 2 * SEC_MAC_LEN);
	if (!sec_equal(mac, m + SEC_RESPONSE_LEN - 2 * SEC_MAC_LEN, SEC_MAC_LEN)) {
		d->st.rx_bad_mac1++;
		return KC_EAUTH;
	}
	hs = p->hs; /* a forged response must not spoil the handshake a real one completes */
	err = noise_read_msg2(&hs, m + 12, SEC_MSG2_LEN, payload, sizeof(payload), &n);
	if (err < 0 || n != SEC_PAYLOAD_LEN || payload_get(payload, &remote) < 0) {
		noise_hs_wipe(&hs);
		d->st.rx_auth++;
		return KC_EAUTH;
	}
	err = noise_split(&hs, send, recv);
	noise_hs_wipe(&hs);
	if (err < 0)
		return err;
	kp = kp_spare(p);
	if (kp == NULL) {
		/* cur, prev and next all taken: the unconfirmed next makes room */
		kp_clear(d, p->next);
		kp = p->next;
		p->next = NULL;
	}
	memset(kp, 0, sizeof(*kp));
	err = kp_init(kp, p->local.aead, send, recv);
	sec_wipe(send, sizeof(send));
	sec_wipe(recv, sizeof(recv));
	if (err < 0) {
		kp_wipe(kp);
		return err;
	}
	/* the handshake's index becomes the keypair's */
	s->kind = SLOT_KEYPAIR;
	s->kp = kp;
	kp->local_idx = p->hs_idx;
	p->hs_pending = false;
	pending_del(p);
	p->hs_idx = 0;
	noise_hs_wipe(&p->hs);
	kp->valid = true;
	kp->initiator = true;
	kp->created_ms = now_ms;
	kp->remote_idx = wire_peek_u32le(m + 4);
	if (p->prev != NULL)
		kp_clear(d, p->prev);
	p->prev = p->cur;
	p->cur = kp;
	p->want_hs = false;
	p->hs_first_ms = 0;
	sec_authentic(p, addr, addr_len, now_ms);
	sec_note_handshake(p, &remote, now_ms, ev);
	*peer = p;
	sec_send_keepalive(p, now_ms); /* confirms the keypair to the responder */
	return SEC_IN_CONSUMED;
}

static int sec_input_cookie(struct sec_dev *d, uint8_t *m, uint32_t now_ms)
{
	struct sec_slot *s = slot_find(d, wire_peek_u32le(m + 4));
	uint8_t key[32], zero[12] = {0};
	struct crypto_part part = {m + 8, SEC_COOKIE_NONCE_LEN};
	struct sec_peer *p;
	int err;

	if (s == NULL || s->kind != SLOT_HANDSHAKE) {
		d->st.rx_unknown_index++;
		return KC_ENOKEY;
	}
	p = s->peer;
	crypto_blake2s(key, 32, p->cookie_key, 32, &part, 1);
	err = crypto_chachapoly_open_key(key, zero, p->hs_mac1, SEC_MAC_LEN, m + 32, SEC_MAC_LEN,
					 m + 48);
	sec_wipe(key, sizeof(key));
	if (err < 0) {
		d->st.rx_auth++;
		return KC_EAUTH;
	}
	memcpy(p->cookie, m + 32, SEC_MAC_LEN);
	p->cookie_ms = now_ms;
	p->has_cookie = true;
	p->st.cookies_rx++;
	return SEC_IN_CONSUMED;
}

int sec_input(struct sec_dev *d, uint8_t *dgram, size_t len, const void *addr, size_t addr_len,
	      uint32_t now_ms, struct sec_peer **peer, uint8_t **body,
	      size_t *blen, struct sec_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	*peer = NULL;
	if (len < SEC_OVERHEAD || addr_len > SEC_ADDR_MAX) {
		d->st.rx_short++;
		return KC_ESHORT;
	}
	if (d->obfuscate) {
		sec_obfuscate(d->obf_key, dgram, len);
		if (len == SEC_COOKIE_LEN && !(dgram[0] == SEC_TYPE_COOKIE && dgram[1] == 0 &&
					       dgram[2] == 0 && dgram[3] == 0)) {
			/* a cookie reply is masked with its sender's key (it cannot know ours):
			 * try the peers we sent an initiation to, the only ones that answer so */
			sec_obfuscate(d->obf_key, dgram, len);
			for (struct sec_peer *p = d->pending; p != NULL; p = p->pend_next) {
				sec_obfuscate(p->obf_key, dgram, len);
				if (dgram[0] == SEC_TYPE_COOKIE && dgram[1] == 0 && dgram[2] == 0 &&
				    dgram[3] == 0)
					break;
				sec_obfuscate(p->obf_key, dgram, len);
			}
		}
	}
	if (dgram[1] != 0 || dgram[2] != 0 || dgram[3] != 0) {
		d->st.rx_bad_type++;
		return KC_ETYPE;
	}
	switch (dgram[0]) {
	case SEC_TYPE_DATA:
		return sec_input_data(d, dgram, len, addr, addr_len, now_ms, peer, body, blen);
	case SEC_TYPE_INITIATION:
		if (len != SEC_INITIATION_LEN)
			break;
		return sec_input_initiation(d, dgram, addr, addr_len, now_ms, peer, ev);
	case SEC_TYPE_RESPONSE:
		if (len != SEC_RESPONSE_LEN)
			break;
		return sec_input_response(d, dgram, addr, addr_len, now_ms, peer, ev);
	case SEC_TYPE_COOKIE:
		if (len != SEC_COOKIE_LEN)
			break;
		return sec_input_cookie(d, dgram, now_ms);
	}
	d->st.rx_bad_type++;
	return KC_ETYPE;
}
