/* Single-precision matrix multiplication.
 *
 *   C = act(alpha * op(A) * op(B) + beta * X)
 *
 * Row-major throughout: op(A) is m x k, op(B) is k x n, C is m x n; lda, ldb
 * and ldc are the distances between consecutive rows of A, B and C as
 * stored (so A is k x m with lda >= m when trans_a). X is C's own content
 * (BLAS) unless the epilogue names another matrix or a broadcast bias; as
 * in BLAS, beta == 0 does not read X at all, so NaN or garbage in C does not
 * leak into the result. act is nothing or a clamp to [lo, hi] (ReLU is
 * [0, +inf], Clip its [min, max]); NaN stays NaN.
 *
 * Three kernel sets, picked at run time by CPUID (see cpu.h): AVX-512
 * (8 x 48 register tile), AVX2 + FMA (6 x 16) and portable C (4 x 8), all
 * compiled from one source (gemm_isa.c against simd.h). Shapes:
 * - the general case packs panels of A and B (per call, or once at load for
 *   a constant operand, see oc_gemm_pack_a/_b) and runs register-blocked
 *   micro-kernels under L1/L2 cache blocking;
 * - m <= 8 or n <= 8 (a fully-connected layer on a few samples) packs
 *   nothing and streams the big operand once, in place: rows of W [N, K]
 *   (Gemm with transB, the PyTorch layout) as dot products, or rows of
 *   W [K, N] into an L1-resident block of outputs.
 * With a thread pool the work is split over blocks of C (columns first,
 * then rows); every thread packs into its own slot of the workspace.
 *
 * The functions are pure: they touch only C and the workspace, keep no
 * state, and may run concurrently on disjoint blocks of C, each caller with
 * its own workspace. */
#ifndef OC_KERNELS_GEMM_H
#define OC_KERNELS_GEMM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/threadpool.h"
#include "cpu.h"

/* ---- the epilogue ---- */

typedef struct oc_gemm_epilogue {
    float alpha;    /* scales op(A) op(B) */
    float beta;     /* scales X; 0 = X is not read */
    /* X: NULL = C itself (read before it is written), else element (i, j) is
     * x[i * x_rs + j * x_cs] with x_cs 0 or 1: a separate m x n matrix
     * (x_rs = its row distance, x_cs = 1), a bias per column (x_rs = 0,
     * x_cs = 1: x[j]), a bias per row (x_rs = 1, x_cs = 0: x[i], e.g. conv's
     * bias with C = W x cols), or a scalar (0, 0). */
    const float *x;
    size_t x_rs, x_cs;
    bool clamp;     /* then C = min(hi, max(lo, C)) */
    float lo, hi;
} oc_gemm_epilogue;

/* alpha 1, beta 0, no X, no clamp. */
oc_gemm_epilogue oc_gemm_epilogue_default(void);

/* ---- operands packed once ---- */

/* A constant operand in the micro-kernels' panel layout for one ISA (see
 * gemm_isa.h for the layout): A as m x k, or B as k x n (rows = n). */
typedef struct oc_gemm_packed {
    oc_isa isa;          /* the kernel set it was packed for */
    bool is_b;           /* packed as the right operand */
    size_t rows, k;      /* m (A) or n (B), and the depth */
    size_t depth;        /* the K slice depth it was packed with */
    const float *data;   /* the panels, in the caller's buffer */
} oc_gemm_packed;

/* Bytes of the buffer oc_gemm_pack_a/_b fill for these sizes with that ISA
 * (OC_ISA_AUTO: the best); SIZE_MAX on overflow. */
size_t oc_gemm_pack_a_size(oc_isa isa, size_t m, size_t k);
size_t oc_gemm_pack_b_size(oc_isa isa, size_t n, size_t k);

/* Packs op(A) (m x k) or op(B) (k x n) into dst (oc_gemm_pack_*_size bytes,
 * any alignment, OC_ALIGN preferred) and describes it in *out, which then
 * refers to dst. Done once (e.g. at model load) for weights used by many
 * products: conv weights W [Cout, Cin*kh*kw] as A, Gemm/MatMul weights as B. */
void oc_gemm_pack_a(oc_isa isa, bool trans_a, size_t m, size_t k, const float *a, size_t lda,
                    float *dst, oc_gemm_packed *out);
void oc_gemm_pack_b(oc_isa isa, bool trans_b, size_t k, size_t n, const float *b, size_t ldb,
                    float *dst, oc_gemm_packed *out);

/* Called by oc_gemm_pack_b_consuming with each piece of b it has finished
 * reading: bytes from src, a contiguous run of whole rows of b as stored. */
typedef void (*oc_gemm_consumed_fn)(void *ctx, const void *src, size_t bytes);

/* oc_gemm_pack_b reading b one contiguous piece at a time (panels of
 * columns of op(B) when trans_b, K slices otherwise) and reporting each
 * piece once packed, so that a caller can give the memory of a big
 * constant back while it is packed (peak memory: the packed copy plus one
 * piece, not two copies). consumed may be NULL. */
void oc_gemm_pack_b_consuming(oc_isa isa, bool trans_b, size_t k, size_t n, const float *b,
                              size_t ldb, float *dst, oc_gemm_packed *out,
                              oc_gemm_consumed_fn consumed, void *ctx);

