/* Confidence weighting (recint_dataset_reweight) against values worked out by
 * hand from implicit's formulas, its error paths, and the heavy-tailed play
 * counts of the synthetic generator (syn_counts=heavy). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* users 1..3 (indices 0..2), items 0..2:
 *   user 1: item 0 w 4, item 1 w 1
 *   user 2: item 0 w 9
 *   user 3: item 2 w 2
 * N = 3 users; item 0 is held by 2, items 1 and 2 by 1:
 * idf0 = ln 3 - ln 3 = 0, idf1 = idf2 = ln 3 - ln 2. */
static recint_dataset *tiny(void)
{
    static const int64_t u[] = {1, 1, 2, 3}, i[] = {0, 1, 0, 2}, t[] = {10, 11, 12, 13};
    static const float w[] = {4, 1, 9, 2};
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add(ds, 4, u, i, w, t));
    return ds;
}

static recint_dataset *reweighted(const recint_dataset *ds, const char *scheme, const char *extra)
{
    recint_config *c = NULL;
    RI_OK(recint_config_new(&c));
    RI_OK(recint_config_set(c, "weighting", scheme));
    if (extra)
        RI_OK(recint_config_set_pair(c, extra));
    recint_dataset *out = NULL;
    RI_OK(recint_dataset_reweight(&out, ds, c));
    recint_config_free(c);
    return out;
}

/* The rows of out, in CSR order, are ds's with weights expect[]. */
static void expect_weights(const recint_dataset *ds, const recint_dataset *out, const double *expect)
{
    const uint64_t *p0, *p1;
    const uint32_t *i0, *i1;
    const float *w1;
    const int64_t *t0, *t1;
    RI_OK(recint_dataset_csr(ds, &p0, &i0, NULL, &t0));
    RI_OK(recint_dataset_csr(out, &p1, &i1, &w1, &t1));
    ck_assert_uint_eq(recint_dataset_n_users(out), recint_dataset_n_users(ds));
    ck_assert_uint_eq(recint_dataset_n_items(out), recint_dataset_n_items(ds));
    ck_assert_uint_eq(recint_dataset_n_interactions(out), recint_dataset_n_interactions(ds));
    for (uint32_t u = 0; u <= recint_dataset_n_users(ds); u++)
        ck_assert_uint_eq(p1[u], p0[u]);
    for (uint64_t e = 0; e < recint_dataset_n_interactions(ds); e++) {
        ck_assert_uint_eq(i1[e], i0[e]);
        ck_assert_int_eq(t1[e], t0[e]);
        ck_assert_msg(fabs(w1[e] - expect[e]) < 1e-6 * (1 + fabs(expect[e])),
                      "row %llu: weight %.7f, expected %.7f", (unsigned long long)e,
                      (double)w1[e], expect[e]);
    }
}

