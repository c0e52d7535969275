/* ri_topk against an independent reference: a full sort of the eligible items by
 * (score descending, index ascending), NaN and excluded items removed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/rng.h"
#include "testutil.h"
#include "core/topk.h"

typedef struct {
    float s;
    uint32_t i;
} entry;

static int by_rank(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Reference top-k; returns the count. excluded[] is a 0/1 flag per index. */
static uint32_t reference(const float *sc, uint32_t n, const uint8_t *excluded, uint32_t k,
                          uint32_t *idx, float *out)
{
    entry *e = malloc((n ? n : 1) * sizeof *e);
    ck_assert_ptr_nonnull(e);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!excluded[i] && !isnan(sc[i]))
            e[m++] = (entry){sc[i], i};
    qsort(e, m, sizeof *e, by_rank);
    uint32_t c = m < k ? m : k;
    for (uint32_t r = 0; r < c; r++) {
        idx[r] = e[r].i;
        out[r] = e[r].s;
    }
    free(e);
    return c;
}

enum { SCORES_SPREAD, SCORES_TIES, SCORES_NAN, SCORES_ALL_SAME, SCORES_ASC, SCORES_DESC, SCORE_MODES };
enum { EXCL_NONE, EXCL_SOME, EXCL_ALL, EXCL_BEYOND, EXCL_MODES };

static void fill_scores(float *sc, uint32_t n, int mode, ri_rng *r)
{
    static const float tiny[] = {-1.0f, 0.0f, -0.0f, 0.5f, 2.0f};
    for (uint32_t i = 0; i < n; i++) {
        switch (mode) {
        case SCORES_SPREAD: sc[i] = (float)ri_rng_normal(r); break;
        case SCORES_TIES: sc[i] = tiny[ri_rng_below(r, 5)]; break;
        case SCORES_NAN:
            sc[i] = ri_rng_below(r, 3) == 0 ? NAN : (float)ri_rng_below(r, 4) - 1.5f;
            if (ri_rng_below(r, 50) == 0)
                sc[i] = ri_rng_below(r, 2) ? INFINITY : -INFINITY;
            break;
        /* Sorted runs with ties in threes: the best blocks come last or first,
         * which is where the block bound of ri_topk differs most from a scan. */
        case SCORES_ASC: sc[i] = (float)(i / 3); break;
        case SCORES_DESC: sc[i] = -(float)(i / 3); break;
        default: sc[i] = 1.0f; break;
        }
    }
}

/* Builds the ascending exclude list and the flags the reference reads. */
static size_t fill_exclude(uint32_t *ex, uint8_t *flag, uint32_t n, int mode, ri_rng *r)
{
    size_t m = 0;
    memset(flag, 0, n ? n : 1);
    for (uint32_t i = 0; i < n; i++) {
        int take = mode == EXCL_ALL || (mode == EXCL_SOME && ri_rng_below(r, 3) == 0) ||
                   (mode == EXCL_BEYOND && ri_rng_below(r, 4) == 0);
        if (take) {
            ex[m++] = i;
            flag[i] = 1;
        }
    }
    if (mode == EXCL_BEYOND) {
        /* Indices past n must be harmless. */
        ex[m++] = n;
        ex[m++] = n + 7;
    }
    return m;
}

