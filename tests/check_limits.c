/* Resource limits (onnxc_model_options.max_rank/max_elements/max_bytes,
 * onnxc_session_options.max_bytes): each is enforced where a hostile model
 * would otherwise allocate (decoding the protobuf, tensors, external data,
 * folded constants, inferred values, the session's plan, bound inputs), with
 * ONNXC_ERR_LIMIT and a message naming the limit and what exceeded it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ir.h"
#include "model_builder.h"
#include "onnxc.h"

/* ---- helpers ---- */

#define expect(st, code, n1, n2) mb_expect_status((st), (code), (n1), (n2), __LINE__)

static void expect_open_error(mb_model *mb, const onnxc_model_options *mo, const char *needle1,
                              const char *needle2)
{
    onnxc_model *m;
    expect(mb_open(mb, mo, &m), ONNXC_ERR_LIMIT, needle1, needle2);
    ck_assert_ptr_null(m);
}

static onnxc_model *open_ok(mb_model *mb, const onnxc_model_options *mo)
{
    onnxc_model *m;
    onnxc_status *st = mb_open(mb, mo, &m);
    ck_assert_msg(!st, "open: %s", onnxc_status_message(st));
    return m;
}

static onnxc_model_options options(int max_rank, uint64_t max_elements, uint64_t max_bytes)
{
    onnxc_model_options mo;
    onnxc_model_options_init(&mo);
    mo.max_rank = max_rank;
    mo.max_elements = max_elements;
    mo.max_bytes = max_bytes;
    return mo;
}

/* y = relu(x), x: float [N, 4] with N symbolic. */
static mb_model *relu_model(void)
{
    mb_model *mb = mb_new(8, 13);
    int64_t d[2] = {-1, 4};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, d);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, d);
    mb_node_add(mb, "Relu", "relu", "x", "y");
    return mb;
}

/* ---- options ---- */

/* The model's buffers: aligned, apart, writable, charged; small ones carved
 * from shared chunks, big ones alone; a refused charge leaves nothing taken. */
START_TEST(model_buffers_are_aligned_apart_and_charged)
{
    onnxc_model m;
    memset(&m, 0, sizeof m);
    m.budget.owner = "model";
    m.budget.limit = (uint64_t)14 << 20;
    static const size_t sizes[] = {1, 100, 4096, 65, 3 << 20, 5 << 20, 64, 1 << 20, 0, 2 << 20};
    enum { N = sizeof sizes / sizeof *sizes };
    unsigned char *p[N];
    uint64_t charged = 0;
    for (int i = 0; i < N; i++) {
        p[i] = oc_model_alloc(&m, sizes[i]);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert_uint_eq((uintptr_t)p[i] % OC_ALIGN, 0);
        size_t n = sizes[i] ? sizes[i] : 1;
        memset(p[i], i + 1, n);
        charged += n;
    }
    ck_assert_uint_ge(m.budget.used, charged);
    for (int i = 0; i < N; i++) { /* no buffer overwrote another */
        size_t n = sizes[i] ? sizes[i] : 1;
        ck_assert_uint_eq(p[i][0], i + 1);
        ck_assert_uint_eq(p[i][n - 1], i + 1);
    }
    uint64_t used = m.budget.used;
    size_t over = (size_t)(m.budget.limit - used) + 1; /* a chunk's size, not a big one's */
    ck_assert_uint_lt(over, (size_t)4 << 20);
    ck_assert_ptr_null(oc_model_alloc(&m, over));
    ck_assert_ptr_null(oc_model_alloc(&m, (size_t)60 << 20));
    ck_assert_uint_eq(m.budget.used, used);
    oc_model_release(&m);
    ck_assert_uint_eq(m.n_chunks, 0);
}
END_TEST

