/* SPDX-License-Identifier: Apache-2.0 */
/* A stream whose response headers and whole body arrive in one read.
 *
 * A fast server (nginx serving a file, a proxy, a local model server) often
 * sends the status line, the headers and the first events, or all of them, in
 * one TCP segment, so libcurl hands the body over while the library is still
 * waiting for the headers. Those bytes are the start of the stream: every
 * chunk must still be delivered, through both the pull and the push API, on a
 * reused connection too. The loopback test server cannot force this (it writes
 * headers and events separately), so this test runs its own tiny server that
 * writes each answer with a single send(). */
#define _POSIX_C_SOURCE 200809L
#include <models.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define CHUNK(text) "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m1\"," \
                    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" text "\"},\"finish_reason\":null}]}\n\n"
static const char BODY[] = CHUNK("a") CHUNK("b") CHUNK("c")
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m1\",\"choices\":[],"
    "\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":3,\"total_tokens\":5}}\n\n"
    "data: [DONE]\n\n";

static int listener;

/* Reads one request (headers, then Content-Length bytes of body); 0 at EOF. */
static int read_request(int fd) {
    char buf[16384];
    size_t n = 0;
    char *end = NULL;
    buf[0] = 0;
    while (!(end = strstr(buf, "\r\n\r\n"))) {
        if (n + 1 >= sizeof buf) return 0;
        ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r <= 0) return 0;
        n += (size_t)r;
        buf[n] = 0;
    }
    size_t have = n - (size_t)(end + 4 - buf);
    const char *cl = strstr(buf, "Content-Length:");
    size_t want = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
    while (have < want) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) return 0;
        have += (size_t)r;
    }
    return 1;
}

/* Answers every request on every connection with the whole stream in one send(). */
static void *serve(void *arg) {
    (void)arg;
    char answer[4096];
    int len = snprintf(answer, sizeof answer,
                       "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %zu\r\n\r\n%s",
                       sizeof BODY - 1, BODY);
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) return NULL;
        while (read_request(fd)) {
            if (send(fd, answer, (size_t)len, 0) != len) break;
        }
        close(fd);
    }
}

static int count_chunk(void *user, const char *chunk, size_t len) {
    (void)chunk; (void)len;
    ++*(int *)user;
    return 0;
}

int main(void) {
    /* A server writing to a connection the client closed must get EPIPE, not die. */
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listener = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t alen = sizeof addr;
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 8) != 0
        || getsockname(listener, (struct sockaddr *)&addr, &alen) != 0) {
        perror("test_stream_one_read: listen");
        return 1;
    }
    pthread_t thread;
    pthread_create(&thread, NULL, serve, NULL);
    pthread_detach(thread);

    char config[512];
    snprintf(config, sizeof config,
             "{\"primary\":\"local/m1\",\"max_retries\":0,"
             "\"providers\":{\"local\":{\"base_url\":\"http://127.0.0.1:%d/v1\",\"api_key\":\"k\"}}}",
             ntohs(addr.sin_port));
    models_router *r = models_router_new(config, NULL);
    CHECK(r != NULL);
    if (!r) return check_report("test_stream_one_read");
    const char *req = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    /* Several rounds: the first on a new connection, the others on the reused one. */
    for (int round = 0; round < 3; round++) {
        models_error *err = NULL;
        models_stream *s = models_stream_open(r, req, &err);
        CHECK(s != NULL);
        if (!s) { fprintf(stderr, "open: %s\n", models_error_message(err)); models_error_free(err); break; }
        char *text = NULL;
        CHECK(models_stream_collect(s, &text, &err) == MODELS_OK);
        CHECK(text != NULL && strcmp(text, "abc") == 0);
        int64_t in = 0, out = 0;
        models_stream_usage(s, &in, &out);
        CHECK(in == 2 && out == 3);
        models_free(text);
        models_error_free(err);
        models_stream_close(s);

        int chunks = 0;
        CHECK(models_chat_stream(r, req, count_chunk, NULL, &chunks, NULL) == MODELS_OK);
        CHECK(chunks == 4);
    }
    models_router_free(r);
    return check_report("test_stream_one_read");
}
