/* The `recint` command: a thin front end over the public API (include/recint.h).
 * Every parameter goes through the library's config table; the options below that
 * name a key are only shorter spellings of --set key=value. */
#ifndef RECINT_CLI_H
#define RECINT_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "recint.h"

/* Exit codes. */
#define CLI_OK 0
#define CLI_FAIL 1   /* the library refused: recint_last_error() was printed */
#define CLI_USAGE 2  /* the command line itself was wrong */
#define CLI_HELPED (-1) /* --help was printed; exit 0 */

/* Marks the --set option: its value is a key=value pair. */
#define CLI_KEY_PAIR "="

typedef struct cli_opt {
    const char *name;     /* long name without the dashes */
    const char *metavar;  /* NULL for a flag */
    const char *key;      /* config key the value is stored under, CLI_KEY_PAIR, or NULL */
    const char *help;
    const char *(*choices)(void); /* optional list shown in help (recint_model_kinds) */
} cli_opt;

#define CLI_MAX_OPTS 24
#define CLI_MAX_POS 2

struct cli_cmd;

typedef struct cli_args {
    const struct cli_cmd *cmd;
    recint_config *cfg;              /* defaults plus every --set and key option */
    const char *value[CLI_MAX_OPTS]; /* by option index; flags hold "" when given */
    const char *pos[CLI_MAX_POS];
    int n_pos;
} cli_args;

typedef struct cli_cmd {
    const char *name;
    const char *synopsis;   /* after "recint NAME " */
    const char *summary;    /* one line */
    const cli_opt *opts;    /* terminated by an entry with name NULL */
    const char *groups;     /* config groups whose keys help lists ("data,split"), or NULL */
    int n_pos;              /* positional arguments required */
    int (*run)(const cli_args *a);
} cli_cmd;

extern const cli_cmd cli_commands[];
extern const size_t cli_n_commands;

/* args.c */
/* Parse argv (after the command name) into a; a->cfg is created here and must be
 * freed by the caller on CLI_OK. Returns CLI_OK, CLI_HELPED, CLI_FAIL or CLI_USAGE
 * (a message has been printed for the last two). */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a);
void cli_help(FILE *out, const cli_cmd *cmd);
/* Value of option name, NULL when absent (a flag gives ""). */
const char *cli_get(const cli_args *a, const char *name);
int cli_flag(const cli_args *a, const char *name);
/* Print "recint: <last error>" and return CLI_FAIL. */
int cli_fail(int rc);
/* Print "recint NAME: <message>" plus a hint and return CLI_USAGE. */
int cli_usage(const cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Integer value of a config key (int parameters). */
int cli_cfg_u64(const recint_config *cfg, const char *key, uint64_t *out);
/* Text value of a config key into buf. */
int cli_cfg_text(const recint_config *cfg, const char *key, char *buf, size_t cap);
/* External id of index in map as text ("17" or "alice"). */
void cli_id_text(const recint_idmap *map, uint32_t index, char *buf, size_t cap);
/* Print a double for JSON: null for NaN/Inf, '.' decimal point whatever the locale. */
void cli_json_number(FILE *out, double v);
double cli_now(void);

/* progress.c */
typedef struct cli_progress {
    const char *label;
    int tty;    /* draw a bar only on a terminal */
    int drawn;
} cli_progress;

/* Prepare a progress display and route Ctrl-C to cancelling the call. */
void cli_progress_begin(cli_progress *p, const char *label);
/* recint_progress_fn; ctx is a cli_progress. */
int cli_progress_cb(void *ctx, uint32_t step, uint32_t steps, double loss);
/* Finish the line and restore Ctrl-C's default. */
void cli_progress_end(cli_progress *p);

/* simulate.c */
int cli_cmd_simulate(const cli_args *a);

#endif
