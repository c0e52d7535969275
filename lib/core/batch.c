/* Batch top-k: BLIS sgemm over tiles of users x items, each tile's scores
 * scanned while still in cache into per-user heaps of k + margin candidates,
 * which are then rescored with the exact fp32 chain so that the result equals
 * ri_core_topk's. docs/batch-scoring.md explains the choices and the figures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <immintrin.h>

#include "util/alloc.h"
#include "core/core.h"
#include "util/error.h"
#include "core/gemm.h"
#include "core/heap.h"
#include "core/items_internal.h"
#include "core/kernels.h"
#include "util/parallel.h"
#include "core/target.h"

/* Tile of one sgemm call: RI_BATCH_MB users x RI_BATCH_NB items, 1 MiB of
 * scores, the size of this CPU's L2 (measured in docs/batch-scoring.md). */
#ifndef RI_BATCH_MB /* overridable only to measure other tiles */
#define RI_BATCH_MB 512u
#endif
#ifndef RI_BATCH_NB
#define RI_BATCH_NB 512u
#endif
/* Largest shared packed copy of the items a call makes (bytes). */
#define RI_BATCH_PREPACK_LIMIT ((size_t)512 << 20)
/* Bytes of candidate heaps per worker: bounds the user block for large k. */
#define RI_BATCH_HEAP_BUDGET ((size_t)8 << 20)

/* ---- the kernel ---------------------------------------------------- */

/* The ISA level of the batch path: the CPU's best, lowered by RECINT_ISA for
 * tests (ri_core_isa_resolve). */
static int batch_isa(ri_isa *isa) { return ri_core_isa_resolve("auto", isa); }

const char *ri_core_blis_arch(void)
{
    ri_isa isa;
    if (batch_isa(&isa) != RECINT_OK)
        isa = ri_core_isa_detect();
    ri_gemm_kernel k;
    ri_gemm_kernel_get(isa, &k);
    return k.name;
}

/* ---- the multiply: the micro-kernel under the batch path's own loops --
 *
 * A tile's scores come from the library's micro-kernel (lib/core/gemm.h)
 * over operands packed here: the block's users are packed once for all its
 * item tiles, and the items once per call when that pays (pack_tiles). The
 * kernel says which way it wants C stored; the items go on whichever side
 * makes the tile user-major (row r of the tile = one user's scores), the
 * layout the scan reads. */

static uint32_t user_panel(const ri_gemm_kernel *k) { return k->prefers_cols ? k->nr : k->mr; }
static uint32_t item_panel(const ri_gemm_kernel *k) { return k->prefers_cols ? k->mr : k->nr; }

/* Floats of `rows` rows packed in panels of width w (padded with zero rows). */
static size_t packed_size(uint32_t rows, uint32_t w, uint32_t dim)
{
    return (size_t)((rows + w - 1) / w) * w * dim;
}

/* C (mb x nb, row stride ldc) = packed users x packed items^T. */
static void tile_multiply(const ri_gemm_kernel *k, const float *upack, uint32_t mb,
                          const float *ipack, uint32_t nb, uint32_t dim, float *C, size_t ldc)
{
    if (k->prefers_cols) /* the tile's transpose, column-stored */
        ri_gemm_packed(k, nb, mb, dim, 1.0f, ipack, upack, 0.0f, C, 1, ldc);
    else
        ri_gemm_packed(k, mb, nb, dim, 1.0f, upack, ipack, 0.0f, C, ldc, 1);
}

/* ---- per-user selection state ---------------------------------------- */

typedef struct {
    ri_heap h;
    const ri_core_filter *f;
    size_t cursor; /* first exclude entry not yet passed */
} row_state;

