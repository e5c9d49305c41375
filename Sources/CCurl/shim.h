#ifndef AISH_CCURL_SHIM_H
#define AISH_CCURL_SHIM_H
#include <curl/curl.h>
// curl_easy_setopt/getinfo are variadic and cannot be called from Swift: one wrapper
// per argument type, not per option. (Extended by the transport as needed.)
static inline CURLcode aish_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode aish_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode aish_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
#endif
