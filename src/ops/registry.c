/* The one table of supported operators. */
#include <string.h>

#include "ops.h"

/* Designated initializers: fields an entry does not name (pack, flags) are zero. */
#define ENTRY_WITH(type_, since_, until_, min_in, max_in, min_out, max_out, fn, extra) \
    {.domain = "",                                                                    \
     .type = type_,                                                                   \
     .since = since_,                                                                 \
     .until = until_,                                                                 \
     .min_inputs = min_in,                                                            \
     .max_inputs = max_in,                                                            \
     .min_outputs = min_out,                                                          \
     .max_outputs = max_out,                                                          \
     .prepare = oc_##fn##_prepare,                                                    \
     .infer = oc_##fn##_infer,                                                        \
     .run = oc_##fn##_run,                                                            \
     extra}
#define ENTRY(type, since, until, min_in, max_in, min_out, max_out, fn) \
    ENTRY_WITH(type, since, until, min_in, max_in, min_out, max_out, fn, .flags = 0)

static const oc_op table[] = {
    /*    op type               opsets  inputs    outputs   family */
    ENTRY("Abs",               1, 28,  1, 1,    1, 1,   abs),
    ENTRY("Add",               1, 28,  2, 2,    1, 1,   add),
    ENTRY("AveragePool",       1, 28,  1, 1,    1, 1,   averagepool),
    ENTRY("BatchNormalization", 1, 28,  5, 5,    1, 5,   batchnorm),
    ENTRY("Cast",              1, 28,  1, 1,    1, 1,   cast),
    ENTRY("Ceil",              1, 28,  1, 1,    1, 1,   ceil),
    ENTRY("Clip",              1, 28,  1, 3,    1, 1,   clip),
    ENTRY("Concat",            1, 28,  1, -1,   1, 1,   concat),
    ENTRY("Constant",          1, 28,  0, 0,    1, 1,   constant),
    ENTRY("ConstantOfShape",   1, 28,  1, 1,    1, 1,   constantofshape),
    ENTRY_WITH("Conv",         1, 28,  2, 3,    1, 1,   conv, .pack = oc_conv_pack),
    ENTRY("Div",               1, 28,  2, 2,    1, 1,   div),
    ENTRY("Dropout",           1, 28,  1, 3,    1, 2,   dropout),
    ENTRY("Elu",               1, 28,  1, 1,    1, 1,   elu),
    ENTRY("Erf",               1, 28,  1, 1,    1, 1,   erf),
    ENTRY("Exp",               1, 28,  1, 1,    1, 1,   exp),
    ENTRY("Expand",            1, 28,  2, 2,    1, 1,   expand),
    ENTRY("Flatten",           1, 28,  1, 1,    1, 1,   flatten),
    ENTRY("Floor",             1, 28,  1, 1,    1, 1,   floor),
    ENTRY("Gather",            1, 28,  2, 2,    1, 1,   gather),
    ENTRY_WITH("Gemm",         1, 28,  2, 3,    1, 1,   gemm, .pack = oc_gemm_pack),
    ENTRY("GlobalAveragePool", 1, 28,  1, 1,    1, 1,   globalaveragepool),
    ENTRY("GlobalMaxPool",     1, 28,  1, 1,    1, 1,   globalmaxpool),
    ENTRY("HardSigmoid",       1, 28,  1, 1,    1, 1,   hardsigmoid),
    ENTRY("HardSwish",         1, 28,  1, 1,    1, 1,   hardswish),
    ENTRY("Identity",          1, 28,  1, 1,    1, 1,   identity),
    ENTRY("LeakyRelu",         1, 28,  1, 1,    1, 1,   leakyrelu),
    ENTRY("LogSoftmax",        1, 28,  1, 1,    1, 1,   logsoftmax),
    ENTRY("LRN",               1, 28,  1, 1,    1, 1,   lrn),
    ENTRY_WITH("MatMul",       1, 28,  2, 2,    1, 1,   matmul, .pack = oc_matmul_pack),
    ENTRY("Max",               1, 28,  1, -1,   1, 1,   max),
    ENTRY("MaxPool",           1, 28,  1, 1,    1, 2,   maxpool),
    ENTRY("Mean",              1, 28,  1, -1,   1, 1,   mean),
    ENTRY("Min",               1, 28,  1, -1,   1, 1,   min),
    ENTRY("Mul",               1, 28,  2, 2,    1, 1,   mul),
    ENTRY("Neg",               1, 28,  1, 1,    1, 1,   neg),
    ENTRY("Pad",               1, 28,  1, 4,    1, 1,   pad),
    ENTRY("Pow",               1, 28,  2, 2,    1, 1,   pow),
    ENTRY("PRelu",             1, 28,  2, 2,    1, 1,   prelu),
    ENTRY("Reciprocal",        1, 28,  1, 1,    1, 1,   reciprocal),
    ENTRY("ReduceMean",        1, 28,  1, 2,    1, 1,   reducemean),
    ENTRY("Relu",              1, 28,  1, 1,    1, 1,   relu),
    ENTRY("Reshape",           1, 28,  1, 2,    1, 1,   reshape),
    ENTRY("Selu",              1, 28,  1, 1,    1, 1,   selu),
    ENTRY_WITH("Shape",             1, 28,  1, 1,    1, 1,   shape, .flags = OC_OP_SHAPE_ONLY),
    ENTRY("Sigmoid",           1, 28,  1, 1,    1, 1,   sigmoid),
    ENTRY("Slice",             1, 28,  1, 5,    1, 1,   slice),
    ENTRY("Softmax",           1, 28,  1, 1,    1, 1,   softmax),
    ENTRY("Softplus",          1, 28,  1, 1,    1, 1,   softplus),
    ENTRY("Split",             1, 28,  1, 2,    1, -1,  split),
    ENTRY("Sqrt",              1, 28,  1, 1,    1, 1,   sqrt),
    ENTRY("Squeeze",           1, 28,  1, 2,    1, 1,   squeeze),
    ENTRY("Sub",               1, 28,  2, 2,    1, 1,   sub),
    ENTRY("Sum",               1, 28,  1, -1,   1, 1,   sum),
    ENTRY("Tanh",              1, 28,  1, 1,    1, 1,   tanh),
    ENTRY("Transpose",         1, 28,  1, 1,    1, 1,   transpose),
    ENTRY("Unsqueeze",         1, 28,  1, 2,    1, 1,   unsqueeze),
};

