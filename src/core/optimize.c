/* Load-time graph optimizations: bypass Identity, inference Dropout and
 * pools of single-element windows, fold
 * BatchNormalization into the preceding Conv, fuse a residual Add into the
 * Conv whose output it adds to, fuse Relu/Clip into Conv and Gemm and a
 * MaxPool after a Conv into the Conv.
 *
 * They run on the linked graph after static inference and folding (so that
 * weights computed by constant subgraphs count as constants, and shapes are
 * known where the model's are static) and before the pack hook (which then
 * sees the final weights). Nodes folded into constants are never touched:
 * they do not run. The rewrites only rewire value ids; the execution order
 * and shape-relevance marks are rebuilt at the end (oc_graph_reorder).
 *
 * Overridable initializers (IR < 4: an initializer also listed as a graph
 * input, which a session may bind) are handled like constant folding
 * handles them: the BatchNormalization node is kept as a folded node that
 * computes the Conv's new weight and bias from the Conv's and its own
 * parameters. A session that binds any of them un-folds that node and
 * recomputes the weights from the bound data (session.c, mark_unfolded),
 * exactly as it recomputes any other folded value. Values whose data decides
 * a fusion on its own (Clip's bounds, Dropout's training_mode) must instead
 * be fixed: a non-overridable initializer, or folded from fixed values only.
 *
 * Each rewrite keeps what the unoptimized graph would report: a node whose
 * run could fail (a Dropout of unknown type, a BatchNormalization with
 * mismatched statistics, a Clip with a non-scalar bound) is left as it is. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "ops/ops.h"
#include "optimize.h"

/* ---- the folded BatchNormalization: computes Conv weights at load ---------- */

/* Inputs: the Conv's W and B (B may be omitted), then the BatchNormalization's
 * scale, B, mean and var. Outputs: the new W and B of the Conv:
 *   s = scale / sqrt(var + epsilon)   (per output channel m)
 *   W'[m] = W[m] * s[m],  B'[m] = (B[m] - mean[m]) * s[m] + bias[m]
 * computed in double and rounded once. */
enum { FOLD_W, FOLD_B, FOLD_SCALE, FOLD_BIAS, FOLD_MEAN, FOLD_VAR, FOLD_INPUTS };
static const char *const fold_input_names[FOLD_INPUTS] = {"W (of the Conv)", "B (of the Conv)",
                                                          "scale", "B", "mean", "var"};

typedef struct fold_params {
    float epsilon;
} fold_params;

/* The index of the first input that does not fit (-1 when all do). */
static int fold_mismatch(const oc_tensor *const *in, int64_t *channels)
{
    const oc_tensor *w = in[FOLD_W];
    if (!w || w->dtype != ONNXC_DTYPE_FLOAT || w->rank < 1) return FOLD_W;
    *channels = w->dims[0];
    for (int i = FOLD_B; i < FOLD_INPUTS; i++) {
        const oc_tensor *t = in[i];
        if (!t) {
            if (i == FOLD_B) continue;
            return i;
        }
        if (t->dtype != ONNXC_DTYPE_FLOAT || t->rank != 1 || t->dims[0] != *channels) return i;
    }
    return -1;
}

static onnxc_status *fold_infer(oc_infer_ctx *ctx)
{
    int64_t channels = 0;
    int bad = fold_mismatch(ctx->in, &channels);
    if (bad >= 0) {
        const oc_tensor *t = ctx->in[bad];
        char have[OC_SHAPE_STR_MAX];
        if (bad == FOLD_W)
            return oc_node_error(ctx->node, ONNXC_ERR_MODEL,
                                 "folded into the preceding Conv: its input W must be a float32 "
                                 "tensor of rank >= 1");
        return oc_node_error(ctx->node, ONNXC_ERR_MODEL,
                             "folded into the preceding Conv: input %s is %s %s; it must be "
                             "float32 [%lld] (one value per output channel)",
                             fold_input_names[bad], t ? onnxc_dtype_name(t->dtype) : "missing",
                             t ? oc_shape_str(t->dims, t->rank, have, sizeof have) : "",
                             (long long)channels);
    }
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], ctx->in[FOLD_W]);
    if (ctx->out[1]) {
        oc_tensor_copy_type(ctx->out[1], ctx->in[FOLD_SCALE]);
    }
    return NULL;
}

