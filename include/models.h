/* SPDX-License-Identifier: Apache-2.0 */
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
**   - Handles (models_router, models_stream, models_call, models_cooldown,
**     models_error) are opaque; create them with their _new function (a
**     stream with models_stream_open()) and release them with the matching
**     _free function (models_stream_close()). Passing NULL to a _free or
**     _close function does nothing.
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

/* The version of this header. A test of the library checks that they match
** models_version(), the version of the library it ships with. */
#define MODELS_VERSION_MAJOR 0
#define MODELS_VERSION_MINOR 1
#define MODELS_VERSION_PATCH 0

/* The header's version as one number: MAJOR * 10000 + MINOR * 100 + PATCH
** (0.1.0 is 100, 1.2.3 is 10203). MINOR and PATCH stay below 100. */
#define MODELS_VERSION_NUM \
    (MODELS_VERSION_MAJOR * 10000 + MODELS_VERSION_MINOR * 100 + MODELS_VERSION_PATCH)

/* 1 when this header is version x.y.z or later, 0 otherwise; usable in #if:
**   #if MODELS_AT_LEAST_VERSION(0, 2, 0)  */
#define MODELS_AT_LEAST_VERSION(x, y, z) \
    (MODELS_VERSION_NUM >= ((x) * 10000 + (y) * 100 + (z)))

/* The library's version as "MAJOR.MINOR.PATCH", e.g. "0.1.0". The string is
** static: never free it. Thread-safe. It can differ from the header's macros
** when a program runs against another build of the library than it was
** compiled with. */
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
    MODELS_ERR_ALL_COOLDOWN = -8,     /* every model is cooling down or at its rate limit */
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
** HTTP-date), or 0 when it sent none or an invalid one. A wait longer than
** a year is reported as a year. For MODELS_ERR_ALL_COOLDOWN: the time until
** the first model leaves its cooldown or falls below its rate limit (> 0). */
int64_t models_error_retry_after_ms(const models_error *e);

/* 1 when trying the same model again may succeed (an HTTP status for which
** models_status_is_transient() is 1, a reset or refused connection, a
** timeout), 0 otherwise. The router retries these; a caller driving its own
** loop can use it too. */
int models_error_is_transient(const models_error *e);

/* 1 when an HTTP error status is transient, 0 otherwise. The transient
** statuses are exactly 408, 429, 500, 502, 503, 504 and 529; every other one
** (400, 401, 404, 501, 505, ...) is not. The router retries these statuses
** and an error with one of them is transient. Thread-safe. */
int models_status_is_transient(int http_status);

/* What kind of failure this is, as a static string (never freed; NULL for a
** NULL error). A provider's failure is one of:
**   "rate_limit"      HTTP 429
**   "auth"            HTTP 401 or 403
**   "not_found"       HTTP 404 (an unknown model, say)
**   "context_window"  the provider says the prompt is too long for the model
**   "content_policy"  a content filter or policy refused the request
**   "bad_request"     any other HTTP 4xx
**   "server"          HTTP 5xx or 529, or an error event inside a stream
**   "timeout", "transport", "protocol"  as the codes of the same names.
** Otherwise: "cancelled", "invalid_argument", "no_provider", "all_cooldown",
** "all_failed" or "no_memory", after the code. The config's "fallback_on"
** takes the provider kinds. */
const char *models_error_kind(const models_error *e);

/* Frees an error object. NULL does nothing. */
void models_error_free(models_error *e);

/* Creates an error object, for providers written in C (see
** models_router_add_provider()) to report a failure the router can classify:
** `code` is a negative models_code (anything else becomes MODELS_ERR_API),
** `message` is copied (NULL gives the code's name), `http_status` and
** `retry_after_ms` are 0 when unknown. Transience follows the code and status
** as for the library's own errors. Returns the error, which the caller owns
** until it hands it to the library; NULL only when out of memory. */
models_error *models_error_new(models_code code, const char *message, int http_status,
                               int64_t retry_after_ms);

/* ---------------------------------------------------------------------------
** Routers
**
** A router holds the providers, the primary model and its fallbacks, and the
** retry, timeout, cooldown and rate-limit settings. One router may be used
** from many threads at once. With "shared_state" in the config, routers in
** many processes (and machines) share their cooldowns, rate limits and load
** through one Redis server. When Redis cannot be reached, the router goes on
** with its own state; no call fails because of Redis.
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
** config larger than 1 MiB or nested deeper than 256 levels, an unknown key or a value of the wrong type give
** MODELS_ERR_INVALID_ARGUMENT with a message naming the key
** (e.g. "config: unknown key \"providers.openai.apikey\" (did you mean
** \"api_key\"?)"). A syntax error gives its line and column, never the text
** around it. A key or token with a space at either end or a control
** character (a trailing newline) is refused, naming the key or its
** environment variable, never the value. Keys, tokens and the values of
** configured headers never appear in an error message or a log line. The
** config text is copied; the caller keeps ownership of `config_json`.
** Thread-safe. Free the router with models_router_free(). */
models_router *models_router_new(const char *config_json, models_error **err);

/* Frees a router. NULL does nothing. No call on the router may be running
** or start afterwards. */
void models_router_free(models_router *r);

/* Replaces the primary model and the fallbacks while requests may be in
** flight (hot reload): a request already running finishes with the models it
** started with. Each name is a model ("openai/gpt-4o") or the name of a group
** from the config's "model_groups". `fallbacks` is an array of `n_fallbacks`
** names (may be NULL when n_fallbacks is 0; at most 10000). The strings are copied. Returns
** MODELS_OK, or MODELS_ERR_INVALID_ARGUMENT for a NULL or malformed name or
** too many fallbacks, with a message naming the argument. Thread-safe. */
models_code models_router_set_models(models_router *r, const char *primary,
                                     const char *const *fallbacks, size_t n_fallbacks,
                                     models_error **err);

/* The health of each model, in routing order, without calling any API: a JSON
** array with one object per model. A group stands for its deployments, one
** object each, in config order; the deployments of groups that neither the
** primary nor the fallbacks name come last. Each object has:
**   "model", "provider"     the model (or deployment) and its provider
**   "group"                 the group it is a deployment of; absent otherwise
**   "available"             true when a call may go to it now
**   "reason"                only when not available: "provider not
**                           registered", "cooldown (42s remaining)" or "at its
**                           rpm limit of 500 requests a minute" (or tpm)
**   "in_flight"             calls to it in progress (a stream until it ends)
**   "latency_ms"            the moving average of the time to its answer (a
**                           stream: to its first word); absent before the
**                           first answer
**   "requests_this_minute"  attempts started in the last minute
**   "tokens_this_minute"    prompt plus completion tokens of its answers in
**                           the last minute (counted for deployments only)
**   "rpm", "tpm"            a deployment's limits; absent when not set
** With "shared_state", cooldowns, calls in flight and this minute's use
** include those of the other routers sharing the Redis server.
** Returns a new string the caller frees with models_free(); NULL for a NULL
** router. Thread-safe. */
char *models_router_health(models_router *r);

