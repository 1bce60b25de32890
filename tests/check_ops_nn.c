/* BatchNormalization, LRN, Softmax, LogSoftmax, ReduceMean, MatMul and
 * GlobalMaxPool: the fast kernels against their reference twins, and each op
 * through the op harness (prepare, infer, run as a session calls them)
 * against a computation written out here in double precision, element by
 * element from multi-indices, on odd shapes; then every kind of invalid
 * model turned into an error of the right code. ReduceMean's opset-18 axes
 * input must be constant, so those cases run through whole models. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/normalization.h"
#include "kernels/reduce.h"
#include "kernels/softmax.h"
#include "model_builder.h"
#include "op_harness.h"

/* ======================================================================== */
/* helpers                                                                  */
/* ======================================================================== */

static size_t count_of(int rank, const int64_t *dims)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    return n;
}

static void *checked_malloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* n uniform values in [lo, hi). */
static float *uniform(size_t n, unsigned seed, float lo, float hi)
{
    float *p = checked_malloc(n * sizeof *p);
    oh_fill(p, n, seed, lo, hi);
    return p;
}

/* A float tensor of the given shape with values in [lo, hi) (free .data). */
static oc_tensor float_tensor(int rank, const int64_t *dims, unsigned seed, float lo, float hi)
{
    return oh_tensor(ONNXC_DTYPE_FLOAT, rank, dims, uniform(count_of(rank, dims), seed, lo, hi));
}

/* The multi-index of flat position `flat` in dims (row-major). */
static void unravel(size_t flat, int rank, const int64_t *dims, int64_t *index)
{
    for (int d = rank - 1; d >= 0; d--) {
        index[d] = (int64_t)(flat % (size_t)dims[d]);
        flat /= (size_t)dims[d];
    }
}

static size_t ravel(int rank, const int64_t *dims, const int64_t *index)
{
    size_t flat = 0;
    for (int d = 0; d < rank; d++) flat = flat * (size_t)dims[d] + (size_t)index[d];
    return flat;
}

static void expect_ok(onnxc_status *st)
{
    ck_assert_msg(st == NULL, "unexpected error: %s", onnxc_status_message(st));
}

/* st is an error of that code whose message mentions needle; frees it. */
static void expect_error(onnxc_status *st, onnxc_code code, const char *needle)
{
    ck_assert_msg(st != NULL, "expected an error mentioning '%s', got success", needle);
    ck_assert_msg(onnxc_status_code(st) == code, "error '%s' has code %s, expected %s",
                  onnxc_status_message(st), onnxc_code_name(onnxc_status_code(st)),
                  onnxc_code_name(code));
    ck_assert_msg(strstr(onnxc_status_message(st), needle) != NULL,
                  "error '%s' does not mention '%s'", onnxc_status_message(st), needle);
    onnxc_status_free(st);
}

static void expect_shape(const oc_tensor *t, int rank, const int64_t *dims)
{
    char got[OC_SHAPE_STR_MAX], want[OC_SHAPE_STR_MAX];
    bool same = t->rank == rank &&
                (rank == 0 || memcmp(t->dims, dims, (size_t)rank * sizeof *dims) == 0);
    ck_assert_msg(same,
                  "shape %s, expected %s", oc_shape_str(t->dims, t->rank, got, sizeof got),
                  oc_shape_str(dims, rank, want, sizeof want));
}

/* actual against expected (computed in double) within the ONNX tolerance. */
static void expect_near(const float *actual, const double *expected, size_t n, const char *what)
{
    float *e = checked_malloc(n * sizeof *e);
    for (size_t i = 0; i < n; i++) e[i] = (float)expected[i];
    long bad = oh_compare(actual, e, n);
    ck_assert_msg(bad < 0, "%s: element %ld is %.9g, expected %.9g", what, bad,
                  bad < 0 ? 0.0 : actual[bad], bad < 0 ? 0.0 : expected[bad]);
    free(e);
}

static void expect_same_floats(const float *actual, const float *expected, size_t n,
                               const char *what)
{
    long bad = oh_compare(actual, expected, n);
    ck_assert_msg(bad < 0, "%s: element %ld is %.9g, expected %.9g", what, bad,
                  bad < 0 ? 0.0 : actual[bad], bad < 0 ? 0.0 : expected[bad]);
}

/* oh_run with the outputs zeroed first, so they are safe to free whatever happens. */
static onnxc_status *run_outputs(oh_node *h, int n_in, const oc_tensor *const *in, int n_out,
                                 oc_tensor *out, const bool *want)
{
    memset(out, 0, (size_t)n_out * sizeof *out);
    onnxc_status *st = oh_run(h, n_in, in, n_out, out, want);
    if (st) oh_free_outputs(n_out, out);
    return st;
}

static onnxc_status *run_op(oh_node *h, int n_in, const oc_tensor *const *in, oc_tensor *out)
{
    return run_outputs(h, n_in, in, 1, out, NULL);
}

/* Runs a one-output op expected to fail, and frees the node. */
static void expect_op_error(oh_node *h, int n_in, const oc_tensor *const *in, onnxc_code code,
                            const char *needle)
{
    oc_tensor out[1];
    expect_error(run_op(h, n_in, in, out), code, needle);
    oh_free(h);
}

/* ======================================================================== */
/* kernels: fast against reference                                          */
/* ======================================================================== */

START_TEST(softmax_kernel_matches_reference)
{
    static const int64_t shapes[][3] = {{1, 1, 1},  {3, 7, 1},   {2, 1, 5},   {1, 1000, 1},
                                        {5, 3, 17}, {2, 9, 300}, {1, 2, 513}, {4, 0, 3}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int64_t outer = shapes[s][0], n = shapes[s][1], inner = shapes[s][2];
        size_t count = (size_t)(outer * n * inner);
        float *x = uniform(count, (unsigned)s + 1, -20.0f, 20.0f);
        float *y = uniform(count, 99, 0.0f, 1.0f), *e = uniform(count, 99, 0.0f, 1.0f);
        for (int log_softmax = 0; log_softmax < 2; log_softmax++) {
            oc_softmax_f32(outer, n, inner, log_softmax, x, y);
            oc_softmax_f32_ref(outer, n, inner, log_softmax, x, e);
            char what[96];
            snprintf(what, sizeof what, "softmax [%lld, %lld, %lld] log %d", (long long)outer,
                     (long long)n, (long long)inner, log_softmax);
            expect_same_floats(y, e, count, what);
        }
        free(x);
        free(y);
        free(e);
    }
}
END_TEST

START_TEST(softmax_kernel_nan_and_infinities)
{
    /* A NaN, or a lane of only -inf, makes the lane NaN; the other lanes are untouched. */
    float x[3][4] = {{1, NAN, 2, 3}, {-INFINITY, -INFINITY, -INFINITY, -INFINITY}, {1, 2, 3, 4}};
    float y[12];
    for (int log_softmax = 0; log_softmax < 2; log_softmax++) {
        oc_softmax_f32(3, 4, 1, log_softmax, &x[0][0], y);
        for (int i = 0; i < 8; i++) ck_assert_msg(isnan(y[i]), "element %d is %g", i, y[i]);
        for (int i = 8; i < 12; i++) ck_assert(isfinite(y[i]));
    }
}
END_TEST

START_TEST(batchnorm_kernel_matches_reference)
{
    static const int64_t shapes[][3] = {{1, 1, 1}, {2, 3, 20}, {3, 300, 1}, {1, 257, 3}, {0, 4, 4}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int64_t batch = shapes[s][0], features = shapes[s][1], inner = shapes[s][2];
        size_t count = (size_t)(batch * features * inner), nf = (size_t)features;
        float *x = uniform(count, 1, -5.0f, 5.0f), *scale = uniform(nf, 2, -2.0f, 2.0f);
        float *bias = uniform(nf, 3, -1.0f, 1.0f), *mean = uniform(nf, 4, -3.0f, 3.0f);
        float *var = uniform(nf, 5, 0.0f, 4.0f);
        float *y = uniform(count, 6, 0, 1), *e = uniform(count, 6, 0, 1);
        oc_batchnorm_f32(batch, features, inner, 1e-3f, x, scale, bias, mean, var, y);
        oc_batchnorm_f32_ref(batch, features, inner, 1e-3f, x, scale, bias, mean, var, e);
        expect_same_floats(y, e, count, "batchnorm");
        /* In place. */
        oc_batchnorm_f32(batch, features, inner, 1e-3f, x, scale, bias, mean, var, x);
        expect_same_floats(x, e, count, "batchnorm in place");
        free(x), free(scale), free(bias), free(mean), free(var), free(y), free(e);
    }
}
END_TEST

