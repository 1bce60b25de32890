/* Convolution microbenchmark: every method oc_conv_f32 has (the GEMM paths,
 * Winograd F(2,3) and F(4,3)) on the conv layers of the benchmark models,
 * against the one the library picks at load, as milliseconds and as
 * GFLOP/s of the direct method's multiply-adds.
 *
 *   convbench [--threads N] [--time SECONDS] [--only SUBSTRING] [--cold] [--method M]
 *
 * --method M times only one method: 0 (the GEMM paths), 1 (direct), 2 or 4 (Winograd),
 * -1 (the load-time choice).
 * --cold evicts the caches before every timed call (by reading 64 MB), as
 * a network's other layers do between two runs of a layer.
 *
 * Timings are the best of repeated calls (the machine is shared and noisy):
 * compare them within one run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/threadpool.h"
#include "core/util.h"
#include "kernels/conv.h"
#include "kernels/winograd.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct layer {
    const char *name;
    int batch, cin, cout, hw, k, stride, pad;
} layer;

static const layer layers[] = {
    {"alexnet conv1 11x11/4", 1, 3, 64, 224, 11, 4, 2},
    {"alexnet conv2 5x5", 1, 64, 192, 27, 5, 1, 2},
    {"alexnet conv3", 1, 192, 384, 13, 3, 1, 1},
    {"alexnet conv4", 1, 384, 256, 13, 3, 1, 1},
    {"alexnet conv5", 1, 256, 256, 13, 3, 1, 1},
    {"alexnet-b4 conv2 5x5", 4, 64, 192, 27, 5, 1, 2},
    {"alexnet-b4 conv4", 4, 384, 256, 13, 3, 1, 1},
    {"googlenet conv1 7x7/2", 1, 3, 64, 224, 7, 2, 3},
    {"googlenet conv3", 1, 64, 192, 56, 3, 1, 1},
    {"googlenet 3b 3x3", 1, 128, 192, 28, 3, 1, 1},
    {"googlenet 3a 3x3", 1, 96, 128, 28, 3, 1, 1},
    {"googlenet 4b 3x3", 1, 112, 224, 14, 3, 1, 1},
    {"googlenet 4e 3x3", 1, 160, 320, 14, 3, 1, 1},
    {"googlenet 5b 3x3", 1, 192, 384, 7, 3, 1, 1},
    {"googlenet 4e 1x1", 1, 528, 256, 14, 1, 1, 0},
    {"googlenet 5b 1x1", 1, 832, 384, 7, 1, 1, 0},
    {"resnet18 layer1", 1, 64, 64, 56, 3, 1, 1},
    {"resnet18 layer2", 1, 128, 128, 28, 3, 1, 1},
    {"resnet18 layer3", 1, 256, 256, 14, 3, 1, 1},
    {"resnet18 layer4", 1, 512, 512, 7, 3, 1, 1},
    {"resnet18 layer2.0 3x3/2", 1, 64, 128, 56, 3, 2, 1},
    {"resnet18 layer3.0 3x3/2", 1, 128, 256, 28, 3, 2, 1},
    {"resnet18 layer4.0 3x3/2", 1, 256, 512, 14, 3, 2, 1},
    {"squeezenet conv1 3x3/2", 1, 3, 64, 224, 3, 2, 0},
    {"squeezenet fire2 e3x3", 1, 16, 64, 55, 3, 1, 1},
    {"squeezenet fire4 e3x3", 1, 32, 128, 27, 3, 1, 1},
    {"squeezenet fire9 e3x3", 1, 64, 256, 13, 3, 1, 1},
    {"squeezenet conv10 1x1", 1, 512, 1000, 13, 1, 1, 0},
    {"vgg16 conv1_2", 1, 64, 64, 224, 3, 1, 1},
    {"vgg16 conv3_2", 1, 256, 256, 56, 3, 1, 1},
    {"vgg16 conv5_1", 1, 512, 512, 14, 3, 1, 1},
    {"inception 5x5", 1, 32, 32, 128, 5, 1, 2},
};

static oc_conv_geom geom_of(const layer *l)
{
    oc_conv_geom g = {l->batch, l->cin, l->cout, 1, {oc_window_unit(), oc_window_unit(), oc_window_unit()}};
    for (int i = 1; i < 3; i++) {
        oc_window_dim *d = &g.dim[i];
        d->in = l->hw;
        d->kernel = l->k;
        d->stride = l->stride;
        d->pad_begin = d->pad_end = l->pad;
        d->out = (l->hw + 2 * l->pad - l->k) / l->stride + 1;
    }
    return g;
}

/* Model-owned buffers for the prepared weights, freed together. */
typedef struct owner {
    void *p[4096];
    int n;
} owner;

static void *alloc_owned(void *o, size_t bytes)
{
    owner *w = o;
    if (w->n == 4096) return NULL;
    void *p = oc_aligned_alloc(bytes);
    if (p) w->p[w->n++] = p;
    return p;
}

static void free_owned(owner *w)
{
    for (int i = 0; i < w->n; i++) oc_aligned_free(w->p[i]);
    w->n = 0;
}

