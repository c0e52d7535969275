/* The sequential kind: every layer's and every loss's hand-written gradient
 * against central finite differences, the whole network's gradient (pre-LN
 * and post-LN, ReLU and GELU, with dropout), packing and causality, learning a
 * planted next-item rule, serving from stored and given sequences, save/load,
 * cancel, early stopping and the error paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "io/format.h"
#include "models/model_internal.h"
#include "models/model_private.h"
#include "models/sequential/seq_internal.h"
#include "testutil.h"

/* The layers' multiply context: the CPU's kernel and a packing workspace
 * (each test runs in its own process, so one per process is enough). */
static const ri_gemm_ctx *test_gemm(void)
{
    static ri_gemm_ctx g;
    if (!g.ws) {
        g.ws = ri_aligned_alloc(RI_GEMM_WS_FLOATS, sizeof(float));
        ck_assert_ptr_nonnull(g.ws);
        g.ws_floats = RI_GEMM_WS_FLOATS;
        ri_gemm_kernel_get(ri_core_isa_detect(), &g.k);
    }
    return &g;
}

/* ---- helpers -------------------------------------------------------- */

/* A tiny LCG of the test's own: values in [-1, 1). */
static float urand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void fill_rand(float *x, size_t n, float scale, uint64_t *s)
{
    for (size_t i = 0; i < n; i++)
        x[i] = scale * urand(s);
}

/* Norm-wise relative error of a numerical and an analytical gradient; the
 * analytical one must not vanish (a check of zeros cannot fail). */
static void expect_close(const char *what, const double *num, const float *ana, size_t n,
                         double tol)
{
    double dd = 0, nn = 0, aa = 0;
    for (size_t i = 0; i < n; i++) {
        dd += (num[i] - ana[i]) * (num[i] - ana[i]);
        nn += num[i] * num[i];
        aa += (double)ana[i] * ana[i];
    }
    const double rel = sqrt(dd) / fmax(sqrt(nn), sqrt(aa));
    ck_assert_msg(aa > 1e-12, "%s: analytical gradient is zero", what);
    ck_assert_msg(rel <= tol, "%s: relative error %.3g > %.3g (|num| %.3g, |ana| %.3g)", what,
                  rel, tol, sqrt(nn), sqrt(aa));
}

/* Central differences of f over x[0..n). */
typedef double (*scalar_fn)(void *ctx);
static void numeric_grad(float *x, size_t n, float eps, scalar_fn f, void *ctx, double *out)
{
    for (size_t i = 0; i < n; i++) {
        const float keep = x[i];
        x[i] = keep + eps;
        const double hi = f(ctx);
        x[i] = keep - eps;
        const double lo = f(ctx);
        x[i] = keep;
        out[i] = (hi - lo) / (2.0 * (double)eps);
    }
}

static double weighted_sum(const float *y, const float *w, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)y[i] * w[i];
    return s;
}

/* The vectorisable exp of the softmaxes against libm, over its whole range. */
START_TEST(exp_nonpos_accuracy)
{
    double worst_near = 0, worst = 0;
    for (int i = 0; i <= 87000; i++) {
        const float x = -0.001f * (float)i;
        const double want = exp((double)x), got = ri_nn_exp_nonpos(x);
        worst = fmax(worst, fabs(got - want) / want);
        if (x >= -10.0f)
            worst_near = fmax(worst_near, fabs(got - want) / want);
    }
    /* float x log2(e) loses ~|x| 6e-8 of the exponent: the error grows with |x| */
    ck_assert_msg(worst_near < 1e-6, "relative error %.3g on [-10, 0]", worst_near);
    ck_assert_msg(worst < 2e-5, "relative error %.3g on [-87, 0]", worst);
    ck_assert_float_eq(ri_nn_exp_nonpos(0.0f), 1.0f);
    ck_assert_float_eq(ri_nn_exp_nonpos(-0.0f), 1.0f);
    /* far below: tiny and positive, never garbage from the exponent bits */
    const float tiny = ri_nn_exp_nonpos(-1000.0f);
    ck_assert(tiny > 0.0f && tiny < 1e-37f);
    ck_assert(ri_nn_exp_nonpos(-INFINITY) < 1e-37f);
}
END_TEST

/* ---- layer norm -------------------------------------------------------- */

enum { LN_ROWS = 3, LN_D = 7 };
typedef struct {
    float x[LN_ROWS * LN_D], g[LN_D], b[LN_D], dy[LN_ROWS * LN_D];
} ln_case;

static double ln_loss(void *v)
{
    ln_case *c = v;
    float y[LN_ROWS * LN_D], mu[LN_ROWS], rs[LN_ROWS];
    ri_nn_ln_fwd(c->x, LN_ROWS, LN_D, c->g, c->b, y, mu, rs);
    return weighted_sum(y, c->dy, LN_ROWS * LN_D);
}

START_TEST(grad_layer_norm)
{
    uint64_t s = 1;
    ln_case c;
    fill_rand(c.x, LN_ROWS * LN_D, 2.0f, &s);
    fill_rand(c.g, LN_D, 1.0f, &s);
    fill_rand(c.b, LN_D, 1.0f, &s);
    fill_rand(c.dy, LN_ROWS * LN_D, 1.0f, &s);
    float y[LN_ROWS * LN_D], mu[LN_ROWS], rs[LN_ROWS], dx[LN_ROWS * LN_D];
    float dg[LN_D] = {0}, db[LN_D] = {0};
    ri_nn_ln_fwd(c.x, LN_ROWS, LN_D, c.g, c.b, y, mu, rs);
    /* the forward pass itself: row 0 by hand */
    double m = 0, var = 0;
    for (int j = 0; j < LN_D; j++)
        m += c.x[j] / LN_D;
    for (int j = 0; j < LN_D; j++)
        var += (c.x[j] - m) * (c.x[j] - m) / LN_D;
    for (int j = 0; j < LN_D; j++)
        ck_assert_double_eq_tol(y[j], (c.x[j] - m) / sqrt(var + 1e-6) * c.g[j] + c.b[j], 1e-5);
    ri_nn_ln_bwd(c.x, c.dy, LN_ROWS, LN_D, c.g, mu, rs, dx, dg, db, 0);
    double num[LN_ROWS * LN_D];
    numeric_grad(c.x, LN_ROWS * LN_D, 1e-2f, ln_loss, &c, num);
    expect_close("layer norm dx", num, dx, LN_ROWS * LN_D, 1e-2);
    numeric_grad(c.g, LN_D, 1e-2f, ln_loss, &c, num);
    expect_close("layer norm dg", num, dg, LN_D, 1e-2);
    numeric_grad(c.b, LN_D, 1e-2f, ln_loss, &c, num);
    expect_close("layer norm db", num, db, LN_D, 1e-2);
    /* accumulate adds to what dx held */
    float acc[LN_ROWS * LN_D];
    for (int i = 0; i < LN_ROWS * LN_D; i++)
        acc[i] = 1.0f;
    ri_nn_ln_bwd(c.x, c.dy, LN_ROWS, LN_D, c.g, mu, rs, acc, dg, db, 1);
    for (int i = 0; i < LN_ROWS * LN_D; i++)
        ck_assert_float_eq_tol(acc[i], 1.0f + dx[i], 1e-6f);
}
END_TEST

