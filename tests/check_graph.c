/* Graph building: linking, ordering, cycles, dangling names, unneeded nodes,
 * op resolution, static shape inference and the memory plan. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph.h"
#include "core/ir.h"
#include "model_builder.h"

static const int64_t vec4[1] = {4};

/* Opens mb from memory; returns the status (model in *out when NULL). */
static onnxc_status *open_mb(mb_model *mb, onnxc_model **out) { return mb_open(mb, NULL, out); }

/* Expects opening to fail with code and a message containing each needle. */
static void expect_error(mb_model *mb, onnxc_code code, const char *needle1, const char *needle2)
{
    onnxc_model *m = NULL;
    onnxc_status *st = open_mb(mb, &m);
    ck_assert_msg(st != NULL, "expected an error containing '%s'", needle1);
    const char *msg = onnxc_status_message(st);
    ck_assert_msg(onnxc_status_code(st) == code, "code %d, message: %s", onnxc_status_code(st), msg);
    ck_assert_msg(strstr(msg, needle1), "'%s' not in: %s", needle1, msg);
    if (needle2) ck_assert_msg(strstr(msg, needle2), "'%s' not in: %s", needle2, msg);
    ck_assert(m == NULL);
    onnxc_status_free(st);
}

static mb_model *chain_model(void)
{
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, vec4);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 1, vec4);
    return mb;
}

static int position(const onnxc_model *m, const char *node_name)
{
    for (int k = 0; k < m->n_order; k++)
        if (strcmp(m->nodes[m->order[k]].name, node_name) == 0) return k;
    return -1;
}

START_TEST(nodes_listed_backwards_are_ordered)
{
    mb_model *mb = chain_model();
    mb_node_add(mb, "Relu", "c", "b", "y");
    mb_node_add(mb, "Add", "b", "a,x", "b");
    mb_node_add(mb, "Relu", "a", "x", "a");
    onnxc_model *m;
    onnxc_status *st = open_mb(mb, &m);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
    ck_assert_int_eq(m->n_order, 3);
    ck_assert_int_lt(position(m, "a"), position(m, "b"));
    ck_assert_int_lt(position(m, "b"), position(m, "c"));
    onnxc_model_free(m);
}
END_TEST

START_TEST(unneeded_nodes_are_skipped)
{
    mb_model *mb = chain_model();
    mb_node_add(mb, "Relu", "used", "x", "y");
    /* Not needed by any output, and of an op onnxc does not know: no error. */
    mb_node_add(mb, "NoSuchOp", "unused", "x", "z");
    onnxc_model *m;
    onnxc_status *st = open_mb(mb, &m);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
    ck_assert_int_eq(m->n_order, 1);
    ck_assert_int_eq(position(m, "unused"), -1);
    onnxc_model_free(m);
}
END_TEST

START_TEST(cycle_is_reported_by_name)
{
    mb_model *mb = chain_model();
    mb_node_add(mb, "Add", "first", "x,q", "p");
    mb_node_add(mb, "Relu", "second", "p", "q");
    mb_node_add(mb, "Relu", "out", "q", "y");
    expect_error(mb, ONNXC_ERR_MODEL, "cycle", "'first'");
}
END_TEST

START_TEST(self_loop_is_a_cycle)
{
    mb_model *mb = chain_model();
    mb_node_add(mb, "Add", "loop", "x,y", "y");
    expect_error(mb, ONNXC_ERR_MODEL, "cycle", "'loop'");
}
END_TEST

START_TEST(dangling_input_is_reported)
{
    mb_model *mb = chain_model();
    mb_node_add(mb, "Add", "adder", "x,ghost", "y");
    expect_error(mb, ONNXC_ERR_MODEL, "'ghost'", "adder");
}
END_TEST

START_TEST(two_producers_are_reported)
{
    mb_model *mb = chain_model();
    mb_node_add(mb, "Relu", "one", "x", "y");
    mb_node_add(mb, "Relu", "two", "x", "y");
    expect_error(mb, ONNXC_ERR_MODEL, "'y'", "also produced");
}
END_TEST

START_TEST(output_shadowing_an_input_is_reported)
{
    mb_model *mb = chain_model();
    mb_node_add(mb, "Relu", "one", "x", "x");
    mb_node_add(mb, "Relu", "two", "x", "y");
    expect_error(mb, ONNXC_ERR_MODEL, "'x'", "graph input");
}
END_TEST

START_TEST(missing_graph_output_is_reported)
{
    mb_model *mb = chain_model();
    mb_node_add(mb, "Relu", "one", "x", "z");
    expect_error(mb, ONNXC_ERR_MODEL, "graph output 'y'", NULL);
}
END_TEST

