/* Progress bar for long library calls, and Ctrl-C as a clean cancel: the
 * library's progress callback returns non-zero and the call ends with
 * RECINT_ECANCELED, the model keeping its last complete state. */
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;
static struct sigaction previous;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

void cli_progress_begin(cli_progress *p, const char *label)
{
    p->label = label;
    p->tty = isatty(STDERR_FILENO);
    p->drawn = 0;
    interrupted = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    /* A second Ctrl-C kills the process as usual. */
    sa.sa_flags = (int)SA_RESETHAND;
    sigaction(SIGINT, &sa, &previous);
}

int cli_progress_cb(void *ctx, uint32_t step, uint32_t steps, double loss)
{
    cli_progress *p = ctx;
    if (p->tty && steps > 0) {
        enum { WIDTH = 30 };
        uint32_t done = step > steps ? steps : step;
        int fill = (int)((uint64_t)done * WIDTH / steps);
        char bar[WIDTH + 1];
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(WIDTH - fill));
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r%s [%s] %u/%u", p->label, bar, done, steps);
        if (!isnan(loss))
            fprintf(stderr, "  loss %.5g", loss);
        fputs("\033[K", stderr);
        fflush(stderr);
        p->drawn = 1;
    }
    return interrupted ? 1 : 0;
}

void cli_progress_end(cli_progress *p)
{
    if (p->drawn)
        fputs("\r\033[K", stderr);
    p->drawn = 0;
    sigaction(SIGINT, &previous, NULL);
}
