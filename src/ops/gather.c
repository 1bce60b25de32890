/* Ops that pick parts of a tensor: Gather, Slice, Split. Any fixed-size
 * element type: the data moves as bytes (kernels/gather.h, strided.h). */
#include <inttypes.h>
#include <string.h>

#include "int_inputs.h"
#include "kernels/gather.h"
#include "kernels/strided.h"
#include "ops.h"

/* Product of dims[from..to). Fits: bounded by an existing tensor's count. */
static size_t dims_product(const int64_t *dims, int from, int to)
{
    size_t product = 1;
    for (int d = from; d < to; d++) product *= (size_t)dims[d];
    return product;
}

/* Row-major strides of t, in elements; t must not be empty (then they fit). */
static void dense_strides(const oc_tensor *t, int64_t *strides)
{
    int64_t step = 1;
    for (int d = t->rank - 1; d >= 0; d--) {
        strides[d] = step;
        step *= t->dims[d];
    }
}

/* ---- Gather ----
 * out = data[..., indices, ...] along axis: rank r + q - 1. Indices are
 * int32 or int64; negative ones count from the end of the axis. Indices
 * that are known at inference are checked then; every run checks them
 * again (they may be a graph input) before any element is read. */

typedef struct gather_params {
    int64_t axis;
} gather_params;

onnxc_status *oc_gather_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"axis"};
    OC_TRY(oc_check_attr_names(n, names, 1));
    gather_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_attr_int(n, "axis", 0, &p->axis));
    *params = p;
    return NULL;
}

/* Copies the indices into normalized[0..count), each wrapped into
 * [0, axis_dim); the first out-of-range one is an error of code. */
static onnxc_status *normalize_indices(const oc_node *n, const oc_tensor *indices, int64_t axis_dim,
                                       int axis, int64_t *normalized, onnxc_code code)
{
    for (size_t i = 0; i < indices->count; i++) {
        int64_t v = oc_int_at(indices, i);
        int64_t wrapped = v < 0 ? v + axis_dim : v;
        if (wrapped < 0 || wrapped >= axis_dim)
            return oc_node_error(n, code,
                                 "index %" PRId64 " (element %zu of 'indices') is out of range for "
                                 "axis %d of size %" PRId64,
                                 v, i, axis, axis_dim);
        if (normalized) normalized[i] = wrapped;
    }
    return NULL;
}

onnxc_status *oc_gather_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const gather_params *p = ctx->params;
    const oc_tensor *x = ctx->in[0], *indices = ctx->in[1];
    if (!x || !indices) return oc_node_error(n, ONNXC_ERR_MODEL, "an input is missing");
    OC_TRY(oc_check_sized(n, "data", x));
    if (indices->dtype != ONNXC_DTYPE_INT32 && indices->dtype != ONNXC_DTYPE_INT64)
        return oc_node_error(n, ONNXC_ERR_MODEL, "input 'indices' is %s, expected int32 or int64",
                             onnxc_dtype_name(indices->dtype));
    if (x->rank < 1) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'data' is a scalar");
    int axis;
    OC_TRY(oc_normalize_axis(n, p->axis, x->rank, &axis));
    int rank = x->rank + indices->rank - 1;
    if (rank > OC_MAX_RANK)
        return oc_node_error(n, ONNXC_ERR_LIMIT, "the output's rank %d exceeds onnxc's limit %d",
                             rank, OC_MAX_RANK);
    if (indices->data)
        OC_TRY(normalize_indices(n, indices, x->dims[axis], axis, NULL, ONNXC_ERR_MODEL));
    if (!oc_mul_size(indices->count, sizeof(int64_t), &ctx->workspace))
        return oc_node_error(n, ONNXC_ERR_LIMIT, "too many indices");
    oc_tensor *out = ctx->out[0];
    if (!out) return NULL;
    out->dtype = x->dtype;
    out->rank = rank;
    int d = 0;
    for (int k = 0; k < axis; k++) out->dims[d++] = x->dims[k];
    for (int k = 0; k < indices->rank; k++) out->dims[d++] = indices->dims[k];
    for (int k = axis + 1; k < x->rank; k++) out->dims[d++] = x->dims[k];
    return NULL;
}

