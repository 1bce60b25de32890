/* The memory plan: every value a running node writes gets an offset in one
 * arena; values whose lifetimes (definition to last use in the execution
 * order) do not overlap share bytes. Greedy by size, largest first, each
 * placed at the lowest offset free during its lifetime. */
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "ops/ops.h"

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

/* The arena is planned by replaying the execution order: at each step the
 * outputs of the node (largest first) take the best-fitting free block, then
 * the values whose last use was this node give their blocks back (a Concat's
 * inputs may instead be slices of its output). The free
 * list stays short on real graphs, so a graph of n nodes plans in about
 * n log n (the earlier all-pairs placement took seconds at 100k nodes). */

typedef struct block {
    size_t offset, size;
} block;

typedef struct free_list {
    block *items; /* sorted by offset, never adjacent (merged) */
    size_t count, cap;
} free_list;

/* Removes size bytes from the best-fitting free block; false when none fits. */
static bool take_free(free_list *fl, size_t size, size_t *offset)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < fl->count; i++)
        if (fl->items[i].size >= size && (best == SIZE_MAX || fl->items[i].size < fl->items[best].size))
            best = i;
    if (best == SIZE_MAX) return false;
    *offset = fl->items[best].offset;
    fl->items[best].offset += size;
    fl->items[best].size -= size;
    if (fl->items[best].size == 0) {
        memmove(&fl->items[best], &fl->items[best + 1], (fl->count - best - 1) * sizeof(block));
        fl->count--;
    }
    return true;
}

/* Returns [offset, offset + size) to the list, merging with its neighbours. */
static onnxc_status *give_back(free_list *fl, size_t offset, size_t size)
{
    size_t i = 0;
    while (i < fl->count && fl->items[i].offset < offset) i++;
    bool joins_prev = i > 0 && fl->items[i - 1].offset + fl->items[i - 1].size == offset;
    bool joins_next = i < fl->count && offset + size == fl->items[i].offset;
    if (joins_prev && joins_next) {
        fl->items[i - 1].size += size + fl->items[i].size;
        memmove(&fl->items[i], &fl->items[i + 1], (fl->count - i - 1) * sizeof(block));
        fl->count--;
    } else if (joins_prev) {
        fl->items[i - 1].size += size;
    } else if (joins_next) {
        fl->items[i].offset = offset;
        fl->items[i].size += size;
    } else {
        if (fl->count == fl->cap) {
            size_t cap = fl->cap ? fl->cap * 2 : 16;
            block *grown = realloc(fl->items, cap * sizeof *grown);
            if (!grown) return oc_no_memory();
            fl->items = grown;
            fl->cap = cap;
        }
        memmove(&fl->items[i + 1], &fl->items[i], (fl->count - i) * sizeof(block));
        fl->items[i] = (block){offset, size};
        fl->count++;
    }
    return NULL;
}

/* Values grouped by the step that defines them and the step that frees them. */
typedef struct steps {
    int *first, *last;       /* per value */
    int *alias;              /* per value: the Concat output it is a slice of, or -1 */
    size_t *alias_offset;    /* its byte offset in that output */
    int *born, *born_start;  /* CSR: values defined at each step */
    int *dies, *dies_start;  /* CSR: values last used at each step */
    size_t *size;            /* aligned bytes per value */
} steps;

static void free_steps(steps *st)
{
    free(st->first);
    free(st->alias);
    free(st->alias_offset);
    free(st->born);
    free(st->born_start);
    free(st->dies);
    free(st->dies_start);
    free(st->size);
}

/* Builds a CSR of the values v with key[v] in [0, n_steps): bucket k holds
 * items[start[k] .. start[k + 1]); other keys are left out. */
static void bucket(const int *key, int n_values, int n_steps, int *start, int *items)
{
    memset(start, 0, ((size_t)n_steps + 1) * sizeof *start);
    for (int v = 0; v < n_values; v++)
        if (key[v] >= 0 && key[v] < n_steps) start[key[v] + 1]++;
    for (int k = 0; k < n_steps; k++) start[k + 1] += start[k];
    /* Fill using start[k] as a cursor; it ends at bucket k's end, so shift back. */
    for (int v = 0; v < n_values; v++)
        if (key[v] >= 0 && key[v] < n_steps) items[start[key[v]]++] = v;
    for (int k = n_steps; k > 0; k--) start[k] = start[k - 1];
    start[0] = 0;
}

/* Times each value is read by a running node or is a graph output. */
static int *count_uses(const onnxc_model *m, const bool *skip)
{
    int *uses = calloc((size_t)m->n_values + 1, sizeof *uses);
    if (!uses) return NULL;
    for (int k = 0; k < m->n_order; k++) {
        const oc_node *node = &m->nodes[m->order[k]];
        if (skip && skip[node->index]) continue;
        for (int i = 0; i < node->n_inputs; i++)
            if (node->inputs[i] >= 0) uses[node->inputs[i]]++;
    }
    for (int i = 0; i < m->n_outputs; i++) uses[m->outputs[i]]++;
    return uses;
}

/* The Concat's axis when every input is one contiguous slice of the output
 * (all dims before the axis are 1), else -1. */
static int slice_axis(const oc_node *node, const oc_tensor *out)
{
    int64_t axis;
    onnxc_status *st = oc_attr_int(node, "axis", 1, &axis);
    if (st) {
        onnxc_status_free(st);
        return -1;
    }
    if (axis < 0) axis += out->rank;
    if (axis < 0 || axis >= out->rank) return -1;
    for (int d = 0; d < axis; d++)
        if (out->dims[d] != 1) return -1;
    return (int)axis;
}