START_TEST(defaults_are_zero_and_documented)
{
    onnxc_model_options mo;
    memset(&mo, 0xff, sizeof mo);
    onnxc_model_options_init(&mo);
    ck_assert_int_eq(mo.optimize, 1);
    ck_assert_int_eq(mo.max_rank, 0);
    ck_assert_uint_eq(mo.max_elements, 0);
    ck_assert_uint_eq(mo.max_bytes, 0);
    onnxc_session_options so;
    memset(&so, 0xff, sizeof so);
    onnxc_session_options_init(&so);
    ck_assert_uint_eq(so.max_bytes, 0);
    ck_assert_uint_eq(ONNXC_DEFAULT_MAX_BYTES, (uint64_t)2 << 30);
    ck_assert_uint_eq(ONNXC_DEFAULT_SESSION_MAX_BYTES, (uint64_t)1 << 30);
    ck_assert_uint_eq(ONNXC_DEFAULT_MAX_OPS, (uint64_t)1 << 36);
    ck_assert_uint_eq(ONNXC_DEFAULT_MAX_ELEMENTS, (uint64_t)INT32_MAX);
    ck_assert_int_eq(ONNXC_MAX_RANK, 8);
}
END_TEST

START_TEST(invalid_options_are_refused)
{
    onnxc_model *m;
    onnxc_model_options mo = options(-1, 0, 0);
    expect(mb_open(relu_model(), &mo, &m), ONNXC_ERR_ARGUMENT, "max_rank", NULL);
    mo = options(ONNXC_MAX_RANK + 1, 0, 0);
    expect(mb_open(relu_model(), &mo, &m), ONNXC_ERR_ARGUMENT, "max_rank", NULL);
}
END_TEST

/* ---- the loader ---- */

START_TEST(default_element_limit_applies_before_the_data_is_looked_at)
{
    /* 2^31 elements and no data: the limit, not the missing data, is reported. */
    mb_model *mb = relu_model();
    int64_t dims[1] = {(int64_t)1 << 31};
    mb_init(mb, "huge", ONNXC_DTYPE_UINT8, 1, dims, NULL, false);
    expect_open_error(mb, NULL, "tensor 'huge'", "max_elements");
}
END_TEST

START_TEST(initializer_over_the_limits)
{
    float w[64] = {0};
    int64_t dims[2] = {8, 8};
    onnxc_model_options mo = options(0, 63, 0);
    mb_model *mb = relu_model();
    mb_init_f32(mb, "w", 2, dims, w, false);
    expect_open_error(mb, &mo, "tensor 'w'", "64 elements exceed the limit of 63");
    /* Typed data (float_data) is charged before it is copied. */
    mo = options(0, 0, 16384);
    mb = relu_model();
    float big[4096] = {0};
    int64_t big_dims[1] = {4096};
    mb_init_f32(mb, "big", 1, big_dims, big, true);
    expect_open_error(mb, &mo, "16384", "max_bytes");
    mo = options(1, 0, 0);
    mb = mb_new(8, 13);
    int64_t d1[1] = {4};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, d1);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 1, d1);
    mb_node_add(mb, "Relu", "relu", "x", "y");
    mb_init_f32(mb, "w", 2, dims, w, false);
    expect_open_error(mb, &mo, "tensor 'w' has rank 2", "max_rank");
}
END_TEST

START_TEST(declared_shapes_over_the_limits)
{
    onnxc_model_options mo = options(2, 0, 0);
    mb_model *mb = mb_new(8, 13);
    int64_t d3[3] = {1, 2, 3};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 3, d3);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 3, d3);
    mb_node_add(mb, "Relu", "relu", "x", "y");
    expect_open_error(mb, &mo, "rank 3", "max_rank");
    /* A static input of 2^40 elements is refused at load, before any session. */
    mb = mb_new(8, 13);
    int64_t big[2] = {(int64_t)1 << 20, (int64_t)1 << 20};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, big);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, big);
    mb_node_add(mb, "Relu", "relu", "x", "y");
    expect_open_error(mb, NULL, "graph input 'x'", "max_elements");
}
END_TEST

