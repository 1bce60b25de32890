/* Float32 pooling (ONNX MaxPool, AveragePool, GlobalAveragePool), 1-D to 3-D
 * through one 3-D code path (unit leading dimensions, see window.h).
 *
 * x is [planes, D, H, W] with planes = batch * channels, y is
 * [planes, oD, oH, oW]. Each function computes planes [plane_begin,
 * plane_end) of the whole tensors x and y, so a thread pool can split the
 * planes; they keep no state and need no scratch.
 *
 * The caller has validated the geometry and made sure every window covers at
 * least one real input element; an empty window would give -inf (max, index
 * -1) or NaN (average). */
#ifndef OC_KERNELS_POOL_H
#define OC_KERNELS_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "window.h"

typedef struct oc_pool_geom {
    int64_t planes;
    oc_window_dim dim[OC_WINDOW_DIMS]; /* depth, height, width */
} oc_pool_geom;

/* Max pooling. indices (may be NULL) receives, for each output, the position
 * of the maximum in x flattened as ONNX defines it: plane * (D*H*W) plus the
 * spatial offset in row-major order (d*H*W + h*W + w), or with
 * col_major_indices in column-major order (d + h*D + w*D*H). Ties go to the
 * first element in row-major window order; a NaN wins (the first one), as in
 * numpy and PyTorch. */
void oc_maxpool_f32(const oc_pool_geom *g, const float *x, float *y, int64_t *indices,
                    bool col_major_indices, int64_t plane_begin, int64_t plane_end);
void oc_maxpool_f32_ref(const oc_pool_geom *g, const float *x, float *y, int64_t *indices,
                        bool col_major_indices, int64_t plane_begin, int64_t plane_end);

/* Average pooling. The divisor counts the window's taps that fall on real
 * input elements, or with count_include_pad also those on the explicit (or
 * auto_pad) padding, but never the extra positions ceil_mode adds past it. */
void oc_avgpool_f32(const oc_pool_geom *g, bool count_include_pad, const float *x, float *y,
                    int64_t plane_begin, int64_t plane_end);
void oc_avgpool_f32_ref(const oc_pool_geom *g, bool count_include_pad, const float *x, float *y,
                        int64_t plane_begin, int64_t plane_end);

/* y[p] = mean of the plane_size elements of plane p. */
void oc_global_avgpool_f32(int64_t plane_size, const float *x, float *y, int64_t plane_begin,
                           int64_t plane_end);
void oc_global_avgpool_f32_ref(int64_t plane_size, const float *x, float *y,
                               int64_t plane_begin, int64_t plane_end);

#endif
