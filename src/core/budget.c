#include "budget.h"

#include <inttypes.h>

#include "ir.h"

oc_limits oc_limits_default(void)
{
    return (oc_limits){ONNXC_MAX_RANK, ONNXC_DEFAULT_MAX_ELEMENTS, ONNXC_DEFAULT_MAX_BYTES,
                       ONNXC_DEFAULT_MAX_OPS};
}

onnxc_status *oc_limits_from_options(const onnxc_model_options *options, oc_limits *out)
{
    *out = oc_limits_default();
    if (!options) return NULL;
    if (options->max_rank < 0 || options->max_rank > ONNXC_MAX_RANK)
        return oc_error(ONNXC_ERR_ARGUMENT, "model options: max_rank %d is outside 0..%d",
                        options->max_rank, ONNXC_MAX_RANK);
    if (options->threads < 0)
        return oc_error(ONNXC_ERR_ARGUMENT, "model options: threads is negative (%d)",
                        options->threads);
    if (options->max_rank) out->max_rank = options->max_rank;
    if (options->max_elements) out->max_elements = options->max_elements;
    if (options->max_bytes) out->max_bytes = options->max_bytes;
    if (options->max_ops) out->max_ops = options->max_ops;
    return NULL;
}

onnxc_status *oc_limits_check_tensor(const oc_limits *l, const oc_tensor *t)
{
    if (!l) return NULL;
    if (t->rank > l->max_rank)
        return oc_error(ONNXC_ERR_LIMIT, "rank %d exceeds the limit of %d (max_rank)", t->rank,
                        l->max_rank);
    if ((uint64_t)t->count > l->max_elements)
        return oc_error(ONNXC_ERR_LIMIT, "%zu elements exceed the limit of %" PRIu64 " (max_elements)",
                        t->count, l->max_elements);
    if ((uint64_t)t->nbytes > l->max_bytes)
        return oc_error(ONNXC_ERR_LIMIT, "%zu bytes exceed the limit of %" PRIu64 " (max_bytes)",
                        t->nbytes, l->max_bytes);
    return NULL;
}

bool oc_budget_take(oc_budget *b, size_t bytes)
{
    if (!b) return true;
    if (b->limit && ((uint64_t)bytes > b->limit || b->used > b->limit - (uint64_t)bytes)) {
        if (!b->refused) {
            b->refused = bytes ? bytes : 1;
            b->used_then = b->used;
        }
        return false;
    }
    b->used += bytes;
    return true;
}

void oc_budget_give(oc_budget *b, size_t bytes)
{
    if (!b) return;
    b->used = (uint64_t)bytes > b->used ? 0 : b->used - bytes;
}

void *oc_budget_alloc(oc_budget *b, size_t bytes)
{
    if (!oc_budget_take(b, bytes)) return NULL;
    void *p = oc_aligned_alloc(bytes);
    if (!p) oc_budget_give(b, bytes);
    return p;
}

onnxc_status *oc_budget_error(const oc_budget *b, uint64_t bytes, const char *what)
{
    return oc_error(ONNXC_ERR_LIMIT,
                    "%s needs %" PRIu64 " more bytes with %" PRIu64 " in use, beyond the %s's "
                    "limit of %" PRIu64 " bytes (max_bytes)",
                    what, bytes, b->used, b->owner, b->limit);
}

onnxc_status *oc_budget_explain(const oc_budget *b, onnxc_status *st)
{
    if (!b || !b->refused || st != oc_no_memory()) return st;
    return oc_error(ONNXC_ERR_LIMIT,
                    "an allocation of %" PRIu64 " bytes with %" PRIu64 " in use would exceed the "
                    "%s's limit of %" PRIu64 " bytes (max_bytes)",
                    b->refused, b->used_then, b->owner, b->limit);
}
