/* Cumulative regret of greedy, epsilon-greedy, LinUCB and Thompson sampling in
 * the exploration simulator (docs/exploration.md), as a text table.
 *
 * usage: explore [key=value ...]   (any library parameter, e.g. sim_users=400)
 * Defaults: the simulator's world (1000 users, 2000 items, 50 clusters, history
 * showing 1 of 3 true clusters), T = 50 rounds of k = 10, candidates=100. */
#include <stdio.h>
#include <stdlib.h>

#include "recint.h"

static const char *const policies[] = {"greedy", "epsilon", "linucb", "thompson"};
#define N_POLICIES 4

static int fail(const char *what)
{
    fprintf(stderr, "explore: %s: %s\n", what, recint_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    recint_config *cfg = NULL;
    if (recint_config_new(&cfg) != RECINT_OK || recint_config_set(cfg, "candidates", "100") != RECINT_OK)
        return fail("config");
    for (int i = 1; i < argc; i++)
        if (recint_config_set_pair(cfg, argv[i]) != RECINT_OK) {
            recint_config_free(cfg);
            return fail(argv[i]);
        }
    char buf[32];
    if (recint_config_get(cfg, "sim_rounds", buf, sizeof buf) != RECINT_OK)
        return fail("sim_rounds");
    int rounds = atoi(buf);
    double *rows = malloc(sizeof(double) * N_POLICIES * (size_t)rounds * RECINT_SIM_COUNT);
    double total[N_POLICIES][RECINT_SIM_COUNT];
    if (!rows) {
        fprintf(stderr, "explore: out of memory\n");
        return 1;
    }
    for (int p = 0; p < N_POLICIES; p++) {
        double *r = rows + (size_t)p * rounds * RECINT_SIM_COUNT;
        if (recint_config_set(cfg, "policy", policies[p]) != RECINT_OK ||
            recint_simulate(cfg, total[p], RECINT_SIM_COUNT, r, (size_t)rounds * RECINT_SIM_COUNT) !=
                RECINT_OK) {
            free(rows);
            recint_config_free(cfg);
            return fail(policies[p]);
        }
    }
    printf("cumulative regret per user (oracle's expected clicks minus the policy's)\n");
    printf("%6s", "round");
    for (int p = 0; p < N_POLICIES; p++)
        printf(" %10s", policies[p]);
    printf("\n");
    for (int t = 0; t < rounds; t++) {
        if (t != 0 && (t + 1) % 5 != 0)
            continue;
        printf("%6d", t + 1);
        for (int p = 0; p < N_POLICIES; p++)
            printf(" %10.3f", rows[((size_t)p * rounds + t) * RECINT_SIM_COUNT + RECINT_SIM_REGRET]);
        printf("\n");
    }
    printf("\n%-10s %10s %10s %11s %9s %10s\n", "policy", "reward", "regret", "discovered",
           "coverage", "diversity");
    for (int p = 0; p < N_POLICIES; p++)
        printf("%-10s %10.3f %10.3f %11.3f %9.3f %10.3f\n", policies[p], total[p][RECINT_SIM_REWARD],
               total[p][RECINT_SIM_REGRET], total[p][RECINT_SIM_DISCOVERED],
               total[p][RECINT_SIM_COVERAGE], total[p][RECINT_SIM_DIVERSITY]);
    free(rows);
    recint_config_free(cfg);
    return 0;
}
