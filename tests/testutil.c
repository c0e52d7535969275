#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "io/format.h"

const char *ri_test_datasets(void)
{
    const char *d = getenv("RECINT_DATASETS");
    return d && d[0] ? d : NULL;
}

const char *ri_test_dataset_file(const char *relative, char *buf, size_t cap)
{
    const char *d = ri_test_datasets();
    if (!d) {
        fprintf(stderr, "SKIP: RECINT_DATASETS not set, %s not available\n", relative);
        return NULL;
    }
    snprintf(buf, cap, "%s/%s", d, relative);
    if (access(buf, R_OK) != 0) {
        /* meson test sets RECINT_DATASETS from the datasets_dir option, so the
         * option is what a user must change, not the environment. */
        fprintf(stderr, "SKIP: %s not found (MovieLens is not redistributed; under meson test "
                "give its folder with: meson configure BUILD -Ddatasets_dir=DIR; when running a "
                "test binary directly, set RECINT_DATASETS)\n", buf);
        return NULL;
    }
    return buf;
}

const char *ri_test_tmp(const char *name, char *buf, size_t cap)
{
    const char *d = getenv("RECINT_TEST_TMP");
    snprintf(buf, cap, "%s/ritest-%ld-%s", d && d[0] ? d : "/tmp", (long)getpid(), name);
    return buf;
}

int ri_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* The pairs both generators keep (the same walk of the same generator), with
 * weights in 1..max_weight, or with timestamps (weights NULL) when timed. */
static recint_dataset *random_pairs(uint32_t n_users, uint32_t n_items, unsigned pct,
                                    unsigned max_weight, unsigned seed, int timed)
{
    size_t cap = (size_t)n_users * n_items, n = 0;
    int64_t *u = malloc(cap * sizeof *u), *it = malloc(cap * sizeof *it);
    int64_t *ts = timed ? malloc(cap * sizeof *ts) : NULL;
    float *w = timed ? NULL : malloc(cap * sizeof *w);
    ck_assert(u && it && (timed ? ts != NULL : w != NULL));
    uint64_t s = seed * 2654435761u + 1;
    for (uint32_t a = 0; a < n_users; a++)
        for (uint32_t b = 0; b < n_items; b++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            if ((s >> 33) % 100 < pct) {
                u[n] = a;
                it[n] = b;
                if (timed)
                    ts[n] = (int64_t)((b * 7919u + a * 31u) % 1000u) * 1000 + (int64_t)n;
                else
                    w[n] = (float)(1 + (s >> 20) % max_weight);
                n++;
            }
        }
    recint_dataset *ds;
    RI_OK(recint_dataset_new(&ds, NULL));
    RI_OK(recint_dataset_add(ds, n, u, it, w, ts));
    free(u);
    free(it);
    free(w);
    free(ts);
    return ds;
}

recint_dataset *ri_test_random_dataset(uint32_t n_users, uint32_t n_items, unsigned pct,
                                       unsigned max_weight, unsigned seed)
{
    return random_pairs(n_users, n_items, pct, max_weight, seed, 0);
}

recint_dataset *ri_test_timed_dataset(uint32_t n_users, uint32_t n_items, unsigned pct,
                                      unsigned seed)
{
    return random_pairs(n_users, n_items, pct, 1, seed, 1);
}

int ri_test_load_with_section(const recint_model *m, const char *repl, const void *data,
                              uint64_t size)
{
    void *buf;
    size_t n;
    char path[256];
    ri_test_tmp("section-edit.bin", path, sizeof path);
    RI_OK(recint_model_save(m, path));
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = ri_aligned_alloc(n, 1);
    ck_assert_uint_eq(fread(buf, 1, n, f), n);
    fclose(f);
    remove(path);
    ri_fmt_reader r;
    RI_OK(ri_fmt_open(&r, buf, n, "src"));
    ri_fmt_writer w;
    ri_fmt_writer_init(&w);
    int replaced = 0;
    for (uint32_t i = 0; i < r.n_sections; i++) {
        char tag[RI_FMT_TAG_MAX + 1] = {0};
        /* the section table follows the 64-byte header, 48 bytes an entry, tag first */
        memcpy(tag, (const uint8_t *)buf + RI_FMT_HEADER_SIZE + (size_t)RI_FMT_ENTRY_SIZE * i,
               RI_FMT_TAG_MAX);
        ri_fmt_section sec;
        RI_OK(ri_fmt_find(&r, tag, &sec));
        int mine = strcmp(tag, repl) == 0;
        replaced |= mine;
        RI_OK(ri_fmt_add(&w, tag, (ri_fmt_type)sec.type, mine ? data : sec.data,
                         mine ? size : sec.size));
    }
    ck_assert_msg(replaced, "no section %s", repl);
    void *out;
    size_t out_n;
    RI_OK(ri_fmt_write_buffer(&w, &out, &out_n));
    ri_fmt_writer_free(&w);
    ri_aligned_free(buf);
    recint_model *back = NULL;
    int rc = recint_model_load_buffer(&back, out, out_n);
    ck_assert(rc == RECINT_OK || back == NULL);
    recint_model_free(back);
    ri_aligned_free(out);
    return rc;
}

void ri_test_expect_section_error(const recint_model *m, const char *tag, const void *data,
                                  uint64_t size, const char *needle)
{
    RI_FAILS(RECINT_EFORMAT, ri_test_load_with_section(m, tag, data, size));
    ck_assert_msg(strstr(recint_last_error(), needle), "message '%s' lacks '%s'",
                  recint_last_error(), needle);
}
