/* Allocation-failure sweep: every allocation of representative flows is made to
 * fail in turn (the hook of lib/util/alloc.c, built with -Dalloc_failpoints=true).
 * For each N the failing call must return RECINT_ENOMEM with a message, leave its
 * outputs as they were, leak nothing, and succeed when called again; the flow
 * then finishes with exactly the answers of a run without failures.
 *
 * RECINT_ALLOCFAIL_FULL=1 sweeps every N of every flow (tests/allocfail-full.sh);
 * otherwise the expensive flows are sampled at a fixed stride so that the suite
 * stays short under ASan. RECINT_ALLOCFAIL_STICKY=1 fails every allocation from
 * the N-th on (until the failing call returns) instead of the N-th alone.
 * RECINT_ALLOCFAIL_FLOW=prefix sweeps only the flows whose name starts so. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#else
#define HAVE_LSAN 0
#endif

#define SENTINEL 0xA5
#define K 5

/* ------------------------------------------------------------------------ */
/* One run of a flow                                                        */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *flow;
    uint64_t digest;         /* FNV-1a over codes and outputs of every step */
    /* the step that met the injected failure */
    const char *fail_step;
    int fail_rc, fail_alt, untouched, has_msg;
    char fail_msg[256];
    /* problems found in this run (first one of each kind named) */
    const char *ok_step;     /* a step returned success although an allocation failed */
    const char *retry_step;  /* a step that failed again without injection */
    int retry_rc;
    const char *unexpected;  /* a step failed without an injected failure */
    int unexpected_rc;
    char unexpected_msg[256];
} run;

static void mix(run *r, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        r->digest = (r->digest ^ b[i]) * 1099511628211ull;
}

static int all_sentinel(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != SENTINEL)
            return 0;
    return 1;
}

/* A file output is "untouched" when the destination still holds what the test
 * put there and no temporary of the atomic writer is left beside it. */
static const char FILE_SENTINEL[] = "allocfail sentinel\n";

static void file_preset(const char *path)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(FILE_SENTINEL, f);
    fclose(f);
}

static int file_untouched(const char *path)
{
    char buf[64] = {0}, pat[600];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    snprintf(pat, sizeof pat, "%s.tmp.*", path);
    glob_t g;
    int leftovers = glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0;
    globfree(&g);
    return n == strlen(FILE_SENTINEL) && memcmp(buf, FILE_SENTINEL, n) == 0 && !leftovers;
}

static void mix_file(run *r, const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        mix(r, buf, n);
    fclose(f);
}

static uint64_t step_begin(void *out, size_t size, const char *path)
{
    ri_error_clear();
    if (size)
        memset(out, SENTINEL, size);
    if (path)
        file_preset(path);
    return ri_alloc_injected();
}

/* After the call: 1 when the step failed and is to be retried (the hook has
 * fired, so the retry runs without injection). */
static int step_end(run *r, const char *name, int want, int alt, int rc, uint64_t inj,
                    void *out, size_t size, int dig, const char *path)
{
    int hit = ri_alloc_injected() != inj;
    if (rc == want) {
        if (hit && !r->ok_step)
            r->ok_step = name;
        mix(r, &rc, sizeof rc);
        if (dig && size)
            mix(r, out, size);
        if (path)
            mix_file(r, path);
        return 0;
    }
    if (!hit) {
        if (!r->unexpected) {
            r->unexpected = name;
            r->unexpected_rc = rc;
            snprintf(r->unexpected_msg, sizeof r->unexpected_msg, "%s", recint_last_error());
        }
        return 1;
    }
    r->fail_step = name;
    r->fail_rc = rc;
    r->fail_alt = alt;
    r->untouched = (!size || all_sentinel(out, size)) && (!path || file_untouched(path));
    r->has_msg = recint_last_error()[0] != '\0';
    snprintf(r->fail_msg, sizeof r->fail_msg, "%s", recint_last_error());
    ri_alloc_fail_at(0);
    return 1;
}

/* After the retry: 1 when the flow must stop (outputs are cleared so that the
 * flow's cleanup frees only what it holds). */
static int step_end_retry(run *r, const char *name, int want, int rc, void *out, size_t size,
                          int dig, const char *path)
{
    if (rc != want) {
        if (!r->retry_step) {
            r->retry_step = name;
            r->retry_rc = rc;
        }
        if (size)
            memset(out, 0, size);
        return 1;
    }
    mix(r, &rc, sizeof rc);
    if (dig && size)
        mix(r, out, size);
    if (path)
        mix_file(r, path);
    return 0;
}

/* One library call. out/size: the output it may write (preset to SENTINEL and
 * compared after a failure); dig: whether the output joins the digest (not for
 * handles, whose addresses differ between runs); path: a file it writes. alt: a
 * code accepted in place of RECINT_ENOMEM for this step (0: none). Every flow
 * has a label `done:` that frees what it holds. */
