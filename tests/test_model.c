/* Model handle, the pop kind and the trainer: known answers computed by hand. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"
#include "models/model_private.h"
#include "testutil.h"

/* users 10, 20, 30 -> 0, 1, 2; items 100..500 -> 0..4 (500 reserved, never seen).
 *   u0: items 0, 1      u1: items 0, 2      u2: items 0, 1, 3
 * popularity: item0 3, item1 2, item2 1, item3 1, item4 0 */
static recint_dataset *small_int_dataset(void)
{
    static const int64_t u[] = {10, 10, 20, 20, 30, 30, 30};
    static const int64_t i[] = {100, 200, 100, 300, 100, 200, 400};
    static const float w[] = {5, 1, 1, 1, 1, 9, 1}; /* weights must not matter */
    static const int64_t extra_item = 500;
    recint_dataset *ds;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add(ds, 7, u, i, w, NULL));
    RI_OK(recint_dataset_reserve_ids(ds, 0, NULL, 1, &extra_item));
    ck_assert_uint_eq(recint_dataset_n_items(ds), 5);
    return ds;
}

static recint_dataset *small_str_dataset(void)
{
    static const char *const u[] = {"ann", "ann", "bob", "bob", "cy", "cy", "cy"};
    static const char *const i[] = {"a", "b", "a", "c", "a", "b", "d"};
    recint_dataset *ds;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add_str(ds, 7, u, i, NULL, NULL));
    return ds;
}

static recint_model *fit_pop(const recint_dataset *ds)
{
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "pop", NULL));
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    recint_trainer_free(t);
    return m;
}

static void expect_rec(const recint_model *m, uint32_t user, uint32_t k, const uint32_t *want,
                       const float *want_scores, uint32_t n_want)
{
    uint32_t items[16], n = 99;
    float scores[16];
    RI_OK(recint_model_recommend(m, user, k, items, scores, &n));
    ck_assert_uint_eq(n, n_want);
    for (uint32_t j = 0; j < n; j++) {
        ck_assert_uint_eq(items[j], want[j]);
        ck_assert_float_eq(scores[j], want_scores[j]);
    }
}

