/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Bedrock ("type": "bedrock") against the loopback test server, which
 * checks every request's SigV4 signature with botocore and answers 403 to a
 * bad one: Converse (chat) and ConverseStream (push and pull, binary
 * event-stream framing); tools, images, reasoning and usage; errors (4xx,
 * 5xx, throttling over HTTP and inside a stream, a corrupt frame); fallbacks
 * to and from Bedrock; a session token; credentials and region from the AWS
 * environment variables; embeddings (InvokeModel: Titan, Cohere); the engine; the config's checks; and no secret in a
 * message or a log line. */
#define _GNU_SOURCE
#include "test_util.h"

#define MODEL_ID "anthropic.claude-3-5-sonnet-20240620-v1:0"
#define MODEL_PATH "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0"
#define KEY_ID "AKIDLOOPBACK"
#define SECRET "loopback/secret+key"
#define TEMP_ID "ASIALOOPBACK"
#define TEMP_SECRET "loopback/temporary+secret"
#define TOKEN "loopback-session-token"

static int log_leaks = 0;

static int leaks(const char *text) {
    return text && (strstr(text, SECRET) || strstr(text, TEMP_SECRET) || strstr(text, TOKEN) || strstr(text, "wrong/secret"));
}

static void capture_log(void *user, int level, const char *message) {
    (void)user, (void)level;
    if (leaks(message)) {
        log_leaks++;
        fprintf(stderr, "a log line leaks a secret: %s\n", message);
    }
}

/* A router with primary `primary`, the Bedrock provider "aws" on the test server
 * (`provider_extra` adds or replaces its members) and an OpenAI-compatible "local". */
static models_router *bedrock_router_with(const char *primary, const char *aws, const char *extra) {
    char config[4096];
    snprintf(config, sizeof config,
             "{\"primary\":\"%s\",\"max_retries\":0,\"retry_base_ms\":1,\"retry_max_ms\":5%s%s,\"providers\":{"
             "\"aws\":%s,\"local\":{\"base_url\":\"%s/v1\",\"api_key\":\"sk-test-local-0123456789\"}}}",
             primary, *extra ? "," : "", extra, aws, ts_url());
    return router_or_exit(config);
}

static models_router *bedrock_router(const char *primary, const char *extra) {
    char aws[512];
    snprintf(aws, sizeof aws, "{\"type\":\"bedrock\",\"base_url\":\"%s\",\"region\":\"us-west-2\","
             "\"aws_access_key_id\":\"" KEY_ID "\",\"aws_secret_access_key\":\"" SECRET "\"}", ts_url());
    return bedrock_router_with(primary, aws, extra);
}

/* Request `i` went to `path`, signed well (the server checked it with botocore). */
static void check_signed(int i, const char *path) {
    char *req = nth_request(i);
    char want[512];
    snprintf(want, sizeof want, "\"path\":\"%s\"", path);
    CHECK_STR_CONTAINS(req, want);
    CHECK_STR_CONTAINS(req, "\"ok\":true");
    CHECK_STR_CONTAINS(req, "\"service\":\"bedrock\"");
    CHECK(!leaks(req) || strstr(req, TOKEN)); /* the token travels as a header; secrets never */
    CHECK(strstr(req, SECRET) == NULL && strstr(req, TEMP_SECRET) == NULL);
    free(req);
}