START_TEST(graph_without_outputs_is_reported)
{
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, vec4);
    mb_node_add(mb, "Relu", "one", "x", "z");
    expect_error(mb, ONNXC_ERR_MODEL, "no outputs", NULL);
}
END_TEST

START_TEST(unsupported_op_names_node_domain_and_opset)
{
    mb_model *mb = chain_model();
    mb_node_add(mb, "Frobnicate", "frob", "x", "y");
    expect_error(mb, ONNXC_ERR_UNSUPPORTED, "Frobnicate (domain 'ai.onnx', opset 13, node 'frob')",
                 NULL);
}
END_TEST

START_TEST(unknown_domain_is_reported)
{
    mb_model *mb = chain_model();
    mb_node *n = mb_node_add(mb, "Relu", "r", "x", "y");
    mb_node_domain(n, "com.example");
    expect_error(mb, ONNXC_ERR_MODEL, "no opset for domain 'com.example'", NULL);
}
END_TEST

START_TEST(op_from_another_domain_is_unsupported)
{
    mb_model *mb = chain_model();
    mb_opset(mb, "com.example", 1);
    mb_node *n = mb_node_add(mb, "Relu", "r", "x", "y");
    mb_node_domain(n, "com.example");
    expect_error(mb, ONNXC_ERR_UNSUPPORTED, "Relu (domain 'com.example', opset 1", NULL);
}
END_TEST

START_TEST(arity_is_checked)
{
    mb_model *mb = chain_model();
    mb_node_add(mb, "Add", "lonely", "x", "y");
    expect_error(mb, ONNXC_ERR_MODEL, "lonely", "inputs");
}
END_TEST

START_TEST(ir3_initializers_listed_as_inputs_are_not_bindable_inputs)
{
    mb_model *mb = mb_new(3, 9);
    float w[4] = {1, 2, 3, 4};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, vec4);
    mb_input(mb, "w", ONNXC_DTYPE_FLOAT, 1, vec4);
    mb_init_f32(mb, "w", 1, vec4, w, false);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 1, vec4);
    mb_node_add(mb, "Add", "add", "x,w", "y");
    onnxc_model *m;
    onnxc_status *st = open_mb(mb, &m);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
    ck_assert_uint_eq(onnxc_model_input_count(m), 1);
    onnxc_tensor_info info;
    ck_assert(!onnxc_model_input(m, 0, &info));
    ck_assert_str_eq(info.name, "x");
    onnxc_model_free(m);
}
END_TEST

START_TEST(static_shapes_are_inferred_at_load)
{
    mb_model *mb = mb_new(8, 13);
    int64_t d[2] = {2, 3};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, d);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL); /* shape left to inference */
    mb_node_add(mb, "Flatten", "f", "x", "f_out");
    mb_node_add(mb, "Relu", "r", "f_out", "y");
    onnxc_model *m;
    onnxc_status *st = open_mb(mb, &m);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
    ck_assert(m->static_shapes);
    onnxc_tensor_info info;
    ck_assert(!onnxc_model_output(m, 0, &info));
    ck_assert_int_eq(info.rank, 2);
    ck_assert_int_eq(info.shape[0], 2);
    ck_assert_int_eq(info.shape[1], 3);
    onnxc_model_free(m);
}
END_TEST

START_TEST(inconsistent_shapes_fail_at_load)
{
    mb_model *mb = mb_new(8, 13);
    int64_t a[1] = {4}, b[1] = {5};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, a);
    mb_input(mb, "z", ONNXC_DTYPE_FLOAT, 1, b);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 1, a);
    mb_node_add(mb, "Add", "adder", "x,z", "y");
    expect_error(mb, ONNXC_ERR_MODEL, "adder", "broadcast");
}
END_TEST

START_TEST(declared_output_type_must_match)
{
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, vec4);
    mb_output(mb, "y", ONNXC_DTYPE_INT64, 1, vec4);
    mb_node_add(mb, "Relu", "r", "x", "y");
    expect_error(mb, ONNXC_ERR_MODEL, "'y'", "int64");
}
END_TEST

START_TEST(symbolic_inputs_defer_inference)
{
    mb_model *mb = mb_new(8, 13);
    int64_t d[2] = {-1, 4};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, d);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, d);
    mb_node_add(mb, "Relu", "r", "x", "y");
    onnxc_model *m;
    onnxc_status *st = open_mb(mb, &m);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
    ck_assert(!m->static_shapes);
    onnxc_tensor_info info;
    ck_assert(!onnxc_model_input(m, 0, &info));
    ck_assert_int_eq(info.shape[0], -1);
    ck_assert_str_eq(info.dim_names[0], "N");
    ck_assert_ptr_null(info.dim_names[1]);
    onnxc_model_free(m);
}
END_TEST

/* A long chain: ordering and liveness must not recurse or go quadratic in a
 * way that matters at this size. */
