/* The recint_explorer handle: per-user posteriors behind striped locks, the
 * candidates from the scoring core, and the public recommend / observe calls.
 * The model is only read (its linear view and training rows), so one model can
 * serve plain recommendations and any number of explorers at once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "util/error.h"
#include "explore/explore_internal.h"

int ri_explore_read_params(const recint_config *cfg, ri_explore_params *pp)
{
    memset(pp, 0, sizeof *pp);
    static const char *const policies[] = {
        [RI_POL_GREEDY] = "greedy",     [RI_POL_EPSILON] = "epsilon",
        [RI_POL_SOFTMAX] = "softmax",   [RI_POL_LINUCB] = "linucb",
        [RI_POL_THOMPSON] = "thompson", [RI_POL_UNIFORM] = "uniform"};
    int pol = RI_CFG_PICK(cfg, RI_P_POLICY, policies);
    if (pol < 0)
        return ri_error(RECINT_EINVAL, "explorer: unknown policy '%s'", ri_cfg_str(cfg, RI_P_POLICY));
    pp->policy = (ri_policy)pol;
    pp->epsilon = ri_cfg_float(cfg, RI_P_EPSILON);
    pp->temperature = ri_cfg_float(cfg, RI_P_TEMPERATURE);
    pp->ucb_alpha = ri_cfg_float(cfg, RI_P_UCB_ALPHA);
    pp->ts_scale = ri_cfg_float(cfg, RI_P_THOMPSON_SCALE);
    pp->prior_precision = ri_cfg_float(cfg, RI_P_PRIOR_PRECISION);
    pp->history_precision = ri_cfg_float(cfg, RI_P_HISTORY_PRECISION);
    pp->mmr_lambda = ri_cfg_float(cfg, RI_P_MMR_LAMBDA);
    pp->debias = ri_cfg_float(cfg, RI_P_DEBIAS);
    pp->decay = ri_cfg_float(cfg, RI_P_EXPLORE_DECAY);
    pp->candidates = (uint32_t)ri_cfg_int(cfg, RI_P_CANDIDATES);
    pp->samples = (uint32_t)ri_cfg_int(cfg, RI_P_PROPENSITY_SAMPLES);
    pp->seed = (uint64_t)ri_cfg_int(cfg, RI_P_SEED);
    pp->online = ri_cfg_bool(cfg, RI_P_ONLINE);
    return RECINT_OK;
}

/* Popularity penalty debias * log(1 + training count) and MMR's inverse norms. */
static int item_tables(recint_explorer *e)
{
    const uint32_t n = e->n_items;
    if (e->pp.debias > 0.0) {
        if (!(e->penalty = RI_NEW_ZEROED(float, n ? n : 1)))
            return RECINT_ENOMEM;
        uint64_t total;
        const uint32_t *seen = ri_model_seen_all(e->m, &total);
        for (uint64_t t = 0; t < total; t++)
            e->penalty[seen[t]] += 1.0f;
        for (uint32_t i = 0; i < n; i++)
            e->penalty[i] = (float)(e->pp.debias * log1p((double)e->penalty[i]));
    }
    if (e->pp.mmr_lambda < 1.0) {
        if (!(e->inv_norm = RI_NEW_ARRAY(float, n ? n : 1)))
            return RECINT_ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
            const float *x = e->view.item_mat + (size_t)i * e->view.item_stride;
            double ss = 0.0;
            for (uint32_t j = 0; j < e->view.dim; j++)
                ss += (double)x[j] * x[j];
            e->inv_norm[i] = ss > 0.0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        }
    }
    return RECINT_OK;
}

RECINT_API void recint_explorer_free(recint_explorer *e)
{
    if (!e)
        return;
    for (uint32_t u = 0; e->users && u < e->n_users; u++)
        if (e->users[u]) {
            ri_posterior_free(e->users[u]);
            free(e->users[u]);
        }
    free(e->users);
    for (int s = 0; s < RI_EXPLORE_STRIPES; s++)
        free(e->rows[s]);
    free(e->penalty);
    free(e->inv_norm);
    free(e->log);
    for (int s = 0; s < RI_EXPLORE_STRIPES; s++)
        pthread_mutex_destroy(&e->stripe[s]);
    pthread_mutex_destroy(&e->log_lock);
    recint_config_free(e->cfg);
    free(e);
}

