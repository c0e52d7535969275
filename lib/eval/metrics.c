/* Evaluation: top-k ranking metrics (protocol P1) and next-item metrics (P2).
 * docs/metrics.md states every definition; this file follows it exactly.
 *
 * Both evaluators share one shape: the users with a test row are listed in
 * ascending order, scored in fixed blocks by worker threads, and each user's
 * values are stored in its own slot; the averages are summed afterwards in user
 * order. The blocks start at multiples of the block size whatever the thread
 * count, so the model sees the same score calls and every thread count gives
 * bit-identical metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recint.h"

#include "util/alloc.h"
#include "util/config.h"
#include "util/error.h"
#include "data/idmap.h"
#include "util/parallel.h"
#include "util/rng.h"
#include "core/topk.h"

static const char *const metric_names[RECINT_METRIC_COUNT] = {
    "precision", "recall",   "ndcg",  "map",     "hit_rate",   "auc",
    "coverage",  "users",    "full_hr", "full_ndcg", "sampled_hr", "sampled_ndcg",
};

RECINT_API const char *recint_metric_name(int metric)
{
    if (metric < 0 || metric >= RECINT_METRIC_COUNT)
        return NULL;
    return metric_names[metric];
}

/* ------------------------------------------------------------------------ */
/* Shared pieces                                                            */
/* ------------------------------------------------------------------------ */

/* Scores as unsigned keys with the same order: equal floats get equal keys
 * (-0 == +0) and NaN sits below -inf, so a model that emits NaN loses every
 * comparison instead of making a rank undefined (ri_topk never selects NaN). */
