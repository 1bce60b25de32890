/* Separable pooling's plane kernels (see pool_isa.h), compiled once per ISA:
 * per output row, the input rows it reads are reduced into one padded
 * buffer row (contiguous, vectorized), then each output reduces its
 * kernel-width entries of it (no bounds checks: the padding is neutral). */
#include "pool_isa.h"

#include <math.h>

#include "simd.h"

/* The new value replaces the running maximum: larger, or the first NaN
 * (x != x only for NaN; written so, it vectorizes as compares). */
#define TAKES_OVER(v, best) ((v) > (best) || ((v) != (v) && (best) == (best)))
#define MAX_INTO(dst, v) (dst) = TAKES_OVER((v), (dst)) ? (v) : (dst)
#define SUM_INTO(dst, v) (dst) += (v)

/* acc[0, w) = the reduction of rows [r0, r1) of xp (row length w). */
#define ROWS(name, COMBINE)                                                                  \
    static void name(const float *xp, int64_t w, int64_t r0, int64_t r1, float *restrict acc) \
    {                                                                                        \
        const float *restrict first = xp + r0 * w;                                           \
        for (int64_t i = 0; i < w; i++) acc[i] = first[i];                                   \
        for (int64_t r = r0 + 1; r < r1; r++) {                                              \
            const float *restrict row = xp + r * w;                                          \
            for (int64_t i = 0; i < w; i++) COMBINE(acc[i], row[i]);                         \
        }                                                                                    \
    }

/* y[o] = the reduction of acc[o * s + t], t < k, o < out: the first tap,
 * then the others; strides 1 and 2 as constants so the loops vectorize. */
#define ROW(name, COMBINE)                                                                   \
    static void name(int64_t s, int64_t k, int64_t out, const float *restrict acc,           \
                     float *restrict y)                                                      \
    {                                                                                        \
        if (s == 1) {                                                                        \
            for (int64_t o = 0; o < out; o++) y[o] = acc[o];                                 \
            for (int64_t t = 1; t < k; t++)                                                  \
                for (int64_t o = 0; o < out; o++) COMBINE(y[o], acc[o + t]);                 \
        } else if (s == 2) {                                                                 \
            for (int64_t o = 0; o < out; o++) y[o] = acc[2 * o];                             \
            for (int64_t t = 1; t < k; t++)                                                  \
                for (int64_t o = 0; o < out; o++) COMBINE(y[o], acc[2 * o + t]);             \
        } else {                                                                             \
            for (int64_t o = 0; o < out; o++) y[o] = acc[o * s];                             \
            for (int64_t t = 1; t < k; t++)                                                  \
                for (int64_t o = 0; o < out; o++) COMBINE(y[o], acc[o * s + t]);             \
        }                                                                                    \
    }
ROWS(sum_rows, SUM_INTO)
ROW(sum_row, SUM_INTO)

#if OC_SIMD_ISA == 2
/* AVX-512: short rows are common (14, 7 columns), so whole rows go through
 * masked loads and stores rather than a vector loop and a scalar tail. */

