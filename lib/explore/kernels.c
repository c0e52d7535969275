/* The explorer's float kernels over candidate rows. The AVX-512 versions keep
 * a row's products in registers (blocks of 64 columns, masked at the edge);
 * the portable loops are the reference and the fallback. The policy step's
 * cost is these loops (docs/exploration.md, bench_explore). Only these
 * functions use AVX-512 (target attributes); the rest stays baseline x86-64. */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

#include "explore/explore_internal.h"
#include "core/target.h"


/* ---- portable ----------------------------------------------------------- */

/* y = x^T M for x of d floats, M d x m row major. */
static void xm_base(const float *x, const float *M, uint32_t d, uint32_t m, float *y)
{
    memset(y, 0, m * sizeof(float));
    for (uint32_t j = 0; j < d; j++) {
        const float xj = x[j];
        const float *row = M + (size_t)j * m;
        for (uint32_t s = 0; s < m; s++)
            y[s] += xj * row[s];
    }
}

static float dot_base(const float *a, const float *b, uint32_t d)
{
    float s = 0.0f;
    for (uint32_t j = 0; j < d; j++)
        s += a[j] * b[j];
    return s;
}

/* ---- AVX-512 ------------------------------------------------------------ */

static inline __mmask16 tail_mask(uint32_t left) { return left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1u); }

RI_TARGET_AVX512 static void xm_512(const float *x, const float *M, uint32_t d, uint32_t m, float *y)
{
    for (uint32_t cb = 0; cb < m; cb += 64) {
        const uint32_t left = m - cb;
        const __mmask16 k0 = tail_mask(left), k1 = left > 16 ? tail_mask(left - 16) : 0,
                        k2 = left > 32 ? tail_mask(left - 32) : 0,
                        k3 = left > 48 ? tail_mask(left - 48) : 0;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        const float *row = M + cb;
        for (uint32_t j = 0; j < d; j++, row += m) {
            const __m512 b = _mm512_set1_ps(x[j]);
            a0 = _mm512_fmadd_ps(b, _mm512_maskz_loadu_ps(k0, row), a0);
            if (k1)
                a1 = _mm512_fmadd_ps(b, _mm512_maskz_loadu_ps(k1, row + 16), a1);
            if (k2)
                a2 = _mm512_fmadd_ps(b, _mm512_maskz_loadu_ps(k2, row + 32), a2);
            if (k3)
                a3 = _mm512_fmadd_ps(b, _mm512_maskz_loadu_ps(k3, row + 48), a3);
        }
        _mm512_mask_storeu_ps(y + cb, k0, a0);
        if (k1)
            _mm512_mask_storeu_ps(y + cb + 16, k1, a1);
        if (k2)
            _mm512_mask_storeu_ps(y + cb + 32, k2, a2);
        if (k3)
            _mm512_mask_storeu_ps(y + cb + 48, k3, a3);
    }
}

RI_TARGET_AVX512 static float dot_512(const float *a, const float *b, uint32_t d)
{
    __m512 s = _mm512_setzero_ps();
    for (uint32_t j = 0; j < d; j += 16) {
        const __mmask16 k = tail_mask(d - j);
        s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, a + j), _mm512_maskz_loadu_ps(k, b + j), s);
    }
    return _mm512_reduce_add_ps(s);
}

/* G candidates at once, NB blocks of 16 columns each (m <= 16 NB): G * NB
 * independent accumulator chains hide the FMA latency that one row's chain of
 * d dependent FMAs would expose. */
