/* Ops that pass their input through: Identity, and Dropout with inference
 * semantics (output = input, mask = all kept). */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "ops.h"

static void copy_tensor_data(oc_tensor *dst, const oc_tensor *src)
{
    if (dst && src->nbytes) memcpy(dst->data, src->data, src->nbytes);
}

/* ---- Identity ---- */

onnxc_status *oc_identity_prepare(const oc_node *n, oc_arena *arena, void **params) { return NULL; }

onnxc_status *oc_identity_infer(oc_infer_ctx *ctx)
{
    const oc_tensor *x = ctx->in[0];
    if (!x) return oc_node_error(ctx->node, ONNXC_ERR_MODEL, "input is missing");
    if (onnxc_dtype_size(x->dtype) == 0)
        return oc_node_error(ctx->node, ONNXC_ERR_UNSUPPORTED, "element type %s is not supported",
                             onnxc_dtype_name(x->dtype));
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], x);
    return NULL;
}

onnxc_status *oc_identity_run(oc_run_ctx *ctx)
{
    copy_tensor_data(ctx->out[0], ctx->in[0]);
    return NULL;
}

/* ---- Dropout ----
 * Opsets 1-11 carry the ratio as an attribute; there is no training switch
 * worth honouring in an inference engine (opsets 1-6's is_test=0 is what
 * every exporter wrote, and runtimes treat it as inference too).
 * Opset 12 turned ratio and training_mode into optional inputs, read at run
 * time since they may be graph inputs. The mask has the data's type before
 * opset 10 and is bool from then on. */

enum { DROPOUT_DATA, DROPOUT_RATIO, DROPOUT_TRAINING_MODE };

onnxc_status *oc_dropout_prepare(const oc_node *n, oc_arena *arena, void **params)
{
    if (n->opset >= 12) {
        int64_t seed;
        return oc_attr_int(n, "seed", 0, &seed); /* only randomness uses it */
    }
    float ratio;
    OC_TRY(oc_attr_float(n, "ratio", 0.5f, &ratio));
    if (!(ratio >= 0.0f && ratio <= 1.0f))
        return oc_node_error(n, ONNXC_ERR_MODEL, "attribute 'ratio' is %g, expected 0..1",
                             (double)ratio);
    if (n->opset < 7) {
        int64_t is_test;
        OC_TRY(oc_attr_int(n, "is_test", 0, &is_test));
    }
    return NULL;
}

static bool is_single_element(const oc_tensor *t)
{
    for (int d = 0; d < t->rank; d++)
        if (t->dims[d] != 1) return false;
    return true;
}

/* Checks the optional scalar input i of opset 12+. */
static onnxc_status *check_scalar_input(const oc_node *n, const oc_tensor *t, const char *what,
                                        bool want_bool)
{
    if (!t) return NULL;
    bool dtype_ok = want_bool ? t->dtype == ONNXC_DTYPE_BOOL
                              : (t->dtype == ONNXC_DTYPE_FLOAT || t->dtype == ONNXC_DTYPE_DOUBLE ||
                                 t->dtype == ONNXC_DTYPE_FLOAT16);
    if (!dtype_ok)
        return oc_node_error(n, ONNXC_ERR_MODEL, "input '%s' is %s, expected %s", what,
                             onnxc_dtype_name(t->dtype), want_bool ? "bool" : "a floating type");
    if (!is_single_element(t)) {
        char s[OC_SHAPE_STR_MAX];
        return oc_node_error(n, ONNXC_ERR_MODEL, "input '%s' has shape %s, expected a scalar",
                             what, oc_shape_str(t->dims, t->rank, s, sizeof s));
    }
    return NULL;
}

