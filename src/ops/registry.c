/* The one table of supported operators. */
#include <string.h>

#include "ops.h"

#define ENTRY(type, since, until, min_in, max_in, min_out, max_out, fn) \
    {"", type, since, until, min_in, max_in, min_out, max_out,           \
     oc_##fn##_prepare, oc_##fn##_infer, oc_##fn##_run}

static const oc_op table[] = {
    /*     op type              opsets   inputs  outputs */
    ENTRY("Add",                1, 26,   2, 2,   1, 1, add),
    ENTRY("AveragePool",        1, 26,   1, 1,   1, 1, averagepool),
    ENTRY("Concat",             1, 26,   1, -1,  1, 1, concat),
    ENTRY("Conv",               1, 26,   2, 3,   1, 1, conv),
    ENTRY("Dropout",            1, 26,   1, 3,   1, 2, dropout),
    ENTRY("Flatten",            1, 26,   1, 1,   1, 1, flatten),
    ENTRY("Gemm",               1, 26,   2, 3,   1, 1, gemm),
    ENTRY("GlobalAveragePool",  1, 26,   1, 1,   1, 1, globalaveragepool),
    ENTRY("Identity",           1, 26,   1, 1,   1, 1, identity),
    ENTRY("MaxPool",            1, 26,   1, 1,   1, 2, maxpool),
    ENTRY("Relu",               1, 26,   1, 1,   1, 1, relu),
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
