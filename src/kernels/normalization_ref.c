/* Reference BatchNormalization and LRN: the formulas, element by element, in double. */
#include <math.h>

#include "normalization.h"

void oc_batchnorm_f32_ref(int64_t batch, int64_t features, int64_t inner, float epsilon,
                          const float *x, const float *scale, const float *bias,
                          const float *mean, const float *var, float *y)
{
    for (int64_t b = 0; b < batch; b++)
        for (int64_t f = 0; f < features; f++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t at = (b * features + f) * inner + i;
                double normalized = ((double)x[at] - mean[f]) / sqrt((double)var[f] + epsilon);
                y[at] = (float)(normalized * scale[f] + bias[f]);
            }
}

void oc_lrn_f32_ref(const oc_lrn_params *p, int64_t batch, int64_t channels, int64_t inner,
                    const float *x, float *y)
{
    int64_t before = (p->size - 1) / 2, after = (p->size - 1) - before;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t c = 0; c < channels; c++)
            for (int64_t i = 0; i < inner; i++) {
                double square_sum = 0.0;
                int64_t first = c - before < 0 ? 0 : c - before;
                int64_t last = c + after >= channels ? channels - 1 : c + after;
                for (int64_t k = first; k <= last; k++) {
                    double v = x[(b * channels + k) * inner + i];
                    square_sum += v * v;
                }
                int64_t at = (b * channels + c) * inner + i;
                double denominator =
                    pow((double)p->bias + (double)p->alpha / (double)p->size * square_sum,
                        (double)p->beta);
                y[at] = (float)(x[at] / denominator);
            }
}
