/* SGEMM kernels of every compiled ISA against the reference, part of the
 * check_kernels suite (kernels_gemm_tcase() is added by its main).
 *
 * Each ISA is forced explicitly (oc_gemm_desc.isa); one this CPU cannot run
 * is reported and skipped. Data are small multiples of 1/8 ("dyadic"), so
 * every product and partial sum is exact in float and the fast kernels must
 * agree with the double-precision reference bit for bit, whatever order they
 * add in: any difference is a wrong or missed element, not rounding. The
 * real-valued test bounds the error by (k + 2) * eps * sum |a| |b| (the
 * classic bound for a recursive sum of k products, plus the epilogue). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/threadpool.h"
#include "kernels/cpu.h"
#include "kernels/gemm.h"
#include "model_builder.h"
#include "onnxc.h"
#include "op_harness.h"

TCase *kernels_gemm_tcase(void);

#define SENTINEL -777.0f /* what C's padding columns hold: the kernels must not touch it */

static void *exact_malloc(size_t bytes)
{
    /* Plain malloc of exactly the size asked for: AddressSanitizer then
     * catches any overrun, and the kernels must cope with 16-byte alignment. */
    void *p = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* ---- one case ---- */

enum { X_SELF, X_MATRIX, X_ROW_BIAS, X_COL_BIAS, X_SCALAR, X_KINDS };
enum { ACT_NONE, ACT_RELU, ACT_CLIP, ACT_KINDS };
enum { PACK_A = 1, PACK_B = 2, PACK_ONLY = 4 }; /* PACK_ONLY: no raw pointer for packed operands */

typedef struct gcase {
    bool ta, tb;
    size_t m, n, k;
    float alpha, beta;
    size_t pad;   /* extra elements per row of A, B, C and X */
    int x_kind;   /* X_* */
    int act;      /* ACT_* */
    int pack;     /* PACK_* bits */
} gcase;

static const char *x_names[] = {"C", "matrix", "row bias", "column bias", "scalar"};

static void describe(char *buf, size_t size, oc_isa isa, const gcase *g, int threads)
{
    snprintf(buf, size,
             "%s ta=%d tb=%d m=%zu n=%zu k=%zu alpha=%g beta=%g pad=%zu X=%s act=%d pack=%d "
             "threads=%d",
             oc_isa_name(isa), g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->beta, g->pad,
             x_names[g->x_kind], g->act, g->pack, threads);
}

/* Runs case g with the forced ISA on pool (threads of them) and compares all
 * of C, padding included, with the reference. */
static void check_case(oc_isa isa, gcase g, oc_pool *pool, unsigned seed)
{
    int threads = oc_pool_size(pool);
    size_t a_rows = g.ta ? g.k : g.m, a_cols = g.ta ? g.m : g.k;
    size_t b_rows = g.tb ? g.n : g.k, b_cols = g.tb ? g.k : g.n;
    size_t lda = a_cols + g.pad, ldb = b_cols + g.pad, ldc = g.n + g.pad;
    float *a = oh_dyadic(a_rows * lda, seed), *b = oh_dyadic(b_rows * ldb, seed + 1);
    float *c = oh_dyadic(g.m * ldc, seed + 2), *xm = oh_dyadic(g.m * ldc, seed + 3);
    float *expected = exact_malloc((g.m * ldc > 0 ? g.m * ldc : 1) * sizeof *expected);
    for (size_t i = 0; i < g.m * ldc; i++)
        if (i % ldc >= g.n) c[i] = SENTINEL;
        else if (g.beta == 0.0f || g.x_kind != X_SELF) c[i] = NAN; /* must not be read */

    oc_gemm_desc d = oc_gemm_desc_make(g.ta, g.tb, g.m, g.n, g.k, a, lda, b, ldb, c, ldc);
    d.isa = isa;
    d.ep.alpha = g.alpha;
    d.ep.beta = g.beta;
    switch (g.x_kind) {
    case X_MATRIX: d.ep.x = xm, d.ep.x_rs = ldc, d.ep.x_cs = 1; break;
    case X_ROW_BIAS: d.ep.x = xm, d.ep.x_rs = 1, d.ep.x_cs = 0; break;
    case X_COL_BIAS: d.ep.x = xm, d.ep.x_rs = 0, d.ep.x_cs = 1; break;
    case X_SCALAR: d.ep.x = xm, d.ep.x_rs = 0, d.ep.x_cs = 0; break;
    default: break;
    }
    if (g.act == ACT_RELU) d.ep.clamp = true, d.ep.lo = 0.0f, d.ep.hi = INFINITY;
    if (g.act == ACT_CLIP) d.ep.clamp = true, d.ep.lo = -0.375f, d.ep.hi = 0.5f;

    memcpy(expected, c, g.m * ldc * sizeof *c);
    oc_gemm_desc ref = d;
    ref.c = expected;
    oc_gemm_ref(&ref);

    oc_gemm_packed pa, pb;
    float *pa_buf = NULL, *pb_buf = NULL;
    if (g.pack & PACK_A) {
        pa_buf = exact_malloc(oc_gemm_pack_a_size(isa, g.m, g.k));
        oc_gemm_pack_a(isa, g.ta, g.m, g.k, a, lda, pa_buf, &pa);
        d.packed_a = &pa;
        if (g.pack & PACK_ONLY) d.a = NULL;
    }
    if (g.pack & PACK_B) {
        pb_buf = exact_malloc(oc_gemm_pack_b_size(isa, g.n, g.k));
        oc_gemm_pack_b(isa, g.tb, g.k, g.n, b, ldb, pb_buf, &pb);
        d.packed_b = &pb;
        if (g.pack & PACK_ONLY) d.b = NULL;
    }
    size_t ws_size = oc_gemm_workspace(g.m, g.n, g.k, threads);
    void *ws = exact_malloc(ws_size);
    oc_gemm(&d, pool, ws, ws_size);

    for (size_t i = 0; i < g.m * ldc; i++) {
        bool same = c[i] == expected[i] || (isnan(c[i]) && isnan(expected[i]));
        if (!same || (i % ldc < g.n && isnan(c[i]))) {
            char what[256];
            describe(what, sizeof what, isa, &g, threads);
            ck_abort_msg("%s: C[%zu][%zu] is %.9g, expected %.9g", what, i / ldc, i % ldc, c[i],
                         expected[i]);
        }
    }
    free(ws), free(pa_buf), free(pb_buf);
    free(a), free(b), free(c), free(xm), free(expected);
}

/* ---- the ISAs ---- */

/* Calls body(isa) for each compiled ISA this CPU runs; notes the others. */
#define FOR_EACH_ISA(isa)                                                                    \
    for (int isa_i_ = 0; isa_i_ < OC_ISA_COUNT; isa_i_++)                                     \
        if (!oc_isa_supported((oc_isa)isa_i_)) {                                             \
            if (oc_isa_compiled((oc_isa)isa_i_))                                             \
                fprintf(stderr, "note: %s kernels compiled but not run (this CPU lacks them or ONNXC_MAX_ISA excludes them)\n",  \
                        oc_isa_name((oc_isa)isa_i_));                                        \
        } else                                                                               \
            for (oc_isa isa = (oc_isa)isa_i_; isa == (oc_isa)isa_i_; isa = OC_ISA_COUNT)

static const float alphas[] = {1.0f, 0.5f, -1.5f, 2.0f};
static const float betas[] = {0.0f, 1.0f, 0.25f, -1.0f};

static oc_pool *make_pool(int threads)
{
    oc_pool *pool = NULL;
    ck_assert_ptr_null(oc_pool_create(threads, &pool));
    return pool;
}

/* M, N, K over 1..70 (every edge of the register tiles: 4x8, 6x16, 8x48,
 * and the few-vector paths at <= 8), all transposes, strides, alpha/beta. */
START_TEST(gemm_isa_odd_shapes)
{
    static const size_t mn[] = {1, 2, 3, 5, 7, 8, 9, 12, 13, 16, 17, 31, 33, 47, 48, 49, 65, 70};
    static const size_t ks[] = {1, 2, 7, 16, 17, 70};
    size_t nmn = sizeof mn / sizeof *mn, nk = sizeof ks / sizeof *ks;
    long cases = 0;
    FOR_EACH_ISA(isa)
    {
        unsigned seed = 1;
        for (size_t im = 0; im < nmn; im++)
            for (size_t in = 0; in < nmn; in++)
                for (size_t ik = 0; ik < nk; ik++, seed += 7) {
                    unsigned h = seed * 2654435761u >> 7;
                    gcase g = {h & 1, (h >> 1) & 1, mn[im], mn[in], ks[ik], alphas[(h >> 2) % 4],
                               betas[(h >> 4) % 4], (h >> 6) % 3, X_SELF, ACT_NONE, 0};
                    check_case(isa, g, NULL, seed);
                    cases++;
                }
        /* Every transpose on a subset. */
        for (int t = 0; t < 4; t++)
            for (size_t im = 0; im < nmn; im += 3)
                for (size_t in = 1; in < nmn; in += 3, seed += 3) {
                    gcase g = {t & 1, t >> 1, mn[im], mn[in], 33, 1.0f, 0.5f, 1, X_SELF,
                               ACT_NONE, 0};
                    check_case(isa, g, NULL, seed);
                    cases++;
                }
    }
    ck_assert_int_gt(cases, 0);
}
END_TEST

/* Shapes that cross every blocking boundary (KC up to 320 with uneven
 * slices, MC up to 256, NC up to 1024) and the long-K chunking of the
 * few-vector paths. */
START_TEST(gemm_isa_large_shapes)
{
    static const gcase cases[] = {
        {false, false, 257, 481, 641, 1.0f, 0.0f, 0, X_SELF, ACT_NONE, 0},
        {true, false, 130, 1030, 321, 0.5f, 1.0f, 3, X_SELF, ACT_NONE, 0},
        {false, true, 300, 97, 700, -1.5f, 0.25f, 1, X_SELF, ACT_NONE, 0},
        {true, true, 61, 1100, 260, 1.0f, -1.0f, 2, X_SELF, ACT_NONE, 0},
        {false, false, 64, 3025, 363, 1.0f, 1.0f, 0, X_ROW_BIAS, ACT_RELU, PACK_A}, /* AlexNet conv1 */
        {false, false, 384, 169, 1728, 1.0f, 1.0f, 0, X_ROW_BIAS, ACT_RELU, PACK_A}, /* conv4 */
        {false, true, 9, 1000, 2100, 1.0f, 1.0f, 0, X_COL_BIAS, ACT_RELU, PACK_B},
        {false, true, 4, 300, 4100, 1.0f, 1.0f, 1, X_COL_BIAS, ACT_NONE, 0},  /* FC, batch 4 */
        {false, false, 3, 1100, 1000, 1.0f, 1.0f, 2, X_COL_BIAS, ACT_CLIP, 0}, /* [K,N] weights */
        {false, false, 1030, 5, 700, 2.0f, 0.5f, 1, X_MATRIX, ACT_NONE, 0},
        {true, false, 700, 2, 900, 1.0f, 1.0f, 0, X_ROW_BIAS, ACT_RELU, 0},
    };
    FOR_EACH_ISA(isa)
    {
        oc_pool *pools[3] = {NULL, make_pool(2), make_pool(3)};
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
            for (int t = 0; t < 3; t++) check_case(isa, cases[i], pools[t], 100 + (unsigned)i);
        oc_pool_free(pools[1]);
        oc_pool_free(pools[2]);
    }
}
END_TEST

/* Every epilogue (X kinds, beta, clamp) on the blocked and the few-vector
 * paths, with each packed-operand variant. */
START_TEST(gemm_isa_epilogues_and_packing)
{
    static const size_t shapes[][3] = {{37, 53, 45}, {8, 100, 70}, {3, 70, 33}, {70, 3, 40},
                                       {1, 65, 17},  {66, 1, 130}, {49, 16, 300}, {17, 96, 20}};
    static const int packs[] = {0, PACK_A, PACK_B, PACK_A | PACK_B, PACK_A | PACK_ONLY,
                                PACK_B | PACK_ONLY, PACK_A | PACK_B | PACK_ONLY};
    FOR_EACH_ISA(isa)
    {
        unsigned seed = 300;
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            for (int x = 0; x < X_KINDS; x++)
                for (int act = 0; act < ACT_KINDS; act++, seed += 5) {
                    unsigned h = seed * 2654435761u >> 9;
                    gcase g = {h & 1, (h >> 1) & 1, shapes[s][0], shapes[s][1], shapes[s][2],
                               alphas[(h >> 2) % 4], x == X_SELF ? betas[(h >> 4) % 4] : 0.75f,
                               (h >> 6) % 2, x, act, packs[(h >> 7) % 7]};
                    check_case(isa, g, NULL, seed);
                }
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
            for (size_t p = 0; p < sizeof packs / sizeof *packs; p++, seed++) {
                gcase g = {seed & 1, (seed >> 1) & 1, shapes[s][0], shapes[s][1], shapes[s][2],
                           1.0f, 1.0f, 1, X_COL_BIAS, ACT_RELU, packs[p]};
                check_case(isa, g, NULL, seed);
            }
    }
}
END_TEST

/* 1 to 3 threads split the product differently; each gives the reference
 * result (the split does not change any element's arithmetic). Also scratch
 * sized for fewer threads than the pool has. */
START_TEST(gemm_isa_threads)
{
    static const gcase cases[] = {
        {false, false, 64, 784, 576, 1.0f, 1.0f, 0, X_ROW_BIAS, ACT_RELU, PACK_A},
        {false, false, 512, 49, 1152, 1.0f, 1.0f, 0, X_ROW_BIAS, ACT_CLIP, PACK_A},
        {true, true, 200, 150, 100, 0.5f, 0.25f, 1, X_SELF, ACT_NONE, 0},
        {false, true, 2, 2000, 600, 1.0f, 1.0f, 0, X_COL_BIAS, ACT_RELU, 0},
        {false, false, 5, 3000, 300, 1.0f, 0.0f, 3, X_SELF, ACT_NONE, 0},
        {false, false, 1500, 7, 250, -1.0f, 1.0f, 0, X_MATRIX, ACT_NONE, 0},
        {true, false, 1500, 1, 250, 1.0f, 0.0f, 0, X_SELF, ACT_RELU, 0},
        {false, true, 24, 400, 900, 1.0f, 1.0f, 0, X_COL_BIAS, ACT_NONE, PACK_B | PACK_ONLY},
        /* A bigger than B: split by rows alone (a 1x1 conv with more output
         * channels than positions), B read in place or transposed */
        {false, false, 400, 60, 300, 1.0f, 1.0f, 0, X_ROW_BIAS, ACT_RELU, PACK_A},
        {false, true, 333, 130, 200, 1.0f, 0.5f, 2, X_SELF, ACT_NONE, 0},
    };
    FOR_EACH_ISA(isa)
    {
        for (int threads = 1; threads <= 3; threads++) {
            oc_pool *pool = make_pool(threads);
            for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
                check_case(isa, cases[i], pool, 400 + (unsigned)i);
            oc_pool_free(pool);
        }
        /* Scratch for one thread on a pool of three: runs on the caller only. */
        oc_pool *pool = make_pool(3);
        gcase g = cases[0];
        size_t a_n = g.m * g.k, b_n = g.k * g.n;
        float *a = oh_dyadic(a_n, 1), *b = oh_dyadic(b_n, 2);
        float *c = exact_malloc(g.m * g.n * sizeof *c), *e = exact_malloc(g.m * g.n * sizeof *e);
        oc_gemm_desc d = oc_gemm_desc_make(false, false, g.m, g.n, g.k, a, g.k, b, g.n, c, g.n);
        d.isa = isa;
        size_t ws_size = oc_gemm_workspace(g.m, g.n, g.k, 1);
        void *ws = exact_malloc(ws_size);
        oc_gemm(&d, pool, ws, ws_size);
        oc_sgemm_ref(false, false, g.m, g.n, g.k, 1.0f, a, g.k, b, g.n, 0.0f, e, g.n);
        ck_assert_msg(memcmp(c, e, g.m * g.n * sizeof *c) == 0, "%s: one slot, three threads",
                      oc_isa_name(isa));
        free(ws), free(a), free(b), free(c), free(e);
        oc_pool_free(pool);
    }
}
END_TEST

/* The few-vector paths: m or n in 1..8 against large other sizes, both
 * forms (dot and axpy), strided vectors that need gathering, K across the
 * chunk sizes. */
START_TEST(gemm_isa_vector_paths)
{
    static const size_t bigs[] = {1, 9, 63, 130, 517};
    static const size_t ks[] = {1, 5, 16, 100, 515, 1100};
    FOR_EACH_ISA(isa)
    {
        unsigned seed = 500;
        for (size_t v = 1; v <= 8; v++)
            for (size_t ib = 0; ib < sizeof bigs / sizeof *bigs; ib++)
                for (size_t ik = 0; ik < sizeof ks / sizeof *ks; ik++, seed += 11) {
                    unsigned h = seed * 2654435761u >> 5;
                    bool small_m = h & 1;
                    gcase g = {(h >> 1) & 1, (h >> 2) & 1, small_m ? v : bigs[ib],
                               small_m ? bigs[ib] : v, ks[ik], alphas[(h >> 3) % 4],
                               betas[(h >> 5) % 4], (h >> 7) % 3, X_SELF, (int)((h >> 9) % 3), 0};
                    if ((h >> 11) % 4 == 0) g.x_kind = small_m ? X_COL_BIAS : X_ROW_BIAS, g.beta = 1;
                    check_case(isa, g, NULL, seed);
                }
    }
}
END_TEST

START_TEST(gemm_isa_degenerate)
{
    FOR_EACH_ISA(isa)
    {
        /* k == 0: C = act(beta * X); alpha == 0: A and B are not used. */
        check_case(isa, (gcase){false, false, 5, 9, 0, 1.0f, 0.5f, 1, X_SELF, ACT_NONE, 0}, NULL, 1);
        check_case(isa, (gcase){true, true, 5, 9, 0, 1.0f, 0.0f, 0, X_SELF, ACT_RELU, 0}, NULL, 2);
        check_case(isa, (gcase){false, true, 6, 10, 12, 0.0f, -1.0f, 2, X_SELF, ACT_CLIP, 0}, NULL, 3);
        check_case(isa, (gcase){false, true, 6, 10, 12, 0.0f, 1.0f, 2, X_COL_BIAS, ACT_NONE, 0}, NULL, 4);
        check_case(isa, (gcase){false, false, 0, 10, 12, 1.0f, 1.0f, 0, X_SELF, ACT_NONE, 0}, NULL, 5);
        check_case(isa, (gcase){false, false, 10, 0, 12, 1.0f, 1.0f, 0, X_SELF, ACT_NONE, 0}, NULL, 6);
        check_case(isa, (gcase){false, false, 1, 1, 1, 1.0f, 1.0f, 0, X_SELF, ACT_NONE, PACK_A | PACK_B | PACK_ONLY}, NULL, 7);
    }
}
END_TEST

/* NaN and -0 through the clamp: NaN stays NaN, -0 stays -0 (like the Relu
 * and Clip ops). */
START_TEST(gemm_isa_clamp_nan)
{
    FOR_EACH_ISA(isa)
    {
        for (size_t n = 1; n <= 70; n += 23) {
            size_t m = 20, k = 3;
            float *a = oh_dyadic(m * k, 1), *b = oh_dyadic(k * n, 2);
            float *c = exact_malloc(m * n * sizeof *c), *bias = exact_malloc(m * sizeof *bias);
            for (size_t i = 0; i < m; i++) bias[i] = i % 3 == 0 ? NAN : 0.0f;
            for (size_t i = 0; i < m * k; i++) a[i] = i / k % 3 == 1 ? 0.0f : a[i];
            oc_gemm_desc d = oc_gemm_desc_make(false, false, m, n, k, a, k, b, n, c, n);
            d.isa = isa;
            d.ep.beta = 1.0f, d.ep.x = bias, d.ep.x_rs = 1, d.ep.x_cs = 0;
            d.ep.clamp = true, d.ep.lo = 0.0f, d.ep.hi = INFINITY;
            d.ep.alpha = -1.0f;
            size_t ws_size = oc_gemm_workspace(m, n, k, 1);
            void *ws = exact_malloc(ws_size);
            oc_gemm(&d, NULL, ws, ws_size);
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) {
                    float v = c[i * n + j];
                    if (i % 3 == 0)
                        ck_assert_msg(isnan(v), "%s: NaN bias row %zu col %zu gave %g",
                                      oc_isa_name(isa), i, j, v);
                    else if (i % 3 == 1) /* -1 * 0 + 0 = -0 + 0 = +0; never negative */
                        ck_assert_msg(v == 0.0f, "%s: zero row gave %g", oc_isa_name(isa), v);
                    else
                        ck_assert_msg(v >= 0.0f, "%s: ReLU let %g through", oc_isa_name(isa), v);
                }
            free(ws), free(a), free(b), free(c), free(bias);
        }
    }
}
END_TEST

