/* ri_gemm: the library's matrix multiply (gemm.h says why it drives BLIS's
 * micro-kernels itself). Blocking follows the usual three loops around the
 * micro-kernel: a kc x nc block of the kernel's B side packed once per
 * (column block, depth block), an mc x kc block of its A side per row block,
 * then micro-tiles of mr x nr. */
#include "core/gemm.h"

#include <string.h>

#include "core/kernels.h"

#ifndef RI_NO_BLIS
/* The kernels are leaf functions of BLIS's static archive: they call nothing
 * in BLIS and read nothing of the context (tests/test_gemm.c holds them
 * against the portable kernel on full and partial tiles with a NULL context).
 * blis.h is not included: at -O0 it emits its many static helpers, which
 * would pull BLIS's framework into the library. Their parameter types are
 * BLIS 0.9's dim_t and inc_t (int64_t), auxinfo_t is ri_blis_aux. */
void bli_sgemm_skx_asm_32x12_l2(int64_t m, int64_t n, int64_t k, float *alpha, float *a,
                                float *b, float *beta, float *c, int64_t rs_c, int64_t cs_c,
                                void *data, void *cntx);
void bli_sgemm_haswell_asm_6x16(int64_t m, int64_t n, int64_t k, float *alpha, float *a,
                                float *b, float *beta, float *c, int64_t rs_c, int64_t cs_c,
                                void *data, void *cntx);
#endif

#define KC_MAX 256u
#define MC_MAX 192u /* a multiple of every kernel's mr: 32, 6, 8 */
#define NC_MAX 768u /* and of every nr: 12, 16, 8 */

/* ---- the portable kernel --------------------------------------------- */

#define PMR 8
#define PNR 8

/* Written so that compilers vectorise the inner loop at the baseline ISA;
 * products and sums stay separate roundings (no contraction in ISO C mode). */
static void ukr_portable(int64_t m, int64_t n, int64_t k, float *alpha, float *a, float *b,
                         float *beta, float *c, int64_t rs_c, int64_t cs_c, void *aux, void *cntx)
{
    (void)aux;
    (void)cntx;
    float acc[PMR][PNR];
    memset(acc, 0, sizeof acc);
    for (int64_t p = 0; p < k; p++) {
        const float *ap = a + p * PMR, *bp = b + p * PNR;
        for (int i = 0; i < PMR; i++)
            for (int j = 0; j < PNR; j++)
                acc[i][j] += ap[i] * bp[j];
    }
    const float al = *alpha, be = *beta;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float *cij = c + i * rs_c + j * cs_c;
            *cij = be == 0.0f ? al * acc[i][j] : al * acc[i][j] + be * *cij;
        }
}

const ri_gemm_kernel ri_gemm_portable = {ukr_portable, PMR, PNR, 0, "portable"};
#ifndef RI_NO_BLIS
const ri_gemm_kernel ri_gemm_haswell = {bli_sgemm_haswell_asm_6x16, 6, 16, 0, "haswell"};
const ri_gemm_kernel ri_gemm_skx = {bli_sgemm_skx_asm_32x12_l2, 32, 12, 1, "skx"};
#endif

void ri_gemm_kernel_get(ri_isa isa, ri_gemm_kernel *out)
{
    const ri_isa best = ri_core_isa_detect();
    ri_kernels k;
    ri_kernels_get(isa > best ? best : isa, 0, &k);
    *out = k.gemm;
}

/* ---- packing ----------------------------------------------------------- */

/* A strided view: element (i, p) at base[i * rs + p * cs]. */
typedef struct {
    const float *base;
    size_t rs, cs;
} view;

/* Rows [i0, i0 + rows) x depth [p0, p0 + kb) of X into panels of w rows, each
 * kb columns of w floats (rows past the end are zero): the layout of the
 * micro-kernel's A side, and of its B side with the view transposed. The
 * loop order follows whichever direction X is contiguous in. */
static void pack(view X, size_t i0, size_t rows, size_t p0, size_t kb, uint32_t w, float *out)
{
    for (size_t t = 0; t * w < rows; t++) {
        float *panel = out + t * w * kb;
        const size_t live = rows - t * w < w ? rows - t * w : w;
        const float *src = X.base + (i0 + t * w) * X.rs + p0 * X.cs;
        if (X.rs == 1) {
            for (size_t p = 0; p < kb; p++) {
                const float *s = src + p * X.cs;
                float *d = panel + p * w;
                for (size_t r = 0; r < live; r++)
                    d[r] = s[r];
                for (size_t r = live; r < w; r++)
                    d[r] = 0.0f;
            }
        } else {
            for (size_t r = 0; r < live; r++) {
                const float *s = src + r * X.rs;
                for (size_t p = 0; p < kb; p++)
                    panel[p * w + r] = s[p * X.cs];
            }
            for (size_t r = live; r < w; r++)
                for (size_t p = 0; p < kb; p++)
                    panel[p * w + r] = 0.0f;
        }
    }
}

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

void ri_gemm_pack_rows(const float *src, size_t ld, size_t rows, size_t k, uint32_t w,
                       float *out)
{
    pack((view){src, ld, 1}, 0, rows, 0, k, w, out);
}

