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

#endif
