/* SPDX-License-Identifier: Apache-2.0 */
/* models-chat: ask a chat model from the shell, through libmodels.
 *
 *   models-chat "What is the capital of France?"
 *   echo "Summarise this" | models-chat --stream --system "Be brief."
 *   models-chat --config router.json --model openai/gpt-4o-mini "Hi"
 *   models-chat --embed --model openai/text-embedding-3-small "Some text"
 *
 * Without --config the router is built from the API keys in the environment
 * (env_config.c). The exit status says what kind of failure happened, so
 * scripts can tell a bad key from a network outage (see usage()).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <jansson.h>
#include <models.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "env_config.h"

enum exit_status {
    EXIT_ANSWERED = 0,
    EXIT_API = 1,          /* the provider answered with an HTTP error (bad key, bad request...) */
    EXIT_USAGE = 2,        /* bad command line */
    EXIT_CONFIG = 3,       /* bad config, no API key, provider not registered */
    EXIT_NETWORK = 4,      /* connect, DNS, TLS, connection reset */
    EXIT_TIMEOUT = 5,
    EXIT_PROTOCOL = 6,     /* malformed or truncated answer */
    EXIT_ALL_FAILED = 7,   /* the primary and every fallback failed */
    EXIT_ALL_COOLDOWN = 8, /* every model is cooling down */
    EXIT_OTHER = 9,        /* out of memory, unexpected */
    EXIT_INTERRUPTED = 130 /* Ctrl-C: the request was cancelled */
};

static int exit_status_for(models_code code) {
    switch (code) {
    case MODELS_OK:
    case MODELS_DONE: return EXIT_ANSWERED;
    case MODELS_ERR_API: return EXIT_API;
    case MODELS_ERR_INVALID_ARGUMENT:
    case MODELS_ERR_NO_PROVIDER: return EXIT_CONFIG;
    case MODELS_ERR_TRANSPORT: return EXIT_NETWORK;
    case MODELS_ERR_TIMEOUT: return EXIT_TIMEOUT;
    case MODELS_ERR_PROTOCOL: return EXIT_PROTOCOL;
    case MODELS_ERR_ALL_FAILED: return EXIT_ALL_FAILED;
    case MODELS_ERR_ALL_COOLDOWN: return EXIT_ALL_COOLDOWN;
    case MODELS_ERR_CANCELLED: return EXIT_INTERRUPTED;
    default: return EXIT_OTHER;
    }
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: models-chat [OPTIONS] [PROMPT...]\n"
            "\n"
            "Sends PROMPT (standard input when there is none) to a chat model through\n"
            "libmodels, with retries and fallbacks, and prints the answer.\n"
            "\n"
            "  -c, --config FILE    router config, JSON (keys: see the libmodels README);\n"
            "                       without it the router is built from the environment\n"
            "  -m, --model MODEL    the model to ask (\"provider/model-id\"); with --config\n"
            "                       it is asked alone, without it it becomes the primary\n"
            "  -s, --stream         print the answer as it arrives\n"
            "      --system TEXT    a system message to send before the prompt\n"
            "      --max-tokens N   the longest answer to ask for\n"
            "      --options JSON   options for this call, e.g. '{\"timeout_ms\":5000,\n"
            "                       \"extra_headers\":{\"X-Trace\":\"1\"}}' (keys: see models_chat_ex)\n"
            "      --json           print the raw JSON answer (one line per chunk with --stream)\n"
            "      --embed          embed the prompt instead (an embeddings model): print its\n"
            "                       vector as a JSON array (with --json, the whole answer)\n"
            "      --health         print the models' health on stderr after answering: each\n"
            "                       model or group deployment, its availability, calls in\n"
            "                       flight, latency and this minute's requests and tokens\n"
            "                       (used/limit); alone, without a prompt, print it and exit\n"
            "      --print-config   print the router config and exit; the one built from the\n"
            "                       environment names the keys' variables, never the keys\n"
            "  -v, --verbose        log the router's decisions (retries, fallbacks, cooldowns),\n"
            "                       thinking text and token usage on stderr; -vv: debug lines\n"
            "  -h, --help           show this help\n"
            "  -V, --version        show the versions of models-chat and libmodels\n"
            "\n"
            "Without --config, every provider whose variable is set is used, the first\n"
            "one listed as the primary and the others as fallbacks, in this order:\n");
    env_config_describe(out);
    fprintf(out,
            "\n"
            "Exit status:\n"
            "  0    answered                     5    timed out\n"
            "  1    the provider refused (HTTP)  6    malformed or truncated answer\n"
            "  2    bad command line             7    every model failed\n"
            "  3    bad config or no API key     8    every model is cooling down\n"
            "  4    network error                9    other error (out of memory)\n"
            "  130  interrupted (Ctrl-C)\n");
}