START_TEST(known_answers)
{
    recint_dataset *ds = tiny();
    const double idf = 0.4054651081081645; /* ln 3 - ln 2 */
    struct {
        const char *scheme, *extra;
        double w[4];
    } cases[] = {
        {"none", NULL, {4, 1, 9, 2}},
        {"log1p", NULL, {1.6094379124341003, 0.6931471805599453, 2.302585092994046,
                         1.0986122886681096}},
        /* sqrt(w) * idf; item 0's idf is 0 */
        {"tfidf", NULL, {0, idf, 0, 1.4142135623730951 * idf}},
        /* user totals 5, 9, 2, mean 16/3: length norms 0.2 + 0.8 * total / mean are
         * 0.95 (user 1) and 0.5 (user 3); w * 101 / (100 * norm + w) * idf */
        {"bm25", NULL, {0, 101.0 / 96.0 * idf, 0, 202.0 / 52.0 * idf}},
        /* b = 0: no length normalisation, w * 101 / (100 + w) * idf */
        {"bm25", "bm25_b=0", {0, 101.0 / 101.0 * idf, 0, 202.0 / 102.0 * idf}},
        /* k1 = 0: the weight saturates at once, every row is its item's idf */
        {"bm25", "bm25_k1=0", {0, idf, 0, idf}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        recint_dataset *out = reweighted(ds, cases[k].scheme, cases[k].extra);
        expect_weights(ds, out, cases[k].w);
        recint_dataset_free(out);
    }
    /* the input is left as it was */
    const float *w;
    RI_OK(recint_dataset_csr(ds, NULL, NULL, &w, NULL));
    ck_assert(w[0] == 4 && w[1] == 1 && w[2] == 9 && w[3] == 2);
    recint_dataset_free(ds);
}
END_TEST

/* Ids survive: the copy's maps are the input's. */
START_TEST(catalogue_kept)
{
    recint_dataset *ds = tiny();
    recint_dataset *out = reweighted(ds, "log1p", NULL);
    for (int side = 0; side < 2; side++) {
        const recint_idmap *a = side ? recint_dataset_items(ds) : recint_dataset_users(ds);
        const recint_idmap *b = side ? recint_dataset_items(out) : recint_dataset_users(out);
        for (uint32_t x = 0; x < 3; x++) {
            int64_t ia = -1, ib = -2;
            RI_OK(recint_idmap_id(a, x, &ia));
            RI_OK(recint_idmap_id(b, x, &ib));
            ck_assert_int_eq(ia, ib);
        }
    }
    recint_dataset_free(out);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(errors)
{
    recint_dataset *ds = tiny(), *out = NULL;
    recint_config *c = NULL;
    RI_OK(recint_config_new(&c));
    RI_FAILS(RECINT_EINVAL, recint_dataset_reweight(NULL, ds, c));
    RI_FAILS(RECINT_EINVAL, recint_dataset_reweight(&out, NULL, c));
    /* the table refuses what the formulas cannot take */
    ck_assert_int_ne(recint_config_set(c, "weighting", "sqrt"), RECINT_OK);
    ck_assert_int_ne(recint_config_set(c, "bm25_b", "1.5"), RECINT_OK);
    ck_assert_int_ne(recint_config_set(c, "bm25_k1", "-1"), RECINT_OK);

    /* a negative weight (a rating, a dislike) is refused by every scheme but none */
    static const int64_t u[] = {4}, i[] = {1};
    static const float w[] = {-2};
    RI_OK(recint_dataset_add(ds, 1, u, i, w, NULL));
    static const char *const schemes[] = {"log1p", "bm25", "tfidf"};
    for (int k = 0; k < 3; k++) {
        RI_OK(recint_config_set(c, "weighting", schemes[k]));
        RI_FAILS(RECINT_EINVAL, recint_dataset_reweight(&out, ds, c));
        ck_assert_ptr_null(out);
        ck_assert_msg(strstr(recint_last_error(), "user index 3") &&
                          strstr(recint_last_error(), "-2"),
                      "message: %s", recint_last_error());
    }
    RI_OK(recint_config_set(c, "weighting", "none"));
    RI_OK(recint_dataset_reweight(&out, ds, c));
    recint_dataset_free(out);
    recint_config_free(c);
    recint_dataset_free(ds);
}
END_TEST

/* An empty dataset (no rows, no users) reweights to an empty one. */
START_TEST(empty)
{
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_new(&ds, NULL));
    static const char *const schemes[] = {"none", "log1p", "bm25", "tfidf"};
    for (int k = 0; k < 4; k++) {
        recint_dataset *out = reweighted(ds, schemes[k], NULL);
        ck_assert_uint_eq(recint_dataset_n_interactions(out), 0);
        recint_dataset_free(out);
    }
    recint_dataset_free(ds);
}
END_TEST

static recint_dataset *synthetic(const char *counts, const char *threads)
{
    recint_config *c = NULL;
    RI_OK(recint_config_new(&c));
    RI_OK(recint_config_set(c, "syn_users", "3000"));
    RI_OK(recint_config_set(c, "syn_interactions", "60000"));
    RI_OK(recint_config_set(c, "threads", threads));
    if (counts)
        RI_OK(recint_config_set(c, "syn_counts", counts));
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_synthetic(&ds, c, NULL));
    recint_config_free(c);
    return ds;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Median and 99.9th percentile of w[0..n). */
static void spread(const float *w, uint64_t n, float *median, float *top)
{
    float *sorted = malloc(n * sizeof *sorted);
    ck_assert_ptr_nonnull(sorted);
    memcpy(sorted, w, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_float);
    *median = sorted[n / 2];
    *top = sorted[n - 1 - n / 1000];
    free(sorted);
}

/* syn_counts=heavy keeps the rows of the default and changes only the weights:
 * integers in [1, 1e5], heavy-tailed, the same for any thread count. */
START_TEST(synthetic_heavy_counts)
{
    recint_dataset *base = synthetic(NULL, "1"), *h1 = synthetic("heavy", "1"),
                   *h2 = synthetic("heavy", "2");
    const uint64_t n = recint_dataset_n_interactions(base);
    ck_assert_uint_eq(recint_dataset_n_interactions(h1), n);
    const uint64_t *pb, *p1;
    const uint32_t *ib, *i1;
    const float *wb, *w1, *w2;
    RI_OK(recint_dataset_csr(base, &pb, &ib, &wb, NULL));
    RI_OK(recint_dataset_csr(h1, &p1, &i1, &w1, NULL));
    RI_OK(recint_dataset_csr(h2, NULL, NULL, &w2, NULL));
    ck_assert_mem_eq(pb, p1, (recint_dataset_n_users(base) + 1) * sizeof *pb);
    ck_assert_mem_eq(ib, i1, n * sizeof *ib);
    ck_assert_mem_eq(w1, w2, n * sizeof *w1);
    for (uint64_t e = 0; e < n; e++)
        ck_assert(w1[e] >= 1 && w1[e] <= 1e5f && w1[e] == floorf(w1[e]));
    /* the default counts repeated draws (99.9th percentile 60 times the median
     * at this seed); plays spread an order of magnitude more than that */
    float med_b, top_b, med_h, top_h;
    spread(wb, n, &med_b, &top_b);
    spread(w1, n, &med_h, &top_h);
    ck_assert_msg(top_h / med_h >= 10 * (top_b / med_b),
                  "99.9th percentile / median: heavy %g / %g, default %g / %g", (double)top_h,
                  (double)med_h, (double)top_b, (double)med_b);
    recint_dataset_free(base);
    recint_dataset_free(h1);
    recint_dataset_free(h2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reweight");
    TCase *tc = tcase_create("reweight");
    tcase_add_test(tc, known_answers);
    tcase_add_test(tc, catalogue_kept);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, empty);
    tcase_add_test(tc, synthetic_heavy_counts);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
