/* The control server over a real Unix socket in a temporary directory, driven by a libevent
 * loop that the test pumps between its own client reads and writes, with fake commands. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/control.h"

#define BIG_BYTES    (256 * 1024) /* the "big" command's reply payload */
#define WAIT_MS	     5000	  /* longest wait for a reply or a state */
#define OTHER_UID    65534	  /* nobody */
#define OTHER_GID    65534	  /* nogroup */
#define SOCKET_GROUP 4242	  /* a group nobody is in, for the permission tests */

static char big_text[BIG_BYTES + 1];

static int cmd_echo(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	return json_object_set(reply, "echo", (json_t *)req);
}

static int cmd_set(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	(*(int *)ctx)++;
	return json_object_set_new(reply, "done", json_true());
}

static int cmd_fail(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	err->code = CONTROL_E_UNKNOWN_PEER;
	snprintf(err->message, sizeof(err->message), "no peer named \"%s\"", "nope");
	return -1;
}

static int cmd_fail_bare(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	return -1;
}

static int cmd_big(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	return json_object_set_new(reply, "blob", json_string(big_text));
}

/* A command that sets "ok" and "id" itself: control.c has the last word on both. */
static int cmd_meddle(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	json_object_set_new(reply, "ok", json_false());
	json_object_set_new(reply, "id", json_string("forged"));
	return 0;
}

static const struct control_cmd cmds[] = {
    {"echo", false, cmd_echo},		 {"set", true, cmd_set},  {"fail", false, cmd_fail},
    {"fail_bare", false, cmd_fail_bare}, {"big", false, cmd_big}, {"meddle", false, cmd_meddle},
};

static char dir[48], path[96];
static struct event_base *base;
static struct control *ctl;
static int set_calls;
static bool in_child; /* a forked client must not run the parent's loop (shared epoll) */

static struct control *new_control(gid_t gid, int *err)
{
	return control_new(base, path, gid, cmds, sizeof(cmds) / sizeof(cmds[0]), &set_calls, err);
}

static void setup(void)
{
	int err = 0;

	memset(big_text, 'b', BIG_BYTES);
	snprintf(dir, sizeof(dir), "/tmp/test_control.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/kcp0.sock", dir);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	set_calls = 0;
	ctl = new_control((gid_t)-1, &err);
	ck_assert_msg(ctl != NULL, "control_new: %s", strerror(-err));
}

static void teardown(void)
{
	control_free(ctl);
	event_base_free(base);
	unlink(path);
	rmdir(dir);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs whatever the server has to do right now, then naps a millisecond. */
static void pump(void)
{
	if (!in_child)
		event_base_loop(base, EVLOOP_NONBLOCK);
	poll(NULL, 0, 1);
}

static void pump_until_nclients(size_t n)
{
	long end = now_ms() + WAIT_MS;

	while (control_nclients(ctl) != n && now_ms() < end)
		pump();
	ck_assert_uint_eq(control_nclients(ctl), n);
}

struct client {
	int fd;
	char *buf;
	size_t len, cap;
	bool eof;
};

static struct client *client_open_at(const char *at)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct client *t = calloc(1, sizeof(*t));
	long end = now_ms() + WAIT_MS;

	ck_assert_ptr_nonnull(t);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", at);
	t->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(t->fd, 0);
	/* a full backlog answers EAGAIN to a non-blocking connect: let the server accept */
	while (connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ck_assert_msg(errno == EAGAIN && now_ms() < end, "connect: %s", strerror(errno));
		pump();
	}
	return t;
}

static struct client *client_open(void)
{
	return client_open_at(path);
}

static void client_close(struct client *t)
{
	close(t->fd);
	free(t->buf);
	free(t);
}

static void client_send(struct client *t, const char *data, size_t len)
{
	long end = now_ms() + WAIT_MS;

	while (len > 0) {
		ssize_t n = send(t->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			ck_assert_msg(errno == EAGAIN, "send: %s", strerror(errno));
			ck_assert_msg(now_ms() < end, "send blocked for %d ms", WAIT_MS);
			pump();
			continue;
		}
		data += n;
		len -= (size_t)n;
	}
}

