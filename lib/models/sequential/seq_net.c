/* The sequential network over packed sequences: parameter layout, forward pass
 * and its hand-written backward pass.
 *
 * Block b maps x to (pre-LN)
 *   x1 = x + D(attn(LN1(x)) Wo + bo),  out = x1 + D(act(LN2(x1) W1 + b1)' W2 + b2)
 * or (post-LN)
 *   x1 = LN1(x + D(attn(x) Wo + bo)),  out = LN2(x1 + D(act(x1 W1 + b1)' W2 + b2))
 * where D is dropout and act(.)' is dropped out too. The input rows are
 * sqrt(dim) E[item] + P[pos] (dropped out); pre-LN ends with a final layer norm. */
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "util/rng.h"
#include "models/sequential/seq_internal.h"

/* ---- parameters -------------------------------------------------------- */

size_t ri_seq_block_size(const ri_seq_arch *a)
{
    const size_t d = a->dim, f = a->ffn;
    return 2 * d + 3 * d * d + 3 * d + d * d + d + 2 * d + d * f + f + f * d + d;
}

static size_t off_blocks(const ri_seq_arch *a)
{
    return ((size_t)a->n_items + a->maxlen) * a->dim + 2 * (size_t)a->dim;
}

size_t ri_seq_n_params(const ri_seq_arch *a)
{
    return off_blocks(a) + (size_t)a->blocks * ri_seq_block_size(a);
}

float *ri_seq_E(const ri_seq_arch *a, float *theta)
{
    (void)a;
    return theta;
}

float *ri_seq_P(const ri_seq_arch *a, float *theta) { return theta + (size_t)a->n_items * a->dim; }

float *ri_seq_final_g(const ri_seq_arch *a, float *theta)
{
    return theta + ((size_t)a->n_items + a->maxlen) * a->dim;
}

float *ri_seq_final_b(const ri_seq_arch *a, float *theta) { return ri_seq_final_g(a, theta) + a->dim; }

void ri_seq_block(const ri_seq_arch *a, float *theta, uint32_t b, ri_seq_blk *o)
{
    const size_t d = a->dim, f = a->ffn;
    float *p = theta + off_blocks(a) + (size_t)b * ri_seq_block_size(a);
    o->ln1_g = p, p += d;
    o->ln1_b = p, p += d;
    o->Wqkv = p, p += 3 * d * d;
    o->bqkv = p, p += 3 * d;
    o->Wo = p, p += d * d;
    o->bo = p, p += d;
    o->ln2_g = p, p += d;
    o->ln2_b = p, p += d;
    o->W1 = p, p += d * f;
    o->b1 = p, p += f;
    o->W2 = p, p += f * d;
    o->b2 = p;
}

static void fill_normal(float *x, size_t n, double std, ri_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(std * ri_rng_normal(rng));
}

static void fill(float *x, size_t n, float v)
{
    for (size_t i = 0; i < n; i++)
        x[i] = v;
}

static double xavier(size_t fan_in, size_t fan_out) { return sqrt(2.0 / (double)(fan_in + fan_out)); }

void ri_seq_init_params(const ri_seq_arch *a, float *theta, uint64_t seed)
{
    const size_t d = a->dim, f = a->ffn;
    ri_rng rng;
    ri_rng_seed(&rng, seed, RI_STREAM_TRAIN + 0x5e0);
    fill_normal(ri_seq_E(a, theta), a->n_items * d, xavier(a->n_items, d), &rng);
    fill_normal(ri_seq_P(a, theta), a->maxlen * d, xavier(a->maxlen, d), &rng);
    fill(ri_seq_final_g(a, theta), d, 1.0f);
    fill(ri_seq_final_b(a, theta), d, 0.0f);
    for (uint32_t b = 0; b < a->blocks; b++) {
        ri_seq_blk k;
        ri_seq_block(a, theta, b, &k);
        fill(k.ln1_g, d, 1.0f);
        fill(k.ln1_b, d, 0.0f);
        fill_normal(k.Wqkv, 3 * d * d, xavier(d, 3 * d), &rng);
        fill(k.bqkv, 3 * d, 0.0f);
        fill_normal(k.Wo, d * d, xavier(d, d), &rng);
        fill(k.bo, d, 0.0f);
        fill(k.ln2_g, d, 1.0f);
        fill(k.ln2_b, d, 0.0f);
        fill_normal(k.W1, d * f, xavier(d, f), &rng);
        fill(k.b1, f, 0.0f);
        fill_normal(k.W2, f * d, xavier(f, d), &rng);
        fill(k.b2, d, 0.0f);
    }
}

