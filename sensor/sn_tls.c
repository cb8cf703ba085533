/*  sn_tls: TLS handshake metadata from one TCP connection (see sn_tls.h).
    Each direction runs two small streaming layers, records then handshake messages, so only the
    messages we parse (ClientHello, ServerHello, the start of Certificate) are ever copied. */
#include "sn_tls.h"

#include "sn_der.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

//  TLSCiphertext.length may not exceed 2^14 + 2048 (RFC 5246 6.2.3); anything longer is not TLS.
#define S_RECORD_MAX (16384 + 2048)

enum { S_CCS = 20, S_ALERT = 21, S_HANDSHAKE = 22, S_APPDATA = 23, S_HEARTBEAT = 24 };
enum { S_CLIENT_HELLO = 1, S_SERVER_HELLO = 2, S_CERTIFICATE = 11 };
enum {
    S_EXT_SNI = 0,
    S_EXT_GROUPS = 10,
    S_EXT_POINT_FORMATS = 11,
    S_EXT_SIG_ALGS = 13,
    S_EXT_ALPN = 16,
    S_EXT_VERSIONS = 43
};

//  Subject/issuer text: RFC 2253 (most specific RDN first, "CN=a,O=b", RFC 2253 escaping of
//  , + " \ < > ; and control characters) but with non-ASCII kept as UTF-8 instead of \XX escapes.
#define S_NAME_FLAGS ((XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT)

typedef struct {
    uint8_t rec_hdr[5];
    uint8_t rec_hdr_len;
    uint8_t hs_hdr[4];
    uint8_t hs_hdr_len;
    bool hs_keep;       //  the current handshake message is one we parse: copy its body
    bool stopped;       //  the rest of this direction is encrypted or of no interest
    uint16_t rec_left;  //  payload bytes of the current record still to come
    uint32_t hs_len;    //  body length of the current handshake message
    uint32_t hs_left;   //  body bytes of it still to come
    uint8_t *buf;       //  copy of the body, at most SN_TLS_BUF_MAX bytes
    uint32_t buf_len;
    uint32_t buf_cap;
} s_dir_t;

struct sn_tls {
    s_dir_t dir[2];
    bool done;
    bool failed;
    sn_tls_info_t *info;  //  allocated at the first handshake message we parse
};

static const sn_tls_info_t s_no_info;

//  -------------------------------------------------------------------------------------------
//  Bounded reader

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} s_rd_t;

static bool
s_u8 (s_rd_t *rd, uint32_t *v)
{
    if (rd->end - rd->p < 1)
        return false;
    *v = rd->p[0];
    rd->p += 1;
    return true;
}

static bool
s_u16 (s_rd_t *rd, uint32_t *v)
{
    if (rd->end - rd->p < 2)
        return false;
    *v = (uint32_t) rd->p[0] << 8 | rd->p[1];
    rd->p += 2;
    return true;
}

static bool
s_u24 (s_rd_t *rd, uint32_t *v)
{
    if (rd->end - rd->p < 3)
        return false;
    *v = (uint32_t) rd->p[0] << 16 | (uint32_t) rd->p[1] << 8 | rd->p[2];
    rd->p += 3;
    return true;
}

//  Takes `n` bytes as a sub-reader.
static bool
s_sub (s_rd_t *rd, uint32_t n, s_rd_t *sub)
{
    if ((size_t) (rd->end - rd->p) < n)
        return false;
    sub->p = rd->p;
    sub->end = rd->p + n;
    rd->p += n;
    return true;
}

//  A u8/u16-length-prefixed vector that must fill `rd` exactly (extension bodies).
static bool
s_vec_exact (s_rd_t *rd, int len_bytes, s_rd_t *sub)
{
    uint32_t n;
    if (!(len_bytes == 1 ? s_u8 (rd, &n) : s_u16 (rd, &n)))
        return false;
    return s_sub (rd, n, sub) && rd->p == rd->end;
}

//  -------------------------------------------------------------------------------------------
//  String building for the fingerprints; the caller sizes the buffer so it cannot fill up, and
//  `full` is a second line of defence.

typedef struct {
    char *p;
    size_t len;
    size_t cap;
    bool full;
} s_sb_t;

