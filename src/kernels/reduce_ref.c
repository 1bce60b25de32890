/* Reference ReduceMean: for each output element, the sum of the input
 * elements that map to it, visited by index arithmetic. */
#include "onnxc.h"
#include "reduce.h"

/* The mean of output element `out` of g over x's elements of type T, summed in ACC. */
#define DEFINE_MEAN(T, ACC, sfx)                                                              \
    static ACC sum_##sfx(const oc_reduce_geom *g, const T *x, int64_t out, int64_t count)    \
    {                                                                                         \
        ACC sum = 0;                                                                          \
        for (int64_t r = 0; r < count; r++) {                                                 \
            /* Digits of out over the kept dims and of r over the reduced ones, last first. */ \
            int64_t o = out, k = r, offset = 0, stride = 1;                                   \
            for (int d = g->rank - 1; d >= 0; d--) {                                          \
                int64_t *digits = g->reduced[d] ? &k : &o;                                    \
                offset += (*digits % g->dims[d]) * stride;                                    \
                *digits /= g->dims[d];                                                        \
                stride *= g->dims[d];                                                         \
            }                                                                                 \
            sum += (ACC)x[offset];                                                            \
        }                                                                                     \
        return sum;                                                                           \
    }
DEFINE_MEAN(float, double, f32)
DEFINE_MEAN(double, double, f64)
DEFINE_MEAN(int32_t, uint64_t, i32)
DEFINE_MEAN(int64_t, uint64_t, i64)

static int64_t count_of(const oc_reduce_geom *g, bool reduced)
{
    int64_t n = 1;
    for (int i = 0; i < g->rank; i++)
        if (g->reduced[i] == reduced) n *= g->dims[i];
    return n;
}

void oc_reduce_mean_ref(int dtype, const oc_reduce_geom *g, const void *x, void *y)
{
    int64_t outputs = count_of(g, false), count = count_of(g, true);
    for (int64_t o = 0; o < outputs; o++) {
        switch (dtype) {
        case ONNXC_DTYPE_FLOAT:
            ((float *)y)[o] = (float)(sum_f32(g, x, o, count) / (double)count);
            break;
        case ONNXC_DTYPE_DOUBLE:
            ((double *)y)[o] = sum_f64(g, x, o, count) / (double)count;
            break;
        case ONNXC_DTYPE_INT32:
            ((int32_t *)y)[o] = count ? (int32_t)((int64_t)sum_i32(g, x, o, count) / count) : 0;
            break;
        case ONNXC_DTYPE_INT64:
            ((int64_t *)y)[o] = count ? (int64_t)sum_i64(g, x, o, count) / count : 0;
            break;
        default:
            return;
        }
    }
}
