/* The model file container and the model loader against damaged and forged
 * files. The forgery cases run under a 1 GiB address-space limit (outside
 * AddressSanitizer, whose shadow memory needs more), so an allocation sized from
 * a forged length would fail with ENOMEM instead of EFORMAT and the test with it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/crc32.h"
#include "io/format.h"
#include "testutil.h"

/* ---- byte helpers mirroring docs/file-format.md ------------------------ */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static uint8_t *entry(uint8_t *buf, uint32_t i) { return buf + 64 + 48 * (size_t)i; }

/* Recompute table and header CRCs so that a forgery reaches the structural checks. */
static void fix_crcs(uint8_t *buf, size_t size)
{
    uint64_t table = 48 * (uint64_t)get32(buf + 24);
    if (64 + table <= size) /* a forged count may point past the buffer */
        put32(buf + 40, ri_crc32(0, buf + 64, (size_t)table));
    put32(buf + 60, ri_crc32(0, buf, 60));
}

static int entry_index(const uint8_t *buf, const char *tag)
{
    char t[8] = {0};
    memcpy(t, tag, strlen(tag));
    for (uint32_t i = 0; i < get32(buf + 24); i++)
        if (memcmp(buf + 64 + 48 * (size_t)i, t, 8) == 0)
            return (int)i;
    ck_abort_msg("no section %s", tag);
    return -1;
}

static void limit_memory(void)
{
#if !defined(__SANITIZE_ADDRESS__)
    struct rlimit rl = {(rlim_t)1 << 30, (rlim_t)1 << 30};
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
    void *volatile big = malloc((size_t)2 << 30); /* the limit really holds */
    ck_assert_ptr_null(big);
#endif
}

/* ---- fixtures ----------------------------------------------------------- */

typedef struct {
    uint8_t *data;
    size_t size;
} blob;

static recint_model *small_model(int string_ids)
{
    static const int64_t u[] = {10, 10, 20, 20, 30, 30, 30};
    static const int64_t i[] = {100, 200, 100, 300, 100, 200, 400};
    static const char *const su[] = {"ann", "ann", "bob", "bob", "cy", "cy", "cy"};
    static const char *const si[] = {"a", "b", "a", "c", "a", "b", "d"};
    recint_dataset *ds;
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_dataset_new(&ds, NULL));
    if (string_ids)
        RI_OK(recint_dataset_add_str(ds, 7, su, si, NULL, NULL));
    else
        RI_OK(recint_dataset_add(ds, 7, u, i, NULL, NULL));
    RI_OK(recint_model_new(&m, "pop", NULL));
    RI_OK(recint_trainer_new(&t, m, NULL));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    recint_trainer_free(t);
    recint_dataset_free(ds);
    return m;
}

