/* stub: to be written */
#include "ops.h"

onnxc_status *oc_shape_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "shape is not implemented yet");
}
onnxc_status *oc_shape_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_shape_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_constant_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "constant is not implemented yet");
}
onnxc_status *oc_constant_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_constant_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_constantofshape_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "constantofshape is not implemented yet");
}
onnxc_status *oc_constantofshape_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_constantofshape_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_cast_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "cast is not implemented yet");
}
onnxc_status *oc_cast_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_cast_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}
