#include "io/format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/crc32.h"
#include "util/error.h"
#include "util/fileio.h"

/* Sections are used in place as native arrays, so the host must match the file. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "librecint model files are little-endian; big-endian hosts need byte swapping here"
#endif

/* Header field offsets (docs/file-format.md). */
enum {
    H_MAGIC = 0,
    H_VERSION = 8,
    H_HEADER_SIZE = 12,
    H_FILE_SIZE = 16,
    H_COUNT = 24,
    H_ENTRY_SIZE = 28,
    H_TABLE_OFFSET = 32,
    H_TABLE_CRC = 40,
    H_RESERVED = 44, /* 16 zero bytes */
    H_CRC = 60,
};

/* Section table entry field offsets. */
enum {
    E_TAG = 0,
    E_OFFSET = 8,
    E_SIZE = 16,
    E_TYPE = 24,
    E_ELEM_SIZE = 28,
    E_CRC = 32,
    E_RESERVED = 36, /* 12 zero bytes */
};

static const uint8_t zeros[RI_FMT_ALIGN];

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

static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t align_up(uint64_t x) { return (x + (RI_FMT_ALIGN - 1)) & ~(uint64_t)(RI_FMT_ALIGN - 1); }

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

size_t ri_fmt_type_size(uint32_t type)
{
    switch (type) {
    case RI_FMT_BYTES:
    case RI_FMT_TEXT:
    case RI_FMT_I8:
    case RI_FMT_U8: return 1;
    case RI_FMT_U32:
    case RI_FMT_I32:
    case RI_FMT_F32: return 4;
    case RI_FMT_U64:
    case RI_FMT_I64:
    case RI_FMT_F64: return 8;
    default: return 0;
    }
}

const char *ri_fmt_type_name(uint32_t type)
{
    switch (type) {
    case RI_FMT_BYTES: return "bytes";
    case RI_FMT_TEXT: return "text";
    case RI_FMT_U32: return "u32";
    case RI_FMT_U64: return "u64";
    case RI_FMT_I64: return "i64";
    case RI_FMT_F32: return "f32";
    case RI_FMT_I8: return "i8";
    case RI_FMT_U8: return "u8";
    case RI_FMT_I32: return "i32";
    case RI_FMT_F64: return "f64";
    default: return "?";
    }
}

