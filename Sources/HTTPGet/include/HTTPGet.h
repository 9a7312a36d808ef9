// A blocking HTTP(S) GET for `moonlab data fetch`, through libcurl loaded with dlopen on
// first use. The binary does not link libcurl (or Foundation's networking, which pulls in
// libcurl and some twenty libraries behind it): start-up stays short and a release binary
// runs where libcurl is missing, until a download is asked for (docs/data.md, "Fetching").
#ifndef MOONLAB_HTTPGET_H
#define MOONLAB_HTTPGET_H

#include <stddef.h>

// The body of a finished request, malloc'd (free it with free()), and its HTTP status.
typedef struct {
  unsigned char *data;
  size_t length;
  long status;
} moonlab_http_response;

// Fetches `url` (http or https only, following up to 5 redirects), keeping at most
// `max_bytes` of body. Returns 0 and fills `response`, or -1 with a one-line reason in
// `error` (libcurl missing, connection failure, body over `max_bytes`, out of memory).
// Safe to call from several threads.
int moonlab_http_get(const char *url, size_t max_bytes, moonlab_http_response *response,
                     char *error, size_t error_size);

#endif
