#ifndef AISH_CCURL_SHIM_H
#define AISH_CCURL_SHIM_H
#include <curl/curl.h>
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

// libcurl is opened on first use (dlopen), not linked: the module map links nothing, and no
// Swift code names a curl_ function. Loading libcurl and the ~40 libraries it needs (TLS,
// Kerberos, LDAP, ...) is most of a process's start-up, and most commands never use it.
// The table's types come from curl.h itself, so a signature cannot drift.
struct aish_curl_functions {
    __typeof__(&curl_global_init) global_init;
    __typeof__(&curl_easy_init) easy_init;
    __typeof__(&curl_easy_cleanup) easy_cleanup;
    __typeof__(&curl_easy_reset) easy_reset;
    __typeof__(&curl_easy_pause) easy_pause;
    __typeof__(&curl_easy_strerror) easy_strerror;
    __typeof__(&curl_easy_setopt) easy_setopt;     // variadic: the wrappers below call it
    __typeof__(&curl_easy_getinfo) easy_getinfo;   // variadic
    __typeof__(&curl_multi_init) multi_init;
    __typeof__(&curl_multi_cleanup) multi_cleanup;
    __typeof__(&curl_multi_add_handle) multi_add_handle;
    __typeof__(&curl_multi_remove_handle) multi_remove_handle;
    __typeof__(&curl_multi_info_read) multi_info_read;
    __typeof__(&curl_multi_setopt) multi_setopt;   // variadic
    __typeof__(&curl_multi_socket_action) multi_socket_action;
    __typeof__(&curl_slist_append) slist_append;
    __typeof__(&curl_slist_free_all) slist_free_all;
    __typeof__(&curl_url) url;
    __typeof__(&curl_url_cleanup) url_cleanup;
    __typeof__(&curl_url_set) url_set;
};