onnxc_status *oc_dropout_infer(oc_infer_ctx *ctx)
{
    const oc_node *n = ctx->node;
    const oc_tensor *x = ctx->in[DROPOUT_DATA];
    if (!x) return oc_node_error(n, ONNXC_ERR_MODEL, "input 'data' is missing");
    OC_TRY(oc_check_dtype(n, "data", x, ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_DOUBLE,
                          ONNXC_DTYPE_FLOAT16, 0));
    if (n->opset < 12) {
        for (int i = 1; i < ctx->n_inputs; i++)
            if (ctx->in[i])
                return oc_node_error(n, ONNXC_ERR_MODEL, "takes one input before opset 12, got %d",
                                     ctx->n_inputs);
    } else {
        if (ctx->n_inputs > DROPOUT_RATIO)
            OC_TRY(check_scalar_input(n, ctx->in[DROPOUT_RATIO], "ratio", false));
        if (ctx->n_inputs > DROPOUT_TRAINING_MODE)
            OC_TRY(check_scalar_input(n, ctx->in[DROPOUT_TRAINING_MODE], "training_mode", true));
    }
    if (ctx->out[0]) oc_tensor_copy_type(ctx->out[0], x);
    if (ctx->n_outputs > 1 && ctx->out[1]) {
        oc_tensor_copy_type(ctx->out[1], x);
        if (n->opset >= 10) ctx->out[1]->dtype = ONNXC_DTYPE_BOOL;
    }
    return NULL;
}

/* IEEE half to double; only ratio inputs need it. */
static double half_to_double(uint16_t h)
{
    int exponent = (h >> 10) & 0x1f;
    double mantissa = h & 0x3ff;
    double magnitude = exponent == 0    ? ldexp(mantissa, -24)
                       : exponent == 31 ? (mantissa != 0 ? NAN : INFINITY)
                                        : ldexp(mantissa + 1024, exponent - 25);
    return (h & 0x8000) ? -magnitude : magnitude;
}

static double read_ratio(const oc_tensor *t)
{
    switch (t->dtype) {
    case ONNXC_DTYPE_FLOAT: return *(const float *)t->data;
    case ONNXC_DTYPE_DOUBLE: return *(const double *)t->data;
    default: return half_to_double(*(const uint16_t *)t->data);
    }
}

/* Training is only deterministic, hence supported, when nothing is dropped. */
static onnxc_status *check_training_mode(const oc_run_ctx *ctx)
{
    const oc_tensor *training = ctx->n_inputs > DROPOUT_TRAINING_MODE
                                    ? ctx->in[DROPOUT_TRAINING_MODE] : NULL;
    if (ctx->node->opset < 12 || !training || !*(const unsigned char *)training->data) return NULL;
    const oc_tensor *ratio_in = ctx->in[DROPOUT_RATIO]; /* n_inputs > DROPOUT_RATIO here */
    double ratio = ratio_in ? read_ratio(ratio_in) : 0.5;
    if (!(ratio >= 0.0 && ratio < 1.0))
        return oc_node_error(ctx->node, ONNXC_ERR_MODEL, "ratio %g is outside [0, 1)", ratio);
    if (ratio != 0.0)
        return oc_node_error(ctx->node, ONNXC_ERR_UNSUPPORTED,
                             "training-mode dropout with a non-zero ratio (%g) is not supported",
                             ratio);
    return NULL;
}

/* Writes count copies of the element at value (size bytes) to dst, doubling
 * the filled prefix so that it is a few memcpy calls whatever the type. */
static void fill_elements(void *dst, const void *value, size_t size, size_t count)
{
    size_t total = size * count, filled = size;
    if (count == 0) return;
    memcpy(dst, value, size);
    while (filled < total) {
        size_t chunk = filled < total - filled ? filled : total - filled;
        memcpy((char *)dst + filled, dst, chunk);
        filled += chunk;
    }
}

/* "Kept" in the mask's type: true, or 1 of the data's floating type. */
static void fill_mask_kept(oc_tensor *mask)
{
    const float one_f = 1.0f;
    const double one_d = 1.0;
    const uint16_t one_h = 0x3c00;
    const unsigned char one_b = 1;
    const void *one = mask->dtype == ONNXC_DTYPE_FLOAT    ? (const void *)&one_f
                      : mask->dtype == ONNXC_DTYPE_DOUBLE ? (const void *)&one_d
                      : mask->dtype == ONNXC_DTYPE_FLOAT16 ? (const void *)&one_h
                                                           : (const void *)&one_b;
    fill_elements(mask->data, one, onnxc_dtype_size(mask->dtype), mask->count);
}

onnxc_status *oc_dropout_run(oc_run_ctx *ctx)
{
    OC_TRY(check_training_mode(ctx));
    copy_tensor_data(ctx->out[0], ctx->in[DROPOUT_DATA]);
    if (ctx->n_outputs > 1 && ctx->out[1]) fill_mask_kept(ctx->out[1]);
    return NULL;
}
