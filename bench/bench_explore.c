/* Cost of exploration (issue 7, bar 3), on one thread, timed in thread CPU
 * seconds (the other processes on a shared machine inflate wall time, not this).
 *
 *   1. The policy step on fixed candidates: N = 500 candidates of dim 64, a slate
 *      of k = 10 (scoring with the posterior: LinUCB widths or Thompson draws,
 *      the slot-by-slot choice, propensities) plus one observe (Sherman-Morrison).
 *      Reported as calls/s per policy (bar: >= 20,000/s for linucb and thompson).
 *   2. End to end over 100k items, dim 64: recint_explorer_recommend (top-N
 *      candidates from the scoring core + the policy step) + one observe, against
 *      plain recint_model_recommend of the same k = 10; reported as the ratio of
 *      CPU time per call (bar: <= 1.3), at N = 100 (the default) and N = 500.
 *
 * usage: bench_explore [calls [policy]]   (default 20000 policy steps, 2000 end-to-end
 *        calls; with a policy: only its policy step, with e2e-POLICY [N] only its
 *        end-to-end part with calls calls and N candidates (default 100), for profiling;
 *        with topn [N] the core's top-N (default 500) against its top-10 alone)
 * Random vectors (a fixed LCG), so the figures need no data set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "explore/explore_internal.h"
#include "util/numparse.h"

#define DIM 64
#define N_CAND 500
#define K 10
#define N_ITEMS 100000
#define N_USERS 1000

static uint64_t lcg = 12345;
static float unit(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(uint32_t)(lcg >> 33) / 4294967296.0 - 0.5);
}

static int check(int rc, const char *what)
{
    if (rc != RECINT_OK) {
        fprintf(stderr, "bench_explore: %s: %s\n", what, recint_last_error());
        exit(1);
    }
    return rc;
}

static recint_model *random_model(uint32_t nu, uint32_t ni)
{
    float *U = malloc(sizeof(float) * (size_t)nu * DIM), *V = malloc(sizeof(float) * (size_t)ni * DIM);
    if (!U || !V) {
        fprintf(stderr, "bench_explore: out of memory\n");
        exit(1);
    }
    for (size_t j = 0; j < (size_t)nu * DIM; j++)
        U[j] = unit();
    for (size_t j = 0; j < (size_t)ni * DIM; j++)
        V[j] = unit() * 0.5f;
    recint_model *m = NULL;
    check(recint_model_new_factors(&m, nu, ni, DIM, U, V, NULL, NULL), "model");
    free(U);
    free(V);
    return m;
}

static recint_explorer *explorer(const recint_model *m, const char *policy, uint32_t candidates)
{
    recint_config *c = NULL;
    check(recint_config_new(&c), "config");
    check(recint_config_set(c, "policy", policy), "policy");
    char n[16];
    snprintf(n, sizeof n, "%u", candidates);
    check(recint_config_set(c, "candidates", n), "candidates");
    recint_explorer *e = NULL;
    check(recint_explorer_new(&e, m, c), "explorer");
    recint_config_free(c);
    return e;
}

/* Part 1: the step on a fixed candidate set of one user. */
static void policy_step(const recint_model *m, const char *policy, long calls)
{
    recint_explorer *e = explorer(m, policy, N_CAND);
    ri_posterior *p;
    check(ri_explorer_posterior(e, 0, &p), "posterior");
    uint32_t items[N_CAND], got = 0, pos[K];
    const float *x[N_CAND];
    float base[N_CAND], inv[N_CAND];
    static float rows[N_CAND * DIM];
    double prop[K];
    check(ri_explorer_candidates(e, 0, p, items, x, base, inv, rows, &got), "candidates");
    ri_candidates c = {got, items, x, base, NULL};
    /* Warm-up, then the timed loop. */
    ri_rng r;
    ri_rng_seed(&r, 1, 2);
    for (int i = 0; i < 100; i++)
        check(ri_policy_slate(&e->pp, e->isa, p, &c, K, &r, pos, prop), "slate");
    double t0 = thread_cpu_seconds();
    uint64_t sink = 0;
    for (long i = 0; i < calls; i++) {
        check(ri_policy_slate(&e->pp, e->isa, p, &c, K, &r, pos, prop), "slate");
        sink += pos[0];
        ri_posterior_observe(p, x[pos[i % K]], (double)(i & 1), e->isa, e->pp.policy == RI_POL_THOMPSON);
    }
    double dt = thread_cpu_seconds() - t0;
    printf("policy step  %-9s N=%d dim=%d k=%d: %9.0f calls/s  (%.1f us/call, %ld calls)\n",
           policy, N_CAND, DIM, K, calls / dt, 1e6 * dt / calls, calls);
    if (sink == UINT64_MAX)
        printf("\n");
    recint_explorer_free(e);
}

/* Part 2: per-call CPU time of plain recommend and of the explorer's, over
 * users. The two calls alternate, so that both see the same machine state
 * (other processes, caches) and their ratio stays meaningful on a busy host. */
