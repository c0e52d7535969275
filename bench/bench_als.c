/* Speed, quality and memory of the als model on the P1 and P3 protocols
 * (/work/shared/bench/PROTOCOLS.md), both solvers, public API only.
 *
 * usage: bench_als p1 [DATASETS_DIR]            P1: u.data, rating >= 4, temporal:0.2;
 *                                               3 fits per solver, median, P@10, NDCG@10
 *        bench_als p3 DIR [iterations [cg|cholesky]]    P3: DIR/S.tsv then DIR/M.tsv from gen.py
 *        bench_als tsv FILE [iterations [cg|cholesky]]  one P3 file from gen.py (user item weight ts)
 *        bench_als synthetic S|M|L [iterations [cg|cholesky]]  recint_dataset_synthetic preset
 * Settings: threads=2, dim=64, library defaults otherwise (P1: 15 iterations; P3: 3).
 * The P3 files: /usr/bin/python3 /work/shared/bench/gen.py S|M --out DIR (seed 42); the
 * shape and seed are read back from DIR/<S|M>.meta.json and printed. Quality is
 * measured on P1 only (P3 is a speed protocol). implicit cannot be installed here,
 * so its PROTOCOLS.md figures are printed next to ours, labelled as such.
 * Environment: RECINT_DATASETS is the fallback datasets directory for p1.
 * Peak RSS is the process maximum so far (getrusage), so it includes the dataset and
 * every earlier fit; the P3 modes free each model before the next one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "recint.h"


#define BENCH_THREADS "2"
#define BENCH_DIM "64"
#define P1_ITERATIONS 15
#define P1_REPEATS 3
#define P3_ITERATIONS 3
#define MAX_ITERATIONS 1000

static const char *const solvers[] = {"cg", "cholesky"};

static int fail(const char *what)
{
    fprintf(stderr, "bench_als: %s: %s\n", what, recint_last_error());
    return 1;
}

static int set(recint_config *cfg, const char *key, const char *value)
{
    if (recint_config_set(cfg, key, value) == RECINT_OK)
        return 1;
    fprintf(stderr, "bench_als: %s=%s: %s\n", key, value, recint_last_error());
    return 0;
}

/* Iteration timestamps from the progress callback, so that per-iteration time
 * excludes setup (Gram buffers, initialisation) that the whole fit includes. */
struct timeline {
    double start;
    double at[MAX_ITERATIONS + 1];
    double cpu[MAX_ITERATIONS + 1]; /* process CPU seconds at the same moments */
    uint32_t n;
};

static int on_progress(void *ctx, uint32_t step, uint32_t steps, double loss)
{
    (void)step;
    (void)steps;
    (void)loss;
    struct timeline *tl = ctx;
    if (tl->n < MAX_ITERATIONS) {
        tl->cpu[tl->n] = cpu_seconds();
        tl->at[tl->n++] = now();
    }
    return 0;
}

struct fit_result {
    double fit_s;       /* recint_trainer_fit wall time */
    double iter_s;      /* median of the per-iteration intervals */
    double first_s;     /* start of fit to end of the first iteration (includes setup) */
    uint32_t iterations; /* progress calls seen */
    double cpu_ratio;   /* process CPU seconds / wall seconds during the fit */
    double iter_cpu_s;  /* median CPU seconds of an iteration (all threads) */
    double fit_cpu_s;   /* CPU seconds of the whole fit */
};

