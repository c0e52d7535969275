#include "util/config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/error.h"
#include "util/numparse.h"

typedef enum { T_INT, T_FLOAT, T_BOOL, T_CHOICE, T_STRING } ptype;

typedef struct {
    const char *key, *type_name, *def, *range, *group, *owner, *stability, *help;
    ptype type;
} param;

static const param table[RI_P_COUNT] = {
#define INT T_INT
#define FLOAT T_FLOAT
#define BOOL T_BOOL
#define CHOICE T_CHOICE
#define STRING T_STRING
#define STABLE "stable"
#define EXPERIMENTAL "experimental"
#define RI_PARAM(id, key, type, def, range, group, owner, stability, help) \
    [RI_P_##id] = {key, #type, def, range, group, owner, stability, help, type},
#include "util/params.def"
#undef RI_PARAM
#undef STABLE
#undef EXPERIMENTAL
#undef INT
#undef FLOAT
#undef BOOL
#undef CHOICE
#undef STRING
};

typedef struct {
    int64_t i;
    double f;
    char *s; /* owned copy for choice and string */
} value;

struct recint_config {
    value v[RI_P_COUNT];
    unsigned char set[RI_P_COUNT];
};

static const char *type_label(ptype t)
{
    static const char *const names[] = {"int", "float", "bool", "choice", "string"};
    return names[t];
}

RECINT_API size_t recint_config_count(void) { return RI_P_COUNT; }

RECINT_API const char *recint_config_describe(size_t index, int field)
{
    if (index >= RI_P_COUNT)
        return NULL;
    const param *p = &table[index];
    switch (field) {
    case RECINT_PARAM_KEY: return p->key;
    case RECINT_PARAM_TYPE: return type_label(p->type);
    case RECINT_PARAM_DEFAULT: return p->def;
    case RECINT_PARAM_RANGE: return p->range;
    case RECINT_PARAM_HELP: return p->help;
    case RECINT_PARAM_GROUP: return p->group;
    case RECINT_PARAM_OWNER: return p->owner;
    case RECINT_PARAM_STABILITY: return p->stability;
    default: return NULL;
    }
}

static int find_key(const char *key)
{
    for (int i = 0; i < RI_P_COUNT; i++)
        if (strcmp(table[i].key, key) == 0)
            return i;
    return -1;
}

/* Bounds from the table's "[lo, hi]" text, so the help shown and the check made
 * can never disagree. */
static void bounds(const param *p, double *lo, double *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    const char *r = p->range, *comma = strchr(r, ',');
    if (r[0] != '[' || !comma)
        return;
    const char *a = r + 1, *b = comma + 1;
    while (*b == ' ')
        b++;
    const char *end = strchr(b, ']');
    if (!end)
        return;
    ri_parse_f64(a, (size_t)(comma - a), lo);
    ri_parse_f64(b, (size_t)(end - b), hi);
}

/* Position of v among the '|'-separated choices, or -1. */
static int choice_index(const char *choices, const char *v)
{
    size_t n = strlen(v);
    const char *c = choices;
    for (int k = 0; *c; k++) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && strncmp(c, v, n) == 0)
            return k;
        if (!bar)
            break;
        c = bar + 1;
    }
    return -1;
}

/* Parse text for parameter p into *out (allocating out->s for text types). */
static int parse_value(const param *p, const char *text, value *out)
{
    size_t len = strlen(text);
    value v = {0, 0.0, NULL};
    double lo, hi;
    switch (p->type) {
    case T_INT: {
        int rc = ri_parse_i64(text, len, &v.i);
        if (rc != 0)
            return ri_error(RECINT_EINVAL, "parameter %s: '%s' is not %s (expected an integer in %s)",
                            p->key, text, rc == -2 ? "in range" : "an integer", p->range);
        bounds(p, &lo, &hi);
        if ((double)v.i < lo || (double)v.i > hi)
            return ri_error(RECINT_EINVAL, "parameter %s: %s is outside %s", p->key, text, p->range);
        v.f = (double)v.i;
        break;
    }
    case T_FLOAT:
        if (ri_parse_f64(text, len, &v.f) != 0 || isnan(v.f))
            return ri_error(RECINT_EINVAL, "parameter %s: '%s' is not a number (expected %s)", p->key,
                            text, p->range);
        bounds(p, &lo, &hi);
        if (v.f < lo || v.f > hi)
            return ri_error(RECINT_EINVAL, "parameter %s: %s is outside %s", p->key, text, p->range);
        break;
    case T_BOOL:
        if (!strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "yes") || !strcmp(text, "on"))
            v.i = 1;
        else if (!strcmp(text, "false") || !strcmp(text, "0") || !strcmp(text, "no") ||
                 !strcmp(text, "off"))
            v.i = 0;
        else
            return ri_error(RECINT_EINVAL, "parameter %s: '%s' is not a boolean (true|false)", p->key,
                            text);
        break;
    case T_CHOICE:
        if (choice_index(p->range, text) < 0)
            return ri_error(RECINT_EINVAL, "parameter %s: '%s' is not one of %s", p->key, text,
                            p->range);
        /* fall through */
    case T_STRING:
        v.s = ri_strdup(text);
        if (!v.s)
            return RECINT_ENOMEM;
        break;
    }
    *out = v;
    return RECINT_OK;
}

