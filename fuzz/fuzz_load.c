/* libFuzzer target: onnxc_model_open_buffer on the input bytes and, when the
 * model loads, one run on seeded inputs, all under small memory limits so
 * that a hostile size is an error rather than a fuzzer out-of-memory. Only
 * the public API is used. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnxc.h"

/* Small enough that libFuzzer's own memory limit is never the one hit. */
#define FUZZ_MAX_BYTES ((uint64_t)64 << 20)
#define FUZZ_MAX_ELEMENTS ((uint64_t)4 << 20)
/* About a second of the instrumented kernels (coverage, ASan and UBSan make
 * them some 30 times slower than a release build). */
#define FUZZ_MAX_OPS ((uint64_t)1 << 28)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* splitmix64, seeded from the input so a crash reproduces from its file. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Values of every kind a model might meet: small integers (valid indices,
 * axes, shapes), 0, negatives, and for floats also NaN and infinities. */
static void fill(onnxc_dtype dtype, uint8_t *p, size_t count, size_t esize, uint64_t *state)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t r = next_random(state);
        int64_t small = (int64_t)(r % 7) - 2;
        switch (dtype) {
        case ONNXC_DTYPE_FLOAT: {
            float v = (r & 0xff) == 0 ? __builtin_nanf("") : (float)((int64_t)(r >> 40) - (1 << 23)) / (1 << 20);
            memcpy(p + i * esize, &v, sizeof v);
            break;
        }
        case ONNXC_DTYPE_DOUBLE: {
            double v = (r & 0xff) == 1 ? __builtin_inf() : (double)small / 3;
            memcpy(p + i * esize, &v, sizeof v);
            break;
        }
        case ONNXC_DTYPE_BOOL: p[i] = (uint8_t)(r & 1); break;
        default: /* integers and float16 bits: little-endian small values */
            for (size_t b = 0; b < esize; b++) p[i * esize + b] = (uint8_t)((uint64_t)small >> (8 * b));
        }
    }
}

/* Binds input i with its declared shape (symbolic dims 1 or 2); false when
 * it cannot be generated (undeclared, too big). */
static int bind_input(onnxc_session *s, const onnxc_model *m, size_t i, uint64_t *state, void **buf)
{
    onnxc_tensor_info info;
    onnxc_status *st = onnxc_model_input(m, i, &info);
    if (st) {
        onnxc_status_free(st);
        return 0;
    }
    size_t esize = onnxc_dtype_size(info.dtype);
    if (esize == 0 || info.rank < 0 || info.rank > 8) return 0;
    int64_t shape[8];
    uint64_t count = 1;
    for (int d = 0; d < info.rank; d++) {
        shape[d] = info.shape[d] >= 0 ? info.shape[d] : 1 + (int64_t)(next_random(state) & 1);
        if (shape[d] != 0 && count > FUZZ_MAX_ELEMENTS / (uint64_t)shape[d]) return 0;
        count *= (uint64_t)shape[d];
    }
    if (count > FUZZ_MAX_ELEMENTS) return 0;
    *buf = malloc(count * esize + 1);
    if (!*buf) return 0;
    fill(info.dtype, *buf, (size_t)count, esize, state);
    st = onnxc_session_bind_index(s, i, info.dtype, shape, info.rank, *buf, (size_t)count * esize);
    onnxc_status_free(st);
    return st == NULL;
}

/* Reads every output byte, so a view past its buffer is caught. */
static void touch_outputs(onnxc_session *s, const onnxc_model *m)
{
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < onnxc_model_output_count(m); i++) {
        onnxc_tensor_view v;
        onnxc_status *st = onnxc_session_output(s, i, &v);
        if (st) {
            onnxc_status_free(st);
            continue;
        }
        const uint8_t *p = v.data;
        for (size_t b = 0; b < v.nbytes; b++) sink ^= p[b];
    }
    (void)sink;
}

static void run_once(const onnxc_model *m, uint64_t seed)
{
    onnxc_session_options so;
    onnxc_session_options_init(&so);
    so.threads = 1 + (int)(seed & 1); /* also the pool's split paths */
    so.max_bytes = FUZZ_MAX_BYTES;
    so.max_ops = FUZZ_MAX_OPS;
    onnxc_session *s = NULL;
    onnxc_status *st = onnxc_session_create(m, &so, &s);
    if (st) {
        onnxc_status_free(st);
        return;
    }
    size_t n = onnxc_model_input_count(m);
    void **bufs = calloc(n + 1, sizeof *bufs);
    int all_bound = bufs != NULL;
    uint64_t state = seed;
    for (size_t i = 0; i < n && all_bound; i++) all_bound = bind_input(s, m, i, &state, &bufs[i]);
    if (all_bound) {
        st = onnxc_session_run(s);
        if (!st) touch_outputs(s, m);
        onnxc_status_free(st);
    }
    onnxc_session_free(s);
    for (size_t i = 0; bufs && i < n; i++) free(bufs[i]);
    free(bufs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    onnxc_model_options mo;
    onnxc_model_options_init(&mo);
    mo.max_bytes = FUZZ_MAX_BYTES;
    mo.max_elements = FUZZ_MAX_ELEMENTS;
    mo.max_ops = FUZZ_MAX_OPS;
    mo.optimize = size % 3 != 0; /* both load paths */
    onnxc_model *m = NULL;
    onnxc_status *st = onnxc_model_open_buffer(data, size, &mo, &m);
    if (st) {
        /* Every error carries a message. */
        const char *msg = onnxc_status_message(st);
        if (!msg || !msg[0]) abort();
        onnxc_status_free(st);
        return 0;
    }
    uint64_t seed = 0x5eed;
    for (size_t i = 0; i < size; i += 97) seed = seed * 31 + data[i];
    run_once(m, seed);
    onnxc_model_free(m);
    return 0;
}
