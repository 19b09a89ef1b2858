/* The session: KCP output -> FEC header and parity -> crypto, and back (spec section 1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kcpcore/error.h"
#include "kcpcore/pool.h"
#include "kcpcore/session.h"
#include "kcp_wire.h"
#include "wire.h"

#define SESSION_FEC_GROUPS_DEF 3

struct session {
	struct kcp *kcp;
	struct crypt *crypt; /* NULL for CRYPT_NULL */
	enum crypt_method method;
	size_t crypt_hdr;
	struct fec_encoder *enc; /* NULL with FEC off */
	struct fec_decoder *dec;
	unsigned fec_data, fec_parity, fec_groups;
	unsigned udp_mtu;
	bool one_segment;
	struct pool *pool;
	session_output_fn output;
	void *user;
	struct session_stats st;
	struct fec_stats fec_tx_old, fec_rx_old; /* counters of replaced FEC objects */
};

/* FEC counters are summed field by field as an array. */
_Static_assert(sizeof(struct fec_stats) % sizeof(uint64_t) == 0, "fec_stats holds only u64");

void session_params_default(struct session_params *p)
{
	memset(p, 0, sizeof(*p));
	p->udp_mtu = 1400;
	p->crypt = CRYPT_AES_256;
	p->fec_groups = SESSION_FEC_GROUPS_DEF;
	p->one_segment = true;
	kcp_params_default(&p->kcp);
}

unsigned session_overhead(enum crypt_method crypt, bool fec)
{
	return (unsigned)(crypt_header_len(crypt) + crypt_trailer_len(crypt)) +
	       (fec ? FEC_DATA_HDR : 0);
}

int session_mss(unsigned udp_mtu, enum crypt_method crypt, bool fec)
{
	unsigned over = session_overhead(crypt, fec) + KCP_OVERHEAD;

	if (udp_mtu <= over || udp_mtu > UINT16_MAX)
		return -EINVAL;
	return (int)(udp_mtu - over);
}

static unsigned session_kcp_mtu(const struct session *s)
{
	return s->udp_mtu - session_overhead(s->method, s->enc != NULL);
}

/* Frames that leave: crypto header in front, then out. Returns the bytes sent. */
static size_t session_seal_out(struct session *s, struct pkt *p)
{
	size_t len;

	if (s->crypt != NULL) {
		p->off = (uint16_t)(p->off - s->crypt_hdr);
		p->len = (uint16_t)crypt_seal(s->crypt, pkt_data(p), p->len);
	}
	len = p->len;
	s->st.out_pkts++;
	s->st.out_bytes += len;
	s->output(p, s->user);
	return len;
}

/* One KCP datagram out, with its FEC header and parity; what they and the crypto add is
 * charged to KCP's rate limit, which counted the KCP bytes, so the limit covers the wire. */
static void session_kcp_output(struct pkt *p, void *user)
{
	struct session *s = user;
	size_t kcp_len = p->len, wire = 0;
	int nparity;

	if (s->enc == NULL) {
		wire = session_seal_out(s, p);
		kcp_rate_charge(s->kcp, wire - kcp_len);
		return;
	}
	p->off -= FEC_DATA_HDR;
	p->len += FEC_DATA_HDR;
	nparity = fec_encoder_encode(s->enc, pkt_data(p), p->len - FEC_DATA_HDR);
	if (nparity < 0) {
		/* cannot happen with the MTU arithmetic above; counted, not sent */
		s->st.fec_errs++;
		pool_put(s->pool, p);
		return;
	}
	wire += session_seal_out(s, p);
	for (int i = 0; i < nparity; i++) {
		struct pkt *q = pool_get(s->pool);
		const uint8_t *par;
		size_t len;

		if (q == NULL) {
			s->st.out_drop_no_buffer++;
			continue;
		}
		par = fec_encoder_parity(s->enc, (unsigned)i, &len);
		memcpy(pkt_data(q), par, len);
		q->len = (uint16_t)len;
		wire += session_seal_out(s, q);
	}
	kcp_rate_charge(s->kcp, wire - kcp_len);
}

static void session_add_fec(struct fec_stats *dst, const struct fec_stats *a,
			    const struct fec_stats *b)
{
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *x = (const uint64_t *)a, *y = (const uint64_t *)b;

	for (size_t i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] = x[i] + (y != NULL ? y[i] : 0);
}

static void session_fec_free(struct session *s)
{
	if (s->enc != NULL)
		session_add_fec(&s->fec_tx_old, &s->fec_tx_old, fec_encoder_stats(s->enc));
	if (s->dec != NULL)
		session_add_fec(&s->fec_rx_old, &s->fec_rx_old, fec_decoder_stats(s->dec));
	fec_encoder_free(s->enc);
	fec_decoder_free(s->dec);
	s->enc = NULL;
	s->dec = NULL;
}