RECINT_API int recint_explorer_new(recint_explorer **out, const recint_model *m,
                                   const recint_config *cfg)
{
    static const char fn[] = "recint_explorer_new";
    if (!out || !m)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn, !out ? "out" : "model");
    ri_linear_view v;
    int rc = ri_model_linear(m, &v);
    if (rc)
        return ri_error_prefix(rc, "%s: ", fn);
    if (v.dim == 0)
        return ri_error(RECINT_EUNSUPPORTED, "%s: model kind '%s' has no user and item vectors",
                        fn, recint_model_kind(m));
    if (!v.user_mat && !ri_model_has_user_vector(m) && recint_model_n_users(m) > 0)
        return ri_error(RECINT_EUNSUPPORTED, "%s: model kind '%s' provides no user vectors", fn,
                        recint_model_kind(m));
    recint_explorer *e = RI_NEW_ZEROED(recint_explorer, 1);
    if (!e)
        return ri_error(RECINT_ENOMEM, "%s: out of memory", fn);
    for (int s = 0; s < RI_EXPLORE_STRIPES; s++)
        pthread_mutex_init(&e->stripe[s], NULL);
    pthread_mutex_init(&e->log_lock, NULL);
    e->m = m;
    e->view = v;
    e->n_users = recint_model_n_users(m);
    e->n_items = recint_model_n_items(m);
    e->isa = ri_model_isa(m);
    rc = recint_config_copy(&e->cfg, cfg);
    if (rc == RECINT_OK)
        rc = ri_explore_read_params(e->cfg, &e->pp);
    if (rc == RECINT_OK && !(e->users = RI_NEW_ZEROED(ri_posterior *, e->n_users ? e->n_users : 1)))
        rc = RECINT_ENOMEM;
    if (rc == RECINT_OK)
        rc = item_tables(e);
    if (rc) {
        recint_explorer_free(e);
        return rc == RECINT_ENOMEM ? ri_error(rc, "%s: out of memory for %u users and %u items", fn,
                                              recint_model_n_users(m), recint_model_n_items(m))
                                   : rc;
    }
    *out = e;
    return RECINT_OK;
}

static pthread_mutex_t *stripe_of(recint_explorer *e, uint32_t user)
{
    return &e->stripe[user % RI_EXPLORE_STRIPES];
}

void ri_explorer_rng(const recint_explorer *e, uint32_t user, uint64_t round, ri_rng *r)
{
    /* user * odd constant is a bijection of 64 bits: every (user, round) pair of
     * a seed gets its own stream. */
    ri_rng_seed(r, e->pp.seed ^ ((uint64_t)user * 0x9E3779B97F4A7C15ull), RI_STREAM_EXPLORE + round);
}

int ri_explorer_posterior(recint_explorer *e, uint32_t user, ri_posterior **out)
{
    if (e->users[user]) {
        *out = e->users[user];
        return RECINT_OK;
    }
    const recint_model *m = e->m;
    const uint32_t d = e->view.dim;
    float *room = NULL;
    const float *u0;
    if (e->view.user_mat) {
        u0 = e->view.user_mat + (size_t)user * e->view.user_stride;
    } else {
        if (!(room = RI_NEW_ARRAY(float, d)))
            return ri_error(RECINT_ENOMEM, "explorer: out of memory for a user vector");
        int rc = ri_model_user_vector(m, user, room);
        if (rc) {
            free(room);
            return rc;
        }
        u0 = room;
    }
    ri_posterior *p = RI_NEW_ZEROED(ri_posterior, 1);
    if (!p) {
        free(room);
        return ri_error(RECINT_ENOMEM, "explorer: out of memory for a posterior");
    }
    const uint32_t *seen;
    size_t n_seen;
    ri_model_seen(m, user, &seen, &n_seen);
    int rc = ri_posterior_init(p, d, u0, e->view.item_mat, e->view.item_stride, seen, n_seen,
                               e->pp.prior_precision, e->pp.history_precision);
    free(room);
    if (rc) {
        free(p);
        return rc;
    }
    e->users[user] = p;
    *out = p;
    return RECINT_OK;
}

