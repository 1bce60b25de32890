/* Float32 convolution (ONNX Conv), 1-D to 3-D through one 3-D code path.
 *
 * Layouts are ONNX's: x is [batch, in_channels, D, H, W], w is
 * [out_channels, in_channels / group, kD, kH, kW], bias (optional, may be
 * NULL) is [out_channels], y is [batch, out_channels, oD, oH, oW]; lower
 * ranks use unit leading dimensions (see window.h). The caller (the op) has
 * validated the geometry: channels divisible by group, every extent >= 1,
 * out consistent with in, kernel, stride, dilation and pads, and the input
 * plane, output plane, kernel volume and in_channels / group * kernel volume
 * all fit in int64 (even when a tensor is empty). An empty y (batch or
 * out_channels 0) is no work at all; 0 input channels give y = bias (or 0)
 * without reading x or w.
 *
 * The methods (chosen from the geometry and the prepared weights):
 *  - Winograd F(m x m, 3x3) (winograd.h) for 2-D convs with stride 1,
 *    dilation 1 and one group, 3x3 kernels (and 5x5, 7x7 ... in 3x3
 *    pieces), when the weights were transformed at load
 *    (oc_conv_prepare_weights): m = 4, or 2 for small outputs;
 *  - a strided convolution whose space-to-depth form (the input regrouped
 *    into s x s blocks: C s^2 channels, kernel ceil(k / s), stride 1) is one
 *    Winograd computes, e.g. AlexNet's 11x11 stride 4 (3x3 over 48
 *    channels): that, after regrouping the input;
 *  - pointwise (1x1, stride 1, no padding): Y = W * X per image and group;
 *  - one input channel per group (depthwise): direct row loops;
 *  - few input channels and wide rows (a stem such as 7x7 stride 2 over
 *    RGB), when the weights were packed for it at load: a direct
 *    convolution on phase planes of the input (conv_direct.h);
 *  - otherwise im2col, a tile of output positions at a time, then SGEMM.
 * Every method splits its work over a thread pool; the scratch is one slot
 * per thread (plus a shared part for Winograd). */
#ifndef OC_KERNELS_CONV_H
#define OC_KERNELS_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/threadpool.h"
#include "gemm.h"
#include "pool.h"
#include "window.h"

typedef struct oc_conv_geom {
    int64_t batch;
    int64_t in_channels;  /* of x, all groups */
    int64_t out_channels; /* of y, all groups */
    int64_t group;
    oc_window_dim dim[OC_WINDOW_DIMS]; /* depth, height, width */
} oc_conv_geom;

/* An activation applied to every output after the bias: y = min(max(y, lo),
 * hi) as ONNX Clip computes it (NaN stays NaN; lo > hi gives hi). No
 * activation is {-INFINITY, INFINITY}; Relu is {0, INFINITY}. */
typedef struct oc_conv_act {
    float lo, hi;
} oc_conv_act;

oc_conv_act oc_conv_act_none(void);

/* Weights prepared at load for the fast paths (oc_conv_prepare_weights). source is
 * the W they were made from: the caller uses them only with that W. */
typedef struct oc_conv_weights {
    const float *source;
    /* Winograd F(m x m, 3x3), m = 2, 4 or 6 (0: none): U = G w G^T, one matrix
     * [out_channels x in_channels] per position xi < (m+2)^2, packed as the
     * GEMM's left operand in chunks of wino_kb output channels:
     * wino[j * (m+2)^2 + xi] holds rows [j * wino_kb, ...) of U[xi] (a chunk's
     * matrices side by side: one stream for the unit that reads them);
     * or, with few input channels (where a GEMM call per position costs
     * more than it multiplies), plain in wino_u [xi][k][c] for the
     * transforms' own product. */
    int winograd_m;
    int64_t wino_kb, wino_chunks;
    const oc_gemm_packed *wino;
    const float *wino_u;
    /* s >= 2: the Winograd weights are those of the stride-1 convolution
     * the strided one becomes after a space-to-depth of its input by s
     * (channels C s^2, kernel ceil(k / s)); 0: of the convolution itself. */
    int s2d;
    /* The GEMM-based methods: gemm[grp] is W of group grp, [out_channels /
     * group x in_channels / group * kernel volume], packed (NULL: none). */
    const oc_gemm_packed *gemm;
    /* The direct method (conv_direct.h): W packed for the kernels of
     * direct_isa (NULL: none). */
    const float *direct;
    int direct_isa;
} oc_conv_weights;

