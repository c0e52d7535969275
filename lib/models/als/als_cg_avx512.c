/* The conjugate-gradient row solver of als fits and the system builder of the
 * exact single-row solves (fold-in, explain, partial fit), for AVX-512 (target
 * attributes; the caller checks the CPU). Same algorithm as the portable
 * solver in als.c, but a row's vectors (x, residual, direction, A times
 * direction) live in zmm registers for the whole solve: the dimension is a
 * compile-time count of 16-float vectors (copies for 1..8, i.e. dim <= 128; a
 * mask covers a partial last vector), so nothing of a row goes through memory
 * except the Gram matrix, the other side's vectors and one stack copy of the
 * vector the Gram matrix multiplies (for broadcasts). A is never formed:
 *   A v = (G + lambda I) v + sum_j (c_j - 1) (y_j . v) y_j
 * over the row's items, with the item vector loaded once per pass and used for
 * both the dot product and the update. With biases the rows are [x, b] against
 * [y, 1] and only the right-hand side changes (ri_als_cg_task). */
#include <immintrin.h>

#include "models/als/als_internal.h"
#include "core/target.h"

#define INL inline __attribute__((always_inline))
#define NV_MAX (RI_ALS_CG_AVX512_MAX_DIM / 16)
#define UNROLL _Pragma("GCC unroll 8")

/* Items ahead whose vectors are prefetched in the first pass over a row: the
 * other side is read in the row's (random) item order, so at P3 sizes most of
 * the first pass's loads miss the caches; later passes find them in L1/L2. */
#define PF_DIST 6

RI_TARGET_AVX512 static INL float dotv(const __m512 *a, const __m512 *b, const int nv)
{
    __m512 s = _mm512_mul_ps(a[0], b[0]);
    UNROLL
    for (int k = 1; k < nv; k++)
        s = _mm512_fmadd_ps(a[k], b[k], s);
    return _mm512_reduce_add_ps(s);
}

/* out = (G + lambda I) v, v also in vs (memory, for the broadcasts). Row c of
 * G is its column c (symmetric); two sets of accumulators halve the FMA
 * dependency chains. */
RI_TARGET_AVX512 static INL void gram_times(const float *G, uint32_t d, const float *vs, __m512 lam,
                                const __m512 *v, __m512 *out, const __mmask16 *mk, const int nv)
{
    __m512 a0[NV_MAX], a1[NV_MAX];
    UNROLL
    for (int k = 0; k < nv; k++) {
        a0[k] = _mm512_mul_ps(lam, v[k]);
        a1[k] = _mm512_setzero_ps();
    }
    uint32_t c = 0;
    for (; c + 2 <= d; c += 2) {
        const __m512 b0 = _mm512_set1_ps(vs[c]), b1 = _mm512_set1_ps(vs[c + 1]);
        const float *g0 = G + (size_t)c * d, *g1 = g0 + d;
        UNROLL
        for (int k = 0; k < nv; k++) {
            a0[k] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk[k], g0 + 16 * k), b0, a0[k]);
            a1[k] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk[k], g1 + 16 * k), b1, a1[k]);
        }
    }
    if (c < d) {
        const __m512 b0 = _mm512_set1_ps(vs[c]);
        const float *g0 = G + (size_t)c * d;
        UNROLL
        for (int k = 0; k < nv; k++)
            a0[k] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk[k], g0 + 16 * k), b0, a0[k]);
    }
    UNROLL
    for (int k = 0; k < nv; k++)
        out[k] = _mm512_add_ps(a0[k], a1[k]);
}

RI_TARGET_AVX512 static INL void prefetch_row(const float *y, uint32_t d)
{
    const char *p = (const char *)y;
    for (uint32_t o = 0; o < d * (uint32_t)sizeof(float); o += 64)
        _mm_prefetch(p + o, _MM_HINT_T0);
    _mm_prefetch(p + d * sizeof(float) - 1, _MM_HINT_T0);
}

