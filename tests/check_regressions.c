/* Regressions from review: empty tensors whose other dims are huge, and
 * attributes (group, kernel, pads) that used to drive loops or products
 * past any tensor's size. Each case ran for hours, overflowed a heap buffer
 * or hit signed-overflow undefined behaviour (caught in the sanitizer build,
 * where this file makes UBSan reports fatal) before its fix.
 *
 * The test cases run under a short timeout: a hang is a failure. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_builder.h"
#include "op_harness.h"

/* In the sanitizer build: a UBSan report stops the test (so fails it)
 * instead of scrolling past. Unused otherwise. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

#define T40 ((int64_t)1 << 40)

/* ---- helpers ---- */

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
    ck_assert_msg(t->rank == rank && memcmp(t->dims, dims, (size_t)rank * sizeof *dims) == 0,
                  "shape %s, expected %s", oc_shape_str(t->dims, t->rank, got, sizeof got),
                  oc_shape_str(dims, rank, want, sizeof want));
}

/* A float tensor without data (an empty one, or only its shape matters). */
static oc_tensor shape_only(int rank, const int64_t *dims)
{
    return oh_tensor(ONNXC_DTYPE_FLOAT, rank, dims, NULL);
}

/* Runs h on in[0..n_in) with one output; the output is freed unless kept. */
static onnxc_status *run1(oh_node *h, int n_in, const oc_tensor *const *in, oc_tensor *out)
{
    onnxc_status *st = oh_run(h, n_in, in, 1, out, NULL);
    if (st) oh_free_outputs(1, out);
    return st;
}

/* Runs h expecting success and an output of that shape; frees everything. */
static void expect_run_shape(oh_node *h, int n_in, const oc_tensor *const *in, int rank,
                             const int64_t *dims)
{
    oc_tensor y[1];
    expect_ok(run1(h, n_in, in, y));
    expect_shape(&y[0], rank, dims);
    oh_free_outputs(1, y);
    oh_free(h);
}

/* Prepare and shape inference only, as at load: for outputs too large to
 * allocate. */
static onnxc_status *infer_only(oh_node *h, int n_in, const oc_tensor *const *in, int n_out,
                                oc_tensor *out)
{
    oc_node *n = &h->node;
    n->n_inputs = n_in;
    n->n_outputs = n_out;
    for (int i = 0; i < n_in; i++) h->input_names[i] = "in";
    for (int i = 0; i < n_out; i++) h->output_names[i] = "out";
    memset(out, 0, (size_t)n_out * sizeof *out);
    n->op = oc_op_find(n->domain, n->op_type, n->opset);
    ck_assert_ptr_nonnull(n->op);
    void *params = NULL;
    if (n->op->prepare) OC_TRY(n->op->prepare(n, &h->arena, &params));
    n->params = params;
    oc_tensor *outp[4] = {0};
    for (int i = 0; i < n_out && i < 4; i++) outp[i] = &out[i];
    oc_infer_ctx ic = {n, params, n_in, in, n_out, outp, 0, 1};
    return n->op->infer(&ic);
}

/* Opens a model built by mb (freed here) from memory. */
static onnxc_status *open_model(mb_model *mb)
{
    onnxc_model *m;
    onnxc_status *st = mb_open(mb, NULL, &m);
    onnxc_model_free(m);
    return st;
}

/* ======================================================================== */
/* Conv                                                                     */
/* ======================================================================== */

/* W [0, 2, 2^32, 2^32]: the kernel volume wrapped to 0, the scratch was 0
 * bytes and im2col wrote a whole tile into it (heap-buffer-overflow). */
START_TEST(conv_empty_w_with_huge_kernel_is_an_error)
{
    static const int64_t xd[4] = {1, 2, 1, 1}, wd[4] = {0, 2, (int64_t)1 << 32, (int64_t)1 << 32};
    static const int64_t pads[4] = {((int64_t)1 << 32) + 19, ((int64_t)1 << 32) + 19, 0, 0};
    float xv[2] = {1, 2};
    oc_tensor x = oh_tensor(ONNXC_DTYPE_FLOAT, 4, xd, xv), w = shape_only(4, wd);
    const oc_tensor *in[2] = {&x, &w};
    oh_node h;
    oh_init(&h, "Conv", 13);
    oh_attr_ints(&h, "pads", pads, 4);
    oc_tensor y[1];
    expect_error(run1(&h, 2, in, y), ONNXC_ERR_LIMIT, "kernel taps");
    oh_free(&h);
}
END_TEST

