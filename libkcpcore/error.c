#include <string.h>

#include "kcpcore/error.h"

const char *kc_strerror(int err)
{
	switch (err) {
	case KC_ESHORT:
		return "truncated packet";
	case KC_ECONV:
		return "conversation id mismatch";
	case KC_ECMD:
		return "unknown KCP command";
	case KC_ELEN:
		return "length beyond datagram";
	case KC_EWINDOW:
		return "sequence number outside window";
	case KC_EAUTH:
		return "checksum or authentication failed";
	case KC_EREPLAY:
		return "replayed packet";
	case KC_EFEC:
		return "malformed FEC packet";
	case KC_ECIPHER:
		return "cipher refused";
	case KC_EFULL:
		return "queue full";
	case KC_ENOBUF:
		return "packet pool exhausted";
	case KC_EMSGSIZE:
		return "message too large";
	case KC_ENOKEY:
		return "no session key";
	case KC_EUNKNOWN:
		return "unknown peer key";
	case KC_ELOAD:
		return "under load: cookie required or rate limited";
	case KC_ETYPE:
		return "unknown packet type";
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}
