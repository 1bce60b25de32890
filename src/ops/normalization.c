/* stub: to be written */
#include "ops.h"

onnxc_status *oc_batchnorm_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "batchnorm is not implemented yet");
}
onnxc_status *oc_batchnorm_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_batchnorm_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_lrn_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "lrn is not implemented yet");
}
onnxc_status *oc_lrn_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_lrn_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}
