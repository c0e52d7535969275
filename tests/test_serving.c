/* Serving calls of a model (recommend, filtered, batch, vector, similar items)
 * through the scoring core, checked against a brute-force reference computed
 * here in double precision; the factors kind, filters, int8 serving, files
 * with and without the int8 section, and concurrent use of one model. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "core/core.h"
#include "io/format.h"
#include "models/model_internal.h"
#include "models/model_private.h"
#include "testutil.h"

/* ---- deterministic test data ---------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* Uniform in [-1, 1). */
static float rnd_unit(void) { return (float)((double)rnd() / 2147483648.0 * 2.0 - 1.0); }

typedef struct {
    uint32_t n_users, n_items, dim;
    float *U, *V, *b;
} factors;

/* Small integers make every float dot product exact, so ties are real ties and
 * the tie rule is checked without rounding doubt. */
static factors make_factors(uint32_t nu, uint32_t ni, uint32_t dim, int integers, int bias,
                            uint64_t seed)
{
    factors f = {nu, ni, dim, malloc(sizeof(float) * nu * dim + 4),
                 malloc(sizeof(float) * ni * dim + 4), bias ? malloc(sizeof(float) * ni) : NULL};
    rng_state = seed;
    for (size_t j = 0; j < (size_t)nu * dim; j++)
        f.U[j] = integers ? (float)((int)(rnd() % 7) - 3) : rnd_unit();
    for (size_t j = 0; j < (size_t)ni * dim; j++)
        f.V[j] = integers ? (float)((int)(rnd() % 7) - 3) : rnd_unit();
    for (uint32_t i = 0; bias && i < ni; i++)
        f.b[i] = integers ? (float)((int)(rnd() % 5) - 2) : 0.5f * rnd_unit();
    return f;
}

static void free_factors(factors *f)
{
    free(f->U);
    free(f->V);
    free(f->b);
}

static recint_model *model_of(const factors *f, const char *const *settings)
{
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    for (size_t j = 0; settings && settings[j]; j++)
        RI_OK(recint_config_set_pair(cfg, settings[j]));
    recint_model *m;
    RI_OK(recint_model_new_factors(&m, f->n_users, f->n_items, f->dim, f->U, f->V, f->b, cfg));
    recint_config_free(cfg);
    return m;
}

/* ---- the reference ------------------------------------------------------------ */

static double dot_d(const float *a, const float *b, uint32_t dim)
{
    double s = 0.0;
    for (uint32_t j = 0; j < dim; j++)
        s += (double)a[j] * b[j];
    return s;
}

/* Reference scores of vector u against every item. */
static double *ref_scores(const factors *f, const float *u)
{
    double *s = malloc(sizeof(double) * f->n_items);
    for (uint32_t i = 0; i < f->n_items; i++)
        s[i] = dot_d(u, f->V + (size_t)i * f->dim, f->dim) + (f->b ? f->b[i] : 0.0);
    return s;
}

typedef struct {
    double s;
    uint32_t i;
} scored;

static int by_rank(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Items allowed by (allow, block, exclude) as a 0/1 array; NULL sets mean "all"
 * / "none". */
static uint8_t *eligible_of(uint32_t n, const uint32_t *allow, size_t n_allow,
                            const uint32_t *block, size_t n_block, const uint32_t *ex, size_t n_ex)
{
    uint8_t *e = malloc(n + 1);
    memset(e, allow ? 0 : 1, n);
    for (size_t j = 0; allow && j < n_allow; j++)
        e[allow[j]] = 1;
    for (size_t j = 0; j < n_block; j++)
        e[block[j]] = 0;
    for (size_t j = 0; j < n_ex; j++)
        e[ex[j]] = 0;
    return e;
}

/* Check a result against the reference: the count, eligibility, order by the
 * tie rule, scores within 1e-5 relative of the reference, and the reference's
 * ids at every rank except where the two candidates' reference scores are
 * within 1e-6 (float rounding may swap those). exact: ids and scores equal. */
static void expect_topk(const double *ref, const uint8_t *eligible, uint32_t n, uint32_t k,
                        const uint32_t *ids, const float *sc, uint32_t got, int exact)
{
    scored *all = malloc(sizeof(scored) * (n + 1));
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!eligible || eligible[i])
            all[m++] = (scored){ref[i], i};
    qsort(all, m, sizeof *all, by_rank);
    uint32_t want = k < m ? k : m;
    ck_assert_uint_eq(got, want);
    uint8_t *seen = calloc(n + 1, 1);
    for (uint32_t r = 0; r < got; r++) {
        uint32_t i = ids[r];
        ck_assert_uint_lt(i, n);
        ck_assert_msg(!eligible || eligible[i], "rank %u: item %u is not eligible", r, i);
        ck_assert_msg(!seen[i], "item %u returned twice", i);
        seen[i] = 1;
        if (r > 0)
            ck_assert_msg(sc[r] < sc[r - 1] || (sc[r] == sc[r - 1] && ids[r] > ids[r - 1]),
                          "rank %u out of order", r);
        if (exact) {
            ck_assert_msg(i == all[r].i, "rank %u: item %u, reference %u", r, i, all[r].i);
            ck_assert_msg(sc[r] == (float)all[r].s, "rank %u: score %.9g, reference %.9g", r,
                          sc[r], all[r].s);
        } else {
            double tol = 1e-6 * (1.0 + fabs(all[r].s));
            ck_assert_msg(i == all[r].i || fabs(ref[i] - all[r].s) <= tol,
                          "rank %u: item %u (%.9g), reference %u (%.9g)", r, i, ref[i], all[r].i,
                          all[r].s);
            ck_assert_msg(fabs(sc[r] - ref[i]) <= 1e-5 * (1.0 + fabs(ref[i])),
                          "rank %u: score %.9g, reference %.9g", r, sc[r], ref[i]);
        }
    }
    free(seen);
    free(all);
}

/* ---- factors kind: recommend == reference -------------------------------------- */

static void check_recommend_all(const factors *f, const recint_model *m, uint32_t k, int exact)
{
    uint32_t *ids = malloc(sizeof(uint32_t) * (k + 1));
    float *sc = malloc(sizeof(float) * (k + 1));
    for (uint32_t u = 0; u < f->n_users; u++) {
        uint32_t n = 0;
        RI_OK(recint_model_recommend(m, u, k, ids, sc, &n));
        double *ref = ref_scores(f, f->U + (size_t)u * f->dim);
        expect_topk(ref, NULL, f->n_items, k, ids, sc, n, exact);
        free(ref);
    }
    free(ids);
    free(sc);
}

