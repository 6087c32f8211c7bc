/* SPDX-License-Identifier: Apache-2.0 */
/* CModelsSupport: the few C shims the Swift core needs.
 *
 * libcurl's curl_easy_setopt/getinfo and curl_multi_setopt are variadic, and
 * jansson's type tests and reference counting are macros or inline functions;
 * Swift can call neither reliably. Each shim here is a one-line, typed wrapper.
 * Nothing in this target holds state except the share handle's locks. */
#ifndef CMODELS_SUPPORT_H
#define CMODELS_SUPPORT_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ---- libcurl ---------------------------------------------------------- */

CURLcode cms_easy_setopt_long(CURL *h, CURLoption opt, long value);
CURLcode cms_easy_setopt_off(CURL *h, CURLoption opt, curl_off_t value);
CURLcode cms_easy_setopt_ptr(CURL *h, CURLoption opt, const void *value);
CURLcode cms_easy_setopt_write(CURL *h, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode cms_easy_setopt_header(CURL *h, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode cms_easy_setopt_xferinfo(CURL *h, int (*fn)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t));
CURLcode cms_easy_setopt_share(CURL *h, CURLSH *share);
CURLcode cms_easy_setopt_sockopt(CURL *h, int (*fn)(void *, curl_socket_t, curlsocktype));
CURLcode cms_easy_setopt_closesocket(CURL *h, int (*fn)(void *, curl_socket_t));
CURLcode cms_easy_setopt_prereq(CURL *h, int (*fn)(void *, char *, char *, int, int));
CURLcode cms_easy_getinfo_long(CURL *h, CURLINFO info, long *out);
CURLcode cms_easy_getinfo_off(CURL *h, CURLINFO info, curl_off_t *out);
CURLMcode cms_multi_setopt_long(CURLM *m, CURLMoption opt, long value);
CURLMcode cms_multi_setopt_ptr(CURLM *m, CURLMoption opt, void *value);
CURLMcode cms_multi_setopt_socketfn(CURLM *m, int (*fn)(CURL *, curl_socket_t, int, void *, void *));
CURLMcode cms_multi_setopt_timerfn(CURLM *m, int (*fn)(CURLM *, long, void *));

/* ---- the engine's descriptors ------------------------------------------
 * epoll_event is a packed struct on x86_64, which Swift cannot read reliably:
 * these take and give plain ints. Each returns what the system call does. */
int cms_epoll_new(void);                                  /* epoll_create1(EPOLL_CLOEXEC) */
int cms_epoll_set(int epfd, int fd, int in, int out);     /* add, or modify when present */
int cms_epoll_del(int epfd, int fd);
/* Waits up to timeout_ms; fills fds[i] and flags[i] (bit 0 in, 1 out, 2 error/hang-up). */
int cms_epoll_wait(int epfd, int *fds, int *flags, int max, int timeout_ms);
int cms_eventfd_new(void);                                /* non-blocking, close-on-exec */
int cms_timerfd_new(void);                                /* CLOCK_MONOTONIC, non-blocking */
int cms_timerfd_arm(int fd, long long ms);                /* relative; < 0 disarms, 0 fires at once */

/* A share handle for connections, DNS and TLS sessions, with a pthread mutex per
 * lock kind so easy handles on any thread can use it. Freed with cms_share_free,
 * once no easy handle uses it. */
typedef struct cms_share cms_share;
cms_share *cms_share_new(void);
CURLSH *cms_share_handle(cms_share *s);
void cms_share_free(cms_share *s);

/* ---- jansson ---------------------------------------------------------- */

int cms_json_type(const json_t *j);              /* a json_type value */
json_t *cms_json_incref(json_t *j);
void cms_json_decref(json_t *j);

#endif
