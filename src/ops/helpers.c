/* Shape helpers shared by the op families. */
#include <stdarg.h>
#include <inttypes.h>
#include <string.h>

#include "ops.h"

onnxc_status *oc_normalize_axis(const oc_node *n, int64_t axis, int rank, int *out)
{
    if (axis < -(int64_t)rank || axis >= rank)
        return oc_node_error(n, ONNXC_ERR_MODEL, "axis %" PRId64 " is out of range for rank %d",
                             axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return NULL;
}

void oc_tensor_copy_type(oc_tensor *dst, const oc_tensor *src)
{
    dst->dtype = src->dtype;
    dst->rank = src->rank;
    memcpy(dst->dims, src->dims, sizeof dst->dims);
}

onnxc_status *oc_broadcast_shape(const oc_node *n, const oc_tensor *a, const oc_tensor *b,
                                 oc_tensor *out)
{
    int rank = a->rank > b->rank ? a->rank : b->rank;
    out->dtype = a->dtype;
    out->rank = rank;
    for (int i = 0; i < rank; i++) {
        int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1;
        int64_t db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1)
            out->dims[i] = da;
        else if (da == 1)
            out->dims[i] = db;
        else {
            char sa[OC_SHAPE_STR_MAX], sb[OC_SHAPE_STR_MAX];
            return oc_node_error(n, ONNXC_ERR_MODEL, "shapes %s and %s do not broadcast",
                                 oc_shape_str(a->dims, a->rank, sa, sizeof sa),
                                 oc_shape_str(b->dims, b->rank, sb, sizeof sb));
        }
    }
    return NULL;
}

onnxc_status *oc_check_dtype(const oc_node *n, const char *what, const oc_tensor *t, ...)
{
    va_list ap;
    va_start(ap, t);
    for (;;) {
        int d = va_arg(ap, int);
        if (d == 0) break;
        if ((int)t->dtype == d) {
            va_end(ap);
            return NULL;
        }
    }
    va_end(ap);
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "%s of element type %s is not supported", what,
                         onnxc_dtype_name(t->dtype));
}
