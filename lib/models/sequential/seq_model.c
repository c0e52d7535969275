/* Kind "sequential": the state (architecture, weights, each user's recent
 * items), its linear view for the scoring core, user vectors computed from
 * stored or caller-given sequences, and the model file sections. Training is
 * in seq_train.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "data/dataset_internal.h"
#include "util/error.h"
#include "models/model_internal.h"
#include "models/model_private.h"
#include "models/sequential/seq_internal.h"

#define TAG_ARCH "SEQARCH"
#define TAG_PARAM "SEQPARAM"
#define TAG_HPTR "SEQHPTR"
#define TAG_HIST "SEQHIST"

/* SEQARCH holds these u32 fields in this order. */
enum { A_ITEMS, A_DIM, A_MAXLEN, A_BLOCKS, A_HEADS, A_FFN, A_POST, A_GELU, A_COUNT };

int ri_seq_fit(const ri_fit_args *a, void **state_out);

void ri_seq_state_free(ri_seq_state *s)
{
    if (!s)
        return;
    free(s->theta);
    free(s->hist_ptr);
    free(s->hist);
    free(s);
}

static void seq_destroy(void *state) { ri_seq_state_free(state); }

static int seq_check_config(const recint_config *cfg)
{
    ri_seq_loss loss;
    int rc = ri_seq_pick_loss(cfg, &loss);
    if (rc == RECINT_OK)
        rc = ri_seq_check_optimizer(cfg);
    if (rc)
        return ri_error_prefix(rc, "sequential: ");
    const int64_t dim = ri_cfg_int(cfg, RI_P_DIM), heads = ri_cfg_int(cfg, RI_P_HEADS);
    if (dim % heads != 0)
        return ri_error(RECINT_EINVAL,
                        "sequential: dim (%lld) must be a multiple of heads (%lld): each head "
                        "gets dim / heads dimensions",
                        (long long)dim, (long long)heads);
    return RECINT_OK;
}

/* ---- ordering the training rows --------------------------------------- */

typedef struct {
    int64_t t;
    uint32_t item;
} timed_item;