START_TEST(pop_scores_exact)
{
    recint_dataset *ds = small_int_dataset();
    recint_model *m = fit_pop(ds);
    ck_assert_str_eq(recint_model_kind(m), "pop");
    ck_assert_uint_eq(recint_model_n_users(m), 3);
    ck_assert_uint_eq(recint_model_n_items(m), 5);
    float all[15];
    uint32_t users[3] = {2, 0, 1};
    RI_OK(recint_model_score(m, users, 3, NULL, 0, all));
    static const float want[5] = {3, 2, 1, 1, 0};
    for (int u = 0; u < 3; u++)
        for (int i = 0; i < 5; i++)
            ck_assert_float_eq(all[u * 5 + i], want[i]);
    uint32_t items[3] = {4, 0, 1};
    float sub[3];
    RI_OK(recint_model_score(m, users + 1, 1, items, 3, sub));
    ck_assert_float_eq(sub[0], 0);
    ck_assert_float_eq(sub[1], 3);
    ck_assert_float_eq(sub[2], 2);
    /* the linear form the SIMD core will consume: dim 0, bias = popularity */
    ri_linear_view v;
    RI_OK(ri_model_linear(m, &v));
    ck_assert_uint_eq(v.dim, 0);
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(v.item_bias[i], want[i]);
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(pop_recommend_order_and_exclusion)
{
    recint_dataset *ds = small_int_dataset();
    recint_model *m = fit_pop(ds);
    /* u0 saw 0 and 1; 2 and 3 tie at 1, the smaller index first */
    expect_rec(m, 0, 10, (uint32_t[]){2, 3, 4}, (float[]){1, 1, 0}, 3);
    expect_rec(m, 0, 2, (uint32_t[]){2, 3}, (float[]){1, 1}, 2);
    expect_rec(m, 1, 3, (uint32_t[]){1, 3, 4}, (float[]){2, 1, 0}, 3);
    expect_rec(m, 2, 5, (uint32_t[]){2, 4}, (float[]){1, 0}, 2);
    /* k far above the catalogue: only the eligible items, no huge scratch */
    uint32_t items[5], n = 0;
    RI_OK(recint_model_recommend(m, 2, UINT32_MAX, items, NULL, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(items[0], 2);
    ck_assert_uint_eq(items[1], 4);
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(errors)
{
    recint_dataset *ds = small_int_dataset();
    recint_model *m, *keep = (recint_model *)&m;
    uint32_t items[4], n = 77, u = 0;
    float out[8];
    RI_FAILS(RECINT_EUNSUPPORTED, recint_model_new(&m, "nope", NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "nope"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "pop"));
    RI_FAILS(RECINT_EINVAL, recint_model_new(NULL, "pop", NULL));
    RI_FAILS(RECINT_EINVAL, recint_model_new(&keep, NULL, NULL));
    ck_assert_ptr_eq(keep, (recint_model *)&m);
    ck_assert_str_eq(recint_model_kinds(), "pop|factors|als|hybrid|sequential");
    ck_assert_ptr_null(recint_model_kind(NULL));
    ck_assert_uint_eq(recint_model_n_users(NULL), 0);

    RI_OK(recint_model_new(&m, "pop", NULL));
    ck_assert_uint_eq(recint_model_n_items(m), 0);
    RI_FAILS(RECINT_ESTATE, recint_model_recommend(m, 0, 3, items, NULL, &n));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "not fitted"));
    RI_FAILS(RECINT_ESTATE, recint_model_score(m, &u, 1, NULL, 0, out));
    RI_FAILS(RECINT_ESTATE, recint_model_save(m, "/nonexistent/x"));
    ck_assert_uint_eq(n, 77);

    recint_trainer *t;
    RI_FAILS(RECINT_EINVAL, recint_trainer_new(&t, NULL, NULL));
    RI_FAILS(RECINT_EINVAL, recint_trainer_new(NULL, m, NULL));
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_FAILS(RECINT_EINVAL, recint_trainer_fit(t, NULL, NULL, NULL, NULL));
    recint_dataset *empty;
    RI_OK(recint_dataset_new(&empty, NULL));
    RI_FAILS(RECINT_EINVAL, recint_trainer_fit(t, empty, NULL, NULL, NULL));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));

    RI_FAILS(RECINT_ERANGE, recint_model_recommend(m, 3, 3, items, NULL, &n));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "user 3"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "n_users = 3"));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend(m, 0, 0, items, NULL, &n));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend(NULL, 0, 3, items, NULL, &n));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend(m, 0, 3, NULL, NULL, &n));
    RI_FAILS(RECINT_EINVAL, recint_model_recommend(m, 0, 3, items, NULL, NULL));
    ck_assert_uint_eq(n, 77);

    uint32_t bad_users[2] = {1, 9}, bad_items[2] = {0, 5};
    RI_FAILS(RECINT_ERANGE, recint_model_score(m, bad_users, 2, NULL, 0, out));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "users[1] = 9"));
    RI_FAILS(RECINT_ERANGE, recint_model_score(m, &u, 1, bad_items, 2, out));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "items[1] = 5"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "n_items = 5"));
    RI_FAILS(RECINT_EINVAL, recint_model_score(m, NULL, 1, NULL, 0, out));
    RI_FAILS(RECINT_EINVAL, recint_model_score(m, &u, 1, NULL, 0, NULL));
    RI_FAILS(RECINT_EINVAL, recint_model_score(NULL, &u, 1, NULL, 0, out));
    RI_FAILS(RECINT_EINVAL, recint_model_save(m, NULL));
    RI_FAILS(RECINT_EINVAL, recint_model_load(NULL, "x"));
    RI_FAILS(RECINT_EINVAL, recint_model_load_buffer(&keep, NULL, 10));

    recint_trainer_free(t);
    recint_model_free(m);
    recint_model_free(NULL);
    recint_trainer_free(NULL);
    recint_dataset_free(empty);
    recint_dataset_free(ds);
}
END_TEST

