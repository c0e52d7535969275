/* Kind "hybrid" (LightFM-like): the state, its linear view, save/load and
 * fold-in. The model is described in hybrid_internal.h, training in
 * hybrid_fit.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "util/error.h"
#include "data/features_internal.h"
#include "models/hybrid/hybrid_internal.h"
#include "learn/loss.h"
#include "models/model_private.h"
#include "util/parallel.h"
#include "util/rng.h"

/* Per-loss defaults, chosen on a validation split carved from the P1 training
 * data (docs/hybrid.md shows the search). Index: HYB_LOSS_*. */
static const uint32_t default_epochs[] = {10, 20, 100, 10, 10};
static const double default_lr[] = {0.05, 0.05, 0.1, 0.1, 0.05};
static const int default_history[] = {HYB_HIST_NONE, HYB_HIST_NONE, HYB_HIST_NONE,
                                      HYB_HIST_MEAN_ONLY, HYB_HIST_NONE};

static const double default_halflife[] = {0, 0, 0, 20, 0};

double ri_hyb_default_halflife(int loss) { return default_halflife[loss]; }

int ri_hyb_resolve_history(const recint_config *cfg, int loss)
{
    static const char *const names[] = {
        [HYB_HIST_AUTO] = "auto",           [HYB_HIST_NONE] = "none",
        [HYB_HIST_SQRT] = "sqrt",           [HYB_HIST_MEAN] = "mean",
        [HYB_HIST_SQRT_ONLY] = "sqrt-only", [HYB_HIST_MEAN_ONLY] = "mean-only"};
    int h = RI_CFG_PICK(cfg, RI_P_USER_HISTORY, names);
    return h == HYB_HIST_AUTO ? default_history[loss] : h;
}

/* HYB_LOSS_* of cfg's loss, -1 for a loss of another kind. */
static int pick_loss(const recint_config *cfg)
{
    static const char *const names[] = {
        [HYB_LOSS_AUTO] = "auto", [HYB_LOSS_LOGISTIC] = "logistic", [HYB_LOSS_BPR] = "bpr",
        [HYB_LOSS_WARP] = "warp", [HYB_LOSS_WARP_KOS] = "warp-kos"};
    return RI_CFG_PICK(cfg, RI_P_LOSS, names);
}

int ri_hyb_resolve_loss(const recint_config *cfg)
{
    int loss = pick_loss(cfg);
    return loss >= HYB_LOSS_LOGISTIC ? loss : HYB_LOSS_WARP;
}

int ri_hyb_check_loss(const recint_config *cfg, const char *what)
{
    if (pick_loss(cfg) < 0)
        return ri_error(RECINT_EINVAL, "%s: loss '%s' belongs to another kind (hybrid: "
                        "logistic|bpr|warp|warp-kos)", what, ri_cfg_str(cfg, RI_P_LOSS));
    return RECINT_OK;
}

uint32_t ri_hyb_default_epochs(int loss) { return default_epochs[loss]; }
double ri_hyb_default_lr(int loss) { return default_lr[loss]; }

int ri_hyb_side_is_identity(const hyb_side *s) { return s->indptr == NULL; }

static void side_free(hyb_side *s)
{
    free(s->indptr);
    free(s->idx);
    free(s->val);
    free(s->emb);
    free(s->bias);
    if (s->rep != s->emb)
        free(s->rep);
    if (s->rep_bias != s->bias)
        free(s->rep_bias);
    free(s->m1);
    free(s->m2);
    free(s->steps);
}

void ri_hyb_destroy(void *state)
{
    hyb_state *s = state;
    if (!s)
        return;
    ri_hyb_history_free(s); /* first: hsum may be user.emb */
    side_free(&s->user);
    side_free(&s->item);
    free(s);
}

void ri_hyb_history_free(hyb_state *s)
{
    free(s->hptr);
    free(s->hidx);
    free(s->hval);
    free(s->hemb);
    if (s->umat != s->hsum)
        free(s->umat);
    if (s->hsum != s->user.emb)
        free(s->hsum);
    free(s->hm1);
    free(s->hgrad);
    s->hptr = NULL;
    s->hidx = NULL;
    s->hval = s->hemb = s->hsum = s->umat = s->hm1 = s->hgrad = NULL;
}

/* History item order within a user: by timestamp, then by CSR position. */
typedef struct {
    int64_t ts;
    uint64_t pos;
} hist_entry;

