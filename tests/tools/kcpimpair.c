/* kcpimpair: a UDP relay that impairs traffic like a bad link (there is no netem here).
 * This file reads the command line; relay.c does the relaying. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "relay.h"

#define KCPIMPAIR_VERSION "0.1.0"
#define KCPIMPAIR_MAX_MS  4294967.0 /* delays are held in 32-bit microseconds */

/* One impairment knob; each exists as --NAME (both directions), --up-NAME and --down-NAME. */
struct kcpimpair_knob {
	const char *name;
	const char *metavar; /* NULL: a flag without argument */
	int (*parse)(const char *arg, struct sim_impair *im, const char **why);
};

/* Parses a decimal number into *v, requiring lo <= *v <= hi; 0 or -EINVAL. */
static int kcpimpair_number(const char *arg, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(arg, &end);
	if (end == arg || *end != '\0' || errno || !isfinite(*v) || *v < lo || *v > hi)
		return -EINVAL;
	return 0;
}

static int kcpimpair_ms(const char *arg, uint32_t *us, const char **why)
{
	double ms;

	if (kcpimpair_number(arg, 0, KCPIMPAIR_MAX_MS, &ms) < 0) {
		*why = "milliseconds 0..4294967 (decimals allowed)";
		return -EINVAL;
	}
	*us = (uint32_t)llround(ms * 1000);
	return 0;
}

static int kcpimpair_pct(const char *arg, double *p, const char **why)
{
	double pct;

	if (kcpimpair_number(arg, 0, 100, &pct) < 0) {
		*why = "a percentage 0..100";
		return -EINVAL;
	}
	*p = pct / 100;
	return 0;
}

static int kcpimpair_delay(const char *arg, struct sim_impair *im, const char **why)
{
	return kcpimpair_ms(arg, &im->delay_us, why);
}

static int kcpimpair_jitter(const char *arg, struct sim_impair *im, const char **why)
{
	return kcpimpair_ms(arg, &im->jitter_us, why);
}

static int kcpimpair_jitter_reorders(const char *arg, struct sim_impair *im, const char **why)
{
	im->jitter_reorders = true;
	return 0;
}

static int kcpimpair_loss(const char *arg, struct sim_impair *im, const char **why)
{
	return kcpimpair_pct(arg, &im->loss, why);
}

static int kcpimpair_burst_loss(const char *arg, struct sim_impair *im, const char **why)
{
	double *dst[4] = {&im->ge_p, &im->ge_r, &im->ge_loss_good, &im->ge_loss_bad};
	double v[4];
	char buf[128], *save = NULL, *tok;
	int n = 0;

	if (strlen(arg) >= sizeof(buf))
		goto bad;
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (n == 4 || kcpimpair_pct(tok, &v[n], why) < 0)
			goto bad;
		n++;
	}
	if (n != 4)
		goto bad;
	for (int i = 0; i < 4; i++)
		*dst[i] = v[i];
	return 0;
bad:
	*why = "P,R,LOSS_GOOD,LOSS_BAD, four percentages 0..100 (P 0 turns it off)";
	return -EINVAL;
}

static int kcpimpair_reorder(const char *arg, struct sim_impair *im, const char **why)
{
	return kcpimpair_pct(arg, &im->reorder, why);
}

static int kcpimpair_reorder_delay(const char *arg, struct sim_impair *im, const char **why)
{
	return kcpimpair_ms(arg, &im->reorder_us, why);
}

static int kcpimpair_dup(const char *arg, struct sim_impair *im, const char **why)
{
	return kcpimpair_pct(arg, &im->dup, why);
}

static int kcpimpair_rate(const char *arg, struct sim_impair *im, const char **why)
{
	double mbit;

	if (kcpimpair_number(arg, 0, 1e7, &mbit) < 0 || (mbit > 0 && mbit < 1e-6)) {
		*why = "Mbit/s, 0 (unlimited) or 0.000001..10000000";
		return -EINVAL;
	}
	im->rate_bps = (uint64_t)llround(mbit * 1e6);
	return 0;
}

static int kcpimpair_queue(const char *arg, struct sim_impair *im, const char **why)
{
	double kib;

	if (kcpimpair_number(arg, 0, 4194303, &kib) < 0) {
		*why = "KiB 0..4194303 (0: the default 64)";
		return -EINVAL;
	}
	im->queue_bytes = (uint32_t)llround(kib * 1024);
	return 0;
}

static const struct kcpimpair_knob kcpimpair_knobs[] = {
    {"delay", "MS", kcpimpair_delay},
    {"jitter", "MS", kcpimpair_jitter},
    {"jitter-reorders", NULL, kcpimpair_jitter_reorders},
    {"loss", "PCT", kcpimpair_loss},
    {"burst-loss", "P,R,LOSS_GOOD,LOSS_BAD", kcpimpair_burst_loss},
    {"reorder", "PCT", kcpimpair_reorder},
    {"reorder-delay", "MS", kcpimpair_reorder_delay},
    {"dup", "PCT", kcpimpair_dup},
    {"rate", "MBIT", kcpimpair_rate},
    {"queue", "KB", kcpimpair_queue},
};
#define KCPIMPAIR_NKNOBS (sizeof(kcpimpair_knobs) / sizeof(kcpimpair_knobs[0]))

