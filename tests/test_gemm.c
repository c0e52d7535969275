/* The library's multiply (lib/core/gemm.c): every micro-kernel this CPU runs
 * against a double-precision reference over transposes, partial tiles, depth
 * and column blocks, workspaces down to the minimum and beta == 0 over NaN;
 * and the promise behind it: BLIS's environment variables change nothing and
 * make the library print nothing, because no BLIS framework code runs. */
#include <check.h>
#include <stddef.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef RI_NO_BLIS
#include <blis.h>
#endif

#include "util/alloc.h"
#include "core/gemm.h"
#include "core/kernels.h"
#include "recint.h"
#include "testutil.h"

static float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xffff) / 32768.0f - 1.0f;
}

/* Kernels to hold against the reference: the portable one always, BLIS's
 * where the CPU runs them. */
static size_t kernels(ri_gemm_kernel out[3])
{
    size_t n = 0;
    const ri_isa levels[] = {RI_ISA_SCALAR, RI_ISA_AVX2, RI_ISA_AVX512};
    for (size_t l = 0; l < 3; l++) {
        if (levels[l] > ri_core_isa_detect())
            break;
        ri_gemm_kernel k;
        ri_gemm_kernel_get(levels[l], &k);
        if (n == 0 || strcmp(k.name, out[n - 1].name) != 0)
            out[n++] = k;
    }
    return n;
}

/* |got - want| within a relative bound of the terms' magnitudes (float sums
 * of k products in any order). */
static void check_product(const ri_gemm_kernel *kern, size_t ws_floats, int ta, int tb, size_t m,
                          size_t n, size_t k, float alpha, float beta, uint64_t seed)
{
    const size_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 5;
    const size_t arows = ta ? k : m, brows = tb ? n : k;
    float *A = RI_NEW_ARRAY(float, arows * lda + 1);
    float *B = RI_NEW_ARRAY(float, brows * ldb + 1);
    float *C = RI_NEW_ARRAY(float, m * ldc + 1);
    double *want = RI_NEW_ARRAY(double, m * ldc + 1), *mag = RI_NEW_ARRAY(double, m * ldc + 1);
    float *ws = ri_aligned_alloc(ws_floats, sizeof(float));
    ck_assert(A && B && C && want && mag && ws);
    for (size_t i = 0; i < arows * lda; i++)
        A[i] = frand(&seed);
    for (size_t i = 0; i < brows * ldb; i++)
        B[i] = frand(&seed);
    for (size_t i = 0; i < m * ldc; i++)
        C[i] = beta == 0.0f ? NAN : frand(&seed); /* beta 0: C is never read */
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < ldc; j++) {
            double s = 0, a = 0;
            for (size_t p = 0; p < k && j < n; p++) {
                double x = ta ? A[p * lda + i] : A[i * lda + p];
                double y = tb ? B[j * ldb + p] : B[p * ldb + j];
                s += x * y;
                a += fabs(x * y);
            }
            double c = C[i * ldc + j];
            want[i * ldc + j] = j < n ? alpha * s + (beta == 0.0f ? 0.0 : beta * c) : c;
            mag[i * ldc + j] = fabs(alpha) * a + (beta == 0.0f ? 0.0 : fabs(beta * c));
        }
    ri_gemm_ctx g = {*kern, ws, ws_floats};
    ri_gemm(&g, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < ldc; j++) {
            const double w = want[i * ldc + j], got = C[i * ldc + j];
            if (j >= n) { /* padding past n is never written */
                ck_assert_msg(isnan(w) ? isnan(got) : got == w, "%s wrote C[%zu][%zu] past n",
                              kern->name, i, j);
                continue;
            }
            ck_assert_msg(fabs(got - w) <= 1e-5 * (mag[i * ldc + j] + 1e-3),
                          "%s ta=%d tb=%d %zux%zux%zu ws=%zu: C[%zu][%zu] = %.9g, want %.9g",
                          kern->name, ta, tb, m, n, k, ws_floats, i, j, got, w);
        }
    free(A);
    free(B);
    free(C);
    free(want);
    free(mag);
    ri_aligned_free(ws);
}

