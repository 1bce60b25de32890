/* The load-time graph optimizations (src/core/optimize.c): each rewrite, each
 * reason a rewrite must not apply, and overridable initializers. Every model
 * is opened twice, optimized and not, and both must compute the same outputs
 * (exactly for the fusions, within float rounding for BatchNormalization
 * folding, which reassociates). */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ir.h"
#include "ops/ops.h"
#include "model_builder.h"
#include "op_harness.h"

#define OK(call)                                                         \
    do {                                                                 \
        onnxc_status *st_ = (call);                                      \
        ck_assert_msg(!st_, "%s: %s", #call, onnxc_status_message(st_)); \
    } while (0)

/* ---- building ------------------------------------------------------------ */

static const int64_t x_dims[4] = {2, 3, 5, 5}; /* the input of every Conv net */
#define CH 4                                   /* the Conv's output channels */

/* A float initializer filled with seeded values in [lo, hi); also a graph
 * input (an overridable initializer) when listed. */
static void add_init(mb_model *mb, const char *name, int rank, const int64_t *dims, unsigned seed,
                     float lo, float hi, bool listed)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
    float *v = malloc(n * sizeof *v);
    oh_fill(v, n, seed, lo, hi);
    if (listed) mb_input(mb, name, ONNXC_DTYPE_FLOAT, rank, dims);
    mb_init_f32(mb, name, rank, dims, v, false);
    free(v);
}

static void add_scalar(mb_model *mb, const char *name, float value)
{
    mb_init_f32(mb, name, 0, NULL, &value, false);
}

/* Conv named name: x -> y, 3x3, pads 1, CH output channels; W (and B) as
 * initializers name.W, name.B. */
static mb_node *add_conv(mb_model *mb, const char *name, const char *x, const char *y, bool bias,
                         bool listed)
{
    static const int64_t w_dims[4] = {CH, 3, 3, 3}, b_dims[1] = {CH}, pads[4] = {1, 1, 1, 1};
    char w[64], b[64], inputs[256];
    snprintf(w, sizeof w, "%s.W", name);
    snprintf(b, sizeof b, "%s.B", name);
    add_init(mb, w, 4, w_dims, 11, -0.5f, 0.5f, listed);
    if (bias) add_init(mb, b, 1, b_dims, 12, -0.5f, 0.5f, listed);
    snprintf(inputs, sizeof inputs, "%s,%s%s%s", x, w, bias ? "," : "", bias ? b : "");
    mb_node *n = mb_node_add(mb, "Conv", name, inputs, y);
    mb_attr_ints(n, "pads", pads, 4);
    return n;
}

/* BatchNormalization named name: x -> y with statistics name.scale, .bias,
 * .mean, .var (initializers, overridable when listed). */
static mb_node *add_bn(mb_model *mb, const char *name, const char *x, const char *y, bool listed)
{
    static const int64_t dims[1] = {CH};
    static const char *const which[4] = {"scale", "bias", "mean", "var"};
    static const float lo[4] = {0.5f, -1.0f, -0.5f, 0.2f}, hi[4] = {1.5f, 1.0f, 0.5f, 2.0f};
    char names[4][64], inputs[320];
    for (int i = 0; i < 4; i++) {
        snprintf(names[i], sizeof names[i], "%s.%s", name, which[i]);
        add_init(mb, names[i], 1, dims, 20u + (unsigned)i, lo[i], hi[i], listed);
    }
    snprintf(inputs, sizeof inputs, "%s,%s,%s,%s,%s", x, names[0], names[1], names[2], names[3]);
    mb_node *n = mb_node_add(mb, "BatchNormalization", name, inputs, y);
    mb_attr_float(n, "epsilon", 1e-3f);
    return n;
}

/* A model with input x [2, 3, 5, 5] and outputs listed by name. */
static mb_model *conv_model(int64_t ir, int64_t opset)
{
    mb_model *mb = mb_new(ir, opset);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 4, x_dims);
    return mb;
}

static onnxc_model *open_bytes(const uint8_t *buf, size_t len, bool optimize)
{
    onnxc_model_options o;
    onnxc_model_options_init(&o);
    o.optimize = optimize;
    onnxc_model *m = NULL;
    OK(onnxc_model_open_buffer(buf, len, &o, &m));
    return m;
}

/* Opens mb optimized and not (mb is freed). */
static void open_both(mb_model *mb, onnxc_model **opt, onnxc_model **plain)
{
    uint8_t *buf;
    size_t len;
    ck_assert(mb_serialize(mb, &buf, &len));
    mb_free(mb);
    *opt = open_bytes(buf, len, true);
    *plain = open_bytes(buf, len, false);
    free(buf);
}

/* ---- structure ---------------------------------------------------------- */

static const oc_node *node_named(const onnxc_model *m, const char *name)
{
    for (int n = 0; n < m->n_nodes; n++)
        if (strcmp(m->nodes[n].name, name) == 0) return &m->nodes[n];
    ck_abort_msg("no node '%s'", name);
    return NULL;
}

/* Nodes that run: in the order and not folded. */
static int runs(const onnxc_model *m)
{
    int count = 0;
    for (int k = 0; k < m->n_order; k++) count += !m->folded[m->order[k]];
    return count;
}

static bool in_order(const onnxc_model *m, const oc_node *node)
{
    for (int k = 0; k < m->n_order; k++)
        if (m->order[k] == node->index) return true;
    return false;
}

/* The value named name is written by node (by name). */
static void expect_producer(const onnxc_model *m, const char *value, const char *node)
{
    int id = oc_name_map_find(&m->names, m->values, value);
    ck_assert_int_ge(id, 0);
    ck_assert_int_ge(m->values[id].producer, 0);
    ck_assert_str_eq(m->nodes[m->values[id].producer].name, node);
}

/* The optimized model's order is topological and every node input of a
 * running node has a producer that runs earlier, is folded, or is a source. */
static void check_consistent(const onnxc_model *m)
{
    int *pos = malloc(((size_t)m->n_nodes + 1) * sizeof *pos);
    for (int n = 0; n < m->n_nodes; n++) pos[n] = -1;
    for (int k = 0; k < m->n_order; k++) pos[m->order[k]] = k;
    for (int k = 0; k < m->n_order; k++) {
        const oc_node *node = &m->nodes[m->order[k]];
        ck_assert_int_eq(node->fate == OC_NODE_REMOVED, 0);
        for (int i = 0; i < node->n_inputs; i++) {
            int v = node->inputs[i];
            if (v < 0) continue;
            ck_assert_str_eq(node->input_names[i], m->values[v].name);
            int p = m->values[v].producer;
            if (m->values[v].kind == OC_VALUE_NODE) {
                ck_assert_msg(p >= 0, "input '%s' of '%s' has no producer", m->values[v].name,
                              node->name);
                ck_assert_int_lt(pos[p], k);
            }
        }
        for (int o = 0; o < node->n_outputs; o++)
            if (node->outputs[o] >= 0) {
                ck_assert_int_eq(m->values[node->outputs[o]].producer, node->index);
                ck_assert_str_eq(node->output_names[o], m->values[node->outputs[o]].name);
            }
    }
    for (int i = 0; i < m->n_outputs; i++) {
        const oc_value *v = &m->values[m->outputs[i]];
        ck_assert_str_eq(v->name, m->graph_outputs[i].name);
        if (v->kind == OC_VALUE_NODE) ck_assert_int_ge(pos[v->producer], 0);
    }
    free(pos);
}

