/* kcpvpnd.conf(5): the daemon's configuration, parsed and validated.
 *
 * The parser takes a buffer and a file name (so tests and the fuzzer call it directly), reports
 * every error of a file in one pass as "file:line: Key: message" lines, and resolves
 * inheritance: a struct config_peer carries the EFFECTIVE settings of its peer, [Interface]
 * defaults filled in, so callers never redo it. Nothing here touches the network: Endpoint
 * names are resolved and the passphrase is stretched (PBKDF2) by the daemon at start-up.
 *
 * Secure mode (the default) gives each peer a public key and the interface a private key;
 * compat mode (kcp-go peers) has one shared passphrase as its only authentication. */
#ifndef DAEMON_CONFIG_H
#define DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "kcpcore/crypt.h"
#include "kcpcore/kcp.h"

struct session_params;

#define CONFIG_IFNAME_MAX     15 /* IFNAMSIZ - 1 */
#define CONFIG_PEER_NAME_MAX  32
#define CONFIG_FWMARK_DEFAULT 0xca6c /* FwMark when a peer holds a /0 and none is given */
#define CONFIG_USER_DEFAULT   "kcpvpn" /* User when none is given and this account exists */
#define CONFIG_USER_FALLBACK  "nobody" /* User when none is given and there is no kcpvpn */

enum config_mode {
	CONFIG_MODE_SECURE, /* the default: per-peer keys, Noise IKpsk2, AEAD, replay window */
	CONFIG_MODE_COMPAT  /* kcp-go framing, one shared passphrase, no authentication of peers */
};

#define CONFIG_KEY_LEN 32 /* Curve25519 keys and pre-shared keys */

/* LogLevel, in the order of the daemon's log levels: error shows the least. */
enum config_log_level {
	CONFIG_LOG_ERROR,
	CONFIG_LOG_WARNING,
	CONFIG_LOG_NOTICE,
	CONFIG_LOG_INFO,
	CONFIG_LOG_DEBUG
};

enum config_table {
	CONFIG_TABLE_AUTO,  /* main, or a table of our own with fwmark rules for a full tunnel */
	CONFIG_TABLE_OFF,   /* install no routes */
	CONFIG_TABLE_NUMBER /* routes go to table_id */
};

/* An address or prefix: addr holds 4 (AF_INET) or 16 (AF_INET6) bytes in network order, the
 * rest zero. line is where it was written (0 when not from a file). */
struct config_prefix {
	int family;
	uint8_t addr[16];
	uint8_t cidr;
	int line;
};

struct config_peer {
	char name[CONFIG_PEER_NAME_MAX + 1]; /* unique; "peer<N>" by default */
	int line;			     /* of its [Peer] header */
	char *endpoint;			     /* "host:port" as written, or NULL */
	int endpoint_line;
	struct config_prefix *allowed; /* AllowedIPs, host bits zero, no overlap with other peers */
	size_t nallowed;
	unsigned keepalive_s; /* PersistentKeepalive; 0 = off */
	/* Effective settings, [Interface] values where the peer sets none: */
	unsigned fec_data, fec_parity; /* 0, 0 = FEC off */
	const char *profile;	       /* static: "fast3", ..., or "manual" */
	struct kcp_params kcp;	       /* nodelay, interval_ms, resend, nc, snd_wnd, rcv_wnd */
	uint64_t rate_bps;	       /* 0 = no limit */
	/* Secure mode: PublicKey (required there), PresharedKey or PresharedKeyFile (optional;
	 * config_load() reads the file into psk). Refused in compat mode. */
	uint8_t public_key[CONFIG_KEY_LEN];
	bool has_public_key;
	int public_key_line;
	uint8_t psk[CONFIG_KEY_LEN];
	bool has_psk;
	char *psk_file;
	int psk_line;
};

