/* What every fuzz target shares: the library's error contract as a check that
 * crashes the target (so libFuzzer reports it), a per-process scratch folder for
 * the entries that read only from paths, the small synthetic world the explorer
 * and feature targets run against (the seed generator builds the same one), and
 * the section-list encoding of the library's container.
 *
 * Section lists: a container's sections carry CRCs that random mutation almost
 * never keeps right, so a mutated file stops at the first checksum. A target
 * that wants to reach the readers behind the checksums takes its input as a
 * list of sections instead, records of
 *     tag (8 bytes, NUL-padded)  type (1 byte)  size (u32 little-endian)  bytes
 * and seals them with the library's own writer (lib/io/format.h), so the
 * mutations land in the section contents and the kinds' loaders see them. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "recint.h"

/* Abort with a message when rc breaks the error contract: a failure must be one
 * of the RECINT_E* codes and leave a non-empty recint_last_error(). call names
 * the call in the report. Returns rc. */
int fz_check(int rc, const char *call);
#define FZ_CHECK(call) fz_check((call), #call)

/* Abort with a message when cond is false. */
#define FZ_ASSERT(cond, ...)                                                                \
    do {                                                                                    \
        if (!(cond))                                                                        \
            fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                               \
    } while (0)
_Noreturn void fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Path of name inside this process's scratch folder (created on first use in
 * /dev/shm when present, else $TMPDIR or /tmp; removed at exit with the files
 * made through fz_tmp_path). Static storage per name: one path per call site. */
const char *fz_tmp_path(const char *name);

/* Every row of a loaded feature matrix reads back with finite values. */
void fz_check_rows_finite(const recint_features *f, uint32_t nr, uint32_t nc);
/* Replace the file at path with data[0..n). Aborts on I/O failure (the
 * target's own, not the library's). */
void fz_write_file(const char *path, const void *data, size_t n);
/* Read the whole file at path into a new buffer (free it). Aborts on failure. */
void *fz_read_file(const char *path, size_t *n);

/* The shared world: a synthetic dataset (int ids, threads=1, fixed seed), the
 * same catalogue under string ids ("u<id>", "i<id>"), an ALS model fitted on
 * it, and the config of the explorer that wrote the seed logs. Built once per
 * process; aborts when the library fails to build it. */
typedef struct {
    recint_dataset *data;
    recint_dataset *data_str;
    recint_model *model;
    recint_config *explore_cfg;
} fz_world;
const fz_world *fz_world_get(void);

/* Seal a section list (see above) into a container with the library's writer:
 * *out (free with fz_container_free) and *size. Returns 0, or -1 when the list
 * does not decode (truncated record) or the writer refuses a section (bad tag,
 * type, size): the fuzz input is then simply not a container. */
int fz_sections_seal(const uint8_t *data, size_t n, void **out, size_t *size);
void fz_container_free(void *buf);
/* The reverse, for the seed generator: the section list of container
 * buf[0..size) (64-byte aligned) appended to *list (realloc'd, *len updated).
 * Returns 0, or -1 when the library does not accept it as a container. */
int fz_sections_unseal(const void *buf, size_t size, uint8_t **list, size_t *len);

#endif