START_TEST(batchnorm_stats_kernel)
{
    /* Against the textbook formulas, including data far from zero. */
    int64_t batch = 3, features = 5, inner = 7;
    size_t count = (size_t)(batch * features * inner);
    float *x = uniform(count, 11, 999.0f, 1001.0f);
    float mean[5], var[5];
    oc_batchnorm_stats_f32(batch, features, inner, x, mean, var);
    for (int64_t f = 0; f < features; f++) {
        double sum = 0, squares = 0;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t i = 0; i < inner; i++) sum += x[(b * features + f) * inner + i];
        double mu = sum / (double)(batch * inner);
        for (int64_t b = 0; b < batch; b++)
            for (int64_t i = 0; i < inner; i++) {
                double dev = x[(b * features + f) * inner + i] - mu;
                squares += dev * dev;
            }
        double expected_var = squares / (double)(batch * inner);
        ck_assert_double_eq_tol(mean[f], mu, 1e-4);
        ck_assert_double_eq_tol(var[f], expected_var, 1e-6 + 1e-5 * expected_var);
        ck_assert(var[f] > 0.1); /* uniform on a width of 2: about 1/3 */
    }
    free(x);
}
END_TEST

START_TEST(lrn_kernel_matches_reference)
{
    static const int64_t shapes[][3] = {{1, 1, 1}, {2, 7, 5}, {1, 3, 300}, {2, 12, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int64_t size = 1; size <= 6; size++) {
            int64_t batch = shapes[s][0], channels = shapes[s][1], inner = shapes[s][2];
            size_t count = (size_t)(batch * channels * inner);
            float *x = uniform(count, (unsigned)(s * 7 + (size_t)size), -4.0f, 4.0f);
            float *y = uniform(count, 1, 0, 1), *e = uniform(count, 1, 0, 1);
            oc_lrn_params p = {size, 0.3f, 0.6f, 1.5f};
            oc_lrn_f32(&p, batch, channels, inner, x, y);
            oc_lrn_f32_ref(&p, batch, channels, inner, x, e);
            char what[64];
            snprintf(what, sizeof what, "lrn shape %zu size %lld", s, (long long)size);
            expect_same_floats(y, e, count, what);
            free(x), free(y), free(e);
        }
    /* A window far wider than the channels is clipped, not walked. */
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6], e[6];
    oc_lrn_params p = {INT64_MAX, 1.0f, 0.5f, 1.0f};
    oc_lrn_f32(&p, 1, 6, 1, x, y);
    oc_lrn_f32_ref(&p, 1, 6, 1, x, e);
    expect_same_floats(y, e, 6, "lrn huge size");
}
END_TEST

/* Runs the fast and reference ReduceMean on every reduced-dims mask of g. */
static void check_reduce_kernel_masks(oc_reduce_geom g, int dtype, unsigned seed)
{
    size_t elem = onnxc_dtype_size(dtype), n_in = count_of(g.rank, g.dims);
    void *x = checked_malloc(n_in * elem);
    float *r = uniform(n_in, seed, -100.0f, 100.0f);
    for (size_t i = 0; i < n_in; i++) {
        if (dtype == ONNXC_DTYPE_FLOAT) ((float *)x)[i] = r[i];
        if (dtype == ONNXC_DTYPE_DOUBLE) ((double *)x)[i] = r[i];
        if (dtype == ONNXC_DTYPE_INT32) ((int32_t *)x)[i] = (int32_t)r[i];
        if (dtype == ONNXC_DTYPE_INT64) ((int64_t *)x)[i] = (int64_t)r[i] * 1000000007LL;
    }
    for (unsigned mask = 0; mask < (1u << g.rank); mask++) {
        for (int d = 0; d < g.rank; d++) g.reduced[d] = (mask >> d) & 1;
        size_t n_out = 1;
        for (int d = 0; d < g.rank; d++)
            if (!g.reduced[d]) n_out *= (size_t)g.dims[d];
        size_t ws = oc_reduce_mean_workspace(&g);
        ck_assert_uint_eq(ws, n_out * 8);
        void *w = checked_malloc(ws), *y = checked_malloc(n_out * elem),
             *e = checked_malloc(n_out * elem);
        oc_reduce_mean(dtype, &g, x, y, w);
        oc_reduce_mean_ref(dtype, &g, x, e);
        char what[96];
        snprintf(what, sizeof what, "reduce %s rank %d mask %u", onnxc_dtype_name(dtype), g.rank,
                 mask);
        if (dtype == ONNXC_DTYPE_FLOAT) {
            expect_same_floats(y, e, n_out, what);
        } else if (dtype == ONNXC_DTYPE_DOUBLE) {
            for (size_t i = 0; i < n_out; i++) {
                double a = ((double *)y)[i], b = ((double *)e)[i];
                ck_assert_msg((isnan(a) && isnan(b)) || fabs(a - b) <= 1e-12 * (1 + fabs(b)),
                              "%s: element %zu is %g, expected %g", what, i, a, b);
            }
        } else {
            ck_assert_msg(memcmp(y, e, n_out * elem) == 0, "%s: integer means differ", what);
        }
        free(w), free(y), free(e);
    }
    free(x);
    free(r);
}

START_TEST(reduce_kernel_matches_reference)
{
    static const oc_reduce_geom shapes[] = {
        {0, {0}, {false}},          {1, {7}, {false}},          {2, {1, 5}, {false}},
        {4, {3, 1, 4, 5}, {false}}, {5, {2, 3, 2, 1, 3}, {false}}, {3, {2, 0, 3}, {false}},
        {2, {3, 300}, {false}}};
    static const int dtypes[] = {ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE, ONNXC_DTYPE_INT32,
                                 ONNXC_DTYPE_INT64};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (size_t t = 0; t < sizeof dtypes / sizeof *dtypes; t++)
            check_reduce_kernel_masks(shapes[s], dtypes[t], (unsigned)(s * 4 + t + 1));
    ck_assert(oc_reduce_mean_supports(ONNXC_DTYPE_FLOAT));
    ck_assert(!oc_reduce_mean_supports(ONNXC_DTYPE_UINT8));
    ck_assert(!oc_reduce_mean_supports(ONNXC_DTYPE_FLOAT16));
}
END_TEST

START_TEST(reduce_kernel_integer_rounding_and_empty)
{
    /* Integer means round toward zero; an empty reduction gives 0 (integers) or NaN. */
    int32_t xi[4] = {-3, -4, 3, 4};
    int32_t yi[2];
    oc_reduce_geom g = {2, {2, 2}, {false, true}};
    uint64_t w[2];
    oc_reduce_mean(ONNXC_DTYPE_INT32, &g, xi, yi, w);
    ck_assert_int_eq(yi[0], -3);
    ck_assert_int_eq(yi[1], 3);
    oc_reduce_geom empty = {2, {2, 0}, {false, true}};
    int64_t yl[2] = {7, 7};
    float yf[2];
    oc_reduce_mean(ONNXC_DTYPE_INT64, &empty, NULL, yl, w);
    ck_assert(yl[0] == 0 && yl[1] == 0);
    oc_reduce_mean(ONNXC_DTYPE_FLOAT, &empty, NULL, yf, w);
    ck_assert(isnan(yf[0]) && isnan(yf[1]));
    /* int64 sums wrap rather than trap (numpy's behaviour). */
    int64_t big[2] = {INT64_MAX, 3};
    oc_reduce_geom all = {1, {2}, {true}};
    int64_t mean;
    oc_reduce_mean(ONNXC_DTYPE_INT64, &all, big, &mean, w);
    ck_assert(mean == (int64_t)(((uint64_t)INT64_MAX + 3u)) / 2);
}
END_TEST

/* ======================================================================== */
/* BatchNormalization                                                       */
/* ======================================================================== */

/* Expected Y: statistics indexed per channel, or per activation (X without its batch dim). */
static double *batchnorm_expected(const oc_tensor *x, const float *scale, const float *bias,
                                  const float *mean, const float *var, double epsilon,
                                  bool per_activation)
{
    double *e = checked_malloc(x->count * sizeof *e);
    int64_t index[OC_MAX_RANK];
    for (size_t i = 0; i < x->count; i++) {
        unravel(i, x->rank, x->dims, index);
        size_t s = x->rank == 1 ? 0 : (size_t)index[1];
        if (per_activation) s = ravel(x->rank - 1, x->dims + 1, index + 1);
        double v = ((float *)x->data)[i];
        e[i] = (v - mean[s]) / sqrt((double)var[s] + epsilon) * scale[s] + bias[s];
    }
    return e;
}