static void fold_compute(float epsilon, const oc_tensor *const *in, float *w_out, float *b_out)
{
    const oc_tensor *w = in[FOLD_W];
    int64_t channels = w->dims[0];
    size_t per_channel = channels > 0 ? w->count / (size_t)channels : 0;
    const float *wv = w->data, *bv = in[FOLD_B] ? in[FOLD_B]->data : NULL;
    const float *scale = in[FOLD_SCALE]->data, *bias = in[FOLD_BIAS]->data;
    const float *mean = in[FOLD_MEAN]->data, *var = in[FOLD_VAR]->data;
    for (int64_t c = 0; c < channels; c++) {
        /* As BatchNormalization computes it: var + epsilon in double. */
        double s = (double)scale[c] / sqrt((double)var[c] + epsilon);
        const float *src = wv + (size_t)c * per_channel;
        float *dst = w_out + (size_t)c * per_channel;
        for (size_t i = 0; i < per_channel; i++) dst[i] = (float)(src[i] * s);
        double b = bv ? bv[c] : 0.0;
        b_out[c] = (float)((b - mean[c]) * s + bias[c]);
    }
}

static onnxc_status *fold_run(oc_run_ctx *ctx)
{
    const fold_params *p = ctx->params;
    if (!ctx->out[0] || !ctx->out[1]) return NULL; /* never: both are always wired */
    fold_compute(p->epsilon, ctx->in, ctx->out[0]->data, ctx->out[1]->data);
    return NULL;
}

static const oc_op fold_batchnorm_op = {
    .domain = "onnxc",
    .type = "BatchNormalization folded into Conv",
    .since = 1,
    .until = OC_MAX_OPSET,
    .min_inputs = FOLD_INPUTS,
    .max_inputs = FOLD_INPUTS,
    .min_outputs = 2,
    .max_outputs = 2,
    .infer = fold_infer,
    .run = fold_run,
};

/* ---- uses: who reads each value ------------------------------------------ */

/* One input slot of a needed node; doubly linked per value. */
typedef struct use {
    int node, slot, prev, next;
} use;

typedef struct opt {
    onnxc_model *m;
    use *uses;
    size_t n_uses, cap_uses;
    int *first_use; /* per node: the use of input slot 0 (slot i at first_use + i), or -1 */
    int *head;      /* per value: first use, or -1 */
    int *count;     /* per value: reads by needed nodes */
    bool *fixed;    /* per value: a constant no binding can change */
    int cap_values; /* room in m->values (and the arrays above) */
} opt;

static void link_use(opt *o, int u, int v)
{
    use *x = &o->uses[u];
    x->prev = -1;
    x->next = o->head[v];
    if (x->next >= 0) o->uses[x->next].prev = u;
    o->head[v] = u;
    o->count[v]++;
}

static void unlink_use(opt *o, int u, int v)
{
    use *x = &o->uses[u];
    if (x->prev >= 0)
        o->uses[x->prev].next = x->next;
    else
        o->head[v] = x->next;
    if (x->next >= 0) o->uses[x->next].prev = x->prev;
    o->count[v]--;
}

/* Records the reads of node n's current inputs. */
static onnxc_status *attach_node(opt *o, int n)
{
    const oc_node *node = &o->m->nodes[n];
    size_t need = o->n_uses + (size_t)node->n_inputs;
    if (need > INT32_MAX) return oc_error(ONNXC_ERR_LIMIT, "too many node inputs");
    if (need > o->cap_uses) {
        size_t cap = o->cap_uses ? o->cap_uses * 2 : 64;
        while (cap < need) cap *= 2;
        use *grown = realloc(o->uses, cap * sizeof *grown);
        if (!grown) return oc_no_memory();
        o->uses = grown;
        o->cap_uses = cap;
    }
    int base = (int)o->n_uses;
    o->first_use[n] = base;
    o->n_uses = need;
    for (int i = 0; i < node->n_inputs; i++) {
        o->uses[base + i] = (use){n, i, -1, -1};
        if (node->inputs[i] >= 0) link_use(o, base + i, node->inputs[i]);
    }
    return NULL;
}

/* Forgets the reads of node n (before its inputs change, or it goes). */
static void detach_node(opt *o, int n)
{
    const oc_node *node = &o->m->nodes[n];
    if (o->first_use[n] < 0) return;
    for (int i = 0; i < node->n_inputs; i++)
        if (node->inputs[i] >= 0) unlink_use(o, o->first_use[n] + i, node->inputs[i]);
    o->first_use[n] = -1;
}

/* Every read of value from becomes a read of value to. */
static void move_uses(opt *o, int from, int to)
{
    onnxc_model *m = o->m;
    while (o->head[from] >= 0) {
        int u = o->head[from];
        oc_node *node = &m->nodes[o->uses[u].node];
        int slot = o->uses[u].slot;
        unlink_use(o, u, from);
        node->inputs[slot] = to;
        node->input_names[slot] = m->values[to].name;
        link_use(o, u, to);
    }
}