START_TEST(protobuf_decoding_is_charged)
{
    /* 200000 empty input names: ~400 KB of file that protobuf-c unpacks into
     * a pointer and a heap block each (several MB). */
    mb_bytes node = {0}, graph = {0}, model = {0};
    mb_bytes_field(&node, 4, "Sum", 3);
    for (int i = 0; i < 200000; i++) mb_bytes_field(&node, 1, NULL, 0);
    mb_bytes_field(&graph, 1, node.data, node.len);
    mb_bytes_int_field(&model, 1, 8);
    mb_bytes_field(&model, 7, graph.data, graph.len);
    onnxc_model_options mo = options(0, 0, (uint64_t)1 << 20);
    onnxc_model *m = NULL;
    expect(onnxc_model_open_buffer(model.data, model.len, &mo, &m), ONNXC_ERR_LIMIT,
           "decoding the protobuf", "max_bytes");
    ck_assert_ptr_null(m);
    /* With the default limit the same bytes decode (and fail as a model). */
    onnxc_status *st = onnxc_model_open_buffer(model.data, model.len, NULL, &m);
    ck_assert_int_ne(onnxc_status_code(st), ONNXC_ERR_LIMIT);
    onnxc_status_free(st);
    mb_bytes_free(&node);
    mb_bytes_free(&graph);
    mb_bytes_free(&model);
}
END_TEST

START_TEST(many_nodes_are_charged)
{
    mb_model *mb = mb_new(8, 13);
    int64_t d[1] = {1};
    mb_input(mb, "v0", ONNXC_DTYPE_FLOAT, 1, d);
    char in[32], out[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(in, sizeof in, "v%d", i);
        snprintf(out, sizeof out, "v%d", i + 1);
        mb_node_add(mb, "Relu", NULL, in, out);
    }
    mb_output(mb, "v20000", ONNXC_DTYPE_FLOAT, 1, d);
    onnxc_model_options mo = options(0, 0, (uint64_t)1 << 20);
    expect_open_error(mb, &mo, "model's limit", "max_bytes");
}
END_TEST

START_TEST(external_data_is_charged_before_it_is_read)
{
    char dir[] = "/tmp/onnxc_limits_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/w.bin", dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    static float zeros[1 << 19]; /* 2 MiB */
    ck_assert_uint_eq(fwrite(zeros, sizeof zeros, 1, f), 1);
    fclose(f);
    mb_model *mb = relu_model();
    int64_t dims[1] = {1 << 19};
    mb_tensor_external(mb_init(mb, "w", ONNXC_DTYPE_FLOAT, 1, dims, NULL, false), "w.bin", 0, -1);
    char model_path[256];
    snprintf(model_path, sizeof model_path, "%s/model.onnx", dir);
    ck_assert(mb_write_file(mb, model_path));
    mb_free(mb);
    onnxc_model_options mo = options(0, 0, (uint64_t)1 << 20);
    onnxc_model *m = NULL;
    expect(onnxc_model_open_file(model_path, &mo, &m), ONNXC_ERR_LIMIT, "tensor 'w'", "max_bytes");
    ck_assert_ptr_null(m);
    mo = options(0, 0, 0);
    ck_assert_ptr_null(onnxc_model_open_file(model_path, &mo, &m));
    onnxc_model_free(m);
    unlink(path);
    unlink(model_path);
    rmdir(dir);
}
END_TEST

/* ---- inference and folding at load ---- */

START_TEST(folded_constant_over_the_byte_limit)
{
    /* ConstantOfShape([1 << 20]) folds into a 4 MiB constant at load. */
    mb_model *mb = mb_new(8, 13);
    int64_t one[1] = {1}, shape[1] = {(int64_t)1 << 20};
    mb_init_i64(mb, "shape", 1, one, shape, false);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "ConstantOfShape", "fill", "shape", "y");
    onnxc_model_options mo = options(0, 0, (uint64_t)1 << 20);
    expect_open_error(mb, &mo, "node 'fill' (ConstantOfShape", "max_bytes");
}
END_TEST

START_TEST(inferred_value_over_the_element_limit)
{
    /* [1000, 1] x [1, 1000]: small inputs, a 10^6-element product. */
    mb_model *mb = mb_new(8, 13);
    int64_t da[2] = {1000, 1}, db[2] = {1, 1000};
    mb_input(mb, "a", ONNXC_DTYPE_FLOAT, 2, da);
    mb_input(mb, "b", ONNXC_DTYPE_FLOAT, 2, db);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "MatMul", "mm", "a,b", "y");
    onnxc_model_options mo = options(0, 5000, 0);
    expect_open_error(mb, &mo, "node 'mm' (MatMul", "1000000 elements exceed the limit of 5000");
}
END_TEST

