/* Serving: every public scoring and ranking call of a model goes through the
 * scoring core (lib/core/core.h). Each kind hands over its linear form once,
 * when a state is installed; the core's item side built from it is immutable,
 * so all calls here are read-only on the model and may run concurrently. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "util/error.h"
#include "models/model_internal.h"
#include "models/model_private.h"
#include "util/parallel.h"

/* Outputs of at most this many entries use stack scratch. */
#define STACK_K 256
#define STACK_DIM 512

/* ------------------------------------------------------------------------ */
/* Building the serving side                                                */
/* ------------------------------------------------------------------------ */

int ri_serving_isa(const recint_config *cfg, int at_load, ri_isa *out)
{
    const char *req = ri_cfg_str(cfg, RI_P_ISA);
    int rc = ri_core_isa_resolve(req, out);
    if (rc == RECINT_OK || !at_load)
        return rc;
    /* A file may carry the preference of a machine with more than this one. */
    if (ri_core_isa_resolve("auto", out) != RECINT_OK)
        *out = ri_core_isa_detect();
    ri_error_clear();
    return RECINT_OK;
}

/* Per-item 1/||w_i|| (0 for a zero vector, whose cosine is then 0 with
 * everything), in double so that long vectors lose nothing to rounding. */
static float *inverse_norms(const ri_linear_view *v, uint32_t n)
{
    float *scale = RI_NEW_ARRAY(float, n ? n : 1);
    if (!scale)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        const float *w = v->item_mat + (size_t)i * v->item_stride;
        double ss = 0.0;
        for (uint32_t j = 0; j < v->dim; j++)
            ss += (double)w[j] * w[j];
        double inv = ss > 0.0 ? 1.0 / sqrt(ss) : 0.0;
        scale[i] = inv > FLT_MAX ? FLT_MAX : (float)inv;
    }
    return scale;
}

/* The similar-items side: the item vectors without bias, scaled for cosine. */
static int build_sim(ri_serving *s, uint32_t n_items)
{
    if (!s->cosine && !s->view.item_bias) {
        s->sim = s->items;
        return RECINT_OK;
    }
    float *scale = NULL;
    if (s->cosine && !(scale = inverse_norms(&s->view, n_items)))
        return ri_error(RECINT_ENOMEM, "model serving: out of memory for %u item norms", n_items);
    int rc = ri_core_items_new(&s->sim, n_items, s->view.dim, s->view.item_mat,
                               s->view.item_stride, NULL, scale, 0);
    free(scale);
    return rc;
}

int ri_serving_build(const recint_model *m, const void *state, uint32_t n_items,
                     const ri_int8_copy *int8, ri_serving *out)
{
    ri_serving s;
    memset(&s, 0, sizeof s);
    int rc = m->ops->linear(m, state, &s.view);
    if (rc)
        return rc;
    rc = ri_serving_isa(m->cfg, 1, &s.isa);
    if (rc)
        return rc;
    s.shortlist = (uint32_t)ri_cfg_int(m->cfg, RI_P_INT8_SHORTLIST);
    s.cosine = strcmp(ri_cfg_str(m->cfg, RI_P_SIMILARITY), "cosine") == 0;
    /* int8 needs item vectors; a dim-0 model's scores are its bias alone. */
    unsigned flags = !int8 && s.view.dim > 0 &&
                             strcmp(ri_cfg_str(m->cfg, RI_P_QUANTIZE), "int8") == 0
                         ? RI_CORE_INT8
                         : 0u;
    rc = ri_core_items_new(&s.items, n_items, s.view.dim, s.view.item_mat, s.view.item_stride,
                           s.view.item_bias, NULL, flags);
    if (rc == RECINT_OK && int8 && int8->codes)
        rc = ri_core_items_set_int8(s.items, int8->codes, int8->scales);
    if (rc == RECINT_OK && s.view.dim > 0)
        rc = build_sim(&s, n_items);
    if (rc) {
        ri_serving_free(&s);
        return ri_error_prefix(rc, "model '%s' serving: ", m->ops->name);
    }
    *out = s;
    return RECINT_OK;
}

