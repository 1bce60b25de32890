/* Reference strided copy and transpose: one element at a time, coordinates
 * recomputed from the flat index for every element. */
#include <string.h>

#include "strided.h"

static size_t volume(int rank, const int64_t *dims)
{
    size_t n = 1;
    for (int k = 0; k < rank; k++) n *= (size_t)dims[k];
    return n;
}

void oc_strided_copy_ref(void *dst, const void *src, size_t elem_size, int rank,
                         const int64_t *dims, const int64_t *strides)
{
    size_t count = volume(rank, dims);
    for (size_t i = 0; i < count; i++) {
        size_t rest = i;
        int64_t offset = 0;
        for (int k = rank - 1; k >= 0; k--) {
            int64_t coord = (int64_t)(rest % (size_t)dims[k]);
            rest /= (size_t)dims[k];
            offset += coord * strides[k];
        }
        memcpy((char *)dst + i * elem_size,
               (const char *)src + (ptrdiff_t)offset * (ptrdiff_t)elem_size, elem_size);
    }
}

void oc_transpose_ref(void *dst, const void *src, size_t elem_size, int rank,
                      const int64_t *in_dims, const int *perm)
{
    size_t count = volume(rank, in_dims);
    for (size_t i = 0; i < count; i++) {
        int64_t in_coord[OC_STRIDED_MAX_RANK] = {0};
        size_t rest = i;
        for (int k = rank - 1; k >= 0; k--) {
            size_t out_dim = (size_t)in_dims[perm[k]];
            in_coord[perm[k]] = (int64_t)(rest % out_dim);
            rest /= out_dim;
        }
        size_t in_flat = 0;
        for (int k = 0; k < rank; k++) in_flat = in_flat * (size_t)in_dims[k] + (size_t)in_coord[k];
        memcpy((char *)dst + i * elem_size, (const char *)src + in_flat * elem_size, elem_size);
    }
}