static int cmp_hist_entry(const void *pa, const void *pb)
{
    const hist_entry *a = pa, *b = pb;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Weight of position p (0 oldest) of n history items: the last item 1, each
 * halflife positions older half as much (halflife 0: all alike), normalised
 * to sum 1 (mean) or to norm 1 (sqrt). */
static float hist_weight(size_t p, size_t n, int mode, float halflife)
{
    if (halflife <= 0)
        return HYB_HIST_IS_MEAN(mode) ? 1.0f / (float)n : 1.0f / sqrtf((float)n);
    const double r = log(0.5) / halflife;
    double norm = 0;
    if (HYB_HIST_IS_MEAN(mode))
        norm = (1.0 - exp(r * (double)n)) / (1.0 - exp(r));
    else
        norm = sqrt((1.0 - exp(2.0 * r * (double)n)) / (1.0 - exp(2.0 * r)));
    return (float)(exp(r * (double)(n - 1 - p)) / norm);
}

void ri_hyb_history_weights(float *out, size_t n, int mode, float halflife)
{
    for (size_t p = 0; p < n; p++)
        out[p] = hist_weight(p, n, mode, halflife);
}

int ri_hyb_history_set(hyb_state *s, int mode, float halflife, const uint64_t *ptr,
                       const uint32_t *idx, const float *w, const int64_t *ts)
{
    const uint32_t rows = s->user.rows, d = s->dim;
    uint64_t nnz = 0, longest = 0;
    for (uint32_t u = 0; u < rows; u++) {
        uint64_t n = 0;
        for (uint64_t e = ptr[u]; e < ptr[u + 1]; e++)
            n += !w || w[e] > 0;
        nnz += n;
        longest = n > longest ? n : longest;
    }
    uint64_t *hp = RI_NEW_ARRAY(uint64_t, (size_t)rows + 1);
    uint32_t *hi = RI_NEW_ARRAY(uint32_t, nnz ? (size_t)nnz : 1);
    float *hv = RI_NEW_ARRAY(float, nnz ? (size_t)nnz : 1);
    float *he = ri_calloc_array(s->item.rows ? s->item.rows : 1, (size_t)d * sizeof(float));
    /* A history-only user with identity features is its history sum: the
     * identity embedding table (never trained) holds it, and serves it. */
    const int alias = HYB_HIST_IS_ONLY(mode) && ri_hyb_side_is_identity(&s->user) && s->user.emb;
    float *hs = alias ? s->user.emb : ri_malloc_array(rows ? rows : 1, (size_t)d * sizeof(float));
    float *um = alias ? hs : ri_malloc_array(rows ? rows : 1, (size_t)d * sizeof(float));
    hist_entry *order = ts ? RI_NEW_ARRAY(hist_entry, longest ? (size_t)longest : 1) : NULL;
    if (!hp || !hi || !hv || !he || !hs || !um || (ts && !order)) {
        free(hp);
        free(hi);
        free(hv);
        free(he);
        if (!alias) {
            free(hs);
            free(um);
        }
        free(order);
        return ri_error(RECINT_ENOMEM, "hybrid: out of memory for the history of %u users "
                        "(%llu items)", rows, (unsigned long long)nnz);
    }
    uint64_t k = 0;
    for (uint32_t u = 0; u < rows; u++) {
        hp[u] = k;
        if (ts) {
            /* oldest first, so that a position says how recent an item is */
            size_t n = 0;
            for (uint64_t e = ptr[u]; e < ptr[u + 1]; e++)
                if (!w || w[e] > 0)
                    order[n++] = (hist_entry){ts[e], e};
            qsort(order, n, sizeof *order, cmp_hist_entry);
            for (size_t t = 0; t < n; t++)
                hi[k++] = idx[order[t].pos];
        } else {
            for (uint64_t e = ptr[u]; e < ptr[u + 1]; e++)
                if (!w || w[e] > 0)
                    hi[k++] = idx[e];
        }
        ri_hyb_history_weights(hv + hp[u], (size_t)(k - hp[u]), mode, halflife);
    }
    hp[rows] = k;
    free(order);
    ri_hyb_history_free(s);
    s->hist = (uint32_t)mode;
    s->hhalf = halflife;
    s->hptr = hp;
    s->hidx = hi;
    s->hval = hv;
    s->hemb = he;
    s->hsum = hs;
    s->umat = um;
    return RECINT_OK;
}

/* Flatten a feature matrix's blocks into one CSR with ascending columns (blocks
 * are side by side, so walking them in order keeps columns ascending). A single
 * identity block stays implicit. Exact zeros of dense blocks are left out: they
 * contribute nothing and cost a step each. */
static int side_features(hyb_side *s, uint32_t rows, const recint_features *f, const char *what)
{
    s->rows = rows;
    if (!f || (f->n_blocks == 1 && f->blocks[0].kind == RI_FEAT_IDENTITY)) {
        if (f && f->rows != rows)
            return ri_error(RECINT_EINVAL, "hybrid fit: %s features have %u rows, the training "
                            "catalogue has %u", what, f->rows, rows);
        s->cols = rows;
        return RECINT_OK;
    }
    if (f->rows != rows)
        return ri_error(RECINT_EINVAL, "hybrid fit: %s features have %u rows, the training "
                        "catalogue has %u", what, f->rows, rows);
    s->cols = f->cols;
    uint64_t nnz = 0;
    for (uint32_t r = 0; r < rows; r++)
        for (size_t b = 0; b < f->n_blocks; b++)
            nnz += ri_feat_block_row_nnz(&f->blocks[b], r);
    if (nnz > SIZE_MAX / sizeof(float))
        return ri_error(RECINT_ENOMEM, "hybrid fit: %llu %s feature entries do not fit in memory",
                        (unsigned long long)nnz, what);
    s->indptr = RI_NEW_ARRAY(uint64_t, (size_t)rows + 1);
    s->idx = RI_NEW_ARRAY(uint32_t, nnz ? (size_t)nnz : 1);
    s->val = RI_NEW_ARRAY(float, nnz ? (size_t)nnz : 1);
    if (!s->indptr || !s->idx || !s->val)
        return ri_error(RECINT_ENOMEM, "hybrid fit: out of memory for %llu %s feature entries",
                        (unsigned long long)nnz, what);
    uint64_t k = 0;
    for (uint32_t r = 0; r < rows; r++) {
        s->indptr[r] = k;
        for (size_t bi = 0; bi < f->n_blocks; bi++) {
            const ri_feat_block *b = &f->blocks[bi];
            if (b->kind == RI_FEAT_IDENTITY) {
                s->idx[k] = b->col_offset + r;
                s->val[k++] = 1.0f;
            } else if (b->kind == RI_FEAT_DENSE) {
                const float *row = b->data + (size_t)r * b->cols;
                for (uint32_t c = 0; c < b->cols; c++)
                    if (row[c] != 0.0f) {
                        s->idx[k] = b->col_offset + c;
                        s->val[k++] = row[c];
                    }
            } else {
                for (uint64_t e = b->indptr[r]; e < b->indptr[r + 1]; e++) {
                    s->idx[k] = b->col_offset + b->indices[e];
                    s->val[k++] = b->weights[e];
                }
            }
        }
    }
    s->indptr[rows] = k;
    return RECINT_OK;
}

/* Parameters and representations of a side whose features are in place. */
static int side_params(hyb_side *s, uint32_t dim)
{
    s->emb = ri_malloc_array((size_t)s->cols, (size_t)dim * sizeof(float));
    s->bias = RI_NEW_ZEROED(float, s->cols);
    if (!s->emb || !s->bias)
        return RECINT_ENOMEM;
    if (ri_hyb_side_is_identity(s)) {
        s->rep = s->emb;
        s->rep_bias = s->bias;
        return RECINT_OK;
    }
    s->rep = ri_malloc_array((size_t)(s->rows ? s->rows : 1), (size_t)dim * sizeof(float));
    s->rep_bias = RI_NEW_ZEROED(float, s->rows ? s->rows : 1);
    return s->rep && s->rep_bias ? RECINT_OK : RECINT_ENOMEM;
}

int ri_hyb_state_new(hyb_state **out, uint32_t n_users, uint32_t n_items, uint32_t dim,
                     const recint_features *uf, const recint_features *itf)
{
    hyb_state *s = RI_NEW_ZEROED(hyb_state, 1);
    if (!s)
        return ri_error(RECINT_ENOMEM, "hybrid: out of memory");
    s->dim = dim;
    int rc = side_features(&s->user, n_users, uf, "user");
    if (rc == RECINT_OK)
        rc = side_features(&s->item, n_items, itf, "item");
    if (rc == RECINT_OK && (side_params(&s->user, dim) || side_params(&s->item, dim)))
        rc = ri_error(RECINT_ENOMEM, "hybrid: out of memory for %u user and %u item feature "
                      "embeddings of dim %u", s->user.cols, s->item.cols, dim);
    if (rc) {
        ri_hyb_destroy(s);
        return rc;
    }
    *out = s;
    return RECINT_OK;
}

typedef struct {
    const hyb_side *side;
    uint32_t dim;
} refresh_job;

static int refresh_range(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    const refresh_job *j = ctx;
    const hyb_side *s = j->side;
    const uint32_t d = j->dim;
    for (size_t r = begin; r < end; r++) {
        float *out = s->rep + r * d;
        double b = 0;
        memset(out, 0, d * sizeof(float));
        for (uint64_t e = s->indptr[r]; e < s->indptr[r + 1]; e++) {
            const float x = s->val[e];
            const float *w = s->emb + (size_t)s->idx[e] * d;
            for (uint32_t k = 0; k < d; k++)
                out[k] += x * w[k];
            b += (double)x * s->bias[s->idx[e]];
        }
        s->rep_bias[r] = (float)b;
    }
    return RECINT_OK;
}

/* hsum and umat of users begin..end (history on). */
static int refresh_hist_range(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    const hyb_state *s = ctx;
    const uint32_t d = s->dim;
    for (size_t u = begin; u < end; u++) {
        float *h = s->hsum + u * d, *out = s->umat + u * d;
        const float *base = s->user.rep + u * d;
        memset(h, 0, d * sizeof(float));
        for (uint64_t e = s->hptr[u]; e < s->hptr[u + 1]; e++) {
            const float x = s->hval[e];
            const float *w = s->hemb + (size_t)s->hidx[e] * d;
            for (uint32_t k = 0; k < d; k++)
                h[k] += x * w[k];
        }
        if (out != h)
            for (uint32_t k = 0; k < d; k++)
                out[k] = base[k] + h[k];
    }
    return RECINT_OK;
}

int ri_hyb_refresh(hyb_state *s, unsigned threads)
{
    const hyb_side *sides[2] = {&s->user, &s->item};
    for (int k = 0; k < 2; k++) {
        if (ri_hyb_side_is_identity(sides[k]))
            continue;
        refresh_job j = {sides[k], s->dim};
        int rc = ri_parallel_for(threads, sides[k]->rows, 256, refresh_range, &j);
        if (rc)
            return rc;
    }
    return ri_hyb_refresh_history(s, threads);
}

int ri_hyb_refresh_history(hyb_state *s, unsigned threads)
{
    if (!s->hemb)
        return RECINT_OK;
    return ri_parallel_for(threads, s->user.rows, 64, refresh_hist_range, s);
}

static int hyb_check_config(const recint_config *cfg)
{
    int rc = ri_hyb_check_loss(cfg, "hybrid");
    if (rc)
        return rc;
    if (ri_cfg_int(cfg, RI_P_KOS_K) > ri_cfg_int(cfg, RI_P_KOS_N))
        return ri_error(RECINT_EINVAL, "hybrid: kos_k (%lld) must not exceed kos_n (%lld)",
                        (long long)ri_cfg_int(cfg, RI_P_KOS_K), (long long)ri_cfg_int(cfg, RI_P_KOS_N));
    return RECINT_OK;
}

static int hyb_linear(const recint_model *m, const void *state, ri_linear_view *out)
{
    (void)m;
    const hyb_state *s = state;
    out->dim = s->dim;
    out->item_mat = s->item.rep;
    out->item_stride = s->dim;
    out->item_bias = s->item.rep_bias;
    out->user_mat = s->umat ? s->umat : s->user.rep;
    out->user_stride = s->dim;
    return RECINT_OK;
}

/* ------------------------------------------------------------------------ */
/* Save and load                                                            */
/* ------------------------------------------------------------------------ */

#define TAG_DIM "HYBDIM"
/* User history (absent: none): mode, per-user CSR of items and weights, table. */
#define TAG_HMODE "HHMODE"
#define TAG_HPTR "HHPTR"
#define TAG_HIDX "HHIDX"
#define TAG_HVAL "HHVAL"
#define TAG_HEMB "HHEMB"
#define TAG_HHALF "HHHALF"
/* Per side (U or I): embeddings, biases, and for non-identity features the CSR. */
static const char *const side_tags[2][5] = {{"HUEMB", "HUBIAS", "HUPTR", "HUIDX", "HUVAL"},
                                            {"HIEMB", "HIBIAS", "HIPTR", "HIIDX", "HIVAL"}};

static int save_side(const hyb_side *s, uint32_t dim, const char *const tags[5], ri_fmt_writer *w)
{
    int rc = ri_fmt_add(w, tags[0], RI_FMT_F32, s->emb, (uint64_t)s->cols * dim * sizeof(float));
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, tags[1], RI_FMT_F32, s->bias, (uint64_t)s->cols * sizeof(float));
    if (rc || ri_hyb_side_is_identity(s))
        return rc;
    const uint64_t nnz = s->indptr[s->rows];
    rc = ri_fmt_add(w, tags[2], RI_FMT_U64, s->indptr, ((uint64_t)s->rows + 1) * sizeof(uint64_t));
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, tags[3], RI_FMT_U32, s->idx, nnz * sizeof(uint32_t));
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, tags[4], RI_FMT_F32, s->val, nnz * sizeof(float));
    return rc;
}

