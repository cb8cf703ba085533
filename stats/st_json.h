/*  st_json: reads one JSON text (a line of a JSON Lines file) as the list of its scalars, each
    with its path: {"a":1,"p":{"k":5,"d":[[1,60]]}} gives a = 1, p.k = 5, p.d[0][0] = 1,
    p.d[0][1] = 60. Enough for `mimamori-stats verify`, which must read files from anywhere:
    strict RFC 8259 syntax, bounded depth and sizes, never trusts the input. Owner: stats/. */
#ifndef ST_JSON_H
#define ST_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    ST_JSON_STRING,
    ST_JSON_NUMBER,
    ST_JSON_TRUE,
    ST_JSON_FALSE,
    ST_JSON_NULL
} st_json_type_t;

#define ST_JSON_PATH_MAX 128
#define ST_JSON_VALUE_MAX 512
#define ST_JSON_DEPTH_MAX 8

//  Called for each scalar: `path`, its type, its text (a string unescaped to UTF-8, a number
//  as written; "" for the literals). Non-zero stops the walk.
typedef int (st_json_fn) (void *arg, const char *path, st_json_type_t type, const char *value);

//  Walks `text` (`len` bytes: exactly one JSON value, whitespace around it allowed). 0, -1 if
//  it is not valid JSON within the limits (`err` says where and why), or what `fn` returned.
int st_json_walk (const char *text, size_t len, st_json_fn *fn, void *arg, char *err,
                  size_t err_size);

#endif