#define STEP_(r, want, alt, out, size, dig, path, call)                                 \
    do {                                                                            \
        uint64_t inj_ = step_begin((out), (size), (path));                           \
        int rc_ = (call);                                                           \
        if (step_end((r), #call, (want), (alt), rc_, inj_, (out), (size), (dig), (path))) { \
            step_begin((out), (size), (path));                                      \
            rc_ = (call);                                                           \
            if (step_end_retry((r), #call, (want), rc_, (out), (size), (dig), (path)))  \
                goto done;                                                          \
        }                                                                           \
    } while (0)

#define STEP(r, call) STEP_(r, RECINT_OK, 0, NULL, 0, 0, NULL, call)
#define STEP_NEW(r, handle, call) STEP_(r, RECINT_OK, 0, (handle), sizeof *(handle), 0, NULL, call)
#define STEP_OUT(r, out, call) STEP_(r, RECINT_OK, 0, (out), sizeof *(out), 1, NULL, call)
#define STEP_WANT(r, want, out, call) STEP_(r, want, 0, (out), sizeof *(out), 1, NULL, call)
#define STEP_FILE(r, path, call) STEP_(r, RECINT_OK, 0, NULL, 0, 0, (path), call)

/* ------------------------------------------------------------------------ */
/* Fixtures (built before any failure is armed)                             */
/* ------------------------------------------------------------------------ */

#define NU 24
#define NI 30
#define DIM 4

typedef struct {
    const char *kind;
    unsigned threads;
    recint_config *one;          /* threads=1: deterministic allocation order */
    recint_config *mcfg;         /* the kind's small, fast configuration */
    recint_dataset *ds, *train, *test;
    recint_features *itf;        /* item features of the hybrid kind */
    recint_model *m;             /* fitted on train */
    recint_filter *filter;
    recint_explorer *ex;         /* with a logged session (explore flows) */
    char model_path[512], out_path[512], text_path[512], npy_path[512], raw_path[512];
    char log_path[512], log_text_path[512];
    void *model_bytes;
    size_t model_size;
    char int_text[4096], str_text[4096], feat_text[2048];
} fixture;

static recint_config *cfg_of(const char *const *pairs)
{
    recint_config *c;
    RI_OK(recint_config_new(&c));
    for (; pairs && *pairs; pairs++)
        RI_OK(recint_config_set_pair(c, *pairs));
    return c;
}

static const char *const *kind_cfg(const char *kind)
{
    static const char *const pop[] = {"threads=1", NULL};
    static const char *const als[] = {"threads=1", "dim=4", "iterations=2", NULL};
    static const char *const hybrid[] = {"threads=1", "dim=4", "epochs=2", NULL};
    static const char *const seq[] = {"threads=1", "dim=4", "maxlen=4", "epochs=1",
                                      "blocks=1", "heads=1", "batch_size=8", NULL};
    if (!strcmp(kind, "als"))
        return als;
    if (!strcmp(kind, "hybrid"))
        return hybrid;
    if (!strcmp(kind, "sequential"))
        return seq;
    return pop;
}

static void factor_arrays(float *U, float *V, float *bias)
{
    for (int j = 0; j < NU * DIM; j++)
        U[j] = (float)((j * 37) % 23) / 23.0f - 0.4f;
    for (int j = 0; j < NI * DIM; j++)
        V[j] = (float)((j * 53) % 29) / 29.0f - 0.5f;
    for (int j = 0; j < NI; j++)
        bias[j] = (float)(j % 7) / 10.0f;
}

static recint_features *item_features(void)
{
    /* item i has feature i % 4 and feature 4 + i % 3 */
    uint64_t indptr[NI + 1];
    uint32_t idx[2 * NI];
    for (uint32_t i = 0; i < NI; i++) {
        indptr[i] = 2 * i;
        idx[2 * i] = i % 4;
        idx[2 * i + 1] = 4 + i % 3;
    }
    indptr[NI] = 2 * NI;
    recint_features *f;
    RI_OK(recint_features_new_sparse(&f, NI, 7, indptr, idx, NULL));
    return f;
}

static recint_model *fit_model(const fixture *fx, const recint_dataset *data)
{
    recint_model *m;
    if (!strcmp(fx->kind, "factors")) {
        float U[NU * DIM], V[NI * DIM], b[NI];
        factor_arrays(U, V, b);
        RI_OK(recint_model_new_factors(&m, NU, NI, DIM, U, V, b, fx->mcfg));
        return m;
    }
    recint_trainer *t;
    RI_OK(recint_model_new(&m, fx->kind, fx->mcfg));
    if (!strcmp(fx->kind, "hybrid"))
        RI_OK(recint_model_set_features(m, NULL, fx->itf));
    RI_OK(recint_trainer_new(&t, m, fx->mcfg));
    RI_OK(recint_trainer_fit(t, data, NULL, NULL, NULL));
    recint_trainer_free(t);
    return m;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(*n ? *n : 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(fread(p, 1, *n, f), *n);
    fclose(f);
    return p;
}

/* .npy 1.0 of a rows x cols float32 block. */
static void write_npy(const char *path, const float *data, uint32_t rows, uint32_t cols)
{
    char dict[128];
    unsigned char head[128];
    snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%u, %u), }",
             rows, cols);
    size_t dl = strlen(dict), padded = (10 + dl + 1 + 63) / 64 * 64, hlen = padded - 10;
    ck_assert_uint_le(padded, sizeof head);
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = (unsigned char)hlen;
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + 10, dict, dl);
    memset(head + 10 + dl, ' ', hlen - dl - 1);
    head[padded - 1] = '\n';
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(head, 1, padded, f), padded);
    ck_assert_uint_eq(fwrite(data, sizeof(float), (size_t)rows * cols, f), (size_t)rows * cols);
    fclose(f);
}

static void fixture_text(fixture *fx)
{
    size_t a = 0, b = 0, c = 0;
    for (int r = 0; r < 60; r++) {
        int u = (r * 7) % 13, i = (r * 11) % 17, w = r % 5 + 1, ts = (r * 37) % 101;
        a += (size_t)snprintf(fx->int_text + a, sizeof fx->int_text - a, "%d\t%d\t%d\t%d\n",
                              100 + u, 1000 + i, w, ts);
        b += (size_t)snprintf(fx->str_text + b, sizeof fx->str_text - b,
                              "user%d\titem%d\t%d\t%d\n", u, i, w, ts);
    }
    for (int u = 0; u < NU; u += 2)
        c += (size_t)snprintf(fx->feat_text + c, sizeof fx->feat_text - c,
                              "%d\tage%d genre%d:0.5 genre%d\n", u, u % 3, u % 4, (u + 1) % 4);
}

/* threads > 1: the flow's calls run on worker threads, whose allocations the
 * hook counts too (the order varies, the count and the answers do not). */
