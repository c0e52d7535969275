/* recint_features_load_sparse_buffer on arbitrary text. The first byte chooses
 * the rows' id map (the world's users under int or string ids), the
 * feature_unknown_ids policy and whether the feature names are asked for; the
 * rest is the text. A loaded matrix must have a row per id and a column per
 * name, and dense rows of finite values. */
#include <math.h>
#include <stdlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const fz_world *w = fz_world_get();
    const recint_idmap *rows = recint_dataset_users(data[0] & 1 ? w->data_str : w->data);
    recint_config *cfg;
    if (FZ_CHECK(recint_config_new(&cfg)) != RECINT_OK)
        return 0;
    FZ_CHECK(recint_config_set(cfg, "feature_unknown_ids", data[0] & 2 ? "error" : "skip"));
    int want_names = !(data[0] & 4);

    recint_features *const untouched_f = (recint_features *)&untouched_f;
    recint_idmap *const untouched_n = (recint_idmap *)&untouched_n;
    recint_features *f = untouched_f;
    recint_idmap *names = untouched_n;
    int rc = FZ_CHECK(recint_features_load_sparse_buffer(&f, want_names ? &names : NULL,
                                                         (const char *)data + 1, size - 1, "fuzz",
                                                         rows, cfg));
    if (rc != RECINT_OK) {
        FZ_ASSERT(f == untouched_f && names == untouched_n, "a failed load wrote its outputs");
    } else {
        uint32_t nr = recint_features_rows(f), nc = recint_features_cols(f);
        FZ_ASSERT(nr == recint_idmap_size(rows), "%u rows for %u ids", nr, recint_idmap_size(rows));
        FZ_ASSERT(nc >= 1, "no columns");
        if (want_names) {
            FZ_ASSERT(names != untouched_n && recint_idmap_size(names) == nc,
                      "%u names for %u columns", recint_idmap_size(names), nc);
            FZ_ASSERT(recint_idmap_kind(names) == RECINT_IDS_STRING, "names are not strings");
        }
        fz_check_rows_finite(f, nr, nc);
        recint_features_free(f);
        if (want_names)
            recint_idmap_free(names);
    }
    recint_config_free(cfg);
    return 0;
}