/* The registered provider names as a sorted JSON array of strings, e.g.
** ["anthropic","openai"]. Returns a new string the caller frees with
** models_free(); NULL for a NULL router. Thread-safe. */
char *models_router_providers(models_router *r);

/* The router's counters and latency histograms in the Prometheus text
** format (version 0.0.4), ready to serve on a /metrics endpoint. Per model,
** with a "group" label for a group's deployments: calls started
** (libmodels_requests_total), attempts, errors by kind (label "kind", as
** models_error_kind names them), retries, fallbacks, cooldowns started,
** prompt, completion and cached prompt tokens, the cost in US dollars of
** models with a price in the config's "prices" (libmodels_cost_usd_total),
** and histograms in seconds of call latency, attempt latency and, for
** streams, the time from the call's start to the first word
** (libmodels_time_to_first_token_seconds, by the model that answered; a
** chat answer's is its call latency). Tokens are counted for streams (from
** their usage at the end) and for chat answers whose usage the router
** reads: group deployments, models with a price, calls made while an event
** handler is set, and answers with "x_libmodels". A metric with no samples
** yet is left out. Counters start at zero with the router and never reset.
** Returns a new string the caller frees with models_free(); NULL for a NULL
** router. Thread-safe. */
char *models_router_metrics(models_router *r);

/* Receives one event: `event_json` is a JSON object of `len` bytes (plus a
** terminating NUL), lent for the duration of the call. */
typedef void (*models_event_fn)(void *user, const char *event_json, size_t len);

/* Sets the function that receives the router's events, one JSON object per
** thing the router does for a call; NULL removes it. `user` is passed back
** as given. Replaces any handler set before.
**
** Every event has "event" (its kind), "libmodels.call_id" (a number shared by
** the events of one call, unique within the router), "libmodels.time_unix_nano"
** (the wall clock), "gen_ai.operation.name" ("chat"; "embeddings" for
** models_embed()), "libmodels.stream"
** (true for streams) and, when the call's options have one,
** "libmodels.metadata" (the caller's object, as given). Names follow the
** OpenTelemetry GenAI conventions where one exists, so the events of a call
** can become a span and its events without renaming. The kinds, in the order
** a call reports them:
**
**   "call.start"       "gen_ai.request.model": the model or group tried first
**   "attempt.start"    "gen_ai.request.model", "gen_ai.provider.name",
**                      "libmodels.group" (a deployment's group),
**                      "libmodels.attempt" (1, 2, ... over the whole call),
**                      "libmodels.retry" (0 for the first attempt at a model)
**   "rate_limit.wait"  "libmodels.wait_ms" and "libmodels.limit": "provider"
**                      (the attempt waits for its provider's "rate_limits";
**                      with "gen_ai.provider.name") or "deployment" (every
**                      deployment left is at its "rpm" or "tpm" limit and
**                      the call waits for the first to free up)
**   "cooldown.wait"    "libmodels.wait_ms": every model is in cooldown and
**                      the call waits for the first (the config's
**                      "cooldown_wait_ms")
**   "hedge.start"      hedging (see models_chat_ex()): the same request also
**                      goes to "gen_ai.request.model" because
**                      "libmodels.hedge.from" sent no first word within
**                      "libmodels.hedge_after_ms"; an "attempt.start" follows
**   "hedge.end"        the attempt that did not answer is over:
**                      "libmodels.hedge.winner" ("first": the call's own
**                      attempt answered, "hedge": the hedge did, "none": this
**                      one failed and the other goes on alone),
**                      "gen_ai.response.model" (the winner),
**                      "libmodels.hedge.other_model" and "libmodels.hedge.other_ms"
**                      (the other attempt, how long it ran), the tokens it had
**                      reported (usually none: it is cancelled before its
**                      first word) and their "libmodels.cost_usd"; "error.type"
**                      when it failed
**   "first_token"      streams only, when the first word arrives (the stream
**                      opens then): "gen_ai.response.model",
**                      "libmodels.time_to_first_token_ms" from the call's
**                      start. A chat answer comes whole: it has none.
**   "attempt.end"      "libmodels.status" ("ok" or "error"), "error.type" (as
**                      models_error_kind()), "http.response.status_code",
**                      "libmodels.error.message", "libmodels.latency_ms" from
**                      the attempt's start; on success also
**                      "gen_ai.response.model", "gen_ai.usage.input_tokens",
**                      "gen_ai.usage.output_tokens",
**                      "gen_ai.usage.cache_read.input_tokens" (when some),
**                      "libmodels.cost_usd" (when the model has a price) and,
**                      for streams, "libmodels.time_to_first_token_ms" from
**                      the attempt's start
**   "retry"            "libmodels.delay_ms", "error.type": the same model is
**                      tried again after that delay
**   "stream.resume"    "gen_ai.request.model", "libmodels.resume" (1 for the
**                      first), "libmodels.delivered_bytes", "error.type",
**                      "libmodels.error.message": a stream broke after its
**                      first word and is resumed ("stream_recovery"); an
**                      "attempt.end" with the error, then a "retry" or
**                      "fallback", follow
**   "cooldown.start"   "gen_ai.request.model", "libmodels.cooldown_ms"
**   "cooldown.end"     "gen_ai.request.model": an answer from a model cleared
**                      the failures that had cooled it down (a cooldown that
**                      merely expires reports nothing)
**   "fallback"         "libmodels.fallback.from", "libmodels.fallback.to",
**                      "error.type" (why the first model was left)
**   "call.end"         "libmodels.status", "libmodels.attempts",
**                      "libmodels.latency_ms" from the call's start; on
**                      success "gen_ai.response.model", the usage, the cost and
**                      (streams) "libmodels.time_to_first_token_ms"; on
**                      failure "error.type", "http.response.status_code" and
**                      "libmodels.error.message"
**
** A stream's successful "attempt.end" and its "call.end" come when the stream
** ends (its last chunk, an error, or models_stream_close()), on the thread
** that ends it, with its usage; a stream that fails after it opened reports
** "libmodels.status": "error". "cooldown.end" comes just before the
** "attempt.end" of the answer that cleared the cooldown.
** New kinds and members may be added; ignore the ones you do not know.
**
** The handler is called on the thread making the call, so several threads
** may call it at once, and it delays that call by the time it takes (and
** nothing else: other calls go on). For asynchronous calls
** (models_chat_async(), models_stream_async()) that thread is the one running
** models_engine_process(), so a slow handler delays every call of that
** engine. Keep it short, or queue the event. A
** call reads whether a handler is set when it starts: one started without a
** handler reports nothing, and costs nothing extra; with a handler, a chat
** answer's usage is read for the events.
**
** When this function returns, the previous handler is no longer called and
** no call of it is running on another thread, so its `user` may be freed.
** Called from inside a handler (a handler removing itself), it cannot wait
** for the others and returns at once. Do not call models_router_free() from
** a handler. Returns MODELS_OK, or MODELS_ERR_INVALID_ARGUMENT for a NULL
** router. */
models_code models_router_set_event_handler(models_router *r, models_event_fn fn, void *user);