/* Same kind, catalogue, id maps and answers for every user. */
static void expect_same_model(const recint_model *a, const recint_model *b)
{
    uint32_t nu = recint_model_n_users(a), ni = recint_model_n_items(a);
    ck_assert_uint_eq(recint_model_n_users(b), nu);
    ck_assert_uint_eq(recint_model_n_items(b), ni);
    ck_assert_str_eq(recint_model_kind(a), recint_model_kind(b));
    const recint_idmap *maps[2][2] = {{recint_model_users(a), recint_model_items(a)},
                                      {recint_model_users(b), recint_model_items(b)}};
    for (int w = 0; w < 2; w++) {
        int kind = recint_idmap_kind(maps[0][w]);
        ck_assert_int_eq(recint_idmap_kind(maps[1][w]), kind);
        ck_assert_uint_eq(recint_idmap_size(maps[0][w]), recint_idmap_size(maps[1][w]));
        for (uint32_t i = 0; i < recint_idmap_size(maps[0][w]); i++) {
            if (kind == RECINT_IDS_INT) {
                int64_t x, y;
                RI_OK(recint_idmap_id(maps[0][w], i, &x));
                RI_OK(recint_idmap_id(maps[1][w], i, &y));
                ck_assert_int_eq(x, y);
            } else {
                const char *x, *y;
                RI_OK(recint_idmap_id_str(maps[0][w], i, &x));
                RI_OK(recint_idmap_id_str(maps[1][w], i, &y));
                ck_assert_str_eq(x, y);
            }
        }
    }
    float *sa = malloc(sizeof(float) * ni), *sb = malloc(sizeof(float) * ni);
    uint32_t *ia = malloc(sizeof(uint32_t) * ni), *ib = malloc(sizeof(uint32_t) * ni);
    for (uint32_t u = 0; u < nu; u++) {
        RI_OK(recint_model_score(a, &u, 1, NULL, 0, sa));
        RI_OK(recint_model_score(b, &u, 1, NULL, 0, sb));
        ck_assert_mem_eq(sa, sb, sizeof(float) * ni);
        uint32_t na, nb;
        RI_OK(recint_model_recommend(a, u, ni, ia, sa, &na));
        RI_OK(recint_model_recommend(b, u, ni, ib, sb, &nb));
        ck_assert_uint_eq(na, nb);
        ck_assert_mem_eq(ia, ib, sizeof(uint32_t) * na);
        ck_assert_mem_eq(sa, sb, sizeof(float) * na);
    }
    free(sa);
    free(sb);
    free(ia);
    free(ib);
}

static void roundtrip(recint_dataset *ds, const char *name)
{
    char path[512];
    ri_test_tmp(name, path, sizeof path);
    recint_model *m = fit_pop(ds), *back = NULL;
    RI_OK(recint_model_save(m, path));
    RI_OK(recint_model_load(&back, path));
    expect_same_model(m, back);
    /* the buffer path reads the same bytes (copied: the source may go away) */
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    ck_assert_uint_eq(fread(buf + 1, 1, (size_t)size, f), (size_t)size); /* misaligned on purpose */
    fclose(f);
    recint_model *back2 = NULL;
    RI_OK(recint_model_load_buffer(&back2, buf + 1, (size_t)size));
    memset(buf, 0xAB, (size_t)size + 1);
    free(buf);
    expect_same_model(m, back2);
    /* a saved file reloads to the same file byte for byte */
    char path2[512];
    ri_test_tmp("again.bin", path2, sizeof path2);
    RI_OK(recint_model_save(back2, path2));
    recint_model *back3 = NULL;
    RI_OK(recint_model_load(&back3, path2));
    expect_same_model(m, back3);
    remove(path);
    remove(path2);
    recint_model_free(m);
    recint_model_free(back);
    recint_model_free(back2);
    recint_model_free(back3);
}