int ri_explorer_candidates(const recint_explorer *e, uint32_t user, const ri_posterior *p,
                           uint32_t *items, const float **x, float *base, float *inv_norm,
                           float *rows, uint32_t *n_out)
{
    /* The route recommend takes (the scoring core's top-N, training items
     * excluded), queried with the posterior mean. */
    const recint_model *m = e->m;
    const uint32_t *seen;
    size_t n_seen;
    ri_model_seen(m, user, &seen, &n_seen);
    uint32_t got = 0;
    int rc = recint_model_recommend_vector(m, p->mean_f, e->pp.candidates, NULL, seen, n_seen,
                                           items, base, &got);
    if (rc)
        return rc;
    const uint32_t d = e->view.dim;
    for (uint32_t i = 0; i < got; i++) {
        x[i] = e->view.item_mat + (size_t)items[i] * e->view.item_stride;
        if (rows) {
            /* The rows sit scattered over a catalogue the scan has just pushed
             * out of cache; read ahead so that their misses overlap. */
            if (i + 16 < got) {
                const char *ahead = (const char *)(e->view.item_mat +
                                                   (size_t)items[i + 16] * e->view.item_stride);
                for (size_t b = 0; b < d * sizeof(float); b += 64)
                    __builtin_prefetch(ahead + b);
            }
            memcpy(rows + (size_t)i * d, x[i], d * sizeof(float));
            x[i] = rows + (size_t)i * d;
        }
        if (e->penalty)
            base[i] -= e->penalty[items[i]];
        if (inv_norm)
            inv_norm[i] = e->inv_norm ? e->inv_norm[items[i]] : 0.0f;
    }
    *n_out = got;
    return RECINT_OK;
}

/* Buffers of one recommend call. */
typedef struct {
    uint32_t *items, *pos;
    const float **x;
    float *base, *inv_norm, *rows;
    double *prop;
    ri_log_record *rec;
} call_bufs;

static void bufs_free(call_bufs *b)
{
    free(b->items);
    free(b->pos);
    free(b->x);
    free(b->base);
    free(b->inv_norm);
    free(b->prop);
    free(b->rec);
}

/* The candidates' rows (n x dim floats, 128 KB at the benchmark's 500 x 64)
 * live with the user's stripe, whose lock the call holds, and are kept for
 * the next call: freeing a block that large at the top of the heap made
 * malloc give the pages back and fault them in again on every call. */
static float *stripe_rows(recint_explorer *e, uint32_t user, uint32_t n, uint32_t dim)
{
    const uint32_t s = user % RI_EXPLORE_STRIPES;
    if (!e->rows[s])
        e->rows[s] = ri_malloc_array(n, (size_t)dim * sizeof(float));
    return e->rows[s];
}

static int bufs_alloc(call_bufs *b, float *rows, uint32_t n, uint32_t k)
{
    memset(b, 0, sizeof *b);
    b->rows = rows;
    b->items = RI_NEW_ARRAY(uint32_t, n);
    b->x = RI_NEW_ARRAY(const float *, n);
    b->base = RI_NEW_ARRAY(float, n);
    b->inv_norm = RI_NEW_ARRAY(float, n);
    b->pos = RI_NEW_ARRAY(uint32_t, k);
    b->prop = RI_NEW_ARRAY(double, k);
    b->rec = RI_NEW_ARRAY(ri_log_record, k);
    if (b->items && b->x && b->base && b->inv_norm && b->rows && b->pos && b->prop && b->rec)
        return RECINT_OK;
    bufs_free(b);
    return ri_error(RECINT_ENOMEM, "out of memory for %u candidates", n);
}

/* Exploration is worth most while little is known: shrinking the width with
 * the rounds a user has had (and learnt from) spends less of the later slates
 * on directions that the early ones already ruled out. */
ri_explore_params ri_explore_at_round(const ri_explore_params *pp, uint64_t round)
{
    ri_explore_params r = *pp;
    /* A frozen posterior (online=false) learns nothing from its rounds, so its
     * policy stays the same: the estimators and the logs see one policy. */
    if (pp->decay > 0.0 && pp->online) {
        const double f = 1.0 / sqrt(1.0 + (double)round / pp->decay);
        r.ucb_alpha *= f;
        r.ts_scale *= f;
    }
    return r;
}