static inline int eligible(row_state *r, uint32_t i)
{
    const ri_core_filter *f = r->f;
    if (!f)
        return 1;
    if (f->allow && !((f->allow[i >> 6] >> (i & 63)) & 1u))
        return 0;
    if (f->block && ((f->block[i >> 6] >> (i & 63)) & 1u))
        return 0;
    while (r->cursor < f->n_exclude && f->exclude[r->cursor] < i)
        r->cursor++;
    return !(r->cursor < f->n_exclude && f->exclude[r->cursor] == i);
}

static inline void take(row_state *r, float s, uint32_t i)
{
    if (eligible(r, i))
        ri_heap_offer(&r->h, s, i);
}

/* Approximate score of a tile entry: the sgemm dot, then scale and bias. */
static inline float approx(float c, const float *bias, const float *scale, uint32_t i)
{
    return scale ? c * scale[i] + bias[i] : c + bias[i];
}

/* Offer everything until the heap is full: below that, every eligible item
 * must enter, so no threshold applies. Returns the first offset not taken. */
static uint32_t scan_fill(row_state *r, const float *c, uint32_t i0, uint32_t nb,
                          const float *bias, const float *scale)
{
    uint32_t j = 0;
    for (; j < nb && r->h.size < r->h.cap; j++)
        take(r, approx(c[j], bias, scale, i0 + j), i0 + j);
    return j;
}

static void scan_scalar(row_state *r, const float *c, uint32_t i0, uint32_t nb, const float *bias,
                        const float *scale)
{
    uint32_t j = scan_fill(r, c, i0, nb, bias, scale);
    float t = ri_heap_threshold(&r->h);
    for (; j < nb; j++) {
        float s = approx(c[j], bias, scale, i0 + j);
        if (s > t) {
            take(r, s, i0 + j);
            t = ri_heap_threshold(&r->h);
        }
    }
}

/* The lanes set in bits, in ascending order; kept out of line so that the
 * scanning loops keep their registers. */
__attribute__((noinline)) static void take_hits(row_state *r, const float *v, uint64_t bits,
                                                 uint32_t base)
{
    for (; bits; bits &= bits - 1) {
        unsigned l = (unsigned)__builtin_ctzll(bits);
        if (v[l] > ri_heap_threshold(&r->h))
            take(r, v[l], base + l);
    }
}

/* Items scanned in ascending order enter a full heap only when strictly above
 * its root (an equal score loses on the larger index), so one vector compare
 * per 16 scores filters nearly everything. */
RI_TARGET_AVX512 static void scan_avx512(row_state *r, const float *c,
                                                           uint32_t i0, uint32_t nb,
                                                           const float *bias, const float *scale)
{
    uint32_t j = scan_fill(r, c, i0, nb, bias, scale);
    __m512 t = _mm512_set1_ps(ri_heap_threshold(&r->h));
    float v[16];
    if (!scale) /* the common case: four vectors per test */
        for (; j + 64 <= nb; j += 64) {
            const float *cj = c + j, *bj = bias + i0 + j;
            __m512 s0 = _mm512_add_ps(_mm512_loadu_ps(cj), _mm512_loadu_ps(bj));
            __m512 s1 = _mm512_add_ps(_mm512_loadu_ps(cj + 16), _mm512_loadu_ps(bj + 16));
            __m512 s2 = _mm512_add_ps(_mm512_loadu_ps(cj + 32), _mm512_loadu_ps(bj + 32));
            __m512 s3 = _mm512_add_ps(_mm512_loadu_ps(cj + 48), _mm512_loadu_ps(bj + 48));
            uint64_t bits = (uint64_t)_mm512_cmp_ps_mask(s0, t, _CMP_GT_OQ) |
                            (uint64_t)_mm512_cmp_ps_mask(s1, t, _CMP_GT_OQ) << 16 |
                            (uint64_t)_mm512_cmp_ps_mask(s2, t, _CMP_GT_OQ) << 32 |
                            (uint64_t)_mm512_cmp_ps_mask(s3, t, _CMP_GT_OQ) << 48;
            if (!bits)
                continue;
            float v64[64];
            _mm512_storeu_ps(v64, s0);
            _mm512_storeu_ps(v64 + 16, s1);
            _mm512_storeu_ps(v64 + 32, s2);
            _mm512_storeu_ps(v64 + 48, s3);
            take_hits(r, v64, bits, i0 + j);
            t = _mm512_set1_ps(ri_heap_threshold(&r->h));
        }
    for (; j + 16 <= nb; j += 16) {
        __m512 s = _mm512_loadu_ps(c + j);
        __m512 b = _mm512_loadu_ps(bias + i0 + j);
        s = scale ? _mm512_fmadd_ps(s, _mm512_loadu_ps(scale + i0 + j), b) : _mm512_add_ps(s, b);
        __mmask16 m = _mm512_cmp_ps_mask(s, t, _CMP_GT_OQ);
        if (!m)
            continue;
        _mm512_storeu_ps(v, s);
        for (unsigned bits = m; bits; bits &= bits - 1) {
            unsigned l = (unsigned)__builtin_ctz(bits);
            if (v[l] > ri_heap_threshold(&r->h))
                take(r, v[l], i0 + j + l);
        }
        t = _mm512_set1_ps(ri_heap_threshold(&r->h));
    }
    if (j < nb)
        scan_scalar(r, c + j, i0 + j, nb - j, bias, scale);
}

