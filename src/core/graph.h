/* Graph building, shape inference and the memory plan. */
#ifndef OC_GRAPH_H
#define OC_GRAPH_H

#include "ir.h"

/* Links names to values, checks references, orders the needed nodes,
 * resolves and prepares their ops, records lifetimes (graph.c). */
onnxc_status *oc_graph_build(onnxc_model *m);

/* Shape inference over the execution order (infer.c). vals has one entry per
 * value: inputs and initializers typed (initializers with data), the rest is
 * filled. *workspace gets the largest scratch any node asks for. */
onnxc_status *oc_infer_shapes(const onnxc_model *m, oc_tensor *vals, size_t *workspace);

/* At load: infers every shape when the declared inputs are fully static, and
 * records them in the values (infer.c). */
onnxc_status *oc_infer_static(onnxc_model *m);

/* Arena offsets for node outputs, reusing memory across values whose
 * lifetimes do not overlap (memplan.c). offsets[v] is SIZE_MAX for values
 * not in the arena. */
onnxc_status *oc_plan_memory(const onnxc_model *m, const oc_tensor *vals, size_t *offsets,
                             size_t *total);

#endif
