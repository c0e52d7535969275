/* The explorer's log: what each round showed, with propensities and rewards,
 * kept in memory and written as the library's one container (lib/io/format.h)
 * with one section per field; the reader validates every field before use. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "explore/explore_internal.h"
#include "io/format.h"

#define LOG_MAGIC "recint-explore-log 1"

int ri_explore_log_append(recint_explorer *e, const ri_log_record *recs, uint32_t n,
                          uint64_t *first)
{
    pthread_mutex_lock(&e->log_lock);
    int rc = RECINT_OK;
    if (e->log_n + n > e->log_cap) {
        uint64_t cap = e->log_cap ? e->log_cap * 2 : 1024;
        while (cap < e->log_n + n)
            cap *= 2;
        ri_log_record *grown = cap > SIZE_MAX ? NULL
                                              : ri_realloc_array(e->log, (size_t)cap, sizeof *grown);
        if (!grown)
            rc = ri_error(RECINT_ENOMEM, "explorer log: out of memory for %llu records",
                          (unsigned long long)cap);
        else {
            e->log = grown;
            e->log_cap = cap;
        }
    }
    if (rc == RECINT_OK) {
        memcpy(e->log + e->log_n, recs, n * sizeof *recs);
        *first = e->log_n;
        e->log_n += n;
    }
    pthread_mutex_unlock(&e->log_lock);
    return rc;
}

void ri_explore_log_reward(recint_explorer *e, uint64_t first, uint32_t count, uint32_t item,
                           float reward)
{
    pthread_mutex_lock(&e->log_lock);
    for (uint64_t r = first; r < first + count && r < e->log_n; r++)
        if (e->log[r].item == item && isnan(e->log[r].reward)) {
            e->log[r].reward = reward;
            break;
        }
    pthread_mutex_unlock(&e->log_lock);
}

RECINT_API int recint_explorer_set_logging(recint_explorer *e, int enable)
{
    if (!e)
        return ri_error(RECINT_EINVAL, "recint_explorer_set_logging: explorer is NULL");
    pthread_mutex_lock(&e->log_lock);
    e->logging = enable != 0;
    e->log_n = 0;
    for (uint32_t u = 0; u < e->n_users; u++)
        if (e->users[u])
            e->users[u]->log_count = 0;
    pthread_mutex_unlock(&e->log_lock);
    return RECINT_OK;
}

RECINT_API uint64_t recint_explorer_log_size(const recint_explorer *e) { return e ? e->log_n : 0; }

RECINT_API int recint_explorer_log_save(const recint_explorer *e, const char *path)
{
    static const char fn[] = "recint_explorer_log_save";
    if (!e || !path)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn, !e ? "explorer" : "path");
    const size_t n = (size_t)e->log_n;
    uint32_t *u32 = ri_malloc_array(n ? n : 1, 4 * sizeof(uint32_t));
    uint64_t *round = RI_NEW_ARRAY(uint64_t, n ? n : 1);
    double *prop = RI_NEW_ARRAY(double, n ? n : 1);
    float *reward = RI_NEW_ARRAY(float, n ? n : 1);
    if (!u32 || !round || !prop || !reward) {
        free(u32);
        free(round);
        free(prop);
        free(reward);
        return ri_error(RECINT_ENOMEM, "%s: out of memory for %zu records", fn, n);
    }
    for (size_t r = 0; r < n; r++) {
        const ri_log_record *x = &e->log[r];
        u32[r] = x->user;
        u32[n + r] = x->item;
        u32[2 * n + r] = x->slot;
        u32[3 * n + r] = x->n_candidates;
        round[r] = x->round;
        prop[r] = x->propensity;
        reward[r] = x->reward;
    }
    const uint32_t catalogue[2] = {e->n_users, e->n_items};
    ri_fmt_writer w;
    ri_fmt_writer_init(&w);
    int rc = ri_fmt_add(&w, "EXPLOG", RI_FMT_TEXT, LOG_MAGIC, strlen(LOG_MAGIC));
    if (!rc) rc = ri_fmt_add(&w, "CATALOG", RI_FMT_U32, catalogue, sizeof catalogue);
    if (!rc) rc = ri_fmt_add(&w, "USER", RI_FMT_U32, u32, n * 4);
    if (!rc) rc = ri_fmt_add(&w, "ITEM", RI_FMT_U32, u32 + n, n * 4);
    if (!rc) rc = ri_fmt_add(&w, "SLOT", RI_FMT_U32, u32 + 2 * n, n * 4);
    if (!rc) rc = ri_fmt_add(&w, "NCAND", RI_FMT_U32, u32 + 3 * n, n * 4);
    if (!rc) rc = ri_fmt_add(&w, "ROUND", RI_FMT_U64, round, n * 8);
    if (!rc) rc = ri_fmt_add(&w, "PROP", RI_FMT_F64, prop, n * 8);
    if (!rc) rc = ri_fmt_add(&w, "REWARD", RI_FMT_F32, reward, n * 4);
    if (!rc) rc = ri_fmt_write_file(&w, path);
    ri_fmt_writer_free(&w);
    free(u32);
    free(round);
    free(prop);
    free(reward);
    return rc ? ri_error_prefix(rc, "%s: ", fn) : RECINT_OK;
}

/* One record's fields checked: indices in the catalogue, slot below the
 * candidate count, a propensity in (0, 1], a finite or NaN (unobserved) reward.
 * where names the record in messages ("path: record 7", "path:9"). */
