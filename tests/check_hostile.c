/* Broken and hostile models through the public API, one test per class of
 * damage: each must be answered with an error of the right code whose
 * message names what is wrong (and the node, for node-level damage), never a
 * crash, a hang or a silent success. The loader, graph and op suites test
 * the details; this file is the checklist. */
#define _GNU_SOURCE /* pthread_attr_setstacksize with PTHREAD_STACK_MIN */
#include <check.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_builder.h"
#include "onnxc.h"

/* ---- helpers ---- */

/* Takes every node out of mb's graph, freeing them (the builder's pieces
 * come from malloc, as protobuf-c's unpacker allocates). */
static void drop_nodes(mb_model *mb)
{
    for (size_t i = 0; i < mb->graph->n_node; i++)
        onnx__node_proto__free_unpacked(mb->graph->node[i], NULL);
    mb->graph->n_node = 0;
}

#define EXPECT_ERROR(mb, code, n1, n2) expect_error((mb), (code), (n1), (n2), __LINE__)

#define check_status mb_expect_status

/* Opens mb (freed here) from memory, expecting an error of code whose message
 * contains n1 and n2 (either may be NULL). */
static void expect_error(mb_model *mb, onnxc_code code, const char *n1, const char *n2, int line)
{
    onnxc_model *m;
    check_status(mb_open(mb, NULL, &m), code, n1, n2, line);
    ck_assert(m == NULL);
}

/* Opens mb and runs it once on zeros; the status of whichever step failed. */
static onnxc_status *open_and_run(mb_model *mb)
{
    onnxc_model *m;
    onnxc_status *st = mb_open(mb, NULL, &m);
    if (st) return st;
    onnxc_session *s = NULL;
    st = onnxc_session_create(m, NULL, &s);
    void **data = calloc(onnxc_model_input_count(m) + 1, sizeof *data);
    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; !st && i < onnxc_model_input_count(m); i++) {
        onnxc_tensor_info info;
        ck_assert_ptr_null(onnxc_model_input(m, i, &info));
        int64_t shape[ONNXC_MAX_RANK];
        size_t count = 1;
        for (int d = 0; d < info.rank; d++) {
            shape[d] = info.shape[d] < 0 ? 1 : info.shape[d];
            count *= (size_t)shape[d];
        }
        size_t bytes = count * onnxc_dtype_size(info.dtype);
        data[i] = calloc(1, bytes + 1);
        st = onnxc_session_bind_index(s, i, info.dtype, shape, info.rank, data[i], bytes);
    }
    if (!st) st = onnxc_session_run(s);
    onnxc_session_free(s);
    for (size_t i = 0; i < onnxc_model_input_count(m); i++) free(data[i]);
    free(data);
    onnxc_model_free(m);
    return st;
}

static const int64_t x_dims[4] = {1, 4, 8, 8};

/* Y = Conv(X [1, 4, 8, 8], W [w_dims]) with the attributes the test adds. */
static mb_model *conv_model(const int64_t *w_dims, int w_rank, mb_node **conv)
{
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "X", ONNXC_DTYPE_FLOAT, 4, x_dims);
    mb_output(mb, "Y", ONNXC_DTYPE_FLOAT, -1, NULL);
    size_t count = 1;
    for (int i = 0; i < w_rank; i++) count *= (size_t)w_dims[i];
    float *w = calloc(count + 1, sizeof *w);
    ck_assert_ptr_nonnull(w);
    mb_init_f32(mb, "W", w_rank, w_dims, w, false);
    free(w);
    *conv = mb_node_add(mb, "Conv", "conv", "X,W", "Y");
    return mb;
}

static const int64_t w_dims[4] = {6, 4, 3, 3};

/* y = relu(x), x: float [4]. */
static mb_model *relu_model(void)
{
    static const int64_t d[1] = {4};
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, d);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 1, d);
    mb_node_add(mb, "Relu", "relu", "x", "y");
    return mb;
}

/* ---- truncated or garbage protobuf ---- */

