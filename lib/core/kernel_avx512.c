/* AVX-512 kernels over the 16-item panels. Lane l of a panel's accumulator runs
 * exactly the scalar chain of item p*16+l: acc = fma(u[j], W[.][j], acc) for j
 * in order, then * scale, + bias as separate rounded operations, so the scores
 * are bit-identical to kernel_scalar.c. Only these functions use AVX-512
 * (target attributes); the rest of the library stays baseline x86-64. */
#include <immintrin.h>

#include "core/kernels.h"
#include "core/target.h"


/* Panels scored side by side (independent chains for the FMA latency) and the
 * software prefetch distance in groups. Measured on Zen 4 with 1M items: one
 * panel at a time (a purely sequential read; out-of-order execution overlaps
 * consecutive panels' chains) and no software prefetch streamed fastest; 4
 * panels side by side split the read into 4 short streams the hardware
 * prefetchers follow worse (about half the GB/s for int8). The knobs stay for
 * other machines: cc -DRI_GROUP=4 -DRI_QGROUP=4 -DRI_PF_GROUPS=2. */
#ifndef RI_GROUP
#define RI_GROUP 1
#endif
#ifndef RI_QGROUP
#define RI_QGROUP 1
#endif
#ifndef RI_PF_GROUPS
#define RI_PF_GROUPS 0
#endif
#define GROUP RI_GROUP
#define QGROUP RI_QGROUP

RI_TARGET_AVX512 static inline __m512 finish16(const ri_core_items *it, __m512 s, size_t p)
{
    if (it->scale)
        s = _mm512_mul_ps(s, _mm512_load_ps(it->scale + p * RI_PANEL));
    if (it->bias)
        s = _mm512_add_ps(s, _mm512_load_ps(it->bias + p * RI_PANEL));
    return s;
}

RI_TARGET_AVX512 static inline unsigned emit16(__m512 s, __m512 thr, float *out, uint16_t *mask)
{
    _mm512_storeu_ps(out, s);
    __mmask16 m = _mm512_cmp_ps_mask(s, thr, _CMP_GT_OQ);
    *mask = (uint16_t)m;
    return m;
}

RI_TARGET_AVX512
unsigned ri_fp32_block_avx512(const ri_core_items *it, const float *u, size_t p0, size_t np,
                                   float thr, float *out, uint16_t *mask)
{
    const size_t dim = it->dim, stride = dim * RI_PANEL;
    const __m512 t = _mm512_set1_ps(thr);
    unsigned any = 0;
    size_t p = 0;
    for (; p + GROUP <= np; p += GROUP) {
        const float *P = ri_panel_f32(it, p0 + p);
        __m512 a[GROUP];
#pragma GCC unroll 8
        for (int g = 0; g < GROUP; g++)
            a[g] = _mm512_setzero_ps();
        for (size_t j = 0; j < dim; j++) {
            __m512 x = _mm512_set1_ps(u[j]);
            const float *r = P + j * RI_PANEL;
#if RI_PF_GROUPS > 0
            const char *f = (const char *)(r + RI_PF_GROUPS * GROUP * stride);
#pragma GCC unroll 8
            for (int g = 0; g < GROUP; g++)
                _mm_prefetch(f + g * stride * sizeof(float), _MM_HINT_T0);
#endif
#pragma GCC unroll 8
            for (int g = 0; g < GROUP; g++)
                a[g] = _mm512_fmadd_ps(x, _mm512_load_ps(r + g * stride), a[g]);
        }
#pragma GCC unroll 8
        for (int g = 0; g < GROUP; g++)
            any |= emit16(finish16(it, a[g], p0 + p + g), t, out + (p + g) * RI_PANEL, mask + p + g);
    }
    for (; p < np; p++) {
        const float *P = ri_panel_f32(it, p0 + p);
        __m512 a = _mm512_setzero_ps();
        for (size_t j = 0; j < dim; j++)
            a = _mm512_fmadd_ps(_mm512_set1_ps(u[j]), _mm512_load_ps(P + j * RI_PANEL), a);
        any |= emit16(finish16(it, a, p0 + p), t, out + p * RI_PANEL, mask + p);
    }
    return any;
}