/* Runs inference-mode BatchNormalization on x at opset; attributes already on h. */
static void check_batchnorm(oh_node *h, const oc_tensor *x, float epsilon, bool per_activation,
                            unsigned seed)
{
    int64_t stat_dims[OC_MAX_RANK];
    int stat_rank = 1;
    stat_dims[0] = x->rank == 1 ? 1 : x->dims[1];
    if (per_activation) {
        stat_rank = x->rank - 1;
        memcpy(stat_dims, x->dims + 1, (size_t)stat_rank * sizeof *stat_dims);
    }
    oc_tensor scale = float_tensor(stat_rank, stat_dims, seed, -2.0f, 2.0f);
    oc_tensor bias = float_tensor(stat_rank, stat_dims, seed + 1, -1.0f, 1.0f);
    oc_tensor mean = float_tensor(stat_rank, stat_dims, seed + 2, -1.0f, 1.0f);
    oc_tensor var = float_tensor(stat_rank, stat_dims, seed + 3, 0.05f, 3.0f);
    const oc_tensor *in[5] = {x, &scale, &bias, &mean, &var};
    oc_tensor y[1];
    expect_ok(run_op(h, 5, in, y));
    expect_shape(&y[0], x->rank, x->dims);
    double *e = batchnorm_expected(x, scale.data, bias.data, mean.data, var.data, epsilon,
                                   per_activation);
    char what[64];
    snprintf(what, sizeof what, "BatchNormalization opset %lld", (long long)h->node.opset);
    expect_near(y[0].data, e, x->count, what);
    free(e);
    oh_free_outputs(1, y);
    free(scale.data), free(bias.data), free(mean.data), free(var.data);
}

START_TEST(batchnorm_every_opset)
{
    static const int64_t shapes[][5] = {{2, 3, 4, 5}, {3, 5}, {2, 3, 2, 3, 2}, {1, 7, 9}};
    static const int ranks[] = {4, 2, 5, 3};
    static const int64_t opsets[] = {1, 6, 7, 8, 9, 13, 14, 15, 26};
    static const int64_t consumed[] = {0, 0, 0, 1, 1};
    for (size_t o = 0; o < sizeof opsets / sizeof *opsets; o++)
        for (size_t s = 0; s < sizeof ranks / sizeof *ranks; s++) {
            int64_t opset = opsets[o];
            oc_tensor x = float_tensor(ranks[s], shapes[s], (unsigned)(o * 10 + s), -3, 3);
            oh_node h;
            oh_init(&h, "BatchNormalization", opset);
            float epsilon = s % 2 ? 1e-5f : 0.01f; /* the default, or set */
            if (s % 2 == 0) oh_attr_float(&h, "epsilon", epsilon);
            if (opset < 6) oh_attr_ints(&h, "consumed_inputs", consumed, 5);
            if (opset < 7) oh_attr_int(&h, "is_test", (int64_t)(s % 2)); /* 0 too: inference */
            if (opset < 9 && s == 1) oh_attr_int(&h, "spatial", 1);
            if (opset >= 14 && s == 2) oh_attr_int(&h, "training_mode", 0);
            oh_attr_float(&h, "momentum", 0.5f);
            check_batchnorm(&h, &x, epsilon, false, (unsigned)s + 40);
            oh_free(&h);
            free(x.data);
        }
    /* From opset 9, a 1-D X is [N] with one channel. */
    static const int64_t n7[1] = {7};
    oc_tensor x = float_tensor(1, n7, 3, -3, 3);
    for (int64_t opset = 9; opset <= 15; opset += 6) {
        oh_node h;
        oh_init(&h, "BatchNormalization", opset);
        check_batchnorm(&h, &x, 1e-5f, false, 50);
        oh_free(&h);
    }
    free(x.data);
}
END_TEST

START_TEST(batchnorm_per_activation)
{
    /* spatial = 0 (opsets 1-8): statistics of shape [C, D1, ...]. */
    static const int64_t shapes[][4] = {{2, 3, 4, 5}, {3, 5}, {2, 3, 5}};
    static const int ranks[] = {4, 2, 3};
    static const int64_t opsets[] = {1, 6, 7, 8};
    for (size_t o = 0; o < sizeof opsets / sizeof *opsets; o++)
        for (size_t s = 0; s < sizeof ranks / sizeof *ranks; s++) {
            oc_tensor x = float_tensor(ranks[s], shapes[s], (unsigned)(o + s), -3, 3);
            oh_node h;
            oh_init(&h, "BatchNormalization", opsets[o]);
            oh_attr_int(&h, "spatial", 0);
            oh_attr_float(&h, "epsilon", 0.125f);
            check_batchnorm(&h, &x, 0.125f, true, (unsigned)(o * 3 + s));
            oh_free(&h);
            free(x.data);
        }
}
END_TEST

START_TEST(batchnorm_training_mode)
{
    static const int64_t xd[4] = {3, 4, 2, 5}, cd[1] = {4};
    oc_tensor x = float_tensor(4, xd, 1, -3, 5);
    oc_tensor scale = float_tensor(1, cd, 2, 0.5f, 2), bias = float_tensor(1, cd, 3, -1, 1);
    oc_tensor mean = float_tensor(1, cd, 4, -1, 1), var = float_tensor(1, cd, 5, 0.5f, 2);
    const oc_tensor *in[5] = {&x, &scale, &bias, &mean, &var};
    float momentum = 0.8f, epsilon = 0.01f;
    /* The batch statistics, computed here. */
    double batch_mean[4] = {0}, batch_var[4] = {0};
    float bm[4], bv[4];
    int64_t index[4];
    for (size_t i = 0; i < x.count; i++) {
        unravel(i, 4, xd, index);
        batch_mean[index[1]] += ((float *)x.data)[i] / 30.0;
    }
    for (size_t i = 0; i < x.count; i++) {
        unravel(i, 4, xd, index);
        double dev = ((float *)x.data)[i] - batch_mean[index[1]];
        batch_var[index[1]] += dev * dev / 30.0;
    }
    for (int c = 0; c < 4; c++) bm[c] = (float)batch_mean[c], bv[c] = (float)batch_var[c];
    double *ey = batchnorm_expected(&x, scale.data, bias.data, bm, bv, epsilon, false);
    double er_mean[4], er_var[4];
    for (int c = 0; c < 4; c++) {
        double m = momentum;
        er_mean[c] = ((float *)mean.data)[c] * m + batch_mean[c] * (1 - m);
        er_var[c] = ((float *)var.data)[c] * m + batch_var[c] * (1 - m);
    }
    for (int64_t opset = 14; opset <= 15; opset++)
        for (int n_out = 1; n_out <= 3; n_out++) {
            oh_node h;
            oh_init(&h, "BatchNormalization", opset);
            oh_attr_int(&h, "training_mode", 1);
            oh_attr_float(&h, "momentum", momentum);
            oh_attr_float(&h, "epsilon", epsilon);
            oc_tensor out[3];
            expect_ok(run_outputs(&h, 5, in, n_out, out, NULL));
            expect_shape(&out[0], 4, xd);
            expect_near(out[0].data, ey, x.count, "training Y");
            if (n_out >= 2) {
                expect_shape(&out[1], 1, cd);
                expect_near(out[1].data, er_mean, 4, "running_mean");
            }
            if (n_out >= 3) {
                expect_shape(&out[2], 1, cd);
                expect_near(out[2].data, er_var, 4, "running_var");
            }
            oh_free_outputs(n_out, out);
            oh_free(&h);
        }
    /* Y omitted: only the running statistics. */
    oh_node h;
    oh_init(&h, "BatchNormalization", 15);
    oh_attr_int(&h, "training_mode", 1);
    oh_attr_float(&h, "momentum", momentum);
    oc_tensor out[3];
    bool want[3] = {false, true, true};
    expect_ok(run_outputs(&h, 5, in, 3, out, want));
    expect_near(out[1].data, er_mean, 4, "running_mean without Y");
    oh_free_outputs(3, out);
    oh_free(&h);
    free(ey);
    free(x.data), free(scale.data), free(bias.data), free(mean.data), free(var.data);
}
END_TEST