static int by_time(const void *pa, const void *pb)
{
    const timed_item *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

int ri_seq_ordered(const recint_dataset *ds, uint64_t **ptr_out, uint32_t **items_out)
{
    const uint64_t *ip;
    const uint32_t *idx;
    const int64_t *ts;
    int rc = recint_dataset_csr(ds, &ip, &idx, NULL, &ts);
    if (rc)
        return rc;
    const uint32_t n_users = recint_dataset_n_users(ds);
    const uint64_t nnz = ip[n_users];
    uint64_t longest = 0;
    for (uint32_t u = 0; u < n_users; u++)
        longest = ip[u + 1] - ip[u] > longest ? ip[u + 1] - ip[u] : longest;
    uint64_t *ptr = RI_NEW_ARRAY(uint64_t, (size_t)n_users + 1);
    uint32_t *items = RI_NEW_ARRAY(uint32_t, nnz ? (size_t)nnz : 1);
    timed_item *tmp = RI_NEW_ARRAY(timed_item, longest ? (size_t)longest : 1);
    if (!ptr || !items || !tmp) {
        free(ptr);
        free(items);
        free(tmp);
        return ri_error(RECINT_ENOMEM, "sequential: out of memory ordering %llu training rows",
                        (unsigned long long)nnz);
    }
    memcpy(ptr, ip, ((size_t)n_users + 1) * sizeof(uint64_t));
    for (uint32_t u = 0; u < n_users; u++) {
        const size_t n = (size_t)(ip[u + 1] - ip[u]);
        for (size_t j = 0; j < n; j++) {
            tmp[j].t = ts ? ts[ip[u] + j] : 0;
            tmp[j].item = idx[ip[u] + j];
        }
        qsort(tmp, n, sizeof *tmp, by_time);
        for (size_t j = 0; j < n; j++)
            items[ip[u] + j] = tmp[j].item;
    }
    free(tmp);
    *ptr_out = ptr;
    *items_out = items;
    return RECINT_OK;
}

/* ---- user vectors ------------------------------------------------------ */

int ri_seq_vector(const ri_seq_state *s, const uint32_t *items, size_t n, float *out)
{
    const ri_seq_arch *a = &s->arch;
    if (n > a->maxlen) {
        items += n - a->maxlen;
        n = a->maxlen;
    }
    if (n == 0) {
        memset(out, 0, a->dim * sizeof(float));
        return RECINT_OK;
    }
    const size_t bytes = ri_seq_ws_bytes(a, n, n * n);
    void *buf = bytes ? ri_aligned_alloc(bytes, 1) : NULL;
    uint32_t *meta = RI_NEW_ARRAY(uint32_t, 2 * n + 2);
    if (!buf || !meta) {
        ri_aligned_free(buf);
        free(meta);
        return ri_error(RECINT_ENOMEM, "sequential: out of memory for the workspace of a "
                        "sequence of %zu items", n);
    }
    uint32_t *offs = meta, *pos = meta + 2;
    offs[0] = 0;
    offs[1] = (uint32_t)n;
    for (size_t r = 0; r < n; r++)
        pos[r] = a->maxlen - (uint32_t)n + (uint32_t)r;
    ri_seq_rows rows = {1, offs, items, pos};
    ri_seq_ws *w = ri_seq_ws_init(a, buf, n, n * n);
    ri_seq_forward(a, s->theta, &rows, w, 0.0f, NULL);
    memcpy(out, ri_seq_ws_out(w) + (n - 1) * a->dim, a->dim * sizeof(float));
    ri_aligned_free(buf);
    free(meta);
    return RECINT_OK;
}

static int seq_user_vector(const recint_model *m, const void *state, uint32_t user, float *out)
{
    (void)m;
    const ri_seq_state *s = state;
    if (user >= s->n_users)
        return ri_error(RECINT_ERANGE, "sequential: user %u is out of range (n_users = %u)", user,
                        s->n_users);
    const uint64_t b = s->hist_ptr[user], e = s->hist_ptr[user + 1];
    return ri_seq_vector(s, s->hist + b, (size_t)(e - b), out);
}

/* The caller's items are a sequence, oldest first: their order is what the
 * model reads, and weights have no meaning here. */
static int seq_fold_in(const recint_model *m, const void *state, const uint32_t *items,
                       const float *weights, size_t n, float *out)
{
    (void)m;
    (void)weights;
    return ri_seq_vector(state, items, n, out);
}

static int seq_linear(const recint_model *m, const void *state, ri_linear_view *out)
{
    (void)m;
    const ri_seq_state *s = state;
    out->dim = s->arch.dim;
    out->item_mat = ri_seq_E(&s->arch, s->theta);
    out->item_stride = s->arch.dim;
    out->item_bias = NULL;
    out->user_mat = NULL; /* computed from the history: seq_user_vector */
    out->user_stride = 0;
    return RECINT_OK;
}

RECINT_API int recint_model_sequence_vector(const recint_model *m, const uint32_t *items,
                                            size_t n, float *user_vector)
{
    static const char fn[] = "recint_model_sequence_vector";
    if (!m || (!items && n) || !user_vector)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn,
                        !m ? "model" : !user_vector ? "user_vector" : "items");
    if (m->ops != &ri_seq_ops)
        return ri_error(RECINT_EUNSUPPORTED,
                        "%s: a '%s' model does not read sequences (kind 'sequential' does)", fn,
                        m->ops->name);
    if (!m->fitted)
        return ri_error(RECINT_ESTATE, "%s: model '%s' is not fitted", fn, m->ops->name);
    for (size_t i = 0; i < n; i++)
        if (items[i] >= m->n_items)
            return ri_error(RECINT_ERANGE, "%s: items[%zu] = %u is out of range (n_items = %u)",
                            fn, i, items[i], m->n_items);
    return ri_seq_vector(m->state, items, n, user_vector);
}

