/* The explorer's log as tab-separated text, for reading by eye or by other
 * tools (docs/exploration.md, "The log"):
 *
 *   # recint-explore-log 1 users=500 items=2000
 *   # user  round  slot  item  candidates  propensity  reward
 *   17      0      0     512   100         0.01        1
 *
 * Numbers are written so that they read back to the same bits (propensities
 * with up to 17 significant digits, rewards as the float they are); a reward
 * not yet observed is "nan". The reader takes the same checks as the
 * container's and names the line; lines starting with '#' after the first are
 * comments. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/error.h"
#include "explore/explore_internal.h"
#include "util/fileio.h"
#include "util/numparse.h"
#include "data/textscan.h"

enum { LINE_CAP = 256, BLOCK = 1 << 16 };

RECINT_API int recint_explorer_log_save_text(const recint_explorer *e, const char *path)
{
    static const char fn[] = "recint_explorer_log_save_text";
    if (!e || !path)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn, !e ? "explorer" : "path");
    char *buf = ri_malloc_array(BLOCK + LINE_CAP, 1);
    if (!buf)
        return ri_error(RECINT_ENOMEM, "%s: out of memory", fn);
    ri_atomic_file f;
    int rc = ri_atomic_open(&f, path);
    if (rc) {
        free(buf);
        return ri_error_prefix(rc, "%s: ", fn);
    }
    size_t len = (size_t)snprintf(buf, LINE_CAP, "%s users=%" PRIu32 " items=%" PRIu32 "\n"
                                  "# user\tround\tslot\titem\tcandidates\tpropensity\treward\n",
                                  RI_LOG_TEXT_MAGIC, e->n_users, e->n_items);
    for (uint64_t r = 0; r < e->log_n; r++) {
        const ri_log_record *x = &e->log[r];
        char prop[40], reward[40];
        ri_format_f64(x->propensity, prop, sizeof prop);
        if (isnan(x->reward))
            memcpy(reward, "nan", 4);
        else
            ri_format_f64((double)x->reward, reward, sizeof reward);
        len += (size_t)snprintf(buf + len, LINE_CAP,
                                "%" PRIu32 "\t%" PRIu64 "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32
                                "\t%s\t%s\n",
                                x->user, x->round, x->slot, x->item, x->n_candidates, prop, reward);
        if (len >= BLOCK) {
            ri_atomic_write(&f, buf, len);
            len = 0;
        }
    }
    ri_atomic_write(&f, buf, len);
    free(buf);
    rc = ri_atomic_commit(&f);
    return rc ? ri_error_prefix(rc, "%s: ", fn) : RECINT_OK;
}

int ri_explore_log_is_text(const char *path, int *text)
{
    int fd;
    uint64_t size;
    int rc = ri_open_regular(path, &fd, &size);
    if (rc)
        return rc;
    char head[sizeof RI_LOG_TEXT_MAGIC];
    const size_t n = sizeof head - 1;
    *text = size >= n && ri_read_exact(fd, head, n, path) == RECINT_OK &&
            memcmp(head, RI_LOG_TEXT_MAGIC, n) == 0;
    close(fd);
    return RECINT_OK;
}

typedef struct {
    const char *path;
    uint32_t n_users, n_items;
    ri_log_record *recs;
    uint64_t n, cap;
} reader;

static int parse_u64(ri_span w, uint64_t max, uint64_t *out)
{
    int64_t v;
    if (ri_parse_i64(w.p, w.n, &v) != 0 || v < 0 || (uint64_t)v > max)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* "users=500" and "items=2000" after the magic; they must be the model's. */