/* Allocates bytes of OC_ALIGN-aligned memory owned by owner, or NULL. */
typedef void *(*oc_conv_alloc_fn)(void *owner, size_t bytes);

/* Prepares w for the convolution g and stores the result in *out (all
 * zero when no method gains from it). When extents_known is false, g's
 * batch and spatial extents are only a guess (a model with dynamic
 * shapes) and the choice rests on the channels and the kernel. The buffers
 * come from alloc (the caller frees them with the owner). False when out
 * of memory. */
bool oc_conv_prepare_weights(const oc_conv_geom *g, bool extents_known, const float *w,
                             oc_conv_alloc_fn alloc, void *owner, oc_conv_weights *out);

/* The same with the choice made by the caller (tests, benchmarks): m = 2, 4
 * or 6 for Winograd F(m x m, 3x3) (nothing when the geometry is not one it
 * computes), 1 for the direct method (nothing when it does not apply), 0
 * for the GEMM's packed weights. */
bool oc_conv_prepare_method(const oc_conv_geom *g, int m, const float *w,
                            oc_conv_alloc_fn alloc, void *owner, oc_conv_weights *out);

/* Bytes of scratch oc_conv_f32 needs with threads threads (OC_ALIGN-aligned
 * memory); pw may be NULL. The size covers the path that ignores pw too, so
 * a caller may drop the prepared weights at run time. False on overflow. */
bool oc_conv_f32_workspace(const oc_conv_geom *g, const oc_conv_weights *pw, int threads,
                           size_t *bytes);

/* The convolution: y = act(conv(x, w) + bias + sum), with sum (may be
 * NULL; shaped like y, and not y itself) a tensor added before the
 * activation, as a residual connection does (Conv -> Add -> Relu fused).
 * pw (may be NULL) must have been prepared from this w. workspace holds
 * workspace_bytes >= oc_conv_f32_workspace(g, pw, t) for some t >= 1: the
 * pool's threads are used when t covers them, else the caller's alone.
 * pool may be NULL. */
void oc_conv_f32(const oc_conv_geom *g, const oc_conv_weights *pw, const float *x,
                 const float *w, const float *bias, const float *sum, oc_conv_act act, float *y,
                 void *workspace, size_t workspace_bytes, oc_pool *pool);

/* A convolution followed by max pooling pg over its output (pg's input
 * extents are g's output extents; pg->planes = batch * out_channels):
 * y = maxpool(act(conv(x, w) + bias)), [batch, out_channels, pooled...].
 * Whether pg is one the kernel takes: 2-D, without dilation (see
 * oc_pool_separable), no wider than the plane kernels' rows. */
bool oc_conv_maxpool_fits(const oc_conv_geom *g, const oc_pool_geom *pg);

/* Whether oc_conv_prepare_weights with the extents known takes the direct
 * method for g (so that a pool after it fuses). */
bool oc_conv_chooses_direct(const oc_conv_geom *g);

/* Bytes of scratch oc_conv_maxpool_f32 needs, as oc_conv_f32_workspace. */
bool oc_conv_maxpool_f32_workspace(const oc_conv_geom *g, const oc_conv_weights *pw,
                                   const oc_pool_geom *pg, int threads, size_t *bytes);

/* With pw's direct weights the two are fused (oc_conv_direct_pool: the
 * conv rows a thread pools never leave its cache); otherwise the conv's
 * output goes through the workspace and is pooled from there. Either way
 * the same floats as oc_conv_f32 followed by oc_maxpool_f32. */
void oc_conv_maxpool_f32(const oc_conv_geom *g, const oc_conv_weights *pw,
                         const oc_pool_geom *pg, const float *x, const float *w,
                         const float *bias, oc_conv_act act, float *y, void *workspace,
                         size_t workspace_bytes, oc_pool *pool);

/* The reference: direct nested loops, accumulating in double (no activation). */
void oc_conv_f32_ref(const oc_conv_geom *g, const float *x, const float *w, const float *bias,
                     float *y);

#endif