/* ---- running ------------------------------------------------------------ */

typedef struct feed {
    const char *name;
    int rank;
    int64_t dims[4];
    unsigned seed;
    float lo, hi;
} feed;

#define MAX_FEEDS 4

typedef struct run_data {
    float *data[MAX_FEEDS];
} run_data;

static void make_data(const feed *feeds, int n, run_data *d)
{
    for (int i = 0; i < n; i++) {
        size_t count = 1;
        for (int r = 0; r < feeds[i].rank; r++) count *= (size_t)feeds[i].dims[r];
        d->data[i] = malloc((count ? count : 1) * sizeof(float));
        oh_fill(d->data[i], count, feeds[i].seed, feeds[i].lo, feeds[i].hi);
    }
}

static void free_data(int n, run_data *d)
{
    for (int i = 0; i < n; i++) free(d->data[i]);
}

static void bind_all(onnxc_session *s, const feed *feeds, int n, const run_data *d)
{
    for (int i = 0; i < n; i++) {
        size_t count = 1;
        for (int r = 0; r < feeds[i].rank; r++) count *= (size_t)feeds[i].dims[r];
        OK(onnxc_session_bind(s, feeds[i].name, ONNXC_DTYPE_FLOAT, feeds[i].dims, feeds[i].rank,
                              d->data[i], count * sizeof(float)));
    }
}

/* Compares every output of the two sessions: same shape, and elements equal
 * (exact) or within 1e-5 * max|plain| + 1e-5 * |plain| (rounding). */
static void compare_sessions(onnxc_session *a, onnxc_session *b, size_t n_outputs, bool exact)
{
    for (size_t o = 0; o < n_outputs; o++) {
        onnxc_tensor_view va, vb;
        OK(onnxc_session_output(a, o, &va));
        OK(onnxc_session_output(b, o, &vb));
        ck_assert_str_eq(va.name, vb.name);
        ck_assert_int_eq(va.dtype, vb.dtype);
        ck_assert_int_eq(va.rank, vb.rank);
        for (int r = 0; r < va.rank; r++) ck_assert_int_eq(va.shape[r], vb.shape[r]);
        ck_assert_uint_eq(va.count, vb.count);
        if (va.dtype != ONNXC_DTYPE_FLOAT) {
            ck_assert(va.nbytes == vb.nbytes && memcmp(va.data, vb.data, va.nbytes) == 0);
            continue;
        }
        const float *x = va.data, *y = vb.data;
        double most = 0;
        for (size_t i = 0; i < vb.count; i++) most = fmax(most, fabs(y[i]));
        for (size_t i = 0; i < va.count; i++) {
            if (exact) {
                ck_assert_msg(memcmp(&x[i], &y[i], sizeof x[i]) == 0,
                              "output %zu element %zu: %.9g vs %.9g", o, i, x[i], y[i]);
            } else {
                double tol = 1e-5 * most + 1e-5 * fabs(y[i]);
                ck_assert_msg(fabs((double)x[i] - y[i]) <= tol,
                              "output %zu element %zu: %.9g vs %.9g", o, i, x[i], y[i]);
            }
        }
    }
}

/* Runs both models on the same seeded feeds and compares their outputs. */
static void expect_same(onnxc_model *opt, onnxc_model *plain, const feed *feeds, int n, bool exact)
{
    run_data d;
    make_data(feeds, n, &d);
    onnxc_session *a, *b;
    OK(onnxc_session_create(opt, NULL, &a));
    OK(onnxc_session_create(plain, NULL, &b));
    bind_all(a, feeds, n, &d);
    bind_all(b, feeds, n, &d);
    OK(onnxc_session_run(a));
    OK(onnxc_session_run(b));
    ck_assert_uint_eq(onnxc_model_output_count(opt), onnxc_model_output_count(plain));
    compare_sessions(a, b, onnxc_model_output_count(plain), exact);
    onnxc_session_free(a);
    onnxc_session_free(b);
    free_data(n, &d);
}

static const feed x_feed = {"x", 4, {2, 3, 5, 5}, 1, -1.0f, 1.0f};

static void free_both(onnxc_model *a, onnxc_model *b)
{
    onnxc_model_free(a);
    onnxc_model_free(b);
}

/* ---- BatchNormalization into Conv ---------------------------------------- */

static void check_bn_folds(bool bias)
{
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", bias, false);
    add_bn(mb, "bn", "c", "y", false);
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(plain), 2);
    ck_assert_int_eq(runs(opt), 1);
    ck_assert_int_eq(opt->optimized.bn_into_conv, 1);
    ck_assert_int_eq(plain->optimized.enabled, 0);
    const oc_node *bn = node_named(opt, "bn"), *conv = node_named(opt, "conv");
    ck_assert_int_eq(bn->fate, OC_NODE_FOLDED_INTO);
    ck_assert(opt->folded[bn->index]);
    ck_assert(in_order(opt, bn));
    ck_assert_int_eq(conv->n_inputs, 3);
    ck_assert(opt->values[conv->inputs[1]].constant && opt->values[conv->inputs[2]].constant);
    expect_producer(opt, "y", "conv");
    check_consistent(opt);
    expect_same(opt, plain, &x_feed, 1, false);
    free_both(opt, plain);
}

START_TEST(bn_folds_into_conv_with_bias) { check_bn_folds(true); }
END_TEST

START_TEST(bn_folds_into_conv_without_bias) { check_bn_folds(false); }
END_TEST

/* Conv -> Identity -> BatchNormalization -> Dropout -> Relu: one Conv runs. */
START_TEST(whole_chain_collapses_into_one_conv)
{
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    mb_node_add(mb, "Identity", "id", "c", "c2");
    add_bn(mb, "bn", "c2", "b", false);
    mb_node_add(mb, "Dropout", "drop", "b", "d");
    mb_node_add(mb, "Relu", "relu", "d", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(plain), 5);
    ck_assert_int_eq(runs(opt), 1);
    const oc_opt_stats *s = &opt->optimized;
    ck_assert_int_eq(s->identity_removed, 1);
    ck_assert_int_eq(s->dropout_removed, 1);
    ck_assert_int_eq(s->bn_into_conv, 1);
    ck_assert_int_eq(s->relu_into_conv, 1);
    ck_assert_int_eq(s->nodes_before, 5);
    ck_assert_int_eq(node_named(opt, "conv")->fused.kind, OC_ACT_RELU);
    ck_assert_int_eq(node_named(opt, "relu")->fate, OC_NODE_REMOVED);
    expect_producer(opt, "y", "conv");
    check_consistent(opt);
    expect_same(opt, plain, &x_feed, 1, false);
    free_both(opt, plain);
}
END_TEST