START_TEST(factors_recommend_matches_reference)
{
    /* integer vectors: exact scores, many ties, ids must match exactly */
    factors a = make_factors(40, 300, 8, 1, 1, 11);
    recint_model *m = model_of(&a, NULL);
    ck_assert_str_eq(recint_model_kind(m), "factors");
    ck_assert_uint_eq(recint_model_n_users(m), 40);
    ck_assert_uint_eq(recint_model_n_items(m), 300);
    ck_assert_uint_eq(recint_model_dim(m), 8);
    const uint32_t ks[] = {1, 7, 10, 64, 299, 300, 301, 5000};
    for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++)
        check_recommend_all(&a, m, ks[j], 1);
    /* ids are the indices */
    int64_t id;
    RI_OK(recint_idmap_id(recint_model_items(m), 299, &id));
    ck_assert_int_eq(id, 299);
    RI_OK(recint_idmap_id(recint_model_users(m), 39, &id));
    ck_assert_int_eq(id, 39);
    recint_model_free(m);
    free_factors(&a);

    /* random floats, odd dim, no bias */
    factors b = make_factors(30, 1000, 13, 0, 0, 12);
    m = model_of(&b, NULL);
    check_recommend_all(&b, m, 10, 0);
    check_recommend_all(&b, m, 33, 0);
    /* recint_model_score agrees with the reference and with recommend's scores */
    float *all = malloc(sizeof(float) * 1000 * 2);
    uint32_t users[2] = {7, 3}, items[3] = {999, 0, 500};
    RI_OK(recint_model_score(m, users, 2, NULL, 0, all));
    for (int r = 0; r < 2; r++) {
        double *ref = ref_scores(&b, b.U + (size_t)users[r] * 13);
        for (uint32_t i = 0; i < 1000; i++)
            ck_assert(fabs(all[r * 1000 + i] - ref[i]) <= 1e-5 * (1 + fabs(ref[i])));
        free(ref);
    }
    float some[6];
    RI_OK(recint_model_score(m, users, 2, items, 3, some));
    for (int r = 0; r < 2; r++)
        for (int j = 0; j < 3; j++)
            ck_assert_float_eq(some[r * 3 + j], all[r * 1000 + items[j]]);
    uint32_t top[5], n;
    float ts[5];
    RI_OK(recint_model_recommend(m, 7, 5, top, ts, &n));
    for (uint32_t r = 0; r < n; r++)
        ck_assert_float_eq(ts[r], all[top[r]]);
    free(all);
    recint_model_free(m);
    free_factors(&b);
}
END_TEST

START_TEST(factors_edge_shapes)
{
    /* one item; a bias-only model of dim 0; a model without users */
    factors a = make_factors(3, 1, 4, 1, 1, 13);
    recint_model *m = model_of(&a, NULL);
    check_recommend_all(&a, m, 5, 1);
    recint_model_free(m);
    free_factors(&a);

    static const float bias[4] = {0.5f, 2.0f, 2.0f, -1.0f};
    RI_OK(recint_model_new_factors(&m, 2, 4, 0, NULL, NULL, bias, NULL));
    ck_assert_uint_eq(recint_model_dim(m), 0);
    uint32_t ids[4], n;
    float sc[4];
    RI_OK(recint_model_recommend(m, 1, 3, ids, sc, &n));
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(ids[0], 1);
    ck_assert_uint_eq(ids[1], 2);
    ck_assert_uint_eq(ids[2], 0);
    ck_assert_float_eq(sc[2], 0.5f);
    float v[1] = {0};
    RI_FAILS(RECINT_EUNSUPPORTED, recint_model_recommend_vector(m, v, 3, NULL, NULL, 0, ids, sc, &n));
    RI_FAILS(RECINT_EUNSUPPORTED, recint_model_similar_items(m, 0, 3, NULL, ids, sc, &n));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "no item vectors"));
    recint_model_free(m);

    factors c = make_factors(0, 50, 6, 0, 0, 14);
    RI_OK(recint_model_new_factors(&m, 0, 50, 6, NULL, c.V, NULL, NULL));
    ck_assert_uint_eq(recint_model_n_users(m), 0);
    RI_FAILS(RECINT_ERANGE, recint_model_recommend(m, 0, 3, ids, sc, &n));
    RI_OK(recint_model_similar_items(m, 3, 4, NULL, ids, sc, &n));
    ck_assert_uint_eq(n, 4);
    recint_model_free(m);
    free_factors(&c);
}
END_TEST