static void
s_sb_chr (s_sb_t *sb, char c)
{
    if (sb->len + 1 >= sb->cap) {
        sb->full = true;
        return;
    }
    sb->p[sb->len++] = c;
}

static void
s_sb_dec (s_sb_t *sb, uint32_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v && n < sizeof tmp);
    while (n)
        s_sb_chr (sb, tmp[--n]);
}

static void
s_sb_hex4 (s_sb_t *sb, uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    for (int shift = 12; shift >= 0; shift -= 4)
        s_sb_chr (sb, hex[(v >> shift) & 15]);
}

//  Steps over one extension (bounds were checked by s_hello_scan; this checks again).
static bool
s_ext_next (s_rd_t *rd, uint32_t *type)
{
    uint32_t n;
    s_rd_t data;
    return s_u16 (rd, type) && s_u16 (rd, &n) && s_sub (rd, n, &data);
}

static bool
s_grease (uint32_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

//  Appends the non-GREASE u16 values of `rd` as JA3 decimals joined by '-'.
static void
s_ja3_list16 (s_sb_t *sb, s_rd_t rd)
{
    bool first = true;
    uint32_t v;
    while (s_u16 (&rd, &v)) {
        if (s_grease (v))
            continue;
        if (!first)
            s_sb_chr (sb, '-');
        s_sb_dec (sb, v);
        first = false;
    }
}

static int
s_cmp_u16 (const void *a, const void *b)
{
    return (int) *(const uint16_t *) a - (int) *(const uint16_t *) b;
}

//  Hex of the first 6 bytes of SHA-256 of `sb`, or "000000000000" when it is empty (FoxIO).
static int
s_ja4_hash (const s_sb_t *sb, char out[13])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t md[EVP_MAX_MD_SIZE];
    if (sb->len == 0) {
        memset (out, '0', 12);
        out[12] = 0;
        return 0;
    }
    if (!EVP_Digest (sb->p, sb->len, md, NULL, EVP_sha256 (), NULL))
        return -1;
    for (int i = 0; i < 6; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[12] = 0;
    return 0;
}

//  Copies at most `size - 1` bytes as printable ASCII (others become '?') and terminates.
static size_t
s_copy_text (char *dst, size_t size, const uint8_t *src, size_t n)
{
    if (n > size - 1)
        n = size - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char) src[i] : '?';
    dst[n] = 0;
    return n;
}

static const char *
s_ja4_version (uint32_t v)
{
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default: return "00";
    }
}

//  -------------------------------------------------------------------------------------------
//  ClientHello

typedef struct {
    uint32_t legacy_version;
    s_rd_t ciphers;  //  u16 values
    s_rd_t exts;     //  the whole extensions block
    uint32_t n_exts;
    bool has_sni;
    s_rd_t sni;            //  the first host_name, if any
    s_rd_t alpn;           //  ProtocolNameList contents
    s_rd_t groups;         //  u16 values
    s_rd_t formats;        //  u8 values
    s_rd_t sig_algs;       //  u16 values
    uint32_t max_version;  //  highest non-GREASE supported_versions entry, 0 if none
} s_hello_t;

static int
s_hello_ext (s_hello_t *h, uint32_t type, s_rd_t data)
{
    s_rd_t list;
    uint32_t v;
    switch (type) {
    case S_EXT_SNI:
        h->has_sni = true;
        //  Empty in a server's echo; a client sends a ServerNameList.
        if (data.p == data.end)
            return 0;
        if (!s_vec_exact (&data, 2, &list))
            return -1;
        while (list.p < list.end) {
            uint32_t name_type;
            s_rd_t name;
            if (!s_u8 (&list, &name_type) || !s_u16 (&list, &v) || !s_sub (&list, v, &name))
                return -1;
            if (name_type == 0 && !h->sni.p)
                h->sni = name;
        }
        return 0;
    case S_EXT_GROUPS:
        if (!s_vec_exact (&data, 2, &list) || (list.end - list.p) % 2)
            return -1;
        h->groups = list;
        return 0;
    case S_EXT_POINT_FORMATS:
        if (!s_vec_exact (&data, 1, &list))
            return -1;
        h->formats = list;
        return 0;
    case S_EXT_SIG_ALGS:
        if (!s_vec_exact (&data, 2, &list) || (list.end - list.p) % 2)
            return -1;
        h->sig_algs = list;
        return 0;
    case S_EXT_ALPN:
        if (!s_vec_exact (&data, 2, &list))
            return -1;
        h->alpn = list;
        //  Validate the entries now so later walks need no error path.
        while (list.p < list.end) {
            s_rd_t name;
            if (!s_u8 (&list, &v) || !s_sub (&list, v, &name))
                return -1;
        }
        return 0;
    case S_EXT_VERSIONS:
        if (!s_vec_exact (&data, 1, &list) || (list.end - list.p) % 2)
            return -1;
        while (s_u16 (&list, &v))
            if (!s_grease (v) && v > h->max_version)
                h->max_version = v;
        return 0;
    default: return 0;
    }
}