static void test_chat(void) {
    models_router *r = bedrock_router("aws/" MODEL_ID, "");
    ts_reset();
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"system\",\"content\":\"short\"},{\"role\":\"user\",\"content\":\"hi\"}],"
                         "\"max_tokens\":20,\"temperature\":0.5,\"seed\":3}", &response, &err) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"content\":\"echo: hi\"");
    CHECK_STR_CONTAINS(response, "\"model\":\"aws/" MODEL_ID "\"");
    CHECK_STR_CONTAINS(response, "\"finish_reason\":\"stop\"");
    CHECK_STR_CONTAINS(response, "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}");
    check_signed(0, MODEL_PATH "/converse");
    char *req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"system\":[{\"text\":\"short\"}]");
    CHECK_STR_CONTAINS(req, "\"inferenceConfig\":{\"maxTokens\":20,\"temperature\":0.5}");
    CHECK(strstr(req, "seed") == NULL); /* dropped, with a DEBUG line */
    CHECK(strstr(req, "\"model\":\"") == NULL); /* the model is in the path */
    free(req);
    models_free(response);

    /* A refused parameter never reaches the server. */
    ts_reset();
    CHECK(models_chat(r, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":2}", &response, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), "\"n\" cannot be sent to aws");
    CHECK(ts_stat("requests") == 0);
    models_error_free(err);
    models_router_free(r);
}

static void test_streams(void) {
    models_router *r = bedrock_router("aws/" MODEL_ID, "");
    models_error *err = NULL;

    /* Push. */
    ts_reset();
    ts_script(MODEL_ID, "[{\"content\":\"one two three\",\"thinking\":\"pondering\",\"usage\":{\"inputTokens\":5,\"outputTokens\":9}}]");
    struct stream_text text = {0};
    CHECK(models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &text, &err) == MODELS_OK);
    CHECK(strcmp(text.text, "one two three") == 0);
    CHECK(text.role_chunks == 1);
    check_signed(0, MODEL_PATH "/converse-stream");

    /* Pull, byte by byte on the wire, with the usage and the thinking. */
    ts_reset();
    ts_script(MODEL_ID, "[{\"content\":\"a b\",\"thinking\":\"hmm\",\"byte_at_a_time\":true,\"usage\":{\"inputTokens\":5,\"outputTokens\":9}}]");
    models_stream *s = models_stream_open(r, HELLO_STREAM, &err);
    CHECK(s != NULL);
    struct stream_text thought = {0};
    memset(&text, 0, sizeof text);
    const char *chunk = NULL;
    size_t len = 0;
    models_code rc = MODELS_OK;
    int finish = 0;
    while (s && (rc = models_stream_next(s, &chunk, &len, &err)) == MODELS_OK) {
        stream_text_add(&text, chunk);
        if (strstr(chunk, "\"finish_reason\":\"stop\"")) finish++;
    }
    CHECK(rc == MODELS_DONE);
    CHECK(strcmp(text.text, "a b") == 0);
    CHECK(finish == 1);
    int64_t in = 0, out = 0;
    models_stream_usage(s, &in, &out);
    CHECK(in == 5 && out == 9);
    CHECK_STR_CONTAINS(models_stream_model(s), "aws/" MODEL_ID);
    models_stream_close(s);
    (void)thought;
    models_router_free(r);
}

