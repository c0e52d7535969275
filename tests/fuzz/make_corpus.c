/* Seed corpora for the fuzz targets, made from the library's own synthetic data
 * (never MovieLens): make_corpus DIR writes DIR/<target>/seed-* files, each
 * with the leading selector bytes its target expects, and DIR/config.dict and
 * DIR/model.dict (the parameter keys and the section tags the library writes,
 * which no hand-written list would keep up to date). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/alloc.h"
#include "io/format.h"
#include "fuzz_common.h"

static const char *root;
static int n_seeds;

#define OK(call)                                                                            \
    do {                                                                                    \
        int rc_ = (call);                                                                   \
        FZ_ASSERT(rc_ == RECINT_OK, "%s -> %d (%s)", #call, rc_, recint_last_error());     \
    } while (0)

static void make_dir(const char *target)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, target);
    FZ_ASSERT(mkdir(path, 0777) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

/* DIR/target/seed-name: the selector bytes, then body. */
static void seed(const char *target, const char *name, const void *sel, size_t n_sel,
                 const void *body, size_t n_body)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/seed-%s", root, target, name);
    char *buf = malloc(n_sel + n_body + 1);
    FZ_ASSERT(buf != NULL, "out of memory");
    memcpy(buf, sel, n_sel);
    if (n_body)
        memcpy(buf + n_sel, body, n_body);
    fz_write_file(path, buf, n_sel + n_body);
    free(buf);
    n_seeds++;
}

/* A growable text buffer. */
typedef struct {
    char *p;
    size_t n, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (t->p && (size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        }
        t->cap = t->cap * 2 + (size_t)k + 256;
        t->p = realloc(t->p, t->cap);
        FZ_ASSERT(t->p != NULL, "out of memory");
    }
}

/* ------------------------------------------------------------ datasets */

/* The first rows of the world's dataset in one delimited layout. */
static void dataset_text(text *t, const char *sep, const char *header, int strings, size_t rows)
{
    const fz_world *w = fz_world_get();
    const uint64_t *indptr;
    const uint32_t *items;
    const float *wt;
    const int64_t *ts;
    OK(recint_dataset_csr(w->data, &indptr, &items, &wt, &ts));
    if (header)
        put(t, "%s\n", header);
    size_t done = 0;
    for (uint32_t u = 0; u < recint_dataset_n_users(w->data) && done < rows; u++)
        for (uint64_t k = indptr[u]; k < indptr[u + 1] && done < rows; k++, done++) {
            int64_t uid, iid;
            OK(recint_idmap_id(recint_dataset_users(w->data), u, &uid));
            OK(recint_idmap_id(recint_dataset_items(w->data), items[k], &iid));
            put(t, "%s%lld%s%s%lld%s%g%s%lld\n", strings ? "u" : "", (long long)uid, sep,
                strings ? "i" : "", (long long)iid, sep, wt ? wt[k] : 1.0, sep,
                (long long)(ts ? ts[k] : 0));
        }
}

static void dataset_seeds(void)
{
    make_dir("dataset_load");
    /* Selector bytes (fuzz_dataset_load.c): a = delimiter + 5 header + 15 ids,
     * b = columns + 6 duplicates + 18 prefilled. */
    struct {
        const char *name, *sep, *header;
        int strings;
        unsigned char a, b;
    } layouts[] = {
        {"tab", "\t", NULL, 0, 1, 0},
        {"comma-header", ",", "user,item,rating,timestamp", 0, 2 + 5 * 1, 0},
        {"ml", "::", NULL, 0, 3 + 5 * 2, 6},
        {"space-strings", " ", NULL, 1, 4 + 15 * 2, 12},
        {"auto-strings", "\t", NULL, 1, 0, 2},
        {"prefilled", "\t", NULL, 0, 1, 18},
    };
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        text t = {0};
        dataset_text(&t, layouts[i].sep, layouts[i].header, layouts[i].strings, 24);
        unsigned char sel[2] = {layouts[i].a, layouts[i].b};
        seed("dataset_load", layouts[i].name, sel, 2, t.p, t.n);
        free(t.p);
    }
    /* The self-describing form recint_dataset_save writes, int and string ids:
     * a small synthetic dataset so the seed stays short. */
    recint_config *cfg;
    OK(recint_config_new(&cfg));
    OK(recint_config_set(cfg, "threads", "1"));
    OK(recint_config_set(cfg, "syn_users", "6"));
    OK(recint_config_set(cfg, "syn_items", "8"));
    OK(recint_config_set(cfg, "syn_interactions", "12"));
    recint_dataset *small;
    OK(recint_dataset_synthetic(&small, cfg, NULL));
    const char *path = fz_tmp_path("seed-dataset.tsv");
    OK(recint_dataset_save(small, path));
    size_t n;
    void *bytes = fz_read_file(path, &n);
    const unsigned char sel[2] = {0, 0};
    seed("dataset_load", "saved-int", sel, 2, bytes, n);
    free(bytes);
    OK(recint_dataset_save(fz_world_get()->data_str, path));
    bytes = fz_read_file(path, &n);
    seed("dataset_load", "saved-string", sel, 2, bytes, n < 4096 ? n : 4096);
    free(bytes);
    recint_dataset_free(small);
    recint_config_free(cfg);
}