/* A dynamic batch (shapes unknown at load): the fold and the fusion need
 * only the constants. A Dropout whose data type is unknown at load stays
 * (its type check then runs as in the unoptimized model). */
START_TEST(dynamic_batch_still_folds)
{
    static const int64_t dyn[4] = {-1, 3, 5, 5};
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 4, dyn);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    add_bn(mb, "bn", "c", "b", false);
    mb_node_add(mb, "Relu", "relu", "b", "r");
    mb_node_add(mb, "Dropout", "drop", "r", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert(!opt->static_shapes);
    ck_assert_int_eq(runs(plain), 4);
    ck_assert_int_eq(runs(opt), 2);
    ck_assert_int_eq(opt->optimized.bn_into_conv, 1);
    ck_assert_int_eq(opt->optimized.relu_into_conv, 1);
    ck_assert_int_eq(node_named(opt, "drop")->fate, OC_NODE_KEPT);
    check_consistent(opt);
    feed feeds[1] = {{"x", 4, {3, 3, 5, 5}, 8, -1.0f, 1.0f}};
    expect_same(opt, plain, feeds, 1, false);
    free_both(opt, plain);
}
END_TEST

/* The Conv's output also feeds another node: no fold. */
START_TEST(bn_not_folded_when_conv_output_has_two_readers)
{
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_output(mb, "z", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    add_bn(mb, "bn", "c", "y", false);
    mb_node_add(mb, "Sigmoid", "other", "c", "z");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 3);
    ck_assert_int_eq(node_named(opt, "bn")->fate, OC_NODE_KEPT);
    check_consistent(opt);
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* The Conv's output is a graph output: its name and value must survive. */
START_TEST(bn_not_folded_when_conv_output_is_a_graph_output)
{
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "c", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    add_bn(mb, "bn", "c", "y", false);
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 2);
    ck_assert_int_eq(opt->optimized.bn_into_conv, 0);
    check_consistent(opt);
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* mean is a graph input (bound at run time): no fold. */
START_TEST(bn_not_folded_with_non_constant_statistics)
{
    static const int64_t dims[1] = {CH};
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_input(mb, "mean", ONNXC_DTYPE_FLOAT, 1, dims);
    add_conv(mb, "conv", "x", "c", true, false);
    add_init(mb, "scale", 1, dims, 5, 0.5f, 1.5f, false);
    add_init(mb, "bias", 1, dims, 6, -1.0f, 1.0f, false);
    add_init(mb, "var", 1, dims, 7, 0.5f, 1.5f, false);
    mb_node_add(mb, "BatchNormalization", "bn", "c,scale,bias,mean,var", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 2);
    ck_assert_int_eq(node_named(opt, "bn")->fate, OC_NODE_KEPT);
    feed feeds[2] = {x_feed, {"mean", 1, {CH}, 9, -0.5f, 0.5f}};
    expect_same(opt, plain, feeds, 2, true);
    free_both(opt, plain);
}
END_TEST

/* The Conv's weight is a graph input: no fold. */
START_TEST(bn_not_folded_with_non_constant_conv_weight)
{
    static const int64_t w_dims[4] = {CH, 3, 3, 3};
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_input(mb, "w", ONNXC_DTYPE_FLOAT, 4, w_dims);
    mb_node_add(mb, "Conv", "conv", "x,w", "c");
    add_bn(mb, "bn", "c", "y", false);
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 2);
    feed feeds[2] = {x_feed, {"w", 4, {CH, 3, 3, 3}, 9, -0.5f, 0.5f}};
    expect_same(opt, plain, feeds, 2, true);
    free_both(opt, plain);
}
END_TEST

/* spatial = 0 (opset 7): statistics per activation, no fold. */
START_TEST(bn_not_folded_when_spatial_is_0)
{
    static const int64_t dims[3] = {CH, 5, 5};
    mb_model *mb = conv_model(3, 7);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    add_init(mb, "scale", 3, dims, 5, 0.5f, 1.5f, false);
    add_init(mb, "bias", 3, dims, 6, -1.0f, 1.0f, false);
    add_init(mb, "mean", 3, dims, 7, -0.5f, 0.5f, false);
    add_init(mb, "var", 3, dims, 8, 0.5f, 1.5f, false);
    mb_node *bn = mb_node_add(mb, "BatchNormalization", "bn", "c,scale,bias,mean,var", "y");
    mb_attr_int(bn, "spatial", 0);
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 2);
    ck_assert_int_eq(node_named(opt, "bn")->fate, OC_NODE_KEPT);
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* training_mode = 1 (opset 15): the batch's own statistics, no fold. */
START_TEST(bn_not_folded_in_training_mode)
{
    mb_model *mb = conv_model(8, 15);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    mb_attr_int(add_bn(mb, "bn", "c", "y", false), "training_mode", 1);
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 2);
    ck_assert_int_eq(node_named(opt, "bn")->fate, OC_NODE_KEPT);
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* BatchNormalization after something else than a Conv (a Gemm): no fold. */
START_TEST(bn_not_folded_after_other_ops)
{
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    mb_node_add(mb, "Sigmoid", "sig", "c", "t");
    add_bn(mb, "bn", "t", "y", false);
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 3);
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* IR 3: every weight also a graph input. The fold happens, and binding any of
 * them recomputes the folded weights: results match the unoptimized model
 * with the same bindings, run after run. */
START_TEST(bn_fold_follows_overridden_initializers)
{
    mb_model *mb = conv_model(3, 7);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, true);
    add_bn(mb, "bn", "c", "b", true);
    mb_node_add(mb, "Relu", "relu", "b", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 1);
    ck_assert_int_eq(onnxc_model_input_count(opt), 1);
    expect_same(opt, plain, &x_feed, 1, false);

    feed feeds[4] = {x_feed,
                     {"bn.scale", 1, {CH}, 31, -2.0f, 2.0f},
                     {"conv.W", 4, {CH, 3, 3, 3}, 32, -1.0f, 1.0f},
                     {"bn.mean", 1, {CH}, 33, -1.0f, 1.0f}};
    for (int n = 2; n <= 4; n++) expect_same(opt, plain, feeds, n, false);

    /* One session, rebinding new data between runs. */
    run_data d;
    make_data(feeds, 4, &d);
    onnxc_session *a, *b;
    OK(onnxc_session_create(opt, NULL, &a));
    OK(onnxc_session_create(plain, NULL, &b));
    bind_all(a, feeds, 2, &d);
    bind_all(b, feeds, 2, &d);
    OK(onnxc_session_run(a));
    OK(onnxc_session_run(b));
    compare_sessions(a, b, 1, false);
    for (int i = 0; i < CH; i++) d.data[1][i] = -d.data[1][i];
    bind_all(a, feeds, 2, &d);
    bind_all(b, feeds, 2, &d);
    OK(onnxc_session_run(a));
    OK(onnxc_session_run(b));
    compare_sessions(a, b, 1, false);
    onnxc_session_free(a);
    onnxc_session_free(b);
    free_data(4, &d);
    free_both(opt, plain);
}
END_TEST

