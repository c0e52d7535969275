/* Batch top-k throughput, all on the same data in one run (issue 3, bar 3):
 *   STREAM-like read bandwidth with 1 and 2 threads;
 *   (a) ri_core_topk_batch, without and with per-user exclude lists;
 *   (b) bare BLIS sgemm with the same context over the same tiles, no selection;
 *   (c) one BLIS sgemm into a full users x items buffer, then a separate top-k pass;
 *   (d) a naive loop (dot products in C, heap per user).
 * Data: U[u][j] and W[i][j] from a counter hash that bench/numpy_batch.py
 * reproduces bit for bit (the checksums printed here and there must agree).
 * Usage: bench_batch [users=100000] [items=100000] [dim=64] [k=10] [reps=3]
 *                    [users for (c)=2000] [users for (d)=200] [profile]
 * "profile" runs a single unfiltered (a) call on one thread and exits, so that
 * `perf record` sees the batch call alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <blis.h>

#include "util/alloc.h"
#include "core/core.h"
#include "core/heap.h"
#include "util/parallel.h"
#include "core/topk.h"

/* The tile ri_core_topk_batch uses (RI_BATCH_MB/NB in lib/core/batch.c); both
 * files take -D overrides so that other tiles can be measured. */
#ifndef RI_BATCH_MB
#define RI_BATCH_MB 512u
#endif
#ifndef RI_BATCH_NB
#define RI_BATCH_NB 512u
#endif
#define TILE_MB RI_BATCH_MB
#define TILE_NB RI_BATCH_NB

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Value of entry `i` of stream `s`: 24 random bits, exactly representable. */
static float hashed(uint64_t s, uint64_t i)
{
    uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull ^ (s * 0xBF58476D1CE4E5B9ull);
    h ^= h >> 31;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return (float)(h >> 40) / 16777216.0f - 0.5f;
}

static float *make(uint64_t stream, size_t n)
{
    float *m = ri_aligned_alloc(n, sizeof(float));
    if (!m) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        m[i] = hashed(stream, i);
    return m;
}

static double checksum(const float *m, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += m[i] * (double)((i % 7) + 1);
    return s;
}

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

/* ---- read bandwidth -------------------------------------------------- */

typedef struct {
    const float *a;
    double sum[64];
} bw_ctx;

static int bw_range(void *ctx, size_t b, size_t e, unsigned worker)
{
    bw_ctx *c = ctx;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = b; i + 4 <= e; i += 4) {
        s0 += c->a[i];
        s1 += c->a[i + 1];
        s2 += c->a[i + 2];
        s3 += c->a[i + 3];
    }
    c->sum[worker & 63] += s0 + s1 + s2 + s3;
    return 0;
}

static double read_gbs(const float *a, size_t n, unsigned threads, int reps)
{
    bw_ctx c = {.a = a};
    double t[16];
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        ri_parallel_for(threads, n, n / threads + 1, bw_range, &c);
        t[r] = now() - t0;
    }
    return (double)n * sizeof(float) / median(t, reps) / 1e9;
}

/* ---- (b) bare sgemm over the batch tiles ----------------------------- */

typedef struct {
    const float *U, *W;
    size_t n, dim;
    cntx_t *cx;
    float **C;
} bare_ctx;

static int bare_range(void *ctx, size_t b, size_t e, unsigned worker)
{
    bare_ctx *c = ctx;
    float one = 1, zero = 0;
    for (size_t u0 = b; u0 < e; u0 += TILE_MB) {
        size_t mb = e - u0 < TILE_MB ? e - u0 : TILE_MB;
        for (size_t i0 = 0; i0 < c->n; i0 += TILE_NB) {
            size_t nb = c->n - i0 < TILE_NB ? c->n - i0 : TILE_NB;
            rntm_t rntm = BLIS_RNTM_INITIALIZER;
            bli_rntm_set_num_threads(1, &rntm);
            bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)mb, (dim_t)nb,
                         (dim_t)c->dim, &one, (float *)c->U + u0 * c->dim, (inc_t)c->dim, 1,
                         (float *)c->W + i0 * c->dim, 1, (inc_t)c->dim, &zero, c->C[worker],
                         TILE_NB, 1, c->cx, &rntm);
        }
    }
    return 0;
}

