/* Explorer logs, container and text, through recint_explorer_evaluate and
 * recint_explorer_replay (both read only from a path: the input goes to a
 * scratch file). The first byte chooses how the rest is read (bit 0: a section
 * list sealed with valid CRCs, fuzz_common.h; else the file's bytes) and the
 * estimator (byte / 2 % 3). Logs are read against the world's model: evaluate
 * runs on one frozen explorer built once, replay on a fresh explorer per input
 * so that every input starts from the same state. */
#include <math.h>
#include <stdlib.h>

#include "fuzz_common.h"

static recint_explorer *frozen;

static void frozen_free(void) { recint_explorer_free(frozen); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const fz_world *w = fz_world_get();
    int rc = recint_explorer_new(&frozen, w->model, w->explore_cfg);
    FZ_ASSERT(rc == RECINT_OK, "explorer: %s", recint_last_error());
    atexit(frozen_free);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const fz_world *w = fz_world_get();
    const char *path = fz_tmp_path("explore.log");
    if (data[0] & 1) {
        void *sealed;
        size_t n;
        if (fz_sections_seal(data + 1, size - 1, &sealed, &n) != 0)
            return 0;
        fz_write_file(path, sealed, n);
        fz_container_free(sealed);
    } else {
        fz_write_file(path, data + 1, size - 1);
    }

    double out[4] = {-1, -1, -1, -1};
    int rc = FZ_CHECK(recint_explorer_evaluate(frozen, path, data[0] / 2 % 3, out, 4));
    if (rc != RECINT_OK)
        FZ_ASSERT(out[0] == -1 && out[1] == -1 && out[2] == -1 && out[3] == -1,
                  "a failed evaluate wrote its output");
    else
        FZ_ASSERT(!isnan(out[0]) && !isnan(out[1]), "estimate %g, standard error %g", out[0],
                  out[1]);

    recint_explorer *e;
    if (FZ_CHECK(recint_explorer_new(&e, w->model, w->explore_cfg)) != RECINT_OK)
        return 0;
    uint64_t mismatches = UINT64_MAX;
    int rc2 = FZ_CHECK(recint_explorer_replay(e, path, &mismatches));
    if (rc2 != RECINT_OK)
        FZ_ASSERT(mismatches == UINT64_MAX, "a failed replay wrote its output");
    recint_explorer_free(e);
    return 0;
}
