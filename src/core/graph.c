/* Links the loaded graph: names become value ids, every reference is
 * checked, the nodes some output needs are ordered (Kahn), and their ops
 * resolved and prepared. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "ops/ops.h"

/* ---- building values ----------------------------------------------------- */

static int new_value(onnxc_model *m, const char *name, oc_value_kind kind)
{
    int id = m->n_values++;
    oc_value *v = &m->values[id];
    v->name = name;
    v->kind = kind;
    v->producer = -1;
    v->input_index = -1;
    return id;
}

static const char *kind_name(const oc_value *v)
{
    switch (v->kind) {
    case OC_VALUE_INPUT: return "a graph input";
    case OC_VALUE_INITIALIZER: return "an initializer";
    case OC_VALUE_NODE: return "a node output";
    }
    return "a value";
}

static onnxc_status *add_sources(onnxc_model *m, oc_name_map *map)
{
    for (int i = 0; i < m->n_initializers; i++) {
        const oc_initializer *init = &m->initializers[i];
        if (!init->name[0]) return oc_error(ONNXC_ERR_MODEL, "initializer #%d has no name", i);
        int *slot = oc_name_map_slot(map, m->values, init->name);
        if (*slot >= 0)
            return oc_error(ONNXC_ERR_MODEL, "initializer '%s' is defined twice", init->name);
        int id = new_value(m, init->name, OC_VALUE_INITIALIZER);
        m->values[id].constant = &init->tensor;
        *slot = id;
    }
    for (int i = 0; i < m->n_graph_inputs; i++) {
        const oc_value_info *vi = &m->graph_inputs[i];
        if (!vi->name[0]) return oc_error(ONNXC_ERR_MODEL, "graph input #%d has no name", i);
        int *slot = oc_name_map_slot(map, m->values, vi->name);
        if (*slot >= 0) {
            oc_value *v = &m->values[*slot];
            if (v->kind != OC_VALUE_INITIALIZER || v->overridable)
                return oc_error(ONNXC_ERR_MODEL, "graph input '%s' is listed twice", vi->name);
            /* An initializer listed as an input is a default the caller may override. */
            v->overridable = true;
            v->decl = &vi->type;
            continue;
        }
        int id = new_value(m, vi->name, OC_VALUE_INPUT);
        m->values[id].decl = &vi->type;
        *slot = id;
    }
    return NULL;
}

static onnxc_status *add_node_outputs(onnxc_model *m, oc_name_map *map)
{
    for (int n = 0; n < m->n_nodes; n++) {
        oc_node *node = &m->nodes[n];
        for (int o = 0; o < node->n_outputs; o++) {
            const char *name = node->output_names[o];
            node->outputs[o] = -1;
            if (!name[0]) continue;
            int *slot = oc_name_map_slot(map, m->values, name);
            if (*slot >= 0) {
                const oc_value *v = &m->values[*slot];
                if (v->kind == OC_VALUE_NODE)
                    return oc_node_error(node, ONNXC_ERR_MODEL,
                                         "output '%s' is also produced by node #%d (%s)", name,
                                         v->producer, m->nodes[v->producer].op_type);
                return oc_node_error(node, ONNXC_ERR_MODEL, "output '%s' is also %s", name,
                                     kind_name(v));
            }
            int id = new_value(m, name, OC_VALUE_NODE);
            m->values[id].producer = n;
            *slot = id;
            node->outputs[o] = id;
        }
    }
    return NULL;
}

static onnxc_status *link_node_inputs(onnxc_model *m, const oc_name_map *map)
{
    for (int n = 0; n < m->n_nodes; n++) {
        oc_node *node = &m->nodes[n];
        for (int i = 0; i < node->n_inputs; i++) {
            const char *name = node->input_names[i];
            node->inputs[i] = -1;
            if (!name[0]) continue;
            int id = oc_name_map_find(map, m->values, name);
            if (id < 0)
                return oc_node_error(node, ONNXC_ERR_MODEL,
                                     "input '%s' is not a graph input, an initializer or the "
                                     "output of any node",
                                     name);
            node->inputs[i] = id;
        }
    }
    return NULL;
}

