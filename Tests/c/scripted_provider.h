/* SPDX-License-Identifier: Apache-2.0 */
/* A provider written in C that fails on script, for the router tests that need
 * no network: register it under a name with sp_register(), queue failures per
 * model id with sp_script() (or make one sticky with sp_fail_always()), and
 * count what the router did with sp_calls(), stream_opens, stream_closes and
 * destroyed. A call with no step queued succeeds: chat answers
 * "hello from <id>", a stream sends "hello ", "from ", "<id>" and a usage chunk.
 *
 *   sp_provider p;
 *   sp_init(&p);
 *   sp_script(&p, "a", sp_fail(MODELS_ERR_API, 503, 0));   // one 503, then success
 *   sp_register(router, "cp", &p);                          // model "cp/a"
 */
#ifndef MODELS_TEST_SCRIPTED_PROVIDER_H
#define MODELS_TEST_SCRIPTED_PROVIDER_H

#include <models.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SP_MAX_MODELS 8
#define SP_MAX_STEPS 64

/* One scripted outcome: code 0 succeeds; a negative code fails, with an error
 * object from models_error_new() unless `bare` (then only the code is returned). */
typedef struct sp_step {
    int code;
    int status;
    int64_t retry_after_ms;
    int bare;
} sp_step;

typedef struct sp_model {
    char id[64];
    sp_step steps[SP_MAX_STEPS];
    int n_steps, next;
    int sticky;       /* fail with `always` on every call once the queue is empty */
    sp_step always;
    int calls;        /* chat calls and stream opens for this model id */
} sp_model;

typedef struct sp_provider {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    sp_model models[SP_MAX_MODELS];
    int n_models;
    int chat_calls, stream_opens, stream_closes, destroyed;
    char last_request[4096];
    /* A gate: a call for model id `gate_model` waits until gate_open is set. */
    char gate_model[64];
    int gate_reached, gate_open;
} sp_provider;

static inline sp_step sp_fail(int code, int status, int64_t retry_after_ms) {
    sp_step s = {code, status, retry_after_ms, 0};
    return s;
}

static inline sp_step sp_fail_bare(int code) {
    sp_step s = {code, 0, 0, 1};
    return s;
}

static inline void sp_init(sp_provider *p) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
}

/* The entry for `id`, created on first use. Call with the lock held. */
static inline sp_model *sp_model_for(sp_provider *p, const char *id) {
    for (int i = 0; i < p->n_models; i++)
        if (strcmp(p->models[i].id, id) == 0) return &p->models[i];
    if (p->n_models == SP_MAX_MODELS) { fprintf(stderr, "scripted_provider: too many models\n"); exit(2); }
    sp_model *m = &p->models[p->n_models++];
    snprintf(m->id, sizeof m->id, "%s", id);
    return m;
}

static inline void sp_script(sp_provider *p, const char *id, sp_step step) {
    pthread_mutex_lock(&p->lock);
    sp_model *m = sp_model_for(p, id);
    if (m->n_steps < SP_MAX_STEPS) m->steps[m->n_steps++] = step;
    pthread_mutex_unlock(&p->lock);
}

/* Every call for `id` fails with `step` (after any queued steps); code 0 undoes it. */
static inline void sp_fail_always(sp_provider *p, const char *id, sp_step step) {
    pthread_mutex_lock(&p->lock);
    sp_model *m = sp_model_for(p, id);
    m->sticky = step.code != 0;
    m->always = step;
    pthread_mutex_unlock(&p->lock);
}

static inline int sp_calls(sp_provider *p, const char *id) {
    pthread_mutex_lock(&p->lock);
    int n = sp_model_for(p, id)->calls;
    pthread_mutex_unlock(&p->lock);
    return n;
}