/* ---- workspace --------------------------------------------------------- */

/* One block's activations. Pre-LN: n1 = LN1(x), r1 = x1, n2 = LN2(x1), r2 =
 * out. Post-LN: r1 = x + D(.), n1 = x1 = LN1(r1), r2 = x1 + D(.), n2 = out. */
typedef struct {
    float *n1, *mu1, *rs1, *qkv, *probs, *att, *r1, *n2, *mu2, *rs2, *hid, *act, *r2;
    uint8_t *m1, *m2, *m3;
} blk_ws;

struct ri_seq_ws {
    const ri_gemm_ctx *cx; /* &gemm */
    ri_gemm_ctx gemm;      /* its packing workspace is carved with the rest */
    size_t rows, sum_sq;
    float *x0;
    uint8_t *m0;
    blk_ws *blk;
    float *fo, *fmu, *frs;
    /* backward */
    float *dX, *g1, *g2, *dqkv, *dF, *ascr;
};

typedef struct {
    char *base; /* NULL: only measure */
    size_t off;
    int overflow;
} arena;

static void *carve(arena *ar, size_t n, size_t size)
{
    if (size && n > (SIZE_MAX / 2) / size) {
        ar->overflow = 1;
        return NULL;
    }
    size_t bytes = (n * size + 63) & ~(size_t)63;
    if (ar->off > SIZE_MAX / 2 - bytes) {
        ar->overflow = 1;
        return NULL;
    }
    void *p = ar->base ? ar->base + ar->off : NULL;
    ar->off += bytes;
    return p;
}

static void layout(const ri_seq_arch *a, arena *ar, size_t R, size_t sq, ri_seq_ws *w)
{
    const size_t d = a->dim, f = a->ffn, H = a->heads;
    const size_t nmax = R < a->maxlen ? R : a->maxlen;
    w->rows = R;
    w->sum_sq = sq;
    w->blk = carve(ar, a->blocks, sizeof(blk_ws));
    w->x0 = carve(ar, R * d, sizeof(float));
    w->m0 = carve(ar, R * d, 1);
    for (uint32_t b = 0; b < a->blocks; b++) {
        blk_ws k;
        k.n1 = carve(ar, R * d, sizeof(float));
        k.mu1 = carve(ar, R, sizeof(float));
        k.rs1 = carve(ar, R, sizeof(float));
        k.qkv = carve(ar, R * 3 * d, sizeof(float));
        k.probs = carve(ar, sq * H, sizeof(float));
        k.att = carve(ar, R * d, sizeof(float));
        k.r1 = carve(ar, R * d, sizeof(float));
        k.n2 = carve(ar, R * d, sizeof(float));
        k.mu2 = carve(ar, R, sizeof(float));
        k.rs2 = carve(ar, R, sizeof(float));
        k.hid = carve(ar, R * f, sizeof(float));
        k.act = carve(ar, R * f, sizeof(float));
        k.r2 = carve(ar, R * d, sizeof(float));
        k.m1 = carve(ar, R * d, 1);
        k.m2 = carve(ar, R * f, 1);
        k.m3 = carve(ar, R * d, 1);
        if (ar->base)
            w->blk[b] = k;
    }
    w->fo = carve(ar, R * d, sizeof(float));
    w->fmu = carve(ar, R, sizeof(float));
    w->frs = carve(ar, R, sizeof(float));
    w->dX = carve(ar, R * d, sizeof(float));
    w->g1 = carve(ar, R * d, sizeof(float));
    w->g2 = carve(ar, R * d, sizeof(float));
    w->dqkv = carve(ar, R * 3 * d, sizeof(float));
    w->dF = carve(ar, R * f, sizeof(float));
    w->ascr = carve(ar, nmax * nmax, sizeof(float));
    w->gemm.ws = carve(ar, RI_GEMM_WS_FLOATS, sizeof(float));
    w->gemm.ws_floats = RI_GEMM_WS_FLOATS;
}