static inline uint32_t score_key(float s)
{
    if (s != s)
        return 0;
    if (s == 0.0f)
        s = 0.0f;
    uint32_t b;
    memcpy(&b, &s, sizeof b);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

/* Item a ranks before item b (b is the reference): higher score, or the same
 * score and a smaller index. */
static inline int ranks_before(uint32_t key_a, uint32_t a, uint32_t key_b, uint32_t b)
{
    return key_a > key_b || (key_a == key_b && a < b);
}

static inline double discount(uint64_t rank0)
{
    return 1.0 / log2((double)rank0 + 2.0);
}

/* Users scored per model call: enough to let a factor model use a matrix
 * product, few enough to bound the scratch and keep chunks for the workers.
 * Depends only on the catalogue, never on the thread count. */
static uint32_t score_block(uint32_t n_items)
{
    const uint32_t budget = 1u << 21; /* floats of score scratch per worker */
    uint32_t b = n_items ? budget / n_items : 32;
    if (b < 1)
        b = 1;
    if (b > 32)
        b = 32;
    return b;
}

static int check_catalogues(const char *fn, const recint_model *m, const char *a_name,
                            const recint_dataset *a, const recint_dataset *test)
{
    uint32_t mu = recint_model_n_users(m), mi = recint_model_n_items(m);
    uint32_t au = recint_dataset_n_users(a), ai = recint_dataset_n_items(a);
    uint32_t tu = recint_dataset_n_users(test), ti = recint_dataset_n_items(test);
    if (mu == 0 && mi == 0 && (au || ai))
        return ri_error(RECINT_ESTATE, "%s: the model is not fitted (no catalogue)", fn);
    if (au != tu || ai != ti || au != mu || ai != mi)
        return ri_error(RECINT_EINVAL,
                        "%s: catalogues differ: %s has %u users x %u items, test %u x %u, "
                        "model %u x %u (they must share the model's catalogue)",
                        fn, a_name, au, ai, tu, ti, mu, mi);
    /* Same sizes are not enough: separately loaded data may index other ids. */
    const recint_idmap *mu_map = recint_model_users(m), *mi_map = recint_model_items(m);
    const recint_dataset *sets[2] = {a, test};
    for (int d = 0; d < 2; d++)
        if (!ri_idmap_equal(recint_dataset_users(sets[d]), mu_map) ||
            !ri_idmap_equal(recint_dataset_items(sets[d]), mi_map))
            return ri_error(RECINT_EINVAL,
                            "%s: the %s dataset's ids sit at other indices than the model's "
                            "(same sizes, different catalogue): make datasets with "
                            "recint_dataset_split or recint_dataset_new_with_catalogue",
                            fn, d == 0 ? a_name : "test");
    return RECINT_OK;
}

static int check_args(const char *fn, const recint_model *m, const char *a_name,
                      const recint_dataset *a, const recint_dataset *test, uint32_t k,
                      const double *out, size_t out_len)
{
    if (!m)
        return ri_error(RECINT_EINVAL, "%s: model is NULL", fn);
    if (!a)
        return ri_error(RECINT_EINVAL, "%s: %s dataset is NULL", fn, a_name);
    if (!test)
        return ri_error(RECINT_EINVAL, "%s: test dataset is NULL", fn);
    if (!out)
        return ri_error(RECINT_EINVAL, "%s: out is NULL", fn);
    if (out_len == 0)
        return ri_error(RECINT_EINVAL, "%s: out_len is 0 (room for %d metrics expected)", fn,
                        RECINT_METRIC_COUNT);
    if (k < 1)
        return ri_error(RECINT_EINVAL, "%s: k must be >= 1, got %u", fn, k);
    return check_catalogues(fn, m, a_name, a, test);
}

typedef struct {
    const uint64_t *ptr;
    const uint32_t *idx;
} csr_view;

static int get_csr(const char *fn, const char *name, const recint_dataset *ds, csr_view *v)
{
    int rc = recint_dataset_csr(ds, &v->ptr, &v->idx, NULL, NULL);
    if (rc != RECINT_OK)
        return ri_error_prefix(rc, "%s: %s dataset: ", fn, name);
    return RECINT_OK;
}

static inline size_t row_len(const csr_view *v, uint32_t u)
{
    return (size_t)(v->ptr[u + 1] - v->ptr[u]);
}

static inline const uint32_t *row(const csr_view *v, uint32_t u) { return v->idx + v->ptr[u]; }

/* Users with at least one test row, ascending. */
static int list_users(const csr_view *test, uint32_t n_users, uint32_t **out, size_t *n_out)
{
    size_t n = 0;
    for (uint32_t u = 0; u < n_users; u++)
        n += row_len(test, u) > 0;
    uint32_t *users = RI_NEW_ARRAY(uint32_t, n ? n : 1);
    if (!users)
        return RECINT_ENOMEM;
    n = 0;
    for (uint32_t u = 0; u < n_users; u++)
        if (row_len(test, u) > 0)
            users[n++] = u;
    *out = users;
    *n_out = n;
    return RECINT_OK;
}

/* One worker's buffers. mark is all zero between users. */
typedef struct {
    float *scores;     /* block x n_items */
    uint32_t *top_idx; /* ranking: k' entries */
    float *top_score;
    uint8_t *mark;     /* n_items */
    uint32_t *buf;     /* n_items: positive keys (AUC) or candidate items (sampling) */
    uint32_t *keys;    /* next item: n_items score keys of the current user */
    uint8_t *covered;  /* ranking: items in any top-k of this worker */
} scratch;

static void scratch_free(scratch *w, unsigned n)
{
    if (!w)
        return;
    for (unsigned i = 0; i < n; i++) {
        free(w[i].scores);
        free(w[i].top_idx);
        free(w[i].top_score);
        free(w[i].mark);
        free(w[i].buf);
        free(w[i].keys);
        free(w[i].covered);
    }
    free(w);
}

static scratch *scratch_new(unsigned n, uint32_t block, uint32_t n_items, uint32_t top_k,
                            int ranking)
{
    scratch *w = RI_NEW_ZEROED(scratch, n);
    if (!w)
        return NULL;
    for (unsigned i = 0; i < n; i++) {
        w[i].scores = ri_malloc_array((size_t)block * n_items, sizeof(float));
        w[i].mark = RI_NEW_ZEROED(uint8_t, n_items);
        w[i].buf = RI_NEW_ARRAY(uint32_t, n_items);
        int ok = w[i].scores && w[i].mark && w[i].buf;
        if (ranking) {
            w[i].top_idx = RI_NEW_ARRAY(uint32_t, top_k);
            w[i].top_score = RI_NEW_ARRAY(float, top_k);
            w[i].covered = RI_NEW_ZEROED(uint8_t, n_items);
            ok = ok && w[i].top_idx && w[i].top_score && w[i].covered;
        } else {
            w[i].keys = RI_NEW_ARRAY(uint32_t, n_items);
            ok = ok && w[i].keys;
        }
        if (!ok) {
            scratch_free(w, n);
            return NULL;
        }
    }
    return w;
}

/* Fields every evaluator needs: who is scored, by what, and where. */
typedef struct {
    const char *fn;
    const recint_model *m;
    uint32_t n_items;
    csr_view known; /* train (ranking) or history (next item): never recommended */
    csr_view test;
    const uint32_t *users;
    size_t n_eval;
    uint32_t block;
    uint32_t k;
    scratch *w;
} eval_base;

typedef void (*user_fn)(void *ctx, scratch *w, size_t slot, uint32_t user, const float *scores);

typedef struct {
    eval_base *base;
    user_fn per_user;
    void *ctx;
} block_job;

static int score_blocks(void *vjob, size_t begin, size_t end, unsigned worker)
{
    block_job *job = vjob;
    eval_base *b = job->base;
    scratch *w = &b->w[worker];
    for (size_t s = begin; s < end; s += b->block) {
        size_t nb = end - s < b->block ? end - s : b->block;
        int rc = recint_model_score(b->m, b->users + s, nb, NULL, 0, w->scores);
        if (rc != RECINT_OK)
            return ri_error_prefix(rc, "%s: scoring users %u..%u: ", b->fn, b->users[s],
                                   b->users[s + nb - 1]);
        for (size_t j = 0; j < nb; j++)
            job->per_user(job->ctx, w, s + j, b->users[s + j], w->scores + j * b->n_items);
    }
    return RECINT_OK;
}

/* Scratch for the workers that can get a chunk, then the parallel loop. */
static int run_users(eval_base *b, const recint_config *cfg, uint32_t top_k, int ranking,
                     user_fn per_user, void *ctx, unsigned *n_workers)
{
    size_t chunks = (b->n_eval + b->block - 1) / b->block;
    unsigned threads = ri_threads_resolve(ri_cfg_int(cfg, RI_P_THREADS));
    if (threads > chunks)
        threads = (unsigned)chunks;
    if (threads < 1)
        threads = 1;
    b->w = scratch_new(threads, b->block, b->n_items, top_k, ranking);
    if (!b->w)
        return ri_error(RECINT_ENOMEM, "%s: no memory for %u workers' buffers (%u items)", b->fn,
                        threads, b->n_items);
    *n_workers = threads;
    block_job job = {b, per_user, ctx};
    return ri_parallel_for(threads, b->n_eval, b->block, score_blocks, &job);
}

static void fill_nan(double *v)
{
    for (int i = 0; i < RECINT_METRIC_COUNT; i++)
        v[i] = NAN;
}

static void copy_out(const double *v, double *out, size_t out_len)
{
    for (size_t i = 0; i < out_len; i++)
        out[i] = i < RECINT_METRIC_COUNT ? v[i] : NAN;
}

/* ------------------------------------------------------------------------ */
/* Top-k ranking metrics                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    double precision, recall, ndcg, map, hit, auc;
    int has_auc;
} rank_result;

typedef struct {
    eval_base base;
    uint32_t top_k; /* min(k, n_items): the most ri_topk can return */
    rank_result *res;
} rank_ctx;