static blob read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    blob b = {malloc((size_t)n), (size_t)n};
    ck_assert_uint_eq(fread(b.data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return b;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

static blob model_file(int string_ids)
{
    char path[512];
    ri_test_tmp(string_ids ? "fmt-str.bin" : "fmt-int.bin", path, sizeof path);
    recint_model *m = small_model(string_ids);
    RI_OK(recint_model_save(m, path));
    recint_model_free(m);
    blob b = read_file(path);
    remove(path);
    return b;
}

/* Load from bytes: the status, freeing any model. */
static int load(const void *p, size_t n)
{
    recint_model *m = NULL;
    int rc = recint_model_load_buffer(&m, p, n);
    ck_assert(rc == RECINT_OK || m == NULL);
    recint_model_free(m);
    return rc;
}

static void expect_format_error(const void *p, size_t n, const char *needle)
{
    RI_FAILS(RECINT_EFORMAT, load(p, n));
    ck_assert_msg(strstr(recint_last_error(), needle), "message '%s' lacks '%s'",
                  recint_last_error(), needle);
}

/* The same file with section skip left out and section repl (if any) replaced. */
static blob rebuild(const blob *src, const char *skip, const char *repl, const void *data,
                    uint64_t size)
{
    void *al = ri_aligned_alloc(src->size, 1);
    memcpy(al, src->data, src->size);
    ri_fmt_reader r;
    RI_OK(ri_fmt_open(&r, al, src->size, "src"));
    ri_fmt_writer w;
    ri_fmt_writer_init(&w);
    char tags[64][9];
    ck_assert_uint_le(r.n_sections, 64);
    for (uint32_t i = 0; i < r.n_sections; i++) {
        memcpy(tags[i], entry(al, i), 8);
        tags[i][8] = '\0';
        if (skip && strcmp(tags[i], skip) == 0)
            continue;
        ri_fmt_section s;
        RI_OK(ri_fmt_find(&r, tags[i], &s));
        if (repl && strcmp(tags[i], repl) == 0)
            RI_OK(ri_fmt_add(&w, tags[i], (ri_fmt_type)s.type, data, size));
        else
            RI_OK(ri_fmt_add(&w, tags[i], (ri_fmt_type)s.type, s.data, s.size));
    }
    void *out;
    size_t n;
    RI_OK(ri_fmt_write_buffer(&w, &out, &n));
    ri_fmt_writer_free(&w);
    ri_aligned_free(al);
    blob b = {malloc(n), n};
    memcpy(b.data, out, n);
    ri_aligned_free(out);
    return b;
}

/* Copy of a section's bytes, for editing. */
static blob section_copy(const blob *src, const char *tag)
{
    uint8_t *e = entry(src->data, (uint32_t)entry_index(src->data, tag));
    uint64_t off = get64(e + 8), size = get64(e + 16);
    blob b = {malloc(size ? size : 1), size};
    memcpy(b.data, src->data + off, size);
    return b;
}

/* ---- container ---------------------------------------------------------- */

START_TEST(container_roundtrip)
{
    static const uint32_t a[5] = {1, 2, 3, 0xFFFFFFFFu, 5};
    static const int64_t ids[3] = {-7, 0, INT64_MAX};
    static const char text[] = "hello=world\n";
    static const float f[2] = {1.5f, -0.0f};
    ri_fmt_writer w;
    ri_fmt_writer_init(&w);
    RI_OK(ri_fmt_add(&w, "A", RI_FMT_U32, a, sizeof a));
    RI_OK(ri_fmt_add(&w, "EMPTY_1", RI_FMT_F32, NULL, 0));
    RI_OK(ri_fmt_add(&w, "TEXT", RI_FMT_TEXT, text, strlen(text)));
    RI_OK(ri_fmt_add(&w, "IDS12345", RI_FMT_I64, ids, sizeof ids));
    RI_OK(ri_fmt_add(&w, "F", RI_FMT_F32, f, sizeof f));
    void *buf;
    size_t size;
    RI_OK(ri_fmt_write_buffer(&w, &buf, &size));
    /* header 64 + table 5*48 = 304 -> data from 320: A 20, EMPTY at 384, TEXT at 384,
     * IDS at 448 (24 bytes), F at 512 (8 bytes) -> 520 */
    ck_assert_uint_eq(size, 520);
    ri_fmt_reader r;
    RI_OK(ri_fmt_open(&r, buf, size, "mem"));
    ck_assert_uint_eq(r.n_sections, 5);
    ck_assert_uint_eq(r.version, RI_FMT_VERSION);
    const void *p;
    uint64_t n;
    RI_OK(ri_fmt_array(&r, "A", RI_FMT_U32, 5, &p, &n));
    ck_assert_uint_eq(n, 5);
    ck_assert_mem_eq(p, a, sizeof a);
    ck_assert_uint_eq((uintptr_t)p % 64, 0);
    RI_OK(ri_fmt_array(&r, "EMPTY_1", RI_FMT_F32, 0, &p, &n));
    RI_OK(ri_fmt_array(&r, "TEXT", RI_FMT_TEXT, RI_FMT_ANY, &p, &n));
    ck_assert_uint_eq(n, strlen(text));
    ck_assert_mem_eq(p, text, n);
    RI_OK(ri_fmt_array(&r, "IDS12345", RI_FMT_I64, 3, &p, NULL));
    ck_assert_mem_eq(p, ids, sizeof ids);
    ck_assert_uint_eq((uintptr_t)p % 64, 0);
    RI_OK(ri_fmt_array(&r, "F", RI_FMT_F32, 2, &p, NULL));
    ck_assert_mem_eq(p, f, sizeof f);
    ck_assert_mem_eq(buf, RI_FMT_MAGIC, 8);

    /* typed views check what the caller expects */
    RI_FAILS(RECINT_EFORMAT, ri_fmt_array(&r, "A", RI_FMT_F32, 5, &p, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "section A: type u32, expected f32"));
    RI_FAILS(RECINT_EFORMAT, ri_fmt_array(&r, "A", RI_FMT_U32, 6, &p, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "5 elements, expected 6"));
    RI_FAILS(RECINT_EFORMAT, ri_fmt_array(&r, "NOPE", RI_FMT_U32, 6, &p, NULL));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "missing required section NOPE"));

    /* the file writer produces the same bytes and leaves no temporary behind */
    char path[512], tmp[520];
    ri_test_tmp("container.bin", path, sizeof path);
    RI_OK(ri_fmt_write_file(&w, path));
    blob b = read_file(path);
    ck_assert_uint_eq(b.size, size);
    ck_assert_mem_eq(b.data, buf, size);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    RI_FAILS(RECINT_EIO, ri_fmt_write_file(&w, "/nonexistent-dir/c.bin"));
    remove(path);
    free(b.data);

    /* a size that is not a multiple of the element size is named */
    uint8_t *forged = ri_aligned_alloc(size, 1);
    memcpy(forged, buf, size);
    put64(entry(forged, 3) + 16, 12);
    fix_crcs(forged, size);
    RI_FAILS(RECINT_EFORMAT, ri_fmt_open(&r, forged, size, "mem"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "section IDS12345: size 12 is not a multiple of 8"));
    /* an unaligned buffer is the caller's error */
    RI_FAILS(RECINT_EINVAL, ri_fmt_open(&r, (uint8_t *)buf + 8, size - 8, "mem"));
    ri_aligned_free(forged);
    ri_aligned_free(buf);
    ri_fmt_writer_free(&w);
}
END_TEST

START_TEST(writer_rejects_bad_sections)
{
    ri_fmt_writer w;
    uint32_t x[2] = {0};
    ri_fmt_writer_init(&w);
    RI_FAILS(RECINT_EINVAL, ri_fmt_add(&w, "", RI_FMT_U32, x, 8));
    RI_FAILS(RECINT_EINVAL, ri_fmt_add(&w, "lower", RI_FMT_U32, x, 8));
    RI_FAILS(RECINT_EINVAL, ri_fmt_add(&w, "NINECHARS", RI_FMT_U32, x, 8));
    RI_FAILS(RECINT_EINVAL, ri_fmt_add(&w, "X", RI_FMT_U32, x, 6));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "not a multiple of 4"));
    RI_FAILS(RECINT_EINVAL, ri_fmt_add(&w, "X", (ri_fmt_type)77, x, 8));
    RI_FAILS(RECINT_EINVAL, ri_fmt_add(&w, "X", RI_FMT_U32, NULL, 8));
    RI_OK(ri_fmt_add(&w, "X", RI_FMT_U32, x, 8));
    RI_FAILS(RECINT_EINVAL, ri_fmt_add(&w, "X", RI_FMT_U32, x, 8));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "added twice"));
    ri_fmt_writer_free(&w);
}
END_TEST

