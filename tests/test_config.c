/* The parameter table and the config handle: table integrity, typed parsing,
 * bounds, choices, unknown keys, copies and the typed internal reads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/config.h"
#include "util/numparse.h"
#include "util/rng.h"
#include "testutil.h"

static const char *field(size_t i, int f) { return recint_config_describe(i, f); }

static int in_list(const char *word, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(word, list[i]) == 0)
            return 1;
    return 0;
}

/* Is value one of the '|'-separated choices? (Independent of the library's parser.) */
static int among_choices(const char *choices, const char *value)
{
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", choices);
    for (char *tok = strtok(tmp, "|"); tok; tok = strtok(NULL, "|"))
        if (strcmp(tok, value) == 0)
            return 1;
    return 0;
}

/* An owner is core, explore, simulate, or a '|' list of kinds the library
 * lists (recint_model_kinds). */
static int owner_ok(const char *owner)
{
    static const char *const others[] = {"core", "explore", "simulate"};
    if (in_list(owner, others, 3))
        return 1;
    const char *p = owner;
    for (;;) {
        const char *bar = strchr(p, '|');
        char kind[32];
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == 0 || len >= sizeof kind)
            return 0;
        memcpy(kind, p, len);
        kind[len] = '\0';
        if (!among_choices(recint_model_kinds(), kind))
            return 0;
        if (!bar)
            return 1;
        p = bar + 1;
    }
}

START_TEST(table_entries_complete)
{
    static const char *const types[] = {"int", "float", "bool", "choice", "string"};
    static const char *const groups[] = {"data", "split", "model", "train", "eval",
                                         "synthetic", "run", "filter", "serve"};
    static const char *const stabilities[] = {"stable", "experimental"};
    size_t n = recint_config_count();
    ck_assert_uint_eq(n, RI_P_COUNT);
    ck_assert_uint_ge(n, 20);
    for (size_t i = 0; i < n; i++) {
        for (int f = RECINT_PARAM_KEY; f <= RECINT_PARAM_STABILITY; f++)
            ck_assert_msg(field(i, f) != NULL, "entry %zu field %d is NULL", i, f);
        const char *key = field(i, RECINT_PARAM_KEY), *type = field(i, RECINT_PARAM_TYPE);
        const char *range = field(i, RECINT_PARAM_RANGE);
        ck_assert_msg(key[0] != '\0', "entry %zu has an empty key", i);
        ck_assert_msg(field(i, RECINT_PARAM_HELP)[0] != '\0', "%s has no help", key);
        ck_assert_msg(in_list(type, types, 5), "%s: type '%s'", key, type);
        ck_assert_msg(in_list(field(i, RECINT_PARAM_GROUP), groups, 9), "%s: group '%s'", key,
                      field(i, RECINT_PARAM_GROUP));
        ck_assert_msg(owner_ok(field(i, RECINT_PARAM_OWNER)), "%s: owner '%s'", key,
                      field(i, RECINT_PARAM_OWNER));
        ck_assert_msg(in_list(field(i, RECINT_PARAM_STABILITY), stabilities, 2),
                      "%s: stability '%s'", key, field(i, RECINT_PARAM_STABILITY));
        if (!strcmp(type, "int") || !strcmp(type, "float"))
            ck_assert_msg(range[0] == '[' && strchr(range, ',') && range[strlen(range) - 1] == ']',
                          "%s: range '%s'", key, range);
        if (!strcmp(type, "choice"))
            ck_assert_msg(among_choices(range, field(i, RECINT_PARAM_DEFAULT)),
                          "%s: default '%s' not among %s", key, field(i, RECINT_PARAM_DEFAULT), range);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(key, field(j, RECINT_PARAM_KEY)) != 0, "key %s repeated", key);
    }
    ck_assert_ptr_null(field(n, RECINT_PARAM_KEY));
    ck_assert_ptr_null(field(0, RECINT_PARAM_STABILITY + 1));
    ck_assert_ptr_null(field(0, -1));
}
END_TEST

