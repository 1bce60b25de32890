/* The direct convolution (kernels/conv_direct.h) of every compiled ISA
 * against the reference, part of the check_kernels suite
 * (kernels_direct_tcase() is added by its main).
 *
 * Data are dyadic (multiples of 1/8), so sums are exact and any difference
 * is a wrong element. The cases cover strides 1 to 4, asymmetric pads,
 * pads wider than the kernel, dilations, output channels that do not fill
 * the last register block, rows ending in a partial vector, rows narrower
 * than a vector (its lanes cross rows), several images,
 * a fused sum and clamps; each runs on 1 and 3 threads, through
 * oc_conv_direct with each ISA forced and through oc_conv_f32 with the
 * weights oc_conv_prepare_weights chose. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/threadpool.h"
#include "kernels/conv.h"
#include "kernels/conv_direct.h"
#include "kernels/cpu.h"
#include "kernels/pool.h"
#include "op_harness.h"

TCase *kernels_direct_tcase(void);

#define POISON 12345.0f

typedef struct direct_case {
    int64_t batch, cin, cout;
    int64_t h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
} direct_case;

static oc_window_dim dim_of(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe)
{
    oc_window_dim r = {in, (in + pb + pe - ((k - 1) * d + 1)) / s + 1, k, s, d, pb, pe};
    ck_assert_int_ge(r.out, 1);
    return r;
}

static oc_conv_geom geom_of(const direct_case *c)
{
    oc_conv_geom g = {c->batch, c->cin, c->cout, 1, {oc_window_unit(), {0}, {0}}};
    g.dim[1] = dim_of(c->h, c->kh, c->sh, c->dh, c->pt, c->pb);
    g.dim[2] = dim_of(c->w, c->kw, c->sw, c->dw, c->pl, c->pr);
    return g;
}

/* True when oc_conv_f32 took the direct method. */
static bool check_case(const direct_case *c, unsigned seed)
{
    oc_conv_geom g = geom_of(c);
    const oc_window_dim *dh = &g.dim[1], *dw = &g.dim[2];
    size_t x_n = (size_t)(c->batch * c->cin * c->h * c->w);
    size_t w_n = (size_t)(c->cout * c->cin * c->kh * c->kw);
    size_t y_n = (size_t)(c->batch * c->cout * dh->out * dw->out);
    float *x = oh_dyadic(x_n, seed), *w = oh_dyadic(w_n, seed + 1);
    float *b = oh_dyadic((size_t)c->cout, seed + 2), *sum = oh_dyadic(y_n, seed + 3);
    float *ref = malloc(y_n * sizeof *ref), *expect = malloc(y_n * sizeof *expect);
    float *y = malloc(y_n * sizeof *y);
    ck_assert(ref && expect && y);
    oc_conv_f32_ref(&g, x, w, b, ref);
    static const float clamps[][2] = {{-INFINITY, INFINITY}, {0.0f, INFINITY}, {-0.25f, 0.5f}};
    for (int isa = 0; isa < OC_ISA_COUNT; isa++) {
        if (!oc_isa_supported((oc_isa)isa)) continue;
        size_t count = oc_conv_direct_packed_count((oc_isa)isa, &g), ws_bytes;
        ck_assert_uint_ne(count, SIZE_MAX);
        float *packed = malloc(count * sizeof *packed);
        ck_assert_ptr_nonnull(packed);
        oc_conv_direct_pack((oc_isa)isa, &g, w, packed);
        for (int threads = 1; threads <= 3; threads += 2) {
            ck_assert(oc_conv_direct_workspace(&g, (oc_isa)isa, threads, &ws_bytes));
            void *ws = malloc(ws_bytes); /* exactly: ASan catches an overrun */
            ck_assert_ptr_nonnull(ws);
            for (int k = 0; k < 4; k++) {
                bool with_sum = k == 3;
                float lo = clamps[k % 3][0], hi = clamps[k % 3][1];
                for (size_t i = 0; i < y_n; i++) {
                    float v = ref[i] + (with_sum ? sum[i] : 0.0f);
                    v = v < lo ? lo : v;
                    expect[i] = v > hi ? hi : v;
                    y[i] = POISON;
                }
                oc_pool *pool = NULL;
                ck_assert_ptr_null(oc_pool_create(threads, &pool));
                oc_conv_direct(&g, (oc_isa)isa, packed, x, b, with_sum ? sum : NULL, lo, hi, y,
                               ws, pool);
                oc_pool_free(pool);
                long bad = oh_compare(y, expect, y_n);
                ck_assert_msg(bad < 0,
                              "direct case seed %u, %s, %d threads, clamp %d, sum %d: y[%ld] = "
                              "%.9g, expected %.9g",
                              seed, oc_isa_name((oc_isa)isa), threads, k % 3, with_sum, bad,
                              bad < 0 ? 0.0 : y[bad], bad < 0 ? 0.0 : expect[bad]);
            }
            free(ws);
        }
        free(packed);
    }
    /* Through oc_conv_f32, with the load-time choice (direct when it pays;
     * Winograd, which rounds, has its own tests). */
    oh_allocs h = {{0}, 0};
    oc_conv_weights pw;
    ck_assert(oc_conv_prepare_weights(&g, true, w, oh_alloc, &h, &pw));
    size_t ws_bytes;
    ck_assert(oc_conv_f32_workspace(&g, &pw, 2, &ws_bytes));
    void *ws = malloc(ws_bytes ? ws_bytes : 1);
    oc_pool *pool = NULL;
    ck_assert_ptr_null(oc_pool_create(2, &pool));
    for (size_t i = 0; i < y_n; i++) y[i] = POISON;
    oc_conv_f32(&g, &pw, x, w, b, NULL, oc_conv_act_none(), y, ws, ws_bytes, pool);
    long bad = pw.winograd_m ? -1 : oh_compare(y, ref, y_n);
    ck_assert_msg(bad < 0, "oc_conv_f32 (direct %d), seed %u: y[%ld] = %.9g, expected %.9g",
                  pw.direct != NULL, seed, bad, bad < 0 ? 0.0 : y[bad],
                  bad < 0 ? 0.0 : ref[bad]);
    oc_pool_free(pool);
    free(ws);
    oh_allocs_free(&h);
    bool direct = pw.direct != NULL;
    free(x), free(w), free(b), free(sum), free(ref), free(expect), free(y);
    return direct;
}

