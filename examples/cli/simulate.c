/* `recint simulate`: the library's exploration simulator (recint_simulate) for
 * one policy, as a text table per round or one JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

static const char *const sim_keys[RECINT_SIM_COUNT] = {
    [RECINT_SIM_ROUNDS] = "rounds",       [RECINT_SIM_REWARD] = "cumulative_reward",
    [RECINT_SIM_REGRET] = "regret",       [RECINT_SIM_DISCOVERED] = "discovered",
    [RECINT_SIM_COVERAGE] = "coverage",   [RECINT_SIM_DIVERSITY] = "diversity",
};

/* --ope: the off-policy experiment; the log goes to --log FILE or a temporary
 * file removed afterwards. */
static int simulate_ope(const cli_args *a, const char *policy)
{
    static const char *const names[3] = {"ips", "snips", "dr"};
    char tmp[4096];
    const char *path = cli_get(a, "log");
    if (!path) {
        const char *dir = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/recint-ope-XXXXXX", dir && dir[0] ? dir : "/tmp");
        int fd = mkstemp(tmp);
        if (fd < 0) {
            perror("recint: temporary log file");
            return CLI_FAIL;
        }
        close(fd);
    }
    double out[RECINT_OPE_SIM_COUNT];
    int rc = recint_simulate_ope(a->cfg, path ? path : tmp, out, RECINT_OPE_SIM_COUNT);
    if (!path)
        remove(tmp);
    if (rc != RECINT_OK)
        return cli_fail(rc);
    const int json = cli_flag(a, "json");
    if (json) {
        printf("{\"policy\": \"%s\", \"true_value\": ", policy);
        cli_json_number(stdout, out[RECINT_OPE_SIM_TRUE]);
        printf(", \"logged_value\": ");
        cli_json_number(stdout, out[RECINT_OPE_SIM_LOGGED]);
    } else {
        printf("policy %s: true value %.5f (logging policy %.5f)\n", policy,
               out[RECINT_OPE_SIM_TRUE], out[RECINT_OPE_SIM_LOGGED]);
    }
    for (int e = 0; e < 3; e++) {
        const double *v = out + RECINT_OPE_SIM_IPS + 4 * e;
        double rel = (v[0] - out[RECINT_OPE_SIM_TRUE]) / out[RECINT_OPE_SIM_TRUE];
        if (json) {
            printf(", \"%s\": ", names[e]);
            cli_json_number(stdout, v[0]);
            printf(", \"%s_se\": ", names[e]);
            cli_json_number(stdout, v[1]);
            printf(", \"%s_ci\": [", names[e]);
            cli_json_number(stdout, v[2]);
            printf(", ");
            cli_json_number(stdout, v[3]);
            printf("], \"%s_rel_error\": ", names[e]);
            cli_json_number(stdout, rel);
        } else {
            printf("  %-6s %.5f  se %.5f  95%% CI [%.5f, %.5f]  error %+.1f%%\n", names[e], v[0],
                   v[1], v[2], v[3], 100.0 * rel);
        }
    }
    if (json)
        printf("}\n");
    return CLI_OK;
}

int cli_cmd_simulate(const cli_args *a)
{
    char policy[64];
    uint64_t rounds = 0;
    int rc = cli_cfg_text(a->cfg, "policy", policy, sizeof policy);
    if (rc == RECINT_OK)
        rc = cli_cfg_u64(a->cfg, "sim_rounds", &rounds);
    if (rc != RECINT_OK)
        return cli_fail(rc);
    if (cli_flag(a, "ope"))
        return simulate_ope(a, policy);
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
