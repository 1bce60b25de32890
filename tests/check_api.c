/* The public API: results of a run, dynamic shapes, overridable
 * initializers, concurrent sessions, and misuse answered with errors. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnxc.h"
#include "model_builder.h"

static onnxc_model *open_mb(mb_model *mb)
{
    onnxc_model *m;
    onnxc_status *st = mb_open(mb, NULL, &m);
    ck_assert_msg(!st, "%s", onnxc_status_message(st));
    return m;
}

static void expect(onnxc_status *st, onnxc_code code, const char *needle)
{
    ck_assert_msg(st, "expected an error containing '%s'", needle);
    ck_assert_msg(onnxc_status_code(st) == code, "code %d: %s", onnxc_status_code(st),
                  onnxc_status_message(st));
    ck_assert_msg(strstr(onnxc_status_message(st), needle), "'%s' not in: %s", needle,
                  onnxc_status_message(st));
    onnxc_status_free(st);
}

#define OK(call)                                                               \
    do {                                                                       \
        onnxc_status *st_ = (call);                                            \
        ck_assert_msg(!st_, "%s: %s", #call, onnxc_status_message(st_));       \
    } while (0)

/* y = relu(x + b) with x: [N, 3] (N symbolic), b: [3] an initializer. */
static onnxc_model *dynamic_model(int ir_version, bool b_is_input)
{
    mb_model *mb = mb_new(ir_version, 13);
    int64_t d[2] = {-1, 3}, bd[1] = {3};
    float b[3] = {-1.0f, 0.5f, 2.0f};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, d);
    if (b_is_input) mb_input(mb, "b", ONNXC_DTYPE_FLOAT, 1, bd);
    mb_init_f32(mb, "b", 1, bd, b, false);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, d);
    mb_node_add(mb, "Add", "add", "x,b", "s");
    mb_node_add(mb, "Relu", "relu", "s", "y");
    return open_mb(mb);
}

static void check_relu_add(const onnxc_tensor_view *v, const float *x, int64_t rows, const float *b)
{
    ck_assert_int_eq(v->dtype, ONNXC_DTYPE_FLOAT);
    ck_assert_int_eq(v->rank, 2);
    ck_assert_int_eq(v->shape[0], rows);
    ck_assert_int_eq(v->shape[1], 3);
    ck_assert_uint_eq(v->count, (size_t)rows * 3);
    const float *y = v->data;
    for (int64_t i = 0; i < rows * 3; i++) {
        float want = x[i] + b[i % 3];
        ck_assert_float_eq(y[i], want > 0 ? want : 0);
    }
}

START_TEST(runs_at_any_batch_size)
{
    onnxc_model *m = dynamic_model(8, false);
    const float b[3] = {-1.0f, 0.5f, 2.0f};
    onnxc_session *s;
    OK(onnxc_session_create(m, NULL, &s));
    for (int64_t rows = 1; rows <= 5; rows += 2) {
        float x[15];
        for (int i = 0; i < 15; i++) x[i] = (float)i * 0.37f - 2.0f;
        int64_t shape[2] = {rows, 3};
        OK(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, shape, 2, x, (size_t)rows * 3 * sizeof(float)));
        OK(onnxc_session_run(s));
        onnxc_tensor_view v;
        OK(onnxc_session_output(s, 0, &v));
        ck_assert_str_eq(v.name, "y");
        check_relu_add(&v, x, rows, b);
        onnxc_tensor_view by_name;
        OK(onnxc_session_output_by_name(s, "y", &by_name));
        ck_assert_ptr_eq(by_name.data, v.data);
    }
    onnxc_session_free(s);
    onnxc_model_free(m);
}
END_TEST

