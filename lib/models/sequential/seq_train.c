/* Training of the sequential kind: every user with at least two training items
 * is one sequence per epoch (its last maxlen + 1 items: each position predicts
 * the next item). An epoch visits the users in a seeded random order, in
 * batches of batch_size sequences; a batch is cut into one part per thread
 * (contiguous sequences, balanced by rows), each part runs forward, loss and
 * backward into its own gradient, and the parts' gradients are summed in part
 * order before one Adam step. Results are deterministic for a seed and a
 * thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "util/error.h"
#include "models/model_internal.h"
#include "models/model_private.h"
#include "util/parallel.h"
#include "util/sorted.h"
#include "learn/optim.h"
#include "models/sequential/seq_internal.h"

/* Documented defaults of the shared training keys, chosen on a validation split
 * of P2 (docs/sequential.md). */
#define DEFAULT_EPOCHS 40
#define DEFAULT_LR 5e-3
#define DEFAULT_SAMPLED_NEGATIVES 100
#define ADAM_B1 0.9
#define ADAM_B2 0.98
#define ADAM_EPS 1e-8

/* The loss choices this kind understands (the hybrid ones are another kind's). */
enum { LOSS_AUTO, LOSS_BCE, LOSS_SOFTMAX, LOSS_SAMPLED };
static const char *const loss_names[] = {[LOSS_AUTO] = "auto", [LOSS_BCE] = "bce",
                                         [LOSS_SOFTMAX] = "softmax",
                                         [LOSS_SAMPLED] = "sampled-softmax"};
static const char *const norm_names[] = {"pre", "post"};
static const char *const activation_names[] = {"relu", "gelu"};
static const char *const optimizer_names[] = {"auto", "adagrad", "adam"};
#define DEFAULT_LOSS RI_SEQ_SOFTMAX

int ri_seq_fit(const ri_fit_args *a, void **state_out);

int ri_seq_pick_loss(const recint_config *cfg, ri_seq_loss *out)
{
    static const ri_seq_loss losses[] = {[LOSS_AUTO] = DEFAULT_LOSS, [LOSS_BCE] = RI_SEQ_BCE,
                                         [LOSS_SOFTMAX] = RI_SEQ_SOFTMAX,
                                         [LOSS_SAMPLED] = RI_SEQ_SAMPLED};
    int loss = RI_CFG_PICK(cfg, RI_P_LOSS, loss_names);
    if (loss < 0)
        return ri_error(RECINT_EINVAL, "loss '%s' is not one of the sequential objectives "
                        "(bce, softmax, sampled-softmax)", ri_cfg_str(cfg, RI_P_LOSS));
    *out = losses[loss];
    return RECINT_OK;
}

int ri_seq_check_optimizer(const recint_config *cfg)
{
    if (RI_CFG_PICK(cfg, RI_P_OPTIMIZER, optimizer_names) == 1)
        return ri_error(RECINT_EINVAL, "optimizer adagrad is not supported "
                        "(sequential trains with adam)");
    return RECINT_OK;
}

typedef struct {
    ri_seq_arch arch;
    uint32_t epochs, batch, n_neg;
    double lr;
    float dropout;
    ri_seq_loss loss;
    unsigned threads;
    uint64_t seed;
} fit_params;