/* ---------------------------------------------------------------------------
** Chat
**
** A request is an OpenAI Chat Completions request object:
**
**   {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 100}
**
** "model" is optional: absent (or equal to the primary), the router tries the
** primary, then each fallback; naming another model ("openai/gpt-4o-mini")
** sends the request to that model alone, and naming a group of the config's
** "model_groups" sends it to that group's deployments alone. Every other
** field ("temperature", "tools", "response_format", vendor extensions...)
** reaches an OpenAI-compatible provider unchanged, as a rule byte for byte
** as you wrote it (spacing and the spelling of numbers included): the library
** replaces only "model", and "stream" and "stream_options" as the call needs
** them.
** (A request that repeats one of those three, spells a top-level key with
** escapes, contains "\u0000" or streams with a "stream_options" object of its
** own is rewritten as compact JSON holding the same values.) For Anthropic the
** request is translated.
**
** How failures are reported: when a single model was tried, its own error
** (MODELS_ERR_API with the HTTP status and Retry-After, MODELS_ERR_TRANSPORT,
** MODELS_ERR_TIMEOUT, MODELS_ERR_PROTOCOL); when several were tried,
** MODELS_ERR_ALL_FAILED, whose message lists each model and why and whose
** status and Retry-After are the last failure's; when every model is cooling
** down, or every deployment of a group is at its "rpm" or "tpm" limit for
** longer than the call's timeout_ms allows, MODELS_ERR_ALL_COOLDOWN, whose
** message says which and whose models_error_retry_after_ms() is the time
** until the first model is available again; when no model's provider is
** registered, MODELS_ERR_NO_PROVIDER. A request that is not valid JSON (UTF-8 included),
** not an object, whose "messages" is not an array of objects, whose "model"
** is neither a string nor null, or that is larger than 32 MiB is
** MODELS_ERR_INVALID_ARGUMENT, with a message that says which. So is JSON
** nested deeper than 256 levels (arrays and objects, JSON Schemas of tools
** included), which keeps the library within a 64 KiB thread stack; an
** answer or chunk from a provider nested that deep is MODELS_ERR_PROTOCOL.
*/

/* Sends a request and waits for the complete answer. On MODELS_OK,
** *response_json is a new string (free it with models_free()) holding a
** "chat.completion" object whose "model" is the full name of the model that
** answered ("openai/gpt-4o"; for a group, the deployment that answered),
** whatever name the provider reported. Stream chunks and
** models_stream_model() name the model the same way. On failure
** *response_json is NULL and the code (and *err) say why. Blocks the calling
** thread, which does the network work itself (no thread is created); bounded
** by the router's timeout_ms per model. An answer over max_response_bytes is
** MODELS_ERR_PROTOCOL.
** With "x_libmodels" set (in the config, or a call's options), the answer has
** one more member: "x_libmodels": {"model", "attempts", "latency_ms",
** "cost_usd"} (the model that answered, attempts made, time from the call's
** start, and the cost when the config's "prices" has the model); streams
** report the same in their events only.
** Thread-safe: any number of threads may call it on one router. */
models_code models_chat(models_router *r, const char *request_json,
                char **response_json, models_error **err);

/* Called once per chunk of a stream: `chunk_json` is one
** "chat.completion.chunk" object, `len` bytes long and NUL-terminated, lent
** for the duration of the call. An OpenAI-compatible provider's chunks reach
** you byte for byte as it sent them, except for "model"; Anthropic's are
** translated. Every chunk's "model" is the full name of the model that
** answered ("anthropic/claude-sonnet-4-6"), as in models_chat()'s answer:
** the library puts it in place of the provider's value, or adds it first
** when a chunk has none (the openai SDK requires it). Return 0 to go on,
** non-zero to stop the stream at once (the stream call then returns
** MODELS_ERR_CANCELLED). */
typedef int (*models_chunk_fn)(void *user, const char *chunk_json, size_t len);

/* Called with a piece of the model's thinking (Anthropic extended thinking, or
** "reasoning_content" from an OpenAI-compatible server): `len` bytes of UTF-8,
** NOT NUL-terminated, lent for the duration of the call. */
typedef void (*models_text_fn)(void *user, const char *text, size_t len);

/* Sends a request as a stream and calls `on_chunk` for every chunk as it
** arrives, on the calling thread, until the stream ends. `on_thinking` may be
** NULL; `user` is passed to both. Returns MODELS_OK once the provider's stream
** ended properly, MODELS_ERR_CANCELLED when `on_chunk` asked to stop, and an
** error code otherwise; chunks delivered before an error stay delivered.
** Retries and fallbacks happen until the stream's first word: a stream that
** fails after the provider accepted it but before any text, tool call or
** reasoning arrived is retried and falls back like a failed request, and
** `on_chunk` sees only the stream that answered. Chunks before the first
** word (the role, empty deltas) are held back until it comes. After the
** first word the stream is its provider's. `on_chunk` must not
** be NULL. Thread-safe, as models_chat(). */
models_code models_chat_stream(models_router *r, const char *request_json,
                               models_chunk_fn on_chunk, models_text_fn on_thinking,
                               void *user, models_error **err);

/* ---------------------------------------------------------------------------
** Pull streams
**
** The same stream as models_chat_stream(), read one chunk per call. A stream
** handle is used by one thread at a time, except models_stream_cancel(),
** which any thread may call while the stream is open.
*/

typedef struct models_stream models_stream;

/* Sends a request as a stream and returns once a provider has accepted it
** and sent the first word of its answer (text, a tool call or reasoning), or
** ended its stream: retries and fallbacks are over by then, and a stream that
** failed before its first word was one more failed attempt. The chunks that
** came before the first word are the first models_stream_next() returns.
** Returns the stream, or NULL on failure with
** *err set (the same codes as models_chat()). Close it with
** models_stream_close(). Thread-safe. */
models_stream *models_stream_open(models_router *r, const char *request_json, models_error **err);

