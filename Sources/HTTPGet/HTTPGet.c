// libcurl through dlopen (include/HTTPGet.h says why), so without its headers: the
// declarations below are the few parts of libcurl's ABI used here, whose numbers libcurl
// never changes (docs/data.md, "Fetching").
#include "HTTPGet.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void CURL;
typedef int CURLcode;
typedef size_t (*write_fn)(char *, size_t, size_t, void *);

enum {
  CURLE_OK = 0,
  CURL_GLOBAL_DEFAULT = 3,
  CURL_ERROR_SIZE = 256,
  CURLPROTO_HTTP = 1,
  CURLPROTO_HTTPS = 2,
  // CURLOPTTYPE_LONG + n, CURLOPTTYPE_OBJECTPOINT (10000) + n, FUNCTIONPOINT (20000) + n.
  CURLOPT_WRITEDATA = 10001,
  CURLOPT_URL = 10002,
  CURLOPT_ERRORBUFFER = 10010,
  CURLOPT_LOW_SPEED_LIMIT = 19,
  CURLOPT_LOW_SPEED_TIME = 20,
  CURLOPT_USERAGENT = 10018,
  CURLOPT_FOLLOWLOCATION = 52,
  CURLOPT_MAXREDIRS = 68,
  CURLOPT_CONNECTTIMEOUT = 78,
  CURLOPT_NOSIGNAL = 99,
  CURLOPT_PROTOCOLS = 181,
  CURLOPT_REDIR_PROTOCOLS = 182,
  CURLOPT_WRITEFUNCTION = 20011,
  CURLINFO_RESPONSE_CODE = 0x200000 + 2,  // CURLINFO_LONG + 2
};

static struct {
  CURLcode (*global_init)(long flags);
  CURL *(*easy_init)(void);
  CURLcode (*easy_setopt)(CURL *, int option, ...);
  CURLcode (*easy_perform)(CURL *);
  CURLcode (*easy_getinfo)(CURL *, int info, ...);
  void (*easy_cleanup)(CURL *);
  const char *(*easy_strerror)(CURLcode);
} curl;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static char curl_load_error[512];

// Debian's libcurl4 (OpenSSL), else its GnuTLS flavour; any of them serves a plain GET.
static void load_curl(void) {
  const char *names[] = {"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl-nss.so.4"};
  void *lib = NULL;
  for (size_t i = 0; i < sizeof names / sizeof names[0] && !lib; i++)
    lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(curl_load_error, sizeof curl_load_error,
             "downloading needs libcurl (libcurl.so.4), which is not installed (Debian/Ubuntu: "
             "apt-get install libcurl4)");
    return;
  }
#define SYM(field, name)                                                                  \
  if (!(*(void **)&curl.field = dlsym(lib, name))) {                                      \
    snprintf(curl_load_error, sizeof curl_load_error, "libcurl lacks %s", name);          \
    return;                                                                               \
  }
  SYM(global_init, "curl_global_init")
  SYM(easy_init, "curl_easy_init")
  SYM(easy_setopt, "curl_easy_setopt")
  SYM(easy_perform, "curl_easy_perform")
  SYM(easy_getinfo, "curl_easy_getinfo")
  SYM(easy_cleanup, "curl_easy_cleanup")
  SYM(easy_strerror, "curl_easy_strerror")
#undef SYM
  CURLcode rc = curl.global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    snprintf(curl_load_error, sizeof curl_load_error, "libcurl failed to start: %s",
             curl.easy_strerror(rc));
}

typedef struct {
  unsigned char *data;
  size_t length, capacity, max_bytes;
  int too_large, out_of_memory;
} body;

static size_t append(char *chunk, size_t size, size_t count, void *context) {
  body *b = context;
  size_t n = size * count;
  if (n > b->max_bytes - b->length) {
    b->too_large = 1;
    return 0;  // libcurl stops with CURLE_WRITE_ERROR
  }
  if (b->length + n > b->capacity) {
    size_t capacity = b->capacity ? b->capacity : 1 << 16;
    while (capacity < b->length + n) capacity = capacity > b->max_bytes / 2 ? b->max_bytes : 2 * capacity;
    unsigned char *grown = realloc(b->data, capacity);
    if (!grown) {
      b->out_of_memory = 1;
      return 0;
    }
    b->data = grown;
    b->capacity = capacity;
  }
  memcpy(b->data + b->length, chunk, n);
  b->length += n;
  return n;
}

int moonlab_http_get(const char *url, size_t max_bytes, moonlab_http_response *response,
                     char *error, size_t error_size) {
  pthread_once(&curl_once, load_curl);
  if (curl_load_error[0]) {
    snprintf(error, error_size, "%s", curl_load_error);
    return -1;
  }
  CURL *handle = curl.easy_init();
  if (!handle) {
    snprintf(error, error_size, "libcurl could not start a request");
    return -1;
  }
  body b = {.max_bytes = max_bytes};
  char curl_error[CURL_ERROR_SIZE] = "";
  curl.easy_setopt(handle, CURLOPT_URL, url);
  curl.easy_setopt(handle, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl.easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl.easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
  curl.easy_setopt(handle, CURLOPT_MAXREDIRS, 5L);
  curl.easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: we have threads
  curl.easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, 30L);
  // A transfer slower than 1 byte/s for a minute is dead (URLSession's 60 s idle timeout).
  curl.easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl.easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, 60L);
  curl.easy_setopt(handle, CURLOPT_USERAGENT, "moonlab");
  curl.easy_setopt(handle, CURLOPT_ERRORBUFFER, curl_error);
  curl.easy_setopt(handle, CURLOPT_WRITEFUNCTION, (write_fn)append);
  curl.easy_setopt(handle, CURLOPT_WRITEDATA, (void *)&b);
  CURLcode rc = curl.easy_perform(handle);
  long status = 0;
  curl.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  curl.easy_cleanup(handle);
  if (rc != CURLE_OK) {
    if (b.too_large)
      snprintf(error, error_size, "the response is larger than %zu bytes", max_bytes);
    else if (b.out_of_memory)
      snprintf(error, error_size, "out of memory after %zu bytes", b.length);
    else
      snprintf(error, error_size, "%s", curl_error[0] ? curl_error : curl.easy_strerror(rc));
    free(b.data);
    return -1;
  }
  response->data = b.data;
  response->length = b.length;
  response->status = status;
  return 0;
}
