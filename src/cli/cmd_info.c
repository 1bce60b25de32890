/* `onnxc info`: what a model declares and what it costs: opsets, inputs and
 * outputs, ops, parameters, and the multiply-accumulates of Conv and Gemm. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/graph.h"
#include "ops/ops.h"

void cli_info_help(FILE *f)
{
    fputs("Usage: onnxc info [--no-optimize] MODEL\n"
          "\n"
          "Describes MODEL: IR version, producer, opsets, inputs and outputs with their\n"
          "shapes (symbolic dims by name), the node count per op type, what was folded\n"
          "into constants and what the graph optimizations did at load (nodes removed or\n"
          "fused, per kind), the parameters (initializers) and the multiply-accumulates\n"
          "(MACs) of Conv and Gemm nodes. MACs need static shapes; for a model with\n"
          "symbolic dims they are computed with every symbolic dim taken as 1, and the\n"
          "output says so.\n"
          "\n"
          "Options:\n"
          "  --no-optimize  load MODEL without the graph optimizations\n"
          "  -h, --help     show this help\n",
          f);
}

/* ---- declarations ---------------------------------------------------------------- */

/* "[N, 3, 224, 224]": known dims as numbers, symbolic ones by name, unknown as '?'. */
static const char *dims_str(const onnxc_tensor_info *info, char *buf, size_t size)
{
    if (info->rank < 0) return "(shape not declared)";
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < info->rank && used < size; d++) {
        const char *sep = d ? ", " : "[";
        int n;
        if (info->shape[d] >= 0)
            n = snprintf(buf + used, size - used, "%s%" PRId64, sep, info->shape[d]);
        else if (info->dim_names && info->dim_names[d])
            n = snprintf(buf + used, size - used, "%s%s", sep, info->dim_names[d]);
        else
            n = snprintf(buf + used, size - used, "%s?", sep);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < size) snprintf(buf + used, size - used, "%s]", info->rank ? "" : "[");
    return buf;
}

typedef onnxc_status *(*info_getter)(const onnxc_model *, size_t, onnxc_tensor_info *);

static onnxc_status *print_values(const onnxc_model *m, const char *title, size_t count,
                                  info_getter get)
{
    char shape[OC_SHAPE_STR_MAX * 2];
    printf("%s (%zu):\n", title, count);
    for (size_t i = 0; i < count; i++) {
        onnxc_tensor_info info;
        OC_TRY(get(m, i, &info));
        printf("  %s: %s %s\n", info.name, onnxc_dtype_name(info.dtype),
               dims_str(&info, shape, sizeof shape));
    }
    return NULL;
}

static void print_header(const onnxc_model *m, const char *path)
{
    printf("model: %s\n", path);
    printf("IR version: %" PRId64 "\n", m->ir_version);
    const char *name = m->producer_name && m->producer_name[0] ? m->producer_name : "(not given)";
    const char *version = m->producer_version ? m->producer_version : "";
    printf("producer: %s%s%s\n", name, version[0] ? " " : "", version);
    if (m->domain && m->domain[0]) printf("domain: %s\n", m->domain);
    if (m->model_version) printf("model version: %" PRId64 "\n", m->model_version);
    if (m->graph_name && m->graph_name[0]) printf("graph: %s\n", m->graph_name);
    printf("opsets:");
    for (int i = 0; i < m->n_opsets; i++) {
        const char *domain = m->opsets[i].domain;
        printf("%s %s %" PRId64, i ? "," : "", domain && domain[0] ? domain : "ai.onnx",
               m->opsets[i].version);
    }
    printf("%s\n", m->n_opsets ? "" : " (none)");
}

/* ---- nodes and parameters --------------------------------------------------------- */

static bool same_op(const oc_node *a, const oc_node *b)
{
    return strcmp(a->op_type, b->op_type) == 0 && strcmp(a->domain, b->domain) == 0;
}

/* Op types in order of first appearance, with their counts. */
typedef struct node_ref {
    const oc_node *node;
    int count; /* nodes of this op type, on the first of a group */
} node_ref;

