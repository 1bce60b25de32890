/* The loader (ModelProto -> IR) and the TensorProto codec, through
 * oc_load_model and oc_tensor_pb_decode/encode, on models made with the
 * model builder or crafted byte by byte. */
#define _GNU_SOURCE /* nftw */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/loader.h"
#include "core/tensor_pb.h"
#include "model_builder.h"

/* ---- helpers ------------------------------------------------------------- */

#define ASSERT_OK(expr)                                                                   \
    do {                                                                                  \
        onnxc_status *ok_st_ = (expr);                                                    \
        ck_assert_msg(ok_st_ == NULL, "unexpected error: %s", onnxc_status_message(ok_st_)); \
    } while (0)

/* Asserts st carries code and a message containing needle (if given); frees it. */
#define ASSERT_ERROR(expr, code, needle) assert_error((expr), (code), (needle), __LINE__)

static void assert_error(onnxc_status *st, onnxc_code code, const char *needle, int line)
{
    ck_assert_msg(st != NULL, "line %d: expected %s, got success", line, onnxc_code_name(code));
    const char *msg = onnxc_status_message(st);
    ck_assert_msg(onnxc_status_code(st) == code, "line %d: expected %s, got %s: %s", line,
                  onnxc_code_name(code), onnxc_code_name(onnxc_status_code(st)), msg);
    ck_assert_msg(!needle || strstr(msg, needle), "line %d: message '%s' lacks '%s'", line, msg, needle);
    onnxc_status_free(st);
}

static onnxc_status *load_bytes(onnxc_model *m, const uint8_t *buf, size_t len, const char *dir)
{
    memset(m, 0, sizeof *m);
    return oc_load_model(m, buf, len, dir);
}

/* Serializes and loads mb into m (released by the caller). */
static onnxc_status *load_mb(onnxc_model *m, const mb_model *mb, const char *dir)
{
    uint8_t *buf;
    size_t len;
    ck_assert(mb_serialize(mb, &buf, &len));
    onnxc_status *st = load_bytes(m, buf, len, dir);
    free(buf);
    return st;
}

/* Loads mb expecting an error; frees everything. */
#define EXPECT_LOAD_ERROR(mb, dir, code, needle) expect_load_error((mb), (dir), (code), (needle), __LINE__)

static void expect_load_error(mb_model *mb, const char *dir, onnxc_code code, const char *needle, int line)
{
    onnxc_model m;
    assert_error(load_mb(&m, mb, dir), code, needle, line);
    oc_model_release(&m);
    mb_free(mb);
}

static const oc_initializer *find_init(const onnxc_model *m, const char *name)
{
    for (int i = 0; i < m->n_initializers; i++)
        if (strcmp(m->initializers[i].name, name) == 0) return &m->initializers[i];
    ck_abort_msg("no initializer '%s'", name);
    return NULL;
}

static const oc_attr *find_attr(const oc_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    ck_abort_msg("no attribute '%s'", name);
    return NULL;
}

/* A Gemm model: x[N,4] * W[3,4]^T + B[3] -> y[N,3], W raw and B typed. */
static mb_model *small_model(void)
{
    mb_model *mb = mb_new(8, 13);
    int64_t xd[2] = {-1, 4}, wd[2] = {3, 4}, bd[1] = {3}, yd[2] = {-1, 3};
    float w[12], b[3] = {0.5f, -1.0f, 2.0f};
    for (int i = 0; i < 12; i++) w[i] = (float)i * 0.25f - 1.0f;
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, xd);
    mb_init_f32(mb, "W", 2, wd, w, false);
    mb_init_f32(mb, "B", 1, bd, b, true);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, yd);
    mb_node *n = mb_node_add(mb, "Gemm", "gemm0", "x,W,B", "y");
    mb_attr_int(n, "transB", 1);
    mb_attr_float(n, "alpha", 0.5f);
    return mb;
}

/* xorshift64*: deterministic pseudo-random numbers for the fuzz tests. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Loads a copy of exactly len bytes (so sanitizers see any over-read) and
 * checks the outcome is a success or an error with a message. */
