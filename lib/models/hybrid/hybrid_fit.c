/* Training of the hybrid kind: stochastic gradient steps over the training rows
 * in a new random order every epoch (a shuffled array of (user, row number)
 * pairs: 8 bytes a row beside the dataset, whose CSR gives item and weight),
 * Hogwild-style across threads (workers update the shared
 * embeddings without locks; collisions are rare and harmless, as in LightFM),
 * one optimizer step per touched feature column.
 *
 * With threads=1 a fit is a pure function of its inputs and seed: the order
 * comes from a seeded stream per epoch, and every block of BLOCK rows draws its
 * negatives from a stream of its own. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "util/error.h"
#include "models/hybrid/hybrid_internal.h"
#include "learn/loss.h"
#include "models/model_private.h"
#include "util/parallel.h"
#include "util/rng.h"
#include "util/sorted.h"
#include "core/target.h"
#include "learn/optim.h"

/* Rows per negative-sampling stream and per work chunk of a thread. */
#define BLOCK 4096
/* warp candidates drawn ahead of the one being scored (a power of two). */
#define AHEAD 4
/* warp-kos draws at most this many positives per step. */
#define KOS_MAX 256
/* Segments of an epoch after each of which the user history is updated
 * (chosen on the P1 validation split, docs/hybrid.md: one flush per epoch
 * made the quality swing from epoch to epoch, .083-.105 P@10). */
#define HIST_SEGMENTS 4
/* Adam's decay rates and epsilon (Kingma and Ba's defaults). */
#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8

#define HOT RI_INLINE_BODY

/* Eight-float vectors (GCC/Clang vector extension): AVX registers in the avx2
 * copy, pairs of SSE registers in the baseline one. */
typedef float v8 __attribute__((vector_size(32)));

/* Unaligned load (compiles to one vmovups); a macro, since a function returning
 * a vector would change the baseline copy's ABI. */
#define LOAD8(dst, p) memcpy(&(dst), (p), sizeof(v8))

static HOT float dot(const float *a, const float *b, uint32_t d)
{
    v8 acc0 = {0}, acc1 = {0};
    uint32_t k = 0;
    v8 x0, y0, x1, y1;
    for (; k + 16 <= d; k += 16) {
        LOAD8(x0, a + k);
        LOAD8(y0, b + k);
        LOAD8(x1, a + k + 8);
        LOAD8(y1, b + k + 8);
        acc0 += x0 * y0;
        acc1 += x1 * y1;
    }
    if (k + 8 <= d) {
        LOAD8(x0, a + k);
        LOAD8(y0, b + k);
        acc0 += x0 * y0;
        k += 8;
    }
    acc0 += acc1;
    float sum = ((acc0[0] + acc0[4]) + (acc0[1] + acc0[5])) +
                ((acc0[2] + acc0[6]) + (acc0[3] + acc0[7]));
    for (; k < d; k++)
        sum += a[k] * b[k];
    return sum;
}

/* Representation and bias of row r of side s: for identity the embedding row
 * itself, else the feature sum written into scratch (dim floats). */
static HOT const float *rep_of(const hyb_side *s, uint32_t d, uint32_t r, float *scratch,
                               float *bias)
{
    if (!s->indptr) {
        *bias = s->bias[r];
        return s->emb + (size_t)r * d;
    }
    float b = 0.0f;
    memset(scratch, 0, d * sizeof(float));
    for (uint64_t e = s->indptr[r]; e < s->indptr[r + 1]; e++) {
        const float x = s->val[e];
        const float *w = s->emb + (size_t)s->idx[e] * d;
        for (uint32_t k = 0; k < d; k++)
            scratch[k] += x * w[k];
        b += x * s->bias[s->idx[e]];
    }
    *bias = b;
    return scratch;
}

/* One optimizer step on column c of side s: gradient x * coef * v + alpha * E_c
 * for the embedding, x * gb for the bias. */
static HOT void update_col(int avx, hyb_side *s, const hyb_params *p, uint32_t c, float x,
                           float coef, const float *restrict v, float gb, float alpha)
{
    const uint32_t d = p->dim;
    float *restrict w = s->emb + (size_t)c * d;
    const float xc = x * coef, lr = (float)p->lr;
    if (p->optimizer == HYB_OPT_ADAGRAD) {
        /* moments: the row accumulators, then the bias accumulators */
        RI_ADAGRAD_ROW(avx, w, s->m1 + c, v, xc, alpha, lr, d);
        ri_adagrad_update(&s->bias[c], &s->m1[s->cols + c], x * gb, lr);
    } else if (p->optimizer == HYB_OPT_ADAM) {
        float *restrict m1 = s->m1 + (size_t)c * d;
        float *restrict m2 = s->m2 + (size_t)c * d;
        /* a column's steps count its own updates (sparse Adam) */
        const ri_adam ad = ri_adam_at(p->lr, ADAM_B1, ADAM_B2, ADAM_EPS, ++s->steps[c]);
        for (uint32_t k = 0; k < d; k++)
            ri_adam_update(&w[k], &m1[k], &m2[k], xc * v[k] + alpha * w[k], &ad);
        const size_t b = (size_t)s->cols * d + c;
        ri_adam_update(&s->bias[c], &s->m1[b], &s->m2[b], x * gb, &ad);
    } else {
        float *restrict m1 = s->m1 + (size_t)c * d;
        for (uint32_t k = 0; k < d; k++)
            m1[k] += xc * v[k] + alpha * w[k];
        s->m1[(size_t)s->cols * d + c] += x * gb;
    }
}

/* Gradient coef * v (w.r.t. the representation) and gb (w.r.t. the bias) of
 * row r, spread over the row's live feature columns. */
static HOT void apply_row(int avx, hyb_side *s, const hyb_params *p, const uint8_t *live, uint32_t r,
                          float coef, const float *v, float gb, float alpha)
{
    if (!s->indptr) {
        if (!live || live[r])
            update_col(avx, s, p, r, 1.0f, coef, v, gb, alpha);
        return;
    }
    for (uint64_t e = s->indptr[r]; e < s->indptr[r + 1]; e++)
        if (!live || live[s->idx[e]])
            update_col(avx, s, p, s->idx[e], s->val[e], coef, v, gb, alpha);
}