static onnxc_status *link_graph_outputs(onnxc_model *m, const oc_name_map *map)
{
    if (m->n_graph_outputs == 0) return oc_error(ONNXC_ERR_MODEL, "the graph has no outputs");
    m->outputs = oc_arena_array(&m->arena, (size_t)m->n_graph_outputs, sizeof *m->outputs);
    if (!m->outputs) return oc_no_memory();
    for (int i = 0; i < m->n_graph_outputs; i++) {
        const oc_value_info *vi = &m->graph_outputs[i];
        int id = oc_name_map_find(map, m->values, vi->name);
        if (id < 0)
            return oc_error(ONNXC_ERR_MODEL,
                            "graph output '%s' is not produced by any node, input or initializer",
                            vi->name);
        if (m->values[id].is_output)
            return oc_error(ONNXC_ERR_MODEL, "graph output '%s' is listed twice", vi->name);
        m->values[id].is_output = true;
        if (!m->values[id].decl) m->values[id].decl = &vi->type;
        m->outputs[i] = id;
    }
    m->n_outputs = m->n_graph_outputs;
    return NULL;
}

static void attach_value_infos(onnxc_model *m, const oc_name_map *map)
{
    for (int i = 0; i < m->n_value_infos; i++) {
        int id = oc_name_map_find(map, m->values, m->value_infos[i].name);
        if (id >= 0 && !m->values[id].decl) m->values[id].decl = &m->value_infos[i].type;
    }
}

static onnxc_status *collect_inputs(onnxc_model *m)
{
    int count = 0;
    for (int i = 0; i < m->n_values; i++)
        if (m->values[i].kind == OC_VALUE_INPUT) count++;
    m->inputs = oc_arena_array(&m->arena, (size_t)count + 1, sizeof *m->inputs);
    if (!m->inputs) return oc_no_memory();
    /* Values were created in graph-input order, so this keeps the file's order. */
    for (int i = 0; i < m->n_values; i++)
        if (m->values[i].kind == OC_VALUE_INPUT) {
            m->values[i].input_index = m->n_inputs;
            m->inputs[m->n_inputs++] = i;
        }
    return NULL;
}

/* ---- ordering ------------------------------------------------------------ */

/* Marks the nodes some graph output depends on (iteratively: graphs may be long). */
static onnxc_status *mark_needed(const onnxc_model *m, bool *needed)
{
    int *stack = malloc(((size_t)m->n_nodes + 1) * sizeof *stack);
    if (!stack) return oc_no_memory();
    int top = 0;
    for (int i = 0; i < m->n_outputs; i++) {
        int p = m->values[m->outputs[i]].producer;
        if (p >= 0 && !needed[p]) {
            needed[p] = true;
            stack[top++] = p;
        }
    }
    while (top > 0) {
        const oc_node *node = &m->nodes[stack[--top]];
        for (int i = 0; i < node->n_inputs; i++) {
            if (node->inputs[i] < 0) continue;
            int p = m->values[node->inputs[i]].producer;
            if (p >= 0 && !needed[p]) {
                needed[p] = true;
                stack[top++] = p;
            }
        }
    }
    free(stack);
    return NULL;
}

/* Of the nodes Kahn's algorithm could not order (pending > 0: on a cycle or
 * after one), keeps those on a cycle (or between cycles) by peeling off,
 * repeatedly, the ones none of the others read: what the message lists. */
static onnxc_status *on_cycle(const onnxc_model *m, const bool *needed, const int *pending,
                              const int *users_start, const int *users, bool *cyclic)
{
    size_t nn = (size_t)m->n_nodes + 1;
    int *readers = calloc(nn, sizeof *readers); /* unordered nodes reading each one */
    int *sinks = malloc(nn * sizeof *sinks);
    if (!readers || !sinks) {
        free(readers);
        free(sinks);
        return oc_no_memory();
    }
    for (int n = 0; n < m->n_nodes; n++) cyclic[n] = needed[n] && pending[n] > 0;
    int top = 0;
    for (int n = 0; n < m->n_nodes; n++) {
        if (!cyclic[n]) continue;
        for (int e = users_start[n]; e < users_start[n + 1]; e++) readers[n] += cyclic[users[e]];
        if (readers[n] == 0) sinks[top++] = n;
    }
    /* A node's producers are found through its inputs (the CSR goes the other way). */
    while (top > 0) {
        const oc_node *node = &m->nodes[sinks[--top]];
        cyclic[node->index] = false;
        for (int i = 0; i < node->n_inputs; i++) {
            int p = node->inputs[i] >= 0 ? m->values[node->inputs[i]].producer : -1;
            if (p >= 0 && cyclic[p] && --readers[p] == 0) sinks[top++] = p;
        }
    }
    free(readers);
    free(sinks);
    return NULL;
}

