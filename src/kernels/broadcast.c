#include "broadcast.h"

/* The dim of x at out's position i (x right-aligned, padded with 1s on the left). */
static int64_t aligned_dim(const oc_bcast_operand *x, int out_rank, int i)
{
    int j = i - (out_rank - x->rank);
    return j >= 0 ? x->dims[j] : 1;
}

/* Row-major element strides of x at out's positions, 0 where x is broadcast. */
static void aligned_strides(const oc_bcast_operand *x, int out_rank, int64_t *strides)
{
    int64_t stride = 1;
    for (int i = out_rank - 1; i >= 0; i--) {
        int64_t d = aligned_dim(x, out_rank, i);
        strides[i] = d == 1 ? 0 : stride;
        stride *= d;
    }
}

/* Appends dim i to the plan, merging it into the previous one when both
 * inputs walk the two as one contiguous run (or repeat across both). */
static void push_dim(oc_bcast_plan *p, int64_t dim, int64_t a_stride, int64_t b_stride)
{
    int last = p->rank - 1;
    if (last >= 0 && p->a_stride[last] == a_stride * dim && p->b_stride[last] == b_stride * dim) {
        p->dims[last] *= dim;
        p->a_stride[last] = a_stride;
        p->b_stride[last] = b_stride;
        return;
    }
    p->dims[p->rank] = dim;
    p->a_stride[p->rank] = a_stride;
    p->b_stride[p->rank] = b_stride;
    p->rank++;
}

void oc_bcast_plan_init(oc_bcast_plan *plan, const oc_bcast_operand *out,
                        const oc_bcast_operand *a, const oc_bcast_operand *b)
{
    int64_t a_el[OC_BCAST_MAX_RANK], b_el[OC_BCAST_MAX_RANK];
    for (int i = 0; i < out->rank; i++)
        if (out->dims[i] == 0) {
            /* Nothing to walk. The other dims of an empty tensor bound nothing:
             * their products (the strides) could overflow, so none is formed. */
            *plan = (oc_bcast_plan){.rank = 1};
            return;
        }
    /* Every dim is >= 1 now, so out's element count bounds every product
     * below: each operand's strides, the merged dims, the total. */
    size_t total = 1;
    for (int i = 0; i < out->rank; i++) total *= (size_t)out->dims[i];
    aligned_strides(a, out->rank, a_el);
    aligned_strides(b, out->rank, b_el);

    plan->rank = 0;
    for (int i = 0; i < out->rank; i++)
        if (out->dims[i] != 1) push_dim(plan, out->dims[i], a_el[i], b_el[i]);
    if (plan->rank == 0) push_dim(plan, 1, 0, 0); /* a single element */

    int last = plan->rank - 1;
    plan->span = (size_t)plan->dims[last];
    plan->a_step = plan->a_stride[last] != 0;
    plan->b_step = plan->b_stride[last] != 0;
    plan->out_span_bytes = plan->span * out->elem_size;
    plan->spans = plan->span ? total / plan->span : 0;
    for (int i = 0; i < plan->rank; i++) {
        plan->a_stride[i] *= (int64_t)a->elem_size;
        plan->b_stride[i] *= (int64_t)b->elem_size;
    }
}

void oc_bcast_run(const oc_bcast_plan *plan, oc_binary_span_fn fn, void *out, const void *a,
                  const void *b)
{
    /* An odometer over the outer dims; the pointers move by strides, so no
     * per-span index arithmetic. */
    int64_t idx[OC_BCAST_MAX_RANK] = {0};
    const char *pa = a, *pb = b;
    char *po = out;
    for (size_t s = 0; s < plan->spans; s++) {
        fn(po, pa, plan->a_step, pb, plan->b_step, plan->span);
        if (s + 1 == plan->spans) break; /* keep the pointers inside the tensors */
        po += plan->out_span_bytes;
        for (int k = plan->rank - 2; k >= 0; k--) {
            pa += plan->a_stride[k];
            pb += plan->b_stride[k];
            if (++idx[k] < plan->dims[k]) break;
            pa -= plan->a_stride[k] * plan->dims[k];
            pb -= plan->b_stride[k] * plan->dims[k];
            idx[k] = 0;
        }
    }
}
