#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "io/format.h"

void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: fuzz check failed: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

int fz_check(int rc, const char *call)
{
    if (rc == RECINT_OK)
        return rc;
    FZ_ASSERT(rc >= RECINT_ENOTFOUND && rc < 0, "%s returned %d, not a RECINT_E* code", call, rc);
    const char *msg = recint_last_error();
    FZ_ASSERT(msg && msg[0], "%s failed with %d (%s) but left no message", call, rc,
              recint_strerror(rc));
    return rc;
}

/* ------------------------------------------------------------ scratch files */

enum { MAX_TMP = 16 };
static char tmp_dir[256];
static char tmp_files[MAX_TMP][320];
static int n_tmp;

static void tmp_cleanup(void)
{
    for (int i = 0; i < n_tmp; i++)
        unlink(tmp_files[i]);
    /* The library writes beside a destination and renames; a failed save may
     * leave nothing else, but remove whatever is left. */
    if (tmp_dir[0])
        rmdir(tmp_dir);
}

const char *fz_tmp_path(const char *name)
{
    for (int i = 0; i < n_tmp; i++) {
        const char *slash = strrchr(tmp_files[i], '/');
        if (slash && strcmp(slash + 1, name) == 0)
            return tmp_files[i];
    }
    if (!tmp_dir[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm"
                           : getenv("TMPDIR") ? getenv("TMPDIR")
                                              : "/tmp";
        snprintf(tmp_dir, sizeof tmp_dir, "%s/recint-fuzz-XXXXXX", base);
        FZ_ASSERT(mkdtemp(tmp_dir) != NULL, "mkdtemp %s: %s", tmp_dir, strerror(errno));
        atexit(tmp_cleanup);
    }
    FZ_ASSERT(n_tmp < MAX_TMP, "more than %d scratch files", MAX_TMP);
    snprintf(tmp_files[n_tmp], sizeof tmp_files[n_tmp], "%s/%s", tmp_dir, name);
    return tmp_files[n_tmp++];
}

void fz_write_file(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FZ_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        FZ_ASSERT(w > 0 || errno == EINTR, "write %s: %s", path, strerror(errno));
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        }
    }
    FZ_ASSERT(close(fd) == 0, "close %s: %s", path, strerror(errno));
}

void *fz_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    FZ_ASSERT(f != NULL, "open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    FZ_ASSERT(buf != NULL, "out of memory");
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            FZ_ASSERT(buf != NULL, "out of memory");
        }
    }
    FZ_ASSERT(!ferror(f), "read %s", path);
    fclose(f);
    *n = len;
    return buf;
}

/* ------------------------------------------------------------ the world */