START_TEST(describes_inputs_and_outputs)
{
    onnxc_model *m = dynamic_model(8, false);
    ck_assert_uint_eq(onnxc_model_input_count(m), 1);
    ck_assert_uint_eq(onnxc_model_output_count(m), 1);
    onnxc_tensor_info info;
    OK(onnxc_model_input(m, 0, &info));
    ck_assert_str_eq(info.name, "x");
    ck_assert_int_eq(info.dtype, ONNXC_DTYPE_FLOAT);
    ck_assert_int_eq(info.rank, 2);
    ck_assert_int_eq(info.shape[0], -1);
    ck_assert_int_eq(info.shape[1], 3);
    ck_assert_str_eq(info.dim_names[0], "N");
    OK(onnxc_model_output(m, 0, &info));
    ck_assert_str_eq(info.name, "y");
    expect(onnxc_model_input(m, 1, &info), ONNXC_ERR_ARGUMENT, "out of range");
    expect(onnxc_model_output(m, 7, &info), ONNXC_ERR_ARGUMENT, "out of range");
    expect(onnxc_model_input(NULL, 0, &info), ONNXC_ERR_ARGUMENT, "NULL");
    ck_assert_uint_eq(onnxc_model_input_count(NULL), 0);
    onnxc_model_free(m);
}
END_TEST

START_TEST(overridable_initializer_keeps_default_until_bound)
{
    onnxc_model *m = dynamic_model(3, true);
    ck_assert_uint_eq(onnxc_model_input_count(m), 1);
    onnxc_session *s;
    OK(onnxc_session_create(m, NULL, &s));
    float x[3] = {1, 1, 1};
    int64_t shape[2] = {1, 3}, bshape[1] = {3};
    OK(onnxc_session_bind_index(s, 0, ONNXC_DTYPE_FLOAT, shape, 2, x, sizeof x));
    OK(onnxc_session_run(s));
    onnxc_tensor_view v;
    OK(onnxc_session_output(s, 0, &v));
    const float b_default[3] = {-1.0f, 0.5f, 2.0f};
    check_relu_add(&v, x, 1, b_default);
    const float b_new[3] = {5.0f, -5.0f, 0.25f};
    OK(onnxc_session_bind(s, "b", ONNXC_DTYPE_FLOAT, bshape, 1, b_new, sizeof b_new));
    OK(onnxc_session_run(s));
    OK(onnxc_session_output(s, 0, &v));
    check_relu_add(&v, x, 1, b_new);
    onnxc_session_free(s);
    onnxc_model_free(m);
}
END_TEST

START_TEST(misuse_returns_errors)
{
    onnxc_model *m = dynamic_model(8, false);
    onnxc_session *s;
    onnxc_tensor_view v;
    float x[6] = {0};
    int64_t shape[2] = {2, 3}, bad_cols[2] = {2, 4}, neg[2] = {-2, 3}, zero_batch[2] = {0, 3};
    int64_t rank3[3] = {2, 3, 1};
    expect(onnxc_session_create(NULL, NULL, &s), ONNXC_ERR_ARGUMENT, "model is NULL");
    expect(onnxc_session_create(m, NULL, NULL), ONNXC_ERR_ARGUMENT, "NULL");
    onnxc_session_options bad = {.threads = -3};
    expect(onnxc_session_create(m, &bad, &s), ONNXC_ERR_ARGUMENT, "threads");
    OK(onnxc_session_create(m, NULL, &s));
    expect(onnxc_session_run(s), ONNXC_ERR_STATE, "'x' is not bound");
    expect(onnxc_session_output(s, 0, &v), ONNXC_ERR_STATE, "not run");
    expect(onnxc_session_bind(s, "nope", ONNXC_DTYPE_FLOAT, shape, 2, x, sizeof x),
           ONNXC_ERR_ARGUMENT, "no input named 'nope'");
    expect(onnxc_session_bind(s, "x", ONNXC_DTYPE_INT64, shape, 2, x, sizeof x), ONNXC_ERR_ARGUMENT,
           "float32");
    expect(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, rank3, 3, x, sizeof x), ONNXC_ERR_ARGUMENT,
           "rank 2");
    expect(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, bad_cols, 2, x, sizeof x),
           ONNXC_ERR_ARGUMENT, "shape");
    expect(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, neg, 2, x, sizeof x), ONNXC_ERR_ARGUMENT,
           "shape");
    expect(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, zero_batch, 2, x, 0), ONNXC_ERR_ARGUMENT,
           ">= 1");
    expect(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, shape, 2, x, sizeof x - 4),
           ONNXC_ERR_ARGUMENT, "bytes");
    expect(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, shape, 2, NULL, sizeof x),
           ONNXC_ERR_ARGUMENT, "NULL");
    expect(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, NULL, 2, x, sizeof x), ONNXC_ERR_ARGUMENT,
           "NULL");
    expect(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, shape, 99, x, sizeof x),
           ONNXC_ERR_ARGUMENT, "rank");
    expect(onnxc_session_bind(s, "x", (onnxc_dtype)8, shape, 2, x, sizeof x), ONNXC_ERR_ARGUMENT,
           "string");
    expect(onnxc_session_bind_index(s, 1, ONNXC_DTYPE_FLOAT, shape, 2, x, sizeof x),
           ONNXC_ERR_ARGUMENT, "out of range");
    expect(onnxc_session_bind(NULL, "x", ONNXC_DTYPE_FLOAT, shape, 2, x, sizeof x),
           ONNXC_ERR_ARGUMENT, "NULL");
    expect(onnxc_session_run(NULL), ONNXC_ERR_ARGUMENT, "NULL");
    OK(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, shape, 2, x, sizeof x));
    OK(onnxc_session_run(s));
    expect(onnxc_session_output(s, 1, &v), ONNXC_ERR_ARGUMENT, "out of range");
    expect(onnxc_session_output_by_name(s, "zz", &v), ONNXC_ERR_ARGUMENT, "no output named 'zz'");
    /* A new bind invalidates the outputs of the last run. */
    OK(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, shape, 2, x, sizeof x));
    expect(onnxc_session_output(s, 0, &v), ONNXC_ERR_STATE, "not run");
    onnxc_session_free(s);
    onnxc_session_free(NULL);
    onnxc_model_free(m);
    onnxc_model_free(NULL);
}
END_TEST

