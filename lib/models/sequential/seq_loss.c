/* The next-item objectives of the sequential kind. Row r of H is the model's
 * state after the r-th item of its sequence; its target is the next item.
 * Scores are dot products with the (shared) item embeddings E, as in serving.
 *   bce:     -log s(h.e_t) - sum_neg log(1 - s(h.e_n))   (SASRec's objective)
 *   softmax: cross-entropy of the softmax over every item
 *   sampled: cross-entropy of the softmax over the target and the sequence's
 *            n_neg uniform negatives (a negative equal to the target is masked) */
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "models/sequential/seq_internal.h"
#include "learn/loss.h"

/* Rows whose full-catalogue logits are held at once. */
#define SOFTMAX_CHUNK 256

static inline float dotf(const float *a, const float *b, size_t d)
{
    float s = 0.0f;
    for (size_t j = 0; j < d; j++)
        s += a[j] * b[j];
    return s;
}

static inline void axpy(float a, const float *x, float *y, size_t d)
{
    for (size_t j = 0; j < d; j++)
        y[j] += a * x[j];
}

static inline float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

static size_t n_rows(const ri_seq_rows *s) { return s->offs[s->n_seq]; }

static double bce(const ri_seq_arch *a, const ri_seq_rows *s, const float *H, const float *E,
                  const ri_seq_targets *t, float *dH, float *dE)
{
    const size_t d = a->dim, R = n_rows(s);
    const float sc = (float)t->scale;
    double loss = 0.0;
    for (size_t r = 0; r < R; r++) {
        const float *h = H + r * d;
        float *dh = dH + r * d;
        memset(dh, 0, d * sizeof(float));
        if (t->target[r] == UINT32_MAX)
            continue;
        const float *e = E + (size_t)t->target[r] * d;
        const float sp = dotf(h, e, d);
        loss += ri_softplus(-(double)sp);
        const float gp = sc * (sigmoid(sp) - 1.0f);
        axpy(gp, e, dh, d);
        axpy(gp, h, dE + (size_t)t->target[r] * d, d);
        for (uint32_t k = 0; k < t->n_neg; k++) {
            const uint32_t ng = t->neg[r * t->n_neg + k];
            const float *en = E + (size_t)ng * d;
            const float sn = dotf(h, en, d);
            loss += ri_softplus((double)sn);
            const float gn = sc * sigmoid(sn);
            axpy(gn, en, dh, d);
            axpy(gn, h, dE + (size_t)ng * d, d);
        }
    }
    return loss * t->scale;
}

/* The multiply's packing workspace sits at the end of the scratch, on the
 * first cache line boundary (the scratch itself may be unaligned). */
#define GEMM_FLOATS (RI_GEMM_WS_FLOATS + 16)

static const ri_gemm_ctx *gemm_in(ri_gemm_ctx *g, float *tail)
{
    uintptr_t p = ((uintptr_t)tail + 63) & ~(uintptr_t)63;
    g->ws = (float *)p;
    g->ws_floats = RI_GEMM_WS_FLOATS;
    ri_gemm_kernel_get(ri_core_isa_detect(), &g->k);
    return g;
}

static size_t sampled_floats(const ri_seq_arch *a, uint32_t n_neg)
{
    return 2 * (size_t)n_neg * a->dim + (size_t)a->maxlen * (n_neg + 1);
}

static double full_softmax(const ri_seq_arch *a, const ri_seq_rows *s, const float *H,
                           const float *E, const ri_seq_targets *t, float *dH, float *dE,
                           float *C)
{
    ri_gemm_ctx g;
    const ri_gemm_ctx *cx = gemm_in(&g, C + (size_t)SOFTMAX_CHUNK * a->n_items);
    const size_t d = a->dim, N = a->n_items, R = n_rows(s);
    const float sc = (float)t->scale;
    double loss = 0.0;
    for (size_t r0 = 0; r0 < R; r0 += SOFTMAX_CHUNK) {
        const size_t m = R - r0 < SOFTMAX_CHUNK ? R - r0 : SOFTMAX_CHUNK;
        ri_nn_gemm(cx, 0, 1, m, N, d, 1.0f, H + r0 * d, d, E, d, 0.0f, C, N);
        for (size_t i = 0; i < m; i++) {
            float *c = C + i * N;
            const uint32_t tg = t->target[r0 + i];
            if (tg == UINT32_MAX)
                memset(c, 0, N * sizeof(float));
            else
                loss += ri_loss_softmax_row(c, N, tg, sc);
        }
        ri_nn_gemm(cx, 0, 0, m, d, N, 1.0f, C, N, E, d, 0.0f, dH + r0 * d, d);
        ri_nn_gemm(cx, 1, 0, N, d, m, 1.0f, C, N, H + r0 * d, d, 1.0f, dE, d);
    }
    return loss * t->scale;
}