RI_TARGET_AVX512 static INL void solve_row(const ri_als_cg_task *t, float *xrow, uint64_t beg, uint64_t end,
                               const __mmask16 *mk, const int nv)
{
    const uint32_t d = t->dim;
    const float *Y = t->Y;
    const uint32_t *idx = t->idx;
    const float *w = t->w;
    const float alpha = t->alpha;
    const __m512 lam =
        _mm512_set1_ps((float)ri_als_row_lambda(t->lambda, t->exponent, end - beg));
    float vs[NV_MAX * 16] __attribute__((aligned(64)));
    __m512 x[NV_MAX], r[NV_MAX], p[NV_MAX], q[NV_MAX], y[NV_MAX];

    /* r = b - A x = -(G + lambda I) x + sum_j (c_j - (c_j - 1) y_j . x) y_j */
    UNROLL
    for (int k = 0; k < nv; k++) {
        x[k] = _mm512_maskz_loadu_ps(mk[k], xrow + 16 * k);
        _mm512_store_ps(vs + 16 * k, x[k]);
    }
    gram_times(t->G, d, vs, lam, x, q, mk, nv);
    UNROLL
    for (int k = 0; k < nv; k++)
        r[k] = _mm512_sub_ps(_mm512_setzero_ps(), q[k]);
    if (t->t) {
        UNROLL
        for (int k = 0; k < nv; k++)
            r[k] = _mm512_sub_ps(r[k], _mm512_maskz_loadu_ps(mk[k], t->t + 16 * k));
    }
    for (uint64_t j = beg; j < end; j++) {
        if (j + PF_DIST < end)
            prefetch_row(Y + (size_t)idx[j + PF_DIST] * d, d);
        const float *yj = Y + (size_t)idx[j] * d;
        UNROLL
        for (int k = 0; k < nv; k++)
            y[k] = _mm512_maskz_loadu_ps(mk[k], yj + 16 * k);
        const float extra = alpha * (w ? w[j] : 1.0f);
        const float off = t->off ? t->off[idx[j]] : 0.0f;
        const __m512 coef = _mm512_set1_ps(1.0f + extra - extra * (dotv(y, x, nv) + off));
        UNROLL
        for (int k = 0; k < nv; k++)
            r[k] = _mm512_fmadd_ps(coef, y[k], r[k]);
    }
    UNROLL
    for (int k = 0; k < nv; k++)
        p[k] = r[k];
    float rr = dotv(r, r, nv);
    for (uint32_t step = 0; step < t->steps; step++) {
        if (!(rr > 1e-30f))
            break; /* converged (or nothing to do: zero right-hand side) */
        UNROLL
        for (int k = 0; k < nv; k++)
            _mm512_store_ps(vs + 16 * k, p[k]);
        gram_times(t->G, d, vs, lam, p, q, mk, nv);
        for (uint64_t j = beg; j < end; j++) {
            const float *yj = Y + (size_t)idx[j] * d;
            UNROLL
            for (int k = 0; k < nv; k++)
                y[k] = _mm512_maskz_loadu_ps(mk[k], yj + 16 * k);
            const __m512 coef = _mm512_set1_ps(alpha * (w ? w[j] : 1.0f) * dotv(y, p, nv));
            UNROLL
            for (int k = 0; k < nv; k++)
                q[k] = _mm512_fmadd_ps(coef, y[k], q[k]);
        }
        const float pq = dotv(p, q, nv);
        if (!(pq > 0))
            break; /* rounding only: A is positive definite */
        const __m512 a = _mm512_set1_ps(rr / pq);
        UNROLL
        for (int k = 0; k < nv; k++) {
            x[k] = _mm512_fmadd_ps(a, p[k], x[k]);
            r[k] = _mm512_fnmadd_ps(a, q[k], r[k]);
        }
        const float rr_new = dotv(r, r, nv);
        const __m512 beta = _mm512_set1_ps(rr_new / rr);
        UNROLL
        for (int k = 0; k < nv; k++)
            p[k] = _mm512_fmadd_ps(beta, p[k], r[k]);
        rr = rr_new;
    }
    UNROLL
    for (int k = 0; k < nv; k++)
        _mm512_mask_storeu_ps(xrow + 16 * k, mk[k], x[k]);
}

