/*  sn_smb: SMB2/3 metadata from one TCP connection (port 445, NetBIOS session framing): the
    share path of every TREE_CONNECT and the file name of every CREATE with its access and
    disposition (the admin-share and tool-copy signs of lateral movement), with the server's
    NT status. SMB1 is recognised and counted but not parsed. Encrypted SMB3 (transform header)
    is skipped. Fed the in-order TCP payload of each direction; never buffers more than
    SN_SMB_BUF_MAX bytes per direction, and skips READ/WRITE payloads without buffering them.
    Owner: sensor. */
#ifndef SN_SMB_H
#define SN_SMB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_event.h"

#define SN_SMB_BUF_MAX 8192

typedef struct {
    uint16_t command;  //  3 TREE_CONNECT, 5 CREATE
    bool has_status;
    uint32_t status;              //  from the matching response, if seen
    bool has_access;              //  CREATE: what the client asked for, so a detector can
    uint32_t access;              //  tell a file written (DesiredAccess, e.g. FILE_WRITE_DATA)
    uint32_t disposition;         //  from one only read (CreateDisposition, 0..5)
    char share[MM_NAME_MAX + 1];  //  UTF-8, from the UTF-16LE path
    char file[MM_LONG_MAX + 1];
} sn_smb_record_t;

typedef void (sn_smb_record_fn) (void *arg, const sn_smb_record_t *rec);

typedef struct sn_smb sn_smb_t;

sn_smb_t *sn_smb_new (sn_smb_record_fn *fn, void *arg);
void sn_smb_destroy (sn_smb_t **self_p);
//  0, or -1 once the stream is clearly not SMB (then stop feeding).
int sn_smb_feed (sn_smb_t *self, int dir, const uint8_t *data, size_t len);
//  Emits requests whose response never came when the connection ends.
void sn_smb_flush (sn_smb_t *self);
void sn_smb_to_event (const sn_smb_record_t *rec, mm_smb_t *smb);

//  Caps on what one connection tracks: requests awaiting their response (over either cap the
//  oldest is emitted without status and counted in overflow), and accepted shares (TreeId ->
//  path, so that a CREATE record also names its share; the oldest is forgotten).
#define SN_SMB_PENDING_MAX 64
#define SN_SMB_PENDING_BYTES_MAX 8192
#define SN_SMB_TREES_MAX 8

typedef struct {
    uint32_t messages;    //  NetBIOS session messages
    uint32_t commands;    //  SMB2 headers, counting each of a compound chain
    uint32_t smb1;        //  SMB1 messages (recognised, not parsed)
    uint32_t encrypted;   //  SMB3 transform messages (skipped)
    uint32_t compressed;  //  SMB3 compression transform messages (skipped)
    uint32_t malformed;
    uint32_t overflow;  //  requests emitted early or lost to the pending caps
    uint32_t records;
} sn_smb_stats_t;

void sn_smb_stats (const sn_smb_t *self, sn_smb_stats_t *stats);

//  UTF-16LE -> NUL-terminated UTF-8 in `cap` bytes (cap >= 1): surrogate pairs joined, lone
//  surrogates and NULs become U+FFFD, trailing NULs dropped, cut at a whole code point.
//  Returns the length written, without the NUL.
size_t sn_smb_utf16le_to_utf8 (const uint8_t *in, size_t in_len, char *out, size_t cap);

#endif