struct options {
    const char *config_file, *model, *system, *call_options;
    long max_tokens;
    int stream, json, health, print_config, verbose, embed;
};

/* ---- --print-config ------------------------------------------------------ */

/* A Redis URL with its password (between "scheme://[user]:" and the last
 * '@') replaced by "[redacted]"; a URL without one is kept as it is. */
static json_t *redacted_redis_url(const char *url) {
    const char *scheme = strstr(url, "://");
    const char *at = strrchr(url, '@');
    if (!scheme || !at || at < scheme) return json_string(url);
    const char *user = scheme + 3, *colon = memchr(user, ':', (size_t)(at - user));
    size_t keep = (size_t)((colon ? colon : user) - url);
    size_t size = keep + strlen(at) + 16;
    char *out = malloc(size);
    if (!out) return json_string("[redacted]");
    snprintf(out, size, "%.*s:[redacted]%s", (int)keep, url, at);
    json_t *value = json_string(out);
    free(out);
    return value;
}

/* A base_url with the value of each query parameter replaced by "[redacted]"
 * (a gateway's ?key=...); a URL without a query is kept as it is. */
static json_t *redacted_base_url(const char *url) {
    const char *query = strchr(url, '?');
    if (!query) return json_string(url);
    size_t size = strlen(url) * 2 + 16;
    char *out = malloc(size), *o = out;
    if (!out) return json_string("[redacted]");
    o += sprintf(o, "%.*s", (int)(query - url + 1), url);
    for (const char *p = query + 1; *p;) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        if (eq) o += sprintf(o, "%.*s=[redacted]", (int)(eq - p), p);
        else o += sprintf(o, "%.*s", (int)n, p);
        p += n;
        if (*p == '&') *o++ = *p++;
    }
    *o = '\0';
    json_t *value = json_string(out);
    free(out);
    return value;
}

/* Prints the config with every secret replaced by "[redacted]": each
 * provider's api_key, github_token and AWS credentials, the values of its headers and of its
 * base_url's query, and the password of shared_state.redis_url. The variables that name keys
 * (api_key_env, github_token_env, redis_url_env) are shown. */
static void print_config(const char *config) {
    json_t *root = json_loads(config, JSON_DECODE_ANY, NULL);
    json_t *shared = json_object_get(root, "shared_state");
    const char *redis_url = json_string_value(json_object_get(shared, "redis_url"));
    if (redis_url) json_object_set_new(shared, "redis_url", redacted_redis_url(redis_url));
    json_t *providers = json_object_get(root, "providers");
    const char *name;
    json_t *p;
    json_object_foreach(providers, name, p) {
        static const char *const secret_keys[] = {"api_key", "github_token", "aws_access_key_id", "aws_secret_access_key",
                                                  "aws_session_token"};
        for (size_t i = 0; i < sizeof secret_keys / sizeof *secret_keys; i++)
            if (json_object_get(p, secret_keys[i])) json_object_set_new(p, secret_keys[i], json_string("[redacted]"));
        const char *base_url = json_string_value(json_object_get(p, "base_url"));
        if (base_url) json_object_set_new(p, "base_url", redacted_base_url(base_url));
        const char *header;
        json_t *value;
        json_object_foreach(json_object_get(p, "headers"), header, value) json_object_set_new(
            json_object_get(p, "headers"), header, json_string("[redacted]"));
    }
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(root);
}

