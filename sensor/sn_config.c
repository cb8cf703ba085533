/*  sn_config: the sensor's settings table (see sn_config.h). The help texts are what
    `mimamori-sensor --print-config` writes, so an example file is always current. */
#include "sn_config.h"

#include <stdio.h>

#include "sn_spool.h"

#define S_STR(...) MM_CFG_ITEM_STR (sn_config_t, __VA_ARGS__)
#define S_UINT(...) MM_CFG_ITEM_UINT (sn_config_t, __VA_ARGS__)
#define S_BOOL(...) MM_CFG_ITEM_BOOL (sn_config_t, __VA_ARGS__)
#define S_NETS(...) MM_CFG_ITEM_NETS (sn_config_t, __VA_ARGS__)

const mm_cfg_item_t sn_config_table[] = {
    S_STR ("sensor", "id", id, "sensor", "this sensor's id (the broker takes it from the key)"),
    S_STR ("sensor", "org", org, "org", "the company's id (the broker takes it from the key)"),
    S_NETS ("sensor", "home_net", home_net, "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7",
            "the company's own networks: decide inbound, outbound, internal, external"),
    S_UINT ("sensor", "community_id_seed", community_id_seed, 0, 65535, "0",
            "Community ID seed (0 unless the SOC's other tools use another)"),
    S_STR ("capture", "interface", interface, "", "network interface for live capture"),
    S_STR ("metrics", "listen", metrics, "",
           "Prometheus /metrics on HOST:PORT, e.g. 127.0.0.1:9103 (empty: none)"),
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
    //  Detectors: defaults and where they come from are in docs/detection.md.
    S_BOOL ("detect", "enabled", detect, "true", "run the detectors below"),
    S_UINT ("detect", "max_findings", max_findings, 16, 1 << 20, "4096",
            "open findings remembered for suppression (~700 bytes each)"),
    S_UINT ("detect", "suppress_window", suppress_window, 1, 604800, "3600",
            "seconds: one finding per (detector, source, target) until this long without a "
            "new detection"),
    S_UINT ("detect", "update_quiet", update_quiet, 1, 86400, "60",
            "seconds without new detections before a revised finding is sent"),
    S_UINT ("detect", "update_interval", update_interval, 1, 86400, "600",
            "at most this long between revisions of a finding that keeps growing"),
    S_BOOL ("scan", "enabled", scan, "true", "port scans and host sweeps"),
    S_UINT ("scan", "window", scan_window, 1, 86400, "60", "seconds"),
    S_UINT ("scan", "ports", scan_ports, 2, 65535, "15",
            "distinct ports on one target within the window"),
    S_UINT ("scan", "hosts", scan_hosts, 2, 1 << 24, "10",
            "distinct targets (TCP/UDP, ICMP echo, ARP) within the window"),
    S_UINT ("scan", "max_tracked", scan_max_tracked, 16, 1 << 20, "4096",
            "sources and source->target pairs followed at once"),
    S_UINT ("scan", "targets_alone", scan_targets_alone, 0, 65535, "8",
            "targets of one source that get a scan.port finding each; its further targets fold "
            "into one finding without a target"),
    S_STR ("scan", "worm_ports", scan_worm_ports,
           "22,23,135,139,445,1433,2323,2375,3306,3389,5555,5900,6379,7547,8291",
           "ports worms spread by (lists and ranges): an inside host sweeping outside hosts on "
           "one is high, likely infected; other outbound sweeps are medium"),
    S_NETS ("scan", "allow", scan_allow, "", "sources never reported (e.g. your own scanner)"),
    S_BOOL ("bruteforce", "enabled", brute, "true", "password guessing against login services"),
    S_UINT ("bruteforce", "window", brute_window, 1, 86400, "900", "seconds"),
    S_UINT ("bruteforce", "ftp_failures", brute_ftp_failures, 1, 100000, "20",
            "failed FTP logins from one source within the window (Zeek)"),
    S_UINT ("bruteforce", "ssh_attempts", brute_ssh_attempts, 1, 100000, "20",
            "SSH connections that look like failed logins, per source and window"),
    S_UINT ("bruteforce", "attempts", brute_attempts, 1, 100000, "20",
            "short connections to another login service, per source and window"),
    S_UINT ("bruteforce", "short_bytes", brute_short_bytes, 1, 1 << 30, "6000",
            "a login attempt sends at most this many bytes to the server"),
    S_UINT ("bruteforce", "ssh_max_seconds", brute_ssh_max_seconds, 1, 86400, "120",
            "an SSH session shorter than this can be a failed login (OpenSSH's LoginGraceTime); "
            "a longer one logged in"),
    S_UINT ("bruteforce", "ssh_kex_bytes", brute_ssh_kex_bytes, 0, 1 << 20, "1000",
            "bytes each way an SSH session needs to count (a key exchange: banner grabs stay "
            "out)"),
    S_STR ("bruteforce", "ports", brute_ports,
           "21,22,23,25,110,143,445,465,587,993,995,1433,1521,3306,3389,5432,5900,5901,6379",
           "login services by port (SSH is also recognised on any port by its banner)"),
    S_UINT ("bruteforce", "max_tracked", brute_max_tracked, 16, 1 << 20, "4096",
            "source->target pairs followed at once"),
    S_NETS ("bruteforce", "allow", brute_allow, "", "sources never reported"),
    S_BOOL ("exposed", "enabled", exposed, "true",
            "outside addresses completing a handshake with risky inside services"),
    S_STR ("exposed", "ports", exposed_ports,
           "23,135,139,445,1433,1521,2375,3306,3389,5432,5900,5901,5985,5986,6379,9200,11211,"
           "27017",
           "risky services by port (admin panels are also recognised by their HTTP paths)"),
    S_UINT ("exposed", "max_tracked", exposed_max_tracked, 16, 1 << 20, "1024",
            "exposed services (inside host, port, service) followed at once (~500 bytes each)"),
    S_NETS ("exposed", "allow", exposed_allow, "", "outside sources allowed to reach them"),
    S_BOOL ("ioc", "enabled", ioc, "true", "match known-bad indicators"),
    S_STR ("ioc", "feeds", ioc_feeds, "",
           "indicator feed files, comma-separated (format by content: see docs/detection.md)"),
    S_UINT ("ioc", "reload_check", ioc_reload_check, 0, 86400, "5",
            "seconds between checks for changed feed files (0: only on SIGHUP)"),
    S_UINT ("ioc", "max", ioc_max, 1, 1 << 26, "4000000", "indicators held at most"),
    S_BOOL ("beacon", "enabled", beacon, "true", "regular call-backs from inside to one place"),
    S_UINT ("beacon", "min_connections", beacon_min_connections, 3, 100000, "10",
            "connections needed before timing is judged"),
    S_UINT ("beacon", "max_jitter_pct", beacon_max_jitter_pct, 1, 100, "30",
            "largest spread of intervals, percent of the period"),
    S_UINT ("beacon", "min_period", beacon_min_period, 1, 86400, "1", "seconds"),
    S_UINT ("beacon", "max_period", beacon_max_period, 1, 86400, "3600", "seconds"),
    S_UINT ("beacon", "max_tracked", beacon_max_tracked, 16, 1 << 20, "8192",
            "(host, destination) pairs followed at once"),
    S_STR ("beacon", "allow_ports", beacon_allow_ports, "53,123,5353",
           "destination ports never reported (DNS, NTP)"),
    S_STR ("beacon", "allow_domains", beacon_allow_domains,
           "windowsupdate.com,update.microsoft.com,microsoft.com,apple.com,mzstatic.com,"
           "googleapis.com,gstatic.com,google.com,ubuntu.com,debian.org,mozilla.org,"
           "mozilla.net,msftncsi.com,ntp.org",
           "destinations (SNI, HTTP host and their subdomains) never reported"),
    S_NETS ("beacon", "allow", beacon_allow, "", "destinations never reported"),
    S_BOOL ("dns_tunnel", "enabled", dnst, "true", "DNS tunnelling, exfiltration and DGA"),
    S_UINT ("dns_tunnel", "window", dnst_window, 1, 86400, "300", "seconds"),
    S_UINT ("dns_tunnel", "name_len", dnst_name_len, 16, 255, "100", "a long query name"),
    S_UINT ("dns_tunnel", "label_len", dnst_label_len, 8, 63, "52", "a long label"),
    S_UINT ("dns_tunnel", "entropy_centibits", dnst_entropy_centibits, 100, 800, "400",
            "label entropy, hundredths of a bit per character"),
    S_UINT ("dns_tunnel", "entropy_min_len", dnst_entropy_min_len, 8, 253, "24",
            "characters left of the registered domain needed before their entropy is judged "
            "(a shorter string cannot show a high one)"),
    S_UINT ("dns_tunnel", "unique_subdomains", dnst_unique_subdomains, 2, 1000000, "100",
            "distinct names under one registered domain within the window"),
    S_UINT ("dns_tunnel", "txt_null", dnst_txt_null, 2, 1000000, "50",
            "TXT/NULL queries from one host within the window"),
    S_UINT ("dns_tunnel", "nxdomain", dnst_nxdomain, 2, 1000000, "50",
            "distinct registered domains answered NXDOMAIN to one host within the window"),
    S_UINT ("dns_tunnel", "max_tracked", dnst_max_tracked, 16, 1 << 20, "4096",
            "hosts and domains followed at once"),
    S_STR ("dns_tunnel", "allow_domains", dnst_allow_domains,
           "in-addr.arpa,ip6.arpa,local,_tcp.local,_udp.local,spamhaus.org,surbl.org,"
           "akamaiedge.net,rackcdn.com,amazonaws.com",
           "domains never reported (with their subdomains); a tunnel needs its own name "
           "server, so a provider's domain costs no detection"),
    S_NETS ("dns_tunnel", "allow_clients", dnst_allow_clients, "",
            "client addresses never judged (e.g. an inside resolver that forwards for everyone, "
            "a mail server doing blocklist lookups)"),
    S_BOOL ("lateral", "enabled", lateral, "true",
            "admin shares, executables over SMB, remote services, kerberoasting"),
    S_BOOL ("lateral", "rc4_tickets", lateral_rc4, "true",
            "report RC4 (etype 23) service tickets as possible kerberoasting"),
    S_STR ("lateral", "exec_ext", lateral_exec_ext, "exe,dll,sys,scr,ps1,bat,cmd,vbs,js,hta,msi",
           "file extensions that count as executables written over SMB"),
    S_UINT ("lateral", "window", lateral_window, 10, 86400, "600",
            "seconds within which admin share, executable and service on one pair make one chain, "
            "and RC4 service tickets of one client are counted"),
    S_UINT ("lateral", "kerberoast_services", lateral_kerberoast_services, 2, 100000, "5",
            "distinct services with RC4 tickets for one client within the window: high"),
    S_UINT ("lateral", "max_tracked", lateral_max_tracked, 16, 1 << 20, "4096",
            "(source, target) pairs and Kerberos clients followed at once"),
    S_NETS ("lateral", "allow", lateral_allow, "",
            "sources never reported (e.g. the IT admin's workstation, a deployment server)"),
    S_BOOL ("exfil", "enabled", exfil, "true", "large uploads from one host to one place"),
    S_UINT ("exfil", "window", exfil_window, 60, 604800, "3600", "seconds"),
    S_UINT ("exfil", "bytes_mb", exfil_bytes_mb, 0, 1 << 20, "500",
            "MiB sent from one inside host to one outside address within the window (0: any "
            "upload, for tests on small captures)"),
    S_UINT ("exfil", "ratio", exfil_ratio, 2, 100000, "20",
            "upload/download ratio that is sharp enough to report"),
    S_UINT ("exfil", "ratio_min_mb", exfil_ratio_min_mb, 0, 1 << 20, "50",
            "MiB uploaded before the ratio is judged (0: any upload)"),
    S_UINT ("exfil", "max_tracked", exfil_max_tracked, 16, 1 << 20, "8192",
            "(host, destination) pairs followed at once"),
    S_NETS ("exfil", "allow", exfil_allow, "", "destinations never reported (e.g. backups)"),
    S_BOOL ("cleartext", "enabled", cleartext, "true",
            "passwords leaving in clear text (Telnet, FTP, HTTP basic auth)"),
    S_UINT ("cleartext", "max_tracked", cleartext_max_tracked, 16, 1 << 20, "2048",
            "connections, and (client, server, port, kind) counts, followed at once"),
    S_NETS ("cleartext", "allow", cleartext_allow, "",
            "outside servers never reported (e.g. a partner's legacy FTP the company accepts)"),
    S_BOOL ("block", "enabled", block, "false",
            "add offending outside addresses to an nftables set (needs CAP_NET_ADMIN)"),
    S_STR ("block", "nft", block_nft, "nft", "the nft program"),
    S_STR ("block", "table", block_table, "inet mimamori", "nftables family and table"),
    S_STR ("block", "set4", block_set4, "block4", "set of IPv4 addresses (with timeouts)"),
    S_STR ("block", "set6", block_set6, "block6", "set of IPv6 addresses (with timeouts)"),
    S_UINT ("block", "timeout", block_timeout, 60, 30 * 86400, "3600", "seconds a block lasts"),
    S_UINT ("block", "min_severity", block_min_severity, 1, 6, "5",
            "block the source of findings at least this severe (5 critical), and indicators "
            "marked block"),
    S_NETS ("block", "never", block_never, "", "addresses never blocked (the SOC, partners)"),
    //  The uplink: docs/sensor.md "Sending to the broker", docs/mesh.md for the guarantees.
    S_BOOL ("uplink", "enabled", uplink, "false",
            "send every event to the regional broker over CurveZMQ, through an on-disk spool"),
    S_STR ("uplink", "broker", uplink_broker, "",
           "the broker's sensor endpoint, e.g. tcp://broker.example:7001"),
    S_STR ("uplink", "broker_cert", uplink_broker_cert, "/etc/mimamori/broker.cert",
           "the broker's public certificate (ID.cert)"),
    S_STR ("uplink", "cert_secret", uplink_cert_secret, "/etc/mimamori/sensor.cert_secret",
           "this sensor's secret certificate (ID.cert_secret, mode 0600): its id and org name "
           "the events the broker stores"),
    S_STR ("uplink", "spool_dir", uplink_spool_dir, "/var/lib/mimamori/spool",
           "events wait here until the broker acknowledges them (created 0700)"),
    S_UINT ("uplink", "spool_max_mb", uplink_spool_max_mb, 1, 1 << 20, "256",
            "MiB the spool may hold; past it the oldest events are dropped, counted and "
            "reported in a finding"),
    S_STR ("uplink", "fsync", uplink_fsync, "interval",
           "when the spool is forced to disk: always (a power cut loses nothing), interval "
           "(at most fsync_interval_ms of events), never (whatever the kernel had not written)"),
    S_UINT ("uplink", "fsync_interval_ms", uplink_fsync_interval_ms, 1, 60000, "1000",
            "with fsync = interval"),
    S_UINT ("uplink", "heartbeat_s", uplink_heartbeat_s, 1, 3600, "10",
            "seconds between heartbeats (the broker reports a sensor silent after 3)"),
    S_UINT ("uplink", "window", uplink_window, 1, 1000000, "10000",
            "events sent and not yet acknowledged, at most"),
    S_UINT ("uplink", "ack_timeout_ms", uplink_ack_timeout_ms, 100, 600000, "5000",
            "resend from the first unacknowledged event when no ACK came for this long"),
    S_UINT ("uplink", "drain_s", uplink_drain_s, 0, 3600, "10",
            "capture files: seconds to wait at the end for the broker to acknowledge "
            "everything (what is left stays spooled for the next start)"),
};

const size_t sn_config_table_len = sizeof sn_config_table / sizeof sn_config_table[0];

int
sn_config_defaults (sn_config_t *cfg, char *err, size_t errlen)
{
    return mm_config_defaults (sn_config_table, sn_config_table_len, cfg, err, errlen);
}

int
sn_config_check (const sn_config_t *cfg, char *err, size_t errlen)
{
    sn_spool_sync_t sync;
    if (sn_spool_sync_parse (cfg->uplink_fsync, &sync) == -1) {
        snprintf (err, errlen, "[uplink] fsync: '%s' is not always, interval or never",
                  cfg->uplink_fsync);
        return -1;
    }
    if (!cfg->uplink)
        return 0;
    const struct {
        const char *key, *value;
    } need[] = {{"broker", cfg->uplink_broker},
                {"broker_cert", cfg->uplink_broker_cert},
                {"cert_secret", cfg->uplink_cert_secret},
                {"spool_dir", cfg->uplink_spool_dir}};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!need[i].value[0]) {
            snprintf (err, errlen, "[uplink] %s must be set when the uplink is enabled",
                      need[i].key);
            return -1;
        }
    return 0;
}