/* Start loading row r of an identity side (embedding and bias). */
static HOT void prefetch_row(const hyb_side *s, uint32_t d, uint32_t r)
{
#if defined(__GNUC__)
    if (s->indptr)
        return;
    const char *p = (const char *)(s->emb + (size_t)r * d);
    for (size_t off = 0; off < (size_t)d * sizeof(float); off += 64)
        __builtin_prefetch(p + off);
    __builtin_prefetch(s->bias + r);
#else
    (void)s;
    (void)d;
    (void)r;
#endif
}

/* Scratch of one worker: representations of the user, positive and negative,
 * the user's gradient, and warp-kos's candidates. */
typedef struct {
    float *ru, *ri, *rj, *gu;
} worker_scratch;

/* The triple's gradient: user gets d_pos r_i + d_neg r_j, the items d r_u.
 * Every gradient is formed before any parameter moves. */
static HOT void apply_triple(int avx, hyb_state *s, const hyb_params *p, const uint8_t *live_u,
                             const uint8_t *live_i, uint32_t u, uint32_t i, uint32_t j,
                             const float *ru, const float *ri, const float *rj, float d_pos,
                             float d_neg, float *gu)
{
    const uint32_t d = p->dim;
    for (uint32_t k = 0; k < d; k++)
        gu[k] = d_pos * ri[k] + (rj ? d_neg * rj[k] : 0.0f);
    /* ru may be the user's embedding row, which apply_row(user) changes: the
     * items go first. */
    apply_row(avx, &s->item, p, live_i, i, d_pos, ru, d_pos, (float)p->item_alpha);
    if (rj)
        apply_row(avx, &s->item, p, live_i, j, d_neg, ru, d_neg, (float)p->item_alpha);
    apply_row(avx, &s->user, p, live_u, u, 1.0f, gu, d_pos + (rj ? d_neg : 0.0f),
              (float)p->user_alpha);
    if (!s->hemb)
        return;
    if (p->optimizer == HYB_OPT_GRADIENT) {
        for (uint64_t e = s->hptr[u]; e < s->hptr[u + 1]; e++) {
            float *g = s->hm1 + (size_t)s->hidx[e] * d;
            const float *w = s->hemb + (size_t)s->hidx[e] * d;
            for (uint32_t k = 0; k < d; k++)
                g[k] += s->hval[e] * gu[k] + (float)p->user_alpha * w[k];
        }
        return;
    }
    /* The history rows get this gradient at the next flush (hist_flush): one
     * step per history item per step would cost n_u row updates. (A
     * history-only user's row moved itself: the flush reads its move.) */
    if (!s->hgrad)
        return;
    float *restrict acc = s->hgrad + (size_t)u * d;
    for (uint32_t k = 0; k < d; k++)
        acc[k] += gu[k];
}

/* ------------------------------------------------------------------------ */
/* One epoch                                                                */
/* ------------------------------------------------------------------------ */

typedef struct {
    hyb_state *s;
    const hyb_params *p;
    const uint64_t *perm;        /* this epoch's order: user << 32 | row number */
    const float *w;              /* weight of each training row, or NULL: all 1 */
    const uint64_t *row_ptr;     /* training rows by user (exclusion of positives) */
    const uint32_t *row_items;
    const uint8_t *live_u, *live_i;
    const uint32_t *neg_pool; /* items negatives are drawn from, or NULL: all */
    uint32_t n_neg;
    uint32_t epoch;
    size_t offset;               /* of the current segment in perm */
    int hist_only;               /* the user representation is the history sum */
    double *loss;                /* per worker, 8 doubles apart */
    float *scratch;              /* per worker, 4 * dim floats */
} epoch_job;

/* A negative candidate: from the pool when there is one (see train_epochs). */
static HOT uint32_t draw_negative(const epoch_job *job, ri_rng *rng)
{
    return job->neg_pool ? job->neg_pool[ri_rng_below32(rng, job->n_neg)]
                         : ri_rng_below32(rng, job->s->item.rows);
}

static HOT int is_positive(const epoch_job *job, uint32_t u, uint32_t j)
{
    const uint64_t b = job->row_ptr[u];
    return ri_sorted_has(job->row_items + b, job->row_ptr[u + 1] - b, j);
}

/* warp-kos (Weston et al. 2013): of kos_n positives of u drawn at random, the
 * one scored kos_k-th highest stands in for the positive. */
static HOT uint32_t kos_pick(const epoch_job *job, ri_rng *rng, uint32_t u, const float *ru,
                             float *scratch)
{
    const hyb_state *s = job->s;
    const uint32_t d = job->p->dim;
    const uint64_t beg = job->row_ptr[u];
    const uint32_t len = (uint32_t)(job->row_ptr[u + 1] - beg);
    uint32_t cand[KOS_MAX];
    float score[KOS_MAX];
    const uint32_t n = job->p->kos_n;
    for (uint32_t t = 0; t < n; t++) {
        float b;
        cand[t] = job->row_items[beg + ri_rng_below32(rng, len)];
        const float *r = rep_of(&s->item, d, cand[t], scratch, &b);
        score[t] = dot(ru, r, d) + b;
    }
    /* partial selection sort down to the k-th */
    const uint32_t k = job->p->kos_k < n ? job->p->kos_k : n;
    for (uint32_t a = 0; a < k; a++) {
        uint32_t best = a;
        for (uint32_t b = a + 1; b < n; b++)
            if (score[b] > score[best])
                best = b;
        float ts = score[a];
        score[a] = score[best];
        score[best] = ts;
        uint32_t tc = cand[a];
        cand[a] = cand[best];
        cand[best] = tc;
    }
    return cand[k - 1];
}

