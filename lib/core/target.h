/* Target attributes of the hand-written kernels: one per level of
 * ri_core_isa_detect (isa.c), so that a function compiled for a level uses only
 * what that level's CPU check guarantees. A kernel file marks its functions
 * with these and never spells a target string itself; the rest of the library
 * stays baseline x86-64 and a caller picks a kernel by the detected level. */
#ifndef RI_CORE_TARGET_H
#define RI_CORE_TARGET_H

/* RI_ISA_AVX2: AVX2 and FMA, with the OS saving ymm state. */
#define RI_TARGET_AVX2 __attribute__((target("avx2,fma")))

/* RI_ISA_AVX512: the Skylake-server set (F, CD, BW, DQ, VL; what BLIS's skx
 * kernels need too) besides AVX2 and FMA, with the OS saving zmm state. */
#define RI_TARGET_AVX512 \
    __attribute__((target("avx512f,avx512cd,avx512bw,avx512dq,avx512vl,avx2,fma")))

/* RI_ISA_AVX512 plus VNNI (ri_core_cpu_has_vnni): the int8 dot-product kernel only. */
#define RI_TARGET_AVX512_VNNI \
    __attribute__((target("avx512f,avx512cd,avx512bw,avx512dq,avx512vl,avx512vnni,avx2,fma")))

/* A body inlined into each compiled copy of its caller, so that each copy
 * (the clones below, the kernels' entry points) is compiled for its own target. */
#if defined(__GNUC__)
#define RI_INLINE_BODY inline __attribute__((always_inline))
#else
#define RI_INLINE_BODY inline
#endif

/* Whether the compiler can build AVX2 copies of baseline code. */
#if defined(__x86_64__) && defined(__GNUC__)
#define RI_CAN_TARGET_AVX2 1
#else
#define RI_CAN_TARGET_AVX2 0
#endif

#define RI_UNPAREN(...) __VA_ARGS__

/* RI_AVX2_CLONES(name, body, (params), (args)) defines
 *     static void name(int avx2, params)
 * which runs body(avx, args) from a copy compiled for RI_ISA_AVX2 when avx2 is
 * nonzero (the caller checked the level) and else from a baseline copy; avx is
 * the copy's constant (1 or 0) for a body that picks an intrinsic variant. It
 * is the one ISA dispatch of the loops the compiler vectorises (the training
 * sweeps); body is an RI_INLINE_BODY function returning void. */
#if RI_CAN_TARGET_AVX2
#define RI_AVX2_CLONES(name, body, params, args)                                                  \
    static void name##_baseline params { body(0, RI_UNPAREN args); }                              \
    RI_TARGET_AVX2 static void name##_avx2 params { body(1, RI_UNPAREN args); }                   \
    static void name(int avx2, RI_UNPAREN params)                                                 \
    {                                                                                             \
        if (avx2)                                                                                 \
            name##_avx2 args;                                                                     \
        else                                                                                      \
            name##_baseline args;                                                                 \
    }
#else
#define RI_AVX2_CLONES(name, body, params, args)                                                  \
    static void name(int avx2, RI_UNPAREN params)                                                 \
    {                                                                                             \
        (void)avx2;                                                                               \
        body(0, RI_UNPAREN args);                                                                 \
    }
#endif

#endif