void ri_serving_free(ri_serving *s)
{
    if (s->sim != s->items)
        ri_core_items_free(s->sim);
    ri_core_items_free(s->items);
    memset(s, 0, sizeof *s);
}

RECINT_API uint32_t recint_model_dim(const recint_model *m)
{
    return m && m->fitted ? m->serve.view.dim : 0;
}

/* ------------------------------------------------------------------------ */
/* Shared checks and scratch                                                */
/* ------------------------------------------------------------------------ */

static int check_fitted(const char *fn, const recint_model *m)
{
    if (!m->fitted)
        return ri_error(RECINT_ESTATE, "%s: model '%s' is not fitted", fn, m->ops->name);
    return RECINT_OK;
}

static int check_filter(const char *fn, const recint_model *m, const recint_filter *f)
{
    if (f && f->n_items != m->n_items)
        return ri_error(RECINT_EINVAL, "%s: the filter covers %u items, the model has %u", fn,
                        f->n_items, m->n_items);
    return RECINT_OK;
}

static int check_indices(const char *fn, const uint32_t *idx, size_t n, uint32_t bound,
                         const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= bound)
            return ri_error(RECINT_ERANGE, "%s: %s[%zu] = %u is out of range (n_%s = %u)", fn, what,
                            i, idx[i], what, bound);
    return RECINT_OK;
}

/* Room for a user vector when the kind computes it (dim floats). */
typedef struct {
    float stack[STACK_DIM];
    float *heap;
} vec_scratch;

static float *vec_room(vec_scratch *s, uint32_t dim)
{
    s->heap = NULL;
    if (dim <= STACK_DIM)
        return s->stack;
    s->heap = RI_NEW_ARRAY(float, dim);
    return s->heap;
}

/* The vector of user (borrowed from the model, or written into room). dim 0
 * gives a valid pointer to nothing: the core reads no element of it. */
static int user_vec(const recint_model *m, uint32_t user, float *room, const float **out)
{
    const ri_linear_view *v = &m->serve.view;
    if (v->dim == 0) {
        *out = room;
        return RECINT_OK;
    }
    if (v->user_mat) {
        *out = v->user_mat + (size_t)user * v->user_stride;
        return RECINT_OK;
    }
    if (!m->ops->user_vector)
        return ri_error(RECINT_EUNSUPPORTED, "model kind '%s' provides no user vectors",
                        m->ops->name);
    *out = room;
    return m->ops->user_vector(m, m->state, user, room);
}

/* The core's filter for one call: f's bitsets, and exclude unless f keeps the
 * user's seen items in. */
static ri_core_filter core_filter(const recint_filter *f, const uint32_t *exclude,
                                  size_t n_exclude)
{
    ri_core_filter cf = {exclude, n_exclude, f ? f->allow : NULL, f ? f->block : NULL};
    return cf;
}

static ri_core_filter seen_filter(const recint_model *m, const recint_filter *f, uint32_t user)
{
    if (f && f->include_seen)
        return core_filter(f, NULL, 0);
    uint64_t b = m->seen_indptr[user], e = m->seen_indptr[user + 1];
    return core_filter(f, m->seen_items + b, (size_t)(e - b));
}

/* Top-k of u through the core into the caller's arrays (scores may be NULL). */
static int rank(const char *fn, const recint_model *m, const ri_core_items *it, const float *u,
                const ri_core_filter *cf, uint32_t k, int use_int8, uint32_t *items,
                float *scores, uint32_t *n_out)
{
    /* More than n_items can never be returned, so k beyond that needs no room. */
    uint32_t n = ri_core_items_n(it), kk = k < n ? k : n;
    float stack[STACK_K], *heap = NULL, *sc = scores;
    if (!sc && kk > STACK_K && !(sc = heap = RI_NEW_ARRAY(float, kk)))
        return ri_error(RECINT_ENOMEM, "%s: out of memory for %u scores", fn, kk);
    if (!sc)
        sc = stack;
    ri_core_opts o = {m->serve.isa, use_int8 && ri_core_items_has_int8(it), m->serve.shortlist};
    int status = RECINT_OK;
    uint32_t got = kk ? ri_core_topk(it, u, cf, kk, &o, items, sc, &status) : 0;
    free(heap);
    if (status != RECINT_OK)
        return ri_error_prefix(status, "%s: ", fn);
    *n_out = got;
    return RECINT_OK;
}

