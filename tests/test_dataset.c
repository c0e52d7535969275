/* Dataset core: id maps, adding interactions (index order, duplicates, atomic
 * failure), CSR/CSC views, reserve_ids, filters (min_weight, implicit, k-core). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_private.h"
#include "data/dataset_internal.h"
#include "data/idmap.h"
#include "util/rng.h"
#include "testutil.h"

static recint_dataset *new_ds(const char *duplicates)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    if (duplicates)
        RI_OK(recint_config_set(cfg, "duplicates", duplicates));
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_new(&ds, cfg));
    recint_config_free(cfg);
    return ds;
}

static uint32_t user_index(const recint_dataset *ds, int64_t id)
{
    uint32_t u = UINT32_MAX;
    RI_OK(recint_idmap_index(recint_dataset_users(ds), id, &u));
    return u;
}

static uint32_t item_index(const recint_dataset *ds, int64_t id)
{
    uint32_t i = UINT32_MAX;
    RI_OK(recint_idmap_index(recint_dataset_items(ds), id, &i));
    return i;
}

/* Position of (user id, item id) in the CSR, or -1. */
static long find_row(const recint_dataset *ds, int64_t user, int64_t item)
{
    const uint64_t *ptr;
    const uint32_t *ind;
    RI_OK(recint_dataset_csr(ds, &ptr, &ind, NULL, NULL));
    uint32_t u = user_index(ds, user), i = item_index(ds, item);
    for (uint64_t e = ptr[u]; e < ptr[u + 1]; e++)
        if (ind[e] == i)
            return (long)e;
    return -1;
}

static int has_text(const char *needle) { return strstr(recint_last_error(), needle) != NULL; }

/* ------------------------------------------------------------------------ */

START_TEST(idmap_int_basics)
{
    recint_idmap *m = NULL;
    RI_OK(ri_idmap_new(&m));
    ck_assert_int_eq(recint_idmap_kind(m), RECINT_IDS_NONE);
    uint32_t idx;
    int added;
    RI_OK(ri_idmap_intern(m, -5, &idx, &added));
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(added, 1);
    RI_OK(ri_idmap_intern(m, INT64_MAX, &idx, &added));
    ck_assert_uint_eq(idx, 1);
    RI_OK(ri_idmap_intern(m, -5, &idx, &added));
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(added, 0);
    ck_assert_int_eq(recint_idmap_kind(m), RECINT_IDS_INT);
    ck_assert_uint_eq(recint_idmap_size(m), 2);
    /* Enough ids to force several table growths. */
    for (int64_t id = 1000; id < 21000; id++)
        RI_OK(ri_idmap_intern(m, id * 7919, &idx, NULL));
    ck_assert_uint_eq(recint_idmap_size(m), 20002);
    for (int64_t id = 1000; id < 21000; id++) {
        RI_OK(recint_idmap_index(m, id * 7919, &idx));
        ck_assert_uint_eq(idx, (uint32_t)(id - 1000 + 2));
        int64_t back;
        RI_OK(recint_idmap_id(m, idx, &back));
        ck_assert_int_eq(back, id * 7919);
    }
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index(m, 3, &idx));
    ck_assert(has_text("3"));
    int64_t id;
    RI_FAILS(RECINT_ERANGE, recint_idmap_id(m, 20002, &id));
    ck_assert(has_text("20002"));
    const char *s;
    RI_FAILS(RECINT_EINVAL, recint_idmap_id_str(m, 0, &s));
    RI_FAILS(RECINT_EINVAL, recint_idmap_index_str(m, "x", &idx));
    RI_FAILS(RECINT_ESTATE, ri_idmap_intern_str(m, "x", 1, &idx, NULL));
    ck_assert(has_text("int"));
    RI_FAILS(RECINT_EINVAL, recint_idmap_index(NULL, 1, &idx));
    RI_FAILS(RECINT_EINVAL, recint_idmap_index(m, 1, NULL));
    ck_assert_uint_eq(recint_idmap_size(NULL), 0);
    ck_assert_int_eq(recint_idmap_kind(NULL), RECINT_IDS_NONE);
    ck_assert_int_eq(ri_idmap_ints(m)[1], INT64_MAX);
    ri_idmap_free(m);
    ri_idmap_free(NULL);
}
END_TEST

START_TEST(idmap_string_basics)
{
    recint_idmap *m = NULL;
    RI_OK(ri_idmap_new(&m));
    uint32_t idx;
    RI_OK(ri_idmap_intern_str(m, "alpha-long", 5, &idx, NULL)); /* span, not NUL-terminated */
    RI_OK(ri_idmap_intern_str(m, "", 0, &idx, NULL));
    ck_assert_uint_eq(idx, 1);
    char buf[32];
    for (int k = 0; k < 5000; k++) {
        snprintf(buf, sizeof buf, "id-%d", k);
        RI_OK(ri_idmap_intern_str(m, buf, strlen(buf), &idx, NULL));
        ck_assert_uint_eq(idx, (uint32_t)k + 2);
    }
    const char *s;
    RI_OK(recint_idmap_id_str(m, 0, &s));
    ck_assert_str_eq(s, "alpha");
    RI_OK(recint_idmap_id_str(m, 1, &s));
    ck_assert_str_eq(s, "");
    RI_OK(recint_idmap_index_str(m, "id-4321", &idx));
    ck_assert_uint_eq(idx, 4323);
    RI_OK(recint_idmap_index_str(m, "alpha", &idx));
    ck_assert_uint_eq(idx, 0);
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index_str(m, "alpha-long", &idx));
    ck_assert(has_text("alpha-long"));
    RI_FAILS(RECINT_ERANGE, recint_idmap_id_str(m, 5002, &s));
    int64_t id;
    RI_FAILS(RECINT_EINVAL, recint_idmap_id(m, 0, &id));
    RI_FAILS(RECINT_EINVAL, recint_idmap_index(m, 0, &idx));
    RI_FAILS(RECINT_ESTATE, ri_idmap_intern(m, 7, &idx, NULL));
    RI_FAILS(RECINT_EINVAL, ri_idmap_intern_str(m, "a\0b", 3, &idx, NULL));
    ck_assert_ptr_null(ri_idmap_ints(m));

    recint_idmap *c = NULL;
    RI_OK(ri_idmap_copy(&c, m));
    ri_idmap_free(m);
    RI_OK(recint_idmap_index_str(c, "id-17", &idx));
    ck_assert_uint_eq(idx, 19);
    RI_OK(recint_idmap_id_str(c, 19, &s));
    ck_assert_str_eq(s, "id-17");
    ri_idmap_free(c);
}
END_TEST

/* An id longer than every stored one must be compared without reading the
 * stored ids past their end (ASan flags the over-read). Ten short ids fill most
 * hash slots so the long lookups probe them; 64 long ids make sure they do. */
enum { LONG_ID = 3000 };

