/* The explorer: Sherman-Morrison against a direct inverse, propensities (sum to
 * one; epsilon-greedy and softmax by hand), LinUCB and MMR on hand-made
 * vectors, determinism, log -> replay bit for bit, damaged logs, estimators
 * against a hand computation, concurrent users, the simulator, error paths. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "explore/explore_internal.h"
#include "testutil.h"

static uint64_t rng_state;
static float rnd_unit(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(uint32_t)(rng_state >> 33) / 2147483648.0 * 2.0 - 1.0);
}

static recint_config *cfg_of(const char *const *settings)
{
    recint_config *c = NULL;
    RI_OK(recint_config_new(&c));
    for (size_t i = 0; settings && settings[i]; i++)
        RI_OK(recint_config_set_pair(c, settings[i]));
    return c;
}

/* A factors model of random vectors (no training items: nothing excluded). */
static recint_model *random_model(uint32_t nu, uint32_t ni, uint32_t dim, uint64_t seed)
{
    float *U = malloc(sizeof(float) * nu * dim), *V = malloc(sizeof(float) * ni * dim);
    rng_state = seed;
    for (size_t j = 0; j < (size_t)nu * dim; j++)
        U[j] = rnd_unit();
    for (size_t j = 0; j < (size_t)ni * dim; j++)
        V[j] = rnd_unit();
    recint_model *m = NULL;
    RI_OK(recint_model_new_factors(&m, nu, ni, dim, U, V, NULL, NULL));
    free(U);
    free(V);
    return m;
}

static recint_explorer *explorer_of(const recint_model *m, const char *const *settings)
{
    recint_config *c = cfg_of(settings);
    recint_explorer *e = NULL;
    RI_OK(recint_explorer_new(&e, m, c));
    recint_config_free(c);
    return e;
}

/* A user's candidate set as recommend builds it (at most CAND_MAX), with the
 * inverse norms for MMR when with_inv. */
#define CAND_MAX 64
typedef struct {
    uint32_t items[CAND_MAX], n;
    const float *x[CAND_MAX];
    float base[CAND_MAX], inv[CAND_MAX];
    ri_candidates c;
} cand_set;

static void cand_set_of(recint_explorer *e, uint32_t user, const ri_posterior *p, int with_inv,
                        cand_set *s)
{
    ck_assert_uint_le(e->pp.candidates, CAND_MAX);
    RI_OK(ri_explorer_candidates(e, user, p, s->items, s->x, s->base, s->inv, NULL, &s->n));
    ri_candidates c = {s->n, s->items, s->x, s->base, with_inv ? s->inv : NULL};
    s->c = c;
}

/* ---- posterior ------------------------------------------------------------------ */

START_TEST(sherman_morrison_matches_direct_inverse)
{
    const uint32_t d = 12, ni = 40, nh = 5, nobs = 60;
    float *V = malloc(sizeof(float) * ni * d), u0[12];
    rng_state = 7;
    for (size_t j = 0; j < (size_t)ni * d; j++)
        V[j] = rnd_unit();
    for (uint32_t j = 0; j < d; j++)
        u0[j] = rnd_unit();
    uint32_t hist[5] = {1, 4, 9, 16, 25};
    const double lam0 = 0.7, lamh = 1.5;
    ri_posterior p;
    RI_OK(ri_posterior_init(&p, d, u0, V, d, hist, nh, lam0, lamh));
    /* Prior mean is the user vector. */
    for (uint32_t j = 0; j < d; j++)
        ck_assert_double_eq_tol(p.mean[j], u0[j], 1e-6);
    double *A = calloc((size_t)d * d, sizeof(double)), *b = calloc(d, sizeof(double));
    for (uint32_t i = 0; i < d; i++)
        A[i * d + i] = lam0;
    for (uint32_t h = 0; h < nh; h++)
        for (uint32_t i = 0; i < d; i++)
            for (uint32_t j = 0; j < d; j++)
                A[i * d + j] += lamh * V[hist[h] * d + i] * V[hist[h] * d + j];
    for (uint32_t i = 0; i < d; i++)
        for (uint32_t j = 0; j < d; j++)
            b[i] += A[i * d + j] * u0[j];
    for (uint32_t t = 0; t < nobs; t++) {
        uint32_t item = (t * 7) % ni;
        double r = (t % 3 == 0) ? 1.0 : 0.0;
        ri_posterior_observe(&p, V + item * d, r, ri_core_isa_detect(), 1);
        for (uint32_t i = 0; i < d; i++) {
            b[i] += r * V[item * d + i];
            for (uint32_t j = 0; j < d; j++)
                A[i * d + j] += (double)V[item * d + i] * V[item * d + j];
        }
    }
    double *inv = malloc(sizeof(double) * d * d), *work = malloc(sizeof(double) * d * d);
    ck_assert_int_eq(ri_spd_inverse(A, d, inv, work), 0);
    /* The inverse is checked independently: A inv = I. */
    for (uint32_t i = 0; i < d; i++)
        for (uint32_t j = 0; j < d; j++) {
            double s = 0;
            for (uint32_t t = 0; t < d; t++)
                s += A[i * d + t] * inv[t * d + j];
            ck_assert_double_eq_tol(s, i == j ? 1.0 : 0.0, 1e-9);
        }
    for (uint32_t i = 0; i < d * d; i++)
        ck_assert_double_eq_tol(p.cov[i], inv[i], 1e-9);
    for (uint32_t i = 0; i < d; i++) {
        double m = 0;
        for (uint32_t j = 0; j < d; j++)
            m += inv[i * d + j] * b[j];
        ck_assert_double_eq_tol(p.mean[i], m, 1e-8);
    }
    /* Exactly symmetric (thompson's Cholesky relies on it). */
    for (uint32_t i = 0; i < d; i++)
        for (uint32_t j = 0; j < d; j++)
            ck_assert(p.cov[i * d + j] == p.cov[j * d + i]);
    ri_posterior_free(&p);
    free(V);
    free(A);
    free(b);
    free(inv);
    free(work);
}
END_TEST

/* The vectorised and the baseline update agree (to rounding: the same sums). */
START_TEST(observe_isa_variants_agree)
{
    const uint32_t d = 19, ni = 30;
    float *V = malloc(sizeof(float) * ni * d), u0[19];
    rng_state = 17;
    for (size_t j = 0; j < (size_t)ni * d; j++)
        V[j] = rnd_unit();
    for (uint32_t j = 0; j < d; j++)
        u0[j] = rnd_unit();
    uint32_t hist[2] = {3, 7};
    ri_posterior a, b;
    RI_OK(ri_posterior_init(&a, d, u0, V, d, hist, 2, 0.5, 1.0));
    RI_OK(ri_posterior_init(&b, d, u0, V, d, hist, 2, 0.5, 1.0));
    for (uint32_t t = 0; t < 40; t++) {
        ri_posterior_observe(&a, V + ((t * 11) % ni) * d, t % 2, RI_ISA_SCALAR, 1);
        ri_posterior_observe(&b, V + ((t * 11) % ni) * d, t % 2, ri_core_isa_detect(), 1);
    }
    for (uint32_t i = 0; i < d * d; i++) {
        ck_assert_double_eq_tol(a.cov[i], b.cov[i], 1e-12);
        ck_assert_double_eq_tol(a.chol[i], b.chol[i], 1e-10);
    }
    for (uint32_t i = 0; i < d; i++)
        ck_assert_double_eq_tol(a.mean[i], b.mean[i], 1e-10);
    /* R^T R is the precision: R^T R cov = I. */
    for (uint32_t i = 0; i < d; i++)
        for (uint32_t j = 0; j < d; j++) {
            double s = 0;
            for (uint32_t k = 0; k < d; k++) {
                double rtr = 0;
                for (uint32_t t = 0; t < d; t++)
                    rtr += a.chol[t * d + i] * a.chol[t * d + k];
                s += rtr * a.cov[k * d + j];
            }
            ck_assert_double_eq_tol(s, i == j ? 1.0 : 0.0, 1e-8);
        }
    ri_posterior_free(&a);
    ri_posterior_free(&b);
    free(V);
}
END_TEST