START_TEST(every_kernel_matches_the_reference)
{
    ri_gemm_kernel ks[3];
    const size_t nk = kernels(ks);
    /* shapes around every kernel's tile sizes (6, 8, 12, 16, 32) */
    const size_t dims[] = {1, 5, 7, 13, 33, 50};
    uint64_t seed = 1;
    for (size_t q = 0; q < nk; q++)
        for (int t = 0; t < 4; t++)
            for (size_t a = 0; a < 6; a++)
                for (size_t b = 0; b < 6; b++) {
                    const size_t m = dims[a], n = dims[(b + a) % 6], k = dims[b];
                    check_product(&ks[q], RI_GEMM_WS_FLOATS, t & 1, t >> 1, m, n, k, 1.0f,
                                  (a + b) % 2 ? 0.0f : 0.5f, seed++);
                }
}
END_TEST

START_TEST(blocks_and_small_workspaces)
{
    /* Depth past 256 and columns past 768 take several blocks; the minimum
     * workspace forces blocks of a few rows and one tile column. */
    ri_gemm_kernel ks[3];
    const size_t nk = kernels(ks);
    for (size_t q = 0; q < nk; q++) {
        check_product(&ks[q], RI_GEMM_WS_FLOATS, 0, 1, 200, 800, 300, 1.5f, 0.0f, 7);
        check_product(&ks[q], RI_GEMM_WS_FLOATS, 1, 0, 70, 37, 600, -0.5f, 2.0f, 8);
        check_product(&ks[q], RI_GEMM_WS_MIN, 0, 0, 45, 41, 77, 1.0f, 1.0f, 9);
        check_product(&ks[q], RI_GEMM_WS_MIN, 1, 1, 33, 65, 19, 1.0f, 0.0f, 10);
        check_product(&ks[q], 4096, 1, 0, 64, 64, 1000, 1.0f, 0.0f, 11);
    }
}
END_TEST

START_TEST(aux_layout_is_blis)
{
#ifndef RI_NO_BLIS
    /* gemm.c mirrors BLIS 0.9's types instead of including blis.h */
    ck_assert_uint_eq(sizeof(dim_t), sizeof(int64_t));
    ck_assert_uint_eq(sizeof(inc_t), sizeof(int64_t));
    ck_assert_uint_eq(sizeof(ri_blis_aux), sizeof(auxinfo_t));
    ck_assert_uint_eq(offsetof(ri_blis_aux, a_next), offsetof(auxinfo_t, a_next));
    ck_assert_uint_eq(offsetof(ri_blis_aux, b_next), offsetof(auxinfo_t, b_next));
    ck_assert_uint_eq(offsetof(ri_blis_aux, is_a), offsetof(auxinfo_t, is_a));
    ck_assert_uint_eq(offsetof(ri_blis_aux, is_b), offsetof(auxinfo_t, is_b));
    ck_assert_uint_eq(offsetof(ri_blis_aux, ps_b), offsetof(auxinfo_t, ps_b));
    ck_assert_uint_eq(offsetof(ri_blis_aux, params), offsetof(auxinfo_t, params));
#endif
}
END_TEST

START_TEST(zero_depth_scales_c)
{
    float C[6] = {1, 2, NAN, 4, 5, 6}, ws[RI_GEMM_WS_MIN + 16];
    ri_gemm_ctx g = {{0}, (float *)(((uintptr_t)ws + 63) & ~(uintptr_t)63), RI_GEMM_WS_MIN};
    ri_gemm_kernel_get(RI_ISA_SCALAR, &g.k);
    ri_gemm(&g, 0, 0, 2, 2, 0, 1.0f, NULL, 1, NULL, 1, 2.0f, C, 3);
    ck_assert(C[0] == 2 && C[1] == 4 && isnan(C[2]) && C[3] == 8 && C[4] == 10 && C[5] == 6);
    ri_gemm(&g, 0, 0, 2, 2, 0, 1.0f, NULL, 1, NULL, 1, 0.0f, C, 3);
    ck_assert(C[0] == 0 && C[1] == 0 && isnan(C[2]) && C[3] == 0 && C[4] == 0);
}
END_TEST

