/*  mm_buf: growable byte buffer (see mm_buf.h). */
#include "mm_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
mm_buf_reserve (mm_buf_t *self, size_t extra)
{
    if (extra <= self->cap - self->len)
        return 0;
    if (extra > SIZE_MAX / 2 - self->len)
        return -1;
    size_t want = self->len + extra;
    size_t cap = self->cap ? self->cap : 256;
    while (cap < want)
        cap *= 2;
    uint8_t *data = realloc (self->data, cap);
    if (!data)
        return -1;
    self->data = data;
    self->cap = cap;
    return 0;
}

int
mm_buf_append (mm_buf_t *self, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    if (mm_buf_reserve (self, len) == -1)
        return -1;
    memcpy (self->data + self->len, data, len);
    self->len += len;
    return 0;
}

int
mm_buf_appendf (mm_buf_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    //  Try in the space we have; most calls are short and fit at once.
    if (mm_buf_reserve (self, 64) == -1) {
        va_end (ap);
        return -1;
    }
    va_list ap2;
    va_copy (ap2, ap);
    int n = vsnprintf ((char *) self->data + self->len, self->cap - self->len, fmt, ap);
    va_end (ap);
    if (n < 0) {
        va_end (ap2);
        return -1;
    }
    if ((size_t) n >= self->cap - self->len) {
        //  +1: vsnprintf writes a NUL we then ignore.
        if (mm_buf_reserve (self, (size_t) n + 1) == -1) {
            va_end (ap2);
            return -1;
        }
        vsnprintf ((char *) self->data + self->len, self->cap - self->len, fmt, ap2);
    }
    va_end (ap2);
    self->len += (size_t) n;
    return 0;
}

void
mm_buf_clear (mm_buf_t *self)
{
    self->len = 0;
}

void
mm_buf_truncate (mm_buf_t *self, size_t len)
{
    if (len < self->len)
        self->len = len;
}

void
mm_buf_free (mm_buf_t *self)
{
    free (self->data);
    self->data = NULL;
    self->len = 0;
    self->cap = 0;
}