/* ------------------------------------------------------------ containers */

static FILE *model_dict;

/* Seeds of a container file at path: its bytes (selector 0) and its section
 * list (selector 1). Tags go to the model dictionary once. */
static void container_seeds(const char *target, const char *name, const char *path,
                            unsigned char sel_bytes, unsigned char sel_list)
{
    size_t n;
    void *bytes = fz_read_file(path, &n);
    void *aligned = ri_aligned_alloc(n, 1);
    FZ_ASSERT(aligned != NULL, "out of memory");
    memcpy(aligned, bytes, n);
    uint8_t *list = NULL;
    size_t len = 0;
    FZ_ASSERT(fz_sections_unseal(aligned, n, &list, &len) == 0, "%s: %s", path, recint_last_error());
    char full[128];
    snprintf(full, sizeof full, "%s-file", name);
    seed(target, full, &sel_bytes, 1, bytes, n);
    snprintf(full, sizeof full, "%s-sections", name);
    seed(target, full, &sel_list, 1, list, len);
    if (model_dict) {
        ri_fmt_reader r;
        OK(ri_fmt_open(&r, aligned, n, path));
        for (uint32_t i = 0; i < r.n_sections; i++) {
            char tag[RI_FMT_TAG_MAX + 1] = {0};
            memcpy(tag, (const uint8_t *)aligned + RI_FMT_HEADER_SIZE + (size_t)RI_FMT_ENTRY_SIZE * i,
                   RI_FMT_TAG_MAX);
            fprintf(model_dict, "\"%s\"\n", tag);
        }
    }
    free(list);
    ri_aligned_free(aligned);
    free(bytes);
}

static recint_model *fit(const char *kind, const recint_dataset *ds, const char *const *pairs)
{
    recint_config *cfg;
    OK(recint_config_new(&cfg));
    OK(recint_config_set(cfg, "threads", "1"));
    for (; *pairs; pairs++)
        OK(recint_config_set_pair(cfg, *pairs));
    recint_model *m;
    recint_trainer *t;
    OK(recint_model_new(&m, kind, cfg));
    OK(recint_trainer_new(&t, m, cfg));
    OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    recint_trainer_free(t);
    recint_config_free(cfg);
    return m;
}

