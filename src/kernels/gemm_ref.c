/* Reference SGEMM: obviously correct, slow. The fast kernels are tested
 * against it. */
#include "gemm.h"

static float element(const float *p, size_t ld, bool trans, size_t row, size_t col)
{
    return trans ? p[col * ld + row] : p[row * ld + col];
}

void oc_sgemm_ref(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                  const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                  size_t ldc)
{
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            double sum = 0.0;
            for (size_t p = 0; p < k; p++)
                sum += (double)element(a, lda, trans_a, i, p) * element(b, ldb, trans_b, p, j);
            double result = (double)alpha * sum;
            if (beta != 0.0f) result += (double)beta * c[i * ldc + j];
            c[i * ldc + j] = (float)result;
        }
    }
}

void oc_gemm_ref(const oc_gemm_desc *d)
{
    const oc_gemm_epilogue *e = &d->ep;
    for (size_t i = 0; i < d->m; i++) {
        for (size_t j = 0; j < d->n; j++) {
            double sum = 0.0;
            for (size_t p = 0; p < d->k; p++)
                sum += (double)element(d->a, d->lda, d->trans_a, i, p) *
                       element(d->b, d->ldb, d->trans_b, p, j);
            double result = e->alpha == 0.0f ? 0.0 : (double)e->alpha * sum;
            if (e->beta != 0.0f) {
                float x = e->x ? e->x[i * e->x_rs + j * e->x_cs] : d->c[i * d->ldc + j];
                result += (double)e->beta * x;
            }
            float r = (float)result;
            if (e->clamp) {
                r = e->lo > r ? e->lo : r;
                r = e->hi < r ? e->hi : r;
            }
            d->c[i * d->ldc + j] = r;
        }
    }
}
