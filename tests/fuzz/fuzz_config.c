/* libFuzzer target: config_parse() on arbitrary files. Whatever parses must print as a config
 * that parses again (with the secret keys put back) and prints the same text (config_print()
 * round trip), and every peer must be the same session in both; whatever is refused must come
 * with at least one message. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "kcpcore/keys.h"
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

/* The printed text of c with the "PrivateKey = (set)" and "PresharedKey = (set)" lines given
 * c's keys again, so that it parses to the same keys. */
static char *fuzz_keys_back(const struct config *c, const char *printed)
{
	const char *line = printed, *nl;
	char *s = NULL, b64[KC_KEY_BASE64_LEN + 1];
	size_t n = 0, peer = 0;
	FILE *f = open_memstream(&s, &n);

	if (f == NULL)
		abort();
	for (; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			abort(); /* config_print() ends every line */
		if (strncmp(line, "PrivateKey = (set)\n", 19) == 0) {
			kc_key_to_base64(c->private_key, b64);
			fprintf(f, "PrivateKey = %s\n", b64);
		} else if (strncmp(line, "PresharedKey = (set)\n", 21) == 0) {
			while (peer < c->npeers &&
			       !(c->peers[peer].has_psk && c->peers[peer].psk_file == NULL))
				peer++;
			if (peer == c->npeers)
				abort();
			kc_key_to_base64(c->peers[peer++].psk, b64);
			fprintf(f, "PresharedKey = %s\n", b64);
		} else {
			fwrite(line, 1, (size_t)(nl - line) + 1, f);
		}
	}
	if (fclose(f) != 0)
		abort();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *a = NULL, *b = NULL;
	char *errs = NULL, *pa, *pb, *keyed;
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
	keyed = fuzz_keys_back(a, pa);
	if (config_parse("/etc/kcpvpnd/fuzz0.conf", keyed, strlen(keyed), &b, &errs) != 0) {
		fprintf(stderr, "printed config refused:\n%s---\n%s", errs, keyed);
		abort();
	}
	free(keyed);
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
