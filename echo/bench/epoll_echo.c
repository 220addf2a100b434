/*
 * The C reference for scripts/bench.d/echo.sh: a minimal single-threaded epoll echo server.
 *
 *   epoll_echo PORT      (0 picks a free port; prints "listening on 127.0.0.1:PORT")
 *
 * Level-triggered epoll, non-blocking sockets, one 64 KiB buffer shared by all connections,
 * TCP_NODELAY like echo-server. When a write would block, the rest is kept for that connection
 * and reading pauses until it is written (the same backpressure as echo-server).
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
#include <unistd.h>

struct pending { char *data; size_t off, len; };

static struct pending *pend;
static int pend_cap;
static char buf[65536];

static void die(const char *what) { perror(what); exit(1); }

static void drop(int ep, int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    if (fd < pend_cap && pend[fd].data) { free(pend[fd].data); pend[fd].data = NULL; }
}

/* Writes what is pending for fd; returns 1 when all of it is written, 0 if it would block. */
static int flush_pending(int ep, int fd) {
    struct pending *p = &pend[fd];
    while (p->off < p->len) {
        ssize_t n = write(fd, p->data + p->off, p->len - p->off);
        if (n < 0) {
            if (errno == EAGAIN) return 0;
            drop(ep, fd);
            return -1;
        }
        p->off += (size_t)n;
    }
    free(p->data);
    p->data = NULL;
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
    return 1;
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 1234;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");
    socklen_t alen = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stdout);

    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (c < 0) break;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    if (c >= pend_cap) {
                        int cap = c * 2 + 64;
                        pend = realloc(pend, (size_t)cap * sizeof *pend);
                        memset(pend + pend_cap, 0, (size_t)(cap - pend_cap) * sizeof *pend);
                        pend_cap = cap;
                    }
                    struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            if (pend[fd].data) {               /* writable again: finish the pending echo */
                if (events[i].events & (EPOLLERR | EPOLLHUP)) { drop(ep, fd); continue; }
                flush_pending(ep, fd);
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r == 0) { shutdown(fd, SHUT_WR); drop(ep, fd); continue; }
            if (r < 0) { if (errno != EAGAIN) drop(ep, fd); continue; }
            ssize_t off = 0;
            while (off < r) {
                ssize_t w = write(fd, buf + off, (size_t)(r - off));
                if (w < 0) {
                    if (errno != EAGAIN) { drop(ep, fd); break; }
                    struct pending *p = &pend[fd];
                    p->len = (size_t)(r - off);
                    p->off = 0;
                    p->data = malloc(p->len);
                    memcpy(p->data, buf + off, p->len);
                    struct epoll_event wev = { .events = EPOLLOUT, .data.fd = fd };
                    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &wev);
                    break;
                }
                off += w;
            }
        }
    }
}