static void model_seeds(void)
{
    make_dir("model_load");
    char path[512];
    snprintf(path, sizeof path, "%s/model.dict", root);
    model_dict = fopen(path, "w");
    FZ_ASSERT(model_dict != NULL, "%s: %s", path, strerror(errno));
    fprintf(model_dict, "\"\\x89RCI\\x0d\\x0a\\x1a\\x0a\"\n");

    /* A small catalogue keeps the files (and so the inputs) short. */
    recint_config *cfg;
    OK(recint_config_new(&cfg));
    OK(recint_config_set(cfg, "threads", "1"));
    OK(recint_config_set(cfg, "syn_users", "16"));
    OK(recint_config_set(cfg, "syn_items", "60"));
    OK(recint_config_set(cfg, "syn_interactions", "40"));
    OK(recint_config_set(cfg, "syn_feature_dim", "2"));
    recint_dataset *ds;
    recint_features *itf;
    OK(recint_dataset_synthetic(&ds, cfg, &itf));
    recint_config_free(cfg);

    const char *none[] = {NULL};
    const char *als[] = {"dim=3", "iterations=2", NULL};
    const char *als8[] = {"dim=3", "iterations=2", "quantize=int8", NULL};
    const char *hyb[] = {"dim=3", "epochs=2", NULL};
    const char *seq[] = {"dim=4", "epochs=1", "maxlen=4", "blocks=1", NULL};
    struct {
        const char *name, *kind;
        const char *const *pairs;
        int features;
    } kinds[] = {
        {"pop", "pop", none, 0},           {"als", "als", als, 0},
        {"als-int8", "als", als8, 0},      {"hybrid", "hybrid", hyb, 0},
        {"hybrid-features", "hybrid", hyb, 1}, {"sequential", "sequential", seq, 0},
    };
    const char *file = fz_tmp_path("seed-model.bin");
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        recint_model *m;
        if (kinds[i].features) {
            recint_config *c;
            OK(recint_config_new(&c));
            OK(recint_config_set(c, "threads", "1"));
            OK(recint_config_set(c, "dim", "3"));
            OK(recint_config_set(c, "epochs", "2"));
            OK(recint_model_new(&m, "hybrid", c));
            OK(recint_model_set_features(m, NULL, itf));
            recint_trainer *t;
            OK(recint_trainer_new(&t, m, c));
            OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
            recint_trainer_free(t);
            recint_config_free(c);
        } else {
            m = fit(kinds[i].kind, ds, kinds[i].pairs);
        }
        OK(recint_model_save(m, file));
        container_seeds("model_load", kinds[i].name, file, 0, 1);
        recint_model_free(m);
    }
    /* factors: vectors given by the caller (one of them negative and one zero). */
    const float uf[] = {1, 0, -1, 0.5f, 0, 2}, vf[] = {0.25f, 1, -2, 0, 1, 1, 3, -0.5f};
    const float bias[] = {0, 0.5f, -1, 2};
    recint_model *m;
    OK(recint_model_new_factors(&m, 3, 4, 2, uf, vf, bias, NULL));
    OK(recint_model_save(m, file));
    container_seeds("model_load", "factors", file, 0, 1);
    recint_model_free(m);
    fclose(model_dict);
    model_dict = NULL;
    recint_features_free(itf);
    recint_dataset_free(ds);
}

/* ------------------------------------------------------------ features */

static void feature_seeds(void)
{
    make_dir("features_sparse");
    make_dir("features_dense");
    const fz_world *w = fz_world_get();
    const recint_idmap *users = recint_dataset_users(w->data);
    text ti = {0}, ts = {0}, tw = {0};
    for (uint32_t u = 0; u < 12; u++) {
        int64_t id;
        OK(recint_idmap_id(users, u, &id));
        put(&ti, "%lld\tg%u g%u:0.5 tag:%d\n", (long long)id, u % 3, u % 5, (int)u - 4);
        put(&ts, "u%lld\tgenre:Drama:%u   g%u\n", (long long)id, u % 2 + 1, u % 4);
        put(&tw, "%s%lld g%u:1e-3\n", u % 4 == 0 ? "# comment\n" : "", (long long)id, u % 3);
    }
    put(&ti, "99999\tunknown:1\n");
    /* Selector (fuzz_features_sparse.c): bit 0 string ids, bit 1 unknown=error,
     * bit 2 no feature names. */
    const unsigned char s_int = 0, s_str = 1, s_words = 4, s_err = 2;
    seed("features_sparse", "int", &s_int, 1, ti.p, ti.n);
    seed("features_sparse", "int-error", &s_err, 1, ti.p, ti.n);
    seed("features_sparse", "string", &s_str, 1, ts.p, ts.n);
    seed("features_sparse", "words", &s_words, 1, tw.p, tw.n);
    free(ti.p);
    free(ts.p);
    free(tw.p);

    /* .npy (format 1.0 and 2.0, f4 and f8): the header dict padded with spaces
     * and a newline so that the data starts 64-byte aligned, as numpy writes. */
    uint32_t rows = recint_idmap_size(users), cols = 3;
    for (int v = 0; v < 3; v++) {
        int elem = v == 1 ? 8 : 4, major = v == 2 ? 2 : 1;
        char dict[128];
        int dn = snprintf(dict, sizeof dict, "{'descr': '<f%d', 'fortran_order': False, 'shape': (%u, %u), }",
                          elem, rows, cols);
        size_t pre = (size_t)(major == 1 ? 10 : 12);
        size_t hlen = ((pre + (size_t)dn + 1 + 63) / 64) * 64 - pre;
        size_t n = pre + hlen + (size_t)rows * cols * (size_t)elem;
        unsigned char *b = calloc(n, 1);
        FZ_ASSERT(b != NULL, "out of memory");
        memcpy(b, "\x93NUMPY", 6);
        b[6] = (unsigned char)major;
        b[7] = 0;
        for (size_t k = 0; k < pre - 8; k++)
            b[8 + k] = (unsigned char)(hlen >> (8 * k));
        memset(b + pre, ' ', hlen);
        memcpy(b + pre, dict, (size_t)dn);
        b[pre + hlen - 1] = '\n';
        for (size_t k = 0; k < (size_t)rows * cols; k++) {
            double x = (double)k / 7.0 - 2.0;
            if (elem == 4) {
                float f = (float)x;
                memcpy(b + pre + hlen + 4 * k, &f, 4);
            } else {
                memcpy(b + pre + hlen + 8 * k, &x, 8);
            }
        }
        /* Selector (fuzz_features_dense.c): bit 0 raw, bit 1 rows map. */
        const unsigned char with_rows = 2, any_rows = 0;
        char name[32];
        snprintf(name, sizeof name, "npy-v%d-f%d", major, elem);
        seed("features_dense", name, &with_rows, 1, b, n);
        if (v == 0)
            seed("features_dense", "npy-any-rows", &any_rows, 1, b, n);
        if (v == 0) {
            /* The same values as raw float32, 3 columns: selector 1 + 2 + 4 * (3 - 1). */
            const unsigned char raw = 1 + 2 + 4 * 2, raw_any = 1 + 4 * 2;
            seed("features_dense", "raw", &raw, 1, b + pre + hlen, (size_t)rows * cols * 4);
            seed("features_dense", "raw-any-rows", &raw_any, 1, b + pre + hlen, 48);
        }
        free(b);
    }
}