static void free_values(recint_config *c)
{
    for (int i = 0; i < RI_P_COUNT; i++)
        free(c->v[i].s);
}

RECINT_API int recint_config_new(recint_config **out)
{
    return recint_config_copy(out, NULL);
}

RECINT_API int recint_config_copy(recint_config **out, const recint_config *src)
{
    if (!out)
        return ri_error(RECINT_EINVAL, "recint_config_copy: out is NULL");
    recint_config *c = RI_NEW_ZEROED(recint_config, 1);
    if (!c)
        return RECINT_ENOMEM;
    for (int i = 0; i < RI_P_COUNT; i++) {
        int rc;
        if (src) {
            c->v[i] = src->v[i];
            c->v[i].s = NULL;
            c->set[i] = src->set[i];
            rc = RECINT_OK;
            if (src->v[i].s && !(c->v[i].s = ri_strdup(src->v[i].s)))
                rc = RECINT_ENOMEM;
        } else {
            rc = parse_value(&table[i], table[i].def, &c->v[i]);
        }
        if (rc != RECINT_OK) {
            free_values(c);
            free(c);
            return rc;
        }
    }
    *out = c;
    return RECINT_OK;
}

RECINT_API void recint_config_free(recint_config *cfg)
{
    if (!cfg)
        return;
    free_values(cfg);
    free(cfg);
}

/* Close key names for the "unknown key" message: same prefix or one edit apart. */
static void suggest(const char *key, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < RI_P_COUNT && used + 1 < cap; i++) {
        const char *k = table[i].key;
        size_t n = strlen(key), m = strlen(k);
        int close = (n >= 3 && strncmp(k, key, 3) == 0) || strstr(k, key) != NULL;
        if (!close && (n == m || n + 1 == m || m + 1 == n)) {
            size_t a = 0, b = 0, diff = 0;
            while (a < n && b < m && diff < 2) {
                if (key[a] == k[b]) {
                    a++;
                    b++;
                } else {
                    diff++;
                    if (n > m)
                        a++;
                    else if (m > n)
                        b++;
                    else {
                        a++;
                        b++;
                    }
                }
            }
            diff += (n - a) + (m - b);
            close = diff <= 1;
        }
        if (close) {
            int w = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", k);
            if (w < 0)
                break;
            used += (size_t)w;
        }
    }
}

RECINT_API int recint_config_set(recint_config *cfg, const char *key, const char *value_text)
{
    if (!cfg || !key || !value_text)
        return ri_error(RECINT_EINVAL, "recint_config_set: NULL argument");
    int i = find_key(key);
    if (i < 0) {
        char near[256];
        suggest(key, near, sizeof near);
        return ri_error(RECINT_ENOTFOUND, "unknown parameter '%s'%s%s (recint params lists them all)",
                        key, near[0] ? "; did you mean: " : "", near);
    }
    value v;
    int rc = parse_value(&table[i], value_text, &v);
    if (rc != RECINT_OK)
        return rc;
    free(cfg->v[i].s);
    cfg->v[i] = v;
    cfg->set[i] = 1;
    return RECINT_OK;
}

RECINT_API int recint_config_set_pair(recint_config *cfg, const char *kv)
{
    if (!cfg || !kv)
        return ri_error(RECINT_EINVAL, "recint_config_set_pair: NULL argument");
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return ri_error(RECINT_EINVAL, "'%s' is not of the form key=value", kv);
    char key[128];
    size_t n = (size_t)(eq - kv);
    if (n >= sizeof key)
        return ri_error(RECINT_ENOTFOUND, "unknown parameter '%.*s...'", 40, kv);
    memcpy(key, kv, n);
    key[n] = '\0';
    return recint_config_set(cfg, key, eq + 1);
}