/* Reads the next chunk. Returns MODELS_OK with *chunk_json pointing to one
** "chat.completion.chunk" object of *len bytes, NUL-terminated and lent until
** the next call on this stream (or its close), whose "model" is
** models_stream_model() (see models_chunk_fn); MODELS_DONE at the end of the
** stream (*chunk_json is NULL); or an error code: MODELS_ERR_PROTOCOL for a
** stream that ended before its terminator or sent malformed data,
** MODELS_ERR_API for an error event inside the stream, MODELS_ERR_TIMEOUT when
** the stream completed no event for stream_idle_timeout_ms (keep-alive
** comments and pings do not count) or ran past stream_timeout_ms,
** MODELS_ERR_CANCELLED after
** models_stream_cancel(). After an error, every later call returns the same
** error. `len` may be NULL. */
models_code models_stream_next(models_stream *s, const char **chunk_json, size_t *len,
                               models_error **err);

/* Sets the callback that receives thinking text while models_stream_next()
** reads the stream (NULL removes it). Call it before reading. */
void models_stream_on_thinking(models_stream *s, models_text_fn fn, void *user);

/* The token usage the stream reported so far: prompt (input) and completion
** (output) tokens; 0 when the provider has not reported them (yet). Either
** out-pointer may be NULL. Complete once the stream is done. */
void models_stream_usage(const models_stream *s, int64_t *input_tokens, int64_t *output_tokens);

/* The full name of the model that answered ("anthropic/claude-sonnet-4-6";
** for a group, the deployment that answered): the "model" of every chunk of
** the stream. Lent until models_stream_close(). NULL for a NULL stream. */
const char *models_stream_model(const models_stream *s);

/* Cancels the stream from any thread: a models_stream_next() in progress or
** to come returns MODELS_ERR_CANCELLED promptly (within milliseconds), and the
** connection is closed. Safe to call more than once; must not be called once
** models_stream_close() has begun. */
void models_stream_cancel(models_stream *s);

/* Reads the rest of the stream and returns its text: the "delta.content"
** pieces of choice 0 joined. On MODELS_OK *text is a new string the caller
** frees with models_free(); on failure *text is NULL. A text longer than the
** config's max_response_bytes (10 MiB by default) stops the stream with
** MODELS_ERR_PROTOCOL. */
models_code models_stream_collect(models_stream *s, char **text, models_error **err);

/* Closes the stream and frees it; an unfinished stream's connection is
** closed. NULL does nothing. */
void models_stream_close(models_stream *s);

/* ---------------------------------------------------------------------------
** Streams that resume after a break
**
** With the config key "stream_recovery": "resume" (or the same key in a
** call's options), a stream that breaks after its first word is not ended
** with an error. A break is a reset connection, a body that ends without its
** terminator ("[DONE]" or "message_stop"), a malformed event, an error event
** (except a refusal: auth, content policy, context window, bad request), or
** stream_idle_timeout_ms without an event. The router then retries the same
** model (with backoff, Retry-After honoured, within max_retries) or moves on
** through the fallbacks, asking the model to continue the answer it had
** started:
**
** - Anthropic: the text delivered so far is sent as a trailing assistant
**   message (without its trailing whitespace), which the model continues.
** - Providers whose models accept an assistant message with "prefix": true
**   (provider key "assistant_prefix": true, or a list of model ids; on by
**   default for providers named "deepseek" and "mistral"): that.
** - Any other provider: the text as an assistant message, then a user
**   message asking to continue without repeating. What the answer repeats of
**   the end of the delivered text (up to 512 bytes, at least 4 unless it is
**   the whole text) is removed before delivery.
**
** The caller's stream goes on where it stopped: every byte of
** "delta.content" is delivered once, in order, in ordinary chunks; the new
** attempt's role and reasoning ("reasoning_content", thinking) are not
** delivered again. A tool call whose id and name were delivered but none of
** its arguments is restarted by the new attempt under the same index, id and
** name. A break after part of a tool call's arguments (or after a complete
** tool call) cannot be resumed: the stream ends with MODELS_ERR_PROTOCOL,
** whose message says so. A break after the finish_reason chunk ends the
** stream normally (the answer is complete). The bounds are the call's:
** max_retries per model, the fallbacks, stream_timeout_ms. Each resume is an
** "info" log line and a "stream.resume" event ("libmodels.resume": its
** number, "libmodels.delivered_bytes", the error).
**
** A stream that was resumed ends with one more chunk, with "choices": [] and
**
**     "usage": the tokens of every attempt, summed
**     "x_libmodels": {"resumed": {"count": N, "parts": [
**         {"model": "openai/gpt-4o", "content_bytes": 120, "ended_by": "transport"},
**         {"model": "openai/gpt-4o", "content_bytes": 80}]}}
**
** (the models that answered, in order, the bytes of text each delivered and
** the kind of error that broke each part but the last). models_stream_usage()
** is the same sum. A stream that was not resumed is unchanged. The chunks
** of the attempts after the first carry their own "id" and "model". Every
** chunk is parsed while "resume" is on (a few microseconds per chunk).
*/

/* How many times a pull stream was resumed so far; 0 when it was not (or for
** NULL). A stream with hedging on (see "hedge_after_ms") reports its resumes
** only in its last chunk: this returns 0 for it. A stream the hedge answered
** is not resumed: a break after its first word ends it with the error. */
int models_stream_resumes(const models_stream *s);

/* The "resumed" object above for a pull stream, as JSON text the caller frees
** with models_free(); NULL when it was not resumed. models_stream_model()
** stays the first part's model. */
char *models_stream_resumed(const models_stream *s);