START_TEST(batchnorm_invalid_models_are_errors)
{
    static const int64_t xd[4] = {2, 3, 2, 2}, c3[1] = {3}, c4[1] = {4}, x1[1] = {5};
    oc_tensor x = float_tensor(4, xd, 1, -1, 1), s3 = float_tensor(1, c3, 2, 0.5f, 1);
    oc_tensor s4 = float_tensor(1, c4, 3, 0.5f, 1), v1 = float_tensor(1, x1, 4, -1, 1);
    const oc_tensor *in[5] = {&x, &s3, &s3, &s3, &s3};
    oh_node h;
    oc_tensor out[5];

    /* Training outputs before opset 14: unsupported, named. */
    oh_init(&h, "BatchNormalization", 9);
    expect_error(run_outputs(&h, 5, in, 2, out, NULL), ONNXC_ERR_UNSUPPORTED, "saved_mean");
    oh_free(&h);
    oh_init(&h, "BatchNormalization", 6);
    oh_attr_int(&h, "is_test", 0);
    expect_error(run_outputs(&h, 5, in, 5, out, NULL), ONNXC_ERR_UNSUPPORTED, "training");
    oh_free(&h);
    /* Running statistics without training_mode. */
    oh_init(&h, "BatchNormalization", 15);
    expect_error(run_outputs(&h, 5, in, 3, out, NULL), ONNXC_ERR_MODEL, "training_mode");
    oh_free(&h);
    /* A fourth output from opset 14. */
    oh_init(&h, "BatchNormalization", 14);
    oh_attr_int(&h, "training_mode", 1);
    expect_error(run_outputs(&h, 5, in, 4, out, NULL), ONNXC_ERR_MODEL, "output 3");
    oh_free(&h);

    /* Attributes outside their opsets, or with bad values. */
    oh_init(&h, "BatchNormalization", 7);
    oh_attr_int(&h, "is_test", 1);
    expect_op_error(&h, 5, in, ONNXC_ERR_MODEL, "is_test");
    oh_init(&h, "BatchNormalization", 9);
    oh_attr_int(&h, "spatial", 1);
    expect_op_error(&h, 5, in, ONNXC_ERR_MODEL, "spatial");
    oh_init(&h, "BatchNormalization", 13);
    oh_attr_int(&h, "training_mode", 0);
    expect_op_error(&h, 5, in, ONNXC_ERR_MODEL, "training_mode");
    oh_init(&h, "BatchNormalization", 6);
    oh_attr_ints(&h, "consumed_inputs", xd, 2);
    expect_op_error(&h, 5, in, ONNXC_ERR_MODEL, "consumed_inputs");
    oh_init(&h, "BatchNormalization", 7);
    oh_attr_int(&h, "spatial", 2);
    expect_op_error(&h, 5, in, ONNXC_ERR_MODEL, "spatial");
    oh_init(&h, "BatchNormalization", 15);
    oh_attr_int(&h, "training_mode", 2);
    expect_op_error(&h, 5, in, ONNXC_ERR_MODEL, "training_mode");
    oh_init(&h, "BatchNormalization", 15);
    oh_attr_int(&h, "epsilon", 1);
    expect_op_error(&h, 5, in, ONNXC_ERR_MODEL, "epsilon");

    /* Statistics of the wrong shape, per channel and per activation. */
    for (int i = 1; i < 5; i++) {
        const oc_tensor *bad[5] = {&x, &s3, &s3, &s3, &s3};
        bad[i] = &s4;
        oh_init(&h, "BatchNormalization", 15);
        static const char *const names[5] = {"X", "scale", "B", "mean", "var"};
        expect_op_error(&h, 5, bad, ONNXC_ERR_MODEL, names[i]);
    }
    oh_init(&h, "BatchNormalization", 7);
    oh_attr_int(&h, "spatial", 0);
    expect_op_error(&h, 5, in, ONNXC_ERR_MODEL, "per activation");

    /* X of rank 1 only from opset 9; rank 0 never. */
    const oc_tensor *in1[5] = {&v1, &s3, &s3, &s3, &s3};
    oh_init(&h, "BatchNormalization", 8);
    expect_op_error(&h, 5, in1, ONNXC_ERR_MODEL, "rank");
    oc_tensor scalar = oh_tensor(ONNXC_DTYPE_FLOAT, 0, NULL, s3.data);
    const oc_tensor *in0[5] = {&scalar, &s3, &s3, &s3, &s3};
    oh_init(&h, "BatchNormalization", 15);
    expect_op_error(&h, 5, in0, ONNXC_ERR_MODEL, "rank");

    /* Other element types: unsupported, named. */
    double xd64[24] = {0};
    oc_tensor x64 = oh_tensor(ONNXC_DTYPE_DOUBLE, 4, xd, xd64);
    const oc_tensor *in64[5] = {&x64, &s3, &s3, &s3, &s3};
    oh_init(&h, "BatchNormalization", 15);
    expect_op_error(&h, 5, in64, ONNXC_ERR_UNSUPPORTED, "float64");
    double s64[3] = {1, 1, 1};
    oc_tensor m64 = oh_tensor(ONNXC_DTYPE_DOUBLE, 1, c3, s64);
    const oc_tensor *inm64[5] = {&x, &s3, &s3, &m64, &s3};
    oh_init(&h, "BatchNormalization", 15);
    expect_op_error(&h, 5, inm64, ONNXC_ERR_UNSUPPORTED, "mean of element type float64");

    free(x.data), free(s3.data), free(s4.data), free(v1.data);
}
END_TEST

/* ======================================================================== */
/* LRN                                                                      */
/* ======================================================================== */

static void check_lrn(int rank, const int64_t *dims, int64_t size, bool defaults, unsigned seed)
{
    oc_tensor x = float_tensor(rank, dims, seed, -3, 3);
    double alpha = defaults ? 1e-4 : 0.02f, beta = defaults ? 0.75 : 0.6f;
    double bias = defaults ? 1.0 : 2.5f;
    oh_node h;
    oh_init(&h, "LRN", seed % 2 ? 13 : 1);
    oh_attr_int(&h, "size", size);
    if (!defaults) {
        oh_attr_float(&h, "alpha", (float)alpha);
        oh_attr_float(&h, "beta", (float)beta);
        oh_attr_float(&h, "bias", (float)bias);
    }
    const oc_tensor *in[1] = {&x};
    oc_tensor y[1];
    expect_ok(run_op(&h, 1, in, y));
    expect_shape(&y[0], rank, dims);
    /* The spec's window: floor((size-1)/2) channels before, ceil((size-1)/2) after. */
    int64_t before = (size - 1) / 2, after = (size - 1 + 1) / 2;
    double *e = checked_malloc(x.count * sizeof *e);
    int64_t index[OC_MAX_RANK];
    for (size_t i = 0; i < x.count; i++) {
        unravel(i, rank, dims, index);
        int64_t c = index[1];
        double square_sum = 0;
        for (int64_t k = c - before; k <= c + after; k++) {
            if (k < 0 || k >= dims[1]) continue;
            index[1] = k;
            double v = ((float *)x.data)[ravel(rank, dims, index)];
            square_sum += v * v;
        }
        e[i] = ((float *)x.data)[i] / pow(bias + alpha / (double)size * square_sum, beta);
    }
    char what[64];
    snprintf(what, sizeof what, "LRN rank %d size %lld", rank, (long long)size);
    expect_near(y[0].data, e, x.count, what);
    free(e);
    oh_free_outputs(1, y);
    oh_free(&h);
    free(x.data);
}

START_TEST(lrn_even_and_odd_sizes)
{
    static const int64_t d4[4] = {2, 7, 3, 5}, d3[3] = {2, 5, 4}, d5[5] = {1, 4, 2, 3, 2};
    for (int64_t size = 1; size <= 8; size++) {
        check_lrn(4, d4, size, false, (unsigned)size);
        check_lrn(4, d4, size, true, (unsigned)size + 20);
        check_lrn(3, d3, size, false, (unsigned)size + 40);
        check_lrn(5, d5, size, size % 2 == 0, (unsigned)size + 60);
    }
}
END_TEST

START_TEST(lrn_invalid_models_are_errors)
{
    static const int64_t d4[4] = {1, 3, 2, 2}, d2[2] = {3, 4};
    oc_tensor x = float_tensor(4, d4, 1, -1, 1), x2 = float_tensor(2, d2, 2, -1, 1);
    const oc_tensor *in[1] = {&x}, *in2[1] = {&x2};
    oh_node h;
    oh_init(&h, "LRN", 13);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "'size' is required");
    oh_init(&h, "LRN", 13);
    oh_attr_int(&h, "size", 0);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "size");
    oh_init(&h, "LRN", 13);
    oh_attr_float(&h, "size", 3.0f);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "size");
    oh_init(&h, "LRN", 13);
    oh_attr_int(&h, "size", 3);
    oh_attr_int(&h, "axis", 1);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "axis");
    oh_init(&h, "LRN", 13);
    oh_attr_int(&h, "size", 3);
    expect_op_error(&h, 1, in2, ONNXC_ERR_MODEL, "rank");
    double d[12] = {0};
    oc_tensor x64 = oh_tensor(ONNXC_DTYPE_DOUBLE, 4, d4, d);
    const oc_tensor *in64[1] = {&x64};
    oh_init(&h, "LRN", 13);
    oh_attr_int(&h, "size", 3);
    expect_op_error(&h, 1, in64, ONNXC_ERR_UNSUPPORTED, "float64");
    free(x.data), free(x2.data);
}
END_TEST

/* ======================================================================== */
/* Softmax, LogSoftmax                                                      */
/* ======================================================================== */

/* The expected output: elements sharing every coordinate outside the
 * normalized dims form one group. Opset 13+ normalizes dim `axis` only,
 * earlier opsets every dim from `axis` on. */