/* Real-valued data, on the paths' long sums: within (k + 2) * eps * sum
 * |alpha a b| + |beta X| of the double-precision reference. */
START_TEST(gemm_isa_real_values_within_bound)
{
    static const gcase cases[] = {
        {false, false, 37, 45, 1000, 0.7f, 0.3f, 0, X_SELF, ACT_NONE, 0},
        {true, true, 100, 90, 333, -1.1f, 1.0f, 1, X_SELF, ACT_NONE, 0},
        {false, true, 1, 1000, 9216, 1.3f, 0.0f, 0, X_SELF, ACT_NONE, 0},
        {false, true, 4, 200, 25088, 1.0f, 1.0f, 0, X_SELF, ACT_NONE, 0},
        {true, false, 1000, 1, 700, 1.0f, 2.5f, 0, X_SELF, ACT_NONE, 0},
        {false, false, 3, 500, 5000, 1.0f, 0.0f, 0, X_SELF, ACT_NONE, 0},
        {false, false, 64, 300, 4608, 1.0f, 1.0f, 0, X_SELF, ACT_NONE, PACK_A},
    };
    FOR_EACH_ISA(isa)
    {
        for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
            gcase g = cases[ci];
            size_t a_n = g.m * g.k, b_n = g.k * g.n, c_n = g.m * g.n;
            size_t lda = g.ta ? g.m : g.k, ldb = g.tb ? g.k : g.n;
            float *a = exact_malloc(a_n * sizeof *a), *b = exact_malloc(b_n * sizeof *b);
            float *c = exact_malloc(c_n * sizeof *c), *ref = exact_malloc(c_n * sizeof *c);
            float *bound = exact_malloc(c_n * sizeof *c);
            float *abs_a = exact_malloc(a_n * sizeof *a), *abs_b = exact_malloc(b_n * sizeof *b);
            oh_fill(a, a_n, 11, -1.0f, 1.0f);
            oh_fill(b, b_n, 12, -1.0f, 1.0f);
            oh_fill(c, c_n, 13, -1.0f, 1.0f);
            for (size_t i = 0; i < a_n; i++) abs_a[i] = fabsf(a[i]);
            for (size_t i = 0; i < b_n; i++) abs_b[i] = fabsf(b[i]);
            for (size_t i = 0; i < c_n; i++) bound[i] = fabsf(c[i]);
            memcpy(ref, c, c_n * sizeof *c);
            oc_gemm_desc d = oc_gemm_desc_make(g.ta, g.tb, g.m, g.n, g.k, a, lda, b, ldb, c, g.n);
            d.isa = isa;
            d.ep.alpha = g.alpha, d.ep.beta = g.beta;
            oc_gemm_packed pa;
            float *pa_buf = NULL;
            if (g.pack & PACK_A) {
                pa_buf = exact_malloc(oc_gemm_pack_a_size(isa, g.m, g.k));
                oc_gemm_pack_a(isa, g.ta, g.m, g.k, a, lda, pa_buf, &pa);
                d.packed_a = &pa;
            }
            size_t ws_size = oc_gemm_workspace(g.m, g.n, g.k, 2);
            void *ws = exact_malloc(ws_size);
            oc_pool *pool = make_pool(2);
            oc_gemm(&d, pool, ws, ws_size);
            oc_pool_free(pool);
            oc_sgemm_ref(g.ta, g.tb, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, ref, g.n);
            oc_sgemm_ref(g.ta, g.tb, g.m, g.n, g.k, fabsf(g.alpha), abs_a, lda, abs_b, ldb,
                         fabsf(g.beta), bound, g.n);
            for (size_t i = 0; i < c_n; i++) {
                double tol = (double)(g.k + 2) * 6e-8 * bound[i] + 1e-30;
                ck_assert_msg(fabs((double)c[i] - ref[i]) <= tol,
                              "%s case %zu C[%zu] %.9g vs %.9g (tol %g)", oc_isa_name(isa), ci, i,
                              c[i], ref[i], tol);
            }
            free(ws), free(pa_buf);
            free(a), free(b), free(c), free(ref), free(bound), free(abs_a), free(abs_b);
        }
    }
}
END_TEST