static int
s_hello_scan (const uint8_t *body, size_t len, s_hello_t *h)
{
    s_rd_t rd = {body, body + len}, skip;
    uint32_t n;
    memset (h, 0, sizeof *h);
    if (!s_u16 (&rd, &h->legacy_version) || !s_sub (&rd, 32, &skip))
        return -1;
    if (!s_u8 (&rd, &n) || n > 32 || !s_sub (&rd, n, &skip))
        return -1;
    if (!s_u16 (&rd, &n) || n % 2 || !s_sub (&rd, n, &h->ciphers))
        return -1;
    if (!s_u8 (&rd, &n) || n < 1 || !s_sub (&rd, n, &skip))
        return -1;
    h->exts.p = h->exts.end = rd.p;
    if (rd.p == rd.end)
        return 0;  //  no extensions at all (SSL 3.0 style)
    if (!s_vec_exact (&rd, 2, &h->exts))
        return -1;
    s_rd_t exts = h->exts;
    while (exts.p < exts.end) {
        uint32_t type;
        s_rd_t data;
        if (!s_u16 (&exts, &type) || !s_u16 (&exts, &n) || !s_sub (&exts, n, &data))
            return -1;
        h->n_exts++;
        if (s_hello_ext (h, type, data) == -1)
            return -1;
    }
    return 0;
}

//  JA3 (Salesforce): SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats.
static int
s_ja3 (const s_hello_t *h, s_sb_t *sb, uint8_t md5[16])
{
    uint32_t v;
    sb->len = 0;
    s_sb_dec (sb, h->legacy_version);
    s_sb_chr (sb, ',');
    s_ja3_list16 (sb, h->ciphers);
    s_sb_chr (sb, ',');
    s_rd_t exts = h->exts;
    bool first = true;
    while (s_ext_next (&exts, &v)) {
        if (s_grease (v))
            continue;
        if (!first)
            s_sb_chr (sb, '-');
        s_sb_dec (sb, v);
        first = false;
    }
    s_sb_chr (sb, ',');
    s_ja3_list16 (sb, h->groups);
    s_sb_chr (sb, ',');
    s_rd_t formats = h->formats;
    for (first = true; s_u8 (&formats, &v); first = false) {
        if (!first)
            s_sb_chr (sb, '-');
        s_sb_dec (sb, v);
    }
    if (sb->full)
        return -1;
    return EVP_Digest (sb->p, sb->len, md5, NULL, EVP_md5 (), NULL) ? 0 : -1;
}

//  Non-GREASE u16 values of `rd` into `out`, optionally leaving out SNI and ALPN; returns count.
static size_t
s_collect16 (s_rd_t rd, bool is_exts, uint16_t *out)
{
    size_t n = 0;
    uint32_t v;
    while (is_exts ? s_ext_next (&rd, &v) : s_u16 (&rd, &v)) {
        if (is_exts && (v == S_EXT_SNI || v == S_EXT_ALPN))
            continue;
        if (!s_grease (v))
            out[n++] = (uint16_t) v;
    }
    return n;
}

static void
s_sb_hex_list (s_sb_t *sb, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            s_sb_chr (sb, ',');
        s_sb_hex4 (sb, v[i]);
    }
}