/* One positive row: a step of the configured loss. Returns its loss. */
static HOT double train_pair(int avx, const epoch_job *job, ri_rng *rng, uint32_t u, uint32_t i, float w,
                             float *sc)
{
    hyb_state *s = job->s;
    const hyb_params *p = job->p;
    const uint32_t d = p->dim, n_items = s->item.rows;
    float *ru_buf = sc, *ri_buf = sc + d, *rj_buf = sc + 2 * d, *gu = sc + 3 * d;
    float bu, bi, bj, dp, dn;
    const float *ru = rep_of(&s->user, d, u, ru_buf, &bu);
    if (s->hsum && job->hist_only) {
        ru = s->hsum + (size_t)u * d;
    } else if (s->hsum) {
        /* the history part as of the last flush */
        const float *h = s->hsum + (size_t)u * d;
        for (uint32_t k = 0; k < d; k++)
            ru_buf[k] = ru[k] + h[k];
        ru = ru_buf;
    }
    if (p->loss == HYB_LOSS_WARP_KOS)
        i = kos_pick(job, rng, u, ru, ri_buf);
    const float *ri = rep_of(&s->item, d, i, ri_buf, &bi);
    const float sp = dot(ru, ri, d) + bu + bi;
    double loss = 0;
    if (p->loss == HYB_LOSS_LOGISTIC || p->loss == HYB_LOSS_BPR) {
        uint32_t j = draw_negative(job, rng);
        for (int tries = 0; tries < 8 && is_positive(job, u, j); tries++)
            j = draw_negative(job, rng);
        const float *rj = rep_of(&s->item, d, j, rj_buf, &bj);
        const float sn = dot(ru, rj, d) + bu + bj;
        if (p->loss == HYB_LOSS_BPR) {
            loss = ri_loss_bpr(sp, sn, &dp, &dn);
        } else {
            loss = ri_loss_logistic(sp, 1, &dp) + ri_loss_logistic(sn, 0, &dn);
        }
        apply_triple(avx, s, p, job->live_u, job->live_i, u, i, j, ru, ri, rj, w * dp, w * dn, gu);
        return w * loss;
    }
    /* Candidates are drawn AHEAD draws early so that their rows are on their way
     * from memory while earlier ones are scored: on large catalogues the loop
     * is bound by those misses. */
    uint32_t ahead[AHEAD];
    for (uint32_t k = 0; k < AHEAD; k++) {
        ahead[k] = draw_negative(job, rng);
        prefetch_row(&s->item, d, ahead[k]);
    }
    for (uint32_t t = 1; t <= p->max_sampled; t++) {
        const uint32_t slot = t % AHEAD, j = ahead[slot];
        ahead[slot] = draw_negative(job, rng);
        prefetch_row(&s->item, d, ahead[slot]);
        const float *rj = rep_of(&s->item, d, j, rj_buf, &bj);
        const float sn = dot(ru, rj, d) + bu + bj;
        if (sn <= sp - 1.0f || j == i || is_positive(job, u, j))
            continue;
        loss = ri_loss_warp(sp, sn, ri_loss_warp_rank_weight(job->neg_pool ? job->n_neg : n_items, t),
                           &dp, &dn);
        apply_triple(avx, s, p, job->live_u, job->live_i, u, i, j, ru, ri, rj, w * dp, w * dn, gu);
        break;
    }
    return w * loss;
}

static HOT void run_range(int avx, const epoch_job *job, size_t begin, size_t end, unsigned worker)
{
    float *sc = job->scratch + (size_t)worker * 4 * job->p->dim;
    double loss = 0;
    ri_rng rng;
    for (size_t b = begin; b < end;) {
        /* each BLOCK of rows has its own stream whichever worker runs it */
        const size_t block = b / BLOCK, stop = (block + 1) * BLOCK < end ? (block + 1) * BLOCK : end;
        ri_rng_seed(&rng, job->p->seed,
                    RI_STREAM_TRAIN + 1 + ((uint64_t)job->epoch << 32) + block);
        for (; b < stop; b++) {
            const uint32_t e = (uint32_t)job->perm[b], u = (uint32_t)(job->perm[b] >> 32);
            /* rows of a pair two steps ahead, loading while this one trains */
            if (b + 2 < end) {
                const uint64_t ahead = job->perm[b + 2];
                prefetch_row(&job->s->user, job->p->dim, (uint32_t)(ahead >> 32));
                prefetch_row(&job->s->item, job->p->dim, job->row_items[(uint32_t)ahead]);
            }
            loss += train_pair(avx, job, &rng, u, job->row_items[e], job->w ? job->w[e] : 1.0f, sc);
        }
    }
    job->loss[(size_t)worker * 8] += loss;
}

RI_AVX2_CLONES(run_range_isa, run_range,
               (const epoch_job *job, size_t begin, size_t end, unsigned worker),
               (job, begin, end, worker))

static int epoch_range(void *ctx, size_t begin, size_t end, unsigned worker)
{
    const epoch_job *job = ctx;
    run_range_isa(job->p->avx2, job, begin + job->offset, end + job->offset, worker);
    return RECINT_OK;
}

void ri_hyb_apply_triple(hyb_state *s, const hyb_params *p, uint32_t u, uint32_t i, uint32_t j,
                         float d_pos, float d_neg)
{
    const uint32_t d = s->dim;
    float *buf = RI_NEW_ARRAY(float, 4 * (size_t)d);
    if (!buf)
        return;
    float bu, bi, bj;
    const float *ru = rep_of(&s->user, d, u, buf, &bu);
    if (s->hemb) {
        /* exact history part (not the cached hsum) */
        if (ru != buf)
            memcpy(buf, ru, d * sizeof(float));
        for (uint64_t e = s->hptr[u]; e < s->hptr[u + 1]; e++)
            for (uint32_t k = 0; k < d; k++)
                buf[k] += s->hval[e] * s->hemb[(size_t)s->hidx[e] * d + k];
        ru = buf;
    }
    const float *ri = rep_of(&s->item, d, i, buf + d, &bi);
    const float *rj = j != UINT32_MAX ? rep_of(&s->item, d, j, buf + 2 * d, &bj) : NULL;
    apply_triple(0, s, p, NULL, NULL, u, i, j, ru, ri, rj, d_pos, d_neg, buf + 3 * d);
    free(buf);
}

double ri_hyb_score_slow(const hyb_state *s, uint32_t u, uint32_t i)
{
    const hyb_side *sides[2] = {&s->user, &s->item};
    const uint32_t rows[2] = {u, i};
    double rep[2][1024] = {{0}}, bias[2] = {0, 0};
    const uint32_t d = s->dim < 1024 ? s->dim : 1024;
    for (int k = 0; k < 2; k++) {
        const hyb_side *h = sides[k];
        uint64_t beg = h->indptr ? h->indptr[rows[k]] : 0, end = h->indptr ? h->indptr[rows[k] + 1] : 1;
        for (uint64_t e = beg; e < end; e++) {
            const uint32_t c = h->indptr ? h->idx[e] : rows[k];
            const double x = h->indptr ? h->val[e] : 1.0;
            for (uint32_t t = 0; t < d; t++)
                rep[k][t] += x * h->emb[(size_t)c * s->dim + t];
            bias[k] += x * h->bias[c];
        }
    }
    if (s->hemb)
        for (uint64_t e = s->hptr[u]; e < s->hptr[u + 1]; e++)
            for (uint32_t t = 0; t < d; t++)
                rep[0][t] += (double)s->hval[e] * s->hemb[(size_t)s->hidx[e] * s->dim + t];
    double sum = bias[0] + bias[1];
    for (uint32_t t = 0; t < d; t++)
        sum += rep[0][t] * rep[1][t];
    return sum;
}

