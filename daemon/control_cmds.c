/* The daemon's control commands: snapshots of its state as JSON, and live tuning. The wire
 * protocol (framing, permissions, limits) is control.c's. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control.h"
#include "control_proto.h"
#include "daemon.h"
#include "log.h"
#include "priv.h"
#include "kcpcore/error.h"
#include "kcpcore/keys.h"

static json_t *prefix_json(int family, const uint8_t *addr, unsigned cidr)
{
	char host[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 8];

	inet_ntop(family, addr, host, sizeof(host));
	snprintf(buf, sizeof(buf), "%s/%u", host, cidr);
	return json_string(buf);
}

static json_t *peer_allowed_json(const struct peer *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->cfg->nallowed; i++)
		json_array_append_new(a, prefix_json(p->cfg->allowed[i].family,
						     p->cfg->allowed[i].addr,
						     p->cfg->allowed[i].cidr));
	return a;
}

static json_t *peer_endpoint_json(const struct peer *p)
{
	char buf[64];

	return p->has_addr ? json_string(udp_addr_str(&p->addr, buf, sizeof(buf))) : json_null();
}

static void fec_str(char *buf, size_t len, unsigned d, unsigned p)
{
	if (d == 0)
		snprintf(buf, len, "off");
	else
		snprintf(buf, len, "%u:%u", d, p);
}

static json_t *key_json(const uint8_t *key)
{
	char b64[45];

	kc_key_to_base64(key, b64);
	return json_string(b64);
}

/* Secure mode's view of a peer: its key, the handshake and keypair, what it told us. */
static json_t *peer_secure_json(const struct peer *p, uint32_t now)
{
	struct sec_peer_stats st;
	struct sec_params rp;
	json_t *o = json_object();
	char fec[16];

	sec_peer_get_stats(p->sp, now, &st);
	json_object_set_new(o, "public_key", key_json(sec_peer_public_key(p->sp)));
	json_object_set_new(o, "preshared_key", json_boolean(p->cfg != NULL && p->cfg->has_psk));
	json_object_set_new(o, "handshake_s_ago", st.handshake_done
							 ? json_integer(st.last_handshake_age_ms / 1000)
							 : json_null());
	json_object_set_new(o, "keypair", json_boolean(st.has_keypair));
	json_object_set_new(o, "keypair_age_s", st.has_keypair
						    ? json_integer(st.keypair_age_ms / 1000)
						    : json_null());
	json_object_set_new(o, "send_counter", json_integer((json_int_t)st.send_counter));
	json_object_set_new(o, "handshakes_tx", json_integer((json_int_t)st.handshakes_tx));
	json_object_set_new(o, "handshakes_rx", json_integer((json_int_t)st.handshakes_rx));
	json_object_set_new(o, "handshakes_done", json_integer((json_int_t)st.handshakes_done));
	json_object_set_new(o, "rekeys", json_integer((json_int_t)st.rekeys));
	json_object_set_new(o, "cookies_rx", json_integer((json_int_t)st.cookies_rx));
	json_object_set_new(o, "replayed", json_integer((json_int_t)st.replayed));
	json_object_set_new(o, "drop_no_key", json_integer((json_int_t)p->st.drop_no_key));
	if (sec_peer_remote(p->sp, &rp)) {
		char epoch[24];

		snprintf(epoch, sizeof(epoch), "%016llx", (unsigned long long)rp.epoch);
		fec_str(fec, sizeof(fec), rp.fec_data, rp.fec_parity);
		json_object_set_new(o, "remote", json_pack("{ss ss si si si}", "epoch", epoch,
							   "fec", fec,
							   "udp_mtu", (int)rp.udp_mtu, "snd_wnd",
							   (int)rp.snd_wnd, "rcv_wnd", (int)rp.rcv_wnd));
	}
	return o;
}

