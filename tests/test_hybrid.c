/* The hybrid kind: loss derivatives and parameter gradients against finite
 * differences of independent double-precision formulas, quality on planted
 * clusters for every loss and optimizer, determinism, save/load, cancel,
 * sample weights, cold start from features, fold-in, early stopping, partial
 * fits and the error paths. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "io/format.h"
#include "models/hybrid/hybrid_internal.h"
#include "learn/loss.h"
#include "models/model_private.h"
#include "models/model_internal.h"
#include "testutil.h"

static recint_config *cfg_of(const char *const *pairs)
{
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    for (; pairs && *pairs; pairs++)
        RI_OK(recint_config_set_pair(cfg, *pairs));
    return cfg;
}

static recint_model *fit_hybrid(const recint_dataset *ds, const char *const *pairs,
                                const recint_features *uf, const recint_features *itf)
{
    recint_config *cfg = cfg_of(pairs);
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "hybrid", cfg));
    if (uf || itf)
        RI_OK(recint_model_set_features(m, uf, itf));
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    recint_trainer_free(t);
    recint_config_free(cfg);
    return m;
}

/* ------------------------------------------------------------------------ */
/* Losses and gradients                                                     */
/* ------------------------------------------------------------------------ */

static double ref_softplus(double z) { return log(1.0 + exp(z)); }

START_TEST(loss_derivatives)
{
    const float scores[] = {-3.0f, -0.4f, 0.0f, 0.7f, 2.5f};
    const double h = 1e-3;
    for (size_t a = 0; a < 5; a++) {
        const float s = scores[a];
        float d;
        for (int label = 0; label < 2; label++) {
            double l = ri_loss_logistic(s, label, &d);
            double ref = label ? ref_softplus(-s) : ref_softplus(s);
            ck_assert_double_eq_tol(l, ref, 1e-6);
            double fd = ((label ? ref_softplus(-(s + h)) : ref_softplus(s + h)) -
                         (label ? ref_softplus(-(s - h)) : ref_softplus(s - h))) / (2 * h);
            ck_assert_double_eq_tol(d, fd, 1e-5);
        }
        for (size_t b = 0; b < 5; b++) {
            const float t = scores[b];
            float dp, dn;
            double l = ri_loss_bpr(s, t, &dp, &dn);
            ck_assert_double_eq_tol(l, ref_softplus(-(double)(s - t)), 1e-6);
            ck_assert_double_eq_tol(dp, (ref_softplus(-(s + h - t)) - ref_softplus(-(s - h - t))) / (2 * h), 1e-5);
            ck_assert_double_eq_tol(dn, (ref_softplus(-(s - t - h)) - ref_softplus(-(s - t + h))) / (2 * h), 1e-5);
            l = ri_loss_warp(s, t, 2.5f, &dp, &dn);
            const double hinge = 1.0 - s + t;
            ck_assert_double_eq_tol(l, hinge > 0 ? 2.5 * hinge : 0.0, 1e-6);
            ck_assert_double_eq_tol(dp, hinge > 0 ? -2.5 : 0.0, 1e-7);
            ck_assert_double_eq_tol(dn, hinge > 0 ? 2.5 : 0.0, 1e-7);
        }
    }
    /* rank weight: log of the estimated rank (n_items - 1) / draws, 0 at rank <= 1 */
    ck_assert_double_eq_tol(ri_loss_warp_rank_weight(101, 1), log(100.0), 1e-5);
    ck_assert_double_eq_tol(ri_loss_warp_rank_weight(101, 7), log(14.0), 1e-5);
    ck_assert_float_eq(ri_loss_warp_rank_weight(101, 100), 0.0f);
}
END_TEST

/* Features of the gradient checks: users [identity 4 | sparse 3], items
 * [dense 3 | sparse 2 | identity 5]; rows share sparse columns, so a step
 * touches some columns twice. */
static void make_features(recint_features **uf, recint_features **itf)
{
    recint_features *id_u, *sp_u, *dn_i, *sp_i, *id_i;
    const uint64_t up[] = {0, 2, 3, 3, 5};
    const uint32_t ui[] = {0, 2, 1, 0, 1};
    const float uw[] = {0.5f, 1.5f, 1.0f, -0.7f, 2.0f};
    RI_OK(recint_features_identity(&id_u, 4));
    RI_OK(recint_features_new_sparse(&sp_u, 4, 3, up, ui, uw));
    const recint_features *up2[] = {id_u, sp_u};
    RI_OK(recint_features_hstack(uf, up2, 2));
    const float dense[] = {0.3f, -1.2f, 0.0f, 1.0f, 0.5f, 0.25f, -0.4f, 0.8f, 1.1f,
                           0.0f, 0.0f, 2.0f, 0.6f, 0.6f, -0.6f};
    const uint64_t ip[] = {0, 1, 2, 4, 4, 5};
    const uint32_t ii[] = {0, 1, 0, 1, 1};
    const float iw[] = {1.0f, 1.0f, 0.5f, 0.5f, 3.0f};
    RI_OK(recint_features_new_dense(&dn_i, 5, 3, dense, 3));
    RI_OK(recint_features_new_sparse(&sp_i, 5, 2, ip, ii, iw));
    RI_OK(recint_features_identity(&id_i, 5));
    const recint_features *ip3[] = {dn_i, sp_i, id_i};
    RI_OK(recint_features_hstack(itf, ip3, 3));
    recint_features_free(id_u);
    recint_features_free(sp_u);
    recint_features_free(dn_i);
    recint_features_free(sp_i);
    recint_features_free(id_i);
}

/* Reference objective of a triple in double: the loss of the scores plus the
 * L2 terms alpha/2 |E_c|^2 of every touch of a column (the library adds
 * alpha E_c to a column's gradient each time a step touches it). */
static double triple_objective(const hyb_state *s, int loss, uint32_t u, uint32_t i, uint32_t j,
                               double rank_weight, double ua, double ia)
{
    const double sp = ri_hyb_score_slow(s, u, i), sn = ri_hyb_score_slow(s, u, j);
    double l;
    if (loss == HYB_LOSS_LOGISTIC)
        l = ref_softplus(-sp) + ref_softplus(sn);
    else if (loss == HYB_LOSS_BPR)
        l = ref_softplus(-(sp - sn));
    else
        l = rank_weight * fmax(0.0, 1.0 - sp + sn);
    const hyb_side *sides[3] = {&s->user, &s->item, &s->item};
    const uint32_t rows[3] = {u, i, j};
    const double alphas[3] = {ua, ia, ia};
    for (int k = 0; k < 3; k++) {
        const hyb_side *h = sides[k];
        for (uint64_t e = h->indptr[rows[k]]; e < h->indptr[rows[k] + 1]; e++) {
            const float *w = h->emb + (size_t)h->idx[e] * s->dim;
            for (uint32_t t = 0; t < s->dim; t++)
                l += 0.5 * alphas[k] * (double)w[t] * w[t];
        }
    }
    return l;
}

/* History of the gradient checks: users 0, 1, 3 have items (user 2 none),
 * item 2 is in two histories; timestamps put them out of CSR order. */
static const uint64_t hist_ptr[] = {0, 3, 4, 4, 6};
static const uint32_t hist_items[] = {1, 2, 4, 2, 0, 3};
static const int64_t hist_ts[] = {30, 10, 20, 5, 7, 6};