/* ---- sessions ---- */

START_TEST(session_plan_over_the_byte_limit_then_smaller_shapes_run)
{
    onnxc_model *m = open_ok(relu_model(), NULL);
    onnxc_session_options so;
    onnxc_session_options_init(&so);
    so.max_bytes = 4096;
    onnxc_session *s = NULL;
    ck_assert_ptr_null(onnxc_session_create(m, &so, &s));
    static float x[4096];
    int64_t big[2] = {1024, 4}, small[2] = {2, 4};
    ck_assert_ptr_null(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, big, 2, x, sizeof x));
    expect(onnxc_session_run(s), ONNXC_ERR_LIMIT, "session's limit of 4096", "'y' (float32 [1024, 4]");
    /* The failed plan left nothing behind: a smaller batch fits and runs. */
    x[0] = -1.0f, x[1] = 2.0f;
    ck_assert_ptr_null(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, small, 2, x, 8 * sizeof *x));
    ck_assert_ptr_null(onnxc_session_run(s));
    onnxc_tensor_view v;
    ck_assert_ptr_null(onnxc_session_output(s, 0, &v));
    ck_assert_uint_eq(v.count, 8);
    ck_assert_float_eq(((const float *)v.data)[0], 0.0f);
    ck_assert_float_eq(((const float *)v.data)[1], 2.0f);
    onnxc_session_free(s);
    onnxc_model_free(m);
}
END_TEST

START_TEST(session_byte_limit_counts_live_values_together)
{
    /* y = relu(x) + neg(x): three 400 KB values live at once, each within
     * the 1 MiB limit, together beyond it. */
    mb_model *mb = mb_new(8, 13);
    int64_t d[2] = {-1, 4};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, d);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, d);
    mb_node_add(mb, "Relu", "relu", "x", "a");
    mb_node_add(mb, "Neg", "neg", "x", "b");
    mb_node_add(mb, "Add", "add", "a,b", "y");
    onnxc_model *m = open_ok(mb, NULL);
    onnxc_session_options so;
    onnxc_session_options_init(&so);
    so.max_bytes = (uint64_t)1 << 20;
    onnxc_session *s = NULL;
    ck_assert_ptr_null(onnxc_session_create(m, &so, &s));
    static float x[25000 * 4];
    int64_t xd[2] = {25000, 4};
    ck_assert_ptr_null(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, xd, 2, x, sizeof x));
    expect(onnxc_session_run(s), ONNXC_ERR_LIMIT, "session's limit of 1048576", "(max_bytes)");
    onnxc_session_free(s);
    onnxc_model_free(m);
}
END_TEST

/* y = a x b with a, b: float [n, n] inputs. */
static mb_model *matmul_model(int64_t n)
{
    mb_model *mb = mb_new(8, 13);
    int64_t d[2] = {n, n};
    mb_input(mb, "a", ONNXC_DTYPE_FLOAT, 2, d);
    mb_input(mb, "b", ONNXC_DTYPE_FLOAT, 2, d);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, d);
    mb_node_add(mb, "MatMul", "mm", "a,b", "y");
    return mb;
}

/* Binds every input of m to zeros of its declared shape (freed by the caller). */
static void *bind_zeros(onnxc_session *s, const onnxc_model *m, size_t bytes)
{
    void *zeros = calloc(1, bytes);
    ck_assert_ptr_nonnull(zeros);
    for (size_t i = 0; i < onnxc_model_input_count(m); i++) {
        onnxc_tensor_info info;
        ck_assert_ptr_null(onnxc_model_input(m, i, &info));
        ck_assert_ptr_null(onnxc_session_bind_index(s, i, info.dtype, info.shape, info.rank, zeros, bytes));
    }
    return zeros;
}

