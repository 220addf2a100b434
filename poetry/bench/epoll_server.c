/*
 * The reference for poetry-server's fast mode: a minimal single-threaded epoll server that
 * writes the whole poem file to every client, then closes. No options, no logs, no shutdown.
 *
 *   gcc -O2 -o epoll_server epoll_server.c && ./epoll_server POEM_FILE [PORT]
 *
 * Listens on 127.0.0.1:PORT (default 0: a free port) and prints
 * `Serving <file> on 127.0.0.1:<port>.` first, like poetry-server.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what) {
    perror(what);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s POEM_FILE [PORT]\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) die(argv[1]);
    char *poem = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            poem = realloc(poem, cap);
            if (!poem) die("realloc");
        }
        size_t n = fread(poem + len, 1, cap - len, f);
        if (n == 0) break;
        len += n;
    }
    fclose(f);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(argc == 3 ? atoi(argv[2]) : 0)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");
    socklen_t alen = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    printf("Serving %s on 127.0.0.1:%d.\n", argv[1], ntohs(addr.sin_port));
    fflush(stdout);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl");
    for (;;) {
        struct epoll_event events[1];
        int n = epoll_wait(ep, events, 1, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        /* Accept everything pending; each client gets the poem and the close at once. */
        for (;;) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                if (errno == EINTR || errno == ECONNABORTED) continue;
                perror("accept4");
                break;
            }
            /* A blocking socket: the write returns when the whole poem is in the send buffer. */
            size_t off = 0;
            while (off < len) {
                ssize_t w = write(fd, poem + off, len - off);
                if (w <= 0) {
                    if (w < 0 && errno == EINTR) continue;
                    break;
                }
                off += (size_t)w;
            }
            close(fd);
        }
    }
}
