/* The in-process link: the model of sim_model.c on a simulated clock, packets copied into
 * recycled buffers and ordered by a heap of delivery times. Also the PRNG everything draws from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_heap.h"
#include "sim_model.h"

/* Smallest buffer a queued packet gets, so typical packets never need a larger one later. */
#define SIM_BUF_MIN_BYTES 2048u

/* A spare packet buffer waiting for reuse. */
struct sim_buf {
	void *p;
	size_t cap;
};

struct sim_link {
	struct sim_model model;
	struct sim_heap heap; /* tag of each event: capacity of its buffer */
	struct sim_buf *spare;
	size_t nspare, spare_cap;
};

/* splitmix64 step: expands one seed into well-mixed words. */
static uint64_t sim_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t sim_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = sim_splitmix64(&x);
}

uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = sim_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = sim_rotl(s[3], 45);
	return out;
}

double sim_rng_unit(struct sim_rng *r)
{
	return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

uint32_t sim_rng_range(struct sim_rng *r, uint32_t lo, uint32_t hi)
{
	uint64_t span, m;
	uint32_t low;

	if (hi <= lo)
		return lo;
	span = (uint64_t)hi - lo + 1;
	if (span > UINT32_MAX)
		return (uint32_t)(sim_rng_next(r) >> 32);
	/* multiply-shift onto [0, span), rejecting the few products that would bias it */
	m = (sim_rng_next(r) >> 32) * span;
	low = (uint32_t)m;
	if (low < span) {
		uint32_t threshold = (uint32_t)(-(uint32_t)span) % (uint32_t)span;

		while (low < threshold) {
			m = (sim_rng_next(r) >> 32) * span;
			low = (uint32_t)m;
		}
	}
	return lo + (uint32_t)(m >> 32);
}

/* Aborts with a message: allocation failure in a test tool is not worth recovering from. */
static void sim_oom(void)
{
	fputs("sim: out of memory\n", stderr);
	abort();
}

struct sim_link *sim_link_new(const struct sim_impair *im, uint64_t seed)
{
	struct sim_link *l = calloc(1, sizeof(*l));

	if (l == NULL)
		sim_oom();
	sim_model_init(&l->model, im, seed);
	sim_heap_init(&l->heap);
	return l;
}

void sim_link_free(struct sim_link *l)
{
	struct sim_event e;

	if (l == NULL)
		return;
	while (l->heap.n) {
		sim_heap_pop(&l->heap, &e);
		free(e.ptr);
	}
	sim_heap_fini(&l->heap);
	for (size_t i = 0; i < l->nspare; i++)
		free(l->spare[i].p);
	free(l->spare);
	free(l);
}

/* A buffer of at least len bytes, recycled when one is spare. */
static struct sim_buf sim_link_buf_get(struct sim_link *l, size_t len)
{
	struct sim_buf b = {NULL, 0};

	if (l->nspare)
		b = l->spare[--l->nspare];
	if (b.cap < len) {
		size_t cap = len > SIM_BUF_MIN_BYTES ? len : SIM_BUF_MIN_BYTES;
		void *p = realloc(b.p, cap);

		if (p == NULL)
			sim_oom();
		b.p = p;
		b.cap = cap;
	}
	return b;
}

static void sim_link_buf_put(struct sim_link *l, void *p, size_t cap)
{
	if (l->nspare == l->spare_cap) {
		size_t n = l->spare_cap ? 2 * l->spare_cap : 64;
		struct sim_buf *s = realloc(l->spare, n * sizeof(*s));

		if (s == NULL)
			sim_oom();
		l->spare = s;
		l->spare_cap = n;
	}
	l->spare[l->nspare].p = p;
	l->spare[l->nspare].cap = cap;
	l->nspare++;
}

int sim_link_send(struct sim_link *l, uint64_t now_us, const void *buf, size_t len)
{
	uint64_t due_us[2];
	unsigned copies;

	if (len > UINT32_MAX) {
		fputs("sim: packet longer than 4 GiB\n", stderr);
		abort();
	}
	copies = sim_model_offer(&l->model, now_us, len, due_us);
	for (unsigned i = 0; i < copies; i++) {
		struct sim_buf b = sim_link_buf_get(l, len);

		if (len)
			memcpy(b.p, buf, len);
		if (sim_heap_push(&l->heap, due_us[i], b.p, (uint32_t)len, b.cap) < 0)
			sim_oom();
	}
	return copies ? 0 : 1;
}

uint64_t sim_link_next_us(const struct sim_link *l)
{
	const struct sim_event *e = sim_heap_top(&l->heap);

	return e ? e->due_us : UINT64_MAX;
}

long sim_link_recv(struct sim_link *l, uint64_t now_us, void *buf, size_t cap)
{
	const struct sim_event *top = sim_heap_top(&l->heap);
	struct sim_event e;

	if (top == NULL || top->due_us > now_us)
		return -1;
	if (top->len > cap) {
		fprintf(stderr, "sim: packet of %u bytes does not fit a buffer of %zu\n", top->len,
			cap);
		abort();
	}
	sim_heap_pop(&l->heap, &e);
	if (e.len)
		memcpy(buf, e.ptr, e.len);
	sim_link_buf_put(l, e.ptr, e.tag);
	l->model.stats.delivered++;
	l->model.stats.bytes_delivered += e.len;
	return (long)e.len;
}

size_t sim_link_pending(const struct sim_link *l)
{
	return l->heap.n;
}

const struct sim_stats *sim_link_stats(const struct sim_link *l)
{
	return &l->model.stats;
}

void sim_link_set(struct sim_link *l, const struct sim_impair *im)
{
	sim_model_set(&l->model, im);
}
