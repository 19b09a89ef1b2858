#include <errno.h>
#include <stdlib.h>

#include "kcpcore/pool.h"

struct pool {
	struct pkt *free; /* stack of free buffers, most recently used on top (cache-warm) */
	unsigned count;
	unsigned avail;
	size_t buf_size;
	size_t stride;
	uint8_t *mem;
};

#define POOL_ALIGN 64

struct pool *pool_new(unsigned count, size_t buf_size, int *err)
{
	struct pool *pool;
	size_t stride;

	if (count == 0 || buf_size <= KC_HEADROOM || buf_size > UINT16_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	stride = (sizeof(struct pkt) + buf_size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		goto fail;
	if (posix_memalign((void **)&pool->mem, POOL_ALIGN, stride * count) != 0)
		goto fail_pool;
	pool->count = count;
	pool->buf_size = buf_size;
	pool->stride = stride;
	for (unsigned i = count; i-- > 0;) {
		struct pkt *p = (struct pkt *)(pool->mem + (size_t)i * stride);

		p->cap = (uint16_t)buf_size;
		p->next = pool->free;
		pool->free = p;
	}
	pool->avail = count;
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
	free(pool->mem);
	free(pool);
}

struct pkt *pool_get(struct pool *pool)
{
	struct pkt *p = pool->free;

	if (p == NULL)
		return NULL;
	pool->free = p->next;
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

size_t pool_buf_size(const struct pool *pool)
{
	return pool->buf_size;
}