RI_TARGET_AVX2 static void scan_avx2(row_state *r, const float *c,
                                                          uint32_t i0, uint32_t nb,
                                                          const float *bias, const float *scale)
{
    uint32_t j = scan_fill(r, c, i0, nb, bias, scale);
    __m256 t = _mm256_set1_ps(ri_heap_threshold(&r->h));
    float v[8];
    for (; j + 8 <= nb; j += 8) {
        __m256 s = _mm256_loadu_ps(c + j);
        __m256 b = _mm256_loadu_ps(bias + i0 + j);
        s = scale ? _mm256_fmadd_ps(s, _mm256_loadu_ps(scale + i0 + j), b) : _mm256_add_ps(s, b);
        unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(s, t, _CMP_GT_OQ));
        if (!m)
            continue;
        _mm256_storeu_ps(v, s);
        for (unsigned bits = m; bits; bits &= bits - 1) {
            unsigned l = (unsigned)__builtin_ctz(bits);
            if (v[l] > ri_heap_threshold(&r->h))
                take(r, v[l], i0 + j + l);
        }
        t = _mm256_set1_ps(ri_heap_threshold(&r->h));
    }
    if (j < nb)
        scan_scalar(r, c + j, i0 + j, nb - j, bias, scale);
}

typedef void (*scan_fn)(row_state *, const float *, uint32_t, uint32_t, const float *,
                        const float *);

/* ---- the call -------------------------------------------------------- */

typedef struct {
    float *C;          /* mb x RI_BATCH_NB scores */
    float *upack;      /* the block's users, packed */
    float *ipack;      /* one item tile, packed */
    uint32_t *hidx;    /* mb x cap candidate heaps */
    float *hscore;
    row_state *rows;   /* mb */
    float *exact;      /* cap exact scores of one user's candidates */
    float *all;        /* n scores for the uncertified fallback */
} scratch;

typedef struct {
    const ri_core_items *it;
    const float *U;
    size_t ldu;
    const ri_core_filter *filters;
    uint32_t k, cap, mb;
    const float *bias; /* never NULL: zeros when the items have none */
    double wmax, bmax; /* max |scale_i| * ||W_i||, max |bias_i| */
    ri_gemm_kernel uk;
    scan_fn scan;
    ri_isa isa;
    uint32_t *out_idx;
    float *out_score;
    uint32_t *out_count;
    scratch *work; /* one per worker */
    /* Every item tile packed once for the whole call (NULL: each worker packs
     * a tile per user block); tile t starts at t * tile_floats. */
    float *ipacked;
    size_t tile_floats;
} batch;