static char *long_id(char fill, int k)
{
    char *s = malloc(LONG_ID + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, fill, LONG_ID);
    snprintf(s + LONG_ID - 8, 9, "%08d", k);
    return s;
}

START_TEST(idmap_long_string_lookup)
{
    recint_dataset *ds = new_ds(NULL);
    const char *const users[] = {"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"};
    const char *const items[] = {"i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8", "i9"};
    RI_OK(recint_dataset_add_str(ds, 10, users, items, NULL, NULL));
    const recint_idmap *um = recint_dataset_users(ds);
    uint32_t idx;
    for (int k = 0; k < 64; k++) {
        char *id = long_id('u', k);
        RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index_str(um, id, &idx));
        free(id);
    }
    /* Through recint_dataset_add_str: each long user is new, then found again. */
    for (int k = 0; k < 64; k++) {
        char *id = long_id('u', k);
        const char *u[] = {id}, *it[] = {"i3"};
        RI_OK(recint_dataset_add_str(ds, 1, u, it, NULL, NULL));
        RI_OK(recint_idmap_index_str(um, id, &idx));
        ck_assert_uint_eq(idx, 10 + (uint32_t)k);
        free(id);
    }
    /* A prefix of a stored long id is not that id, nor is the id with a tail. */
    char *id = long_id('u', 5);
    id[LONG_ID - 1] = '\0';
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index_str(um, id, &idx));
    free(id);
    RI_OK(recint_idmap_index_str(um, "u7", &idx));
    ck_assert_uint_eq(idx, 7);
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index_str(um, "u7x", &idx));
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index_str(um, "u", &idx));
    ck_assert_uint_eq(recint_dataset_n_users(ds), 74);
    recint_dataset_free(ds);

    /* Spans: a query holding a NUL after a stored id's characters is not that id. */
    recint_idmap *m = NULL;
    RI_OK(ri_idmap_new(&m));
    RI_OK(ri_idmap_intern_str(m, "ab", 2, &idx, NULL));
    ck_assert(!ri_idmap_find_str(m, "ab\0cd", 5, &idx));
    ck_assert(!ri_idmap_find_str(m, "a", 1, &idx));
    ck_assert(ri_idmap_find_str(m, "abc", 2, &idx));
    ri_idmap_free(m);
}
END_TEST

START_TEST(idmap_constructors)
{
    recint_idmap *m = NULL;
    RI_OK(ri_idmap_new_range(&m, 1000));
    uint32_t idx;
    int64_t id;
    RI_OK(recint_idmap_index(m, 999, &idx));
    ck_assert_uint_eq(idx, 999);
    RI_OK(recint_idmap_id(m, 17, &id));
    ck_assert_int_eq(id, 17);
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index(m, 1000, &idx));
    ri_idmap_free(m);

    const int64_t ids[] = {40, -2, 7};
    RI_OK(ri_idmap_new_ints(&m, ids, 3));
    RI_OK(recint_idmap_index(m, -2, &idx));
    ck_assert_uint_eq(idx, 1);
    ri_idmap_free(m);
    const int64_t rep[] = {1, 2, 1};
    m = NULL;
    RI_FAILS(RECINT_EFORMAT, ri_idmap_new_ints(&m, rep, 3));
    ck_assert_ptr_null(m);

    const char *const names[] = {"x", "y", "z"};
    RI_OK(ri_idmap_new_strings(&m, names, 3));
    RI_OK(recint_idmap_index_str(m, "z", &idx));
    ck_assert_uint_eq(idx, 2);
    ri_idmap_free(m);
    const char *const srep[] = {"x", "y", "y"};
    m = NULL;
    RI_FAILS(RECINT_EFORMAT, ri_idmap_new_strings(&m, srep, 3));
    ck_assert(has_text("\"y\""));
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(idmap_sort_tail_and_truncate)
{
    recint_idmap *m = NULL;
    RI_OK(ri_idmap_new(&m));
    const int64_t in[] = {50, 10, 90, 30, 20};
    uint32_t idx, perm[3];
    for (int k = 0; k < 5; k++)
        RI_OK(ri_idmap_intern(m, in[k], &idx, NULL));
    /* Tail from index 2 holds 90, 30, 20 -> sorted 20, 30, 90. */
    RI_OK(ri_idmap_sort_tail(m, 2, perm));
    ck_assert_uint_eq(perm[0], 2);
    ck_assert_uint_eq(perm[1], 1);
    ck_assert_uint_eq(perm[2], 0);
    const int64_t want[] = {50, 10, 20, 30, 90};
    for (uint32_t k = 0; k < 5; k++) {
        int64_t id;
        RI_OK(recint_idmap_id(m, k, &id));
        ck_assert_int_eq(id, want[k]);
        RI_OK(recint_idmap_index(m, want[k], &idx));
        ck_assert_uint_eq(idx, k);
    }
    ri_idmap_truncate(m, 2);
    ck_assert_uint_eq(recint_idmap_size(m), 2);
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index(m, 90, &idx));
    RI_OK(recint_idmap_index(m, 10, &idx));
    ck_assert_uint_eq(idx, 1);
    ri_idmap_truncate(m, 0);
    ck_assert_int_eq(recint_idmap_kind(m), RECINT_IDS_NONE);
    /* Once empty again, the map may take the other kind. */
    RI_OK(ri_idmap_intern_str(m, "s", 1, &idx, NULL));
    ck_assert_int_eq(recint_idmap_kind(m), RECINT_IDS_STRING);
    ri_idmap_free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */

START_TEST(add_int_index_order)
{
    recint_dataset *ds = new_ds(NULL);
    const int64_t u1[] = {30, 10, 20, 10}, i1[] = {9, 7, 5, 5};
    const float w1[] = {1, 2, 3, 4};
    const int64_t t1[] = {100, 200, 300, 400};
    RI_OK(recint_dataset_add(ds, 4, u1, i1, w1, t1));
    ck_assert_uint_eq(recint_dataset_n_users(ds), 3);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 3);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 4);
    ck_assert_uint_eq(user_index(ds, 10), 0);
    ck_assert_uint_eq(user_index(ds, 20), 1);
    ck_assert_uint_eq(user_index(ds, 30), 2);
    ck_assert_uint_eq(item_index(ds, 5), 0);
    ck_assert_uint_eq(item_index(ds, 7), 1);
    ck_assert_uint_eq(item_index(ds, 9), 2);

    /* A second call: new ids go after the existing ones, ascending among themselves. */
    const int64_t u2[] = {40, 5, 10}, i2[] = {1, 9, 100};
    RI_OK(recint_dataset_add(ds, 3, u2, i2, NULL, NULL));
    ck_assert_uint_eq(user_index(ds, 5), 3);
    ck_assert_uint_eq(user_index(ds, 40), 4);
    ck_assert_uint_eq(item_index(ds, 1), 3);
    ck_assert_uint_eq(item_index(ds, 100), 4);
    int64_t id;
    RI_OK(recint_idmap_id(recint_dataset_users(ds), 3, &id));
    ck_assert_int_eq(id, 5);

    const uint64_t *ptr;
    const uint32_t *ind;
    const float *w;
    const int64_t *t;
    RI_OK(recint_dataset_csr(ds, &ptr, &ind, &w, &t));
    /* user 10 (index 0): items 5 (w4,t400), 7 (w2,t200), 100 (w1,t0). */
    const uint64_t want_ptr[] = {0, 3, 4, 5, 6, 7};
    for (int k = 0; k < 6; k++)
        ck_assert_uint_eq(ptr[k], want_ptr[k]);
    const uint32_t want_ind[] = {0, 1, 4, 0, 2, 2, 3};
    const float want_w[] = {4, 2, 1, 3, 1, 1, 1};
    const int64_t want_t[] = {400, 200, 0, 300, 100, 0, 0};
    for (int k = 0; k < 7; k++) {
        ck_assert_uint_eq(ind[k], want_ind[k]);
        ck_assert_float_eq(w[k], want_w[k]);
        ck_assert_int_eq(t[k], want_t[k]);
    }

    const uint64_t *cptr;
    const uint32_t *cu;
    const float *cw;
    RI_OK(recint_dataset_csc(ds, &cptr, &cu, &cw));
    /* item 5 (0): users 0 (w4), 1 (w3); item 7: user 0; item 9: users 2, 3; item 1: 4; item 100: 0 */
    const uint64_t want_cptr[] = {0, 2, 3, 5, 6, 7};
    const uint32_t want_cu[] = {0, 1, 0, 2, 3, 4, 0};
    const float want_cw[] = {4, 3, 2, 1, 1, 1, 1};
    for (int k = 0; k < 6; k++)
        ck_assert_uint_eq(cptr[k], want_cptr[k]);
    for (int k = 0; k < 7; k++) {
        ck_assert_uint_eq(cu[k], want_cu[k]);
        ck_assert_float_eq(cw[k], want_cw[k]);
    }
    /* Adding invalidates the CSC: it is rebuilt with the new row. */
    const int64_t u3[] = {20}, i3[] = {7};
    RI_OK(recint_dataset_add(ds, 1, u3, i3, NULL, NULL));
    RI_OK(recint_dataset_csc(ds, &cptr, &cu, NULL));
    ck_assert_uint_eq(cptr[2] - cptr[1], 2);
    ck_assert_uint_eq(cu[cptr[1] + 1], 1);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(add_string_ids)
{
    recint_dataset *ds = new_ds(NULL);
    const char *const users[] = {"bob", "alice", "carol", "alice"};
    const char *const items[] = {"m2", "m10", "m1", "m2"};
    RI_OK(recint_dataset_add_str(ds, 4, users, items, NULL, NULL));
    const recint_idmap *um = recint_dataset_users(ds), *im = recint_dataset_items(ds);
    ck_assert_int_eq(recint_idmap_kind(um), RECINT_IDS_STRING);
    uint32_t idx;
    RI_OK(recint_idmap_index_str(um, "alice", &idx));
    ck_assert_uint_eq(idx, 0);
    RI_OK(recint_idmap_index_str(um, "carol", &idx));
    ck_assert_uint_eq(idx, 2);
    /* strcmp order: "m1" < "m10" < "m2". */
    const char *s;
    RI_OK(recint_idmap_id_str(im, 0, &s));
    ck_assert_str_eq(s, "m1");
    RI_OK(recint_idmap_id_str(im, 1, &s));
    ck_assert_str_eq(s, "m10");
    RI_OK(recint_idmap_id_str(im, 2, &s));
    ck_assert_str_eq(s, "m2");
    const uint64_t *ptr;
    const uint32_t *ind;
    RI_OK(recint_dataset_csr(ds, &ptr, &ind, NULL, NULL));
    ck_assert_uint_eq(ptr[1], 2); /* alice: m10, m2 */
    ck_assert_uint_eq(ind[0], 1);
    ck_assert_uint_eq(ind[1], 2);

    const char *const u2[] = {"zed", "aaron"}, *const i2[] = {"m1", "m1"};
    RI_OK(recint_dataset_add_str(ds, 2, u2, i2, NULL, NULL));
    RI_OK(recint_idmap_index_str(um, "aaron", &idx));
    ck_assert_uint_eq(idx, 3);
    RI_OK(recint_idmap_index_str(um, "zed", &idx));
    ck_assert_uint_eq(idx, 4);

    /* Mixing kinds. */
    const int64_t iu[] = {1}, ii[] = {2};
    RI_FAILS(RECINT_ESTATE, recint_dataset_add(ds, 1, iu, ii, NULL, NULL));
    ck_assert(has_text("string"));
    RI_FAILS(RECINT_ESTATE, recint_dataset_reserve_ids(ds, 1, iu, 0, NULL));
    const char *const bad[] = {"x", NULL};
    RI_FAILS(RECINT_EINVAL, recint_dataset_add_str(ds, 2, bad, bad, NULL, NULL));
    ck_assert(has_text("row 1"));
    ck_assert_uint_eq(recint_dataset_n_users(ds), 5);
    recint_dataset_free(ds);

    ds = new_ds(NULL);
    RI_OK(recint_dataset_add(ds, 1, iu, ii, NULL, NULL));
    RI_FAILS(RECINT_ESTATE, recint_dataset_add_str(ds, 2, users, items, NULL, NULL));
    ck_assert(has_text("int"));
    recint_dataset_free(ds);
}
END_TEST

/* Pair (1, 100): rows A (2,t5), B (3,t1), C (3,t3) in call 1, D (1,t5) in call 2.
 * sum: 9 at t5; max: B beats A, C ties B and is later -> (3,t3), D smaller;
 * last: A has the largest time until D ties it and is later -> (1,t5). */
static void check_policy(const char *policy, float want_w, int64_t want_t)
{
    recint_dataset *ds = new_ds(policy);
    const int64_t u1[] = {1, 2, 1, 1}, i1[] = {100, 100, 100, 100};
    const float w1[] = {2, 7, 3, 3};
    const int64_t t1[] = {5, 8, 1, 3};
    RI_OK(recint_dataset_add(ds, 4, u1, i1, w1, t1));
    const int64_t u2[] = {1}, i2[] = {100};
    const float w2[] = {1};
    const int64_t t2[] = {5};
    RI_OK(recint_dataset_add(ds, 1, u2, i2, w2, t2));
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 2);
    const float *w;
    const int64_t *t;
    RI_OK(recint_dataset_csr(ds, NULL, NULL, &w, &t));
    long e = find_row(ds, 1, 100);
    ck_assert_int_ge(e, 0);
    ck_assert_msg(w[e] == want_w && t[e] == want_t, "%s: got (%g, %lld), want (%g, %lld)",
                  policy, (double)w[e], (long long)t[e], (double)want_w, (long long)want_t);
    e = find_row(ds, 2, 100);
    ck_assert_float_eq(w[e], 7);
    ck_assert_int_eq(t[e], 8);
    recint_dataset_free(ds);
}