/* An override of the wrong shape is reported naming the BatchNormalization
 * node, optimized or not. */
START_TEST(bn_fold_errors_name_the_batchnorm_node)
{
    mb_model *mb = conv_model(3, 7);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    add_bn(mb, "bn", "c", "y", false);
    /* scale: overridable, declared without a shape (any shape may be bound). */
    Onnx__ValueInfoProto *vi = mb_input(mb, "bn.scale", ONNXC_DTYPE_FLOAT, -1, NULL);
    (void)vi;
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 1);
    onnxc_model *models[2] = {opt, plain};
    float x[2 * 3 * 5 * 5] = {0}, scale[CH + 1] = {1, 1, 1, 1, 1};
    int64_t bad[1] = {CH + 1};
    for (int i = 0; i < 2; i++) {
        onnxc_session *s;
        OK(onnxc_session_create(models[i], NULL, &s));
        OK(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, x_dims, 4, x, sizeof x));
        OK(onnxc_session_bind(s, "bn.scale", ONNXC_DTYPE_FLOAT, bad, 1, scale, sizeof scale));
        onnxc_status *st = onnxc_session_run(s);
        ck_assert_msg(st != NULL, "model %d ran with a bad scale", i);
        const char *msg = onnxc_status_message(st);
        ck_assert_msg(strstr(msg, "node 'bn' (BatchNormalization"), "%s", msg);
        ck_assert_msg(strstr(msg, "scale"), "%s", msg);
        onnxc_status_free(st);
        onnxc_session_free(s);
    }
    free_both(opt, plain);
}
END_TEST

/* ---- Relu and Clip into Conv and Gemm ---------------------------------------- */

START_TEST(relu_fuses_into_conv_and_gemm)
{
    static const int64_t w_dims[2] = {6, CH * 25}, b_dims[1] = {6};
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    mb_node_add(mb, "Relu", "relu1", "c", "r");
    mb_node_add(mb, "Flatten", "flat", "r", "f");
    add_init(mb, "fc.W", 2, w_dims, 40, -0.5f, 0.5f, false);
    add_init(mb, "fc.B", 1, b_dims, 41, -0.5f, 0.5f, false);
    mb_attr_int(mb_node_add(mb, "Gemm", "fc", "f,fc.W,fc.B", "g"), "transB", 1);
    mb_node_add(mb, "Relu", "relu2", "g", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(plain), 5);
    ck_assert_int_eq(runs(opt), 3);
    ck_assert_int_eq(opt->optimized.relu_into_conv, 1);
    ck_assert_int_eq(opt->optimized.relu_into_gemm, 1);
    ck_assert_int_eq(node_named(opt, "conv")->fused.kind, OC_ACT_RELU);
    ck_assert_int_eq(node_named(opt, "fc")->fused.kind, OC_ACT_RELU);
    ck_assert_int_eq(node_named(plain, "fc")->fused.kind, OC_ACT_NONE);
    expect_producer(opt, "y", "fc");
    expect_producer(opt, "r", "conv");
    check_consistent(opt);
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* ---- Add into Conv ---------------------------------------------------------- */

static const feed residual_feeds[2] = {{"x", 4, {2, 3, 5, 5}, 1, -1.0f, 1.0f},
                                       {"r", 4, {2, CH, 5, 5}, 2, -1.0f, 1.0f}};
static const int64_t r_dims[4] = {2, CH, 5, 5};

/* y = Relu(Conv(x) + r), the Conv on either side of the Add: one node that
 * adds r before its Relu. */
START_TEST(residual_add_fuses_into_conv)
{
    for (int side = 0; side < 2; side++) {
        mb_model *mb = conv_model(8, 13);
        mb_input(mb, "r", ONNXC_DTYPE_FLOAT, 4, r_dims);
        mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
        add_conv(mb, "conv", "x", "c", side == 0, false);
        mb_node_add(mb, "Add", "add", side == 0 ? "c,r" : "r,c", "s");
        mb_node_add(mb, "Relu", "relu", "s", "y");
        onnxc_model *opt, *plain;
        open_both(mb, &opt, &plain);
        ck_assert_int_eq(runs(plain), 3);
        ck_assert_int_eq(runs(opt), 1);
        ck_assert_int_eq(opt->optimized.add_into_conv, 1);
        ck_assert_int_eq(opt->optimized.relu_into_conv, 1);
        const oc_node *conv = node_named(opt, "conv");
        ck_assert_int_eq(conv->n_inputs, OC_CONV_SUM_INPUT + 1);
        ck_assert_str_eq(conv->input_names[OC_CONV_SUM_INPUT], "r");
        if (side == 1) ck_assert_int_lt(conv->inputs[2], 0); /* no bias: an empty slot */
        ck_assert_int_eq(conv->fused.kind, OC_ACT_RELU);
        expect_producer(opt, "y", "conv");
        check_consistent(opt);
        /* The sum and the bias are added in another order: rounding. */
        expect_same(opt, plain, residual_feeds, 2, false);
        free_both(opt, plain);
    }
}
END_TEST

/* The Add of two Conv outputs takes one of them into the other; the Conv
 * that reads the other one runs after it. */
START_TEST(residual_add_of_two_convs)
{
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv1", "x", "c1", true, false);
    add_conv(mb, "conv2", "x", "c2", true, false);
    mb_node_add(mb, "Add", "add", "c1,c2", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 2);
    ck_assert_int_eq(opt->optimized.add_into_conv, 1);
    check_consistent(opt);
    expect_same(opt, plain, &x_feed, 1, false);
    free_both(opt, plain);
}
END_TEST

/* The Add stays when it broadcasts, when the Conv's output has another
 * reader or is a graph output, or when the Conv already has an activation. */
START_TEST(residual_add_not_fused)
{
    static const int64_t bcast_dims[4] = {1, CH, 1, 1};
    for (int variant = 0; variant < 4; variant++) {
        mb_model *mb = conv_model(8, 13);
        mb_input(mb, "r", ONNXC_DTYPE_FLOAT, 4, variant == 0 ? bcast_dims : r_dims);
        mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
        add_conv(mb, "conv", "x", "c", true, false);
        if (variant == 3) {
            mb_node_add(mb, "Relu", "relu", "c", "rc");
            mb_node_add(mb, "Add", "add", "rc,r", "y");
        } else {
            mb_node_add(mb, "Add", "add", "c,r", "y");
        }
        if (variant == 1) {
            mb_output(mb, "n", ONNXC_DTYPE_FLOAT, -1, NULL);
            mb_node_add(mb, "Neg", "neg", "c", "n");
        }
        if (variant == 2) mb_output(mb, "c", ONNXC_DTYPE_FLOAT, -1, NULL);
        onnxc_model *opt, *plain;
        open_both(mb, &opt, &plain);
        ck_assert_msg(opt->optimized.add_into_conv == 0, "variant %d fused", variant);
        ck_assert_int_le(node_named(opt, "conv")->n_inputs, 3);
        check_consistent(opt);
        feed feeds[2] = {residual_feeds[0], residual_feeds[1]};
        if (variant == 0) memcpy(feeds[1].dims, bcast_dims, sizeof bcast_dims);
        expect_same(opt, plain, feeds, 2, true);
        free_both(opt, plain);
    }
}
END_TEST

/* Clip with constant bounds: inputs from opset 11 (ReLU6, and one bound
 * omitted), attributes before (opset 6-10 bounds default to +-FLT_MAX, 1-5
 * have none). */
static void check_clip_fuses(int64_t opset, bool omit_min)
{
    mb_model *mb = conv_model(opset < 9 ? 3 : 8, opset);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    mb_node *clip;
    if (opset >= 11) {
        add_scalar(mb, "lo", 0.0f);
        add_scalar(mb, "hi", 0.25f);
        clip = mb_node_add(mb, "Clip", "clip", omit_min ? "c,,hi" : "c,lo,hi", "y");
    } else {
        clip = mb_node_add(mb, "Clip", "clip", "c", "y");
        if (!omit_min) mb_attr_float(clip, "min", -0.125f);
        mb_attr_float(clip, "max", 0.25f);
    }
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 1);
    ck_assert_int_eq(opt->optimized.clip_into_conv, 1);
    const oc_node *conv = node_named(opt, "conv");
    ck_assert_int_eq(conv->fused.kind, OC_ACT_CLIP);
    ck_assert(conv->fused.max == 0.25f);
    if (omit_min)
        ck_assert(conv->fused.min == (opset >= 6 && opset < 11 ? -FLT_MAX : -INFINITY));
    check_consistent(opt);
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}

