/* Batch top-k (lib/core/batch.c): equal to ri_core_topk user by user on random
 * shapes, filters and thread counts, near-ties included; no BLIS setting or
 * thread left behind; argument errors leave the outputs untouched. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <blis.h>

#include "core/core.h"
#include "util/error.h"
#include "util/rng.h"
#include "testutil.h"

static int task_count(void)
{
    DIR *d = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static float *random_matrix(ri_rng *r, size_t rows, size_t cols, int small_ints)
{
    float *m = malloc((rows * cols > 0 ? rows * cols : 1) * sizeof(float));
    ck_assert_ptr_nonnull(m);
    for (size_t i = 0; i < rows * cols; i++)
        m[i] = small_ints ? (float)((int)ri_rng_below(r, 5) - 2) : (float)ri_rng_normal(r);
    return m;
}

typedef enum { F_NONE, F_EXCLUDE, F_ALLOW, F_BLOCK, F_ALL_OUT, F_MIXED, F_KINDS } filter_kind;

/* Storage behind one user's filter. */
typedef struct {
    uint32_t *exclude;
    uint64_t *allow, *block;
} filter_mem;

static void make_filter(ri_rng *r, filter_kind kind, uint32_t n, ri_core_filter *f, filter_mem *m)
{
    size_t words = (n + 63) / 64 + 1;
    memset(f, 0, sizeof *f);
    m->exclude = malloc((n + 1) * sizeof(uint32_t));
    m->allow = calloc(words, sizeof(uint64_t));
    m->block = calloc(words, sizeof(uint64_t));
    ck_assert(m->exclude && m->allow && m->block);
    if (kind == F_EXCLUDE || kind == F_MIXED || kind == F_ALL_OUT) {
        for (uint32_t i = 0; i < n; i++)
            if (kind == F_ALL_OUT || ri_rng_below(r, 3) == 0)
                m->exclude[f->n_exclude++] = i;
        f->exclude = m->exclude;
    }
    if (kind == F_ALLOW || kind == F_MIXED) {
        for (uint32_t i = 0; i < n; i++)
            if (ri_rng_below(r, 4) != 0)
                m->allow[i >> 6] |= (uint64_t)1 << (i & 63);
        f->allow = m->allow;
    }
    if (kind == F_BLOCK || kind == F_MIXED) {
        for (uint32_t i = 0; i < n; i++)
            if (ri_rng_below(r, 5) == 0)
                m->block[i >> 6] |= (uint64_t)1 << (i & 63);
        f->block = m->block;
    }
}

static void free_filter(filter_mem *m)
{
    free(m->exclude);
    free(m->allow);
    free(m->block);
}

typedef struct {
    uint32_t users, n, dim, k;
    unsigned threads;
    int bias, scale, small_ints, dup_items;
} shape;

/* Run the batch and compare every user with ri_core_topk: same count, same
 * ids in the same order, bit-identical scores. */
