/* Conv (ai.onnx opsets 1-26; the attributes have not changed since opset 1):
 * Y = X (*) W + B over 1 to 3 spatial dimensions, grouped, float32. */
#include <inttypes.h>
#include <string.h>

#include "kernels/conv.h"
#include "kernels/pool.h"
#include "window.h"

typedef struct conv_params {
    oc_window_attrs window;
    int64_t group;
    oc_conv_weights weights; /* prepared at load by the pack hook (source NULL: none) */
} conv_params;

static const char *const conv_attr_names[] = {"auto_pad", "dilations", "group",
                                              "kernel_shape", "pads", "strides"};

onnxc_status *oc_conv_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    OC_TRY(
        oc_check_attr_names(n, conv_attr_names, sizeof conv_attr_names / sizeof *conv_attr_names));
    conv_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_window_parse(n, &p->window));
    OC_TRY(oc_attr_int(n, "group", 1, &p->group));
    memset(&p->weights, 0, sizeof p->weights);
    if (p->group < 1)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "attribute 'group' is %" PRId64 "; it must be >= 1", p->group);
    *params = p;
    return NULL;
}

/* The products the kernel indexes with must fit in int64. An empty X or W
 * (a 0 batch or channel dim) has no element count to bound them, so huge
 * spatial or kernel dims could overflow them: that is an error, not a
 * wrapped size. */
static onnxc_status *check_extents(const oc_node *n, const oc_conv_geom *g)
{
    int64_t in_plane = 1, out_plane = 1, taps = 1, depth;
    for (int i = 0; i < OC_WINDOW_DIMS; i++) {
        if (!oc_mul_i64(in_plane, g->dim[i].in, &in_plane))
            return oc_node_error(n, ONNXC_ERR_LIMIT,
                                 "input X has more than 2^63 elements per channel");
        if (!oc_mul_i64(taps, g->dim[i].kernel, &taps))
            return oc_node_error(n, ONNXC_ERR_LIMIT,
                                 "input W has more than 2^63 kernel taps per channel");
        if (!oc_mul_i64(out_plane, g->dim[i].out, &out_plane))
            return oc_node_error(n, ONNXC_ERR_LIMIT,
                                 "output Y would have more than 2^63 elements per channel");
    }
    if (!oc_mul_i64(g->in_channels / g->group, taps, &depth))
        return oc_node_error(n, ONNXC_ERR_LIMIT,
                             "input W has more than 2^63 weights per output channel");
    return NULL;
}

/* Checks X, W and B against each other and the attributes, and describes the
 * convolution for the kernel. Infer and run share it, so they agree. */
static onnxc_status *conv_geometry(const oc_node *n, const conv_params *p, const oc_tensor *x,
                                   const oc_tensor *w, const oc_tensor *b, oc_conv_geom *g)
{
    OC_TRY(oc_check_dtype(n, "input X", x, ONNXC_DTYPE_FLOAT, 0));
    OC_TRY(oc_check_dtype(n, "input W", w, ONNXC_DTYPE_FLOAT, 0));
    if (b) OC_TRY(oc_check_dtype(n, "input B", b, ONNXC_DTYPE_FLOAT, 0));
    if (x->rank < 3)
        return oc_node_error(
            n, ONNXC_ERR_MODEL,
            "input X has rank %d; Conv needs (batch, channels, spatial...), rank >= 3", x->rank);
    int spatial = x->rank - 2;
    if (spatial > OC_WINDOW_DIMS)
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED,
                             "input X has %d spatial dimensions; at most %d are supported", spatial,
                             OC_WINDOW_DIMS);
    if (w->rank != x->rank)
        return oc_node_error(n, ONNXC_ERR_MODEL, "input W has rank %d; it must match X's rank %d",
                             w->rank, x->rank);
    const oc_window_attrs *a = &p->window;
    if (a->n_kernel != 0 && a->n_kernel != (size_t)spatial)
        return oc_node_error(
            n, ONNXC_ERR_MODEL,
            "attribute 'kernel_shape' has %zu entries; X has %d spatial dimensions", a->n_kernel,
            spatial);
    for (int i = 0; i < spatial; i++) {
        int64_t k = w->dims[2 + i];
        if (k < 1)
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "input W has kernel extent %" PRId64 " in spatial dimension %d", k,
                                 i);
        if (a->n_kernel && a->kernel[i] != k)
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "attribute 'kernel_shape' says %" PRId64
                                 " in spatial dimension %d but W has %" PRId64,
                                 a->kernel[i], i, k);
    }

    int64_t channels = x->dims[1], out_channels = w->dims[0];
    if (channels % p->group != 0)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "group %" PRId64 " does not divide the %" PRId64 " channels of X",
                             p->group, channels);
    if (out_channels % p->group != 0)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "group %" PRId64 " does not divide the %" PRId64
                             " output channels of W",
                             p->group, out_channels);
    if (w->dims[1] != channels / p->group)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "W has %" PRId64 " input channels per group; X has %" PRId64
                             " channels in %" PRId64 " groups, so it needs %" PRId64,
                             w->dims[1], channels, p->group, channels / p->group);
    if (b && (b->rank != 1 || b->dims[0] != out_channels))
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "input B must have shape [%" PRId64 "] (one bias per output channel)",
                             out_channels);

    g->batch = x->dims[0];
    g->in_channels = channels;
    g->out_channels = out_channels;
    g->group = p->group;
    OC_TRY(oc_window_resolve(n, a, spatial, x->dims + 2, w->dims + 2, g->dim));
    return check_extents(n, g);
}