static double sampled_softmax(const ri_seq_arch *a, const ri_seq_rows *s, const float *H,
                              const float *E, const ri_seq_targets *t, float *dH, float *dE,
                              float *scratch)
{
    ri_gemm_ctx g;
    const ri_gemm_ctx *cx = gemm_in(&g, scratch + sampled_floats(a, t->n_neg));
    const size_t d = a->dim, K = t->n_neg, W = K + 1;
    const float sc = (float)t->scale;
    float *G = scratch, *dG = G + K * d, *C = dG + K * d;
    double loss = 0.0;
    for (uint32_t q = 0; q < s->n_seq; q++) {
        const uint32_t *neg = t->neg + (size_t)q * K;
        const size_t r0 = s->offs[q], n = s->offs[q + 1] - r0;
        for (size_t k = 0; k < K; k++)
            memcpy(G + k * d, E + (size_t)neg[k] * d, d * sizeof(float));
        /* C[:, 0] = the target's logit, C[:, 1..K] = the negatives' */
        ri_nn_gemm(cx, 0, 1, n, K, d, 1.0f, H + r0 * d, d, G, d, 0.0f, C + 1, W);
        for (size_t i = 0; i < n; i++) {
            float *c = C + i * W;
            const uint32_t tg = t->target[r0 + i];
            if (tg == UINT32_MAX) {
                memset(c, 0, W * sizeof(float));
                continue;
            }
            c[0] = dotf(H + (r0 + i) * d, E + (size_t)tg * d, d);
            for (size_t k = 0; k < K; k++)
                if (neg[k] == tg)
                    c[1 + k] = -INFINITY;
            loss += ri_loss_softmax_row(c, W, 0, sc);
        }
        /* dH = C[:, 0] e_t + C[:, 1..] G; dG = C[:, 1..]^T H */
        ri_nn_gemm(cx, 0, 0, n, d, K, 1.0f, C + 1, W, G, d, 0.0f, dH + r0 * d, d);
        ri_nn_gemm(cx, 1, 0, K, d, n, 1.0f, C + 1, W, H + r0 * d, d, 0.0f, dG, d);
        for (size_t i = 0; i < n; i++) {
            const uint32_t tg = t->target[r0 + i];
            if (tg == UINT32_MAX)
                continue;
            axpy(C[i * W], E + (size_t)tg * d, dH + (r0 + i) * d, d);
            axpy(C[i * W], H + (r0 + i) * d, dE + (size_t)tg * d, d);
        }
        for (size_t k = 0; k < K; k++)
            axpy(1.0f, dG + k * d, dE + (size_t)neg[k] * d, d);
    }
    return loss * t->scale;
}

size_t ri_seq_loss_scratch(const ri_seq_arch *a, ri_seq_loss kind, uint32_t n_neg)
{
    switch (kind) {
    case RI_SEQ_SOFTMAX:
        return (size_t)SOFTMAX_CHUNK * a->n_items + GEMM_FLOATS;
    case RI_SEQ_SAMPLED:
        return sampled_floats(a, n_neg) + GEMM_FLOATS;
    default:
        return 1;
    }
}

double ri_seq_loss_eval(const ri_seq_arch *a, const ri_seq_rows *s, const float *H,
                        const float *E, const ri_seq_targets *t, float *dH, float *dE,
                        float *scratch)
{
    switch (t->kind) {
    case RI_SEQ_SOFTMAX:
        return full_softmax(a, s, H, E, t, dH, dE, scratch);
    case RI_SEQ_SAMPLED:
        return sampled_softmax(a, s, H, E, t, dH, dE, scratch);
    default:
        return bce(a, s, H, E, t, dH, dE);
    }
}