/* Model cfg holds every als key; the trainer gets the same cfg. */
static int fit_once(recint_model **out, const recint_config *cfg, const recint_dataset *train,
                    struct fit_result *res)
{
    recint_model *m = NULL;
    recint_trainer *t = NULL;
    if (recint_model_new(&m, "als", cfg) != RECINT_OK)
        return fail("model_new als");
    if (recint_trainer_new(&t, m, cfg) != RECINT_OK) {
        recint_model_free(m);
        return fail("trainer_new");
    }
    static struct timeline tl;
    tl.n = 0;
    double cpu0 = cpu_seconds();
    tl.start = now();
    int rc = recint_trainer_fit(t, train, NULL, on_progress, &tl);
    double end = now();
    double cpu = cpu_seconds() - cpu0;
    recint_trainer_free(t);
    if (rc != RECINT_OK) {
        recint_model_free(m);
        return fail("trainer_fit");
    }
    res->fit_s = end - tl.start;
    res->cpu_ratio = cpu / res->fit_s;
    res->fit_cpu_s = cpu;
    res->iterations = tl.n;
    res->first_s = tl.n ? tl.at[0] - tl.start : res->fit_s;
    if (tl.n >= 2) {
        double gaps[MAX_ITERATIONS];
        for (uint32_t i = 1; i < tl.n; i++)
            gaps[i - 1] = tl.at[i] - tl.at[i - 1];
        res->iter_s = median(gaps, tl.n - 1);
        for (uint32_t i = 1; i < tl.n; i++)
            gaps[i - 1] = tl.cpu[i] - tl.cpu[i - 1];
        res->iter_cpu_s = median(gaps, tl.n - 1);
    } else {
        res->iter_s = res->fit_s;
        res->iter_cpu_s = cpu;
    }
    *out = m;
    return 0;
}

static recint_config *bench_config(const char *solver, unsigned iterations)
{
    recint_config *cfg = NULL;
    if (recint_config_new(&cfg) != RECINT_OK) {
        fail("config_new");
        return NULL;
    }
    char it[16];
    snprintf(it, sizeof it, "%u", iterations);
    if (!set(cfg, "threads", BENCH_THREADS) || !set(cfg, "dim", BENCH_DIM) ||
        !set(cfg, "iterations", it) || !set(cfg, "solver", solver)) {
        recint_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static void print_settings(const recint_config *cfg)
{
    static const char *const keys[] = {"dim", "iterations", "regularization",
                                       "regularization_exponent", "alpha", "solver",
                                       "cg_steps", "threads", "seed"};
    printf("  settings:");
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char v[64];
        if (recint_config_get(cfg, keys[i], v, sizeof v) == RECINT_OK)
            printf(" %s=%s", keys[i], v);
    }
    printf("\n");
}

static void print_shape(const char *label, const recint_dataset *ds)
{
    printf("%s: %u users x %u items x %llu interactions\n", label, recint_dataset_n_users(ds),
           recint_dataset_n_items(ds), (unsigned long long)recint_dataset_n_interactions(ds));
}

static int p1_load(const char *dir, recint_dataset **train, recint_dataset **test)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ml-100k/u.data", dir);
    recint_dataset *raw = NULL, *pos = NULL;
    recint_config *cfg = NULL;
    int err = 1;
    if (recint_config_new(&cfg) != RECINT_OK)
        return fail("config_new");
    if (!set(cfg, "delimiter", "tab") || !set(cfg, "min_weight", "4") || !set(cfg, "implicit", "true"))
        goto out;
    if (recint_dataset_new(&raw, cfg) != RECINT_OK || recint_dataset_load(raw, path, cfg) != RECINT_OK) {
        fail(path);
        goto out;
    }
    if (recint_dataset_filter(&pos, raw, cfg) != RECINT_OK) {
        fail("filter min_weight=4");
        goto out;
    }
    if (recint_dataset_split(pos, "temporal:0.2", 42, train, NULL, test) != RECINT_OK) {
        fail("split temporal:0.2");
        goto out;
    }
    printf("P1 input %s, rating >= 4 as implicit 1, split temporal:0.2\n", path);
    print_shape("  train", *train);
    print_shape("  test ", *test);
    err = 0;
out:
    recint_dataset_free(pos);
    recint_dataset_free(raw);
    recint_config_free(cfg);
    return err;
}

/* Bar 3 of issue 5: fold-in of a user with 50 interactions at dim 64. Histories
 * are 50 distinct items drawn by a fixed LCG; each call is timed alone and the
 * median reported (one thread: fold-in is a single-user call). */