static onnxc_code load_untrusted(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    ck_assert(copy);
    if (len) memcpy(copy, data, len);
    onnxc_model m;
    onnxc_status *st = load_bytes(&m, copy, len, NULL);
    onnxc_code code = onnxc_status_code(st);
    if (st) ck_assert(onnxc_status_message(st)[0] != 0);
    onnxc_status_free(st);
    oc_model_release(&m);
    free(copy);
    return code;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert(fwrite(data, 1, len, f) == len);
    ck_assert(fclose(f) == 0);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            ck_assert(buf);
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void make_temp_dir(char *path, size_t size)
{
    snprintf(path, size, "/tmp/onnxc-loader-XXXXXX");
    ck_assert(mkdtemp(path) != NULL);
}

static void remove_tree(const char *path) { nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* ---- a complete model ---------------------------------------------------- */

START_TEST(test_small_model_fields)
{
    mb_model *mb = small_model();
    mb->proto->has_model_version = 1;
    mb->proto->model_version = 7;
    mb_node *n = mb->graph->node[0];
    const char *modes[2] = {"a", "bc"};
    int64_t ints[3] = {1, -2, 3};
    float floats[2] = {1.5f, -0.25f};
    mb_attr_string(n, "mode", "constant");
    mb_attr_ints(n, "pads", ints, 3);
    mb_attr_floats(n, "scales", floats, 2);
    mb_attr_strings(n, "names", modes, 2);
    int64_t v = 42;
    mb_attr_tensor(n, "value", mb_tensor_new("v", ONNXC_DTYPE_INT64, 0, NULL, &v, false));

    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    ck_assert_int_eq(m.ir_version, 8);
    ck_assert_int_eq(m.model_version, 7);
    ck_assert_str_eq(m.producer_name, "onnxc-tests");
    ck_assert_str_eq(m.producer_version, "");
    ck_assert_str_eq(m.graph_name, "test");
    ck_assert_int_eq(m.n_opsets, 1);
    ck_assert_str_eq(m.opsets[0].domain, "");
    ck_assert_int_eq(m.opsets[0].version, 13);

    ck_assert_int_eq(m.n_nodes, 1);
    const oc_node *node = &m.nodes[0];
    ck_assert_int_eq(node->index, 0);
    ck_assert_str_eq(node->name, "gemm0");
    ck_assert_str_eq(node->op_type, "Gemm");
    ck_assert_str_eq(node->domain, "");
    ck_assert_int_eq(node->opset, 0);
    ck_assert_int_eq(node->n_inputs, 3);
    ck_assert_str_eq(node->input_names[0], "x");
    ck_assert_str_eq(node->input_names[2], "B");
    ck_assert_int_eq(node->n_outputs, 1);
    ck_assert_str_eq(node->output_names[0], "y");
    for (int i = 0; i < 3; i++) ck_assert_int_eq(node->inputs[i], -1);
    ck_assert_int_eq(node->outputs[0], -1);

    ck_assert_int_eq(node->n_attrs, 7);
    ck_assert_int_eq(find_attr(node, "transB")->type, OC_ATTR_INT);
    ck_assert_int_eq(find_attr(node, "transB")->i, 1);
    ck_assert_int_eq(find_attr(node, "alpha")->type, OC_ATTR_FLOAT);
    ck_assert(find_attr(node, "alpha")->f == 0.5f);
    const oc_attr *a = find_attr(node, "mode");
    ck_assert_int_eq(a->type, OC_ATTR_STRING);
    ck_assert_uint_eq(a->s_len, 8);
    ck_assert_str_eq(a->s, "constant");
    a = find_attr(node, "pads");
    ck_assert_int_eq(a->type, OC_ATTR_INTS);
    ck_assert_uint_eq(a->n, 3);
    ck_assert_int_eq(a->ints[1], -2);
    a = find_attr(node, "scales");
    ck_assert_int_eq(a->type, OC_ATTR_FLOATS);
    ck_assert_uint_eq(a->n, 2);
    ck_assert(a->floats[1] == -0.25f);
    a = find_attr(node, "names");
    ck_assert_int_eq(a->type, OC_ATTR_STRINGS);
    ck_assert_uint_eq(a->n, 2);
    ck_assert_str_eq(a->strings[1], "bc");
    ck_assert_uint_eq(a->string_lens[1], 2);
    a = find_attr(node, "value");
    ck_assert_int_eq(a->type, OC_ATTR_TENSOR);
    ck_assert_int_eq(a->t->dtype, ONNXC_DTYPE_INT64);
    ck_assert_int_eq(a->t->rank, 0);
    ck_assert_int_eq(*(const int64_t *)a->t->data, 42);

    ck_assert_int_eq(m.n_initializers, 2);
    const oc_initializer *w = find_init(&m, "W");
    ck_assert_int_eq(w->tensor.rank, 2);
    ck_assert_int_eq(w->tensor.dims[0], 3);
    ck_assert_uint_eq(w->tensor.count, 12);
    ck_assert_uint_eq(w->tensor.nbytes, 48);
    ck_assert(((const float *)w->tensor.data)[5] == 0.25f);
    ck_assert(((const float *)find_init(&m, "B")->tensor.data)[2] == 2.0f);

    ck_assert_int_eq(m.n_graph_inputs, 1);
    ck_assert_str_eq(m.graph_inputs[0].name, "x");
    ck_assert_int_eq(m.graph_inputs[0].type.dtype, ONNXC_DTYPE_FLOAT);
    ck_assert_int_eq(m.graph_inputs[0].type.rank, 2);
    ck_assert_int_eq(m.graph_inputs[0].type.dims[0], -1);
    ck_assert_str_eq(m.graph_inputs[0].type.dim_names[0], "N");
    ck_assert_int_eq(m.graph_inputs[0].type.dims[1], 4);
    ck_assert_ptr_null(m.graph_inputs[0].type.dim_names[1]);
    ck_assert_int_eq(m.n_graph_outputs, 1);
    ck_assert_str_eq(m.graph_outputs[0].name, "y");
    ck_assert_int_eq(m.n_value_infos, 0);
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

START_TEST(test_omitted_optional_names)
{
    mb_model *mb = mb_new(8, 13);
    mb_node_add(mb, "Clip", NULL, "x,,max", "y,");
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    const oc_node *n = &m.nodes[0];
    ck_assert_str_eq(n->name, "");
    ck_assert_int_eq(n->n_inputs, 3);
    ck_assert_str_eq(n->input_names[1], "");
    ck_assert_str_eq(n->input_names[2], "max");
    ck_assert_int_eq(n->n_outputs, 2);
    ck_assert_str_eq(n->output_names[1], "");
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

/* ---- tensor data: raw vs typed fields ------------------------------------ */

/* Six distinctive elements of dtype (negative where the type allows) into buf. */
static void sample_values(int dtype, void *buf)
{
    for (int i = 0; i < 6; i++) {
        int v = (i % 2 ? -1 : 1) * (i * 37 + 3);
        switch (dtype) {
        case ONNXC_DTYPE_FLOAT: ((float *)buf)[i] = (float)v * 0.5f; break;
        case ONNXC_DTYPE_DOUBLE: ((double *)buf)[i] = (double)v * 0.125; break;
        case ONNXC_DTYPE_INT64: ((int64_t *)buf)[i] = (int64_t)v * 3000000000ll; break;
        case ONNXC_DTYPE_UINT64: ((uint64_t *)buf)[i] = UINT64_MAX - (uint64_t)i * 77; break;
        case ONNXC_DTYPE_INT32: ((int32_t *)buf)[i] = v * 100000; break;
        case ONNXC_DTYPE_UINT32: ((uint32_t *)buf)[i] = UINT32_MAX - (uint32_t)i * 5; break;
        case ONNXC_DTYPE_INT16: ((int16_t *)buf)[i] = (int16_t)(v * 50); break;
        case ONNXC_DTYPE_UINT16: ((uint16_t *)buf)[i] = (uint16_t)(65535 - i * 1000); break;
        case ONNXC_DTYPE_FLOAT16: ((uint16_t *)buf)[i] = (uint16_t)(0xBC00 + i); break; /* negative halves */
        case ONNXC_DTYPE_INT8: ((int8_t *)buf)[i] = (int8_t)v; break;
        case ONNXC_DTYPE_UINT8: ((uint8_t *)buf)[i] = (uint8_t)(250 - i); break;
        case ONNXC_DTYPE_BOOL: ((uint8_t *)buf)[i] = (uint8_t)(i % 3 == 0); break;
        default: ck_abort();
        }
    }
}

static const int all_dtypes[] = {
    ONNXC_DTYPE_FLOAT, ONNXC_DTYPE_INT32, ONNXC_DTYPE_INT64, ONNXC_DTYPE_BOOL, ONNXC_DTYPE_DOUBLE,
    ONNXC_DTYPE_UINT8, ONNXC_DTYPE_INT8, ONNXC_DTYPE_UINT16, ONNXC_DTYPE_INT16, ONNXC_DTYPE_FLOAT16,
    ONNXC_DTYPE_UINT32, ONNXC_DTYPE_UINT64,
};
#define N_DTYPES (sizeof all_dtypes / sizeof all_dtypes[0])

START_TEST(test_raw_and_typed_agree)
{
    int dtype = all_dtypes[_i];
    uint64_t values[6]; /* room for six 8-byte elements */
    sample_values(dtype, values);
    size_t esize = onnxc_dtype_size(dtype);
    int64_t dims[2] = {2, 3};
    mb_model *mb = mb_new(8, 13);
    mb_init(mb, "raw", dtype, 2, dims, values, false);
    mb_init(mb, "typed", dtype, 2, dims, values, true);
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    const oc_tensor *raw = &find_init(&m, "raw")->tensor, *typed = &find_init(&m, "typed")->tensor;
    ck_assert_int_eq(raw->dtype, dtype);
    ck_assert(oc_tensor_same_shape(raw, typed));
    ck_assert_uint_eq(raw->count, 6);
    ck_assert_uint_eq(typed->count, 6);
    ck_assert_uint_eq(raw->nbytes, 6 * esize);
    ck_assert_uint_eq(typed->nbytes, 6 * esize);
    ck_assert_msg(memcmp(raw->data, values, raw->nbytes) == 0, "%s raw data differs", onnxc_dtype_name(dtype));
    ck_assert_msg(memcmp(typed->data, values, typed->nbytes) == 0, "%s typed data differs",
                  onnxc_dtype_name(dtype));
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

START_TEST(test_typed_bool_normalized)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[1] = {3};
    mb_tensor *t = mb_init(mb, "b", ONNXC_DTYPE_BOOL, 1, dims, NULL, false);
    t->n_int32_data = 3;
    t->int32_data = malloc(3 * sizeof(int32_t));
    t->int32_data[0] = 0;
    t->int32_data[1] = 7;
    t->int32_data[2] = -1;
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    const uint8_t *d = find_init(&m, "b")->tensor.data;
    ck_assert(d[0] == 0 && d[1] == 1 && d[2] == 1);
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

START_TEST(test_scalars)
{
    mb_model *mb = mb_new(8, 13);
    float f = 3.25f;
    int64_t i = -9;
    mb_init_f32(mb, "f_raw", 0, NULL, &f, false);
    mb_init_f32(mb, "f_typed", 0, NULL, &f, true);
    mb_init_i64(mb, "i_typed", 0, NULL, &i, true);
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    const char *names[3] = {"f_raw", "f_typed", "i_typed"};
    for (int k = 0; k < 3; k++) {
        const oc_tensor *t = &find_init(&m, names[k])->tensor;
        ck_assert_int_eq(t->rank, 0);
        ck_assert_uint_eq(t->count, 1);
        ck_assert_ptr_nonnull(t->data);
    }
    ck_assert(*(const float *)find_init(&m, "f_raw")->tensor.data == 3.25f);
    ck_assert(*(const float *)find_init(&m, "f_typed")->tensor.data == 3.25f);
    ck_assert_int_eq(*(const int64_t *)find_init(&m, "i_typed")->tensor.data, -9);
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

START_TEST(test_zero_element_tensors)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[2] = {0, 3};
    mb_tensor_raw(mb_init(mb, "empty_raw", ONNXC_DTYPE_FLOAT, 2, dims, NULL, false), NULL, 0);
    mb_init(mb, "empty_none", ONNXC_DTYPE_INT64, 2, dims, NULL, false);
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    const char *names[2] = {"empty_raw", "empty_none"};
    for (int k = 0; k < 2; k++) {
        const oc_tensor *t = &find_init(&m, names[k])->tensor;
        ck_assert_int_eq(t->rank, 2);
        ck_assert_int_eq(t->dims[0], 0);
        ck_assert_int_eq(t->dims[1], 3);
        ck_assert_uint_eq(t->count, 0);
        ck_assert_uint_eq(t->nbytes, 0);
        ck_assert_ptr_null(t->data);
    }
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

START_TEST(test_tensor_without_data)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[1] = {4};
    mb_init(mb, "w", ONNXC_DTYPE_FLOAT, 1, dims, NULL, false);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "'w'");
}
END_TEST

START_TEST(test_raw_size_mismatch)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[2] = {2, 3};
    float data[7] = {0};
    mb_tensor_raw(mb_init(mb, "w", ONNXC_DTYPE_FLOAT, 2, dims, NULL, false), data, sizeof data);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "'w'");
}
END_TEST

START_TEST(test_typed_count_mismatch)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[1] = {5}, four[1] = {4};
    int64_t data[5] = {1, 2, 3, 4, 5};
    mb_tensor *t = mb_init_i64(mb, "w", 1, four, data, true);
    t->dims[0] = dims[0]; /* 5 declared, 4 stored */
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "int64_data");
}
END_TEST

