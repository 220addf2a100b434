/*
 * The load generator for the poetry-server benchmark: CONNECTIONS concurrent loops, each
 * connecting, reading to the server's close, checking the size, closing, and starting again.
 * THREADS threads (default 2), each with its own epoll and its share of the loops, non-blocking
 * sockets. The same program measures every server.
 *
 * On loopback the kernel does most of a connection's TCP work (the handshake, the delivery of
 * the poem) in the connecting thread, so one thread of load generator saturates before a fast
 * server does: then every server measures the same. Two threads keep the servers the bottleneck.
 *
 *   gcc -O2 -pthread -o fetch_load fetch_load.c
 *   ./fetch_load IP:PORT CONNECTIONS SECONDS EXPECTED_BYTES [WARMUP_SECONDS [THREADS]]
 *
 * Prints `fetches/s: F  fetches: N  errors: E  cpu/fetch: C us` for the SECONDS after the warm-up
 * (default 0.5 s); C is the generator's own CPU time (user + system, warm-up included) per fetch.
 * A fetch counts when the server closes cleanly after exactly EXPECTED_BYTES; anything else
 * (a refused or reset connection, a short or long poem) is an error. Exits 1 when there are
 * errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in server;
static size_t expected;
static double measure_from, end;

struct loop {
    int fd;
    size_t got;
};

struct worker {
    pthread_t thread;
    int ep, conns;
    struct loop *loops;
    long fetches, errors; /* in the measured window */
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void start(int ep, struct loop *l) {
    l->got = 0;
    l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0) {
        perror("socket");
        exit(1);
    }
    if (connect(l->fd, (struct sockaddr *)&server, sizeof server) < 0 && errno != EINPROGRESS) {
        perror("connect");
        exit(1);
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = l};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, l->fd, &ev) < 0) {
        perror("epoll_ctl");
        exit(1);
    }
}

static void *run(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < w->conns; i++) start(w->ep, &w->loops[i]);
    static __thread char buf[1 << 16];
    int measuring = 0;
    for (;;) {
        double t = now();
        if (!measuring && t >= measure_from) {
            measuring = 1;
            w->fetches = w->errors = 0;
        }
        if (t >= end) break;
        struct epoll_event events[256];
        int n = epoll_wait(w->ep, events, 256, 100);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            exit(1);
        }
        for (int i = 0; i < n; i++) {
            struct loop *l = events[i].data.ptr;
            int done = 0, failed = 0;
            for (;;) {
                ssize_t r = read(l->fd, buf, sizeof buf);
                if (r > 0) {
                    l->got += (size_t)r;
                    continue;
                }
                if (r == 0) {
                    done = 1;
                } else if (errno == EINTR) {
                    continue;
                } else if (errno != EAGAIN) {
                    failed = 1;
                }
                break;
            }
            if (done || failed) {
                if (done && !failed && l->got == expected)
                    w->fetches++;
                else
                    w->errors++;
                close(l->fd);
                start(w->ep, l);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: %s IP:PORT CONNECTIONS SECONDS EXPECTED_BYTES [WARMUP_SECONDS [THREADS]]\n", argv[0]);
        return 2;
    }
    char host[64];
    const char *colon = strrchr(argv[1], ':');
    if (!colon || (size_t)(colon - argv[1]) >= sizeof host) {
        fprintf(stderr, "bad address %s\n", argv[1]);
        return 2;
    }
    memcpy(host, argv[1], colon - argv[1]);
    host[colon - argv[1]] = 0;
    server.sin_family = AF_INET;
    server.sin_port = htons(atoi(colon + 1));
    if (inet_pton(AF_INET, host, &server.sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", argv[1]);
        return 2;
    }
    int conns = atoi(argv[2]);
    double secs = atof(argv[3]);
    expected = strtoul(argv[4], NULL, 10);
    double warmup = argc >= 6 ? atof(argv[5]) : 0.5;
    int threads = argc == 7 ? atoi(argv[6]) : 2;
    if (conns < 1 || threads < 1 || secs <= 0) {
        fprintf(stderr, "CONNECTIONS, THREADS and SECONDS must be positive\n");
        return 2;
    }
    if (threads > conns) threads = conns;

    measure_from = now() + warmup;
    end = measure_from + secs;
    struct worker *workers = calloc(threads, sizeof *workers);
    for (int t = 0; t < threads; t++) {
        struct worker *w = &workers[t];
        w->conns = conns / threads + (t < conns % threads);
        w->loops = calloc(w->conns, sizeof *w->loops);
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        if (pthread_create(&w->thread, NULL, run, w) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    long fetches = 0, errors = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(workers[t].thread, NULL);
        fetches += workers[t].fetches;
        errors += workers[t].errors;
    }
    double took = now() - measure_from;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    double rate = fetches / took;
    printf("fetches/s: %.0f  fetches: %ld  errors: %ld  cpu/fetch: %.1f us\n", rate, fetches, errors,
           rate > 0 ? cpu * 1e6 / (rate * (took + warmup)) : 0.0);
    return errors ? 1 : 0;
}
