/* AVX2+FMA kernels over the 16-item panels (two 8-lane halves per panel). Each
 * lane runs the scalar chain of its item in dimension order, so scores are
 * bit-identical to kernel_scalar.c. */
#include <immintrin.h>

#include "core/kernels.h"
#include "core/target.h"


RI_TARGET_AVX2 static inline __m256 finish8(const ri_core_items *it, __m256 s, size_t first)
{
    if (it->scale)
        s = _mm256_mul_ps(s, _mm256_load_ps(it->scale + first));
    if (it->bias)
        s = _mm256_add_ps(s, _mm256_load_ps(it->bias + first));
    return s;
}

RI_TARGET_AVX2 static inline unsigned emit(__m256 lo, __m256 hi, __m256 thr, float *out, uint16_t *mask)
{
    _mm256_storeu_ps(out, lo);
    _mm256_storeu_ps(out + 8, hi);
    unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(lo, thr, _CMP_GT_OQ)) |
                 (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(hi, thr, _CMP_GT_OQ)) << 8;
    *mask = (uint16_t)m;
    return m;
}

RI_TARGET_AVX2 float ri_core_exact_score_fma(const ri_core_items *it, const float *u, uint32_t i)
{
    const float *w = ri_item_row(it, i);
    float s = 0.0f;
    for (uint32_t j = 0; j < it->dim; j++)
        s = __builtin_fmaf(u[j], w[j], s);
    if (it->scale)
        s = s * it->scale[i];
    if (it->bias)
        s = s + it->bias[i];
    return s;
}

/* Exact scores of 8 scattered items at once: lane l runs item l's chain in
 * dimension order (one gather per dimension), so each lane equals
 * ri_core_exact_score_fma; eight chains in flight hide the FMA latency that
 * makes one chain slow. Every item must be < it->n, and it->n * dim must fit
 * in 31 bits (the gather's signed offsets). */
RI_TARGET_AVX2 static void exact_score8(const ri_core_items *it, const float *u, const uint32_t *items,
                              float *out)
{
    const int dim = (int)it->dim;
    __m256i row = _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)items),
                                     _mm256_set1_epi32(dim));
    __m256 acc = _mm256_setzero_ps();
    for (int j = 0; j < dim; j++) {
        __m256 w = _mm256_i32gather_ps(it->W + j, row, 4);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(u[j]), w, acc);
    }
    __m256i idx = _mm256_loadu_si256((const __m256i *)items);
    if (it->scale)
        acc = _mm256_mul_ps(acc, _mm256_i32gather_ps(it->scale, idx, 4));
    if (it->bias)
        acc = _mm256_add_ps(acc, _mm256_i32gather_ps(it->bias, idx, 4));
    _mm256_storeu_ps(out, acc);
}

RI_TARGET_AVX2 void ri_core_score_some_fma(const ri_core_items *it, const float *u, const uint32_t *items,
                                 size_t n, float *out)
{
    size_t t = 0;
    if (it->dim > 0 && (uint64_t)it->n * it->dim < ((uint64_t)1 << 31))
        for (; t + 8 <= n; t += 8) {
            int inside = 1;
            for (size_t l = 0; l < 8; l++)
                inside &= items[t + l] < it->n;
            if (!inside)
                break;
            exact_score8(it, u, items + t, out + t);
        }
    for (; t < n; t++)
        out[t] = items[t] < it->n ? ri_core_exact_score_fma(it, u, items[t]) : __builtin_nanf("");
}

RI_TARGET_AVX2 unsigned ri_fp32_block_avx2(const ri_core_items *it, const float *u, size_t p0, size_t np,
                                 float thr, float *out, uint16_t *mask)
{
    const size_t dim = it->dim;
    const __m256 t = _mm256_set1_ps(thr);
    unsigned any = 0;
    /* One panel at a time: a sequential read (see kernel_avx512.c). */
    for (size_t p = 0; p < np; p++) {
        const float *P = ri_panel_f32(it, p0 + p);
        __m256 a0 = _mm256_setzero_ps(), a1 = a0;
        for (size_t j = 0; j < dim; j++) {
            __m256 x = _mm256_broadcast_ss(u + j);
            a0 = _mm256_fmadd_ps(x, _mm256_load_ps(P + j * RI_PANEL), a0);
            a1 = _mm256_fmadd_ps(x, _mm256_load_ps(P + j * RI_PANEL + 8), a1);
        }
        size_t f = (p0 + p) * RI_PANEL;
        any |= emit(finish8(it, a0, f), finish8(it, a1, f + 8), t, out + p * RI_PANEL, mask + p);
    }
    return any;
}

RI_TARGET_AVX2 static inline __m256 i8_finish8(const ri_core_items *it, const ri_quser *uq, __m256i dot,
                                     size_t first)
{
    __m256 f = _mm256_cvtepi32_ps(_mm256_sub_epi32(dot, _mm256_set1_epi32(uq->corr)));
    __m256 sc = _mm256_mul_ps(_mm256_load_ps(it->qscale + first), _mm256_set1_ps(uq->scale));
    return finish8(it, _mm256_mul_ps(f, sc), first);
}

/* vpmaddubsw adds two u8*s8 products into a saturating int16: with item bytes
 * up to 255 and user codes within [-63, 63] (ri_kernels.i8_qmax) the pair sum
 * stays within +-32130, so every step is exact. */
RI_TARGET_AVX2 static inline __m256i dot4(__m256i acc, const uint8_t *r, __m256i x, __m256i ones)
{
    __m256i pairs = _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)r), x);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
}

RI_TARGET_AVX2 unsigned ri_i8_block_avx2(const ri_core_items *it, const ri_quser *uq, size_t p0, size_t np,
                               float thr, float *out, uint16_t *mask)
{
    const size_t groups = ri_q_dim4(it->dim) / 4;
    const __m256 t = _mm256_set1_ps(thr);
    const __m256i ones = _mm256_set1_epi16(1);
    unsigned any = 0;
    for (size_t p = 0; p < np; p++) {
        const uint8_t *P = ri_panel_i8(it, p0 + p);
        __m256i lo = _mm256_setzero_si256(), hi = lo, lo2 = lo, hi2 = lo;
        size_t g = 0;
        /* Two groups per step: four independent integer chains. */
        for (; g + 2 <= groups; g += 2) {
            int32_t w0, w1;
            __builtin_memcpy(&w0, uq->q + 4 * g, 4);
            __builtin_memcpy(&w1, uq->q + 4 * g + 4, 4);
            __m256i x0 = _mm256_set1_epi32(w0), x1 = _mm256_set1_epi32(w1);
            const uint8_t *r = P + g * 64;
            lo = dot4(lo, r, x0, ones);
            hi = dot4(hi, r + 32, x0, ones);
            lo2 = dot4(lo2, r + 64, x1, ones);
            hi2 = dot4(hi2, r + 96, x1, ones);
        }
        for (; g < groups; g++) {
            int32_t w;
            __builtin_memcpy(&w, uq->q + 4 * g, 4);
            __m256i x = _mm256_set1_epi32(w);
            lo = dot4(lo, P + g * 64, x, ones);
            hi = dot4(hi, P + g * 64 + 32, x, ones);
        }
        lo = _mm256_add_epi32(lo, lo2);
        hi = _mm256_add_epi32(hi, hi2);
        size_t f = (p0 + p) * RI_PANEL;
        any |= emit(i8_finish8(it, uq, lo, f), i8_finish8(it, uq, hi, f + 8), t,
                    out + p * RI_PANEL, mask + p);
    }
    return any;
}