START_TEST(save_load_int_ids)
{
    recint_dataset *ds = small_int_dataset();
    roundtrip(ds, "int.bin");
    recint_dataset_free(ds);
}
END_TEST

START_TEST(save_load_string_ids)
{
    recint_dataset *ds = small_str_dataset();
    recint_model *m = fit_pop(ds);
    uint32_t idx;
    RI_OK(recint_idmap_index_str(recint_model_items(m), "b", &idx));
    expect_rec(m, 1, 4, (uint32_t[]){idx, 3}, (float[]){2, 1}, 2);
    recint_model_free(m);
    roundtrip(ds, "str.bin");
    recint_dataset_free(ds);
}
END_TEST

START_TEST(save_keeps_config_and_reports_io)
{
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "seed", "1234"));
    recint_model *m, *back;
    RI_OK(recint_model_new(&m, "pop", cfg));
    recint_config_free(cfg);
    recint_dataset *ds = small_int_dataset();
    recint_trainer *t;
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    char path[512];
    ri_test_tmp("cfg.bin", path, sizeof path);
    RI_OK(recint_model_save(m, path));
    RI_OK(recint_model_load(&back, path));
    char v[32];
    RI_OK(recint_config_get(back->cfg, "seed", v, sizeof v));
    ck_assert_str_eq(v, "1234");
    RI_FAILS(RECINT_EIO, recint_model_save(m, "/nonexistent-dir/x.bin"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "/nonexistent-dir/x.bin.tmp"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "No such file"));
    remove(path);
    recint_trainer_free(t);
    recint_model_free(m);
    recint_model_free(back);
    recint_dataset_free(ds);
}
END_TEST

typedef struct {
    int calls;
    uint32_t last_step, last_steps;
    int cancel;
} progress_log;

static int on_progress(void *ctx, uint32_t step, uint32_t steps, double loss)
{
    progress_log *p = ctx;
    (void)loss;
    p->calls++;
    p->last_step = step;
    p->last_steps = steps;
    return p->cancel;
}

START_TEST(trainer_progress_and_cancel)
{
    recint_dataset *ds = small_int_dataset(), *other;
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "pop", NULL));
    RI_OK(recint_trainer_new(&t, m, NULL));

    progress_log log = {0, 0, 0, 1};
    RI_FAILS(RECINT_ECANCELED, recint_trainer_fit(t, ds, NULL, on_progress, &log));
    ck_assert_int_eq(log.calls, 1);
    uint32_t items[5], n;
    RI_FAILS(RECINT_ESTATE, recint_model_recommend(m, 0, 3, items, NULL, &n));

    log = (progress_log){0, 0, 0, 0};
    RI_OK(recint_trainer_fit(t, ds, NULL, on_progress, &log));
    ck_assert_int_eq(log.calls, 1);
    ck_assert_uint_eq(log.last_step, log.last_steps);
    ck_assert_uint_ge(log.last_steps, 1);

    /* a canceled refit on other data keeps the complete previous model */
    static const int64_t u[] = {1, 2};
    static const int64_t i[] = {7, 7};
    RI_OK(recint_dataset_new(&other, NULL));
    RI_OK(recint_dataset_add(other, 2, u, i, NULL, NULL));
    log = (progress_log){0, 0, 0, 1};
    RI_FAILS(RECINT_ECANCELED, recint_trainer_fit(t, other, NULL, on_progress, &log));
    ck_assert_uint_eq(recint_model_n_users(m), 3);
    ck_assert_uint_eq(recint_model_n_items(m), 5);
    expect_rec(m, 0, 10, (uint32_t[]){2, 3, 4}, (float[]){1, 1, 0}, 3);
    /* and an uncanceled one replaces it */
    RI_OK(recint_trainer_fit(t, other, NULL, NULL, NULL));
    ck_assert_uint_eq(recint_model_n_users(m), 2);
    ck_assert_uint_eq(recint_model_n_items(m), 1);
    RI_OK(recint_model_recommend(m, 0, 3, items, NULL, &n));
    ck_assert_uint_eq(n, 0);

    recint_trainer_free(t);
    recint_model_free(m);
    recint_dataset_free(ds);
    recint_dataset_free(other);
}
END_TEST