START_TEST(long_chain_orders_without_recursion)
{
    enum { LEN = 20000 };
    mb_model *mb = chain_model();
    char in[32], out[32];
    for (int i = LEN - 1; i >= 0; i--) {
        snprintf(in, sizeof in, i == 0 ? "x" : "v%d", i - 1);
        snprintf(out, sizeof out, i == LEN - 1 ? "y" : "v%d", i);
        mb_node_add(mb, "Relu", NULL, in, out);
    }
    onnxc_model *m;
    onnxc_status *st = open_mb(mb, &m);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
    ck_assert_int_eq(m->n_order, LEN);
    for (int k = 1; k < LEN; k++) ck_assert_int_gt(m->order[k - 1], m->order[k]);
    onnxc_model_free(m);
}
END_TEST

/* The plan never overlaps two values alive at once. */
START_TEST(memory_plan_separates_live_values)
{
    mb_model *mb = chain_model();
    mb_node_add(mb, "Relu", "a", "x", "a");
    mb_node_add(mb, "Relu", "b", "a", "b");
    mb_node_add(mb, "Add", "c", "a,b", "c");
    mb_node_add(mb, "Relu", "d", "c", "d");
    mb_node_add(mb, "Relu", "e", "d", "e");
    mb_node_add(mb, "Add", "f", "e,d", "y");
    onnxc_model *m;
    onnxc_status *st = open_mb(mb, &m);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
    oc_tensor *vals = calloc((size_t)m->n_values, sizeof *vals);
    size_t *offsets = calloc((size_t)m->n_values, sizeof *offsets);
    for (int i = 0; i < m->n_values; i++) vals[i] = m->values[i].info;
    int *first = calloc((size_t)m->n_values, sizeof *first);
    int *last = calloc((size_t)m->n_values, sizeof *last);
    oc_lifetimes(m, NULL, first, last);
    size_t total;
    ck_assert(!oc_plan_memory(m, vals, NULL, offsets, &total));
    int planned = 0;
    for (int i = 0; i < m->n_values; i++) {
        if (offsets[i] == SIZE_MAX) continue;
        planned++;
        ck_assert_uint_le(offsets[i] + vals[i].nbytes, total);
        for (int j = 0; j < i; j++) {
            if (offsets[j] == SIZE_MAX) continue;
            const oc_value *a = &m->values[i], *b = &m->values[j];
            bool live_together = first[i] <= last[j] && first[j] <= last[i];
            bool overlap = offsets[i] < offsets[j] + vals[j].nbytes &&
                           offsets[j] < offsets[i] + vals[i].nbytes;
            ck_assert_msg(!(live_together && overlap), "'%s' and '%s' share memory while alive",
                          a->name, b->name);
        }
    }
    ck_assert_int_eq(planned, 6);
    /* Six 16-byte values, at most three alive at once: reuse must happen. */
    ck_assert_uint_lt(total, 6 * OC_ALIGN);
    free(vals);
    free(offsets);
    free(first);
    free(last);
    onnxc_model_free(m);
}
END_TEST

/* Nodes whose inputs are all constant are computed at load and never run.
 * An initializer listed as a graph input folds with its default value; a
 * session that binds it recomputes what was folded from it. */
START_TEST(constant_subgraphs_are_folded_at_load)
{
    const float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40}, b2[4] = {-5, -50, 0, 1};
    for (int overridable = 0; overridable <= 1; overridable++) {
        mb_model *mb = mb_new(overridable ? 3 : 8, 13);
        mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, vec4);
        if (overridable) mb_input(mb, "b", ONNXC_DTYPE_FLOAT, 1, vec4);
        mb_init_f32(mb, "a", 1, vec4, a, false);
        mb_init_f32(mb, "b", 1, vec4, b, false);
        mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 1, vec4);
        mb_node_add(mb, "Add", "const_sum", "a,b", "ab");
        mb_node_add(mb, "Relu", "const_relu", "ab", "ab_relu");
        mb_node_add(mb, "Add", "uses_x", "x,ab_relu", "y");
        onnxc_model *m;
        onnxc_status *st = open_mb(mb, &m);
        ck_assert_msg(!st, "%s", onnxc_status_message(st));
        ck_assert_int_eq(m->n_folded, 2);
        onnxc_session *s;
        ck_assert(!onnxc_session_create(m, NULL, &s));
        float x[4] = {-100, 0.5f, -0.5f, 7};
        int64_t shape[1] = {4};
        ck_assert(!onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, shape, 1, x, sizeof x));
        for (int bound = 0; bound <= overridable; bound++) {
            const float *bv = bound ? b2 : b;
            if (bound) ck_assert(!onnxc_session_bind(s, "b", ONNXC_DTYPE_FLOAT, shape, 1, b2, sizeof b2));
            ck_assert(!onnxc_session_run(s));
            onnxc_tensor_view v;
            ck_assert(!onnxc_session_output(s, 0, &v));
            const float *y = v.data;
            for (int i = 0; i < 4; i++) {
                float ab = a[i] + bv[i];
                ck_assert_float_eq(y[i], x[i] + (ab > 0 ? ab : 0));
            }
        }
        onnxc_session_free(s);
        onnxc_model_free(m);
    }
}
END_TEST

