/* The subcommands of `recint`. Each is a short sequence of public API calls;
 * the library does the work, this file only wires calls together and prints. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PATH_CAP 4096

/* ---------------------------------------------------------------- helpers -- */

/* Filtering copies the dataset, so it runs only when a filter key was given. */
static int wants_filter(const recint_config *cfg)
{
    for (size_t i = 0; i < recint_config_count(); i++)
        if (strcmp(recint_config_describe(i, RECINT_PARAM_GROUP), "filter") == 0 &&
            recint_config_is_set(cfg, recint_config_describe(i, RECINT_PARAM_KEY)))
            return 1;
    return 0;
}

/* Load --input (or make --synthetic data), then filter, then reweight: the
 * weighting's statistics are those of the rows that are kept. A non-NULL
 * catalogue seeds the id maps so that indices match it. */
static int load_input(const cli_args *a, const recint_dataset *catalogue, recint_dataset **out)
{
    const char *path = cli_get(a, "input");
    int synthetic = cli_flag(a, "synthetic");
    if ((path != NULL) == synthetic)
        return cli_usage(a->cmd, "give exactly one of --input FILE and --synthetic");
    recint_dataset *ds = NULL, *kept = NULL;
    int rc;
    if (synthetic) {
        rc = recint_dataset_synthetic(&ds, a->cfg, NULL);
    } else {
        rc = recint_dataset_new_with_catalogue(&ds, recint_dataset_users(catalogue),
                                               recint_dataset_items(catalogue), a->cfg);
        if (rc == RECINT_OK)
            rc = recint_dataset_load(ds, path, a->cfg);
    }
    if (rc == RECINT_OK && wants_filter(a->cfg)) {
        rc = recint_dataset_filter(&kept, ds, a->cfg);
        recint_dataset_free(ds);
        ds = kept;
    }
    if (rc == RECINT_OK && recint_config_is_set(a->cfg, "weighting")) {
        rc = recint_dataset_reweight(&kept, ds, a->cfg);
        recint_dataset_free(ds);
        ds = kept;
    }
    if (rc != RECINT_OK) {
        recint_dataset_free(ds);
        return cli_fail(rc);
    }
    *out = ds;
    return CLI_OK;
}

static int split_input(const cli_args *a, const recint_dataset *ds, recint_dataset **train,
                       recint_dataset **valid, recint_dataset **test, char *spec, size_t cap)
{
    uint64_t seed;
    if (cli_cfg_text(a->cfg, "split", spec, cap) != CLI_OK || cli_cfg_u64(a->cfg, "seed", &seed) != CLI_OK)
        return CLI_FAIL;
    int rc = recint_dataset_split(ds, spec, seed, train, valid, test);
    return rc == RECINT_OK ? CLI_OK : cli_fail(rc);
}

static int read_k(const cli_args *a, uint32_t *k)
{
    uint64_t v;
    if (cli_cfg_u64(a->cfg, "k", &v) != CLI_OK)
        return CLI_FAIL;
    *k = (uint32_t)v; /* the table bounds k to [1, 100000] */
    return CLI_OK;
}