/* Where a B packed for (isa, k, n) keeps element (p, j) of op(B), so that a
 * producer (im2col) can write its columns straight into the panels instead
 * of a row-major matrix that oc_gemm would pack again:
 *   slice start pc = p / depth * depth, slice depth kc = min(depth, k - pc),
 *   panel q = j / nr, its width w = nr, or round_up(n - q * nr, vl) for a
 *   last partial panel (columns past n are zero: the producer writes them),
 *   offset = pc * npad + q * nr * kc + (p - pc) * w + j % nr.
 * Each run of a row p within one panel (up to nr columns) is contiguous. */
typedef struct oc_gemm_b_layout {
    oc_isa isa;
    size_t k, n, depth, nr, vl, npad;
} oc_gemm_b_layout;

oc_gemm_b_layout oc_gemm_b_layout_of(oc_isa isa, size_t k, size_t n);

static inline size_t oc_gemm_b_offset(const oc_gemm_b_layout *l, size_t p, size_t j)
{
    size_t pc = p / l->depth * l->depth, kc = l->k - pc < l->depth ? l->k - pc : l->depth;
    size_t q = j / l->nr, first = q * l->nr;
    size_t w = l->n - first >= l->nr ? l->nr : (l->n - first + l->vl - 1) / l->vl * l->vl;
    return pc * l->npad + first * kc + (p - pc) * w + (j - first);
}

/* The descriptor of a B a producer filled by that layout in dst
 * (oc_gemm_pack_b_size(l->isa, n, k) bytes). */
oc_gemm_packed oc_gemm_packed_b_of(const oc_gemm_b_layout *l, const float *dst);

/* ---- the product ---- */

typedef struct oc_gemm_desc {
    size_t m, n, k;
    /* A: packed_a (k and rows must match), or a with trans_a / lda, or both
     * (then the few-vector path, which reads A in place, may use a). The
     * same for B. */
    bool trans_a, trans_b;
    const float *a, *b;
    size_t lda, ldb;
    const oc_gemm_packed *packed_a, *packed_b;
    float *c;
    size_t ldc;
    oc_gemm_epilogue ep;
    /* OC_ISA_AUTO, or a kernel set to force (tests, benchmarks; an
     * unsupported one falls back to the best below it). A packed operand's
     * ISA wins. */
    oc_isa isa;
} oc_gemm_desc;

/* A descriptor for C = op(A) op(B): alpha 1, beta 0, no packed operands, OC_ISA_AUTO. */
oc_gemm_desc oc_gemm_desc_make(bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                               const float *a, size_t lda, const float *b, size_t ldb, float *c,
                               size_t ldc);

/* Bytes of scratch oc_gemm needs for an m x n x k product on up to threads
 * threads (OC_ALIGN-aligned memory preferred); SIZE_MAX when that
 * overflows. It covers every ISA and never decreases as m, n, k or threads
 * grow, so scratch sized for a matrix serves any block of it.
 *
 * Layout: [shared area: the few-vector path's gathered vectors, <= 8 * k
 * floats] [slot 0] [slot 1] ... one slot per thread (the pool's thread
 * index), each [packed B block (<= KC x NC floats) | packed A block
 * (<= MC x KC floats)], then with threads one more area per thread (all
 * of B packed, for units that split the rows, and a flag per column
 * range), every part 64-byte aligned. */
size_t oc_gemm_workspace(size_t m, size_t n, size_t k, int threads);

/* Runs the product, split over pool's threads (NULL: the caller only) when
 * it is big enough and workspace_size holds a slot for each of them
 * (otherwise on the caller alone). pool must not be running another
 * oc_parallel_for (call oc_gemm with pool = NULL from inside one). */
void oc_gemm(const oc_gemm_desc *desc, oc_pool *pool, void *workspace, size_t workspace_size);

/* c (m x n, row stride ldc) = a x b, both packed for one kernel set with
 * the same depth (a: m rows, b: nb >= n columns), on the caller's thread,
 * no scratch: the many small products of a Winograd convolution (48 x 16
 * over 64 channels, 36 a tile block), where oc_gemm's planning cost a fifth
 * of each. Where b's panel holding column n - 1 is wider than n needs,
 * columns past n up to that panel's end (at most nb) are written too. */
void oc_gemm_packed_product(const oc_gemm_packed *a, const oc_gemm_packed *b, size_t m,
                            size_t n, float *c, size_t ldc);

/* ---- the classic interface ---- */

/* Bytes of scratch oc_sgemm needs: oc_gemm_workspace(m, n, k, 1). */
size_t oc_sgemm_workspace(size_t m, size_t n, size_t k);

/* C = alpha * op(A) * op(B) + beta * C on the calling thread, best ISA.
 * workspace holds at least oc_sgemm_workspace(m, n, k) bytes. */
void oc_sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
              size_t ldc, void *workspace);

/* The reference: the textbook triple loop (accumulating in double). */
void oc_sgemm_ref(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                  const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                  size_t ldc);

/* The reference with the whole epilogue (X, clamp), for tests. */
void oc_gemm_ref(const oc_gemm_desc *desc);

#endif
