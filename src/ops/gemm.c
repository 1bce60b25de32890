/* Gemm (ai.onnx opsets 1-26): Y = alpha * op(A) * op(B) + beta * C, float32.
 *
 * Version differences: before opset 7 C must be [M, N] unless the
 * 'broadcast' attribute is set; from 7 C broadcasts unidirectionally to
 * [M, N] and 'broadcast' is gone; from 11 C is optional. */
#include <inttypes.h>
#include <string.h>

#include "kernels/gemm.h"
#include "ops.h"

typedef struct gemm_params {
    float alpha, beta;
    bool trans_a, trans_b;
    bool broadcast; /* opsets 1-6; always true from 7 */
} gemm_params;

static onnxc_status *check_attr_names(const oc_node *n)
{
    static const char *const names[] = {"alpha", "beta", "transA", "transB", "broadcast"};
    size_t count = sizeof names / sizeof *names;
    return oc_check_attr_names(n, names, n->opset < 7 ? count : count - 1);
}

onnxc_status *oc_gemm_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    OC_TRY(check_attr_names(n));
    gemm_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_attr_float(n, "alpha", 1.0f, &p->alpha));
    OC_TRY(oc_attr_float(n, "beta", 1.0f, &p->beta));
    OC_TRY(oc_attr_flag(n, "transA", &p->trans_a));
    OC_TRY(oc_attr_flag(n, "transB", &p->trans_b));
    p->broadcast = true;
    if (n->opset < 7) OC_TRY(oc_attr_flag(n, "broadcast", &p->broadcast));
    *params = p;
    return NULL;
}

typedef struct gemm_dims {
    int64_t m, n, k;
} gemm_dims;

static const oc_tensor *input_c(const oc_tensor *const *in, int n_inputs)
{
    return n_inputs > 2 ? in[2] : NULL;
}

/* C's shape broadcasts to [M, N]: unidirectionally (numpy rules, C's dims
 * right-aligned, each 1 or equal), or must equal it without 'broadcast'. */
static onnxc_status *check_c(const oc_node *n, const gemm_params *p, const oc_tensor *c,
                             gemm_dims d)
{
    OC_TRY(oc_check_dtype(n, "input C", c, ONNXC_DTYPE_FLOAT, 0));
    int64_t want[2] = {d.m, d.n};
    bool ok;
    if (!p->broadcast) {
        ok = c->rank == 2 && c->dims[0] == d.m && c->dims[1] == d.n;
    } else {
        ok = c->rank <= 2;
        for (int i = 0; ok && i < c->rank; i++) {
            int64_t dim = c->dims[c->rank - 1 - i], target = want[1 - i];
            ok = dim == 1 || dim == target;
        }
    }
    if (!ok) {
        char s[OC_SHAPE_STR_MAX];
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "input C of shape %s does not %s [%" PRId64 ", %" PRId64 "]",
                             oc_shape_str(c->dims, c->rank, s, sizeof s),
                             p->broadcast ? "broadcast to" : "match (broadcast is 0)", d.m, d.n);
    }
    return NULL;
}

static onnxc_status *gemm_shapes(const oc_node *n, const gemm_params *p, const oc_tensor *a,
                                 const oc_tensor *b, const oc_tensor *c, gemm_dims *d)
{
    OC_TRY(oc_check_dtype(n, "input A", a, ONNXC_DTYPE_FLOAT, 0));
    OC_TRY(oc_check_dtype(n, "input B", b, ONNXC_DTYPE_FLOAT, 0));
    if (a->rank != 2 || b->rank != 2)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "inputs A and B must be 2-D; they have ranks %d and %d", a->rank,
                             b->rank);
    d->m = p->trans_a ? a->dims[1] : a->dims[0];
    d->k = p->trans_a ? a->dims[0] : a->dims[1];
    int64_t kb = p->trans_b ? b->dims[1] : b->dims[0];
    d->n = p->trans_b ? b->dims[0] : b->dims[1];
    if (kb != d->k)
        return oc_node_error(n, ONNXC_ERR_MODEL,
                             "inner dimensions differ: op(A) is [%" PRId64 ", %" PRId64
                             "], op(B) is [%" PRId64 ", %" PRId64 "]",
                             d->m, d->k, kb, d->n);
    if (c) return check_c(n, p, c, *d);
    if (n->opset < 11)
        return oc_node_error(n, ONNXC_ERR_MODEL, "input C is required before opset 11");
    return NULL;
}

onnxc_status *oc_gemm_infer(oc_infer_ctx *ctx)
{
    if (!ctx->in[0] || !ctx->in[1])
        return oc_node_error(ctx->node, ONNXC_ERR_MODEL, "inputs A and B are required");
    gemm_dims d;
    OC_TRY(gemm_shapes(ctx->node, ctx->params, ctx->in[0], ctx->in[1],
                       input_c(ctx->in, ctx->n_inputs), &d));
    oc_tensor *y = ctx->out[0];
    if (!y) return NULL; /* nobody reads Y: nothing to compute */
    y->dtype = ONNXC_DTYPE_FLOAT;
    y->rank = 2;
    y->dims[0] = d.m;
    y->dims[1] = d.n;
    ctx->workspace = oc_sgemm_workspace((size_t)d.m, (size_t)d.n, (size_t)d.k);
    if (ctx->workspace == SIZE_MAX)
        return oc_node_error(ctx->node, ONNXC_ERR_LIMIT, "the scratch size overflows");
    return NULL;
}

/* y [M x N] = C broadcast. */
static void broadcast_c(const oc_tensor *c, gemm_dims d, float *y)
{
    const float *cv = c->data;
    int64_t rows = c->rank == 2 ? c->dims[0] : 1, cols = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
    for (int64_t i = 0; i < d.m; i++) {
        const float *src = cv + (rows == 1 ? 0 : i) * cols;
        float *dst = y + i * d.n;
        if (cols == 1)
            for (int64_t j = 0; j < d.n; j++) dst[j] = src[0];
        else
            memcpy(dst, src, (size_t)d.n * sizeof *dst);
    }
}

onnxc_status *oc_gemm_run(oc_run_ctx *ctx)
{
    const gemm_params *p = ctx->params;
    const oc_tensor *a = ctx->in[0], *b = ctx->in[1], *c = input_c(ctx->in, ctx->n_inputs);
    if (!ctx->out[0]) return NULL;
    gemm_dims d;
    OC_TRY(gemm_shapes(ctx->node, p, a, b, c, &d));
    if (d.m == 0 || d.n == 0) return NULL; /* Y is empty; C's data may be NULL */
    float *y = ctx->out[0]->data;
    /* Y starts as C so the kernel's beta applies to it; beta == 0 ignores C. */
    bool use_c = c && p->beta != 0.0f;
    if (use_c) broadcast_c(c, d, y);
    oc_sgemm(p->trans_a, p->trans_b, (size_t)d.m, (size_t)d.n, (size_t)d.k, p->alpha, a->data,
             (size_t)a->dims[1], b->data, (size_t)b->dims[1], use_c ? p->beta : 0.0f, y,
             (size_t)d.n, ctx->workspace);
    return NULL;
}
