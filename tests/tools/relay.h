/* The UDP impairment relay behind kcpimpair(1): clients on a listening socket, one upstream
 * socket per client (NAT-like), and the link model of tests/sim/sim_model.h per direction. */
#ifndef TESTS_TOOLS_RELAY_H
#define TESTS_TOOLS_RELAY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sim.h"

struct relay_config {
	struct sockaddr_storage listen, upstream;
	socklen_t listen_len, upstream_len;
	struct sim_impair up, down; /* client->upstream and upstream->client */
	uint64_t seed;
	unsigned stats_interval_s; /* 0: counters only on SIGUSR1 and at exit */
	unsigned idle_timeout_s;   /* a client mapping idle this long is closed */
	unsigned max_clients;	   /* datagrams from further clients are refused */
	unsigned limit_pkts;	   /* packets held per direction; more are queue drops */
	unsigned max_size_bytes;   /* largest datagram relayed; longer ones are dropped */
	unsigned sockbuf_bytes;	   /* SO_RCVBUF/SO_SNDBUF to ask for; 0: default */
	bool quiet;		   /* no start-up line */
};

/* Runs the relay of `cfg` until SIGINT or SIGTERM, printing counters to stderr on SIGUSR1,
 * every stats_interval_s and at exit. Returns 0, or -errno after a set-up failure it printed. */
int relay_run(const struct relay_config *cfg);

#endif
