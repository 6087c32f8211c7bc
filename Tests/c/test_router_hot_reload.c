/* SPDX-License-Identifier: Apache-2.0 */
/* models_router_set_models while a request is in flight: the request finishes
 * with the models it started with, and the next request uses the new ones. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "scripted_provider.h"

#include <models.h>
#include <pthread.h>

static const char *request = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

typedef struct {
    models_router *router;
    int stream;
    int code;
    char model[64];
} in_flight;

static void *run_request(void *arg) {
    in_flight *f = arg;
    if (f->stream) {
        models_stream *s = models_stream_open(f->router, request, NULL);
        f->code = s ? MODELS_OK : MODELS_ERR_ALL_FAILED;
        if (s) snprintf(f->model, sizeof f->model, "%s", models_stream_model(s));
        models_stream_close(s);
    } else {
        char *response = NULL;
        f->code = models_chat(f->router, request, &response, NULL);
        const char *m = response ? strstr(response, "\"model\":\"") : NULL;
        if (m) {
            m += strlen("\"model\":\"");
            size_t n = strcspn(m, "\"");
            if (n >= sizeof f->model) n = sizeof f->model - 1;
            memcpy(f->model, m, n);
            f->model[n] = '\0';
        }
        models_free(response);
    }
    return NULL;
}

static void test_in_flight_request_keeps_its_models(int stream) {
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router("{\"primary\":\"cp/a\",\"fallbacks\":[\"cp/b\"]}");
    sp_register(r, "cp", &p);
    /* a holds the request until the models have changed, then fails for good. */
    snprintf(p.gate_model, sizeof p.gate_model, "a");
    sp_script(&p, "a", sp_fail(MODELS_ERR_API, 401, 0));

    in_flight f = {r, stream, 1, ""};
    pthread_t t;
    pthread_create(&t, NULL, run_request, &f);
    sp_wait_gate_reached(&p);
    const char *fallbacks[] = {"cp/d"};
    CHECK(models_router_set_models(r, "cp/c", fallbacks, 1, NULL) == MODELS_OK);
    sp_open_gate(&p);
    pthread_join(t, NULL);
    CHECK(f.code == MODELS_OK);
    CHECK(strcmp(f.model, "cp/b") == 0); /* the fallback it started with */
    CHECK(sp_calls(&p, "c") == 0);

    in_flight next = {r, stream, 1, ""};
    run_request(&next);
    CHECK(next.code == MODELS_OK);
    CHECK(strcmp(next.model, "cp/c") == 0);
    models_router_free(r);
}

static void test_set_models_validates(void) {
    models_router *r = sp_router("{\"primary\":\"cp/a\"}");
    models_error *err = NULL;
    CHECK(models_router_set_models(r, NULL, NULL, 0, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    CHECK(models_router_set_models(r, "cp/a", NULL, 2, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    const char *bad[] = {"cp/b", NULL};
    CHECK(models_router_set_models(r, "cp/a", bad, 2, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "fallbacks[1]");
    models_error_free(err);
    CHECK(models_router_set_models(r, "", NULL, 0, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    CHECK(models_router_set_models(NULL, "cp/a", NULL, 0, &err) == MODELS_ERR_INVALID_ARGUMENT);
    models_error_free(err);
    /* A refused call changes nothing. */
    char *health = models_router_health(r);
    CHECK(health != NULL && strstr(health, "\"model\":\"cp/a\"") != NULL && strstr(health, "cp/b") == NULL);
    models_free(health);
    CHECK(models_router_set_models(r, "cp/x", NULL, 0, &err) == MODELS_OK);
    CHECK(err == NULL);
    models_router_free(r);
}

int main(void) {
    test_in_flight_request_keeps_its_models(0);
    test_in_flight_request_keeps_its_models(1);
    test_set_models_validates();
    return check_report("test_router_hot_reload");
}