enum { MARK_NONE = 0, MARK_TEST = 1, MARK_KNOWN = 2 };

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Number of sorted keys[0..n) below key (or_equal: at most key). The halving
 * step compiles to a conditional move: negatives' scores fall anywhere among the
 * positives', so a branching search would mispredict about half its steps. */
static inline size_t count_below(const uint32_t *keys, size_t n, uint32_t key, int or_equal)
{
    if (n == 0)
        return 0;
    const uint32_t *base = keys;
    while (n > 1) {
        size_t half = n / 2;
        int below = or_equal ? base[half] <= key : base[half] < key;
        base = below ? base + half : base;
        n -= half;
    }
    return (size_t)(base - keys) + (or_equal ? *base <= key : *base < key);
}

/* AUC of one user over the pairs (test item, negative). Test items that are
 * also train items cannot be ranked, so they win no pair (docs/metrics.md).
 * Sorting only the positives' keys and binary-searching each negative makes
 * it O(n_items log |test|). Twice the win count is an integer, so the result
 * does not depend on the order of the negatives. */
static void user_auc(const float *sc, uint32_t n_items, const uint8_t *mark, uint32_t *pos_keys,
                     size_t n_test, size_t n_known, rank_result *res)
{
    size_t n_pos = 0;
    for (uint32_t i = 0; i < n_items; i++)
        if (mark[i] == MARK_TEST)
            pos_keys[n_pos++] = score_key(sc[i]);
    uint64_t n_neg = (uint64_t)n_items - n_known - n_pos;
    res->has_auc = n_neg > 0;
    res->auc = NAN;
    if (!res->has_auc)
        return;
    qsort(pos_keys, n_pos, sizeof *pos_keys, cmp_u32);
    uint64_t wins2 = 0;
    /* Most negatives score below every positive or above all of them: those
     * need no search. */
    uint32_t min_key = n_pos ? pos_keys[0] : 0, max_key = n_pos ? pos_keys[n_pos - 1] : 0;
    for (uint32_t i = 0; n_pos > 0 && i < n_items; i++) {
        if (mark[i] != MARK_NONE)
            continue;
        uint32_t key = score_key(sc[i]);
        if (key < min_key) {
            wins2 += 2 * (uint64_t)n_pos;
        } else if (key <= max_key) {
            size_t lo = count_below(pos_keys, n_pos, key, 0);
            size_t hi = count_below(pos_keys, n_pos, key, 1);
            wins2 += 2 * (uint64_t)(n_pos - hi) + (uint64_t)(hi - lo);
        }
    }
    res->auc = (double)wins2 / (2.0 * (double)n_test * (double)n_neg);
}

