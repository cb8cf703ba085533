/*  Tests of st_audit: which suppressed cells of a grid the published cells determine. A lone
    suppressed cell in a row is; a 2x2 block is not; two 2x2 blocks linked by a fifth cell are
    (the review's attack: two rows added, two columns subtracted), though every row and
    column has at least two suppressed members. */
#include <criterion/criterion.h>
#include <string.h>

#include "st_audit.h"

static bool s_present[9][27], s_sup[9][27], s_rec[9][27];

//  Regions 1..4 and industries 1..4 all present, with their margins.
static void
s_grid (void)
{
    memset (s_present, 0, sizeof s_present);
    memset (s_sup, 0, sizeof s_sup);
    for (int r = 0; r <= 4; r++)
        for (int i = 0; i <= 4; i++)
            s_present[r][i] = true;
}

Test (st_audit, a_lone_cell_is_recoverable_a_block_is_not)
{
    s_grid ();
    s_sup[1][1] = true;
    cr_expect_eq (st_audit (s_present, s_sup, s_rec), 1);
    cr_expect (s_rec[1][1]);
    s_sup[1][2] = s_sup[2][1] = s_sup[2][2] = true;  //  the 2x2 block
    cr_expect_eq (st_audit (s_present, s_sup, s_rec), 0);
    //  An absent cell is a known zero, not an unknown.
    s_present[3][3] = false;
    s_sup[3][3] = true;
    cr_expect_eq (st_audit (s_present, s_sup, s_rec), 0);
    cr_expect_not (s_rec[3][3]);
}

Test (st_audit, linked_blocks_give_themselves_away)
{
    //  Block 1: regions 1-2 x industries 1-2; block 2: regions 3-4 x industries 3-4; the link
    //  (2, 3). Every row and column of the grid has 0 or at least 2 suppressed cells.
    s_grid ();
    int cells[][2] = {{1, 1}, {1, 2}, {2, 1}, {2, 2}, {3, 3}, {3, 4}, {4, 3}, {4, 4}, {2, 3}};
    for (size_t k = 0; k < sizeof cells / sizeof cells[0]; k++)
        s_sup[cells[k][0]][cells[k][1]] = true;
    int n = st_audit (s_present, s_sup, s_rec);
    cr_expect_gt (n, 0);
    cr_expect (s_rec[2][3], "the link: rows 1 + 2 minus columns 1 + 2");
    //  Suppressing the link's whole row and column margins' partners closes it: here the
    //  second block's link partner (2, 4) as well.
    s_sup[2][4] = true;
    s_sup[1][3] = true;
    cr_expect_eq (st_audit (s_present, s_sup, s_rec), 0);
}