static void fixture_init(fixture *fx, const char *kind, unsigned threads)
{
    memset(fx, 0, sizeof *fx);
    fx->kind = kind;
    char t[32];
    snprintf(t, sizeof t, "%u", threads ? threads : 1);
    static const char *const one[] = {"threads=1", NULL};
    fx->one = cfg_of(one);
    fx->mcfg = cfg_of(kind_cfg(kind ? kind : "pop"));
    RI_OK(recint_config_set(fx->one, "threads", t));
    RI_OK(recint_config_set(fx->mcfg, "threads", t));
    /* two workers need more rows than one chunk of the ALS sweep (32) and of
     * the evaluation (32 users) */
    fx->threads = threads ? threads : 1;
    fx->ds = ri_test_timed_dataset(fx->threads > 1 ? 80 : NU, NI, 30, 5);
    RI_OK(recint_dataset_split(fx->ds, "temporal:0.2", 1, &fx->train, NULL, &fx->test));
    fx->itf = item_features();
    RI_OK(recint_filter_new(&fx->filter, NI));
    static const uint32_t blocked[] = {1, 4};
    RI_OK(recint_filter_block(fx->filter, blocked, 2));
    ri_test_tmp("allocfail-model.bin", fx->model_path, sizeof fx->model_path);
    ri_test_tmp("allocfail-out.bin", fx->out_path, sizeof fx->out_path);
    ri_test_tmp("allocfail-out.txt", fx->text_path, sizeof fx->text_path);
    ri_test_tmp("allocfail.npy", fx->npy_path, sizeof fx->npy_path);
    ri_test_tmp("allocfail.raw", fx->raw_path, sizeof fx->raw_path);
    ri_test_tmp("allocfail.log", fx->log_path, sizeof fx->log_path);
    ri_test_tmp("allocfail-log.tsv", fx->log_text_path, sizeof fx->log_text_path);
    fixture_text(fx);
    float block[NU * 3];
    for (int j = 0; j < NU * 3; j++)
        block[j] = (float)j / 8.0f - 2.0f;
    write_npy(fx->npy_path, block, NU, 3);
    write_file(fx->raw_path, block, sizeof block);
    if (kind) {
        fx->m = fit_model(fx, fx->train);
        RI_OK(recint_model_save(fx->m, fx->model_path));
        fx->model_bytes = read_file(fx->model_path, &fx->model_size);
    }
}

static void fixture_free(fixture *fx)
{
    recint_explorer_free(fx->ex);
    recint_model_free(fx->m);
    recint_filter_free(fx->filter);
    recint_features_free(fx->itf);
    recint_dataset_free(fx->ds);
    recint_dataset_free(fx->train);
    recint_dataset_free(fx->test);
    recint_config_free(fx->one);
    recint_config_free(fx->mcfg);
    free(fx->model_bytes);
    const char *paths[] = {fx->model_path, fx->out_path, fx->text_path, fx->npy_path,
                           fx->raw_path, fx->log_path, fx->log_text_path};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        remove(paths[i]);
}

/* ------------------------------------------------------------------------ */
/* Digests of handles (pure reads; they allocate nothing)                   */
/* ------------------------------------------------------------------------ */

static void mix_idmap(run *r, const recint_idmap *map)
{
    uint32_t n = recint_idmap_size(map);
    int kind = recint_idmap_kind(map);
    mix(r, &n, sizeof n);
    mix(r, &kind, sizeof kind);
    for (uint32_t i = 0; i < n; i++) {
        if (kind == RECINT_IDS_INT) {
            int64_t id;
            RI_OK(recint_idmap_id(map, i, &id));
            mix(r, &id, sizeof id);
        } else {
            const char *id;
            RI_OK(recint_idmap_id_str(map, i, &id));
            mix(r, id, strlen(id) + 1);
        }
    }
}

static void mix_dataset(run *r, const recint_dataset *ds)
{
    const uint64_t *indptr;
    const uint32_t *items;
    const float *w;
    const int64_t *ts;
    RI_OK(recint_dataset_csr(ds, &indptr, &items, &w, &ts));
    uint32_t nu = recint_dataset_n_users(ds);
    uint64_t nnz = recint_dataset_n_interactions(ds);
    mix(r, &nnz, sizeof nnz);
    mix(r, indptr, (nu + 1) * sizeof *indptr);
    mix(r, items, nnz * sizeof *items);
    mix(r, w, nnz * sizeof *w);
    mix(r, ts, nnz * sizeof *ts);
    mix_idmap(r, recint_dataset_users(ds));
    mix_idmap(r, recint_dataset_items(ds));
}

static void mix_features(run *r, const recint_features *f)
{
    uint32_t rows = recint_features_rows(f), cols = recint_features_cols(f);
    mix(r, &rows, sizeof rows);
    mix(r, &cols, sizeof cols);
    float *row = malloc(sizeof(float) * (cols ? cols : 1));
    ck_assert_ptr_nonnull(row);
    for (uint32_t i = 0; i < rows; i++) {
        RI_OK(recint_features_row_dense(f, i, row));
        mix(r, row, sizeof(float) * cols);
    }
    free(row);
}

/* ------------------------------------------------------------------------ */
/* Flows: data                                                              */
/* ------------------------------------------------------------------------ */

static void flow_config(run *r, fixture *fx)
{
    (void)fx;
    recint_config *c = NULL, *d = NULL;
    char val[64];
    STEP_NEW(r, &c, recint_config_new(&c));
    STEP(r, recint_config_set(c, "loss", "bpr"));
    STEP(r, recint_config_set_pair(c, "columns=user,item,skip,timestamp"));
    STEP(r, recint_config_set(c, "dim", "12"));
    STEP_NEW(r, &d, recint_config_copy(&d, c));
    STEP_OUT(r, &val, recint_config_get(d, "columns", val, sizeof val));
done:
    recint_config_free(c);
    recint_config_free(d);
}

static void load_text(run *r, fixture *fx, const char *text, const char *ids)
{
    recint_dataset *d = NULL;
    recint_config *c = NULL;
    struct {
        const uint64_t *indptr;
        const uint32_t *users;
        const float *w;
    } csc;
    STEP_NEW(r, &c, recint_config_new(&c));
    STEP(r, recint_config_set(c, "ids", ids));
    STEP(r, recint_config_set(c, "threads", "1"));
    STEP_NEW(r, &d, recint_dataset_new(&d, c));
    STEP(r, recint_dataset_load_buffer(d, text, strlen(text), "flow.tsv", c));
    STEP_NEW(r, &csc, recint_dataset_csc(d, &csc.indptr, &csc.users, &csc.w));
    mix(r, csc.indptr, (recint_dataset_n_items(d) + 1) * sizeof *csc.indptr);
    mix(r, csc.users, recint_dataset_n_interactions(d) * sizeof *csc.users);
    mix_dataset(r, d);
    /* the same text again into the same dataset: duplicates merge */
    STEP(r, recint_dataset_load_buffer(d, text, strlen(text), "flow.tsv", c));
    mix_dataset(r, d);
    (void)fx;
done:
    recint_dataset_free(d);
    recint_config_free(c);
}

