/* Run-time choice of the single-user kernels: CPUID for what the CPU has and
 * XGETBV for what the OS saves on context switches (a CPU may have AVX-512 that
 * the kernel does not enable, and executing it then faults). */
#include <cpuid.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "util/error.h"
#include "core/kernels.h"

typedef struct {
    int avx2_fma, avx512f, vnni;
} cpu_caps;

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    /* Raw opcode of xgetbv: the function stays compilable for baseline x86-64. */
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static cpu_caps cpu_detect(void)
{
    cpu_caps c = {0, 0, 0};
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d))
        return c;
    int osxsave = (cx >> 27) & 1, avx = (cx >> 28) & 1, fma = (cx >> 12) & 1;
    if (!osxsave || !avx)
        return c;
    uint64_t xcr0 = xgetbv0();
    int ymm_os = (xcr0 & 0x6) == 0x6;           /* SSE and AVX state */
    int zmm_os = ymm_os && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM_Hi256, Hi16_ZMM */
    if (__get_cpuid_max(0, NULL) < 7)
        return c;
    __cpuid_count(7, 0, a, b, cx, d);
    int avx2 = (b >> 5) & 1, f = (b >> 16) & 1, bw = (b >> 30) & 1, vnni = (cx >> 11) & 1;
    int dq = (b >> 17) & 1, cd = (b >> 28) & 1, vl = (b >> 31) & 1;
    c.avx2_fma = ymm_os && avx2 && fma;
    /* The AVX-512 level is the set core/target.h compiles its kernels for: F
     * alone (Knights Landing) would run VL and DQ instructions it lacks. It is
     * also what BLIS's skx kernels need (bli_cpuid.c). */
    c.avx512f = c.avx2_fma && zmm_os && f && cd && bw && dq && vl;
    c.vnni = c.avx512f && vnni;
    return c;
}

ri_isa ri_core_isa_detect(void)
{
    cpu_caps c = cpu_detect();
    return c.avx512f ? RI_ISA_AVX512 : c.avx2_fma ? RI_ISA_AVX2 : RI_ISA_SCALAR;
}

int ri_core_cpu_has_vnni(void) { return cpu_detect().vnni; }

const char *ri_core_isa_name(ri_isa isa)
{
    switch (isa) {
    case RI_ISA_SCALAR: return "scalar";
    case RI_ISA_AVX2: return "avx2";
    case RI_ISA_AVX512: return "avx512";
    }
    return "unknown";
}

static int parse_level(const char *w, ri_isa *out)
{
    static const ri_isa levels[] = {RI_ISA_SCALAR, RI_ISA_AVX2, RI_ISA_AVX512};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strcmp(w, ri_core_isa_name(levels[i])) == 0) {
            *out = levels[i];
            return 1;
        }
    return 0;
}

int ri_core_isa_resolve(const char *request, ri_isa *out)
{
    if (!request || !out)
        return ri_error(RECINT_EINVAL, "isa: NULL %s", request ? "output" : "request");
    ri_isa best = ri_core_isa_detect(), want;
    if (strcmp(request, "auto") == 0) {
        /* The variable may only lower the level: a test asking for avx512 on
         * an AVX2 machine still runs, on the best the machine has. */
        const char *env = getenv("RECINT_ISA");
        want = best;
        if (env && *env && strcmp(env, "auto") != 0) {
            if (!parse_level(env, &want))
                return ri_error(RECINT_EINVAL,
                                "environment RECINT_ISA='%s': expected auto, scalar, avx2 or avx512",
                                env);
            if (want > best)
                want = best;
        }
        *out = want;
        return RECINT_OK;
    }
    if (!parse_level(request, &want))
        return ri_error(RECINT_EINVAL, "isa '%s': expected auto, scalar, avx2 or avx512", request);
    if (want > best)
        return ri_error(RECINT_EUNSUPPORTED, "isa '%s': this CPU (or OS) supports at most '%s'",
                        request, ri_core_isa_name(best));
    *out = want;
    return RECINT_OK;
}

/* The one table of the core's kernels: the reference (portable) entries
 * first, then each level overrides what it has a faster kernel for, so a
 * kernel added at one level needs no entry at the others. */
void ri_kernels_get(ri_isa isa, int vnni, ri_kernels *k)
{
    *k = (ri_kernels){ri_fp32_block_scalar, ri_i8_block_scalar, 127, ri_gemm_portable};
    if (isa >= RI_ISA_AVX2) {
        k->fp32 = ri_fp32_block_avx2;
        k->i8 = ri_i8_block_avx2;
        k->i8_qmax = 63; /* vpmaddubsw saturates 16-bit pair sums beyond 7-bit codes */
#ifndef RI_NO_BLIS
        k->gemm = ri_gemm_haswell;
#endif
    }
    if (isa >= RI_ISA_AVX512) {
        k->fp32 = ri_fp32_block_avx512;
        if (vnni) {
            k->i8 = ri_i8_block_vnni;
            k->i8_qmax = 127;
        }
#ifndef RI_NO_BLIS
        /* the level's CPU check is the set BLIS's skx kernels need */
        k->gemm = ri_gemm_skx;
#endif
    }
}
