/* recint_config_set, recint_config_set_pair and recint_config_get on arbitrary
 * text: the input is "key NUL value" (no NUL: all key, empty value). A value
 * set must read back, and setting what was read back must read back the same
 * (the text form is a fixed point); a failed set must leave the key as it was. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *key = malloc(size + 1), *pair = malloc(size + 2);
    FZ_ASSERT(key && pair, "out of memory");
    memcpy(key, data, size);
    key[size] = '\0';
    size_t klen = strlen(key);
    const char *value = klen < size ? key + klen + 1 : "";
    /* the same text as one "key=value" argument */
    memcpy(pair, key, klen);
    pair[klen] = '=';
    strcpy(pair + klen + 1, value);

    recint_config *cfg;
    if (FZ_CHECK(recint_config_new(&cfg)) != RECINT_OK)
        goto done;
    /* Room for any value: the longest is the input itself. */
    const size_t cap_all = size + 64;
    char *before = malloc(cap_all), *after = malloc(cap_all), *again = malloc(cap_all);
    char *small = malloc(cap_all), *xs = malloc(cap_all);
    FZ_ASSERT(before && after && again && small && xs, "out of memory");
    int known = FZ_CHECK(recint_config_get(cfg, key, before, cap_all)) == RECINT_OK;
    int rc = FZ_CHECK(recint_config_set(cfg, key, value));
    if (rc == RECINT_OK) {
        FZ_ASSERT(known, "set accepted key '%s' that get does not know", key);
        FZ_ASSERT(recint_config_is_set(cfg, key), "'%s' set but not is_set", key);
        FZ_ASSERT(FZ_CHECK(recint_config_get(cfg, key, after, cap_all)) == RECINT_OK,
                  "get '%s' after set", key);
        FZ_ASSERT(FZ_CHECK(recint_config_set(cfg, key, after)) == RECINT_OK,
                  "'%s' does not take its own text '%s' back", key, after);
        FZ_ASSERT(FZ_CHECK(recint_config_get(cfg, key, again, cap_all)) == RECINT_OK, "get");
        FZ_ASSERT(strcmp(after, again) == 0, "'%s': '%s' read back as '%s'", key, after, again);
        /* A buffer too short is refused and left as it was. */
        size_t len = strlen(after);
        for (size_t cap = 0; cap <= len + 1; cap += 1 + len / 8) {
            memset(small, 'x', cap_all);
            memset(xs, 'x', cap_all);
            int r = FZ_CHECK(recint_config_get(cfg, key, small, cap));
            FZ_ASSERT(r == RECINT_OK ? cap > len && strcmp(small, after) == 0
                                     : cap <= len && memcmp(small, xs, cap_all) == 0,
                      "get '%s' into %zu bytes -> %d", key, cap, r);
        }
    } else if (known) {
        FZ_ASSERT(FZ_CHECK(recint_config_get(cfg, key, after, cap_all)) == RECINT_OK, "get");
        FZ_ASSERT(strcmp(before, after) == 0, "a failed set of '%s' changed it", key);
    }
    /* The pair form must agree with the two-argument form. */
    recint_config *cfg2;
    if (FZ_CHECK(recint_config_new(&cfg2)) == RECINT_OK) {
        int rc2 = FZ_CHECK(recint_config_set_pair(cfg2, pair));
        if (strchr(key, '=') == NULL)
            FZ_ASSERT((rc2 == RECINT_OK) == (rc == RECINT_OK), "set_pair('%s') -> %d, set -> %d",
                      pair, rc2, rc);
        FZ_CHECK(recint_config_set_pair(cfg2, key));
        recint_config_free(cfg2);
    }
    recint_config_free(cfg);
    free(before);
    free(after);
    free(again);
    free(small);
    free(xs);
done:
    free(key);
    free(pair);
    return 0;
}