static int read_params(const ri_fit_args *a, uint32_t n_items, fit_params *p)
{
    const recint_config *mc = a->model->cfg;
    memset(p, 0, sizeof *p);
    p->arch.n_items = n_items;
    p->arch.dim = (uint32_t)ri_cfg_int(mc, RI_P_DIM);
    p->arch.ffn = p->arch.dim;
    p->arch.maxlen = (uint32_t)ri_cfg_int(mc, RI_P_MAXLEN);
    p->arch.blocks = (uint32_t)ri_cfg_int(mc, RI_P_BLOCKS);
    p->arch.heads = (uint32_t)ri_cfg_int(mc, RI_P_HEADS);
    p->arch.post_ln = RI_CFG_PICK(mc, RI_P_NORM, norm_names) == 1;
    p->arch.gelu = RI_CFG_PICK(mc, RI_P_ACTIVATION, activation_names) == 1;
    p->epochs = (uint32_t)ri_cfg_int(ri_fit_cfg(a, RI_P_EPOCHS), RI_P_EPOCHS);
    if (p->epochs == 0)
        p->epochs = DEFAULT_EPOCHS;
    p->lr = ri_cfg_float(ri_fit_cfg(a, RI_P_LEARNING_RATE), RI_P_LEARNING_RATE);
    if (!(p->lr > 0))
        p->lr = DEFAULT_LR;
    p->batch = (uint32_t)ri_cfg_int(ri_fit_cfg(a, RI_P_BATCH_SIZE), RI_P_BATCH_SIZE);
    p->dropout = (float)ri_cfg_float(ri_fit_cfg(a, RI_P_DROPOUT), RI_P_DROPOUT);
    int rc = ri_seq_pick_loss(ri_fit_cfg(a, RI_P_LOSS), &p->loss);
    if (rc == RECINT_OK)
        rc = ri_seq_check_optimizer(ri_fit_cfg(a, RI_P_OPTIMIZER));
    if (rc)
        return ri_error_prefix(rc, "sequential fit: ");
    p->n_neg = (uint32_t)ri_cfg_int(ri_fit_cfg(a, RI_P_NEGATIVES), RI_P_NEGATIVES);
    if (p->n_neg == 0)
        p->n_neg = p->loss == RI_SEQ_SAMPLED ? DEFAULT_SAMPLED_NEGATIVES : 1;
    if (p->loss == RI_SEQ_SOFTMAX)
        p->n_neg = 0;
    p->threads = ri_threads_resolve(ri_cfg_int(ri_fit_cfg(a, RI_P_THREADS), RI_P_THREADS));
    p->seed = (uint64_t)ri_cfg_int(ri_fit_cfg(a, RI_P_SEED), RI_P_SEED);
    if (p->arch.dim % p->arch.heads)
        return ri_error(RECINT_EINVAL, "sequential fit: dim %u is not a multiple of heads %u",
                        p->arch.dim, p->arch.heads);
    return RECINT_OK;
}

/* ---- one batch ------------------------------------------------------- */

typedef struct {
    /* all sequences of the batch, packed */
    uint32_t n_seq;
    uint32_t *users, *offs, *items, *pos, *target, *neg;
    /* part p's offsets rebased to its first row: loffs[s0 + p .. s1 + p] */
    uint32_t *loffs;
    /* parts: sequences part_seq[p] .. part_seq[p+1]-1 */
    uint32_t n_parts;
    uint32_t *part_seq;
} batch_rows;

typedef struct {
    const fit_params *p;
    const ri_seq_arch *arch;
    const float *theta;
    const uint64_t *seen_ptr; /* training CSR (items ascending): negatives avoid these */
    const uint32_t *seen;
    batch_rows *b;
    char *arena;          /* the parts' workspaces, one after another */
    size_t *part_off;     /* byte offset of each part's workspace in arena */
    float **grad;         /* per part */
    float **scratch;      /* per part: loss scratch */
    double *loss;         /* per part */
    double scale;
    uint64_t step;
} batch_ctx;

/* A uniform item the user has not interacted with (any item once the user's
 * history makes that hard to find). */
static uint32_t draw_negative(const batch_ctx *c, uint32_t user, ri_rng *rng)
{
    const uint64_t b = c->seen_ptr[user], n = c->seen_ptr[user + 1] - b;
    uint32_t x = 0;
    for (int tries = 0; tries < 64; tries++) {
        x = (uint32_t)ri_rng_below(rng, c->arch->n_items);
        if (!ri_sorted_has(c->seen + b, n, x))
            break;
    }
    return x;
}

