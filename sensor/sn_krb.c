/*  sn_krb: Kerberos 5 message metadata (see sn_krb.h).
    A cursor walks one DER region at a time; each level of RFC 4120's messages has its own
    small function, so nesting is fixed by the code and nothing recurses. */
#include "sn_krb.h"

#include "sn_der.h"

#include <string.h>

//  Bounds the elements one SEQUENCE may hold, on top of each taking at least 2 bytes.
#define S_CHILDREN_MAX 64

#define S_ABSENT INT32_MIN  //  an Int32 field not seen

//  The single element inside an explicit tag [n] (or an APPLICATION wrapper), which must have
//  tag `want`. 1, 0 if it is not all there yet (partial), -1 if malformed.
static int
s_inner (sn_der_t *c, uint8_t want, sn_der_t *val)
{
    uint8_t tag;
    int rc = sn_der_next (c, &tag, val);
    if (rc <= 0)
        return rc;
    return tag == want ? 1 : -1;
}

//  The content of an INTEGER that fits an Int32 (two's complement). 1 or -1.
static int
s_int32_value (const sn_der_t *val, int32_t *v)
{
    size_t n = (size_t) (val->end - val->p);
    if (n == 0 || n > 4)
        return -1;
    uint32_t u = val->p[0] & 0x80 ? 0xffffffffu : 0;
    for (size_t i = 0; i < n; i++)
        u = u << 8 | val->p[i];
    *v = (int32_t) u;
    return 1;
}

//  INTEGER that fits an Int32. 1, 0 if cut short, -1 if malformed.
static int
s_int32 (sn_der_t *c, int32_t *v)
{
    sn_der_t val;
    int rc = s_inner (c, 0x02, &val);
    if (rc <= 0)
        return rc;
    if (val.cut)
        return 0;
    return s_int32_value (&val, v);
}

//  Appends `n` bytes to the text `dst` as sn_dns shows names; cuts at SN_KRB_NAME_MAX.
static void
s_text (char *dst, uint16_t *dlen, const uint8_t *src, size_t n, bool *cut)
{
    static const char hex[] = "0123456789abcdef";
    size_t at = *dlen;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = src[i];
        bool plain = b >= 0x20 && b <= 0x7e && b != '\\';
        size_t need = plain ? 1 : 4;
        if (at + need > SN_KRB_NAME_MAX) {
            *cut = true;
            break;
        }
        if (plain)
            dst[at++] = (char) b;
        else {
            dst[at++] = '\\';
            dst[at++] = 'x';
            dst[at++] = hex[b >> 4];
            dst[at++] = hex[b & 15];
        }
    }
    dst[at] = '\0';
    *dlen = (uint16_t) at;
}

static bool
s_is_string_tag (uint8_t tag)
{
    //  KerberosString is GeneralString; accept the other string types some stacks send.
    return tag == 0x1b || tag == 0x0c || tag == 0x16 || tag == 0x13;
}

//  KerberosString (a Realm) into dst. 1, 0 if cut short (dst left empty), -1 if malformed.
static int
s_string (sn_der_t *c, char *dst, uint16_t *dlen, bool *cut)
{
    sn_der_t val;
    uint8_t tag;
    int rc = sn_der_next (c, &tag, &val);
    if (rc <= 0)
        return rc;
    if (!s_is_string_tag (tag))
        return -1;
    if (val.cut)
        return 0;
    *dlen = 0;
    s_text (dst, dlen, val.p, (size_t) (val.end - val.p), cut);
    return 1;
}

//  PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF
//  KerberosString }, shown as its components joined by '/'. 1, 0 if cut short (dst left
//  empty), -1 if malformed.
static int
s_principal (sn_der_t *c, char *dst, uint16_t *dlen, bool *cut)
{
    sn_der_t seq;
    int rc = s_inner (c, 0x30, &seq);
    if (rc <= 0)
        return rc;
    uint16_t len = 0;
    bool have_names = false, was_cut = false;
    dst[0] = '\0';
    uint8_t tag;
    sn_der_t field;
    for (int i = 0; i < S_CHILDREN_MAX && (rc = sn_der_next (&seq, &tag, &field)) == 1; i++) {
        if (tag == 0xa0) {
            int32_t type;
            if (s_int32 (&field, &type) == -1)
                return -1;
        }
        else if (tag == 0xa1) {
            sn_der_t names;
            int rc2 = s_inner (&field, 0x30, &names);
            if (rc2 == -1)
                return -1;
            if (rc2 == 0 || names.cut)
                break;
            sn_der_t name;
            uint8_t ntag;
            int n = 0, rc3;
            while ((rc3 = sn_der_next (&names, &ntag, &name)) == 1) {
                if (!s_is_string_tag (ntag))
                    return -1;
                if (n++ >= SN_KRB_COMPONENTS_MAX) {
                    was_cut = true;
                    break;
                }
                if (n > 1)
                    s_text (dst, &len, (const uint8_t *) "/", 1, &was_cut);
                s_text (dst, &len, name.p, (size_t) (name.end - name.p), &was_cut);
            }
            if (rc3 == -1)
                return -1;
            have_names = true;
        }
    }
    if (rc == -1)
        return -1;
    if (!have_names || seq.cut) {
        //  What we have may be missing components: show nothing rather than a wrong name.
        dst[0] = '\0';
        *dlen = 0;
        return 0;
    }
    *dlen = len;
    *cut |= was_cut;
    return 1;
}

