/* The interface between the SGEMM driver (gemm.c: planning, threads,
 * workspace, packed operands) and the kernels it drives, which gemm_isa.c
 * defines once against simd.h and the build compiles once per ISA. Private
 * to src/kernels.
 *
 * Packed layouts (the same for per-call packing and for operands packed at
 * load by oc_gemm_pack_a/_b):
 *   A block (rows x kc of op(A)): ceil(rows / mr) panels of mr rows, panel
 *     after panel; a panel holds element (i, p) at [p * mr + i]; rows past
 *     the end are zero.
 *   B block (kc x cols of op(B)): panels of nr columns, panel after panel;
 *     the last panel is only round_up(cols % nr, vl) wide when cols % nr != 0;
 *     a panel of width w holds element (p, j) at [p * w + j]; columns past the
 *     end are zero. So a panel starts at column index * kc. */
#ifndef OC_KERNELS_GEMM_ISA_H
#define OC_KERNELS_GEMM_ISA_H

#include <stdbool.h>
#include <stddef.h>

/* Vectors (rows of the small operand) the small-product kernels take at once. */
#define OC_GEMM_SMALL_MAX 8

/* What a block kernel does with its results S (sums over one K slice):
 *   out = alpha * S [+ beta * X]   (X only when x != NULL)
 * then, with clamp, out = min(hi, max(lo, out)) (NaN stays NaN). X's element
 * (i, j) is x[i * x_rs + j * x_cs], x_cs 0 or 1; x points at the block's
 * origin. */
typedef struct oc_gemm_kep {
    float alpha, beta;
    const float *x;
    size_t x_rs, x_cs;
    bool clamp;
    float lo, hi;
} oc_gemm_kep;

/* A product with few vectors: out(v, r) = sum_p S(v, p) * W(p, r) for v in
 * [0, nv), r in a range, then the epilogue as above with X(v, r) at
 * x[v * x_vs + r * x_rs]; out(v, r) goes to c[v * c_vs + r * c_rs].
 * dot form:  W(p, r) = w[r * ldw + p] and S(v, p) = s[v * s_vs + p] (s_ps 1);
 * axpy form: W(p, r) = w[p * ldw + r] and S(v, p) = s[v * s_vs + p * s_ps]. */
typedef struct oc_gemm_small {
    size_t k;
    int nv;
    const float *w;
    size_t ldw;
    const float *s;
    size_t s_vs, s_ps;
    float *c;
    size_t c_vs, c_rs;
    float alpha, beta;
    const float *x;
    size_t x_vs, x_rs;
    bool clamp;
    float lo, hi;
} oc_gemm_small;

typedef struct oc_gemm_kernels {
    int isa;                 /* oc_isa */
    int vl, mr, nr;          /* floats a vector; the register tile is mr x nr */
    size_t kc, mc, nc;       /* cache blocking: K slice depth, rows and columns a block */
    /* Packs rows x kc of op(A) from a (pointing at its first element) into panels. */
    void (*pack_a)(bool trans, const float *a, size_t lda, size_t rows, size_t kc, float *out);
    /* Packs kc x cols of op(B) from b (pointing at its first element) into panels. */
    void (*pack_b)(bool trans, const float *b, size_t ldb, size_t kc, size_t cols, float *out);
    /* c (mc x nc, row distance ldc) = the epilogue of packed A block x packed B block. */
    void (*block)(size_t mc, size_t nc, size_t kc, const float *pa, const float *pb, float *c,
                  size_t ldc, const oc_gemm_kep *ep);
    /* The same with B not packed but read in place, element (p, j) of the
     * block at b[p * ldb + j]; nc a multiple of nr. */
    void (*block_in_place)(size_t mc, size_t nc, size_t kc, const float *pa, const float *b,
                           size_t ldb, float *c, size_t ldc, const oc_gemm_kep *ep);
    /* Rows r in [r0, r1) of a product with few vectors, in dot or axpy form. */
    void (*dot)(const oc_gemm_small *s, size_t r0, size_t r1);
    void (*axpy)(const oc_gemm_small *s, size_t r0, size_t r1);
} oc_gemm_kernels;

extern const oc_gemm_kernels oc_gemm_kernels_portable;
#ifdef OC_HAVE_AVX2
extern const oc_gemm_kernels oc_gemm_kernels_avx2;
#endif
#ifdef OC_HAVE_AVX512
extern const oc_gemm_kernels oc_gemm_kernels_avx512;
#endif

#endif
