/*  fuzz_quic: libFuzzer target for sn_quic. The first byte picks the mode: odd, the rest is a
    series of client datagrams, each a 2-byte length and its bytes, fed as they are; even, each
    series element is the plaintext of an Initial that this target seals first (bit 1: QUIC v2,
    bit 2: a second DCID from the third packet on), so the fuzzer reaches the frame walk and the
    CRYPTO reassembly behind the packet protection. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "sn_quic.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
    uint8_t key[16], iv[12], hp[16];
} s_keys_t;

static int
s_label (const uint8_t *secret, const char *label, uint8_t *out, size_t out_len)
{
    uint8_t info[64];
    size_t l = strlen (label), n = 0;
    info[n++] = 0;
    info[n++] = (uint8_t) out_len;
    info[n++] = (uint8_t) (6 + l);
    memcpy (info + n, "tls13 ", 6);
    memcpy (info + n + 6, label, l);
    n += 6 + l;
    info[n++] = 0;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id (EVP_PKEY_HKDF, NULL);
    size_t olen = out_len;
    int ok = c && EVP_PKEY_derive_init (c) > 0 &&
             EVP_PKEY_CTX_hkdf_mode (c, EVP_PKEY_HKDEF_MODE_EXPAND_ONLY) > 0 &&
             EVP_PKEY_CTX_set_hkdf_md (c, EVP_sha256 ()) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_key (c, secret, 32) > 0 &&
             EVP_PKEY_CTX_add1_hkdf_info (c, info, (int) n) > 0 &&
             EVP_PKEY_derive (c, out, &olen) > 0;
    EVP_PKEY_CTX_free (c);
    return ok ? 0 : -1;
}

static int
s_derive (bool v2, const uint8_t dcid[8], s_keys_t *k)
{
    static const uint8_t salt1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                      0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
    static const uint8_t salt2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                      0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
    uint8_t initial[32], client[32];
    size_t olen = 32;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id (EVP_PKEY_HKDF, NULL);
    int ok = c && EVP_PKEY_derive_init (c) > 0 &&
             EVP_PKEY_CTX_hkdf_mode (c, EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY) > 0 &&
             EVP_PKEY_CTX_set_hkdf_md (c, EVP_sha256 ()) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_salt (c, v2 ? salt2 : salt1, 20) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_key (c, dcid, 8) > 0 && EVP_PKEY_derive (c, initial, &olen) > 0;
    EVP_PKEY_CTX_free (c);
    if (!ok || s_label (initial, "client in", client, 32) == -1 ||
        s_label (client, v2 ? "quicv2 key" : "quic key", k->key, 16) == -1 ||
        s_label (client, v2 ? "quicv2 iv" : "quic iv", k->iv, 12) == -1 ||
        s_label (client, v2 ? "quicv2 hp" : "quic hp", k->hp, 16) == -1)
        return -1;
    return 0;
}

//  Seals `pt` (at most 2048 bytes) as an Initial into `out` (at least 2200 bytes).
static size_t
s_seal (bool v2, const uint8_t dcid[8], const s_keys_t *k, uint32_t pn, const uint8_t *pt,
        size_t pt_len, uint8_t *out)
{
    uint8_t buf[2048] = {0};
    if (pt_len < 32) {  //  room for the header protection sample
        memcpy (buf, pt, pt_len);
        pt = buf;
        pt_len = 32;
    }
    size_t n = 0;
    out[n++] = v2 ? 0xd3 : 0xc3;
    const uint8_t ver[2][4] = {{0, 0, 0, 1}, {0x6b, 0x33, 0x43, 0xcf}};
    memcpy (out + n, ver[v2], 4);
    n += 4;
    out[n++] = 8;
    memcpy (out + n, dcid, 8);
    n += 8;
    out[n++] = 0;
    out[n++] = 0;
    size_t length = 4 + pt_len + 16;
    out[n++] = (uint8_t) (0x40 | length >> 8);
    out[n++] = (uint8_t) length;
    size_t pn_off = n;
    for (int i = 0; i < 4; i++)
        out[n++] = (uint8_t) (pn >> (24 - 8 * i));
    uint8_t nonce[12];
    memcpy (nonce, k->iv, 12);
    for (int i = 0; i < 4; i++)
        nonce[8 + i] ^= out[pn_off + (size_t) i];
    EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new ();
    int m = 0;
    uint8_t mask[32];
    int ok = e && EVP_EncryptInit_ex (e, EVP_aes_128_gcm (), NULL, k->key, nonce) == 1 &&
             EVP_EncryptUpdate (e, NULL, &m, out, (int) n) == 1 &&
             EVP_EncryptUpdate (e, out + n, &m, pt, (int) pt_len) == 1 &&
             EVP_EncryptFinal_ex (e, out + n + m, &m) == 1 &&
             EVP_CIPHER_CTX_ctrl (e, EVP_CTRL_GCM_GET_TAG, 16, out + n + pt_len) == 1 &&
             EVP_EncryptInit_ex (e, EVP_aes_128_ecb (), NULL, k->hp, NULL) == 1 &&
             EVP_EncryptUpdate (e, mask, &m, out + pn_off + 4, 16) == 1;
    EVP_CIPHER_CTX_free (e);
    if (!ok)
        return 0;
    out[0] ^= mask[0] & 0x0f;
    for (int i = 0; i < 4; i++)
        out[pn_off + (size_t) i] ^= mask[1 + i];
    return n + pt_len + 16;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const uint8_t dcid[2][8] = {{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08},
                                       {1, 2, 3, 4, 5, 6, 7, 8}};
    static s_keys_t keys[2][2];  //  [v2][dcid], derived once
    static bool have_keys;
    if (!have_keys) {
        for (int v = 0; v < 2; v++)
            for (int d = 0; d < 2; d++)
                if (s_derive (v == 1, dcid[d], &keys[v][d]) == -1)
                    return 0;
        have_keys = true;
    }
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    bool v2 = (mode & 2) != 0;
    sn_quic_t *q = sn_quic_new ();
    if (!q)
        return 0;
    sn_tls_info_t info;
    static uint8_t pkt[2200];
    size_t at = 0;
    int rc = 0;
    for (uint32_t i = 0; at + 2 <= size && rc == 0; i++) {
        size_t len = (size_t) data[at] << 8 | data[at + 1];
        at += 2;
        if (len > size - at)
            len = size - at;
        const uint8_t *p = data + at;
        at += len;
        if (mode & 1) {
            (void) sn_quic_is_initial (p, len);
            rc = sn_quic_feed (q, p, len, &info);
            continue;
        }
        if (len > 2048)
            len = 2048;
        int d = (mode & 4) && i >= 2;
        size_t n = s_seal (v2, dcid[d], &keys[v2][d], i, p, len, pkt);
        if (n == 0)
            break;
        (void) sn_quic_is_initial (pkt, n);
        rc = sn_quic_feed (q, pkt, n, &info);
    }
    if (rc == 1) {
        mm_tls_t ev;
        sn_tls_to_event (&info, &ev);
    }
    (void) sn_quic_version (q);
    sn_quic_destroy (&q);
    return 0;
}
