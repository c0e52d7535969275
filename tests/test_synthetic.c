/* Synthetic generator: exact shape, valid CSR, determinism across seeds and thread
 * counts, and that the planted structure (clusters, Zipf skew, drift) is really there. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/features_internal.h"
#include "testutil.h"

#define T0 INT64_C(1600000000)
#define SPAN (INT64_C(3) * 365 * 86400)

typedef struct {
    const char *key, *value;
} kv;

static recint_config *make_cfg(const kv *pairs, size_t n)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    for (size_t i = 0; i < n; i++)
        RI_OK(recint_config_set(cfg, pairs[i].key, pairs[i].value));
    return cfg;
}

#define CFG(...) make_cfg((const kv[]){__VA_ARGS__}, sizeof((const kv[]){__VA_ARGS__}) / sizeof(kv))

static recint_dataset *generate(recint_config *cfg, recint_features **feats)
{
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_synthetic(&ds, cfg, feats));
    ck_assert_ptr_nonnull(ds);
    return ds;
}

/* Cluster of every item, read back from the one-hot block of the item features. */
static uint32_t *clusters_of_items(const recint_features *f, uint32_t n_items, uint32_t n_clusters)
{
    ck_assert_uint_eq(recint_features_rows(f), n_items);
    const ri_feat_block *b = &f->blocks[0];
    ck_assert_int_eq(b->kind, RI_FEAT_SPARSE);
    ck_assert_uint_eq(b->cols, n_clusters);
    uint32_t *cl = malloc(n_items * sizeof *cl);
    ck_assert_ptr_nonnull(cl);
    for (uint32_t i = 0; i < n_items; i++) {
        ck_assert_uint_eq(b->indptr[i + 1] - b->indptr[i], 1);
        ck_assert_float_eq(b->weights[b->indptr[i]], 1.0f);
        cl[i] = b->indices[b->indptr[i]];
    }
    return cl;
}

START_TEST(exact_shape_and_valid_csr)
{
    recint_config *cfg = CFG({"syn_users", "300"}, {"syn_items", "2000"}, {"syn_interactions", "9001"},
                             {"syn_clusters", "10"}, {"seed", "7"}, {"threads", "2"});
    recint_dataset *ds = generate(cfg, NULL);
    ck_assert_uint_eq(recint_dataset_n_users(ds), 300);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 2000);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 9001);
    ck_assert_int_eq(recint_idmap_kind(recint_dataset_users(ds)), RECINT_IDS_INT);
    int64_t id;
    RI_OK(recint_idmap_id(recint_dataset_items(ds), 1234, &id));
    ck_assert_int_eq(id, 1234);

    const uint64_t *ptr;
    const uint32_t *idx;
    const float *w;
    const int64_t *ts;
    RI_OK(recint_dataset_csr(ds, &ptr, &idx, &w, &ts));
    ck_assert_uint_eq(ptr[0], 0);
    ck_assert_uint_eq(ptr[300], 9001);
    uint64_t repeats = 0;
    for (uint32_t u = 0; u < 300; u++) {
        uint64_t n = ptr[u + 1] - ptr[u];
        ck_assert_msg(n >= 2 && n <= 100, "user %u holds %llu items, outside [2, 100]", u,
                      (unsigned long long)n);
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (uint64_t k = ptr[u]; k < ptr[u + 1]; k++) {
            ck_assert_uint_lt(idx[k], 2000);
            if (k > ptr[u])
                ck_assert_msg(idx[k - 1] < idx[k], "user %u row not strictly ascending", u);
            ck_assert(w[k] >= 1.0f && w[k] == floorf(w[k]));
            repeats += (uint64_t)(w[k] - 1.0f);
            ck_assert(ts[k] >= T0 && ts[k] <= T0 + SPAN);
            lo = ts[k] < lo ? ts[k] : lo;
            hi = ts[k] > hi ? ts[k] : hi;
        }
        ck_assert(hi >= lo);
    }
    ck_assert_msg(repeats > 0, "popular items are drawn again: some weights exceed 1");
    recint_dataset_free(ds);
    recint_config_free(cfg);
}
END_TEST

