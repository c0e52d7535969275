/* The layers of lib/nn (nn/nn.h says what they are for). Every matrix product
 * goes through ri_nn_gemm (the library's multiply on BLIS kernels, one thread
 * per call: a training loop parallelises across sequences, never inside a
 * product). */
#include <math.h>
#include <string.h>

#include "nn/nn.h"

/* Guards the variance of a constant row; small enough to change nothing else. */
#define LN_EPS 1e-6f

void ri_nn_gemm(const ri_gemm_ctx *cx, int ta, int tb, size_t m, size_t n, size_t k, float alpha,
                 const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                 size_t ldc)
{
    ri_gemm(cx, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void ri_nn_ln_fwd(const float *x, size_t rows, uint32_t d, const float *g, const float *b,
                   float *y, float *mu, float *rstd)
{
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float *yr = y + r * d;
        float s = 0.0f;
        for (uint32_t j = 0; j < d; j++)
            s += xr[j];
        const float m = s / (float)d;
        float v = 0.0f;
        for (uint32_t j = 0; j < d; j++)
            v += (xr[j] - m) * (xr[j] - m);
        const float rs = 1.0f / sqrtf(v / (float)d + LN_EPS);
        for (uint32_t j = 0; j < d; j++)
            yr[j] = (xr[j] - m) * rs * g[j] + b[j];
        mu[r] = m;
        rstd[r] = rs;
    }
}

void ri_nn_ln_bwd(const float *x, const float *dy, size_t rows, uint32_t d, const float *g,
                   const float *mu, const float *rstd, float *dx, float *dg, float *db,
                   int accumulate)
{
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * d, *dyr = dy + r * d;
        float *dxr = dx + r * d;
        const float m = mu[r], rs = rstd[r];
        /* dx = rs * (dxh - mean(dxh) - xh * mean(dxh * xh)), dxh = dy * g */
        float s1 = 0.0f, s2 = 0.0f;
        for (uint32_t j = 0; j < d; j++) {
            const float xh = (xr[j] - m) * rs, dxh = dyr[j] * g[j];
            s1 += dxh;
            s2 += dxh * xh;
            dg[j] += dyr[j] * xh;
            db[j] += dyr[j];
        }
        s1 /= (float)d;
        s2 /= (float)d;
        for (uint32_t j = 0; j < d; j++) {
            const float xh = (xr[j] - m) * rs;
            const float v = rs * (dyr[j] * g[j] - s1 - xh * s2);
            dxr[j] = accumulate ? dxr[j] + v : v;
        }
    }
}

#define GELU_C 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_A 0.044715f

void ri_nn_act_fwd(int gelu, const float *h, float *out, size_t n)
{
    if (!gelu) {
        for (size_t i = 0; i < n; i++)
            out[i] = h[i] > 0.0f ? h[i] : 0.0f;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const float x = h[i];
        out[i] = 0.5f * x * (1.0f + tanhf(GELU_C * (x + GELU_A * x * x * x)));
    }
}

void ri_nn_act_bwd(int gelu, const float *h, const float *dout, float *dh, size_t n)
{
    if (!gelu) {
        for (size_t i = 0; i < n; i++)
            dh[i] = h[i] > 0.0f ? dout[i] : 0.0f;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const float x = h[i];
        const float t = tanhf(GELU_C * (x + GELU_A * x * x * x));
        const float dt = (1.0f - t * t) * GELU_C * (1.0f + 3.0f * GELU_A * x * x);
        dh[i] = dout[i] * (0.5f * (1.0f + t) + 0.5f * x * dt);
    }
}

/* Eight 8-bit draws per 64-bit number: the generator is the cost of dropout,
 * and a drop probability resolved to 1/256 is plenty (p is rounded to the
 * nearest multiple; the kept values are scaled by the matching 1/(1-p)). The
 * draws go into mask first, so that the masking loop vectorises. */
void ri_nn_dropout_fwd(float *x, size_t n, float p, ri_rng *rng, uint8_t *mask)
{
    if (!(p > 0.0f))
        return;
    const uint32_t thr = (uint32_t)(p * 256.0f + 0.5f);
    const float keep = 256.0f / (float)(256 - thr);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint64_t bits = ri_rng_u64(rng);
        memcpy(mask + i, &bits, 8);
    }
    if (i < n) {
        const uint64_t bits = ri_rng_u64(rng);
        memcpy(mask + i, &bits, n - i);
    }
    for (i = 0; i < n; i++) {
        const uint8_t kept = mask[i] >= thr;
        mask[i] = kept;
        x[i] *= kept ? keep : 0.0f;
    }
}

void ri_nn_dropout_bwd(float *dx, size_t n, float p, const uint8_t *mask)
{
    if (!(p > 0.0f))
        return;
    const uint32_t thr = (uint32_t)(p * 256.0f + 0.5f);
    const float keep = 256.0f / (float)(256 - thr);
    for (size_t i = 0; i < n; i++)
        dx[i] *= mask[i] ? keep : 0.0f;
}