#define WORLD_OK(call)                                                                      \
    do {                                                                                    \
        int rc_ = (call);                                                                   \
        FZ_ASSERT(rc_ == RECINT_OK, "%s -> %d (%s)", #call, rc_, recint_last_error());     \
    } while (0)

/* The dataset under string ids: the same rows with "u<id>" / "i<id>". */
static recint_dataset *string_copy(const recint_dataset *ds)
{
    const uint64_t *indptr;
    const uint32_t *items;
    const float *w;
    const int64_t *t;
    WORLD_OK(recint_dataset_csr(ds, &indptr, &items, &w, &t));
    uint32_t nu = recint_dataset_n_users(ds);
    size_t n = (size_t)recint_dataset_n_interactions(ds);
    char **us = calloc(n, sizeof *us), **is = calloc(n, sizeof *is);
    FZ_ASSERT(us && is, "out of memory");
    for (uint32_t u = 0; u < nu; u++)
        for (uint64_t k = indptr[u]; k < indptr[u + 1]; k++) {
            int64_t uid, iid;
            WORLD_OK(recint_idmap_id(recint_dataset_users(ds), u, &uid));
            WORLD_OK(recint_idmap_id(recint_dataset_items(ds), items[k], &iid));
            us[k] = malloc(24);
            is[k] = malloc(24);
            FZ_ASSERT(us[k] && is[k], "out of memory");
            snprintf(us[k], 24, "u%lld", (long long)uid);
            snprintf(is[k], 24, "i%lld", (long long)iid);
        }
    recint_dataset *out;
    WORLD_OK(recint_dataset_new(&out, NULL));
    WORLD_OK(recint_dataset_add_str(out, n, (const char *const *)us, (const char *const *)is, w, t));
    for (size_t k = 0; k < n; k++) {
        free(us[k]);
        free(is[k]);
    }
    free(us);
    free(is);
    return out;
}

static fz_world world;

static void world_free(void)
{
    recint_config_free(world.explore_cfg);
    recint_model_free(world.model);
    recint_dataset_free(world.data_str);
    recint_dataset_free(world.data);
}

const fz_world *fz_world_get(void)
{
    if (world.model)
        return &world;
    recint_config *cfg;
    WORLD_OK(recint_config_new(&cfg));
    static const char *const syn[][2] = {
        {"threads", "1"},      {"seed", "7"},          {"syn_users", "40"},
        {"syn_items", "200"},  {"syn_interactions", "300"}, {"syn_clusters", "4"},
        {"syn_feature_dim", "4"}, {"dim", "4"},        {"iterations", "3"},
    };
    for (size_t i = 0; i < sizeof syn / sizeof syn[0]; i++)
        WORLD_OK(recint_config_set(cfg, syn[i][0], syn[i][1]));
    WORLD_OK(recint_dataset_synthetic(&world.data, cfg, NULL));
    world.data_str = string_copy(world.data);
    recint_trainer *t;
    WORLD_OK(recint_model_new(&world.model, "als", cfg));
    WORLD_OK(recint_trainer_new(&t, world.model, cfg));
    WORLD_OK(recint_trainer_fit(t, world.data, NULL, NULL, NULL));
    recint_trainer_free(t);
    recint_config_free(cfg);

    WORLD_OK(recint_config_new(&world.explore_cfg));
    static const char *const ex[][2] = {
        {"policy", "thompson"}, {"candidates", "12"}, {"propensity_samples", "4"}, {"seed", "3"},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++)
        WORLD_OK(recint_config_set(world.explore_cfg, ex[i][0], ex[i][1]));
    atexit(world_free);
    return &world;
}

/* ------------------------------------------------------------ section lists */

enum { REC_HEAD = RI_FMT_TAG_MAX + 1 + 4 };

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int fz_sections_seal(const uint8_t *data, size_t n, void **out, size_t *size)
{
    /* Tags are copied out because the writer borrows them until it writes. */
    enum { MAX_SECTIONS = 256 };
    char tags[MAX_SECTIONS][RI_FMT_TAG_MAX + 1];
    ri_fmt_writer w;
    ri_fmt_writer_init(&w);
    int rc = 0;
    size_t pos = 0;
    for (int s = 0; pos < n && rc == 0; s++) {
        if (s == MAX_SECTIONS || n - pos < REC_HEAD) {
            rc = -1;
            break;
        }
        memcpy(tags[s], data + pos, RI_FMT_TAG_MAX);
        tags[s][RI_FMT_TAG_MAX] = '\0';
        uint32_t type = data[pos + RI_FMT_TAG_MAX];
        uint32_t len = get32(data + pos + RI_FMT_TAG_MAX + 1);
        pos += REC_HEAD;
        if (len > n - pos) {
            rc = -1;
            break;
        }
        if (ri_fmt_add(&w, tags[s], (ri_fmt_type)type, data + pos, len) != RECINT_OK)
            rc = -1;
        pos += len;
    }
    if (rc == 0 && ri_fmt_write_buffer(&w, out, size) != RECINT_OK)
        rc = -1;
    ri_fmt_writer_free(&w);
    return rc;
}

void fz_container_free(void *buf) { ri_aligned_free(buf); }

int fz_sections_unseal(const void *buf, size_t size, uint8_t **list, size_t *len)
{
    ri_fmt_reader r;
    if (ri_fmt_open(&r, buf, size, "seed") != RECINT_OK)
        return -1;
    for (uint32_t i = 0; i < r.n_sections; i++) {
        char tag[RI_FMT_TAG_MAX + 1] = {0};
        /* The section table follows the header, one entry per section, tag first
         * (docs/file-format.md); the rest of the entry comes through ri_fmt_find. */
        memcpy(tag, (const uint8_t *)buf + RI_FMT_HEADER_SIZE + (size_t)RI_FMT_ENTRY_SIZE * i,
               RI_FMT_TAG_MAX);
        ri_fmt_section s;
        if (ri_fmt_find(&r, tag, &s) != RECINT_OK || s.size > UINT32_MAX)
            return -1;
        uint8_t *grown = realloc(*list, *len + REC_HEAD + (size_t)s.size);
        FZ_ASSERT(grown != NULL, "out of memory");
        *list = grown;
        uint8_t *p = grown + *len;
        memcpy(p, tag, RI_FMT_TAG_MAX);
        p[RI_FMT_TAG_MAX] = (uint8_t)s.type;
        for (int b = 0; b < 4; b++)
            p[RI_FMT_TAG_MAX + 1 + b] = (uint8_t)(s.size >> (8 * b));
        if (s.size)
            memcpy(p + REC_HEAD, s.data, (size_t)s.size);
        *len += REC_HEAD + (size_t)s.size;
    }
    return 0;
}

void fz_check_rows_finite(const recint_features *f, uint32_t nr, uint32_t nc)
{
    float *row = malloc((size_t)nc * sizeof *row);
    FZ_ASSERT(row != NULL, "out of memory");
    for (uint32_t r = 0; r < nr; r++) {
        FZ_ASSERT(FZ_CHECK(recint_features_row_dense(f, r, row)) == RECINT_OK, "row %u", r);
        for (uint32_t c = 0; c < nc; c++)
            FZ_ASSERT(isfinite(row[c]), "row %u column %u is not finite", r, c);
    }
    free(row);
}
