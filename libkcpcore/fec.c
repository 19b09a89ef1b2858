/* FEC in kcp-go's framing (spec/kcp-wire.md section 3) on ISA-L.
 *
 * The code is klauspost/reedsolomon's default: GF(2^8) over 0x11D (ISA-L's field too), the
 * n x d Vandermonde matrix V[r][c] = r^c made systematic as M = V * T^-1, T its top d x d
 * square. Row r of M maps the values of a polynomial of degree < d at the points 0..d-1 to its
 * value at r, so a parity row is a row of Lagrange basis polynomials:
 *
 *     M[r][c] = prod_{j != c} (r ^ j) / prod_{j != c} (c ^ j)          (j over 0..d-1)
 *
 * which fec_rs keeps as two vectors of d and p bytes instead of a matrix, and which needs no
 * scratch to rebuild after an autotune. Rebuilding e lost data shards inverts the surviving
 * rows' d x d submatrix; with the data rows being identity rows, that inverse is the e x e
 * inverse of the chosen parity rows restricted to the lost columns, combined with the known
 * data columns (see rs_rebuild()).
 *
 * Encoder: each data shard is folded into the parity as it passes (ec_encode_data_update), so
 * the encoder keeps no copy of the data and the caller may encrypt the packet in place.
 *
 * Decoder: kcp-go 5.6.1's model, so that the stream-level behaviour (recoveries, autotune, even
 * the garbage a mismatched decoder recovers) is the same: one cache of packets sorted by seqid
 * in wraparound order, at most `cap` of them (kcp-go: 3 * n). A packet's group is every cached
 * packet with the same seqid - seqid mod n; the group is freed when it holds d data packets, or
 * rebuilt and freed when it holds d packets of any kind. Where 5.6.1 can be improved at no
 * cost to compatibility, it is:
 * - a late packet of a group completed lately is ignored instead of cached again (kcp-go
 *   rebuilds such a group twice when parity >= data), unless the stream has contradicted the
 *   shard counts since the last tune: then kcp-go's garbage recoveries are kept, as the
 *   autotune vector shows them;
 * - the cache spans the last `groups` groups (as kcp-go master); older packets are dropped and
 *   a straggler from before that is ignored, but DEC_STALE_RESTART of them in a row mean the
 *   sender restarted its seqids, and the cache starts afresh (5.6.1 would stall until the old
 *   entries expire);
 * - expiry looks at every entry, not only the front one. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/erasure_code.h>

#include "kcpcore/error.h"
#include "kcpcore/fec.h"
#include "kcpcore/kcp.h"
#include "fec_wire.h"
#include "wire.h"

#define RS_PASS_ROWS	  6  /* lost shards rebuilt per ISA-L pass (its widest kernel) */
#define RS_ALIGN	  64 /* buffer alignment and stride granularity */
#define DEC_LOSS_MIN	  10 /* lost data shards a decoder can always rebuild per group */
#define DEC_AUTO_SHARDS	  30 /* cache slots per group while the shard counts are unknown */
#define DEC_GROUPS_MAX	  1024
#define DEC_DONE	  8 /* completed groups remembered, to ignore their late packets */
#define DEC_STALE_RESTART 4 /* packets in a row from behind the horizon that mean a restart */

struct fec_rs {
	unsigned data, parity;
	uint8_t log[256]; /* GF(2^8) over 0x11D, generator 2 */
	uint8_t exp[3 * 255];
	uint8_t num[FEC_MAX_SHARDS]; /* parity row r: prod_j ((data + r) ^ j) */
	uint8_t den[FEC_MAX_SHARDS]; /* data column c: prod_{j != c} (c ^ j) */
	uint8_t *enc_tbls;	     /* ISA-L tables of the parity rows (32 * d * p), or NULL */
	unsigned loss_max;	     /* lost data shards one rebuild handles */
	uint8_t *inv_in, *inv_out;   /* loss_max^2 each */
	uint8_t *coef;		     /* RS_PASS_ROWS x FEC_MAX_SHARDS decode coefficients */
	uint8_t *dec_tbls;	     /* ISA-L tables for one pass */
	size_t dec_tbls_len;
	uint8_t *src[FEC_MAX_SHARDS];
	uint8_t *dst[RS_PASS_ROWS];
	uint8_t lost[FEC_MAX_SHARDS]; /* lost data columns */
	uint8_t used[FEC_MAX_SHARDS]; /* parity rows standing in for them */
};

