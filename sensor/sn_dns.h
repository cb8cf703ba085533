/*  sn_dns: parses one DNS message (a UDP payload, or one TCP message without its 2-byte length
    prefix) into query name, type, response code and answers. Pure function, no allocation;
    names are decompressed into the result's own buffers, with every pointer loop, out-of-bounds
    offset and over-long name rejected. Owner: sensor.

    Text of names, as in Zeek's dns.log (our ground truth): labels joined by '.', no trailing
    dot, the root name is "" (qname_len 0). Case is kept as sent (Zeek lowercases `query` and
    keeps the sent case in `original_query`: compare case-insensitively). Bytes 0x20..0x7e are
    shown as they are, except '\\' which is shown as \x5c so the text can be read back without
    ambiguity; every other byte is shown as \xNN (two lowercase hex digits), as Zeek's ASCII log
    writer does, so every string is plain ASCII. A '.' inside a label is shown as a plain '.',
    as Zeek shows it: "a.b" as one label and as two labels read the same. TXT strings get the
    same escaping. A name or TXT whose text would pass SN_DNS_NAME_MAX is cut there, at a
    character boundary (never inside a \xNN), and `cut` says so.

    Accepted: a whole header and a whole first question (the only one kept). A malformed or
    truncated later question, or answer, ends the message there: what came before is kept and
    `truncated` is set. Only the answer section is read, not authority nor additional. An
    answer whose rdata is malformed (an A of 3 bytes, a target name running past its rdata)
    is kept with an empty value; other types than A, AAAA, NS, CNAME, PTR, MX, DNAME, TXT and
    SPF (read as TXT, as Zeek does) keep type and TTL with an empty value. Compression
    pointers must point strictly backwards, each jump may only read bytes before the pointer
    that led there (as Zeek does) and a name follows at most 32 of them, so no walk can loop; a
    name longer than 255 bytes in wire form is rejected. Such a bad name refuses the message
    in the first question; elsewhere it ends the parse there or empties an answer's value.

    Not done yet (TODO): the EDNS extended rcode (upper 8 bits in the OPT record, RFC 6891
    6.1.3); rcode holds the header's 4 bits, as Zeek's `rcode` column does. */
#ifndef SN_DNS_H
#define SN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_event.h"

#define SN_DNS_NAME_MAX 255  //  presentation form, without a trailing dot

typedef struct {
    uint16_t type;  //  RR type
    uint32_t ttl;
    uint16_t value_len;
    char value[SN_DNS_NAME_MAX + 1];  //  A/AAAA as text, CNAME/NS/PTR/MX target name, TXT text
} sn_dns_answer_t;

typedef struct {
    uint16_t id;
    bool is_response;
    uint8_t opcode;
    uint16_t rcode;  //  responses only
    uint16_t qtype;
    uint16_t qclass;
    uint16_t qname_len;
    char qname[SN_DNS_NAME_MAX + 1];  //  first question; NUL-terminated too
    uint16_t n_questions;             //  as declared in the header
    uint16_t n_answers_declared;      //  ANCOUNT as declared in the header
    uint32_t n_answers;               //  answers kept (at most MM_DNS_ANSWERS_MAX)
    sn_dns_answer_t answers[MM_DNS_ANSWERS_MAX];
    bool truncated;  //  a later question or an answer was cut or malformed: parsing stopped there
    bool cut;        //  some name or TXT text was cut at SN_DNS_NAME_MAX
} sn_dns_msg_t;

//  0, or -1 if the bytes are not a well-formed DNS message (*reason says why, a static string).
int sn_dns_parse (const uint8_t *data, size_t len, sn_dns_msg_t *msg, const char **reason);

//  Fills `dns` (and its has-bits) from `msg`; strings borrow from `msg`.
void sn_dns_to_event (const sn_dns_msg_t *msg, mm_dns_t *dns);

#endif