static void rank_user(void *vctx, scratch *w, size_t slot, uint32_t u, const float *sc)
{
    rank_ctx *c = vctx;
    const eval_base *b = &c->base;
    const uint32_t *tr = row(&b->known, u), *te = row(&b->test, u);
    size_t n_tr = row_len(&b->known, u), n_te = row_len(&b->test, u);

    /* Known after test, so a test item that is also a train item counts as known. */
    for (size_t j = 0; j < n_te; j++)
        w->mark[te[j]] = MARK_TEST;
    for (size_t j = 0; j < n_tr; j++)
        w->mark[tr[j]] = MARK_KNOWN;

    uint32_t got = ri_topk(sc, b->n_items, tr, n_tr, c->top_k, w->top_idx, w->top_score);
    uint32_t hits = 0;
    double dcg = 0.0, ap = 0.0;
    for (uint32_t r = 0; r < got; r++) {
        uint32_t i = w->top_idx[r];
        w->covered[i] = 1;
        if (w->mark[i] == MARK_TEST) {
            hits++;
            dcg += discount(r);
            ap += (double)hits / (double)(r + 1);
        }
    }
    size_t ideal = n_te < b->k ? n_te : b->k;
    double idcg = 0.0;
    for (size_t r = 0; r < ideal; r++)
        idcg += discount(r);

    rank_result *res = &c->res[slot];
    res->precision = (double)hits / (double)b->k;
    res->recall = (double)hits / (double)n_te;
    res->ndcg = dcg / idcg;
    res->map = ap / (double)ideal;
    res->hit = hits > 0 ? 1.0 : 0.0;
    user_auc(sc, b->n_items, w->mark, w->buf, n_te, n_tr, res);

    for (size_t j = 0; j < n_te; j++)
        w->mark[te[j]] = MARK_NONE;
    for (size_t j = 0; j < n_tr; j++)
        w->mark[tr[j]] = MARK_NONE;
}

/* Averages in user order: the same additions in the same order for any thread count. */
static void rank_reduce(const rank_ctx *c, const scratch *w, unsigned n_workers, double *v)
{
    const eval_base *b = &c->base;
    double sum[5] = {0, 0, 0, 0, 0}, auc = 0.0;
    size_t n_auc = 0;
    for (size_t s = 0; s < b->n_eval; s++) {
        const rank_result *r = &c->res[s];
        sum[0] += r->precision;
        sum[1] += r->recall;
        sum[2] += r->ndcg;
        sum[3] += r->map;
        sum[4] += r->hit;
        if (r->has_auc) {
            auc += r->auc;
            n_auc++;
        }
    }
    v[RECINT_METRIC_USERS] = (double)b->n_eval;
    if (b->n_eval > 0) {
        double n = (double)b->n_eval;
        v[RECINT_METRIC_PRECISION] = sum[0] / n;
        v[RECINT_METRIC_RECALL] = sum[1] / n;
        v[RECINT_METRIC_NDCG] = sum[2] / n;
        v[RECINT_METRIC_MAP] = sum[3] / n;
        v[RECINT_METRIC_HIT_RATE] = sum[4] / n;
    }
    if (n_auc > 0)
        v[RECINT_METRIC_AUC] = auc / (double)n_auc;
    if (b->n_items > 0) {
        uint32_t covered = 0;
        for (uint32_t i = 0; i < b->n_items; i++) {
            int any = 0;
            for (unsigned t = 0; t < n_workers && w; t++)
                any |= w[t].covered[i];
            covered += any != 0;
        }
        v[RECINT_METRIC_COVERAGE] = (double)covered / (double)b->n_items;
    }
}