START_TEST(clip_fuses_with_constant_input_bounds) { check_clip_fuses(13, false); }
END_TEST

START_TEST(clip_fuses_with_one_bound_omitted) { check_clip_fuses(12, true); }
END_TEST

START_TEST(clip_fuses_with_attribute_bounds)
{
    check_clip_fuses(6, false);
    check_clip_fuses(7, true);
    check_clip_fuses(1, true);
}
END_TEST

/* Clip's bound is a graph input: not fused. */
START_TEST(clip_not_fused_with_non_constant_bounds)
{
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_input(mb, "hi", ONNXC_DTYPE_FLOAT, 0, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    mb_node_add(mb, "Clip", "clip", "c,,hi", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 2);
    ck_assert_int_eq(node_named(opt, "conv")->fused.kind, OC_ACT_NONE);
    feed feeds[2] = {x_feed, {"hi", 0, {0}, 3, 0.1f, 0.3f}};
    expect_same(opt, plain, feeds, 2, true);
    free_both(opt, plain);
}
END_TEST

/* Clip's bound is an overridable initializer (IR 3), or computed from one:
 * a binding could change it, so not fused. */
START_TEST(clip_not_fused_with_overridable_bounds)
{
    for (int computed = 0; computed < 2; computed++) {
        mb_model *mb = conv_model(3, 13);
        mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
        mb_input(mb, "hi", ONNXC_DTYPE_FLOAT, 0, NULL);
        add_scalar(mb, "hi", 0.25f);
        add_conv(mb, "conv", "x", "c", true, false);
        if (computed) mb_node_add(mb, "Neg", "neg", "hi", "nhi");
        mb_node_add(mb, "Clip", "clip", computed ? "c,nhi" : "c,,hi", "y");
        onnxc_model *opt, *plain;
        open_both(mb, &opt, &plain);
        ck_assert_int_eq(runs(opt), 2);
        ck_assert_int_eq(node_named(opt, "conv")->fused.kind, OC_ACT_NONE);
        expect_same(opt, plain, &x_feed, 1, true);
        feed feeds[2] = {x_feed, {"hi", 0, {0}, 3, 0.1f, 0.3f}};
        expect_same(opt, plain, feeds, 2, true);
        free_both(opt, plain);
    }
}
END_TEST

/* The Conv's output is also read elsewhere, or is a graph output: no fusion. */
START_TEST(relu_not_fused_with_other_readers_or_as_graph_output)
{
    for (int variant = 0; variant < 3; variant++) {
        mb_model *mb = conv_model(8, 13);
        mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
        add_conv(mb, "conv", "x", "c", true, false);
        if (variant == 0) { /* another reader */
            mb_node_add(mb, "Relu", "relu", "c", "r");
            mb_node_add(mb, "Add", "add", "r,c", "y");
        } else if (variant == 1) { /* also read by a Shape folded at load */
            mb_node_add(mb, "Relu", "relu", "c", "y");
            mb_output(mb, "shape", ONNXC_DTYPE_INT64, -1, NULL);
            mb_node_add(mb, "Shape", "shape_of", "c", "shape");
        } else { /* a graph output in the middle */
            mb_output(mb, "c", ONNXC_DTYPE_FLOAT, -1, NULL);
            mb_node_add(mb, "Relu", "relu", "c", "y");
        }
        onnxc_model *opt, *plain;
        open_both(mb, &opt, &plain);
        ck_assert_int_eq(runs(opt), runs(plain));
        ck_assert_int_eq(node_named(opt, "conv")->fused.kind, OC_ACT_NONE);
        check_consistent(opt);
        expect_same(opt, plain, &x_feed, 1, true);
        free_both(opt, plain);
    }
}
END_TEST

/* A Relu after something else, or after a Conv that is folded into a
 * constant (all its inputs constant), stays. */
START_TEST(relu_not_fused_after_other_or_folded_nodes)
{
    static const int64_t w_dims[4] = {CH, 3, 3, 3};
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_output(mb, "z", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "Sigmoid", "sig", "x", "s");
    mb_node_add(mb, "Relu", "relu", "s", "y");
    add_init(mb, "cx", 4, x_dims, 50, -1.0f, 1.0f, false);
    add_init(mb, "cw", 4, w_dims, 51, -1.0f, 1.0f, false);
    mb_node_add(mb, "Conv", "const_conv", "cx,cw", "cc");
    mb_node_add(mb, "Relu", "const_relu", "cc", "z");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(opt), 2);
    ck_assert_int_eq(node_named(opt, "const_conv")->fused.kind, OC_ACT_NONE);
    ck_assert_int_eq(node_named(opt, "const_relu")->fate, OC_NODE_KEPT);
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* ---- Identity and Dropout ------------------------------------------------ */

START_TEST(identity_and_dropout_are_bypassed)
{
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "Sigmoid", "sig", "x", "s");
    mb_node_add(mb, "Identity", "id", "s", "i");
    mb_node_add(mb, "Dropout", "drop", "i", "d");    /* opset 13: no ratio, no mode */
    add_scalar(mb, "ratio", 0.5f);
    bool no = false;
    mb_init(mb, "mode", ONNXC_DTYPE_BOOL, 0, NULL, &no, false);
    mb_node_add(mb, "Dropout", "drop2", "d,ratio,mode", "e,"); /* training_mode constant false */
    mb_node_add(mb, "Tanh", "tanh", "e", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(plain), 5);
    ck_assert_int_eq(runs(opt), 2);
    ck_assert_int_eq(opt->optimized.identity_removed, 1);
    ck_assert_int_eq(opt->optimized.dropout_removed, 2);
    const oc_node *t = node_named(opt, "tanh");
    ck_assert_str_eq(opt->values[t->inputs[0]].name, "s");
    check_consistent(opt);
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* Pools of single-element windows are copies and go (AdaptiveAvgPool2d on
 * an input of its output size exports so); a window wider than one, a
 * stride or a read Indices output keeps them. */
START_TEST(single_element_pools_are_bypassed)
{
    static const int64_t one[2] = {1, 1}, two[2] = {2, 2}, one_two[2] = {1, 2};
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_output(mb, "idx", ONNXC_DTYPE_INT64, -1, NULL);
    mb_node_add(mb, "Sigmoid", "sig", "x", "s");
    mb_attr_ints(mb_node_add(mb, "AveragePool", "avg1", "s", "a"), "kernel_shape", one, 2);
    mb_node *m1 = mb_node_add(mb, "MaxPool", "max1", "a", "b");
    mb_attr_ints(m1, "kernel_shape", one, 2);
    mb_attr_ints(m1, "strides", one, 2);
    mb_attr_ints(mb_node_add(mb, "MaxPool", "max2", "b", "c"), "kernel_shape", two, 2);
    mb_node *st = mb_node_add(mb, "AveragePool", "strided", "c", "d");
    mb_attr_ints(st, "kernel_shape", one, 2);
    mb_attr_ints(st, "strides", two, 2);
    mb_attr_ints(mb_node_add(mb, "MaxPool", "wide", "d", "e"), "kernel_shape", one_two, 2);
    mb_attr_ints(mb_node_add(mb, "MaxPool", "indexed", "e", "y,idx"), "kernel_shape", one, 2);
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(plain), 7);
    ck_assert_int_eq(runs(opt), 5);
    ck_assert_int_eq(opt->optimized.pool_removed, 2);
    ck_assert_int_eq(node_named(opt, "avg1")->fate, OC_NODE_REMOVED);
    ck_assert_int_eq(node_named(opt, "max1")->fate, OC_NODE_REMOVED);
    ck_assert_str_eq(opt->values[node_named(opt, "max2")->inputs[0]].name, "s");
    ck_assert_int_eq(node_named(opt, "strided")->fate, OC_NODE_KEPT);
    ck_assert_int_eq(node_named(opt, "wide")->fate, OC_NODE_KEPT);
    ck_assert_int_eq(node_named(opt, "indexed")->fate, OC_NODE_KEPT);
    check_consistent(opt);
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* ---- MaxPool into Conv ---------------------------------------------------- */

static const int64_t stem_x_dims[4] = {1, 3, 30, 70};
static const feed stem_feed = {"x", 4, {1, 3, 30, 70}, 5, -1.0f, 1.0f};

/* A stem, name: x -> conv (3x3 stride 2, pad 1, 16 channels, the direct
 * method's) -> Relu -> MaxPool 3x3/2 pad 1 -> y. */
static void add_stem(mb_model *mb, const char *name, const char *x, const char *y,
                     const char *pool_outputs)
{
    static const int64_t w_dims[4] = {16, 3, 3, 3}, b_dims[1] = {16};
    static const int64_t ones[4] = {1, 1, 1, 1}, twos[2] = {2, 2}, k3[2] = {3, 3};
    char w[64], b[64], in[256], c[64], r[64], outs[256];
    snprintf(w, sizeof w, "%s.W", name);
    snprintf(b, sizeof b, "%s.B", name);
    snprintf(c, sizeof c, "%s.c", name);
    snprintf(r, sizeof r, "%s.r", name);
    add_init(mb, w, 4, w_dims, 31, -0.5f, 0.5f, false);
    add_init(mb, b, 1, b_dims, 32, -0.5f, 0.5f, false);
    snprintf(in, sizeof in, "%s,%s,%s", x, w, b);
    mb_node *conv = mb_node_add(mb, "Conv", name, in, c);
    mb_attr_ints(conv, "pads", ones, 4);
    mb_attr_ints(conv, "strides", twos, 2);
    char relu[80], pool[80];
    snprintf(relu, sizeof relu, "%s.relu", name);
    snprintf(pool, sizeof pool, "%s.pool", name);
    mb_node_add(mb, "Relu", relu, c, r);
    snprintf(outs, sizeof outs, "%s%s", y, pool_outputs);
    mb_node *mp = mb_node_add(mb, "MaxPool", pool, r, outs);
    mb_attr_ints(mp, "kernel_shape", k3, 2);
    mb_attr_ints(mp, "strides", twos, 2);
    mb_attr_ints(mp, "pads", ones, 4);
}

/* Conv -> Relu -> MaxPool becomes one Conv writing the pooled tensor, with
 * the same floats. */
START_TEST(maxpool_fuses_into_conv)
{
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 4, stem_x_dims);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_stem(mb, "stem", "x", "p", "");
    mb_node_add(mb, "Sigmoid", "sig", "p", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(plain), 4);
    ck_assert_int_eq(runs(opt), 2);
    ck_assert_int_eq(opt->optimized.relu_into_conv, 1);
    ck_assert_int_eq(opt->optimized.maxpool_into_conv, 1);
    ck_assert_int_eq(node_named(opt, "stem.pool")->fate, OC_NODE_REMOVED);
    ck_assert_ptr_eq(node_named(opt, "stem")->pool, node_named(opt, "stem.pool"));
    expect_producer(opt, "p", "stem");
    const oc_value *p = &opt->values[node_named(opt, "sig")->inputs[0]];
    ck_assert_int_eq(p->info.dims[2], 8); /* 30 -> 15 -> 8 */
    ck_assert_int_eq(p->info.dims[3], 18); /* 70 -> 35 -> 18 */
    check_consistent(opt);
    expect_same(opt, plain, &stem_feed, 1, true);
    /* The profile names what the Conv computes. */
    onnxc_session_options so;
    onnxc_session_options_init(&so);
    so.profile = 1;
    onnxc_session *s;
    OK(onnxc_session_create(opt, &so, &s));
    float x[1 * 3 * 30 * 70];
    oh_fill(x, sizeof x / sizeof *x, 5, -1.0f, 1.0f);
    OK(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, stem_x_dims, 4, x, sizeof x));
    OK(onnxc_session_run(s));
    const onnxc_node_timing *t;
    size_t n;
    OK(onnxc_session_profile(s, &t, &n));
    bool seen = false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, "stem") == 0) {
            ck_assert_str_eq(t[i].fused, "Relu+MaxPool");
            seen = true;
        }
    ck_assert(seen);
    onnxc_session_free(s);
    free_both(opt, plain);
}
END_TEST

