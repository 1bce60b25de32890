/* Float32 BatchNormalization and LRN (local response normalization).
 *
 * Both view the tensor as [batch, features, inner]: features is the channel
 * dim (dim 1 of NCHW...), inner the product of the dims after it.
 * Pure functions: no state, no scratch. */
#ifndef OC_KERNELS_NORMALIZATION_H
#define OC_KERNELS_NORMALIZATION_H

#include <stdint.h>

/* ---- BatchNormalization ----
 *
 *   y[b, f, i] = (x[b, f, i] - mean[f]) / sqrt(var[f] + epsilon) * scale[f] + bias[f]
 *
 * with one statistic per feature f. ONNX's per-channel form is features =
 * C, inner = the spatial size; the per-activation form of spatial = 0
 * (opsets 1-8, statistics of shape [C, D1, ...]) is features = C * D1 * ...,
 * inner = 1. y may equal x. */
void oc_batchnorm_f32(int64_t batch, int64_t features, int64_t inner, float epsilon,
                      const float *x, const float *scale, const float *bias, const float *mean,
                      const float *var, float *y);
void oc_batchnorm_f32_ref(int64_t batch, int64_t features, int64_t inner, float epsilon,
                          const float *x, const float *scale, const float *bias,
                          const float *mean, const float *var, float *y);

/* Training mode: each feature's mean and population variance (divided by
 * the count, not count - 1) over batch and inner, computed in double in two
 * passes (the mean first, then the squared deviations from it). A single
 * plain version: it reads x twice, where the normalization reads it once. */
void oc_batchnorm_stats_f32(int64_t batch, int64_t features, int64_t inner, const float *x,
                            float *mean, float *var);

/* ---- LRN ----
 *
 *   y[b, c, i] = x[b, c, i] / (bias + alpha / size * square_sum) ^ beta
 *   square_sum = sum of x[b, k, i]^2 over channels k from
 *                c - floor((size - 1) / 2) to c + ceil((size - 1) / 2),
 *                clipped to [0, channels)
 *
 * size >= 1. */
typedef struct oc_lrn_params {
    int64_t size;
    float alpha, beta, bias;
} oc_lrn_params;

/* The fast version: the square sums of a block of neighbouring positions at
 * once, across the channel window, in unit-stride loops. y must not overlap
 * x (each output reads neighbouring channels). */
void oc_lrn_f32(const oc_lrn_params *p, int64_t batch, int64_t channels, int64_t inner,
                const float *x, float *y);
/* The reference: element by element, in double. */
void oc_lrn_f32_ref(const oc_lrn_params *p, int64_t batch, int64_t channels, int64_t inner,
                    const float *x, float *y);

#endif
