/* The interface between the Winograd driver (winograd.c: plan, threads,
 * GEMMs) and its transforms (winograd_isa.c, written once against simd.h and
 * compiled once per ISA). Private to src/kernels.
 *
 * The transforms work on groups of OC_WINO_LANES consecutive tiles at once,
 * one tile a vector lane (OC_WINO_LANES / OC_VL vectors a group); tiles are
 * numbered over all images: tile t is (image t / tiles_img, tile row
 * t % tiles_img / tw, tile column t % tw). */
#ifndef OC_KERNELS_WINOGRAD_ISA_H
#define OC_KERNELS_WINOGRAD_ISA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"
#include "gemm.h"

#define OC_WINO_LANES 16
/* A sub-block's last vector of at most this many tiles is multiplied tile
 * by tile (dot products), not as a whole vector. */
#define OC_WINO_NARROW 4

typedef struct oc_wino_plan {
    int m, a, p;                   /* tile, alpha = m + 2, positions alpha^2 */
    int64_t c, k;                  /* channels in, out */
    /* A kernel bigger than 3x3 is split into subs_h x subs_w 3x3 pieces
     * (zero-padded), piece (i, j) reading the input shifted by (3i, 3j):
     * virtual input channel vc = piece * c + channel, cv of them. */
    int subs_h, subs_w;
    int64_t cv;
    int64_t h, w, ho, wo;          /* input and output extents */
    int64_t pad_t, pad_l;
    int64_t th, tw, tiles_img;     /* tile rows, columns, per image */
    int64_t tiles;                 /* of all images */
    int64_t tb;                    /* tiles per phase-2 unit (multiple of OC_WINO_LANES) */
    int64_t kb_max;                /* output channels per phase-2 unit, at most */
    int64_t sb;                    /* tiles per super-block (multiple of OC_WINO_LANES) */
    /* local: each thread takes whole super-blocks (kept in its L2); else
     * the threads share the units of each super-block. Either way each
     * thread transforms the input it multiplies into its own V. */
    bool local;
    size_t v_blk;                  /* floats of one block of V (see oc_wino_v) */
    size_t v_bytes;                /* V of a super-block: blocks [sb / tb][p] */
    size_t m_bytes;                /* per thread: M [p][kb_max][tb] */
    size_t slot_bytes;             /* per thread: M, V */
} oc_wino_plan;

/* The transformed input V of a super-block of count tiles: sub-blocks of
 * sub_w tiles (a multiple of OC_WINO_LANES; the last one may be narrower),
 * and for sub-block s and position xi one block of v_blk floats at
 * v + (s * p + xi) * v_blk, holding the cv x n_s matrix (virtual channel
 * by tile, n_s the sub-block's tiles rounded up to OC_WINO_LANES) in the
 * layout of the GEMM's packed B for kernel set isa: the products read it
 * as it is, packing nothing. */
typedef struct oc_wino_v {
    float *v;
    int64_t count, sub_w;
    size_t v_blk;
    oc_isa isa;
} oc_wino_v;

/* Sub-blocks of equal width (a multiple of OC_WINO_LANES, at most tb) for
 * count tiles, not a full one and a sliver. */
static inline int64_t oc_wino_sub_width(int64_t count, int64_t tb)
{
    int64_t subs = (count + tb - 1) / tb, w = (count + subs - 1) / subs;
    w = (w + OC_WINO_LANES - 1) / OC_WINO_LANES * OC_WINO_LANES;
    return w < tb ? w : tb;
}

/* The tiles of sub-block s. */
static inline int64_t oc_wino_sub_count(const oc_wino_v *v, int64_t s)
{
    int64_t n = v->count - s * v->sub_w;
    return n < v->sub_w ? n : v->sub_w;
}

/* The tiles of sub-block s (rounded up to OC_WINO_LANES): its V's width. */
static inline int64_t oc_wino_sub_tiles(const oc_wino_v *v, int64_t s)
{
    return (oc_wino_sub_count(v, s) + OC_WINO_LANES - 1) / OC_WINO_LANES * OC_WINO_LANES;
}