static void client_puts(struct client *t, const char *s)
{
	client_send(t, s, strlen(s));
}

/* Reads what is there; false once the server closed (EOF or reset). */
static bool client_fill(struct client *t)
{
	for (;;) {
		ssize_t n;

		if (t->cap - t->len < 65536) {
			t->cap = t->cap * 2 + 65536;
			t->buf = realloc(t->buf, t->cap);
			ck_assert_ptr_nonnull(t->buf);
		}
		n = recv(t->fd, t->buf + t->len, t->cap - t->len, MSG_DONTWAIT);
		if (n > 0) {
			t->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return true;
		t->eof = true;
		return false;
	}
}

/* The next reply line (malloc'ed, no newline), or NULL when the server closed first. */
static char *client_line(struct client *t)
{
	long end = now_ms() + WAIT_MS;

	for (;;) {
		char *nl = t->len > 0 ? memchr(t->buf, '\n', t->len) : NULL;

		if (nl != NULL) {
			size_t n = (size_t)(nl - t->buf);
			char *line = strndup(t->buf, n);

			ck_assert_ptr_nonnull(line);
			memmove(t->buf, nl + 1, t->len - n - 1);
			t->len -= n + 1;
			return line;
		}
		if (t->eof)
			return NULL;
		ck_assert_msg(now_ms() < end, "no reply within %d ms", WAIT_MS);
		pump();
		client_fill(t);
	}
}

/* The next reply, parsed; fails the test if there is none or it is not a JSON object. */
static json_t *client_reply(struct client *t)
{
	char *line = client_line(t);
	json_error_t jerr;
	json_t *j;

	ck_assert_msg(line != NULL, "the server closed instead of replying");
	j = json_loads(line, 0, &jerr);
	ck_assert_msg(json_is_object(j), "reply is not a JSON object: %s (%s)", line, jerr.text);
	free(line);
	return j;
}

/* True when the server closes the connection within WAIT_MS (after any pending replies). */
static bool client_sees_close(struct client *t)
{
	long end = now_ms() + WAIT_MS;

	while (now_ms() < end) {
		pump();
		if (!client_fill(t))
			return true;
	}
	return false;
}

static const char *reply_error(const json_t *r)
{
	return json_string_value(json_object_get(r, "error"));
}

static void assert_ok(const json_t *r)
{
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "not ok: %s", reply_error(r));
	ck_assert_ptr_null(json_object_get(r, "error"));
}

/* "ok":false with error `code` and a non-empty message. */
static void assert_fails(const json_t *r, const char *code)
{
	const char *msg = json_string_value(json_object_get(r, "message"));

	ck_assert_msg(json_is_false(json_object_get(r, "ok")), "expected ok:false");
	ck_assert_str_eq(reply_error(r), code);
	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_gt(strlen(msg), 0);
}

static json_t *handle(const char *line, uid_t uid, gid_t gid)
{
	char *out = control_handle_line(ctl, line, strlen(line), uid, gid);
	json_t *j;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_null(strchr(out, '\n'));
	j = json_loads(out, 0, NULL);
	ck_assert_msg(json_is_object(j), "reply is not a JSON object: %s", out);
	free(out);
	return j;
}

START_TEST(control_answers_ping_and_registered_command)
{
	struct client *t = client_open();
	json_t *r;

	client_puts(t, "{\"cmd\":\"ping\"}\n");
	r = client_reply(t);
	assert_ok(r);
	ck_assert(json_is_true(json_object_get(r, "pong")));
	ck_assert_ptr_null(json_object_get(r, "id"));
	json_decref(r);

	client_puts(t, "{\"cmd\":\"echo\",\"x\":[1,2]}\n");
	r = client_reply(t);
	assert_ok(r);
	ck_assert_int_eq(
	    json_integer_value(json_array_get(json_object_get(json_object_get(r, "echo"), "x"), 1)),
	    2);
	json_decref(r);
	client_close(t);
}
END_TEST

