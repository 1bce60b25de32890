/* Transpose: output dim k is input dim perm[k] (default: the dims
 * reversed). Any fixed-size element type (kernels/strided.h). */
#include <inttypes.h>
#include <string.h>

#include "int_inputs.h"
#include "kernels/strided.h"
#include "ops.h"

typedef struct transpose_params {
    const int64_t *perm; /* NULL: reversed */
    size_t n_perm;
} transpose_params;

onnxc_status *oc_transpose_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    static const char *const names[] = {"perm"};
    OC_TRY(oc_check_attr_names(n, names, 1));
    transpose_params *p = oc_arena_alloc(arena, sizeof *p);
    if (!p) return oc_no_memory();
    OC_TRY(oc_attr_ints(n, "perm", &p->perm, &p->n_perm));
    if (p->perm && p->n_perm > OC_MAX_RANK)
        return oc_node_error(n, ONNXC_ERR_LIMIT,
                             "attribute 'perm' has %zu entries; onnxc supports ranks up to %d",
                             p->n_perm, OC_MAX_RANK);
    bool seen[OC_MAX_RANK] = {false};
    for (size_t i = 0; p->perm && i < p->n_perm; i++) {
        int64_t axis = p->perm[i];
        if (axis < 0 || axis >= (int64_t)p->n_perm || seen[axis])
            return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'perm' is not a permutation of 0..%zu",
                                 p->n_perm - 1);
        seen[axis] = true;
    }
    *params = p;
    return NULL;
}

/* The permutation for x's rank. */
static onnxc_status *get_perm(const oc_node *n, const transpose_params *p, int rank, int *perm)
{
    if (p->perm && p->n_perm != (size_t)rank)
        return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'perm' has %zu entries for rank %d",
                             p->n_perm, rank);
    for (int k = 0; k < rank; k++) perm[k] = p->perm ? (int)p->perm[k] : rank - 1 - k;
    return NULL;
}

onnxc_status *oc_transpose_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const oc_tensor *x = ctx->in[0];
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'data' is missing");
    OC_TRY(oc_check_sized(n, "data", x));
    int perm[OC_MAX_RANK];
    OC_TRY(get_perm(n, ctx->params, x->rank, perm));
    if (ctx->out[0]) {
        oc_tensor_copy_type(ctx->out[0], x);
        for (int k = 0; k < x->rank; k++) ctx->out[0]->dims[k] = x->dims[perm[k]];
    }
    return NULL;
}

onnxc_status *oc_transpose_run(oc_run_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    oc_tensor *out = ctx->out[0];
    if (!out || out->count == 0) return NULL;
    int perm[OC_MAX_RANK];
    OC_TRY(get_perm(ctx->node, ctx->params, x->rank, perm));
    oc_transpose(out->data, x->data, onnxc_dtype_size(x->dtype), x->rank, x->dims, perm);
    return NULL;
}
