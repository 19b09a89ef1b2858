/* Error codes of libkcpcore.
 *
 * Functions return 0 (or a count) on success and a negative code on failure: -errno for
 * system and argument errors, and one of the KC_E* codes below for rejected input. The
 * KC_E* codes sit below -4096 so they never collide with an errno value. */
#ifndef KCPCORE_ERROR_H
#define KCPCORE_ERROR_H

enum kc_error {
	KC_ESHORT = -4097,  /* datagram or segment shorter than its header says */
	KC_ECONV = -4098,   /* KCP conversation id is not ours */
	KC_ECMD = -4099,    /* unknown KCP command */
	KC_ELEN = -4100,    /* a length field points beyond the datagram */
	KC_EWINDOW = -4101, /* sequence number or ack far outside the window */
	KC_EAUTH = -4102,   /* checksum or authentication tag did not verify */
	KC_EREPLAY = -4103, /* packet counter already seen or too old */
	KC_EFEC = -4104,    /* malformed FEC header or recovered shard */
	KC_ECIPHER = -4105, /* cipher name refused (unknown or insecure) */
	KC_EFULL = -4106,   /* queue or window full; try again after the peer acknowledges */
	KC_ENOBUF = -4107,  /* packet pool exhausted */
	KC_EMSGSIZE = -4108, /* message needs more fragments than allowed */
	KC_ENOKEY = -4109,   /* secure mode: no keypair for this index or to send with */
	KC_EUNKNOWN = -4110, /* secure mode: the sender's static key is not a peer's */
	KC_ELOAD = -4111,    /* secure mode: under load, a cookie is required or rate limited */
	KC_ETYPE = -4112     /* secure mode: unknown packet type */
};

/* Static description of `err` (a KC_E* code or a negative errno); never NULL. */
const char *kc_strerror(int err);

#endif