static int hyb_save(const recint_model *m, const void *state, ri_fmt_writer *w)
{
    (void)m;
    const hyb_state *s = state;
    int rc = ri_fmt_add(w, TAG_DIM, RI_FMT_U32, &s->dim, sizeof s->dim);
    if (rc == RECINT_OK)
        rc = save_side(&s->user, s->dim, side_tags[0], w);
    if (rc == RECINT_OK)
        rc = save_side(&s->item, s->dim, side_tags[1], w);
    if (rc || !s->hemb)
        return rc;
    const uint64_t nnz = s->hptr[s->user.rows];
    rc = ri_fmt_add(w, TAG_HMODE, RI_FMT_U32, &s->hist, sizeof s->hist);
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_HPTR, RI_FMT_U64, s->hptr, ((uint64_t)s->user.rows + 1) * sizeof(uint64_t));
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_HIDX, RI_FMT_U32, s->hidx, nnz * sizeof(uint32_t));
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_HVAL, RI_FMT_F32, s->hval, nnz * sizeof(float));
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_HHALF, RI_FMT_F32, &s->hhalf, sizeof s->hhalf);
    if (rc == RECINT_OK)
        rc = ri_fmt_add(w, TAG_HEMB, RI_FMT_F32, s->hemb,
                        (uint64_t)s->item.rows * s->dim * sizeof(float));
    return rc;
}