/* Policies other than Thompson skip the Cholesky update: cov and mean are the
 * same bits as with it, the factor is marked stale, and a Thompson slate from
 * such a posterior is refused instead of drawing from an outdated factor. */
START_TEST(observe_without_cholesky)
{
    enum { D = 6, NI = 20, K = 3 };
    recint_model *m = random_model(1, NI, D, 23);
    const char *set[] = {"policy=thompson", "candidates=20", NULL};
    recint_explorer *e = explorer_of(m, set);
    ri_posterior *p;
    RI_OK(ri_explorer_posterior(e, 0, &p));
    ri_posterior kept;
    const float *V = e->view.item_mat;
    RI_OK(ri_posterior_init(&kept, D, p->mean_f, V, D, NULL, 0, e->pp.prior_precision, 0.0));
    ri_posterior skip;
    RI_OK(ri_posterior_init(&skip, D, p->mean_f, V, D, NULL, 0, e->pp.prior_precision, 0.0));
    for (uint32_t t = 0; t < 9; t++) {
        ri_posterior_observe(&kept, V + ((t * 7) % NI) * D, t % 2, ri_core_isa_detect(), 1);
        ri_posterior_observe(&skip, V + ((t * 7) % NI) * D, t % 2, ri_core_isa_detect(), 0);
    }
    ck_assert_int_eq(kept.chol_stale, 0);
    ck_assert_int_eq(skip.chol_stale, 1);
    ck_assert_int_eq(memcmp(kept.cov, skip.cov, sizeof(double) * D * D), 0);
    ck_assert_int_eq(memcmp(kept.mean, skip.mean, sizeof(double) * D), 0);
    uint32_t pos[K];
    double prop[K];
    cand_set cs;
    cand_set_of(e, 0, p, 0, &cs);
    ri_rng r;
    ri_rng_seed(&r, 1, 1);
    RI_OK(ri_policy_slate(&e->pp, e->isa, &kept, &cs.c, K, &r, pos, prop));
    ck_assert_int_eq(ri_policy_slate(&e->pp, e->isa, &skip, &cs.c, K, &r, pos, prop),
                     RECINT_EINVAL);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "Cholesky"));
    ri_posterior_free(&kept);
    ri_posterior_free(&skip);
    recint_explorer_free(e);
    recint_model_free(m);
}
END_TEST

/* The float kernels: every instruction-set variant against plain loops in
 * double (random upper-triangular systems, rows x matrices, dots). */
START_TEST(kernels_match_reference)
{
    enum { D = 21 };
    static const uint32_t widths[] = {16, 32, 20, 64, 3};
    float R[D * D], Z[D * 64], Z2[D * 64], M[D * 64], y[64];
    const float *rows[5];
    float X[5 * D], q[5], dots[5];
    rng_state = 99;
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++)
            R[i * D + j] = j < i ? 0.0f : j == i ? 1.0f + fabsf(rnd_unit()) : 0.3f * rnd_unit();
    for (int i = 0; i < 5 * D; i++)
        X[i] = rnd_unit();
    for (int i = 0; i < 5; i++)
        rows[i] = X + i * D;
    const ri_isa isas[2] = {RI_ISA_SCALAR, ri_core_isa_detect()};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
        const uint32_t m = widths[w];
        for (uint32_t t = 0; t < D * m; t++)
            Z[t] = M[t] = rnd_unit();
        for (int v = 0; v < 2; v++) {
            memcpy(Z2, Z, sizeof(float) * D * m);
            ri_explore_backsolve(isas[v], R, D, m, Z2);
            /* R Z2 = Z */
            for (uint32_t i = 0; i < D; i++)
                for (uint32_t c = 0; c < m; c++) {
                    double s = 0;
                    for (uint32_t j = i; j < D; j++)
                        s += (double)R[i * D + j] * Z2[j * m + c];
                    ck_assert_double_eq_tol(s, Z[i * m + c], 1e-4);
                }
            float out[5 * 64];
            ri_explore_multidot(isas[v], M, D, m, rows, 5, out);
            for (int i = 0; i < 5; i++) {
                ri_explore_rowmat(isas[v], rows[i], M, D, m, y);
                for (uint32_t c = 0; c < m; c++) {
                    double s = 0;
                    for (int j = 0; j < D; j++)
                        s += (double)rows[i][j] * M[j * m + c];
                    ck_assert_double_eq_tol(out[i * m + c], s, 1e-4);
                    ck_assert_double_eq_tol(y[c], s, 1e-4);
                }
            }
        }
    }
    /* Quadratic forms with a symmetric S, and dots. */
    float S[D * D];
    for (int i = 0; i < D; i++)
        for (int j = 0; j <= i; j++)
            S[i * D + j] = S[j * D + i] = rnd_unit();
    for (int v = 0; v < 2; v++) {
        ri_explore_quadforms(isas[v], S, D, rows, 5, q);
        ri_explore_dots(isas[v], X, D, rows, 5, dots);
        for (int i = 0; i < 5; i++) {
            double s = 0, d2 = 0;
            for (int a = 0; a < D; a++) {
                d2 += (double)X[a] * rows[i][a];
                for (int b = 0; b < D; b++)
                    s += (double)rows[i][a] * S[a * D + b] * rows[i][b];
            }
            ck_assert_double_eq_tol(q[i], s, 1e-4);
            ck_assert_double_eq_tol(dots[i], d2, 1e-4);
        }
    }
}
END_TEST

/* Quadratic forms at every dim class of the symmetric-block kernel (1-4
 * blocks of 16, partial last block) and counts that leave a partial group of
 * candidates, against double loops over the full matrix. */
START_TEST(quadforms_every_dim)
{
    static const uint32_t dims[] = {1, 7, 16, 17, 31, 32, 40, 48, 50, 64, 65, 100};
    enum { N = 13, DMAX = 100 };
    static float S[DMAX * DMAX], X[N * DMAX];
    const float *rows[N];
    float q[N];
    rng_state = 7;
    const ri_isa isas[2] = {RI_ISA_SCALAR, ri_core_isa_detect()};
    for (size_t t = 0; t < sizeof dims / sizeof dims[0]; t++) {
        const uint32_t d = dims[t];
        for (uint32_t i = 0; i < d; i++)
            for (uint32_t j = 0; j <= i; j++)
                S[i * d + j] = S[j * d + i] = rnd_unit();
        for (uint32_t i = 0; i < N * d; i++)
            X[i] = rnd_unit();
        for (int i = 0; i < N; i++)
            rows[i] = X + i * d;
        for (int v = 0; v < 2; v++)
            for (uint32_t n = 1; n <= N; n += 4) {
                for (int i = 0; i < N; i++)
                    q[i] = -1e30f;
                ri_explore_quadforms(isas[v], S, d, rows, n, q);
                for (uint32_t i = 0; i < N; i++) {
                    double s = 0;
                    for (uint32_t a = 0; a < d; a++)
                        for (uint32_t b = 0; b < d; b++)
                            s += (double)rows[i][a] * S[a * d + b] * rows[i][b];
                    if (i < n)
                        ck_assert_double_eq_tol(q[i], s, 1e-4 * (1.0 + fabs(s)));
                    else
                        ck_assert_float_eq(q[i], -1e30f); /* untouched beyond n */
                }
            }
    }
}
END_TEST

/* Dots of many rows at once equal the one-row dots to the bit (the lazy LinUCB
 * path takes one, the batched one many, and a slate must not depend on which),
 * and are within rounding of a double reference. */
