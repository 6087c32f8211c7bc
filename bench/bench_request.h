/* SPDX-License-Identifier: Apache-2.0 */
/* The request the C benchmarks send, shared by bench_chat.c and chat_loop.c. */
#ifndef BENCH_REQUEST_H
#define BENCH_REQUEST_H

#define BENCH_KEY "sk-bench-not-a-secret"
#define REQUEST "{\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"}," \
                "{\"role\":\"user\",\"content\":\"Say hello in five words.\"}]," \
                "\"max_tokens\":50,\"temperature\":0.2}"
/* What the library sends upstream for REQUEST: the baseline sends the same bytes. */
#define UPSTREAM_REQUEST "{\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"}," \
                "{\"role\":\"user\",\"content\":\"Say hello in five words.\"}]," \
                "\"max_tokens\":50,\"temperature\":0.2,\"model\":\"gpt-bench\"}"

#endif