/* ---------------------------------------------------------------------------
** Calls with options
**
** models_chat(), models_chat_stream() and models_stream_open() use the
** router's settings and cannot be interrupted. Their _ex forms take two more
** arguments, either of which may be NULL:
**
** - `options_json`, a JSON object that changes this call only. Every key is
**   optional:
**
**     "timeout_ms"              each model's time limit, retries included
**                               (1 to 86400000; default: the config's)
**     "max_retries"             retries per model (0 to 100)
**     "fallbacks"               ["provider/model", ...] tried in place of the
**                               configured fallbacks, after the model that
**                               leads; [] turns fallbacks off for this call
**     "stream_idle_timeout_ms"  as the config keys of the same names
**     "stream_timeout_ms"
**     "stream_recovery"         "off" or "resume" (see "Streams that resume
**                               after a break")
**     "extra_headers"           {"Name": "value", ...} sent with every
**                               attempt; a header the library also sets
**                               (Authorization, x-api-key, ...) is replaced.
**                               Values are kept out of logs and messages like
**                               keys. Host, Content-Length,
**                               Transfer-Encoding, Connection and Expect
**                               cannot be set.
**     "extra_query"             {"name": "value", ...} added to the URL of
**                               every attempt, percent-encoded by the library
**                               (strings, numbers or booleans)
**     "metadata"                any JSON object: the router does not read it;
**                               it is handed back in the call's events
**                               (models_router_set_event_handler())
**     "x_libmodels"             true: the chat answer gets an "x_libmodels"
**                               member saying how it was obtained (see
**                               models_chat()); false: it does not, whatever
**                               the config's "x_libmodels" says
**     "hedge_after_ms"          hedging for this call, as the config key of
**                               the same name (0 to 3600000; 0 turns it off
**                               for this call)
**
**   An unknown key, a wrong type or a number out of range is
**   MODELS_ERR_INVALID_ARGUMENT with a message that names the key (and the
**   key you probably meant); nothing is sent. Options never reach the
**   provider's request body: put body fields in request_json. Custom
**   providers (models_router_add_provider) receive no extra headers or
**   query parameters.
**
** - `call`, a cancellation token: another thread may interrupt the call with
**   models_call_cancel() (a signal handler's flag polled by a watcher thread,
**   an asyncio task being cancelled, a UI button).
**
** Hedging ("hedge_after_ms" in the config or the options): when a model has
** sent no first word within that many milliseconds of its request (a stream:
** no content, tool call or thinking yet; a chat: no answer yet, as a chat
** answer comes whole), the same request also goes to the next candidate: the
** next deployment of its group, else the next fallback that can take it now
** (not one in cooldown or at its rate limit; a hedge never waits). The first
** of the two to send its first word answers the call; the other is cancelled
** at once and its connection closed, not reused. At most one hedge per call.
** When one of the two fails, the other goes on alone; when both fail, the
** call goes on as after any failure (retries, fallbacks), without trying the
** hedge's model again. You see one answer or one stream, from the model that
** won (the answer's "model", models_stream_model()). The events
** "hedge.start" and "hedge.end" and the log say what the hedge cost.
**
** A hedged call of these blocking functions runs on an engine of its own
** (see "The engine") that your thread drives until the call is over: no
** thread is created, and chunk and thinking callbacks still run on your
** thread, between reads, never inside the library's network callbacks, as
** for an unhedged call. models_call_cancel() and models_stream_cancel() stop
** both attempts. A pull stream (models_stream_open_ex()) is driven by
** models_stream_next(), on whichever thread calls it.
*/

typedef struct models_call models_call;

/* Creates a cancellation token for calls. Returns NULL only when out of
** memory. Free it with models_call_free() once no call uses it. */
models_call *models_call_new(void);

/* Cancels every call made with `call`, from any thread: a call in progress
** returns MODELS_ERR_CANCELLED promptly (its transfer is aborted, a backoff
** wait is cut short), and a call started later with the same object returns
** MODELS_ERR_CANCELLED at once. Cannot be undone. NULL does nothing. */
void models_call_cancel(models_call *call);

/* 1 once models_call_cancel() was called on `call`, else 0. */
int models_call_is_cancelled(const models_call *call);

/* Frees a call object. NULL does nothing. No call may be using it. */
void models_call_free(models_call *call);

/* models_chat() with per-call options (NULL: the router's settings) and a
** cancellation token (NULL: not cancellable). Bad options are
** MODELS_ERR_INVALID_ARGUMENT before anything is sent. Thread-safe; one
** options string and one `call` may serve many calls at once. */
models_code models_chat_ex(models_router *r, const char *request_json, const char *options_json,
                           models_call *call, char **response_json, models_error **err);

/* models_chat_stream() with per-call options and a cancellation token, as
** models_chat_ex(). */
models_code models_chat_stream_ex(models_router *r, const char *request_json, const char *options_json,
                                  models_call *call, models_chunk_fn on_chunk,
                                  models_text_fn on_thinking, void *user, models_error **err);

/* models_stream_open() with per-call options and a cancellation token, as
** models_chat_ex(). The stream it returns is cancelled by
** models_call_cancel() as well as by models_stream_cancel(). */
models_stream *models_stream_open_ex(models_router *r, const char *request_json,
                                     const char *options_json, models_call *call,
                                     models_error **err);

/* ---------------------------------------------------------------------------
** Cooldowns
**
** A model that still fails transiently after its retries is skipped for
** base x multiplier^(failures-1), capped at max; a success clears it;
** permanent errors (400, 401, 403, 404, 422) never cool a model down. An
** expired cooldown keeps its failure count, so the next failure escalates,
** until the model has gone `max` without failing. The "cooldown" config key
** gives a router its own tracker; a tracker made here can be shared by
** several routers. Every function is thread-safe and accepts NULL (doing
** nothing, or reporting the model available).
*/

typedef struct models_cooldown models_cooldown;

/* Creates a tracker. Values <= 0 take the defaults: base 60000 ms, max
** 3600000 ms, multiplier 5 (a multiplier below 1 counts as 1). Free it with
** models_cooldown_free(). */
models_cooldown *models_cooldown_new(int64_t base_ms, int64_t max_ms, double multiplier);

/* Records a failure of `model` (a full name), starting or extending its cooldown. */
void models_cooldown_record_failure(models_cooldown *c, const char *model);

/* Records a success of `model`: its cooldown and failure count are cleared. */
void models_cooldown_record_success(models_cooldown *c, const char *model);

/* 1 when `model` is not cooling down, else 0. */
int models_cooldown_is_available(models_cooldown *c, const char *model);

/* Milliseconds left in `model`'s cooldown; 0 when it is available. */
int64_t models_cooldown_remaining_ms(models_cooldown *c, const char *model);

/* The models of `models_json_array` (a JSON array of names) that are
** available, in the same order, as a JSON array. Returns a new string the
** caller frees with models_free(), or NULL when the input is NULL or not a
** JSON array of strings. */
char *models_cooldown_available_from(models_cooldown *c, const char *models_json_array);

/* Clears `model`'s state, as if it had never failed. */
void models_cooldown_reset(models_cooldown *c, const char *model);

/* Clears every model's state. */
void models_cooldown_reset_all(models_cooldown *c);

/* Forgets models whose cooldown ended long enough ago (max) that they would
** start afresh anyway, so the tracker does not grow with every model ever
** seen. Never changes an answer. */
void models_cooldown_gc(models_cooldown *c);

/* Releases the caller's reference. Routers using the tracker keep it alive
** until they drop it, so this is safe while they run. NULL does nothing. */
void models_cooldown_free(models_cooldown *c);