static void check_shape(uint64_t seed, shape s)
{
    ri_rng r;
    ri_rng_seed(&r, seed, 7);
    float *W = random_matrix(&r, s.n, s.dim, s.small_ints);
    if (s.dup_items == 1) /* many identical rows: exact ties at the cut */
        for (uint32_t i = 1; i < s.n; i++)
            if (ri_rng_below(&r, 2))
                memcpy(W + (size_t)i * s.dim, W, s.dim * sizeof(float));
    if (s.dup_items == 2) /* rows a few ulps apart: rounding decides the order */
        for (uint32_t i = 1; i < s.n; i++)
            for (uint32_t j = 0; j < s.dim; j++)
                W[(size_t)i * s.dim + j] = W[j] * (1.0f + 3e-7f * (float)ri_rng_below(&r, 3));
    if (s.dup_items == 3) /* a near-tied cluster straddling the k-th place, far
                           * above the rest: the cut is certain, the order in
                           * the cluster is not */
        for (uint32_t i = 1; i < s.n; i++)
            for (uint32_t j = 0; j < s.dim; j++)
                W[(size_t)i * s.dim + j] =
                    i <= s.k + 2 ? W[j] * (1.0f + 3e-7f * (float)ri_rng_below(&r, 3))
                                 : W[(size_t)i * s.dim + j] * 0.01f;
    float *bias = NULL, *scale = NULL;
    if (s.bias)
        bias = random_matrix(&r, s.n, 1, s.small_ints);
    if (s.scale) {
        scale = random_matrix(&r, s.n, 1, 0);
        for (uint32_t i = 0; i < s.n; i++)
            scale[i] = 0.5f + fabsf(scale[i]);
    }
    ri_core_items *it = NULL;
    RI_OK(ri_core_items_new(&it, s.n, s.dim, s.dim ? W : NULL, s.dim, bias, scale, 0));
    size_t ldu = s.dim + 3; /* rows not packed: the stride must be honoured */
    float *U = random_matrix(&r, s.users ? s.users : 1, ldu, s.small_ints);
    ri_core_filter *filters = calloc(s.users + 1, sizeof *filters);
    filter_mem *mem = calloc(s.users + 1, sizeof *mem);
    int with_filters = ri_rng_below(&r, 4) != 0;
    for (uint32_t u = 0; u < s.users; u++)
        make_filter(&r, (filter_kind)ri_rng_below(&r, F_KINDS), s.n, &filters[u], &mem[u]);

    size_t slots = (size_t)(s.users ? s.users : 1) * s.k;
    uint32_t *idx = malloc(slots * sizeof(uint32_t)), *cnt = malloc((s.users + 1) * sizeof(uint32_t));
    float *sc = malloc(slots * sizeof(float));
    uint32_t *ref_idx = malloc(s.k * sizeof(uint32_t));
    float *ref_sc = malloc(s.k * sizeof(float));
    ck_assert(idx && cnt && sc && ref_idx && ref_sc && filters && mem);

    RI_OK(ri_core_topk_batch(it, U, ldu, s.users, with_filters ? filters : NULL, s.k, s.threads,
                             idx, sc, cnt));
    ri_core_opts o = {.isa = ri_core_isa_detect(), .use_int8 = 0, .shortlist = 0};
    for (uint32_t u = 0; u < s.users; u++) {
        int st = RECINT_OK;
        uint32_t c = ri_core_topk(it, U + (size_t)u * ldu, with_filters ? &filters[u] : NULL, s.k,
                                  &o, ref_idx, ref_sc, &st);
        ck_assert_int_eq(st, RECINT_OK);
        ck_assert_msg(cnt[u] == c, "seed %llu users %u n %u dim %u k %u: user %u count %u vs %u",
                      (unsigned long long)seed, s.users, s.n, s.dim, s.k, u, cnt[u], c);
        for (uint32_t j = 0; j < c; j++) {
            ck_assert_msg(idx[(size_t)u * s.k + j] == ref_idx[j] &&
                              memcmp(&sc[(size_t)u * s.k + j], &ref_sc[j], sizeof(float)) == 0,
                          "seed %llu users %u n %u dim %u k %u: user %u rank %u: %u %.9g vs %u %.9g",
                          (unsigned long long)seed, s.users, s.n, s.dim, s.k, u, j,
                          idx[(size_t)u * s.k + j], sc[(size_t)u * s.k + j], ref_idx[j], ref_sc[j]);
        }
    }
    for (uint32_t u = 0; u < s.users; u++)
        free_filter(&mem[u]);
    free(mem);
    free(filters);
    free(idx);
    free(cnt);
    free(sc);
    free(ref_idx);
    free(ref_sc);
    free(U);
    free(W);
    free(bias);
    free(scale);
    ri_core_items_free(it);
}

START_TEST(known_answer)
{
    /* Scores of u = (1, 0): item0 1, item1 0 + 5, item2 2, item3 1 (ties item0, loses). */
    const float W[] = {1, 0, 0, 1, 2, 0, 1, 0};
    const float bias[] = {0, 5, 0, 0};
    const float U[] = {1, 0, /* user 1: (0, 1) with item 1 excluded */ 0, 1};
    const uint32_t ex[] = {1};
    ri_core_filter f[2] = {{0}, {.exclude = ex, .n_exclude = 1}};
    ri_core_items *it = NULL;
    RI_OK(ri_core_items_new(&it, 4, 2, W, 2, bias, NULL, 0));
    uint32_t idx[6], cnt[2];
    float sc[6];
    RI_OK(ri_core_topk_batch(it, U, 2, 2, f, 3, 1, idx, sc, cnt));
    ck_assert_uint_eq(cnt[0], 3);
    ck_assert_uint_eq(idx[0], 1);
    ck_assert_float_eq(sc[0], 5.0f);
    ck_assert_uint_eq(idx[1], 2);
    ck_assert_float_eq(sc[1], 2.0f);
    ck_assert_uint_eq(idx[2], 0); /* ties with item 3: the smaller index wins */
    ck_assert_float_eq(sc[2], 1.0f);
    /* user 1 scores 0, (excluded), 0, 0: ties all the way, ascending ids */
    ck_assert_uint_eq(cnt[1], 3);
    ck_assert_uint_eq(idx[3], 0);
    ck_assert_uint_eq(idx[4], 2);
    ck_assert_uint_eq(idx[5], 3);
    ri_core_items_free(it);
}
END_TEST