static double *softmax_expected(const oc_tensor *x, int axis, bool single_axis, bool log_softmax)
{
    size_t n = x->count;
    double *e = checked_malloc(n * sizeof *e), *max = checked_malloc(n * sizeof *max),
           *sum = checked_malloc(n * sizeof *sum);
    size_t *group = checked_malloc(n * sizeof *group);
    const float *v = x->data;
    int64_t index[OC_MAX_RANK];
    for (size_t i = 0; i < n; i++) {
        unravel(i, x->rank, x->dims, index);
        for (int d = axis; d < x->rank; d++)
            if (d == axis || !single_axis) index[d] = 0;
        group[i] = ravel(x->rank, x->dims, index);
        max[i] = -INFINITY;
        sum[i] = 0;
    }
    for (size_t i = 0; i < n; i++)
        if (v[i] > max[group[i]]) max[group[i]] = v[i];
    for (size_t i = 0; i < n; i++) sum[group[i]] += exp(v[i] - max[group[i]]);
    for (size_t i = 0; i < n; i++) {
        double shifted = v[i] - max[group[i]];
        e[i] = log_softmax ? shifted - log(sum[group[i]]) : exp(shifted) / sum[group[i]];
    }
    free(max), free(sum), free(group);
    return e;
}

static void check_softmax(const char *op, int64_t opset, const oc_tensor *x, bool set_axis,
                          int64_t axis)
{
    oh_node h;
    oh_init(&h, op, opset);
    if (set_axis) oh_attr_int(&h, "axis", axis);
    const oc_tensor *in[1] = {x};
    oc_tensor y[1];
    expect_ok(run_op(&h, 1, in, y));
    expect_shape(&y[0], x->rank, x->dims);
    int64_t a = set_axis ? axis : (opset >= 13 ? -1 : 1);
    int normalized = (int)(a < 0 ? a + x->rank : a);
    bool log_softmax = strcmp(op, "LogSoftmax") == 0;
    double *e = softmax_expected(x, normalized, opset >= 13, log_softmax);
    char what[96];
    snprintf(what, sizeof what, "%s opset %lld axis %lld%s", op, (long long)opset,
             (long long)axis, set_axis ? "" : " (default)");
    expect_near(y[0].data, e, x->count, what);
    free(e);
    oh_free_outputs(1, y);
    oh_free(&h);
}

START_TEST(softmax_every_axis_both_semantics)
{
    static const int64_t d4[4] = {2, 3, 4, 5}, d1[1] = {7}, d3[3] = {3, 1, 300};
    oc_tensor x4 = float_tensor(4, d4, 1, -4, 4), x1 = float_tensor(1, d1, 2, -4, 4);
    oc_tensor x3 = float_tensor(3, d3, 3, -4, 4);
    static const char *const ops[2] = {"Softmax", "LogSoftmax"};
    static const int64_t opsets[] = {1, 11, 12, 13, 26};
    for (int o = 0; o < 2; o++)
        for (size_t v = 0; v < sizeof opsets / sizeof *opsets; v++) {
            for (int64_t axis = -4; axis < 4; axis++)
                check_softmax(ops[o], opsets[v], &x4, true, axis);
            check_softmax(ops[o], opsets[v], &x4, false, 0);
            check_softmax(ops[o], opsets[v], &x1, true, 0);
            check_softmax(ops[o], opsets[v], &x1, true, -1);
            if (opsets[v] >= 13) check_softmax(ops[o], opsets[v], &x1, false, 0);
            for (int64_t axis = -3; axis < 3; axis++)
                check_softmax(ops[o], opsets[v], &x3, true, axis);
        }
    free(x4.data), free(x1.data), free(x3.data);
}
END_TEST

START_TEST(softmax_large_values_are_stable)
{
    static const int64_t d[2] = {4, 6};
    float v[24];
    for (int i = 0; i < 24; i++) v[i] = 10000.0f + (float)(i % 6) * 50.0f - (float)(i / 6) * 1e4f;
    v[6] = 1.5e38f, v[7] = -1.5e38f; /* near float's limits, their difference still finite */
    oc_tensor x = oh_tensor(ONNXC_DTYPE_FLOAT, 2, d, v);
    for (int o = 0; o < 2; o++) {
        const char *op = o ? "LogSoftmax" : "Softmax";
        for (int64_t opset = 11; opset <= 13; opset += 2)
            for (int64_t axis = 0; axis < 2; axis++) check_softmax(op, opset, &x, true, axis);
    }
    /* The row with the huge value is exactly one-hot. */
    oh_node h;
    oh_init(&h, "Softmax", 13);
    const oc_tensor *in[1] = {&x};
    oc_tensor y[1];
    expect_ok(run_op(&h, 1, in, y));
    const float *r = (float *)y[0].data + 6;
    ck_assert(r[0] == 1.0f && r[1] == 0.0f);
    for (int i = 0; i < 24; i++) ck_assert(isfinite(((float *)y[0].data)[i]));
    oh_free_outputs(1, y);
    oh_free(&h);
}
END_TEST

START_TEST(softmax_invalid_models_are_errors)
{
    static const int64_t d[2] = {2, 3};
    oc_tensor x = float_tensor(2, d, 1, -1, 1);
    const oc_tensor *in[1] = {&x};
    static const char *const ops[2] = {"Softmax", "LogSoftmax"};
    for (int o = 0; o < 2; o++) {
        oh_node h;
        for (int64_t opset = 11; opset <= 13; opset += 2) {
            oh_init(&h, ops[o], opset);
            oh_attr_int(&h, "axis", 2);
            expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "axis 2 is out of range");
            oh_init(&h, ops[o], opset);
            oh_attr_int(&h, "axis", -3);
            expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "axis -3");
        }
        oh_init(&h, ops[o], 13);
        oh_attr_float(&h, "axis", 1.0f);
        expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "axis");
        oh_init(&h, ops[o], 13);
        oh_attr_int(&h, "keepdims", 1);
        expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "keepdims");
        /* Before opset 13 the default axis is 1, outside a 1-D input. */
        static const int64_t d1[1] = {4};
        oc_tensor x1 = oh_tensor(ONNXC_DTYPE_FLOAT, 1, d1, x.data);
        const oc_tensor *in1[1] = {&x1};
        oh_init(&h, ops[o], 12);
        expect_op_error(&h, 1, in1, ONNXC_ERR_MODEL, "axis 1 is out of range for rank 1");
        float one = 1.0f;
        oc_tensor scalar = oh_tensor(ONNXC_DTYPE_FLOAT, 0, NULL, &one);
        const oc_tensor *in0[1] = {&scalar};
        oh_init(&h, ops[o], 13);
        expect_op_error(&h, 1, in0, ONNXC_ERR_MODEL, "rank 0");
        double dd[6] = {0};
        oc_tensor x64 = oh_tensor(ONNXC_DTYPE_DOUBLE, 2, d, dd);
        const oc_tensor *in64[1] = {&x64};
        oh_init(&h, ops[o], 13);
        expect_op_error(&h, 1, in64, ONNXC_ERR_UNSUPPORTED, "float64");
    }
    free(x.data);
}
END_TEST

/* ======================================================================== */
/* ReduceMean                                                               */
/* ======================================================================== */

/* The expected mean of x over the flagged dims, in double (integers: the
 * exact mean truncated toward zero, computed here from the exact sum). */
static double *reduce_expected(const oc_tensor *x, const bool *reduced, size_t *n_out)
{
    int64_t out_dims[OC_MAX_RANK], index[OC_MAX_RANK];
    for (int d = 0; d < x->rank; d++) out_dims[d] = reduced[d] ? 1 : x->dims[d];
    *n_out = count_of(x->rank, out_dims);
    double *sum = checked_malloc(*n_out * sizeof *sum);
    double *cnt = checked_malloc(*n_out * sizeof *cnt);
    for (size_t o = 0; o < *n_out; o++) sum[o] = cnt[o] = 0;
    for (size_t i = 0; i < x->count; i++) {
        unravel(i, x->rank, x->dims, index);
        for (int d = 0; d < x->rank; d++)
            if (reduced[d]) index[d] = 0;
        size_t o = ravel(x->rank, out_dims, index);
        double v = 0;
        switch (x->dtype) {
        case ONNXC_DTYPE_FLOAT: v = ((float *)x->data)[i]; break;
        case ONNXC_DTYPE_DOUBLE: v = ((double *)x->data)[i]; break;
        case ONNXC_DTYPE_INT32: v = ((int32_t *)x->data)[i]; break;
        case ONNXC_DTYPE_INT64: v = (double)((int64_t *)x->data)[i]; break;
        default: ck_abort();
        }
        sum[o] += v;
        cnt[o] += 1;
    }
    bool integer = x->dtype == ONNXC_DTYPE_INT32 || x->dtype == ONNXC_DTYPE_INT64;
    for (size_t o = 0; o < *n_out; o++) sum[o] = integer ? trunc(sum[o] / cnt[o]) : sum[o] / cnt[o];
    free(cnt);
    return sum;
}

