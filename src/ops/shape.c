/* Ops that make tensors from attributes or shapes, and Cast: Shape,
 * Constant, ConstantOfShape, Cast. */
#include <inttypes.h>
#include <string.h>

#include "int_inputs.h"
#include "kernels/cast.h"
#include "ops.h"

/* ---- Shape ----
 * Output: the input's dims as int64, 1-D; from opset 15 only dims
 * [start, end) (negative counting from the end, both clamped to 0..rank).
 * The op is shape-only: the run never reads the input's data. */

typedef struct shape_params {
    int64_t start, end; /* end INT64_MAX: the rank */
} shape_params;

onnxc_status *oc_shape_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"start", "end"};
    shape_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_check_attr_names(n, names, n->opset >= 15 ? 2 : 0));
    OC_TRY(oc_attr_int(n, "start", 0, &p->start));
    OC_TRY(oc_attr_int(n, "end", INT64_MAX, &p->end));
    *params = p;
    return NULL;
}

static int64_t clamp_to_rank(int64_t v, int rank)
{
    if (v < 0) v += rank; /* no overflow: v >= INT64_MIN and rank >= 0 */
    return v < 0 ? 0 : v > rank ? rank : v;
}

/* The dims [*from, *to) of rank the output lists. */
static void shape_range(const shape_params *p, int rank, int *from, int *to)
{
    *from = (int)clamp_to_rank(p->start, rank);
    *to = (int)clamp_to_rank(p->end, rank);
    if (*to < *from) *to = *from;
}

onnxc_status *oc_shape_infer(oc_infer_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    if (!x) return oc_node_error(ctx->node, ONNXC_ERR_MODEL, "input 'data' is missing");
    int from, to;
    shape_range(ctx->params, x->rank, &from, &to);
    if (ctx->out[0]) {
        oc_tensor *out = ctx->out[0];
        out->dtype = ONNXC_DTYPE_INT64;
        out->rank = 1;
        out->dims[0] = to - from;
    }
    return NULL;
}

onnxc_status *oc_shape_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    oc_tensor *out = ctx->out[0];
    if (!out) return NULL;
    int from, to;
    shape_range(ctx->params, x->rank, &from, &to);
    if (out->count != (size_t)(to - from))
        return oc_node_error(ctx->node, ONNXC_ERR_INTERNAL, "output has %zu elements, expected %d",
                             out->count, to - from);
    if (to > from) memcpy(out->data, &x->dims[from], (size_t)(to - from) * sizeof(int64_t));
    return NULL;
}

/* ---- Constant ----
 * Exactly one value attribute: value (a tensor, every opset), sparse_value
 * (opset 11+), value_float(s), value_int(s), value_string(s) (opset 12+). */

typedef struct constant_params {
    oc_tensor value; /* data points into the attribute, owned by the model */
} constant_params;

static const char *const constant_names[] = {"value", "sparse_value", "value_float",
                                             "value_floats", "value_int", "value_ints",
                                             "value_string", "value_strings"};

static size_t constant_names_at(int64_t opset)
{
    return opset >= 12 ? 8 : opset >= 11 ? 2 : 1;
}

/* The constant of attribute a (whose name is one of constant_names). */
static onnxc_status *constant_from_attr(const oc_node *n, const oc_attr *a, oc_tensor *t)
{
    static const struct {
        const char *name;
        int attr_type;
        onnxc_dtype dtype;
        int rank;
    } forms[] = {
        {"value", OC_ATTR_TENSOR, ONNXC_DTYPE_UNDEFINED, 0},
        {"value_float", OC_ATTR_FLOAT, ONNXC_DTYPE_FLOAT, 0},
        {"value_floats", OC_ATTR_FLOATS, ONNXC_DTYPE_FLOAT, 1},
        {"value_int", OC_ATTR_INT, ONNXC_DTYPE_INT64, 0},
        {"value_ints", OC_ATTR_INTS, ONNXC_DTYPE_INT64, 1},
    };
    if (strcmp(a->name, "sparse_value") == 0)
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "sparse constants are not supported");
    if (strncmp(a->name, "value_string", 12) == 0)
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "string constants are not supported");
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (strcmp(a->name, forms[i].name) != 0) continue;
        if (a->type != forms[i].attr_type)
            return oc_node_error(n, ONNXC_ERR_MODEL, "attribute '%s' has the wrong type", a->name);
        memset(t, 0, sizeof *t);
        switch (a->type) {
        case OC_ATTR_TENSOR: *t = *a->t; break;
        case OC_ATTR_FLOAT: t->data = (void *)&a->f; break;
        case OC_ATTR_FLOATS: t->data = (void *)a->floats; break;
        case OC_ATTR_INT: t->data = (void *)&a->i; break;
        default: t->data = (void *)a->ints; break;
        }
        if (a->type != OC_ATTR_TENSOR) {
            t->dtype = forms[i].dtype;
            t->rank = forms[i].rank;
            t->dims[0] = (int64_t)a->n;
        }
        return oc_node_error_prefix(n, oc_tensor_set_sizes(t));
    }
    return oc_node_error(n, ONNXC_ERR_INTERNAL, "attribute '%s' unhandled", a->name);
}