static void test_tools_and_images(void) {
    models_router *r = bedrock_router("aws/" MODEL_ID, "");
    ts_reset();
    ts_script(MODEL_ID, "[{\"tool_calls\":[{\"id\":\"tu_1\",\"name\":\"weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}]}]");
    const char *tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"weather\",\"parameters\":{\"type\":\"object\"}}}]";
    char request[2048];
    snprintf(request, sizeof request, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"look\"},"
             "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgo=\"}}]}],%s,"
             "\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"weather\"}}}", tools);
    char *response = NULL;
    models_error *err = NULL;
    CHECK(models_chat(r, request, &response, &err) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"tool_calls\":[{\"id\":\"tu_1\",\"type\":\"function\",\"function\":{\"name\":\"weather\","
                                 "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]");
    CHECK_STR_CONTAINS(response, "\"finish_reason\":\"tool_calls\"");
    char *req = nth_request(0);
    CHECK_STR_CONTAINS(req, "{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"iVBORw0KGgo=\"}}}");
    CHECK_STR_CONTAINS(req, "\"toolChoice\":{\"tool\":{\"name\":\"weather\"}}");
    free(req);
    models_free(response);

    /* The tool's result goes back as a toolResult in a user turn. */
    ts_reset();
    snprintf(request, sizeof request, "{\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"},"
             "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"tu_1\",\"type\":\"function\",\"function\":{\"name\":\"weather\",\"arguments\":\"{}\"}}]},"
             "{\"role\":\"tool\",\"tool_call_id\":\"tu_1\",\"content\":\"sunny\"}],%s}", tools);
    CHECK(models_chat(r, request, &response, &err) == MODELS_OK);
    req = nth_request(0);
    CHECK_STR_CONTAINS(req, "{\"toolUse\":{\"toolUseId\":\"tu_1\",\"name\":\"weather\",\"input\":{}}}");
    CHECK_STR_CONTAINS(req, "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":\"tu_1\",\"content\":[{\"text\":\"sunny\"}]}}]}");
    free(req);
    models_free(response);

    /* A streamed tool call. */
    ts_reset();
    ts_script(MODEL_ID, "[{\"tool_calls\":[{\"id\":\"tu_2\",\"name\":\"weather\",\"arguments\":\"{\\\"city\\\":\\\"Rome\\\"}\"}]}]");
    snprintf(request, sizeof request, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],%s,\"stream\":true}", tools);
    char *collected = NULL;
    models_stream *s = models_stream_open(r, request, &err);
    CHECK(s != NULL);
    const char *chunk;
    size_t len;
    int starts = 0;
    while (s && models_stream_next(s, &chunk, &len, &err) == MODELS_OK) {
        if (strstr(chunk, "\"id\":\"tu_2\"")) starts++;
    }
    CHECK(starts == 1);
    models_stream_close(s);
    free(collected);
    models_router_free(r);
}

static void check_error(models_router *r, const char *request, models_code code, int status, const char *kind, const char *words) {
    char *response = NULL;
    models_error *err = NULL;
    struct stream_text text = {0};
    models_code rc = strstr(request, "\"stream\":true") ? models_chat_stream(r, request, stream_text_on_chunk, NULL, &text, &err)
                                                         : models_chat(r, request, &response, &err);
    if (rc != code || models_error_status(err) != status) fprintf(stderr, "[%s] got %d %d: %s\n", words ? words : "", rc, models_error_status(err), models_error_message(err));
    CHECK(rc == code);
    CHECK(models_error_status(err) == status);
    CHECK(strcmp(models_error_kind(err), kind) == 0);
    if (words) CHECK_STR_CONTAINS(models_error_message(err), words);
    CHECK(!leaks(models_error_message(err)));
    models_error_free(err);
    models_free(response);
}

