/* Planted-interest synthetic interactions (the model is described in docs/synthetic.md).
 *
 * Two passes keep memory proportional to the output: the per-user counts are drawn
 * first (sequential, cheap) and become the CSR row pointers; then users are filled
 * in parallel, each writing straight into its final row. Every group of SYN_GROUP
 * users draws from its own random stream, so the arrays do not depend on the thread
 * count or on how the groups are scheduled. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/config.h"
#include "data/dataset_internal.h"
#include "util/error.h"
#include "data/features_internal.h"
#include "data/idmap.h"
#include "util/parallel.h"
#include "util/rng.h"

#define SYN_T0 INT64_C(1600000000)
#define SYN_SPAN (INT64_C(3) * 365 * 86400)
#define SYN_GROUP 1024          /* users per random stream */
#define SYN_TRIES 32            /* draws per new item before the fallback */
#define SYN_MAX_MIX 4           /* up to 3 clusters + 1 new one from drift */

/* Random streams of the sequential parts; user groups use SYN_STREAM_USERS + group. */
#define SYN_STREAM_ITEMS (RI_STREAM_SYNTHETIC + 0)
#define SYN_STREAM_COUNTS (RI_STREAM_SYNTHETIC + 1)
#define SYN_STREAM_FEATURES (RI_STREAM_SYNTHETIC + 2)
#define SYN_STREAM_PLAYS (RI_STREAM_SYNTHETIC + 3)
#define SYN_STREAM_USERS (RI_STREAM_SYNTHETIC + 16)

typedef struct {
    uint32_t users, items, clusters, feature_dim;
    uint64_t interactions;
    uint64_t lo, cap; /* bounds of the per-user count */
    double zipf, noise, drift;
    uint64_t seed;
    unsigned threads;
    int heavy; /* syn_counts=heavy */
} syn_shape;

/* Walker/Vose alias table over n outcomes: O(1) draws. */
typedef struct {
    double *prob;
    uint32_t *alias;
} alias_table;

typedef struct {
    const syn_shape *sh;
    uint32_t *item_cluster; /* items */
    uint32_t *members;      /* items grouped by cluster */
    uint64_t *cstart;       /* clusters + 1: cluster c is members[cstart[c] .. cstart[c+1]) */
    uint32_t *nonempty;     /* clusters that hold at least one item */
    uint32_t n_nonempty;
    alias_table global;     /* over item indices */
    alias_table local;      /* per cluster, indices local to the cluster's members */
    /* output */
    const uint64_t *indptr;
    uint32_t *indices;
    float *weights;
    int64_t *timestamps;
} syn_ctx;

/* ---------------------------------------------------------------- shape */