enum { CU = 120, CI = 300, CK = 20 };

typedef struct {
    const recint_model *m;
    uint32_t items[CU][CK], n[CU];
    float scores[CU][CK];
    int rc;
} rec_job;

static void *rec_all(void *arg)
{
    rec_job *j = arg;
    for (int rep = 0; rep < 5; rep++)
        for (uint32_t u = 0; u < CU && j->rc == RECINT_OK; u++)
            j->rc = recint_model_recommend(j->m, u, CK, j->items[u], j->scores[u], &j->n[u]);
    return NULL;
}

START_TEST(concurrent_recommend_matches_serial)
{
    /* Skewed pseudo-random data (simple LCG) so rankings differ per user. */
    enum { N = 6000 };
    int64_t *u = malloc(sizeof(int64_t) * N), *it = malloc(sizeof(int64_t) * N);
    uint64_t x = 12345;
    for (int k = 0; k < N; k++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        u[k] = (int64_t)((x >> 33) % CU);
        uint64_t r = (x >> 13) % (CI * CI);
        it[k] = (int64_t)(r / CI * r / (CI * CI) % CI); /* biased towards small ids */
    }
    recint_dataset *ds;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add(ds, N, u, it, NULL, NULL));
    free(u);
    free(it);
    recint_model *m = fit_pop(ds);
    ck_assert_uint_eq(recint_model_n_users(m), CU);
    static rec_job serial, par[2];
    serial.m = par[0].m = par[1].m = m;
    rec_all(&serial);
    RI_OK(serial.rc);
    pthread_t th[2];
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(pthread_create(&th[k], NULL, rec_all, &par[k]), 0);
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    for (int k = 0; k < 2; k++) {
        RI_OK(par[k].rc);
        ck_assert_mem_eq(par[k].n, serial.n, sizeof serial.n);
        for (uint32_t v = 0; v < CU; v++) {
            ck_assert_mem_eq(par[k].items[v], serial.items[v], serial.n[v] * sizeof(uint32_t));
            ck_assert_mem_eq(par[k].scores[v], serial.scores[v], serial.n[v] * sizeof(float));
        }
    }
    /* serial answers are right: non-increasing scores, no seen item */
    const uint64_t *indptr;
    const uint32_t *seen;
    RI_OK(recint_dataset_csr(ds, &indptr, &seen, NULL, NULL));
    for (uint32_t v = 0; v < CU; v++) {
        ck_assert_uint_eq(serial.n[v], CK);
        for (uint32_t j = 0; j < serial.n[v]; j++) {
            if (j)
                ck_assert(serial.scores[v][j] < serial.scores[v][j - 1] ||
                          (serial.scores[v][j] == serial.scores[v][j - 1] &&
                           serial.items[v][j] > serial.items[v][j - 1]));
            for (uint64_t s = indptr[v]; s < indptr[v + 1]; s++)
                ck_assert_uint_ne(serial.items[v][j], seen[s]);
        }
    }
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST


/* ---- PROTOCOLS.md P1: the popularity row, computed by an independent evaluator ---- */

typedef struct {
    int64_t user, item, ts;
} p1_row;