static json_t *secure_drops_json(const struct sec_dev *sd)
{
	struct sec_dev_stats st;

	sec_dev_get_stats(sd, &st);
	return json_pack("{sI sI sI sI sI sI sI sI sI sI sI sI}", "short", (json_int_t)st.rx_short,
			 "bad_type", (json_int_t)st.rx_bad_type, "bad_mac1",
			 (json_int_t)st.rx_bad_mac1, "cookies_sent", (json_int_t)st.rx_cookie_sent,
			 "bad_mac2", (json_int_t)st.rx_bad_mac2, "unknown_index",
			 (json_int_t)st.rx_unknown_index, "unknown_peer",
			 (json_int_t)st.rx_unknown_peer, "auth", (json_int_t)st.rx_auth, "replay",
			 (json_int_t)st.rx_replay, "timestamp_replay",
			 (json_int_t)st.rx_timestamp_replay, "ratelimited",
			 (json_int_t)st.rx_ratelimited, "under_load_s",
			 (json_int_t)st.under_load_sec);
}

static json_t *peer_status_json(const struct peer *p, uint32_t now)
{
	struct session_stats st;
	struct kcp_info ki = {0};
	unsigned fd = 0, fp = 0;
	char conv[16], fec[16];
	json_t *o = json_object();
	double loss = 0, overhead = 0;
	uint64_t payload;

	peer_get_stats(p, &st);
	ki.rate_bps = p->tune.rate ? p->tune.rate_bps : p->cfg->rate_bps; /* the next session's */
	if (p->s != NULL) {
		kcp_get_info(session_kcp(p->s), &ki);
		session_fec(p->s, &fd, &fp);
	}
	fec_str(fec, sizeof(fec), fd, fp);
	snprintf(conv, sizeof(conv), "0x%08x", p->conv);
	if (st.kcp.out_segs > 0)
		loss = 100.0 * (double)st.kcp.retrans_segs / (double)st.kcp.out_segs;
	payload = st.bytes_sent + st.bytes_received;
	if (payload > 0)
		overhead = 100.0 * ((double)(st.out_bytes + st.in_bytes) - (double)payload) /
			   (double)payload;
	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "endpoint", peer_endpoint_json(p));
	json_object_set_new(o, "state", json_string(peer_state_name(p->state)));
	json_object_set_new(o, "conv", p->s != NULL ? json_string(conv) : json_null());
	json_object_set_new(o, "session_age_s",
			    json_integer(p->s != NULL ? (now - p->session_start_ms) / 1000 : 0));
	json_object_set_new(o, "last_rx_ms_ago",
			    p->s != NULL ? json_integer(now - p->last_rx_ms) : json_null());
	json_object_set_new(o, "srtt_ms", json_integer(ki.srtt_ms));
	json_object_set_new(o, "rttvar_ms", json_integer(ki.rttvar_ms));
	json_object_set_new(o, "rto_ms", json_integer(ki.rto_ms));
	json_object_set_new(o, "snd_wnd", json_integer(ki.snd_wnd));
	json_object_set_new(o, "rcv_wnd", json_integer(ki.rcv_wnd));
	json_object_set_new(o, "rmt_wnd", json_integer(ki.rmt_wnd));
	json_object_set_new(o, "cwnd", json_integer(ki.cwnd));
	json_object_set_new(o, "snd_queue", json_integer(ki.snd_queue));
	json_object_set_new(o, "snd_inflight", json_integer(ki.snd_inflight));
	json_object_set_new(o, "rcv_queue", json_integer(ki.rcv_queue));
	json_object_set_new(o, "retrans_segs", json_integer((json_int_t)st.kcp.retrans_segs));
	json_object_set_new(o, "lost_segs", json_integer((json_int_t)st.kcp.lost_segs));
	json_object_set_new(o, "fast_retrans_segs",
			    json_integer((json_int_t)st.kcp.fast_retrans_segs));
	json_object_set_new(o, "loss_pct", json_real(loss));
	json_object_set_new(o, "fec", json_string(fec));
	json_object_set_new(o, "fec_recovered", json_integer((json_int_t)st.fec_rx.recovered));
	json_object_set_new(o, "fec_parity_sent", json_integer((json_int_t)st.fec_tx.parity_sent));
	json_object_set_new(o, "rate_limit_bps", json_integer((json_int_t)ki.rate_bps));
	json_object_set_new(o, "paced_flushes", json_integer((json_int_t)st.kcp.paced_flushes));
	json_object_set_new(o, "tx_bytes", json_integer((json_int_t)p->st.tx_bytes));
	json_object_set_new(o, "rx_bytes", json_integer((json_int_t)p->st.rx_bytes));
	json_object_set_new(o, "tx_packets", json_integer((json_int_t)p->st.tx_packets));
	json_object_set_new(o, "rx_packets", json_integer((json_int_t)p->st.rx_packets));
	json_object_set_new(o, "wire_tx_bytes", json_integer((json_int_t)st.out_bytes));
	json_object_set_new(o, "wire_rx_bytes", json_integer((json_int_t)st.in_bytes));
	json_object_set_new(o, "wire_tx_packets", json_integer((json_int_t)st.out_pkts));
	json_object_set_new(o, "wire_rx_packets", json_integer((json_int_t)st.in_pkts));
	json_object_set_new(o, "overhead_pct", json_real(overhead));
	json_object_set_new(o, "drop_src", json_integer((json_int_t)p->st.drop_src));
	json_object_set_new(o, "drop_send", json_integer((json_int_t)p->st.drop_send));
	json_object_set_new(o, "keepalives_tx", json_integer((json_int_t)p->st.keepalives_tx));
	json_object_set_new(o, "keepalives_rx", json_integer((json_int_t)p->st.keepalives_rx));
	json_object_set_new(o, "allowed_ips", peer_allowed_json(p));
	if (p->sp != NULL)
		json_object_set_new(o, "secure", peer_secure_json(p, now));
	return o;
}

