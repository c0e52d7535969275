/* `recint simulate`: the library's exploration simulator (recint_simulate) for
 * one policy, as a text table per round or one JSON object. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static const char *const sim_keys[RECINT_SIM_COUNT] = {
    [RECINT_SIM_ROUNDS] = "rounds",       [RECINT_SIM_REWARD] = "cumulative_reward",
    [RECINT_SIM_REGRET] = "regret",       [RECINT_SIM_DISCOVERED] = "discovered",
    [RECINT_SIM_COVERAGE] = "coverage",   [RECINT_SIM_DIVERSITY] = "diversity",
};

int cli_cmd_simulate(const cli_args *a)
{
    char policy[64];
    uint64_t rounds = 0;
    int rc = cli_cfg_text(a->cfg, "policy", policy, sizeof policy);
    if (rc == RECINT_OK)
        rc = cli_cfg_u64(a->cfg, "sim_rounds", &rounds);
    if (rc != RECINT_OK)
        return cli_fail(rc);
    double total[RECINT_SIM_COUNT];
    double *rows = malloc((size_t)rounds * RECINT_SIM_COUNT * sizeof *rows);
    if (!rows) {
        fprintf(stderr, "recint: out of memory\n");
        return CLI_FAIL;
    }
    rc = recint_simulate(a->cfg, total, RECINT_SIM_COUNT, rows, (size_t)rounds * RECINT_SIM_COUNT);
    if (rc != RECINT_OK) {
        free(rows);
        return cli_fail(rc);
    }
    if (cli_flag(a, "json")) {
        printf("{\"policy\": \"%s\"", policy);
        for (int i = 0; i < RECINT_SIM_COUNT; i++) {
            printf(", \"%s\": ", sim_keys[i]);
            cli_json_number(stdout, total[i]);
        }
        printf("}\n");
    } else {
        printf("policy %s: per user, cumulative over the rounds\n", policy);
        printf("%6s %12s %10s %11s %9s %10s\n", "round", "reward", "regret", "discovered",
               "coverage", "diversity");
        for (uint64_t t = 0; t < rounds; t++) {
            const double *r = rows + t * RECINT_SIM_COUNT;
            printf("%6.0f %12.3f %10.3f %11.3f %9.3f %10.3f\n", r[RECINT_SIM_ROUNDS],
                   r[RECINT_SIM_REWARD], r[RECINT_SIM_REGRET], r[RECINT_SIM_DISCOVERED],
                   r[RECINT_SIM_COVERAGE], r[RECINT_SIM_DIVERSITY]);
        }
    }
    free(rows);
    return CLI_OK;
}