#define XM_GROUP(NAME, G, NB)                                                                   \
    RI_TARGET_AVX512 static void NAME(const float *const *X, const float *M, uint32_t d, uint32_t m,        \
                          float *const *Y)                                                      \
    {                                                                                           \
        __mmask16 k[NB];                                                                        \
        _Pragma("GCC unroll 8") for (int b = 0; b < NB; b++)                                    \
            k[b] = m > 16u * b ? tail_mask(m - 16u * b) : 0;                                    \
        __m512 acc[G][NB];                                                                      \
        _Pragma("GCC unroll 8") for (int g = 0; g < G; g++)                                     \
            _Pragma("GCC unroll 8") for (int b = 0; b < NB; b++)                                \
                acc[g][b] = _mm512_setzero_ps();                                                \
        const float *row = M;                                                                   \
        for (uint32_t j = 0; j < d; j++, row += m) {                                            \
            __m512 r[NB];                                                                       \
            _Pragma("GCC unroll 8") for (int b = 0; b < NB; b++)                                \
                r[b] = _mm512_maskz_loadu_ps(k[b], row + 16 * b);                               \
            _Pragma("GCC unroll 8") for (int g = 0; g < G; g++) {                               \
                const __m512 xb = _mm512_set1_ps(X[g][j]);                                      \
                _Pragma("GCC unroll 8") for (int b = 0; b < NB; b++)                            \
                    acc[g][b] = _mm512_fmadd_ps(xb, r[b], acc[g][b]);                           \
            }                                                                                   \
        }                                                                                       \
        _Pragma("GCC unroll 8") for (int g = 0; g < G; g++)                                     \
            _Pragma("GCC unroll 8") for (int b = 0; b < NB; b++)                                \
                _mm512_mask_storeu_ps(Y[g] + 16 * b, k[b], acc[g][b]);                          \
    }

XM_GROUP(xm_g8b1, 8, 1)
XM_GROUP(xm_g4b2, 4, 2)
XM_GROUP(xm_g2b4, 2, 4)

/* Rows of X times M into rows of out (m floats each, out_stride apart). */
RI_TARGET_AVX512 static void rows_512(const float *const *X, uint32_t n, const float *M, uint32_t d,
                          uint32_t m, float *out, size_t out_stride)
{
    uint32_t i = 0;
    float *Y[8];
    if (m <= 16) {
        for (; i + 8 <= n; i += 8) {
            for (int g = 0; g < 8; g++)
                Y[g] = out + (i + g) * out_stride;
            xm_g8b1(X + i, M, d, m, Y);
        }
    } else if (m <= 32) {
        for (; i + 4 <= n; i += 4) {
            for (int g = 0; g < 4; g++)
                Y[g] = out + (i + g) * out_stride;
            xm_g4b2(X + i, M, d, m, Y);
        }
    } else if (m <= 64) {
        for (; i + 2 <= n; i += 2) {
            for (int g = 0; g < 2; g++)
                Y[g] = out + (i + g) * out_stride;
            xm_g2b4(X + i, M, d, m, Y);
        }
    }
    for (; i < n; i++)
        xm_512(X[i], M, d, m, out + i * out_stride);
}

/* x^T S x for G candidates at once, S symmetric with NB blocks of 16 columns
 * (dim <= 16 NB): by symmetry x^T S x = sum_b x_b^T S_bb x_b
 * + 2 sum_{c<b} x_c^T S_cb x_b over 16 x 16 blocks, so a row in block c only
 * feeds blocks b >= c: 10 of 16 block products at NB = 4, the accumulators
 * stay in registers and the final dot needs no buffer.
 *
 * The factor 2 is applied once per block instead of once per term: when block
 * c's rows start, acc[g][c] holds exactly its off-diagonal terms, and doubling
 * a float sum is exact, so the result is the same bits as doubling every x_j;
 * the candidates' values then go from memory straight into broadcasts (a load,
 * not a shuffle plus an add per value, which had made the loop shuffle-bound).
 * FULL: dim == 16 NB, so no load needs a mask (masks in k registers did not
 * survive the loop's register pressure). */