static void check_gradient(int loss, int with_history)
{
    recint_features *uf, *itf;
    make_features(&uf, &itf);
    hyb_state *s;
    const uint32_t dim = 5;
    RI_OK(ri_hyb_state_new(&s, 4, 5, dim, uf, itf));
    if (with_history) {
        RI_OK(ri_hyb_history_set(s, HYB_HIST_SQRT, 1.5f, hist_ptr, hist_items, NULL, hist_ts));
        ck_assert_uint_eq(s->hidx[0], 2); /* oldest first */
        ck_assert_uint_eq(s->hidx[2], 1);
        uint64_t x = 777;
        for (size_t e = 0; e < (size_t)5 * dim; e++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            s->hemb[e] = (float)((double)(x >> 11) / 9007199254740992.0 - 0.5) * 0.8f;
        }
    }
    RI_OK(ri_hyb_alloc_moments(s, HYB_OPT_GRADIENT));
    /* random parameters from a tiny LCG of the test's own */
    uint64_t x = 12345 + (uint64_t)loss;
    hyb_side *sides[2] = {&s->user, &s->item};
    for (int k = 0; k < 2; k++) {
        for (size_t e = 0; e < (size_t)sides[k]->cols * dim; e++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            sides[k]->emb[e] = (float)((double)(x >> 11) / 9007199254740992.0 - 0.5) * 0.8f;
        }
        for (size_t c = 0; c < sides[k]->cols; c++)
            sides[k]->bias[c] = 0.1f * (float)c - 0.2f;
    }
    hyb_params p;
    memset(&p, 0, sizeof p);
    p.dim = dim;
    p.optimizer = HYB_OPT_GRADIENT;
    p.user_alpha = 0.03;
    p.item_alpha = 0.05;
    const double rank_weight = 1.7;
    const uint32_t triples[][3] = {{0, 1, 2}, {3, 2, 4}, {1, 0, 3}};
    for (size_t t = 0; t < 3; t++) {
        const uint32_t u = triples[t][0], i = triples[t][1], j = triples[t][2];
        for (int k = 0; k < 2; k++)
            memset(sides[k]->m1, 0, ((size_t)sides[k]->cols * dim + sides[k]->cols) * sizeof(float));
        if (with_history)
            memset(s->hm1, 0, (size_t)5 * dim * sizeof(float));
        const float sp = (float)ri_hyb_score_slow(s, u, i), sn = (float)ri_hyb_score_slow(s, u, j);
        float dp, dn;
        if (loss == HYB_LOSS_LOGISTIC) {
            ri_loss_logistic(sp, 1, &dp);
            ri_loss_logistic(sn, 0, &dn);
        } else if (loss == HYB_LOSS_BPR) {
            ri_loss_bpr(sp, sn, &dp, &dn);
        } else {
            ck_assert_msg(1 - sp + sn > 0.05, "warp triple %zu must violate the margin", t);
            ri_loss_warp(sp, sn, (float)rank_weight, &dp, &dn);
        }
        ri_hyb_apply_triple(s, &p, u, i, j, dp, dn);
        /* every parameter of both sides, touched or not */
        const double h = 1e-3;
        int checked = 0;
        for (int k = 0; k < 2; k++) {
            hyb_side *sd = sides[k];
            const size_t n_emb = (size_t)sd->cols * dim;
            for (size_t e = 0; e < n_emb + sd->cols; e++) {
                float *param = e < n_emb ? &sd->emb[e] : &sd->bias[e - n_emb];
                const float keep = *param;
                *param = keep + (float)h;
                double up = triple_objective(s, loss, u, i, j, rank_weight, p.user_alpha, p.item_alpha);
                *param = keep - (float)h;
                double down = triple_objective(s, loss, u, i, j, rank_weight, p.user_alpha, p.item_alpha);
                *param = keep;
                double fd = (up - down) / (2 * h);
                double got = sd->m1[e];
                ck_assert_msg(fabs(got - fd) <= 2e-3 + 2e-3 * fabs(fd),
                              "loss %d triple %zu side %d param %zu: gradient %.6f, finite "
                              "difference %.6f", loss, t, k, e, got, fd);
                checked += fd != 0.0;
            }
        }
        /* the history table: the user's history rows get the representation
         * gradient times their weight, plus their own L2 term */
        int hist_checked = 0;
        for (size_t e = 0; with_history && e < (size_t)5 * dim; e++) {
            float *param = &s->hemb[e];
            const float keep = *param;
            double l2 = 0;
            for (uint64_t q = s->hptr[u]; q < s->hptr[u + 1]; q++)
                l2 += s->hidx[q] == e / dim ? 0.5 * p.user_alpha : 0.0;
            *param = keep + (float)h;
            double up = triple_objective(s, loss, u, i, j, rank_weight, p.user_alpha, p.item_alpha) +
                        l2 * (double)*param * *param;
            *param = keep - (float)h;
            double down = triple_objective(s, loss, u, i, j, rank_weight, p.user_alpha, p.item_alpha) +
                          l2 * (double)*param * *param;
            *param = keep;
            double fd = (up - down) / (2 * h);
            ck_assert_msg(fabs(s->hm1[e] - fd) <= 2e-3 + 2e-3 * fabs(fd),
                          "loss %d triple %zu history param %zu: gradient %.6f, finite "
                          "difference %.6f", loss, t, e, (double)s->hm1[e], fd);
            hist_checked += fd != 0.0;
        }
        ck_assert_int_gt(checked, 20);
        if (with_history && u != 2)
            ck_assert_int_ge(hist_checked, dim);
    }
    ri_hyb_destroy(s);
    recint_features_free(uf);
    recint_features_free(itf);
}

START_TEST(gradient_logistic) { check_gradient(HYB_LOSS_LOGISTIC, 0); }
END_TEST
START_TEST(gradient_bpr) { check_gradient(HYB_LOSS_BPR, 0); }
END_TEST
START_TEST(gradient_warp) { check_gradient(HYB_LOSS_WARP, 0); }
END_TEST
START_TEST(gradient_history) {
    check_gradient(HYB_LOSS_LOGISTIC, 1);
    check_gradient(HYB_LOSS_BPR, 1);
    check_gradient(HYB_LOSS_WARP, 1);
}
END_TEST

/* Weights by position, oldest first, against the formula by hand. */
START_TEST(history_weights)
{
    float w[4];
    ri_hyb_history_weights(w, 3, HYB_HIST_MEAN, 1.0f); /* 1/4, 1/2, 1 over 7/4 */
    ck_assert_float_eq_tol(w[0], 1.0f / 7.0f, 1e-6f);
    ck_assert_float_eq_tol(w[1], 2.0f / 7.0f, 1e-6f);
    ck_assert_float_eq_tol(w[2], 4.0f / 7.0f, 1e-6f);
    ri_hyb_history_weights(w, 4, HYB_HIST_SQRT_ONLY, 0.0f);
    for (int k = 0; k < 4; k++)
        ck_assert_float_eq_tol(w[k], 0.5f, 1e-7f);
    ri_hyb_history_weights(w, 2, HYB_HIST_SQRT, 2.0f); /* 2^-1/2, 1 over sqrt(3/2) */
    ck_assert_float_eq_tol(w[0], (float)(sqrt(0.5) / sqrt(1.5)), 1e-6f);
    ck_assert_float_eq_tol(w[1], (float)(1.0 / sqrt(1.5)), 1e-6f);
    ri_hyb_history_weights(w, 4, HYB_HIST_MEAN_ONLY, 0.0f);
    ck_assert_float_eq_tol(w[3], 0.25f, 1e-7f);
}
END_TEST

/* One step of each optimizer against its formula applied to the raw gradient
 * (identity features, no L2: every row is touched once). */
static hyb_state *small_state(int opt, uint32_t dim)
{
    hyb_state *s;
    RI_OK(ri_hyb_state_new(&s, 3, 4, dim, NULL, NULL));
    RI_OK(ri_hyb_alloc_moments(s, opt));
    hyb_side *sides[2] = {&s->user, &s->item};
    for (int k = 0; k < 2; k++) {
        for (size_t e = 0; e < (size_t)sides[k]->cols * dim; e++)
            sides[k]->emb[e] = 0.05f * (float)((e * 7 + (size_t)k * 3) % 11) - 0.25f;
        for (size_t c = 0; c < sides[k]->cols; c++)
            sides[k]->bias[c] = 0.01f * (float)c;
    }
    return s;
}

