#include "core/topk.h"

#include <math.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/heap.h"

/* Scores in blocks of 16. With nothing excluded, the k-th largest of the
 * blocks' maxima is a lower bound of the k-th largest score (k blocks each
 * hold a score at least that high), so only blocks whose maximum reaches it
 * can hold a top-k item: about k blocks are offered, whatever the order of
 * the scores. Otherwise, once the heap is full, a block entirely strictly
 * below its root (the worst entry) is skipped. NaN never counts as a maximum
 * and is never offered anyway; ties reach the heap and its index order. */
#define TOPK_BLOCK 16
#define TOPK_BOUND_K 64     /* largest k with the bound (stack buffers) */
#define TOPK_BOUND_BLOCKS 2 /* the bound pays off from this many blocks per k */

static void offer_range(ri_heap *h, const float *scores, uint32_t lo, uint32_t hi,
                        const uint32_t *exclude, size_t n_exclude, size_t *e)
{
    for (uint32_t i = lo; i < hi; i++) {
        /* Strictly below a full heap's root: cannot enter. */
        if (h->size == h->cap && scores[i] < h->score[0])
            continue;
        while (*e < n_exclude && exclude[*e] < i)
            (*e)++;
        if (*e < n_exclude && exclude[*e] == i)
            continue;
        ri_heap_offer(h, scores[i], i);
    }
}

/* maxps keeps its second operand when the first is NaN, as the portable
 * loop's compare does, so both ignore NaN. */
static float block_max(const float *s)
{
#if defined(__SSE2__)
    __m128 m = _mm_set1_ps(-INFINITY);
    for (uint32_t j = 0; j < TOPK_BLOCK; j += 4)
        m = _mm_max_ps(_mm_loadu_ps(s + j), m);
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
#else
    float m = -INFINITY;
    for (uint32_t j = 0; j < TOPK_BLOCK; j++)
        m = s[j] > m ? s[j] : m;
    return m;
#endif
}

static int block_reaches(const float *s, float thr)
{
#if defined(__SSE2__)
    const __m128 t = _mm_set1_ps(thr);
    __m128 any = _mm_setzero_ps();
    for (uint32_t j = 0; j < TOPK_BLOCK; j += 4)
        any = _mm_or_ps(any, _mm_cmpge_ps(_mm_loadu_ps(s + j), t));
    return _mm_movemask_ps(any) != 0;
#else
    int any = 0;
    for (uint32_t j = 0; j < TOPK_BLOCK; j++)
        any |= s[j] >= thr;
    return any;
#endif
}

uint32_t ri_topk(const float *scores, uint32_t n, const uint32_t *exclude, size_t n_exclude,
                 uint32_t k, uint32_t *out_idx, float *out_score)
{
    ri_heap h;
    size_t e = 0;
    ri_heap_init(&h, out_idx, out_score, k);
    if (k == 0)
        return ri_heap_sort(&h);
    const uint32_t nb = n / TOPK_BLOCK;
    float bound = -INFINITY;
    if (n_exclude == 0 && k <= TOPK_BOUND_K && nb >= TOPK_BOUND_BLOCKS * k) {
        uint32_t bi[TOPK_BOUND_K];
        float bs[TOPK_BOUND_K];
        ri_heap bh;
        ri_heap_init(&bh, bi, bs, k);
        for (uint32_t b = 0; b < nb; b++)
            ri_heap_offer(&bh, block_max(scores + (size_t)b * TOPK_BLOCK), b);
        if (bh.size == k)
            bound = bh.score[0];
    }
    uint32_t i = 0;
    for (; i + TOPK_BLOCK <= n; i += TOPK_BLOCK) {
        const float thr = h.size == h.cap && h.score[0] > bound ? h.score[0] : bound;
        if (h.size < h.cap && bound == -INFINITY)
            offer_range(&h, scores, i, i + TOPK_BLOCK, exclude, n_exclude, &e);
        else if (block_reaches(scores + i, thr))
            offer_range(&h, scores, i, i + TOPK_BLOCK, exclude, n_exclude, &e);
    }
    offer_range(&h, scores, i, n, exclude, n_exclude, &e);
    return ri_heap_sort(&h);
}
