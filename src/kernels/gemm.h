/* Single-precision matrix multiplication.
 *
 *   C = alpha * op(A) * op(B) + beta * C
 *
 * Row-major throughout: op(A) is m x k, op(B) is k x n, C is m x n; lda, ldb
 * and ldc are the distances between consecutive rows of A, B and C as
 * stored (so A is k x m with lda >= m when trans_a). As in BLAS, beta == 0
 * overwrites C without reading it, so NaN or garbage in C does not leak into
 * the result.
 *
 * The functions are pure: they touch only C and the workspace, keep no
 * state, and may run concurrently on disjoint blocks of C (a thread pool
 * splits a product by calling them on sub-matrices, each with its own
 * workspace). */
#ifndef OC_KERNELS_GEMM_H
#define OC_KERNELS_GEMM_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of scratch oc_sgemm needs for these sizes (OC_ALIGN-aligned memory);
 * SIZE_MAX when that overflows. It never decreases as m or n grow, so scratch
 * sized for a matrix serves any block of it. */
size_t oc_sgemm_workspace(size_t m, size_t n, size_t k);

/* The fast version: packed panels and a register-blocked micro-kernel; a
 * matrix-vector path when m == 1 or n == 1. workspace holds at least
 * oc_sgemm_workspace(m, n, k) bytes. */
void oc_sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
              size_t ldc, void *workspace);

/* The reference: the textbook triple loop (accumulating in double). */
void oc_sgemm_ref(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                  const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                  size_t ldc);

#endif