START_TEST(optimizer_steps)
{
    const uint32_t dim = 6;
    const float d_pos = -0.8f, d_neg = 0.6f, lr = 0.05f;
    hyb_params p;
    memset(&p, 0, sizeof p);
    p.dim = dim;
    p.lr = lr;
    hyb_state *g = small_state(HYB_OPT_GRADIENT, dim);
    p.optimizer = HYB_OPT_GRADIENT;
    ri_hyb_apply_triple(g, &p, 1, 2, 0, d_pos, d_neg);
    const int opts[2] = {HYB_OPT_ADAGRAD, HYB_OPT_ADAM};
    for (int o = 0; o < 2; o++) {
        hyb_state *s = small_state(opts[o], dim), *before = small_state(opts[o], dim);
        p.optimizer = opts[o];
        ri_hyb_apply_triple(s, &p, 1, 2, 0, d_pos, d_neg);
        const hyb_side *sd[2] = {&s->user, &s->item}, *bd[2] = {&before->user, &before->item},
                       *gd[2] = {&g->user, &g->item};
        const uint32_t rows[2][2] = {{1, 1}, {2, 0}};
        for (int k = 0; k < 2; k++)
            for (int r = 0; r < (k ? 2 : 1); r++) {
                const uint32_t row = rows[k][r];
                const float *grad = gd[k]->m1 + (size_t)row * dim;
                const float gb = gd[k]->m1[(size_t)gd[k]->cols * dim + row];
                double ms = 0;
                for (uint32_t t = 0; t < dim; t++)
                    ms += (double)grad[t] * grad[t];
                ms /= dim;
                for (uint32_t t = 0; t < dim; t++) {
                    const double w0 = bd[k]->emb[(size_t)row * dim + t];
                    /* adagrad: accumulator 1 + mean g^2 per row; adam's first step:
                     * bias-corrected moments g and g^2, so the step is lr sign(g) */
                    const double want = opts[o] == HYB_OPT_ADAGRAD
                                            ? w0 - lr * grad[t] / sqrt(1.0 + ms)
                                            : w0 - lr * grad[t] / (fabs(grad[t]) + 1e-8);
                    ck_assert_msg(fabs(sd[k]->emb[(size_t)row * dim + t] - want) < 1e-5,
                                  "opt %d side %d row %u [%u]: %.7f, want %.7f", opts[o], k,
                                  row, t, sd[k]->emb[(size_t)row * dim + t], want);
                }
                const double b0 = bd[k]->bias[row];
                const double want_b = opts[o] == HYB_OPT_ADAGRAD
                                          ? b0 - lr * gb / sqrt(1.0 + (double)gb * gb)
                                          : b0 - lr * gb / (fabs(gb) + 1e-8);
                ck_assert_double_eq_tol(sd[k]->bias[row], want_b, 1e-5);
            }
        /* rows the step does not reach stay */
        ck_assert_int_eq(memcmp(s->item.emb + 3 * dim, before->item.emb + 3 * dim,
                                dim * sizeof(float)), 0);
        ri_hyb_destroy(s);
        ri_hyb_destroy(before);
    }
    ri_hyb_destroy(g);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Fits                                                                     */
/* ------------------------------------------------------------------------ */

static void check_beats_pop(const char *loss, const char *opt, const char *lr)
{
    recint_dataset *ds, *train, *test;
    RI_OK(recint_dataset_synthetic(&ds, NULL, NULL));
    RI_OK(recint_dataset_split(ds, "random:0.2", 7, &train, NULL, &test));
    const char *pairs[] = {"dim=32", "threads=2", loss, opt, lr, NULL};
    recint_model *h = fit_hybrid(train, pairs, NULL, NULL), *pop;
    recint_trainer *t;
    RI_OK(recint_model_new(&pop, "pop", NULL));
    RI_OK(recint_trainer_new(&t, pop, NULL));
    RI_OK(recint_trainer_fit(t, train, NULL, NULL, NULL));
    recint_trainer_free(t);
    double mh[RECINT_METRIC_COUNT], mp[RECINT_METRIC_COUNT];
    RI_OK(recint_evaluate(h, train, test, 10, NULL, mh, RECINT_METRIC_COUNT));
    RI_OK(recint_evaluate(pop, train, test, 10, NULL, mp, RECINT_METRIC_COUNT));
    fprintf(stderr, "planted clusters P@10 (%s %s %s): pop %.4f hybrid %.4f\n", loss, opt, lr,
            mp[RECINT_METRIC_PRECISION], mh[RECINT_METRIC_PRECISION]);
    ck_assert_msg(mh[RECINT_METRIC_PRECISION] > 1.3 * mp[RECINT_METRIC_PRECISION],
                  "%s: hybrid P@10 %.4f vs pop %.4f", loss, mh[RECINT_METRIC_PRECISION],
                  mp[RECINT_METRIC_PRECISION]);
    recint_model_free(h);
    recint_model_free(pop);
    recint_dataset_free(train);
    recint_dataset_free(test);
    recint_dataset_free(ds);
}

START_TEST(beats_pop_warp) { check_beats_pop("loss=warp", "optimizer=adagrad", "learning_rate=0"); }
END_TEST
START_TEST(beats_pop_bpr) { check_beats_pop("loss=bpr", "optimizer=adagrad", "learning_rate=0"); }
END_TEST
START_TEST(beats_pop_logistic) { check_beats_pop("loss=logistic", "optimizer=adagrad", "learning_rate=0"); }
END_TEST
START_TEST(beats_pop_warp_kos) { check_beats_pop("loss=warp-kos", "optimizer=adagrad", "learning_rate=0"); }
END_TEST
START_TEST(beats_pop_adam) { check_beats_pop("loss=warp", "optimizer=adam", "learning_rate=0.005"); }
END_TEST

static recint_dataset *random_dataset(uint32_t n_users, uint32_t n_items, unsigned pct, unsigned seed)
{
    return ri_test_random_dataset(n_users, n_items, pct, 3, seed);
}

static float *all_scores(const recint_model *m)
{
    uint32_t nu = recint_model_n_users(m), ni = recint_model_n_items(m);
    uint32_t *users = malloc(nu * sizeof *users);
    float *out = malloc((size_t)nu * ni * sizeof *out);
    ck_assert(users && out);
    for (uint32_t u = 0; u < nu; u++)
        users[u] = u;
    RI_OK(recint_model_score(m, users, nu, NULL, 0, out));
    free(users);
    return out;
}

START_TEST(deterministic_one_thread)
{
    recint_dataset *ds = random_dataset(60, 40, 15, 3);
    const size_t n = (size_t)recint_dataset_n_users(ds) * recint_dataset_n_items(ds);
    const char *p1[] = {"dim=8", "epochs=3", "threads=1", "seed=5", "loss=warp", NULL};
    const char *p2[] = {"dim=8", "epochs=3", "threads=1", "seed=6", "loss=warp", NULL};
    const char *p3[] = {"dim=8", "epochs=3", "threads=2", "seed=5", "loss=bpr", NULL};
    recint_model *a = fit_hybrid(ds, p1, NULL, NULL), *b = fit_hybrid(ds, p1, NULL, NULL),
                 *c = fit_hybrid(ds, p2, NULL, NULL), *d = fit_hybrid(ds, p3, NULL, NULL);
    float *sa = all_scores(a), *sb = all_scores(b), *sc = all_scores(c), *sd = all_scores(d);
    ck_assert_int_eq(memcmp(sa, sb, n * sizeof(float)), 0);
    ck_assert_int_ne(memcmp(sa, sc, n * sizeof(float)), 0);
    for (size_t k = 0; k < n; k++)
        ck_assert(isfinite(sd[k]));
    free(sa);
    free(sb);
    free(sc);
    free(sd);
    recint_model_free(a);
    recint_model_free(b);
    recint_model_free(c);
    recint_model_free(d);
    recint_dataset_free(ds);
}
END_TEST

/* Scores served are rep_u . rep_i + item bias (the user bias does not rank). */
START_TEST(serves_feature_sums)
{
    recint_features *uf, *itf;
    make_features(&uf, &itf);
    recint_dataset *ds = random_dataset(4, 5, 60, 11);
    ck_assert_uint_eq(recint_dataset_n_users(ds), 4);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 5);
    const char *pairs[] = {"dim=6", "epochs=4", "threads=1", NULL};
    recint_model *m = fit_hybrid(ds, pairs, uf, itf);
    const hyb_state *s = m->state;
    float *sc = all_scores(m);
    for (uint32_t u = 0; u < 4; u++) {
        double bu = ri_hyb_score_slow(s, u, 0) - 0; /* recover the user bias below */
        (void)bu;
        for (uint32_t i = 0; i < 5; i++) {
            /* score_slow includes the user bias; the served score does not, so the
             * difference is the same for every item of a user */
            double diff0 = ri_hyb_score_slow(s, u, 0) - sc[u * 5 + 0];
            double diff = ri_hyb_score_slow(s, u, i) - sc[u * 5 + i];
            ck_assert_double_eq_tol(diff, diff0, 1e-4);
        }
    }
    free(sc);
    recint_model_free(m);
    recint_dataset_free(ds);
    recint_features_free(uf);
    recint_features_free(itf);
}
END_TEST