START_TEST(defaults_parse_and_read_back)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg)); /* parses every default */
    char buf[256];
    for (size_t i = 0; i < recint_config_count(); i++) {
        const char *key = field(i, RECINT_PARAM_KEY), *def = field(i, RECINT_PARAM_DEFAULT);
        RI_OK(recint_config_get(NULL, key, buf, sizeof buf));
        ck_assert_str_eq(buf, def);
        ck_assert_int_eq(recint_config_is_set(cfg, key), 0);
        RI_OK(recint_config_get(cfg, key, buf, sizeof buf));
        const char *type = field(i, RECINT_PARAM_TYPE);
        if (!strcmp(type, "float")) {
            /* "1.0" may come back as "1": compare the numbers. */
            double a, b;
            ck_assert_int_eq(ri_parse_f64(buf, strlen(buf), &a), 0);
            ck_assert_int_eq(ri_parse_f64(def, strlen(def), &b), 0);
            ck_assert_msg(a == b, "%s: default %s read back as %s", key, def, buf);
        } else {
            ck_assert_str_eq(buf, def);
        }
        /* Setting the default text explicitly is accepted and marks the key set. */
        RI_OK(recint_config_set(cfg, key, def));
        ck_assert_int_eq(recint_config_is_set(cfg, key), 1);
    }
    recint_config_free(cfg);
    recint_config_free(NULL);
}
END_TEST

START_TEST(typed_reads)
{
    ck_assert_int_eq(ri_cfg_int(NULL, RI_P_THREADS), 0);
    ck_assert_int_eq(ri_cfg_int(NULL, RI_P_SEED), 42);
    ck_assert(isinf(ri_cfg_float(NULL, RI_P_MIN_WEIGHT)) && ri_cfg_float(NULL, RI_P_MIN_WEIGHT) < 0);
    ck_assert(ri_cfg_float(NULL, RI_P_SYN_NOISE) == 0.15);
    ck_assert_int_eq(ri_cfg_bool(NULL, RI_P_IMPLICIT), 1);
    ck_assert_str_eq(ri_cfg_str(NULL, RI_P_DUPLICATES), "sum");
    ck_assert_int_eq(ri_cfg_is_set(NULL, RI_P_SEED), 0);

    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "threads", "3"));
    RI_OK(recint_config_set(cfg, "seed", "9223372036854775807"));
    RI_OK(recint_config_set(cfg, "syn_noise", "0.5"));
    RI_OK(recint_config_set(cfg, "implicit", "off"));
    RI_OK(recint_config_set(cfg, "duplicates", "max"));
    RI_OK(recint_config_set(cfg, "split", "loo"));
    ck_assert_int_eq(ri_cfg_int(cfg, RI_P_THREADS), 3);
    ck_assert(ri_cfg_int(cfg, RI_P_SEED) == INT64_MAX);
    ck_assert(ri_cfg_float(cfg, RI_P_SYN_NOISE) == 0.5);
    ck_assert_int_eq(ri_cfg_bool(cfg, RI_P_IMPLICIT), 0);
    ck_assert_str_eq(ri_cfg_str(cfg, RI_P_DUPLICATES), "max");
    ck_assert_str_eq(ri_cfg_str(cfg, RI_P_SPLIT), "loo");
    ck_assert_int_eq(ri_cfg_is_set(cfg, RI_P_SPLIT), 1);
    ck_assert_int_eq(ri_cfg_is_set(cfg, RI_P_K), 0);
    recint_config_free(cfg);
}
END_TEST

static void check_round_trip(recint_config *cfg, const char *key, const char *value, const char *want)
{
    char buf[128];
    RI_OK(recint_config_set(cfg, key, value));
    RI_OK(recint_config_get(cfg, key, buf, sizeof buf));
    ck_assert_msg(strcmp(buf, want) == 0, "%s=%s read back as '%s', want '%s'", key, value, buf, want);
}

