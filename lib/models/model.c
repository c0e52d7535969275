/* The model handle: what every kind shares (catalogue, id maps, the training
 * rows to exclude, validation, the file container). Scoring and ranking live in
 * serve.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "util/error.h"
#include "io/format.h"
#include "data/idmap.h"
#include "models/model_private.h"
#include "util/numparse.h"

static const ri_model_ops *const kinds[] = {
#define RI_KIND(name, ops) &ops,
#include "models/kinds.def"
#undef RI_KIND
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])
/* "|pop|factors|...": recint_model_kinds skips the first bar. */
static const char kinds_text[] = ""
#define RI_KIND(name, ops) "|" name
#include "models/kinds.def"
#undef RI_KIND
    ;

static const ri_model_ops *find_kind(const char *name)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}

RECINT_API const char *recint_model_kinds(void) { return kinds_text + 1; }

/* The fitted part of a model, built aside and swapped in whole, so a failed fit
 * or load never leaves a half-updated model. */
typedef struct {
    uint32_t n_users, n_items;
    recint_idmap *users, *items;
    uint64_t *seen_indptr;
    uint32_t *seen_items;
    void *state;
    ri_serving serve;
} fitted_part;

static void part_free(const ri_model_ops *ops, fitted_part *p)
{
    ri_serving_free(&p->serve);
    if (p->state)
        ops->destroy(p->state);
    ri_idmap_free(p->users);
    ri_idmap_free(p->items);
    free(p->seen_indptr);
    free(p->seen_items);
    memset(p, 0, sizeof *p);
}

static void part_take(recint_model *m, const fitted_part *p)
{
    fitted_part old = {m->n_users, m->n_items, m->users, m->items,
                       m->seen_indptr, m->seen_items, m->state, m->serve};
    part_free(m->ops, &old);
    m->n_users = p->n_users;
    m->n_items = p->n_items;
    m->users = p->users;
    m->items = p->items;
    m->seen_indptr = p->seen_indptr;
    m->seen_items = p->seen_items;
    m->state = p->state;
    m->serve = p->serve;
    m->fitted = 1;
}

static int model_alloc(recint_model **out, const ri_model_ops *ops, const recint_config *cfg)
{
    recint_model *m = RI_NEW_ZEROED(recint_model, 1);
    if (!m)
        return ri_error(RECINT_ENOMEM, "model: out of memory");
    int rc = recint_config_copy(&m->cfg, cfg);
    if (rc) {
        free(m);
        return rc;
    }
    m->ops = ops;
    *out = m;
    return RECINT_OK;
}

RECINT_API int recint_model_new(recint_model **out, const char *kind, const recint_config *cfg)
{
    if (!out || !kind)
        return ri_error(RECINT_EINVAL, "recint_model_new: %s is NULL", !out ? "out" : "kind");
    const ri_model_ops *ops = find_kind(kind);
    if (!ops)
        return ri_error(RECINT_EUNSUPPORTED, "recint_model_new: unknown model kind '%s' (known: %s)",
                        kind, recint_model_kinds());
    if (!ops->fit)
        return ri_error(RECINT_EUNSUPPORTED,
                        "recint_model_new: kind '%s' is built from given arrays, not trained: "
                        "use recint_model_new_%s", kind, kind);
    int rc = ri_cfg_check_kind(cfg, ops->name, "recint_model_new");
    if (rc)
        return rc;
    if (ops->check_config) {
        rc = ops->check_config(cfg);
        if (rc)
            return rc;
    }
    ri_isa isa;
    rc = ri_serving_isa(cfg, 0, &isa);
    if (rc)
        return ri_error_prefix(rc, "recint_model_new: ");
    return model_alloc(out, ops, cfg);
}

RECINT_API void recint_model_free(recint_model *m)
{
    if (!m)
        return;
    fitted_part p = {m->n_users, m->n_items, m->users, m->items,
                     m->seen_indptr, m->seen_items, m->state, m->serve};
    part_free(m->ops, &p);
    recint_features_free(m->user_features);
    recint_features_free(m->item_features);
    recint_config_free(m->cfg);
    free(m);
}

static int features_copy(const recint_features *f, recint_features **out)
{
    *out = NULL;
    return f ? recint_features_hstack(out, &f, 1) : RECINT_OK;
}

RECINT_API int recint_model_set_features(recint_model *m, const recint_features *user_features,
                                         const recint_features *item_features)
{
    if (!m)
        return ri_error(RECINT_EINVAL, "recint_model_set_features: model is NULL");
    if (!m->ops->uses_features)
        return ri_error(RECINT_EUNSUPPORTED,
                        "recint_model_set_features: a '%s' model has no feature embeddings "
                        "(use kind 'hybrid')", m->ops->name);
    recint_features *u = NULL, *i = NULL;
    int rc = features_copy(user_features, &u);
    if (rc == RECINT_OK)
        rc = features_copy(item_features, &i);
    if (rc) {
        recint_features_free(u);
        return ri_error_prefix(rc, "recint_model_set_features: ");
    }
    recint_features_free(m->user_features);
    recint_features_free(m->item_features);
    m->user_features = u;
    m->item_features = i;
    return RECINT_OK;
}

RECINT_API const char *recint_model_kind(const recint_model *m) { return m ? m->ops->name : NULL; }
RECINT_API uint32_t recint_model_n_users(const recint_model *m) { return m && m->fitted ? m->n_users : 0; }
RECINT_API uint32_t recint_model_n_items(const recint_model *m) { return m && m->fitted ? m->n_items : 0; }
RECINT_API const recint_idmap *recint_model_users(const recint_model *m) { return m ? m->users : NULL; }
RECINT_API const recint_idmap *recint_model_items(const recint_model *m) { return m ? m->items : NULL; }

