/* Fast BatchNormalization and LRN: per-feature factors computed once per
 * block of features, then unit-stride loops across the rows. */
#include <math.h>
#include <stddef.h>

#include "normalization.h"

#define BLOCK 256

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- BatchNormalization ---- */

void oc_batchnorm_f32(int64_t batch, int64_t features, int64_t inner, float epsilon,
                      const float *x, const float *scale, const float *bias, const float *mean,
                      const float *var, float *y)
{
    /* Blocks of features, so the factors (one square root each) are computed
     * once for the whole batch even when inner is 1 (per activation). */
    float factor[BLOCK];
    for (int64_t f0 = 0; f0 < features; f0 += BLOCK) {
        int64_t nf = min64(BLOCK, features - f0);
        for (int64_t k = 0; k < nf; k++)
            factor[k] = (float)(scale[f0 + k] / sqrt((double)var[f0 + k] + epsilon));
        for (int64_t b = 0; b < batch; b++)
            for (int64_t k = 0; k < nf; k++) {
                int64_t f = f0 + k;
                const float *xr = x + (b * features + f) * inner;
                float *yr = y + (b * features + f) * inner;
                float m = mean[f], a = factor[k], c = bias[f];
                /* x - mean first: exact when x is close to mean, where
                 * x * a + (bias - mean * a) would cancel. */
                for (int64_t i = 0; i < inner; i++) yr[i] = (xr[i] - m) * a + c;
            }
    }
}

void oc_batchnorm_stats_f32(int64_t batch, int64_t features, int64_t inner, const float *x,
                            float *mean, float *var)
{
    double count = (double)batch * (double)inner;
    for (int64_t f = 0; f < features; f++) {
        if (batch == 0 || inner == 0) { /* no samples (and x may be NULL): 0 / 0 */
            mean[f] = var[f] = NAN;
            continue;
        }
        double sum = 0.0, squares = 0.0;
        for (int64_t b = 0; b < batch; b++) {
            const float *xr = x + (b * features + f) * inner;
            for (int64_t i = 0; i < inner; i++) sum += xr[i];
        }
        double mu = sum / count;
        for (int64_t b = 0; b < batch; b++) {
            const float *xr = x + (b * features + f) * inner;
            for (int64_t i = 0; i < inner; i++) squares += (xr[i] - mu) * (xr[i] - mu);
        }
        mean[f] = (float)mu;
        var[f] = (float)(squares / count);
    }
}

/* ---- LRN ---- */

/* The channel window of c: [*lo, *hi). */
static void lrn_window(const oc_lrn_params *p, int64_t channels, int64_t c, int64_t *lo,
                       int64_t *hi)
{
    int64_t before = (p->size - 1) / 2, after = p->size - 1 - before;
    *lo = c - before > 0 ? c - before : 0;
    *hi = c + after + 1 < channels ? c + after + 1 : channels;
}

void oc_lrn_f32(const oc_lrn_params *p, int64_t batch, int64_t channels, int64_t inner,
                const float *x, float *y)
{
    float squares[BLOCK];
    float scale = p->alpha / (float)p->size;
    for (int64_t b = 0; b < batch; b++) {
        const float *xb = x + b * channels * inner;
        float *yb = y + b * channels * inner;
        for (int64_t c = 0; c < channels; c++) {
            int64_t lo, hi;
            lrn_window(p, channels, c, &lo, &hi);
            for (int64_t i0 = 0; i0 < inner; i0 += BLOCK) {
                int64_t ni = min64(BLOCK, inner - i0);
                for (int64_t i = 0; i < ni; i++) squares[i] = 0.0f;
                for (int64_t k = lo; k < hi; k++) {
                    const float *xk = xb + k * inner + i0;
                    for (int64_t i = 0; i < ni; i++) squares[i] += xk[i] * xk[i];
                }
                const float *xc = xb + c * inner + i0;
                float *yc = yb + c * inner + i0;
                for (int64_t i = 0; i < ni; i++)
                    yc[i] = xc[i] * powf(p->bias + scale * squares[i], -p->beta);
            }
        }
    }
}
