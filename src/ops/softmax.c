/* stub: to be written */
#include "ops.h"

onnxc_status *oc_softmax_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "softmax is not implemented yet");
}
onnxc_status *oc_softmax_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_softmax_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_logsoftmax_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "logsoftmax is not implemented yet");
}
onnxc_status *oc_logsoftmax_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_logsoftmax_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}
