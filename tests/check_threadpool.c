/* The thread pool: every index of a parallel loop (ordinary or affine) is visited exactly once,
 * whatever the pool size, grain and loop length; pools start and stop cleanly. */
#include <check.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/threadpool.h"

typedef struct visits {
    atomic_int *count;
    atomic_int max_thread;
    size_t n;            /* affine loops: the length */
    bool whole_range_ok; /* ... run on the caller alone (one thread, or n == 1) */
} visits;

static void visit(void *ctx, size_t begin, size_t end, int thread)
{
    visits *v = ctx;
    for (size_t i = begin; i < end; i++) atomic_fetch_add(&v->count[i], 1);
    int seen = atomic_load(&v->max_thread);
    while (thread > seen && !atomic_compare_exchange_weak(&v->max_thread, &seen, thread)) {}
}

START_TEST(every_index_once)
{
    static const size_t lengths[] = {0, 1, 2, 3, 7, 64, 1000, 4097};
    static const size_t grains[] = {1, 3, 64, 5000};
    for (int threads = 1; threads <= 4; threads++) {
        oc_pool *pool;
        ck_assert(!oc_pool_create(threads, &pool));
        ck_assert_int_eq(oc_pool_size(pool), threads);
        oc_pool_run_begin(pool);
        for (size_t l = 0; l < sizeof lengths / sizeof *lengths; l++)
            for (size_t g = 0; g < sizeof grains / sizeof *grains; g++)
                for (int repeat = 0; repeat < 20; repeat++) {
                    size_t n = lengths[l];
                    visits v = {calloc(n + 1, sizeof(atomic_int)), 0, n, false};
                    oc_parallel_for(pool, n, grains[g], visit, &v);
                    for (size_t i = 0; i < n; i++)
                        ck_assert_msg(atomic_load(&v.count[i]) == 1,
                                      "index %zu of %zu visited %d times (threads %d, grain %zu)",
                                      i, n, atomic_load(&v.count[i]), threads, grains[g]);
                    ck_assert_int_lt(atomic_load(&v.max_thread), threads);
                    free(v.count);
                }
        oc_pool_run_end(pool);
        oc_pool_free(pool);
    }
}
END_TEST

/* Affine loops: every item once, one at a time, on any pool size, and
 * interleaved with ordinary loops on the same pool (each validates the
 * other's leftovers by generation). */
static void visit_one(void *ctx, size_t begin, size_t end, int thread)
{
    visits *v = ctx;
    /* one item a call with threads; the caller alone takes the whole range */
    if (v->whole_range_ok && begin == 0 && thread == 0 && end == v->n) {
        visit(ctx, begin, end, thread);
        return;
    }
    ck_assert_uint_eq(end, begin + 1);
    visit(ctx, begin, end, thread);
}

START_TEST(affine_every_item_once)
{
    static const size_t lengths[] = {0, 1, 2, 3, 5, 64, 1000};
    for (int threads = 1; threads <= 4; threads++) {
        oc_pool *pool;
        ck_assert(!oc_pool_create(threads, &pool));
        oc_pool_run_begin(pool);
        for (size_t l = 0; l < sizeof lengths / sizeof *lengths; l++)
            for (int repeat = 0; repeat < 40; repeat++) {
                size_t n = lengths[l];
                visits v = {calloc(n + 1, sizeof(atomic_int)), 0, n, threads == 1 || n == 1};
                if (repeat % 2)
                    oc_parallel_for_affine(pool, n, visit_one, &v);
                else
                    oc_parallel_for(pool, n, 1, visit, &v);
                for (size_t i = 0; i < n; i++)
                    ck_assert_msg(atomic_load(&v.count[i]) == 1,
                                  "item %zu of %zu run %d times (threads %d, affine %d)", i, n,
                                  atomic_load(&v.count[i]), threads, repeat % 2);
                ck_assert_int_lt(atomic_load(&v.max_thread), threads);
                free(v.count);
            }
        oc_pool_run_end(pool);
        /* Outside a run (workers asleep) too. */
        visits v = {calloc(33, sizeof(atomic_int)), 0, 33, threads == 1};
        oc_parallel_for_affine(pool, 33, visit_one, &v);
        for (size_t i = 0; i < 33; i++) ck_assert_int_eq(atomic_load(&v.count[i]), 1);
        free(v.count);
        oc_pool_free(pool);
    }
}
END_TEST

START_TEST(pools_start_and_stop)
{
    for (int i = 0; i < 50; i++) {
        oc_pool *pool;
        ck_assert(!oc_pool_create(1 + i % 4, &pool));
        visits v = {calloc(100, sizeof(atomic_int)), 0, 100, false};
        if (i % 2) oc_parallel_for(pool, 100, 1, visit, &v);
        oc_pool_free(pool);
        free(v.count);
    }
    ck_assert_int_eq(oc_pool_size(NULL), 1);
    ck_assert_int_ge(oc_cpu_count(), 1);
    oc_pool *all;
    ck_assert(!oc_pool_create(0, &all));
    ck_assert_int_eq(oc_pool_size(all), oc_cpu_count());
    oc_pool_free(all);
    oc_pool_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threadpool");
    TCase *tc = tcase_create("threadpool");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_index_once);
    tcase_add_test(tc, affine_every_item_once);
    tcase_add_test(tc, pools_start_and_stop);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