static onnxc_status *cycle_error(const onnxc_model *m, const bool *needed, const int *pending,
                                 const int *users_start, const int *users)
{
    bool *cyclic = calloc((size_t)m->n_nodes + 1, sizeof *cyclic);
    if (!cyclic) return oc_no_memory();
    onnxc_status *st = on_cycle(m, needed, pending, users_start, users, cyclic);
    if (st) {
        free(cyclic);
        return st;
    }
    char names[512] = "";
    size_t used = 0;
    int shown = 0, total = 0;
    for (int n = 0; n < m->n_nodes; n++) {
        if (!cyclic[n]) continue;
        total++;
        if (shown < 6 && used < sizeof names) {
            const oc_node *node = &m->nodes[n];
            int w;
            if (node->name[0])
                w = snprintf(names + used, sizeof names - used, "%s'%s' (%s)", shown ? ", " : "",
                             node->name, node->op_type);
            else
                w = snprintf(names + used, sizeof names - used, "%s#%d (%s)", shown ? ", " : "",
                             n, node->op_type);
            if (w > 0) used += (size_t)w;
            shown++;
        }
    }
    free(cyclic);
    if (used >= sizeof names) used = sizeof names - 1;
    return oc_error(ONNXC_ERR_MODEL, "the graph has a cycle through %d node%s: %s%s", total,
                    total == 1 ? "" : "s", names, total > shown ? ", ..." : "");
}

/* Kahn's algorithm over the needed nodes, taking ready nodes in file order. */
static onnxc_status *topo_sort(onnxc_model *m, const bool *needed)
{
    size_t nn = (size_t)m->n_nodes + 1;
    int *pending = calloc(nn, sizeof *pending);   /* unfinished producers per node */
    int *users_start = calloc(nn + 1, sizeof *users_start);
    int *queue = malloc(nn * sizeof *queue);
    int *users = NULL;
    onnxc_status *st = NULL;
    if (!pending || !users_start || !queue) {
        st = oc_no_memory();
        goto done;
    }
    /* CSR of edges producer -> consumer, one per input occurrence. */
    size_t edges = 0;
    for (int n = 0; n < m->n_nodes; n++) {
        if (!needed[n]) continue;
        const oc_node *node = &m->nodes[n];
        for (int i = 0; i < node->n_inputs; i++) {
            if (node->inputs[i] < 0) continue;
            int p = m->values[node->inputs[i]].producer;
            if (p < 0) continue;
            users_start[p + 1]++;
            pending[n]++;
            edges++;
        }
    }
    for (int n = 0; n < m->n_nodes; n++) users_start[n + 1] += users_start[n];
    users = malloc((edges + 1) * sizeof *users);
    int *fill = malloc(nn * sizeof *fill);
    if (!users || !fill) {
        free(fill);
        st = oc_no_memory();
        goto done;
    }
    memcpy(fill, users_start, nn * sizeof *fill);
    for (int n = 0; n < m->n_nodes; n++) {
        if (!needed[n]) continue;
        const oc_node *node = &m->nodes[n];
        for (int i = 0; i < node->n_inputs; i++) {
            if (node->inputs[i] < 0) continue;
            int p = m->values[node->inputs[i]].producer;
            if (p >= 0) users[fill[p]++] = n;
        }
    }
    free(fill);

    int needed_count = 0, head = 0, tail = 0;
    for (int n = 0; n < m->n_nodes; n++) {
        if (!needed[n]) continue;
        needed_count++;
        if (pending[n] == 0) queue[tail++] = n;
    }
    m->order = oc_arena_array(&m->arena, (size_t)needed_count + 1, sizeof *m->order);
    if (!m->order) {
        st = oc_no_memory();
        goto done;
    }
    while (head < tail) {
        int n = queue[head++];
        m->order[m->n_order++] = n;
        for (int e = users_start[n]; e < users_start[n + 1]; e++)
            if (--pending[users[e]] == 0) queue[tail++] = users[e];
    }
    if (m->n_order != needed_count) st = cycle_error(m, needed, pending, users_start, users);
done:
    free(pending);
    free(users_start);
    free(queue);
    free(users);
    return st;
}

/* ---- ops ----------------------------------------------------------------- */

static bool is_default_domain(const char *domain)
{
    return domain[0] == 0 || strcmp(domain, "ai.onnx") == 0;
}

/* Opset imports are looked up per node: sorted by domain ("ai.onnx" as ""). */
static const char *canonical_domain(const char *domain)
{
    return is_default_domain(domain) ? "" : domain;
}