static void test_errors(void) {
    models_router *r = bedrock_router("aws/" MODEL_ID, "");
    ts_reset();
    ts_script(MODEL_ID, "[{\"status\":400}]");
    check_error(r, HELLO, MODELS_ERR_API, 400, "bad_request", "aws answered HTTP 400: ValidationException: scripted error 400");
    ts_script(MODEL_ID, "[{\"status\":400,\"body\":{\"message\":\"Input is too long for requested model.\"}}]");
    check_error(r, HELLO, MODELS_ERR_API, 400, "context_window", "Input is too long");
    ts_script(MODEL_ID, "[{\"status\":429,\"headers\":{\"Retry-After\":\"1\"}}]");
    check_error(r, HELLO, MODELS_ERR_API, 429, "rate_limit", "ThrottlingException");
    ts_script(MODEL_ID, "[{\"status\":500}]");
    check_error(r, HELLO, MODELS_ERR_API, 500, "server", NULL);
    /* Throttling inside a stream, before the first word. */
    ts_script(MODEL_ID, "[{\"error_after\":1,\"error\":{\"type\":\"throttlingException\",\"message\":\"Too many requests\"}}]");
    check_error(r, HELLO_STREAM, MODELS_ERR_API, 429, "rate_limit", "throttlingException: Too many requests");
    /* A frame whose CRC is wrong. */
    ts_script(MODEL_ID, "[{\"sse\":[{\"event\":\"messageStart\",\"data\":{\"role\":\"assistant\"}},"
                        "{\"corrupt\":{\"event\":\"contentBlockDelta\",\"data\":{\"contentBlockIndex\":0,\"delta\":{\"text\":\"x\"}}}}]}]");
    check_error(r, HELLO_STREAM, MODELS_ERR_PROTOCOL, 0, "protocol", "fails its CRC check");
    /* A stream cut before its metadata event. */
    ts_script(MODEL_ID, "[{\"omit_terminator\":true}]");
    check_error(r, HELLO_STREAM, MODELS_ERR_PROTOCOL, 0, "protocol", "ended before completion");
    models_router_free(r);

    /* Retries: 503 and throttling are transient. */
    r = bedrock_router("aws/" MODEL_ID, "\"max_retries\":2");
    ts_reset();
    ts_script(MODEL_ID, "[{\"status\":503},{\"status\":429},{\"content\":\"third time\"}]");
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "third time");
    CHECK(ts_stat("requests") == 3);
    for (int i = 0; i < 3; i++) check_signed(i, MODEL_PATH "/converse");
    models_free(response);
    models_router_free(r);

    /* A wrong secret: the server's signature check refuses it with 403. */
    char aws[512];
    snprintf(aws, sizeof aws, "{\"type\":\"bedrock\",\"base_url\":\"%s\",\"region\":\"us-west-2\","
             "\"aws_access_key_id\":\"" KEY_ID "\",\"aws_secret_access_key\":\"wrong/secret\"}", ts_url());
    r = bedrock_router_with("aws/" MODEL_ID, aws, "");
    ts_reset();
    check_error(r, HELLO, MODELS_ERR_API, 403, "auth", "InvalidSignatureException: The request signature we calculated does not match");
    char *req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"ok\":false");
    free(req);
    models_router_free(r);
}

static void test_fallbacks(void) {
    /* From Bedrock to an OpenAI-compatible model. */
    models_router *r = bedrock_router("aws/" MODEL_ID, "\"fallbacks\":[\"local/m2\"]");
    ts_reset();
    ts_script(MODEL_ID, "[{\"status\":503},{\"error_after\":0}]");
    char model[128];
    CHECK(chat_model(r, HELLO, model, sizeof model, NULL) == MODELS_OK);
    CHECK(strcmp(model, "local/m2") == 0);
    struct stream_text text = {0};
    CHECK(models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &text, NULL) == MODELS_OK);
    CHECK(strcmp(text.text, "echo: hi") == 0);
    CHECK(requests_for("m2") == 2);
    models_router_free(r);

    /* From an OpenAI-compatible model to Bedrock. */
    r = bedrock_router("local/m1", "\"fallbacks\":[\"aws/" MODEL_ID "\"]");
    ts_reset();
    ts_script("m1", "[{\"status\":500},{\"status\":500}]");
    CHECK(chat_model(r, HELLO, model, sizeof model, NULL) == MODELS_OK);
    CHECK(strcmp(model, "aws/" MODEL_ID) == 0);
    memset(&text, 0, sizeof text);
    CHECK(models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &text, NULL) == MODELS_OK);
    CHECK(strcmp(text.text, "echo: hi") == 0);
    check_signed(1, MODEL_PATH "/converse");
    check_signed(3, MODEL_PATH "/converse-stream");
    models_router_free(r);
}