/* ---- feed-forward (activation, and the whole sublayer) ----------------- */

enum { FF_ROWS = 4, FF_D = 5, FF_F = 6 };
typedef struct {
    int gelu;
    float x[FF_ROWS * FF_D], W1[FF_D * FF_F], b1[FF_F], W2[FF_F * FF_D], b2[FF_D],
        dy[FF_ROWS * FF_D];
} ff_case;

static void ff_fwd(const ff_case *c, float *hid, float *act, float *y)
{
    ri_nn_gemm(test_gemm(), 0, 0, FF_ROWS, FF_F, FF_D, 1.0f, c->x, FF_D, c->W1, FF_F, 0.0f, hid, FF_F);
    for (int r = 0; r < FF_ROWS; r++)
        for (int j = 0; j < FF_F; j++)
            hid[r * FF_F + j] += c->b1[j];
    ri_nn_act_fwd(c->gelu, hid, act, FF_ROWS * FF_F);
    ri_nn_gemm(test_gemm(), 0, 0, FF_ROWS, FF_D, FF_F, 1.0f, act, FF_F, c->W2, FF_D, 0.0f, y, FF_D);
    for (int r = 0; r < FF_ROWS; r++)
        for (int j = 0; j < FF_D; j++)
            y[r * FF_D + j] += c->b2[j];
}

static double ff_loss(void *v)
{
    ff_case *c = v;
    float hid[FF_ROWS * FF_F], act[FF_ROWS * FF_F], y[FF_ROWS * FF_D];
    ff_fwd(c, hid, act, y);
    return weighted_sum(y, c->dy, FF_ROWS * FF_D);
}

static void check_ffn(int gelu)
{
    uint64_t s = 7 + (uint64_t)gelu;
    ff_case c;
    c.gelu = gelu;
    fill_rand(c.x, sizeof c.x / sizeof(float), 1.0f, &s);
    fill_rand(c.W1, sizeof c.W1 / sizeof(float), 1.0f, &s);
    fill_rand(c.b1, FF_F, 0.5f, &s);
    fill_rand(c.W2, sizeof c.W2 / sizeof(float), 1.0f, &s);
    fill_rand(c.b2, FF_D, 0.5f, &s);
    fill_rand(c.dy, sizeof c.dy / sizeof(float), 1.0f, &s);
    float hid[FF_ROWS * FF_F], act[FF_ROWS * FF_F], y[FF_ROWS * FF_D];
    ff_fwd(&c, hid, act, y);
    /* the activation by its definition */
    for (int i = 0; i < FF_ROWS * FF_F; i++) {
        const double h = hid[i];
        const double want = gelu ? 0.5 * h * (1 + tanh(sqrt(2 / M_PI) * (h + 0.044715 * h * h * h)))
                                 : (h > 0 ? h : 0);
        ck_assert_double_eq_tol(act[i], want, 1e-5);
    }
    /* backward by hand through the layer's pieces */
    float dW1[FF_D * FF_F] = {0}, db1[FF_F] = {0}, dW2[FF_F * FF_D] = {0}, db2[FF_D] = {0};
    float dact[FF_ROWS * FF_F], dx[FF_ROWS * FF_D];
    ri_nn_gemm(test_gemm(), 1, 0, FF_F, FF_D, FF_ROWS, 1.0f, act, FF_F, c.dy, FF_D, 0.0f, dW2, FF_D);
    for (int r = 0; r < FF_ROWS; r++)
        for (int j = 0; j < FF_D; j++)
            db2[j] += c.dy[r * FF_D + j];
    ri_nn_gemm(test_gemm(), 0, 1, FF_ROWS, FF_F, FF_D, 1.0f, c.dy, FF_D, c.W2, FF_D, 0.0f, dact, FF_F);
    ri_nn_act_bwd(gelu, hid, dact, dact, FF_ROWS * FF_F);
    ri_nn_gemm(test_gemm(), 1, 0, FF_D, FF_F, FF_ROWS, 1.0f, c.x, FF_D, dact, FF_F, 0.0f, dW1, FF_F);
    for (int r = 0; r < FF_ROWS; r++)
        for (int j = 0; j < FF_F; j++)
            db1[j] += dact[r * FF_F + j];
    ri_nn_gemm(test_gemm(), 0, 1, FF_ROWS, FF_D, FF_F, 1.0f, dact, FF_F, c.W1, FF_F, 0.0f, dx, FF_D);
    double num[FF_ROWS * FF_F > FF_D * FF_F ? FF_ROWS * FF_F : FF_D * FF_F];
    const float eps = gelu ? 1e-2f : 1e-3f; /* ReLU: stay clear of its kink */
    numeric_grad(c.x, FF_ROWS * FF_D, eps, ff_loss, &c, num);
    expect_close("ffn dx", num, dx, FF_ROWS * FF_D, 1e-2);
    numeric_grad(c.W1, FF_D * FF_F, eps, ff_loss, &c, num);
    expect_close("ffn dW1", num, dW1, FF_D * FF_F, 1e-2);
    numeric_grad(c.b1, FF_F, eps, ff_loss, &c, num);
    expect_close("ffn db1", num, db1, FF_F, 1e-2);
    numeric_grad(c.W2, FF_F * FF_D, eps, ff_loss, &c, num);
    expect_close("ffn dW2", num, dW2, FF_F * FF_D, 1e-2);
    numeric_grad(c.b2, FF_D, eps, ff_loss, &c, num);
    expect_close("ffn db2", num, db2, FF_D, 1e-2);
}