/* ------------------------------------------------------------------------ */
/* Fit and partial fit                                                      */
/* ------------------------------------------------------------------------ */

static int side_moments(hyb_side *s, uint32_t dim, int opt)
{
    /* adagrad: an accumulator per row and per bias; else per parameter */
    const size_t n = opt == HYB_OPT_ADAGRAD ? 2 * (size_t)s->cols : (size_t)s->cols * dim + s->cols;
    free(s->m1);
    free(s->m2);
    free(s->steps);
    s->m1 = s->m2 = NULL;
    s->steps = NULL;
    s->m1 = RI_NEW_ARRAY(float, n);
    if (!s->m1)
        return RECINT_ENOMEM;
    /* adagrad's accumulators start at 1 so that the first steps are lr * g */
    const float start = opt == HYB_OPT_ADAGRAD ? 1.0f : 0.0f;
    for (size_t k = 0; k < n; k++)
        s->m1[k] = start;
    if (opt == HYB_OPT_ADAM) {
        s->m2 = RI_NEW_ZEROED(float, n);
        s->steps = RI_NEW_ZEROED(uint32_t, s->cols);
        if (!s->m2 || !s->steps)
            return RECINT_ENOMEM;
    }
    return RECINT_OK;
}

/* The history table always steps with row-wise adagrad (an accumulator per
 * row); the gradient checks' optimizer gets a buffer per parameter. */
static int hist_moments(hyb_state *s, int opt)
{
    if (!s->hemb)
        return RECINT_OK;
    const size_t n = (size_t)s->item.rows * (opt == HYB_OPT_GRADIENT ? s->dim : 1);
    free(s->hm1);
    s->hm1 = RI_NEW_ARRAY(float, n ? n : 1);
    if (!s->hm1)
        return RECINT_ENOMEM;
    for (size_t k = 0; k < n; k++)
        s->hm1[k] = opt == HYB_OPT_GRADIENT ? 0.0f : 1.0f;
    return RECINT_OK;
}

int ri_hyb_alloc_moments(hyb_state *s, int opt)
{
    if (side_moments(&s->user, s->dim, opt) || side_moments(&s->item, s->dim, opt) ||
        hist_moments(s, opt))
        return ri_error(RECINT_ENOMEM, "hybrid fit: out of memory for the optimizer state of "
                        "%u + %u feature columns at dim %u", s->user.cols, s->item.cols, s->dim);
    return RECINT_OK;
}

static hyb_params read_params(const ri_fit_args *a)
{
    hyb_params p;
    memset(&p, 0, sizeof p);
    p.dim = (uint32_t)ri_cfg_int(a->model->cfg, RI_P_DIM);
    p.loss = ri_hyb_resolve_loss(ri_fit_cfg(a, RI_P_LOSS));
    static const char *const optimizers[] = {
        [HYB_OPT_AUTO] = "auto", [HYB_OPT_ADAGRAD] = "adagrad", [HYB_OPT_ADAM] = "adam"};
    int opt = RI_CFG_PICK(ri_fit_cfg(a, RI_P_OPTIMIZER), RI_P_OPTIMIZER, optimizers);
    p.optimizer = opt == HYB_OPT_ADAM ? HYB_OPT_ADAM : HYB_OPT_ADAGRAD;
    int64_t epochs = ri_cfg_int(ri_fit_cfg(a, RI_P_EPOCHS), RI_P_EPOCHS);
    p.epochs = epochs > 0 ? (uint32_t)epochs : ri_hyb_default_epochs(p.loss);
    double lr = ri_cfg_float(ri_fit_cfg(a, RI_P_LEARNING_RATE), RI_P_LEARNING_RATE);
    p.lr = lr > 0 ? lr : ri_hyb_default_lr(p.loss);
    p.max_sampled = (uint32_t)ri_cfg_int(ri_fit_cfg(a, RI_P_MAX_SAMPLED), RI_P_MAX_SAMPLED);
    p.kos_k = (uint32_t)ri_cfg_int(ri_fit_cfg(a, RI_P_KOS_K), RI_P_KOS_K);
    p.kos_n = (uint32_t)ri_cfg_int(ri_fit_cfg(a, RI_P_KOS_N), RI_P_KOS_N);
    if (p.kos_k > p.kos_n)
        p.kos_k = p.kos_n;
    p.user_alpha = ri_cfg_float(ri_fit_cfg(a, RI_P_USER_ALPHA), RI_P_USER_ALPHA);
    p.item_alpha = ri_cfg_float(ri_fit_cfg(a, RI_P_ITEM_ALPHA), RI_P_ITEM_ALPHA);
    p.hist = ri_hyb_resolve_history(ri_fit_cfg(a, RI_P_USER_HISTORY), p.loss);
    const double hl = ri_cfg_float(ri_fit_cfg(a, RI_P_USER_HISTORY_HALFLIFE), RI_P_USER_HISTORY_HALFLIFE);
    p.hist_halflife = hl >= 0 ? hl : ri_hyb_default_halflife(p.loss);
    p.threads = ri_threads_resolve(ri_cfg_int(ri_fit_cfg(a, RI_P_THREADS), RI_P_THREADS));
    p.seed = (uint64_t)ri_cfg_int(ri_fit_cfg(a, RI_P_SEED), RI_P_SEED);
    ri_isa isa;
    p.avx2 = ri_serving_isa(a->model->cfg, 1, &isa) == RECINT_OK && isa >= RI_ISA_AVX2;
    return p;
}

/* Feature columns that a training row reaches (a column of a row without
 * interactions is never a positive's, so it keeps its start value: zero, so
 * that rows unseen in training are scored by their other features alone). */
static uint8_t *live_columns(const hyb_side *s, const uint32_t *row_count)
{
    uint8_t *live = RI_NEW_ZEROED(uint8_t, s->cols);
    if (!live)
        return NULL;
    for (uint32_t r = 0; r < s->rows; r++) {
        if (!row_count[r])
            continue;
        if (!s->indptr)
            live[r] = 1;
        else
            for (uint64_t e = s->indptr[r]; e < s->indptr[r + 1]; e++)
                live[s->idx[e]] = 1;
    }
    return live;
}