/* Largest |approximate - exact| score of user u over all items, or +inf when
 * no bound is safe. Any summation order of dim products is within
 * gamma_dim * sum|u_j w_j| <= gamma_dim ||u|| ||w|| of the real dot product
 * (Cauchy-Schwarz), so sgemm's and the exact chain's dots differ by twice that;
 * scale and bias add at most two roundings of each side. The factor 2 and
 * the underflow floor keep the bound safe against rounding in its own
 * arithmetic. Below 1e37 no partial sum overflows, in any order. */
static double error_bound(const batch *b, const float *u)
{
    uint32_t dim = b->it->dim;
    double eps = ldexp(1.0, -24), de = dim * eps;
    if (de >= 0.5)
        return INFINITY;
    double nu = 0.0;
    for (uint32_t j = 0; j < dim; j++)
        nu += (double)u[j] * u[j];
    double big = sqrt(nu) * (1.0 + 1e-9) * b->wmax;
    if (!(big < 1e37) || !(b->bmax < 1e37))
        return INFINITY;
    double gamma = de / (1.0 - de);
    return 2.0 * ((2.0 * gamma + 5.0 * eps) * big + 2.0 * eps * b->bmax + (dim + 4) * ldexp(1.0, -140));
}

/* Exact top-k of one user from every item's exact score: the path for users
 * whose candidate list cannot be certified (near-ties at the cut). */
static void exact_all(const batch *b, scratch *w, const float *u, row_state *r, ri_heap *out)
{
    ri_core_score_all(b->it, u, b->isa, w->all);
    r->cursor = 0;
    for (uint32_t i = 0; i < b->it->n; i++)
        if (eligible(r, i))
            ri_heap_offer(out, w->all[i], i);
}

/* How many of the kept candidates (sorted best first) need exact scores, or 0
 * when they cannot be trusted to hold the exact top-k. They hold it when they
 * are every eligible item, or when the k-th best approximate score T beats
 * the weakest kept one by more than 2D (D: error_bound): an item left out
 * scored at most the weakest approximately, so at most weakest + D exactly,
 * below the k best kept ones, which score at least T - D exactly. By the same
 * argument a kept candidate scoring below T - 2D cannot reach the exact top-k,
 * so only the prefix down to T - 2D is rescored (usually k entries). */
static uint32_t trusted_prefix(const batch *b, const float *u, ri_heap *h)
{
    uint32_t m = ri_heap_sort(h), k = b->k;
    double d = error_bound(b, u);
    int complete = h->size < h->cap || h->cap >= b->it->n;
    if (m <= k || !(d < INFINITY))
        return complete ? m : 0;
    double kth = h->score[k - 1];
    if (!complete && !(kth - (double)h->score[m - 1] > 2.0 * d))
        return 0;
    uint32_t len = k;
    while (len < m && (double)h->score[len] >= kth - 2.0 * d)
        len++;
    return len;
}

static void finish_user(const batch *b, scratch *w, size_t user, row_state *r)
{
    const float *u = b->U + user * b->ldu;
    ri_heap out;
    ri_heap_init(&out, b->out_idx + user * b->k, b->out_score + user * b->k, b->k);
    uint32_t len = trusted_prefix(b, u, &r->h);
    if (len > 0 || r->h.size == 0) {
        ri_core_score_some(b->it, u, r->h.idx, len, w->exact);
        for (uint32_t c = 0; c < len; c++)
            ri_heap_offer(&out, w->exact[c], r->h.idx[c]);
    } else {
        exact_all(b, w, u, r, &out);
    }
    b->out_count[user] = ri_heap_sort(&out);
}