static int same_arrays(const recint_dataset *a, const recint_dataset *b)
{
    const uint64_t *pa, *pb;
    const uint32_t *ia, *ib;
    const float *wa, *wb;
    const int64_t *ta, *tb;
    RI_OK(recint_dataset_csr(a, &pa, &ia, &wa, &ta));
    RI_OK(recint_dataset_csr(b, &pb, &ib, &wb, &tb));
    uint32_t nu = recint_dataset_n_users(a);
    uint64_t nnz = recint_dataset_n_interactions(a);
    if (nu != recint_dataset_n_users(b) || nnz != recint_dataset_n_interactions(b))
        return 0;
    return memcmp(pa, pb, (nu + 1) * sizeof *pa) == 0 && memcmp(ia, ib, nnz * sizeof *ia) == 0 &&
           memcmp(wa, wb, nnz * sizeof *wa) == 0 && memcmp(ta, tb, nnz * sizeof *ta) == 0;
}

START_TEST(deterministic_for_any_thread_count)
{
    /* 5000 users span five random-stream groups, so the threads really split work */
    recint_config *c1 = CFG({"syn_users", "5000"}, {"syn_items", "1000"},
                            {"syn_interactions", "60000"}, {"threads", "1"}, {"seed", "3"});
    recint_config *c2 = CFG({"syn_users", "5000"}, {"syn_items", "1000"},
                            {"syn_interactions", "60000"}, {"threads", "2"}, {"seed", "3"});
    recint_config *c3 = CFG({"syn_users", "5000"}, {"syn_items", "1000"},
                            {"syn_interactions", "60000"}, {"threads", "3"}, {"seed", "4"});
    recint_features *f1 = NULL, *f2 = NULL;
    recint_dataset *a = generate(c1, &f1), *b = generate(c2, &f2), *again = generate(c1, NULL);
    recint_dataset *other = generate(c3, NULL);
    ck_assert_msg(same_arrays(a, b), "threads=1 and threads=2 differ");
    ck_assert_msg(same_arrays(a, again), "same seed differs between runs");
    ck_assert_msg(!same_arrays(a, other), "a different seed gave the same data");
    float ra[64], rb[64];
    ck_assert_uint_eq(recint_features_cols(f1), 20 + 16);
    for (uint32_t i = 0; i < 1000; i += 97) {
        RI_OK(recint_features_row_dense(f1, i, ra));
        RI_OK(recint_features_row_dense(f2, i, rb));
        ck_assert(memcmp(ra, rb, 36 * sizeof(float)) == 0);
    }
    recint_features_free(f1);
    recint_features_free(f2);
    recint_dataset_free(a);
    recint_dataset_free(b);
    recint_dataset_free(again);
    recint_dataset_free(other);
    recint_config_free(c1);
    recint_config_free(c2);
    recint_config_free(c3);
}
END_TEST

/* Most distinct clusters any user touches, and how many users touch more than `over`. */
static uint32_t max_user_clusters(const recint_dataset *ds, const uint32_t *cl, uint32_t n_clusters,
                                  uint32_t over, uint32_t *n_over)
{
    const uint64_t *ptr;
    const uint32_t *idx;
    RI_OK(recint_dataset_csr(ds, &ptr, &idx, NULL, NULL));
    uint8_t *seen = calloc(n_clusters, 1);
    ck_assert_ptr_nonnull(seen);
    uint32_t most = 0;
    *n_over = 0;
    for (uint32_t u = 0; u < recint_dataset_n_users(ds); u++) {
        memset(seen, 0, n_clusters);
        uint32_t k = 0;
        for (uint64_t j = ptr[u]; j < ptr[u + 1]; j++)
            if (!seen[cl[idx[j]]]++)
                k++;
        most = k > most ? k : most;
        *n_over += k > over;
    }
    free(seen);
    return most;
}

