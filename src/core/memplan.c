/* The memory plan: every node output gets an offset in one arena; values
 * whose lifetimes (first definition to last use in the execution order) do
 * not overlap share bytes. Greedy by size, largest first, each placed at the
 * lowest offset free during its lifetime. */
#include <stdlib.h>

#include "graph.h"

typedef struct planned {
    int value;
    size_t size; /* aligned */
    int first, last;
    size_t offset;
} planned;

static int by_size_desc(const void *a, const void *b)
{
    const planned *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->value - y->value; /* deterministic */
}

static int by_offset(const void *a, const void *b)
{
    const planned *x = *(const planned *const *)a, *y = *(const planned *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

onnxc_status *oc_plan_memory(const onnxc_model *m, const oc_tensor *vals, size_t *offsets,
                             size_t *total)
{
    *total = 0;
    size_t n = 0;
    for (int i = 0; i < m->n_values; i++) offsets[i] = SIZE_MAX;
    planned *items = malloc(((size_t)m->n_values + 1) * sizeof *items);
    const planned **live = malloc(((size_t)m->n_values + 1) * sizeof *live);
    if (!items || !live) {
        free(items);
        free(live);
        return oc_no_memory();
    }
    for (int i = 0; i < m->n_values; i++) {
        const oc_value *v = &m->values[i];
        if (v->kind != OC_VALUE_NODE || v->first_use < 0) continue;
        size_t size;
        if (!oc_align_up(vals[i].nbytes ? vals[i].nbytes : 1, &size)) {
            free(items);
            free(live);
            return oc_error(ONNXC_ERR_LIMIT, "tensor '%s' is too large", v->name);
        }
        items[n++] = (planned){i, size, v->first_use, v->last_use, 0};
    }
    qsort(items, n, sizeof *items, by_size_desc);
    onnxc_status *st = NULL;
    for (size_t k = 0; k < n && !st; k++) {
        planned *it = &items[k];
        size_t n_live = 0;
        for (size_t j = 0; j < k; j++)
            if (items[j].first <= it->last && it->first <= items[j].last) live[n_live++] = &items[j];
        qsort(live, n_live, sizeof *live, by_offset);
        size_t offset = 0;
        for (size_t j = 0; j < n_live; j++) {
            if (live[j]->offset >= offset && live[j]->offset - offset >= it->size) break;
            size_t end = live[j]->offset + live[j]->size;
            if (end > offset) offset = end;
        }
        it->offset = offset;
        size_t end;
        if (!oc_add_size(offset, it->size, &end))
            st = oc_error(ONNXC_ERR_LIMIT, "the memory plan overflows");
        else if (end > *total)
            *total = end;
        offsets[it->value] = offset;
    }
    free(items);
    free(live);
    return st;
}