/* ------------------------------------------------------------------------ */
/* Scores                                                                   */
/* ------------------------------------------------------------------------ */

RECINT_API int recint_model_score(const recint_model *m, const uint32_t *users, size_t n_users,
                                  const uint32_t *items, size_t n_items, float *out)
{
    static const char fn[] = "recint_model_score";
    if (!m || (!users && n_users) || (!out && n_users))
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn, !m ? "model" : !users ? "users" : "out");
    int rc = check_fitted(fn, m);
    if (rc == RECINT_OK)
        rc = check_indices(fn, users, n_users, m->n_users, "users");
    if (rc == RECINT_OK && items)
        rc = check_indices(fn, items, n_items, m->n_items, "items");
    if (rc)
        return rc;
    size_t cols = items ? n_items : m->n_items, total;
    if (ri_mul_overflow(n_users, cols, &total) || total > SIZE_MAX / sizeof(float))
        return ri_error(RECINT_EINVAL, "%s: %zu users x %zu items overflows", fn, n_users, cols);
    if (n_users == 0 || cols == 0)
        return RECINT_OK;
    /* A kind that computes its user vectors (and may fail on any of them) has
     * them all computed before the first score is written, so that a failure
     * leaves out as it was. Borrowed vectors cannot fail. */
    const uint32_t dim = m->serve.view.dim;
    const int computed = dim > 0 && !m->serve.view.user_mat;
    float *vecs = NULL, none[1];
    if (computed) {
        if (!(vecs = ri_malloc_array(n_users, (size_t)dim * sizeof(float))))
            return ri_error(RECINT_ENOMEM, "%s: out of memory for %zu user vectors", fn, n_users);
        for (size_t r = 0; r < n_users && rc == RECINT_OK; r++) {
            const float *u = NULL;
            rc = user_vec(m, users[r], vecs + r * dim, &u);
        }
    }
    for (size_t r = 0; r < n_users && rc == RECINT_OK; r++) {
        const float *u = computed ? vecs + r * dim : NULL;
        if (!computed)
            rc = user_vec(m, users[r], none, &u);
        if (rc == RECINT_OK && items)
            ri_core_score_some(m->serve.items, u, items, n_items, out + r * cols);
        else if (rc == RECINT_OK)
            ri_core_score_all(m->serve.items, u, m->serve.isa, out + r * cols);
    }
    free(vecs);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* One user                                                                 */
/* ------------------------------------------------------------------------ */

static int recommend_one(const char *fn, const recint_model *m, uint32_t user, uint32_t k,
                         const recint_filter *f, uint32_t *items, float *scores, uint32_t *n_out)
{
    if (!m || !items || !n_out)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn, !m ? "model" : !items ? "items" : "n_out");
    if (k == 0)
        return ri_error(RECINT_EINVAL, "%s: k must be >= 1", fn);
    int rc = check_fitted(fn, m);
    if (rc == RECINT_OK && user >= m->n_users)
        rc = ri_error(RECINT_ERANGE, "%s: user %u is out of range (n_users = %u)", fn, user,
                      m->n_users);
    if (rc == RECINT_OK)
        rc = check_filter(fn, m, f);
    if (rc)
        return rc;
    vec_scratch vs;
    float *room = vec_room(&vs, m->serve.view.dim);
    if (!room)
        return ri_error(RECINT_ENOMEM, "%s: out of memory for a user vector", fn);
    const float *u = NULL;
    rc = user_vec(m, user, room, &u);
    if (rc == RECINT_OK) {
        ri_core_filter cf = seen_filter(m, f, user);
        rc = rank(fn, m, m->serve.items, u, &cf, k, 1, items, scores, n_out);
    }
    free(vs.heap);
    return rc;
}

