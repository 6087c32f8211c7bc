/*
** libmodels: an in-process router for large-language-model chat APIs.
**
** One call sends an OpenAI-style chat request to OpenAI, any OpenAI-compatible
** service, Anthropic (native API) or GitHub Copilot, retries what is transient,
** falls back through an ordered list of models and streams the answer back.
**
** Conventions, for every function below:
**
**   - Requests, responses and stream chunks are JSON text in the OpenAI Chat
**     Completions shape, whatever the provider. All strings are UTF-8.
**   - A fallible function returns a models_code (MODELS_OK on success) or a
**     pointer (NULL on failure). Its last parameter, `models_error **err`, may
**     be NULL. When it is not: on failure *err is set to a new error object
**     that the caller frees with models_error_free(); on success *err is set
**     to NULL.
**   - Strings the library returns as `char *` are owned by the caller and
**     freed with models_free(). Strings returned as `const char *` are lent:
**     each function says how long they live.
**   - Handles (models_router, models_error) are opaque; create them with the
**     _new function and release them with the matching _free function.
**     Passing NULL to a _free function does nothing.
**   - No function crashes on NULL or malformed input: each reports
**     MODELS_ERR_INVALID_ARGUMENT with a message that says what was wrong.
**   - Secrets (API keys, tokens) never appear in error messages or log lines.
*/
#ifndef MODELS_H
#define MODELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
** Version
*/

/* The library's version as "MAJOR.MINOR.PATCH", e.g. "0.1.0". The string is
** static: never free it. Thread-safe. */
const char *models_version(void);

/* ---------------------------------------------------------------------------
** Result codes
*/

typedef enum models_code {
    MODELS_OK = 0,
    MODELS_DONE = 1,                  /* a stream has no more chunks */
    MODELS_ERR_INVALID_ARGUMENT = -1, /* NULL, bad JSON, bad config */
    MODELS_ERR_NO_PROVIDER = -2,      /* the model's provider is not registered */
    MODELS_ERR_API = -3,              /* the provider answered with an HTTP error */
    MODELS_ERR_TRANSPORT = -4,        /* connect, DNS, TLS, connection reset */
    MODELS_ERR_TIMEOUT = -5,
    MODELS_ERR_CANCELLED = -6,
    MODELS_ERR_PROTOCOL = -7,         /* malformed or truncated response or stream */
    MODELS_ERR_ALL_COOLDOWN = -8,     /* every model is cooling down */
    MODELS_ERR_ALL_FAILED = -9,       /* status and Retry-After are the last failure's */
    MODELS_ERR_NOMEM = -10
} models_code;

/* The enumerator's name for a code, e.g. "MODELS_ERR_API"; "MODELS_UNKNOWN_CODE"
** for a value not listed above. The string is static: never free it.
** Thread-safe. */
const char *models_code_name(models_code code);

/* Frees a string (or any buffer) the library returned as `char *`. NULL does
** nothing. Do not use it on `const char *` results, which are lent. */
void models_free(void *p);

/* ---------------------------------------------------------------------------
** Errors
**
** A failed call describes its failure in a models_error when the caller
** passes a non-NULL `models_error **err`. The accessors take the error
** object and never fail; given NULL they return neutral values.
*/

typedef struct models_error models_error;

/* The error's code (always negative). MODELS_ERR_INVALID_ARGUMENT for NULL. */
models_code models_error_code(const models_error *e);

/* A message for a human, in English, never containing a secret. Lent: it
** lives as long as the error object. Never NULL. */
const char *models_error_message(const models_error *e);

/* The HTTP status of the provider's answer (e.g. 429), or 0 when the failure
** had none (a timeout, a reset connection, a bad argument). */
int models_error_status(const models_error *e);

/* The provider's Retry-After in milliseconds (from delta-seconds or an
** HTTP-date), or 0 when it sent none. */
int64_t models_error_retry_after_ms(const models_error *e);

/* 1 when trying the same model again may succeed (HTTP 408, 429, 5xx, 529,
** a reset or refused connection, a timeout), 0 otherwise. The router retries
** these; a caller driving its own loop can use it too. */
int models_error_is_transient(const models_error *e);

/* Frees an error object. NULL does nothing. */
void models_error_free(models_error *e);

/* ---------------------------------------------------------------------------
** Routers
**
** A router holds the providers, the primary model and its fallbacks, and the
** retry, timeout, cooldown and rate-limit settings. One router may be used
** from many threads at once.
*/

typedef struct models_router models_router;

/* Creates a router from a JSON config object (see the README for every key):
**
**   {"primary": "anthropic/claude-sonnet-4-6",
**    "fallbacks": ["openai/gpt-4o"],
**    "providers": {"openai": {"api_key_env": "OPENAI_API_KEY"}},
**    "timeout_ms": 120000, "max_retries": 2, ...}
**
** Returns the router, or NULL on failure with *err set: invalid JSON, a
** config larger than 1 MiB, an unknown key or a value of the wrong type give
** MODELS_ERR_INVALID_ARGUMENT with a message naming the key
** (e.g. "config: unknown key \"providers.openai.apikey\" (did you mean
** \"api_key\"?)"). The config text is copied; the caller keeps ownership of
** `config_json`. Thread-safe. Free the router with models_router_free(). */
models_router *models_router_new(const char *config_json, models_error **err);

/* Frees a router. NULL does nothing. No call on the router may be running
** or start afterwards. */
void models_router_free(models_router *r);

/* ---------------------------------------------------------------------------
** Model names and providers
*/

/* The model id a provider receives for a full model name: everything after
** the first '/' ("openrouter/meta/llama-3" gives "meta/llama-3"); a name
** without '/' (a GitHub Copilot model) is returned unchanged. Returns a new
** string the caller frees with models_free(), or NULL when `full_model` is
** NULL or not valid UTF-8. Thread-safe. */
char *models_model_id(const char *full_model);

/* The known base URL of a provider ("openai" gives
** "https://api.openai.com/v1"; also groq, openrouter, mistral, together,
** fireworks, perplexity, gemini, ollama, lmstudio, anthropic, github-copilot),
** or NULL when the name is unknown or NULL. The string is static: never free
** it. Thread-safe. */
const char *models_default_base_url(const char *provider);

/* ---------------------------------------------------------------------------
** Logging
*/

enum {
    MODELS_LOG_DEBUG = 0,
    MODELS_LOG_INFO = 1,
    MODELS_LOG_WARN = 2,
    MODELS_LOG_ERROR = 3
};

/* Receives one log line: its level (MODELS_LOG_*) and a NUL-terminated
** message, lent for the duration of the call. Called from whichever thread
** logs, possibly several at once: it must be thread-safe. It must not call
** models_set_log_handler(). */
typedef void (*models_log_fn)(void *user, int level, const char *message);

/* Installs the process-wide log handler: lines at `min_level` and above go to
** `fn` with `user`. NULL `fn` removes the handler (the default: the library
** logs nothing). Lines tell what the library decides (a retry, a fallback, a
** cooldown); they never contain API keys or tokens. Thread-safe. */
void models_set_log_handler(models_log_fn fn, void *user, int min_level);

#ifdef __cplusplus
}
#endif

#endif /* MODELS_H */