START_TEST(grad_ffn_relu) { check_ffn(0); }
END_TEST
START_TEST(grad_ffn_gelu) { check_ffn(1); }
END_TEST

/* ---- attention --------------------------------------------------------- */

enum { AT_D = 6 };
typedef struct {
    uint32_t heads, n;
    float *qkv, *dout, *probs, *o;
} at_case;

static double at_loss(void *v)
{
    at_case *c = v;
    ri_nn_attn_fwd(test_gemm(), c->qkv, c->n, AT_D, c->heads, c->probs, c->o, AT_D);
    return weighted_sum(c->o, c->dout, (size_t)c->n * AT_D);
}

/* A long sequence as well as short ones. */
static void check_attention(uint32_t heads, uint32_t n)
{
    uint64_t s = 11 + heads + n;
    at_case c = {heads, n, malloc((size_t)n * 3 * AT_D * sizeof(float)),
                 malloc((size_t)n * AT_D * sizeof(float)),
                 malloc((size_t)heads * n * n * sizeof(float)),
                 malloc((size_t)n * AT_D * sizeof(float))};
    float *o = malloc((size_t)n * AT_D * sizeof(float)), *o2 = malloc((size_t)n * AT_D * sizeof(float));
    float *dqkv = malloc((size_t)n * 3 * AT_D * sizeof(float)), *scr = malloc((size_t)n * n * sizeof(float));
    double *num = malloc((size_t)n * 3 * AT_D * sizeof(double)), *w = malloc(n * sizeof(double));
    ck_assert(c.qkv && c.dout && c.probs && c.o && o && o2 && dqkv && scr && num && w);
    fill_rand(c.qkv, (size_t)n * 3 * AT_D, 1.5f, &s);
    fill_rand(c.dout, (size_t)n * AT_D, 1.0f, &s);
    ri_nn_attn_fwd(test_gemm(), c.qkv, n, AT_D, heads, c.probs, o, AT_D);
    /* forward by its definition, in double: softmax over j <= i of q_i.k_j / sqrt(dh) */
    const uint32_t dh = AT_D / heads;
    for (uint32_t h = 0; h < heads; h++)
        for (uint32_t i = 0; i < n; i++) {
            double mx = -INFINITY, sum = 0;
            for (uint32_t j = 0; j <= i; j++) {
                double q = 0;
                for (uint32_t k = 0; k < dh; k++)
                    q += (double)c.qkv[i * 3 * AT_D + h * dh + k] *
                         c.qkv[j * 3 * AT_D + AT_D + h * dh + k];
                w[j] = q / sqrt((double)dh);
                mx = fmax(mx, w[j]);
            }
            for (uint32_t j = 0; j <= i; j++)
                sum += (w[j] = exp(w[j] - mx));
            for (uint32_t k = 0; k < dh; k++) {
                double out = 0;
                for (uint32_t j = 0; j <= i; j++)
                    out += w[j] / sum * c.qkv[j * 3 * AT_D + 2 * AT_D + h * dh + k];
                ck_assert_double_eq_tol(o[i * AT_D + h * dh + k], out, 1e-5);
            }
        }
    ri_nn_attn_bwd(test_gemm(), c.qkv, c.probs, c.dout, AT_D, n, AT_D, heads, dqkv, scr);
    numeric_grad(c.qkv, (size_t)n * 3 * AT_D, 1e-2f, at_loss, &c, num);
    expect_close("attention dqkv", num, dqkv, (size_t)n * 3 * AT_D, 1e-2);
    /* causality: the last row's q, k, v reach no earlier output */
    for (uint32_t j = 0; j < 3 * AT_D; j++)
        c.qkv[(n - 1) * 3 * AT_D + j] += 1.0f;
    ri_nn_attn_fwd(test_gemm(), c.qkv, n, AT_D, heads, c.probs, o2, AT_D);
    for (uint32_t i = 0; i < (n - 1) * AT_D; i++)
        ck_assert_float_eq(o[i], o2[i]);
    free(c.qkv);
    free(c.dout);
    free(c.probs);
    free(c.o);
    free(o);
    free(o2);
    free(dqkv);
    free(scr);
    free(num);
    free(w);
}

START_TEST(grad_attention_one_head) { check_attention(1, 5); }
END_TEST
START_TEST(grad_attention_two_heads) { check_attention(2, 5); }
END_TEST
START_TEST(grad_attention_long) { check_attention(2, 70); }
END_TEST

/* ---- losses ------------------------------------------------------------- */

enum { LS_ITEMS = 9, LS_D = 4, LS_ROWS = 5 };
typedef struct {
    ri_seq_arch a;
    ri_seq_rows rows;
    ri_seq_targets t;
    float H[LS_ROWS * LS_D], E[LS_ITEMS * LS_D];
    float *scratch;
} loss_case;

static double loss_of(void *v)
{
    loss_case *c = v;
    float dH[LS_ROWS * LS_D], dE[LS_ITEMS * LS_D] = {0};
    return ri_seq_loss_eval(&c->a, &c->rows, c->H, c->E, &c->t, dH, dE, c->scratch);
}