START_TEST(set_get_round_trip)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    check_round_trip(cfg, "threads", "4", "4");
    check_round_trip(cfg, "threads", "1024", "1024");
    check_round_trip(cfg, "threads", "0", "0");
    check_round_trip(cfg, "seed", "9223372036854775807", "9223372036854775807");
    check_round_trip(cfg, "min_user_interactions", "4294967295", "4294967295");
    check_round_trip(cfg, "syn_zipf", "1.5", "1.5");
    check_round_trip(cfg, "syn_zipf", "0", "0");
    check_round_trip(cfg, "syn_noise", "0.1", "0.1");
    check_round_trip(cfg, "min_weight", "3.5", "3.5");
    check_round_trip(cfg, "min_weight", "-1e-3", "-0.001");
    check_round_trip(cfg, "min_weight", "inf", "inf");
    check_round_trip(cfg, "min_weight", "-inf", "-inf");
    check_round_trip(cfg, "implicit", "false", "false");
    check_round_trip(cfg, "implicit", "true", "true");
    check_round_trip(cfg, "duplicates", "last", "last");
    check_round_trip(cfg, "delimiter", "ml", "ml");
    check_round_trip(cfg, "syn_scale", "L", "L");
    check_round_trip(cfg, "split", "random:0.1", "random:0.1");
    check_round_trip(cfg, "columns", "user,skip,item", "user,skip,item");
    check_round_trip(cfg, "columns", "", "");
    /* Floats keep every digit that matters (the shortest exact text). */
    check_round_trip(cfg, "syn_zipf", "1.23456789012345", "1.23456789012345");
    check_round_trip(cfg, "syn_noise", "0.30000000000000004", "0.30000000000000004");
    check_round_trip(cfg, "min_weight", "1e-300", "1e-300");
    recint_config_free(cfg);
}
END_TEST

/* get -> set of random doubles gives back the same double. */
START_TEST(float_text_round_trip)
{
    recint_config *cfg = NULL, *back = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_new(&back));
    ri_rng r;
    ri_rng_seed(&r, 99, 0);
    char text[64];
    for (int k = 0; k < 20000; k++) {
        uint64_t bits = ri_rng_u64(&r);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (isnan(d))
            continue;
        snprintf(text, sizeof text, "%.17g", d);
        RI_OK(recint_config_set(cfg, "min_weight", text));
        RI_OK(recint_config_get(cfg, "min_weight", text, sizeof text));
        RI_OK(recint_config_set(back, "min_weight", text));
        double got = ri_cfg_float(back, RI_P_MIN_WEIGHT);
        ck_assert_msg(memcmp(&got, &d, sizeof d) == 0, "%a -> '%s' -> %a", d, text, got);
    }
    recint_config_free(cfg);
    recint_config_free(back);
}
END_TEST

/* ri_cfg_pick matches by name, not by position: for every choice of every
 * choice parameter, a list holding the range's names in reverse order (split
 * here independently of config.c) finds each at its reversed place, the
 * default through a NULL config too; a list without the value, a non-choice
 * parameter and an id past the table give -1. */
START_TEST(choices_by_name)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    int choices_seen = 0;
    for (size_t i = 0; i < recint_config_count(); i++) {
        const char *key = field(i, RECINT_PARAM_KEY);
        static const char *const other[] = {"no-such-choice"};
        if (strcmp(field(i, RECINT_PARAM_TYPE), "choice") != 0) {
            ck_assert_int_eq(ri_cfg_pick(cfg, (ri_param_id)i, other, 1), -1);
            continue;
        }
        char range[256];
        snprintf(range, sizeof range, "%s", field(i, RECINT_PARAM_RANGE));
        const char *names[32];
        int n = 0;
        for (char *tok = strtok(range, "|"); tok && n < 32; tok = strtok(NULL, "|"))
            names[n++] = tok;
        const char *reversed[32];
        for (int j = 0; j < n; j++)
            reversed[j] = names[n - 1 - j];
        int default_at = -1;
        for (int j = 0; j < n; j++) {
            if (strcmp(names[j], field(i, RECINT_PARAM_DEFAULT)) == 0)
                default_at = n - 1 - j;
            RI_OK(recint_config_set(cfg, key, names[j]));
            int got = ri_cfg_pick(cfg, (ri_param_id)i, reversed, (size_t)n);
            ck_assert_msg(got == n - 1 - j, "%s=%s: %d, want %d", key, names[j], got, n - 1 - j);
            ck_assert_int_eq(ri_cfg_pick(cfg, (ri_param_id)i, other, 1), -1);
            /* Only the first n - 1 - j names: the value is missing from the list. */
            ck_assert_int_eq(ri_cfg_pick(cfg, (ri_param_id)i, reversed, (size_t)(n - 1 - j)), -1);
            choices_seen++;
        }
        ck_assert_int_ge(default_at, 0);
        ck_assert_int_eq(ri_cfg_pick(NULL, (ri_param_id)i, reversed, (size_t)n), default_at);
    }
    ck_assert_int_ge(choices_seen, 20);
    static const char *const any[] = {"auto"};
    ck_assert_int_eq(ri_cfg_pick(cfg, RI_P_COUNT, any, 1), -1);
    ck_assert_int_eq(ri_cfg_pick(cfg, RI_P_IDS, NULL, 0), -1);
    recint_config_free(cfg);
}
END_TEST

