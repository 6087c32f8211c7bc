/* SPDX-License-Identifier: Apache-2.0 */
/* A small JSON path reader for the C tests, which use only the C API (no
 * jansson): jp_get(json, "0.body.system.0.text") returns the raw text of the
 * value at that path (strings keep their quotes and escapes), malloc'd, or
 * NULL when the path does not exist. */
#ifndef MODELS_TEST_JSON_PATH_H
#define MODELS_TEST_JSON_PATH_H

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static inline const char *jp_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

/* The end of the value starting at p, or NULL when it is malformed. */
static inline const char *jp_skip(const char *p) {
    p = jp_ws(p);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && p[1]) p++;
        return *p ? p + 1 : NULL;
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (; *p; p++) {
            if (*p == '"') {
                p = jp_skip(p);
                if (!p) return NULL;
                p--;
            } else if (*p == '{' || *p == '[') {
                depth++;
            } else if ((*p == '}' || *p == ']') && --depth == 0) {
                return p + 1;
            }
        }
        return NULL;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']' && !isspace((unsigned char)*p)) p++;
    return p;
}

static inline const char *jp_find(const char *json, const char *path) {
    const char *p = jp_ws(json);
    while (*path) {
        size_t n = strcspn(path, ".");
        const char *seg = path;
        path += n;
        if (*path == '.') path++;
        if (*p == '{') {
            int found = 0;
            p = jp_ws(p + 1);
            while (*p == '"' && !found) {
                const char *end = jp_skip(p);
                if (!end) return NULL;
                found = (size_t)(end - p - 2) == n && memcmp(p + 1, seg, n) == 0;
                p = jp_ws(end);
                if (*p != ':') return NULL;
                p = jp_ws(p + 1);
                if (found) break;
                if (!(p = jp_skip(p))) return NULL;
                p = jp_ws(p);
                if (*p == ',') p = jp_ws(p + 1);
            }
            if (!found) return NULL;
        } else if (*p == '[') {
            char *digits_end;
            long index = strtol(seg, &digits_end, 10);
            if (digits_end != seg + n || index < 0) return NULL;
            p = jp_ws(p + 1);
            for (; index > 0; index--) {
                if (*p == ']' || !(p = jp_skip(p))) return NULL;
                p = jp_ws(p);
                if (*p != ',') return NULL;
                p = jp_ws(p + 1);
            }
            if (*p == ']') return NULL;
        } else {
            return NULL;
        }
    }
    return p;
}

static inline char *jp_get(const char *json, const char *path) {
    if (!json) return NULL;
    const char *start = jp_find(json, path);
    const char *end = start ? jp_skip(start) : NULL;
    if (!end) return NULL;
    char *out = malloc((size_t)(end - start) + 1);
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return out;
}

/* The number of elements of the array at path; -1 when it is not an array. */
static inline int jp_len(const char *json, const char *path) {
    const char *p = json ? jp_find(json, path) : NULL;
    if (!p || *p != '[') return -1;
    int n = 0;
    p = jp_ws(p + 1);
    while (*p && *p != ']') {
        if (!(p = jp_skip(p))) return -1;
        n++;
        p = jp_ws(p);
        if (*p == ',') p = jp_ws(p + 1);
    }
    return n;
}

/* Appends the raw text inside the string at path (escapes kept) to buf. */
static inline void jp_append_string(char *buf, size_t size, const char *json, const char *path) {
    char *v = jp_get(json, path);
    if (v && v[0] == '"') {
        size_t used = strlen(buf), len = strlen(v) - 2;
        if (used + len < size) {
            memcpy(buf + used, v + 1, len);
            buf[used + len] = '\0';
        }
    }
    free(v);
}

#endif