START_TEST(edge_shapes)
{
    const uint32_t users[] = {0, 1, 2, 7};
    const uint32_t ks[] = {1, 3, 10, 64, 300};
    const uint32_t dims[] = {0, 1, 17, 64};
    uint64_t seed = 100;
    for (size_t a = 0; a < sizeof users / sizeof *users; a++)
        for (size_t b = 0; b < sizeof ks / sizeof *ks; b++)
            for (size_t c = 0; c < sizeof dims / sizeof *dims; c++) {
                uint32_t k = ks[b];
                const uint32_t ns[] = {0, 1, k - 1, k, k + 1, 5 * k + 13};
                for (size_t d = 0; d < sizeof ns / sizeof *ns; d++) {
                    shape s = {users[a], ns[d], dims[c], k, (unsigned)(1 + seed % 3),
                               (int)(seed % 2), (int)(seed % 3 == 0), 0, 0};
                    check_shape(seed++, s);
                }
            }
}
END_TEST

START_TEST(random_shapes)
{
    ri_rng r;
    ri_rng_seed(&r, 2024, 1);
    for (int rep = 0; rep < 60; rep++) {
        shape s;
        s.users = (uint32_t)ri_rng_below(&r, 90);
        s.n = (uint32_t)ri_rng_below(&r, 3000);
        s.dim = (uint32_t)ri_rng_below(&r, 70);
        s.k = 1 + (uint32_t)ri_rng_below(&r, 300);
        s.threads = 1 + (unsigned)ri_rng_below(&r, 3);
        s.bias = (int)ri_rng_below(&r, 2);
        s.scale = ri_rng_below(&r, 4) == 0;
        s.small_ints = ri_rng_below(&r, 3) == 0;
        s.dup_items = (int)ri_rng_below(&r, 6) % 3;
        check_shape(5000 + (uint64_t)rep, s);
    }
}
END_TEST

START_TEST(near_ties_fall_back_exactly)
{
    /* Small integers and duplicated rows: many equal scores at the cut, where
     * candidate certification fails and the exact path must take over. */
    for (uint32_t k = 1; k <= 40; k += 13) {
        shape s = {37, 1500, 17, k, 2, 1, 0, 1, 1};
        check_shape(77 + k, s);
        shape t = {9, 1100, 64, k, 3, 0, 1, 1, 0};
        check_shape(88 + k, t);
        /* dim above BLIS's k-blocking: sgemm sums partial dot products, so its
         * scores differ from the exact chain in the last bits */
        shape v = {21, 1300, 777, k, 2, 1, 0, 1, 1};
        check_shape(99 + k, v);
        shape w = {21, 1300, 1000, k, 2, 0, 1, 0, 1};
        check_shape(111 + k, w);
        shape x = {13, 2000, 777, k, 2, 0, 0, 0, 2};
        check_shape(123 + k, x);
        shape y = {13, 2000, 64, k, 1, 1, 0, 0, 2};
        check_shape(135 + k, y);
        shape z = {16, 1000, 777, k, 2, 0, 0, 0, 3};
        check_shape(147 + k, z);
    }
}
END_TEST

START_TEST(several_blocks_and_tiles)
{
    /* More users than one block (512) and items across several 512-item tiles. */
    shape s = {1100, 1700, 64, 10, 2, 1, 0, 0, 0};
    check_shape(9, s);
    shape t = {600, 2049, 33, 300, 3, 1, 1, 0, 0};
    check_shape(10, t);
}
END_TEST

START_TEST(process_state_unchanged)
{
    /* A host that set BLIS to 2 threads keeps that setting; the call leaves no
     * thread (ours or BLIS's) behind, whatever its own thread count. This test
     * plays the host and calls BLIS itself, which aborts under the invalid
     * BLIS_ARCH_TYPE run-all sets to show the library never reads it: the
     * host's BLIS gets a clean environment (this test runs in its own process). */
    unsetenv("BLIS_ARCH_TYPE");
    unsetenv("BLIS_ARCH_DEBUG");
    bli_thread_set_num_threads(2);
    dim_t before = bli_thread_get_num_threads();
    int tasks = task_count();
    for (unsigned threads = 1; threads <= 3; threads++) {
        shape s = {300, 1500, 64, 10, threads, 1, 0, 0, 0};
        check_shape(threads, s);
        ck_assert_int_eq(task_count(), tasks);
        ck_assert_int_eq(bli_thread_get_num_threads(), before);
    }
    ck_assert_str_ne(ri_core_blis_arch(), "");
    if (ri_core_isa_detect() == RI_ISA_AVX512)
        ck_assert_str_eq(ri_core_blis_arch(), "skx");
}
END_TEST

