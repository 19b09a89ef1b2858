#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vectors.h"

const char *vec_path(const char *name)
{
	static char path[4096];
	const char *dir = getenv("KC_VECTORS");

	if (dir == NULL || *dir == '\0')
		dir = "tests/vectors";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

json_t *vec_load(const char *name)
{
	json_error_t jerr;
	json_t *root = json_load_file(vec_path(name), 0, &jerr);

	if (root == NULL)
		ck_abort_msg("vector %s: %s:%d: %s", vec_path(name), jerr.source, jerr.line,
			     jerr.text);
	return root;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint8_t *vec_hex(const char *hex, size_t *len)
{
	size_t n = strlen(hex);
	uint8_t *out;

	ck_assert_msg(n % 2 == 0, "odd hex length %zu", n);
	out = malloc(n / 2 + 1);
	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		ck_assert_msg(hi >= 0 && lo >= 0, "bad hex at %zu", 2 * i);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

uint8_t *vec_hex_member(const json_t *obj, const char *key, size_t *len)
{
	const char *s = json_string_value(json_object_get(obj, key));

	ck_assert_msg(s != NULL, "vector member \"%s\" missing or not a string", key);
	return vec_hex(s, len);
}