/* The same with constant inputs: the node is folded while loading. */
START_TEST(conv_empty_w_with_huge_kernel_folded_at_load_is_an_error)
{
    static const int64_t xd[4] = {1, 2, 1, 1}, wd[4] = {0, 2, T40, T40};
    static const int64_t pads[4] = {T40, T40, T40, T40};
    static const float xv[2] = {1, 2};
    mb_model *mb = mb_new(8, 13);
    mb_init_f32(mb, "X", 4, xd, xv, false);
    mb_init(mb, "W", ONNXC_DTYPE_FLOAT, 4, wd, NULL, false);
    mb_output(mb, "Y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_attr_ints(mb_node_add(mb, "Conv", "conv", "X,W", "Y"), "pads", pads, 4);
    expect_error(open_model(mb), ONNXC_ERR_LIMIT, "kernel taps");
}
END_TEST

/* 0 input and output channels make any group divide them: group 2^40 ran
 * 2^40 empty work units. */
START_TEST(conv_huge_group_with_no_channels_is_quick)
{
    static const int64_t xd[4] = {1, 0, 1, 1}, wd[4] = {0, 0, 1, 1}, yd[4] = {1, 0, 1, 1};
    oc_tensor x = shape_only(4, xd), w = shape_only(4, wd);
    const oc_tensor *in[2] = {&x, &w};
    oh_node h;
    oh_init(&h, "Conv", 13);
    oh_attr_int(&h, "group", T40);
    expect_run_shape(&h, 2, in, 4, yd);

    /* Folded at load. */
    static const float none[1] = {0};
    mb_model *mb = mb_new(8, 13);
    mb_init_f32(mb, "X", 4, xd, none, false);
    mb_init(mb, "W", ONNXC_DTYPE_FLOAT, 4, wd, NULL, false);
    mb_output(mb, "Y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_attr_int(mb_node_add(mb, "Conv", "conv", "X,W", "Y"), "group", T40);
    expect_ok(open_model(mb));
}
END_TEST

/* W [0, 2, 1, 1] with pads 2^30: an empty Y of 2^62 positions per channel,
 * which im2col walked in 2^45 empty tiles. */
START_TEST(conv_no_output_channels_with_huge_pads_is_quick)
{
    static const int64_t xd[4] = {1, 2, 1, 1}, wd[4] = {0, 2, 1, 1};
    static const int64_t pads[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30};
    static const int64_t yd[4] = {1, 0, ((int64_t)1 << 31) + 1, ((int64_t)1 << 31) + 1};
    float xv[2] = {1, 2};
    oc_tensor x = oh_tensor(ONNXC_DTYPE_FLOAT, 4, xd, xv), w = shape_only(4, wd);
    const oc_tensor *in[2] = {&x, &w};
    oh_node h;
    oh_init(&h, "Conv", 13);
    oh_attr_ints(&h, "pads", pads, 4);
    expect_run_shape(&h, 2, in, 4, yd);
}
END_TEST

/* Batch 0 and pads 2^40 in 3-D: the output plane (2^41)^3 overflowed int64
 * while the scratch size was computed, before Y's size was checked. */
START_TEST(conv_output_plane_overflow_is_an_error)
{
    static const int64_t xd[5] = {0, 2, 1, 1, 1}, wd[5] = {1, 2, 1, 1, 1};
    static const int64_t pads[6] = {T40, T40, T40, T40, T40, T40};
    float wv[2] = {1, 1};
    oc_tensor x = shape_only(5, xd), w = oh_tensor(ONNXC_DTYPE_FLOAT, 5, wd, wv);
    const oc_tensor *in[2] = {&x, &w};
    oh_node h;
    oh_init(&h, "Conv", 13);
    oh_attr_ints(&h, "pads", pads, 6);
    oc_tensor y[1];
    expect_error(run1(&h, 2, in, y), ONNXC_ERR_LIMIT, "more than 2^63");
    oh_free(&h);
}
END_TEST

/* No input channels: Y is the bias, with or without groups, and neither X
 * nor W (both empty, data NULL) is read. */
START_TEST(conv_without_input_channels_is_the_bias)
{
    static const int64_t xd[4] = {2, 0, 5, 5}, bd[1] = {2}, yd[4] = {2, 2, 3, 3};
    static const int64_t wds[][4] = {{2, 0, 3, 3}, {2, 0, 1, 1}};
    static const int64_t k1[2] = {1, 1}, s2[2] = {2, 2}, groups[] = {1, 2};
    float bv[2] = {1.5f, -2.0f};
    for (int c = 0; c < 4; c++) {
        bool pointwise = c % 2 == 1;
        oc_tensor x = shape_only(4, xd), w = shape_only(4, wds[pointwise]);
        oc_tensor b = oh_tensor(ONNXC_DTYPE_FLOAT, 1, bd, bv);
        const oc_tensor *in[3] = {&x, &w, &b};
        oh_node h;
        oh_init(&h, "Conv", 13);
        oh_attr_int(&h, "group", groups[c / 2]);
        if (pointwise) oh_attr_ints(&h, "kernel_shape", k1, 2);
        if (pointwise) oh_attr_ints(&h, "strides", s2, 2); /* 5 -> 3 */
        oc_tensor y[1];
        expect_ok(run1(&h, 3, in, y));
        expect_shape(&y[0], 4, yd);
        const float *yv = y[0].data;
        for (size_t i = 0; i < y[0].count; i++)
            ck_assert_msg(yv[i] == bv[i / 9 % 2], "case %d: element %zu is %g", c, i,
                          (double)yv[i]);
        oh_free_outputs(1, y);
        oh_free(&h);
    }
}
END_TEST

/* ======================================================================== */
/* MaxPool / AveragePool: the padding-only window check                     */
/* ======================================================================== */

/* The first window of one dim covering only padding, by trying windows
 * [0, limit) one by one; -1 when none of those does. */
static int64_t first_padding_window_brute(int64_t in, int64_t kernel, int64_t stride,
                                          int64_t dilation, int64_t pad_begin, int64_t out,
                                          int64_t limit)
{
    for (int64_t o = 0; o < out && o < limit; o++) {
        int64_t start = o * stride - pad_begin;
        int64_t k0 = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
        if (!(k0 < kernel && start + k0 * dilation < in)) return o;
    }
    return -1;
}

/* MaxPool on X [0, 1, in] with those 1-D attributes, infer only: the error's
 * window index or -1, and the output extent in *out. */
static int64_t pool_first_bad(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                              int64_t pad_begin, int64_t pad_end, bool ceil_mode, int64_t *out)
{
    const int64_t xd[3] = {0, 1, in};
    const int64_t k[1] = {kernel}, s[1] = {stride}, d[1] = {dilation}, p[2] = {pad_begin, pad_end};
    oc_tensor x = shape_only(3, xd);
    const oc_tensor *inputs[1] = {&x};
    oh_node h;
    oh_init(&h, "MaxPool", 12);
    oh_attr_ints(&h, "kernel_shape", k, 1);
    oh_attr_ints(&h, "strides", s, 1);
    oh_attr_ints(&h, "dilations", d, 1);
    oh_attr_ints(&h, "pads", p, 2);
    oh_attr_int(&h, "ceil_mode", ceil_mode);
    oc_tensor y[1];
    onnxc_status *st = infer_only(&h, 1, inputs, 1, y);
    oh_free(&h);
    *out = st ? -1 : y[0].dims[2];
    if (!st) return -1;
    int64_t window = -2;
    const char *msg = onnxc_status_message(st);
    const char *at = strstr(msg, "window ");
    ck_assert_msg(at && sscanf(at, "window %" SCNd64, &window) == 1, "unexpected error: %s", msg);
    onnxc_status_free(st);
    return window;
}

/* kernel 2^40 and pads 2^40 - 1: 2^40 windows, each checked in turn at load. */
START_TEST(pool_huge_kernel_and_pads_is_quick)
{
    static const int64_t xd[3] = {0, 1, 1}, k[1] = {T40}, pads[2] = {T40 - 1, T40 - 1};
    static const int64_t yd[3] = {0, 1, T40};
    static const char *const ops[] = {"MaxPool", "AveragePool"};
    for (int i = 0; i < 2; i++) {
        oc_tensor x = shape_only(3, xd);
        const oc_tensor *in[1] = {&x};
        oh_node h;
        oh_init(&h, ops[i], 13);
        oh_attr_ints(&h, "kernel_shape", k, 1);
        oh_attr_ints(&h, "pads", pads, 2);
        expect_run_shape(&h, 1, in, 3, yd);
    }
    /* A non-empty X: the output is 4 TiB, so shape inference only. */
    static const int64_t x1d[3] = {1, 1, 1};
    oc_tensor x = shape_only(3, x1d);
    const oc_tensor *in[1] = {&x};
    oh_node h;
    oh_init(&h, "MaxPool", 13);
    oh_attr_ints(&h, "kernel_shape", k, 1);
    oh_attr_ints(&h, "pads", pads, 2);
    oc_tensor y[1];
    expect_ok(infer_only(&h, 1, in, 1, y));
    static const int64_t y1d[3] = {1, 1, T40};
    expect_shape(&y[0], 3, y1d);
    oh_free(&h);
}
END_TEST

/* The analytic check against window-by-window on every small geometry,
 * dilations above the input (residues repeating with the stride) included. */
START_TEST(pool_padding_windows_match_brute_force)
{
    int checked = 0, bad = 0;
    for (int64_t in = 1; in <= 4; in++)
    for (int64_t kernel = 1; kernel <= 3; kernel++)
    for (int64_t stride = 1; stride <= 7; stride++)
    for (int64_t dilation = 1; dilation <= 9; dilation++)
    for (int64_t pb = 0; pb <= 12; pb++)
    for (int64_t pe = 0; pe <= 3; pe++)
    for (int ceil_mode = 0; ceil_mode <= 1; ceil_mode++) {
        int64_t extent = (kernel - 1) * dilation + 1, padded = in + pb + pe;
        if (padded < extent) continue; /* a different error */
        int64_t out;
        int64_t got = pool_first_bad(in, kernel, stride, dilation, pb, pe, ceil_mode, &out);
        if (got < 0) ck_assert_int_ge(out, 1);
        /* The extent as ONNX defines it (see check_ops_cnn.c). */
        int64_t span = padded - extent;
        int64_t want_out = ceil_mode ? (span + stride - 1) / stride + 1 : span / stride + 1;
        if (ceil_mode && (want_out - 1) * stride >= in + pb) want_out--;
        int64_t want = first_padding_window_brute(in, kernel, stride, dilation, pb, want_out,
                                                  INT64_MAX);
        ck_assert_msg(got == want,
                      "in %" PRId64 " kernel %" PRId64 " stride %" PRId64 " dilation %" PRId64
                      " pads %" PRId64 ",%" PRId64 " ceil %d: window %" PRId64
                      " reported, %" PRId64 " expected",
                      in, kernel, stride, dilation, pb, pe, ceil_mode, got, want);
        checked++;
        bad += want >= 0;
    }
    ck_assert_int_gt(checked, 10000);
    ck_assert_int_gt(bad, 1000);
}
END_TEST

/* Huge dilations, strides and pads (the 128-bit steps of the search): the
 * first bad window, when it is among the first 2^16, is the brute force's. */
START_TEST(pool_padding_windows_with_huge_geometry)
{
    /* Worked by hand: in 5, taps at o - D + 3 and o + 3; window 2 is the first
     * whose second tap is past the input while its first is in the padding. */
    int64_t out;
    ck_assert_int_eq(pool_first_bad(5, 2, 1, (int64_t)1e12, (int64_t)1e12 - 3, (int64_t)1e12,
                                     false, &out), 2);
    ck_assert_int_eq(pool_first_bad(1, 2, 1, T40, T40, 0, false, &out), -1);
    ck_assert_int_eq(out, 1);

    uint64_t s = 0x9E3779B97F4A7C15ull;
    int found = 0;
    for (int i = 0; i < 3000; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        int64_t in = 1 + (int64_t)(s % 7);
        int64_t dilation = in + 1 + (int64_t)((s >> 8) % ((uint64_t)1 << (8 + (s >> 3) % 50)));
        int64_t stride = 1 + (int64_t)((s >> 16) % (i % 3 == 0 ? 5 : (uint64_t)dilation * 3));
        int64_t kernel = 2 + (int64_t)((s >> 24) % 3);
        /* Enough padding for the window, and windows starting in it. */
        int64_t pb = ((kernel - 1) * dilation + 2 - in) / 2 + (int64_t)((s >> 5) % (uint64_t)dilation);
        int64_t pe = pb;
        int64_t got = pool_first_bad(in, kernel, stride, dilation, pb, pe, false, &out);
        int64_t extent = (kernel - 1) * dilation + 1;
        int64_t want_out = (in + pb + pe - extent) / stride + 1;
        int64_t want = first_padding_window_brute(in, kernel, stride, dilation, pb, want_out,
                                                  1 << 16);
        if (want >= 0) {
            found++;
            ck_assert_msg(got == want,
                          "in %" PRId64 " kernel %" PRId64 " stride %" PRId64 " dilation %" PRId64
                          " pads %" PRId64 ": window %" PRId64 " reported, %" PRId64 " expected",
                          in, kernel, stride, dilation, pb, got, want);
        } else {
            ck_assert_msg(got < 0 || got >= (1 << 16) || got >= want_out,
                          "window %" PRId64 " reported; the first 2^16 all cover input", got);
        }
    }
    ck_assert_int_gt(found, 100);
}
END_TEST

/* ======================================================================== */
/* Empty tensors with huge other dims: no product may overflow              */
/* ======================================================================== */

/* Add(A [0, 2^40, 2^40], B [1]): the broadcast strides overflowed. */
START_TEST(add_of_empty_tensor_with_huge_dims)
{
    static const int64_t ad[3] = {0, T40, T40}, bd[1] = {1};
    float bv[1] = {1};
    oc_tensor a = shape_only(3, ad), b = oh_tensor(ONNXC_DTYPE_FLOAT, 1, bd, bv);
    const oc_tensor *in[2] = {&a, &b};
    oh_node h;
    oh_init(&h, "Add", 14);
    expect_run_shape(&h, 2, in, 3, ad);
    oh_init(&h, "Sum", 13);
    const oc_tensor *in3[3] = {&b, &a, &b};
    expect_run_shape(&h, 3, in3, 3, ad);
}
END_TEST

/* Gemm with C [3, 0] bound without data: memcpy from NULL. */
START_TEST(gemm_with_empty_c_without_data)
{
    static const int64_t ad[2] = {3, 2}, bd[2] = {2, 0}, cd[2] = {3, 0};
    float av[6] = {1, 2, 3, 4, 5, 6};
    oc_tensor a = oh_tensor(ONNXC_DTYPE_FLOAT, 2, ad, av), b = shape_only(2, bd);
    oc_tensor c = shape_only(2, cd);
    const oc_tensor *in[3] = {&a, &b, &c};
    oh_node h;
    oh_init(&h, "Gemm", 13);
    expect_run_shape(&h, 3, in, 2, cd);
}
END_TEST

/* The pools' plane and plane-size products on X [0, 3, 2^40, 2^40]. */
START_TEST(pools_of_empty_tensor_with_huge_dims)
{
    static const int64_t xd[4] = {0, 3, T40, T40}, gd[4] = {0, 3, 1, 1}, k[2] = {1, 1};
    oc_tensor x = shape_only(4, xd);
    const oc_tensor *in[1] = {&x};
    oh_node h;
    oh_init(&h, "GlobalAveragePool", 1);
    expect_run_shape(&h, 1, in, 4, gd);
    oh_init(&h, "GlobalMaxPool", 1);
    expect_run_shape(&h, 1, in, 4, gd);
    oh_init(&h, "MaxPool", 12);
    oh_attr_ints(&h, "kernel_shape", k, 2);
    expect_run_shape(&h, 1, in, 4, xd);
    oh_init(&h, "AveragePool", 13);
    oh_attr_ints(&h, "kernel_shape", k, 2);
    expect_run_shape(&h, 1, in, 4, xd);
}
END_TEST

START_TEST(normalizations_of_empty_tensor_with_huge_dims)
{
    static const int64_t xd[4] = {0, 3, T40, T40}, cd[1] = {3};
    float one[3] = {1, 1, 1}, zero[3] = {0, 0, 0};
    oc_tensor x = shape_only(4, xd), scale = oh_tensor(ONNXC_DTYPE_FLOAT, 1, cd, one);
    oc_tensor bias = oh_tensor(ONNXC_DTYPE_FLOAT, 1, cd, zero);
    const oc_tensor *in[5] = {&x, &scale, &bias, &bias, &scale};
    oh_node h;
    oh_init(&h, "BatchNormalization", 15);
    expect_run_shape(&h, 5, in, 4, xd);
    oh_init(&h, "LRN", 13);
    oh_attr_int(&h, "size", 3);
    expect_run_shape(&h, 1, in, 4, xd);
    oh_init(&h, "Softmax", 11); /* coerced to 2-D: [0, 2^80] */
    expect_run_shape(&h, 1, in, 4, xd);
    oh_init(&h, "Softmax", 13);
    oh_attr_int(&h, "axis", 1);
    expect_run_shape(&h, 1, in, 4, xd);
}
END_TEST

/* A mean over an empty axis is NaN; an empty output computes nothing (the
 * divisor, the product of the reduced dims, overflowed). */
START_TEST(reduce_mean_of_empty_tensor_with_huge_dims)
{
    static const int64_t xd[4] = {1, T40, 0, T40}, axes[2] = {1, 3}, yd[4] = {1, 1, 0, 1};
    oc_tensor x = shape_only(4, xd);
    const oc_tensor *in[1] = {&x};
    oh_node h;
    oh_init(&h, "ReduceMean", 13);
    oh_attr_ints(&h, "axes", axes, 2);
    expect_run_shape(&h, 1, in, 4, yd);

    static const int64_t x2d[4] = {3, 0, T40, T40}, axes2[3] = {1, 2, 3}, y2d[4] = {3, 1, 1, 1};
    oc_tensor x2 = shape_only(4, x2d);
    const oc_tensor *in2[1] = {&x2};
    oh_init(&h, "ReduceMean", 13);
    oh_attr_ints(&h, "axes", axes2, 3);
    oc_tensor y[1];
    expect_ok(run1(&h, 1, in2, y));
    expect_shape(&y[0], 4, y2d);
    for (int i = 0; i < 3; i++) ck_assert(isnan(((float *)y[0].data)[i]));
    oh_free_outputs(1, y);
    oh_free(&h);
}
END_TEST

/* The batch dims' products overflowed before the 0 among them. */
START_TEST(matmul_of_empty_tensors_with_huge_dims)
{
    static const int64_t ad[5] = {0, T40, T40, 1, 2}, bd[2] = {2, 3}, yd[5] = {0, T40, T40, 1, 3};
    float bv[6] = {0};
    oc_tensor a = shape_only(5, ad), b = oh_tensor(ONNXC_DTYPE_FLOAT, 2, bd, bv);
    const oc_tensor *in[2] = {&a, &b};
    oh_node h;
    oh_init(&h, "MatMul", 13);
    expect_run_shape(&h, 2, in, 5, yd);
    static const int64_t a2d[3] = {0, T40, T40}, b2d[2] = {T40, 0}, y2d[3] = {0, T40, 0};
    oc_tensor a2 = shape_only(3, a2d), b2 = shape_only(2, b2d);
    const oc_tensor *in2[2] = {&a2, &b2};
    oh_init(&h, "MatMul", 13);
    expect_run_shape(&h, 2, in2, 3, y2d);
}
END_TEST

START_TEST(shape_ops_of_empty_tensor_with_huge_dims)
{
    static const int64_t xd[3] = {0, T40, T40};
    oc_tensor x = shape_only(3, xd);
    /* Split: the input's strides. */
    static const int64_t half[3] = {0, T40 / 2, T40};
    oh_node h;
    oh_init(&h, "Split", 13);
    oh_attr_int(&h, "axis", 1);
    const oc_tensor *in[1] = {&x};
    oc_tensor y[2];
    expect_ok(oh_run(&h, 1, in, 2, y, NULL));
    expect_shape(&y[0], 3, half);
    expect_shape(&y[1], 3, half);
    oh_free_outputs(2, y);
    oh_free(&h);
    /* Expand: the source strides. */
    static const int64_t sd[1] = {1};
    int64_t shape_v[1] = {1};
    oc_tensor shape = oh_tensor(ONNXC_DTYPE_INT64, 1, sd, shape_v);
    const oc_tensor *ein[2] = {&x, &shape};
    oh_init(&h, "Expand", 13);
    oc_tensor e[1];
    expect_ok(oh_run_known(&h, 2, ein, 2u, 1, e, NULL));
    expect_shape(&e[0], 3, xd);
    oh_free_outputs(1, e);
    oh_free(&h);
}
END_TEST

/* Padding an empty input (constant mode) fills the output without reading it. */
START_TEST(pad_of_empty_tensor_with_huge_dims)
{
    static const int64_t xd[3] = {0, T40, T40}, pd[1] = {6}, yd[3] = {2, 1, 1};
    int64_t pads[6] = {2, -(T40 - 1), -(T40 - 1), 0, 0, 0};
    float value = 7.0f;
    static const int64_t vd[1] = {1};
    oc_tensor x = shape_only(3, xd), p = oh_tensor(ONNXC_DTYPE_INT64, 1, pd, pads);
    oc_tensor v = oh_tensor(ONNXC_DTYPE_FLOAT, 1, vd, &value);
    const oc_tensor *in[3] = {&x, &p, &v};
    oh_node h;
    oh_init(&h, "Pad", 13);
    oc_tensor y[1];
    expect_ok(oh_run_known(&h, 3, in, 2u, 1, y, NULL));
    expect_shape(&y[0], 3, yd);
    ck_assert(((float *)y[0].data)[0] == 7.0f && ((float *)y[0].data)[1] == 7.0f);
    oh_free_outputs(1, y);
    oh_free(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("regressions");
    TCase *conv = tcase_create("conv");
    tcase_add_test(conv, conv_empty_w_with_huge_kernel_is_an_error);
    tcase_add_test(conv, conv_empty_w_with_huge_kernel_folded_at_load_is_an_error);
    tcase_add_test(conv, conv_huge_group_with_no_channels_is_quick);
    tcase_add_test(conv, conv_no_output_channels_with_huge_pads_is_quick);
    tcase_add_test(conv, conv_output_plane_overflow_is_an_error);
    tcase_add_test(conv, conv_without_input_channels_is_the_bias);
    TCase *pool = tcase_create("pool");
    tcase_add_test(pool, pool_huge_kernel_and_pads_is_quick);
    tcase_add_test(pool, pool_padding_windows_match_brute_force);
    tcase_add_test(pool, pool_padding_windows_with_huge_geometry);
    TCase *empty = tcase_create("empty");
    tcase_add_test(empty, add_of_empty_tensor_with_huge_dims);
    tcase_add_test(empty, gemm_with_empty_c_without_data);
    tcase_add_test(empty, pools_of_empty_tensor_with_huge_dims);
    tcase_add_test(empty, normalizations_of_empty_tensor_with_huge_dims);
    tcase_add_test(empty, reduce_mean_of_empty_tensor_with_huge_dims);
    tcase_add_test(empty, matmul_of_empty_tensors_with_huge_dims);
    tcase_add_test(empty, shape_ops_of_empty_tensor_with_huge_dims);
    tcase_add_test(empty, pad_of_empty_tensor_with_huge_dims);
    TCase *cases[] = {conv, pool, empty};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tcase_set_timeout(cases[i], 20); /* each test: a hang is a failure */
        suite_add_tcase(s, cases[i]);
    }
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