/* Start values: uniform in (-0.5, 0.5) / dim for live columns (LightFM's
 * scale), zero for the others; biases zero. */
static void init_side(hyb_side *s, uint32_t dim, const uint8_t *live, uint64_t seed,
                      uint64_t stream)
{
    ri_rng rng;
    ri_rng_seed(&rng, seed, stream);
    for (uint32_t c = 0; c < s->cols; c++) {
        float *w = s->emb + (size_t)c * dim;
        for (uint32_t k = 0; k < dim; k++) {
            const float v = (float)((ri_rng_uniform(&rng) - 0.5) / dim);
            w[k] = live[c] ? v : 0.0f;
        }
        s->bias[c] = 0.0f;
    }
}

/* Everything an epoch loop needs besides the state. */
typedef struct {
    uint64_t *perm; /* user << 32 | row number */
    const float *w; /* the dataset's weights, NULL when all are 1 */
    uint32_t *user_count, *item_count;
    uint8_t *live_u, *live_i;
    uint32_t *neg_pool;
    uint32_t n_neg;
    double *loss;
    float *scratch;
    /* best state of early stopping: emb and bias of both sides */
    float *best[5]; /* and the history table */
    size_t n;
} fit_work;

static void work_free(fit_work *fw)
{
    free(fw->perm);
    free(fw->user_count);
    free(fw->item_count);
    free(fw->live_u);
    free(fw->live_i);
    free(fw->neg_pool);
    free(fw->loss);
    free(fw->scratch);
    for (int k = 0; k < 5; k++)
        free(fw->best[k]);
}

static int work_alloc(fit_work *fw, const ri_fit_args *a, const hyb_params *p, hyb_state *s)
{
    memset(fw, 0, sizeof *fw);
    const uint64_t *ptr;
    const uint32_t *idx;
    const float *wt;
    int rc = recint_dataset_csr(a->train, &ptr, &idx, &wt, NULL);
    if (rc)
        return rc;
    const uint32_t n_users = s->user.rows, n_items = s->item.rows;
    const uint64_t nnz = ptr[n_users];
    if (nnz > UINT32_MAX)
        return ri_error(RECINT_EUNSUPPORTED, "hybrid fit: %llu training rows; at most %u are "
                        "supported", (unsigned long long)nnz, UINT32_MAX);
    int weighted = 0;
    for (uint64_t e = 0; e < nnz; e++) {
        if (!isfinite(wt[e]) || wt[e] < 0)
            return ri_error(RECINT_EINVAL, "hybrid fit: training row %llu has weight %g; sample "
                            "weights must be finite and >= 0", (unsigned long long)e, (double)wt[e]);
        weighted |= wt[e] != 1.0f;
    }
    fw->n = (size_t)nnz;
    fw->perm = RI_NEW_ARRAY(uint64_t, nnz ? (size_t)nnz : 1);
    fw->w = weighted ? wt : NULL;
    fw->user_count = RI_NEW_ZEROED(uint32_t, n_users);
    fw->item_count = RI_NEW_ZEROED(uint32_t, n_items);
    fw->loss = RI_NEW_ZEROED(double, (size_t)p->threads * 8);
    fw->scratch = ri_malloc_array((size_t)p->threads * 4, (size_t)p->dim * sizeof(float));
    if (!fw->perm || !fw->user_count || !fw->item_count || !fw->loss ||
        !fw->scratch)
        return ri_error(RECINT_ENOMEM, "hybrid fit: out of memory for %llu training rows",
                        (unsigned long long)nnz);
    for (uint32_t u = 0; u < n_users; u++) {
        fw->user_count[u] = (uint32_t)(ptr[u + 1] - ptr[u] > UINT32_MAX ? UINT32_MAX : ptr[u + 1] - ptr[u]);
        for (uint64_t e = ptr[u]; e < ptr[u + 1]; e++) {
            fw->perm[e] = (uint64_t)u << 32 | e;
            if (fw->item_count[idx[e]] < UINT32_MAX)
                fw->item_count[idx[e]]++;
        }
    }
    fw->neg_pool = RI_NEW_ARRAY(uint32_t, n_items);
    if (!fw->neg_pool)
        return ri_error(RECINT_ENOMEM, "hybrid fit: out of memory for %u items", n_items);
    fw->live_u = live_columns(&s->user, fw->user_count);
    fw->live_i = live_columns(&s->item, fw->item_count);
    if (!fw->live_u || !fw->live_i)
        return ri_error(RECINT_ENOMEM, "hybrid fit: out of memory for %u + %u column flags",
                        s->user.cols, s->item.cols);
    return RECINT_OK;
}

/* warp's negative pool: the items with a trained column (after the live flags
 * are final: a partial fit adds the columns learned before). */
static void build_pool(fit_work *fw, const hyb_side *items)
{
    fw->n_neg = 0;
    for (uint32_t r = 0; r < items->rows; r++) {
        int live = 0;
        if (!items->indptr)
            live = fw->live_i[r];
        else
            for (uint64_t e = items->indptr[r]; !live && e < items->indptr[r + 1]; e++)
                live = fw->live_i[items->idx[e]];
        if (live)
            fw->neg_pool[fw->n_neg++] = r;
    }
}

/* Fisher-Yates over the row order, a stream per epoch (continuing from the
 * previous order, which leaves the next one as random). */
static void shuffle(fit_work *fw, uint64_t seed, uint32_t epoch)
{
    ri_rng rng;
    ri_rng_seed(&rng, seed, RI_STREAM_TRAIN + 0x5000 + epoch);
    uint64_t *perm = fw->perm;
    for (size_t k = fw->n; k > 1; k--) {
        const uint32_t j = ri_rng_below32(&rng, (uint32_t)k);
        const uint64_t t = perm[k - 1];
        perm[k - 1] = perm[j];
        perm[j] = t;
    }
}

/* The gathered user-representation gradients onto the history rows: row-wise
 * adagrad, one step per (user, history item) with the user's sum since the
 * last flush, then the users' history sums again. Users are spread over the
 * threads, which update shared history rows without locks like the steps
 * (with threads=1 the result stays a function of the seed). */
