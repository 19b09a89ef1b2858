/* Bounds-checked little-endian reader and writer for wire formats (private to libkcpcore).
 * Readers return -1 when fewer bytes remain than asked for, and leave the cursor alone. */
#ifndef KCPCORE_WIRE_H
#define KCPCORE_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wire_cur {
	const uint8_t *p;
	size_t left;
};

static inline void wire_cur_init(struct wire_cur *c, const void *buf, size_t len)
{
	c->p = buf;
	c->left = len;
}

static inline int wire_get_u8(struct wire_cur *c, uint8_t *v)
{
	if (c->left < 1)
		return -1;
	*v = c->p[0];
	c->p++;
	c->left--;
	return 0;
}

static inline int wire_get_u16le(struct wire_cur *c, uint16_t *v)
{
	if (c->left < 2)
		return -1;
	*v = (uint16_t)(c->p[0] | c->p[1] << 8);
	c->p += 2;
	c->left -= 2;
	return 0;
}

static inline int wire_get_u32le(struct wire_cur *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 |
	     (uint32_t)c->p[3] << 24;
	c->p += 4;
	c->left -= 4;
	return 0;
}

/* Points *v at the next n bytes and skips them. */
static inline int wire_get_bytes(struct wire_cur *c, size_t n, const uint8_t **v)
{
	if (c->left < n)
		return -1;
	*v = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

/* Writers: the caller has checked the room; they return the byte after what they wrote. */
static inline uint8_t *wire_put_u8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static inline uint8_t *wire_put_u16le(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

static inline uint8_t *wire_put_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	return p + 4;
}

static inline uint16_t wire_peek_u16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t wire_peek_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