static void test_session_token_and_environment(void) {
    /* A session token from the config. */
    char aws[512];
    snprintf(aws, sizeof aws, "{\"type\":\"bedrock\",\"base_url\":\"%s\",\"region\":\"ap-south-1\",\"aws_access_key_id\":\"" TEMP_ID "\","
             "\"aws_secret_access_key\":\"" TEMP_SECRET "\",\"aws_session_token\":\"" TOKEN "\"}", ts_url());
    models_router *r = bedrock_router_with("aws/" MODEL_ID, aws, "");
    ts_reset();
    char *response = NULL;
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    char *req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"x-amz-security-token\":\"" TOKEN "\"");
    CHECK_STR_CONTAINS(req, "\"region\":\"ap-south-1\"");
    CHECK_STR_CONTAINS(req, "\"ok\":true");
    free(req);
    models_router_free(r);

    /* Temporary credentials without their token are refused by the server. */
    snprintf(aws, sizeof aws, "{\"type\":\"bedrock\",\"base_url\":\"%s\",\"region\":\"ap-south-1\",\"aws_access_key_id\":\"" TEMP_ID "\","
             "\"aws_secret_access_key\":\"" TEMP_SECRET "\"}", ts_url());
    r = bedrock_router_with("aws/" MODEL_ID, aws, "");
    check_error(r, HELLO, MODELS_ERR_API, 403, "auth", "UnrecognizedClientException");
    models_router_free(r);

    /* Everything from the AWS environment variables (AWS_DEFAULT_REGION when AWS_REGION is unset). */
    setenv("AWS_ACCESS_KEY_ID", TEMP_ID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", TEMP_SECRET, 1);
    setenv("AWS_SESSION_TOKEN", TOKEN, 1);
    unsetenv("AWS_REGION");
    setenv("AWS_DEFAULT_REGION", "eu-north-1", 1);
    snprintf(aws, sizeof aws, "{\"type\":\"bedrock\",\"base_url\":\"%s\"}", ts_url());
    r = bedrock_router_with("aws/" MODEL_ID, aws, "");
    ts_reset();
    struct stream_text text = {0};
    CHECK(models_chat_stream(r, HELLO_STREAM, stream_text_on_chunk, NULL, &text, NULL) == MODELS_OK);
    CHECK(strcmp(text.text, "echo: hi") == 0);
    req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"region\":\"eu-north-1\"");
    CHECK_STR_CONTAINS(req, "\"x-amz-security-token\":\"" TOKEN "\"");
    CHECK_STR_CONTAINS(req, "\"ok\":true");
    free(req);
    models_router_free(r);
    setenv("AWS_REGION", "eu-west-1", 1);
    r = bedrock_router_with("aws/" MODEL_ID, aws, "");
    ts_reset();
    CHECK(models_chat(r, HELLO, &response, NULL) == MODELS_OK);
    models_free(response);
    req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"region\":\"eu-west-1\"");
    free(req);
    models_router_free(r);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
}

/* ---- Embeddings (InvokeModel: Titan and Cohere) ------------------------------ */

#define TITAN_ID "amazon.titan-embed-text-v2:0"
#define TITAN_PATH "/model/amazon.titan-embed-text-v2%3A0/invoke"
#define COHERE_ID "cohere.embed-english-v3"
#define COHERE_PATH "/model/cohere.embed-english-v3/invoke"

static models_code embed(models_router *r, const char *request, char **response) {
    models_error *err = NULL;
    *response = NULL;
    models_code rc = models_embed(r, request, response, &err);
    if (rc != MODELS_OK) fprintf(stderr, "embed: %s\n", models_error_message(err));
    models_error_free(err);
    return rc;
}

