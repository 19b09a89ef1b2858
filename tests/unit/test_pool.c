#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kcpcore/pool.h"

START_TEST(pool_hands_out_every_buffer_once_then_null)
{
	int err = 0;
	struct pool *pool = pool_new(4, 256, &err);
	struct pkt *p[4];

	ck_assert_ptr_nonnull(pool);
	for (int i = 0; i < 4; i++) {
		p[i] = pool_get(pool);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_uint_eq(p[i]->off, KC_HEADROOM);
		ck_assert_uint_eq(p[i]->len, 0);
		ck_assert_uint_eq(p[i]->cap, 256);
		for (int j = 0; j < i; j++)
			ck_assert_ptr_ne(p[i], p[j]);
		/* the whole buffer is writable (ASan checks the bounds) */
		memset(p[i]->buf, 0xa5, p[i]->cap);
	}
	ck_assert_ptr_null(pool_get(pool));
	ck_assert_uint_eq(pool_avail(pool), 0);
	pool_put(pool, p[2]);
	ck_assert_uint_eq(pool_avail(pool), 1);
	ck_assert_ptr_eq(pool_get(pool), p[2]);
	for (int i = 0; i < 4; i++)
		pool_put(pool, p[i]);
	ck_assert_uint_eq(pool_avail(pool), 4);
	pool_free(pool);
}
END_TEST

/* Resident memory of this process, in bytes (/proc/self/statm). */
static size_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

START_TEST(pool_touches_memory_only_for_buffers_used)
{
	enum { COUNT = 65536, SIZE = 2048, USED = 1000 };
	int err = 0;
	size_t rss0 = rss_bytes(), rss1, rss2;
	struct pool *pool = pool_new(COUNT, SIZE, &err);
	struct pkt *p[USED], *q;

	/* 134 MB of buffers, none resident until used */
	ck_assert_ptr_nonnull(pool);
	ck_assert_uint_eq(pool_avail(pool), COUNT);
	ck_assert_uint_eq(pool_touched(pool), 0);
	rss1 = rss_bytes();
	ck_assert_msg(rss1 < rss0 + 8u * 1024 * 1024, "new pool made %zu bytes resident",
		      rss1 - rss0);
	for (int i = 0; i < USED; i++) {
		p[i] = pool_get(pool);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i]->buf, 0x5a, p[i]->cap);
	}
	ck_assert_uint_eq(pool_touched(pool), USED);
	rss2 = rss_bytes();
	ck_assert_msg(rss2 >= rss1 + (size_t)USED * SIZE / 2 &&
			      rss2 < rss1 + (size_t)USED * SIZE * 2 + 8u * 1024 * 1024,
		      "%d buffers used: resident grew by %zd bytes", USED, (ssize_t)(rss2 - rss1));
	/* a returned buffer is handed out again (warm) before a new one is carved */
	pool_put(pool, p[7]);
	q = pool_get(pool);
	ck_assert_ptr_eq(q, p[7]);
	ck_assert_uint_eq(q->len, 0);
	ck_assert_uint_eq(q->off, KC_HEADROOM);
	ck_assert_uint_eq(pool_touched(pool), USED);
	ck_assert_uint_eq(pool_avail(pool), COUNT - USED);
	for (int i = 0; i < USED; i++)
		pool_put(pool, p[i]);
	ck_assert_uint_eq(pool_avail(pool), COUNT);
	pool_free(pool);
}
END_TEST

START_TEST(pool_new_rejects_bad_sizes)
{
	int err = 0;

	ck_assert_ptr_null(pool_new(0, 256, &err));
	ck_assert_int_eq(err, -EINVAL);
	err = 0;
	ck_assert_ptr_null(pool_new(4, KC_HEADROOM, &err));
	ck_assert_int_eq(err, -EINVAL);
	err = 0;
	ck_assert_ptr_null(pool_new(4, 70000, &err));
	ck_assert_int_eq(err, -EINVAL);
}
END_TEST

START_TEST(pkt_tailroom_counts_bytes_after_data)
{
	int err = 0;
	struct pool *pool = pool_new(1, 200, &err);
	struct pkt *p = pool_get(pool);

	ck_assert_uint_eq(pkt_tailroom(p), 200 - KC_HEADROOM);
	p->len = 100;
	ck_assert_uint_eq(pkt_tailroom(p), 200 - KC_HEADROOM - 100);
	ck_assert_ptr_eq(pkt_data(p), p->buf + KC_HEADROOM);
	pool_put(pool, p);
	pool_free(pool);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, pool_hands_out_every_buffer_once_then_null);
	tcase_add_test(tc, pool_touches_memory_only_for_buffers_used);
	tcase_add_test(tc, pool_new_rejects_bad_sizes);
	tcase_add_test(tc, pkt_tailroom_counts_bytes_after_data);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