int ri_model_linear(const recint_model *m, ri_linear_view *out)
{
    if (!m || !out)
        return ri_error(RECINT_EINVAL, "model linear view: NULL argument");
    if (!m->fitted)
        return ri_error(RECINT_ESTATE, "model '%s' is not fitted", m->ops->name);
    *out = m->serve.view;
    return RECINT_OK;
}

/* ------------------------------------------------------------------------ */
/* Fit                                                                      */
/* ------------------------------------------------------------------------ */

static int copy_seen(const recint_dataset *train, fitted_part *p)
{
    const uint64_t *indptr;
    const uint32_t *items;
    int rc = recint_dataset_csr(train, &indptr, &items, NULL, NULL);
    if (rc)
        return rc;
    uint64_t nnz = indptr[p->n_users];
    if (nnz > SIZE_MAX / sizeof(uint32_t))
        return ri_error(RECINT_ENOMEM, "model fit: %llu interactions do not fit in memory",
                        (unsigned long long)nnz);
    p->seen_indptr = RI_NEW_ARRAY(uint64_t, (size_t)p->n_users + 1);
    p->seen_items = RI_NEW_ARRAY(uint32_t, nnz ? (size_t)nnz : 1);
    if (!p->seen_indptr || !p->seen_items)
        return ri_error(RECINT_ENOMEM, "model fit: out of memory copying %llu training rows",
                        (unsigned long long)nnz);
    memcpy(p->seen_indptr, indptr, ((size_t)p->n_users + 1) * sizeof(uint64_t));
    if (nnz)
        memcpy(p->seen_items, items, (size_t)nnz * sizeof(uint32_t));
    return RECINT_OK;
}

int ri_model_fit(recint_model *m, const recint_dataset *train, const recint_dataset *valid,
                 const recint_config *train_cfg, ri_fit_epochs_fn epochs,
                 recint_progress_fn progress, void *ctx)
{
    if (!m || !train)
        return ri_error(RECINT_EINVAL, "fit: %s is NULL", !m ? "model" : "train");
    if (!m->ops->fit)
        return ri_error(RECINT_EUNSUPPORTED,
                        "fit: a '%s' model serves the arrays it was made from and cannot be "
                        "trained (train another kind, or make a new one with "
                        "recint_model_new_%s)", m->ops->name, m->ops->name);
    fitted_part p = {0};
    p.n_users = recint_dataset_n_users(train);
    p.n_items = recint_dataset_n_items(train);
    if (p.n_users == 0 || p.n_items == 0)
        return ri_error(RECINT_EINVAL, "fit: training data has %u users and %u items (need >= 1 each)",
                        p.n_users, p.n_items);
    if (valid && (!ri_idmap_equal(recint_dataset_users(valid), recint_dataset_users(train)) ||
                  !ri_idmap_equal(recint_dataset_items(valid), recint_dataset_items(train))))
        return ri_error(RECINT_EINVAL,
                        "fit: the validation data's catalogue (%u x %u) is not the training "
                        "data's (%u x %u): split both from one dataset",
                        recint_dataset_n_users(valid), recint_dataset_n_items(valid), p.n_users,
                        p.n_items);
    int rc = ri_idmap_copy(&p.users, recint_dataset_users(train));
    if (rc == RECINT_OK)
        rc = ri_idmap_copy(&p.items, recint_dataset_items(train));
    if (rc == RECINT_OK)
        rc = copy_seen(train, &p);
    if (rc) {
        part_free(m->ops, &p);
        return rc;
    }
    ri_fit_args a = {m, train, valid, train_cfg, progress, ctx, epochs};
    rc = m->ops->fit(&a, &p.state);
    if (p.state) {
        /* A canceled fit's complete state is kept only when it can serve too. */
        int brc = ri_serving_build(m, p.state, p.n_items, NULL, &p.serve);
        if (brc) {
            part_free(m->ops, &p);
            return brc;
        }
    }
    if (p.state)
        part_take(m, &p);
    else
        part_free(m->ops, &p);
    return rc;
}

/* seen := old seen rows united with data's rows (both ascending per user). */
static int union_seen(const recint_model *m, const recint_dataset *data, fitted_part *p)
{
    const uint64_t *ptr;
    const uint32_t *idx;
    int rc = recint_dataset_csr(data, &ptr, &idx, NULL, NULL);
    if (rc)
        return rc;
    const uint64_t cap = m->seen_indptr[m->n_users] + ptr[m->n_users];
    if (cap > SIZE_MAX / sizeof(uint32_t))
        return ri_error(RECINT_ENOMEM, "partial fit: %llu training rows do not fit in memory",
                        (unsigned long long)cap);
    p->seen_indptr = RI_NEW_ARRAY(uint64_t, (size_t)m->n_users + 1);
    p->seen_items = RI_NEW_ARRAY(uint32_t, cap ? (size_t)cap : 1);
    if (!p->seen_indptr || !p->seen_items)
        return ri_error(RECINT_ENOMEM, "partial fit: out of memory for %llu training rows",
                        (unsigned long long)cap);
    uint64_t k = 0;
    for (uint32_t u = 0; u < m->n_users; u++) {
        p->seen_indptr[u] = k;
        uint64_t a = m->seen_indptr[u], ae = m->seen_indptr[u + 1], b = ptr[u], be = ptr[u + 1];
        while (a < ae || b < be) {
            uint32_t x;
            if (b >= be || (a < ae && m->seen_items[a] < idx[b]))
                x = m->seen_items[a++];
            else if (a >= ae || idx[b] < m->seen_items[a])
                x = idx[b++];
            else {
                x = idx[b++];
                a++;
            }
            p->seen_items[k++] = x;
        }
    }
    p->seen_indptr[m->n_users] = k;
    return RECINT_OK;
}

