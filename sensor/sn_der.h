/*  sn_der: a cursor over DER (ASN.1) bytes, for the parsers that read it (Kerberos messages,
    X.509 names). Bounded: every length is checked against its region, at most 4 length bytes,
    no allocation; nesting is the caller's, one region at a time. Owner: sensor. */
#ifndef SN_DER_H
#define SN_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  A region of DER bytes. `cut` says the region really runs past `end` (partial parsing):
//  an element that starts inside but ends outside is then handed out cut short too, rather
//  than refused, and an element whose header is not all there ends the region quietly.
typedef struct {
    const uint8_t *p;
    const uint8_t *end;
    bool cut;
} sn_der_t;

//  Next element of `c`: its identifier byte in *tag, its contents in *val, and `c` moved past
//  it (the element's whole encoding starts where c->p was before the call). 1, 0 at the end of
//  the region (or of what we have of it), -1 if malformed.
int sn_der_next (sn_der_t *c, uint8_t *tag, sn_der_t *val);

#endif
