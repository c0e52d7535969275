/* The policy step: from the candidates' scores to a slate and its propensities.
 *
 * A slate is built slot by slot; the propensity of slot j is the probability
 * that the policy picks that item at slot j given the items of slots 0..j-1, so
 * over the remaining candidates the propensities of each slot sum to 1, and the
 * product over the slots is the probability of the whole ordered slate.
 * Thompson's probabilities have no closed form: the acting draw plus
 * propensity_samples further draws estimate them (each draw's pick given the
 * same earlier slots), which keeps every shown item's propensity positive. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/sorted.h"
#include "explore/explore_internal.h"
#include "core/topk.h"

typedef struct {
    const ri_explore_params *pp;
    ri_isa isa;
    const ri_posterior *post;
    const ri_candidates *c;
    uint32_t n, k, draws; /* draws: thompson's posterior draws held in dscore */
    float *sc;            /* n: the policy's score (all but thompson) */
    float *dscore;        /* draws x n, draw-major (thompson) */
    uint32_t *dlist;      /* draws x k: each draw's best positions (thompson, no MMR) */
    uint32_t *dlen;       /* draws: how many of a draw's best positions dlist holds so far */
    int direct;           /* thompson slate without MMR: dlist filled whole by score_draws */
    float *maxsim;        /* n: largest cosine to the slate so far (MMR) */
    float *adj;           /* n: MMR-adjusted scores */
    uint32_t *chosen;     /* positions taken, ascending */
    uint32_t n_chosen;
    float *width2;        /* n: linucb's x^T cov x under the slate so far */
    float *S;             /* dim x dim: cov in float (linucb) */
    float *v;             /* k x dim: cov_t x_t of the slate's picks (linucb) */
    float *inv;           /* k: 1 / (1 + x_t . v_t) */
    uint32_t *applied;    /* n: slate updates already in a candidate's width2 */
    uint32_t *stale;      /* n: positions brought up to date together (linucb) */
    const float **sx;     /* n: their vectors, per update */
    uint32_t *spos;       /* n: their places in stale, per update */
    float *sdot;          /* n: their dots with an update's vector */
    uint32_t *scount;     /* k + 1: counts by updates applied */
    double *ex;           /* n: softmax weights of the current slot */
    uint32_t n_upd;
} work;

static int mmr_on(const work *w) { return w->pp->mmr_lambda < 1.0 && w->c->inv_norm; }

static void work_free(work *w)
{
    free(w->width2);
    free(w->S);
    free(w->v);
    free(w->inv);
    free(w->applied);
    free(w->stale);
    free(w->sx);
    free(w->spos);
    free(w->sdot);
    free(w->scount);
    free(w->ex);
    free(w->sc);
    free(w->dscore);
    free(w->dlist);
    free(w->dlen);
    free(w->maxsim);
    free(w->adj);
    free(w->chosen);
}

static int work_init(work *w, const ri_explore_params *pp, ri_isa isa, const ri_posterior *post,
                     const ri_candidates *c, uint32_t k, uint32_t draws)
{
    memset(w, 0, sizeof *w);
    w->pp = pp;
    w->isa = isa;
    w->post = post;
    w->c = c;
    w->n = c->n;
    w->k = k;
    w->draws = draws;
    size_t nd;
    if (ri_mul_overflow(c->n, draws ? draws : 1, &nd))
        return ri_error(RECINT_ENOMEM, "explorer: %u candidates x %u draws overflows", c->n, draws);
    w->sc = RI_NEW_ARRAY(float, c->n);
    w->adj = RI_NEW_ARRAY(float, c->n);
    w->chosen = RI_NEW_ARRAY(uint32_t, k ? k : 1);
    int ok = w->sc && w->adj && w->chosen;
    if (ok && draws) {
        w->dscore = ri_malloc_array(nd, sizeof(float));
        w->dlist = ri_malloc_array((size_t)draws, (size_t)(k ? k : 1) * sizeof(uint32_t));
        w->dlen = RI_NEW_ZEROED(uint32_t, draws);
        ok = w->dscore && w->dlist && w->dlen;
    }
    if (ok && pp->policy == RI_POL_SOFTMAX)
        ok = (w->ex = RI_NEW_ARRAY(double, c->n)) != NULL;
    if (ok && mmr_on(w)) {
        ok = (w->maxsim = RI_NEW_ARRAY(float, c->n)) != NULL;
        for (uint32_t i = 0; ok && i < c->n; i++)
            w->maxsim[i] = -FLT_MAX;
    }
    if (!ok) {
        work_free(w);
        return ri_error(RECINT_ENOMEM, "explorer: out of memory for the policy step over %u "
                        "candidates", c->n);
    }
    return RECINT_OK;
}

