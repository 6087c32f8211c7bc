/* SPDX-License-Identifier: Apache-2.0 */
/* The router config models-chat builds from the environment: every provider
 * whose API key is set, its default model in a fixed order of preference, the
 * first as the primary and the rest as fallbacks. The config names the
 * variables (api_key_env), never the keys themselves. */
#include "env_config.h"

#include <jansson.h>
#include <models.h>
#include <stdlib.h>
#include <string.h>

struct env_provider {
    const char *provider; /* the provider name in model names */
    const char *variable; /* the environment variable holding its secret */
    const char *model;    /* the model to ask by default */
};

/* In order of preference: the first whose variable is set is the primary. */
static const struct env_provider env_providers[] = {
    {"anthropic", "ANTHROPIC_API_KEY", "anthropic/claude-sonnet-4-6"},
    {"openai", "OPENAI_API_KEY", "openai/gpt-4o"},
    {"github-copilot", "GITHUB_TOKEN", "github-copilot/gpt-4.1"},
    {"gemini", "GEMINI_API_KEY", "gemini/gemini-2.5-flash"},
    {"groq", "GROQ_API_KEY", "groq/llama-3.3-70b-versatile"},
    {"mistral", "MISTRAL_API_KEY", "mistral/mistral-large-latest"},
    {"openrouter", "OPENROUTER_API_KEY", "openrouter/openai/gpt-4o-mini"},
    {"together", "TOGETHER_API_KEY", "together/meta-llama/Llama-3.3-70B-Instruct-Turbo"},
    {"fireworks", "FIREWORKS_API_KEY", "fireworks/accounts/fireworks/models/llama-v3p3-70b-instruct"},
    {"perplexity", "PERPLEXITY_API_KEY", "perplexity/sonar"},
};
enum { env_provider_count = sizeof env_providers / sizeof env_providers[0] };

static int is_set(const char *variable) {
    const char *v = getenv(variable);
    return v != NULL && *v != '\0';
}

/* The provider's entry under "providers": where its secret comes from. */
static json_t *provider_entry(const struct env_provider *p) {
    if (strcmp(p->provider, "github-copilot") == 0)
        return json_pack("{s:s}", "github_token_env", p->variable); /* exchanged for Copilot tokens */
    return json_pack("{s:s}", "api_key_env", p->variable);
}

/* The provider part of "provider/model" (a name without '/' is Copilot's). */
static void provider_of(const char *model, char *out, size_t n) {
    const char *slash = strchr(model, '/');
    size_t len = slash ? (size_t)(slash - model) : strlen("github-copilot");
    if (len >= n) len = n - 1;
    memcpy(out, slash ? model : "github-copilot", len);
    out[len] = '\0';
}

char *env_config_build(const char *model) {
    json_t *providers = json_object();
    json_t *fallbacks = json_array();
    const char *primary = model;
    for (int i = 0; i < env_provider_count; i++) {
        const struct env_provider *p = &env_providers[i];
        if (!is_set(p->variable)) continue;
        json_object_set_new(providers, p->provider, provider_entry(p));
        if (primary == NULL) primary = p->model;
        else if (strcmp(primary, p->model) != 0) json_array_append_new(fallbacks, json_string(p->model));
    }
    if (primary == NULL) {
        json_decref(providers);
        json_decref(fallbacks);
        return NULL;
    }
    /* A --model of a known provider that needs no key (ollama, lmstudio):
     * list it so the library uses its known base URL. An unknown provider is
     * left out, and the library's error says how to register it. */
    char name[128];
    provider_of(primary, name, sizeof name);
    if (json_object_get(providers, name) == NULL && models_default_base_url(name) != NULL)
        json_object_set_new(providers, name, json_object());

    json_t *config = json_pack("{s:s, s:o, s:o}", "primary", primary, "fallbacks", fallbacks,
                               "providers", providers);
    char *text = json_dumps(config, JSON_INDENT(2));
    json_decref(config);
    return text;
}

void env_config_describe(FILE *out) {
    for (int i = 0; i < env_provider_count; i++)
        fprintf(out, "  %-20s %s\n", env_providers[i].variable, env_providers[i].model);
}
