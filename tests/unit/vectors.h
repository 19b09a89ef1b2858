/* Test helpers: the kcp-go vectors (tests/vectors, located by $KC_VECTORS) and hex. */
#ifndef TESTS_VECTORS_H
#define TESTS_VECTORS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Parses vector file `name` (e.g. "fec.json"); a missing or bad file fails the test. */
json_t *vec_load(const char *name);

/* Full path of vector file `name` in a static buffer (for the .txt captures). */
const char *vec_path(const char *name);

/* Decodes lowercase or uppercase hex into a malloc'ed buffer; fails the test on bad hex. */
uint8_t *vec_hex(const char *hex, size_t *len);

/* Decodes the hex string member `key` of object `obj`; fails the test when it is absent. */
uint8_t *vec_hex_member(const json_t *obj, const char *key, size_t *len);

#endif