START_TEST(symbolic_dims_must_agree_across_inputs)
{
    mb_model *mb = mb_new(8, 13);
    int64_t d[2] = {-1, 3};
    mb_input(mb, "a", ONNXC_DTYPE_FLOAT, 2, d);
    mb_input(mb, "b", ONNXC_DTYPE_FLOAT, 2, d);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 2, d);
    mb_node_add(mb, "Add", "add", "a,b", "y");
    onnxc_model *m = open_mb(mb);
    onnxc_session *s;
    OK(onnxc_session_create(m, NULL, &s));
    float buf[9] = {0};
    int64_t two[2] = {2, 3}, three[2] = {3, 3};
    OK(onnxc_session_bind(s, "a", ONNXC_DTYPE_FLOAT, two, 2, buf, 6 * sizeof(float)));
    OK(onnxc_session_bind(s, "b", ONNXC_DTYPE_FLOAT, three, 2, buf, 9 * sizeof(float)));
    expect(onnxc_session_run(s), ONNXC_ERR_ARGUMENT, "dimension 'N'");
    onnxc_session_free(s);
    onnxc_model_free(m);
}
END_TEST

START_TEST(open_errors_are_reported)
{
    onnxc_model *m = NULL;
    expect(onnxc_model_open_file("/nonexistent/model.onnx", NULL, &m), ONNXC_ERR_IO, "cannot open");
    expect(onnxc_model_open_file("/", NULL, &m), ONNXC_ERR_IO, "not a regular file");
    expect(onnxc_model_open_file(NULL, NULL, &m), ONNXC_ERR_ARGUMENT, "NULL");
    expect(onnxc_model_open_buffer("garbage!", 8, NULL, &m), ONNXC_ERR_PARSE, "from memory");
    expect(onnxc_model_open_buffer(NULL, 8, NULL, &m), ONNXC_ERR_ARGUMENT, "NULL");
    ck_assert_ptr_null(m);
    ck_assert_str_eq(onnxc_status_message(NULL), "ok");
    ck_assert_int_eq(onnxc_status_code(NULL), ONNXC_OK);
    ck_assert_str_eq(onnxc_version(), ONNXC_VERSION_STRING);
}
END_TEST