START_TEST(gram_matches_the_reference)
{
    const size_t rows = 1001;
    const uint32_t dims[] = {1, 12, 33, 64, 129};
    uint64_t seed = 3;
    for (size_t t = 0; t < 5; t++) {
        const uint32_t d = dims[t];
        float *Y = RI_NEW_ARRAY(float, rows * d), *G = RI_NEW_ARRAY(float, (size_t)d * d);
        ck_assert(Y && G);
        for (size_t i = 0; i < rows * d; i++)
            Y[i] = frand(&seed);
        for (int isa = RI_ISA_SCALAR; isa <= (int)ri_core_isa_detect(); isa++) {
            ri_gemm_gram((ri_isa)isa, Y, rows, d, G);
            for (uint32_t a = 0; a < d; a++)
                for (uint32_t b = 0; b < d; b++) {
                    double s = 0, mag = 0;
                    for (size_t r = 0; r < rows; r++) {
                        s += (double)Y[r * d + a] * Y[r * d + b];
                        mag += fabs((double)Y[r * d + a] * Y[r * d + b]);
                    }
                    ck_assert_msg(fabs(G[a * d + b] - s) <= 1e-5 * mag + 1e-6,
                                  "isa %d dim %u: G[%u][%u] = %g, want %g", isa, d, a, b,
                                  (double)G[a * d + b], s);
                }
        }
        free(Y);
        free(G);
    }
}
END_TEST

/* Fit and serve every kind that multiplies (als: Gram matrices; sequential:
 * every layer; batch recommend: the tiles) in a child whose environment asks
 * BLIS for an invalid kernel set and debug output. Had any BLIS framework code
 * run, it would print and abort. The child's stdout and stderr go to a file
 * that must stay empty. */
static void child_fails(int step)
{
    fprintf(stderr, "%s", recint_last_error());
    _exit(step);
}

static void blis_env_child(void)
{
    setenv("BLIS_ARCH_TYPE", "99", 1);
    setenv("BLIS_ARCH_DEBUG", "1", 1);
    setenv("BLIS_NUM_THREADS", "7", 1);
    recint_dataset *ds = NULL;
    recint_config *cfg = NULL;
    if (recint_config_new(&cfg) || recint_config_set(cfg, "seed", "3") ||
        recint_config_set(cfg, "syn_users", "100") || recint_config_set(cfg, "syn_items", "400") ||
        recint_config_set(cfg, "syn_interactions", "1500") ||
        recint_dataset_synthetic(&ds, cfg, NULL))
        child_fails(10);
    /* Each kind its own config: a model refuses another kind's keys. */
    const char *kinds[] = {"als", "sequential"}, *passes[] = {"iterations", "epochs"};
    for (size_t q = 0; q < 2; q++) {
        recint_model *m = NULL;
        recint_trainer *t = NULL;
        recint_config *kc = NULL;
        if (recint_config_copy(&kc, cfg) || recint_config_set(kc, passes[q], "2") ||
            recint_model_new(&m, kinds[q], kc) || recint_trainer_new(&t, m, kc) ||
            recint_trainer_fit(t, ds, NULL, NULL, NULL))
            child_fails(11 + (int)q);
        recint_config_free(kc);
        uint32_t users[3] = {0, 1, 2}, idx[30], cnt[3];
        float sc[30];
        if (recint_model_recommend_batch(m, users, 3, 10, NULL, cfg, idx, sc, cnt))
            child_fails(13 + (int)q);
        recint_trainer_free(t);
        recint_model_free(m);
    }
    recint_dataset_free(ds);
    recint_config_free(cfg);
    _exit(0);
}

START_TEST(blis_environment_is_ignored)
{
    char path[] = "/tmp/recint-gemm-env-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        blis_env_child();
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    off_t printed = lseek(fd, 0, SEEK_END);
    char text[256] = {0};
    if (printed > 0 && pread(fd, text, sizeof text - 1, 0) < 0)
        text[0] = 0;
    close(fd);
    unlink(path);
    ck_assert_msg(WIFEXITED(status), "the child died of signal %d", WTERMSIG(status));
    ck_assert_msg(WEXITSTATUS(status) == 0, "the child's calls failed (step %d): %s",
                  WEXITSTATUS(status), text);
    ck_assert_msg(printed == 0, "the library printed %lld bytes: %s", (long long)printed, text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("gemm");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, every_kernel_matches_the_reference);
    tcase_add_test(tc, blocks_and_small_workspaces);
    tcase_add_test(tc, aux_layout_is_blis);
    tcase_add_test(tc, zero_depth_scales_c);
    tcase_add_test(tc, gram_matches_the_reference);
    tcase_add_test(tc, blis_environment_is_ignored);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