START_TEST(control_echoes_id_of_any_type_in_success_and_failure)
{
	static const char *const ids[] = {"1", "\"abc\"", "null", "{\"a\":[1,2.5]}", "-7"};
	static const char *const cmds_[] = {"ping", "fail", "nosuch", "fail_bare", "meddle"};
	struct client *t = client_open();

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		for (size_t k = 0; k < sizeof(cmds_) / sizeof(cmds_[0]); k++) {
			char line[256];
			json_t *want = json_loads(ids[i], JSON_DECODE_ANY, NULL), *r;

			snprintf(line, sizeof(line), "{\"id\":%s,\"cmd\":\"%s\"}\n", ids[i],
				 cmds_[k]);
			client_puts(t, line);
			r = client_reply(t);
			ck_assert_msg(json_equal(json_object_get(r, "id"), want),
				      "id %s not echoed for %s", ids[i], cmds_[k]);
			json_decref(want);
			json_decref(r);
		}
	}
	client_close(t);
}
END_TEST

START_TEST(control_has_last_word_on_ok_and_id)
{
	json_t *r = handle("{\"id\":3,\"cmd\":\"meddle\"}", 0, 0);

	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 3);
	json_decref(r);
}
END_TEST

START_TEST(control_rejects_malformed_requests_with_bad_request)
{
	static const char *const bad[] = {
	    "{bad",
	    "[1,2]",
	    "\"str\"",
	    "42",
	    "",
	    "   ",
	    "{\"id\":5}",
	    "{\"cmd\":5}",
	    "{\"cmd\":null}",
	    "{\"cmd\":\"ping\",\"cmd\":\"ping\"}",
	    "{\"cmd\":\"\xff\"}",
	    "{\"cmd\":\"ping\"} {}",
	};
	struct client *t = client_open();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r;

		client_puts(t, bad[i]);
		client_puts(t, "\n");
		r = client_reply(t);
		ck_assert_msg(json_is_false(json_object_get(r, "ok")), "accepted: %s", bad[i]);
		assert_fails(r, CONTROL_E_BAD_REQUEST);
		json_decref(r);
	}
	/* the id of an object without a cmd is still echoed */
	client_puts(t, "{\"id\":5}\n");
	{
		json_t *r = client_reply(t);

		ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 5);
		json_decref(r);
	}
	client_close(t);
}
END_TEST

START_TEST(control_rejects_unknown_command_naming_it)
{
	char name[1200], line[1300];
	const char *msg;
	json_t *r = handle("{\"cmd\":\"frobnicate\"}", 0, 0);

	assert_fails(r, CONTROL_E_UNKNOWN_COMMAND);
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(r, "message")), "\"frobnicate\""));
	json_decref(r);

	/* a long name is quoted only in part */
	memset(name, 'n', 1000);
	name[1000] = '\0';
	snprintf(line, sizeof(line), "{\"cmd\":\"%s\"}", name);
	r = handle(line, 0, 0);
	assert_fails(r, CONTROL_E_UNKNOWN_COMMAND);
	msg = json_string_value(json_object_get(r, "message"));
	ck_assert_uint_lt(strlen(msg), 200);
	json_decref(r);
}
END_TEST

