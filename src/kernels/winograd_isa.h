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

#define OC_WINO_LANES 16

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
    /* local: each thread takes whole super-blocks, V in its own slot (kept
     * in its L2); else the threads share each super-block's V. */
    bool local;
    size_t v_bytes;                /* V [cv][p][sb] */
    size_t m_bytes, gemm_bytes;    /* per thread: M [p][kb_max][tb], SGEMM scratch */
    size_t slot_bytes;             /* per thread: (V if local) M, SGEMM scratch */
} oc_wino_plan;

/* Input transform: v[(vc * p + xi) * ldv + (t - first)] = (B^T d B)[xi]
 * for tiles t in [first, first + count) and virtual channels vc in
 * [c0, c1), d the tile's alpha x alpha window of the channel (shifted by
 * the piece's offset; zero outside the image). ldv is a
 * multiple of OC_WINO_LANES, and v has room for count rounded up to it. */
typedef void (*oc_wino_input_fn)(const oc_wino_plan *p, const float *x, int64_t first,
                                 int64_t count, int64_t c0, int64_t c1, float *v, int64_t ldv);

/* Output transform: for output channels k in [k0, k0 + kcount) and tiles t
 * in [first, first + count), the products are
 * mm[xi * xstride + (k - k0) * ldk + (t - first)]; y gets A^T M A + bias[k]
 * clamped to [lo, hi] (min(max(., lo), hi), NaN stays), clipped to the
 * output extent. ldk is a multiple of OC_WINO_LANES, and each row has room
 * for count rounded up to it (the extra lanes are read, not used). */
typedef void (*oc_wino_output_fn)(const oc_wino_plan *p, const float *mm, int64_t xstride,
                                  int64_t ldk, int64_t first, int64_t count, int64_t k0,
                                  int64_t kcount, const float *bias, float lo, float hi, float *y);

/* The products of a unit, for few input channels: for xi < p, k < kn and t
 * < tn (a multiple of OC_WINO_LANES), mm[xi * xstride + k * ldk + t] =
 * sum_vc u[(xi * p->k + k0 + k) * cv + vc] * v[(vc * p + xi) * ldv + t]. */
typedef void (*oc_wino_multiply_fn)(const oc_wino_plan *p, const float *u, int64_t k0,
                                    int64_t kn, const float *v, int64_t ldv, int64_t tn,
                                    float *mm, int64_t xstride, int64_t ldk);

#define OC_WINO_DECLARE(suffix)                                                               \
    void oc_wino_input_##suffix(const oc_wino_plan *p, const float *x, int64_t first,         \
                                int64_t count, int64_t c0, int64_t c1, float *v, int64_t ldv); \
    void oc_wino_output_##suffix(const oc_wino_plan *p, const float *mm, int64_t xstride,     \
                                 int64_t ldk, int64_t first, int64_t count, int64_t k0,       \
                                 int64_t kcount, const float *bias, float lo, float hi,       \
                                 float *y);                                                   \
    void oc_wino_multiply_##suffix(const oc_wino_plan *p, const float *u, int64_t k0,         \
                                   int64_t kn, const float *v, int64_t ldv, int64_t tn,       \
                                   float *mm, int64_t xstride, int64_t ldk);

OC_WINO_DECLARE(portable)
#ifdef OC_HAVE_AVX2
OC_WINO_DECLARE(avx2)
#endif
#ifdef OC_HAVE_AVX512
OC_WINO_DECLARE(avx512)
#endif

#endif