static int base_init(eval_base *b, const char *fn, const recint_model *m, const char *known_name,
                     const recint_dataset *known, const recint_dataset *test, uint32_t k)
{
    memset(b, 0, sizeof *b);
    b->fn = fn;
    b->m = m;
    b->k = k;
    b->n_items = recint_model_n_items(m);
    b->block = score_block(b->n_items);
    int rc = get_csr(fn, known_name, known, &b->known);
    if (rc == RECINT_OK)
        rc = get_csr(fn, "test", test, &b->test);
    if (rc == RECINT_OK) {
        uint32_t *users = NULL;
        rc = list_users(&b->test, recint_dataset_n_users(test), &users, &b->n_eval);
        if (rc != RECINT_OK)
            return ri_error(rc, "%s: no memory for the user list", fn);
        b->users = users;
    }
    return rc;
}

RECINT_API int recint_evaluate(const recint_model *m, const recint_dataset *train,
                               const recint_dataset *test, uint32_t k, const recint_config *cfg,
                               double *out, size_t out_len)
{
    static const char fn[] = "recint_evaluate";
    int rc = check_args(fn, m, "train", train, test, k, out, out_len);
    if (rc != RECINT_OK)
        return rc;
    rank_ctx c;
    rc = base_init(&c.base, fn, m, "train", train, test, k);
    if (rc != RECINT_OK)
        return rc;
    c.top_k = k < c.base.n_items ? k : c.base.n_items;
    c.res = RI_NEW_ZEROED(rank_result, c.base.n_eval ? c.base.n_eval : 1);
    unsigned n_workers = 0;
    double v[RECINT_METRIC_COUNT];
    fill_nan(v);
    if (!c.res)
        rc = ri_error(RECINT_ENOMEM, "%s: no memory for %zu users' results", fn, c.base.n_eval);
    else if (c.base.n_eval > 0)
        rc = run_users(&c.base, cfg, c.top_k ? c.top_k : 1, 1, rank_user, &c, &n_workers);
    if (rc == RECINT_OK) {
        rank_reduce(&c, c.base.w, n_workers, v);
        copy_out(v, out, out_len);
    }
    scratch_free(c.base.w, n_workers);
    free(c.res);
    free((void *)c.base.users);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Next-item metrics                                                        */
/* ------------------------------------------------------------------------ */

typedef struct {
    double full_hr, full_ndcg, sampled_hr, sampled_ndcg;
} next_result;

typedef struct {
    eval_base base;
    uint64_t seed;
    uint32_t samples;
    next_result *res;
} next_ctx;

/* Rank against every item outside the history (the target never ranks before
 * itself, so it needs no test). Branch-free: this loop is the evaluator's cost. */
static uint64_t full_rank(const uint32_t *keys, uint32_t n_items, const uint8_t *mark, uint32_t t)
{
    uint32_t kt = keys[t];
    uint64_t rank = 0;
    for (uint32_t i = 0; i < n_items; i++)
        rank += (uint64_t)((mark[i] == 0) & ((keys[i] > kt) | ((keys[i] == kt) & (i < t))));
    return rank;
}

/* Rank against `samples` independent uniform draws from cand[0..n_cand) (the
 * items outside the history, the target among them): a draw that hits the
 * target is drawn again, as the SASRec reference redraws. n_cand >= 2. */
static uint64_t sampled_rank(const uint32_t *keys, const uint32_t *cand, uint32_t n_cand,
                             uint32_t t, uint32_t samples, ri_rng *rng)
{
    uint64_t rank = 0;
    for (uint32_t s = 0; s < samples; s++) {
        uint32_t j;
        do
            j = cand[ri_rng_below(rng, n_cand)];
        while (j == t);
        rank += (uint64_t)ranks_before(keys[j], j, keys[t], t);
    }
    return rank;
}

static void next_user(void *vctx, scratch *w, size_t slot, uint32_t u, const float *sc)
{
    next_ctx *c = vctx;
    const eval_base *b = &c->base;
    const uint32_t *hist = row(&b->known, u), *te = row(&b->test, u);
    size_t n_hist = row_len(&b->known, u), n_te = row_len(&b->test, u);
    next_result *res = &c->res[slot];
    memset(res, 0, sizeof *res);

    for (size_t j = 0; j < n_hist; j++)
        w->mark[hist[j]] = 1;
    uint32_t n_cand = 0;
    for (uint32_t i = 0; i < b->n_items; i++) {
        w->keys[i] = score_key(sc[i]);
        if (!w->mark[i])
            w->buf[n_cand++] = i;
    }

    /* One stream per user: the draws do not depend on which worker runs it. */
    ri_rng rng;
    ri_rng_seed(&rng, c->seed, RI_STREAM_EVAL + u);
    for (size_t j = 0; j < n_te; j++) {
        uint32_t t = te[j];
        if (w->mark[t])
            continue; /* a target inside the history cannot be ranked: a miss */
        uint64_t rank = full_rank(w->keys, b->n_items, w->mark, t);
        if (rank < b->k) {
            res->full_hr += 1.0;
            res->full_ndcg += discount(rank);
        }
        rank = n_cand > 1 ? sampled_rank(w->keys, w->buf, n_cand, t, c->samples, &rng) : 0;
        if (rank < b->k) {
            res->sampled_hr += 1.0;
            res->sampled_ndcg += discount(rank);
        }
    }

    for (size_t j = 0; j < n_hist; j++)
        w->mark[hist[j]] = 0;
}

RECINT_API int recint_evaluate_next(const recint_model *m, const recint_dataset *history,
                                    const recint_dataset *test, uint32_t k,
                                    const recint_config *cfg, double *out, size_t out_len)
{
    static const char fn[] = "recint_evaluate_next";
    int rc = check_args(fn, m, "history", history, test, k, out, out_len);
    if (rc != RECINT_OK)
        return rc;
    next_ctx c;
    rc = base_init(&c.base, fn, m, "history", history, test, k);
    if (rc != RECINT_OK)
        return rc;
    c.seed = (uint64_t)ri_cfg_int(cfg, RI_P_SEED);
    c.samples = (uint32_t)ri_cfg_int(cfg, RI_P_EVAL_SAMPLES);
    c.res = RI_NEW_ZEROED(next_result, c.base.n_eval ? c.base.n_eval : 1);
    unsigned n_workers = 0;
    if (!c.res)
        rc = ri_error(RECINT_ENOMEM, "%s: no memory for %zu users' results", fn, c.base.n_eval);
    else if (c.base.n_eval > 0)
        rc = run_users(&c.base, cfg, 1, 0, next_user, &c, &n_workers);
    if (rc == RECINT_OK) {
        double v[RECINT_METRIC_COUNT], sum[4] = {0, 0, 0, 0};
        fill_nan(v);
        uint64_t targets = 0;
        for (size_t s = 0; s < c.base.n_eval; s++) {
            sum[0] += c.res[s].full_hr;
            sum[1] += c.res[s].full_ndcg;
            sum[2] += c.res[s].sampled_hr;
            sum[3] += c.res[s].sampled_ndcg;
            targets += row_len(&c.base.test, c.base.users[s]);
        }
        v[RECINT_METRIC_USERS] = (double)c.base.n_eval;
        if (targets > 0) {
            v[RECINT_METRIC_FULL_HR] = sum[0] / (double)targets;
            v[RECINT_METRIC_FULL_NDCG] = sum[1] / (double)targets;
            v[RECINT_METRIC_SAMPLED_HR] = sum[2] / (double)targets;
            v[RECINT_METRIC_SAMPLED_NDCG] = sum[3] / (double)targets;
        }
        copy_out(v, out, out_len);
    }
    scratch_free(c.base.w, n_workers);
    free(c.res);
    free((void *)c.base.users);
    return rc;
}