static const oc_tensor *optional_input(const oc_tensor *const *in, int n_inputs, int i)
{
    return i < n_inputs ? in[i] : NULL;
}

/* Y's shape for geometry g (rank: X's). */
static void conv_output_shape(const oc_conv_geom *g, int rank, oc_tensor *y)
{
    y->dtype = ONNXC_DTYPE_FLOAT;
    y->rank = rank;
    y->dims[0] = g->batch;
    y->dims[1] = g->out_channels;
    for (int i = 2; i < rank; i++) y->dims[i] = g->dim[OC_WINDOW_DIMS - rank + i].out;
}

/* The pooling of MaxPool node pool over the output of a conv of geometry g. */
static onnxc_status *pool_after_geometry(const oc_node *pool, const oc_conv_geom *g, int rank,
                                         oc_pool_geom *pg)
{
    oc_tensor y;
    memset(&y, 0, sizeof y);
    conv_output_shape(g, rank, &y);
    return oc_maxpool_geometry(pool, &y, pg);
}

bool oc_conv_takes_pool(const oc_node *conv, const oc_tensor *x, const oc_tensor *w,
                        const oc_tensor *b, const oc_node *pool)
{
    oc_conv_geom g;
    oc_pool_geom pg;
    if (!conv->params || !pool->params || x->rank != 4) return false;
    onnxc_status *st = conv_geometry(conv, conv->params, x, w, b, &g);
    if (!st) st = pool_after_geometry(pool, &g, x->rank, &pg);
    if (st) { /* left to the nodes apart to report */
        onnxc_status_free(st);
        return false;
    }
    return oc_conv_chooses_direct(&g) && oc_conv_maxpool_fits(&g, &pg);
}

onnxc_status *oc_conv_infer(oc_infer_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0], *w = ctx->in[1];
    if (!x || !w) return oc_node_error(ctx->node, ONNXC_ERR_MODEL, "inputs X and W are required");
    oc_conv_geom g;
    OC_TRY(
        conv_geometry(ctx->node, ctx->params, x, w, optional_input(ctx->in, ctx->n_inputs, 2), &g));
    oc_tensor *y = ctx->out[0];
    if (!y) return NULL; /* nobody reads Y: nothing to compute */
    conv_output_shape(&g, x->rank, y);
    const oc_tensor *sum = optional_input(ctx->in, ctx->n_inputs, OC_CONV_SUM_INPUT);
    if (sum && (sum->dtype != ONNXC_DTYPE_FLOAT || sum->rank != y->rank ||
                memcmp(sum->dims, y->dims, (size_t)y->rank * sizeof *y->dims) != 0)) {
        char a[OC_SHAPE_STR_MAX], b[OC_SHAPE_STR_MAX];
        return oc_node_error(ctx->node, ONNXC_ERR_MODEL,
                             "the Add fused into this Conv adds %s %s to its output %s: the shapes "
                             "must be equal",
                             onnxc_dtype_name(sum->dtype), oc_shape_str(sum->dims, sum->rank, a, sizeof a),
                             oc_shape_str(y->dims, y->rank, b, sizeof b));
    }
    const conv_params *p = ctx->params;
    const oc_conv_weights *pw = p->weights.source ? &p->weights : NULL;
    bool sized;
    if (ctx->node->pool) {
        if (sum)
            return oc_node_error(ctx->node, ONNXC_ERR_INTERNAL,
                                 "a MaxPool and an Add are both fused into this Conv");
        oc_pool_geom pg;
        OC_TRY(pool_after_geometry(ctx->node->pool, &g, x->rank, &pg));
        for (int i = 2; i < x->rank; i++) y->dims[i] = pg.dim[OC_WINDOW_DIMS - x->rank + i].out;
        sized = oc_conv_maxpool_f32_workspace(&g, pw, &pg, ctx->threads, &ctx->workspace);
    } else {
        sized = oc_conv_f32_workspace(&g, pw, ctx->threads, &ctx->workspace);
    }
    if (!sized)
        return oc_node_error(ctx->node, ONNXC_ERR_LIMIT,
                             "the convolution's scratch size overflows");
    return NULL;
}

