/* MatMul (ai.onnx opsets 1-26): numpy matmul semantics, float32.
 *
 * A 1-D A is a row [1, K] and a 1-D B a column [K, 1], and the dim they add
 * is removed from the output. Dims before the last two are batch dims, which
 * broadcast as in numpy; each output batch is one oc_sgemm call on the A and
 * B matrices it maps to. When B has a single matrix and A needs no
 * broadcasting, A's batches are stacked rows of one [batch * M, K] matrix:
 * a single call then does the whole product.
 *
 * A constant 2-D B is packed at load as in Gemm (oc_pack_weight_b, see
 * gemm.c), and a Relu/Clip the
 * optimizer fused into the node is applied in the kernel's epilogue. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "kernels/gemm.h"
#include "ops.h"

/* Set by the pack hook; params stay NULL without one. */
typedef struct matmul_params {
    oc_gemm_packed packed_b;
    const void *packed_from;  /* the B data it was packed from */
    const float *aligned_b;   /* B read in place, copied to a cache-line boundary */
    const void *aligned_from; /* the B data it was copied from */
} matmul_params;

onnxc_status *oc_matmul_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    (void)arena;
    *params = NULL;
    return oc_check_attr_names(n, NULL, 0);
}

typedef struct matmul_dims {
    int64_t m, n, k;
    int batch_rank;
    int64_t batch[OC_MAX_RANK];    /* the output's batch extents */
    int64_t a_step[OC_MAX_RANK];   /* matrices to skip per batch index; 0 = broadcast */
    int64_t b_step[OC_MAX_RANK];
    int64_t batches;               /* output matrices */
    bool stacked;                  /* one call of batches * m rows does it all */
} matmul_dims;

static onnxc_status *shape_mismatch(const oc_node *n, const oc_tensor *a, const oc_tensor *b,
                                    const char *why)
{
    char sa[OC_SHAPE_STR_MAX], sb[OC_SHAPE_STR_MAX];
    return oc_node_error(n, ONNXC_ERR_MODEL, "inputs A %s and B %s: %s",
                         oc_shape_str(a->dims, a->rank, sa, sizeof sa),
                         oc_shape_str(b->dims, b->rank, sb, sizeof sb), why);
}

/* Per batch dim of t (right-aligned against batch_rank output batch dims):
 * its extent, 1 where t has none. */
static void batch_extents(const oc_tensor *t, int batch_rank, int64_t *extent)
{
    int own = t->rank > 2 ? t->rank - 2 : 0;
    for (int i = 0; i < batch_rank; i++) {
        int j = i - (batch_rank - own);
        extent[i] = j >= 0 ? t->dims[j] : 1;
    }
}

/* The matrices one step of each batch dim skips in a tensor with those batch
 * extents (0 where it broadcasts); *matrices = its matrix count. Called only
 * for a non-empty output, where every extent is >= 1. False on overflow. */
static bool batch_steps(const int64_t *extent, int batch_rank, int64_t *step, int64_t *matrices)
{
    *matrices = 1;
    for (int i = batch_rank - 1; i >= 0; i--) {
        step[i] = extent[i] == 1 ? 0 : *matrices;
        if (!oc_mul_i64(*matrices, extent[i], matrices)) return false;
    }
    return true;
}

static onnxc_status *matmul_dims_of(const oc_node *n, const oc_tensor *a, const oc_tensor *b,
                                    matmul_dims *d)
{
    if (!a || !b) return oc_node_error(n, ONNXC_ERR_MODEL, "inputs A and B are required");
    if (a->dtype != b->dtype)
        return oc_node_error(n, ONNXC_ERR_MODEL, "inputs A (%s) and B (%s) differ in element type",
                             onnxc_dtype_name(a->dtype), onnxc_dtype_name(b->dtype));
    OC_TRY(oc_check_dtype(n, "input A", a, ONNXC_DTYPE_FLOAT, 0));
    if (a->rank < 1 || b->rank < 1)
        return shape_mismatch(n, a, b, "MatMul needs inputs of rank >= 1");
    d->m = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
    d->k = a->dims[a->rank - 1];
    int64_t b_rows = b->rank >= 2 ? b->dims[b->rank - 2] : b->dims[0];
    d->n = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
    if (b_rows != d->k) return shape_mismatch(n, a, b, "the inner dimensions differ");

    int a_batch = a->rank > 2 ? a->rank - 2 : 0, b_batch = b->rank > 2 ? b->rank - 2 : 0;
    d->batch_rank = a_batch > b_batch ? a_batch : b_batch;
    int64_t a_extent[OC_MAX_RANK], b_extent[OC_MAX_RANK];
    batch_extents(a, d->batch_rank, a_extent);
    batch_extents(b, d->batch_rank, b_extent);
    bool empty = d->m == 0 || d->n == 0;
    for (int i = 0; i < d->batch_rank; i++) {
        if (a_extent[i] != b_extent[i] && a_extent[i] != 1 && b_extent[i] != 1)
            return shape_mismatch(n, a, b, "the batch dimensions do not broadcast");
        d->batch[i] = a_extent[i] == 1 ? b_extent[i] : a_extent[i];
        empty = empty || d->batch[i] == 0;
    }
    d->batches = 0;
    d->stacked = false;
    if (empty) return NULL; /* nothing to compute: the other dims bound no product */
    /* Y's element count (not validated yet) bounds every product in the run. */
    int64_t y_steps[OC_MAX_RANK], a_matrices, b_matrices, rows, y_count;
    if (!batch_steps(d->batch, d->batch_rank, y_steps, &d->batches) ||
        !batch_steps(a_extent, d->batch_rank, d->a_step, &a_matrices) ||
        !batch_steps(b_extent, d->batch_rank, d->b_step, &b_matrices) ||
        !oc_mul_i64(d->batches, d->m, &rows) || !oc_mul_i64(rows, d->n, &y_count))
        return oc_node_error(n, ONNXC_ERR_LIMIT, "output Y would have more than 2^63 elements");
    d->stacked = b_matrices == 1 && a_matrices == d->batches;
    return NULL;
}