/* ---- helpers ------------------------------------------------------------- */

static bool is_op(const oc_node *n, const char *type)
{
    return n->op && (n->domain[0] == 0 || strcmp(n->domain, "ai.onnx") == 0) &&
           strcmp(n->op_type, type) == 0;
}

/* Node n runs and no rewrite has claimed it yet. */
static bool live(const opt *o, int n)
{
    return n >= 0 && !o->m->folded[n] && o->m->nodes[n].fate == OC_NODE_KEPT;
}

/* Takes node n out of the graph: its reads are forgotten and the values it
 * wrote lose their producer (the caller may hand them to another node). */
static void remove_node(opt *o, int n)
{
    oc_node *node = &o->m->nodes[n];
    detach_node(o, n);
    node->fate = OC_NODE_REMOVED;
    for (int i = 0; i < node->n_outputs; i++) {
        int v = node->outputs[i];
        if (v >= 0 && o->m->values[v].producer == n) o->m->values[v].producer = -1;
    }
}

/* The value a node writes into output 0 of producer p is now value v:
 * p writes v, the old value loses its producer. */
static void hand_output(opt *o, int p, int slot, int v)
{
    onnxc_model *m = o->m;
    oc_node *node = &m->nodes[p];
    int old = node->outputs[slot];
    if (old >= 0 && m->values[old].producer == p) m->values[old].producer = -1;
    node->outputs[slot] = v;
    node->output_names[slot] = m->values[v].name;
    m->values[v].producer = p;
}

/* The producer of value v when it is the only reader's input worth fusing:
 * a running node's output, read once (by the candidate), not a graph output. */
static int sole_producer(const opt *o, int v)
{
    const oc_value *val = &o->m->values[v];
    if (val->is_output || val->kind != OC_VALUE_NODE || o->count[v] != 1) return -1;
    return live(o, val->producer) ? val->producer : -1;
}

static bool single_element(const oc_tensor *t)
{
    for (int d = 0; d < t->rank; d++)
        if (t->dims[d] != 1) return false;
    return true;
}

static bool is_floating(onnxc_dtype t)
{
    return t == ONNXC_DTYPE_FLOAT || t == ONNXC_DTYPE_DOUBLE || t == ONNXC_DTYPE_FLOAT16;
}

/* ---- Identity and Dropout ------------------------------------------------ */

/* Dropout that is a copy whatever is bound, with an unread mask, and that
 * its own checks would accept (data of a known floating type, scalar ratio). */
static bool dropout_is_copy(const opt *o, const oc_node *n)
{
    const onnxc_model *m = o->m;
    const oc_value *data = &m->values[n->inputs[0]];
    if (!data->shape_known || !is_floating(data->info.dtype)) return false;
    int ratio = n->n_inputs > 1 ? n->inputs[1] : -1;
    int training = n->n_inputs > 2 ? n->inputs[2] : -1;
    if (n->opset < 12 && (ratio >= 0 || training >= 0)) return false; /* an error to keep */
    if (ratio >= 0) {
        const oc_value *r = &m->values[ratio];
        if (!r->shape_known || !is_floating(r->info.dtype) || !single_element(&r->info))
            return false;
    }
    if (training >= 0) {
        const oc_tensor *t = m->values[training].constant;
        if (!o->fixed[training] || !t || t->dtype != ONNXC_DTYPE_BOOL || !single_element(t) ||
            t->count != 1 || *(const unsigned char *)t->data)
            return false;
    }
    int mask = n->n_outputs > 1 ? n->outputs[1] : -1;
    return mask < 0 || (o->count[mask] == 0 && !m->values[mask].is_output);
}

/* An ints attribute, when absent or every entry equals v. */
static bool ints_all(const oc_node *n, const char *name, int64_t v)
{
    const oc_attr *a = oc_attr_find(n, name);
    if (!a) return true;
    if (a->type != OC_ATTR_INTS) return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->ints[i] != v) return false;
    return true;
}

/* A MaxPool or AveragePool whose windows are single elements (kernel 1,
 * stride 1, no padding or dilation; AdaptiveAvgPool2d exported on an input
 * already of its output size): a copy, which inference found well-formed
 * (input and output of one float type and shape), with no Indices read. */