START_TEST(test_data_in_wrong_field)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[1] = {2};
    int64_t data[2] = {1, 2};
    mb_tensor *t = mb_init_i64(mb, "w", 1, dims, data, true);
    t->data_type = ONNXC_DTYPE_FLOAT; /* float values in int64_data */
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "int64_data");
}
END_TEST

START_TEST(test_data_in_two_fields)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[1] = {2};
    float data[2] = {1, 2};
    mb_tensor *t = mb_init_f32(mb, "w", 1, dims, data, true);
    t->has_raw_data = 1;
    t->raw_data.len = sizeof data;
    t->raw_data.data = malloc(sizeof data);
    memcpy(t->raw_data.data, data, sizeof data);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "raw_data");
}
END_TEST

START_TEST(test_negative_dim)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[2] = {2, -3};
    mb_tensor_raw(mb_init(mb, "w", ONNXC_DTYPE_FLOAT, 2, dims, NULL, false), NULL, 0);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "negative");
}
END_TEST

START_TEST(test_overflowing_dims)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
    mb_tensor_raw(mb_init(mb, "huge", ONNXC_DTYPE_FLOAT, 2, dims, NULL, false), "abcd", 4);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_LIMIT, "'huge'");

    /* The element count fits but the byte size does not. */
    mb = mb_new(8, 13);
    int64_t dims2[2] = {(int64_t)1 << 31, (int64_t)1 << 31};
    mb_tensor_raw(mb_init(mb, "big", ONNXC_DTYPE_DOUBLE, 2, dims2, NULL, false), "abcd", 4);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_LIMIT, "'big'");
}
END_TEST

START_TEST(test_rank_too_high)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    float one = 1;
    mb_init_f32(mb, "deep", 9, dims, &one, false);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_LIMIT, "'deep'");

    /* Rank 8 is the limit and fine. */
    mb = mb_new(8, 13);
    mb_init_f32(mb, "ok", 8, dims, &one, false);
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    ck_assert_int_eq(find_init(&m, "ok")->tensor.rank, 8);
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

START_TEST(test_unsupported_dtypes)
{
    static const struct {
        int dtype;
        const char *name;
    } cases[] = {{ONNXC_DTYPE_STRING, "string"}, {14, "complex64"}, {16, "bfloat16"}, {99, "unknown"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mb_model *mb = mb_new(8, 13);
        int64_t dims[1] = {2};
        mb_tensor_raw(mb_init(mb, "t", cases[k].dtype, 1, dims, NULL, false), "abcdefgh", 8);
        onnxc_model m;
        onnxc_status *st = load_mb(&m, mb, NULL);
        ck_assert_int_eq(onnxc_status_code(st), ONNXC_ERR_UNSUPPORTED);
        ck_assert_msg(strstr(onnxc_status_message(st), cases[k].name) &&
                          strstr(onnxc_status_message(st), "'t'"),
                      "%s", onnxc_status_message(st));
        onnxc_status_free(st);
        oc_model_release(&m);
        mb_free(mb);
    }
    /* No data_type at all is a broken file rather than an unsupported type. */
    mb_model *mb = mb_new(8, 13);
    mb_tensor_raw(mb_init(mb, "t", 0, 0, NULL, NULL, false), "abcd", 4);
    mb->graph->initializer[0]->has_data_type = 0;
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "data_type");
}
END_TEST

/* ---- names, duplicates, graph ------------------------------------------- */

START_TEST(test_missing_graph)
{
    mb_model *mb = mb_new(8, 13);
    onnx__graph_proto__free_unpacked(mb->proto->graph, NULL);
    mb->proto->graph = mb->graph = NULL;
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "model has no graph");

    onnxc_model m;
    ASSERT_ERROR(load_bytes(&m, (const uint8_t *)"", 0, NULL), ONNXC_ERR_MODEL, "no graph");
    oc_model_release(&m);
}
END_TEST

START_TEST(test_duplicate_initializer)
{
    mb_model *mb = small_model();
    float b[3] = {0};
    int64_t bd[1] = {3};
    mb_init_f32(mb, "B", 1, bd, b, false);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "'B'");
}
END_TEST

START_TEST(test_unnamed_things)
{
    mb_model *mb = small_model();
    free(mb->graph->initializer[0]->name);
    mb->graph->initializer[0]->name = NULL;
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "initializer #0 has no name");

    mb = small_model();
    free(mb->graph->input[0]->name);
    mb->graph->input[0]->name = strdup("");
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "graph input #0 has no name");

    mb = small_model();
    free(mb->graph->output[0]->name);
    mb->graph->output[0]->name = NULL;
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "graph output #0 has no name");

    mb = small_model();
    free(mb->graph->node[0]->op_type);
    mb->graph->node[0]->op_type = NULL;
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "gemm0");
}
END_TEST

START_TEST(test_ir3_initializers_as_inputs)
{
    mb_model *mb = mb_new(3, 8);
    int64_t xd[1] = {3};
    float w[3] = {1, 2, 3};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, xd);
    mb_input(mb, "W", ONNXC_DTYPE_FLOAT, 1, xd);
    mb_init_f32(mb, "W", 1, xd, w, false);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 1, xd);
    mb_node_add(mb, "Add", "add", "x,W", "y");
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    ck_assert_int_eq(m.n_graph_inputs, 2);
    ck_assert_str_eq(m.graph_inputs[1].name, "W");
    ck_assert_int_eq(m.n_initializers, 1);
    ck_assert_str_eq(m.initializers[0].name, "W");
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

/* ---- value infos --------------------------------------------------------- */

START_TEST(test_symbolic_dims)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[4] = {0, 3, -2, 0};
    const char *names[4] = {"batch", NULL, NULL, "seq"};
    mb_input_sym(mb, "x", ONNXC_DTYPE_FLOAT, 4, dims, names);
    mb_input(mb, "unranked", ONNXC_DTYPE_INT64, -1, NULL);
    Onnx__ValueInfoProto *untyped = mb_input(mb, "untyped", 0, -1, NULL);
    onnx__type_proto__free_unpacked(untyped->type, NULL);
    untyped->type = NULL;
    mb_output(mb, "scalar", ONNXC_DTYPE_FLOAT, 0, NULL);
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    const oc_type_decl *x = &m.graph_inputs[0].type;
    ck_assert_int_eq(x->rank, 4);
    ck_assert_int_eq(x->dims[0], -1);
    ck_assert_str_eq(x->dim_names[0], "batch");
    ck_assert_int_eq(x->dims[1], 3);
    ck_assert_ptr_null(x->dim_names[1]);
    ck_assert_int_eq(x->dims[2], -1); /* neither value nor name */
    ck_assert_ptr_null(x->dim_names[2]);
    ck_assert_str_eq(x->dim_names[3], "seq");
    ck_assert_int_eq(m.graph_inputs[1].type.dtype, ONNXC_DTYPE_INT64);
    ck_assert_int_eq(m.graph_inputs[1].type.rank, -1);
    ck_assert_int_eq(m.graph_inputs[2].type.dtype, 0);
    ck_assert_int_eq(m.graph_inputs[2].type.rank, -1);
    ck_assert_int_eq(m.graph_outputs[0].type.rank, 0);
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