START_TEST(open_file_works)
{
    char path[] = "/tmp/onnxc-api-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    mb_model *mb = mb_new(8, 13);
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 1, (int64_t[1]){4});
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, 1, (int64_t[1]){4});
    mb_node_add(mb, "Relu", "r", "x", "y");
    ck_assert(mb_write_file(mb, path));
    mb_free(mb);
    onnxc_model *m = NULL;
    OK(onnxc_model_open_file(path, NULL, &m));
    ck_assert_uint_eq(onnxc_model_input_count(m), 1);
    onnxc_model_free(m);
    unlink(path);
}
END_TEST

/* An input whose values decide shapes (ReduceMean-18's axes): the session
 * plans with the bound values and plans again when they change in place. */
START_TEST(shape_deciding_input_replans_when_its_values_change)
{
    mb_model *mb = mb_new(8, 18);
    int64_t xd[2] = {2, 3}, ad[1] = {1};
    mb_input(mb, "x", ONNXC_DTYPE_FLOAT, 2, xd);
    mb_input(mb, "axes", ONNXC_DTYPE_INT64, 1, ad);
    mb_output(mb, "y", ONNXC_DTYPE_FLOAT, -1, NULL);
    mb_node_add(mb, "ReduceMean", "mean", "x,axes", "y");
    onnxc_model *m = open_mb(mb);
    onnxc_session *s;
    OK(onnxc_session_create(m, NULL, &s));
    float x[6] = {1, 2, 3, 4, 5, 6};
    int64_t axes[1] = {1};
    OK(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, xd, 2, x, sizeof x));
    OK(onnxc_session_bind(s, "axes", ONNXC_DTYPE_INT64, ad, 1, axes, sizeof axes));
    OK(onnxc_session_run(s));
    onnxc_tensor_view v;
    OK(onnxc_session_output(s, 0, &v));
    ck_assert_int_eq(v.shape[0], 2);
    ck_assert_int_eq(v.shape[1], 1);
    ck_assert_float_eq(((const float *)v.data)[1], 5.0f);
    axes[0] = 0; /* changed in place, not rebound */
    OK(onnxc_session_run(s));
    OK(onnxc_session_output(s, 0, &v));
    ck_assert_int_eq(v.shape[0], 1);
    ck_assert_int_eq(v.shape[1], 3);
    ck_assert_float_eq(((const float *)v.data)[2], 4.5f);
    onnxc_session_free(s);
    onnxc_model_free(m);
}
END_TEST

/* One model, several sessions in several threads, each checking its results. */
typedef struct worker {
    const onnxc_model *model;
    int id;
    int errors;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    const float b[3] = {-1.0f, 0.5f, 2.0f};
    onnxc_session *s;
    if (onnxc_session_create(w->model, NULL, &s)) {
        w->errors++;
        return NULL;
    }
    for (int iter = 0; iter < 200; iter++) {
        int64_t rows = 1 + (w->id + iter) % 4;
        float x[12];
        for (int i = 0; i < 12; i++) x[i] = (float)(i * (w->id + 1) + iter) * 0.01f - 0.5f;
        int64_t shape[2] = {rows, 3};
        onnxc_tensor_view v;
        if (onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, shape, 2, x, (size_t)rows * 12) ||
            onnxc_session_run(s) || onnxc_session_output(s, 0, &v)) {
            w->errors++;
            break;
        }
        const float *y = v.data;
        for (int64_t i = 0; i < rows * 3; i++) {
            float want = x[i] + b[i % 3];
            if (y[i] != (want > 0 ? want : 0)) w->errors++;
        }
    }
    onnxc_session_free(s);
    return NULL;
}

START_TEST(sessions_share_a_model_across_threads)
{
    onnxc_model *m = dynamic_model(8, false);
    enum { THREADS = 4 };
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){m, i, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].errors, 0);
    }
    onnxc_model_free(m);
}
END_TEST

/* Fixture CNNs (packed and Winograd-transformed weights, fused nodes, a
 * memory plan, Concat in place): sessions of one model, each with its own
 * pool of 2 threads, run concurrently from several threads, and every
 * output equals that of a session run alone (the threads split work over
 * outputs, never over a sum, so the results agree to the bit). Run under
 * ThreadSanitizer in CI. */
