/* Option parsing and help for the `recint` command. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static int find_opt(const cli_cmd *cmd, const char *name, size_t len)
{
    for (int i = 0; cmd->opts[i].name; i++)
        if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
            return i;
    return -1;
}

/* Options that name a key go straight into the config, in command-line order, so
 * the last spelling of a key wins whichever form it took. */
static int apply_value(cli_args *a, const cli_opt *o, const char *value)
{
    int rc = RECINT_OK;
    if (o->key && strcmp(o->key, CLI_KEY_PAIR) == 0)
        rc = recint_config_set_pair(a->cfg, value);
    else if (o->key)
        rc = recint_config_set(a->cfg, o->key, value);
    return rc == RECINT_OK ? CLI_OK : cli_fail(rc);
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    int rc = recint_config_new(&a->cfg);
    if (rc != RECINT_OK)
        return cli_fail(rc);
    int status = CLI_OK;
    for (int i = 0; i < argc && status == CLI_OK; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cli_help(stdout, cmd);
            status = CLI_HELPED;
        } else if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            int o = find_opt(cmd, name, len);
            if (o < 0) {
                status = cli_usage(cmd, "unknown option '--%.*s'", (int)len, name);
                break;
            }
            const cli_opt *opt = &cmd->opts[o];
            const char *value = "";
            if (opt->metavar) {
                if (eq)
                    value = eq + 1;
                else if (i + 1 < argc)
                    value = argv[++i];
                else {
                    status = cli_usage(cmd, "--%s needs a value (%s)", opt->name, opt->metavar);
                    break;
                }
            } else if (eq) {
                status = cli_usage(cmd, "--%s takes no value", opt->name);
                break;
            }
            a->value[o] = value;
            status = apply_value(a, opt, value);
        } else if (a->n_pos < cmd->n_pos && a->n_pos < CLI_MAX_POS) {
            a->pos[a->n_pos++] = arg;
        } else {
            status = cli_usage(cmd, "unexpected argument '%s'", arg);
        }
    }
    if (status == CLI_OK && a->n_pos < cmd->n_pos)
        status = cli_usage(cmd, "missing argument (recint %s %s)", cmd->name, cmd->synopsis);
    if (status != CLI_OK) {
        recint_config_free(a->cfg);
        a->cfg = NULL;
    }
    return status;
}

static int in_groups(const char *groups, const char *group)
{
    size_t n = strlen(group);
    for (const char *g = groups; g && *g;) {
        const char *comma = strchr(g, ',');
        size_t len = comma ? (size_t)(comma - g) : strlen(g);
        if (len == n && strncmp(g, group, n) == 0)
            return 1;
        g = comma ? comma + 1 : g + len;
    }
    return 0;
}

static void help_keys(FILE *out, const char *groups)
{
    fprintf(out, "\nParameters (--set KEY=VALUE; 'recint params' shows types and ranges):\n");
    for (size_t i = 0; i < recint_config_count(); i++) {
        const char *group = recint_config_describe(i, RECINT_PARAM_GROUP);
        if (!in_groups(groups, group))
            continue;
        fprintf(out, "  %-22s %-14s %s\n", recint_config_describe(i, RECINT_PARAM_KEY),
                recint_config_describe(i, RECINT_PARAM_DEFAULT),
                recint_config_describe(i, RECINT_PARAM_HELP));
    }
}

void cli_help(FILE *out, const cli_cmd *cmd)
{
    fprintf(out, "Usage: recint %s %s\n\n%s\n\nOptions:\n", cmd->name, cmd->synopsis, cmd->summary);
    for (int i = 0; cmd->opts[i].name; i++) {
        const cli_opt *o = &cmd->opts[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        fprintf(out, "  %-24s %s", left, o->help);
        if (o->choices)
            fprintf(out, "; kinds: %s", o->choices());
        if (o->key && strcmp(o->key, CLI_KEY_PAIR) != 0)
            fprintf(out, " [= --set %s=%s]", o->key, o->metavar ? o->metavar : "true");
        fputc('\n', out);
    }
    fprintf(out, "  %-24s %s\n", "-h, --help", "show this help");
    if (cmd->groups)
        help_keys(out, cmd->groups);
}

const char *cli_get(const cli_args *a, const char *name)
{
    int o = find_opt(a->cmd, name, strlen(name));
    return o < 0 ? NULL : a->value[o];
}

int cli_flag(const cli_args *a, const char *name) { return cli_get(a, name) != NULL; }

int cli_fail(int rc)
{
    const char *msg = recint_last_error();
    fprintf(stderr, "recint: %s\n", msg[0] ? msg : recint_strerror(rc));
    return CLI_FAIL;
}

int cli_usage(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "recint%s%s: ", cmd ? " " : "", cmd ? cmd->name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'recint %s%s--help'.\n", cmd ? cmd->name : "", cmd ? " " : "");
    return CLI_USAGE;
}

int cli_cfg_text(const recint_config *cfg, const char *key, char *buf, size_t cap)
{
    int rc = recint_config_get(cfg, key, buf, cap);
    return rc == RECINT_OK ? CLI_OK : cli_fail(rc);
}

/* The library validated the value against the key's range already; this only
 * turns its text back into a number. */
int cli_cfg_u64(const recint_config *cfg, const char *key, uint64_t *out)
{
    char buf[64], *end;
    if (cli_cfg_text(cfg, key, buf, sizeof buf) != CLI_OK)
        return CLI_FAIL;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || *end || buf[0] == '-') {
        fprintf(stderr, "recint: parameter %s: '%s' is not a non-negative integer\n", key, buf);
        return CLI_FAIL;
    }
    *out = (uint64_t)v;
    return CLI_OK;
}

void cli_id_text(const recint_idmap *map, uint32_t index, char *buf, size_t cap)
{
    int64_t id;
    const char *s;
    if (recint_idmap_kind(map) == RECINT_IDS_STRING && recint_idmap_id_str(map, index, &s) == RECINT_OK)
        snprintf(buf, cap, "%s", s);
    else if (recint_idmap_id(map, index, &id) == RECINT_OK)
        snprintf(buf, cap, "%lld", (long long)id);
    else
        snprintf(buf, cap, "#%u", index);
}

void cli_json_number(FILE *out, double v)
{
    if (!isfinite(v)) {
        fputs("null", out);
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%.10g", v);
    /* This program never calls setlocale, but a JSON number must carry '.' even
     * if a future host of this code does. */
    const char *dp = localeconv()->decimal_point;
    char *p = (dp && strcmp(dp, ".") != 0) ? strstr(buf, dp) : NULL;
    if (p) {
        size_t n = strlen(dp);
        *p = '.';
        memmove(p + 1, p + n, strlen(p + n) + 1);
    }
    fputs(buf, out);
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