START_TEST(planted_clusters_are_real)
{
    /* ~500 items per cluster and a cap of 200 items per user: clusters never run dry */
    const char *noise[] = {"0", "0", "0.5"};
    const char *drift[] = {"0", "1", "0"};
    for (int run = 0; run < 3; run++) {
        recint_config *cfg = CFG({"syn_users", "400"}, {"syn_items", "4000"},
                                 {"syn_interactions", "20000"}, {"syn_clusters", "8"},
                                 {"syn_noise", noise[run]}, {"syn_drift", drift[run]},
                                 {"syn_feature_dim", "0"});
        recint_features *f = NULL;
        recint_dataset *ds = generate(cfg, &f);
        ck_assert_uint_eq(recint_features_cols(f), 8);
        ck_assert_uint_eq(f->n_blocks, 1);
        uint32_t *cl = clusters_of_items(f, 4000, 8);
        uint32_t n_over;
        uint32_t most = max_user_clusters(ds, cl, 8, 3, &n_over);
        if (run == 0)
            ck_assert_msg(most <= 3, "noise 0, drift 0: a user spans %u clusters", most);
        else if (run == 1) /* drift adds at most one new cluster */
            ck_assert_msg(most <= 4, "noise 0, drift 1: a user spans %u clusters", most);
        else /* the check above can fail: noise spreads users over many clusters */
            ck_assert_msg(n_over > 100, "noise 0.5: only %u users over 3 clusters", n_over);
        free(cl);
        recint_features_free(f);
        recint_dataset_free(ds);
        recint_config_free(cfg);
    }
}
END_TEST

START_TEST(item_features_blocks)
{
    recint_config *cfg = CFG({"syn_users", "200"}, {"syn_items", "3000"}, {"syn_interactions", "4000"},
                             {"syn_clusters", "5"}, {"syn_feature_dim", "8"});
    recint_features *f = NULL;
    recint_dataset *ds = generate(cfg, &f);
    ck_assert_uint_eq(recint_features_rows(f), 3000);
    ck_assert_uint_eq(recint_features_cols(f), 13);
    ck_assert_uint_eq(f->n_blocks, 2);
    ck_assert_int_eq(f->blocks[1].kind, RI_FEAT_DENSE);
    ck_assert_uint_eq(f->blocks[1].col_offset, 5);
    double s = 0, ss = 0;
    float row[13];
    for (uint32_t i = 0; i < 3000; i++) {
        RI_OK(recint_features_row_dense(f, i, row));
        float ones = 0;
        for (int c = 0; c < 5; c++)
            ones += row[c];
        ck_assert_float_eq(ones, 1.0f);
        for (int c = 5; c < 13; c++) {
            s += row[c];
            ss += (double)row[c] * row[c];
        }
    }
    double n = 3000.0 * 8, mean = s / n, sd = sqrt(ss / n - mean * mean);
    ck_assert_msg(fabs(mean) < 0.02 && fabs(sd - 0.5) < 0.02, "noise block mean %g sd %g", mean, sd);
    recint_features_free(f);
    recint_dataset_free(ds);
    recint_config_free(cfg);
}
END_TEST

/* Share of all interactions held by the top 1% most frequent items. */
static double top_share(const recint_dataset *ds)
{
    uint32_t ni = recint_dataset_n_items(ds);
    const uint64_t *ptr;
    const uint32_t *idx;
    RI_OK(recint_dataset_csr(ds, &ptr, &idx, NULL, NULL));
    uint64_t nnz = recint_dataset_n_interactions(ds);
    uint64_t *cnt = calloc(ni, sizeof *cnt);
    ck_assert_ptr_nonnull(cnt);
    for (uint64_t k = 0; k < nnz; k++)
        cnt[idx[k]]++;
    uint64_t top = 0;
    for (uint32_t t = 0; t < ni / 100; t++) { /* selection of the largest, small n */
        uint32_t best = 0;
        for (uint32_t i = 1; i < ni; i++)
            if (cnt[i] > cnt[best])
                best = i;
        top += cnt[best];
        cnt[best] = 0;
    }
    free(cnt);
    return (double)top / (double)nnz;
}