static int recommend_locked(recint_explorer *e, uint32_t user, uint32_t k, uint32_t *items,
                            double *propensities, uint32_t *n_out)
{
    ri_posterior *p;
    int rc = ri_explorer_posterior(e, user, &p);
    if (rc)
        return rc;
    const uint32_t n = e->pp.candidates;
    call_bufs b;
    if ((rc = bufs_alloc(&b, stripe_rows(e, user, n, e->view.dim), n, k)) != RECINT_OK)
        return rc;
    uint32_t got = 0;
    rc = ri_explorer_candidates(e, user, p, b.items, b.x, b.base, b.inv_norm, b.rows, &got);
    uint32_t kk = k < got ? k : got;
    if (rc == RECINT_OK && kk > 0) {
        ri_candidates c = {got, b.items, b.x, b.base, e->inv_norm ? b.inv_norm : NULL};
        ri_rng rng;
        ri_explorer_rng(e, user, p->round, &rng);
        const ri_explore_params pr = ri_explore_at_round(&e->pp, p->round);
        rc = ri_policy_slate(&pr, e->isa, p, &c, kk, &rng, b.pos, b.prop);
    }
    if (rc == RECINT_OK && e->logging) {
        for (uint32_t j = 0; j < kk; j++) {
            ri_log_record r = {user, b.items[b.pos[j]], j, got, p->round, b.prop[j], NAN};
            b.rec[j] = r;
        }
        uint64_t first = 0;
        rc = ri_explore_log_append(e, b.rec, kk, &first);
        if (rc == RECINT_OK) {
            p->log_first = first;
            p->log_count = kk;
        }
    }
    if (rc == RECINT_OK) {
        for (uint32_t j = 0; j < kk; j++) {
            items[j] = b.items[b.pos[j]];
            if (propensities)
                propensities[j] = b.prop[j];
        }
        *n_out = kk;
        p->round++;
    }
    bufs_free(&b);
    return rc;
}

RECINT_API int recint_explorer_recommend(recint_explorer *e, uint32_t user, uint32_t k,
                                         uint32_t *items, double *propensities, uint32_t *n_out)
{
    static const char fn[] = "recint_explorer_recommend";
    if (!e || !items || !n_out)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn, !e ? "explorer" : !items ? "items" : "n_out");
    if (k == 0)
        return ri_error(RECINT_EINVAL, "%s: k must be >= 1", fn);
    if (user >= e->n_users)
        return ri_error(RECINT_ERANGE, "%s: user %u is out of range (n_users = %u)", fn, user,
                        e->n_users);
    pthread_mutex_t *lk = stripe_of(e, user);
    pthread_mutex_lock(lk);
    int rc = recommend_locked(e, user, k, items, propensities, n_out);
    pthread_mutex_unlock(lk);
    return rc ? ri_error_prefix(rc, "%s: ", fn) : RECINT_OK;
}

RECINT_API int recint_explorer_observe(recint_explorer *e, uint32_t user, uint32_t item,
                                       float reward)
{
    static const char fn[] = "recint_explorer_observe";
    if (!e)
        return ri_error(RECINT_EINVAL, "%s: explorer is NULL", fn);
    if (!isfinite(reward))
        return ri_error(RECINT_EINVAL, "%s: reward is %s", fn, isnan(reward) ? "NaN" : "infinite");
    if (user >= e->n_users)
        return ri_error(RECINT_ERANGE, "%s: user %u is out of range (n_users = %u)", fn, user,
                        e->n_users);
    if (item >= e->n_items)
        return ri_error(RECINT_ERANGE, "%s: item %u is out of range (n_items = %u)", fn, item,
                        e->n_items);
    pthread_mutex_t *lk = stripe_of(e, user);
    pthread_mutex_lock(lk);
    ri_posterior *p;
    int rc = ri_explorer_posterior(e, user, &p);
    if (rc == RECINT_OK) {
        if (e->pp.online)
            ri_posterior_observe(p, e->view.item_mat + (size_t)item * e->view.item_stride, reward,
                                 e->isa, e->pp.policy == RI_POL_THOMPSON);
        if (e->logging && p->log_count)
            ri_explore_log_reward(e, p->log_first, p->log_count, item, reward);
    }
    pthread_mutex_unlock(lk);
    return rc ? ri_error_prefix(rc, "%s: ", fn) : RECINT_OK;
}
