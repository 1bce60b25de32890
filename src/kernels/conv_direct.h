/* Direct convolution on phase planes: for convs with few input channels
 * (a network's stem: 7x7 stride 2 over RGB), where im2col + SGEMM spends
 * more time copying the columns (twice: im2col, then the GEMM's packing)
 * than multiplying, and Winograd does not apply.
 *
 * The input of one image is split into phase planes, one per input channel
 * and stride phase (u, v): P[c][u][v][Y][X] = x[c][sh Y + u - pad_top]
 * [sw X + v - pad_left] (zero outside x). Tap (c, kh, kw) of output (oh, ow)
 * then reads P[c][rh % sh][rw % sw][oh + rh / sh][ow + rw / sw] with rh =
 * kh dil_h, rw = kw dil_w: for a row of consecutive outputs, consecutive
 * floats of one plane row. The micro-kernel keeps MR output channels x NV
 * vectors of outputs in registers and, per tap, loads NV vectors of the
 * plane and broadcasts MR weights (packed [channel block][tap][MR] at
 * load): the FMA-to-load ratio of the SGEMM micro-kernel without any
 * packing of the input. Private to src/kernels. */
#ifndef OC_KERNELS_CONV_DIRECT_H
#define OC_KERNELS_CONV_DIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conv.h"
#include "cpu.h"
#include "pool.h"

/* One image's work, as the per-ISA row function sees it. */
typedef struct oc_direct_job {
    const float *phases;  /* the phase planes */
    const int64_t *taps;  /* ntaps offsets into phases, from output (0, 0) */
    int64_t ntaps;
    int64_t row_stride;   /* floats of a plane row */
    const float *w;       /* packed: [ceil(k / MR)][ntaps][MR], zero past k */
    const float *bias;    /* [k] or NULL */
    const float *sum;     /* laid out like y, or NULL */
    float *y;             /* output (k, oh, ow) at y[(k - y_k0) y_plane + (oh - y_row0) ow + ow] */
    int64_t y_k0, y_row0, y_plane; /* the whole output: 0, 0, oh ow; a fused pool's rows: less */
    int64_t k, oh, ow;
    float lo, hi;         /* y = min(max(acc + bias + sum, lo), hi) */
} oc_direct_job;

/* Computes output rows [oh0, oh1) of the MR output channels from k0 (a
 * multiple of MR). */
typedef void (*oc_direct_block_fn)(const oc_direct_job *j, int64_t k0, int64_t oh0, int64_t oh1);

/* One input row src (in_w floats) into the sw phase rows dst + v * stride
 * (v < sw, cols floats each): dst_v[X] = src[sw X + v - pad], zero where
 * that falls outside the row. */
typedef void (*oc_direct_split_fn)(const float *src, int64_t in_w, int64_t pad, int sw,
                                   int64_t cols, float *dst, int64_t stride);

typedef struct oc_direct_kernels {
    int mr;  /* output channels a block */
    int vl;  /* floats a vector */
    oc_direct_block_fn block;
    oc_direct_split_fn split;
} oc_direct_kernels;

/* The kernels of isa (OC_ISA_AUTO: the best this CPU runs). */
const oc_direct_kernels *oc_direct_kernels_for(oc_isa isa);

/* Whether the direct method computes g (2-D, one group, not pointwise nor
 * depthwise, strides up to 4) and pays for it there: rows wide enough to
 * fill the vectors, and few enough taps that the weights of a channel
 * block stay in L1/L2. */
bool oc_conv_direct_applies(const oc_conv_geom *g);

/* Floats of the packed weights for g with isa's kernels; SIZE_MAX on
 * overflow. */
size_t oc_conv_direct_packed_count(oc_isa isa, const oc_conv_geom *g);

/* Packs w ([out_channels][in_channels][kH][kW]) for isa's kernels. */
void oc_conv_direct_pack(oc_isa isa, const oc_conv_geom *g, const float *w, float *packed);

/* Scratch bytes on threads threads (the pool's threads must not exceed
 * them): the tap offsets and each thread's own phase planes (it fills the
 * rows it reads itself); false on overflow. */
bool oc_conv_direct_workspace(const oc_conv_geom *g, oc_isa isa, int threads, size_t *bytes);

/* y = min(max(conv(x, w) + bias + sum, lo), hi) with the weights packed by
 * oc_conv_direct_pack for isa; workspace as oc_conv_direct_workspace. */
void oc_conv_direct(const oc_conv_geom *g, oc_isa isa, const float *packed, const float *x,
                    const float *bias, const float *sum, float lo, float hi, float *y,
                    void *workspace, oc_pool *pool);

/* Max pooling pg fused after the convolution: pg pools g's output (its
 * input extents are g's output extents), 2-D, without dilation, as the
 * separable plane kernels compute it (oc_pool_separable). */
bool oc_conv_direct_pool_fits(const oc_conv_geom *g, const oc_pool_geom *pg);

/* Scratch bytes for oc_conv_direct_pool on threads threads (the pool's
 * threads must not exceed them); false on overflow. */
bool oc_conv_direct_pool_workspace(const oc_conv_geom *g, const oc_pool_geom *pg, oc_isa isa,
                                   int threads, size_t *bytes);

/* y = maxpool_pg(min(max(conv(x, w) + bias, lo), hi)), y shaped [batch,
 * out_channels, pooled rows, pooled columns]: each unit of work computes
 * the conv rows of a block of channels that a chunk of pooled rows reads
 * into its thread's scratch and pools them from there, so the conv's
 * output never goes to memory. The same floats as the two apart. */
void oc_conv_direct_pool(const oc_conv_geom *g, oc_isa isa, const float *packed, const float *x,
                         const float *bias, float lo, float hi, const oc_pool_geom *pg, float *y,
                         void *workspace, oc_pool *pool);

#define OC_DIRECT_DECLARE(suffix) extern const oc_direct_kernels oc_direct_kernels_##suffix;
OC_DIRECT_DECLARE(portable)
#ifdef OC_HAVE_AVX2
OC_DIRECT_DECLARE(avx2)
#endif
#ifdef OC_HAVE_AVX512
OC_DIRECT_DECLARE(avx512)
#endif

#endif