/* Rows of A per oc_sgemm call. */
static int64_t rows_per_call(const matmul_dims *d) { return d->stacked ? d->batches * d->m : d->m; }

onnxc_status *oc_matmul_infer(oc_infer_ctx *ctx)
{
    const oc_tensor *a = ctx->in[0], *b = ctx->in[1];
    matmul_dims d;
    OC_TRY(matmul_dims_of(ctx->node, a, b, &d));
    oc_tensor *y = ctx->out[0];
    if (!y) return NULL;
    y->dtype = a->dtype;
    y->rank = d.batch_rank;
    memcpy(y->dims, d.batch, (size_t)d.batch_rank * sizeof *d.batch);
    if (a->rank >= 2) y->dims[y->rank++] = d.m;
    if (b->rank >= 2) y->dims[y->rank++] = d.n;
    if (d.batches == 0) return NULL; /* an empty output: no scratch */
    ctx->workspace =
        oc_gemm_workspace((size_t)rows_per_call(&d), (size_t)d.n, (size_t)d.k, ctx->threads);
    if (ctx->workspace == SIZE_MAX)
        return oc_node_error(ctx->node, ONNXC_ERR_LIMIT, "the scratch size overflows");
    return NULL;
}

/* The A and B matrices output batch `index` reads. */
static void batch_sources(const matmul_dims *d, int64_t index, int64_t *a_matrix,
                          int64_t *b_matrix)
{
    *a_matrix = *b_matrix = 0;
    for (int i = d->batch_rank - 1; i >= 0; i--) {
        int64_t digit = index % d->batch[i];
        index /= d->batch[i];
        *a_matrix += digit * d->a_step[i];
        *b_matrix += digit * d->b_step[i];
    }
}

onnxc_status *oc_matmul_pack(oc_pack_ctx *ctx)
{
    const oc_tensor *a = ctx->in[0], *b = ctx->n_inputs > 1 ? ctx->in[1] : NULL;
    if (!b || !b->data || b->dtype != ONNXC_DTYPE_FLOAT || b->rank != 2 || b->count == 0)
        return NULL;
    size_t k = (size_t)b->dims[0], n = (size_t)b->dims[1];
    /* With one B matrix, A's batches stack into rows of one product. */
    bool rows_known = a && a->rank >= 1 && a->dtype == ONNXC_DTYPE_FLOAT &&
                      a->dims[a->rank - 1] == (int64_t)k;
    size_t rows = rows_known ? a->count / k : 0;
    matmul_params *p = ctx->alloc(ctx->owner, sizeof *p);
    if (!p) return oc_no_memory();
    memset(p, 0, sizeof *p);
    OC_TRY(oc_pack_weight_b(ctx, 1, false, k, n, rows, &p->packed_b, &p->packed_from));
    if (!p->packed_from) OC_TRY(oc_align_weight_b(ctx, 1, &p->aligned_b, &p->aligned_from));
    if (!p->packed_from && !p->aligned_from) return NULL;
    ctx->node->params = p;
    return NULL;
}

onnxc_status *oc_matmul_run(oc_run_ctx *ctx)
{
    const oc_tensor *a = ctx->in[0], *b = ctx->in[1];
    oc_tensor *y = ctx->out[0];
    if (!y) return NULL;
    matmul_dims d;
    OC_TRY(matmul_dims_of(ctx->node, a, b, &d));
    if (y->count == 0) return NULL;
    const matmul_params *p = ctx->params;
    const float *av = a->data;
    const float *bv = p && p->aligned_from && p->aligned_from == b->data ? p->aligned_b : b->data;
    float *yv = y->data;
    size_t m = (size_t)rows_per_call(&d), n = (size_t)d.n, k = (size_t)d.k;
    bool packed = p && p->packed_from == b->data && b->rank == 2 && p->packed_b.rows == n &&
                  p->packed_b.k == k;
    int64_t calls = d.stacked ? 1 : d.batches;
    for (int64_t i = 0; i < calls; i++) {
        int64_t a_matrix = 0, b_matrix = 0;
        if (!d.stacked) batch_sources(&d, i, &a_matrix, &b_matrix);
        oc_gemm_desc g = oc_gemm_desc_make(false, false, m, n, k, av + a_matrix * d.m * d.k, k,
                                           bv + b_matrix * d.k * d.n, n, yv + i * d.m * d.n, n);
        if (packed) {
            g.packed_b = &p->packed_b;
            g.b = NULL; /* released at load (oc_pack_weight_b) */
        }
        if (ctx->node->fused.kind == OC_ACT_RELU)
            g.ep.clamp = true, g.ep.lo = 0.0f, g.ep.hi = INFINITY;
        else if (ctx->node->fused.kind == OC_ACT_CLIP)
            g.ep.clamp = true, g.ep.lo = ctx->node->fused.min, g.ep.hi = ctx->node->fused.max;
        oc_gemm(&g, ctx->pool, ctx->workspace, ctx->workspace_size);
    }
    return NULL;
}