START_TEST(factors_errors)
{
    factors a = make_factors(4, 5, 3, 0, 1, 15);
    recint_model *m, *keep = (recint_model *)&a;
    RI_FAILS(RECINT_EINVAL, recint_model_new_factors(NULL, 4, 5, 3, a.U, a.V, a.b, NULL));
    RI_FAILS(RECINT_EINVAL, recint_model_new_factors(&keep, 4, 0, 3, a.U, a.V, a.b, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "n_items"));
    RI_FAILS(RECINT_EINVAL, recint_model_new_factors(&keep, 4, 5, 0, a.U, a.V, a.b, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "dim is 0"));
    RI_FAILS(RECINT_EINVAL, recint_model_new_factors(&keep, 4, 5, 3, NULL, a.V, a.b, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "user_factors is NULL"));
    RI_FAILS(RECINT_EINVAL, recint_model_new_factors(&keep, 4, 5, 3, a.U, NULL, a.b, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "item_factors is NULL"));
    float saved = a.V[2 * 3 + 1];
    a.V[2 * 3 + 1] = NAN;
    RI_FAILS(RECINT_EINVAL, recint_model_new_factors(&keep, 4, 5, 3, a.U, a.V, a.b, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "item_factors[2][1] is NaN"));
    a.V[2 * 3 + 1] = saved;
    a.U[3 * 3 + 2] = -INFINITY;
    RI_FAILS(RECINT_EINVAL, recint_model_new_factors(&keep, 4, 5, 3, a.U, a.V, a.b, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "user_factors[3][2] is -Inf"));
    a.U[3 * 3 + 2] = 0.25f;
    a.b[4] = INFINITY;
    RI_FAILS(RECINT_EINVAL, recint_model_new_factors(&keep, 4, 5, 3, a.U, a.V, a.b, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "item_bias[4]"));
    a.b[4] = 0.0f;
    ck_assert_ptr_eq(keep, (recint_model *)&a);

    /* an isa this CPU lacks is refused up front; a bad word is EINVAL */
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    if (ri_core_isa_detect() < RI_ISA_AVX512) {
        RI_OK(recint_config_set(cfg, "isa", "avx512"));
        RI_FAILS(RECINT_EUNSUPPORTED, recint_model_new_factors(&keep, 4, 5, 3, a.U, a.V, a.b, cfg));
    }
    RI_FAILS(RECINT_EINVAL, recint_config_set(cfg, "isa", "sse9"));
    recint_config_free(cfg);

    /* factors cannot be created empty nor trained */
    RI_FAILS(RECINT_EUNSUPPORTED, recint_model_new(&keep, "factors", NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "recint_model_new_factors"));
    RI_OK(recint_model_new_factors(&m, 4, 5, 3, a.U, a.V, a.b, NULL));
    recint_dataset *ds;
    static const int64_t du[] = {1, 2}, di[] = {3, 4};
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add(ds, 2, du, di, NULL, NULL));
    recint_trainer *t;
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_FAILS(RECINT_EUNSUPPORTED, recint_trainer_fit(t, ds, NULL, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "cannot be trained"));
    ck_assert_uint_eq(recint_model_n_users(m), 4); /* untouched */
    recint_trainer_free(t);
    recint_dataset_free(ds);

    /* serving call errors */
    uint32_t ids[8], n = 77, u = 0;
    float sc[8], vec[3] = {1, 2, 3};
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_vector(m, NULL, 3, NULL, NULL, 0, ids, sc, &n));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_vector(m, vec, 0, NULL, NULL, 0, ids, sc, &n));
    vec[1] = NAN;
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_vector(m, vec, 3, NULL, NULL, 0, ids, sc, &n));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "user_vector[1] is NaN"));
    vec[1] = INFINITY;
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_vector(m, vec, 3, NULL, NULL, 0, ids, sc, &n));
    vec[1] = 2;
    uint32_t bad_ex[2] = {3, 1}, far_ex[1] = {5};
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_vector(m, vec, 3, NULL, bad_ex, 2, ids, sc, &n));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "strictly ascending"));
    RI_FAILS(RECINT_ERANGE, recint_model_recommend_vector(m, vec, 3, NULL, far_ex, 1, ids, sc, &n));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_vector(m, vec, 3, NULL, NULL, 1, ids, sc, &n));
    RI_FAILS(RECINT_ERANGE, recint_model_similar_items(m, 5, 3, NULL, ids, sc, &n));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "item 5"));
    RI_FAILS(RECINT_EINVAL, recint_model_similar_items(m, 0, 0, NULL, ids, sc, &n));
    RI_FAILS(RECINT_EINVAL, recint_model_similar_items(m, 0, 3, NULL, NULL, sc, &n));
    recint_filter *f6;
    RI_OK(recint_filter_new(&f6, 6));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_filtered(m, 0, 3, f6, ids, sc, &n));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "filter covers 6 items"));
    RI_FAILS(RECINT_EINVAL, recint_model_similar_items(m, 0, 3, f6, ids, sc, &n));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_batch(m, &u, 1, 3, f6, NULL, ids, sc, &n));
    uint32_t far_user = 4;
    RI_FAILS(RECINT_ERANGE, recint_model_recommend_batch(m, &far_user, 1, 3, NULL, NULL, ids, sc, &n));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_batch(m, &u, 1, 0, NULL, NULL, ids, sc, &n));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_batch(m, &u, 1, 3, NULL, NULL, NULL, sc, &n));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_batch(m, &u, 1, 3, NULL, NULL, ids, sc, NULL));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend_batch(NULL, &u, 1, 3, NULL, NULL, ids, sc, &n));
    RI_OK(recint_model_recommend_batch(m, NULL, 0, 3, NULL, NULL, NULL, NULL, NULL));
    ck_assert_uint_eq(n, 77);
    recint_filter_free(f6);
    recint_model_free(m);

    /* an unfitted model */
    RI_OK(recint_model_new(&m, "pop", NULL));
    ck_assert_uint_eq(recint_model_dim(m), 0);
    ck_assert_uint_eq(recint_model_dim(NULL), 0);
    RI_FAILS(RECINT_ESTATE, recint_model_recommend_batch(m, &u, 1, 3, NULL, NULL, ids, sc, &n));
    RI_FAILS(RECINT_ESTATE, recint_model_similar_items(m, 0, 3, NULL, ids, sc, &n));
    RI_FAILS(RECINT_ESTATE, recint_model_recommend_vector(m, vec, 3, NULL, NULL, 0, ids, sc, &n));
    RI_FAILS(RECINT_ESTATE, recint_model_recommend_filtered(m, 0, 3, NULL, ids, sc, &n));
    recint_model_free(m);
    free_factors(&a);
}
END_TEST

/* ---- filters ------------------------------------------------------------------- */

START_TEST(filter_api)
{
    recint_filter *f, *keep = (recint_filter *)&f;
    RI_FAILS(RECINT_EINVAL, recint_filter_new(NULL, 5));
    RI_FAILS(RECINT_EINVAL, recint_filter_new(&keep, 0));
    ck_assert_ptr_eq(keep, (recint_filter *)&f);
    RI_OK(recint_filter_new(&f, 130));
    uint32_t ok[2] = {0, 129}, bad[3] = {1, 130, 2};
    RI_OK(recint_filter_allow(f, ok, 2));
    RI_FAILS(RECINT_ERANGE, recint_filter_allow(f, bad, 3));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "items[1] = 130"));
    /* nothing changed by the failed call */
    ck_assert(!(f->allow[0] & 2u));
    RI_FAILS(RECINT_ERANGE, recint_filter_block(f, bad, 3));
    ck_assert_ptr_null(f->block);
    RI_FAILS(RECINT_EINVAL, recint_filter_allow(f, NULL, 2));
    RI_FAILS(RECINT_EINVAL, recint_filter_block(NULL, ok, 2));
    RI_FAILS(RECINT_EINVAL, recint_filter_include_seen(NULL, 1));
    RI_OK(recint_filter_include_seen(f, 5));
    ck_assert_int_eq(f->include_seen, 1);
    recint_filter_clear(f);
    ck_assert_ptr_null(f->allow);
    ck_assert_int_eq(f->include_seen, 0);
    recint_filter_clear(NULL);
    recint_filter_free(f);
    recint_filter_free(NULL);
}
END_TEST

