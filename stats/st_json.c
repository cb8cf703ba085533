/*  st_json: see st_json.h. A recursive-descent reader; the path is built in a fixed buffer
    and cut back after each member. */
#include "st_json.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *p, *end, *start;
    st_json_fn *fn;
    void *arg;
    char path[ST_JSON_PATH_MAX];
    size_t plen;
    char *err;
    size_t err_size;
    int stop;  //  what fn returned
} s_rd_t;

static int
s_fail (s_rd_t *r, const char *why)
{
    snprintf (r->err, r->err_size, "invalid JSON at byte %ld: %s", (long) (r->p - r->start), why);
    return -1;
}

static void
s_ws (s_rd_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n'))
        r->p++;
}

static int
s_hex4 (s_rd_t *r, unsigned *v)
{
    if (r->end - r->p < 4)
        return -1;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *r->p++;
        unsigned d = c >= '0' && c <= '9'   ? (unsigned) (c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned) (c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned) (c - 'A' + 10)
                                            : 16;
        if (d == 16)
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

//  Appends code point `cp` as UTF-8 to out (size ST_JSON_VALUE_MAX); -1 if it does not fit.
static int
s_utf8 (char *out, size_t *n, unsigned cp)
{
    char b[4];
    size_t k;
    if (cp < 0x80)
        b[0] = (char) cp, k = 1;
    else if (cp < 0x800)
        b[0] = (char) (0xc0 | cp >> 6), b[1] = (char) (0x80 | (cp & 0x3f)), k = 2;
    else if (cp < 0x10000)
        b[0] = (char) (0xe0 | cp >> 12), b[1] = (char) (0x80 | (cp >> 6 & 0x3f)),
        b[2] = (char) (0x80 | (cp & 0x3f)), k = 3;
    else
        b[0] = (char) (0xf0 | cp >> 18), b[1] = (char) (0x80 | (cp >> 12 & 0x3f)),
        b[2] = (char) (0x80 | (cp >> 6 & 0x3f)), b[3] = (char) (0x80 | (cp & 0x3f)), k = 4;
    if (*n + k >= ST_JSON_VALUE_MAX)
        return -1;
    memcpy (out + *n, b, k);
    *n += k;
    return 0;
}

//  A string (the reader at its opening quote) into out, NUL-terminated.
static int
s_string (s_rd_t *r, char *out)
{
    size_t n = 0;
    r->p++;
    while (true) {
        if (r->p >= r->end)
            return s_fail (r, "unterminated string");
        unsigned char c = (unsigned char) *r->p++;
        if (c == '"')
            break;
        if (c < 0x20)
            return s_fail (r, "control character in a string");
        if (c != '\\') {
            if (n + 1 >= ST_JSON_VALUE_MAX)
                return s_fail (r, "string too long");
            out[n++] = (char) c;
            continue;
        }
        if (r->p >= r->end)
            return s_fail (r, "unterminated escape");
        char e = *r->p++;
        const char *simple = strchr ("\"\\/bfnrt", e);
        if (simple && e) {
            static const char to[] = "\"\\/\b\f\n\r\t";
            if (n + 1 >= ST_JSON_VALUE_MAX)
                return s_fail (r, "string too long");
            out[n++] = to[simple - "\"\\/bfnrt"];
            continue;
        }
        unsigned cp;
        if (e != 'u' || s_hex4 (r, &cp) == -1)
            return s_fail (r, "bad escape");
        if (cp >= 0xd800 && cp < 0xdc00) {  //  a surrogate pair
            unsigned lo;
            if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u')
                return s_fail (r, "lone surrogate");
            r->p += 2;
            if (s_hex4 (r, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
                return s_fail (r, "lone surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        else if (cp >= 0xdc00 && cp < 0xe000)
            return s_fail (r, "lone surrogate");
        if (cp == 0 || s_utf8 (out, &n, cp) == -1)
            return s_fail (r, cp ? "string too long" : "NUL in a string");
    }
    out[n] = '\0';
    return 0;
}

static int
s_number (s_rd_t *r, char *out)
{
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9')
        return s_fail (r, "bad number");
    if (*r->p == '0')
        r->p++;
    else
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return s_fail (r, "bad fraction");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return s_fail (r, "bad exponent");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    size_t n = (size_t) (r->p - s);
    if (n >= ST_JSON_VALUE_MAX)
        return s_fail (r, "number too long");
    memcpy (out, s, n);
    out[n] = '\0';
    return 0;
}

static int s_value (s_rd_t *r, int depth);

//  Extends the path by `.key` or `[i]`; -1 if too long.
static int
s_push (s_rd_t *r, const char *key, long i)
{
    int w = key ? snprintf (r->path + r->plen, sizeof r->path - r->plen, "%s%s", r->plen ? "." : "",
                            key)
                : snprintf (r->path + r->plen, sizeof r->path - r->plen, "[%ld]", i);
    if (w < 0 || (size_t) w >= sizeof r->path - r->plen)
        return s_fail (r, "path too deep or key too long");
    r->plen += (size_t) w;
    return 0;
}

//  One member's or element's value, its path extended by `key` (or `[index]`) meanwhile.
static int
s_nested (s_rd_t *r, const char *key, long index, int depth)
{
    size_t saved = r->plen;
    if (s_push (r, key, index) == -1)
        return -1;
    int rc = s_value (r, depth + 1);
    r->plen = saved;
    r->path[saved] = '\0';
    return rc;
}

//  After a member or element: 1 for another (','), 0 at `close`, -1 otherwise.
static int
s_next (s_rd_t *r, char close)
{
    s_ws (r);
    if (r->p < r->end && (*r->p == ',' || *r->p == close))
        return *r->p++ == ',';
    return s_fail (r, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

static int
s_object (s_rd_t *r, int depth)
{
    r->p++;
    s_ws (r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return 0;
    }
    while (true) {
        s_ws (r);
        if (r->p >= r->end || *r->p != '"')
            return s_fail (r, "expected a member name");
        char key[ST_JSON_VALUE_MAX];
        if (s_string (r, key) == -1)
            return -1;
        s_ws (r);
        if (r->p >= r->end || *r->p++ != ':')
            return s_fail (r, "expected ':'");
        int rc = s_nested (r, key, 0, depth);
        if (rc)
            return rc;
        if ((rc = s_next (r, '}')) != 1)
            return rc;
    }
}

static int
s_array (s_rd_t *r, int depth)
{
    r->p++;
    s_ws (r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return 0;
    }
    for (long i = 0;; i++) {
        int rc = s_nested (r, NULL, i, depth);
        if (rc)
            return rc;
        if ((rc = s_next (r, ']')) != 1)
            return rc;
    }
}

static int
s_literal (s_rd_t *r, const char *word)
{
    size_t n = strlen (word);
    if ((size_t) (r->end - r->p) < n || memcmp (r->p, word, n) != 0)
        return s_fail (r, "unexpected character");
    r->p += n;
    return 0;
}

static int
s_value (s_rd_t *r, int depth)
{
    if (depth > ST_JSON_DEPTH_MAX)
        return s_fail (r, "nested too deep");
    s_ws (r);
    if (r->p >= r->end)
        return s_fail (r, "expected a value");
    char v[ST_JSON_VALUE_MAX];
    st_json_type_t type;
    switch (*r->p) {
    case '{': return s_object (r, depth);
    case '[': return s_array (r, depth);
    case '"':
        if (s_string (r, v) == -1)
            return -1;
        type = ST_JSON_STRING;
        break;
    case 't':
        if (s_literal (r, "true") == -1)
            return -1;
        type = ST_JSON_TRUE, v[0] = '\0';
        break;
    case 'f':
        if (s_literal (r, "false") == -1)
            return -1;
        type = ST_JSON_FALSE, v[0] = '\0';
        break;
    case 'n':
        if (s_literal (r, "null") == -1)
            return -1;
        type = ST_JSON_NULL, v[0] = '\0';
        break;
    default:
        if (s_number (r, v) == -1)
            return -1;
        type = ST_JSON_NUMBER;
    }
    int rc = r->fn (r->arg, r->path, type, v);
    if (rc)
        r->stop = rc;
    return rc;
}

int
st_json_walk (const char *text, size_t len, st_json_fn *fn, void *arg, char *err, size_t err_size)
{
    s_rd_t r = {.p = text, .end = text + len, .start = text, .fn = fn, .arg = arg};
    r.err = err;
    r.err_size = err_size;
    err[0] = '\0';
    int rc = s_value (&r, 0);
    if (rc)
        return r.stop ? r.stop : -1;
    s_ws (&r);
    if (r.p != r.end)
        return s_fail (&r, "text after the value");
    return 0;
}