RECINT_API int recint_model_recommend(const recint_model *m, uint32_t user, uint32_t k,
                                      uint32_t *items, float *scores, uint32_t *n_out)
{
    return recommend_one("recint_model_recommend", m, user, k, NULL, items, scores, n_out);
}

RECINT_API int recint_model_recommend_filtered(const recint_model *m, uint32_t user, uint32_t k,
                                               const recint_filter *f, uint32_t *items,
                                               float *scores, uint32_t *n_out)
{
    return recommend_one("recint_model_recommend_filtered", m, user, k, f, items, scores, n_out);
}

static int check_vector(const char *fn, const float *v, uint32_t dim)
{
    for (uint32_t j = 0; j < dim; j++)
        if (!isfinite(v[j]))
            return ri_error(RECINT_EINVAL, "%s: user_vector[%u] is %s", fn, j,
                            isnan(v[j]) ? "NaN" : "infinite");
    return RECINT_OK;
}

static int check_exclude(const char *fn, const uint32_t *ex, size_t n, uint32_t n_items)
{
    if (n && !ex)
        return ri_error(RECINT_EINVAL, "%s: exclude is NULL with n_exclude = %zu", fn, n);
    for (size_t j = 0; j < n; j++) {
        if (ex[j] >= n_items)
            return ri_error(RECINT_ERANGE, "%s: exclude[%zu] = %u is out of range (n_items = %u)",
                            fn, j, ex[j], n_items);
        if (j > 0 && ex[j] <= ex[j - 1])
            return ri_error(RECINT_EINVAL,
                            "%s: exclude must be strictly ascending: exclude[%zu] = %u after %u", fn,
                            j, ex[j], ex[j - 1]);
    }
    return RECINT_OK;
}

RECINT_API int recint_model_recommend_vector(const recint_model *m, const float *user_vector,
                                             uint32_t k, const recint_filter *f,
                                             const uint32_t *exclude, size_t n_exclude,
                                             uint32_t *items, float *scores, uint32_t *n_out)
{
    static const char fn[] = "recint_model_recommend_vector";
    if (!m || !user_vector || !items || !n_out)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn,
                        !m ? "model" : !user_vector ? "user_vector" : !items ? "items" : "n_out");
    if (k == 0)
        return ri_error(RECINT_EINVAL, "%s: k must be >= 1", fn);
    int rc = check_fitted(fn, m);
    if (rc == RECINT_OK && m->serve.view.dim == 0)
        rc = ri_error(RECINT_EUNSUPPORTED, "%s: model kind '%s' has no user vectors (dim 0)", fn,
                      m->ops->name);
    if (rc == RECINT_OK)
        rc = check_vector(fn, user_vector, m->serve.view.dim);
    if (rc == RECINT_OK)
        rc = check_exclude(fn, exclude, n_exclude, m->n_items);
    if (rc == RECINT_OK)
        rc = check_filter(fn, m, f);
    if (rc)
        return rc;
    ri_core_filter cf = core_filter(f, exclude, n_exclude);
    return rank(fn, m, m->serve.items, user_vector, &cf, k, 1, items, scores, n_out);
}