/* One block of at most b->mb users: every item tile, then the final ranks. */
static void run_block(const batch *b, scratch *w, size_t begin, uint32_t mb)
{
    const ri_core_items *it = b->it;
    for (uint32_t r = 0; r < mb; r++) {
        ri_heap_init(&w->rows[r].h, w->hidx + (size_t)r * b->cap, w->hscore + (size_t)r * b->cap,
                     b->cap);
        w->rows[r].f = b->filters ? &b->filters[begin + r] : NULL;
        w->rows[r].cursor = 0;
    }
    ri_gemm_pack_rows(b->U + begin * b->ldu, b->ldu, mb, it->dim, user_panel(&b->uk), w->upack);
    for (size_t i0 = 0; i0 < it->n; i0 += RI_BATCH_NB) {
        uint32_t nb = (uint32_t)(it->n - i0 < RI_BATCH_NB ? it->n - i0 : RI_BATCH_NB);
        const float *ip = w->ipack;
        if (b->ipacked)
            ip = b->ipacked + (i0 / RI_BATCH_NB) * b->tile_floats;
        else
            ri_gemm_pack_rows(it->W + i0 * it->dim, it->dim, nb, it->dim, item_panel(&b->uk), w->ipack);
        tile_multiply(&b->uk, w->upack, mb, ip, nb, it->dim, w->C, RI_BATCH_NB);
        for (uint32_t r = 0; r < mb; r++)
            b->scan(&w->rows[r], w->C + (size_t)r * RI_BATCH_NB, (uint32_t)i0, nb, b->bias,
                    it->scale);
    }
    for (uint32_t r = 0; r < mb; r++)
        finish_user(b, w, begin + r, &w->rows[r]);
}

/* Tiles begin..end-1 of the shared item packing. */
static int pack_tiles(void *ctx, size_t begin, size_t end, unsigned worker)
{
    (void)worker;
    const batch *b = ctx;
    const ri_core_items *it = b->it;
    for (size_t t = begin; t < end; t++) {
        size_t i0 = t * RI_BATCH_NB;
        uint32_t nb = (uint32_t)(it->n - i0 < RI_BATCH_NB ? it->n - i0 : RI_BATCH_NB);
        ri_gemm_pack_rows(it->W + i0 * it->dim, it->dim, nb, it->dim, item_panel(&b->uk),
                  b->ipacked + t * b->tile_floats);
    }
    return RECINT_OK;
}

/* A worker's range (one chunk, or everything when the call runs on one thread). */
static int run_blocks(void *ctx, size_t begin, size_t end, unsigned worker)
{
    const batch *b = ctx;
    for (size_t u = begin; u < end; u += b->mb)
        run_block(b, &b->work[worker], u, (uint32_t)(end - u < b->mb ? end - u : b->mb));
    return RECINT_OK;
}

/* Users when there is nothing to multiply (dim 0): the exact path per user. */
static int run_plain(void *ctx, size_t begin, size_t end, unsigned worker)
{
    const batch *b = ctx;
    scratch *w = &b->work[worker];
    for (size_t user = begin; user < end; user++) {
        row_state r = {.f = b->filters ? &b->filters[user] : NULL, .cursor = 0};
        ri_heap out;
        ri_heap_init(&out, b->out_idx + user * b->k, b->out_score + user * b->k, b->k);
        exact_all(b, w, b->U ? b->U + user * b->ldu : NULL, &r, &out);
        b->out_count[user] = ri_heap_sort(&out);
    }
    return RECINT_OK;
}