START_TEST(filters_match_reference)
{
    factors a = make_factors(20, 200, 6, 1, 1, 21);
    recint_model *m = model_of(&a, NULL);
    recint_filter *f;
    RI_OK(recint_filter_new(&f, 200));
    uint32_t allow[60], block[50];
    rng_state = 99;
    for (int j = 0; j < 60; j++)
        allow[j] = rnd() % 200; /* repeats are fine: the union counts */
    for (int j = 0; j < 50; j++)
        block[j] = rnd() % 200;
    uint32_t ids[256], n;
    float sc[256];
    for (int mode = 0; mode < 4; mode++) {
        recint_filter_clear(f);
        if (mode & 1)
            RI_OK(recint_filter_allow(f, allow, 60));
        if (mode & 2)
            RI_OK(recint_filter_block(f, block, 50));
        uint8_t *e = eligible_of(200, (mode & 1) ? allow : NULL, 60, block, (mode & 2) ? 50 : 0,
                                 NULL, 0);
        for (uint32_t u = 0; u < 20; u++) {
            double *ref = ref_scores(&a, a.U + (size_t)u * 6);
            for (uint32_t k = 1; k <= 250; k += 37) { /* up to k > eligible */
                RI_OK(recint_model_recommend_filtered(m, u, k, f, ids, sc, &n));
                expect_topk(ref, e, 200, k, ids, sc, n, 1);
            }
            free(ref);
        }
        free(e);
    }
    /* allow and block of the same items: nothing left */
    recint_filter_clear(f);
    RI_OK(recint_filter_allow(f, allow, 60));
    RI_OK(recint_filter_block(f, allow, 60));
    n = 99;
    RI_OK(recint_model_recommend_filtered(m, 0, 10, f, ids, sc, &n));
    ck_assert_uint_eq(n, 0);
    /* an allow call with no items allows nothing */
    recint_filter_clear(f);
    RI_OK(recint_filter_allow(f, NULL, 0));
    RI_OK(recint_model_recommend_filtered(m, 0, 10, f, ids, sc, &n));
    ck_assert_uint_eq(n, 0);
    /* everything blocked, through every call */
    uint32_t every[200];
    for (uint32_t i = 0; i < 200; i++)
        every[i] = i;
    recint_filter_clear(f);
    RI_OK(recint_filter_block(f, every, 200));
    RI_OK(recint_model_similar_items(m, 3, 10, f, ids, sc, &n));
    ck_assert_uint_eq(n, 0);
    RI_OK(recint_model_recommend_vector(m, a.U, 10, f, NULL, 0, ids, sc, &n));
    ck_assert_uint_eq(n, 0);
    uint32_t users[2] = {0, 1}, counts[2] = {7, 7};
    RI_OK(recint_model_recommend_batch(m, users, 2, 10, f, NULL, ids, sc, counts));
    ck_assert_uint_eq(counts[0], 0);
    ck_assert_uint_eq(counts[1], 0);
    recint_filter_free(f);
    recint_model_free(m);
    free_factors(&a);
}
END_TEST

/* include_seen needs training rows: a pop model.
 *   u0: items 0, 1   u1: items 0, 2   u2: items 0, 1, 3; popularity 3 2 1 1 0 */
START_TEST(filters_and_seen_items)
{
    static const int64_t u[] = {10, 10, 20, 20, 30, 30, 30};
    static const int64_t it[] = {100, 200, 100, 300, 100, 200, 400};
    static const int64_t extra = 500;
    recint_dataset *ds;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add(ds, 7, u, it, NULL, NULL));
    RI_OK(recint_dataset_reserve_ids(ds, 0, NULL, 1, &extra));
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "pop", NULL));
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    recint_filter *f;
    RI_OK(recint_filter_new(&f, 5));
    uint32_t ids[8], n;
    float sc[8];
    RI_OK(recint_model_recommend_filtered(m, 0, 10, NULL, ids, sc, &n));
    ck_assert_uint_eq(n, 3); /* 2, 3, 4 */
    ck_assert_uint_eq(ids[0], 2);
    RI_OK(recint_filter_include_seen(f, 1));
    RI_OK(recint_model_recommend_filtered(m, 0, 10, f, ids, sc, &n));
    ck_assert_uint_eq(n, 5);
    const uint32_t all_order[5] = {0, 1, 2, 3, 4};
    ck_assert_mem_eq(ids, all_order, sizeof all_order);
    ck_assert_float_eq(sc[0], 3.0f);
    uint32_t blk[1] = {0}, alw[3] = {1, 3, 4};
    RI_OK(recint_filter_block(f, blk, 1));
    RI_OK(recint_model_recommend_filtered(m, 2, 2, f, ids, sc, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(ids[0], 1);
    ck_assert_uint_eq(ids[1], 2);
    RI_OK(recint_filter_include_seen(f, 0));
    RI_OK(recint_filter_allow(f, alw, 3));
    RI_OK(recint_model_recommend_filtered(m, 2, 5, f, ids, sc, &n));
    ck_assert_uint_eq(n, 1); /* 1 and 3 seen by u2, 0 blocked, 2 not allowed */
    ck_assert_uint_eq(ids[0], 4);
    /* the batch path applies the same rules per user */
    uint32_t users[3] = {2, 0, 1}, counts[3], bids[3 * 4];
    float bsc[3 * 4];
    RI_OK(recint_model_recommend_batch(m, users, 3, 4, f, NULL, bids, bsc, counts));
    for (int r = 0; r < 3; r++) {
        RI_OK(recint_model_recommend_filtered(m, users[r], 4, f, ids, sc, &n));
        ck_assert_uint_eq(counts[r], n);
        ck_assert_mem_eq(bids + r * 4, ids, n * sizeof(uint32_t));
        ck_assert_mem_eq(bsc + r * 4, sc, n * sizeof(float));
    }
    recint_filter_free(f);
    recint_trainer_free(t);
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST

/* ---- batch, vector, similar ------------------------------------------------------ */

static void expect_batch_equals_single(const recint_model *m, const uint32_t *users, size_t nu,
                                       uint32_t k, const recint_filter *f, const char *threads,
                                       int with_scores)
{
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "threads", threads));
    uint32_t *ids = malloc(sizeof(uint32_t) * nu * k), *counts = malloc(sizeof(uint32_t) * nu);
    float *sc = with_scores ? malloc(sizeof(float) * nu * k) : NULL;
    RI_OK(recint_model_recommend_batch(m, users, nu, k, f, cfg, ids, sc, counts));
    uint32_t *one = malloc(sizeof(uint32_t) * k);
    float *one_sc = malloc(sizeof(float) * k);
    for (size_t r = 0; r < nu; r++) {
        uint32_t n;
        RI_OK(recint_model_recommend_filtered(m, users[r], k, f, one, one_sc, &n));
        ck_assert_uint_eq(counts[r], n);
        ck_assert_mem_eq(ids + r * k, one, n * sizeof(uint32_t));
        if (sc)
            ck_assert_mem_eq(sc + r * k, one_sc, n * sizeof(float));
    }
    free(one);
    free(one_sc);
    free(ids);
    free(sc);
    free(counts);
    recint_config_free(cfg);
}

