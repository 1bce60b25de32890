#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
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

/* How a loop is shared (a caller and workers that may each be descheduled
 * at any moment on a busy machine, so that nobody waits for a thread that
 * has no work in hand):
 * - the caller writes the loop (fn, ctx, sizes: atomics, read by workers
 *   only as described below) and then one word holding (generation, chunk
 *   count, next chunk), then the generation alone, which wakes workers;
 * - every thread, the caller included, claims chunks by a compare-and-swap
 *   on that word, for the generation it was woken for: a thread that saw an
 *   older generation claims nothing. It reads fn and ctx after a successful
 *   claim: the claim synchronizes with the word's store, which came after
 *   them, and the caller cannot move to the next loop (and rewrite them)
 *   while a chunk of this one is unfinished;
 * - the loop is over when its chunks are done, not when every worker has
 *   looked at it: the caller waits only for chunks a worker is running. */
#define CLAIM(gen, chunks, next) ((uint_fast64_t)(gen) << 32 | (uint_fast64_t)(chunks) << 16 | (next))
#define CLAIM_GEN(w) ((unsigned)((w) >> 32))
#define CLAIM_CHUNKS(w) ((size_t)((w) >> 16 & 0xFFFFu))
#define CLAIM_NEXT(w) ((size_t)((w) & 0xFFFFu))
#define MAX_CHUNKS 0xFFFFu

/* A loop with affinity (oc_parallel_for_affine) gives thread t the items
 * [t n / T, (t + 1) n / T) in one word per thread: (generation, next item,
 * end). The owner takes items from the front; a thread done with its own
 * takes the others' from the back, so that a thread that is late or slow
 * holds nobody up, and the items a thread runs stay those next to its
 * range. Validated by generation like the claims above (its low 16 bits). */
#define RANGE(gen, begin, end) \
    ((uint_fast64_t)((gen) & 0xFFFFu) << 48 | (uint_fast64_t)(begin) << 24 | (uint_fast64_t)(end))
#define RANGE_GEN(w) ((unsigned)((w) >> 48))
#define RANGE_BEGIN(w) ((size_t)((w) >> 24 & 0xFFFFFFu))
#define RANGE_END(w) ((size_t)((w) & 0xFFFFFFu))
#define MAX_AFFINE_ITEMS 0xFFFFFFu

typedef struct range_slot {
    _Alignas(64) atomic_uint_fast64_t word;
} range_slot;

