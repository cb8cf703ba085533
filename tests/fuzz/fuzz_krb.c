/*  fuzz_krb: sn_krb on arbitrary bytes. The first byte chooses whole-message or prefix parsing
    and, for prefixes, where the message is cut, so the partial reader that handles TCP
    records split across segments is exercised as much as the whole one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sn_krb.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    //  A copy of exactly the bytes parsed, so ASan sees any read past them.
    size_t len = size;
    if (mode & 1 && size > 0)
        len = (size_t) mode * size / 256;
    uint8_t *buf = malloc (len ? len : 1);
    if (!buf)
        return 0;
    memcpy (buf, data, len);
    sn_krb_msg_t m;
    int rc = (mode & 1) ? sn_krb_parse_partial (buf, len, &m) : sn_krb_parse (buf, len, &m);
    if (rc == 0) {
        if (m.cname_len > SN_KRB_NAME_MAX || m.sname_len > SN_KRB_NAME_MAX ||
            m.realm_len > SN_KRB_NAME_MAX || strlen (m.sname) != m.sname_len ||
            m.n_etypes > SN_KRB_ETYPES_MAX)
            abort ();
        mm_krb_t k;
        sn_krb_to_event (&m, &k);
    }
    else if (m.msg_type != 0)
        abort ();
    free (buf);
    return 0;
}