static HOT void flush_users(int avx, const epoch_job *job, size_t begin, size_t end)
{
    hyb_state *s = job->s;
    const hyb_params *p = job->p;
    const uint32_t d = p->dim;
    const float lr = (float)p->lr, alpha = (float)p->user_alpha;
    float *const gbase = s->hgrad ? s->hgrad : s->user.emb;
    for (size_t u = begin; u < end; u++) {
        float *g = gbase + u * d;
        float ss = 0.0f;
        for (uint32_t k = 0; k < d; k++)
            ss += g[k] * g[k];
        if (ss == 0.0f)
            continue;
        for (uint64_t e = s->hptr[u]; e < s->hptr[u + 1]; e++) {
            const uint32_t c = s->hidx[e];
            float *restrict w = s->hemb + (size_t)c * d;
            const float x = s->hval[e];
            if (alpha != 0.0f) {
                RI_ADAGRAD_ROW(avx, w, s->hm1 + c, g, x, alpha, lr, d);
                continue;
            }
            /* without the penalty the row's gradient x g has the norm known above */
            ri_adagrad_row_known(w, s->hm1 + c, g, x, ss, lr, d);
        }
        memset(g, 0, d * sizeof(float));
    }
}

RI_AVX2_CLONES(flush_users_isa, flush_users, (const epoch_job *job, size_t begin, size_t end),
               (job, begin, end))

static int flush_range(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    const epoch_job *job = ctx;
    flush_users_isa(job->p->avx2, job, begin, end);
    return RECINT_OK;
}

/* History-only users with identity features train their rows (which start
 * each segment at their history sums) like identity rows; at a flush a row's
 * move since the segment began, divided by the learning rate, stands in for
 * the gathered gradient (the sum of the steps' gradients, with the row's
 * adagrad accumulator started afresh each segment), so no users x dim
 * buffer is needed. This turns each row into that quantity, -move / lr. */
static HOT void move_users(int avx, const epoch_job *job, size_t begin, size_t end)
{
    (void)avx; /* the compiler vectorises it for each copy's target */
    hyb_state *s = job->s;
    const uint32_t d = s->dim;
    const float inv_lr = (float)(1.0 / job->p->lr);
    float sum[256];
    for (size_t u = begin; u < end; u++) {
        float *row = s->user.emb + u * d;
        /* the sum as the last refresh computed it (same order, same floats) */
        for (uint32_t k0 = 0; k0 < d; k0 += 256) {
            const uint32_t kn = d - k0 < 256 ? d - k0 : 256;
            memset(sum, 0, kn * sizeof(float));
            for (uint64_t e = s->hptr[u]; e < s->hptr[u + 1]; e++) {
                const float x = s->hval[e];
                const float *w = s->hemb + (size_t)s->hidx[e] * d + k0;
                for (uint32_t k = 0; k < kn; k++)
                    sum[k] += x * w[k];
            }
            for (uint32_t k = 0; k < kn; k++)
                row[k0 + k] = (sum[k] - row[k0 + k]) * inv_lr;
        }
        s->user.m1[u] = 1.0f;
    }
}

RI_AVX2_CLONES(move_users_isa, move_users, (const epoch_job *job, size_t begin, size_t end),
               (job, begin, end))

static int move_range(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    const epoch_job *job = ctx;
    move_users_isa(job->p->avx2, job, begin, end);
    return RECINT_OK;
}

static int hist_flush(const epoch_job *job)
{
    int rc = RECINT_OK;
    if (!job->s->hgrad)
        rc = ri_parallel_for(job->p->threads, job->s->user.rows, 64, move_range, (void *)job);
    if (rc == RECINT_OK)
        rc = ri_parallel_for(job->p->threads, job->s->user.rows, 64, flush_range, (void *)job);
    return rc ? rc : ri_hyb_refresh_history(job->s, job->p->threads);
}

/* Copy of the parameters (dst NULL: allocate) or back (restore). */
static int snapshot(fit_work *fw, hyb_state *s, int restore)
{
    hyb_side *sides[2] = {&s->user, &s->item};
    for (int k = 0; k < 2; k++) {
        const size_t ne = (size_t)sides[k]->cols * s->dim, nb = sides[k]->cols;
        if (!fw->best[2 * k]) {
            fw->best[2 * k] = RI_NEW_ARRAY(float, ne);
            fw->best[2 * k + 1] = RI_NEW_ARRAY(float, nb);
            if (!fw->best[2 * k] || !fw->best[2 * k + 1])
                return ri_error(RECINT_ENOMEM, "hybrid fit: out of memory for the best state "
                                "of early stopping");
        }
        if (restore) {
            memcpy(sides[k]->emb, fw->best[2 * k], ne * sizeof(float));
            memcpy(sides[k]->bias, fw->best[2 * k + 1], nb * sizeof(float));
        } else {
            memcpy(fw->best[2 * k], sides[k]->emb, ne * sizeof(float));
            memcpy(fw->best[2 * k + 1], sides[k]->bias, nb * sizeof(float));
        }
    }
    if (s->hemb) {
        const size_t nh = (size_t)s->item.rows * s->dim;
        if (!fw->best[4] && !(fw->best[4] = RI_NEW_ARRAY(float, nh ? nh : 1)))
            return ri_error(RECINT_ENOMEM, "hybrid fit: out of memory for the best state "
                            "of early stopping");
        if (restore)
            memcpy(s->hemb, fw->best[4], nh * sizeof(float));
        else
            memcpy(fw->best[4], s->hemb, nh * sizeof(float));
    }
    return RECINT_OK;
}

/* What the epoch driver steps through: one fit's state, work and job. */
typedef struct {
    const hyb_params *p;
    hyb_state *s;
    fit_work *fw;
    epoch_job job;
    size_t seg; /* rows per segment (see train_epochs) */
} epoch_run;

static int run_pass(void *kind, uint32_t ep, double *loss_out)
{
    epoch_run *r = kind;
    fit_work *fw = r->fw;
    const hyb_params *p = r->p;
    shuffle(fw, p->seed, ep);
    r->job.epoch = ep;
    memset(fw->loss, 0, (size_t)p->threads * 8 * sizeof(double));
    for (size_t off = 0; off < fw->n || off == 0; off += r->seg) {
        r->job.offset = off;
        int rc = ri_parallel_for(p->threads, fw->n - off < r->seg ? fw->n - off : r->seg, BLOCK,
                                 epoch_range, &r->job);
        if (rc == RECINT_OK && r->s->hemb)
            rc = hist_flush(&r->job);
        if (rc)
            return rc;
        if (fw->n == 0)
            break;
    }
    double loss = 0;
    for (unsigned t = 0; t < p->threads; t++)
        loss += fw->loss[(size_t)t * 8];
    *loss_out = fw->n ? loss / (double)fw->n : 0.0;
    return RECINT_OK;
}

