/* The one binary container of model files (docs/file-format.md): a fixed header,
 * a section table, and 64-byte aligned sections each with its own CRC-32.
 * The writer collects (tag, type, pointer, size) sections and writes them in one
 * canonical layout; the reader validates every byte of a buffer before handing
 * out typed views into it. */
#ifndef RI_FORMAT_H
#define RI_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "\x89RCI\r\n\x1a\n": the high byte catches 7-bit transfers, \r\n and \n catch
 * newline translation in either direction, \x1a stops DOS-style text reads. */
#define RI_FMT_MAGIC "\x89RCI\r\n\x1a\n"
#define RI_FMT_VERSION 1u
#define RI_FMT_HEADER_SIZE 64u
#define RI_FMT_ENTRY_SIZE 48u
#define RI_FMT_ALIGN 64u
#define RI_FMT_TAG_MAX 8u
/* More sections than any model kind will need; bounds the table a reader accepts. */
#define RI_FMT_MAX_SECTIONS 4096u

/* Element types of a section (stored as u32 with the element size beside it). */
typedef enum {
    RI_FMT_BYTES = 1, /* opaque bytes, element size 1 */
    RI_FMT_TEXT = 2,  /* UTF-8 text without NUL, element size 1 */
    RI_FMT_U32 = 3,
    RI_FMT_U64 = 4,
    RI_FMT_I64 = 5,
    RI_FMT_F32 = 6,
    RI_FMT_I8 = 7,
    RI_FMT_U8 = 8,
    RI_FMT_I32 = 9,
    RI_FMT_F64 = 10,
} ri_fmt_type;

/* Size in bytes of one element of type, 0 for a type this build does not know.
 * A reader accepts sections of unknown types (a newer writer's optional data)
 * after the usual layout and CRC checks; only asking for one as a typed view
 * fails. */
size_t ri_fmt_type_size(uint32_t type);
/* Static name of a type ("u32"), "?" when unknown. */
const char *ri_fmt_type_name(uint32_t type);

typedef struct {
    char tag[RI_FMT_TAG_MAX + 1];
    uint32_t type;
    const void *data; /* borrowed until the writer is written */
    uint64_t size;    /* bytes */
} ri_fmt_wsection;

typedef struct {
    ri_fmt_wsection *sec;
    uint32_t n, cap;
} ri_fmt_writer;

void ri_fmt_writer_init(ri_fmt_writer *w);
void ri_fmt_writer_free(ri_fmt_writer *w);
/* Add a section; data is borrowed (must stay valid until written). tag is 1-8
 * characters of [A-Z0-9_], unique in the file; size a multiple of the element size.
 * Errors: EINVAL (bad tag, repeated tag, type, size), ENOMEM. */
int ri_fmt_add(ri_fmt_writer *w, const char *tag, ri_fmt_type type, const void *data, uint64_t size);
/* Write the file to a unique temporary file beside path, then rename it onto path
 * (lib/util/fileio.h), so a reader never sees a
 * half-written file. Errors: EIO (with the system's reason), ENOMEM. */
int ri_fmt_write_file(const ri_fmt_writer *w, const char *path);
/* Same into a new 64-byte aligned buffer (free with ri_aligned_free). */
int ri_fmt_write_buffer(const ri_fmt_writer *w, void **out, size_t *size);

typedef struct {
    char tag[RI_FMT_TAG_MAX + 1];
    uint32_t type, elem_size;
    uint64_t offset, size;
    const void *data; /* inside the reader's buffer */
} ri_fmt_section;

/* What one model load may allocate (docs/file-format.md, "Bounded loads"):
 * the file buffer, every copy of a section and every array derived from the
 * file are charged before they are allocated, so that no file, however
 * forged, makes a load ask for more than limit bytes. By default the limit is
 * RI_FMT_LOAD_FACTOR x file size + RI_FMT_LOAD_BASE: the factor covers a
 * state that copies its sections plus the scoring core's item store (matrix,
 * SIMD panels and a similar-items copy of each: four times the item vectors)
 * and id maps with their hash tables; the base covers fixed costs that do not
 * grow with the file (panel padding, an ALS Gram matrix of dim^2). */
#define RI_FMT_LOAD_FACTOR 8u
#define RI_FMT_LOAD_BASE ((uint64_t)64 << 20)
typedef struct {
    uint64_t limit;     /* bytes */
    uint64_t used;      /* charged so far */
    uint64_t file_size;
    int from_key;       /* limit set by the caller's load_memory_limit */
} ri_fmt_budget;

/* The default limit for a file of size bytes (saturates at UINT64_MAX). */
uint64_t ri_fmt_default_limit(uint64_t size);
/* A budget for a file of file_size bytes: limit bytes, or the default for 0. */
void ri_fmt_budget_init(ri_fmt_budget *b, uint64_t file_size, uint64_t limit);

typedef struct {
    const uint8_t *base;
    size_t size;
    uint32_t version;
    uint32_t n_sections;
    const char *name; /* for messages, borrowed */
    /* The load's budget, charged by ri_fmt_charge; NULL (what ri_fmt_open
     * sets) charges nothing, for readers other than the model loader. */
    ri_fmt_budget *budget;
} ri_fmt_reader;

/* Charge count elements of size bytes that a load is about to allocate for
 * what ("the item vectors") to r's budget, before allocating them (overflow
 * saturates, so a forged count is refused, not wrapped). Errors: EFORMAT
 * naming what, the total, the limit and the key load_memory_limit. */
int ri_fmt_charge(const ri_fmt_reader *r, uint64_t count, uint64_t size, const char *what);

/* Validate data[0..size) completely: magic, version, header CRC, table CRC and
 * entries, canonical layout (every offset and size checked against size without
 * overflow, 64-byte aligned, no overlap, zero padding), and every section's CRC.
 * data must be 64-byte aligned (the caller's buffer, borrowed by r).
 * name prefixes messages ("model.bin"). Errors: EFORMAT, EINVAL (NULL, alignment). */
int ri_fmt_open(ri_fmt_reader *r, const void *data, size_t size, const char *name);
/* Section by tag: RECINT_OK, or ENOTFOUND (no message set; callers decide). */
int ri_fmt_find(const ri_fmt_reader *r, const char *tag, ri_fmt_section *out);
/* Required section of a type holding count elements (count RI_FMT_ANY: any number).
 * Writes the element count to *n (may be NULL). Errors: EFORMAT naming the
 * section and what was expected versus found. */
#define RI_FMT_ANY UINT64_MAX
int ri_fmt_array(const ri_fmt_reader *r, const char *tag, ri_fmt_type type, uint64_t count,
                 const void **data, uint64_t *n);

/* Read a whole container file into a new 64-byte aligned buffer (free with
 * ri_aligned_free) for ri_fmt_open. Errors: EIO (also: not a regular file),
 * EFORMAT (shorter than a header), ENOMEM, EINVAL (NULL). */
int ri_fmt_read_file(const char *path, void **data, size_t *size);

#endif