static void expect_reduced_values(const oc_tensor *y, const double *e, size_t n, const char *what)
{
    ck_assert_uint_eq(y->count, n);
    switch (y->dtype) {
    case ONNXC_DTYPE_FLOAT: expect_near(y->data, e, n, what); break;
    case ONNXC_DTYPE_DOUBLE:
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(fabs(((double *)y->data)[i] - e[i]) <= 1e-9 * (1 + fabs(e[i])),
                          "%s: element %zu", what, i);
        break;
    case ONNXC_DTYPE_INT32:
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(((int32_t *)y->data)[i] == (int32_t)e[i],
                          "%s: element %zu is %d, expected %g", what, i, ((int32_t *)y->data)[i],
                          e[i]);
        break;
    case ONNXC_DTYPE_INT64:
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(((int64_t *)y->data)[i] == (int64_t)e[i], "%s: element %zu", what, i);
        break;
    default: ck_abort();
    }
}

/* The output shape: reduced dims become 1 or vanish. */
static int reduced_shape(const oc_tensor *x, const bool *reduced, bool keepdims, int64_t *dims)
{
    int rank = 0;
    for (int d = 0; d < x->rank; d++)
        if (!reduced[d])
            dims[rank++] = x->dims[d];
        else if (keepdims)
            dims[rank++] = 1;
    return rank;
}

/* ReduceMean through the harness with the axes attribute (opsets 1-17). */
static void check_reducemean_attr(const oc_tensor *x, int64_t opset, unsigned mask, bool negative,
                                  int keepdims /* -1: default */)
{
    int64_t axes[OC_MAX_RANK];
    bool reduced[OC_MAX_RANK];
    size_t n_axes = 0;
    for (int d = 0; d < x->rank; d++) reduced[d] = (mask >> d) & 1;
    /* Listed last to first: the order of the axes must not matter. */
    for (int d = x->rank - 1; d >= 0; d--)
        if (reduced[d]) axes[n_axes++] = negative ? d - x->rank : d;
    oh_node h;
    oh_init(&h, "ReduceMean", opset);
    if (n_axes) oh_attr_ints(&h, "axes", axes, n_axes);
    if (keepdims >= 0) oh_attr_int(&h, "keepdims", keepdims);
    if (n_axes == 0) /* no axes: every dim */
        for (int d = 0; d < x->rank; d++) reduced[d] = true;
    const oc_tensor *in[1] = {x};
    oc_tensor y[1];
    expect_ok(run_op(&h, 1, in, y));
    int64_t dims[OC_MAX_RANK];
    int rank = reduced_shape(x, reduced, keepdims != 0, dims);
    expect_shape(&y[0], rank, dims);
    size_t n;
    double *e = reduce_expected(x, reduced, &n);
    char what[96];
    snprintf(what, sizeof what, "ReduceMean %s opset %lld mask %u keepdims %d",
             onnxc_dtype_name(x->dtype), (long long)opset, mask, keepdims);
    expect_reduced_values(&y[0], e, n, what);
    free(e);
    oh_free_outputs(1, y);
    oh_free(&h);
}

START_TEST(reducemean_axes_attribute)
{
    static const int64_t d[5] = {3, 4, 1, 5, 2};
    oc_tensor x = float_tensor(5, d, 1, -10, 10);
    for (unsigned mask = 0; mask < 32; mask++)
        for (int keepdims = -1; keepdims <= 1; keepdims++) {
            check_reducemean_attr(&x, 13, mask, false, keepdims);
            check_reducemean_attr(&x, mask % 2 ? 1 : 11, mask, true, keepdims);
        }
    free(x.data);
}
END_TEST

START_TEST(reducemean_element_types)
{
    static const int64_t d[3] = {3, 5, 2};
    int32_t i32[30];
    int64_t i64[30];
    double f64[30];
    for (int i = 0; i < 30; i++) {
        i32[i] = (i * 7919) % 23 - 11;
        i64[i] = ((int64_t)i * 104729 % 31 - 15) * 3000000000LL;
        f64[i] = sin(i) * 1e3;
    }
    oc_tensor xs[3] = {oh_tensor(ONNXC_DTYPE_INT32, 3, d, i32),
                       oh_tensor(ONNXC_DTYPE_INT64, 3, d, i64),
                       oh_tensor(ONNXC_DTYPE_DOUBLE, 3, d, f64)};
    for (int t = 0; t < 3; t++)
        for (unsigned mask = 0; mask < 8; mask++) {
            check_reducemean_attr(&xs[t], 13, mask, mask % 2 == 1, 1);
            check_reducemean_attr(&xs[t], 13, mask, false, 0);
        }
    /* A scalar: its own mean. */
    float v = 2.5f;
    oc_tensor scalar = oh_tensor(ONNXC_DTYPE_FLOAT, 0, NULL, &v);
    check_reducemean_attr(&scalar, 13, 0, false, 0);
    /* Unsupported types are named. */
    uint8_t u8[30] = {0};
    oc_tensor xu = oh_tensor(ONNXC_DTYPE_UINT8, 3, d, u8);
    const oc_tensor *in[1] = {&xu};
    oh_node h;
    oh_init(&h, "ReduceMean", 13);
    expect_op_error(&h, 1, in, ONNXC_ERR_UNSUPPORTED, "uint8");
}
END_TEST

/* ---- opset 18: the axes input, through whole models ---- */

typedef struct reduce_model_case {
    bool axes_given;       /* the second input present */
    size_t n_axes;         /* its length (0: empty) */
    int64_t axes[4];
    int keepdims, noop;    /* -1: attribute absent */
} reduce_model_case;

/* Builds x -> ReduceMean(x, axes initializer) -> y at opset 18, runs it on x
 * and returns the output in *y (data malloc'd). */
static onnxc_status *run_reduce_model(const reduce_model_case *c, const oc_tensor *x, oc_tensor *y,
                                      bool axes_as_input)
{
    mb_model *mb = mb_new(8, 18);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, x->rank, x->dims);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    int64_t len = (int64_t)c->n_axes;
    if (c->axes_given && axes_as_input)
        mb_input(mb, "axes", ONNXC_DTYPE_INT64, 1, &len);
    else if (c->axes_given)
        mb_init_i64(mb, "axes", 1, &len, c->axes, false);
    mb_node *n = mb_node_add(mb, "ReduceMean", "rm", c->axes_given ? "x,axes" : "x", "y");
    if (c->keepdims >= 0) mb_attr_int(n, "keepdims", c->keepdims);
    if (c->noop >= 0) mb_attr_int(n, "noop_with_empty_axes", c->noop);
    uint8_t *buf;
    size_t size;
    ck_assert(mb_serialize(mb, &buf, &size));
    mb_free(mb);
    onnxc_model *m = NULL;
    onnxc_session *s = NULL;
    onnxc_status *st = onnxc_model_open_buffer(buf, size, NULL, &m);
    free(buf);
    if (!st) st = onnxc_session_create(m, NULL, &s);
    if (!st) st = onnxc_session_bind(s, "x", x->dtype, x->dims, x->rank, x->data, x->nbytes);
    if (!st && c->axes_given && axes_as_input)
        st = onnxc_session_bind(s, "axes", ONNXC_DTYPE_INT64, &len, 1, c->axes,
                                c->n_axes * sizeof *c->axes);
    if (!st) st = onnxc_session_run(s);
    onnxc_tensor_view v;
    if (!st) st = onnxc_session_output(s, 0, &v);
    if (!st) {
        memset(y, 0, sizeof *y);
        y->dtype = v.dtype;
        y->rank = v.rank;
        memcpy(y->dims, v.shape, (size_t)v.rank * sizeof *v.shape);
        y->count = v.count;
        y->nbytes = v.nbytes;
        y->data = checked_malloc(v.nbytes);
        memcpy(y->data, v.data, v.nbytes);
    }
    onnxc_session_free(s);
    onnxc_model_free(m);
    return st;
}

