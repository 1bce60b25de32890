/* Reference Softmax / LogSoftmax: each lane on its own, in double. */
#include <math.h>

#include "softmax.h"

static void softmax_lane(int64_t n, int64_t stride, bool log_softmax, const float *x, float *y)
{
    double max = x[0];
    for (int64_t j = 1; j < n; j++)
        if (x[j * stride] > max) max = x[j * stride];
    double sum = 0.0;
    for (int64_t j = 0; j < n; j++) sum += exp(x[j * stride] - max);
    for (int64_t j = 0; j < n; j++) {
        double shifted = x[j * stride] - max;
        y[j * stride] = (float)(log_softmax ? shifted - log(sum) : exp(shifted) / sum);
    }
}

void oc_softmax_f32_ref(int64_t outer, int64_t n, int64_t inner, bool log_softmax,
                        const float *x, float *y)
{
    if (n <= 0) return;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t l = 0; l < inner; l++) {
            int64_t start = o * n * inner + l;
            softmax_lane(n, inner, log_softmax, x + start, y + start);
        }
}