/* ------------------------------------------------------------ explorer logs */

static void log_seeds(void)
{
    make_dir("explorer_log");
    const fz_world *w = fz_world_get();
    recint_explorer *e;
    OK(recint_explorer_new(&e, w->model, w->explore_cfg));
    OK(recint_explorer_set_logging(e, 1));
    for (uint32_t round = 0; round < 2; round++)
        for (uint32_t u = 0; u < 6; u++) {
            uint32_t items[3], n;
            OK(recint_explorer_recommend(e, u * 5, 3, items, NULL, &n));
            if (n > 0 && (u + round) % 2 == 0)
                OK(recint_explorer_observe(e, u * 5, items[0], (float)((u + round) % 3 == 0)));
        }
    const char *path = fz_tmp_path("seed-explore.log");
    OK(recint_explorer_log_save(e, path));
    /* Selector (fuzz_explorer_log.c): bit 0 section list, estimator = byte / 2 % 3. */
    container_seeds("explorer_log", "container", path, 0, 1);
    container_seeds("explorer_log", "container-dr", path, 4, 5);
    OK(recint_explorer_log_save_text(e, path));
    size_t n;
    void *bytes = fz_read_file(path, &n);
    const unsigned char ips = 0, snips = 2;
    seed("explorer_log", "text", &ips, 1, bytes, n);
    seed("explorer_log", "text-snips", &snips, 1, bytes, n);
    free(bytes);
    recint_explorer_free(e);
}

/* ------------------------------------------------------------ config */

static void config_seeds(void)
{
    make_dir("config_set");
    char path[512];
    snprintf(path, sizeof path, "%s/config.dict", root);
    FILE *dict = fopen(path, "w");
    FZ_ASSERT(dict != NULL, "%s: %s", path, strerror(errno));
    for (size_t i = 0; i < recint_config_count(); i++) {
        const char *key = recint_config_describe(i, RECINT_PARAM_KEY);
        const char *def = recint_config_describe(i, RECINT_PARAM_DEFAULT);
        const char *range = recint_config_describe(i, RECINT_PARAM_RANGE);
        fprintf(dict, "\"%s\"\n", key);
        text t = {0};
        put(&t, "%s%c%s", key, 0, def);
        seed("config_set", key, "", 0, t.p, t.n);
        free(t.p);
        /* Each bound or choice of the range as a value too. */
        char words[256];
        snprintf(words, sizeof words, "%s", range);
        int k = 0;
        for (char *tok = strtok(words, "[], |"); tok; tok = strtok(NULL, "[], |"), k++) {
            fprintf(dict, "\"%s\"\n", tok);
            text v = {0};
            put(&v, "%s%c%s", key, 0, tok);
            char name[160];
            snprintf(name, sizeof name, "%s-%d", key, k);
            seed("config_set", name, "", 0, v.p, v.n);
            free(v.p);
        }
    }
    fclose(dict);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    root = argv[1];
    FZ_ASSERT(mkdir(root, 0777) == 0 || errno == EEXIST, "mkdir %s: %s", root, strerror(errno));
    dataset_seeds();
    model_seeds();
    feature_seeds();
    log_seeds();
    config_seeds();
    printf("make_corpus: %d seeds in %s\n", n_seeds, root);
    return 0;
}
