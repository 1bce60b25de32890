/* stub: to be written */
#include "ops.h"

onnxc_status *oc_sqrt_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "sqrt is not implemented yet");
}
onnxc_status *oc_sqrt_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_sqrt_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_exp_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "exp is not implemented yet");
}
onnxc_status *oc_exp_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_exp_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_neg_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "neg is not implemented yet");
}
onnxc_status *oc_neg_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_neg_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_abs_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "abs is not implemented yet");
}
onnxc_status *oc_abs_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_abs_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_reciprocal_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "reciprocal is not implemented yet");
}
onnxc_status *oc_reciprocal_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_reciprocal_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_erf_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "erf is not implemented yet");
}
onnxc_status *oc_erf_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_erf_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_floor_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "floor is not implemented yet");
}
onnxc_status *oc_floor_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_floor_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_ceil_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "ceil is not implemented yet");
}
onnxc_status *oc_ceil_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_ceil_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}
