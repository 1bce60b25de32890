/* The fast numeric kernels against their reference twins, on many odd shapes.
 *
 * Most data are small multiples of 1/8 ("dyadic"): every product and partial
 * sum is then exact in float, so the fast and reference kernels must agree
 * whatever order they add in, and any disagreement is a real bug (a wrong
 * element, a missed edge), not rounding. Real-valued data are checked
 * against a proper rounding-error bound. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/conv.h"
#include "kernels/gemm.h"
#include "kernels/pool.h"
#include "op_harness.h"

#define POISON 12345.0f /* what an output element the kernel forgot would keep */

/* n values in {-1, -7/8, ..., 7/8}. */
static float *dyadic(size_t n, unsigned seed)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    oh_fill(p, n, seed, -1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) p[i] = floorf(p[i] * 8.0f) / 8.0f;
    return p;
}

static float *filled(size_t n, float v)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) p[i] = v;
    return p;
}

/* Scratch of exactly the bytes asked for (plain malloc: the kernels do not
 * depend on the alignment, and AddressSanitizer then catches any overrun of
 * the size they declared, which aligned rounding up would hide). */
static void *workspace(size_t bytes)
{
    void *w = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(w);
    return w;
}

static void expect_close(const float *actual, const float *expected, size_t n, const char *what)
{
    long bad = oh_compare(actual, expected, n);
    ck_assert_msg(bad < 0, "%s: element %ld is %.9g, expected %.9g", what, bad,
                  bad < 0 ? 0.0 : actual[bad], bad < 0 ? 0.0 : expected[bad]);
}

/* ======================================================================== */
/* SGEMM                                                                    */
/* ======================================================================== */

typedef struct gemm_case {
    bool ta, tb;
    size_t m, n, k;
    float alpha, beta;
    size_t pad; /* extra elements per row of A, B and C beyond what they need */
} gemm_case;

/* Runs the fast and reference SGEMM on the same dyadic data and compares all
 * of C, including the padding columns the kernels must not touch. */
static void check_gemm_case(gemm_case gc, unsigned seed)
{
    size_t a_rows = gc.ta ? gc.k : gc.m, a_cols = gc.ta ? gc.m : gc.k;
    size_t b_rows = gc.tb ? gc.n : gc.k, b_cols = gc.tb ? gc.k : gc.n;
    size_t lda = a_cols + gc.pad, ldb = b_cols + gc.pad, ldc = gc.n + gc.pad;
    float *a = dyadic(a_rows * lda, seed), *b = dyadic(b_rows * ldb, seed + 1);
    float *c = dyadic(gc.m * ldc, seed + 2);
    size_t c_count = gc.m * ldc;
    float *expected = malloc((c_count ? c_count : 1) * sizeof *expected);
    ck_assert_ptr_nonnull(expected);
    if (gc.beta == 0.0f) /* must not be read at all */
        for (size_t i = 0; i < gc.m * ldc; i++)
            if (i % ldc < gc.n) c[i] = NAN;
    memcpy(expected, c, gc.m * ldc * sizeof *c);

    void *ws = workspace(oc_sgemm_workspace(gc.m, gc.n, gc.k));
    oc_sgemm(gc.ta, gc.tb, gc.m, gc.n, gc.k, gc.alpha, a, lda, b, ldb, gc.beta, c, ldc, ws);
    oc_sgemm_ref(gc.ta, gc.tb, gc.m, gc.n, gc.k, gc.alpha, a, lda, b, ldb, gc.beta, expected, ldc);
    for (size_t i = 0; i < gc.m * ldc; i++) {
        ck_assert_msg(c[i] == expected[i] || (isnan(c[i]) && isnan(expected[i])),
                      "sgemm ta=%d tb=%d m=%zu n=%zu k=%zu alpha=%g beta=%g pad=%zu: C[%zu][%zu] "
                      "is %.9g, expected %.9g", gc.ta, gc.tb, gc.m, gc.n, gc.k, gc.alpha, gc.beta,
                      gc.pad, i / ldc, i % ldc, c[i], expected[i]);
        if (i % ldc < gc.n) ck_assert_msg(!isnan(c[i]), "NaN at C[%zu][%zu]", i / ldc, i % ldc);
    }
    free(ws);
    free(a);
    free(b);
    free(c);
    free(expected);
}