static int check_args(const ri_core_items *it, const float *U, size_t ldu, uint32_t n_users,
                      const ri_core_filter *filters, uint32_t k, uint32_t *out_idx,
                      float *out_score, uint32_t *out_count)
{
    if (!it)
        return ri_error(RECINT_EINVAL, "batch top-k: NULL items");
    if (k == 0)
        return ri_error(RECINT_EINVAL, "batch top-k: k must be > 0");
    if (n_users == 0)
        return RECINT_OK;
    if (!out_idx || !out_score || !out_count)
        return ri_error(RECINT_EINVAL, "batch top-k: NULL output array");
    size_t slots;
    if (ri_mul_overflow(n_users, k, &slots))
        return ri_error(RECINT_EINVAL, "batch top-k: %u users x k %u overflows", n_users, k);
    if (it->dim > 0) {
        if (!U)
            return ri_error(RECINT_EINVAL, "batch top-k: NULL user matrix");
        if (ldu < it->dim)
            return ri_error(RECINT_EINVAL, "batch top-k: user row stride %zu < dim %u", ldu,
                            it->dim);
        for (uint32_t u = 0; u < n_users; u++)
            for (uint32_t j = 0; j < it->dim; j++)
                if (!isfinite(U[(size_t)u * ldu + j]))
                    return ri_error(RECINT_EINVAL,
                                    "batch top-k: user %u, component %u is not finite", u, j);
    }
    for (uint32_t u = 0; filters && u < n_users; u++) {
        const ri_core_filter *f = &filters[u];
        if (f->n_exclude > 0 && !f->exclude)
            return ri_error(RECINT_EINVAL, "batch top-k: user %u: NULL exclude list of %zu", u,
                            f->n_exclude);
        for (size_t e = 1; e < f->n_exclude; e++)
            if (f->exclude[e] < f->exclude[e - 1])
                return ri_error(RECINT_EINVAL,
                                "batch top-k: user %u: exclude list not ascending at entry %zu "
                                "(%u after %u)",
                                u, e, f->exclude[e], f->exclude[e - 1]);
    }
    return RECINT_OK;
}

static void free_work(scratch *work, unsigned n)
{
    for (unsigned t = 0; work && t < n; t++) {
        ri_aligned_free(work[t].C);
        ri_aligned_free(work[t].upack);
        ri_aligned_free(work[t].ipack);
        free(work[t].hidx);
        free(work[t].hscore);
        free(work[t].rows);
        free(work[t].exact);
        free(work[t].all);
    }
    free(work);
}

/* Everything a worker needs, allocated before any output is written, so a
 * failure leaves the outputs untouched and workers cannot fail. */
static scratch *alloc_work(unsigned threads, uint32_t mb, uint32_t cap, uint32_t n, int gemm,
                           const ri_gemm_kernel *uk, uint32_t dim)
{
    scratch *work = RI_NEW_ZEROED(scratch, threads);
    if (!work)
        return NULL;
    size_t n_all = n ? n : 1;
    for (unsigned t = 0; t < threads; t++) {
        scratch *w = &work[t];
        w->all = RI_NEW_ARRAY(float, n_all);
        if (!w->all)
            goto fail;
        if (!gemm)
            continue;
        w->C = ri_aligned_alloc((size_t)mb * RI_BATCH_NB, sizeof(float));
        w->upack = ri_aligned_alloc(packed_size(mb, user_panel(uk), dim), sizeof(float));
        w->ipack = ri_aligned_alloc(packed_size(RI_BATCH_NB, item_panel(uk), dim), sizeof(float));
        w->hidx = ri_malloc_array((size_t)mb * cap, sizeof(uint32_t));
        w->hscore = ri_malloc_array((size_t)mb * cap, sizeof(float));
        w->rows = RI_NEW_ARRAY(row_state, mb);
        w->exact = RI_NEW_ARRAY(float, cap);
        if (!w->C || !w->upack || !w->ipack || !w->hidx || !w->hscore || !w->rows || !w->exact)
            goto fail;
    }
    return work;
fail:
    free_work(work, threads);
    return NULL;
}

static void item_bounds(const ri_core_items *it, double *wmax, double *bmax)
{
    double wm = 0.0, bm = 0.0;
    for (uint32_t i = 0; i < it->n; i++) {
        const float *w = ri_item_row(it, i);
        double s = 0.0;
        for (uint32_t j = 0; j < it->dim; j++)
            s += (double)w[j] * w[j];
        double v = sqrt(s) * (1.0 + 1e-9) * (it->scale ? fabs((double)it->scale[i]) : 1.0);
        wm = v > wm ? v : wm;
        if (it->bias && fabs((double)it->bias[i]) > bm)
            bm = fabs((double)it->bias[i]);
    }
    *wmax = wm;
    *bmax = bm;
}

