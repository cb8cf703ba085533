/*  mm_incident: the INCIDENT schema (see mm_incident.h). Its nested maps have the same keys as
    EVENT's finding.ioc and WARNING's action, but their own tables: here the advice texts are
    required, since a SOC that is told to act must be told how. */
#include "mm_incident.h"

#include "mm_schema.h"

static const mm_field_t s_ioc_fields[] = {
    [1] = MM_FD_UINT (mm_ioc_t, type, "type", 1, UINT8_MAX, MM_FF_REQUIRED | MM_FF_ENUM_NAMED,
                      MM_NOBIT, "indicator type"),
    [2] = MM_FD_STR (mm_ioc_t, value, "value", MM_LONG_MAX, MM_FF_REQUIRED,
                     "the indicator as matched, normalized"),
    [3] = MM_FD_STR (mm_ioc_t, feed, "feed", MM_ID_MAX, 0, "feed the indicator came from"),
};
static const mm_schema_t s_ioc_schema =
    MM_SCHEMA ("incident.ioc", 0, mm_ioc_t, s_ioc_fields, -1, NULL);

static const mm_field_t s_action_fields[] = {
    [1] = MM_FD_UINT (mm_waction_t, code, "code", 1, UINT8_MAX, MM_FF_REQUIRED | MM_FF_ENUM_NAMED,
                      MM_NOBIT, "recommended action"),
    [2] = MM_FD_STR (mm_waction_t, text_ja, "text_ja", MM_LONG_MAX, MM_FF_REQUIRED,
                     "what to do, in Japanese"),
    [3] = MM_FD_STR (mm_waction_t, text_en, "text_en", MM_LONG_MAX, MM_FF_REQUIRED,
                     "what to do, in English"),
};
static const mm_schema_t s_action_schema =
    MM_SCHEMA ("incident.action", 0, mm_waction_t, s_action_fields, -1, NULL);

//  Kinds and categories are wide on the wire (new ones are compatible, docs/protocol.md
//  section 4); severity is the fixed OCSF scale, without "unknown": an incident is severe.
static const mm_field_t s_fields[] = {
    [MM_K_TS] = MM_FD_UINT (mm_incident_t, ts, "ts", 1, UINT64_MAX, MM_FF_REQUIRED, MM_NOBIT,
                            "notified at, ns since the epoch"),
    [MM_K_SENSOR] = MM_FD_STR (mm_incident_t, sensor, "sensor", MM_ID_MAX, MM_FF_REQUIRED,
                               "the sensor that saw it"),
    [MM_K_ORG] =
        MM_FD_STR (mm_incident_t, org, "org", MM_ID_MAX, MM_FF_REQUIRED, "the hit organisation"),
    [MM_IK_PROVIDER] = MM_FD_STR (mm_incident_t, provider, "provider", MM_ID_MAX, MM_FF_REQUIRED,
                                  "its provider: the SOC to notify"),
    [MM_IK_REGION] = MM_FD_STR (mm_incident_t, region, "region", MM_ID_MAX, MM_FF_REQUIRED,
                                "region name, e.g. kanto"),
    [MM_IK_SEEN] = MM_FD_UINT (mm_incident_t, seen, "seen", 1, UINT64_MAX, MM_FF_REQUIRED, MM_NOBIT,
                               "the finding's own time, ns since the epoch"),
    [MM_IK_FINDING_ID] =
        MM_FD_UINT (mm_incident_t, finding_id, "finding_id", 0, UINT64_MAX, 0, MM_NOBIT,
                    "(sensor, finding_id) names the finding; absent for a quarantine"),
    [MM_IK_KIND] = MM_FD_UINT (mm_incident_t, kind, "kind", 1, UINT8_MAX,
                               MM_FF_REQUIRED | MM_FF_ENUM_NAMED, MM_NOBIT, "incident kind"),
    [MM_IK_SEV] = MM_FD_UINT (mm_incident_t, severity, "severity", 1, 6,
                              MM_FF_REQUIRED | MM_FF_ENUM_NAMED, MM_NOBIT, "OCSF severity_id"),
    [MM_IK_CONF] = MM_FD_UINT (mm_incident_t, confidence, "confidence", 0, 100, 0, MM_NOBIT,
                               "confidence 0..100"),
    [MM_IK_CATEGORY] = MM_FD_UINT (mm_incident_t, category, "category", 1, UINT8_MAX,
                                   MM_FF_REQUIRED | MM_FF_ENUM_NAMED, MM_NOBIT, "finding category"),
    [MM_IK_DETECTOR] = MM_FD_STR (mm_incident_t, detector, "detector", MM_ID_MAX, MM_FF_REQUIRED,
                                  "detector id, e.g. beacon"),
    [MM_IK_MESSAGE] =
        MM_FD_STR (mm_incident_t, message, "message", MM_LONG_MAX, MM_FF_REQUIRED, "what was seen"),
    [MM_IK_IOC] = MM_FD_MAP (mm_incident_t, ioc, "ioc", &s_ioc_schema, 0, MM_INC_HAS_IOC,
                             "matched indicator {1 type, 2 value, 3 feed}"),
    [MM_IK_ACTION] = MM_FD_MAP (mm_incident_t, action, "action", &s_action_schema, MM_FF_REQUIRED,
                                MM_NOBIT, "{1 code, 2 text_ja, 3 text_en}"),
};

const mm_schema_t mm_incident_schema =
    MM_SCHEMA ("incident", MM_MSG_INCIDENT, mm_incident_t, s_fields,
               (int) offsetof (mm_incident_t, has), NULL);

int
mm_incident_encode (const mm_incident_t *inc, mm_buf_t *out, mm_error_t *err)
{
    return mm_schema_encode_msg (&mm_incident_schema, inc, out, err);
}

int
mm_incident_decode (mm_incident_t *inc, const uint8_t *data, size_t len, mm_error_t *err)
{
    return mm_schema_decode_msg (&mm_incident_schema, inc, data, len, err);
}