START_TEST(many_dots_equal_single)
{
    static const uint32_t dims[] = {1, 7, 16, 17, 33, 64, 100};
    enum { N = 53, DMAX = 100 };
    static float X[N * DMAX], v[DMAX], many[N], one[N];
    const float *rows[N];
    rng_state = 31;
    const ri_isa isas[2] = {RI_ISA_SCALAR, ri_core_isa_detect()};
    for (size_t t = 0; t < sizeof dims / sizeof dims[0]; t++) {
        const uint32_t d = dims[t];
        for (uint32_t j = 0; j < N * d; j++)
            X[j] = rnd_unit();
        for (uint32_t j = 0; j < d; j++)
            v[j] = rnd_unit();
        for (int i = 0; i < N; i++)
            rows[i] = X + (size_t)((i * 17) % N) * d; /* scattered, some rows twice */
        for (int s = 0; s < 2; s++)
            for (uint32_t n = 1; n <= N; n += 13) {
                ri_explore_dots(isas[s], v, d, rows, n, many);
                for (uint32_t i = 0; i < n; i++) {
                    ri_explore_dots(isas[s], v, d, &rows[i], 1, &one[i]);
                    double ref = 0;
                    for (uint32_t j = 0; j < d; j++)
                        ref += (double)v[j] * rows[i][j];
                    ck_assert_double_eq_tol(many[i], ref, 1e-5 * (1.0 + fabs(ref)));
                }
                ck_assert_int_eq(memcmp(many, one, n * sizeof(float)), 0);
            }
    }
}
END_TEST

/* Each Thompson draw's best K positions, as the slate reads them: every ISA
 * against a full sort per draw (score descending, position ascending, NaN and
 * -inf left out), with ties (scores on a coarse grid), draw counts that do not
 * fill the 16 lanes, K past the vector path's limit, and short lists. */
