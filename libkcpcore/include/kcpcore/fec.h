/* Forward error correction in kcp-go's framing (spec/kcp-wire.md section 3).
 *
 * Groups of `data` + `parity` Reed-Solomon shards, byte-identical to kcp-go v5: the
 * klauspost/reedsolomon matrix computed on ISA-L. Objects are sized when created and allocate
 * nothing afterwards; they keep no clock (the decoder takes now_ms) and belong to one thread. */
#ifndef KCPCORE_FEC_H
#define KCPCORE_FEC_H

#include <stddef.h>
#include <stdint.h>

#define FEC_DATA_HDR	8 /* seqid + type + size */
#define FEC_PARITY_HDR	6 /* seqid + type */
#define FEC_TYPE_DATA	0xF1
#define FEC_TYPE_PARITY 0xF2

/* Largest data + parity shard count of a group. */
#define FEC_MAX_SHARDS 255

/* Counters of one encoder or decoder; a field the object does not use stays 0. */
struct fec_stats {
	uint64_t data_sent;	  /* encoder: data packets framed */
	uint64_t parity_sent;	  /* encoder: parity packets produced */
	uint64_t data_received;	  /* decoder: well-formed data packets (duplicates included) */
	uint64_t parity_received; /* decoder: well-formed parity packets (duplicates included) */
	uint64_t recovered;	  /* decoder: KCP payloads rebuilt and handed back */
	uint64_t recover_errors;  /* decoder: rebuilt shards whose size field was out of range */
	uint64_t unrecoverable;	  /* decoder: groups given up with data missing, too few shards */
	uint64_t duplicates;	  /* decoder: seqid already cached, packet ignored */
	uint64_t short_packets;	  /* decoder: KC_ESHORT, shorter than the FEC header */
	uint64_t bad_size;	  /* decoder: KC_ELEN, size field disagrees with the length */
	uint64_t malformed;	  /* decoder: KC_EFEC, unknown type or shard beyond shard_max */
	uint64_t retunes;	  /* decoder: shard counts changed by detection (autotune) */
};

/* FEC_TYPE_DATA, FEC_TYPE_PARITY or 0 (plain KCP) for a datagram body starting at its FEC
 * header. Looks at the type field only; fec_decoder_input() checks the rest. */
int fec_packet_type(const uint8_t *pkt, size_t len);

/* Checks the header of data packet `pkt` and points *kcp at its KCP bytes (*kcp_len of them),
 * for the direct path. Returns 0, KC_ESHORT, KC_EFEC (not a data packet) or KC_ELEN (size
 * field disagrees with len). */
int fec_packet_kcp(const uint8_t *pkt, size_t len, const uint8_t **kcp, size_t *kcp_len);

struct fec_encoder;

/* Encoder for groups of `data` + `parity` shards (1 <= each, sum <= FEC_MAX_SHARDS) of at most
 * `shard_max` bytes after the 6-byte header (size field + KCP bytes; 2..65535). Seqids start
 * at 0. Free with fec_encoder_free(). Returns NULL and sets *err to -EINVAL or -ENOMEM. */
struct fec_encoder *fec_encoder_new(unsigned data, unsigned parity, size_t shard_max, int *err);

/* Frees the encoder. NULL is ignored. */
void fec_encoder_free(struct fec_encoder *enc);

/* pkt has FEC_DATA_HDR bytes reserved, followed by kcp_len KCP bytes; writes the header in
 * place (the packet stays unpadded). Returns the number of parity packets now ready (0 or
 * parity) or -EMSGSIZE when kcp_len + 2 exceeds shard_max (nothing changes then). */
int fec_encoder_encode(struct fec_encoder *enc, uint8_t *pkt, size_t kcp_len);

/* The i-th ready parity packet (header included, *len bytes), valid until the next encode;
 * NULL when i is not below the count the last encode returned. */
const uint8_t *fec_encoder_parity(const struct fec_encoder *enc, unsigned i, size_t *len);

/* Sets the seqid of the next packet (tests of the wraparound); call at a group boundary. */
void fec_encoder_set_next_seqid(struct fec_encoder *enc, uint32_t seqid);

/* The encoder's counters. */
const struct fec_stats *fec_encoder_stats(const struct fec_encoder *enc);

struct fec_decoder;

/* Decoder for shards of at most `shard_max` bytes after the 6-byte header (2..65535). It caches
 * packets of the last `groups` (1..1024) groups, at most groups * (data + parity) of them (30 a
 * group for 0/0), so its memory is fixed here. data = parity = 0 starts with unknown shard
 * counts, detected from the stream (autotune) before anything is decoded; explicit counts are
 * re-tuned when the stream contradicts them. It rebuilds up to max(min(data, parity), 10) lost
 * data shards of one group. Returns NULL and sets *err to -EINVAL or -ENOMEM. */
struct fec_decoder *fec_decoder_new(unsigned data, unsigned parity, size_t shard_max,
				    unsigned groups, int *err);

/* Frees the decoder. NULL is ignored. */
void fec_decoder_free(struct fec_decoder *dec);

/* pkt starts at the FEC header. Caches it; returns the number of KCP payloads recovered by this
 * packet (>= 0), or KC_ESHORT, KC_ELEN or KC_EFEC for a malformed packet, which changes nothing
 * but a counter. The direct path (handing a data packet's own KCP bytes to KCP) is the
 * caller's job. Recovered payloads are "non-regular" for KCP (spec 3.4). */
int fec_decoder_input(struct fec_decoder *dec, const uint8_t *pkt, size_t len, uint32_t now_ms);

/* The i-th payload recovered by the last input (KCP bytes, size field removed), valid until
 * the next input; NULL when i is out of range. */
const uint8_t *fec_decoder_recovered(const struct fec_decoder *dec, unsigned i, size_t *len);

/* Current shard counts (0 and 0 while still unknown). */
void fec_decoder_shards(const struct fec_decoder *dec, unsigned *data, unsigned *parity);

/* Cache expiry: a packet is dropped once it is older than expire_ms (default 60000, as
 * kcp-go). */
void fec_decoder_set_expire(struct fec_decoder *dec, uint32_t expire_ms);

/* Packets cached now, and the most the cache ever holds. */
unsigned fec_decoder_cached(const struct fec_decoder *dec);
unsigned fec_decoder_capacity(const struct fec_decoder *dec);

/* The decoder's counters. */
const struct fec_stats *fec_decoder_stats(const struct fec_decoder *dec);

/* The raw Reed-Solomon codec behind both, for tools and benchmarks. Shards are arrays of
 * data + parity pointers to buffers of len bytes each. */
struct fec_rs;

/* Codec for `data` + `parity` shards (as fec_encoder_new). Returns NULL and sets *err. */
struct fec_rs *fec_rs_new(unsigned data, unsigned parity, int *err);

/* Frees the codec. NULL is ignored. */
void fec_rs_free(struct fec_rs *rs);

/* Copies the parity rows of the encoding matrix (parity x data bytes, row by row) to rows. */
void fec_rs_parity_rows(const struct fec_rs *rs, uint8_t *rows);

/* Computes shards[data..data+parity) from shards[0..data). Returns 0 or -EINVAL (len). */
int fec_rs_encode(const struct fec_rs *rs, uint8_t *const *shards, size_t len);

/* Rebuilds every data shard i with present[i] == 0 into shards[i] from the present ones.
 * Returns the number rebuilt, or -EINVAL when fewer than `data` shards are present. */
int fec_rs_reconstruct(struct fec_rs *rs, uint8_t *const *shards, const uint8_t *present,
		       size_t len);

#endif