#define ROWS_NV(NV)                                                                              \
    RI_TARGET_AVX512 static void rows_nv##NV(const ri_als_cg_task *t, float *X, size_t begin, size_t end,    \
                                 const __mmask16 *mk)                                            \
    {                                                                                            \
        for (size_t row = begin; row < end; row++)                                               \
            solve_row(t, X + row * t->dim, t->indptr[row], t->indptr[row + 1], mk, NV);          \
    }
ROWS_NV(1)
ROWS_NV(2)
ROWS_NV(3)
ROWS_NV(4)
ROWS_NV(5)
ROWS_NV(6)
ROWS_NV(7)
ROWS_NV(8)

void ri_als_cg_avx512(const ri_als_cg_task *t, float *X, size_t begin, size_t end)
{
    const uint32_t d = t->dim;
    if (d == 0 || d > RI_ALS_CG_AVX512_MAX_DIM)
        return;
    const int nv = (int)((d + 15) / 16);
    __mmask16 mk[NV_MAX];
    for (int k = 0; k < NV_MAX; k++)
        mk[k] = (__mmask16)(k < nv - 1 || d % 16 == 0 ? 0xFFFFu : (1u << (d % 16)) - 1u);
    switch (nv) {
    case 1: rows_nv1(t, X, begin, end, mk); break;
    case 2: rows_nv2(t, X, begin, end, mk); break;
    case 3: rows_nv3(t, X, begin, end, mk); break;
    case 4: rows_nv4(t, X, begin, end, mk); break;
    case 5: rows_nv5(t, X, begin, end, mk); break;
    case 6: rows_nv6(t, X, begin, end, mk); break;
    case 7: rows_nv7(t, X, begin, end, mk); break;
    default: rows_nv8(t, X, begin, end, mk); break;
    }
}

/* ------------------------------------------------------------------------ */
/* One row's normal equations for the exact single-row solves              */
/* ------------------------------------------------------------------------ */

/* Rows r of the lower triangle in [r0, r1), all with columns 0 .. 16 nr - 1
 * covering them: sum_j e_j y_j[r] y_j[0..r] accumulated in nr zmm registers. */
RI_TARGET_AVX512 static INL void system_rows(const float *G, const float *Y, uint32_t d,
                                 const uint32_t *items, const float *weights, size_t n,
                                 float alpha, double lambda, uint32_t r0, uint32_t r1,
                                 const __mmask16 *mk, double *A, const int nr)
{
    for (uint32_t r = r0; r < r1; r++) {
        __m512 acc[NV_MAX];
        UNROLL
        for (int k = 0; k < nr; k++)
            acc[k] = _mm512_setzero_ps();
        for (size_t j = 0; j < n; j++) {
            const float *y = Y + (size_t)items[j] * d;
            const __m512 c = _mm512_set1_ps(alpha * (weights ? weights[j] : 1.0f) * y[r]);
            UNROLL
            for (int k = 0; k < nr; k++)
                acc[k] = _mm512_fmadd_ps(c, _mm512_maskz_loadu_ps(mk[k], y + 16 * k), acc[k]);
        }
        /* A[r][0..r] = G[r][0..r] + acc, in double, 8 columns per store */
        double *Ar = A + ri_als_tri_len(r);
        const float *Gr = G + (size_t)r * d;
        UNROLL
        for (int k = 0; k < nr; k++) {
            const uint32_t m = r + 1 - 16 * (uint32_t)k < 16 ? r + 1 - 16 * (uint32_t)k : 16;
            const __mmask16 mm = (__mmask16)((1u << m) - 1u);
            const __m512 g = _mm512_maskz_loadu_ps(mm, Gr + 16 * k);
            const __m512d lo = _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(g)),
                                             _mm512_cvtps_pd(_mm512_castps512_ps256(acc[k])));
            const __m512d hi = _mm512_add_pd(
                _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(g), 1))),
                _mm512_cvtps_pd(
                    _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[k]), 1))));
            _mm512_mask_storeu_pd(Ar + 16 * k, (__mmask8)(mm & 0xFF), lo);
            _mm512_mask_storeu_pd(Ar + 16 * k + 8, (__mmask8)(mm >> 8), hi);
        }
        Ar[r] += lambda;
    }
}