static void end_to_end(const recint_model *m, const char *policy, uint32_t candidates,
                       long calls)
{
    uint32_t items[K], n;
    double prop[K];
    recint_explorer *e = explorer(m, policy, candidates);
    /* Every user's first call builds its posterior (O(dim^3) once): timed
     * apart, so that the loop below measures the steady state. */
    double t_init = thread_cpu_seconds();
    for (long i = 0; i < N_USERS; i++)
        check(recint_explorer_recommend(e, (uint32_t)i, K, items, prop, &n), "explore");
    t_init = thread_cpu_seconds() - t_init;
    for (long i = 0; i < 50; i++)
        check(recint_model_recommend(m, (uint32_t)(i % N_USERS), K, items, NULL, &n), "recommend");
    double plain = 0.0, expl = 0.0;
    for (long i = 0; i < calls; i++) {
        uint32_t u = (uint32_t)(i % N_USERS);
        double t0 = thread_cpu_seconds();
        check(recint_model_recommend(m, u, K, items, NULL, &n), "recommend");
        double t1 = thread_cpu_seconds();
        check(recint_explorer_recommend(e, u, K, items, prop, &n), "explore");
        check(recint_explorer_observe(e, u, items[0], (float)(i & 1)), "observe");
        double t2 = thread_cpu_seconds();
        plain += t1 - t0;
        expl += t2 - t1;
    }
    printf("end to end   %-9s %d items, N=%u: plain %.1f us, explorer %.1f us per call: "
           "ratio %.3f (first call of a user: %.1f us)\n",
           policy, N_ITEMS, candidates, 1e6 * plain / calls, 1e6 * expl / calls, expl / plain,
           1e6 * t_init / N_USERS);
    recint_explorer_free(e);
}

/* Part 3: what the candidates cost in the core alone: a top-N against a top-10
 * of the same user vector over the same catalogue, calls alternating. */
static void core_topn(const recint_model *m, uint32_t candidates, long calls)
{
    static uint32_t items[N_CAND];
    static float scores[N_CAND];
    static float u[DIM];
    uint32_t n;
    double t10 = 0.0, tn = 0.0;
    for (long i = 0; i < calls; i++) {
        for (int j = 0; j < DIM; j++)
            u[j] = unit();
        double t0 = thread_cpu_seconds();
        check(recint_model_recommend_vector(m, u, K, NULL, NULL, 0, items, scores, &n), "top-10");
        double t1 = thread_cpu_seconds();
        check(recint_model_recommend_vector(m, u, candidates, NULL, NULL, 0, items, scores, &n),
              "top-N");
        double t2 = thread_cpu_seconds();
        t10 += t1 - t0;
        tn += t2 - t1;
    }
    printf("core top-N   %d items: top-10 %.1f us, top-%u %.1f us per call: ratio %.3f\n", N_ITEMS,
           1e6 * t10 / calls, candidates, 1e6 * tn / calls, tn / t10);
}

int main(int argc, char **argv)
{
    long calls = 20000;
    if (argc > 1) {
        int64_t v;
        if (ri_parse_i64(argv[1], strlen(argv[1]), &v) != 0 || v < 1) {
            fprintf(stderr, "usage: bench_explore [calls]\n");
            return 2;
        }
        calls = (long)v;
    }
    recint_model *small = random_model(4, 20000);
    if (argc > 2 && strcmp(argv[2], "topn") == 0) {
        recint_model_free(small);
        recint_model *big = random_model(N_USERS, N_ITEMS);
        int64_t v;
        uint32_t nc = N_CAND;
        if (argc > 3 && ri_parse_i64(argv[3], strlen(argv[3]), &v) == 0 && v >= 1 && v <= N_CAND)
            nc = (uint32_t)v;
        core_topn(big, nc, calls);
        recint_model_free(big);
        return 0;
    }
    if (argc > 2 && strncmp(argv[2], "e2e-", 4) == 0) {
        recint_model_free(small);
        recint_model *big = random_model(N_USERS, N_ITEMS);
        uint32_t nc = 100;
        int64_t v;
        if (argc > 3 && ri_parse_i64(argv[3], strlen(argv[3]), &v) == 0 && v >= 1 && v <= N_CAND)
            nc = (uint32_t)v;
        end_to_end(big, argv[2] + 4, nc, calls);
        recint_model_free(big);
        return 0;
    }
    if (argc > 2) {
        policy_step(small, argv[2], calls);
        recint_model_free(small);
        return 0;
    }
    static const char *const policies[] = {"greedy", "epsilon", "softmax", "linucb", "thompson"};
    for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++)
        policy_step(small, policies[i], calls);
    recint_model_free(small);
    recint_model *big = random_model(N_USERS, N_ITEMS);
    for (uint32_t nc = 100; nc <= N_CAND; nc += N_CAND - 100) {
        end_to_end(big, "linucb", nc, calls / 10);
        end_to_end(big, "thompson", nc, calls / 10);
    }
    recint_model_free(big);
    return 0;
}
