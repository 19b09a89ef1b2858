/* The control server: accepts kcpctl clients on a Unix socket, frames their JSON lines,
 * checks permissions and dispatches to the daemon's command table (see control.h).
 *
 * Every client costs a bufferevent and a small struct; its input never holds more than one
 * line (CONTROL_LINE_MAX) plus one read, its output at most CONTROL_OUTQ_MAX plus one reply
 * before the client is dropped. A line over the cap gets an error reply at once and the rest
 * of it is discarded as it arrives. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "control.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13 */
#endif

#define CONTROL_BACKLOG	       16
#define CONTROL_ACCEPT_BURST   16 /* accepts per wake-up of the listener */
#define CONTROL_ACCEPT_PAUSE_S 1  /* the listener rests this long when out of descriptors */
#define CONTROL_QUOTE_MAX      64 /* bytes of an unknown command's name quoted back */
#define CONTROL_GROUPS_STACK   64 /* supplementary groups read without allocating */
#define CONTROL_JSON_FLAGS     (JSON_COMPACT | JSON_REAL_PRECISION(15))

struct control_client {
	LIST_ENTRY(control_client) entry;
	struct control *c;
	struct bufferevent *bev;
	bool may_mutate; /* root or a member of the socket's group when it connected */
	bool discarding; /* inside a line over CONTROL_LINE_MAX: drop bytes up to its newline */
};

struct control {
	struct event_base *base;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	dev_t sock_dev; /* the socket file we made, so control_free unlinks only ours */
	ino_t sock_ino;
	gid_t sock_gid; /* members may run mutating commands */
	int priority;	/* of our events; -1 leaves libevent's default */
	struct event *ev_accept;
	struct event *ev_resume;
	const struct control_cmd *cmds;
	size_t ncmds;
	void *ctx;
	LIST_HEAD(, control_client) clients;
	size_t nclients;
};

static int control_ping(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	return json_object_set_new(reply, "pong", json_true()) == 0 ? 0 : -1;
}

static const struct control_cmd control_builtin[] = {
    {CONTROL_CMD_PING, false, control_ping},
};

static const struct control_cmd *control_find(const struct control *c, const char *name)
{
	for (size_t i = 0; i < c->ncmds; i++)
		if (strcmp(c->cmds[i].name, name) == 0)
			return &c->cmds[i];
	for (size_t i = 0; i < sizeof(control_builtin) / sizeof(control_builtin[0]); i++)
		if (strcmp(control_builtin[i].name, name) == 0)
			return &control_builtin[i];
	return NULL;
}

/* A JSON string of `s`; bytes that would make it invalid UTF-8 (a name cut in the middle of a
 * character, a handler's stray byte) become '?'. NULL when memory runs out. */
static json_t *control_text(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j != NULL)
		return j;
	copy = strdup(s);
	if (copy == NULL)
		return NULL;
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static const char *control_default_message(const char *code)
{
	static const struct {
		const char *code, *message;
	} msgs[] = {
	    {CONTROL_E_BAD_REQUEST, "malformed request"},
	    {CONTROL_E_LINE_TOO_LONG, "request line longer than 65536 bytes"},
	    {CONTROL_E_UNKNOWN_COMMAND, "unknown command"},
	    {CONTROL_E_PERMISSION_DENIED, "permission denied"},
	    {CONTROL_E_UNKNOWN_PEER, "no such peer"},
	    {CONTROL_E_INVALID_VALUE, "invalid value"},
	    {CONTROL_E_TOO_MANY_CLIENTS, "too many control clients"},
	};

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (strcmp(msgs[i].code, code) == 0)
			return msgs[i].message;
	return "internal error";
}

/* The reply line for `reply`, malloc'ed; NULL when memory runs out. */
static char *control_dump(const json_t *reply)
{
	static const char oom[] =
	    "{\"ok\":false,\"error\":\"" CONTROL_E_INTERNAL "\",\"message\":\"out of memory\"}";
	char *line = json_dumps(reply, CONTROL_JSON_FLAGS);

	return line != NULL ? line : strdup(oom);
}