//  EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2] OCTET
//  STRING }: only the etype, which comes first. 1 with *etype set, 0 if cut short, -1.
static int
s_enc_etype (sn_der_t *c, int32_t *etype)
{
    sn_der_t seq, field;
    int rc = s_inner (c, 0x30, &seq);
    if (rc <= 0)
        return rc;
    uint8_t tag;
    rc = sn_der_next (&seq, &tag, &field);
    if (rc <= 0)
        return rc;
    if (tag != 0xa0)
        return -1;
    return s_int32 (&field, etype);
}

//  KDC-REQ-BODY: cname [1], realm [2], sname [3], etype [8].
static int
s_req_body (sn_der_t *c, sn_krb_msg_t *out)
{
    sn_der_t seq, field;
    int rc = s_inner (c, 0x30, &seq);
    if (rc <= 0)
        return rc;
    uint8_t tag;
    for (int i = 0; i < S_CHILDREN_MAX && (rc = sn_der_next (&seq, &tag, &field)) == 1; i++) {
        int frc = 0;
        switch (tag) {
        case 0xa1: frc = s_principal (&field, out->cname, &out->cname_len, &out->cut); break;
        case 0xa2: frc = s_string (&field, out->realm, &out->realm_len, &out->cut); break;
        case 0xa3: frc = s_principal (&field, out->sname, &out->sname_len, &out->cut); break;
        case 0xa8: {
            sn_der_t list, item;
            uint8_t itag;
            if ((frc = s_inner (&field, 0x30, &list)) != 1)
                break;
            int rc2;
            while ((rc2 = sn_der_next (&list, &itag, &item)) == 1) {
                if (itag != 0x02)
                    return -1;
                int32_t et;
                if (item.cut)
                    break;
                if (s_int32_value (&item, &et) == -1)
                    return -1;
                if (out->n_etypes < SN_KRB_ETYPES_MAX)
                    out->etypes[out->n_etypes++] = et;
                if (out->n_etypes_declared < UINT16_MAX)
                    out->n_etypes_declared++;
            }
            if (rc2 == -1)
                return -1;
            break;
        }
        default: break;  //  kdc-options, times, nonce, addresses, ...: not reported
        }
        if (frc == -1)
            return -1;
    }
    return rc == -1 ? -1 : 1;
}

//  KDC-REQ ::= SEQUENCE { pvno [1], msg-type [2], padata [3] OPTIONAL, req-body [4] }
static int
s_kdc_req (sn_der_t *seq, sn_krb_msg_t *out, int32_t *pvno, int32_t *mtype)
{
    sn_der_t field;
    uint8_t tag;
    int rc;
    for (int i = 0; i < S_CHILDREN_MAX && (rc = sn_der_next (seq, &tag, &field)) == 1; i++) {
        int frc = 0;
        switch (tag) {
        case 0xa1: frc = s_int32 (&field, pvno); break;
        case 0xa2: frc = s_int32 (&field, mtype); break;
        case 0xa4: frc = s_req_body (&field, out); break;
        default: break;  //  padata: pre-authentication, not reported
        }
        if (frc == -1)
            return -1;
    }
    return rc == -1 ? -1 : 0;
}

//  Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], enc-part [3] }
static int
s_ticket (sn_der_t *c, sn_krb_msg_t *out)
{
    sn_der_t app, seq, field;
    int rc = s_inner (c, 0x61, &app);
    if (rc <= 0)
        return rc;
    if ((rc = s_inner (&app, 0x30, &seq)) <= 0)
        return rc;
    uint8_t tag;
    for (int i = 0; i < S_CHILDREN_MAX && (rc = sn_der_next (&seq, &tag, &field)) == 1; i++) {
        int frc = 0;
        switch (tag) {
        case 0xa2: frc = s_principal (&field, out->sname, &out->sname_len, &out->cut); break;
        case 0xa3:
            frc = s_enc_etype (&field, &out->etype);
            if (frc == 1)
                out->has_etype = true;
            break;
        default: break;
        }
        if (frc == -1)
            return -1;
    }
    return rc == -1 ? -1 : 1;
}

//  KDC-REP ::= SEQUENCE { pvno [0], msg-type [1], padata [2] OPTIONAL, crealm [3], cname [4],
//  ticket [5], enc-part [6] }
static int
s_kdc_rep (sn_der_t *seq, sn_krb_msg_t *out, int32_t *pvno, int32_t *mtype)
{
    sn_der_t field;
    uint8_t tag;
    int rc;
    for (int i = 0; i < S_CHILDREN_MAX && (rc = sn_der_next (seq, &tag, &field)) == 1; i++) {
        int frc = 0;
        switch (tag) {
        case 0xa0: frc = s_int32 (&field, pvno); break;
        case 0xa1: frc = s_int32 (&field, mtype); break;
        case 0xa3: frc = s_string (&field, out->realm, &out->realm_len, &out->cut); break;
        case 0xa4: frc = s_principal (&field, out->cname, &out->cname_len, &out->cut); break;
        case 0xa5: frc = s_ticket (&field, out); break;
        case 0xa6:
            frc = s_enc_etype (&field, &out->session_etype);
            if (frc == 1)
                out->has_session_etype = true;
            break;
        default: break;
        }
        if (frc == -1)
            return -1;
    }
    return rc == -1 ? -1 : 0;
}

