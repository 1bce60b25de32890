/* SGEMM microbenchmark: this machine's fp32 FMA peak, then oc_gemm on the
 * convolution shapes of VGG-16 and GoogLeNet (as im2col GEMMs at 224x224:
 * M = Cout, N = H*W, K = Cin*kh*kw, weights packed once as at load) and on
 * the fully-connected layers of AlexNet (few-vector paths, reported in GB/s
 * of weights read), at 1 and 2 threads (or --threads N).
 *
 *   sgemm [--isa auto|portable|avx2|avx512] [--threads N] [--set peak,vgg,googlenet,fc,all]
 *         [--time SECONDS] [--no-prepack]
 *
 * Timings are the best of repeated runs (the machine is shared and noisy):
 * compare ratios within one run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/threadpool.h"
#include "core/util.h"
#include "kernels/cpu.h"
#include "kernels/gemm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- peak: independent FMA chains in registers only ---- */

#define PEAK_ITERS 20000000L

/* Twelve independent accumulators in named registers (an array would be
 * kept in memory once an asm statement takes it); the empty asm keeps the
 * compiler from folding the chains. */
#define FMA12(fma, b, c)                                                                       \
    a0 = fma(a0, b, c), a1 = fma(a1, b, c), a2 = fma(a2, b, c), a3 = fma(a3, b, c);          \
    a4 = fma(a4, b, c), a5 = fma(a5, b, c), a6 = fma(a6, b, c), a7 = fma(a7, b, c);          \
    a8 = fma(a8, b, c), a9 = fma(a9, b, c), a10 = fma(a10, b, c), a11 = fma(a11, b, c)
#define KEEP12(r)                                                                              \
    __asm__ volatile("" ::r(a0), r(a1), r(a2), r(a3), r(a4), r(a5), r(a6), r(a7), r(a8),      \
                     r(a9), r(a10), r(a11))
#define SUM12 (((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)))

#ifdef HAVE_X86
__attribute__((target("avx512f"), noinline)) static float peak_avx512(long iters)
{
    __m512 b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-9f);
    __m512 a0 = _mm512_set1_ps(0), a1 = _mm512_set1_ps(1), a2 = _mm512_set1_ps(2),
           a3 = _mm512_set1_ps(3), a4 = _mm512_set1_ps(4), a5 = _mm512_set1_ps(5),
           a6 = _mm512_set1_ps(6), a7 = _mm512_set1_ps(7), a8 = _mm512_set1_ps(8),
           a9 = _mm512_set1_ps(9), a10 = _mm512_set1_ps(10), a11 = _mm512_set1_ps(11);
    for (long n = 0; n < iters; n++) {
        FMA12(_mm512_fmadd_ps, b, c);
        KEEP12("v");
    }
    return _mm512_reduce_add_ps(SUM12);
}

__attribute__((target("avx2,fma"), noinline)) static float peak_avx2(long iters)
{
    __m256 b = _mm256_set1_ps(1.0000001f), c = _mm256_set1_ps(1e-9f);
    __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2),
           a3 = _mm256_set1_ps(3), a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5),
           a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7), a8 = _mm256_set1_ps(8),
           a9 = _mm256_set1_ps(9), a10 = _mm256_set1_ps(10), a11 = _mm256_set1_ps(11);
    for (long n = 0; n < iters; n++) {
        FMA12(_mm256_fmadd_ps, b, c);
        KEEP12("x");
    }
    float r[8];
    _mm256_storeu_ps(r, SUM12);
    return r[0];
}
#endif

/* Portable: 12 chains of 4-float GNU vectors (multiply + add; SSE2 on x86-64). */
typedef float v4 __attribute__((vector_size(16)));
static v4 mul_add(v4 a, v4 b, v4 c) { return a * b + c; }
__attribute__((noinline)) static float peak_portable(long iters)
{
    v4 b = {1.0000001f, 1.0000001f, 1.0000001f, 1.0000001f}, c = {1e-9f, 1e-9f, 1e-9f, 1e-9f};
    v4 a0 = b * 0, a1 = b * 1, a2 = b * 2, a3 = b * 3, a4 = b * 4, a5 = b * 5, a6 = b * 6,
       a7 = b * 7, a8 = b * 8, a9 = b * 9, a10 = b * 10, a11 = b * 11;
    for (long n = 0; n < iters; n++) {
        FMA12(mul_add, b, c);
#ifdef HAVE_X86
        KEEP12("x");
#endif
    }
    return SUM12[0];
}