START_TEST(batch_equals_recommend)
{
    factors a = make_factors(300, 2000, 16, 0, 1, 31);
    recint_model *m = model_of(&a, NULL);
    uint32_t users[300];
    for (uint32_t u = 0; u < 300; u++)
        users[u] = u; /* consecutive: served from the model's rows in place */
    expect_batch_equals_single(m, users, 300, 10, NULL, "1", 1);
    expect_batch_equals_single(m, users + 17, 200, 64, NULL, "2", 1);
    rng_state = 5;
    for (uint32_t u = 0; u < 300; u++)
        users[u] = rnd() % 300; /* any order, repeats */
    expect_batch_equals_single(m, users, 300, 33, NULL, "2", 0);
    recint_filter *f;
    RI_OK(recint_filter_new(&f, 2000));
    uint32_t blk[500];
    for (int j = 0; j < 500; j++)
        blk[j] = rnd() % 2000;
    RI_OK(recint_filter_block(f, blk, 500));
    expect_batch_equals_single(m, users, 100, 20, f, "2", 1);
    recint_filter_free(f);
    recint_model_free(m);
    free_factors(&a);

    /* k beyond the catalogue: rows keep the caller's stride */
    factors b = make_factors(5, 7, 3, 1, 0, 32);
    m = model_of(&b, NULL);
    uint32_t us[3] = {4, 0, 2};
    expect_batch_equals_single(m, us, 3, 12, NULL, "1", 1);
    expect_batch_equals_single(m, us, 3, 12, NULL, "1", 0);
    recint_model_free(m);
    free_factors(&b);
}
END_TEST

START_TEST(vector_equals_recommend)
{
    factors a = make_factors(25, 500, 12, 0, 1, 41);
    recint_model *m = model_of(&a, NULL);
    uint32_t ia[40], ib[40], na, nb;
    float sa[40], sb[40];
    for (uint32_t u = 0; u < 25; u++) {
        RI_OK(recint_model_recommend(m, u, 40, ia, sa, &na));
        RI_OK(recint_model_recommend_vector(m, a.U + (size_t)u * 12, 40, NULL, NULL, 0, ib, sb, &nb));
        ck_assert_uint_eq(na, nb);
        ck_assert_mem_eq(ia, ib, na * sizeof(uint32_t));
        ck_assert_mem_eq(sa, sb, na * sizeof(float));
    }
    /* exclusions: the listed items vanish, the rest keeps its order */
    uint32_t ex[3] = {ia[0], ia[5], ia[7]};
    for (int x = 0; x < 2; x++)
        for (int y = 0; y < 2 - x; y++)
            if (ex[y] > ex[y + 1]) {
                uint32_t tmp = ex[y];
                ex[y] = ex[y + 1];
                ex[y + 1] = tmp;
            }
    RI_OK(recint_model_recommend(m, 24, 40, ia, sa, &na));
    RI_OK(recint_model_recommend_vector(m, a.U + 24 * 12, 37, NULL, ex, 3, ib, sb, &nb));
    ck_assert_uint_eq(nb, 37);
    uint32_t r = 0;
    for (uint32_t j = 0; j < 40 && r < 37; j++) {
        if (ia[j] == ex[0] || ia[j] == ex[1] || ia[j] == ex[2])
            continue;
        ck_assert_uint_eq(ib[r], ia[j]);
        r++;
    }
    recint_model_free(m);
    free_factors(&a);
}
END_TEST

static double *ref_similar(const factors *f, uint32_t item, int cosine)
{
    double *s = malloc(sizeof(double) * f->n_items);
    const float *q = f->V + (size_t)item * f->dim;
    double nq = sqrt(dot_d(q, q, f->dim));
    for (uint32_t i = 0; i < f->n_items; i++) {
        const float *w = f->V + (size_t)i * f->dim;
        double d = dot_d(q, w, f->dim), nw = sqrt(dot_d(w, w, f->dim));
        s[i] = !cosine ? d : (nq > 0 && nw > 0) ? d / (nq * nw) : 0.0;
    }
    return s;
}

START_TEST(similar_items_match_reference)
{
    factors a = make_factors(3, 400, 10, 0, 1, 51);
    /* a zero item: cosine 0 with everything */
    memset(a.V + 17 * 10, 0, sizeof(float) * 10);
    static const char *const dot_cfg[] = {"similarity=dot", NULL};
    recint_model *mc = model_of(&a, NULL), *md = model_of(&a, dot_cfg);
    uint32_t ids[50], n;
    float sc[50];
    for (uint32_t item = 0; item < 400; item += 13) {
        for (int cosine = 0; cosine < 2; cosine++) {
            RI_OK(recint_model_similar_items(cosine ? mc : md, item, 50, NULL, ids, sc, &n));
            double *ref = ref_similar(&a, item, cosine);
            uint8_t *e = eligible_of(400, NULL, 0, NULL, 0, &item, 1);
            expect_topk(ref, e, 400, 50, ids, sc, n, 0);
            free(e);
            free(ref);
        }
    }
    /* the zero item: all scores 0, smallest eligible indices first */
    RI_OK(recint_model_similar_items(mc, 17, 5, NULL, ids, sc, &n));
    ck_assert_uint_eq(n, 5);
    for (uint32_t r = 0; r < 5; r++) {
        ck_assert_uint_eq(ids[r], r);
        ck_assert_float_eq(sc[r], 0.0f);
    }
    /* a filter applies, its seen-item rule does not */
    recint_filter *f;
    RI_OK(recint_filter_new(&f, 400));
    uint32_t blk[2];
    RI_OK(recint_model_similar_items(mc, 3, 2, NULL, blk, sc, &n));
    RI_OK(recint_filter_block(f, blk, 1));
    RI_OK(recint_model_similar_items(mc, 3, 1, f, ids, sc, &n));
    ck_assert_uint_eq(ids[0], blk[1]);
    recint_filter_free(f);
    recint_model_free(mc);
    recint_model_free(md);
    free_factors(&a);
}
END_TEST