/* Makes the router use tracker `c` (shared: the router takes its own
** reference) instead of its own; NULL turns cooldowns off. Returns MODELS_OK,
** or MODELS_ERR_INVALID_ARGUMENT for a NULL router. Thread-safe. */
models_code models_router_set_cooldown(models_router *r, models_cooldown *c);

/* ---------------------------------------------------------------------------
** Providers written in C
**
** Register callbacks under a provider name and the router routes, retries,
** falls back and cools down for it exactly as for a built-in provider.
** Requests and answers are JSON in the OpenAI Chat Completions shape; the
** request's "model" is the model id (the part after "name/"). Callbacks may be
** called from several threads at once. To fail, a callback returns a negative
** models_code and may set *err to an error from models_error_new() (the
** library takes it over), so the router can classify it (the callbacks return
** models_code values as int): MODELS_ERR_API with a status for which
** models_status_is_transient() is 1, or MODELS_ERR_TRANSPORT /
** MODELS_ERR_TIMEOUT, are retried; others are not.
**
** Structs the caller fills in (models_provider_callbacks, models_token_source,
** models_token_callbacks)
** begin with `size`, which the caller sets to sizeof the struct, so a later
** version of the library can add members without breaking compiled programs.
** The library refuses, with MODELS_ERR_INVALID_ARGUMENT, a size it does not
** know: smaller than the struct's first version, or larger than the struct of
** the library's own version (a program built against a newer header). Zero
** the struct, then set size and the callbacks:
**   models_provider_callbacks cb = {0};
**   cb.size = sizeof cb;
**   cb.chat = my_chat;
*/

typedef struct models_provider_callbacks {
    /* Required. sizeof(models_provider_callbacks), set by the caller. */
    size_t size;
    /* Required. Answers a request: on MODELS_OK, *response_json is a
    ** "chat.completion" object as a NUL-terminated string allocated with
    ** malloc(); the library frees it with free(). Its "model" may be
    ** anything or absent: the caller gets the full name ("myprov/m1"). */
    int (*chat)(void *user, const char *model_id, const char *request_json,
                char **response_json, models_error **err);
    /* Optional (NULL if the provider does not stream). Starts a stream and
    ** sets *stream to the provider's own handle. */
    int (*stream_open)(void *user, const char *model_id, const char *request_json,
                       void **stream, models_error **err);
    /* Required with stream_open. Returns MODELS_OK with the next
    ** "chat.completion.chunk" object in *chunk_json (NUL-terminated, *len
    ** bytes, owned by the provider until the next call), MODELS_DONE at the
    ** end, or an error. A chunk with "usage" reports the token counts. As
    ** in answers, "model" may be anything or absent: the library sets it. */
    int (*stream_next)(void *user, void *stream, const char **chunk_json, size_t *len,
                               models_error **err);
    /* Optional. Releases a stream handle; called once per opened stream. */
    void (*stream_close)(void *user, void *stream);
    /* Optional. Called once with `user` when the router drops the provider
    ** (router freed, or the name registered again). */
    void (*destroy)(void *user);
} models_provider_callbacks;

/* Registers (or replaces) the provider `name` (no '/'), served by `callbacks`
** with `user`. The callbacks table is copied. Returns MODELS_OK, or
** MODELS_ERR_INVALID_ARGUMENT for a NULL router or table, a size the library
** does not know (see above; with this header, any size but
** sizeof(models_provider_callbacks)), a NULL chat callback, stream_open
** without stream_next, or a bad name. Thread-safe. */
models_code models_router_add_provider(models_router *r, const char *name,
                                       const models_provider_callbacks *callbacks, void *user,
                                       models_error **err);

/* ---------------------------------------------------------------------------
** GitHub Copilot
**
** The provider "github-copilot" (also the provider of every model named
** without a '/', e.g. "gpt-4.1") speaks OpenAI Chat Completions at
** {api_url}/chat/completions (no "/v1"), over HTTP/1.1, with VS Code's headers
** (Editor-Version, Editor-Plugin-Version, Openai-Intent: conversation-edits,
** Copilot-Integration-Id: vscode-chat). Every request asks a token source for
** a Copilot API token and the API URL that goes with it.
**
** Two token sources exist. The built-in one is configured in the router's
** config: {"providers": {"github-copilot": {"github_token_env": "GITHUB_TOKEN"}}}
** (or "github_token"; "token_url" overrides
** https://api.github.com/copilot_internal/v2/token). It exchanges the GitHub
** token for a Copilot token, keeps it until 60 s before it expires and, when
** many threads need a new one at once, exchanges only once while the others
** wait. A 401/403 from the exchange fails with MODELS_ERR_API, that status and
** a message saying the GitHub token was refused; it is not retried.
**
** The other is the program's own: a token source written in C, below.
*/

/* A token source written in C. The callbacks return 0 (MODELS_OK) on success
** or a negative models_code on failure, and may then set *err to an error from
** models_error_new() (the library takes it over and frees it). Whatever the
** code, a failure fails the request with a permanent (not transient) error
** whose message begins "github-copilot: the token source failed" and goes on
** with the error's message; the code and HTTP status are the error's (or the
** returned code's; a value that is not a negative models_code gives
** MODELS_ERR_API). The router does not retry it but falls back to the next
** model, except after MODELS_ERR_INVALID_ARGUMENT, MODELS_ERR_NOMEM or
** MODELS_ERR_CANCELLED, which end the call as they do for any provider.
**
** For every request, on the requesting thread: get_token, then get_api_url.
** Several threads may call them at once, so they must be thread-safe; a source
** that caches a token should refresh it under its own lock. Strings they return
** are NUL-terminated, allocated with malloc(), and freed by the library with
** free() (also on failure, if set). */
typedef struct models_token_source {
    /* Required. sizeof(models_token_source), set by the caller. */
    size_t size;
    /* Required. Sets *token to a Copilot API token (visible ASCII, no spaces,
    ** at most 16 KiB); it is sent as "Authorization: Bearer <token>". */
    int (*get_token)(void *user, char **token, models_error **err);
    /* Optional (NULL: "https://api.individual.githubcopilot.com"). Sets
    ** *api_url to the API base URL that goes with the token just returned
    ** (Copilot's token answer says it in "endpoints.api"): an http:// or
    ** https:// URL without "/chat/completions"; a trailing '/' is ignored. */
    int (*get_api_url)(void *user, char **api_url, models_error **err);
    /* Optional. Called once with `user` when the router drops the provider
    ** (router freed, or the provider registered again) and no request still
    ** uses it. */
    void (*destroy)(void *user);
} models_token_source;

