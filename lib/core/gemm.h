/* The library's one matrix multiply: BLIS micro-kernels under the library's own
 * blocking and packing loops, with packing buffers the caller owns.
 *
 * Why not bli_sgemm: BLIS's framework initialises itself from the process
 * environment (BLIS_ARCH_TYPE, BLIS_ARCH_DEBUG, thread variables), prints
 * and calls abort() when that or one of its own allocations fails, and keeps
 * process-wide state. The micro-kernels are leaf functions (no allocation,
 * no environment, no output), so driving only them keeps every promise of the
 * library: failures are the caller's allocations, reported as RECINT_ENOMEM.
 * docs/threading.md explains the choice. */
#ifndef RI_GEMM_H
#define RI_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* The micro-kernel ABI of BLIS 0.9 (sgemm_ukr_ft): C (m x n, m <= mr,
 * n <= nr, strides rs_c, cs_c) = alpha * a * b + beta * C, where a is an
 * mr-row panel packed column by column (k columns of mr floats) and b an
 * nr-column panel packed row by row; beta == 0 overwrites C (NaN included). */
typedef void (*ri_ukr_fn)(int64_t m, int64_t n, int64_t k, float *alpha, float *a, float *b,
                          float *beta, float *c, int64_t rs_c, int64_t cs_c, void *aux,
                          void *cntx);

/* BLIS 0.9's auxinfo_t, the kernels' aux argument (the kernels read a_next
 * and b_next for prefetching; tests/test_gemm.c checks the layout against
 * blis.h). */
typedef struct {
    int schema_a, schema_b; /* pack_t */
    void *a_next, *b_next;
    int64_t is_a, is_b, ps_a, ps_b;
    void (*ukr)(void);
    void *params;
} ri_blis_aux;

typedef struct {
    ri_ukr_fn ukr;
    uint32_t mr, nr;
    int prefers_cols; /* the kernel writes column-stored C tiles fastest */
    const char *name; /* "skx", "haswell" (BLIS's kernel sets) or "portable" */
} ri_gemm_kernel;

/* The kernel for level isa (clamped to what this CPU runs), from the core's
 * kernel table (ri_kernels_get): BLIS's skx set at AVX-512, haswell at AVX2,
 * the portable C kernel otherwise (and always when the build has no static
 * BLIS archive). Never fails. */
void ri_gemm_kernel_get(ri_isa isa, ri_gemm_kernel *out);
/* The table's entries. */
extern const ri_gemm_kernel ri_gemm_portable;
#ifndef RI_NO_BLIS
extern const ri_gemm_kernel ri_gemm_haswell, ri_gemm_skx;
#endif

/* Workspace floats that let ri_gemm use its full block sizes. Less works
 * (down to RI_GEMM_WS_MIN), with smaller blocks. */
#define RI_GEMM_WS_FLOATS ((size_t)256 * (192 + 768) + 16)
#define RI_GEMM_WS_MIN ((size_t)8 * (32 + 32) + 16)

/* A kernel and a packing workspace (64-byte aligned, ws_floats floats): one per
 * thread, never shared between concurrent calls. */
typedef struct {
    ri_gemm_kernel k;
    float *ws;
    size_t ws_floats;
} ri_gemm_ctx;

/* C = alpha * op(A) * op(B) + beta * C, all row-major; op(A) is m x k (A^T
 * when ta, read from A with leading dimension lda), op(B) k x n, C m x n
 * with leading dimension ldc. beta == 0 overwrites C. Runs in the calling
 * thread; cannot fail. */
void ri_gemm(const ri_gemm_ctx *g, int ta, int tb, size_t m, size_t n, size_t k, float alpha,
             const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
             size_t ldc);

/* The pieces ri_gemm is made of, for callers that pack an operand once and
 * multiply it many times (the batch path):
 * rows x k of src (row stride ld) into panels of w rows, each k columns of w
 * floats, rows past the end zero: the layout of a kernel side of width w
 * (k->mr for its A side, k->nr for its B side). */
void ri_gemm_pack_rows(const float *src, size_t ld, size_t rows, size_t k, uint32_t w,
                       float *out);
/* C (M x N, strides rs_c, cs_c) = alpha * A B + beta * C for A packed in
 * panels of k->mr rows (M x K) and B^T in panels of k->nr rows (N x K). */
void ri_gemm_packed(const ri_gemm_kernel *k, size_t M, size_t N, size_t K, float alpha,
                    const float *ap, const float *bp, float beta, float *C, size_t rs_c,
                    size_t cs_c);

/* G = Y^T Y (dim x dim) for Y (rows x dim, row-major) with a packing buffer on
 * the stack: for callers that have no workspace and must not fail. */
void ri_gemm_gram(ri_isa isa, const float *Y, size_t rows, uint32_t dim, float *G);

#endif