//  JA4 (FoxIO): a_b_c, see the technical details in FoxIO-LLC/ja4.
static int
s_ja4 (const s_hello_t *h, bool quic, s_sb_t *sb, uint16_t *scratch, char out[40])
{
    //  Counts of ciphers and extensions, GREASE excluded (extensions include SNI and ALPN).
    size_t n_ciphers = s_collect16 (h->ciphers, false, scratch);
    size_t n_exts = 0;
    s_rd_t exts = h->exts;
    uint32_t v;
    while (s_ext_next (&exts, &v))
        n_exts += !s_grease (v);
    char alpn[3] = "00";
    s_rd_t list = h->alpn;
    uint32_t first_len;
    if (s_u8 (&list, &first_len) && first_len > 0) {
        static const char hex[] = "0123456789abcdef";
        uint8_t a = list.p[0], z = list.p[first_len - 1];
        //  A non-alphanumeric end byte: the first and last characters of the value's hex form.
        if (!((a >= '0' && a <= '9') || (a >= 'A' && a <= 'Z') || (a >= 'a' && a <= 'z')) ||
            !((z >= '0' && z <= '9') || (z >= 'A' && z <= 'Z') || (z >= 'a' && z <= 'z'))) {
            alpn[0] = hex[a >> 4];
            alpn[1] = hex[z & 15];
        }
        else {
            alpn[0] = (char) a;
            alpn[1] = (char) z;
        }
    }
    char hash_b[13], hash_c[13];
    qsort (scratch, n_ciphers, sizeof *scratch, s_cmp_u16);
    sb->len = 0;
    s_sb_hex_list (sb, scratch, n_ciphers);
    if (sb->full || s_ja4_hash (sb, hash_b) == -1)
        return -1;

    size_t n = s_collect16 (h->exts, true, scratch);
    qsort (scratch, n, sizeof *scratch, s_cmp_u16);
    sb->len = 0;
    s_sb_hex_list (sb, scratch, n);
    n = s_collect16 (h->sig_algs, false, scratch);
    if (n > 0) {
        s_sb_chr (sb, '_');
        s_sb_hex_list (sb, scratch, n);
    }
    if (sb->full || s_ja4_hash (sb, hash_c) == -1)
        return -1;

    snprintf (out, 40, "%c%s%c%02u%02u%s_%s_%s", quic ? 'q' : 't',
              s_ja4_version (h->max_version ? h->max_version : h->legacy_version),
              h->has_sni ? 'd' : 'i', (unsigned) (n_ciphers > 99 ? 99 : n_ciphers),
              (unsigned) (n_exts > 99 ? 99 : n_exts), alpn, hash_b, hash_c);
    return 0;
}

int
sn_tls_parse_client_hello (const uint8_t *body, size_t len, bool quic, sn_tls_info_t *info)
{
    if (!body || !info || len > SN_TLS_BUF_MAX)
        return -1;
    s_hello_t h;
    if (s_hello_scan (body, len, &h) == -1)
        return -1;

    //  Each input byte yields at most 4 characters of any one fingerprint string ("255-" per
    //  point format byte, "65535-" per 2 bytes, "abcd," per 2 bytes), so 4 * len cannot fill up.
    s_sb_t sb = {malloc (4 * len + 64), 0, 4 * len + 64, false};
    uint16_t *scratch = malloc (len / 2 * sizeof (uint16_t) + sizeof (uint16_t));
    uint8_t ja3[16];
    char ja4[40] = {0};
    int rc = -1;
    if (sb.p && scratch && s_ja3 (&h, &sb, ja3) == 0 && s_ja4 (&h, quic, &sb, scratch, ja4) == 0)
        rc = 0;
    free (sb.p);
    free (scratch);
    if (rc == -1)
        return -1;

    info->client_hello = true;
    info->version = (uint16_t) (h.max_version ? h.max_version : h.legacy_version);
    info->sni_len = 0;
    info->sni[0] = 0;
    if (h.sni.p)
        info->sni_len = (uint16_t) s_copy_text (info->sni, sizeof info->sni, h.sni.p,
                                                (size_t) (h.sni.end - h.sni.p));
    info->n_alpn = 0;
    s_rd_t list = h.alpn;
    uint32_t n;
    while (info->n_alpn < MM_ALPN_MAX && s_u8 (&list, &n)) {
        //  RFC 7301 forbids empty names; one would make an invalid event (found by fuzzing).
        if (n > 0)
            s_copy_text (info->alpn[info->n_alpn++], sizeof info->alpn[0], list.p, n);
        list.p += n;
    }
    memcpy (info->ja3, ja3, sizeof ja3);
    memcpy (info->ja4, ja4, sizeof ja4);
    return 0;
}