int ri_model_partial_fit(recint_model *m, const recint_dataset *data, const recint_config *train_cfg,
                         ri_fit_epochs_fn epochs, recint_progress_fn progress, void *ctx)
{
    if (!m || !data)
        return ri_error(RECINT_EINVAL, "partial fit: %s is NULL", !m ? "model" : "data");
    if (!m->ops->partial_fit)
        return ri_error(RECINT_EUNSUPPORTED, "partial fit: a '%s' model cannot continue a fit "
                        "(use recint_trainer_fit)", m->ops->name);
    if (!m->fitted)
        return ri_model_fit(m, data, NULL, train_cfg, epochs, progress, ctx);
    if (!ri_idmap_equal(recint_dataset_users(data), m->users) ||
        !ri_idmap_equal(recint_dataset_items(data), m->items))
        return ri_error(RECINT_EINVAL,
                        "partial fit: the data's catalogue (%u x %u) is not the model's (%u x %u): "
                        "build it with recint_dataset_new_with_catalogue from the model's id maps",
                        recint_dataset_n_users(data), recint_dataset_n_items(data), m->n_users,
                        m->n_items);
    fitted_part p = {0};
    p.n_users = m->n_users;
    p.n_items = m->n_items;
    int rc = ri_idmap_copy(&p.users, m->users);
    if (rc == RECINT_OK)
        rc = ri_idmap_copy(&p.items, m->items);
    if (rc == RECINT_OK)
        rc = union_seen(m, data, &p);
    if (rc) {
        part_free(m->ops, &p);
        return rc;
    }
    ri_fit_args a = {m, data, NULL, train_cfg, progress, ctx, epochs};
    rc = m->ops->partial_fit(&a, m->state, &p.state);
    if (p.state) {
        int brc = ri_serving_build(m, p.state, p.n_items, NULL, &p.serve);
        if (brc) {
            part_free(m->ops, &p);
            return brc;
        }
        part_take(m, &p);
    } else {
        part_free(m->ops, &p);
    }
    return rc;
}

const recint_config *ri_fit_cfg(const ri_fit_args *a, ri_param_id id)
{
    return a->train_cfg && ri_cfg_is_set(a->train_cfg, id) ? a->train_cfg : a->model->cfg;
}

int ri_fit_epochs(const ri_fit_args *a, const ri_epoch_steps *steps, void *kind)
{
    if (!a->epochs)
        return ri_error(RECINT_EINVAL, "%s: no epoch driver given (fit through a trainer)",
                        steps->what);
    return a->epochs(a, steps, kind);
}

int ri_fit_with_served_state(const ri_fit_args *a, const void *state,
                             int (*fn)(const recint_model *m, void *ctx), void *ctx)
{
    /* A model on the stack borrowing the training catalogue and rows: never freed
     * as a whole, only its serving side, which is the one thing built here. */
    recint_model tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.ops = a->model->ops;
    tmp.cfg = a->model->cfg;
    tmp.fitted = 1;
    tmp.n_users = recint_dataset_n_users(a->train);
    tmp.n_items = recint_dataset_n_items(a->train);
    tmp.users = (recint_idmap *)recint_dataset_users(a->train);
    tmp.items = (recint_idmap *)recint_dataset_items(a->train);
    const uint64_t *indptr;
    const uint32_t *items;
    int rc = recint_dataset_csr(a->train, &indptr, &items, NULL, NULL);
    if (rc)
        return rc;
    tmp.seen_indptr = (uint64_t *)indptr;
    tmp.seen_items = (uint32_t *)items;
    tmp.state = (void *)state;
    rc = ri_serving_build(&tmp, state, tmp.n_items, NULL, &tmp.serve);
    if (rc)
        return rc;
    rc = fn(&tmp, ctx);
    ri_serving_free(&tmp.serve);
    return rc;
}

int ri_model_from_state(recint_model **out, const ri_model_ops *ops, const recint_config *cfg,
                        uint32_t n_users, uint32_t n_items, void *state)
{
    recint_model *m = NULL;
    fitted_part p = {0};
    p.n_users = n_users;
    p.n_items = n_items;
    p.state = state;
    int rc = model_alloc(&m, ops, cfg);
    if (rc == RECINT_OK)
        rc = ri_idmap_new_range(&p.users, n_users);
    if (rc == RECINT_OK)
        rc = ri_idmap_new_range(&p.items, n_items);
    if (rc == RECINT_OK) {
        p.seen_indptr = RI_NEW_ZEROED(uint64_t, (size_t)n_users + 1);
        p.seen_items = RI_NEW_ARRAY(uint32_t, 1);
        if (!p.seen_indptr || !p.seen_items)
            rc = ri_error(RECINT_ENOMEM, "model: out of memory for %u users", n_users);
    }
    if (rc == RECINT_OK)
        rc = ri_serving_build(m, state, n_items, NULL, &p.serve);
    if (rc) {
        part_free(ops, &p);
        recint_model_free(m);
        return rc;
    }
    part_take(m, &p);
    *out = m;
    return RECINT_OK;
}