int ri_explore_log_check(const char *where, const ri_log_record *x, uint32_t n_users,
                         uint32_t n_items)
{
    if (x->user >= n_users || x->item >= n_items)
        return ri_error(RECINT_ERANGE, "%s: %s %u is outside the model's catalogue (%u)", where,
                        x->user >= n_users ? "user" : "item",
                        x->user >= n_users ? x->user : x->item,
                        x->user >= n_users ? n_users : n_items);
    if (x->slot >= x->n_candidates)
        return ri_error(RECINT_EFORMAT, "%s: slot %u of %u candidates", where, x->slot,
                        x->n_candidates);
    /* a subnormal propensity has no finite importance weight */
    if (!(x->propensity >= DBL_MIN && x->propensity <= 1.0))
        return ri_error(RECINT_EFORMAT, "%s: propensity %g is not in (0, 1]%s", where,
                        x->propensity, x->propensity > 0.0 ? " or is subnormal" : "");
    if (isinf(x->reward))
        return ri_error(RECINT_EFORMAT, "%s: infinite reward", where);
    return RECINT_OK;
}

static int check_records(const char *path, const ri_fmt_reader *r, uint64_t n, uint32_t n_users,
                         uint32_t n_items, ri_log_record *out)
{
    const void *vu, *vi, *vs, *vc, *vr, *vp, *vw;
    int rc = ri_fmt_array(r, "USER", RI_FMT_U32, n, &vu, NULL);
    if (!rc) rc = ri_fmt_array(r, "ITEM", RI_FMT_U32, n, &vi, NULL);
    if (!rc) rc = ri_fmt_array(r, "SLOT", RI_FMT_U32, n, &vs, NULL);
    if (!rc) rc = ri_fmt_array(r, "NCAND", RI_FMT_U32, n, &vc, NULL);
    if (!rc) rc = ri_fmt_array(r, "ROUND", RI_FMT_U64, n, &vr, NULL);
    if (!rc) rc = ri_fmt_array(r, "PROP", RI_FMT_F64, n, &vp, NULL);
    if (!rc) rc = ri_fmt_array(r, "REWARD", RI_FMT_F32, n, &vw, NULL);
    if (rc)
        return rc;
    const uint32_t *u = vu, *it = vi, *sl = vs, *nc = vc;
    const uint64_t *rd = vr;
    const double *p = vp;
    const float *w = vw;
    for (uint64_t t = 0; t < n; t++) {
        ri_log_record x = {u[t], it[t], sl[t], nc[t], rd[t], p[t], w[t]};
        char where[64];
        snprintf(where, sizeof where, "record %llu", (unsigned long long)t);
        if ((rc = ri_explore_log_check(where, &x, n_users, n_items)) != RECINT_OK)
            return ri_error_prefix(rc, "%s: ", path);
        out[t] = x;
    }
    return RECINT_OK;
}