static int refresh_run(void *kind)
{
    epoch_run *r = kind;
    return ri_hyb_refresh(r->s, r->p->threads);
}

static int keep_run(void *kind, int restore)
{
    epoch_run *r = kind;
    return snapshot(r->fw, r->s, restore);
}

/* The epochs of a fit on state s (initialised or continued), through the
 * driver. On cancel s holds the best validated or the last finished epoch. */
static int train_epochs(const ri_fit_args *a, const hyb_params *p, hyb_state *s, fit_work *fw)
{
    const uint64_t *ptr;
    const uint32_t *idx;
    int rc = recint_dataset_csr(a->train, &ptr, &idx, NULL, NULL);
    if (rc)
        return rc;
    /* warp draws its negatives among items with training rows: an item without
     * any scores 0 (its columns stay zero), so it mostly "violates" the margin
     * while teaching nothing about ranking; the rank estimate counts that pool.
     * bpr and logistic draw from every item: on the P1 validation split the
     * pool helped warp (P@10 .0986 -> .1002, NDCG@10 .1424 -> .1461) and hurt
     * bpr (.0926 -> .0895). */
    const int warp_family = p->loss == HYB_LOSS_WARP || p->loss == HYB_LOSS_WARP_KOS;
    epoch_run r = {p, s, fw,
                   {s, p, fw->perm, fw->w, ptr, idx, fw->live_u, fw->live_i,
                    warp_family ? fw->neg_pool : NULL, fw->n_neg, 0, 0, 0, fw->loss, fw->scratch},
                   fw->n};
    r.job.hist_only = s->hemb && s->hsum == s->user.emb;
    /* With a user history an epoch runs in segments of whole blocks (each
     * block keeps its own stream), the history gradient flushed after each. */
    if (s->hemb) {
        r.seg = (fw->n + HIST_SEGMENTS - 1) / HIST_SEGMENTS;
        r.seg = (r.seg + BLOCK - 1) / BLOCK * BLOCK;
        if (r.seg == 0)
            r.seg = BLOCK;
    }
    const ri_epoch_steps steps = {"hybrid fit", "epoch", p->epochs, run_pass, refresh_run,
                                  keep_run, s, 0};
    return ri_fit_epochs(a, &steps, &r);
}

/* The user history of a fit: the training rows of data, joined (partial fit)
 * with old's history, whose table and accumulators carry over; plus the
 * gradient buffer of the flushes. */
static int history_from(hyb_state *s, const hyb_params *p, const recint_dataset *data,
                        const hyb_state *old)
{
    const uint64_t *ptr;
    const uint32_t *idx;
    const float *wt;
    const int64_t *ts;
    int rc = recint_dataset_csr(data, &ptr, &idx, &wt, &ts);
    if (rc)
        return rc;
    const uint32_t rows = s->user.rows, n_items = s->item.rows, d = s->dim;
    if (!old) {
        rc = ri_hyb_history_set(s, p->hist, (float)p->hist_halflife, ptr, idx, wt, ts);
    } else {
        /* the new rows are newer than the old history, in their time order */
        hyb_state tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.dim = 1;
        tmp.user.rows = rows;
        rc = ri_hyb_history_set(&tmp, HYB_HIST_MEAN, 0.0f, ptr, idx, wt, ts);
        if (rc) {
            ri_hyb_history_free(&tmp);
            return rc;
        }
        ptr = tmp.hptr;
        idx = tmp.hidx;
        /* union per user, old items first; a stamp per item finds repeats */
        const uint64_t cap = old->hptr[rows] + ptr[rows];
        uint64_t *mp = RI_NEW_ARRAY(uint64_t, (size_t)rows + 1);
        uint32_t *mi = RI_NEW_ARRAY(uint32_t, cap ? (size_t)cap : 1);
        uint32_t *stamp = RI_NEW_ZEROED(uint32_t, n_items ? n_items : 1);
        if (!mp || !mi || !stamp) {
            free(mp);
            free(mi);
            free(stamp);
            ri_hyb_history_free(&tmp);
            return ri_error(RECINT_ENOMEM, "hybrid partial fit: out of memory for the history");
        }
        uint64_t k = 0;
        for (uint32_t u = 0; u < rows; u++) {
            mp[u] = k;
            for (uint64_t e = old->hptr[u]; e < old->hptr[u + 1]; e++)
                if (stamp[old->hidx[e]] != u + 1) {
                    stamp[old->hidx[e]] = u + 1;
                    mi[k++] = old->hidx[e];
                }
            for (uint64_t e = ptr[u]; e < ptr[u + 1]; e++)
                if (stamp[idx[e]] != u + 1) {
                    stamp[idx[e]] = u + 1;
                    mi[k++] = idx[e];
                }
        }
        mp[rows] = k;
        rc = ri_hyb_history_set(s, (int)old->hist, old->hhalf, mp, mi, NULL, NULL);
        free(mp);
        free(mi);
        free(stamp);
        ri_hyb_history_free(&tmp);
        if (rc == RECINT_OK)
            memcpy(s->hemb, old->hemb, (size_t)n_items * d * sizeof(float));
        if (rc == RECINT_OK && old->hm1 && p->optimizer != HYB_OPT_GRADIENT) {
            s->hm1 = RI_NEW_ARRAY(float, n_items ? n_items : 1);
            if (!s->hm1)
                rc = RECINT_ENOMEM;
            else
                memcpy(s->hm1, old->hm1, (size_t)n_items * sizeof(float));
        }
    }
    if (rc == RECINT_OK && s->hsum != s->user.emb) {
        free(s->hgrad);
        s->hgrad = ri_calloc_array(rows ? rows : 1, (size_t)d * sizeof(float));
        if (!s->hgrad)
            rc = RECINT_ENOMEM;
    }
    if (rc == RECINT_ENOMEM)
        return ri_error(RECINT_ENOMEM, "hybrid fit: out of memory for the user history");
    return rc;
}

/* The trainer's config may name a loss of another kind (the model's was checked
 * at recint_model_new). */
static int check_train_loss(const ri_fit_args *a)
{
    return ri_hyb_check_loss(ri_fit_cfg(a, RI_P_LOSS), "hybrid fit");
}