static int cmd_status(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	struct daemon *d = ctx;
	const struct config *c = d->cfg;
	uint32_t now = daemon_now_ms();
	json_t *itf = json_object(), *peers = json_array(), *addrs = json_array(), *drops;
	char fec[16];

	(void)req;
	(void)err;
	for (size_t i = 0; i < c->naddrs; i++)
		json_array_append_new(addrs, prefix_json(c->addrs[i].family, c->addrs[i].addr,
							 c->addrs[i].cidr));
	fec_str(fec, sizeof(fec), c->fec_data, c->fec_parity);
	json_object_set_new(itf, "name", json_string(d->ifname));
	json_object_set_new(itf, "mode", json_string(c->mode == CONFIG_MODE_SECURE ? "secure"
										  : "compat"));
	if (d->w->sec != NULL) {
		json_object_set_new(itf, "public_key", key_json(sec_dev_public_key(d->w->sec)));
		json_object_set_new(itf, "cipher", json_string(config_cipher_name(c)));
		json_object_set_new(itf, "obfuscate", json_boolean(c->obfuscate));
		json_object_set_new(itf, "secure_drops", secure_drops_json(d->w->sec));
	}
	json_object_set_new(itf, "listen_port", c->listen ? json_integer(c->listen_port)
							 : json_null());
	json_object_set_new(itf, "mtu", json_integer(d->tun_mtu));
	json_object_set_new(itf, "udp_mtu", json_integer(c->udp_mtu));
	json_object_set_new(itf, "crypt", json_string(c->mode == CONFIG_MODE_SECURE
							      ? "secure"
							      : crypt_method_name(c->crypt)));
	json_object_set_new(itf, "fec", json_string(fec));
	json_object_set_new(itf, "profile", json_string(c->profile));
	json_object_set_new(itf, "rate_limit_bps", json_integer((json_int_t)c->rate_bps));
	json_object_set_new(itf, "addresses", addrs);
	json_object_set_new(itf, "uptime_s", json_integer((now - d->start_ms) / 1000));
	drops = json_pack("{sI sI sI sI sI sI sI sI sI sI}", "secure",
			  (json_int_t)d->w->st.drop_secure, "no_route",
			  (json_int_t)d->w->st.drop_no_route, "no_session",
			  (json_int_t)d->w->st.drop_no_session, "not_ip",
			  (json_int_t)d->w->st.drop_not_ip, "auth", (json_int_t)d->w->st.drop_auth,
			  "kcp", (json_int_t)d->w->st.drop_kcp, "parity_no_session",
			  (json_int_t)d->w->st.drop_parity_no_session, "udp_tx_err",
			  (json_int_t)d->w->st.udp_tx_err, "udp_tx_full",
			  (json_int_t)d->w->st.udp_tx_full, "tun_tx_err",
			  (json_int_t)d->w->st.tun_tx_err);
	json_object_set_new(itf, "drops", drops);
	for (unsigned i = 0; i < d->w->npeers; i++)
		json_array_append_new(peers, peer_status_json(d->w->peers[i], now));
	json_object_set_new(reply, "interface", itf);
	json_object_set_new(reply, "peers", peers);
	return 0;
}