static int finite_floats(const ri_fmt_reader *r, const char *tag, const float *v, uint64_t n)
{
    for (uint64_t k = 0; k < n; k++)
        if (!isfinite(v[k]))
            return ri_error(RECINT_EFORMAT, "%s: section %s: value %llu is not finite", r->name,
                            tag, (unsigned long long)k);
    return RECINT_OK;
}

/* The features of a side from the file (validated), or identity when absent. */
static int load_side_features(const ri_fmt_reader *r, const char *const tags[5], uint32_t rows,
                              hyb_side *s)
{
    ri_fmt_section sec;
    s->rows = rows;
    if (ri_fmt_find(r, tags[2], &sec) != RECINT_OK) {
        s->cols = rows;
        return RECINT_OK;
    }
    const void *pd, *id, *vd, *bd;
    uint64_t nnz, n_emb;
    int rc = ri_fmt_array(r, tags[2], RI_FMT_U64, (uint64_t)rows + 1, &pd, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, tags[3], RI_FMT_U32, RI_FMT_ANY, &id, &nnz);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, tags[4], RI_FMT_F32, nnz, &vd, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, tags[1], RI_FMT_F32, RI_FMT_ANY, &bd, &n_emb);
    if (rc)
        return rc;
    if (n_emb > UINT32_MAX || n_emb == 0)
        return ri_error(RECINT_EFORMAT, "%s: section %s: %llu feature columns", r->name, tags[1],
                        (unsigned long long)n_emb);
    s->cols = (uint32_t)n_emb;
    const uint64_t *ptr = pd;
    const uint32_t *idx = id;
    if (ptr[0] != 0 || ptr[rows] != nnz)
        return ri_error(RECINT_EFORMAT, "%s: section %s: runs %llu..%llu, expected 0..%llu",
                        r->name, tags[2], (unsigned long long)ptr[0],
                        (unsigned long long)ptr[rows], (unsigned long long)nnz);
    for (uint32_t u = 0; u < rows; u++) {
        if (ptr[u + 1] < ptr[u])
            return ri_error(RECINT_EFORMAT, "%s: section %s: entry %u decreases", r->name,
                            tags[2], u + 1);
        for (uint64_t e = ptr[u]; e < ptr[u + 1]; e++)
            if (idx[e] >= s->cols || (e > ptr[u] && idx[e] <= idx[e - 1]))
                return ri_error(RECINT_EFORMAT, "%s: section %s: entry %llu (%u) is out of range "
                                "(%u columns) or not ascending", r->name, tags[3],
                                (unsigned long long)e, idx[e], s->cols);
    }
    rc = finite_floats(r, tags[4], vd, nnz);
    if (rc == RECINT_OK)
        rc = ri_fmt_charge(r, (uint64_t)rows + 1 + (nnz ? nnz : 1), sizeof(uint64_t),
                           "the feature rows");
    if (rc)
        return rc;
    s->indptr = RI_NEW_ARRAY(uint64_t, (size_t)rows + 1);
    s->idx = RI_NEW_ARRAY(uint32_t, nnz ? (size_t)nnz : 1);
    s->val = RI_NEW_ARRAY(float, nnz ? (size_t)nnz : 1);
    if (!s->indptr || !s->idx || !s->val)
        return ri_error(RECINT_ENOMEM, "%s: out of memory for %llu feature entries", r->name,
                        (unsigned long long)nnz);
    memcpy(s->indptr, ptr, ((size_t)rows + 1) * sizeof(uint64_t));
    if (nnz) {
        memcpy(s->idx, idx, (size_t)nnz * sizeof(uint32_t));
        memcpy(s->val, vd, (size_t)nnz * sizeof(float));
    }
    return RECINT_OK;
}

