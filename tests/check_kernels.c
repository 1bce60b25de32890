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
#include "kernels/conv_direct.h"
#include "kernels/gemm.h"
#include "kernels/pool.h"
#include "kernels/winograd.h"
#include "op_harness.h"

TCase *kernels_gemm_tcase(void); /* kernels_gemm.c: every ISA's SGEMM */
TCase *kernels_direct_tcase(void); /* kernels_direct.c: every ISA's direct conv */

#define POISON 12345.0f /* what an output element the kernel forgot would keep */

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
    float *a = oh_dyadic(a_rows * lda, seed), *b = oh_dyadic(b_rows * ldb, seed + 1);
    float *c = oh_dyadic(gc.m * ldc, seed + 2);
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

/* The activations a Conv may carry: none, Relu, and Clip with lo > hi. */
static const oc_conv_act test_acts[] = {
    {-INFINITY, INFINITY}, {0.0f, INFINITY}, {-0.25f, 0.5f}, {0.75f, -0.5f}};
#define N_TEST_ACTS (sizeof test_acts / sizeof *test_acts)

static void apply_act(float *y, size_t n, oc_conv_act act)
{
    for (size_t i = 0; i < n; i++) {
        float v = y[i] < act.lo ? act.lo : y[i];
        y[i] = v > act.hi ? act.hi : v;
    }
}

/* Runs oc_conv_f32 on threads threads (a pool of that size, scratch sized
 * for it) into y, which is first poisoned. */
static void run_conv(const oc_conv_geom *g, const oc_conv_weights *pw, const float *x,
                     const float *w, const float *b, const float *sum, oc_conv_act act, float *y,
                     size_t y_n, int threads)
{
    for (size_t i = 0; i < y_n; i++) y[i] = POISON;
    oc_pool *pool = NULL;
    ck_assert_ptr_null(oc_pool_create(threads, &pool));
    size_t ws_bytes;
    ck_assert(oc_conv_f32_workspace(g, pw, threads, &ws_bytes));
    void *ws = workspace(ws_bytes);
    oc_conv_f32(g, pw, x, w, b, sum, act, y, ws, ws_bytes, pool);
    free(ws);
    oc_pool_free(pool);
}

static void check_conv_case(const conv_case *cc, unsigned seed)
{
    oc_conv_geom g = conv_geom_of(cc);
    size_t x_n = (size_t)(g.batch * g.in_channels) * plane_in(&g);
    size_t w_n = (size_t)(g.out_channels * (g.in_channels / g.group)) * kvol(&g);
    size_t y_n = (size_t)(g.batch * g.out_channels) * plane_out(&g);
    float *x = oh_dyadic(x_n, seed), *w = oh_dyadic(w_n, seed + 1),
          *b = oh_dyadic((size_t)g.out_channels, seed + 2), *sum = oh_dyadic(y_n, seed + 3);
    float *y = filled(y_n, POISON), *ref = filled(y_n, -POISON), *expected = filled(y_n, 0);
    oc_conv_f32_ref(&g, x, w, cc->bias ? b : NULL, ref);
    /* The weights as they are and packed for the GEMM; every activation, on
     * 1 to 3 threads (the splits differ); with a sum (a fused residual Add)
     * under the last activation. */
    oh_allocs allocs = {{0}, 0};
    oc_conv_weights packed;
    ck_assert(oc_conv_prepare_method(&g, 0, w, oh_alloc, &allocs, &packed));
    for (int use_packed = 0; use_packed < 2; use_packed++)
    for (size_t a = 0; a <= N_TEST_ACTS; a++)
        for (int threads = 1; threads <= 3; threads++) {
            if (a > 0 && threads == 2) continue;
            bool with_sum = a == N_TEST_ACTS;
            oc_conv_act act = test_acts[with_sum ? N_TEST_ACTS - 1 : a];
            for (size_t i = 0; i < y_n; i++) expected[i] = ref[i] + (with_sum ? sum[i] : 0.0f);
            apply_act(expected, y_n, act);
            run_conv(&g, use_packed ? &packed : NULL, x, w, cc->bias ? b : NULL,
                     with_sum ? sum : NULL, act, y, y_n, threads);
            char what[160];
            snprintf(what, sizeof what,
                     "conv case seed %u (rank %d, group %lld), packed %d, act %zu, sum %d, %d "
                     "threads",
                     seed, cc->rank, (long long)cc->group, use_packed, a, with_sum, threads);
            expect_close(y, expected, y_n, what);
        }
    oh_allocs_free(&allocs);
    /* Scratch for one thread: a pool's other threads stay idle. */
    {
        size_t ws_bytes;
        ck_assert(oc_conv_f32_workspace(&g, NULL, 1, &ws_bytes));
        void *ws = workspace(ws_bytes);
        oc_pool *pool = NULL;
        ck_assert_ptr_null(oc_pool_create(3, &pool));
        for (size_t i = 0; i < y_n; i++) y[i] = POISON;
        oc_conv_f32(&g, NULL, x, w, cc->bias ? b : NULL, NULL, oc_conv_act_none(), y, ws,
                    ws_bytes, pool);
        expect_close(y, ref, y_n, "conv with scratch for one thread");
        oc_pool_free(pool);
        free(ws);
    }
    free(x), free(w), free(b), free(sum), free(y), free(ref), free(expected);
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

/* ---- Winograd ---- */

typedef struct wino_case {
    int64_t batch, cin, cout, h, w, pad_t, pad_l, pad_b, pad_r;
    bool bias;
    int64_t kh, kw;
} wino_case;

static conv_case conv_case_of(const wino_case *wc)
{
    conv_case cc = {wc->batch, wc->cin, wc->cout, 1, 2, {wc->h, wc->w},
                    {wc->kh, wc->kw}, {1, 1}, {1, 1},
                    {wc->pad_t, wc->pad_l}, {wc->pad_b, wc->pad_r}, wc->bias};
    return cc;
}

static float *uniform(size_t n, unsigned seed)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    oh_fill(p, n, seed, -1.0f, 1.0f);
    return p;
}

