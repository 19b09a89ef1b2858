#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	tcase_add_test(tc, pool_new_rejects_bad_sizes);
	tcase_add_test(tc, pkt_tailroom_counts_bytes_after_data);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