/* ---- instruction sets and int8 --------------------------------------------------- */

START_TEST(isa_levels_give_identical_results)
{
    factors a = make_factors(20, 3001, 24, 0, 1, 61);
    static const char *const scalar_cfg[] = {"isa=scalar", NULL};
    recint_model *ref = model_of(&a, scalar_cfg);
    static const char *const names[3] = {"isa=scalar", "isa=avx2", "isa=avx512"};
    ri_isa best = ri_core_isa_detect();
    float *s_ref = malloc(sizeof(float) * 3001), *s = malloc(sizeof(float) * 3001);
    for (int level = 0; level <= 3; level++) {
        if (level < 3 && level > (int)best)
            continue;
        const char *const cfg[] = {level < 3 ? names[level] : "isa=auto", NULL};
        recint_model *m = model_of(&a, cfg);
        for (uint32_t u = 0; u < 20; u++) {
            uint32_t ia[100], ib[100], na, nb;
            float sa[100], sb[100];
            RI_OK(recint_model_recommend(ref, u, 100, ia, sa, &na));
            RI_OK(recint_model_recommend(m, u, 100, ib, sb, &nb));
            ck_assert_uint_eq(na, nb);
            ck_assert_mem_eq(ia, ib, na * sizeof(uint32_t));
            ck_assert_mem_eq(sa, sb, na * sizeof(float));
            RI_OK(recint_model_score(ref, &u, 1, NULL, 0, s_ref));
            RI_OK(recint_model_score(m, &u, 1, NULL, 0, s));
            ck_assert_mem_eq(s_ref, s, sizeof(float) * 3001);
            RI_OK(recint_model_similar_items(ref, u * 7, 30, NULL, ia, sa, &na));
            RI_OK(recint_model_similar_items(m, u * 7, 30, NULL, ib, sb, &nb));
            ck_assert_mem_eq(ia, ib, na * sizeof(uint32_t));
            ck_assert_mem_eq(sa, sb, na * sizeof(float));
        }
        recint_model_free(m);
    }
    free(s_ref);
    free(s);
    recint_model_free(ref);
    free_factors(&a);
}
END_TEST

/* Items around 64 cluster centres, users near a centre: the int8 pass must keep
 * the exact top-10 in its shortlist. */
static factors clustered(uint32_t nu, uint32_t ni, uint32_t dim, uint64_t seed)
{
    enum { C = 64 };
    factors f = make_factors(nu, ni, dim, 0, 1, seed);
    float *centre = malloc(sizeof(float) * C * dim);
    for (size_t j = 0; j < (size_t)C * dim; j++)
        centre[j] = rnd_unit();
    for (uint32_t i = 0; i < ni; i++)
        for (uint32_t j = 0; j < dim; j++)
            f.V[(size_t)i * dim + j] = centre[(i % C) * dim + j] + 0.3f * rnd_unit();
    for (uint32_t u = 0; u < nu; u++)
        for (uint32_t j = 0; j < dim; j++)
            f.U[(size_t)u * dim + j] = centre[(rnd() % C) * dim + j] + 0.3f * rnd_unit();
    free(centre);
    return f;
}

START_TEST(int8_top10_matches_exact)
{
    factors a = clustered(400, 20000, 32, 71);
    static const char *const q_cfg[] = {"quantize=int8", NULL};
    recint_model *exact = model_of(&a, NULL), *q = model_of(&a, q_cfg);
    ck_assert(ri_core_items_has_int8(q->serve.items));
    ck_assert(!ri_core_items_has_int8(exact->serve.items));
    uint64_t hits = 0, same_lists = 0;
    for (uint32_t u = 0; u < 400; u++) {
        uint32_t ie[10], iq[10], ne, nq;
        float se[10], sq[10], sx[10];
        RI_OK(recint_model_recommend(exact, u, 10, ie, se, &ne));
        RI_OK(recint_model_recommend(q, u, 10, iq, sq, &nq));
        ck_assert_uint_eq(nq, 10);
        for (int r = 0; r < 10; r++)
            for (int s = 0; s < 10; s++)
                hits += iq[r] == ie[s];
        same_lists += memcmp(ie, iq, sizeof ie) == 0;
        /* returned scores are the exact fp32 scores */
        RI_OK(recint_model_score(exact, &u, 1, iq, 10, sx));
        ck_assert_mem_eq(sx, sq, sizeof sq);
    }
    double recall = (double)hits / (400.0 * 10.0);
    fprintf(stderr, "int8: top-10 recall %.5f, identical lists %llu / 400\n", recall,
            (unsigned long long)same_lists);
    ck_assert_msg(recall >= 0.999, "int8 top-10 recall %.5f < 0.999", recall);
    recint_model_free(exact);
    recint_model_free(q);
    free_factors(&a);
}
END_TEST

/* ---- files ----------------------------------------------------------------------- */

