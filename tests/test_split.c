/* Splits: temporal fractions in exact integer arithmetic, leave-one-out, seeded
 * random, validation carving, bad specs, and the P1 protocol counts on ml-100k. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { MAX_ROWS = 40 };

/* User u (id u, 1..n_users) has u rows on items 0..u-1; timestamps repeat so that
 * ties are broken by item; weight = item + 0.5. */
static recint_dataset *staircase(int n_users)
{
    size_t n = (size_t)n_users * (size_t)(n_users + 1) / 2, r = 0;
    int64_t *u = malloc(n * sizeof *u), *i = malloc(n * sizeof *i), *t = malloc(n * sizeof *t);
    float *w = malloc(n * sizeof *w);
    for (int user = 1; user <= n_users; user++)
        for (int item = 0; item < user; item++, r++) {
            u[r] = user;
            i[r] = item;
            t[r] = 1000 + (item * 7) % 5;
            w[r] = (float)item + 0.5f;
        }
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_new(&ds, NULL));
    /* Items are added in one call starting from 0, so index == id. */
    RI_OK(recint_dataset_add(ds, n, u, i, w, t));
    free(u);
    free(i);
    free(t);
    free(w);
    return ds;
}

static int64_t stair_time(uint32_t item) { return 1000 + (int64_t)(item * 7) % 5; }

/* Items of user u's rows ordered by (timestamp, item): the split order. */
static int time_order(uint32_t n, uint32_t *items)
{
    for (uint32_t k = 0; k < n; k++)
        items[k] = k;
    for (uint32_t a = 1; a < n; a++)
        for (uint32_t b = a; b > 0; b--) {
            int64_t ta = stair_time(items[b - 1]), tb = stair_time(items[b]);
            if (ta < tb || (ta == tb && items[b - 1] < items[b]))
                break;
            uint32_t x = items[b];
            items[b] = items[b - 1];
            items[b - 1] = x;
        }
    return (int)n;
}

static int row_has(const recint_dataset *ds, uint32_t u, uint32_t item)
{
    const uint64_t *ptr;
    const uint32_t *ind;
    RI_OK(recint_dataset_csr(ds, &ptr, &ind, NULL, NULL));
    for (uint64_t e = ptr[u]; e < ptr[u + 1]; e++)
        if (ind[e] == item)
            return 1;
    return 0;
}

static uint64_t row_len(const recint_dataset *ds, uint32_t u)
{
    const uint64_t *ptr;
    RI_OK(recint_dataset_csr(ds, &ptr, NULL, NULL, NULL));
    return ptr[u + 1] - ptr[u];
}

/* The parts partition ds exactly (weights and timestamps kept) and share its catalogue. */
static void check_partition(const recint_dataset *ds, const recint_dataset *const *parts, int n_parts)
{
    const uint64_t *ptr;
    const uint32_t *ind;
    const float *w;
    const int64_t *t;
    RI_OK(recint_dataset_csr(ds, &ptr, &ind, &w, &t));
    uint64_t total = 0;
    for (int p = 0; p < n_parts; p++) {
        ck_assert_uint_eq(recint_dataset_n_users(parts[p]), recint_dataset_n_users(ds));
        ck_assert_uint_eq(recint_dataset_n_items(parts[p]), recint_dataset_n_items(ds));
        ck_assert_ptr_ne(recint_dataset_items(parts[p]), recint_dataset_items(ds));
        total += recint_dataset_n_interactions(parts[p]);
    }
    ck_assert_uint_eq(total, recint_dataset_n_interactions(ds));
    for (uint32_t u = 0; u < recint_dataset_n_users(ds); u++)
        for (uint64_t e = ptr[u]; e < ptr[u + 1]; e++) {
            int found = 0;
            for (int p = 0; p < n_parts; p++) {
                const uint64_t *pp;
                const uint32_t *pi;
                const float *pw;
                const int64_t *pt;
                RI_OK(recint_dataset_csr(parts[p], &pp, &pi, &pw, &pt));
                for (uint64_t f = pp[u]; f < pp[u + 1]; f++)
                    if (pi[f] == ind[e]) {
                        found++;
                        ck_assert_float_eq(pw[f], w[e]);
                        ck_assert_int_eq(pt[f], t[e]);
                    }
            }
            ck_assert_int_eq(found, 1);
        }
}