onnxc_status *oc_gather_run(oc_run_ctx *ctx)
{
    const gather_params *p = ctx->params;
    const oc_tensor *x = ctx->in[0], *indices = ctx->in[1];
    oc_tensor *out = ctx->out[0];
    int axis;
    OC_TRY(oc_normalize_axis(ctx->node, p->axis, x->rank, &axis));
    if (indices->count > ctx->workspace_size / sizeof(int64_t))
        return oc_node_error(ctx->node, ONNXC_ERR_INTERNAL, "workspace too small");
    int64_t *normalized = ctx->workspace;
    OC_TRY(normalize_indices(ctx->node, indices, x->dims[axis], axis, normalized,
                             ONNXC_ERR_ARGUMENT));
    if (!out || out->count == 0) return NULL;
    oc_gather(out->data, x->data, onnxc_dtype_size(x->dtype), dims_product(x->dims, 0, axis),
              (size_t)x->dims[axis], dims_product(x->dims, axis + 1, x->rank), normalized,
              indices->count);
    return NULL;
}

/* ---- Slice ----
 * Opsets 1-9: starts, ends and optional axes as attributes; 10 on: inputs
 * starts, ends, optional axes and steps (int32 or int64). Per axis the start
 * and end count from the end when negative and are clamped into the dim
 * (for a negative step into [0, dim-1] and [-1, dim-1]), so INT64_MAX and
 * INT64_MIN mean "to the end" and "to the beginning". */

typedef struct slice_params {
    const int64_t *starts, *ends, *axes; /* opsets 1-9 */
    size_t n_starts, n_ends, n_axes;
} slice_params;

onnxc_status *oc_slice_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"starts", "ends", "axes"};
    slice_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_check_attr_names(n, names, n->opset < 10 ? 3 : 0));
    if (n->opset < 10) {
        if (!oc_attr_find(n, "starts") || !oc_attr_find(n, "ends"))
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "attributes 'starts' and 'ends' are required before opset 10");
        OC_TRY(oc_attr_ints(n, "starts", &p->starts, &p->n_starts));
        OC_TRY(oc_attr_ints(n, "ends", &p->ends, &p->n_ends));
        OC_TRY(oc_attr_ints(n, "axes", &p->axes, &p->n_axes));
        if (p->n_ends != p->n_starts || (p->axes && p->n_axes != p->n_starts))
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "'starts', 'ends' and 'axes' have %zu, %zu and %zu entries",
                                 p->n_starts, p->n_ends, p->n_axes);
    }
    *params = p;
    return NULL;
}

/* Where each output dim starts in the input, its step and its size. */
typedef struct slice_plan {
    int64_t start[OC_MAX_RANK], step[OC_MAX_RANK], count[OC_MAX_RANK];
} slice_plan;

/* The lists of one Slice, up to the input's rank entries each. */
typedef struct slice_lists {
    size_t count;
    int64_t starts[OC_MAX_RANK], ends[OC_MAX_RANK], axes[OC_MAX_RANK], steps[OC_MAX_RANK];
} slice_lists;

/* Copies an optional list input into out; its length must be expected
 * (or, with expected SIZE_MAX, at most rank: it sets the length). */
static onnxc_status *read_slice_list(const oc_node *n, const oc_tensor *t, const char *what,
                                     int rank, size_t *expected, int64_t *out)
{
    OC_TRY(oc_int_list_input(n, t, what, true));
    if (*expected == SIZE_MAX) {
        if (t->count > (size_t)rank)
            return oc_node_error(n, ONNXC_ERR_MODEL, "input '%s' has %zu entries for rank %d", what,
                                 t->count, rank);
        *expected = t->count;
    } else if (t->count != *expected) {
        return oc_node_error(n, ONNXC_ERR_MODEL, "input '%s' has %zu entries, 'starts' %zu", what,
                             t->count, *expected);
    }
    oc_int_list_copy(t, out);
    return NULL;
}

