/* fakectld: a stand-in for kcpvpnd's control socket, serving canned replies through the real
 * daemon/control.c, so tests/ctl/test_kcpctl.sh can run kcpctl without a tunnel.
 *
 *   fakectld SOCKET [--world] [--no-peers]
 *
 * Prints "listening on SOCKET" when ready and "tune <request>" for every tune it accepts (the
 * test checks what kcpctl sent). --world makes the socket connectable by anyone (0666), so
 * the permission check of mutating commands can be tested; --no-peers serves empty peer lists.
 * Stops cleanly on SIGTERM or SIGINT, removing the socket. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <jansson.h>

#include "daemon/control.h"

static const char fake_status[] =
    "{\"interface\":{\"name\":\"kcp0\",\"mode\":\"compat\",\"listen_port\":4000,\"mtu\":1312,"
    "\"udp_mtu\":1400,\"crypt\":\"aes\",\"fec\":\"10:3\",\"profile\":\"fast3\","
    "\"rate_limit_bps\":0,"
    "\"addresses\":[\"10.9.0.1/24\",\"fd00:9::1/64\"],\"uptime_s\":3723},"
    "\"peers\":[{\"name\":\"lab\",\"endpoint\":\"198.51.100.7:4000\",\"state\":\"up\","
    "\"conv\":\"0x1a2b3c4d\",\"session_age_s\":12,\"last_rx_ms_ago\":30,\"srtt_ms\":48,"
    "\"rttvar_ms\":5,\"rto_ms\":120,\"snd_wnd\":1024,\"rcv_wnd\":1024,\"rmt_wnd\":1024,"
    "\"cwnd\":0,\"snd_queue\":0,\"snd_inflight\":3,\"rcv_queue\":0,\"retrans_segs\":10,"
    "\"lost_segs\":2,\"fast_retrans_segs\":3,\"loss_pct\":1.2,\"fec\":\"10:3\","
    "\"fec_recovered\":5,\"fec_parity_sent\":9,"
    "\"rate_limit_bps\":20000000,\"paced_flushes\":7,\"tx_bytes\":123,"
    "\"rx_bytes\":1536000000,"
    "\"tx_packets\":3,\"rx_packets\":4,\"wire_tx_bytes\":5,\"wire_rx_bytes\":6,"
    "\"overhead_pct\":12.5,\"allowed_ips\":[\"10.9.0.2/32\",\"192.168.50.0/24\"]},"
    "{\"name\":\"roadwarrior-with-a-long-name\",\"endpoint\":null,\"state\":\"connecting\","
    "\"conv\":null,\"session_age_s\":0,\"srtt_ms\":0,\"loss_pct\":0,\"fec\":\"off\","
    "\"fec_recovered\":0,\"rate_limit_bps\":1500000,\"tx_bytes\":0,\"rx_bytes\":2048,"
    "\"retrans_segs\":0,"
    "\"overhead_pct\":0,\"allowed_ips\":[\"10.9.0.3/32\"]}]}";

static const char fake_config[] = "[Interface]\nName = kcp0\nMode = compat\nListenPort = 4000\n"
				  "Address = 10.9.0.1/24\nCrypt = aes\nFEC = 10:3\n\n[Peer]\n"
				  "Name = lab\nAllowedIPs = 10.9.0.2/32, 192.168.50.0/24\n";

struct fake {
	json_t *status; /* "interface" and "peers" */
	bool no_peers;
};

static int fake_status_cmd(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	struct fake *f = ctx;

	if (json_object_update(reply, f->status) != 0)
		return -1;
	if (f->no_peers)
		json_object_set_new(reply, "peers", json_array());
	return 0;
}

static int fake_peers_cmd(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	struct fake *f = ctx;
	json_t *peers = json_array(), *p;
	size_t i;

	json_array_foreach(json_object_get(f->status, "peers"), i, p)
	{
		if (f->no_peers)
			break;
		json_array_append_new(peers, json_pack("{s:O,s:O,s:O,s:O}", "name",
						       json_object_get(p, "name"), "endpoint",
						       json_object_get(p, "endpoint"), "state",
						       json_object_get(p, "state"), "allowed_ips",
						       json_object_get(p, "allowed_ips")));
	}
	return json_object_set_new(reply, "peers", peers);
}