static void check_round_trip(int with_features)
{
    recint_features *uf = NULL, *itf = NULL;
    if (with_features)
        make_features(&uf, &itf);
    recint_dataset *ds = with_features ? random_dataset(4, 5, 60, 12) : random_dataset(30, 25, 20, 13);
    const char *pairs[] = {"dim=7", "epochs=3", "threads=1", NULL};
    recint_model *m = fit_hybrid(ds, pairs, uf, itf), *back;
    char path[256];
    ri_test_tmp("hybrid.bin", path, sizeof path);
    RI_OK(recint_model_save(m, path));
    RI_OK(recint_model_load(&back, path));
    remove(path);
    ck_assert_str_eq(recint_model_kind(back), "hybrid");
    const size_t n = (size_t)recint_model_n_users(m) * recint_model_n_items(m);
    float *a = all_scores(m), *b = all_scores(back);
    ck_assert_int_eq(memcmp(a, b, n * sizeof(float)), 0);
    float v1[7], v2[7];
    const uint32_t items[] = {0, 2};
    RI_OK(recint_model_fold_in(m, items, NULL, 2, v1));
    RI_OK(recint_model_fold_in(back, items, NULL, 2, v2));
    ck_assert_int_eq(memcmp(v1, v2, sizeof v1), 0);
    free(a);
    free(b);
    recint_model_free(m);
    recint_model_free(back);
    recint_dataset_free(ds);
    recint_features_free(uf);
    recint_features_free(itf);
}

START_TEST(save_load_identity) { check_round_trip(0); }
END_TEST
START_TEST(save_load_features) { check_round_trip(1); }
END_TEST

static int cancel_at_2(void *ctx, uint32_t step, uint32_t steps, double loss)
{
    int *calls = ctx;
    (*calls)++;
    ck_assert_uint_eq(steps, 6);
    ck_assert(isfinite(loss) && loss >= 0);
    return step == 2;
}

/* A canceled fit keeps its last finished epoch: the same bits as a 2-epoch fit. */
START_TEST(cancel_keeps_last_epoch)
{
    recint_dataset *ds = random_dataset(30, 20, 20, 14);
    const char *p6[] = {"dim=4", "epochs=6", "threads=1", NULL};
    const char *p2[] = {"dim=4", "epochs=2", "threads=1", NULL};
    recint_config *cfg = cfg_of(p6);
    recint_model *m, *ref = fit_hybrid(ds, p2, NULL, NULL);
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "hybrid", cfg));
    RI_OK(recint_trainer_new(&t, m, NULL));
    int calls = 0;
    RI_FAILS(RECINT_ECANCELED, recint_trainer_fit(t, ds, NULL, cancel_at_2, &calls));
    ck_assert_int_eq(calls, 2);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "canceled"));
    const size_t n = (size_t)recint_dataset_n_users(ds) * recint_dataset_n_items(ds);
    float *a = all_scores(m), *b = all_scores(ref);
    ck_assert_int_eq(memcmp(a, b, n * sizeof(float)), 0);
    free(a);
    free(b);
    recint_trainer_free(t);
    recint_config_free(cfg);
    recint_model_free(m);
    recint_model_free(ref);
    recint_dataset_free(ds);
}
END_TEST

/* A user whose rows all weigh 0 never moves: after 1 or 4 epochs its vector is
 * its start value, while users with weight move. */
START_TEST(sample_weights)
{
    const int64_t u[] = {0, 0, 0, 1, 1, 1, 2, 2};
    const int64_t it[] = {0, 1, 2, 1, 2, 3, 0, 3};
    const float w[] = {0, 0, 0, 1, 2, 1, 1, 1};
    recint_dataset *ds;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add(ds, 8, u, it, w, NULL));
    const char *p1[] = {"dim=4", "epochs=1", "threads=1", "loss=bpr", NULL};
    const char *p4[] = {"dim=4", "epochs=4", "threads=1", "loss=bpr", NULL};
    recint_model *a = fit_hybrid(ds, p1, NULL, NULL), *b = fit_hybrid(ds, p4, NULL, NULL);
    const hyb_state *sa = a->state, *sb = b->state;
    ck_assert_int_eq(memcmp(sa->user.emb, sb->user.emb, 4 * sizeof(float)), 0);
    ck_assert_int_ne(memcmp(sa->user.emb + 4, sb->user.emb + 4, 4 * sizeof(float)), 0);
    /* negative weights are refused */
    const float bad[] = {-1};
    const int64_t one[] = {5};
    recint_dataset *neg;
    RI_OK(recint_dataset_new(&neg, NULL));
    RI_OK(recint_dataset_add(neg, 1, one, one, bad, NULL));
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "hybrid", NULL));
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_FAILS(RECINT_EINVAL, recint_trainer_fit(t, neg, NULL, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "weight"));
    recint_trainer_free(t);
    recint_model_free(m);
    recint_dataset_free(neg);
    recint_model_free(a);
    recint_model_free(b);
    recint_dataset_free(ds);
}
END_TEST

/* Item features of the cluster tests: identity | cluster one-hot (items
 * 10c..10c+9 in cluster c, n_items <= 40). */
static recint_features *cluster_item_features(uint32_t n_items)
{
    recint_features *id, *cl, *itf;
    uint64_t ptr[41];
    uint32_t idx[40];
    ck_assert_uint_le(n_items, 40);
    for (uint32_t i = 0; i <= n_items; i++)
        ptr[i] = i;
    for (uint32_t i = 0; i < n_items; i++)
        idx[i] = i / 10;
    RI_OK(recint_features_identity(&id, n_items));
    RI_OK(recint_features_new_sparse(&cl, n_items, 4, ptr, idx, NULL));
    const recint_features *parts[] = {id, cl};
    RI_OK(recint_features_hstack(&itf, parts, 2));
    recint_features_free(id);
    recint_features_free(cl);
    return itf;
}

/* 40 items in 4 clusters (item features: identity | cluster one-hot); each
 * user likes one cluster. Item 9 (cluster 0) has no training row: its
 * identity column stays 0 and its score comes from the cluster feature. */