START_TEST(zipf_skew)
{
    recint_config *skew = CFG({"syn_users", "1000"}, {"syn_items", "5000"},
                              {"syn_interactions", "40000"}, {"syn_zipf", "1.0"});
    recint_config *flat = CFG({"syn_users", "1000"}, {"syn_items", "5000"},
                              {"syn_interactions", "40000"}, {"syn_zipf", "0"});
    recint_dataset *a = generate(skew, NULL), *b = generate(flat, NULL);
    double sa = top_share(a), sb = top_share(b);
    ck_assert_msg(sa > 0.08, "zipf 1: top 1%% of items hold only %.3f", sa);
    ck_assert_msg(sb < 0.03, "zipf 0: top 1%% of items hold %.3f", sb);
    recint_dataset_free(a);
    recint_dataset_free(b);
    recint_config_free(skew);
    recint_config_free(flat);
}
END_TEST

/* Mean over users of the total-variation distance between the cluster distributions
 * of their earlier and later half of interactions (in time order). */
static double early_late_distance(const recint_dataset *ds, const uint32_t *cl, uint32_t n_clusters)
{
    const uint64_t *ptr;
    const uint32_t *idx;
    const int64_t *ts;
    RI_OK(recint_dataset_csr(ds, &ptr, &idx, NULL, &ts));
    double *h = calloc(2 * n_clusters, sizeof *h);
    int64_t *sorted = malloc(1024 * sizeof *sorted);
    ck_assert(h && sorted);
    double total = 0;
    uint32_t nu = recint_dataset_n_users(ds);
    for (uint32_t u = 0; u < nu; u++) {
        uint64_t b = ptr[u], n = ptr[u + 1] - b;
        ck_assert_uint_le(n, 1024);
        /* median timestamp by insertion sort (rows are short) */
        for (uint64_t j = 0; j < n; j++) {
            int64_t v = ts[b + j];
            uint64_t k = j;
            while (k > 0 && sorted[k - 1] > v) {
                sorted[k] = sorted[k - 1];
                k--;
            }
            sorted[k] = v;
        }
        int64_t median = sorted[n / 2];
        memset(h, 0, 2 * n_clusters * sizeof *h);
        double ne = 0, nl = 0;
        for (uint64_t j = 0; j < n; j++) {
            int late = ts[b + j] >= median;
            h[late * n_clusters + cl[idx[b + j]]] += 1;
            *(late ? &nl : &ne) += 1;
        }
        double tv = 0;
        for (uint32_t c = 0; c < n_clusters; c++)
            tv += fabs(h[c] / ne - h[n_clusters + c] / nl);
        total += tv / 2;
    }
    free(h);
    free(sorted);
    return total / nu;
}

START_TEST(drift_visible_in_time_order)
{
    double d[2];
    const char *drift[] = {"0", "1"};
    for (int run = 0; run < 2; run++) {
        recint_config *cfg = CFG({"syn_users", "500"}, {"syn_items", "4000"},
                                 {"syn_interactions", "40000"}, {"syn_clusters", "8"},
                                 {"syn_noise", "0"}, {"syn_drift", drift[run]},
                                 {"syn_feature_dim", "0"});
        recint_features *f = NULL;
        recint_dataset *ds = generate(cfg, &f);
        uint32_t *cl = clusters_of_items(f, 4000, 8);
        d[run] = early_late_distance(ds, cl, 8);
        free(cl);
        recint_features_free(f);
        recint_dataset_free(ds);
        recint_config_free(cfg);
    }
    ck_assert_msg(d[1] > d[0] + 0.1, "early/late cluster distance: drift 0 %.3f, drift 1 %.3f", d[0],
                  d[1]);
}
END_TEST