/* Sizes: monotone in every argument, SIZE_MAX on overflow; packed sizes
 * cover the padded panels. */
START_TEST(gemm_isa_sizes)
{
    static const size_t sizes[] = {1, 2, 3, 8, 9, 47, 100, 128, 129, 321, 2048, 2049, 5000};
    size_t ns = sizeof sizes / sizeof *sizes;
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < ns; j++)
            for (size_t l = 0; l < ns; l++) {
                size_t m = sizes[i], n = sizes[j], k = sizes[l];
                for (int t = 1; t <= 3; t++) {
                    size_t ws = oc_gemm_workspace(m, n, k, t);
                    ck_assert_uint_le(ws, oc_gemm_workspace(m + 1, n, k, t));
                    ck_assert_uint_le(ws, oc_gemm_workspace(m, n + 1, k, t));
                    ck_assert_uint_le(ws, oc_gemm_workspace(m, n, k + 1, t));
                    ck_assert_uint_le(ws, oc_gemm_workspace(m + 7, n + 9, k, t));
                    ck_assert_uint_le(ws, oc_gemm_workspace(m, n, k, t + 1));
                }
            }
    ck_assert_uint_eq(oc_gemm_workspace(SIZE_MAX / 2, SIZE_MAX / 2, SIZE_MAX / 2, 2), SIZE_MAX);
    ck_assert_uint_eq(oc_gemm_pack_a_size(OC_ISA_AUTO, SIZE_MAX / 4, 8), SIZE_MAX);
    ck_assert_uint_eq(oc_gemm_pack_b_size(OC_ISA_AUTO, 8, SIZE_MAX / 4), SIZE_MAX);
    ck_assert_uint_eq(oc_gemm_pack_a_size(OC_ISA_AUTO, SIZE_MAX, 1), SIZE_MAX);
    ck_assert_uint_eq(oc_gemm_pack_b_size(OC_ISA_AUTO, SIZE_MAX - 1, 1), SIZE_MAX);
    FOR_EACH_ISA(isa)
    {
        ck_assert_uint_ge(oc_gemm_pack_a_size(isa, 3, 5), 3 * 5 * sizeof(float));
        ck_assert_uint_ge(oc_gemm_pack_b_size(isa, 3, 5), 3 * 5 * sizeof(float));
    }
    /* Detection: the best is supported, the portable one always is. */
    ck_assert(oc_isa_supported(OC_ISA_PORTABLE));
    ck_assert(oc_isa_supported(oc_isa_best()));
    ck_assert_int_eq(oc_isa_resolve(OC_ISA_AUTO), oc_isa_best());
}
END_TEST

