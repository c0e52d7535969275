/* recint_model_load_buffer. The first byte chooses how the rest is read: even,
 * as the bytes of a model file (the container's own checks); odd, as a section
 * list sealed with valid CRCs (fuzz_common.h), which is what reaches the model
 * kinds' loaders. A model that loads must serve ranked scores that are not NaN,
 * and save and load back (from the file) to one that serves the same results
 * bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

enum { K = 8 };

typedef struct {
    uint32_t n_users, n_items, dim;
    uint32_t n[2];
    uint32_t items[2][K];
    float scores[2][K];
} served;

/* Top-K of the first and last user, scores finite; similar items and a score
 * call only for the contract (a kind may not support them). */
static void serve(const recint_model *m, served *s)
{
    memset(s, 0, sizeof *s);
    s->n_users = recint_model_n_users(m);
    s->n_items = recint_model_n_items(m);
    s->dim = recint_model_dim(m);
    if (s->n_users == 0 || s->n_items == 0)
        return;
    uint32_t users[2] = {0, s->n_users - 1};
    for (int j = 0; j < 2; j++) {
        int rc = FZ_CHECK(recint_model_recommend(m, users[j], K, s->items[j], s->scores[j], &s->n[j]));
        if (rc != RECINT_OK) {
            s->n[j] = UINT32_MAX;
            continue;
        }
        FZ_ASSERT(s->n[j] <= K, "recommend wrote %u of %u", s->n[j], K);
        for (uint32_t r = 0; r < s->n[j]; r++) {
            FZ_ASSERT(s->items[j][r] < s->n_items, "item %u >= %u", s->items[j][r], s->n_items);
            /* Finite vectors may still overflow to an infinite score (1e30 x 1e30);
             * NaN, which ranks nowhere, is what must not come out. */
            FZ_ASSERT(!isnan(s->scores[j][r]), "user %u: score of item %u is NaN", users[j],
                      s->items[j][r]);
            FZ_ASSERT(r == 0 || s->scores[j][r - 1] >= s->scores[j][r],
                      "user %u: scores not descending at rank %u", users[j], r);
        }
    }
    uint32_t sim[K], n_sim = 0;
    float sim_scores[K];
    FZ_CHECK(recint_model_similar_items(m, 0, K, NULL, sim, sim_scores, &n_sim));
    float one;
    uint32_t item = s->n_items - 1;
    FZ_CHECK(recint_model_score(m, users, 1, &item, 1, &one));
}

static void round_trip(const recint_model *m, const served *before)
{
    const char *path = fz_tmp_path("model.bin");
    int rc = FZ_CHECK(recint_model_save(m, path));
    FZ_ASSERT(rc == RECINT_OK, "a loaded model does not save: %s", recint_last_error());
    recint_model *back = NULL;
    rc = FZ_CHECK(recint_model_load(&back, path));
    FZ_ASSERT(rc == RECINT_OK, "a saved model does not load back: %s", recint_last_error());
    served after;
    serve(back, &after);
    FZ_ASSERT(strcmp(recint_model_kind(m), recint_model_kind(back)) == 0, "kind changed");
    FZ_ASSERT(memcmp(before, &after, sizeof after) == 0, "the reloaded %s model serves differently",
              recint_model_kind(m));
    recint_model_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    void *sealed = NULL;
    const void *file = data + 1;
    size_t file_size = size - 1;
    if (data[0] & 1) {
        if (fz_sections_seal(data + 1, size - 1, &sealed, &file_size) != 0)
            return 0;
        file = sealed;
    }
    recint_model *const untouched = (recint_model *)&untouched;
    recint_model *m = untouched;
    int rc = FZ_CHECK(recint_model_load_buffer(&m, file, file_size));
    if (rc != RECINT_OK) {
        FZ_ASSERT(m == untouched, "a failed load wrote its output");
    } else {
        served s;
        serve(m, &s);
        round_trip(m, &s);
        recint_model_free(m);
    }
    fz_container_free(sealed);
    return 0;
}
