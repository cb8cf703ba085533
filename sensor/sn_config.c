/*  sn_config: the sensor's settings table (see sn_config.h). The help texts are what
    `mimamori-sensor --print-config` writes, so an example file is always current. */
#include "sn_config.h"

#define S_STR(sec, k, m, d, h)                                                                     \
    {                                                                                              \
        sec, k, MM_CFG_STR, offsetof (sn_config_t, m), sizeof (((sn_config_t *) 0)->m), 0, 0, d, h \
    }
#define S_UINT(sec, k, m, lo, hi, d, h)                                                            \
    {                                                                                              \
        sec, k, MM_CFG_UINT, offsetof (sn_config_t, m), 0, lo, hi, d, h                            \
    }
#define S_BOOL(sec, k, m, d, h)                                                                    \
    {                                                                                              \
        sec, k, MM_CFG_BOOL, offsetof (sn_config_t, m), 0, 0, 0, d, h                              \
    }
#define S_NETS(sec, k, m, d, h)                                                                    \
    {                                                                                              \
        sec, k, MM_CFG_NETS, offsetof (sn_config_t, m), 0, 0, 0, d, h                              \
    }

const mm_cfg_item_t sn_config_table[] = {
    S_STR ("sensor", "id", id, "sensor", "this sensor's id (the broker takes it from the key)"),
    S_STR ("sensor", "org", org, "org", "the company's id (the broker takes it from the key)"),
    S_NETS ("sensor", "home_net", home_net, "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7",
            "the company's own networks: decide inbound, outbound, internal, external"),
    S_UINT ("sensor", "community_id_seed", community_id_seed, 0, 65535, "0",
            "Community ID seed (0 unless the SOC's other tools use another)"),
    S_STR ("capture", "interface", interface, "", "network interface for live capture"),
    S_STR ("capture", "filter", filter, "", "BPF filter (tcpdump syntax); empty: everything"),
    S_UINT ("capture", "snaplen", snaplen, 64, 262144, "65535", "bytes captured per packet"),
    S_BOOL ("capture", "promiscuous", promiscuous, "true", "see traffic not addressed to us"),
    S_UINT ("capture", "buffer_mb", buffer_mb, 1, 4096, "32", "kernel capture buffer, MiB"),
    S_UINT ("flow", "max_flows", max_flows, 1024, 1 << 24, "262144",
            "flows kept at once; the stalest is ended early when full"),
    S_UINT ("flow", "max_parsers", max_parsers, 0, 1 << 20, "2048",
            "protocol parsers at work at once (each holds at most ~66 KB); beyond it, new flows "
            "get flow records only, counted as parsers_refused"),
    S_UINT ("flow", "tcp_established_timeout", tcp_established_timeout, 1, 86400, "600",
            "idle seconds before an established TCP flow ends"),
    S_UINT ("flow", "tcp_other_timeout", tcp_other_timeout, 1, 86400, "30",
            "idle seconds for TCP flows not established, or closed"),
    S_UINT ("flow", "udp_timeout", udp_timeout, 1, 86400, "60", "idle seconds for UDP flows"),
    S_UINT ("flow", "other_timeout", other_timeout, 1, 86400, "60",
            "idle seconds for ICMP and other flows"),
    S_UINT ("flow", "tcp_active_timeout", tcp_active_timeout, 0, 86400, "1800",
            "report TCP flows still open after this many seconds (0: never)"),
    S_UINT ("flow", "udp_active_timeout", udp_active_timeout, 0, 86400, "1800",
            "the same for UDP flows"),
    S_UINT ("flow", "other_active_timeout", other_active_timeout, 0, 86400, "1800",
            "the same for ICMP and other flows"),
    S_STR ("output", "jsonl", jsonl, "", "write events as JSON Lines to this file ('-': stdout)"),
    S_BOOL ("output", "flows", flows, "true", "emit a flow record for every flow"),
    S_BOOL ("parsers", "dns", dns, "true", "DNS queries and answers"),
    S_BOOL ("parsers", "tls", tls, "true", "TLS ClientHello, ServerHello, certificate"),
    S_BOOL ("parsers", "http", http, "true", "HTTP/1.x requests and responses"),
    S_BOOL ("parsers", "ssh", ssh, "true", "SSH banners and HASSH"),
    S_BOOL ("parsers", "smb", smb, "true", "SMB2/3 tree connects and file opens"),
    S_BOOL ("parsers", "krb", krb, "true", "Kerberos 5 tickets, encryption types and errors"),
};

const size_t sn_config_table_len = sizeof sn_config_table / sizeof sn_config_table[0];

int
sn_config_defaults (sn_config_t *cfg, char *err, size_t errlen)
{
    return mm_config_defaults (sn_config_table, sn_config_table_len, cfg, err, errlen);
}