static bool pool_is_copy(const opt *o, const oc_node *n)
{
    const onnxc_model *m = o->m;
    bool max = is_op(n, "MaxPool");
    if (!max && !is_op(n, "AveragePool")) return false;
    if (n->n_inputs < 1 || n->inputs[0] < 0 || n->n_outputs < 1 || n->outputs[0] < 0)
        return false;
    if (n->n_outputs > 1 && n->outputs[1] >= 0 &&
        (o->count[n->outputs[1]] != 0 || m->values[n->outputs[1]].is_output))
        return false;
    const oc_attr *kernel = oc_attr_find(n, "kernel_shape"), *pad = oc_attr_find(n, "auto_pad");
    if (!kernel || kernel->type != OC_ATTR_INTS || kernel->n == 0 || !ints_all(n, "kernel_shape", 1) ||
        !ints_all(n, "strides", 1) || !ints_all(n, "pads", 0) || !ints_all(n, "dilations", 1))
        return false;
    if (pad && (pad->type != OC_ATTR_STRING || strcmp(pad->s, "NOTSET") != 0)) return false;
    const oc_value *x = &m->values[n->inputs[0]], *y = &m->values[n->outputs[0]];
    if (!x->shape_known || !y->shape_known || !is_floating(x->info.dtype) ||
        y->info.dtype != x->info.dtype || x->info.rank != (int)kernel->n + 2 ||
        y->info.rank != x->info.rank)
        return false;
    return memcmp(x->info.dims, y->info.dims, (size_t)x->info.rank * sizeof *x->info.dims) == 0;
}

/* Readers of the node's output read its input instead. When the output is a
 * graph output (its name must survive), the input's producer writes it
 * instead; when the input is itself a graph input, initializer or graph
 * output, the node stays (a copy). */
static bool bypass(opt *o, int n)
{
    onnxc_model *m = o->m;
    oc_node *node = &m->nodes[n];
    int x = node->inputs[0], y = node->outputs[0];
    if (x < 0 || y < 0) return false;
    if (!m->values[y].is_output) {
        remove_node(o, n);
        move_uses(o, y, x);
        return true;
    }
    const oc_value *xv = &m->values[x];
    int p = xv->producer;
    if (xv->is_output || xv->kind != OC_VALUE_NODE || !live(o, p)) return false;
    int slot = -1;
    for (int i = 0; i < m->nodes[p].n_outputs && slot < 0; i++)
        if (m->nodes[p].outputs[i] == x) slot = i;
    if (slot < 0) return false;
    remove_node(o, n);
    hand_output(o, p, slot, y);
    move_uses(o, x, y);
    return true;
}

/* ---- BatchNormalization into Conv ---------------------------------------- */

static onnxc_status *grow_values(opt *o, int extra)
{
    onnxc_model *m = o->m;
    size_t cap = (size_t)m->n_values + (size_t)extra;
    if (cap > INT32_MAX / 2) return oc_error(ONNXC_ERR_LIMIT, "too many values in the graph");
    oc_value *values = oc_arena_array(&m->arena, cap + 1, sizeof *values);
    int *head = realloc(o->head, (cap + 1) * sizeof *head);
    if (head) o->head = head;
    int *count = realloc(o->count, (cap + 1) * sizeof *count);
    if (count) o->count = count;
    bool *fixed = realloc(o->fixed, (cap + 1) * sizeof *fixed);
    if (fixed) o->fixed = fixed;
    if (!values || !head || !count || !fixed) return oc_no_memory();
    memcpy(values, m->values, (size_t)m->n_values * sizeof *values);
    m->values = values;
    o->cap_values = (int)cap;
    return NULL;
}

/* A new value computed at load by node producer (a constant), shaped like
 * like with dims; its data is allocated and owned by the model. */
static onnxc_status *new_constant(opt *o, const char *base, const char *suffix, int producer,
                                  const oc_tensor *like, int *out)
{
    onnxc_model *m = o->m;
    if (m->n_values >= o->cap_values) return oc_error(ONNXC_ERR_INTERNAL, "no room for a value");
    size_t len = strlen(base) + strlen(suffix) + 1;
    char *name = oc_arena_alloc(&m->arena, len);
    oc_tensor *t = oc_arena_alloc(&m->arena, sizeof *t);
    if (!name || !t) return oc_no_memory();
    snprintf(name, len, "%s%s", base, suffix);
    memset(t, 0, sizeof *t);
    oc_tensor_copy_type(t, like);
    OC_TRY(oc_tensor_set_sizes(t));
    t->data = oc_model_alloc(m, t->nbytes);
    if (!t->data) return oc_no_memory();
    int id = m->n_values++;
    oc_value *v = &m->values[id];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->kind = OC_VALUE_NODE;
    v->producer = producer;
    v->input_index = -1;
    v->constant = t;
    v->shape_known = true;
    v->info = *t;
    o->head[id] = -1;
    o->count[id] = 0;
    o->fixed[id] = false; /* recomputed when a session overrides what it came from */
    *out = id;
    return NULL;
}

