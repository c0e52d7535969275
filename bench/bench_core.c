/* Single-user scoring benchmark: the machine's single-core read bandwidth (a
 * STREAM-like sum over 1 GiB), then top-10 over 1M items at dims 32, 64, 128 for
 * each ISA level and the int8 path, all on the same data in one run. The figure
 * that matters on a shared, noisy machine is the ratio of the kernel's GB/s to
 * the bandwidth measured in the same run.
 *
 *   bench_core [items=1000000] [reps=7]
 */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "core/items_internal.h"
#include "recint.h"
#include "util/rng.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Sum with 8 independent accumulators (the add latency never limits), reading
 * the array as `streams` equal parts side by side (one part = one sequential
 * stream). The bandwidth reported is the fastest of 1, 2 and 4 streams, so the
 * kernels are compared with the best plain read this core achieves. */
__attribute__((target("avx512f"), always_inline)) static inline float sum_streams(const float *a, size_t n,
                                                                                   int streams)
{
    __m512 s[8];
    for (int k = 0; k < 8; k++)
        s[k] = _mm512_setzero_ps();
    size_t part = n / (size_t)streams, per = 128 / (size_t)streams;
    for (size_t i = 0; i + per <= part; i += per)
        for (int k = 0; k < 8; k++)
            s[k] = _mm512_add_ps(s[k], _mm512_load_ps(a + (size_t)(k % streams) * part + i + 16 * (size_t)(k / streams)));
    for (int k = 1; k < 8; k++)
        s[0] = _mm512_add_ps(s[0], s[k]);
    return _mm512_reduce_add_ps(s[0]);
}

/* Constant stream counts, so the index arithmetic above folds away. */
__attribute__((target("avx512f"))) static float sum_avx512(const float *a, size_t n, int streams)
{
    return streams == 1 ? sum_streams(a, n, 1) : streams == 2 ? sum_streams(a, n, 2) : sum_streams(a, n, 4);
}