START_TEST(cold_item_scored_by_features)
{
    const uint32_t n_items = 40, n_users = 40;
    int64_t *u = malloc(400 * sizeof *u), *it = malloc(400 * sizeof *it);
    size_t n = 0;
    for (uint32_t a = 0; a < n_users; a++)
        for (uint32_t k = 0; k < 10; k++) {
            uint32_t item = (a % 4) * 10 + (k + a) % 10;
            if (item == 9)
                continue;
            u[n] = a;
            it[n++] = item;
        }
    recint_dataset *ds;
    int64_t all_items[40];
    for (uint32_t i = 0; i < n_items; i++)
        all_items[i] = i;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_reserve_ids(ds, 0, NULL, n_items, all_items));
    RI_OK(recint_dataset_add(ds, n, u, it, NULL, NULL));
    ck_assert_uint_eq(recint_dataset_n_items(ds), n_items);
    recint_features *itf = cluster_item_features(n_items);
    const char *pairs[] = {"dim=8", "epochs=30", "threads=1", "loss=warp", NULL};
    recint_model *m = fit_hybrid(ds, pairs, NULL, itf);
    const hyb_state *s = m->state;
    for (uint32_t k = 0; k < 8; k++)
        ck_assert_float_eq(s->item.emb[9 * 8 + k], 0.0f);
    /* cluster-0 users rank item 9 above every item of other clusters */
    float sc[40];
    for (uint32_t a = 0; a < n_users; a += 4) {
        RI_OK(recint_model_score(m, &a, 1, NULL, 0, sc));
        for (uint32_t i = 10; i < n_items; i++)
            ck_assert_msg(sc[9] > sc[i], "user %u: cold item 9 %.4f <= item %u %.4f", a, sc[9],
                          i, sc[i]);
    }
    free(u);
    free(it);
    recint_features_free(itf);
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST

/* recint_model_feature_vector: a training row's own feature row gives back its
 * served representation (scores equal v_u . v_i + b_i), and a brand-new item
 * made of a cluster feature alone is preferred by that cluster's users. */
START_TEST(feature_vector_cold_start)
{
    const uint32_t n_items = 40, n_users = 40;
    int64_t *u = malloc(400 * sizeof *u), *it = malloc(400 * sizeof *it);
    size_t n = 0;
    for (uint32_t a = 0; a < n_users; a++)
        for (uint32_t k = 0; k < 10; k++) {
            u[n] = a;
            it[n++] = (a % 4) * 10 + (k + a) % 10;
        }
    recint_dataset *ds;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add(ds, n, u, it, NULL, NULL));
    recint_features *itf = cluster_item_features(n_items);
    const char *pairs[] = {"dim=8", "epochs=30", "threads=1", "loss=warp", "user_history=none",
                           NULL};
    recint_model *m = fit_hybrid(ds, pairs, NULL, itf);
    uint32_t dim = recint_model_dim(m);
    ck_assert_uint_eq(dim, 8);
    float uv[8], iv[8], c0[8], c3[8], b, b0, b3, sc[40];
    for (uint32_t a = 0; a < n_users; a += 5) {
        RI_OK(recint_model_feature_vector(m, RECINT_SIDE_USER, &a, NULL, 1, uv, NULL));
        RI_OK(recint_model_score(m, &a, 1, NULL, 0, sc));
        for (uint32_t i = 0; i < n_items; i += 3) {
            const uint32_t cols[2] = {i, n_items + i / 10};
            RI_OK(recint_model_feature_vector(m, RECINT_SIDE_ITEM, cols, NULL, 2, iv, &b));
            double dot = b;
            for (uint32_t d = 0; d < dim; d++)
                dot += (double)uv[d] * iv[d];
            ck_assert_msg(fabs(dot - sc[i]) <= 1e-4 * (1.0 + fabs(sc[i])),
                          "user %u item %u: %.6f vs served %.6f", a, i, dot, (double)sc[i]);
        }
    }
    const uint32_t f0 = n_items + 0, f3 = n_items + 3;
    const float two = 2.0f;
    RI_OK(recint_model_feature_vector(m, RECINT_SIDE_ITEM, &f0, NULL, 1, c0, &b0));
    RI_OK(recint_model_feature_vector(m, RECINT_SIDE_ITEM, &f3, &two, 1, c3, &b3));
    for (uint32_t a = 0; a < n_users; a += 4) {
        RI_OK(recint_model_feature_vector(m, RECINT_SIDE_USER, &a, NULL, 1, uv, NULL));
        double s0 = b0, s3 = b3 / 2.0;
        for (uint32_t d = 0; d < dim; d++) {
            s0 += (double)uv[d] * c0[d];
            s3 += (double)uv[d] * c3[d] / 2.0;
        }
        ck_assert_msg(s0 > s3, "cluster-0 user %u: new cluster-0 item %.4f <= cluster-3 %.4f", a,
                      s0, s3);
    }
    const uint32_t bad[2] = {1, 1}, far = n_items + 4;
    const float nan_w = NAN;
    RI_FAILS(RECINT_EINVAL, recint_model_feature_vector(m, 2, &f0, NULL, 1, iv, NULL));
    RI_FAILS(RECINT_EINVAL, recint_model_feature_vector(m, RECINT_SIDE_ITEM, bad, NULL, 2, iv, NULL));
    RI_FAILS(RECINT_EINVAL, recint_model_feature_vector(m, RECINT_SIDE_ITEM, &f0, &nan_w, 1, iv, NULL));
    RI_FAILS(RECINT_EINVAL, recint_model_feature_vector(m, RECINT_SIDE_ITEM, &f0, NULL, 1, NULL, NULL));
    RI_FAILS(RECINT_ERANGE, recint_model_feature_vector(m, RECINT_SIDE_ITEM, &far, NULL, 1, iv, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "44"));
    RI_FAILS(RECINT_ERANGE, recint_model_feature_vector(m, RECINT_SIDE_USER, &n_users, NULL, 1, iv, NULL));
    recint_model *fresh, *pop;
    RI_OK(recint_model_new(&fresh, "hybrid", NULL));
    RI_FAILS(RECINT_ESTATE, recint_model_feature_vector(fresh, RECINT_SIDE_ITEM, &f0, NULL, 1, iv, NULL));
    RI_OK(recint_model_new(&pop, "pop", NULL));
    RI_FAILS(RECINT_EUNSUPPORTED, recint_model_feature_vector(pop, RECINT_SIDE_ITEM, &f0, NULL, 1, iv, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "hybrid"));
    recint_model_free(fresh);
    recint_model_free(pop);
    free(u);
    free(it);
    recint_features_free(itf);
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST

/* Fold-in of a user who likes cluster c recommends cluster c, deterministically,
 * without changing the model. */
START_TEST(fold_in_follows_interests)
{
    recint_dataset *ds;
    int64_t u[400], it[400];
    size_t n = 0;
    for (uint32_t a = 0; a < 40; a++)
        for (uint32_t k = 0; k < 8; k++) {
            u[n] = a;
            it[n++] = (a % 4) * 10 + (k + a) % 10;
        }
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add(ds, n, u, it, NULL, NULL));
    const char *pairs[] = {"dim=8", "epochs=30", "threads=1", NULL};
    recint_model *m = fit_hybrid(ds, pairs, NULL, NULL);
    float *before = all_scores(m);
    const uint32_t mine[] = {20, 21, 23, 25};
    float v1[8], v2[8];
    RI_OK(recint_model_fold_in(m, mine, NULL, 4, v1));
    RI_OK(recint_model_fold_in(m, mine, NULL, 4, v2));
    ck_assert_int_eq(memcmp(v1, v2, sizeof v1), 0);
    uint32_t items[5], got;
    RI_OK(recint_model_recommend_vector(m, v1, 5, NULL, mine, 4, items, NULL, &got));
    ck_assert_uint_eq(got, 5);
    for (uint32_t r = 0; r < got; r++)
        ck_assert_msg(items[r] >= 20 && items[r] < 30, "rank %u: item %u not in cluster 2", r,
                      items[r]);
    float *after = all_scores(m);
    ck_assert_int_eq(memcmp(before, after, 40 * 40 * sizeof(float)), 0);
    free(before);
    free(after);
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST

static int count_calls(void *ctx, uint32_t step, uint32_t steps, double loss)
{
    (void)step;
    (void)steps;
    (void)loss;
    (*(int *)ctx)++;
    return 0;
}

/* The validation metric is constantly 0 (the validation row is a training row,
 * which ranking excludes), so the first validation is the best: the fit stops
 * after 1 + patience epochs and keeps epoch 1, bit for bit a 1-epoch fit. */
START_TEST(early_stopping_keeps_best)
{
    recint_dataset *ds = random_dataset(20, 15, 30, 15), *valid;
    const uint64_t *ptr;
    const uint32_t *idx;
    RI_OK(recint_dataset_csr(ds, &ptr, &idx, NULL, NULL));
    ck_assert(ptr[1] > 0);
    int64_t uid, iid;
    RI_OK(recint_idmap_id(recint_dataset_users(ds), 0, &uid));
    RI_OK(recint_idmap_id(recint_dataset_items(ds), idx[0], &iid));
    RI_OK(recint_dataset_new_with_catalogue(&valid, recint_dataset_users(ds),
                                            recint_dataset_items(ds), NULL));
    RI_OK(recint_dataset_add(valid, 1, &uid, &iid, NULL, NULL));
    const char *p[] = {"dim=4", "epochs=20", "threads=1", "patience=3", NULL};
    const char *p1[] = {"dim=4", "epochs=1", "threads=1", NULL};
    recint_config *cfg = cfg_of(p);
    recint_model *m, *ref = fit_hybrid(ds, p1, NULL, NULL);
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "hybrid", cfg));
    RI_OK(recint_trainer_new(&t, m, NULL));
    int calls = 0;
    RI_OK(recint_trainer_fit(t, ds, valid, count_calls, &calls));
    ck_assert_int_eq(calls, 4);
    const size_t n = (size_t)recint_dataset_n_users(ds) * recint_dataset_n_items(ds);
    float *a = all_scores(m), *b = all_scores(ref);
    ck_assert_int_eq(memcmp(a, b, n * sizeof(float)), 0);
    /* without patience every epoch runs */
    recint_config *c0 = cfg_of((const char *const[]){"patience=0", NULL});
    recint_trainer *t0;
    RI_OK(recint_trainer_new(&t0, m, c0));
    calls = 0;
    RI_OK(recint_trainer_fit(t0, ds, valid, count_calls, &calls));
    ck_assert_int_eq(calls, 20);
    recint_trainer_free(t0);
    recint_config_free(c0);
    free(a);
    free(b);
    recint_trainer_free(t);
    recint_config_free(cfg);
    recint_model_free(m);
    recint_model_free(ref);
    recint_dataset_free(valid);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(partial_fit_continues)
{
    recint_dataset *ds = random_dataset(30, 20, 20, 16);
    const char *p[] = {"dim=4", "epochs=2", "threads=1", NULL};
    recint_config *cfg = cfg_of(p);
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "hybrid", cfg));
    RI_OK(recint_trainer_new(&t, m, NULL));
    /* unfitted: a partial fit is a fit */
    RI_OK(recint_trainer_partial_fit(t, ds, NULL, NULL));
    recint_model *ref = fit_hybrid(ds, p, NULL, NULL);
    const size_t n = (size_t)recint_dataset_n_users(ds) * recint_dataset_n_items(ds);
    float *a = all_scores(m), *b = all_scores(ref);
    ck_assert_int_eq(memcmp(a, b, n * sizeof(float)), 0);
    /* new rows for user 0 on the same catalogue: the state moves on, and the
     * new items join those recommend excludes */
    recint_dataset *more;
    RI_OK(recint_dataset_new_with_catalogue(&more, recint_model_users(m), recint_model_items(m), NULL));
    const uint64_t *ptr;
    const uint32_t *idx;
    RI_OK(recint_dataset_csr(ds, &ptr, &idx, NULL, NULL));
    uint32_t fresh = 0;
    for (uint64_t e = ptr[0]; e < ptr[1] && idx[e] == fresh; e++)
        fresh++;
    int64_t uid, iid;
    RI_OK(recint_idmap_id(recint_model_users(m), 0, &uid));
    RI_OK(recint_idmap_id(recint_model_items(m), fresh, &iid));
    RI_OK(recint_dataset_add(more, 1, &uid, &iid, NULL, NULL));
    int calls = 0;
    RI_OK(recint_trainer_partial_fit(t, more, count_calls, &calls));
    ck_assert_int_eq(calls, 2);
    float *c = all_scores(m);
    ck_assert_int_ne(memcmp(a, c, n * sizeof(float)), 0);
    uint32_t items[20], got;
    RI_OK(recint_model_recommend(m, 0, 20, items, NULL, &got));
    ck_assert_uint_eq(got, 20 - (ptr[1] - ptr[0]) - 1);
    for (uint32_t r = 0; r < got; r++)
        ck_assert_uint_ne(items[r], fresh);
    /* after a load the optimizer starts afresh, and it still works */
    char path[256];
    ri_test_tmp("hybrid_partial.bin", path, sizeof path);
    RI_OK(recint_model_save(m, path));
    recint_model *back;
    RI_OK(recint_model_load(&back, path));
    remove(path);
    recint_trainer *tb;
    RI_OK(recint_trainer_new(&tb, back, NULL));
    RI_OK(recint_trainer_partial_fit(tb, more, NULL, NULL));
    /* another catalogue is refused */
    recint_dataset *other = random_dataset(31, 20, 20, 17);
    RI_FAILS(RECINT_EINVAL, recint_trainer_partial_fit(t, other, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "catalogue"));
    /* kinds that cannot continue */
    recint_model *als;
    recint_trainer *ta;
    RI_OK(recint_model_new(&als, "als", NULL));
    RI_OK(recint_trainer_new(&ta, als, NULL));
    RI_FAILS(RECINT_EUNSUPPORTED, recint_trainer_partial_fit(ta, ds, NULL, NULL));
    RI_FAILS(RECINT_EINVAL, recint_trainer_partial_fit(NULL, ds, NULL, NULL));
    RI_FAILS(RECINT_EINVAL, recint_trainer_partial_fit(ta, NULL, NULL, NULL));
    recint_trainer_free(ta);
    recint_model_free(als);
    recint_trainer_free(tb);
    recint_model_free(back);
    recint_dataset_free(other);
    free(a);
    free(b);
    free(c);
    recint_dataset_free(more);
    recint_trainer_free(t);
    recint_config_free(cfg);
    recint_model_free(m);
    recint_model_free(ref);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(errors)
{
    recint_config *cfg;
    recint_model *m;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "loss", "softmax"));
    RI_FAILS(RECINT_EINVAL, recint_model_new(&m, "hybrid", cfg));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "softmax"));
    RI_OK(recint_config_set(cfg, "loss", "warp-kos"));
    RI_OK(recint_config_set(cfg, "kos_k", "8"));
    RI_OK(recint_config_set(cfg, "kos_n", "4"));
    RI_FAILS(RECINT_EINVAL, recint_model_new(&m, "hybrid", cfg));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "kos_k"));
    recint_config_free(cfg);
    /* features whose rows do not match the catalogue */
    recint_dataset *ds = random_dataset(10, 8, 30, 18);
    recint_features *f;
    RI_OK(recint_features_identity(&f, 7));
    RI_OK(recint_model_new(&m, "hybrid", NULL));
    RI_OK(recint_model_set_features(m, NULL, f));
    recint_trainer *t;
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_FAILS(RECINT_EINVAL, recint_trainer_fit(t, ds, NULL, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "item features have 7 rows"));
    ck_assert_uint_eq(recint_model_n_items(m), 0);
    recint_trainer_free(t);
    recint_model_free(m);
    recint_features_free(f);
    /* a trainer naming another kind's loss */
    recint_config *tc = cfg_of((const char *const[]){"loss=bce", NULL});
    RI_OK(recint_model_new(&m, "hybrid", NULL));
    RI_OK(recint_trainer_new(&t, m, tc));
    RI_FAILS(RECINT_EINVAL, recint_trainer_fit(t, ds, NULL, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "'bce'"));
    recint_trainer_free(t);
    recint_model_free(m);
    recint_config_free(tc);
    recint_dataset_free(ds);
}
END_TEST