/* ------------------------------------------------------------------------ */
/* Save                                                                     */
/* ------------------------------------------------------------------------ */

/* Growable text buffer for the META section. */
typedef struct {
    char *s;
    size_t len, cap;
} text_buf;

static int text_add(text_buf *t, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), need = t->len + la + lb + 2;
    if (need > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < need)
            cap *= 2;
        char *s = ri_realloc_array(t->s, cap, 1);
        if (!s)
            return ri_error(RECINT_ENOMEM, "model save: out of memory");
        t->s = s;
        t->cap = cap;
    }
    memcpy(t->s + t->len, a, la);
    t->s[t->len + la] = '=';
    memcpy(t->s + t->len + la + 1, b, lb);
    t->s[t->len + la + 1 + lb] = '\n';
    t->len += la + lb + 2;
    return RECINT_OK;
}

static int build_meta(const recint_model *m, text_buf *t)
{
    char num[32], key[128], val[4096];
    int rc = text_add(t, "kind", m->ops->name);
    snprintf(num, sizeof num, "%u", RI_FMT_VERSION);
    if (rc == RECINT_OK)
        rc = text_add(t, "format_version", num);
    if (rc == RECINT_OK)
        rc = text_add(t, "library_version", recint_version());
    snprintf(num, sizeof num, "%u", m->n_users);
    if (rc == RECINT_OK)
        rc = text_add(t, "n_users", num);
    snprintf(num, sizeof num, "%u", m->n_items);
    if (rc == RECINT_OK)
        rc = text_add(t, "n_items", num);
    for (size_t i = 0; rc == RECINT_OK && i < recint_config_count(); i++) {
        const char *k = recint_config_describe(i, RECINT_PARAM_KEY);
        rc = recint_config_get(m->cfg, k, val, sizeof val);
        if (rc == RECINT_OK && strpbrk(val, "\n"))
            rc = ri_error(RECINT_EINVAL, "model save: config %s holds a newline", k);
        snprintf(key, sizeof key, "config.%s", k);
        if (rc == RECINT_OK)
            rc = text_add(t, key, val);
    }
    return rc;
}

/* Arrays built only for saving (string id maps), freed after the write. */
typedef struct {
    uint64_t *off[2];
    char *blob[2];
} save_scratch;

static int add_idmap(ri_fmt_writer *w, const recint_idmap *map, uint32_t n, int which,
                     save_scratch *sc)
{
    static const char *const tags[2][3] = {{"USERIDS", "USEROFF", "USERSTR"},
                                           {"ITEMIDS", "ITEMOFF", "ITEMSTR"}};
    if (recint_idmap_kind(map) == RECINT_IDS_INT)
        return ri_fmt_add(w, tags[which][0], RI_FMT_I64, ri_idmap_ints(map), (uint64_t)n * 8);
    uint64_t *off = RI_NEW_ARRAY(uint64_t, (size_t)n + 1);
    sc->off[which] = off;
    if (!off)
        return ri_error(RECINT_ENOMEM, "model save: out of memory");
    off[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *s;
        int rc = recint_idmap_id_str(map, i, &s);
        if (rc)
            return rc;
        off[i + 1] = off[i] + strlen(s);
    }
    char *blob = RI_NEW_ARRAY(char, off[n] ? (size_t)off[n] : 1);
    sc->blob[which] = blob;
    if (!blob)
        return ri_error(RECINT_ENOMEM, "model save: out of memory for %llu id bytes",
                        (unsigned long long)off[n]);
    for (uint32_t i = 0; i < n; i++) {
        const char *s;
        recint_idmap_id_str(map, i, &s);
        memcpy(blob + off[i], s, (size_t)(off[i + 1] - off[i]));
    }
    int rc = ri_fmt_add(w, tags[which][1], RI_FMT_U64, off, ((uint64_t)n + 1) * 8);
    return rc ? rc : ri_fmt_add(w, tags[which][2], RI_FMT_TEXT, blob, off[n]);
}

/* The optional int8 copy of the item matrix: written when the model has one,
 * so a loaded model serves exactly as the saved one did. */
#define Q8_CODES "Q8CODES"
#define Q8_SCALES "Q8SCALE"

static int add_int8(ri_fmt_writer *w, const recint_model *m)
{
    const int8_t *codes;
    const float *scales;
    if (!ri_core_items_has_int8(m->serve.items))
        return RECINT_OK;
    int rc = ri_core_items_int8_view(m->serve.items, &codes, &scales);
    if (rc)
        return rc;
    uint64_t n = m->n_items, dim = ri_core_items_dim(m->serve.items);
    rc = ri_fmt_add(w, Q8_CODES, RI_FMT_BYTES, codes, n * dim);
    return rc ? rc : ri_fmt_add(w, Q8_SCALES, RI_FMT_F32, scales, n * sizeof(float));
}

