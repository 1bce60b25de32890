/* stub: to be written */
#include "ops.h"

onnxc_status *oc_matmul_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "matmul is not implemented yet");
}
onnxc_status *oc_matmul_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_matmul_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}