/* oc_gemm_packed_product: both operands packed, n up to the packed B's
 * width (Winograd's tile counts: a layout of 64 columns, 49 used), K over
 * several slices; bit for bit the reference on dyadic data, and nothing
 * written past the packed width or row m. */
START_TEST(gemm_isa_packed_product)
{
    /* m, n, packed n, k */
    static const size_t shapes[][4] = {{48, 16, 16, 64},  {24, 49, 64, 96},  {17, 1, 16, 33},
                                       {48, 4, 16, 200},  {9, 100, 112, 7},  {40, 17, 32, 1500},
                                       {1, 3, 3, 1},      {64, 96, 96, 129}};
    FOR_EACH_ISA(isa)
    {
        for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
            size_t m = shapes[si][0], n = shapes[si][1], nb = shapes[si][2], k = shapes[si][3];
            size_t ldc = nb + 3;
            float *a = oh_dyadic(m * k, 11), *b = oh_dyadic(k * nb, 12);
            float *pa_buf = exact_malloc(oc_gemm_pack_a_size(isa, m, k));
            float *pb_buf = exact_malloc(oc_gemm_pack_b_size(isa, nb, k));
            oc_gemm_packed pa, pb;
            oc_gemm_pack_a(isa, false, m, k, a, k, pa_buf, &pa);
            oc_gemm_pack_b(isa, false, k, nb, b, nb, pb_buf, &pb);
            float *c = exact_malloc(m * ldc * sizeof *c), *e = exact_malloc(m * ldc * sizeof *e);
            for (size_t i = 0; i < m * ldc; i++) c[i] = i % ldc < n ? NAN : SENTINEL;
            oc_gemm_packed_product(&pa, &pb, m, n, c, ldc);
            oc_sgemm_ref(false, false, m, n, k, 1.0f, a, k, b, nb, 0.0f, e, ldc);
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < ldc; j++) {
                    if (j >= n && j < nb) continue; /* may be written (a packed panel's end) */
                    float want = j < n ? e[i * ldc + j] : SENTINEL;
                    ck_assert_msg(c[i * ldc + j] == want,
                                  "%s m=%zu n=%zu (of %zu) k=%zu: C[%zu][%zu] is %.9g, expected %.9g",
                                  oc_isa_name(isa), m, n, nb, k, i, j, c[i * ldc + j], want);
                }
            free(a), free(b), free(pa_buf), free(pb_buf), free(c), free(e);
        }
    }
}
END_TEST

