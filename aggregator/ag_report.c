/*  ag_report: an SME's weekly report (see ag_report.h). */
#include "ag_report.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ag_correlate.h"
#include "mm_event.h"
#include "mm_warning.h"
#include "mm_period.h"

#define S_NS 1000000000ull
#define S_JST (9ull * 3600 * S_NS)
#define S_SILENT "sensor.silent"
#define S_TEXT_MAX (MM_LONG_MAX + 1)  //  a message, an indicator, advice: whole

//  A finding as the report needs it: its newest revision.
typedef struct {
    char sensor[MM_ID_MAX + 1];
    uint64_t id;
    uint32_t revision;
    uint64_t ts;  //  the newest revision's time
    uint64_t first_ts;
    uint8_t severity;
    uint8_t category;
    char detector[MM_ID_MAX + 1];
    char message[S_TEXT_MAX];
    char ioc[S_TEXT_MAX];
} s_finding_t;

//  A gap a broker reported: a sensor silent from `from` to `to` (0: not back yet).
typedef struct {
    char broker[MM_ID_MAX + 1];
    uint64_t id;  //  the broker's finding id
    char sensor[MM_ID_MAX + 1];
    uint64_t from, to;
} s_gap_t;

typedef struct {
    char id[MM_ID_MAX + 1];
    uint32_t revision;
    uint64_t ts;
    uint8_t status, severity, relation, category;
    uint32_t orgs;
    char indicator[S_TEXT_MAX];
    char action_ja[S_TEXT_MAX];
} s_warning_t;

struct ag_report_t {
    const ag_registry_t *registry;
    uint32_t org;
    char week[16];
    uint64_t since, until, now;
    s_finding_t *f;
    size_t nf, maxf;
    s_gap_t *g;
    size_t ng, maxg;
    s_warning_t *w;
    size_t nw, maxw;
    uint64_t bad;
    mm_event_t ev;  //  decoder scratch (large)
};

//  Grows an array of `size`-byte items to hold one more. 0, or -1.
static int
s_grow (void **v, size_t n, size_t *max, size_t size)
{
    if (n < *max)
        return 0;
    size_t m = *max ? *max * 2 : 32;
    void *p = realloc (*v, m * size);
    if (!p)
        return -1;
    *v = p;
    *max = m;
    return 0;
}

//  Copies `s` into `dst`, cut (if it must be) at a character boundary: half a UTF-8
//  character would make the page invalid.
static void
s_copy (char *dst, size_t dlen, mm_str_t s)
{
    size_t n = s.len < dlen ? s.len : dlen - 1;
    if (n < s.len)
        while (n > 0 && ((unsigned char) s.ptr[n] & 0xc0) == 0x80)
            n--;
    if (n)  //  an absent string's ptr may be NULL
        memcpy (dst, s.ptr, n);
    dst[n] = 0;
}

int
ag_report_week (const char *week, uint64_t *since, uint64_t *until)
{
    const char *kind;
    return mm_period_parse (week, since, until, &kind) == 0 && strcmp (kind, "week") == 0 ? 0 : -1;
}

