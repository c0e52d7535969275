/* recint_evaluate / recint_evaluate_next on cases worked out by hand (popularity
 * model, so every score is a count of train rows), thread-count independence,
 * validation, and the P1 popularity bar of PROTOCOLS.md on MovieLens 100K. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define EPS 1e-12

typedef struct {
    int64_t u, i;
} pair;

/* Dataset whose user ids 0..n_users-1 and item ids 0..n_items-1 are indices
 * 0..n-1 (reserved up front), holding the given rows. */
static recint_dataset *make_ds(uint32_t n_users, uint32_t n_items, const pair *rows, size_t n)
{
    recint_dataset *ds = NULL;
    int64_t *uid = malloc(n_users * sizeof *uid), *iid = malloc(n_items * sizeof *iid);
    int64_t *us = malloc((n ? n : 1) * sizeof *us), *is = malloc((n ? n : 1) * sizeof *is);
    ck_assert(uid && iid && us && is);
    for (uint32_t j = 0; j < n_users; j++)
        uid[j] = j;
    for (uint32_t j = 0; j < n_items; j++)
        iid[j] = j;
    for (size_t j = 0; j < n; j++) {
        us[j] = rows[j].u;
        is[j] = rows[j].i;
    }
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_reserve_ids(ds, n_users, uid, n_items, iid));
    if (n)
        RI_OK(recint_dataset_add(ds, n, us, is, NULL, NULL));
    ck_assert_uint_eq(recint_dataset_n_users(ds), n_users);
    ck_assert_uint_eq(recint_dataset_n_items(ds), n_items);
    free(uid);
    free(iid);
    free(us);
    free(is);
    return ds;
}

static recint_model *fit_pop(const recint_dataset *train)
{
    recint_model *m = NULL;
    recint_trainer *t = NULL;
    RI_OK(recint_model_new(&m, "pop", NULL));
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_OK(recint_trainer_fit(t, train, NULL, NULL, NULL));
    recint_trainer_free(t);
    return m;
}

static recint_config *cfg_with(const char *a, const char *b, const char *c)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    if (a)
        RI_OK(recint_config_set_pair(cfg, a));
    if (b)
        RI_OK(recint_config_set_pair(cfg, b));
    if (c)
        RI_OK(recint_config_set_pair(cfg, c));
    return cfg;
}

#define ASSERT_NEAR(x, want)                                                              \
    ck_assert_msg(fabs((x) - (want)) < EPS, "%s = %.15g, want %.15g", #x, (double)(x),   \
                  (double)(want))

/* ------------------------------------------------------------------------ */
/* Ranking metrics                                                          */
/* ------------------------------------------------------------------------ */

/* 5 users, 6 items.
 *   train: u0 {0}, u1 {0,1}, u2 {0,1,2}, u3 {3}; u4 nothing
 *   test:  u0 {1,3}, u1 {3}, u2 {0,5} (0 is also a train item of u2)
 * Popularity (train rows per item): [3, 2, 1, 1, 0, 0]. */
static const pair rank_train[] = {{0, 0}, {1, 0}, {1, 1}, {2, 0}, {2, 1}, {2, 2}, {3, 3}};
static const pair rank_test[] = {{0, 1}, {0, 3}, {1, 3}, {2, 0}, {2, 5}};

typedef struct {
    recint_dataset *train, *test;
    recint_model *m;
} fixture;

static fixture rank_fixture(void)
{
    fixture f;
    f.train = make_ds(5, 6, rank_train, sizeof rank_train / sizeof *rank_train);
    f.test = make_ds(5, 6, rank_test, sizeof rank_test / sizeof *rank_test);
    f.m = fit_pop(f.train);
    return f;
}

static void fixture_free(fixture *f)
{
    recint_model_free(f->m);
    recint_dataset_free(f->train);
    recint_dataset_free(f->test);
}

