/*  fuzz_tls: libFuzzer target for sn_tls. The first byte picks the mode: odd, the rest is one
    bare ClientHello body (bit 1: QUIC); even, the rest is a transcript of frames, each a header
    byte (top bit: direction, low 7 bits: length - 1) and its bytes, so the fuzzer controls both
    the interleaving of the directions and the segmentation. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sn_tls.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    mm_tls_t ev;
    if (mode & 1) {
        sn_tls_info_t info;
        memset (&info, 0, sizeof info);
        if (sn_tls_parse_client_hello (data, size, (mode & 2) != 0, &info) == 0)
            sn_tls_to_event (&info, &ev);
        return 0;
    }
    sn_tls_t *tls = sn_tls_new ();
    if (!tls)
        return 0;
    size_t at = 0;
    while (at < size) {
        int dir = data[at] >> 7;
        size_t len = (size_t) (data[at] & 0x7f) + 1;
        at++;
        if (len > size - at)
            len = size - at;
        if (sn_tls_feed (tls, dir, data + at, len) == -1)
            break;
        at += len;
    }
    sn_tls_to_event (sn_tls_info (tls), &ev);
    (void) sn_tls_done (tls);
    sn_tls_destroy (&tls);
    return 0;
}
