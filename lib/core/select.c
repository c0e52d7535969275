/* Single-user top-k: the kernels score a block of panels at a time into a
 * small stack buffer (it stays in L1) together with a mask of the lanes that
 * beat the selection's threshold; only those candidates reach the filters and
 * the selection buffer (selbuf.h). Once a bar is set almost every block reports
 * no candidate, so the selection costs one test per block and the scan runs at
 * memory speed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "core/selbuf.h"
#include "core/kernels.h"

/* Panels per kernel call: 256 scores, 1 KiB, in L1 for the candidate pass. */
#define BLOCK_PANELS 16
/* Selection keys (32 KiB) and quantised user (bytes) kept on the stack. */
#define STACK_KEYS 4096
#define STACK_QUSER 1024

static ri_isa clamp_isa(const ri_core_items *it, ri_isa want)
{
    /* Never run instructions the CPU lacks, whatever the caller asks. */
    return (unsigned)want > (unsigned)it->best_isa ? it->best_isa : want;
}

/* Filter state of one scan. Items are visited in ascending order, so the
 * position in the ascending exclude list only ever moves forward. */
typedef struct {
    const ri_core_filter *f;
    size_t e;
} filter_cursor;

/* The eligible lanes of the panel starting at item i0 (a multiple of 16, so
 * its 16 bits sit in one word of each bitset). */
static inline unsigned eligible16(filter_cursor *c, uint32_t i0)
{
    const ri_core_filter *f = c->f;
    if (!f)
        return 0xffffu;
    unsigned m = 0xffffu;
    if (f->allow)
        m &= (unsigned)(f->allow[i0 >> 6] >> (i0 & 63));
    if (f->block)
        m &= ~(unsigned)(f->block[i0 >> 6] >> (i0 & 63));
    if (f->exclude) {
        while (c->e < f->n_exclude && f->exclude[c->e] < i0)
            c->e++;
        for (size_t e = c->e; e < f->n_exclude && f->exclude[e] < i0 + 16u; e++)
            m &= ~(1u << (f->exclude[e] - i0));
    }
    return m & 0xffffu;
}

/* One of the two kernel kinds, behind a single call shape for the scan. */
typedef struct {
    const ri_core_items *it;
    ri_fp32_block_fn fp32;
    const float *u;
    ri_i8_block_fn i8;
    const ri_quser *uq;
} block_call;

static inline unsigned call_block(const block_call *bc, size_t p0, size_t np, float thr, float *out,
                                  uint16_t *mask)
{
    return bc->fp32 ? bc->fp32(bc->it, bc->u, p0, np, thr, out, mask)
                    : bc->i8(bc->it, bc->uq, p0, np, thr, out, mask);
}

/* Offer every eligible item whose score beats the threshold to b.
 *
 * Why a strict "score > threshold" loses nothing: the selection ranks by
 * (score descending, index ascending) and items arrive in ascending index
 * order, so an item whose score equals the weakest kept score has a larger
 * index than every kept item and ranks below all of them; it could never
 * enter. The threshold given to a kernel may be stale (lower than the current
 * one, which only rises within a block): that only lets extra candidates
 * through, and the buffer makes the exact decision. While fewer than k
 * items are held every eligible item is offered regardless of the mask (even a
 * -inf score must be returned when fewer than k items are eligible); NaN never
 * enters. */
static void scan(const block_call *bc, const ri_core_filter *f, ri_selbuf *b, ri_isa isa)
{
    const ri_core_items *it = bc->it;
    _Alignas(64) float out[BLOCK_PANELS * RI_PANEL];
    uint16_t mask[BLOCK_PANELS];
    filter_cursor cur = {f, 0};
    const ri_offer_block_fn offer = ri_selbuf_offer_block_for(isa);
    for (size_t p0 = 0; p0 < it->n_panels; p0 += BLOCK_PANELS) {
        size_t np = it->n_panels - p0 < BLOCK_PANELS ? it->n_panels - p0 : BLOCK_PANELS;
        /* Filling is decided for the whole block: a lane it lets through once
         * k are held is only an extra candidate, which the buffer sorts out. */
        int filling = ri_selbuf_filling(b);
        unsigned any = call_block(bc, p0, np, ri_selbuf_threshold(b), out, mask);
        if (!any && !filling)
            continue;
        if (filling)
            memset(mask, 0xff, sizeof mask);
        const size_t end = (p0 + np) * RI_PANEL;
        if (end > it->n) /* the last panel's lanes past the catalogue */
            mask[np - 1] &= (uint16_t)((1u << (RI_PANEL - (end - it->n))) - 1u);
        for (size_t p = 0; f && p < np; p++)
            if (mask[p])
                mask[p] &= (uint16_t)eligible16(&cur, (uint32_t)((p0 + p) * RI_PANEL));
        offer(b, out, mask, (uint32_t)np, (uint32_t)(p0 * RI_PANEL));
    }
}

