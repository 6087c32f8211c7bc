/* SPDX-License-Identifier: Apache-2.0 */
/* chat_loop: N requests in a row, for counting instructions under callgrind.
 *
 *   chat_loop CHAT_BASE_URL N [plain|events]
 *
 * Sends N models_chat requests (or, with "plain", N plain libcurl requests
 * of the same bytes with one reused easy handle, as bench_chat's baseline;
 * with "events", models_chat with an event handler that only counts)
 * to CHAT_BASE_URL. bench/run (BENCH_INSTRUCTIONS=1) runs it under callgrind
 * for two values of N and divides the difference, which leaves out start-up
 * and warm-up: instructions per request do not depend on the machine's load,
 * while the wall-clock figures here vary by several microseconds from run to run. */
#include <curl/curl.h>
#include <models.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_request.h"

static size_t count_bytes(char *data, size_t size, size_t n, void *user) {
    (void)data;
    *(size_t *)user += size * n;
    return size * n;
}

static int plain(const char *url, int n) {
    CURL *easy = curl_easy_init();
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Authorization: Bearer " BENCH_KEY);
    headers = curl_slist_append(headers, "Expect:");
    size_t received = 0;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "bench/1");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, UPSTREAM_REQUEST);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(UPSTREAM_REQUEST));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, count_bytes);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &received);
    for (int i = 0; i < n; i++) {
        CURLcode rc = curl_easy_perform(easy);
        if (rc != CURLE_OK) { fprintf(stderr, "chat_loop: %s\n", curl_easy_strerror(rc)); return 1; }
    }
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
    return 0;
}

static void count_event(void *user, const char *json, size_t len) {
    (void)json;
    *(size_t *)user += len;
}

static int library(const char *base, int n, int events) {
    char config[1024];
    snprintf(config, sizeof config, "{\"primary\":\"bench/gpt-bench\",\"max_retries\":0,"
             "\"providers\":{\"bench\":{\"base_url\":\"%s\",\"api_key\":\"" BENCH_KEY "\"}}}", base);
    models_error *err = NULL;
    models_router *r = models_router_new(config, &err);
    if (!r) { fprintf(stderr, "chat_loop: %s\n", models_error_message(err)); return 1; }
    size_t event_bytes = 0;
    if (events) models_router_set_event_handler(r, count_event, &event_bytes);
    for (int i = 0; i < n; i++) {
        char *answer = NULL;
        if (models_chat(r, REQUEST, &answer, &err) != MODELS_OK) {
            fprintf(stderr, "chat_loop: %s\n", models_error_message(err));
            return 1;
        }
        models_free(answer);
    }
    models_router_free(r);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: chat_loop CHAT_BASE_URL N [plain|events]\n"); return 2; }
    int n = atoi(argv[2]);
    if (argc > 3 && strcmp(argv[3], "plain") == 0) {
        char url[1024];
        snprintf(url, sizeof url, "%s/chat/completions", argv[1]);
        return plain(url, n);
    }
    return library(argv[1], n, argc > 3 && strcmp(argv[3], "events") == 0);
}