static void check_one(uint32_t n, uint32_t k, int score_mode, int excl_mode, ri_rng *r)
{
    float *sc = malloc((n ? n : 1) * sizeof *sc);
    uint32_t *ex = malloc((n + 2) * sizeof *ex);
    uint8_t *flag = malloc(n ? n : 1);
    uint32_t *got_i = malloc(k * sizeof *got_i), *want_i = malloc(k * sizeof *want_i);
    float *got_s = malloc(k * sizeof *got_s), *want_s = malloc(k * sizeof *want_s);
    ck_assert(sc && ex && flag && got_i && want_i && got_s && want_s);
    fill_scores(sc, n, score_mode, r);
    size_t n_ex = fill_exclude(ex, flag, n, excl_mode, r);

    uint32_t want = reference(sc, n, flag, k, want_i, want_s);
    uint32_t got = ri_topk(sc, n, excl_mode == EXCL_NONE ? NULL : ex,
                           excl_mode == EXCL_NONE ? 0 : n_ex, k, got_i, got_s);
    ck_assert_msg(got == want, "n=%u k=%u scores=%d excl=%d: count %u, want %u", n, k,
                  score_mode, excl_mode, got, want);
    for (uint32_t j = 0; j < got; j++) {
        ck_assert_msg(got_i[j] == want_i[j], "n=%u k=%u scores=%d excl=%d rank %u: item %u, want %u",
                      n, k, score_mode, excl_mode, j, got_i[j], want_i[j]);
        ck_assert_msg(!isnan(got_s[j]) && got_s[j] == want_s[j] && got_s[j] == sc[got_i[j]],
                      "n=%u k=%u rank %u: score %g, want %g", n, k, j, (double)got_s[j],
                      (double)want_s[j]);
    }
    free(sc);
    free(ex);
    free(flag);
    free(got_i);
    free(want_i);
    free(got_s);
    free(want_s);
}

/* k over 1..300 (every odd and even value), n around k and far beyond it, every
 * kind of score and exclusion. */
START_TEST(random_against_reference)
{
    ri_rng r;
    ri_rng_seed(&r, 2024, 7);
    for (uint32_t k = 1; k <= 300; k++) {
        uint32_t sizes[] = {0, 1, k - 1, k, k + 1, 1000};
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (int sm = 0; sm < SCORE_MODES; sm++)
                for (int em = 0; em < EXCL_MODES; em++)
                    check_one(sizes[s], k, sm, em, &r);
    }
}
END_TEST

/* A case small enough to rank by eye. Eligible after excluding 5 and dropping the
 * NaN at 4: (0:1) (1:3) (2:3) (3:2) (6:-inf) (7:3) -> 3,3,3 at 1,2,7, then 2 at 3. */
START_TEST(hand_case)
{
    const float sc[] = {1.0f, 3.0f, 3.0f, 2.0f, NAN, 9.0f, -INFINITY, 3.0f};
    const uint32_t ex[] = {5};
    uint32_t idx[8];
    float out[8];
    ck_assert_uint_eq(ri_topk(sc, 8, ex, 1, 4, idx, out), 4);
    ck_assert_uint_eq(idx[0], 1);
    ck_assert_uint_eq(idx[1], 2);
    ck_assert_uint_eq(idx[2], 7);
    ck_assert_uint_eq(idx[3], 3);
    ck_assert(out[3] == 2.0f);
    /* k beyond the 6 eligible items: all of them, -inf last, NaN never. */
    ck_assert_uint_eq(ri_topk(sc, 8, ex, 1, 8, idx, out), 6);
    ck_assert_uint_eq(idx[4], 0);
    ck_assert_uint_eq(idx[5], 6);
    ck_assert(out[5] == -INFINITY);
    /* k = 0 selects nothing. */
    ck_assert_uint_eq(ri_topk(sc, 8, NULL, 0, 0, idx, out), 0);
}
END_TEST

START_TEST(all_nan_or_all_excluded)
{
    const float nan4[] = {NAN, NAN, NAN, NAN};
    const float one4[] = {1, 2, 3, 4};
    const uint32_t all[] = {0, 1, 2, 3};
    uint32_t idx[4];
    float out[4];
    ck_assert_uint_eq(ri_topk(nan4, 4, NULL, 0, 4, idx, out), 0);
    ck_assert_uint_eq(ri_topk(one4, 4, all, 4, 4, idx, out), 0);
    ck_assert_uint_eq(ri_topk(one4, 4, all, 3, 4, idx, out), 1);
    ck_assert_uint_eq(idx[0], 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("topk");
    TCase *tc = tcase_create("topk");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, random_against_reference);
    tcase_add_test(tc, hand_case);
    tcase_add_test(tc, all_nan_or_all_excluded);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
