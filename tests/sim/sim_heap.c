/* Binary min-heap of queued packets keyed by (due_us, seq). */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sim_heap.h"

static bool sim_heap_before(const struct sim_event *a, const struct sim_event *b)
{
	return a->due_us < b->due_us || (a->due_us == b->due_us && a->seq < b->seq);
}

void sim_heap_init(struct sim_heap *h)
{
	h->ev = NULL;
	h->n = 0;
	h->cap = 0;
	h->next_seq = 0;
}

void sim_heap_fini(struct sim_heap *h)
{
	free(h->ev);
	sim_heap_init(h);
}

int sim_heap_reserve(struct sim_heap *h, size_t n)
{
	struct sim_event *ev;

	if (n <= h->cap)
		return 0;
	if (n > SIZE_MAX / sizeof(*ev))
		return -ENOMEM;
	ev = realloc(h->ev, n * sizeof(*ev));
	if (ev == NULL)
		return -ENOMEM;
	h->ev = ev;
	h->cap = n;
	return 0;
}

int sim_heap_push(struct sim_heap *h, uint64_t due_us, void *ptr, uint32_t len, uint64_t tag)
{
	struct sim_event e = {
	    .due_us = due_us, .seq = h->next_seq, .ptr = ptr, .tag = tag, .len = len};
	size_t i;

	if (h->n == h->cap && sim_heap_reserve(h, h->cap ? h->cap * 2 : 64) < 0)
		return -ENOMEM;
	h->next_seq++;
	/* sift up: move parents down until e's place is found */
	for (i = h->n++; i > 0; i = (i - 1) / 2) {
		size_t parent = (i - 1) / 2;

		if (!sim_heap_before(&e, &h->ev[parent]))
			break;
		h->ev[i] = h->ev[parent];
	}
	h->ev[i] = e;
	return 0;
}

const struct sim_event *sim_heap_top(const struct sim_heap *h)
{
	return h->n ? &h->ev[0] : NULL;
}

void sim_heap_pop(struct sim_heap *h, struct sim_event *out)
{
	struct sim_event last;
	size_t i = 0, n;

	assert(h->n > 0);
	*out = h->ev[0];
	n = --h->n;
	if (n == 0)
		return;
	last = h->ev[n];
	/* sift down: move the smaller child up until `last` fits */
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && sim_heap_before(&h->ev[c + 1], &h->ev[c]))
			c++;
		if (!sim_heap_before(&h->ev[c], &last))
			break;
		h->ev[i] = h->ev[c];
		i = c;
	}
	h->ev[i] = last;
}
