/* Separable pooling's plane kernels (see pool_isa.h), compiled once per ISA:
 * per output row, the input rows it reads are reduced into one padded
 * buffer row (contiguous, vectorized), then each output reduces its
 * kernel-width entries of it (no bounds checks: the padding is neutral). */
#include "pool_isa.h"

#include <math.h>
#include <stdbool.h>

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

/* One plane through the padded buffer row acc (see oc_pool_sep). */
static void max_plane_rows(const oc_pool_sep *s, const float *xp, float *yp, float *acc)
{
    for (int64_t oh = 0; oh < s->out_h; oh++) {
        max_rows(xp, s->in_w, s->row_lo[oh], s->row_hi[oh], acc + s->pad_w);
        max_row(s->stride_w, s->kernel_w, s->out_w, acc, yp + oh * s->out_w);
    }
}

#if OC_SIMD_ISA == 2
/* AVX-512, when the window of a step fits two vectors: a step makes up to
 * 16 outputs of a row from 32 input columns held in two registers (the
 * maximum over the input rows, lanes outside the row -inf), each tap one
 * two-register permute picking columns s * lane + tap. Nothing goes
 * through memory between the two reductions (a buffer row written and
 * read back at once stalls on store forwarding). The column offsets and
 * lane masks of the steps are the same on every row: computed once. MAXPS
 * drops a NaN, so a plane is first scanned for one, and a plane that has
 * any is computed by the buffer-row path, which keeps it. */
#define FAST_STEPS (OC_POOL_SEP_MAX / 4 + 1)

typedef struct fast_row {
    int64_t per_step;          /* outputs a step makes */
    int64_t steps;
    __m512i tap[32];           /* per tap: the lanes' column within the window */
    int64_t c0[FAST_STEPS];    /* per step: the window's first input column */
    __mmask16 m0[FAST_STEPS], m1[FAST_STEPS], out[FAST_STEPS]; /* its lanes in the row */
} fast_row;

/* Lanes l < 16 whose column c0 + l lies in [0, w). */
static OC_ALWAYS_INLINE __mmask16 lanes_in_row(int64_t c0, int64_t w)
{
    int64_t lo = c0 < 0 ? -c0 : 0, hi = w - c0;
    if (hi > 16) hi = 16;
    if (lo >= hi) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

static bool fast_row_init(const oc_pool_sep *s, fast_row *f)
{
    int64_t k = s->kernel_w, st = s->stride_w;
    if (k < 1 || k > 32 || st < 1 || st > 16) return false;
    f->per_step = (32 - k) / st + 1;
    if (f->per_step > 16) f->per_step = 16;
    if (f->per_step < 4) return false; /* the buffer row does as well */
    for (int64_t t = 0; t < k; t++) {
        int32_t lanes[16];
        for (int l = 0; l < 16; l++) lanes[l] = (int32_t)(l < f->per_step ? st * l + t : 0);
        f->tap[t] = _mm512_loadu_si512(lanes);
    }
    f->steps = (s->out_w + f->per_step - 1) / f->per_step;
    for (int64_t i = 0; i < f->steps; i++) {
        int64_t o0 = i * f->per_step, c0 = o0 * st - s->pad_w;
        int64_t n = s->out_w - o0 < f->per_step ? s->out_w - o0 : f->per_step;
        f->c0[i] = c0;
        f->m0[i] = lanes_in_row(c0, s->in_w);
        f->m1[i] = lanes_in_row(c0 + 16, s->in_w);
        f->out[i] = (__mmask16)((1u << n) - 1u);
    }
    return true;
}

/* Columns c0 .. c0 + 15 of row: lanes outside m are -inf, and the address
 * of a masked-off lane is never formed as a pointer outside the row. */
static OC_ALWAYS_INLINE __m512 load_cols(const float *row, int64_t c0, __mmask16 m, __m512 ninf)
{
    uintptr_t at = (uintptr_t)row + (uintptr_t)(c0 * (int64_t)sizeof(float));
    return _mm512_mask_loadu_ps(ninf, m, (const void *)at);
}

static bool has_nan(const float *x, int64_t n)
{
    __mmask16 nan = 0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    if (i < n) {
        __m512 v = _mm512_maskz_loadu_ps((__mmask16)((1u << (n - i)) - 1u), x + i);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    }
    return nan != 0;
}

/* Windows 3 wide at stride 1 (GoogLeNet's 3x3/1 pools), padding up to 2:
 * per vector of 16 input columns the maximum over the window's rows is
 * taken once, and the taps are that vector and its neighbours' lanes
 * shifted in by one or two (valignd), instead of three permutes of two
 * vectors per 16 outputs (2.4 -> about 5 G outputs/s on 28 x 28 planes). */
static OC_ALWAYS_INLINE __m512 rows_max(const float *first, int64_t rows, int64_t w, int64_t c0,
                                         __m512 ninf, __mmask16 *nan)
{
    __mmask16 m = lanes_in_row(c0, w);
    if (!m) return ninf;
    __m512 v = load_cols(first, c0, m, ninf);
    *nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    for (int64_t r = 1; r < rows; r++) {
        __m512 x = load_cols(first + r * w, c0, m, ninf);
        *nan |= _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
        v = _mm512_max_ps(v, x);
    }
    return v;
}

/* Lanes l of (prev | cur | next), columns c0 + l + shift (shift -2 .. 2). */
static OC_ALWAYS_INLINE __m512 shifted(__m512 prev, __m512 cur, __m512 next, int shift)
{
    switch (shift) {
    case -2: return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(cur), _mm512_castps_si512(prev), 14));
    case -1: return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(cur), _mm512_castps_si512(prev), 15));
    case 1: return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(cur), 1));
    case 2: return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(cur), 2));
    default: return cur;
    }
}