/* The call fails with code, the message holds every needle, and the value is unchanged. */
static void check_rejected(recint_config *cfg, const char *key, const char *value, int code,
                           const char *needle1, const char *needle2)
{
    char before[128], after[128];
    int was_set = recint_config_is_set(cfg, key);
    int have_before = recint_config_get(cfg, key, before, sizeof before) == RECINT_OK;
    int rc = recint_config_set(cfg, key, value);
    ck_assert_msg(rc == code, "%s=%s -> %d, want %d (%s)", key, value, rc, code, recint_last_error());
    const char *msg = recint_last_error();
    ck_assert_msg(strstr(msg, needle1) != NULL, "%s=%s: '%s' lacks '%s'", key, value, msg, needle1);
    if (needle2)
        ck_assert_msg(strstr(msg, needle2) != NULL, "%s=%s: '%s' lacks '%s'", key, value, msg, needle2);
    if (have_before) {
        RI_OK(recint_config_get(cfg, key, after, sizeof after));
        ck_assert_str_eq(before, after);
        ck_assert_int_eq(recint_config_is_set(cfg, key), was_set);
    }
}

START_TEST(bounds_and_types)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_OK(recint_config_set(cfg, "threads", "2"));
    check_rejected(cfg, "threads", "-1", RECINT_EINVAL, "threads", "[0, 1024]");
    check_rejected(cfg, "threads", "1025", RECINT_EINVAL, "threads", "[0, 1024]");
    check_rejected(cfg, "threads", "2.5", RECINT_EINVAL, "threads", "integer");
    check_rejected(cfg, "threads", "", RECINT_EINVAL, "threads", NULL);
    check_rejected(cfg, "threads", "99999999999999999999", RECINT_EINVAL, "threads", NULL);
    check_rejected(cfg, "seed", "-1", RECINT_EINVAL, "seed", NULL);
    check_rejected(cfg, "seed", "9223372036854775808", RECINT_EINVAL, "seed", NULL);
    check_rejected(cfg, "min_user_interactions", "4294967296", RECINT_EINVAL,
                   "min_user_interactions", NULL);
    check_rejected(cfg, "k", "0", RECINT_EINVAL, "k", "[1, 100000]");
    check_rejected(cfg, "min_weight", "nan", RECINT_EINVAL, "min_weight", NULL);
    check_rejected(cfg, "min_weight", "NaN", RECINT_EINVAL, "min_weight", NULL);
    check_rejected(cfg, "min_weight", "2,5", RECINT_EINVAL, "min_weight", "not a number");
    check_rejected(cfg, "syn_noise", "1.0001", RECINT_EINVAL, "syn_noise", "[0, 1]");
    check_rejected(cfg, "syn_zipf", "-0.1", RECINT_EINVAL, "syn_zipf", "[0, 4]");
    check_rejected(cfg, "syn_zipf", "inf", RECINT_EINVAL, "syn_zipf", NULL);
    char buf[32];
    RI_OK(recint_config_get(cfg, "threads", buf, sizeof buf));
    ck_assert_str_eq(buf, "2");
    recint_config_free(cfg);
}
END_TEST

START_TEST(choices_rejected)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    check_rejected(cfg, "duplicates", "avg", RECINT_EINVAL, "avg", "sum|last|max");
    check_rejected(cfg, "delimiter", "semicolon", RECINT_EINVAL, "delimiter", "auto|tab|comma|ml|space");
    check_rejected(cfg, "header", "Yes", RECINT_EINVAL, "header", "auto|yes|no");
    check_rejected(cfg, "ids", "", RECINT_EINVAL, "ids", "auto|int|string");
    /* A prefix of a choice is not the choice. */
    check_rejected(cfg, "ids", "in", RECINT_EINVAL, "ids", NULL);
    check_rejected(cfg, "ids", "integer", RECINT_EINVAL, "ids", NULL);
    check_rejected(cfg, "syn_scale", "s", RECINT_EINVAL, "syn_scale", "custom|S|M|L");
    recint_config_free(cfg);
}
END_TEST