/* (b2) the same product with one sgemm per block of TILE_MB users over the whole
 * catalogue (C: TILE_MB x n floats per worker), BLIS's own blocking inside. */
static int bare_wide_range(void *ctx, size_t b, size_t e, unsigned worker)
{
    bare_ctx *c = ctx;
    float one = 1, zero = 0;
    for (size_t u0 = b; u0 < e; u0 += TILE_MB) {
        size_t mb = e - u0 < TILE_MB ? e - u0 : TILE_MB;
        rntm_t rntm = BLIS_RNTM_INITIALIZER;
        bli_rntm_set_num_threads(1, &rntm);
        bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_TRANSPOSE, (dim_t)mb, (dim_t)c->n, (dim_t)c->dim,
                     &one, (float *)c->U + u0 * c->dim, (inc_t)c->dim, 1, (float *)c->W,
                     (inc_t)c->dim, 1, &zero, c->C[worker], (inc_t)c->n, 1, c->cx, &rntm);
    }
    return 0;
}

/* ---- (c) full product, then top-k ------------------------------------ */

typedef struct {
    const float *S;
    size_t n;
    uint32_t k;
    uint32_t *idx;
    float *score;
} sel_ctx;

static int sel_range(void *ctx, size_t b, size_t e, unsigned worker)
{
    (void)worker;
    sel_ctx *c = ctx;
    for (size_t u = b; u < e; u++)
        ri_topk(c->S + u * c->n, (uint32_t)c->n, NULL, 0, c->k, c->idx + u * c->k,
                c->score + u * c->k);
    return 0;
}

/* ---- (d) naive ------------------------------------------------------- */

typedef struct {
    const float *U, *W, *bias;
    size_t n, dim;
    uint32_t k;
    uint32_t *idx;
    float *score;
} naive_ctx;

static int naive_range(void *ctx, size_t b, size_t e, unsigned worker)
{
    (void)worker;
    naive_ctx *c = ctx;
    for (size_t u = b; u < e; u++) {
        ri_heap h;
        ri_heap_init(&h, c->idx + u * c->k, c->score + u * c->k, c->k);
        for (size_t i = 0; i < c->n; i++) {
            float s = 0;
            for (size_t j = 0; j < c->dim; j++)
                s += c->U[u * c->dim + j] * c->W[i * c->dim + j];
            ri_heap_offer(&h, s + c->bias[i], (uint32_t)i);
        }
        ri_heap_sort(&h);
    }
    return 0;
}

