/* Membership in an ascending array (a user's training items, a chosen set):
 * the one binary search of the library. Inline: the training loops call it
 * once per drawn negative. */
#ifndef RI_SORTED_H
#define RI_SORTED_H

#include <stdint.h>

/* 1 when x is among a[0 .. n), which must be ascending; else 0. */
static inline int ri_sorted_has(const uint32_t *a, uint64_t n, uint32_t x)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && a[lo] == x;
}

#endif