static int cmd_peers(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	struct daemon *d = ctx;
	json_t *peers = json_array();

	(void)req;
	(void)err;
	for (unsigned i = 0; i < d->w->npeers; i++) {
		const struct peer *p = d->w->peers[i];

		json_array_append_new(peers,
				      json_pack("{ss so ss so}", "name", p->name, "endpoint",
						peer_endpoint_json(p), "state", peer_state_name(p->state),
						"allowed_ips", peer_allowed_json(p)));
	}
	json_object_set_new(reply, "peers", peers);
	return 0;
}

static int cmd_show_config(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	struct daemon *d = ctx;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)req;
	if (f == NULL) {
		err->code = CONTROL_E_INTERNAL;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return -1;
	}
	config_print(d->cfg, f);
	fclose(f);
	json_object_set_new(reply, "config", json_stringn(text, len));
	free(text);
	return 0;
}

static int tune_bad(struct control_err *err, const char *key, const char *why)
{
	err->code = CONTROL_E_INVALID_VALUE;
	snprintf(err->message, sizeof(err->message), "%s: %s", key, why);
	return -1;
}

/* Reads `set` into t, starting from the peer's current settings (its session's, or else its
 * config's with earlier tuning on top). */
static int tune_parse(const json_t *set, const struct peer *ref, struct peer_tune *t,
		      struct control_err *err)
{
	const char *key;
	json_t *v;
	struct kcp_params kp = ref->cfg->kcp;

	*t = ref->tune;
	if (ref->s != NULL) {
		struct kcp_info ki;

		kcp_get_info(session_kcp(ref->s), &ki);
		kp.snd_wnd = ki.snd_wnd;
		kp.rcv_wnd = ki.rcv_wnd;
		kp.nodelay = ki.nodelay;
		kp.interval_ms = ki.interval_ms;
		kp.resend = ki.resend;
		kp.nc = ki.nc;
	}
	if (!t->wnd) {
		t->snd_wnd = kp.snd_wnd;
		t->rcv_wnd = kp.rcv_wnd;
	}
	if (!t->nodelay) {
		t->nodelay_mode = kp.nodelay;
		t->interval_ms = kp.interval_ms;
		t->resend = kp.resend;
		t->nc = kp.nc;
	}
	if (!json_is_object(set) || json_object_size(set) == 0)
		return tune_bad(err, "set", "expected an object of settings");
	json_object_foreach((json_t *)set, key, v)
	{
		if (strcmp(key, "fec") == 0) {
			const char *s = json_string_value(v);
			unsigned a, b;
			char extra;

			t->fec = true;
			if (s != NULL && strcmp(s, "off") == 0) {
				t->fec_data = t->fec_parity = 0;
			} else if (s == NULL || sscanf(s, "%u:%u%c", &a, &b, &extra) != 2 || a < 1 ||
				   b < 1 || a + b > 255) {
				return tune_bad(err, "fec",
						"expected DATA:PARITY with DATA+PARITY <= 255, or off");
			} else {
				t->fec_data = a;
				t->fec_parity = b;
			}
		} else if (strcmp(key, "mode") == 0) {
			const char *s = json_string_value(v);

			if (s == NULL || kcp_params_profile(&kp, s) < 0)
				return tune_bad(err, "mode",
						"expected normal, fast, fast2, fast3 or default");
			t->nodelay_mode = kp.nodelay;
			t->interval_ms = kp.interval_ms;
			t->resend = kp.resend;
			t->nc = kp.nc;
			t->nodelay = true;
		} else if (strcmp(key, "sndwnd") == 0 || strcmp(key, "rcvwnd") == 0) {
			json_int_t n = json_integer_value(v);

			if (!json_is_integer(v) || n < 1 || n > 32768)
				return tune_bad(err, key, "expected an integer 1..32768");
			if (key[0] == 's')
				t->snd_wnd = (unsigned)n;
			else
				t->rcv_wnd = (unsigned)n;
			t->wnd = true;
		} else if (strcmp(key, "nodelay") == 0 || strcmp(key, "interval") == 0 ||
			   strcmp(key, "resend") == 0) {
			json_int_t n = json_integer_value(v);

			if (!json_is_integer(v) || n < 0 || (key[0] == 'n' && n > 1) ||
			    (key[0] == 'i' && (n < 10 || n > 5000)) || n > 1000)
				return tune_bad(err, key,
						"expected nodelay 0|1, interval 10..5000, resend 0..1000");
			if (key[0] == 'n')
				t->nodelay_mode = (unsigned)n;
			else if (key[0] == 'i')
				t->interval_ms = (unsigned)n;
			else
				t->resend = (unsigned)n;
			t->nodelay = true;
		} else if (strcmp(key, "ratelimit") == 0) {
			/* RateLimit's syntax; a bare integer is bits per second too */
			const char *s = json_string_value(v);

			if (json_is_integer(v) && json_integer_value(v) >= 0 &&
			    (uint64_t)json_integer_value(v) <= KCP_RATE_MAX)
				t->rate_bps = (uint64_t)json_integer_value(v);
			else if (s == NULL || !config_rate_parse(s, &t->rate_bps))
				return tune_bad(err, "ratelimit", "expected " CONFIG_RATE_SYNTAX);
			t->rate = true;
		} else if (strcmp(key, "nc") == 0) {
			if (!json_is_boolean(v))
				return tune_bad(err, "nc", "expected true or false");
			t->nc = json_is_true(v);
			t->nodelay = true;
		} else {
			return tune_bad(err, key,
					"unknown setting (fec, mode, sndwnd, rcvwnd, nodelay, interval, "
					"resend, nc, ratelimit)");
		}
	}
	return 0;
}

