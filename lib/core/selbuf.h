/* The selection buffer behind the single-user top-k: candidates that beat the
 * current threshold are appended, and when the buffer is full a quickselect
 * keeps the k best and raises the threshold to the weakest of them.
 *
 * Why not a heap: a heap pays about log2(k) unpredictable branches for every
 * candidate it keeps, and a top-k of hundreds over a large catalogue keeps
 * thousands (k ln(n/k) when the order is random): at k = 500 over 100k items
 * that cost 40% of a memory-bound scan. Appending is a store; a compaction is
 * linear in the buffer and runs a few times per scan.
 *
 * Order: as ri_heap's (score descending, then index ascending); NaN never
 * enters. A candidate is a 64-bit key, smaller is better: the high half is the
 * score mapped to an unsigned order (descending; -0 and +0 are one value, so
 * ties between them fall to the index as they do in the heap's float compare),
 * the low half the index. Keys are distinct when indices are. */
#ifndef RI_SELBUF_H
#define RI_SELBUF_H

#include <stdint.h>
#include <string.h>

typedef struct {
    uint64_t *key;  /* cap entries: the kept ones first after a compaction */
    uint32_t n;     /* entries in key */
    uint32_t cap;   /* >= 2k (finish sorts in the second half) */
    uint32_t k;
    int bounded;    /* a compaction kept k entries: worst is the bar to beat */
    uint64_t worst; /* largest kept key */
    float thr;      /* its score */
} ri_selbuf;

static inline uint64_t ri_sel_key(float s, uint32_t i)
{
    uint32_t u;
    if (s == 0.0f)
        s = 0.0f; /* -0 -> +0 */
    memcpy(&u, &s, 4);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u); /* ascending with s */
    return ((uint64_t)~u << 32) | i;
}

static inline uint32_t ri_sel_key_index(uint64_t key) { return (uint32_t)key; }

static inline float ri_sel_key_score(uint64_t key)
{
    uint32_t u = ~(uint32_t)(key >> 32);
    u = (u & 0x80000000u) ? (u & 0x7fffffffu) : ~u;
    float s;
    memcpy(&s, &u, 4);
    return s;
}

/* Buffer of cap keys (cap >= 2k, and cap >= 2 when k is 0). */
static inline void ri_selbuf_init(ri_selbuf *b, uint64_t *key, uint32_t cap, uint32_t k)
{
    b->key = key;
    b->n = 0;
    b->cap = cap;
    b->k = k;
    b->bounded = 0;
    b->worst = UINT64_MAX;
    b->thr = -__builtin_inff();
}

/* Make room (k < n): keep the k best, or a few more when a sampled bar
 * already rules the rest out, and raise the bar. */
void ri_selbuf_compact(ri_selbuf *b);

/* While fewer than k entries are held every eligible item must be offered (even
 * -inf has to be returned when fewer than k items are eligible). */
static inline int ri_selbuf_filling(const ri_selbuf *b) { return !b->bounded && b->n < b->k; }

/* Lowest score a candidate must beat (-inf while no bar is set). An item whose
 * score equals it never enters when items come in ascending index order. */
static inline float ri_selbuf_threshold(const ri_selbuf *b) { return b->thr; }

static inline void ri_selbuf_offer(ri_selbuf *b, float s, uint32_t i)
{
    if (s != s || b->k == 0)
        return;
    const uint64_t key = ri_sel_key(s, i);
    if (key >= b->worst)
        return;
    b->key[b->n++] = key;
    if (b->n == b->cap)
        ri_selbuf_compact(b);
}

/* Offer a block of np panels: panel p's scores s[16p .. 16p+16) are items
 * i0 + 16p + lane, and only the lanes set in m[p] are offered. One
 * implementation per instruction set, same result. */
typedef void (*ri_offer_block_fn)(ri_selbuf *b, const float *s, const uint16_t *m, uint32_t np,
                                  uint32_t i0);
void ri_selbuf_offer_block(ri_selbuf *b, const float *s, const uint16_t *m, uint32_t np,
                           uint32_t i0);
/* AVX-512: keys built 16 at a time and compress-stored, no branch per lane.
 * Needs cap >= k + 16 (ri_core_topk's buffers have it). */
void ri_selbuf_offer_block_avx512(ri_selbuf *b, const float *s, const uint16_t *m, uint32_t np,
                                  uint32_t i0);
/* The implementation for a level (the level must be one the CPU has). */
ri_offer_block_fn ri_selbuf_offer_block_for(int isa);

/* Keep exactly the best min(k, offered) entries, unordered, in key[0..n). */
void ri_selbuf_keep(ri_selbuf *b);

/* The best min(k, offered) entries, best first, into idx / score (either may be
 * NULL). Returns their count. The buffer is spent afterwards. */
uint32_t ri_selbuf_finish(ri_selbuf *b, uint32_t *idx, float *score);

/* Put the k smallest of key[0..n) first (k < n), in no particular order. */
void ri_sel_nth(uint64_t *key, uint32_t n, uint32_t k);
/* Sort key[0..n) ascending; tmp: n keys of scratch. */
void ri_sel_sort(uint64_t *key, uint32_t n, uint64_t *tmp);

#endif
