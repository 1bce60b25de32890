/* The direct convolution's micro-kernel (see conv_direct.h), written once
 * against simd.h and compiled once per ISA.
 *
 * Register tile: MR output channels x nv vectors of consecutive plane
 * positions (nv <= NVMAX), the bias in the accumulators from the start; per
 * tap nv unaligned loads of a phase plane and MR broadcasts. Positions run
 * across plane rows: a row's last (kernel width - 1) / stride positions are
 * not outputs, and are computed and dropped, so a 55-wide output row costs
 * 57 lanes rather than 64 and tiles keep 3 vectors. Loads may run past the
 * block's last position (the driver leaves slack after the planes); stores
 * and the sum's loads are masked, per row. */
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

/* Where a vector of VL consecutive plane positions from q lands in y: its
 * lanes' runs of valid outputs, one per row it touches (positions past the
 * row's last output, or from end on, are not outputs). */
typedef struct lanes_map {
    int n;                      /* runs */
    int lane[VL], count[VL];    /* first lane, lanes */
    int64_t at[VL];             /* y offset (within a channel) of the first lane */
} lanes_map;

static OC_ALWAYS_INLINE bool map_vector(const oc_direct_job *j, int64_t q, int64_t end,
                                        lanes_map *m)
{
    int64_t cols = j->row_stride, oh = q / cols, c = q % cols;
    if (c + VL <= j->ow) { /* the common case: inside one row */
        m->n = 1, m->lane[0] = 0, m->count[0] = VL, m->at[0] = (oh - j->y_row0) * j->ow + c;
        return true;
    }
    m->n = 0;
    for (int lane = 0; lane < VL && q < end;) {
        int seg = cols - c < VL - lane ? (int)(cols - c) : VL - lane;
        if (c < j->ow) {
            int n = j->ow - c < seg ? (int)(j->ow - c) : seg;
            m->lane[m->n] = lane, m->count[m->n] = n, m->at[m->n] = (oh - j->y_row0) * j->ow + c;
            m->n++;
        }
        lane += seg, q += seg, oh++, c = 0;
    }
    return false;
}

/* Output channels k0 .. k0 + rows of nv vectors of consecutive plane
 * positions from q (end: the first position past the block's outputs). */
static OC_ALWAYS_INLINE void tile(const oc_direct_job *j, const float *x, const float *w,
                                  int64_t k0, int rows, int64_t q, const int nv, int64_t end)
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
    int64_t plane = j->y_plane;
    UNROLL
    for (int v = 0; v < nv; v++) {
        lanes_map m;
        bool whole = map_vector(j, q + v * VL, end, &m);
        UNROLL
        for (int i = 0; i < MR; i++) {
            if (i >= rows) break;
            float *yc = j->y + (k0 + i - j->y_k0) * plane;
            const float *sc = j->sum ? j->sum + (k0 + i - j->y_k0) * plane : NULL;
            oc_vf r = acc[i][v];
            if (whole) {
                if (sc) r = oc_vadd(r, oc_vloadu(sc + m.at[0]));
                oc_vstoreu(yc + m.at[0], oc_vmin(vhi, oc_vmax(vlo, r))); /* NaN stays NaN */
                continue;
            }
            /* Runs of the vector in different rows: each stored from its
             * own lanes, under a mask. */
            if (sc) {
                oc_vf s = oc_vzero();
                for (int k = 0; k < m.n; k++)
                    s = oc_vadd(s, oc_vloadu_lanes(sc + m.at[k], m.lane[k], m.count[k]));
                r = oc_vadd(r, s);
            }
            r = oc_vmin(vhi, oc_vmax(vlo, r));
            for (int k = 0; k < m.n; k++) oc_vstoreu_lanes(yc + m.at[k], r, m.lane[k], m.count[k]);
        }
    }
}

/* One instance per vector count, each with its accumulators in registers. */
#define TILE_N(NV)                                                                            \
    static OC_NOINLINE void tile_##NV(const oc_direct_job *j, const float *x, const float *w, \
                                      int64_t k0, int rows, int64_t q, int64_t end)           \
    {                                                                                         \
        tile(j, x, w, k0, rows, q, NV, end);                                                  \
    }
TILE_N(1)
TILE_N(2)
#if NVMAX >= 3
TILE_N(3)
#endif

static void tile_n(const oc_direct_job *j, const float *x, const float *w, int64_t k0, int rows,
                   int64_t q, int nv, int64_t end)
{
    switch (nv) {
#if NVMAX >= 3
    case 3: tile_3(j, x, w, k0, rows, q, end); break;
#endif
    case 2: tile_2(j, x, w, k0, rows, q, end); break;
    default: tile_1(j, x, w, k0, rows, q, end); break;
    }
}

/* Output rows [oh0, oh1) of the channel block from k0, as one run of plane
 * positions (rows of row_stride, the last ow of each outputs): tiles of
 * nearly equal vector counts (7 vectors: 3, 2, 2; not 3, 3, 1) cross row
 * ends, so narrow rows still fill whole tiles. */
static void block(const oc_direct_job *j, int64_t k0, int64_t oh0, int64_t oh1)
{
    int64_t first = oh0 * j->row_stride, end = (oh1 - 1) * j->row_stride + j->ow;
    int64_t vecs = (end - first + VL - 1) / VL, tiles = (vecs + NVMAX - 1) / NVMAX;
    int64_t base = vecs / tiles, extra = vecs % tiles;
    const float *w = j->w + k0 * j->ntaps; /* block k0 / MR: ntaps * MR floats */
    int rows = j->k - k0 < MR ? (int)(j->k - k0) : MR;
    int64_t q = first;
    for (int64_t t = 0; t < tiles; t++) {
        int nv = (int)(base + (t < extra));
        tile_n(j, j->phases + q, w, k0, rows, q, nv, end);
        q += (int64_t)nv * VL;
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