START_TEST(reducemean_axes_input)
{
    static const int64_t d[4] = {3, 4, 5, 2};
    oc_tensor x = float_tensor(4, d, 7, -5, 5);
    static const reduce_model_case cases[] = {
        {true, 1, {1}, -1, -1},      {true, 2, {-1, 0}, 0, -1},  {true, 3, {3, 1, -2}, 1, 0},
        {true, 0, {0}, -1, -1},      {true, 0, {0}, 0, 0},       {false, 0, {0}, 1, -1},
        {false, 0, {0}, 0, 0},       {true, 1, {-4}, 0, 1}, /* axes given: noop irrelevant */
        {true, 0, {0}, 1, 1},        {false, 0, {0}, 0, 1},  /* empty + noop: identity */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const reduce_model_case *c = &cases[i];
        bool reduced[4] = {false, false, false, false};
        for (size_t k = 0; k < c->n_axes; k++)
            reduced[c->axes[k] < 0 ? c->axes[k] + 4 : c->axes[k]] = true;
        bool noop = c->n_axes == 0 && c->noop == 1;
        if (c->n_axes == 0 && !noop)
            for (int k = 0; k < 4; k++) reduced[k] = true;
        oc_tensor y;
        expect_ok(run_reduce_model(c, &x, &y, false));
        int64_t dims[4];
        int rank = noop ? 4 : reduced_shape(&x, reduced, c->keepdims != 0, dims);
        expect_shape(&y, rank, noop ? d : dims);
        char what[64];
        snprintf(what, sizeof what, "ReduceMean-18 case %zu", i);
        if (noop) {
            ck_assert_msg(memcmp(y.data, x.data, x.nbytes) == 0, "%s: not the identity", what);
        } else {
            size_t n;
            double *e = reduce_expected(&x, reduced, &n);
            expect_reduced_values(&y, e, n, what);
            free(e);
        }
        free(y.data);
    }
    /* Axes from a graph input: a session plans with the bound values (and
     * plans again when they change); an empty one is known by its shape alone. */
    oc_tensor y;
    expect_ok(run_reduce_model(&cases[0], &x, &y, true));
    expect_shape(&y, 4, (const int64_t[4]){3, 1, 5, 2});
    free(y.data);
    expect_ok(run_reduce_model(&cases[3], &x, &y, true));
    expect_shape(&y, 4, (const int64_t[4]){1, 1, 1, 1});
    free(y.data);
    /* Repeated or out-of-range axes in the input. */
    reduce_model_case twice = {true, 2, {1, -3}, 1, -1}, outside = {true, 1, {4}, 1, -1};
    expect_error(run_reduce_model(&twice, &x, &y, false), ONNXC_ERR_MODEL, "twice");
    expect_error(run_reduce_model(&outside, &x, &y, false), ONNXC_ERR_MODEL, "out of range");
    free(x.data);
}
END_TEST

START_TEST(reducemean_invalid_models_are_errors)
{
    static const int64_t d[3] = {2, 3, 4}, one[1] = {1};
    oc_tensor x = float_tensor(3, d, 1, -1, 1);
    const oc_tensor *in[1] = {&x};
    oh_node h;
    int64_t axes_twice[2] = {1, -2}, axes_out[1] = {3}, axes_neg_out[1] = {-4};
    oh_init(&h, "ReduceMean", 13);
    oh_attr_ints(&h, "axes", axes_twice, 2);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "twice");
    oh_init(&h, "ReduceMean", 13);
    oh_attr_ints(&h, "axes", axes_out, 1);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "axis 3 is out of range");
    oh_init(&h, "ReduceMean", 11);
    oh_attr_ints(&h, "axes", axes_neg_out, 1);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "axis -4");
    oh_init(&h, "ReduceMean", 13);
    oh_attr_int(&h, "keepdims", 2);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "keepdims");
    oh_init(&h, "ReduceMean", 13);
    oh_attr_int(&h, "noop_with_empty_axes", 1);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "noop_with_empty_axes");
    oh_init(&h, "ReduceMean", 18);
    oh_attr_ints(&h, "axes", axes_out, 1);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "'axes' is not defined");
    oh_init(&h, "ReduceMean", 18);
    oh_attr_int(&h, "noop_with_empty_axes", 2);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "noop_with_empty_axes");

    /* The axes input: from opset 18, int64, 1-D, and (in the harness, as for
     * any graph input) not known at inference. */
    int64_t a1[1] = {1};
    int32_t a32[1] = {1};
    oc_tensor axes = oh_tensor(ONNXC_DTYPE_INT64, 1, one, a1);
    oc_tensor axes32 = oh_tensor(ONNXC_DTYPE_INT32, 1, one, a32);
    oc_tensor axes0 = oh_tensor(ONNXC_DTYPE_INT64, 0, NULL, a1);
    const oc_tensor *with_axes[2] = {&x, &axes}, *with32[2] = {&x, &axes32};
    const oc_tensor *with0[2] = {&x, &axes0};
    oh_init(&h, "ReduceMean", 13);
    expect_op_error(&h, 2, with_axes, ONNXC_ERR_MODEL, "only from opset 18");
    oh_init(&h, "ReduceMean", 18);
    expect_op_error(&h, 2, with32, ONNXC_ERR_MODEL, "int64");
    oh_init(&h, "ReduceMean", 18);
    expect_op_error(&h, 2, with0, ONNXC_ERR_MODEL, "1-D");
    oh_init(&h, "ReduceMean", 18);
    expect_op_error(&h, 2, with_axes, ONNXC_ERR_UNSUPPORTED, "not known before the run");
    free(x.data);
}
END_TEST

/* ======================================================================== */
/* MatMul                                                                   */
/* ======================================================================== */

/* numpy matmul computed here: 1-D operands promoted, batch dims broadcast. */
static double *matmul_expected(const oc_tensor *a, const oc_tensor *b, int out_rank,
                               const int64_t *out_dims)
{
    /* Promote to >= 2-D shapes pa, pb and an output shape po with both matrix dims. */
    int64_t pa[OC_MAX_RANK + 1], pb[OC_MAX_RANK + 1], po[OC_MAX_RANK + 1];
    int ra = a->rank, rb = b->rank;
    if (ra == 1) pa[0] = 1, pa[1] = a->dims[0], ra = 2;
    else memcpy(pa, a->dims, (size_t)ra * sizeof *pa);
    if (rb == 1) pb[0] = b->dims[0], pb[1] = 1, rb = 2;
    else memcpy(pb, b->dims, (size_t)rb * sizeof *pb);
    int batch = (ra > rb ? ra : rb) - 2, ro = batch + 2;
    for (int i = 0; i < batch; i++) {
        int ia = i - (batch - (ra - 2)), ib = i - (batch - (rb - 2));
        int64_t da = ia >= 0 ? pa[ia] : 1, db = ib >= 0 ? pb[ib] : 1;
        po[i] = da == 1 ? db : da;
    }
    po[batch] = pa[ra - 2], po[batch + 1] = pb[rb - 1];
    int64_t k = pa[ra - 1];
    size_t n = count_of(ro, po);
    ck_assert_uint_eq(n, count_of(out_rank, out_dims));
    double *e = checked_malloc(n * sizeof *e);
    int64_t index[OC_MAX_RANK + 1], ia_[OC_MAX_RANK + 1], ib_[OC_MAX_RANK + 1];
    for (size_t o = 0; o < n; o++) {
        unravel(o, ro, po, index);
        for (int i = 0; i < ra - 2; i++) {
            int64_t v = index[i + (batch - (ra - 2))];
            ia_[i] = pa[i] == 1 ? 0 : v;
        }
        for (int i = 0; i < rb - 2; i++) {
            int64_t v = index[i + (batch - (rb - 2))];
            ib_[i] = pb[i] == 1 ? 0 : v;
        }
        double sum = 0;
        for (int64_t p = 0; p < k; p++) {
            ia_[ra - 2] = index[batch], ia_[ra - 1] = p;
            ib_[rb - 2] = p, ib_[rb - 1] = index[batch + 1];
            sum += (double)((float *)a->data)[ravel(ra, pa, ia_)] *
                   ((float *)b->data)[ravel(rb, pb, ib_)];
        }
        e[o] = sum;
    }
    return e;
}

typedef struct matmul_case {
    int ra, rb, ry;
    int64_t a[5], b[5], y[5];
} matmul_case;