static int cmp_rank(const void *a, const void *b)
{
    const float *x = a, *y = b; /* {score, position} */
    if (x[0] != y[0])
        return x[0] > y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

START_TEST(draw_lists_match_sorting)
{
    enum { NMAX = 300, DPMAX = 48 };
    static float out[NMAX * DPMAX], base[NMAX], pairs[NMAX * 2];
    static uint32_t got[DPMAX * 20];
    static const uint32_t Ds[] = {1, 5, 16, 17, 33};
    static const uint32_t Ks[] = {1, 2, 10, 12, 13, 20};
    rng_state = 99;
    const ri_isa isas[2] = {RI_ISA_SCALAR, ri_core_isa_detect()};
    for (int round = 0; round < 40; round++) {
        const uint32_t D = Ds[round % 5], K = Ks[(round / 5) % 6];
        const uint32_t DP = (D + 15u) & ~15u;
        const uint32_t n = round % 7 == 3 ? K - 1 + (uint32_t)(round % 2) : 50 + 6u * (uint32_t)round;
        const int coarse = round % 3 == 0, holes = round % 4 == 1;
        for (uint32_t i = 0; i < n; i++) {
            base[i] = coarse ? (float)(int)(rnd_unit() * 4) : rnd_unit();
            for (uint32_t m = 0; m < DP; m++)
                out[i * DP + m] = coarse ? (float)(int)(rnd_unit() * 3) : rnd_unit();
            if (holes && i % 5 == 2)
                out[i * DP + i % D] = (i % 2) ? NAN : -INFINITY;
        }
        /* reference */
        int ref_full = 1;
        static uint32_t want[DPMAX * 20];
        for (uint32_t m = 0; m < D; m++) {
            uint32_t c = 0;
            for (uint32_t i = 0; i < n; i++) {
                float v = base[i] + out[i * DP + m];
                if (v == v && v != -INFINITY) {
                    pairs[2 * c] = v;
                    pairs[2 * c + 1] = (float)i;
                    c++;
                }
            }
            qsort(pairs, c, 2 * sizeof(float), cmp_rank);
            ref_full &= c >= K;
            for (uint32_t t = 0; t < K && t < c; t++)
                want[m * K + t] = (uint32_t)pairs[2 * t + 1];
        }
        for (int v = 0; v < 2; v++) {
            int full = ri_explore_draw_lists(isas[v], out, DP, base, n, D, K, got);
            ck_assert_int_eq(full, ref_full);
            if (full)
                ck_assert_int_eq(memcmp(got, want, (size_t)D * K * sizeof(uint32_t)), 0);
        }
    }
}
END_TEST

/* explore_decay: the width at round t is scaled by 1/sqrt(1 + t/decay), so
 * alpha 2 with decay 4 at round 12 acts as alpha 1 (by hand: sqrt(1 + 3) = 2),
 * and LinUCB (no randomness, posterior unchanged without observations) then
 * shows the slate an undecayed alpha-1 explorer shows at round 0. */
START_TEST(explore_decay_scales_width)
{
    ri_explore_params pp = {0};
    pp.ucb_alpha = 2.0;
    pp.ts_scale = 0.8;
    pp.decay = 4.0;
    pp.online = 1;
    ri_explore_params r = ri_explore_at_round(&pp, 12);
    ck_assert_double_eq_tol(r.ucb_alpha, 1.0, 1e-15);
    ck_assert_double_eq_tol(r.ts_scale, 0.4, 1e-15);
    r = ri_explore_at_round(&pp, 0);
    ck_assert_double_eq(r.ucb_alpha, 2.0);
    pp.online = 0; /* frozen: one policy at every round */
    r = ri_explore_at_round(&pp, 12);
    ck_assert_double_eq(r.ucb_alpha, 2.0);
    ck_assert_double_eq(r.ts_scale, 0.8);
    pp.online = 1;
    pp.decay = 0.0;
    r = ri_explore_at_round(&pp, 1000);
    ck_assert_double_eq(r.ucb_alpha, 2.0);
    ck_assert_double_eq(r.ts_scale, 0.8);

    recint_model *m = random_model(3, 200, 8, 5);
    static const char *const da[] = {"policy=linucb", "ucb_alpha=2", "explore_decay=4",
                                     "candidates=50", NULL};
    static const char *const db[] = {"policy=linucb", "ucb_alpha=1", "explore_decay=0",
                                     "candidates=50", NULL};
    recint_explorer *a = explorer_of(m, da), *b = explorer_of(m, db);
    ck_assert_double_eq(a->pp.decay, 4.0);
    uint32_t ia[6], ib[6], na, nb;
    for (int t = 0; t <= 12; t++)
        RI_OK(recint_explorer_recommend(a, 1, 6, ia, NULL, &na));
    RI_OK(recint_explorer_recommend(b, 1, 6, ib, NULL, &nb));
    ck_assert_uint_eq(na, nb);
    for (uint32_t j = 0; j < na; j++)
        ck_assert_uint_eq(ia[j], ib[j]);
    recint_explorer_free(a);
    recint_explorer_free(b);
    recint_model_free(m);
}
END_TEST

START_TEST(cholesky_rejects_indefinite)
{
    const double a[4] = {1, 2, 2, 1}; /* eigenvalues 3 and -1 */
    double l[4];
    ck_assert_int_eq(ri_cholesky(a, 2, l), -1);
    const double b[4] = {4, 2, 2, 5};
    ck_assert_int_eq(ri_cholesky(b, 2, l), 0);
    ck_assert_double_eq_tol(l[0], 2.0, 1e-15);
    ck_assert_double_eq_tol(l[2], 1.0, 1e-15);
    ck_assert_double_eq_tol(l[3], 2.0, 1e-15);
    ck_assert(l[1] == 0.0);
}
END_TEST

/* ---- propensities ------------------------------------------------------------- */

/* One user, items on a line: item i has vector (1, 0) * score_i, so the greedy
 * order is known by hand. */
static recint_model *line_model(const float *scores, uint32_t n)
{
    float u[2] = {1.0f, 0.0f}, *V = calloc(2 * n, sizeof(float));
    for (uint32_t i = 0; i < n; i++)
        V[2 * i] = scores[i];
    recint_model *m = NULL;
    RI_OK(recint_model_new_factors(&m, 1, n, 2, u, V, NULL, NULL));
    free(V);
    return m;
}

START_TEST(epsilon_propensities_by_hand)
{
    const float s[6] = {0.5f, 0.9f, 0.1f, 0.7f, 0.3f, 0.2f}; /* greedy order 1 3 0 4 5 2 */
    recint_model *m = line_model(s, 6);
    const char *set[] = {"policy=epsilon", "epsilon=0.3", "candidates=6", NULL};
    recint_explorer *e = explorer_of(m, set);
    int explored_seen = 0;
    for (int round = 0; round < 40; round++) {
        uint32_t items[4], n = 0;
        double prop[4];
        RI_OK(recint_explorer_recommend(e, 0, 4, items, prop, &n));
        ck_assert_uint_eq(n, 4);
        /* Slot j: (1 - eps) if the item is the best remaining, plus eps / (6 - j). */
        int taken[6] = {0};
        for (uint32_t j = 0; j < n; j++) {
            int best = -1;
            for (int i = 0; i < 6; i++)
                if (!taken[i] && (best < 0 || s[i] > s[best]))
                    best = i;
            double want = 0.3 / (6 - j) + ((int)items[j] == best ? 0.7 : 0.0);
            ck_assert_double_eq_tol(prop[j], want, 1e-15);
            explored_seen |= (int)items[j] != best;
            taken[items[j]] = 1;
        }
    }
    ck_assert_msg(explored_seen, "40 rounds at epsilon 0.3 never explored");
    recint_explorer_free(e);
    recint_model_free(m);
}
END_TEST

START_TEST(softmax_propensities_by_hand)
{
    const float s[4] = {0.2f, 0.4f, 0.1f, 0.3f};
    recint_model *m = line_model(s, 4);
    const char *set[] = {"policy=softmax", "temperature=0.1", "candidates=4", NULL};
    recint_explorer *e = explorer_of(m, set);
    uint32_t counts[4] = {0};
    const int rounds = 4000;
    for (int round = 0; round < rounds; round++) {
        uint32_t items[2], n = 0;
        double prop[2];
        RI_OK(recint_explorer_recommend(e, 0, 2, items, prop, &n));
        double z = 0;
        for (int i = 0; i < 4; i++)
            z += exp(s[i] / 0.1);
        ck_assert_double_eq_tol(prop[0], exp(s[items[0]] / 0.1) / z, 1e-6);
        double z1 = z - exp(s[items[0]] / 0.1);
        ck_assert_double_eq_tol(prop[1], exp(s[items[1]] / 0.1) / z1, 1e-6);
        counts[items[0]]++;
    }
    /* Empirical slot-0 frequencies agree with the stated propensities (4 sigma). */
    double z = 0;
    for (int i = 0; i < 4; i++)
        z += exp(s[i] / 0.1);
    for (int i = 0; i < 4; i++) {
        double p = exp(s[i] / 0.1) / z, sd = sqrt(p * (1 - p) / rounds);
        ck_assert_double_le(fabs(counts[i] / (double)rounds - p), 4 * sd + 1e-9);
    }
    recint_explorer_free(e);
    recint_model_free(m);
}
END_TEST

/* Slot-0 distributions of every policy sum to one over the candidates, and the
 * deterministic ones put everything on the best. */
START_TEST(first_slot_distributions_sum_to_one)
{
    recint_model *m = random_model(3, 200, 8, 11);
    static const char *const pols[] = {"greedy", "epsilon", "softmax", "linucb", "thompson",
                                       "uniform"};
    for (size_t k = 0; k < 6; k++) {
        char pol[64];
        snprintf(pol, sizeof pol, "policy=%s", pols[k]);
        const char *set[] = {pol, "candidates=50", "mmr_lambda=0.7", "debias=0.5", NULL};
        recint_explorer *e = explorer_of(m, set);
        ri_posterior *p;
        RI_OK(ri_explorer_posterior(e, 1, &p));
        double probs[50];
        cand_set cs;
        cand_set_of(e, 1, p, 1, &cs);
        const uint32_t n = cs.n;
        ck_assert_uint_eq(n, 50);
        const ri_candidates c = cs.c;
        ri_rng r;
        ri_rng_seed(&r, 5, 9);
        RI_OK(ri_policy_first_slot(&e->pp, e->isa, p, &c, &r, probs));
        double sum = 0, mx = 0;
        for (uint32_t i = 0; i < n; i++) {
            ck_assert(probs[i] >= 0.0);
            sum += probs[i];
            mx = probs[i] > mx ? probs[i] : mx;
        }
        ck_assert_double_eq_tol(sum, 1.0, 1e-12);
        if (k == 0 || k == 3)
            ck_assert_double_eq(mx, 1.0);
        else
            ck_assert_double_lt(mx, 1.0);
        /* The slate's propensities lie in (0, 1]; thompson's are multiples of 1/16 at the default samples. */
        uint32_t pos[10];
        double prop[10];
        RI_OK(ri_policy_slate(&e->pp, e->isa, p, &c, 10, &r, pos, prop));
        for (int j = 0; j < 10; j++) {
            ck_assert(prop[j] > 0.0 && prop[j] <= 1.0);
            if (k == 4)
                ck_assert_double_eq(prop[j] * 16, floor(prop[j] * 16));
            for (int t = 0; t < j; t++)
                ck_assert_uint_ne(pos[t], pos[j]);
        }
        recint_explorer_free(e);
    }
    recint_model_free(m);
}
END_TEST

/* ---- policies on hand-made vectors ----------------------------------------- */

START_TEST(linucb_prefers_uncertain_items)
{
    /* Item 0 scores 0.5 along the user's direction; item 1 scores 0.4 but is long
     * in the unexplored direction: width sqrt(x^T x / prior_precision). */
    float u[2] = {1.0f, 0.0f}, V[6] = {0.5f, 0.0f, 0.4f, 3.0f, 0.1f, 0.0f};
    recint_model *m = NULL;
    RI_OK(recint_model_new_factors(&m, 1, 3, 2, u, V, NULL, NULL));
    const char *greedy[] = {"policy=linucb", "ucb_alpha=0", NULL};
    const char *ucb[] = {"policy=linucb", "ucb_alpha=0.2", "prior_precision=1", NULL};
    uint32_t items[1], n;
    double prop[1];
    recint_explorer *e = explorer_of(m, greedy);
    RI_OK(recint_explorer_recommend(e, 0, 1, items, prop, &n));
    ck_assert_uint_eq(items[0], 0);
    recint_explorer_free(e);
    e = explorer_of(m, ucb);
    /* ucb: 0.5 + 0.2 * 0.5 = 0.6 against 0.4 + 0.2 * sqrt(9.16) = 1.005. */
    RI_OK(recint_explorer_recommend(e, 0, 1, items, prop, &n));
    ck_assert_uint_eq(items[0], 1);
    ck_assert_double_eq(prop[0], 1.0);
    /* Observing item 1 without reward many times shrinks its width and its mean. */
    for (int t = 0; t < 50; t++)
        RI_OK(recint_explorer_observe(e, 0, 1, 0.0f));
    RI_OK(recint_explorer_recommend(e, 0, 1, items, prop, &n));
    ck_assert_uint_eq(items[0], 0);
    recint_explorer_free(e);
    recint_model_free(m);
}
END_TEST

/* LinUCB slates: later slots see the covariance after the earlier picks'
 * (reward-free) updates. Reference: the sequential updates in double. */
START_TEST(linucb_slate_matches_sequential_reference)
{
    enum { D = 4, NI = 30, K = 6 };
    recint_model *m = random_model(1, NI, D, 21);
    const char *set[] = {"policy=linucb", "ucb_alpha=2", "candidates=30", NULL};
    recint_explorer *e = explorer_of(m, set);
    ri_posterior *p;
    RI_OK(ri_explorer_posterior(e, 0, &p));
    uint32_t pos[K];
    double prop[K];
    cand_set cs;
    cand_set_of(e, 0, p, 0, &cs);
    const uint32_t n = cs.n;
    const float *const *x = cs.x;
    const float *base = cs.base;
    ri_rng r;
    ri_rng_seed(&r, 1, 1);
    RI_OK(ri_policy_slate(&e->pp, e->isa, p, &cs.c, K, &r, pos, prop));
    double cov[D * D];
    memcpy(cov, p->cov, sizeof cov);
    int taken[NI] = {0};
    for (int j = 0; j < K; j++) {
        int best = -1;
        double bs = -1e300;
        for (uint32_t i = 0; i < n; i++) {
            if (taken[i])
                continue;
            double q = 0;
            for (int a = 0; a < D; a++)
                for (int b = 0; b < D; b++)
                    q += x[i][a] * cov[a * D + b] * x[i][b];
            double sc = base[i] + 2.0 * sqrt(q > 0 ? q : 0);
            if (sc > bs) {
                bs = sc;
                best = (int)i;
            }
        }
        ck_assert_int_eq((int)pos[j], best);
        ck_assert_double_eq(prop[j], 1.0);
        taken[best] = 1;
        double v[D], xv = 1;
        for (int a = 0; a < D; a++) {
            v[a] = 0;
            for (int b = 0; b < D; b++)
                v[a] += cov[a * D + b] * x[best][b];
            xv += v[a] * x[best][a];
        }
        for (int a = 0; a < D; a++)
            for (int b = 0; b < D; b++)
                cov[a * D + b] -= v[a] * v[b] / xv;
    }
    recint_explorer_free(e);
    recint_model_free(m);
}
END_TEST

START_TEST(mmr_breaks_up_near_duplicates)
{
    /* Items 0 and 1 are the same vector, item 2 is orthogonal and slightly worse. */
    float u[2] = {1.0f, 0.9f}, V[6] = {1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f};
    recint_model *m = NULL;
    RI_OK(recint_model_new_factors(&m, 1, 3, 2, u, V, NULL, NULL));
    uint32_t items[2], n;
    const char *plain[] = {"policy=greedy", NULL};
    const char *mmr[] = {"policy=greedy", "mmr_lambda=0.5", NULL};
    recint_explorer *e = explorer_of(m, plain);
    RI_OK(recint_explorer_recommend(e, 0, 2, items, NULL, &n));
    ck_assert_uint_eq(items[0], 0);
    ck_assert_uint_eq(items[1], 1);
    recint_explorer_free(e);
    e = explorer_of(m, mmr);
    RI_OK(recint_explorer_recommend(e, 0, 2, items, NULL, &n));
    ck_assert_uint_eq(items[0], 0);
    ck_assert_uint_eq(items[1], 2);
    recint_explorer_free(e);
    recint_model_free(m);
}
END_TEST

START_TEST(debias_penalises_popular_items)
{
    /* Two users; item 0 is in both histories, items 1 and 2 in none. User 1's
     * vector prefers item 0 slightly over item 1 (items it has not seen). */
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_new(&ds, NULL));
    const int64_t us[3] = {0, 1, 2}, is[3] = {0, 0, 0}, all[4] = {0, 1, 2, 3};
    RI_OK(recint_dataset_reserve_ids(ds, 4, all, 4, all));
    RI_OK(recint_dataset_add(ds, 3, us, is, NULL, NULL));
    recint_model *m = NULL;
    const char *set[] = {"dim=4", "iterations=3", "threads=1", NULL};
    recint_config *c = cfg_of(set);
    RI_OK(recint_model_new(&m, "als", c));
    recint_trainer *t = NULL;
    RI_OK(recint_trainer_new(&t, m, c));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    /* User 3 has no history: every item is a candidate. */
    uint32_t items[4], n, top_plain, top_debias;
    const char *plain[] = {"policy=greedy", NULL};
    const char *deb[] = {"policy=greedy", "debias=100", NULL};
    recint_explorer *e = explorer_of(m, plain);
    RI_OK(recint_explorer_recommend(e, 3, 1, items, NULL, &n));
    top_plain = items[0];
    recint_explorer_free(e);
    e = explorer_of(m, deb);
    RI_OK(recint_explorer_recommend(e, 3, 4, items, NULL, &n));
    top_debias = items[0];
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(items[3], 0); /* 3 * log(4) * 100 below every other item */
    ck_assert_uint_ne(top_debias, 0);
    (void)top_plain;
    recint_explorer_free(e);
    recint_trainer_free(t);
    recint_model_free(m);
    recint_config_free(c);
    recint_dataset_free(ds);
}
END_TEST