/* The end of a fit or partial fit: the work goes; the state is handed out
 * when the fit finished or was canceled (it then holds a complete epoch). */
static int fit_end(int rc, hyb_state *s, fit_work *fw, void **state_out)
{
    work_free(fw);
    free(s->hgrad);
    s->hgrad = NULL;
    if (rc && rc != RECINT_ECANCELED) {
        ri_hyb_destroy(s);
        return rc;
    }
    *state_out = s;
    return rc;
}

int ri_hyb_fit(const ri_fit_args *a, void **state_out)
{
    *state_out = NULL;
    if (check_train_loss(a))
        return RECINT_EINVAL;
    const hyb_params p = read_params(a);
    hyb_state *s;
    int rc = ri_hyb_state_new(&s, recint_dataset_n_users(a->train), recint_dataset_n_items(a->train),
                              p.dim, a->model->user_features, a->model->item_features);
    if (rc)
        return rc;
    fit_work fw;
    rc = work_alloc(&fw, a, &p, s);
    if (rc == RECINT_OK && p.hist != HYB_HIST_NONE)
        rc = history_from(s, &p, a->train, NULL);
    if (rc == RECINT_OK)
        rc = ri_hyb_alloc_moments(s, p.optimizer);
    if (rc == RECINT_OK) {
        init_side(&s->user, p.dim, fw.live_u, p.seed, RI_STREAM_TRAIN + 0x100);
        init_side(&s->item, p.dim, fw.live_i, p.seed, RI_STREAM_TRAIN + 0x101);
        build_pool(&fw, &s->item);
        rc = ri_hyb_refresh(s, p.threads);
    }
    if (rc == RECINT_OK)
        rc = train_epochs(a, &p, s, &fw);
    return fit_end(rc, s, &fw, state_out);
}

/* ------------------------------------------------------------------------ */
/* Partial fit: more epochs from a copy of the current state                 */
/* ------------------------------------------------------------------------ */

static void *dup_array(const void *src, size_t n, size_t size, int *failed)
{
    if (!src)
        return NULL;
    void *d = ri_malloc_array(n ? n : 1, size);
    if (!d) {
        *failed = 1;
        return NULL;
    }
    memcpy(d, src, n * size);
    return d;
}

static int side_clone(hyb_side *dst, const hyb_side *src, uint32_t dim)
{
    int failed = 0;
    *dst = *src;
    const size_t nnz = src->indptr ? (size_t)src->indptr[src->rows] : 0;
    const size_t ne = (size_t)src->cols * dim;
    dst->indptr = dup_array(src->indptr, (size_t)src->rows + 1, sizeof(uint64_t), &failed);
    dst->idx = dup_array(src->idx, nnz, sizeof(uint32_t), &failed);
    dst->val = dup_array(src->val, nnz, sizeof(float), &failed);
    dst->emb = dup_array(src->emb, ne, sizeof(float), &failed);
    dst->bias = dup_array(src->bias, src->cols, sizeof(float), &failed);
    /* adagrad (no m2) keeps 2 accumulators per column, adam a moment per parameter */
    dst->m1 = dup_array(src->m1, src->m2 ? ne + src->cols : 2 * (size_t)src->cols, sizeof(float),
                        &failed);
    dst->m2 = dup_array(src->m2, ne + src->cols, sizeof(float), &failed);
    dst->steps = dup_array(src->steps, src->cols, sizeof(uint32_t), &failed);
    if (src->indptr) {
        dst->rep = dup_array(src->rep, (size_t)src->rows * dim, sizeof(float), &failed);
        dst->rep_bias = dup_array(src->rep_bias, src->rows, sizeof(float), &failed);
    } else {
        dst->rep = dst->emb;
        dst->rep_bias = dst->bias;
    }
    return failed ? RECINT_ENOMEM : RECINT_OK;
}

/* A column is trained when the new data reaches it or it already learned
 * something (a nonzero embedding). */
static void widen_live(uint8_t *live, const hyb_side *s, uint32_t dim)
{
    for (uint32_t c = 0; c < s->cols; c++)
        for (uint32_t k = 0; !live[c] && k < dim; k++)
            live[c] = s->emb[(size_t)c * dim + k] != 0.0f;
}

int ri_hyb_partial_fit(const ri_fit_args *a, const void *old_state, void **state_out)
{
    *state_out = NULL;
    const hyb_state *old = old_state;
    if (check_train_loss(a))
        return RECINT_EINVAL;
    hyb_params p = read_params(a);
    if (p.dim != old->dim)
        return ri_error(RECINT_EINVAL, "hybrid partial fit: the config's dim %u differs from the "
                        "model's %u", p.dim, old->dim);
    hyb_state *s = RI_NEW_ZEROED(hyb_state, 1);
    if (!s)
        return ri_error(RECINT_ENOMEM, "hybrid partial fit: out of memory");
    s->dim = old->dim;
    int rc = side_clone(&s->user, &old->user, s->dim);
    if (rc == RECINT_OK)
        rc = side_clone(&s->item, &old->item, s->dim);
    if (rc) {
        ri_hyb_destroy(s);
        return ri_error(RECINT_ENOMEM, "hybrid partial fit: out of memory copying the state");
    }
    /* Moments of another optimizer (or none, after a load) start afresh. */
    const int have = s->user.m1 && s->item.m1 && ((p.optimizer == HYB_OPT_ADAM) == (s->user.m2 != NULL));
    fit_work fw;
    rc = work_alloc(&fw, a, &p, s);
    /* the model's history (its mode, not the config's) joined with the new rows */
    if (rc == RECINT_OK && old->hemb)
        rc = history_from(s, &p, a->train, old);
    if (rc == RECINT_OK && !have)
        rc = ri_hyb_alloc_moments(s, p.optimizer);
    if (rc == RECINT_OK && s->hemb && !s->hm1 && hist_moments(s, p.optimizer))
        rc = ri_error(RECINT_ENOMEM, "hybrid partial fit: out of memory for the history");
    if (rc == RECINT_OK)
        rc = ri_hyb_refresh(s, p.threads);
    if (rc == RECINT_OK) {
        widen_live(fw.live_u, &s->user, s->dim);
        widen_live(fw.live_i, &s->item, s->dim);
        build_pool(&fw, &s->item);
        rc = train_epochs(a, &p, s, &fw);
    }
    return fit_end(rc, s, &fw, state_out);
}
