/*  sn_dns: parses one DNS message (a UDP payload, or one TCP message without its 2-byte length
    prefix) into query name, type, response code and answers. Pure function, no allocation;
    names are decompressed into the result's own buffers, with every pointer loop, out-of-bounds
    offset and over-long name rejected. Owner: sensor. */
#ifndef SN_DNS_H
#define SN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_event.h"

#define SN_DNS_NAME_MAX 255   //  presentation form, without a trailing dot

typedef struct {
    uint16_t type;                       //  RR type
    uint32_t ttl;
    uint16_t value_len;
    char value[SN_DNS_NAME_MAX + 1];     //  A/AAAA as text, CNAME/NS/PTR/MX target name, TXT text
} sn_dns_answer_t;

typedef struct {
    uint16_t id;
    bool is_response;
    uint8_t opcode;
    uint16_t rcode;                      //  responses only
    uint16_t qtype;
    uint16_t qclass;
    uint16_t qname_len;
    char qname[SN_DNS_NAME_MAX + 1];     //  first question; NUL-terminated too
    uint16_t n_questions;                //  as declared in the header
    uint32_t n_answers;                  //  answers kept (at most MM_DNS_ANSWERS_MAX)
    sn_dns_answer_t answers[MM_DNS_ANSWERS_MAX];
} sn_dns_msg_t;

//  0, or -1 if the bytes are not a well-formed DNS message (*reason says why, a static string).
int sn_dns_parse (const uint8_t *data, size_t len, sn_dns_msg_t *msg, const char **reason);

//  Fills `dns` (and its has-bits) from `msg`; strings borrow from `msg`.
void sn_dns_to_event (const sn_dns_msg_t *msg, mm_dns_t *dns);

#endif