static void check_loss(ri_seq_loss kind)
{
    static const uint32_t offs[3] = {0, 2, 5}, items[LS_ROWS] = {0}, pos[LS_ROWS] = {0};
    /* row 2 has no target; sampled negatives include the target of row 0 (3) */
    static const uint32_t target[LS_ROWS] = {3, 1, UINT32_MAX, 8, 0};
    static const uint32_t bce_neg[LS_ROWS * 2] = {2, 5, 7, 0, 0, 0, 4, 4, 6, 1};
    static const uint32_t smp_neg[2 * 3] = {3, 5, 6, 2, 7, 8};
    uint64_t s = 21 + (uint64_t)kind;
    loss_case c;
    memset(&c, 0, sizeof c);
    c.a.n_items = LS_ITEMS;
    c.a.dim = LS_D;
    c.a.maxlen = 3;
    c.rows = (ri_seq_rows){2, offs, items, pos};
    c.t.kind = kind;
    c.t.target = target;
    c.t.neg = kind == RI_SEQ_BCE ? bce_neg : smp_neg;
    c.t.n_neg = kind == RI_SEQ_BCE ? 2 : kind == RI_SEQ_SAMPLED ? 3 : 0;
    c.t.scale = 0.25;
    c.scratch = malloc(ri_seq_loss_scratch(&c.a, kind, c.t.n_neg) * sizeof(float));
    ck_assert_ptr_nonnull(c.scratch);
    fill_rand(c.H, LS_ROWS * LS_D, 1.0f, &s);
    fill_rand(c.E, LS_ITEMS * LS_D, 1.0f, &s);
    float dH[LS_ROWS * LS_D], dE[LS_ITEMS * LS_D] = {0};
    const double loss = ri_seq_loss_eval(&c.a, &c.rows, c.H, c.E, &c.t, dH, dE, c.scratch);
    /* the value by its definition, in double */
    double want = 0;
    for (int r = 0; r < LS_ROWS; r++) {
        if (target[r] == UINT32_MAX)
            continue;
        double sc[LS_ITEMS];
        for (int i = 0; i < LS_ITEMS; i++) {
            sc[i] = 0;
            for (int j = 0; j < LS_D; j++)
                sc[i] += (double)c.H[r * LS_D + j] * c.E[i * LS_D + j];
        }
        if (kind == RI_SEQ_BCE) {
            want += log1p(exp(-sc[target[r]]));
            for (int k = 0; k < 2; k++)
                want += log1p(exp(sc[bce_neg[r * 2 + k]]));
        } else {
            /* softmax over all items, or over the target and the sequence's
             * negatives other than the target */
            double z = kind == RI_SEQ_SOFTMAX ? 0 : exp(sc[target[r]]);
            for (int i = 0; kind == RI_SEQ_SOFTMAX && i < LS_ITEMS; i++)
                z += exp(sc[i]);
            const uint32_t *ng = smp_neg + (r < 2 ? 0 : 3);
            for (int k = 0; kind == RI_SEQ_SAMPLED && k < 3; k++)
                if (ng[k] != target[r])
                    z += exp(sc[ng[k]]);
            want += log(z) - sc[target[r]];
        }
    }
    ck_assert_double_eq_tol(loss, want * 0.25, 1e-5);
    for (int j = 0; j < LS_D; j++)
        ck_assert_float_eq(dH[2 * LS_D + j], 0.0f);
    double num[LS_ITEMS * LS_D];
    numeric_grad(c.H, LS_ROWS * LS_D, 1e-2f, loss_of, &c, num);
    expect_close("loss dH", num, dH, LS_ROWS * LS_D, 1e-2);
    numeric_grad(c.E, LS_ITEMS * LS_D, 1e-2f, loss_of, &c, num);
    expect_close("loss dE", num, dE, LS_ITEMS * LS_D, 1e-2);
    free(c.scratch);
}

START_TEST(grad_loss_bce) { check_loss(RI_SEQ_BCE); }
END_TEST
START_TEST(grad_loss_softmax) { check_loss(RI_SEQ_SOFTMAX); }
END_TEST
START_TEST(grad_loss_sampled_softmax) { check_loss(RI_SEQ_SAMPLED); }
END_TEST

/* ---- the whole network ------------------------------------------------ */

typedef struct {
    ri_seq_arch a;
    float *theta;
    ri_seq_rows rows;
    ri_seq_targets t;
    float p;
    void *ws_buf;
    float *scratch;
} net_case;

static const uint32_t NET_OFFS[3] = {0, 3, 7};
static const uint32_t NET_ITEMS[7] = {1, 4, 2, 0, 5, 5, 3};
static const uint32_t NET_POS[7] = {2, 3, 4, 1, 2, 3, 4};
static const uint32_t NET_TARGET[7] = {4, 2, 6, 5, 5, 3, 1};
static const uint32_t NET_NEG[7] = {0, 3, 1, 2, 6, 4, 0};

/* Loss (and with grad, its gradient added to grad) of the case; dropout masks
 * come from a fixed seed, so every evaluation drops the same units. */
static double net_eval(net_case *c, float *grad)
{
    ri_seq_ws *w = ri_seq_ws_init(&c->a, c->ws_buf, 7, 9 + 16);
    ri_rng rng;
    ri_rng_seed(&rng, 5, 1);
    ri_seq_forward(&c->a, c->theta, &c->rows, w, c->p, &rng);
    float dH[7 * 8];
    float *dE = grad ? ri_seq_E(&c->a, grad) : calloc(c->a.n_items * c->a.dim, sizeof(float));
    double loss = ri_seq_loss_eval(&c->a, &c->rows, ri_seq_ws_out(w), ri_seq_E(&c->a, c->theta),
                                   &c->t, dH, dE, c->scratch);
    if (grad)
        ri_seq_backward(&c->a, c->theta, &c->rows, w, c->p, dH, grad);
    else
        free(dE);
    return loss;
}

static double net_loss(void *v) { return net_eval(v, NULL); }

static void check_network(int post_ln, int gelu, uint32_t heads, float p, ri_seq_loss kind)
{
    net_case c;
    memset(&c, 0, sizeof c);
    c.a = (ri_seq_arch){7, 4, 5, 2, heads, 4, post_ln, gelu};
    const size_t np = ri_seq_n_params(&c.a);
    c.theta = malloc(np * sizeof(float));
    float *grad = calloc(np, sizeof(float));
    double *num = malloc(np * sizeof(double));
    c.ws_buf = ri_aligned_alloc(ri_seq_ws_bytes(&c.a, 7, 25), 1);
    c.scratch = malloc(ri_seq_loss_scratch(&c.a, kind, 1) * sizeof(float));
    ck_assert(c.theta && grad && num && c.ws_buf && c.scratch);
    ri_seq_init_params(&c.a, c.theta, 3);
    /* perturb gains and biases too, so that their gradients are generic */
    uint64_t s = 99;
    for (size_t i = 0; i < np; i++)
        c.theta[i] += 0.2f * urand(&s);
    c.rows = (ri_seq_rows){2, NET_OFFS, NET_ITEMS, NET_POS};
    c.t = (ri_seq_targets){kind, NET_TARGET, NET_NEG, kind == RI_SEQ_SOFTMAX ? 0 : 1, 1.0 / 7};
    c.p = p;
    net_eval(&c, grad);
    numeric_grad(c.theta, np, gelu ? 1e-2f : 2e-3f, net_loss, &c, num);
    /* per tensor: embeddings, positions, final norm, then each block's pieces */
    const size_t d = c.a.dim, f = c.a.ffn;
    size_t sizes[4 + 12] = {c.a.n_items * d, c.a.maxlen * d, d, d};
    const size_t blk[12] = {d, d, 3 * d * d, 3 * d, d * d, d, d, d, d * f, f, f * d, d};
    static const char *names[16] = {"E", "P", "final g", "final b", "ln1 g", "ln1 b", "Wqkv",
                                    "bqkv", "Wo", "bo", "ln2 g", "ln2 b", "W1", "b1", "W2", "b2"};
    memcpy(sizes + 4, blk, sizeof blk);
    size_t off = 0;
    for (uint32_t b = 0; b <= c.a.blocks; b++) {
        for (int k = b == 0 ? 0 : 4; k < (b == 0 ? 4 : 16); k++) {
            char what[96];
            snprintf(what, sizeof what, "network (%s-LN, %s, %u heads, p %.1f) block %u %s",
                     post_ln ? "post" : "pre", gelu ? "gelu" : "relu", heads, (double)p, b,
                     names[k]);
            if (post_ln && b == 0 && k >= 2) {
                /* post-LN has no final norm: its parameters get no gradient */
                for (size_t i = 0; i < sizes[k]; i++)
                    ck_assert_float_eq(grad[off + i], 0.0f);
            } else {
                expect_close(what, num + off, grad + off, sizes[k], 1e-2);
            }
            off += sizes[k];
        }
        if (b == 0)
            ck_assert_uint_eq(off, (c.a.n_items + c.a.maxlen + 2) * d);
    }
    ck_assert_uint_eq(off, np);
    free(c.theta);
    free(grad);
    free(num);
    ri_aligned_free(c.ws_buf);
    free(c.scratch);
}