const oc_op *oc_op_table(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}

const oc_op *oc_op_find(const char *domain, const char *type, int64_t opset)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].domain, domain) == 0 && strcmp(table[i].type, type) == 0 &&
            opset >= table[i].since && opset <= table[i].until)
            return &table[i];
    return NULL;
}

bool oc_op_known(const char *domain, const char *type)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].domain, domain) == 0 && strcmp(table[i].type, type) == 0) return true;
    return false;
}

/* Inputs whose values decide output shapes: shape inference needs their
 * data, so sessions treat bound inputs feeding them as known when planning. */
static const struct {
    const char *type;
    unsigned inputs;
} shape_inputs[] = {
    {"ConstantOfShape", 1u << 0},
    {"Expand", 1u << 1},
    {"Pad", (1u << 1) | (1u << 3)},
    {"ReduceMean", 1u << 1},
    {"Reshape", 1u << 1},
    {"Slice", (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4)},
    {"Split", 1u << 1},
    {"Squeeze", 1u << 1},
    {"Unsqueeze", 1u << 1},
};

unsigned oc_op_shape_inputs(const oc_op *op)
{
    if (op->domain[0]) return 0;
    for (size_t i = 0; i < sizeof shape_inputs / sizeof shape_inputs[0]; i++)
        if (strcmp(shape_inputs[i].type, op->type) == 0) return shape_inputs[i].inputs;
    return 0;
}