/* ---- damaged model files ------------------------------------------------ */

START_TEST(truncated_everywhere)
{
    blob b = model_file(0);
    RI_OK(load(b.data, b.size));
    for (size_t len = 0; len < b.size; len++) {
        RI_FAILS(RECINT_EFORMAT, load(b.data, len));
        ck_assert_msg(strstr(recint_last_error(), "truncated"), "len %zu: %s", len,
                      recint_last_error());
    }
    /* the file path too, cut at every section boundary */
    char path[512];
    ri_test_tmp("cut.bin", path, sizeof path);
    uint32_t n = get32(b.data + 24);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t off = get64(entry(b.data, i) + 8), size = get64(entry(b.data, i) + 16);
        uint64_t cuts[3] = {off, off + size / 2, off + size};
        for (int c = 0; c < 3; c++) {
            if (cuts[c] >= b.size)
                continue;
            write_bytes(path, b.data, (size_t)cuts[c]);
            recint_model *m = NULL;
            RI_FAILS(RECINT_EFORMAT, recint_model_load(&m, path));
            ck_assert_ptr_null(m);
            ck_assert_ptr_nonnull(strstr(recint_last_error(), path));
        }
    }
    remove(path);
    free(b.data);
}
END_TEST

START_TEST(every_bit_flip_detected)
{
    /* Every byte is covered: header and table by their CRCs, sections by theirs,
     * padding by the all-zero rule, so no flip can go unnoticed. */
    for (int sids = 0; sids < 2; sids++) {
        blob b = model_file(sids);
        uint8_t *c = malloc(b.size);
        for (size_t i = 0; i < b.size; i++) {
            for (int bit = 0; bit < 8; bit++) {
                memcpy(c, b.data, b.size);
                c[i] ^= (uint8_t)(1u << bit);
                int rc = load(c, b.size);
                ck_assert_msg(rc == RECINT_EFORMAT, "flip of byte %zu bit %d -> %d (%s)", i, bit,
                              rc, recint_last_error());
            }
        }
        free(c);
        free(b.data);
    }
}
END_TEST

/* A factors model with its optional int8 section: the int8 copy is covered by
 * the same checks as every other section. */
static blob factors_int8_file(void)
{
    static const float U[3 * 4] = {1, 0, -1, 2, 0.5f, 0.5f, 0, 1, -2, 1, 1, 0};
    static const float V[5 * 4] = {1, 2, 3, 4, -1, 0, 1, 0, 0.25f, -0.5f, 2, 1,
                                   3, 3, -3, 0, 0, 0, 0, 1};
    static const float bias[5] = {0.1f, -0.2f, 0, 1, 0.5f};
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "quantize", "int8"));
    recint_model *m;
    RI_OK(recint_model_new_factors(&m, 3, 5, 4, U, V, bias, cfg));
    recint_config_free(cfg);
    char path[512];
    ri_test_tmp("fmt-q8.bin", path, sizeof path);
    RI_OK(recint_model_save(m, path));
    recint_model_free(m);
    blob b = read_file(path);
    remove(path);
    ck_assert_int_ge(entry_index(b.data, "Q8CODES"), 0);
    ck_assert_int_ge(entry_index(b.data, "Q8SCALE"), 0);
    return b;
}

START_TEST(int8_section_damage_detected)
{
    blob b = factors_int8_file();
    RI_OK(load(b.data, b.size));
    uint8_t *c = malloc(b.size);
    for (size_t i = 0; i < b.size; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(c, b.data, b.size);
            c[i] ^= (uint8_t)(1u << bit);
            int rc = load(c, b.size);
            ck_assert_msg(rc == RECINT_EFORMAT, "flip of byte %zu bit %d -> %d (%s)", i, bit, rc,
                          recint_last_error());
        }
    }
    for (size_t len = 0; len < b.size; len++)
        RI_FAILS(RECINT_EFORMAT, load(b.data, len));
    free(c);
    free(b.data);
}
END_TEST