/* ---- input --------------------------------------------------------------- */

/* Reads a whole stream (at most `limit` bytes) into a malloc'd string, or NULL. */
static char *read_all(FILE *in, size_t limit) {
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, in)) > 0) {
        len += n;
        if (len > limit) {
            free(buf);
            return NULL;
        }
        if (cap - len - 1 == 0) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown) free(buf);
            buf = grown;
        }
    }
    if (buf) buf[len] = '\0';
    return buf;
}

/* The prompt: the words after the options, or standard input. */
static char *read_prompt(int argc, char **argv) {
    if (argc == 0) {
        if (isatty(STDIN_FILENO)) fprintf(stderr, "(type the prompt, then Ctrl-D)\n");
        char *text = read_all(stdin, 32u << 20);
        /* Drop the trailing newline(s) that `echo` and editors add. */
        for (size_t n = text ? strlen(text) : 0; n > 0 && strchr(" \t\r\n", text[n - 1]); n--) text[n - 1] = '\0';
        return text;
    }
    size_t len = 0;
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 1;
    char *prompt = calloc(1, len + 1);
    for (int i = 0; prompt && i < argc; i++) {
        if (i > 0) strcat(prompt, " ");
        strcat(prompt, argv[i]);
    }
    return prompt;
}

/* ---- Ctrl-C: a flag from the handler, a thread that cancels the call ------ */

static volatile sig_atomic_t interrupted = 0;
static void on_sigint(int signo) {
    (void)signo;
    interrupted = 1;
}

struct watcher {
    models_call *call;
    atomic_int finished;
    pthread_t thread;
};

static void *watch(void *arg) {
    struct watcher *w = arg;
    const struct timespec tick = {0, 20 * 1000 * 1000};
    while (!atomic_load(&w->finished)) {
        if (interrupted) {
            models_call_cancel(w->call);
            break;
        }
        nanosleep(&tick, NULL);
    }
    return NULL;
}

/* ---- output ------------------------------------------------------------- */

static void log_line(void *user, int level, const char *message) {
    static const char *names[] = {"debug", "info", "warn", "error"};
    (void)user;
    fprintf(stderr, "[libmodels %s] %s\n", names[level & 3], message);
}

static void on_thinking(void *user, const char *text, size_t len) {
    (void)user;
    fprintf(stderr, "%.*s", (int)len, text);
}

/* "used" or "used/limit" of a health member and its limit ("requests_this_minute", "rpm"). */
static void used_of(char *out, size_t size, json_t *m, const char *used, const char *limit) {
    json_t *l = json_object_get(m, limit);
    long long u = (long long)json_integer_value(json_object_get(m, used));
    if (json_is_integer(l)) snprintf(out, size, "%lld/%lld", u, (long long)json_integer_value(l));
    else snprintf(out, size, "%lld", u);
}

static int width_of(json_t *models, const char *key, int least) {
    size_t i;
    json_t *m;
    int w = least;
    json_array_foreach(models, i, m) {
        const char *s = json_string_value(json_object_get(m, key));
        if (s && (int)strlen(s) > w) w = (int)strlen(s);
    }
    return w;
}

/* The router's health as a table on stderr: one row per model or deployment,
 * with its group ("-" for a plain model), calls in flight, the latency
 * average ("-" before the first answer), this minute's requests and tokens
 * ("used/limit" when the deployment has an rpm or tpm) and why it is not
 * available. */