struct oc_pool {
    int size; /* threads, the caller included */
    pthread_t *workers;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a new loop or stop */
    bool stop;           /* under lock */
    /* The current loop. */
    _Atomic(oc_loop_fn) fn;
    _Atomic(void *) ctx;
    atomic_size_t n, chunk;
    atomic_uint_fast64_t claim; /* CLAIM(generation, chunks, next chunk) */
    atomic_size_t done;         /* chunks (or affine items) finished */
    range_slot *ranges;         /* per thread: its affine range */
    atomic_uint generation;
    atomic_int sleeping; /* workers waiting on wake */
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

/* Runs the chunks of loop generation gen this thread can claim. */
static void run_chunks(oc_pool *p, unsigned gen, int thread)
{
    uint_fast64_t word = atomic_load_explicit(&p->claim, memory_order_acquire);
    for (;;) {
        if (CLAIM_GEN(word) != gen || CLAIM_NEXT(word) >= CLAIM_CHUNKS(word)) return;
        if (!atomic_compare_exchange_weak_explicit(&p->claim, &word, word + 1,
                                                   memory_order_acquire, memory_order_acquire))
            continue;
        oc_loop_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
        size_t n = atomic_load_explicit(&p->n, memory_order_relaxed);
        size_t chunk = atomic_load_explicit(&p->chunk, memory_order_relaxed);
        size_t begin = CLAIM_NEXT(word) * chunk;
        size_t end = n - begin < chunk ? n : begin + chunk;
        fn(ctx, begin, end, thread);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
        word = atomic_load_explicit(&p->claim, memory_order_acquire);
    }
}

/* Runs items of thread owner's range of affine loop generation gen: from
 * the front when thread is the owner, else from the back. */
static void run_range(oc_pool *p, unsigned gen, int owner, int thread)
{
    atomic_uint_fast64_t *slot = &p->ranges[owner].word;
    uint_fast64_t word = atomic_load_explicit(slot, memory_order_acquire);
    for (;;) {
        size_t begin = RANGE_BEGIN(word), end = RANGE_END(word);
        if (RANGE_GEN(word) != (gen & 0xFFFFu) || begin >= end) return;
        size_t item = owner == thread ? begin : end - 1;
        uint_fast64_t next = owner == thread ? RANGE(gen, begin + 1, end) : RANGE(gen, begin, end - 1);
        if (!atomic_compare_exchange_weak_explicit(slot, &word, next, memory_order_acquire,
                                                   memory_order_acquire))
            continue;
        oc_loop_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
        fn(ctx, item, item + 1, thread);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
        word = atomic_load_explicit(slot, memory_order_acquire);
    }
}

/* The affine items of generation gen this thread can take: its own, then
 * the others'. */
static void run_ranges(oc_pool *p, unsigned gen, int thread)
{
    for (int k = 0; k < p->size; k++) run_range(p, gen, (thread + k) % p->size, thread);
}

/* Waits until the generation differs from seen (or stop); false on stop. */
static bool wait_for_loop(oc_pool *p, unsigned seen, unsigned *gen)
{
    if (atomic_load_explicit(&p->in_run, memory_order_relaxed))
        for (int i = 0; i < SPIN_LIMIT; i++) {
            *gen = atomic_load_explicit(&p->generation, memory_order_acquire);
            if (*gen != seen) return true;
            CPU_RELAX();
        }
    pthread_mutex_lock(&p->lock);
    /* Counted before the generation is read again: a caller that publishes
     * after this sees the count and wakes us (both sequentially consistent). */
    atomic_fetch_add(&p->sleeping, 1);
    while ((*gen = atomic_load(&p->generation)) == seen && !p->stop)
        pthread_cond_wait(&p->wake, &p->lock);
    atomic_fetch_sub(&p->sleeping, 1);
    bool stop = p->stop;
    pthread_mutex_unlock(&p->lock);
    return !stop;
}

static void *worker_main(void *arg)
{
    worker_arg a = *(worker_arg *)arg;
    free(arg);
    oc_pool *p = a.pool;
    unsigned seen = 0, gen; /* no loop can start before oc_pool_create returns */
    while (wait_for_loop(p, seen, &gen)) {
        seen = gen;
        run_chunks(p, gen, a.index);
        run_ranges(p, gen, a.index);
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
    atomic_init(&p->fn, NULL);
    atomic_init(&p->ctx, NULL);
    atomic_init(&p->n, 0);
    atomic_init(&p->chunk, 1);
    atomic_init(&p->claim, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->generation, 0);
    atomic_init(&p->sleeping, 0);
    atomic_init(&p->in_run, false);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (threads > 1) {
        p->workers = calloc((size_t)threads - 1, sizeof *p->workers);
        p->ranges = aligned_alloc(_Alignof(range_slot), (size_t)threads * sizeof *p->ranges);
        if (p->ranges)
            for (int i = 0; i < threads; i++) atomic_init(&p->ranges[i].word, 0);
        if (!p->workers || !p->ranges) {
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
    free(p->ranges);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p);
}

int oc_pool_size(const oc_pool *p) { return p ? p->size : 1; }

/* The next loop's generation, its function and context written, its
 * finished count reset (before the generation is published). */
static unsigned begin_loop(oc_pool *p, oc_loop_fn fn, void *ctx)
{
    unsigned gen = atomic_load_explicit(&p->generation, memory_order_relaxed) + 1;
    atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    return gen;
}

/* Publishes generation gen (after its claim or range words): wakes workers. */
static void publish_loop(oc_pool *p, unsigned gen)
{
    atomic_store(&p->generation, gen);
    if (atomic_load(&p->sleeping) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
}

/* Only units a worker has taken are left: waits for them. */
static void wait_done(oc_pool *p, size_t units)
{
    for (int i = 0; atomic_load_explicit(&p->done, memory_order_acquire) != units; i++) {
        if (i < SPIN_LIMIT)
            CPU_RELAX();
        else
            sched_yield();
    }
}

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
    if (chunk < n / MAX_CHUNKS + 1) chunk = n / MAX_CHUNKS + 1;
    size_t chunks = n / chunk + (n % chunk != 0);
    unsigned gen = begin_loop(p, fn, ctx);
    atomic_store_explicit(&p->n, n, memory_order_relaxed);
    atomic_store_explicit(&p->chunk, chunk, memory_order_relaxed);
    atomic_store_explicit(&p->claim, CLAIM(gen, chunks, 0), memory_order_release);
    publish_loop(p, gen);
    run_chunks(p, gen, 0);
    wait_done(p, chunks);
}

void oc_parallel_for_affine(oc_pool *p, size_t n, oc_loop_fn fn, void *ctx)
{
    if (n == 0) return;
    if (!p || p->size <= 1 || n == 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    if (n > MAX_AFFINE_ITEMS) {
        oc_parallel_for(p, n, 1, fn, ctx);
        return;
    }
    unsigned gen = begin_loop(p, fn, ctx);
    size_t t = (size_t)p->size;
    for (size_t i = 0; i < t; i++)
        atomic_store_explicit(&p->ranges[i].word, RANGE(gen, i * n / t, (i + 1) * n / t),
                              memory_order_relaxed);
    /* No chunks for this generation: the claim word only invalidates the last loop's. */
    atomic_store_explicit(&p->claim, CLAIM(gen, 0, 0), memory_order_release);
    publish_loop(p, gen);
    run_ranges(p, gen, 0);
    wait_done(p, n);
}

void oc_pool_run_begin(oc_pool *p)
{
    if (p) atomic_store_explicit(&p->in_run, true, memory_order_relaxed);
}

void oc_pool_run_end(oc_pool *p)
{
    if (p) atomic_store_explicit(&p->in_run, false, memory_order_relaxed);
}
