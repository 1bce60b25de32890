/* stub: to be written */
#include "ops.h"

onnxc_status *oc_sigmoid_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "sigmoid is not implemented yet");
}
onnxc_status *oc_sigmoid_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_sigmoid_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_tanh_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "tanh is not implemented yet");
}
onnxc_status *oc_tanh_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_tanh_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_leakyrelu_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "leakyrelu is not implemented yet");
}
onnxc_status *oc_leakyrelu_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_leakyrelu_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_prelu_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "prelu is not implemented yet");
}
onnxc_status *oc_prelu_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_prelu_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_elu_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "elu is not implemented yet");
}
onnxc_status *oc_elu_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_elu_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_selu_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "selu is not implemented yet");
}
onnxc_status *oc_selu_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_selu_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_hardsigmoid_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "hardsigmoid is not implemented yet");
}
onnxc_status *oc_hardsigmoid_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_hardsigmoid_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_hardswish_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "hardswish is not implemented yet");
}
onnxc_status *oc_hardswish_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_hardswish_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_softplus_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "softplus is not implemented yet");
}
onnxc_status *oc_softplus_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_softplus_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}

onnxc_status *oc_clip_prepare(const oc_node *n, oc_arena *a, void **p)
{
    (void)a;
    (void)p;
    return oc_node_error(n, ONNXC_ERR_UNSUPPORTED, "clip is not implemented yet");
}
onnxc_status *oc_clip_infer(oc_infer_ctx *c)
{
    (void)c;
    return NULL;
}
onnxc_status *oc_clip_run(oc_run_ctx *c)
{
    (void)c;
    return NULL;
}