START_TEST(duplicates_policies)
{
    check_policy("sum", 9, 5);
    check_policy("max", 3, 3);
    check_policy("last", 1, 5);
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_FAILS(RECINT_EINVAL, recint_config_set(cfg, "duplicates", "first"));
    recint_config_free(cfg);
}
END_TEST

/* Independent reference: dense matrices updated row by row in arrival order. */
START_TEST(add_matches_reference)
{
    enum { NU = 40, NI = 300, CALLS = 4, ROWS = 3000 };
    const char *policies[] = {"sum", "max", "last"};
    for (int pol = 0; pol < 3; pol++) {
        recint_dataset *ds = new_ds(policies[pol]);
        static double rw[NU][NI];
        static int64_t rt[NU][NI];
        static int present[NU][NI];
        memset(present, 0, sizeof present);
        ri_rng rng;
        ri_rng_seed(&rng, 7, (uint64_t)pol);
        for (int c = 0; c < CALLS; c++) {
            int64_t us[ROWS], is[ROWS], ts[ROWS];
            float ws[ROWS];
            for (int r = 0; r < ROWS; r++) {
                /* Few users so that rows are long enough for the merge sort path. */
                us[r] = (int64_t)ri_rng_below(&rng, NU) * 3 - 20;
                is[r] = (int64_t)ri_rng_below(&rng, NI) * 11;
                ws[r] = (float)ri_rng_below(&rng, 5);
                ts[r] = (int64_t)ri_rng_below(&rng, 4);
                int u = (int)((us[r] + 20) / 3), i = (int)(is[r] / 11);
                if (!present[u][i]) {
                    present[u][i] = 1;
                    rw[u][i] = ws[r];
                    rt[u][i] = ts[r];
                } else if (pol == 0) {
                    rw[u][i] += ws[r];
                    if (ts[r] > rt[u][i])
                        rt[u][i] = ts[r];
                } else if (pol == 1 ? ws[r] >= rw[u][i] : ts[r] >= rt[u][i]) {
                    rw[u][i] = ws[r];
                    rt[u][i] = ts[r];
                }
            }
            RI_OK(recint_dataset_add(ds, ROWS, us, is, ws, ts));
        }
        const uint64_t *ptr;
        const uint32_t *ind;
        const float *w;
        const int64_t *t;
        RI_OK(recint_dataset_csr(ds, &ptr, &ind, &w, &t));
        uint64_t total = 0;
        for (int u = 0; u < NU; u++)
            for (int i = 0; i < NI; i++)
                total += (uint64_t)present[u][i];
        ck_assert_uint_eq(recint_dataset_n_interactions(ds), total);
        for (uint32_t u = 0; u < recint_dataset_n_users(ds); u++) {
            int64_t uid, iid;
            RI_OK(recint_idmap_id(recint_dataset_users(ds), u, &uid));
            for (uint64_t e = ptr[u]; e < ptr[u + 1]; e++) {
                if (e > ptr[u])
                    ck_assert_uint_gt(ind[e], ind[e - 1]);
                RI_OK(recint_idmap_id(recint_dataset_items(ds), ind[e], &iid));
                int ru = (int)((uid + 20) / 3), ri = (int)(iid / 11);
                ck_assert(present[ru][ri]);
                ck_assert_msg(w[e] == (float)rw[ru][ri] && t[e] == rt[ru][ri],
                              "%s: user %lld item %lld got (%g,%lld) want (%g,%lld)", policies[pol],
                              (long long)uid, (long long)iid, (double)w[e], (long long)t[e],
                              rw[ru][ri], (long long)rt[ru][ri]);
            }
        }
        recint_dataset_free(ds);
    }
}
END_TEST

START_TEST(add_atomic_on_error)
{
    recint_dataset *ds = new_ds(NULL);
    const int64_t u1[] = {1, 2}, i1[] = {10, 20};
    RI_OK(recint_dataset_add(ds, 2, u1, i1, NULL, NULL));
    const uint64_t *ptr0;
    RI_OK(recint_dataset_csr(ds, &ptr0, NULL, NULL, NULL));

    const int64_t u2[] = {3, 1, 4}, i2[] = {30, 10, 40};
    float w2[] = {1, NAN, 1};
    RI_FAILS(RECINT_EINVAL, recint_dataset_add(ds, 3, u2, i2, w2, NULL));
    ck_assert(has_text("row 1"));
    ck_assert(has_text("NaN"));
    w2[1] = INFINITY;
    RI_FAILS(RECINT_EINVAL, recint_dataset_add(ds, 3, u2, i2, w2, NULL));
    ck_assert(has_text("infinite"));
    /* Duplicates summing beyond float range fail after interning: still atomic. */
    const int64_t u3[] = {7, 7}, i3[] = {70, 70};
    const float w3[] = {3e38f, 3e38f};
    RI_FAILS(RECINT_EINVAL, recint_dataset_add(ds, 2, u3, i3, w3, NULL));

    ck_assert_uint_eq(recint_dataset_n_users(ds), 2);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 2);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 2);
    uint32_t idx;
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index(recint_dataset_users(ds), 3, &idx));
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index(recint_dataset_users(ds), 7, &idx));
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index(recint_dataset_items(ds), 70, &idx));
    const uint64_t *ptr;
    const float *w;
    RI_OK(recint_dataset_csr(ds, &ptr, NULL, &w, NULL));
    ck_assert_ptr_eq(ptr, ptr0);
    ck_assert_float_eq(w[0], 1);

    /* Same with string ids, where the new ids were already sorted when it failed. */
    recint_dataset *sds = new_ds(NULL);
    const char *const su[] = {"m", "n"}, *const si[] = {"x", "y"};
    RI_OK(recint_dataset_add_str(sds, 2, su, si, NULL, NULL));
    const char *const bu[] = {"zz", "aa", "zz"}, *const bi[] = {"q", "x", "q"};
    const float bw[] = {3e38f, 1, 3e38f};
    RI_FAILS(RECINT_EINVAL, recint_dataset_add_str(sds, 3, bu, bi, bw, NULL));
    ck_assert_uint_eq(recint_dataset_n_users(sds), 2);
    ck_assert_uint_eq(recint_idmap_size(recint_dataset_users(sds)), 2);
    RI_FAILS(RECINT_ENOTFOUND, recint_idmap_index_str(recint_dataset_users(sds), "aa", &idx));
    const char *const gu[] = {"b", "a"}, *const gi[] = {"q", "q"};
    RI_OK(recint_dataset_add_str(sds, 2, gu, gi, NULL, NULL));
    const char *name;
    RI_OK(recint_idmap_id_str(recint_dataset_users(sds), 2, &name));
    ck_assert_str_eq(name, "a");
    RI_OK(recint_idmap_id_str(recint_dataset_users(sds), 3, &name));
    ck_assert_str_eq(name, "b");
    RI_OK(recint_idmap_id_str(recint_dataset_users(sds), 1, &name));
    ck_assert_str_eq(name, "n");
    recint_dataset_free(sds);

    /* The dataset still works after the failures. */
    w2[1] = 5;
    RI_OK(recint_dataset_add(ds, 3, u2, i2, w2, NULL));
    ck_assert_uint_eq(user_index(ds, 3), 2);
    ck_assert_uint_eq(user_index(ds, 4), 3);
    RI_OK(recint_dataset_csr(ds, NULL, NULL, &w, NULL));
    ck_assert_float_eq(w[find_row(ds, 1, 10)], 6);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(argument_errors)
{
    recint_dataset *ds = new_ds(NULL);
    const int64_t u[] = {1}, i[] = {2};
    RI_FAILS(RECINT_EINVAL, recint_dataset_new(NULL, NULL));
    RI_FAILS(RECINT_EINVAL, recint_dataset_add(NULL, 1, u, i, NULL, NULL));
    RI_FAILS(RECINT_EINVAL, recint_dataset_add(ds, 1, NULL, i, NULL, NULL));
    ck_assert(has_text("users"));
    RI_FAILS(RECINT_EINVAL, recint_dataset_add(ds, 1, u, NULL, NULL, NULL));
    ck_assert(has_text("items"));
    RI_FAILS(RECINT_EINVAL, recint_dataset_add_str(ds, 1, NULL, NULL, NULL, NULL));
    RI_FAILS(RECINT_EINVAL, recint_dataset_reserve_ids(ds, 1, NULL, 0, NULL));
    RI_FAILS(RECINT_EINVAL, recint_dataset_csr(NULL, NULL, NULL, NULL, NULL));
    RI_FAILS(RECINT_EINVAL, recint_dataset_csc(NULL, NULL, NULL, NULL));
    RI_OK(recint_dataset_add(ds, 0, NULL, NULL, NULL, NULL));
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 0);
    ck_assert_uint_eq(recint_dataset_n_users(NULL), 0);
    ck_assert_uint_eq(recint_dataset_n_items(NULL), 0);
    ck_assert_uint_eq(recint_dataset_n_interactions(NULL), 0);
    ck_assert_ptr_null(recint_dataset_users(NULL));
    ck_assert_ptr_null(recint_dataset_items(NULL));
    /* Empty dataset: valid views. */
    const uint64_t *ptr;
    RI_OK(recint_dataset_csr(ds, &ptr, NULL, NULL, NULL));
    ck_assert_uint_eq(ptr[0], 0);
    RI_OK(recint_dataset_csc(ds, &ptr, NULL, NULL));
    ck_assert_uint_eq(ptr[0], 0);
    recint_dataset_free(ds);
    recint_dataset_free(NULL);
}
END_TEST