/* User u's training items of ds, oldest first. */
static uint32_t items_by_time(const recint_dataset *ds, uint32_t u, uint32_t *out)
{
    const uint64_t *ptr;
    const uint32_t *idx;
    const int64_t *ts;
    RI_OK(recint_dataset_csr(ds, &ptr, &idx, NULL, &ts));
    uint32_t n = 0;
    for (uint64_t e = ptr[u]; e < ptr[u + 1]; e++)
        out[n++] = (uint32_t)e;
    /* insertion sort of the row numbers by timestamp */
    for (uint32_t a = 1; a < n; a++)
        for (uint32_t b = a; b > 0 && ts[out[b - 1]] > ts[out[b]]; b--) {
            uint32_t t = out[b];
            out[b] = out[b - 1];
            out[b - 1] = t;
        }
    for (uint32_t a = 0; a < n; a++)
        out[a] = idx[out[a]];
    return n;
}

static void expect_vec_eq(const float *a, const float *b, uint32_t d, const char *what)
{
    for (uint32_t k = 0; k < d; k++)
        ck_assert_msg(fabsf(a[k] - b[k]) <= 1e-5f + 1e-5f * fabsf(b[k]), "%s: [%u] %.7f vs %.7f",
                      what, k, (double)a[k], (double)b[k]);
}

/* A history-only model's user vector is a function of the user's items: fold-in
 * of a training user's items (in time order) gives their served vector, and
 * a partial fit appends the new rows as the newest history. */
START_TEST(history_fold_in_and_partial_fit)
{
    recint_dataset *ds = ri_test_timed_dataset(20, 15, 30, 21);
    const char *p[] = {"dim=6", "epochs=3", "threads=1", "loss=warp", "user_history=mean-only",
                       "user_history_halflife=2", NULL};
    recint_config *cfg = cfg_of(p);
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "hybrid", cfg));
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    const hyb_state *s = m->state;
    ck_assert_ptr_nonnull(s->hemb);
    ck_assert_uint_eq(s->hist, HYB_HIST_MEAN_ONLY);
    uint32_t items[16], n_users = recint_model_n_users(m);
    float v[6];
    int nonzero = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        uint32_t n = items_by_time(ds, u, items);
        RI_OK(recint_model_fold_in(m, items, NULL, n, v));
        expect_vec_eq(v, s->umat + (size_t)u * 6, 6, "fold-in vs served vector");
        for (uint32_t k = 0; k < 6; k++)
            nonzero += v[k] != 0.0f;
    }
    ck_assert_int_gt(nonzero, 6);
    /* the order matters (recency weights): reversed items give another vector */
    uint32_t n0 = items_by_time(ds, 0, items), rev[16];
    ck_assert_uint_ge(n0, 2);
    for (uint32_t a = 0; a < n0; a++)
        rev[a] = items[n0 - 1 - a];
    RI_OK(recint_model_fold_in(m, rev, NULL, n0, v));
    int differs = 0;
    for (uint32_t k = 0; k < 6; k++)
        differs |= fabsf(v[k] - s->umat[k]) > 1e-6f;
    ck_assert(differs);
    /* partial fit: a new item of user 0 becomes its newest history item */
    uint32_t fresh = 0;
    for (int again = 1; again;) {
        again = 0;
        for (uint32_t a = 0; a < n0; a++)
            if (items[a] == fresh) {
                fresh++;
                again = 1;
            }
    }
    ck_assert_uint_lt(fresh, recint_model_n_items(m));
    recint_dataset *more;
    RI_OK(recint_dataset_new_with_catalogue(&more, recint_model_users(m), recint_model_items(m), NULL));
    int64_t uid, iid, when = 5;
    RI_OK(recint_idmap_id(recint_model_users(m), 0, &uid));
    RI_OK(recint_idmap_id(recint_model_items(m), fresh, &iid));
    RI_OK(recint_dataset_add(more, 1, &uid, &iid, NULL, &when));
    RI_OK(recint_trainer_partial_fit(t, more, NULL, NULL));
    s = m->state;
    ck_assert_uint_eq(s->hptr[1] - s->hptr[0], n0 + 1);
    ck_assert_uint_eq(s->hidx[s->hptr[1] - 1], fresh);
    items[n0] = fresh;
    RI_OK(recint_model_fold_in(m, items, NULL, n0 + 1, v));
    expect_vec_eq(v, s->umat, 6, "fold-in after partial fit");
    /* other users' histories are unchanged */
    uint32_t n1 = items_by_time(ds, 1, items);
    ck_assert_uint_eq(s->hptr[2] - s->hptr[1], n1);
    recint_dataset_free(more);
    recint_trainer_free(t);
    recint_config_free(cfg);
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST

/* Save and load keep the history (both modes): the same scores, fold-ins and
 * weights, and a damaged history section is refused. */
START_TEST(history_save_load)
{
    const char *modes[] = {"user_history=mean", "user_history=sqrt-only"};
    for (int k = 0; k < 2; k++) {
        recint_dataset *ds = ri_test_timed_dataset(25, 20, 25, 22 + (unsigned)k);
        const char *pairs[] = {"dim=5", "epochs=3", "threads=1", "loss=warp", modes[k],
                               "user_history_halflife=3", NULL};
        recint_model *m = fit_hybrid(ds, pairs, NULL, NULL), *back;
        char path[256];
        ri_test_tmp("hybrid_hist.bin", path, sizeof path);
        RI_OK(recint_model_save(m, path));
        RI_OK(recint_model_load(&back, path));
        remove(path);
        const hyb_state *a = m->state, *b = back->state;
        ck_assert_uint_eq(a->hist, b->hist);
        ck_assert_float_eq(a->hhalf, b->hhalf);
        const uint64_t nnz = a->hptr[a->user.rows];
        ck_assert_int_eq(memcmp(a->hidx, b->hidx, nnz * sizeof(uint32_t)), 0);
        ck_assert_int_eq(memcmp(a->hval, b->hval, nnz * sizeof(float)), 0);
        const size_t n = (size_t)recint_model_n_users(m) * recint_model_n_items(m);
        float *sa = all_scores(m), *sb = all_scores(back);
        ck_assert_int_eq(memcmp(sa, sb, n * sizeof(float)), 0);
        float v1[5], v2[5];
        const uint32_t items[] = {3, 1, 4};
        RI_OK(recint_model_fold_in(m, items, NULL, 3, v1));
        RI_OK(recint_model_fold_in(back, items, NULL, 3, v2));
        ck_assert_int_eq(memcmp(v1, v2, sizeof v1), 0);
        uint32_t mode = 9;
        ri_test_expect_section_error(m, "HHMODE", &mode, sizeof mode, "history mode 9");
        uint32_t *idx = malloc(nnz * sizeof *idx);
        ck_assert_ptr_nonnull(idx);
        memcpy(idx, a->hidx, nnz * sizeof *idx);
        idx[nnz - 1] = a->item.rows;
        ri_test_expect_section_error(m, "HHIDX", idx, nnz * sizeof *idx, "out of range");
        float half = -2.0f;
        ri_test_expect_section_error(m, "HHHALF", &half, sizeof half, "half-life");
        free(idx);
        free(sa);
        free(sb);
        recint_model_free(m);
        recint_model_free(back);
        recint_dataset_free(ds);
    }
}
END_TEST

