/* The library's own threads: started per call, joined before returning, so a host
 * program never has librecint threads running between calls. */
#ifndef RI_PARALLEL_H
#define RI_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

/* Work on [begin, end) by worker (0 .. threads-1; 0 is the calling thread).
 * Return RECINT_OK or a status; the first failure stops the loop. */
typedef int (*ri_range_fn)(void *ctx, size_t begin, size_t end, unsigned worker);

/* Thread count for a "threads" parameter: 0 means every online core. */
unsigned ri_threads_resolve(int64_t requested);
/* Run fn over [0, n) in chunks of `chunk` items handed out dynamically to up to
 * `threads` workers. Deterministic results need fn to be order-independent.
 * Workers block all signals. Returns the first failure (its message is carried
 * back to the calling thread) or RECINT_OK. */
int ri_parallel_for(unsigned threads, size_t n, size_t chunk, ri_range_fn fn, void *ctx);

#endif