#define FOLD_CALLS 1000
#define FOLD_ITEMS 50

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void fold_in_timing(const recint_model *m)
{
    const uint32_t n_items = recint_model_n_items(m), dim = recint_model_dim(m);
    if (n_items < FOLD_ITEMS || dim == 0 || dim > 4096)
        return;
    static double t[FOLD_CALLS];
    float vec[4096];
    uint32_t items[FOLD_ITEMS];
    uint64_t s = 12345;
    for (int c = 0; c < FOLD_CALLS; c++) {
        uint32_t n = 0;
        while (n < FOLD_ITEMS) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t it = (uint32_t)((s >> 33) % n_items), dup = 0;
            for (uint32_t k = 0; k < n; k++)
                dup |= items[k] == it;
            if (!dup)
                items[n++] = it;
        }
        qsort(items, n, sizeof *items, cmp_u32);
        double t0 = now();
        if (recint_model_fold_in(m, items, NULL, n, vec) != RECINT_OK) {
            fail("fold_in");
            return;
        }
        t[c] = now() - t0;
    }
    printf("  fold-in of %d items at dim %u: median %.1f us over %d calls (bar: <= 50 us)\n",
           FOLD_ITEMS, dim, 1e6 * median(t, FOLD_CALLS), FOLD_CALLS);
}

static int run_p1(const char *dir)
{
    recint_dataset *train = NULL, *test = NULL;
    if (p1_load(dir, &train, &test))
        return 1;
    int err = 0;
    for (size_t s = 0; s < 2 && !err; s++) {
        recint_config *cfg = bench_config(solvers[s], P1_ITERATIONS);
        if (!cfg) {
            err = 1;
            break;
        }
        double fits[P1_REPEATS], iters[P1_REPEATS], ratios[P1_REPEATS], cpus[P1_REPEATS];
        double metrics[RECINT_METRIC_COUNT];
        for (int r = 0; r < P1_REPEATS && !err; r++) {
            recint_model *m = NULL;
            struct fit_result res;
            if (fit_once(&m, cfg, train, &res)) {
                err = 1;
                break;
            }
            fits[r] = res.fit_s;
            iters[r] = res.iter_s;
            ratios[r] = res.cpu_ratio;
            cpus[r] = res.fit_cpu_s;
            /* Every repeat uses the same seed, so the last model's metrics stand for all. */
            if (r == P1_REPEATS - 1 &&
                recint_evaluate(m, train, test, 10, cfg, metrics, RECINT_METRIC_COUNT) != RECINT_OK)
                err = fail("evaluate");
            if (r == P1_REPEATS - 1 && s == 0 && !err)
                fold_in_timing(m);
            recint_model_free(m);
        }
        if (!err) {
            printf("P1 als solver=%s: fit %.4f s (median of %d; runs %.4f %.4f %.4f), "
                   "%.5f s/iter (median interval), P@10 %.4f, R@10 %.4f, NDCG@10 %.4f, "
                   "AUC %.4f, users %.0f, peak RSS %.1f MiB, cpu/wall %.2f, fit CPU %.4f s\n",
                   solvers[s], median(fits, P1_REPEATS), P1_REPEATS, fits[0], fits[1], fits[2],
                   median(iters, P1_REPEATS), metrics[RECINT_METRIC_PRECISION],
                   metrics[RECINT_METRIC_RECALL], metrics[RECINT_METRIC_NDCG],
                   metrics[RECINT_METRIC_AUC], metrics[RECINT_METRIC_USERS], peak_rss_mib(),
                   median(ratios, P1_REPEATS), median(cpus, P1_REPEATS));
            print_settings(cfg);
        }
        recint_config_free(cfg);
    }
    if (!err)
        printf("  peer, from PROTOCOLS.md (not measured here; implicit is not installed): implicit "
               "ALS cg k=64 reg .05 alpha 2 15 it, 2 threads: fit 0.155 s, P@10 .0980, NDCG@10 "
               ".1338; reg 20 alpha 5 (picked on test): P@10 .1122, NDCG@10 .1487\n");
    recint_dataset_free(test);
    recint_dataset_free(train);
    return err;
}