START_TEST(reserve_ids)
{
    recint_dataset *ds = new_ds(NULL);
    const int64_t u[] = {5, 6}, i[] = {50, 60};
    RI_OK(recint_dataset_add(ds, 2, u, i, NULL, NULL));
    const int64_t ru[] = {9, 1, 5}, ri[] = {70};
    RI_OK(recint_dataset_reserve_ids(ds, 3, ru, 1, ri));
    ck_assert_uint_eq(recint_dataset_n_users(ds), 4);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 3);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 2);
    ck_assert_uint_eq(user_index(ds, 1), 2);
    ck_assert_uint_eq(user_index(ds, 9), 3);
    ck_assert_uint_eq(item_index(ds, 70), 2);
    const uint64_t *ptr;
    RI_OK(recint_dataset_csr(ds, &ptr, NULL, NULL, NULL));
    ck_assert_uint_eq(ptr[2], 2);
    ck_assert_uint_eq(ptr[3], 2);
    ck_assert_uint_eq(ptr[4], 2);
    RI_OK(recint_dataset_csc(ds, &ptr, NULL, NULL));
    ck_assert_uint_eq(ptr[3], 2);
    /* Rows for a reserved user merge into its (empty) row. */
    const int64_t u2[] = {9}, i2[] = {70};
    RI_OK(recint_dataset_add(ds, 1, u2, i2, NULL, NULL));
    ck_assert_int_ge(find_row(ds, 9, 70), 0);
    ck_assert_uint_eq(recint_dataset_n_users(ds), 4);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(reserve_ids_str)
{
    recint_dataset *ds = new_ds(NULL);
    const char *u[] = {"bob"}, *i[] = {"tea"};
    RI_OK(recint_dataset_add_str(ds, 1, u, i, NULL, NULL));
    const char *ru[] = {"zoe", "amy", "bob"}, *ri[] = {"coffee"};
    RI_OK(recint_dataset_reserve_ids_str(ds, 3, ru, 1, ri));
    ck_assert_uint_eq(recint_dataset_n_users(ds), 3);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 2);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 1);
    /* New ids of one call take indices in strcmp order after the existing ones. */
    uint32_t idx;
    RI_OK(recint_idmap_index_str(recint_dataset_users(ds), "amy", &idx));
    ck_assert_uint_eq(idx, 1);
    RI_OK(recint_idmap_index_str(recint_dataset_users(ds), "zoe", &idx));
    ck_assert_uint_eq(idx, 2);
    const uint64_t *ptr;
    RI_OK(recint_dataset_csr(ds, &ptr, NULL, NULL, NULL));
    ck_assert_uint_eq(ptr[3], 1);
    /* Int ids into a string dataset, and NULL entries, are refused unchanged. */
    const int64_t iu[] = {1};
    RI_FAILS(RECINT_ESTATE, recint_dataset_reserve_ids(ds, 1, iu, 0, NULL));
    const char *bad[] = {"x", NULL};
    RI_FAILS(RECINT_EINVAL, recint_dataset_reserve_ids_str(ds, 2, bad, 0, NULL));
    ck_assert_uint_eq(recint_dataset_n_users(ds), 3);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(new_with_catalogue)
{
    recint_dataset *base = new_ds(NULL);
    const int64_t u[] = {7, 3}, i[] = {40, 20};
    RI_OK(recint_dataset_add(base, 2, u, i, NULL, NULL));
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_new_with_catalogue(&ds, recint_dataset_users(base),
                                            recint_dataset_items(base), NULL));
    ck_assert_uint_eq(recint_dataset_n_users(ds), 2);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 2);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 0);
    /* Known ids keep the base's indices; a new id is appended after them. */
    const int64_t u2[] = {7, 9}, i2[] = {20, 40};
    RI_OK(recint_dataset_add(ds, 2, u2, i2, NULL, NULL));
    ck_assert_uint_eq(user_index(ds, 7), user_index(base, 7));
    ck_assert_uint_eq(item_index(ds, 20), item_index(base, 20));
    ck_assert_uint_eq(user_index(ds, 9), 2);
    /* The copy is independent of the base. */
    ck_assert_uint_eq(recint_dataset_n_users(base), 2);
    recint_dataset_free(ds);
    RI_OK(recint_dataset_new_with_catalogue(&ds, NULL, recint_dataset_items(base), NULL));
    ck_assert_uint_eq(recint_dataset_n_users(ds), 0);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 2);
    recint_dataset_free(ds);
    RI_FAILS(RECINT_EINVAL, recint_dataset_new_with_catalogue(NULL, NULL, NULL, NULL));
    recint_dataset_free(base);
}
END_TEST