START_TEST(truncated_or_garbage_protobuf)
{
    mb_node *conv;
    mb_model *mb = conv_model(w_dims, 4, &conv);
    size_t len;
    uint8_t *good;
    ck_assert(mb_serialize(mb, &good, &len));
    mb_free(mb);
    for (size_t n = 0; n < len; n++) {
        onnxc_model *m = NULL;
        onnxc_status *st = onnxc_model_open_buffer(good, n, NULL, &m);
        ck_assert_msg(st, "a %zu-byte prefix of %zu loaded", n, len);
        ck_assert(onnxc_status_message(st)[0]);
        ck_assert(onnxc_status_code(st) == ONNXC_ERR_PARSE || onnxc_status_code(st) == ONNXC_ERR_MODEL);
        onnxc_status_free(st);
    }
    uint64_t seed = 99;
    uint8_t junk[256];
    for (int iter = 0; iter < 2000; iter++) {
        for (size_t i = 0; i < sizeof junk; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            junk[i] = (uint8_t)(seed >> 56);
        }
        onnxc_model *m = NULL;
        onnxc_status *st = onnxc_model_open_buffer(junk, 1 + (size_t)(seed % sizeof junk), NULL, &m);
        ck_assert(st && onnxc_status_message(st)[0]);
        onnxc_status_free(st);
    }
    free(good);
}
END_TEST

/* ---- dims ---- */

START_TEST(negative_zero_huge_and_overflowing_dims)
{
    static const int64_t neg[2] = {2, -3}, huge[2] = {(int64_t)1 << 40, 1};
    static const int64_t overflow[4] = {(int64_t)1 << 31, (int64_t)1 << 31, (int64_t)1 << 31, 4};
    mb_model *mb = relu_model();
    mb_init(mb, "w", ONNXC_DTYPE_FLOAT, 2, neg, NULL, false);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "tensor 'w'", "negative");
    mb = relu_model();
    mb_init(mb, "w", ONNXC_DTYPE_FLOAT, 2, huge, NULL, false);
    EXPECT_ERROR(mb, ONNXC_ERR_LIMIT, "tensor 'w'", "max_elements");
    mb = relu_model();
    mb_init(mb, "w", ONNXC_DTYPE_FLOAT, 4, overflow, NULL, false);
    EXPECT_ERROR(mb, ONNXC_ERR_LIMIT, "tensor 'w'", "overflows");
    /* A declared input dim: negative is invalid, huge is over the limit. */
    mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, neg);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "Relu", "relu", "x", "y");
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "graph input 'x'", "negative");
    mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 4, overflow);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "Relu", "relu", "x", "y");
    EXPECT_ERROR(mb, ONNXC_ERR_LIMIT, "graph input 'x'", NULL);
    /* Zero dims are valid: an empty tensor flows through and runs. */
    static const int64_t empty[2] = {0, 4};
    mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, empty);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, empty);
    mb_node_add(mb, "Relu", "relu", "x", "y");
    onnxc_status *st = open_and_run(mb);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
}
END_TEST

START_TEST(raw_data_size_against_dims)
{
    static const int64_t d[2] = {2, 3};
    static const float six[6] = {1, 2, 3, 4, 5, 6};
    mb_model *mb = relu_model();
    mb_tensor_raw(mb_init_f32(mb, "w", 2, d, six, false), six, 20);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "tensor 'w' has 20 bytes of raw_data", "needs 24");
    mb = relu_model();
    mb_tensor_raw(mb_init_f32(mb, "w", 2, d, six, false), six, 0);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "tensor 'w' has 0 bytes", NULL);
    mb = relu_model();
    mb_tensor *t = mb_init_f32(mb, "w", 2, d, six, true);
    t->n_float_data = 5; /* typed data one short */
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "tensor 'w' has 5 values in float_data", "needs 6");
}
END_TEST

/* ---- attributes ---- */

