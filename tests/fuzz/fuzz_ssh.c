/*  fuzz_ssh: libFuzzer target for sn_ssh. The input is a list of records, each a header byte
    (top bit: direction, low 7 bits: length) and that many payload bytes, so the fuzzer chooses
    how the two sides interleave and where the segments split. Beyond "no crash", it checks
    that the info record stays consistent (lengths match the NUL-terminated text, within caps).
    Seeds in corpus/ssh/ are real conversations from the tests, cut into such records. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_ssh.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (bool ok, const char *what)
{
    if (!ok) {
        fprintf (stderr, "INVARIANT VIOLATED: %s\n", what);
        abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    sn_ssh_t *ssh = sn_ssh_new ();
    if (!ssh)
        return 0;
    size_t pos = 0;
    bool rejected = false;
    while (pos < size) {
        int dir = data[pos] >> 7;
        size_t len = data[pos] & 0x7F;
        pos++;
        if (len > size - pos)
            len = size - pos;
        int rc = sn_ssh_feed (ssh, dir, data + pos, len);
        s_check (rc == 0 || rc == -1, "feed returns 0 or -1");
        s_check (!rejected || rc == -1, "a rejected stream stays rejected");
        if (rc == -1) {
            rejected = true;
            s_check (sn_ssh_done (ssh), "a rejected stream is done");
        }
        pos += len;
    }
    const sn_ssh_info_t *info = sn_ssh_info (ssh);
    s_check (info->client_len <= MM_NAME_MAX && info->server_len <= MM_NAME_MAX, "banner caps");
    s_check (strlen (info->client) == info->client_len, "client length");
    s_check (strlen (info->server) == info->server_len, "server length");
    mm_ssh_t ev;
    sn_ssh_to_event (info, &ev);
    s_check (((ev.has & MM_SSH_HAS_HASSH) != 0) == info->has_hassh, "hassh bit");
    s_check (((ev.has & MM_SSH_HAS_HASSH_SERVER) != 0) == info->has_hassh_server, "server bit");
    sn_ssh_destroy (&ssh);
    return 0;
}
