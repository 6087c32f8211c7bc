/* SPDX-License-Identifier: Apache-2.0 */
/* pull.c: the pull API. We ask for each chunk in a loop (no callbacks), and
 * Ctrl-C cancels the request cleanly, whether it is still connecting,
 * retrying, or streaming.
 *
 *   OPENAI_API_KEY=sk-... ./pull "Count from 1 to 50."     # press Ctrl-C midway
 *   MODELS_TEST_SERVER=http://127.0.0.1:PORT ./pull         # the loopback test server
 *
 * How cancellation works: a signal handler may only do async-signal-safe
 * things, so it just sets a flag. models_stream_next() blocks, so the flag is
 * watched by a second thread, which calls models_call_cancel(); the blocked
 * call then returns MODELS_ERR_CANCELLED within milliseconds.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <models.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t interrupted = 0; /* set by the handler, nothing else */

static void on_sigint(int signo) {
    (void)signo;
    interrupted = 1;
}

struct watcher {
    models_call *call;
    atomic_int finished; /* set by main when the stream is over */
};

/* Polls the flag every 20 ms and cancels the call once it is set. */
static void *watch(void *arg) {
    struct watcher *w = arg;
    const struct timespec tick = {0, 20 * 1000 * 1000};
    while (!atomic_load(&w->finished)) {
        if (interrupted) {
            models_call_cancel(w->call); /* safe from any thread */
            break;
        }
        nanosleep(&tick, NULL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *prompt = argc > 1 ? argv[1] : "Count from 1 to 20, one number per line.";

    char config[1024];
    const char *server = getenv("MODELS_TEST_SERVER"); /* see chat.c */
    if (server)
        snprintf(config, sizeof config,
                 "{\"primary\": \"openai/gpt-4o-mini\", \"providers\": {\"openai\": "
                 "{\"base_url\": \"%s/v1\", \"api_key\": \"test-key\"}}}", server);
    else
        snprintf(config, sizeof config, "{\"primary\": \"openai/gpt-4o-mini\"}");

    models_error *err = NULL;
    models_router *router = models_router_new(config, &err);
    if (!router) {
        fprintf(stderr, "error: %s\n", models_error_message(err));
        models_error_free(err);
        return 1;
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    /* One models_call covers the whole request: connecting, retries and the stream. */
    struct watcher w = {models_call_new(), 0};
    pthread_t watcher;
    pthread_create(&watcher, NULL, watch, &w);

    json_t *request = json_pack("{s:[{s:s, s:s}]}", "messages", "role", "user", "content", prompt);
    char *request_text = json_dumps(request, 0);
    json_decref(request);

    models_code code;
    models_stream *stream = models_stream_open_ex(router, request_text, NULL, w.call, &err);
    free(request_text);
    if (!stream) {
        code = models_error_code(err);
    } else {
        const char *chunk; /* lent until the next call on the stream */
        size_t len;
        while ((code = models_stream_next(stream, &chunk, &len, &err)) == MODELS_OK) {
            json_t *c = json_loadb(chunk, len, 0, NULL);
            json_t *delta = json_object_get(json_array_get(json_object_get(c, "choices"), 0), "delta");
            const char *text = json_string_value(json_object_get(delta, "content"));
            if (text) {
                fputs(text, stdout);
                fflush(stdout);
            }
            json_decref(c);
        }
        if (code == MODELS_DONE) {
            int64_t in = 0, out = 0;
            models_stream_usage(stream, &in, &out);
            printf("\n-- %s, %lld prompt + %lld completion tokens\n", models_stream_model(stream),
                   (long long)in, (long long)out);
        }
        models_stream_close(stream);
    }

    atomic_store(&w.finished, 1);
    pthread_join(watcher, NULL);
    models_call_free(w.call); /* no call uses it any more */
    models_router_free(router);

    if (code == MODELS_ERR_CANCELLED) {
        fprintf(stderr, "\ninterrupted: request cancelled\n");
        models_error_free(err);
        return 130; /* the shell's convention for "ended by SIGINT" */
    }
    if (code != MODELS_DONE) {
        fprintf(stderr, "\nerror: %s (%s)\n", models_error_message(err), models_code_name(code));
        models_error_free(err);
        return 1;
    }
    return 0;
}