START_TEST(attribute_of_the_wrong_type)
{
    mb_node *conv;
    mb_model *mb = conv_model(w_dims, 4, &conv);
    mb_attr_float(conv, "strides", 1.0f);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'conv' (Conv", "'strides' is of type float, expected ints");
    mb = conv_model(w_dims, 4, &conv);
    mb_attr_string(conv, "group", "1");
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'conv' (Conv", "'group' is of type string, expected int");
    mb = conv_model(w_dims, 4, &conv);
    Onnx__AttributeProto *a = mb_attr_add(conv, "pads", 99);
    (void)a;
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "attribute 'pads'", "unknown type 99");
}
END_TEST

START_TEST(window_attributes_inconsistent_zero_or_negative)
{
    static const int64_t two[2] = {2, 2}, zero[2] = {0, 1}, negative[4] = {0, -1, 0, 0};
    static const int64_t three[3] = {1, 1, 1}, big[2] = {INT64_MAX, INT64_MAX};
    mb_node *conv;
    mb_model *mb = conv_model(w_dims, 4, &conv);
    mb_attr_ints(conv, "kernel_shape", two, 2);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'conv' (Conv", "'kernel_shape' says 2");
    mb = conv_model(w_dims, 4, &conv);
    mb_attr_ints(conv, "strides", zero, 2);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "'strides' has value 0", ">= 1");
    mb = conv_model(w_dims, 4, &conv);
    mb_attr_ints(conv, "dilations", zero, 2);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "'dilations' has value 0", ">= 1");
    mb = conv_model(w_dims, 4, &conv);
    mb_attr_ints(conv, "pads", negative, 4);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "'pads' has value -1", ">= 0");
    mb = conv_model(w_dims, 4, &conv);
    mb_attr_ints(conv, "pads", three, 3);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "'pads' has 3 entries", NULL);
    mb = conv_model(w_dims, 4, &conv);
    mb_attr_ints(conv, "strides", three, 3);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "'strides' has 3 entries", "2 spatial");
    mb = conv_model(w_dims, 4, &conv);
    mb_attr_ints(conv, "dilations", big, 2);
    EXPECT_ERROR(mb, ONNXC_ERR_LIMIT, "node 'conv' (Conv", "overflows");
    /* Pooling: a zero kernel, and a window larger than the padded input. */
    mb = mb_new(8, 13);
    mb_input(mb, "X", ONNXC_DTYPE_FLOAT, 4, x_dims);
    mb_output(mb, "Y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_attr_ints(mb_node_add(mb, "MaxPool", "pool", "X", "Y"), "kernel_shape", zero, 2);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'pool' (MaxPool", "'kernel_shape' has value 0");
    static const int64_t wide[2] = {9, 9};
    mb = mb_new(8, 13);
    mb_input(mb, "X", ONNXC_DTYPE_FLOAT, 4, x_dims);
    mb_output(mb, "Y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_attr_ints(mb_node_add(mb, "AveragePool", "pool", "X", "Y"), "kernel_shape", wide, 2);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'pool' (AveragePool", "padded input is only 8");
}
END_TEST

START_TEST(group_not_dividing_channels)
{
    static const int64_t w3[4] = {6, 1, 3, 3};
    mb_node *conv;
    mb_model *mb = conv_model(w3, 4, &conv);
    mb_attr_int(conv, "group", 3);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'conv' (Conv", "group 3 does not divide the 4 channels");
    mb = conv_model(w_dims, 4, &conv);
    mb_attr_int(conv, "group", 0);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "'group' is 0", NULL);
    mb = conv_model(w_dims, 4, &conv);
    mb_attr_int(conv, "group", INT64_MIN);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "'group' is", ">= 1");
}
END_TEST

START_TEST(wrong_weight_rank)
{
    static const int64_t w3[3] = {6, 4, 3}, w1[1] = {6};
    mb_node *conv;
    EXPECT_ERROR(conv_model(w3, 3, &conv), ONNXC_ERR_MODEL, "node 'conv' (Conv", "W has rank 3");
    EXPECT_ERROR(conv_model(w1, 1, &conv), ONNXC_ERR_MODEL, "node 'conv' (Conv", "W has rank 1");
    /* Gemm with a 3-D B. */
    static const int64_t a[2] = {2, 4}, b[3] = {4, 2, 1};
    static const float zeros[8] = {0};
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "A", ONNXC_DTYPE_FLOAT, 2, a);
    mb_init_f32(mb, "B", 3, b, zeros, false);
    mb_output(mb, "Y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "Gemm", "fc", "A,B", "Y");
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'fc' (Gemm", "rank");
}
END_TEST

/* ---- graph structure ---- */

START_TEST(cycles)
{
    mb_model *mb = relu_model();
    drop_nodes(mb);
    mb_node_add(mb, "Add", "a", "x,c", "b");
    mb_node_add(mb, "Relu", "r", "b", "c");
    mb_node_add(mb, "Relu", "out", "c", "y");
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "cycle through 2 nodes: 'a' (Add), 'r' (Relu)", NULL);
    mb = relu_model();
    drop_nodes(mb);
    mb_node_add(mb, "Relu", "self", "y", "y");
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "cycle", "'self'");
}
END_TEST