RECINT_API int recint_config_get(const recint_config *cfg, const char *key, char *buf, size_t cap)
{
    if (!key || !buf || cap == 0)
        return ri_error(RECINT_EINVAL, "recint_config_get: NULL argument or zero capacity");
    int i = find_key(key);
    if (i < 0)
        return ri_error(RECINT_ENOTFOUND, "unknown parameter '%s'", key);
    char tmp[64];
    const char *text;
    if (!cfg) {
        text = table[i].def;
    } else {
        switch (table[i].type) {
        case T_INT: snprintf(tmp, sizeof tmp, "%lld", (long long)cfg->v[i].i); text = tmp; break;
        case T_FLOAT: ri_format_f64(cfg->v[i].f, tmp, sizeof tmp); text = tmp; break;
        case T_BOOL: text = cfg->v[i].i ? "true" : "false"; break;
        default: text = cfg->v[i].s; break;
        }
    }
    size_t n = strlen(text);
    if (n + 1 > cap)
        return ri_error(RECINT_ERANGE, "value of %s needs %zu bytes, buffer holds %zu", key, n + 1, cap);
    memcpy(buf, text, n + 1);
    return RECINT_OK;
}

RECINT_API int recint_config_is_set(const recint_config *cfg, const char *key)
{
    if (!cfg || !key)
        return 0;
    int i = find_key(key);
    return i >= 0 && cfg->set[i];
}

/* Defaults for a NULL config are parsed on each read: the table is the only copy. */
static value default_value(ri_param_id id)
{
    value v = {0, 0.0, NULL};
    const param *p = &table[id];
    size_t len = strlen(p->def);
    switch (p->type) {
    case T_INT: ri_parse_i64(p->def, len, &v.i); v.f = (double)v.i; break;
    case T_FLOAT: ri_parse_f64(p->def, len, &v.f); break;
    case T_BOOL: v.i = !strcmp(p->def, "true"); break;
    default: break;
    }
    return v;
}

int64_t ri_cfg_int(const recint_config *cfg, ri_param_id id)
{
    return cfg ? cfg->v[id].i : default_value(id).i;
}

double ri_cfg_float(const recint_config *cfg, ri_param_id id)
{
    return cfg ? cfg->v[id].f : default_value(id).f;
}

int ri_cfg_bool(const recint_config *cfg, ri_param_id id)
{
    return (int)(cfg ? cfg->v[id].i : default_value(id).i);
}

const char *ri_cfg_str(const recint_config *cfg, ri_param_id id)
{
    return cfg ? cfg->v[id].s : table[id].def;
}

int ri_cfg_is_set(const recint_config *cfg, ri_param_id id) { return cfg ? cfg->set[id] : 0; }

int ri_cfg_pick(const recint_config *cfg, ri_param_id id, const char *const *names, size_t n)
{
    if ((unsigned)id >= RI_P_COUNT || table[id].type != T_CHOICE || !names)
        return -1;
    const char *v = ri_cfg_str(cfg, id);
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], v) == 0)
            return (int)i;
    return -1;
}

/* Whether word is one of the '|'-separated names of list. */
static int listed(const char *list, const char *word)
{
    return choice_index(list, word) >= 0;
}

static int owned_by_kinds(const char *owner)
{
    return strcmp(owner, "core") != 0 && strcmp(owner, "explore") != 0 &&
           strcmp(owner, "simulate") != 0;
}

int ri_cfg_check_kind(const recint_config *cfg, const char *kind, const char *what)
{
    if (!cfg || !kind)
        return RECINT_OK;
    for (int i = 0; i < RI_P_COUNT; i++) {
        const param *p = &table[i];
        if (cfg->set[i] && owned_by_kinds(p->owner) && !listed(p->owner, kind))
            return ri_error(RECINT_EINVAL,
                            "%s: key '%s' is a parameter of %s%s, not of '%s' (unset it, or "
                            "use a config of its own for this model)",
                            what, p->key, strchr(p->owner, '|') ? "the kinds " : "the kind ",
                            p->owner, kind);
    }
    return RECINT_OK;
}