/* ---- model file -------------------------------------------------------- */

void ri_seq_state_seal(ri_seq_state *s)
{
    const ri_seq_arch *a = &s->arch;
    const uint32_t arch[A_COUNT] = {a->n_items, a->dim,  a->maxlen,          a->blocks,
                                    a->heads,   a->ffn,  (uint32_t)a->post_ln, (uint32_t)a->gelu};
    memcpy(s->arch_words, arch, sizeof arch);
}

static int seq_save(const recint_model *m, const void *state, ri_fmt_writer *w)
{
    (void)m;
    /* The writer borrows every array until the file is written, so the
     * architecture words live in the state (sealed when it was made). */
    const ri_seq_state *s = state;
    int rc = ri_fmt_add(w, TAG_ARCH, RI_FMT_U32, s->arch_words, A_COUNT * sizeof(uint32_t));
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_PARAM, RI_FMT_F32, s->theta,
                        (uint64_t)ri_seq_n_params(&s->arch) * sizeof(float));
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_HPTR, RI_FMT_U64, s->hist_ptr,
                        ((uint64_t)s->n_users + 1) * sizeof(uint64_t));
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_HIST, RI_FMT_U32, s->hist,
                        s->hist_ptr[s->n_users] * sizeof(uint32_t));
    return rc;
}

static int load_arch(const recint_model *m, const ri_fmt_reader *r, ri_seq_arch *a)
{
    const void *d;
    int rc = ri_fmt_array(r, TAG_ARCH, RI_FMT_U32, A_COUNT, &d, NULL);
    if (rc)
        return rc;
    uint32_t v[A_COUNT];
    memcpy(v, d, sizeof v);
    /* Bounds of params.def: a file outside them was not written by this library. */
    if (v[A_ITEMS] != m->n_items || v[A_DIM] < 1 || v[A_DIM] > 4096 || v[A_MAXLEN] < 1 ||
        v[A_MAXLEN] > 100000 || v[A_BLOCKS] < 1 || v[A_BLOCKS] > 64 || v[A_HEADS] < 1 ||
        v[A_DIM] % v[A_HEADS] != 0 || v[A_FFN] != v[A_DIM] || v[A_POST] > 1 || v[A_GELU] > 1)
        return ri_error(RECINT_EFORMAT,
                        "%s: section %s: architecture (items %u, dim %u, maxlen %u, blocks %u, "
                        "heads %u, ffn %u, post %u, gelu %u) is invalid or does not fit the "
                        "catalogue of %u items",
                        r->name, TAG_ARCH, v[A_ITEMS], v[A_DIM], v[A_MAXLEN], v[A_BLOCKS],
                        v[A_HEADS], v[A_FFN], v[A_POST], v[A_GELU], m->n_items);
    a->n_items = v[A_ITEMS];
    a->dim = v[A_DIM];
    a->maxlen = v[A_MAXLEN];
    a->blocks = v[A_BLOCKS];
    a->heads = v[A_HEADS];
    a->ffn = v[A_FFN];
    a->post_ln = (int)v[A_POST];
    a->gelu = (int)v[A_GELU];
    return RECINT_OK;
}

