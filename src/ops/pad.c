/* Pad: adds (or, with negative counts, removes) elements at both ends of
 * each dim. Any fixed-size element type; the data moves as bytes
 * (kernels/pad.h).
 *
 *   opset 1      attributes paddings, mode, value (float)
 *   opsets 2-10  attributes pads, mode, value (float)
 *   opset 11+    inputs pads (int64) and optional constant_value (the data's
 *                type); attribute mode
 *   opset 18+    optional input axes: the dims pads refers to
 *   opset 19+    mode wrap
 * pads lists the begin counts of every padded dim, then the end counts. */
#include <inttypes.h>
#include <string.h>

#include "int_inputs.h"
#include "kernels/cast.h"
#include "kernels/pad.h"
#include "ops.h"

enum { PAD_DATA, PAD_PADS, PAD_CONSTANT_VALUE, PAD_AXES };

typedef struct pad_params {
    oc_pad_mode mode;
    const int64_t *pads; /* opsets 1-10 */
    size_t n_pads;
    float value;         /* opsets 1-10 */
} pad_params;

static const char *const mode_names[] = {"constant", "reflect", "edge", "wrap"};

static onnxc_status *read_mode(const oc_node *n, oc_pad_mode *mode)
{
    const char *s;
    OC_TRY(oc_attr_string(n, "mode", "constant", &s));
    for (int m = OC_PAD_CONSTANT; m <= OC_PAD_WRAP; m++)
        if (strcmp(s, mode_names[m]) == 0) {
            if (m == OC_PAD_WRAP && n->opset < 19)
                return oc_node_error(n, ONNXC_ERR_MODEL, "mode 'wrap' needs opset 19 or later");
            *mode = (oc_pad_mode)m;
            return NULL;
        }
    return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'mode' is '%s', expected constant, "
                         "reflect, edge or wrap", s);
}

onnxc_status *oc_pad_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names_v1[] = {"mode", "paddings", "value"};
    static const char *const names_v2[] = {"mode", "pads", "value"};
    pad_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    if (n->opset >= 11) {
        OC_TRY(oc_check_attr_names(n, names_v2, 1));
    } else {
        const char *pads_name = n->opset == 1 ? "paddings" : "pads";
        OC_TRY(oc_check_attr_names(n, n->opset == 1 ? names_v1 : names_v2, 3));
        if (!oc_attr_find(n, pads_name))
            return oc_node_error(n, ONNXC_ERR_MODEL, "attribute '%s' is required", pads_name);
        OC_TRY(oc_attr_ints(n, pads_name, &p->pads, &p->n_pads));
        OC_TRY(oc_attr_float(n, "value", 0.0f, &p->value));
    }
    OC_TRY(read_mode(n, &p->mode));
    *params = p;
    return NULL;
}

/* The pads as begin and end counts per dim of x. */
static onnxc_status *read_pads(const oc_node *n, const pad_params *p, int n_inputs,
                               const oc_tensor *const *in, oc_pad_geom *g)
{
    const oc_tensor *x = in[PAD_DATA];
    const oc_tensor *pads = oc_input_or_null(n_inputs, in, PAD_PADS);
    const oc_tensor *axes_in = oc_input_or_null(n_inputs, in, PAD_AXES);
    int64_t axes[OC_MAX_RANK];
    size_t n_axes = (size_t)x->rank;
    for (int d = 0; d < x->rank; d++) axes[d] = d;
    if (n->opset < 11) {
        for (int i = 1; i < n_inputs; i++)
            if (in[i]) return oc_node_error(n, ONNXC_ERR_MODEL, "takes one input before opset 11");
    } else {
        if (!pads) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'pads' is missing");
        OC_TRY(oc_int_list_input(n, pads, "pads", false));
    }
    if (axes_in) {
        if (n->opset < 18)
            return oc_node_error(n, ONNXC_ERR_MODEL, "input 'axes' needs opset 18 or later");
        OC_TRY(oc_int_list_input(n, axes_in, "axes", true));
        if (axes_in->count > (size_t)x->rank)
            return oc_node_error(n, ONNXC_ERR_MODEL, "input 'axes' has %zu entries for rank %d",
                                 axes_in->count, x->rank);
        n_axes = axes_in->count;
        oc_int_list_copy(axes_in, axes);
        OC_TRY(oc_normalize_axes(n, axes, n_axes, x->rank));
    }
    size_t n_pads = pads ? pads->count : p->n_pads;
    if (n_pads != 2 * n_axes)
        return oc_node_error(n, ONNXC_ERR_MODEL, "%zu pads for %zu dims (expected twice as many)",
                             n_pads, n_axes);
    memset(g, 0, sizeof *g);
    g->rank = x->rank;
    g->mode = p->mode;
    memcpy(g->in_dims, x->dims, sizeof g->in_dims);
    for (size_t i = 0; i < n_axes; i++) {
        g->begin[axes[i]] = pads ? oc_int_at(pads, i) : p->pads[i];
        g->end[axes[i]] = pads ? oc_int_at(pads, i + n_axes) : p->pads[i + n_axes];
    }
    return NULL;
}