static int load_side_params(const ri_fmt_reader *r, const char *const tags[5], uint32_t dim,
                            hyb_side *s)
{
    const void *ed, *bd;
    int rc = ri_fmt_array(r, tags[0], RI_FMT_F32, (uint64_t)s->cols * dim, &ed, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, tags[1], RI_FMT_F32, s->cols, &bd, NULL);
    if (rc == RECINT_OK)
        rc = finite_floats(r, tags[0], ed, (uint64_t)s->cols * dim);
    if (rc == RECINT_OK)
        rc = finite_floats(r, tags[1], bd, s->cols);
    /* side_params: the embeddings, and for feature rows their representations
     * (rows x dim derived from a file that may hold a few bytes per row) */
    if (rc == RECINT_OK)
        rc = ri_fmt_charge(r, (uint64_t)s->cols * ((uint64_t)dim + 1), sizeof(float),
                           "the feature embeddings");
    if (rc == RECINT_OK && !ri_hyb_side_is_identity(s))
        rc = ri_fmt_charge(r, (uint64_t)(s->rows ? s->rows : 1) * ((uint64_t)dim + 1),
                           sizeof(float), "the representations of the feature rows");
    if (rc)
        return rc;
    if (side_params(s, dim))
        return ri_error(RECINT_ENOMEM, "%s: out of memory for %u embeddings of dim %u", r->name,
                        s->cols, dim);
    memcpy(s->emb, ed, (size_t)s->cols * dim * sizeof(float));
    memcpy(s->bias, bd, (size_t)s->cols * sizeof(float));
    return RECINT_OK;
}