START_TEST(temporal_fifth_counts)
{
    recint_dataset *ds = staircase(MAX_ROWS), *train = NULL, *test = NULL;
    RI_OK(recint_dataset_split(ds, "temporal:0.2", 1, &train, NULL, &test));
    const recint_dataset *parts[] = {train, test};
    check_partition(ds, parts, 2);
    uint32_t order[MAX_ROWS];
    for (uint32_t n = 1; n <= MAX_ROWS; n++) {
        uint32_t u = n - 1, want = (n + 4) / 5;
        ck_assert_msg(row_len(test, u) == want, "n=%u: %llu test rows, want %u", n,
                      (unsigned long long)row_len(test, u), want);
        time_order(n, order);
        for (uint32_t k = 0; k < n; k++)
            ck_assert_int_eq(row_has(test, u, order[k]), k >= n - want);
    }
    recint_dataset_free(train);
    recint_dataset_free(test);
    recint_dataset_free(ds);
}
END_TEST

/* Other fractions use the same exact rule: ceil(n * p / q) in integers. */
START_TEST(temporal_other_fractions)
{
    recint_dataset *ds = staircase(MAX_ROWS);
    const char *specs[] = {"temporal:0.3", "temporal:.35", "temporal:0.1", "temporal:0.999999999"};
    const uint32_t p[] = {3, 35, 1, 999999999}, q[] = {10, 100, 10, 1000000000};
    for (int s = 0; s < 4; s++) {
        recint_dataset *train = NULL, *test = NULL;
        RI_OK(recint_dataset_split(ds, specs[s], 1, &train, NULL, &test));
        for (uint32_t n = 1; n <= MAX_ROWS; n++) {
            uint64_t want = ((uint64_t)n * p[s] + q[s] - 1) / q[s];
            ck_assert_msg(row_len(test, n - 1) == want, "%s n=%u: got %llu want %llu", specs[s], n,
                          (unsigned long long)row_len(test, n - 1), (unsigned long long)want);
        }
        recint_dataset_free(train);
        recint_dataset_free(test);
    }
    recint_dataset_free(ds);
}
END_TEST

