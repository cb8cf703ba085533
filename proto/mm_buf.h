/*  mm_buf: a growable byte buffer, the output of every encoder and renderer.
    The buffer owns its bytes; callers own the mm_buf_t (usually on their stack). */
#ifndef MM_BUF_H
#define MM_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} mm_buf_t;

#define MM_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

//  Makes room for at least `extra` more bytes. 0 or -1 (out of memory).
int mm_buf_reserve (mm_buf_t *self, size_t extra);
//  Appends bytes. 0 or -1 (out of memory; the buffer is unchanged).
int mm_buf_append (mm_buf_t *self, const void *data, size_t len);
//  Appends formatted text (printf rules), without a terminating NUL. 0 or -1.
int mm_buf_appendf (mm_buf_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
//  Forgets the contents, keeps the memory for reuse.
void mm_buf_clear (mm_buf_t *self);
//  Cuts the contents back to `len` bytes (no-op if already shorter).
void mm_buf_truncate (mm_buf_t *self, size_t len);
//  Frees the memory; the buffer is empty and reusable afterwards.
void mm_buf_free (mm_buf_t *self);

#endif