static int by_domain(const void *a, const void *b)
{
    return strcmp(canonical_domain(((const oc_opset *)a)->domain),
                  canonical_domain(((const oc_opset *)b)->domain));
}

static onnxc_status *sorted_opsets(const onnxc_model *m, oc_opset **out)
{
    *out = malloc(((size_t)m->n_opsets + 1) * sizeof **out);
    if (!*out) return oc_no_memory();
    if (m->n_opsets) memcpy(*out, m->opsets, (size_t)m->n_opsets * sizeof **out);
    qsort(*out, (size_t)m->n_opsets, sizeof **out, by_domain);
    return NULL;
}

static bool find_opset(const oc_opset *sorted, int count, const char *domain, int64_t *version)
{
    oc_opset key = {domain, 0};
    const oc_opset *hit = bsearch(&key, sorted, (size_t)count, sizeof *sorted, by_domain);
    if (hit) *version = hit->version;
    return hit != NULL;
}

static onnxc_status *op_range_error(const oc_node *node)
{
    size_t count;
    const oc_op *table = oc_op_table(&count);
    int lo = 0, hi = 0;
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].domain, node->domain) == 0 && strcmp(table[i].type, node->op_type) == 0) {
            if (!lo || table[i].since < lo) lo = table[i].since;
            if (table[i].until > hi) hi = table[i].until;
        }
    return oc_node_error(node, ONNXC_ERR_UNSUPPORTED,
                         "%s is supported at opsets %d to %d, not at opset %" PRId64,
                         node->op_type, lo, hi, node->opset);
}

static onnxc_status *check_arity(const oc_node *node)
{
    const oc_op *op = node->op;
    /* Trailing omitted optional inputs and outputs do not count. */
    int n_in = node->n_inputs, n_out = node->n_outputs;
    while (n_in > 0 && node->inputs[n_in - 1] < 0) n_in--;
    while (n_out > 0 && node->outputs[n_out - 1] < 0) n_out--;
    if (n_in < op->min_inputs || (op->max_inputs >= 0 && n_in > op->max_inputs))
        return oc_node_error(node, ONNXC_ERR_MODEL, "has %d inputs, expected %d to %d", n_in,
                             op->min_inputs, op->max_inputs);
    if (n_out < op->min_outputs || (op->max_outputs >= 0 && n_out > op->max_outputs))
        return oc_node_error(node, ONNXC_ERR_MODEL, "has %d outputs, expected %d to %d", n_out,
                             op->min_outputs, op->max_outputs);
    for (int i = 0; i < op->min_inputs; i++)
        if (node->inputs[i] < 0)
            return oc_node_error(node, ONNXC_ERR_MODEL, "required input %d is missing", i);
    return NULL;
}

/* "Conv (domain 'ai.onnx', opset 13, node 'conv1')". */
static void describe_op(const oc_node *node, char *buf, size_t size)
{
    char who[200];
    if (node->name[0])
        snprintf(who, sizeof who, "'%s'", node->name);
    else
        snprintf(who, sizeof who, "#%d", node->index);
    snprintf(buf, size, "%s (domain '%s', opset %" PRId64 ", node %s)", node->op_type,
             node->domain[0] ? node->domain : "ai.onnx", node->opset, who);
}

static onnxc_status *unsupported_error(const oc_node *const *listed, int n_listed, bool more)
{
    char text[1600] = "";
    size_t used = 0;
    for (int i = 0; i < n_listed && used < sizeof text; i++) {
        char entry[400];
        describe_op(listed[i], entry, sizeof entry);
        int w = snprintf(text + used, sizeof text - used, "%s%s", i ? "; " : "", entry);
        if (w > 0) used += (size_t)w;
    }
    return oc_error(ONNXC_ERR_UNSUPPORTED, "unsupported operator%s: %s%s",
                    n_listed > 1 || more ? "s" : "", text, more ? "; and others" : "");
}

/* Finds each needed node's opset and op. Unsupported op types are reported
 * together, each once with its first node (at most a few, so that a model of
 * many distinct unknown types costs no more than a linear pass). */