START_TEST(load_validates_sections)
{
    recint_features *uf, *itf;
    make_features(&uf, &itf);
    recint_dataset *ds = random_dataset(4, 5, 60, 12);
    const char *pairs[] = {"dim=3", "epochs=1", "threads=1", NULL};
    recint_model *m = fit_hybrid(ds, pairs, uf, itf);
    const hyb_state *s = m->state;
    const size_t ne = (size_t)s->item.cols * 3;
    float *emb = malloc(ne * sizeof *emb);
    ck_assert_ptr_nonnull(emb);
    memcpy(emb, s->item.emb, ne * sizeof *emb);
    RI_OK(ri_test_load_with_section(m, "HIEMB", emb, ne * sizeof *emb));
    emb[4] = NAN;
    ri_test_expect_section_error(m, "HIEMB", emb, ne * sizeof *emb, "HIEMB: value 4 is not finite");
    ri_test_expect_section_error(m, "HIEMB", emb, (ne - 1) * sizeof *emb, "HIEMB");
    const uint64_t nnz = s->user.indptr[4];
    uint32_t *idx = malloc(nnz * sizeof *idx);
    ck_assert_ptr_nonnull(idx);
    memcpy(idx, s->user.idx, nnz * sizeof *idx);
    idx[0] = s->user.cols;
    ri_test_expect_section_error(m, "HUIDX", idx, nnz * sizeof *idx, "out of range");
    uint64_t ptr[5];
    memcpy(ptr, s->user.indptr, sizeof ptr);
    ptr[2] = ptr[1] > 0 ? ptr[1] - 1 : 0;
    ptr[1] = ptr[2] + 1;
    ri_test_expect_section_error(m, "HUPTR", ptr, sizeof ptr, "HUPTR");
    uint32_t dim = 4;
    ri_test_expect_section_error(m, "HYBDIM", &dim, sizeof dim, "dim 4 differs");
    free(emb);
    free(idx);
    recint_model_free(m);
    recint_dataset_free(ds);
    recint_features_free(uf);
    recint_features_free(itf);
}
END_TEST

/* Bytes of m's file. */
static uint8_t *file_bytes(const recint_model *m, const char *name, size_t *n)
{
    char path[256];
    ri_test_tmp(name, path, sizeof path);
    RI_OK(recint_model_save(m, path));
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    remove(path);
    return b;
}

/* Save, load, save again: the same bytes (features and history included). */
static void expect_identical_resave(const recint_model *m)
{
    size_t n1, n2;
    uint8_t *b1 = file_bytes(m, "resave1.bin", &n1);
    recint_model *back;
    RI_OK(recint_model_load_buffer(&back, b1, n1));
    uint8_t *b2 = file_bytes(back, "resave2.bin", &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(b1, b2, n1), 0);
    free(b1);
    free(b2);
    recint_model_free(back);
}

/* Finite parameters whose sums overflow float: the derived user and item
 * vectors would be infinite, so the file is refused (EFORMAT) rather than
 * served, or saved into a file load refuses (a history-only model keeps its
 * sums in the user table it saves). Valid models re-save to the same bytes. */
START_TEST(load_refuses_infinite_derived_vectors)
{
    recint_features *uf, *itf;
    make_features(&uf, &itf);
    recint_dataset *ds = random_dataset(4, 5, 60, 12);
    const char *pairs[] = {"dim=3", "epochs=1", "threads=1", NULL};
    recint_model *m = fit_hybrid(ds, pairs, uf, itf);
    expect_identical_resave(m);
    const hyb_state *s = m->state;
    /* item 0 = 0.3 E0 - 1.2 E1 + E3 + E5 ([dense 3 | sparse 2 | identity 5]) */
    float *ie = calloc((size_t)s->item.cols * 3, sizeof *ie);
    ck_assert_ptr_nonnull(ie);
    for (int k = 0; k < 3; k++)
        ie[3 * 3 + k] = ie[5 * 3 + k] = FLT_MAX;
    ri_test_expect_section_error(m, "HIEMB", ie, (size_t)s->item.cols * 3 * sizeof *ie,
                                 "item representations computed from the file are not finite");
    /* user 0 = E0 + 0.5 E4 + 1.5 E6 ([identity 4 | sparse 3]) */
    float *ue = calloc((size_t)s->user.cols * 3, sizeof *ue);
    ck_assert_ptr_nonnull(ue);
    for (int k = 0; k < 3; k++)
        ue[0 * 3 + k] = ue[6 * 3 + k] = FLT_MAX;
    ri_test_expect_section_error(m, "HUEMB", ue, (size_t)s->user.cols * 3 * sizeof *ue,
                                 "user representations computed from the file are not finite");
    free(ie);
    free(ue);
    recint_model_free(m);
    recint_dataset_free(ds);

    /* sqrt-only with identity users: the user table holds the history sums */
    recint_dataset *hs = ri_test_timed_dataset(25, 20, 25, 23);
    const char *hp[] = {"dim=5", "epochs=2", "threads=1", "loss=warp", "user_history=sqrt-only", NULL};
    m = fit_hybrid(hs, hp, NULL, NULL);
    expect_identical_resave(m);
    s = m->state;
    ck_assert_ptr_eq(s->hsum, s->user.emb);
    ck_assert_uint_gt(s->hptr[s->user.rows], 0);
    /* weights 1/sqrt(n): a user with n >= 2 items sums to sqrt(n) x FLT_MAX */
    float *he = malloc((size_t)s->item.rows * 5 * sizeof *he);
    ck_assert_ptr_nonnull(he);
    for (size_t k = 0; k < (size_t)s->item.rows * 5; k++)
        he[k] = FLT_MAX;
    ri_test_expect_section_error(m, "HHEMB", he, (size_t)s->item.rows * 5 * sizeof *he,
                                 "user history sums computed from the file are not finite");
    free(he);
    recint_model_free(m);
    recint_dataset_free(hs);
    recint_features_free(uf);
    recint_features_free(itf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hybrid");
    TCase *tc = tcase_create("hybrid");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, loss_derivatives);
    tcase_add_test(tc, gradient_logistic);
    tcase_add_test(tc, gradient_bpr);
    tcase_add_test(tc, gradient_warp);
    tcase_add_test(tc, gradient_history);
    tcase_add_test(tc, history_weights);
    tcase_add_test(tc, history_fold_in_and_partial_fit);
    tcase_add_test(tc, history_save_load);
    tcase_add_test(tc, optimizer_steps);
    tcase_add_test(tc, beats_pop_warp);
    tcase_add_test(tc, beats_pop_bpr);
    tcase_add_test(tc, beats_pop_logistic);
    tcase_add_test(tc, beats_pop_warp_kos);
    tcase_add_test(tc, beats_pop_adam);
    tcase_add_test(tc, deterministic_one_thread);
    tcase_add_test(tc, serves_feature_sums);
    tcase_add_test(tc, save_load_identity);
    tcase_add_test(tc, save_load_features);
    tcase_add_test(tc, cancel_keeps_last_epoch);
    tcase_add_test(tc, sample_weights);
    tcase_add_test(tc, cold_item_scored_by_features);
    tcase_add_test(tc, feature_vector_cold_start);
    tcase_add_test(tc, fold_in_follows_interests);
    tcase_add_test(tc, early_stopping_keeps_best);
    tcase_add_test(tc, partial_fit_continues);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, load_validates_sections);
    tcase_add_test(tc, load_refuses_infinite_derived_vectors);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
