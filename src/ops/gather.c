/* stub: to be written */
#include "ops.h"

onnxc_status *oc_gather_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "gather is not implemented yet");
}
onnxc_status *oc_gather_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_gather_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_slice_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "slice is not implemented yet");
}
onnxc_status *oc_slice_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_slice_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_split_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "split is not implemented yet");
}
onnxc_status *oc_split_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_split_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}
