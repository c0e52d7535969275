/* The bounded min-heap every top-k selection uses: it keeps the k best (score,
 * index) pairs seen so far, its root the weakest of them. "Better" is a higher
 * score, or the same score and a smaller index; NaN never enters. */
#ifndef RI_HEAP_H
#define RI_HEAP_H

#include <stdint.h>

typedef struct {
    uint32_t *idx;
    float *score;
    uint32_t size, cap;
} ri_heap;

/* a ranks below b. */
static inline int ri_heap_worse(float sa, uint32_t ia, float sb, uint32_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

static inline void ri_heap_init(ri_heap *h, uint32_t *idx, float *score, uint32_t cap)
{
    h->idx = idx;
    h->score = score;
    h->size = 0;
    h->cap = cap;
}

static inline void ri_heap_swap(ri_heap *h, uint32_t a, uint32_t b)
{
    float ts = h->score[a];
    uint32_t ti = h->idx[a];
    h->score[a] = h->score[b];
    h->idx[a] = h->idx[b];
    h->score[b] = ts;
    h->idx[b] = ti;
}

static inline void ri_heap_sift_down(ri_heap *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && ri_heap_worse(h->score[l], h->idx[l], h->score[m], h->idx[m]))
            m = l;
        if (r < n && ri_heap_worse(h->score[r], h->idx[r], h->score[m], h->idx[m]))
            m = r;
        if (m == i)
            return;
        ri_heap_swap(h, i, m);
        i = m;
    }
}

/* Offer a candidate; returns 1 when it was kept. */
static inline int ri_heap_offer(ri_heap *h, float s, uint32_t i)
{
    if (s != s || h->cap == 0)
        return 0;
    if (h->size < h->cap) {
        uint32_t c = h->size++;
        h->idx[c] = i;
        h->score[c] = s;
        while (c > 0) {
            uint32_t p = (c - 1) / 2;
            if (!ri_heap_worse(h->score[c], h->idx[c], h->score[p], h->idx[p]))
                break;
            ri_heap_swap(h, c, p);
            c = p;
        }
        return 1;
    }
    if (!ri_heap_worse(h->score[0], h->idx[0], s, i))
        return 0;
    h->idx[0] = i;
    h->score[0] = s;
    ri_heap_sift_down(h, h->size, 0);
    return 1;
}

/* Lowest score a candidate must beat once the heap is full (-inf before). */
static inline float ri_heap_threshold(const ri_heap *h)
{
    return h->size < h->cap ? -__builtin_inff() : h->score[0];
}

/* Sort the kept entries best first in place; returns their count. */
static inline uint32_t ri_heap_sort(ri_heap *h)
{
    for (uint32_t end = h->size; end > 1; end--) {
        ri_heap_swap(h, 0, end - 1);
        ri_heap_sift_down(h, end - 1, 0);
    }
    return h->size;
}

#endif