/* A B written element by element through oc_gemm_b_offset equals the one
 * oc_gemm_pack_b makes, and the product with it is right. */
START_TEST(gemm_isa_b_layout)
{
    static const size_t shapes[][3] = {{64, 49, 576}, {9, 200, 700}, {16, 17, 3}, {70, 1, 1}};
    FOR_EACH_ISA(isa)
    {
        for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
            size_t m = shapes[si][0], n = shapes[si][1], k = shapes[si][2];
            float *a = oh_dyadic(m * k, 1), *b = oh_dyadic(k * n, 2);
            size_t bytes = oc_gemm_pack_b_size(isa, n, k);
            float *packed = exact_malloc(bytes), *written = exact_malloc(bytes);
            oc_gemm_packed pb;
            oc_gemm_pack_b(isa, false, k, n, b, n, packed, &pb);
            oc_gemm_b_layout l = oc_gemm_b_layout_of(isa, k, n);
            ck_assert_int_eq(l.isa, pb.isa);
            memset(written, 0, bytes); /* the zero columns past n */
            for (size_t p = 0; p < k; p++)
                for (size_t j = 0; j < n; j++) {
                    size_t at = oc_gemm_b_offset(&l, p, j);
                    ck_assert_uint_lt(at, bytes / sizeof(float));
                    written[at] = b[p * n + j];
                }
            ck_assert_uint_le(l.npad * k * sizeof(float), bytes);
            ck_assert_msg(memcmp(packed, written, l.npad * k * sizeof(float)) == 0,
                          "%s %zux%zu: layouts differ",
                          oc_isa_name(isa), k, n);
            oc_gemm_packed wb = oc_gemm_packed_b_of(&l, written);
            float *c = exact_malloc(m * n * sizeof *c), *e = exact_malloc(m * n * sizeof *e);
            oc_gemm_desc d = oc_gemm_desc_make(false, false, m, n, k, a, k, NULL, 0, c, n);
            d.packed_b = &wb;
            size_t ws_size = oc_gemm_workspace(m, n, k, 1);
            void *ws = exact_malloc(ws_size);
            oc_gemm(&d, NULL, ws, ws_size);
            oc_sgemm_ref(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, e, n);
            ck_assert_msg(memcmp(c, e, m * n * sizeof *c) == 0, "%s: product with written B",
                          oc_isa_name(isa));
            free(ws), free(c), free(e), free(a), free(b), free(packed), free(written);
        }
    }
}
END_TEST