START_TEST(two_producers_of_one_name)
{
    mb_model *mb = relu_model();
    mb_node_add(mb, "Neg", "neg", "x", "y");
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'neg' (Neg", "'y' is also produced by node #0 (Relu)");
    mb = relu_model();
    mb_node_add(mb, "Neg", "neg", "y", "x");
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'neg' (Neg", "'x' is also a graph input");
    mb = relu_model();
    static const float four[4] = {0};
    static const int64_t d[1] = {4};
    mb_init_f32(mb, "w", 1, d, four, false);
    mb_init_f32(mb, "w", 1, d, four, false);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "initializer 'w'", "more than once");
}
END_TEST

START_TEST(missing_inputs)
{
    mb_model *mb = relu_model();
    drop_nodes(mb);
    mb_node_add(mb, "Add", "add", "x,nowhere", "y");
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'add' (Add", "'nowhere' is not a graph input");
    mb_node *conv;
    mb = conv_model(w_dims, 4, &conv);
    for (size_t i = 1; i < conv->n_input; i++) free(conv->input[i]);
    conv->n_input = 1; /* W left out */
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'conv' (Conv", "inputs, expected 2 to 3");
    mb = conv_model(w_dims, 4, &conv);
    free(conv->input[1]);
    conv->input[1] = strdup(""); /* W given as omitted */
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'conv' (Conv", NULL);
}
END_TEST

START_TEST(empty_graph_or_no_outputs)
{
    mb_model *mb = mb_new(8, 13);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "no outputs", NULL);
    mb = relu_model();
    for (size_t i = 0; i < mb->graph->n_output; i++)
        onnx__value_info_proto__free_unpacked(mb->graph->output[i], NULL);
    mb->graph->n_output = 0;
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "no outputs", NULL);
    mb = mb_new(8, 13);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "graph output 'y' is not produced", NULL);
    /* A graph without nodes whose output is its input is valid. */
    static const int64_t d[1] = {3};
    mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, d);
    mb_output(mb, "x", ONNXC_DTYPE_FLOAT, 1, d);
    onnxc_status *st = open_and_run(mb);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
    /* No graph at all. */
    mb = mb_new(8, 13);
    onnx__graph_proto__free_unpacked(mb->proto->graph, NULL);
    mb->proto->graph = mb->graph = NULL;
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "no graph", NULL);
}
END_TEST

START_TEST(unknown_dtypes)
{
    static const int64_t d[1] = {4};
    mb_model *mb = relu_model();
    mb_tensor_raw(mb_init(mb, "w", 99, 1, d, NULL, false), "abcd", 4);
    EXPECT_ERROR(mb, ONNXC_ERR_UNSUPPORTED, "tensor 'w'", "unknown (99)");
    mb = relu_model();
    mb_init(mb, "w", ONNXC_DTYPE_UNDEFINED, 1, d, NULL, false);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "tensor 'w'", "no data_type");
    mb = mb_new(8, 13);
    mb_input(mb, "x", 12345, 1, d);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "Relu", "relu", "x", "y");
    EXPECT_ERROR(mb, ONNXC_ERR_UNSUPPORTED, "graph input 'x'", "12345");
    mb = relu_model();
    drop_nodes(mb);
    mb_attr_int(mb_node_add(mb, "Cast", "cast", "x", "y"), "to", 77);
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'cast' (Cast", "'to' is 77, not an element type");
    mb = relu_model();
    mb->graph->output[0]->type->tensor_type->elem_type = ONNXC_DTYPE_INT64;
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "graph output 'y' is declared int64", "float32");
}
END_TEST

START_TEST(opsets_out_of_range)
{
    static const int64_t bad[] = {0, -1, 29, 1000, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mb_model *mb = mb_new(8, 0);
        mb_opset(mb, "", bad[i]);
        mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, x_dims);
        mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
        mb_node_add(mb, "Relu", "relu", "x", "y");
        EXPECT_ERROR(mb, ONNXC_ERR_UNSUPPORTED, "opset", "onnxc supports opsets 1 to 28");
    }
    /* No import for the nodes' domain; an op outside its opsets. */
    mb_model *mb = relu_model();
    mb_node_domain(mb->graph->node[0], "com.example");
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'relu' (Relu", "no opset for domain 'com.example'");
    mb = mb_new(8, 7);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, x_dims);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "HardSwish", "hs", "x", "y"); /* from opset 14 */
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'hs' (HardSwish", "does not exist before opset 14");
}
END_TEST

/* ---- external data ---- */

typedef struct ext_dir {
    char dir[64], outside[64], model[128];
} ext_dir;

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* A model file in a fresh folder whose initializer w (float [4]) lives at
 * location/offset/length (-1: not given); data.bin (16 bytes) is next to it
 * and secret.bin in another folder. */