START_TEST(direct_matches_reference)
{
    static const direct_case cases[] = {
        /* batch, cin, cout, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr */
        {1, 3, 16, 40, 70, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3},  /* a stem, rows of 35 */
        {2, 3, 13, 37, 67, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0},  /* SqueezeNet's, odd channels */
        {1, 4, 9, 21, 99, 5, 3, 1, 1, 1, 1, 2, 1, 2, 1},   /* stride 1 */
        {1, 2, 8, 30, 131, 11, 11, 4, 4, 1, 1, 2, 2, 2, 2}, /* AlexNet's stride 4 */
        {1, 3, 7, 25, 80, 3, 5, 3, 1, 1, 1, 1, 0, 0, 4},   /* strides 3 and 1, asymmetric pads */
        {1, 2, 10, 20, 70, 3, 3, 1, 2, 2, 3, 2, 3, 1, 4},  /* dilations */
        {1, 1, 5, 9, 64, 2, 2, 2, 1, 1, 1, 5, 6, 4, 7},    /* pads wider than the kernel */
        {1, 6, 17, 11, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},  /* a partial last vector */
        {2, 3, 10, 1, 90, 1, 5, 1, 2, 1, 1, 0, 2, 0, 1},   /* 1-D (one row) */
        /* Rows narrower than a vector: its lanes cross two and more rows. */
        {1, 3, 9, 14, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   /* rows of 10 of 12 */
        {2, 2, 11, 13, 9, 5, 5, 2, 2, 1, 1, 2, 2, 1, 1},   /* rows of 4 of 6 */
    };
    int direct = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        direct += check_case(&cases[i], 700 + 7 * (unsigned)i);
    ck_assert_int_gt(direct, 0); /* the load-time choice was exercised too */
}
END_TEST

/* ---- fused max pooling ---- */

typedef struct pool_case {
    direct_case conv;
    int64_t kh, kw, sh, sw, pt, pl, pb, pr;
    bool ceil_mode;
} pool_case;

/* A pooling dimension over in conv outputs, ceil_mode as ONNX has it (the
 * last window must start inside the input or the leading padding). */
static oc_window_dim pool_dim(int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe, bool ceil)
{
    int64_t span = in + pb + pe - k;
    oc_window_dim r = {in, span / s + 1, k, s, 1, pb, pe};
    if (ceil && span % s != 0) {
        r.out++;
        if ((r.out - 1) * s >= in + pb) r.out--;
    }
    ck_assert_int_ge(r.out, 1);
    return r;
}

/* True when the load-time weights were direct (the fused path). */
static bool check_pool_case(const pool_case *c, unsigned seed)
{
    oc_conv_geom g = geom_of(&c->conv);
    oc_pool_geom pg = {c->conv.batch * c->conv.cout, {oc_window_unit(), {0}, {0}}};
    pg.dim[1] = pool_dim(g.dim[1].out, c->kh, c->sh, c->pt, c->pb, c->ceil_mode);
    pg.dim[2] = pool_dim(g.dim[2].out, c->kw, c->sw, c->pl, c->pr, c->ceil_mode);
    ck_assert(oc_conv_maxpool_fits(&g, &pg));
    size_t x_n = (size_t)(g.batch * g.in_channels * g.dim[1].in * g.dim[2].in);
    size_t w_n = (size_t)(g.out_channels * g.in_channels * g.dim[1].kernel * g.dim[2].kernel);
    size_t c_n = (size_t)(pg.planes * g.dim[1].out * g.dim[2].out);
    size_t y_n = (size_t)(pg.planes * pg.dim[1].out * pg.dim[2].out);
    float *x = oh_dyadic(x_n, seed), *w = oh_dyadic(w_n, seed + 1);
    float *b = oh_dyadic((size_t)g.out_channels, seed + 2);
    float *conv = malloc(c_n * sizeof *conv), *clamped = malloc(c_n * sizeof *clamped);
    float *expect = malloc(y_n * sizeof *expect), *y = malloc(y_n * sizeof *y);
    ck_assert(conv && clamped && expect && y);
    bool direct = false;
    oc_conv_f32_ref(&g, x, w, b, conv);
    static const float clamps[][2] = {{-INFINITY, INFINITY}, {0.0f, INFINITY}, {-0.25f, 0.5f}};
    for (int k = 0; k < 3; k++) {
        float lo = clamps[k][0], hi = clamps[k][1];
        for (size_t i = 0; i < c_n; i++) {
            float v = conv[i] < lo ? lo : conv[i];
            clamped[i] = v > hi ? hi : v;
        }
        oc_maxpool_f32_ref(&pg, clamped, expect, NULL, false, 0, pg.planes);
        for (int isa = 0; isa < OC_ISA_COUNT; isa++) {
            if (!oc_isa_supported((oc_isa)isa)) continue;
            size_t count = oc_conv_direct_packed_count((oc_isa)isa, &g), ws_bytes;
            float *packed = malloc(count * sizeof *packed);
            ck_assert_ptr_nonnull(packed);
            oc_conv_direct_pack((oc_isa)isa, &g, w, packed);
            for (int threads = 1; threads <= 3; threads += 2) {
                ck_assert(oc_conv_direct_pool_workspace(&g, &pg, (oc_isa)isa, threads, &ws_bytes));
                void *ws = malloc(ws_bytes); /* exactly: ASan catches an overrun */
                ck_assert_ptr_nonnull(ws);
                for (size_t i = 0; i < y_n; i++) y[i] = POISON;
                oc_pool *pool = NULL;
                ck_assert_ptr_null(oc_pool_create(threads, &pool));
                oc_conv_direct_pool(&g, (oc_isa)isa, packed, x, b, lo, hi, &pg, y, ws, pool);
                oc_pool_free(pool);
                free(ws);
                long bad = oh_compare(y, expect, y_n);
                ck_assert_msg(bad < 0,
                              "pooled case seed %u, %s, %d threads, clamp %d: y[%ld] = %.9g, "
                              "expected %.9g",
                              seed, oc_isa_name((oc_isa)isa), threads, k, bad,
                              bad < 0 ? 0.0 : y[bad], bad < 0 ? 0.0 : expect[bad]);
            }
            free(packed);
        }
        /* Through oc_conv_maxpool_f32: with the load-time weights (fused
         * when they are direct) and without any (conv, then pool). */
        oh_allocs h = {{0}, 0};
        oc_conv_weights pw;
        ck_assert(oc_conv_prepare_weights(&g, true, w, oh_alloc, &h, &pw));
        direct = pw.direct != NULL;
        for (int with = 0; with < 2; with++) {
            const oc_conv_weights *use = with ? &pw : NULL;
            if (with && pw.winograd_m) continue; /* rounds: tested apart */
            size_t ws_bytes;
            ck_assert(oc_conv_maxpool_f32_workspace(&g, use, &pg, 2, &ws_bytes));
            void *ws = malloc(ws_bytes);
            ck_assert_ptr_nonnull(ws);
            oc_pool *pool = NULL;
            ck_assert_ptr_null(oc_pool_create(2, &pool));
            for (size_t i = 0; i < y_n; i++) y[i] = POISON;
            oc_conv_act act = {lo, hi};
            oc_conv_maxpool_f32(&g, use, &pg, x, w, b, act, y, ws, ws_bytes, pool);
            oc_pool_free(pool);
            free(ws);
            long bad = oh_compare(y, expect, y_n);
            ck_assert_msg(bad < 0,
                          "oc_conv_maxpool_f32 (weights %d, direct %d), seed %u, clamp %d: "
                          "y[%ld] = %.9g, expected %.9g",
                          with, pw.direct != NULL, seed, k, bad, bad < 0 ? 0.0 : y[bad],
                          bad < 0 ? 0.0 : expect[bad]);
        }
        oh_allocs_free(&h);
    }
    free(x), free(w), free(b), free(conv), free(clamped), free(expect), free(y);
    return direct;
}

START_TEST(direct_pool_matches_reference)
{
    static const pool_case cases[] = {
        /* conv: batch, cin, cout, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
         * pool: kh, kw, sh, sw, pt, pl, pb, pr, ceil_mode */
        {{1, 3, 16, 40, 70, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3}, 3, 3, 2, 2, 1, 1, 1, 1, false},
        {{2, 3, 13, 37, 67, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0}, 3, 3, 2, 2, 0, 0, 0, 0, true},
        {{1, 2, 8, 30, 131, 11, 11, 4, 4, 1, 1, 2, 2, 2, 2}, 3, 3, 2, 2, 0, 0, 0, 0, false},
        {{1, 4, 9, 21, 99, 5, 3, 1, 1, 1, 1, 2, 1, 2, 1}, 2, 2, 2, 2, 0, 0, 0, 0, false},
        {{1, 3, 7, 25, 80, 3, 5, 3, 1, 1, 1, 1, 0, 0, 4}, 3, 3, 1, 1, 1, 1, 1, 1, false},
        {{1, 2, 10, 20, 70, 3, 3, 1, 2, 2, 3, 2, 3, 1, 4}, 5, 4, 3, 2, 2, 1, 0, 3, true},
        /* rows of 4: vectors cross rows */
        {{2, 2, 11, 13, 9, 5, 5, 2, 2, 1, 1, 2, 2, 1, 1}, 2, 2, 1, 1, 0, 0, 0, 0, false},
        /* rows wide enough that a chunk holds a few pooled rows (several per thread) */
        {{1, 3, 9, 120, 1280, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1}, 3, 3, 2, 2, 1, 1, 1, 1, true},
    };
    int fused = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        fused += check_pool_case(&cases[i], 900 + 7 * (unsigned)i);
    ck_assert_int_gt(fused, 0);
}
END_TEST

/* The choice: not for 1x1, depthwise, groups, narrow rows or many taps. */
START_TEST(direct_applicability)
{
    direct_case stem = {1, 3, 64, 224, 224, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3};
    oc_conv_geom g = geom_of(&stem);
    ck_assert(oc_conv_direct_applies(&g));
    direct_case narrow = {1, 3, 64, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1};
    g = geom_of(&narrow);
    ck_assert(!oc_conv_direct_applies(&g));
    direct_case pointwise = {1, 8, 8, 64, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0};
    g = geom_of(&pointwise);
    ck_assert(!oc_conv_direct_applies(&g));
    direct_case deep = {1, 512, 8, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
    g = geom_of(&deep);
    ck_assert(!oc_conv_direct_applies(&g));
    g = geom_of(&stem);
    g.group = 3;
    ck_assert(!oc_conv_direct_applies(&g));
}
END_TEST

TCase *kernels_direct_tcase(void)
{
    TCase *tc = tcase_create("conv_direct");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, direct_matches_reference);
    tcase_add_test(tc, direct_applicability);
    tcase_add_test(tc, direct_pool_matches_reference);
    return tc;
}
