#include "util/parallel.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/error.h"

unsigned ri_threads_resolve(int64_t requested)
{
    if (requested > 0)
        return requested > 1024 ? 1024u : (unsigned)requested;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)(n > 1024 ? 1024 : n) : 1u;
}

typedef struct {
    ri_range_fn fn;
    void *ctx;
    size_t n, chunk;
    atomic_size_t next;
    atomic_int status;
    pthread_mutex_t msg_lock;
    char msg[1024];
} pool;

typedef struct {
    pool *p;
    unsigned worker;
} worker_arg;

static void run_worker(pool *p, unsigned worker)
{
    for (;;) {
        if (atomic_load(&p->status) != RECINT_OK)
            return;
        size_t b = atomic_fetch_add(&p->next, p->chunk);
        if (b >= p->n)
            return;
        size_t e = b + p->chunk < p->n ? b + p->chunk : p->n;
        int rc = p->fn(p->ctx, b, e, worker);
        if (rc != RECINT_OK) {
            int expected = RECINT_OK;
            if (atomic_compare_exchange_strong(&p->status, &expected, rc)) {
                pthread_mutex_lock(&p->msg_lock);
                strncpy(p->msg, recint_last_error(), sizeof p->msg - 1);
                p->msg[sizeof p->msg - 1] = '\0';
                pthread_mutex_unlock(&p->msg_lock);
            }
            return;
        }
    }
}

static void *thread_main(void *a)
{
    worker_arg *wa = a;
    run_worker(wa->p, wa->worker);
    return NULL;
}

int ri_parallel_for(unsigned threads, size_t n, size_t chunk, ri_range_fn fn, void *ctx)
{
    if (n == 0)
        return RECINT_OK;
    if (chunk == 0)
        chunk = 1;
    size_t max_workers = (n + chunk - 1) / chunk;
    if (threads < 1)
        threads = 1;
    if (threads > max_workers)
        threads = (unsigned)max_workers;
    if (threads == 1)
        return fn(ctx, 0, n, 0);

    pool p;
    p.fn = fn;
    p.ctx = ctx;
    p.n = n;
    p.chunk = chunk;
    atomic_init(&p.next, 0);
    atomic_init(&p.status, RECINT_OK);
    p.msg[0] = '\0';
    if (pthread_mutex_init(&p.msg_lock, NULL) != 0)
        return ri_error(RECINT_ENOMEM, "cannot create a mutex");

    pthread_t *tid = RI_NEW_ARRAY(pthread_t, threads);
    worker_arg *args = RI_NEW_ARRAY(worker_arg, threads);
    if (!tid || !args) {
        free(tid);
        free(args);
        pthread_mutex_destroy(&p.msg_lock);
        return RECINT_ENOMEM;
    }
    /* Workers inherit a fully blocked mask: the host's signals stay on its threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    unsigned started = 1;
    for (unsigned w = 1; w < threads; w++) {
        args[w].p = &p;
        args[w].worker = w;
        if (pthread_create(&tid[w], NULL, thread_main, &args[w]) != 0)
            break; /* run with the workers we have */
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    run_worker(&p, 0);
    for (unsigned w = 1; w < started; w++)
        pthread_join(tid[w], NULL);
    int rc = atomic_load(&p.status);
    if (rc != RECINT_OK)
        ri_error(rc, "%s", p.msg);
    free(tid);
    free(args);
    pthread_mutex_destroy(&p.msg_lock);
    return rc;
}
