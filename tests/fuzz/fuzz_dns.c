/*  fuzz_dns: libFuzzer target for sn_dns_parse and sn_dns_to_event (sensor/sn_dns.c), which
    read untrusted bytes straight off the wire. Beyond "no crash, no sanitizer report" it checks
    what sn_dns.h promises, and aborts with a message when a promise is broken:

      - a refusal gives a non-empty reason; an acceptance gives none;
      - every name and value is NUL-terminated, its length is the one stated, at most
        SN_DNS_NAME_MAX, and it is printable ASCII (escaping leaves no raw byte);
      - at most MM_DNS_ANSWERS_MAX answers, never more than the header declares; rcode only on
        responses; an accepted message has a whole header, so it is at least 12 bytes;
      - the same bytes parse the same way twice (no hidden state);
      - sn_dns_to_event sets MM_DNS_HAS_QTYPE iff there is a question, MM_DNS_HAS_RCODE iff it
        is a response, and its strings point into the message.

    Seeds in tests/fuzz/corpus/dns/ are the DNS payloads of the captures test_sn_dns.c checks,
    each file named after its capture and packet (TCP ones without their length prefix). Run it
    through ops/fuzz; reproduce a saved input with `fuzz_dns <file>`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_dns.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static sn_dns_msg_t s_first;
static sn_dns_msg_t s_second;
static mm_dns_t s_event;

static void
s_fail (const char *what)
{
    fprintf (stderr, "INVARIANT VIOLATED: %s\n", what);
    abort ();
}

static void
s_check_text (const char *text, size_t len, const char *what)
{
    if (len > SN_DNS_NAME_MAX)
        s_fail (what);
    if (text[len] != 0 || strlen (text) != len)
        s_fail (what);
    for (size_t i = 0; i < len; i++)
        if (text[i] < 0x20 || text[i] > 0x7e)
            s_fail (what);
}

static bool
s_same (const sn_dns_msg_t *a, const sn_dns_msg_t *b)
{
    if (a->id != b->id || a->is_response != b->is_response || a->opcode != b->opcode ||
        a->rcode != b->rcode || a->qtype != b->qtype || a->qclass != b->qclass ||
        a->qname_len != b->qname_len || a->n_questions != b->n_questions ||
        a->n_answers_declared != b->n_answers_declared || a->n_answers != b->n_answers ||
        a->truncated != b->truncated || a->cut != b->cut)
        return false;
    if (memcmp (a->qname, b->qname, a->qname_len) != 0)
        return false;
    for (uint32_t i = 0; i < a->n_answers; i++) {
        const sn_dns_answer_t *x = &a->answers[i], *y = &b->answers[i];
        if (x->type != y->type || x->ttl != y->ttl || x->value_len != y->value_len ||
            memcmp (x->value, y->value, x->value_len) != 0)
            return false;
    }
    return true;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *why = "unset";
    int rc = sn_dns_parse (data, size, &s_first, &why);
    if (rc != 0) {
        if (rc != -1)
            s_fail ("sn_dns_parse returned neither 0 nor -1");
        if (!why || !*why)
            s_fail ("a refusal without a reason");
        return 0;
    }
    if (why)
        s_fail ("an acceptance with a reason");
    if (size < 12)
        s_fail ("accepted less than a header");

    const sn_dns_msg_t *m = &s_first;
    s_check_text (m->qname, m->qname_len, "qname");
    if (m->n_answers > MM_DNS_ANSWERS_MAX || m->n_answers > m->n_answers_declared)
        s_fail ("too many answers kept");
    for (uint32_t i = 0; i < m->n_answers; i++)
        s_check_text (m->answers[i].value, m->answers[i].value_len, "answer value");
    if (!m->is_response && m->rcode != 0)
        s_fail ("rcode on a query");
    if (m->n_questions == 0 && (m->qname_len != 0 || m->qtype != 0))
        s_fail ("a question without a question");

    if (sn_dns_parse (data, size, &s_second, NULL) != 0 || !s_same (&s_first, &s_second))
        s_fail ("the same bytes parsed differently");

    sn_dns_to_event (m, &s_event);
    if (((s_event.has & MM_DNS_HAS_QTYPE) != 0) != (m->n_questions > 0))
        s_fail ("MM_DNS_HAS_QTYPE disagrees with the question count");
    if (((s_event.has & MM_DNS_HAS_RCODE) != 0) != m->is_response)
        s_fail ("MM_DNS_HAS_RCODE disagrees with QR");
    if (s_event.qname.len != m->qname_len || (m->qname_len && s_event.qname.ptr != m->qname))
        s_fail ("event qname does not borrow the message's");
    if (s_event.n_answers != m->n_answers)
        s_fail ("event answer count");
    for (uint32_t i = 0; i < m->n_answers; i++) {
        const mm_dns_answer_t *a = &s_event.answers[i];
        if (a->type != m->answers[i].type || a->ttl != m->answers[i].ttl ||
            a->value.len != m->answers[i].value_len)
            s_fail ("event answer differs");
    }
    return 0;
}