typedef struct cnn_worker {
    const onnxc_model *model;
    const float *x;
    size_t x_count;
    const int64_t *shape;
    int rank;
    const float *expected;
    size_t y_count;
    int errors;
} cnn_worker;

static int run_cnn(onnxc_session *s, const cnn_worker *w, float *y)
{
    onnxc_tensor_view v;
    if (onnxc_session_bind_index(s, 0, ONNXC_DTYPE_FLOAT, w->shape, w->rank, w->x,
                                 w->x_count * sizeof *w->x) ||
        onnxc_session_run(s) || onnxc_session_output(s, 0, &v) || v.count != w->y_count)
        return 1;
    memcpy(y, v.data, v.nbytes);
    return 0;
}

static void *cnn_work(void *arg)
{
    cnn_worker *w = arg;
    onnxc_session_options o;
    onnxc_session_options_init(&o);
    o.threads = 2;
    onnxc_session *s;
    float *y = malloc(w->y_count * sizeof *y);
    if (!y || onnxc_session_create(w->model, &o, &s)) {
        w->errors++;
        free(y);
        return NULL;
    }
    for (int iter = 0; iter < 5 && !w->errors; iter++) {
        if (run_cnn(s, w, y)) {
            w->errors++;
            break;
        }
        if (memcmp(y, w->expected, w->y_count * sizeof *y) != 0) w->errors++;
    }
    onnxc_session_free(s);
    free(y);
    return NULL;
}

