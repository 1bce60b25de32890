#include "op_harness.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void oh_init(oh_node *h, const char *op_type, int64_t opset)
{
    memset(h, 0, sizeof *h);
    h->node.name = "test";
    h->node.op_type = op_type;
    h->node.domain = "";
    h->node.opset = opset;
    h->node.attrs = h->attrs;
    h->node.input_names = h->input_names;
    h->node.output_names = h->output_names;
}

static oc_attr *new_attr(oh_node *h, const char *name, int type)
{
    if (h->node.n_attrs >= OH_MAX_ATTRS) abort();
    oc_attr *a = &h->attrs[h->node.n_attrs++];
    a->name = name;
    a->type = type;
    return a;
}

void oh_attr_int(oh_node *h, const char *name, int64_t v) { new_attr(h, name, OC_ATTR_INT)->i = v; }
void oh_attr_float(oh_node *h, const char *name, float v) { new_attr(h, name, OC_ATTR_FLOAT)->f = v; }

void oh_attr_string(oh_node *h, const char *name, const char *v)
{
    oc_attr *a = new_attr(h, name, OC_ATTR_STRING);
    a->s = v;
    a->s_len = strlen(v);
}

void oh_attr_ints(oh_node *h, const char *name, const int64_t *v, size_t n)
{
    oc_attr *a = new_attr(h, name, OC_ATTR_INTS);
    a->ints = v;
    a->n = n;
}

void oh_attr_floats(oh_node *h, const char *name, const float *v, size_t n)
{
    oc_attr *a = new_attr(h, name, OC_ATTR_FLOATS);
    a->floats = v;
    a->n = n;
}

void oh_free(oh_node *h) { oc_arena_free(&h->arena); }

oc_tensor oh_tensor(onnxc_dtype dtype, int rank, const int64_t *dims, void *data)
{
    oc_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.rank = rank;
    if (rank > 0) memcpy(t.dims, dims, (size_t)rank * sizeof *dims);
    onnxc_status *st = oc_tensor_set_sizes(&t);
    if (st) abort();
    t.data = data;
    return t;
}

onnxc_status *oh_run(oh_node *h, int n_in, const oc_tensor *const *in, int n_out, oc_tensor *out,
                     const bool *want_out)
{
    return oh_run_known(h, n_in, in, 0u, n_out, out, want_out);
}

onnxc_status *oh_run_known(oh_node *h, int n_in, const oc_tensor *const *in, unsigned known,
                           int n_out, oc_tensor *out, const bool *want_out)
{
    oc_node *n = &h->node;
    n->n_inputs = n_in;
    n->n_outputs = n_out;
    for (int i = 0; i < n_in && i < 16; i++) h->input_names[i] = in[i] ? "in" : "";
    for (int i = 0; i < n_out && i < 16; i++)
        h->output_names[i] = (!want_out || want_out[i]) ? "out" : "";
    for (int i = 0; i < n_out; i++) memset(&out[i], 0, sizeof out[i]);
    n->op = oc_op_find(n->domain, n->op_type, n->opset);
    if (!n->op) return oc_error(ONNXC_ERR_UNSUPPORTED, "no op %s at opset %d", n->op_type, (int)n->opset);
    void *params = NULL;
    if (n->op->prepare) OC_TRY(n->op->prepare(n, &h->arena, &params));
    n->params = params;

    oc_tensor *outp[16] = {0};
    for (int i = 0; i < n_out; i++) outp[i] = (!want_out || want_out[i]) ? &out[i] : NULL;
    /* Shape inference sees types only, as a session on non-constant inputs
     * would; the inputs flagged in known keep their data, as constants do. */
    oc_tensor shapes[16];
    const oc_tensor *inp[16] = {0};
    for (int i = 0; i < n_in; i++) {
        if (!in[i]) continue;
        shapes[i] = *in[i];
        if (!(i < 32 && (known >> i & 1u))) shapes[i].data = NULL;
        inp[i] = &shapes[i];
    }
    oc_infer_ctx ic = {n, params, n_in, inp, n_out, outp, 0, 1};
    OC_TRY(n->op->infer(&ic));
    for (int i = 0; i < n_out; i++) {
        if (!outp[i]) continue;
        OC_TRY(oc_tensor_set_sizes(outp[i]));
        outp[i]->data = oc_aligned_alloc(outp[i]->nbytes);
        /* Poison, so a kernel that forgets an element is caught. */
        memset(outp[i]->data, 0xA5, outp[i]->nbytes);
    }
    void *ws = ic.workspace ? oc_aligned_alloc(ic.workspace) : NULL;
    oc_run_ctx rc = {n, params, n_in, in, n_out, outp, ws, ic.workspace, NULL};
    onnxc_status *st = n->op->run(&rc);
    oc_aligned_free(ws);
    return st;
}

void oh_free_outputs(int n_out, oc_tensor *out)
{
    for (int i = 0; i < n_out; i++) {
        oc_aligned_free(out[i].data);
        out[i].data = NULL;
    }
}

void oh_fill(float *p, size_t n, unsigned seed, float lo, float hi)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        p[i] = lo + (hi - lo) * (float)((s >> 40) & 0xFFFFFF) / 16777216.0f;
    }
}

float *oh_dyadic(size_t n, unsigned seed)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    oh_fill(p, n, seed, -1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) p[i] = floorf(p[i] * 8.0f) / 8.0f;
    return p;
}

void *oh_alloc(void *owner, size_t bytes)
{
    oh_allocs *a = owner;
    ck_assert_int_lt(a->n, 16);
    void *p = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(p);
    return a->p[a->n++] = p;
}

void oh_allocs_free(oh_allocs *a)
{
    while (a->n > 0) free(a->p[--a->n]);
}

long oh_compare(const float *actual, const float *expected, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float a = actual[i], e = expected[i];
        if (isnan(e) && isnan(a)) continue;
        if (!(fabsf(a - e) <= 1e-7f + 1e-3f * fabsf(e))) return (long)i;
    }
    return -1;
}