START_TEST(control_reply_stays_valid_utf8_when_the_quote_cuts_a_character)
{
	char line[256];
	json_t *r;

	/* 63 ASCII bytes then "é" (2 bytes): the 64-byte quote ends inside the character */
	snprintf(line, sizeof(line), "{\"cmd\":\"%.63s\xc3\xa9\"}",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	r = handle(line, 0, 0); /* handle() fails the test on a reply that does not parse */
	assert_fails(r, CONTROL_E_UNKNOWN_COMMAND);
	json_decref(r);
}
END_TEST

START_TEST(control_passes_command_errors_through_and_defaults_to_internal)
{
	json_t *r = handle("{\"cmd\":\"fail\"}", 0, 0);

	assert_fails(r, CONTROL_E_UNKNOWN_PEER);
	ck_assert_str_eq(json_string_value(json_object_get(r, "message")),
			 "no peer named \"nope\"");
	json_decref(r);
	r = handle("{\"cmd\":\"fail_bare\"}", 0, 0);
	assert_fails(r, CONTROL_E_INTERNAL);
	json_decref(r);
}
END_TEST

/* Lines of exactly CONTROL_LINE_MAX bytes pass, one more byte is refused. */
START_TEST(control_caps_lines_at_64k_exactly)
{
	static const struct {
		size_t len;
		const char *tail;
		bool ok;
	} cases[] = {
	    {CONTROL_LINE_MAX - 1, "\n", true},
	    {CONTROL_LINE_MAX, "\n", true},
	    {CONTROL_LINE_MAX - 1, "\r\n", true},
	    {CONTROL_LINE_MAX + 1, "\n", false},
	};
	struct client *t = client_open();
	char *line = malloc(CONTROL_LINE_MAX + 8);
	static const char req[] = "{\"cmd\":\"ping\"}";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r;

		memset(line, ' ', cases[i].len);
		memcpy(line, req, sizeof(req) - 1);
		client_send(t, line, cases[i].len);
		client_puts(t, cases[i].tail);
		r = client_reply(t);
		if (cases[i].ok)
			assert_ok(r);
		else
			assert_fails(r, CONTROL_E_LINE_TOO_LONG);
		json_decref(r);
	}
	free(line);
	client_close(t);
}
END_TEST

START_TEST(control_refuses_70k_line_then_serves_the_next)
{
	size_t len = 70 * 1024;
	char *line = malloc(len);
	struct client *t = client_open();
	json_t *r;

	/* valid JSON, still too long: the cap is on bytes, not on content */
	memset(line, ' ', len);
	memcpy(line, "{\"cmd\":\"ping\",\"pad\":\"", 21);
	line[len - 2] = '"';
	line[len - 1] = '}';
	for (size_t i = 21; i < len - 2; i++)
		line[i] = 'x';
	client_send(t, line, len);
	client_puts(t, "\n{\"id\":7,\"cmd\":\"ping\"}\n");
	r = client_reply(t);
	assert_fails(r, CONTROL_E_LINE_TOO_LONG);
	json_decref(r);
	r = client_reply(t);
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 7);
	json_decref(r);
	free(line);
	client_close(t);
}
END_TEST

/* A long line arriving in pieces: one error, sent before its end arrives, then normal service. */
START_TEST(control_discards_a_long_line_arriving_in_pieces_with_one_error)
{
	char chunk[40 * 1024];
	struct client *t = client_open();
	json_t *r;

	memset(chunk, 'x', sizeof(chunk));
	client_send(t, chunk, sizeof(chunk));
	for (int i = 0; i < 20; i++)
		pump();
	client_send(t, chunk, sizeof(chunk));
	r = client_reply(t); /* the error comes while the line is still open */
	assert_fails(r, CONTROL_E_LINE_TOO_LONG);
	json_decref(r);
	for (int k = 0; k < 5; k++) {
		client_send(t, chunk, sizeof(chunk));
		for (int i = 0; i < 5; i++)
			pump();
	}
	client_puts(t, "xx\n{\"id\":8,\"cmd\":\"ping\"}\n");
	r = client_reply(t);
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 8);
	json_decref(r);
	client_close(t);
}
END_TEST

START_TEST(control_answers_pipelined_requests_in_order)
{
	struct client *t = client_open();
	json_t *r;

	client_puts(t, "{\"id\":1,\"cmd\":\"ping\"}\n{\"id\":2,\"cmd\":\"echo\"}\n{bad\n"
		       "{\"id\":4,\"cmd\":\"nosuch\"}\r\n{\"id\":5,\"cmd\":\"ping\"}\n");
	for (int id = 1; id <= 5; id++) {
		r = client_reply(t);
		if (id == 3) {
			assert_fails(r, CONTROL_E_BAD_REQUEST);
		} else {
			ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), id);
			if (id == 4)
				assert_fails(r, CONTROL_E_UNKNOWN_COMMAND);
			else
				assert_ok(r);
		}
		json_decref(r);
	}
	client_close(t);
}
END_TEST