/* The failure reply {"id":..,"ok":false,"error":code,"message":..}, malloc'ed. */
static char *control_fail(const json_t *id, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static char *control_fail(const json_t *id, const char *code, const char *fmt, ...)
{
	json_t *reply = json_object();
	char message[sizeof(((struct control_err *)0)->message)];
	char *line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (reply != NULL) {
		if (id != NULL)
			json_object_set(reply, "id", (json_t *)id);
		json_object_set_new(reply, "ok", json_false());
		json_object_set_new(reply, "error", json_string(code));
		json_object_set_new(reply, "message", control_text(message));
	}
	line = control_dump(reply);
	json_decref(reply);
	return line;
}

/* Parses one request line, runs its command and returns the reply line, malloc'ed. */
static char *control_dispatch(struct control *c, const char *line, size_t len, bool may_mutate)
{
	const struct control_cmd *cmd;
	struct control_err err = {NULL, ""};
	const json_t *id, *name;
	json_error_t jerr;
	json_t *req, *reply;
	char *out;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return control_fail(NULL, CONTROL_E_BAD_REQUEST, "empty request line");
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL)
		return control_fail(NULL, CONTROL_E_BAD_REQUEST, "invalid JSON at byte %d: %s",
				    jerr.position, jerr.text);
	if (!json_is_object(req)) {
		json_decref(req);
		return control_fail(NULL, CONTROL_E_BAD_REQUEST, "request is not a JSON object");
	}
	id = json_object_get(req, "id");
	name = json_object_get(req, "cmd");
	if (!json_is_string(name)) {
		out = control_fail(id, CONTROL_E_BAD_REQUEST, "request has no \"cmd\" string");
		goto done;
	}
	cmd = control_find(c, json_string_value(name));
	if (cmd == NULL) {
		out = control_fail(id, CONTROL_E_UNKNOWN_COMMAND, "unknown command \"%.*s\"",
				   CONTROL_QUOTE_MAX, json_string_value(name));
		goto done;
	}
	if (cmd->mutating && !may_mutate) {
		out = control_fail(
		    id, CONTROL_E_PERMISSION_DENIED,
		    "\"%s\" changes the daemon: only root or the socket's group may run it",
		    cmd->name);
		goto done;
	}
	reply = json_object();
	if (reply == NULL) {
		out = control_fail(id, CONTROL_E_INTERNAL, "out of memory");
		goto done;
	}
	/* "id" and "ok" go first, and again after the command in case it touched them */
	if (id != NULL)
		json_object_set(reply, "id", (json_t *)id);
	json_object_set_new(reply, "ok", json_true());
	if (cmd->fn(c->ctx, req, reply, &err) != 0) {
		json_decref(reply);
		if (err.code == NULL)
			err.code = CONTROL_E_INTERNAL;
		out = control_fail(id, err.code, "%s",
				   err.message[0] != '\0' ? err.message
							  : control_default_message(err.code));
		goto done;
	}
	if (id != NULL)
		json_object_set(reply, "id", (json_t *)id);
	json_object_set_new(reply, "ok", json_true());
	out = control_dump(reply);
	json_decref(reply);
done:
	json_decref(req);
	return out;
}

char *control_handle_line(struct control *c, const char *line, size_t len, uid_t uid, gid_t gid)
{
	return control_dispatch(c, line, len, uid == 0 || gid == c->sock_gid);
}

size_t control_nclients(const struct control *c)
{
	return c->nclients;
}

static void control_client_free(struct control_client *cl)
{
	LIST_REMOVE(cl, entry);
	cl->c->nclients--;
	bufferevent_free(cl->bev);
	free(cl);
}

/* Queues `line` and a newline. Returns -1, the client freed, when its unread replies already
 * passed CONTROL_OUTQ_MAX (it doesn't read them) or memory runs out. */
static int control_client_send(struct control_client *cl, const char *line)
{
	struct evbuffer *out = bufferevent_get_output(cl->bev);

	if (evbuffer_get_length(out) > CONTROL_OUTQ_MAX || evbuffer_add(out, line, strlen(line)) ||
	    evbuffer_add(out, "\n", 1)) {
		control_client_free(cl);
		return -1;
	}
	return 0;
}

/* Sends a reply built for cl and frees it; a reply that could not be built (out of memory)
 * ends the client. Returns -1 when the client was freed. */
static int control_client_reply(struct control_client *cl, char *reply)
{
	int rc;

	if (reply == NULL) {
		control_client_free(cl);
		return -1;
	}
	rc = control_client_send(cl, reply);
	free(reply);
	return rc;
}

/* Answers one line (without its newline). Returns -1 when the client was freed. */
static int control_client_line(struct control_client *cl, const char *line, size_t len)
{
	return control_client_reply(cl, control_dispatch(cl->c, line, len, cl->may_mutate));
}

static int control_client_too_long(struct control_client *cl)
{
	return control_client_reply(cl, control_fail(NULL, CONTROL_E_LINE_TOO_LONG,
						     "request line longer than %d bytes, discarded",
						     CONTROL_LINE_MAX));
}

