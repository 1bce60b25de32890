/* Conv, MaxPool, AveragePool, GlobalAveragePool and Gemm through the op
 * harness (prepare, infer, run as a session calls them): values against the
 * reference kernels or a computation written out here, output shapes
 * against the ONNX formulas computed here, and every kind of invalid model
 * turned into an error rather than a crash. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/conv.h"
#include "kernels/pool.h"
#include "core/threadpool.h"
#include "op_harness.h"

/* ---- helpers ---- */

/* n values in {-1, -7/8, ..., 7/8}: sums of products are exact in float. */
static float *dyadic(size_t n, unsigned seed)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    oh_fill(p, n, seed, -1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) p[i] = floorf(p[i] * 8.0f) / 8.0f;
    return p;
}

static size_t count_of(int rank, const int64_t *dims)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    return n;
}

/* A float tensor of the given shape with dyadic data (free .data). */
static oc_tensor random_tensor(int rank, const int64_t *dims, unsigned seed)
{
    return oh_tensor(ONNXC_DTYPE_FLOAT, rank, dims, dyadic(count_of(rank, dims), seed));
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
    ck_assert_msg(t->rank == rank && memcmp(t->dims, dims, (size_t)rank * sizeof *dims) == 0,
                  "shape %s, expected %s", oc_shape_str(t->dims, t->rank, got, sizeof got),
                  oc_shape_str(dims, rank, want, sizeof want));
}

static void expect_values(const float *actual, const float *expected, size_t n, const char *what)
{
    long bad = oh_compare(actual, expected, n);
    ck_assert_msg(bad < 0, "%s: element %ld is %.9g, expected %.9g", what, bad,
                  bad < 0 ? 0.0 : actual[bad], bad < 0 ? 0.0 : expected[bad]);
}

/* oh_run with the outputs zeroed first: it leaves them untouched when
 * prepare fails, and they must be safe to free either way. */
static onnxc_status *run_outputs(oh_node *h, int n_in, const oc_tensor *const *in, int n_out,
                                 oc_tensor *out, const bool *want)
{
    memset(out, 0, (size_t)n_out * sizeof *out);
    return oh_run(h, n_in, in, n_out, out, want);
}

/* Runs a one-output op; returns its status (the output is freed on error). */
static onnxc_status *run_op(oh_node *h, int n_in, const oc_tensor *const *in, oc_tensor *out)
{
    onnxc_status *st = run_outputs(h, n_in, in, 1, out, NULL);
    if (st) oh_free_outputs(1, out);
    return st;
}

/* Runs a one-output op expected to fail. */
static void expect_op_error(oh_node *h, int n_in, const oc_tensor *const *in, onnxc_code code,
                            const char *needle)
{
    oc_tensor out[1];
    expect_error(run_op(h, n_in, in, out), code, needle);
}

/* The ONNX output extent of one spatial dim with explicit pads. */
static int64_t onnx_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe,
                        bool ceil_mode)
{
    int64_t span = in + pb + pe - ((k - 1) * d + 1);
    int64_t out = ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
    if (ceil_mode && (out - 1) * s >= in + pb) out--; /* last window would start in the end pad */
    return out;
}

/* SAME_UPPER / SAME_LOWER pads of one spatial dim, per the ONNX spec. */
static void same_pads(int64_t in, int64_t k, int64_t s, int64_t d, bool upper, int64_t *pb,
                      int64_t *pe)
{
    int64_t out = (in + s - 1) / s;
    int64_t total = (out - 1) * s + (k - 1) * d + 1 - in;
    if (total < 0) total = 0;
    *pb = upper ? total / 2 : total - total / 2;
    *pe = total - *pb;
}

/* The spatial description of a window op, as the test sees it. */
typedef struct window_spec {
    int rank;
    int64_t kernel[3], stride[3], dilation[3], pad_b[3], pad_e[3];
    bool ceil_mode;
} window_spec;

static window_spec spec_defaults(int rank)
{
    window_spec w;
    memset(&w, 0, sizeof w);
    w.rank = rank;
    for (int i = 0; i < 3; i++) w.stride[i] = w.dilation[i] = 1;
    return w;
}

/* The kernels' geometry for input spatial extents in[], built here. */
static void spec_to_dims(const window_spec *w, const int64_t *in, oc_window_dim dims[3])
{
    for (int i = 0; i < 3; i++) dims[i] = oc_window_unit();
    for (int i = 0; i < w->rank; i++) {
        oc_window_dim *d = &dims[3 - w->rank + i];
        *d = (oc_window_dim){in[i],          0,           w->kernel[i], w->stride[i],
                             w->dilation[i], w->pad_b[i], w->pad_e[i]};
        d->out = onnx_out(in[i], w->kernel[i], w->stride[i], w->dilation[i], w->pad_b[i],
                          w->pad_e[i], w->ceil_mode);
    }
}

/* Sets the attributes of a window spec (kernel_shape only when asked). */
static void set_window_attrs(oh_node *h, const window_spec *w, int64_t *pads_storage,
                             bool with_kernel_shape)
{
    if (with_kernel_shape) oh_attr_ints(h, "kernel_shape", w->kernel, (size_t)w->rank);
    oh_attr_ints(h, "strides", w->stride, (size_t)w->rank);
    oh_attr_ints(h, "dilations", w->dilation, (size_t)w->rank);
    for (int i = 0; i < w->rank; i++) {
        pads_storage[i] = w->pad_b[i];
        pads_storage[w->rank + i] = w->pad_e[i];
    }
    oh_attr_ints(h, "pads", pads_storage, 2 * (size_t)w->rank);
}

/* ======================================================================== */
/* Conv                                                                     */
/* ======================================================================== */

typedef struct conv_setup {
    int64_t batch, cin, cout, group;
    int64_t in[3];
    window_spec w;
    bool bias;
} conv_setup;

/* Runs Conv at opset on the setup's explicit pads and compares with the
 * reference kernel on geometry computed here. */
static void check_conv(const conv_setup *cs, int64_t opset, unsigned seed)
{
    int rank = cs->w.rank;
    int64_t xd[5] = {cs->batch, cs->cin}, wd[5] = {cs->cout, cs->cin / cs->group},
            bd[1] = {cs->cout};
    for (int i = 0; i < rank; i++) xd[2 + i] = cs->in[i], wd[2 + i] = cs->w.kernel[i];
    oc_tensor x = random_tensor(rank + 2, xd, seed), w = random_tensor(rank + 2, wd, seed + 1);
    oc_tensor b = random_tensor(1, bd, seed + 2);

    oh_node h;
    int64_t pads[6];
    oh_init(&h, "Conv", opset);
    set_window_attrs(&h, &cs->w, pads, seed % 2 == 0);
    if (cs->group != 1 || seed % 3 == 0) oh_attr_int(&h, "group", cs->group);
    const oc_tensor *in[3] = {&x, &w, &b};
    oc_tensor y[1];
    expect_ok(run_op(&h, cs->bias ? 3 : 2, in, y));

    oc_conv_geom g = {cs->batch, cs->cin, cs->cout, cs->group, {{0}}};
    spec_to_dims(&cs->w, cs->in, g.dim);
    int64_t yd[5] = {cs->batch, cs->cout};
    for (int i = 0; i < rank; i++) yd[2 + i] = g.dim[3 - rank + i].out;
    expect_shape(&y[0], rank + 2, yd);
    float *expected = malloc(y[0].nbytes);
    oc_conv_f32_ref(&g, x.data, w.data, cs->bias ? b.data : NULL, expected);
    expect_values(y[0].data, expected, y[0].count, "Conv");

    free(expected);
    oh_free_outputs(1, y);
    oh_free(&h);
    free(x.data), free(w.data), free(b.data);
}