static int load_history(const recint_model *m, const ri_fmt_reader *r, const ri_seq_arch *a,
                        const uint64_t **ptr, const uint32_t **hist, uint64_t *n_hist)
{
    const void *pd, *hd;
    int rc = ri_fmt_array(r, TAG_HPTR, RI_FMT_U64, (uint64_t)m->n_users + 1, &pd, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, TAG_HIST, RI_FMT_U32, RI_FMT_ANY, &hd, n_hist);
    if (rc)
        return rc;
    const uint64_t *p = pd;
    const uint32_t *h = hd;
    if (p[0] != 0 || p[m->n_users] != *n_hist)
        return ri_error(RECINT_EFORMAT, "%s: section %s: runs %llu..%llu, expected 0..%llu",
                        r->name, TAG_HPTR, (unsigned long long)p[0],
                        (unsigned long long)p[m->n_users], (unsigned long long)*n_hist);
    for (uint32_t u = 0; u < m->n_users; u++)
        if (p[u + 1] < p[u] || p[u + 1] - p[u] > a->maxlen)
            return ri_error(RECINT_EFORMAT,
                            "%s: section %s: user %u's history runs %llu..%llu (at most maxlen "
                            "= %u items, ascending offsets)",
                            r->name, TAG_HPTR, u, (unsigned long long)p[u],
                            (unsigned long long)p[u + 1], a->maxlen);
    for (uint64_t j = 0; j < *n_hist; j++)
        if (h[j] >= m->n_items)
            return ri_error(RECINT_EFORMAT,
                            "%s: section %s: entry %llu = %u is out of range (n_items = %u)",
                            r->name, TAG_HIST, (unsigned long long)j, h[j], m->n_items);
    *ptr = p;
    *hist = h;
    return RECINT_OK;
}

static int seq_load(const recint_model *m, const ri_fmt_reader *r, void **state_out)
{
    ri_seq_arch a;
    int rc = load_arch(m, r, &a);
    if (rc)
        return rc;
    const size_t np = ri_seq_n_params(&a);
    const void *td;
    rc = ri_fmt_array(r, TAG_PARAM, RI_FMT_F32, np, &td, NULL);
    const uint64_t *ptr = NULL;
    const uint32_t *hist = NULL;
    uint64_t n_hist = 0;
    if (rc == RECINT_OK)
        rc = load_history(m, r, &a, &ptr, &hist, &n_hist);
    if (rc)
        return rc;
    const float *theta = td;
    for (size_t i = 0; i < np; i++)
        if (!isfinite(theta[i]))
            return ri_error(RECINT_EFORMAT, "%s: section %s: parameter %zu is not finite",
                            r->name, TAG_PARAM, i);
    rc = ri_fmt_charge(r, np, sizeof(float), "the network's parameters");
    if (rc == RECINT_OK)
        rc = ri_fmt_charge(r, (uint64_t)m->n_users + 1, sizeof(uint64_t), "the histories");
    if (rc == RECINT_OK)
        rc = ri_fmt_charge(r, n_hist ? n_hist : 1, sizeof(uint32_t), "the histories");
    if (rc)
        return rc;
    ri_seq_state *s = RI_NEW_ZEROED(ri_seq_state, 1);
    if (s) {
        s->arch = a;
        s->n_users = m->n_users;
        s->theta = RI_NEW_ARRAY(float, np);
        s->hist_ptr = RI_NEW_ARRAY(uint64_t, (size_t)m->n_users + 1);
        s->hist = RI_NEW_ARRAY(uint32_t, n_hist ? (size_t)n_hist : 1);
    }
    if (!s || !s->theta || !s->hist_ptr || !s->hist) {
        ri_seq_state_free(s);
        return ri_error(RECINT_ENOMEM, "%s: out of memory for a sequential model of %zu "
                        "parameters", r->name, np);
    }
    ri_seq_state_seal(s);
    memcpy(s->theta, theta, np * sizeof(float));
    memcpy(s->hist_ptr, ptr, ((size_t)m->n_users + 1) * sizeof(uint64_t));
    if (n_hist)
        memcpy(s->hist, hist, (size_t)n_hist * sizeof(uint32_t));
    *state_out = s;
    return RECINT_OK;
}

const ri_model_ops ri_seq_ops = {
    .name = "sequential",
    .check_config = seq_check_config,
    .destroy = seq_destroy,
    .fit = ri_seq_fit,
    .linear = seq_linear,
    .user_vector = seq_user_vector,
    .fold_in = seq_fold_in,
    .explain = NULL,
    .save_sections = seq_save,
    .load_sections = seq_load,
};