static const float alphas[] = {1.0f, 0.5f, -1.5f, 2.0f};
static const float betas[] = {0.0f, 1.0f, 0.25f, -1.0f};

START_TEST(sgemm_all_transposes_and_odd_sizes)
{
    static const size_t mn[] = {1, 2, 3, 4, 5, 8, 9, 17, 33, 100};
    static const size_t ks[] = {1, 3, 17, 100, 300};
    unsigned seed = 1;
    for (int t = 0; t < 4; t++)
        for (size_t im = 0; im < sizeof mn / sizeof *mn; im++)
            for (size_t in = 0; in < sizeof mn / sizeof *mn; in++)
                for (size_t ik = 0; ik < sizeof ks / sizeof *ks; ik++, seed += 3) {
                    gemm_case gc = {t & 1, t >> 1, mn[im], mn[in], ks[ik],
                                    alphas[seed % 4], betas[seed / 4 % 4], seed % 3};
                    check_gemm_case(gc, seed);
                }
}
END_TEST

/* Sizes that cross every blocking boundary: MC = 128 rows, KC = 256 deep
 * (with an uneven split), NC = 2048 columns. */
START_TEST(sgemm_crosses_block_boundaries)
{
    static const gemm_case cases[] = {
        {false, false, 129, 40, 513, 1.0f, 0.0f, 0},
        {true, false, 257, 19, 257, 0.5f, 1.0f, 5},
        {false, true, 130, 2050, 7, -1.5f, 0.25f, 1},
        {true, true, 64, 2100, 260, 1.0f, -1.0f, 3},
        {false, false, 384, 169, 1728, 1.0f, 0.0f, 0}, /* AlexNet conv4 as GEMM */
        {false, false, 64, 3025, 363, 1.0f, 1.0f, 0},   /* AlexNet conv1 as GEMM */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_gemm_case(cases[i], 100 + (unsigned)i);
}
END_TEST

/* m == 1 and n == 1 take the matrix-vector path, with strided vectors when
 * transposed. */
START_TEST(sgemm_vector_paths)
{
    static const size_t ns[] = {1, 2, 5, 8, 31, 513, 1030};
    static const size_t ks[] = {1, 7, 8, 9, 33, 4096};
    unsigned seed = 500;
    for (int t = 0; t < 4; t++)
        for (size_t in = 0; in < sizeof ns / sizeof *ns; in++)
            for (size_t ik = 0; ik < sizeof ks / sizeof *ks; ik++, seed++) {
                gemm_case row = {t & 1, t >> 1, 1, ns[in], ks[ik], alphas[seed % 4],
                                 betas[seed % 4], seed % 2 ? 2 : 0};
                check_gemm_case(row, seed);
                gemm_case col = {t & 1, t >> 1, ns[in], 1, ks[ik], alphas[seed % 4],
                                 betas[(seed + 1) % 4], seed % 2 ? 0 : 3};
                check_gemm_case(col, seed + 7);
            }
}
END_TEST

START_TEST(sgemm_degenerate_sizes)
{
    /* k == 0: C = beta * C; alpha == 0: A and B are not used. */
    check_gemm_case((gemm_case){false, false, 5, 9, 0, 1.0f, 0.5f, 1}, 1);
    check_gemm_case((gemm_case){true, true, 5, 9, 0, 1.0f, 0.0f, 0}, 2);
    check_gemm_case((gemm_case){false, true, 6, 10, 12, 0.0f, -1.0f, 2}, 3);
    check_gemm_case((gemm_case){false, false, 0, 10, 12, 1.0f, 1.0f, 0}, 4);
    check_gemm_case((gemm_case){false, false, 10, 0, 12, 1.0f, 1.0f, 0}, 5);
}
END_TEST

/* Scratch sized for a product serves its sub-blocks (a thread pool, or
 * conv's last im2col tile, relies on it). */
START_TEST(sgemm_workspace_grows_with_size)
{
    static const size_t sizes[] = {1, 2, 3, 8, 100, 128, 129, 2048, 2049, 5000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (size_t j = 0; j < sizeof sizes / sizeof *sizes; j++)
            for (size_t l = 0; l < sizeof sizes / sizeof *sizes; l++) {
                size_t m = sizes[i], n = sizes[j], k = sizes[l], ws = oc_sgemm_workspace(m, n, k);
                ck_assert_uint_le(ws, oc_sgemm_workspace(m + 1, n, k));
                ck_assert_uint_le(ws, oc_sgemm_workspace(m, n + 1, k));
                ck_assert_uint_le(ws, oc_sgemm_workspace(m + 7, n + 9, k));
            }
}
END_TEST

/* Real-valued data: the result must be within the float rounding bound
 * (k + 2) * eps * sum|terms| of the double-precision reference. */
START_TEST(sgemm_real_values_within_rounding_bound)
{
    static const gemm_case cases[] = {
        {false, false, 37, 45, 1000, 0.7f, 0.3f, 0}, {true, true, 100, 90, 333, -1.1f, 1.0f, 1},
        {false, true, 1, 1000, 2000, 1.3f, 0.0f, 0}, {true, false, 1000, 1, 700, 1.0f, 2.5f, 0},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
        gemm_case gc = cases[ci];
        size_t a_n = gc.m * gc.k, b_n = gc.k * gc.n, c_n = gc.m * gc.n;
        size_t lda = gc.ta ? gc.m : gc.k, ldb = gc.tb ? gc.k : gc.n;
        float *a = malloc(a_n * sizeof *a), *b = malloc(b_n * sizeof *b),
              *c = malloc(c_n * sizeof *c);
        float *ref = malloc(c_n * sizeof *c), *bound = malloc(c_n * sizeof *c);
        float *abs_a = malloc(a_n * sizeof *a), *abs_b = malloc(b_n * sizeof *b);
        oh_fill(a, a_n, 11, -1.0f, 1.0f);
        oh_fill(b, b_n, 12, -1.0f, 1.0f);
        oh_fill(c, c_n, 13, -1.0f, 1.0f);
        for (size_t i = 0; i < a_n; i++) abs_a[i] = fabsf(a[i]);
        for (size_t i = 0; i < b_n; i++) abs_b[i] = fabsf(b[i]);
        for (size_t i = 0; i < c_n; i++) bound[i] = fabsf(c[i]);
        memcpy(ref, c, c_n * sizeof *c);
        void *ws = workspace(oc_sgemm_workspace(gc.m, gc.n, gc.k));
        oc_sgemm(gc.ta, gc.tb, gc.m, gc.n, gc.k, gc.alpha, a, lda, b, ldb, gc.beta, c, gc.n, ws);
        oc_sgemm_ref(gc.ta, gc.tb, gc.m, gc.n, gc.k, gc.alpha, a, lda, b, ldb, gc.beta, ref, gc.n);
        oc_sgemm_ref(gc.ta, gc.tb, gc.m, gc.n, gc.k, fabsf(gc.alpha), abs_a, lda, abs_b, ldb,
                     fabsf(gc.beta), bound, gc.n);
        for (size_t i = 0; i < c_n; i++) {
            double tol = (double)(gc.k + 2) * 6e-8 * bound[i] + 1e-30;
            ck_assert_msg(fabs((double)c[i] - ref[i]) <= tol,
                          "case %zu C[%zu] %.9g vs %.9g (tol %g)", ci, i, c[i], ref[i], tol);
        }
        free(ws);
        free(a), free(b), free(c), free(ref), free(bound), free(abs_a), free(abs_b);
    }
}
END_TEST

/* ======================================================================== */
/* Convolution                                                              */
/* ======================================================================== */

typedef struct conv_case {
    int64_t batch, cin, cout, group;
    int rank;                 /* spatial dims, 1..3 */
    int64_t in[3], kernel[3], stride[3], dilation[3], pad_b[3], pad_e[3];
    bool bias;
} conv_case;

/* The test's own output extent: floor((in + pads - extent) / stride) + 1. */
static int64_t conv_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe)
{
    return (in + pb + pe - ((k - 1) * d + 1)) / s + 1;
}

static oc_conv_geom conv_geom_of(const conv_case *cc)
{
    oc_conv_geom g = {cc->batch,
                      cc->cin,
                      cc->cout,
                      cc->group,
                      {oc_window_unit(), oc_window_unit(), oc_window_unit()}};
    for (int i = 0; i < cc->rank; i++) {
        oc_window_dim *d = &g.dim[3 - cc->rank + i];
        d->in = cc->in[i];
        d->kernel = cc->kernel[i];
        d->stride = cc->stride[i] ? cc->stride[i] : 1;
        d->dilation = cc->dilation[i] ? cc->dilation[i] : 1;
        d->pad_begin = cc->pad_b[i];
        d->pad_end = cc->pad_e[i];
        d->out = conv_out(d->in, d->kernel, d->stride, d->dilation, d->pad_begin, d->pad_end);
        ck_assert_int_ge(d->out, 1);
    }
    return g;
}

static size_t plane_in(const oc_conv_geom *g)
{
    return (size_t)(g->dim[0].in * g->dim[1].in * g->dim[2].in);
}
static size_t plane_out(const oc_conv_geom *g)
{
    return (size_t)(g->dim[0].out * g->dim[1].out * g->dim[2].out);
}
static size_t kvol(const oc_conv_geom *g)
{
    return (size_t)(g->dim[0].kernel * g->dim[1].kernel * g->dim[2].kernel);
}

static void check_conv_case(const conv_case *cc, unsigned seed)
{
    oc_conv_geom g = conv_geom_of(cc);
    size_t x_n = (size_t)(g.batch * g.in_channels) * plane_in(&g);
    size_t w_n = (size_t)(g.out_channels * (g.in_channels / g.group)) * kvol(&g);
    size_t y_n = (size_t)(g.batch * g.out_channels) * plane_out(&g);
    float *x = dyadic(x_n, seed), *w = dyadic(w_n, seed + 1),
          *b = dyadic((size_t)g.out_channels, seed + 2);
    float *y = filled(y_n, POISON), *expected = filled(y_n, -POISON);
    size_t ws_bytes;
    ck_assert(oc_conv_f32_workspace(&g, &ws_bytes));
    void *ws = workspace(ws_bytes);
    oc_conv_f32(&g, x, w, cc->bias ? b : NULL, y, ws);
    oc_conv_f32_ref(&g, x, w, cc->bias ? b : NULL, expected);
    char what[128];
    snprintf(what, sizeof what, "conv case seed %u (rank %d, group %lld)", seed, cc->rank,
             (long long)cc->group);
    expect_close(y, expected, y_n, what);

    /* The units are independent: computing them one by one, backwards, in
     * a fresh output gives the same result. */
    float *y2 = filled(y_n, POISON);
    for (size_t u = oc_conv_f32_units(&g); u-- > 0;)
        oc_conv_f32_run_units(&g, x, w, cc->bias ? b : NULL, y2, u, u + 1, ws);
    ck_assert_msg(memcmp(y, y2, y_n * sizeof *y) == 0, "%s: unit-by-unit result differs", what);

    free(ws);
    free(x), free(w), free(b), free(y), free(y2), free(expected);
}

START_TEST(conv_2d_shapes)
{
    /* batch, cin, cout, group, rank, in, kernel, stride, dilation, pad_b, pad_e, bias */
    static const conv_case cases[] = {
        {1, 3, 8, 1, 2, {11, 13}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true},
        /* asymmetric pads */
        {2, 3, 5, 1, 2, {17, 9}, {3, 5}, {2, 1}, {1, 1}, {0, 2}, {1, 0}, false},
        /* dilations */
        {1, 4, 6, 1, 2, {15, 16}, {3, 3}, {1, 2}, {2, 3}, {2, 0}, {3, 1}, true},
        /* AlexNet conv1, on a small image */
        {1, 3, 7, 1, 2, {23, 23}, {11, 11}, {4, 4}, {1, 1}, {2, 2}, {2, 2}, true},
        /* pads larger than the kernel: windows entirely in the padding */
        {1, 2, 3, 1, 2, {4, 5}, {2, 2}, {3, 3}, {1, 1}, {4, 5}, {3, 6}, true},
        /* 1x1 image */
        {1, 5, 4, 1, 2, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, true},
        /* groups of 3 channels */
        {3, 6, 4, 2, 2, {9, 10}, {3, 2}, {1, 2}, {1, 1}, {1, 0}, {1, 1}, true},
        /* grouped pointwise */
        {1, 12, 6, 3, 2, {8, 7}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, true},
        /* pointwise */
        {2, 16, 24, 1, 2, {9, 11}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, true},
        /* 1x1 strided or padded: not the pointwise path */
        {1, 8, 5, 1, 2, {9, 11}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, false},
        {1, 8, 5, 1, 2, {6, 6}, {1, 1}, {1, 1}, {1, 1}, {1, 0}, {0, 1}, true},
        /* depthwise, plain and strided */
        {2, 8, 8, 8, 2, {13, 12}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true},
        {1, 6, 6, 6, 2, {14, 15}, {3, 3}, {2, 2}, {1, 1}, {1, 0}, {0, 1}, false},
        /* depth multiplier 2, dilated */
        {1, 4, 8, 4, 2, {10, 9}, {5, 3}, {1, 3}, {2, 1}, {4, 2}, {1, 3}, true},
        /* one input channel */
        {1, 1, 16, 1, 2, {12, 12}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true},
        /* several im2col tiles */
        {1, 16, 3, 1, 2, {70, 66}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true},
        /* huge K: tiles of the minimum size; then a last tile of one position */
        {1, 512, 3, 1, 2, {20, 21}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false},
        {1, 512, 3, 1, 2, {5, 13}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true},
        /* one output channel (a matrix-vector product per tile) */
        {2, 5, 1, 1, 2, {9, 8}, {3, 2}, {1, 1}, {1, 1}, {1, 0}, {1, 1}, true},
        /* no input channels: the output is the bias */
        {2, 0, 4, 1, 2, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_conv_case(&cases[i], 10 + 3 * (unsigned)i);
}
END_TEST

START_TEST(conv_1d_and_3d_shapes)
{
    /* batch, cin, cout, group, rank, in, kernel, stride, dilation, pad_b, pad_e, bias */
    static const conv_case cases[] = {
        {1, 3, 4, 1, 1, {17}, {3}, {1}, {1}, {1}, {1}, true},
        {2, 4, 6, 2, 1, {31}, {5}, {3}, {2}, {0}, {4}, false},
        {1, 5, 5, 5, 1, {40}, {7}, {2}, {1}, {3}, {3}, true},   /* depthwise 1-D */
        {1, 6, 3, 1, 1, {33}, {1}, {1}, {1}, {0}, {0}, true},   /* pointwise 1-D */
        {1, 2, 3, 1, 3, {5, 6, 7}, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, true},
        {2, 4, 4, 2, 3, {7, 5, 9}, {2, 3, 2}, {2, 1, 3}, {1, 2, 1}, {0, 2, 1}, {1, 0, 1}, false},
        {1, 3, 3, 3, 3, {6, 7, 5}, {3, 2, 3}, {1, 1, 2}, {2, 1, 1}, {2, 1, 0}, {1, 1, 2}, true},
        {1, 4, 2, 1, 3, {3, 4, 5}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_conv_case(&cases[i], 200 + 3 * (unsigned)i);
}
END_TEST

/* ======================================================================== */
/* Pooling                                                                  */
/* ======================================================================== */

typedef struct pool_case {
    int64_t planes;
    int rank;
    int64_t in[3], kernel[3], stride[3], dilation[3], pad_b[3], pad_e[3];
    bool ceil_mode;
} pool_case;

/* The test's own ONNX output extent, with ceil_mode's rule that a last
 * window starting in the end padding is dropped. */
static int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe,
                        bool ceil_mode)
{
    int64_t span = in + pb + pe - ((k - 1) * d + 1);
    int64_t out = ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
    if (ceil_mode && (out - 1) * s >= in + pb) out--;
    return out;
}

static oc_pool_geom pool_geom_of(const pool_case *pc)
{
    oc_pool_geom g = {pc->planes, {oc_window_unit(), oc_window_unit(), oc_window_unit()}};
    for (int i = 0; i < pc->rank; i++) {
        oc_window_dim *d = &g.dim[3 - pc->rank + i];
        d->in = pc->in[i];
        d->kernel = pc->kernel[i];
        d->stride = pc->stride[i] ? pc->stride[i] : 1;
        d->dilation = pc->dilation[i] ? pc->dilation[i] : 1;
        d->pad_begin = pc->pad_b[i];
        d->pad_end = pc->pad_e[i];
        d->out = pool_out(d->in, d->kernel, d->stride, d->dilation, d->pad_begin, d->pad_end,
                          pc->ceil_mode);
        ck_assert_int_ge(d->out, 1);
    }
    return g;
}

static size_t pool_count(const oc_pool_geom *g, bool out)
{
    size_t n = (size_t)g->planes;
    for (int i = 0; i < 3; i++) n *= (size_t)(out ? g->dim[i].out : g->dim[i].in);
    return n;
}

static const pool_case pool_cases[] = {
    /* planes, rank, in, kernel, stride, dilation, pad_b, pad_e, ceil_mode */
    {3, 2, {32, 32}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, false},
    {2, 2, {55, 55}, {3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, false}, /* AlexNet */
    {2, 2, {13, 14}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, true},
    {1, 2, {4, 4}, {3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, true},   /* ceil adds a clipped window */
    {1, 2, {2, 2}, {1, 1}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, true},   /* ceil output reduced by one */
    {3, 2, {2, 2}, {3, 3}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, true},   /* last window starts on pad */
    {2, 2, {11, 9}, {3, 2}, {1, 3}, {2, 3}, {2, 1}, {1, 2}, false}, /* dilations, asymmetric pads */
    {2, 2, {10, 10}, {4, 3}, {3, 2}, {2, 2}, {1, 2}, {3, 0}, true},
    {1, 1, {32}, {2}, {1}, {1}, {0}, {0}, false},
    {4, 1, {19}, {4}, {3}, {2}, {3}, {2}, true},
    {1, 3, {8, 9, 10}, {2, 3, 2}, {2, 1, 2}, {1, 1, 2}, {1, 0, 1}, {0, 2, 1}, true},
    {1, 3, {32, 32, 32}, {5, 5, 5}, {3, 3, 3}, {2, 2, 2}, {0, 0, 0}, {0, 0, 0}, true},
    {2, 2, {7, 7}, {7, 7}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, false},  /* global-sized window */
    {2, 2, {5, 40}, {5, 5}, {1, 1}, {1, 1}, {2, 2}, {2, 2}, false}, /* mostly interior rows */
};

START_TEST(maxpool_matches_reference)
{
    for (size_t i = 0; i < sizeof pool_cases / sizeof *pool_cases; i++) {
        oc_pool_geom g = pool_geom_of(&pool_cases[i]);
        size_t nx = pool_count(&g, false), ny = pool_count(&g, true);
        float *x = dyadic(nx, 40 + (unsigned)i);
        if (i % 3 == 0) x[nx / 2] = NAN; /* a NaN wins its windows in both */
        for (int col_major = 0; col_major < 2; col_major++) {
            float *y = filled(ny, POISON), *ey = filled(ny, -POISON);
            int64_t *idx = malloc(ny * sizeof *idx), *eidx = malloc(ny * sizeof *eidx);
            for (size_t j = 0; j < ny; j++) idx[j] = -7, eidx[j] = -8;
            oc_maxpool_f32(&g, x, y, idx, col_major, 0, g.planes);
            oc_maxpool_f32_ref(&g, x, ey, eidx, col_major, 0, g.planes);
            expect_close(y, ey, ny, "maxpool values");
            for (size_t j = 0; j < ny; j++)
                ck_assert_msg(idx[j] == eidx[j],
                              "maxpool case %zu col_major %d: index[%zu] = %lld, expected %lld", i,
                              col_major, j, (long long)idx[j], (long long)eidx[j]);
            /* Without indices, the same values. */
            float *y2 = filled(ny, POISON);
            oc_maxpool_f32(&g, x, y2, NULL, false, 0, g.planes);
            expect_close(y2, ey, ny, "maxpool values without indices");
            free(y), free(ey), free(idx), free(eidx), free(y2);
        }
        free(x);
    }
}
END_TEST

START_TEST(avgpool_matches_reference)
{
    for (size_t i = 0; i < sizeof pool_cases / sizeof *pool_cases; i++) {
        oc_pool_geom g = pool_geom_of(&pool_cases[i]);
        size_t nx = pool_count(&g, false), ny = pool_count(&g, true);
        float *x = dyadic(nx, 70 + (unsigned)i);
        for (int include_pad = 0; include_pad < 2; include_pad++) {
            float *y = filled(ny, POISON), *ey = filled(ny, -POISON);
            oc_avgpool_f32(&g, include_pad, x, y, 0, g.planes);
            oc_avgpool_f32_ref(&g, include_pad, x, ey, 0, g.planes);
            char what[64];
            snprintf(what, sizeof what, "avgpool case %zu count_include_pad %d", i, include_pad);
            expect_close(y, ey, ny, what);
            free(y), free(ey);
        }
        free(x);
    }
}
END_TEST

/* The plane range splits the work: two halves equal the whole. */
START_TEST(pool_plane_ranges)
{
    oc_pool_geom g = pool_geom_of(&pool_cases[2]);
    size_t nx = pool_count(&g, false), ny = pool_count(&g, true);
    float *x = dyadic(nx, 99), *whole = filled(ny, POISON), *parts = filled(ny, -POISON);
    int64_t *iw = malloc(ny * sizeof *iw), *ip = malloc(ny * sizeof *ip);
    oc_maxpool_f32(&g, x, whole, iw, false, 0, g.planes);
    oc_maxpool_f32(&g, x, parts, ip, false, 1, g.planes);
    oc_maxpool_f32(&g, x, parts, ip, false, 0, 1);
    ck_assert(memcmp(whole, parts, ny * sizeof *whole) == 0);
    ck_assert(memcmp(iw, ip, ny * sizeof *iw) == 0);
    oc_avgpool_f32(&g, true, x, whole, 0, g.planes);
    oc_avgpool_f32(&g, true, x, parts, 1, g.planes);
    oc_avgpool_f32(&g, true, x, parts, 0, 1);
    ck_assert(memcmp(whole, parts, ny * sizeof *whole) == 0);
    free(x), free(whole), free(parts), free(iw), free(ip);
}
END_TEST

START_TEST(global_avgpool_matches_reference)
{
    static const int64_t sizes[] = {1, 3, 7, 8, 9, 49, 1000, 4097};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        int64_t planes = 5, size = sizes[i];
        float *x = dyadic((size_t)(planes * size), 300 + (unsigned)i);
        float *y = filled((size_t)planes, POISON), *ey = filled((size_t)planes, -POISON);
        oc_global_avgpool_f32(size, x, y, 0, planes);
        oc_global_avgpool_f32_ref(size, x, ey, 0, planes);
        expect_close(y, ey, (size_t)planes, "global average");
        free(x), free(y), free(ey);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernels");
    TCase *gemm = tcase_create("sgemm");
    tcase_set_timeout(gemm, 600);
    tcase_add_test(gemm, sgemm_all_transposes_and_odd_sizes);
    tcase_add_test(gemm, sgemm_crosses_block_boundaries);
    tcase_add_test(gemm, sgemm_vector_paths);
    tcase_add_test(gemm, sgemm_degenerate_sizes);
    tcase_add_test(gemm, sgemm_workspace_grows_with_size);
    tcase_add_test(gemm, sgemm_real_values_within_rounding_bound);
    suite_add_tcase(s, gemm);

    TCase *conv = tcase_create("conv");
    tcase_set_timeout(conv, 600);
    tcase_add_test(conv, conv_2d_shapes);
    tcase_add_test(conv, conv_1d_and_3d_shapes);
    suite_add_tcase(s, conv);

    TCase *pool = tcase_create("pool");
    tcase_set_timeout(pool, 600);
    tcase_add_test(pool, maxpool_matches_reference);
    tcase_add_test(pool, avgpool_matches_reference);
    tcase_add_test(pool, pool_plane_ranges);
    tcase_add_test(pool, global_avgpool_matches_reference);
    suite_add_tcase(s, pool);

    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