/* mean + bias - penalty, plus ucb_alpha * sqrt(x^T cov x) for linucb. */
static int score_plain(work *w)
{
    const ri_candidates *c = w->c;
    memcpy(w->sc, c->base, c->n * sizeof(float));
    if (w->pp->policy != RI_POL_LINUCB || w->pp->ucb_alpha == 0.0)
        return RECINT_OK;
    const uint32_t d = w->post->dim;
    w->S = ri_malloc_array((size_t)d * d, sizeof(float));
    w->width2 = RI_NEW_ARRAY(float, c->n);
    w->applied = RI_NEW_ZEROED(uint32_t, c->n);
    w->v = ri_malloc_array((size_t)(w->k ? w->k : 1), (size_t)d * sizeof(float));
    w->inv = RI_NEW_ARRAY(float, w->k ? w->k : 1);
    w->stale = RI_NEW_ARRAY(uint32_t, c->n);
    w->sx = RI_NEW_ARRAY(const float *, c->n);
    w->spos = RI_NEW_ARRAY(uint32_t, c->n);
    w->sdot = RI_NEW_ARRAY(float, c->n);
    w->scount = RI_NEW_ARRAY(uint32_t, (size_t)w->k + 1);
    if (!w->scount || !w->S || !w->width2 || !w->applied || !w->v || !w->inv || !w->stale ||
        !w->sx || !w->spos || !w->sdot)
        return ri_error(RECINT_ENOMEM, "explorer: out of memory for linucb widths");
    for (size_t t = 0; t < (size_t)d * d; t++)
        w->S[t] = (float)w->post->cov[t];
    ri_explore_quadforms(w->isa, w->S, d, c->x, c->n, w->width2);
    const float a = (float)w->pp->ucb_alpha;
    for (uint32_t i = 0; i < c->n; i++)
        w->sc[i] += a * sqrtf(w->width2[i] > 0.0f ? w->width2[i] : 0.0f);
    return RECINT_OK;
}

/* LinUCB within a slate: the item placed at a slot will be observed whatever
 * its reward, and the covariance update does not depend on the reward, so the
 * later slots see the covariance with the placed items' updates applied:
 * cov_{t+1} = cov_t - v_t v_t^T / (1 + x_t . v_t), v_t = cov_t x_t. A
 * candidate's width then shrinks by (x_i . v_t)^2 / (1 + x_t . v_t) per placed
 * item, and the slate spreads over several unexplored directions instead of
 * spending every slot on one.
 *
 * The updates reach a candidate lazily: widths only shrink, so a stale score
 * bounds the exact one from above, and a slot takes the best bound once that
 * candidate is up to date. Each candidate gets the same updates in the same
 * order as an eager pass would give it, so the result is the eager one. */
static void add_update(work *w, uint32_t p)
{
    const ri_candidates *c = w->c;
    const uint32_t d = w->post->dim, t = w->n_upd;
    float *vt = w->v + (size_t)t * d;
    ri_explore_rowmat(w->isa, c->x[p], w->S, d, d, vt);
    for (uint32_t s = 0; s < t; s++) {
        const float *vs = w->v + (size_t)s * d;
        float a;
        ri_explore_dots(w->isa, vs, d, &c->x[p], 1, &a);
        a *= w->inv[s];
        for (uint32_t j = 0; j < d; j++)
            vt[j] -= a * vs[j];
    }
    float xv;
    ri_explore_dots(w->isa, vt, d, &c->x[p], 1, &xv);
    w->inv[t] = 1.0f / (1.0f + xv);
    w->n_upd++;
}