START_TEST(bool_spellings)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    const char *yes[] = {"true", "1", "yes", "on"}, *no[] = {"false", "0", "no", "off"};
    for (int i = 0; i < 4; i++) {
        RI_OK(recint_config_set(cfg, "implicit", no[i]));
        ck_assert_int_eq(ri_cfg_bool(cfg, RI_P_IMPLICIT), 0);
        RI_OK(recint_config_set(cfg, "implicit", yes[i]));
        ck_assert_int_eq(ri_cfg_bool(cfg, RI_P_IMPLICIT), 1);
    }
    check_rejected(cfg, "implicit", "maybe", RECINT_EINVAL, "implicit", "true|false");
    check_rejected(cfg, "implicit", "2", RECINT_EINVAL, "implicit", NULL);
    check_rejected(cfg, "implicit", "", RECINT_EINVAL, "implicit", NULL);
    recint_config_free(cfg);
}
END_TEST

START_TEST(unknown_keys)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    RI_FAILS(RECINT_ENOTFOUND, recint_config_set(cfg, "thread", "2"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "'thread'"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "did you mean"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "threads"));
    RI_FAILS(RECINT_ENOTFOUND, recint_config_set(cfg, "delimeter", "tab"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "delimiter"));
    RI_FAILS(RECINT_ENOTFOUND, recint_config_set(cfg, "sed", "1"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "seed"));
    RI_FAILS(RECINT_ENOTFOUND, recint_config_set(cfg, "zzzzzzzz", "1"));
    ck_assert_ptr_null(strstr(recint_last_error(), "did you mean"));
    RI_FAILS(RECINT_ENOTFOUND, recint_config_set(cfg, "Threads", "1"));

    char buf[32];
    RI_FAILS(RECINT_ENOTFOUND, recint_config_get(cfg, "thread", buf, sizeof buf));
    RI_FAILS(RECINT_ENOTFOUND, recint_config_get(NULL, "nope", buf, sizeof buf));
    ck_assert_int_eq(recint_config_is_set(cfg, "nope"), 0);
    recint_config_free(cfg);
}
END_TEST

START_TEST(set_pair_forms)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    char buf[64];
    RI_OK(recint_config_set_pair(cfg, "threads=3"));
    ck_assert_int_eq(ri_cfg_int(cfg, RI_P_THREADS), 3);
    /* Only the first '=' separates: the value may hold more. */
    RI_OK(recint_config_set_pair(cfg, "split=random:0.1=x"));
    RI_OK(recint_config_get(cfg, "split", buf, sizeof buf));
    ck_assert_str_eq(buf, "random:0.1=x");
    RI_OK(recint_config_set_pair(cfg, "columns="));
    RI_OK(recint_config_get(cfg, "columns", buf, sizeof buf));
    ck_assert_str_eq(buf, "");

    RI_FAILS(RECINT_EINVAL, recint_config_set_pair(cfg, "threads"));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "key=value"));
    RI_FAILS(RECINT_EINVAL, recint_config_set_pair(cfg, "=3"));
    RI_FAILS(RECINT_EINVAL, recint_config_set_pair(cfg, "threads="));
    RI_FAILS(RECINT_EINVAL, recint_config_set_pair(cfg, "threads=-4"));
    RI_FAILS(RECINT_ENOTFOUND, recint_config_set_pair(cfg, "thread=4"));
    char longkey[300];
    memset(longkey, 'a', 250);
    memcpy(longkey + 250, "=1", 3);
    RI_FAILS(RECINT_ENOTFOUND, recint_config_set_pair(cfg, longkey));
    ck_assert_int_eq(ri_cfg_int(cfg, RI_P_THREADS), 3);
    recint_config_free(cfg);
}
END_TEST