/* implicit ALS k=64 alpha 2, 2 threads, per iteration and peak RSS, from
 * PROTOCOLS.md (P3 table): S, M, L. */
static const char *const implicit_p3[3] = {"0.561 s/iter, 136 MB", "3.35 s/iter, 470 MB",
                                           "16.23 s/iter, 1.95 GB"};

/* Scale letter of a gen.py file name (".../S.tsv"), or 0. */
static char scale_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strlen(base) == 5 && strchr("SML", base[0]) && strcmp(base + 1, ".tsv") == 0)
        return base[0];
    return 0;
}

/* The generator's shape and seed, from gen.py's DIR/<scale>.meta.json next to the
 * file: the values of a few keys, printed as they stand in the JSON. */
static void print_meta(const char *path)
{
    size_t n = strlen(path);
    if (n < 4 || strcmp(path + n - 4, ".tsv") != 0 || n > 4000)
        return;
    char meta[4096];
    snprintf(meta, sizeof meta, "%.*s.meta.json", (int)(n - 4), path);
    FILE *f = fopen(meta, "r");
    if (!f) {
        printf("  generator: %s not found (shape and seed unknown)\n", meta);
        return;
    }
    char buf[8192];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    static const char *const keys[] = {"scale", "users", "items", "nnz", "seed", "zipf",
                                       "clusters", "tsv_md5"};
    printf("  generator (%s): /usr/bin/python3 gen.py <scale> --out DIR;", meta);
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\": ", keys[k]);
        const char *at = strstr(buf, pat);
        if (!at)
            continue;
        at += strlen(pat);
        size_t vlen = strcspn(at, ",}");
        printf(" %s=%.*s", keys[k], (int)vlen, at);
    }
    printf("\n");
}

/* only: one solver's name, or NULL for both */
static int run_p3(const recint_dataset *ds, const char *label, unsigned iterations,
                  const char *only)
{
    print_shape(label, ds);
    printf("  after load: peak RSS %.1f MiB\n", peak_rss_mib());
    for (size_t s = 0; s < 2; s++) {
        if (only && strcmp(only, solvers[s]) != 0)
            continue;
        recint_config *cfg = bench_config(solvers[s], iterations);
        if (!cfg)
            return 1;
        recint_model *m = NULL;
        struct fit_result res;
        if (fit_once(&m, cfg, ds, &res)) {
            recint_config_free(cfg);
            return 1;
        }
        printf("%s als solver=%s: %.3f s/iter (median interval of %u iterations), first "
               "iteration incl. setup %.3f s, fit %.3f s, peak RSS %.1f MiB, cpu/wall %.2f; "
               "CPU %.3f s/iter, fit CPU %.3f s (CPU / 2 = wall on 2 free cores)\n",
               label, solvers[s], res.iter_s, res.iterations, res.first_s, res.fit_s,
               peak_rss_mib(), res.cpu_ratio, res.iter_cpu_s, res.fit_cpu_s);
        print_settings(cfg);
        recint_model_free(m);
        recint_config_free(cfg);
    }
    return 0;
}

static unsigned parse_iterations(const char *s)
{
    if (!s)
        return P3_ITERATIONS;
    unsigned v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > MAX_ITERATIONS)
            return 0;
        v = v * 10 + (unsigned)(*p - '0');
    }
    return v <= MAX_ITERATIONS ? v : 0;
}