static void *csc_worker(void *arg)
{
    const uint64_t *ptr = NULL;
    if (recint_dataset_csc(arg, &ptr, NULL, NULL) != RECINT_OK)
        return NULL;
    return (void *)ptr;
}

START_TEST(csc_concurrent_first_use)
{
    recint_dataset *ds = new_ds(NULL);
    int64_t u[500], i[500];
    for (int k = 0; k < 500; k++) {
        u[k] = k % 37;
        i[k] = (k * 13) % 101;
    }
    RI_OK(recint_dataset_add(ds, 500, u, i, NULL, NULL));
    pthread_t th[8];
    void *res[8];
    for (int k = 0; k < 8; k++)
        ck_assert_int_eq(pthread_create(&th[k], NULL, csc_worker, ds), 0);
    for (int k = 0; k < 8; k++)
        pthread_join(th[k], &res[k]);
    for (int k = 0; k < 8; k++) {
        ck_assert_ptr_nonnull(res[k]);
        ck_assert_ptr_eq(res[k], res[0]);
    }
    const uint64_t *cptr;
    RI_OK(recint_dataset_csc(ds, &cptr, NULL, NULL));
    ck_assert_uint_eq(cptr[recint_dataset_n_items(ds)], recint_dataset_n_interactions(ds));
    recint_dataset_free(ds);
}
END_TEST

START_TEST(wrap_takes_ownership)
{
    recint_idmap *users, *items;
    RI_OK(ri_idmap_new_range(&users, 2));
    RI_OK(ri_idmap_new_range(&items, 3));
    uint64_t *ptr = malloc(3 * sizeof *ptr);
    uint32_t *ind = malloc(3 * sizeof *ind);
    ptr[0] = 0;
    ptr[1] = 2;
    ptr[2] = 3;
    ind[0] = 0;
    ind[1] = 2;
    ind[2] = 1;
    recint_dataset *ds = NULL;
    RI_OK(ri_dataset_wrap(&ds, RI_DUP_SUM, users, items, ptr, ind, NULL, NULL));
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 3);
    const float *w;
    const int64_t *t;
    RI_OK(recint_dataset_csr(ds, NULL, NULL, &w, &t));
    ck_assert_float_eq(w[2], 1);
    ck_assert_int_eq(t[2], 0);
    recint_dataset_free(ds);
    /* Failure still frees everything (checked by the sanitizer run). */
    RI_OK(ri_idmap_new_range(&users, 1));
    RI_FAILS(RECINT_EINVAL, ri_dataset_wrap(NULL, RI_DUP_SUM, users, NULL, NULL, NULL, NULL, NULL));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Filters                                                                  */
/* ------------------------------------------------------------------------ */

static recint_dataset *filtered(const recint_dataset *ds, const char *const *pairs)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    for (; *pairs; pairs++)
        RI_OK(recint_config_set_pair(cfg, *pairs));
    recint_dataset *out = NULL;
    RI_OK(recint_dataset_filter(&out, ds, cfg));
    recint_config_free(cfg);
    return out;
}

START_TEST(filter_min_weight)
{
    recint_dataset *ds = new_ds(NULL);
    const int64_t u[] = {1, 1, 1, 2, 2, 3}, i[] = {1, 2, 3, 1, 4, 2};
    const float w[] = {5, 3, 4, 1, 4.5f, 2};
    const int64_t t[] = {10, 11, 12, 13, 14, 15};
    RI_OK(recint_dataset_add(ds, 6, u, i, w, t));

    const char *const imp[] = {"min_weight=4", NULL};
    recint_dataset *f = filtered(ds, imp);
    ck_assert_uint_eq(recint_dataset_n_interactions(f), 3);
    ck_assert_uint_eq(recint_dataset_n_users(f), 3);
    ck_assert_uint_eq(recint_dataset_n_items(f), 4);
    ck_assert_ptr_ne(recint_dataset_users(f), recint_dataset_users(ds));
    ck_assert_uint_eq(user_index(f, 3), 2);
    const float *fw;
    const int64_t *ft;
    RI_OK(recint_dataset_csr(f, NULL, NULL, &fw, &ft));
    ck_assert_int_ge(find_row(f, 1, 1), 0);
    ck_assert_int_ge(find_row(f, 1, 3), 0);
    ck_assert_int_ge(find_row(f, 2, 4), 0);
    ck_assert_int_lt(find_row(f, 1, 2), 0);
    for (int k = 0; k < 3; k++)
        ck_assert_float_eq(fw[k], 1);
    ck_assert_int_eq(ft[find_row(f, 2, 4)], 14);
    recint_dataset_free(f);

    const char *const expl[] = {"min_weight=4", "implicit=false", NULL};
    f = filtered(ds, expl);
    RI_OK(recint_dataset_csr(f, NULL, NULL, &fw, NULL));
    ck_assert_float_eq(fw[find_row(f, 2, 4)], 4.5f);
    ck_assert_float_eq(fw[find_row(f, 1, 1)], 5);
    recint_dataset_free(f);

    /* No min_weight: implicit has nothing to act on and weights stay. */
    const char *const none[] = {NULL};
    f = filtered(ds, none);
    ck_assert_uint_eq(recint_dataset_n_interactions(f), 6);
    RI_OK(recint_dataset_csr(f, NULL, NULL, &fw, NULL));
    ck_assert_float_eq(fw[find_row(f, 1, 2)], 3);
    recint_dataset_free(f);

    recint_dataset *out = NULL;
    RI_FAILS(RECINT_EINVAL, recint_dataset_filter(&out, NULL, NULL));
    RI_FAILS(RECINT_EINVAL, recint_dataset_filter(NULL, ds, NULL));
    ck_assert_ptr_null(out);
    recint_dataset_free(ds);
}
END_TEST

/* Users A{1,2} B{2,3} C{3,4} D{4} collapse step by step under a
 * 2-core (D, item 1 -> item 4, A -> C, item 2 -> item 3 -> B); E, F {5,6} survive.
 * One pass of removals would still leave A, B, C with some rows. */