static void *read_file(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    void *buf = ri_aligned_alloc((size_t)n, 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *size = (size_t)n;
    return buf;
}

static void expect_same_serving(const recint_model *a, const recint_model *b)
{
    uint32_t ni = recint_model_n_items(a), nu = recint_model_n_users(a);
    ck_assert_uint_eq(recint_model_n_items(b), ni);
    ck_assert_uint_eq(recint_model_n_users(b), nu);
    ck_assert_uint_eq(recint_model_dim(b), recint_model_dim(a));
    ck_assert_str_eq(recint_model_kind(a), recint_model_kind(b));
    uint32_t ia[32], ib[32], na, nb;
    float sa[32], sb[32];
    for (uint32_t u = 0; u < nu; u++) {
        RI_OK(recint_model_recommend(a, u, 32, ia, sa, &na));
        RI_OK(recint_model_recommend(b, u, 32, ib, sb, &nb));
        ck_assert_uint_eq(na, nb);
        ck_assert_mem_eq(ia, ib, na * sizeof(uint32_t));
        ck_assert_mem_eq(sa, sb, na * sizeof(float));
    }
    for (uint32_t i = 0; i < ni; i += 97) {
        RI_OK(recint_model_similar_items(a, i, 32, NULL, ia, sa, &na));
        RI_OK(recint_model_similar_items(b, i, 32, NULL, ib, sb, &nb));
        ck_assert_uint_eq(na, nb);
        ck_assert_mem_eq(ia, ib, na * sizeof(uint32_t));
        ck_assert_mem_eq(sa, sb, na * sizeof(float));
    }
}

static const char *const all_tags[] = {"META",    "USERIDS", "USEROFF", "USERSTR", "ITEMIDS",
                                       "ITEMOFF", "ITEMSTR", "SEENPTR", "SEENIDX", "FACDIM",
                                       "FACUSER", "FACITEM", "FACBIAS", "Q8CODES", "Q8SCALE"};

/* Rewrite a model file without section `drop`, or with `patch` (patch_size
 * bytes) in place of section `replace`, then load it. */
static int load_rewritten(const void *file, size_t size, const char *drop, const char *replace,
                          const void *patch, uint64_t patch_size, recint_model **out)
{
    ri_fmt_reader r;
    RI_OK(ri_fmt_open(&r, file, size, "t"));
    ri_fmt_writer w;
    ri_fmt_writer_init(&w);
    for (size_t j = 0; j < sizeof all_tags / sizeof all_tags[0]; j++) {
        ri_fmt_section s;
        if (ri_fmt_find(&r, all_tags[j], &s) != RECINT_OK)
            continue;
        if (drop && strcmp(drop, all_tags[j]) == 0)
            continue;
        if (replace && strcmp(replace, all_tags[j]) == 0)
            RI_OK(ri_fmt_add(&w, s.tag, (ri_fmt_type)s.type, patch, patch_size));
        else
            RI_OK(ri_fmt_add(&w, s.tag, (ri_fmt_type)s.type, s.data, s.size));
    }
    void *buf;
    size_t n;
    RI_OK(ri_fmt_write_buffer(&w, &buf, &n));
    ri_fmt_writer_free(&w);
    int rc = recint_model_load_buffer(out, buf, n);
    ri_aligned_free(buf);
    return rc;
}

static int has_section(const void *file, size_t size, const char *tag)
{
    ri_fmt_reader r;
    ri_fmt_section s;
    RI_OK(ri_fmt_open(&r, file, size, "t"));
    return ri_fmt_find(&r, tag, &s) == RECINT_OK;
}

START_TEST(save_load_with_and_without_int8)
{
    factors a = clustered(50, 3000, 16, 81);
    static const char *const q_cfg[] = {"quantize=int8", "similarity=dot", NULL};
    recint_model *plain = model_of(&a, NULL), *q = model_of(&a, q_cfg), *back;
    char path[512];
    size_t size;
    ri_test_tmp("factors.bin", path, sizeof path);

    RI_OK(recint_model_save(plain, path));
    void *file = read_file(path, &size);
    ck_assert(has_section(file, size, "FACITEM"));
    ck_assert(!has_section(file, size, "Q8CODES"));
    RI_OK(recint_model_load(&back, path));
    ck_assert(!ri_core_items_has_int8(back->serve.items));
    expect_same_serving(plain, back);
    recint_model_free(back);
    ri_aligned_free(file);

    RI_OK(recint_model_save(q, path));
    file = read_file(path, &size);
    ck_assert(has_section(file, size, "Q8CODES"));
    ck_assert(has_section(file, size, "Q8SCALE"));
    RI_OK(recint_model_load(&back, path));
    ck_assert(ri_core_items_has_int8(back->serve.items));
    expect_same_serving(q, back);
    /* the stored copy is the one the model built */
    const int8_t *c1, *c2;
    const float *s1, *s2;
    RI_OK(ri_core_items_int8_view(q->serve.items, &c1, &s1));
    RI_OK(ri_core_items_int8_view(back->serve.items, &c2, &s2));
    ck_assert_mem_eq(c1, c2, 3000 * 16);
    ck_assert_mem_eq(s1, s2, 3000 * sizeof(float));
    recint_model_free(back);

    /* without both int8 sections the model serves fp32 only (config says int8) */
    back = NULL;
    ck_assert_int_eq(load_rewritten(file, size, "Q8CODES", NULL, NULL, 0, &back), RECINT_EFORMAT);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "Q8SCALE without section Q8CODES"));
    ri_fmt_reader r;
    ri_fmt_section codes, scales;
    RI_OK(ri_fmt_open(&r, file, size, "t"));
    RI_OK(ri_fmt_find(&r, "Q8CODES", &codes));
    RI_OK(ri_fmt_find(&r, "Q8SCALE", &scales));
    {
        /* drop both: write a file without them */
        ri_fmt_writer w;
        ri_fmt_writer_init(&w);
        for (size_t j = 0; j < sizeof all_tags / sizeof all_tags[0]; j++) {
            ri_fmt_section s;
            if (ri_fmt_find(&r, all_tags[j], &s) == RECINT_OK && all_tags[j][0] != 'Q')
                RI_OK(ri_fmt_add(&w, s.tag, (ri_fmt_type)s.type, s.data, s.size));
        }
        void *buf;
        size_t n;
        RI_OK(ri_fmt_write_buffer(&w, &buf, &n));
        ri_fmt_writer_free(&w);
        RI_OK(recint_model_load_buffer(&back, buf, n));
        ri_aligned_free(buf);
        ck_assert(!ri_core_items_has_int8(back->serve.items));
        static const char *const dot_cfg[] = {"similarity=dot", NULL};
        recint_model *dot_plain = model_of(&a, dot_cfg);
        expect_same_serving(dot_plain, back);
        recint_model_free(dot_plain);
        recint_model_free(back);
    }
    /* damaged int8 sections: wrong size, bad scales */
    back = NULL;
    ck_assert_int_eq(load_rewritten(file, size, NULL, "Q8CODES", codes.data, codes.size - 16, &back),
                     RECINT_EFORMAT);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "Q8CODES"));
    float *bad = malloc(scales.size);
    memcpy(bad, scales.data, scales.size);
    bad[123] = -1.0f;
    ck_assert_int_eq(load_rewritten(file, size, NULL, "Q8SCALE", bad, scales.size, &back),
                     RECINT_EFORMAT);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "Q8SCALE"));
    bad[123] = NAN;
    ck_assert_int_eq(load_rewritten(file, size, NULL, "Q8SCALE", bad, scales.size, &back),
                     RECINT_EFORMAT);
    free(bad);
    /* damaged factors sections */
    ri_fmt_section items, dim;
    RI_OK(ri_fmt_find(&r, "FACITEM", &items));
    RI_OK(ri_fmt_find(&r, "FACDIM", &dim));
    float *vbad = malloc(items.size);
    memcpy(vbad, items.data, items.size);
    vbad[5 * 16 + 3] = INFINITY;
    ck_assert_int_eq(load_rewritten(file, size, NULL, "FACITEM", vbad, items.size, &back),
                     RECINT_EFORMAT);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "FACITEM: value [5][3] is not finite"));
    free(vbad);
    uint32_t dim17 = 17;
    ck_assert_int_eq(load_rewritten(file, size, NULL, "FACDIM", &dim17, 4, &back), RECINT_EFORMAT);
    ck_assert_int_eq(load_rewritten(file, size, "FACITEM", NULL, NULL, 0, &back), RECINT_EFORMAT);
    ck_assert_ptr_null(back);
    ri_aligned_free(file);
    remove(path);

    /* a factors model without users round-trips */
    recint_model *nousers;
    RI_OK(recint_model_new_factors(&nousers, 0, 3000, 16, NULL, a.V, NULL, NULL));
    RI_OK(recint_model_save(nousers, path));
    RI_OK(recint_model_load(&back, path));
    ck_assert_uint_eq(recint_model_n_users(back), 0);
    expect_same_serving(nousers, back);
    recint_model_free(back);
    recint_model_free(nousers);
    remove(path);

    recint_model_free(plain);
    recint_model_free(q);
    free_factors(&a);
}
END_TEST