static float *absolute(const float *p, size_t n)
{
    float *q = malloc((n ? n : 1) * sizeof *q);
    ck_assert_ptr_nonnull(q);
    for (size_t i = 0; i < n; i++) q[i] = fabsf(p[i]);
    return q;
}

/* The worst |y - expected| / bound over the elements. */
static double worst_ratio(const float *y, const float *expected, const float *bound, size_t n,
                          size_t *where)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double r = fabs((double)y[i] - expected[i]) / ((double)bound[i] + 1e-30);
        if (!(r <= worst)) { /* NaN included */
            worst = r;
            *where = i;
        }
    }
    return worst;
}

/* Winograd (tile m) against the direct double-precision reference on
 * real-valued data, for every activation and 1 to 3 threads: each element
 * within tol * (|x| (*) |w| + |b|), the scale of its rounding errors. (On
 * these cases the worst seen is about 1.2e-7 of that for F(2,3), 2.5e-6
 * for F(4,3) and 7e-6 for F(6,3); direct float summation stays near 1e-7.) */
static void check_winograd_case(const wino_case *wc, int m, double tol, unsigned seed)
{
    conv_case cc = conv_case_of(wc);
    oc_conv_geom g = conv_geom_of(&cc);
    ck_assert(oc_winograd_applies(&g));
    size_t x_n = (size_t)(g.batch * g.in_channels) * plane_in(&g);
    size_t w_n = (size_t)(g.out_channels * g.in_channels) * kvol(&g);
    size_t y_n = (size_t)(g.batch * g.out_channels) * plane_out(&g);
    float *x = uniform(x_n, seed), *w = uniform(w_n, seed + 1);
    float *b = uniform((size_t)g.out_channels, seed + 2);
    float *ax = absolute(x, x_n), *aw = absolute(w, w_n), *ab = absolute(b, (size_t)g.out_channels);
    float *ref = filled(y_n, 0), *bound = filled(y_n, 0), *expected = filled(y_n, 0);
    float *y = filled(y_n, POISON);
    const float *bias = wc->bias ? b : NULL;
    oc_conv_f32_ref(&g, x, w, bias, ref);
    oc_conv_f32_ref(&g, ax, aw, wc->bias ? ab : NULL, bound);

    oh_allocs allocs = {{0}, 0};
    oc_conv_weights pw;
    ck_assert(oc_conv_prepare_method(&g, m, w, oh_alloc, &allocs, &pw));
    ck_assert_int_eq(pw.winograd_m, m);
    /* The last round adds a sum (a fused residual Add) under the last
     * activation; the sum's own rounding joins the bound. */
    float *sum = uniform(y_n, seed + 3), *sum_bound = filled(y_n, 0);
    for (size_t i = 0; i < y_n; i++) sum_bound[i] = bound[i] + fabsf(sum[i]);
    for (size_t a = 0; a <= N_TEST_ACTS; a++)
        for (int threads = 1; threads <= 3; threads++) {
            if (a > 0 && threads == 2) continue;
            bool with_sum = a == N_TEST_ACTS;
            oc_conv_act act = test_acts[with_sum ? N_TEST_ACTS - 1 : a];
            for (size_t i = 0; i < y_n; i++) expected[i] = ref[i] + (with_sum ? sum[i] : 0.0f);
            apply_act(expected, y_n, act);
            run_conv(&g, &pw, x, w, bias, with_sum ? sum : NULL, act, y, y_n, threads);
            size_t at = 0;
            double r = worst_ratio(y, expected, with_sum ? sum_bound : bound, y_n, &at);
            ck_assert_msg(r <= tol,
                          "winograd F(%d,3) seed %u act %zu sum %d threads %d: y[%zu] = %.9g, "
                          "expected %.9g (error %.3g x the bound, allowed %.3g)",
                          m, seed, a, with_sum, threads, at, y[at], expected[at], r, tol);
        }
    free(sum), free(sum_bound);

    /* The reference Winograd (double) agrees with the direct reference. */
    if (y_n * (size_t)g.in_channels < 2000000) {
        oc_winograd_conv_ref(&g, m, x, w, bias, y);
        size_t at = 0;
        double r = worst_ratio(y, ref, bound, y_n, &at);
        ck_assert_msg(r <= 1e-6, "reference winograd F(%d,3): y[%zu] = %.9g, expected %.9g", m,
                      at, y[at], ref[at]);
    }
    free(x), free(w), free(b), free(ax), free(aw), free(ab), free(ref), free(bound);
    free(expected), free(y);
    oh_allocs_free(&allocs);
}