static const oc_tensor *constant_of(const onnxc_model *m, int v)
{
    return v >= 0 ? m->values[v].constant : NULL;
}

/* Folds BatchNormalization node n into the Conv that produces its input,
 * when that is an inference BatchNormalization (spatial, no training) with
 * constant parameters that fit the Conv's output channels, and the Conv's
 * output is read by it alone. */
static onnxc_status *fold_batchnorm(opt *o, int n, bool *done)
{
    onnxc_model *m = o->m;
    oc_node *bn = &m->nodes[n];
    *done = false;
    if (bn->n_inputs < 5 || bn->inputs[0] < 0 || bn->n_outputs < 1 || bn->outputs[0] < 0)
        return NULL;
    for (int i = 1; i < bn->n_outputs; i++)
        if (bn->outputs[i] >= 0) return NULL; /* training outputs (or their error) */
    int64_t spatial = 1, training = 0;
    float epsilon = 1e-5f;
    onnxc_status *st = oc_attr_int(bn, "spatial", 1, &spatial);
    if (!st) st = oc_attr_int(bn, "training_mode", 0, &training);
    if (!st) st = oc_attr_float(bn, "epsilon", 1e-5f, &epsilon);
    if (st) { /* prepare has checked them: never */
        onnxc_status_free(st);
        return NULL;
    }
    if (spatial != 1 || training != 0) return NULL;

    int x = bn->inputs[0];
    int p = sole_producer(o, x);
    if (p < 0) return NULL;
    oc_node *conv = &m->nodes[p];
    if (!is_op(conv, "Conv") || conv->fused.kind != OC_ACT_NONE || conv->outputs[0] != x)
        return NULL;
    int w = conv->inputs[1], b = conv->n_inputs > 2 ? conv->inputs[2] : -1;
    int ids[FOLD_INPUTS] = {w, b, bn->inputs[1], bn->inputs[2], bn->inputs[3], bn->inputs[4]};
    const oc_tensor *in[FOLD_INPUTS];
    for (int i = 0; i < FOLD_INPUTS; i++) {
        in[i] = constant_of(m, ids[i]);
        if (!in[i] && (i != FOLD_B || ids[i] >= 0)) return NULL; /* not constant */
    }
    int64_t channels;
    if (fold_mismatch(in, &channels) >= 0 || in[FOLD_W]->rank < 3) return NULL;

    /* The new weight and bias, computed now; the node computes them again in
     * a session that overrides one of its inputs. */
    int y = bn->outputs[0];
    const char *base = m->values[y].name;
    int w2, b2;
    oc_tensor bias_like = *in[FOLD_SCALE];
    OC_TRY(new_constant(o, base, " (folded Conv weight)", n, in[FOLD_W], &w2));
    OC_TRY(new_constant(o, base, " (folded Conv bias)", n, &bias_like, &b2));
    fold_params *params = oc_arena_alloc(&m->arena, sizeof *params);
    int *inputs = oc_arena_array(&m->arena, FOLD_INPUTS, sizeof *inputs);
    const char **input_names = oc_arena_array(&m->arena, FOLD_INPUTS, sizeof *input_names);
    int *outputs = oc_arena_array(&m->arena, 2, sizeof *outputs);
    const char **output_names = oc_arena_array(&m->arena, 2, sizeof *output_names);
    int *conv_inputs =
        conv->n_inputs >= 3 ? conv->inputs : oc_arena_array(&m->arena, 3, sizeof *conv_inputs);
    const char **conv_names =
        conv->n_inputs >= 3 ? conv->input_names : oc_arena_array(&m->arena, 3, sizeof *conv_names);
    if (!params || !inputs || !input_names || !outputs || !output_names || !conv_inputs ||
        !conv_names)
        return oc_no_memory();
    fold_compute(epsilon, in, m->values[w2].constant->data, m->values[b2].constant->data);
    params->epsilon = epsilon;

    /* The BatchNormalization node becomes the folded node computing them. */
    detach_node(o, n);
    for (int i = 0; i < FOLD_INPUTS; i++) {
        inputs[i] = ids[i];
        input_names[i] = ids[i] >= 0 ? m->values[ids[i]].name : "";
    }
    outputs[0] = w2;
    outputs[1] = b2;
    output_names[0] = m->values[w2].name;
    output_names[1] = m->values[b2].name;
    bn->n_inputs = FOLD_INPUTS;
    bn->inputs = inputs;
    bn->input_names = input_names;
    bn->n_outputs = 2;
    bn->outputs = outputs;
    bn->output_names = output_names;
    bn->op = &fold_batchnorm_op;
    bn->params = params;
    bn->fate = OC_NODE_FOLDED_INTO;
    m->folded[n] = true;
    OC_TRY(attach_node(o, n));

    /* The Conv reads them and writes the BatchNormalization's output. */
    detach_node(o, p);
    if (conv_inputs != conv->inputs) {
        for (int i = 0; i < conv->n_inputs; i++) {
            conv_inputs[i] = conv->inputs[i];
            conv_names[i] = conv->input_names[i];
        }
        conv->n_inputs = 3;
        conv->inputs = conv_inputs;
        conv->input_names = conv_names;
    }
    conv->inputs[1] = w2;
    conv->input_names[1] = m->values[w2].name;
    conv->inputs[2] = b2;
    conv->input_names[2] = m->values[b2].name;
    hand_output(o, p, 0, y);
    OC_TRY(attach_node(o, p));
    *done = true;
    return NULL;
}

