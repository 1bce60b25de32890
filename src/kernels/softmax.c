/* Fast Softmax / LogSoftmax: three passes per lane (the maximum, the sum
 * of exponentials, the outputs), in one of two loop shapes so that every
 * loop runs over contiguous memory:
 *  - inner = 1 (the last axis, the common case): each lane is a contiguous
 *    row, and each pass is one loop along it;
 *  - otherwise the lanes of one outer index lie side by side in each of the
 *    n rows (inner apart), so a block of up to LANE_BLOCK of them is
 *    processed row by row, each pass a loop across the block. */
#include <math.h>
#include <stddef.h>

#include "softmax.h"

#define LANE_BLOCK 256

/* Normalizes `lanes` neighbouring lanes of n elements whose rows are
 * `stride` apart. */
static void softmax_block(int64_t n, int64_t stride, int64_t lanes, bool log_softmax,
                          const float *x, float *y)
{
    float max[LANE_BLOCK];
    double sum[LANE_BLOCK]; /* double: a long lane adds many small terms */
    for (int64_t l = 0; l < lanes; l++) {
        max[l] = x[l];
        sum[l] = 0.0;
    }
    for (int64_t j = 1; j < n; j++) {
        const float *row = x + j * stride;
        for (int64_t l = 0; l < lanes; l++) max[l] = row[l] > max[l] ? row[l] : max[l];
    }
    for (int64_t j = 0; j < n; j++) {
        const float *row = x + j * stride;
        float *out = y + j * stride;
        for (int64_t l = 0; l < lanes; l++) {
            float e = expf(row[l] - max[l]);
            if (!log_softmax) out[l] = e;
            sum[l] += e;
        }
    }
    /* The per-lane factor, reusing sum: 1/sum, or log(sum) to subtract. */
    for (int64_t l = 0; l < lanes; l++) sum[l] = log_softmax ? log(sum[l]) : 1.0 / sum[l];
    for (int64_t j = 0; j < n; j++) {
        const float *row = x + j * stride;
        float *out = y + j * stride;
        if (log_softmax)
            for (int64_t l = 0; l < lanes; l++) out[l] = (row[l] - max[l]) - (float)sum[l];
        else
            for (int64_t l = 0; l < lanes; l++) out[l] *= (float)sum[l];
    }
}

/* One contiguous lane of n elements. */
static void softmax_row(int64_t n, bool log_softmax, const float *x, float *y)
{
    float max = x[0];
    for (int64_t j = 1; j < n; j++) max = x[j] > max ? x[j] : max;
    double sum = 0.0;
    for (int64_t j = 0; j < n; j++) {
        float e = expf(x[j] - max);
        if (!log_softmax) y[j] = e;
        sum += e;
    }
    if (log_softmax) {
        float log_sum = (float)log(sum);
        for (int64_t j = 0; j < n; j++) y[j] = (x[j] - max) - log_sum;
    } else {
        float inverse = (float)(1.0 / sum);
        for (int64_t j = 0; j < n; j++) y[j] *= inverse;
    }
}

void oc_softmax_f32(int64_t outer, int64_t n, int64_t inner, bool log_softmax, const float *x,
                    float *y)
{
    if (n <= 0) return;
    if (inner == 1) {
        for (int64_t o = 0; o < outer; o++) softmax_row(n, log_softmax, x + o * n, y + o * n);
        return;
    }
    for (int64_t o = 0; o < outer; o++) {
        const float *xo = x + o * n * inner;
        float *yo = y + o * n * inner;
        for (int64_t l0 = 0; l0 < inner; l0 += LANE_BLOCK) {
            int64_t lanes = inner - l0 < LANE_BLOCK ? inner - l0 : LANE_BLOCK;
            softmax_block(n, inner, lanes, log_softmax, xo + l0, yo + l0);
        }
    }
}
