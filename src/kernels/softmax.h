/* Float32 Softmax and LogSoftmax along one axis.
 *
 * x and y are viewed as [outer, n, inner]: each of the outer * inner lanes
 * is n elements at stride inner, normalized on its own. ONNX opsets 1-12
 * (the input coerced to 2-D at the axis) are inner = 1 with n the product
 * of the trailing dims; opset 13+ is n = the axis's extent, inner = the
 * product of the dims after it.
 *
 *     softmax:    y = exp(x - max) / sum(exp(x - max))
 *     logsoftmax: y = (x - max) - log(sum(exp(x - max)))
 *
 * Subtracting the lane's maximum keeps exp from overflowing, so large inputs
 * are fine. A lane holding NaN gives NaN throughout, as in numpy; so does a
 * lane of only -inf (its maximum is -inf and -inf - -inf is NaN).
 *
 * Pure functions: no state, no scratch; y may not overlap x unless equal. */
#ifndef OC_KERNELS_SOFTMAX_H
#define OC_KERNELS_SOFTMAX_H

#include <stdbool.h>
#include <stdint.h>

/* The fast version: a block of neighbouring lanes at a time, so every loop
 * runs over contiguous memory and vectorizes. */
void oc_softmax_f32(int64_t outer, int64_t n, int64_t inner, bool log_softmax, const float *x,
                    float *y);

/* The reference: one lane at a time, element by element, in double. */
void oc_softmax_f32_ref(int64_t outer, int64_t n, int64_t inner, bool log_softmax,
                        const float *x, float *y);

#endif