struct fec_encoder {
	struct fec_rs rs;
	unsigned data, parity;
	size_t shard_max;
	uint32_t next_seqid;
	uint32_t paws;
	unsigned count;	  /* data shards of the current group so far */
	size_t maxlen;	  /* longest shard of the current group; parity bytes below it are live */
	unsigned ready;	  /* parity packets ready after the last encode */
	uint8_t *par_mem; /* parity packets, par_stride bytes apart */
	size_t par_stride;
	uint8_t *par[FEC_MAX_SHARDS]; /* parity shards (after their header) */
	struct fec_stats stats;
};

struct fec_entry {
	uint32_t seqid;
	uint32_t ts_ms; /* arrival */
	uint32_t buf;	/* index of its buffer */
	uint16_t len;	/* shard bytes */
	uint8_t is_data;
};

struct fec_sample {
	uint32_t seqid;
	uint8_t valid;
	uint8_t is_data;
};

struct fec_recovered {
	const uint8_t *p;
	size_t len;
};

struct fec_decoder {
	struct fec_rs rs;
	unsigned data, parity, n; /* n = 0 while unknown */
	size_t shard_max, stride;
	uint32_t expire_ms;
	uint32_t oldest_ms;    /* no cached entry arrived before this */
	unsigned groups;       /* groups kept behind the newest one */
	unsigned stale_run;    /* packets in a row from behind that horizon */
	unsigned cap;	       /* entries kept after an input */
	unsigned count;	       /* entries cached */
	struct fec_entry *ent; /* cap + 1, sorted by seqid */
	uint32_t *free_bufs;   /* stack of free buffer indices */
	unsigned nfree;
	uint8_t *bufs;		   /* cap + 1 shard buffers */
	uint8_t *out;		   /* loss_max rebuilt shards */
	struct fec_recovered *rec; /* loss_max */
	unsigned nrec;
	struct fec_sample *tune; /* FEC_TUNE_SAMPLES */
	bool lost_valid;	 /* lost_base is the last group counted unrecoverable */
	uint32_t lost_base;
	bool mismatch;		 /* the stream contradicted the counts since the last tune */
	uint32_t done[DEC_DONE]; /* bases of the last groups completed (ndone valid) */
	unsigned ndone, done_next;
	uint8_t present[FEC_MAX_SHARDS];
	uint8_t *shard[FEC_MAX_SHARDS];
	struct fec_stats stats;
};

static size_t round_up(size_t v, size_t to)
{
	return (v + to - 1) / to * to;
}

static void *alloc_aligned(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, RS_ALIGN, round_up(len ? len : 1, RS_ALIGN)) != 0)
		return NULL;
	return p;
}

static bool shards_valid(unsigned data, unsigned parity)
{
	return data >= 1 && parity >= 1 && data + parity <= FEC_MAX_SHARDS;
}

/* ---- the Reed-Solomon code ---- */

static void rs_tables(struct fec_rs *rs)
{
	unsigned x = 1;

	for (unsigned i = 0; i < 255; i++) {
		rs->exp[i] = rs->exp[i + 255] = rs->exp[i + 510] = (uint8_t)x;
		rs->log[x] = (uint8_t)i;
		x <<= 1;
		if (x & 0x100)
			x ^= 0x11D;
	}
}

static uint8_t rs_mul(const struct fec_rs *rs, uint8_t a, uint8_t b)
{
	return a && b ? rs->exp[rs->log[a] + rs->log[b]] : 0;
}

/* Entry (r, c) of the parity rows (r counted from the first parity row):
 * num[r] / ((data + r) ^ c) / den[c]. Never 0. */
static uint8_t rs_coef(const struct fec_rs *rs, unsigned r, unsigned c)
{
	uint8_t x = (uint8_t)((rs->data + r) ^ c);

	return rs->exp[rs->log[rs->num[r]] + 510 - rs->log[x] - rs->log[rs->den[c]]];
}

/* Sets the code to data + parity shards; O(d * (d + p)) field operations, no allocation. */
static void rs_setup(struct fec_rs *rs, unsigned data, unsigned parity)
{
	rs->data = data;
	rs->parity = parity;
	for (unsigned c = 0; c < data; c++) {
		uint8_t w = 1;

		for (unsigned j = 0; j < data; j++)
			if (j != c)
				w = rs_mul(rs, w, (uint8_t)(c ^ j));
		rs->den[c] = w;
	}
	for (unsigned r = 0; r < parity; r++) {
		uint8_t v = 1;

		for (unsigned j = 0; j < data; j++)
			v = rs_mul(rs, v, (uint8_t)((data + r) ^ j));
		rs->num[r] = v;
	}
}

static void rs_fini(struct fec_rs *rs)
{
	free(rs->enc_tbls);
	free(rs->inv_in);
	free(rs->inv_out);
	free(rs->coef);
	free(rs->dec_tbls);
}