enum {
	OPT_STATS = 256,
	OPT_IDLE,
	OPT_MAX_CLIENTS,
	OPT_LIMIT,
	OPT_MAX_SIZE,
	OPT_SOCKBUF,
	OPT_KNOB = 512 /* + 3 * knob + (0 both, 1 up, 2 down) */
};

static void kcpimpair_usage(FILE *f)
{
	fputs(
	    "usage: kcpimpair -l LISTEN_ADDR:PORT -u UPSTREAM_ADDR:PORT [options]\n"
	    "\n"
	    "Relays UDP datagrams from clients on LISTEN to UPSTREAM, each client from a socket "
	    "of\n"
	    "its own so replies find their way back, and impairs both directions like a bad link.\n"
	    "Write IPv6 addresses as [ADDR]:PORT. Counters go to stderr on SIGUSR1 and at exit.\n"
	    "\n"
	    "Impairment, for both directions, or one with --up-NAME (client to upstream) or\n"
	    "--down-NAME (upstream to client); later options override earlier ones:\n"
	    "  --delay MS            one-way delay (decimals allowed)\n"
	    "  --jitter MS           delay varies uniformly by +-MS; order is kept unless\n"
	    "  --jitter-reorders     ...this flag lets jittered packets overtake each other\n"
	    "  --loss PCT            independent loss\n"
	    "  --burst-loss P,R,LOSS_GOOD,LOSS_BAD\n"
	    "                        Gilbert-Elliott loss, all in percent: P good->bad and R\n"
	    "                        bad->good per packet, loss in each state (mean burst 100/R)\n"
	    "  --reorder PCT         share of packets held back so later ones overtake them\n"
	    "  --reorder-delay MS    hold-back (default delay/2 + 1 ms)\n"
	    "  --dup PCT             share of packets delivered twice\n"
	    "  --rate MBIT           bottleneck rate in Mbit/s shared by all clients (0: none)\n"
	    "  --queue KB            drop-tail queue of the bottleneck in KiB (default 64)\n"
	    "\n"
	    "Relay:\n"
	    "  -s, --seed N          PRNG seed (default: from the clock; printed at start)\n"
	    "  --stats-interval SEC  also print counters every SEC seconds\n"
	    "  --idle-timeout SEC    forget a client idle this long (default 60)\n"
	    "  --max-clients N       client mappings at most (default 1024)\n"
	    "  --limit PKTS          packets held per direction at most (default 4096)\n"
	    "  --max-size BYTES      longest datagram relayed (default 9216)\n"
	    "  --sockbuf BYTES       socket buffer size to ask for (default 4194304)\n"
	    "  -q, --quiet           no start-up line\n"
	    "  -h, --help            this text;  -V, --version  the version\n"
	    "\n"
	    "Example: 30 ms each way, 1% loss in bursts of 4, 20 Mbit/s down:\n"
	    "  kcpimpair -l 127.0.0.1:4000 -u 127.0.0.1:5000 --delay 30 \\\n"
	    "      --burst-loss 0.25,25,0,100 --down-rate 20\n",
	    f);
}

static int kcpimpair_fail(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "kcpimpair: %s: expected %s, got \"%s\"\n", opt, why, arg ? arg : "");
	fputs("kcpimpair: try --help\n", stderr);
	return 2;
}

static int kcpimpair_uint(const char *arg, unsigned lo, unsigned hi, unsigned *v)
{
	double d;

	if (kcpimpair_number(arg, lo, hi, &d) < 0 || d != floor(d))
		return -EINVAL;
	*v = (unsigned)d;
	return 0;
}