static void check_embed_refused(models_router *r, const char *request, const char *words) {
    char *response = NULL;
    models_error *err = NULL;
    ts_reset();
    CHECK(models_embed(r, request, &response, &err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK(response == NULL);
    CHECK_STR_CONTAINS(models_error_message(err), words);
    CHECK(ts_stat("requests") == 0); /* refused before anything is sent */
    models_error_free(err);
}

static void test_embeddings(void) {
    models_router *r = bedrock_router("aws/" TITAN_ID, "\"max_retries\":2");
    char *response = NULL;

    /* Titan, one input. */
    ts_reset();
    CHECK(embed(r, "{\"input\":\"hello there world\"}", &response) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"object\":\"list\"");
    CHECK_STR_CONTAINS(response, "\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[");
    CHECK_STR_CONTAINS(response, "\"model\":\"aws/" TITAN_ID "\"");
    CHECK_STR_CONTAINS(response, "\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}");
    check_signed(0, TITAN_PATH);
    char *req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"body\":{\"inputText\":\"hello there world\",\"normalize\":true}");
    free(req);
    models_free(response);

    /* Titan, a batch: one request per input, in order; tokens summed; dimensions sent. */
    ts_reset();
    CHECK(embed(r, "{\"input\":[\"a\",\"b c\",\"d e f\"],\"dimensions\":4}", &response) == MODELS_OK);
    CHECK(ts_stat("requests") == 3);
    CHECK_STR_CONTAINS(response, "\"index\":2,");
    CHECK(strstr(response, "\"index\":3") == NULL);
    CHECK_STR_CONTAINS(response, "\"usage\":{\"prompt_tokens\":6,\"total_tokens\":6}");
    for (int i = 0; i < 3; i++) check_signed(i, TITAN_PATH);
    req = nth_request(1);
    CHECK_STR_CONTAINS(req, "\"body\":{\"inputText\":\"b c\",\"dimensions\":4,\"normalize\":true}");
    free(req);
    /* 4 numbers per vector: "[x,y,z,w]" holds 3 commas. */
    const char *v = strstr(response, "\"embedding\":[");
    int commas = 0;
    for (v = v ? v + 13 : ""; *v && *v != ']'; v++) commas += *v == ',';
    CHECK(commas == 3);
    models_free(response);

    /* base64: little-endian float32, like OpenAI. */
    ts_reset();
    CHECK(embed(r, "{\"input\":\"x\",\"encoding_format\":\"base64\",\"dimensions\":2}", &response) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"embedding\":\""); /* 2 floats = 8 bytes = 12 base64 characters */
    const char *b = strstr(response, "\"embedding\":\"");
    CHECK(b && strlen(b) > 25 && b[13 + 12] == '"');
    models_free(response);

    /* Throttling is a rate limit, retried. */
    ts_reset();
    ts_script(TITAN_ID, "[{\"status\":429}]");
    CHECK(embed(r, "{\"input\":[\"a\",\"b\"]}", &response) == MODELS_OK);
    CHECK(ts_stat("requests") == 3); /* the 429, then both inputs again */
    CHECK_STR_CONTAINS(response, "\"index\":1,");
    models_free(response);
    models_router_free(r);

    r = bedrock_router("aws/" TITAN_ID, "");
    ts_reset();
    ts_script(TITAN_ID, "[{\"status\":429}]");
    models_error *err = NULL;
    CHECK(models_embed(r, "{\"input\":\"a\"}", &response, &err) == MODELS_ERR_API);
    CHECK(models_error_status(err) == 429);
    CHECK(strcmp(models_error_kind(err), "rate_limit") == 0);
    CHECK_STR_CONTAINS(models_error_message(err), "ThrottlingException");
    CHECK(!leaks(models_error_message(err)));
    models_error_free(err);
    models_router_free(r);

    /* Cohere: one request for the batch; input_type passed through; tokens from the header. */
    r = bedrock_router("aws/" COHERE_ID, "");
    ts_reset();
    CHECK(embed(r, "{\"input\":[\"one\",\"two three\"],\"model\":\"aws/us." COHERE_ID "\",\"input_type\":\"search_query\"}",
                &response) == MODELS_OK);
    CHECK(ts_stat("requests") == 1);
    check_signed(0, "/model/us." COHERE_ID "/invoke");
    req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"body\":{\"texts\":[\"one\",\"two three\"],\"input_type\":\"search_query\"}");
    free(req);
    CHECK_STR_CONTAINS(response, "\"index\":1,");
    CHECK_STR_CONTAINS(response, "\"model\":\"aws/us." COHERE_ID "\"");
    CHECK_STR_CONTAINS(response, "\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}");
    models_free(response);
    ts_reset();
    CHECK(embed(r, "{\"input\":\"doc\"}", &response) == MODELS_OK);
    req = nth_request(0);
    CHECK_STR_CONTAINS(req, "\"input_type\":\"search_document\"");
    free(req);
    models_free(response);

    /* Bad inputs, refused before anything is sent. */
    check_embed_refused(r, "{\"input\":[1,2,3]}", "takes text inputs only, not tokens");
    check_embed_refused(r, "{\"input\":[[1],[2]],\"model\":\"aws/" TITAN_ID "\"}", "takes text inputs only, not tokens");
    check_embed_refused(r, "{\"input\":\"a\",\"dimensions\":8}", "does not take \"dimensions\"");
    check_embed_refused(r, "{\"input\":\"a\",\"input_type\":7}", "\"input_type\" must be a non-empty string");
    check_embed_refused(r, "{\"input\":\"a\",\"model\":\"aws/" MODEL_ID "\"}", "provider \"aws\" has no embeddings API");
    char many[2048] = "{\"input\":[";
    for (int i = 0; i < 97; i++) strcat(many, i ? ",\"t\"" : "\"t\"");
    strcat(many, "]}");
    check_embed_refused(r, many, "at most 96 inputs per call, not 97");
    models_router_free(r);

    /* Fallback from Bedrock to OpenAI-compatible embeddings. */
    r = bedrock_router("aws/" TITAN_ID, "\"fallbacks\":[\"local/emb\"]");
    ts_reset();
    ts_script(TITAN_ID, "[{\"status\":503}]");
    CHECK(embed(r, "{\"input\":[\"a\",\"b\"]}", &response) == MODELS_OK);
    CHECK_STR_CONTAINS(response, "\"model\":\"local/emb\"");
    CHECK_STR_CONTAINS(response, "\"index\":1,");
    req = nth_request(1);
    CHECK_STR_CONTAINS(req, "/v1/embeddings");
    free(req);
    models_free(response);
    models_router_free(r);
}