START_TEST(conv_matches_reference)
{
    conv_setup cases[] = {
        {1, 3, 4, 1, {9, 8}, {2, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false}, true},
        {2, 4, 6, 2, {11, 7}, {2, {3, 2}, {2, 1}, {1, 2}, {0, 1}, {2, 0}, false}, true},
        {1, 6, 6, 6, {10, 10}, {2, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, false}, false},
        {1, 8, 4, 1, {5, 6}, {2, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, false}, true},
        {2, 3, 5, 1, {20}, {1, {4}, {3}, {2}, {2}, {1}, false}, true},
        {1,
         2,
         4,
         2,
         {5, 6, 4},
         {3, {3, 2, 3}, {1, 2, 1}, {1, 1, 2}, {1, 0, 2}, {1, 1, 0}, false},
         false},
        {1, 3, 2, 1, {23, 23}, {2, {11, 11}, {4, 4}, {1, 1}, {2, 2}, {2, 2}, false}, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        check_conv(&cases[i], 22, 10 + 5 * (unsigned)i);
        check_conv(&cases[i], 1, 11 + 5 * (unsigned)i);
    }
}
END_TEST

/* ---- Conv as a session runs it: weights packed at load, threads, fused
 * activation ---- */

typedef struct pack_allocs {
    void *p[16];
    int n;
} pack_allocs;

static void *pack_alloc(void *owner, size_t bytes)
{
    pack_allocs *a = owner;
    ck_assert_int_lt(a->n, 16);
    void *p = oc_aligned_alloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(p);
    return a->p[a->n++] = p;
}

/* Prepares h's Conv, runs its pack hook with W (and B) constant and X's
 * shape known or not (x_known), infers for threads threads and runs on a
 * pool of them with activation act and the inputs run_in (whose W may
 * differ from the packed one). y gets the output (free with
 * oh_free_outputs); *allocs the packed buffers. */
static onnxc_status *run_conv_session(oh_node *h, int n_in, const oc_tensor *const *pack_in,
                                      const oc_tensor *const *run_in, bool x_known, int threads,
                                      oc_activation act, oc_tensor *y, pack_allocs *allocs)
{
    oc_node *n = &h->node;
    n->n_inputs = n_in;
    n->n_outputs = 1;
    for (int i = 0; i < n_in; i++) h->input_names[i] = "in";
    h->output_names[0] = "out";
    memset(y, 0, sizeof *y);
    n->op = oc_op_find("", "Conv", n->opset);
    ck_assert_ptr_nonnull(n->op);
    ck_assert(n->op->pack != NULL);
    void *params = NULL;
    OC_TRY(n->op->prepare(n, &h->arena, &params));
    n->params = params;
    n->fused = act;

    oc_tensor shapes[3];
    const oc_tensor *in[3] = {NULL, NULL, NULL};
    for (int i = 0; i < n_in; i++) {
        shapes[i] = *pack_in[i];
        if (i == 0) shapes[i].data = NULL; /* X is not constant */
        in[i] = &shapes[i];
    }
    if (!x_known) in[0] = NULL;
    oc_pack_ctx pc = {n, n_in, in, pack_alloc, NULL, allocs};
    OC_TRY(n->op->pack(&pc));

    in[0] = &shapes[0];
    oc_tensor *outp[1] = {y};
    oc_infer_ctx ic = {n, params, n_in, in, 1, outp, 0, threads};
    OC_TRY(n->op->infer(&ic));
    OC_TRY(oc_tensor_set_sizes(y));
    y->data = oc_aligned_alloc(y->nbytes);
    memset(y->data, 0xA5, y->nbytes);
    void *ws = ic.workspace ? oc_aligned_alloc(ic.workspace) : NULL;
    oc_pool *pool = NULL;
    OC_TRY(oc_pool_create(threads, &pool));
    oc_run_ctx rc = {n, params, n_in, run_in, 1, outp, ws, ic.workspace, pool};
    onnxc_status *st = n->op->run(&rc);
    oc_pool_free(pool);
    oc_aligned_free(ws);
    return st;
}

static void act_ref(float *y, size_t n, oc_activation act)
{
    for (size_t i = 0; i < n; i++) {
        if (act.kind == OC_ACT_RELU) {
            if (y[i] < 0) y[i] = 0;
        } else if (act.kind == OC_ACT_CLIP) {
            float v = y[i] < act.min ? act.min : y[i];
            y[i] = v > act.max ? act.max : v;
        }
    }
}

typedef struct session_case {
    conv_setup cs;
    bool winograd; /* the setup is one Winograd computes (3x3, stride 1, one group) */
} session_case;

/* Each element within the rounding scale of Winograd: 1e-5 of |x| (*) |w| + |b|. */
static void expect_close_to_bound(const float *y, const float *e, const float *bound, size_t n,
                                  const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(y[i] - e[i]) <= 1e-5f * bound[i] + 1e-7f,
                      "%s: element %zu is %.9g, expected %.9g", what, i, y[i], e[i]);
}

START_TEST(conv_packed_threads_and_fused_activation)
{
    static const session_case cases[] = {
        /* Winograd: enough tiles and channels */
        {{1, 16, 24, 1, {21, 19}, {2, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false}, true}, true},
        {{2, 12, 9, 1, {8, 13}, {2, {3, 3}, {1, 1}, {1, 1}, {0, 2}, {1, 0}, false}, false}, true},
        /* packed for the GEMM: 1x1, strided 3x3, 5x5, grouped */
        {{1, 32, 40, 1, {9, 11}, {2, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, false}, true}, false},
        {{2, 8, 16, 1, {15, 14}, {2, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, false}, true}, false},
        {{1, 6, 10, 1, {12, 12}, {2, {5, 5}, {1, 1}, {1, 1}, {2, 2}, {2, 2}, false}, true}, false},
        {{1, 8, 12, 4, {10, 9}, {2, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false}, true}, false},
        /* depthwise and few channels: not packed, still threaded */
        {{1, 8, 8, 8, {11, 10}, {2, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, false}, true}, false},
    };
    static const oc_activation acts[] = {
        {OC_ACT_NONE, 0, 0}, {OC_ACT_RELU, 0, 0}, {OC_ACT_CLIP, -0.5f, 0.25f}};
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
        const conv_setup *cs = &cases[ci].cs;
        unsigned seed = 40 + 7 * (unsigned)ci;
        int rank = cs->w.rank;
        int64_t xd[5] = {cs->batch, cs->cin}, wd[5] = {cs->cout, cs->cin / cs->group},
                bd[1] = {cs->cout};
        for (int i = 0; i < rank; i++) xd[2 + i] = cs->in[i], wd[2 + i] = cs->w.kernel[i];
        oc_tensor x = random_tensor(rank + 2, xd, seed), w = random_tensor(rank + 2, wd, seed + 1);
        oc_tensor w2 = random_tensor(rank + 2, wd, seed + 3); /* a session's override */
        oc_tensor b = random_tensor(1, bd, seed + 2);
        oc_conv_geom g = {cs->batch, cs->cin, cs->cout, cs->group, {{0}}};
        spec_to_dims(&cs->w, cs->in, g.dim);
        size_t y_n = count_of(rank + 2, xd) / (size_t)cs->cin * (size_t)cs->cout;
        for (int i = 0; i < rank; i++)
            y_n = y_n / (size_t)cs->in[i] * (size_t)g.dim[3 - rank + i].out;
        float *ref = malloc(y_n * sizeof *ref), *ref2 = malloc(y_n * sizeof *ref2);
        float *bound = malloc(y_n * sizeof *bound), *expected = malloc(y_n * sizeof *expected);
        float *ax = malloc(x.nbytes), *aw = malloc(w.nbytes), *ab = malloc(b.nbytes);
        for (size_t i = 0; i < x.count; i++) ax[i] = fabsf(((float *)x.data)[i]);
        for (size_t i = 0; i < w.count; i++) aw[i] = fabsf(((float *)w.data)[i]);
        for (size_t i = 0; i < b.count; i++) ab[i] = fabsf(((float *)b.data)[i]);
        oc_conv_f32_ref(&g, x.data, w.data, cs->bias ? b.data : NULL, ref);
        oc_conv_f32_ref(&g, x.data, w2.data, cs->bias ? b.data : NULL, ref2);
        oc_conv_f32_ref(&g, ax, aw, cs->bias ? ab : NULL, bound);

        int n_in = cs->bias ? 3 : 2;
        const oc_tensor *in[3] = {&x, &w, &b}, *in2[3] = {&x, &w2, &b};
        for (size_t a = 0; a < sizeof acts / sizeof *acts; a++)
            for (int threads = 1; threads <= 3; threads++)
                for (int known = 0; known < 2; known++) {
                    for (int override = 0; override < 2; override++) {
                        if (override && (a != 1 || threads != 2)) continue;
                        oh_node h;
                        int64_t pads[6];
                        oh_init(&h, "Conv", 13);
                        set_window_attrs(&h, &cs->w, pads, true);
                        if (cs->group != 1) oh_attr_int(&h, "group", cs->group);
                        pack_allocs allocs = {{0}, 0};
                        oc_tensor y;
                        expect_ok(run_conv_session(&h, n_in, in, override ? in2 : in, known,
                                                   threads, acts[a], &y, &allocs));
                        ck_assert_uint_eq(y.count, y_n);
                        /* Packed at load: everything but the depthwise case. */
                        ck_assert_int_eq(allocs.n > 0, cs->group == 1 || cs->cin != cs->group);
                        memcpy(expected, override ? ref2 : ref, y_n * sizeof *ref);
                        act_ref(expected, y_n, acts[a]);
                        char what[160];
                        snprintf(what, sizeof what,
                                 "Conv case %zu act %zu threads %d x known %d override %d", ci, a,
                                 threads, known, override);
                        if (cases[ci].winograd && !override)
                            expect_close_to_bound(y.data, expected, bound, y_n, what);
                        else
                            expect_values(y.data, expected, y_n, what);
                        oh_free_outputs(1, &y);
                        for (int i = 0; i < allocs.n; i++) oc_aligned_free(allocs.p[i]);
                        oh_free(&h);
                    }
                }
        free(ref), free(ref2), free(bound), free(expected), free(ax), free(aw), free(ab);
        free(x.data), free(w.data), free(w2.data), free(b.data);
    }
}
END_TEST

