/*  st_taxonomy: the fixed categories of the statistics (issue 7, docs/statistics.md). A
    class is a finding category of the wire format (mm_category_t), labelled with its
    Reference Security Incident Taxonomy class (RSIT, the CSIRT taxonomy MISP ships as
    "rsit") and its MITRE ATT&CK enterprise tactic, in English and Japanese. Sensor-health
    findings are not threats and are not counted. Owner: stats/. */
#ifndef ST_TAXONOMY_H
#define ST_TAXONOMY_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t category;    //  mm_category_t, also the statistics' class number
    const char *name;    //  stable key in the feed ("brute-force")
    const char *rsit;    //  RSIT "class/type"
    const char *tactic;  //  ATT&CK tactic id ("TA0006"), "" if none fits
    const char *label_en;
    const char *label_ja;
} st_class_t;

//  The class of a finding category, or NULL if such findings are not counted.
const st_class_t *st_taxonomy_class (uint8_t category);
//  By its feed name ("brute-force"), or NULL.
const st_class_t *st_taxonomy_by_name (const char *name);
//  The classes in order (n of them), for documents and tests.
const st_class_t *st_taxonomy_all (size_t *n);

//  A severity's feed name and Japanese label ("high", "高"), NULL if unknown.
const char *st_severity_name (uint8_t severity);
const char *st_severity_ja (uint8_t severity);

//  The dimensions' labels; NULL for a value out of range. 0 (ST_ALL) is "all" / "全国",
//  "全業種".
const char *st_region_name (uint8_t region);  //  "kanto"
const char *st_region_ja (uint8_t region);    //  "関東"
//  JSIC (Japan Standard Industrial Classification, Rev. 14) major divisions A..T.
const char *st_industry_en (uint8_t letter);
const char *st_industry_ja (uint8_t letter);
//  1 network (UTM type), 2 endpoint (EDR type).
const char *st_sensor_type_name (uint8_t type);
const char *st_sensor_type_ja (uint8_t type);

#endif