/* ---- The engine -------------------------------------------------------------- */

static void test_engine(void) {
    models_router *r = bedrock_router("aws/" MODEL_ID, "");
    models_engine *e = models_engine_new(r, NULL);
    CHECK(e != NULL);
    models_router_free(r);
    if (!e) return;
    ts_reset();
    struct async_outcome o;
    memset(&o, 0, sizeof o);
    CHECK(models_chat_async(e, HELLO, NULL, NULL, async_on_done, &o, NULL) == MODELS_OK);
    async_run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "echo: hi");
    check_signed(0, MODEL_PATH "/converse");

    ts_reset();
    ts_script(MODEL_ID, "[{\"content\":\"x y z\",\"byte_at_a_time\":true}]");
    memset(&o, 0, sizeof o);
    CHECK(models_stream_async(e, HELLO_STREAM, NULL, NULL, async_on_chunk, NULL, async_on_done, &o, NULL) == MODELS_OK);
    async_run(e, &o);
    CHECK(o.code == MODELS_OK);
    CHECK(strcmp(o.stream.text, "x y z") == 0);
    check_signed(0, MODEL_PATH "/converse-stream");

    ts_reset();
    ts_script(MODEL_ID, "[{\"error_after\":2,\"error\":\"serviceUnavailableException\"}]");
    memset(&o, 0, sizeof o);
    CHECK(models_stream_async(e, HELLO_STREAM, NULL, NULL, async_on_chunk, NULL, async_on_done, &o, NULL) == MODELS_OK);
    async_run(e, &o);
    CHECK(o.code == MODELS_ERR_API);
    CHECK(strcmp(o.kind, "server") == 0);
    models_engine_free(e);
    /* Embeddings: Cohere as one exchange, a Titan batch on a worker thread. */
    models_router *re = bedrock_router("aws/" COHERE_ID, "");
    models_engine *ee = models_engine_new(re, NULL);
    models_router_free(re);
    CHECK(ee != NULL);
    if (!ee) return;
    ts_reset();
    memset(&o, 0, sizeof o);
    CHECK(models_embed_async(ee, "{\"input\":[\"a\",\"b\"]}", NULL, NULL, async_on_done, &o, NULL) == MODELS_OK);
    async_run(ee, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "\"index\":1,");
    check_signed(0, COHERE_PATH);
    ts_reset();
    memset(&o, 0, sizeof o);
    CHECK(models_embed_async(ee, "{\"input\":[\"a\",\"b\"],\"model\":\"aws/" TITAN_ID "\"}", NULL, NULL, async_on_done, &o, NULL) == MODELS_OK);
    async_run(ee, &o);
    CHECK(o.code == MODELS_OK);
    CHECK_STR_CONTAINS(o.response, "\"model\":\"aws/" TITAN_ID "\"");
    CHECK(ts_stat("requests") == 2);
    ts_reset();
    ts_script(COHERE_ID, "[{\"status\":429}]");
    memset(&o, 0, sizeof o);
    CHECK(models_embed_async(ee, "{\"input\":\"a\"}", NULL, NULL, async_on_done, &o, NULL) == MODELS_OK);
    async_run(ee, &o);
    CHECK(o.code == MODELS_ERR_API);
    CHECK(strcmp(o.kind, "rate_limit") == 0);
    models_engine_free(ee);
}

