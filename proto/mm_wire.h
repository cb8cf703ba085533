/*  mm_wire: bounded MessagePack primitives, internal to proto/.
    Reading is our own pull parser rather than msgpack-c's unpacker: msgpack-c 4.0 allocates
    from declared counts before it has seen the bytes (msgpack-c issue #1013: 5 input bytes can
    ask for ~96 GB), so every untrusted frame would need a pre-check walk anyway. This reader
    does that walk and the decoding in one pass, never allocates, and knows every offset for
    the error message. Writing uses msgpack-c's packer (its output is the reference format). */
#ifndef MM_WIRE_H
#define MM_WIRE_H

#include <msgpack.h>
#include <stdint.h>

#include "mm_buf.h"
#include "mm_error.h"

typedef struct {
    const uint8_t *base;  //  start of the message, for offsets in errors
    const uint8_t *p;     //  next byte to read
    const uint8_t *end;   //  one past the last byte
} mm_rd_t;

static inline void
mm_rd_init (mm_rd_t *rd, const uint8_t *data, size_t len)
{
    rd->base = data;
    rd->p = data;
    rd->end = data + len;
}

static inline size_t
mm_rd_offset (const mm_rd_t *rd)
{
    return (size_t) (rd->p - rd->base);
}

//  Each reader checks the type, reads the value and advances; on error it fills `err`
//  (naming `field`), leaves the cursor where the value started and returns -1.
int mm_rd_map (mm_rd_t *rd, uint32_t *count, mm_error_t *err, const char *field);
int mm_rd_array (mm_rd_t *rd, uint32_t *count, mm_error_t *err, const char *field);
int mm_rd_uint (mm_rd_t *rd, uint64_t *value, mm_error_t *err, const char *field);
int mm_rd_str (mm_rd_t *rd, const char **ptr, uint32_t *len, mm_error_t *err, const char *field);
int mm_rd_bin (mm_rd_t *rd, const uint8_t **ptr, uint32_t *len, mm_error_t *err, const char *field);
//  A map key: an integer 0..127 in any integer encoding.
int mm_rd_key (mm_rd_t *rd, unsigned *key, mm_error_t *err, const char *field);
//  Skips one value of any type, nesting at most `depth_left` levels.
int mm_rd_skip (mm_rd_t *rd, int depth_left, mm_error_t *err, const char *field);

//  A packer that appends to an mm_buf_t; pack calls return non-zero when memory runs out.
void mm_wr_init (msgpack_packer *pk, mm_buf_t *out);

#endif