static void print_health(models_router *router) {
    char *health = models_router_health(router);
    json_t *models = json_loads(health, 0, NULL);
    size_t i;
    json_t *m;
    int wm = width_of(models, "model", 5), wg = width_of(models, "group", 5), wp = width_of(models, "provider", 8);
    fprintf(stderr, "%-*s  %-*s  %-*s  %-9s  %9s  %10s  %12s  %14s  %s\n", wm, "MODEL", wg, "GROUP", wp, "PROVIDER",
            "AVAILABLE", "IN-FLIGHT", "LATENCY-MS", "REQUESTS/MIN", "TOKENS/MIN", "REASON");
    json_array_foreach(models, i, m) {
        const char *group = json_string_value(json_object_get(m, "group"));
        const char *reason = json_string_value(json_object_get(m, "reason"));
        json_t *latency = json_object_get(m, "latency_ms");
        char latency_text[24] = "-", requests[48], tokens[48];
        if (json_is_integer(latency)) snprintf(latency_text, sizeof latency_text, "%lld", (long long)json_integer_value(latency));
        used_of(requests, sizeof requests, m, "requests_this_minute", "rpm");
        used_of(tokens, sizeof tokens, m, "tokens_this_minute", "tpm");
        fprintf(stderr, "%-*s  %-*s  %-*s  %-9s  %9lld  %10s  %12s  %14s%s%s\n", wm,
                json_string_value(json_object_get(m, "model")), wg, group ? group : "-", wp,
                json_string_value(json_object_get(m, "provider")),
                json_is_true(json_object_get(m, "available")) ? "yes" : "no",
                (long long)json_integer_value(json_object_get(m, "in_flight")), latency_text, requests, tokens,
                reason ? "  " : "", reason ? reason : "");
    }
    json_decref(models);
    models_free(health);
}

/* The text of choice 0 of an answer or chunk ("message" or "delta"), or NULL. */
static const char *content_of(json_t *answer, const char *part) {
    json_t *choice = json_array_get(json_object_get(answer, "choices"), 0);
    return json_string_value(json_object_get(json_object_get(choice, part), "content"));
}

/* ---- the request ------------------------------------------------------------ */

static char *build_request(const struct options *o, const char *prompt) {
    json_t *messages = json_array();
    if (o->system) json_array_append_new(messages, json_pack("{s:s, s:s}", "role", "system", "content", o->system));
    json_array_append_new(messages, json_pack("{s:s, s:s}", "role", "user", "content", prompt));
    json_t *request = json_pack("{s:o}", "messages", messages);
    if (o->max_tokens > 0) json_object_set_new(request, "max_tokens", json_integer(o->max_tokens));
    if (o->model && o->config_file) json_object_set_new(request, "model", json_string(o->model));
    char *text = json_dumps(request, 0);
    json_decref(request);
    return text;
}

static char *build_embeddings_request(const struct options *o, const char *prompt) {
    json_t *request = json_pack("{s:s}", "input", prompt);
    if (o->model && o->config_file) json_object_set_new(request, "model", json_string(o->model));
    char *text = json_dumps(request, 0);
    json_decref(request);
    return text;
}