/* Keys for a selection of k: on the stack up to STACK_KEYS, else allocated.
 * The buffer holds 4k keys (at least 256). A compaction costs about the
 * buffer's length and the bar it sets rises with the ratio room / k, while a
 * larger buffer admits more items before its first bar: by the count of
 * appends and compaction work, 2k to 4k is the flat optimum for k in the
 * hundreds over 10^5 items; 256 lets a small k settle within the first blocks. */
typedef struct {
    uint64_t *key;
    uint32_t cap;
    int owned;
} key_room;

static int key_room_get(key_room *r, uint64_t *stack, uint32_t k)
{
    uint64_t want = 4ull * k;
    want = want < 256 ? 256 : want;
    if (want <= STACK_KEYS) {
        r->key = stack;
        r->cap = (uint32_t)want;
        r->owned = 0;
        return RECINT_OK;
    }
    if (2ull * k <= STACK_KEYS) {
        r->key = stack;
        r->cap = STACK_KEYS;
        r->owned = 0;
        return RECINT_OK;
    }
    if (want > UINT32_MAX) /* k past 2^30: the least room the buffer needs */
        want = 2ull * k + 16;
    r->owned = 1;
    if (want > UINT32_MAX) {
        r->key = NULL;
        return RECINT_ENOMEM;
    }
    r->cap = (uint32_t)want;
    r->key = ri_malloc_array(r->cap, sizeof(uint64_t));
    return r->key ? RECINT_OK : RECINT_ENOMEM;
}

static void key_room_free(key_room *r)
{
    if (r->owned)
        free(r->key);
}

static int user_finite(const float *u, uint32_t dim)
{
    for (uint32_t j = 0; j < dim; j++)
        if (!isfinite(u[j]))
            return 0;
    return 1;
}

/* Symmetric quantisation of the user to codes in [-qmax, qmax]. */
static void quantize_user(const float *u, uint32_t dim, int qmax, int8_t *q, ri_quser *uq)
{
    float m = 0.0f;
    for (uint32_t j = 0; j < dim; j++)
        m = fmaxf(m, fabsf(u[j]));
    float s = m > 0.0f ? m / (float)qmax : 1.0f;
    int32_t sum = 0;
    for (uint32_t j = 0; j < dim; j++) {
        long c = lroundf(u[j] / s);
        c = c > qmax ? qmax : c < -qmax ? -qmax : c;
        q[j] = (int8_t)c;
        sum += (int32_t)c;
    }
    memset(q + dim, 0, ri_q_dim4(dim) - dim);
    uq->q = q;
    uq->corr = 128 * sum;
    uq->scale = s;
}

/* The int8 pass keeps a shortlist by approximate score; the exact fp32 chain
 * then ranks the shortlist, so every returned score is exact and the ids are
 * exact unless a true top-k item fell outside the shortlist. */
static uint32_t topk_int8(const ri_core_items *it, const float *u, const ri_core_filter *f,
                          uint32_t k, const ri_core_opts *o, const ri_kernels *K,
                          uint32_t *out_idx, float *out_score, int *status)
{
    uint64_t want = o->shortlist ? o->shortlist : 4ull * k;
    if (want < (uint64_t)k + (o->shortlist ? 0 : 64))
        want = (uint64_t)k + (o->shortlist ? 0 : 64);
    uint32_t L = want > it->n ? it->n : (uint32_t)want;
    uint64_t s_key[STACK_KEYS];
    int8_t s_q[STACK_QUSER];
    int8_t *q = s_q;
    size_t dim4 = ri_q_dim4(it->dim);
    key_room room;
    uint32_t count = 0;
    int rc = key_room_get(&room, s_key, L);
    if (rc == RECINT_OK && dim4 > STACK_QUSER && !(q = RI_NEW_ARRAY(int8_t, dim4)))
        rc = RECINT_ENOMEM;
    if (rc != RECINT_OK) {
        rc = ri_error(RECINT_ENOMEM, "core top-k: out of memory for a shortlist of %u", L);
        if (status)
            *status = rc;
        goto done;
    }
    ri_quser uq;
    quantize_user(u, it->dim, K->i8_qmax, q, &uq);
    block_call bc = {it, NULL, NULL, K->i8, &uq};
    ri_selbuf sel;
    ri_selbuf_init(&sel, room.key, room.cap, L);
    scan(&bc, f, &sel, clamp_isa(it, o ? o->isa : it->best_isa));
    ri_selbuf_keep(&sel);
    /* The shortlist's keys become exact keys in place, then the best k of them
     * are kept and sorted by the same buffer (cap >= 2L >= 2k). */
    uint32_t m = 0;
    for (uint32_t t = 0; t < sel.n; t++) {
        const uint32_t i = ri_sel_key_index(sel.key[t]);
        const float s = ri_core_exact_score(it, u, i);
        if (s == s)
            sel.key[m++] = ri_sel_key(s, i);
    }
    ri_selbuf_init(&sel, room.key, room.cap, k);
    sel.n = m;
    count = ri_selbuf_finish(&sel, out_idx, out_score);
done:
    key_room_free(&room);
    if (q != s_q)
        free(q);
    return count;
}

