#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kcpcore/pool.h"

/* The buffers are carved from one anonymous mapping in order, the first time they are needed:
 * a buffer never used is a page never touched, so a pool sized for every peer's full windows
 * costs memory only as far as traffic actually fills them (DESIGN-NOTES: "Windows of 2048 by
 * default, memory only for what is in flight"). */
struct pool {
	struct pkt *free; /* stack of returned buffers, most recently used on top (cache-warm) */
	unsigned count;
	unsigned avail;
	unsigned carved;  /* buffers [0, carved) have been handed out at least once */
	size_t buf_size;
	size_t stride;
	uint8_t *mem;     /* count * stride bytes */
};

#define POOL_ALIGN 64

struct pool *pool_new(unsigned count, size_t buf_size, int *err)
{
	struct pool *pool;
	size_t stride;
	void *mem;

	if (count == 0 || buf_size <= KC_HEADROOM || buf_size > UINT16_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	stride = (sizeof(struct pkt) + buf_size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		goto fail;
	/* no swap reserved up front: pages come (zeroed) as buffers are first used */
	mem = mmap(NULL, stride * count, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		goto fail_pool;
	pool->mem = mem;
	pool->count = count;
	pool->avail = count;
	pool->buf_size = buf_size;
	pool->stride = stride;
	return pool;

fail_pool:
	free(pool);
fail:
	*err = -ENOMEM;
	return NULL;
}

void pool_free(struct pool *pool)
{
	if (pool == NULL)
		return;
	munmap(pool->mem, pool->stride * pool->count);
	free(pool);
}

struct pkt *pool_get(struct pool *pool)
{
	struct pkt *p = pool->free;

	if (p != NULL) {
		pool->free = p->next;
	} else if (pool->carved < pool->count) {
		p = (struct pkt *)(pool->mem + (size_t)pool->carved++ * pool->stride);
		p->cap = (uint16_t)pool->buf_size;
	} else {
		return NULL;
	}
	pool->avail--;
	p->next = NULL;
	p->off = KC_HEADROOM;
	p->len = 0;
	p->flags = 0;
	return p;
}

void pool_put(struct pool *pool, struct pkt *p)
{
	if (p == NULL)
		return;
	p->next = pool->free;
	pool->free = p;
	pool->avail++;
}

unsigned pool_avail(const struct pool *pool)
{
	return pool->avail;
}

unsigned pool_count(const struct pool *pool)
{
	return pool->count;
}

unsigned pool_touched(const struct pool *pool)
{
	return pool->carved;
}

size_t pool_buf_size(const struct pool *pool)
{
	return pool->buf_size;
}