/* batch, cin, cout, h, w, pads (top, left, bottom, right), bias */
static const wino_case wino_cases[] = {
    {1, 8, 8, 8, 8, 1, 1, 1, 1, true, 3, 3},        /* whole tiles */
    {1, 3, 5, 7, 9, 1, 1, 1, 1, true, 3, 3},        /* odd everything */
    {2, 16, 24, 13, 11, 1, 1, 1, 1, false, 3, 3},   /* batch 2, partial tiles */
    {1, 9, 7, 12, 10, 0, 0, 0, 0, true, 3, 3},      /* no padding */
    {1, 6, 4, 5, 6, 2, 0, 1, 2, true, 3, 3},        /* asymmetric and wide pads */
    {3, 4, 9, 1, 1, 1, 1, 1, 1, true, 3, 3},        /* 1x1 images */
    {1, 5, 3, 3, 40, 1, 1, 1, 1, true, 3, 3},       /* one tile row, many columns */
    {1, 17, 70, 37, 35, 1, 1, 1, 1, true, 3, 3},    /* several sub-blocks and channel blocks */
    {2, 40, 33, 25, 31, 1, 1, 1, 1, false, 3, 3},   /* tiles of both images in one group */
    {1, 520, 9, 42, 38, 1, 1, 1, 1, true, 3, 3},    /* several super-blocks */
    {4, 64, 130, 7, 7, 1, 1, 1, 1, true, 3, 3},     /* small images, many channels */
    /* bigger kernels in 3x3 pieces: 5x5, 7x7, 4x4, 3x5, 9x9, 6x8 */
    {1, 12, 10, 17, 15, 2, 2, 2, 2, true, 5, 5},
    {2, 5, 7, 16, 13, 3, 3, 3, 3, false, 7, 7},
    {1, 9, 6, 11, 12, 1, 2, 2, 1, true, 4, 4},
    {1, 8, 9, 10, 21, 1, 2, 1, 2, true, 3, 5},
    {1, 4, 5, 12, 12, 4, 4, 4, 4, true, 9, 9},
    {1, 6, 7, 14, 15, 0, 3, 1, 4, true, 6, 8},
    {1, 3, 4, 4, 5, 2, 2, 2, 2, true, 5, 5},  /* image smaller than the kernel */
    /* wide rows: groups of 16 tiles side by side inside the image */
    {1, 6, 5, 13, 150, 1, 1, 1, 1, true, 3, 3},
    {2, 5, 4, 14, 141, 2, 2, 2, 2, true, 5, 5},
    {1, 4, 3, 9, 70, 0, 0, 0, 0, false, 3, 3},
    /* a last vector of 1 to 4 tiles, multiplied tile by tile (F(4,3): 49,
     * 50, 51, 52 tiles; 56 x 56: sub-blocks of 48 and one of 4), channels
     * not a multiple of a vector; then deep enough for the GEMM's products */
    {1, 19, 20, 28, 28, 1, 1, 1, 1, true, 3, 3},
    {1, 21, 18, 20, 40, 1, 1, 1, 1, true, 3, 3},
    {1, 23, 17, 12, 68, 1, 1, 1, 1, false, 3, 3},
    {1, 18, 16, 16, 52, 1, 1, 1, 1, true, 3, 3},
    {1, 17, 9, 56, 56, 1, 1, 1, 1, true, 3, 3},
    {1, 150, 24, 28, 28, 1, 1, 1, 1, true, 3, 3},
};