//  -------------------------------------------------------------------------------------------
//  ServerHello and Certificate

//  SHA-256("HelloRetryRequest"), the random of a TLS 1.3 HelloRetryRequest (RFC 8446 4.1.3).
static const uint8_t s_hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

static int
s_server_hello_ja3s (uint32_t version, uint32_t cipher, s_rd_t exts, s_sb_t *sb, uint8_t md5[16],
                     uint32_t *selected)
{
    uint32_t n;
    s_sb_dec (sb, version);
    s_sb_chr (sb, ',');
    s_sb_dec (sb, cipher);
    s_sb_chr (sb, ',');
    bool first = true;
    while (exts.p < exts.end) {
        uint32_t type;
        s_rd_t data;
        if (!s_u16 (&exts, &type) || !s_u16 (&exts, &n) || !s_sub (&exts, n, &data))
            return -1;
        if (type == S_EXT_VERSIONS && !s_u16 (&data, selected))
            return -1;
        if (s_grease (type))
            continue;
        if (!first)
            s_sb_chr (sb, '-');
        s_sb_dec (sb, type);
        first = false;
    }
    if (sb->full)
        return -1;
    return EVP_Digest (sb->p, sb->len, md5, NULL, EVP_md5 (), NULL) ? 0 : -1;
}

//  Returns 1 when the server goes encrypted after this message (TLS 1.3), 0, or -1.
static int
s_server_hello (const uint8_t *body, size_t len, sn_tls_info_t *info)
{
    s_rd_t rd = {body, body + len}, random, skip, exts = {NULL, NULL};
    uint32_t version, cipher, n, selected = 0;
    if (!s_u16 (&rd, &version) || !s_sub (&rd, 32, &random))
        return -1;
    //  TLS 1.3 drafts up to -22 put 0x7fXX here and use another layout: encrypted from now on.
    if ((version & 0xff00) == 0x7f00)
        return 1;
    if (!s_u8 (&rd, &n) || n > 32 || !s_sub (&rd, n, &skip) || !s_u16 (&rd, &cipher) ||
        !s_u8 (&rd, &n))
        return -1;
    if (rd.p != rd.end && !s_vec_exact (&rd, 2, &exts))
        return -1;
    //  JA3S: SSLVersion,Cipher,Extensions. Each 4-byte extension header gives at most 6
    //  characters ("65535-"), so 2 * len cannot fill up.
    s_sb_t sb = {malloc (2 * len + 32), 0, 2 * len + 32, false};
    if (!sb.p)
        return -1;
    int rc = s_server_hello_ja3s (version, cipher, exts, &sb, info->ja3s, &selected);
    free (sb.p);
    if (rc == -1)
        return -1;
    info->server_hello = true;
    bool tls13 = selected == 0x0304 || (selected & 0xff00) == 0x7f00;
    //  After a HelloRetryRequest the next ServerHello is in clear too.
    return tls13 && memcmp (random.p, s_hrr_random, 32) != 0;
}

static void
s_name (const X509_NAME *name, char out[MM_TEXT_MAX + 1])
{
    out[0] = 0;
    BIO *bio = BIO_new (BIO_s_mem ());
    if (!bio)
        return;
    char *text = NULL;
    long n = 0;
    if (X509_NAME_print_ex (bio, name, 0, S_NAME_FLAGS) >= 0)
        n = BIO_get_mem_data (bio, &text);
    if (text && n > 0) {
        size_t len = (size_t) n;
        if (len > MM_TEXT_MAX) {
            len = MM_TEXT_MAX;
            //  Do not cut a UTF-8 sequence: drop its continuation bytes and its lead byte.
            while (len > 0 && ((uint8_t) text[len] & 0xc0) == 0x80)
                len--;
        }
        for (size_t i = 0; i < len; i++)
            out[i] = ((uint8_t) text[i] < 0x20 || text[i] == 0x7f) ? '?' : text[i];
        out[len] = 0;
    }
    BIO_free (bio);
}