static void external_case(ext_dir *e, const char *location, int64_t offset, int64_t length)
{
    static const float four[4] = {1, 2, 3, 4};
    snprintf(e->dir, sizeof e->dir, "/tmp/onnxc-hostile-XXXXXX");
    snprintf(e->outside, sizeof e->outside, "/tmp/onnxc-outside-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(e->dir));
    ck_assert_ptr_nonnull(mkdtemp(e->outside));
    char path[256];
    snprintf(path, sizeof path, "%s/data.bin", e->dir);
    write_bytes(path, four, sizeof four);
    snprintf(path, sizeof path, "%s/secret.bin", e->outside);
    write_bytes(path, four, sizeof four);
    snprintf(path, sizeof path, "%s/escape.bin", e->dir);
    char target[128];
    snprintf(target, sizeof target, "%s/secret.bin", e->outside);
    ck_assert_int_eq(symlink(target, path), 0);
    mb_model *mb = relu_model();
    mb->graph->node[0]->n_input = 1;
    static const int64_t d[1] = {4};
    mb_tensor_external(mb_init(mb, "w", ONNXC_DTYPE_FLOAT, 1, d, NULL, false), location, offset, length);
    mb_node_add(mb, "Add", "use_w", "y,w", "z");
    snprintf(e->model, sizeof e->model, "%s/model.onnx", e->dir);
    ck_assert(mb_write_file(mb, e->model));
    mb_free(mb);
}

static void external_cleanup(ext_dir *e)
{
    const char *names[] = {"model.onnx", "data.bin", "escape.bin"};
    char path[256];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", e->dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/secret.bin", e->outside);
    unlink(path);
    rmdir(e->dir);
    rmdir(e->outside);
}

static void expect_external(const char *location, int64_t offset, int64_t length, onnxc_code code,
                            const char *needle, int line)
{
    ext_dir e;
    external_case(&e, location, offset, length);
    onnxc_model *m = NULL;
    onnxc_status *st = onnxc_model_open_file(e.model, NULL, &m);
    if (code == ONNXC_OK) {
        ck_assert_msg(!st, "line %d: %s", line, onnxc_status_message(st));
        onnxc_model_free(m);
    } else {
        check_status(st, code, "tensor 'w'", needle, line);
    }
    external_cleanup(&e);
}

START_TEST(external_data_escaping_missing_or_past_the_end)
{
    expect_external("data.bin", 0, 16, ONNXC_OK, NULL, __LINE__);
    expect_external("../data.bin", 0, 16, ONNXC_ERR_MODEL, "'..'", __LINE__);
    expect_external("/etc/hostname", -1, -1, ONNXC_ERR_MODEL, "absolute", __LINE__);
    expect_external("escape.bin", -1, -1, ONNXC_ERR_MODEL, "outside the model's folder", __LINE__);
    expect_external("missing.bin", -1, -1, ONNXC_ERR_IO, "missing.bin", __LINE__);
    expect_external("data.bin", 17, -1, ONNXC_ERR_MODEL, "past the end", __LINE__);
    expect_external("data.bin", 8, 16, ONNXC_ERR_MODEL, "past the end", __LINE__);
    expect_external("data.bin", 0, INT64_MAX, ONNXC_ERR_MODEL, "past the end", __LINE__);
    expect_external("data.bin", 4, 12, ONNXC_ERR_MODEL, "does not match the 16 bytes", __LINE__);
}
END_TEST

/* ---- subgraphs ---- */