START_TEST(winograd_f2_matches_reference)
{
    for (size_t i = 0; i < sizeof wino_cases / sizeof *wino_cases; i++)
        check_winograd_case(&wino_cases[i], 2, 5e-6, 600 + 3 * (unsigned)i);
}
END_TEST

START_TEST(winograd_f4_matches_reference)
{
    for (size_t i = 0; i < sizeof wino_cases / sizeof *wino_cases; i++)
        check_winograd_case(&wino_cases[i], 4, 1e-5, 700 + 3 * (unsigned)i);
}
END_TEST

START_TEST(winograd_f6_matches_reference)
{
    for (size_t i = 0; i < sizeof wino_cases / sizeof *wino_cases; i++)
        check_winograd_case(&wino_cases[i], 6, 4e-5, 800 + 3 * (unsigned)i);
}
END_TEST

/* Strided convolutions through space-to-depth and Winograd: the weights
 * prepared for the regrouped form (checked), the result within Winograd's
 * rounding scale of the direct reference, on 1 to 3 threads. */
START_TEST(conv_space_to_depth)
{
    /* batch, cin, cout, group, rank, in, kernel, stride, dilation, pad_b, pad_e, bias */
    static const conv_case cases[] = {
        {1, 3, 16, 1, 2, {63, 63}, {11, 11}, {4, 4}, {1, 1}, {2, 2}, {2, 2}, true}, /* AlexNet */
        {2, 3, 9, 1, 2, {40, 37}, {11, 11}, {4, 4}, {1, 1}, {1, 3}, {2, 0}, false},
        {1, 2, 8, 1, 2, {30, 31}, {9, 9}, {3, 3}, {1, 1}, {4, 4}, {4, 4}, true},
        {1, 4, 10, 1, 2, {21, 26}, {6, 5}, {2, 2}, {1, 1}, {2, 1}, {3, 2}, true},
        {2, 3, 8, 1, 2, {40, 41}, {11, 11}, {4, 4}, {1, 1}, {5, 5}, {5, 5}, true}, /* wide pads */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        oc_conv_geom g = conv_geom_of(&cases[i]);
        size_t x_n = (size_t)(g.batch * g.in_channels) * plane_in(&g);
        size_t w_n = (size_t)(g.out_channels * g.in_channels) * kvol(&g);
        size_t y_n = (size_t)(g.batch * g.out_channels) * plane_out(&g);
        unsigned seed = 950 + 5 * (unsigned)i;
        float *x = uniform(x_n, seed), *w = uniform(w_n, seed + 1);
        float *b = uniform((size_t)g.out_channels, seed + 2);
        float *ax = absolute(x, x_n), *aw = absolute(w, w_n);
        float *ab = absolute(b, (size_t)g.out_channels);
        float *ref = filled(y_n, 0), *bound = filled(y_n, 0), *y = filled(y_n, POISON);
        const float *bias = cases[i].bias ? b : NULL;
        oc_conv_f32_ref(&g, x, w, bias, ref);
        oc_conv_f32_ref(&g, ax, aw, cases[i].bias ? ab : NULL, bound);
        oh_allocs allocs = {{0}, 0};
        oc_conv_weights pw;
        ck_assert(oc_conv_prepare_weights(&g, true, w, oh_alloc, &allocs, &pw));
        /* Space-to-depth Winograd, or the direct method where its rows are
         * wide enough (the portable build's 4-float vectors). */
        ck_assert_msg((pw.s2d == (int)g.dim[2].stride && pw.winograd_m != 0) ||
                          (pw.direct && oc_conv_direct_applies(&g)),
                      "case %zu: s2d %d, winograd %d, direct %d", i, pw.s2d, pw.winograd_m,
                      pw.direct != NULL);
        ck_assert_ptr_eq(pw.source, w);
        for (int threads = 1; threads <= 3; threads++) {
            run_conv(&g, &pw, x, w, bias, NULL, oc_conv_act_none(), y, y_n, threads);
            size_t at = 0;
            double r = worst_ratio(y, ref, bound, y_n, &at);
            ck_assert_msg(r <= 1e-5, "space-to-depth case %zu, %d threads: y[%zu] = %.9g, "
                          "expected %.9g (%.3g x the bound)", i, threads, at, y[at], ref[at], r);
        }
        oh_allocs_free(&allocs);
        free(x), free(w), free(b), free(ax), free(aw), free(ab), free(ref), free(bound), free(y);
    }
}
END_TEST