#define QF_GROUP(NAME, G, NB, FULL)                                                             \
    RI_TARGET_AVX512 static void NAME(const float *const *X, const float *S, uint32_t d, float *q)          \
    {                                                                                           \
        __mmask16 k[NB];                                                                        \
        _Pragma("GCC unroll 8") for (int b = 0; b < NB; b++)                                    \
            k[b] = FULL ? 0xFFFF : d > 16u * b ? tail_mask(d - 16u * b) : 0;                    \
        __m512 acc[G][NB];                                                                      \
        _Pragma("GCC unroll 8") for (int g = 0; g < G; g++)                                     \
            _Pragma("GCC unroll 8") for (int b = 0; b < NB; b++)                                \
                acc[g][b] = _mm512_setzero_ps();                                                \
        _Pragma("GCC unroll 8") for (int c = 0; c < NB; c++) {                                  \
            const uint32_t j1 = FULL ? 16u * (c + 1) : 16u * (c + 1) < d ? 16u * (c + 1) : d;   \
            _Pragma("GCC unroll 8") for (int g = 0; g < G; g++)                                 \
                acc[g][c] = _mm512_add_ps(acc[g][c], acc[g][c]);                                \
            for (uint32_t j = 16u * c; j < j1; j++) {                                           \
                const float *row = S + (size_t)j * d;                                           \
                __m512 r[NB];                                                                   \
                _Pragma("GCC unroll 8") for (int b = c; b < NB; b++)                            \
                    r[b] = FULL ? _mm512_loadu_ps(row + 16 * b)                                 \
                                : _mm512_maskz_loadu_ps(k[b], row + 16 * b);                    \
                _Pragma("GCC unroll 8") for (int g = 0; g < G; g++) {                           \
                    const __m512 xb = _mm512_set1_ps(X[g][j]);                                  \
                    _Pragma("GCC unroll 8") for (int b = c; b < NB; b++)                        \
                        acc[g][b] = _mm512_fmadd_ps(xb, r[b], acc[g][b]);                       \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
        _Pragma("GCC unroll 8") for (int g = 0; g < G; g++) {                                   \
            __m512 s = _mm512_setzero_ps();                                                     \
            _Pragma("GCC unroll 8") for (int b = 0; b < NB; b++)                                \
                s = _mm512_fmadd_ps(acc[g][b],                                                  \
                                    FULL ? _mm512_loadu_ps(X[g] + 16 * b)                       \
                                         : _mm512_maskz_loadu_ps(k[b], X[g] + 16 * b), s);      \
            q[g] = _mm512_reduce_add_ps(s);                                                     \
        }                                                                                       \
    }

QF_GROUP(qf_g8b1, 8, 1, 0)
QF_GROUP(qf_g1b1, 1, 1, 0)
QF_GROUP(qf_g8b2, 8, 2, 0)
QF_GROUP(qf_g1b2, 1, 2, 0)
QF_GROUP(qf_g6b3, 6, 3, 0)
QF_GROUP(qf_g1b3, 1, 3, 0)
QF_GROUP(qf_g6b4, 6, 4, 0)
QF_GROUP(qf_g1b4, 1, 4, 0)
QF_GROUP(qf_g6b4_full, 6, 4, 1)
QF_GROUP(qf_g1b4_full, 1, 4, 1)

/* dim <= 64: groups of candidates, then one at a time. At 4 blocks, 6 candidates
 * (24 accumulators + 4 row blocks of the 32 registers) load each row of S for
 * more FMAs than 4 did: about 5-10 % faster on Zen 4. */
RI_TARGET_AVX512 static void quad_tri_512(const float *S, uint32_t dim, const float *const *X, uint32_t n,
                              float *q)
{
    const uint32_t nb = (dim + 15) / 16, G = nb <= 2 ? 8 : 6;
    uint32_t i = 0;
    for (; i + G <= n; i += G) {
        if (nb == 1)
            qf_g8b1(X + i, S, dim, q + i);
        else if (nb == 2)
            qf_g8b2(X + i, S, dim, q + i);
        else if (nb == 3)
            qf_g6b3(X + i, S, dim, q + i);
        else if (dim == 64)
            qf_g6b4_full(X + i, S, dim, q + i);
        else
            qf_g6b4(X + i, S, dim, q + i);
    }
    for (; i < n; i++) {
        if (nb == 1)
            qf_g1b1(X + i, S, dim, q + i);
        else if (nb == 2)
            qf_g1b2(X + i, S, dim, q + i);
        else if (nb == 3)
            qf_g1b3(X + i, S, dim, q + i);
        else if (dim == 64)
            qf_g1b4_full(X + i, S, dim, q + i);
        else
            qf_g1b4(X + i, S, dim, q + i);
    }
}

RI_TARGET_AVX512 static void multi_512(const float *T, uint32_t dim, uint32_t m, const float *const *X,
                           uint32_t n, float *out)
{
    rows_512(X, n, T, dim, m, out, m);
}

/* 16 rows' dots with v at once. Each row's chain is dot_512's (the same masked
 * blocks in the same order); the 16 sums are then reduced together by a tree of
 * shuffles that adds, for every row, the same pairs in the same order as
 * _mm512_reduce_add_ps (lanes i and i+8, then i and i+4, i and i+2, the last
 * two), so each result is dot_512's to the bit. One row at a time, the
 * reduction's chain of dependent shuffles dominated: LinUCB brings up to date
 * hundreds of candidates per slot for a fresh user. */
RI_TARGET_AVX512 static void dots16_512(const float *v, uint32_t dim, const float *const *X, float *out)
{
    __m512 a[16];
    _Pragma("GCC unroll 16") for (int r = 0; r < 16; r++) a[r] = _mm512_setzero_ps();
    for (uint32_t j = 0; j < dim; j += 16) {
        const __mmask16 k = tail_mask(dim - j);
        const __m512 vj = _mm512_maskz_loadu_ps(k, v + j);
        _Pragma("GCC unroll 16") for (int r = 0; r < 16; r++)
            a[r] = _mm512_fmadd_ps(vj, _mm512_maskz_loadu_ps(k, X[r] + j), a[r]);
    }
    __m512 u[8], w[4], z[2];
    /* u[m]: rows 2m and 2m+1, lanes i + lanes i+8 (8 values each). */
    _Pragma("GCC unroll 8") for (int m = 0; m < 8; m++)
        u[m] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * m], a[2 * m + 1], 0x44),
                             _mm512_shuffle_f32x4(a[2 * m], a[2 * m + 1], 0xEE));
    /* w[m]: rows 4m..4m+3, one per 128-bit lane, lanes i + i+4. */
    _Pragma("GCC unroll 4") for (int m = 0; m < 4; m++)
        w[m] = _mm512_add_ps(_mm512_shuffle_f32x4(u[2 * m], u[2 * m + 1], 0x88),
                             _mm512_shuffle_f32x4(u[2 * m], u[2 * m + 1], 0xDD));
    /* z[m], 128-bit lane L: rows 8m+L and 8m+4+L, two values each (i + i+2). */
    _Pragma("GCC unroll 2") for (int m = 0; m < 2; m++)
        z[m] = _mm512_add_ps(_mm512_shuffle_ps(w[2 * m], w[2 * m + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(w[2 * m], w[2 * m + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    /* f[4L + e] is row L + 4e. */
    const __m512 f = _mm512_add_ps(_mm512_shuffle_ps(z[0], z[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm512_shuffle_ps(z[0], z[1], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i rows = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    _mm512_storeu_ps(out, _mm512_permutexvar_ps(rows, f));
}

RI_TARGET_AVX512 static void dots_512(const float *v, uint32_t dim, const float *const *X, uint32_t n,
                          float *out)
{
    uint32_t i = 0;
    for (; i + 16 <= n; i += 16)
        dots16_512(v, dim, X + i, out + i);
    for (; i < n; i++)
        out[i] = dot_512(v, X[i], dim);
}

/* ---- dispatch ----------------------------------------------------------- */

#define MAX_ROW 4096 /* the largest dim the config allows */

void ri_explore_quadforms(ri_isa isa, const float *S, uint32_t dim, const float *const *X,
                          uint32_t n, float *q)
{
    float y[MAX_ROW];
    if (isa == RI_ISA_AVX512 && dim <= 64) {
        quad_tri_512(S, dim, X, n, q);
        return;
    }
    if (isa == RI_ISA_AVX512) {
        for (uint32_t i = 0; i < n; i++)
            q[i] = (xm_512(X[i], S, dim, dim, y), dot_512(y, X[i], dim));
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        xm_base(X[i], S, dim, dim, y);
        q[i] = dot_base(y, X[i], dim);
    }
}

void ri_explore_multidot(ri_isa isa, const float *T, uint32_t dim, uint32_t m,
                         const float *const *X, uint32_t n, float *out)
{
    if (isa == RI_ISA_AVX512) {
        multi_512(T, dim, m, X, n, out);
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        xm_base(X[i], T, dim, m, out + (size_t)i * m);
}

void ri_explore_dots(ri_isa isa, const float *v, uint32_t dim, const float *const *X, uint32_t n,
                     float *out)
{
    if (isa == RI_ISA_AVX512) {
        dots_512(v, dim, X, n, out);
        return;
    }
    for (uint32_t i = 0; i < n; i++)
        out[i] = dot_base(v, X[i], dim);
}

void ri_explore_rowmat(ri_isa isa, const float *x, const float *M, uint32_t d, uint32_t m,
                       float *y)
{
    if (isa == RI_ISA_AVX512)
        xm_512(x, M, d, m, y);
    else
        xm_base(x, M, d, m, y);
}

/* Back substitution R D = Z for upper triangular R (d x d, row major) and
 * Z (d x m, overwritten by D): rows from the last, each a vector over m. */
static inline __attribute__((always_inline)) void backsolve_body(const float *R, uint32_t d,
                                                                 uint32_t m, float *Z)
{
    for (uint32_t i = d; i-- > 0;) {
        float *zi = Z + (size_t)i * m;
        const float *ri = R + (size_t)i * d;
        for (uint32_t j = i + 1; j < d; j++) {
            const float r = ri[j];
            const float *zj = Z + (size_t)j * m;
            for (uint32_t s = 0; s < m; s++)
                zi[s] -= r * zj[s];
        }
        const float inv = 1.0f / ri[i];
        for (uint32_t s = 0; s < m; s++)
            zi[s] *= inv;
    }
}

/* m a multiple of 16 up to 64: row i's right-hand sides stay in registers
 * while the solved rows below it are subtracted. */
RI_TARGET_AVX512 static void backsolve_512(const float *R, uint32_t d, uint32_t m, float *Z)
{
    if (m % 16 != 0 || m > 64) {
        backsolve_body(R, d, m, Z);
        return;
    }
    const uint32_t nb = m / 16;
    for (uint32_t i = d; i-- > 0;) {
        float *zi = Z + (size_t)i * m;
        const float *ri = R + (size_t)i * d;
        __m512 a0 = _mm512_loadu_ps(zi), a1 = a0, a2 = a0, a3 = a0;
        if (nb > 1)
            a1 = _mm512_loadu_ps(zi + 16);
        if (nb > 2)
            a2 = _mm512_loadu_ps(zi + 32);
        if (nb > 3)
            a3 = _mm512_loadu_ps(zi + 48);
        for (uint32_t j = i + 1; j < d; j++) {
            const __m512 r = _mm512_set1_ps(ri[j]);
            const float *zj = Z + (size_t)j * m;
            a0 = _mm512_fnmadd_ps(r, _mm512_loadu_ps(zj), a0);
            if (nb > 1)
                a1 = _mm512_fnmadd_ps(r, _mm512_loadu_ps(zj + 16), a1);
            if (nb > 2)
                a2 = _mm512_fnmadd_ps(r, _mm512_loadu_ps(zj + 32), a2);
            if (nb > 3)
                a3 = _mm512_fnmadd_ps(r, _mm512_loadu_ps(zj + 48), a3);
        }
        const __m512 inv = _mm512_set1_ps(1.0f / ri[i]);
        _mm512_storeu_ps(zi, _mm512_mul_ps(a0, inv));
        if (nb > 1)
            _mm512_storeu_ps(zi + 16, _mm512_mul_ps(a1, inv));
        if (nb > 2)
            _mm512_storeu_ps(zi + 32, _mm512_mul_ps(a2, inv));
        if (nb > 3)
            _mm512_storeu_ps(zi + 48, _mm512_mul_ps(a3, inv));
    }
}

void ri_explore_backsolve(ri_isa isa, const float *R, uint32_t d, uint32_t m, float *Z)
{
    if (isa == RI_ISA_AVX512)
        backsolve_512(R, d, m, Z);
    else
        backsolve_body(R, d, m, Z);
}

/* ---- draw lists ---------------------------------------------------------- */

/* Insertion into each draw's sorted list. Candidates come best base score
 * first, so after the first few a score rarely beats its draw's worst kept one. */
static int draw_lists_base(const float *out, uint32_t DP, const float *base, uint32_t n,
                           uint32_t D, uint32_t K, uint32_t *list)
{
    float *sc = ri_malloc_array((size_t)D * K, sizeof(float));
    float *worst = ri_malloc_array(D, sizeof(float));
    uint32_t *cnt = ri_calloc_array(D, sizeof(uint32_t));
    int full = -1;
    if (sc && worst && cnt) {
        for (uint32_t m = 0; m < D; m++)
            worst[m] = -INFINITY;
        for (uint32_t i = 0; i < n; i++) {
            const float *o = out + (size_t)i * DP;
            for (uint32_t m = 0; m < D; m++) {
                const float v = base[i] + o[m];
                if (!(v > worst[m]))
                    continue;
                float *ls = sc + (size_t)m * K;
                uint32_t *li = list + (size_t)m * K;
                uint32_t r = cnt[m] < K ? cnt[m]++ : K - 1;
                for (; r > 0 && v > ls[r - 1]; r--) {
                    ls[r] = ls[r - 1];
                    li[r] = li[r - 1];
                }
                ls[r] = v;
                li[r] = i;
                if (cnt[m] == K)
                    worst[m] = ls[K - 1];
            }
        }
        full = 1;
        for (uint32_t m = 0; m < D; m++)
            full &= cnt[m] == K;
    }
    free(sc);
    free(worst);
    free(cnt);
    return full;
}

/* The same insertion for 16 draws at once, one per lane: slot t takes the new
 * score where it beats slot t but not slot t - 1, and the slots below shift
 * down, which is where the scalar loop puts it. An empty slot holds -inf. */
#define LISTS_VEC_K 12

RI_TARGET_AVX512 static void draw_lists_16(const float *out, uint32_t DP, uint32_t g0, const float *base,
                               uint32_t n, uint32_t K, uint32_t lanes, uint32_t *list, int *full)
{
    __m512 S[LISTS_VEC_K];
    __m512i I[LISTS_VEC_K];
    for (uint32_t t = 0; t < K; t++) {
        S[t] = _mm512_set1_ps(-INFINITY);
        I[t] = _mm512_set1_epi32(-1);
    }
    for (uint32_t i = 0; i < n; i++) {
        const __m512 v = _mm512_add_ps(_mm512_set1_ps(base[i]),
                                       _mm512_loadu_ps(out + (size_t)i * DP + g0));
        __mmask16 below = _mm512_cmp_ps_mask(v, S[K - 1], _CMP_GT_OQ);
        if (!below)
            continue;
        const __m512i vi = _mm512_set1_epi32((int)i);
        for (uint32_t t = K - 1; t > 0; t--) {
            const __mmask16 above = _mm512_cmp_ps_mask(v, S[t - 1], _CMP_GT_OQ);
            S[t] = _mm512_mask_blend_ps(above, _mm512_mask_blend_ps(below, S[t], v), S[t - 1]);
            I[t] = _mm512_mask_blend_epi32(above, _mm512_mask_blend_epi32(below, I[t], vi),
                                           I[t - 1]);
            below = above;
        }
        S[0] = _mm512_mask_blend_ps(below, S[0], v);
        I[0] = _mm512_mask_blend_epi32(below, I[0], vi);
    }
    const __mmask16 valid = lanes >= 16 ? 0xFFFF : (__mmask16)((1u << lanes) - 1u);
    if (_mm512_mask_cmp_ps_mask(valid, S[K - 1], _mm512_set1_ps(-INFINITY), _CMP_EQ_OQ))
        *full = 0;
    _Alignas(64) uint32_t idx[16];
    for (uint32_t t = 0; t < K; t++) {
        _mm512_store_si512((void *)idx, I[t]);
        for (uint32_t l = 0; l < lanes; l++)
            list[(size_t)(g0 + l) * K + t] = idx[l];
    }
}

int ri_explore_draw_lists(ri_isa isa, const float *out, uint32_t DP, const float *base,
                          uint32_t n, uint32_t D, uint32_t K, uint32_t *list)
{
    if (K == 0)
        return 1;
    if (isa != RI_ISA_AVX512 || K > LISTS_VEC_K || DP % 16 != 0 || D > DP)
        return draw_lists_base(out, DP, base, n, D, K, list);
    int full = 1;
    for (uint32_t g0 = 0; g0 < D; g0 += 16)
        draw_lists_16(out, DP, g0, base, n, K, D - g0 < 16 ? D - g0 : 16, list, &full);
    return full;
}