START_TEST(control_joins_a_request_split_across_writes)
{
	struct client *t = client_open();
	const char *parts[] = {"{\"id\":3,", "\"cmd\":\"pi", "ng\"}", "\n"};
	json_t *r;

	for (size_t i = 0; i < 3; i++) {
		client_puts(t, parts[i]);
		for (int k = 0; k < 10; k++)
			pump();
		client_fill(t);
		ck_assert_uint_eq(t->len, 0); /* nothing answered before the newline */
	}
	client_puts(t, parts[3]);
	r = client_reply(t);
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 3);
	json_decref(r);
	client_close(t);
}
END_TEST

START_TEST(control_answers_a_last_line_without_newline_at_eof_then_closes)
{
	struct client *t = client_open();
	json_t *r;

	pump_until_nclients(1);
	client_puts(t, "{\"id\":1,\"cmd\":\"ping\"}\n{\"id\":9,\"cmd\":\"ping\"}");
	shutdown(t->fd, SHUT_WR);
	r = client_reply(t);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	r = client_reply(t);
	assert_ok(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 9);
	json_decref(r);
	ck_assert(client_sees_close(t));
	pump_until_nclients(0);
	client_close(t);
}
END_TEST

START_TEST(control_refuses_mutating_command_to_uid_outside_the_group)
{
	struct stat st;
	json_t *r;

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_ne(st.st_gid, 1000);
	r = handle("{\"id\":1,\"cmd\":\"set\"}", 1000, 1000);
	assert_fails(r, CONTROL_E_PERMISSION_DENIED);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	ck_assert_int_eq(set_calls, 0); /* refused before the command ran */

	r = handle("{\"cmd\":\"echo\"}", 1000, 1000); /* read-only: open to anyone */
	assert_ok(r);
	json_decref(r);
	r = handle("{\"cmd\":\"set\"}", 0, 1000); /* root */
	assert_ok(r);
	json_decref(r);
	r = handle("{\"cmd\":\"set\"}", 1000, st.st_gid); /* the socket's group */
	assert_ok(r);
	json_decref(r);
	ck_assert_int_eq(set_calls, 2);
}
END_TEST

/* In a child as `uid`/`gid` with supplementary `groups`: connects, runs "set" and "echo",
 * exits 0 when set got `want` (an error code, or NULL for success) and echo succeeded. */
static void child_tries_set(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
			    const char *want)
{
	struct client *t;
	json_t *r;
	bool good;

	in_child = true;
	if (setgroups(ngroups, groups) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
		_exit(3);
	t = client_open();
	client_puts(t, "{\"cmd\":\"set\"}\n{\"cmd\":\"echo\"}\n");
	r = client_reply(t);
	good = want == NULL ? json_is_true(json_object_get(r, "ok"))
			    : reply_error(r) != NULL && strcmp(reply_error(r), want) == 0;
	json_decref(r);
	r = client_reply(t);
	good = good && json_is_true(json_object_get(r, "ok"));
	_exit(good ? 0 : 1);
}

/* The credentials come from the socket (SO_PEERCRED, SO_PEERGROUPS), read on accept. */
START_TEST(control_checks_socket_peer_credentials_and_groups)
{
	static const struct {
		uid_t uid;
		gid_t gid;
		gid_t groups[2];
		size_t ngroups;
		const char *want;
	} cases[] = {
	    {OTHER_UID, OTHER_GID, {0}, 0, CONTROL_E_PERMISSION_DENIED},
	    {OTHER_UID, OTHER_GID, {100, SOCKET_GROUP}, 2, NULL},
	    {OTHER_UID, SOCKET_GROUP, {0}, 0, NULL},
	    {0, OTHER_GID, {0}, 0, NULL},
	};
	struct stat st;
	int err = 0;

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root to take other credentials\n");
		return;
	}
	control_free(ctl);
	ctl = new_control(SOCKET_GROUP, &err);
	ck_assert_ptr_nonnull(ctl);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_gid, SOCKET_GROUP);
	/* let anyone connect, so the command table is what decides */
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(chmod(path, 0666), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long end = now_ms() + WAIT_MS;
		pid_t pid = fork();
		int status = -1;

		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			child_tries_set(cases[i].uid, cases[i].gid, cases[i].groups,
					cases[i].ngroups, cases[i].want);
		while (waitpid(pid, &status, WNOHANG) == 0 && now_ms() < end)
			pump();
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "case %zu: uid %u gid %u: child status %d", i, cases[i].uid,
			      cases[i].gid, status);
	}
	ck_assert_int_eq(set_calls, 3);
}
END_TEST