START_TEST(forged_layout)
{
    limit_memory();
    blob b = model_file(0);
    uint8_t *c = malloc(b.size);
    uint32_t n = get32(b.data + 24);
    ck_assert_uint_ge(n, 6);
    int seen = entry_index(b.data, "SEENIDX");
    uint64_t off1 = get64(entry(b.data, 1) + 8);
#define FORGE(stmt, needle)            \
    do {                               \
        memcpy(c, b.data, b.size);     \
        stmt;                          \
        fix_crcs(c, b.size);                   \
        expect_format_error(c, b.size, needle); \
    } while (0)
    FORGE(put64(entry(c, 0) + 16, UINT64_MAX - 8), "section META: size 18446744073709551607 at offset");
    FORGE(put64(entry(c, 0) + 16, (uint64_t)1 << 40), "runs past the end");
    FORGE(put64(entry(c, (uint32_t)seen) + 16, UINT64_MAX - 3), "section SEENIDX: size");
    FORGE(put64(entry(c, (uint32_t)seen) + 16, (uint64_t)1 << 31), "section SEENIDX: size 2147483648");
    FORGE(put64(entry(c, 1) + 8, get64(entry(c, 0) + 8)), "overlaps");
    FORGE(put64(entry(c, 1) + 8, off1 + 8), "is not 64-byte aligned");
    FORGE(put64(entry(c, 1) + 8, off1 + 64), "section");
    FORGE(put64(entry(c, n - 1) + 8, (uint64_t)1 << 62), "past the end");
    FORGE(put64(entry(c, n - 1) + 8, UINT64_MAX - 63), "past the end");
    FORGE(put32(c + 24, 0xFFFFFFFFu), "4294967295 sections");
    FORGE(put32(c + 24, n + 1), "section");
    FORGE(put64(c + 16, UINT64_MAX), "header says 18446744073709551615 bytes");
    /* An unknown type is accepted by the container but not where a type is expected. */
    FORGE(put32(entry(c, 0) + 24, 99), "section META: type ?, expected text");
    FORGE((put32(entry(c, 0) + 24, 99), put32(entry(c, 0) + 28, 0)), "element size 0 of unknown type 99");
    FORGE(put32(entry(c, 1) + 28, 16), "element size 16");
    FORGE(memcpy(entry(c, 1), entry(c, 0), 8), "appears twice");
    FORGE(entry(c, 1)[2] = 'a', "tag byte 2");
    FORGE(put32(c + 12, 128), "header size 128");
    FORGE(c[50] = 1, "reserved");
    /* padding between sections is checked (it is in no CRC) */
    memcpy(c, b.data, b.size);
    uint64_t end0 = get64(entry(c, 0) + 8) + get64(entry(c, 0) + 16);
    if (end0 % 64) {
        c[end0] = 0x55;
        expect_format_error(c, b.size, "padding");
    }
    /* trailing bytes after the last section */
    uint8_t *longer = calloc(1, b.size + 64);
    memcpy(longer, b.data, b.size);
    expect_format_error(longer, b.size + 64, "trailing data");
    put64(longer + 16, b.size + 64);
    fix_crcs(longer, b.size + 64);
    expect_format_error(longer, b.size + 64, "after the last section");
    free(longer);
#undef FORGE
    free(c);
    free(b.data);
}
END_TEST

START_TEST(magic_and_version)
{
    blob b = model_file(0);
    uint8_t *c = malloc(b.size + 1);
    memcpy(c, b.data, b.size);
    memcpy(c, "GIF89a\0\0", 8);
    expect_format_error(c, b.size, "bad magic");
    /* a text-mode copy that turned \r\n into \n */
    memcpy(c, b.data, 4);
    memcpy(c + 4, b.data + 5, b.size - 5);
    expect_format_error(c, b.size - 1, "text mode");
    /* and one that turned \n into \r\n */
    memcpy(c, b.data, 5);
    c[5] = '\r';
    memcpy(c + 6, b.data + 5, b.size - 5);
    expect_format_error(c, b.size + 1, "text mode");
    memcpy(c, b.data, b.size);
    c[0] = 0x09;
    expect_format_error(c, b.size, "7-bit");

    memcpy(c, b.data, b.size);
    put32(c + 8, RI_FMT_VERSION + 1);
    fix_crcs(c, b.size);
    expect_format_error(c, b.size, "newer than this library reads");
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "upgrade"));
    put32(c + 8, 0);
    fix_crcs(c, b.size);
    expect_format_error(c, b.size, "invalid format version 0");
    memcpy(c, b.data, b.size);
    c[17] ^= 1; /* file size without fixing the CRC */
    expect_format_error(c, b.size, "header CRC mismatch");
    memcpy(c, b.data, b.size);
    entry(c, 0)[8] ^= 1;
    expect_format_error(c, b.size, "section table CRC mismatch");
    memcpy(c, b.data, b.size);
    c[get64(entry(c, 2) + 8)] ^= 0x10;
    expect_format_error(c, b.size, "CRC mismatch");
    free(c);
    free(b.data);
}
END_TEST

START_TEST(missing_sections)
{
    blob b = model_file(0);
    static const char *const req[] = {"META", "SEENPTR", "SEENIDX", "POPSCORE", "USERIDS", "ITEMIDS"};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        blob f = rebuild(&b, req[i], NULL, NULL, 0);
        expect_format_error(f.data, f.size, req[i]);
        free(f.data);
    }
    blob same = rebuild(&b, NULL, NULL, NULL, 0);
    ck_assert_uint_eq(same.size, b.size);
    ck_assert_mem_eq(same.data, b.data, b.size);
    RI_OK(load(same.data, same.size));
    free(same.data);
    free(b.data);
}
END_TEST