static const char *model_kind(const cli_args *a)
{
    const char *kind = cli_get(a, "model");
    return kind ? kind : "pop";
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* --user-features / --item-features FILE (option opt): .npy, raw float32 (.f32,
 * .raw, .bin; feature_cols values per row), else sparse text. Rows are the
 * training data's users or items. *out stays NULL without the option. */
static int load_features(const cli_args *a, const char *opt, const recint_idmap *rows,
                         recint_features **out)
{
    const char *path = cli_get(a, opt);
    *out = NULL;
    if (!path)
        return CLI_OK;
    int rc;
    if (ends_with(path, ".npy")) {
        rc = recint_features_load_npy(out, path, rows);
    } else if (ends_with(path, ".f32") || ends_with(path, ".raw") || ends_with(path, ".bin")) {
        uint64_t cols;
        if (cli_cfg_u64(a->cfg, "feature_cols", &cols) != CLI_OK)
            return CLI_FAIL;
        if (cols == 0)
            return cli_usage(a->cmd, "--%s %s: raw float32 needs --feature-cols N (values per row)",
                             opt, path);
        rc = recint_features_load_raw(out, path, (uint32_t)cols, rows);
    } else {
        rc = recint_features_load_sparse(out, NULL, path, rows, a->cfg);
    }
    return rc == RECINT_OK ? CLI_OK : cli_fail(rc);
}

/* Identity columns first, then the file's (LightFM's Dataset does the same by
 * default): known users and items keep an embedding of their own, and the file's
 * features carry what they share. */
static int with_identity(recint_features **f)
{
    recint_features *id = NULL, *both = NULL;
    int rc = recint_features_identity(&id, recint_features_rows(*f));
    if (rc == RECINT_OK) {
        const recint_features *parts[2] = {id, *f};
        rc = recint_features_hstack(&both, parts, 2);
    }
    recint_features_free(id);
    if (rc != RECINT_OK)
        return cli_fail(rc);
    recint_features_free(*f);
    *f = both;
    return CLI_OK;
}

/* Feature files are read before the model is asked, so a damaged file is
 * reported whatever the kind; a kind without feature embeddings then refuses. */
static int attach_features(const cli_args *a, const recint_dataset *train, recint_model *m)
{
    if (!cli_get(a, "user-features") && !cli_get(a, "item-features"))
        return CLI_OK;
    recint_features *uf = NULL, *itf = NULL;
    int status = load_features(a, "user-features", recint_dataset_users(train), &uf);
    if (status == CLI_OK)
        status = load_features(a, "item-features", recint_dataset_items(train), &itf);
    if (!cli_flag(a, "features-only")) {
        if (status == CLI_OK && uf)
            status = with_identity(&uf);
        if (status == CLI_OK && itf)
            status = with_identity(&itf);
    }
    if (status == CLI_OK) {
        int rc = recint_model_set_features(m, uf, itf);
        status = rc == RECINT_OK ? CLI_OK : cli_fail(rc);
    }
    recint_features_free(uf);
    recint_features_free(itf);
    return status;
}

static int fit_kind(const cli_args *a, const char *kind, const recint_dataset *train,
                    recint_model **out, double *seconds)
{
    recint_model *m = NULL;
    recint_trainer *t = NULL;
    int rc = recint_model_new(&m, kind, a->cfg);
    if (rc == RECINT_OK) {
        int status = attach_features(a, train, m);
        if (status != CLI_OK) {
            recint_model_free(m);
            return status;
        }
        rc = recint_trainer_new(&t, m, a->cfg);
    }
    if (rc == RECINT_OK) {
        cli_progress p;
        cli_progress_begin(&p, "fit");
        double t0 = cli_now();
        rc = recint_trainer_fit(t, train, NULL, cli_progress_cb, &p);
        *seconds = cli_now() - t0;
        cli_progress_end(&p);
    }
    recint_trainer_free(t);
    if (rc != RECINT_OK) {
        recint_model_free(m);
        return cli_fail(rc);
    }
    *out = m;
    return CLI_OK;
}

static int fit(const cli_args *a, const recint_dataset *train, recint_model **out, double *seconds)
{
    return fit_kind(a, model_kind(a), train, out, seconds);
}

/* Ranking metrics always; next-item metrics too when asked (leave-one-out),
 * with train as the history: a "loo" split made without a validation part
 * keeps the second-to-last row there. */
static int evaluate(const cli_args *a, const recint_model *m, const recint_dataset *train,
                    const recint_dataset *test, uint32_t k, int next, double *metrics)
{
    for (int i = 0; i < RECINT_METRIC_COUNT; i++)
        metrics[i] = NAN;
    int rc = recint_evaluate(m, train, test, k, a->cfg, metrics, RECINT_METRIC_COUNT);
    if (rc == RECINT_OK && next) {
        double nx[RECINT_METRIC_COUNT];
        rc = recint_evaluate_next(m, train, test, k, a->cfg, nx, RECINT_METRIC_COUNT);
        for (int i = RECINT_METRIC_FULL_HR; rc == RECINT_OK && i <= RECINT_METRIC_SAMPLED_NDCG; i++)
            metrics[i] = nx[i];
    }
    return rc == RECINT_OK ? CLI_OK : cli_fail(rc);
}

/* ---------------------------------------------------------------- reports -- */

typedef struct {
    const char *model, *split; /* NULL: not printed */
    uint64_t train_rows, test_rows;
    uint32_t users, items, k;
    double fit_seconds; /* NaN: not fitted by this command */
    int next;
    double metrics[RECINT_METRIC_COUNT];
} report;

typedef struct {
    const char *key;
    int metric;
} metric_key;

/* The JSON keys are the command's stable interface: named here, not taken from
 * recint_metric_name, so a library rename cannot break scripts. */
static const metric_key ranking_keys[] = {
    {"precision", RECINT_METRIC_PRECISION}, {"recall", RECINT_METRIC_RECALL},
    {"ndcg", RECINT_METRIC_NDCG},           {"map", RECINT_METRIC_MAP},
    {"hit_rate", RECINT_METRIC_HIT_RATE},   {"auc", RECINT_METRIC_AUC},
    {"coverage", RECINT_METRIC_COVERAGE},
};
static const metric_key next_keys[] = {
    {"full_hr", RECINT_METRIC_FULL_HR},       {"full_ndcg", RECINT_METRIC_FULL_NDCG},
    {"sampled_hr", RECINT_METRIC_SAMPLED_HR}, {"sampled_ndcg", RECINT_METRIC_SAMPLED_NDCG},
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_json(const report *r)
{
    printf("{");
    if (r->model) {
        printf("\"model\": ");
        json_string(stdout, r->model);
        printf(", ");
    }
    if (r->split) {
        printf("\"split\": ");
        json_string(stdout, r->split);
        printf(", ");
    }
    printf("\"train_rows\": %llu, \"test_rows\": %llu, \"users\": %u, \"items\": %u, \"k\": %u",
           (unsigned long long)r->train_rows, (unsigned long long)r->test_rows, r->users, r->items, r->k);
    printf(", \"eval_users\": ");
    cli_json_number(stdout, r->metrics[RECINT_METRIC_USERS]);
    for (size_t i = 0; i < N_OF(ranking_keys); i++) {
        printf(", \"%s\": ", ranking_keys[i].key);
        cli_json_number(stdout, r->metrics[ranking_keys[i].metric]);
    }
    for (size_t i = 0; r->next && i < N_OF(next_keys); i++) {
        printf(", \"%s\": ", next_keys[i].key);
        cli_json_number(stdout, r->metrics[next_keys[i].metric]);
    }
    if (!isnan(r->fit_seconds)) {
        printf(", \"fit_seconds\": ");
        cli_json_number(stdout, r->fit_seconds);
    }
    printf("}\n");
}

static void print_text(const report *r)
{
    printf("data      %u users, %u items; %llu train rows, %llu test rows", r->users, r->items,
           (unsigned long long)r->train_rows, (unsigned long long)r->test_rows);
    if (r->split)
        printf(" (split %s)", r->split);
    printf("\n");
    if (r->model && !isnan(r->fit_seconds))
        printf("model     %s, fitted in %.3f s\n", r->model, r->fit_seconds);
    printf("ranking   top-%u over %.0f users with test items\n", r->k, r->metrics[RECINT_METRIC_USERS]);
    for (size_t i = 0; i < N_OF(ranking_keys); i++)
        printf("  %-12s %.4f\n", ranking_keys[i].key, r->metrics[ranking_keys[i].metric]);
    if (r->next) {
        printf("next item (full: against every unseen item; sampled: against eval_samples items)\n");
        for (size_t i = 0; i < N_OF(next_keys); i++)
            printf("  %-12s %.4f\n", next_keys[i].key, r->metrics[next_keys[i].metric]);
    }
}

static void print_report(const report *r, int json)
{
    if (json)
        print_json(r);
    else
        print_text(r);
}

static int is_loo(const char *spec) { return strncmp(spec, "loo", 3) == 0; }

/* ------------------------------------------------------------------- demo -- */

/* x among sorted[lo..end-1]? */
static int contains(const uint32_t *sorted, uint64_t lo, uint64_t end, uint32_t x)
{
    uint64_t hi = end;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < end && sorted[lo] == x;
}

static int print_top(const recint_model *m, const recint_dataset *test, uint32_t user, uint32_t k)
{
    uint32_t *items = malloc((size_t)k * sizeof *items), n = 0;
    float *scores = malloc((size_t)k * sizeof *scores);
    const uint64_t *ip;
    const uint32_t *ti;
    int oom = !items || !scores, rc = RECINT_OK;
    if (!oom)
        rc = recint_model_recommend(m, user, k, items, scores, &n);
    if (!oom && rc == RECINT_OK)
        rc = recint_dataset_csr(test, &ip, &ti, NULL, NULL);
    if (!oom && rc == RECINT_OK) {
        char uid[64], iid[64];
        cli_id_text(recint_model_users(m), user, uid, sizeof uid);
        printf("\ntop-%u for user %s (* = one of the user's held-out test items)\n", k, uid);
        for (uint32_t r = 0; r < n; r++) {
            cli_id_text(recint_model_items(m), items[r], iid, sizeof iid);
            int hit = contains(ti, ip[user], ip[user + 1], items[r]);
            printf("  %2u. item %-10s score %10.6g%s\n", r + 1, iid, scores[r], hit ? " *" : "");
        }
    }
    free(items);
    free(scores);
    if (oom) {
        fprintf(stderr, "recint: out of memory\n");
        return CLI_FAIL;
    }
    return rc == RECINT_OK ? CLI_OK : cli_fail(rc);
}

/* Three users spread over those that have test items. */
static int demo_users(const recint_dataset *test, uint32_t picked[3], int *n_picked)
{
    const uint64_t *ip;
    int rc = recint_dataset_csr(test, &ip, NULL, NULL, NULL);
    if (rc != RECINT_OK)
        return cli_fail(rc);
    uint32_t n = recint_dataset_n_users(test), with = 0;
    for (uint32_t u = 0; u < n; u++)
        with += ip[u + 1] > ip[u];
    *n_picked = 0;
    uint32_t want[3] = {0, with / 2, with ? with - 1 : 0}, seen = 0;
    for (uint32_t u = 0; u < n && *n_picked < 3 && with > 0; u++) {
        if (ip[u + 1] == ip[u])
            continue;
        while (*n_picked < 3 && want[*n_picked] == seen)
            picked[(*n_picked)++] = u;
        seen++;
    }
    return CLI_OK;
}

static int cmd_demo(const cli_args *a)
{
    recint_dataset *ds = NULL, *train = NULL, *test = NULL;
    recint_model *m = NULL;
    /* The demo shows a model learning the planted interests, so it trains ALS
     * unless --model says otherwise (pop is the other commands' default). */
    report r = {.model = cli_get(a, "model") ? model_kind(a) : "als", .fit_seconds = NAN};
    char spec[128];
    int status = read_k(a, &r.k);
    if (status == CLI_OK) {
        int rc = recint_dataset_synthetic(&ds, a->cfg, NULL);
        status = rc == RECINT_OK ? CLI_OK : cli_fail(rc);
    }
    if (status == CLI_OK)
        status = split_input(a, ds, &train, NULL, &test, spec, sizeof spec);
    if (status == CLI_OK)
        status = fit_kind(a, r.model, train, &m, &r.fit_seconds);
    if (status == CLI_OK)
        status = evaluate(a, m, train, test, r.k, 0, r.metrics);
    if (status == CLI_OK) {
        r.split = spec;
        r.train_rows = recint_dataset_n_interactions(train);
        r.test_rows = recint_dataset_n_interactions(test);
        r.users = recint_dataset_n_users(ds);
        r.items = recint_dataset_n_items(ds);
        printf("recint %s demo: planted-interest synthetic data, model '%s'\n\n", recint_version(), r.model);
        print_text(&r);
        uint32_t users[3];
        int n = 0;
        status = demo_users(test, users, &n);
        for (int i = 0; status == CLI_OK && i < n; i++)
            status = print_top(m, test, users[i], r.k);
    }
    recint_model_free(m);
    recint_dataset_free(ds);
    recint_dataset_free(train);
    recint_dataset_free(test);
    return status;
}

/* ------------------------------------------------------------- experiment -- */

static int cmd_experiment(const cli_args *a)
{
    recint_dataset *ds = NULL, *train = NULL, *test = NULL;
    recint_model *m = NULL;
    report r = {.model = model_kind(a), .fit_seconds = NAN};
    char spec[128];
    int status = read_k(a, &r.k);
    if (status == CLI_OK)
        status = load_input(a, NULL, &ds);
    if (status == CLI_OK)
        status = split_input(a, ds, &train, NULL, &test, spec, sizeof spec);
    if (status == CLI_OK)
        status = fit(a, train, &m, &r.fit_seconds);
    if (status == CLI_OK) {
        r.next = is_loo(spec);
        status = evaluate(a, m, train, test, r.k, r.next, r.metrics);
    }
    if (status == CLI_OK) {
        r.split = spec;
        r.train_rows = recint_dataset_n_interactions(train);
        r.test_rows = recint_dataset_n_interactions(test);
        r.users = recint_dataset_n_users(ds);
        r.items = recint_dataset_n_items(ds);
        print_report(&r, cli_flag(a, "json"));
    }
    recint_model_free(m);
    recint_dataset_free(ds);
    recint_dataset_free(train);
    recint_dataset_free(test);
    return status;
}

/* ------------------------------------------------------------------ split -- */

static int save_part(const recint_dataset *part, const char *prefix, const char *name)
{
    char path[PATH_CAP];
    if ((size_t)snprintf(path, sizeof path, "%s.%s.tsv", prefix, name) >= sizeof path) {
        fprintf(stderr, "recint: output prefix too long\n");
        return CLI_FAIL;
    }
    int rc = recint_dataset_save(part, path);
    if (rc != RECINT_OK)
        return cli_fail(rc);
    printf("%s\t%llu rows\n", path, (unsigned long long)recint_dataset_n_interactions(part));
    return CLI_OK;
}

static int cmd_split(const cli_args *a)
{
    const char *prefix = cli_get(a, "out");
    if (!prefix)
        return cli_usage(a->cmd, "--out PREFIX is required");
    recint_dataset *ds = NULL, *train = NULL, *valid = NULL, *test = NULL;
    char spec[128];
    int status = load_input(a, NULL, &ds);
    if (status == CLI_OK)
        status = split_input(a, ds, &train, cli_flag(a, "valid") ? &valid : NULL, &test, spec,
                             sizeof spec);
    if (status == CLI_OK)
        status = save_part(train, prefix, "train");
    if (status == CLI_OK && valid)
        status = save_part(valid, prefix, "valid");
    if (status == CLI_OK)
        status = save_part(test, prefix, "test");
    recint_dataset_free(ds);
    recint_dataset_free(train);
    recint_dataset_free(valid);
    recint_dataset_free(test);
    return status;
}

/* ------------------------------------------------------------------ train -- */

/* --catalogue FILE: the users and items of another file (the test split) join the
 * training catalogue without training on its rows, so that a later `recint eval`
 * can map every test row onto the model. */
static int load_catalogue(const cli_args *a, const char *path, recint_dataset **out)
{
    int rc = recint_dataset_new(out, a->cfg);
    if (rc == RECINT_OK && (rc = recint_dataset_load(*out, path, a->cfg)) != RECINT_OK) {
        recint_dataset_free(*out);
        *out = NULL;
    }
    return rc == RECINT_OK ? CLI_OK : cli_fail(rc);
}

static int cmd_train(const cli_args *a)
{
    const char *out = cli_get(a, "out");
    if (!out)
        return cli_usage(a->cmd, "--out FILE is required");
    recint_dataset *ds = NULL;
    recint_model *m = NULL;
    double seconds = 0;
    recint_dataset *catalogue = NULL;
    const char *catalogue_path = cli_get(a, "catalogue");
    int status = catalogue_path ? load_catalogue(a, catalogue_path, &catalogue) : CLI_OK;
    if (status == CLI_OK)
        status = load_input(a, catalogue, &ds);
    recint_dataset_free(catalogue);
    if (status == CLI_OK)
        status = fit(a, ds, &m, &seconds);
    if (status == CLI_OK) {
        int rc = recint_model_save(m, out);
        status = rc == RECINT_OK ? CLI_OK : cli_fail(rc);
    }
    if (status == CLI_OK)
        printf("trained %s on %llu interactions (%u users, %u items) in %.3f s; wrote %s\n",
               recint_model_kind(m), (unsigned long long)recint_dataset_n_interactions(ds),
               recint_model_n_users(m), recint_model_n_items(m), seconds, out);
    recint_model_free(m);
    recint_dataset_free(ds);
    return status;
}

/* ------------------------------------------------------------------- eval -- */

/* Every model file goes through here, so that --set load_memory_limit=BYTES
 * reaches each command's load. */
static int load_model_file(const cli_args *a, const char *path, recint_model **m)
{
    int rc = recint_model_load_ex(m, path, a->cfg);
    return rc == RECINT_OK ? CLI_OK : cli_fail(rc);
}

static int load_model(const cli_args *a, recint_model **m)
{
    const char *path = cli_get(a, "model-file");
    if (!path)
        return cli_usage(a->cmd, "--model-file FILE is required");
    return load_model_file(a, path, m);
}

/* Load a file into a dataset whose indices are the model's, so that the model's
 * scores and the file's rows talk about the same users and items. */
static int load_for_model(const cli_args *a, const recint_model *m, const char *path, recint_dataset **out)
{
    const recint_idmap *users = recint_model_users(m), *items = recint_model_items(m);
    recint_dataset *ds = NULL;
    int rc = recint_dataset_new_with_catalogue(&ds, users, items, a->cfg);
    int status = rc == RECINT_OK ? CLI_OK : cli_fail(rc);
    if (status == CLI_OK) {
        rc = recint_dataset_load(ds, path, a->cfg);
        status = rc == RECINT_OK ? CLI_OK : cli_fail(rc);
    }
    if (status == CLI_OK && (recint_dataset_n_users(ds) != recint_model_n_users(m) ||
                             recint_dataset_n_items(ds) != recint_model_n_items(m))) {
        fprintf(stderr, "recint: %s: %u users and %u items, the model knows %u and %u\n", path,
                recint_dataset_n_users(ds), recint_dataset_n_items(ds), recint_model_n_users(m),
                recint_model_n_items(m));
        status = CLI_FAIL;
    }
    if (status != CLI_OK) {
        recint_dataset_free(ds);
        return status;
    }
    *out = ds;
    return CLI_OK;
}

static int cmd_eval(const cli_args *a)
{
    const char *train_path = cli_get(a, "train"), *test_path = cli_get(a, "test");
    if (!train_path || !test_path)
        return cli_usage(a->cmd, "--train FILE and --test FILE are required");
    recint_model *m = NULL;
    recint_dataset *train = NULL, *test = NULL;
    report r = {.fit_seconds = NAN, .next = cli_flag(a, "next")};
    int status = read_k(a, &r.k);
    if (status == CLI_OK)
        status = load_model(a, &m);
    if (status == CLI_OK)
        status = load_for_model(a, m, train_path, &train);
    if (status == CLI_OK)
        status = load_for_model(a, m, test_path, &test);
    if (status == CLI_OK)
        status = evaluate(a, m, train, test, r.k, r.next, r.metrics);
    if (status == CLI_OK) {
        r.model = recint_model_kind(m);
        r.train_rows = recint_dataset_n_interactions(train);
        r.test_rows = recint_dataset_n_interactions(test);
        r.users = recint_model_n_users(m);
        r.items = recint_model_n_items(m);
        print_report(&r, cli_flag(a, "json"));
    }
    recint_dataset_free(train);
    recint_dataset_free(test);
    recint_model_free(m);
    return status;
}

/* -------------------------------------------------------------- recommend -- */

static int find_user(const recint_idmap *users, const char *text, uint32_t *out)
{
    int rc;
    if (recint_idmap_kind(users) == RECINT_IDS_STRING) {
        rc = recint_idmap_index_str(users, text, out);
    } else {
        char *end;
        long long id = strtoll(text, &end, 10);
        if (end == text || *end) {
            fprintf(stderr, "recint: user '%s' is not an integer id (the model uses integer ids)\n", text);
            return CLI_FAIL;
        }
        rc = recint_idmap_index(users, (int64_t)id, out);
    }
    return rc == RECINT_OK ? CLI_OK : cli_fail(rc);
}

static int cmd_recommend(const cli_args *a)
{
    const char *user_text = cli_get(a, "user");
    if (!user_text)
        return cli_usage(a->cmd, "--user ID is required");
    recint_model *m = NULL;
    uint32_t k = 0, user = 0, n = 0, *items = NULL;
    float *scores = NULL;
    int status = read_k(a, &k);
    if (status == CLI_OK)
        status = load_model(a, &m);
    if (status == CLI_OK)
        status = find_user(recint_model_users(m), user_text, &user);
    if (status == CLI_OK) {
        items = malloc((size_t)k * sizeof *items);
        scores = malloc((size_t)k * sizeof *scores);
        if (!items || !scores) {
            fprintf(stderr, "recint: out of memory\n");
            status = CLI_FAIL;
        }
    }
    if (status == CLI_OK) {
        int rc = recint_model_recommend(m, user, k, items, scores, &n);
        status = rc == RECINT_OK ? CLI_OK : cli_fail(rc);
    }
    if (status == CLI_OK) {
        printf("rank\titem\tscore\n");
        for (uint32_t r = 0; r < n; r++) {
            char iid[64];
            cli_id_text(recint_model_items(m), items[r], iid, sizeof iid);
            printf("%u\t%s\t%.6g\n", r + 1, iid, scores[r]);
        }
    }
    free(items);
    free(scores);
    recint_model_free(m);
    return status;
}

/* ------------------------------------------------------------------- info -- */

static const char *ids_name(const recint_idmap *map)
{
    switch (recint_idmap_kind(map)) {
    case RECINT_IDS_INT: return "int";
    case RECINT_IDS_STRING: return "string";
    default: return "none";
    }
}

static int cmd_info(const cli_args *a)
{
    recint_model *m = NULL;
    int status = load_model_file(a, a->pos[0], &m);
    if (status != CLI_OK)
        return status;
    printf("file      %s\nkind      %s\nusers     %u (%s ids)\nitems     %u (%s ids)\n", a->pos[0],
           recint_model_kind(m), recint_model_n_users(m), ids_name(recint_model_users(m)),
           recint_model_n_items(m), ids_name(recint_model_items(m)));
    recint_model_free(m);
    return CLI_OK;
}

/* ----------------------------------------------------------------- params -- */

/* Groups in the order the table first mentions them. */
static int first_of_group(size_t index)
{
    const char *g = recint_config_describe(index, RECINT_PARAM_GROUP);
    for (size_t j = 0; j < index; j++)
        if (strcmp(recint_config_describe(j, RECINT_PARAM_GROUP), g) == 0)
            return 0;
    return 1;
}

/* Table cells escape '|'; keys, defaults and ranges are set as code. */
static void md_cell(const char *s, int code)
{
    const char *tick = code && *s ? "`" : "";
    printf(" %s", tick);
    for (; *s; s++) {
        if (*s == '|')
            putchar('\\');
        putchar(*s);
    }
    printf("%s |", tick);
}

static void params_markdown(void)
{
    printf("# Parameters\n\n"
           "Generated by `recint params --markdown` from the library's one parameter table\n"
           "(`lib/util/params.def`); regenerate it rather than editing it by hand.\n\n"
           "Every parameter is set by name: `recint_config_set(cfg, \"key\", \"value\")` in C,\n"
           "`--set key=value` on the command line, a keyword argument in Python. Unknown keys\n"
           "and values outside the range fail with a message naming the valid ones.\n\n"
           "The owner says who reads a key: `core` (data, evaluation, serving; every model),\n"
           "model kinds, `explore` or `simulate`. A model or trainer refuses a key set for\n"
           "other kinds than its own. Experimental keys may change between releases\n"
           "(docs/api-stability.md).\n");
    size_t n = recint_config_count();
    for (size_t i = 0; i < n; i++) {
        if (!first_of_group(i))
            continue;
        const char *g = recint_config_describe(i, RECINT_PARAM_GROUP);
        printf("\n## %s\n\n| key | type | default | range | owner | description |\n"
               "|---|---|---|---|---|---|\n", g);
        for (size_t j = i; j < n; j++) {
            if (strcmp(recint_config_describe(j, RECINT_PARAM_GROUP), g) != 0)
                continue;
            printf("|");
            md_cell(recint_config_describe(j, RECINT_PARAM_KEY), 1);
            md_cell(recint_config_describe(j, RECINT_PARAM_TYPE), 0);
            md_cell(recint_config_describe(j, RECINT_PARAM_DEFAULT), 1);
            md_cell(recint_config_describe(j, RECINT_PARAM_RANGE), 1);
            md_cell(recint_config_describe(j, RECINT_PARAM_OWNER), 0);
            if (strcmp(recint_config_describe(j, RECINT_PARAM_STABILITY), "experimental") == 0)
                printf(" *experimental:*");
            md_cell(recint_config_describe(j, RECINT_PARAM_HELP), 0);
            printf("\n");
        }
    }
}

static void params_plain(void)
{
    size_t n = recint_config_count();
    for (size_t i = 0; i < n; i++) {
        if (!first_of_group(i))
            continue;
        const char *g = recint_config_describe(i, RECINT_PARAM_GROUP);
        printf("%s[%s]\n", i ? "\n" : "", g);
        for (size_t j = i; j < n; j++) {
            if (strcmp(recint_config_describe(j, RECINT_PARAM_GROUP), g) != 0)
                continue;
            const char *range = recint_config_describe(j, RECINT_PARAM_RANGE);
            int experimental =
                strcmp(recint_config_describe(j, RECINT_PARAM_STABILITY), "experimental") == 0;
            printf("  %s = %s  (%s%s%s; %s%s)\n      %s\n",
                   recint_config_describe(j, RECINT_PARAM_KEY),
                   recint_config_describe(j, RECINT_PARAM_DEFAULT),
                   recint_config_describe(j, RECINT_PARAM_TYPE), *range ? " " : "", range,
                   recint_config_describe(j, RECINT_PARAM_OWNER), experimental ? ", experimental" : "",
                   recint_config_describe(j, RECINT_PARAM_HELP));
        }
    }
}

static int cmd_params(const cli_args *a)
{
    if (cli_flag(a, "markdown"))
        params_markdown();
    else
        params_plain();
    return CLI_OK;
}

/* ------------------------------------------------------------------ table -- */

#define OPT_SET {"set", "KEY=VALUE", CLI_KEY_PAIR, "set any parameter listed below (repeatable)", NULL}
#define OPT_MODEL {"model", "KIND", NULL, "model kind, default pop", recint_model_kinds}
#define OPT_K {"k", "K", "k", "cut-off of the top-k metrics", NULL}
#define OPT_SPLIT {"split", "SPEC", "split", "random:F, temporal:F or loo", NULL}
#define OPT_JSON {"json", NULL, NULL, "print one JSON object instead of text", NULL}
#define OPT_SET_LOAD {"set", "KEY=VALUE", CLI_KEY_PAIR, "set a parameter, e.g. load_memory_limit=BYTES for the model load (repeatable)", NULL}
#define OPTS_DATA                                                                             \
    {"columns", "LIST", "columns", "meaning of the text columns", NULL},                    \
    {"delimiter", "D", "delimiter", "field separator: auto, tab, comma, ml, space", NULL},   \
    {"header", "H", "header", "first line names the columns: auto, yes, no", NULL},        \
    {"ids", "KIND", "ids", "external id type: auto, int, string", NULL}
#define OPTS_INPUT                                                                           \
    {"input", "FILE", NULL, "interactions as delimited text", NULL},                        \
    {"synthetic", NULL, NULL, "planted-interest synthetic data instead (syn_* keys)", NULL}, \
    OPTS_DATA,                                                                               \
    {"min-weight", "W", "min_weight", "keep interactions of weight >= W (as implicit 1s)", NULL}
#define OPTS_FEATURES                                                                        \
    {"user-features", "FILE", NULL, "user features (hybrid): text 'id<TAB>feature[:w] ...', .npy or raw .f32", NULL}, \
    {"item-features", "FILE", NULL, "item features (hybrid), formats as --user-features", NULL}, \
    {"feature-cols", "N", "feature_cols", "values per row of raw float32 feature files", NULL}, \
    {"features-only", NULL, NULL, "use the files' features alone (default: identity columns too)", NULL}
#define OPT_END {NULL, NULL, NULL, NULL, NULL}

static const cli_opt demo_opts[] = {OPT_MODEL, OPT_SPLIT, OPT_K, OPT_SET, OPT_END};
static const cli_opt experiment_opts[] = {OPTS_INPUT, OPT_SPLIT, OPT_MODEL, OPT_K, OPT_JSON, OPT_SET,
                                          OPTS_FEATURES, OPT_END};
static const cli_opt split_opts[] = {
    OPTS_INPUT, OPT_SPLIT,
    {"out", "PREFIX", NULL, "write PREFIX.train.tsv, PREFIX.test.tsv (and PREFIX.valid.tsv)", NULL},
    {"valid", NULL, NULL, "also carve a validation part out of train", NULL}, OPT_SET, OPT_END};
static const cli_opt train_opts[] = {
    OPTS_INPUT, OPT_MODEL, {"out", "FILE", NULL, "where to save the fitted model", NULL},
    {"catalogue", "FILE", NULL, "also know the users and items of FILE (e.g. the test split)", NULL},
    OPT_SET, OPTS_FEATURES, OPT_END};
static const cli_opt eval_opts[] = {
    {"model-file", "FILE", NULL, "model saved by 'recint train'", NULL},
    {"train", "FILE", NULL, "the training interactions (their items are not ranked)", NULL},
    {"test", "FILE", NULL, "held-out interactions to find", NULL},
    OPTS_DATA, OPT_K, OPT_JSON,
    {"next", NULL, NULL, "also next-item metrics (train is each user's history)", NULL},
    {"set", "KEY=VALUE", CLI_KEY_PAIR,
     "set any parameter listed below, or load_memory_limit=BYTES for the model load (repeatable)",
     NULL},
    OPT_END};
static const cli_opt recommend_opts[] = {
    {"model-file", "FILE", NULL, "model saved by 'recint train'", NULL},
    {"user", "ID", NULL, "external user id", NULL},
    {"k", "K", "k", "how many items", NULL}, OPT_SET_LOAD, OPT_END};
static const cli_opt info_opts[] = {OPT_SET_LOAD, OPT_END};
static const cli_opt params_opts[] = {{"markdown", NULL, NULL, "print docs/parameters.md", NULL}, OPT_END};
static const cli_opt simulate_opts[] = {
    {"policy", "NAME", "policy", "greedy, epsilon, softmax, linucb, thompson or uniform", NULL},
    {"seed", "N", "seed", "seed of the world, the model and every round", NULL},
    {"rounds", "T", "sim_rounds", "rounds of k-item slates", NULL},
    {"k", "K", "k", "items per slate", NULL},
    {"ope", NULL, NULL, "off-policy experiment: uniform logging, IPS/SNIPS/DR of the policy", NULL},
    {"log", "FILE", NULL, "with --ope: keep the log here (default: a temporary file)", NULL},
    OPT_JSON, OPT_SET, OPT_END};

const cli_cmd cli_commands[] = {
    {"demo", "[options]",
     "Synthetic data -> temporal split -> train (als unless --model) -> evaluate -> top-10 of three users.",
     demo_opts, "synthetic,split,model,train,eval,run", 0, cmd_demo},
    {"experiment", "(--input FILE | --synthetic) [options]",
     "Load -> filter -> split -> train -> evaluate in one run.",
     experiment_opts, "data,filter,split,model,train,eval,synthetic,run", 0, cmd_experiment},
    {"split", "(--input FILE | --synthetic) --out PREFIX [options]",
     "Split interactions into train/test (and validation) files.",
     split_opts, "data,filter,split,synthetic,run", 0, cmd_split},
    {"train", "(--input FILE | --synthetic) --out FILE [options]",
     "Fit a model on all the given interactions and save it.",
     train_opts, "data,filter,model,train,synthetic,run", 0, cmd_train},
    {"eval", "--model-file FILE --train FILE --test FILE [options]",
     "Evaluate a saved model on held-out interactions.",
     eval_opts, "data,eval,run", 0, cmd_eval},
    {"recommend", "--model-file FILE --user ID [--k K] [--set KEY=VALUE]",
     "Top-k items for one user of a saved model (items seen in training excluded).",
     recommend_opts, NULL, 0, cmd_recommend},
    {"info", "FILE [--set KEY=VALUE]", "Kind and catalogue of a saved model.", info_opts, NULL, 1,
     cmd_info},
    {"params", "[--markdown]", "List every parameter of the library's table.", params_opts, NULL, 0,
     cmd_params},
    {"simulate", "--policy NAME [--seed N] [--ope] [--json] [options]",
     "Exploration simulator: planted interests, ALS on partial histories, T rounds of a policy.",
     simulate_opts, "synthetic,serve,model,train,run", 0, cli_cmd_simulate},
};
const size_t cli_n_commands = N_OF(cli_commands);
