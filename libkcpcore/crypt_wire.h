/* Wire constants of kcp-go's crypto layer (spec/kcp-wire.md sections 2 and 5.4), private to
 * libkcpcore. Every number the spec gives for this layer lives here. */
#ifndef KCPCORE_CRYPT_WIRE_H
#define KCPCORE_CRYPT_WIRE_H

/* Block-cipher layout: nonce(16) | crc32 LE(4) | body; the whole datagram is encrypted. */
#define CRYPT_NONCE_LEN	     16
#define CRYPT_CRC_OFF	     16
#define CRYPT_CRC_LEN	     4
#define CRYPT_CFB_HEADER_LEN 20

/* The fixed CFB IV, the same for every packet and key (section 2.2). */
#define CRYPT_CFB_IV_LEN 16
/* clang-format off */
#define CRYPT_CFB_IV {0xa7, 0x73, 0x4f, 0x9c, 0x12, 0xac, 0x1b, 0x01, \
		      0xa4, 0x15, 0xf2, 0xc1, 0xfc, 0x78, 0xe6, 0x6b}
/* clang-format on */

/* Salsa20: datagram bytes 0..8 are its nonce, sent in clear; bytes 8.. are XORed. */
#define CRYPT_SALSA20_NONCE_LEN 8
#define CRYPT_SALSA20_KEY_LEN	32

/* AEAD layout [master]: nonce(12) | ciphertext | tag(16); no CRC, no additional data. */
#define CRYPT_GCM_NONCE_LEN 12
#define CRYPT_GCM_TAG_LEN   16

/* Key prefixes taken from the 32-byte derived key (section 2.3). */
#define CRYPT_AES_128_KEY_LEN 16
#define CRYPT_AES_192_KEY_LEN 24
#define CRYPT_AES_256_KEY_LEN 32

/* kcptun's key derivation (section 2.4): PBKDF2-HMAC-SHA1 with this salt and count. */
#define CRYPT_KDF_SALT	     "kcp-go"
#define CRYPT_KDF_SALT_LEN   6
#define CRYPT_KDF_ITERATIONS 4096

/* Largest datagram crypt_seal()/crypt_open() take: a UDP payload (kcp-go itself sends at most
 * 1500 bytes, section 5.4, but this layer does not depend on that). */
#define CRYPT_DATAGRAM_MAX 65535

#endif