static OC_ALWAYS_INLINE __mmask16 first_lanes(int64_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* TAKES_OVER lane-wise: larger, or the first NaN. */
static OC_ALWAYS_INLINE __m512 max_nan(__m512 best, __m512 v)
{
    __mmask16 m = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                  (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) &
                   _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
    return _mm512_mask_mov_ps(best, m, v);
}

static void max_rows(const float *xp, int64_t w, int64_t r0, int64_t r1, float *restrict acc)
{
    for (int64_t i = 0; i < w; i += 16) {
        __mmask16 m = first_lanes(w - i);
        __m512 b = _mm512_maskz_loadu_ps(m, xp + r0 * w + i);
        for (int64_t r = r0 + 1; r < r1; r++)
            b = max_nan(b, _mm512_maskz_loadu_ps(m, xp + r * w + i));
        _mm512_mask_storeu_ps(acc + i, m, b);
    }
}

static void max_row(int64_t s, int64_t k, int64_t out, const float *restrict acc,
                    float *restrict y)
{
    if (s == 1) {
        for (int64_t o = 0; o < out; o += 16) {
            __mmask16 m = first_lanes(out - o);
            __m512 b = _mm512_maskz_loadu_ps(m, acc + o);
            for (int64_t t = 1; t < k; t++) b = max_nan(b, _mm512_maskz_loadu_ps(m, acc + o + t));
            _mm512_mask_storeu_ps(y + o, m, b);
        }
    } else if (s == 2) {
        /* lanes l < n read acc[2 (o + l) + t]: the even entries of 32 */
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24,
                                               26, 28, 30);
        for (int64_t o = 0; o < out; o += 16) {
            int64_t n = out - o < 16 ? out - o : 16;
            __m512 b = _mm512_setzero_ps();
            for (int64_t t = 0; t < k; t++) {
                /* entries [2o + t, 2o + t + 2n - 1) are read, all within the span */
                const float *src = acc + 2 * o + t;
                int64_t len = 2 * n - 1;
                __m512 lo = _mm512_maskz_loadu_ps(first_lanes(len), src);
                __m512 hi = _mm512_maskz_loadu_ps(first_lanes(len > 16 ? len - 16 : 0), src + 16);
                __m512 v = _mm512_permutex2var_ps(lo, even, hi);
                b = t == 0 ? v : max_nan(b, v);
            }
            _mm512_mask_storeu_ps(y + o, first_lanes(n), b);
        }
    } else {
        for (int64_t o = 0; o < out; o++) y[o] = acc[o * s];
        for (int64_t t = 1; t < k; t++)
            for (int64_t o = 0; o < out; o++) MAX_INTO(y[o], acc[o * s + t]);
    }
}
#else
ROWS(max_rows, MAX_INTO)
ROW(max_row, MAX_INTO)
#endif

static void fill(float *acc, const oc_pool_sep *s, float v)
{
    for (int64_t i = 0; i < s->pad_w; i++) acc[i] = v;
    for (int64_t i = s->pad_w + s->in_w; i < s->span; i++) acc[i] = v;
}

static void max_planes(const oc_pool_sep *s, const float *x, float *y, int64_t p0, int64_t p1)
{
    float acc[OC_POOL_SEP_MAX];
    fill(acc, s, -INFINITY);
    for (int64_t p = p0; p < p1; p++) {
        const float *xp = x + p * s->in_h * s->in_w;
        float *yp = y + p * s->out_h * s->out_w;
        for (int64_t oh = 0; oh < s->out_h; oh++) {
            max_rows(xp, s->in_w, s->row_lo[oh], s->row_hi[oh], acc + s->pad_w);
            max_row(s->stride_w, s->kernel_w, s->out_w, acc, yp + oh * s->out_w);
        }
    }
}

static void avg_planes(const oc_pool_sep *s, const float *x, float *y, int64_t p0, int64_t p1)
{
    float acc[OC_POOL_SEP_MAX];
    fill(acc, s, 0.0f);
    for (int64_t p = p0; p < p1; p++) {
        const float *xp = x + p * s->in_h * s->in_w;
        float *yp = y + p * s->out_h * s->out_w;
        for (int64_t oh = 0; oh < s->out_h; oh++) {
            float *yrow = yp + oh * s->out_w;
            sum_rows(xp, s->in_w, s->row_lo[oh], s->row_hi[oh], acc + s->pad_w);
            sum_row(s->stride_w, s->kernel_w, s->out_w, acc, yrow);
            /* In floating point: a huge padded kernel must not overflow. */
            float rows = s->row_count[oh];
            for (int64_t ow = 0; ow < s->out_w; ow++) yrow[ow] /= rows * s->col_count[ow];
        }
    }
}

const oc_pool_plane_kernels OC_ISA_SYM(oc_pool_plane_kernels) = {max_planes, avg_planes};