static float *random_floats(size_t n, unsigned seed)
{
    float *p = oc_aligned_alloc((n ? n : 1) * sizeof *p);
    unsigned s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

static bool cold;
static float *evictor;
#define EVICT_FLOATS ((size_t)16 << 20)
static volatile float evict_sink;

static void evict_caches(void)
{
    float s = 0.0f;
    for (size_t i = 0; i < EVICT_FLOATS; i += 16) s += evictor[i];
    evict_sink = s;
}

/* Best seconds of one convolution with pw (NULL: no prepared weights). */
static double time_conv(const oc_conv_geom *g, const oc_conv_weights *pw, const float *x,
                        const float *w, const float *b, float *y, oc_pool *pool, int threads,
                        double budget)
{
    size_t ws_size;
    if (!oc_conv_f32_workspace(g, pw, threads, &ws_size)) return NAN;
    void *ws = oc_aligned_alloc(ws_size ? ws_size : 1);
    oc_conv_act relu = {0.0f, INFINITY};
    oc_conv_f32(g, pw, x, w, b, NULL, relu, y, ws, ws_size, pool);
    double best = 1e30, start = now();
    int reps = 0;
    do {
        if (cold) evict_caches();
        double t = now();
        oc_conv_f32(g, pw, x, w, b, NULL, relu, y, ws, ws_size, pool);
        t = now() - t;
        if (t < best) best = t;
        reps++;
    } while (reps < 3 || (now() - start < budget && reps < 2000));
    oc_aligned_free(ws);
    return best;
}

int main(int argc, char **argv)
{
    int threads = 1;
    double seconds = 0.3;
    const char *only = NULL;
    int method = -2; /* all */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--time") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--cold")) cold = true;
        else if (!strcmp(argv[i], "--method") && i + 1 < argc) method = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: convbench [--threads N] [--time SECONDS] [--only SUBSTRING] [--cold] [--method M]\n");
            return 2;
        }
    }
    if (cold) {
        evictor = random_floats(EVICT_FLOATS, 9);
        if (!evictor) return 1;
    }
    oc_pool *pool = NULL;
    onnxc_status *st = oc_pool_create(threads, &pool);
    if (st) {
        fprintf(stderr, "convbench: %s\n", onnxc_status_message(st));
        return 1;
    }
    printf("%d thread(s)%s; ms (GFLOP/s of the direct method's multiply-adds); auto = the load-time choice\n",
           threads, cold ? ", caches evicted before each call" : "");
    printf("%-26s %7s | %16s %16s %16s %16s %16s | %s\n", "layer", "GFLOP", "gemm", "direct",
           "wino F(2,3)", "wino F(4,3)", "auto", "auto is");
    for (size_t i = 0; i < sizeof layers / sizeof *layers; i++) {
        const layer *l = &layers[i];
        if (only && !strstr(l->name, only)) continue;
        oc_conv_geom g = geom_of(l);
        size_t nx = (size_t)l->batch * l->cin * l->hw * l->hw;
        size_t nw = (size_t)l->cout * l->cin * l->k * l->k;
        size_t ny = (size_t)l->batch * l->cout * g.dim[1].out * g.dim[2].out;
        float *x = random_floats(nx, 1), *w = random_floats(nw, 2), *b = random_floats(l->cout, 3);
        float *y = random_floats(ny, 4);
        double flops = 2.0 * (double)ny * l->cin * l->k * l->k;
        printf("%-26s %7.3f |", l->name, flops * 1e-9);
        const int methods[] = {0, 1, 2, 4, -1};
        for (int mi = 0; mi < 5; mi++) {
            if (method != -2 && methods[mi] != method) {
                printf(" %16s", "");
                continue;
            }
            owner o = {.n = 0};
            oc_conv_weights pw;
            bool ok = methods[mi] >= 0
                          ? oc_conv_prepare_method(&g, methods[mi], w, alloc_owned, &o, &pw)
                          : oc_conv_prepare_weights(&g, true, w, alloc_owned, &o, &pw);
            bool got = methods[mi] == 1 ? pw.direct != NULL : pw.winograd_m == methods[mi];
            if (!ok || (methods[mi] > 0 && !got)) {
                printf(" %16s", "-");
            } else {
                double t = time_conv(&g, &pw, x, w, b, y, pool, threads, seconds);
                printf(" %7.3f (%6.1f)", t * 1e3, flops / t * 1e-9);
                if (methods[mi] < 0)
                    printf(" | %s%s", pw.winograd_m ? "winograd F(" : pw.direct ? "direct" : "gemm",
                           pw.winograd_m == 2 ? "2,3)" : pw.winograd_m == 4 ? "4,3)" :
                           pw.winograd_m == 6 ? "6,3)" : ""),
                        pw.s2d ? printf(" after space-to-depth %d", pw.s2d) : 0;
            }
            free_owned(&o);
        }
        printf("\n");
        fflush(stdout);
        oc_aligned_free(x), oc_aligned_free(w), oc_aligned_free(b), oc_aligned_free(y);
    }
    oc_pool_free(pool);
    oc_aligned_free(evictor);
    return 0;
}