int main(int argc, char **argv)
{
	static char names[KCPIMPAIR_NKNOBS * 3][40];
	struct option opts[KCPIMPAIR_NKNOBS * 3 + 16] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"upstream", required_argument, NULL, 'u'},
	    {"seed", required_argument, NULL, 's'},
	    {"stats-interval", required_argument, NULL, OPT_STATS},
	    {"idle-timeout", required_argument, NULL, OPT_IDLE},
	    {"max-clients", required_argument, NULL, OPT_MAX_CLIENTS},
	    {"limit", required_argument, NULL, OPT_LIMIT},
	    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
	    {"sockbuf", required_argument, NULL, OPT_SOCKBUF},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	};
	struct relay_config cfg = {
	    .seed = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid(),
	    .idle_timeout_s = 60,
	    .max_clients = 1024,
	    .limit_pkts = 4096,
	    .max_size_bytes = 9216,
	    .sockbuf_bytes = 4 << 20,
	};
	const char *listen = NULL, *upstream = NULL, *why = NULL;
	size_t nopts = 12;
	int c, li = -1;
	char opt[48];

	for (size_t k = 0; k < KCPIMPAIR_NKNOBS; k++) {
		static const char *const prefix[3] = {"", "up-", "down-"};

		for (int w = 0; w < 3; w++) {
			snprintf(names[3 * k + w], sizeof(names[0]), "%s%s", prefix[w],
				 kcpimpair_knobs[k].name);
			opts[nopts].name = names[3 * k + w];
			opts[nopts].has_arg =
			    kcpimpair_knobs[k].metavar ? required_argument : no_argument;
			opts[nopts].val = OPT_KNOB + 3 * (int)k + w;
			nopts++;
		}
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:u:s:qhV", opts, &li)) != -1) {
		/* the option's name for messages, as the user wrote it */
		if (c == '?' || c == ':')
			snprintf(opt, sizeof(opt), "%s", argv[optind - 1]);
		else if (li >= 0)
			snprintf(opt, sizeof(opt), "--%s", opts[li].name);
		else
			snprintf(opt, sizeof(opt), "-%c", c);
		li = -1;
		switch (c) {
		case 'l':
			listen = optarg;
			if (addr_parse(optarg, &cfg.listen, &cfg.listen_len, &why) < 0)
				return kcpimpair_fail(opt, optarg, why);
			break;
		case 'u':
			upstream = optarg;
			if (addr_parse(optarg, &cfg.upstream, &cfg.upstream_len, &why) < 0)
				return kcpimpair_fail(opt, optarg, why);
			if (addr_port((struct sockaddr *)&cfg.upstream) == 0)
				return kcpimpair_fail(opt, optarg, "a port 1..65535");
			break;
		case 's': {
			char *end;

			errno = 0;
			cfg.seed = strtoull(optarg, &end, 0);
			if (*optarg == '\0' || *end != '\0' || errno || optarg[0] == '-')
				return kcpimpair_fail(opt, optarg, "an unsigned 64-bit number");
			break;
		}
		case OPT_STATS:
			if (kcpimpair_uint(optarg, 0, 86400, &cfg.stats_interval_s) < 0)
				return kcpimpair_fail(opt, optarg, "seconds 0..86400");
			break;
		case OPT_IDLE:
			if (kcpimpair_uint(optarg, 1, 86400, &cfg.idle_timeout_s) < 0)
				return kcpimpair_fail(opt, optarg, "seconds 1..86400");
			break;
		case OPT_MAX_CLIENTS:
			if (kcpimpair_uint(optarg, 1, 65536, &cfg.max_clients) < 0)
				return kcpimpair_fail(opt, optarg, "a count 1..65536");
			break;
		case OPT_LIMIT:
			if (kcpimpair_uint(optarg, 1, 1 << 20, &cfg.limit_pkts) < 0)
				return kcpimpair_fail(opt, optarg, "packets 1..1048576");
			break;
		case OPT_MAX_SIZE:
			if (kcpimpair_uint(optarg, 1, 65535, &cfg.max_size_bytes) < 0)
				return kcpimpair_fail(opt, optarg, "bytes 1..65535");
			break;
		case OPT_SOCKBUF:
			if (kcpimpair_uint(optarg, 0, 1 << 30, &cfg.sockbuf_bytes) < 0)
				return kcpimpair_fail(opt, optarg, "bytes 0..1073741824");
			break;
		case 'q':
			cfg.quiet = true;
			break;
		case 'h':
			kcpimpair_usage(stdout);
			return 0;
		case 'V':
			puts("kcpimpair " KCPIMPAIR_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "kcpimpair: %s needs an argument\nkcpimpair: try --help\n",
				opt);
			return 2;
		case '?':
			fprintf(stderr, "kcpimpair: unknown option %s\nkcpimpair: try --help\n",
				opt);
			return 2;
		default: {
			const struct kcpimpair_knob *k = &kcpimpair_knobs[(c - OPT_KNOB) / 3];
			int w = (c - OPT_KNOB) % 3;

			if (c < OPT_KNOB || (size_t)(c - OPT_KNOB) >= 3 * KCPIMPAIR_NKNOBS)
				return 2;
			if ((w != 2 && k->parse(optarg, &cfg.up, &why) < 0) ||
			    (w != 1 && k->parse(optarg, &cfg.down, &why) < 0))
				return kcpimpair_fail(opt, optarg, why);
			break;
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kcpimpair: unexpected argument \"%s\"\nkcpimpair: try --help\n",
			argv[optind]);
		return 2;
	}
	if (listen == NULL || upstream == NULL) {
		fprintf(stderr, "kcpimpair: both -l LISTEN_ADDR:PORT and -u UPSTREAM_ADDR:PORT are "
				"needed\nkcpimpair: try --help\n");
		return 2;
	}
	return relay_run(&cfg) == 0 ? 0 : 1;
}