__attribute__((target("avx2"))) static float sum_avx2(const float *a, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i + 32 <= n; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_load_ps(a + i));
        s1 = _mm256_add_ps(s1, _mm256_load_ps(a + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_load_ps(a + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_load_ps(a + i + 24));
    }
    float t[8];
    _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

/* GB/s of one pass reading the whole array on one core. */
static double read_pass(const float *a, size_t n, ri_isa isa, float *sink)
{
    double best = 0.0;
    for (int streams = 1; streams <= 4; streams *= 2) {
        double t0 = now();
        *sink += isa >= RI_ISA_AVX512 ? sum_avx512(a, n, streams) : isa >= RI_ISA_AVX2 ? sum_avx2(a, n) : 0.0f;
        double gbs = (double)n * sizeof(float) / (now() - t0) / 1e9;
        best = gbs > best ? gbs : best;
    }
    return best;
}

/* Item and user vectors near shared cluster centres, as factor models give. */
static void clustered(ri_rng *r, float *out, size_t rows, uint32_t dim, const float *centres,
                      uint32_t n_centres, float noise)
{
    for (size_t i = 0; i < rows; i++) {
        const float *c = centres + ri_rng_below(r, n_centres) * dim;
        for (uint32_t j = 0; j < dim; j++)
            out[i * dim + j] = c[j] + noise * (float)ri_rng_normal(r);
    }
}

enum { K = 10, USERS = 64, PATHS = 4 };

/* Seconds of one query, user cycled by round. */
static double time_query(const ri_core_items *it, const float *U, uint32_t dim, ri_core_opts o, int round)
{
    uint32_t idx[K];
    float sc[K];
    double t0 = now();
    ri_core_topk(it, U + (size_t)(round % USERS) * dim, NULL, K, &o, idx, sc, NULL);
    return now() - t0;
}

static double int8_recall(const ri_core_items *it, const float *U, uint32_t dim, ri_isa isa)
{
    size_t hits = 0;
    for (int u = 0; u < USERS; u++) {
        uint32_t ei[K], qi[K];
        float es[K], qs[K];
        ri_core_opts oe = {isa, 0, 0}, oq = {isa, 1, 0};
        ri_core_topk(it, U + (size_t)u * dim, NULL, K, &oe, ei, es, NULL);
        ri_core_topk(it, U + (size_t)u * dim, NULL, K, &oq, qi, qs, NULL);
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++)
                hits += qi[a] == ei[b];
    }
    return (double)hits / (USERS * K);
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000u;
    int reps = argc > 2 ? atoi(argv[2]) : 9;
    int skip_scalar = argc > 3 && strcmp(argv[3], "noscalar") == 0;
    if (n == 0 || reps < 1 || reps > 1000) {
        fprintf(stderr, "usage: bench_core [items>0] [reps 1..1000] [noscalar]\n");
        return 2;
    }
    ri_isa best = ri_core_isa_detect();
    size_t bw_n = (size_t)1 << 28;
    float *bw_a = aligned_alloc(64, bw_n * sizeof(float));
    double *bw = malloc((size_t)reps * sizeof *bw), *t[PATHS], *ratio = malloc((size_t)reps * sizeof *ratio);
    for (int p = 0; p < PATHS; p++)
        t[p] = malloc((size_t)reps * sizeof *t[p]);
    if (!bw_a || !bw || !ratio) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < bw_n; i++)
        bw_a[i] = (float)(i & 7);
    float sink = 0.0f;
    printf("bench_core: %u items, top-%d single user, %d rounds (medians), best ISA %s\n", n, K, reps,
           ri_core_isa_name(best));
    for (int r = 0; r < reps; r++)
        bw[r] = read_pass(bw_a, bw_n, best, &sink);
    printf("read bandwidth (sum of a 1 GiB float array, AVX-512 loads, 1 core, best of 1, 2, 4 streams): %.2f GB/s\n", median(bw, reps));
    printf("Each round below reads the 1 GiB array once more, then runs every path once;\n"
           "'of bw' is the median over rounds of path GB/s / that round's bandwidth.\n\n");
    printf("%4s %-8s %12s %9s %8s %9s\n", "dim", "path", "items/s", "GB/s", "of bw", "ms/query");
    const uint32_t dims[] = {32, 64, 128};
    ri_rng rng;
    ri_rng_seed(&rng, 42, 0);
    for (size_t d = 0; d < 3; d++) {
        uint32_t dim = dims[d], nc = 100;
        float *centres = malloc((size_t)nc * dim * sizeof(float));
        float *W = malloc((size_t)n * dim * sizeof(float)), *bias = malloc((size_t)n * sizeof(float));
        float *U = malloc((size_t)USERS * dim * sizeof(float));
        if (!centres || !W || !bias || !U) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        for (size_t i = 0; i < (size_t)nc * dim; i++)
            centres[i] = (float)ri_rng_normal(&rng) * 0.3f;
        clustered(&rng, W, n, dim, centres, nc, 0.1f);
        clustered(&rng, U, USERS, dim, centres, nc, 0.1f);
        for (uint32_t i = 0; i < n; i++)
            bias[i] = (float)ri_rng_normal(&rng) * 0.1f;
        ri_core_items *it = NULL;
        if (ri_core_items_new(&it, n, dim, W, dim, bias, NULL, RI_CORE_INT8) != 0) {
            fprintf(stderr, "items: %s\n", recint_last_error());
            return 1;
        }
        free(W);
        /* Bytes each path streams per query: fp32 panels + bias; int8 codes +
         * item scale + bias (the shortlist rescoring reads a few rows more). */
        double bytes[PATHS] = {(double)n * (dim + 1) * 4.0, (double)n * (dim + 1) * 4.0,
                               (double)n * (dim + 1) * 4.0, (double)n * (dim + 8.0)};
        ri_core_opts opts[PATHS] = {{RI_ISA_SCALAR, 0, 0}, {RI_ISA_AVX2, 0, 0}, {RI_ISA_AVX512, 0, 0},
                                    {best, 1, 0}};
        const char *names[PATHS] = {"scalar", "avx2", "avx512", "int8"};
        int scalar_reps = reps < 3 ? reps : 3;
        double bw_round[1000], bw_panels[1000];
        size_t panel_floats = (size_t)it->n_panels * RI_PANEL * dim;
        for (int r = 0; r < reps; r++) {
            bw_round[r] = read_pass(bw_a, bw_n, best, &sink);
            bw_panels[r] = read_pass(it->panels, panel_floats, best, &sink);
            for (int p = skip_scalar || r >= scalar_reps ? 1 : 0; p < PATHS; p++)
                if (p == 3 || (int)opts[p].isa <= (int)best)
                    t[p][r] = time_query(it, U, dim, opts[p], r);
        }
        double ips[PATHS] = {0};
        for (int p = skip_scalar ? 1 : 0; p < PATHS; p++) {
            if (p < 3 && (int)opts[p].isa > (int)best)
                continue;
            int m = p == 0 ? scalar_reps : reps;
            for (int r = 0; r < m; r++)
                ratio[r] = bytes[p] / t[p][r] / 1e9 / bw_round[r];
            double rt = median(ratio, m), s = median(t[p], m);
            ips[p] = n / s;
            printf("%4u %-8s %12.4g %9.2f %7.1f%% %9.3f\n", dim, names[p], ips[p], bytes[p] / s / 1e9,
                   100.0 * rt, 1e3 * s);
        }
        double bwm = median(bw_round, reps);
        ri_isa fp = best >= RI_ISA_AVX512 ? RI_ISA_AVX512 : best;
        /* Paired per round, so a burst of load from other processes hits both
         * sides of each ratio alike. */
        for (int r = 0; r < reps; r++)
            ratio[r] = bytes[fp] / t[fp][r] / 1e9 / bw_panels[r];
        double of_panels = median(ratio, reps);
        for (int r = 0; r < reps; r++)
            ratio[r] = t[fp][r] / t[3][r];
        double speedup = median(ratio, reps);
        printf("     same read loop over the item panels themselves: %.2f GB/s; %s fp32 at %.1f%% of it\n",
               median(bw_panels, reps), ri_core_isa_name(fp), 100.0 * of_panels);
        printf("     round bandwidth %.2f GB/s; int8 (%s kernels) %.2fx the %s fp32 items/s; "
               "int8 top-%d recall vs exact %.4f (%d users)\n\n",
               bwm, ri_core_isa_name(best), speedup, ri_core_isa_name(fp), K,
               int8_recall(it, U, dim, best), USERS);
        ri_core_items_free(it);
        free(centres);
        free(bias);
        free(U);
    }
    for (int r = 0; r < reps; r++)
        bw[r] = read_pass(bw_a, bw_n, best, &sink);
    printf("read bandwidth again at the end: %.2f GB/s (checksum %g)\n", median(bw, reps), (double)sink);
    free(bw_a);
    free(bw);
    free(ratio);
    for (int p = 0; p < PATHS; p++)
        free(t[p]);
    return 0;
}
