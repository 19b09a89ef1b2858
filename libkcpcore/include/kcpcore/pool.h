/* Fixed pools of packet buffers: the packet path never calls malloc.
 *
 * A pool is created at start-up with a fixed number of equally sized buffers and belongs to
 * one worker (no locks). Its memory is mapped at creation and each buffer's pages are touched
 * only when the buffer is first handed out, so an unused part of a pool costs address space,
 * not memory. A function that takes a struct pkt * owns it after the call. */
#ifndef KCPCORE_POOL_H
#define KCPCORE_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Bytes reserved in front of fresh packet data, enough for every header a lower layer
 * prepends in place (crypto nonce and CRC or AEAD header, FEC header). */
#define KC_HEADROOM 64

struct pkt {
	struct pkt *next; /* free for the current owner's queues */
	uint16_t off;     /* data starts at buf + off */
	uint16_t len;     /* bytes of data */
	uint16_t cap;     /* size of buf */
	uint16_t flags;   /* free for the current owner */
	uint8_t buf[];
};

struct pool;

/* Pool of `count` buffers of `buf_size` bytes each (headroom included), mapped once.
 * Returns NULL and sets *err to -EINVAL (bad sizes) or -ENOMEM. Free with pool_free(). */
struct pool *pool_new(unsigned count, size_t buf_size, int *err);

/* Frees the pool; every packet must have been returned. NULL is ignored. */
void pool_free(struct pool *pool);

/* Takes a buffer with off = KC_HEADROOM and len = 0, or NULL when the pool is empty. */
struct pkt *pool_get(struct pool *pool);

/* Gives `p` back to its pool. NULL is ignored. */
void pool_put(struct pool *pool, struct pkt *p);

/* Buffers currently free, and buffers in all. */
unsigned pool_avail(const struct pool *pool);
unsigned pool_count(const struct pool *pool);

/* Buffers handed out at least once (their memory is in use; the rest was never touched). */
unsigned pool_touched(const struct pool *pool);

/* Size of each buffer, headroom included. */
size_t pool_buf_size(const struct pool *pool);

static inline uint8_t *pkt_data(struct pkt *p)
{
	return p->buf + p->off;
}

/* Bytes that can still be written after the data. */
static inline size_t pkt_tailroom(const struct pkt *p)
{
	return (size_t)p->cap - p->off - p->len;
}

#endif
