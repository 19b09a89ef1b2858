/* libFuzzer target: arbitrary request lines into control_handle_line().
 * Input: [who u8] then lines separated by '\n'; who & 1 makes the sender root, else uid 1000
 * in a group other than the socket's (the process's own). Checks, besides no crash or
 * sanitizer report: every reply is one line holding a JSON object with a boolean "ok"; a
 * failure carries an "error" from the protocol's list and a non-empty "message"; the mutating
 * command never runs for uid 1000. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long set_calls;

static int fz_echo(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	return json_object_set(reply, "echo", (json_t *)req);
}

static int fz_set(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	set_calls++;
	return 0;
}

/* Quotes the request's "peer" into its message, cut wherever the buffer ends. */
static int fz_fail(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	const char *peer = json_string_value(json_object_get(req, "peer"));

	err->code = CONTROL_E_UNKNOWN_PEER;
	snprintf(err->message, sizeof(err->message), "no peer named \"%s\"", peer ? peer : "");
	return -1;
}

static int fz_fail_bare(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	return -1;
}

static const struct control_cmd fz_cmds[] = {
    {"echo", false, fz_echo},
    {"tune", true, fz_set},
    {"fail", false, fz_fail},
    {"fail_bare", false, fz_fail_bare},
};

static const char *const fz_codes[] = {
    CONTROL_E_BAD_REQUEST,	 CONTROL_E_LINE_TOO_LONG, CONTROL_E_UNKNOWN_COMMAND,
    CONTROL_E_PERMISSION_DENIED, CONTROL_E_UNKNOWN_PEER,  CONTROL_E_INVALID_VALUE,
    CONTROL_E_INTERNAL,
};

static struct control *fz_control(void)
{
	static struct control *c;
	static char dir[64], path[96];
	struct event_base *base;
	int err;

	if (c != NULL)
		return c;
	snprintf(dir, sizeof(dir), "/tmp/fuzz_control.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/f.sock", dir);
	base = event_base_new();
	c = base != NULL ? control_new(base, path, (gid_t)-1, fz_cmds,
				       sizeof(fz_cmds) / sizeof(fz_cmds[0]), NULL, &err)
			 : NULL;
	if (c == NULL)
		abort();
	/* the socket is never served; only its name is needed while the process lives */
	unlink(path);
	rmdir(dir);
	return c;
}

static void fz_check(const char *out)
{
	json_t *r = json_loads(out, 0, NULL);
	const json_t *ok = json_object_get(r, "ok");
	const char *code, *msg;
	size_t i;

	if (strchr(out, '\n') != NULL || !json_is_object(r) || !json_is_boolean(ok))
		abort();
	if (json_is_false(ok)) {
		code = json_string_value(json_object_get(r, "error"));
		msg = json_string_value(json_object_get(r, "message"));
		for (i = 0; code != NULL && i < sizeof(fz_codes) / sizeof(fz_codes[0]); i++)
			if (strcmp(code, fz_codes[i]) == 0)
				break;
		if (code == NULL || i == sizeof(fz_codes) / sizeof(fz_codes[0]) || msg == NULL ||
		    msg[0] == '\0')
			abort();
	}
	json_decref(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control *c = fz_control();
	unsigned long before = set_calls;
	uid_t uid;
	gid_t gid;

	if (size < 1)
		return 0;
	uid = (data[0] & 1) ? 0 : 1000;
	gid = (data[0] & 1) ? 0 : getegid() + 1;
	data++;
	size--;
	while (size > 0) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t len = nl != NULL ? (size_t)(nl - data) : size;
		char *out = control_handle_line(c, (const char *)data, len, uid, gid);

		if (out == NULL)
			abort();
		fz_check(out);
		free(out);
		data += len;
		size -= len;
		if (nl != NULL) {
			data++;
			size--;
		}
	}
	if (uid != 0 && set_calls != before)
		abort();
	return 0;
}
