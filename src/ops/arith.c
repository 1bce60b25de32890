/* stub: to be written */
#include "ops.h"

onnxc_status *oc_sub_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "sub is not implemented yet");
}
onnxc_status *oc_sub_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_sub_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_mul_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "mul is not implemented yet");
}
onnxc_status *oc_mul_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_mul_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_div_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "div is not implemented yet");
}
onnxc_status *oc_div_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_div_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_pow_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "pow is not implemented yet");
}
onnxc_status *oc_pow_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_pow_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_sum_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "sum is not implemented yet");
}
onnxc_status *oc_sum_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_sum_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_mean_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "mean is not implemented yet");
}
onnxc_status *oc_mean_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_mean_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_max_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "max is not implemented yet");
}
onnxc_status *oc_max_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_max_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_min_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "min is not implemented yet");
}
onnxc_status *oc_min_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_min_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}
