/* A persistent pool of worker threads owned by a session. Kernels split
 * their work with oc_parallel_for; the calling thread takes part. While a run
 * is in progress (between oc_pool_run_begin and oc_pool_run_end) idle workers
 * spin briefly so that the many short parallel loops of a network start
 * without a wake-up each; outside a run they sleep on a condition variable. */
#ifndef OC_THREADPOOL_H
#define OC_THREADPOOL_H

#include <stddef.h>

#include "status.h"

typedef struct oc_pool oc_pool;

/* fn processes [begin, end) of a parallel loop on the thread with index
 * thread (0 = the caller, 1..size-1 = workers). */
typedef void (*oc_loop_fn)(void *ctx, size_t begin, size_t end, int thread);

/* A pool of threads threads in all (the caller counts as one); threads <= 0
 * means one per online CPU. A pool of one thread starts no worker. */
onnxc_status *oc_pool_create(int threads, oc_pool **out);
void oc_pool_free(oc_pool *pool);

/* Threads in the pool, the caller included; 1 for a NULL pool. */
int oc_pool_size(const oc_pool *pool);

/* Runs fn over [0, n) in chunks of at least grain (>= 1) items, on every
 * thread of the pool, and returns when all are done. A NULL pool, a pool of
 * one thread or n <= grain runs fn(ctx, 0, n, 0) on the caller. Not
 * reentrant: fn must not call oc_parallel_for on the same pool. */
void oc_parallel_for(oc_pool *pool, size_t n, size_t grain, oc_loop_fn fn, void *ctx);

/* Runs fn over [0, n) like oc_parallel_for, but with T > 1 threads an item
 * a call, thread t first taking the items [t n / T, (t + 1) n / T) in
 * order and then those still left of the others' (from their back); a
 * NULL pool, a pool of one thread or n == 1 runs fn(ctx, 0, n, 0). Loops whose item i
 * covers the same part of a tensor in consecutive layers (rows, tiles)
 * then keep each part on one thread, so a layer mostly reads what its
 * thread wrote in the one before: data crossing between threads costs up
 * to three times more when they run on different core complexes. Not
 * reentrant, like oc_parallel_for. */
void oc_parallel_for_affine(oc_pool *pool, size_t n, oc_loop_fn fn, void *ctx);

/* Bracket a run: workers spin between loops inside it, sleep outside. */
void oc_pool_run_begin(oc_pool *pool);
void oc_pool_run_end(oc_pool *pool);

/* The number of online CPUs (at least 1). */
int oc_cpu_count(void);

#endif