RECINT_API int recint_model_similar_items(const recint_model *m, uint32_t item, uint32_t k,
                                          const recint_filter *f, uint32_t *items, float *scores,
                                          uint32_t *n_out)
{
    static const char fn[] = "recint_model_similar_items";
    if (!m || !items || !n_out)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn, !m ? "model" : !items ? "items" : "n_out");
    if (k == 0)
        return ri_error(RECINT_EINVAL, "%s: k must be >= 1", fn);
    int rc = check_fitted(fn, m);
    if (rc == RECINT_OK && item >= m->n_items)
        rc = ri_error(RECINT_ERANGE, "%s: item %u is out of range (n_items = %u)", fn, item,
                      m->n_items);
    if (rc == RECINT_OK && m->serve.view.dim == 0)
        rc = ri_error(RECINT_EUNSUPPORTED, "%s: model kind '%s' has no item vectors (dim 0)", fn,
                      m->ops->name);
    if (rc == RECINT_OK)
        rc = check_filter(fn, m, f);
    if (rc)
        return rc;
    const ri_linear_view *v = &m->serve.view;
    const float *w = v->item_mat + (size_t)item * v->item_stride;
    vec_scratch vs;
    float *q = vec_room(&vs, v->dim);
    if (!q)
        return ri_error(RECINT_ENOMEM, "%s: out of memory for the query vector", fn);
    if (m->serve.cosine) {
        double ss = 0.0;
        for (uint32_t j = 0; j < v->dim; j++)
            ss += (double)w[j] * w[j];
        double inv = ss > 0.0 ? 1.0 / sqrt(ss) : 0.0;
        for (uint32_t j = 0; j < v->dim; j++)
            q[j] = (float)(w[j] * inv);
    } else {
        memcpy(q, w, v->dim * sizeof(float));
    }
    /* The item itself always scores best under cosine: leave it out. */
    ri_core_filter cf = core_filter(f, &item, 1);
    rc = rank(fn, m, m->serve.sim, q, &cf, k, 0, items, scores, n_out);
    free(vs.heap);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Many users                                                               */
/* ------------------------------------------------------------------------ */

static int check_batch_args(const char *fn, const recint_model *m, const uint32_t *users,
                            size_t n_users, uint32_t k, const recint_filter *f,
                            const uint32_t *items, const uint32_t *counts)
{
    if (!m || (!users && n_users) || (!items && n_users) || (!counts && n_users))
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn,
                        !m ? "model" : !users ? "users" : !items ? "items" : "counts");
    if (k == 0)
        return ri_error(RECINT_EINVAL, "%s: k must be >= 1", fn);
    int rc = check_fitted(fn, m);
    if (rc == RECINT_OK)
        rc = check_indices(fn, users, n_users, m->n_users, "users");
    if (rc == RECINT_OK)
        rc = check_filter(fn, m, f);
    if (rc == RECINT_OK && n_users > UINT32_MAX)
        rc = ri_error(RECINT_EINVAL, "%s: %zu users in one call (at most %u)", fn, n_users,
                      UINT32_MAX);
    size_t total;
    if (rc == RECINT_OK && (ri_mul_overflow(n_users, k, &total) || total > SIZE_MAX / sizeof(float)))
        rc = ri_error(RECINT_EINVAL, "%s: %zu users x k = %u overflows", fn, n_users, k);
    return rc;
}

/* The users' vectors as rows: the model's own rows when users are consecutive,
 * else gathered into *buf. */
static int gather_users(const recint_model *m, const uint32_t *users, size_t n, const float **U,
                        size_t *ldu, float **buf)
{
    const ri_linear_view *v = &m->serve.view;
    static const float nothing[1] = {0.0f};
    *buf = NULL;
    if (v->dim == 0) {
        *U = nothing;
        *ldu = 0;
        return RECINT_OK;
    }
    int consecutive = v->user_mat != NULL;
    for (size_t r = 1; consecutive && r < n; r++)
        consecutive = users[r] == users[0] + r;
    if (consecutive) {
        *U = v->user_mat + (size_t)users[0] * v->user_stride;
        *ldu = v->user_stride;
        return RECINT_OK;
    }
    float *g = ri_malloc_array(n, (size_t)v->dim * sizeof(float));
    if (!g)
        return ri_error(RECINT_ENOMEM, "out of memory for %zu user vectors of dim %u", n, v->dim);
    for (size_t r = 0; r < n; r++) {
        const float *u = NULL;
        int rc = user_vec(m, users[r], g + r * v->dim, &u);
        if (rc) {
            free(g);
            return rc;
        }
        if (u != g + r * v->dim)
            memcpy(g + r * v->dim, u, v->dim * sizeof(float));
    }
    *U = g;
    *ldu = v->dim;
    *buf = g;
    return RECINT_OK;
}

