/* A binary min-heap of queued packets keyed by (delivery time, arrival order), so packets due
 * at the same microsecond come out in the order they were pushed. */
#ifndef TESTS_SIM_SIM_HEAP_H
#define TESTS_SIM_SIM_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* One queued packet: the heap only orders these, `ptr`, `len` and `tag` belong to the caller. */
struct sim_event {
	uint64_t due_us;
	uint64_t seq;
	void *ptr;
	uint64_t tag;
	uint32_t len;
};

struct sim_heap {
	struct sim_event *ev;
	size_t n, cap;
	uint64_t next_seq;
};

/* Initialises an empty heap; release it with sim_heap_fini(). */
void sim_heap_init(struct sim_heap *h);
/* Frees the heap's array (not what the events point to). */
void sim_heap_fini(struct sim_heap *h);
/* Makes room for `n` events so later pushes up to that count never allocate; 0 or -ENOMEM. */
int sim_heap_reserve(struct sim_heap *h, size_t n);
/* Queues an event due at due_us; returns 0, or -ENOMEM when growing the array failed. */
int sim_heap_push(struct sim_heap *h, uint64_t due_us, void *ptr, uint32_t len, uint64_t tag);
/* The earliest event, or NULL when the heap is empty. */
const struct sim_event *sim_heap_top(const struct sim_heap *h);
/* Removes the earliest event into *out; the heap must not be empty. */
void sim_heap_pop(struct sim_heap *h, struct sim_event *out);

#endif