/* ---- concurrency ----------------------------------------------------------------- */

enum { TU = 48, TK = 20 };

typedef struct {
    const recint_model *m;
    const recint_filter *f;
    uint32_t rec[TU][TK], filt[TU][TK], sim[TU][TK], batch[TU * TK];
    float rec_s[TU][TK], filt_s[TU][TK], sim_s[TU][TK], batch_s[TU * TK];
    uint32_t n_rec[TU], n_filt[TU], n_sim[TU], counts[TU];
    int rc;
} serve_job;

static void *serve_all(void *arg)
{
    serve_job *j = arg;
    recint_config *cfg = NULL;
    j->rc = recint_config_new(&cfg);
    if (j->rc == RECINT_OK)
        j->rc = recint_config_set(cfg, "threads", "2");
    uint32_t users[TU];
    for (uint32_t u = 0; u < TU; u++)
        users[u] = (u * 7) % TU;
    for (uint32_t u = 0; u < TU && j->rc == RECINT_OK; u++) {
        j->rc = recint_model_recommend(j->m, u, TK, j->rec[u], j->rec_s[u], &j->n_rec[u]);
        if (j->rc == RECINT_OK)
            j->rc = recint_model_recommend_filtered(j->m, u, TK, j->f, j->filt[u], j->filt_s[u],
                                                    &j->n_filt[u]);
        if (j->rc == RECINT_OK)
            j->rc = recint_model_similar_items(j->m, u * 11, TK, j->f, j->sim[u], j->sim_s[u],
                                               &j->n_sim[u]);
    }
    if (j->rc == RECINT_OK)
        j->rc = recint_model_recommend_batch(j->m, users, TU, TK, j->f, cfg, j->batch, j->batch_s,
                                             j->counts);
    recint_config_free(cfg);
    return NULL;
}

static void concurrent_case(const recint_model *m, const recint_filter *f)
{
    static serve_job serial, par[2];
    memset(&serial, 0, sizeof serial);
    memset(par, 0, sizeof par);
    serial.m = par[0].m = par[1].m = m;
    serial.f = par[0].f = par[1].f = f;
    serve_all(&serial);
    RI_OK(serial.rc);
    pthread_t th[2];
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(pthread_create(&th[k], NULL, serve_all, &par[k]), 0);
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    for (int k = 0; k < 2; k++) {
        RI_OK(par[k].rc);
        /* the whole result block (ids, scores, counts) equals the serial one */
        ck_assert_mem_eq(par[k].n_rec, serial.n_rec, sizeof serial.n_rec);
        ck_assert_mem_eq(par[k].rec, serial.rec, sizeof serial.rec);
        ck_assert_mem_eq(par[k].rec_s, serial.rec_s, sizeof serial.rec_s);
        ck_assert_mem_eq(par[k].filt, serial.filt, sizeof serial.filt);
        ck_assert_mem_eq(par[k].filt_s, serial.filt_s, sizeof serial.filt_s);
        ck_assert_mem_eq(par[k].sim, serial.sim, sizeof serial.sim);
        ck_assert_mem_eq(par[k].sim_s, serial.sim_s, sizeof serial.sim_s);
        ck_assert_mem_eq(par[k].counts, serial.counts, sizeof serial.counts);
        ck_assert_mem_eq(par[k].batch, serial.batch, sizeof serial.batch);
        ck_assert_mem_eq(par[k].batch_s, serial.batch_s, sizeof serial.batch_s);
    }
    /* and the serial answers are the right ones: batch rows equal recommend_filtered */
    for (uint32_t r = 0; r < TU; r++) {
        uint32_t u = (r * 7) % TU;
        ck_assert_uint_eq(serial.counts[r], serial.n_filt[u]);
        ck_assert_mem_eq(serial.batch + r * TK, serial.filt[u], serial.n_filt[u] * 4);
        ck_assert_uint_eq(serial.n_rec[u], TK);
    }
}

START_TEST(concurrent_calls_match_serial)
{
    factors a = make_factors(TU, 3000, 16, 0, 1, 91);
    static const char *const q_cfg[] = {"quantize=int8", NULL};
    recint_model *m = model_of(&a, NULL), *q = model_of(&a, q_cfg);
    recint_filter *f;
    RI_OK(recint_filter_new(&f, 3000));
    uint32_t blk[300];
    rng_state = 3;
    for (int j = 0; j < 300; j++)
        blk[j] = rnd() % 3000;
    RI_OK(recint_filter_block(f, blk, 300));
    concurrent_case(m, f);
    concurrent_case(q, f);
    recint_filter_free(f);
    recint_model_free(m);
    recint_model_free(q);
    free_factors(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("serving");
    TCase *tc = tcase_create("serving");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, factors_recommend_matches_reference);
    tcase_add_test(tc, factors_edge_shapes);
    tcase_add_test(tc, factors_errors);
    tcase_add_test(tc, filter_api);
    tcase_add_test(tc, filters_match_reference);
    tcase_add_test(tc, filters_and_seen_items);
    tcase_add_test(tc, batch_equals_recommend);
    tcase_add_test(tc, vector_equals_recommend);
    tcase_add_test(tc, similar_items_match_reference);
    tcase_add_test(tc, isa_levels_give_identical_results);
    tcase_add_test(tc, int8_top10_matches_exact);
    tcase_add_test(tc, save_load_with_and_without_int8);
    tcase_add_test(tc, concurrent_calls_match_serial);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