static void flow_load_int(run *r, fixture *fx) { load_text(r, fx, fx->int_text, "int"); }
static void flow_load_str(run *r, fixture *fx) { load_text(r, fx, fx->str_text, "string"); }

static void flow_dataset_save(run *r, fixture *fx)
{
    recint_dataset *d = NULL;
    STEP_FILE(r, fx->text_path, recint_dataset_save(fx->ds, fx->text_path));
    STEP_NEW(r, &d, recint_dataset_new(&d, NULL));
    STEP(r, recint_dataset_load(d, fx->text_path, fx->one));
    mix_dataset(r, d);
done:
    recint_dataset_free(d);
}

static void flow_split_filter(run *r, fixture *fx)
{
    static const char *const specs[] = {"random:0.3", "temporal:0.25", "loo"};
    struct {
        recint_dataset *tr, *va, *te;
    } sp = {NULL, NULL, NULL};
    recint_dataset *f = NULL, *w = NULL;
    recint_config *c = NULL;
    for (int i = 0; i < 3; i++) {
        STEP_NEW(r, &sp, recint_dataset_split(fx->ds, specs[i], 7, &sp.tr, &sp.va, &sp.te));
        mix_dataset(r, sp.tr);
        mix_dataset(r, sp.va);
        mix_dataset(r, sp.te);
        recint_dataset_free(sp.tr);
        recint_dataset_free(sp.va);
        recint_dataset_free(sp.te);
        memset(&sp, 0, sizeof sp);
    }
    STEP_NEW(r, &c, recint_config_new(&c));
    STEP(r, recint_config_set(c, "min_user_interactions", "6"));
    STEP(r, recint_config_set(c, "min_item_interactions", "5"));
    STEP_NEW(r, &f, recint_dataset_filter(&f, fx->ds, c));
    mix_dataset(r, f);
    STEP(r, recint_config_set(c, "weighting", "bm25"));
    STEP_NEW(r, &w, recint_dataset_reweight(&w, fx->ds, c));
    mix_dataset(r, w);
done:
    recint_dataset_free(sp.tr);
    recint_dataset_free(sp.va);
    recint_dataset_free(sp.te);
    recint_dataset_free(f);
    recint_dataset_free(w);
    recint_config_free(c);
}

static void flow_synthetic(run *r, fixture *fx)
{
    static const char *const set[] = {"syn_users=40", "syn_items=60",
                                      "syn_interactions=100", "syn_clusters=4",
                                      "syn_feature_dim=3", "syn_counts=heavy", NULL};
    recint_config *c = NULL;
    struct {
        recint_dataset *d;
        recint_features *f;
    } out = {NULL, NULL};
    STEP_NEW(r, &c, recint_config_copy(&c, fx->one));
    for (const char *const *p = set; *p; p++)
        STEP(r, recint_config_set_pair(c, *p));
    /* users come in groups of 1024 per random stream, a worker's unit */
    if (fx->threads > 1) {
        STEP(r, recint_config_set(c, "syn_users", "2100"));
        STEP(r, recint_config_set(c, "syn_interactions", "4200"));
    }
    STEP_NEW(r, &out, recint_dataset_synthetic(&out.d, c, &out.f));
    mix_dataset(r, out.d);
    mix_features(r, out.f);
done:
    recint_dataset_free(out.d);
    recint_features_free(out.f);
    recint_config_free(c);
}

static void flow_features_build(run *r, fixture *fx)
{
    recint_features *id = NULL, *dense = NULL, *stack = NULL;
    float block[NI * 2];
    for (int j = 0; j < NI * 2; j++)
        block[j] = (float)(j % 9) - 4.0f;
    STEP_NEW(r, &id, recint_features_identity(&id, NI));
    STEP_NEW(r, &dense, recint_features_new_dense(&dense, NI, 2, block, 2));
    const recint_features *parts[] = {id, fx->itf, dense};
    STEP_NEW(r, &stack, recint_features_hstack(&stack, parts, 3));
    mix_features(r, stack);
done:
    recint_features_free(id);
    recint_features_free(dense);
    recint_features_free(stack);
}

static void flow_features_sparse(run *r, fixture *fx)
{
    struct {
        recint_features *f;
        recint_idmap *names;
    } out = {NULL, NULL};
    STEP_NEW(r, &out, recint_features_load_sparse_buffer(&out.f, &out.names, fx->feat_text,
                                                         strlen(fx->feat_text), "feat.txt",
                                                         recint_dataset_users(fx->ds), fx->one));
    mix_features(r, out.f);
    mix_idmap(r, out.names);
done:
    recint_features_free(out.f);
    recint_idmap_free(out.names);
}

static void flow_features_npy_raw(run *r, fixture *fx)
{
    recint_features *a = NULL, *b = NULL;
    STEP_NEW(r, &a, recint_features_load_npy(&a, fx->npy_path, recint_dataset_users(fx->ds)));
    mix_features(r, a);
    STEP_NEW(r, &b, recint_features_load_raw(&b, fx->raw_path, 3, NULL));
    mix_features(r, b);
done:
    recint_features_free(a);
    recint_features_free(b);
}

/* ------------------------------------------------------------------------ */
/* Flows: models                                                            */
/* ------------------------------------------------------------------------ */

static int is_kind(const fixture *fx, const char *k) { return !strcmp(fx->kind, k); }

/* Answers of a model for a few users (digested); 1 when the flow must stop. */
static int mix_answers(run *r, const recint_model *m)
{
    struct {
        uint32_t items[K];
        float scores[K];
        uint32_t n;
    } rec;
    for (uint32_t u = 0; u < 4; u++)
        STEP_OUT(r, &rec, recint_model_recommend(m, u, K, rec.items, rec.scores, &rec.n));
    return 0;
done:
    return 1;
}