/* ---- Add into Conv ---------------------------------------------------------- */

/* Add(c, r) with c the output of a Conv that only this Add reads and r a
 * float32 tensor of the same (known) shape, as a residual connection adds
 * a block's input to its last convolution: the Conv reads r as an extra
 * input (OC_CONV_SUM_INPUT) and adds it to its output before the
 * activation, which a following Relu then fuses into. */
static onnxc_status *fuse_add(opt *o, int n, bool *done)
{
    onnxc_model *m = o->m;
    oc_node *add = &m->nodes[n];
    *done = false;
    /* Before opset 7 'broadcast' decides the shapes: left as it is. */
    if (add->n_inputs != 2 || add->n_outputs != 1 || add->outputs[0] < 0 ||
        (add->opset < 7 && oc_attr_find(add, "broadcast")))
        return NULL;
    for (int side = 0; side < 2; side++) {
        int c = add->inputs[side], r = add->inputs[1 - side];
        if (c < 0 || r < 0 || c == r) continue;
        int p = sole_producer(o, c);
        if (p < 0) continue;
        oc_node *conv = &m->nodes[p];
        if (!is_op(conv, "Conv") || conv->fused.kind != OC_ACT_NONE || conv->outputs[0] != c ||
            conv->n_inputs > OC_CONV_SUM_INPUT)
            continue;
        const oc_value *cv = &m->values[c], *rv = &m->values[r];
        if (!cv->shape_known || !rv->shape_known || cv->info.dtype != ONNXC_DTYPE_FLOAT ||
            !oc_tensor_same_shape(&cv->info, &rv->info))
            continue;
        int *inputs = oc_arena_array(&m->arena, OC_CONV_SUM_INPUT + 1, sizeof *inputs);
        const char **names = oc_arena_array(&m->arena, OC_CONV_SUM_INPUT + 1, sizeof *names);
        if (!inputs || !names) return oc_no_memory();
        for (int i = 0; i < OC_CONV_SUM_INPUT; i++) {
            inputs[i] = i < conv->n_inputs ? conv->inputs[i] : -1;
            names[i] = i < conv->n_inputs ? conv->input_names[i] : "";
        }
        inputs[OC_CONV_SUM_INPUT] = r;
        names[OC_CONV_SUM_INPUT] = rv->name;
        int y = add->outputs[0];
        remove_node(o, n);
        detach_node(o, p);
        conv->n_inputs = OC_CONV_SUM_INPUT + 1;
        conv->inputs = inputs;
        conv->input_names = names;
        hand_output(o, p, 0, y);
        OC_TRY(attach_node(o, p));
        m->optimized.add_into_conv++;
        *done = true;
        return NULL;
    }
    return NULL;
}

/* ---- Relu and Clip into Conv and Gemm -------------------------------------- */

/* A bound of Clip from opset 11 (an input): absent, or a fixed float32 scalar. */
static bool clip_input_bound(const opt *o, const oc_node *n, int i, float none, float *out)
{
    int v = n->n_inputs > i ? n->inputs[i] : -1;
    if (v < 0) {
        *out = none;
        return true;
    }
    const oc_tensor *t = o->m->values[v].constant;
    if (!o->fixed[v] || !t || t->dtype != ONNXC_DTYPE_FLOAT || t->count != 1) return false;
    *out = *(const float *)t->data;
    return true;
}

