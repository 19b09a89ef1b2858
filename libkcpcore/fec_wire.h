/* kcp-go's FEC framing and limits (spec/kcp-wire.md section 3), private to libkcpcore.
 *
 *   data packet:   | seqid u32 | type u16 = 0x00F1 | size u16 | KCP bytes (size - 2) |
 *   parity packet: | seqid u32 | type u16 = 0x00F2 | parity bytes (L)                |
 *
 * The RS shard of a data packet is its bytes from the size field on; L, the parity length, is
 * the longest shard of the group. Public sizes and type values are in kcpcore/fec.h. */
#ifndef KCPCORE_FEC_WIRE_H
#define KCPCORE_FEC_WIRE_H

#define FEC_OFF_SEQID 0
#define FEC_OFF_TYPE  4
#define FEC_OFF_SIZE  6 /* data packets only: first byte of the RS shard */
#define FEC_HDR_LEN   6 /* seqid + type: bytes in front of every shard */
#define FEC_SIZE_LEN  2 /* the size field counts itself: size = 2 + KCP bytes */

#define FEC_SHARD_MIN 2	    /* shortest legal shard: a size field and no KCP bytes */
#define FEC_SHARD_MAX 65535 /* the size field is 16 bits */

/* The seqid after paws - 1 is 0, where paws = floor(0xFFFFFFFF / n) * n for n shards. */
#define FEC_PAWS(n) (0xFFFFFFFFu / (uint32_t)(n) * (uint32_t)(n))

#define FEC_EXPIRE_MS	 60000 /* kcp-go 5.6.1's fecExpire */
#define FEC_TUNE_SAMPLES 258   /* kcp-go's autotune history: seqid mod 258 */

#endif
