/*  sn_ssh: SSH banners (RFC 4253 4.2) and the first binary packet of each side, KEXINIT, from
    which HASSH and HASSHServer are computed (Salesforce's definition: MD5 of
    "kex;enc;mac;compression" with the client-to-server lists for the client's KEXINIT and the
    server-to-client lists for the server's). Banners are copied straight into the info record;
    only the KEXINIT packet is buffered, up to SN_SSH_BUF_MAX bytes, and freed once parsed. */
#include "sn_ssh.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

//  Longest banner line we wait for (RFC: 255 with CR LF; some servers exceed it a little).
#define SN_SSH_LINE_MAX 1024
//  Lines the server may send before its banner (RFC 4253 4.2) are skipped up to this many bytes.
#define SN_SSH_PREBANNER_MAX SN_SSH_BUF_MAX
#define SN_SSH_MSG_KEXINIT 20

typedef enum {
    SN_SSH_BANNER = 0,  //  reading lines up to and including the identification string
    SN_SSH_PACKET,      //  reading the first binary packet (KEXINIT)
    SN_SSH_DONE         //  nothing more wanted from this direction
} s_phase_t;

typedef struct {
    uint8_t phase;
    bool junk;        //  the current line is not the banner (server pre-banner text)
    uint8_t hdr_len;  //  bytes of the packet_length field seen
    uint8_t hdr[4];
    uint16_t line_pos;   //  bytes of the current line seen, LF excluded
    uint32_t prebanner;  //  bytes seen up to the end of the banner
    uint32_t pkt_len;    //  packet_length of the KEXINIT packet
    uint32_t pkt_have;
    uint8_t *pkt;  //  packet_length bytes, allocated once the length is known
} s_side_t;

struct sn_ssh {
    sn_ssh_info_t info;
    s_side_t side[2];
    bool failed;
    bool v1;  //  a banner announced SSH 1 only: no KEXINIT follows
};

sn_ssh_t *
sn_ssh_new (void)
{
    return (sn_ssh_t *) calloc (1, sizeof (sn_ssh_t));
}

void
sn_ssh_destroy (sn_ssh_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sn_ssh_t *self = *self_p;
    free (self->side[0].pkt);
    free (self->side[1].pkt);
    free (self);
    *self_p = NULL;
}

static void
s_side_finish (s_side_t *side)
{
    free (side->pkt);
    side->pkt = NULL;
    side->pkt_len = side->pkt_have = 0;
    side->phase = SN_SSH_DONE;
}

static int
s_fail (sn_ssh_t *self)
{
    self->failed = true;
    s_side_finish (&self->side[0]);
    s_side_finish (&self->side[1]);
    return -1;
}