/* k = 2. Candidates are the non-train items, by score then index:
 *   u0: 1(2) 2(1) 3(1) 4(0) 5(0)  top [1,2]: hit at rank 1
 *       P 1/2, R 1/2, DCG 1, IDCG 1 + 1/log2 3, AP (P@1 = 1) / min(2,2) = 1/2, HR 1
 *       AUC: positives 1(2), 3(1); negatives 2(1) 4(0) 5(0):
 *            item 1 wins 3, item 3 wins 2 + tie 1/2 -> 5.5 / 6
 *   u1: 2(1) 3(1) 4(0) 5(0)       top [2,3]: hit at rank 2
 *       P 1/2, R 1/1, DCG 1/log2 3, IDCG 1, AP (P@2 = 1/2) / 1, HR 1
 *       AUC: positive 3(1); negatives 2(1) 4 5 -> (1/2 + 1 + 1) / 3
 *   u2: 3(1) 4(0) 5(0)            top [3,4]: no hit (0 is a train item: unrankable,
 *       but it counts in |test| = 2) -> P 0, R 0, NDCG 0, AP 0, HR 0
 *       AUC: positives 0 (unrankable, wins nothing) and 5(0); negatives 3(1) 4(0):
 *            item 5 loses to 3, ties 4 -> 0.5 / (2 * 2)
 *   u3, u4: no test rows, not evaluated.
 * Coverage: {1,2} U {2,3} U {3,4} = 4 of 6 items. */
START_TEST(ranking_by_hand_k2)
{
    fixture f = rank_fixture();
    double out[RECINT_METRIC_COUNT];
    RI_OK(recint_evaluate(f.m, f.train, f.test, 2, NULL, out, RECINT_METRIC_COUNT));
    double l3 = log2(3.0);
    ASSERT_NEAR(out[RECINT_METRIC_PRECISION], (0.5 + 0.5 + 0.0) / 3);
    ASSERT_NEAR(out[RECINT_METRIC_RECALL], (0.5 + 1.0 + 0.0) / 3);
    ASSERT_NEAR(out[RECINT_METRIC_NDCG], (1.0 / (1.0 + 1.0 / l3) + 1.0 / l3 + 0.0) / 3);
    ASSERT_NEAR(out[RECINT_METRIC_MAP], (0.5 + 0.5 + 0.0) / 3);
    ASSERT_NEAR(out[RECINT_METRIC_HIT_RATE], 2.0 / 3);
    ASSERT_NEAR(out[RECINT_METRIC_AUC], (5.5 / 6 + 2.5 / 3 + 0.5 / 4) / 3);
    ASSERT_NEAR(out[RECINT_METRIC_COVERAGE], 4.0 / 6);
    ASSERT_NEAR(out[RECINT_METRIC_USERS], 3.0);
    for (int i = RECINT_METRIC_FULL_HR; i <= RECINT_METRIC_SAMPLED_NDCG; i++)
        ck_assert_msg(isnan(out[i]), "%s should be NaN", recint_metric_name(i));
    fixture_free(&f);
}
END_TEST

/* k = 10 is more than the 6 items: P divides by 10 still.
 *   u0 ranks 1 2 3 4 5: hits at 1 and 3 -> P 2/10, R 1, DCG 1 + 1/2, IDCG 1 + 1/log2 3,
 *      AP (1/1 + 2/3) / 2
 *   u1 ranks 2 3 4 5: hit at 2 -> P 1/10, R 1, NDCG 1/log2 3, AP (1/2) / 1
 *   u2 ranks 3 4 5: hit at 3 -> P 1/10, R 1/2, DCG 1/2, IDCG 1 + 1/log2 3, AP (1/3) / 2
 * Coverage: u0 alone ranks items 1..5 -> 5/6. AUC does not depend on k. */