START_TEST(graph_attributes)
{
    /* Control flow with subgraphs is not implemented: reported, not run. */
    mb_model *mb = relu_model();
    mb_node *n = mb_node_add(mb, "If", "branch", "x", "z");
    mb_attr_add(n, "then_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g =
        calloc(1, sizeof(Onnx__GraphProto));
    onnx__graph_proto__init(mb->graph->node[1]->attribute[0]->g);
    mb_output(mb, "z", ONNXC_DTYPE_FLOAT, -1, NULL);
    EXPECT_ERROR(mb, ONNXC_ERR_UNSUPPORTED, "If (domain 'ai.onnx', opset 13, node 'branch')", NULL);
    /* A graph attribute on an op that has none, or in place of an ints one. */
    mb = relu_model();
    Onnx__GraphProto *g = malloc(sizeof *g);
    onnx__graph_proto__init(g);
    mb_attr_add(mb->graph->node[0], "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = g;
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'relu' (Relu", "'body' is not defined");
    mb_node *conv;
    mb = conv_model(w_dims, 4, &conv);
    g = malloc(sizeof *g);
    onnx__graph_proto__init(g);
    mb_attr_add(conv, "kernel_shape", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = g;
    EXPECT_ERROR(mb, ONNXC_ERR_MODEL, "node 'conv' (Conv", "'kernel_shape' is of type graph");
}
END_TEST

/* ---- deep and long graphs ---- */

START_TEST(deeply_nested_subgraphs)
{
    /* ModelProto.graph { node { attribute { g { node { ... } } } } } 100000
     * levels deep: protobuf-c's recursive unpacker is never reached. */
    enum { LEVELS = 100000 };
    uint32_t *fields = malloc(LEVELS * sizeof *fields);
    ck_assert_ptr_nonnull(fields);
    static const uint32_t cycle[3] = {1, 5, 6};
    fields[0] = 7;
    for (size_t i = 1; i < LEVELS; i++) fields[i] = cycle[(i - 1) % 3];
    mb_bytes b = {0};
    mb_bytes_nest(&b, fields, LEVELS, NULL, 0);
    free(fields);
    onnxc_model *m = NULL;
    check_status(onnxc_model_open_buffer(b.data, b.len, NULL, &m), ONNXC_ERR_LIMIT, "nests messages",
                 "64 levels", __LINE__);
    mb_bytes_free(&b);
}
END_TEST

typedef struct chain_job {
    int length;
    onnxc_status *st;
} chain_job;

/* Loads and runs y = relu(relu(...(x))) of job->length nodes, listed last
 * node first so that ordering has the most to do. */
static void *load_and_run_chain(void *arg)
{
    chain_job *job = arg;
    static const int64_t d[1] = {4};
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "v0", ONNXC_DTYPE_FLOAT, 1, d);
    char in[32], out[32];
    for (int i = job->length - 1; i >= 0; i--) {
        snprintf(in, sizeof in, "v%d", i);
        snprintf(out, sizeof out, "v%d", i + 1);
        mb_node_add(mb, i % 2 ? "Relu" : "Neg", NULL, in, out);
    }
    snprintf(out, sizeof out, "v%d", job->length);
    mb_output(mb, out, ONNXC_DTYPE_FLOAT, 1, d);
    job->st = open_and_run(mb);
    return NULL;
}

START_TEST(long_graph_on_a_small_stack)
{
    /* 200000 nodes loaded, checked, optimized, planned and run on a thread
     * with a 256 KiB stack: nothing may recurse per node. */
    chain_job job = {200000, NULL};
    pthread_attr_t attr;
    ck_assert_int_eq(pthread_attr_init(&attr), 0);
    size_t stack = 256 * 1024;
    if (stack < (size_t)PTHREAD_STACK_MIN) stack = (size_t)PTHREAD_STACK_MIN;
    ck_assert_int_eq(pthread_attr_setstacksize(&attr, stack), 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, &attr, load_and_run_chain, &job), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&attr);
    ck_assert_msg(!job.st, "%s", onnxc_status_message(job.st));
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("bytes");
    tcase_add_test(tc, truncated_or_garbage_protobuf);
    tcase_add_test(tc, deeply_nested_subgraphs);
    suite_add_tcase(s, tc);
    tc = tcase_create("tensors");
    tcase_add_test(tc, negative_zero_huge_and_overflowing_dims);
    tcase_add_test(tc, raw_data_size_against_dims);
    tcase_add_test(tc, unknown_dtypes);
    tcase_add_test(tc, external_data_escaping_missing_or_past_the_end);
    suite_add_tcase(s, tc);
    tc = tcase_create("attributes");
    tcase_add_test(tc, attribute_of_the_wrong_type);
    tcase_add_test(tc, window_attributes_inconsistent_zero_or_negative);
    tcase_add_test(tc, group_not_dividing_channels);
    tcase_add_test(tc, wrong_weight_rank);
    tcase_add_test(tc, graph_attributes);
    suite_add_tcase(s, tc);
    tc = tcase_create("graph");
    tcase_add_test(tc, cycles);
    tcase_add_test(tc, two_producers_of_one_name);
    tcase_add_test(tc, missing_inputs);
    tcase_add_test(tc, empty_graph_or_no_outputs);
    tcase_add_test(tc, opsets_out_of_range);
    tcase_add_test(tc, long_graph_on_a_small_stack);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hostile_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
