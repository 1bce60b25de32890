/* Gemm (ai.onnx opsets 1-26): Y = alpha * op(A) * op(B) + beta * C, float32.
 *
 * Version differences: before opset 7 C must be [M, N] unless the
 * 'broadcast' attribute is set; from 7 C broadcasts unidirectionally to
 * [M, N] and 'broadcast' is gone; from 11 C is optional.
 *
 * One oc_gemm call does it all: C (any broadcast) is read by the kernel's
 * epilogue through strides, as is a Relu/Clip the optimizer fused into the
 * node, so Y is written once. A constant B is packed at load into the
 * micro-kernels' panels (oc_pack_weight_b): products with many rows then
 * skip packing it per call, and products with a few rows (a fully-connected
 * layer on a few images) stream its panels in one sequential pass, about
 * 1.3 times faster than the rows of W in place with 4 rows. One or two rows
 * (batch 1) read W in place as fast. The packed copy replaces the weights in
 * memory: their pages are given back as they are packed, so AlexNet's 228
 * MB are never held twice. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "kernels/gemm.h"
#include "ops.h"

/* B read in place (the few-vector path) is as fast as its panels with up
 * to IN_PLACE_ROWS rows (one sequential stream of its rows), and faster
 * with up to FEW_ROWS rows and fewer than FEW_ROWS_MIN_COLS columns (a
 * classifier of a few classes); packing it would then only cost load time
 * and memory. */
#define IN_PLACE_ROWS 2
#define FEW_ROWS 8
#define FEW_ROWS_MIN_COLS 64

typedef struct gemm_params {
    float alpha, beta;
    bool trans_a, trans_b;
    bool broadcast; /* opsets 1-6; always true from 7 */
    oc_gemm_packed packed_b; /* valid when packed_from != NULL */
    const void *packed_from; /* the B data it was packed from */
    const float *aligned_b;  /* B read in place, copied to a cache-line boundary */
    const void *aligned_from; /* the B data it was copied from */
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
    ctx->workspace = oc_gemm_workspace((size_t)d.m, (size_t)d.n, (size_t)d.k, ctx->threads);
    if (ctx->workspace == SIZE_MAX)
        return oc_node_error(ctx->node, ONNXC_ERR_LIMIT, "the scratch size overflows");
    return NULL;
}

/* The epilogue's view of C broadcast to [M, N]: element (i, j) at
 * c[i * x_rs + j * x_cs]. */
static void c_strides(const oc_tensor *c, size_t *x_rs, size_t *x_cs)
{
    int64_t rows = c->rank == 2 ? c->dims[0] : 1, cols = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
    *x_cs = cols == 1 ? 0 : 1;
    *x_rs = rows == 1 ? 0 : (size_t)cols;
}

/* The fused activation as the kernel's clamp. */
static void fused_clamp(const oc_node *n, oc_gemm_epilogue *ep)
{
    if (n->fused.kind == OC_ACT_RELU) {
        ep->clamp = true, ep->lo = 0.0f, ep->hi = INFINITY;
    } else if (n->fused.kind == OC_ACT_CLIP) {
        ep->clamp = true, ep->lo = n->fused.min, ep->hi = n->fused.max;
    }
}

typedef struct release_ctx {
    oc_pack_ctx *pack;
    int input;
} release_ctx;

static void release_piece(void *ctx, const void *src, size_t bytes)
{
    release_ctx *r = ctx;
    if (r->pack->release) r->pack->release(r->pack, r->input, src, bytes);
}

onnxc_status *oc_pack_weight_b(oc_pack_ctx *ctx, int input, bool trans_b, size_t k, size_t n,
                               size_t rows, oc_gemm_packed *out, const void **packed_from)
{
    const oc_tensor *b = ctx->in[input];
    *packed_from = NULL;
    if (rows > 0 && (rows <= IN_PLACE_ROWS || (rows <= FEW_ROWS && n < FEW_ROWS_MIN_COLS)))
        return NULL;
    size_t bytes = oc_gemm_pack_b_size(OC_ISA_AUTO, n, k);
    if (bytes == SIZE_MAX) return NULL; /* run packs per call instead */
    float *dst = ctx->alloc(ctx->owner, bytes);
    if (!dst) return oc_no_memory();
    release_ctx rc = {ctx, input};
    oc_gemm_pack_b_consuming(OC_ISA_AUTO, trans_b, k, n, b->data, (size_t)b->dims[1], dst, out,
                             release_piece, &rc);
    *packed_from = b->data;
    return NULL;
}