/* A bound of Clip before opset 11 (an attribute): as the op reads it, an
 * absent one being no bound before opset 6 and +-FLT_MAX from 6. */
static bool clip_attr_bound(const oc_node *n, const char *name, float def, float none, float *out)
{
    bool has = oc_attr_find(n, name) != NULL || n->opset >= 6;
    float value;
    onnxc_status *st = oc_attr_float(n, name, def, &value);
    if (st) {
        onnxc_status_free(st);
        return false;
    }
    *out = has ? value : none;
    return true;
}

/* The activation node n applies, when it is one that can be fused. */
static bool activation_of(const opt *o, const oc_node *n, oc_activation *act)
{
    if (is_op(n, "Relu")) {
        *act = (oc_activation){OC_ACT_RELU, 0.0f, INFINITY};
        return true;
    }
    if (!is_op(n, "Clip")) return false;
    act->kind = OC_ACT_CLIP;
    if (n->opset >= 11)
        return clip_input_bound(o, n, 1, -INFINITY, &act->min) &&
               clip_input_bound(o, n, 2, INFINITY, &act->max);
    return clip_attr_bound(n, "min", -FLT_MAX, -INFINITY, &act->min) &&
           clip_attr_bound(n, "max", FLT_MAX, INFINITY, &act->max);
}

static bool fuse_activation(opt *o, int n)
{
    onnxc_model *m = o->m;
    oc_node *node = &m->nodes[n];
    oc_activation act;
    if (!activation_of(o, node, &act)) return false;
    int x = node->inputs[0], r = node->outputs[0];
    if (x < 0 || r < 0) return false;
    int p = sole_producer(o, x);
    if (p < 0) return false;
    oc_node *producer = &m->nodes[p];
    bool conv = is_op(producer, "Conv");
    if ((!conv && !is_op(producer, "Gemm")) || producer->fused.kind != OC_ACT_NONE ||
        producer->outputs[0] != x)
        return false;
    remove_node(o, n);
    producer->fused = act;
    hand_output(o, p, 0, r);
    oc_opt_stats *s = &m->optimized;
    if (act.kind == OC_ACT_RELU)
        (*(conv ? &s->relu_into_conv : &s->relu_into_gemm))++;
    else
        (*(conv ? &s->clip_into_conv : &s->clip_into_gemm))++;
    return true;
}

/* ---- MaxPool into Conv ---------------------------------------------------- */

/* MaxPool(c), c the output of a Conv that only it reads, where the direct
 * method computes the Conv and its kernel takes the pool's windows
 * (oc_conv_takes_pool: a network's stem, 7x7/2 then 3x3/2): the Conv pools
 * its output rows while they are in its cache and writes the pooled tensor
 * (conv->pool), which its run computes as the two nodes would. Not with an
 * Add fused in, nor with the Indices output read. */
static bool fuse_maxpool(opt *o, int n)
{
    onnxc_model *m = o->m;
    oc_node *pool = &m->nodes[n];
    if (pool->n_inputs != 1 || pool->inputs[0] < 0 || pool->n_outputs < 1 ||
        pool->outputs[0] < 0 || !pool->params)
        return false;
    int indices = pool->n_outputs > 1 ? pool->outputs[1] : -1;
    if (indices >= 0 && (o->count[indices] != 0 || m->values[indices].is_output)) return false;
    int c = pool->inputs[0], p = sole_producer(o, c);
    if (p < 0) return false;
    oc_node *conv = &m->nodes[p];
    if (!is_op(conv, "Conv") || conv->pool || conv->outputs[0] != c || conv->n_inputs < 2 ||
        conv->n_inputs > 3 || conv->inputs[0] < 0 || conv->inputs[1] < 0)
        return false;
    const oc_value *x = &m->values[conv->inputs[0]], *w = &m->values[conv->inputs[1]];
    const oc_value *b = conv->n_inputs > 2 && conv->inputs[2] >= 0 ? &m->values[conv->inputs[2]]
                                                                   : NULL;
    const oc_value *cv = &m->values[c], *yv = &m->values[pool->outputs[0]];
    if (!x->shape_known || !w->shape_known || !w->constant || (b && !b->shape_known) ||
        !cv->shape_known || cv->info.dtype != ONNXC_DTYPE_FLOAT || !yv->shape_known)
        return false;
    if (!oc_conv_takes_pool(conv, &x->info, &w->info, b ? &b->info : NULL, pool)) return false;
    remove_node(o, n);
    conv->pool = pool;
    conv->pool_input_count = (uint64_t)cv->info.count;
    hand_output(o, p, 0, pool->outputs[0]);
    m->optimized.maxpool_into_conv++;
    return true;
}

