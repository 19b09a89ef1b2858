/* The control protocol between kcpvpnd and kcpctl: names, error codes and limits only.
 *
 * A Unix stream socket, one JSON object per line each way, one reply per request, in order.
 * A request carries "cmd" and may carry "id", echoed back in its reply. A reply carries "ok";
 * a failure adds a stable snake_case "error" (one of CONTROL_E_*) and a human "message".
 *   {"id":1,"cmd":"tune","peer":"lab","set":{"fec":"10:3"}}   ->   {"id":1,"ok":true}
 * The command names and reply shapes are documented in kcpctl(8). kcpctl includes this header,
 * so it holds no daemon logic and needs nothing but the C preprocessor. */
#ifndef DAEMON_CONTROL_PROTO_H
#define DAEMON_CONTROL_PROTO_H

/* Where the socket lives: CONTROL_SOCKET_DIR "/" IFNAME CONTROL_SOCKET_SUFFIX. */
#define CONTROL_SOCKET_DIR     "/run/kcpvpnd"
#define CONTROL_SOCKET_SUFFIX  ".sock"
#define CONTROL_SOCKET_DEFAULT CONTROL_SOCKET_DIR "/kcp0" CONTROL_SOCKET_SUFFIX
#define CONTROL_SOCKET_MODE    0660 /* root or the socket's group */

/* Limits the daemon enforces. */
#define CONTROL_LINE_MAX    65536	  /* bytes of one request line, newline excluded */
#define CONTROL_OUTQ_MAX    (1024 * 1024) /* unread reply bytes before a client is dropped */
#define CONTROL_CLIENTS_MAX 64		  /* connected clients; the next one is refused */

/* Commands. */
#define CONTROL_CMD_PING	"ping"	      /* built in: {"ok":true,"pong":true} */
#define CONTROL_CMD_STATUS	"status"      /* interface and per-peer figures */
#define CONTROL_CMD_PEERS	"peers"	      /* name, endpoint, state, allowed_ips per peer */
#define CONTROL_CMD_TUNE	"tune"	      /* mutating: "peer" (absent = all), "set" {...} */
#define CONTROL_CMD_SHOW_CONFIG "show_config" /* {"config":"<text as understood>"} */

/* Error codes of a failed reply ("ok":false). */
#define CONTROL_E_BAD_REQUEST	    "bad_request"	/* not JSON, not an object, no "cmd" */
#define CONTROL_E_LINE_TOO_LONG	    "line_too_long"	/* line over CONTROL_LINE_MAX, discarded */
#define CONTROL_E_UNKNOWN_COMMAND   "unknown_command"	/* "cmd" names no command */
#define CONTROL_E_PERMISSION_DENIED "permission_denied" /* mutating, client not root or group */
#define CONTROL_E_UNKNOWN_PEER	    "unknown_peer"	/* "peer" names no peer */
#define CONTROL_E_INVALID_VALUE	    "invalid_value"	/* a value out of range or malformed */
#define CONTROL_E_INTERNAL	    "internal"		/* the daemon failed (out of memory...) */
#define CONTROL_E_TOO_MANY_CLIENTS  "too_many_clients"	/* sent unasked, then the socket closes */

/* The keys of tune's "set" object and their JSON types, as X(name, CONTROL_T_type):
 * INT a JSON integer, BOOL true or false, STRING a string ("10:3" or "off", "fast3", "10M"). */
enum control_type { CONTROL_T_INT, CONTROL_T_BOOL, CONTROL_T_STRING };
#define CONTROL_TUNE_KEYS(X)                                                                       \
	X("fec", CONTROL_T_STRING)                                                                 \
	X("mode", CONTROL_T_STRING)                                                                \
	X("sndwnd", CONTROL_T_INT)                                                                 \
	X("rcvwnd", CONTROL_T_INT)                                                                 \
	X("ratelimit", CONTROL_T_STRING)                                                           \
	X("nodelay", CONTROL_T_INT)                                                                \
	X("interval", CONTROL_T_INT)                                                               \
	X("resend", CONTROL_T_INT)                                                                 \
	X("nc", CONTROL_T_BOOL)

/* Peer states in status and peers replies. */
#define CONTROL_STATE_UP	 "up"
#define CONTROL_STATE_CONNECTING "connecting"
#define CONTROL_STATE_DOWN	 "down"

#endif