ag_report_t *
ag_report_new (const ag_registry_t *registry, uint32_t org, const char *week, uint64_t since,
               uint64_t until, uint64_t now)
{
    if (org >= ag_registry_orgs (registry))
        return NULL;
    ag_report_t *self = (ag_report_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->registry = registry;
    self->org = org;
    snprintf (self->week, sizeof self->week, "%s", week);
    self->since = since;
    self->until = until;
    self->now = now;
    return self;
}

void
ag_report_destroy (ag_report_t **self_p)
{
    ag_report_t *self = *self_p;
    if (!self)
        return;
    free (self->f);
    free (self->g);
    free (self->w);
    free (self);
    *self_p = NULL;
}

uint64_t
ag_report_bad (const ag_report_t *self)
{
    return self->bad;
}

//  The silent sensor's id, from the broker's message "sensor ID silent: ..." or "sensor ID is
//  heartbeating again" (bk_broker writes them; the finding's sender is the broker).
static bool
s_silent_sensor (const mm_finding_t *f, char *out, size_t outlen)
{
    static const char head[] = "sensor ";
    if (f->message.len <= sizeof head || memcmp (f->message.ptr, head, sizeof head - 1) != 0)
        return false;
    const char *id = f->message.ptr + sizeof head - 1;
    size_t n = 0;
    while (id + n < f->message.ptr + f->message.len && id[n] != ' ')
        n++;
    if (n == 0 || n > MM_ID_MAX || n >= outlen)
        return false;
    memcpy (out, id, n);
    out[n] = 0;
    return true;
}

static int
s_take_gap (ag_report_t *self, const mm_event_t *ev)
{
    const mm_finding_t *f = &ev->finding;
    char sensor[MM_ID_MAX + 1], broker[MM_ID_MAX + 1];
    if (!s_silent_sensor (f, sensor, sizeof sensor))
        return 1;
    s_copy (broker, sizeof broker, ev->sensor);
    s_gap_t *gap = NULL;
    for (size_t i = 0; i < self->ng && !gap; i++)
        if (self->g[i].id == f->id && strcmp (self->g[i].broker, broker) == 0)
            gap = &self->g[i];
    if (!gap) {
        if (s_grow ((void **) &self->g, self->ng, &self->maxg, sizeof *self->g) == -1)
            return -1;
        gap = &self->g[self->ng++];
        memset (gap, 0, sizeof *gap);
        snprintf (gap->broker, sizeof gap->broker, "%s", broker);
        snprintf (gap->sensor, sizeof gap->sensor, "%s", sensor);
        gap->id = f->id;
    }
    if (f->revision == 0)  //  silent since its last heartbeat
        gap->from = (f->has & MM_FINDING_HAS_EVIDENCE) && f->evidence.first_ts
                        ? f->evidence.first_ts
                        : ev->ts;
    else {  //  heartbeating again
        gap->to = ev->ts;
        //  Its start is in an earlier week (the timeline is in time order): silent since
        //  the week began.
        if (!gap->from)
            gap->from = self->since;
    }
    return 0;
}

static int
s_take_finding (ag_report_t *self, const uint8_t *msg, size_t len)
{
    mm_error_t err;
    mm_event_t *ev = &self->ev;
    if (mm_event_decode (ev, msg, len, &err) == -1 || !(ev->has & MM_EV_HAS_FINDING)) {
        self->bad++;
        return 1;
    }
    const mm_finding_t *f = &ev->finding;
    if (f->detector.len == sizeof S_SILENT - 1 &&
        memcmp (f->detector.ptr, S_SILENT, f->detector.len) == 0)
        return s_take_gap (self, ev);
    if (ev->ts < self->since)
        return 1;  //  before the week: read only for silences still open when it began
    char sensor[MM_ID_MAX + 1];
    s_copy (sensor, sizeof sensor, ev->sensor);
    s_finding_t *it = NULL;
    for (size_t i = 0; i < self->nf && !it; i++)
        if (self->f[i].id == f->id && strcmp (self->f[i].sensor, sensor) == 0)
            it = &self->f[i];
    if (it && it->revision > f->revision)
        return 0;  //  an older revision after a newer one
    if (!it) {
        if (s_grow ((void **) &self->f, self->nf, &self->maxf, sizeof *self->f) == -1)
            return -1;
        it = &self->f[self->nf++];
        memset (it, 0, sizeof *it);
        snprintf (it->sensor, sizeof it->sensor, "%s", sensor);
        it->id = f->id;
        it->first_ts = ev->ts;
    }
    it->revision = f->revision;
    it->ts = ev->ts;
    it->severity = ev->severity;
    it->category = f->category;
    s_copy (it->detector, sizeof it->detector, f->detector);
    s_copy (it->message, sizeof it->message, f->message);
    if ((f->has & MM_FINDING_HAS_IOC) && f->ioc.type)
        s_copy (it->ioc, sizeof it->ioc, f->ioc.value);
    return 0;
}

static int
s_take_warning (ag_report_t *self, const uint8_t *msg, size_t len)
{
    mm_warning_t w;
    mm_error_t err;
    if (mm_warning_decode (&w, msg, len, &err) == -1) {
        self->bad++;
        return 1;
    }
    if (w.ts < self->since)
        return 1;
    char id[MM_ID_MAX + 1];
    s_copy (id, sizeof id, w.id);
    s_warning_t *it = NULL;
    for (size_t i = 0; i < self->nw && !it; i++)
        if (strcmp (self->w[i].id, id) == 0)
            it = &self->w[i];
    if (it && it->revision > w.revision)
        return 0;
    if (!it) {
        if (s_grow ((void **) &self->w, self->nw, &self->maxw, sizeof *self->w) == -1)
            return -1;
        it = &self->w[self->nw++];
        memset (it, 0, sizeof *it);
        snprintf (it->id, sizeof it->id, "%s", id);
        it->ts = w.ts;  //  when it was first told
    }
    it->revision = w.revision;
    it->status = w.status;
    it->severity = w.severity;
    it->relation = w.relation;
    it->category = w.category;
    it->orgs = w.evidence.orgs;
    s_copy (it->indicator, sizeof it->indicator, w.indicator.value);
    s_copy (it->action_ja, sizeof it->action_ja, w.action.text_ja);
    return 0;
}

int
ag_report_take (void *arg, char kind, const uint8_t *msg, size_t len)
{
    ag_report_t *self = (ag_report_t *) arg;
    return kind == 'F' ? s_take_finding (self, msg, len) : s_take_warning (self, msg, len);
}

//  ---------------------------------------------------------------------------------------------
//  The page

//  Text into HTML: the five characters that could open markup or an attribute are escaped;
//  everything else (UTF-8 Japanese included) goes as it is.
static int
s_esc (mm_buf_t *out, const char *text)
{
    int rc = 0;
    for (const char *c = text; *c && rc == 0; c++) {
        switch (*c) {
        case '<': rc = mm_buf_append (out, "&lt;", 4); break;
        case '>': rc = mm_buf_append (out, "&gt;", 4); break;
        case '&': rc = mm_buf_append (out, "&amp;", 5); break;
        case '"': rc = mm_buf_append (out, "&quot;", 6); break;
        case '\'': rc = mm_buf_append (out, "&#39;", 5); break;
        default: rc = mm_buf_append (out, c, 1);
        }
    }
    return rc;
}

//  "11月18日(水) 14:05" in Japan's time.
static void
s_jst (uint64_t ns, char *out, size_t outlen, bool with_time)
{
    static const char *const wd[] = {"日", "月", "火", "水", "木", "金", "土"};
    time_t t = (time_t) ((ns + S_JST) / S_NS);
    struct tm tm;
    gmtime_r (&t, &tm);
    if (with_time)
        snprintf (out, outlen, "%d月%d日(%s) %02d:%02d", tm.tm_mon + 1, tm.tm_mday, wd[tm.tm_wday],
                  tm.tm_hour, tm.tm_min);
    else
        snprintf (out, outlen, "%d年%d月%d日(%s)", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  wd[tm.tm_wday]);
}

//  What a kind of finding is, for someone who has never heard the word.
static const char *
s_plain (uint8_t category)
{
    switch (category) {
    case MM_CAT_SCAN: return "外部や社内からの「のぞき見」(どの機器が動いているかの調査)";
    case MM_CAT_BRUTE_FORCE: return "パスワードの総当たり(ログインを何度も試す攻撃)";
    case MM_CAT_EXPOSED_SERVICE: return "インターネットから見えている機器やサービス";
    case MM_CAT_IOC_MATCH: return "危険と分かっている宛先との通信";
    case MM_CAT_C2_BEACON: return "外部の怪しい宛先への定期的な通信(遠隔操作の疑い)";
    case MM_CAT_DNS_TUNNEL: return "名前の問い合わせ(DNS)を使った不審な通信";
    case MM_CAT_LATERAL_MOVEMENT: return "社内の端末どうしの不審な通信(感染が広がる動き)";
    case MM_CAT_EXFILTRATION: return "社外への大量のデータ送信";
    case MM_CAT_EXPLOIT: return "機器やソフトウェアの弱点を狙った攻撃";
    case MM_CAT_POLICY: return "暗号化されていない通信など、設定の見直しが望ましいもの";
    case MM_CAT_MALWARE: return "ウイルス(マルウェア)の疑い";
    default: return "その他の気になる通信";
    }
}

static const char *
s_sev_ja (uint8_t sev)
{
    switch (sev) {
    case MM_SEV_FATAL:
    case MM_SEV_CRITICAL: return "緊急";
    case MM_SEV_HIGH: return "重大";
    case MM_SEV_MEDIUM: return "注意";
    case MM_SEV_LOW: return "低";
    default: return "情報";
    }
}

static const char *
s_relation_ja (uint8_t relation)
{
    switch (relation) {
    case MM_REL_DIRECT_SUPPLIER: return "貴社の直接の仕入先で見つかりました";
    case MM_REL_DIRECT_CUSTOMER: return "貴社の直接の取引先(納品先)で見つかりました";
    case MM_REL_SAME_CHAIN: return "貴社と同じサプライチェーンの会社で見つかりました";
    case MM_REL_SAME_REGION_INDUSTRY: return "同じ地域・同じ業種の複数の会社で見つかりました";
    default: return "他の会社で見つかりました";
    }
}

static bool
s_severe (const s_finding_t *f)
{
    return f->severity >= MM_SEV_HIGH && f->category != MM_CAT_SENSOR;
}

static int
s_cmp_time (const void *a, const void *b)
{
    const s_finding_t *x = (const s_finding_t *) a, *y = (const s_finding_t *) b;
    return x->first_ts < y->first_ts ? -1 : x->first_ts > y->first_ts;
}

//  Seconds of the week [since, min (until, now)) the sensor was reported silent.
static uint64_t
s_silent_ns (const ag_report_t *self, const char *sensor, uint32_t *gaps)
{
    uint64_t end = self->until < self->now ? self->until : self->now, total = 0;
    *gaps = 0;
    for (size_t i = 0; i < self->ng; i++) {
        const s_gap_t *g = &self->g[i];
        if (strcmp (g->sensor, sensor) != 0)
            continue;
        uint64_t from = g->from > self->since ? g->from : self->since;
        uint64_t to = g->to ? g->to : end;
        if (to > end)
            to = end;
        if (to > from) {
            total += to - from;
            (*gaps)++;
        }
    }
    return total;
}

static bool
s_heard (const ag_report_t *self, const char *sensor)
{
    for (size_t i = 0; i < self->nf; i++)
        if (strcmp (self->f[i].sensor, sensor) == 0)
            return true;
    for (size_t i = 0; i < self->ng; i++)
        if (strcmp (self->g[i].sensor, sensor) == 0)
            return true;
    return false;
}

static const char s_style[] =
    "<style>\n"
    "@page { size: A4; margin: 14mm 14mm 16mm; }\n"
    "body { font-family: 'Noto Sans CJK JP', 'Noto Sans JP', sans-serif; color: #1d2330; "
    "font-size: 10.5pt; line-height: 1.6; max-width: 180mm; margin: 0 auto; }\n"
    "h1 { font-size: 17pt; margin: 0 0 2mm; border-bottom: 3px solid #2c5d8f; }\n"
    "h2 { font-size: 12.5pt; margin: 6mm 0 2mm; padding-left: 2mm; border-left: 5px solid "
    "#2c5d8f; }\n"
    ".meta { color: #4a5568; margin-bottom: 4mm; }\n"
    ".summary { display: grid; grid-template-columns: repeat(4, 1fr); gap: 3mm; }\n"
    ".box { border: 1px solid #cbd2dc; border-radius: 2mm; padding: 2mm 3mm; text-align: center; "
    "}\n"
    ".box .n { font-size: 18pt; font-weight: bold; display: block; }\n"
    ".box.bad { background: #fdecea; border-color: #c0392b; color: #8b1e14; }\n"
    ".box.good { background: #eaf6ee; border-color: #1e8449; color: #145a32; }\n"
    ".verdict { font-size: 12pt; font-weight: bold; margin: 4mm 0 1mm; }\n"
    ".incident { border: 2px solid #c0392b; border-radius: 2mm; padding: 2mm 4mm; margin: 3mm 0; "
    "break-inside: avoid; }\n"
    ".todo { background: #fff8e1; padding: 1.5mm 3mm; border-radius: 1mm; font-weight: bold; }\n"
    ".tech { color: #6b7280; font-size: 8.5pt; overflow-wrap: anywhere; }\n"
    "table { border-collapse: collapse; width: 100%; }\n"
    "th, td { border: 1px solid #cbd2dc; padding: 1mm 2mm; text-align: left; vertical-align: top; "
    "}\n"
    "th { background: #eef1f5; font-weight: normal; }\n"
    "td.n { text-align: right; white-space: nowrap; }\n"
    ".none { color: #4a5568; }\n"
    "footer { margin-top: 8mm; font-size: 8.5pt; color: #6b7280; border-top: 1px solid #cbd2dc; "
    "padding-top: 2mm; }\n"
    "</style>\n";

static int
s_head (ag_report_t *self, mm_buf_t *out, const ag_org_t *org, const ag_provider_t *prov)
{
    char from[64], to[64];
    s_jst (self->since, from, sizeof from, false);
    s_jst (self->until - S_NS, to, sizeof to, false);
    int rc =
        mm_buf_appendf (out,
                        "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n"
                        "<title>週次セキュリティレポート %s</title>\n",
                        self->week);
    rc |= mm_buf_append (out, s_style, sizeof s_style - 1);
    rc |= mm_buf_appendf (out, "</head>\n<body>\n<h1>週次セキュリティレポート</h1>\n<div "
                               "class=\"meta\"><strong>");
    rc |= s_esc (out, org->name[0] ? org->name : org->id);
    rc |= mm_buf_appendf (out, " 様</strong><br>対象期間: %s 〜 %s (%s)<br>見守り担当: ", from, to,
                          self->week);
    rc |= s_esc (out, prov->name[0] ? prov->name : prov->id);
    rc |= mm_buf_appendf (out, "</div>\n");
    return rc;
}

static int
s_summary (mm_buf_t *out, size_t severe, size_t handled, size_t warnings, double uptime)
{
    int rc = mm_buf_appendf (out, "<h2>今週のまとめ</h2>\n<div class=\"summary\">\n");
    rc |= mm_buf_appendf (out,
                          "<div class=\"box %s\"><span class=\"n\">%zu 件</span>すぐに対応が必要な"
                          "問題</div>\n",
                          severe ? "bad" : "good", severe);
    rc |= mm_buf_appendf (out,
                          "<div class=\"box\"><span class=\"n\">%zu 件</span>見つけて記録したもの"
                          "</div>\n",
                          handled);
    rc |= mm_buf_appendf (out,
                          "<div class=\"box%s\"><span class=\"n\">%zu 件</span>取引先からの注意"
                          "喚起</div>\n",
                          warnings ? " bad" : "", warnings);
    if (uptime >= 0)
        rc |= mm_buf_appendf (out,
                              "<div class=\"box%s\"><span class=\"n\">%.1f %%</span>センサーの"
                              "稼働率</div>\n",
                              uptime < 99.0 ? " bad" : " good", uptime);
    else
        rc |= mm_buf_appendf (out, "<div class=\"box\"><span class=\"n\">—</span>センサーの稼働率"
                                   "(データなし)</div>\n");
    rc |=
        mm_buf_appendf (out, "</div>\n<p class=\"verdict\">%s</p>\n",
                        severe ? "今週は、すぐに対応していただきたい問題がありました。下の「お願い"
                                 "したい対応」をご確認ください。"
                        : warnings ? "貴社での重大な問題はありませんでしたが、取引先で見つかった"
                                     "脅威について注意喚起があります。"
                                   : "今週は、貴社で重大な問題は見つかりませんでした。");
    return rc;
}

static int
s_incidents (ag_report_t *self, mm_buf_t *out)
{
    int rc = mm_buf_appendf (out, "<h2>すぐに対応が必要な問題</h2>\n");
    size_t n = 0;
    for (size_t i = 0; i < self->nf; i++) {
        const s_finding_t *f = &self->f[i];
        if (!s_severe (f))
            continue;
        char when[64];
        s_jst (f->first_ts, when, sizeof when, true);
        rc |= mm_buf_appendf (out,
                              "<div class=\"incident\"><strong>%s 【%s】%s</strong><br>\n"
                              "<div class=\"todo\">お願いしたい対応: ",
                              when, s_sev_ja (f->severity), s_plain (f->category));
        rc |= s_esc (out, ag_correlate_advice_ja (f->category));
        rc |= mm_buf_appendf (out, "</div>\n<div class=\"tech\">担当 SOC 向けの詳細: ");
        rc |= s_esc (out, f->message);
        rc |= mm_buf_appendf (out, " (センサー ");
        rc |= s_esc (out, f->sensor);
        rc |= mm_buf_appendf (out, ", ");
        rc |= s_esc (out, f->detector);
        rc |= mm_buf_appendf (out, ")</div></div>\n");
        n++;
    }
    if (n == 0)
        rc |= mm_buf_appendf (out, "<p class=\"none\">ありませんでした。</p>\n");
    return rc;
}

//  What the company itself should do about findings of a kind that is not severe: most need
//  nothing from it, but what it exposes or how it set things up only it can change.
static const char *
s_ask (uint8_t category)
{
    switch (category) {
    case MM_CAT_EXPOSED_SERVICE:
        return "ご確認ください: インターネットに公開している機器やサービスが本当に必要か、"
               "担当の SOC と確認してください。";
    case MM_CAT_POLICY:
        return "ご確認ください: 暗号化されていない通信などの設定を、担当の SOC と見直して"
               "ください。";
    default: return "対応は不要です。";
    }
}

static int
s_handled (ag_report_t *self, mm_buf_t *out)
{
    int rc = mm_buf_appendf (
        out, "<h2>見つけて記録したもの</h2>\n<p>次のものは見守りの仕組みが自動で見つけ"
             "て記録し、担当の SOC にも届いています。「ご確認ください」とあるもの以外は、"
             "貴社で対応していただく必要はありません。</p>\n");
    size_t count[MM_CAT_SENSOR + 1] = {0};
    size_t total = 0;
    for (size_t i = 0; i < self->nf; i++)
        if (!s_severe (&self->f[i])) {
            //  A category this version does not know is "something else" (MM_CAT_NONE).
            uint8_t c = self->f[i].category;
            count[c <= MM_CAT_SENSOR ? c : MM_CAT_NONE]++;
            total++;
        }
    if (!total)
        return rc | mm_buf_appendf (out, "<p class=\"none\">ありませんでした。</p>\n");
    rc |= mm_buf_appendf (out, "<table><tr><th>見つかったもの</th><th>件数</th><th>お願い</th>"
                               "</tr>\n");
    for (uint8_t c = 0; c <= MM_CAT_SENSOR; c++)
        if (count[c])
            rc |=
                mm_buf_appendf (out, "<tr><td>%s</td><td class=\"n\">%zu 件</td><td>%s</td></tr>\n",
                                c == MM_CAT_SENSOR ? "センサー自身の状態について" : s_plain (c),
                                count[c], s_ask (c));
    return rc | mm_buf_appendf (out, "</table>\n");
}

static int
s_warnings (ag_report_t *self, mm_buf_t *out)
{
    int rc = mm_buf_appendf (
        out, "<h2>取引先からの注意喚起</h2>\n<p>取引先など他の会社で見つかった脅威の"
             "うち、貴社にも届くおそれのあるものです。どの会社で見つかったかはお知らせ"
             "しません。</p>\n");
    if (!self->nw)
        return rc | mm_buf_appendf (out, "<p class=\"none\">ありませんでした。</p>\n");
    rc |= mm_buf_appendf (out, "<table><tr><th>日時</th><th>内容</th><th>お願いしたい対応</th>"
                               "</tr>\n");
    for (size_t i = 0; i < self->nw; i++) {
        const s_warning_t *w = &self->w[i];
        char when[64];
        s_jst (w->ts, when, sizeof when, true);
        rc |= mm_buf_appendf (out,
                              "<tr><td>%s</td><td>【%s】%s。%s (%u 社で確認)。<br>"
                              "<span class=\"tech\">宛先: ",
                              when, s_sev_ja (w->severity), s_plain (w->category),
                              s_relation_ja (w->relation), w->orgs);
        rc |= s_esc (out, w->indicator);
        rc |= mm_buf_appendf (out, "</span></td><td>");
        if (w->status == MM_WSTATUS_REVOKED)
            rc |= mm_buf_appendf (out, "この注意喚起は誤りと分かり、取り消されました。対応は不要"
                                       "です。");
        else
            rc |= s_esc (out, w->action_ja);
        rc |= mm_buf_appendf (out, "</td></tr>\n");
    }
    return rc | mm_buf_appendf (out, "</table>\n");
}

//  The sensors' table; `uptime` gets the whole company's share (-1: no data).
static int
s_sensors (ag_report_t *self, mm_buf_t *out, double *uptime)
{
    uint64_t end = self->until < self->now ? self->until : self->now;
    uint64_t span = end > self->since ? end - self->since : 0;
    int rc = mm_buf_appendf (out, "<h2>センサーの稼働状況</h2>\n<table><tr><th>センサー</th>"
                                  "<th>稼働率</th><th>止まっていた時間</th></tr>\n");
    double sum = 0;
    size_t counted = 0, listed = 0;
    //  The registry's sensors of this company.
    size_t ns = ag_registry_sensors (self->registry);
    for (size_t i = 0; i < ns; i++) {
        const ag_sensor_t *s = ag_registry_sensor_at (self->registry, i);
        if (!s || s->org != self->org)
            continue;
        listed++;
        uint32_t gaps;
        uint64_t silent = s_silent_ns (self, s->id, &gaps);
        rc |= mm_buf_appendf (out, "<tr><td>");
        rc |= s_esc (out, s->id);
        if (!span || (!s_heard (self, s->id) && !gaps)) {
            rc |= mm_buf_appendf (out, "</td><td class=\"n\">—</td><td>今週は検知がなく、停止の"
                                       "報告もありませんでした</td></tr>\n");
            continue;
        }
        double up = 100.0 * (double) (span - (silent < span ? silent : span)) / (double) span;
        sum += up;
        counted++;
        rc |= mm_buf_appendf (out, "</td><td class=\"n\">%.1f %%</td><td>", up);
        if (gaps)
            rc |= mm_buf_appendf (out, "%u 回、合計 %llu 時間 %llu 分", gaps,
                                  (unsigned long long) (silent / S_NS / 3600),
                                  (unsigned long long) (silent / S_NS / 60 % 60));
        else
            rc |= mm_buf_appendf (out, "ありません");
        rc |= mm_buf_appendf (out, "</td></tr>\n");
    }
    if (!listed)
        rc |= mm_buf_appendf (out, "<tr><td colspan=\"3\">登録されたセンサーがありません。</td>"
                                   "</tr>\n");
    *uptime = counted ? sum / (double) counted : -1;
    return rc | mm_buf_appendf (out, "</table>\n");
}

int
ag_report_html (ag_report_t *self, mm_buf_t *out)
{
    const ag_org_t *org = ag_registry_org_at (self->registry, self->org);
    const ag_provider_t *prov = ag_registry_provider_at (self->registry, org->provider);
    if (self->nf)  //  qsort's array may not be NULL, even for no items
        qsort (self->f, self->nf, sizeof *self->f, s_cmp_time);
    size_t severe = 0;
    for (size_t i = 0; i < self->nf; i++)
        severe += s_severe (&self->f[i]);
    size_t active = 0;
    for (size_t i = 0; i < self->nw; i++)
        active += self->w[i].status != MM_WSTATUS_REVOKED;
    //  The sensors' table is needed for the summary's uptime: render it aside first.
    mm_buf_t sensors = MM_BUF_INIT;
    double uptime;
    int rc = s_sensors (self, &sensors, &uptime);
    mm_buf_clear (out);
    rc |= s_head (self, out, org, prov);
    rc |= s_summary (out, severe, self->nf - severe, active, uptime);
    rc |= s_incidents (self, out);
    rc |= s_warnings (self, out);
    rc |= s_handled (self, out);
    rc |= mm_buf_append (out, sensors.data, sensors.len);
    mm_buf_free (&sensors);
    rc |= mm_buf_appendf (out, "<footer>ご不明な点や、お願いした対応が難しい場合は、見守り担当 (");
    rc |= s_esc (out, prov->name[0] ? prov->name : prov->id);
    rc |= mm_buf_appendf (out,
                          ") までご連絡ください。このレポートは Mimamori が %s の記録から"
                          "作成しました。</footer>\n</body>\n</html>\n",
                          self->week);
    return rc ? -1 : 0;
}