/* auto_pad: SAME_* outputs ceil(in / stride) with the pads computed here
 * (the odd one at the end for UPPER, at the start for LOWER), VALID none. */
START_TEST(conv_auto_pad)
{
    static const char *const modes[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    int64_t xd[4] = {1, 2, 7, 10}, wd[4] = {3, 2, 4, 3};
    oc_tensor x = random_tensor(4, xd, 1), w = random_tensor(4, wd, 2);
    int64_t strides[2] = {2, 3}, dilations[2] = {1, 2};
    for (int m = 0; m < 3; m++) {
        oh_node h;
        oh_init(&h, "Conv", 11);
        oh_attr_string(&h, "auto_pad", modes[m]);
        oh_attr_ints(&h, "strides", strides, 2);
        oh_attr_ints(&h, "dilations", dilations, 2);
        const oc_tensor *in[2] = {&x, &w};
        oc_tensor y[1];
        expect_ok(run_op(&h, 2, in, y));

        window_spec ws = spec_defaults(2);
        for (int i = 0; i < 2; i++) {
            ws.kernel[i] = wd[2 + i];
            ws.stride[i] = strides[i];
            ws.dilation[i] = dilations[i];
            if (m < 2)
                same_pads(xd[2 + i], ws.kernel[i], strides[i], dilations[i], m == 0, &ws.pad_b[i],
                          &ws.pad_e[i]);
        }
        oc_conv_geom g = {1, 2, 3, 1, {{0}}};
        spec_to_dims(&ws, xd + 2, g.dim);
        if (m < 2) {
            /* SAME: ceil(in / stride); here the height pad is odd, so UPPER and LOWER differ. */
            ck_assert_int_eq(g.dim[1].out, (7 + 1) / 2);
            ck_assert_int_eq(g.dim[2].out, (10 + 2) / 3);
            ck_assert_int_eq(g.dim[1].pad_begin + g.dim[1].pad_end, 3);
        }
        int64_t yd[4] = {1, 3, g.dim[1].out, g.dim[2].out};
        expect_shape(&y[0], 4, yd);
        float *expected = malloc(y[0].nbytes);
        oc_conv_f32_ref(&g, x.data, w.data, NULL, expected);
        expect_values(y[0].data, expected, y[0].count, modes[m]);
        free(expected);
        oh_free_outputs(1, y);
        oh_free(&h);
    }
    free(x.data), free(w.data);
}
END_TEST

/* Each invalid Conv: a fresh node with the attribute(s) set by a callback. */
typedef void (*node_setup)(oh_node *h);

static void expect_conv_error(node_setup setup, const int64_t *xd, int xr, const int64_t *wd,
                              int wr, const int64_t *bd, int br, onnxc_code code,
                              const char *needle)
{
    oc_tensor x = random_tensor(xr, xd, 1), w = random_tensor(wr, wd, 2);
    oc_tensor b = bd ? random_tensor(br, bd, 3) : x;
    oh_node h;
    oh_init(&h, "Conv", 13);
    if (setup) setup(&h);
    const oc_tensor *in[3] = {&x, &w, &b};
    expect_op_error(&h, bd ? 3 : 2, in, code, needle);
    oh_free(&h);
    free(x.data), free(w.data);
    if (bd) free(b.data);
}

static const int64_t k33[] = {3, 3}, k32[] = {3, 2}, k333[] = {3, 3, 3}, s0[] = {1, 0};
static const int64_t neg_pads[] = {0, -1, 0, 0}, odd_pads[] = {1, 1, 1}, pads4[] = {1, 1, 1, 1};
static const int64_t pads2[] = {1, 1}, huge_pads[] = {INT64_MAX, 0, 0, 0};
static const int64_t big_stride[] = {INT64_MAX, INT64_MAX};

static void set_kernel_33(oh_node *h) { oh_attr_ints(h, "kernel_shape", k33, 2); }
static void set_kernel_32(oh_node *h) { oh_attr_ints(h, "kernel_shape", k32, 2); }
static void set_kernel_333(oh_node *h) { oh_attr_ints(h, "kernel_shape", k333, 3); }
static void set_stride_0(oh_node *h) { oh_attr_ints(h, "strides", s0, 2); }
static void set_dilation_0(oh_node *h) { oh_attr_ints(h, "dilations", s0, 2); }
static void set_neg_pads(oh_node *h) { oh_attr_ints(h, "pads", neg_pads, 4); }
static void set_odd_pads(oh_node *h) { oh_attr_ints(h, "pads", odd_pads, 3); }
static void set_short_pads(oh_node *h) { oh_attr_ints(h, "pads", pads2, 2); }
static void set_huge_pads(oh_node *h) { oh_attr_ints(h, "pads", huge_pads, 4); }
static void set_big_stride(oh_node *h) { oh_attr_ints(h, "strides", big_stride, 2); }
static void set_bad_auto_pad(oh_node *h) { oh_attr_string(h, "auto_pad", "SAME"); }
static void set_pads_and_auto_pad(oh_node *h)
{
    oh_attr_string(h, "auto_pad", "SAME_UPPER");
    oh_attr_ints(h, "pads", pads4, 4);
}
static void set_group_0(oh_node *h) { oh_attr_int(h, "group", 0); }
static void set_group_3(oh_node *h) { oh_attr_int(h, "group", 3); }
static void set_group_2(oh_node *h) { oh_attr_int(h, "group", 2); }
static void set_ceil_mode(oh_node *h) { oh_attr_int(h, "ceil_mode", 1); }
static void set_strides_as_int(oh_node *h) { oh_attr_int(h, "strides", 2); }
static void set_group_as_float(oh_node *h) { oh_attr_float(h, "group", 1.0f); }

START_TEST(conv_invalid_models_are_errors)
{
    static const int64_t x4[] = {1, 4, 8, 8}, w4[] = {6, 4, 3, 3}, b5[] = {5};
    static const int64_t w_wrong_c[] = {6, 3, 3, 3}, w3[] = {6, 4, 3}, x2[] = {4, 8};
    static const int64_t x6[] = {1, 1, 2, 2, 2, 2}, w6[] = {1, 1, 1, 1, 1, 1};
    static const int64_t w_big[] = {6, 4, 9, 3}, w_zero_k[] = {6, 4, 0, 3}, b2d[] = {1, 6};
    static const int64_t x5_w_odd[] = {5, 4, 3, 3};
    const onnxc_code M = ONNXC_ERR_MODEL;

    expect_conv_error(set_kernel_32, x4, 4, w4, 4, NULL, 0, M, "kernel_shape");
    expect_conv_error(set_kernel_333, x4, 4, w4, 4, NULL, 0, M, "kernel_shape");
    expect_conv_error(set_stride_0, x4, 4, w4, 4, NULL, 0, M, "strides");
    expect_conv_error(set_dilation_0, x4, 4, w4, 4, NULL, 0, M, "dilations");
    expect_conv_error(set_neg_pads, x4, 4, w4, 4, NULL, 0, M, "pads");
    expect_conv_error(set_odd_pads, x4, 4, w4, 4, NULL, 0, M, "pads");
    expect_conv_error(set_short_pads, x4, 4, w4, 4, NULL, 0, M, "pads");
    expect_conv_error(set_bad_auto_pad, x4, 4, w4, 4, NULL, 0, M, "auto_pad");
    expect_conv_error(set_pads_and_auto_pad, x4, 4, w4, 4, NULL, 0, M, "auto_pad");
    expect_conv_error(set_group_0, x4, 4, w4, 4, NULL, 0, M, "group");
    expect_conv_error(set_group_3, x4, 4, w4, 4, NULL, 0, M,
                      "group 3 does not divide the 4 channels");
    expect_conv_error(set_group_2, x4, 4, x5_w_odd, 4, NULL, 0, M, "output channels");
    expect_conv_error(set_group_2, x4, 4, w4, 4, NULL, 0, M, "input channels per group");
    expect_conv_error(set_ceil_mode, x4, 4, w4, 4, NULL, 0, M, "ceil_mode");
    expect_conv_error(set_strides_as_int, x4, 4, w4, 4, NULL, 0, M, "strides");
    expect_conv_error(set_group_as_float, x4, 4, w4, 4, NULL, 0, M, "group");
    expect_conv_error(NULL, x4, 4, w_wrong_c, 4, NULL, 0, M, "input channels per group");
    expect_conv_error(NULL, x4, 4, w3, 3, NULL, 0, M, "rank");
    expect_conv_error(NULL, x2, 2, w4, 4, NULL, 0, M, "rank");
    expect_conv_error(NULL, x6, 6, w6, 6, NULL, 0, ONNXC_ERR_UNSUPPORTED, "spatial");
    expect_conv_error(NULL, x4, 4, w4, 4, b5, 1, M, "B");
    expect_conv_error(NULL, x4, 4, w4, 4, b2d, 2, M, "B");
    expect_conv_error(NULL, x4, 4, w_big, 4, NULL, 0, M, "padded input");
    expect_conv_error(NULL, x4, 4, w_zero_k, 4, NULL, 0, M, "kernel extent");
    expect_conv_error(set_huge_pads, x4, 4, w4, 4, NULL, 0, ONNXC_ERR_LIMIT, "overflow");
    expect_conv_error(set_kernel_33, x4, 4, w_big, 4, NULL, 0, M, "kernel_shape");

    /* A stride too large for anything but one output is fine. */
    oc_tensor x = random_tensor(4, x4, 1), w = random_tensor(4, w4, 2);
    oh_node h;
    oh_init(&h, "Conv", 13);
    set_big_stride(&h);
    const oc_tensor *in[2] = {&x, &w};
    oc_tensor y[1];
    expect_ok(run_op(&h, 2, in, y));
    static const int64_t one_out[] = {1, 6, 1, 1};
    expect_shape(&y[0], 4, one_out);
    oh_free_outputs(1, y);
    oh_free(&h);

    /* Element types other than float32 are reported as unsupported. */
    oc_tensor xd = oh_tensor(ONNXC_DTYPE_DOUBLE, 4, x4, calloc(count_of(4, x4), sizeof(double)));
    oh_init(&h, "Conv", 13);
    const oc_tensor *in_d[2] = {&xd, &w};
    expect_op_error(&h, 2, in_d, ONNXC_ERR_UNSUPPORTED, "float64");
    oh_free(&h);
    free(xd.data), free(x.data), free(w.data);
}
END_TEST

/* ======================================================================== */
/* Gemm                                                                     */
/* ======================================================================== */

/* Y = alpha * op(A) * op(B) + beta * broadcast(C), written out plainly. */
static void gemm_by_hand(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                         const float *a, const float *b, float beta, const oc_tensor *c, float *y)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double sum = 0;
            for (int64_t p = 0; p < k; p++)
                sum +=
                    (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
            double cv = 0;
            if (c) {
                const float *cd = c->data;
                int64_t rows = c->rank == 2 ? c->dims[0] : 1,
                        cols = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
                cv = cd[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
            }
            y[i * n + j] = (float)(alpha * sum + beta * cv);
        }
}

static void check_gemm(int64_t opset, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                       float alpha, float beta, const oc_tensor *c, unsigned seed)
{
    int64_t ad[2] = {ta ? k : m, ta ? m : k}, bd[2] = {tb ? n : k, tb ? k : n};
    oc_tensor a = random_tensor(2, ad, seed), b = random_tensor(2, bd, seed + 1);
    oh_node h;
    oh_init(&h, "Gemm", opset);
    if (alpha != 1.0f || seed % 2) oh_attr_float(&h, "alpha", alpha);
    if (beta != 1.0f || seed % 2) oh_attr_float(&h, "beta", beta);
    if (ta || seed % 2) oh_attr_int(&h, "transA", ta);
    if (tb || seed % 2) oh_attr_int(&h, "transB", tb);
    if (opset < 7) oh_attr_int(&h, "broadcast", 1);
    const oc_tensor *in[3] = {&a, &b, c};
    oc_tensor y[1];
    expect_ok(run_op(&h, c ? 3 : 2, in, y));
    int64_t yd[2] = {m, n};
    expect_shape(&y[0], 2, yd);
    float *expected = malloc(y[0].nbytes ? y[0].nbytes : 1);
    gemm_by_hand(ta, tb, m, n, k, alpha, a.data, b.data, beta, c, expected);
    char what[96];
    snprintf(what, sizeof what, "Gemm ta=%d tb=%d %lldx%lldx%lld C rank %d", ta, tb, (long long)m,
             (long long)n, (long long)k, c ? c->rank : -1);
    expect_values(y[0].data, expected, y[0].count, what);
    free(expected);
    oh_free_outputs(1, y);
    oh_free(&h);
    free(a.data), free(b.data);
}

START_TEST(gemm_every_c_shape)
{
    const int64_t m = 3, n = 5, k = 4;
    const int64_t shapes[][2] = {{n, 0}, {1, n}, {m, 1}, {m, n}, {1, 1}, {1, 0}, {0, 0}};
    const int ranks[] = {1, 2, 2, 2, 2, 1, 0};
    unsigned seed = 1;
    for (size_t s = 0; s < sizeof ranks / sizeof *ranks; s++) {
        oc_tensor c = random_tensor(ranks[s], shapes[s], 50 + (unsigned)s);
        for (int t = 0; t < 4; t++, seed += 2) {
            check_gemm(13, t & 1, t >> 1, m, n, k, 0.5f, 2.0f, &c, seed);
            check_gemm(7, t & 1, t >> 1, m, n, k, -1.0f, 0.25f, &c, seed + 1);
            check_gemm(6, t & 1, t >> 1, m, n, k, 1.0f, 1.0f, &c, seed); /* broadcast = 1 */
        }
        free(c.data);
    }
    /* No C at all (opset 11 and later). */
    for (int t = 0; t < 4; t++)
        check_gemm(11, t & 1, t >> 1, m, n, k, 1.5f, 3.0f, NULL, 90 + (unsigned)t);
}
END_TEST

START_TEST(gemm_larger_and_vector_shapes)
{
    static const int64_t sizes[][3] = {
        {1, 100, 300}, {1, 1, 9}, {40, 1, 33}, {70, 130, 260}, {2, 9, 1}};
    unsigned seed = 200;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (int t = 0; t < 4; t++, seed += 2) {
            int64_t cd[1] = {sizes[i][1]};
            oc_tensor c = random_tensor(1, cd, seed);
            check_gemm(13, t & 1, t >> 1, sizes[i][0], sizes[i][1], sizes[i][2], 0.5f, -1.0f, &c,
                       seed);
            check_gemm(13, t & 1, t >> 1, sizes[i][0], sizes[i][1], sizes[i][2], 2.0f, 0.0f, NULL,
                       seed + 1);
            free(c.data);
        }
}
END_TEST

/* A Gemm node on A [3,4], B [4,5] and C of the given shape (NULL = absent). */
static onnxc_status *run_gemm(int64_t opset, const int64_t *c_dims, int c_rank, node_setup setup)
{
    static const int64_t ad[2] = {3, 4}, bd[2] = {4, 5};
    oc_tensor a = random_tensor(2, ad, 1), b = random_tensor(2, bd, 2);
    oc_tensor c = c_dims ? random_tensor(c_rank, c_dims, 3) : a;
    oh_node h;
    oh_init(&h, "Gemm", opset);
    if (setup) setup(&h);
    const oc_tensor *in[3] = {&a, &b, &c};
    oc_tensor y[1];
    onnxc_status *st = run_op(&h, c_dims ? 3 : 2, in, y);
    if (!st) oh_free_outputs(1, y);
    oh_free(&h);
    free(a.data), free(b.data);
    if (c_dims) free(c.data);
    return st;
}

static void set_no_broadcast(oh_node *h) { oh_attr_int(h, "broadcast", 0); }
static void set_broadcast(oh_node *h) { oh_attr_int(h, "broadcast", 1); }
static void set_trans_a_2(oh_node *h) { oh_attr_int(h, "transA", 2); }
static void set_alpha_int(oh_node *h) { oh_attr_int(h, "alpha", 2); }
static void set_unknown(oh_node *h) { oh_attr_int(h, "axis", 1); }

START_TEST(gemm_versions)
{
    static const int64_t c_n[1] = {5}, c_mn[2] = {3, 5};
    /* C is optional only from opset 11. */
    expect_error(run_gemm(9, NULL, 0, NULL), ONNXC_ERR_MODEL, "C is required");
    expect_ok(run_gemm(11, NULL, 0, NULL));
    /* Before opset 7, C broadcasts only with broadcast = 1. */
    expect_error(run_gemm(6, c_n, 1, set_no_broadcast), ONNXC_ERR_MODEL, "broadcast is 0");
    expect_error(run_gemm(1, c_n, 1, NULL), ONNXC_ERR_MODEL, "broadcast is 0");
    expect_ok(run_gemm(6, c_mn, 2, set_no_broadcast));
    expect_ok(run_gemm(6, c_n, 1, set_broadcast));
    expect_ok(run_gemm(7, c_n, 1, NULL));
    /* ... and from 7 the attribute is gone. */
    expect_error(run_gemm(7, c_n, 1, set_broadcast), ONNXC_ERR_MODEL, "broadcast");
}
END_TEST

START_TEST(gemm_invalid_models_are_errors)
{
    static const int64_t c_bad[1] = {6}, c_rank3[3] = {1, 3, 5}, c_rows[2] = {2, 5},
                         c_cols[2] = {3, 4};
    expect_error(run_gemm(13, c_bad, 1, NULL), ONNXC_ERR_MODEL, "does not broadcast");
    expect_error(run_gemm(13, c_rank3, 3, NULL), ONNXC_ERR_MODEL, "does not broadcast");
    expect_error(run_gemm(13, c_rows, 2, NULL), ONNXC_ERR_MODEL, "does not broadcast");
    expect_error(run_gemm(13, c_cols, 2, NULL), ONNXC_ERR_MODEL, "does not broadcast");
    expect_error(run_gemm(13, NULL, 0, set_trans_a_2), ONNXC_ERR_MODEL, "transA");
    expect_error(run_gemm(13, NULL, 0, set_alpha_int), ONNXC_ERR_MODEL, "alpha");
    expect_error(run_gemm(13, NULL, 0, set_unknown), ONNXC_ERR_MODEL, "axis");

    /* Shapes of A and B. */
    static const int64_t a3[3] = {1, 3, 4}, b2[2] = {4, 5}, b_wrong[2] = {3, 5}, a1[1] = {4};
    oc_tensor a = random_tensor(3, a3, 1), b = random_tensor(2, b2, 2),
              bw = random_tensor(2, b_wrong, 3);
    oc_tensor av = random_tensor(1, a1, 4);
    oc_tensor a2 = oh_tensor(ONNXC_DTYPE_FLOAT, 2, a3 + 1, a.data);
    oh_node h;
    oh_init(&h, "Gemm", 13);
    const oc_tensor *rank3[2] = {&a, &b}, *rank1[2] = {&av, &b}, *mismatch[2] = {&a2, &bw};
    expect_op_error(&h, 2, rank3, ONNXC_ERR_MODEL, "2-D");
    expect_op_error(&h, 2, rank1, ONNXC_ERR_MODEL, "2-D");
    expect_op_error(&h, 2, mismatch, ONNXC_ERR_MODEL, "inner dimensions");
    oc_tensor ai = oh_tensor(ONNXC_DTYPE_INT32, 2, a3 + 1, a.data);
    const oc_tensor *ints[2] = {&ai, &b};
    expect_op_error(&h, 2, ints, ONNXC_ERR_UNSUPPORTED, "int32");
    oh_free(&h);
    free(a.data), free(b.data), free(bw.data), free(av.data);
}
END_TEST

/* beta == 0 means C is ignored, so NaN in C must not reach Y. */
START_TEST(gemm_beta_zero_ignores_c)
{
    static const int64_t ad[2] = {2, 3}, bd[2] = {3, 4}, cd[2] = {2, 4};
    oc_tensor a = random_tensor(2, ad, 1), b = random_tensor(2, bd, 2), c = random_tensor(2, cd, 3);
    for (size_t i = 0; i < c.count; i++) ((float *)c.data)[i] = NAN;
    oh_node h;
    oh_init(&h, "Gemm", 13);
    oh_attr_float(&h, "beta", 0.0f);
    const oc_tensor *in[3] = {&a, &b, &c};
    oc_tensor y[1];
    expect_ok(run_op(&h, 3, in, y));
    float expected[8];
    gemm_by_hand(false, false, 2, 4, 3, 1.0f, a.data, b.data, 0.0f, NULL, expected);
    expect_values(y[0].data, expected, 8, "Gemm beta 0");
    for (size_t i = 0; i < 8; i++) ck_assert(!isnan(((float *)y[0].data)[i]));
    oh_free_outputs(1, y);
    oh_free(&h);
    free(a.data), free(b.data), free(c.data);
}
END_TEST

/* ======================================================================== */
/* MaxPool                                                                  */
/* ======================================================================== */

/* The flat input offset an ONNX Indices value designates, decoding the
 * column-major variant (spatial dims reversed) by hand. */
static int64_t row_major_offset(int64_t index, bool col_major, int rank, const int64_t *xdims)
{
    if (!col_major) return index;
    int64_t spatial_size = 1;
    for (int i = 2; i < rank; i++) spatial_size *= xdims[i];
    int64_t plane = index / spatial_size, rest = index % spatial_size, coord[3] = {0};
    for (int i = 2; i < rank; i++) { /* the first spatial dim varies fastest */
        coord[i - 2] = rest % xdims[i];
        rest /= xdims[i];
    }
    int64_t offset = 0;
    for (int i = 2; i < rank; i++) offset = offset * xdims[i] + coord[i - 2];
    return plane * spatial_size + offset;
}

typedef struct pool_setup {
    int64_t batch, channels;
    int64_t in[3];
    window_spec w;
} pool_setup;

/* MaxPool with Indices in the given storage order against the reference,
 * and every index checked to point at its output's value. */
static void check_maxpool(const pool_setup *ps, int64_t opset, bool col_major, unsigned seed)
{
    int rank = ps->w.rank;
    int64_t xd[5] = {ps->batch, ps->channels};
    for (int i = 0; i < rank; i++) xd[2 + i] = ps->in[i];
    oc_tensor x = random_tensor(rank + 2, xd, seed);
    oh_node h;
    int64_t pads[6];
    oh_init(&h, "MaxPool", opset);
    set_window_attrs(&h, &ps->w, pads, true);
    if (ps->w.ceil_mode || seed % 2) oh_attr_int(&h, "ceil_mode", ps->w.ceil_mode);
    if (col_major || seed % 3 == 0) oh_attr_int(&h, "storage_order", col_major);
    const oc_tensor *in[1] = {&x};
    oc_tensor out[2];
    expect_ok(run_outputs(&h, 1, in, 2, out, NULL));

    oc_pool_geom g = {ps->batch * ps->channels, {{0}}};
    spec_to_dims(&ps->w, ps->in, g.dim);
    int64_t yd[5] = {ps->batch, ps->channels};
    for (int i = 0; i < rank; i++) yd[2 + i] = g.dim[3 - rank + i].out;
    expect_shape(&out[0], rank + 2, yd);
    expect_shape(&out[1], rank + 2, yd);
    ck_assert_int_eq(out[1].dtype, ONNXC_DTYPE_INT64);

    float *expected = malloc(out[0].nbytes);
    int64_t *expected_idx = malloc(out[1].nbytes);
    oc_maxpool_f32_ref(&g, x.data, expected, expected_idx, col_major, 0, g.planes);
    expect_values(out[0].data, expected, out[0].count, "MaxPool");
    const float *xv = x.data, *yv = out[0].data;
    const int64_t *idx = out[1].data;
    for (size_t i = 0; i < out[0].count; i++) {
        ck_assert_int_eq(idx[i], expected_idx[i]);
        int64_t at = row_major_offset(idx[i], col_major, rank + 2, xd);
        ck_assert_msg(at >= 0 && (size_t)at < x.count && xv[at] == yv[i],
                      "Indices[%zu] = %lld does not hold the maximum", i, (long long)idx[i]);
    }
    free(expected), free(expected_idx);
    oh_free_outputs(2, out);
    oh_free(&h);
    free(x.data);
}

START_TEST(maxpool_indices_both_storage_orders)
{
    pool_setup cases[] = {
        {2, 3, {9, 7}, {2, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 0}, false}},
        {1, 2, {8, 11}, {2, {2, 3}, {2, 1}, {2, 2}, {0, 2}, {1, 1}, true}},
        {1, 2, {5, 6, 7}, {3, {2, 3, 2}, {2, 1, 2}, {1, 1, 2}, {1, 1, 0}, {0, 1, 1}, true}},
        {3, 1, {20}, {1, {4}, {3}, {2}, {2}, {1}, true}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int col_major = 0; col_major < 2; col_major++)
            check_maxpool(&cases[i], col_major ? 10 : 22, col_major, 7 + 3 * (unsigned)i);
}
END_TEST

/* Indices alone (Y omitted) are the same as with Y, for float and uint8. */
START_TEST(maxpool_indices_without_values)
{
    static const int64_t xd[4] = {2, 3, 7, 6}, ks[2] = {3, 2}, ss[2] = {2, 2}, pads[4] = {1, 0, 1, 1};
    oc_tensor xf = random_tensor(4, xd, 8);
    uint8_t *bytes = malloc(xf.count);
    for (size_t i = 0; i < xf.count; i++) bytes[i] = (uint8_t)(((float *)xf.data)[i] * 8 + 8);
    oc_tensor xb = oh_tensor(ONNXC_DTYPE_UINT8, 4, xd, bytes);
    const oc_tensor *inputs[2] = {&xf, &xb};
    for (int t = 0; t < 2; t++) {
        oh_node h;
        oh_init(&h, "MaxPool", 22);
        oh_attr_ints(&h, "kernel_shape", ks, 2);
        oh_attr_ints(&h, "strides", ss, 2);
        oh_attr_ints(&h, "pads", pads, 4);
        oh_attr_int(&h, "storage_order", t);
        const oc_tensor *in[1] = {inputs[t]};
        oc_tensor both[2], alone[2];
        bool only_indices[2] = {false, true};
        expect_ok(run_outputs(&h, 1, in, 2, both, NULL));
        expect_ok(run_outputs(&h, 1, in, 2, alone, only_indices));
        ck_assert_ptr_null(alone[0].data);
        ck_assert_int_eq(alone[1].count, both[1].count);
        ck_assert(memcmp(alone[1].data, both[1].data, both[1].nbytes) == 0);
        oh_free_outputs(2, both), oh_free_outputs(2, alone);
        oh_free(&h);
    }
    free(xf.data), free(bytes);
}
END_TEST

/* A one-output pool (MaxPool or AveragePool) on x; returns the status. */
static onnxc_status *run_pool(const char *op, int64_t opset, const oc_tensor *x, node_setup setup,
                              oc_tensor *y)
{
    oh_node h;
    oh_init(&h, op, opset);
    setup(&h);
    const oc_tensor *in[1] = {x};
    onnxc_status *st = run_op(&h, 1, in, y);
    oh_free(&h);
    return st;
}

static const int64_t k1[2] = {1, 1}, k3[2] = {3, 3}, s2[2] = {2, 2}, s3[2] = {3, 3};
static const int64_t p1[4] = {1, 1, 1, 1};

static void set_reduce_by_one(oh_node *h)
{
    oh_attr_ints(h, "kernel_shape", k1, 2);
    oh_attr_ints(h, "strides", s2, 2);
    oh_attr_int(h, "ceil_mode", 1);
}
static void set_starts_on_pad(oh_node *h)
{
    oh_attr_ints(h, "kernel_shape", k3, 2);
    oh_attr_ints(h, "strides", s3, 2);
    oh_attr_ints(h, "pads", p1, 4);
    oh_attr_int(h, "ceil_mode", 1);
}
static void set_ceil_clipped(oh_node *h)
{
    oh_attr_ints(h, "kernel_shape", k3, 2);
    oh_attr_ints(h, "strides", s2, 2);
    oh_attr_int(h, "ceil_mode", 1);
}
static void set_starts_on_pad_include(oh_node *h)
{
    set_starts_on_pad(h);
    oh_attr_int(h, "count_include_pad", 1);
}

/* ceil_mode edge cases, values computed here from the windows. */
START_TEST(pool_ceil_mode_edges)
{
    /* 2x2 input, 1x1 kernel, stride 2: ceil would give 2 outputs per dim, but
     * the second window starts past the input and is dropped. */
    static const int64_t x22[4] = {1, 1, 2, 2}, one[4] = {1, 1, 1, 1};
    oc_tensor x = random_tensor(4, x22, 5);
    const float *xv = x.data;
    oc_tensor y[1];
    expect_ok(run_pool("MaxPool", 12, &x, set_reduce_by_one, y));
    expect_shape(&y[0], 4, one);
    ck_assert(((float *)y[0].data)[0] == xv[0]);
    oh_free_outputs(1, y);

    /* 2x2 input, pads 1, kernel 3, stride 3: the window at 2 would start on
     * the end pad, so one output whose window is all four values. */
    expect_ok(run_pool("MaxPool", 12, &x, set_starts_on_pad, y));
    expect_shape(&y[0], 4, one);
    ck_assert(((float *)y[0].data)[0] == fmaxf(fmaxf(xv[0], xv[1]), fmaxf(xv[2], xv[3])));
    oh_free_outputs(1, y);
    expect_ok(run_pool("AveragePool", 12, &x, set_starts_on_pad, y));
    float mean = (xv[0] + xv[1] + xv[2] + xv[3]) / 4;
    expect_values(y[0].data, &mean, 1, "average of the real elements");
    oh_free_outputs(1, y);
    expect_ok(run_pool("AveragePool", 12, &x, set_starts_on_pad_include, y));
    float mean9 = (xv[0] + xv[1] + xv[2] + xv[3]) / 9; /* 3x3 window, all within the pads */
    expect_values(y[0].data, &mean9, 1, "average including the pads");
    oh_free_outputs(1, y);
    free(x.data);

    /* 4x4 input, kernel 3, stride 2: ceil adds a window clipped at the end. */
    static const int64_t x44[4] = {1, 1, 4, 4}, two[4] = {1, 1, 2, 2};
    x = random_tensor(4, x44, 6);
    xv = x.data;
    expect_ok(run_pool("AveragePool", 12, &x, set_ceil_clipped, y));
    expect_shape(&y[0], 4, two);
    float corner = (xv[10] + xv[11] + xv[14] + xv[15]) / 4; /* rows 2-3, cols 2-3 */
    expect_values((float *)y[0].data + 3, &corner, 1, "clipped last window");
    oh_free_outputs(1, y);
    free(x.data);
}
END_TEST

static const int64_t k2[2] = {2, 2}, k23[2] = {2, 3}, k4d[4] = {2, 2, 2, 2}, d2[2] = {2, 2};
static const int64_t pads_huge[4] = {2, 2, 2, 2};
static void set_k2_only(oh_node *h) { oh_attr_ints(h, "kernel_shape", k2, 2); }
static void set_storage_order(oh_node *h) { set_k2_only(h), oh_attr_int(h, "storage_order", 1); }
static void set_storage_order_2(oh_node *h) { set_k2_only(h), oh_attr_int(h, "storage_order", 2); }
static void set_ceil(oh_node *h) { set_k2_only(h), oh_attr_int(h, "ceil_mode", 1); }
static void set_ceil_2(oh_node *h) { set_k2_only(h), oh_attr_int(h, "ceil_mode", 2); }
static void set_dilations(oh_node *h) { set_k2_only(h), oh_attr_ints(h, "dilations", d2, 2); }
static void set_include_pad(oh_node *h) { set_k2_only(h), oh_attr_int(h, "count_include_pad", 1); }
static void set_no_kernel(oh_node *h) { oh_attr_ints(h, "strides", s2, 2); }
static void set_kernel_4d(oh_node *h) { oh_attr_ints(h, "kernel_shape", k4d, 4); }
static void set_kernel_23_rank_mismatch(oh_node *h) { oh_attr_ints(h, "kernel_shape", k23, 1); }
static void set_padding_only_window(oh_node *h)
{
    oh_attr_ints(h, "kernel_shape", k2, 2);
    oh_attr_ints(h, "dilations", s3, 2);
    oh_attr_ints(h, "pads", pads_huge, 4);
}

START_TEST(pool_attributes_by_opset)
{
    static const int64_t xd[4] = {1, 2, 5, 5};
    oc_tensor x = random_tensor(4, xd, 1), y[1];
    const onnxc_code M = ONNXC_ERR_MODEL;
    /* MaxPool: storage_order from 8, ceil_mode and dilations from 10. */
    expect_error(run_pool("MaxPool", 7, &x, set_storage_order, y), M, "storage_order");
    expect_ok(run_pool("MaxPool", 8, &x, set_storage_order, y));
    oh_free_outputs(1, y);
    expect_error(run_pool("MaxPool", 9, &x, set_ceil, y), M, "ceil_mode");
    expect_error(run_pool("MaxPool", 9, &x, set_dilations, y), M, "dilations");
    expect_ok(run_pool("MaxPool", 10, &x, set_ceil, y));
    oh_free_outputs(1, y);
    expect_ok(run_pool("MaxPool", 10, &x, set_dilations, y));
    oh_free_outputs(1, y);
    /* AveragePool: count_include_pad from 7, ceil_mode from 10, dilations from 19. */
    expect_error(run_pool("AveragePool", 6, &x, set_include_pad, y), M, "count_include_pad");
    expect_ok(run_pool("AveragePool", 7, &x, set_include_pad, y));
    oh_free_outputs(1, y);
    expect_error(run_pool("AveragePool", 9, &x, set_ceil, y), M, "ceil_mode");
    expect_error(run_pool("AveragePool", 18, &x, set_dilations, y), M, "dilations");
    expect_ok(run_pool("AveragePool", 19, &x, set_dilations, y));
    oh_free_outputs(1, y);

    /* Invalid values and shapes. */
    static const int64_t x11d[4] = {1, 1, 1, 1};
    oc_tensor x11 = random_tensor(4, x11d, 3);
    const char *ops[2] = {"MaxPool", "AveragePool"};
    for (int o = 0; o < 2; o++) {
        expect_error(run_pool(ops[o], 22, &x, set_no_kernel, y), M, "kernel_shape");
        expect_error(run_pool(ops[o], 22, &x, set_kernel_4d, y), ONNXC_ERR_UNSUPPORTED, "spatial");
        expect_error(run_pool(ops[o], 22, &x, set_kernel_23_rank_mismatch, y), M, "rank");
        expect_error(run_pool(ops[o], 22, &x, set_ceil_2, y), M, "ceil_mode");
        /* A 1-element input, taps 3 apart, pads 2: the windows at -2 and -1 miss it. */
        expect_error(run_pool(ops[o], 22, &x11, set_padding_only_window, y), M, "only padding");
        expect_error(run_pool(ops[o], 22, &x, set_bad_auto_pad, y), M, "auto_pad");
        expect_error(run_pool(ops[o], 22, &x, set_neg_pads, y), M, "pads");
    }
    expect_error(run_pool("MaxPool", 22, &x, set_storage_order_2, y), M, "storage_order");
    free(x.data), free(x11.data);

    /* Indices only from opset 8. */
    oh_node h;
    oh_init(&h, "MaxPool", 7);
    set_k2_only(&h);
    const oc_tensor *in[1] = {&x};
    x = random_tensor(4, xd, 2);
    oc_tensor out[2];
    expect_error(run_outputs(&h, 1, in, 2, out, NULL), M, "Indices");
    oh_free_outputs(2, out);
    /* ... but an omitted second output is fine. */
    bool want[2] = {true, false};
    expect_ok(run_outputs(&h, 1, in, 2, out, want));
    oh_free_outputs(2, out);
    oh_free(&h);
    free(x.data);
}
END_TEST

/* int8/uint8 MaxPool (opset 12+) equals the float computation; other types
 * are unsupported. */
START_TEST(maxpool_byte_types)
{
    static const int64_t xd[4] = {1, 2, 6, 7};
    size_t n = count_of(4, xd);
    uint8_t *u = malloc(n);
    int8_t *s = malloc(n);
    float *f_u = malloc(n * sizeof *f_u), *f_s = malloc(n * sizeof *f_s);
    for (size_t i = 0; i < n; i++) {
        u[i] = (uint8_t)(i * 37 % 256);
        s[i] = (int8_t)((int)(i * 53 % 256) - 128);
        f_u[i] = u[i];
        f_s[i] = s[i];
    }
    oc_tensor xu = oh_tensor(ONNXC_DTYPE_UINT8, 4, xd, u),
              xs = oh_tensor(ONNXC_DTYPE_INT8, 4, xd, s);
    oc_tensor xfu = oh_tensor(ONNXC_DTYPE_FLOAT, 4, xd, f_u),
              xfs = oh_tensor(ONNXC_DTYPE_FLOAT, 4, xd, f_s);
    oc_tensor yb[1], yf[1];
    expect_ok(run_pool("MaxPool", 12, &xu, set_starts_on_pad, yb));
    expect_ok(run_pool("MaxPool", 12, &xfu, set_starts_on_pad, yf));
    ck_assert_int_eq(yb[0].dtype, ONNXC_DTYPE_UINT8);
    for (size_t i = 0; i < yb[0].count; i++)
        ck_assert_int_eq(((uint8_t *)yb[0].data)[i], (int)((float *)yf[0].data)[i]);
    oh_free_outputs(1, yb), oh_free_outputs(1, yf);
    expect_ok(run_pool("MaxPool", 22, &xs, set_ceil_clipped, yb));
    expect_ok(run_pool("MaxPool", 22, &xfs, set_ceil_clipped, yf));
    ck_assert_int_eq(yb[0].dtype, ONNXC_DTYPE_INT8);
    for (size_t i = 0; i < yb[0].count; i++)
        ck_assert_int_eq(((int8_t *)yb[0].data)[i], (int)((float *)yf[0].data)[i]);
    oh_free_outputs(1, yb), oh_free_outputs(1, yf);

    expect_error(run_pool("MaxPool", 11, &xu, set_k2_only, yb), ONNXC_ERR_UNSUPPORTED, "uint8");
    expect_error(run_pool("AveragePool", 22, &xu, set_k2_only, yb), ONNXC_ERR_UNSUPPORTED, "uint8");
    oc_tensor xd64 = oh_tensor(ONNXC_DTYPE_DOUBLE, 4, xd, calloc(n, sizeof(double)));
    expect_error(run_pool("MaxPool", 22, &xd64, set_k2_only, yb), ONNXC_ERR_UNSUPPORTED, "float64");
    free(u), free(s), free(f_u), free(f_s), free(xd64.data);
}
END_TEST

/* ======================================================================== */
/* AveragePool                                                              */
/* ======================================================================== */

/* 1-D average pooling written out: the window's real elements summed; the
 * divisor counts them, or with count_include_pad also the taps on the
 * padding, but never taps past the end padding. */
static void avgpool_1d_by_hand(const float *x, int64_t in, const window_spec *w, bool include_pad,
                               float *y, int64_t out)
{
    for (int64_t o = 0; o < out; o++) {
        double sum = 0;
        int64_t count = 0;
        for (int64_t t = 0; t < w->kernel[0]; t++) {
            int64_t pos = o * w->stride[0] - w->pad_b[0] + t * w->dilation[0];
            if (pos >= 0 && pos < in) sum += x[pos];
            if (include_pad ? pos < in + w->pad_e[0] : pos >= 0 && pos < in) count++;
        }
        y[o] = (float)(sum / (double)count);
    }
}

START_TEST(avgpool_1d_by_hand_and_reference)
{
    window_spec specs[] = {
        {1, {3}, {1}, {1}, {1}, {1}, false},
        {1, {4}, {3}, {1}, {2}, {3}, true},
        {1, {3}, {2}, {2}, {2}, {0}, true},
        {1, {5}, {3}, {2}, {0}, {0}, true},
        {1, {2}, {1}, {3}, {1}, {1}, false},
    };
    const int64_t in = 13;
    int64_t xd[3] = {2, 3, in};
    oc_tensor x = random_tensor(3, xd, 9);
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++)
        for (int include_pad = 0; include_pad < 2; include_pad++) {
            oh_node h;
            int64_t pads[2];
            oh_init(&h, "AveragePool", 19);
            set_window_attrs(&h, &specs[s], pads, true);
            oh_attr_int(&h, "ceil_mode", specs[s].ceil_mode);
            oh_attr_int(&h, "count_include_pad", include_pad);
            const oc_tensor *inputs[1] = {&x};
            oc_tensor y[1];
            expect_ok(run_op(&h, 1, inputs, y));
            int64_t out = onnx_out(in, specs[s].kernel[0], specs[s].stride[0], specs[s].dilation[0],
                                   specs[s].pad_b[0], specs[s].pad_e[0], specs[s].ceil_mode);
            int64_t yd[3] = {2, 3, out};
            expect_shape(&y[0], 3, yd);
            float *expected = malloc(y[0].nbytes);
            for (int64_t p = 0; p < 6; p++)
                avgpool_1d_by_hand((float *)x.data + p * in, in, &specs[s], include_pad,
                                   expected + p * out, out);
            char what[64];
            snprintf(what, sizeof what, "AveragePool 1-D spec %zu include_pad %d", s, include_pad);
            expect_values(y[0].data, expected, y[0].count, what);

            oc_pool_geom g = {6, {{0}}};
            spec_to_dims(&specs[s], &in, g.dim);
            oc_avgpool_f32_ref(&g, include_pad, x.data, expected, 0, 6);
            expect_values(y[0].data, expected, y[0].count, what);
            free(expected);
            oh_free_outputs(1, y);
            oh_free(&h);
        }
    free(x.data);
}
END_TEST

