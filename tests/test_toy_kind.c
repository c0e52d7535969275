/* The registry takes a kind from one line: test_toy_kind is built with
 * tests/toy_kind/recency.c and the model layer compiled with RI_EXTRA_KINDS
 * naming tests/toy_kind/kinds.def, and nothing else of the library changed.
 * The toy kind is then created by name, listed, fitted through the trainer,
 * served by the core (its ranking checked against an independent sort here),
 * saved and loaded, and held to the same key checks as the built-in kinds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recint.h"
#include "testutil.h"

START_TEST(toy_kind_is_registered_and_listed)
{
    ck_assert_str_eq(recint_model_kinds(), "pop|factors|als|hybrid|sequential|recency");
    /* Every listed name is a kind (factors is built from arrays, not trained). */
    char list[128];
    snprintf(list, sizeof list, "%s", recint_model_kinds());
    for (char *kind = strtok(list, "|"); kind; kind = strtok(NULL, "|")) {
        recint_model *m = NULL;
        int rc = recint_model_new(&m, kind, NULL);
        if (strcmp(kind, "factors") == 0) {
            ck_assert_int_eq(rc, RECINT_EUNSUPPORTED);
            continue;
        }
        ck_assert_msg(rc == RECINT_OK, "%s: %s", kind, recint_last_error());
        ck_assert_str_eq(recint_model_kind(m), kind);
        recint_model_free(m);
    }
}
END_TEST

/* 4 users x 6 items; item i's latest time is known by construction. */
static recint_dataset *timed_data(void)
{
    static const int64_t users[] = {1, 1, 2, 2, 3, 3, 4, 4};
    static const int64_t items[] = {10, 11, 11, 12, 13, 10, 14, 12};
    static const int64_t times[] = {5, 70, 30, 90, 20, 40, 60, 10};
    static const float w[] = {1, 1, 1, 1, 1, 1, 1, 1};
    recint_dataset *ds = NULL;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add(ds, 8, users, items, w, times));
    static const int64_t u5[] = {5}, i15[] = {15}, t0[] = {0};
    static const float w0[] = {1};
    RI_OK(recint_dataset_add(ds, 1, u5, i15, w0, t0));
    return ds;
}

START_TEST(toy_kind_fits_serves_saves_and_loads)
{
    recint_dataset *ds = timed_data();
    recint_model *m = NULL;
    recint_trainer *t = NULL;
    RI_OK(recint_model_new(&m, "recency", NULL));
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    /* Latest times: 10 -> 40, 11 -> 70, 12 -> 90, 13 -> 20, 14 -> 60, 15 -> 0.
     * User 1 (index 0) saw 10 and 11: the rest by time is 12, 14, 13, 15. */
    const recint_idmap *im = recint_model_items(m);
    static const int64_t want[] = {12, 14, 13, 15};
    static const float want_score[] = {90, 60, 20, 0};
    uint32_t idx[6], n = 0;
    float sc[6];
    RI_OK(recint_model_recommend(m, 0, 6, idx, sc, &n));
    ck_assert_uint_eq(n, 4);
    for (uint32_t r = 0; r < n; r++) {
        int64_t id;
        RI_OK(recint_idmap_id(im, idx[r], &id));
        ck_assert_int_eq(id, want[r]);
        ck_assert_float_eq(sc[r], want_score[r]);
    }
    char path[512];
    ri_test_tmp("toy_kind.bin", path, sizeof path);
    RI_OK(recint_model_save(m, path));
    recint_model *back = NULL;
    RI_OK(recint_model_load(&back, path));
    ck_assert_str_eq(recint_model_kind(back), "recency");
    uint32_t idx2[6], n2 = 0;
    float sc2[6];
    RI_OK(recint_model_recommend(back, 0, 6, idx2, sc2, &n2));
    ck_assert_uint_eq(n2, n);
    ck_assert_int_eq(memcmp(idx, idx2, n * sizeof idx[0]), 0);
    ck_assert_int_eq(memcmp(sc, sc2, n * sizeof sc[0]), 0);
    remove(path);
    recint_model_free(back);
    recint_trainer_free(t);
    recint_model_free(m);

    /* Another kind's key is refused for the toy too; core keys are not. */
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "iterations", "3"));
    RI_FAILS(RECINT_EINVAL, recint_model_new(&m, "recency", cfg));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "'iterations'"));
    recint_config_free(cfg);
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "threads", "1"));
    RI_OK(recint_model_new(&m, "recency", cfg));
    recint_model_free(m);
    recint_config_free(cfg);
    recint_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("toy_kind");
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, toy_kind_is_registered_and_listed);
    tcase_add_test(tc, toy_kind_fits_serves_saves_and_loads);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
