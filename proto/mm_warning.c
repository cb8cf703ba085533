/*  mm_warning: the WARNING schema (see mm_warning.h). */
#include "mm_warning.h"

#include "mm_schema.h"

static const mm_field_t s_indicator_fields[] = {
    [1] = MM_FD_UINT (mm_indicator_t, type, "type", 1, UINT8_MAX, MM_FF_REQUIRED | MM_FF_ENUM_NAMED,
                      MM_NOBIT, "indicator type"),
    [2] = MM_FD_STR (mm_indicator_t, value, "value", MM_LONG_MAX, MM_FF_REQUIRED,
                     "normalized indicator"),
    [3] = MM_FD_UINT (mm_indicator_t, match, "match", 1, UINT8_MAX,
                      MM_FF_REQUIRED | MM_FF_ENUM_NAMED, MM_NOBIT, "how to match it"),
};
static const mm_schema_t s_indicator_schema =
    MM_SCHEMA ("warning.indicator", 0, mm_indicator_t, s_indicator_fields, -1, NULL);

static const mm_field_t s_evidence_fields[] = {
    [1] = MM_FD_UINT (mm_wevidence_t, orgs, "orgs", 0, UINT32_MAX, 0, MM_NOBIT,
                      "distinct organisations"),
    [2] = MM_FD_UINT (mm_wevidence_t, providers, "providers", 0, UINT32_MAX, 0, MM_NOBIT,
                      "distinct providers"),
    [3] = MM_FD_UINT (mm_wevidence_t, sightings, "sightings", 0, UINT64_MAX, 0, MM_NOBIT,
                      "sightings"),
    [4] = MM_FD_UINT (mm_wevidence_t, first_seen, "first_seen", 0, UINT64_MAX, 0, MM_NOBIT,
                      "ns since the epoch"),
    [5] = MM_FD_UINT (mm_wevidence_t, last_seen, "last_seen", 0, UINT64_MAX, 0, MM_NOBIT,
                      "ns since the epoch"),
};
static const mm_schema_t s_evidence_schema =
    MM_SCHEMA ("warning.evidence", 0, mm_wevidence_t, s_evidence_fields, -1, NULL);

static const mm_field_t s_action_fields[] = {
    [1] = MM_FD_UINT (mm_waction_t, code, "code", 1, UINT8_MAX, MM_FF_REQUIRED | MM_FF_ENUM_NAMED,
                      MM_NOBIT, "recommended action"),
    [2] = MM_FD_STR (mm_waction_t, text_ja, "text_ja", MM_LONG_MAX, 0, "advice in Japanese"),
    [3] = MM_FD_STR (mm_waction_t, text_en, "text_en", MM_LONG_MAX, 0, "advice in English"),
};
static const mm_schema_t s_action_schema =
    MM_SCHEMA ("warning.action", 0, mm_waction_t, s_action_fields, -1, NULL);

static const mm_field_t s_fields[] = {
    [MM_K_TS] = MM_FD_UINT (mm_warning_t, ts, "ts", 1, UINT64_MAX, MM_FF_REQUIRED, MM_NOBIT,
                            "issued at, ns since the epoch"),
    [MM_K_SENSOR] = MM_FD_STR (mm_warning_t, sensor, "sensor", MM_ID_MAX, 0,
                               "recipient sensor (empty: every sensor of the org)"),
    [MM_K_ORG] = MM_FD_STR (mm_warning_t, org, "org", MM_ID_MAX, 0, "recipient organisation"),
    [MM_WK_ID] = MM_FD_STR (mm_warning_t, id, "id", MM_ID_MAX, MM_FF_REQUIRED,
                            "warning id, stable across revisions"),
    [MM_WK_REVISION] = MM_FD_UINT (mm_warning_t, revision, "revision", 1, UINT32_MAX,
                                   MM_FF_REQUIRED, MM_NOBIT, "revision, from 1"),
    [MM_WK_STATUS] = MM_FD_UINT (mm_warning_t, status, "status", 1, 3,
                                 MM_FF_REQUIRED | MM_FF_ENUM_NAMED, MM_NOBIT, "status"),
    [MM_WK_VALID_UNTIL] = MM_FD_UINT (mm_warning_t, valid_until, "valid_until", 0, UINT64_MAX, 0,
                                      MM_NOBIT, "expiry, ns since the epoch"),
    [MM_WK_INDICATOR] = MM_FD_MAP (mm_warning_t, indicator, "indicator", &s_indicator_schema,
                                   MM_FF_REQUIRED, MM_NOBIT, "{1 type, 2 value, 3 match}"),
    [MM_WK_SEV] = MM_FD_UINT (mm_warning_t, severity, "severity", 0, 6,
                              MM_FF_REQUIRED | MM_FF_ENUM_NAMED, MM_NOBIT, "OCSF severity_id"),
    [MM_WK_CONF] = MM_FD_UINT (mm_warning_t, confidence, "confidence", 0, 100, 0, MM_NOBIT,
                               "confidence 0..100"),
    [MM_WK_CATEGORY] = MM_FD_UINT (mm_warning_t, category, "category", 0, UINT8_MAX,
                                   MM_FF_ENUM_NAMED, MM_NOBIT, "finding category"),
    [MM_WK_TACTICS] = MM_FD_ARR_STR (mm_warning_t, tactics, n_tactics, "tactics", MM_ATTACK_MAX,
                                     MM_SHORT_MAX, 0, "ATT&CK tactic ids"),
    [MM_WK_TECHNIQUES] = MM_FD_ARR_STR (mm_warning_t, techniques, n_techniques, "techniques",
                                        MM_ATTACK_MAX, MM_SHORT_MAX, 0, "ATT&CK technique ids"),
    [MM_WK_EVIDENCE] =
        MM_FD_MAP (mm_warning_t, evidence, "evidence", &s_evidence_schema, 0, MM_WARN_HAS_EVIDENCE,
                   "{1 orgs, 2 providers, 3 sightings, 4 first_seen, 5 last_seen}"),
    [MM_WK_ACTION] = MM_FD_MAP (mm_warning_t, action, "action", &s_action_schema, 0,
                                MM_WARN_HAS_ACTION, "{1 code, 2 text_ja, 3 text_en}"),
    [MM_WK_RELATION] =
        MM_FD_UINT (mm_warning_t, relation, "relation", 0, UINT8_MAX, MM_FF_ENUM_NAMED, MM_NOBIT,
                    "how the recipient relates to where it was seen"),
    [MM_WK_TLP] = MM_FD_UINT (mm_warning_t, tlp, "tlp", 0, UINT8_MAX, MM_FF_ENUM_NAMED, MM_NOBIT,
                              "TLP marking"),
    [MM_WK_DEDUP_KEY] = MM_FD_STR (mm_warning_t, dedup_key, "dedup_key", MM_ID_MAX, 0,
                                   "hex digest of (type, value, category)"),
};

const mm_schema_t mm_warning_schema = MM_SCHEMA ("warning", MM_MSG_WARNING, mm_warning_t, s_fields,
                                                 (int) offsetof (mm_warning_t, has), NULL);

int
mm_warning_encode (const mm_warning_t *w, mm_buf_t *out, mm_error_t *err)
{
    return mm_schema_encode_msg (&mm_warning_schema, w, out, err);
}

int
mm_warning_decode (mm_warning_t *w, const uint8_t *data, size_t len, mm_error_t *err)
{
    return mm_schema_decode_msg (&mm_warning_schema, w, data, len, err);
}
