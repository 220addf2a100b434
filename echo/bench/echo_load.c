/*
 * An independent load generator for scripts/bench.d/echo.sh, written apart from echo-bench.
 *
 *   echo_load run  PORT CONNECTIONS SIZE SECONDS
 *       closed-loop ping-pong on 127.0.0.1:PORT: each connection sends SIZE bytes, reads them
 *       all back, compares them, sends again; prints "messages_per_sec N errors E".
 *   echo_load idle PORT CONNECTIONS
 *       opens CONNECTIONS connections, echoes one byte on each, prints "ready", then holds them
 *       open until its stdin ends.
 *
 * Single-threaded, level-triggered epoll.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) { perror("socket"); exit(1); }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); exit(1); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) { if (errno == EAGAIN || errno == EINTR) continue; perror("write"); exit(1); }
        p += w;
        n -= (size_t)w;
    }
}

static int idle(int port, int conns) {
    int *fds = calloc((size_t)conns, sizeof *fds);
    char c = 'x';
    for (int i = 0; i < conns; i++) {
        fds[i] = dial(port);
        write_all(fds[i], &c, 1);
        if (read(fds[i], &c, 1) != 1) { fprintf(stderr, "no echo on connection %d\n", i); return 1; }
    }
    printf("ready\n");
    fflush(stdout);
    while (read(0, &c, 1) > 0) {}
    return 0;
}

struct conn { int fd; size_t got; char *msg; char *in; unsigned long seq; };

static int run(int port, int conns, size_t size, double secs) {
    struct conn *cs = calloc((size_t)conns, sizeof *cs);
    int ep = epoll_create1(0);
    for (int i = 0; i < conns; i++) {
        cs[i].fd = dial(port);
        cs[i].msg = malloc(size);
        cs[i].in = malloc(size);
        for (size_t k = 0; k < size; k++) cs[i].msg[k] = (char)(i * 31 + k * 7);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (unsigned)i };
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    unsigned long messages = 0, errors = 0;
    double start = now(), end = start + secs;
    for (int i = 0; i < conns; i++) write_all(cs[i].fd, cs[i].msg, size);
    int open = conns;
    struct epoll_event events[256];
    while (open > 0) {
        int n = epoll_wait(ep, events, 256, 100);
        if (n < 0) { if (errno == EINTR) continue; perror("epoll_wait"); return 1; }
        double t = now();
        if (n == 0 && t > end + 2) break;
        for (int e = 0; e < n; e++) {
            struct conn *c = &cs[events[e].data.u32];
            ssize_t r = read(c->fd, c->in + c->got, size - c->got);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                errors++; open--;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                continue;
            }
            c->got += (size_t)r;
            if (c->got < size) continue;
            c->got = 0;
            if (memcmp(c->in, c->msg, size) != 0) errors++;
            messages++;
            if (t >= end) { open--; epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); continue; }
            c->seq++;
            memcpy(c->msg, &c->seq, size < sizeof c->seq ? size : sizeof c->seq);
            write_all(c->fd, c->msg, size);
        }
    }
    printf("messages_per_sec %.0f errors %lu\n", (double)messages / secs, errors + (unsigned long)open);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "idle") == 0) return idle(atoi(argv[2]), atoi(argv[3]));
    if (argc == 6 && strcmp(argv[1], "run") == 0)
        return run(atoi(argv[2]), atoi(argv[3]), (size_t)atol(argv[4]), atof(argv[5]));
    fprintf(stderr, "usage: echo_load run PORT CONNECTIONS SIZE SECONDS | echo_load idle PORT CONNECTIONS\n");
    return 2;
}