START_TEST(grad_network_pre_ln) { check_network(0, 1, 2, 0.0f, RI_SEQ_BCE); }
END_TEST
START_TEST(grad_network_post_ln) { check_network(1, 1, 1, 0.0f, RI_SEQ_BCE); }
END_TEST
START_TEST(grad_network_relu_dropout) { check_network(0, 0, 2, 0.3f, RI_SEQ_BCE); }
END_TEST
START_TEST(grad_network_softmax) { check_network(0, 1, 1, 0.0f, RI_SEQ_SOFTMAX); }
END_TEST

/* Packing sequences together changes no row: the output of a batch equals each
 * sequence run alone (nothing leaks across sequences). */
START_TEST(packing_and_causality)
{
    ri_seq_arch a = {7, 4, 5, 2, 2, 4, 0, 1};
    const size_t np = ri_seq_n_params(&a);
    float *theta = malloc(np * sizeof(float));
    ck_assert_ptr_nonnull(theta);
    ri_seq_init_params(&a, theta, 8);
    void *buf = ri_aligned_alloc(ri_seq_ws_bytes(&a, 7, 25), 1);
    ck_assert_ptr_nonnull(buf);
    ri_seq_rows both = {2, NET_OFFS, NET_ITEMS, NET_POS};
    ri_seq_ws *w = ri_seq_ws_init(&a, buf, 7, 25);
    ri_seq_forward(&a, theta, &both, w, 0.0f, NULL);
    float out[7 * 4];
    memcpy(out, ri_seq_ws_out(w), sizeof out);
    ri_seq_state st = {a, theta, 0, NULL, NULL, {0}};
    float v[4];
    /* the second sequence alone (its positions are the serving ones: 1..4 of 5) */
    RI_OK(ri_seq_vector(&st, NET_ITEMS + 3, 4, v));
    for (int j = 0; j < 4; j++)
        ck_assert_float_eq_tol(v[j], out[6 * 4 + j], 1e-5f);
    /* a prefix's vector is the earlier row of the longer sequence */
    uint32_t offs1[2] = {0, 4}, pos1[4] = {1, 2, 3, 4};
    ri_seq_rows one = {1, offs1, NET_ITEMS + 3, pos1};
    w = ri_seq_ws_init(&a, buf, 4, 16);
    ri_seq_forward(&a, theta, &one, w, 0.0f, NULL);
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < 4; j++)
            ck_assert_float_eq_tol(ri_seq_ws_out(w)[r * 4 + j], out[(3 + r) * 4 + j], 1e-5f);
    /* a longer sequence than maxlen reads its last maxlen items only */
    uint32_t longer[7] = {6, 6, NET_ITEMS[3], NET_ITEMS[4], NET_ITEMS[5], NET_ITEMS[6], 0};
    float v6[4], v5[4];
    RI_OK(ri_seq_vector(&st, longer, 7, v6));
    RI_OK(ri_seq_vector(&st, longer + 2, 5, v5));
    for (int j = 0; j < 4; j++)
        ck_assert_float_eq(v6[j], v5[j]);
    /* empty: zeros */
    RI_OK(ri_seq_vector(&st, NULL, 0, v));
    for (int j = 0; j < 4; j++)
        ck_assert_float_eq(v[j], 0.0f);
    ri_aligned_free(buf);
    free(theta);
}
END_TEST

/* ---- training and serving -------------------------------------------- */

/* Users walk a cycle of N_CYC items from a random start: the next item is
 * always (item + 1) mod N_CYC, which only the order reveals (every user sees
 * most items). */
#define N_CYC 12
#define N_CYC_USERS 100
static recint_dataset *cycle_dataset(void)
{
    int64_t u[N_CYC_USERS * 10], it[N_CYC_USERS * 10], ts[N_CYC_USERS * 10];
    size_t n = 0;
    uint64_t s = 5;
    for (int user = 0; user < N_CYC_USERS; user++) {
        const int start = (int)((urand(&s) + 1.0f) * 0.5f * N_CYC) % N_CYC;
        const int len = 4 + user % 3;
        for (int k = 0; k < len; k++, n++) {
            u[n] = user;
            it[n] = (start + k) % N_CYC;
            ts[n] = 1000 + 10 * k;
        }
    }
    recint_dataset *ds;
    RI_OK(recint_dataset_new(&ds, NULL));
    /* items 0..N_CYC-1 get indices 0.. in order */
    int64_t all[N_CYC];
    for (int i = 0; i < N_CYC; i++)
        all[i] = i;
    RI_OK(recint_dataset_reserve_ids(ds, 0, NULL, N_CYC, all));
    RI_OK(recint_dataset_add(ds, n, u, it, NULL, ts));
    return ds;
}