/* Apply the slate's updates a candidate lacks to the m positions in w->stale,
 * update by update: one kernel call over every listed candidate that still
 * lacks it, so the dots overlap instead of each waiting on its own reduction.
 * Each candidate gets the same operations in the same order whatever the list
 * (the kernel's dots do not depend on the batch): the same bits. */
static void bring_up_to_date(work *w, uint32_t m)
{
    const ri_candidates *c = w->c;
    const uint32_t d = w->post->dim, nu = w->n_upd;
    /* Counting sort by updates already applied: the candidates that lack
     * update t are then a prefix of the order, growing with t. */
    uint32_t *cum = w->scount; /* nu + 1 */
    memset(cum, 0, (nu + 1) * sizeof *cum);
    for (uint32_t s = 0; s < m; s++)
        cum[w->applied[w->stale[s]]]++;
    for (uint32_t t = 0, sum = 0; t <= nu; t++) {
        const uint32_t h = cum[t];
        cum[t] = sum;
        sum += h;
    }
    for (uint32_t s = 0; s < m; s++) {
        const uint32_t i = w->stale[s], at = cum[w->applied[i]]++;
        w->spos[at] = i;
        w->sx[at] = c->x[i];
    }
    /* cum[t] now counts the candidates with applied <= t. */
    for (uint32_t t = 0; t < nu; t++) {
        const uint32_t cnt = cum[t];
        if (cnt == 0)
            continue;
        ri_explore_dots(w->isa, w->v + (size_t)t * d, d, w->sx, cnt, w->sdot);
        for (uint32_t j = 0; j < cnt; j++) {
            const float a = w->sdot[j];
            float q = w->width2[w->spos[j]];
            q -= a * a * w->inv[t];
            w->width2[w->spos[j]] = q > 0.0f ? q : 0.0f;
        }
    }
    const float alpha = (float)w->pp->ucb_alpha;
    for (uint32_t s = 0; s < m; s++) {
        const uint32_t i = w->stale[s];
        w->applied[i] = nu;
        w->sc[i] = c->base[i] + alpha * sqrtf(w->width2[i]);
    }
}

/* A slate of k slots takes at most k - 1 positions before its last pick, so
 * each draw's k best positions always hold its pick: they are kept while the
 * scores come out of the kernel (candidate-major, one compare per score once a
 * list is full; candidates arrive best base score first, so few enter late),
 * which spares the draw-major copy and a top-k per draw. Order as ri_topk's:
 * score descending, then position ascending (a strict compare keeps the
 * earlier of equal scores first); NaN and -inf never enter. A list left short
 * (fewer than k such scores) turns w->direct off: the caller then takes the
 * general route. */
#define DIRECT_MAX_K 32u

static int draw_lists_direct(work *w, const float *out, uint32_t DP)
{
    const int full = ri_explore_draw_lists(w->isa, out, DP, w->c->base, w->n, w->draws, w->k,
                                           w->dlist);
    if (full < 0)
        return ri_error(RECINT_ENOMEM, "explorer: out of memory for %u draw lists", w->draws);
    for (uint32_t m = 0; m < w->draws; m++)
        w->dlen[m] = full ? w->k : 0;
    w->direct = full;
    return RECINT_OK;
}

/* w->draws user vectors theta = mean + scale R^-1 z (A = R^T R, so R^-1 z has
 * covariance A^-1), scored on every candidate into dscore. The first draw is
 * the one a slate acts on. Draws are padded to a multiple of 16 (zero columns)
 * so that the kernels work in whole vectors. */