uint32_t ri_core_topk(const ri_core_items *it, const float *u, const ri_core_filter *f, uint32_t k,
                      const ri_core_opts *o, uint32_t *out_idx, float *out_score, int *status)
{
    if (status)
        *status = RECINT_OK;
    if (!it || (!u && it->dim > 0) || (k > 0 && (!out_idx || !out_score))) {
        int rc = ri_error(RECINT_EINVAL, "core top-k: NULL %s",
                          !it ? "items" : (!u && it->dim > 0) ? "user vector" : "output");
        if (status)
            *status = rc;
        return 0;
    }
    if (k == 0 || it->n == 0)
        return 0;
    /* No more than n can be returned: the buffers are sized for what can be. */
    k = k < it->n ? k : it->n;
    ri_kernels K;
    ri_kernels_get(clamp_isa(it, o ? o->isa : it->best_isa), it->vnni, &K);
    /* Without an int8 copy (or with nothing to quantise, or a user vector the
     * int8 pass cannot scale) the exact path answers: same contract, exact. */
    if (o && o->use_int8 && it->has_int8 && it->dim > 0 && user_finite(u, it->dim))
        return topk_int8(it, u, f, k, o, &K, out_idx, out_score, status);
    uint64_t s_key[STACK_KEYS];
    key_room room;
    if (key_room_get(&room, s_key, k) != RECINT_OK) {
        int rc = ri_error(RECINT_ENOMEM, "core top-k: out of memory for a top-%u", k);
        if (status)
            *status = rc;
        return 0;
    }
    ri_selbuf sel;
    ri_selbuf_init(&sel, room.key, room.cap, k);
    block_call bc = {it, K.fp32, u, NULL, NULL};
    scan(&bc, f, &sel, clamp_isa(it, o ? o->isa : it->best_isa));
    uint32_t count = ri_selbuf_finish(&sel, out_idx, out_score);
    key_room_free(&room);
    return count;
}

void ri_core_score_all(const ri_core_items *it, const float *u, ri_isa isa, float *out)
{
    if (!it || !out || (!u && it->dim > 0))
        return;
    ri_kernels K;
    ri_kernels_get(clamp_isa(it, isa), it->vnni, &K);
    _Alignas(64) float buf[BLOCK_PANELS * RI_PANEL];
    uint16_t mask[BLOCK_PANELS];
    for (size_t p0 = 0; p0 < it->n_panels; p0 += BLOCK_PANELS) {
        size_t np = it->n_panels - p0 < BLOCK_PANELS ? it->n_panels - p0 : BLOCK_PANELS;
        K.fp32(it, u, p0, np, INFINITY, buf, mask);
        size_t first = p0 * RI_PANEL, cnt = np * RI_PANEL;
        if (first + cnt > it->n)
            cnt = it->n - first;
        memcpy(out + first, buf, cnt * sizeof(float));
    }
}

void ri_core_score_some(const ri_core_items *it, const float *u, const uint32_t *items, size_t n,
                        float *out)
{
    if (!it || !out || !items || (!u && it->dim > 0))
        return;
    if (it->best_isa >= RI_ISA_AVX2) {
        ri_core_score_some_fma(it, u, items, n, out);
        return;
    }
    /* An index outside the catalogue has no score: NaN, which no ranking keeps. */
    for (size_t t = 0; t < n; t++)
        out[t] = items[t] < it->n ? ri_core_exact_score(it, u, items[t]) : NAN;
}
