/* BatchNormalization and LRN (ai.onnx opsets 1-26), float32.
 *
 * BatchNormalization attribute history: opsets 1-5 have consumed_inputs,
 * epsilon, is_test, momentum and spatial; 6 drops consumed_inputs; 7 drops
 * is_test; 9 drops spatial (always per channel); 14 adds training_mode and
 * reduces the optional outputs to running_mean and running_var.
 *
 * Inference normalizes with the given mean and var. Exporters wrote
 * is_test = 0 into inference models, so before opset 7 it is read but does
 * not select training; the training outputs of opsets 1-13 (mean, var,
 * saved_mean, saved_var) are refused. From opset 14, training_mode = 1 is
 * supported: Y is normalized with the batch's own statistics and the running
 * statistics are updated with momentum.
 *
 * spatial = 0 (opsets 1-8) normalizes per activation: the statistics have
 * X's shape without the batch dim, [C, D1, ..., Dn]. From opset 9 X may be
 * 1-D, [N], with a single channel. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernels/normalization.h"
#include "ops.h"

/* An attribute defined at opsets [since, until]. */
typedef struct attr_span {
    const char *name;
    int64_t since, until;
} attr_span;

static onnxc_status *check_attrs_by_opset(const oc_node *n, const attr_span *list, size_t count)
{
    const char *names[16];
    size_t known = 0;
    for (size_t i = 0; i < count && known < sizeof names / sizeof *names; i++)
        if (n->opset >= list[i].since && n->opset <= list[i].until) names[known++] = list[i].name;
    return oc_check_attr_names(n, names, known);
}

static const oc_tensor *input_at(const oc_tensor *const *in, int n_inputs, int i)
{
    return i < n_inputs ? in[i] : NULL;
}

static oc_tensor *output_at(oc_tensor *const *out, int n_outputs, int i)
{
    return i < n_outputs ? out[i] : NULL;
}

/* ======================================================================== */
/* BatchNormalization                                                       */
/* ======================================================================== */

typedef struct batchnorm_params {
    float epsilon, momentum;
    bool per_activation; /* spatial = 0 */
    bool training;       /* training_mode = 1 */
} batchnorm_params;

static const char *const batchnorm_input_names[5] = {"X", "scale", "B", "mean", "var"};

onnxc_status *oc_batchnorm_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const attr_span names[] = {
        {"consumed_inputs", 1, 5},    {"is_test", 1, 6},
        {"spatial", 1, 8},            {"epsilon", 1, OC_MAX_OPSET},
        {"momentum", 1, OC_MAX_OPSET}, {"training_mode", 14, OC_MAX_OPSET}};
    OC_TRY(check_attrs_by_opset(n, names, sizeof names / sizeof *names));
    batchnorm_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_attr_float(n, "epsilon", 1e-5f, &p->epsilon));
    OC_TRY(oc_attr_float(n, "momentum", 0.9f, &p->momentum));
    /* Read only to check their types: consumed_inputs is a legacy hint and
     * is_test does not change inference (see the top of the file). */
    const int64_t *consumed;
    size_t n_consumed;
    int64_t is_test;
    OC_TRY(oc_attr_ints(n, "consumed_inputs", &consumed, &n_consumed));
    OC_TRY(oc_attr_int(n, "is_test", 0, &is_test));
    int64_t spatial;
    OC_TRY(oc_attr_int(n, "spatial", 1, &spatial));
    if (spatial != 0 && spatial != 1)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "attribute 'spatial' is %" PRId64 "; expected 0 or 1", spatial);
    p->per_activation = spatial == 0;
    OC_TRY(oc_attr_flag(n, "training_mode", &p->training));
    *params = p;
    return NULL;
}

/* X viewed as [batch, features, inner], one statistic per feature. */
typedef struct batchnorm_dims {
    int64_t batch, channels, features, inner;
} batchnorm_dims;

/* The statistics' expected shape: [C], or per activation (spatial = 0,
 * where X has rank >= 2) X's shape without the batch dim. */