static int p1_cmp(const void *a, const void *b)
{
    const p1_row *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

static int64_t next_int(const char **p)
{
    while (**p == '\t' || **p == ' ')
        (*p)++;
    int64_t v = 0;
    while (**p >= '0' && **p <= '9')
        v = v * 10 + (*(*p)++ - '0');
    return v;
}

START_TEST(p1_popularity_row)
{
    char path[1024];
    if (!ri_test_dataset_file("ml-100k/u.data", path, sizeof path))
        return;
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    p1_row *rows = malloc(sizeof(p1_row) * 100000);
    size_t n = 0;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        const char *q = line;
        int64_t u = next_int(&q), i = next_int(&q), r = next_int(&q), t = next_int(&q);
        if (r >= 4)
            rows[n++] = (p1_row){u, i, t};
    }
    fclose(f);
    qsort(rows, n, sizeof *rows, p1_cmp);
    /* catalogue 1..943 x 1..1682 in id order, so index = id - 1 */
    int64_t *uids = malloc(sizeof(int64_t) * 943), *iids = malloc(sizeof(int64_t) * 1682);
    for (int k = 0; k < 943; k++)
        uids[k] = k + 1;
    for (int k = 0; k < 1682; k++)
        iids[k] = k + 1;
    recint_dataset *train;
    RI_OK(recint_dataset_new(&train, NULL));
    RI_OK(recint_dataset_reserve_ids(train, 943, uids, 1682, iids));
    int64_t *tu = malloc(sizeof(int64_t) * n), *ti = malloc(sizeof(int64_t) * n);
    uint8_t *is_test = calloc(n, 1);
    size_t n_train = 0, n_test = 0;
    for (size_t b = 0, e; b < n; b = e) {
        for (e = b; e < n && rows[e].user == rows[b].user; e++)
            ;
        size_t cnt = e - b, test = (cnt + 4) / 5;
        for (size_t j = b; j < e; j++) {
            if (j >= e - test) {
                is_test[j] = 1;
                n_test++;
            } else {
                tu[n_train] = rows[j].user;
                ti[n_train++] = rows[j].item;
            }
        }
    }
    ck_assert_uint_eq(n_train, 43929);
    ck_assert_uint_eq(n_test, 11446);
    RI_OK(recint_dataset_add(train, n_train, tu, ti, NULL, NULL));
    recint_model *m = fit_pop(train);
    float scores[1682];
    uint32_t u0 = 0;
    RI_OK(recint_model_score(m, &u0, 1, NULL, 0, scores));
    const uint64_t *indptr;
    const uint32_t *seen;
    RI_OK(recint_dataset_csr(train, &indptr, &seen, NULL, NULL));
    double sp = 0, sr = 0, sn = 0, sa = 0;
    int users = 0;
    for (size_t b = 0, e; b < n; b = e) {
        for (e = b; e < n && rows[e].user == rows[b].user; e++)
            ;
        uint32_t u = (uint32_t)(rows[b].user - 1);
        uint8_t relevant[1682] = {0}, in_train[1682] = {0};
        size_t n_rel = 0;
        for (size_t j = b; j < e; j++)
            if (is_test[j]) {
                relevant[rows[j].item - 1] = 1;
                n_rel++;
            }
        if (n_rel == 0)
            continue;
        for (uint64_t s = indptr[u]; s < indptr[u + 1]; s++)
            in_train[seen[s]] = 1;
        uint32_t top[10], got;
        RI_OK(recint_model_recommend(m, u, 10, top, NULL, &got));
        ck_assert_uint_eq(got, 10);
        double hits = 0, dcg = 0, idcg = 0;
        for (uint32_t r = 0; r < 10; r++) {
            if (relevant[top[r]]) {
                hits++;
                dcg += 1.0 / log2(r + 2.0);
            }
            if (r < n_rel)
                idcg += 1.0 / log2(r + 2.0);
        }
        double pairs = 0, wins = 0;
        for (int i = 0; i < 1682; i++) {
            if (!relevant[i])
                continue;
            for (int j = 0; j < 1682; j++) {
                if (relevant[j] || in_train[j])
                    continue;
                pairs++;
                wins += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
            }
        }
        sp += hits / 10;
        sr += hits / (double)n_rel;
        sn += dcg / idcg;
        sa += wins / pairs;
        users++;
    }
    fprintf(stderr, "P1 pop: P@10 %.5f R@10 %.5f NDCG@10 %.5f AUC %.5f\n", sp / users, sr / users, sn / users, sa / users);
    ck_assert_int_eq(users, 942);
    ck_assert_msg(fabs(sp / users - 0.0627) < 5e-5, "P@10 %.5f", sp / users);
    ck_assert_msg(fabs(sr / users - 0.0598) < 5e-5, "R@10 %.5f", sr / users);
    ck_assert_msg(fabs(sn / users - 0.0797) < 5e-5, "NDCG@10 %.5f", sn / users);
    ck_assert_msg(fabs(sa / users - 0.8272) < 5e-5, "AUC %.5f", sa / users);
    recint_model_free(m);
    recint_dataset_free(train);
    free(rows);
    free(uids);
    free(iids);
    free(tu);
    free(ti);
    free(is_test);
}
END_TEST

