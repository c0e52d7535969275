/* Helpers shared by the dataset core (idmap.c, dataset.c, filter.c, split.c,
 * features_load.c, reweight.c). Not for the other modules: they use idmap.h and
 * dataset_internal.h. */
#ifndef RI_DATA_PRIVATE_H
#define RI_DATA_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "recint.h"

/* Look an id up without interning and without touching the error message:
 * 1 and *index when present, 0 when absent or of the other kind. */
int ri_idmap_find(const recint_idmap *m, int64_t id, uint32_t *index);
int ri_idmap_find_str(const recint_idmap *m, const char *id, size_t len, uint32_t *index);
/* Hint that id will be looked up soon: deep = 0 fetches its hash slot, deep = 1
 * (a few rows later, once the slot is cached) the id array entry it points to.
 * Lookups of many ids in a large map are dominated by these cache misses. */
void ri_idmap_prefetch(const recint_idmap *m, int64_t id, int deep);
/* Drop every id at index >= size (undoes interning after a failure). Never fails. */
void ri_idmap_truncate(recint_idmap *m, uint32_t size);
/* Reorder the ids at indices [from, size) so that they ascend (int order or
 * strcmp). On success perm[r] (r = old index - from) receives the new index
 * minus from. Errors: ENOMEM (map unchanged). */
int ri_idmap_sort_tail(recint_idmap *m, uint32_t from, uint32_t *perm);

/* New dataset over copies of ds's id maps holding the rows e of ds's CSR with
 * keep[e] == which (keep NULL: every row, a copy). When set_weight_one, the
 * kept rows get weight 1. */
int ri_dataset_select(recint_dataset **out, const recint_dataset *ds, const uint8_t *keep,
                      uint8_t which, int set_weight_one);

#endif
