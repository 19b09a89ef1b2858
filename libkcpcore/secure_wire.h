/* Wire format of the secure mode (SECURITY.md, DESIGN-NOTES.md). Private.
 *
 * Every packet starts with a type byte and three zero bytes; integers are little-endian.
 *
 *   initiation (176): type 1 | sender u32 | Noise msg1 (e 32, s 32+16, payload 40+16) | mac1 16 | mac2 16
 *   response   (132): type 2 | sender u32 | receiver u32 | Noise msg2 (e 32, payload 40+16) | mac1 | mac2
 *   cookie      (64): type 3 | receiver u32 | nonce 24 | cookie 16 | tag 16
 *   data    (32 + n): type 4 | receiver u32 | counter u64 | AEAD(n bytes of FEC+KCP) | tag 16
 *
 * mac1 = BLAKE2s-128(key = BLAKE2s(LABEL_MAC1 | receiver's static public key), bytes before mac1)
 * mac2 = BLAKE2s-128(key = cookie, bytes before mac2), or zeros without a cookie
 * cookie = BLAKE2s-128(key = the responder's secret of the last 2 minutes, sender's address)
 * The cookie travels sealed by ChaCha20-Poly1305 under BLAKE2s(key = BLAKE2s(LABEL_COOKIE |
 * responder's public key), nonce) with a zero nonce and the initiation's mac1 as associated
 * data (an extended-nonce construction: neither backend offers XChaCha20).
 * With obfuscation, bytes 0..16 are XORed with BLAKE2s-128(key = BLAKE2s(LABEL_OBFUSCATE |
 * receiver's public key), the packet's last 16 bytes), and mac2 is random when there is no
 * cookie, so no byte on the wire is fixed. */
#ifndef KCPCORE_SECURE_WIRE_H
#define KCPCORE_SECURE_WIRE_H

#define SEC_TYPE_INITIATION 1
#define SEC_TYPE_RESPONSE 2
#define SEC_TYPE_COOKIE 3
#define SEC_TYPE_DATA 4

#define SEC_PROLOGUE "kcpvpnd secure v1"
#define SEC_LABEL_MAC1 "kcpvpnd mac1"
#define SEC_LABEL_COOKIE "kcpvpnd cookie"
#define SEC_LABEL_OBFUSCATE "kcpvpnd obfuscate"

#define SEC_MAC_LEN 16
#define SEC_COOKIE_NONCE_LEN 24
#define SEC_TAI64N_LEN 12

/* The handshake payload (both messages):
 *   0 version (1) | 1 aead | 2..3 zero | 4..11 epoch | 12..23 TAI64N (initiation; zeros in the
 *   response) | 24..25 udp_mtu | 26 fec_data | 27 fec_parity | 28 nodelay | 29 resend | 30 nc |
 *   31 zero | 32..33 interval_ms | 34..35 snd_wnd | 36..37 rcv_wnd | 38..39 zero */
#define SEC_PAYLOAD_LEN 40
#define SEC_VERSION 1

#define SEC_MSG1_LEN (32 + 32 + 16 + SEC_PAYLOAD_LEN + 16)
#define SEC_MSG2_LEN (32 + SEC_PAYLOAD_LEN + 16)
#define SEC_INITIATION_LEN (8 + SEC_MSG1_LEN + 2 * SEC_MAC_LEN)
#define SEC_RESPONSE_LEN (12 + SEC_MSG2_LEN + 2 * SEC_MAC_LEN)
#define SEC_COOKIE_LEN (8 + SEC_COOKIE_NONCE_LEN + SEC_MAC_LEN + 16)
#define SEC_DATA_HEADER_LEN 16

#endif