static void flow_fit(run *r, fixture *fx)
{
    recint_model *m = NULL;
    recint_trainer *t = NULL;
    float scores[3 * NI];
    static const uint32_t users[3] = {0, 5, 11};
    if (is_kind(fx, "factors")) {
        float U[NU * DIM], V[NI * DIM], b[NI];
        factor_arrays(U, V, b);
        STEP_NEW(r, &m, recint_model_new_factors(&m, NU, NI, DIM, U, V, b, fx->mcfg));
    } else {
        STEP_NEW(r, &m, recint_model_new(&m, fx->kind, fx->mcfg));
        if (is_kind(fx, "hybrid"))
            STEP(r, recint_model_set_features(m, NULL, fx->itf));
        STEP_NEW(r, &t, recint_trainer_new(&t, m, fx->mcfg));
        STEP(r, recint_trainer_fit(t, fx->train, NULL, NULL, NULL));
    }
    STEP_OUT(r, &scores, recint_model_score(m, users, 3, NULL, 0, scores));
    if (mix_answers(r, m))
        goto done;
done:
    recint_trainer_free(t);
    recint_model_free(m);
}

static void flow_save_load(run *r, fixture *fx)
{
    recint_model *a = NULL, *b = NULL;
    STEP_FILE(r, fx->out_path, recint_model_save(fx->m, fx->out_path));
    STEP_NEW(r, &a, recint_model_load(&a, fx->model_path));
    if (mix_answers(r, a))
        goto done;
    STEP_NEW(r, &b, recint_model_load_buffer(&b, fx->model_bytes, fx->model_size));
    if (mix_answers(r, b))
        goto done;
done:
    recint_model_free(a);
    recint_model_free(b);
}

static void flow_recommend(run *r, fixture *fx)
{
    struct {
        uint32_t items[K];
        float scores[K];
        uint32_t n;
    } rec;
    float vec[16];
    struct {
        float v[16], bias;
    } cold;
    static const uint32_t hist[] = {2, 3, 7}, cold_cols[] = {1, 5};
    int fold = is_kind(fx, "als") || is_kind(fx, "hybrid") || is_kind(fx, "sequential");
    for (uint32_t u = 0; u < 3; u++) {
        STEP_OUT(r, &rec, recint_model_recommend(fx->m, u, K, rec.items, rec.scores, &rec.n));
        STEP_OUT(r, &rec, recint_model_recommend_filtered(fx->m, u, K, fx->filter, rec.items,
                                                          rec.scores, &rec.n));
    }
    /* pop and factors keep no recipe for a new user's vector (docs: EUNSUPPORTED) */
    STEP_WANT(r, fold ? RECINT_OK : RECINT_EUNSUPPORTED, &vec,
              recint_model_fold_in(fx->m, hist, NULL, 3, vec));
    if (fold)
        STEP_OUT(r, &rec, recint_model_recommend_vector(fx->m, vec, K, fx->filter, hist, 3,
                                                        rec.items, rec.scores, &rec.n));
    if (is_kind(fx, "sequential"))
        STEP_OUT(r, &vec, recint_model_sequence_vector(fx->m, hist, 3, vec));
    /* only hybrid embeds features (docs: EUNSUPPORTED otherwise) */
    STEP_WANT(r, is_kind(fx, "hybrid") ? RECINT_OK : RECINT_EUNSUPPORTED, &cold,
              recint_model_feature_vector(fx->m, RECINT_SIDE_ITEM, cold_cols, NULL, 2, cold.v,
                                          &cold.bias));
done:
    return;
}

static void flow_batch(run *r, fixture *fx)
{
    struct {
        uint32_t items[6 * K];
        float scores[6 * K];
        uint32_t counts[6];
    } b;
    static const uint32_t users[6] = {0, 1, 2, 9, 15, 23};
    STEP_OUT(r, &b, recint_model_recommend_batch(fx->m, users, 6, K, NULL, fx->one, b.items,
                                                 b.scores, b.counts));
    STEP_OUT(r, &b, recint_model_recommend_batch(fx->m, users, 6, K, fx->filter, fx->one,
                                                 b.items, b.scores, b.counts));
done:
    return;
}

static void flow_similar(run *r, fixture *fx)
{
    struct {
        uint32_t items[K];
        float scores[K];
        uint32_t n;
    } s;
    /* pop has no item vectors (docs: EUNSUPPORTED) */
    int want = is_kind(fx, "pop") ? RECINT_EUNSUPPORTED : RECINT_OK;
    for (uint32_t i = 0; i < 3; i++)
        STEP_WANT(r, want, &s, recint_model_similar_items(fx->m, i * 7, K, fx->filter, s.items,
                                                          s.scores, &s.n));
done:
    return;
}

static void flow_explain(run *r, fixture *fx)
{
    struct {
        uint32_t items[K];
        float contributions[K];
        uint32_t n;
        float score;
    } e;
    /* only als decomposes a score over the history (docs: EUNSUPPORTED otherwise) */
    int want = is_kind(fx, "als") ? RECINT_OK : RECINT_EUNSUPPORTED;
    for (uint32_t u = 0; u < 3; u++)
        STEP_WANT(r, want, &e, recint_model_explain(fx->m, u, 10 + u, K, e.items,
                                                    e.contributions, &e.n, &e.score));
done:
    return;
}

/* als: partial fits of users and items (lib/models/partial.c); hybrid: more
 * epochs from the current state. */
static void flow_partial(run *r, fixture *fx)
{
    recint_model *m = NULL;
    recint_trainer *t = NULL;
    STEP_NEW(r, &m, recint_model_load_buffer(&m, fx->model_bytes, fx->model_size));
    if (is_kind(fx, "als")) {
        STEP(r, recint_model_partial_fit_users(m, fx->test));
        STEP(r, recint_model_partial_fit_items(m, fx->test));
    } else {
        STEP_NEW(r, &t, recint_trainer_new(&t, m, fx->mcfg));
        STEP(r, recint_trainer_partial_fit(t, fx->test, NULL, NULL));
    }
    if (mix_answers(r, m))
        goto done;
done:
    recint_trainer_free(t);
    recint_model_free(m);
}

static void flow_eval(run *r, fixture *fx)
{
    double out[RECINT_METRIC_COUNT];
    STEP_OUT(r, &out, recint_evaluate(fx->m, fx->train, fx->test, K, fx->one, out,
                                      RECINT_METRIC_COUNT));
    STEP_OUT(r, &out, recint_evaluate_next(fx->m, fx->train, fx->test, K, fx->one, out,
                                           RECINT_METRIC_COUNT));
done:
    return;
}

