/* Off-policy estimators: the value of a target policy's first slot from a log
 * written under another policy. Each slot-0 record with a reward is one sample
 * (context = user, action = item, logging propensity mu); the target's
 * probability pi of the same action comes from ri_policy_first_slot over the
 * target's own candidates with its state frozen. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "explore/explore_internal.h"

#define Z95 1.959963984540054

typedef struct {
    uint32_t *items;
    const float **x;
    float *base, *inv_norm;
    double *probs;
} user_view;

static void view_free(user_view *v)
{
    free(v->items);
    free(v->x);
    free(v->base);
    free(v->inv_norm);
    free(v->probs);
}

static int cmp_user(const void *a, const void *b)
{
    const ri_log_record *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return x->round < y->round ? -1 : x->round > y->round;
}

static double clip01(double v) { return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v; }

/* The target's reward model for item: its posterior-mean score (as the
 * candidates carry it: + bias - popularity penalty), clipped to [0, 1]. */
static double reward_model(const recint_explorer *e, const ri_posterior *p, uint32_t item)
{
    const float *x = e->view.item_mat + (size_t)item * e->view.item_stride;
    double s = 0.0;
    for (uint32_t j = 0; j < e->view.dim; j++)
        s += (double)p->mean_f[j] * x[j];
    if (e->view.item_bias)
        s += e->view.item_bias[item];
    if (e->penalty)
        s -= e->penalty[item];
    return clip01(s);
}

/* Samples of one user: per-record terms appended to t (IPS and DR terms) and
 * the importance weights to w. */
static int user_terms(const recint_explorer *e, const ri_log_record *r, size_t nr,
                      user_view *v, double *w, double *ips, double *dr)
{
    const uint32_t user = r[0].user;
    ri_posterior tmp, *p = e->users[user];
    int rc = RECINT_OK;
    if (!p) {
        /* The target has not met this user: its frozen state is the prior. */
        const recint_model *m = e->m;
        const uint32_t *seen;
        size_t n_seen;
        ri_model_seen(m, user, &seen, &n_seen);
        float *u0 = RI_NEW_ARRAY(float, e->view.dim);
        if (!u0)
            return ri_error(RECINT_ENOMEM, "explorer evaluation: out of memory");
        if (e->view.user_mat)
            memcpy(u0, e->view.user_mat + (size_t)user * e->view.user_stride,
                   e->view.dim * sizeof(float));
        else
            rc = ri_model_user_vector(m, user, u0);
        if (rc == RECINT_OK)
            rc = ri_posterior_init(&tmp, e->view.dim, u0, e->view.item_mat, e->view.item_stride,
                                   seen, n_seen, e->pp.prior_precision,
                                   e->pp.history_precision);
        free(u0);
        if (rc)
            return rc;
        p = &tmp;
    }
    uint32_t got = 0;
    rc = ri_explorer_candidates(e, user, p, v->items, v->x, v->base, v->inv_norm, NULL, &got);
    if (rc == RECINT_OK && got) {
        ri_candidates c = {got, v->items, v->x, v->base, e->inv_norm ? v->inv_norm : NULL};
        ri_rng rng;
        /* A stream apart from every round's: evaluation never replays a round. */
        ri_explorer_rng(e, user, UINT64_C(1) << 48, &rng);
        const ri_explore_params pr = ri_explore_at_round(&e->pp, p->round);
        rc = ri_policy_first_slot(&pr, e->isa, p, &c, &rng, v->probs);
    }
    if (rc == RECINT_OK) {
        double dm = 0.0;
        for (uint32_t i = 0; i < got; i++)
            dm += v->probs[i] * clip01(v->base[i]);
        for (size_t t = 0; t < nr; t++) {
            double pi = 0.0;
            for (uint32_t i = 0; i < got; i++)
                if (v->items[i] == r[t].item) {
                    pi = v->probs[i];
                    break;
                }
            double wt = pi / r[t].propensity;
            w[t] = wt;
            ips[t] = wt * r[t].reward;
            dr[t] = dm + wt * (r[t].reward - reward_model(e, p, r[t].item));
        }
    }
    if (p == &tmp)
        ri_posterior_free(&tmp);
    return rc;
}

static void mean_se(const double *v, size_t n, double *mean, double *se)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    double m = s / n, ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    *se = n > 1 ? sqrt(ss / (n - 1) / n) : 0.0;
}