START_TEST(ranking_by_hand_k10)
{
    fixture f = rank_fixture();
    double out[RECINT_METRIC_COUNT];
    RI_OK(recint_evaluate(f.m, f.train, f.test, 10, NULL, out, RECINT_METRIC_COUNT));
    double l3 = log2(3.0), idcg2 = 1.0 + 1.0 / l3;
    ASSERT_NEAR(out[RECINT_METRIC_PRECISION], (0.2 + 0.1 + 0.1) / 3);
    ASSERT_NEAR(out[RECINT_METRIC_RECALL], (1.0 + 1.0 + 0.5) / 3);
    ASSERT_NEAR(out[RECINT_METRIC_NDCG], (1.5 / idcg2 + 1.0 / l3 + 0.5 / idcg2) / 3);
    ASSERT_NEAR(out[RECINT_METRIC_MAP], ((1.0 + 2.0 / 3) / 2 + 0.5 + (1.0 / 3) / 2) / 3);
    ASSERT_NEAR(out[RECINT_METRIC_HIT_RATE], 1.0);
    ASSERT_NEAR(out[RECINT_METRIC_AUC], (5.5 / 6 + 2.5 / 3 + 0.5 / 4) / 3);
    ASSERT_NEAR(out[RECINT_METRIC_COVERAGE], 5.0 / 6);
    ASSERT_NEAR(out[RECINT_METRIC_USERS], 3.0);
    fixture_free(&f);
}
END_TEST

/* 2 users, 3 items; train u0 {0}, u1 {0}; test u0 {1,2}, u1 {1}.
 * Popularity [2, 0, 0]: items 1 and 2 tie, so the smaller index ranks first.
 *   k = 1: both users get [1] -> P@1 = 1 for both; u1: R 1, u0: R 1/2.
 *   AUC: u0 has no negative (train + test cover every item) -> skipped for AUC
 *   only; u1: positive 1(0) vs negative 2(0) is a tie -> 1/2. */
START_TEST(auc_ties_and_skipped_users)
{
    const pair tr[] = {{0, 0}, {1, 0}}, te[] = {{0, 1}, {0, 2}, {1, 1}};
    recint_dataset *train = make_ds(2, 3, tr, 2), *test = make_ds(2, 3, te, 3);
    recint_model *m = fit_pop(train);
    double out[RECINT_METRIC_COUNT];
    RI_OK(recint_evaluate(m, train, test, 1, NULL, out, RECINT_METRIC_COUNT));
    ASSERT_NEAR(out[RECINT_METRIC_PRECISION], 1.0);
    ASSERT_NEAR(out[RECINT_METRIC_RECALL], (0.5 + 1.0) / 2);
    ASSERT_NEAR(out[RECINT_METRIC_NDCG], 1.0);
    ASSERT_NEAR(out[RECINT_METRIC_MAP], 1.0);
    ASSERT_NEAR(out[RECINT_METRIC_AUC], 0.5);
    ASSERT_NEAR(out[RECINT_METRIC_COVERAGE], 1.0 / 3);
    ASSERT_NEAR(out[RECINT_METRIC_USERS], 2.0);

    /* With only u0 left no user has a negative: AUC is NaN, the rest is not. */
    const pair te0[] = {{0, 1}, {0, 2}};
    recint_dataset *test0 = make_ds(2, 3, te0, 2);
    RI_OK(recint_evaluate(m, train, test0, 1, NULL, out, RECINT_METRIC_COUNT));
    ck_assert(isnan(out[RECINT_METRIC_AUC]));
    ASSERT_NEAR(out[RECINT_METRIC_PRECISION], 1.0);
    ASSERT_NEAR(out[RECINT_METRIC_USERS], 1.0);
    recint_dataset_free(test0);
    recint_model_free(m);
    recint_dataset_free(train);
    recint_dataset_free(test);
}
END_TEST