static inline int sp_counter(sp_provider *p, const int *field) {
    pthread_mutex_lock(&p->lock);
    int n = *field;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* Blocks until a call for the gated model has arrived. */
static inline void sp_wait_gate_reached(sp_provider *p) {
    pthread_mutex_lock(&p->lock);
    while (!p->gate_reached) pthread_cond_wait(&p->changed, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

static inline void sp_open_gate(sp_provider *p) {
    pthread_mutex_lock(&p->lock);
    p->gate_open = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

/* Takes the next outcome for `id` and counts the call; waits at the gate. */
static inline sp_step sp_take(sp_provider *p, const char *id, const char *request) {
    sp_step step = {0, 0, 0, 0};
    pthread_mutex_lock(&p->lock);
    sp_model *m = sp_model_for(p, id);
    m->calls++;
    snprintf(p->last_request, sizeof p->last_request, "%s", request ? request : "");
    if (m->next < m->n_steps) step = m->steps[m->next++];
    else if (m->sticky) step = m->always;
    if (p->gate_model[0] && strcmp(p->gate_model, id) == 0) {
        p->gate_reached = 1;
        pthread_cond_broadcast(&p->changed);
        while (!p->gate_open) pthread_cond_wait(&p->changed, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return step;
}

static inline int sp_report(sp_step step, const char *what, models_error **err) {
    if (!step.bare && err) {
        char message[128];
        snprintf(message, sizeof message, "scripted %s failure (status %d)", what, step.status);
        *err = models_error_new((models_code)step.code, message, step.status, step.retry_after_ms);
    }
    return step.code;
}

static inline char *sp_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy) memcpy(copy, s, n);
    return copy;
}

static inline int sp_chat(void *user, const char *model_id, const char *request_json, char **response_json,
                   models_error **err) {
    sp_provider *p = user;
    pthread_mutex_lock(&p->lock);
    p->chat_calls++;
    pthread_mutex_unlock(&p->lock);
    sp_step step = sp_take(p, model_id, request_json);
    if (step.code != 0) return sp_report(step, "chat", err);
    char body[512];
    snprintf(body, sizeof body,
             "{\"id\":\"sp-1\",\"object\":\"chat.completion\",\"model\":\"%s\",\"choices\":[{\"index\":0,"
             "\"message\":{\"role\":\"assistant\",\"content\":\"hello from %s\"},\"finish_reason\":\"stop\"}],"
             "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":3,\"total_tokens\":6}}",
             model_id, model_id);
    *response_json = sp_strdup(body);
    return MODELS_OK;
}

typedef struct sp_stream {
    char id[64];
    int index;
    char chunk[512];
} sp_stream;

static inline int sp_stream_open(void *user, const char *model_id, const char *request_json, void **stream,
                          models_error **err) {
    sp_provider *p = user;
    sp_step step = sp_take(p, model_id, request_json);
    if (step.code != 0) return sp_report(step, "stream_open", err);
    sp_stream *s = calloc(1, sizeof *s);
    if (!s) return MODELS_ERR_NOMEM;
    snprintf(s->id, sizeof s->id, "%s", model_id);
    pthread_mutex_lock(&p->lock);
    p->stream_opens++;
    pthread_mutex_unlock(&p->lock);
    *stream = s;
    return MODELS_OK;
}

static inline int sp_stream_next(void *user, void *stream, const char **chunk_json, size_t *len, models_error **err) {
    (void)user;
    (void)err;
    sp_stream *s = stream;
    const char *pieces[3] = {"hello ", "from ", s->id};
    if (s->index < 3) {
        snprintf(s->chunk, sizeof s->chunk,
                 "{\"id\":\"sp-1\",\"object\":\"chat.completion.chunk\",\"model\":\"%s\",\"choices\":[{\"index\":0,"
                 "\"delta\":{\"content\":\"%s\"},\"finish_reason\":null}]}",
                 s->id, pieces[s->index]);
    } else if (s->index == 3) {
        snprintf(s->chunk, sizeof s->chunk,
                 "{\"id\":\"sp-1\",\"object\":\"chat.completion.chunk\",\"model\":\"%s\",\"choices\":[],"
                 "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}",
                 s->id);
    } else {
        return MODELS_DONE;
    }
    s->index++;
    *chunk_json = s->chunk;
    *len = strlen(s->chunk);
    return MODELS_OK;
}

static inline void sp_stream_close(void *user, void *stream) {
    sp_provider *p = user;
    pthread_mutex_lock(&p->lock);
    p->stream_closes++;
    pthread_mutex_unlock(&p->lock);
    free(stream);
}

static inline void sp_destroy(void *user) {
    sp_provider *p = user;
    pthread_mutex_lock(&p->lock);
    p->destroyed++;
    pthread_mutex_unlock(&p->lock);
}

static const models_provider_callbacks sp_callbacks = {
    sizeof(models_provider_callbacks), sp_chat, sp_stream_open, sp_stream_next, sp_stream_close, sp_destroy,
};

/* Registers `p` under `name`; exits when the library refuses. */
static inline void sp_register(models_router *r, const char *name, sp_provider *p) {
    models_error *err = NULL;
    if (models_router_add_provider(r, name, &sp_callbacks, p, &err) != MODELS_OK) {
        fprintf(stderr, "models_router_add_provider(%s): %s\n", name, models_error_message(err));
        exit(2);
    }
}

/* A router from `config`; exits when the config is refused. */
static inline models_router *sp_router(const char *config) {
    models_error *err = NULL;
    models_router *r = models_router_new(config, &err);
    if (!r) {
        fprintf(stderr, "models_router_new: %s\n", models_error_message(err));
        exit(2);
    }
    return r;
}

/* Milliseconds on the monotonic clock, for elapsed-time checks. */
static inline int64_t sp_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sp_sleep_ms(int64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

#endif
