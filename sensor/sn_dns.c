/*  sn_dns: one DNS message into query name, type, rcode and answers. See sn_dns.h for the text
    conventions (Zeek's dns.log) and for what is accepted. */
#include "sn_dns.h"

#include <arpa/inet.h>
#include <string.h>

#define S_HDR_LEN 12
#define S_WIRE_NAME_MAX 255  //  RFC 1035 3.1: a name is at most 255 bytes in wire form
#define S_HOPS_MAX 32  //  pointers followed in one name (Zeek: dns_max_compression_chain_depth)

enum {
    S_TYPE_A = 1,
    S_TYPE_NS = 2,
    S_TYPE_CNAME = 5,
    S_TYPE_PTR = 12,
    S_TYPE_MX = 15,
    S_TYPE_TXT = 16,
    S_TYPE_AAAA = 28,
    S_TYPE_DNAME = 39,
    S_TYPE_SPF = 99,  //  obsolete, TXT's format; Zeek shows it like TXT
};

//  A bounded text buffer: appends stop at `cap` and never split an escape.
typedef struct {
    char *buf;
    size_t cap;  //  characters, without the NUL
    size_t len;
    bool cut;
} s_text_t;

static uint16_t
s_u16 (const uint8_t *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}

static uint32_t
s_u32 (const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static void
s_text_raw (s_text_t *t, const char *s, size_t n)
{
    if (t->cut || t->len + n > t->cap) {
        t->cut = true;
        return;
    }
    memcpy (t->buf + t->len, s, n);
    t->len += n;
}

//  Appends bytes from the wire, escaped as sn_dns.h says.
static void
s_text_bytes (s_text_t *t, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n && !t->cut; i++) {
        uint8_t c = p[i];
        if (c >= 0x20 && c <= 0x7e && c != '\\') {
            char ch = (char) c;
            s_text_raw (t, &ch, 1);
        }
        else {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            s_text_raw (t, esc, sizeof esc);
        }
    }
}

//  Reads the name at *pos into `t` (if not NULL) and moves *pos past it (past the first pointer
//  if there is one). Each pointer must point before itself, and the labels it leads to are read
//  only up to that pointer: the readable window shrinks at every jump, so no walk can loop.
//  Returns NULL, or why the name is malformed.
static const char *
s_name (const uint8_t *msg, size_t len, size_t *pos, s_text_t *t)
{
    size_t p = *pos;
    size_t limit = len;  //  bytes at or past `limit` may not be read
    size_t end = 0;      //  where the name ends in the stream; 0 until the first pointer
    size_t wire = 1;     //  wire length so far, with the root's zero byte
    bool first = true;
    int hops = 0;

    for (;;) {
        if (p >= limit)
            return "name runs past the message";
        uint8_t b = msg[p];
        if (b == 0) {
            if (end == 0)
                end = p + 1;
            break;
        }
        if ((b & 0xc0) == 0xc0) {
            if (p + 2 > limit)
                return "compression pointer runs past the message";
            size_t target = (size_t) (s_u16 (msg + p) & 0x3fff);
            if (target >= p)
                return "compression pointer does not point backwards";
            if (++hops > S_HOPS_MAX)
                return "too many compression pointers";
            if (end == 0)
                end = p + 2;
            limit = p;
            p = target;
            continue;
        }
        if ((b & 0xc0) != 0)
            return "extended label type";  //  0x40 (EDNS0 bit labels) and 0x80: obsolete
        if (p + 1 + b > limit)
            return "label runs past the message";
        wire += (size_t) b + 1;
        if (wire > S_WIRE_NAME_MAX)
            return "name longer than 255 bytes";
        if (t) {
            if (!first)
                s_text_raw (t, ".", 1);
            s_text_bytes (t, msg + p + 1, b);
        }
        first = false;
        p += (size_t) b + 1;
    }
    *pos = end;
    return NULL;
}

//  Reads a name into a fixed buffer of SN_DNS_NAME_MAX + 1; NUL-terminates it.
static const char *
s_name_into (const uint8_t *msg, size_t len, size_t *pos, char *buf, uint16_t *buf_len, bool *cut)
{
    s_text_t t = {buf, SN_DNS_NAME_MAX, 0, false};
    const char *why = s_name (msg, len, pos, &t);
    if (why)
        t.len = 0;
    buf[t.len] = 0;
    *buf_len = (uint16_t) t.len;
    if (t.cut)
        *cut = true;
    return why;
}