/* ---- determinism, log, replay ---------------------------------------------- */

static void run_rounds(recint_explorer *e, uint32_t users, uint32_t rounds, uint32_t k,
                       uint32_t *items_out, double *prop_out)
{
    for (uint32_t t = 0; t < rounds; t++)
        for (uint32_t u = 0; u < users; u++) {
            uint32_t n = 0, *it = items_out + ((size_t)t * users + u) * k;
            double *pr = prop_out + ((size_t)t * users + u) * k;
            RI_OK(recint_explorer_recommend(e, u, k, it, pr, &n));
            ck_assert_uint_eq(n, k);
            for (uint32_t j = 0; j < n; j++)
                RI_OK(recint_explorer_observe(e, u, it[j], (it[j] + t + u) % 3 == 0 ? 1.0f : 0.0f));
        }
}

START_TEST(same_seed_same_slates)
{
    recint_model *m = random_model(6, 300, 16, 3);
    static const char *const pols[] = {"epsilon", "softmax", "thompson", "uniform", "linucb"};
    for (size_t p = 0; p < 5; p++) {
        char pol[64];
        snprintf(pol, sizeof pol, "policy=%s", pols[p]);
        const char *s1[] = {pol, "candidates=60", "seed=9", NULL};
        const char *s2[] = {pol, "candidates=60", "seed=10", NULL};
        enum { U = 6, T = 8, K = 5 };
        uint32_t a[U * T * K], b[U * T * K], c[U * T * K];
        double pa[U * T * K], pb[U * T * K], pc[U * T * K];
        recint_explorer *e = explorer_of(m, s1);
        run_rounds(e, U, T, K, a, pa);
        recint_explorer_free(e);
        e = explorer_of(m, s1);
        run_rounds(e, U, T, K, b, pb);
        recint_explorer_free(e);
        ck_assert(memcmp(a, b, sizeof a) == 0);
        ck_assert(memcmp(pa, pb, sizeof pa) == 0);
        if (p < 4) { /* the stochastic ones depend on the seed */
            e = explorer_of(m, s2);
            run_rounds(e, U, T, K, c, pc);
            recint_explorer_free(e);
            ck_assert_msg(memcmp(a, c, sizeof a) != 0, "%s: seed changed nothing", pols[p]);
        }
    }
    recint_model_free(m);
}
END_TEST

