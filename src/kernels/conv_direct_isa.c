/* The direct convolution's micro-kernel (see conv_direct.h), written once
 * against simd.h and compiled once per ISA.
 *
 * Register tile: MR output channels x nv vectors of consecutive outputs of
 * one row (nv <= NVMAX), the bias in the accumulators from the start; per
 * tap nv unaligned loads of a phase-plane row and MR broadcasts. A row of
 * outputs is cut into tiles of nearly equal vector counts (7 vectors: 3, 2,
 * 2; not 3, 3, 1), so no tile is left with one vector and a poor ratio of
 * FMAs to loads. Loads may run past the row's last output into the plane
 * row's padding (the driver sizes rows for whole vectors); stores and the
 * sum's loads are masked. */
#include <stdint.h>
#include <string.h>

#include "conv_direct.h"
#include "simd.h"

/* AVX-512: 8 x 3 (24 of 32 registers), like the SGEMM tile. AVX2: 6 x 2 (12
 * of 16). Portable: 4 x 2. */
#if OC_SIMD_ISA == 2
#define MR 8
#define NVMAX 3
#elif OC_SIMD_ISA == 1
#define MR 6
#define NVMAX 2
#else
#define MR 4
#define NVMAX 2
#endif
#define VL OC_VL

#define UNROLL OC_UNROLL

static OC_ALWAYS_INLINE void tile(const oc_direct_job *j, const float *x, const float *w,
                                  int64_t k0, int rows, int64_t o, const int nv, int tail)
{
    oc_vf acc[MR][NVMAX];
    float bias[MR];
    UNROLL
    for (int i = 0; i < MR; i++) bias[i] = j->bias && i < rows ? j->bias[k0 + i] : 0.0f;
    UNROLL
    for (int i = 0; i < MR; i++) {
        UNROLL
        for (int v = 0; v < nv; v++) acc[i][v] = oc_vbcast(bias + i);
    }
    const int64_t *taps = j->taps;
    for (int64_t t = 0, n = j->ntaps; t < n; t++, w += MR) {
        const float *xp = x + taps[t];
        oc_vf xv[NVMAX];
        UNROLL
        for (int v = 0; v < nv; v++) xv[v] = oc_vloadu(xp + v * VL);
        UNROLL
        for (int i = 0; i < MR; i++) {
            oc_vf b = oc_vbcast(w + i);
            UNROLL
            for (int v = 0; v < nv; v++) acc[i][v] = oc_vfma(b, xv[v], acc[i][v]);
        }
    }
    oc_vf vlo = oc_vset1(j->lo), vhi = oc_vset1(j->hi);
    int64_t plane = j->oh * j->ow;
    UNROLL
    for (int i = 0; i < MR; i++) {
        if (i >= rows) break;
        float *yr = j->y + (k0 + i) * plane + o;
        const float *sr = j->sum ? j->sum + (k0 + i) * plane + o : NULL;
        UNROLL
        for (int v = 0; v < nv; v++) {
            int n = v == nv - 1 ? tail : VL;
            oc_vf r = acc[i][v];
            if (sr) r = oc_vadd(r, oc_vloadu_n(sr + v * VL, n));
            r = oc_vmin(vhi, oc_vmax(vlo, r)); /* NaN stays NaN */
            if (n == VL)
                oc_vstoreu(yr + v * VL, r);
            else
                oc_vstoreu_n(yr + v * VL, r, n);
        }
    }
}

/* One instance per vector count, each with its accumulators in registers. */
#define TILE_N(NV)                                                                            \
    static OC_NOINLINE void tile_##NV(const oc_direct_job *j, const float *x, const float *w, \
                                      int64_t k0, int rows, int64_t o, int tail)              \
    {                                                                                         \
        tile(j, x, w, k0, rows, o, NV, tail);                                                 \
    }
TILE_N(1)
TILE_N(2)
#if NVMAX >= 3
TILE_N(3)
#endif