int main(int argc, char **argv)
{
    size_t users = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
    size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 100000;
    size_t dim = argc > 3 ? strtoull(argv[3], NULL, 10) : 64;
    uint32_t k = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 10;
    int reps = argc > 5 ? atoi(argv[5]) : 3;
    size_t users_c = argc > 6 ? strtoull(argv[6], NULL, 10) : 2000;
    size_t users_d = argc > 7 ? strtoull(argv[7], NULL, 10) : 200;
    /* "profile": one (a) call on one thread and nothing else, for perf record. */
    int profile_only = argc > 8 && strcmp(argv[8], "profile") == 0;
    if (reps < 1 || reps > 15)
        reps = 3;
    users_c = users_c < users ? users_c : users;
    users_d = users_d < users ? users_d : users;

    float *U = make(1, users * dim), *W = make(2, n * dim), *bias = make(3, n);
    printf("data: users %zu items %zu dim %zu k %u; checksums U %.6f W %.6f bias %.6f\n", users, n,
           dim, k, checksum(U, users * dim), checksum(W, n * dim), checksum(bias, n));
    ri_core_items *it = NULL;
    if (ri_core_items_new(&it, (uint32_t)n, (uint32_t)dim, W, dim, bias, NULL, 0) != 0) {
        fprintf(stderr, "items failed\n");
        return 1;
    }
    /* The comparisons (b) and (c) call BLIS itself, as a host would: the
     * library never initialises BLIS, so this program does. */
    bli_init();
    printf("BLIS kernels of the batch path: %s; BLIS native choice: %s\n", ri_core_blis_arch(),
           bli_arch_string(bli_arch_query_id()));

    if (profile_only) {
        uint32_t *pi = malloc(users * k * sizeof(uint32_t)), *pc = malloc(users * sizeof(uint32_t));
        float *ps = malloc(users * k * sizeof(float));
        if (!pi || !pc || !ps)
            return 1;
        double t0 = now();
        int rc = ri_core_topk_batch(it, U, dim, (uint32_t)users, NULL, k, 1, pi, ps, pc);
        printf("profile: (a) 1 thread %.0f users/s (rc %d)\n", users / (now() - t0), rc);
        free(pi);
        free(pc);
        free(ps);
        ri_core_items_free(it);
        ri_aligned_free(U);
        ri_aligned_free(W);
        ri_aligned_free(bias);
        return rc != 0;
    }

    size_t bw_n = (size_t)64 << 20; /* 256 MiB: far beyond the caches */
    float *big = make(4, bw_n);
    double bw1 = read_gbs(big, bw_n, 1, reps), bw2 = read_gbs(big, bw_n, 2, reps);
    printf("read bandwidth: 1 thread %.1f GB/s, 2 threads %.1f GB/s\n", bw1, bw2);
    ri_aligned_free(big);

    uint32_t *idx = malloc(users * k * sizeof(uint32_t)), *cnt = malloc(users * sizeof(uint32_t));
    float *sc = malloc(users * k * sizeof(float));
    /* 50 "seen" items per user for the filtered run */
    uint32_t *seen = malloc(users * 50 * sizeof(uint32_t));
    ri_core_filter *f = calloc(users, sizeof *f);
    if (!idx || !cnt || !sc || !seen || !f)
        return 1;
    for (size_t u = 0; u < users; u++) {
        for (size_t s = 0; s < 50; s++)
            seen[u * 50 + s] = (uint32_t)((u * 7919 + s * (n / 50)) % n);
        for (size_t s = 1; s < 50; s++) /* ascending */
            for (size_t t = s; t > 0 && seen[u * 50 + t] < seen[u * 50 + t - 1]; t--) {
                uint32_t x = seen[u * 50 + t];
                seen[u * 50 + t] = seen[u * 50 + t - 1];
                seen[u * 50 + t - 1] = x;
            }
        f[u].exclude = seen + u * 50;
        f[u].n_exclude = 50;
    }

    bare_ctx bc = {.U = U, .W = W, .n = n, .dim = dim};
    cntx_t **skx = bli_gks_lookup_id(BLIS_ARCH_SKX);
    bc.cx = (ri_core_isa_detect() == RI_ISA_AVX512 && skx && skx[BLIS_NAT]) ? skx[BLIS_NAT]
                                                                            : bli_gks_query_cntx();
    float *Cb[2] = {ri_aligned_alloc(TILE_MB * TILE_NB, 4), ri_aligned_alloc(TILE_MB * TILE_NB, 4)};
    bc.C = Cb;
    bare_ctx wide = bc;
    float *Cw[2] = {ri_aligned_alloc(TILE_MB * n, 4), ri_aligned_alloc(TILE_MB * n, 4)};
    wide.C = Cw;

    double gflop_per_user = 2.0 * (double)n * (double)dim / 1e9;
    for (unsigned th = 1; th <= 2; th++) {
        double ta[16], tf[16], tb[16], tw[16];
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            if (ri_core_topk_batch(it, U, dim, (uint32_t)users, NULL, k, th, idx, sc, cnt) != 0)
                return 1;
            ta[r] = now() - t0;
            t0 = now();
            ri_parallel_for(th, users, TILE_MB, bare_range, &bc);
            tb[r] = now() - t0;
            if (wide.C[0] && wide.C[1]) {
                t0 = now();
                ri_parallel_for(th, users, TILE_MB, bare_wide_range, &wide);
                tw[r] = now() - t0;
            } else {
                tw[r] = INFINITY;
            }
            t0 = now();
            if (ri_core_topk_batch(it, U, dim, (uint32_t)users, f, k, th, idx, sc, cnt) != 0)
                return 1;
            tf[r] = now() - t0;
        }
        double a = users / median(ta, reps), b = users / median(tb, reps),
               af = users / median(tf, reps), bw = users / median(tw, reps);
        double best = b > bw ? b : bw;
        printf("%u thread(s): (a) topk_batch %.0f users/s (%.1f GFLOP/s), with 50 excluded per "
               "user %.0f users/s; (b) bare sgemm same tiles %.0f users/s (%.1f GFLOP/s); "
               "(b2) bare sgemm %u-user blocks x all items %.0f users/s (%.1f GFLOP/s); "
               "(a)/best(b,b2) = %.3f, filtered (a)/best(b,b2) = %.3f\n",
               th, a, a * gflop_per_user, af, b, b * gflop_per_user, TILE_MB, bw,
               bw * gflop_per_user, a / best, af / best);
    }
    {
        /* The same bare tiles with BLIS's own kernel choice for this CPU. */
        bare_ctx nc = bc;
        nc.cx = bli_gks_query_cntx();
        double tn[16], ts[16];
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            ri_parallel_for(1, users_c, TILE_MB, bare_range, &nc);
            tn[r] = now() - t0;
            t0 = now();
            ri_parallel_for(1, users_c, TILE_MB, bare_range, &bc);
            ts[r] = now() - t0;
        }
        double rn = users_c / median(tn, reps), rs = users_c / median(ts, reps);
        printf("1 thread, %zu users: bare sgemm same tiles, %s kernels %.1f GFLOP/s, %s kernels "
               "%.1f GFLOP/s\n",
               users_c, bli_arch_string(bli_arch_query_id()), rn * gflop_per_user,
               ri_core_blis_arch(), rs * gflop_per_user);
    }
    printf("first user's top-%u: ", k);
    for (uint32_t j = 0; j < cnt[0] && j < 5; j++)
        printf("%u (%.6f) ", idx[j], sc[j]);
    printf("...\n");

    /* (c) needs users_c x n floats. */
    float *S = ri_aligned_alloc(users_c * n, sizeof(float));
    if (S) {
        for (unsigned th = 1; th <= 2; th++) {
            double tc[16];
            for (int r = 0; r < reps; r++) {
                double t0 = now();
                rntm_t rntm = BLIS_RNTM_INITIALIZER;
                bli_rntm_set_num_threads(th, &rntm);
                float one = 1, zero = 0;
                bli_sgemm_ex(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, (dim_t)users_c, (dim_t)n,
                             (dim_t)dim, &one, U, (inc_t)dim, 1, W, 1, (inc_t)dim, &zero, S,
                             (inc_t)n, 1, bc.cx, &rntm);
                sel_ctx sx = {.S = S, .n = n, .k = k, .idx = idx, .score = sc};
                ri_parallel_for(th, users_c, 64, sel_range, &sx);
                tc[r] = now() - t0;
            }
            printf("%u thread(s): (c) full sgemm (%zu users) + separate top-k %.0f users/s\n", th,
                   users_c, users_c / median(tc, reps));
        }
        ri_aligned_free(S);
    }
    for (unsigned th = 1; th <= 2; th++) {
        naive_ctx nc = {.U = U, .W = W, .bias = bias, .n = n, .dim = dim, .k = k, .idx = idx,
                        .score = sc};
        double t0 = now();
        ri_parallel_for(th, users_d, 8, naive_range, &nc);
        printf("%u thread(s): (d) naive loop (%zu users) %.0f users/s\n", th, users_d,
               users_d / (now() - t0));
    }
    ri_aligned_free(Cb[0]);
    ri_aligned_free(Cb[1]);
    ri_aligned_free(Cw[0]);
    ri_aligned_free(Cw[1]);
    ri_core_items_free(it);
    ri_aligned_free(U);
    ri_aligned_free(W);
    ri_aligned_free(bias);
    free(idx);
    free(cnt);
    free(sc);
    free(seen);
    free(f);
    return 0;
}
