/* The control server: kcpctl's Unix socket, JSON lines each way (daemon/control_proto.h).
 *
 * The daemon registers a table of commands; control.c frames lines, parses requests, checks
 * permissions, calls the command, and adds "ok" and the echoed "id" to its reply. It owns
 * every limit of the protocol (line length, unread output, number of clients), so a client
 * can neither grow the daemon's memory without bound nor keep the event loop busy: handlers
 * must be quick and never block. When the event base has several priorities, control events
 * take the lowest, so packet events always run first. */
#ifndef DAEMON_CONTROL_H
#define DAEMON_CONTROL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "control_proto.h"

struct event_base;
struct control;

/* Why a command failed: `code` is one of CONTROL_E_* (NULL means CONTROL_E_INTERNAL) and
 * `message` a sentence for people (empty: a generic one for the code). */
struct control_err {
	const char *code;
	char message[256];
};

/* A command: fills `reply` (a JSON object; "ok" and "id" are added by control.c) and returns
 * 0, or fills `err` and returns -1. `req` is the whole request object. */
typedef int (*control_fn)(void *ctx, const json_t *req, json_t *reply, struct control_err *err);

struct control_cmd {
	const char *name;
	bool mutating; /* changes the daemon: only root or the socket's group may run it */
	control_fn fn;
};

/* Listens on `path` (mode 0660, group `gid`, or (gid_t)-1 to keep the process's group),
 * creating its directory if missing. Refuses to start if another daemon answers there
 * (*err = -EADDRINUSE) or if `path` is something other than a socket (-EEXIST); removes a
 * stale socket. Read-only commands are open to anyone who can connect; mutating ones need
 * uid 0 or membership of the socket's group (SO_PEERCRED and SO_PEERGROUPS, read on accept).
 * `cmds` and `ctx` are borrowed until control_free(); "ping" is built in unless `cmds` has it.
 * Ignores SIGPIPE if it is at its default. Returns NULL and sets *err to -errno on failure. */
struct control *control_new(struct event_base *base, const char *path, gid_t gid,
			    const struct control_cmd *cmds, size_t ncmds, void *ctx, int *err);

/* Closes every client, stops listening and unlinks the socket if it is still ours. NULL is a
 * no-op. */
void control_free(struct control *c);

/* Handles one request line as if a client with `uid` and primary group `gid` sent it (for the
 * fuzzer and the tests). Returns the reply line, malloc'ed, without a newline; NULL only when
 * memory runs out. */
char *control_handle_line(struct control *c, const char *line, size_t len, uid_t uid, gid_t gid);

/* Number of connected clients. */
size_t control_nclients(const struct control *c);

#endif