/* The packed-B layout of sub-block s's blocks, and the block of (s, xi). */
static inline oc_gemm_b_layout oc_wino_sub_layout(const oc_wino_plan *p, const oc_wino_v *v,
                                                  int64_t s)
{
    return oc_gemm_b_layout_of(v->isa, (size_t)p->cv, (size_t)oc_wino_sub_tiles(v, s));
}
static inline float *oc_wino_block(const oc_wino_plan *p, const oc_wino_v *v, int64_t s, int xi)
{
    return v->v + ((size_t)s * (size_t)p->p + (size_t)xi) * v->v_blk;
}

/* Input transform: for tiles t in [first, first + v->count) and virtual
 * channels vc in [c0, c1), element (vc, t - first) of V's blocks of every
 * position xi = (B^T d B)[xi], d the tile's alpha x alpha window of the
 * channel (shifted by the piece's offset; zero outside the image). Tiles
 * past the end up to a multiple of OC_WINO_LANES repeat the last one. */
typedef void (*oc_wino_input_fn)(const oc_wino_plan *p, const float *x, int64_t first,
                                 const oc_wino_v *v, int64_t c0, int64_t c1);

/* Output transform: for output channels k in [k0, k0 + kcount) and tiles t
 * in [first, first + count), the products are
 * mm[xi * xstride + (k - k0) * ldk + (t - first)]; y gets A^T M A + bias[k]
 * (+ the same element of sum, laid out like y, when not NULL) clamped to
 * [lo, hi] (min(max(., lo), hi), NaN stays), clipped to the output extent.
 * ldk is a multiple of OC_WINO_LANES, and each row has room for count
 * rounded up to it (the extra lanes are read, not used). */
typedef void (*oc_wino_output_fn)(const oc_wino_plan *p, const float *mm, int64_t xstride,
                                  int64_t ldk, int64_t first, int64_t count, int64_t k0,
                                  int64_t kcount, const float *bias, const float *sum, float lo,
                                  float hi, float *y);

/* The products of a unit, for few input channels (one K slice in V's
 * blocks): for xi < p, k < kn and t < the tiles of sub-block s,
 * mm[xi * xstride + k * ldk + t] = sum_vc u[(xi * p->k + k0 + k) * cv + vc]
 * * V(s, xi)[vc][t]. */
typedef void (*oc_wino_multiply_fn)(const oc_wino_plan *p, const float *u, int64_t k0,
                                    int64_t kn, const oc_wino_v *v, int64_t s, float *mm,
                                    int64_t xstride, int64_t ldk);

/* The weight transform: u[xi][k][vc] = (G g G^T)[xi] of every kernel of w
 * [k][c][kh][kw] split into 3x3 pieces (vc = piece * c + channel), in
 * double; g is G (a x 3) and tmp holds (9 + 3 a) * cv doubles. */
typedef void (*oc_wino_weights_fn)(int a, int64_t k, int64_t c, int64_t kh, int64_t kw,
                                   const double *g, const float *w, float *u, double *tmp);

#define OC_WINO_DECLARE(suffix)                                                               \
    void oc_wino_input_##suffix(const oc_wino_plan *p, const float *x, int64_t first,         \
                                const oc_wino_v *v, int64_t c0, int64_t c1);                  \
    void oc_wino_output_##suffix(const oc_wino_plan *p, const float *mm, int64_t xstride,     \
                                 int64_t ldk, int64_t first, int64_t count, int64_t k0,       \
                                 int64_t kcount, const float *bias, const float *sum,         \
                                 float lo, float hi, float *y);                               \
    void oc_wino_multiply_##suffix(const oc_wino_plan *p, const float *u, int64_t k0,         \
                                   int64_t kn, const oc_wino_v *v, int64_t s, float *mm,      \
                                   int64_t xstride, int64_t ldk);                             \
    void oc_wino_weights_##suffix(int a, int64_t k, int64_t c, int64_t kh, int64_t kw,        \
                                  const double *g, const float *w, float *u, double *tmp);

OC_WINO_DECLARE(portable)
#ifdef OC_HAVE_AVX2
OC_WINO_DECLARE(avx2)
#endif
#ifdef OC_HAVE_AVX512
OC_WINO_DECLARE(avx512)
#endif

#endif