RECINT_API int recint_model_recommend_batch(const recint_model *m, const uint32_t *users,
                                            size_t n_users, uint32_t k, const recint_filter *f,
                                            const recint_config *cfg, uint32_t *items,
                                            float *scores, uint32_t *counts)
{
    static const char fn[] = "recint_model_recommend_batch";
    int rc = check_batch_args(fn, m, users, n_users, k, f, items, counts);
    if (rc || n_users == 0)
        return rc;
    uint32_t kk = k < m->n_items ? k : m->n_items;
    const float *U = NULL;
    size_t ldu = 0;
    float *gathered = NULL;
    rc = gather_users(m, users, n_users, &U, &ldu, &gathered);
    if (rc)
        return ri_error_prefix(rc, "%s: ", fn);
    ri_core_filter *filters = RI_NEW_ARRAY(ri_core_filter, n_users);
    /* The core writes rows of kk entries: the caller's rows when they are that
     * long and have scores, else scratch copied out afterwards. */
    int direct = kk == k && scores;
    uint32_t *idx = direct ? items : ri_malloc_array(n_users, (size_t)kk * sizeof(uint32_t));
    float *sc = direct ? scores : ri_malloc_array(n_users, (size_t)kk * sizeof(float));
    if (!filters || !idx || !sc) {
        rc = ri_error(RECINT_ENOMEM, "%s: out of memory for %zu users' results", fn, n_users);
    } else {
        for (size_t r = 0; r < n_users; r++)
            filters[r] = seen_filter(m, f, users[r]);
        unsigned threads = ri_threads_resolve(ri_cfg_int(cfg ? cfg : m->cfg, RI_P_THREADS));
        rc = ri_core_topk_batch(m->serve.items, U, ldu, (uint32_t)n_users, filters, kk, threads,
                                idx, sc, counts);
        if (rc)
            rc = ri_error_prefix(rc, "%s: ", fn);
    }
    if (rc == RECINT_OK && !direct) {
        for (size_t r = 0; r < n_users; r++) {
            memcpy(items + r * k, idx + r * kk, counts[r] * sizeof(uint32_t));
            if (scores)
                memcpy(scores + r * k, sc + r * kk, counts[r] * sizeof(float));
        }
    }
    if (!direct) {
        free(idx);
        free(sc);
    }
    free(filters);
    free(gathered);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Fold-in and explanations                                                 */
/* ------------------------------------------------------------------------ */

/* Pairwise comparison needs no memory and is cheaper than sorting at the sizes a
 * fold-in sees; past this many items a bitset of the catalogue takes over. */
#define PAIRWISE_MAX 2048

static int repeated_item(const char *fn, const uint32_t *items, size_t n, uint32_t n_items)
{
    if (n <= PAIRWISE_MAX) {
        for (size_t a = 1; a < n; a++)
            for (size_t b = 0; b < a; b++)
                if (items[a] == items[b])
                    return ri_error(RECINT_EINVAL, "%s: items[%zu] = %u repeats items[%zu]", fn,
                                    a, items[a], b);
        return RECINT_OK;
    }
    uint64_t *bits = RI_NEW_ZEROED(uint64_t, ((size_t)n_items + 63) / 64);
    if (!bits)
        return ri_error(RECINT_ENOMEM, "%s: out of memory checking %zu items for repeats", fn, n);
    int rc = RECINT_OK;
    for (size_t a = 0; a < n && rc == RECINT_OK; a++) {
        uint64_t bit = 1ull << (items[a] % 64);
        if (bits[items[a] / 64] & bit)
            rc = ri_error(RECINT_EINVAL, "%s: items[%zu] = %u is repeated", fn, a, items[a]);
        bits[items[a] / 64] |= bit;
    }
    free(bits);
    return rc;
}

static int check_fold_weights(const char *fn, const float *w, size_t n)
{
    for (size_t j = 0; w && j < n; j++)
        if (!isfinite(w[j]) || !(w[j] >= 0))
            return ri_error(RECINT_EINVAL, "%s: weights[%zu] is %g; weights must be finite and >= 0",
                            fn, j, (double)w[j]);
    return RECINT_OK;
}

/* NULL, kind support, fitted: the checks both entry points share, in this order. */
static int check_kind_op(const char *fn, const recint_model *m, int has_op, const char *what,
                         const char *kinds)
{
    if (!has_op)
        return ri_error(RECINT_EUNSUPPORTED, "%s: model kind '%s' has no %s (%s)", fn,
                        m->ops->name, what, kinds);
    return check_fitted(fn, m);
}

RECINT_API int recint_model_fold_in(const recint_model *m, const uint32_t *items,
                                    const float *weights, size_t n, float *user_vector)
{
    const char *fn = "recint_model_fold_in";
    if (!m || (!items && n) || !user_vector)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn,
                        !m ? "model" : !user_vector ? "user_vector" : "items");
    int rc = check_kind_op(fn, m, m->ops->fold_in != NULL, "fold-in",
                           "kinds als, hybrid and sequential have");
    if (rc == RECINT_OK)
        rc = check_indices(fn, items, n, m->n_items, "items");
    if (rc == RECINT_OK)
        rc = check_fold_weights(fn, weights, n);
    if (rc == RECINT_OK)
        rc = repeated_item(fn, items, n, m->n_items);
    if (rc)
        return rc;
    return m->ops->fold_in(m, m->state, items, weights, n, user_vector);
}