/* Kinds without feature embeddings refuse features instead of ignoring them. */
START_TEST(set_features_refused_by_featureless_kinds)
{
    recint_features *f = NULL;
    RI_OK(recint_features_identity(&f, 3));
    RI_FAILS(RECINT_EINVAL, recint_model_set_features(NULL, f, NULL));
    recint_model *m = NULL;
    RI_OK(recint_model_new(&m, "pop", NULL));
    RI_FAILS(RECINT_EUNSUPPORTED, recint_model_set_features(m, f, f));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "'pop'"));
    recint_model_free(m);
    recint_features_free(f);
}
END_TEST

/* recint_model_load_ex / _load_buffer_ex: NULL cfg and a cfg without the key
 * load as recint_model_load does; a limit below what the load needs refuses
 * it with EFORMAT naming the key and leaves out untouched; the file's own
 * config.load_memory_limit never raises the caller's. */
START_TEST(load_ex_reads_the_callers_limit)
{
    recint_dataset *ds = small_int_dataset();
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "load_memory_limit", "1000000000"));
    recint_model *m, *back = NULL;
    RI_OK(recint_model_new(&m, "pop", cfg));
    recint_trainer *t;
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    recint_trainer_free(t);
    char path[512];
    ri_test_tmp("limit.bin", path, sizeof path);
    RI_OK(recint_model_save(m, path)); /* saves config.load_memory_limit=1000000000 */

    RI_OK(recint_model_load_ex(&back, path, NULL));
    expect_same_model(m, back);
    recint_model_free(back);
    recint_config *plain;
    RI_OK(recint_config_new(&plain));
    RI_OK(recint_model_load_ex(&back, path, plain));
    expect_same_model(m, back);
    recint_model_free(back);

    RI_OK(recint_config_set(plain, "load_memory_limit", "4096"));
    back = (recint_model *)&back;
    RI_FAILS(RECINT_EFORMAT, recint_model_load_ex(&back, path, plain));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "above the limit of 4096 bytes set by load_memory_limit"));
    ck_assert_ptr_eq(back, (recint_model *)&back);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_gt(n, 64);
    ck_assert_uint_lt(n, sizeof buf);
    RI_FAILS(RECINT_EFORMAT, recint_model_load_buffer_ex(&back, buf, n, plain));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "load_memory_limit"));
    ck_assert_ptr_eq(back, (recint_model *)&back);
    RI_OK(recint_config_set(plain, "load_memory_limit", "0"));
    back = NULL;
    RI_OK(recint_model_load_buffer_ex(&back, buf, n, plain));
    expect_same_model(m, back);
    recint_model_free(back);

    RI_FAILS(RECINT_EINVAL, recint_model_load_ex(NULL, path, plain));
    RI_FAILS(RECINT_EINVAL, recint_model_load_ex(&back, NULL, plain));
    RI_FAILS(RECINT_EINVAL, recint_model_load_buffer_ex(NULL, buf, n, plain));
    remove(path);
    recint_config_free(plain);
    recint_config_free(cfg);
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST

/* Keys belong to kinds (the owner field of the table): a model or a trainer
 * refuses a key set for other kinds, naming the key and its kind, and leaves
 * *out alone; the same key is accepted by its own kind, and keys of core,
 * explore and simulate by every kind. Checked for every kind-owned key of the
 * table against every trainable kind, the expectation read from the owner
 * field by an independent split here. */