RECINT_API int recint_explorer_evaluate(const recint_explorer *target, const char *log_path,
                                        int estimator, double *out, size_t out_len)
{
    static const char fn[] = "recint_explorer_evaluate";
    if (!target || !log_path || !out)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn,
                        !target ? "target" : !log_path ? "log_path" : "out");
    if (out_len < 4)
        return ri_error(RECINT_EINVAL, "%s: out holds %zu values, 4 are written", fn, out_len);
    if (estimator < RECINT_OPE_IPS || estimator > RECINT_OPE_DR)
        return ri_error(RECINT_EINVAL, "%s: unknown estimator %d (RECINT_OPE_IPS, _SNIPS, _DR)",
                        fn, estimator);
    ri_log_record *all;
    uint64_t n_all;
    int rc = ri_explore_log_read(log_path, target->n_users, target->n_items, &all, &n_all);
    if (rc)
        return ri_error_prefix(rc, "%s: ", fn);
    rc = ri_explore_estimate(target, all, n_all, log_path, estimator, out);
    return rc ? ri_error_prefix(rc, "%s: ", fn) : RECINT_OK;
}

int ri_explore_estimate(const recint_explorer *target, ri_log_record *all, uint64_t n_all,
                        const char *name, int estimator, double *out)
{
    recint_explorer *e = (recint_explorer *)target; /* for its locks only */
    int rc = RECINT_OK;
    size_t n = 0;
    for (uint64_t t = 0; t < n_all; t++)
        if (all[t].slot == 0 && !isnan(all[t].reward))
            all[n++] = all[t];
    if (n == 0) {
        free(all);
        return ri_error(RECINT_ESTATE, "%s holds no first-slot record with a reward", name);
    }
    qsort(all, n, sizeof *all, cmp_user);
    const uint32_t N = e->pp.candidates;
    double *w = RI_NEW_ARRAY(double, n), *ips = RI_NEW_ARRAY(double, n), *dr = RI_NEW_ARRAY(double, n);
    user_view v = {RI_NEW_ARRAY(uint32_t, N), RI_NEW_ARRAY(const float *, N), RI_NEW_ARRAY(float, N),
                   RI_NEW_ARRAY(float, N), RI_NEW_ARRAY(double, N)};
    if (!w || !ips || !dr || !v.items || !v.x || !v.base || !v.inv_norm || !v.probs)
        rc = ri_error(RECINT_ENOMEM, "out of memory for %zu records", n);
    for (size_t t = 0; rc == RECINT_OK && t < n;) {
        size_t end = t + 1;
        while (end < n && all[end].user == all[t].user)
            end++;
        pthread_mutex_t *lk = &e->stripe[all[t].user % RI_EXPLORE_STRIPES];
        pthread_mutex_lock(lk);
        rc = user_terms(e, all + t, end - t, &v, w + t, ips + t, dr + t);
        pthread_mutex_unlock(lk);
        t = end;
    }
    double est = 0.0, se = 0.0;
    if (rc == RECINT_OK) {
        if (estimator == RECINT_OPE_IPS) {
            mean_se(ips, n, &est, &se);
        } else if (estimator == RECINT_OPE_DR) {
            mean_se(dr, n, &est, &se);
        } else {
            double sw = 0.0, swr = 0.0;
            for (size_t t = 0; t < n; t++) {
                sw += w[t];
                swr += ips[t];
            }
            est = sw > 0.0 ? swr / sw : 0.0;
            /* Delta method: the ratio's variance from the centred terms w (r - est). */
            double wbar = sw / n, ss = 0.0;
            for (size_t t = 0; t < n; t++) {
                double d = ips[t] - w[t] * est;
                ss += d * d;
            }
            se = wbar > 0.0 && n > 1 ? sqrt(ss / (n - 1) / n) / wbar : 0.0;
        }
        /* importance weights of tiny propensities can overflow the sums */
        if (!isfinite(est) || !isfinite(se))
            rc = ri_error(RECINT_ERANGE, "%s: the estimate overflows (importance weights up to "
                          "1 / the smallest logged propensity)", name);
    }
    if (rc == RECINT_OK) {
        out[0] = est;
        out[1] = se;
        out[2] = est - Z95 * se;
        out[3] = est + Z95 * se;
    }
    free(all);
    free(w);
    free(ips);
    free(dr);
    view_free(&v);
    return rc;
}