/* 2-D and 3-D against the reference kernel, SAME_* included. */
START_TEST(avgpool_and_maxpool_auto_pad)
{
    static const char *const modes[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    static const int64_t xd[4] = {2, 2, 9, 8}, kernel[2] = {4, 3}, strides[2] = {2, 3};
    oc_tensor x = random_tensor(4, xd, 4);
    for (int m = 0; m < 3; m++)
        for (int op = 0; op < 2; op++) {
            oh_node h;
            oh_init(&h, op ? "MaxPool" : "AveragePool", 11);
            oh_attr_string(&h, "auto_pad", modes[m]);
            oh_attr_ints(&h, "kernel_shape", kernel, 2);
            oh_attr_ints(&h, "strides", strides, 2);
            oh_attr_int(&h, "ceil_mode", 1); /* no effect with SAME_* */
            const oc_tensor *in[1] = {&x};
            oc_tensor y[1];
            expect_ok(run_op(&h, 1, in, y));
            window_spec ws = spec_defaults(2);
            ws.ceil_mode = true;
            for (int i = 0; i < 2; i++) {
                ws.kernel[i] = kernel[i];
                ws.stride[i] = strides[i];
                if (m < 2)
                    same_pads(xd[2 + i], kernel[i], strides[i], 1, m == 0, &ws.pad_b[i],
                              &ws.pad_e[i]);
            }
            oc_pool_geom g = {4, {{0}}};
            spec_to_dims(&ws, xd + 2, g.dim);
            if (m < 2) {
                ck_assert_int_eq(g.dim[1].out, (9 + 1) / 2);
                ck_assert_int_eq(g.dim[2].out, (8 + 2) / 3);
            }
            int64_t yd[4] = {2, 2, g.dim[1].out, g.dim[2].out};
            expect_shape(&y[0], 4, yd);
            float *expected = malloc(y[0].nbytes);
            if (op)
                oc_maxpool_f32_ref(&g, x.data, expected, NULL, false, 0, 4);
            else
                oc_avgpool_f32_ref(&g, false, x.data, expected, 0, 4);
            expect_values(y[0].data, expected, y[0].count, modes[m]);
            free(expected);
            oh_free_outputs(1, y);
            oh_free(&h);
        }
    free(x.data);

    /* 3-D AveragePool with dilations and count_include_pad. */
    static const int64_t x3[5] = {1, 2, 8, 7, 9};
    x = random_tensor(5, x3, 5);
    window_spec ws = {3, {3, 2, 3}, {2, 1, 2}, {1, 2, 2}, {1, 0, 2}, {2, 1, 1}, true};
    oh_node h;
    int64_t pads[6];
    oh_init(&h, "AveragePool", 22);
    set_window_attrs(&h, &ws, pads, true);
    oh_attr_int(&h, "ceil_mode", 1);
    oh_attr_int(&h, "count_include_pad", 1);
    const oc_tensor *in[1] = {&x};
    oc_tensor y[1];
    expect_ok(run_op(&h, 1, in, y));
    oc_pool_geom g = {2, {{0}}};
    spec_to_dims(&ws, x3 + 2, g.dim);
    float *expected = malloc(y[0].nbytes);
    oc_avgpool_f32_ref(&g, true, x.data, expected, 0, 2);
    expect_values(y[0].data, expected, y[0].count, "3-D AveragePool");
    free(expected);
    oh_free_outputs(1, y);
    oh_free(&h);
    free(x.data);
}
END_TEST

/* ======================================================================== */
/* GlobalAveragePool                                                        */
/* ======================================================================== */

START_TEST(global_average_pool)
{
    static const int64_t shapes[][5] = {{2, 3, 5, 5}, {1, 4, 17}, {2, 2, 3, 4, 5}};
    static const int ranks[] = {4, 3, 5};
    for (size_t s = 0; s < 3; s++) {
        oc_tensor x = random_tensor(ranks[s], shapes[s], 30 + (unsigned)s);
        oh_node h;
        oh_init(&h, "GlobalAveragePool", s == 0 ? 1 : 22);
        const oc_tensor *in[1] = {&x};
        oc_tensor y[1];
        expect_ok(run_op(&h, 1, in, y));
        int64_t yd[5] = {shapes[s][0], shapes[s][1], 1, 1, 1};
        expect_shape(&y[0], ranks[s], yd);
        size_t planes = (size_t)(shapes[s][0] * shapes[s][1]), size = x.count / planes;
        float *expected = malloc(planes * sizeof *expected);
        for (size_t p = 0; p < planes; p++) {
            double sum = 0;
            for (size_t i = 0; i < size; i++) sum += ((float *)x.data)[p * size + i];
            expected[p] = (float)(sum / (double)size);
        }
        expect_values(y[0].data, expected, planes, "GlobalAveragePool");
        free(expected);
        oh_free_outputs(1, y);
        oh_free(&h);
        free(x.data);
    }
    static const int64_t x2[2] = {2, 3};
    oc_tensor x = random_tensor(2, x2, 1);
    oh_node h;
    oh_init(&h, "GlobalAveragePool", 22);
    const oc_tensor *in[1] = {&x};
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "rank");
    oh_free(&h);
    oh_init(&h, "GlobalAveragePool", 22);
    oh_attr_ints(&h, "kernel_shape", k2, 2);
    expect_op_error(&h, 1, in, ONNXC_ERR_MODEL, "kernel_shape");
    oh_free(&h);
    free(x.data);
}
END_TEST