/* Sets up `rs` for data + parity, with encode tables when `encode`, and scratch to rebuild
 * loss_max (0: none) shards of codes of up to data_hint data shards at RS_PASS_ROWS per pass
 * (and of any size at fewer). data = 0 leaves the code unset. Returns 0 or -ENOMEM. */
static int rs_init(struct fec_rs *rs, unsigned data, unsigned parity, bool encode,
		   unsigned loss_max, unsigned data_hint)
{
	size_t tbls = 32 * (size_t)RS_PASS_ROWS * data_hint;

	memset(rs, 0, sizeof(*rs));
	rs_tables(rs);
	if (tbls < 32 * (size_t)(FEC_MAX_SHARDS - 1))
		tbls = 32 * (size_t)(FEC_MAX_SHARDS - 1);
	if (loss_max > 0) {
		rs->loss_max = loss_max;
		rs->dec_tbls_len = tbls;
		rs->inv_in = malloc((size_t)loss_max * loss_max);
		rs->inv_out = malloc((size_t)loss_max * loss_max);
		rs->coef = malloc((size_t)RS_PASS_ROWS * FEC_MAX_SHARDS);
		rs->dec_tbls = alloc_aligned(tbls);
		if (!rs->inv_in || !rs->inv_out || !rs->coef || !rs->dec_tbls)
			goto fail;
	}
	if (data == 0)
		return 0;
	rs_setup(rs, data, parity);
	if (encode) {
		uint8_t *rows = malloc((size_t)data * parity);

		rs->enc_tbls = alloc_aligned(32 * (size_t)data * parity);
		if (!rows || !rs->enc_tbls) {
			free(rows);
			goto fail;
		}
		fec_rs_parity_rows(rs, rows);
		ec_init_tables((int)data, (int)parity, rows, rs->enc_tbls);
		free(rows);
	}
	return 0;
fail:
	rs_fini(rs);
	return -ENOMEM;
}

/* Rebuilds the data shards i < data with present[i] == 0 into shards[i], from the present data
 * shards and the first present parity shards. With L lost columns and the parity rows P:
 *   P[used][lost] * D[lost] = Par[used] + P[used][known] * D[known]      (char 2: + is -)
 * so D[lost] = A^-1 * (Par[used] + P[used][known] * D[known]), A = P[used][lost], and each lost
 * shard is one ISA-L dot product over the d survivors. Returns the count rebuilt, -EINVAL when
 * fewer than data shards are present, -ENOSPC beyond loss_max. */
static int rs_rebuild(struct fec_rs *rs, uint8_t *const *shards, const uint8_t *present, size_t len)
{
	unsigned d = rs->data, nlost = 0, nused = 0, k = 0;
	unsigned pass_rows;

	for (unsigned c = 0; c < d; c++)
		if (!present[c])
			rs->lost[nlost++] = (uint8_t)c;
	if (nlost == 0)
		return 0;
	for (unsigned r = 0; r < rs->parity && nused < nlost; r++)
		if (present[d + r])
			rs->used[nused++] = (uint8_t)r;
	if (nused < nlost)
		return -EINVAL;
	if (nlost > rs->loss_max)
		return -ENOSPC;

	for (unsigned i = 0; i < nlost; i++)
		for (unsigned j = 0; j < nlost; j++)
			rs->inv_in[i * nlost + j] = rs_coef(rs, rs->used[i], rs->lost[j]);
	if (gf_invert_matrix(rs->inv_in, rs->inv_out, (int)nlost) != 0)
		return -EINVAL; /* cannot happen: the code is MDS */

	for (unsigned c = 0; c < d; c++)
		if (present[c])
			rs->src[k++] = shards[c];
	for (unsigned i = 0; i < nlost; i++)
		rs->src[k++] = shards[d + rs->used[i]];

	pass_rows = (unsigned)(rs->dec_tbls_len / (32 * (size_t)d));
	if (pass_rows > RS_PASS_ROWS)
		pass_rows = RS_PASS_ROWS;
	for (unsigned first = 0; first < nlost; first += pass_rows) {
		unsigned rows = nlost - first < pass_rows ? nlost - first : pass_rows;

		for (unsigned t = 0; t < rows; t++) {
			const uint8_t *inv = rs->inv_out + (first + t) * nlost;
			uint8_t *row = rs->coef + t * d;

			k = 0;
			for (unsigned c = 0; c < d; c++) {
				uint8_t v = 0;

				if (!present[c])
					continue;
				for (unsigned j = 0; j < nlost; j++)
					v ^= rs_mul(rs, inv[j], rs_coef(rs, rs->used[j], c));
				row[k++] = v;
			}
			for (unsigned j = 0; j < nlost; j++)
				row[k++] = inv[j];
			rs->dst[t] = shards[rs->lost[first + t]];
		}
		ec_init_tables((int)d, (int)rows, rs->coef, rs->dec_tbls);
		ec_encode_data((int)len, (int)d, (int)rows, rs->dec_tbls, rs->src, rs->dst);
	}
	return (int)nlost;
}