/* Max and sum of n floats in 8 independent lanes: one running value is a
 * dependency chain the compiler may not reorder into vectors. */
#define LANES 8

static float lanes_max(const float *x, uint32_t n)
{
    float m[LANES];
    for (uint32_t l = 0; l < LANES; l++)
        m[l] = x[0];
    uint32_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (uint32_t l = 0; l < LANES; l++)
            m[l] = x[j + l] > m[l] ? x[j + l] : m[l];
    for (; j < n; j++)
        m[0] = x[j] > m[0] ? x[j] : m[0];
    for (uint32_t l = 1; l < LANES; l++)
        m[0] = m[l] > m[0] ? m[l] : m[0];
    return m[0];
}

static float lanes_sum(const float *x, uint32_t n)
{
    float a[LANES] = {0};
    uint32_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (uint32_t l = 0; l < LANES; l++)
            a[l] += x[j + l];
    for (; j < n; j++)
        a[0] += x[j];
    for (uint32_t half = LANES / 2; half > 0; half /= 2)
        for (uint32_t l = 0; l < half; l++)
            a[l] += a[l + half];
    return a[0];
}

/* Row i of S (n x n) to the softmax over its first i + 1 entries, the rest 0:
 * position i attends to itself and earlier positions only. */
static void causal_softmax(float *S, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        float *row = S + (size_t)i * n;
        const float mx = lanes_max(row, i + 1);
        for (uint32_t j = 0; j <= i; j++)
            row[j] = ri_nn_exp_nonpos(row[j] - mx);
        const float inv = 1.0f / lanes_sum(row, i + 1);
        for (uint32_t j = 0; j <= i; j++)
            row[j] *= inv;
        for (uint32_t j = i + 1; j < n; j++)
            row[j] = 0.0f;
    }
}

void ri_nn_attn_fwd(const ri_gemm_ctx *cx, const float *qkv, uint32_t n, uint32_t d, uint32_t heads,
                     float *probs, float *o, size_t ldo)
{
    const uint32_t dh = d / heads;
    const size_t ld = 3 * (size_t)d;
    const float scale = 1.0f / sqrtf((float)dh);
    for (uint32_t h = 0; h < heads; h++) {
        const float *Q = qkv + (size_t)h * dh, *K = Q + d, *V = Q + 2 * (size_t)d;
        float *P = probs + (size_t)h * n * n;
        ri_nn_gemm(cx, 0, 1, n, n, dh, scale, Q, ld, K, ld, 0.0f, P, n);
        causal_softmax(P, n);
        ri_nn_gemm(cx, 0, 0, n, dh, n, 1.0f, P, n, V, ld, 0.0f, o + (size_t)h * dh, ldo);
    }
}

void ri_nn_attn_bwd(const ri_gemm_ctx *cx, const float *qkv, const float *probs, const float *dout,
                     size_t ldo, uint32_t n, uint32_t d, uint32_t heads, float *dqkv,
                     float *scratch)
{
    const uint32_t dh = d / heads;
    const size_t ld = 3 * (size_t)d;
    const float scale = 1.0f / sqrtf((float)dh);
    for (uint32_t h = 0; h < heads; h++) {
        const float *Q = qkv + (size_t)h * dh, *K = Q + d, *V = Q + 2 * (size_t)d;
        const float *P = probs + (size_t)h * n * n, *dO = dout + (size_t)h * dh;
        float *dQ = dqkv + (size_t)h * dh, *dK = dQ + d, *dV = dQ + 2 * (size_t)d;
        float *dS = scratch;
        ri_nn_gemm(cx, 0, 1, n, n, dh, 1.0f, dO, ldo, V, ld, 0.0f, dS, n); /* dP = dO V^T */
        /* softmax backward per row, on the causal part only */
        for (uint32_t i = 0; i < n; i++) {
            const float *Pr = P + (size_t)i * n;
            float *Sr = dS + (size_t)i * n;
            float dot = 0.0f;
            for (uint32_t j = 0; j <= i; j++)
                dot += Pr[j] * Sr[j];
            for (uint32_t j = 0; j <= i; j++)
                Sr[j] = Pr[j] * (Sr[j] - dot) * scale;
            for (uint32_t j = i + 1; j < n; j++)
                Sr[j] = 0.0f;
        }
        ri_nn_gemm(cx, 0, 0, n, dh, n, 1.0f, dS, n, K, ld, 0.0f, dQ, ld); /* dQ = dS K */
        ri_nn_gemm(cx, 1, 0, n, dh, n, 1.0f, dS, n, Q, ld, 0.0f, dK, ld); /* dK = dS^T Q */
        ri_nn_gemm(cx, 1, 0, n, dh, n, 1.0f, P, n, dO, ldo, 0.0f, dV, ld); /* dV = P^T dO */
    }
}
