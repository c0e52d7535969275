/* Kind "sequential": a causal self-attention Transformer over each user's most
 * recent items (SASRec, Kang & McAuley 2018), built from the layers of
 * lib/nn (nn/nn.h). The pieces, one job per file:
 *   seq_net.c     forward and hand-written backward of packed sequences
 *   seq_loss.c    the training objectives (bce, softmax, sampled softmax),
 *                 on the softmax row of lib/learn
 *   seq_train.c   batches, negatives, the Adam step, the passes it hands
 *                 lib/train's epoch driver
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
#include "nn/nn.h"
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