static int run_part(void *vctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    batch_ctx *c = vctx;
    const ri_seq_arch *a = c->arch;
    for (size_t part = begin; part < end; part++) {
        batch_rows *b = c->b;
        const uint32_t s0 = b->part_seq[part], s1 = b->part_seq[part + 1];
        const uint32_t r0 = b->offs[s0], R = b->offs[s1] - r0;
        float *grad = c->grad[part];
        memset(grad, 0, ri_seq_n_params(a) * sizeof(float));
        c->loss[part] = 0.0;
        if (R == 0)
            continue;
        ri_rng rng;
        ri_rng_seed(&rng, c->p->seed, RI_STREAM_TRAIN + 1 + c->step * 4096 + part);
        const uint32_t K = c->p->n_neg;
        if (c->p->loss == RI_SEQ_BCE) {
            for (uint32_t q = s0; q < s1; q++)
                for (uint32_t r = b->offs[q]; r < b->offs[q + 1]; r++)
                    for (uint32_t k = 0; k < K; k++)
                        b->neg[(size_t)r * K + k] = draw_negative(c, b->users[q], &rng);
        } else if (c->p->loss == RI_SEQ_SAMPLED) {
            for (uint32_t q = s0; q < s1; q++)
                for (uint32_t k = 0; k < K; k++)
                    b->neg[(size_t)q * K + k] = (uint32_t)ri_rng_below(&rng, a->n_items);
        }
        char *mem = c->arena + c->part_off[part];
        size_t sum_sq = 0;
        for (uint32_t q = s0; q < s1; q++)
            sum_sq += (size_t)(b->offs[q + 1] - b->offs[q]) * (b->offs[q + 1] - b->offs[q]);
        ri_seq_rows rows = {s1 - s0, b->loffs + s0 + part, b->items + r0, b->pos + r0};
        const size_t wsb = ri_seq_ws_bytes(a, R, sum_sq);
        ri_seq_ws *w = ri_seq_ws_init(a, mem, R, sum_sq);
        float *dH = (float *)(mem + wsb);
        ri_seq_forward(a, c->theta, &rows, w, c->p->dropout, &rng);
        ri_seq_targets t = {c->p->loss, b->target + r0,
                            c->p->loss == RI_SEQ_BCE ? b->neg + (size_t)r0 * K
                                                     : b->neg + (size_t)s0 * K,
                            K, c->scale};
        c->loss[part] = ri_seq_loss_eval(a, &rows, ri_seq_ws_out(w), ri_seq_E(a, (float *)c->theta),
                                         &t, dH, ri_seq_E(a, grad), c->scratch[part]);
        ri_seq_backward(a, c->theta, &rows, w, c->p->dropout, dH, grad);
    }
    return RECINT_OK;
}

/* ---- the fit ----------------------------------------------------------- */

typedef struct {
    fit_params p;
    ri_seq_state *s;
    uint64_t *optr;  /* all training items per user in time order */
    uint32_t *oitems;
    uint32_t *order; /* users with >= 2 items */
    uint32_t n_train;
    batch_rows b;
    float *m, *v, *gsum, *best;
    float **grad, **scratch;
    double *loss;
    char *arena;
    size_t arena_cap, *part_off;
} fit_ctx;

static void fit_free(fit_ctx *f)
{
    free(f->optr);
    free(f->oitems);
    free(f->order);
    free(f->b.users);
    free(f->b.offs);
    free(f->b.loffs);
    free(f->b.items);
    free(f->b.pos);
    free(f->b.target);
    free(f->b.neg);
    free(f->b.part_seq);
    free(f->m);
    free(f->v);
    free(f->gsum);
    free(f->best);
    for (unsigned i = 0; f->grad && i < f->p.threads; i++)
        free(f->grad[i]);
    for (unsigned i = 0; f->scratch && i < f->p.threads; i++)
        free(f->scratch[i]);
    free(f->grad);
    free(f->scratch);
    free(f->loss);
    ri_aligned_free(f->arena);
    free(f->part_off);
}

static uint32_t seq_rows_of(const fit_ctx *f, uint32_t u)
{
    const uint64_t n = f->optr[u + 1] - f->optr[u];
    return n - 1 < f->p.arch.maxlen ? (uint32_t)(n - 1) : f->p.arch.maxlen;
}