/* An empty test set evaluates nobody: USERS 0, averages NaN, coverage 0. */
START_TEST(no_test_rows)
{
    fixture f = rank_fixture();
    recint_dataset *empty = make_ds(5, 6, NULL, 0);
    double out[RECINT_METRIC_COUNT];
    RI_OK(recint_evaluate(f.m, f.train, empty, 3, NULL, out, RECINT_METRIC_COUNT));
    ASSERT_NEAR(out[RECINT_METRIC_USERS], 0.0);
    ASSERT_NEAR(out[RECINT_METRIC_COVERAGE], 0.0);
    ck_assert(isnan(out[RECINT_METRIC_PRECISION]) && isnan(out[RECINT_METRIC_AUC]));
    RI_OK(recint_evaluate_next(f.m, f.train, empty, 3, NULL, out, RECINT_METRIC_COUNT));
    ASSERT_NEAR(out[RECINT_METRIC_USERS], 0.0);
    ck_assert(isnan(out[RECINT_METRIC_FULL_HR]) && isnan(out[RECINT_METRIC_SAMPLED_NDCG]));
    recint_dataset_free(empty);
    fixture_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Next-item metrics                                                        */
/* ------------------------------------------------------------------------ */

/* 5 users, 5 items.
 *   history: u0 {0,1}, u1 {0}, u2 {0,2}, u3 {0}, u4 {1}
 *   targets: u0 2, u1 1, u3 4, u4 1 (inside u4's history)
 * Popularity of the history: [4, 2, 1, 0, 0].
 *   u0: target 2(1) vs 3(0) 4(0): rank 0 (full and every sample)
 *   u1: target 1(2) vs 2(1) 3(0) 4(0): rank 0 (full and every sample)
 *   u3: target 4(0) vs 1(2) 2(1) 3(0, smaller index wins the tie): all rank
 *       before it, so full rank 3 and every sample ranks before: sampled rank =
 *       eval_samples
 *   u4: target in the history: cannot be ranked, a miss in both families.
 * k = 3, eval_samples = 2: full HR 2/4, NDCG 2/4; sampled: u3 rank 2 < 3, so
 * HR 3/4, NDCG (1 + 1 + 1/log2 4) / 4. */
static const pair next_hist[] = {{0, 0}, {0, 1}, {1, 0}, {2, 0}, {2, 2}, {3, 0}, {4, 1}};
static const pair next_test[] = {{0, 2}, {1, 1}, {3, 4}, {4, 1}};

START_TEST(next_item_by_hand)
{
    recint_dataset *hist = make_ds(5, 5, next_hist, sizeof next_hist / sizeof *next_hist);
    recint_dataset *test = make_ds(5, 5, next_test, sizeof next_test / sizeof *next_test);
    recint_model *m = fit_pop(hist);
    recint_config *cfg = cfg_with("eval_samples=2", NULL, NULL);
    double out[RECINT_METRIC_COUNT];

    RI_OK(recint_evaluate_next(m, hist, test, 3, cfg, out, RECINT_METRIC_COUNT));
    ASSERT_NEAR(out[RECINT_METRIC_FULL_HR], 0.5);
    ASSERT_NEAR(out[RECINT_METRIC_FULL_NDCG], 0.5);
    ASSERT_NEAR(out[RECINT_METRIC_SAMPLED_HR], 0.75);
    ASSERT_NEAR(out[RECINT_METRIC_SAMPLED_NDCG], 2.5 / 4);
    ASSERT_NEAR(out[RECINT_METRIC_USERS], 4.0);
    for (int i = RECINT_METRIC_PRECISION; i <= RECINT_METRIC_COVERAGE; i++)
        ck_assert_msg(isnan(out[i]), "%s should be NaN", recint_metric_name(i));

    /* k = 4: u3's full rank 3 now counts, with 1/log2(5). */
    RI_OK(recint_evaluate_next(m, hist, test, 4, cfg, out, RECINT_METRIC_COUNT));
    ASSERT_NEAR(out[RECINT_METRIC_FULL_HR], 0.75);
    ASSERT_NEAR(out[RECINT_METRIC_FULL_NDCG], (2.0 + 1.0 / log2(5.0)) / 4);

    /* Default 100 samples, k = 10: u3's sampled rank is 100, a miss. */
    RI_OK(recint_evaluate_next(m, hist, test, 10, NULL, out, RECINT_METRIC_COUNT));
    ASSERT_NEAR(out[RECINT_METRIC_FULL_HR], 0.75);
    ASSERT_NEAR(out[RECINT_METRIC_SAMPLED_HR], 0.5);
    ASSERT_NEAR(out[RECINT_METRIC_SAMPLED_NDCG], 0.5);

    recint_config_free(cfg);
    recint_model_free(m);
    recint_dataset_free(hist);
    recint_dataset_free(test);
}
END_TEST

/* Draws must be uniform over the items outside the history other than the
 * target. 2000 test users each have history {0} and target 3; shaping users
 * give popularity item1 = item2 = 3 > item3 = 2 > items 4,5,6 = 0. With one
 * sample and k = 1, a user hits when the draw is one of 4,5,6: probability 3/5.
 * (Drawing item 0 too would give 3/6, allowing the target itself 4/6.)
 * Standard error ~0.011, so |x - 0.6| < 0.05 is ~4.5 sigma; the seed is fixed,
 * so the outcome is deterministic anyway. Full rank is 2 for everyone. */
START_TEST(sampled_is_uniform_over_candidates)
{
    enum { N = 2000 };
    pair *h = malloc((N + 8) * sizeof *h), *t = malloc(N * sizeof *t);
    ck_assert(h && t);
    size_t nh = 0;
    for (int u = 0; u < N; u++) {
        h[nh++] = (pair){u, 0};
        t[u] = (pair){u, 3};
    }
    const pair shape[] = {{N, 1}, {N, 2}, {N, 3}, {N + 1, 1}, {N + 1, 2}, {N + 1, 3},
                          {N + 2, 1}, {N + 2, 2}};
    for (size_t j = 0; j < 8; j++)
        h[nh++] = shape[j];
    recint_dataset *hist = make_ds(N + 3, 7, h, nh), *test = make_ds(N + 3, 7, t, N);
    recint_model *m = fit_pop(hist);
    recint_config *cfg = cfg_with("eval_samples=1", "seed=7", NULL);
    double out[RECINT_METRIC_COUNT];
    RI_OK(recint_evaluate_next(m, hist, test, 1, cfg, out, RECINT_METRIC_COUNT));
    ck_assert_msg(fabs(out[RECINT_METRIC_SAMPLED_HR] - 0.6) < 0.05, "sampled HR@1 = %g",
                  out[RECINT_METRIC_SAMPLED_HR]);
    ASSERT_NEAR(out[RECINT_METRIC_SAMPLED_NDCG], out[RECINT_METRIC_SAMPLED_HR]);
    ASSERT_NEAR(out[RECINT_METRIC_FULL_HR], 0.0);
    RI_OK(recint_evaluate_next(m, hist, test, 3, cfg, out, RECINT_METRIC_COUNT));
    ASSERT_NEAR(out[RECINT_METRIC_FULL_HR], 1.0);
    ASSERT_NEAR(out[RECINT_METRIC_FULL_NDCG], 0.5);
    ASSERT_NEAR(out[RECINT_METRIC_USERS], N);
    recint_config_free(cfg);
    recint_model_free(m);
    recint_dataset_free(hist);
    recint_dataset_free(test);
    free(h);
    free(t);
}
END_TEST

/* With one target per user that is not a train item, the full next-item rank is
 * the target's position in the ranking evaluator's list, so full HR@k and
 * NDCG@k must equal HR@k and NDCG@k: two independent code paths (ri_topk and the
 * rank count) that must agree on ties. Popularity here has many ties. */
START_TEST(next_full_agrees_with_ranking)
{
    enum { U = 400, I = 120 };
    pair *tr = malloc(U * 30 * sizeof *tr), *te = malloc(U * sizeof *te);
    ck_assert(tr && te);
    size_t ntr = 0;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int u = 0; u < U; u++) {
        uint8_t seen[I] = {0};
        for (int j = 0; j < 30; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int64_t item = (int64_t)((x % I) * (x % I) / I);
            if (!seen[item]) {
                seen[item] = 1;
                tr[ntr++] = (pair){u, item};
            }
        }
        int64_t t = (int64_t)((x >> 20) % I);
        while (seen[t])
            t = (t + 1) % I;
        te[u] = (pair){u, t};
    }
    recint_dataset *train = make_ds(U, I, tr, ntr), *test = make_ds(U, I, te, U);
    recint_model *m = fit_pop(train);
    double rank[RECINT_METRIC_COUNT], next[RECINT_METRIC_COUNT];
    const uint32_t ks[] = {1, 5, 10, 50};
    for (size_t j = 0; j < 4; j++) {
        RI_OK(recint_evaluate(m, train, test, ks[j], NULL, rank, RECINT_METRIC_COUNT));
        RI_OK(recint_evaluate_next(m, train, test, ks[j], NULL, next, RECINT_METRIC_COUNT));
        ASSERT_NEAR(next[RECINT_METRIC_FULL_HR], rank[RECINT_METRIC_HIT_RATE]);
        ASSERT_NEAR(next[RECINT_METRIC_FULL_NDCG], rank[RECINT_METRIC_NDCG]);
        ASSERT_NEAR(rank[RECINT_METRIC_RECALL], rank[RECINT_METRIC_HIT_RATE]);
        ck_assert(rank[RECINT_METRIC_HIT_RATE] > 0.0 && rank[RECINT_METRIC_HIT_RATE] < 1.0);
    }
    recint_model_free(m);
    recint_dataset_free(train);
    recint_dataset_free(test);
    free(tr);
    free(te);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Thread-count independence                                                */
/* ------------------------------------------------------------------------ */

/* 700 users x 300 items of random rows: enough users for many score blocks. */
static void random_split(recint_dataset **train, recint_dataset **test)
{
    enum { U = 700, I = 300 };
    pair *tr = malloc(U * 40 * sizeof *tr), *te = malloc(U * 5 * sizeof *te);
    ck_assert(tr && te);
    size_t ntr = 0, nte = 0;
    uint64_t x = 88172645463325252ull;
    for (int u = 0; u < U; u++) {
        for (int j = 0; j < 40; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* A skewed item distribution so popularity has ties and a long tail. */
            int64_t item = (int64_t)((x % I) * (x % I) / I);
            if (j < 35)
                tr[ntr++] = (pair){u, item};
            else if (u % 7 != 0)
                te[nte++] = (pair){u, item};
        }
    }
    *train = make_ds(U, I, tr, ntr);
    *test = make_ds(U, I, te, nte);
    free(tr);
    free(te);
}

START_TEST(threads_give_identical_metrics)
{
    recint_dataset *train, *test;
    random_split(&train, &test);
    recint_model *m = fit_pop(train);
    double one[RECINT_METRIC_COUNT], other[RECINT_METRIC_COUNT];
    const char *threads[] = {"threads=2", "threads=3", "threads=8"};
    recint_config *c1 = cfg_with("threads=1", "eval_samples=50", NULL);
    for (int next = 0; next < 2; next++) {
        if (next)
            RI_OK(recint_evaluate_next(m, train, test, 10, c1, one, RECINT_METRIC_COUNT));
        else
            RI_OK(recint_evaluate(m, train, test, 10, c1, one, RECINT_METRIC_COUNT));
        ck_assert(one[RECINT_METRIC_USERS] == 600.0);
        for (size_t t = 0; t < 3; t++) {
            recint_config *ct = cfg_with(threads[t], "eval_samples=50", NULL);
            if (next)
                RI_OK(recint_evaluate_next(m, train, test, 10, ct, other, RECINT_METRIC_COUNT));
            else
                RI_OK(recint_evaluate(m, train, test, 10, ct, other, RECINT_METRIC_COUNT));
            ck_assert_msg(memcmp(one, other, sizeof one) == 0, "%s differs from threads=1 (%s)",
                          threads[t], next ? "next" : "ranking");
            recint_config_free(ct);
        }
    }
    /* The sampled family is seeded: another seed draws other negatives. */
    recint_config *c2 = cfg_with("threads=1", "eval_samples=50", "seed=43");
    RI_OK(recint_evaluate_next(m, train, test, 10, c2, other, RECINT_METRIC_COUNT));
    ck_assert(other[RECINT_METRIC_FULL_HR] == one[RECINT_METRIC_FULL_HR]);
    ck_assert(other[RECINT_METRIC_SAMPLED_NDCG] != one[RECINT_METRIC_SAMPLED_NDCG]);
    recint_config_free(c2);
    recint_config_free(c1);
    recint_model_free(m);
    recint_dataset_free(train);
    recint_dataset_free(test);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Validation                                                               */
/* ------------------------------------------------------------------------ */

static void assert_untouched(const double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(out[i] == -7.0, "out[%zu] written on failure", i);
}

START_TEST(validation_errors)
{
    fixture f = rank_fixture();
    double out[RECINT_METRIC_COUNT];
    for (size_t i = 0; i < RECINT_METRIC_COUNT; i++)
        out[i] = -7.0;
    const size_t n = RECINT_METRIC_COUNT;

    RI_FAILS(RECINT_EINVAL, recint_evaluate(NULL, f.train, f.test, 2, NULL, out, n));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "model"));
    RI_FAILS(RECINT_EINVAL, recint_evaluate(f.m, NULL, f.test, 2, NULL, out, n));
    RI_FAILS(RECINT_EINVAL, recint_evaluate(f.m, f.train, NULL, 2, NULL, out, n));
    RI_FAILS(RECINT_EINVAL, recint_evaluate(f.m, f.train, f.test, 2, NULL, NULL, n));
    RI_FAILS(RECINT_EINVAL, recint_evaluate(f.m, f.train, f.test, 2, NULL, out, 0));
    RI_FAILS(RECINT_EINVAL, recint_evaluate(f.m, f.train, f.test, 0, NULL, out, n));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "k must be >= 1"));
    RI_FAILS(RECINT_EINVAL, recint_evaluate_next(f.m, f.train, f.test, 0, NULL, out, n));
    RI_FAILS(RECINT_EINVAL, recint_evaluate_next(f.m, NULL, f.test, 1, NULL, out, n));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "history"));

    /* Catalogue mismatch: a test set with one more item. */
    recint_dataset *wide = make_ds(5, 7, rank_train, sizeof rank_train / sizeof *rank_train);
    RI_FAILS(RECINT_EINVAL, recint_evaluate(f.m, f.train, wide, 2, NULL, out, n));
    ck_assert_msg(strstr(recint_last_error(), "train has 5 users x 6 items, test 5 x 7, model 5 x 6"),
                  "message: %s", recint_last_error());
    RI_FAILS(RECINT_EINVAL, recint_evaluate_next(f.m, wide, f.test, 2, NULL, out, n));
    ck_assert_msg(strstr(recint_last_error(), "history has 5 users x 7 items"), "message: %s",
                  recint_last_error());
    /* A model fitted on another catalogue. */
    recint_model *other = fit_pop(wide);
    RI_FAILS(RECINT_EINVAL, recint_evaluate(other, f.train, f.test, 2, NULL, out, n));
    ck_assert_msg(strstr(recint_last_error(), "model 5 x 7"), "message: %s", recint_last_error());
    recint_model_free(other);
    recint_dataset_free(wide);

    /* Same sizes, other ids: item 0 of this test set is external id 100, not 0. */
    recint_dataset *shifted = NULL;
    int64_t uid[5], iid[6];
    for (int j = 0; j < 5; j++)
        uid[j] = j;
    for (int j = 0; j < 6; j++)
        iid[j] = 100 + j;
    RI_OK(recint_dataset_new(&shifted, NULL));
    RI_OK(recint_dataset_reserve_ids(shifted, 5, uid, 6, iid));
    RI_FAILS(RECINT_EINVAL, recint_evaluate(f.m, f.train, shifted, 2, NULL, out, n));
    ck_assert_msg(strstr(recint_last_error(), "test dataset's ids sit at other indices"),
                  "message: %s", recint_last_error());
    RI_FAILS(RECINT_EINVAL, recint_evaluate_next(f.m, shifted, f.test, 2, NULL, out, n));
    ck_assert_msg(strstr(recint_last_error(), "history dataset's ids"), "message: %s",
                  recint_last_error());
    recint_dataset_free(shifted);

    /* A model that was never fitted. */
    recint_model *unfit = NULL;
    RI_OK(recint_model_new(&unfit, "pop", NULL));
    RI_FAILS(RECINT_ESTATE, recint_evaluate(unfit, f.train, f.test, 2, NULL, out, n));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "not fitted"));
    RI_FAILS(RECINT_ESTATE, recint_evaluate_next(unfit, f.train, f.test, 2, NULL, out, n));
    recint_model_free(unfit);

    assert_untouched(out, n);
    fixture_free(&f);
}
END_TEST

