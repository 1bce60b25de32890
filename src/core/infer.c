/* Shape inference over the execution order: at load when the inputs'
 * shapes are static, in a session whenever bound shapes change. */
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "ops/ops.h"

static int max_arity(const onnxc_model *m, bool inputs)
{
    int most = 1;
    for (int k = 0; k < m->n_order; k++) {
        const oc_node *n = &m->nodes[m->order[k]];
        int a = inputs ? n->n_inputs : n->n_outputs;
        if (a > most) most = a;
    }
    return most;
}

onnxc_status *oc_infer_shapes(const onnxc_model *m, oc_tensor *vals, size_t *workspace)
{
    *workspace = 0;
    const oc_tensor **in = malloc((size_t)max_arity(m, true) * sizeof *in);
    oc_tensor **out = malloc((size_t)max_arity(m, false) * sizeof *out);
    onnxc_status *st = (in && out) ? NULL : oc_no_memory();
    for (int k = 0; k < m->n_order && !st; k++) {
        const oc_node *node = &m->nodes[m->order[k]];
        for (int i = 0; i < node->n_inputs; i++)
            in[i] = node->inputs[i] >= 0 ? &vals[node->inputs[i]] : NULL;
        for (int o = 0; o < node->n_outputs; o++) {
            out[o] = node->outputs[o] >= 0 ? &vals[node->outputs[o]] : NULL;
            if (out[o]) memset(out[o], 0, sizeof *out[o]);
        }
        oc_infer_ctx ctx = {node, node->params, node->n_inputs, in, node->n_outputs, out, 0};
        st = node->op->infer(&ctx);
        for (int o = 0; o < node->n_outputs && !st; o++) {
            if (!out[o]) continue;
            if (out[o]->dtype == ONNXC_DTYPE_UNDEFINED)
                st = oc_node_error(node, ONNXC_ERR_INTERNAL, "inference left output %d untyped", o);
            else if ((st = oc_tensor_set_sizes(out[o])))
                st = oc_node_error_prefix(node, oc_error_prefix(st, "output '%s'",
                                                                node->output_names[o]));
        }
        if (!st && ctx.workspace > *workspace) *workspace = ctx.workspace;
    }
    free(in);
    free(out);
    return st;
}

/* A declared type usable for inference: known dtype, rank and every dim. */
static bool decl_is_static(const oc_type_decl *d)
{
    if (!d || d->dtype == 0 || d->rank < 0) return false;
    for (int i = 0; i < d->rank; i++)
        if (d->dims[i] < 0) return false;
    return true;
}

static onnxc_status *check_input_dtypes(const onnxc_model *m)
{
    for (int i = 0; i < m->n_inputs; i++) {
        const oc_value *v = &m->values[m->inputs[i]];
        if (v->decl && v->decl->dtype != 0 && onnxc_dtype_size(v->decl->dtype) == 0)
            return oc_error(ONNXC_ERR_UNSUPPORTED, "graph input '%s' has element type %s (%d)",
                            v->name, onnxc_dtype_name(v->decl->dtype), v->decl->dtype);
    }
    return NULL;
}

onnxc_status *oc_infer_static(onnxc_model *m)
{
    OC_TRY(check_input_dtypes(m));
    m->static_shapes = false;
    for (int i = 0; i < m->n_inputs; i++)
        if (!decl_is_static(m->values[m->inputs[i]].decl)) return NULL;

    oc_tensor *vals = calloc((size_t)m->n_values + 1, sizeof *vals);
    if (!vals) return oc_no_memory();
    for (int i = 0; i < m->n_values; i++) {
        const oc_value *v = &m->values[i];
        if (v->constant) {
            vals[i] = *v->constant;
        } else if (v->kind == OC_VALUE_INPUT) {
            vals[i].dtype = (onnxc_dtype)v->decl->dtype;
            vals[i].rank = v->decl->rank;
            memcpy(vals[i].dims, v->decl->dims, sizeof vals[i].dims);
            onnxc_status *st = oc_tensor_set_sizes(&vals[i]);
            if (st) {
                free(vals);
                return oc_error_prefix(st, "graph input '%s'", v->name);
            }
        }
    }
    size_t workspace;
    onnxc_status *st = oc_infer_shapes(m, vals, &workspace);
    for (int i = 0; i < m->n_outputs && !st; i++) {
        const oc_value *v = &m->values[m->outputs[i]];
        const oc_tensor *t = &vals[m->outputs[i]];
        if (v->decl && v->decl->dtype != 0 && v->decl->dtype != (int)t->dtype)
            st = oc_error(ONNXC_ERR_MODEL, "graph output '%s' is declared %s but computed as %s",
                          v->name, onnxc_dtype_name(v->decl->dtype), onnxc_dtype_name(t->dtype));
    }
    if (!st) {
        for (int i = 0; i < m->n_values; i++) {
            m->values[i].info = vals[i];
            if (!m->values[i].constant) m->values[i].info.data = NULL;
            m->values[i].shape_known = true;
        }
        m->static_shapes = true;
    }
    free(vals);
    return st;
}