/* Registers (or replaces) the provider "github-copilot" on `r`, served by the
** token source `source` with `user` (for a router the program configured
** itself, or instead of the config's github_token). The table is copied.
** Returns MODELS_OK, or MODELS_ERR_INVALID_ARGUMENT for a NULL router or
** source, a size the library does not know (with this header, any size but
** sizeof(models_token_source)) or a NULL get_token; on failure the library
** keeps nothing and never calls destroy. A provider it replaces is released once its requests end.
** Thread-safe: requests may be running on the router. */
models_code models_router_add_copilot(models_router *r, const models_token_source *source, void *user,
                                      models_error **err);

/* ---------------------------------------------------------------------------
** Token sources for any provider
**
** A program can give any provider of the config (OpenAI-compatible,
** anthropic, azure, github-copilot) its key or token from a function instead
** of the config: an Azure Entra ID token, an OAuth token, a gateway's
** short-lived token, a key that rotates. The library asks the function for a
** token when it has none that is fresh, keeps the token until 60 s before the
** expiry the function reports (not at all when it reports none), and when
** many requests need a new token at once it calls the function once while the
** others wait for that token. A provider that answers HTTP 401 makes the
** library drop the token it refused: the next request asks for a new one (the
** request that got the 401 fails, or falls back, as for any 401).
**
** What the token replaces, by the provider's type, with send_as:
**   MODELS_TOKEN_BEARER (0)   "Authorization: Bearer <token>" for every type;
**                             azure sends no "api-key", anthropic no
**                             "x-api-key" (an Entra ID or OAuth token)
**   MODELS_TOKEN_API_KEY (1)  where the type sends its key: "Authorization:
**                             Bearer" (openai), "x-api-key" (anthropic),
**                             "api-key" (azure)
** The config's api_key, api_key_env and an "api-key" among an azure provider's
** headers are then not sent. github-copilot sends the token as its Copilot
** token to its base_url (default https://api.individual.githubcopilot.com).
**
** get_token is called on a thread that needs a token: the requesting thread,
** or one of an engine's worker threads (asynchronous calls never wait for it
** on the engine's thread). It is never called by two threads at once for one
** source, but it must not assume which thread calls it. It returns 0
** (MODELS_OK) or a negative models_code, and may then set *err to an error from
** models_error_new() (the library takes it over). A failure fails the request
** with an error of kind "auth" that is not retried on the same model (the
** router falls back), whose message begins "<provider>: the token source
** failed: " and goes on with the error's message, and whose code and status are
** the error's (or the returned code's; a value that is not a negative
** models_code gives MODELS_ERR_API). MODELS_ERR_INVALID_ARGUMENT,
** MODELS_ERR_NOMEM and MODELS_ERR_CANCELLED keep their kind and end the call.
** A token that is empty, longer than 16 KiB, or holds a space, a control
** character (CR, LF) or a non-ASCII byte is refused the same way (kind "auth",
** MODELS_ERR_PROTOCOL). The token never appears in an error message or a log
** line.
**
** Zero the struct, then set size and the callbacks, as for
** models_provider_callbacks:
**   models_token_callbacks cb = {0};
**   cb.size = sizeof cb;
**   cb.get_token = my_get_token;
*/

enum {
    MODELS_TOKEN_BEARER = 0,
    MODELS_TOKEN_API_KEY = 1
};

typedef struct models_token_callbacks {
    /* Required. sizeof(models_token_callbacks), set by the caller. */
    size_t size;
    /* Required. Sets *token to a token (NUL-terminated, allocated with
    ** malloc(); the library frees it with free(), also on failure) and
    ** *expires_at to the time it expires in Unix seconds, or leaves
    ** *expires_at at 0 when it does not know (the token then serves one
    ** request and is not kept). An expiry that is not between 1970 and 9999
    ** counts as unknown. */
    int (*get_token)(void *user, char **token, int64_t *expires_at, models_error **err);
    /* Optional. Called once with `user` when the router drops the provider
    ** (router freed, or another token source set) and no request still uses it. */
    void (*destroy)(void *user);
    /* MODELS_TOKEN_BEARER (0, the default) or MODELS_TOKEN_API_KEY; see above. */
    int send_as;
} models_token_callbacks;

/* Serves the provider `provider` (a name from the config's "providers", or a
** known provider such as "openai" that the config does not name) with its key
** or token from `source` with `user`, instead of the config and the
** environment. The table is copied. The provider registered under that name
** is replaced (requests already running finish with it); its base_url,
** headers and type stay as configured. Returns MODELS_OK, or
** MODELS_ERR_INVALID_ARGUMENT for a NULL router, provider or source, a size
** the library does not know (with this header, any size but
** sizeof(models_token_callbacks)), a NULL get_token, an unknown send_as, or a
** provider that is neither in the config nor known; on failure the library
** keeps nothing and never calls destroy. Thread-safe: requests may be running
** on the router. */
models_code models_router_set_token_source(models_router *r, const char *provider,
                                           const models_token_callbacks *source, void *user,
                                           models_error **err);

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

/* ---------------------------------------------------------------------------
** The engine: many calls at once on one thread
**
** An engine runs chat and stream calls without blocking and without a thread
** per call: thousands can be in flight on one thread. The calls route as the
** blocking ones do (retries with backoff, fallbacks, cooldowns, rate limits,
** timeouts, a stream's fallback until its first word), with timers instead of
** waits. OpenAI-compatible providers, Anthropic and GitHub Copilot run on an
** engine (fetching a Copilot token with the config's github_token or a
** models_token_source, about every half hour, holds the engine's thread while
** it lasts; a models_router_set_token_source() function is called on a worker
** thread of the engine, below, when no fresh token is at hand). A provider added with models_router_add_provider()
** blocks until it answers, so the engine calls its functions on worker
** threads of its own (made when needed, at most 32 per engine; a call past
** that waits its turn): they must be thread-safe, as for the blocking calls.
** A call that times out or is cancelled while its provider function runs ends
** at once; what the function returns later is dropped.
**
** Two ways to drive it, as with libcurl's multi_socket API:
**
** - In your own event loop: watch models_engine_fd() for readability (poll,
**   epoll, libuv, asyncio's add_reader) and call models_engine_process(e, 0)
**   when it is readable. Every callback runs inside models_engine_process(),
**   on the thread that called it.
**
** - On a thread of the engine's own: models_engine_start_thread(). Every
**   callback then runs on that thread.
**
**     models_engine *e = models_engine_new(r, &err);
**     models_chat_async(e, request, NULL, NULL, on_done, &state, &err);
**     while (models_engine_calls(e) > 0) models_engine_process(e, -1);
**     models_engine_free(e);
**
** Callbacks run on the engine's thread, one at a time. They may start more
** calls and cancel calls, but must not call models_engine_process() or
** models_engine_free(), and should return quickly: every other call waits
** while one runs.
*/

