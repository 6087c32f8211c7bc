/* SPDX-License-Identifier: Apache-2.0 */
/* models_router_health: one object per model in routing order, with its
 * provider, availability and the reason it is unavailable, computed without
 * calling any API; it follows set_models and the cooldown tracker. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "scripted_provider.h"

#include <models.h>

/* The health object of `model` (objects in health hold no nested braces), copied
 * into `out`; "" when absent. */
static const char *entry(const char *health, const char *model, char *out, size_t size) {
    char key[160];
    snprintf(key, sizeof key, "\"model\":\"%s\"", model);
    out[0] = '\0';
    const char *at = health ? strstr(health, key) : NULL;
    if (!at) return out;
    const char *open = at;
    while (open > health && *open != '{') open--;
    const char *close = strchr(at, '}');
    if (!close || (size_t)(close - open + 1) >= size) return out;
    memcpy(out, open, (size_t)(close - open + 1));
    out[close - open + 1] = '\0';
    return out;
}

/* The position of `model`'s entry, to check the order. */
static long position(const char *health, const char *model) {
    char key[160];
    snprintf(key, sizeof key, "\"model\":\"%s\"", model);
    const char *at = health ? strstr(health, key) : NULL;
    return at ? (long)(at - health) : -1;
}

static void test_contents_and_order(void) {
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router("{\"primary\":\"cp/a\",\"fallbacks\":[\"nope/b\",\"cp/c\",\"gpt-4.1\"]}");
    sp_register(r, "cp", &p);
    models_cooldown *c = models_cooldown_new(90000, 0, 0);
    models_router_set_cooldown(r, c);
    models_cooldown_record_failure(c, "cp/a");

    char *health = models_router_health(r);
    char buf[512];
    CHECK(health != NULL && health[0] == '[');
    CHECK(position(health, "cp/a") >= 0);
    CHECK(position(health, "cp/a") < position(health, "nope/b"));
    CHECK(position(health, "nope/b") < position(health, "cp/c"));
    CHECK(position(health, "cp/c") < position(health, "gpt-4.1"));

    entry(health, "cp/a", buf, sizeof buf);
    CHECK_STR_CONTAINS(buf, "\"provider\":\"cp\"");
    CHECK_STR_CONTAINS(buf, "\"available\":false");
    CHECK_STR_CONTAINS(buf, "\"reason\":\"cooldown (1m30s remaining)\"");
    entry(health, "nope/b", buf, sizeof buf);
    CHECK_STR_CONTAINS(buf, "\"provider\":\"nope\"");
    CHECK_STR_CONTAINS(buf, "\"available\":false");
    CHECK_STR_CONTAINS(buf, "\"reason\":\"provider not registered\"");
    entry(health, "cp/c", buf, sizeof buf);
    CHECK_STR_CONTAINS(buf, "\"provider\":\"cp\"");
    CHECK_STR_CONTAINS(buf, "\"available\":true");
    CHECK(strstr(buf, "reason") == NULL);
    entry(health, "gpt-4.1", buf, sizeof buf); /* unprefixed: GitHub Copilot */
    CHECK_STR_CONTAINS(buf, "\"provider\":\"github-copilot\"");
    CHECK_STR_CONTAINS(buf, "\"reason\":\"provider not registered\"");
    models_free(health);

    /* Health calls no API. */
    CHECK(sp_counter(&p, &p.chat_calls) == 0);
    CHECK(sp_calls(&p, "c") == 0);

    /* It follows the cooldown and the models. */
    models_cooldown_reset(c, "cp/a");
    const char *fallbacks[] = {"cp/a"};
    CHECK(models_router_set_models(r, "cp/z", fallbacks, 1, NULL) == MODELS_OK);
    health = models_router_health(r);
    CHECK(position(health, "cp/z") >= 0);
    CHECK(position(health, "cp/z") < position(health, "cp/a"));
    CHECK(position(health, "nope/b") == -1);
    entry(health, "cp/a", buf, sizeof buf);
    CHECK_STR_CONTAINS(buf, "\"available\":true");
    models_free(health);

    CHECK(models_router_health(NULL) == NULL);
    models_cooldown_free(c);
    models_router_free(r);
}

static void test_reason_formats(void) {
    /* Remaining time rounds up to whole seconds, minutes and hours as they grow. */
    sp_provider p;
    sp_init(&p);
    models_router *r = sp_router("{\"primary\":\"cp/a\",\"fallbacks\":[\"cp/b\",\"cp/c\"]}");
    sp_register(r, "cp", &p);
    models_cooldown *c = models_cooldown_new(42000, 7200000, 1);
    models_router_set_cooldown(r, c);
    models_cooldown_record_failure(c, "cp/a");
    models_cooldown_free(c);
    c = models_cooldown_new(7200000, 7200000, 1);
    models_router_set_cooldown(r, c);
    models_cooldown_record_failure(c, "cp/b");
    char *health = models_router_health(r);
    char buf[512];
    entry(health, "cp/a", buf, sizeof buf);
    CHECK_STR_CONTAINS(buf, "\"available\":true"); /* the first tracker is gone */
    entry(health, "cp/b", buf, sizeof buf);
    CHECK_STR_CONTAINS(buf, "\"reason\":\"cooldown (2h remaining)\"");
    models_free(health);

    models_cooldown *c2 = models_cooldown_new(42000, 0, 0);
    models_router_set_cooldown(r, c2);
    models_cooldown_record_failure(c2, "cp/c");
    health = models_router_health(r);
    entry(health, "cp/c", buf, sizeof buf);
    CHECK_STR_CONTAINS(buf, "\"reason\":\"cooldown (42s remaining)\"");
    models_free(health);
    models_cooldown_free(c2);
    models_cooldown_free(c);
    models_router_free(r);
}

int main(void) {
    test_contents_and_order();
    test_reason_formats();
    return check_report("test_health");
}