static int score_draws(work *w, ri_rng *rng)
{
    const uint32_t d = w->post->dim, D = w->draws, DP = (D + 15u) & ~15u;
    const ri_candidates *c = w->c;
    if (w->post->chol_stale)
        return ri_error(RECINT_EINVAL, "explorer: thompson draws from a posterior whose "
                        "Cholesky factor was not kept (observed under another policy)");
    float *R = ri_malloc_array((size_t)d * d, sizeof(float));
    float *T = ri_calloc_array((size_t)d * DP, sizeof(float));
    float *out = ri_malloc_array((size_t)c->n * DP, sizeof(float));
    int rc = RECINT_OK;
    if (!R || !T || !out) {
        rc = ri_error(RECINT_ENOMEM, "explorer: out of memory for %u posterior draws", D);
        goto done;
    }
    for (size_t t = 0; t < (size_t)d * d; t++)
        R[t] = (float)w->post->chol[t];
    const float scale = (float)w->pp->ts_scale;
    for (uint32_t j = 0; j < d; j++) {
        float *row = T + (size_t)j * DP;
        ri_rng_normal_fill(rng, row, D);
        for (uint32_t m = 0; m < D; m++)
            row[m] *= scale;
    }
    ri_explore_backsolve(w->isa, R, d, DP, T);
    ri_explore_multidot(w->isa, T, d, DP, c->x, c->n, out);
    if (w->direct) {
        rc = draw_lists_direct(w, out, DP);
        if (rc != RECINT_OK || w->direct)
            goto done;
    }
    /* Candidate-major reads: out (n x DP floats) is read once in order, and the
     * D draw rows are written as D sequential streams. */
    for (uint32_t i = 0; i < c->n; i++) {
        const float *o = out + (size_t)i * DP;
        for (uint32_t m = 0; m < D; m++)
            w->dscore[(size_t)m * c->n + i] = c->base[i] + o[m];
    }
done:
    free(R);
    free(T);
    free(out);
    return rc;
}

/* Scores as MMR sees them at the current slot (v itself when MMR is off or the
 * slate is still empty). */
static const float *adjusted(work *w, const float *v)
{
    if (!mmr_on(w) || w->n_chosen == 0)
        return v;
    const float lam = (float)w->pp->mmr_lambda;
    for (uint32_t i = 0; i < w->n; i++)
        w->adj[i] = lam * v[i] - (1.0f - lam) * w->maxsim[i];
    return w->adj;
}

static uint32_t argmax_remaining(const work *w, const float *v)
{
    uint32_t idx = 0;
    float s;
    uint32_t got = ri_topk(v, w->n, w->chosen, w->n_chosen, 1, &idx, &s);
    if (got)
        return idx;
    /* Every remaining score is NaN: the first remaining position. */
    for (uint32_t i = 0, j = 0; i < w->n; i++) {
        if (j < w->n_chosen && w->chosen[j] == i) {
            j++;
            continue;
        }
        return i;
    }
    return 0;
}

/* The r-th position (from 0) not yet chosen. */
static uint32_t nth_remaining(const work *w, uint64_t r)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < w->n; i++) {
        if (j < w->n_chosen && w->chosen[j] == i) {
            j++;
            continue;
        }
        if (r-- == 0)
            return i;
    }
    return w->n - 1;
}

static int is_chosen(const work *w, uint32_t p)
{
    return ri_sorted_has(w->chosen, w->n_chosen, p);
}

static void take(work *w, uint32_t p)
{
    uint32_t j = w->n_chosen;
    while (j > 0 && w->chosen[j - 1] > p) {
        w->chosen[j] = w->chosen[j - 1];
        j--;
    }
    w->chosen[j] = p;
    w->n_chosen++;
    if (!mmr_on(w))
        return;
    const ri_candidates *c = w->c;
    const uint32_t d = w->post->dim;
    const float *xp = c->x[p];
    for (uint32_t i = 0; i < w->n; i++) {
        float s = 0.0f;
        for (uint32_t t = 0; t < d; t++)
            s += c->x[i][t] * xp[t];
        s *= c->inv_norm[i] * c->inv_norm[p];
        if (s > w->maxsim[i])
            w->maxsim[i] = s;
    }
}

/* Softmax over the remaining candidates of a: the sampled position and its
 * probability. One exp per remaining candidate, re-centred on the remaining
 * maximum at every slot so that no weight underflows to an empty total. */