START_TEST(control_drops_a_client_that_never_reads)
{
	struct client *lazy = client_open(), *good = client_open();
	size_t got = 0;
	int sent = 0;

	pump_until_nclients(2);
	/* 40 x 256 KiB is far beyond CONTROL_OUTQ_MAX plus any socket buffer */
	for (; sent < 40 && control_nclients(ctl) == 2; sent++) {
		client_puts(lazy, "{\"cmd\":\"big\"}\n");
		for (int k = 0; k < 5; k++)
			pump();
	}
	pump_until_nclients(1);
	ck_assert_int_lt(sent, 40);
	/* what reached it is less than it asked for, then the connection ends */
	while (client_fill(lazy))
		pump();
	got = lazy->len;
	ck_assert_uint_lt(got, (size_t)sent * BIG_BYTES);
	client_close(lazy);

	/* negative control: a client that reads its replies may ask as often as it likes */
	for (int i = 0; i < 40; i++) {
		json_t *r;

		client_puts(good, "{\"cmd\":\"big\"}\n");
		r = client_reply(good);
		assert_ok(r);
		ck_assert_uint_eq(json_string_length(json_object_get(r, "blob")), BIG_BYTES);
		json_decref(r);
	}
	ck_assert_uint_eq(control_nclients(ctl), 1);
	client_close(good);
}
END_TEST

START_TEST(control_refuses_the_65th_client)
{
	struct client *t[CONTROL_CLIENTS_MAX + 1];
	json_t *r;

	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
		t[i] = client_open();
	pump_until_nclients(CONTROL_CLIENTS_MAX);
	t[CONTROL_CLIENTS_MAX] = client_open();
	r = client_reply(t[CONTROL_CLIENTS_MAX]);
	assert_fails(r, CONTROL_E_TOO_MANY_CLIENTS);
	json_decref(r);
	ck_assert(client_sees_close(t[CONTROL_CLIENTS_MAX]));
	client_close(t[CONTROL_CLIENTS_MAX]);
	ck_assert_uint_eq(control_nclients(ctl), CONTROL_CLIENTS_MAX);

	/* the 64 are served; once one leaves, a newcomer is too */
	client_puts(t[CONTROL_CLIENTS_MAX - 1], "{\"cmd\":\"ping\"}\n");
	r = client_reply(t[CONTROL_CLIENTS_MAX - 1]);
	assert_ok(r);
	json_decref(r);
	client_close(t[0]);
	pump_until_nclients(CONTROL_CLIENTS_MAX - 1);
	t[0] = client_open();
	client_puts(t[0], "{\"cmd\":\"ping\"}\n");
	r = client_reply(t[0]);
	assert_ok(r);
	json_decref(r);
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
		client_close(t[i]);
}
END_TEST

START_TEST(control_new_fails_eaddrinuse_on_a_live_socket)
{
	struct client *t;
	int err = 0;
	json_t *r;

	ck_assert_ptr_null(new_control((gid_t)-1, &err));
	ck_assert_int_eq(err, -EADDRINUSE);
	/* the live daemon keeps its socket */
	t = client_open();
	client_puts(t, "{\"cmd\":\"ping\"}\n");
	r = client_reply(t);
	assert_ok(r);
	json_decref(r);
	client_close(t);
}
END_TEST

START_TEST(control_new_replaces_a_stale_socket)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct client *t;
	struct stat st;
	int fd, err = 0;
	json_t *r;

	control_free(ctl);
	ctl = NULL;
	/* a socket file nobody listens on, as a crashed daemon leaves it */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	ck_assert_int_eq(stat(path, &st), 0);

	ctl = new_control((gid_t)-1, &err);
	ck_assert_msg(ctl != NULL, "control_new: %s", strerror(-err));
	t = client_open();
	client_puts(t, "{\"cmd\":\"ping\"}\n");
	r = client_reply(t);
	assert_ok(r);
	json_decref(r);
	client_close(t);
}
END_TEST

