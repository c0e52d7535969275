/* The optimizers every kind steps its parameters with: Adam and row-wise
 * Adagrad, as per-element or per-row updates the kinds' training loops inline
 * (a call per parameter would cost more than the update). Below the kinds in
 * the layering (lib/layers.txt) so that each kind uses the same arithmetic. */
#ifndef RI_LEARN_OPTIM_H
#define RI_LEARN_OPTIM_H

#include <math.h>
#include <stdint.h>

#include "core/target.h"
#if RI_CAN_TARGET_AVX2
#include <immintrin.h>
#endif

/* Adam's coefficients at step t (from 1): bias corrections folded into the
 * learning rate (lr / (1 - b1^t)) and into rc2 = 1 / (1 - b2^t). */
typedef struct {
    float lr, rc2, b1, b2, eps;
} ri_adam;

static inline ri_adam ri_adam_at(double lr, double b1, double b2, double eps, uint64_t t)
{
    const double c1 = 1.0 - pow(b1, (double)t), c2 = 1.0 - pow(b2, (double)t);
    ri_adam a = {(float)(lr / c1), (float)(1.0 / c2), (float)b1, (float)b2, (float)eps};
    return a;
}

/* One parameter w with moments m and v, gradient g. */
static RI_INLINE_BODY void ri_adam_update(float *w, float *m, float *v, float g, const ri_adam *a)
{
    *m = a->b1 * *m + (1.0f - a->b1) * g;
    *v = a->b2 * *v + (1.0f - a->b2) * g * g;
    *w -= a->lr * *m / (sqrtf(*v * a->rc2) + a->eps);
}

/* Adagrad on one parameter (a bias): acc += g^2; w -= lr g / sqrt(acc). */
static RI_INLINE_BODY void ri_adagrad_update(float *w, float *acc, float g, float lr)
{
    *acc += g * g;
    *w -= lr * g / sqrtf(*acc);
}

/* Row-wise Adagrad (the form of large embedding tables, e.g. DLRM): one
 * accumulator per embedding row holding the sum of the mean squared gradient
 * of its steps, so the optimizer state is a float per row instead of a copy of
 * the table (the hybrid kind chose between the two on P1 validation data: the
 * same quality). Gradient g = xc v + alpha w; acc += |g|^2 / d;
 * w -= lr g / sqrt(acc). */
static RI_INLINE_BODY void ri_adagrad_row(float *restrict w, float *restrict acc,
                                          const float *restrict v, float xc, float alpha,
                                          float lr, uint32_t d)
{
    float ss = 0.0f;
    for (uint32_t k = 0; k < d; k++) {
        const float g = xc * v[k] + alpha * w[k];
        ss += g * g;
    }
    *acc += ss / (float)d;
    const float step = lr / sqrtf(*acc);
    for (uint32_t k = 0; k < d; k++)
        w[k] -= step * (xc * v[k] + alpha * w[k]);
}

/* The same step when the gradient is x g with |g|^2 = ss already known (no
 * weight penalty): one pass over the row instead of two. */
static RI_INLINE_BODY void ri_adagrad_row_known(float *restrict w, float *restrict acc,
                                                const float *restrict g, float x, float ss,
                                                float lr, uint32_t d)
{
    *acc += x * x * ss / (float)d;
    const float step = lr * x / sqrtf(*acc);
    for (uint32_t k = 0; k < d; k++)
        w[k] -= step * g[k];
}

#if RI_CAN_TARGET_AVX2
/* ri_adagrad_row with AVX2 and FMA, for callers compiled for RI_ISA_AVX2 (its
 * sums run in 8 lanes, so the result differs from the baseline's in the last
 * bits). Not always_inline: a baseline copy of a caller keeps a call it never
 * makes. */
RI_TARGET_AVX2 static inline void ri_adagrad_row_avx2(float *restrict w, float *restrict acc,
                                                       const float *restrict v, float xc,
                                                       float alpha, float lr, uint32_t d)
{
    const __m256 vx = _mm256_set1_ps(xc), va = _mm256_set1_ps(alpha);
    __m256 ss8 = _mm256_setzero_ps();
    uint32_t k = 0;
    for (; k + 8 <= d; k += 8) {
        const __m256 g = _mm256_fmadd_ps(vx, _mm256_loadu_ps(v + k),
                                         _mm256_mul_ps(va, _mm256_loadu_ps(w + k)));
        ss8 = _mm256_fmadd_ps(g, g, ss8);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, ss8);
    float ss = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) +
               ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for (uint32_t t = k; t < d; t++) {
        const float g = xc * v[t] + alpha * w[t];
        ss += g * g;
    }
    *acc += ss / (float)d;
    const float step = lr / sqrtf(*acc);
    const __m256 vs = _mm256_set1_ps(step);
    for (k = 0; k + 8 <= d; k += 8) {
        const __m256 wk = _mm256_loadu_ps(w + k);
        const __m256 g = _mm256_fmadd_ps(vx, _mm256_loadu_ps(v + k), _mm256_mul_ps(va, wk));
        _mm256_storeu_ps(w + k, _mm256_fnmadd_ps(vs, g, wk));
    }
    for (; k < d; k++)
        w[k] -= step * (xc * v[k] + alpha * w[k]);
}
/* The row step of a copy compiled with avx (1: the AVX2 clone). */
#define RI_ADAGRAD_ROW(avx, ...) \
    ((avx) ? ri_adagrad_row_avx2(__VA_ARGS__) : ri_adagrad_row(__VA_ARGS__))
#else
#define RI_ADAGRAD_ROW(avx, ...) ri_adagrad_row(__VA_ARGS__)
#endif

#endif