RECINT_API int recint_model_feature_vector(const recint_model *m, int side, const uint32_t *cols,
                                           const float *weights, size_t n, float *vector,
                                           float *bias)
{
    const char *fn = "recint_model_feature_vector";
    if (!m || (!cols && n) || !vector)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn,
                        !m ? "model" : !vector ? "vector" : "cols");
    if (side != RECINT_SIDE_USER && side != RECINT_SIDE_ITEM)
        return ri_error(RECINT_EINVAL, "%s: side %d is neither RECINT_SIDE_USER (0) nor "
                        "RECINT_SIDE_ITEM (1)", fn, side);
    int rc = check_kind_op(fn, m, m->ops->feature_vector != NULL, "feature embeddings",
                           "kind hybrid has");
    if (rc)
        return rc;
    for (size_t j = 0; weights && j < n; j++)
        if (!isfinite(weights[j]))
            return ri_error(RECINT_EINVAL, "%s: weights[%zu] is not finite", fn, j);
    for (size_t a = 1; a < n; a++)
        for (size_t b = 0; b < a; b++)
            if (cols[a] == cols[b])
                return ri_error(RECINT_EINVAL, "%s: cols[%zu] = %u repeats cols[%zu]", fn, a,
                                cols[a], b);
    return m->ops->feature_vector(m, m->state, side, cols, weights, n, vector, bias);
}

RECINT_API int recint_model_explain(const recint_model *m, uint32_t user, uint32_t item,
                                    uint32_t k, uint32_t *items, float *contributions,
                                    uint32_t *n_out, float *score)
{
    const char *fn = "recint_model_explain";
    if (!m || !items || !contributions || !n_out)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn,
                        !m ? "model" : !items ? "items" : !contributions ? "contributions" : "n_out");
    int rc = check_kind_op(fn, m, m->ops->explain != NULL, "explanations", "kind als has");
    if (rc)
        return rc;
    if (user >= m->n_users)
        return ri_error(RECINT_ERANGE, "%s: user %u is out of range (n_users = %u)", fn, user,
                        m->n_users);
    if (item >= m->n_items)
        return ri_error(RECINT_ERANGE, "%s: item %u is out of range (n_items = %u)", fn, item,
                        m->n_items);
    return m->ops->explain(m, m->state, user, item, k, items, contributions, n_out, score);
}
