/* recint_features_load_npy and recint_features_load_raw, which read only from a
 * path: the input goes to a scratch file first. The first byte chooses the
 * reader (bit 0: raw), the rows' id map (bit 1: the world's users, else any row
 * count) and, for raw, the column count (1 + byte / 4 % 8); the rest is the
 * file. A loaded matrix must have the shape the file states and finite values. */
#include <math.h>
#include <stdlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const fz_world *w = fz_world_get();
    const recint_idmap *rows = data[0] & 2 ? recint_dataset_users(w->data) : NULL;
    int raw = data[0] & 1;
    uint32_t cols = 1 + (uint32_t)(data[0] / 4 % 8);
    const char *path = fz_tmp_path("features.bin");
    fz_write_file(path, data + 1, size - 1);

    recint_features *const untouched = (recint_features *)&untouched;
    recint_features *f = untouched;
    int rc = raw ? FZ_CHECK(recint_features_load_raw(&f, path, cols, rows))
                 : FZ_CHECK(recint_features_load_npy(&f, path, rows));
    if (rc != RECINT_OK) {
        FZ_ASSERT(f == untouched, "a failed load wrote its output");
        return 0;
    }
    uint32_t nr = recint_features_rows(f), nc = recint_features_cols(f);
    FZ_ASSERT(!rows || nr == recint_idmap_size(rows), "%u rows for %u ids", nr,
              recint_idmap_size(rows));
    if (raw)
        FZ_ASSERT(nc == cols && (uint64_t)nr * cols * 4 == size - 1, "raw shape %u x %u from %zu bytes",
                  nr, nc, size - 1);
    FZ_ASSERT(nr >= 1 && nc >= 1, "empty shape %u x %u", nr, nc);
    fz_check_rows_finite(f, nr, nc);
    recint_features_free(f);
    return 0;
}