/* ======================================================================== */
/* The Gemm and MatMul ops through whole models: B packed at load (or read  */
/* in place), C broadcast and a fused Relu in the epilogue, overridden B.    */
/* ======================================================================== */

static onnxc_model *open_built(mb_model *mb)
{
    onnxc_model *m;
    onnxc_status *st = mb_open(mb, NULL, &m);
    ck_assert_msg(st == NULL, "open: %s", onnxc_status_message(st));
    return m;
}

/* Runs model m on x [rows, k] (threads threads), with B overridden by b_over
 * when not NULL, and returns the first output (malloc'd copy). */
static float *run_model(onnxc_model *m, int threads, const float *x, int64_t rows, int64_t k,
                        const float *b_over, const int64_t *b_dims, size_t *count)
{
    onnxc_session_options so;
    onnxc_session_options_init(&so);
    so.threads = threads;
    onnxc_session *s = NULL;
    ck_assert_ptr_null(onnxc_session_create(m, &so, &s));
    int64_t xd[2] = {rows, k};
    ck_assert_ptr_null(onnxc_session_bind(s, "X", ONNXC_DTYPE_FLOAT, xd, 2, x,
                                          (size_t)(rows * k) * sizeof *x));
    if (b_over)
        ck_assert_ptr_null(onnxc_session_bind(s, "B", ONNXC_DTYPE_FLOAT, b_dims, 2, b_over,
                                              (size_t)(b_dims[0] * b_dims[1]) * sizeof *b_over));
    onnxc_status *st = onnxc_session_run(s);
    ck_assert_msg(st == NULL, "run: %s", onnxc_status_message(st));
    onnxc_tensor_view v;
    ck_assert_ptr_null(onnxc_session_output(s, 0, &v));
    size_t n = 1;
    for (int i = 0; i < v.rank; i++) n *= (size_t)v.shape[i];
    float *out = exact_malloc(n * sizeof *out);
    memcpy(out, v.data, n * sizeof *out);
    *count = n;
    onnxc_session_free(s);
    return out;
}