static int by_op(const void *a, const void *b)
{
    const oc_node *x = ((const node_ref *)a)->node, *y = ((const node_ref *)b)->node;
    int c = strcmp(x->domain, y->domain);
    if (c == 0) c = strcmp(x->op_type, y->op_type);
    return c ? c : x->index - y->index; /* first appearance first */
}

static int by_index(const void *a, const void *b)
{
    return ((const node_ref *)a)->node->index - ((const node_ref *)b)->node->index;
}

/* Prints "  <op>: <count>" per op type of the selected nodes, in order of
 * first appearance (sorted, so that graphs of many nodes take n log n). */
static onnxc_status *print_counts_by_type(const onnxc_model *m, const bool *select)
{
    node_ref *refs = malloc(((size_t)m->n_nodes + 1) * sizeof *refs);
    if (!refs) return oc_no_memory();
    int n = 0;
    for (int i = 0; i < m->n_nodes; i++)
        if (!select || select[i]) refs[n++] = (node_ref){&m->nodes[i], 0};
    qsort(refs, (size_t)n, sizeof *refs, by_op);
    size_t groups = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && same_op(refs[j].node, refs[i].node)) j++;
        refs[groups++] = (node_ref){refs[i].node, j - i};
        i = j;
    }
    qsort(refs, groups, sizeof *refs, by_index);
    for (size_t g = 0; g < groups; g++) {
        const oc_node *node = refs[g].node;
        printf("  %s%s%s: %d\n", node->domain, node->domain[0] ? "." : "", node->op_type,
               refs[g].count);
    }
    free(refs);
    return NULL;
}

/* What the optimizer did, one line per kind of rewrite that happened. */
static void print_optimized(const onnxc_model *m, int to_run)
{
    const oc_opt_stats *s = &m->optimized;
    if (!s->enabled) {
        printf("optimized at load: no (--no-optimize)\n");
        return;
    }
    printf("optimized at load: %d nodes to run instead of %d\n", to_run, s->nodes_before);
    const struct {
        int count;
        const char *what;
    } kinds[] = {
        {s->bn_into_conv, "BatchNormalization folded into Conv"},
        {s->add_into_conv, "Add (residual) fused into Conv"},
        {s->relu_into_conv, "Relu fused into Conv"},
        {s->relu_into_gemm, "Relu fused into Gemm"},
        {s->clip_into_conv, "Clip fused into Conv"},
        {s->clip_into_gemm, "Clip fused into Gemm"},
        {s->identity_removed, "Identity removed"},
        {s->dropout_removed, "Dropout removed"},
        {s->pool_removed, "1x1 pool removed"},
        {s->maxpool_into_conv, "MaxPool fused into Conv"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].count) printf("  %s: %d\n", kinds[i].what, kinds[i].count);
}

static onnxc_status *print_op_counts(const onnxc_model *m)
{
    /* The optimizer takes nodes out of the order (removed, fused) or keeps
     * them there as folded nodes computing a Conv's weights. */
    int removed = 0, folded_into = 0;
    bool *constant_folded = calloc((size_t)m->n_nodes + 1, sizeof *constant_folded);
    if (!constant_folded) return oc_no_memory();
    for (int n = 0; n < m->n_nodes; n++) {
        removed += m->nodes[n].fate == OC_NODE_REMOVED;
        folded_into += m->nodes[n].fate == OC_NODE_FOLDED_INTO;
        constant_folded[n] = m->folded && m->folded[n] && m->nodes[n].fate == OC_NODE_KEPT;
    }
    int folded = m->n_folded, to_run = m->n_order - folded - folded_into;
    int optimized = removed + folded_into;
    int unneeded = m->n_nodes - m->n_order - removed;
    printf("nodes: %d (%d run, %d folded into constants at load, ", m->n_nodes, to_run, folded);
    if (optimized) printf("%d optimized away, ", optimized);
    printf("%d not needed by any output)\n", unneeded);
    onnxc_status *st = print_counts_by_type(m, NULL);
    if (!st && folded) {
        printf("folded at load:\n");
        st = print_counts_by_type(m, constant_folded);
    }
    free(constant_folded);
    if (!st) print_optimized(m, to_run);
    return st;
}