static int fit_alloc(fit_ctx *f, uint32_t n_users)
{
    const fit_params *p = &f->p;
    const size_t np = ri_seq_n_params(&p->arch), L = p->arch.maxlen, B = p->batch;
    const size_t rows = B * L; /* bound of a batch's rows */
    f->order = RI_NEW_ARRAY(uint32_t, n_users ? n_users : 1);
    f->b.users = RI_NEW_ARRAY(uint32_t, B);
    f->b.offs = RI_NEW_ARRAY(uint32_t, B + 1);
    f->b.loffs = RI_NEW_ARRAY(uint32_t, B + 1 + p->threads);
    f->b.items = ri_malloc_array(rows, sizeof(uint32_t));
    f->b.pos = ri_malloc_array(rows, sizeof(uint32_t));
    f->b.target = ri_malloc_array(rows, sizeof(uint32_t));
    f->b.neg = ri_malloc_array(p->loss == RI_SEQ_BCE ? rows : B, (size_t)(p->n_neg ? p->n_neg : 1) * sizeof(uint32_t));
    f->b.part_seq = RI_NEW_ARRAY(uint32_t, p->threads + 1);
    f->m = RI_NEW_ZEROED(float, np);
    f->v = RI_NEW_ZEROED(float, np);
    f->gsum = RI_NEW_ARRAY(float, np);
    f->grad = RI_NEW_ZEROED(float *, p->threads);
    f->scratch = RI_NEW_ZEROED(float *, p->threads);
    f->loss = RI_NEW_ZEROED(double, p->threads);
    f->part_off = RI_NEW_ZEROED(size_t, p->threads + 1);
    int ok = f->order && f->b.users && f->b.offs && f->b.loffs && f->b.items && f->b.pos && f->b.target &&
             f->b.neg && f->b.part_seq && f->m && f->v && f->gsum && f->grad && f->scratch &&
             f->loss && f->part_off;
    const size_t ls = ri_seq_loss_scratch(&p->arch, p->loss, p->n_neg);
    for (unsigned i = 0; ok && i < p->threads; i++) {
        f->grad[i] = RI_NEW_ARRAY(float, np);
        f->scratch[i] = RI_NEW_ARRAY(float, ls);
        ok = f->grad[i] && f->scratch[i];
    }
    if (!ok)
        return ri_error(RECINT_ENOMEM, "sequential fit: out of memory for %zu parameters and "
                        "batches of %zu sequences", np, B);
    return RECINT_OK;
}

/* Pack the sequences of users order[first .. first+n) and cut them into parts. */
static void pack_batch(fit_ctx *f, uint32_t first, uint32_t n)
{
    batch_rows *b = &f->b;
    const uint32_t L = f->p.arch.maxlen;
    uint32_t r = 0;
    b->n_seq = n;
    for (uint32_t q = 0; q < n; q++) {
        const uint32_t u = f->order[first + q];
        const uint32_t len = seq_rows_of(f, u);
        const uint32_t *it = f->oitems + f->optr[u + 1] - len - 1;
        b->users[q] = u;
        b->offs[q] = r;
        for (uint32_t i = 0; i < len; i++, r++) {
            b->items[r] = it[i];
            b->target[r] = it[i + 1];
            b->pos[r] = L - len + i;
        }
    }
    b->offs[n] = r;
    /* Part p ends at the first sequence boundary past p/parts of the work: a
     * sequence of n rows costs about n (3 dim + n) per block (the position-wise
     * products, then attention, which grows with n^2). */
    b->n_parts = f->p.threads;
    b->part_seq[0] = 0;
    uint64_t total = 0;
    for (uint32_t q = 0; q < n; q++) {
        const uint64_t len = b->offs[q + 1] - b->offs[q];
        total += len * (3 * (uint64_t)f->p.arch.dim + len);
    }
    uint64_t acc = 0;
    uint32_t q = 0;
    for (uint32_t p = 1; p < b->n_parts; p++) {
        const uint64_t want = total * p / b->n_parts;
        while (q < n && acc < want) {
            const uint64_t len = b->offs[q + 1] - b->offs[q];
            acc += len * (3 * (uint64_t)f->p.arch.dim + len);
            q++;
        }
        b->part_seq[p] = q;
    }
    b->part_seq[b->n_parts] = n;
    for (uint32_t p = 0; p < b->n_parts; p++)
        for (uint32_t s = b->part_seq[p]; s <= b->part_seq[p + 1]; s++)
            b->loffs[s + p] = b->offs[s] - b->offs[b->part_seq[p]];
}