static recint_model *fit_seq(const recint_dataset *ds, const char *const *pairs)
{
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    for (; *pairs; pairs++)
        RI_OK(recint_config_set_pair(cfg, *pairs));
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "sequential", cfg));
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    recint_trainer_free(t);
    recint_config_free(cfg);
    return m;
}

static const char *const CYC_CFG[] = {"dim=16", "maxlen=8", "epochs=60", "threads=2",
                                      "dropout=0", "learning_rate=0.01", "batch_size=16",
                                      "heads=2", NULL};

/* The model's pick after sequence items: does it follow the cycle? */
static int follows_cycle(const recint_model *m, const char *loss)
{
    int hits = 0;
    for (uint32_t last = 0; last < N_CYC; last++) {
        uint32_t seq[3] = {(last + N_CYC - 2) % N_CYC, (last + N_CYC - 1) % N_CYC, last};
        float v[16];
        RI_OK(recint_model_sequence_vector(m, seq, 3, v));
        /* the sequence's own items are out, as a user's seen items are */
        uint32_t ex[3] = {seq[0], seq[1], seq[2]}, top, n;
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                if (ex[j] < ex[i]) {
                    uint32_t t = ex[i];
                    ex[i] = ex[j];
                    ex[j] = t;
                }
        RI_OK(recint_model_recommend_vector(m, v, 1, NULL, ex, 3, &top, NULL, &n));
        ck_assert_uint_eq(n, 1);
        hits += top == (last + 1) % N_CYC;
    }
    (void)loss;
    return hits;
}

static void learns_cycle(const char *loss)
{
    recint_dataset *ds = cycle_dataset();
    char lp[64];
    snprintf(lp, sizeof lp, "loss=%s", loss);
    const char *pairs[16];
    size_t n = 0;
    for (; CYC_CFG[n]; n++)
        pairs[n] = CYC_CFG[n];
    pairs[n++] = lp;
    pairs[n++] = "negatives=4";
    pairs[n] = NULL;
    recint_model *m = fit_seq(ds, pairs);
    const int hits = follows_cycle(m, loss);
    ck_assert_msg(hits >= N_CYC - 1, "loss %s: the next item of the cycle ranks first for %d "
                  "of %d sequences", loss, hits, N_CYC);
    recint_model_free(m);
    recint_dataset_free(ds);
}

START_TEST(learns_next_item_bce) { learns_cycle("bce"); }
END_TEST
START_TEST(learns_next_item_softmax) { learns_cycle("softmax"); }
END_TEST
START_TEST(learns_next_item_sampled_softmax) { learns_cycle("sampled-softmax"); }
END_TEST

