/* Multidirectional (numpy) broadcasting for binary element-wise kernels.
 *
 * A plan walks out = f(a, b) where a and b each broadcast to out's shape. It
 * drops size-1 dims and merges neighbouring dims that every operand walks
 * contiguously, so the common cases become a few long spans: same shapes ->
 * one span; a scalar -> one span with that operand fixed; a per-channel
 * [C,1,1] against [N,C,H,W] -> N*C spans of H*W with the channel value fixed.
 * Each span goes to a span function that sees only "step 1" or "step 0"
 * (repeat one element) per input, which the compiler can vectorize.
 *
 * The kernels know nothing of the IR: shapes are plain dim arrays. */
#ifndef OC_KERNELS_BROADCAST_H
#define OC_KERNELS_BROADCAST_H

#include <stddef.h>
#include <stdint.h>

#define OC_BCAST_MAX_RANK 8

/* Computes n elements of out from a and b. a_step and b_step are 1 (walk the
 * input) or 0 (repeat its first element). out may be the same pointer as an
 * input that walks with step 1 (in-place accumulation), never a shifted one. */
typedef void (*oc_binary_span_fn)(void *out, const void *a, size_t a_step, const void *b,
                                  size_t b_step, size_t n);

/* One operand: its shape and element size in bytes. */
typedef struct oc_bcast_operand {
    int rank;
    const int64_t *dims;
    size_t elem_size;
} oc_bcast_operand;

typedef struct oc_bcast_plan {
    int rank;                               /* collapsed dims; the last is the span */
    int64_t dims[OC_BCAST_MAX_RANK];
    int64_t a_stride[OC_BCAST_MAX_RANK];    /* bytes; 0 on a broadcast dim */
    int64_t b_stride[OC_BCAST_MAX_RANK];
    size_t span;                            /* elements per span function call */
    size_t a_step, b_step;                  /* 0 or 1 */
    size_t out_span_bytes;                  /* out is dense: spans follow each other */
    size_t spans;                           /* number of calls; 0 for an empty output */
} oc_bcast_plan;

/* Builds the plan. Preconditions (checked by the op's shape inference): ranks
 * are at most OC_BCAST_MAX_RANK, a and b have ranks <= out's, and each dim of a
 * and b (right-aligned against out) is 1 or out's dim. a and b need not
 * broadcast to each other's shape exactly: a plan for out = f(out, x) serves a
 * variadic op folding one input at a time into its output. */
void oc_bcast_plan_init(oc_bcast_plan *plan, const oc_bcast_operand *out,
                        const oc_bcast_operand *a, const oc_bcast_operand *b);

/* Runs fn over the whole output. */
void oc_bcast_run(const oc_bcast_plan *plan, oc_binary_span_fn fn, void *out, const void *a,
                  const void *b);

#endif