typedef struct models_engine models_engine;

/* Receives the end of an asynchronous call, exactly once. `code` is MODELS_OK
** or the error's code. For a chat, `response_json` is the answer (as
** models_chat() returns it); for a stream, and on error, it is NULL. `err` is
** the error (NULL on success). Both are lent: they live until the callback
** returns; copy what you keep (never free them). */
typedef void (*models_done_fn)(void *user, models_code code, const char *response_json, const models_error *err);

/* Creates an engine that routes with `r`. The engine keeps its own reference
** to the router: models_router_free() may come first. Returns NULL (and *err)
** when out of descriptors or memory, or when `r` is NULL. Thread-safe. */
models_engine *models_engine_new(models_router *r, models_error **err);

/* Frees an engine: stops its thread (when it has one), then ends every call
** still in flight with MODELS_ERR_CANCELLED, calling their on_done on this
** thread before returning. NULL does nothing. Not from a callback, and not
** twice. */
void models_engine_free(models_engine *e);

/* A descriptor that turns readable whenever models_engine_process() has work:
** data on a connection, a timer due (a backoff ends, a timeout), a call
** submitted or cancelled from another thread. Watch it for reading only; do
** not read it or close it. It lives as long as the engine. -1 for NULL. */
int models_engine_fd(const models_engine *e);

/* Does everything that is ready, waiting up to `timeout_ms` for something to
** be (0: do not wait; -1: wait until something is), and calls the callbacks
** of the calls concerned on this thread. Returns how many calls finished, or
** MODELS_ERR_INVALID_ARGUMENT for NULL, from inside a callback, or once the
** engine has its own thread. One thread at a time. */
int models_engine_process(models_engine *e, int timeout_ms);

/* How many calls are in flight: started and their on_done not yet returned.
** Any thread. 0 for NULL. */
int models_engine_calls(const models_engine *e);

/* Gives the engine a thread of its own that processes until
** models_engine_free(); callbacks run there. MODELS_ERR_INVALID_ARGUMENT when it
** has one already, MODELS_ERR_NOMEM when no thread can be created. */
models_code models_engine_start_thread(models_engine *e, models_error **err);

/* Starts a chat call on the engine, with the request JSON and the per-call
** options of models_chat_ex() (NULL: the router's settings) and an optional
** cancellation token (models_call_cancel() ends the call with
** MODELS_ERR_CANCELLED; a token may serve many calls). Returns MODELS_OK and
** calls `on_done` exactly once later, on the engine's thread; or returns an
** error (a NULL or invalid request, bad options, a bad "model" name) and never
** calls it. Any thread. */
models_code models_chat_async(models_engine *e, const char *request_json, const char *options_json,
                              models_call *call, models_done_fn on_done, void *user, models_error **err);

/* Starts a stream call, as models_chat_async(): `on_chunk` receives each chunk
** as models_chat_stream() does (lent; non-zero stops the stream, which then
** ends with MODELS_ERR_CANCELLED), `on_thinking` (may be NULL) the thinking
** text, and `on_done` the end (response_json is NULL). Chunks before the
** first word are held back, so a stream that fails before it is retried or
** falls back unseen; after it, an error ends the call. */
models_code models_stream_async(models_engine *e, const char *request_json, const char *options_json,
                                models_call *call, models_chunk_fn on_chunk, models_text_fn on_thinking,
                                models_done_fn on_done, void *user, models_error **err);

/* ---------------------------------------------------------------------------
** Embeddings
**
** A request is an OpenAI embeddings request object:
**
**   {"model": "openai/text-embedding-3-small", "input": ["first", "second"]}
**
** "input" is a string, an array of strings, an array of tokens (integers) or
** an array of arrays of tokens; strings and token arrays must not be empty.
** "encoding_format" ("float" or "base64"), "dimensions" (a positive integer),
** "user" and any other field reach the provider unchanged; the answer, a
** base64 one included, comes back as the provider sent it. "model" is routed
** as for chat: absent, the primary and its fallbacks; a model name or a group
** of "model_groups", that one alone (give it fallbacks with the options'
** "fallbacks"). Retries, cooldowns, rate limits (a deployment's "tpm" counts
** the answer's prompt tokens), metrics, events ("gen_ai.operation.name":
** "embeddings") and "prices" (input price) apply as for chat.
**
** OpenAI-compatible providers answer at POST {base_url}/embeddings, Azure at
** its deployment's /embeddings (or /openai/v1/embeddings). Bedrock's Titan
** text and Cohere v3 models answer through InvokeModel; their answers are
** turned into the OpenAI shape (Titan: one request per input, at most 96
** inputs; token inputs refused). A provider without
** an embeddings API (Anthropic, a provider added with
** models_router_add_provider()) ends the call with
** MODELS_ERR_INVALID_ARGUMENT ("provider ... has no embeddings API"), without
** trying the fallbacks.
**
** A request that is not valid JSON, not an object, has no "input", or whose
** members have the wrong type, is MODELS_ERR_INVALID_ARGUMENT with a message
** naming the member ("input[2]"), before anything is sent; so is one over
** 32 MiB. Other failures are reported as models_chat() reports them. Large
** batches of vectors can pass max_response_bytes (MODELS_ERR_PROTOCOL):
** raise it in the config.
*/

/* Sends an embeddings request and waits for the answer. On MODELS_OK,
** *response_json is a new string (free it with models_free()) holding the
** answer {"object": "list", "data": [{"embedding": ..., "index": 0}, ...],
** "usage": {...}} with "model" set to the full name of the model that
** answered. On failure *response_json is NULL and the code (and *err) say
** why. Blocks the calling thread. Thread-safe. */
models_code models_embed(models_router *r, const char *request_json,
                         char **response_json, models_error **err);

/* models_embed() with per-call options and a cancellation token, as
** models_chat_ex(). The stream options, "stream_recovery" and
** "hedge_after_ms" have no effect on an embeddings call: it is never hedged. */
models_code models_embed_ex(models_router *r, const char *request_json, const char *options_json,
                            models_call *call, char **response_json, models_error **err);

/* Starts an embeddings call on an engine, as models_chat_async(): `on_done`
** receives the answer (as models_embed() returns it, lent) or the error,
** exactly once, on the engine's thread. */
models_code models_embed_async(models_engine *e, const char *request_json, const char *options_json,
                               models_call *call, models_done_fn on_done, void *user, models_error **err);

#ifdef __cplusplus
}
#endif

#endif /* MODELS_H */
