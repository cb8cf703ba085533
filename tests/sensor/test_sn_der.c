/*  sn_der: the DER cursor shared by the Kerberos and X.509-name readers. */
#include <criterion/criterion.h>

#include "sn_der.h"

Test (sn_der, short_and_long_lengths)
{
    //  SEQUENCE { INTEGER 5, OCTET STRING of 200 bytes (long form, 1 length byte) }
    uint8_t b[3 + 3 + 3 + 200] = {0x30, 0x81, 6 + 200, 0x02, 0x01, 0x05, 0x04, 0x81, 200};
    sn_der_t c = {b, b + sizeof b, false}, seq, v;
    uint8_t tag;
    cr_assert_eq (sn_der_next (&c, &tag, &seq), 1);
    cr_assert_eq (tag, 0x30);
    cr_assert_eq (seq.end, b + sizeof b);
    cr_assert_eq (sn_der_next (&seq, &tag, &v), 1);
    cr_assert_eq (tag, 0x02);
    cr_assert_eq (v.end - v.p, 1);
    cr_assert_eq (v.p[0], 5);
    cr_assert_eq (sn_der_next (&seq, &tag, &v), 1);
    cr_assert_eq (tag, 0x04);
    cr_assert_eq (v.end - v.p, 200);
    cr_assert_eq (sn_der_next (&seq, &tag, &v), 0, "end of the region");
}

Test (sn_der, malformed_is_refused)
{
    static const struct {
        uint8_t b[8];
        size_t n;
    } bad[] = {
        {{0x04, 0x05, 1, 2}, 4},           //  content past the end
        {{0x04, 0x80}, 2},                 //  indefinite length (BER)
        {{0x04, 0x85, 0, 0, 0, 0, 1}, 7},  //  5 length bytes
        {{0x1f, 0x81, 0x01, 0x00}, 4},     //  high tag number
        {{0x04}, 1},                       //  half a header
        {{0x04, 0x82, 0x01}, 3},           //  length bytes cut
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sn_der_t c = {bad[i].b, bad[i].b + bad[i].n, false}, v;
        uint8_t tag;
        cr_assert_eq (sn_der_next (&c, &tag, &v), -1, "case %zu", i);
    }
}

//  A region marked cut (partial input) hands out an element that runs past its end, cut short,
//  and ends quietly at a header that is not all there.
Test (sn_der, cut_regions)
{
    uint8_t b[] = {0x04, 0x10, 'a', 'b', 'c'};
    sn_der_t c = {b, b + sizeof b, true}, v;
    uint8_t tag;
    cr_assert_eq (sn_der_next (&c, &tag, &v), 1);
    cr_assert (v.cut);
    cr_assert_eq (v.end - v.p, 3);
    uint8_t h[] = {0x30};
    sn_der_t c2 = {h, h + 1, true};
    cr_assert_eq (sn_der_next (&c2, &tag, &v), 0);
}