size_t ri_seq_ws_bytes(const ri_seq_arch *a, size_t rows, size_t sum_sq)
{
    arena ar = {NULL, 0, 0};
    ri_seq_ws w;
    (void)carve(&ar, 1, sizeof(ri_seq_ws));
    layout(a, &ar, rows, sum_sq, &w);
    return ar.overflow ? 0 : ar.off;
}

ri_seq_ws *ri_seq_ws_init(const ri_seq_arch *a, void *buf, size_t rows, size_t sum_sq)
{
    arena ar = {buf, 0, 0};
    ri_seq_ws *w = carve(&ar, 1, sizeof(ri_seq_ws));
    layout(a, &ar, rows, sum_sq, w);
    ri_gemm_kernel_get(ri_core_isa_detect(), &w->gemm.k);
    w->cx = &w->gemm;
    return w;
}

float *ri_seq_ws_out(ri_seq_ws *w) { return w->fo; }

/* ---- forward ----------------------------------------------------------- */

static void add_bias(float *Y, size_t rows, size_t n, const float *b)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < n; j++)
            Y[r * n + j] += b[j];
}

static void add_into(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += x[i];
}

static void col_sums(const float *Y, size_t rows, size_t n, float *out)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < n; j++)
            out[j] += Y[r * n + j];
}

void ri_seq_forward(const ri_seq_arch *a, const float *theta, const ri_seq_rows *s, ri_seq_ws *w,
                    float p, ri_rng *rng)
{
    const size_t d = a->dim, f = a->ffn, R = w->rows;
    float *th = (float *)theta; /* the layout helpers take non-const; nothing is written */
    const float *E = ri_seq_E(a, th), *P = ri_seq_P(a, th);
    const float emb_scale = sqrtf((float)d);
    for (size_t r = 0; r < R; r++) {
        const float *e = E + (size_t)s->items[r] * d, *q = P + (size_t)s->pos[r] * d;
        float *x = w->x0 + r * d;
        for (size_t j = 0; j < d; j++)
            x[j] = emb_scale * e[j] + q[j];
    }
    ri_nn_dropout_fwd(w->x0, R * d, p, rng, w->m0);
    const float *x = w->x0;
    for (uint32_t b = 0; b < a->blocks; b++) {
        ri_seq_blk k;
        ri_seq_block(a, th, b, &k);
        blk_ws *B = &w->blk[b];
        const float *in = x;
        if (!a->post_ln) {
            ri_nn_ln_fwd(x, R, (uint32_t)d, k.ln1_g, k.ln1_b, B->n1, B->mu1, B->rs1);
            in = B->n1;
        }
        ri_nn_gemm(w->cx, 0, 0, R, 3 * d, d, 1.0f, in, d, k.Wqkv, 3 * d, 0.0f, B->qkv, 3 * d);
        add_bias(B->qkv, R, 3 * d, k.bqkv);
        size_t sq = 0;
        for (uint32_t q = 0; q < s->n_seq; q++) {
            const uint32_t r0 = s->offs[q], n = s->offs[q + 1] - r0;
            ri_nn_attn_fwd(w->cx, B->qkv + (size_t)r0 * 3 * d, n, (uint32_t)d, a->heads,
                            B->probs + sq * a->heads, B->att + (size_t)r0 * d, d);
            sq += (size_t)n * n;
        }
        ri_nn_gemm(w->cx, 0, 0, R, d, d, 1.0f, B->att, d, k.Wo, d, 0.0f, B->r1, d);
        add_bias(B->r1, R, d, k.bo);
        ri_nn_dropout_fwd(B->r1, R * d, p, rng, B->m1);
        add_into(B->r1, x, R * d);
        const float *x1 = B->r1;
        if (a->post_ln) {
            ri_nn_ln_fwd(B->r1, R, (uint32_t)d, k.ln1_g, k.ln1_b, B->n1, B->mu1, B->rs1);
            x1 = B->n1;
        }
        const float *in2 = x1;
        if (!a->post_ln) {
            ri_nn_ln_fwd(x1, R, (uint32_t)d, k.ln2_g, k.ln2_b, B->n2, B->mu2, B->rs2);
            in2 = B->n2;
        }
        ri_nn_gemm(w->cx, 0, 0, R, f, d, 1.0f, in2, d, k.W1, f, 0.0f, B->hid, f);
        add_bias(B->hid, R, f, k.b1);
        ri_nn_act_fwd(a->gelu, B->hid, B->act, R * f);
        ri_nn_dropout_fwd(B->act, R * f, p, rng, B->m2);
        ri_nn_gemm(w->cx, 0, 0, R, d, f, 1.0f, B->act, f, k.W2, d, 0.0f, B->r2, d);
        add_bias(B->r2, R, d, k.b2);
        ri_nn_dropout_fwd(B->r2, R * d, p, rng, B->m3);
        add_into(B->r2, x1, R * d);
        x = B->r2;
        if (a->post_ln) {
            ri_nn_ln_fwd(B->r2, R, (uint32_t)d, k.ln2_g, k.ln2_b, B->n2, B->mu2, B->rs2);
            x = B->n2;
        }
    }
    if (a->post_ln)
        memcpy(w->fo, x, R * d * sizeof(float));
    else
        ri_nn_ln_fwd(x, R, (uint32_t)d, ri_seq_final_g(a, th), ri_seq_final_b(a, th), w->fo,
                      w->fmu, w->frs);
}