static onnxc_status *slice_lists_from_attrs(const oc_node *n, const slice_params *p, int rank,
                                            slice_lists *l)
{
    if (p->n_starts > (size_t)rank)
        return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'starts' has %zu entries for rank %d",
                             p->n_starts, rank);
    l->count = p->n_starts;
    for (size_t i = 0; i < l->count; i++) {
        l->starts[i] = p->starts[i];
        l->ends[i] = p->ends[i];
        l->axes[i] = p->axes ? p->axes[i] : (int64_t)i;
        l->steps[i] = 1;
    }
    return NULL;
}

static onnxc_status *slice_lists_from_inputs(const oc_node *n, int n_inputs,
                                             const oc_tensor *const *in, int rank, slice_lists *l)
{
    const oc_tensor *starts = oc_input_or_null(n_inputs, in, 1);
    const oc_tensor *ends = oc_input_or_null(n_inputs, in, 2);
    const oc_tensor *axes = oc_input_or_null(n_inputs, in, 3);
    const oc_tensor *steps = oc_input_or_null(n_inputs, in, 4);
    if (!starts || !ends) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'starts' or 'ends' is missing");
    l->count = SIZE_MAX;
    OC_TRY(read_slice_list(n, starts, "starts", rank, &l->count, l->starts));
    OC_TRY(read_slice_list(n, ends, "ends", rank, &l->count, l->ends));
    for (size_t i = 0; i < l->count; i++) {
        l->axes[i] = (int64_t)i;
        l->steps[i] = 1;
    }
    if (axes) OC_TRY(read_slice_list(n, axes, "axes", rank, &l->count, l->axes));
    if (steps) OC_TRY(read_slice_list(n, steps, "steps", rank, &l->count, l->steps));
    return NULL;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* One axis of size dim sliced [start, end) by step (non-zero). */
static void slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first,
                       int64_t *count)
{
    *first = 0;
    *count = 0;
    if (dim == 0) return;
    if (start < 0) start += dim; /* no overflow: dim >= 0 */
    if (end < 0) end += dim;
    if (step > 0) {
        start = clamp64(start, 0, dim);
        end = clamp64(end, 0, dim);
        if (end > start) *count = (end - start - 1) / step + 1;
    } else {
        start = clamp64(start, 0, dim - 1);
        end = clamp64(end, -1, dim - 1);
        /* |step| as unsigned: -INT64_MIN does not fit an int64. */
        uint64_t magnitude = (uint64_t)(-(step + 1)) + 1;
        if (start > end) *count = (int64_t)((uint64_t)(start - end - 1) / magnitude + 1);
    }
    *first = *count > 0 ? start : 0;
}

static onnxc_status *make_slice_plan(const oc_node *n, const slice_params *p, int n_inputs,
                                     const oc_tensor *const *in, slice_plan *plan)
{
    const oc_tensor *x = in[0];
    slice_lists l;
    if (n->opset < 10) {
        for (int i = 1; i < n_inputs; i++)
            if (in[i]) return oc_node_error(n, ONNXC_ERR_MODEL, "takes one input before opset 10");
        OC_TRY(slice_lists_from_attrs(n, p, x->rank, &l));
    } else {
        OC_TRY(slice_lists_from_inputs(n, n_inputs, in, x->rank, &l));
    }
    OC_TRY(oc_normalize_axes(n, l.axes, l.count, x->rank));
    for (int d = 0; d < x->rank; d++) {
        plan->start[d] = 0;
        plan->step[d] = 1;
        plan->count[d] = x->dims[d];
    }
    for (size_t i = 0; i < l.count; i++) {
        int64_t axis = l.axes[i];
        if (l.steps[i] == 0)
            return oc_node_error(n, ONNXC_ERR_MODEL, "the step of axis %" PRId64 " is 0", axis);
        plan->step[axis] = l.steps[i];
        slice_axis(x->dims[axis], l.starts[i], l.ends[i], l.steps[i], &plan->start[axis],
                   &plan->count[axis]);
    }
    return NULL;
}

