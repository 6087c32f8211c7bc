/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny test harness for the C tests: CHECK records a failure and goes on,
 * so one run reports every broken expectation. */
#ifndef MODELS_TEST_CHECK_H
#define MODELS_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond) do { \
    check_count++; \
    if (!(cond)) { check_failures++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR_CONTAINS(haystack, needle) do { \
    const char *h_ = (haystack); \
    check_count++; \
    if (h_ == NULL || strstr(h_, (needle)) == NULL) { \
        check_failures++; \
        fprintf(stderr, "%s:%d: expected \"%s\" to contain \"%s\"\n", __FILE__, __LINE__, h_ ? h_ : "(null)", (needle)); \
    } \
} while (0)

static int check_report(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures == 0 ? 0 : 1;
}

#endif