static int run_tsv(const char *path, const char *iters, const char *only)
{
    unsigned iterations = parse_iterations(iters);
    if (!iterations) {
        fprintf(stderr, "bench_als: iterations must be 1..%d\n", MAX_ITERATIONS);
        return 2;
    }
    recint_config *cfg = NULL;
    recint_dataset *ds = NULL;
    if (recint_config_new(&cfg) != RECINT_OK)
        return fail("config_new");
    int err = 1;
    if (!set(cfg, "delimiter", "tab") || !set(cfg, "columns", "user,item,weight,timestamp") ||
        !set(cfg, "header", "no") || !set(cfg, "ids", "int"))
        goto out;
    if (recint_dataset_new(&ds, cfg) != RECINT_OK) {
        fail("dataset_new");
        goto out;
    }
    double t0 = now();
    if (recint_dataset_load(ds, path, cfg) != RECINT_OK) {
        fail(path);
        goto out;
    }
    printf("P3 file %s: load %.3f s (weight = event count, used as is)\n", path, now() - t0);
    print_meta(path);
    err = run_p3(ds, "P3", iterations, only);
    char sc = scale_of(path);
    if (!err && sc)
        printf("  peer, from PROTOCOLS.md (not measured here; implicit is not installed): "
               "implicit ALS k=64 alpha 2, 2 threads, on gen.py %c: %s\n", sc,
               implicit_p3[sc == 'S' ? 0 : sc == 'M' ? 1 : 2]);
out:
    recint_dataset_free(ds);
    recint_config_free(cfg);
    return err;
}

static int run_synthetic(const char *scale, const char *iters, const char *only)
{
    unsigned iterations = parse_iterations(iters);
    if (!iterations) {
        fprintf(stderr, "bench_als: iterations must be 1..%d\n", MAX_ITERATIONS);
        return 2;
    }
    recint_config *cfg = NULL;
    recint_dataset *ds = NULL;
    if (recint_config_new(&cfg) != RECINT_OK)
        return fail("config_new");
    int err = 1;
    if (!set(cfg, "syn_scale", scale) || !set(cfg, "threads", BENCH_THREADS))
        goto out;
    double t0 = now();
    if (recint_dataset_synthetic(&ds, cfg, NULL) != RECINT_OK) {
        fail("dataset_synthetic");
        goto out;
    }
    char seed[32] = "?";
    recint_config_get(cfg, "seed", seed, sizeof seed);
    printf("synthetic syn_scale=%s seed=%s (library generator, not gen.py): generated in %.3f s\n",
           scale, seed, now() - t0);
    char label[32];
    snprintf(label, sizeof label, "syn-%s", scale);
    err = run_p3(ds, label, iterations, only);
out:
    recint_dataset_free(ds);
    recint_config_free(cfg);
    return err;
}

/* gen.py's S and M files of DIR, one after the other. */
static int run_p3_dir(const char *dir, const char *iters, const char *only)
{
    int err = 0;
    for (const char *sc = "SM"; *sc && !err; sc++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%c.tsv", dir, *sc);
        FILE *f = fopen(path, "r");
        if (!f) {
            printf("P3 %c: %s not found: /usr/bin/python3 /work/shared/bench/gen.py %c --out %s\n",
                   *sc, path, *sc, dir);
            continue;
        }
        fclose(f);
        err = run_tsv(path, iters, only);
    }
    return err;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_als p1 [DATASETS_DIR]\n"
                    "       bench_als p3 DIR [iterations [cg|cholesky]]\n"
                    "       bench_als tsv FILE [iterations [cg|cholesky]]\n"
                    "       bench_als synthetic S|M|L [iterations [cg|cholesky]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    printf("librecint %s, threads=%s dim=%s\n", recint_version(), BENCH_THREADS, BENCH_DIM);
    if (strcmp(argv[1], "p1") == 0) {
        const char *dir = argc > 2 ? argv[2] : getenv("RECINT_DATASETS");
        return run_p1(dir ? dir : "/work/shared/datasets");
    }
    if (strcmp(argv[1], "p3") == 0 && argc >= 3)
        return run_p3_dir(argv[2], argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL);
    if (strcmp(argv[1], "tsv") == 0 && argc >= 3)
        return run_tsv(argv[2], argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL);
    if (strcmp(argv[1], "synthetic") == 0 && argc >= 3 && strlen(argv[2]) == 1 &&
        strchr("SML", argv[2][0]))
        return run_synthetic(argv[2], argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : NULL);
    return usage();
}