static void print_parameters(const onnxc_model *m)
{
    uint64_t count = 0, bytes = 0;
    for (int i = 0; i < m->n_initializers; i++) {
        count += m->initializers[i].tensor.count;
        bytes += m->initializers[i].tensor.nbytes;
    }
    printf("parameters: %" PRIu64 " in %d initializers, %" PRIu64 " bytes (%.1f MiB)\n", count,
           m->n_initializers, bytes, (double)bytes / (1024.0 * 1024.0));
}

/* ---- MACs ---------------------------------------------------------------------------- */

typedef struct mac_counts {
    uint64_t conv, gemm;
    int n_conv, n_gemm;
    bool overflow;
} mac_counts;

static uint64_t mul_u64(uint64_t a, uint64_t b, bool *overflow)
{
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r)) *overflow = true;
    return r;
}

/* Y[N, M, out...] from W[M, C/group, k...]: each output element sums C/group * k... products. */
static uint64_t conv_macs(const oc_tensor *y, const oc_tensor *w, bool *overflow)
{
    uint64_t per_output = 1;
    for (int d = 1; d < w->rank; d++)
        per_output = mul_u64(per_output, (uint64_t)w->dims[d], overflow);
    return mul_u64((uint64_t)y->count, per_output, overflow);
}

/* Y[M, N] = A[M, K] B[K, N] (A transposed when transA). */
static uint64_t gemm_macs(const oc_node *n, const oc_tensor *y, const oc_tensor *a, bool *overflow)
{
    const oc_attr *trans = oc_attr_find(n, "transA");
    bool transposed = trans && trans->type == OC_ATTR_INT && trans->i != 0;
    if (a->rank != 2) return 0;
    return mul_u64((uint64_t)y->count, (uint64_t)a->dims[transposed ? 0 : 1], overflow);
}

static mac_counts count_macs(const onnxc_model *m, const oc_tensor *vals)
{
    mac_counts c = {0};
    for (int k = 0; k < m->n_order; k++) {
        const oc_node *n = &m->nodes[m->order[k]];
        if (n->domain[0] || n->n_inputs < 2 || n->n_outputs < 1 || n->inputs[1] < 0 ||
            n->outputs[0] < 0)
            continue;
        const oc_tensor *y = &vals[n->outputs[0]];
        /* A fused MaxPool's input: what the convolution computes. */
        if (n->pool && n->pool->inputs[0] >= 0 && m->values[n->pool->inputs[0]].shape_known)
            y = &m->values[n->pool->inputs[0]].info;
        if (strcmp(n->op_type, "Conv") == 0) {
            c.conv += conv_macs(y, &vals[n->inputs[1]], &c.overflow);
            c.n_conv++;
        } else if (strcmp(n->op_type, "Gemm") == 0 && n->inputs[0] >= 0) {
            c.gemm += gemm_macs(n, y, &vals[n->inputs[0]], &c.overflow);
            c.n_gemm++;
        }
    }
    return c;
}

/* Buffers of the values inference computes (shape subgraphs), freed after. */
typedef struct computed_list {
    void **items;
    size_t count, cap;
    oc_budget budget; /* the model's max_bytes, as a session would have */
} computed_list;

static void *remember_alloc(void *owner, size_t bytes)
{
    computed_list *list = owner;
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        void **grown = realloc(list->items, cap * sizeof *grown);
        if (!grown) return NULL;
        list->items = grown;
        list->cap = cap;
    }
    void *p = oc_budget_alloc(&list->budget, bytes);
    if (p) list->items[list->count++] = p;
    return p;
}