START_TEST(copy_independent)
{
    recint_config *a = NULL, *b = NULL, *c = NULL;
    RI_OK(recint_config_new(&a));
    RI_OK(recint_config_set(a, "split", "random:0.3"));
    RI_OK(recint_config_set(a, "k", "20"));
    RI_OK(recint_config_copy(&b, a));
    ck_assert_int_eq(recint_config_is_set(b, "split"), 1);
    ck_assert_int_eq(recint_config_is_set(b, "seed"), 0);
    RI_OK(recint_config_set(b, "split", "loo"));
    RI_OK(recint_config_set(b, "k", "5"));
    RI_OK(recint_config_set(a, "duplicates", "max"));
    ck_assert_str_eq(ri_cfg_str(a, RI_P_SPLIT), "random:0.3");
    ck_assert_int_eq(ri_cfg_int(a, RI_P_K), 20);
    ck_assert_str_eq(ri_cfg_str(b, RI_P_DUPLICATES), "sum");
    ck_assert_int_eq(recint_config_is_set(b, "duplicates"), 0);
    /* The copy owns its strings: it outlives the original. */
    recint_config_free(a);
    ck_assert_str_eq(ri_cfg_str(b, RI_P_SPLIT), "loo");
    ck_assert_int_eq(ri_cfg_int(b, RI_P_K), 5);

    RI_OK(recint_config_copy(&c, NULL));
    ck_assert_int_eq(ri_cfg_int(c, RI_P_K), 10);
    ck_assert_str_eq(ri_cfg_str(c, RI_P_SPLIT), "temporal:0.2");
    recint_config_free(b);
    recint_config_free(c);
    RI_FAILS(RECINT_EINVAL, recint_config_copy(NULL, NULL));
    RI_FAILS(RECINT_EINVAL, recint_config_new(NULL));
}
END_TEST

START_TEST(get_buffer_and_nulls)
{
    recint_config *cfg = NULL;
    RI_OK(recint_config_new(&cfg));
    char buf[64];
    /* "temporal:0.2" needs 13 bytes with its terminator. */
    RI_FAILS(RECINT_ERANGE, recint_config_get(cfg, "split", buf, 12));
    ck_assert_ptr_nonnull(strstr(recint_last_error(), "13"));
    RI_FAILS(RECINT_ERANGE, recint_config_get(NULL, "split", buf, 12));
    RI_OK(recint_config_get(cfg, "split", buf, 13));
    ck_assert_str_eq(buf, "temporal:0.2");
    RI_FAILS(RECINT_ERANGE, recint_config_get(cfg, "threads", buf, 1));
    RI_OK(recint_config_get(cfg, "threads", buf, 2));
    ck_assert_str_eq(buf, "0");
    RI_FAILS(RECINT_EINVAL, recint_config_get(cfg, "threads", buf, 0));
    RI_FAILS(RECINT_EINVAL, recint_config_get(cfg, "threads", NULL, 8));
    RI_FAILS(RECINT_EINVAL, recint_config_get(cfg, NULL, buf, 8));
    RI_FAILS(RECINT_EINVAL, recint_config_set(NULL, "threads", "1"));
    RI_FAILS(RECINT_EINVAL, recint_config_set(cfg, NULL, "1"));
    RI_FAILS(RECINT_EINVAL, recint_config_set(cfg, "threads", NULL));
    RI_FAILS(RECINT_EINVAL, recint_config_set_pair(NULL, "threads=1"));
    RI_FAILS(RECINT_EINVAL, recint_config_set_pair(cfg, NULL));
    ck_assert_int_eq(recint_config_is_set(NULL, "threads"), 0);
    ck_assert_int_eq(recint_config_is_set(cfg, NULL), 0);
    recint_config_free(cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *table = tcase_create("table");
    tcase_add_test(table, table_entries_complete);
    tcase_add_test(table, defaults_parse_and_read_back);
    tcase_add_test(table, typed_reads);
    suite_add_tcase(s, table);
    TCase *values = tcase_create("values");
    tcase_add_test(values, set_get_round_trip);
    tcase_add_test(values, float_text_round_trip);
    tcase_add_test(values, choices_by_name);
    tcase_add_test(values, bounds_and_types);
    tcase_add_test(values, choices_rejected);
    tcase_add_test(values, bool_spellings);
    suite_add_tcase(s, values);
    TCase *keys = tcase_create("keys");
    tcase_add_test(keys, unknown_keys);
    tcase_add_test(keys, set_pair_forms);
    tcase_add_test(keys, copy_independent);
    tcase_add_test(keys, get_buffer_and_nulls);
    suite_add_tcase(s, keys);
    return ri_test_run(s);
}