/* ---- Config checks ----------------------------------------------------------- */

static void check_refused(const char *entry, const char *expected) {
    char config[1024];
    snprintf(config, sizeof config, "{\"primary\":\"aws/m\",\"providers\":{\"aws\":%s}}", entry);
    models_error *err = NULL;
    CHECK(models_router_new(config, &err) == NULL);
    CHECK(models_error_code(err) == MODELS_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(models_error_message(err), expected);
    CHECK(!leaks(models_error_message(err)));
    models_error_free(err);
}

static void test_config_checks(void) {
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_ACCESS_KEY_ID");
    check_refused("{\"type\":\"bedrock\",\"aws_access_key_id\":\"" KEY_ID "\",\"aws_secret_access_key\":\"" SECRET "\"}",
                  "has type bedrock and no region");
    check_refused("{\"type\":\"bedrock\",\"region\":\"us-east-1\"}", "has type bedrock and no AWS credentials");
    check_refused("{\"type\":\"bedrock\",\"region\":\"us-east-1\",\"aws_secret_access_key\":\"" SECRET "\"}",
                  "needs both \"aws_access_key_id\" and \"aws_secret_access_key\"");
    check_refused("{\"type\":\"bedrock\",\"region\":\"Mars 1\"}", "\"providers.aws.region\" must be an AWS region");
    check_refused("{\"region\":\"us-east-1\"}", "applies to providers with \"type\": \"bedrock\" only");
    check_refused("{\"type\":\"bedrock\",\"region\":\"us-east-1\",\"aws_access_key_id\":\"" KEY_ID "\",\"aws_secret_access_key\":\"" SECRET "\\n\"}",
                  "\"providers.aws.aws_secret_access_key\"");
}

int main(void) {
    models_set_log_handler(capture_log, NULL, MODELS_LOG_DEBUG);
    test_chat();
    test_streams();
    test_tools_and_images();
    test_errors();
    test_fallbacks();
    test_session_token_and_environment();
    test_embeddings();
    test_engine();
    test_config_checks();
    models_set_log_handler(NULL, NULL, MODELS_LOG_DEBUG);
    CHECK(log_leaks == 0);
    return check_report("test_bedrock");
}