static int header(reader *r, const char *s, size_t n, uint64_t line)
{
    const size_t m = strlen(RI_LOG_TEXT_MAGIC);
    const char *p = s + m, *end = s + n;
    uint64_t users = UINT64_MAX, items = UINT64_MAX;
    ri_span w;
    while (n >= m && ri_span_next_word(&p, end, &w)) {
        if (w.n > 6 && memcmp(w.p, "users=", 6) == 0)
            parse_u64((ri_span){w.p + 6, w.n - 6}, UINT32_MAX, &users);
        else if (w.n > 6 && memcmp(w.p, "items=", 6) == 0)
            parse_u64((ri_span){w.p + 6, w.n - 6}, UINT32_MAX, &items);
    }
    if (users == UINT64_MAX || items == UINT64_MAX)
        return ri_error(RECINT_EFORMAT, "%s:%llu: expected \"%s users=N items=M\"", r->path,
                        (unsigned long long)line, RI_LOG_TEXT_MAGIC);
    if (users != r->n_users || items != r->n_items)
        return ri_error(RECINT_ERANGE, "%s: the log's catalogue (%llu users, %llu items) is not "
                        "the model's (%u, %u)", r->path, (unsigned long long)users,
                        (unsigned long long)items, r->n_users, r->n_items);
    return RECINT_OK;
}

static int record(void *ctx, const char *s, size_t n, uint64_t line)
{
    reader *r = ctx;
    if (line == 1)
        return header(r, s, n, line);
    ri_span t = ri_span_trim((ri_span){s, n});
    if (t.n == 0 || t.p[0] == '#')
        return RECINT_OK;
    ri_span w[8];
    const char *p = t.p, *end = t.p + t.n;
    int k = 0;
    while (k < 8 && ri_span_next_word(&p, end, &w[k]))
        k++;
    if (k != 7)
        return ri_error(RECINT_EFORMAT, "%s:%llu: expected 7 fields (user round slot item "
                        "candidates propensity reward), found %s%d", r->path,
                        (unsigned long long)line, k == 8 ? "more than " : "", k == 8 ? 7 : k);
    uint64_t v[5];
    static const char *const names[5] = {"user", "round", "slot", "item", "candidates"};
    for (int f = 0; f < 5; f++)
        if (parse_u64(w[f], f == 1 ? UINT64_MAX >> 1 : UINT32_MAX, &v[f]) != 0)
            return ri_error(RECINT_EFORMAT, "%s:%llu: %s \"%.*s\" is not a count", r->path,
                            (unsigned long long)line, names[f], (int)w[f].n, w[f].p);
    double prop, reward;
    if (ri_parse_f64(w[5].p, w[5].n, &prop) != 0 || ri_parse_f64(w[6].p, w[6].n, &reward) != 0)
        return ri_error(RECINT_EFORMAT, "%s:%llu: %s is not a number", r->path,
                        (unsigned long long)line, ri_parse_f64(w[5].p, w[5].n, &prop) != 0
                                                       ? "propensity" : "reward");
    ri_log_record x = {(uint32_t)v[0], (uint32_t)v[3], (uint32_t)v[2], (uint32_t)v[4], v[1], prop,
                       isnan(reward) ? NAN : (float)reward};
    char where[600];
    snprintf(where, sizeof where, "%s:%llu", r->path, (unsigned long long)line);
    int rc = ri_explore_log_check(where, &x, r->n_users, r->n_items);
    if (rc)
        return rc;
    if (r->n == r->cap) {
        uint64_t cap = r->cap ? 2 * r->cap : 1024;
        ri_log_record *grown = cap > SIZE_MAX / sizeof *grown ? NULL
                                                              : ri_realloc_array(r->recs, (size_t)cap, sizeof *grown);
        if (!grown)
            return ri_error(RECINT_ENOMEM, "%s: out of memory for %llu records", r->path,
                            (unsigned long long)cap);
        r->recs = grown;
        r->cap = cap;
    }
    r->recs[r->n++] = x;
    return RECINT_OK;
}

int ri_explore_log_read_text(const char *path, uint32_t n_users, uint32_t n_items,
                             ri_log_record **out, uint64_t *n_out)
{
    reader r = {path, n_users, n_items, NULL, 0, 0};
    int rc = ri_read_lines(path, record, &r);
    if (rc) {
        free(r.recs);
        return rc;
    }
    *out = r.recs;
    *n_out = r.n;
    return RECINT_OK;
}