// Fills `f` from an opened libcurl; returns NULL, or the name of the first missing function.
static inline const char *aish_curl_bind(void *library, struct aish_curl_functions *f) {
#define AISH_CURL_BIND(field) \
    if (!(f->field = (__typeof__(f->field))dlsym(library, "curl_" #field))) return "curl_" #field;
    AISH_CURL_BIND(global_init)
    AISH_CURL_BIND(easy_init) AISH_CURL_BIND(easy_cleanup) AISH_CURL_BIND(easy_reset)
    AISH_CURL_BIND(easy_pause) AISH_CURL_BIND(easy_strerror) AISH_CURL_BIND(easy_setopt)
    AISH_CURL_BIND(easy_getinfo)
    AISH_CURL_BIND(multi_init) AISH_CURL_BIND(multi_cleanup) AISH_CURL_BIND(multi_add_handle)
    AISH_CURL_BIND(multi_remove_handle) AISH_CURL_BIND(multi_info_read)
    AISH_CURL_BIND(multi_setopt) AISH_CURL_BIND(multi_socket_action)
    AISH_CURL_BIND(slist_append) AISH_CURL_BIND(slist_free_all)
    AISH_CURL_BIND(url) AISH_CURL_BIND(url_cleanup) AISH_CURL_BIND(url_set)
#undef AISH_CURL_BIND
    return NULL;
}

// curl_easy_setopt/getinfo are variadic and cannot be called from Swift: one wrapper per
// argument type, not per option. Only Sources/AishHTTP uses them.

static inline CURLcode aish_curl_setopt_long(__typeof__(&curl_easy_setopt) setopt, CURL *h, CURLoption o, long v) { return setopt(h, o, v); }
static inline CURLcode aish_curl_setopt_off(__typeof__(&curl_easy_setopt) setopt, CURL *h, CURLoption o, curl_off_t v) { return setopt(h, o, v); }
static inline CURLcode aish_curl_setopt_string(__typeof__(&curl_easy_setopt) setopt, CURL *h, CURLoption o, const char *v) { return setopt(h, o, v); }
static inline CURLcode aish_curl_setopt_pointer(__typeof__(&curl_easy_setopt) setopt, CURL *h, CURLoption o, void *v) { return setopt(h, o, v); }
// CURLU parsing flags as libcurl's own for CURLOPT_URL (the macros are not imported).
static inline unsigned int aish_curlu_flags_as_curlopt_url(void) { return CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME; }
static inline CURLcode aish_curl_setopt_slist(__typeof__(&curl_easy_setopt) setopt, CURL *h, CURLoption o, struct curl_slist *v) { return setopt(h, o, v); }
// WRITEFUNCTION and HEADERFUNCTION share this signature.
static inline CURLcode aish_curl_setopt_write_callback(__typeof__(&curl_easy_setopt) setopt, CURL *h, CURLoption o, curl_write_callback v) {
    return setopt(h, o, v);
}

// PREREQFUNCTION (libcurl 7.80): called as the request is about to go out on the connection.
static inline CURLcode aish_curl_setopt_prereq_callback(__typeof__(&curl_easy_setopt) setopt, CURL *h, curl_prereq_callback v) {
    return setopt(h, CURLOPT_PREREQFUNCTION, v);
}

// The multi's socket and timer callbacks (the event loop watches the sockets, not libcurl).
static inline CURLMcode aish_curl_multi_setopt_socket_callback(__typeof__(&curl_multi_setopt) setopt, CURLM *m, curl_socket_callback v) {
    return setopt(m, CURLMOPT_SOCKETFUNCTION, v);
}
static inline CURLMcode aish_curl_multi_setopt_timer_callback(__typeof__(&curl_multi_setopt) setopt, CURLM *m, curl_multi_timer_callback v) {
    return setopt(m, CURLMOPT_TIMERFUNCTION, v);
}
static inline CURLMcode aish_curl_multi_setopt_pointer(__typeof__(&curl_multi_setopt) setopt, CURLM *m, CURLMoption o, void *v) { return setopt(m, o, v); }

static inline CURLcode aish_curl_getinfo_long(__typeof__(&curl_easy_getinfo) getinfo, CURL *h, CURLINFO i, long *v) { return getinfo(h, i, v); }

// CURLMsg keeps its result in an anonymous union; read it here rather than rely on how
// Swift imports the union.
static inline CURLcode aish_curl_msg_result(const CURLMsg *m) { return m->data.result; }
static inline int aish_curl_msg_is_done(const CURLMsg *m) { return m->msg == CURLMSG_DONE; }

// The load engine's precise timer: a timerfd in the multi's epoll set, so one wait ends at
// socket activity or at the next scheduled send, to the microsecond (epoll's own timeout
// counts whole milliseconds). Glibc's Swift module has no timerfd.
static inline int aish_timer_open(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }
// Arms the timer to fire once at `ns` on CLOCK_MONOTONIC (absolute).
static inline int aish_timer_arm(int fd, uint64_t ns) {
    struct itimerspec t = {{0, 0}, {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)}};
    if (t.it_value.tv_sec == 0 && t.it_value.tv_nsec == 0) t.it_value.tv_nsec = 1;  // 0 would disarm
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &t, NULL);
}
// Clears an expiry (non-blocking read of the expiry count).
static inline void aish_timer_clear(int fd) { uint64_t n; ssize_t r = read(fd, &n, sizeof n); (void)r; }

// epoll for the multi's sockets. epoll_event is a packed struct holding a union: it stays
// on this side, and Swift sees file descriptors and libcurl's own masks (CURL_POLL_* in,
// CURL_CSELECT_* out).

// Watches `fd` for what libcurl asks (CURL_POLL_IN / _OUT / _INOUT), watched before or not.
static inline int aish_epoll_watch(int ep, int fd, int what) {
    struct epoll_event e = {.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u),
                            .data = {.fd = fd}};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) == 0) return 0;
    if (errno != ENOENT) return -1;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}
// Stops watching `fd` (a closed descriptor has already left the set: not an error).
static inline void aish_epoll_unwatch(int ep, int fd) {
    struct epoll_event e = {0};
    (void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, &e);
}
enum { AISH_EPOLL_BATCH = 256 };
// Waits up to `timeout_ms` (0: only looks) for ready descriptors; fills `fds` and `masks`
// (AISH_EPOLL_BATCH each, masks as CURL_CSELECT_* bits) and returns how many, or -1.
static inline int aish_epoll_wait(int ep, int *fds, int *masks, int timeout_ms) {
    struct epoll_event ready[AISH_EPOLL_BATCH];
    int n = epoll_wait(ep, ready, AISH_EPOLL_BATCH, timeout_ms);
    for (int i = 0; i < n; i++) {
        uint32_t ev = ready[i].events;
        fds[i] = ready[i].data.fd;
        masks[i] = ((ev & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((ev & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                   ((ev & EPOLLERR) ? CURL_CSELECT_ERR : 0);
    }
    return n;
}
static inline int aish_epoll_open(void) { return epoll_create1(EPOLL_CLOEXEC); }

#endif
