/*  st_taxonomy: see st_taxonomy.h. The mapping is ours (no お助け隊 category list exists, see
    ../shared/research/sharing.md 3.4); docs/statistics.md shows it as a table. */
#include "st_taxonomy.h"

#include <stddef.h>
#include <string.h>

#include "mm_proto.h"

static const st_class_t s_classes[] = {
    {MM_CAT_SCAN, "scan", "information-gathering/scanner", "TA0043", "Scanning", "スキャン(偵察)"},
    {MM_CAT_BRUTE_FORCE, "brute-force", "intrusion-attempts/brute-force", "TA0006",
     "Password guessing (brute force)", "パスワードの総当たり攻撃"},
    {MM_CAT_EXPOSED_SERVICE, "exposed-service", "vulnerable/vulnerable-system", "TA0001",
     "Service exposed to the Internet", "インターネットに公開されたサービス"},
    {MM_CAT_IOC_MATCH, "known-bad-contact", "intrusion-attempts/ids-alert", "TA0011",
     "Contact with a known-bad address or name", "既知の不正な宛先との通信"},
    {MM_CAT_C2_BEACON, "c2-beacon", "malicious-code/infected-system", "TA0011",
     "Command-and-control beaconing", "遠隔操作サーバとの定期通信(ビーコン)"},
    {MM_CAT_DNS_TUNNEL, "dns-tunnel", "malicious-code/infected-system", "TA0011", "DNS tunnelling",
     "DNSを使った不正な通信(トンネリング)"},
    {MM_CAT_LATERAL_MOVEMENT, "lateral-movement", "intrusions/system-compromise", "TA0008",
     "Lateral movement inside the network", "社内ネットワークでの侵害の拡大"},
    {MM_CAT_EXFILTRATION, "exfiltration", "information-content-security/data-leak", "TA0010",
     "Data exfiltration", "情報の外部への持ち出し"},
    {MM_CAT_EXPLOIT, "exploit", "intrusion-attempts/exploit", "TA0001",
     "Exploitation of a vulnerability", "脆弱性を狙った攻撃"},
    {MM_CAT_POLICY, "policy", "other/other", "", "Policy violation", "社内ルール違反の通信"},
    {MM_CAT_MALWARE, "malware", "malicious-code/malware-distribution", "TA0002", "Malware",
     "マルウェア(不正プログラム)"},
};

const st_class_t *
st_taxonomy_class (uint8_t category)
{
    for (size_t i = 0; i < sizeof s_classes / sizeof s_classes[0]; i++)
        if (s_classes[i].category == category)
            return &s_classes[i];
    return NULL;
}

const st_class_t *
st_taxonomy_by_name (const char *name)
{
    for (size_t i = 0; name && i < sizeof s_classes / sizeof s_classes[0]; i++)
        if (strcmp (s_classes[i].name, name) == 0)
            return &s_classes[i];
    return NULL;
}

const st_class_t *
st_taxonomy_all (size_t *n)
{
    *n = sizeof s_classes / sizeof s_classes[0];
    return s_classes;
}

const char *
st_severity_name (uint8_t severity)
{
    static const char *names[] = {"unknown", "info", "low", "medium", "high", "critical", "fatal"};
    return severity < sizeof names / sizeof names[0] ? names[severity] : NULL;
}

const char *
st_severity_ja (uint8_t severity)
{
    static const char *names[] = {"不明", "情報", "低", "中", "高", "重大", "致命的"};
    return severity < sizeof names / sizeof names[0] ? names[severity] : NULL;
}
