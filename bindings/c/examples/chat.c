/* SPDX-License-Identifier: Apache-2.0 */
/* chat.c: one request, one complete answer.
 *
 * Sends a prompt, prints the answer, the model that gave it and the token
 * usage, and turns every failure into a message a user can act on.
 *
 *   OPENAI_API_KEY=sk-... ./chat "Why is the sky blue?"
 *   MODELS_TEST_SERVER=http://127.0.0.1:PORT ./chat     # the loopback test server
 *
 * Requests and answers are JSON text; these examples use jansson (which
 * libmodels depends on anyway) to build and read it. Any JSON library works.
 */
#include <jansson.h>
#include <models.h>
#include <stdio.h>
#include <stdlib.h>

/* Tells the user what went wrong and what to do about it, for every code. */
static void explain(const models_error *err) {
    const char *hint;
    switch (models_error_code(err)) {
    case MODELS_ERR_INVALID_ARGUMENT: hint = "the config or the request is malformed"; break;
    case MODELS_ERR_NO_PROVIDER: hint = "set the provider's API key (OPENAI_API_KEY) or list it under \"providers\""; break;
    case MODELS_ERR_API: hint = "the provider refused the request"; break;
    case MODELS_ERR_TRANSPORT: hint = "could not reach the provider: network, DNS, TLS or proxy"; break;
    case MODELS_ERR_TIMEOUT: hint = "the provider did not answer in time (raise \"timeout_ms\"?)"; break;
    case MODELS_ERR_CANCELLED: hint = "the request was cancelled"; break;
    case MODELS_ERR_PROTOCOL: hint = "the provider's answer was malformed or cut short"; break;
    case MODELS_ERR_ALL_COOLDOWN: hint = "every model is cooling down after failures: try again later"; break;
    case MODELS_ERR_ALL_FAILED: hint = "every model failed; the message says why each did"; break;
    case MODELS_ERR_NOMEM: hint = "out of memory"; break;
    default: hint = "unexpected error"; break;
    }
    fprintf(stderr, "error: %s\n  %s: %s\n", models_error_message(err),
            models_code_name(models_error_code(err)), hint);

    /* API failures carry the HTTP status, and sometimes how long to wait. */
    int status = models_error_status(err);
    if (status == 401 || status == 403) fprintf(stderr, "  HTTP %d: check the API key\n", status);
    else if (status != 0) fprintf(stderr, "  HTTP %d\n", status);
    if (models_error_retry_after_ms(err) > 0)
        fprintf(stderr, "  the provider asks to wait %lld ms before retrying\n",
                (long long)models_error_retry_after_ms(err));
}

int main(int argc, char **argv) {
    const char *prompt = argc > 1 ? argv[1] : "Say hello in five words.";

    /* The loopback test server when MODELS_TEST_SERVER names one (ctest and
     * ./scripts/demo set it); otherwise the real OpenAI API, whose key the
     * library reads from OPENAI_API_KEY. */
    char config[1024];
    const char *server = getenv("MODELS_TEST_SERVER");
    if (server)
        snprintf(config, sizeof config,
                 "{\"primary\": \"openai/gpt-4o-mini\", \"providers\": {\"openai\": "
                 "{\"base_url\": \"%s/v1\", \"api_key\": \"test-key\"}}}", server);
    else
        snprintf(config, sizeof config, "{\"primary\": \"openai/gpt-4o-mini\"}");

    models_error *err = NULL;
    models_router *router = models_router_new(config, &err);
    if (!router) {
        explain(err);
        models_error_free(err);
        return 1;
    }

    /* Build the request with a JSON library so the prompt is escaped properly. */
    json_t *request = json_pack("{s:[{s:s, s:s}], s:i}", "messages", "role", "user",
                                "content", prompt, "max_tokens", 300);
    char *request_text = json_dumps(request, 0);
    json_decref(request);

    char *reply = NULL; /* ours to free with models_free() */
    models_code code = models_chat(router, request_text, &reply, &err);
    free(request_text);
    if (code != MODELS_OK) {
        explain(err);
        models_error_free(err);
        models_router_free(router);
        return 1;
    }

    /* The answer is a "chat.completion" object whatever the provider. */
    json_t *response = json_loads(reply, 0, NULL);
    json_t *message = json_object_get(json_array_get(json_object_get(response, "choices"), 0), "message");
    json_t *usage = json_object_get(response, "usage");
    const char *content = json_string_value(json_object_get(message, "content"));
    printf("%s\n", content ? content : "(no text)");
    printf("-- %s, %lld prompt + %lld completion tokens\n",
           json_string_value(json_object_get(response, "model")),
           (long long)json_integer_value(json_object_get(usage, "prompt_tokens")),
           (long long)json_integer_value(json_object_get(usage, "completion_tokens")));

    json_decref(response);
    models_free(reply);
    models_router_free(router);
    return 0;
}