/* Geometries Winograd does not compute take another method even when
 * given transformed weights (made for a 3x3 stride-1 convolution with the
 * same channels); the transforms of a single tile match the matrices. */
START_TEST(winograd_applicability)
{
    /* stride 2, dilation 2, 1x1 image with a 3x3 window in padding */
    static const conv_case others[] = {
        {1, 8, 8, 1, 2, {9, 9}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, true},
        {1, 8, 8, 1, 2, {9, 9}, {3, 3}, {1, 1}, {2, 2}, {2, 2}, {2, 2}, true},
        {2, 8, 8, 1, 2, {11, 12}, {3, 3}, {2, 1}, {1, 1}, {0, 1}, {1, 1}, false},
    };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        oc_conv_geom g = conv_geom_of(&others[i]);
        ck_assert(!oc_winograd_applies(&g));
        conv_case plain = others[i];
        plain.stride[0] = plain.stride[1] = plain.dilation[0] = plain.dilation[1] = 1;
        oc_conv_geom g3 = conv_geom_of(&plain);
        ck_assert(oc_winograd_applies(&g3));
        size_t x_n = (size_t)(g.batch * g.in_channels) * plane_in(&g);
        size_t w_n = (size_t)(g.out_channels * g.in_channels) * kvol(&g);
        size_t y_n = (size_t)(g.batch * g.out_channels) * plane_out(&g);
        float *x = oh_dyadic(x_n, 900 + (unsigned)i), *w = oh_dyadic(w_n, 901 + (unsigned)i);
        float *y = filled(y_n, POISON), *ref = filled(y_n, 0);
        oh_allocs allocs = {{0}, 0};
        oc_conv_weights pw;
        ck_assert(oc_conv_prepare_method(&g3, 4, w, oh_alloc, &allocs, &pw));
        ck_assert_int_eq(pw.winograd_m, 4);
        oc_conv_f32_ref(&g, x, w, NULL, ref);
        run_conv(&g, &pw, x, w, NULL, NULL, oc_conv_act_none(), y, y_n, 2);
        expect_close(y, ref, y_n, "conv with transformed weights it cannot use");
        /* Asked for Winograd on a geometry it does not compute: nothing. */
        oc_conv_weights none;
        ck_assert(oc_conv_prepare_method(&g, 4, w, oh_alloc, &allocs, &none));
        ck_assert_int_eq(none.winograd_m, 0);
        oh_allocs_free(&allocs);
        free(x), free(w), free(y), free(ref);
    }
    /* Winograd applies to 1-D-looking 2-D (1 x W input, 3x3 kernel, padded). */
    conv_case one_row = {1, 2, 2, 1, 2, {1, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true};
    oc_conv_geom g1 = conv_geom_of(&one_row);
    ck_assert(oc_winograd_applies(&g1));

    /* One tile by the reference transforms and by hand: the 1-D F(m,3)
     * with an impulse input picks out the kernel. */
    for (int m = 2; m <= 6; m += 2) {
        int a = m + 2;
        double d[64] = {0}, v[64], gk[9], u[64], prod[64], out[36];
        for (int i = 0; i < 9; i++) gk[i] = i + 1;
        for (int i = 0; i < a * a; i++) d[i] = (i * 7 % 11) - 5;
        oc_winograd_input_ref(m, d, v);
        oc_winograd_kernel_ref(m, gk, u);
        for (int i = 0; i < a * a; i++) prod[i] = u[i] * v[i];
        oc_winograd_output_ref(m, prod, out);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) {
                double direct = 0;
                for (int p = 0; p < 3; p++)
                    for (int q = 0; q < 3; q++) direct += d[(i + p) * a + j + q] * gk[p * 3 + q];
                ck_assert_msg(fabs(out[i * m + j] - direct) < 1e-9, "F(%d,3) tile [%d][%d]", m,
                              i, j);
            }
    }
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
    {2, 2, {14, 14}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true},   /* GoogLeNet 3x3 s1 p1 */
    {1, 2, {9, 17}, {2, 4}, {3, 3}, {1, 1}, {0, 1}, {1, 2}, false},   /* stride 3 */
    {2, 1, {2500}, {3}, {2}, {1}, {1}, {1}, true},                    /* rows past the buffer */
    {2, 2, {112, 112}, {3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, true}, /* GoogLeNet stem, wide rows */
    {3, 2, {28, 28}, {2, 2}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, false},  /* VGG */
    {2, 2, {20, 50}, {7, 7}, {1, 1}, {1, 1}, {3, 3}, {3, 3}, false},  /* wide window, pads */
    {1, 2, {9, 70}, {3, 5}, {1, 4}, {1, 1}, {1, 2}, {1, 2}, true},    /* stride 4: buffer row */
    /* 3 wide at stride 1 (lane shifts): a NaN (case 21, 24), pads 0 to 2, rows of 1-3 vectors */
    {2, 2, {28, 28}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false},
    {1, 2, {5, 33}, {2, 3}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, false},
    {2, 2, {6, 37}, {3, 3}, {1, 1}, {1, 1}, {0, 2}, {0, 2}, true},
    {1, 2, {3, 40}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, true},
};