/* Approximate score of a panel from its exact integer dots, as the scalar
 * reference computes it: (float)dot * (qscale * user scale), then the finish. */
RI_TARGET_AVX512_VNNI
static inline __m512 i8_finish16(const ri_core_items *it, const ri_quser *uq, __m512i dot,
                                      size_t p)
{
    __m512 f = _mm512_cvtepi32_ps(_mm512_sub_epi32(dot, _mm512_set1_epi32(uq->corr)));
    __m512 sc = _mm512_mul_ps(_mm512_load_ps(it->qscale + p * RI_PANEL), _mm512_set1_ps(uq->scale));
    return finish16(it, _mm512_mul_ps(f, sc), p);
}

RI_TARGET_AVX512_VNNI static inline __m512i user4(const ri_quser *uq, size_t g)
{
    int32_t w;
    __builtin_memcpy(&w, uq->q + 4 * g, 4);
    return _mm512_set1_epi32(w);
}

RI_TARGET_AVX512_VNNI
unsigned ri_i8_block_vnni(const ri_core_items *it, const ri_quser *uq, size_t p0, size_t np,
                               float thr, float *out, uint16_t *mask)
{
    const size_t groups = ri_q_dim4(it->dim) / 4;
    const __m512 t = _mm512_set1_ps(thr);
    unsigned any = 0;
    size_t p = 0;
#if QGROUP > 1
    const size_t stride = groups * 64;
    for (; p + QGROUP <= np; p += QGROUP) {
        const uint8_t *P = ri_panel_i8(it, p0 + p);
        __m512i a[QGROUP];
#pragma GCC unroll 8
        for (int g = 0; g < QGROUP; g++)
            a[g] = _mm512_setzero_si512();
        for (size_t g4 = 0; g4 < groups; g4++) {
            __m512i x = user4(uq, g4);
            const uint8_t *r = P + g4 * 64;
#if RI_PF_GROUPS > 0
            const char *f = (const char *)(r + RI_PF_GROUPS * QGROUP * stride);
#pragma GCC unroll 8
            for (int g = 0; g < QGROUP; g++)
                _mm_prefetch(f + g * stride, _MM_HINT_T0);
#endif
#pragma GCC unroll 8
            for (int g = 0; g < QGROUP; g++)
                a[g] = _mm512_dpbusd_epi32(a[g], _mm512_load_si512(r + g * stride), x);
        }
#pragma GCC unroll 8
        for (int g = 0; g < QGROUP; g++)
            any |= emit16(i8_finish16(it, uq, a[g], p0 + p + g), t, out + (p + g) * RI_PANEL, mask + p + g);
    }
#endif
    for (; p < np; p++) {
        const uint8_t *P = ri_panel_i8(it, p0 + p);
        /* Four independent accumulators break the chain of dependent vpdpbusd
         * (latency, not throughput, bounds one chain); integer sums are exact in
         * any order, so the result equals the single chain's. */
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        size_t g = 0;
        for (; g + 4 <= groups; g += 4) {
            a0 = _mm512_dpbusd_epi32(a0, _mm512_load_si512(P + g * 64), user4(uq, g));
            a1 = _mm512_dpbusd_epi32(a1, _mm512_load_si512(P + (g + 1) * 64), user4(uq, g + 1));
            a2 = _mm512_dpbusd_epi32(a2, _mm512_load_si512(P + (g + 2) * 64), user4(uq, g + 2));
            a3 = _mm512_dpbusd_epi32(a3, _mm512_load_si512(P + (g + 3) * 64), user4(uq, g + 3));
        }
        for (; g < groups; g++)
            a0 = _mm512_dpbusd_epi32(a0, _mm512_load_si512(P + g * 64), user4(uq, g));
        __m512i a = _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3));
        any |= emit16(i8_finish16(it, uq, a, p0 + p), t, out + p * RI_PANEL, mask + p);
    }
    return any;
}
