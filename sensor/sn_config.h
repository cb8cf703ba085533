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
    //  [metrics]
    char metrics[128];
    //  [output]
    char jsonl[1024];
    bool flows;
    //  [parsers]
    bool dns, tls, http, ssh, smb, krb;
    //  [detect] the engine
    bool detect;
    uint64_t max_findings;
    uint64_t suppress_window;
    uint64_t update_quiet;
    uint64_t update_interval;
    //  [scan]
    bool scan;
    uint64_t scan_window;
    uint64_t scan_ports;
    uint64_t scan_hosts;
    uint64_t scan_max_tracked;
    uint64_t scan_targets_alone;
    char scan_worm_ports[512];
    mm_netlist_t scan_allow;
    //  [bruteforce]
    bool brute;
    uint64_t brute_window;
    uint64_t brute_ftp_failures;
    uint64_t brute_ssh_attempts;
    uint64_t brute_attempts;
    uint64_t brute_short_bytes;
    uint64_t brute_ssh_max_seconds;
    uint64_t brute_ssh_kex_bytes;
    char brute_ports[512];
    uint64_t brute_max_tracked;
    mm_netlist_t brute_allow;
    //  [exposed]
    bool exposed;
    char exposed_ports[512];
    uint64_t exposed_max_tracked;
    mm_netlist_t exposed_allow;
    //  [ioc]
    bool ioc;
    char ioc_feeds[2048];
    uint64_t ioc_reload_check;
    uint64_t ioc_max;
    //  [beacon]
    bool beacon;
    uint64_t beacon_min_connections;
    uint64_t beacon_max_jitter_pct;
    uint64_t beacon_min_period;
    uint64_t beacon_max_period;
    uint64_t beacon_max_tracked;
    char beacon_allow_ports[256];
    char beacon_allow_domains[2048];
    mm_netlist_t beacon_allow;
    //  [dns_tunnel]
    bool dnst;
    uint64_t dnst_window;
    uint64_t dnst_name_len;
    uint64_t dnst_label_len;
    uint64_t dnst_entropy_centibits;
    uint64_t dnst_unique_subdomains;
    uint64_t dnst_txt_null;
    uint64_t dnst_nxdomain;
    uint64_t dnst_entropy_min_len;
    uint64_t dnst_max_tracked;
    char dnst_allow_domains[2048];
    mm_netlist_t dnst_allow_clients;
    //  [lateral]
    bool lateral;
    bool lateral_rc4;
    char lateral_exec_ext[256];
    uint64_t lateral_window;
    uint64_t lateral_kerberoast_services;
    uint64_t lateral_max_tracked;
    mm_netlist_t lateral_allow;
    //  [exfil]
    bool exfil;
    uint64_t exfil_window;
    uint64_t exfil_bytes_mb;
    uint64_t exfil_ratio;
    uint64_t exfil_ratio_min_mb;
    uint64_t exfil_max_tracked;
    mm_netlist_t exfil_allow;
    //  [cleartext]
    bool cleartext;
    uint64_t cleartext_max_tracked;
    mm_netlist_t cleartext_allow;
    //  [block]
    bool block;
    char block_nft[256];
    char block_table[64];
    char block_set4[64];
    char block_set6[64];
    uint64_t block_timeout;
    uint64_t block_min_severity;
    mm_netlist_t block_never;
    //  [uplink] the link to the regional broker (sn_uplink); off unless enabled
    bool uplink;
    char uplink_broker[256];
    char uplink_broker_cert[1024];
    char uplink_cert_secret[1024];
    char uplink_spool_dir[1024];
    uint64_t uplink_spool_max_mb;
    char uplink_fsync[16];
    uint64_t uplink_fsync_interval_ms;
    uint64_t uplink_heartbeat_s;
    uint64_t uplink_window;
    uint64_t uplink_ack_timeout_ms;
    uint64_t uplink_drain_s;
} sn_config_t;

extern const mm_cfg_item_t sn_config_table[];
extern const size_t sn_config_table_len;

//  Fills `cfg` with the defaults. 0 or -1 (a broken default: a programming error).
int sn_config_defaults (sn_config_t *cfg, char *err, size_t errlen);

//  Checks what the table cannot: settings whose text must be one of a list ([uplink] fsync)
//  and, when the uplink is enabled, that its endpoint, certificates and spool are given.
//  0, or -1 with the reason (naming the setting) in `err`.
int sn_config_check (const sn_config_t *cfg, char *err, size_t errlen);

#endif