static volatile float sink;

typedef struct peak_ctx {
    oc_isa isa;
    long iters;
} peak_ctx;

static void peak_unit(void *ctx, size_t begin, size_t end, int thread)
{
    (void)thread;
    const peak_ctx *p = ctx;
    for (size_t i = begin; i < end; i++) {
#ifdef HAVE_X86
        if (p->isa == OC_ISA_AVX512) sink = peak_avx512(p->iters);
        else if (p->isa == OC_ISA_AVX2) sink = peak_avx2(p->iters);
        else
#endif
            sink = peak_portable(p->iters);
    }
}

static double flops_per_iter(oc_isa isa)
{
    return isa == OC_ISA_AVX512 ? 12 * 32.0 : isa == OC_ISA_AVX2 ? 12 * 16.0 : 12 * 8.0;
}

/* GFLOP/s of threads copies of the FMA loop running at once (best of reps
 * short runs). */
static double measure_peak(oc_isa isa, oc_pool *pool, int threads, int reps)
{
    peak_ctx p = {isa, PEAK_ITERS / 20};
    double best = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        double t = now();
        oc_parallel_for(pool, (size_t)threads, 1, peak_unit, &p);
        t = now() - t;
        if (t < best) best = t;
    }
    return flops_per_iter(isa) * (double)p.iters * threads / best / 1e9;
}

/* ---- products ---- */

typedef struct shape {
    const char *name;
    size_t m, n, k;
    int count; /* how many layers of the network have it */
} shape;