struct fec_rs *fec_rs_new(unsigned data, unsigned parity, int *err)
{
	struct fec_rs *rs;

	if (!shards_valid(data, parity)) {
		*err = -EINVAL;
		return NULL;
	}
	rs = malloc(sizeof(*rs));
	if (rs == NULL || rs_init(rs, data, parity, true, data < parity ? data : parity, data)) {
		free(rs);
		*err = -ENOMEM;
		return NULL;
	}
	return rs;
}

void fec_rs_free(struct fec_rs *rs)
{
	if (rs == NULL)
		return;
	rs_fini(rs);
	free(rs);
}

void fec_rs_parity_rows(const struct fec_rs *rs, uint8_t *rows)
{
	for (unsigned r = 0; r < rs->parity; r++)
		for (unsigned c = 0; c < rs->data; c++)
			rows[r * rs->data + c] = rs_coef(rs, r, c);
}

int fec_rs_encode(const struct fec_rs *rs, uint8_t *const *shards, size_t len)
{
	if (len == 0 || len > INT32_MAX)
		return -EINVAL;
	ec_encode_data((int)len, (int)rs->data, (int)rs->parity, rs->enc_tbls, (uint8_t **)shards,
		       (uint8_t **)shards + rs->data);
	return 0;
}

int fec_rs_reconstruct(struct fec_rs *rs, uint8_t *const *shards, const uint8_t *present,
		       size_t len)
{
	unsigned have = 0;

	if (len == 0 || len > INT32_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < rs->data + rs->parity; i++)
		have += present[i] != 0;
	if (have < rs->data)
		return -EINVAL;
	return rs_rebuild(rs, shards, present, len);
}

/* ---- framing ---- */

/* Parses an FEC packet: the shard is everything after the 6-byte header. */
static int fec_parse(const uint8_t *pkt, size_t len, uint32_t *seqid, bool *is_data,
		     const uint8_t **shard, size_t *shard_len)
{
	struct wire_cur cur;
	uint16_t type;

	wire_cur_init(&cur, pkt, len);
	if (wire_get_u32le(&cur, seqid) || wire_get_u16le(&cur, &type))
		return KC_ESHORT;
	if (type != FEC_TYPE_DATA && type != FEC_TYPE_PARITY)
		return KC_EFEC;
	if (cur.left < FEC_SHARD_MIN)
		return KC_ESHORT;
	/* the size field counts itself and ends the packet: kcp-go never pads */
	if (type == FEC_TYPE_DATA && wire_peek_u16le(cur.p) != cur.left)
		return KC_ELEN;
	*is_data = type == FEC_TYPE_DATA;
	*shard = cur.p;
	*shard_len = cur.left;
	return 0;
}

int fec_packet_type(const uint8_t *pkt, size_t len)
{
	uint16_t type;

	if (len < FEC_HDR_LEN)
		return 0;
	type = wire_peek_u16le(pkt + FEC_OFF_TYPE);
	return type == FEC_TYPE_DATA || type == FEC_TYPE_PARITY ? type : 0;
}

int fec_packet_kcp(const uint8_t *pkt, size_t len, const uint8_t **kcp, size_t *kcp_len)
{
	uint32_t seqid;
	bool is_data;
	const uint8_t *shard;
	size_t shard_len;
	int rc = fec_parse(pkt, len, &seqid, &is_data, &shard, &shard_len);

	if (rc != 0)
		return rc;
	if (!is_data)
		return KC_EFEC;
	*kcp = shard + FEC_SIZE_LEN;
	*kcp_len = shard_len - FEC_SIZE_LEN;
	return 0;
}

/* ---- encoder ---- */

struct fec_encoder *fec_encoder_new(unsigned data, unsigned parity, size_t shard_max, int *err)
{
	struct fec_encoder *enc;