onnxc_status *oc_slice_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const oc_tensor *x = ctx->in[0];
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'data' is missing");
    OC_TRY(oc_check_sized(n, "data", x));
    slice_plan plan;
    OC_TRY(make_slice_plan(n, ctx->params, ctx->n_inputs, ctx->in, &plan));
    if (ctx->out[0]) {
        oc_tensor_copy_type(ctx->out[0], x);
        memcpy(ctx->out[0]->dims, plan.count, (size_t)x->rank * sizeof plan.count[0]);
    }
    return NULL;
}

onnxc_status *oc_slice_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    oc_tensor *out = ctx->out[0];
    if (!out) return NULL;
    slice_plan plan;
    OC_TRY(make_slice_plan(ctx->node, ctx->params, ctx->n_inputs, ctx->in, &plan));
    if (out->rank != x->rank || memcmp(out->dims, plan.count, (size_t)x->rank * sizeof plan.count[0]))
        return oc_node_error(ctx->node, ONNXC_ERR_INTERNAL, "the slice differs from inference's");
    if (out->count == 0) return NULL;
    int64_t in_strides[OC_MAX_RANK], strides[OC_MAX_RANK], offset = 0;
    dense_strides(x, in_strides);
    for (int d = 0; d < x->rank; d++) {
        offset += plan.start[d] * in_strides[d];
        /* A dim of one element never steps (its step may be huge). */
        strides[d] = plan.count[d] > 1 ? plan.step[d] * in_strides[d] : 0;
    }
    size_t esize = onnxc_dtype_size(x->dtype);
    oc_strided_copy(out->data, (const char *)x->data + (size_t)offset * esize, esize, x->rank,
                    out->dims, strides);
    return NULL;
}

/* ---- Split ----
 * The sizes along axis come from, by opset: 1 the 'split' attribute or a
 * second input; 2-12 the attribute; 13 on an optional input; 18 on also
 * the 'num_outputs' attribute (chunks of ceil(dim / n), the last smaller).
 * Without any, the dim splits equally among the outputs. */

typedef struct split_params {
    int64_t axis;
    const int64_t *split; /* attribute, opsets 1-12; NULL when absent */
    size_t n_split;
    bool has_num_outputs;
} split_params;

onnxc_status *oc_split_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names_v1[] = {"axis", "split"};
    static const char *const names_v18[] = {"axis", "num_outputs"};
    split_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    if (n->opset < 13)
        OC_TRY(oc_check_attr_names(n, names_v1, 2));
    else
        OC_TRY(oc_check_attr_names(n, names_v18, n->opset >= 18 ? 2 : 1));
    OC_TRY(oc_attr_int(n, "axis", 0, &p->axis));
    OC_TRY(oc_attr_ints(n, "split", &p->split, &p->n_split));
    if (p->split && p->n_split != (size_t)n->n_outputs)
        return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'split' has %zu sizes for %d outputs",
                             p->n_split, n->n_outputs);
    if (oc_attr_find(n, "num_outputs")) {
        int64_t num;
        OC_TRY(oc_attr_int(n, "num_outputs", 0, &num));
        if (num != n->n_outputs)
            return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'num_outputs' is %" PRId64
                                 " but the node has %d outputs", num, n->n_outputs);
        p->has_num_outputs = true;
    }
    *params = p;
    return NULL;
}

/* The size of each output along the axis, checked to add up to the dim. */
typedef struct split_sizes {
    const oc_tensor *input; /* the sizes as an input, or */
    const int64_t *list;    /* as an attribute, or */
    int64_t chunk, last;    /* chunk each, except the last output */
    int n;
} split_sizes;

static int64_t split_size(const split_sizes *s, int k)
{
    if (s->input) return oc_int_at(s->input, (size_t)k);
    if (s->list) return s->list[k];
    return k < s->n - 1 ? s->chunk : s->last;
}

static onnxc_status *check_split_sum(const oc_node *n, const split_sizes *s, int64_t dim)
{
    int64_t sum = 0;
    for (int k = 0; k < s->n; k++) {
        int64_t size = split_size(s, k);
        if (size < 0)
            return oc_node_error(n, ONNXC_ERR_MODEL, "split size %d is negative (%" PRId64 ")", k,
                                 size);
        if (!oc_add_i64(sum, size, &sum)) break; /* overflow: certainly not dim */
    }
    if (sum != dim)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "the split sizes add up to %" PRId64 ", not the dim %" PRId64, sum, dim);
    return NULL;
}