static double softmax_pick(work *w, const float *a, ri_rng *rng, uint32_t *pick)
{
    const double t = w->pp->temperature;
    double *ex = w->ex;
    double mx = -DBL_MAX;
    for (uint32_t i = 0, c = 0; i < w->n; i++) {
        if (c < w->n_chosen && w->chosen[c] == i) {
            c++;
            ex[i] = -1.0; /* marks a taken position */
            continue;
        }
        ex[i] = 0.0;
        mx = a[i] > mx ? a[i] : mx;
    }
    double total = 0.0;
    for (uint32_t i = 0; i < w->n; i++)
        if (ex[i] == 0.0)
            total += ex[i] = exp((a[i] - mx) / t);
        else
            ex[i] = 0.0;
    double u = ri_rng_uniform(rng) * total, acc = 0.0;
    uint32_t last = UINT32_MAX;
    *pick = UINT32_MAX;
    for (uint32_t i = 0; i < w->n; i++) {
        if (ex[i] == 0.0)
            continue;
        last = i;
        acc += ex[i];
        if (u < acc) {
            *pick = i;
            break;
        }
    }
    if (*pick == UINT32_MAX) /* u rounded up to total */
        *pick = last;
    return ex[*pick] / total;
}

/* A draw's best `len` positions (at most k, at most 256 for the stack). The
 * lists grow on demand: ri_topk's order (score, then position) makes a shorter
 * list a prefix of a longer one, and most draws never need more than their
 * first few positions, so a full top-k per draw would be mostly wasted. */
static void draw_list_grow(work *w, uint32_t m, uint32_t len)
{
    float sc[256];
    uint32_t *list = w->dlist + (size_t)m * w->k;
    len = len < w->k ? len : w->k;
    len = len < 256 ? len : 256;
    uint32_t got = ri_topk(w->dscore + (size_t)m * w->n, w->n, NULL, 0, len, list, sc);
    for (uint32_t r = got; r < len; r++)
        list[r] = UINT32_MAX; /* fewer scores than len that are not NaN */
    w->dlen[m] = len;
}

#define DRAW_LIST_FIRST 2u /* first list length: draws mostly agree on their best */

/* Position draw m picks at the current slot: without MMR a draw's scores stay
 * as they are from slot to slot, so its pick is the first of its own ranking
 * not yet taken (at most k - 1 are taken before the last slot). */
static uint32_t draw_pick(work *w, uint32_t m)
{
    const float *v = w->dscore + (size_t)m * w->n;
    if (mmr_on(w))
        return argmax_remaining(w, adjusted(w, v));
    const uint32_t *list = w->dlist + (size_t)m * w->k;
    for (uint32_t r = 0;; r++) {
        if (r == w->dlen[m]) {
            if (r >= w->k || r >= 256)
                break;
            draw_list_grow(w, m, r ? 2 * r : DRAW_LIST_FIRST);
        }
        if (list[r] == UINT32_MAX)
            break;
        if (!is_chosen(w, list[r]))
            return list[r];
    }
    return argmax_remaining(w, v);
}