START_TEST(test_value_info_checks)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 9, dims9);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_LIMIT, "'x'");

    mb = mb_new(8, 13);
    int64_t neg[2] = {2, -5};
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, neg);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "negative");

    mb = mb_new(8, 13);
    mb_make_sequence_type(mb_input(mb, "seq", ONNXC_DTYPE_FLOAT, -1, NULL));
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_UNSUPPORTED, "sequence");

    /* Non-tensor value_info entries are only left out. */
    mb = mb_new(8, 13);
    int64_t d[1] = {2};
    mb_make_sequence_type(mb_value_info(mb, "seq", ONNXC_DTYPE_FLOAT, -1, NULL));
    mb_value_info(mb, "t", ONNXC_DTYPE_INT32, 1, d);
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    ck_assert_int_eq(m.n_value_infos, 1);
    ck_assert_str_eq(m.value_infos[0].name, "t");
    ck_assert_int_eq(m.value_infos[0].type.dims[0], 2);
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

/* ---- opsets -------------------------------------------------------------- */

START_TEST(test_opset_ai_onnx_domain)
{
    mb_model *mb = mb_new(8, 0);
    mb_opset(mb, "ai.onnx", 17);
    mb_opset(mb, "com.example", 2);
    mb_node_domain(mb_node_add(mb, "Relu", "r", "x", "y"), "ai.onnx");
    mb_node_domain(mb_node_add(mb, "Custom", "c", "y", "z"), "com.example");
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    ck_assert_int_eq(m.n_opsets, 2);
    ck_assert_str_eq(m.opsets[0].domain, "ai.onnx");
    ck_assert_int_eq(m.opsets[0].version, 17);
    ck_assert_str_eq(m.opsets[1].domain, "com.example");
    ck_assert_int_eq(m.opsets[1].version, 2);
    ck_assert_str_eq(m.nodes[0].domain, "");
    ck_assert_str_eq(m.nodes[1].domain, "com.example");
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

START_TEST(test_opset_out_of_range)
{
    mb_model *mb = mb_new(8, OC_MAX_OPSET + 1);
    char newest[32], range[32];
    snprintf(newest, sizeof newest, "%d", OC_MAX_OPSET + 1);
    snprintf(range, sizeof range, "1 to %d", OC_MAX_OPSET);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_UNSUPPORTED, newest);
    mb = mb_new(8, 0);
    mb_opset(mb, "ai.onnx", 0);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_UNSUPPORTED, range);
    /* Both ends of the range load. */
    int64_t ends[2] = {1, OC_MAX_OPSET};
    for (int k = 0; k < 2; k++) {
        mb = mb_new(8, ends[k]);
        onnxc_model m;
        ASSERT_OK(load_mb(&m, mb, NULL));
        oc_model_release(&m);
        mb_free(mb);
    }
    /* Other domains are not checked here. */
    mb = mb_new(8, 13);
    mb_opset(mb, "com.example", 1000);
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

START_TEST(test_opset_missing_or_duplicate)
{
    /* IR >= 3 must import the default domain when it uses it. */
    mb_model *mb = mb_new(3, 0);
    mb_node_add(mb, "Relu", "r", "x", "y");
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "opset");

    /* Before IR 3 no import means opset 1. */
    mb = mb_new(2, 0);
    mb_node_add(mb, "Relu", "r", "x", "y");
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    ck_assert_int_eq(m.n_opsets, 1);
    ck_assert_str_eq(m.opsets[0].domain, "");
    ck_assert_int_eq(m.opsets[0].version, 1);
    oc_model_release(&m);
    mb_free(mb);

    /* No default-domain nodes, no import needed. */
    mb = mb_new(8, 0);
    mb_node_domain(mb_node_add(mb, "Custom", "c", "x", "y"), "com.example");
    mb_opset(mb, "com.example", 1);
    ASSERT_OK(load_mb(&m, mb, NULL));
    oc_model_release(&m);
    mb_free(mb);

    mb = mb_new(8, 13);
    mb_opset(mb, "ai.onnx", 13);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "more than once");
}
END_TEST

/* ---- attributes ---------------------------------------------------------- */