static onnxc_status *check_statistic(const oc_node *n, const batchnorm_params *p, int i,
                                     const oc_tensor *x, const oc_tensor *t, int64_t channels)
{
    char what[32];
    snprintf(what, sizeof what, "input %s", batchnorm_input_names[i]);
    OC_TRY(oc_check_dtype(n, what, t, ONNXC_DTYPE_FLOAT, 0));
    bool ok;
    if (p->per_activation)
        ok = t->rank == x->rank - 1 &&
             memcmp(t->dims, x->dims + 1, (size_t)t->rank * sizeof *t->dims) == 0;
    else
        ok = t->rank == 1 && t->dims[0] == channels;
    if (ok) return NULL;
    char have[OC_SHAPE_STR_MAX], want[OC_SHAPE_STR_MAX];
    if (p->per_activation)
        oc_shape_str(x->dims + 1, x->rank - 1, want, sizeof want);
    else
        snprintf(want, sizeof want, "[%" PRId64 "]", channels);
    return oc_node_error(n, ONNXC_ERR_MODEL, "%s has shape %s; it must be %s%s", what,
                         oc_shape_str(t->dims, t->rank, have, sizeof have), want,
                         p->per_activation ? " (spatial = 0: one value per activation)"
                                           : " (one value per channel)");
}

static onnxc_status *batchnorm_shapes(const oc_node *n, const batchnorm_params *p,
                                      const oc_tensor *const *in, int n_inputs,
                                      batchnorm_dims *d)
{
    for (int i = 0; i < 5; i++)
        if (!input_at(in, n_inputs, i))
            return oc_node_error(n, ONNXC_ERR_MODEL, "input %s is required",
                                 batchnorm_input_names[i]);
    const oc_tensor *x = in[0];
    OC_TRY(oc_check_dtype(n, "input X", x, ONNXC_DTYPE_FLOAT, 0));
    int min_rank = n->opset >= 9 ? 1 : 2;
    if (x->rank < min_rank)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "input X has rank %d; it needs (batch, channels, ...), rank >= %d",
                             x->rank, min_rank);
    d->batch = x->dims[0];
    d->channels = x->rank >= 2 ? x->dims[1] : 1;
    /* An empty X bounds no product of its dims (they may overflow), and
     * has no element to walk: inner 0 then. Otherwise X's count bounds all. */
    d->inner = x->count == 0 ? 0 : 1;
    for (int i = 2; i < x->rank && d->inner > 0; i++) d->inner *= x->dims[i];
    d->features = d->channels;
    if (p->per_activation) { /* each activation its own feature */
        d->features *= d->inner;
        d->inner = 1;
    }
    for (int i = 1; i < 5; i++) OC_TRY(check_statistic(n, p, i, x, in[i], d->channels));
    return NULL;
}

/* Which optional outputs exist, and whether this mode allows them. */
static onnxc_status *check_batchnorm_outputs(const oc_node *n, const batchnorm_params *p,
                                             oc_tensor *const *out, int n_outputs)
{
    bool extra = false;
    for (int i = 1; i < n_outputs; i++) {
        if (out[i] && n->opset >= 14 && i >= 3)
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "has output %d; from opset 14 the outputs are Y, running_mean "
                                 "and running_var",
                                 i);
        extra = extra || out[i];
    }
    if (!extra || p->training) return NULL;
    if (n->opset < 14)
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED,
                             "the training outputs (mean, var, saved_mean, saved_var) are not "
                             "supported before opset 14; only Y (inference) is");
    return oc_node_error(n, ONNXC_ERR_MODEL,
                         "outputs running_mean and running_var exist only with training_mode = 1");
}