/* ---- the driver ------------------------------------------------------------ */

static onnxc_status *init_opt(opt *o, onnxc_model *m)
{
    memset(o, 0, sizeof *o);
    o->m = m;
    size_t nv = (size_t)m->n_values + 1, nn = (size_t)m->n_nodes + 1;
    o->head = malloc(nv * sizeof *o->head);
    o->count = calloc(nv, sizeof *o->count);
    o->fixed = calloc(nv, sizeof *o->fixed);
    o->first_use = malloc(nn * sizeof *o->first_use);
    if (!o->head || !o->count || !o->fixed || !o->first_use) return oc_no_memory();
    o->cap_values = m->n_values;
    for (int i = 0; i < m->n_values; i++) {
        o->head[i] = -1;
        const oc_value *v = &m->values[i];
        o->fixed[i] = v->kind == OC_VALUE_INITIALIZER && !v->overridable;
    }
    for (int n = 0; n < m->n_nodes; n++) o->first_use[n] = -1;
    for (int k = 0; k < m->n_order; k++) {
        int n = m->order[k];
        OC_TRY(attach_node(o, n));
        if (!m->folded[n]) continue;
        /* A folded value is fixed when everything it was computed from is. */
        const oc_node *node = &m->nodes[n];
        bool all = true;
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] >= 0 && !o->fixed[node->inputs[i]]) all = false;
        for (int i = 0; i < node->n_outputs; i++)
            if (node->outputs[i] >= 0)
                o->fixed[node->outputs[i]] = all && m->values[node->outputs[i]].constant;
    }
    return NULL;
}

static void free_opt(opt *o)
{
    free(o->uses);
    free(o->first_use);
    free(o->head);
    free(o->count);
    free(o->fixed);
}

static onnxc_status *run_passes(opt *o, bool *changed)
{
    onnxc_model *m = o->m;
    oc_opt_stats *s = &m->optimized;
    int batchnorms = 0;
    for (int k = 0; k < m->n_order; k++) {
        int n = m->order[k];
        oc_node *node = &m->nodes[n];
        if (!live(o, n)) continue;
        if (is_op(node, "BatchNormalization")) batchnorms++;
        bool identity = is_op(node, "Identity");
        if ((identity || (is_op(node, "Dropout") && dropout_is_copy(o, node))) && bypass(o, n)) {
            (*(identity ? &s->identity_removed : &s->dropout_removed))++;
            *changed = true;
        } else if (pool_is_copy(o, node) && bypass(o, n)) {
            s->pool_removed++;
            *changed = true;
        }
    }
    if (batchnorms > 0) {
        if (batchnorms > INT32_MAX / 4) return oc_error(ONNXC_ERR_LIMIT, "too many nodes");
        OC_TRY(grow_values(o, 2 * batchnorms));
        for (int k = 0; k < m->n_order; k++) {
            int n = m->order[k];
            if (!live(o, n) || !is_op(&m->nodes[n], "BatchNormalization")) continue;
            bool done;
            OC_TRY(fold_batchnorm(o, n, &done));
            if (done) {
                s->bn_into_conv++;
                *changed = true;
            }
        }
    }
    /* Before the activations, which then fuse after the sum. */
    for (int k = 0; k < m->n_order; k++) {
        int n = m->order[k];
        if (!live(o, n) || !is_op(&m->nodes[n], "Add")) continue;
        bool done;
        OC_TRY(fuse_add(o, n, &done));
        if (done) *changed = true;
    }
    for (int k = 0; k < m->n_order; k++) {
        int n = m->order[k];
        if (live(o, n) && fuse_activation(o, n)) *changed = true;
    }
    /* After the activations: the pool reads the activated output. */
    for (int k = 0; k < m->n_order; k++) {
        int n = m->order[k];
        if (live(o, n) && is_op(&m->nodes[n], "MaxPool") && fuse_maxpool(o, n)) *changed = true;
    }
    return NULL;
}

onnxc_status *oc_optimize(onnxc_model *m)
{
    oc_opt_stats *s = &m->optimized;
    memset(s, 0, sizeof *s);
    s->enabled = true;
    for (int k = 0; k < m->n_order; k++) s->nodes_before += !m->folded[m->order[k]];
    opt o;
    bool changed = false;
    onnxc_status *st = init_opt(&o, m);
    if (!st) st = run_passes(&o, &changed);
    free_opt(&o);
    if (!st && changed) st = oc_graph_reorder(m);
    return st;
}