/* A one-input op prepared, inferred for threads threads and run on a pool
 * of them; outputs as oh_run gives them (free with oh_free_outputs). */
static onnxc_status *run_threaded(oh_node *h, const oc_tensor *x, int n_out, oc_tensor *out,
                                  int threads)
{
    oc_node *n = &h->node;
    n->n_inputs = 1;
    n->n_outputs = n_out;
    h->input_names[0] = "in";
    for (int i = 0; i < n_out; i++) h->output_names[i] = "out";
    memset(out, 0, (size_t)n_out * sizeof *out);
    n->op = oc_op_find("", n->op_type, n->opset);
    ck_assert_ptr_nonnull(n->op);
    void *params = NULL;
    if (n->op->prepare) OC_TRY(n->op->prepare(n, &h->arena, &params));
    n->params = params;
    oc_tensor shape = *x;
    shape.data = NULL;
    const oc_tensor *in[1] = {&shape};
    oc_tensor *outp[2] = {&out[0], n_out > 1 ? &out[1] : NULL};
    oc_infer_ctx ic = {n, params, 1, in, n_out, outp, 0, threads};
    OC_TRY(n->op->infer(&ic));
    for (int i = 0; i < n_out; i++) {
        OC_TRY(oc_tensor_set_sizes(outp[i]));
        outp[i]->data = oc_aligned_alloc(outp[i]->nbytes);
        memset(outp[i]->data, 0xA5, outp[i]->nbytes);
    }
    void *ws = ic.workspace ? oc_aligned_alloc(ic.workspace) : NULL;
    oc_pool *pool = NULL;
    OC_TRY(oc_pool_create(threads, &pool));
    const oc_tensor *run_in[1] = {x};
    oc_run_ctx rc = {n, params, 1, run_in, n_out, outp, ws, ic.workspace, pool};
    onnxc_status *st = n->op->run(&rc);
    oc_pool_free(pool);
    oc_aligned_free(ws);
    return st;
}