/* y[i][j] = relu?(sum_p x[i][p] * W(p, j) + c[j]) with W [n, k] (trans) or [k, n]. */
static void dense_ref(const float *x, const float *w, const float *c, bool trans, bool relu,
                      int64_t rows, int64_t n, int64_t k, float *y)
{
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < n; j++) {
            double sum = c ? c[j] : 0.0;
            for (int64_t p = 0; p < k; p++)
                sum += (double)x[i * k + p] * (trans ? w[j * k + p] : w[p * n + j]);
            float r = (float)sum;
            y[i * n + j] = relu && r < 0 ? 0.0f : r;
        }
}

/* A Gemm (transB, C [N]) followed by a Relu (which the optimizer fuses), on
 * a static batch above the few-row limit (B packed at load), a dynamic batch
 * (B small: packed; a batch of 3 reads it in place) and an IR 3 model whose
 * B is also a graph input (overriding it must bypass the packed copy). */
START_TEST(gemm_op_packed_weights_and_fused_relu)
{
    const int64_t n = 37, k = 70;
    int64_t bd[2] = {n, k}, cd[1] = {n};
    float *w = oh_dyadic((size_t)(n * k), 7), *c = oh_dyadic((size_t)n, 8);
    float *w2 = oh_dyadic((size_t)(n * k), 9);
    for (int variant = 0; variant < 3; variant++) {
        int64_t static_rows = 20;
        mb_model *mb = mb_new(variant == 2 ? 3 : 8, 13);
        int64_t xd[2] = {variant == 1 ? -1 : static_rows, k}, yd[2] = {xd[0], n};
        mb_input(mb, "X", ONNXC_DTYPE_FLOAT, 2, xd);
        if (variant == 2) mb_input(mb, "B", ONNXC_DTYPE_FLOAT, 2, bd);
        mb_init_f32(mb, "B", 2, bd, w, false);
        mb_init_f32(mb, "C", 1, cd, c, false);
        mb_output(mb, "Y", ONNXC_DTYPE_FLOAT, 2, yd);
        mb_attr_int(mb_node_add(mb, "Gemm", "fc", "X,B,C", "H"), "transB", 1);
        mb_node_add(mb, "Relu", "relu", "H", "Y");
        onnxc_model *m = open_built(mb);
        const int64_t batches[] = {static_rows, 3, 20};
        for (int bi = 0; bi < 3; bi++) {
            int64_t rows = variant == 1 ? batches[bi] : static_rows;
            for (int threads = 1; threads <= 2; threads++) {
                float *x = oh_dyadic((size_t)(rows * k), 10 + (unsigned)bi);
                bool override = variant == 2 && bi == 1;
                size_t count;
                float *y = run_model(m, threads, x, rows, k, override ? w2 : NULL, bd, &count);
                float *e = exact_malloc((size_t)(rows * n) * sizeof *e);
                dense_ref(x, override ? w2 : w, c, true, true, rows, n, k, e);
                ck_assert_uint_eq(count, (size_t)(rows * n));
                ck_assert_msg(memcmp(y, e, count * sizeof *y) == 0,
                              "Gemm model variant %d rows %lld threads %d", variant,
                              (long long)rows, threads);
                free(x), free(y), free(e);
            }
        }
        onnxc_model_free(m);
    }
    free(w), free(w2), free(c);
}
END_TEST

/* A batch-1 Gemm and MatMul read B in place from the file mapping, wherever
 * the file puts it: a padding initializer before B moves its raw_data (and
 * the MatMul's B after it) through every offset of a cache line (in place when a multiple of 4, then copied to a
 * line boundary at load; copied by the loader otherwise). Every offset gives
 * the exact result, so the sums' order does not depend on it. */
