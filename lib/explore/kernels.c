/* The explorer's two float kernels over candidate rows. Written once as plain
 * loops the compiler vectorises; the wrappers compile them for AVX-512 and AVX2
 * through target attributes (the rest of the library stays baseline x86-64),
 * picked at run time from the scoring core's instruction-set level. The policy
 * step's cost is these loops (docs/exploration.md, bench_explore). */
#include <string.h>

#include "explore_internal.h"

#define MAX_ROW 4096 /* the largest dim the config allows */

static inline __attribute__((always_inline)) void quad_body(const float *S, uint32_t dim,
                                                             const float *const *X, uint32_t n,
                                                             float *q, float *y)
{
    for (uint32_t i = 0; i < n; i++) {
        const float *x = X[i];
        memset(y, 0, dim * sizeof(float));
        for (uint32_t j = 0; j < dim; j++) {
            const float xj = x[j];
            const float *row = S + (size_t)j * dim;
            for (uint32_t c = 0; c < dim; c++)
                y[c] += xj * row[c];
        }
        float s = 0.0f;
        for (uint32_t c = 0; c < dim; c++)
            s += y[c] * x[c];
        q[i] = s;
    }
}

static inline __attribute__((always_inline)) void multidot_body(const float *T, uint32_t dim,
                                                                uint32_t m,
                                                                const float *const *X,
                                                                uint32_t n, float *out)
{
    for (uint32_t i = 0; i < n; i++) {
        const float *x = X[i];
        float *o = out + (size_t)i * m;
        memset(o, 0, m * sizeof(float));
        for (uint32_t j = 0; j < dim; j++) {
            const float xj = x[j];
            const float *row = T + (size_t)j * m;
            for (uint32_t s = 0; s < m; s++)
                o[s] += xj * row[s];
        }
    }
}

#define T512 __attribute__((target("avx512f,avx512vl,fma,avx2")))
#define T256 __attribute__((target("fma,avx2")))

T512 static void quad_512(const float *S, uint32_t dim, const float *const *X, uint32_t n,
                          float *q, float *y)
{
    quad_body(S, dim, X, n, q, y);
}
T256 static void quad_256(const float *S, uint32_t dim, const float *const *X, uint32_t n,
                          float *q, float *y)
{
    quad_body(S, dim, X, n, q, y);
}
static void quad_base(const float *S, uint32_t dim, const float *const *X, uint32_t n, float *q,
                      float *y)
{
    quad_body(S, dim, X, n, q, y);
}

T512 static void multidot_512(const float *T, uint32_t dim, uint32_t m, const float *const *X,
                              uint32_t n, float *out)
{
    multidot_body(T, dim, m, X, n, out);
}
T256 static void multidot_256(const float *T, uint32_t dim, uint32_t m, const float *const *X,
                              uint32_t n, float *out)
{
    multidot_body(T, dim, m, X, n, out);
}
static void multidot_base(const float *T, uint32_t dim, uint32_t m, const float *const *X,
                          uint32_t n, float *out)
{
    multidot_body(T, dim, m, X, n, out);
}

void ri_explore_quadforms(ri_isa isa, const float *S, uint32_t dim, const float *const *X,
                          uint32_t n, float *q)
{
    float y[MAX_ROW];
    if (isa == RI_ISA_AVX512)
        quad_512(S, dim, X, n, q, y);
    else if (isa == RI_ISA_AVX2)
        quad_256(S, dim, X, n, q, y);
    else
        quad_base(S, dim, X, n, q, y);
}

void ri_explore_multidot(ri_isa isa, const float *T, uint32_t dim, uint32_t m,
                         const float *const *X, uint32_t n, float *out)
{
    if (isa == RI_ISA_AVX512)
        multidot_512(T, dim, m, X, n, out);
    else if (isa == RI_ISA_AVX2)
        multidot_256(T, dim, m, X, n, out);
    else
        multidot_base(T, dim, m, X, n, out);
}
