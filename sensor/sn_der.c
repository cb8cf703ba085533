/*  sn_der: DER cursor (see sn_der.h). */
#include "sn_der.h"

int
sn_der_next (sn_der_t *c, uint8_t *tag, sn_der_t *val)
{
    size_t avail = (size_t) (c->end - c->p);
    if (avail == 0)
        return 0;
    if (avail < 2)
        return c->cut ? 0 : -1;
    uint8_t id = c->p[0];
    if ((id & 0x1f) == 0x1f)
        return -1;  //  high tag numbers: neither Kerberos nor X.509 names use them
    size_t hdr = 2, len = c->p[1];
    if (len & 0x80) {
        size_t nlen = len & 0x7f;
        if (nlen == 0 || nlen > 4)
            return -1;  //  indefinite (BER, not DER) or absurd
        if (avail < 2 + nlen)
            return c->cut ? 0 : -1;
        len = 0;
        for (size_t i = 0; i < nlen; i++)
            len = len << 8 | c->p[2 + i];
        hdr += nlen;
    }
    *tag = id;
    val->p = c->p + hdr;
    if (len <= avail - hdr) {
        val->end = val->p + len;
        val->cut = false;
        c->p = val->end;
        return 1;
    }
    if (!c->cut)
        return -1;
    val->end = c->end;
    val->cut = true;
    c->p = c->end;
    return 1;
}
