/* Kind "sequential": a causal self-attention Transformer over each user's most
 * recent items (SASRec, Kang & McAuley 2018). The pieces, one job per file:
 *   seq_layers.c  sgemm wrapper, layer norm, activations, dropout, attention
 *   seq_net.c     forward and hand-written backward of packed sequences
 *   seq_loss.c    the training objectives (bce, softmax, sampled softmax)
 *   seq_train.c   batches, Adam, epochs, early stopping
 *   seq_model.c   the kind's state, serving, save/load, the public calls
 *
 * Sequences are packed: a batch holds only real positions, row after row, and
 * sequence s owns rows offs[s] .. offs[s+1]-1 (oldest first). There is no
 * padding anywhere, so a short history costs only its own rows. */
#ifndef RI_SEQ_INTERNAL_H
#define RI_SEQ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/gemm.h"
#include "recint.h"
#include "util/rng.h"

typedef struct {
    uint32_t n_items, dim, maxlen, blocks, heads, ffn;
    int post_ln; /* 0: x + f(LN(x)) (pre-LN); 1: LN(x + f(x)) (post-LN) */
    int gelu;    /* feed-forward activation: 0 ReLU, 1 GELU (tanh form) */
} ri_seq_arch;

/* Pointers to one block's parameters (or to their gradients: same layout). */
typedef struct {
    float *ln1_g, *ln1_b, *Wqkv, *bqkv, *Wo, *bo, *ln2_g, *ln2_b, *W1, *b1, *W2, *b2;
} ri_seq_blk;

/* The whole parameter vector, one float array:
 *   E (n_items x dim) | P (maxlen x dim) | final LN g, b | blocks ...
 * Matrices act on row vectors: y = x W, W is (in x out) row-major. */
size_t ri_seq_n_params(const ri_seq_arch *a);
size_t ri_seq_block_size(const ri_seq_arch *a);
float *ri_seq_E(const ri_seq_arch *a, float *theta);
float *ri_seq_P(const ri_seq_arch *a, float *theta);
float *ri_seq_final_g(const ri_seq_arch *a, float *theta);
float *ri_seq_final_b(const ri_seq_arch *a, float *theta);
void ri_seq_block(const ri_seq_arch *a, float *theta, uint32_t b, ri_seq_blk *out);
/* Xavier-normal matrices and embeddings, unit gains, zero biases. */
void ri_seq_init_params(const ri_seq_arch *a, float *theta, uint64_t seed);

/* ---- layers (seq_layers.c) ------------------------------------------- */

/* exp(x) for x <= 0 in a form the compiler vectorises (libm's expf is a
 * call per element, the bulk of a softmax): x = (n + f) ln 2 with n an
 * integer and |f| <= 1/2, 2^f by its Taylor polynomial, 2^n put into the
 * exponent bits. Relative error below 1e-6 on [-10, 0], growing to 1e-5 at
 * -87 (float x log2(e) rounds). Below -87 the result is 0-ish
 * (2^-125.5), which is all a softmax needs. */
static inline float ri_seq_exp_nonpos(float x)
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
void ri_seq_gemm(const ri_gemm_ctx *cx, int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *A,
                 size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);

/* Layer norm of rows x d: y = g * (x - mu) * rstd + b; mu and rstd saved. */
void ri_seq_ln_fwd(const float *x, size_t rows, uint32_t d, const float *g, const float *b,
                   float *y, float *mu, float *rstd);
/* dx (overwritten, or added to when accumulate) from dy; dg, db accumulated. */
void ri_seq_ln_bwd(const float *x, const float *dy, size_t rows, uint32_t d, const float *g,
                   const float *mu, const float *rstd, float *dx, float *dg, float *db,
                   int accumulate);

/* Activation in place of n values (h keeps the input for the backward pass). */
void ri_seq_act_fwd(int gelu, const float *h, float *out, size_t n);
/* dh = dout * act'(h) (dout may alias dh). */
void ri_seq_act_bwd(int gelu, const float *h, const float *dout, float *dh, size_t n);

/* Inverted dropout of n values with drop probability p; mask gets 1 for kept
 * values. p == 0 keeps everything and leaves mask untouched (may be NULL). */
void ri_seq_dropout_fwd(float *x, size_t n, float p, ri_rng *rng, uint8_t *mask);
void ri_seq_dropout_bwd(float *dx, size_t n, float p, const uint8_t *mask);

/* Causal multi-head attention of one sequence of n rows: qkv rows hold
 * [q | k | v] (3d floats), o gets the heads side by side (n x d, row stride
 * ldo), probs keeps heads x n x n softmax weights (entries above the diagonal
 * are 0). */
void ri_seq_attn_fwd(const ri_gemm_ctx *cx, const float *qkv, uint32_t n, uint32_t d, uint32_t heads, float *probs,
                     float *o, size_t ldo);
/* From do (n x d, ldo apart) the gradient of qkv (n x 3d, overwritten).
 * scratch: n * n floats. */