/* A B read in place is copied once into the model's own memory, the
 * original's pages given back as they are copied; the sums keep their
 * order, so results do not depend on where the weights lie. Two reasons:
 * - rows that do not start on cache lines (a weight in the file mapping at
 *   any offset): every vector load of its one streaming pass would split
 *   two lines; copied to a line boundary, the rows all start on one (their
 *   length being whole lines). AlexNet's 4096 x 4096 layer, 48 bytes past
 *   a line: about 10% faster streamed (microbenchmark, caches flushed).
 * - a big B (HUGE_COPY_MIN_BYTES): the file mapping's 4 KB pages end the
 *   hardware prefetcher's streams every 4 KB and miss the TLB, where the
 *   model's big buffers get 2 MB pages (oc_model_alloc). AlexNet's 151 MB
 *   layer at batch 1: 5.69 -> 5.27 ms, 4096 x 4096: 2.56 -> 2.39 (1 thread),
 *   for 110-250 ms more load. */
#define ALIGN_COPY_MIN_BYTES ((size_t)1 << 20)
#define HUGE_COPY_MIN_BYTES ((size_t)4 << 20)
#define ALIGN_COPY_PIECE ((uintptr_t)4 << 20)

onnxc_status *oc_align_weight_b(oc_pack_ctx *ctx, int input, const float **aligned,
                                const void **aligned_from)
{
    const oc_tensor *b = ctx->in[input];
    *aligned = NULL;
    *aligned_from = NULL;
    bool realign = (uintptr_t)b->data % OC_ALIGN != 0 && b->nbytes >= ALIGN_COPY_MIN_BYTES &&
                   (size_t)b->dims[1] * sizeof(float) % OC_ALIGN == 0;
    if (!realign && b->nbytes < HUGE_COPY_MIN_BYTES) return NULL;
    char *dst = ctx->alloc(ctx->owner, b->nbytes);
    if (!dst) return oc_no_memory();
    /* Piece by piece, each piece's pages given back once copied, so the
     * copy and the original are never both resident (VGG-16's 411 MB). */
    const char *src = b->data;
    for (size_t off = 0, end; off < b->nbytes; off = end) {
        uintptr_t stop = ((uintptr_t)src + off + ALIGN_COPY_PIECE) & ~(uintptr_t)4095;
        end = stop - (uintptr_t)src < b->nbytes ? (size_t)(stop - (uintptr_t)src) : b->nbytes;
        memcpy(dst + off, src + off, end - off);
        if (ctx->release) ctx->release(ctx, input, src + off, end - off);
    }
    *aligned = (const float *)dst;
    *aligned_from = b->data;
    return NULL;
}

onnxc_status *oc_gemm_pack(oc_pack_ctx *ctx)
{
    gemm_params *p = ctx->node->params;
    const oc_tensor *a = ctx->in[0], *b = ctx->n_inputs > 1 ? ctx->in[1] : NULL;
    if (!p || !b || !b->data || b->dtype != ONNXC_DTYPE_FLOAT || b->rank != 2 || b->count == 0)
        return NULL;
    size_t k = (size_t)(p->trans_b ? b->dims[1] : b->dims[0]);
    size_t n = (size_t)(p->trans_b ? b->dims[0] : b->dims[1]);
    size_t m = a && a->rank == 2 ? (size_t)(p->trans_a ? a->dims[1] : a->dims[0]) : 0;
    OC_TRY(oc_pack_weight_b(ctx, 1, p->trans_b, k, n, m, &p->packed_b, &p->packed_from));
    return p->packed_from ? NULL : oc_align_weight_b(ctx, 1, &p->aligned_b, &p->aligned_from);
}

onnxc_status *oc_gemm_run(oc_run_ctx *ctx)
{
    const gemm_params *p = ctx->params;
    const oc_tensor *a = ctx->in[0], *b = ctx->in[1], *c = input_c(ctx->in, ctx->n_inputs);
    if (!ctx->out[0]) return NULL;
    gemm_dims d;
    OC_TRY(gemm_shapes(ctx->node, p, a, b, c, &d));
    if (d.m == 0 || d.n == 0) return NULL; /* Y is empty; C's data may be NULL */
    const float *bv = p->aligned_from && p->aligned_from == b->data ? p->aligned_b : b->data;
    oc_gemm_desc g = oc_gemm_desc_make(p->trans_a, p->trans_b, (size_t)d.m, (size_t)d.n,
                                       (size_t)d.k, a->data, (size_t)a->dims[1], bv,
                                       (size_t)b->dims[1], ctx->out[0]->data, (size_t)d.n);
    if (p->packed_from && p->packed_from == b->data && (size_t)d.n == p->packed_b.rows &&
        (size_t)d.k == p->packed_b.k) {
        g.packed_b = &p->packed_b;
        g.b = NULL; /* released at load (oc_pack_weight_b) */
    }
    g.ep.alpha = p->alpha;
    if (c && p->beta != 0.0f) { /* beta == 0 ignores C */
        g.ep.beta = p->beta;
        g.ep.x = c->data;
        c_strides(c, &g.ep.x_rs, &g.ep.x_cs);
    }
    fused_clamp(ctx->node, &g.ep);
    oc_gemm(&g, ctx->pool, ctx->workspace, ctx->workspace_size);
    return NULL;
}