START_TEST(gemm_op_in_place_b_at_any_offset)
{
    const int64_t n = 64, k = 4096; /* 1 MiB: big enough to be copied when off a line */
    int64_t bd[2] = {n, k}, btd[2] = {k, n}, xd[2] = {1, k}, yd[2] = {1, n};
    float *w = oh_dyadic((size_t)(n * k), 21), *x = oh_dyadic((size_t)k, 22);
    float *wt = exact_malloc((size_t)(n * k) * sizeof *wt);
    for (int64_t j = 0; j < n; j++)
        for (int64_t p = 0; p < k; p++) wt[p * n + j] = w[j * k + p];
    float *e = exact_malloc((size_t)n * sizeof *e);
    dense_ref(x, w, NULL, true, false, 1, n, k, e);
    unsigned char pad[64] = {0};
    char path[] = "/tmp/onnxc-gemm-offset-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    for (int64_t shift = 0; shift < 64; shift++) {
        {
            int64_t pd[1] = {shift};
            mb_model *mb = mb_new(8, 13);
            mb_input(mb, "X", ONNXC_DTYPE_FLOAT, 2, xd);
            mb_init(mb, "P", ONNXC_DTYPE_UINT8, 1, pd, pad, false);
            mb_init_f32(mb, "B", 2, bd, w, false);
            mb_output(mb, "Y", ONNXC_DTYPE_FLOAT, 2, yd);
            mb_attr_int(mb_node_add(mb, "Gemm", "fc", "X,B", "Y"), "transB", 1);
            /* MatMul reads its B [K, N] in place the same way: here B^T. */
            mb_init_f32(mb, "BT", 2, btd, wt, false);
            mb_output(mb, "Z", ONNXC_DTYPE_FLOAT, 2, yd);
            mb_node_add(mb, "MatMul", "mm", "X,BT", "Z");
            ck_assert(mb_write_file(mb, path));
            mb_free(mb);
            onnxc_model *m;
            onnxc_status *st = onnxc_model_open_file(path, NULL, &m);
            ck_assert_msg(!st, "%s", onnxc_status_message(st));
            for (int threads = 1; threads <= 2; threads++) {
                onnxc_session_options so;
                onnxc_session_options_init(&so);
                so.threads = threads;
                onnxc_session *sess = NULL;
                ck_assert_ptr_null(onnxc_session_create(m, &so, &sess));
                ck_assert_ptr_null(onnxc_session_bind(sess, "X", ONNXC_DTYPE_FLOAT, xd, 2, x,
                                                      (size_t)k * sizeof *x));
                ck_assert_ptr_null(onnxc_session_run(sess));
                for (size_t out = 0; out < 2; out++) { /* Gemm's, MatMul's */
                    onnxc_tensor_view v;
                    ck_assert_ptr_null(onnxc_session_output(sess, out, &v));
                    ck_assert_uint_eq(v.count, (size_t)n);
                    ck_assert_msg(memcmp(v.data, e, (size_t)n * sizeof *e) == 0,
                                  "padding %lld bytes, threads %d, output %zu: not the exact "
                                  "result",
                                  (long long)shift, threads, out);
                }
                onnxc_session_free(sess);
            }
            onnxc_model_free(m);
        }
    }
    unlink(path);
    free(w), free(wt), free(x), free(e);
}
END_TEST

/* MatMul with a constant B [K, N] on a stacked batch [2, 12, K] (packed at
 * load) and [1, 3, K] (few rows, in place). */
START_TEST(matmul_op_packed_weights)
{
    const int64_t n = 50, k = 33;
    int64_t bd[2] = {k, n};
    float *w = oh_dyadic((size_t)(n * k), 17);
    for (int variant = 0; variant < 2; variant++) {
        int64_t b0 = variant ? 1 : 2, b1 = variant ? 3 : 12, rows = b0 * b1;
        int64_t ad[3] = {b0, b1, k}, yd[3] = {b0, b1, n};
        mb_model *mb = mb_new(8, 13);
        mb_input(mb, "X", ONNXC_DTYPE_FLOAT, 3, ad);
        mb_init_f32(mb, "B", 2, bd, w, false);
        mb_output(mb, "Y", ONNXC_DTYPE_FLOAT, 3, yd);
        mb_node_add(mb, "MatMul", "mm", "X,B", "Y");
        onnxc_model *m = open_built(mb);
        float *x = oh_dyadic((size_t)(rows * k), 18);
        onnxc_session *s = NULL;
        ck_assert_ptr_null(onnxc_session_create(m, NULL, &s));
        ck_assert_ptr_null(onnxc_session_bind(s, "X", ONNXC_DTYPE_FLOAT, ad, 3, x,
                                              (size_t)(rows * k) * sizeof *x));
        ck_assert_ptr_null(onnxc_session_run(s));
        onnxc_tensor_view v;
        ck_assert_ptr_null(onnxc_session_output(s, 0, &v));
        float *e = exact_malloc((size_t)(rows * n) * sizeof *e);
        dense_ref(x, w, NULL, false, false, rows, n, k, e);
        ck_assert_msg(memcmp(v.data, e, (size_t)(rows * n) * sizeof *e) == 0,
                      "MatMul model variant %d", variant);
        onnxc_session_free(s);
        onnxc_model_free(m);
        free(x), free(e);
    }
    free(w);
}
END_TEST

TCase *kernels_gemm_tcase(void)
{
    TCase *tc = tcase_create("gemm_isa");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, gemm_isa_odd_shapes);
    tcase_add_test(tc, gemm_isa_large_shapes);
    tcase_add_test(tc, gemm_isa_epilogues_and_packing);
    tcase_add_test(tc, gemm_isa_threads);
    tcase_add_test(tc, gemm_isa_vector_paths);
    tcase_add_test(tc, gemm_isa_degenerate);
    tcase_add_test(tc, gemm_isa_clamp_nan);
    tcase_add_test(tc, gemm_isa_real_values_within_bound);
    tcase_add_test(tc, gemm_isa_sizes);
    tcase_add_test(tc, gemm_isa_b_layout);
    tcase_add_test(tc, gemm_isa_packed_product);
    tcase_add_test(tc, gemm_op_packed_weights_and_fused_relu);
    tcase_add_test(tc, gemm_op_in_place_b_at_any_offset);
    tcase_add_test(tc, matmul_op_packed_weights);
    return tc;
}