static int read_shape(const recint_config *cfg, syn_shape *sh)
{
    /* Rows in the order of syn_scale's choices after "custom": S, M, L. */
    static const struct {
        uint32_t users, items;
        uint64_t interactions;
    } presets[] = {{100000, 20000, 2000000}, {500000, 100000, 10000000}, {2000000, 200000, 50000000}};
    memset(sh, 0, sizeof *sh);
    sh->users = (uint32_t)ri_cfg_int(cfg, RI_P_SYN_USERS);
    sh->items = (uint32_t)ri_cfg_int(cfg, RI_P_SYN_ITEMS);
    sh->interactions = (uint64_t)ri_cfg_int(cfg, RI_P_SYN_INTERACTIONS);
    static const char *const scales[] = {"custom", "S", "M", "L"}; /* presets[scale - 1] */
    int scale = RI_CFG_PICK(cfg, RI_P_SYN_SCALE, scales);
    if (scale >= 1 && (size_t)scale <= sizeof presets / sizeof presets[0]) {
        /* A preset gives the shape; keys set explicitly still win. */
        if (!ri_cfg_is_set(cfg, RI_P_SYN_USERS))
            sh->users = presets[scale - 1].users;
        if (!ri_cfg_is_set(cfg, RI_P_SYN_ITEMS))
            sh->items = presets[scale - 1].items;
        if (!ri_cfg_is_set(cfg, RI_P_SYN_INTERACTIONS))
            sh->interactions = presets[scale - 1].interactions;
    }
    sh->clusters = (uint32_t)ri_cfg_int(cfg, RI_P_SYN_CLUSTERS);
    sh->feature_dim = (uint32_t)ri_cfg_int(cfg, RI_P_SYN_FEATURE_DIM);
    sh->zipf = ri_cfg_float(cfg, RI_P_SYN_ZIPF);
    sh->noise = ri_cfg_float(cfg, RI_P_SYN_NOISE);
    sh->drift = ri_cfg_float(cfg, RI_P_SYN_DRIFT);
    sh->seed = (uint64_t)ri_cfg_int(cfg, RI_P_SEED);
    sh->threads = ri_threads_resolve(ri_cfg_int(cfg, RI_P_THREADS));
    static const char *const counts[] = {"repeats", "heavy"};
    int cnt = RI_CFG_PICK(cfg, RI_P_SYN_COUNTS, counts);
    if (cnt < 0)
        return ri_error(RECINT_EINVAL, "synthetic: syn_counts '%s' is not repeats or heavy",
                        ri_cfg_str(cfg, RI_P_SYN_COUNTS));
    sh->heavy = cnt == 1;

    if (sh->users == 0 || sh->items == 0 || sh->clusters == 0)
        return ri_error(RECINT_EINVAL, "synthetic: syn_users (%u), syn_items (%u) and syn_clusters (%u) must be >= 1",
                        sh->users, sh->items, sh->clusters);
    sh->lo = sh->items < 2 ? sh->items : 2;
    sh->cap = sh->items / 20 > 2 ? sh->items / 20 : 2;
    if (sh->cap > sh->items)
        sh->cap = sh->items;
    uint64_t most = (uint64_t)sh->users * sh->cap, least = (uint64_t)sh->users * sh->lo;
    if (sh->interactions > most)
        return ri_error(RECINT_EINVAL,
                        "synthetic: syn_interactions %llu > syn_users %u x %llu items per user at most "
                        "(max(2, syn_items/20) with syn_items %u) = %llu",
                        (unsigned long long)sh->interactions, sh->users, (unsigned long long)sh->cap,
                        sh->items, (unsigned long long)most);
    if (sh->interactions < least)
        return ri_error(RECINT_EINVAL,
                        "synthetic: syn_interactions %llu < syn_users %u x %llu items per user at least = %llu",
                        (unsigned long long)sh->interactions, sh->users, (unsigned long long)sh->lo,
                        (unsigned long long)least);
    return RECINT_OK;
}

/* ---------------------------------------------------------------- items */

static int alias_alloc(alias_table *t, uint32_t n)
{
    t->prob = RI_NEW_ARRAY(double, n);
    t->alias = RI_NEW_ARRAY(uint32_t, n);
    return t->prob && t->alias ? RECINT_OK : RECINT_ENOMEM;
}

static void alias_free(alias_table *t)
{
    free(t->prob);
    free(t->alias);
}