/* ---- backward ---------------------------------------------------------- */

void ri_seq_backward(const ri_seq_arch *a, const float *theta, const ri_seq_rows *s,
                     ri_seq_ws *w, float p, float *dout, float *grad)
{
    const size_t d = a->dim, f = a->ffn, R = w->rows;
    float *th = (float *)theta;
    float *dX = w->dX, *g1 = w->g1, *g2 = w->g2;
    /* output of the last block */
    const float *xl = a->blocks ? (a->post_ln ? w->blk[a->blocks - 1].n2 : w->blk[a->blocks - 1].r2)
                                : w->x0;
    if (a->post_ln)
        memcpy(dX, dout, R * d * sizeof(float));
    else
        ri_nn_ln_bwd(xl, dout, R, (uint32_t)d, ri_seq_final_g(a, th), w->fmu, w->frs, dX,
                      ri_seq_final_g(a, grad), ri_seq_final_b(a, grad), 0);
    for (uint32_t b = a->blocks; b-- > 0;) {
        ri_seq_blk k, gk;
        ri_seq_block(a, th, b, &k);
        ri_seq_block(a, grad, b, &gk);
        blk_ws *B = &w->blk[b];
        const float *xin = b == 0 ? w->x0 : (a->post_ln ? w->blk[b - 1].n2 : w->blk[b - 1].r2);
        const float *x1 = a->post_ln ? B->n1 : B->r1;
        const float *in = a->post_ln ? xin : B->n1;
        const float *in2 = a->post_ln ? B->n1 : B->n2;
        /* g1 = d r2 */
        if (a->post_ln)
            ri_nn_ln_bwd(B->r2, dX, R, (uint32_t)d, k.ln2_g, B->mu2, B->rs2, g1, gk.ln2_g,
                          gk.ln2_b, 0);
        else
            memcpy(g1, dX, R * d * sizeof(float));
        memcpy(g2, g1, R * d * sizeof(float)); /* g2 accumulates d x1 */
        ri_nn_dropout_bwd(g1, R * d, p, B->m3);
        ri_nn_gemm(w->cx, 1, 0, f, d, R, 1.0f, B->act, f, g1, d, 1.0f, gk.W2, d);
        col_sums(g1, R, d, gk.b2);
        ri_nn_gemm(w->cx, 0, 1, R, f, d, 1.0f, g1, d, k.W2, d, 0.0f, w->dF, f);
        ri_nn_dropout_bwd(w->dF, R * f, p, B->m2);
        ri_nn_act_bwd(a->gelu, B->hid, w->dF, w->dF, R * f);
        ri_nn_gemm(w->cx, 1, 0, d, f, R, 1.0f, in2, d, w->dF, f, 1.0f, gk.W1, f);
        col_sums(w->dF, R, f, gk.b1);
        ri_nn_gemm(w->cx, 0, 1, R, d, f, 1.0f, w->dF, f, k.W1, f, 0.0f, g1, d);
        if (a->post_ln)
            add_into(g2, g1, R * d);
        else
            ri_nn_ln_bwd(x1, g1, R, (uint32_t)d, k.ln2_g, B->mu2, B->rs2, g2, gk.ln2_g,
                          gk.ln2_b, 1);
        /* g1 = d r1 */
        if (a->post_ln)
            ri_nn_ln_bwd(B->r1, g2, R, (uint32_t)d, k.ln1_g, B->mu1, B->rs1, g1, gk.ln1_g,
                          gk.ln1_b, 0);
        else
            memcpy(g1, g2, R * d * sizeof(float));
        memcpy(dX, g1, R * d * sizeof(float)); /* dX accumulates d xin */
        ri_nn_dropout_bwd(g1, R * d, p, B->m1);
        ri_nn_gemm(w->cx, 1, 0, d, d, R, 1.0f, B->att, d, g1, d, 1.0f, gk.Wo, d);
        col_sums(g1, R, d, gk.bo);
        ri_nn_gemm(w->cx, 0, 1, R, d, d, 1.0f, g1, d, k.Wo, d, 0.0f, g2, d);
        size_t sq = 0;
        for (uint32_t q = 0; q < s->n_seq; q++) {
            const uint32_t r0 = s->offs[q], n = s->offs[q + 1] - r0;
            ri_nn_attn_bwd(w->cx, B->qkv + (size_t)r0 * 3 * d, B->probs + sq * a->heads,
                            g2 + (size_t)r0 * d, d, n, (uint32_t)d, a->heads,
                            w->dqkv + (size_t)r0 * 3 * d, w->ascr);
            sq += (size_t)n * n;
        }
        ri_nn_gemm(w->cx, 1, 0, d, 3 * d, R, 1.0f, in, d, w->dqkv, 3 * d, 1.0f, gk.Wqkv, 3 * d);
        col_sums(w->dqkv, R, 3 * d, gk.bqkv);
        ri_nn_gemm(w->cx, 0, 1, R, d, 3 * d, 1.0f, w->dqkv, 3 * d, k.Wqkv, 3 * d, 0.0f, g1, d);
        if (a->post_ln)
            add_into(dX, g1, R * d);
        else
            ri_nn_ln_bwd(xin, g1, R, (uint32_t)d, k.ln1_g, B->mu1, B->rs1, dX, gk.ln1_g,
                          gk.ln1_b, 1);
    }
    ri_nn_dropout_bwd(dX, R * d, p, w->m0);
    float *dE = ri_seq_E(a, grad), *dP = ri_seq_P(a, grad);
    const float emb_scale = sqrtf((float)d);
    for (size_t r = 0; r < R; r++) {
        const float *g = dX + r * d;
        float *e = dE + (size_t)s->items[r] * d, *q = dP + (size_t)s->pos[r] * d;
        for (size_t j = 0; j < d; j++) {
            e[j] += emb_scale * g[j];
            q[j] += g[j];
        }
    }
}