/* Valid containers whose contents lie: the model layer must check them. */
START_TEST(forged_contents)
{
    limit_memory();
    blob b = model_file(0);
    blob s;
#define EDIT(tag, stmt, needle)                                  \
    do {                                                         \
        s = section_copy(&b, tag);                               \
        stmt;                                                    \
        blob f_ = rebuild(&b, NULL, tag, s.data, s.size);        \
        expect_format_error(f_.data, f_.size, needle);           \
        free(f_.data);                                           \
        free(s.data);                                            \
    } while (0)
    /* pop scores: 5 items x f32 */
    EDIT("POPSCORE", ((float *)s.data)[2] = NAN, "item 2 is not finite");
    EDIT("POPSCORE", ((float *)s.data)[0] = INFINITY, "POPSCORE");
    EDIT("POPSCORE", s.size -= 4, "POPSCORE: 3 elements, expected 4");
    /* seen rows: u0 {0,1} u1 {0,2} u2 {0,1,3} */
    EDIT("SEENIDX", ((uint32_t *)s.data)[3] = 99, "= 99 is out of range (n_items = 4)");
    EDIT("SEENIDX", ((uint32_t *)s.data)[1] = 0, "row 0 is not strictly ascending");
    EDIT("SEENIDX", s.size -= 4, "SEENPTR");
    EDIT("SEENPTR", ((uint64_t *)s.data)[1] = 5, "entry 2 decreases");
    EDIT("SEENPTR", ((uint64_t *)s.data)[0] = 1, "SEENPTR: runs 1..7");
    EDIT("SEENPTR", ((uint64_t *)s.data)[1] = UINT64_MAX, "decreases");
    /* ids */
    EDIT("USERIDS", ((int64_t *)s.data)[2] = 10, "USERIDS");
    EDIT("ITEMIDS", s.size -= 8, "ITEMIDS: 3 elements, expected 4");
    /* META */
    static const char *const metas[][2] = {
        {"kind=nosuchkind\nn_users=3\nn_items=4\n", "unknown model kind 'nosuchkind'"},
        {"kind=als\nn_users=3\nn_items=4\n", "missing required section ALSDIM"},
        {"kind=pop\nn_users=3\n", "missing n_items"},
        {"kind=pop\nn_users=3\nn_items=4\nn_users=3\n", "n_users given twice"},
        {"kind=pop\nn_users=3\nn_items=0\n", "n_items = '0' is not in [1, "},
        {"kind=pop\nn_users=-1\nn_items=4\n", "n_users = '-1' is not in [0, "},
        {"kind=pop\nn_users=3x\nn_items=4\n", "is not in"},
        {"kind=pop\nn_users=99999999999\nn_items=4\n", "is not in"},
        {"kind=pop\nn_users=4\nn_items=4\n", "USERIDS: 3 elements, expected 4"},
        {"kind=pop\nn_users=4000000000\nn_items=4\n", "USERIDS: 3 elements, expected 4000000000"},
        {"kind=pop\nn_users=3\nn_items=4000000000\n", "ITEMIDS: 4 elements, expected 4000000000"},
        {"kind=pop\nn_users=3\nn_items=4", "end in a newline"},
        {"kind=pop\nn_users=3\nn_items=4\ngarbage\n", "line 4: no '='"},
        {"kind=pop\nn_users=3\nn_items=4\nconfig.seed=abc\n", "config seed"},
        {"kind=pop\nn_users=3\nn_items=4\nconfig.threads=-1\n", "config threads"},
    };
    for (size_t i = 0; i < sizeof metas / sizeof metas[0]; i++) {
        blob f = rebuild(&b, NULL, "META", metas[i][0], strlen(metas[i][0]));
        expect_format_error(f.data, f.size, metas[i][1]);
        free(f.data);
    }
    /* keys a newer writer may add are ignored, so this still loads */
    static const char ok_meta[] = "kind=pop\nn_users=3\nn_items=4\nconfig.not_a_key_yet=1\nnote=x\n";
    blob f = rebuild(&b, NULL, "META", ok_meta, strlen(ok_meta));
    RI_OK(load(f.data, f.size));
    free(f.data);
    free(b.data);

    /* string ids: offsets and blob */
    b = model_file(1);
    EDIT("USEROFF", ((uint64_t *)s.data)[1] = 7, "USEROFF: offset 2");
    EDIT("USEROFF", ((uint64_t *)s.data)[3] = 9, "USEROFF: offsets run 0..9, expected 0..8");
    EDIT("USEROFF", ((uint64_t *)s.data)[0] = 1, "USEROFF: offsets run 1..");
    EDIT("USERSTR", ((char *)s.data)[1] = '\0', "NUL byte");
    EDIT("ITEMSTR", ((char *)s.data)[1] = 'a', "ITEMSTR"); /* "abcd" -> "aacd": id "a" twice */
    f = rebuild(&b, "USEROFF", NULL, NULL, 0);
    expect_format_error(f.data, f.size, "missing required section USEROFF");
    free(f.data);
    f = rebuild(&b, "USERSTR", NULL, NULL, 0);
    expect_format_error(f.data, f.size, "missing required section USERSTR");
    free(f.data);
#undef EDIT
    free(b.data);
}
END_TEST

START_TEST(io_errors)
{
    recint_model *m = NULL;
    RI_FAILS(RECINT_EIO, recint_model_load(&m, "/nonexistent-dir/model.bin"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "/nonexistent-dir/model.bin"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "No such file"));
    RI_FAILS(RECINT_EIO, recint_model_load(&m, "/"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "not a regular file"));
    char path[512];
    ri_test_tmp("empty.bin", path, sizeof path);
    write_bytes(path, "", 0);
    RI_FAILS(RECINT_EFORMAT, recint_model_load(&m, path));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "truncated"));
    remove(path);
    ck_assert_ptr_null(m);
}
END_TEST

/* ---- bounded loads (docs/file-format.md) -------------------------------- */

/* Load with the caller's load_memory_limit (0: the default bound). */
static int load_limited(const blob *b, uint64_t limit)
{
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)limit);
    RI_OK(recint_config_set(cfg, "load_memory_limit", v));
    recint_model *m = NULL;
    int rc = recint_model_load_buffer_ex(&m, b->data, b->size, cfg);
    ck_assert(rc == RECINT_OK || m == NULL);
    recint_model_free(m);
    recint_config_free(cfg);
    return rc;
}

/* What a load of b charges its budget: the smallest limit it loads under. */
static uint64_t charged(const blob *b)
{
    uint64_t lo = 1, hi = ri_fmt_default_limit(b->size);
    RI_OK(load_limited(b, hi));
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (load_limited(b, mid) == RECINT_OK)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static long long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    long long kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0)
            kb = atoll(line + n + 1);
    fclose(f);
    return kb;
}

/* Growth of resident memory at its peak during a default load of b, in
 * bytes: the kernel's high-water mark is reset first (clear_refs 5, Linux
 * >= 4.0), so this counts every page the load touched; -1 when it cannot be
 * reset. The load's status goes to *rc. */