/* The kernel's preconditions, per dim; fills the output dims. */
static onnxc_status *check_geometry(const oc_node *n, const oc_pad_geom *g, int64_t *out_dims)
{
    for (int d = 0; d < g->rank; d++) {
        int64_t b = g->begin[d], e = g->end[d], in = g->in_dims[d];
        if (b == INT64_MIN || e == INT64_MIN) /* cannot be negated */
            return oc_node_error(n, ONNXC_ERR_MODEL, "dim %d has a pad of INT64_MIN", d);
        int64_t removed = b < 0 ? -b : 0, removed_end = e < 0 ? -e : 0;
        if (removed > in || removed_end > in - removed)
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "pads %" PRId64 " and %" PRId64 " remove more than dim %d's %"
                                 PRId64 " elements", b, e, d, in);
        int64_t kept = in - removed - removed_end;
        if (!oc_add_i64(in, b, &out_dims[d]) || !oc_add_i64(out_dims[d], e, &out_dims[d]))
            return oc_node_error(n, ONNXC_ERR_LIMIT, "padded dim %d overflows", d);
        bool adds = b > 0 || e > 0;
        if (g->mode != OC_PAD_CONSTANT && adds && kept == 0)
            return oc_node_error(n, ONNXC_ERR_MODEL, "mode '%s' cannot pad dim %d: it has no elements",
                                 mode_names[g->mode], d);
        if (g->mode == OC_PAD_REFLECT && ((b > 0 && b >= kept) || (e > 0 && e >= kept)))
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "mode 'reflect' needs pads below the dim: dim %d has %" PRId64
                                 " elements, pads %" PRId64 " and %" PRId64, d, kept, b, e);
    }
    return NULL;
}

onnxc_status *oc_pad_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const oc_tensor *x = ctx->in[PAD_DATA];
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'data' is missing");
    OC_TRY(oc_check_sized(n, "data", x));
    oc_pad_geom g;
    int64_t dims[OC_MAX_RANK];
    OC_TRY(read_pads(n, ctx->params, ctx->n_inputs, ctx->in, &g));
    OC_TRY(check_geometry(n, &g, dims));
    const oc_tensor *value = oc_input_or_null(ctx->n_inputs, ctx->in, PAD_CONSTANT_VALUE);
    if (value && value->dtype != x->dtype)
        return oc_node_error(n, ONNXC_ERR_MODEL, "input 'constant_value' is %s but 'data' is %s",
                             onnxc_dtype_name(value->dtype), onnxc_dtype_name(x->dtype));
    if (value && value->count != 1)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "input 'constant_value' has %zu elements, expected one", value->count);
    if (ctx->out[0]) {
        oc_tensor_copy_type(ctx->out[0], x);
        memcpy(ctx->out[0]->dims, dims, (size_t)x->rank * sizeof dims[0]);
    }
    return NULL;
}

onnxc_status *oc_pad_run(oc_run_ctx *ctx)
{
    const pad_params *p = ctx->params;
    const oc_tensor *x = ctx->in[PAD_DATA];
    oc_tensor *out = ctx->out[0];
    if (!out) return NULL;
    oc_pad_geom g;
    int64_t dims[OC_MAX_RANK];
    OC_TRY(read_pads(ctx->node, p, ctx->n_inputs, ctx->in, &g));
    OC_TRY(check_geometry(ctx->node, &g, dims));
    if (out->rank != x->rank || memcmp(out->dims, dims, (size_t)x->rank * sizeof dims[0]))
        return oc_node_error(ctx->node, ONNXC_ERR_INTERNAL, "the padding differs from inference's");
    if (out->count == 0) return NULL;
    /* The constant: the input, else the attribute in the data's type, else 0. */
    unsigned char value[8] = {0};
    size_t esize = onnxc_dtype_size(x->dtype);
    const oc_tensor *value_in = oc_input_or_null(ctx->n_inputs, ctx->in, PAD_CONSTANT_VALUE);
    if (value_in)
        memcpy(value, value_in->data, esize);
    else if (ctx->node->opset < 11 && oc_cast_supported(x->dtype))
        oc_cast(value, x->dtype, &p->value, ONNXC_DTYPE_FLOAT, 1);
    oc_pad(&g, esize, x->data, out->data, value);
    return NULL;
}