/* Lets the producers of a Concat's inputs write straight into their slice of
 * its output: an input written by a running node, read only by this Concat
 * and not itself a Concat output becomes an alias of the output, which is
 * then allocated from the first such input's definition on. */
static onnxc_status *alias_concat_inputs(const onnxc_model *m, const oc_tensor *vals,
                                         const bool *skip, steps *st)
{
    int *uses = count_uses(m, skip);
    if (!uses) return oc_no_memory();
    for (int k = 0; k < m->n_order; k++) {
        const oc_node *node = &m->nodes[m->order[k]];
        if ((skip && skip[node->index]) || strcmp(node->op_type, "Concat") != 0 ||
            node->domain[0] || node->outputs[0] < 0)
            continue;
        int out = node->outputs[0];
        if (st->first[out] < 0 || st->alias[out] >= 0) continue;
        if (slice_axis(node, &vals[out]) < 0) continue;
        size_t offset = 0;
        for (int i = 0; i < node->n_inputs; i++) {
            int v = node->inputs[i];
            if (v < 0) continue;
            const oc_value *val = &m->values[v];
            bool ok = st->first[v] >= 0 && uses[v] == 1 && st->alias[v] < 0 &&
                      strcmp(m->nodes[val->producer].op_type, "Concat") != 0;
            if (ok) {
                st->alias[v] = out;
                st->alias_offset[v] = offset;
                if (st->first[v] < st->first[out]) st->first[out] = st->first[v];
                st->first[v] = st->last[v] = -1; /* not allocated on its own */
            }
            offset += vals[v].nbytes;
        }
    }
    free(uses);
    return NULL;
}

static onnxc_status *build_steps(const onnxc_model *m, const oc_tensor *vals, const bool *skip,
                                 steps *st)
{
    size_t nv = (size_t)m->n_values + 1, ns = (size_t)m->n_order + 3;
    st->first = malloc(nv * 2 * sizeof *st->first);
    st->born = malloc(nv * sizeof *st->born);
    st->dies = malloc(nv * sizeof *st->dies);
    st->born_start = malloc(ns * sizeof *st->born_start);
    st->dies_start = malloc(ns * sizeof *st->dies_start);
    st->size = calloc(nv, sizeof *st->size);
    st->alias = malloc(nv * sizeof *st->alias);
    st->alias_offset = calloc(nv, sizeof *st->alias_offset);
    if (!st->first || !st->born || !st->dies || !st->born_start || !st->dies_start || !st->size ||
        !st->alias || !st->alias_offset)
        return oc_no_memory();
    for (size_t i = 0; i < nv; i++) st->alias[i] = -1;
    st->last = st->first + nv;
    oc_lifetimes(m, skip, st->first, st->last);
    /* Only values a running node writes live in the arena. */
    for (int i = 0; i < m->n_values; i++) {
        const oc_value *v = &m->values[i];
        bool planned = v->kind == OC_VALUE_NODE && v->producer >= 0 &&
                       !(skip && skip[v->producer]) && st->first[i] >= 0;
        if (!planned) {
            st->first[i] = st->last[i] = -1;
            continue;
        }
        if (!oc_align_up(vals[i].nbytes ? vals[i].nbytes : 1, &st->size[i]))
            return oc_error(ONNXC_ERR_LIMIT, "tensor '%s' is too large", v->name);
    }
    OC_TRY(alias_concat_inputs(m, vals, skip, st));
    bucket(st->first, m->n_values, m->n_order, st->born_start, st->born);
    bucket(st->last, m->n_values, m->n_order, st->dies_start, st->dies);
    return NULL;
}

onnxc_status *oc_plan_memory(const onnxc_model *m, const oc_tensor *vals, const bool *skip,
                             size_t *offsets, size_t *total)
{
    *total = 0;
    for (int i = 0; i < m->n_values; i++) offsets[i] = SIZE_MAX;
    steps st = {0};
    free_list fl = {NULL, 0, 0};
    onnxc_status *err = build_steps(m, vals, skip, &st);
    size_t end = 0; /* the arena's high-water mark */
    for (int k = 0; k < m->n_order && !err; k++) {
        /* Outputs of step k, largest first (few per node: insertion sort). */
        int *born = st.born + st.born_start[k];
        int n_born = st.born_start[k + 1] - st.born_start[k];
        for (int a = 1; a < n_born; a++)
            for (int b = a; b > 0 && st.size[born[b]] > st.size[born[b - 1]]; b--) {
                int t = born[b];
                born[b] = born[b - 1];
                born[b - 1] = t;
            }
        for (int a = 0; a < n_born && !err; a++) {
            int v = born[a];
            size_t offset;
            if (!take_free(&fl, st.size[v], &offset)) {
                /* Grow the arena; a free block at its end is extended, not wasted. */
                offset = end;
                if (fl.count && fl.items[fl.count - 1].offset + fl.items[fl.count - 1].size == end) {
                    offset = fl.items[fl.count - 1].offset;
                    fl.count--;
                }
                if (!oc_add_size(offset, st.size[v], &end)) {
                    err = oc_error(ONNXC_ERR_LIMIT, "the memory plan overflows");
                    break;
                }
            }
            offsets[v] = offset;
        }
        for (int d = st.dies_start[k]; d < st.dies_start[k + 1] && !err; d++) {
            int v = st.dies[d];
            if (offsets[v] != SIZE_MAX) err = give_back(&fl, offsets[v], st.size[v]);
        }
    }
    for (int v = 0; v < m->n_values && !err; v++)
        if (st.alias[v] >= 0 && offsets[st.alias[v]] != SIZE_MAX)
            offsets[v] = offsets[st.alias[v]] + st.alias_offset[v];
    *total = end;
    free(fl.items);
    free_steps(&st);
    return err;
}
