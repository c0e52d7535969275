/* placeholder until implemented */
typedef int ri_placeholder_kernel_scalar;