/* The producers of a Concat's inputs write into their slice of its output
 * (batch 1 along axis 1), and the Concat then copies nothing. */
START_TEST(concat_inputs_are_planned_in_place)
{
    mb_model *mb = mb_new(8, 13);
    int64_t d[2] = {1, 3}, dout[2] = {1, 9};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, d);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, dout);
    mb_node_add(mb, "Relu", "a", "x", "a");
    mb_node_add(mb, "Add", "b", "x,x", "b");
    mb_node_add(mb, "Add", "c", "a,b", "c"); /* reads a and b: they may not alias */
    mb_node_add(mb, "Relu", "d", "c", "d");
    mb_node_add(mb, "Add", "e", "c,c", "e");
    mb_node_add(mb, "Relu", "f", "x", "f");
    mb_node_add(mb, "Concat", "cat", "d,e,f", "y");
    mb_attr_int((mb_node *)mb->graph->node[mb->graph->n_node - 1], "axis", 1);
    onnxc_model *m;
    onnxc_status *st = open_mb(mb, &m);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
    oc_tensor *vals = calloc((size_t)m->n_values, sizeof *vals);
    size_t *offsets = calloc((size_t)m->n_values, sizeof *offsets);
    for (int i = 0; i < m->n_values; i++) vals[i] = m->values[i].info;
    size_t total;
    ck_assert(!oc_plan_memory(m, vals, NULL, offsets, &total));
    int id[3], y = oc_name_map_find(&m->names, m->values, "y");
    const char *names[3] = {"d", "e", "f"};
    for (int k = 0; k < 3; k++) {
        id[k] = oc_name_map_find(&m->names, m->values, names[k]);
        ck_assert_uint_eq(offsets[id[k]], offsets[y] + (size_t)k * 3 * sizeof(float));
    }
    onnxc_session *s;
    ck_assert(!onnxc_session_create(m, NULL, &s));
    float x[3] = {-1.5f, 2.0f, 0.25f};
    ck_assert(!onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, d, 2, x, sizeof x));
    ck_assert(!onnxc_session_run(s));
    onnxc_tensor_view v;
    ck_assert(!onnxc_session_output(s, 0, &v));
    const float *out = v.data;
    for (int i = 0; i < 3; i++) {
        float a = x[i] > 0 ? x[i] : 0, b = x[i] + x[i], c = a + b;
        ck_assert_float_eq(out[i], c > 0 ? c : 0);
        ck_assert_float_eq(out[3 + i], c + c);
        ck_assert_float_eq(out[6 + i], a);
    }
    onnxc_session_free(s);
    free(vals);
    free(offsets);
    onnxc_model_free(m);
}
END_TEST

static Suite *graph_suite(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("graph");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, nodes_listed_backwards_are_ordered);
    tcase_add_test(tc, unneeded_nodes_are_skipped);
    tcase_add_test(tc, cycle_is_reported_by_name);
    tcase_add_test(tc, self_loop_is_a_cycle);
    tcase_add_test(tc, dangling_input_is_reported);
    tcase_add_test(tc, two_producers_are_reported);
    tcase_add_test(tc, output_shadowing_an_input_is_reported);
    tcase_add_test(tc, missing_graph_output_is_reported);
    tcase_add_test(tc, graph_without_outputs_is_reported);
    tcase_add_test(tc, unsupported_op_names_node_domain_and_opset);
    tcase_add_test(tc, unknown_domain_is_reported);
    tcase_add_test(tc, op_from_another_domain_is_unsupported);
    tcase_add_test(tc, arity_is_checked);
    tcase_add_test(tc, ir3_initializers_listed_as_inputs_are_not_bindable_inputs);
    tcase_add_test(tc, static_shapes_are_inferred_at_load);
    tcase_add_test(tc, inconsistent_shapes_fail_at_load);
    tcase_add_test(tc, declared_output_type_must_match);
    tcase_add_test(tc, symbolic_inputs_defer_inference);
    tcase_add_test(tc, long_chain_orders_without_recursion);
    tcase_add_test(tc, memory_plan_separates_live_values);
    tcase_add_test(tc, constant_subgraphs_are_folded_at_load);
    tcase_add_test(tc, concat_inputs_are_planned_in_place);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(graph_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
