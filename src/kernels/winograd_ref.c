/* Reference Winograd: the transform matrices of F(2x2, 3x3) (points 0, +-1,
 * infinity), F(4x4, 3x3) (0, +-1, +-2, infinity) and F(6x6, 3x3) (0, +-1,
 * +-2, +-1/2, infinity) applied as plain matrix products in double. */
#include "winograd.h"

static const double bt2[4][4] = {
    {1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1},
};
static const double g2[4][3] = {
    {1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1},
};
static const double at2[2][4] = {
    {1, 1, 1, 0}, {0, 1, -1, -1},
};

static const double bt4[6][6] = {
    {4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
    {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1},
};
static const double g4[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};
static const double at4[4][6] = {
    {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1},
};

static const double bt6[8][8] = {
    {1, 0, -21.0 / 4, 0, 21.0 / 4, 0, -1, 0},
    {0, 1, 1, -17.0 / 4, -17.0 / 4, 1, 1, 0},
    {0, -1, 1, 17.0 / 4, -17.0 / 4, -1, 1, 0},
    {0, 1.0 / 2, 1.0 / 4, -5.0 / 2, -5.0 / 4, 2, 1, 0},
    {0, -1.0 / 2, 1.0 / 4, 5.0 / 2, -5.0 / 4, -2, 1, 0},
    {0, 2, 4, -5.0 / 2, -5, 1.0 / 2, 1, 0},
    {0, -2, 4, 5.0 / 2, -5, -1.0 / 2, 1, 0},
    {0, -1, 0, 21.0 / 4, 0, -21.0 / 4, 0, 1},
};
static const double g6[8][3] = {
    {1, 0, 0},
    {-2.0 / 9, -2.0 / 9, -2.0 / 9},
    {-2.0 / 9, 2.0 / 9, -2.0 / 9},
    {1.0 / 90, 1.0 / 45, 2.0 / 45},
    {1.0 / 90, -1.0 / 45, 2.0 / 45},
    {32.0 / 45, 16.0 / 45, 8.0 / 45},
    {32.0 / 45, -16.0 / 45, 8.0 / 45},
    {0, 0, 1},
};
static const double at6[6][8] = {
    {1, 1, 1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, 1.0 / 2, -1.0 / 2, 0},
    {0, 1, 1, 4, 4, 1.0 / 4, 1.0 / 4, 0},
    {0, 1, -1, 8, -8, 1.0 / 8, -1.0 / 8, 0},
    {0, 1, 1, 16, 16, 1.0 / 16, 1.0 / 16, 0},
    {0, 1, -1, 32, -32, 1.0 / 32, -1.0 / 32, 1},
};

/* out (r x r) = L (r x n) * in (n x n) * L^T, all row-major; L has row length n. */
static void sandwich(const double *l, int r, int n, const double *in, double *out)
{
    double t[8 * 8];
    for (int i = 0; i < r; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int q = 0; q < n; q++) s += l[i * n + q] * in[q * n + j];
            t[i * n + j] = s;
        }
    for (int i = 0; i < r; i++)
        for (int j = 0; j < r; j++) {
            double s = 0;
            for (int q = 0; q < n; q++) s += t[i * n + q] * l[j * n + q];
            out[i * r + j] = s;
        }
}

void oc_winograd_input_ref(int m, const double *d, double *v)
{
    if (m == 2)
        sandwich(&bt2[0][0], 4, 4, d, v);
    else if (m == 4)
        sandwich(&bt4[0][0], 6, 6, d, v);
    else
        sandwich(&bt6[0][0], 8, 8, d, v);
}

void oc_winograd_output_ref(int m, const double *v, double *y)
{
    /* A^T is m x alpha: y = A^T v A, i.e. out (m x m) from an alpha x alpha input. */
    int a = m + 2;
    const double *at = m == 2 ? &at2[0][0] : m == 4 ? &at4[0][0] : &at6[0][0];
    double t[6 * 8];
    for (int i = 0; i < m; i++)
        for (int j = 0; j < a; j++) {
            double s = 0;
            for (int q = 0; q < a; q++) s += at[i * a + q] * v[q * a + j];
            t[i * a + j] = s;
        }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            double s = 0;
            for (int q = 0; q < a; q++) s += t[i * a + q] * at[j * a + q];
            y[i * m + j] = s;
        }
}

const double *oc_winograd_g(int m)
{
    return m == 2 ? &g2[0][0] : m == 4 ? &g4[0][0] : &g6[0][0];
}

void oc_winograd_kernel_ref(int m, const double *g, double *u)
{
    int a = m + 2;
    const double *gm = m == 2 ? &g2[0][0] : m == 4 ? &g4[0][0] : &g6[0][0];
    double t[8 * 3];
    for (int i = 0; i < a; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int q = 0; q < 3; q++) s += gm[i * 3 + q] * g[q * 3 + j];
            t[i * 3 + j] = s;
        }
    for (int i = 0; i < a; i++)
        for (int j = 0; j < a; j++) {
            double s = 0;
            for (int q = 0; q < 3; q++) s += t[i * 3 + q] * gm[j * 3 + q];
            u[i * a + j] = s;
        }
}

void oc_winograd_conv_ref(const oc_conv_geom *g, int m, const float *x, const float *w,
                          const float *bias, float *y)
{
    const oc_window_dim *dh = &g->dim[1], *dw = &g->dim[2];
    int a = m + 2, p = a * a;
    int64_t c_in = g->in_channels, k_out = g->out_channels;
    int64_t h = dh->in, wd = dw->in, ho = dh->out, wo = dw->out;
    int64_t kh = dh->kernel, kw = dw->kernel;
    for (int64_t n = 0; n < g->batch; n++)
    for (int64_t k = 0; k < k_out; k++)
    for (int64_t ty = 0; ty < ho; ty += m)
    for (int64_t tx = 0; tx < wo; tx += m) {
        double acc[64] = {0}, out[36];
        for (int64_t c = 0; c < c_in; c++)
        for (int64_t r0 = 0; r0 < kh; r0 += 3)
        for (int64_t c0 = 0; c0 < kw; c0 += 3) {
            /* The 3x3 piece at (r0, c0) of the kernel reads the input shifted by it. */
            double d[64], v[64], gk[9], u[64];
            const float *xc = x + (n * c_in + c) * h * wd;
            for (int i = 0; i < a; i++)
                for (int j = 0; j < a; j++) {
                    int64_t iy = ty + r0 + i - dh->pad_begin, ix = tx + c0 + j - dw->pad_begin;
                    d[i * a + j] = iy >= 0 && iy < h && ix >= 0 && ix < wd ? xc[iy * wd + ix] : 0;
                }
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    gk[i * 3 + j] = r0 + i < kh && c0 + j < kw
                                        ? w[((k * c_in + c) * kh + r0 + i) * kw + c0 + j]
                                        : 0.0;
            oc_winograd_input_ref(m, d, v);
            oc_winograd_kernel_ref(m, gk, u);
            for (int xi = 0; xi < p; xi++) acc[xi] += u[xi] * v[xi];
        }
        oc_winograd_output_ref(m, acc, out);
        for (int i = 0; i < m && ty + i < ho; i++)
            for (int j = 0; j < m && tx + j < wo; j++)
                y[((n * k_out + k) * ho + ty + i) * wo + tx + j] =
                    (float)(out[i * m + j] + (bias ? bias[k] : 0.0));
    }
}
