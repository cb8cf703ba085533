/*  sn_config: mimamori-sensor's settings, their defaults and the table that loads them from an
    INI file (mm_config) and from command-line flags. Owner: sensor. */
#ifndef SN_CONFIG_H
#define SN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm_config.h"

typedef struct {
    //  [sensor]
    char id[MM_ID_MAX + 1];
    char org[MM_ID_MAX + 1];
    mm_netlist_t home_net;
    uint64_t community_id_seed;
    //  [capture]
    char interface[64];
    char filter[1024];
    uint64_t snaplen;
    bool promiscuous;
    uint64_t buffer_mb;
    //  [flow]
    uint64_t max_flows;
    uint64_t max_parsers;
    uint64_t tcp_established_timeout;
    uint64_t tcp_other_timeout;
    uint64_t udp_timeout;
    uint64_t other_timeout;
    uint64_t tcp_active_timeout;
    uint64_t udp_active_timeout;
    uint64_t other_active_timeout;
    //  [output]
    char jsonl[1024];
    bool flows;
    //  [parsers]
    bool dns, tls, http, ssh, smb, krb;
} sn_config_t;

extern const mm_cfg_item_t sn_config_table[];
extern const size_t sn_config_table_len;

//  Fills `cfg` with the defaults. 0 or -1 (a broken default: a programming error).
int sn_config_defaults (sn_config_t *cfg, char *err, size_t errlen);

#endif