/* Pooling split over 2 and 3 threads gives what one thread gives. */
START_TEST(pool_ops_threaded)
{
    int64_t xd[4] = {3, 40, 23, 21};
    oc_tensor x = random_tensor(4, xd, 77);
    static const int64_t kernel[2] = {3, 3}, stride[2] = {2, 2}, pads[4] = {1, 1, 1, 1};
    const char *ops[] = {"MaxPool", "MaxPool", "AveragePool", "GlobalAveragePool",
                         "GlobalMaxPool"};
    for (size_t oi = 0; oi < sizeof ops / sizeof *ops; oi++) {
        int n_out = oi == 1 ? 2 : 1; /* MaxPool with Indices */
        oc_tensor ref[2];
        for (int threads = 1; threads <= 3; threads++) {
            oh_node h;
            oh_init(&h, ops[oi], 13);
            if (oi < 3) {
                oh_attr_ints(&h, "kernel_shape", kernel, 2);
                oh_attr_ints(&h, "strides", stride, 2);
                oh_attr_ints(&h, "pads", pads, 4);
                oh_attr_int(&h, "ceil_mode", 1);
            }
            oc_tensor out[2];
            expect_ok(run_threaded(&h, &x, n_out, out, threads));
            if (threads == 1) {
                memcpy(ref, out, sizeof ref);
            } else {
                for (int i = 0; i < n_out; i++) {
                    ck_assert_uint_eq(out[i].nbytes, ref[i].nbytes);
                    ck_assert_msg(memcmp(out[i].data, ref[i].data, ref[i].nbytes) == 0,
                                  "%s output %d on %d threads differs", ops[oi], i, threads);
                }
                oh_free_outputs(n_out, out);
            }
            oh_free(&h);
        }
        oh_free_outputs(n_out, ref);
    }
    free(x.data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_cnn");
    TCase *conv = tcase_create("conv");
    tcase_add_test(conv, conv_matches_reference);
    tcase_add_test(conv, conv_auto_pad);
    tcase_add_test(conv, conv_invalid_models_are_errors);
    tcase_add_test(conv, conv_packed_threads_and_fused_activation);
    TCase *gemm = tcase_create("gemm");
    tcase_add_test(gemm, gemm_every_c_shape);
    tcase_add_test(gemm, gemm_larger_and_vector_shapes);
    tcase_add_test(gemm, gemm_versions);
    tcase_add_test(gemm, gemm_invalid_models_are_errors);
    tcase_add_test(gemm, gemm_beta_zero_ignores_c);
    TCase *pool = tcase_create("pool");
    tcase_add_test(pool, maxpool_indices_both_storage_orders);
    tcase_add_test(pool, maxpool_byte_types);
    tcase_add_test(pool, maxpool_indices_without_values);
    tcase_add_test(pool, pool_ceil_mode_edges);
    tcase_add_test(pool, pool_attributes_by_opset);
    tcase_add_test(pool, avgpool_1d_by_hand_and_reference);
    tcase_add_test(pool, avgpool_and_maxpool_auto_pad);
    tcase_add_test(pool, global_average_pool);
    tcase_add_test(pool, pool_ops_threaded);
    TCase *cases[] = {conv, gemm, pool};
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