START_TEST(temporal_with_validation)
{
    recint_dataset *ds = staircase(MAX_ROWS), *train = NULL, *valid = NULL, *test = NULL;
    RI_OK(recint_dataset_split(ds, "temporal:0.2", 1, &train, &valid, &test));
    const recint_dataset *parts[] = {train, valid, test};
    check_partition(ds, parts, 3);
    uint32_t order[MAX_ROWS];
    for (uint32_t n = 1; n <= MAX_ROWS; n++) {
        uint32_t u = n - 1, nt = (n + 4) / 5, nv = (n - nt + 4) / 5;
        ck_assert_uint_eq(row_len(test, u), nt);
        ck_assert_uint_eq(row_len(valid, u), nv);
        time_order(n, order);
        for (uint32_t k = 0; k < n - nt; k++)
            ck_assert_int_eq(row_has(valid, u, order[k]), k >= n - nt - nv);
    }
    recint_dataset_free(train);
    recint_dataset_free(valid);
    recint_dataset_free(test);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(leave_one_out)
{
    recint_dataset *ds = staircase(8), *train = NULL, *valid = NULL, *test = NULL;
    RI_OK(recint_dataset_split(ds, "loo", 1, &train, &valid, &test));
    const recint_dataset *parts[] = {train, valid, test};
    check_partition(ds, parts, 3);
    uint32_t order[MAX_ROWS];
    for (uint32_t n = 1; n <= 8; n++) {
        uint32_t u = n - 1;
        if (n < 4) {
            ck_assert_uint_eq(row_len(train, u), n);
            ck_assert_uint_eq(row_len(valid, u), 0);
            ck_assert_uint_eq(row_len(test, u), 0);
            continue;
        }
        time_order(n, order);
        ck_assert_uint_eq(row_len(test, u), 1);
        ck_assert_uint_eq(row_len(valid, u), 1);
        ck_assert(row_has(test, u, order[n - 1]));
        ck_assert(row_has(valid, u, order[n - 2]));
    }
    recint_dataset_free(train);
    recint_dataset_free(valid);
    recint_dataset_free(test);

    /* Without a validation output the second-to-last row stays in train. */
    RI_OK(recint_dataset_split(ds, "loo", 1, &train, NULL, &test));
    const recint_dataset *two[] = {train, test};
    check_partition(ds, two, 2);
    for (uint32_t n = 1; n <= 8; n++)
        ck_assert_uint_eq(row_len(train, n - 1), n < 4 ? n : n - 1);
    recint_dataset_free(train);
    recint_dataset_free(test);
    recint_dataset_free(ds);
}
END_TEST

static int same_rows(const recint_dataset *a, const recint_dataset *b)
{
    const uint64_t *pa, *pb;
    const uint32_t *ia, *ib;
    RI_OK(recint_dataset_csr(a, &pa, &ia, NULL, NULL));
    RI_OK(recint_dataset_csr(b, &pb, &ib, NULL, NULL));
    uint32_t nu = recint_dataset_n_users(a);
    return nu == recint_dataset_n_users(b) && memcmp(pa, pb, (nu + 1) * sizeof *pa) == 0 &&
           memcmp(ia, ib, pa[nu] * sizeof *ia) == 0;
}

START_TEST(random_counts_and_seeds)
{
    /* 45 users: 1035 rows; ceil(1035 * 0.2) = 207; valid ceil(828 * 0.2) = 166. */
    recint_dataset *ds = staircase(45);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 1035);
    recint_dataset *tr1, *te1, *tr2, *te2, *tr3, *te3, *va;
    RI_OK(recint_dataset_split(ds, "random:0.2", 11, &tr1, NULL, &te1));
    RI_OK(recint_dataset_split(ds, "random:0.2", 11, &tr2, NULL, &te2));
    RI_OK(recint_dataset_split(ds, "random:0.2", 12, &tr3, NULL, &te3));
    ck_assert_uint_eq(recint_dataset_n_interactions(te1), 207);
    ck_assert_uint_eq(recint_dataset_n_interactions(tr1), 828);
    ck_assert_uint_eq(recint_dataset_n_interactions(te3), 207);
    const recint_dataset *parts[] = {tr1, te1};
    check_partition(ds, parts, 2);
    ck_assert(same_rows(te1, te2));
    ck_assert(same_rows(tr1, tr2));
    ck_assert(!same_rows(te1, te3));
    recint_dataset_free(tr2);
    recint_dataset_free(te2);
    recint_dataset_free(tr3);
    recint_dataset_free(te3);

    RI_OK(recint_dataset_split(ds, "random:0.2", 11, &tr2, &va, &te2));
    ck_assert_uint_eq(recint_dataset_n_interactions(te2), 207);
    ck_assert_uint_eq(recint_dataset_n_interactions(va), 166);
    ck_assert_uint_eq(recint_dataset_n_interactions(tr2), 1035 - 207 - 166);
    const recint_dataset *three[] = {tr2, va, te2};
    check_partition(ds, three, 3);
    /* The test part does not depend on whether validation is requested. */
    ck_assert(same_rows(te1, te2));
    recint_dataset_free(tr1);
    recint_dataset_free(te1);
    recint_dataset_free(tr2);
    recint_dataset_free(te2);
    recint_dataset_free(va);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(bad_specs)
{
    recint_dataset *ds = staircase(5);
    const char *bad[] = {"", "random", "random:", "random:0", "random:0.0", "random:1",
                         "random:1.0", "random:1.5", "temporal:-0.2", "temporal:0.2x",
                         "temporal:abc", "temporal:0.1234567891", "loo:0.2", "LOO", "time:0.2",
                         "temporal: 0.2", "temporal:0,2"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        recint_dataset *train = NULL, *valid = NULL, *test = NULL;
        int rc = recint_dataset_split(ds, bad[k], 1, &train, &valid, &test);
        ck_assert_msg(rc == RECINT_EINVAL, "spec \"%s\" -> %d", bad[k], rc);
        ck_assert_msg(strstr(recint_last_error(), "random:F") && strstr(recint_last_error(), "loo"),
                      "spec \"%s\": message \"%s\" names no valid form", bad[k], recint_last_error());
        ck_assert_ptr_null(train);
        ck_assert_ptr_null(valid);
        ck_assert_ptr_null(test);
    }
    recint_dataset *train = NULL, *test = NULL;
    RI_FAILS(RECINT_EINVAL, recint_dataset_split(NULL, "loo", 1, &train, NULL, &test));
    RI_FAILS(RECINT_EINVAL, recint_dataset_split(ds, NULL, 1, &train, NULL, &test));
    RI_FAILS(RECINT_EINVAL, recint_dataset_split(ds, "loo", 1, NULL, NULL, &test));
    RI_FAILS(RECINT_EINVAL, recint_dataset_split(ds, "loo", 1, &train, NULL, NULL));
    ck_assert_ptr_null(train);
    ck_assert_ptr_null(test);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(empty_dataset)
{
    recint_dataset *ds = NULL, *train = NULL, *test = NULL;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_split(ds, "random:0.5", 3, &train, NULL, &test));
    ck_assert_uint_eq(recint_dataset_n_interactions(train), 0);
    ck_assert_uint_eq(recint_dataset_n_interactions(test), 0);
    recint_dataset_free(train);
    recint_dataset_free(test);
    recint_dataset_free(ds);
}
END_TEST

/* PROTOCOLS.md P1, parsed here independently of the library's loader. */
START_TEST(ml100k_protocol_p1)
{
    char path[4096];
    if (!ri_test_dataset_file("ml-100k/u.data", path, sizeof path))
        return;
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    enum { N = 100000 };
    int64_t *u = malloc(N * sizeof *u), *i = malloc(N * sizeof *i), *t = malloc(N * sizeof *t);
    float *w = malloc(N * sizeof *w);
    size_t n = 0;
    long long a, b, c, d;
    while (n < N && fscanf(f, "%lld %lld %lld %lld", &a, &b, &c, &d) == 4) {
        u[n] = a;
        i[n] = b;
        w[n] = (float)c;
        t[n] = d;
        n++;
    }
    fclose(f);
    ck_assert_uint_eq(n, N);
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add(ds, n, u, i, w, t));
    free(u);
    free(i);
    free(t);
    free(w);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 100000);
    /* One call: index order is id order (ids are 1..943 and 1..1682). */
    for (uint32_t x = 0; x < 943; x++) {
        int64_t id;
        RI_OK(recint_idmap_id(recint_dataset_users(ds), x, &id));
        ck_assert_int_eq(id, (int64_t)x + 1);
    }
    int64_t last_item;
    RI_OK(recint_idmap_id(recint_dataset_items(ds), 1681, &last_item));
    ck_assert_int_eq(last_item, 1682);

    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "min_weight", "4"));
    recint_dataset *pos = NULL, *train = NULL, *test = NULL;
    RI_OK(recint_dataset_filter(&pos, ds, cfg));
    recint_config_free(cfg);
    ck_assert_uint_eq(recint_dataset_n_interactions(pos), 43929 + 11446);
    RI_OK(recint_dataset_split(pos, "temporal:0.2", 42, &train, NULL, &test));
    ck_assert_uint_eq(recint_dataset_n_interactions(train), 43929);
    ck_assert_uint_eq(recint_dataset_n_interactions(test), 11446);
    ck_assert_uint_eq(recint_dataset_n_users(train), 943);
    ck_assert_uint_eq(recint_dataset_n_items(train), 1682);
    ck_assert_uint_eq(recint_dataset_n_users(test), 943);
    ck_assert_uint_eq(recint_dataset_n_items(test), 1682);
    uint32_t users_with_test = 0;
    for (uint32_t x = 0; x < 943; x++)
        users_with_test += row_len(test, x) > 0;
    ck_assert_uint_eq(users_with_test, 942);
    const uint64_t *cptr;
    RI_OK(recint_dataset_csc(train, &cptr, NULL, NULL));
    uint32_t items_without_train = 0;
    for (uint32_t x = 0; x < 1682; x++)
        items_without_train += cptr[x + 1] == cptr[x];
    ck_assert_uint_eq(items_without_train, 335);
    recint_dataset_free(train);
    recint_dataset_free(test);
    recint_dataset_free(pos);
    recint_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("split");
    TCase *tc = tcase_create("split");
    tcase_add_test(tc, temporal_fifth_counts);
    tcase_add_test(tc, temporal_other_fractions);
    tcase_add_test(tc, temporal_with_validation);
    tcase_add_test(tc, leave_one_out);
    tcase_add_test(tc, random_counts_and_seeds);
    tcase_add_test(tc, bad_specs);
    tcase_add_test(tc, empty_dataset);
    suite_add_tcase(s, tc);
    tc = tcase_create("movielens");
    tcase_add_test(tc, ml100k_protocol_p1);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