/* Types and shapes with every symbolic input dim taken as 1. */
static onnxc_status *infer_at_ones(const onnxc_model *m, oc_tensor *vals)
{
    for (int i = 0; i < m->n_values; i++) {
        const oc_value *v = &m->values[i];
        if (v->constant) {
            vals[i] = *v->constant;
        } else if (v->kind == OC_VALUE_INPUT) {
            const oc_type_decl *d = v->decl;
            if (!d || d->dtype == 0 || d->rank < 0)
                return oc_error(ONNXC_ERR_ARGUMENT, "input '%s' declares no type and shape",
                                v->name);
            vals[i].dtype = (onnxc_dtype)d->dtype;
            vals[i].rank = d->rank;
            for (int j = 0; j < d->rank; j++) vals[i].dims[j] = d->dims[j] < 0 ? 1 : d->dims[j];
            OC_TRY(oc_error_prefix(oc_tensor_set_sizes(&vals[i]), "input '%s'", v->name));
        }
    }
    size_t workspace;
    computed_list list = {NULL, 0, 0, {.owner = "session", .limit = m->limits.max_bytes}};
    uint64_t ops = 0;
    oc_infer_opts opts = {false,      true, remember_alloc, &list, NULL,
                          1,          &m->limits, &list.budget, &ops, m->limits.max_ops};
    onnxc_status *st = oc_infer_shapes(m, vals, &opts, NULL, &workspace);
    for (size_t i = 0; i < list.count; i++) oc_aligned_free(list.items[i]);
    free(list.items);
    for (int i = 0; i < m->n_values; i++)
        if (!m->values[i].constant) vals[i].data = NULL;
    return st;
}

static void print_mac_counts(const mac_counts *c, const char *note)
{
    if (c->overflow) {
        printf("MACs: more than 2^64%s\n", note);
        return;
    }
    printf("MACs: %" PRIu64 " (Conv %" PRIu64 " in %d nodes, Gemm %" PRIu64 " in %d nodes)%s\n",
           c->conv + c->gemm, c->conv, c->n_conv, c->gemm, c->n_gemm, note);
}

static onnxc_status *print_macs(const onnxc_model *m)
{
    oc_tensor *vals = calloc((size_t)m->n_values + 1, sizeof *vals);
    if (!vals) return oc_no_memory();
    if (m->static_shapes) {
        for (int i = 0; i < m->n_values; i++) vals[i] = m->values[i].info;
        mac_counts c = count_macs(m, vals);
        print_mac_counts(&c, "");
    } else {
        onnxc_status *st = infer_at_ones(m, vals);
        if (st) {
            printf("MACs: unknown: they need static shapes, and inference with symbolic dims "
                   "as 1 failed: %s\n", onnxc_status_message(st));
            onnxc_status_free(st);
        } else {
            mac_counts c = count_macs(m, vals);
            print_mac_counts(&c, " at symbolic dims = 1 (the model's shapes are not static)");
        }
    }
    free(vals);
    return NULL;
}

/* ---- the command ------------------------------------------------------------------------ */

static onnxc_status *describe(const onnxc_model *m, const char *path)
{
    print_header(m, path);
    OC_TRY(print_values(m, "inputs", onnxc_model_input_count(m), onnxc_model_input));
    OC_TRY(print_values(m, "outputs", onnxc_model_output_count(m), onnxc_model_output));
    OC_TRY(print_op_counts(m));
    print_parameters(m);
    return print_macs(m);
}

int cli_info_main(int argc, char **argv)
{
    const char *path = NULL;
    onnxc_model_options mo;
    onnxc_model_options_init(&mo);
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            cli_info_help(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--no-optimize") == 0) {
            mo.optimize = 0;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("info", "unknown option '%s'", argv[i]);
        if (path) return cli_usage_error("info", "unexpected argument '%s' (the model is '%s')",
                                         argv[i], path);
        path = argv[i];
    }
    if (!path) return cli_usage_error("info", "no model given");
    onnxc_model *m = NULL;
    onnxc_status *st = onnxc_model_open_file(path, &mo, &m);
    if (!st) st = describe(m, path);
    onnxc_model_free(m);
    return st ? cli_status_error(st) : CLI_EXIT_OK;
}