int ri_policy_slate(const ri_explore_params *pp, ri_isa isa, const ri_posterior *post,
                    const ri_candidates *c, uint32_t k, ri_rng *rng, uint32_t *pos, double *prop)
{
    const int ts = pp->policy == RI_POL_THOMPSON;
    work w;
    int rc = work_init(&w, pp, isa, post, c, k, ts ? pp->samples + 1 : 0);
    if (rc)
        return rc;
    w.direct = ts && !mmr_on(&w) && k <= DIRECT_MAX_K;
    rc = ts ? score_draws(&w, rng) : score_plain(&w);
    for (uint32_t j = 0; rc == RECINT_OK && j < k; j++) {
        const uint32_t left = w.n - w.n_chosen;
        uint32_t p = 0;
        double pr = 1.0;
        switch (pp->policy) {
        case RI_POL_GREEDY:
        case RI_POL_LINUCB:
            p = argmax_remaining(&w, adjusted(&w, w.sc));
            while (w.width2 && w.applied[p] != w.n_upd) {
                /* p's exact score is a threshold: every stale bound above it is
                 * brought up to date in one pass, after which the best is exact.
                 * MMR's adjusted scores are not bounds: everyone then. */
                w.stale[0] = p;
                bring_up_to_date(&w, 1);
                const float thr = mmr_on(&w) ? -INFINITY : w.sc[p];
                uint32_t m = 0;
                for (uint32_t i = 0; i < w.n; i++) { /* branch-free: half are taken */
                    w.stale[m] = i;
                    m += (uint32_t)(w.applied[i] != w.n_upd) & (uint32_t)!(w.sc[i] < thr);
                }
                bring_up_to_date(&w, m);
                p = argmax_remaining(&w, adjusted(&w, w.sc));
            }
            break;
        case RI_POL_EPSILON: {
            uint32_t best = argmax_remaining(&w, adjusted(&w, w.sc));
            int explore = ri_rng_uniform(rng) < pp->epsilon;
            p = explore ? nth_remaining(&w, ri_rng_below(rng, left)) : best;
            pr = pp->epsilon / left + (p == best ? 1.0 - pp->epsilon : 0.0);
            break;
        }
        case RI_POL_SOFTMAX:
            pr = softmax_pick(&w, adjusted(&w, w.sc), rng, &p);
            break;
        case RI_POL_UNIFORM:
            p = nth_remaining(&w, ri_rng_below(rng, left));
            pr = 1.0 / left;
            break;
        case RI_POL_THOMPSON: {
            p = draw_pick(&w, 0);
            uint32_t same = 1;
            for (uint32_t m = 1; m < w.draws; m++)
                same += draw_pick(&w, m) == p;
            pr = (double)same / w.draws;
            break;
        }
        }
        pos[j] = p;
        prop[j] = pr;
        take(&w, p);
        if (w.width2 && j + 1 < k)
            add_update(&w, p);
    }
    work_free(&w);
    return rc;
}

int ri_policy_first_slot(const ri_explore_params *pp, ri_isa isa, const ri_posterior *post,
                         const ri_candidates *c, ri_rng *rng, double *probs)
{
    const int ts = pp->policy == RI_POL_THOMPSON;
    work w;
    int rc = work_init(&w, pp, isa, post, c, 1, ts ? pp->samples : 0);
    if (rc)
        return rc;
    rc = ts ? score_draws(&w, rng) : score_plain(&w);
    for (uint32_t i = 0; rc == RECINT_OK && i < c->n; i++)
        probs[i] = 0.0;
    if (rc == RECINT_OK) {
        switch (pp->policy) {
        case RI_POL_GREEDY:
        case RI_POL_LINUCB:
            probs[argmax_remaining(&w, w.sc)] = 1.0;
            break;
        case RI_POL_EPSILON:
            for (uint32_t i = 0; i < c->n; i++)
                probs[i] = pp->epsilon / c->n;
            probs[argmax_remaining(&w, w.sc)] += 1.0 - pp->epsilon;
            break;
        case RI_POL_SOFTMAX:
        {
            double mx = -DBL_MAX, total = 0.0;
            for (uint32_t i = 0; i < c->n; i++)
                mx = w.sc[i] > mx ? w.sc[i] : mx;
            for (uint32_t i = 0; i < c->n; i++)
                total += probs[i] = exp((w.sc[i] - mx) / pp->temperature);
            for (uint32_t i = 0; i < c->n; i++)
                probs[i] /= total;
            break;
        }
        case RI_POL_UNIFORM:
            for (uint32_t i = 0; i < c->n; i++)
                probs[i] = 1.0 / c->n;
            break;
        case RI_POL_THOMPSON:
            for (uint32_t m = 0; m < w.draws; m++)
                probs[argmax_remaining(&w, w.dscore + (size_t)m * w.n)] += 1.0 / w.draws;
            break;
        }
    }
    work_free(&w);
    return rc;
}
