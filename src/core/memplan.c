/* The memory plan: every value a running node writes gets an offset in one
 * arena; values whose lifetimes (definition to last use in the execution
 * order) do not overlap share bytes. Greedy by size, largest first, each
 * placed at the lowest offset free during its lifetime. */
#include <stdlib.h>

#include "graph.h"

void oc_lifetimes(const onnxc_model *m, const bool *skip, int *first, int *last)
{
    for (int i = 0; i < m->n_values; i++) first[i] = last[i] = -1;
    for (int k = 0; k < m->n_order; k++) {
        int n = m->order[k];
        if (skip && skip[n]) continue;
        const oc_node *node = &m->nodes[n];
        for (int o = 0; o < node->n_outputs; o++)
            if (node->outputs[o] >= 0) first[node->outputs[o]] = last[node->outputs[o]] = k;
        for (int i = 0; i < node->n_inputs; i++) {
            int v = node->inputs[i];
            if (v < 0) continue;
            if (first[v] < 0) first[v] = k;
            last[v] = k;
        }
    }
    for (int i = 0; i < m->n_outputs; i++)
        if (first[m->outputs[i]] >= 0) last[m->outputs[i]] = m->n_order;
}

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

/* The values written by running nodes, with their aligned sizes and lifetimes. */
static onnxc_status *collect(const onnxc_model *m, const oc_tensor *vals, const bool *skip,
                             planned *items, size_t *count)
{
    size_t n = 0;
    int *first = malloc(((size_t)m->n_values + 1) * 2 * sizeof *first);
    if (!first) return oc_no_memory();
    int *last = first + m->n_values + 1;
    oc_lifetimes(m, skip, first, last);
    onnxc_status *st = NULL;
    for (int i = 0; i < m->n_values && !st; i++) {
        const oc_value *v = &m->values[i];
        if (v->kind != OC_VALUE_NODE || v->producer < 0 || (skip && skip[v->producer]) ||
            first[i] < 0)
            continue;
        size_t size;
        if (!oc_align_up(vals[i].nbytes ? vals[i].nbytes : 1, &size))
            st = oc_error(ONNXC_ERR_LIMIT, "tensor '%s' is too large", v->name);
        else
            items[n++] = (planned){i, size, first[i], last[i], 0};
    }
    free(first);
    *count = n;
    return st;
}

onnxc_status *oc_plan_memory(const onnxc_model *m, const oc_tensor *vals, const bool *skip,
                             size_t *offsets, size_t *total)
{
    *total = 0;
    for (int i = 0; i < m->n_values; i++) offsets[i] = SIZE_MAX;
    size_t n = 0;
    planned *items = malloc(((size_t)m->n_values + 1) * sizeof *items);
    const planned **live = malloc(((size_t)m->n_values + 1) * sizeof *live);
    onnxc_status *st = items && live ? collect(m, vals, skip, items, &n) : oc_no_memory();
    if (!st) qsort(items, n, sizeof *items, by_size_desc);
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
