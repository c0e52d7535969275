#include "topk.h"

#include "heap.h"

uint32_t ri_topk(const float *scores, uint32_t n, const uint32_t *exclude, size_t n_exclude,
                 uint32_t k, uint32_t *out_idx, float *out_score)
{
    ri_heap h;
    size_t e = 0;
    ri_heap_init(&h, out_idx, out_score, k);
    for (uint32_t i = 0; i < n && k > 0; i++) {
        while (e < n_exclude && exclude[e] < i)
            e++;
        if (e < n_exclude && exclude[e] == i)
            continue;
        ri_heap_offer(&h, scores[i], i);
    }
    return ri_heap_sort(&h);
}