/* ------------------------------------------------------------------------ */
/* Flows: explorer (over the als model)                                     */
/* ------------------------------------------------------------------------ */

static const char *const EXPLORE_CFG[] = {"threads=1", "candidates=12", "propensity_samples=4",
                                          NULL};

/* The explorer's configuration, built by steps of the flow. */
static int explore_cfg(run *r, recint_config **c)
{
    STEP_NEW(r, c, recint_config_new(c));
    for (const char *const *p = EXPLORE_CFG; *p; p++)
        STEP(r, recint_config_set_pair(*c, *p));
    return 0;
done:
    return 1;
}

static int explore_session(run *r, recint_explorer *e)
{
    struct {
        uint32_t items[3];
        double prop[3];
        uint32_t n;
    } sl;
    for (uint32_t t = 0; t < 2; t++)
        for (uint32_t u = 0; u < 3; u++) {
            STEP_OUT(r, &sl, recint_explorer_recommend(e, u, 3, sl.items, sl.prop, &sl.n));
            STEP(r, recint_explorer_observe(e, u, sl.items[0], (float)((t + u) % 2)));
        }
    uint64_t n = recint_explorer_log_size(e);
    mix(r, &n, sizeof n);
    return 0;
done:
    return 1;
}

static void flow_explore_session(run *r, fixture *fx)
{
    recint_config *c = NULL;
    recint_explorer *e = NULL;
    if (explore_cfg(r, &c))
        goto done;
    STEP_NEW(r, &e, recint_explorer_new(&e, fx->m, c));
    STEP(r, recint_explorer_set_logging(e, 1));
    explore_session(r, e);
done:
    recint_explorer_free(e);
    recint_config_free(c);
}

static void flow_explore_log(run *r, fixture *fx)
{
    STEP_FILE(r, fx->out_path, recint_explorer_log_save(fx->ex, fx->out_path));
    STEP_FILE(r, fx->text_path, recint_explorer_log_save_text(fx->ex, fx->text_path));
done:
    return;
}

static void flow_explore_replay(run *r, fixture *fx)
{
    recint_config *c = NULL;
    recint_explorer *a = NULL, *b = NULL;
    uint64_t mism;
    double est[4];
    if (explore_cfg(r, &c))
        goto done;
    STEP_NEW(r, &a, recint_explorer_new(&a, fx->m, c));
    STEP_OUT(r, &mism, recint_explorer_replay(a, fx->log_path, &mism));
    STEP_NEW(r, &b, recint_explorer_new(&b, fx->m, c));
    STEP_OUT(r, &mism, recint_explorer_replay(b, fx->log_text_path, &mism));
    for (int k = RECINT_OPE_IPS; k <= RECINT_OPE_DR; k++) {
        STEP_OUT(r, &est, recint_explorer_evaluate(a, fx->log_path, k, est, 4));
        STEP_OUT(r, &est, recint_explorer_evaluate(b, fx->log_text_path, k, est, 4));
    }
done:
    recint_explorer_free(a);
    recint_explorer_free(b);
    recint_config_free(c);
}

/* The simulator's world, model and rounds (lib/explore/simulate*.c). */
static const char *const SIM_CFG[] = {"threads=1", "sim_users=12", "sim_items=40",
                                      "sim_clusters=4", "sim_rounds=2", "sim_ope_rounds=1",
                                      "sim_history=6", "dim=4", "iterations=1", "candidates=8",
                                      "k=2", NULL};

static void flow_simulate(run *r, fixture *fx)
{
    recint_config *c = NULL;
    struct {
        double totals[RECINT_SIM_COUNT];
        double rows[2 * RECINT_SIM_COUNT];
    } sim;
    double ope[RECINT_OPE_SIM_COUNT];
    STEP_NEW(r, &c, recint_config_new(&c));
    for (const char *const *p = SIM_CFG; *p; p++)
        STEP(r, recint_config_set_pair(c, *p));
    STEP_OUT(r, &sim, recint_simulate(c, sim.totals, RECINT_SIM_COUNT, sim.rows,
                                      2 * RECINT_SIM_COUNT));
    /* the log it writes is an output too */
    STEP_(r, RECINT_OK, 0, &ope, sizeof ope, 1, fx->log_path,
          recint_simulate_ope(c, fx->log_path, ope, RECINT_OPE_SIM_COUNT));
done:
    recint_config_free(c);
}

static void explore_fixture(fixture *fx)
{
    recint_config *c = cfg_of(EXPLORE_CFG);
    RI_OK(recint_explorer_new(&fx->ex, fx->m, c));
    recint_config_free(c);
    RI_OK(recint_explorer_set_logging(fx->ex, 1));
    run r = {0};
    ck_assert_int_eq(explore_session(&r, fx->ex), 0);
    ck_assert_ptr_null(r.unexpected);
    RI_OK(recint_explorer_log_save(fx->ex, fx->log_path));
    RI_OK(recint_explorer_log_save_text(fx->ex, fx->log_text_path));
}

/* ------------------------------------------------------------------------ */
/* Known defects in files of other owners                                   */
/* ------------------------------------------------------------------------ */

/* Sites skipped because the defect is in a file the sweep's owner may not edit;
 * each names the file and line. The owner of the file fixes it and removes the
 * entry. Nothing else is ever skipped. */
static const struct {
    const char *flow;
    uint64_t n;
    const char *defect;
    int crashes;     /* not run at all (a sanitizer would stop the process) */
} KNOWN_DEFECTS[] = {
    /* none at present. Entry form: {"flow", N, "file:line what goes wrong", crashes}.
     * (The first sweep found lib/util/fileio.c's sync_directory allocating after
     * the rename; fixed in 25168e4.) */
    {NULL, 0, NULL, 0},
};