/* Builds the FEC objects for data/parity (0/0: none) into *enc and *dec. */
static int session_fec_make(const struct session *s, unsigned data, unsigned parity,
			    struct fec_encoder **enc, struct fec_decoder **dec)
{
	/* Size field + KCP bytes. Exactly that would be 2 + the KCP MTU; the udp_mtu bound leaves
	 * room for segments queued under a larger MSS before a live switch to FEC. */
	size_t shard_max = 2 + (size_t)s->udp_mtu;
	int err = 0;

	*enc = NULL;
	*dec = NULL;
	if (data == 0 && parity == 0)
		return 0;
	*enc = fec_encoder_new(data, parity, shard_max, &err);
	if (*enc == NULL)
		return err;
	*dec = fec_decoder_new(data, parity, shard_max, s->fec_groups, &err);
	if (*dec == NULL) {
		fec_encoder_free(*enc);
		*enc = NULL;
		return err;
	}
	return 0;
}

struct session *session_new(const struct session_params *p, struct pool *pool,
			    session_output_fn output, void *user, int *err)
{
	struct kcp_params kp = p->kcp;
	struct session *s;
	int mss;

	mss = session_mss(p->udp_mtu, p->crypt, p->fec_data + p->fec_parity > 0);
	if (mss < 1 || output == NULL || (size_t)KC_HEADROOM + p->udp_mtu > pool_buf_size(pool) ||
	    (p->fec_data == 0) != (p->fec_parity == 0)) {
		*err = -EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	s->method = p->crypt;
	s->crypt_hdr = crypt_header_len(p->crypt);
	s->udp_mtu = p->udp_mtu;
	s->one_segment = p->one_segment;
	s->fec_groups = p->fec_groups ? p->fec_groups : SESSION_FEC_GROUPS_DEF;
	s->pool = pool;
	s->output = output;
	s->user = user;
	if (p->crypt != CRYPT_NULL) {
		s->crypt = crypt_new(p->crypt, p->key, err);
		if (s->crypt == NULL)
			goto fail;
	}
	*err = session_fec_make(s, p->fec_data, p->fec_parity, &s->enc, &s->dec);
	if (*err < 0)
		goto fail_crypt;
	s->fec_data = p->fec_data;
	s->fec_parity = p->fec_parity;
	kp.mtu = session_kcp_mtu(s);
	s->kcp = kcp_new(p->conv, &kp, pool, session_kcp_output, s, err);
	if (s->kcp == NULL)
		goto fail_fec;
	return s;

fail_fec:
	session_fec_free(s);
fail_crypt:
	crypt_free(s->crypt);
fail:
	free(s);
	return NULL;
}

void session_free(struct session *s)
{
	if (s == NULL)
		return;
	kcp_free(s->kcp);
	session_fec_free(s);
	crypt_free(s->crypt);
	free(s);
}

int session_send(struct session *s, const void *msg, size_t len)
{
	int err;

	if (s->one_segment && len > kcp_mss(s->kcp))
		return KC_EMSGSIZE;
	err = kcp_send(s->kcp, msg, len);
	if (err == 0)
		s->st.bytes_sent += len;
	return err;
}

static int session_kcp_input(struct session *s, const uint8_t *kcp, size_t len, bool regular,
			     uint32_t now_ms)
{
	int err = kcp_input(s->kcp, kcp, len, regular, now_ms);

	if (err < 0)
		s->st.kcp_in_errs++;
	return err;
}

/* Offers an FEC packet to the decoder and hands what it rebuilds to KCP. */
static void session_fec_input(struct session *s, const uint8_t *body, size_t len,
			      uint32_t now_ms)
{
	int n = fec_decoder_input(s->dec, body, len, now_ms);

	if (n < 0) {
		s->st.fec_errs++;
		return;
	}
	for (int i = 0; i < n; i++) {
		size_t klen;
		const uint8_t *k = fec_decoder_recovered(s->dec, (unsigned)i, &klen);

		session_kcp_input(s, k, klen, false, now_ms);
	}
}

int session_open(struct crypt *c, uint8_t *dgram, size_t len, uint8_t **body, size_t *blen)
{
	int n;

	if (c == NULL) {
		*body = dgram;
		*blen = len;
		return 0;
	}
	n = crypt_open(c, dgram, len, body);
	if (n < 0)
		return n;
	*blen = (size_t)n;
	return 0;
}

int session_peek(const uint8_t *body, size_t blen, struct session_peek *pk)
{
	const uint8_t *kcp = body;
	size_t klen = blen;
	int err;

	switch (fec_packet_type(body, blen)) {
	case FEC_TYPE_PARITY:
		return KC_EFEC;
	case FEC_TYPE_DATA:
		err = fec_packet_kcp(body, blen, &kcp, &klen);
		if (err < 0)
			return err;
		break;
	default:
		break;
	}
	if (klen < KCP_OVERHEAD)
		return KC_ESHORT;
	memset(pk, 0, sizeof(*pk));
	pk->conv = wire_peek_u32le(kcp);
	pk->sn = wire_peek_u32le(kcp + 12);
	pk->una = wire_peek_u32le(kcp + 16);
	for (size_t off = 0; off + KCP_OVERHEAD <= klen;) {
		uint32_t len = wire_peek_u32le(kcp + off + 20);

		if (kcp[off + 4] == KCP_CMD_PUSH) {
			pk->has_push = true;
			pk->push_sn = wire_peek_u32le(kcp + off + 12);
			break;
		}
		if (len > klen - off - KCP_OVERHEAD)
			break;
		off += KCP_OVERHEAD + len;
	}
	return 0;
}

/* The input path after decryption; in_pkts/in_bytes are counted by the callers. */
static int session_input_body(struct session *s, uint8_t *body, size_t blen, uint32_t now_ms)
{
	const uint8_t *kcp;
	size_t klen;
	int err;

	switch (fec_packet_type(body, blen)) {
	case FEC_TYPE_DATA:
		err = fec_packet_kcp(body, blen, &kcp, &klen);
		if (err < 0) {
			s->st.fec_errs++;
			break;
		}
		err = session_kcp_input(s, kcp, klen, true, now_ms);
		if (s->dec != NULL)
			session_fec_input(s, body, blen, now_ms);
		break;
	case FEC_TYPE_PARITY:
		err = 0;
		if (s->dec != NULL)
			session_fec_input(s, body, blen, now_ms);
		else
			s->st.fec_parity_ignored++;
		break;
	default:
		err = session_kcp_input(s, body, blen, true, now_ms);
		break;
	}
	if (err < 0)
		s->st.in_errs++;
	return err;
}

int session_input(struct session *s, uint8_t *dgram, size_t len, uint32_t now_ms)
{
	uint8_t *body;
	size_t blen;
	int err;

	s->st.in_pkts++;
	s->st.in_bytes += len;
	err = session_open(s->crypt, dgram, len, &body, &blen);
	if (err < 0) {
		s->st.in_errs++;
		s->st.in_csum_errs++;
		return err;
	}
	return session_input_body(s, body, blen, now_ms);
}

int session_input_opened(struct session *s, uint8_t *body, size_t blen, size_t wire_len,
			 uint32_t now_ms)
{
	s->st.in_pkts++;
	s->st.in_bytes += wire_len;
	return session_input_body(s, body, blen, now_ms);
}

int session_recv(struct session *s, void *buf, size_t cap)
{
	int n = kcp_recv(s->kcp, buf, cap);

	if (n > 0)
		s->st.bytes_received += (uint64_t)n;
	return n;
}

void session_update(struct session *s, uint32_t now_ms)
{
	kcp_update(s->kcp, now_ms);
}

bool session_check(const struct session *s, uint32_t now_ms, uint32_t *due_ms)
{
	return kcp_check(s->kcp, now_ms, due_ms);
}

int session_set_fec(struct session *s, unsigned data, unsigned parity)
{
	struct fec_encoder *enc;
	struct fec_decoder *dec;
	unsigned old_mtu = session_kcp_mtu(s);
	int err;

	if ((data == 0) != (parity == 0))
		return -EINVAL;
	err = session_fec_make(s, data, parity, &enc, &dec);
	if (err < 0)
		return err;
	session_fec_free(s);
	s->enc = enc;
	s->dec = dec;
	s->fec_data = data;
	s->fec_parity = parity;
	err = kcp_set_mtu(s->kcp, session_kcp_mtu(s));
	if (err < 0) {
		/* cannot happen: the MTU only moves by the FEC header */
		kcp_set_mtu(s->kcp, old_mtu);
		return err;
	}
	return 0;
}

void session_set_user(struct session *s, void *user)
{
	s->user = user;
}

struct kcp *session_kcp(struct session *s)
{
	return s->kcp;
}

void session_fec(const struct session *s, unsigned *data, unsigned *parity)
{
	*data = s->fec_data;
	*parity = s->fec_parity;
}

enum crypt_method session_crypt(const struct session *s)
{
	return s->method;
}

void session_get_stats(const struct session *s, struct session_stats *st)
{
	*st = s->st;
	st->kcp = *kcp_stats(s->kcp);
	session_add_fec(&st->fec_tx, &s->fec_tx_old, s->enc ? fec_encoder_stats(s->enc) : NULL);
	session_add_fec(&st->fec_rx, &s->fec_rx_old, s->dec ? fec_decoder_stats(s->dec) : NULL);
}