#define SYSTEM_NR(NR)                                                                            \
    RI_TARGET_AVX512 static void system_nr##NR(const float *G, const float *Y, uint32_t d,                   \
                                   const uint32_t *items, const float *weights, size_t n,        \
                                   float alpha, double lambda, uint32_t r0, uint32_t r1,         \
                                   const __mmask16 *mk, double *A)                               \
    {                                                                                            \
        system_rows(G, Y, d, items, weights, n, alpha, lambda, r0, r1, mk, A, NR);               \
    }
SYSTEM_NR(1)
SYSTEM_NR(2)
SYSTEM_NR(3)
SYSTEM_NR(4)
SYSTEM_NR(5)
SYSTEM_NR(6)
SYSTEM_NR(7)
SYSTEM_NR(8)

RI_TARGET_AVX512 static void rhs(const float *Y, uint32_t d, const uint32_t *items, const float *weights,
                     size_t n, float alpha, const __mmask16 *mk, int nv, double *b)
{
    float out[NV_MAX * 16] __attribute__((aligned(64)));
    for (int k = 0; k < nv; k++) {
        __m512 acc = _mm512_setzero_ps();
        for (size_t j = 0; j < n; j++) {
            const __m512 c = _mm512_set1_ps(1.0f + alpha * (weights ? weights[j] : 1.0f));
            acc = _mm512_fmadd_ps(c, _mm512_maskz_loadu_ps(mk[k], Y + (size_t)items[j] * d + 16 * k),
                                  acc);
        }
        _mm512_store_ps(out + 16 * k, acc);
    }
    for (uint32_t r = 0; r < d; r++)
        b[r] = out[r];
}

void ri_als_row_system_avx512(const float *G, const float *Y, uint32_t d, const uint32_t *items,
                              const float *weights, size_t n, double alpha, double lambda,
                              double *A, double *b)
{
    const int nv = (int)((d + 15) / 16);
    __mmask16 mk[NV_MAX];
    for (int k = 0; k < NV_MAX; k++)
        mk[k] = (__mmask16)(k < nv - 1 || d % 16 == 0 ? 0xFFFFu : (1u << (d % 16)) - 1u);
    const float a = (float)alpha;
    /* rows 16 (nr - 1) .. 16 nr - 1 need nr vectors of columns */
    for (int nr = 1; nr <= nv; nr++) {
        const uint32_t r0 = 16 * (uint32_t)(nr - 1), r1 = 16 * (uint32_t)nr < d ? 16 * (uint32_t)nr : d;
        switch (nr) {
        case 1: system_nr1(G, Y, d, items, weights, n, a, lambda, r0, r1, mk, A); break;
        case 2: system_nr2(G, Y, d, items, weights, n, a, lambda, r0, r1, mk, A); break;
        case 3: system_nr3(G, Y, d, items, weights, n, a, lambda, r0, r1, mk, A); break;
        case 4: system_nr4(G, Y, d, items, weights, n, a, lambda, r0, r1, mk, A); break;
        case 5: system_nr5(G, Y, d, items, weights, n, a, lambda, r0, r1, mk, A); break;
        case 6: system_nr6(G, Y, d, items, weights, n, a, lambda, r0, r1, mk, A); break;
        case 7: system_nr7(G, Y, d, items, weights, n, a, lambda, r0, r1, mk, A); break;
        default: system_nr8(G, Y, d, items, weights, n, a, lambda, r0, r1, mk, A); break;
        }
    }
    rhs(Y, d, items, weights, n, a, mk, nv, b);
}
