#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ir.h"

const char *onnxc_dtype_name(int dtype)
{
    switch (dtype) {
    case ONNXC_DTYPE_UNDEFINED: return "undefined";
    case ONNXC_DTYPE_FLOAT: return "float32";
    case ONNXC_DTYPE_UINT8: return "uint8";
    case ONNXC_DTYPE_INT8: return "int8";
    case ONNXC_DTYPE_UINT16: return "uint16";
    case ONNXC_DTYPE_INT16: return "int16";
    case ONNXC_DTYPE_INT32: return "int32";
    case ONNXC_DTYPE_INT64: return "int64";
    case ONNXC_DTYPE_STRING: return "string";
    case ONNXC_DTYPE_BOOL: return "bool";
    case ONNXC_DTYPE_FLOAT16: return "float16";
    case ONNXC_DTYPE_DOUBLE: return "float64";
    case ONNXC_DTYPE_UINT32: return "uint32";
    case ONNXC_DTYPE_UINT64: return "uint64";
    case 14: return "complex64";
    case 15: return "complex128";
    case 16: return "bfloat16";
    case 17: return "float8e4m3fn";
    case 18: return "float8e4m3fnuz";
    case 19: return "float8e5m2";
    case 20: return "float8e5m2fnuz";
    case 21: return "uint4";
    case 22: return "int4";
    case 23: return "float4e2m1";
    case 24: return "float8e8m0";
    case 25: return "uint2";
    case 26: return "int2";
    }
    return "unknown";
}

size_t onnxc_dtype_size(int dtype)
{
    switch (dtype) {
    case ONNXC_DTYPE_FLOAT: return 4;
    case ONNXC_DTYPE_UINT8: return 1;
    case ONNXC_DTYPE_INT8: return 1;
    case ONNXC_DTYPE_UINT16: return 2;
    case ONNXC_DTYPE_INT16: return 2;
    case ONNXC_DTYPE_INT32: return 4;
    case ONNXC_DTYPE_INT64: return 8;
    case ONNXC_DTYPE_BOOL: return 1;
    case ONNXC_DTYPE_FLOAT16: return 2;
    case ONNXC_DTYPE_DOUBLE: return 8;
    case ONNXC_DTYPE_UINT32: return 4;
    case ONNXC_DTYPE_UINT64: return 8;
    default: return 0;
    }
}

onnxc_status *oc_tensor_set_sizes(oc_tensor *t)
{
    if (t->rank < 0 || t->rank > OC_MAX_RANK)
        return oc_error(ONNXC_ERR_LIMIT, "rank %d is outside 0..%d", t->rank, OC_MAX_RANK);
    size_t esize = onnxc_dtype_size(t->dtype);
    if (esize == 0)
        return oc_error(ONNXC_ERR_UNSUPPORTED, "element type %s (%d) is not supported",
                        onnxc_dtype_name(t->dtype), (int)t->dtype);
    size_t count = 1;
    bool empty = false; /* a zero dim makes the count 0 whatever the others (in any order) */
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0)
            return oc_error(ONNXC_ERR_MODEL, "dimension %d is negative (%" PRId64 ")", i, t->dims[i]);
        if (t->dims[i] == 0) empty = true;
    }
    for (int i = 0; i < t->rank && !empty; i++)
        if ((uint64_t)t->dims[i] > SIZE_MAX || !oc_mul_size(count, (size_t)t->dims[i], &count))
            return oc_error(ONNXC_ERR_LIMIT, "element count of a tensor overflows");
    if (empty) count = 0;
    size_t nbytes;
    if (!oc_mul_size(count, esize, &nbytes) || nbytes > (size_t)INT64_MAX)
        return oc_error(ONNXC_ERR_LIMIT, "byte size of a tensor overflows");
    t->count = count;
    t->nbytes = nbytes;
    return NULL;
}

bool oc_tensor_same_shape(const oc_tensor *a, const oc_tensor *b)
{
    if (a->dtype != b->dtype || a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

const char *oc_shape_str(const int64_t *dims, int rank, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0) return buf;
    buf[0] = 0;
    if (rank < 0) {
        snprintf(buf, size, "[?]");
        return buf;
    }
    used += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && used < size; i++) {
        if (dims[i] < 0)
            used += (size_t)snprintf(buf + used, size - used, "%s?", i ? ", " : "");
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, i ? ", " : "", dims[i]);
    }
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}
