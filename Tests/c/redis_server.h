/* SPDX-License-Identifier: Apache-2.0 */
/* A throwaway redis-server for the shared-state tests: started on a free
 * loopback port (or a unix socket) in a temporary directory, persistence off,
 * stopped, paused (SIGSTOP) or killed by the test. Needs the Debian package
 * redis-server (scripts/deps.sh and .ci/run install it); rs_available() says
 * whether it is there, so a test can skip with a clear message. */
#ifndef MODELS_TEST_REDIS_SERVER_H
#define MODELS_TEST_REDIS_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    pid_t pid;
    int port;                /* 0 with a unix socket */
    char dir[64];            /* the temporary directory */
    char socket_path[100];   /* "" for TCP (fits sun_path) */
    char password[64];       /* "" for none */
} rs_server;

static inline int rs_available(void) {
    return system("redis-server --version > /dev/null 2>&1") == 0;
}

/* A loopback port nobody listens on right now. */
static inline int rs_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("rs_free_port");
        exit(2);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static inline int rs_accepts(const rs_server *s) {
    int fd;
    int ok;
    if (s->socket_path[0]) {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {0};
        a.sun_family = AF_UNIX;
        memcpy(a.sun_path, s->socket_path, sizeof s->socket_path);
        ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    } else {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)s->port);
        ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    }
    close(fd);
    return ok;
}

/* Prepares `s` (a new temporary directory and, with `unix_socket`, a socket
 * path in it; else a free port) without starting it. */
static inline void rs_init(rs_server *s, int unix_socket, const char *password) {
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/models-redis-XXXXXX");
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        exit(2);
    }
    if (unix_socket) snprintf(s->socket_path, sizeof s->socket_path, "%s/redis.sock", s->dir);
    else s->port = rs_free_port();
    if (password) snprintf(s->password, sizeof s->password, "%s", password);
}

/* Starts (or restarts) the server and waits until it accepts connections. */
static inline void rs_start(rs_server *s) {
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    pid_t pid = fork();
    if (pid == 0) {
        const char *argv[24];
        int n = 0;
        argv[n++] = "redis-server";
        argv[n++] = "--port";
        argv[n++] = port;
        argv[n++] = "--bind";
        argv[n++] = "127.0.0.1";
        argv[n++] = "--save";
        argv[n++] = "";
        argv[n++] = "--appendonly";
        argv[n++] = "no";
        argv[n++] = "--dir";
        argv[n++] = s->dir;
        argv[n++] = "--logfile";
        argv[n++] = "redis.log";
        if (s->socket_path[0]) {
            argv[n++] = "--unixsocket";
            argv[n++] = s->socket_path;
        }
        if (s->password[0]) {
            argv[n++] = "--requirepass";
            argv[n++] = s->password;
        }
        argv[n] = NULL;
        execvp("redis-server", (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 500; i++) { /* at most 5 s */
        if (rs_accepts(s)) return;
        struct timespec t = {0, 10 * 1000000L};
        nanosleep(&t, NULL);
    }
    fprintf(stderr, "redis-server did not start\n");
    exit(2);
}

static inline void rs_signal(rs_server *s, int sig) {
    if (s->pid > 0) kill(s->pid, sig);
}

/* Kills the server (as a crash would) and waits for it. */
static inline void rs_kill(rs_server *s) {
    if (s->pid <= 0) return;
    kill(s->pid, SIGCONT);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
    if (s->socket_path[0]) unlink(s->socket_path);
}

static inline void rs_cleanup(rs_server *s) {
    rs_kill(s);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", s->dir);
}

/* The URL a router's shared_state names (with the password when there is one). */
static inline const char *rs_url(const rs_server *s, char *buf, size_t size) {
    const char *auth = s->password[0] ? ":" : "";
    if (s->socket_path[0]) snprintf(buf, size, "unix://%s%s%s%s", auth, s->password, *auth ? "@" : "", s->socket_path);
    else snprintf(buf, size, "redis://%s%s%s127.0.0.1:%d/0", auth, s->password, *auth ? "@" : "", s->port);
    return buf;
}

#endif