//  The next element of `c`, required to have tag `want`: its whole encoding in (*tlv, *tlv_len)
//  and its contents in *val. 0 or -1.
static int
s_der_expect (sn_der_t *c, uint8_t want, const uint8_t **tlv, size_t *tlv_len, sn_der_t *val)
{
    const uint8_t *start = c->p;
    uint8_t tag;
    if (sn_der_next (c, &tag, val) != 1 || tag != want)
        return -1;
    *tlv = start;
    *tlv_len = (size_t) (val->end - start);
    return 0;
}

//  Finds the issuer and subject Names in a certificate's DER without decoding the rest:
//  Certificate { tbsCertificate { [0] version?, serial, signature, issuer, validity, subject
//  ... } ... }. Full d2i_X509 costs about a million instructions per certificate (it decodes
//  and caches every extension); the names alone are all we report.
static int
s_cert_names (const uint8_t *der, size_t len, const uint8_t **issuer, size_t *issuer_len,
              const uint8_t **subject, size_t *subject_len)
{
    sn_der_t c = {der, der + len, false}, cert, tbs, skip;
    const uint8_t *tlv;
    size_t tlv_len;
    if (s_der_expect (&c, 0x30, &tlv, &tlv_len, &cert) == -1 ||
        s_der_expect (&cert, 0x30, &tlv, &tlv_len, &tbs) == -1)
        return -1;
    //  version [0] (optional), serialNumber, signature, issuer, validity, subject.
    sn_der_t peek = tbs;
    uint8_t tag;
    if (sn_der_next (&peek, &tag, &skip) == 1 && tag == 0xa0)
        tbs = peek;
    if (s_der_expect (&tbs, 0x02, &tlv, &tlv_len, &skip) == -1 ||
        s_der_expect (&tbs, 0x30, &tlv, &tlv_len, &skip) == -1 ||
        s_der_expect (&tbs, 0x30, issuer, issuer_len, &skip) == -1 ||
        s_der_expect (&tbs, 0x30, &tlv, &tlv_len, &skip) == -1 ||
        s_der_expect (&tbs, 0x30, subject, subject_len, &skip) == -1)
        return -1;
    return 0;
}

static void
s_name_der (const uint8_t *der, size_t len, char out[MM_TEXT_MAX + 1])
{
    out[0] = 0;
    const unsigned char *p = der;
    X509_NAME *name = d2i_X509_NAME (NULL, &p, (long) len);
    if (name) {
        s_name (name, out);
        X509_NAME_free (name);
    }
}

static int
s_leaf_certificate (const uint8_t *der, size_t len, sn_tls_info_t *info)
{
    if (!EVP_Digest (der, len, info->cert_sha1, NULL, EVP_sha1 (), NULL))
        return -1;
    info->certificate = true;
    info->subject[0] = info->issuer[0] = 0;
    const uint8_t *issuer, *subject;
    size_t issuer_len, subject_len;
    if (s_cert_names (der, len, &issuer, &issuer_len, &subject, &subject_len) == 0) {
        s_name_der (subject, subject_len, info->subject);
        s_name_der (issuer, issuer_len, info->issuer);
    }
    //  Leave no parse errors behind in this thread's OpenSSL error queue.
    ERR_clear_error ();
    return 0;
}

//  The leaf is the first entry of the chain, so it is taken as soon as it is complete, however
//  long the whole message is. Returns 1 when the direction is finished, 0 for more, or -1.
static int
s_certificate (const s_dir_t *d, sn_tls_info_t *info)
{
    if (d->buf_len == 0)
        return d->hs_left ? 0 : -1;
    s_rd_t rd = {d->buf, d->buf + d->buf_len};
    uint32_t list_len, cert_len;
    if (!s_u24 (&rd, &list_len) || !s_u24 (&rd, &cert_len))
        return d->hs_left ? 0 : -1;
    if (list_len + 3 != d->hs_len || cert_len == 0 || cert_len + 3 > list_len)
        return -1;
    if (cert_len + 6 > SN_TLS_BUF_MAX)
        return 1;  //  a leaf larger than we buffer: give up on it
    if (cert_len + 6 > d->buf_len)
        return d->hs_left ? 0 : -1;
    return s_leaf_certificate (rd.p, cert_len, info) == -1 ? -1 : 1;
}

