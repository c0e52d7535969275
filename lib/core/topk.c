#include "topk.h"

/* a ranks below b: lower score, or the same score and a larger index. */
static inline int worse(float sa, uint32_t ia, float sb, uint32_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

/* Min-heap on "worse" whose root is the weakest kept entry. */
static void sift_down(uint32_t *idx, float *sc, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(sc[l], idx[l], sc[m], idx[m]))
            m = l;
        if (r < n && worse(sc[r], idx[r], sc[m], idx[m]))
            m = r;
        if (m == i)
            return;
        float ts = sc[i];
        uint32_t ti = idx[i];
        sc[i] = sc[m];
        idx[i] = idx[m];
        sc[m] = ts;
        idx[m] = ti;
        i = m;
    }
}

static void sift_up(uint32_t *idx, float *sc, uint32_t i)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!worse(sc[i], idx[i], sc[p], idx[p]))
            return;
        float ts = sc[i];
        uint32_t ti = idx[i];
        sc[i] = sc[p];
        idx[i] = idx[p];
        sc[p] = ts;
        idx[p] = ti;
        i = p;
    }
}

uint32_t ri_topk(const float *scores, uint32_t n, const uint32_t *exclude, size_t n_exclude,
                 uint32_t k, uint32_t *out_idx, float *out_score)
{
    uint32_t size = 0;
    size_t e = 0;
    if (k == 0)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        while (e < n_exclude && exclude[e] < i)
            e++;
        if (e < n_exclude && exclude[e] == i)
            continue;
        float s = scores[i];
        if (s != s)
            continue;
        if (size < k) {
            out_idx[size] = i;
            out_score[size] = s;
            sift_up(out_idx, out_score, size);
            size++;
        } else if (worse(out_score[0], out_idx[0], s, i)) {
            out_idx[0] = i;
            out_score[0] = s;
            sift_down(out_idx, out_score, size, 0);
        }
    }
    /* Heap sort: repeatedly move the weakest to the end, giving best-first order. */
    for (uint32_t end = size; end > 1; end--) {
        float ts = out_score[0];
        uint32_t ti = out_idx[0];
        out_score[0] = out_score[end - 1];
        out_idx[0] = out_idx[end - 1];
        out_score[end - 1] = ts;
        out_idx[end - 1] = ti;
        sift_down(out_idx, out_score, end - 1, 0);
    }
    return size;
}