static scan_fn pick_scan(ri_isa isa)
{
    return isa == RI_ISA_AVX512 ? scan_avx512 : isa == RI_ISA_AVX2 ? scan_avx2 : scan_scalar;
}

int ri_core_topk_batch(const ri_core_items *it, const float *U, size_t ldu, uint32_t n_users,
                       const ri_core_filter *filters, uint32_t k, unsigned threads,
                       uint32_t *out_idx, float *out_score, uint32_t *out_count)
{
    int rc = check_args(it, U, ldu, n_users, filters, k, out_idx, out_score, out_count);
    if (rc != RECINT_OK || n_users == 0)
        return rc;
    ri_isa isa;
    if ((rc = batch_isa(&isa)) != RECINT_OK)
        return rc;
    batch b = {.it = it, .U = U, .ldu = ldu, .filters = filters, .k = k, .isa = isa,
               .out_idx = out_idx, .out_score = out_score, .out_count = out_count};
    int gemm = it->dim > 0 && it->n > 0;
    /* Margin: enough candidates past the k-th that near-ties at the cut are
     * rare (each costs one exact pass over the catalogue for that user). */
    uint64_t cap = (uint64_t)k + (k / 4 > 8 ? k / 4 : 8);
    b.cap = (uint32_t)(cap < it->n ? cap : it->n);
    size_t per_user = (size_t)(b.cap ? b.cap : 1) * (sizeof(uint32_t) + sizeof(float));
    size_t mb = RI_BATCH_HEAP_BUDGET / per_user;
    mb = mb < 16 ? 16 : mb > RI_BATCH_MB ? RI_BATCH_MB : mb;
    b.mb = (uint32_t)(mb < n_users ? mb : n_users);
    if (threads == 0)
        threads = ri_threads_resolve(0);
    size_t chunk = gemm ? b.mb : 64;
    size_t chunks = (n_users + chunk - 1) / chunk;
    if (threads > chunks)
        threads = (unsigned)chunks;

    float *zeros = NULL;
    if (gemm) {
        if (!it->bias && !(zeros = RI_NEW_ZEROED(float, it->n)))
            return RECINT_ENOMEM;
        b.bias = it->bias ? it->bias : zeros;
        item_bounds(it, &b.wmax, &b.bmax);
        ri_gemm_kernel_get(isa, &b.uk);
        b.scan = pick_scan(b.isa);
    }
    b.work = alloc_work(threads, b.mb, b.cap, it->n, gemm, &b.uk, it->dim);
    if (!b.work) {
        free(zeros);
        return RECINT_ENOMEM;
    }
    /* Packing every item once pays off when several user blocks would each
     * pack the whole catalogue again; it costs a second copy of the item
     * matrix for the call, so very large catalogues keep the per-block way. */
    size_t n_tiles = gemm ? (it->n + RI_BATCH_NB - 1) / RI_BATCH_NB : 0;
    if (gemm && n_users >= 2 * (size_t)b.mb) {
        b.tile_floats = packed_size(RI_BATCH_NB, item_panel(&b.uk), it->dim);
        size_t total;
        if (!ri_mul_overflow(n_tiles, b.tile_floats, &total) &&
            total <= RI_BATCH_PREPACK_LIMIT / sizeof(float))
            b.ipacked = ri_aligned_alloc(total, sizeof(float)); /* NULL: per block */
    }
    rc = RECINT_OK;
    if (b.ipacked)
        rc = ri_parallel_for(threads, n_tiles, 1, pack_tiles, &b);
    if (rc == RECINT_OK)
        rc = ri_parallel_for(threads, n_users, chunk, gemm ? run_blocks : run_plain, &b);
    ri_aligned_free(b.ipacked);
    free_work(b.work, threads);
    free(zeros);
    return rc;
}