START_TEST(default_ops_limit_refuses_a_huge_product_before_allocating)
{
    /* 4096^3 = 2^36 multiply-accumulates (and some memory traffic): just past
     * ONNXC_DEFAULT_MAX_OPS, minutes of compute; 64 MiB per tensor. */
    onnxc_model *m = open_ok(matmul_model(4096), NULL);
    onnxc_session *s = NULL;
    ck_assert_ptr_null(onnxc_session_create(m, NULL, &s));
    void *zeros = bind_zeros(s, m, (size_t)4096 * 4096 * sizeof(float));
    expect(onnxc_session_run(s), ONNXC_ERR_LIMIT, "in node 'mm' (MatMul)", "(max_ops");
    onnxc_session_free(s);
    free(zeros);
    onnxc_model_free(m);
}
END_TEST

START_TEST(session_ops_limit_names_the_costliest_node)
{
    onnxc_model *m = open_ok(matmul_model(64), NULL);
    onnxc_session_options so;
    onnxc_session_options_init(&so);
    so.max_ops = 100000; /* 64^3 = 262144 multiply-accumulates needed */
    onnxc_session *s = NULL;
    ck_assert_ptr_null(onnxc_session_create(m, &so, &s));
    void *zeros = bind_zeros(s, m, 64 * 64 * sizeof(float));
    expect(onnxc_session_run(s), ONNXC_ERR_LIMIT, "262208 in node 'mm' (MatMul)",
           "session's limit of 100000 (max_ops");
    onnxc_session_free(s);
    /* Raised, the same model runs. */
    so.max_ops = 1000000;
    ck_assert_ptr_null(onnxc_session_create(m, &so, &s));
    free(zeros);
    zeros = bind_zeros(s, m, 64 * 64 * sizeof(float));
    ck_assert_ptr_null(onnxc_session_run(s));
    onnxc_session_free(s);
    free(zeros);
    onnxc_model_free(m);
}
END_TEST

/* A MaxPool fused into the Conv before it (the optimizer's) does not hide
 * the conv's work: a pool with a huge stride leaves few outputs, but the
 * Conv still computes its whole output. Refused alike optimized or not. */
START_TEST(ops_limit_counts_a_fused_pool_s_conv)
{
    static const int64_t xd[4] = {1, 16, 32, 64}, wd[4] = {16, 16, 3, 3};
    static const int64_t ones[4] = {1, 1, 1, 1}, k2[2] = {2, 2}, s16[2] = {16, 16};
    static float w[16 * 16 * 3 * 3];
    for (int optimize = 0; optimize < 2; optimize++) {
        mb_model *mb = mb_new(8, 13);
        mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 4, xd);
        mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
        mb_init_f32(mb, "w", 4, wd, w, false);
        mb_attr_ints(mb_node_add(mb, "Conv", "conv", "x,w", "c"), "pads", ones, 4);
        mb_node *mp = mb_node_add(mb, "MaxPool", "pool", "c", "y");
        mb_attr_ints(mp, "kernel_shape", k2, 2);
        mb_attr_ints(mp, "strides", s16, 2);
        onnxc_model_options mo;
        onnxc_model_options_init(&mo);
        mo.optimize = optimize;
        onnxc_model *m = open_ok(mb, &mo);
        ck_assert_int_eq(m->optimized.maxpool_into_conv, optimize);
        onnxc_session_options so;
        onnxc_session_options_init(&so);
        so.max_ops = 1000000; /* 16 x 32 x 64 outputs x 144 = 4.7M multiply-accumulates */
        onnxc_session *s = NULL;
        ck_assert_ptr_null(onnxc_session_create(m, &so, &s));
        void *x = bind_zeros(s, m, 16 * 32 * 64 * sizeof(float));
        expect(onnxc_session_run(s), ONNXC_ERR_LIMIT, "in node 'conv' (Conv)",
               "session's limit of 1000000 (max_ops");
        onnxc_session_free(s);
        free(x);
        onnxc_model_free(m);
    }
}
END_TEST