void ri_gemm_packed(const ri_gemm_kernel *k, size_t M, size_t N, size_t K, float alpha,
                    const float *ap, const float *bp, float beta, float *C, size_t rs_c,
                    size_t cs_c)
{
    const size_t mr = k->mr, nr = k->nr;
    ri_blis_aux aux;
    memset(&aux, 0, sizeof aux);
    aux.is_a = 1;
    aux.is_b = 1;
    for (size_t jr = 0; jr < N; jr += nr) {
        float *b = (float *)bp + jr * K;
        for (size_t ir = 0; ir < M; ir += mr) {
            float *a = (float *)ap + ir * K;
            /* what the kernel prefetches: the next A panel, or the first one
             * and the next B panel at the end of a column of tiles */
            const int last = ir + mr >= M;
            aux.a_next = last ? (float *)ap : a + mr * K;
            aux.b_next = last && jr + nr < N ? b + nr * K : b;
            float al = alpha, be = beta;
            k->ukr((int64_t)(M - ir < mr ? M - ir : mr), (int64_t)(N - jr < nr ? N - jr : nr),
                   (int64_t)K, &al, a, b, &be, C + ir * rs_c + jr * cs_c, (int64_t)rs_c,
                   (int64_t)cs_c, &aux, NULL);
        }
    }
}

/* C (rs_c, cs_c) = alpha * A B + beta * C in the kernel's orientation: A is
 * M x K, B is given transposed (N x K) so both pack through the same view. */
static void drive(const ri_gemm_ctx *g, size_t M, size_t N, size_t K, float alpha, view A,
                  view Bt, float beta, float *C, size_t rs_c, size_t cs_c)
{
    const ri_gemm_kernel *k = &g->k;
    /* Both packed blocks start on a cache line (kernels load their 16-wide
     * side with aligned loads): 16 floats of the workspace are kept for the
     * gap after the first. */
    const size_t mr = k->mr, nr = k->nr, ws = g->ws_floats - 16;
    size_t kc = K < KC_MAX ? K : KC_MAX;
    if (kc * (mr + nr) > ws)
        kc = ws / (mr + nr);
    size_t nc = round_up(N, nr), nc_max = NC_MAX / nr * nr, nc_fit = (ws / kc - mr) / nr * nr;
    nc = nc < nc_max ? nc : nc_max;
    nc = nc < nc_fit ? nc : nc_fit;
    const size_t b_floats = round_up(kc * nc, 16);
    size_t mc = round_up(M, mr), mc_max = MC_MAX / mr * mr, mc_fit = (ws - kc * nc) / kc / mr * mr;
    mc = mc < mc_max ? mc : mc_max;
    mc = mc < mc_fit ? mc : mc_fit;
    float *bp = g->ws, *ap = g->ws + b_floats;
    for (size_t jc = 0; jc < N; jc += nc) {
        const size_t nb = N - jc < nc ? N - jc : nc;
        for (size_t pc = 0; pc < K; pc += kc) {
            const size_t kb = K - pc < kc ? K - pc : kc;
            pack(Bt, jc, nb, pc, kb, (uint32_t)nr, bp);
            for (size_t ic = 0; ic < M; ic += mc) {
                const size_t mb = M - ic < mc ? M - ic : mc;
                pack(A, ic, mb, pc, kb, (uint32_t)mr, ap);
                ri_gemm_packed(k, mb, nb, kb, alpha, ap, bp, pc == 0 ? beta : 1.0f,
                               C + ic * rs_c + jc * cs_c, rs_c, cs_c);
            }
        }
    }
}

/* C = beta * C, beta == 0 writing zeros (what a product with k == 0 is). */
static void scale_c(size_t m, size_t n, float beta, float *C, size_t ldc)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

void ri_gemm(const ri_gemm_ctx *g, int ta, int tb, size_t m, size_t n, size_t k, float alpha,
             const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
             size_t ldc)
{
    if (m == 0 || n == 0)
        return;
    if (k == 0 || alpha == 0.0f) {
        scale_c(m, n, beta, C, ldc);
        return;
    }
    /* op(A)(i, p) and op(B)^T(j, p) as strided views */
    view a = ta ? (view){A, 1, lda} : (view){A, lda, 1};
    view bt = tb ? (view){B, ldb, 1} : (view){B, 1, ldb};
    if (g->k.prefers_cols) /* C^T = op(B)^T op(A)^T, whose tiles are C's columns */
        drive(g, n, m, k, alpha, bt, a, beta, C, 1, ldc);
    else
        drive(g, m, n, k, alpha, a, bt, beta, C, ldc, 1);
}

/* 16 KiB: a depth block of 93 rows for the skx kernel, plenty for a Gram
 * matrix, and small enough for any thread's stack. */
#define GRAM_WS_FLOATS 4096

void ri_gemm_gram(ri_isa isa, const float *Y, size_t rows, uint32_t dim, float *G)
{
    _Alignas(64) float ws[GRAM_WS_FLOATS];
    ri_gemm_ctx g = {.ws = ws, .ws_floats = GRAM_WS_FLOATS};
    ri_gemm_kernel_get(isa, &g.k);
    ri_gemm(&g, 1, 0, dim, dim, rows, 1.0f, Y, dim, Y, dim, 0.0f, G, dim);
}