START_TEST(lower_isa_levels)
{
    /* The AVX2 and scalar scans and micro-kernels, through the testing
     * override RECINT_ISA (it can only lower the level). */
    const char *levels[] = {"avx2", "scalar"};
    const char *kernels[] = {"haswell", "portable"};
    for (size_t l = 0; l < 2; l++) {
        ck_assert_int_eq(setenv("RECINT_ISA", levels[l], 1), 0);
        if (l == 1 || ri_core_isa_detect() >= RI_ISA_AVX2)
            ck_assert_str_eq(ri_core_blis_arch(), kernels[l]);
        shape s = {40, 1300, 64, 10, 2, 1, 0, 0, 0};
        check_shape(300 + l, s);
        shape t = {13, 1000, 777, 3, 1, 0, 1, 0, 3};
        check_shape(310 + l, t);
        shape v = {17, 2000, 33, 50, 3, 1, 1, 0, 0};
        check_shape(320 + l, v);
    }
    ck_assert_int_eq(setenv("RECINT_ISA", "bogus", 1), 0);
    ri_core_items *it = NULL;
    const float W[] = {1, 2};
    RI_OK(ri_core_items_new(&it, 1, 2, W, 2, NULL, NULL, 0));
    uint32_t idx[1], cnt[1];
    float sc[1];
    RI_FAILS(RECINT_EINVAL, ri_core_topk_batch(it, W, 2, 1, NULL, 1, 1, idx, sc, cnt));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "RECINT_ISA"));
    ck_assert_int_eq(unsetenv("RECINT_ISA"), 0);
    ri_core_items_free(it);
}
END_TEST

START_TEST(argument_errors)
{
    const float W[] = {1, 2, 3, 4, 5, 6};
    ri_core_items *it = NULL;
    RI_OK(ri_core_items_new(&it, 3, 2, W, 2, NULL, NULL, 0));
    float U[] = {1, 1, 2, 2};
    uint32_t idx[4] = {99, 99, 99, 99}, cnt[2] = {99, 99};
    float sc[4] = {-1, -1, -1, -1};
    RI_FAILS(RECINT_EINVAL, ri_core_topk_batch(NULL, U, 2, 2, NULL, 2, 1, idx, sc, cnt));
    RI_FAILS(RECINT_EINVAL, ri_core_topk_batch(it, U, 2, 2, NULL, 0, 1, idx, sc, cnt));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "k must be > 0"));
    RI_FAILS(RECINT_EINVAL, ri_core_topk_batch(it, NULL, 2, 2, NULL, 2, 1, idx, sc, cnt));
    RI_FAILS(RECINT_EINVAL, ri_core_topk_batch(it, U, 1, 2, NULL, 2, 1, idx, sc, cnt));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "stride 1 < dim 2"));
    RI_FAILS(RECINT_EINVAL, ri_core_topk_batch(it, U, 2, 2, NULL, 2, 1, NULL, sc, cnt));
    RI_FAILS(RECINT_EINVAL, ri_core_topk_batch(it, U, 2, 2, NULL, 2, 1, idx, sc, NULL));
    U[3] = NAN;
    RI_FAILS(RECINT_EINVAL, ri_core_topk_batch(it, U, 2, 2, NULL, 2, 1, idx, sc, cnt));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "user 1, component 1"));
    U[3] = INFINITY;
    RI_FAILS(RECINT_EINVAL, ri_core_topk_batch(it, U, 2, 2, NULL, 2, 1, idx, sc, cnt));
    U[3] = 2;
    const uint32_t bad[] = {2, 0};
    ri_core_filter f[2] = {{0}, {.exclude = bad, .n_exclude = 2}};
    RI_FAILS(RECINT_EINVAL, ri_core_topk_batch(it, U, 2, 2, f, 2, 1, idx, sc, cnt));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "user 1: exclude list not ascending"));
    f[1].exclude = NULL;
    RI_FAILS(RECINT_EINVAL, ri_core_topk_batch(it, U, 2, 2, f, 2, 1, idx, sc, cnt));
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(idx[i], 99);
        ck_assert_float_eq(sc[i], -1.0f);
    }
    ck_assert_uint_eq(cnt[0], 99);
    /* No users: nothing to do, outputs may be NULL. */
    RI_OK(ri_core_topk_batch(it, NULL, 0, 0, NULL, 2, 1, NULL, NULL, NULL));
    ri_core_items_free(it);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("batch");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, known_answer);
    tcase_add_test(tc, argument_errors);
    tcase_add_test(tc, edge_shapes);
    tcase_add_test(tc, random_shapes);
    tcase_add_test(tc, near_ties_fall_back_exactly);
    tcase_add_test(tc, several_blocks_and_tiles);
    tcase_add_test(tc, process_state_unchanged);
    tcase_add_test(tc, lower_isa_levels);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