static void tile_n(const oc_direct_job *j, const float *x, const float *w, int64_t k0, int rows,
                   int64_t o, int nv, int tail)
{
    switch (nv) {
#if NVMAX >= 3
    case 3: tile_3(j, x, w, k0, rows, o, tail); break;
#endif
    case 2: tile_2(j, x, w, k0, rows, o, tail); break;
    default: tile_1(j, x, w, k0, rows, o, tail); break;
    }
}

/* Output rows [oh0, oh1) of the channel block from k0. */
static void block(const oc_direct_job *j, int64_t k0, int64_t oh0, int64_t oh1)
{
    int64_t vecs = (j->ow + VL - 1) / VL, tiles = (vecs + NVMAX - 1) / NVMAX;
    int64_t base = vecs / tiles, extra = vecs % tiles;
    const float *w = j->w + k0 * j->ntaps; /* block k0 / MR: ntaps * MR floats */
    int rows = j->k - k0 < MR ? (int)(j->k - k0) : MR;
    for (int64_t oh = oh0; oh < oh1; oh++) {
        int64_t ow = 0;
        for (int64_t t = 0; t < tiles; t++) {
            int nv = (int)(base + (t < extra));
            int64_t left = j->ow - ow;
            int tail = left >= (int64_t)nv * VL ? VL : (int)(left - (int64_t)(nv - 1) * VL);
            tile_n(j, j->phases + oh * j->row_stride + ow, w, k0, rows, oh * j->ow + ow, nv,
                   tail);
            ow += (int64_t)nv * VL;
        }
    }
}

/* Columns [x0, x1) of phase row v, bounds checked (the row's edges). */
static void split_edge(const float *src, int64_t in_w, int64_t pad, int sw, int v, int64_t x0,
                       int64_t x1, float *dst)
{
    for (int64_t xx = x0; xx < x1; xx++) {
        int64_t ix = sw * xx + v - pad;
        dst[xx] = ix >= 0 && ix < in_w ? src[ix] : 0.0f;
    }
}

/* The interior, where every phase's column lies inside the row: one pass
 * over the source, constant strides so that the compiler vectorizes the
 * de-interleave. */
#define SPLIT_INTERIOR(SW)                                                                    \
    static void split_##SW(const float *restrict s, int64_t x0, int64_t x1, float *restrict d, \
                           int64_t stride)                                                    \
    {                                                                                         \
        for (int64_t xx = 0; xx < x1 - x0; xx++)                                              \
            for (int v = 0; v < SW; v++) d[v * stride + x0 + xx] = s[SW * xx + v];            \
    }
SPLIT_INTERIOR(2)
SPLIT_INTERIOR(3)
SPLIT_INTERIOR(4)

static void split(const float *src, int64_t in_w, int64_t pad, int sw, int64_t cols, float *dst,
                  int64_t stride)
{
    /* Every phase inside the row: sw X - pad >= 0 and sw X + sw - 1 - pad < in_w. */
    int64_t x0 = (pad + sw - 1) / sw, x1 = in_w + pad >= sw ? (in_w + pad - sw) / sw + 1 : 0;
    if (x0 > cols) x0 = cols;
    if (x1 > cols) x1 = cols;
    if (x1 < x0) x1 = x0;
    for (int v = 0; v < sw; v++) {
        split_edge(src, in_w, pad, sw, v, 0, x0, dst + v * stride);
        split_edge(src, in_w, pad, sw, v, x1, cols, dst + v * stride);
    }
    if (x1 == x0) return;
    const float *s = src + sw * x0 - pad;
    switch (sw) { /* s: the source of column x0 of phase 0 */
    case 2: split_2(s, x0, x1, dst, stride); break;
    case 3: split_3(s, x0, x1, dst, stride); break;
    case 4: split_4(s, x0, x1, dst, stride); break;
    default: memcpy(dst + x0, s, (size_t)(x1 - x0) * sizeof *dst); break;
    }
}

const oc_direct_kernels OC_ISA_SYM(oc_direct_kernels) = {MR, VL, block, split};