//  -------------------------------------------------------------------------------------------
//  Stream

sn_tls_t *
sn_tls_new (void)
{
    return calloc (1, sizeof (sn_tls_t));
}

static void
s_dir_free (s_dir_t *d)
{
    free (d->buf);
    d->buf = NULL;
    d->buf_len = d->buf_cap = 0;
}

void
sn_tls_destroy (sn_tls_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_tls_t *self = *self_p;
    s_dir_free (&self->dir[0]);
    s_dir_free (&self->dir[1]);
    free (self->info);
    free (self);
    *self_p = NULL;
}

static void
s_stop (sn_tls_t *self, int dir)
{
    self->dir[dir].stopped = true;
    s_dir_free (&self->dir[dir]);
    //  The server's cleartext part is over: nothing more to learn from either side.
    if (dir == 1 || (self->info && self->info->certificate)) {
        self->done = true;
        s_dir_free (&self->dir[0]);
        s_dir_free (&self->dir[1]);
    }
}

static int
s_fail (sn_tls_t *self)
{
    self->failed = true;
    s_dir_free (&self->dir[0]);
    s_dir_free (&self->dir[1]);
    return -1;
}

static bool
s_wanted (const sn_tls_t *self, int dir, uint8_t type)
{
    const sn_tls_info_t *info = sn_tls_info (self);
    if (dir == 0)
        return type == S_CLIENT_HELLO && !info->client_hello;
    return type == S_SERVER_HELLO || (type == S_CERTIFICATE && !info->certificate);
}

//  A complete kept message of the current type. -1 when malformed.
static int
s_message (sn_tls_t *self, int dir)
{
    s_dir_t *d = &self->dir[dir];
    int rc;
    if (d->buf_len == 0)
        return -1;  //  neither hello may be empty
    switch (d->hs_hdr[0]) {
    case S_CLIENT_HELLO:
        if (sn_tls_parse_client_hello (d->buf, d->buf_len, false, self->info) == -1)
            return -1;
        s_dir_free (d);  //  nothing else of the client's is parsed
        return 0;
    case S_SERVER_HELLO:
        rc = s_server_hello (d->buf, d->buf_len, self->info);
        if (rc == 1)
            s_stop (self, dir);
        return rc == -1 ? -1 : 0;
    default: return 0;
    }
}

//  Handshake record payload of direction `dir`.
static int
s_handshake (sn_tls_t *self, int dir, const uint8_t *p, size_t n)
{
    s_dir_t *d = &self->dir[dir];
    while (n > 0 && !d->stopped) {
        if (d->hs_hdr_len < 4) {
            size_t k = 4u - d->hs_hdr_len < n ? 4u - d->hs_hdr_len : n;
            memcpy (d->hs_hdr + d->hs_hdr_len, p, k);
            d->hs_hdr_len = (uint8_t) (d->hs_hdr_len + k);
            p += k;
            n -= k;
            if (d->hs_hdr_len < 4)
                break;
            uint8_t type = d->hs_hdr[0];
            d->hs_len = d->hs_left =
                (uint32_t) d->hs_hdr[1] << 16 | (uint32_t) d->hs_hdr[2] << 8 | d->hs_hdr[3];
            d->buf_len = 0;
            //  Only the start of a Certificate is needed; other messages must fit whole.
            d->hs_keep = s_wanted (self, dir, type) &&
                         (type == S_CERTIFICATE || d->hs_len <= SN_TLS_BUF_MAX);
            if (d->hs_keep) {
                uint32_t want = d->hs_len < SN_TLS_BUF_MAX ? d->hs_len : SN_TLS_BUF_MAX;
                if (!self->info && !(self->info = calloc (1, sizeof *self->info)))
                    return -1;
                if (want > d->buf_cap) {
                    uint8_t *buf = realloc (d->buf, want);
                    if (!buf)
                        return -1;
                    d->buf = buf;
                    d->buf_cap = want;
                }
            }
        }
        else {
            size_t k = d->hs_left < n ? d->hs_left : n;
            if (d->hs_keep) {
                size_t room = d->buf_cap - d->buf_len, c = k < room ? k : room;
                memcpy (d->buf + d->buf_len, p, c);
                d->buf_len += (uint32_t) c;
            }
            d->hs_left -= (uint32_t) k;
            p += k;
            n -= k;
        }
        if (d->hs_hdr_len == 4 && d->hs_keep && d->hs_hdr[0] == S_CERTIFICATE) {
            int rc = s_certificate (d, self->info);
            if (rc == -1)
                return -1;
            if (rc == 1) {
                s_stop (self, dir);
                return 0;
            }
        }
        if (d->hs_hdr_len == 4 && d->hs_left == 0) {
            d->hs_hdr_len = 0;
            if (d->hs_keep && s_message (self, dir) == -1)
                return -1;
        }
    }
    return 0;
}