/* Answers every whole line in the input; a partial line waits for more. */
static void control_client_read(struct bufferevent *bev, void *arg)
{
	struct control_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol;
	size_t avail;
	unsigned char *line;

	while ((avail = evbuffer_get_length(in)) > 0) {
		eol = evbuffer_search(in, "\n", 1, NULL);
		if (cl->discarding) {
			cl->discarding = eol.pos < 0;
			evbuffer_drain(in, eol.pos < 0 ? avail : (size_t)eol.pos + 1);
			continue;
		}
		if (eol.pos < 0 && avail <= CONTROL_LINE_MAX)
			return;
		if (eol.pos < 0 || (size_t)eol.pos > CONTROL_LINE_MAX) {
			cl->discarding = eol.pos < 0;
			evbuffer_drain(in, eol.pos < 0 ? avail : (size_t)eol.pos + 1);
			if (control_client_too_long(cl) < 0)
				return;
			continue;
		}
		line = evbuffer_pullup(in, eol.pos + 1);
		if (line == NULL) {
			control_client_free(cl);
			return;
		}
		if (control_client_line(cl, (const char *)line, eol.pos) < 0)
			return;
		evbuffer_drain(in, eol.pos + 1);
	}
}

static void control_client_drained(struct bufferevent *bev, void *arg)
{
	control_client_free(arg);
}

/* EOF: the client closed its side (`printf '{"cmd":"ping"}' | socat - UNIX:...`). A last line
 * without a newline is answered, the replies flushed, then the client freed. Errors free it. */
static void control_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t avail = evbuffer_get_length(in);
	unsigned char *line;

	if ((what & BEV_EVENT_EOF) == 0 || (what & BEV_EVENT_ERROR) != 0) {
		control_client_free(cl);
		return;
	}
	bufferevent_disable(bev, EV_READ);
	if (!cl->discarding && avail > 0) {
		line = evbuffer_pullup(in, avail);
		if (line == NULL) {
			control_client_free(cl);
			return;
		}
		if (control_client_line(cl, (const char *)line, avail) < 0)
			return;
		evbuffer_drain(in, avail);
	}
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
		control_client_free(cl);
		return;
	}
	bufferevent_setcb(bev, NULL, control_client_drained, control_client_event, cl);
}

/* Whether the peer of `fd` is root or in `gid` (primary or supplementary). */
static bool control_peer_may_mutate(int fd, const struct ucred *cred, gid_t gid)
{
	gid_t stack[CONTROL_GROUPS_STACK], *groups = stack;
	socklen_t len = sizeof(stack);
	bool member = false;

	if (cred->uid == 0 || cred->gid == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
		if (errno != ERANGE)
			return false;
		groups = malloc(len);
		if (groups == NULL || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0)
			len = 0;
	}
	for (size_t i = 0; groups != NULL && i < len / sizeof(gid_t); i++)
		member |= groups[i] == gid;
	if (groups != stack)
		free(groups);
	return member;
}

/* Takes `fd` (accepted, non-blocking) as a client; closes it on failure. */
static void control_client_new(struct control *c, int fd)
{
	struct control_client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
		close(fd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL) {
		close(fd);
		return;
	}
	cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (cl->bev == NULL) {
		free(cl);
		close(fd);
		return;
	}
	cl->c = c;
	cl->may_mutate = control_peer_may_mutate(fd, &cred, c->sock_gid);
	LIST_INSERT_HEAD(&c->clients, cl, entry);
	c->nclients++;
	if (c->priority >= 0)
		bufferevent_priority_set(cl->bev, c->priority);
	bufferevent_setcb(cl->bev, control_client_read, NULL, control_client_event, cl);
	if (bufferevent_enable(cl->bev, EV_READ) != 0)
		control_client_free(cl);
}

/* One line saying why, without blocking, then the door. */
static void control_refuse(int fd)
{
	char *line =
	    control_fail(NULL, CONTROL_E_TOO_MANY_CLIENTS,
			 "too many control clients (%d), try again later", CONTROL_CLIENTS_MAX);

	if (line != NULL) {
		size_t len = strlen(line);

		line[len] = '\n'; /* replaces the NUL; the length is known */
		(void)!send(fd, line, len + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		free(line);
	}
	close(fd);
}

static void control_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;

	event_add(c->ev_accept, NULL);
}