static uint32_t
s_get32 (const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

//  Parses a KEXINIT payload (and overwrites it); on success writes the HASSH of the lists selected by `dir` (0: the
//  client-to-server lists 2, 4, 6; 1: the server-to-client lists 3, 5, 7) to `md5`.
static bool
s_kexinit_hassh (uint8_t *payload, size_t len, int dir, uint8_t md5[16])
{
    if (len < 17 || payload[0] != SN_SSH_MSG_KEXINIT)
        return false;
    //  The ten name-lists follow the cookie; HASSH needs the first eight.
    const uint8_t *list[8];
    uint32_t list_len[8];
    size_t pos = 17;
    for (int i = 0; i < 8; i++) {
        if (len - pos < 4)
            return false;
        uint32_t n = s_get32 (payload + pos);
        pos += 4;
        if (n > len - pos)
            return false;
        list[i] = payload + pos;
        list_len[i] = n;
        pos += n;
    }
    //  The text is compacted in place at the start of the payload: each list moves down over
    //  the length fields and lists it skips, so the destination never passes the source.
    static const int s_pick[2][4] = {{0, 2, 4, 6}, {0, 3, 5, 7}};
    uint8_t *text = (uint8_t *) payload;
    size_t text_len = 0;
    for (int k = 0; k < 4; k++) {
        int i = s_pick[dir][k];
        if (k > 0)
            text[text_len++] = ';';
        memmove (text + text_len, list[i], list_len[i]);
        text_len += list_len[i];
    }
    unsigned int md_len = 0;
    return EVP_Digest (text, text_len, md5, &md_len, EVP_md5 (), NULL) == 1 && md_len == 16;
}

static void
s_packet_done (sn_ssh_t *self, int dir)
{
    s_side_t *side = &self->side[dir];
    //  packet_length covers padding_length, payload and padding; the MAC is not counted.
    uint8_t pad = side->pkt[0];
    if ((uint32_t) pad + 1 < side->pkt_len) {
        size_t payload_len = side->pkt_len - 1 - pad;
        uint8_t *md5 = dir == 0 ? self->info.hassh : self->info.hassh_server;
        bool ok = s_kexinit_hassh (side->pkt + 1, payload_len, dir, md5);
        if (dir == 0)
            self->info.has_hassh = ok;
        else
            self->info.has_hassh_server = ok;
    }
    //  Anything else as first packet is not an SSH 2 KEXINIT: no fingerprint for this side.
    s_side_finish (side);
}

//  Consumes packet bytes; returns how many were used.
static size_t
s_feed_packet (sn_ssh_t *self, int dir, const uint8_t *data, size_t len)
{
    s_side_t *side = &self->side[dir];
    size_t used = 0;
    while (side->hdr_len < 4 && used < len)
        side->hdr[side->hdr_len++] = data[used++];
    if (side->hdr_len < 4)
        return used;
    if (!side->pkt) {
        uint32_t pkt_len = s_get32 (side->hdr);
        //  Smaller than padding_length + type + cookie, or over our cap: give up this side.
        if (pkt_len < 2 + 16 || pkt_len > SN_SSH_BUF_MAX - 4) {
            s_side_finish (side);
            return len;
        }
        side->pkt = (uint8_t *) malloc (pkt_len);
        if (!side->pkt) {
            s_side_finish (side);
            return len;
        }
        side->pkt_len = pkt_len;
        side->pkt_have = 0;
    }
    size_t want = side->pkt_len - side->pkt_have;
    size_t n = len - used < want ? len - used : want;
    memcpy (side->pkt + side->pkt_have, data + used, n);
    side->pkt_have += (uint32_t) n;
    used += n;
    if (side->pkt_have == side->pkt_len)
        s_packet_done (self, dir);
    return used;
}

static void
s_banner_done (sn_ssh_t *self, int dir)
{
    s_side_t *side = &self->side[dir];
    char *text = dir == 0 ? self->info.client : self->info.server;
    uint16_t *text_len = dir == 0 ? &self->info.client_len : &self->info.server_len;
    size_t n = side->line_pos < MM_NAME_MAX ? side->line_pos : MM_NAME_MAX;
    memcpy (text, "SSH-", 4);
    //  A CR that ended the line was stored only when the whole line fit.
    if (side->line_pos <= MM_NAME_MAX && n > 0 && text[n - 1] == '\r')
        n--;
    text[n] = '\0';
    *text_len = (uint16_t) n;
    //  "SSH-1.x" other than 1.99 is SSH 1, whose packets carry no KEXINIT.
    if (n >= 6 && memcmp (text, "SSH-1.", 6) == 0 && !(n >= 8 && memcmp (text + 6, "99", 2) == 0))
        self->v1 = true;
    side->phase = SN_SSH_PACKET;
    side->line_pos = 0;
}

//  Consumes banner-phase bytes; returns how many were used, or -1 if this is not SSH.
static long
s_feed_banner (sn_ssh_t *self, int dir, const uint8_t *data, size_t len)
{
    s_side_t *side = &self->side[dir];
    char *text = dir == 0 ? self->info.client : self->info.server;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        //  Bounds the pre-banner lines and the banner together.
        if (++side->prebanner > SN_SSH_PREBANNER_MAX)
            return -1;
        if (c == '\n') {
            if (!side->junk && side->line_pos >= 4) {
                s_banner_done (self, dir);
                return (long) (i + 1);
            }
            //  Only the server may send lines before its banner.
            if (dir == 0)
                return -1;
            side->junk = false;
            side->line_pos = 0;
            continue;
        }
        if (side->junk)
            continue;
        if (side->line_pos < 4 && c != (uint8_t) "SSH-"[side->line_pos]) {
            if (dir == 0)
                return -1;
            side->junk = true;
            continue;
        }
        //  A NUL has no place in a banner, and a line this long is no banner.
        if (c == '\0' || side->line_pos >= SN_SSH_LINE_MAX)
            return -1;
        //  "SSH-" itself is written when the line ends, so an unfinished banner reads as "".
        if (side->line_pos >= 4 && side->line_pos < MM_NAME_MAX)
            text[side->line_pos] = (char) c;
        side->line_pos++;
    }
    return (long) len;
}

int
sn_ssh_feed (sn_ssh_t *self, int dir, const uint8_t *data, size_t len)
{
    if (!self || self->failed || (dir != 0 && dir != 1))
        return -1;
    if (!data)
        return 0;
    s_side_t *side = &self->side[dir];
    size_t pos = 0;
    while (pos < len && side->phase != SN_SSH_DONE) {
        if (side->phase == SN_SSH_BANNER) {
            long used = s_feed_banner (self, dir, data + pos, len - pos);
            if (used < 0)
                return s_fail (self);
            pos += (size_t) used;
        }
        else if (self->v1)
            s_side_finish (side);
        else
            pos += s_feed_packet (self, dir, data + pos, len - pos);
    }
    //  Once SSH 1 is known, the other side waiting for its KEXINIT will not get one either.
    if (self->v1)
        for (int d = 0; d < 2; d++)
            if (self->side[d].phase == SN_SSH_PACKET)
                s_side_finish (&self->side[d]);
    return 0;
}

bool
sn_ssh_done (const sn_ssh_t *self)
{
    return !self || self->failed ||
           (self->side[0].phase == SN_SSH_DONE && self->side[1].phase == SN_SSH_DONE);
}

const sn_ssh_info_t *
sn_ssh_info (const sn_ssh_t *self)
{
    return self ? &self->info : NULL;
}

void
sn_ssh_to_event (const sn_ssh_info_t *info, mm_ssh_t *ssh)
{
    memset (ssh, 0, sizeof (*ssh));
    if (!info)
        return;
    ssh->client.ptr = info->client_len ? info->client : NULL;
    ssh->client.len = info->client_len;
    ssh->server.ptr = info->server_len ? info->server : NULL;
    ssh->server.len = info->server_len;
    if (info->has_hassh) {
        ssh->has |= MM_SSH_HAS_HASSH;
        memcpy (ssh->hassh, info->hassh, 16);
    }
    if (info->has_hassh_server) {
        ssh->has |= MM_SSH_HAS_HASSH_SERVER;
        memcpy (ssh->hassh_server, info->hassh_server, 16);
    }
}
