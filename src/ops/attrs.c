/* Typed attribute access: a missing attribute yields the default, one of the
 * wrong type an error naming the node. */
#include <inttypes.h>
#include <string.h>

#include "ops.h"

const oc_attr *oc_attr_find(const oc_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

static const char *attr_type_name(int type)
{
    static const char *const names[] = {"undefined", "float", "int", "string", "tensor",
                                        "graph", "floats", "ints", "strings", "tensors",
                                        "graphs", "sparse tensor", "sparse tensors",
                                        "type proto", "type protos"};
    return type >= 0 && type < (int)(sizeof names / sizeof names[0]) ? names[type] : "unknown";
}

static onnxc_status *wrong_type(const oc_node *n, const oc_attr *a, int want)
{
    return oc_node_error(n, ONNXC_ERR_MODEL, "attribute '%s' is of type %s, expected %s", a->name,
                         attr_type_name(a->type), attr_type_name(want));
}

onnxc_status *oc_attr_int(const oc_node *n, const char *name, int64_t def, int64_t *out)
{
    const oc_attr *a = oc_attr_find(n, name);
    *out = def;
    if (!a) return NULL;
    if (a->type != OC_ATTR_INT) return wrong_type(n, a, OC_ATTR_INT);
    *out = a->i;
    return NULL;
}

onnxc_status *oc_attr_float(const oc_node *n, const char *name, float def, float *out)
{
    const oc_attr *a = oc_attr_find(n, name);
    *out = def;
    if (!a) return NULL;
    if (a->type != OC_ATTR_FLOAT) return wrong_type(n, a, OC_ATTR_FLOAT);
    *out = a->f;
    return NULL;
}

onnxc_status *oc_attr_string(const oc_node *n, const char *name, const char *def, const char **out)
{
    const oc_attr *a = oc_attr_find(n, name);
    *out = def;
    if (!a) return NULL;
    if (a->type != OC_ATTR_STRING) return wrong_type(n, a, OC_ATTR_STRING);
    *out = a->s;
    return NULL;
}

onnxc_status *oc_attr_ints(const oc_node *n, const char *name, const int64_t **out, size_t *count)
{
    const oc_attr *a = oc_attr_find(n, name);
    *out = NULL;
    *count = 0;
    if (!a) return NULL;
    if (a->type != OC_ATTR_INTS) return wrong_type(n, a, OC_ATTR_INTS);
    *out = a->ints;
    *count = a->n;
    return NULL;
}

onnxc_status *oc_attr_floats(const oc_node *n, const char *name, const float **out, size_t *count)
{
    const oc_attr *a = oc_attr_find(n, name);
    *out = NULL;
    *count = 0;
    if (!a) return NULL;
    if (a->type != OC_ATTR_FLOATS) return wrong_type(n, a, OC_ATTR_FLOATS);
    *out = a->floats;
    *count = a->n;
    return NULL;
}

onnxc_status *oc_attr_flag(const oc_node *n, const char *name, bool *out)
{
    int64_t v;
    OC_TRY(oc_attr_int(n, name, 0, &v));
    if (v != 0 && v != 1)
        return oc_node_error(n, ONNXC_ERR_MODEL, "attribute '%s' is %" PRId64 "; expected 0 or 1",
                             name, v);
    *out = v == 1;
    return NULL;
}

onnxc_status *oc_check_attr_names(const oc_node *n, const char *const *names, size_t count)
{
    for (int i = 0; i < n->n_attrs; i++) {
        bool known = false;
        for (size_t j = 0; j < count && !known; j++)
            known = strcmp(n->attrs[i].name, names[j]) == 0;
        if (!known)
            return oc_node_error(n, ONNXC_ERR_MODEL,
                                 "attribute '%s' is not defined for %s at opset %" PRId64,
                                 n->attrs[i].name, n->op_type, n->opset);
    }
    return NULL;
}