/* The user history of the file (validated like the features), if it has one. */
static int load_history(const ri_fmt_reader *r, hyb_state *s)
{
    ri_fmt_section sec;
    if (ri_fmt_find(r, TAG_HMODE, &sec) != RECINT_OK)
        return RECINT_OK;
    const uint32_t rows = s->user.rows, d = s->dim;
    const void *md, *pd, *id, *vd, *ed;
    uint64_t nnz;
    int rc = ri_fmt_array(r, TAG_HMODE, RI_FMT_U32, 1, &md, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, TAG_HPTR, RI_FMT_U64, (uint64_t)rows + 1, &pd, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, TAG_HIDX, RI_FMT_U32, RI_FMT_ANY, &id, &nnz);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, TAG_HVAL, RI_FMT_F32, nnz, &vd, NULL);
    if (rc == RECINT_OK)
        rc = ri_fmt_array(r, TAG_HEMB, RI_FMT_F32, (uint64_t)s->item.rows * d, &ed, NULL);
    if (rc)
        return rc;
    uint32_t mode;
    memcpy(&mode, md, sizeof mode);
    float half = 0.0f;
    if (ri_fmt_find(r, TAG_HHALF, &sec) == RECINT_OK) {
        const void *hd;
        rc = ri_fmt_array(r, TAG_HHALF, RI_FMT_F32, 1, &hd, NULL);
        if (rc)
            return rc;
        memcpy(&half, hd, sizeof half);
        if (!isfinite(half) || half < 0)
            return ri_error(RECINT_EFORMAT, "%s: section %s: half-life %g is not finite and >= 0",
                            r->name, TAG_HHALF, (double)half);
    }
    if (mode < HYB_HIST_SQRT || mode > HYB_HIST_MEAN_ONLY)
        return ri_error(RECINT_EFORMAT, "%s: section %s: history mode %u is not one of %d..%d",
                        r->name, TAG_HMODE, mode, HYB_HIST_SQRT, HYB_HIST_MEAN_ONLY);
    const uint64_t *ptr = pd;
    const uint32_t *idx = id;
    if (ptr[0] != 0 || ptr[rows] != nnz)
        return ri_error(RECINT_EFORMAT, "%s: section %s: runs %llu..%llu, expected 0..%llu",
                        r->name, TAG_HPTR, (unsigned long long)ptr[0],
                        (unsigned long long)ptr[rows], (unsigned long long)nnz);
    for (uint32_t u = 0; u < rows; u++)
        if (ptr[u + 1] < ptr[u])
            return ri_error(RECINT_EFORMAT, "%s: section %s: entry %u decreases", r->name,
                            TAG_HPTR, u + 1);
    for (uint64_t e = 0; e < nnz; e++)
        if (idx[e] >= s->item.rows)
            return ri_error(RECINT_EFORMAT, "%s: section %s: entry %llu (%u) is out of range "
                            "(%u items)", r->name, TAG_HIDX, (unsigned long long)e, idx[e],
                            s->item.rows);
    rc = finite_floats(r, TAG_HVAL, vd, nnz);
    if (rc == RECINT_OK)
        rc = finite_floats(r, TAG_HEMB, ed, (uint64_t)s->item.rows * d);
    /* ri_hyb_history_set: the CSR, the table, and per user the history sum and
     * the whole representation unless both live in the identity table */
    const int alias = HYB_HIST_IS_ONLY(mode) && ri_hyb_side_is_identity(&s->user) && s->user.emb;
    const uint64_t nu = rows ? rows : 1;
    if (rc == RECINT_OK)
        rc = ri_fmt_charge(r, (uint64_t)rows + 1 + (nnz ? nnz : 1), sizeof(uint64_t),
                           "the user histories");
    if (rc == RECINT_OK)
        rc = ri_fmt_charge(r, ((uint64_t)(s->item.rows ? s->item.rows : 1) + (alias ? 0 : 2 * nu)) * d,
                           sizeof(float), "the history embeddings and sums");
    if (rc)
        return rc;
    /* the CSR as it was saved (weights included), then the saved values */
    rc = ri_hyb_history_set(s, (int)mode, half, ptr, idx, NULL, NULL);
    if (rc)
        return rc;
    if (nnz)
        memcpy(s->hval, vd, (size_t)nnz * sizeof(float));
    memcpy(s->hemb, ed, (size_t)s->item.rows * d * sizeof(float));
    return RECINT_OK;
}

/* Finite parameters can still sum to infinite representations (float
 * overflow); serving them would rank by NaN, and saving them (a history-only
 * model keeps its sums in the user table) would write a file load refuses. */
static int derived_finite(const ri_fmt_reader *r, const char *what, const float *v, uint64_t n)
{
    for (uint64_t k = 0; k < n; k++)
        if (!isfinite(v[k]))
            return ri_error(RECINT_EFORMAT, "%s: the %s computed from the file are not finite "
                            "(value %llu overflows float)", r->name, what, (unsigned long long)k);
    return RECINT_OK;
}

static int check_derived(const ri_fmt_reader *r, const hyb_state *s)
{
    const hyb_side *sides[2] = {&s->user, &s->item};
    static const char *const names[2][2] = {{"user representations", "user biases"},
                                            {"item representations", "item biases"}};
    int rc = RECINT_OK;
    for (int k = 0; k < 2 && rc == RECINT_OK; k++) {
        if (ri_hyb_side_is_identity(sides[k]))
            continue; /* rep is emb, checked as read */
        rc = derived_finite(r, names[k][0], sides[k]->rep, (uint64_t)sides[k]->rows * s->dim);
        if (rc == RECINT_OK)
            rc = derived_finite(r, names[k][1], sides[k]->rep_bias, sides[k]->rows);
    }
    if (rc == RECINT_OK && s->hemb)
        rc = derived_finite(r, "user history sums", s->hsum, (uint64_t)s->user.rows * s->dim);
    if (rc == RECINT_OK && s->umat && s->umat != s->hsum)
        rc = derived_finite(r, "user vectors", s->umat, (uint64_t)s->user.rows * s->dim);
    return rc;
}