START_TEST(presets_and_overrides)
{
    /* syn_scale S gives 20000 items; the explicitly set keys override the rest */
    recint_config *cfg = CFG({"syn_scale", "S"}, {"syn_users", "1000"}, {"syn_interactions", "20000"});
    recint_dataset *ds = generate(cfg, NULL);
    ck_assert_uint_eq(recint_dataset_n_users(ds), 1000);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 20000);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 20000);
    recint_dataset_free(ds);
    recint_config_free(cfg);
    /* NULL config: the defaults (2000 x 1000 x 60000) */
    ds = NULL;
    RI_OK(recint_dataset_synthetic(&ds, NULL, NULL));
    ck_assert_uint_eq(recint_dataset_n_users(ds), 2000);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 1000);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 60000);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(tiny_catalogues)
{
    /* one item: every user holds it (cap and minimum are both 1) */
    recint_config *one = CFG({"syn_users", "5"}, {"syn_items", "1"}, {"syn_interactions", "5"},
                             {"syn_clusters", "3"});
    recint_dataset *ds = generate(one, NULL);
    const uint64_t *ptr;
    const uint32_t *idx;
    RI_OK(recint_dataset_csr(ds, &ptr, &idx, NULL, NULL));
    for (uint32_t u = 0; u < 5; u++) {
        ck_assert_uint_eq(ptr[u + 1] - ptr[u], 1);
        ck_assert_uint_eq(idx[ptr[u]], 0);
    }
    recint_dataset_free(ds);
    recint_config_free(one);
    /* more clusters than items: empty clusters are never chosen */
    recint_config *many = CFG({"syn_users", "50"}, {"syn_items", "3"}, {"syn_interactions", "100"},
                              {"syn_clusters", "1000"}, {"syn_noise", "0"});
    recint_features *f = NULL;
    ds = generate(many, &f);
    RI_OK(recint_dataset_csr(ds, &ptr, &idx, NULL, NULL));
    for (uint32_t u = 0; u < 50; u++)
        ck_assert_uint_eq(ptr[u + 1] - ptr[u], 2);
    ck_assert_uint_eq(recint_features_cols(f), 1000 + 16);
    recint_features_free(f);
    recint_dataset_free(ds);
    recint_config_free(many);
}
END_TEST

START_TEST(validation_errors)
{
    recint_dataset *ds = (recint_dataset *)0x1;
    recint_features *f = (recint_features *)0x1;
    /* cap = max(2, 1000/20) = 50 items per user: 100 users hold at most 5000 */
    recint_config *over = CFG({"syn_users", "100"}, {"syn_items", "1000"}, {"syn_interactions", "5001"});
    RI_FAILS(RECINT_EINVAL, recint_dataset_synthetic(&ds, over, &f));
    ck_assert_msg(strstr(recint_last_error(), "5001") && strstr(recint_last_error(), "5000"),
                  "message lacks the numbers: %s", recint_last_error());
    recint_config *under = CFG({"syn_users", "100"}, {"syn_items", "1000"}, {"syn_interactions", "199"});
    RI_FAILS(RECINT_EINVAL, recint_dataset_synthetic(&ds, under, &f));
    ck_assert(strstr(recint_last_error(), "200") != NULL);
    ck_assert_ptr_eq(ds, (recint_dataset *)0x1);
    ck_assert_ptr_eq(f, (recint_features *)0x1);
    RI_FAILS(RECINT_EINVAL, recint_dataset_synthetic(NULL, NULL, NULL));
    /* the exact limit is accepted: every user at the cap */
    recint_config *full = CFG({"syn_users", "100"}, {"syn_items", "1000"}, {"syn_interactions", "5000"});
    ds = NULL;
    RI_OK(recint_dataset_synthetic(&ds, full, NULL));
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 5000);
    recint_dataset_free(ds);
    recint_config_free(over);
    recint_config_free(under);
    recint_config_free(full);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("synthetic");
    TCase *tc = tcase_create("synthetic");
    tcase_add_test(tc, exact_shape_and_valid_csr);
    tcase_add_test(tc, deterministic_for_any_thread_count);
    tcase_add_test(tc, planted_clusters_are_real);
    tcase_add_test(tc, item_features_blocks);
    tcase_add_test(tc, zipf_skew);
    tcase_add_test(tc, drift_visible_in_time_order);
    tcase_add_test(tc, presets_and_overrides);
    tcase_add_test(tc, tiny_catalogues);
    tcase_add_test(tc, validation_errors);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
