/* Filters of recommendation calls: an allow-list and a block-list as bitsets
 * over the catalogue (the form the scoring core tests inside its scan), and
 * whether the user's training items stay excluded. A filter is only read by
 * the recommend calls, so one filter may serve many concurrent calls. */
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "models/model_internal.h"
#include "models/model_private.h"

static size_t words_of(uint32_t n_items) { return ((size_t)n_items + 63) / 64; }

RECINT_API int recint_filter_new(recint_filter **out, uint32_t n_items)
{
    if (!out)
        return ri_error(RECINT_EINVAL, "recint_filter_new: out is NULL");
    if (n_items == 0)
        return ri_error(RECINT_EINVAL, "recint_filter_new: n_items must be >= 1");
    recint_filter *f = RI_NEW_ZEROED(recint_filter, 1);
    if (!f)
        return ri_error(RECINT_ENOMEM, "recint_filter_new: out of memory");
    f->n_items = n_items;
    *out = f;
    return RECINT_OK;
}

RECINT_API void recint_filter_free(recint_filter *f)
{
    if (!f)
        return;
    free(f->allow);
    free(f->block);
    free(f);
}

/* Set the bits of items in *set, creating the (empty) set on first use. All
 * indices are checked before anything changes. */
static int add_items(const char *fn, recint_filter *f, uint64_t **set, const uint32_t *items,
                     size_t n)
{
    if (!f || (!items && n))
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn, !f ? "filter" : "items");
    for (size_t j = 0; j < n; j++)
        if (items[j] >= f->n_items)
            return ri_error(RECINT_ERANGE, "%s: items[%zu] = %u is out of range (n_items = %u)",
                            fn, j, items[j], f->n_items);
    if (!*set) {
        *set = RI_NEW_ZEROED(uint64_t, words_of(f->n_items));
        if (!*set)
            return ri_error(RECINT_ENOMEM, "%s: out of memory for %u items", fn, f->n_items);
    }
    for (size_t j = 0; j < n; j++)
        (*set)[items[j] / 64] |= UINT64_C(1) << (items[j] % 64);
    return RECINT_OK;
}

RECINT_API int recint_filter_allow(recint_filter *f, const uint32_t *items, size_t n)
{
    /* Even n == 0 turns the allow-list on: the union of what was given is then
     * empty, and nothing passes until items are allowed. */
    return add_items("recint_filter_allow", f, f ? &f->allow : NULL, items, n);
}

RECINT_API int recint_filter_block(recint_filter *f, const uint32_t *items, size_t n)
{
    return add_items("recint_filter_block", f, f ? &f->block : NULL, items, n);
}

RECINT_API void recint_filter_clear(recint_filter *f)
{
    if (!f)
        return;
    free(f->allow);
    free(f->block);
    f->allow = f->block = NULL;
    f->include_seen = 0;
}

RECINT_API int recint_filter_include_seen(recint_filter *f, int include)
{
    if (!f)
        return ri_error(RECINT_EINVAL, "recint_filter_include_seen: filter is NULL");
    f->include_seen = include != 0;
    return RECINT_OK;
}