/* Not fused: the Indices read, the conv's output read twice, a conv the
 * direct method does not compute (1x1), a residual Add in the Conv. */
START_TEST(maxpool_not_fused)
{
    static const int64_t k3[2] = {3, 3};
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 4, stem_x_dims);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_output(mb, "idx", ONNXC_DTYPE_INT64, -1, NULL);
    mb_output(mb, "twice", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_output(mb, "res", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_stem(mb, "indexed", "x", "a", ",idx");
    add_stem(mb, "shared", "x", "b", "");
    mb_node_add(mb, "Neg", "reader", "shared.r", "twice"); /* a second reader of shared's output */
    static const int64_t w1[4] = {16, 16, 1, 1};
    add_init(mb, "pw.W", 4, w1, 41, -0.5f, 0.5f, false);
    mb_node_add(mb, "Conv", "pointwise", "b,pw.W", "c");
    mb_attr_ints(mb_node_add(mb, "MaxPool", "pw.pool", "c", "d"), "kernel_shape", k3, 2);
    /* a residual: conv3x3 (16 -> 16, pad 1) + d, then MaxPool */
    static const int64_t w3[4] = {16, 16, 3, 3}, ones[4] = {1, 1, 1, 1};
    add_init(mb, "res.W", 4, w3, 42, -0.5f, 0.5f, false);
    mb_attr_ints(mb_node_add(mb, "Conv", "res", "d,res.W", "e"), "pads", ones, 4);
    mb_node_add(mb, "Add", "add", "e,d", "f");
    mb_attr_ints(mb_node_add(mb, "MaxPool", "res.pool", "f", "res"), "kernel_shape", k3, 2);
    mb_node_add(mb, "Sum", "sum", "a,b", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(opt->optimized.maxpool_into_conv, 0);
    ck_assert_int_eq(opt->optimized.add_into_conv, 1);
    static const char *const kept[] = {"indexed.pool", "shared.pool", "pw.pool", "res.pool"};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        ck_assert_int_eq(node_named(opt, kept[i])->fate, OC_NODE_KEPT);
    check_consistent(opt);
    expect_same(opt, plain, &stem_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* Old Dropout (opset 7, ratio attribute) also goes; its mask, when read, keeps it. */
START_TEST(dropout_with_a_read_mask_stays)
{
    mb_model *mb = conv_model(3, 7);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_output(mb, "mask", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "Sigmoid", "sig", "x", "s");
    mb_attr_float(mb_node_add(mb, "Dropout", "drop", "s", "d,mask"), "ratio", 0.3f);
    mb_node_add(mb, "Dropout", "drop2", "d", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(plain), 3);
    ck_assert_int_eq(runs(opt), 2);
    ck_assert_int_eq(node_named(opt, "drop")->fate, OC_NODE_KEPT);
    ck_assert_int_eq(node_named(opt, "drop2")->fate, OC_NODE_REMOVED);
    expect_producer(opt, "y", "drop"); /* y's name survives: drop writes it */
    check_consistent(opt);
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* training_mode true (with ratio 0: a copy, but the training path) or a
 * graph input: the Dropout stays. */
START_TEST(training_dropout_stays)
{
    for (int variant = 0; variant < 3; variant++) {
        mb_model *mb = conv_model(variant == 2 ? 3 : 8, 13);
        mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
        add_scalar(mb, "ratio", 0.0f);
        /* 0: constant true; 1: a graph input; 2: an overridable false. */
        bool mode = variant == 0;
        if (variant >= 1) mb_input(mb, "mode", ONNXC_DTYPE_BOOL, 0, NULL);
        if (variant != 1) mb_init(mb, "mode", ONNXC_DTYPE_BOOL, 0, NULL, &mode, false);
        mb_node_add(mb, "Sigmoid", "sig", "x", "s");
        mb_node_add(mb, "Dropout", "drop", "s,ratio,mode", "y");
        onnxc_model *opt, *plain;
        open_both(mb, &opt, &plain);
        ck_assert_int_eq(runs(opt), 2);
        ck_assert_int_eq(node_named(opt, "drop")->fate, OC_NODE_KEPT);
        ck_assert_int_eq(opt->optimized.dropout_removed, 0);
        if (variant == 1) { /* both with mode bound true, then false */
            float x[2 * 3 * 5 * 5];
            oh_fill(x, sizeof x / sizeof *x, 3, -1.0f, 1.0f);
            onnxc_session *s[2];
            OK(onnxc_session_create(opt, NULL, &s[0]));
            OK(onnxc_session_create(plain, NULL, &s[1]));
            for (int on = 1; on >= 0; on--) {
                bool bound = on;
                for (int i = 0; i < 2; i++) {
                    OK(onnxc_session_bind(s[i], "x", ONNXC_DTYPE_FLOAT, x_dims, 4, x, sizeof x));
                    OK(onnxc_session_bind(s[i], "mode", ONNXC_DTYPE_BOOL, NULL, 0, &bound, 1));
                    OK(onnxc_session_run(s[i]));
                }
                compare_sessions(s[0], s[1], 1, true);
            }
            onnxc_session_free(s[0]);
            onnxc_session_free(s[1]);
        } else {
            expect_same(opt, plain, &x_feed, 1, true);
        }
        free_both(opt, plain);
    }
}
END_TEST

/* Identity onto a graph output: the producer writes the output (its name
 * survives); from a graph input or to a second output name, it stays a copy. */
START_TEST(identity_keeps_graph_output_names)
{
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_output(mb, "x_copy", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_output(mb, "y_copy", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "Sigmoid", "sig", "x", "s");
    mb_node_add(mb, "Identity", "to_y", "s", "y");
    mb_node_add(mb, "Identity", "from_x", "x", "x_copy");
    mb_node_add(mb, "Identity", "from_y", "y", "y_copy");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(runs(plain), 4);
    ck_assert_int_eq(runs(opt), 3);
    ck_assert_int_eq(node_named(opt, "to_y")->fate, OC_NODE_REMOVED);
    ck_assert_int_eq(node_named(opt, "from_x")->fate, OC_NODE_KEPT);
    ck_assert_int_eq(node_named(opt, "from_y")->fate, OC_NODE_KEPT);
    expect_producer(opt, "y", "sig");
    expect_producer(opt, "y_copy", "from_y");
    check_consistent(opt);
    onnxc_tensor_info info;
    OK(onnxc_model_output(opt, 0, &info));
    ck_assert_str_eq(info.name, "y");
    expect_same(opt, plain, &x_feed, 1, true);
    free_both(opt, plain);
}
END_TEST

/* An Identity between shape-deciding values (Shape -> Identity -> Gather ->
 * Concat -> Reshape with a dynamic batch) keeps the shape subgraph working. */
START_TEST(identity_in_a_shape_subgraph)
{
    mb_model *mb = mb_new(8, 13);
    int64_t d[2] = {-1, 6}, one[1] = {1}, zero[1] = {0}, two[1] = {2}, three[1] = {3};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, d);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_init_i64(mb, "zero", 1, one, zero, false);
    mb_init_i64(mb, "two", 1, one, two, false);
    mb_init_i64(mb, "three", 1, one, three, false);
    mb_node_add(mb, "Shape", "shape", "x", "sh");
    mb_node_add(mb, "Identity", "id", "sh", "sh2");
    mb_node_add(mb, "Gather", "first", "sh2,zero", "n");
    mb_attr_int(mb_node_add(mb, "Concat", "cat", "n,two,three", "target"), "axis", 0);
    mb_node_add(mb, "Reshape", "reshape", "x,target", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(opt->optimized.identity_removed, 1);
    ck_assert_int_eq(node_named(opt, "id")->fate, OC_NODE_REMOVED);
    ck_assert(opt->values[node_named(opt, "first")->inputs[0]].shape_relevant);
    check_consistent(opt);
    feed feeds[1] = {{"x", 2, {3, 6}, 4, -1.0f, 1.0f}};
    expect_same(opt, plain, feeds, 1, true);
    feed other[1] = {{"x", 2, {5, 6}, 4, -1.0f, 1.0f}};
    expect_same(opt, plain, other, 1, true);
    free_both(opt, plain);
}
END_TEST

/* ---- the option ---------------------------------------------------------- */

START_TEST(optimize_off_keeps_the_graph)
{
    mb_model *mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    add_bn(mb, "bn", "c", "b", false);
    mb_node_add(mb, "Relu", "relu", "b", "y");
    onnxc_model *opt, *plain;
    open_both(mb, &opt, &plain);
    ck_assert_int_eq(plain->optimized.enabled, 0);
    ck_assert_int_eq(plain->optimized.bn_into_conv, 0);
    for (int n = 0; n < plain->n_nodes; n++) {
        ck_assert_int_eq(plain->nodes[n].fate, OC_NODE_KEPT);
        ck_assert_int_eq(plain->nodes[n].fused.kind, OC_ACT_NONE);
    }
    ck_assert_int_eq(runs(plain), 3);
    ck_assert(opt->optimized.enabled);
    ck_assert_int_eq(runs(opt), 1);
    free_both(opt, plain);

    /* NULL options: optimized (the default). */
    mb = conv_model(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    add_conv(mb, "conv", "x", "c", true, false);
    mb_node_add(mb, "Relu", "relu", "c", "y");
    uint8_t *buf;
    size_t len;
    ck_assert(mb_serialize(mb, &buf, &len));
    mb_free(mb);
    onnxc_model *m = NULL;
    OK(onnxc_model_open_buffer(buf, len, NULL, &m));
    free(buf);
    ck_assert(m->optimized.enabled);
    ck_assert_int_eq(runs(m), 1);
    onnxc_model_free(m);
}
END_TEST

static Suite *optimize_suite(void)
{
    Suite *s = suite_create("optimize");
    TCase *tc = tcase_create("passes");
    tcase_add_test(tc, bn_folds_into_conv_with_bias);
    tcase_add_test(tc, bn_folds_into_conv_without_bias);
    tcase_add_test(tc, whole_chain_collapses_into_one_conv);
    tcase_add_test(tc, dynamic_batch_still_folds);
    tcase_add_test(tc, bn_not_folded_when_conv_output_has_two_readers);
    tcase_add_test(tc, bn_not_folded_when_conv_output_is_a_graph_output);
    tcase_add_test(tc, bn_not_folded_with_non_constant_statistics);
    tcase_add_test(tc, bn_not_folded_with_non_constant_conv_weight);
    tcase_add_test(tc, bn_not_folded_when_spatial_is_0);
    tcase_add_test(tc, bn_not_folded_in_training_mode);
    tcase_add_test(tc, bn_not_folded_after_other_ops);
    tcase_add_test(tc, bn_fold_follows_overridden_initializers);
    tcase_add_test(tc, bn_fold_errors_name_the_batchnorm_node);
    tcase_add_test(tc, relu_fuses_into_conv_and_gemm);
    tcase_add_test(tc, residual_add_fuses_into_conv);
    tcase_add_test(tc, residual_add_of_two_convs);
    tcase_add_test(tc, residual_add_not_fused);
    tcase_add_test(tc, clip_fuses_with_constant_input_bounds);
    tcase_add_test(tc, clip_fuses_with_one_bound_omitted);
    tcase_add_test(tc, clip_fuses_with_attribute_bounds);
    tcase_add_test(tc, clip_not_fused_with_non_constant_bounds);
    tcase_add_test(tc, clip_not_fused_with_overridable_bounds);
    tcase_add_test(tc, relu_not_fused_with_other_readers_or_as_graph_output);
    tcase_add_test(tc, relu_not_fused_after_other_or_folded_nodes);
    tcase_add_test(tc, identity_and_dropout_are_bypassed);
    tcase_add_test(tc, single_element_pools_are_bypassed);
    tcase_add_test(tc, maxpool_fuses_into_conv);
    tcase_add_test(tc, maxpool_not_fused);
    tcase_add_test(tc, dropout_with_a_read_mask_stays);
    tcase_add_test(tc, training_dropout_stays);
    tcase_add_test(tc, identity_keeps_graph_output_names);
    tcase_add_test(tc, identity_in_a_shape_subgraph);
    tcase_add_test(tc, optimize_off_keeps_the_graph);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(optimize_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