static long long load_peak(const blob *b, int *rc)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    int reset = f && fputs("5", f) >= 0;
    if (f)
        reset = fclose(f) == 0 && reset;
    long long before = status_kb("VmRSS:");
    *rc = load(b->data, b->size);
    long long peak = status_kb("VmHWM:");
    return reset && before >= 0 && peak >= 0 ? (peak - before) * 1024 : -1;
}

/* A file's load stays within the documented bound, by the budget's count and
 * by resident memory; returns the status. */
static int expect_load_within_bound(const char *what, const blob *b)
{
    const uint64_t bound = ri_fmt_default_limit(b->size);
    int rc;
    long long peak = load_peak(b, &rc);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", rc ? recint_last_error() : "");
    if (rc == RECINT_OK) {
        uint64_t used = charged(b);
        printf("bounded load: %s: file %zu bytes, bound %llu, charged %llu, peak RSS growth %lld\n",
               what, b->size, (unsigned long long)bound, (unsigned long long)used, peak);
        ck_assert_uint_le(used, bound);
    } else {
        printf("bounded load: %s: file %zu bytes, bound %llu, refused (%d), peak RSS growth %lld: "
               "%s\n", what, b->size, (unsigned long long)bound, rc, peak, msg);
    }
    fflush(stdout);
    ck_assert_msg(peak <= (long long)bound, "%s: peak %lld > bound %llu", what, peak,
                  (unsigned long long)bound);
    return rc;
}

/* A container of the listed sections. */
typedef struct {
    const char *tag;
    ri_fmt_type type;
    const void *data;
    uint64_t size;
} sec_spec;

static blob container(const sec_spec *sp, size_t n)
{
    ri_fmt_writer w;
    ri_fmt_writer_init(&w);
    for (size_t i = 0; i < n; i++)
        RI_OK(ri_fmt_add(&w, sp[i].tag, sp[i].type, sp[i].data, sp[i].size));
    void *out;
    size_t size;
    RI_OK(ri_fmt_write_buffer(&w, &out, &size));
    ri_fmt_writer_free(&w);
    blob b = {malloc(size), size};
    memcpy(b.data, out, size);
    ri_aligned_free(out);
    return b;
}

static int64_t *range_ids(uint32_t n)
{
    int64_t *ids = malloc((n ? n : 1) * sizeof *ids);
    ck_assert_ptr_nonnull(ids);
    for (uint32_t i = 0; i < n; i++)
        ids[i] = i;
    return ids;
}

/* A forged hybrid file (valid CRCs): n_feat rows of one side have features of
 * one column and no entries, so the file holds 16 bytes per row (its id and
 * its row pointer) while a load derives dim floats per row (the issue's
 * 356 KB file at dim 4096 loaded at 1.6 GB). The other side has one identity
 * row. side 1: the items have the features. */
static blob forged_hybrid(int side, uint32_t n_feat, uint32_t dim)
{
    const uint32_t nu = side ? 1 : n_feat, ni = side ? n_feat : 1;
    char meta[160];
    snprintf(meta, sizeof meta, "kind=hybrid\nn_users=%u\nn_items=%u\nconfig.dim=%u\n", nu, ni, dim);
    int64_t *uid = range_ids(nu), *iid = range_ids(ni);
    uint64_t *seen = calloc((size_t)nu + 1, sizeof *seen), *ptr = calloc((size_t)n_feat + 1, 8);
    float *emb = calloc(dim, sizeof *emb), bias = 0.0f;
    ck_assert(seen && ptr && emb);
    const char *const t[2][5] = {{"HUEMB", "HUBIAS", "HUPTR", "HUIDX", "HUVAL"},
                                 {"HIEMB", "HIBIAS", "HIPTR", "HIIDX", "HIVAL"}};
    const int f = side, id = !side; /* the featured side, the identity side */
    const sec_spec sp[] = {
        {"META", RI_FMT_TEXT, meta, strlen(meta)},
        {"USERIDS", RI_FMT_I64, uid, (uint64_t)nu * 8},
        {"ITEMIDS", RI_FMT_I64, iid, (uint64_t)ni * 8},
        {"SEENPTR", RI_FMT_U64, seen, ((uint64_t)nu + 1) * 8},
        {"SEENIDX", RI_FMT_U32, NULL, 0},
        {"HYBDIM", RI_FMT_U32, &dim, 4},
        {t[id][0], RI_FMT_F32, emb, (uint64_t)dim * 4},
        {t[id][1], RI_FMT_F32, &bias, 4},
        {t[f][0], RI_FMT_F32, emb, (uint64_t)dim * 4},
        {t[f][1], RI_FMT_F32, &bias, 4},
        {t[f][2], RI_FMT_U64, ptr, ((uint64_t)n_feat + 1) * 8},
        {t[f][3], RI_FMT_U32, NULL, 0},
        {t[f][4], RI_FMT_F32, NULL, 0},
    };
    blob b = container(sp, sizeof sp / sizeof sp[0]);
    free(uid);
    free(iid);
    free(seen);
    free(ptr);
    free(emb);
    return b;
}

/* The files (item features, dim 4096: 356 KB asked for 1.6 GB, 3.2 MB
 * for about 16 GB), up to 4 MB, and the same on the user side: each refused
 * with a message naming the limit, within the bound. */
