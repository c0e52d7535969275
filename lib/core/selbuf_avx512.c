/* The selection buffer's AVX-512 append: the 16 scores of a panel become 16
 * keys in registers (the same mapping as ri_sel_key: -0 folded into +0, the
 * order-preserving flip, score in the high half, index in the low) and the
 * lanes that are wanted, not NaN and below the bar are compress-stored. The
 * per-lane loop it replaces cost a mispredicted branch or two per kept lane,
 * which for a top-k of hundreds over 10^5 items was most of the selection. */
#include <immintrin.h>

#include "core/selbuf.h"
#include "core/target.h"


RI_TARGET_AVX512 void ri_selbuf_offer_block_avx512(ri_selbuf *b, const float *s16, const uint16_t *m16,
                                       uint32_t np, uint32_t i0)
{
    if (b->k == 0)
        return;
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i flip = _mm512_set1_epi32(INT32_MIN), ones = _mm512_set1_epi32(-1);
    uint64_t *key = b->key;
    uint32_t n = b->n;
    __m512i bar = _mm512_set1_epi64((long long)b->worst);
    /* No branch on the masks: which panels hold candidates is close to random
     * while the bar is still low, and a mispredicted branch costs more than a
     * panel's few instructions. */
    for (uint32_t p = 0; p < np; p++) {
        const __m512 s = _mm512_loadu_ps(s16 + 16 * p);
        const __mmask16 m = _mm512_mask_cmp_ps_mask(m16[p], s, s, _CMP_ORD_Q); /* no NaN */
        if (n + 16 > b->cap) {
            b->n = n;
            ri_selbuf_compact(b);
            n = b->n;
            bar = _mm512_set1_epi64((long long)b->worst);
        }
        /* x + 0 is x except that -0 becomes +0 (round to nearest). */
        const __m512i u = _mm512_castps_si512(_mm512_add_ps(s, _mm512_setzero_ps()));
        const __m512i mapped = _mm512_xor_si512(u, _mm512_or_si512(_mm512_srai_epi32(u, 31), flip));
        const __m512i hi = _mm512_xor_si512(mapped, ones);
        const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32((int)(i0 + 16 * p)), iota);
        for (int half = 0; half < 2; half++) {
            const __mmask8 want = (__mmask8)(m >> (8 * half));
            const __m256i h = half ? _mm512_extracti64x4_epi64(hi, 1) : _mm512_castsi512_si256(hi);
            const __m256i x = half ? _mm512_extracti64x4_epi64(idx, 1) : _mm512_castsi512_si256(idx);
            const __m512i k = _mm512_or_si512(_mm512_slli_epi64(_mm512_cvtepu32_epi64(h), 32),
                                              _mm512_cvtepu32_epi64(x));
            const __mmask8 keep = _mm512_mask_cmplt_epu64_mask(want, k, bar);
            /* Compress in a register and store all 8 (room for 16 is ensured):
             * the memory form of vpcompressq is microcoded and slow on Zen 4. */
            _mm512_storeu_si512((void *)(key + n), _mm512_maskz_compress_epi64(keep, k));
            n += (uint32_t)__builtin_popcount(keep);
        }
    }
    b->n = n;
}
