#include "core/selbuf.h"

#include "core/core.h"

static inline void swap_keys(uint64_t *a, uint64_t *b)
{
    uint64_t t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(uint64_t *a, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        uint32_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

static void sift_down_max(uint64_t *a, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        if (l < n && a[l] > a[m])
            m = l;
        if (l + 1 < n && a[l + 1] > a[m])
            m = l + 1;
        if (m == i)
            return;
        swap_keys(&a[i], &a[m]);
        i = m;
    }
}

/* O(n log n) whatever the input: the fallback when quickselect's pivots keep
 * failing (an adversarial order), so no input makes a selection quadratic. */
static void heap_sort(uint64_t *a, uint32_t n)
{
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down_max(a, n, i);
    for (uint32_t end = n; end > 1; end--) {
        swap_keys(&a[0], &a[end - 1]);
        sift_down_max(a, end - 1, 0);
    }
}

static uint64_t median3(uint64_t a, uint64_t b, uint64_t c)
{
    if (a > b)
        swap_keys(&a, &b);
    if (b > c)
        b = c;
    return a > b ? a : b;
}

/* Branch-free Lomuto: the keys of [lo, hi) below p gather at the front; returns
 * where they end. The range stays a permutation of itself. */
static uint32_t partition_below(uint64_t *a, uint32_t lo, uint32_t hi, uint64_t p)
{
    uint32_t store = lo;
    for (uint32_t i = lo; i < hi; i++) {
        const uint64_t v = a[i];
        a[i] = a[store];
        a[store] = v;
        store += v < p;
    }
    return store;
}

void ri_sel_nth(uint64_t *a, uint32_t n, uint32_t k)
{
    if (k == 0 || k >= n)
        return;
    const uint32_t nth = k - 1;
    uint32_t lo = 0, hi = n;
    int budget = 2;
    for (uint32_t m = n; m > 1; m >>= 1)
        budget += 2;
    while (hi - lo > 24) {
        if (budget-- == 0) {
            heap_sort(a + lo, hi - lo);
            return;
        }
        const uint32_t len = hi - lo;
        const uint64_t p = median3(a[lo], a[lo + len / 2], a[hi - 1]);
        /* Keys are distinct, so p sits exactly once in the range. */
        const uint32_t store = partition_below(a, lo, hi, p);
        /* [lo, store) < p <= [store, hi): move p to store. */
        for (uint32_t i = store; i < hi; i++)
            if (a[i] == p) {
                swap_keys(&a[i], &a[store]);
                break;
            }
        if (store == nth)
            return;
        if (store > nth)
            hi = store;
        else
            lo = store + 1;
    }
    insertion_sort(a + lo, hi - lo);
}

/* LSD radix sort by bytes; a byte every key shares costs one count pass. */
void ri_sel_sort(uint64_t *key, uint32_t n, uint64_t *tmp)
{
    if (n <= 32) {
        insertion_sort(key, n);
        return;
    }
    uint64_t *src = key, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        uint32_t count[256] = {0};
        for (uint32_t i = 0; i < n; i++)
            count[(src[i] >> shift) & 0xff]++;
        if (count[(src[0] >> shift) & 0xff] == n)
            continue;
        uint32_t sum = 0;
        for (int d = 0; d < 256; d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != key)
        memcpy(key, src, (size_t)n * sizeof *key);
}

/* Between compactions the bar need not be the k-th best exactly: any key with
 * at least k kept keys below it can never be among the k best, so a bar a little
 * above the k-th loses nothing. A pivot read off a sorted sample of 63 keys,
 * a few ranks past the one k/n predicts, keeps somewhat more than k in one
 * partition pass, where an exact quickselect makes about three; an unlucky
 * sample (fewer than k below it, or too little room won) falls back to the
 * exact selection. */
#define SAMPLE 63
#define SAMPLE_SLACK 4

static int compact_by_sample(ri_selbuf *b)
{
    const uint32_t n = b->n, k = b->k;
    if (n < 4 * SAMPLE || k == 0)
        return 0;
    const uint32_t r = (uint32_t)(((uint64_t)k * SAMPLE + n - 1) / n) + SAMPLE_SLACK;
    if (r >= SAMPLE - 1)
        return 0;
    uint64_t smp[SAMPLE];
    for (uint32_t t = 0; t < SAMPLE; t++)
        smp[t] = b->key[(uint64_t)t * n / SAMPLE];
    insertion_sort(smp, SAMPLE);
    const uint64_t p = smp[r];
    const uint32_t store = partition_below(b->key, 0, n, p);
    if (store < k || store > n - n / 8)
        return 0; /* still a permutation of the buffer: the exact route follows */
    b->n = store;
    b->bounded = 1;
    b->worst = p;
    b->thr = ri_sel_key_score(p);
    return 1;
}

void ri_selbuf_compact(ri_selbuf *b)
{
    if (b->n <= b->k)
        return;
    if (compact_by_sample(b))
        return;
    ri_sel_nth(b->key, b->n, b->k);
    uint64_t w = 0;
    for (uint32_t t = 0; t < b->k; t++)
        w = b->key[t] > w ? b->key[t] : w;
    b->n = b->k;
    b->bounded = 1;
    b->worst = w;
    b->thr = ri_sel_key_score(w);
}

void ri_selbuf_keep(ri_selbuf *b)
{
    if (b->n <= b->k)
        return;
    ri_sel_nth(b->key, b->n, b->k);
    b->n = b->k;
}

uint32_t ri_selbuf_finish(ri_selbuf *b, uint32_t *idx, float *score)
{
    ri_selbuf_keep(b);
    const uint32_t n = b->n;
    ri_sel_sort(b->key, n, b->key + n);
    for (uint32_t t = 0; t < n; t++) {
        if (idx)
            idx[t] = ri_sel_key_index(b->key[t]);
        if (score)
            score[t] = ri_sel_key_score(b->key[t]);
    }
    return n;
}

void ri_selbuf_offer_block(ri_selbuf *b, const float *s, const uint16_t *m, uint32_t np,
                           uint32_t i0)
{
    for (uint32_t p = 0; p < np; p++)
        for (unsigned bits = m[p]; bits; bits &= bits - 1) {
            const unsigned lane = (unsigned)__builtin_ctz(bits);
            ri_selbuf_offer(b, s[16 * p + lane], i0 + 16 * p + lane);
        }
}

ri_offer_block_fn ri_selbuf_offer_block_for(int isa)
{
    return isa == RI_ISA_AVX512 ? ri_selbuf_offer_block_avx512 : ri_selbuf_offer_block;
}