START_TEST(folding_at_load_is_held_to_the_model_ops_limit)
{
    /* MatMul of two constant [64, 64] is computed at load. */
    mb_model *mb = mb_new(8, 13);
    int64_t d[2] = {64, 64};
    static float w[64 * 64];
    mb_init_f32(mb, "a", 2, d, w, false);
    mb_init_f32(mb, "b", 2, d, w, false);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, d);
    mb_node_add(mb, "MatMul", "mm", "a,b", "y");
    onnxc_model_options mo;
    onnxc_model_options_init(&mo);
    mo.max_ops = 1000;
    expect_open_error(mb, &mo, "node 'mm' (MatMul", "model's limit of 1000 (max_ops");
}
END_TEST

START_TEST(bound_inputs_over_the_limits)
{
    onnxc_model_options mo = options(0, 100, 0);
    onnxc_model *m = open_ok(relu_model(), &mo);
    onnxc_session *s = NULL;
    ck_assert_ptr_null(onnxc_session_create(m, NULL, &s));
    static float x[400];
    int64_t d[2] = {100, 4};
    expect(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, d, 2, x, sizeof x), ONNXC_ERR_LIMIT,
           "input 'x'", "max_elements");
    onnxc_session_free(s);
    onnxc_model_free(m);
}
END_TEST

/* A shape subgraph a session computes while planning (Shape of a bound
 * input feeding ConstantOfShape) is charged to the session. */
START_TEST(values_computed_while_planning_are_charged)
{
    mb_model *mb = mb_new(8, 13);
    int64_t d[1] = {-1};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, d);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "Shape", "shape", "x", "s");
    mb_node_add(mb, "ConstantOfShape", "fill", "s", "y");
    onnxc_model *m = open_ok(mb, NULL);
    onnxc_session_options so;
    onnxc_session_options_init(&so);
    so.max_bytes = 8192;
    onnxc_session *s = NULL;
    ck_assert_ptr_null(onnxc_session_create(m, &so, &s));
    static float x[4096];
    int64_t n[1] = {4096};
    ck_assert_ptr_null(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, n, 1, x, sizeof x));
    expect(onnxc_session_run(s), ONNXC_ERR_LIMIT, "session's limit", NULL);
    n[0] = 16;
    ck_assert_ptr_null(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, n, 1, x, 16 * sizeof *x));
    ck_assert_ptr_null(onnxc_session_run(s));
    onnxc_session_free(s);
    onnxc_model_free(m);
}
END_TEST

static Suite *limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("options");
    tcase_add_test(tc, defaults_are_zero_and_documented);
    tcase_add_test(tc, invalid_options_are_refused);
    suite_add_tcase(s, tc);
    tc = tcase_create("loader");
    tcase_add_test(tc, default_element_limit_applies_before_the_data_is_looked_at);
    tcase_add_test(tc, initializer_over_the_limits);
    tcase_add_test(tc, declared_shapes_over_the_limits);
    tcase_add_test(tc, protobuf_decoding_is_charged);
    tcase_add_test(tc, many_nodes_are_charged);
    tcase_add_test(tc, external_data_is_charged_before_it_is_read);
    suite_add_tcase(s, tc);
    tc = tcase_create("inference");
    tcase_add_test(tc, folded_constant_over_the_byte_limit);
    tcase_add_test(tc, inferred_value_over_the_element_limit);
    suite_add_tcase(s, tc);
    tc = tcase_create("sessions");
    tcase_add_test(tc, session_plan_over_the_byte_limit_then_smaller_shapes_run);
    tcase_add_test(tc, session_byte_limit_counts_live_values_together);
    tcase_add_test(tc, default_ops_limit_refuses_a_huge_product_before_allocating);
    tcase_add_test(tc, session_ops_limit_names_the_costliest_node);
    tcase_add_test(tc, ops_limit_counts_a_fused_pool_s_conv);
    tcase_add_test(tc, folding_at_load_is_held_to_the_model_ops_limit);
    tcase_add_test(tc, bound_inputs_over_the_limits);
    tcase_add_test(tc, values_computed_while_planning_are_charged);
    tcase_add_test(tc, model_buffers_are_aligned_apart_and_charged);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(limits_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