static int owner_lists(const char *owner, const char *kind)
{
    size_t n = strlen(kind);
    for (const char *p = owner; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, kind, n) == 0)
            return 1;
        if (!bar)
            break;
        p = bar + 1;
    }
    return 0;
}

START_TEST(keys_of_other_kinds_refused)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "blocks", "4"));
    recint_model *m = (recint_model *)&cfg;
    RI_FAILS(RECINT_EINVAL, recint_model_new(&m, "als", cfg));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "'blocks'"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "sequential"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "'als'"));
    ck_assert_ptr_eq(m, (recint_model *)&cfg);
    RI_OK(recint_model_new(&m, "sequential", cfg));
    recint_model_free(m);

    /* The trainer checks its own config against the model's kind. */
    RI_OK(recint_model_new(&m, "als", NULL));
    recint_trainer *t = (recint_trainer *)&cfg;
    RI_FAILS(RECINT_EINVAL, recint_trainer_new(&t, m, cfg));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "'blocks'"));
    ck_assert_ptr_eq(t, (recint_trainer *)&cfg);
    recint_config_free(cfg);
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "iterations", "3"));
    RI_OK(recint_config_set(cfg, "threads", "1"));
    RI_OK(recint_config_set(cfg, "policy", "linucb"));
    RI_OK(recint_config_set(cfg, "sim_rounds", "3"));
    RI_OK(recint_trainer_new(&t, m, cfg));
    recint_trainer_free(t);
    recint_model_free(m);
    recint_config_free(cfg);

    static const char *const kinds[] = {"pop", "als", "hybrid", "sequential"};
    int refused = 0, accepted = 0;
    for (size_t i = 0; i < recint_config_count(); i++) {
        const char *key = recint_config_describe(i, RECINT_PARAM_KEY);
        const char *owner = recint_config_describe(i, RECINT_PARAM_OWNER);
        const char *def = recint_config_describe(i, RECINT_PARAM_DEFAULT);
        int any_kind = !strcmp(owner, "core") || !strcmp(owner, "explore") ||
                       !strcmp(owner, "simulate");
        for (size_t q = 0; q < sizeof kinds / sizeof kinds[0]; q++) {
            RI_OK(recint_config_new(&cfg));
            RI_OK(recint_config_set(cfg, key, def));
            int want = any_kind || owner_lists(owner, kinds[q]);
            m = NULL;
            int rc = recint_model_new(&m, kinds[q], cfg);
            if (want) {
                ck_assert_msg(rc == RECINT_OK, "%s=%s on %s: %s", key, def, kinds[q],
                              recint_last_error());
                accepted++;
            } else {
                ck_assert_msg(rc == RECINT_EINVAL, "%s on %s: rc %d", key, kinds[q], rc);
                ck_assert_msg(strstr(recint_last_error(), key) && strstr(recint_last_error(), owner),
                              "%s on %s: %s", key, kinds[q], recint_last_error());
                ck_assert_ptr_null(m);
                refused++;
            }
            recint_model_free(m);
            recint_config_free(cfg);
        }
    }
    ck_assert_int_ge(refused, 40);
    ck_assert_int_ge(accepted, 100);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("pop");
    tcase_add_test(tc, pop_scores_exact);
    tcase_add_test(tc, pop_recommend_order_and_exclusion);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, save_load_int_ids);
    tcase_add_test(tc, save_load_string_ids);
    tcase_add_test(tc, save_keeps_config_and_reports_io);
    tcase_add_test(tc, trainer_progress_and_cancel);
    tcase_add_test(tc, concurrent_recommend_matches_serial);
    tcase_add_test(tc, p1_popularity_row);
    tcase_add_test(tc, set_features_refused_by_featureless_kinds);
    tcase_add_test(tc, load_ex_reads_the_callers_limit);
    tcase_add_test(tc, keys_of_other_kinds_refused);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