static float *random_floats(size_t n, unsigned seed)
{
    float *p = oc_aligned_alloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    unsigned s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

typedef struct bench_opts {
    oc_isa isa;
    double seconds;
    bool prepack;
} bench_opts;

/* Best seconds of one call of d on the pool. */
static double time_gemm(const oc_gemm_desc *d, oc_pool *pool, void *ws, size_t ws_size,
                        double budget)
{
    oc_gemm(d, pool, ws, ws_size); /* warm up */
    double best = 1e30, start = now();
    int reps = 0;
    do {
        double t = now();
        oc_gemm(d, pool, ws, ws_size);
        t = now() - t;
        if (t < best) best = t;
        reps++;
    } while (reps < 3 || (now() - start < budget && reps < 1000));
    return best;
}

typedef struct bench_result {
    double seconds[2];
} bench_result;

/* Times every shape on each pool, then prints the table. The peak used for
 * the percentages is the best of the FMA-loop measurements taken before
 * each shape (a shared machine can slow any single one down). */
static void run_conv_set(const char *title, const shape *shapes, size_t count, oc_pool **pools,
                         const int *threads, int n_threads, double *peak, oc_isa peak_isa,
                         const bench_opts *o)
{
    double gf[64][2] = {{0}}, total_flops = 0, total_time[2] = {0};
    if (count > 64) count = 64;
    for (size_t i = 0; i < count; i++) {
        const shape *s = &shapes[i];
        float *a = random_floats(s->m * s->k, 1), *b = random_floats(s->k * s->n, 2);
        float *bias = random_floats(s->m, 3), *c = random_floats(s->m * s->n, 4);
        oc_gemm_desc d = oc_gemm_desc_make(false, false, s->m, s->n, s->k, a, s->k, b, s->n, c, s->n);
        d.isa = o->isa;
        /* conv's epilogue: bias per row and a ReLU */
        d.ep.x = bias, d.ep.x_rs = 1, d.ep.x_cs = 0, d.ep.beta = 1.0f;
        d.ep.clamp = true, d.ep.lo = 0.0f, d.ep.hi = INFINITY;
        oc_gemm_packed packed;
        float *pa = NULL;
        if (o->prepack) {
            pa = oc_aligned_alloc(oc_gemm_pack_a_size(o->isa, s->m, s->k));
            oc_gemm_pack_a(o->isa, false, s->m, s->k, a, s->k, pa, &packed);
            d.packed_a = &packed;
        }
        double flops = 2.0 * (double)s->m * (double)s->n * (double)s->k;
        for (int t = 0; t < n_threads; t++) {
            double p = measure_peak(peak_isa, pools[t], threads[t], 3);
            if (p > peak[t]) peak[t] = p;
            size_t ws_size = oc_gemm_workspace(s->m, s->n, s->k, threads[t]);
            void *ws = oc_aligned_alloc(ws_size ? ws_size : 1);
            double sec = time_gemm(&d, pools[t], ws, ws_size, o->seconds);
            gf[i][t] = flops / sec * 1e-9;
            total_time[t] += sec * s->count;
            oc_aligned_free(ws);
        }
        total_flops += flops * s->count;
        oc_aligned_free(pa);
        oc_aligned_free(a), oc_aligned_free(b), oc_aligned_free(bias), oc_aligned_free(c);
        fprintf(stderr, ".");
    }
    fprintf(stderr, "\n");
    printf("\n%s: C[M x N] = W[M x K] x cols[K x N]%s, %s kernels\n", title,
           o->prepack ? " (W packed once)" : " (W packed per call)",
           oc_isa_name(oc_isa_resolve(o->isa)));
    printf("%% of peak: against");
    for (int t = 0; t < n_threads; t++) printf(" %.1f GFLOP/s (%dT)", peak[t], threads[t]);
    printf("\n%-22s %5s %6s %5s %7s", "layer", "M", "N", "K", "GFLOP");
    for (int t = 0; t < n_threads; t++) printf(" | %2dT GFLOP/s %%peak", threads[t]);
    printf("\n");
    for (size_t i = 0; i < count; i++) {
        const shape *s = &shapes[i];
        printf("%-22s %5zu %6zu %5zu %7.3f", s->name, s->m, s->n, s->k,
               2e-9 * (double)s->m * (double)s->n * (double)s->k);
        for (int t = 0; t < n_threads; t++)
            printf(" | %15.1f %4.0f%%", gf[i][t], 100.0 * gf[i][t] / peak[t]);
        printf("\n");
    }
    printf("%-22s %5s %6s %5s %7.3f", "all layers", "", "", "", total_flops * 1e-9);
    for (int t = 0; t < n_threads; t++)
        printf(" | %9.1f %4.1fms", total_flops / total_time[t] * 1e-9, total_time[t] * 1e3);
    printf("\n");
    fflush(stdout);
}

static void run_fc_set(oc_pool **pools, const int *threads, int n_threads, const bench_opts *o)
{
    static const shape fcs[] = {
        {"alexnet fc6", 1, 4096, 9216, 1}, {"alexnet fc7", 1, 4096, 4096, 1},
        {"alexnet fc8 (10)", 1, 10, 4096, 1}, {"alexnet fc8 (1000)", 1, 1000, 4096, 1},
        {"vgg16 fc6", 1, 4096, 25088, 1},
    };
    static const size_t batches[] = {1, 4};
    printf("\nFully-connected layers: Y[B x N] = X[B x K] W^T (+bias), weights %s, %s"
           " kernels; GB/s of weights\n", o->prepack ? "packed once" : "read in place",
           oc_isa_name(oc_isa_resolve(o->isa)));
    printf("%-20s %2s %5s %6s %7s %-6s", "layer", "B", "N", "K", "MB", "layout");
    for (int t = 0; t < n_threads; t++) printf(" | %2dT    ms   GB/s", threads[t]);
    printf("\n");
    for (size_t i = 0; i < sizeof fcs / sizeof *fcs; i++)
        for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++)
            for (int trans = 1; trans >= 0; trans--) {
                const shape *s = &fcs[i];
                size_t m = batches[bi];
                if (s->n < 100 && (m != 1 || !trans)) continue;
                float *x = random_floats(m * s->k, 5), *w = random_floats(s->n * s->k, 6);
                float *bias = random_floats(s->n, 7), *y = random_floats(m * s->n, 8);
                oc_gemm_desc d = oc_gemm_desc_make(false, trans, m, s->n, s->k, x, s->k, w,
                                                   trans ? s->k : s->n, y, s->n);
                d.isa = o->isa;
                d.ep.x = bias, d.ep.x_rs = 0, d.ep.x_cs = 1, d.ep.beta = 1.0f;
                oc_gemm_packed packed;
                float *pw = NULL;
                if (o->prepack) {
                    pw = oc_aligned_alloc(oc_gemm_pack_b_size(o->isa, s->n, s->k));
                    oc_gemm_pack_b(o->isa, trans, s->k, s->n, w, trans ? s->k : s->n, pw, &packed);
                    d.packed_b = &packed;
                }
                double mb = (double)s->n * (double)s->k * 4 / 1e6;
                printf("%-20s %2zu %5zu %6zu %7.1f %-6s", s->name, m, s->n, s->k, mb,
                       trans ? "[N,K]" : "[K,N]");
                for (int t = 0; t < n_threads; t++) {
                    size_t ws_size = oc_gemm_workspace(m, s->n, s->k, threads[t]);
                    void *ws = oc_aligned_alloc(ws_size ? ws_size : 1);
                    double sec = time_gemm(&d, pools[t], ws, ws_size, o->seconds);
                    printf(" | %8.2f %6.1f", sec * 1e3, mb / 1e3 / sec);
                    oc_aligned_free(ws);
                }
                printf("\n");
                fflush(stdout);
                oc_aligned_free(pw);
                oc_aligned_free(x), oc_aligned_free(w), oc_aligned_free(bias), oc_aligned_free(y);
            }
}