START_TEST(forged_hybrid_refused_within_bound)
{
    limit_memory();
    /* rows of 24 bytes on the user side (a SEENPTR entry too), 16 on the item side */
    const uint32_t rows[2][3] = {{14000, 130000, 170000}, {21000, 200000, 250000}};
    for (int side = 1; side >= 0; side--) {
        for (size_t k = 0; k < 3; k++) {
            blob b = forged_hybrid(side, rows[side][k], 4096);
            ck_assert_uint_le(b.size, 4u << 20);
            char what[64];
            snprintf(what, sizeof what, "hybrid, %u %s with features, dim 4096", rows[side][k],
                     side ? "items" : "users");
            RI_FAILS(RECINT_EFORMAT, expect_load_within_bound(what, &b));
            ck_assert_ptr_nonnull(strstr(recint_last_error(), "raise load_memory_limit"));
            ck_assert_ptr_nonnull(strstr(recint_last_error(), "representations of the feature rows"));
            free(b.data);
        }
    }
}
END_TEST

/* The same shape within reach: refused by default, loaded once the caller
 * raises load_memory_limit above what it charges, refused again just below. */
START_TEST(load_memory_limit_raises_the_bound)
{
    blob b = forged_hybrid(1, 4000, 1024);
    const uint64_t bound = ri_fmt_default_limit(b.size);
    ck_assert_uint_eq(bound, (uint64_t)b.size * RI_FMT_LOAD_FACTOR + RI_FMT_LOAD_BASE);
    RI_FAILS(RECINT_EFORMAT, load(b.data, b.size));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "raise load_memory_limit"));
    RI_FAILS(RECINT_EFORMAT, load_limited(&b, 0));
    RI_OK(load_limited(&b, (uint64_t)1 << 30));
    /* find what it charges: above the default bound, and enough */
    uint64_t lo = bound, hi = (uint64_t)1 << 30;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (load_limited(&b, mid) == RECINT_OK)
            hi = mid;
        else
            lo = mid + 1;
    }
    /* 4000 x 1024 floats of representations, four times that for serving */
    ck_assert_uint_ge(lo, (uint64_t)5 * 4000 * 1024 * 4);
    RI_FAILS(RECINT_EFORMAT, load_limited(&b, lo - 1));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "set by load_memory_limit"));
    /* the file's own config cannot raise the caller's limit */
    blob m = section_copy(&b, "META");
    static const char raise[] = "config.load_memory_limit=9223372036854775807\n";
    char *meta = malloc(m.size + sizeof raise);
    ck_assert_ptr_nonnull(meta);
    memcpy(meta, m.data, m.size);
    memcpy(meta + m.size, raise, sizeof raise);
    blob f = rebuild(&b, NULL, "META", meta, m.size + sizeof raise - 1);
    RI_FAILS(RECINT_EFORMAT, load(f.data, f.size));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "raise load_memory_limit"));
    free(f.data);
    free(meta);
    free(m.data);
    /* a limit below the file itself refuses before copying it */
    RI_FAILS(RECINT_EFORMAT, load_limited(&b, b.size - 1));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "load_memory_limit"));
    free(b.data);
}
END_TEST

/* ALS keeps dim x dim Gram matrices: a tiny file at dim 4096 with biases asks
 * for 128 MiB of them, above the bound. */
START_TEST(forged_als_gram_refused)
{
    const uint32_t dim = 4096;
    static const char meta[] = "kind=als\nn_users=1\nn_items=1\nconfig.dim=4096\nconfig.biases=true\n";
    const int64_t id = 0;
    const uint64_t seen[2] = {0, 0};
    float *v = calloc(dim, sizeof *v), b0 = 0.0f;
    ck_assert_ptr_nonnull(v);
    const sec_spec sp[] = {
        {"META", RI_FMT_TEXT, meta, strlen(meta)}, {"USERIDS", RI_FMT_I64, &id, 8},
        {"ITEMIDS", RI_FMT_I64, &id, 8},          {"SEENPTR", RI_FMT_U64, seen, 16},
        {"SEENIDX", RI_FMT_U32, NULL, 0},         {"ALSDIM", RI_FMT_U32, &dim, 4},
        {"ALSUSER", RI_FMT_F32, v, dim * 4},      {"ALSITEM", RI_FMT_F32, v, dim * 4},
        {"ALSUBIAS", RI_FMT_F32, &b0, 4},         {"ALSIBIAS", RI_FMT_F32, &b0, 4},
    };
    blob b = container(sp, sizeof sp / sizeof sp[0]);
    RI_FAILS(RECINT_EFORMAT, expect_load_within_bound("als, 1 x 1 at dim 4096 with biases", &b));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "augmented item rows"));
    free(b.data);
    free(v);
}
END_TEST

/* meta with the value of key replaced (the line "key=...\n"). */
static char *meta_with(const blob *file, const char *key, const char *value)
{
    blob m = section_copy(file, "META");
    char *out = malloc(m.size + 64);
    ck_assert_ptr_nonnull(out);
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s=", key);
    char *text = malloc(m.size + 1);
    memcpy(text, m.data, m.size);
    text[m.size] = '\0';
    char *at = strstr(text, pat);
    ck_assert_ptr_nonnull(at);
    char *end = strchr(at + 1, '\n');
    snprintf(out, m.size + 64, "%.*s\n%s=%s%s", (int)(at - text), text, key, value, end);
    free(text);
    free(m.data);
    return out;
}

static blob file_of(recint_model *m, const char *name)
{
    char path[512];
    ri_test_tmp(name, path, sizeof path);
    RI_OK(recint_model_save(m, path));
    recint_model_free(m);
    blob b = read_file(path);
    remove(path);
    return b;
}

