/* Helpers of the shape-family ops (reshape.c, shape.c, gather.c, pad.c,
 * transpose.c): integer list inputs (shapes, axes, starts, pads, split
 * sizes) and axis lists. Such an input decides the output's shape, so its
 * values must be known at inference: a constant, or computed from shapes. */
#ifndef OC_OPS_INT_INPUTS_H
#define OC_OPS_INT_INPUTS_H

#include <inttypes.h>
#include <string.h>

#include "ops.h"

/* Element i of an int32 or int64 tensor (data may be unaligned). */
static inline int64_t oc_int_at(const oc_tensor *t, size_t i)
{
    if (t->dtype == ONNXC_DTYPE_INT32) {
        int32_t v;
        memcpy(&v, (const char *)t->data + i * sizeof v, sizeof v);
        return v;
    }
    int64_t v;
    memcpy(&v, (const char *)t->data + i * sizeof v, sizeof v);
    return v;
}

/* Input what is a 1-D int64 (or, with allow_int32, int32) tensor whose
 * values are known now. */
static inline onnxc_status *oc_int_list_input(const oc_node *n, const oc_tensor *t, const char *what,
                                              bool allow_int32)
{
    if (t->dtype != ONNXC_DTYPE_INT64 && !(allow_int32 && t->dtype == ONNXC_DTYPE_INT32))
        return oc_node_error(n, ONNXC_ERR_MODEL, "input '%s' is %s, expected %s", what,
                             onnxc_dtype_name(t->dtype), allow_int32 ? "int32 or int64" : "int64");
    if (t->rank != 1)
        return oc_node_error(n, ONNXC_ERR_MODEL, "input '%s' has rank %d, expected 1", what,
                             t->rank);
    if (!t->data)
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED,
                             "the output shape depends on input '%s', which depends on values "
                             "computed at run time (onnxc needs it before the run)",
                             what);
    return NULL;
}

/* Copies a checked list input into out[0..t->count) (the caller bounds the count). */
static inline void oc_int_list_copy(const oc_tensor *t, int64_t *out)
{
    for (size_t i = 0; i < t->count; i++) out[i] = oc_int_at(t, i);
}

/* Normalizes axes[0..count) against rank in place (negative ones count from
 * the end) and rejects repeats. Negative axes are accepted before opset 11
 * too, where the spec did not define them: old exporters wrote them (the
 * PyTorch-converted GLU test uses Split axis -1 at opset 6), and their
 * meaning is unambiguous. */
static inline onnxc_status *oc_normalize_axes(const oc_node *n, int64_t *axes, size_t count,
                                              int rank)
{
    bool seen[OC_MAX_RANK] = {false};
    for (size_t i = 0; i < count; i++) {
        int64_t a = axes[i];
        if (a < -(int64_t)rank || a >= rank)
            return oc_node_error(n, ONNXC_ERR_MODEL, "axis %" PRId64 " is out of range for rank %d",
                                 a, rank);
        if (a < 0) a += rank;
        if (seen[a])
            return oc_node_error(n, ONNXC_ERR_MODEL, "axis %" PRId64 " is given twice", axes[i]);
        seen[a] = true;
        axes[i] = a;
    }
    return NULL;
}

/* The element type is one onnxc can hold (the ops here move bytes). */
static inline onnxc_status *oc_check_sized(const oc_node *n, const char *what, const oc_tensor *t)
{
    if (onnxc_dtype_size(t->dtype) == 0)
        return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "%s of element type %s is not supported",
                             what, onnxc_dtype_name(t->dtype));
    return NULL;
}

/* Input i of in[0..n_inputs) when present (listed and not omitted), else NULL. */
static inline const oc_tensor *oc_input_or_null(int n_inputs, const oc_tensor *const *in, int i)
{
    return i < n_inputs ? in[i] : NULL;
}

#endif