#define CONV(name, cout, cin, kk, hw, count) {name, cout, (size_t)(hw) * (hw), (size_t)(cin) * (kk) * (kk), count}

static const shape vgg16[] = {
    CONV("conv1_1", 64, 3, 3, 224, 1),    CONV("conv1_2", 64, 64, 3, 224, 1),
    CONV("conv2_1", 128, 64, 3, 112, 1),  CONV("conv2_2", 128, 128, 3, 112, 1),
    CONV("conv3_1", 256, 128, 3, 56, 1),  CONV("conv3_2/3", 256, 256, 3, 56, 2),
    CONV("conv4_1", 512, 256, 3, 28, 1),  CONV("conv4_2/3", 512, 512, 3, 28, 2),
    CONV("conv5_1/2/3", 512, 512, 3, 14, 3),
};

/* torchvision's GoogLeNet: the stem, then per inception module its 1x1,
 * 3x3-reduce, 3x3, 5x5-reduce, "5x5" (a 3x3 in torchvision) and pool-proj convs. */
typedef struct inception {
    const char *name;
    int in, c1, r3, c3, r5, c5, pp, hw;
} inception;
static const inception incs[] = {
    {"3a", 192, 64, 96, 128, 16, 32, 32, 28},     {"3b", 256, 128, 128, 192, 32, 96, 64, 28},
    {"4a", 480, 192, 96, 208, 16, 48, 64, 14},    {"4b", 512, 160, 112, 224, 24, 64, 64, 14},
    {"4c", 512, 128, 128, 256, 24, 64, 64, 14},   {"4d", 512, 112, 144, 288, 32, 64, 64, 14},
    {"4e", 528, 256, 160, 320, 32, 128, 128, 14}, {"5a", 832, 256, 160, 320, 32, 128, 128, 7},
    {"5b", 832, 384, 192, 384, 48, 128, 128, 7},
};

static size_t googlenet_shapes(shape *out, char names[][32])
{
    size_t n = 0;
    out[n++] = (shape)CONV("conv1 7x7/2", 64, 3, 7, 112, 1);
    out[n++] = (shape)CONV("conv2 1x1", 64, 64, 1, 56, 1);
    out[n++] = (shape)CONV("conv3 3x3", 192, 64, 3, 56, 1);
    for (size_t i = 0; i < sizeof incs / sizeof *incs; i++) {
        const inception *c = &incs[i];
        const struct {
            const char *what;
            int cout, cin, kk;
        } convs[] = {{"1x1", c->c1, c->in, 1},  {"3x3red", c->r3, c->in, 1},
                     {"3x3", c->c3, c->r3, 3},  {"5x5red", c->r5, c->in, 1},
                     {"5x5(3x3)", c->c5, c->r5, 3}, {"pool", c->pp, c->in, 1}};
        for (size_t j = 0; j < 6; j++) {
            snprintf(names[n], 32, "%s %s", c->name, convs[j].what);
            out[n] = (shape){names[n], (size_t)convs[j].cout, (size_t)c->hw * (size_t)c->hw,
                             (size_t)convs[j].cin * (size_t)convs[j].kk * (size_t)convs[j].kk, 1};
            n++;
        }
    }
    return n;
}