START_TEST(filter_kcore_fixed_point)
{
    recint_dataset *ds = new_ds(NULL);
    const int64_t u[] = {1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 6};
    const int64_t i[] = {1, 2, 2, 3, 3, 4, 4, 5, 6, 5, 6};
    RI_OK(recint_dataset_add(ds, 11, u, i, NULL, NULL));
    const char *const kc[] = {"min_user_interactions=2", "min_item_interactions=2", NULL};
    recint_dataset *f = filtered(ds, kc);
    ck_assert_uint_eq(recint_dataset_n_interactions(f), 4);
    ck_assert_uint_eq(recint_dataset_n_users(f), 6);
    ck_assert_uint_eq(recint_dataset_n_items(f), 6);
    const uint64_t *ptr;
    RI_OK(recint_dataset_csr(f, &ptr, NULL, NULL, NULL));
    for (int64_t id = 1; id <= 4; id++) {
        uint32_t x = user_index(f, id);
        ck_assert_uint_eq(ptr[x + 1] - ptr[x], 0);
    }
    ck_assert_int_ge(find_row(f, 5, 5), 0);
    ck_assert_int_ge(find_row(f, 6, 6), 0);
    recint_dataset_free(f);

    /* Only the user side: D (1 row) goes, nothing cascades. */
    const char *const ku[] = {"min_user_interactions=2", NULL};
    f = filtered(ds, ku);
    ck_assert_uint_eq(recint_dataset_n_interactions(f), 10);
    ck_assert_int_lt(find_row(f, 4, 4), 0);
    recint_dataset_free(f);

    /* Weight filter first: with item 5 below min_weight, E and F keep one row
     * each and the whole graph empties under the 2-core. */
    recint_dataset *ds2 = new_ds(NULL);
    float w[11];
    for (int k = 0; k < 11; k++)
        w[k] = i[k] == 5 ? 1.0f : 5.0f;
    RI_OK(recint_dataset_add(ds2, 11, u, i, w, NULL));
    const char *const kw[] = {"min_weight=3", "min_user_interactions=2", "min_item_interactions=2",
                              NULL};
    f = filtered(ds2, kw);
    ck_assert_uint_eq(recint_dataset_n_interactions(f), 0);
    ck_assert_uint_eq(recint_dataset_n_items(f), 6);
    recint_dataset_free(f);
    recint_dataset_free(ds2);
    recint_dataset_free(ds);
}
END_TEST

/* The k-core uses a private column index: the source's CSC cache is neither
 * left behind (nnz * 8 bytes) nor dropped when the caller had built it. */
START_TEST(filter_kcore_no_csc_left)
{
    recint_dataset *ds = new_ds(NULL);
    const int64_t u[] = {1, 1, 2, 2, 3, 3};
    const int64_t i[] = {1, 2, 1, 2, 1, 3};
    RI_OK(recint_dataset_add(ds, 6, u, i, NULL, NULL));
    const char *const kc[] = {"min_item_interactions=2", NULL};
    recint_dataset *f = filtered(ds, kc);
    ck_assert_uint_eq(recint_dataset_n_interactions(f), 5);
    ck_assert_int_eq(ds->csc_ready, 0);
    ck_assert_ptr_null(ds->csc_indptr);
    recint_dataset_free(f);
    const uint64_t *before;
    RI_OK(recint_dataset_csc(ds, &before, NULL, NULL));
    f = filtered(ds, kc);
    ck_assert_int_eq(ds->csc_ready, 1);
    ck_assert_ptr_eq(ds->csc_indptr, before);
    recint_dataset_free(f);
    recint_dataset_free(ds);
}
END_TEST

/* Random graphs against the definition: drop rows below min_weight, then rows
 * of users or items below their limits, recounting until nothing changes. */
START_TEST(filter_kcore_matches_reference)
{
    enum { NU = 60, NI = 45, ROWS = 900 };
    ri_rng r;
    ri_rng_seed(&r, 17, 0);
    for (int round = 0; round < 30; round++) {
        static uint8_t alive[NU][NI];
        static float wt[NU][NI];
        memset(alive, 0, sizeof alive);
        int64_t us[ROWS], is[ROWS];
        float ws[ROWS];
        for (int k = 0; k < ROWS; k++) {
            us[k] = (int64_t)ri_rng_below(&r, NU);
            is[k] = (int64_t)ri_rng_below(&r, NI);
            ws[k] = (float)ri_rng_below(&r, 5) + 1.0f;
        }
        recint_dataset *ds = new_ds("last");
        RI_OK(recint_dataset_add(ds, ROWS, us, is, ws, NULL));
        for (int k = 0; k < ROWS; k++) { /* last wins; equal timestamps: the later row */
            alive[us[k]][is[k]] = 1;
            wt[us[k]][is[k]] = ws[k];
        }
        uint64_t min_u = 2 + ri_rng_below(&r, 14), min_i = 2 + ri_rng_below(&r, 14);
        float min_w = (float)ri_rng_below(&r, 3) + 1.0f;
        for (int a = 0; a < NU; a++)
            for (int b = 0; b < NI; b++)
                alive[a][b] = alive[a][b] && wt[a][b] >= min_w;
        for (int changed = 1; changed;) {
            changed = 0;
            uint64_t du[NU] = {0}, di[NI] = {0};
            for (int a = 0; a < NU; a++)
                for (int b = 0; b < NI; b++)
                    if (alive[a][b]) {
                        du[a]++;
                        di[b]++;
                    }
            for (int a = 0; a < NU; a++)
                for (int b = 0; b < NI; b++)
                    if (alive[a][b] && (du[a] < min_u || di[b] < min_i)) {
                        alive[a][b] = 0;
                        changed = 1;
                    }
        }
        char p1[64], p2[64], p3[64];
        snprintf(p1, sizeof p1, "min_user_interactions=%llu", (unsigned long long)min_u);
        snprintf(p2, sizeof p2, "min_item_interactions=%llu", (unsigned long long)min_i);
        snprintf(p3, sizeof p3, "min_weight=%g", (double)min_w);
        const char *const pairs[] = {p1, p2, p3, "implicit=false", NULL};
        recint_dataset *f = filtered(ds, pairs);
        uint64_t want = 0;
        for (int a = 0; a < NU; a++)
            for (int b = 0; b < NI; b++)
                if (alive[a][b]) {
                    want++;
                    ck_assert_msg(find_row(f, a, b) >= 0, "round %d: (%d, %d) missing", round, a, b);
                }
        ck_assert_uint_eq(recint_dataset_n_interactions(f), want);
        ck_assert_int_eq(ds->csc_ready, 0);
        recint_dataset_free(f);
        recint_dataset_free(ds);
    }
}
END_TEST

/* RI_DUP_* follow the order of the "duplicates" choices in params.def, for
 * datasets made empty and for synthetic ones. */