RECINT_API int recint_model_save(const recint_model *m, const char *path)
{
    if (!m || !path)
        return ri_error(RECINT_EINVAL, "recint_model_save: %s is NULL", !m ? "model" : "path");
    if (!m->fitted)
        return ri_error(RECINT_ESTATE, "recint_model_save: model '%s' is not fitted", m->ops->name);
    ri_fmt_writer w;
    ri_fmt_writer_init(&w);
    text_buf meta = {0};
    save_scratch sc = {{NULL, NULL}, {NULL, NULL}};
    uint64_t nnz = m->seen_indptr[m->n_users];
    int rc = build_meta(m, &meta);
    if (rc == RECINT_OK)
        rc = ri_fmt_add(&w, "META", RI_FMT_TEXT, meta.s, meta.len);
    if (rc == RECINT_OK)
        rc = add_idmap(&w, m->users, m->n_users, 0, &sc);
    if (rc == RECINT_OK)
        rc = add_idmap(&w, m->items, m->n_items, 1, &sc);
    if (rc == RECINT_OK)
        rc = ri_fmt_add(&w, "SEENPTR", RI_FMT_U64, m->seen_indptr, ((uint64_t)m->n_users + 1) * 8);
    if (rc == RECINT_OK)
        rc = ri_fmt_add(&w, "SEENIDX", RI_FMT_U32, m->seen_items, nnz * 4);
    if (rc == RECINT_OK)
        rc = m->ops->save_sections(m, m->state, &w);
    if (rc == RECINT_OK)
        rc = add_int8(&w, m);
    if (rc == RECINT_OK)
        rc = ri_fmt_write_file(&w, path);
    ri_fmt_writer_free(&w);
    free(meta.s);
    for (int i = 0; i < 2; i++) {
        free(sc.off[i]);
        free(sc.blob[i]);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Load                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct {
    const ri_model_ops *ops;
    int64_t n_users, n_items;
} meta_info;

/* min is 0 for users (a factors model may serve only vectors and similar items)
 * and 1 for items. */
static int meta_count(const ri_fmt_reader *r, unsigned line, const char *key, const char *v,
                      size_t len, int64_t min, int64_t *out)
{
    int64_t x;
    if (*out >= 0)
        return ri_error(RECINT_EFORMAT, "%s: META line %u: %s given twice", r->name, line, key);
    if (ri_parse_i64(v, len, &x) != 0 || x < min || x > UINT32_MAX)
        return ri_error(RECINT_EFORMAT, "%s: META line %u: %s = '%.*s' is not in [%d, %u]",
                        r->name, line, key, (int)(len > 40 ? 40 : len), v, (int)min, UINT32_MAX);
    *out = x;
    return RECINT_OK;
}

static int meta_config(const ri_fmt_reader *r, unsigned line, recint_config *cfg, const char *k,
                       size_t klen, const char *v, size_t vlen)
{
    char key[128], val[4096];
    if (klen >= sizeof key || vlen >= sizeof val)
        return ri_error(RECINT_EFORMAT, "%s: META line %u: config entry too long", r->name, line);
    memcpy(key, k, klen);
    key[klen] = '\0';
    memcpy(val, v, vlen);
    val[vlen] = '\0';
    int rc = recint_config_set(cfg, key, val);
    /* A key this build lacks comes from a newer library: its kinds are not ours. */
    if (rc == RECINT_ENOTFOUND)
        return RECINT_OK;
    /* Out of memory is not damage: the caller may retry a good file. */
    if (rc == RECINT_ENOMEM)
        return rc;
    if (rc)
        return ri_error_prefix(RECINT_EFORMAT, "%s: META line %u: config %s: ", r->name, line, key);
    return RECINT_OK;
}

static int meta_line(const ri_fmt_reader *r, unsigned line, const char *s, size_t len,
                     meta_info *mi, recint_config *cfg)
{
    const char *eq = memchr(s, '=', len);
    if (!eq)
        return ri_error(RECINT_EFORMAT, "%s: META line %u: no '=' in key=value", r->name, line);
    size_t klen = (size_t)(eq - s), vlen = len - klen - 1;
    const char *v = eq + 1;
#define KEY_IS(lit) (klen == sizeof(lit) - 1 && memcmp(s, lit, klen) == 0)
    if (KEY_IS("kind")) {
        if (mi->ops)
            return ri_error(RECINT_EFORMAT, "%s: META line %u: kind given twice", r->name, line);
        for (size_t i = 0; i < N_KINDS; i++)
            if (strlen(kinds[i]->name) == vlen && memcmp(kinds[i]->name, v, vlen) == 0)
                mi->ops = kinds[i];
        if (!mi->ops)
            return ri_error(RECINT_EFORMAT, "%s: META line %u: unknown model kind '%.*s' (known: %s)",
                            r->name, line, (int)(vlen > 40 ? 40 : vlen), v, recint_model_kinds());
        return RECINT_OK;
    }
    if (KEY_IS("n_users"))
        return meta_count(r, line, "n_users", v, vlen, 0, &mi->n_users);
    if (KEY_IS("n_items"))
        return meta_count(r, line, "n_items", v, vlen, 1, &mi->n_items);
#undef KEY_IS
    if (klen > 7 && memcmp(s, "config.", 7) == 0)
        return meta_config(r, line, cfg, s + 7, klen - 7, v, vlen);
    return RECINT_OK; /* informational keys (versions) and keys of newer writers */
}

static int parse_meta(const ri_fmt_reader *r, meta_info *mi, recint_config *cfg)
{
    const void *data;
    uint64_t len;
    int rc = ri_fmt_array(r, "META", RI_FMT_TEXT, RI_FMT_ANY, &data, &len);
    if (rc)
        return rc;
    const char *s = data;
    if (len == 0 || s[len - 1] != '\n' || memchr(s, '\0', (size_t)len))
        return ri_error(RECINT_EFORMAT, "%s: META: text must be non-empty, end in a newline, hold no NUL",
                        r->name);
    mi->ops = NULL;
    mi->n_users = mi->n_items = -1;
    unsigned line = 1;
    for (size_t pos = 0; pos < len; line++) {
        const char *nl = memchr(s + pos, '\n', (size_t)len - pos);
        rc = meta_line(r, line, s + pos, (size_t)(nl - (s + pos)), mi, cfg);
        if (rc)
            return rc;
        pos = (size_t)(nl - s) + 1;
    }
    if (!mi->ops || mi->n_users < 0 || mi->n_items < 0)
        return ri_error(RECINT_EFORMAT, "%s: META: missing %s", r->name,
                        !mi->ops ? "kind" : mi->n_users < 0 ? "n_users" : "n_items");
    return RECINT_OK;
}

/* The most an id map of n ids (strings: blen bytes of string ids) holds
 * while lib/data/idmap.c builds it: arrays grown by doubling (up to 2n entries,
 * and the old array beside the new one during a realloc) and a hash table at
 * load <= 0.7 rounded up to a power of two (rebuilt beside the old one). */
static int charge_idmap(const ri_fmt_reader *r, uint32_t n, int strings, uint64_t blen)
{
    const char *what = strings ? "a string id map" : "an id map";
    int rc = ri_fmt_charge(r, (uint64_t)n + 16, strings ? 48 : 32, what);
    if (rc == RECINT_OK && strings)
        rc = ri_fmt_charge(r, blen + n + 256, 3, what);
    return rc;
}

static int load_string_map(const ri_fmt_reader *r, const char *const tags[3], uint32_t n,
                           recint_idmap **out)
{
    const void *od, *bd;
    uint64_t blen;
    int rc = ri_fmt_array(r, tags[1], RI_FMT_U64, (uint64_t)n + 1, &od, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, tags[2], RI_FMT_TEXT, RI_FMT_ANY, &bd, &blen);
    if (rc)
        return rc;
    const uint64_t *off = od;
    const char *blob = bd;
    if (off[0] != 0 || off[n] != blen)
        return ri_error(RECINT_EFORMAT, "%s: section %s: offsets run %llu..%llu, expected 0..%llu",
                        r->name, tags[1], (unsigned long long)off[0], (unsigned long long)off[n],
                        (unsigned long long)blen);
    for (uint32_t i = 0; i < n; i++)
        if (off[i + 1] < off[i])
            return ri_error(RECINT_EFORMAT, "%s: section %s: offset %u (%llu) < offset %u (%llu)",
                            r->name, tags[1], i + 1, (unsigned long long)off[i + 1], i,
                            (unsigned long long)off[i]);
    if (memchr(blob, '\0', (size_t)blen))
        return ri_error(RECINT_EFORMAT, "%s: section %s: NUL byte inside the ids", r->name, tags[2]);
    rc = ri_fmt_charge(r, (uint64_t)n + 1, 9, "the string ids' scratch");
    if (rc == RECINT_OK)
        rc = ri_fmt_charge(r, blen, 1, "the string ids' scratch");
    if (rc == RECINT_OK)
        rc = charge_idmap(r, n, 1, blen);
    if (rc)
        return rc;
    char *copy = RI_NEW_ARRAY(char, (size_t)blen + n + 1);
    const char **ids = RI_NEW_ARRAY(const char *, (size_t)n + 1);
    if (!copy || !ids) {
        free(copy);
        free(ids);
        return ri_error(RECINT_ENOMEM, "%s: out of memory for %u ids", r->name, n);
    }
    char *p = copy;
    for (uint32_t i = 0; i < n; i++) {
        size_t l = (size_t)(off[i + 1] - off[i]);
        memcpy(p, blob + off[i], l);
        p[l] = '\0';
        ids[i] = p;
        p += l + 1;
    }
    rc = ri_idmap_new_strings(out, ids, n);
    free(copy);
    free(ids);
    if (rc)
        return ri_error_prefix(rc == RECINT_ENOMEM ? rc : RECINT_EFORMAT, "%s: section %s: ",
                               r->name, tags[2]);
    return RECINT_OK;
}

static int load_idmap(const ri_fmt_reader *r, int which, uint32_t n, recint_idmap **out)
{
    static const char *const tags[2][3] = {{"USERIDS", "USEROFF", "USERSTR"},
                                           {"ITEMIDS", "ITEMOFF", "ITEMSTR"}};
    ri_fmt_section s;
    int has_int = ri_fmt_find(r, tags[which][0], &s) == RECINT_OK;
    int has_str = ri_fmt_find(r, tags[which][1], &s) == RECINT_OK ||
                  ri_fmt_find(r, tags[which][2], &s) == RECINT_OK;
    if (has_int == has_str)
        return ri_error(RECINT_EFORMAT, "%s: %s: need exactly one of section %s or %s+%s", r->name,
                        which ? "item ids" : "user ids", tags[which][0], tags[which][1],
                        tags[which][2]);
    if (has_str)
        return load_string_map(r, tags[which], n, out);
    const void *d;
    int rc = ri_fmt_array(r, tags[which][0], RI_FMT_I64, n, &d, NULL);
    if (rc == RECINT_OK)
        rc = charge_idmap(r, n, 0, 0);
    if (rc)
        return rc;
    rc = ri_idmap_new_ints(out, d, n);
    if (rc)
        return ri_error_prefix(rc == RECINT_ENOMEM ? rc : RECINT_EFORMAT, "%s: section %s: ",
                               r->name, tags[which][0]);
    return RECINT_OK;
}

static int load_seen(const ri_fmt_reader *r, fitted_part *p)
{
    const void *pd, *id;
    uint64_t nnz;
    int rc = ri_fmt_array(r, "SEENPTR", RI_FMT_U64, (uint64_t)p->n_users + 1, &pd, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, "SEENIDX", RI_FMT_U32, RI_FMT_ANY, &id, &nnz);
    if (rc)
        return rc;
    const uint64_t *indptr = pd;
    const uint32_t *idx = id;
    if (indptr[0] != 0 || indptr[p->n_users] != nnz)
        return ri_error(RECINT_EFORMAT, "%s: section SEENPTR: runs %llu..%llu, expected 0..%llu",
                        r->name, (unsigned long long)indptr[0],
                        (unsigned long long)indptr[p->n_users], (unsigned long long)nnz);
    /* Monotone with the last entry equal to nnz bounds every row inside SEENIDX,
     * so the row scan below cannot read past it. */
    for (uint32_t u = 0; u < p->n_users; u++)
        if (indptr[u + 1] < indptr[u])
            return ri_error(RECINT_EFORMAT, "%s: section SEENPTR: entry %u decreases (%llu < %llu)",
                            r->name, u + 1, (unsigned long long)indptr[u + 1],
                            (unsigned long long)indptr[u]);
    for (uint32_t u = 0; u < p->n_users; u++) {
        for (uint64_t j = indptr[u]; j < indptr[u + 1]; j++) {
            if (idx[j] >= p->n_items)
                return ri_error(RECINT_EFORMAT,
                                "%s: section SEENIDX: entry %llu = %u is out of range (n_items = %u)",
                                r->name, (unsigned long long)j, idx[j], p->n_items);
            if (j > indptr[u] && idx[j] <= idx[j - 1])
                return ri_error(RECINT_EFORMAT,
                                "%s: section SEENIDX: row %u is not strictly ascending at entry %llu",
                                r->name, u, (unsigned long long)j);
        }
    }
    int crc = ri_fmt_charge(r, (uint64_t)p->n_users + 1, sizeof(uint64_t), "the seen items");
    if (crc == RECINT_OK)
        crc = ri_fmt_charge(r, nnz ? nnz : 1, sizeof(uint32_t), "the seen items");
    if (crc)
        return crc;
    p->seen_indptr = RI_NEW_ARRAY(uint64_t, (size_t)p->n_users + 1);
    p->seen_items = RI_NEW_ARRAY(uint32_t, nnz ? (size_t)nnz : 1);
    if (!p->seen_indptr || !p->seen_items)
        return ri_error(RECINT_ENOMEM, "%s: out of memory for the seen items", r->name);
    memcpy(p->seen_indptr, indptr, ((size_t)p->n_users + 1) * sizeof(uint64_t));
    if (nnz)
        memcpy(p->seen_items, idx, (size_t)nnz * sizeof(uint32_t));
    return RECINT_OK;
}

/* What ri_serving_build allocates for a state of view v: the scoring core's
 * item store (with the file's int8 copy when it has one) and, with item
 * vectors, the similar-items store and its norms, charged even when serving
 * shares the first store (dot similarity without biases): an upper bound. */
static int charge_serving(const ri_fmt_reader *r, const ri_linear_view *v, uint32_t n, int int8)
{
    int rc = ri_fmt_charge(r, 1, ri_core_items_bytes(n, v->dim, v->item_bias != NULL, 0, int8),
                           "the scoring core's item vectors");
    if (rc == RECINT_OK && v->dim > 0)
        rc = ri_fmt_charge(r, 1, ri_core_items_bytes(n, v->dim, 0, 1, 0) + (uint64_t)n * 4,
                           "the similar-items copy of the item vectors");
    return rc;
}

/* The serving side of a loaded state, with the file's int8 copy when it has one
 * (both sections or neither; sizes and scales checked). */
static int load_serving(const ri_fmt_reader *r, const recint_model *m, fitted_part *p)
{
    ri_fmt_section s;
    int has_codes = ri_fmt_find(r, Q8_CODES, &s) == RECINT_OK;
    int has_scales = ri_fmt_find(r, Q8_SCALES, &s) == RECINT_OK;
    if (has_codes != has_scales)
        return ri_error(RECINT_EFORMAT, "%s: section %s without section %s", r->name,
                        has_codes ? Q8_CODES : Q8_SCALES, has_codes ? Q8_SCALES : Q8_CODES);
    ri_linear_view v;
    int rc = m->ops->linear(m, p->state, &v);
    if (rc)
        return rc;
    if (!has_codes) {
        ri_int8_copy none = {NULL, NULL};
        rc = charge_serving(r, &v, p->n_items, 0);
        return rc ? rc : ri_serving_build(m, p->state, p->n_items, &none, &p->serve);
    }
    if (v.dim == 0)
        return ri_error(RECINT_EFORMAT, "%s: section %s in a model without item vectors (dim 0)",
                        r->name, Q8_CODES);
    const void *codes, *scales;
    rc = ri_fmt_array(r, Q8_CODES, RI_FMT_BYTES, (uint64_t)p->n_items * v.dim, &codes, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, Q8_SCALES, RI_FMT_F32, p->n_items, &scales, NULL);
    if (rc == RECINT_OK)
        rc = charge_serving(r, &v, p->n_items, 1);
    if (rc)
        return rc;
    ri_int8_copy q = {codes, scales};
    rc = ri_serving_build(m, p->state, p->n_items, &q, &p->serve);
    if (rc == RECINT_EINVAL)
        return ri_error_prefix(RECINT_EFORMAT, "%s: section %s: ", r->name, Q8_SCALES);
    return rc;
}

/* data (size bytes, 64-byte aligned) holds the file; limit is the caller's
 * load_memory_limit (0: the default bound). */
static int load_from(recint_model **out, const void *data, size_t size, const char *name,
                     uint64_t limit)
{
    ri_fmt_reader r;
    int rc = ri_fmt_open(&r, data, size, name);
    if (rc)
        return rc;
    ri_fmt_budget budget;
    ri_fmt_budget_init(&budget, size, limit);
    r.budget = &budget;
    rc = ri_fmt_charge(&r, size, 1, "the file's bytes");
    if (rc)
        return rc;
    recint_config *cfg;
    rc = recint_config_new(&cfg);
    if (rc)
        return rc;
    meta_info mi = {NULL, -1, -1};
    rc = parse_meta(&r, &mi, cfg);
    recint_model *m = NULL;
    if (rc == RECINT_OK)
        rc = model_alloc(&m, mi.ops, cfg);
    recint_config_free(cfg);
    if (rc)
        return rc;
    fitted_part p = {0};
    p.n_users = (uint32_t)mi.n_users;
    p.n_items = (uint32_t)mi.n_items;
    rc = load_idmap(&r, 0, p.n_users, &p.users);
    if (rc == RECINT_OK)
        rc = load_idmap(&r, 1, p.n_items, &p.items);
    if (rc == RECINT_OK)
        rc = load_seen(&r, &p);
    if (rc == RECINT_OK) {
        /* The kind's loader sees the catalogue sizes through the model. */
        m->n_users = p.n_users;
        m->n_items = p.n_items;
        rc = m->ops->load_sections(m, &r, &p.state);
    }
    if (rc == RECINT_OK)
        rc = load_serving(&r, m, &p);
    if (rc) {
        part_free(m->ops, &p);
        recint_model_free(m);
        return rc;
    }
    part_take(m, &p);
    *out = m;
    return RECINT_OK;
}

/* The caller's load_memory_limit (0: the default bound). */
static uint64_t load_limit(const recint_config *cfg)
{
    return (uint64_t)ri_cfg_int(cfg, RI_P_LOAD_MEMORY_LIMIT);
}

RECINT_API int recint_model_load_buffer_ex(recint_model **out, const void *data, size_t size,
                                           const recint_config *cfg)
{
    if (!out || (!data && size))
        return ri_error(RECINT_EINVAL, "recint_model_load_buffer: %s is NULL", !out ? "out" : "data");
    if (size < RI_FMT_HEADER_SIZE)
        return ri_error(RECINT_EFORMAT, "model buffer: truncated: %zu bytes, the header needs %u",
                        size, RI_FMT_HEADER_SIZE);
    uint64_t limit = load_limit(cfg);
    if (limit && size > limit)
        return ri_error(RECINT_EFORMAT, "model buffer: %zu bytes, above the limit of %llu bytes "
                        "set by load_memory_limit", size, (unsigned long long)limit);
    /* The copy gives the sections the alignment the typed views rely on. */
    void *copy = ri_aligned_alloc(size, 1);
    if (!copy)
        return ri_error(RECINT_ENOMEM, "model buffer: cannot copy %zu bytes", size);
    memcpy(copy, data, size);
    int rc = load_from(out, copy, size, "model buffer", limit);
    ri_aligned_free(copy);
    return rc;
}

RECINT_API int recint_model_load_buffer(recint_model **out, const void *data, size_t size)
{
    return recint_model_load_buffer_ex(out, data, size, NULL);
}

RECINT_API int recint_model_load_ex(recint_model **out, const char *path, const recint_config *cfg)
{
    if (!out || !path)
        return ri_error(RECINT_EINVAL, "recint_model_load: %s is NULL", !out ? "out" : "path");
    void *buf;
    size_t size;
    int rc = ri_fmt_read_file(path, &buf, &size);
    if (rc)
        return rc;
    rc = load_from(out, buf, size, path, load_limit(cfg));
    ri_aligned_free(buf);
    return rc;
}

RECINT_API int recint_model_load(recint_model **out, const char *path)
{
    return recint_model_load_ex(out, path, NULL);
}

void ri_model_seen(const recint_model *m, uint32_t user, const uint32_t **items, size_t *n)
{
    const uint64_t b = m->seen_indptr[user];
    *items = m->seen_items + b;
    *n = (size_t)(m->seen_indptr[user + 1] - b);
}

const uint32_t *ri_model_seen_all(const recint_model *m, uint64_t *n)
{
    *n = m->seen_indptr[m->n_users];
    return m->seen_items;
}

int ri_model_has_user_vector(const recint_model *m)
{
    return m->ops->user_vector != NULL;
}

int ri_model_user_vector(const recint_model *m, uint32_t user, float *out)
{
    if (!m->ops->user_vector)
        return ri_error(RECINT_EUNSUPPORTED, "model kind '%s' provides no user vectors",
                        m->ops->name);
    return m->ops->user_vector(m, m->state, user, out);
}

ri_isa ri_model_isa(const recint_model *m)
{
    return m->serve.isa;
}

uint32_t ri_model_users_count(const recint_model *m)
{
    return m->n_users;
}

uint32_t ri_model_items_count(const recint_model *m)
{
    return m->n_items;
}