START_TEST(cnn_sessions_run_concurrently)
{
    static const char *const models[] = {"tv_blocks_opset13", "inception_module_32_opset13"};
    const char *dir = getenv("ONNXC_FIXTURES");
    ck_assert_msg(dir, "ONNXC_FIXTURES (the fixtures folder) is not set");
    for (size_t k = 0; k < sizeof models / sizeof *models; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/model.onnx", dir, models[k]);
        onnxc_model *m;
        OK(onnxc_model_open_file(path, NULL, &m));
        onnxc_tensor_info in, out;
        OK(onnxc_model_input(m, 0, &in));
        OK(onnxc_model_output(m, 0, &out));
        size_t x_count = 1, y_count = 1;
        for (int i = 0; i < in.rank; i++) x_count *= (size_t)in.shape[i];
        for (int i = 0; i < out.rank; i++) y_count *= (size_t)out.shape[i];
        float *x = malloc(x_count * sizeof *x), *expected = malloc(y_count * sizeof *expected);
        ck_assert(x && expected);
        unsigned r = 12345;
        for (size_t i = 0; i < x_count; i++) {
            r = r * 1664525u + 1013904223u;
            x[i] = (float)(r >> 8) / 16777216.0f - 0.5f;
        }
        cnn_worker ref = {m, x, x_count, in.shape, in.rank, NULL, y_count, 0};
        onnxc_session_options o;
        onnxc_session_options_init(&o);
        o.threads = 1;
        onnxc_session *s;
        OK(onnxc_session_create(m, &o, &s));
        ck_assert_int_eq(run_cnn(s, &ref, expected), 0);
        onnxc_session_free(s);
        enum { THREADS = 3 };
        pthread_t t[THREADS];
        cnn_worker w[THREADS];
        for (int i = 0; i < THREADS; i++) {
            w[i] = ref;
            w[i].expected = expected;
            ck_assert_int_eq(pthread_create(&t[i], NULL, cnn_work, &w[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
            pthread_join(t[i], NULL);
            ck_assert_msg(w[i].errors == 0, "%s: thread %d: %d runs differ or failed", models[k], i,
                          w[i].errors);
        }
        free(x);
        free(expected);
        onnxc_model_free(m);
    }
}
END_TEST

/* The load prepares the weights of different nodes on several threads
 * (options.threads): the model computes the same, to the bit, whatever the
 * count, and a negative count is refused. Run under ThreadSanitizer in CI. */
START_TEST(load_threads_prepare_the_same_weights)
{
    static const char *const models[] = {"tv_blocks_opset13", "inception_module_32_opset13",
                                         "bn_net_opset13"};
    const char *dir = getenv("ONNXC_FIXTURES");
    ck_assert_msg(dir, "ONNXC_FIXTURES (the fixtures folder) is not set");
    for (size_t k = 0; k < sizeof models / sizeof *models; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/model.onnx", dir, models[k]);
        float *y[3] = {NULL, NULL, NULL};
        size_t y_count = 0;
        const int load_threads[3] = {1, 3, 0};
        for (int t = 0; t < 3; t++) {
            onnxc_model_options mo;
            onnxc_model_options_init(&mo);
            mo.threads = load_threads[t];
            onnxc_model *m;
            OK(onnxc_model_open_file(path, &mo, &m));
            onnxc_tensor_info in, out;
            OK(onnxc_model_input(m, 0, &in));
            OK(onnxc_model_output(m, 0, &out));
            size_t x_count = 1;
            y_count = 1;
            int64_t shape[8];
            for (int i = 0; i < in.rank; i++) {
                shape[i] = in.shape[i] > 0 ? in.shape[i] : 1;
                x_count *= (size_t)shape[i];
            }
            float *x = malloc(x_count * sizeof *x);
            ck_assert(x);
            unsigned r = 777;
            for (size_t i = 0; i < x_count; i++) {
                r = r * 1664525u + 1013904223u;
                x[i] = (float)(r >> 8) / 16777216.0f - 0.5f;
            }
            onnxc_session *s;
            OK(onnxc_session_create(m, NULL, &s));
            OK(onnxc_session_bind_index(s, 0, ONNXC_DTYPE_FLOAT, shape, in.rank, x,
                                        x_count * sizeof *x));
            OK(onnxc_session_run(s));
            onnxc_tensor_view v;
            OK(onnxc_session_output(s, 0, &v));
            y_count = v.count;
            y[t] = malloc(v.nbytes);
            ck_assert(y[t]);
            memcpy(y[t], v.data, v.nbytes);
            ck_assert_int_eq(out.dtype, ONNXC_DTYPE_FLOAT);
            onnxc_session_free(s);
            onnxc_model_free(m);
            free(x);
        }
        ck_assert_msg(memcmp(y[0], y[1], y_count * sizeof *y[0]) == 0,
                      "%s: loaded on 3 threads, the outputs differ from 1 thread", models[k]);
        ck_assert_msg(memcmp(y[0], y[2], y_count * sizeof *y[0]) == 0,
                      "%s: loaded on one thread per CPU, the outputs differ", models[k]);
        for (int t = 0; t < 3; t++) free(y[t]);
    }
    onnxc_model_options mo;
    onnxc_model_options_init(&mo);
    mo.threads = -1;
    onnxc_model *m = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/model.onnx", dir, models[0]);
    expect(onnxc_model_open_file(path, &mo, &m), ONNXC_ERR_ARGUMENT, "threads is negative");
    ck_assert_ptr_null(m);
}
END_TEST

/* options.profile: every node of the last run with its times and shapes;
 * without it, and before a run, the call says why there is nothing. */
START_TEST(profile_records_the_last_run)
{
    onnxc_model *m = dynamic_model(8, false);
    onnxc_session *plain, *s;
    const onnxc_node_timing *r;
    size_t n;
    OK(onnxc_session_create(m, NULL, &plain));
    onnxc_session_options so;
    onnxc_session_options_init(&so);
    ck_assert_int_eq(so.profile, 0);
    so.profile = 1;
    OK(onnxc_session_create(m, &so, &s));
    float x[15] = {0};
    int64_t two[2] = {2, 3}, five[2] = {5, 3};
    expect(onnxc_session_profile(s, &r, &n), ONNXC_ERR_STATE, "not run");
    expect(onnxc_session_run(s), ONNXC_ERR_STATE, "not bound"); /* a failed run: no nodes */
    OK(onnxc_session_profile(s, &r, &n));
    ck_assert_uint_eq(n, 0);
    OK(onnxc_session_bind(plain, "x", ONNXC_DTYPE_FLOAT, two, 2, x, 6 * sizeof(float)));
    OK(onnxc_session_run(plain));
    expect(onnxc_session_profile(plain, &r, &n), ONNXC_ERR_STATE, "without profiling");
    expect(onnxc_session_profile(NULL, &r, &n), ONNXC_ERR_ARGUMENT, "NULL");
    expect(onnxc_session_profile(s, NULL, &n), ONNXC_ERR_ARGUMENT, "NULL");

    OK(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, two, 2, x, 6 * sizeof(float)));
    OK(onnxc_session_run(s));
    OK(onnxc_session_profile(s, &r, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(r[0].name, "add");
    ck_assert_str_eq(r[0].op_type, "Add");
    ck_assert_uint_eq(r[0].node, 0);
    ck_assert_str_eq(r[1].name, "relu");
    ck_assert_str_eq(r[1].op_type, "Relu");
    ck_assert_uint_eq(r[1].node, 1);
    ck_assert_ptr_null(r[1].fused);
    /* one clock: the second node starts after the first ends */
    ck_assert_uint_ge(r[1].start_ns, r[0].start_ns + r[0].duration_ns);
    ck_assert_uint_eq(r[0].n_inputs, 2);
    ck_assert_uint_eq(r[0].n_outputs, 1);
    ck_assert_str_eq(r[0].inputs[0].name, "x");
    ck_assert_int_eq(r[0].inputs[0].dtype, ONNXC_DTYPE_FLOAT);
    ck_assert_int_eq(r[0].inputs[0].rank, 2);
    ck_assert_int_eq(r[0].inputs[0].shape[0], 2);
    ck_assert_int_eq(r[0].inputs[0].shape[1], 3);
    ck_assert_str_eq(r[0].inputs[1].name, "b");
    ck_assert_int_eq(r[0].inputs[1].rank, 1);
    ck_assert_int_eq(r[0].inputs[1].shape[0], 3);
    ck_assert_str_eq(r[0].outputs[0].name, "s");
    ck_assert_str_eq(r[1].outputs[0].name, "y");

    /* a new batch size: the next run's records have its shapes */
    OK(onnxc_session_bind(s, "x", ONNXC_DTYPE_FLOAT, five, 2, x, sizeof x));
    OK(onnxc_session_run(s));
    OK(onnxc_session_profile(s, &r, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(r[1].outputs[0].shape[0], 5);
    ck_assert_int_eq(r[1].inputs[0].shape[0], 5);
    onnxc_session_free(s);
    onnxc_session_free(plain);
    onnxc_model_free(m);
}
END_TEST

START_TEST(status_helpers)
{
    ck_assert_str_eq(onnxc_code_name(ONNXC_ERR_MODEL), "invalid model");
    ck_assert_str_eq(onnxc_dtype_name(ONNXC_DTYPE_FLOAT), "float32");
    ck_assert_str_eq(onnxc_dtype_name(1234), "unknown");
    ck_assert_uint_eq(onnxc_dtype_size(ONNXC_DTYPE_INT64), 8);
    ck_assert_uint_eq(onnxc_dtype_size(ONNXC_DTYPE_STRING), 0);
    onnxc_status_free(NULL);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, runs_at_any_batch_size);
    tcase_add_test(tc, describes_inputs_and_outputs);
    tcase_add_test(tc, overridable_initializer_keeps_default_until_bound);
    tcase_add_test(tc, misuse_returns_errors);
    tcase_add_test(tc, symbolic_dims_must_agree_across_inputs);
    tcase_add_test(tc, shape_deciding_input_replans_when_its_values_change);
    tcase_add_test(tc, open_errors_are_reported);
    tcase_add_test(tc, open_file_works);
    tcase_add_test(tc, sessions_share_a_model_across_threads);
    tcase_add_test(tc, cnn_sessions_run_concurrently);
    tcase_add_test(tc, load_threads_prepare_the_same_weights);
    tcase_add_test(tc, profile_records_the_last_run);
    tcase_add_test(tc, status_helpers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(api_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
