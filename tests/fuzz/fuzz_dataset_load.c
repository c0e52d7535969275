/* recint_dataset_load_buffer on arbitrary text. The first two bytes choose the
 * settings (delimiter, header, ids, columns, duplicates, and whether the
 * dataset already holds rows); the rest is the text. A failed load must leave
 * the dataset as it was; a loaded one must have a consistent CSR and survive
 * recint_dataset_save and a reload unchanged (the documented round trip). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static const char *const delimiters[] = {"auto", "tab", "comma", "ml", "space"};
static const char *const headers[] = {"auto", "yes", "no"};
static const char *const ids[] = {"auto", "int", "string"};
static const char *const columns[] = {
    "user,item,weight,timestamp", "user,item", "user,item,weight", "item,user,skip,weight",
    "skip,user,timestamp,item",   "user,skip,item,skip,weight",
};
static const char *const duplicates[] = {"sum", "last", "max"};

#define PICK(table, x) table[(x) % (sizeof table / sizeof table[0])]

static void check_csr(const recint_dataset *ds)
{
    const uint64_t *indptr;
    const uint32_t *items;
    const float *w;
    const int64_t *t;
    FZ_ASSERT(FZ_CHECK(recint_dataset_csr(ds, &indptr, &items, &w, &t)) == RECINT_OK, "csr");
    uint32_t nu = recint_dataset_n_users(ds), ni = recint_dataset_n_items(ds);
    FZ_ASSERT(indptr[0] == 0 && indptr[nu] == recint_dataset_n_interactions(ds), "indptr ends");
    for (uint32_t u = 0; u < nu; u++) {
        FZ_ASSERT(indptr[u] <= indptr[u + 1], "indptr not monotone at %u", u);
        for (uint64_t k = indptr[u]; k < indptr[u + 1]; k++) {
            FZ_ASSERT(items[k] < ni, "item %u >= %u", items[k], ni);
            FZ_ASSERT(k == indptr[u] || items[k - 1] < items[k], "row %u not ascending", u);
            FZ_ASSERT(!w || isfinite(w[k]), "weight not finite");
        }
    }
}

static int same_ids(const recint_idmap *a, const recint_idmap *b)
{
    uint32_t n = recint_idmap_size(a);
    if (n != recint_idmap_size(b) || recint_idmap_kind(a) != recint_idmap_kind(b))
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        if (recint_idmap_kind(a) == RECINT_IDS_INT) {
            int64_t x = 0, y = 1;
            FZ_CHECK(recint_idmap_id(a, i, &x));
            FZ_CHECK(recint_idmap_id(b, i, &y));
            if (x != y)
                return 0;
        } else {
            const char *x = "", *y = "?";
            FZ_CHECK(recint_idmap_id_str(a, i, &x));
            FZ_CHECK(recint_idmap_id_str(b, i, &y));
            if (strcmp(x, y) != 0)
                return 0;
        }
    }
    return 1;
}

static int same_rows(const recint_dataset *a, const recint_dataset *b)
{
    if (!same_ids(recint_dataset_users(a), recint_dataset_users(b)) ||
        !same_ids(recint_dataset_items(a), recint_dataset_items(b)))
        return 0;
    const uint64_t *pa, *pb;
    const uint32_t *ia, *ib;
    const float *wa, *wb;
    const int64_t *ta, *tb;
    if (recint_dataset_n_users(a) != recint_dataset_n_users(b) ||
        recint_dataset_n_items(a) != recint_dataset_n_items(b) ||
        recint_dataset_n_interactions(a) != recint_dataset_n_interactions(b))
        return 0;
    FZ_CHECK(recint_dataset_csr(a, &pa, &ia, &wa, &ta));
    FZ_CHECK(recint_dataset_csr(b, &pb, &ib, &wb, &tb));
    size_t nu = recint_dataset_n_users(a), n = (size_t)recint_dataset_n_interactions(a);
    if (memcmp(pa, pb, (nu + 1) * sizeof *pa) != 0 || (n && memcmp(ia, ib, n * sizeof *ia) != 0))
        return 0;
    for (size_t k = 0; k < n; k++)
        if ((wa ? wa[k] : 1.0f) != (wb ? wb[k] : 1.0f) || (ta ? ta[k] : 0) != (tb ? tb[k] : 0))
            return 0;
    return 1;
}

static void round_trip(const recint_dataset *ds)
{
    const char *path = fz_tmp_path("dataset.tsv");
    if (FZ_CHECK(recint_dataset_save(ds, path)) != RECINT_OK)
        return; /* documented refusals: ids holding a tab or newline, empty ids */
    recint_dataset *back;
    FZ_ASSERT(FZ_CHECK(recint_dataset_new(&back, NULL)) == RECINT_OK, "new");
    int rc = FZ_CHECK(recint_dataset_load(back, path, NULL));
    FZ_ASSERT(rc == RECINT_OK, "a saved dataset does not load back: %s", recint_last_error());
    FZ_ASSERT(same_rows(ds, back), "the saved dataset loads back different");
    recint_dataset_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned a = data[0], b = data[1];
    recint_config *cfg;
    if (FZ_CHECK(recint_config_new(&cfg)) != RECINT_OK)
        return 0;
    FZ_CHECK(recint_config_set(cfg, "delimiter", PICK(delimiters, a)));
    FZ_CHECK(recint_config_set(cfg, "header", PICK(headers, a / 5)));
    FZ_CHECK(recint_config_set(cfg, "ids", PICK(ids, a / 15)));
    FZ_CHECK(recint_config_set(cfg, "columns", PICK(columns, b)));
    FZ_CHECK(recint_config_set(cfg, "duplicates", PICK(duplicates, b / 6)));

    recint_dataset *ds;
    if (FZ_CHECK(recint_dataset_new(&ds, cfg)) != RECINT_OK) {
        recint_config_free(cfg);
        return 0;
    }
    int prefilled = (b / 18) % 2;
    if (prefilled) {
        /* Rows already there: a failed load must keep them, a good one append. */
        const int64_t us[] = {1, 2}, is[] = {10, 20};
        const float w[] = {1.0f, 2.0f};
        FZ_ASSERT(FZ_CHECK(recint_dataset_add(ds, 2, us, is, w, NULL)) == RECINT_OK, "add");
    }
    uint32_t nu = recint_dataset_n_users(ds), ni = recint_dataset_n_items(ds);
    uint64_t nn = recint_dataset_n_interactions(ds);

    const char *text = (const char *)data + 2;
    int rc = FZ_CHECK(recint_dataset_load_buffer(ds, text, size - 2, "fuzz", cfg));
    if (rc != RECINT_OK) {
        FZ_ASSERT(recint_dataset_n_users(ds) == nu && recint_dataset_n_items(ds) == ni &&
                      recint_dataset_n_interactions(ds) == nn,
                  "a failed load (%s) changed the dataset", recint_last_error());
    } else {
        check_csr(ds);
        if (!prefilled)
            round_trip(ds);
    }
    recint_dataset_free(ds);
    recint_config_free(cfg);
    return 0;
}