static onnxc_status *find_ops(onnxc_model *m)
{
    enum { LISTED = 8 };
    const oc_node *listed[LISTED];
    int n_listed = 0;
    bool more = false;
    oc_opset *opsets;
    OC_TRY(sorted_opsets(m, &opsets));
    onnxc_status *st = NULL;
    for (int k = 0; k < m->n_order && !st; k++) {
        oc_node *node = &m->nodes[m->order[k]];
        if (!find_opset(opsets, m->n_opsets, canonical_domain(node->domain), &node->opset)) {
            st = oc_node_error(node, ONNXC_ERR_MODEL, "the model imports no opset for domain '%s'",
                               node->domain[0] ? node->domain : "ai.onnx");
            break;
        }
        node->op = oc_op_find(node->domain, node->op_type, node->opset);
        if (node->op) continue;
        if (oc_op_known(node->domain, node->op_type)) {
            st = op_range_error(node);
            break;
        }
        bool seen = false;
        for (int j = 0; j < n_listed && !seen; j++)
            seen = strcmp(listed[j]->op_type, node->op_type) == 0 &&
                   strcmp(listed[j]->domain, node->domain) == 0;
        if (seen) continue;
        if (n_listed < LISTED)
            listed[n_listed++] = node;
        else
            more = true;
    }
    free(opsets);
    if (!st && n_listed) st = unsupported_error(listed, n_listed, more);
    return st;
}

/* Resolves and prepares every needed node's op. */
static onnxc_status *resolve_ops(onnxc_model *m)
{
    OC_TRY(find_ops(m));
    for (int k = 0; k < m->n_order; k++) {
        oc_node *node = &m->nodes[m->order[k]];
        OC_TRY(check_arity(node));
        if (node->op->prepare) OC_TRY(node->op->prepare(node, &m->arena, &node->params));
    }
    return NULL;
}

/* Marks the values whose data decides a shape: the shape inputs of ops, and
 * (walking back in reverse order) every input of a node computing such a
 * value, except the data of Shape-like ops' inputs, of which only the shape
 * counts. */
static void mark_shape_relevant(onnxc_model *m)
{
    for (int k = m->n_order - 1; k >= 0; k--) {
        const oc_node *node = &m->nodes[m->order[k]];
        unsigned mask = oc_op_shape_inputs(node->op);
        bool feeds_shape = false;
        for (int o = 0; o < node->n_outputs; o++)
            if (node->outputs[o] >= 0 && m->values[node->outputs[o]].shape_relevant) feeds_shape = true;
        if (node->op->flags & OC_OP_SHAPE_ONLY) feeds_shape = false;
        for (int i = 0; i < node->n_inputs; i++) {
            if (node->inputs[i] < 0) continue;
            if (feeds_shape || (i < 32 && (mask >> i) & 1u))
                m->values[node->inputs[i]].shape_relevant = true;
        }
    }
}

onnxc_status *oc_graph_reorder(onnxc_model *m)
{
    bool *needed = calloc((size_t)m->n_nodes + 1, sizeof *needed);
    if (!needed) return oc_no_memory();
    m->order = NULL;
    m->n_order = 0;
    onnxc_status *st = mark_needed(m, needed);
    if (!st) st = topo_sort(m, needed);
    free(needed);
    if (st) return st;
    for (int i = 0; i < m->n_values; i++) m->values[i].shape_relevant = false;
    mark_shape_relevant(m);
    return NULL;
}

onnxc_status *oc_graph_build(onnxc_model *m)
{
    size_t n_values = (size_t)m->n_initializers + (size_t)m->n_graph_inputs;
    for (int n = 0; n < m->n_nodes; n++) n_values += (size_t)m->nodes[n].n_outputs;
    if (n_values > INT32_MAX / 2) return oc_error(ONNXC_ERR_LIMIT, "too many values in the graph");
    m->values = oc_arena_array(&m->arena, n_values + 1, sizeof *m->values);
    if (!m->values) return oc_no_memory();

    oc_name_map *map = &m->names;
    bool *needed = NULL;
    onnxc_status *st = oc_name_map_init(map, n_values + 1);
    if (!st) st = add_sources(m, map);
    if (!st) st = add_node_outputs(m, map);
    if (!st) st = link_node_inputs(m, map);
    if (!st) st = link_graph_outputs(m, map);
    if (!st) {
        attach_value_infos(m, map);
        st = collect_inputs(m);
    }
    if (!st) {
        needed = calloc((size_t)m->n_nodes + 1, sizeof *needed);
        st = needed ? mark_needed(m, needed) : oc_no_memory();
    }
    if (!st) st = topo_sort(m, needed);
    free(needed);
    if (!st) st = resolve_ops(m);
    if (!st) mark_shape_relevant(m);
    return st;
}
