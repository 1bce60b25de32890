/* Gather along one axis (see gather.h). */
#include <string.h>

#include "gather.h"

/* inner == 1: one element per index, with a constant-size memcpy. */
#define DEFINE_PICK(sfx, SIZE)                                                               \
    static void pick_##sfx(char *dst, const char *src, size_t outer, size_t axis_dim,       \
                           const int64_t *indices, size_t n_indices)                        \
    {                                                                                       \
        for (size_t o = 0; o < outer; o++, src += axis_dim * (SIZE))                        \
            for (size_t j = 0; j < n_indices; j++, dst += (SIZE))                           \
                memcpy(dst, src + (size_t)indices[j] * (SIZE), SIZE);                       \
    }

DEFINE_PICK(1, 1)
DEFINE_PICK(2, 2)
DEFINE_PICK(4, 4)
DEFINE_PICK(8, 8)

static void gather_blocks(char *dst, const char *src, size_t block, size_t outer,
                          size_t axis_dim, const int64_t *indices, size_t n_indices)
{
    for (size_t o = 0; o < outer; o++, src += axis_dim * block)
        for (size_t j = 0; j < n_indices; j++, dst += block)
            memcpy(dst, src + (size_t)indices[j] * block, block);
}

void oc_gather(void *dst, const void *src, size_t elem_size, size_t outer, size_t axis_dim,
               size_t inner, const int64_t *indices, size_t n_indices)
{
    if (inner == 1) {
        switch (elem_size) {
        case 1: pick_1(dst, src, outer, axis_dim, indices, n_indices); return;
        case 2: pick_2(dst, src, outer, axis_dim, indices, n_indices); return;
        case 4: pick_4(dst, src, outer, axis_dim, indices, n_indices); return;
        case 8: pick_8(dst, src, outer, axis_dim, indices, n_indices); return;
        default: break;
        }
    }
    if (inner == 0) return;
    gather_blocks(dst, src, inner * elem_size, outer, axis_dim, indices, n_indices);
}

void oc_gather_ref(void *dst, const void *src, size_t elem_size, size_t outer, size_t axis_dim,
                   size_t inner, const int64_t *indices, size_t n_indices)
{
    for (size_t o = 0; o < outer; o++)
        for (size_t j = 0; j < n_indices; j++)
            for (size_t i = 0; i < inner; i++) {
                size_t from = (o * axis_dim + (size_t)indices[j]) * inner + i;
                size_t to = (o * n_indices + j) * inner + i;
                memcpy((char *)dst + to * elem_size, (const char *)src + from * elem_size,
                       elem_size);
            }
}