	if (!shards_valid(data, parity) || shard_max < FEC_SHARD_MIN || shard_max > FEC_SHARD_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	enc = calloc(1, sizeof(*enc));
	if (enc == NULL)
		goto nomem;
	if (rs_init(&enc->rs, data, parity, true, 0, data) != 0) {
		free(enc);
		goto nomem;
	}
	enc->data = data;
	enc->parity = parity;
	enc->shard_max = shard_max;
	enc->paws = FEC_PAWS(data + parity);
	/* the shard after a 6-byte header starts RS_ALIGN-aligned */
	enc->par_stride = round_up(RS_ALIGN + shard_max, RS_ALIGN);
	enc->par_mem = alloc_aligned(enc->par_stride * parity);
	if (enc->par_mem == NULL) {
		fec_encoder_free(enc);
		goto nomem;
	}
	for (unsigned i = 0; i < parity; i++)
		enc->par[i] = enc->par_mem + i * enc->par_stride + RS_ALIGN;
	return enc;
nomem:
	*err = -ENOMEM;
	return NULL;
}

void fec_encoder_free(struct fec_encoder *enc)
{
	if (enc == NULL)
		return;
	free(enc->par_mem);
	rs_fini(&enc->rs);
	free(enc);
}

static uint32_t encoder_take_seqid(struct fec_encoder *enc)
{
	uint32_t s = enc->next_seqid;

	enc->next_seqid = (uint32_t)((s + 1ull) % enc->paws);
	return s;
}

int fec_encoder_encode(struct fec_encoder *enc, uint8_t *pkt, size_t kcp_len)
{
	size_t shard_len = kcp_len + FEC_SIZE_LEN;
	uint8_t *p;

	if (kcp_len > enc->shard_max - FEC_SIZE_LEN)
		return -EMSGSIZE;
	enc->ready = 0;
	if (enc->count == 0)
		enc->maxlen = 0;

	p = wire_put_u32le(pkt + FEC_OFF_SEQID, encoder_take_seqid(enc));
	p = wire_put_u16le(p, FEC_TYPE_DATA);
	wire_put_u16le(p, (uint16_t)shard_len);

	/* parity bytes past the longest shard so far hold the previous group: clear them */
	if (shard_len > enc->maxlen) {
		for (unsigned i = 0; i < enc->parity; i++)
			memset(enc->par[i] + enc->maxlen, 0, shard_len - enc->maxlen);
		enc->maxlen = shard_len;
	}
	ec_encode_data_update((int)shard_len, (int)enc->data, (int)enc->parity, (int)enc->count,
			      enc->rs.enc_tbls, pkt + FEC_OFF_SIZE, enc->par);
	enc->stats.data_sent++;
	if (++enc->count < enc->data)
		return 0;

	for (unsigned i = 0; i < enc->parity; i++) {
		p = wire_put_u32le(enc->par[i] - FEC_HDR_LEN, encoder_take_seqid(enc));
		wire_put_u16le(p, FEC_TYPE_PARITY);
	}
	enc->count = 0;
	enc->ready = enc->parity;
	enc->stats.parity_sent += enc->parity;
	return (int)enc->parity;
}

const uint8_t *fec_encoder_parity(const struct fec_encoder *enc, unsigned i, size_t *len)
{
	if (i >= enc->ready)
		return NULL;
	*len = FEC_HDR_LEN + enc->maxlen;
	return enc->par[i] - FEC_HDR_LEN;
}

void fec_encoder_set_next_seqid(struct fec_encoder *enc, uint32_t seqid)
{
	enc->next_seqid = seqid;
}

const struct fec_stats *fec_encoder_stats(const struct fec_encoder *enc)
{
	return &enc->stats;
}

/* ---- decoder ---- */

struct fec_decoder *fec_decoder_new(unsigned data, unsigned parity, size_t shard_max,
				    unsigned groups, int *err)
{
	struct fec_decoder *dec;
	bool unknown = data == 0 && parity == 0;
	unsigned loss_max;

	if ((!unknown && !shards_valid(data, parity)) || shard_max < FEC_SHARD_MIN ||
	    shard_max > FEC_SHARD_MAX || groups == 0 || groups > DEC_GROUPS_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	dec = calloc(1, sizeof(*dec));
	if (dec == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	loss_max = data < parity ? data : parity;
	if (loss_max < DEC_LOSS_MIN)
		loss_max = DEC_LOSS_MIN;
	if (rs_init(&dec->rs, data, parity, false, loss_max, data) != 0)
		goto nomem;
	dec->data = data;
	dec->parity = parity;
	dec->n = data + parity;
	dec->shard_max = shard_max;
	dec->stride = round_up(shard_max, RS_ALIGN);
	dec->expire_ms = FEC_EXPIRE_MS;
	dec->cap = groups * (unknown ? DEC_AUTO_SHARDS : data + parity);
	dec->groups = groups;
	dec->ent = calloc(dec->cap + 1, sizeof(*dec->ent));
	dec->free_bufs = calloc(dec->cap + 1, sizeof(*dec->free_bufs));
	dec->bufs = alloc_aligned(dec->stride * (dec->cap + 1));
	dec->out = alloc_aligned(dec->stride * loss_max);
	dec->rec = calloc(loss_max, sizeof(*dec->rec));
	dec->tune = calloc(FEC_TUNE_SAMPLES, sizeof(*dec->tune));
	if (!dec->ent || !dec->free_bufs || !dec->bufs || !dec->out || !dec->rec || !dec->tune)
		goto nomem;
	for (unsigned i = 0; i <= dec->cap; i++)
		dec->free_bufs[i] = dec->cap - i;
	dec->nfree = dec->cap + 1;
	return dec;
nomem:
	fec_decoder_free(dec);
	*err = -ENOMEM;
	return NULL;
}

void fec_decoder_free(struct fec_decoder *dec)
{
	if (dec == NULL)
		return;
	free(dec->tune);
	free(dec->rec);
	free(dec->out);
	free(dec->bufs);
	free(dec->free_bufs);
	free(dec->ent);
	rs_fini(&dec->rs);
	free(dec);
}

static uint8_t *decoder_buf(const struct fec_decoder *dec, uint32_t buf)
{
	return dec->bufs + (size_t)buf * dec->stride;
}

static uint32_t decoder_base(const struct fec_decoder *dec, uint32_t seqid)
{
	return seqid - seqid % dec->n;
}

/* Counts the group of an entry about to be dropped as lost, once: a data packet still cached
 * means its group never completed. */
static void decoder_count_lost(struct fec_decoder *dec, const struct fec_entry *e)
{
	uint32_t base;

	if (!e->is_data || dec->n == 0)
		return;
	base = decoder_base(dec, e->seqid);
	if (!dec->lost_valid || base != dec->lost_base) {
		dec->stats.unrecoverable++;
		dec->lost_valid = true;
		dec->lost_base = base;
	}
}

/* Removes entries [first, first + cnt) and frees their buffers. */
static void decoder_remove(struct fec_decoder *dec, unsigned first, unsigned cnt)
{
	for (unsigned i = first; i < first + cnt; i++)
		dec->free_bufs[dec->nfree++] = dec->ent[i].buf;
	memmove(dec->ent + first, dec->ent + first + cnt,
		(dec->count - first - cnt) * sizeof(*dec->ent));
	dec->count -= cnt;
}

static void decoder_drop(struct fec_decoder *dec, unsigned i)
{
	decoder_count_lost(dec, &dec->ent[i]);
	decoder_remove(dec, i, 1);
}

/* Drops every entry older than expire_ms, wherever it sits (kcp-go only looks at the front,
 * which lets a stale entry behind a fresh one live forever), and renews oldest_ms. */
static void decoder_expire(struct fec_decoder *dec, uint32_t now_ms)
{
	unsigned keep = 0;

	dec->oldest_ms = now_ms;
	for (unsigned i = 0; i < dec->count; i++) {
		struct fec_entry *e = &dec->ent[i];

		if (kc_time_diff(now_ms, e->ts_ms) > (int32_t)dec->expire_ms) {
			decoder_count_lost(dec, e);
			dec->free_bufs[dec->nfree++] = e->buf;
			continue;
		}
		if (kc_time_before(e->ts_ms, dec->oldest_ms))
			dec->oldest_ms = e->ts_ms;
		dec->ent[keep++] = *e;
	}
	dec->count = keep;
}

/* Seqids the cache spans: `groups` groups, or cap packets while the counts are unknown. */
static int32_t decoder_horizon(const struct fec_decoder *dec)
{
	return (int32_t)(dec->n != 0 ? dec->groups * dec->n : dec->cap);
}

/* How far seqid's group lies behind the newest cached one (negative: ahead). */
static int32_t decoder_behind(const struct fec_decoder *dec, uint32_t seqid)
{
	uint32_t newest = dec->ent[dec->count - 1].seqid;

	if (dec->n != 0) {
		newest = decoder_base(dec, newest);
		seqid = decoder_base(dec, seqid);
	}
	return kc_time_diff(newest, seqid);
}

/* Most recent complete runs of data and of parity samples ending at or before seqid: a run
 * counts when a sample of the other kind sits right before and right after it, all seqids
 * consecutive. Returns true with both lengths when both were found. */
static bool decoder_detect(const struct fec_decoder *dec, uint32_t seqid, unsigned *data,
			   unsigned *parity)
{
	unsigned run = 0, runs = 0, found_data = 0, found_parity = 0;
	bool kind = false;

	for (unsigned k = 0; k < FEC_TUNE_SAMPLES; k++) {
		uint32_t s = seqid - k;
		const struct fec_sample *t = &dec->tune[s % FEC_TUNE_SAMPLES];

		if (!t->valid || t->seqid != s)
			break; /* a gap: the run in progress may be cut short */
		if (k > 0 && t->is_data == kind) {
			run++;
			continue;
		}
		/* the run just walked ends here; the newest one may still be going on */
		if (k > 0 && runs++ > 0) {
			if (kind && found_data == 0)
				found_data = run;
			if (!kind && found_parity == 0)
				found_parity = run;
			if (found_data && found_parity)
				break;
		}
		kind = t->is_data;
		run = 1;
	}
	*data = found_data;
	*parity = found_parity;
	return found_data && found_parity;
}

/* Looks at the group of entry idx: frees it when it holds `data` data packets; when it holds
 * `data` packets of any kind and `rebuild` is set, rebuilds the lost data and frees it.
 * Returns true when the group was freed. */
static bool decoder_try_group(struct fec_decoder *dec, unsigned idx, bool rebuild)
{
	uint32_t base = decoder_base(dec, dec->ent[idx].seqid);
	unsigned lo = idx, hi = idx + 1, nshard = 0, ndata = 0, nlost = 0;
	size_t len = 0;

	while (lo > 0 && dec->ent[lo - 1].seqid - base < dec->n)
		lo--;
	while (hi < dec->count && dec->ent[hi].seqid - base < dec->n)
		hi++;
	memset(dec->present, 0, dec->n);
	for (unsigned i = lo; i < hi; i++) {
		const struct fec_entry *e = &dec->ent[i];
		uint32_t k = e->seqid - base;

		dec->present[k] = 1;
		dec->shard[k] = decoder_buf(dec, e->buf);
		nshard++;
		ndata += e->is_data;
		if (e->len > len)
			len = e->len;
	}
	if (ndata >= dec->data)
		goto done; /* nothing lost */
	if (nshard < dec->data || !rebuild)
		return false;

	for (unsigned k = 0; k < dec->data; k++)
		nlost += !dec->present[k];
	if (nlost == 0)
		goto done; /* parity in data slots (mismatched counts): nothing to rebuild */
	if (nlost > dec->rs.loss_max) {
		dec->stats.unrecoverable++;
		goto done;
	}
	nlost = 0;
	for (unsigned k = 0; k < dec->data; k++)
		if (!dec->present[k])
			dec->shard[k] = dec->out + (size_t)nlost++ * dec->stride;
	for (unsigned i = lo; i < hi; i++) {
		const struct fec_entry *e = &dec->ent[i];

		memset(decoder_buf(dec, e->buf) + e->len, 0, len - e->len);
	}
	if (rs_rebuild(&dec->rs, dec->shard, dec->present, len) < 0)
		goto done;
	for (unsigned k = 0; k < dec->data; k++) {
		const uint8_t *r = dec->shard[k];
		size_t size;

		if (dec->present[k])
			continue;
		size = wire_peek_u16le(r);
		if (size < FEC_SHARD_MIN || size > len) {
			dec->stats.recover_errors++;
			continue;
		}
		dec->rec[dec->nrec].p = r + FEC_SIZE_LEN;
		dec->rec[dec->nrec].len = size - FEC_SIZE_LEN;
		dec->nrec++;
		dec->stats.recovered++;
	}
done:
	decoder_remove(dec, lo, hi - lo);
	dec->done[dec->done_next] = base;
	dec->done_next = (dec->done_next + 1) % DEC_DONE;
	if (dec->ndone < DEC_DONE)
		dec->ndone++;
	return true;
}

/* Whether seqid belongs to a group completed lately. Trusted only while the stream agrees
 * with the counts: then a late packet of such a group (normally its parity) is useless, where
 * kcp-go caches it again and, when parity >= data, rebuilds the group a second time. */
static bool decoder_is_done(const struct fec_decoder *dec, uint32_t seqid)
{
	uint32_t base = decoder_base(dec, seqid);

	if (dec->mismatch)
		return false;
	for (unsigned i = 0; i < dec->ndone; i++)
		if (dec->done[i] == base)
			return true;
	return false;
}

/* Records the sample and, when the packet contradicts the current shard counts (or they are
 * unknown), adopts counts detected from the history. The cache is then regrouped: groups it
 * completes are freed (rebuilding waits for their next packet, as outputs are per input). */
static void decoder_tune(struct fec_decoder *dec, uint32_t seqid, bool is_data)
{
	struct fec_sample *t = &dec->tune[seqid % FEC_TUNE_SAMPLES];
	unsigned data, parity;

	t->seqid = seqid;
	t->valid = 1;
	t->is_data = is_data;
	if (dec->n != 0 && (seqid % dec->n < dec->data) == is_data)
		return;
	dec->mismatch = true;
	if (!decoder_detect(dec, seqid, &data, &parity) || !shards_valid(data, parity))
		return;
	if (data == dec->data && parity == dec->parity) {
		dec->mismatch = false; /* a stray packet; the history confirms the counts */
		return;
	}
	rs_setup(&dec->rs, data, parity);
	dec->data = data;
	dec->parity = parity;
	dec->n = data + parity;
	dec->lost_valid = false;
	dec->mismatch = false;
	dec->ndone = 0;
	dec->stats.retunes++;
	for (unsigned i = 0; i < dec->count;) {
		uint32_t base = decoder_base(dec, dec->ent[i].seqid);

		if (decoder_try_group(dec, i, false))
			continue;
		while (i < dec->count && dec->ent[i].seqid - base < dec->n)
			i++;
	}
}

int fec_decoder_input(struct fec_decoder *dec, const uint8_t *pkt, size_t len, uint32_t now_ms)
{
	uint32_t seqid;
	bool is_data;
	const uint8_t *shard;
	size_t shard_len;
	unsigned idx;
	struct fec_entry *e;
	int rc;

	dec->nrec = 0;
	rc = fec_parse(pkt, len, &seqid, &is_data, &shard, &shard_len);
	if (rc == 0 && shard_len > dec->shard_max)
		rc = KC_EFEC;
	switch (rc) {
	case 0:
		break;
	case KC_ESHORT:
		dec->stats.short_packets++;
		return rc;
	case KC_ELEN:
		dec->stats.bad_size++;
		return rc;
	default:
		dec->stats.malformed++;
		return rc;
	}
	if (is_data)
		dec->stats.data_received++;
	else
		dec->stats.parity_received++;

	/* Behind the horizon: a straggler whose group is gone, ignored; but a few in a row mean
	 * the sender restarted its seqids (or the cache holds garbage from far ahead), so start
	 * afresh rather than ignore the new stream until the old entries expire. */
	if (dec->count > 0 && decoder_behind(dec, seqid) >= decoder_horizon(dec)) {
		if (++dec->stale_run < DEC_STALE_RESTART)
			return 0;
		while (dec->count > 0)
			decoder_drop(dec, dec->count - 1);
	}
	dec->stale_run = 0;
	/* insertion point from the newest end; the cache is sorted and free of duplicates */
	for (idx = dec->count; idx > 0; idx--) {
		int32_t diff = kc_time_diff(seqid, dec->ent[idx - 1].seqid);

		if (diff == 0) {
			dec->stats.duplicates++;
			return 0;
		}
		if (diff > 0)
			break;
	}
	decoder_tune(dec, seqid, is_data);
	if (dec->n != 0 && decoder_is_done(dec, seqid))
		return 0;
	if (idx > dec->count)
		idx = dec->count; /* the regrouping freed entries */
	while (idx > 0 && kc_time_diff(seqid, dec->ent[idx - 1].seqid) < 0)
		idx--;

	memmove(dec->ent + idx + 1, dec->ent + idx, (dec->count - idx) * sizeof(*dec->ent));
	if (dec->count++ == 0 || kc_time_before(now_ms, dec->oldest_ms))
		dec->oldest_ms = now_ms;
	e = &dec->ent[idx];
	e->seqid = seqid;
	e->ts_ms = now_ms;
	e->buf = dec->free_bufs[--dec->nfree];
	e->len = (uint16_t)shard_len;
	e->is_data = is_data;
	memcpy(decoder_buf(dec, e->buf), shard, shard_len);

	if (dec->n != 0)
		decoder_try_group(dec, idx, true);
	while (dec->count > dec->cap ||
	       (dec->count > 0 && decoder_behind(dec, dec->ent[0].seqid) >= decoder_horizon(dec)))
		decoder_drop(dec, 0);
	if (dec->count > 0 && kc_time_diff(now_ms, dec->oldest_ms) > (int32_t)dec->expire_ms)
		decoder_expire(dec, now_ms);
	return (int)dec->nrec;
}

const uint8_t *fec_decoder_recovered(const struct fec_decoder *dec, unsigned i, size_t *len)
{
	if (i >= dec->nrec)
		return NULL;
	*len = dec->rec[i].len;
	return dec->rec[i].p;
}

void fec_decoder_shards(const struct fec_decoder *dec, unsigned *data, unsigned *parity)
{
	*data = dec->data;
	*parity = dec->parity;
}

void fec_decoder_set_expire(struct fec_decoder *dec, uint32_t expire_ms)
{
	if (expire_ms > INT32_MAX)
		expire_ms = INT32_MAX;
	dec->expire_ms = expire_ms;
}

unsigned fec_decoder_cached(const struct fec_decoder *dec)
{
	return dec->count;
}

unsigned fec_decoder_capacity(const struct fec_decoder *dec)
{
	return dec->cap;
}

const struct fec_stats *fec_decoder_stats(const struct fec_decoder *dec)
{
	return &dec->stats;
}
