/*  mm_error: typed errors with readable reasons (see mm_error.h). */
#include "mm_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *s_names[MM_ERR_COUNT_] = {
    [MM_OK] = "ok",
    [MM_ERR_TRUNCATED] = "truncated",
    [MM_ERR_TYPE] = "wrong type",
    [MM_ERR_RANGE] = "out of range",
    [MM_ERR_TOO_LONG] = "too long",
    [MM_ERR_DUPLICATE] = "duplicate key",
    [MM_ERR_MISSING] = "missing key",
    [MM_ERR_VERSION] = "unknown version",
    [MM_ERR_TRAILING] = "trailing bytes",
    [MM_ERR_DEPTH] = "too deep",
    [MM_ERR_KEY] = "bad key",
    [MM_ERR_TOO_BIG] = "message too big",
    [MM_ERR_MSG_TYPE] = "wrong message type",
    [MM_ERR_INVALID] = "invalid",
    [MM_ERR_NOMEM] = "out of memory",
};

const char *
mm_errc_name (mm_errc_t code)
{
    if ((unsigned) code >= MM_ERR_COUNT_)
        return "unknown error";
    return s_names[code];
}

static void
s_compose (mm_error_t *err)
{
    char at[40] = "";
    if (err->offset != MM_NO_OFFSET)
        snprintf (at, sizeof at, " (at byte %zu)", err->offset);
    if (err->field[0])
        snprintf (err->reason, sizeof err->reason, "%s: %s: %s%s", mm_errc_name (err->code),
                  err->field, err->detail, at);
    else
        snprintf (err->reason, sizeof err->reason, "%s: %s%s", mm_errc_name (err->code),
                  err->detail, at);
}

int
mm_error_set (mm_error_t *err, mm_errc_t code, size_t offset, const char *field, const char *fmt,
              ...)
{
    if (!err)
        return -1;
    err->code = code;
    err->offset = offset;
    snprintf (err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err->detail, sizeof err->detail, fmt, ap);
    va_end (ap);
    s_compose (err);
    return -1;
}

void
mm_error_qualify (mm_error_t *err, const char *prefix)
{
    if (!err || !prefix || !prefix[0])
        return;
    char field[sizeof err->field];
    //  A path longer than the field buffer is cut; the reason still names its start.
    int n = err->field[0] ? snprintf (field, sizeof field, "%s.%s", prefix, err->field)
                          : snprintf (field, sizeof field, "%s", prefix);
    if (n < 0)
        return;
    memcpy (err->field, field, sizeof field);
    s_compose (err);
}
