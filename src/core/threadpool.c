#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/* Spins this many times (a few hundred microseconds) before sleeping. */
#define SPIN_LIMIT 20000

struct oc_pool {
    int size; /* threads, the caller included */
    pthread_t *workers;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a new loop or stop */
    pthread_cond_t done; /* the last worker left the loop */
    bool stop;
    /* The current loop, written by the caller before generation moves. */
    oc_loop_fn fn;
    void *ctx;
    size_t n, chunk;
    atomic_size_t next;
    atomic_int pending; /* workers still in the loop */
    atomic_uint generation;
    atomic_bool in_run;
};

typedef struct worker_arg {
    oc_pool *pool;
    int index;
} worker_arg;

int oc_cpu_count(void)
{
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void run_chunks(oc_pool *p, int thread)
{
    for (;;) {
        size_t begin = atomic_fetch_add_explicit(&p->next, p->chunk, memory_order_relaxed);
        if (begin >= p->n) break;
        size_t end = p->n - begin < p->chunk ? p->n : begin + p->chunk;
        p->fn(p->ctx, begin, end, thread);
    }
}

/* Waits until generation differs from seen (or stop); false on stop. */
static bool wait_for_loop(oc_pool *p, unsigned seen)
{
    if (atomic_load_explicit(&p->in_run, memory_order_relaxed))
        for (int i = 0; i < SPIN_LIMIT; i++) {
            if (atomic_load_explicit(&p->generation, memory_order_acquire) != seen) return true;
            CPU_RELAX();
        }
    pthread_mutex_lock(&p->lock);
    while (atomic_load_explicit(&p->generation, memory_order_acquire) == seen && !p->stop)
        pthread_cond_wait(&p->wake, &p->lock);
    bool stop = p->stop;
    pthread_mutex_unlock(&p->lock);
    return !stop;
}

static void *worker_main(void *arg)
{
    worker_arg a = *(worker_arg *)arg;
    free(arg);
    oc_pool *p = a.pool;
    unsigned seen = 0; /* no loop can start before oc_pool_create returns */
    while (wait_for_loop(p, seen)) {
        seen = atomic_load_explicit(&p->generation, memory_order_acquire);
        run_chunks(p, a.index);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
    return NULL;
}

onnxc_status *oc_pool_create(int threads, oc_pool **out)
{
    *out = NULL;
    if (threads <= 0) threads = oc_cpu_count();
    oc_pool *p = calloc(1, sizeof *p);
    if (!p) return oc_no_memory();
    p->size = threads;
    atomic_init(&p->next, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->generation, 0);
    atomic_init(&p->in_run, false);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (threads > 1) {
        p->workers = calloc((size_t)threads - 1, sizeof *p->workers);
        if (!p->workers) {
            oc_pool_free(p);
            return oc_no_memory();
        }
        for (int i = 1; i < threads; i++) {
            worker_arg *arg = malloc(sizeof *arg);
            if (arg) *arg = (worker_arg){p, i};
            if (!arg || pthread_create(&p->workers[i - 1], NULL, worker_main, arg) != 0) {
                free(arg);
                oc_pool_free(p);
                return oc_error(ONNXC_ERR_MEMORY, "cannot start worker thread %d of %d", i,
                                threads - 1);
            }
            p->started++;
        }
    }
    *out = p;
    return NULL;
}

void oc_pool_free(oc_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->started; i++) pthread_join(p->workers[i], NULL);
    free(p->workers);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p);
}

int oc_pool_size(const oc_pool *p) { return p ? p->size : 1; }

void oc_parallel_for(oc_pool *p, size_t n, size_t grain, oc_loop_fn fn, void *ctx)
{
    if (n == 0) return;
    if (grain == 0) grain = 1;
    if (!p || p->size <= 1 || n <= grain) {
        fn(ctx, 0, n, 0);
        return;
    }
    /* About four chunks a thread: balance without much contention. */
    size_t chunk = n / ((size_t)p->size * 4);
    if (chunk < grain) chunk = grain;
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->chunk = chunk;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->pending, p->size - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    run_chunks(p, 0);
    for (int i = 0; i < SPIN_LIMIT; i++) {
        if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0) return;
        CPU_RELAX();
    }
    pthread_mutex_lock(&p->lock);
    while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void oc_pool_run_begin(oc_pool *p)
{
    if (p) atomic_store_explicit(&p->in_run, true, memory_order_relaxed);
}

void oc_pool_run_end(oc_pool *p)
{
    if (p) atomic_store_explicit(&p->in_run, false, memory_order_relaxed);
}
