/* External id <-> dense index maps (int64 or strings), shared by datasets and
 * models. Internal constructors; the public reads are recint_idmap_*. */
#ifndef RI_IDMAP_H
#define RI_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "recint.h"

/* Empty map (kind RECINT_IDS_NONE until the first id). */
int ri_idmap_new(recint_idmap **out);
/* Int map holding ids 0..n-1 at indices 0..n-1 (synthetic data). */
int ri_idmap_new_range(recint_idmap **out, uint32_t n);
/* Int map from ids[0..n) at indices 0..n-1; EFORMAT on a repeated id. */
int ri_idmap_new_ints(recint_idmap **out, const int64_t *ids, uint32_t n);
/* String map from n strings; EFORMAT on a repeated id. */
int ri_idmap_new_strings(recint_idmap **out, const char *const *ids, uint32_t n);
int ri_idmap_copy(recint_idmap **out, const recint_idmap *src);
void ri_idmap_free(recint_idmap *m);
/* Index of id, appending it when absent (*added set to 1 then).
 * Errors: ESTATE (kind mismatch), ERANGE (map full), ENOMEM. */
int ri_idmap_intern(recint_idmap *m, int64_t id, uint32_t *index, int *added);
int ri_idmap_intern_str(recint_idmap *m, const char *id, size_t len, uint32_t *index, int *added);
/* Contiguous int64 ids of an int map (NULL otherwise), for serialisation. */
const int64_t *ri_idmap_ints(const recint_idmap *m);
/* 1 when both maps hold the same ids at the same indices (NULL equals an empty
 * map). Catalogue checks use it: equal sizes alone would let data loaded
 * separately, with other indices, be scored against a model and give garbage. */
int ri_idmap_equal(const recint_idmap *a, const recint_idmap *b);

#endif