static int ensure_arena(fit_ctx *f)
{
    const ri_seq_arch *a = &f->p.arch;
    batch_rows *b = &f->b;
    size_t total = 0;
    for (uint32_t p = 0; p < b->n_parts; p++) {
        const uint32_t s0 = b->part_seq[p], s1 = b->part_seq[p + 1];
        const size_t R = b->offs[s1] - b->offs[s0];
        size_t sq = 0;
        for (uint32_t q = s0; q < s1; q++)
            sq += (size_t)(b->offs[q + 1] - b->offs[q]) * (b->offs[q + 1] - b->offs[q]);
        f->part_off[p] = total;
        const size_t ws = ri_seq_ws_bytes(a, R, sq);
        total += ws + ((R * a->dim * sizeof(float) + 63) & ~(size_t)63);
    }
    if (total <= f->arena_cap)
        return RECINT_OK;
    /* grow with headroom so that a slightly larger batch does not reallocate */
    const size_t cap = total + total / 4;
    ri_aligned_free(f->arena);
    f->arena = ri_aligned_alloc(cap, 1);
    f->arena_cap = f->arena ? cap : 0;
    if (!f->arena)
        return ri_error(RECINT_ENOMEM, "sequential fit: out of memory for %zu bytes of "
                        "activations", cap);
    return RECINT_OK;
}

static void adam_step(fit_ctx *f, uint64_t t)
{
    const size_t np = ri_seq_n_params(&f->p.arch);
    float *theta = f->s->theta;
    const ri_adam ad = ri_adam_at(f->p.lr, ADAM_B1, ADAM_B2, ADAM_EPS, t);
    for (size_t i = 0; i < np; i++) {
        float g = 0.0f;
        for (uint32_t p = 0; p < f->b.n_parts; p++)
            g += f->grad[p][i];
        ri_adam_update(&theta[i], &f->m[i], &f->v[i], g, &ad);
    }
}

static void shuffle(uint32_t *x, uint32_t n, ri_rng *rng)
{
    for (uint32_t i = n; i > 1; i--) {
        const uint32_t j = (uint32_t)ri_rng_below(rng, i);
        const uint32_t t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
}

/* The state's histories: each user's last maxlen items in time order. */
static int build_history(fit_ctx *f, uint32_t n_users)
{
    ri_seq_state *s = f->s;
    const uint32_t L = f->p.arch.maxlen;
    s->hist_ptr = RI_NEW_ARRAY(uint64_t, (size_t)n_users + 1);
    uint64_t total = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        const uint64_t n = f->optr[u + 1] - f->optr[u];
        total += n < L ? n : L;
    }
    s->hist = RI_NEW_ARRAY(uint32_t, total ? (size_t)total : 1);
    if (!s->hist_ptr || !s->hist)
        return ri_error(RECINT_ENOMEM, "sequential fit: out of memory for %llu history items",
                        (unsigned long long)total);
    s->hist_ptr[0] = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        const uint64_t n = f->optr[u + 1] - f->optr[u], k = n < L ? n : L;
        memcpy(s->hist + s->hist_ptr[u], f->oitems + f->optr[u + 1] - k, (size_t)k * sizeof(uint32_t));
        s->hist_ptr[u + 1] = s->hist_ptr[u] + k;
    }
    return RECINT_OK;
}

