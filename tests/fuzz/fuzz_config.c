/* libFuzzer target: config_parse() on arbitrary files. Whatever parses must print as a config
 * that parses again and prints the same text (config_print() round trip), and every peer must
 * be the same session in both; whatever is refused must come with at least one message. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "kcpcore/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fuzz_print(const struct config *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (f == NULL)
		abort();
	config_print(c, f);
	if (fclose(f) != 0)
		abort();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *a = NULL, *b = NULL;
	char *errs = NULL, *pa, *pb;
	struct session_params sp;
	int rc;

	if (size > 64 * 1024)
		return 0;
	rc = config_parse("/etc/kcpvpnd/fuzz0.conf", (const char *)data, size, &a, &errs);
	if (rc != 0) {
		if (rc != -EINVAL || errs == NULL || errs[0] == '\0' || a != NULL)
			abort();
		free(errs);
		return 0;
	}
	pa = fuzz_print(a);
	if (config_parse("/etc/kcpvpnd/fuzz0.conf", pa, strlen(pa), &b, &errs) != 0) {
		fprintf(stderr, "printed config refused:\n%s---\n%s", errs, pa);
		abort();
	}
	pb = fuzz_print(b);
	if (strcmp(pa, pb) != 0 || a->npeers != b->npeers || config_tun_mtu(a) != config_tun_mtu(b))
		abort();
	/* config_print() wrote the passphrase as "(set)": put it back to compare sessions */
	free(b->key);
	b->key = a->key != NULL ? strdup(a->key) : NULL;
	for (size_t i = 0; i < a->npeers; i++) {
		if (!config_peer_same(a, &a->peers[i], b, &b->peers[i]))
			abort();
		session_params_default(&sp);
		config_peer_session(a, &a->peers[i], &sp);
		if (session_mss(sp.udp_mtu, sp.crypt, true) < (int)config_tun_mtu(a))
			abort();
	}
	free(pa);
	free(pb);
	config_free(a);
	config_free(b);
	return 0;
}