static int tag_char_ok(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */
/* ------------------------------------------------------------------------ */

void ri_fmt_writer_init(ri_fmt_writer *w) { memset(w, 0, sizeof *w); }

void ri_fmt_writer_free(ri_fmt_writer *w)
{
    if (!w)
        return;
    free(w->sec);
    memset(w, 0, sizeof *w);
}

int ri_fmt_add(ri_fmt_writer *w, const char *tag, ri_fmt_type type, const void *data, uint64_t size)
{
    if (!w || !tag)
        return ri_error(RECINT_EINVAL, "model file writer: NULL argument");
    size_t len = strlen(tag);
    if (len == 0 || len > RI_FMT_TAG_MAX)
        return ri_error(RECINT_EINVAL, "model file writer: tag '%s' must have 1-8 characters", tag);
    for (size_t i = 0; i < len; i++)
        if (!tag_char_ok(tag[i]))
            return ri_error(RECINT_EINVAL, "model file writer: tag '%s' may only use A-Z, 0-9, _", tag);
    size_t es = ri_fmt_type_size(type);
    if (es == 0)
        return ri_error(RECINT_EINVAL, "model file writer: section %s: unknown type %u", tag,
                        (unsigned)type);
    if (size % es != 0)
        return ri_error(RECINT_EINVAL,
                        "model file writer: section %s: size %llu is not a multiple of %zu", tag,
                        (unsigned long long)size, es);
    if (size > 0 && !data)
        return ri_error(RECINT_EINVAL, "model file writer: section %s: NULL data", tag);
    for (uint32_t i = 0; i < w->n; i++)
        if (strcmp(w->sec[i].tag, tag) == 0)
            return ri_error(RECINT_EINVAL, "model file writer: section %s added twice", tag);
    if (w->n >= RI_FMT_MAX_SECTIONS)
        return ri_error(RECINT_EINVAL, "model file writer: more than %u sections",
                        RI_FMT_MAX_SECTIONS);
    if (w->n == w->cap) {
        uint32_t cap = w->cap ? 2 * w->cap : 16;
        ri_fmt_wsection *s = ri_realloc_array(w->sec, cap, sizeof *s);
        if (!s)
            return ri_error(RECINT_ENOMEM, "model file writer: out of memory");
        w->sec = s;
        w->cap = cap;
    }
    ri_fmt_wsection *s = &w->sec[w->n++];
    memset(s, 0, sizeof *s);
    memcpy(s->tag, tag, len);
    s->type = (uint32_t)type;
    s->data = data;
    s->size = size;
    return RECINT_OK;
}

/* Where the bytes of a file go (the atomic file writer or a memory buffer). */
typedef int (*sink_fn)(void *ctx, const void *p, size_t n);

/* Header and table of w, with each section's offset and CRC, in canonical layout. */
static int build_head(const ri_fmt_writer *w, uint8_t **head_out, size_t *head_len,
                      uint64_t **offsets_out, uint64_t *file_size)
{
    size_t head = RI_FMT_HEADER_SIZE + (size_t)w->n * RI_FMT_ENTRY_SIZE;
    uint8_t *h = RI_NEW_ZEROED(uint8_t, head);
    uint64_t *off = RI_NEW_ARRAY(uint64_t, w->n ? w->n : 1);
    if (!h || !off) {
        free(h);
        free(off);
        return ri_error(RECINT_ENOMEM, "model file writer: out of memory");
    }
    uint64_t end = head;
    for (uint32_t i = 0; i < w->n; i++) {
        const ri_fmt_wsection *s = &w->sec[i];
        uint8_t *e = h + RI_FMT_HEADER_SIZE + (size_t)i * RI_FMT_ENTRY_SIZE;
        off[i] = align_up(end);
        memcpy(e + E_TAG, s->tag, strlen(s->tag));
        put64(e + E_OFFSET, off[i]);
        put64(e + E_SIZE, s->size);
        put32(e + E_TYPE, s->type);
        put32(e + E_ELEM_SIZE, (uint32_t)ri_fmt_type_size(s->type));
        put32(e + E_CRC, ri_crc32(0, s->data, (size_t)s->size));
        end = off[i] + s->size;
    }
    memcpy(h + H_MAGIC, RI_FMT_MAGIC, 8);
    put32(h + H_VERSION, RI_FMT_VERSION);
    put32(h + H_HEADER_SIZE, RI_FMT_HEADER_SIZE);
    put64(h + H_FILE_SIZE, end);
    put32(h + H_COUNT, w->n);
    put32(h + H_ENTRY_SIZE, RI_FMT_ENTRY_SIZE);
    put64(h + H_TABLE_OFFSET, RI_FMT_HEADER_SIZE);
    put32(h + H_TABLE_CRC, ri_crc32(0, h + RI_FMT_HEADER_SIZE, head - RI_FMT_HEADER_SIZE));
    put32(h + H_CRC, ri_crc32(0, h, H_CRC));
    *head_out = h;
    *head_len = head;
    *offsets_out = off;
    *file_size = end;
    return RECINT_OK;
}

static int emit(const ri_fmt_writer *w, sink_fn sink, void *ctx)
{
    uint8_t *head = NULL;
    size_t head_len = 0;
    uint64_t *off = NULL, file_size = 0;
    int rc = build_head(w, &head, &head_len, &off, &file_size);
    if (rc)
        return rc;
    rc = sink(ctx, head, head_len);
    uint64_t pos = head_len;
    for (uint32_t i = 0; rc == RECINT_OK && i < w->n; i++) {
        rc = sink(ctx, zeros, (size_t)(off[i] - pos));
        if (rc == RECINT_OK && w->sec[i].size)
            rc = sink(ctx, w->sec[i].data, (size_t)w->sec[i].size);
        pos = off[i] + w->sec[i].size;
    }
    free(head);
    free(off);
    return rc;
}

typedef struct {
    uint8_t *buf;
    size_t pos;
} mem_sink;

static int to_mem(void *ctx, const void *p, size_t n)
{
    mem_sink *ms = ctx;
    if (n)
        memcpy(ms->buf + ms->pos, p, n);
    ms->pos += n;
    return RECINT_OK;
}

static uint64_t planned_size(const ri_fmt_writer *w)
{
    uint64_t end = RI_FMT_HEADER_SIZE + (uint64_t)w->n * RI_FMT_ENTRY_SIZE;
    for (uint32_t i = 0; i < w->n; i++)
        end = align_up(end) + w->sec[i].size;
    return end;
}

int ri_fmt_write_buffer(const ri_fmt_writer *w, void **out, size_t *size)
{
    if (!w || !out || !size)
        return ri_error(RECINT_EINVAL, "model file writer: NULL argument");
    uint64_t total = planned_size(w);
    if (total > SIZE_MAX)
        return ri_error(RECINT_ENOMEM, "model file writer: %llu bytes do not fit in memory",
                        (unsigned long long)total);
    mem_sink ms = {ri_aligned_alloc((size_t)total, 1), 0};
    if (!ms.buf)
        return ri_error(RECINT_ENOMEM, "model file writer: cannot allocate %llu bytes",
                        (unsigned long long)total);
    int rc = emit(w, to_mem, &ms);
    if (rc) {
        ri_aligned_free(ms.buf);
        return rc;
    }
    *out = ms.buf;
    *size = ms.pos;
    return RECINT_OK;
}

int ri_fmt_write_file(const ri_fmt_writer *w, const char *path)
{
    if (!w || !path)
        return ri_error(RECINT_EINVAL, "model file writer: NULL argument");
    /* A unique temporary beside path, renamed over it once complete and synced
     * (fileio.h): readers and concurrent writers never see a partial file. */
    ri_atomic_file f;
    int rc = ri_atomic_open(&f, path);
    if (rc != RECINT_OK)
        return rc;
    rc = emit(w, ri_atomic_write, &f);
    if (rc != RECINT_OK) {
        ri_atomic_abort(&f);
        return rc;
    }
    return ri_atomic_commit(&f);
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                   */
/* ------------------------------------------------------------------------ */

static int check_magic(const uint8_t *p, size_t size, const char *name)
{
    static const uint8_t crlf_lost[] = {0x89, 'R', 'C', 'I', '\n'};
    static const uint8_t cr_added[] = {0x89, 'R', 'C', 'I', '\r', '\r', '\n'};
    if (size >= 8 && memcmp(p, RI_FMT_MAGIC, 8) == 0)
        return RECINT_OK;
    if (size >= sizeof crlf_lost && memcmp(p, crlf_lost, sizeof crlf_lost) == 0)
        return ri_error(RECINT_EFORMAT,
                        "%s: bad magic: \\r\\n became \\n (file was copied in text mode)", name);
    if (size >= sizeof cr_added && memcmp(p, cr_added, sizeof cr_added) == 0)
        return ri_error(RECINT_EFORMAT,
                        "%s: bad magic: \\n became \\r\\n (file was copied in text mode)", name);
    if (size >= 1 && p[0] == 0x09 && size >= 4 && memcmp(p + 1, "RCI", 3) == 0)
        return ri_error(RECINT_EFORMAT,
                        "%s: bad magic: high bit of byte 0 cleared (7-bit transfer)", name);
    if (size < 8)
        return ri_error(RECINT_EFORMAT,
                        "%s: truncated: %zu bytes, not a librecint model file (magic needs 8)",
                        name, size);
    return ri_error(RECINT_EFORMAT, "%s: bad magic: not a librecint model file", name);
}

static int check_header(ri_fmt_reader *r, const uint8_t *h, size_t size, const char *name)
{
    uint32_t version = get32(h + H_VERSION);
    /* Version before CRC: a newer layout may move the CRC, and its message must
     * tell the user to upgrade rather than claim damage. */
    if (version > RI_FMT_VERSION)
        return ri_error(RECINT_EFORMAT,
                        "%s: format version %u is newer than this library reads (<= %u); "
                        "upgrade librecint",
                        name, version, RI_FMT_VERSION);
    if (version == 0)
        return ri_error(RECINT_EFORMAT, "%s: header: invalid format version 0", name);
    uint32_t crc = ri_crc32(0, h, H_CRC), stored = get32(h + H_CRC);
    if (crc != stored)
        return ri_error(RECINT_EFORMAT,
                        "%s: header CRC mismatch at offset %d: stored 0x%08x, computed 0x%08x",
                        name, H_CRC, stored, crc);
    if (get32(h + H_HEADER_SIZE) != RI_FMT_HEADER_SIZE)
        return ri_error(RECINT_EFORMAT, "%s: header size %u, expected %u", name,
                        get32(h + H_HEADER_SIZE), RI_FMT_HEADER_SIZE);
    if (get32(h + H_ENTRY_SIZE) != RI_FMT_ENTRY_SIZE)
        return ri_error(RECINT_EFORMAT, "%s: section entry size %u, expected %u", name,
                        get32(h + H_ENTRY_SIZE), RI_FMT_ENTRY_SIZE);
    if (get64(h + H_TABLE_OFFSET) != RI_FMT_HEADER_SIZE)
        return ri_error(RECINT_EFORMAT, "%s: section table offset %llu, expected %u", name,
                        (unsigned long long)get64(h + H_TABLE_OFFSET), RI_FMT_HEADER_SIZE);
    if (!all_zero(h + H_RESERVED, H_CRC - H_RESERVED))
        return ri_error(RECINT_EFORMAT, "%s: header: reserved bytes %d-%d are not zero", name,
                        H_RESERVED, H_CRC - 1);
    uint64_t file_size = get64(h + H_FILE_SIZE);
    if (file_size != size)
        return ri_error(RECINT_EFORMAT, "%s: %s: header says %llu bytes, found %zu", name,
                        file_size > size ? "truncated" : "trailing data", (unsigned long long)file_size,
                        size);
    uint32_t n = get32(h + H_COUNT);
    if (n > RI_FMT_MAX_SECTIONS)
        return ri_error(RECINT_EFORMAT, "%s: header: %u sections, at most %u allowed", name, n,
                        RI_FMT_MAX_SECTIONS);
    uint64_t table_end = RI_FMT_HEADER_SIZE + (uint64_t)n * RI_FMT_ENTRY_SIZE;
    if (table_end > size)
        return ri_error(RECINT_EFORMAT,
                        "%s: section table of %u entries ends at %llu, past the end (%zu bytes)",
                        name, n, (unsigned long long)table_end, size);
    uint32_t tcrc = ri_crc32(0, h + RI_FMT_HEADER_SIZE, (size_t)(table_end - RI_FMT_HEADER_SIZE));
    if (tcrc != get32(h + H_TABLE_CRC))
        return ri_error(RECINT_EFORMAT,
                        "%s: section table CRC mismatch: stored 0x%08x, computed 0x%08x", name,
                        get32(h + H_TABLE_CRC), tcrc);
    r->version = version;
    r->n_sections = n;
    return RECINT_OK;
}

static const uint8_t *entry_at(const ri_fmt_reader *r, uint32_t i)
{
    return r->base + RI_FMT_HEADER_SIZE + (size_t)i * RI_FMT_ENTRY_SIZE;
}

/* Decode entry i without checking it against the buffer. */
static void decode_entry(const ri_fmt_reader *r, uint32_t i, ri_fmt_section *s)
{
    const uint8_t *e = entry_at(r, i);
    memcpy(s->tag, e + E_TAG, RI_FMT_TAG_MAX);
    s->tag[RI_FMT_TAG_MAX] = '\0';
    s->offset = get64(e + E_OFFSET);
    s->size = get64(e + E_SIZE);
    s->type = get32(e + E_TYPE);
    s->elem_size = get32(e + E_ELEM_SIZE);
    s->data = NULL;
}

static int check_tag(const uint8_t *e, uint32_t i, const char *name)
{
    size_t len = 0;
    while (len < RI_FMT_TAG_MAX && e[len] != 0)
        len++;
    for (size_t k = 0; k < len; k++)
        if (!tag_char_ok((char)e[k]))
            return ri_error(RECINT_EFORMAT,
                            "%s: section %u: tag byte %zu is 0x%02x, not one of A-Z, 0-9, _", name,
                            i, k, e[k]);
    if (len == 0 || !all_zero(e + len, RI_FMT_TAG_MAX - len))
        return ri_error(RECINT_EFORMAT, "%s: section %u: tag is empty or not NUL-padded", name, i);
    return RECINT_OK;
}

static int check_entry(const ri_fmt_reader *r, uint32_t i, uint64_t expected, ri_fmt_section *s)
{
    const char *name = r->name;
    const uint8_t *e = entry_at(r, i);
    int rc = check_tag(e, i, name);
    if (rc)
        return rc;
    decode_entry(r, i, s);
    const char *t = s->tag;
    if (!all_zero(e + E_RESERVED, RI_FMT_ENTRY_SIZE - E_RESERVED))
        return ri_error(RECINT_EFORMAT, "%s: section %s: reserved entry bytes are not zero", name, t);
    /* An unknown type is a newer writer's: its element size is taken on trust
     * (only bounded to be sane) since no reader of this build interprets it. */
    size_t es = ri_fmt_type_size(s->type);
    if (es == 0) {
        if (s->elem_size == 0 || s->elem_size > 64)
            return ri_error(RECINT_EFORMAT, "%s: section %s: element size %u of unknown type %u",
                            name, t, s->elem_size, s->type);
        es = s->elem_size;
    }
    if (s->elem_size != es)
        return ri_error(RECINT_EFORMAT, "%s: section %s: element size %u, expected %zu for %s",
                        name, t, s->elem_size, es, ri_fmt_type_name(s->type));
    if (s->size % es != 0)
        return ri_error(RECINT_EFORMAT, "%s: section %s: size %llu is not a multiple of %zu", name,
                        t, (unsigned long long)s->size, es);
    if (s->offset % RI_FMT_ALIGN != 0)
        return ri_error(RECINT_EFORMAT, "%s: section %s: offset %llu is not %u-byte aligned", name,
                        t, (unsigned long long)s->offset, RI_FMT_ALIGN);
    if (s->offset > r->size)
        return ri_error(RECINT_EFORMAT, "%s: section %s: offset %llu is past the end (%zu bytes)",
                        name, t, (unsigned long long)s->offset, r->size);
    if (s->size > r->size - s->offset)
        return ri_error(RECINT_EFORMAT,
                        "%s: section %s: size %llu at offset %llu runs past the end (%zu bytes)",
                        name, t, (unsigned long long)s->size, (unsigned long long)s->offset,
                        r->size);
    if (s->offset < expected)
        return ri_error(RECINT_EFORMAT,
                        "%s: section %s: offset %llu overlaps the data before it (ends at %llu)",
                        name, t, (unsigned long long)s->offset, (unsigned long long)expected);
    if (s->offset != expected)
        return ri_error(RECINT_EFORMAT, "%s: section %s: offset %llu, expected %llu (gap)", name, t,
                        (unsigned long long)s->offset, (unsigned long long)expected);
    s->data = r->base + s->offset;
    uint32_t crc = ri_crc32(0, s->data, (size_t)s->size), stored = get32(e + E_CRC);
    if (crc != stored)
        return ri_error(RECINT_EFORMAT,
                        "%s: section %s: CRC mismatch (offset %llu, %llu bytes): stored 0x%08x, "
                        "computed 0x%08x",
                        name, t, (unsigned long long)s->offset, (unsigned long long)s->size, stored,
                        crc);
    return RECINT_OK;
}

static int check_sections(const ri_fmt_reader *r)
{
    uint64_t end = RI_FMT_HEADER_SIZE + (uint64_t)r->n_sections * RI_FMT_ENTRY_SIZE;
    for (uint32_t i = 0; i < r->n_sections; i++) {
        ri_fmt_section s;
        uint64_t expected = align_up(end);
        /* Padding is covered by no CRC, so it must be zero to keep every byte checked. */
        if (expected <= r->size && !all_zero(r->base + end, (size_t)(expected - end)))
            return ri_error(RECINT_EFORMAT, "%s: padding before section %u (bytes %llu-%llu) is not zero",
                            r->name, i, (unsigned long long)end, (unsigned long long)expected - 1);
        int rc = check_entry(r, i, expected, &s);
        if (rc)
            return rc;
        for (uint32_t j = 0; j < i; j++)
            if (memcmp(entry_at(r, j) + E_TAG, entry_at(r, i) + E_TAG, RI_FMT_TAG_MAX) == 0)
                return ri_error(RECINT_EFORMAT, "%s: section %s appears twice", r->name, s.tag);
        end = s.offset + s.size;
    }
    if (end != r->size)
        return ri_error(RECINT_EFORMAT, "%s: %llu bytes after the last section's end at %llu",
                        r->name, (unsigned long long)(r->size - end), (unsigned long long)end);
    return RECINT_OK;
}

int ri_fmt_open(ri_fmt_reader *r, const void *data, size_t size, const char *name)
{
    if (!r || (!data && size))
        return ri_error(RECINT_EINVAL, "model file reader: NULL argument");
    if (!name)
        name = "model file";
    if ((uintptr_t)data % RI_FMT_ALIGN != 0)
        return ri_error(RECINT_EINVAL, "model file reader: buffer is not %u-byte aligned",
                        RI_FMT_ALIGN);
    const uint8_t *p = data;
    int rc = check_magic(p, size, name);
    if (rc)
        return rc;
    if (size < RI_FMT_HEADER_SIZE)
        return ri_error(RECINT_EFORMAT, "%s: truncated: %zu bytes, the header needs %u", name, size,
                        RI_FMT_HEADER_SIZE);
    ri_fmt_reader tmp = {p, size, 0, 0, name, NULL};
    rc = check_header(&tmp, p, size, name);
    if (rc)
        return rc;
    rc = check_sections(&tmp);
    if (rc)
        return rc;
    *r = tmp;
    return RECINT_OK;
}

/* ------------------------------------------------------------------------ */
/* Load budget                                                              */
/* ------------------------------------------------------------------------ */

static uint64_t sat_mul(uint64_t a, uint64_t b) { return a && b > UINT64_MAX / a ? UINT64_MAX : a * b; }
static uint64_t sat_add(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }

uint64_t ri_fmt_default_limit(uint64_t size)
{
    return sat_add(sat_mul(size, RI_FMT_LOAD_FACTOR), RI_FMT_LOAD_BASE);
}

void ri_fmt_budget_init(ri_fmt_budget *b, uint64_t file_size, uint64_t limit)
{
    b->file_size = file_size;
    b->used = 0;
    b->from_key = limit != 0;
    b->limit = limit ? limit : ri_fmt_default_limit(file_size);
}

int ri_fmt_charge(const ri_fmt_reader *r, uint64_t count, uint64_t size, const char *what)
{
    ri_fmt_budget *b = r->budget;
    if (!b)
        return RECINT_OK;
    uint64_t bytes = sat_mul(count, size), total = sat_add(b->used, bytes);
    if (total <= b->limit) {
        b->used = total;
        return RECINT_OK;
    }
    if (b->from_key)
        return ri_error(RECINT_EFORMAT,
                        "%s: load would allocate %llu bytes (%llu for %s), above the limit of "
                        "%llu bytes set by load_memory_limit; raise it to allow it",
                        r->name, (unsigned long long)total, (unsigned long long)bytes, what,
                        (unsigned long long)b->limit);
    return ri_error(RECINT_EFORMAT,
                    "%s: load would allocate %llu bytes (%llu for %s), above the limit of %llu "
                    "bytes (%u x the file's %llu bytes + %llu MiB); raise load_memory_limit to "
                    "allow it",
                    r->name, (unsigned long long)total, (unsigned long long)bytes, what,
                    (unsigned long long)b->limit, RI_FMT_LOAD_FACTOR,
                    (unsigned long long)b->file_size,
                    (unsigned long long)(RI_FMT_LOAD_BASE >> 20));
}

int ri_fmt_find(const ri_fmt_reader *r, const char *tag, ri_fmt_section *out)
{
    char key[RI_FMT_TAG_MAX] = {0};
    size_t len = strlen(tag);
    if (len == 0 || len > RI_FMT_TAG_MAX)
        return RECINT_ENOTFOUND;
    memcpy(key, tag, len);
    for (uint32_t i = 0; i < r->n_sections; i++) {
        if (memcmp(entry_at(r, i) + E_TAG, key, RI_FMT_TAG_MAX) == 0) {
            decode_entry(r, i, out);
            out->data = r->base + out->offset;
            return RECINT_OK;
        }
    }
    return RECINT_ENOTFOUND;
}

int ri_fmt_array(const ri_fmt_reader *r, const char *tag, ri_fmt_type type, uint64_t count,
                 const void **data, uint64_t *n)
{
    ri_fmt_section s;
    if (ri_fmt_find(r, tag, &s) != RECINT_OK)
        return ri_error(RECINT_EFORMAT, "%s: missing required section %s", r->name, tag);
    if (s.type != (uint32_t)type)
        return ri_error(RECINT_EFORMAT, "%s: section %s: type %s, expected %s", r->name, tag,
                        ri_fmt_type_name(s.type), ri_fmt_type_name(type));
    uint64_t have = s.size / s.elem_size;
    if (count != RI_FMT_ANY && have != count)
        return ri_error(RECINT_EFORMAT, "%s: section %s: %llu elements, expected %llu", r->name,
                        tag, (unsigned long long)have, (unsigned long long)count);
    *data = s.data;
    if (n)
        *n = have;
    return RECINT_OK;
}