static const char *known_defect(const char *flow, uint64_t n, int *crashes)
{
    for (size_t i = 0; i < sizeof KNOWN_DEFECTS / sizeof *KNOWN_DEFECTS; i++)
        if (KNOWN_DEFECTS[i].flow && !strcmp(KNOWN_DEFECTS[i].flow, flow) &&
            KNOWN_DEFECTS[i].n == n) {
            *crashes = KNOWN_DEFECTS[i].crashes;
            return KNOWN_DEFECTS[i].defect;
        }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The sweep                                                                */
/* ------------------------------------------------------------------------ */

typedef void (*flow_fn)(run *r, fixture *fx);

typedef struct {
    const char *name;
    const char *kind;     /* model kind of the fixture, NULL for data flows */
    flow_fn fn;
    uint32_t ci_runs;     /* without RECINT_ALLOCFAIL_FULL: at most this many N (0: all) */
    int explore;          /* needs the logged explorer */
    unsigned threads;     /* of the fixture's configurations (0: 1) */
} flow;

#define MODEL_FLOWS(kind, fit_runs)                                                     \
    {kind ".fit", kind, flow_fit, fit_runs, 0, 1},                                  \
    {kind ".save_load", kind, flow_save_load, 120, 0, 1},                           \
    {kind ".recommend", kind, flow_recommend, 0, 0, 1},                             \
    {kind ".batch", kind, flow_batch, 0, 0, 1},                                     \
    {kind ".similar", kind, flow_similar, 0, 0, 1},                                 \
    {kind ".explain", kind, flow_explain, 0, 0, 1},                                 \
    {kind ".eval", kind, flow_eval, 120, 0, 1}

static const flow FLOWS[] = {
    {"config", NULL, flow_config, 0, 0, 1},
    {"dataset.load_int", NULL, flow_load_int, 0, 0, 1},
    {"dataset.load_str", NULL, flow_load_str, 0, 0, 1},
    {"dataset.save_load", NULL, flow_dataset_save, 0, 0, 1},
    {"dataset.split_filter", NULL, flow_split_filter, 0, 0, 1},
    {"dataset.synthetic", NULL, flow_synthetic, 0, 0, 1},
    {"features.build", NULL, flow_features_build, 0, 0, 1},
    {"features.sparse", NULL, flow_features_sparse, 0, 0, 1},
    {"features.npy_raw", NULL, flow_features_npy_raw, 0, 0, 1},
    MODEL_FLOWS("pop", 0),
    MODEL_FLOWS("factors", 0),
    MODEL_FLOWS("als", 150),
    MODEL_FLOWS("hybrid", 150),
    MODEL_FLOWS("sequential", 150),
    {"als.partial", "als", flow_partial, 150, 0, 1},
    {"hybrid.partial", "hybrid", flow_partial, 150, 0, 1},
    {"explore.session", "als", flow_explore_session, 150, 1, 1},
    {"explore.log", "als", flow_explore_log, 0, 1, 1},
    {"explore.replay", "als", flow_explore_replay, 150, 1, 1},
    {"explore.simulate", NULL, flow_simulate, 200, 0, 1},
    /* The same calls on two worker threads (als results do not depend on the
     * thread count, nor do the synthetic data's). */
    {"dataset.synthetic.mt", NULL, flow_synthetic, 0, 0, 2},
    {"als.fit.mt", "als", flow_fit, 150, 0, 2},
    {"als.eval.mt", "als", flow_eval, 0, 0, 2},
};
#define N_FLOWS (sizeof FLOWS / sizeof *FLOWS)

/* What the death callback names when ASan or UBSan stops the process. */
static const char *current_flow;
static uint64_t current_n;

#if HAVE_LSAN
static void on_death(void)
{
    fprintf(stderr, "allocfail: %s: the process died at N = %llu\n",
            current_flow ? current_flow : "?", (unsigned long long)current_n);
}
#endif

static int leak_found(void)
{
#if HAVE_LSAN
    return __lsan_do_recoverable_leak_check() != 0;
#else
    return 0;
#endif
}

typedef struct {
    uint64_t runs, not_reached, ok_after_failure, wrong_code, touched, no_message,
        retry_failed, diverged, unexpected, leaks, skipped, stale;
} tally;

#define REPORT_MAX 12

/* "KNOWN" while a known defect's site runs. */
static const char *report_tag = "FAIL";

static void report(const flow *f, uint64_t n, const run *r, const char *what, uint64_t *count)
{
    const char *step = r->fail_step    ? r->fail_step
                       : r->ok_step    ? r->ok_step
                       : r->retry_step ? r->retry_step
                                       : "?";
    if (++*count <= REPORT_MAX)
        printf("allocfail: %s %s N=%llu step `%s`: %s (rc %d, \"%s\")\n", report_tag, f->name,
               (unsigned long long)n, step, what, r->fail_rc, r->fail_msg);
}

static int env_on(const char *name)
{
    const char *e = getenv(name);
    return e && e[0] && strcmp(e, "0") != 0;
}

/* Every stride-th site, and always the last one (where a flow's final
 * allocations, often the answer's own, live). */
static uint64_t next_site(uint64_t n, uint64_t sites, uint64_t stride)
{
    if (n == sites)
        return sites + 1;
    return n + stride <= sites ? n + stride : sites;
}

static int selected(const char *name)
{
    const char *want = getenv("RECINT_ALLOCFAIL_FLOW");
    return !want || !want[0] || strncmp(name, want, strlen(want)) == 0;
}

START_TEST(sweep)
{
    const flow *f = &FLOWS[_i];
    if (!selected(f->name))
        return;
    fixture fx;
    fixture_init(&fx, f->kind, f->threads);
    if (f->explore)
        explore_fixture(&fx);
    current_flow = f->name;
#if HAVE_LSAN
    __sanitizer_set_death_callback(on_death);
    ck_assert_msg(!leak_found(), "%s: leak before the sweep", f->name);
#endif

    /* Twice without injection: the first fills any lazily built caches of the
     * fixture, the second counts the flow's own allocations. */
    run ref = {.flow = f->name};
    f->fn(&ref, &fx);
    ck_assert_msg(!ref.unexpected, "%s: step `%s` failed without injection: %d (%s)", f->name,
                  ref.unexpected, ref.unexpected_rc, ref.unexpected_msg);
    run ref2 = {.flow = f->name};
    uint64_t before = ri_alloc_count();
    f->fn(&ref2, &fx);
    uint64_t sites = ri_alloc_count() - before;
    ck_assert_msg(!ref2.unexpected, "%s: step `%s` failed without injection", f->name,
                  ref2.unexpected);
    ck_assert_msg(ref2.digest == ref.digest, "%s: two runs without injection differ", f->name);
    ck_assert_msg(!leak_found(), "%s: leak without injection", f->name);
    printf("allocfail: %s: %llu sites\n", f->name, (unsigned long long)sites);

    uint64_t stride = 1;
    if (!env_on("RECINT_ALLOCFAIL_FULL") && f->ci_runs && sites > f->ci_runs)
        stride = (sites + f->ci_runs - 1) / f->ci_runs;
    tally t = {0};
    int leak_checks = 1;
    /* Sticky: every allocation from the N-th on fails until the failing step
     * returns, so error paths that allocate while unwinding fail too. */
    const int sticky = env_on("RECINT_ALLOCFAIL_STICKY");
    for (uint64_t n = 1; n <= sites; n = next_site(n, sites, stride)) {
        int crashes = 0;
        const char *defect = known_defect(f->name, n, &crashes);
        if (defect && crashes) {
            t.skipped++;
            printf("allocfail: %s N=%llu skipped (known defect: %s)\n", f->name,
                   (unsigned long long)n, defect);
            continue;
        }
        /* A known defect's site runs in a tally of its own: its failures are
         * tolerated, and its passing means the entry is stale. */
        tally mine = {0}, *tp = defect ? &mine : &t;
        report_tag = defect ? "KNOWN" : "FAIL";
        run r = {.flow = f->name};
        current_n = n;
        uint64_t inj = ri_alloc_injected();
        if (sticky)
            ri_alloc_fail_from(n);
        else
            ri_alloc_fail_at(n);
        f->fn(&r, &fx);
        ri_alloc_fail_at(0);
        current_n = 0;
        tp->runs++;
        if (ri_alloc_injected() == inj)
            report(f, n, &r, "allocation N was never reached", &tp->not_reached);
        else if (!r.fail_step && r.ok_step)
            report(f, n, &r, "returned success after the allocation failed", &tp->ok_after_failure);
        else if (r.fail_step) {
            if (r.fail_rc != RECINT_ENOMEM && !(r.fail_alt && r.fail_rc == r.fail_alt))
                report(f, n, &r, "wrong code (expected RECINT_ENOMEM)", &tp->wrong_code);
            if (!r.untouched)
                report(f, n, &r, "outputs changed by the failed call", &tp->touched);
            if (!r.has_msg)
                report(f, n, &r, "empty recint_last_error()", &tp->no_message);
        }
        if (r.unexpected)
            report(f, n, &r, r.unexpected, &tp->unexpected);
        if (r.retry_step)
            report(f, n, &r, "failed again when called without injection", &tp->retry_failed);
        else if (r.digest != ref.digest)
            report(f, n, &r, "answers after the retry differ from a run without failure",
                   &tp->diverged);
        if (leak_checks && leak_found()) {
            report(f, n, &r, "leak (LSan report above); later N not leak-checked", &tp->leaks);
            leak_checks = 0;
        }
        report_tag = "FAIL";
        if (defect) {
            t.runs++;
            uint64_t seen = mine.not_reached + mine.ok_after_failure + mine.wrong_code +
                            mine.touched + mine.no_message + mine.retry_failed + mine.diverged +
                            mine.unexpected + mine.leaks;
            if (seen) {
                t.skipped++;
                printf("allocfail: %s N=%llu tolerated (known defect: %s)\n", f->name,
                       (unsigned long long)n, defect);
            } else
                report(f, n, &r, "passes: remove its entry from KNOWN_DEFECTS", &t.stale);
        }
    }
    printf("allocfail: %s: %llu of %llu sites swept%s%s; not reached %llu, OK after failure %llu, "
           "wrong code %llu, outputs touched %llu, no message %llu, retry failed %llu, "
           "diverged %llu, unexpected %llu, leaks %llu, known defects %llu, stale entries %llu\n",
           f->name, (unsigned long long)t.runs, (unsigned long long)sites,
           stride > 1 ? " (CI stride)" : "", sticky ? " (sticky)" : "",
           (unsigned long long)t.not_reached,
           (unsigned long long)t.ok_after_failure, (unsigned long long)t.wrong_code,
           (unsigned long long)t.touched, (unsigned long long)t.no_message,
           (unsigned long long)t.retry_failed, (unsigned long long)t.diverged,
           (unsigned long long)t.unexpected, (unsigned long long)t.leaks,
           (unsigned long long)t.skipped, (unsigned long long)t.stale);
    fflush(stdout);
    uint64_t bad = t.not_reached + t.ok_after_failure + t.wrong_code + t.touched + t.no_message +
                   t.retry_failed + t.diverged + t.unexpected + t.leaks + t.stale;
    fixture_free(&fx);
    ck_assert_msg(bad == 0, "%s: %llu failures (listed above)", f->name, (unsigned long long)bad);
}
END_TEST

/* The hook itself: the n-th allocation fails once, or from then on. */
START_TEST(hook_counts_and_fails)
{
    uint64_t c0 = ri_alloc_count(), i0 = ri_alloc_injected();
    void *a = ri_malloc_array(4, 4);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(ri_alloc_count(), c0 + 1);
    ri_alloc_fail_at(2);
    void *b = ri_calloc_array(1, 8), *c = ri_aligned_alloc(3, 8), *d = ri_strdup("x");
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(ri_alloc_injected(), i0 + 1);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "cannot allocate"));
    ri_alloc_fail_from(2);
    void *e = ri_malloc_array(1, 1);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_null(ri_realloc_array(a, 8, 4)); /* a stays valid */
    ck_assert_ptr_null(ri_strdup("y"));
    ck_assert_ptr_null(ri_malloc_array(1, 1));
    ri_alloc_fail_at(0);
    void *g = ri_realloc_array(a, 8, 4);
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(ri_alloc_injected(), i0 + 4);
    free(b);
    free(d);
    free(e);
    free(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("allocfail");
    TCase *hook = tcase_create("hook");
    tcase_add_test(hook, hook_counts_and_fails);
    suite_add_tcase(s, hook);
    TCase *tc = tcase_create("sweep");
    tcase_add_loop_test(tc, sweep, 0, (int)N_FLOWS);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