/* out_len below the metric count writes only that much; beyond it the extra
 * slots are NaN. Metric names cover exactly the defined indices. */
START_TEST(out_len_and_names)
{
    fixture f = rank_fixture();
    double out[RECINT_METRIC_COUNT + 3];
    for (size_t i = 0; i < RECINT_METRIC_COUNT + 3; i++)
        out[i] = -7.0;
    RI_OK(recint_evaluate(f.m, f.train, f.test, 2, NULL, out, 2));
    ASSERT_NEAR(out[RECINT_METRIC_PRECISION], 1.0 / 3);
    ASSERT_NEAR(out[RECINT_METRIC_RECALL], 0.5);
    ck_assert(out[2] == -7.0);
    RI_OK(recint_evaluate(f.m, f.train, f.test, 2, NULL, out, RECINT_METRIC_COUNT + 2));
    ck_assert(isnan(out[RECINT_METRIC_COUNT]) && isnan(out[RECINT_METRIC_COUNT + 1]));
    ck_assert(out[RECINT_METRIC_COUNT + 2] == -7.0);

    static const char *const names[RECINT_METRIC_COUNT] = {
        "precision", "recall", "ndcg", "map", "hit_rate", "auc", "coverage", "users",
        "full_hr", "full_ndcg", "sampled_hr", "sampled_ndcg"};
    for (int i = 0; i < RECINT_METRIC_COUNT; i++)
        ck_assert_str_eq(recint_metric_name(i), names[i]);
    ck_assert_ptr_null(recint_metric_name(-1));
    ck_assert_ptr_null(recint_metric_name(RECINT_METRIC_COUNT));
    fixture_free(&f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* P1: the popularity row of PROTOCOLS.md                                   */
/* ------------------------------------------------------------------------ */

START_TEST(p1_popularity_bar)
{
    char path[4096];
    if (!ri_test_dataset_file("ml-100k/u.data", path, sizeof path))
        return;
    recint_config *load = cfg_with("delimiter=tab", "columns=user,item,weight,timestamp",
                                   "header=no");
    recint_config *filt = cfg_with("min_weight=4", NULL, NULL);
    recint_dataset *all = NULL, *pos = NULL, *train = NULL, *test = NULL;
    RI_OK(recint_dataset_new(&all, NULL));
    RI_OK(recint_dataset_load(all, path, load));
    ck_assert_uint_eq(recint_dataset_n_interactions(all), 100000);
    RI_OK(recint_dataset_filter(&pos, all, filt));
    RI_OK(recint_dataset_split(pos, "temporal:0.2", 42, &train, NULL, &test));
    ck_assert_uint_eq(recint_dataset_n_interactions(train), 43929);
    ck_assert_uint_eq(recint_dataset_n_interactions(test), 11446);
    recint_model *m = fit_pop(train);

    double out[RECINT_METRIC_COUNT];
    RI_OK(recint_evaluate(m, train, test, 10, NULL, out, RECINT_METRIC_COUNT));
    const struct {
        int metric;
        double want;
    } bar[] = {{RECINT_METRIC_PRECISION, .0627},
               {RECINT_METRIC_RECALL, .0598},
               {RECINT_METRIC_NDCG, .0797},
               {RECINT_METRIC_AUC, .8272}};
    for (size_t j = 0; j < sizeof bar / sizeof *bar; j++)
        ck_assert_msg(fabs(out[bar[j].metric] - bar[j].want) < 5e-5, "P1 %s = %.6f, want %.4f",
                      recint_metric_name(bar[j].metric), out[bar[j].metric], bar[j].want);
    ck_assert_msg(out[RECINT_METRIC_USERS] == 942.0, "users %g", out[RECINT_METRIC_USERS]);

    recint_model_free(m);
    recint_dataset_free(train);
    recint_dataset_free(test);
    recint_dataset_free(pos);
    recint_dataset_free(all);
    recint_config_free(filt);
    recint_config_free(load);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("metrics");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, ranking_by_hand_k2);
    tcase_add_test(tc, ranking_by_hand_k10);
    tcase_add_test(tc, auc_ties_and_skipped_users);
    tcase_add_test(tc, no_test_rows);
    tcase_add_test(tc, next_item_by_hand);
    tcase_add_test(tc, sampled_is_uniform_over_candidates);
    tcase_add_test(tc, next_full_agrees_with_ranking);
    tcase_add_test(tc, threads_give_identical_metrics);
    tcase_add_test(tc, validation_errors);
    tcase_add_test(tc, out_len_and_names);
    tcase_add_test(tc, p1_popularity_bar);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