/* Post-LN with GELU and two heads trains through the public calls as well. */
START_TEST(learns_next_item_post_ln_gelu)
{
    recint_dataset *ds = cycle_dataset();
    const char *pairs[16];
    size_t n = 0;
    for (; CYC_CFG[n]; n++)
        pairs[n] = CYC_CFG[n];
    pairs[n++] = "loss=softmax";
    pairs[n++] = "norm=post";
    pairs[n++] = "activation=gelu";
    pairs[n] = NULL;
    recint_model *m = fit_seq(ds, pairs);
    const int hits = follows_cycle(m, "softmax");
    ck_assert_msg(hits >= N_CYC - 1, "post-LN: %d of %d", hits, N_CYC);
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST

/* Same seed and thread count: the same model, bit for bit (dropout, negatives,
 * shuffling and the parts' gradient sums are all seeded or ordered). */
START_TEST(deterministic)
{
    recint_dataset *ds = cycle_dataset();
    const char *pairs[] = {"dim=8", "maxlen=6", "epochs=3", "threads=2", "dropout=0.3",
                           "loss=bce", "batch_size=7", NULL};
    recint_model *a = fit_seq(ds, pairs), *b = fit_seq(ds, pairs);
    const ri_seq_state *sa = a->state, *sb = b->state;
    const size_t np = ri_seq_n_params(&sa->arch);
    ck_assert_int_eq(memcmp(sa->theta, sb->theta, np * sizeof(float)), 0);
    const char *other[] = {"dim=8", "maxlen=6", "epochs=3", "threads=2", "dropout=0.3",
                           "loss=bce", "batch_size=7", "seed=7", NULL};
    recint_model *c = fit_seq(ds, other);
    ck_assert_int_ne(memcmp(sa->theta, ((const ri_seq_state *)c->state)->theta,
                            np * sizeof(float)), 0);
    recint_model_free(a);
    recint_model_free(b);
    recint_model_free(c);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(serving_and_round_trip)
{
    recint_dataset *ds = cycle_dataset();
    const char *pairs[] = {"dim=16", "maxlen=8", "epochs=3", "threads=2", NULL};
    recint_model *m = fit_seq(ds, pairs);
    ck_assert_str_eq(recint_model_kind(m), "sequential");
    ck_assert_uint_eq(recint_model_dim(m), 16);
    /* a stored user's vector is the vector of its training sequence, in time order */
    const uint64_t *ip;
    const uint32_t *idx;
    RI_OK(recint_dataset_csr(ds, &ip, &idx, NULL, NULL));
    const uint32_t user = 7, len = (uint32_t)(ip[user + 1] - ip[user]);
    uint32_t seq[16];
    /* user 7's cycle: items ascending in time, wrapping at N_CYC */
    uint32_t first = idx[ip[user]];
    for (uint32_t k = 0; k + 1 < len; k++)
        if ((idx[ip[user] + k] + 1) % N_CYC != idx[ip[user] + k + 1])
            first = idx[ip[user] + k + 1];
    for (uint32_t k = 0; k < len; k++)
        seq[k] = (first + k) % N_CYC;
    float v[16];
    RI_OK(recint_model_sequence_vector(m, seq + (len > 8 ? len - 8 : 0), len > 8 ? 8 : len, v));
    uint32_t top_u[5], top_v[5], nu, nv;
    float su[5], sv[5];
    RI_OK(recint_model_recommend(m, user, 5, top_u, su, &nu));
    RI_OK(recint_model_recommend_vector(m, v, 5, NULL, idx + ip[user], len, top_v, sv, &nv));
    ck_assert_uint_eq(nu, nv);
    for (uint32_t r = 0; r < nu; r++) {
        ck_assert_uint_eq(top_u[r], top_v[r]);
        ck_assert_float_eq_tol(su[r], sv[r], 1e-5f);
    }
    /* fold-in reads the items as a sequence too */
    float vf[16];
    RI_OK(recint_model_fold_in(m, seq + (len > 8 ? len - 8 : 0), NULL, len > 8 ? 8 : len, vf));
    for (int j = 0; j < 16; j++)
        ck_assert_float_eq(vf[j], v[j]);
    /* batch equals single */
    uint32_t users[3] = {7, 0, 33}, bi[15], bc[3];
    float bs[15];
    RI_OK(recint_model_recommend_batch(m, users, 3, 5, NULL, NULL, bi, bs, bc));
    for (int r = 0; r < 3; r++) {
        uint32_t it[5], n;
        float sc[5];
        RI_OK(recint_model_recommend(m, users[r], 5, it, sc, &n));
        ck_assert_uint_eq(n, bc[r]);
        for (uint32_t k = 0; k < n; k++)
            ck_assert_uint_eq(it[k], bi[r * 5 + k]);
    }
    /* save / load: same vectors, same recommendations */
    char path[256];
    ri_test_tmp("seq.bin", path, sizeof path);
    RI_OK(recint_model_save(m, path));
    recint_model *back;
    RI_OK(recint_model_load(&back, path));
    remove(path);
    ck_assert_str_eq(recint_model_kind(back), "sequential");
    float v2[16];
    RI_OK(recint_model_sequence_vector(back, seq, len > 8 ? 8 : len, v2));
    RI_OK(recint_model_sequence_vector(m, seq, len > 8 ? 8 : len, v));
    for (int j = 0; j < 16; j++)
        ck_assert_float_eq(v[j], v2[j]);
    for (uint32_t u = 0; u < N_CYC_USERS; u++) {
        uint32_t a[4], b[4], na, nb;
        RI_OK(recint_model_recommend(m, u, 4, a, NULL, &na));
        RI_OK(recint_model_recommend(back, u, 4, b, NULL, &nb));
        ck_assert_uint_eq(na, nb);
        for (uint32_t k = 0; k < na; k++)
            ck_assert_uint_eq(a[k], b[k]);
    }
    recint_model_free(back);
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST

START_TEST(load_validates_sections)
{
    recint_dataset *ds = cycle_dataset();
    const char *pairs[] = {"dim=8", "maxlen=4", "epochs=1", "threads=1", NULL};
    recint_model *m = fit_seq(ds, pairs);
    const ri_seq_state *s = m->state;
    uint32_t arch[8] = {N_CYC, 8, 4, 2, 1, 8, 0, 0};
    RI_OK(ri_test_load_with_section(m, "SEQARCH", arch, sizeof arch));
    arch[4] = 3; /* heads not dividing dim */
    ri_test_expect_section_error(m, "SEQARCH", arch, sizeof arch, "SEQARCH: architecture");
    arch[4] = 1;
    arch[0] = N_CYC + 1;
    ri_test_expect_section_error(m, "SEQARCH", arch, sizeof arch, "catalogue of 12 items");
    const size_t np = ri_seq_n_params(&s->arch);
    float *theta = malloc(np * sizeof(float));
    memcpy(theta, s->theta, np * sizeof(float));
    theta[np - 1] = NAN;
    ri_test_expect_section_error(m, "SEQPARAM", theta, np * sizeof(float), "is not finite");
    ri_test_expect_section_error(m, "SEQPARAM", theta, (np - 1) * sizeof(float), "SEQPARAM");
    const uint64_t nh = s->hist_ptr[s->n_users];
    uint32_t *hist = malloc(nh * sizeof(uint32_t));
    memcpy(hist, s->hist, nh * sizeof(uint32_t));
    hist[3] = N_CYC;
    ri_test_expect_section_error(m, "SEQHIST", hist, nh * sizeof(uint32_t), "out of range");
    uint64_t *ptr = malloc((s->n_users + 1) * sizeof(uint64_t));
    memcpy(ptr, s->hist_ptr, (s->n_users + 1) * sizeof(uint64_t));
    ptr[1] = ptr[2] + 1;
    ri_test_expect_section_error(m, "SEQHPTR", ptr, (s->n_users + 1) * sizeof(uint64_t), "history runs");
    free(theta);
    free(hist);
    free(ptr);
    recint_model_free(m);
    recint_dataset_free(ds);
}
END_TEST

static int cancel_after(void *ctx, uint32_t step, uint32_t steps, double loss)
{
    (void)steps;
    uint32_t *calls = ctx;
    ck_assert(isfinite(loss) && loss > 0);
    (*calls)++;
    return step >= 2;
}

START_TEST(cancel_keeps_last_epoch)
{
    recint_dataset *ds = cycle_dataset();
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "dim", "8"));
    RI_OK(recint_config_set(cfg, "epochs", "10"));
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "sequential", cfg));
    RI_OK(recint_trainer_new(&t, m, cfg));
    uint32_t calls = 0;
    RI_FAILS(RECINT_ECANCELED, recint_trainer_fit(t, ds, NULL, cancel_after, &calls));
    ck_assert_uint_eq(calls, 2);
    /* the state of the second epoch serves */
    uint32_t it[3], n;
    RI_OK(recint_model_recommend(m, 0, 3, it, NULL, &n));
    ck_assert_uint_eq(n, 3);
    recint_trainer_free(t);
    recint_model_free(m);
    recint_config_free(cfg);
    recint_dataset_free(ds);
}
END_TEST

static int count_epochs(void *ctx, uint32_t step, uint32_t steps, double loss)
{
    (void)step;
    (void)steps;
    (void)loss;
    (*(uint32_t *)ctx)++;
    return 0;
}

/* Once the validation metric stops improving (the cycle is learned, it cannot)
 * the fit stops after patience validations and keeps the best state: the one
 * after epoch (reported epochs - patience), bit for bit a fit of that many
 * epochs without validation (every trained epoch is reported, the one
 * patience stops at included). */