static int run_epoch(fit_ctx *f, const ri_fit_args *a, uint32_t epoch, uint64_t *step,
                     double *epoch_loss)
{
    const fit_params *p = &f->p;
    ri_rng rng;
    ri_rng_seed(&rng, p->seed, RI_STREAM_TRAIN + 2 + epoch);
    shuffle(f->order, f->n_train, &rng);
    const uint64_t *seen_ptr;
    const uint32_t *seen;
    int rc = recint_dataset_csr(a->train, &seen_ptr, &seen, NULL, NULL);
    double total = 0.0;
    for (uint32_t first = 0; rc == RECINT_OK && first < f->n_train; first += p->batch) {
        const uint32_t n = f->n_train - first < p->batch ? f->n_train - first : p->batch;
        pack_batch(f, first, n);
        rc = ensure_arena(f);
        if (rc)
            break;
        (*step)++;
        batch_ctx c = {p, &p->arch, f->s->theta, seen_ptr, seen, &f->b, f->arena, f->part_off,
                       f->grad, f->scratch, f->loss, 1.0 / (double)f->b.offs[n], *step};
        rc = ri_parallel_for(p->threads, f->b.n_parts, 1, run_part, &c);
        if (rc)
            break;
        for (uint32_t q = 0; q < f->b.n_parts; q++)
            total += f->loss[q];
        adam_step(f, *step);
    }
    *epoch_loss = total / (double)((f->n_train + p->batch - 1) / p->batch);
    return rc;
}

/* What the epoch driver steps through. */
typedef struct {
    fit_ctx *f;
    const ri_fit_args *a;
    uint64_t step; /* Adam steps so far */
} seq_run;

static int seq_pass(void *kind, uint32_t ep, double *loss)
{
    seq_run *r = kind;
    return run_epoch(r->f, r->a, ep, &r->step, loss);
}

static int seq_keep(void *kind, int restore)
{
    fit_ctx *f = ((seq_run *)kind)->f;
    const size_t np = ri_seq_n_params(&f->p.arch);
    if (restore) {
        memcpy(f->s->theta, f->best, np * sizeof(float));
        return RECINT_OK;
    }
    if (!f->best && !(f->best = RI_NEW_ARRAY(float, np)))
        return ri_error(RECINT_ENOMEM, "sequential fit: out of memory for the best state's %zu "
                        "parameters", np);
    memcpy(f->best, f->s->theta, np * sizeof(float));
    return RECINT_OK;
}

int ri_seq_fit(const ri_fit_args *a, void **state_out)
{
    *state_out = NULL;
    const uint32_t n_users = recint_dataset_n_users(a->train);
    const uint32_t n_items = recint_dataset_n_items(a->train);
    fit_ctx f;
    memset(&f, 0, sizeof f);
    int rc = read_params(a, n_items, &f.p);
    if (rc)
        return rc;
    f.s = RI_NEW_ZEROED(ri_seq_state, 1);
    if (!f.s)
        return ri_error(RECINT_ENOMEM, "sequential fit: out of memory");
    f.s->arch = f.p.arch;
    f.s->n_users = n_users;
    ri_seq_state_seal(f.s);
    const size_t np = ri_seq_n_params(&f.p.arch);
    f.s->theta = RI_NEW_ARRAY(float, np);
    if (!f.s->theta)
        rc = ri_error(RECINT_ENOMEM, "sequential fit: out of memory for %zu parameters", np);
    if (rc == RECINT_OK)
        rc = ri_seq_ordered(a->train, &f.optr, &f.oitems);
    if (rc == RECINT_OK)
        rc = fit_alloc(&f, n_users);
    if (rc == RECINT_OK)
        rc = build_history(&f, n_users);
    if (rc) {
        ri_seq_state_free(f.s);
        fit_free(&f);
        return rc;
    }
    ri_seq_init_params(&f.p.arch, f.s->theta, f.p.seed);
    for (uint32_t u = 0; u < n_users; u++)
        if (f.optr[u + 1] - f.optr[u] >= 2)
            f.order[f.n_train++] = u;
    /* Validation serves early stopping only. */
    seq_run r = {&f, a, 0};
    const ri_epoch_steps steps = {"sequential fit", "epoch", f.n_train > 0 ? f.p.epochs : 0,
                                  seq_pass, NULL, seq_keep, f.s, 1};
    rc = ri_fit_epochs(a, &steps, &r);
    fit_free(&f);
    if (rc && rc != RECINT_ECANCELED) {
        ri_seq_state_free(f.s);
        return rc;
    }
    /* canceled: the last complete epoch (or best validated state) is kept */
    *state_out = f.s;
    return rc;
}