static bool k3s1_fits(const oc_pool_sep *s)
{
    return s->kernel_w == 3 && s->stride_w == 1 && s->pad_w <= 2;
}

/* The plane's rows, for k3s1_fits; false (y to be made again: MAXPS drops
 * NaNs) when a window holds a NaN. The windows cover every input element,
 * so the loads check the plane for a NaN on the way. */
static bool max_plane_k3s1(const oc_pool_sep *s, const float *xp, float *yp)
{
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    const int64_t w = s->in_w, out = s->out_w, p = s->pad_w;
    __mmask16 nan = 0;
    for (int64_t oh = 0; oh < s->out_h; oh++) {
        const float *first = xp + s->row_lo[oh] * w;
        int64_t rows = s->row_hi[oh] - s->row_lo[oh];
        float *yrow = yp + oh * out;
        /* output o reads columns o - p + t, t < 3: vectors of columns c0 = o0 */
        __m512 prev = ninf, cur = rows_max(first, rows, w, 0, ninf, &nan);
        for (int64_t o0 = 0; o0 < out; o0 += 16) {
            __m512 next = rows_max(first, rows, w, o0 + 16, ninf, &nan);
            __m512 m = shifted(prev, cur, next, (int)-p);
            m = _mm512_max_ps(m, shifted(prev, cur, next, (int)(1 - p)));
            m = _mm512_max_ps(m, shifted(prev, cur, next, (int)(2 - p)));
            _mm512_mask_storeu_ps(yrow + o0, first_lanes(out - o0), m);
            prev = cur, cur = next;
        }
    }
    return nan == 0;
}

/* The plane's rows (it holds no NaN). */
static void max_plane_fast(const oc_pool_sep *s, const fast_row *f, const float *xp, float *yp)
{
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    const int64_t w = s->in_w, k = s->kernel_w;
    for (int64_t oh = 0; oh < s->out_h; oh++) {
        const float *first = xp + s->row_lo[oh] * w;
        int64_t rows = s->row_hi[oh] - s->row_lo[oh];
        float *yrow = yp + oh * s->out_w;
        for (int64_t i = 0; i < f->steps; i++) {
            int64_t c0 = f->c0[i];
            __mmask16 m0 = f->m0[i], m1 = f->m1[i];
            __m512 v0 = load_cols(first, c0, m0, ninf), v1 = load_cols(first, c0 + 16, m1, ninf);
            for (int64_t r = 1; r < rows; r++) {
                const float *row = first + r * w;
                v0 = _mm512_max_ps(v0, load_cols(row, c0, m0, ninf));
                v1 = _mm512_max_ps(v1, load_cols(row, c0 + 16, m1, ninf));
            }
            __m512 out = _mm512_permutex2var_ps(v0, f->tap[0], v1);
            for (int64_t t = 1; t < k; t++)
                out = _mm512_max_ps(out, _mm512_permutex2var_ps(v0, f->tap[t], v1));
            _mm512_mask_storeu_ps(yrow + i * f->per_step, f->out[i], out);
        }
    }
}
#endif

static void max_planes(const oc_pool_sep *s, const float *x, float *y, int64_t p0, int64_t p1)
{
    float acc[OC_POOL_SEP_MAX];
    fill(acc, s, -INFINITY);
#if OC_SIMD_ISA == 2
    fast_row f;
    bool fast = fast_row_init(s, &f);
#endif
    for (int64_t p = p0; p < p1; p++) {
        const float *xp = x + p * s->in_h * s->in_w;
        float *yp = y + p * s->out_h * s->out_w;
#if OC_SIMD_ISA == 2
        if (k3s1_fits(s)) {
            if (max_plane_k3s1(s, xp, yp)) continue;
        } else if (fast && !has_nan(xp, s->in_h * s->in_w)) {
            max_plane_fast(s, &f, xp, yp);
            continue;
        }
#endif
        max_plane_rows(s, xp, yp, acc);
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
