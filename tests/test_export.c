/* recint_model_factors: for every learned kind the copied vectors reproduce the
 * model's scores (a scalar dot product computed here, and a factors model made
 * from them), and sizes, state and NULLs are checked. */
#include <math.h>
#include <stdlib.h>

#include "testutil.h"

static recint_model *fitted(const char *kind, const char *const *keys)
{
    recint_config *c = NULL;
    RI_OK(recint_config_new(&c));
    RI_OK(recint_config_set(c, "threads", "1"));
    for (const char *const *k = keys; k && *k; k++)
        RI_OK(recint_config_set_pair(c, *k));
    recint_model *m = NULL;
    RI_OK(recint_model_new(&m, kind, c));
    recint_dataset *ds = ri_test_timed_dataset(30, 40, 20, 5);
    recint_trainer *t = NULL;
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    recint_trainer_free(t);
    recint_dataset_free(ds);
    recint_config_free(c);
    return m;
}

static void check_round_trip(const char *kind, const char *const *keys)
{
    recint_model *m = fitted(kind, keys);
    const uint32_t nu = recint_model_n_users(m), ni = recint_model_n_items(m),
                   d = recint_model_dim(m);
    ck_assert_uint_eq(nu, 30);
    float *U = malloc(((size_t)nu * d + 1) * sizeof *U), *V = malloc(((size_t)ni * d + 1) * sizeof *V);
    float *b = malloc(ni * sizeof *b), *want = malloc((size_t)nu * ni * sizeof *want),
          *got = malloc((size_t)nu * ni * sizeof *got);
    ck_assert(U && V && b && want && got);
    RI_OK(recint_model_factors(m, nu, ni, d, U, V, b));
    uint32_t *all = malloc(nu * sizeof *all);
    for (uint32_t u = 0; u < nu; u++)
        all[u] = u;
    RI_OK(recint_model_score(m, all, nu, NULL, 0, want));
    /* the scores are <U[u], V[i]> + b[i], summed here in double */
    for (uint32_t u = 0; u < nu; u++)
        for (uint32_t i = 0; i < ni; i++) {
            double s = b[i];
            for (uint32_t k = 0; k < d; k++)
                s += (double)U[(size_t)u * d + k] * V[(size_t)i * d + k];
            const double w = want[(size_t)u * ni + i];
            ck_assert_msg(fabs(s - w) <= 1e-4 * (1 + fabs(w)), "%s: user %u item %u: model %.7f, "
                          "from the factors %.7f", kind, u, i, w, s);
        }
    /* and a factors model made from them scores the same */
    recint_model *f = NULL;
    RI_OK(recint_model_new_factors(&f, nu, ni, d, d ? U : NULL, d ? V : NULL, b, NULL));
    RI_OK(recint_model_score(f, all, nu, NULL, 0, got));
    for (size_t e = 0; e < (size_t)nu * ni; e++)
        ck_assert_msg(fabs(got[e] - want[e]) <= 1e-4 * (1 + fabs(want[e])),
                      "%s: entry %zu: model %.7f, factors model %.7f", kind, e, (double)want[e],
                      (double)got[e]);
    /* each array may be left out */
    RI_OK(recint_model_factors(m, nu, ni, d, NULL, NULL, b));
    RI_OK(recint_model_factors(m, nu, ni, d, NULL, NULL, NULL));
    recint_model_free(f);
    free(all);
    free(U), free(V), free(b), free(want), free(got);
    recint_model_free(m);
}

START_TEST(round_trip_als)
{
    static const char *const k[] = {"dim=6", "iterations=3", NULL};
    check_round_trip("als", k);
    static const char *const kb[] = {"dim=6", "iterations=3", "biases=true", NULL};
    check_round_trip("als", kb);
}
END_TEST

START_TEST(round_trip_hybrid)
{
    static const char *const k[] = {"dim=6", "epochs=2", NULL};
    check_round_trip("hybrid", k);
}
END_TEST

START_TEST(round_trip_sequential)
{
    static const char *const k[] = {"dim=8", "maxlen=4", "epochs=1", NULL};
    check_round_trip("sequential", k);
}
END_TEST

START_TEST(round_trip_pop)
{
    check_round_trip("pop", NULL);
}
END_TEST

START_TEST(errors)
{
    static const char *const k[] = {"dim=4", "iterations=2", NULL};
    recint_model *m = fitted("als", k), *unfit = NULL;
    float U[30 * 4], V[40 * 4], b[40];
    RI_FAILS(RECINT_EINVAL, recint_model_factors(NULL, 30, 40, 4, U, V, b));
    RI_FAILS(RECINT_EINVAL, recint_model_factors(m, 29, 40, 4, U, V, b));
    RI_FAILS(RECINT_EINVAL, recint_model_factors(m, 30, 41, 4, U, V, b));
    RI_FAILS(RECINT_EINVAL, recint_model_factors(m, 30, 40, 5, U, V, b));
    RI_OK(recint_model_new(&unfit, "als", NULL));
    RI_FAILS(RECINT_ESTATE, recint_model_factors(unfit, 0, 0, 0, NULL, NULL, NULL));
    recint_model_free(unfit);
    recint_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("export");
    tcase_add_test(tc, round_trip_als);
    tcase_add_test(tc, round_trip_hybrid);
    tcase_add_test(tc, round_trip_sequential);
    tcase_add_test(tc, round_trip_pop);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
