/* Graph building, shape inference and the memory plan. */
#ifndef OC_GRAPH_H
#define OC_GRAPH_H

#include "ir.h"

/* Links names to values, checks references, orders the needed nodes,
 * resolves and prepares their ops, records lifetimes (graph.c). */
onnxc_status *oc_graph_build(onnxc_model *m);

/* After the optimizer rewired the graph (ops already resolved and prepared):
 * orders the nodes some output needs again and redoes the shape-relevance
 * marks (graph.c). */
onnxc_status *oc_graph_reorder(onnxc_model *m);

/* How shape inference treats what it cannot or may compute. */
typedef struct oc_infer_opts {
    /* A node with an input of unknown type (dtype 0) leaves its outputs
     * unknown instead of failing: at load, when some input dims are symbolic. */
    bool partial;
    /* Computes each node whose inputs all have known data (for shape-only ops:
     * known shapes), storing the results through alloc(owner, bytes). */
    bool evaluate;
    void *(*alloc)(void *owner, size_t bytes);
    void *owner;
    /* Per node (may be NULL): folded at load, but inferred and computed again
     * here because an initializer it depends on is overridden. */
    const bool *unfold;
    /* Threads the runs will have (ops may size scratch per thread); >= 1. */
    int threads;
    /* Every inferred value is checked against these (NULL: no limits). */
    const oc_limits *limits;
    /* What alloc charges (may be NULL), for the message when it refuses;
     * scratch for evaluating a node is charged to it too. */
    oc_budget *budget;
    /* Work evaluating nodes here adds to *ops_used (NULL: not counted),
     * refused past max_ops (0: no limit). */
    uint64_t *ops_used;
    uint64_t max_ops;
} oc_infer_opts;

/* Shape inference over the execution order (infer.c). vals has one entry per
 * value: inputs typed (or dtype 0 = unknown, with opts->partial), constants
 * with data; data is non-NULL exactly for values known before the run.
 * evaluated[n] (one per node, may be NULL) is set for nodes computed here.
 * *workspace gets the largest scratch any remaining node asks for. */
onnxc_status *oc_infer_shapes(const onnxc_model *m, oc_tensor *vals, const oc_infer_opts *opts,
                              bool *evaluated, size_t *workspace);

/* At load: infers every shape it can from the declared inputs, folds the
 * nodes whose inputs are all constant into constants, and records both in
 * the values; static_shapes tells whether every needed shape is known (infer.c). */
onnxc_status *oc_infer_static(onnxc_model *m);

/* Calls the pack hook of every node that runs and has one, on up to threads
 * threads (<= 0: one per CPU) of a pool that lives for the call (infer.c). */
onnxc_status *oc_pack_nodes(onnxc_model *m, int threads);

/* First and last position in the execution order where each value is
 * written or read by a node that runs (skip[n]: node n does not run; may be
 * NULL); graph outputs live to the end; -1 for values no running node
 * touches (memplan.c). */
void oc_lifetimes(const onnxc_model *m, const bool *skip, int *first, int *last);

/* Arena offsets for the values running nodes write, reusing memory across
 * values whose lifetimes do not overlap (memplan.c). offsets[v] is SIZE_MAX
 * for values not in the arena. */
onnxc_status *oc_plan_memory(const onnxc_model *m, const oc_tensor *vals, const bool *skip,
                             size_t *offsets, size_t *total);

/* The estimated cost of running node n on the shapes in vals (one entry per
 * value), in multiply-accumulates of a blocked kernel (work.c). */
uint64_t oc_node_ops(const oc_node *n, const oc_tensor *vals);
/* Adds ops to *used unless that passes limit (0: no limit); false then. */
bool oc_ops_take(uint64_t *used, uint64_t limit, uint64_t ops);

#endif
