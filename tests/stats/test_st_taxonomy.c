/*  Tests of st_taxonomy: every threat category of the wire format has one class with all its
    labels; sensor-health findings have none; names are unique and found again. */
#include <criterion/criterion.h>
#include <string.h>

#include "mm_proto.h"
#include "st_taxonomy.h"

Test (st_taxonomy, every_threat_category_has_one_complete_class)
{
    for (uint8_t c = MM_CAT_SCAN; c <= MM_CAT_MALWARE; c++) {
        const st_class_t *k = st_taxonomy_class (c);
        cr_assert_not_null (k, "category %u", c);
        cr_expect_eq (k->category, c);
        cr_expect (k->name[0] && k->rsit[0] && k->label_en[0] && k->label_ja[0]);
        cr_expect (strchr (k->rsit, '/'), "%s", k->rsit);
        cr_expect (k->tactic[0] == '\0' || strncmp (k->tactic, "TA00", 4) == 0, "%s", k->tactic);
        cr_expect_eq (st_taxonomy_by_name (k->name), k);
    }
    cr_expect_null (st_taxonomy_class (MM_CAT_NONE));
    cr_expect_null (st_taxonomy_class (MM_CAT_SENSOR));
    cr_expect_null (st_taxonomy_by_name ("nothing"));
    size_t n;
    const st_class_t *all = st_taxonomy_all (&n);
    cr_expect_eq (n, (size_t) (MM_CAT_MALWARE - MM_CAT_SCAN + 1));
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_expect_str_neq (all[i].name, all[j].name);
    cr_expect_str_eq (st_severity_name (MM_SEV_HIGH), "high");
    cr_expect_str_eq (st_severity_ja (MM_SEV_CRITICAL), "重大");
    cr_expect_null (st_severity_name (7));
}

Test (st_taxonomy, dimensions_have_labels_in_both_languages)
{
    cr_expect_str_eq (st_region_name (3), "kanto");
    cr_expect_str_eq (st_region_ja (3), "関東");
    cr_expect_str_eq (st_region_ja (8), "九州・沖縄");
    cr_expect_str_eq (st_region_name (0), "all");
    cr_expect_null (st_region_name (9));
    for (uint8_t c = 'A'; c <= 'T'; c++)
        cr_expect (st_industry_en (c) && st_industry_ja (c), "%c", c);
    cr_expect_str_eq (st_industry_ja ('E'), "製造業");
    cr_expect_str_eq (st_industry_en ('G'), "Information and communications");
    cr_expect_str_eq (st_industry_ja (0), "全業種");
    cr_expect_null (st_industry_en ('U'));
    cr_expect_str_eq (st_sensor_type_name (1), "network");
    cr_expect_str_eq (st_sensor_type_ja (2), "端末型(EDR等)");
    cr_expect_null (st_sensor_type_name (3));
}