static void control_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct control *c = arg;
	const struct timeval pause = {CONTROL_ACCEPT_PAUSE_S, 0};

	for (int i = 0; i < CONTROL_ACCEPT_BURST; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* level-triggered: without a rest the loop would spin on it */
				event_del(c->ev_accept);
				evtimer_add(c->ev_resume, &pause);
			}
			return;
		}
		if (c->nclients >= CONTROL_CLIENTS_MAX)
			control_refuse(fd);
		else
			control_client_new(c, fd);
	}
}

/* Makes the socket's directory if it is missing (one level, mode 0755). */
static void control_mkdir_parent(const char *path)
{
	char dir[sizeof(((struct control *)0)->path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return; /* bind reports the real trouble */
}

/* Clears the way for bind: 0 when `path` is free or held by a stale socket (removed),
 * -EADDRINUSE when a daemon answers there, -EEXIST when it is not a socket, else -errno. */
static int control_probe(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	close(fd);
	if (rc == 0 || rc == -EAGAIN) /* EAGAIN: listening, its backlog full */
		return -EADDRINUSE;
	if (rc != -ECONNREFUSED)
		return rc;
	if (unlink(path) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Binds and listens on c->path with mode 0660 and group `gid`; records what it made. */
static int control_listen(struct control *c, gid_t gid)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t umask_old;
	int rc;

	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	/* never visible with a wider mode, not even between bind and chmod */
	umask_old = umask(0777 & ~CONTROL_SOCKET_MODE);
	rc = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	umask(umask_old);
	if (rc != 0)
		return rc;
	if ((gid != (gid_t)-1 && chown(c->path, (uid_t)-1, gid) != 0) ||
	    chmod(c->path, CONTROL_SOCKET_MODE) != 0 || stat(c->path, &st) != 0) {
		rc = -errno;
		unlink(c->path);
		return rc;
	}
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	c->sock_gid = st.st_gid;
	if (listen(c->fd, CONTROL_BACKLOG) != 0) {
		rc = -errno;
		unlink(c->path);
		return rc;
	}
	return 0;
}

struct control *control_new(struct event_base *base, const char *path, gid_t gid,
			    const struct control_cmd *cmds, size_t ncmds, void *ctx, int *err)
{
	struct sigaction sa;
	struct control *c;
	int rc, npri;

	if (base == NULL || path == NULL || path[0] == '\0' || (cmds == NULL && ncmds > 0)) {
		*err = -EINVAL;
		return NULL;
	}
	if (strlen(path) >= sizeof(c->path)) {
		*err = -ENAMETOOLONG;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	c->base = base;
	c->fd = -1;
	c->cmds = cmds;
	c->ncmds = ncmds;
	c->ctx = ctx;
	LIST_INIT(&c->clients);
	snprintf(c->path, sizeof(c->path), "%s", path);
	npri = event_base_get_npriorities(base);
	c->priority = npri > 1 ? npri - 1 : -1;

	/* a client that hangs up before its reply must not kill the daemon */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);

	control_mkdir_parent(path);
	rc = control_probe(path);
	if (rc == 0)
		rc = control_listen(c, gid);
	if (rc != 0)
		goto fail;
	c->ev_accept = event_new(base, c->fd, EV_READ | EV_PERSIST, control_accept, c);
	c->ev_resume = evtimer_new(base, control_accept_resume, c);
	if (c->ev_accept == NULL || c->ev_resume == NULL) {
		rc = -ENOMEM;
		goto fail_unlink;
	}
	if (c->priority >= 0 && (event_priority_set(c->ev_accept, c->priority) != 0 ||
				 event_priority_set(c->ev_resume, c->priority) != 0)) {
		rc = -EINVAL;
		goto fail_unlink;
	}
	if (event_add(c->ev_accept, NULL) != 0) {
		rc = -ENOMEM;
		goto fail_unlink;
	}
	return c;

fail_unlink:
	unlink(c->path);
fail:
	if (c->ev_resume != NULL)
		event_free(c->ev_resume);
	if (c->ev_accept != NULL)
		event_free(c->ev_accept);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	*err = rc;
	return NULL;
}

void control_free(struct control *c)
{
	struct stat st;

	if (c == NULL)
		return;
	while (!LIST_EMPTY(&c->clients))
		control_client_free(LIST_FIRST(&c->clients));
	event_free(c->ev_accept);
	event_free(c->ev_resume);
	close(c->fd);
	/* a newer daemon may have replaced a socket we lost; leave that one be */
	if (stat(c->path, &st) == 0 && st.st_dev == c->sock_dev && st.st_ino == c->sock_ino)
		unlink(c->path);
	free(c);
}