/* --embed: the vector of the prompt (or the whole answer with --json). */
static models_code embed(models_router *router, const struct options *o, const char *request,
                         models_call *call, models_error **err) {
    char *reply = NULL;
    models_code code = models_embed_ex(router, request, o->call_options, call, &reply, err);
    if (code != MODELS_OK) return code;
    json_t *answer = json_loads(reply, 0, NULL);
    if (o->json) {
        printf("%s\n", reply);
    } else {
        json_t *first = json_object_get(json_array_get(json_object_get(answer, "data"), 0), "embedding");
        char *text = first ? json_dumps(first, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        printf("%s\n", text ? text : "null");
        free(text);
    }
    if (o->verbose) {
        fprintf(stderr, "-- %s, %lld prompt tokens\n", json_string_value(json_object_get(answer, "model")),
                (long long)json_integer_value(json_object_get(json_object_get(answer, "usage"), "prompt_tokens")));
    }
    json_decref(answer);
    models_free(reply);
    return MODELS_OK;
}

static models_code ask(models_router *router, const struct options *o, const char *request,
                       models_call *call, models_error **err) {
    if (o->embed) return embed(router, o, request, call, err);
    if (!o->stream) {
        char *reply = NULL;
        models_code code = models_chat_ex(router, request, o->call_options, call, &reply, err);
        if (code != MODELS_OK) return code;
        json_t *answer = json_loads(reply, 0, NULL);
        if (o->json) {
            printf("%s\n", reply);
        } else {
            const char *text = content_of(answer, "message");
            printf("%s\n", text ? text : "");
        }
        if (o->verbose) {
            json_t *usage = json_object_get(answer, "usage");
            fprintf(stderr, "-- %s, %lld prompt + %lld completion tokens\n",
                    json_string_value(json_object_get(answer, "model")),
                    (long long)json_integer_value(json_object_get(usage, "prompt_tokens")),
                    (long long)json_integer_value(json_object_get(usage, "completion_tokens")));
        }
        json_decref(answer);
        models_free(reply);
        return MODELS_OK;
    }

    models_stream *stream = models_stream_open_ex(router, request, o->call_options, call, err);
    if (!stream) return models_error_code(*err);
    if (o->verbose) models_stream_on_thinking(stream, on_thinking, NULL);
    const char *chunk;
    size_t len;
    models_code code;
    while ((code = models_stream_next(stream, &chunk, &len, err)) == MODELS_OK) {
        if (o->json) {
            printf("%s\n", chunk);
        } else {
            json_t *c = json_loadb(chunk, len, 0, NULL);
            const char *text = content_of(c, "delta");
            if (text) fputs(text, stdout);
            json_decref(c);
        }
        fflush(stdout);
    }
    if (!o->json) printf("\n");
    if (code == MODELS_DONE && o->verbose) {
        int64_t in = 0, out = 0;
        models_stream_usage(stream, &in, &out);
        fprintf(stderr, "-- %s, %lld prompt + %lld completion tokens\n", models_stream_model(stream),
                (long long)in, (long long)out);
    }
    models_stream_close(stream);
    return code == MODELS_DONE ? MODELS_OK : code;
}

/* What to try, for the failures a user can do something about. */
static const char *hint_for(models_code code, int status) {
    if (status == 401 || status == 403) return "check the API key";
    if (status == 429) return "rate limited: wait, or add fallbacks";
    switch (code) {
    case MODELS_ERR_NO_PROVIDER: return "set the provider's API key, or list it under \"providers\" in --config";
    case MODELS_ERR_TRANSPORT: return "check the network, the base_url and any HTTPS_PROXY";
    case MODELS_ERR_TIMEOUT: return "raise \"timeout_ms\" in the config";
    case MODELS_ERR_ALL_COOLDOWN: return "try again once the cooldown ends";
    default: return NULL;
    }
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv) {
    enum { OPT_SYSTEM = 1000, OPT_MAX_TOKENS, OPT_OPTIONS, OPT_JSON, OPT_HEALTH, OPT_PRINT_CONFIG, OPT_EMBED };
    static const struct option long_options[] = {
        {"config", required_argument, NULL, 'c'},
        {"model", required_argument, NULL, 'm'},
        {"stream", no_argument, NULL, 's'},
        {"system", required_argument, NULL, OPT_SYSTEM},
        {"max-tokens", required_argument, NULL, OPT_MAX_TOKENS},
        {"options", required_argument, NULL, OPT_OPTIONS},
        {"json", no_argument, NULL, OPT_JSON},
        {"health", no_argument, NULL, OPT_HEALTH},
        {"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
        {"embed", no_argument, NULL, OPT_EMBED},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    /* Line-buffered even in a pipe, so the answer and the stderr lines stay in order. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct options o = {0};
    int opt;
    while ((opt = getopt_long(argc, argv, "c:m:svhV", long_options, NULL)) != -1) {
        switch (opt) {
        case 'c': o.config_file = optarg; break;
        case 'm': o.model = optarg; break;
        case 's': o.stream = 1; break;
        case OPT_SYSTEM: o.system = optarg; break;
        case OPT_MAX_TOKENS: {
            char *end;
            o.max_tokens = strtol(optarg, &end, 10);
            if (*end != '\0' || o.max_tokens <= 0) {
                fprintf(stderr, "models-chat: --max-tokens needs a positive number, not \"%s\"\n", optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case OPT_OPTIONS: o.call_options = optarg; break;
        case OPT_JSON: o.json = 1; break;
        case OPT_HEALTH: o.health = 1; break;
        case OPT_PRINT_CONFIG: o.print_config = 1; break;
        case OPT_EMBED: o.embed = 1; break;
        case 'v': o.verbose++; break;
        case 'h': usage(stdout); return EXIT_ANSWERED;
        case 'V': printf("models-chat %s (libmodels %s)\n", MODELS_CHAT_VERSION, models_version()); return 0;
        default: fprintf(stderr, "try 'models-chat --help'\n"); return EXIT_USAGE;
        }
    }
    if (o.verbose) models_set_log_handler(log_line, NULL, o.verbose > 1 ? MODELS_LOG_DEBUG : MODELS_LOG_INFO);

    /* The router: from --config, or from the keys in the environment. */
    char *config;
    if (o.config_file) {
        FILE *f = fopen(o.config_file, "r");
        config = f ? read_all(f, 1u << 20) : NULL;
        if (f) fclose(f);
        if (!config) {
            fprintf(stderr, "models-chat: cannot read the config %s (missing, unreadable or over 1 MiB)\n",
                    o.config_file);
            return EXIT_CONFIG;
        }
    } else if (!(config = env_config_build(o.model))) {
        fprintf(stderr, "models-chat: no API key found. Set one of these variables, or pass --config FILE:\n");
        env_config_describe(stderr);
        return EXIT_CONFIG;
    }
    models_error *err = NULL;
    models_router *router = models_router_new(config, &err);
    if (router && o.print_config) print_config(config);
    free(config);
    if (!router) {
        fprintf(stderr, "models-chat: %s\n", models_error_message(err));
        models_error_free(err);
        return EXIT_CONFIG;
    }

    if (o.print_config || (o.health && optind == argc)) { /* no request */
        if (o.health) print_health(router);
        models_router_free(router);
        return EXIT_ANSWERED;
    }
    char *prompt = read_prompt(argc - optind, argv + optind);
    if (!prompt || prompt[strspn(prompt, " \t\r\n")] == '\0') {
        fprintf(stderr, "models-chat: no prompt (give it as arguments or on standard input)\n");
        free(prompt);
        models_router_free(router);
        return EXIT_USAGE;
    }
    if (o.embed && (o.stream || o.system || o.max_tokens > 0)) {
        fprintf(stderr, "models-chat: --embed goes with neither --stream, --system nor --max-tokens\n");
        free(prompt);
        models_router_free(router);
        return EXIT_USAGE;
    }
    char *request = o.embed ? build_embeddings_request(&o, prompt) : build_request(&o, prompt);
    free(prompt);

    /* Ctrl-C cancels the request: connecting, retrying or streaming. */
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    struct watcher w = {models_call_new(), 0, 0};
    pthread_create(&w.thread, NULL, watch, &w);

    models_code code = ask(router, &o, request, w.call, &err);

    atomic_store(&w.finished, 1);
    pthread_join(w.thread, NULL);
    models_call_free(w.call);
    free(request);

    int status = exit_status_for(code);
    if (code == MODELS_ERR_CANCELLED) {
        fprintf(stderr, "models-chat: interrupted\n");
    } else if (code != MODELS_OK) {
        const char *hint = hint_for(code, models_error_status(err));
        fprintf(stderr, "models-chat: %s\n", models_error_message(err));
        if (hint) fprintf(stderr, "models-chat: %s\n", hint);
    }
    models_error_free(err);
    if (o.health) print_health(router);
    models_router_free(router);
    models_set_log_handler(NULL, NULL, 0);
    return status;
}