onnxc_status *oc_batchnorm_infer(oc_infer_ctx *ctx)
{
    const batchnorm_params *p = ctx->params;
    batchnorm_dims d;
    OC_TRY(batchnorm_shapes(ctx->node, p, ctx->in, ctx->n_inputs, &d));
    OC_TRY(check_batchnorm_outputs(ctx->node, p, ctx->out, ctx->n_outputs));
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], ctx->in[0]);
    for (int i = 1; i <= 2; i++) {
        oc_tensor *running = output_at(ctx->out, ctx->n_outputs, i);
        if (running) oc_tensor_copy_type(running, ctx->in[2 + i]);
    }
    if (p->training) /* the batch's mean and variance */
        ctx->workspace = 2 * (size_t)d.features * sizeof(float);
    return NULL;
}

/* running = input * momentum + current * (1 - momentum) */
static void update_running(const float *input, const float *current, float momentum,
                           int64_t count, float *running)
{
    for (int64_t f = 0; f < count; f++)
        running[f] = (float)((double)input[f] * momentum + (double)current[f] * (1.0 - momentum));
}

onnxc_status *oc_batchnorm_run(oc_run_ctx *ctx)
{
    const batchnorm_params *p = ctx->params;
    batchnorm_dims d;
    OC_TRY(batchnorm_shapes(ctx->node, p, ctx->in, ctx->n_inputs, &d));
    const float *mean = ctx->in[3]->data, *var = ctx->in[4]->data;
    if (p->training) {
        float *batch_mean = ctx->workspace, *batch_var = batch_mean + d.features;
        oc_batchnorm_stats_f32(d.batch, d.features, d.inner, ctx->in[0]->data, batch_mean,
                               batch_var);
        oc_tensor *running_mean = output_at(ctx->out, ctx->n_outputs, 1);
        oc_tensor *running_var = output_at(ctx->out, ctx->n_outputs, 2);
        if (running_mean)
            update_running(mean, batch_mean, p->momentum, d.features, running_mean->data);
        if (running_var)
            update_running(var, batch_var, p->momentum, d.features, running_var->data);
        mean = batch_mean;
        var = batch_var;
    }
    if (ctx->out[0] && ctx->out[0]->count > 0)
        oc_batchnorm_f32(d.batch, d.features, d.inner, p->epsilon, ctx->in[0]->data,
                         ctx->in[1]->data, ctx->in[2]->data, mean, var, ctx->out[0]->data);
    return NULL;
}

/* ======================================================================== */
/* LRN                                                                      */
/* ======================================================================== */

onnxc_status *oc_lrn_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"alpha", "beta", "bias", "size"};
    OC_TRY(oc_check_attr_names(n, names, sizeof names / sizeof *names));
    oc_lrn_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    if (!oc_attr_find(n, "size"))
        return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'size' is required");
    OC_TRY(oc_attr_int(n, "size", 0, &p->size));
    if (p->size < 1)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "attribute 'size' is %" PRId64 "; it must be >= 1", p->size);
    OC_TRY(oc_attr_float(n, "alpha", 1e-4f, &p->alpha));
    OC_TRY(oc_attr_float(n, "beta", 0.75f, &p->beta));
    OC_TRY(oc_attr_float(n, "bias", 1.0f, &p->bias));
    *params = p;
    return NULL;
}

static onnxc_status *check_lrn_input(const oc_node *n, const oc_tensor *x)
{
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input X is required");
    OC_TRY(oc_check_dtype(n, "input X", x, ONNXC_DTYPE_FLOAT, 0));
    if (x->rank < 3)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "input X has rank %d; it needs (batch, channels, spatial...), "
                             "rank >= 3",
                             x->rank);
    return NULL;
}

onnxc_status *oc_lrn_infer(oc_infer_ctx *ctx)
{
    OC_TRY(check_lrn_input(ctx->node, ctx->in[0]));
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], ctx->in[0]);
    return NULL;
}

onnxc_status *oc_lrn_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    OC_TRY(check_lrn_input(ctx->node, x));
    if (!ctx->out[0] || x->count == 0) return NULL; /* empty: the dims bound no product */
    int64_t inner = 1;
    for (int i = 2; i < x->rank; i++) inner *= x->dims[i];
    oc_lrn_f32(ctx->params, x->dims[0], x->dims[1], inner, x->data, ctx->out[0]->data);
    return NULL;
}
