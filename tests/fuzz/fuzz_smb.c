/*  fuzz_smb: libFuzzer target for sn_smb. Input: one byte choosing the feed piece size (0:
    whole chunks), then chunks of [direction byte (bit 0)][length, 2 bytes LE][bytes]. Each
    piece is fed from its own exact-size copy so that ASan sees any read past it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sn_smb.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_record (void *arg, const sn_smb_record_t *rec)
{
    mm_smb_t ev;
    sn_smb_to_event (rec, &ev);
    //  Touch every byte the event points to: the strings must be terminated and in bounds.
    size_t *sum = (size_t *) arg;
    for (uint32_t i = 0; i < ev.share.len; i++)
        *sum += (uint8_t) ev.share.ptr[i];
    for (uint32_t i = 0; i < ev.file.len; i++)
        *sum += (uint8_t) ev.file.ptr[i];
    if (strlen (rec->share) > MM_NAME_MAX || strlen (rec->file) > MM_LONG_MAX)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = data[0];
    size_t sum = 0;
    sn_smb_t *smb = sn_smb_new (s_record, &sum);
    if (!smb)
        return 0;
    size_t at = 1;
    bool stop = false;
    while (!stop && size - at >= 3) {
        int dir = data[at] & 1;
        size_t len = (size_t) (data[at + 1] | data[at + 2] << 8);
        at += 3;
        if (len > size - at)
            len = size - at;
        size_t done = 0;
        while (done < len) {
            size_t n = piece ? piece : len;
            if (n > len - done)
                n = len - done;
            uint8_t *copy = (uint8_t *) malloc (n);
            if (!copy)
                break;
            memcpy (copy, data + at + done, n);
            int rc = sn_smb_feed (smb, dir, copy, n);
            free (copy);
            done += n;
            if (rc < 0) {
                stop = true;
                break;
            }
        }
        at += len;
    }
    sn_smb_flush (smb);
    sn_smb_destroy (&smb);
    return 0;
}
