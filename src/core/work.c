/* An estimate of the arithmetic a node does, from the shapes alone, for the
 * max_ops limit: enough to refuse a model whose shapes ask for hours of
 * compute, before the run starts. The unit is a multiply-accumulate of a
 * blocked kernel; memory-bound work is weighted by what it costs per element
 * compared with that (measured on the kernels of 0.1, within a factor of 2). */
#include <string.h>

#include "graph.h"
#include "ops/ops.h"

enum {
    ELEMENT_COST = 16, /* per element an elementwise or data-movement node reads or writes */
    WINDOW_COST = 8,   /* per window element of pooling and LRN */
    NODE_COST = 64     /* per node run: dispatch */
};

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static const oc_tensor *input(const oc_node *n, const oc_tensor *vals, int i)
{
    return i < n->n_inputs && n->inputs[i] >= 0 ? &vals[n->inputs[i]] : NULL;
}

static const oc_tensor *output0(const oc_node *n, const oc_tensor *vals)
{
    return n->n_outputs > 0 && n->outputs[0] >= 0 ? &vals[n->outputs[0]] : NULL;
}

/* Products per output element of Conv, Gemm and MatMul (0: not one of them). */
static uint64_t macs_per_output(const oc_node *n, const oc_tensor *vals)
{
    const oc_tensor *a = input(n, vals, 0), *b = input(n, vals, 1);
    if (!a || !b) return 0;
    if (strcmp(n->op_type, "Conv") == 0) {
        uint64_t per = 1; /* W [M, C/group, k...] */
        for (int d = 1; d < b->rank; d++) per = mul_sat(per, (uint64_t)b->dims[d]);
        return per;
    }
    if (strcmp(n->op_type, "Gemm") == 0 && a->rank == 2) {
        const oc_attr *t = oc_attr_find(n, "transA");
        bool trans = t && t->type == OC_ATTR_INT && t->i != 0;
        return (uint64_t)a->dims[trans ? 0 : 1];
    }
    if (strcmp(n->op_type, "MatMul") == 0 && a->rank >= 1) return (uint64_t)a->dims[a->rank - 1];
    return 0;
}

/* Window elements per output element of pooling and LRN (0: not one of them). */
static uint64_t window_per_output(const oc_node *n)
{
    if (strcmp(n->op_type, "MaxPool") == 0 || strcmp(n->op_type, "AveragePool") == 0) {
        const oc_attr *k = oc_attr_find(n, "kernel_shape");
        uint64_t per = 1;
        for (size_t i = 0; k && k->type == OC_ATTR_INTS && i < k->n; i++)
            per = mul_sat(per, k->ints[i] > 0 ? (uint64_t)k->ints[i] : 1);
        return per;
    }
    if (strcmp(n->op_type, "LRN") == 0) {
        const oc_attr *size = oc_attr_find(n, "size");
        return size && size->type == OC_ATTR_INT && size->i > 0 ? (uint64_t)size->i : 1;
    }
    return 0;
}

/* The larger of the arithmetic (Conv, Gemm, MatMul, pooling, LRN) and the
 * memory traffic (every node: each element read and written). */
uint64_t oc_node_ops(const oc_node *n, const oc_tensor *vals)
{
    uint64_t elements = 0;
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] >= 0) elements = add_sat(elements, (uint64_t)vals[n->inputs[i]].count);
    for (int o = 0; o < n->n_outputs; o++)
        if (n->outputs[o] >= 0) elements = add_sat(elements, (uint64_t)vals[n->outputs[o]].count);
    const oc_tensor *y = output0(n, vals);
    /* A Conv with a MaxPool fused in computes its whole output, then pools it. */
    uint64_t computed = y ? (uint64_t)y->count : 0;
    if (n->pool && n->pool_input_count > computed) computed = n->pool_input_count;
    if (n->pool) elements = add_sat(elements, computed);
    uint64_t ops = mul_sat(elements, ELEMENT_COST);
    if (n->domain[0] == 0 && y) {
        uint64_t macs = mul_sat(computed, macs_per_output(n, vals));
        const oc_node *pooling = n->pool ? n->pool : n;
        uint64_t window =
            mul_sat(mul_sat((uint64_t)y->count, window_per_output(pooling)), WINDOW_COST);
        if (macs > ops) ops = macs;
        if (window > ops) ops = window;
    }
    return add_sat(ops, NODE_COST);
}

bool oc_ops_take(uint64_t *used, uint64_t limit, uint64_t ops)
{
    uint64_t total = add_sat(*used, ops);
    if (limit && total > limit) return false;
    *used = total;
    return true;
}