static void usage(void)
{
    fprintf(stderr, "usage: sgemm [--isa auto|portable|avx2|avx512] [--threads N] "
                    "[--set peak,vgg,googlenet,fc,all] [--time SECONDS] [--no-prepack]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bench_opts o = {OC_ISA_AUTO, 0.3, true};
    const char *set = "all";
    int single_threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
            const char *v = argv[++i];
            o.isa = !strcmp(v, "portable") ? OC_ISA_PORTABLE
                    : !strcmp(v, "avx2")   ? OC_ISA_AVX2
                    : !strcmp(v, "avx512") ? OC_ISA_AVX512
                                           : OC_ISA_AUTO;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            single_threads = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--set") && i + 1 < argc) {
            set = argv[++i];
        } else if (!strcmp(argv[i], "--time") && i + 1 < argc) {
            o.seconds = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--no-prepack")) {
            o.prepack = false;
        } else {
            usage();
        }
    }
    bool all = strstr(set, "all") != NULL;
    int threads[2] = {1, 2}, n_threads = 2;
    if (single_threads > 0) threads[0] = single_threads, n_threads = 1;
    oc_pool *pools[2] = {NULL, NULL};
    for (int t = 0; t < n_threads; t++)
        if (oc_pool_create(threads[t], &pools[t])) {
            fprintf(stderr, "cannot create a pool of %d threads\n", threads[t]);
            return 1;
        }
    for (int t = 0; t < n_threads; t++) oc_pool_run_begin(pools[t]);

    oc_isa isa = oc_isa_resolve(o.isa);
    printf("CPU kernels: best %s, benchmarking %s; %d online CPUs\n", oc_isa_name(oc_isa_best()),
           oc_isa_name(isa), oc_cpu_count());
    double peak[2] = {0, 0};
    printf("\nfp32 FMA peak (register-only FMA loop), GFLOP/s:\n");
    printf("%-10s", "ISA");
    for (int t = 0; t < n_threads; t++) printf(" %6dT", threads[t]);
    printf("\n");
    for (int i = 0; i < OC_ISA_COUNT; i++) {
        if (!oc_isa_supported((oc_isa)i) && i != OC_ISA_PORTABLE) continue;
        if (!all && !strstr(set, "peak") && i != (int)isa) continue;
        printf("%-10s", oc_isa_name((oc_isa)i));
        for (int t = 0; t < n_threads; t++) {
            double g = measure_peak((oc_isa)i, pools[t], threads[t], 15);
            printf(" %7.1f", g);
            if (i == (int)isa) peak[t] = g;
        }
        printf("\n");
    }
    if (isa == OC_ISA_PORTABLE)
        for (int t = 0; t < n_threads; t++)
            peak[t] = oc_isa_supported(OC_ISA_AVX2) ? measure_peak(OC_ISA_AVX2, pools[t], threads[t], 15)
                                                     : peak[t];
    oc_isa peak_isa = isa == OC_ISA_PORTABLE && oc_isa_supported(OC_ISA_AVX2) ? OC_ISA_AVX2 : isa;
    printf("(%% of peak below: against the %s row, re-measured before every shape%s)\n",
           oc_isa_name(peak_isa),
           isa == OC_ISA_PORTABLE ? "; the portable kernels against the AVX2 FMA peak" : "");

    if (all || strstr(set, "vgg"))
        run_conv_set("VGG-16 convolutions at 224x224", vgg16, sizeof vgg16 / sizeof *vgg16, pools,
                     threads, n_threads, peak, peak_isa, &o);
    if (all || strstr(set, "googlenet")) {
        shape g[64];
        char names[64][32];
        size_t n = googlenet_shapes(g, names);
        run_conv_set("GoogLeNet convolutions at 224x224", g, n, pools, threads, n_threads, peak,
                     peak_isa, &o);
    }
    if (all || strstr(set, "fc")) run_fc_set(pools, threads, n_threads, &o);

    for (int t = 0; t < n_threads; t++) {
        oc_pool_run_end(pools[t]);
        oc_pool_free(pools[t]);
    }
    return 0;
}