static onnxc_status *make_split_sizes(const oc_node *n, const split_params *p, int n_inputs,
                                      const oc_tensor *const *in, int64_t dim, int n_outputs,
                                      split_sizes *s)
{
    const oc_tensor *t = oc_input_or_null(n_inputs, in, 1);
    memset(s, 0, sizeof *s);
    s->n = n_outputs;
    if (t && n->opset > 1 && n->opset < 13)
        return oc_node_error(n, ONNXC_ERR_MODEL, "takes one input at opset %" PRId64, n->opset);
    if (t && (p->split || p->has_num_outputs))
        return oc_node_error(n, ONNXC_ERR_MODEL, "the split sizes are given twice");
    if (t) {
        OC_TRY(oc_int_list_input(n, t, "split", false));
        if (t->count != (size_t)n_outputs)
            return oc_node_error(n, ONNXC_ERR_MODEL, "input 'split' has %zu sizes for %d outputs",
                                 t->count, n_outputs);
        s->input = t;
    } else if (p->split) {
        s->list = p->split;
    } else {
        /* Equal chunks; with num_outputs the last may be smaller. */
        int64_t chunk = dim / n_outputs + (p->has_num_outputs && dim % n_outputs != 0);
        if (!p->has_num_outputs && dim % n_outputs != 0)
            return oc_node_error(n, ONNXC_ERR_MODEL, "dim %" PRId64 " does not split into %d equal parts",
                                 dim, n_outputs);
        s->chunk = chunk;
        s->last = dim - chunk * (n_outputs - 1); /* no overflow: chunk * (n - 1) < dim + n */
        if (s->last < 0)
            return oc_node_error(n, ONNXC_ERR_MODEL, "dim %" PRId64 " cannot make %d chunks of %"
                                 PRId64, dim, n_outputs, chunk);
    }
    return check_split_sum(n, s, dim);
}

onnxc_status *oc_split_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const split_params *p = ctx->params;
    const oc_tensor *x = ctx->in[0];
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input is missing");
    OC_TRY(oc_check_sized(n, "input", x));
    int axis;
    OC_TRY(oc_normalize_axis(n, p->axis, x->rank, &axis));
    split_sizes s;
    OC_TRY(make_split_sizes(n, p, ctx->n_inputs, ctx->in, x->dims[axis], ctx->n_outputs, &s));
    for (int k = 0; k < ctx->n_outputs; k++) {
        if (!ctx->out[k]) continue;
        oc_tensor_copy_type(ctx->out[k], x);
        ctx->out[k]->dims[axis] = split_size(&s, k);
    }
    return NULL;
}

onnxc_status *oc_split_run(oc_run_ctx *ctx)
{
    const split_params *p = ctx->params;
    const oc_tensor *x = ctx->in[0];
    int axis;
    OC_TRY(oc_normalize_axis(ctx->node, p->axis, x->rank, &axis));
    split_sizes s;
    OC_TRY(make_split_sizes(ctx->node, p, ctx->n_inputs, ctx->in, x->dims[axis], ctx->n_outputs, &s));
    /* An empty x has only empty outputs, and dims whose product (a
     * stride) may overflow: no strides then. */
    int64_t strides[OC_MAX_RANK] = {0};
    if (x->count > 0) dense_strides(x, strides);
    size_t esize = onnxc_dtype_size(x->dtype);
    int64_t offset = 0;
    for (int k = 0; k < ctx->n_outputs; k++) {
        oc_tensor *out = ctx->out[k];
        int64_t size = split_size(&s, k);
        if (out && (out->rank != x->rank || out->dims[axis] != size))
            return oc_node_error(ctx->node, ONNXC_ERR_INTERNAL, "output %d differs from inference's", k);
        if (out && out->count > 0)
            oc_strided_copy(out->data, (const char *)x->data + (size_t)(offset * strides[axis]) * esize,
                            esize, x->rank, out->dims, strides);
        offset += size;
    }
    return NULL;
}