static int hyb_load(const recint_model *m, const ri_fmt_reader *r, void **state_out)
{
    const void *d;
    int rc = ri_fmt_array(r, TAG_DIM, RI_FMT_U32, 1, &d, NULL);
    if (rc)
        return rc;
    uint32_t dim;
    memcpy(&dim, d, sizeof dim);
    if (dim != (uint32_t)ri_cfg_int(m->cfg, RI_P_DIM))
        return ri_error(RECINT_EFORMAT, "%s: section %s: dim %u differs from the saved config's "
                        "dim %lld", r->name, TAG_DIM, dim, (long long)ri_cfg_int(m->cfg, RI_P_DIM));
    hyb_state *s = RI_NEW_ZEROED(hyb_state, 1);
    if (!s)
        return ri_error(RECINT_ENOMEM, "%s: out of memory", r->name);
    s->dim = dim;
    rc = load_side_features(r, side_tags[0], m->n_users, &s->user);
    if (rc == RECINT_OK)
        rc = load_side_features(r, side_tags[1], m->n_items, &s->item);
    if (rc == RECINT_OK)
        rc = load_side_params(r, side_tags[0], dim, &s->user);
    if (rc == RECINT_OK)
        rc = load_side_params(r, side_tags[1], dim, &s->item);
    if (rc == RECINT_OK)
        rc = load_history(r, s);
    if (rc == RECINT_OK)
        rc = ri_hyb_refresh(s, 1);
    if (rc == RECINT_OK)
        rc = check_derived(r, s);
    if (rc) {
        ri_hyb_destroy(s);
        return rc;
    }
    *state_out = s;
    return RECINT_OK;
}

/* ------------------------------------------------------------------------ */
/* Fold-in                                                                  */
/* ------------------------------------------------------------------------ */

/* Fold-in keeps its moments on the stack up to this dim. */
#define FOLD_STACK_DIM 512

static float fold_score(const float *x, const hyb_state *s, uint32_t item)
{
    const float *w = s->item.rep + (size_t)item * s->dim;
    float acc = s->item.rep_bias[item];
    for (uint32_t k = 0; k < s->dim; k++)
        acc += x[k] * w[k];
    return acc;
}

/* x += adagrad step of gradient coef * (rep(pos) - rep(neg)) (neg UINT32_MAX: none)
 * plus user_alpha * x. */
static void fold_step(float *x, float *acc, const float *h, const hyb_state *s, uint32_t pos,
                      float d_pos, uint32_t neg, float d_neg, float lr, float alpha)
{
    const uint32_t d = s->dim;
    const float *wp = s->item.rep + (size_t)pos * d;
    const float *wn = neg != UINT32_MAX ? s->item.rep + (size_t)neg * d : NULL;
    for (uint32_t k = 0; k < d; k++) {
        /* the penalty is on the identity part only, as in training */
        float g = d_pos * wp[k] + (wn ? d_neg * wn[k] : 0.0f) + alpha * (x[k] - h[k]);
        acc[k] += g * g;
        x[k] -= lr * g / sqrtf(acc[k]);
    }
}

/* A few passes of the model's own loss over the given items, on a user vector
 * that starts at zero (plus the history part), with the item side fixed: a new
 * user with identity user features is exactly a fresh identity row. Negatives come from a generator
 * seeded by the model's seed, so the result is a function of the arguments. */