void ri_seq_attn_bwd(const ri_gemm_ctx *cx, const float *qkv, const float *probs, const float *dout, size_t ldo,
                     uint32_t n, uint32_t d, uint32_t heads, float *dqkv, float *scratch);

/* ---- network (seq_net.c) --------------------------------------------- */

/* Packed sequences: items[r] at position pos[r] (0 .. maxlen-1; the newest item
 * of a sequence sits at maxlen-1). */
typedef struct {
    uint32_t n_seq;
    const uint32_t *offs; /* n_seq + 1 */
    const uint32_t *items;
    const uint32_t *pos;
} ri_seq_rows;

/* Activations of one forward pass, kept for the backward pass. Sized by
 * ri_seq_ws_floats for a number of rows and of attention weights
 * (sum over sequences of n^2). */
typedef struct ri_seq_ws ri_seq_ws;

/* Bytes of workspace for rows and sum_sq (sum of n^2); 0 on overflow. */
size_t ri_seq_ws_bytes(const ri_seq_arch *a, size_t rows, size_t sum_sq);
/* Lay a workspace out in buf (ri_seq_ws_bytes bytes, 64-byte aligned). */
ri_seq_ws *ri_seq_ws_init(const ri_seq_arch *a, void *buf, size_t rows, size_t sum_sq);
/* The output rows (rows x dim) of the last forward pass. */
float *ri_seq_ws_out(ri_seq_ws *w);
/* Forward of rows; dropout p with rng (p 0: rng unused, may be NULL). */
void ri_seq_forward(const ri_seq_arch *a, const float *theta, const ri_seq_rows *s, ri_seq_ws *w,
                    float p, ri_rng *rng);
/* Backward from dout (rows x dim, gradient of the output rows, destroyed);
 * parameter gradients are added to grad (ri_seq_n_params floats). */
void ri_seq_backward(const ri_seq_arch *a, const float *theta, const ri_seq_rows *s,
                     ri_seq_ws *w, float p, float *dout, float *grad);

/* ---- losses (seq_loss.c) --------------------------------------------- */

typedef enum { RI_SEQ_BCE = 0, RI_SEQ_SOFTMAX = 1, RI_SEQ_SAMPLED = 2 } ri_seq_loss;

/* Targets of the rows of one forward pass. target[r] == UINT32_MAX: no loss at
 * row r. neg: negatives (bce: n_neg per row; sampled softmax: n_neg per
 * sequence, shared by its rows). */
typedef struct {
    ri_seq_loss kind;
    const uint32_t *target;
    const uint32_t *neg;
    uint32_t n_neg;
    double scale; /* every row's loss is multiplied by this (1 / rows of the batch) */
} ri_seq_targets;

/* Loss of H (rows x dim) against E; dH (rows x dim) overwritten and dE
 * (n_items x dim) accumulated. scratch: ri_seq_loss_scratch floats (the
 * softmax losses keep their multiply's packing workspace there too). */
double ri_seq_loss_eval(const ri_seq_arch *a, const ri_seq_rows *s, const float *H,
                        const float *E, const ri_seq_targets *t, float *dH, float *dE,
                        float *scratch);
size_t ri_seq_loss_scratch(const ri_seq_arch *a, ri_seq_loss kind, uint32_t n_neg);

/* ---- the kind's state (seq_model.c, seq_train.c) ---------------------- */

typedef struct {
    ri_seq_arch arch;
    float *theta; /* ri_seq_n_params(&arch) */
    uint32_t n_users;
    /* Each user's last maxlen training items, oldest first (ties of time by
     * item index): the sequence serving reads. */
    uint64_t *hist_ptr; /* n_users + 1 */
    uint32_t *hist;
    uint32_t arch_words[8]; /* arch as saved (section SEQARCH) */
} ri_seq_state;

void ri_seq_state_free(ri_seq_state *s);
/* Fill arch_words from arch: once the state is complete (fit, load). */
void ri_seq_state_seal(ri_seq_state *s);
/* The state's vector (arch.dim floats) of a sequence of items (oldest first;
 * only the last maxlen count): the last output row. n == 0 gives zeros.
 * Errors: ENOMEM. */
int ri_seq_vector(const ri_seq_state *s, const uint32_t *items, size_t n, float *out);
/* Each user's training items in time order (timestamp, then item) as CSR:
 * *ptr (n_users + 1) and *items, allocated. Errors: EINVAL, ENOMEM. */
int ri_seq_ordered(const recint_dataset *ds, uint64_t **ptr, uint32_t **items);
/* The objective cfg's loss names (auto: softmax), checked at creation and at
 * fit. Errors: EINVAL for a loss of another kind (message without prefix). */
int ri_seq_pick_loss(const recint_config *cfg, ri_seq_loss *out);
/* EINVAL when cfg asks for an optimizer the kind does not have (adagrad). */
int ri_seq_check_optimizer(const recint_config *cfg);


#endif
