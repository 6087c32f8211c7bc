/* SPDX-License-Identifier: Apache-2.0 */
#include "CModelsSupport.h"

#include <pthread.h>
#include <stdlib.h>

CURLcode cms_easy_setopt_long(CURL *h, CURLoption opt, long value) { return curl_easy_setopt(h, opt, value); }
CURLcode cms_easy_setopt_off(CURL *h, CURLoption opt, curl_off_t value) { return curl_easy_setopt(h, opt, value); }
CURLcode cms_easy_setopt_ptr(CURL *h, CURLoption opt, const void *value) { return curl_easy_setopt(h, opt, value); }
CURLcode cms_easy_setopt_write(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fn);
}
CURLcode cms_easy_setopt_header(CURL *h, size_t (*fn)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fn);
}
CURLcode cms_easy_setopt_xferinfo(CURL *h, int (*fn)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t)) {
    return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, fn);
}
CURLcode cms_easy_setopt_share(CURL *h, CURLSH *share) { return curl_easy_setopt(h, CURLOPT_SHARE, share); }
CURLcode cms_easy_setopt_sockopt(CURL *h, int (*fn)(void *, curl_socket_t, curlsocktype)) {
    return curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, fn);
}
CURLcode cms_easy_setopt_closesocket(CURL *h, int (*fn)(void *, curl_socket_t)) {
    return curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, fn);
}
CURLcode cms_easy_setopt_prereq(CURL *h, int (*fn)(void *, char *, char *, int, int)) {
    return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, fn);
}
CURLcode cms_easy_getinfo_long(CURL *h, CURLINFO info, long *out) { return curl_easy_getinfo(h, info, out); }
CURLcode cms_easy_getinfo_off(CURL *h, CURLINFO info, curl_off_t *out) { return curl_easy_getinfo(h, info, out); }
CURLMcode cms_multi_setopt_long(CURLM *m, CURLMoption opt, long value) { return curl_multi_setopt(m, opt, value); }

/* A share handle with one mutex per curl_lock_data kind; libcurl asks for each by number. */
struct cms_share {
    CURLSH *handle;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
};

static void cms_share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *user) {
    (void)h; (void)access;
    cms_share *s = user;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_lock(&s->locks[data]);
}

static void cms_share_unlock(CURL *h, curl_lock_data data, void *user) {
    (void)h;
    cms_share *s = user;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST) pthread_mutex_unlock(&s->locks[data]);
}

cms_share *cms_share_new(void) {
    cms_share *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->handle = curl_share_init();
    if (!s->handle) { free(s); return NULL; }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_init(&s->locks[i], NULL);
    curl_share_setopt(s->handle, CURLSHOPT_LOCKFUNC, cms_share_lock);
    curl_share_setopt(s->handle, CURLSHOPT_UNLOCKFUNC, cms_share_unlock);
    curl_share_setopt(s->handle, CURLSHOPT_USERDATA, s);
    curl_share_setopt(s->handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(s->handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(s->handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return s;
}

CURLSH *cms_share_handle(cms_share *s) { return s ? s->handle : NULL; }

void cms_share_free(cms_share *s) {
    if (!s) return;
    curl_share_cleanup(s->handle);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) pthread_mutex_destroy(&s->locks[i]);
    free(s);
}

int cms_json_type(const json_t *j) { return j ? (int)json_typeof(j) : -1; }
json_t *cms_json_incref(json_t *j) { return json_incref(j); }
void cms_json_decref(json_t *j) { json_decref(j); }

CURLMcode cms_multi_setopt_ptr(CURLM *m, CURLMoption opt, void *value) { return curl_multi_setopt(m, opt, value); }
CURLMcode cms_multi_setopt_socketfn(CURLM *m, int (*fn)(CURL *, curl_socket_t, int, void *, void *)) {
    return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, fn);
}
CURLMcode cms_multi_setopt_timerfn(CURLM *m, int (*fn)(CURLM *, long, void *)) {
    return curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, fn);
}

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

int cms_epoll_new(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cms_epoll_set(int epfd, int fd, int in, int out) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == 0) return 0;
    if (errno != ENOENT) return -1;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int cms_epoll_del(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int cms_epoll_wait(int epfd, int *fds, int *flags, int max, int timeout_ms) {
    struct epoll_event ev[128];
    if (max > 128) max = 128;
    int n = epoll_wait(epfd, ev, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        fds[i] = ev[i].data.fd;
        flags[i] = ((ev[i].events & EPOLLIN) ? 1 : 0) | ((ev[i].events & EPOLLOUT) ? 2 : 0)
                 | ((ev[i].events & (EPOLLERR | EPOLLHUP)) ? 4 : 0);
    }
    return n;
}

int cms_eventfd_new(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int cms_timerfd_new(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

int cms_timerfd_arm(int fd, long long ms) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    if (ms >= 0) {
        spec.it_value.tv_sec = (time_t)(ms / 1000);
        spec.it_value.tv_nsec = (long)(ms % 1000) * 1000000L + 1; /* 0 would disarm it */
    }
    return timerfd_settime(fd, 0, &spec, NULL);
}