START_TEST(log_replay_is_bit_exact)
{
    char path[512];
    ri_test_tmp("explore.log", path, sizeof path);
    recint_model *m = random_model(5, 250, 16, 4);
    const char *set[] = {"policy=thompson", "candidates=40", "mmr_lambda=0.8", NULL};
    enum { U = 5, T = 6, K = 4 };
    uint32_t a[U * T * K];
    double pa[U * T * K];
    recint_explorer *e = explorer_of(m, set);
    RI_OK(recint_explorer_set_logging(e, 1));
    run_rounds(e, U, T, K, a, pa);
    ck_assert_uint_eq(recint_explorer_log_size(e), U * T * K);
    RI_OK(recint_explorer_log_save(e, path));
    char tpath[512];
    ri_test_tmp("explore-log.tsv", tpath, sizeof tpath);
    RI_OK(recint_explorer_log_save_text(e, tpath));
    /* The same next round from the original and from a replayed explorer. */
    uint32_t next_a[K], next_b[K], n;
    double np_a[K], np_b[K];
    RI_OK(recint_explorer_recommend(e, 2, K, next_a, np_a, &n));
    recint_explorer *r = explorer_of(m, set);
    uint64_t mism = 99;
    RI_OK(recint_explorer_replay(r, path, &mism));
    ck_assert_uint_eq(mism, 0);
    RI_OK(recint_explorer_recommend(r, 2, K, next_b, np_b, &n));
    ck_assert(memcmp(next_a, next_b, sizeof next_a) == 0);
    ck_assert(memcmp(np_a, np_b, sizeof np_a) == 0);
    ck_assert(memcmp(e->users[2]->cov, r->users[2]->cov, 16 * 16 * sizeof(double)) == 0);
    recint_explorer_free(r);
    /* A replay into an explorer of another seed reports the differences. */
    const char *other[] = {"policy=thompson", "candidates=40", "mmr_lambda=0.8", "seed=1", NULL};
    r = explorer_of(m, other);
    RI_OK(recint_explorer_replay(r, path, &mism));
    ck_assert_uint_gt(mism, 0);
    recint_explorer_free(r);
    /* Records hold what recommend returned, rewards as observed. */
    ri_log_record *recs;
    uint64_t nrec;
    RI_OK(ri_explore_log_read(path, 5, 250, &recs, &nrec));
    ck_assert_uint_eq(nrec, U * T * K);
    for (uint64_t i = 0; i < nrec; i++) {
        size_t t = recs[i].round, u = recs[i].user, j = recs[i].slot;
        ck_assert_uint_eq(recs[i].item, a[(t * U + u) * K + j]);
        ck_assert(recs[i].propensity == pa[(t * U + u) * K + j]);
        ck_assert(recs[i].reward == ((recs[i].item + t + u) % 3 == 0 ? 1.0f : 0.0f));
        ck_assert_uint_eq(recs[i].n_candidates, 40);
    }
    /* The text form holds the same records (a NaN reward as NaN) and replays
     * as exactly; the estimators read it to the same bits. */
    ri_log_record *trecs;
    uint64_t ntrec;
    RI_OK(ri_explore_log_read(tpath, 5, 250, &trecs, &ntrec));
    ck_assert_uint_eq(ntrec, nrec);
    for (uint64_t i = 0; i < nrec; i++) {
        ck_assert(trecs[i].user == recs[i].user && trecs[i].item == recs[i].item &&
                  trecs[i].slot == recs[i].slot && trecs[i].round == recs[i].round &&
                  trecs[i].n_candidates == recs[i].n_candidates);
        ck_assert(memcmp(&trecs[i].propensity, &recs[i].propensity, sizeof(double)) == 0);
        ck_assert(isnan(recs[i].reward) ? isnan(trecs[i].reward)
                                        : trecs[i].reward == recs[i].reward);
    }
    free(trecs);
    r = explorer_of(m, set);
    RI_OK(recint_explorer_replay(r, tpath, &mism));
    ck_assert_uint_eq(mism, 0);
    ck_assert(memcmp(e->users[2]->cov, r->users[2]->cov, 16 * 16 * sizeof(double)) == 0);
    double eb[4], et[4];
    for (int est = RECINT_OPE_IPS; est <= RECINT_OPE_DR; est++) {
        RI_OK(recint_explorer_evaluate(r, path, est, eb, 4));
        RI_OK(recint_explorer_evaluate(r, tpath, est, et, 4));
        ck_assert(memcmp(eb, et, sizeof eb) == 0);
    }
    recint_explorer_free(r);
    remove(tpath);
    free(recs);
    recint_explorer_free(e);
    recint_model_free(m);
    remove(path);
}
END_TEST