static int read_container(const char *path, uint32_t n_users, uint32_t n_items,
                          ri_log_record **out, uint64_t *n_out)
{
    void *buf = NULL;
    size_t size = 0;
    int rc = ri_fmt_read_file(path, &buf, &size);
    if (rc)
        return rc;
    ri_fmt_reader r;
    const void *magic, *cat, *users;
    uint64_t n_magic = 0, n = 0;
    ri_log_record *recs = NULL;
    rc = ri_fmt_open(&r, buf, size, path);
    if (!rc) rc = ri_fmt_array(&r, "EXPLOG", RI_FMT_TEXT, RI_FMT_ANY, &magic, &n_magic);
    if (!rc && (n_magic != strlen(LOG_MAGIC) || memcmp(magic, LOG_MAGIC, n_magic) != 0))
        rc = ri_error(RECINT_EFORMAT, "%s: not an explorer log (section EXPLOG)", path);
    if (!rc) rc = ri_fmt_array(&r, "CATALOG", RI_FMT_U32, 2, &cat, NULL);
    if (!rc && (((const uint32_t *)cat)[0] != n_users || ((const uint32_t *)cat)[1] != n_items))
        rc = ri_error(RECINT_ERANGE, "%s: the log's catalogue (%u users, %u items) is not the "
                      "model's (%u, %u)", path, ((const uint32_t *)cat)[0],
                      ((const uint32_t *)cat)[1], n_users, n_items);
    if (!rc) rc = ri_fmt_array(&r, "USER", RI_FMT_U32, RI_FMT_ANY, &users, &n);
    if (!rc && (n > SIZE_MAX / sizeof *recs || !(recs = ri_malloc_array(n ? (size_t)n : 1, sizeof *recs))))
        rc = ri_error(RECINT_ENOMEM, "%s: out of memory for %llu records", path,
                      (unsigned long long)n);
    if (!rc) rc = check_records(path, &r, n, n_users, n_items, recs);
    ri_aligned_free(buf);
    if (rc) {
        free(recs);
        return rc;
    }
    *out = recs;
    *n_out = n;
    return RECINT_OK;
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* A copy of e's learnt state (posteriors, log, logging) in a new explorer over
 * the same model and configuration. */
static int shadow_of(const recint_explorer *e, recint_explorer **out)
{
    recint_explorer *s;
    int rc = recint_explorer_new(&s, e->m, e->cfg);
    if (rc)
        return rc;
    s->logging = e->logging;
    if (e->log_n) {
        if (!(s->log = ri_malloc_array((size_t)e->log_n, sizeof *s->log)))
            rc = RECINT_ENOMEM;
        else {
            memcpy(s->log, e->log, (size_t)e->log_n * sizeof *s->log);
            s->log_n = s->log_cap = e->log_n;
        }
    }
    for (uint32_t u = 0; rc == RECINT_OK && u < e->n_users; u++) {
        if (!e->users[u])
            continue;
        if (!(s->users[u] = RI_NEW_ZEROED(ri_posterior, 1)))
            rc = RECINT_ENOMEM;
        else if ((rc = ri_posterior_copy(s->users[u], e->users[u])) != RECINT_OK) {
            free(s->users[u]);
            s->users[u] = NULL;
        }
    }
    if (rc) {
        recint_explorer_free(s);
        return ri_error(RECINT_ENOMEM, "out of memory for a copy of the explorer's state");
    }
    *out = s;
    return RECINT_OK;
}

/* Exchange the learnt state of a and b (same model and configuration). */
static void swap_state(recint_explorer *a, recint_explorer *b)
{
    ri_posterior **users = a->users;
    ri_log_record *log = a->log;
    uint64_t n = a->log_n, cap = a->log_cap;
    a->users = b->users;
    a->log = b->log;
    a->log_n = b->log_n;
    a->log_cap = b->log_cap;
    b->users = users;
    b->log = log;
    b->log_n = n;
    b->log_cap = cap;
}

static int replay_records(recint_explorer *e, const ri_log_record *recs, uint64_t n,
                          uint64_t *mismatches);

/* Every round allocates, so a failure could strike after some rounds have
 * changed the posteriors: the rounds run on a copy of e's state that replaces
 * e's only when all of them succeeded, leaving e as it was on any failure. */
RECINT_API int recint_explorer_replay(recint_explorer *e, const char *path, uint64_t *mismatches)
{
    static const char fn[] = "recint_explorer_replay";
    if (!e || !path)
        return ri_error(RECINT_EINVAL, "%s: %s is NULL", fn, !e ? "explorer" : "path");
    ri_log_record *recs;
    uint64_t n, bad = 0;
    int rc = ri_explore_log_read(path, e->n_users, e->n_items, &recs, &n);
    if (rc)
        return ri_error_prefix(rc, "%s: ", fn);
    recint_explorer *s = NULL;
    rc = shadow_of(e, &s);
    if (rc == RECINT_OK)
        rc = replay_records(s, recs, n, &bad);
    free(recs);
    if (rc) {
        recint_explorer_free(s);
        return ri_error_prefix(rc, "%s: ", fn);
    }
    swap_state(e, s);
    recint_explorer_free(s);
    if (mismatches)
        *mismatches = bad;
    return RECINT_OK;
}

static int replay_records(recint_explorer *e, const ri_log_record *recs, uint64_t n,
                          uint64_t *mismatches)
{
    int rc = RECINT_OK;
    uint32_t *items = NULL;
    double *prop = NULL;
    uint64_t bad = 0;
    for (uint64_t t = 0; t < n && rc == RECINT_OK;) {
        /* A round: consecutive records of one (user, round), slots 0, 1, ... */
        uint64_t end = t + 1;
        while (end < n && recs[end].user == recs[t].user && recs[end].round == recs[t].round &&
               recs[end].slot == recs[end - 1].slot + 1)
            end++;
        uint32_t k = (uint32_t)(end - t), got = 0;
        free(items);
        free(prop);
        items = RI_NEW_ARRAY(uint32_t, k);
        prop = RI_NEW_ARRAY(double, k);
        if (!items || !prop) {
            rc = ri_error(RECINT_ENOMEM, "out of memory for a round of %u slots", k);
            break;
        }
        rc = recint_explorer_recommend(e, recs[t].user, k, items, prop, &got);
        for (uint32_t j = 0; rc == RECINT_OK && j < k; j++)
            bad += j >= got || items[j] != recs[t + j].item || !same_bits(prop[j], recs[t + j].propensity);
        for (uint64_t j = t; rc == RECINT_OK && j < end; j++)
            if (!isnan(recs[j].reward))
                rc = recint_explorer_observe(e, recs[j].user, recs[j].item, recs[j].reward);
        t = end;
    }
    free(items);
    free(prop);
    *mismatches = bad;
    return rc;
}

int ri_explore_log_read(const char *path, uint32_t n_users, uint32_t n_items,
                        ri_log_record **out, uint64_t *n_out)
{
    int text = 0;
    int rc = ri_explore_log_is_text(path, &text);
    if (rc)
        return rc;
    return text ? ri_explore_log_read_text(path, n_users, n_items, out, n_out)
                : read_container(path, n_users, n_items, out, n_out);
}
