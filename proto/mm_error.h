/*  mm_error: the typed error every decoder and encoder reports.
    Untrusted bytes enter the system through the decoders, so an error names what was wrong,
    where (byte offset, field path) and why, in words an operator can read in a log line. */
#ifndef MM_ERROR_H
#define MM_ERROR_H

#include <stddef.h>

typedef enum {
    MM_OK = 0,
    MM_ERR_TRUNCATED,  //  input ends inside a value
    MM_ERR_TYPE,       //  a value has the wrong MessagePack type
    MM_ERR_RANGE,      //  an integer is outside its field's range or enumeration
    MM_ERR_TOO_LONG,   //  a string, binary or array is longer than its field allows
    MM_ERR_DUPLICATE,  //  a key appears twice in one map
    MM_ERR_MISSING,    //  a required key is absent
    MM_ERR_VERSION,    //  the schema version is not one we know
    MM_ERR_TRAILING,   //  bytes follow the message
    MM_ERR_DEPTH,      //  unknown values nest deeper than MM_DEPTH_MAX
    MM_ERR_KEY,        //  a map key is not an integer 0..127
    MM_ERR_TOO_BIG,    //  the message is larger than MM_MSG_MAX
    MM_ERR_MSG_TYPE,   //  the message type is unknown or not the one expected
    MM_ERR_INVALID,    //  fields are individually valid but inconsistent together
    MM_ERR_NOMEM,      //  out of memory (encoders and renderers only)
    MM_ERR_COUNT_
} mm_errc_t;

typedef struct {
    mm_errc_t code;
    size_t offset;     //  byte offset in the input, or MM_NO_OFFSET (encoders)
    char field[64];    //  field path, e.g. "event.dns.qname"; empty if not in a field
    char detail[112];  //  what was wrong, without code or field
    char reason[224];  //  the full readable sentence, always NUL-terminated
} mm_error_t;

#define MM_NO_OFFSET ((size_t) -1)

//  Short stable name of an error code, e.g. "truncated".
const char *mm_errc_name (mm_errc_t code);

//  Fills `err` (if not NULL) and returns -1, so decoders can `return mm_error_set (...)`.
int mm_error_set (mm_error_t *err, mm_errc_t code, size_t offset, const char *field,
                  const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

//  Prefixes the error's field with `prefix` and a dot ("dns" -> "event.dns"); rebuilds reason.
void mm_error_qualify (mm_error_t *err, const char *prefix);

#endif