static int cmd_tune(void *ctx, const json_t *req, json_t *reply, struct control_err *err)
{
	struct daemon *d = ctx;
	const char *name = json_string_value(json_object_get(req, "peer"));
	json_t *set = json_object_get(req, "set");
	unsigned applied = 0;

	(void)reply;
	for (unsigned i = 0; i < d->w->npeers; i++) {
		struct peer *p = d->w->peers[i];
		struct peer_tune t, before;
		int rc;

		if (name != NULL && strcmp(name, "all") != 0 && strcmp(name, p->name) != 0)
			continue;
		if (tune_parse(set, p, &t, err) < 0)
			return -1;
		if (t.fec && t.fec_data > 0 && config_mss(d->cfg) < (int)d->tun_mtu)
			return tune_bad(err, "fec",
					"the interface MTU leaves no room for the FEC header; lower MTU "
					"or use MTU = auto");
		before = p->tune;
		p->tune = t; /* kept for every later session of this peer */
		rc = peer_apply_tune(p);
		if (rc < 0) {
			p->tune = before;
			err->code = rc == -ENOMEM ? CONTROL_E_INTERNAL : CONTROL_E_INVALID_VALUE;
			snprintf(err->message, sizeof(err->message), "peer %s: %s", p->name,
				 kc_strerror(rc));
			return -1;
		}
		log_info("tuned peer=%s", p->name);
		applied++;
		worker_schedule(d->w, p, daemon_now_ms());
	}
	if (applied == 0 && name != NULL && strcmp(name, "all") != 0) {
		err->code = CONTROL_E_UNKNOWN_PEER;
		snprintf(err->message, sizeof(err->message), "no peer named \"%s\"", name);
		return -1;
	}
	return 0;
}

static const struct control_cmd daemon_cmds[] = {
	{CONTROL_CMD_STATUS, false, cmd_status},
	{CONTROL_CMD_PEERS, false, cmd_peers},
	{CONTROL_CMD_SHOW_CONFIG, false, cmd_show_config},
	{CONTROL_CMD_TUNE, true, cmd_tune},
};

int daemon_control_start(struct daemon *d)
{
	int err = 0;

	d->ctl = control_new(d->base, d->cfg->control_socket, priv_socket_gid(d->cfg), daemon_cmds,
			     sizeof(daemon_cmds) / sizeof(daemon_cmds[0]), d, &err);
	return d->ctl != NULL ? 0 : err;
}
