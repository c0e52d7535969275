/* recint: command-line front end of librecint.
 * Exit status: 0 success, 1 the library reported an error (its message is printed
 * as "recint: ..."), 2 the command line was wrong. */
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: recint COMMAND [options]\n\n"
                 "librecint %s: recommender systems that model and explore user interests.\n\n"
                 "Commands:\n",
            recint_version());
    for (size_t i = 0; i < cli_n_commands; i++) {
        const char *summary = cli_commands[i].summary, *nl = strchr(summary, '\n');
        fprintf(out, "  %-11s %.*s\n", cli_commands[i].name,
                nl ? (int)(nl - summary) : (int)strlen(summary), summary);
    }
    fprintf(out, "\nModel kinds: %s\n"
                 "Every parameter (%zu keys) is set with --set key=value; 'recint params' lists them.\n"
                 "'recint COMMAND --help' shows a command's options and keys.\n"
                 "Exit status: 0 ok, 1 the library reported an error, 2 bad command line.\n",
            recint_model_kinds(), recint_config_count());
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("recint %s\n", recint_version());
        return CLI_OK;
    }
    for (size_t i = 0; i < cli_n_commands; i++) {
        if (strcmp(name, cli_commands[i].name) != 0)
            continue;
        cli_args a;
        int status = cli_parse(&cli_commands[i], argc - 2, argv + 2, &a);
        if (status == CLI_HELPED)
            return CLI_OK;
        if (status != CLI_OK)
            return status;
        status = cli_commands[i].run(&a);
        recint_config_free(a.cfg);
        return status;
    }
    return cli_usage(NULL, "unknown command '%s'", name);
}