static int hyb_fold_in(const recint_model *m, const void *state, const uint32_t *items,
                       const float *weights, size_t n, float *out)
{
    const hyb_state *s = state;
    const uint32_t d = s->dim, n_items = s->item.rows;
    float stack[3 * FOLD_STACK_DIM], *heap = NULL, *x = stack;
    if (d > FOLD_STACK_DIM) {
        heap = ri_malloc_array(3 * (size_t)d, sizeof(float));
        if (!heap)
            return ri_error(RECINT_ENOMEM, "hybrid fold-in: out of memory at dim %u", d);
        x = heap;
    }
    float *acc = x + d, *h = x + 2 * d;
    for (uint32_t k = 0; k < d; k++) {
        h[k] = 0.0f;
        acc[k] = 1.0f;
    }
    /* With a user history the new user's history part is their items' history
     * embeddings, weighted as in training; the steps below then learn the
     * identity part on top of it (x = h + identity part). */
    if (s->hemb) {
        size_t cnt = 0;
        for (size_t t = 0; t < n; t++)
            cnt += !weights || weights[t] > 0;
        /* the items' order is their history order (oldest first), as in training */
        size_t pos = 0;
        for (size_t t = 0; t < n; t++) {
            if (weights && !(weights[t] > 0))
                continue;
            const float hx = hist_weight(pos++, cnt, (int)s->hist, s->hhalf);
            const float *w = s->hemb + (size_t)items[t] * d;
            for (uint32_t k = 0; k < d; k++)
                h[k] += hx * w[k];
        }
    }
    memcpy(x, h, d * sizeof(float));
    const int loss = ri_hyb_resolve_loss(m->cfg);
    /* a history-only model has no identity part to learn */
    const uint32_t epochs = s->hemb && HYB_HIST_IS_ONLY(s->hist) && ri_hyb_side_is_identity(&s->user)
                                ? 0 : (uint32_t)ri_cfg_int(m->cfg, RI_P_FOLD_IN_EPOCHS);
    const uint32_t max_sampled = (uint32_t)ri_cfg_int(m->cfg, RI_P_MAX_SAMPLED);
    const float lr = (float)(ri_cfg_float(m->cfg, RI_P_LEARNING_RATE) > 0
                                 ? ri_cfg_float(m->cfg, RI_P_LEARNING_RATE)
                                 : ri_hyb_default_lr(loss));
    const float alpha = (float)ri_cfg_float(m->cfg, RI_P_USER_ALPHA);
    ri_rng rng;
    ri_rng_seed(&rng, (uint64_t)ri_cfg_int(m->cfg, RI_P_SEED), RI_STREAM_TRAIN + 0xF01D);
    for (uint32_t e = 0; e < epochs; e++) {
        for (size_t t = 0; t < n; t++) {
            const uint32_t i = items[t];
            const float w = weights ? weights[t] : 1.0f;
            if (!(w > 0))
                continue;
            float sp = fold_score(x, s, i), dp, dn;
            if (loss == HYB_LOSS_LOGISTIC) {
                ri_loss_logistic(sp, 1, &dp);
                fold_step(x, acc, h, s, i, w * dp, UINT32_MAX, 0, lr, alpha);
                uint32_t j = (uint32_t)ri_rng_below(&rng, n_items);
                ri_loss_logistic(fold_score(x, s, j), 0, &dn);
                fold_step(x, acc, h, s, j, w * dn, UINT32_MAX, 0, lr, alpha);
            } else if (loss == HYB_LOSS_BPR) {
                uint32_t j = (uint32_t)ri_rng_below(&rng, n_items);
                ri_loss_bpr(sp, fold_score(x, s, j), &dp, &dn);
                fold_step(x, acc, h, s, i, w * dp, j, w * dn, lr, alpha);
            } else {
                for (uint32_t tries = 1; tries <= max_sampled; tries++) {
                    uint32_t j = (uint32_t)ri_rng_below(&rng, n_items);
                    float sn = fold_score(x, s, j);
                    if (j == i || sn <= sp - 1.0f)
                        continue;
                    ri_loss_warp(sp, sn, ri_loss_warp_rank_weight(n_items, tries), &dp, &dn);
                    fold_step(x, acc, h, s, i, w * dp, j, w * dn, lr, alpha);
                    break;
                }
            }
        }
    }
    memcpy(out, x, d * sizeof(float));
    free(heap);
    return RECINT_OK;
}

static int hyb_partial(const ri_fit_args *a, const void *old_state, void **state_out)
{
    return ri_hyb_partial_fit(a, old_state, state_out);
}

/* A feature row's representation: the same sum the training rows get, with no
 * history part (a new row has none: fold_in gives a user's from items). */
static int hyb_feature_vector(const recint_model *m, const void *state, int side,
                              const uint32_t *cols, const float *weights, size_t n, float *out,
                              float *bias)
{
    (void)m;
    const hyb_state *s = state;
    const hyb_side *sd = side == RECINT_SIDE_USER ? &s->user : &s->item;
    for (size_t j = 0; j < n; j++)
        if (cols[j] >= sd->cols)
            return ri_error(RECINT_ERANGE,
                            "recint_model_feature_vector: cols[%zu] = %u is out of range (the %s "
                            "features have %u columns)",
                            j, cols[j], side == RECINT_SIDE_USER ? "user" : "item", sd->cols);
    double b = 0.0;
    for (uint32_t d = 0; d < s->dim; d++)
        out[d] = 0.0f;
    for (size_t j = 0; j < n; j++) {
        float w = weights ? weights[j] : 1.0f;
        const float *e = sd->emb + (size_t)cols[j] * s->dim;
        for (uint32_t d = 0; d < s->dim; d++)
            out[d] += w * e[d];
        b += (double)w * sd->bias[cols[j]];
    }
    if (bias)
        *bias = (float)b;
    return RECINT_OK;
}

const ri_model_ops ri_hybrid_ops = {
    .name = "hybrid",
    .check_config = hyb_check_config,
    .destroy = ri_hyb_destroy,
    .fit = ri_hyb_fit,
    .linear = hyb_linear,
    .user_vector = NULL, /* user_mat holds them */
    .fold_in = hyb_fold_in,
    .feature_vector = hyb_feature_vector,
    .explain = NULL,
    .save_sections = hyb_save,
    .load_sections = hyb_load,
    .uses_features = 1,
    .partial_fit = hyb_partial,
};