START_TEST(duplicates_choice_order)
{
    static const struct {
        const char *name;
        int policy;
    } names[] = {{"sum", RI_DUP_SUM}, {"last", RI_DUP_LAST}, {"max", RI_DUP_MAX}};
    const char *range = NULL;
    for (size_t p = 0; p < recint_config_count(); p++)
        if (strcmp(recint_config_describe(p, RECINT_PARAM_KEY), "duplicates") == 0)
            range = recint_config_describe(p, RECINT_PARAM_RANGE);
    ck_assert_ptr_nonnull(range);
    char text[64];
    snprintf(text, sizeof text, "%s", range);
    int seen = 0;
    for (char *c = strtok(text, "|"); c; c = strtok(NULL, "|")) {
        int policy = -1;
        for (size_t k = 0; k < 3; k++)
            if (strcmp(names[k].name, c) == 0)
                policy = names[k].policy;
        ck_assert_msg(policy >= 0, "duplicates=%s has no RI_DUP_ constant here", c);
        recint_dataset *ds = new_ds(c);
        ck_assert_int_eq(ds->duplicates, policy);
        recint_dataset_free(ds);
        recint_config *cfg = NULL;
        RI_OK(recint_config_new(&cfg));
        RI_OK(recint_config_set(cfg, "duplicates", c));
        RI_OK(recint_config_set(cfg, "syn_users", "50"));
        RI_OK(recint_config_set(cfg, "syn_items", "40"));
        RI_OK(recint_config_set(cfg, "syn_interactions", "100"));
        RI_OK(recint_dataset_synthetic(&ds, cfg, NULL));
        ck_assert_int_eq(ds->duplicates, policy);
        recint_dataset_free(ds);
        recint_config_free(cfg);
        seen++;
    }
    ck_assert_int_eq(seen, 3);
}
END_TEST

/* Interning a catalogue keeps its order (add and reserve sort new ids) and
 * can be undone while no rows use the new ids. */
START_TEST(intern_catalogue_order)
{
    recint_dataset *ds = new_ds(NULL);
    const int64_t u0[] = {5}, i0[] = {8};
    RI_OK(recint_dataset_add(ds, 1, u0, i0, NULL, NULL));
    recint_idmap *cu = NULL, *ci = NULL;
    const int64_t cat_u[] = {9, 5, 2}, cat_i[] = {3, 8};
    RI_OK(ri_idmap_new_ints(&cu, cat_u, 3));
    RI_OK(ri_idmap_new_ints(&ci, cat_i, 2));
    uint32_t where_u[3], where_i[2];
    RI_OK(ri_dataset_intern_catalogue(ds, cu, ci, where_u, where_i));
    ck_assert_uint_eq(where_u[0], 1); /* 9 */
    ck_assert_uint_eq(where_u[1], 0); /* 5 was there */
    ck_assert_uint_eq(where_u[2], 2);
    ck_assert_uint_eq(where_i[0], 1);
    ck_assert_uint_eq(where_i[1], 0);
    ck_assert_uint_eq(recint_dataset_n_users(ds), 3);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 2);
    ck_assert_uint_eq(user_index(ds, 5), 0);
    ck_assert_uint_eq(user_index(ds, 9), 1);
    ck_assert_uint_eq(user_index(ds, 2), 2);
    ck_assert_uint_eq(item_index(ds, 3), 1);
    const uint64_t *ptr;
    RI_OK(recint_dataset_csr(ds, &ptr, NULL, NULL, NULL));
    ck_assert_uint_eq(ptr[3], 1); /* new users have empty rows */
    ck_assert_uint_eq(ptr[1], 1);
    ri_dataset_drop_ids(ds, 1, 1);
    ck_assert_uint_eq(recint_dataset_n_users(ds), 1);
    ck_assert_uint_eq(recint_dataset_n_items(ds), 1);
    ck_assert_int_eq(recint_idmap_index(recint_dataset_users(ds), 9, &(uint32_t){0}), RECINT_ENOTFOUND);
    ck_assert_int_ge(find_row(ds, 5, 8), 0);
    /* Another kind: ESTATE, nothing interned. */
    recint_idmap *cs = NULL;
    const char *names[] = {"a"};
    RI_OK(ri_idmap_new_strings(&cs, names, 1));
    RI_FAILS(RECINT_ESTATE, ri_dataset_intern_catalogue(ds, cs, NULL, NULL, NULL));
    ck_assert_uint_eq(recint_dataset_n_users(ds), 1);
    /* Either map may be NULL. */
    RI_OK(ri_dataset_intern_catalogue(ds, NULL, ci, NULL, NULL));
    ck_assert_uint_eq(recint_dataset_n_items(ds), 2);
    ck_assert_uint_eq(item_index(ds, 3), 1);
    /* Rows by index merge like recint_dataset_add; out-of-range indices fail. */
    uint32_t *ru = malloc(2 * sizeof *ru), *rit = malloc(2 * sizeof *rit);
    ck_assert(ru && rit);
    ru[0] = 0, rit[0] = 1, ru[1] = 0, rit[1] = 0;
    const float rw[] = {2.0f, 5.0f};
    RI_OK(ri_dataset_add_indexed(ds, 2, &ru, &rit, rw, NULL));
    ck_assert_ptr_null(ru);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 2);
    const float *ws;
    RI_OK(recint_dataset_csr(ds, NULL, NULL, &ws, NULL));
    ck_assert(ws[find_row(ds, 5, 8)] == 6.0f); /* summed with the first row */
    ck_assert(ws[find_row(ds, 5, 3)] == 2.0f);
    ru = malloc(sizeof *ru), rit = malloc(sizeof *rit);
    ck_assert(ru && rit);
    ru[0] = 0, rit[0] = 2;
    RI_FAILS(RECINT_EINVAL, ri_dataset_add_indexed(ds, 1, &ru, &rit, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "item index 2 is outside"));
    ck_assert_ptr_null(rit);
    ck_assert_uint_eq(recint_dataset_n_interactions(ds), 2);
    ri_idmap_free(cu);
    ri_idmap_free(ci);
    ri_idmap_free(cs);
    recint_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("idmap");
    tcase_add_test(tc, idmap_int_basics);
    tcase_add_test(tc, idmap_string_basics);
    tcase_add_test(tc, idmap_long_string_lookup);
    tcase_add_test(tc, idmap_constructors);
    tcase_add_test(tc, idmap_sort_tail_and_truncate);
    suite_add_tcase(s, tc);
    tc = tcase_create("add");
    tcase_add_test(tc, add_int_index_order);
    tcase_add_test(tc, add_string_ids);
    tcase_add_test(tc, duplicates_policies);
    tcase_add_test(tc, add_matches_reference);
    tcase_add_test(tc, add_atomic_on_error);
    tcase_add_test(tc, argument_errors);
    tcase_add_test(tc, reserve_ids);
    tcase_add_test(tc, reserve_ids_str);
    tcase_add_test(tc, new_with_catalogue);
    tcase_add_test(tc, csc_concurrent_first_use);
    tcase_add_test(tc, wrap_takes_ownership);
    suite_add_tcase(s, tc);
    tc = tcase_create("filter");
    tcase_add_test(tc, filter_min_weight);
    tcase_add_test(tc, filter_kcore_fixed_point);
    tcase_add_test(tc, filter_kcore_no_csc_left);
    tcase_add_test(tc, filter_kcore_matches_reference);
    tcase_add_test(tc, duplicates_choice_order);
    tcase_add_test(tc, intern_catalogue_order);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