onnxc_status *oc_constant_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    OC_TRY(oc_check_attr_names(n, constant_names, constant_names_at(n->opset)));
    if (n->n_attrs != 1)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "exactly one value attribute must be set, the node has %d",
                             n->n_attrs);
    constant_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(constant_from_attr(n, &n->attrs[0], &p->value));
    *params = p;
    return NULL;
}

onnxc_status *oc_constant_infer(oc_infer_ctx *ctx)
{
    const constant_params *p = ctx->params;
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], &p->value);
    return NULL;
}

onnxc_status *oc_constant_run(oc_run_ctx *ctx)
{
    const constant_params *p = ctx->params;
    oc_tensor *out = ctx->out[0];
    if (out && p->value.nbytes) memcpy(out->data, p->value.data, p->value.nbytes);
    return NULL;
}

/* ---- ConstantOfShape (opset 9+) ----
 * A tensor of the input's (known) shape filled with the one element of the
 * 'value' attribute, which also gives the type (default float32 0). */

typedef struct constantofshape_params {
    onnxc_dtype dtype;
    unsigned char value[8];
} constantofshape_params;

onnxc_status *oc_constantofshape_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"value"};
    if (n->opset < 9)
        return oc_node_error(n, ONNXC_ERR_MODEL, "ConstantOfShape does not exist before opset 9");
    OC_TRY(oc_check_attr_names(n, names, 1));
    constantofshape_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    p->dtype = ONNXC_DTYPE_FLOAT; /* and value all-zero bytes: 0.0f */
    const oc_attr *a = oc_attr_find(n, "value");
    if (a) {
        if (a->type != OC_ATTR_TENSOR)
            return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'value' is not a tensor");
        size_t esize = onnxc_dtype_size(a->t->dtype);
        if (esize == 0 || esize > sizeof p->value)
            return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "a value of element type %s is not supported",
                                 onnxc_dtype_name(a->t->dtype));
        if (a->t->count != 1)
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "attribute 'value' has %zu elements, expected one", a->t->count);
        p->dtype = a->t->dtype;
        memcpy(p->value, a->t->data, esize);
    }
    *params = p;
    return NULL;
}

onnxc_status *oc_constantofshape_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const constantofshape_params *p = ctx->params;
    const oc_tensor *t = ctx->in[0];
    if (!t) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'input' is missing");
    OC_TRY(oc_int_list_input(n, t, "input", false));
    if (t->count > OC_MAX_RANK)
        return oc_node_error(n, ONNXC_ERR_LIMIT,
                             "input 'input' has %zu entries; onnxc supports ranks up to %d",
                             t->count, OC_MAX_RANK);
    oc_tensor *out = ctx->out[0];
    if (!out) return NULL;
    out->dtype = p->dtype;
    out->rank = (int)t->count;
    oc_int_list_copy(t, out->dims);
    for (int d = 0; d < out->rank; d++)
        if (out->dims[d] < 0)
            return oc_node_error(n, ONNXC_ERR_MODEL, "input 'input' has a negative dim %" PRId64,
                                 out->dims[d]);
    return NULL;
}

