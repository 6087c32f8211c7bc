/* SPDX-License-Identifier: Apache-2.0 */
/* Bounds on what a server can make the library hold: a stream's memory does
 * not grow with its length, a response body over 10 MiB and an SSE event over
 * 1 MiB are errors (exactly at the limit they are not), and a huge error body
 * still gives the provider's status. The memory test runs first, before the
 * large bodies raise the process's peak. */
#define _GNU_SOURCE
#include <sys/resource.h>

#include "test_util.h"

#define MIB (1024 * 1024)

/* Under AddressSanitizer (scripts/asan) the peak RSS measures ASan's allocator,
 * which keeps freed memory aside and grows its own bookkeeping with the number
 * of allocations: the flat-memory checks hold for the real allocator only
 * (ctest, valgrind's scripts/memcheck). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static long peak_rss_kb(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/* Reads a generated stream of `chunks` pieces chunk by chunk; returns how many. */
static long pull_stream(models_router *r, long chunks) {
    char steps[64];
    snprintf(steps, sizeof steps, "[{\"chunks\":%ld}]", chunks);
    ts_script("m1", steps);
    models_stream *s = models_stream_open(r, HELLO_STREAM, NULL);
    if (!s) return -1;
    long n = 0;
    const char *chunk;
    models_code rc;
    while ((rc = models_stream_next(s, &chunk, NULL, NULL)) == MODELS_OK) n++;
    models_stream_close(s);
    return rc == MODELS_DONE ? n : -1;
}

static int count_only(void *user, const char *chunk, size_t len) {
    (void)chunk;
    (void)len;
    ++*(long *)user;
    return 0;
}

/* The peak RSS after a 200,000-chunk stream (about 16 MB of SSE) is within
 * 4 MiB of the peak after a 2,000-chunk one (holding every chunk would add
 * over 20 MB), in pull and push mode. */
static void test_stream_memory_flat(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    CHECK(pull_stream(r, 2000) == 2000 + 3); /* role, pieces, finish, usage */
    long small = peak_rss_kb();
    int64_t start = now_ms();
    CHECK(pull_stream(r, 200000) == 200000 + 3);
    long large = peak_rss_kb();
    printf("peak RSS: %ld KiB after 2,000 chunks, %ld KiB after 200,000 (pull, %lld ms)\n", small, large,
           (long long)(now_ms() - start));
    CHECK(UNDER_ASAN || large - small < 4096);

    /* Push mode has no queue; 50,000 chunks keep the test short. */
    ts_script("m1", "[{\"chunks\":50000}]");
    long pushed = 0;
    CHECK(models_chat_stream(r, HELLO, count_only, NULL, &pushed, NULL) == MODELS_OK);
    CHECK(pushed == 50000 + 3);
    long after_push = peak_rss_kb();
    printf("peak RSS: %ld KiB after 50,000 pushed chunks\n", after_push);
    CHECK(UNDER_ASAN || after_push - small < 4096);
    models_router_free(r);
}

static void test_body_limit(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    char steps[128];
    snprintf(steps, sizeof steps, "[{\"body_size\":%d},{\"body_size\":%d}]", 10 * MIB, 10 * MIB + 1);
    ts_script("m1", steps);
    char *response = NULL;
    models_error *err = NULL;
    models_code rc = models_chat(r, HELLO, &response, &err);
    CHECK(rc == MODELS_OK);
    if (rc != MODELS_OK) fprintf(stderr, "  10 MiB body: %s\n", models_error_message(err));
    CHECK(response && strlen(response) > 10 * MIB - 1024);
    models_free(response);
    models_error_free(err);

    response = (char *)"untouched";
    err = NULL;
    rc = models_chat(r, HELLO, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_PROTOCOL);
    CHECK_STR_CONTAINS(models_error_message(err), "larger than");
    CHECK(response == NULL);
    models_error_free(err);

    /* An error answer with a huge body is still the provider's error. */
    snprintf(steps, sizeof steps, "[{\"status\":500,\"body_size\":%d}]", 12 * MIB);
    ts_script("m1", steps);
    err = NULL;
    rc = models_chat(r, HELLO, &response, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_API);
    CHECK(models_error_status(err) == 500);
    CHECK(strlen(models_error_message(err)) < 4096);
    models_error_free(err);
    models_router_free(r);
}

/* One SSE event whose data is `size` bytes: a valid chunk padded with text. */
static char *event_of_size(size_t size) {
    const char *head = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"";
    const char *tail = "\"}}]}";
    size_t fixed = strlen(head) - strlen("data: ") + strlen(tail);
    char *event = malloc(strlen("data: ") + size + 3);
    char *o = event + sprintf(event, "%s", head);
    memset(o, 'a', size - fixed);
    o += size - fixed;
    sprintf(o, "%s\n\n", tail);
    return event;
}

static models_code stream_events(models_router *r, const char *const *items, size_t n, long *chunks, models_error **err) {
    *chunks = 0;
    ts_script_sse("m1", items, n, "");
    models_stream *s = models_stream_open(r, HELLO_STREAM, err);
    if (!s) return models_error_code(*err);
    const char *chunk;
    size_t len;
    models_code rc;
    *chunks = 0;
    while ((rc = models_stream_next(s, &chunk, &len, err)) == MODELS_OK) {
        CHECK(strlen(chunk) == len);
        ++*chunks;
    }
    models_stream_close(s);
    return rc;
}

static void test_event_limit(void) {
    models_router *r = local_router("\"max_retries\":0");
    ts_reset();
    long chunks = 0;
    models_error *err = NULL;

    char *exact = event_of_size(MIB);
    const char *ok_items[] = {exact, "data: [DONE]\n\n"};
    models_code rc = stream_events(r, ok_items, 2, &chunks, &err);
    CHECK(rc == MODELS_DONE);
    if (rc != MODELS_DONE) fprintf(stderr, "  1 MiB event: %s\n", models_error_message(err));
    CHECK(chunks == 1);
    models_error_free(err);
    free(exact);

    char *over = event_of_size(MIB + 1);
    /* A first word, so the failure is the stream's, not the open's. */
    const char *over_items[] = {"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n", over, "data: [DONE]\n\n"};
    err = NULL;
    rc = stream_events(r, over_items, 3, &chunks, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_PROTOCOL);
    CHECK(chunks == 1);
    models_error_free(err);

    /* The same in push mode. */
    ts_script_sse("m1", over_items, 3, "");
    long pushed = 0;
    err = NULL;
    rc = models_chat_stream(r, HELLO, count_only, NULL, &pushed, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_PROTOCOL);
    CHECK(pushed == 1);
    models_error_free(err);
    free(over);

    /* Many data lines that together pass 1 MiB are one event over the limit. */
    char *line = malloc(300 * 1024 + 16);
    strcpy(line, "data: ");
    memset(line + 6, 'x', 300 * 1024);
    strcpy(line + 6 + 300 * 1024, "\n");
    const char *split_items[] = {line, line, line, line, "\n", "data: [DONE]\n\n"};
    err = NULL;
    rc = stream_events(r, split_items, 6, &chunks, &err);
    CHECK_FAILS_WITH(rc, err, MODELS_ERR_PROTOCOL);
    models_error_free(err);
    free(line);
    models_router_free(r);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_ALL);
    test_stream_memory_flat();
    test_body_limit();
    test_event_limit();
    return check_report("test_limits");
}
