/*  sn_ssh: SSH metadata from one TCP connection: both identification banners and, from the
    KEXINIT messages, HASSH and HASSHServer. Fed the in-order TCP payload of each direction;
    buffers at most SN_SSH_BUF_MAX bytes per direction. Owner: sensor. */
#ifndef SN_SSH_H
#define SN_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_event.h"

#define SN_SSH_BUF_MAX 16384

typedef struct {
    uint16_t client_len;
    char client[MM_NAME_MAX + 1];  //  banner without CR LF, e.g. "SSH-2.0-OpenSSH_9.2p1"
    uint16_t server_len;
    char server[MM_NAME_MAX + 1];
    bool has_hassh;
    uint8_t hassh[16];
    bool has_hassh_server;
    uint8_t hassh_server[16];
} sn_ssh_info_t;

typedef struct sn_ssh sn_ssh_t;

sn_ssh_t *sn_ssh_new (void);
void sn_ssh_destroy (sn_ssh_t **self_p);
//  0, or -1 once the stream is clearly not SSH (then stop feeding).
int sn_ssh_feed (sn_ssh_t *self, int dir, const uint8_t *data, size_t len);
//  True once both banners and both KEXINITs were seen (or the stream gave up).
bool sn_ssh_done (const sn_ssh_t *self);
const sn_ssh_info_t *sn_ssh_info (const sn_ssh_t *self);
void sn_ssh_to_event (const sn_ssh_info_t *info, mm_ssh_t *ssh);

#endif