/* Vose's construction over w[0..n) (positive), into prob/alias; work holds 2n slots. */
static void alias_build(const double *w, uint32_t n, double *prob, uint32_t *alias, uint32_t *work)
{
    double total = 0.0;
    for (uint32_t i = 0; i < n; i++)
        total += w[i];
    uint32_t *small = work, *large = work + n;
    uint32_t ns = 0, nl = 0;
    for (uint32_t i = 0; i < n; i++) {
        prob[i] = w[i] * n / total;
        alias[i] = i;
        if (prob[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
        uint32_t s = small[--ns], l = large[nl - 1];
        alias[s] = l;
        prob[l] -= 1.0 - prob[s];
        if (prob[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* What is left is 1 up to rounding. */
    while (nl > 0)
        prob[large[--nl]] = 1.0;
    while (ns > 0)
        prob[small[--ns]] = 1.0;
}

static inline uint32_t alias_draw(const double *prob, const uint32_t *alias, uint32_t n, ri_rng *r)
{
    uint32_t j = (uint32_t)ri_rng_below(r, n);
    return ri_rng_uniform(r) < prob[j] ? j : alias[j];
}

static void items_free(syn_ctx *c)
{
    free(c->item_cluster);
    free(c->members);
    free(c->cstart);
    free(c->nonempty);
    alias_free(&c->global);
    alias_free(&c->local);
}

/* Popularity (random Zipf rank), cluster of every item, and the sampling tables. */
static int items_build(syn_ctx *c)
{
    const syn_shape *sh = c->sh;
    uint32_t I = sh->items, C = sh->clusters;
    double *w = RI_NEW_ARRAY(double, I), *wc = RI_NEW_ARRAY(double, I);
    uint32_t *rank = RI_NEW_ARRAY(uint32_t, I), *work = ri_malloc_array((size_t)I, 2 * sizeof(uint32_t));
    c->item_cluster = RI_NEW_ARRAY(uint32_t, I);
    c->members = RI_NEW_ARRAY(uint32_t, I);
    c->cstart = RI_NEW_ZEROED(uint64_t, (size_t)C + 1);
    c->nonempty = RI_NEW_ARRAY(uint32_t, C);
    int rc = (w && wc && rank && work && c->item_cluster && c->members && c->cstart && c->nonempty)
                 ? RECINT_OK
                 : RECINT_ENOMEM;
    if (rc == RECINT_OK)
        rc = alias_alloc(&c->global, I);
    if (rc == RECINT_OK)
        rc = alias_alloc(&c->local, I);
    if (rc != RECINT_OK) {
        free(w), free(wc), free(rank), free(work);
        return ri_error(RECINT_ENOMEM, "synthetic: cannot allocate the tables of %u items", I);
    }

    ri_rng r;
    ri_rng_seed(&r, sh->seed, SYN_STREAM_ITEMS);
    for (uint32_t i = 0; i < I; i++)
        rank[i] = i + 1;
    for (uint32_t i = I; i > 1; i--) { /* Fisher-Yates */
        uint32_t j = (uint32_t)ri_rng_below(&r, i);
        uint32_t t = rank[i - 1];
        rank[i - 1] = rank[j];
        rank[j] = t;
    }
    for (uint32_t i = 0; i < I; i++) {
        w[i] = pow((double)rank[i], -sh->zipf);
        c->item_cluster[i] = (uint32_t)ri_rng_below(&r, C);
        c->cstart[c->item_cluster[i] + 1]++;
    }
    for (uint32_t k = 0; k < C; k++)
        c->cstart[k + 1] += c->cstart[k];
    /* Counting sort keeps members in item order within a cluster. */
    {
        uint64_t *next = RI_NEW_ARRAY(uint64_t, C);
        if (!next) {
            free(w), free(wc), free(rank), free(work);
            return ri_error(RECINT_ENOMEM, "synthetic: cannot allocate %u cluster slots", C);
        }
        memcpy(next, c->cstart, (size_t)C * sizeof(uint64_t));
        for (uint32_t i = 0; i < I; i++)
            c->members[next[c->item_cluster[i]]++] = i;
        free(next);
    }
    alias_build(w, I, c->global.prob, c->global.alias, work);
    c->n_nonempty = 0;
    for (uint32_t k = 0; k < C; k++) {
        uint64_t b = c->cstart[k], n = c->cstart[k + 1] - b;
        if (n == 0)
            continue;
        c->nonempty[c->n_nonempty++] = k;
        for (uint64_t j = 0; j < n; j++)
            wc[b + j] = w[c->members[b + j]];
        alias_build(wc + b, (uint32_t)n, c->local.prob + b, c->local.alias + b, work);
    }
    free(w), free(wc), free(rank), free(work);
    return RECINT_OK;
}

/* ---------------------------------------------------------------- counts */

static uint64_t clipped_count(double x, double s, uint64_t lo, uint64_t cap)
{
    double v = floor(x * s);
    if (v <= (double)lo)
        return lo;
    if (v >= (double)cap)
        return cap;
    return (uint64_t)v;
}

static uint64_t counts_total(const double *x, uint32_t n, double s, uint64_t lo, uint64_t cap)
{
    uint64_t t = 0;
    for (uint32_t u = 0; u < n; u++)
        t += clipped_count(x[u], s, lo, cap);
    return t;
}

/* n_u ~ LogNormal(0, 1) scaled so that the clipped counts sum to the exact total: the
 * clipped sum is monotone in the scale, so bisect it, then hand the last few units
 * (ties at the jump) one by one to users below the cap. Writes counts to n[1..users]. */
static int user_counts(const syn_shape *sh, uint64_t *n)
{
    uint32_t U = sh->users;
    double *x = RI_NEW_ARRAY(double, U);
    if (!x)
        return ri_error(RECINT_ENOMEM, "synthetic: cannot allocate counts of %u users", U);
    ri_rng r;
    ri_rng_seed(&r, sh->seed, SYN_STREAM_COUNTS);
    double sum = 0.0;
    for (uint32_t u = 0; u < U; u++) {
        x[u] = exp(ri_rng_normal(&r));
        sum += x[u];
    }
    double lo_s = 0.0, hi_s = (double)sh->interactions / sum * 2.0 + 1.0;
    while (counts_total(x, U, hi_s, sh->lo, sh->cap) < sh->interactions)
        hi_s *= 2.0;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo_s + hi_s);
        if (mid <= lo_s || mid >= hi_s)
            break;
        uint64_t t = counts_total(x, U, mid, sh->lo, sh->cap);
        if (t <= sh->interactions)
            lo_s = mid;
        else
            hi_s = mid;
        if (t == sh->interactions)
            break;
    }
    uint64_t total = 0;
    for (uint32_t u = 0; u < U; u++) {
        n[u + 1] = clipped_count(x[u], lo_s, sh->lo, sh->cap);
        total += n[u + 1];
    }
    free(x);
    /* total <= interactions <= users * cap, so this ends within one or two sweeps. */
    uint32_t u = (uint32_t)ri_rng_below(&r, U);
    while (total < sh->interactions) {
        if (n[u + 1] < sh->cap) {
            n[u + 1]++;
            total++;
        }
        u = u + 1 == U ? 0 : u + 1;
    }
    n[0] = 0;
    for (uint32_t v = 0; v < U; v++)
        n[v + 1] += n[v];
    return RECINT_OK;
}

/* ---------------------------------------------------------------- users */

typedef struct {
    uint32_t *items;   /* cap */
    float *weights;    /* cap */
    double *times;     /* cap + 1 */
    uint64_t *keys;    /* cap */
    uint32_t *hkey;    /* hash of held items: item + 1, 0 empty */
    uint32_t *hval;    /* slot in items[] */
    uint32_t hbits;
} syn_scratch;

typedef struct {
    uint32_t k;                  /* clusters of the mixtures (k0 <= k) */
    uint32_t cl[SYN_MAX_MIX];
    double mix0[SYN_MAX_MIX], mix1[SYN_MAX_MIX];
} syn_user;

static void scratch_free(syn_scratch *s)
{
    free(s->items);
    free(s->weights);
    free(s->times);
    free(s->keys);
    free(s->hkey);
    free(s->hval);
}

static int scratch_alloc(syn_scratch *s, uint64_t cap)
{
    memset(s, 0, sizeof *s);
    size_t hsize = 16;
    while (hsize < 2 * cap)
        hsize *= 2;
    s->items = RI_NEW_ARRAY(uint32_t, cap);
    s->weights = RI_NEW_ARRAY(float, cap);
    s->times = RI_NEW_ARRAY(double, cap + 1);
    s->keys = RI_NEW_ARRAY(uint64_t, cap);
    s->hkey = RI_NEW_ARRAY(uint32_t, hsize);
    s->hval = RI_NEW_ARRAY(uint32_t, hsize);
    if (!s->items || !s->weights || !s->times || !s->keys || !s->hkey || !s->hval) {
        scratch_free(s);
        return ri_error(RECINT_ENOMEM, "synthetic: cannot allocate per-thread buffers for %llu items",
                        (unsigned long long)cap);
    }
    return RECINT_OK;
}

static inline uint32_t hash_slot(const syn_scratch *s, uint32_t item)
{
    return (uint32_t)(((uint64_t)item * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - s->hbits));
}

/* Slot of item in items[], or UINT32_MAX (and *pos set to the empty bucket). */
static inline uint32_t hash_find(const syn_scratch *s, uint32_t item, uint32_t *pos)
{
    uint32_t mask = (1u << s->hbits) - 1, h = hash_slot(s, item);
    while (s->hkey[h] != 0) {
        if (s->hkey[h] == item + 1)
            return s->hval[h];
        h = (h + 1) & mask;
    }
    *pos = h;
    return UINT32_MAX;
}

static void dirichlet1(ri_rng *r, double *m, uint32_t k)
{
    double t = 0.0;
    for (uint32_t j = 0; j < k; j++) {
        m[j] = -log(1.0 - ri_rng_uniform(r)) + 1e-300;
        t += m[j];
    }
    for (uint32_t j = 0; j < k; j++)
        m[j] /= t;
}

static int holds_cluster(const uint32_t *cl, uint32_t k, uint32_t c)
{
    for (uint32_t j = 0; j < k; j++)
        if (cl[j] == c)
            return 1;
    return 0;
}

/* 1-3 distinct clusters with mix0 ~ Dirichlet(1); mix1 a fresh Dirichlet(1) over the
 * same clusters plus one cluster new to the user (when one exists). */
static void user_interests(const syn_ctx *c, ri_rng *r, syn_user *us)
{
    uint32_t k0 = 1 + (uint32_t)ri_rng_below(r, 3);
    if (k0 > c->n_nonempty)
        k0 = c->n_nonempty;
    uint32_t k = k0 < c->n_nonempty ? k0 + 1 : k0;
    for (uint32_t j = 0; j < k; j++) {
        uint32_t pick;
        do
            pick = c->nonempty[ri_rng_below(r, c->n_nonempty)];
        while (holds_cluster(us->cl, j, pick));
        us->cl[j] = pick;
    }
    us->k = k;
    dirichlet1(r, us->mix0, k0);
    for (uint32_t j = k0; j < k; j++)
        us->mix0[j] = 0.0;
    dirichlet1(r, us->mix1, k);
}

static uint32_t draw_cluster(const syn_ctx *c, const syn_user *us, double t, ri_rng *r)
{
    double a = c->sh->drift * t, m[SYN_MAX_MIX], total = 0.0;
    for (uint32_t j = 0; j < us->k; j++) {
        m[j] = (1.0 - a) * us->mix0[j] + a * us->mix1[j];
        total += m[j];
    }
    double u = ri_rng_uniform(r) * total;
    uint32_t j = 0;
    while (j + 1 < us->k && u >= m[j]) {
        u -= m[j];
        j++;
    }
    return j;
}

static uint32_t draw_in_cluster(const syn_ctx *c, uint32_t cluster, ri_rng *r)
{
    uint64_t b = c->cstart[cluster];
    uint32_t n = (uint32_t)(c->cstart[cluster + 1] - b);
    return c->members[b + alias_draw(c->local.prob + b, c->local.alias + b, n, r)];
}

static uint32_t draw_event(const syn_ctx *c, const syn_user *us, double t, ri_rng *r)
{
    if (c->sh->noise > 0.0 && ri_rng_uniform(r) < c->sh->noise)
        return alias_draw(c->global.prob, c->global.alias, c->sh->items, r);
    return draw_in_cluster(c, us->cl[draw_cluster(c, us, t, r)], r);
}

/* An item the user does not hold: first in a cluster of the user's current mixture
 * (then their other clusters), so a saturated favourite stays on-topic; only when
 * all of them are full, anywhere. There is always one: n_u <= items. */
static uint32_t fallback_item(const syn_ctx *c, const syn_scratch *s, const syn_user *us, double t,
                              ri_rng *r, uint32_t *pos)
{
    uint32_t first = draw_cluster(c, us, t, r);
    for (uint32_t j = 0; j < us->k; j++) {
        uint32_t cl = us->cl[(first + j) % us->k];
        uint64_t b = c->cstart[cl], n = c->cstart[cl + 1] - b;
        uint64_t start = ri_rng_below(r, n);
        for (uint64_t q = 0; q < n; q++) {
            uint32_t item = c->members[b + (start + q) % n];
            if (hash_find(s, item, pos) == UINT32_MAX)
                return item;
        }
    }
    uint32_t I = c->sh->items, start = (uint32_t)ri_rng_below(r, I);
    for (uint32_t q = 0;; q++) {
        uint32_t item = (uint32_t)(((uint64_t)start + q) % I);
        if (hash_find(s, item, pos) == UINT32_MAX)
            return item;
    }
}

/* The j-th new item at relative time t: draw events until one is not held yet;
 * every repeat adds 1 to the weight of the item it hit. */
static void acquire(const syn_ctx *c, syn_scratch *s, const syn_user *us, double t, uint32_t j,
                    ri_rng *r)
{
    uint32_t pos = 0, item = 0;
    int found = 0;
    for (int tries = 0; tries < SYN_TRIES && !found; tries++) {
        item = draw_event(c, us, t, r);
        uint32_t slot = hash_find(s, item, &pos);
        if (slot == UINT32_MAX)
            found = 1;
        else
            s->weights[slot] += 1.0f;
    }
    if (!found)
        item = fallback_item(c, s, us, t, r, &pos);
    s->hkey[pos] = item + 1;
    s->hval[pos] = j;
    s->items[j] = item;
    s->weights[j] = 1.0f;
}

static void sort_u64(uint64_t *a, size_t n)
{
    while (n > 24) {
        uint64_t x = a[0], y = a[n / 2], z = a[n - 1];
        uint64_t p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < p)
                i++;
            while (a[j] > p)
                j--;
            if (i >= j)
                break;
            uint64_t t = a[i];
            a[i] = a[j];
            a[j] = t;
            i++;
            j--;
        }
        /* [0, j] <= p <= [j+1, n): recurse into the smaller side. */
        size_t left = j + 1;
        if (left < n - left) {
            sort_u64(a, left);
            a += left;
            n -= left;
        } else {
            sort_u64(a + left, n - left);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t k = i;
        while (k > 0 && a[k - 1] > v) {
            a[k] = a[k - 1];
            k--;
        }
        a[k] = v;
    }
}

static void fill_user(const syn_ctx *c, syn_scratch *s, uint32_t u, ri_rng *r)
{
    uint64_t p = c->indptr[u];
    uint32_t n = (uint32_t)(c->indptr[u + 1] - p);
    syn_user us;
    user_interests(c, r, &us);
    double start = (double)SYN_T0 + ri_rng_uniform(r) * 0.8 * (double)SYN_SPAN;
    double dur = ri_rng_uniform(r) * ((double)(SYN_T0 + SYN_SPAN) - start);
    /* Sorted uniform times from exponential spacings: the n acquisition times. */
    double acc = 0.0;
    for (uint32_t j = 0; j <= n; j++) {
        acc += -log(1.0 - ri_rng_uniform(r));
        s->times[j] = acc;
    }
    for (uint32_t j = 0; j < n; j++)
        s->times[j] /= acc;

    s->hbits = 4;
    while ((1u << s->hbits) < 2 * n)
        s->hbits++;
    memset(s->hkey, 0, ((size_t)1 << s->hbits) * sizeof(uint32_t));
    for (uint32_t j = 0; j < n; j++)
        acquire(c, s, &us, s->times[j], j, r);

    for (uint32_t j = 0; j < n; j++)
        s->keys[j] = (uint64_t)s->items[j] << 32 | j;
    sort_u64(s->keys, n);
    for (uint32_t q = 0; q < n; q++) {
        uint32_t j = (uint32_t)s->keys[q];
        c->indices[p + q] = s->items[j];
        c->weights[p + q] = s->weights[j];
        c->timestamps[p + q] = (int64_t)(start + s->times[j] * dur);
    }
}

static int fill_range(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    const syn_ctx *c = ctx;
    syn_scratch s;
    int rc = scratch_alloc(&s, c->sh->cap);
    if (rc != RECINT_OK)
        return rc;
    /* begin is a multiple of SYN_GROUP (the parallel chunk is), so groups align. */
    for (size_t g = begin; g < end; g += SYN_GROUP) {
        ri_rng r;
        ri_rng_seed(&r, c->sh->seed, SYN_STREAM_USERS + g / SYN_GROUP);
        size_t ge = g + SYN_GROUP < end ? g + SYN_GROUP : end;
        for (size_t u = g; u < ge; u++)
            fill_user(c, &s, (uint32_t)u, &r);
    }
    scratch_free(&s);
    return RECINT_OK;
}

/* ---------------------------------------------------------------- play counts */

/* Music and video logs count plays: a few users play a lot, some items are
 * replayed more than others by everyone (a short track, a loop), and within a
 * user a few items get most plays, whatever their share of the user's
 * interests. Each user gets an activity level (log-normal, sd 1.5), each item
 * a replay level (log-normal, sd 1) and each row a Pareto(1.1) factor on top
 * of its repeats, rounded and capped at 1e5 as logs cap runaway counters. The
 * counts thus carry no interest signal beyond which items a user has: what a
 * weighting of raw counts must cope with. One sequential stream keeps the
 * result independent of the thread count. */
#define SYN_PLAYS_CAP 1e5

static int heavy_counts(const syn_shape *sh, const uint64_t *indptr, const uint32_t *indices,
                        float *weights)
{
    double *replay = RI_NEW_ARRAY(double, sh->items);
    if (!replay)
        return RECINT_ENOMEM;
    ri_rng r;
    ri_rng_seed(&r, sh->seed, SYN_STREAM_PLAYS);
    for (uint32_t i = 0; i < sh->items; i++)
        replay[i] = exp(ri_rng_normal(&r));
    for (uint32_t u = 0; u < sh->users; u++) {
        double activity = exp(1.5 * ri_rng_normal(&r));
        for (uint64_t e = indptr[u]; e < indptr[u + 1]; e++) {
            double pareto = pow(1.0 - ri_rng_uniform(&r), -1.0 / 1.1);
            double plays = floor(weights[e] * activity * replay[indices[e]] * pareto + 0.5);
            weights[e] = (float)(plays < 1 ? 1 : plays > SYN_PLAYS_CAP ? SYN_PLAYS_CAP : plays);
        }
    }
    free(replay);
    return RECINT_OK;
}

/* ---------------------------------------------------------------- features */

/* [cluster one-hot | Gaussian noise (sd 0.5)], or the one-hot alone when dim is 0. */
static int item_features(const syn_ctx *c, recint_features **out)
{
    const syn_shape *sh = c->sh;
    uint32_t I = sh->items;
    uint64_t *ptr = RI_NEW_ARRAY(uint64_t, (size_t)I + 1);
    if (!ptr)
        return RECINT_ENOMEM;
    for (uint32_t i = 0; i <= I; i++)
        ptr[i] = i;
    recint_features *onehot = NULL, *noise = NULL;
    int rc = recint_features_new_sparse(&onehot, I, sh->clusters, ptr, c->item_cluster, NULL);
    free(ptr);
    if (rc != RECINT_OK || sh->feature_dim == 0) {
        if (rc == RECINT_OK)
            *out = onehot;
        return rc;
    }
    float *data = ri_malloc_array((size_t)I * sh->feature_dim, sizeof(float));
    if (!data) {
        recint_features_free(onehot);
        return RECINT_ENOMEM;
    }
    ri_rng r;
    ri_rng_seed(&r, sh->seed, SYN_STREAM_FEATURES);
    for (size_t k = 0; k < (size_t)I * sh->feature_dim; k++)
        data[k] = (float)(0.5 * ri_rng_normal(&r));
    rc = recint_features_new_dense(&noise, I, sh->feature_dim, data, sh->feature_dim);
    free(data);
    if (rc == RECINT_OK) {
        const recint_features *parts[2] = {onehot, noise};
        rc = recint_features_hstack(out, parts, 2);
    }
    recint_features_free(onehot);
    recint_features_free(noise);
    return rc;
}

/* ---------------------------------------------------------------- entry */

RECINT_API int recint_dataset_synthetic(recint_dataset **out, const recint_config *cfg,
                                        recint_features **item_feats)
{
    if (!out)
        return ri_error(RECINT_EINVAL, "dataset_synthetic: out is NULL");
    syn_shape sh;
    int rc = read_shape(cfg, &sh);
    if (rc != RECINT_OK)
        return rc;
    if (sh.interactions > SIZE_MAX / sizeof(int64_t))
        return ri_error(RECINT_ENOMEM, "synthetic: %llu interactions do not fit in memory",
                        (unsigned long long)sh.interactions);
    size_t nnz = (size_t)sh.interactions;

    syn_ctx c;
    memset(&c, 0, sizeof c);
    c.sh = &sh;
    uint64_t *indptr = RI_NEW_ARRAY(uint64_t, (size_t)sh.users + 1);
    uint32_t *indices = RI_NEW_ARRAY(uint32_t, nnz);
    float *weights = RI_NEW_ARRAY(float, nnz);
    int64_t *timestamps = RI_NEW_ARRAY(int64_t, nnz);
    recint_features *feats = NULL;
    recint_idmap *users = NULL, *items = NULL;
    if (!indptr || !indices || !weights || !timestamps)
        rc = ri_error(RECINT_ENOMEM, "synthetic: cannot allocate %llu interactions",
                      (unsigned long long)sh.interactions);
    if (rc == RECINT_OK)
        rc = items_build(&c);
    if (rc == RECINT_OK)
        rc = user_counts(&sh, indptr);
    if (rc == RECINT_OK) {
        c.indptr = indptr;
        c.indices = indices;
        c.weights = weights;
        c.timestamps = timestamps;
        rc = ri_parallel_for(sh.threads, sh.users, SYN_GROUP, fill_range, &c);
    }
    if (rc == RECINT_OK && sh.heavy)
        rc = heavy_counts(&sh, indptr, indices, weights);
    if (rc == RECINT_OK && item_feats)
        rc = item_features(&c, &feats);
    items_free(&c);
    if (rc == RECINT_OK)
        rc = ri_idmap_new_range(&users, sh.users);
    if (rc == RECINT_OK)
        rc = ri_idmap_new_range(&items, sh.items);
    if (rc != RECINT_OK) {
        ri_idmap_free(users);
        ri_idmap_free(items);
        recint_features_free(feats);
        free(indptr), free(indices), free(weights), free(timestamps);
        return rc;
    }
    int dup = ri_dup_policy(cfg);
    recint_dataset *ds = NULL;
    rc = ri_dataset_wrap(&ds, dup, users, items, indptr, indices, weights, timestamps);
    if (rc != RECINT_OK) {
        recint_features_free(feats);
        return rc;
    }
    *out = ds;
    if (item_feats)
        *item_feats = feats;
    return RECINT_OK;
}