/* The daemon's checks in miniature: a known peer, a non-empty "set" of known, typed keys. */
static int fake_tune_cmd(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	static const struct {
		const char *name;
		enum control_type type;
	} keys[] = {
#define FAKE_TUNE_KEY(name, type) {name, type},
	    CONTROL_TUNE_KEYS(FAKE_TUNE_KEY)
#undef FAKE_TUNE_KEY
	};
	struct fake *f = ctx;
	const json_t *peer = json_object_get(req, "peer"), *set = json_object_get(req, "set"), *v;
	const char *key;
	char *line;

	if (peer != NULL) {
		const json_t *p;
		bool found = false;
		size_t i;

		json_array_foreach(json_object_get(f->status, "peers"), i, p) found |=
		    json_equal(json_object_get(p, "name"), peer);
		if (!found) {
			err->code = CONTROL_E_UNKNOWN_PEER;
			snprintf(err->message, sizeof(err->message), "no peer named \"%s\"",
				 json_is_string(peer) ? json_string_value(peer) : "?");
			return -1;
		}
	}
	if (!json_is_object(set) || json_object_size(set) == 0) {
		err->code = CONTROL_E_INVALID_VALUE;
		snprintf(err->message, sizeof(err->message), "\"set\" must be a non-empty object");
		return -1;
	}
	json_object_foreach((json_t *)set, key, v)
	{
		size_t i;

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(keys[i].name, key) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0]) ||
		    (keys[i].type == CONTROL_T_INT && !json_is_integer(v)) ||
		    (keys[i].type == CONTROL_T_BOOL && !json_is_boolean(v)) ||
		    (keys[i].type == CONTROL_T_STRING && !json_is_string(v))) {
			err->code = CONTROL_E_INVALID_VALUE;
			snprintf(err->message, sizeof(err->message), "bad tune key or value: %s",
				 key);
			return -1;
		}
	}
	line = json_dumps(req, JSON_COMPACT);
	printf("tune %s\n", line != NULL ? line : "?");
	fflush(stdout);
	free(line);
	return 0;
}

static int fake_show_config_cmd(void *ctx, const json_t *req, json_t *reply,
				struct control_err *err)
{
	return json_object_set_new(reply, "config", json_string(fake_config));
}

static const struct control_cmd fake_cmds[] = {
    {CONTROL_CMD_STATUS, false, fake_status_cmd},
    {CONTROL_CMD_PEERS, false, fake_peers_cmd},
    {CONTROL_CMD_TUNE, true, fake_tune_cmd},
    {CONTROL_CMD_SHOW_CONFIG, false, fake_show_config_cmd},
};

static void fake_stop(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	struct fake f = {NULL, false};
	struct event_base *base;
	struct event *ev_term, *ev_int;
	struct control *c;
	bool world = false;
	int err = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: fakectld SOCKET [--world] [--no-peers]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--world") == 0)
			world = true;
		else if (strcmp(argv[i], "--no-peers") == 0)
			f.no_peers = true;
		else
			return fprintf(stderr, "fakectld: unknown option %s\n", argv[i]), 2;
	}
	f.status = json_loads(fake_status, 0, NULL);
	base = event_base_new();
	if (f.status == NULL || base == NULL)
		return fprintf(stderr, "fakectld: set-up failed\n"), 1;
	c = control_new(base, argv[1], (gid_t)-1, fake_cmds,
			sizeof(fake_cmds) / sizeof(fake_cmds[0]), &f, &err);
	if (c == NULL)
		return fprintf(stderr, "fakectld: %s: %s\n", argv[1], strerror(-err)), 1;
	if (world && chmod(argv[1], 0666) != 0)
		return perror("fakectld: chmod"), 1;
	ev_term = evsignal_new(base, SIGTERM, fake_stop, base);
	ev_int = evsignal_new(base, SIGINT, fake_stop, base);
	event_add(ev_term, NULL);
	event_add(ev_int, NULL);
	printf("listening on %s\n", argv[1]);
	fflush(stdout);
	event_base_dispatch(base);
	control_free(c);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(base);
	json_decref(f.status);
	printf("stopped\n");
	return 0;
}
