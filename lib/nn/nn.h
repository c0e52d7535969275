/* The neural-network layer: what every Transformer kind is built from (the
 * library's multiply, layer norm, activations, dropout, causal attention, a
 * vectorisable exp), each a forward and a hand-written backward over
 * row-major blocks of rows. Below the kinds in the layering (lib/layers.txt);
 * it knows nothing of models, only of arrays. */
#ifndef RI_NN_H
#define RI_NN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/gemm.h"
#include "util/rng.h"

/* exp(x) for x <= 0 in a form the compiler vectorises (libm's expf is a
 * call per element, the bulk of a softmax): x = (n + f) ln 2 with n an
 * integer and |f| <= 1/2, 2^f by its Taylor polynomial, 2^n put into the
 * exponent bits. Relative error below 1e-6 on [-10, 0], growing to 1e-5 at
 * -87 (float x log2(e) rounds). Below -87 the result is 0-ish
 * (2^-125.5), which is all a softmax needs. */
static inline float ri_nn_exp_nonpos(float x)
{
    /* clamp as integers: a float compare here keeps GCC from vectorising
     * (for x <= 0 a larger magnitude is a larger unsigned bit pattern) */
    uint32_t xb;
    memcpy(&xb, &x, sizeof xb);
    xb = xb < 0xC2AE0000u ? xb : 0xC2AE0000u; /* -87.0f */
    memcpy(&x, &xb, sizeof x);
    const float t = x * 1.44269504088896341f;
    const float n = (t + 12582912.0f) - 12582912.0f; /* round to nearest */
    const float f = t - n;
    float p = 1.54035304e-4f;
    p = p * f + 1.33335581e-3f;
    p = p * f + 9.61812911e-3f;
    p = p * f + 5.55041087e-2f;
    p = p * f + 2.40226507e-1f;
    p = p * f + 6.93147182e-1f;
    p = p * f + 1.0f;
    int32_t bits;
    memcpy(&bits, &p, sizeof bits);
    bits += (int32_t)n * (1 << 23);
    memcpy(&p, &bits, sizeof p);
    return p;
}


/* C (m x n, row stride ldc) = alpha * op(A) op(B) + beta * C, row-major;
 * ta/tb non-zero: the operand is stored transposed (A stored k x m, lda apart).
 * The library's multiply (lib/core/gemm.h) in the calling thread, with the
 * kernel and packing workspace of cx (one per thread). */
void ri_nn_gemm(const ri_gemm_ctx *cx, int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *A,
                 size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);

/* Layer norm of rows x d: y = g * (x - mu) * rstd + b; mu and rstd saved. */
void ri_nn_ln_fwd(const float *x, size_t rows, uint32_t d, const float *g, const float *b,
                   float *y, float *mu, float *rstd);
/* dx (overwritten, or added to when accumulate) from dy; dg, db accumulated. */
void ri_nn_ln_bwd(const float *x, const float *dy, size_t rows, uint32_t d, const float *g,
                   const float *mu, const float *rstd, float *dx, float *dg, float *db,
                   int accumulate);

/* Activation in place of n values (h keeps the input for the backward pass). */
void ri_nn_act_fwd(int gelu, const float *h, float *out, size_t n);
/* dh = dout * act'(h) (dout may alias dh). */
void ri_nn_act_bwd(int gelu, const float *h, const float *dout, float *dh, size_t n);

/* Inverted dropout of n values with drop probability p; mask gets 1 for kept
 * values. p == 0 keeps everything and leaves mask untouched (may be NULL). */
void ri_nn_dropout_fwd(float *x, size_t n, float p, ri_rng *rng, uint8_t *mask);
void ri_nn_dropout_bwd(float *dx, size_t n, float p, const uint8_t *mask);

/* Causal multi-head attention of one sequence of n rows: qkv rows hold
 * [q | k | v] (3d floats), o gets the heads side by side (n x d, row stride
 * ldo), probs keeps heads x n x n softmax weights (entries above the diagonal
 * are 0). */
void ri_nn_attn_fwd(const ri_gemm_ctx *cx, const float *qkv, uint32_t n, uint32_t d, uint32_t heads, float *probs,
                     float *o, size_t ldo);
/* From do (n x d, ldo apart) the gradient of qkv (n x 3d, overwritten).
 * scratch: n * n floats. */
void ri_nn_attn_bwd(const ri_gemm_ctx *cx, const float *qkv, const float *probs, const float *dout, size_t ldo,
                     uint32_t n, uint32_t d, uint32_t heads, float *dqkv, float *scratch);

#endif