START_TEST(control_new_leaves_a_file_that_is_not_a_socket)
{
	struct stat st;
	int fd, err = 0;

	control_free(ctl);
	ctl = NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "keep", 4), 4);
	close(fd);
	ck_assert_ptr_null(new_control((gid_t)-1, &err));
	ck_assert_int_eq(err, -EEXIST);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 4);
}
END_TEST

START_TEST(control_socket_has_mode_0660)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, CONTROL_SOCKET_MODE);
}
END_TEST

START_TEST(control_new_makes_the_missing_directory)
{
	char sub[64];
	int err = 0;

	control_free(ctl);
	snprintf(sub, sizeof(sub), "%s/run", dir);
	snprintf(path, sizeof(path), "%s/kcp0.sock", sub);
	ctl = new_control((gid_t)-1, &err);
	ck_assert_msg(ctl != NULL, "control_new: %s", strerror(-err));
	ck_assert_int_eq(access(path, F_OK), 0);
	control_free(ctl);
	ctl = NULL;
	ck_assert_int_eq(rmdir(sub), 0);
}
END_TEST

START_TEST(control_free_closes_clients_and_unlinks_its_socket)
{
	struct client *t = client_open();

	pump_until_nclients(1);
	control_free(ctl);
	ctl = NULL;
	ck_assert(client_sees_close(t));
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	client_close(t);
}
END_TEST

START_TEST(control_free_leaves_a_socket_path_it_no_longer_owns)
{
	int fd;

	ck_assert_int_eq(unlink(path), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	control_free(ctl);
	ctl = NULL;
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

START_TEST(control_new_rejects_a_path_longer_than_sun_path)
{
	char lng[200];
	int err = 0;

	memset(lng, 'p', sizeof(lng) - 1);
	lng[0] = '/';
	lng[sizeof(lng) - 1] = '\0';
	ck_assert_ptr_null(control_new(base, lng, (gid_t)-1, cmds, 1, NULL, &err));
	ck_assert_int_eq(err, -ENAMETOOLONG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("control");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, control_answers_ping_and_registered_command);
	tcase_add_test(tc, control_echoes_id_of_any_type_in_success_and_failure);
	tcase_add_test(tc, control_has_last_word_on_ok_and_id);
	tcase_add_test(tc, control_rejects_malformed_requests_with_bad_request);
	tcase_add_test(tc, control_rejects_unknown_command_naming_it);
	tcase_add_test(tc, control_reply_stays_valid_utf8_when_the_quote_cuts_a_character);
	tcase_add_test(tc, control_passes_command_errors_through_and_defaults_to_internal);
	tcase_add_test(tc, control_caps_lines_at_64k_exactly);
	tcase_add_test(tc, control_refuses_70k_line_then_serves_the_next);
	tcase_add_test(tc, control_discards_a_long_line_arriving_in_pieces_with_one_error);
	tcase_add_test(tc, control_answers_pipelined_requests_in_order);
	tcase_add_test(tc, control_joins_a_request_split_across_writes);
	tcase_add_test(tc, control_answers_a_last_line_without_newline_at_eof_then_closes);
	tcase_add_test(tc, control_refuses_mutating_command_to_uid_outside_the_group);
	tcase_add_test(tc, control_checks_socket_peer_credentials_and_groups);
	tcase_add_test(tc, control_drops_a_client_that_never_reads);
	tcase_add_test(tc, control_refuses_the_65th_client);
	tcase_add_test(tc, control_new_fails_eaddrinuse_on_a_live_socket);
	tcase_add_test(tc, control_new_replaces_a_stale_socket);
	tcase_add_test(tc, control_new_leaves_a_file_that_is_not_a_socket);
	tcase_add_test(tc, control_socket_has_mode_0660);
	tcase_add_test(tc, control_new_makes_the_missing_directory);
	tcase_add_test(tc, control_free_closes_clients_and_unlinks_its_socket);
	tcase_add_test(tc, control_free_leaves_a_socket_path_it_no_longer_owns);
	tcase_add_test(tc, control_new_rejects_a_path_longer_than_sun_path);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