//  The value of one answer from its rdata, [rd, rd + rdlen) inside `msg`.
static void
s_rdata (const uint8_t *msg, size_t rd, size_t rdlen, sn_dns_answer_t *a, bool *cut)
{
    a->value[0] = 0;
    a->value_len = 0;
    switch (a->type) {
    case S_TYPE_A:
    case S_TYPE_AAAA: {
        int af = a->type == S_TYPE_A ? AF_INET : AF_INET6;
        if (rdlen != (a->type == S_TYPE_A ? 4u : 16u))
            return;
        if (inet_ntop (af, msg + rd, a->value, sizeof a->value))
            a->value_len = (uint16_t) strlen (a->value);
        else
            a->value[0] = 0;
        return;
    }
    case S_TYPE_NS:
    case S_TYPE_CNAME:
    case S_TYPE_PTR:
    case S_TYPE_DNAME:
    case S_TYPE_MX: {
        size_t p = rd;
        if (a->type == S_TYPE_MX) {
            if (rdlen < 3)
                return;
            p += 2;  //  preference
        }
        //  The name may point anywhere before it, but its own bytes stay inside the rdata.
        (void) s_name_into (msg, rd + rdlen, &p, a->value, &a->value_len, cut);
        return;
    }
    case S_TYPE_TXT:
    case S_TYPE_SPF: {
        //  The character-strings concatenated without separator (as DKIM and SPF read them);
        //  Zeek's dns.log shows each one as "TXT <len> <text>", joined by spaces.
        s_text_t t = {a->value, SN_DNS_NAME_MAX, 0, false};
        size_t p = rd;
        while (p < rd + rdlen) {
            size_t n = msg[p];
            if (p + 1 + n > rd + rdlen)
                break;  //  a string past the rdata: keep the strings before it
            s_text_bytes (&t, msg + p + 1, n);
            p += 1 + n;
        }
        a->value[t.len] = 0;
        a->value_len = (uint16_t) t.len;
        if (t.cut)
            *cut = true;
        return;
    }
    default: return;
    }
}

int
sn_dns_parse (const uint8_t *data, size_t len, sn_dns_msg_t *msg, const char **reason)
{
    const char *why_dummy;
    if (!reason)
        reason = &why_dummy;
    memset (msg, 0, offsetof (sn_dns_msg_t, answers));
    msg->truncated = false;
    msg->cut = false;
    if (!data || len < S_HDR_LEN) {
        *reason = "shorter than a DNS header";
        return -1;
    }
    uint16_t flags = s_u16 (data + 2);
    msg->id = s_u16 (data);
    msg->is_response = (flags & 0x8000) != 0;
    msg->opcode = (uint8_t) ((flags >> 11) & 0xf);
    //  TODO: EDNS extended rcode (RFC 6891 6.1.3): the OPT record of the additional section
    //  holds the upper 8 bits of a 12-bit rcode (e.g. BADVERS 16). Only the header's 4 bits are
    //  read for now, as Zeek's `rcode` column does.
    msg->rcode = msg->is_response ? (uint16_t) (flags & 0xf) : 0;
    msg->n_questions = s_u16 (data + 4);
    msg->n_answers_declared = s_u16 (data + 6);

    size_t pos = S_HDR_LEN;
    for (uint32_t i = 0; i < msg->n_questions; i++) {
        const char *why;
        if (i == 0)
            why = s_name_into (data, len, &pos, msg->qname, &msg->qname_len, &msg->cut);
        else
            why = s_name (data, len, &pos, NULL);
        if (!why && pos + 4 > len)
            why = "question runs past the message";
        if (why && i > 0) {
            //  The first question is kept (as Zeek logs it); nothing after it can be trusted.
            msg->truncated = true;
            *reason = NULL;
            return 0;
        }
        if (why) {
            *reason = why;
            return -1;
        }
        if (i == 0) {
            msg->qtype = s_u16 (data + pos);
            msg->qclass = s_u16 (data + pos + 2);
        }
        pos += 4;
    }

    for (uint32_t i = 0; i < msg->n_answers_declared && msg->n_answers < MM_DNS_ANSWERS_MAX; i++) {
        if (s_name (data, len, &pos, NULL) || pos + 10 > len) {
            msg->truncated = true;
            break;
        }
        uint16_t type = s_u16 (data + pos);
        uint32_t ttl = s_u32 (data + pos + 4);
        size_t rdlen = s_u16 (data + pos + 8);
        pos += 10;
        if (pos + rdlen > len) {
            msg->truncated = true;
            break;
        }
        sn_dns_answer_t *a = &msg->answers[msg->n_answers++];
        a->type = type;
        a->ttl = ttl;
        s_rdata (data, pos, rdlen, a, &msg->cut);
        pos += rdlen;
    }
    *reason = NULL;
    return 0;
}

void
sn_dns_to_event (const sn_dns_msg_t *msg, mm_dns_t *dns)
{
    memset (dns, 0, sizeof *dns);
    dns->qname.ptr = msg->qname;
    dns->qname.len = msg->qname_len;
    if (msg->n_questions > 0) {
        dns->has |= MM_DNS_HAS_QTYPE;
        dns->qtype = msg->qtype;
    }
    if (msg->is_response) {
        dns->has |= MM_DNS_HAS_RCODE;
        dns->rcode = msg->rcode;
    }
    uint32_t n = msg->n_answers < MM_DNS_ANSWERS_MAX ? msg->n_answers : MM_DNS_ANSWERS_MAX;
    dns->n_answers = n;
    for (uint32_t i = 0; i < n; i++) {
        dns->answers[i].type = msg->answers[i].type;
        dns->answers[i].ttl = msg->answers[i].ttl;
        dns->answers[i].value.ptr = msg->answers[i].value;
        dns->answers[i].value.len = msg->answers[i].value_len;
    }
}