int
sn_tls_feed (sn_tls_t *self, int dir, const uint8_t *data, size_t len)
{
    if (!self || (dir != 0 && dir != 1) || (!data && len) || self->failed)
        return -1;
    s_dir_t *d = &self->dir[dir];
    while (len > 0 && !self->done && !d->stopped) {
        if (d->rec_hdr_len < 5) {
            size_t k = 5u - d->rec_hdr_len < len ? 5u - d->rec_hdr_len : len;
            memcpy (d->rec_hdr + d->rec_hdr_len, data, k);
            d->rec_hdr_len = (uint8_t) (d->rec_hdr_len + k);
            data += k;
            len -= k;
            if (d->rec_hdr_len < 5)
                break;
            uint8_t type = d->rec_hdr[0];
            uint32_t rlen = (uint32_t) d->rec_hdr[3] << 8 | d->rec_hdr[4];
            //  This also turns away SSLv2-framed hellos (first byte >= 0x80).
            if (type < S_CCS || type > S_HEARTBEAT || d->rec_hdr[1] != 3 || d->rec_hdr[2] > 4 ||
                rlen > S_RECORD_MAX)
                return s_fail (self);
            d->rec_left = (uint16_t) rlen;
            if (type == S_CCS || type == S_APPDATA)
                s_stop (self, dir);
            else if (rlen == 0)
                d->rec_hdr_len = 0;
            continue;
        }
        size_t k = d->rec_left < len ? d->rec_left : len;
        if (d->rec_hdr[0] == S_HANDSHAKE && s_handshake (self, dir, data, k) == -1)
            return s_fail (self);
        data += k;
        len -= k;
        d->rec_left = (uint16_t) (d->rec_left - k);
        if (d->rec_left == 0)
            d->rec_hdr_len = 0;
    }
    return 0;
}

bool
sn_tls_done (const sn_tls_t *self)
{
    return self && self->done;
}

const sn_tls_info_t *
sn_tls_info (const sn_tls_t *self)
{
    return self && self->info ? self->info : &s_no_info;
}

void
sn_tls_to_event (const sn_tls_info_t *info, mm_tls_t *tls)
{
    memset (tls, 0, sizeof *tls);
    if (!info)
        return;
    if (info->client_hello) {
        tls->has |= MM_TLS_HAS_JA3;
        if (info->sni_len)
            tls->sni = (mm_str_t){info->sni, info->sni_len};
        tls->version = info->version;
        tls->n_alpn = info->n_alpn < MM_ALPN_MAX ? info->n_alpn : MM_ALPN_MAX;
        for (uint32_t i = 0; i < tls->n_alpn; i++)
            tls->alpn[i] = mm_str (info->alpn[i]);
        memcpy (tls->ja3, info->ja3, sizeof tls->ja3);
        tls->ja4 = mm_str (info->ja4);
    }
    if (info->certificate) {
        tls->has |= MM_TLS_HAS_CERT_SHA1;
        memcpy (tls->cert_sha1, info->cert_sha1, sizeof tls->cert_sha1);
        if (info->subject[0])
            tls->subject = mm_str (info->subject);
        if (info->issuer[0])
            tls->issuer = mm_str (info->issuer);
    }
    if (info->server_hello) {
        tls->has |= MM_TLS_HAS_JA3S;
        memcpy (tls->ja3s, info->ja3s, sizeof tls->ja3s);
    }
}