static recint_model *trained(const char *kind, const char *const *pairs, int timed)
{
    recint_config *cfg;
    RI_OK(recint_config_new(&cfg));
    for (; *pairs; pairs++)
        RI_OK(recint_config_set_pair(cfg, *pairs));
    recint_dataset *ds = timed ? ri_test_timed_dataset(40, 30, 20, 5)
                               : ri_test_random_dataset(40, 30, 20, 3, 5);
    recint_model *m;
    recint_trainer *t;
    RI_OK(recint_model_new(&m, kind, cfg));
    RI_OK(recint_trainer_new(&t, m, cfg));
    RI_OK(recint_trainer_fit(t, ds, NULL, NULL, NULL));
    recint_trainer_free(t);
    recint_dataset_free(ds);
    recint_config_free(cfg);
    return m;
}

/* Every kind: a saved model loads within the bound (the budget's count and
 * resident memory), and forged catalogue sizes are refused within it too. */
START_TEST(every_kind_loads_within_bound)
{
    limit_memory();
    static const char *const als[] = {"dim=16", "iterations=2", "biases=true", NULL};
    static const char *const hyb[] = {"dim=16", "epochs=1", "threads=1", "user_history=mean", NULL};
    static const char *const seq[] = {"dim=16", "epochs=1", "threads=1", "blocks=1", "maxlen=8", NULL};
    static const char *const q8[] = {"dim=16", "iterations=1", "quantize=int8", NULL};
    float U[3 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, V[5 * 4] = {0}, bias[5] = {1, 2, 3, 4, 5};
    recint_model *fm;
    RI_OK(recint_model_new_factors(&fm, 3, 5, 4, U, V, bias, NULL));
    struct {
        const char *what;
        blob b;
    } files[] = {
        {"pop", model_file(0)},
        {"pop, string ids", model_file(1)},
        {"factors", file_of(fm, "bound-factors.bin")},
        {"als with biases", file_of(trained("als", als, 0), "bound-als.bin")},
        {"als with int8", file_of(trained("als", q8, 0), "bound-q8.bin")},
        {"hybrid with history", file_of(trained("hybrid", hyb, 1), "bound-hyb.bin")},
        {"sequential", file_of(trained("sequential", seq, 1), "bound-seq.bin")},
    };
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        RI_OK(expect_load_within_bound(files[k].what, &files[k].b));
        static const char *const keys[] = {"n_users", "n_items"};
        for (int j = 0; j < 2; j++) {
            char *meta = meta_with(&files[k].b, keys[j], "4000000000");
            blob f = rebuild(&files[k].b, NULL, "META", meta, strlen(meta));
            char what[96];
            snprintf(what, sizeof what, "%s, %s forged to 4e9", files[k].what, keys[j]);
            RI_FAILS(RECINT_EFORMAT, expect_load_within_bound(what, &f));
            free(f.data);
            free(meta);
        }
        free(files[k].b.data);
    }
}
END_TEST

/* The allocation-failure hook of builds with -Dalloc_failpoints=true
 * (lib/util/alloc.c); NULL otherwise, and the sweep is skipped. */
extern void ri_alloc_fail_at(uint64_t n) __attribute__((weak));
extern uint64_t ri_alloc_count(void) __attribute__((weak));

/* Every allocation of a load of every kind, failed in turn: ENOMEM, never a
 * claim of damage (EFORMAT) or a model without its serving side. */
START_TEST(every_load_allocation_failure_is_enomem)
{
    if (!ri_alloc_fail_at || !ri_alloc_count) {
        printf("skip: built without the allocation-failure hook (-Dalloc_failpoints=true)\n");
        return;
    }
    static const char *const q8[] = {"dim=4", "iterations=1", "quantize=int8", "biases=true", NULL};
    static const char *const hyb[] = {"dim=4", "epochs=1", "threads=1", "user_history=mean", NULL};
    static const char *const seq[] = {"dim=4", "epochs=1", "threads=1", "blocks=1", "maxlen=4", NULL};
    blob files[] = {model_file(0), model_file(1), file_of(trained("als", q8, 0), "sweep-als.bin"),
                    file_of(trained("hybrid", hyb, 1), "sweep-hyb.bin"),
                    file_of(trained("sequential", seq, 1), "sweep-seq.bin")};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        uint64_t before = ri_alloc_count();
        RI_OK(load(files[f].data, files[f].size));
        const uint64_t steps = ri_alloc_count() - before;
        for (uint64_t k = 1; k <= steps; k++) {
            recint_model *m = (recint_model *)&m;
            ri_alloc_fail_at(k);
            int rc = recint_model_load_buffer(&m, files[f].data, files[f].size);
            ri_alloc_fail_at(0);
            ck_assert_msg(rc == RECINT_ENOMEM, "file %zu, allocation %llu of %llu failed: status %d (%s)",
                          f, (unsigned long long)k, (unsigned long long)steps, rc, recint_last_error());
            ck_assert_ptr_eq(m, (recint_model *)&m);
        }
        free(files[f].data);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, container_roundtrip);
    tcase_add_test(tc, writer_rejects_bad_sections);
    tcase_add_test(tc, truncated_everywhere);
    tcase_add_test(tc, every_bit_flip_detected);
    tcase_add_test(tc, int8_section_damage_detected);
    tcase_add_test(tc, forged_layout);
    tcase_add_test(tc, magic_and_version);
    tcase_add_test(tc, missing_sections);
    tcase_add_test(tc, forged_contents);
    tcase_add_test(tc, io_errors);
    tcase_add_test(tc, forged_hybrid_refused_within_bound);
    tcase_add_test(tc, load_memory_limit_raises_the_bound);
    tcase_add_test(tc, forged_als_gram_refused);
    tcase_add_test(tc, every_kind_loads_within_bound);
    tcase_add_test(tc, every_load_allocation_failure_is_enomem);
    suite_add_tcase(s, tc);
    return ri_test_run(s);
}