START_TEST(matmul_numpy_shapes)
{
    static const matmul_case cases[] = {
        {1, 1, 0, {3}, {3}, {0}},
        {1, 3, 2, {4}, {2, 4, 3}, {2, 3}},
        {3, 1, 2, {2, 3, 4}, {4}, {2, 3}},
        {4, 1, 3, {1, 2, 4, 3}, {3}, {1, 2, 4}},
        {2, 2, 2, {5, 7}, {7, 3}, {5, 3}},
        {4, 3, 4, {2, 1, 3, 4}, {5, 4, 6}, {2, 5, 3, 6}},
        {4, 4, 4, {3, 1, 3, 4}, {1, 2, 4, 2}, {3, 2, 3, 2}},
        {4, 2, 4, {2, 3, 5, 4}, {4, 6}, {2, 3, 5, 6}},
        {2, 4, 4, {4, 6}, {2, 3, 6, 5}, {2, 3, 4, 5}},
        {3, 3, 3, {1, 2, 3}, {3, 3, 2}, {3, 2, 2}},
        {3, 4, 4, {2, 33, 65}, {1, 1, 65, 17}, {1, 2, 33, 17}},
        {2, 2, 2, {3, 0}, {0, 4}, {3, 4}},
        {3, 2, 3, {0, 2, 3}, {3, 4}, {0, 2, 4}},
        {5, 5, 5, {2, 1, 2, 3, 2}, {1, 3, 1, 2, 1}, {2, 3, 2, 3, 1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const matmul_case *c = &cases[i];
        oc_tensor a = float_tensor(c->ra, c->a, (unsigned)i * 2 + 1, -2, 2);
        oc_tensor b = float_tensor(c->rb, c->b, (unsigned)i * 2 + 2, -2, 2);
        oh_node h;
        oh_init(&h, "MatMul", i % 3 == 0 ? 1 : (i % 3 == 1 ? 9 : 13));
        const oc_tensor *in[2] = {&a, &b};
        oc_tensor y[1];
        expect_ok(run_op(&h, 2, in, y));
        expect_shape(&y[0], c->ry, c->y);
        double *e = matmul_expected(&a, &b, c->ry, c->y);
        char what[32];
        snprintf(what, sizeof what, "MatMul case %zu", i);
        expect_near(y[0].data, e, y[0].count, what);
        free(e);
        oh_free_outputs(1, y);
        oh_free(&h);
        free(a.data), free(b.data);
    }
}
END_TEST

START_TEST(matmul_invalid_models_are_errors)
{
    static const int64_t d34[2] = {3, 4}, d56[2] = {5, 6}, d234[3] = {2, 3, 4}, d345[3] = {3, 4, 5};
    oc_tensor a = float_tensor(2, d34, 1, -1, 1), b = float_tensor(2, d56, 2, -1, 1);
    oc_tensor a3 = float_tensor(3, d234, 3, -1, 1), b3 = float_tensor(3, d345, 4, -1, 1);
    oh_node h;
    const oc_tensor *inner[2] = {&a, &b}, *batch[2] = {&a3, &b3};
    oh_init(&h, "MatMul", 13);
    expect_op_error(&h, 2, inner, ONNXC_ERR_MODEL, "inner dimensions");
    oh_init(&h, "MatMul", 13);
    expect_op_error(&h, 2, batch, ONNXC_ERR_MODEL, "batch dimensions");
    float one = 1;
    oc_tensor scalar = oh_tensor(ONNXC_DTYPE_FLOAT, 0, NULL, &one);
    const oc_tensor *with_scalar[2] = {&scalar, &a};
    oh_init(&h, "MatMul", 13);
    expect_op_error(&h, 2, with_scalar, ONNXC_ERR_MODEL, "rank >= 1");
    double dd[12] = {0};
    int32_t ii[12] = {0};
    oc_tensor a64 = oh_tensor(ONNXC_DTYPE_DOUBLE, 2, d34, dd);
    oc_tensor ai = oh_tensor(ONNXC_DTYPE_INT32, 2, d34, ii);
    static const int64_t d43[2] = {4, 3};
    oc_tensor b64 = oh_tensor(ONNXC_DTYPE_DOUBLE, 2, d43, dd);
    oc_tensor bi = oh_tensor(ONNXC_DTYPE_INT32, 2, d43, ii);
    const oc_tensor *doubles[2] = {&a64, &b64}, *ints[2] = {&ai, &bi}, *mixed[2] = {&a, &b64};
    oh_init(&h, "MatMul", 13);
    expect_op_error(&h, 2, doubles, ONNXC_ERR_UNSUPPORTED, "float64");
    oh_init(&h, "MatMul", 13);
    expect_op_error(&h, 2, ints, ONNXC_ERR_UNSUPPORTED, "int32");
    oh_init(&h, "MatMul", 13);
    expect_op_error(&h, 2, mixed, ONNXC_ERR_MODEL, "element type");
    oh_init(&h, "MatMul", 13);
    oh_attr_int(&h, "transA", 1);
    expect_op_error(&h, 2, inner, ONNXC_ERR_MODEL, "transA");
    free(a.data), free(b.data), free(a3.data), free(b3.data);
}
END_TEST

/* ======================================================================== */
/* GlobalMaxPool                                                            */
/* ======================================================================== */

START_TEST(globalmaxpool_any_spatial_rank)
{
    static const int64_t shapes[][6] = {
        {2, 3, 5}, {2, 3, 4, 5}, {1, 2, 3, 4, 5}, {1, 2, 2, 2, 2, 3}, {0, 2, 3}};
    static const int ranks[] = {3, 4, 5, 6, 3};
    for (size_t s = 0; s < sizeof ranks / sizeof *ranks; s++) {
        int rank = ranks[s];
        oc_tensor x = float_tensor(rank, shapes[s], (unsigned)s + 1, -5, 5);
        size_t planes = (size_t)(shapes[s][0] * shapes[s][1]);
        size_t size = x.count / (planes ? planes : 1);
        if (s == 1) ((float *)x.data)[7] = NAN; /* a NaN wins its plane */
        oh_node h;
        oh_init(&h, "GlobalMaxPool", s % 2 ? 1 : 22);
        const oc_tensor *in[1] = {&x};
        oc_tensor y[1];
        expect_ok(run_op(&h, 1, in, y));
        int64_t yd[6] = {shapes[s][0], shapes[s][1], 1, 1, 1, 1};
        expect_shape(&y[0], rank, yd);
        double *e = checked_malloc((planes ? planes : 1) * sizeof *e);
        for (size_t p = 0; p < planes; p++) {
            e[p] = -INFINITY;
            for (size_t i = 0; i < size; i++) {
                double v = ((float *)x.data)[p * size + i];
                if (isnan(v) || v > e[p]) e[p] = v;
                if (isnan(v)) break;
            }
        }
        expect_near(y[0].data, e, planes, "GlobalMaxPool");
        if (s == 1) ck_assert(isnan(((float *)y[0].data)[0]));
        free(e);
        oh_free_outputs(1, y);
        oh_free(&h);
        free(x.data);
    }
}
END_TEST

START_TEST(globalmaxpool_invalid_models_are_errors)
{
    static const int64_t d2[2] = {2, 3}, d0[4] = {1, 2, 0, 3}, d4[4] = {1, 1, 2, 2};
    oc_tensor x2 = float_tensor(2, d2, 1, -1, 1), x0 = oh_tensor(ONNXC_DTYPE_FLOAT, 4, d0, NULL);
    oc_tensor x4 = float_tensor(4, d4, 2, -1, 1);
    double dd[4] = {0};
    oc_tensor x64 = oh_tensor(ONNXC_DTYPE_DOUBLE, 4, d4, dd);
    const oc_tensor *in2[1] = {&x2}, *in0[1] = {&x0}, *in4[1] = {&x4}, *in64[1] = {&x64};
    oh_node h;
    oh_init(&h, "GlobalMaxPool", 22);
    expect_op_error(&h, 1, in2, ONNXC_ERR_MODEL, "rank");
    oh_init(&h, "GlobalMaxPool", 22);
    expect_op_error(&h, 1, in0, ONNXC_ERR_MODEL, "empty");
    oh_init(&h, "GlobalMaxPool", 22);
    expect_op_error(&h, 1, in64, ONNXC_ERR_UNSUPPORTED, "float64");
    static const int64_t k[2] = {2, 2};
    oh_init(&h, "GlobalMaxPool", 22);
    oh_attr_ints(&h, "kernel_shape", k, 2);
    expect_op_error(&h, 1, in4, ONNXC_ERR_MODEL, "kernel_shape");
    free(x2.data), free(x4.data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_nn");
    TCase *kernels = tcase_create("kernels");
    tcase_add_test(kernels, softmax_kernel_matches_reference);
    tcase_add_test(kernels, softmax_kernel_nan_and_infinities);
    tcase_add_test(kernels, batchnorm_kernel_matches_reference);
    tcase_add_test(kernels, batchnorm_stats_kernel);
    tcase_add_test(kernels, lrn_kernel_matches_reference);
    tcase_add_test(kernels, reduce_kernel_matches_reference);
    tcase_add_test(kernels, reduce_kernel_integer_rounding_and_empty);
    TCase *norm = tcase_create("normalization");
    tcase_add_test(norm, batchnorm_every_opset);
    tcase_add_test(norm, batchnorm_per_activation);
    tcase_add_test(norm, batchnorm_training_mode);
    tcase_add_test(norm, batchnorm_invalid_models_are_errors);
    tcase_add_test(norm, lrn_even_and_odd_sizes);
    tcase_add_test(norm, lrn_invalid_models_are_errors);
    TCase *softmax = tcase_create("softmax");
    tcase_add_test(softmax, softmax_every_axis_both_semantics);
    tcase_add_test(softmax, softmax_large_values_are_stable);
    tcase_add_test(softmax, softmax_invalid_models_are_errors);
    TCase *reduce = tcase_create("reduce");
    tcase_add_test(reduce, reducemean_axes_attribute);
    tcase_add_test(reduce, reducemean_element_types);
    tcase_add_test(reduce, reducemean_axes_input);
    tcase_add_test(reduce, reducemean_invalid_models_are_errors);
    TCase *matmul = tcase_create("matmul");
    tcase_add_test(matmul, matmul_numpy_shapes);
    tcase_add_test(matmul, matmul_invalid_models_are_errors);
    TCase *pool = tcase_create("globalmaxpool");
    tcase_add_test(pool, globalmaxpool_any_spatial_rank);
    tcase_add_test(pool, globalmaxpool_invalid_models_are_errors);
    TCase *cases[] = {kernels, norm, softmax, reduce, matmul, pool};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tcase_set_timeout(cases[i], 300);
        suite_add_tcase(s, cases[i]);
    }
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