/* The fused activation as the kernel's clamp. */
static oc_conv_act conv_act(const oc_activation *a)
{
    oc_conv_act act = oc_conv_act_none();
    if (a->kind == OC_ACT_RELU) {
        act.lo = 0.0f;
    } else if (a->kind == OC_ACT_CLIP) {
        act.lo = a->min;
        act.hi = a->max;
    }
    return act;
}

onnxc_status *oc_conv_run(oc_run_ctx *ctx)
{
    const oc_tensor *b = optional_input(ctx->in, ctx->n_inputs, 2);
    if (!ctx->out[0]) return NULL;
    oc_conv_geom g;
    OC_TRY(conv_geometry(ctx->node, ctx->params, ctx->in[0], ctx->in[1], b, &g));
    if (ctx->out[0]->count == 0) return NULL; /* no work; X and W data may be NULL */
    const conv_params *p = ctx->params;
    /* The prepared weights serve only the W they were made from (a session
     * may bind an overridable initializer). */
    const oc_conv_weights *pw =
        p->weights.source && p->weights.source == ctx->in[1]->data ? &p->weights : NULL;
    const oc_tensor *sum = optional_input(ctx->in, ctx->n_inputs, OC_CONV_SUM_INPUT);
    if (ctx->node->pool) {
        oc_pool_geom pg;
        OC_TRY(pool_after_geometry(ctx->node->pool, &g, ctx->in[0]->rank, &pg));
        oc_conv_maxpool_f32(&g, pw, &pg, ctx->in[0]->data, ctx->in[1]->data, b ? b->data : NULL,
                            conv_act(&ctx->node->fused), ctx->out[0]->data, ctx->workspace,
                            ctx->workspace_size, ctx->pool);
        return NULL;
    }
    oc_conv_f32(&g, pw, ctx->in[0]->data, ctx->in[1]->data, b ? b->data : NULL,
                sum ? sum->data : NULL, conv_act(&ctx->node->fused), ctx->out[0]->data,
                ctx->workspace, ctx->workspace_size, ctx->pool);
    return NULL;
}

static void *pack_alloc(void *owner, size_t bytes)
{
    const oc_pack_ctx *ctx = owner;
    return ctx->alloc(ctx->owner, bytes);
}

/* At load, with W constant: the weights in the layout of the method the
 * geometry gets (Winograd-transformed, or packed for the GEMM). With X's
 * shape unknown (dynamic), a 1 x C x 32 x ... guess stands for it. */
onnxc_status *oc_conv_pack(oc_pack_ctx *ctx)
{
    conv_params *p = ctx->node->params;
    const oc_tensor *x = ctx->in[0], *w = ctx->n_inputs > 1 ? ctx->in[1] : NULL;
    const oc_tensor *b = ctx->n_inputs > 2 ? ctx->in[2] : NULL;
    if (!p || !w || !w->data || w->dtype != ONNXC_DTYPE_FLOAT || w->count == 0 || w->rank < 3)
        return NULL;
    oc_tensor xs;
    bool known = x && x->rank == w->rank;
    if (known) {
        xs = *x;
    } else {
        memset(&xs, 0, sizeof xs);
        xs.dtype = ONNXC_DTYPE_FLOAT;
        xs.rank = w->rank;
        xs.dims[0] = 1;
        if (!oc_mul_i64(w->dims[1], p->group, &xs.dims[1])) return NULL;
        for (int i = 2; i < w->rank; i++) {
            int64_t extent = 32;
            if (w->dims[i] > 0 && w->dims[i] < INT64_MAX / 64)
                extent = w->dims[i] * 64 > extent ? w->dims[i] * 64 : extent;
            xs.dims[i] = extent;
        }
    }
    oc_conv_geom g;
    onnxc_status *st = conv_geometry(ctx->node, p, &xs, w, b, &g);
    if (st) { /* infer and run report it */
        onnxc_status_free(st);
        return NULL;
    }
    oc_conv_weights prepared;
    if (!oc_conv_prepare_weights(&g, known, w->data, pack_alloc, ctx, &prepared))
        return oc_no_memory();
    if (prepared.winograd_m || prepared.gemm || prepared.direct) p->weights = prepared;
    return NULL;
}