START_TEST(maxpool_matches_reference)
{
    for (size_t i = 0; i < sizeof pool_cases / sizeof *pool_cases; i++) {
        oc_pool_geom g = pool_geom_of(&pool_cases[i]);
        size_t nx = pool_count(&g, false), ny = pool_count(&g, true);
        float *x = oh_dyadic(nx, 40 + (unsigned)i);
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
        float *x = oh_dyadic(nx, 70 + (unsigned)i);
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
    float *x = oh_dyadic(nx, 99), *whole = filled(ny, POISON), *parts = filled(ny, -POISON);
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
        float *x = oh_dyadic((size_t)(planes * size), 300 + (unsigned)i);
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
    suite_add_tcase(s, kernels_gemm_tcase());
    suite_add_tcase(s, kernels_direct_tcase());

    TCase *conv = tcase_create("conv");
    tcase_set_timeout(conv, 600);
    tcase_add_test(conv, conv_2d_shapes);
    tcase_add_test(conv, conv_1d_and_3d_shapes);
    tcase_add_test(conv, winograd_f2_matches_reference);
    tcase_add_test(conv, winograd_f4_matches_reference);
    tcase_add_test(conv, winograd_f6_matches_reference);
    tcase_add_test(conv, winograd_applicability);
    tcase_add_test(conv, conv_space_to_depth);
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
