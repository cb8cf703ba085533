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

static const char *s_regions[] = {"all",   "hokkaido", "tohoku",  "kanto",         "chubu",
                                  "kinki", "chugoku",  "shikoku", "kyushu-okinawa"};
static const char *s_regions_ja[] = {"全国", "北海道", "東北", "関東",      "中部",
                                     "近畿", "中国",   "四国", "九州・沖縄"};

const char *
st_region_name (uint8_t region)
{
    return region < sizeof s_regions / sizeof s_regions[0] ? s_regions[region] : NULL;
}

const char *
st_region_ja (uint8_t region)
{
    return region < sizeof s_regions_ja / sizeof s_regions_ja[0] ? s_regions_ja[region] : NULL;
}

static const char *s_industries[][2] = {
    {"Agriculture and forestry", "農業，林業"},
    {"Fisheries", "漁業"},
    {"Mining and quarrying of stone and gravel", "鉱業，採石業，砂利採取業"},
    {"Construction", "建設業"},
    {"Manufacturing", "製造業"},
    {"Electricity, gas, heat supply and water", "電気・ガス・熱供給・水道業"},
    {"Information and communications", "情報通信業"},
    {"Transport and postal activities", "運輸業，郵便業"},
    {"Wholesale and retail trade", "卸売業，小売業"},
    {"Finance and insurance", "金融業，保険業"},
    {"Real estate and goods rental and leasing", "不動産業，物品賃貸業"},
    {"Scientific research, professional and technical services", "学術研究，専門・技術サービス業"},
    {"Accommodations, eating and drinking services", "宿泊業，飲食サービス業"},
    {"Living-related and personal services and amusement services", "生活関連サービス業，娯楽業"},
    {"Education, learning support", "教育，学習支援業"},
    {"Medical, health care and welfare", "医療，福祉"},
    {"Compound services", "複合サービス事業"},
    {"Services, n.e.c.", "サービス業（他に分類されないもの）"},
    {"Government, except elsewhere classified", "公務（他に分類されるものを除く）"},
    {"Industries unable to classify", "分類不能の産業"},
};

static const char *
s_industry (uint8_t letter, int lang)
{
    if (letter == 0)
        return lang ? "全業種" : "All industries";
    if (letter < 'A' || letter > 'T')
        return NULL;
    return s_industries[letter - 'A'][lang];
}

const char *
st_industry_en (uint8_t letter)
{
    return s_industry (letter, 0);
}

const char *
st_industry_ja (uint8_t letter)
{
    return s_industry (letter, 1);
}

const char *
st_sensor_type_name (uint8_t type)
{
    return type == 1 ? "network" : type == 2 ? "endpoint" : NULL;
}

const char *
st_sensor_type_ja (uint8_t type)
{
    return type == 1 ? "ネットワーク型(UTM等)" : type == 2 ? "端末型(EDR等)" : NULL;
}