/* Text logs: every damaged line is refused with its line number. */
START_TEST(damaged_text_logs_are_refused)
{
    char path[512];
    ri_test_tmp("explore-bad.tsv", path, sizeof path);
    recint_model *m = random_model(3, 50, 4, 5);
    const char *set[] = {"policy=uniform", "candidates=10", NULL};
    recint_explorer *e = explorer_of(m, set);
    static const struct {
        const char *text;
        int code;
        const char *msg;
    } cases[] = {
        {"# recint-explore-log 1 users=3\n", RECINT_EFORMAT, ":1: expected"},
        {"# recint-explore-log 1 users=3 items=60\n", RECINT_ERANGE, "catalogue"},
        {"# recint-explore-log 1 users=3 items=50\n1\t0\t0\t7\t10\t0.1\n", RECINT_EFORMAT,
         ":2: expected 7 fields"},
        {"# recint-explore-log 1 users=3 items=50\n1\t0\t0\t7\t10\t0.1\t1\t9\n",
         RECINT_EFORMAT, "more than 7"},
        {"# recint-explore-log 1 users=3 items=50\n# c\n\n1\t0\t0\t-7\t10\t0.1\t1\n",
         RECINT_EFORMAT, ":4: item"},
        {"# recint-explore-log 1 users=3 items=50\n1\t0\t0\t7\t10\tx\t1\n", RECINT_EFORMAT,
         "propensity is not"},
        {"# recint-explore-log 1 users=3 items=50\n1\t0\t0\t7\t10\t0\t1\n", RECINT_EFORMAT,
         "not in (0, 1]"},
        {"# recint-explore-log 1 users=3 items=50\n1\t0\t0\t7\t10\t1e-310\t1\n", RECINT_EFORMAT,
         "or is subnormal"}, /* its importance weight is infinite (found by fuzzing) */
        {"# recint-explore-log 1 users=3 items=50\n1\t0\t10\t7\t10\t0.1\t1\n", RECINT_EFORMAT,
         "slot 10 of 10"},
        {"# recint-explore-log 1 users=3 items=50\n1\t0\t0\t7\t10\t0.1\tinf\n",
         RECINT_EFORMAT, "infinite reward"},
        {"# recint-explore-log 1 users=3 items=50\n3\t0\t0\t7\t10\t0.1\t1\n", RECINT_ERANGE,
         "user 3"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        fputs(cases[c].text, f);
        fclose(f);
        RI_FAILS(cases[c].code, recint_explorer_replay(e, path, NULL));
        ck_assert_msg(strstr(recint_last_error(), cases[c].msg), "case %zu: %s", c,
                      recint_last_error());
    }
    /* A good one, hand written: comments, blank lines, a nan reward, spaces. */
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("# recint-explore-log 1 users=3 items=50\n# user round slot item cand prop reward\n"
          "1 0 0 7 10 0.1 1\n\n2\t0\t0\t9\t10\t0.1\tnan\n", f);
    fclose(f);
    ri_log_record *recs;
    uint64_t n;
    RI_OK(ri_explore_log_read(path, 3, 50, &recs, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert(recs[0].user == 1 && recs[0].item == 7 && recs[0].reward == 1.0f);
    ck_assert(recs[0].propensity == 0.1 && isnan(recs[1].reward) && recs[1].item == 9);
    free(recs);
    RI_FAILS(RECINT_EINVAL, recint_explorer_log_save_text(NULL, path));
    RI_FAILS(RECINT_EINVAL, recint_explorer_log_save_text(e, NULL));
    RI_FAILS(RECINT_EIO, recint_explorer_log_save_text(e, "/nonexistent/dir/log.tsv"));
    recint_explorer_free(e);
    recint_model_free(m);
    remove(path);
}
END_TEST

START_TEST(damaged_logs_are_refused)
{
    char path[512];
    ri_test_tmp("explore-bad.log", path, sizeof path);
    recint_model *m = random_model(3, 50, 4, 5);
    const char *set[] = {"policy=uniform", "candidates=10", NULL};
    recint_explorer *e = explorer_of(m, set);
    RI_OK(recint_explorer_set_logging(e, 1));
    uint32_t items[3], n;
    RI_OK(recint_explorer_recommend(e, 1, 3, items, NULL, &n));
    RI_OK(recint_explorer_observe(e, 1, items[0], 1.0f));
    RI_OK(recint_explorer_log_save(e, path));
    /* Flip one byte of the data: the section CRC catches it. */
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size - 8, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, size - 8, SEEK_SET);
    fputc(ch ^ 0x5a, f);
    fclose(f);
    recint_explorer *r = explorer_of(m, set);
    RI_FAILS(RECINT_EFORMAT, recint_explorer_replay(r, path, NULL));
    double out[4];
    RI_FAILS(RECINT_EFORMAT, recint_explorer_evaluate(r, path, RECINT_OPE_IPS, out, 4));
    /* A log of another catalogue. */
    RI_OK(recint_explorer_log_save(e, path));
    recint_model *m2 = random_model(3, 60, 4, 5);
    recint_explorer *e2 = explorer_of(m2, set);
    RI_FAILS(RECINT_ERANGE, recint_explorer_replay(e2, path, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "catalogue"));
    RI_FAILS(RECINT_EIO, recint_explorer_replay(r, "/nonexistent/dir/log", NULL));
    /* A model file is a container, not a log. */
    RI_OK(recint_model_save(m, path));
    RI_FAILS(RECINT_EFORMAT, recint_explorer_replay(r, path, NULL));
    recint_explorer_free(e2);
    recint_model_free(m2);
    recint_explorer_free(r);
    recint_explorer_free(e);
    recint_model_free(m);
    remove(path);
}
END_TEST

/* ---- estimators ------------------------------------------------------------- */

START_TEST(estimators_match_hand_computation)
{
    char path[512];
    ri_test_tmp("explore-ope.log", path, sizeof path);
    recint_model *m = random_model(20, 100, 8, 6);
    /* A frozen logger: its candidates stay the target's. */
    const char *logset[] = {"policy=uniform", "candidates=10", "online=false", NULL};
    const char *tset[] = {"policy=epsilon", "epsilon=0.2", "candidates=10", NULL};
    recint_explorer *lg = explorer_of(m, logset), *tg = explorer_of(m, tset);
    RI_OK(recint_explorer_set_logging(lg, 1));
    for (uint32_t t = 0; t < 30; t++)
        for (uint32_t u = 0; u < 20; u++) {
            uint32_t it[2], n;
            RI_OK(recint_explorer_recommend(lg, u, 2, it, NULL, &n));
            RI_OK(recint_explorer_observe(lg, u, it[0], (it[0] % 4 == 0) ? 1.0f : 0.0f));
        }
    RI_OK(recint_explorer_log_save(lg, path));
    /* By hand: the target (frozen prior, no observation) puts (1 - eps) + eps/10
     * on the best candidate of the user vector, eps/10 on the other nine. */
    ri_log_record *recs;
    uint64_t nrec;
    RI_OK(ri_explore_log_read(path, 20, 100, &recs, &nrec));
    double sw = 0, swr = 0, n0 = 0, sum_ips = 0, sum_dr = 0;
    for (uint64_t i = 0; i < nrec; i++) {
        if (recs[i].slot != 0)
            continue;
        ck_assert(!isnan(recs[i].reward));
        ck_assert_double_eq_tol(recs[i].propensity, 0.1, 1e-15);
        uint32_t top[10], got;
        float sc[10];
        RI_OK(recint_model_recommend(m, recs[i].user, 10, top, sc, &got));
        double pi = 0.02, dm = 0.0;
        int in = 0;
        for (uint32_t j = 0; j < got; j++) {
            double pj = 0.02 + (j == 0 ? 0.8 : 0.0), q = sc[j] < 0 ? 0 : sc[j] > 1 ? 1 : sc[j];
            dm += pj * q;
            if (top[j] == recs[i].item) {
                pi = pj;
                in = 1;
            }
        }
        ck_assert(in); /* uniform logging within the same top-10 */
        double w = pi / 0.1, r = recs[i].reward, qa = 0;
        for (uint32_t j = 0; j < got; j++)
            if (top[j] == recs[i].item)
                qa = sc[j] < 0 ? 0 : sc[j] > 1 ? 1 : sc[j];
        sw += w;
        swr += w * r;
        sum_ips += w * r;
        sum_dr += dm + w * (r - qa);
        n0++;
    }
    free(recs);
    double out[4];
    RI_OK(recint_explorer_evaluate(tg, path, RECINT_OPE_IPS, out, 4));
    ck_assert_double_eq_tol(out[0], sum_ips / n0, 1e-9);
    ck_assert(out[2] < out[0] && out[0] < out[3]);
    ck_assert_double_eq_tol(out[3] - out[0], 1.959963984540054 * out[1], 1e-12);
    RI_OK(recint_explorer_evaluate(tg, path, RECINT_OPE_SNIPS, out, 4));
    ck_assert_double_eq_tol(out[0], swr / sw, 1e-9);
    RI_OK(recint_explorer_evaluate(tg, path, RECINT_OPE_DR, out, 4));
    ck_assert_double_eq_tol(out[0], sum_dr / n0, 1e-5);
    RI_FAILS(RECINT_EINVAL, recint_explorer_evaluate(tg, path, 7, out, 4));
    RI_FAILS(RECINT_EINVAL, recint_explorer_evaluate(tg, path, RECINT_OPE_IPS, out, 3));
    /* An empty log has nothing to estimate from. */
    RI_OK(recint_explorer_set_logging(lg, 1));
    RI_OK(recint_explorer_log_save(lg, path));
    RI_FAILS(RECINT_ESTATE, recint_explorer_evaluate(tg, path, RECINT_OPE_IPS, out, 4));
    recint_explorer_free(lg);
    recint_explorer_free(tg);
    recint_model_free(m);
    remove(path);
}
END_TEST

/* ---- concurrency ------------------------------------------------------------ */

typedef struct {
    recint_explorer *e;
    uint32_t first, step, users, rounds;
    uint32_t *items;
    int rc;
} thread_job;

static void *thread_main(void *arg)
{
    thread_job *j = arg;
    for (uint32_t t = 0; t < j->rounds && j->rc == RECINT_OK; t++)
        for (uint32_t u = j->first; u < j->users && j->rc == RECINT_OK; u += j->step) {
            uint32_t n, *it = j->items + ((size_t)t * j->users + u) * 3;
            j->rc = recint_explorer_recommend(j->e, u, 3, it, NULL, &n);
            for (uint32_t s = 0; s < n && j->rc == RECINT_OK; s++)
                j->rc = recint_explorer_observe(j->e, u, it[s], (it[s] % 2) ? 1.0f : 0.0f);
        }
    return NULL;
}

START_TEST(different_users_concurrently)
{
    recint_model *m = random_model(16, 200, 8, 8);
    const char *set[] = {"policy=thompson", "candidates=30", NULL};
    enum { U = 16, T = 10 };
    uint32_t seq[U * T * 3], par[U * T * 3];
    recint_explorer *e = explorer_of(m, set);
    thread_job one = {e, 0, 1, U, T, seq, 0};
    thread_main(&one);
    ck_assert_int_eq(one.rc, RECINT_OK);
    recint_explorer_free(e);
    e = explorer_of(m, set);
    RI_OK(recint_explorer_set_logging(e, 1));
    pthread_t th[4];
    thread_job jobs[4];
    for (uint32_t k = 0; k < 4; k++) {
        thread_job j = {e, k, 4, U, T, par, 0};
        jobs[k] = j;
        ck_assert_int_eq(pthread_create(&th[k], NULL, thread_main, &jobs[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        ck_assert_int_eq(jobs[k].rc, RECINT_OK);
    }
    ck_assert(memcmp(seq, par, sizeof seq) == 0);
    ck_assert_uint_eq(recint_explorer_log_size(e), U * T * 3);
    recint_explorer_free(e);
    recint_model_free(m);
}
END_TEST

/* ---- simulator ------------------------------------------------------------- */

START_TEST(simulator_is_deterministic_and_sane)
{
    const char *base[] = {"sim_users=120", "sim_items=300", "sim_clusters=10", "sim_rounds=6",
                          "dim=8", "iterations=4", "candidates=60", "k=5", NULL};
    recint_config *c = cfg_of(base);
    double a[RECINT_SIM_COUNT], b[RECINT_SIM_COUNT], rows[6 * RECINT_SIM_COUNT];
    RI_OK(recint_config_set(c, "threads", "1"));
    RI_OK(recint_simulate(c, a, RECINT_SIM_COUNT, rows, 6 * RECINT_SIM_COUNT));
    RI_OK(recint_config_set(c, "threads", "2"));
    RI_OK(recint_simulate(c, b, RECINT_SIM_COUNT, NULL, 0));
    ck_assert(memcmp(a, b, sizeof a) == 0);
    ck_assert(memcmp(a, rows + 5 * RECINT_SIM_COUNT, sizeof a) == 0);
    ck_assert_double_eq(a[RECINT_SIM_ROUNDS], 6);
    for (int t = 1; t < 6; t++) {
        const double *p = rows + (t - 1) * RECINT_SIM_COUNT, *q = rows + t * RECINT_SIM_COUNT;
        ck_assert(q[RECINT_SIM_REWARD] >= p[RECINT_SIM_REWARD]);
        ck_assert(q[RECINT_SIM_COVERAGE] >= p[RECINT_SIM_COVERAGE]);
        ck_assert(q[RECINT_SIM_DISCOVERED] >= p[RECINT_SIM_DISCOVERED]);
    }
    for (int i = RECINT_SIM_DISCOVERED; i <= RECINT_SIM_DIVERSITY; i++)
        ck_assert(a[i] >= 0.0 && a[i] <= 1.0);
    /* Uniform exploration covers more of the catalogue than greedy. */
    RI_OK(recint_config_set(c, "policy", "greedy"));
    RI_OK(recint_simulate(c, a, RECINT_SIM_COUNT, NULL, 0));
    RI_OK(recint_config_set(c, "policy", "uniform"));
    RI_OK(recint_simulate(c, b, RECINT_SIM_COUNT, NULL, 0));
    ck_assert_double_gt(b[RECINT_SIM_COVERAGE], a[RECINT_SIM_COVERAGE]);
    ck_assert_double_gt(b[RECINT_SIM_DIVERSITY], a[RECINT_SIM_DIVERSITY]);
    RI_FAILS(RECINT_EINVAL, recint_simulate(c, a, RECINT_SIM_COUNT - 1, NULL, 0));
    RI_FAILS(RECINT_EINVAL, recint_simulate(c, a, RECINT_SIM_COUNT, rows, 5));
    /* The off-policy experiment: estimates with intervals, a frozen uniform
     * logger whose value is below a greedy target's here. */
    char path[512];
    ri_test_tmp("explore-sim-ope.log", path, sizeof path);
    double o[RECINT_OPE_SIM_COUNT], o2[RECINT_OPE_SIM_COUNT];
    RI_OK(recint_config_set(c, "policy", "greedy"));
    RI_OK(recint_config_set(c, "sim_ope_rounds", "4"));
    RI_OK(recint_simulate_ope(c, path, o, RECINT_OPE_SIM_COUNT));
    ck_assert_double_gt(o[RECINT_OPE_SIM_TRUE], 0.0);
    for (int e = RECINT_OPE_SIM_IPS; e <= RECINT_OPE_SIM_DR; e += 4) {
        ck_assert(o[e + 2] <= o[e] && o[e] <= o[e + 3]);
        ck_assert_double_ge(o[e + 1], 0.0);
    }
    ck_assert_double_gt(o[RECINT_OPE_SIM_TRUE], o[RECINT_OPE_SIM_LOGGED]);
    RI_OK(recint_simulate_ope(c, path, o2, RECINT_OPE_SIM_COUNT));
    ck_assert(memcmp(o, o2, sizeof o) == 0);
    /* The log it wrote is a log of first slots at propensity 1/candidates. */
    ri_log_record *recs;
    uint64_t nrec;
    RI_OK(ri_explore_log_read(path, 120, 300, &recs, &nrec));
    ck_assert_uint_eq(nrec, 60 * 4); /* half the users are background users */
    for (uint64_t i = 0; i < nrec; i++) {
        ck_assert_uint_eq(recs[i].slot, 0);
        ck_assert_double_eq(recs[i].propensity, 1.0 / 60);
    }
    free(recs);
    remove(path);
    RI_FAILS(RECINT_EINVAL, recint_simulate_ope(c, path, o, RECINT_OPE_SIM_COUNT - 1));
    RI_FAILS(RECINT_EINVAL, recint_simulate_ope(c, NULL, o, RECINT_OPE_SIM_COUNT));
    RI_OK(recint_config_set(c, "sim_true_clusters", "6"));
    RI_FAILS(RECINT_EINVAL, recint_simulate(c, a, RECINT_SIM_COUNT, NULL, 0));
    recint_config_free(c);
}
END_TEST

/* ---- errors ---------------------------------------------------------------- */

START_TEST(error_paths)
{
    recint_model *m = random_model(2, 20, 4, 9);
    recint_explorer *e = NULL;
    RI_FAILS(RECINT_EINVAL, recint_explorer_new(NULL, m, NULL));
    RI_FAILS(RECINT_EINVAL, recint_explorer_new(&e, NULL, NULL));
    recint_model *pop = NULL;
    RI_OK(recint_model_new(&pop, "pop", NULL));
    RI_FAILS(RECINT_ESTATE, recint_explorer_new(&e, pop, NULL));
    recint_model_free(pop);
    float V[2] = {1, 2};
    recint_model *nouser = NULL;
    RI_OK(recint_model_new_factors(&nouser, 0, 2, 1, NULL, V, NULL, NULL));
    RI_OK(recint_explorer_new(&e, nouser, NULL));
    uint32_t items[3], n;
    RI_FAILS(RECINT_ERANGE, recint_explorer_recommend(e, 0, 3, items, NULL, &n));
    recint_explorer_free(e);
    recint_model_free(nouser);
    RI_OK(recint_explorer_new(&e, m, NULL));
    RI_FAILS(RECINT_EINVAL, recint_explorer_recommend(e, 0, 0, items, NULL, &n));
    RI_FAILS(RECINT_EINVAL, recint_explorer_recommend(e, 0, 3, NULL, NULL, &n));
    RI_FAILS(RECINT_ERANGE, recint_explorer_recommend(e, 2, 3, items, NULL, &n));
    RI_FAILS(RECINT_EINVAL, recint_explorer_observe(e, 0, 1, NAN));
    RI_FAILS(RECINT_EINVAL, recint_explorer_observe(e, 0, 1, INFINITY));
    RI_FAILS(RECINT_ERANGE, recint_explorer_observe(e, 0, 20, 1.0f));
    RI_FAILS(RECINT_ERANGE, recint_explorer_observe(e, 5, 1, 1.0f));
    RI_FAILS(RECINT_EINVAL, recint_explorer_log_save(e, NULL));
    RI_FAILS(RECINT_EINVAL, recint_explorer_set_logging(NULL, 1));
    RI_FAILS(RECINT_EIO, recint_explorer_log_save(e, "/nonexistent/dir/log"));
    /* More slots than candidates: every candidate once. */
    recint_explorer_free(e);
    const char *few[] = {"candidates=3", NULL};
    e = explorer_of(m, few);
    uint32_t many[10];
    double pr[10];
    RI_OK(recint_explorer_recommend(e, 0, 10, many, pr, &n));
    ck_assert_uint_eq(n, 3);
    recint_explorer_free(e);
    recint_config *c = NULL;
    RI_OK(recint_config_new(&c));
    RI_FAILS(RECINT_EINVAL, recint_config_set(c, "policy", "random"));
    RI_FAILS(RECINT_EINVAL, recint_config_set(c, "epsilon", "1.5"));
    RI_FAILS(RECINT_EINVAL, recint_config_set(c, "temperature", "0"));
    recint_config_free(c);
    recint_explorer_free(NULL);
    ck_assert_uint_eq(recint_explorer_log_size(NULL), 0);
    recint_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("explore");
    TCase *tc = tcase_create("explore");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, sherman_morrison_matches_direct_inverse);
    tcase_add_test(tc, observe_isa_variants_agree);
    tcase_add_test(tc, observe_without_cholesky);
    tcase_add_test(tc, kernels_match_reference);
    tcase_add_test(tc, quadforms_every_dim);
    tcase_add_test(tc, draw_lists_match_sorting);
    tcase_add_test(tc, many_dots_equal_single);
    tcase_add_test(tc, explore_decay_scales_width);
    tcase_add_test(tc, cholesky_rejects_indefinite);
    tcase_add_test(tc, epsilon_propensities_by_hand);
    tcase_add_test(tc, softmax_propensities_by_hand);
    tcase_add_test(tc, first_slot_distributions_sum_to_one);
    tcase_add_test(tc, linucb_prefers_uncertain_items);
    tcase_add_test(tc, linucb_slate_matches_sequential_reference);
    tcase_add_test(tc, mmr_breaks_up_near_duplicates);
    tcase_add_test(tc, debias_penalises_popular_items);
    tcase_add_test(tc, same_seed_same_slates);
    tcase_add_test(tc, log_replay_is_bit_exact);
    tcase_add_test(tc, damaged_logs_are_refused);
    tcase_add_test(tc, damaged_text_logs_are_refused);
    tcase_add_test(tc, estimators_match_hand_computation);
    tcase_add_test(tc, different_users_concurrently);
    tcase_add_test(tc, simulator_is_deterministic_and_sane);
    tcase_add_test(tc, error_paths);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