onnxc_status *oc_constantofshape_run(oc_run_ctx *ctx)
{
    const constantofshape_params *p = ctx->params;
    oc_tensor *out = ctx->out[0];
    if (!out || out->count == 0) return NULL;
    size_t size = onnxc_dtype_size(out->dtype), total = out->nbytes, filled = size;
    char *dst = out->data;
    memcpy(dst, p->value, size);
    while (filled < total) { /* doubling: a few memcpy calls for any count */
        size_t chunk = filled < total - filled ? filled : total - filled;
        memcpy(dst + filled, dst, chunk);
        filled += chunk;
    }
    return NULL;
}

/* ---- Cast ----
 * 'to' is a type name string in opset 1 ("FLOAT") and a TensorProto
 * DataType number from opset 6; 'saturate' (opset 19+) and 'round_mode'
 * (opset 24+) only concern the float8 types, which onnxc does not hold, so
 * they are only checked. */

typedef struct cast_params {
    onnxc_dtype to;
} cast_params;

/* The TensorProto DataType names, indexed by value. */
static const char *const data_type_names[] = {
    "UNDEFINED", "FLOAT",  "UINT8",  "INT8",      "UINT16",     "INT16",    "INT32",
    "INT64",     "STRING", "BOOL",   "FLOAT16",   "DOUBLE",     "UINT32",   "UINT64",
    "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
    "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1", "FLOAT8E8M0", "UINT2", "INT2",
};
#define N_DATA_TYPES ((int64_t)(sizeof data_type_names / sizeof data_type_names[0]))

static onnxc_status *cast_target(const oc_node *n, int64_t *to)
{
    const oc_attr *a = oc_attr_find(n, "to");
    if (!a) return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'to' is required");
    if (a->type == OC_ATTR_STRING) { /* opset 1 (some old exporters wrote the number) */
        for (int64_t t = 1; t < N_DATA_TYPES; t++)
            if (strcmp(a->s, data_type_names[t]) == 0) {
                *to = t;
                return NULL;
            }
        return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'to' names no element type: '%s'", a->s);
    }
    return oc_attr_int(n, "to", 0, to);
}

onnxc_status *oc_cast_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"to", "saturate", "round_mode"};
    OC_TRY(oc_check_attr_names(n, names, n->opset >= 24 ? 3 : n->opset >= 19 ? 2 : 1));
    const char *round_mode;
    OC_TRY(oc_attr_string(n, "round_mode", "up", &round_mode));
    if (strcmp(round_mode, "up") != 0 && strcmp(round_mode, "down") != 0 &&
        strcmp(round_mode, "nearest") != 0)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "attribute 'round_mode' is '%s', expected up, down or nearest",
                             round_mode);
    if (n->opset >= 19) {
        int64_t saturate;
        OC_TRY(oc_attr_int(n, "saturate", 1, &saturate));
        if (saturate != 0 && saturate != 1)
            return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'saturate' is %" PRId64
                                 "; expected 0 or 1", saturate);
    }
    int64_t to;
    OC_TRY(cast_target(n, &to));
    if (to <= 0 || to >= N_DATA_TYPES)
        return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'to' is %" PRId64
                             ", not an element type", to);
    if (!oc_cast_supported((int)to))
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "casting to %s is not supported",
                             onnxc_dtype_name((int)to));
    cast_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    p->to = (onnxc_dtype)to;
    *params = p;
    return NULL;
}

onnxc_status *oc_cast_infer(oc_infer_ctx *ctx)
{
    const cast_params *p = ctx->params;
    const oc_tensor *x = ctx->in[0];
    if (!x) return oc_node_error(ctx->node, ONNXC_ERR_MODEL, "input is missing");
    if (!oc_cast_supported(x->dtype))
        return oc_node_error(ctx->node, ONNXC_ERR_UNSUPPORTED, "casting from %s is not supported",
                             onnxc_dtype_name(x->dtype));
    if (ctx->out[0]) {
        oc_tensor_copy_type(ctx->out[0], x);
        ctx->out[0]->dtype = p->to;
    }
    return NULL;
}

onnxc_status *oc_cast_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    oc_tensor *out = ctx->out[0];
    if (out) oc_cast(out->data, out->dtype, x->data, x->dtype, x->count);
    return NULL;
}