//  KRB-ERROR ::= SEQUENCE { pvno [0], msg-type [1], ctime [2] OPT, cusec [3] OPT, stime [4],
//  susec [5], error-code [6], crealm [7] OPT, cname [8] OPT, realm [9], sname [10], e-text
//  [11] OPT, e-data [12] OPT }
static int
s_krb_error (sn_der_t *seq, sn_krb_msg_t *out, int32_t *pvno, int32_t *mtype)
{
    sn_der_t field;
    uint8_t tag;
    int rc;
    bool have_crealm = false;
    for (int i = 0; i < S_CHILDREN_MAX && (rc = sn_der_next (seq, &tag, &field)) == 1; i++) {
        int frc = 0;
        int32_t code;
        switch (tag) {
        case 0xa0: frc = s_int32 (&field, pvno); break;
        case 0xa1: frc = s_int32 (&field, mtype); break;
        case 0xa6:
            frc = s_int32 (&field, &code);
            if (frc == 1) {
                out->has_error = true;
                out->error_code = (uint32_t) code;
            }
            break;
        case 0xa7:
            frc = s_string (&field, out->realm, &out->realm_len, &out->cut);
            have_crealm = frc == 1;
            break;
        case 0xa8: frc = s_principal (&field, out->cname, &out->cname_len, &out->cut); break;
        case 0xa9:
            if (!have_crealm)
                frc = s_string (&field, out->realm, &out->realm_len, &out->cut);
            break;
        case 0xaa: frc = s_principal (&field, out->sname, &out->sname_len, &out->cut); break;
        default: break;
        }
        if (frc == -1)
            return -1;
    }
    return rc == -1 ? -1 : 0;
}

static int
s_parse (const uint8_t *data, size_t len, sn_krb_msg_t *out, bool partial)
{
    memset (out, 0, sizeof *out);
    if (!data)
        return -1;
    sn_der_t top = {data, data + len, partial}, app, seq;
    uint8_t tag;
    if (sn_der_next (&top, &tag, &app) != 1)
        return -1;
    uint8_t type = (uint8_t) (tag & 0x1f);
    if ((tag & 0xe0) != 0x60 ||
        !(type == 10 || type == 11 || type == 12 || type == 13 || type == 30))
        return -1;
    if (s_inner (&app, 0x30, &seq) != 1)
        return -1;
    //  Zeek accepts a KRB-ERROR without pvno and msg-type (error-preauth-padata.pcap): so do
    //  we when the whole message is there and holds an error-code, but the ones present must
    //  be right. Any other message, and any prefix, must show both: that is the check a TCP
    //  segment from the middle of a record would have to pass by chance.
    int32_t pvno = S_ABSENT, mtype = S_ABSENT;
    int rc;
    if (type == 10 || type == 12)
        rc = s_kdc_req (&seq, out, &pvno, &mtype);
    else if (type == 11 || type == 13)
        rc = s_kdc_rep (&seq, out, &pvno, &mtype);
    else
        rc = s_krb_error (&seq, out, &pvno, &mtype);
    bool bad = rc == -1 || (pvno != S_ABSENT && pvno != 5) || (mtype != S_ABSENT && mtype != type);
    bool need_ids = partial || type != 30 || !out->has_error;
    if (bad || (need_ids && (pvno == S_ABSENT || mtype == S_ABSENT))) {
        memset (out, 0, sizeof *out);
        return -1;
    }
    out->msg_type = type;
    out->partial = app.cut;
    return 0;
}

int
sn_krb_parse (const uint8_t *data, size_t len, sn_krb_msg_t *out)
{
    return s_parse (data, len, out, false);
}

int
sn_krb_parse_partial (const uint8_t *data, size_t len, sn_krb_msg_t *out)
{
    return s_parse (data, len, out, true);
}

void
sn_krb_to_event (const sn_krb_msg_t *msg, mm_krb_t *krb)
{
    memset (krb, 0, sizeof *krb);
    krb->msg_type = msg->msg_type;
    krb->cname = (mm_str_t){msg->cname, msg->cname_len};
    krb->realm = (mm_str_t){msg->realm, msg->realm_len};
    krb->sname = (mm_str_t){msg->sname, msg->sname_len};
    if (msg->has_etype && msg->etype >= 0 && msg->etype <= UINT16_MAX) {
        krb->has |= MM_KRB_HAS_ETYPE;
        krb->etype = (uint16_t) msg->etype;
    }
    if (msg->has_error) {
        krb->has |= MM_KRB_HAS_ERROR;
        krb->error_code = msg->error_code;
    }
}
