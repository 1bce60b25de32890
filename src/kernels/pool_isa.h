/* The plane kernels of separable 2-D pooling (pool.c), written once in
 * plain C and compiled once per ISA (pool_isa.c, see simd.h): the compiler
 * vectorizes them at each ISA's width. Private to src/kernels. */
#ifndef OC_KERNELS_POOL_ISA_H
#define OC_KERNELS_POOL_ISA_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "pool.h"

/* The widest padded row (and most output rows) separable pooling takes. */
#define OC_POOL_SEP_MAX 2048

/* 2-D pooling without dilation, described for the plane kernels. Output
 * row oh reduces input rows [row_lo[oh], row_hi[oh]) (at least one); the
 * reduced row is then read padded: entry i is column i - pad_w, -inf (max)
 * or 0 (sum) outside [0, in_w), over span entries; output ow reduces
 * entries [ow * stride_w, ow * stride_w + kernel_w). The average divides
 * output (oh, ow) by row_count[oh] * col_count[ow]. */
typedef struct oc_pool_sep {
    int64_t in_h, in_w, out_h, out_w;
    int64_t stride_w, kernel_w, pad_w, span;
    const int32_t *row_lo, *row_hi;
    const float *row_count, *col_count; /* average only */
} oc_pool_sep;

typedef struct oc_pool_plane_kernels {
    /* Planes [p0, p1) of x (in_h x in_w each) into y (out_h x out_w each).
     * The maximum keeps a NaN. */
    void (*max)(const oc_pool_sep *s, const float *x, float *y, int64_t p0, int64_t p1);
    void (*avg)(const oc_pool_sep *s, const float *x, float *y, int64_t p0, int64_t p1);
} oc_pool_plane_kernels;

extern const oc_pool_plane_kernels oc_pool_plane_kernels_portable;
#ifdef OC_HAVE_AVX2
extern const oc_pool_plane_kernels oc_pool_plane_kernels_avx2;
#endif
#ifdef OC_HAVE_AVX512
extern const oc_pool_plane_kernels oc_pool_plane_kernels_avx512;
#endif

/* The kernels of isa (OC_ISA_AUTO: the best this CPU runs). */
const oc_pool_plane_kernels *oc_pool_plane_kernels_for(oc_isa isa);

/* The padded row every window of dw reads: [-pad_begin, span - pad_begin). */
static inline int64_t oc_pool_padded_span(const oc_window_dim *dw)
{
    return (dw->out - 1) * dw->stride + dw->kernel;
}

/* Whether the plane kernels compute g: 2-D (unit depth), no dilation,
 * padded rows short enough (see pool.c). */
bool oc_pool_separable(const oc_pool_geom *g);

#endif