struct config {
	char *file; /* as given to config_parse() */
	char ifname[CONFIG_IFNAME_MAX + 1];
	enum config_mode mode;
	bool listen;		     /* false: ListenPort = none (an ephemeral port) */
	uint16_t listen_port;	     /* when listen */
	struct config_prefix *addrs; /* Address: host bits may be set (10.9.0.1/24) */
	size_t naddrs;
	unsigned mtu;	  /* TUN MTU, 0 = auto: see config_tun_mtu() */
	unsigned udp_mtu; /* largest UDP payload sent */
	enum crypt_method crypt; /* the session's: Crypt, or CRYPT_NULL in secure mode */
	char *key;	/* the passphrase (never printed or logged), NULL for none/null */
	char *key_file; /* KeyFile as written, or NULL; config_load() reads it into key */
	int key_line;	/* line of Key or KeyFile, 0 if neither */
	/* [Interface] values of the settings a peer may override (see struct config_peer): */
	unsigned fec_data, fec_parity;
	const char *profile;
	struct kcp_params kcp;
	uint64_t rate_bps;
	unsigned dscp;		    /* 0..63 */
	size_t socket_buffer_bytes; /* SO_SNDBUF and SO_RCVBUF */
	char *control_socket;	    /* path */
	enum config_log_level log_level;
	uint32_t fwmark; /* 0 = none */
	enum config_table table;
	uint32_t table_id;	   /* with CONFIG_TABLE_NUMBER */
	bool full_tunnel;	   /* some peer holds 0.0.0.0/0 or ::/0 */
	/* User and Group: the account kcpvpnd runs as once set up (kcpvpnd(8), PRIVILEGES), as
	 * written (line > 0) or NULL. config_load() fills in the defaults (CONFIG_USER_DEFAULT if
	 * that account exists, else CONFIG_USER_FALLBACK; the user's primary group) and resolves
	 * them into uid and gid; config_parse() leaves them as written. */
	char *user, *group;
	int user_line, group_line;
	bool ids_resolved;  /* uid and gid are set */
	bool user_fallback; /* no User and no CONFIG_USER_DEFAULT account: the fallback */
	uid_t uid;
	gid_t gid;
	/* Secure mode: PrivateKey or PrivateKeyFile (one is required there; config_load() reads
	 * the file into private_key), Cipher and Obfuscate. Refused in compat mode. */
	uint8_t private_key[CONFIG_KEY_LEN];
	bool has_private_key;
	char *private_key_file;
	int private_key_line;
	unsigned aead;	/* SEC_AEAD_CHACHAPOLY (default) or SEC_AEAD_AES256GCM */
	bool obfuscate; /* Obfuscate = yes */
	struct config_peer *peers; /* at least one */
	size_t npeers;
};

/* Parses `len` bytes of `buf` read from `file` (used in messages and for the default Name).
 * Returns 0 and a new *out (free with config_free()), or -EINVAL and a malloc'ed *errs with one
 * "file:line: Key: message\n" line per error (all of them, in line order), or -ENOMEM.
 * KeyFile, PrivateKeyFile and PresharedKeyFile are not read here (see config_load()). */
int config_parse(const char *file, const char *buf, size_t len, struct config **out, char **errs);

/* Reads and parses `path`, resolves User and Group (defaults filled in) into uid and gid, then
 * reads the KeyFile, PrivateKeyFile and PresharedKeyFiles (relative to the config's
 * directory; refused when others have access to one, or a group other than gid, or a group may
 * write it) and checks that no peer holds our own public key. Returns as config_parse(), or
 * -errno when the config cannot be read, with a message naming the path in *errs. */
int config_load(const char *path, struct config **out, char **errs);

/* Frees c and wipes the passphrase, the private key and the pre-shared keys. NULL is ignored. */
void config_free(struct config *c);

/* The largest IP packet one KCP segment carries: session_mss() of what secure mode's layer
 * (SEC_OVERHEAD) leaves of udp_mtu and of crypt, with the FEC header reserved so FEC can be
 * turned on at run time. */
int config_mss(const struct config *c);

/* The TUN MTU in use: c->mtu, or config_mss() for auto. */
unsigned config_tun_mtu(const struct config *c);

/* Fills sp (after session_params_default()) with peer p's crypt, FEC, udp_mtu and KCP
 * parameters; not the key or conv. In secure mode the session runs under the secure layer:
 * crypt "null", udp_mtu less SEC_OVERHEAD. */
void config_peer_session(const struct config *c, const struct config_peer *p,
			 struct session_params *sp);

/* True when everything that shapes the session of peer pa in a and of pb in b is the same:
 * name, mode, crypt, passphrase, our private key, the peer's public and pre-shared keys,
 * Cipher, Obfuscate, udp_mtu, FEC, KCP parameters and Endpoint. AllowedIPs, keepalive and
 * rate limit may change under a running session. */
bool config_peer_same(const struct config *a, const struct config_peer *pa, const struct config *b,
		      const struct config_peer *pb);

/* What RateLimit takes, for messages, and the parser of it (kcpctl tune takes the same):
 * true and *rate_bps in bits per second (k, M, G multiply by 1000), false when malformed. */
#define CONFIG_RATE_SYNTAX "bits per second with an optional k, M or G suffix (0 = no limit)"
bool config_rate_parse(const char *text, uint64_t *rate_bps);

/* Writes c as understood, defaults filled in, in config syntax that parses back to an equal
 * config once the secrets are put back: the passphrase, PrivateKey and PresharedKey are
 * written as "(set)". */
void config_print(const struct config *c, FILE *f);

/* Secure mode's Cipher as written in a config ("chacha20-poly1305", "aes-256-gcm"). */
const char *config_cipher_name(const struct config *c);

/* The key names the parser knows, in canonical spelling, NULL-terminated. */
const char *const *config_keys(void);

#endif