START_TEST(early_stopping)
{
    recint_dataset *ds = cycle_dataset(), *train, *valid, *test;
    RI_OK(recint_dataset_split(ds, "loo", 1, &train, &valid, &test));
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    const char *pairs[] = {"dim=16", "maxlen=8", "epochs=200", "threads=2", "dropout=0",
                           "learning_rate=0.01", "batch_size=16", "patience=3", NULL};
    for (const char *const *p = pairs; *p; p++)
        RI_OK(recint_config_set_pair(cfg, *p));
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_model_new(&m, "sequential", cfg));
    RI_OK(recint_trainer_new(&t, m, cfg));
    uint32_t epochs = 0;
    RI_OK(recint_trainer_fit(t, train, valid, count_epochs, &epochs));
    ck_assert_msg(epochs < 200, "no early stop after %u epochs", epochs);
    double v[RECINT_METRIC_COUNT];
    RI_OK(recint_evaluate_next(m, train, valid, 1, NULL, v, RECINT_METRIC_COUNT));
    ck_assert_msg(v[RECINT_METRIC_FULL_HR] > 0.9, "validation HR@1 of the kept state %.3f",
                  v[RECINT_METRIC_FULL_HR]);
    char kept[32];
    snprintf(kept, sizeof kept, "%u", epochs - 3);
    RI_OK(recint_config_set(cfg, "epochs", kept));
    recint_model *ref;
    recint_trainer *tr;
    RI_OK(recint_model_new(&ref, "sequential", cfg));
    RI_OK(recint_trainer_new(&tr, ref, cfg));
    RI_OK(recint_trainer_fit(tr, train, NULL, NULL, NULL));
    const uint32_t nu = recint_dataset_n_users(train), ni = recint_dataset_n_items(train);
    float *sa = malloc((size_t)nu * ni * sizeof(float)), *sb = malloc((size_t)nu * ni * sizeof(float));
    ck_assert(sa && sb);
    uint32_t *users = malloc(nu * sizeof(uint32_t));
    ck_assert(users);
    for (uint32_t k = 0; k < nu; k++)
        users[k] = k;
    RI_OK(recint_model_score(m, users, nu, NULL, 0, sa));
    RI_OK(recint_model_score(ref, users, nu, NULL, 0, sb));
    ck_assert_msg(memcmp(sa, sb, (size_t)nu * ni * sizeof(float)) == 0,
                  "the kept state is not the state after epoch %s of %u reported", kept, epochs);
    free(sa);
    free(sb);
    free(users);
    recint_trainer_free(tr);
    recint_model_free(ref);
    recint_trainer_free(t);
    recint_model_free(m);
    recint_config_free(cfg);
    recint_dataset_free(ds);
    recint_dataset_free(train);
    recint_dataset_free(valid);
    recint_dataset_free(test);
}
END_TEST

START_TEST(errors)
{
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "heads", "3"));
    recint_model *m = NULL;
    RI_FAILS(RECINT_EINVAL, recint_model_new(&m, "sequential", cfg));
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "multiple of heads"));
    RI_OK(recint_config_set(cfg, "heads", "1"));
    RI_FAILS(RECINT_EINVAL, recint_config_set(cfg, "norm", "middle"));
    RI_FAILS(RECINT_EINVAL, recint_config_set(cfg, "dropout", "1"));
    RI_OK(recint_model_new(&m, "sequential", cfg));
    uint32_t seq[2] = {0, 1};
    float v[64];
    RI_FAILS(RECINT_ESTATE, recint_model_sequence_vector(m, seq, 2, v));
    RI_FAILS(RECINT_EINVAL, recint_model_sequence_vector(NULL, seq, 2, v));
    RI_FAILS(RECINT_EINVAL, recint_model_sequence_vector(m, NULL, 2, v));
    RI_FAILS(RECINT_EINVAL, recint_model_sequence_vector(m, seq, 2, NULL));
    /* objectives of other kinds and the adagrad optimizer are refused by the fit */
    recint_dataset *ds = cycle_dataset();
    recint_trainer *t;
    RI_OK(recint_config_set(cfg, "loss", "warp"));
    RI_OK(recint_trainer_new(&t, m, cfg));
    RI_FAILS(RECINT_EINVAL, recint_trainer_fit(t, ds, NULL, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "loss 'warp'"));
    recint_trainer_free(t);
    RI_OK(recint_config_set(cfg, "loss", "auto"));
    RI_OK(recint_config_set(cfg, "optimizer", "adagrad"));
    RI_OK(recint_trainer_new(&t, m, cfg));
    RI_FAILS(RECINT_EINVAL, recint_trainer_fit(t, ds, NULL, NULL, NULL));
    recint_trainer_free(t);
    recint_model_free(m);
    /* out of range items; other kinds */
    const char *pairs[] = {"dim=8", "maxlen=4", "epochs=1", NULL};
    m = fit_seq(ds, pairs);
    seq[1] = N_CYC;
    RI_FAILS(RECINT_ERANGE, recint_model_sequence_vector(m, seq, 2, v));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "items[1] = 12"));
    recint_model_free(m);
    RI_OK(recint_model_new(&m, "pop", NULL));
    recint_trainer *tp;
    RI_OK(recint_trainer_new(&tp, m, NULL));
    RI_OK(recint_trainer_fit(tp, ds, NULL, NULL, NULL));
    seq[1] = 1;
    RI_FAILS(RECINT_EUNSUPPORTED, recint_model_sequence_vector(m, seq, 2, v));
    recint_trainer_free(tp);
    recint_model_free(m);
    recint_dataset_free(ds);
    recint_config_free(cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sequential");
    TCase *tc = tcase_create("sequential");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, exp_nonpos_accuracy);
    tcase_add_test(tc, grad_layer_norm);
    tcase_add_test(tc, grad_ffn_relu);
    tcase_add_test(tc, grad_ffn_gelu);
    tcase_add_test(tc, grad_attention_one_head);
    tcase_add_test(tc, grad_attention_two_heads);
    tcase_add_test(tc, grad_attention_long);
    tcase_add_test(tc, grad_loss_bce);
    tcase_add_test(tc, grad_loss_softmax);
    tcase_add_test(tc, grad_loss_sampled_softmax);
    tcase_add_test(tc, grad_network_pre_ln);
    tcase_add_test(tc, grad_network_post_ln);
    tcase_add_test(tc, grad_network_relu_dropout);
    tcase_add_test(tc, grad_network_softmax);
    tcase_add_test(tc, packing_and_causality);
    tcase_add_test(tc, learns_next_item_bce);
    tcase_add_test(tc, learns_next_item_softmax);
    tcase_add_test(tc, learns_next_item_sampled_softmax);
    tcase_add_test(tc, learns_next_item_post_ln_gelu);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, serving_and_round_trip);
    tcase_add_test(tc, load_validates_sections);
    tcase_add_test(tc, cancel_keeps_last_epoch);
    tcase_add_test(tc, early_stopping);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