START_TEST(test_attribute_errors)
{
    mb_model *mb = small_model();
    mb_attr_add(mb->graph->node[0], NULL, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "attribute #2 has no name");

    mb = small_model();
    mb_attr_add(mb->graph->node[0], "odd", 99);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "'odd'");

    mb = small_model();
    mb_attr_add(mb->graph->node[0], "neg", -5)->has_type = 1; /* type field present, value -5 */
    mb->graph->node[0]->attribute[2]->type = (Onnx__AttributeProto__AttributeType)-5;
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "'neg'");

    mb = small_model();
    mb_attr_add(mb->graph->node[0], "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_MODEL, "'value'");

    /* A bad tensor inside an attribute names node, attribute and tensor. */
    mb = small_model();
    int64_t dims[1] = {3};
    mb_tensor *t = mb_tensor_new("inner", ONNXC_DTYPE_FLOAT, 1, dims, NULL, false);
    mb_tensor_raw(t, "xx", 2);
    mb_attr_tensor(mb->graph->node[0], "value", t);
    onnxc_model m;
    onnxc_status *st = load_mb(&m, mb, NULL);
    ck_assert_int_eq(onnxc_status_code(st), ONNXC_ERR_MODEL);
    const char *msg = onnxc_status_message(st);
    ck_assert_msg(strstr(msg, "gemm0") && strstr(msg, "'value'") && strstr(msg, "'inner'"), "%s", msg);
    onnxc_status_free(st);
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

START_TEST(test_attribute_type_inferred)
{
    mb_model *mb = mb_new(1, 0);
    mb_node *n = mb_node_add(mb, "Relu", "r", "x", "y");
    Onnx__AttributeProto *a = mb_attr_add(n, "ints", -1);
    a->n_ints = 2;
    a->ints = malloc(2 * sizeof(int64_t));
    a->ints[0] = 4;
    a->ints[1] = 5;
    a = mb_attr_add(n, "f", -1);
    a->has_f = 1;
    a->f = 2.5f;
    a = mb_attr_add(n, "t", -1);
    float one = 1;
    a->t = mb_tensor_new("t", ONNXC_DTYPE_FLOAT, 0, NULL, &one, true);
    mb_attr_add(n, "nothing", -1);
    Onnx__AttributeProto *g = mb_attr_add(n, "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS);
    g->n_graphs = 2;
    g->graphs = malloc(2 * sizeof *g->graphs);
    for (int i = 0; i < 2; i++) {
        g->graphs[i] = malloc(sizeof(Onnx__GraphProto));
        onnx__graph_proto__init(g->graphs[i]);
    }
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    const oc_node *node = &m.nodes[0];
    ck_assert_int_eq(find_attr(node, "ints")->type, OC_ATTR_INTS);
    ck_assert_int_eq(find_attr(node, "ints")->ints[1], 5);
    ck_assert_int_eq(find_attr(node, "f")->type, OC_ATTR_FLOAT);
    ck_assert(find_attr(node, "f")->f == 2.5f);
    ck_assert_int_eq(find_attr(node, "t")->type, OC_ATTR_TENSOR);
    ck_assert_int_eq(find_attr(node, "nothing")->type, OC_ATTR_UNDEFINED);
    ck_assert_int_eq(find_attr(node, "body")->type, OC_ATTR_GRAPHS);
    ck_assert_uint_eq(find_attr(node, "body")->n, 2);
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

START_TEST(test_attribute_tensors)
{
    mb_model *mb = mb_new(8, 13);
    mb_node *n = mb_node_add(mb, "Custom", "c", "x", "y");
    int64_t dims[1] = {2};
    int32_t a[2] = {7, -7};
    double b[2] = {0.5, 1e300};
    mb_tensor *ts[2] = {mb_tensor_new("a", ONNXC_DTYPE_INT32, 1, dims, a, true),
                        mb_tensor_new("b", ONNXC_DTYPE_DOUBLE, 1, dims, b, false)};
    mb_attr_tensors(n, "list", ts, 2);
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    const oc_attr *attr = find_attr(&m.nodes[0], "list");
    ck_assert_int_eq(attr->type, OC_ATTR_TENSORS);
    ck_assert_uint_eq(attr->n, 2);
    ck_assert(memcmp(attr->tensors[0].data, a, sizeof a) == 0);
    ck_assert(memcmp(attr->tensors[1].data, b, sizeof b) == 0);
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

/* ---- hostile bytes ------------------------------------------------------- */

START_TEST(test_every_prefix)
{
    mb_model *mb = small_model();
    uint8_t *buf;
    size_t len;
    ck_assert(mb_serialize(mb, &buf, &len));
    mb_free(mb);
    size_t parse_errors = 0;
    for (size_t n = 0; n < len; n++) parse_errors += load_untrusted(buf, n) == ONNXC_ERR_PARSE;
    ck_assert_int_eq(load_untrusted(buf, len), ONNXC_OK);
    ck_assert_msg(parse_errors > len / 2, "only %zu of %zu prefixes failed to parse", parse_errors, len);
    free(buf);
}
END_TEST

START_TEST(test_random_garbage)
{
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    uint8_t buf[512];
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = (size_t)(next_random(&seed) % sizeof buf);
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)next_random(&seed);
        load_untrusted(buf, len);
    }
}
END_TEST

START_TEST(test_mutated_models)
{
    mb_model *mb = small_model();
    uint8_t *good;
    size_t len;
    ck_assert(mb_serialize(mb, &good, &len));
    mb_free(mb);
    uint8_t *buf = malloc(len);
    ck_assert(buf);
    uint64_t seed = 12345;
    for (int iter = 0; iter < 5000; iter++) {
        memcpy(buf, good, len);
        int flips = 1 + (int)(next_random(&seed) % 4);
        for (int k = 0; k < flips; k++) buf[next_random(&seed) % len] = (uint8_t)next_random(&seed);
        load_untrusted(buf, len);
    }
    free(buf);
    free(good);
}
END_TEST

START_TEST(test_bad_wire_format)
{
    onnxc_model m;
    /* A group start (wire type 3) is refused. */
    const uint8_t group[] = {0x0b, 0x0c};
    ASSERT_ERROR(load_bytes(&m, group, sizeof group, NULL), ONNXC_ERR_PARSE, NULL);
    oc_model_release(&m);
    /* A length larger than the file. */
    const uint8_t too_long[] = {0x3a, 0x7f, 0x00};
    ASSERT_ERROR(load_bytes(&m, too_long, sizeof too_long, NULL), ONNXC_ERR_PARSE, NULL);
    oc_model_release(&m);
    /* A varint that never ends. */
    const uint8_t endless[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    ASSERT_ERROR(load_bytes(&m, endless, sizeof endless, NULL), ONNXC_ERR_PARSE, NULL);
    oc_model_release(&m);
    /* Field number 0. */
    const uint8_t zero[] = {0x00, 0x00};
    ASSERT_ERROR(load_bytes(&m, zero, sizeof zero, NULL), ONNXC_ERR_PARSE, NULL);
    oc_model_release(&m);
    /* The graph field (a message) as a varint. */
    const uint8_t graph_varint[] = {0x38, 0x01};
    ASSERT_ERROR(load_bytes(&m, graph_varint, sizeof graph_varint, NULL), ONNXC_ERR_PARSE, NULL);
    oc_model_release(&m);
}
END_TEST

/* n nested fields: prefix then the cycle repeated. */
static uint32_t *nesting_path(const uint32_t *prefix, size_t n_prefix, const uint32_t *cycle, size_t n_cycle,
                              size_t n)
{
    uint32_t *fields = malloc(n * sizeof *fields);
    ck_assert(fields);
    for (size_t i = 0; i < n; i++)
        fields[i] = i < n_prefix ? prefix[i] : cycle[(i - n_prefix) % n_cycle];
    return fields;
}

static onnxc_code load_nested(const uint32_t *prefix, size_t n_prefix, const uint32_t *cycle,
                              size_t n_cycle, size_t levels)
{
    uint32_t *fields = nesting_path(prefix, n_prefix, cycle, n_cycle, levels);
    mb_bytes b = {0};
    mb_bytes_nest(&b, fields, levels, NULL, 0);
    free(fields);
    onnxc_code code = load_untrusted(b.data, b.len);
    mb_bytes_free(&b);
    return code;
}

/* ModelProto.graph, then GraphProto.node / NodeProto.attribute / AttributeProto.g. */
static const uint32_t graph_prefix[1] = {7};
static const uint32_t graph_cycle[3] = {1, 5, 6};
/* ModelProto.graph, GraphProto.input, ValueInfoProto.type, then
 * TypeProto.sequence_type / Sequence.elem_type. */
static const uint32_t type_prefix[3] = {7, 11, 2};
static const uint32_t type_cycle[2] = {4, 1};

START_TEST(test_deep_nesting)
{
    ck_assert_int_eq(load_nested(graph_prefix, 1, graph_cycle, 3, 100000), ONNXC_ERR_LIMIT);
    ck_assert_int_eq(load_nested(type_prefix, 3, type_cycle, 2, 100000), ONNXC_ERR_LIMIT);
    /* The limit is exact: 64 levels pass the nesting check (and then fail as
     * a model: the node has no op_type), 65 do not. */
    ck_assert_int_eq(load_nested(graph_prefix, 1, graph_cycle, 3, 64), ONNXC_ERR_MODEL);
    ck_assert_int_eq(load_nested(graph_prefix, 1, graph_cycle, 3, 65), ONNXC_ERR_LIMIT);
    /* Unknown fields are skipped, not unpacked: nesting inside one is harmless. */
    const uint32_t unknown_prefix[3] = {7, 1, 99};
    ck_assert_int_eq(load_nested(unknown_prefix, 3, graph_cycle, 3, 100000), ONNXC_ERR_MODEL);
}
END_TEST

START_TEST(test_repeated_singular_message)
{
    /* ModelProto.graph 200000 times, one node each: protobuf-c would merge
     * them in quadratic time. */
    mb_bytes b = {0};
    const uint8_t one_node_graph[2] = {0x0a, 0x00};
    for (int i = 0; i < 200000; i++) mb_bytes_field(&b, 7, one_node_graph, sizeof one_node_graph);
    onnxc_model m;
    ASSERT_ERROR(load_bytes(&m, b.data, b.len, NULL), ONNXC_ERR_PARSE, "'graph'");
    oc_model_release(&m);
    mb_bytes_free(&b);

    /* Deeper down: an attribute holding its tensor 't' twice. A repeated
     * string (op_type) is only replaced by protobuf-c and stays allowed. */
    mb_bytes attr = {0}, node = {0}, graph = {0};
    mb_bytes_field(&attr, 1, "value", 5);
    mb_bytes_field(&attr, 5, NULL, 0);
    mb_bytes_field(&attr, 5, NULL, 0);
    mb_bytes_field(&node, 4, "Relu", 4);
    mb_bytes_field(&node, 4, "Relu", 4);
    mb_bytes_field(&node, 5, attr.data, attr.len);
    mb_bytes_field(&graph, 1, node.data, node.len);
    mb_bytes_field(&b, 7, graph.data, graph.len);
    ASSERT_ERROR(load_bytes(&m, b.data, b.len, NULL), ONNXC_ERR_PARSE, "'t' of onnx.AttributeProto");
    oc_model_release(&m);
    mb_bytes_free(&attr);
    mb_bytes_free(&node);
    mb_bytes_free(&graph);
    mb_bytes_free(&b);
}
END_TEST

/* A real chain of subgraphs: depth nodes, each with a GRAPH attribute. */
static Onnx__GraphProto *nested_graph(int depth)
{
    Onnx__GraphProto *g = malloc(sizeof *g);
    ck_assert(g);
    onnx__graph_proto__init(g);
    if (depth == 0) return g;
    g->n_node = 1;
    g->node = malloc(sizeof *g->node);
    g->node[0] = malloc(sizeof(Onnx__NodeProto));
    onnx__node_proto__init(g->node[0]);
    g->node[0]->op_type = strdup("Loop");
    mb_attr_add(g->node[0], "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = nested_graph(depth - 1);
    return g;
}

START_TEST(test_nested_subgraphs)
{
    /* Each subgraph level costs three message levels: 20 levels fit in 64. */
    mb_model *mb = mb_new(8, 13);
    mb_node *n = mb_node_add(mb, "Loop", "outer", "", "");
    mb_attr_add(n, "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = nested_graph(19);
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    ck_assert_int_eq(m.nodes[0].attrs[0].type, OC_ATTR_GRAPH);
    ck_assert_uint_eq(m.nodes[0].attrs[0].n, 1);
    oc_model_release(&m);
    mb_free(mb);

    mb = mb_new(8, 13);
    n = mb_node_add(mb, "Loop", "outer", "", "");
    mb_attr_add(n, "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = nested_graph(30);
    EXPECT_LOAD_ERROR(mb, NULL, ONNXC_ERR_LIMIT, "64");
}
END_TEST

START_TEST(test_wide_model_is_fast)
{
    /* 200000 nodes: the pre-check and conversion must stay linear. */
    mb_model *mb = mb_new(8, 13);
    char in[32], out[32];
    for (int i = 0; i < 200000; i++) {
        snprintf(in, sizeof in, "v%d", i);
        snprintf(out, sizeof out, "v%d", i + 1);
        mb_node_add(mb, "Relu", NULL, in, out);
    }
    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, NULL));
    ck_assert_int_eq(m.n_nodes, 200000);
    ck_assert_str_eq(m.nodes[199999].output_names[0], "v200000");
    oc_model_release(&m);
    mb_free(mb);
}
END_TEST

/* ---- external data ------------------------------------------------------- */

typedef struct ext_fixture {
    char dir[64];
    char outside[64];
    long page;
} ext_fixture;

static float ext_a[6] = {1, 2, 3, 4, 5, 6};       /* at offset 0: mapped */
static int64_t ext_b[4] = {-1, 2, -3, 40000000000}; /* at offset 100: read */
static int32_t ext_c[4] = {9, 8, 7, 6};            /* at offset page, up to the end: mapped */

static void ext_setup(ext_fixture *fx)
{
    fx->page = sysconf(_SC_PAGESIZE);
    ck_assert(fx->page >= 128);
    make_temp_dir(fx->dir, sizeof fx->dir);
    make_temp_dir(fx->outside, sizeof fx->outside);
    size_t size = (size_t)fx->page + sizeof ext_c;
    uint8_t *file = calloc(1, size);
    ck_assert(file);
    memcpy(file, ext_a, sizeof ext_a);
    memcpy(file + 100, ext_b, sizeof ext_b);
    memcpy(file + fx->page, ext_c, sizeof ext_c);
    char path[256];
    snprintf(path, sizeof path, "%s/weights.bin", fx->dir);
    write_file(path, file, size);
    snprintf(path, sizeof path, "%s/sub", fx->dir);
    ck_assert(mkdir(path, 0700) == 0);
    snprintf(path, sizeof path, "%s/sub/whole.bin", fx->dir);
    write_file(path, ext_a, sizeof ext_a);
    snprintf(path, sizeof path, "%s/secret.bin", fx->outside);
    write_file(path, ext_a, sizeof ext_a);
    free(file);
}

static void ext_teardown(ext_fixture *fx)
{
    remove_tree(fx->dir);
    remove_tree(fx->outside);
}

/* A model whose one initializer "w" (float[2,3]) is external. */
static mb_model *external_model(const char *location, int64_t offset, int64_t length)
{
    mb_model *mb = mb_new(8, 13);
    int64_t dims[2] = {2, 3};
    mb_tensor_external(mb_init(mb, "w", ONNXC_DTYPE_FLOAT, 2, dims, NULL, false), location, offset, length);
    return mb;
}

START_TEST(test_external_good)
{
    ext_fixture fx;
    ext_setup(&fx);
    mb_model *mb = mb_new(8, 13);
    int64_t da[2] = {2, 3}, db[1] = {4};
    mb_tensor_external(mb_init(mb, "a", ONNXC_DTYPE_FLOAT, 2, da, NULL, false), "weights.bin", 0,
                       (int64_t)sizeof ext_a);
    mb_tensor_external(mb_init(mb, "b", ONNXC_DTYPE_INT64, 1, db, NULL, false), "weights.bin", 100,
                       (int64_t)sizeof ext_b);
    mb_tensor_external(mb_init(mb, "c", ONNXC_DTYPE_INT32, 1, db, NULL, false), "./weights.bin", fx.page, -1);
    mb_tensor_external(mb_init(mb, "d", ONNXC_DTYPE_FLOAT, 2, da, NULL, false), "sub/whole.bin", -1, -1);
    /* An attribute tensor may be external too. */
    mb_tensor *t = mb_tensor_new("value", ONNXC_DTYPE_FLOAT, 2, da, NULL, false);
    mb_tensor_external(t, "weights.bin", 0, -1);
    mb_tensor_entry(t, "length", "24"); /* given after: the later entry counts */
    mb_tensor_entry(t, "checksum", "ignored");
    mb_attr_tensor(mb_node_add(mb, "Constant", "k", "", "k_out"), "value", t);

    onnxc_model m;
    ASSERT_OK(load_mb(&m, mb, fx.dir));
    ck_assert(memcmp(find_init(&m, "a")->tensor.data, ext_a, sizeof ext_a) == 0);
    ck_assert(memcmp(find_init(&m, "b")->tensor.data, ext_b, sizeof ext_b) == 0);
    ck_assert(memcmp(find_init(&m, "c")->tensor.data, ext_c, sizeof ext_c) == 0);
    ck_assert(memcmp(find_init(&m, "d")->tensor.data, ext_a, sizeof ext_a) == 0);
    ck_assert(memcmp(m.nodes[0].attrs[0].t->data, ext_a, sizeof ext_a) == 0);
    /* Page-aligned offsets (a, c, d and the attribute) are mapped, b is read. */
    ck_assert_uint_eq(m.n_maps, 4);
    ck_assert_uint_eq(m.n_buffers, 1);
    oc_model_release(&m);
    mb_free(mb);

    /* A symlink that stays inside the folder is fine. */
    char link[256];
    snprintf(link, sizeof link, "%s/alias.bin", fx.dir);
    ck_assert(symlink("sub/whole.bin", link) == 0);
    mb = external_model("alias.bin", -1, -1);
    ASSERT_OK(load_mb(&m, mb, fx.dir));
    ck_assert(memcmp(find_init(&m, "w")->tensor.data, ext_a, sizeof ext_a) == 0);
    oc_model_release(&m);
    mb_free(mb);
    ext_teardown(&fx);
}
END_TEST

START_TEST(test_external_refused_paths)
{
    ext_fixture fx;
    ext_setup(&fx);
    EXPECT_LOAD_ERROR(external_model("weights.bin", 0, 24), NULL, ONNXC_ERR_UNSUPPORTED, "'w'");
    EXPECT_LOAD_ERROR(external_model("nope.bin", 0, 24), fx.dir, ONNXC_ERR_IO, "nope.bin");
    char abs_path[256];
    snprintf(abs_path, sizeof abs_path, "%s/weights.bin", fx.dir);
    EXPECT_LOAD_ERROR(external_model(abs_path, 0, 24), fx.dir, ONNXC_ERR_MODEL, "absolute");
    EXPECT_LOAD_ERROR(external_model("../weights.bin", 0, 24), fx.dir, ONNXC_ERR_MODEL, "'..'");
    EXPECT_LOAD_ERROR(external_model("sub/../weights.bin", 0, 24), fx.dir, ONNXC_ERR_MODEL, "'..'");
    EXPECT_LOAD_ERROR(external_model("sub/..", 0, 24), fx.dir, ONNXC_ERR_MODEL, "'..'");
    EXPECT_LOAD_ERROR(external_model("", 0, 24), fx.dir, ONNXC_ERR_MODEL, "location");

    /* Symlinks out of the folder: a file link and a folder link. */
    char link[256], target[256];
    snprintf(link, sizeof link, "%s/evil.bin", fx.dir);
    snprintf(target, sizeof target, "%s/secret.bin", fx.outside);
    ck_assert(symlink(target, link) == 0);
    EXPECT_LOAD_ERROR(external_model("evil.bin", 0, 24), fx.dir, ONNXC_ERR_MODEL, "outside");
    snprintf(link, sizeof link, "%s/evil_dir", fx.dir);
    ck_assert(symlink(fx.outside, link) == 0);
    EXPECT_LOAD_ERROR(external_model("evil_dir/secret.bin", 0, 24), fx.dir, ONNXC_ERR_MODEL, "outside");
    /* A folder or a FIFO is not a data file (and opening the FIFO must not block). */
    EXPECT_LOAD_ERROR(external_model("sub", 0, 24), fx.dir, ONNXC_ERR_MODEL, "regular");
    char fifo[256];
    snprintf(fifo, sizeof fifo, "%s/fifo", fx.dir);
    ck_assert(mkfifo(fifo, 0600) == 0);
    EXPECT_LOAD_ERROR(external_model("fifo", 0, 24), fx.dir, ONNXC_ERR_MODEL, "regular");

    /* No location at all. */
    mb_model *mb = external_model("x", -1, -1);
    Onnx__StringStringEntryProto *e = mb->graph->initializer[0]->external_data[0];
    free(e->key);
    e->key = strdup("place");
    EXPECT_LOAD_ERROR(mb, fx.dir, ONNXC_ERR_MODEL, "without a location");
    ext_teardown(&fx);
}
END_TEST

START_TEST(test_external_bad_ranges)
{
    ext_fixture fx;
    ext_setup(&fx);
    int64_t size = fx.page + (int64_t)sizeof ext_c;
    EXPECT_LOAD_ERROR(external_model("weights.bin", size + 1, 24), fx.dir, ONNXC_ERR_MODEL, "past the end");
    EXPECT_LOAD_ERROR(external_model("weights.bin", size - 8, 24), fx.dir, ONNXC_ERR_MODEL, "past the end");
    EXPECT_LOAD_ERROR(external_model("weights.bin", INT64_MAX, 24), fx.dir, ONNXC_ERR_MODEL, "past the end");
    EXPECT_LOAD_ERROR(external_model("weights.bin", 0, 20), fx.dir, ONNXC_ERR_MODEL, "length");
    EXPECT_LOAD_ERROR(external_model("weights.bin", 0, -1), fx.dir, ONNXC_ERR_MODEL, "length");
    static const char *bad_numbers[] = {"", "-1", "+1", "12a", " 1", "0x10", "99999999999999999999"};
    for (size_t k = 0; k < sizeof bad_numbers / sizeof bad_numbers[0]; k++) {
        mb_model *mb = external_model("weights.bin", -1, 24);
        mb_tensor_entry(mb->graph->initializer[0], "offset", bad_numbers[k]);
        EXPECT_LOAD_ERROR(mb, fx.dir, ONNXC_ERR_MODEL, "offset");
    }
    /* Inline data next to external data. */
    mb_model *mb = external_model("weights.bin", 0, 24);
    mb_tensor *t = mb->graph->initializer[0];
    t->has_raw_data = 1; /* an empty raw_data is still a second source */
    EXPECT_LOAD_ERROR(mb, fx.dir, ONNXC_ERR_MODEL, "external");
    ext_teardown(&fx);
}
END_TEST

/* ---- TensorProto files --------------------------------------------------- */

START_TEST(test_tensor_pb_roundtrip)
{
    for (size_t k = 0; k < N_DTYPES; k++) {
        uint64_t values[6];
        sample_values(all_dtypes[k], values);
        oc_tensor t = {.dtype = (onnxc_dtype)all_dtypes[k], .rank = 2, .dims = {3, 2}, .data = values};
        ASSERT_OK(oc_tensor_set_sizes(&t));
        void *bytes;
        size_t len;
        ASSERT_OK(oc_tensor_pb_encode(&t, "input_0", &bytes, &len));
        oc_tensor back;
        char *name;
        ASSERT_OK(oc_tensor_pb_decode(bytes, len, &back, &name));
        ck_assert(oc_tensor_same_shape(&t, &back));
        ck_assert_uint_eq(back.nbytes, t.nbytes);
        ck_assert(memcmp(back.data, values, t.nbytes) == 0);
        ck_assert_str_eq(name, "input_0");
        free(name);
        free(back.data);
        free(bytes);
    }
    /* A scalar without a name, and an empty tensor. */
    double d = -2.5;
    oc_tensor s = {.dtype = ONNXC_DTYPE_DOUBLE, .rank = 0, .data = &d};
    ASSERT_OK(oc_tensor_set_sizes(&s));
    void *bytes;
    size_t len;
    ASSERT_OK(oc_tensor_pb_encode(&s, NULL, &bytes, &len));
    oc_tensor back;
    char *name;
    ASSERT_OK(oc_tensor_pb_decode(bytes, len, &back, &name));
    ck_assert_ptr_null(name);
    ck_assert_int_eq(back.rank, 0);
    ck_assert(*(double *)back.data == -2.5);
    free(back.data);
    free(bytes);
    oc_tensor e = {.dtype = ONNXC_DTYPE_FLOAT, .rank = 1, .dims = {0}};
    ASSERT_OK(oc_tensor_set_sizes(&e));
    ASSERT_OK(oc_tensor_pb_encode(&e, "e", &bytes, &len));
    ASSERT_OK(oc_tensor_pb_decode(bytes, len, &back, NULL));
    ck_assert_uint_eq(back.count, 0);
    ck_assert_ptr_null(back.data);
    free(bytes);
}
END_TEST

START_TEST(test_tensor_pb_typed_and_errors)
{
    int64_t dims[1] = {3};
    int32_t v[3] = {1, -2, 3};
    mb_tensor *t = mb_tensor_new("typed", ONNXC_DTYPE_INT32, 1, dims, v, true);
    size_t len;
    uint8_t *bytes = mb_tensor_serialize(t, &len);
    oc_tensor back;
    char *name;
    ASSERT_OK(oc_tensor_pb_decode(bytes, len, &back, &name));
    ck_assert(memcmp(back.data, v, sizeof v) == 0);
    ck_assert_str_eq(name, "typed");
    free(name);
    free(back.data);
    /* Every prefix decodes or fails cleanly. */
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, bytes, n);
        onnxc_status *st = oc_tensor_pb_decode(copy, n, &back, &name);
        if (st) {
            ck_assert(onnxc_status_message(st)[0]);
            ck_assert_ptr_null(name);
        } else {
            free(back.data);
            free(name);
        }
        onnxc_status_free(st);
        free(copy);
    }
    free(bytes);

    mb_tensor_external(t, "weights.bin", 0, 12);
    bytes = mb_tensor_serialize(t, &len);
    ASSERT_ERROR(oc_tensor_pb_decode(bytes, len, &back, NULL), ONNXC_ERR_UNSUPPORTED, "weights.bin");
    free(bytes);
    mb_tensor_free(t);

    t = mb_tensor_new("s", ONNXC_DTYPE_STRING, 1, dims, NULL, false);
    bytes = mb_tensor_serialize(t, &len);
    ASSERT_ERROR(oc_tensor_pb_decode(bytes, len, &back, NULL), ONNXC_ERR_UNSUPPORTED, "string");
    free(bytes);
    mb_tensor_free(t);

    const uint8_t garbage[] = {0xff, 0xff, 0xff};
    ASSERT_ERROR(oc_tensor_pb_decode(garbage, sizeof garbage, &back, NULL), ONNXC_ERR_PARSE, NULL);

    oc_tensor bad = {.dtype = ONNXC_DTYPE_STRING, .rank = 1, .dims = {1}};
    void *out;
    ASSERT_ERROR(oc_tensor_pb_encode(&bad, "x", &out, &len), ONNXC_ERR_UNSUPPORTED, NULL);
    oc_tensor deep = {.dtype = ONNXC_DTYPE_FLOAT, .rank = 9};
    ASSERT_ERROR(oc_tensor_pb_encode(&deep, "x", &out, &len), ONNXC_ERR_LIMIT, NULL);
    oc_tensor nodata = {.dtype = ONNXC_DTYPE_FLOAT, .rank = 1, .dims = {2}};
    ASSERT_ERROR(oc_tensor_pb_encode(&nodata, "x", &out, &len), ONNXC_ERR_ARGUMENT, NULL);
}
END_TEST

/* ---- the ONNX conformance models ----------------------------------------- */

/* The backend test folder: $ONNXC_SHARED/onnx-backend-tests/node, else a
 * "shared" folder next to the source tree, seen from the usual working
 * directories of a test run. NULL when absent. */
static const char *backend_node_dir(char *buf, size_t size)
{
    const char *env = getenv("ONNXC_SHARED");
    const char *candidates[4] = {env, "../shared", "../../shared", "../../../shared"};
    for (int i = 0; i < 4; i++) {
        if (!candidates[i]) continue;
        snprintf(buf, size, "%s/onnx-backend-tests/node", candidates[i]);
        struct stat sb;
        if (stat(buf, &sb) == 0 && S_ISDIR(sb.st_mode)) return buf;
    }
    return NULL;
}

START_TEST(test_backend_models)
{
    char root[512];
    if (!backend_node_dir(root, sizeof root)) {
        fprintf(stderr, "check_loader: ONNX backend tests not found, skipping\n");
        return;
    }
    DIR *d = opendir(root);
    ck_assert(d);
    struct dirent *e;
    int loaded = 0, refused = 0, tensors = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char dir[1024], path[1100];
        snprintf(dir, sizeof dir, "%s/%s", root, e->d_name);
        snprintf(path, sizeof path, "%s/model.onnx", dir);
        size_t len;
        uint8_t *buf = read_file(path, &len);
        if (!buf) continue;
        onnxc_model m;
        onnxc_status *st = load_bytes(&m, buf, len, dir);
        free(buf);
        if (st) {
            /* These are valid models: onnxc may only decline what it does not support. */
            ck_assert_msg(onnxc_status_code(st) == ONNXC_ERR_UNSUPPORTED, "%s: %s", e->d_name,
                          onnxc_status_message(st));
            ck_assert(onnxc_status_message(st)[0]);
            refused++;
        } else {
            loaded++;
        }
        onnxc_status_free(st);
        oc_model_release(&m);

        /* The test data: tensors decode, other protos fail cleanly. */
        snprintf(path, sizeof path, "%s/test_data_set_0/input_0.pb", dir);
        buf = read_file(path, &len);
        if (!buf) continue;
        oc_tensor t;
        st = oc_tensor_pb_decode(buf, len, &t, NULL);
        if (!st) {
            tensors++;
            free(t.data);
        } else {
            ck_assert(onnxc_status_message(st)[0]);
        }
        onnxc_status_free(st);
        free(buf);
    }
    closedir(d);
    fprintf(stderr, "check_loader: backend models: %d loaded, %d unsupported; %d input tensors decoded\n",
            loaded, refused, tensors);
    ck_assert_int_gt(loaded, refused);
    ck_assert_int_gt(tensors, 0);
}
END_TEST

/* ---- suite --------------------------------------------------------------- */

/* Opened from a file, big raw_data weights stay in the file mapping when
 * aligned for their type and are copied otherwise; values are right both ways. */
START_TEST(test_weights_in_place_from_file)
{
    enum { N = 3000, TENSORS = 8 };
    float *w = malloc(N * sizeof *w);
    for (int i = 0; i < N; i++) w[i] = (float)i * 0.25f - 7.0f;
    mb_model *mb = mb_new(8, 13);
    int64_t dims[1] = {N};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, dims);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 1, dims);
    char names[TENSORS][16], sums[TENSORS][16], ins[40];
    for (int k = 0; k < TENSORS; k++) {
        /* Names of growing length move the payloads to every alignment. */
        snprintf(names[k], sizeof names[k], "w%.*s", k + 1, "abcdefghij");
        snprintf(sums[k], sizeof sums[k], k == TENSORS - 1 ? "y" : "s%d", k);
        mb_init_f32(mb, names[k], 1, dims, w, false);
        snprintf(ins, sizeof ins, "%s,%s", k ? sums[k - 1] : "x", names[k]);
        mb_node_add(mb, "Add", NULL, ins, sums[k]);
    }
    char path[] = "/tmp/onnxc-inplace-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert(mb_write_file(mb, path));
    mb_free(mb);
    onnxc_model *m = NULL;
    onnxc_status *st = onnxc_model_open_file(path, NULL, &m);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
    int borrowed = 0, copied = 0;
    for (int i = 0; i < m->n_initializers; i++) {
        const oc_tensor *t = &m->initializers[i].tensor;
        ck_assert(memcmp(t->data, w, N * sizeof *w) == 0);
        ck_assert_uint_eq((uintptr_t)t->data % sizeof(float), 0);
        bool in_map = false;
        for (size_t k = 0; k < m->n_maps; k++) {
            const char *base = m->maps[k].addr;
            in_map |= (const char *)t->data >= base && (const char *)t->data < base + m->maps[k].len;
        }
        if (in_map) borrowed++;
        else copied++;
    }
    ck_assert_int_gt(borrowed, 0);
    ck_assert_int_gt(copied, 0);
    onnxc_model_free(m);
    unlink(path);
    free(w);
}
END_TEST

static Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, test_small_model_fields);
    tcase_add_test(tc, test_omitted_optional_names);
    tcase_add_test(tc, test_missing_graph);
    tcase_add_test(tc, test_duplicate_initializer);
    tcase_add_test(tc, test_unnamed_things);
    tcase_add_test(tc, test_ir3_initializers_as_inputs);
    tcase_add_test(tc, test_symbolic_dims);
    tcase_add_test(tc, test_value_info_checks);
    tcase_add_test(tc, test_opset_ai_onnx_domain);
    tcase_add_test(tc, test_opset_out_of_range);
    tcase_add_test(tc, test_opset_missing_or_duplicate);
    tcase_add_test(tc, test_attribute_errors);
    tcase_add_test(tc, test_attribute_type_inferred);
    tcase_add_test(tc, test_attribute_tensors);
    suite_add_tcase(s, tc);

    tc = tcase_create("tensors");
    tcase_add_loop_test(tc, test_raw_and_typed_agree, 0, (int)N_DTYPES);
    tcase_add_test(tc, test_typed_bool_normalized);
    tcase_add_test(tc, test_scalars);
    tcase_add_test(tc, test_zero_element_tensors);
    tcase_add_test(tc, test_tensor_without_data);
    tcase_add_test(tc, test_raw_size_mismatch);
    tcase_add_test(tc, test_typed_count_mismatch);
    tcase_add_test(tc, test_data_in_wrong_field);
    tcase_add_test(tc, test_data_in_two_fields);
    tcase_add_test(tc, test_negative_dim);
    tcase_add_test(tc, test_overflowing_dims);
    tcase_add_test(tc, test_rank_too_high);
    tcase_add_test(tc, test_unsupported_dtypes);
    tcase_add_test(tc, test_tensor_pb_roundtrip);
    tcase_add_test(tc, test_tensor_pb_typed_and_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_every_prefix);
    tcase_add_test(tc, test_random_garbage);
    tcase_add_test(tc, test_mutated_models);
    tcase_add_test(tc, test_bad_wire_format);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_nested_subgraphs);
    tcase_add_test(tc, test_repeated_singular_message);
    tcase_add_test(tc, test_wide_model_is_fast);
    suite_add_tcase(s, tc);

    tc = tcase_create("external");
    tcase_add_test(tc, test_external_good);
    tcase_add_test(tc, test_external_refused_paths);
    tcase_add_test(tc, test_external_bad_ranges);
    tcase_add_test(tc, test_weights_in_place_from_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("conformance");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_backend_models);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(loader_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
